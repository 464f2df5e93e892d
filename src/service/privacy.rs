//! Recording and reading a person's privacy choices (opt-out, record lock, declined reminders).
//! Who may do what is decided in `access.rs`; this module runs the use cases: one transaction
//! per change, a new version each time, the visibility of the person's records updated with it,
//! and the audit record written in the same transaction.

use serde_json::Value;

use super::audit::AuditRecord;
use super::resource::{audit_failure, audit_outcome, query_text};
use super::{Registry, ServiceError, access};
use crate::domain::access::Principal;
use crate::domain::privacy::{PrivacyChoices, PrivacyRecord, RecordLock, Visibility};
use crate::domain::resource::{CurrentVersion, ResourceType};
use crate::domain::scope::Interaction;
use crate::domain::time::Timestamp;
use crate::fhir::consent::{self, ConsentKind};
use crate::fhir::outcome::{Issue, IssueType};
use crate::store::{self, DbConnection};

/// A requested change: each choice is either left as it is (`None`) or set.
#[derive(Debug, Clone, Default)]
pub struct PrivacyChange {
    pub opted_out: Option<bool>,
    /// `Some(None)` removes the lock.
    pub lock: Option<Option<RecordLock>>,
    pub reminders_declined: Option<bool>,
    /// Who asked (the person, a parent or guardian).
    pub requested_by: String,
    /// How their identity was checked.
    pub identity_verification: String,
}

/// A person's privacy choices as the caller sees them.
#[derive(Debug, Clone)]
pub struct PrivacyView {
    pub patient_id: String,
    /// The version in force (`None`: no choice was ever recorded; the defaults apply).
    pub current: Option<PrivacyRecord>,
    /// Every version, newest first (empty when none).
    pub history: Vec<PrivacyRecord>,
}

impl PrivacyView {
    /// The choices in force (the defaults when none were recorded).
    pub fn choices(&self) -> PrivacyChoices {
        self.current.as_ref().map(|record| record.choices.clone()).unwrap_or_default()
    }
}

const TEXT_LIMIT: usize = 200;

fn check_text(field: &str, value: &str) -> Result<(), ServiceError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ServiceError::invalid(field, format!("{field} is required: it is kept with the change.")));
    }
    if trimmed.chars().count() > TEXT_LIMIT {
        return Err(ServiceError::invalid(field, format!("{field} must be at most {TEXT_LIMIT} characters.")));
    }
    Ok(())
}

/// The person's privacy state inside a transaction: refused (404) unless the Patient exists and
/// the caller may see its privacy choices.
fn load(conn: &mut DbConnection, principal: &Principal, patient_id: &str) -> Result<PrivacyView, ServiceError> {
    let not_found = || ServiceError::NotFound { resource_type: ResourceType::Patient };
    match store::patient::current(conn, patient_id)? {
        Some(CurrentVersion::Live(_)) => {}
        Some(CurrentVersion::Deleted { .. }) => {
            return Err(ServiceError::Gone { resource_type: ResourceType::Patient });
        }
        None => return Err(not_found()),
    }
    let visibility =
        Visibility::from_stored(store::privacy::patient_visibility(conn, patient_id)?.flatten().as_deref());
    let current = store::privacy::current(conn, patient_id)?;
    if !access::may_see_privacy(principal, current.as_ref(), &visibility) {
        return Err(ServiceError::Hidden { resource_type: ResourceType::Patient });
    }
    let history = store::privacy::history(conn, patient_id)?;
    Ok(PrivacyView { patient_id: patient_id.to_owned(), current, history })
}

fn record_for(principal: &Principal, action: &str, patient_id: &str) -> AuditRecord {
    let mut record = AuditRecord::by(principal, action).on("Consent");
    let id: String = patient_id.chars().take(64).collect();
    record.resource_ids = vec![id.clone()];
    record.patient_ids = vec![id];
    record
}

