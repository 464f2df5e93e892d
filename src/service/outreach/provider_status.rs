//! Patient / provider status: an organization marks a person it served as no longer its patient
//! ("moved or gone elsewhere"), or again its patient. Reminder / recall runs of the organization
//! leave inactive people out; nothing else about the record changes.

use super::super::audit::{AuditRecord, append_in};
use super::super::resource::{audit_failure, audit_outcome};
use super::super::{Registry, ServiceError, access};
use crate::domain::access::Principal;
use crate::domain::privacy::Visibility;
use crate::domain::time::Timestamp;
use crate::store::outreach::{self as outreach_store, ProviderStatusRow};
use crate::store::{DbConnection, privacy as privacy_store};

/// Why an organization no longer serves a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveReason {
    Moved,
    GoneElsewhere,
    Other,
}

impl InactiveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            InactiveReason::Moved => "moved",
            InactiveReason::GoneElsewhere => "gone-elsewhere",
            InactiveReason::Other => "other",
        }
    }
}

/// Whether the caller's organization serves a person, and its last marking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatusView {
    pub patient_id: String,
    pub organization_id: String,
    /// The organization counts the person among its patients (its runs include them).
    pub active: bool,
    /// The last marking, if any.
    pub marked: Option<ProviderStatusRow>,
}

fn record_for(principal: &Principal, action: &str, patient_id: &str) -> AuditRecord {
    let mut record = AuditRecord::by(principal, action).on("Patient");
    let id: String = patient_id.chars().take(64).collect();
    record.resource_ids = vec![id.clone()];
    record.patient_ids = vec![id];
    record
}

/// The person must exist, be live and visible to the caller; 404 otherwise (as a read).
fn check_visible(conn: &mut DbConnection, principal: &Principal, patient_id: &str) -> Result<(), ServiceError> {
    let not_found = || ServiceError::NotFoundNamed(format!("No Patient {patient_id}."));
    let visibility = privacy_store::patient_visibility(conn, patient_id)?.ok_or_else(not_found)?;
    if !access::may_see(principal, &Visibility::from_stored(visibility.as_deref())) {
        return Err(not_found());
    }
    Ok(())
}

fn view(conn: &mut DbConnection, principal: &Principal, patient_id: &str) -> Result<ProviderStatusView, ServiceError> {
    check_visible(conn, principal, patient_id)?;
    let marked = outreach_store::provider_status(conn, patient_id, &principal.organization_id)?;
    let active = match &marked {
        Some(row) => row.active,
        None => outreach_store::has_submitted_for(conn, patient_id, &principal.organization_id)?,
    };
    Ok(ProviderStatusView {
        patient_id: patient_id.to_owned(),
        organization_id: principal.organization_id.clone(),
        active,
        marked,
    })
}

/// Whether the caller's organization serves the person.
pub fn read(registry: &Registry, principal: &Principal, patient_id: &str) -> Result<ProviderStatusView, ServiceError> {
    let record = record_for(principal, "provider-status-read", patient_id);
    let result = access::check_outreach(principal)
        .and_then(|()| registry.database().read(|conn| view(conn, principal, patient_id)));
    audit_outcome(registry, record, &result, |_, _| {});
    result
}

/// Marks the person inactive (with a reason) or active again for the caller's organization.
/// Only an organization that served the person (submitted them or one of their doses, or marked
/// them its patient) may mark them inactive.
pub fn change(
    registry: &Registry,
    principal: &Principal,
    patient_id: &str,
    active: bool,
    reason: Option<InactiveReason>,
) -> Result<ProviderStatusView, ServiceError> {
    let record = record_for(principal, "provider-status-change", patient_id);
    let result = (|| {
        if !access::may_mark_provider_status(principal) {
            return Err(ServiceError::Forbidden(format!(
                "The role {} may not change who an organization serves.",
                principal.role
            )));
        }
        if active && reason.is_some() {
            return Err(ServiceError::invalid("reason", "A reason is given only when marking a person inactive."));
        }
        if !active && reason.is_none() {
            return Err(ServiceError::invalid("reason", "Say why: moved, gone-elsewhere or other."));
        }
        let actor = principal.clone();
        let patient_id = patient_id.to_owned();
        let mut audit = record.clone();
        registry.database().write(move |conn| {
            let current = view(conn, &actor, &patient_id)?;
            if !active && !current.active {
                return Err(ServiceError::Conflict(crate::fhir::outcome::Issue::error(
                    crate::fhir::outcome::IssueType::Conflict,
                    "The organization does not count this person among its patients.",
                )));
            }
            let row = ProviderStatusRow {
                patient_id: patient_id.clone(),
                organization_id: actor.organization_id.clone(),
                active,
                reason: reason.map(|r| r.as_str().to_owned()),
                changed_at: Timestamp::now().0,
                changed_by: actor.subject.clone(),
            };
            outreach_store::save_provider_status(conn, &row)?;
            audit.detail = Some(if active {
                "active".to_owned()
            } else {
                format!("inactive: {}", row.reason.as_deref().unwrap_or_default())
            });
            append_in(conn, vec![audit])?;
            Ok(ProviderStatusView {
                patient_id,
                organization_id: actor.organization_id.clone(),
                active,
                marked: Some(row),
            })
        })
    })();
    audit_failure(registry, record, &result);
    result
}
