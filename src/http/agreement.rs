//! `/api/v1` data use agreements: drafting, signing, termination, renewal, the expiring report
//! and the reminder outbox.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::admin::JsonBody;
use super::auth::Caller;
use super::error::ApiError;
use super::schema;
use crate::domain::agreement::{AgreementStatus, format_date};
use crate::service::Registry;
use crate::service::agreement::{self, AgreementContacts, AgreementView, Contact};

/// A person named in an agreement.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContactBody {
    /// Full name.
    #[schema(example = "Dana Reyes")]
    pub name: String,
    /// Title (required for the authorized representative).
    #[schema(example = "Clinic Director")]
    pub title: Option<String>,
    /// Phone (required for the authorized representative).
    #[schema(example = "612-555-0100")]
    pub phone: Option<String>,
    /// Email.
    #[schema(format = "email", example = "dana.reyes@example.org")]
    pub email: String,
}

/// The people an agreement names.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContactsBody {
    /// Signs for the organization; receives the expiry reminders.
    pub authorized_representative: ContactBody,
    /// The registry administrator of the organization.
    pub administrator: ContactBody,
    /// The immunization record contact.
    pub record_contact: ContactBody,
    /// The IT / data exchange contact.
    pub it_contact: ContactBody,
}

fn to_contact(body: ContactBody) -> Contact {
    Contact { name: body.name, title: body.title, phone: body.phone, email: body.email }
}

fn from_contact(contact: Contact) -> ContactBody {
    ContactBody { name: contact.name, title: contact.title, phone: contact.phone, email: contact.email }
}

/// An agreement to draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgreementInput {
    /// The contacts.
    pub contacts: ContactsBody,
    /// The id of the agreement this one renews (it then starts the day after that one ends).
    pub renews: Option<String>,
}

/// The signature of a pending agreement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActivationInput {
    /// The date it was signed (not in the future).
    #[schema(format = "date", example = "2026-11-01")]
    pub signed_on: String,
}

/// Notice of termination.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TerminationInput {
    /// The last day in force: at least 30 days from today (default: 30 days from today).
    #[schema(format = "date")]
    pub effective_on: Option<String>,
    /// Why.
    pub reason: String,
}

/// The status of an agreement today.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatusCode {
    /// Not signed, or a renewal waiting for its term.
    Pending,
    /// In force.
    Active,
    /// The term ended.
    Expired,
    /// Terminated.
    Terminated,
}

/// A data use agreement.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    /// Id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Status today.
    pub status: AgreementStatusCode,
    /// Signed on.
    #[schema(format = "date")]
    pub signed_on: Option<String>,
    /// First day in force.
    #[schema(format = "date")]
    pub starts_on: Option<String>,
    /// Last day of the three-year term.
    #[schema(format = "date")]
    pub ends_on: Option<String>,
    /// The agreement this one renews.
    pub renews: Option<String>,
    /// When notice of termination was given.
    #[schema(format = "date")]
    pub termination_notice_on: Option<String>,
    /// The last day in force after termination.
    #[schema(format = "date")]
    pub terminated_on: Option<String>,
    /// `state` or `organization`.
    pub termination_requested_by: Option<String>,
    /// Why it was terminated.
    pub termination_reason: Option<String>,
    /// The contacts.
    pub contacts: ContactsBody,
}

impl From<AgreementView> for Agreement {
    fn from(view: AgreementView) -> Self {
        let AgreementContacts { authorized_representative, administrator, record_contact, it_contact } = view.contacts;
        Agreement {
            id: view.row.id,
            organization_id: view.row.organization_id,
            status: match view.status {
                AgreementStatus::Pending => AgreementStatusCode::Pending,
                AgreementStatus::Active => AgreementStatusCode::Active,
                AgreementStatus::Expired => AgreementStatusCode::Expired,
                AgreementStatus::Terminated => AgreementStatusCode::Terminated,
            },
            signed_on: view.row.signed_on,
            starts_on: view.row.starts_on,
            ends_on: view.row.ends_on,
            renews: view.row.renews_agreement_id,
            termination_notice_on: view.row.termination_notice_on,
            terminated_on: view.row.terminated_on,
            termination_requested_by: view.row.termination_requested_by,
            termination_reason: view.row.termination_reason,
            contacts: ContactsBody {
                authorized_representative: from_contact(authorized_representative),
                administrator: from_contact(administrator),
                record_contact: from_contact(record_contact),
                it_contact: from_contact(it_contact),
            },
        }
    }
}

