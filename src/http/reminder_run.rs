//! `/api/v1/reminder-runs`: reminder / recall runs. `POST` answers 202 with the run's status URL;
//! the run is computed in the background; its notices are then served as JSON pages, CSV and
//! printable letters (PDF), and marked sent so they are not repeated.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::admin::JsonBody;
use super::auth::Caller;
use super::error::ApiError;
use super::outreach_schema::{AgeInput, ContactView, DueGroupView, age_range, parse_date_field};
use super::privacy::rfc3339;
use super::schema;
use crate::domain::outreach::{Exclusions, NoticeKind, RunRecord, SendMethod, StoredNotice};
use crate::domain::time::format_date;
use crate::service::Registry;
use crate::service::outreach::reminder_run::{self, RunRequest};

/// A request for a reminder / recall run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReminderRunInput {
    /// Health department staff: run for this organization's patients. Leave out to run for the
    /// state (narrowed by `postalCodes`). Other callers always run for their own organization.
    pub organization_id: Option<String>,
    /// Postal codes or prefixes of the region (`551` covers `55101`...); empty: anywhere.
    #[serde(default)]
    pub postal_codes: Vec<String>,
    /// Youngest age included (inclusive), e.g. 19 months.
    pub min_age: Option<AgeInput>,
    /// Oldest age included (inclusive, in whole units), e.g. 35 months.
    pub max_age: Option<AgeInput>,
    /// CDSi vaccine groups (`MMR`, `DTaP/Tdap/Td`, `HPV`, ...); empty: every group.
    #[serde(default)]
    pub vaccine_groups: Vec<String>,
    /// Reminders: a dose whose recommended date is within this many days (or has passed while
    /// the dose is not yet past due). Leave out for no reminders.
    #[schema(minimum = 0, maximum = 366, example = 30)]
    pub reminder_within_days: Option<u32>,
    /// Recalls: a dose past due for at least this many days (0: any past-due dose). Leave out for
    /// no recalls.
    #[schema(minimum = 0, maximum = 3660, example = 0)]
    pub recall_overdue_days: Option<u32>,
    /// The date to compute the run for (default today; within a year of today).
    #[schema(format = "date")]
    pub as_of: Option<String>,
    /// Vaccine groups notified within this many days are not notified again (default 30).
    #[schema(minimum = 0, maximum = 3660)]
    pub repeat_interval_days: Option<u32>,
}

/// A run's criteria as stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunCriteriaView {
    /// `organization` (the patients it serves) or `state`.
    #[schema(example = "organization")]
    pub population: String,
    /// The organization whose patients are looked at (population `organization`).
    pub organization_id: Option<String>,
    pub postal_codes: Vec<String>,
    pub min_age: Option<AgeInput>,
    pub max_age: Option<AgeInput>,
    pub vaccine_groups: Vec<String>,
    pub reminder_within_days: Option<u32>,
    pub recall_overdue_days: Option<u32>,
    #[schema(format = "date")]
    pub as_of: String,
    pub repeat_interval_days: u32,
}

/// People of the population left out, by reason.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionsView {
    pub deceased: u64,
    pub opted_out: u64,
    pub reminders_declined: u64,
    /// Locked to another provider (a state run leaves every locked record to its provider).
    pub locked_elsewhere: u64,
    /// Just outside the age band (the database narrows by birth date first).
    pub out_of_age_band: u64,
    /// Due only for vaccine groups notified within the repeat interval.
    pub recently_notified: u64,
    /// No full birth date.
    pub unusable: u64,
}

impl From<Exclusions> for ExclusionsView {
    fn from(e: Exclusions) -> Self {
        ExclusionsView {
            deceased: e.deceased,
            opted_out: e.opted_out,
            reminders_declined: e.reminders_declined,
            locked_elsewhere: e.locked_elsewhere,
            out_of_age_band: e.out_of_age_band,
            recently_notified: e.recently_notified,
            unusable: e.unusable,
        }
    }
}

/// Where to fetch a run's status and results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunLinks {
    #[serde(rename = "self")]
    pub self_link: String,
    pub notices: String,
    pub csv: String,
    pub letters: String,
}

