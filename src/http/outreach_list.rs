//! Outreach lists computed on request (`/api/v1/lot-recalls`, `/api/v1/outbreak-lists`) and the
//! patient / provider status an organization keeps (`/api/v1/patients/{id}/provider-status`).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::admin::JsonBody;
use super::auth::Caller;
use super::error::ApiError;
use super::outreach_schema::{AgeInput, ContactView, DueGroupView, age_range, parse_date_field};
use super::privacy::rfc3339;
use super::schema;
use crate::domain::time::{Timestamp, format_date};
use crate::service::Registry;
use crate::service::outreach::lists::{self, LotRecallRequest, OutbreakRequest};
use crate::service::outreach::provider_status::{self, InactiveReason, ProviderStatusView};

/// What a lot recall looks for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LotRecallQuery {
    /// The lot number (compared ignoring case, accents and spacing).
    pub lot_number: String,
    /// MVX code of the manufacturer, e.g. `MSD`.
    pub manufacturer: Option<String>,
    /// Doses given on or after this date.
    #[param(format = "date")]
    pub from: Option<String>,
    /// Doses given on or before this date.
    #[param(format = "date")]
    pub to: Option<String>,
    /// Health department staff: only this organization's patients.
    pub organization_id: Option<String>,
}

/// A dose of the recalled lot.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecalledDoseView {
    pub immunization_id: String,
    #[schema(format = "date")]
    pub date: Option<String>,
    pub cvx: Option<String>,
    /// MVX code.
    pub manufacturer: Option<String>,
    pub lot_number: Option<String>,
    /// The organization that recorded the dose.
    pub recorded_by: Option<String>,
}

/// A person who received the lot.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LotRecallEntryView {
    pub contact: ContactView,
    pub deceased: bool,
    pub doses: Vec<RecalledDoseView>,
}

/// Everyone who received the lot.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LotRecallList {
    pub lot_number: String,
    /// People listed.
    pub count: usize,
    pub people: Vec<LotRecallEntryView>,
}

/// Everyone who received doses of a vaccine lot, with their contact details: the caller's
/// organization's patients, or anyone for health department staff. Opted-out people and records
/// locked to another provider are left out exactly as in a search. Audited with every person
/// listed.
#[utoipa::path(
    get, path = "/lot-recalls", tag = "Outreach", operation_id = "lotRecallList",
    params(LotRecallQuery),
    responses(
        (status = 200, description = "The people and their doses of the lot.", body = LotRecallList),
        (status = 400, description = "Missing lot number, bad dates.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach, or an organization asked for another's patients.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/lot-recalls")]
pub async fn lot_recall_list(
    registry: web::Data<Registry>,
    caller: Caller,
    query: web::Query<LotRecallQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let request = LotRecallRequest {
        lot_number: query.lot_number.clone(),
        manufacturer: query.manufacturer,
        from: query.from.as_deref().map(|d| parse_date_field(d, "from")).transpose()?,
        to: query.to.as_deref().map(|d| parse_date_field(d, "to")).transpose()?,
        organization_id: query.organization_id,
    };
    let entries = web::block(move || lists::lot_recall(&registry, &caller.0, request)).await??;
    let people: Vec<LotRecallEntryView> = entries
        .into_iter()
        .map(|entry| LotRecallEntryView {
            contact: entry.contact.into(),
            deceased: entry.deceased,
            doses: entry
                .doses
                .into_iter()
                .map(|dose| RecalledDoseView {
                    immunization_id: dose.immunization_id,
                    date: dose.date.map(format_date),
                    cvx: dose.cvx,
                    manufacturer: dose.manufacturer,
                    lot_number: dose.lot_number,
                    recorded_by: dose.recorded_by,
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(LotRecallList { lot_number: query.lot_number, count: people.len(), people }))
}

/// What an outbreak list looks for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutbreakInput {
    /// CDSi vaccine group, e.g. `MMR` for measles.
    #[schema(example = "MMR")]
    pub vaccine_group: String,
    /// Postal codes or prefixes of the outbreak area (at least one).
    pub postal_codes: Vec<String>,
    /// Youngest age included (inclusive).
    pub min_age: Option<AgeInput>,
    /// Oldest age included (inclusive, whole units).
    pub max_age: Option<AgeInput>,
    /// Health department staff: only this organization's patients.
    pub organization_id: Option<String>,
    /// The date to assess on (default today).
    #[schema(format = "date")]
    pub as_of: Option<String>,
}

/// A person not complete or immune for the vaccine group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutbreakEntryView {
    pub contact: ContactView,
    /// The CDSi status of the group: `Not complete`, `Aged out`, `Contraindicated`, `Not recommended`.
    #[schema(example = "Not complete")]
    pub status: String,
    /// The next dose, when the forecast gives one.
    pub next_dose: Option<DueGroupView>,
}

/// The people of the area and age band not protected.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutbreakList {
    pub vaccine_group: String,
    #[schema(format = "date")]
    pub as_of: String,
    pub count: usize,
    pub people: Vec<OutbreakEntryView>,
}