/// The privacy choices of a person, with every version. State staff see them always (they
/// hold the opt-out stubs); providers when they may see the person's records, or recorded the
/// choice themselves.
pub fn read(registry: &Registry, principal: &Principal, patient_id: &str) -> Result<PrivacyView, ServiceError> {
    let record = record_for(principal, "privacy-read", patient_id);
    let result = access::authorize(principal, ResourceType::Patient.as_str(), Interaction::Read)
        .and_then(|()| registry.database().read(|conn| load(conn, principal, patient_id)));
    audit_outcome(registry, record, &result, |_, _| {});
    result
}

/// Records a change of a person's privacy choices as a new version, and applies the visibility
/// it gives to all their records in the same transaction.
pub fn change(
    registry: &Registry,
    principal: &Principal,
    patient_id: &str,
    change: PrivacyChange,
) -> Result<PrivacyView, ServiceError> {
    let record = record_for(principal, "privacy-change", patient_id);
    let result = (|| {
        access::authorize(principal, ResourceType::Patient.as_str(), Interaction::Read)?;
        check_text("requestedBy", &change.requested_by)?;
        check_text("identityVerification", &change.identity_verification)?;
        if change.opted_out.is_none() && change.lock.is_none() && change.reminders_declined.is_none() {
            return Err(ServiceError::invalid(
                "optedOut",
                "Nothing to change: give optedOut, lock or remindersDeclined.",
            ));
        }
        let actor = principal.clone();
        let patient_id = patient_id.to_owned();
        let record = record.clone();
        registry.database().write(move |conn| {
            let view = load(conn, &actor, &patient_id)?;
            let current = view.choices();
            let wanted = PrivacyChoices {
                opted_out: change.opted_out.unwrap_or(current.opted_out),
                lock: change.lock.clone().unwrap_or_else(|| current.lock.clone()),
                reminders_declined: change.reminders_declined.unwrap_or(current.reminders_declined),
            };
            access::check_privacy_change(&actor, &current, &wanted)?;
            if let Some(lock) = &wanted.lock
                && Some(lock) != current.lock.as_ref()
            {
                check_lock_target(conn, lock)?;
            }
            let saved = PrivacyRecord {
                patient_id: patient_id.clone(),
                version: view.current.as_ref().map_or(1, |record| record.version + 1),
                choices: wanted,
                changed_at: Timestamp::now(),
                changed_by_organization_id: actor.organization_id.clone(),
                changed_by_user_id: Some(actor.subject.clone()),
                requested_by: change.requested_by.trim().to_owned(),
                identity_verification: change.identity_verification.trim().to_owned(),
            };
            store::privacy::save(conn, &saved)?;
            let mut record = record;
            record.detail = Some(describe(&saved.choices));
            super::audit::append_in(conn, vec![record])?;
            let mut history = view.history;
            history.insert(0, saved.clone());
            Ok(PrivacyView { patient_id, current: Some(saved), history })
        })
    })();
    audit_failure(registry, record, &result);
    result
}

/// A lock names an active organization, and a facility of that organization when it names one.
fn check_lock_target(conn: &mut DbConnection, lock: &RecordLock) -> Result<(), ServiceError> {
    let organization = store::identity::organization(conn, &lock.organization_id)?;
    if !organization.is_some_and(|organization| organization.active) {
        return Err(ServiceError::invalid("lock.organizationId", "No active organization has this id."));
    }
    if let Some(facility_id) = &lock.facility_id {
        let facility = store::identity::facility(conn, facility_id)?;
        if !facility.is_some_and(|facility| facility.organization_id == lock.organization_id && facility.active) {
            return Err(ServiceError::invalid(
                "lock.facilityId",
                "No active facility of that organization has this id.",
            ));
        }
    }
    Ok(())
}

