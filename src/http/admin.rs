//! `/api/v1`: organizations, their facilities (one by one or from the facilities spreadsheet)
//! and their registered systems. JSON in and out; errors are OperationOutcomes like everywhere.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;
use super::schema;
use crate::domain::access::{OrganizationKind, Role};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::IssueType;
use crate::service::organization::{self, NewFacility, NewOrganization};
use crate::service::{Registry, client};
use crate::store::identity::{ClientRow, FacilityRow, OrganizationRow};

/// Largest administrative JSON body (a facilities spreadsheet may be larger: see below).
const MAX_JSON_BYTES: usize = 256 * 1024;
/// Largest facilities spreadsheet.
const MAX_CSV_BYTES: usize = 4 * 1024 * 1024;

/// A JSON request body (`application/json`), size-limited, with unknown fields refused and
/// errors answered as OperationOutcome naming the field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

async fn read_limited(mut payload: Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::http(StatusCode::BAD_REQUEST, IssueType::Invalid, "The request body could not be read.")
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                IssueType::TooLong,
                format!("The request body is larger than the {limit} bytes accepted here."),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default()
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media = media_type(req);
        let payload = payload.take();
        Box::pin(async move {
            if media != "application/json" {
                return Err(ApiError::http(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    IssueType::NotSupported,
                    "Send the body as application/json.",
                ));
            }
            let body = read_limited(payload, MAX_JSON_BYTES).await?;
            let mut deserializer = serde_json::Deserializer::from_slice(&body);
            serde_path_to_error::deserialize(&mut deserializer).map(JsonBody).map_err(|error| {
                let path = error.path().to_string();
                let inner = error.into_inner();
                // serde's message names the field or the expected type, never the value sent.
                let message = if inner.is_syntax() || inner.is_eof() {
                    "The body is not valid JSON.".to_owned()
                } else {
                    format!("Invalid body at {path}: {}", first_sentence(&inner.to_string()))
                };
                ApiError::Http {
                    status: StatusCode::BAD_REQUEST,
                    issue: crate::fhir::outcome::Issue::at(IssueType::Invalid, path, message),
                }
            })
        })
    }
}

/// serde's message up to the position it adds (" at line 1 column 20").
fn first_sentence(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// A time as RFC 3339 text.
pub fn instant(micros: i64) -> String {
    Timestamp(micros)
        .to_offset_date_time()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The kinds of organization.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKindCode {
    /// A clinic, hospital or practice.
    Provider,
    /// A pharmacy.
    Pharmacy,
    /// A school (read only).
    School,
    /// A child care provider (read only).
    ChildCare,
    /// A health plan.
    HealthPlan,
    /// A public health agency.
    PublicHealth,
}

impl From<OrganizationKindCode> for OrganizationKind {
    fn from(code: OrganizationKindCode) -> Self {
        match code {
            OrganizationKindCode::Provider => OrganizationKind::Provider,
            OrganizationKindCode::Pharmacy => OrganizationKind::Pharmacy,
            OrganizationKindCode::School => OrganizationKind::School,
            OrganizationKindCode::ChildCare => OrganizationKind::ChildCare,
            OrganizationKindCode::HealthPlan => OrganizationKind::HealthPlan,
            OrganizationKindCode::PublicHealth => OrganizationKind::PublicHealth,
        }
    }
}

/// The roles of users and systems.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleCode {
    /// Health department staff.
    StateAdmin,
    /// Manages the organization's users, facilities and systems.
    OrgAdmin,
    /// Reads and writes patient data.
    Clinician,
    /// Reads patient data, writes demographics.
    Clerk,
    /// Reads only (schools, child care).
    ReadOnly,
    /// Runs reminder/recall.
    ReminderRecall,
}

impl From<RoleCode> for Role {
    fn from(code: RoleCode) -> Self {
        match code {
            RoleCode::StateAdmin => Role::StateAdmin,
            RoleCode::OrgAdmin => Role::OrgAdmin,
            RoleCode::Clinician => Role::Clinician,
            RoleCode::Clerk => Role::Clerk,
            RoleCode::ReadOnly => Role::ReadOnly,
            RoleCode::ReminderRecall => Role::ReminderRecall,
        }
    }
}

/// An organization to enrol.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationInput {
    /// Name (unique in the registry).
    #[schema(example = "Lakeside Family Clinic", max_length = 200)]
    pub name: String,
    /// Kind.
    pub kind: OrganizationKindCode,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    #[schema(format = "email")]
    pub email: Option<String>,
}

