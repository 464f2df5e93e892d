//! Wire types shared by the outreach endpoints (reminder runs, lot recall, outbreak lists): ages,
//! contact details and due vaccine groups.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::domain::outreach::{Age, AgeRange, AgeUnit, ContactDetails, DueGroup, DueStatus, Guardian, PostalAddress};
use crate::domain::time::{format_date, parse_date};
use crate::service::ServiceError;

/// The unit of an age.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgeUnitInput {
    Days,
    Weeks,
    Months,
    Years,
}

/// An age in whole units, e.g. `{"value": 19, "unit": "months"}`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgeInput {
    #[schema(minimum = 0, maximum = 150, example = 19)]
    pub value: u32,
    pub unit: AgeUnitInput,
}

impl From<AgeInput> for Age {
    fn from(age: AgeInput) -> Self {
        let unit = match age.unit {
            AgeUnitInput::Days => AgeUnit::Days,
            AgeUnitInput::Weeks => AgeUnit::Weeks,
            AgeUnitInput::Months => AgeUnit::Months,
            AgeUnitInput::Years => AgeUnit::Years,
        };
        Age { value: age.value, unit }
    }
}

impl From<Age> for AgeInput {
    fn from(age: Age) -> Self {
        let unit = match age.unit {
            AgeUnit::Days => AgeUnitInput::Days,
            AgeUnit::Weeks => AgeUnitInput::Weeks,
            AgeUnit::Months => AgeUnitInput::Months,
            AgeUnit::Years => AgeUnitInput::Years,
        };
        AgeInput { value: age.value, unit }
    }
}

/// The age band of two optional bounds.
pub fn age_range(min: Option<AgeInput>, max: Option<AgeInput>) -> AgeRange {
    AgeRange { min: min.map(Age::from), max: max.map(Age::from) }
}

/// A `YYYY-MM-DD` field, or a 400 naming it.
pub fn parse_date_field(text: &str, field: &str) -> Result<Date, ApiError> {
    parse_date(text)
        .ok_or_else(|| ApiError::from(ServiceError::invalid(field, format!("{field} must be a date YYYY-MM-DD."))))
}

/// A postal address on file.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
}

impl From<PostalAddress> for AddressView {
    fn from(a: PostalAddress) -> Self {
        AddressView { lines: a.lines, city: a.city, state: a.state, postal_code: a.postal_code }
    }
}

/// A parent or guardian of a minor.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardianView {
    pub name: String,
    /// `mother`, `father`, `guardian`, ... as recorded.
    pub relationship: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<Guardian> for GuardianView {
    fn from(g: Guardian) -> Self {
        GuardianView { name: g.name, relationship: g.relationship, phone: g.phone, email: g.email }
    }
}

/// Who a notice or list entry is about and how to reach them (nothing sensitive).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub patient_id: String,
    pub name: String,
    #[schema(format = "date")]
    pub birth_date: String,
    /// For people under 18: a parent or guardian on file.
    pub guardian: Option<GuardianView>,
    pub address: Option<AddressView>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<ContactDetails> for ContactView {
    fn from(c: ContactDetails) -> Self {
        ContactView {
            patient_id: c.patient_id,
            name: c.name,
            birth_date: format_date(c.birth_date),
            guardian: c.guardian.map(GuardianView::from),
            address: c.address.map(AddressView::from),
            phone: c.phone,
            email: c.email,
        }
    }
}

/// A vaccine group due soon or overdue, with the forecast's dates.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DueGroupView {
    /// CDSi vaccine group, e.g. `MMR`.
    pub vaccine_group: String,
    /// `due` (recommended date within the window) or `overdue` (past-due date passed).
    #[schema(example = "overdue")]
    pub status: String,
    /// The dose number due (1-based).
    pub dose_number: usize,
    #[schema(format = "date")]
    pub earliest: String,
    #[schema(format = "date")]
    pub recommended: String,
    #[schema(format = "date")]
    pub past_due: Option<String>,
}

impl From<DueGroup> for DueGroupView {
    fn from(g: DueGroup) -> Self {
        DueGroupView {
            vaccine_group: g.vaccine_group,
            status: match g.status {
                DueStatus::Due => "due",
                DueStatus::Overdue => "overdue",
            }
            .to_owned(),
            dose_number: g.dose_number,
            earliest: format_date(g.earliest),
            recommended: format_date(g.recommended),
            past_due: g.past_due.map(format_date),
        }
    }
}
