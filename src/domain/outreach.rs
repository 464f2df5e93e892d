//! Outreach: reminder / recall runs and their notices, vaccine-lot recall lists and outbreak
//! lists. Plain types; the rules that fill them live in `crate::outreach` (pure) and
//! `crate::service::reminder_run` / `crate::service::outreach_list`.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// A reminder (a dose is due soon) or a recall (a dose is past due).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    Reminder,
    Recall,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Reminder => "reminder",
            NoticeKind::Recall => "recall",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reminder" => Some(NoticeKind::Reminder),
            "recall" => Some(NoticeKind::Recall),
            _ => None,
        }
    }
}

/// The unit of an age bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgeUnit {
    Days,
    Weeks,
    Months,
    Years,
}

/// An age, as a whole number of units (`19` months, `11` years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Age {
    pub value: u32,
    pub unit: AgeUnit,
}

/// Adds calendar months, clamping the day to the month's end (Jan 31 + 1 month = Feb 28/29).
pub fn add_months(date: Date, months: i64) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).ok()
}

impl Age {
    /// The date on which someone born on `birth_date` reaches this age.
    pub fn reached_on(self, birth_date: Date) -> Option<Date> {
        let value = i64::from(self.value);
        match self.unit {
            AgeUnit::Days => birth_date.checked_add(time::Duration::days(value)),
            AgeUnit::Weeks => birth_date.checked_add(time::Duration::weeks(value)),
            AgeUnit::Months => add_months(birth_date, value),
            AgeUnit::Years => add_months(birth_date, value * 12),
        }
    }

    /// The same age plus one unit (`35` months -> `36` months): the first age past an
    /// inclusive upper bound.
    pub fn next(self) -> Age {
        Age { value: self.value.saturating_add(1), unit: self.unit }
    }
}

/// An age band, both ends inclusive in whole units: 19-35 months is everyone who has reached
/// 19 months and not yet 36 months on the run date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRange {
    pub min: Option<Age>,
    pub max: Option<Age>,
}

impl AgeRange {
    /// Whether someone born on `birth_date` is in the band on `as_of`.
    pub fn contains(&self, birth_date: Date, as_of: Date) -> bool {
        let old_enough = self.min.is_none_or(|min| min.reached_on(birth_date).is_some_and(|d| d <= as_of));
        let young_enough = self.max.is_none_or(|max| max.next().reached_on(birth_date).is_none_or(|d| d > as_of));
        old_enough && young_enough
    }
}

/// Who is in a run's population before the exclusions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Population {
    /// The patients an organization serves: it submitted the Patient or recorded one of their
    /// immunizations, and has not marked them inactive (moved or gone elsewhere).
    Organization { organization_id: String },
    /// Everyone in the registry (state staff); narrowed to a region by postal codes.
    State,
}

/// What a reminder / recall run looks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunCriteria {
    pub population: Population,
    /// Postal codes or prefixes (`551` covers `55101`...); empty: anywhere.
    pub postal_codes: Vec<String>,
    pub age: AgeRange,
    /// CDSi vaccine group names (`MMR`, `DTaP/Tdap/Td`); empty: every group.
    pub vaccine_groups: Vec<String>,
    /// Reminders: the recommended date falls within this many days of the run date (or has
    /// passed, while the dose is not yet past due). `None`: no reminders.
    pub reminder_within_days: Option<u32>,
    /// Recalls: the past-due date passed at least this many days before the run date. `None`: no
    /// recalls.
    pub recall_overdue_days: Option<u32>,
    /// The date the run is computed for.
    #[serde(with = "iso_date")]
    pub as_of: Date,
    /// A notice is not repeated for a vaccine group within this many days of the last one sent.
    pub repeat_interval_days: u32,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Completed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "queued" => Some(RunStatus::Queued),
            "running" => Some(RunStatus::Running),
            "completed" => Some(RunStatus::Completed),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

/// How many people of the population were left out, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exclusions {
    pub deceased: u64,
    pub opted_out: u64,
    pub reminders_declined: u64,
    pub locked_elsewhere: u64,
    /// Outside the age band (counted only where the database could not rule them out first).
    pub out_of_age_band: u64,
    /// Due or overdue only for vaccine groups already notified within the repeat interval.
    pub recently_notified: u64,
    /// Records the forecast could not use (no birth date).
    pub unusable: u64,
}