/// An enrolled organization.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Id (also the FHIR Organization id and the `org` claim).
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind: provider, pharmacy, school, child_care, health_plan or public_health.
    pub kind: String,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// The health department that runs the registry (needs no data use agreement).
    pub operator: bool,
    /// Active.
    pub active: bool,
    /// Enrolled at.
    #[schema(format = "date-time")]
    pub created_at: String,
}

impl From<OrganizationRow> for Organization {
    fn from(row: OrganizationRow) -> Self {
        Organization {
            id: row.id,
            name: row.name,
            kind: row.kind,
            phone: row.phone,
            email: row.email,
            operator: row.operator,
            active: row.active,
            created_at: instant(row.created_at),
        }
    }
}

/// A facility to enrol.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FacilityInput {
    /// Name (unique within the organization).
    #[schema(example = "Lakeside Clinic - North", max_length = 200)]
    pub name: String,
    /// The state's site code (e.g. a VFC PIN), unique within the organization.
    pub site_code: Option<String>,
    /// Street address.
    pub address_line: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Two-letter state.
    #[schema(example = "MN", pattern = "^[A-Za-z]{2}$")]
    pub state: Option<String>,
    /// ZIP or ZIP+4.
    #[schema(example = "55401")]
    pub postal_code: Option<String>,
    /// Phone (10 to 15 digits).
    pub phone: Option<String>,
}

impl From<FacilityInput> for NewFacility {
    fn from(input: FacilityInput) -> Self {
        NewFacility {
            name: input.name,
            site_code: input.site_code,
            address_line: input.address_line,
            city: input.city,
            state: input.state,
            postal_code: input.postal_code,
            phone: input.phone,
        }
    }
}

/// Facilities to enrol at once (all or none).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityBatch {
    /// The facilities.
    pub facilities: Vec<FacilityInput>,
}

/// An enrolled facility (also the FHIR Location).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facility {
    /// Id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Name.
    pub name: String,
    /// Site code.
    pub site_code: Option<String>,
    /// Street address.
    pub address_line: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// ZIP.
    pub postal_code: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Active.
    pub active: bool,
}

impl From<FacilityRow> for Facility {
    fn from(row: FacilityRow) -> Self {
        Facility {
            id: row.id,
            organization_id: row.organization_id,
            name: row.name,
            site_code: row.site_code,
            address_line: row.address_line,
            city: row.city,
            state: row.state,
            postal_code: row.postal_code,
            phone: row.phone,
            active: row.active,
        }
    }
}

/// A system to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientInput {
    /// Name.
    #[schema(example = "Lakeside EHR")]
    pub name: String,
    /// Role it acts in (clinician, clerk, read_only, reminder_recall).
    pub role: RoleCode,
    /// Facility it acts for.
    pub facility_id: Option<String>,
    /// Pre-authorized scopes (system/ only).
    #[schema(example = "system/Patient.rs system/Immunization.cruds")]
    pub allowed_scopes: String,
    /// Public keys (JWK Set with RSA or EC P-384 public keys).
    #[schema(value_type = schema::Jwks)]
    pub jwks: serde_json::Value,
}

/// A registered system.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// The client id (`iss` and `sub` of its assertions).
    pub client_id: String,
    /// Organization.
    pub organization_id: String,
    /// Facility.
    pub facility_id: Option<String>,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Pre-authorized scopes.
    pub allowed_scopes: String,
    /// Active.
    pub active: bool,
}

