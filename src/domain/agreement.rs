//! Data use agreements: the three-year term, and the status an agreement has on a given day.

use serde::{Deserialize, Serialize};
use time::Date;

/// Years in an agreement's term.
pub const TERM_YEARS: i32 = 3;
/// Days of notice either side must give to terminate.
pub const TERMINATION_NOTICE_DAYS: i64 = 30;
/// Days before expiry when the authorized representative is reminded.
pub const REMINDER_DAYS: [i64; 4] = [90, 60, 30, 7];

/// The stored state of an agreement (what people did to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredStatus {
    /// Drafted, not signed yet.
    Pending,
    /// Signed; in force for its term.
    Active,
    /// Notice of termination was given; in force until `terminated_on`.
    Terminated,
}

impl StoredStatus {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredStatus::Pending => "pending",
            StoredStatus::Active => "active",
            StoredStatus::Terminated => "terminated",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "pending" => Some(StoredStatus::Pending),
            "active" => Some(StoredStatus::Active),
            "terminated" => Some(StoredStatus::Terminated),
            _ => None,
        }
    }
}

/// The status of an agreement on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    /// Not signed, or signed with a term that has not started (a renewal waiting its turn).
    Pending,
    /// In force today.
    Active,
    /// The term ended.
    Expired,
    /// Terminated, and the termination has taken effect.
    Terminated,
}

/// The dates that decide an agreement's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgreementTerm {
    /// What was done to it.
    pub stored: StoredStatus,
    /// First day in force.
    pub starts_on: Option<Date>,
    /// Last day in force.
    pub ends_on: Option<Date>,
    /// Last day in force after a termination.
    pub terminated_on: Option<Date>,
}

impl AgreementTerm {
    /// The status on `today`.
    pub fn status_on(&self, today: Date) -> AgreementStatus {
        let (Some(starts), Some(ends)) = (self.starts_on, self.ends_on) else {
            return AgreementStatus::Pending;
        };
        match self.stored {
            StoredStatus::Pending => AgreementStatus::Pending,
            StoredStatus::Active | StoredStatus::Terminated if today < starts => match self.terminated_on {
                Some(_) => AgreementStatus::Terminated,
                None => AgreementStatus::Pending,
            },
            StoredStatus::Active if today > ends => AgreementStatus::Expired,
            StoredStatus::Active => AgreementStatus::Active,
            StoredStatus::Terminated => {
                let last = self.terminated_on.map_or(ends, |t| t.min(ends));
                if today <= last {
                    AgreementStatus::Active
                } else if last < ends {
                    AgreementStatus::Terminated
                } else {
                    AgreementStatus::Expired
                }
            }
        }
    }

    /// The first day it was no longer in force, once it is over.
    pub fn ended_on(&self, today: Date) -> Option<Date> {
        let ends = self.ends_on?;
        let last = match self.stored {
            StoredStatus::Pending => return None,
            StoredStatus::Active => ends,
            StoredStatus::Terminated => self.terminated_on.map_or(ends, |t| t.min(ends)),
        };
        (today > last).then(|| last.next_day()).flatten()
    }
}

/// The last day of a term starting on `starts_on`: three years less a day.
pub fn term_end(starts_on: Date) -> Date {
    let year = starts_on.year() + TERM_YEARS;
    // 29 February + 3 years is 28 February (or 1 March less a day).
    let same_day = Date::from_calendar_date(year, starts_on.month(), starts_on.day())
        .or_else(|_| Date::from_calendar_date(year, time::Month::March, 1));
    same_day.ok().and_then(Date::previous_day).unwrap_or(Date::MAX)
}

pub use super::time::{format_date, parse_date, today};

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_term_is_three_years_less_a_day() {
        assert_eq!(term_end(date!(2026 - 01 - 15)), date!(2029 - 01 - 14));
        assert_eq!(term_end(date!(2028 - 02 - 29)), date!(2031 - 02 - 28));
    }

    #[test]
    fn status_follows_the_calendar() {
        let term = AgreementTerm {
            stored: StoredStatus::Active,
            starts_on: Some(date!(2026 - 01 - 01)),
            ends_on: Some(date!(2028 - 12 - 31)),
            terminated_on: None,
        };
        assert_eq!(term.status_on(date!(2025 - 12 - 31)), AgreementStatus::Pending);
        assert_eq!(term.status_on(date!(2026 - 01 - 01)), AgreementStatus::Active);
        assert_eq!(term.status_on(date!(2028 - 12 - 31)), AgreementStatus::Active);
        assert_eq!(term.status_on(date!(2029 - 01 - 01)), AgreementStatus::Expired);
        assert_eq!(term.ended_on(date!(2029 - 02 - 01)), Some(date!(2029 - 01 - 01)));
        let terminated =
            AgreementTerm { stored: StoredStatus::Terminated, terminated_on: Some(date!(2027 - 03 - 31)), ..term };
        assert_eq!(terminated.status_on(date!(2027 - 03 - 31)), AgreementStatus::Active);
        assert_eq!(terminated.status_on(date!(2027 - 04 - 01)), AgreementStatus::Terminated);
        assert_eq!(terminated.ended_on(date!(2027 - 04 - 02)), Some(date!(2027 - 04 - 01)));
    }
}