/// A reminder / recall run: criteria, progress and counts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReminderRunView {
    pub id: String,
    /// `queued`, `running`, `completed` or `failed`.
    #[schema(example = "completed")]
    pub status: String,
    /// The organization that requested it.
    pub organization_id: String,
    pub facility_id: Option<String>,
    /// The user or system that requested it.
    pub requested_by: String,
    pub criteria: RunCriteriaView,
    /// People in the population (known once the run starts).
    pub patients_total: Option<i64>,
    pub patients_processed: i64,
    /// Notices that are reminders (nothing overdue).
    pub reminders: i64,
    /// Notices that are recalls (something overdue).
    pub recalls: i64,
    pub exclusions: ExclusionsView,
    /// Why a failed run failed.
    pub error: Option<String>,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub started_at: Option<String>,
    #[schema(format = "date-time")]
    pub finished_at: Option<String>,
    pub links: RunLinks,
}

fn run_view(run: RunRecord) -> ReminderRunView {
    use crate::domain::outreach::Population;
    let base = format!("/api/v1/reminder-runs/{}", run.id);
    let criteria = &run.criteria;
    let (population, organization_id) = match &criteria.population {
        Population::Organization { organization_id } => ("organization", Some(organization_id.clone())),
        Population::State => ("state", None),
    };
    ReminderRunView {
        status: run.status.as_str().to_owned(),
        organization_id: run.organization_id,
        facility_id: run.facility_id,
        requested_by: run.requested_by,
        criteria: RunCriteriaView {
            population: population.to_owned(),
            organization_id,
            postal_codes: criteria.postal_codes.clone(),
            min_age: criteria.age.min.map(AgeInput::from),
            max_age: criteria.age.max.map(AgeInput::from),
            vaccine_groups: criteria.vaccine_groups.clone(),
            reminder_within_days: criteria.reminder_within_days,
            recall_overdue_days: criteria.recall_overdue_days,
            as_of: format_date(criteria.as_of),
            repeat_interval_days: criteria.repeat_interval_days,
        },
        patients_total: run.patients_total,
        patients_processed: run.patients_processed,
        reminders: run.reminders,
        recalls: run.recalls,
        exclusions: run.exclusions.into(),
        error: run.error,
        created_at: rfc3339(run.created_at),
        started_at: run.started_at.map(rfc3339),
        finished_at: run.finished_at.map(rfc3339),
        links: RunLinks {
            notices: format!("{base}/notices"),
            csv: format!("{base}/notices.csv"),
            letters: format!("{base}/letters.pdf"),
            self_link: base,
        },
        id: run.id,
    }
}

/// Requests a reminder / recall run. Answers 202 at once with the status URL (`Location`); the
/// run is computed in the background, one at a time. The population is the patients the
/// caller's organization serves (it submitted them or their immunizations, and has not marked
/// them inactive), or for health department staff a region or the state. Left out: deceased,
/// opted out, reminders declined, locked to another provider, and vaccine groups notified
/// within the repeat interval.
#[utoipa::path(
    post, path = "/reminder-runs", tag = "Outreach", operation_id = "requestReminderRun",
    request_body(content = ReminderRunInput, content_type = "application/json"),
    responses(
        (status = 202, description = "Queued; poll the Location URL.", body = ReminderRunView,
            headers(("Location" = String, description = "The run's status URL."))),
        (status = 400, description = "Bad criteria (unknown vaccine group, bad postal code, bad age band, neither reminders nor recalls).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach (schools and child care never), or an organization asked for another's patients.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/reminder-runs")]
pub async fn request_reminder_run(
    registry: web::Data<Registry>,
    caller: Caller,
    body: JsonBody<ReminderRunInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let request = RunRequest {
        organization_id: input.organization_id,
        postal_codes: input.postal_codes,
        age: age_range(input.min_age, input.max_age),
        vaccine_groups: input.vaccine_groups,
        reminder_within_days: input.reminder_within_days,
        recall_overdue_days: input.recall_overdue_days,
        as_of: input.as_of.as_deref().map(|d| parse_date_field(d, "asOf")).transpose()?,
        repeat_interval_days: input.repeat_interval_days,
    };
    let run = web::block(move || reminder_run::request(&registry, &caller.0, request)).await??;
    let view = run_view(run);
    Ok(HttpResponse::Accepted().insert_header((header::LOCATION, view.links.self_link.clone())).json(view))
}

