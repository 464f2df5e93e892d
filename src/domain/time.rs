//! Points and ranges in time, as stored and compared: microseconds since the Unix epoch, UTC.

use time::{Date, OffsetDateTime, UtcOffset};

/// An instant, in microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Timestamp::from_offset_date_time(OffsetDateTime::now_utc())
    }

    /// Converts from a `time` value (any offset).
    pub fn from_offset_date_time(value: OffsetDateTime) -> Self {
        let micros = value.unix_timestamp_nanos() / 1_000;
        Timestamp(i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX }))
    }

    /// Converts to a UTC `time` value; `None` for values outside the calendar `time` supports.
    pub fn to_offset_date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000).ok().map(|t| t.to_offset(UtcOffset::UTC))
    }

    /// The value in microseconds.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// The next representable instant (one microsecond later).
    pub fn successor(self) -> Self {
        Timestamp(self.0.saturating_add(1))
    }
}

/// Parses a stored or submitted `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, &time::format_description::well_known::Iso8601::DATE).ok().filter(|_| text.len() == 10)
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Today in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// The first instant of a date, in UTC.
pub fn midnight_utc(date: Date) -> Timestamp {
    Timestamp::from_offset_date_time(date.midnight().assume_utc())
}

/// A half-open range of time `[start, end)`: what a FHIR date or dateTime value covers at its
/// precision (`2020` covers the whole year, `2020-05-03T10:00:00Z` one second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First instant inside the range.
    pub start: Timestamp,
    /// First instant after the range.
    pub end: Timestamp,
}