/// Drafts an agreement for an organization (state staff); it is pending until signed.
#[utoipa::path(
    post, path = "/organizations/{organization_id}/agreements", tag = "Agreements", operation_id = "createAgreement",
    params(("organization_id" = String, Path, description = "Organization id.")),
    request_body(content = AgreementInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Drafted (pending).", body = Agreement),
        (status = 400, description = "Missing or invalid contacts.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not state staff.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such organization.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/organizations/{organization_id}/agreements")]
pub async fn create_agreement(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AgreementInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let contacts = AgreementContacts {
        authorized_representative: to_contact(input.contacts.authorized_representative),
        administrator: to_contact(input.contacts.administrator),
        record_contact: to_contact(input.contacts.record_contact),
        it_contact: to_contact(input.contacts.it_contact),
    };
    let view = web::block(move || agreement::create(&registry, &caller.0, &path, contacts, input.renews)).await??;
    Ok(HttpResponse::Created().json(Agreement::from(view)))
}

/// The agreements of an organization, newest term first.
#[utoipa::path(
    get, path = "/organizations/{organization_id}/agreements", tag = "Agreements", operation_id = "listAgreements",
    params(("organization_id" = String, Path, description = "Organization id.")),
    responses(
        (status = 200, description = "Agreements.", body = Vec<Agreement>),
        (status = 404, description = "No such organization (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/organizations/{organization_id}/agreements")]