/// The runs of the caller's organization (every run for health department staff), newest first.
#[utoipa::path(
    get, path = "/reminder-runs", tag = "Outreach", operation_id = "listReminderRuns",
    responses(
        (status = 200, description = "The runs (at most 200).", body = Vec<ReminderRunView>),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/reminder-runs")]
pub async fn list_reminder_runs(registry: web::Data<Registry>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let runs = web::block(move || reminder_run::list(&registry, &caller.0)).await??;
    Ok(HttpResponse::Ok().json(runs.into_iter().map(run_view).collect::<Vec<_>>()))
}

/// A run's status, progress and counts.
#[utoipa::path(
    get, path = "/reminder-runs/{run_id}", tag = "Outreach", operation_id = "readReminderRun",
    params(("run_id" = String, Path, description = "Run id.")),
    responses(
        (status = 200, description = "The run.", body = ReminderRunView),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such run, or another organization's.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/reminder-runs/{run_id}")]
pub async fn read_reminder_run(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let run = web::block(move || reminder_run::status(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(run_view(run)))
}

/// Deletes a finished run and its notices. The record of notices sent stays, so the next run
/// still does not repeat them.
#[utoipa::path(
    delete, path = "/reminder-runs/{run_id}", tag = "Outreach", operation_id = "deleteReminderRun",
    params(("run_id" = String, Path, description = "Run id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such run, or another organization's.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run is still being computed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[delete("/reminder-runs/{run_id}")]
pub async fn delete_reminder_run(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    web::block(move || reminder_run::delete(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::NoContent().finish())
}

/// Paging of a run's notices.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NoticesQuery {
    /// Only reminders or only recalls.
    #[param(inline)]
    pub kind: Option<NoticeKindParam>,
    /// Continue after this notice number (from the `next` link).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Notices per page (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub count: Option<i64>,
}

/// A notice kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKindParam {
    Reminder,
    Recall,
}

impl From<NoticeKindParam> for NoticeKind {
    fn from(kind: NoticeKindParam) -> Self {
        match kind {
            NoticeKindParam::Reminder => NoticeKind::Reminder,
            NoticeKindParam::Recall => NoticeKind::Recall,
        }
    }
}

/// How a notice was sent.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SendMethodParam {
    Letter,
    Phone,
    Email,
    Text,
    Portal,
}

impl From<SendMethodParam> for SendMethod {
    fn from(method: SendMethodParam) -> Self {
        match method {
            SendMethodParam::Letter => SendMethod::Letter,
            SendMethodParam::Phone => SendMethod::Phone,
            SendMethodParam::Email => SendMethod::Email,
            SendMethodParam::Text => SendMethod::Text,
            SendMethodParam::Portal => SendMethod::Portal,
        }
    }
}

/// A notice's sending record.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// Times it was marked sent.
    pub attempts: i32,
    #[schema(format = "date")]
    pub last_sent_on: Option<String>,
    /// `letter`, `phone`, `email`, `text` or `portal`.
    pub last_method: Option<String>,
}

/// One notice: who, how to reach them, what is due or overdue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeView {
    /// 1, 2, ... within the run.
    pub number: i64,
    /// `recall` when any vaccine group is overdue, else `reminder`.
    #[schema(example = "recall")]
    pub kind: String,
    pub contact: ContactView,
    pub vaccine_groups: Vec<DueGroupView>,
    /// Notices with the same key go to one household (one letter).
    pub family_key: String,
    pub delivery: DeliveryView,
}

fn notice_view(stored: StoredNotice) -> NoticeView {
    let notice = stored.notice;
    NoticeView {
        number: notice.number,
        kind: notice.kind.as_str().to_owned(),
        contact: notice.contact.into(),
        vaccine_groups: notice.vaccine_groups.into_iter().map(DueGroupView::from).collect(),
        family_key: notice.family_key,
        delivery: DeliveryView {
            attempts: stored.delivery.attempts,
            last_sent_on: stored.delivery.last_sent_on.map(format_date),
            last_method: stored.delivery.last_method.map(|m| m.as_str().to_owned()),
        },
    }
}

/// A page of notices.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticePageView {
    pub run_id: String,
    /// Notices in the whole run (both kinds).
    pub total: i64,
    pub notices: Vec<NoticeView>,
    /// The next page, when there is one.
    pub next: Option<String>,
}

