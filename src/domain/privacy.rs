//! A person's privacy choices under state law: opt out of the registry, lock the record to one
//! provider, decline reminders. The rules that apply them are in `service/access.rs`.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

/// The provider a record is locked to: an organization, or one of its facilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLock {
    pub organization_id: String,
    pub facility_id: Option<String>,
}

/// The choices in force for a person (the default: none made).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivacyChoices {
    pub opted_out: bool,
    pub lock: Option<RecordLock>,
    pub reminders_declined: bool,
}

/// Who may see a person's records, as stored in the `visible_to` column of the Patient and its
/// Immunizations (so every read and search filters in the same query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every organization with access to the registry.
    Everyone,
    /// Nobody: the person opted out (only the stub is shown, by the privacy endpoint).
    Nobody,
    /// Only this organization (any of its facilities).
    Organization(String),
    /// Only this facility.
    Facility(String),
}

impl Visibility {
    /// The stored form: `None`, `""`, `o:<id>`, `f:<id>`.
    pub fn stored(&self) -> Option<String> {
        match self {
            Visibility::Everyone => None,
            Visibility::Nobody => Some(String::new()),
            Visibility::Organization(id) => Some(format!("o:{id}")),
            Visibility::Facility(id) => Some(format!("f:{id}")),
        }
    }

    /// Reads the stored form (anything unrecognised is treated as `Nobody`: fail closed).
    pub fn from_stored(stored: Option<&str>) -> Self {
        match stored {
            None => Visibility::Everyone,
            Some(value) => match (value.strip_prefix("o:"), value.strip_prefix("f:")) {
                (Some(id), _) if !id.is_empty() => Visibility::Organization(id.to_owned()),
                (_, Some(id)) if !id.is_empty() => Visibility::Facility(id.to_owned()),
                _ => Visibility::Nobody,
            },
        }
    }
}

impl PrivacyChoices {
    /// The visibility the choices give the person's records. Opting out wins over a lock.
    pub fn visibility(&self) -> Visibility {
        if self.opted_out {
            return Visibility::Nobody;
        }
        match &self.lock {
            None => Visibility::Everyone,
            Some(RecordLock { facility_id: Some(facility), .. }) => Visibility::Facility(facility.clone()),
            Some(RecordLock { organization_id, facility_id: None }) => {
                Visibility::Organization(organization_id.clone())
            }
        }
    }
}

/// One version of a person's privacy choices, with who recorded it and why it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyRecord {
    pub patient_id: String,
    /// 1 for the first choice recorded; each change adds one.
    pub version: i32,
    pub choices: PrivacyChoices,
    pub changed_at: Timestamp,
    pub changed_by_organization_id: String,
    pub changed_by_user_id: Option<String>,
    /// Who asked for the change (the person, a parent or guardian), as stated.
    pub requested_by: String,
    /// How their identity was checked (e.g. "driver's license seen").
    pub identity_verification: String,
}

/// A filter on visibility for searches: what the caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisibleTo {
    /// Records visible to everyone or locked to one of these stored keys (`o:<id>`, `f:<id>`).
    Keys(Vec<String>),
    /// Everything except opted-out records (state staff: they see locked records).
    AllButOptedOut,
    /// Only opted-out records (to recognise an opted-out person submitted again).
    OptedOutOnly,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_round_trips_through_its_stored_form() {
        for visibility in [
            Visibility::Everyone,
            Visibility::Nobody,
            Visibility::Organization("org-1".into()),
            Visibility::Facility("fac-1".into()),
        ] {
            assert_eq!(Visibility::from_stored(visibility.stored().as_deref()), visibility);
        }
        assert_eq!(Visibility::from_stored(Some("x:1")), Visibility::Nobody);
        assert_eq!(Visibility::from_stored(Some("o:")), Visibility::Nobody);
    }

    #[test]
    fn opting_out_wins_over_a_lock() {
        let lock = RecordLock { organization_id: "org".into(), facility_id: Some("fac".into()) };
        let choices = PrivacyChoices { opted_out: true, lock: Some(lock.clone()), reminders_declined: false };
        assert_eq!(choices.visibility(), Visibility::Nobody);
        let locked = PrivacyChoices { opted_out: false, lock: Some(lock), reminders_declined: false };
        assert_eq!(locked.visibility(), Visibility::Facility("fac".into()));
        assert_eq!(PrivacyChoices::default().visibility(), Visibility::Everyone);
    }
}
