//! System-level FHIR endpoints: the CapabilityStatement and transaction/batch Bundles.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::error::ApiError;
use super::fhir_io::{FhirJson, fhir_base, fhir_response};
use super::schema;
use crate::fhir::capability::capability_statement;
use crate::service::{Registry, bundle};

/// The server's CapabilityStatement: FHIR 4.0.1, the resources, interactions and search
/// parameters implemented (exactly those).
#[utoipa::path(
    get, path = "/metadata", tag = "System", operation_id = "capabilities",
    security(()),
    responses((status = 200, description = "CapabilityStatement.", body = schema::CapabilityStatement, content_type = "application/fhir+json"))
)]
#[get("/metadata")]
pub async fn metadata(req: HttpRequest) -> HttpResponse {
    let statement = capability_statement(&fhir_base(&req), env!("CARGO_PKG_VERSION"));
    fhir_response(StatusCode::OK, statement.to_string())
}

/// Runs a `transaction` Bundle (all entries or none; `urn:uuid:` references between entries
/// are resolved) or a `batch` Bundle (each entry on its own).
#[utoipa::path(
    post, path = "", tag = "System", operation_id = "transaction",
    request_body(content = schema::Bundle, content_type = "application/fhir+json", description = "A Bundle of type transaction or batch."),
    responses(
        (status = 401, description = "No valid access token.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "(transaction) An entry is not allowed by the role or scopes, or the agreement is not active; nothing was stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 200, description = "transaction-response or batch-response Bundle (entries in request order).", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "Not a transaction/batch Bundle, or (transaction) an entry is malformed; nothing was stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "(transaction) An entry names a missing resource; nothing was stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "(transaction) An entry conflicts with stored data; nothing was stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 412, description = "(transaction) An If-Match or If-None-Exist condition failed; nothing was stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 413, description = "Body too large.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 415, description = "Not application/fhir+json.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "(transaction) An entry breaks a registry rule; nothing was stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("")]
pub async fn transaction(
    registry: web::Data<Registry>,
    caller: super::auth::Caller,
    req: HttpRequest,
    body: FhirJson,
) -> Result<HttpResponse, ApiError> {
    let base = fhir_base(&req);
    let response = web::block(move || bundle::process(&registry, &caller.0, &body.0, &base)).await??;
    Ok(fhir_response(StatusCode::OK, response.json))
}