/// A completed run's notices, a page at a time, in notice order.
#[utoipa::path(
    get, path = "/reminder-runs/{run_id}/notices", tag = "Outreach", operation_id = "listReminderNotices",
    params(("run_id" = String, Path, description = "Run id."), NoticesQuery),
    responses(
        (status = 200, description = "A page of notices.", body = NoticePageView),
        (status = 400, description = "Bad paging parameters.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such run, or another organization's.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run has not completed (queued, running or failed).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/reminder-runs/{run_id}/notices")]
pub async fn list_reminder_notices(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<NoticesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let run_id = path.into_inner();
    let kind = query.kind.map(NoticeKind::from);
    let count = query.count.unwrap_or(100);
    let after = query.after.unwrap_or(0);
    let id = run_id.clone();
    let page = web::block(move || reminder_run::notices(&registry, &caller.0, &id, kind, after, count)).await??;
    let next = page.next_after.map(|after| {
        let mut link = format!("/api/v1/reminder-runs/{run_id}/notices?after={after}&count={count}");
        if let Some(kind) = kind {
            link.push_str("&kind=");
            link.push_str(kind.as_str());
        }
        link
    });
    Ok(HttpResponse::Ok().json(NoticePageView {
        total: page.run.reminders + page.run.recalls,
        run_id,
        notices: page.notices.into_iter().map(notice_view).collect(),
        next,
    }))
}

/// A completed run's notices as CSV (one row per notice), for mail merge and autodialers.
#[utoipa::path(
    get, path = "/reminder-runs/{run_id}/notices.csv", tag = "Outreach", operation_id = "downloadReminderNoticesCsv",
    params(("run_id" = String, Path, description = "Run id.")),
    responses(
        (status = 200, description = "Header row, then one row per notice.", body = String, content_type = "text/csv"),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such run, or another organization's.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run has not completed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/reminder-runs/{run_id}/notices.csv")]
pub async fn download_reminder_notices_csv(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let run_id = path.into_inner();
    let name = format!("attachment; filename=\"reminder-run-{run_id}.csv\"");
    let bytes = web::block(move || reminder_run::csv(&registry, &caller.0, &run_id)).await??;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, name))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// A completed run's printable letters: PDF, one page per family, plain language, nothing
/// sensitive.
#[utoipa::path(
    get, path = "/reminder-runs/{run_id}/letters.pdf", tag = "Outreach", operation_id = "downloadReminderLetters",
    params(("run_id" = String, Path, description = "Run id.")),
    responses(
        (status = 200, description = "The letters.", body = Vec<u8>, content_type = "application/pdf"),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such run, or another organization's.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run has not completed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/reminder-runs/{run_id}/letters.pdf")]
pub async fn download_reminder_letters(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let run_id = path.into_inner();
    let name = format!("attachment; filename=\"reminder-letters-{run_id}.pdf\"");
    let bytes = web::block(move || reminder_run::letters(&registry, &caller.0, &run_id)).await??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::CONTENT_DISPOSITION, name))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// Notices marked sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MarkSentInput {
    /// How they were sent.
    pub method: SendMethodParam,
    /// When (default today; not in the future).
    #[schema(format = "date")]
    pub sent_on: Option<String>,
    /// Notice numbers; leave out to mark every notice of the run.
    pub notices: Option<Vec<i64>>,
}

/// How many notices were marked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkSentResult {
    pub marked: usize,
}

/// Records that notices were sent: one more attempt each, with the method and date; their
/// vaccine groups are not notified again within the repeat interval of later runs.
#[utoipa::path(
    post, path = "/reminder-runs/{run_id}/notices/sent", tag = "Outreach", operation_id = "markReminderNoticesSent",
    params(("run_id" = String, Path, description = "Run id.")),
    request_body(content = MarkSentInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Marked.", body = MarkSentResult),
        (status = 400, description = "Unknown notice numbers, a future date, a bad method.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or scopes do not allow outreach.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such run, or another organization's.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The run has not completed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/reminder-runs/{run_id}/notices/sent")]
pub async fn mark_reminder_notices_sent(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<MarkSentInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let sent_on = input.sent_on.as_deref().map(|d| parse_date_field(d, "sentOn")).transpose()?;
    let method = SendMethod::from(input.method);
    let marked =
        web::block(move || reminder_run::mark_sent(&registry, &caller.0, &path, input.notices, method, sent_on))
            .await??;
    Ok(HttpResponse::Ok().json(MarkSentResult { marked }))
}
