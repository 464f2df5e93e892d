//! `/api/v1/patients/{id}/privacy`: a person's privacy choices (opt-out, record lock, declined
//! reminders), read and changed in plain JSON. Every change is a new version, audited.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::admin::JsonBody;
use super::auth::Caller;
use super::error::ApiError;
use super::schema;
use crate::domain::privacy::{PrivacyRecord, RecordLock};
use crate::domain::time::Timestamp;
use crate::service::Registry;
use crate::service::privacy::{self, PrivacyChange, PrivacyView};

/// The provider a record is locked to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LockBody {
    /// The organization (only it sees the record).
    pub organization_id: String,
    /// One of its facilities, to lock to that site only.
    pub facility_id: Option<String>,
}

/// A change of privacy choices. Choices left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrivacyChangeInput {
    /// Opt out of the registry (`true`) or back in (`false`; health department staff only).
    pub opted_out: Option<bool>,
    /// Lock the record to a provider; `null` removes the lock.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable)]
    pub lock: Option<Option<LockBody>>,
    /// Decline reminder and recall notices (`true`) or accept them again (`false`).
    pub reminders_declined: Option<bool>,
    /// Who asked for the change: the person, or a parent or guardian of a minor.
    #[schema(example = "Parent: Maria Lopez")]
    pub requested_by: String,
    /// How their identity was checked.
    #[schema(example = "Driver's license seen in clinic")]
    pub identity_verification: String,
}

/// Distinguishes a `null` lock (remove it) from an absent one (leave it).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<LockBody>>, D::Error> {
    Option::<LockBody>::deserialize(deserializer).map(Some)
}

/// Who recorded a version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangedBy {
    pub organization_id: String,
    pub user_id: Option<String>,
}

/// One version of a person's privacy choices.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyVersion {
    /// 1 for the first choice recorded.
    pub version: i32,
    pub opted_out: bool,
    pub lock: Option<LockBody>,
    pub reminders_declined: bool,
    /// When it was recorded (RFC 3339).
    #[schema(format = "date-time")]
    pub changed_at: String,
    pub changed_by: ChangedBy,
    pub requested_by: String,
    pub identity_verification: String,
}

/// A person's privacy choices: those in force and every version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Privacy {
    pub patient_id: String,
    /// The version in force; 0 when no choice was ever recorded.
    pub version: i32,
    pub opted_out: bool,
    pub lock: Option<LockBody>,
    pub reminders_declined: bool,
    /// Every version, newest first.
    pub history: Vec<PrivacyVersion>,
}

pub(super) fn rfc3339(at: Timestamp) -> String {
    at.to_offset_date_time()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn lock_body(lock: &Option<RecordLock>) -> Option<LockBody> {
    lock.as_ref()
        .map(|lock| LockBody { organization_id: lock.organization_id.clone(), facility_id: lock.facility_id.clone() })
}

fn version(record: &PrivacyRecord) -> PrivacyVersion {
    PrivacyVersion {
        version: record.version,
        opted_out: record.choices.opted_out,
        lock: lock_body(&record.choices.lock),
        reminders_declined: record.choices.reminders_declined,
        changed_at: rfc3339(record.changed_at),
        changed_by: ChangedBy {
            organization_id: record.changed_by_organization_id.clone(),
            user_id: record.changed_by_user_id.clone(),
        },
        requested_by: record.requested_by.clone(),
        identity_verification: record.identity_verification.clone(),
    }
}

impl From<PrivacyView> for Privacy {
    fn from(view: PrivacyView) -> Self {
        let choices = view.choices();
        Privacy {
            patient_id: view.patient_id,
            version: view.current.as_ref().map_or(0, |record| record.version),
            opted_out: choices.opted_out,
            lock: lock_body(&choices.lock),
            reminders_declined: choices.reminders_declined,
            history: view.history.iter().map(version).collect(),
        }
    }
}

/// A person's privacy choices, with every version. Health department staff see them always
/// (including the stub of a person who opted out); a provider when it may see the person's
/// records or recorded the choice.
#[utoipa::path(
    get, path = "/patients/{patient_id}/privacy", tag = "Privacy", operation_id = "readPrivacy",
    params(("patient_id" = String, Path, description = "Patient id.")),
    responses(
        (status = 200, description = "The choices in force and their versions.", body = Privacy),
        (status = 403, description = "The role or scopes do not allow reading Patient.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such Patient, or hidden from the caller (opted out, locked to another provider).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 410, description = "The Patient was deleted.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/patients/{patient_id}/privacy")]
pub async fn read_privacy(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = web::block(move || privacy::read(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(Privacy::from(view)))
}

/// Records a change of a person's privacy choices (a new version, audited).
///
/// - Opt out: the person's records become invisible to every organization; a stub is kept so
///   new submissions about them are refused (422, issue code `suppressed`). Any provider acting
///   for the person may record it; opting back in is recorded by health department staff.
/// - Lock: only the organization (or facility) the record is locked to sees it. A provider may
///   lock a record to itself and move or remove a lock it holds; staff may do anything.
/// - Declined reminders: the person is left out of reminder and recall notices.
#[utoipa::path(
    post, path = "/patients/{patient_id}/privacy", tag = "Privacy", operation_id = "changePrivacy",
    params(("patient_id" = String, Path, description = "Patient id.")),
    request_body(content = PrivacyChangeInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The choices now in force and their versions.", body = Privacy),
        (status = 400, description = "Nothing to change, missing requestedBy / identityVerification, or a lock naming an unknown organization or facility.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role may not record privacy choices, or this change is reserved to the health department or to the lock holder.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such Patient, or hidden from the caller.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 410, description = "The Patient was deleted.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/patients/{patient_id}/privacy")]
pub async fn change_privacy(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<PrivacyChangeInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let change = PrivacyChange {
        opted_out: input.opted_out,
        lock: input.lock.map(|lock| {
            lock.map(|lock| RecordLock { organization_id: lock.organization_id, facility_id: lock.facility_id })
        }),
        reminders_declined: input.reminders_declined,
        requested_by: input.requested_by,
        identity_verification: input.identity_verification,
    };
    let view = web::block(move || privacy::change(&registry, &caller.0, &path, change)).await??;
    Ok(HttpResponse::Ok().json(Privacy::from(view)))
}