/// The people in a set of postal codes and an age band who are not complete or immune for a
/// vaccine group (e.g. measles: `MMR`), from the CDSi forecast of each. Deceased people are left
/// out; opt-out and locks apply exactly as in a search. Audited with every person listed.
#[utoipa::path(
    post, path = "/outbreak-lists", tag = "Outreach", operation_id = "outbreakList",
    request_body(content = OutbreakInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The people not protected.", body = OutbreakList),
        (status = 400, description = "Unknown vaccine group, no postal codes, bad age band.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach, or an organization asked for another's patients.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/outbreak-lists")]
pub async fn outbreak_list(
    registry: web::Data<Registry>,
    caller: Caller,
    body: JsonBody<OutbreakInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let as_of = input.as_of.as_deref().map(|d| parse_date_field(d, "asOf")).transpose()?;
    let request = OutbreakRequest {
        vaccine_group: input.vaccine_group.clone(),
        postal_codes: input.postal_codes,
        age: age_range(input.min_age, input.max_age),
        organization_id: input.organization_id,
        as_of,
    };
    let (as_of, entries) = web::block(move || lists::outbreak(&registry, &caller.0, request)).await??;
    let people: Vec<OutbreakEntryView> = entries
        .into_iter()
        .map(|entry| OutbreakEntryView {
            contact: entry.contact.into(),
            status: entry.status.label().to_owned(),
            next_dose: entry.next_dose.map(DueGroupView::from),
        })
        .collect();
    Ok(HttpResponse::Ok().json(OutbreakList {
        vaccine_group: input.vaccine_group,
        as_of: format_date(as_of),
        count: people.len(),
        people,
    }))
}

/// Why an organization no longer serves a person.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InactiveReasonInput {
    Moved,
    GoneElsewhere,
    Other,
}

/// Marks a person inactive (moved or gone elsewhere) or active again for the caller's
/// organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderStatusInput {
    /// `false`: no longer the organization's patient; `true`: its patient again.
    pub active: bool,
    /// Why (required when `active` is false).
    pub reason: Option<InactiveReasonInput>,
}

/// Whether the caller's organization serves a person.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    pub patient_id: String,
    pub organization_id: String,
    /// The organization counts the person among its patients; its reminder runs include them.
    pub active: bool,
    /// Why not, when marked inactive: `moved`, `gone-elsewhere` or `other`.
    pub reason: Option<String>,
    /// When it was last marked.
    #[schema(format = "date-time")]
    pub changed_at: Option<String>,
    /// Who marked it.
    pub changed_by: Option<String>,
}

impl From<ProviderStatusView> for ProviderStatus {
    fn from(view: ProviderStatusView) -> Self {
        ProviderStatus {
            patient_id: view.patient_id,
            organization_id: view.organization_id,
            active: view.active,
            reason: view.marked.as_ref().and_then(|m| m.reason.clone()),
            changed_at: view.marked.as_ref().map(|m| rfc3339(Timestamp(m.changed_at))),
            changed_by: view.marked.map(|m| m.changed_by),
        }
    }
}

/// Whether the caller's organization serves the person (it submitted them or their doses, and
/// has not marked them inactive).
#[utoipa::path(
    get, path = "/patients/{patient_id}/provider-status", tag = "Outreach", operation_id = "readProviderStatus",
    params(("patient_id" = String, Path, description = "Patient id.")),
    responses(
        (status = 200, description = "The status.", body = ProviderStatus),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such Patient, or hidden from the caller.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/patients/{patient_id}/provider-status")]
pub async fn read_provider_status(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = web::block(move || provider_status::read(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(ProviderStatus::from(view)))
}

/// Marks a person as no longer the organization's patient ("moved or gone elsewhere"), or as its
/// patient again. Only the organization's own status changes; audited.
#[utoipa::path(
    post, path = "/patients/{patient_id}/provider-status", tag = "Outreach", operation_id = "changeProviderStatus",
    params(("patient_id" = String, Path, description = "Patient id.")),
    request_body(content = ProviderStatusInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The status now.", body = ProviderStatus),
        (status = 400, description = "A reason missing (inactive) or given (active).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role may not change who the organization serves.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such Patient, or hidden from the caller.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The organization does not serve the person.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/patients/{patient_id}/provider-status")]
pub async fn change_provider_status(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ProviderStatusInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let reason = input.reason.map(|reason| match reason {
        InactiveReasonInput::Moved => InactiveReason::Moved,
        InactiveReasonInput::GoneElsewhere => InactiveReason::GoneElsewhere,
        InactiveReasonInput::Other => InactiveReason::Other,
    });
    let view = web::block(move || provider_status::change(&registry, &caller.0, &path, input.active, reason)).await??;
    Ok(HttpResponse::Ok().json(ProviderStatus::from(view)))
}