impl From<ClientRow> for Client {
    fn from(row: ClientRow) -> Self {
        Client {
            client_id: row.id,
            organization_id: row.organization_id,
            facility_id: row.facility_id,
            name: row.name,
            role: row.role,
            allowed_scopes: row.allowed_scopes,
            active: row.active,
        }
    }
}

fn created<T: Serialize>(value: T) -> HttpResponse {
    HttpResponse::Created().json(value)
}

/// Enrols an organization (state staff).
#[utoipa::path(
    post, path = "/organizations", tag = "Organizations", operation_id = "createOrganization",
    request_body(content = OrganizationInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Enrolled.", body = Organization),
        (status = 400, description = "Invalid input.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 401, description = "No valid token.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not state staff.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The name is taken.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/organizations")]
pub async fn create_organization(
    registry: web::Data<Registry>,
    caller: Caller,
    body: JsonBody<OrganizationInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let new = NewOrganization { name: input.name, kind: input.kind.into(), phone: input.phone, email: input.email };
    let row = web::block(move || organization::create(&registry, &caller.0, new)).await??;
    Ok(created(Organization::from(row)))
}

/// Organizations: all for state staff, one's own for everyone else.
#[utoipa::path(
    get, path = "/organizations", tag = "Organizations", operation_id = "listOrganizations",
    responses(
        (status = 200, description = "Organizations by name.", body = Vec<Organization>),
        (status = 401, description = "No valid token.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/organizations")]
pub async fn list_organizations(registry: web::Data<Registry>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let rows = web::block(move || organization::list(&registry, &caller.0)).await??;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Organization::from).collect::<Vec<_>>()))
}

/// One organization (state staff: any; others: their own; anything else is 404).
#[utoipa::path(
    get, path = "/organizations/{organization_id}", tag = "Organizations", operation_id = "readOrganization",
    params(("organization_id" = String, Path, description = "Organization id.")),
    responses(
        (status = 200, description = "The organization.", body = Organization),
        (status = 404, description = "No such organization (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/organizations/{organization_id}")]