/// A run as stored: its criteria and progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: String,
    pub organization_id: String,
    pub facility_id: Option<String>,
    pub requested_by: String,
    pub criteria: RunCriteria,
    pub status: RunStatus,
    pub patients_total: Option<i64>,
    pub patients_processed: i64,
    pub reminders: i64,
    pub recalls: i64,
    pub exclusions: Exclusions,
    pub error: Option<String>,
    pub created_at: crate::domain::time::Timestamp,
    pub started_at: Option<crate::domain::time::Timestamp>,
    pub finished_at: Option<crate::domain::time::Timestamp>,
}

/// Whether a vaccine group is due soon or overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DueStatus {
    Due,
    Overdue,
}

/// One vaccine group a notice is about, with the forecast's dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueGroup {
    /// CDSi vaccine group name.
    pub vaccine_group: String,
    pub status: DueStatus,
    pub dose_number: usize,
    #[serde(with = "iso_date")]
    pub earliest: Date,
    #[serde(with = "iso_date")]
    pub recommended: Date,
    #[serde(with = "iso_date::option", default)]
    pub past_due: Option<Date>,
}

/// A postal address on file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
}

/// A parent or guardian listed for a minor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Guardian {
    pub name: String,
    /// `mother`, `father`, `guardian`, `parent`, ... as recorded.
    pub relationship: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// How to reach a person: what is on file, nothing sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactDetails {
    pub patient_id: String,
    /// Given and family name as on file.
    pub name: String,
    pub family: Option<String>,
    #[serde(with = "iso_date")]
    pub birth_date: Date,
    /// A parent or guardian, for people under 18 on the run date.
    pub guardian: Option<Guardian>,
    pub address: Option<PostalAddress>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// One notice of a run: who, how to reach them, and what is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// 1, 2, ... within the run.
    pub number: i64,
    /// A recall when any group is overdue, else a reminder.
    pub kind: NoticeKind,
    pub contact: ContactDetails,
    pub vaccine_groups: Vec<DueGroup>,
    /// Notices with the same key go to the same household (one letter per family).
    pub family_key: String,
}

/// How a notice was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendMethod {
    Letter,
    Phone,
    Email,
    Text,
    Portal,
}

impl SendMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SendMethod::Letter => "letter",
            SendMethod::Phone => "phone",
            SendMethod::Email => "email",
            SendMethod::Text => "text",
            SendMethod::Portal => "portal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "letter" => Some(SendMethod::Letter),
            "phone" => Some(SendMethod::Phone),
            "email" => Some(SendMethod::Email),
            "text" => Some(SendMethod::Text),
            "portal" => Some(SendMethod::Portal),
            _ => None,
        }
    }
}

/// A notice's sending record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDelivery {
    pub attempts: i32,
    pub last_sent_on: Option<Date>,
    pub last_method: Option<SendMethod>,
}

/// A stored notice with its sending record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    pub notice: Notice,
    pub delivery: NoticeDelivery,
}

/// Dates as `YYYY-MM-DD` in stored and served JSON (serde `with`).
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    use crate::domain::time::{format_date, parse_date};

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_date(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_date(&text).ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }

    /// The same for optional dates.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::Date;

        use crate::domain::time::{format_date, parse_date};

        pub fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
            match date {
                Some(date) => serializer.serialize_str(&format_date(*date)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                Some(text) => {
                    parse_date(&text).map(Some).ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD"))
                }
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn age_band_is_inclusive_in_whole_units() {
        let band = AgeRange {
            min: Some(Age { value: 19, unit: AgeUnit::Months }),
            max: Some(Age { value: 35, unit: AgeUnit::Months }),
        };
        let as_of = date!(2026 - 10 - 01);
        assert!(band.contains(date!(2025 - 03 - 01), as_of), "exactly 19 months");
        assert!(!band.contains(date!(2025 - 03 - 02), as_of), "a day short of 19 months");
        assert!(band.contains(date!(2023 - 10 - 02), as_of), "35 months and 29 days");
        assert!(!band.contains(date!(2023 - 10 - 01), as_of), "36 months");
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), Some(date!(2024 - 02 - 29)));
        assert_eq!(add_months(date!(2024 - 03 - 15), -3), Some(date!(2023 - 12 - 15)));
    }
}
