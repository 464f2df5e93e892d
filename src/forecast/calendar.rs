//! CDSi date arithmetic: durations such as `6 weeks - 4 days` or `12 months + 4 weeks`, added to
//! a date the way the CDSi logic specification calculates dates (years and months move the
//! calendar, and a day that does not exist in the target month rolls to the first day of the next
//! month; weeks and days are counted in days, after the months).

use time::{Date, Month};

/// A CDSi duration: a signed number of years, months, weeks and days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duration {
    pub years: i32,
    pub months: i32,
    pub days: i32,
}

impl Duration {
    /// A duration of whole days.
    pub const fn days(days: i32) -> Self {
        Duration { years: 0, months: 0, days }
    }

    /// Parses the CDSi text form: terms like `4 weeks`, joined by `+` or `-`
    /// (`12 months - 4 days`). Returns `None` for text that is not such a duration.
    pub fn parse(text: &str) -> Option<Self> {
        let mut duration = Duration::default();
        let mut sign = 1;
        let mut tokens = text.split_whitespace().peekable();
        let mut terms = 0;
        while let Some(token) = tokens.next() {
            match token {
                "+" => sign = 1,
                "-" => sign = -1,
                number => {
                    let amount: i32 = number.parse().ok()?;
                    let unit = tokens.next()?.to_ascii_lowercase();
                    let amount = sign * amount;
                    match unit.trim_end_matches('s') {
                        "year" => duration.years += amount,
                        "month" => duration.months += amount,
                        "week" => duration.days += 7 * amount,
                        "day" => duration.days += amount,
                        _ => return None,
                    }
                    terms += 1;
                    sign = 1;
                }
            }
        }
        (terms > 0).then_some(duration)
    }

    /// `date` moved by this duration; `None` outside the calendar.
    pub fn after(&self, date: Date) -> Option<Date> {
        let months_total = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1
            + i64::from(self.years) * 12
            + i64::from(self.months);
        let year = i32::try_from(months_total.div_euclid(12)).ok()?;
        let month_number = u8::try_from(months_total.rem_euclid(12) + 1).ok()?;
        let month = Month::try_from(month_number).ok()?;
        let moved = match Date::from_calendar_date(year, month, date.day()) {
            Ok(moved) => moved,
            // 31 January + 1 month is 1 March (the day does not exist in February).
            Err(_) => {
                let first = Date::from_calendar_date(year, month, 1).ok()?;
                first.checked_add(time::Duration::days(i64::from(time::util::days_in_month(month, year))))?
            }
        };
        moved.checked_add(time::Duration::days(i64::from(self.days)))
    }
}

/// Parses the date forms the supporting data uses: `YYYYMMDD`, `MM/DD/YYYY` and `YYYY-MM-DD`.
pub fn parse_data_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let (year, month, day) = if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        (text.get(0..4)?.parse().ok()?, text.get(4..6)?.parse().ok()?, text.get(6..8)?.parse().ok()?)
    } else if let Some((month, rest)) = text.split_once('/') {
        let (day, year) = rest.split_once('/')?;
        (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
    } else {
        let mut parts = text.splitn(3, '-');
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?)
    };
    let month: u8 = month;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

pub use crate::domain::time::format_date;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_compound_durations() {
        assert_eq!(Duration::parse("6 weeks - 4 days"), Some(Duration { years: 0, months: 0, days: 38 }));
        assert_eq!(Duration::parse("3 months + 4 weeks"), Some(Duration { years: 0, months: 3, days: 28 }));
        assert_eq!(Duration::parse("1 year"), Some(Duration { years: 1, months: 0, days: 0 }));
        assert_eq!(Duration::parse(""), None);
        assert_eq!(Duration::parse("soon"), None);
    }

    #[test]
    fn adds_months_rolling_missing_days_forward() {
        let months = |n| Duration { years: 0, months: n, days: 0 };
        assert_eq!(months(1).after(date!(2025 - 01 - 31)), Some(date!(2025 - 03 - 01)));
        assert_eq!(months(6).after(date!(2000 - 05 - 31)), Some(date!(2000 - 12 - 01)));
        assert_eq!(months(1).after(date!(2025 - 12 - 31)), Some(date!(2026 - 01 - 31)));
        assert_eq!(months(-1).after(date!(2025 - 03 - 31)), Some(date!(2025 - 03 - 01)));
        let past_due = Duration { years: 0, months: 3, days: 28 };
        assert_eq!(past_due.after(date!(2025 - 11 - 10)), Some(date!(2026 - 03 - 10)));
    }

    #[test]
    fn parses_the_data_date_forms() {
        assert_eq!(parse_data_date("20250701"), Some(date!(2025 - 07 - 01)));
        assert_eq!(parse_data_date("01/01/1957"), Some(date!(1957 - 01 - 01)));
        assert_eq!(parse_data_date("2026-06-30"), Some(date!(2026 - 06 - 30)));
        assert_eq!(parse_data_date("2026-02-30"), None);
    }
}
