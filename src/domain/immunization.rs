//! The searchable facts of an Immunization, extracted from the resource when it is written.

use super::ids::ResourceId;
use super::patient::IndexedToken;
use super::time::TimeRange;

/// Everything Immunization search needs, taken from one Immunization version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImmunizationIndex {
    /// The Patient the immunization is about.
    pub patient_id: ResourceId,
    /// The range `occurrenceDateTime` covers.
    pub occurrence: Option<TimeRange>,
    /// `status` code.
    pub status: String,
    /// `lotNumber`, normalized for case-insensitive search.
    pub lot_number_normalized: Option<String>,
    /// Every distinct coding of `vaccineCode`.
    pub vaccine_codes: Vec<IndexedToken>,
}
