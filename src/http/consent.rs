//! FHIR `Consent`: a person's privacy choices (opt-out, record lock, declined reminders), read and
//! searched by patient. They are recorded through `/api/v1/patients/{id}/privacy`; each kind of
//! choice ever made is one Consent (`<patient id>.<kind>`), active while in force.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::ApiError;
use super::fhir_io::{computed_searchset, fhir_response, prefer, query_params};
use super::schema;
use crate::service::{Registry, privacy};

/// Consent search parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct ConsentSearchParams {
    /// The Patient (`id` or `Patient/id`); required.
    patient: String,
    /// `active` (in force) or `inactive` (withdrawn).
    status: Option<String>,
}

/// A privacy choice as a FHIR R4 Consent (scope `patient-privacy`).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    /// Always `Consent`.
    #[schema(example = "Consent")]
    pub resource_type: String,
    /// `<patient id>.opt-out`, `<patient id>.lock` or `<patient id>.reminders-declined`.
    pub id: String,
    /// `versionId`: the version of the person's choices; `lastUpdated`.
    #[schema(value_type = Object)]
    pub meta: Value,
    /// How the requester's identity was checked (`urn:izreg:StructureDefinition/identity-verification`).
    #[schema(value_type = Vec<Object>)]
    pub extension: Value,
    /// `active` while the choice is in force, `inactive` once withdrawn.
    #[schema(example = "active")]
    pub status: String,
    /// `patient-privacy`.
    #[schema(value_type = Object)]
    pub scope: Value,
    /// LOINC 59284-0 and the kind of choice (`urn:izreg:privacy-choice`).
    #[schema(value_type = Vec<Object>)]
    pub category: Value,
    /// `Patient/{id}`.
    #[schema(value_type = Object)]
    pub patient: Value,
    /// When the choice was made or withdrawn.
    #[schema(format = DateTime)]
    pub date_time: String,
    /// Who asked for it (the person, a parent or guardian).
    #[schema(value_type = Vec<Object>)]
    pub performer: Value,
    /// The organization that recorded it.
    #[schema(value_type = Vec<Object>)]
    pub organization: Value,
    /// The law the choice is made under.
    #[schema(value_type = Object)]
    pub policy_rule: Value,
    /// `deny` (opt-out: everything; reminders: the reminder-recall purpose; lock: everyone but the
    /// `permit`ted custodian organization).
    #[schema(value_type = Object)]
    pub provision: Value,
}

/// Reads one of a person's privacy choices as a Consent.
#[utoipa::path(
    get, path = "/Consent/{id}", tag = "Privacy", operation_id = "readConsent",
    params(("id" = String, Path, description = "`<patient id>.<kind>`: kind is opt-out, lock or reminders-declined.")),
    responses(
        (status = 200, description = "The Consent.", body = Consent, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow reading Patient.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such choice, no such Patient, or hidden from the caller.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Consent/{id}")]
pub async fn read_consent(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let json = web::block(move || privacy::read_consent(&registry, &caller.0, &id)).await??;
    Ok(fhir_response(StatusCode::OK, json.to_string()))
}

/// Searches a person's privacy choices as Consents (none when the Patient does not exist or is
/// hidden from the caller).
#[utoipa::path(
    get, path = "/Consent", tag = "Privacy", operation_id = "searchConsent",
    params(ConsentSearchParams, ("Prefer" = Option<String>, Header, description = "handling=lenient ignores unknown parameters instead of answering 400.")),
    responses(
        (status = 200, description = "A searchset Bundle with the person's Consents (zero to three).", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "No patient parameter, a repeated one, or an unknown parameter.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow searching Patient.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Consent")]
pub async fn search_consents(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(&req);
    let lenient = prefer(&req).lenient;
    let page = web::block(move || privacy::search_consents(&registry, &caller.0, &params, lenient)).await??;
    Ok(computed_searchset(&req, "Consent", &page.link_params, page.resources))
}

/// Registers the routes.
pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    config.service(search_consents).service(read_consent);
}