/// The choices in words, for the audit trail (no personal data).
fn describe(choices: &PrivacyChoices) -> String {
    let lock = match &choices.lock {
        None => "none".to_owned(),
        Some(RecordLock { organization_id, facility_id: None }) => format!("organization {organization_id}"),
        Some(RecordLock { organization_id, facility_id: Some(facility) }) => {
            format!("organization {organization_id}, facility {facility}")
        }
    };
    format!("opted out: {}; lock: {lock}; reminders declined: {}", choices.opted_out, choices.reminders_declined)
}

/// `GET Consent/{id}`: one of a person's privacy choices as a FHIR Consent (id
/// `<patient id>.<kind>`). Visible to whoever may see the person's privacy choices.
pub fn read_consent(registry: &Registry, principal: &Principal, id: &str) -> Result<Value, ServiceError> {
    let not_found = || ServiceError::NotFoundNamed("No Consent with this id.".to_owned());
    let (patient_id, kind) = ConsentKind::parse_id(id).ok_or_else(not_found)?;
    let mut record = record_for(principal, "read", patient_id);
    record.resource_ids = vec![id.chars().take(64).collect()];
    let result = access::authorize(principal, ResourceType::Patient.as_str(), Interaction::Read)
        .and_then(|()| registry.database().read(|conn| load(conn, principal, patient_id)))
        .map_err(|error| match error {
            ServiceError::NotFound { .. } | ServiceError::Gone { .. } => not_found(),
            other => other,
        })
        .and_then(|view| consent::consent(&view.history, kind).ok_or_else(not_found));
    audit_outcome(registry, record, &result, |_, _| {});
    result
}

/// The result of a Consent search.
#[derive(Debug, Clone)]
pub struct ConsentPage {
    pub resources: Vec<Value>,
    /// The accepted parameters (for the `self` link).
    pub link_params: Vec<(String, String)>,
}

/// `GET Consent?patient=<id>[&status=active|inactive]`: the person's privacy choices as
/// Consents; none when the Patient does not exist or is hidden from the caller (so a search
/// reveals nothing a read would not).
pub fn search_consents(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<ConsentPage, ServiceError> {
    let mut record = AuditRecord::by(principal, "search").on("Consent");
    record.query = Some(query_text(params));
    let result = (|| {
        access::authorize(principal, ResourceType::Patient.as_str(), Interaction::Search)?;
        let mut patient = None;
        let mut status = None;
        let mut link_params = Vec::new();
        for (name, value) in params {
            match name.as_str() {
                "patient" if patient.is_none() => {
                    patient = Some(value.strip_prefix("Patient/").unwrap_or(value).to_owned());
                    link_params.push((name.clone(), value.clone()));
                }
                "status" if status.is_none() && matches!(value.as_str(), "active" | "inactive") => {
                    status = Some(value.clone());
                    link_params.push((name.clone(), value.clone()));
                }
                "_format" => {}
                _ if lenient => {}
                _ => {
                    return Err(ServiceError::BadRequest(Issue::at(
                        IssueType::NotSupported,
                        name.as_str(),
                        "Unsupported or repeated search parameter: Consent is searched by patient (one) and status \
                         (active or inactive).",
                    )));
                }
            }
        }
        let Some(patient) = patient else {
            return Err(ServiceError::BadRequest(Issue::at(
                IssueType::Required,
                "patient",
                "Search Consent by patient (patient=<id>): privacy choices are kept per person.",
            )));
        };
        let view = match registry.database().read(|conn| load(conn, principal, &patient)) {
            Ok(view) => view,
            Err(ServiceError::NotFound { .. } | ServiceError::Gone { .. } | ServiceError::Hidden { .. }) => {
                return Ok(ConsentPage { resources: Vec::new(), link_params });
            }
            Err(other) => return Err(other),
        };
        record.patient_ids = vec![view.patient_id.clone()];
        let resources = consent::consents(&view.history)
            .into_iter()
            .filter(|c| status.as_deref().is_none_or(|wanted| c["status"] == wanted))
            .collect();
        Ok(ConsentPage { resources, link_params })
    })();
    audit_outcome(registry, record, &result, |record, page| {
        record.resource_ids = page.resources.iter().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
    });
    result
}
