//! FHIR `CommunicationRequest`: the notices of a reminder / recall run, computed from the stored
//! notices (`/api/v1/reminder-runs` creates runs). Read by `<run id>.<number>`, searched by the
//! run's `group-identifier`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::ApiError;
use super::fhir_io::{fhir_base, fhir_response, prefer, query_params};
use super::schema;
use crate::service::Registry;
use crate::service::outreach::communication_request;

/// CommunicationRequest search parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct CommunicationRequestSearchParams {
    /// The run: `urn:izreg:reminder-run|<run id>` or the run id (required).
    #[param(rename = "group-identifier")]
    group_identifier: String,
    /// Results per page (default 50, at most 1000).
    #[param(rename = "_count", minimum = 1, maximum = 1000)]
    count: Option<u32>,
    /// The paging cursor from a `next` link.
    #[param(rename = "_cursor")]
    cursor: Option<String>,
}

/// A reminder or recall notice as a FHIR R4 CommunicationRequest.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationRequest {
    /// Always `CommunicationRequest`.
    #[schema(example = "CommunicationRequest")]
    pub resource_type: String,
    /// `<run id>.<notice number>`.
    pub id: String,
    /// `lastUpdated`: when the run finished.
    #[schema(value_type = Object)]
    pub meta: Value,
    /// The run (`urn:izreg:reminder-run`).
    #[schema(value_type = Object)]
    pub group_identifier: Value,
    /// `active` until the notice is marked sent, then `completed`.
    #[schema(example = "active")]
    pub status: String,
    /// `reminder` (communication-category) and the notice kind (`urn:izreg:notice-kind`: reminder or recall).
    #[schema(value_type = Vec<Object>)]
    pub category: Value,
    /// `asap` for a recall, `routine` for a reminder.
    #[schema(example = "asap")]
    pub priority: String,
    /// `Patient/{id}`.
    #[schema(value_type = Object)]
    pub subject: Value,
    /// The person, or for a minor their parent or guardian (by name).
    #[schema(value_type = Vec<Object>)]
    pub recipient: Value,
    /// One plain-language line per vaccine group due or overdue.
    #[schema(value_type = Vec<Object>)]
    pub payload: Value,
    /// The vaccine groups (`urn:izreg:cdsi-vaccine-group`).
    #[schema(value_type = Vec<Object>)]
    pub reason_code: Value,
    /// The run date.
    #[schema(format = Date)]
    pub occurrence_date_time: String,
    /// When the run was requested.
    #[schema(format = DateTime)]
    pub authored_on: String,
    /// `Organization/{id}` that requested the run.
    #[schema(value_type = Object)]
    pub requester: Value,
    /// How it was last sent (v3 ParticipationMode), once marked sent.
    #[schema(value_type = Option<Vec<Object>>)]
    pub medium: Option<Value>,
}

/// Reads one notice of a completed run as a CommunicationRequest.
#[utoipa::path(
    get, path = "/CommunicationRequest/{id}", tag = "Outreach", operation_id = "readCommunicationRequest",
    params(("id" = String, Path, description = "`<run id>.<notice number>`.")),
    responses(
        (status = 200, description = "The CommunicationRequest.", body = CommunicationRequest, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such notice, or another organization's run.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run has not completed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/CommunicationRequest/{id}")]
pub async fn read_communication_request(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let json = web::block(move || communication_request::read(&registry, &caller.0, &id)).await??;
    Ok(fhir_response(StatusCode::OK, json.to_string()))
}

/// Searches the notices of one run as CommunicationRequests, a page at a time (an empty
/// searchset for a run the caller may not see).
#[utoipa::path(
    get, path = "/CommunicationRequest", tag = "Outreach", operation_id = "searchCommunicationRequest",
    params(CommunicationRequestSearchParams, ("Prefer" = Option<String>, Header, description = "handling=lenient ignores unknown parameters instead of answering 400.")),
    responses(
        (status = 200, description = "A searchset Bundle, with a `next` link while more remain.", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "No group-identifier, a bad _count or _cursor, or an unknown parameter.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run has not completed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/CommunicationRequest")]
pub async fn search_communication_requests(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(&req);
    let lenient = prefer(&req).lenient;
    let page = web::block(move || communication_request::search(&registry, &caller.0, &params, lenient)).await??;
    let base = fhir_base(&req);
    let link = |cursor: Option<&str>| {
        crate::service::resource::search_link(&base, "CommunicationRequest", &page.link_params, cursor)
    };
    let self_link = link(None);
    let next_link = page.next_cursor.as_deref().map(|cursor| link(Some(cursor)));
    let empty = page.resources.is_empty();
    let mut bundle = crate::fhir::directory::searchset(&base, &self_link, next_link.as_deref(), page.resources);
    // FHIR JSON has no empty arrays.
    if empty && let Some(object) = bundle.as_object_mut() {
        object.remove("entry");
    }
    Ok(fhir_response(StatusCode::OK, bundle.to_string()))
}
