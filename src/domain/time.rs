//! Points and ranges in time, as stored and compared: microseconds since the Unix epoch, UTC.

use time::{OffsetDateTime, UtcOffset};

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

/// A half-open range of time `[start, end)`: what a FHIR date or dateTime value covers at its
/// precision (`2020` covers the whole year, `2020-05-03T10:00:00Z` one second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First instant inside the range.
    pub start: Timestamp,
    /// First instant after the range.
    pub end: Timestamp,
}