pub async fn list_agreements(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let views = web::block(move || agreement::list(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(views.into_iter().map(Agreement::from).collect::<Vec<_>>()))
}

/// One agreement.
#[utoipa::path(
    get, path = "/agreements/{agreement_id}", tag = "Agreements", operation_id = "readAgreement",
    params(("agreement_id" = String, Path, description = "Agreement id.")),
    responses(
        (status = 200, description = "The agreement.", body = Agreement),
        (status = 404, description = "No such agreement (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/agreements/{agreement_id}")]
pub async fn read_agreement(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = web::block(move || agreement::get(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(Agreement::from(view)))
}

/// Records the signature (state staff): in force for three years from the signing date, or,
/// for a renewal signed before the previous term ends, from the day after it ends (no gap).
#[utoipa::path(
    post, path = "/agreements/{agreement_id}/activate", tag = "Agreements", operation_id = "activateAgreement",
    params(("agreement_id" = String, Path, description = "Agreement id.")),
    request_body(content = ActivationInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Active (or pending its start, for a renewal).", body = Agreement),
        (status = 400, description = "Bad date.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not state staff.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such agreement.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "Not pending.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/agreements/{agreement_id}/activate")]
pub async fn activate_agreement(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ActivationInput>,
) -> Result<HttpResponse, ApiError> {
    let signed_on = body.0.signed_on;
    let view = web::block(move || agreement::activate(&registry, &caller.0, &path, &signed_on)).await??;
    Ok(HttpResponse::Ok().json(Agreement::from(view)))
}

/// Gives notice of termination (state staff, or the organization's administrator): access
/// ends after the effective date, at least 30 days away.
#[utoipa::path(
    post, path = "/agreements/{agreement_id}/terminate", tag = "Agreements", operation_id = "terminateAgreement",
    params(("agreement_id" = String, Path, description = "Agreement id.")),
    request_body(content = TerminationInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Terminated as of the effective date.", body = Agreement),
        (status = 400, description = "Less than 30 days' notice, or no reason.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such agreement (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "Not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/agreements/{agreement_id}/terminate")]
pub async fn terminate_agreement(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<TerminationInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let view = web::block(move || {
        agreement::terminate(&registry, &caller.0, &path, input.effective_on.as_deref(), &input.reason)
    })
    .await??;
    Ok(HttpResponse::Ok().json(Agreement::from(view)))
}

/// The window of the expiring report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpiringQuery {
    /// Days from today (default 90, at most 1098).
    #[param(minimum = 0, maximum = 1098)]
    pub within_days: Option<u32>,
}

/// One line of the expiring report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringAgreement {
    /// The agreement.
    pub agreement: Agreement,
    /// Days left in the term.
    pub days_left: i64,
    /// Whether a renewal is signed already.
    pub renewal_signed: bool,
}

/// Agreements ending within the window.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringReport {
    /// The day of the report.
    #[schema(format = "date")]
    pub as_of: String,
    /// The window.
    pub within_days: u32,
    /// How many agreements end in the window.
    pub count: usize,
    /// How many of those have no signed renewal.
    pub without_renewal: usize,
    /// The agreements, soonest end first.
    pub agreements: Vec<ExpiringAgreement>,
}

/// Active agreements that end within N days (state staff): "733 expire in the next three
/// months" at a glance.
#[utoipa::path(
    get, path = "/agreements/expiring", tag = "Agreements", operation_id = "expiringAgreements",
    params(ExpiringQuery),
    responses(
        (status = 200, description = "The report.", body = ExpiringReport),
        (status = 400, description = "Bad window.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not state staff.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/agreements/expiring")]
pub async fn expiring_agreements(
    registry: web::Data<Registry>,
    caller: Caller,
    query: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, ApiError> {
    let within = query.within_days.unwrap_or(90);
    let report = web::block(move || agreement::expiring(&registry, &caller.0, within)).await??;
    let as_of = report.as_of;
    let agreements: Vec<ExpiringAgreement> = report
        .agreements
        .into_iter()
        .map(|(view, renewal_signed)| {
            let days_left = view
                .row
                .ends_on
                .as_deref()
                .and_then(crate::domain::agreement::parse_date)
                .map_or(0, |end| (end - as_of).whole_days());
            ExpiringAgreement { agreement: Agreement::from(view), days_left, renewal_signed }
        })
        .collect();
    Ok(HttpResponse::Ok().json(ExpiringReport {
        as_of: format_date(as_of),
        within_days: report.within_days,
        count: agreements.len(),
        without_renewal: agreements.iter().filter(|a| !a.renewal_signed).count(),
        agreements,
    }))
}

/// A queued expiry reminder.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// Id.
    pub id: String,
    /// 90, 60, 30 or 7.
    pub days_before: i32,
    /// Recipient (the authorized representative).
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Queued at.
    #[schema(format = "date-time")]
    pub queued_at: String,
    /// Sent at.
    #[schema(format = "date-time")]
    pub sent_at: Option<String>,
    /// Delivery attempts.
    pub attempts: i32,
}

/// The expiry reminders queued for an agreement (state staff).
#[utoipa::path(
    get, path = "/agreements/{agreement_id}/notices", tag = "Agreements", operation_id = "agreementNotices",
    params(("agreement_id" = String, Path, description = "Agreement id.")),
    responses(
        (status = 200, description = "Notices, most urgent last.", body = Vec<Notice>),
        (status = 403, description = "Not state staff.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/agreements/{agreement_id}/notices")]
pub async fn agreement_notices(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = web::block(move || agreement::notices(&registry, &caller.0, &path)).await??;
    let notices: Vec<Notice> = rows
        .into_iter()
        .map(|row| Notice {
            id: row.id,
            days_before: row.days_before,
            recipient: row.recipient,
            subject: row.subject,
            queued_at: super::admin::instant(row.queued_at),
            sent_at: row.sent_at.map(super::admin::instant),
            attempts: row.attempts,
        })
        .collect();
    Ok(HttpResponse::Ok().json(notices))
}
