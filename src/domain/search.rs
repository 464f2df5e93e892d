//! Search criteria, independent of how they arrived (FHIR query string) or how they run (SQL).
//!
//! A search is a list of filters that must all hold (AND, repeated parameters); each filter
//! holds alternatives of which one must hold (OR, comma-separated values).

use super::patient::NamePart;
use super::time::TimeRange;

/// How a string parameter matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StringMatch {
    /// Default: the normalized value starts with this normalized text.
    StartsWith(String),
    /// `:exact`: the value as sent equals this text (case- and accent-sensitive).
    Exact(String),
    /// `:contains`: the normalized value contains this normalized text.
    Contains(String),
}

/// Which system a token must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSystem {
    /// `code`: any system.
    Any,
    /// `|code`: no system.
    Absent,
    /// `system|code` or `system|`.
    Is(String),
}

/// A token criterion (`[system]|[code]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMatch {
    /// The system criterion.
    pub system: TokenSystem,
    /// The code; `None` for `system|` (any code in the system).
    pub code: Option<String>,
}

/// FHIR date comparison prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateComparator {
    /// `eq`: the stored range lies within the searched range.
    Eq,
    /// `ne`: not `eq`.
    Ne,
    /// `gt`: the stored range reaches past the end of the searched range.
    Gt,
    /// `lt`: the stored range starts before the searched range.
    Lt,
    /// `ge`: the stored range reaches into or past the searched range.
    Ge,
    /// `le`: the stored range starts before the end of the searched range.
    Le,
    /// `sa`: the stored range starts after the searched range ends.
    Sa,
    /// `eb`: the stored range ends before the searched range starts.
    Eb,
}

/// A date criterion: comparator and the range the searched value covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateMatch {
    /// The prefix.
    pub comparator: DateComparator,
    /// What the searched value covers at its precision.
    pub range: TimeRange,
}

/// One Patient search filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientFilter {
    /// `_id`.
    Id(Vec<String>),
    /// `identifier`.
    Identifier(Vec<TokenMatch>),
    /// `family`, `given` (a part) or `name` (any part).
    Name {
        /// The part to search; `None` searches every part.
        part: Option<NamePart>,
        /// Alternatives.
        matches: Vec<StringMatch>,
    },
    /// `birthdate`.
    BirthDate(Vec<DateMatch>),
    /// `_lastUpdated`.
    LastUpdated(Vec<DateMatch>),
    /// `gender`.
    Gender(Vec<String>),
    /// `address-postalcode`.
    PostalCode(Vec<StringMatch>),
    /// `active`.
    Active(Vec<bool>),
    /// What the caller may see (added by the service from the privacy rules, never parsed).
    Visible(super::privacy::VisibleTo),
}

impl PatientFilter {
    /// How many alternative values the filter ORs together (0 for the visibility rule).
    pub fn alternatives(&self) -> usize {
        match self {
            PatientFilter::Id(values) | PatientFilter::Gender(values) => values.len(),
            PatientFilter::Identifier(tokens) => tokens.len(),
            PatientFilter::Name { matches, .. } | PatientFilter::PostalCode(matches) => matches.len(),
            PatientFilter::BirthDate(dates) | PatientFilter::LastUpdated(dates) => dates.len(),
            PatientFilter::Active(values) => values.len(),
            PatientFilter::Visible(_) => 0,
        }
    }
}

/// One Immunization search filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImmunizationFilter {
    /// `_id`.
    Id(Vec<String>),
    /// `patient` (Patient ids).
    Patient(Vec<String>),
    /// `date`.
    Date(Vec<DateMatch>),
    /// `vaccine-code`.
    VaccineCode(Vec<TokenMatch>),
    /// `status`.
    Status(Vec<String>),
    /// `lot-number`.
    LotNumber(Vec<StringMatch>),
    /// `_lastUpdated`.
    LastUpdated(Vec<DateMatch>),
    /// What the caller may see (added by the service from the privacy rules, never parsed).
    Visible(super::privacy::VisibleTo),
}

impl ImmunizationFilter {
    /// How many alternative values the filter ORs together (0 for the visibility rule).
    pub fn alternatives(&self) -> usize {
        match self {
            ImmunizationFilter::Id(values)
            | ImmunizationFilter::Patient(values)
            | ImmunizationFilter::Status(values) => values.len(),
            ImmunizationFilter::Date(dates) | ImmunizationFilter::LastUpdated(dates) => dates.len(),
            ImmunizationFilter::VaccineCode(tokens) => tokens.len(),
            ImmunizationFilter::LotNumber(matches) => matches.len(),
            ImmunizationFilter::Visible(_) => 0,
        }
    }
}

/// Patient sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientSortKey {
    /// `_id` (the default).
    Id,
    /// `family`.
    Family,
    /// `birthdate`.
    BirthDate,
    /// `_lastUpdated`.
    LastUpdated,
}

/// Immunization sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationSortKey {
    /// `_id` (the default).
    Id,
    /// `date`.
    Date,
    /// `_lastUpdated`.
    LastUpdated,
}

/// A sort key and direction; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<K> {
    /// The key.
    pub key: K,
    /// `-key`.
    pub descending: bool,
}

/// The value of a sort key in one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// Text keys (family, id).
    Text(String),
    /// Integer keys (times in microseconds).
    Integer(i64),
}

/// Where the previous page ended: the last row's sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    /// Sort value of the last row served.
    pub sort_value: SortValue,
    /// Id of the last row served.
    pub id: String,
}

/// Which page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSpec<K> {
    /// Order.
    pub sort: Sort<K>,
    /// Rows per page.
    pub count: usize,
    /// Continue after this row; `None` for the first page.
    pub after: Option<Keyset>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The matching resources of this page, in order.
    pub resources: Vec<super::resource::StoredResource>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Keyset>,
}

/// Where a history page ended. Type history is ordered by (last_updated, id, version_id)
/// descending; instance history by version_id descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryKeyset {
    /// `last_updated` (microseconds) of the last entry served.
    pub last_updated: i64,
    /// Id of the last entry served.
    pub id: String,
    /// Version of the last entry served.
    pub version_id: i64,
}