pub async fn read_organization(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = web::block(move || organization::get(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(Organization::from(row)))
}

/// Enrols one facility.
#[utoipa::path(
    post, path = "/organizations/{organization_id}/facilities", tag = "Organizations", operation_id = "createFacility",
    params(("organization_id" = String, Path, description = "Organization id.")),
    request_body(content = FacilityInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Enrolled.", body = Facility),
        (status = 400, description = "Invalid input (each problem named).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not the organization's administrator.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such organization (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/organizations/{organization_id}/facilities")]
pub async fn create_facility(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<FacilityInput>,
) -> Result<HttpResponse, ApiError> {
    let facility = NewFacility::from(body.0);
    let mut rows =
        web::block(move || organization::enrol_facilities(&registry, &caller.0, &path, vec![facility], 1)).await??;
    let row = rows.pop().ok_or_else(|| {
        ApiError::http(StatusCode::INTERNAL_SERVER_ERROR, IssueType::Exception, "No facility was stored.")
    })?;
    Ok(created(Facility::from(row)))
}

/// Enrols many facilities at once: the facilities spreadsheet as CSV (`text/csv`: a header row
/// with name, site_code, address_line, city, state, postal_code, phone) or JSON. All or
/// nothing: when any row is wrong nothing is stored and every problem is reported with its row
/// number (the header is row 1) and column.
#[utoipa::path(
    post, path = "/organizations/{organization_id}/facilities/bulk", tag = "Organizations", operation_id = "enrolFacilities",
    params(("organization_id" = String, Path, description = "Organization id.")),
    request_body(content(
        (String = "text/csv", example = "name,site_code,address_line,city,state,postal_code,phone\nLakeside North,MN1001,1 Main St,Duluth,MN,55802,218-555-0100\n"),
        (FacilityBatch = "application/json"),
    )),
    responses(
        (status = 201, description = "All enrolled.", body = Vec<Facility>),
        (status = 400, description = "Per-row error report: one issue per problem, expression row[N].column; nothing stored.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not the organization's administrator.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such organization (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 413, description = "Larger than 4 MiB.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 415, description = "Neither text/csv nor application/json.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/organizations/{organization_id}/facilities/bulk")]
pub async fn enrol_facilities(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let media = media_type(&req);
    let body = read_limited(payload.into_inner(), MAX_CSV_BYTES).await?;
    let (facilities, first_row) = match media.as_str() {
        "text/csv" => {
            let text = std::str::from_utf8(&body).map_err(|_| {
                ApiError::http(StatusCode::BAD_REQUEST, IssueType::Invalid, "The spreadsheet is not UTF-8 text.")
            })?;
            (organization::parse_facilities_csv(text)?, 2)
        }
        "application/json" => {
            let batch: FacilityBatch = serde_json::from_slice(&body).map_err(|e| {
                ApiError::http(
                    StatusCode::BAD_REQUEST,
                    IssueType::Invalid,
                    format!("Invalid body: {}", first_sentence(&e.to_string())),
                )
            })?;
            (batch.facilities.into_iter().map(NewFacility::from).collect(), 1)
        }
        _ => {
            return Err(ApiError::http(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                IssueType::NotSupported,
                "Send text/csv or application/json.",
            ));
        }
    };
    let rows = web::block(move || organization::enrol_facilities(&registry, &caller.0, &path, facilities, first_row))
        .await??;
    Ok(created(rows.into_iter().map(Facility::from).collect::<Vec<_>>()))
}

/// The facilities of an organization.
#[utoipa::path(
    get, path = "/organizations/{organization_id}/facilities", tag = "Organizations", operation_id = "listFacilities",
    params(("organization_id" = String, Path, description = "Organization id.")),
    responses(
        (status = 200, description = "Facilities by name.", body = Vec<Facility>),
        (status = 404, description = "No such organization (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/organizations/{organization_id}/facilities")]
pub async fn list_facilities(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = web::block(move || organization::facilities(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Facility::from).collect::<Vec<_>>()))
}

/// Registers a system (EHR, portal) with its public keys and pre-authorized scopes.
#[utoipa::path(
    post, path = "/organizations/{organization_id}/clients", tag = "Organizations", operation_id = "registerClient",
    params(("organization_id" = String, Path, description = "Organization id.")),
    request_body(content = ClientInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered; use clientId as iss and sub of client assertions.", body = Client),
        (status = 400, description = "Invalid scopes or keys.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such organization (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/organizations/{organization_id}/clients")]
pub async fn register_client(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ClientInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let new = client::NewClient {
        name: input.name,
        role: input.role.into(),
        facility_id: input.facility_id,
        allowed_scopes: input.allowed_scopes,
        jwks: input.jwks,
    };
    let row = web::block(move || client::register(&registry, &caller.0, &path, new)).await??;
    Ok(created(Client::from(row)))
}

/// The registered systems of an organization.
#[utoipa::path(
    get, path = "/organizations/{organization_id}/clients", tag = "Organizations", operation_id = "listClients",
    params(("organization_id" = String, Path, description = "Organization id.")),
    responses(
        (status = 200, description = "Systems.", body = Vec<Client>),
        (status = 404, description = "No such organization (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/organizations/{organization_id}/clients")]
pub async fn list_clients(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = web::block(move || client::list(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Client::from).collect::<Vec<_>>()))
}

/// Deactivates a registered system; its tokens stop working on the next request.
#[utoipa::path(
    post, path = "/clients/{client_id}/deactivate", tag = "Organizations", operation_id = "deactivateClient",
    params(("client_id" = String, Path, description = "Client id.")),
    responses(
        (status = 204, description = "Deactivated."),
        (status = 404, description = "No such system (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/clients/{client_id}/deactivate")]
pub async fn deactivate_client(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    web::block(move || client::deactivate(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::NoContent().finish())
}
