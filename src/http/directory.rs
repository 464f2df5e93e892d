//! FHIR Organization, Location and AuditEvent: read and search (views of the registry's own
//! records; no writes through FHIR).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa::IntoParams;

use super::auth::Caller;
use super::error::ApiError;
use super::fhir_io::{fhir_base, fhir_response, prefer, query_params};
use super::schema;
use crate::service::{Registry, directory};

fn page_response(req: &HttpRequest, path: &str, page: directory::DirectoryPage) -> HttpResponse {
    let base = fhir_base(req);
    let self_link = crate::service::resource::search_link(&base, path, &page.link_params, None);
    let next_link = page
        .next_cursor
        .as_deref()
        .map(|cursor| crate::service::resource::search_link(&base, path, &page.link_params, Some(cursor)));
    let bundle = crate::fhir::directory::searchset(&base, &self_link, next_link.as_deref(), page.resources);
    fhir_response(StatusCode::OK, bundle.to_string())
}

/// Organization search parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct OrganizationSearchParams {
    /// Logical id.
    _id: Option<String>,
    /// Name starts with (any case).
    name: Option<String>,
    /// provider, pharmacy, school, child_care, health_plan or public_health.
    r#type: Option<String>,
    /// true or false.
    active: Option<bool>,
    /// Page size (default 50, at most 1000).
    _count: Option<u32>,
    /// Opaque cursor from a `next` link.
    _cursor: Option<String>,
}

/// Location search parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct LocationSearchParams {
    /// Logical id.
    _id: Option<String>,
    /// Managing organization id (or Organization/id).
    organization: Option<String>,
    /// Name starts with (any case).
    name: Option<String>,
    /// Site code (urn:izreg:site-code|code or code).
    identifier: Option<String>,
    /// ZIP starts with.
    #[param(rename = "address-postalcode")]
    address_postalcode: Option<String>,
    /// Page size (default 50, at most 1000).
    _count: Option<u32>,
    /// Opaque cursor from a `next` link.
    _cursor: Option<String>,
}

/// AuditEvent search parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct AuditEventSearchParams {
    /// When recorded, with prefixes ge, gt, le, lt, eq (repeatable).
    date: Option<String>,
    /// User or client id.
    agent: Option<String>,
    /// Patient id (or Patient/id).
    patient: Option<String>,
    /// The izreg action (read, search, create, update, delete, login, lockout, ...).
    subtype: Option<String>,
    /// 0 success, 4 failed, 8 denied.
    outcome: Option<String>,
    /// Page size (default 50, at most 1000).
    _count: Option<u32>,
    /// Opaque cursor from a `next` link.
    _cursor: Option<String>,
}

/// Reads an Organization (the directory of enrolled organizations).
#[utoipa::path(
    get, path = "/Organization/{id}", tag = "Directory", operation_id = "readOrganizationResource",
    params(("id" = String, Path, description = "Organization id.")),
    responses(
        (status = 200, description = "The Organization.", body = schema::FhirOrganization, content_type = "application/fhir+json"),
        (status = 403, description = "The token's scopes do not cover Organization.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such organization.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Organization/{id}")]
pub async fn read_organization(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let resource = web::block(move || directory::read_organization(&registry, &caller.0, &id)).await??;
    Ok(fhir_response(StatusCode::OK, resource.to_string()))
}

/// Searches Organizations.
#[utoipa::path(
    get, path = "/Organization", tag = "Directory", operation_id = "searchOrganizationResources",
    params(OrganizationSearchParams),
    responses(
        (status = 200, description = "A searchset Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "Unknown parameter or bad value.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The token's scopes do not cover Organization.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Organization")]
pub async fn search_organizations(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (params, lenient) = (query_params(&req), prefer(&req).lenient);
    let page = web::block(move || directory::search_organizations(&registry, &caller.0, &params, lenient)).await??;
    Ok(page_response(&req, "Organization", page))
}

/// Reads a Location (a facility of an organization).
#[utoipa::path(
    get, path = "/Location/{id}", tag = "Directory", operation_id = "readLocationResource",
    params(("id" = String, Path, description = "Facility id.")),
    responses(
        (status = 200, description = "The Location.", body = schema::FhirLocation, content_type = "application/fhir+json"),
        (status = 403, description = "The token's scopes do not cover Location.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such facility.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Location/{id}")]
pub async fn read_location(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let resource = web::block(move || directory::read_location(&registry, &caller.0, &id)).await??;
    Ok(fhir_response(StatusCode::OK, resource.to_string()))
}

/// Searches Locations.
#[utoipa::path(
    get, path = "/Location", tag = "Directory", operation_id = "searchLocationResources",
    params(LocationSearchParams),
    responses(
        (status = 200, description = "A searchset Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "Unknown parameter or bad value.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The token's scopes do not cover Location.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Location")]
pub async fn search_locations(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (params, lenient) = (query_params(&req), prefer(&req).lenient);
    let page = web::block(move || directory::search_locations(&registry, &caller.0, &params, lenient)).await??;
    Ok(page_response(&req, "Location", page))
}

/// Reads an AuditEvent (state staff: any; an organization's administrator: its own).
#[utoipa::path(
    get, path = "/AuditEvent/{id}", tag = "Directory", operation_id = "readAuditEvent",
    params(("id" = String, Path, description = "Event id.")),
    responses(
        (status = 200, description = "The AuditEvent.", body = schema::FhirAuditEvent, content_type = "application/fhir+json"),
        (status = 403, description = "Only state staff and organization administrators read the audit trail.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such event (or not your organization's).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/AuditEvent/{id}")]
pub async fn read_audit_event(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let resource = web::block(move || directory::read_audit_event(&registry, &caller.0, &id)).await??;
    Ok(fhir_response(StatusCode::OK, resource.to_string()))
}

/// Searches the audit trail, newest first (state staff: all; an organization's administrator:
/// its own organization's events).
#[utoipa::path(
    get, path = "/AuditEvent", tag = "Directory", operation_id = "searchAuditEvents",
    params(AuditEventSearchParams),
    responses(
        (status = 200, description = "A searchset Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "Unknown parameter or bad value.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Only state staff and organization administrators read the audit trail.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/AuditEvent")]
pub async fn search_audit_events(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (params, lenient) = (query_params(&req), prefer(&req).lenient);
    let page = web::block(move || directory::search_audit_events(&registry, &caller.0, &params, lenient)).await??;
    Ok(page_response(&req, "AuditEvent", page))
}
