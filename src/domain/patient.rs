//! The searchable facts of a Patient, extracted from the resource when it is written.

use super::time::TimeRange;

/// Which part of a HumanName a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NamePart {
    /// `HumanName.family`.
    Family,
    /// `HumanName.given`.
    Given,
    /// `HumanName.prefix`.
    Prefix,
    /// `HumanName.suffix`.
    Suffix,
    /// `HumanName.text`.
    Text,
}

impl NamePart {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            NamePart::Family => "family",
            NamePart::Given => "given",
            NamePart::Prefix => "prefix",
            NamePart::Suffix => "suffix",
            NamePart::Text => "text",
        }
    }
}

/// One name part, as sent and normalized for case- and accent-insensitive search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexedName {
    /// Where the value came from.
    pub part: NamePart,
    /// The value as sent.
    pub exact: String,
    /// The value lower-cased with accents removed.
    pub normalized: String,
}

/// A `system|value` pair (identifier or coding). `system` is empty when absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexedToken {
    /// The namespace (URI), or empty.
    pub system: String,
    /// The value or code.
    pub value: String,
}

/// Everything Patient search needs, taken from one Patient version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIndex {
    /// Normalized first family name: the `family` sort key (empty when there is none).
    pub family_sort: String,
    /// The range `birthDate` covers (a partial date covers a month or a year).
    pub birth: Option<TimeRange>,
    /// `gender` code.
    pub gender: Option<String>,
    /// `active`, where absent means active (FHIR: a record is assumed active unless marked).
    pub active: bool,
    /// Every distinct name part.
    pub names: Vec<IndexedName>,
    /// Every distinct identifier.
    pub identifiers: Vec<IndexedToken>,
    /// Every distinct normalized postal code.
    pub postal_codes: Vec<String>,
}
