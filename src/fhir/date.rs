//! FHIR date and dateTime values as time ranges (what a value covers at its precision).
//!
//! Values without a time zone (dates, and search values without an offset) are taken as UTC.

use fhir_sdk::{Date, DateTime};
use time::{Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::domain::time::{TimeRange, Timestamp};

const MICROS_PER_SECOND: i64 = 1_000_000;

use crate::domain::time::midnight_utc;

fn first_of_month(year: i32, month: Month) -> Option<time::Date> {
    time::Date::from_calendar_date(year, month, 1).ok()
}

fn month_range(year: i32, month: Month) -> Option<TimeRange> {
    let start = first_of_month(year, month)?;
    let (next_year, next_month) =
        if month == Month::December { (year + 1, Month::January) } else { (year, month.next()) };
    let end = first_of_month(next_year, next_month)?;
    Some(TimeRange { start: midnight_utc(start), end: midnight_utc(end) })
}

fn year_range(year: i32) -> Option<TimeRange> {
    let start = first_of_month(year, Month::January)?;
    let end = first_of_month(year.checked_add(1)?, Month::January)?;
    Some(TimeRange { start: midnight_utc(start), end: midnight_utc(end) })
}

fn day_range(date: time::Date) -> Option<TimeRange> {
    let end = date.next_day()?;
    Some(TimeRange { start: midnight_utc(date), end: midnight_utc(end) })
}

/// The range a FHIR `date` covers: a year, a month or a day.
pub fn date_range(date: &Date) -> Option<TimeRange> {
    match date {
        Date::Year(year) => year_range(*year),
        Date::YearMonth(year, month) => month_range(*year, *month),
        Date::Date(date) => day_range(*date),
    }
}

/// The range a FHIR `dateTime` covers. A time given to the second covers that second; one
/// with a fraction covers that microsecond.
pub fn date_time_range(value: &DateTime) -> Option<TimeRange> {
    match value {
        DateTime::Date(date) => date_range(date),
        DateTime::DateTime(instant) => Some(instant_range(instant.0)),
    }
}

fn instant_range(value: OffsetDateTime) -> TimeRange {
    let start = Timestamp::from_offset_date_time(value);
    let width = if value.nanosecond() == 0 { MICROS_PER_SECOND } else { 1 };
    TimeRange { start, end: Timestamp(start.0.saturating_add(width)) }
}

/// Whether a FHIR date is given to the day.
pub fn is_full_date(date: &Date) -> bool {
    matches!(date, Date::Date(_))
}

/// Parses a search value (`2020`, `2020-05`, `2020-05-03`, `2020-05-03T10:00`,
/// `2020-05-03T10:00:00`, with optional fraction and `Z`/`+hh:mm`) into the range it covers.
pub fn parse_search_value(text: &str) -> Option<TimeRange> {
    let (date_part, time_part) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut pieces = date_part.split('-');
    let year: i32 = parse_digits(pieces.next()?, 4)?;
    let month = pieces.next().map(|m| parse_digits::<u8>(m, 2).and_then(|m| Month::try_from(m).ok()));
    let day = pieces.next().map(|d| parse_digits::<u8>(d, 2));
    if pieces.next().is_some() {
        return None;
    }
    let Some(month) = month else {
        return if time_part.is_none() { year_range(year) } else { None };
    };
    let month = month?;
    let Some(day) = day else {
        return if time_part.is_none() { month_range(year, month) } else { None };
    };
    let date = time::Date::from_calendar_date(year, month, day?).ok()?;
    match time_part {
        None => day_range(date),
        Some(time_text) => parse_time_of_day(date, time_text),
    }
}

fn parse_digits<T: std::str::FromStr>(text: &str, width: usize) -> Option<T> {
    if text.len() == width && text.bytes().all(|b| b.is_ascii_digit()) { text.parse().ok() } else { None }
}

/// `hh:mm[:ss[.fff]][Z|±hh:mm]` on the given date.
fn parse_time_of_day(date: time::Date, text: &str) -> Option<TimeRange> {
    let (clock, offset) = split_offset(text)?;
    let mut parts = clock.split(':');
    let hour: u8 = parse_digits(parts.next()?, 2)?;
    let minute: u8 = parse_digits(parts.next()?, 2)?;
    let seconds_text = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let (second, micro, width) = match seconds_text {
        None => (0u8, 0u32, 60 * MICROS_PER_SECOND),
        Some(s) => match s.split_once('.') {
            None => (parse_digits(s, 2)?, 0, MICROS_PER_SECOND),
            Some((whole, fraction)) => {
                if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let digits = fraction.len().min(6);
                let value: u32 = fraction[..digits].parse().ok()?;
                let micro = value * 10u32.pow(u32::try_from(6 - digits).ok()?);
                let width = 10i64.pow(u32::try_from(6 - digits).ok()?);
                (parse_digits(whole, 2)?, micro, width)
            }
        },
    };
    let time = time::Time::from_hms_micro(hour, minute, second, micro).ok()?;
    let start = Timestamp::from_offset_date_time(PrimitiveDateTime::new(date, time).assume_offset(offset));
    Some(TimeRange { start, end: Timestamp(start.0.saturating_add(width)) })
}

fn split_offset(text: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = text.strip_suffix('Z') {
        return Some((clock, UtcOffset::UTC));
    }
    if let Some(index) = text.rfind(['+', '-']) {
        let (clock, offset) = text.split_at(index);
        let sign: i8 = if offset.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = offset[1..].split_once(':')?;
        let hours: i8 = parse_digits(hours, 2)?;
        let minutes: i8 = parse_digits(minutes, 2)?;
        let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?;
        return Some((clock, offset));
    }
    Some((text, UtcOffset::UTC))
}

/// Formats an instant as a FHIR `instant` (UTC, microseconds).
pub fn format_instant(at: Timestamp) -> String {
    let Some(value) = at.to_offset_date_time() else {
        return "1970-01-01T00:00:00Z".to_owned();
    };
    let (y, m, d) = (value.year(), u8::from(value.month()), value.day());
    let (h, min, s, micro) = (value.hour(), value.minute(), value.second(), value.microsecond());
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{micro:06}Z")
}

/// Formats an instant as an HTTP date (`Last-Modified`).
pub fn format_http_date(at: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Some(value) = at.to_offset_date_time() else {
        return "Thu, 01 Jan 1970 00:00:00 GMT".to_owned();
    };
    let weekday = DAYS[usize::from(value.weekday().number_days_from_monday())];
    let month = MONTHS[usize::from(u8::from(value.month()) - 1)];
    // Written digit by digit rather than through `format!`: every read and vread answers with
    // a Last-Modified header, and the formatting machinery was 1.5% of a read's CPU.
    let Ok(year) = u16::try_from(value.year()) else {
        return "Thu, 01 Jan 1970 00:00:00 GMT".to_owned();
    };
    if year > 9999 {
        return "Fri, 31 Dec 9999 23:59:59 GMT".to_owned();
    }
    let mut text = String::with_capacity(29);
    let two_digits = |text: &mut String, n: u8| {
        text.push(char::from(b'0' + n / 10));
        text.push(char::from(b'0' + n % 10));
    };
    text.push_str(weekday);
    text.push_str(", ");
    two_digits(&mut text, value.day());
    text.push(' ');
    text.push_str(month);
    text.push(' ');
    // Both halves are below 100 (year <= 9999).
    two_digits(&mut text, u8::try_from(year / 100).unwrap_or(99));
    two_digits(&mut text, u8::try_from(year % 100).unwrap_or(99));
    text.push(' ');
    two_digits(&mut text, value.hour());
    text.push(':');
    two_digits(&mut text, value.minute());
    text.push(':');
    two_digits(&mut text, value.second());
    text.push_str(" GMT");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(text: &str) -> i64 {
        let value = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
        Timestamp::from_offset_date_time(value).0
    }

    #[test]
    fn search_values_cover_their_precision() {
        let year = parse_search_value("2020").unwrap();
        assert_eq!((year.start.0, year.end.0), (micros("2020-01-01T00:00:00Z"), micros("2021-01-01T00:00:00Z")));
        let month = parse_search_value("2020-12").unwrap();
        assert_eq!(month.end.0, micros("2021-01-01T00:00:00Z"));
        let day = parse_search_value("2020-02-29").unwrap();
        assert_eq!(day.end.0, micros("2020-03-01T00:00:00Z"));
        let minute = parse_search_value("2020-05-03T10:15").unwrap();
        assert_eq!(minute.end.0 - minute.start.0, 60_000_000);
        let second = parse_search_value("2020-05-03T10:15:30+02:00").unwrap();
        assert_eq!(second.start.0, micros("2020-05-03T08:15:30Z"));
        let milli = parse_search_value("2020-05-03T10:15:30.123Z").unwrap();
        assert_eq!(milli.end.0 - milli.start.0, 1_000);
    }

    #[test]
    fn malformed_search_values_are_refused() {
        for bad in [
            "20",
            "2020-1",
            "2020-13",
            "2020-02-30",
            "2020-05-03T25:00",
            "2020-05-03T10",
            "abc",
            "2020-05-03T10:00:00+5",
        ] {
            assert!(parse_search_value(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn extreme_years_do_not_overflow() {
        assert!(date_range(&Date::Year(i32::MAX)).is_none());
        assert!(date_range(&Date::YearMonth(i32::MAX, Month::December)).is_none());
    }

    #[test]
    fn formats_instants_and_http_dates() {
        let at = Timestamp(micros("2026-11-21T06:30:01.5Z"));
        assert_eq!(format_instant(at), "2026-11-21T06:30:01.500000Z");
        assert_eq!(format_http_date(at), "Sat, 21 Nov 2026 06:30:01 GMT");
        // Every field zero-padded to its width.
        assert_eq!(format_http_date(Timestamp(micros("2001-02-03T04:05:06Z"))), "Sat, 03 Feb 2001 04:05:06 GMT");
        assert_eq!(format_http_date(Timestamp(micros("0999-12-31T23:59:59Z"))), "Tue, 31 Dec 0999 23:59:59 GMT");
        assert_eq!(format_http_date(Timestamp(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
