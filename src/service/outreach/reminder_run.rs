//! Reminder / recall runs: requested by an organization for the people it serves, or by state
//! staff for a region or the whole state; computed in the background (one run at a time, on
//! every core); results kept until deleted; notices marked sent so they are not repeated.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use time::{Date, Duration};

use super::super::audit::{AuditRecord, append_in};
use super::super::resource::{audit_failure, audit_outcome};
use super::super::{Registry, ServiceError, access};
use super::population::{self, Exclusion, Screening};
use crate::domain::access::Principal;
use crate::domain::outreach::{
    AgeRange, Exclusions, Notice, NoticeDelivery, NoticeKind, Population, RunCriteria, RunRecord, RunStatus,
    SendMethod, StoredNotice,
};
use crate::domain::time::{Timestamp, format_date, parse_date, today};
use crate::outreach::contact::family_key;
use crate::outreach::due::{DueOutcome, due_groups};
use crate::store::outreach::{self as outreach_store, ContactRow, NoticeRow, RunProgress, RunRow};
use crate::store::{Database, StoreError};

/// The repeat interval when a request names none.
pub const DEFAULT_REPEAT_INTERVAL_DAYS: u32 = 30;
/// Most notices per page of the JSON listing.
pub const MAX_PAGE: i64 = 1_000;
/// Runs listed at most.
const MAX_RUNS_LISTED: i64 = 200;

/// What a caller asks a run for (validated here).
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// State staff: run for this organization's patients instead of a region / the state.
    pub organization_id: Option<String>,
    pub postal_codes: Vec<String>,
    pub age: AgeRange,
    pub vaccine_groups: Vec<String>,
    pub reminder_within_days: Option<u32>,
    pub recall_overdue_days: Option<u32>,
    pub as_of: Option<Date>,
    pub repeat_interval_days: Option<u32>,
}

/// The single background worker that computes runs, in the order they were requested.
#[derive(Debug)]
pub struct RunQueue {
    sender: Sender<String>,
}

impl RunQueue {
    /// Fails runs a previous process left unfinished, and starts the worker.
    pub fn start(database: Arc<Database>) -> Result<Self, StoreError> {
        let interrupted = database.write(|conn| outreach_store::fail_interrupted_runs(conn, Timestamp::now()))?;
        if interrupted > 0 {
            tracing::warn!(runs = interrupted, "reminder runs interrupted by a restart were marked failed");
        }
        let (sender, receiver) = channel::<String>();
        std::thread::Builder::new()
            .name("reminder-runs".to_owned())
            .spawn(move || work(&database, &receiver))
            .map_err(|e| StoreError::Corrupt(format!("cannot start the reminder worker: {e}")))?;
        Ok(RunQueue { sender })
    }

    fn submit(&self, run_id: String) -> Result<(), ServiceError> {
        self.sender.send(run_id).map_err(|_| ServiceError::Configuration("the reminder worker has stopped".to_owned()))
    }
}

/// The worker loop: ends when the registry (and its sender) is dropped.
fn work(database: &Database, receiver: &Receiver<String>) {
    while let Ok(run_id) = receiver.recv() {
        let started = std::time::Instant::now();
        // A bug must not leave the run "running" forever, nor stop the worker for later runs.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(database, &run_id)))
            .unwrap_or_else(|_| Err(ServiceError::Configuration("the run stopped on an internal error".to_owned())));
        let at = Timestamp::now();
        let finished = match &outcome {
            Ok(()) => database.write({
                let run_id = run_id.clone();
                move |conn| outreach_store::finish_run(conn, &run_id, RunStatus::Completed, None, at)
            }),
            Err(error) => {
                tracing::error!(run = %run_id, error = %error, "reminder run failed");
                let message = match error {
                    ServiceError::Store(_) | ServiceError::Configuration(_) => {
                        "The run failed on the server; request it again.".to_owned()
                    }
                    other => other.to_string(),
                };
                database.write({
                    let run_id = run_id.clone();
                    move |conn| outreach_store::finish_run(conn, &run_id, RunStatus::Failed, Some(&message), at)
                })
            }
        };
        if let Err(error) = finished {
            tracing::error!(run = %run_id, error = %error, "cannot record the end of a reminder run");
        }
        tracing::info!(run = %run_id, elapsed_ms = started.elapsed().as_millis(), ok = outcome.is_ok(), "reminder run finished");
    }
}

fn exclusions_json(exclusions: &Exclusions) -> String {
    serde_json::to_string(exclusions).unwrap_or_else(|_| "{}".to_owned())
}

/// Computes a run: reads the population in batches, screens and forecasts each batch on every
/// core, and stores the batch's notices with the progress.
fn execute(database: &Database, run_id: &str) -> Result<(), ServiceError> {
    let engine = super::super::forecast::engine()?;
    let Some(row) = database.read(|conn| outreach_store::run(conn, run_id))? else { return Ok(()) };
    let record = run_record(row)?;
    let criteria = record.criteria.clone();
    let requester = access::RunRequester {
        organization_id: record.organization_id.clone(),
        facility_id: record.facility_id.clone(),
        state: criteria.population == Population::State,
    };
    let query = population::population_query(&criteria, Vec::new());
    let total = database.read(|conn| outreach_store::count_population(conn, &query))?;
    database.write({
        let run_id = run_id.to_owned();
        move |conn| outreach_store::start_run(conn, &run_id, total, Timestamp::now())
    })?;
    let screening = Screening { age: &criteria.age, as_of: criteria.as_of, requester: Some(&requester) };
    let since = criteria
        .as_of
        .checked_sub(Duration::days(i64::from(criteria.repeat_interval_days)))
        .map_or_else(String::new, format_date);
    let mut exclusions = Exclusions::default();
    let (mut processed, mut reminders, mut recalls, mut number) = (0i64, 0i64, 0i64, 0i64);
    population::for_each_batch(database, &query, Some(&since), |candidates, facts| {
        let outcomes = population::parallel_map(candidates, |candidate| {
            population::screen(engine, &screening, candidate, facts).map(|member| {
                let due = due_groups(&member.assessment, &criteria, facts.recently_notified.get(&candidate.id));
                (member.facts, due)
            })
        })?;
        let mut rows = Vec::new();
        for outcome in outcomes {
            match outcome {
                Err(exclusion) => count(&mut exclusions, exclusion),
                Ok((_, DueOutcome::NothingDue)) => {}
                Ok((_, DueOutcome::OnlyRecentlyNotified)) => exclusions.recently_notified += 1,
                Ok((facts, DueOutcome::Notice { kind, groups })) => {
                    number += 1;
                    match kind {
                        NoticeKind::Reminder => reminders += 1,
                        NoticeKind::Recall => recalls += 1,
                    }
                    let notice = Notice {
                        number,
                        kind,
                        family_key: family_key(&facts.contact),
                        contact: facts.contact,
                        vaccine_groups: groups,
                    };
                    rows.push(NoticeRow {
                        run_id: run_id.to_owned(),
                        number,
                        patient_id: notice.contact.patient_id.clone(),
                        kind: kind.as_str().to_owned(),
                        notice_json: serde_json::to_string(&notice)
                            .map_err(|e| ServiceError::Configuration(format!("notice not serializable: {e}")))?,
                        attempts: 0,
                        last_sent_on: None,
                        last_method: None,
                    });
                }
            }
        }
        processed += i64::try_from(candidates.len()).unwrap_or(i64::MAX);
        let progress_json = exclusions_json(&exclusions);
        let run_id = run_id.to_owned();
        let (p, r, c) = (processed, reminders, recalls);
        database.write(move |conn| {
            outreach_store::insert_notices(conn, &rows)?;
            outreach_store::record_progress(
                conn,
                &run_id,
                &RunProgress { patients_processed: p, reminders: r, recalls: c, exclusions_json: &progress_json },
            )?;
            Ok::<_, ServiceError>(())
        })
    })
}

fn count(exclusions: &mut Exclusions, exclusion: Exclusion) {
    let counter = match exclusion {
        Exclusion::Unusable => &mut exclusions.unusable,
        Exclusion::OutOfAgeBand => &mut exclusions.out_of_age_band,
        Exclusion::OptedOut => &mut exclusions.opted_out,
        Exclusion::LockedElsewhere => &mut exclusions.locked_elsewhere,
        Exclusion::RemindersDeclined => &mut exclusions.reminders_declined,
        Exclusion::Deceased => &mut exclusions.deceased,
    };
    *counter += 1;
}

fn record_for(principal: &Principal, action: &str, run_id: Option<&str>) -> AuditRecord {
    let mut record = AuditRecord::by(principal, action).on("ReminderRun");
    if let Some(id) = run_id {
        record.resource_ids = vec![id.chars().take(64).collect()];
    }
    record
}

/// Requests a run: stored as queued and handed to the worker. Audited.
pub fn request(registry: &Registry, principal: &Principal, request: RunRequest) -> Result<RunRecord, ServiceError> {
    let run_id = uuid::Uuid::now_v7().to_string();
    let record = record_for(principal, "reminder-run-request", Some(&run_id));
    let result = (|| {
        access::check_outreach(principal)?;
        let mut request = request;
        population::check_common(&mut request.postal_codes, &request.age, &request.vaccine_groups)?;
        if request.reminder_within_days.is_none() && request.recall_overdue_days.is_none() {
            return Err(ServiceError::invalid(
                "reminderWithinDays",
                "Ask for reminders (reminderWithinDays), recalls (recallOverdueDays) or both.",
            ));
        }
        if request.reminder_within_days.is_some_and(|d| d > 366)
            || request.recall_overdue_days.is_some_and(|d| d > 3660)
        {
            return Err(ServiceError::invalid(
                "reminderWithinDays",
                "reminderWithinDays is at most 366 and recallOverdueDays at most 3660.",
            ));
        }
        let today = today();
        let as_of = request.as_of.unwrap_or(today);
        if (as_of - today).whole_days().abs() > 366 {
            return Err(ServiceError::invalid("asOf", "asOf is within a year of today."));
        }
        let criteria = RunCriteria {
            population: population::population_for(principal, request.organization_id.as_deref())?,
            postal_codes: request.postal_codes,
            age: request.age,
            vaccine_groups: request.vaccine_groups,
            reminder_within_days: request.reminder_within_days,
            recall_overdue_days: request.recall_overdue_days,
            as_of,
            repeat_interval_days: request.repeat_interval_days.unwrap_or(DEFAULT_REPEAT_INTERVAL_DAYS),
        };
        let row = RunRow {
            id: run_id.clone(),
            organization_id: principal.organization_id.clone(),
            facility_id: principal.facility_id.clone(),
            requested_by: principal.subject.clone(),
            criteria_json: serde_json::to_string(&criteria)
                .map_err(|e| ServiceError::Configuration(format!("criteria not serializable: {e}")))?,
            status: RunStatus::Queued.as_str().to_owned(),
            patients_total: None,
            patients_processed: 0,
            reminders: 0,
            recalls: 0,
            exclusions_json: exclusions_json(&Exclusions::default()),
            error: None,
            created_at: Timestamp::now().0,
            started_at: None,
            finished_at: None,
        };
        let mut audit = record.clone();
        audit.query = Some(row.criteria_json.chars().take(2000).collect());
        let stored = row.clone();
        registry.database().write(move |conn| {
            outreach_store::insert_run(conn, &stored)?;
            append_in(conn, vec![audit])?;
            Ok::<_, ServiceError>(())
        })?;
        registry.runs().submit(run_id.clone())?;
        run_record(row)
    })();
    audit_failure(registry, record, &result);
    result
}

/// Reads a stored run row into the domain record.
fn run_record(row: RunRow) -> Result<RunRecord, ServiceError> {
    let corrupt = |what: &str| ServiceError::Store(StoreError::Corrupt(format!("reminder run {}: {what}", row.id)));
    let criteria: RunCriteria = serde_json::from_str(&row.criteria_json).map_err(|_| corrupt("criteria"))?;
    let exclusions: Exclusions = serde_json::from_str(&row.exclusions_json).map_err(|_| corrupt("exclusions"))?;
    let status = RunStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
    Ok(RunRecord {
        id: row.id,
        organization_id: row.organization_id,
        facility_id: row.facility_id,
        requested_by: row.requested_by,
        criteria,
        status,
        patients_total: row.patients_total,
        patients_processed: row.patients_processed,
        reminders: row.reminders,
        recalls: row.recalls,
        exclusions,
        error: row.error,
        created_at: Timestamp(row.created_at),
        started_at: row.started_at.map(Timestamp),
        finished_at: row.finished_at.map(Timestamp),
    })
}

/// A run the caller may see (its organization's, or any for state staff); 404 otherwise.
fn visible_run(registry: &Registry, principal: &Principal, run_id: &str) -> Result<RunRecord, ServiceError> {
    access::check_outreach(principal)?;
    let row = registry.database().read(|conn| outreach_store::run(conn, run_id))?;
    match row {
        Some(row) if access::may_manage_run(principal, &row.organization_id) => run_record(row),
        _ => Err(ServiceError::NotFoundNamed(format!("No reminder run {run_id}."))),
    }
}

/// A run's status and progress.
pub fn status(registry: &Registry, principal: &Principal, run_id: &str) -> Result<RunRecord, ServiceError> {
    let record = record_for(principal, "reminder-run-read", Some(run_id));
    let result = visible_run(registry, principal, run_id);
    audit_outcome(registry, record, &result, |_, _| {});
    result
}

/// The caller's organization's runs (all runs for state staff), newest first.
pub fn list(registry: &Registry, principal: &Principal) -> Result<Vec<RunRecord>, ServiceError> {
    let record = record_for(principal, "reminder-run-search", None);
    let result = (|| {
        access::check_outreach(principal)?;
        let only = (!principal.is_state_admin()).then_some(principal.organization_id.as_str());
        let rows = registry.database().read(|conn| outreach_store::runs(conn, only, MAX_RUNS_LISTED))?;
        rows.into_iter().map(run_record).collect::<Result<Vec<_>, _>>()
    })();
    audit_outcome(registry, record, &result, |_, _| {});
    result
}

fn stored_notice(row: NoticeRow) -> Result<StoredNotice, ServiceError> {
    let notice: Notice = serde_json::from_str(&row.notice_json).map_err(|_| {
        ServiceError::Store(StoreError::Corrupt(format!("notice {} of run {}", row.number, row.run_id)))
    })?;
    Ok(StoredNotice {
        notice,
        delivery: NoticeDelivery {
            attempts: row.attempts,
            last_sent_on: row.last_sent_on.as_deref().and_then(parse_date),
            last_method: row.last_method.as_deref().and_then(SendMethod::parse),
        },
    })
}

fn check_completed(run: &RunRecord) -> Result<(), ServiceError> {
    match run.status {
        RunStatus::Completed => Ok(()),
        RunStatus::Failed => Err(ServiceError::Conflict(crate::fhir::outcome::Issue::error(
            crate::fhir::outcome::IssueType::Conflict,
            format!("The run failed: {}", run.error.as_deref().unwrap_or("no reason recorded")),
        ))),
        RunStatus::Queued | RunStatus::Running => Err(ServiceError::Conflict(crate::fhir::outcome::Issue::error(
            crate::fhir::outcome::IssueType::Conflict,
            "The run has not finished yet; follow its status URL.",
        ))),
    }
}

/// One page of a run's notices.
#[derive(Debug, Clone)]
pub struct NoticePage {
    pub run: RunRecord,
    pub notices: Vec<StoredNotice>,
    /// The number to continue after, when there are more.
    pub next_after: Option<i64>,
}

/// A page of a completed run's notices (optionally one kind), after notice number `after`.
/// Audited with the people on the page.
pub fn notices(
    registry: &Registry,
    principal: &Principal,
    run_id: &str,
    kind: Option<NoticeKind>,
    after: i64,
    count: i64,
) -> Result<NoticePage, ServiceError> {
    let record = record_for(principal, "reminder-notices-read", Some(run_id));
    let result = (|| {
        let run = visible_run(registry, principal, run_id)?;
        check_completed(&run)?;
        let limit = count.clamp(1, MAX_PAGE);
        let mut rows = registry.database().read(|conn| {
            outreach_store::notices(conn, run_id, kind.map(NoticeKind::as_str), after, limit.saturating_add(1))
        })?;
        let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_after = if more { rows.last().map(|row| row.number) } else { None };
        let notices = rows.into_iter().map(stored_notice).collect::<Result<Vec<_>, _>>()?;
        Ok(NoticePage { run, notices, next_after })
    })();
    audit_outcome(registry, record, &result, |record, page| {
        record.patient_ids = page.notices.iter().map(|n| n.notice.contact.patient_id.clone()).collect();
    });
    result
}

/// Every notice of a completed run (CSV and letters). Audited as an export of those people.
pub fn export(
    registry: &Registry,
    principal: &Principal,
    run_id: &str,
    format: &str,
) -> Result<(RunRecord, Vec<StoredNotice>), ServiceError> {
    let record = record_for(principal, &format!("reminder-notices-export-{format}"), Some(run_id));
    let result = (|| {
        let run = visible_run(registry, principal, run_id)?;
        check_completed(&run)?;
        let rows = registry.database().read(|conn| outreach_store::all_notices(conn, run_id))?;
        let all = rows.into_iter().map(stored_notice).collect::<Result<Vec<_>, _>>()?;
        Ok((run, all))
    })();
    audit_outcome(registry, record, &result, |record, (_, notices)| {
        record.patient_ids = notices.iter().map(|n| n.notice.contact.patient_id.clone()).collect();
    });
    result
}

/// Records that notices of a run were sent (all of them when `numbers` is `None`) on `sent_on`
/// (today when `None`) by `method`: one more attempt each, and their vaccine groups count as
/// notified from that date. Returns how many notices were marked.
pub fn mark_sent(
    registry: &Registry,
    principal: &Principal,
    run_id: &str,
    numbers: Option<Vec<i64>>,
    method: SendMethod,
    sent_on: Option<Date>,
) -> Result<usize, ServiceError> {
    let record = record_for(principal, "reminder-notices-sent", Some(run_id));
    let result = (|| {
        let run = visible_run(registry, principal, run_id)?;
        check_completed(&run)?;
        let today = today();
        let sent_on = sent_on.unwrap_or(today);
        if sent_on > today {
            return Err(ServiceError::invalid("sentOn", "sentOn cannot be in the future."));
        }
        if let Some(numbers) = &numbers
            && (numbers.is_empty() || numbers.len() > 100_000)
        {
            return Err(ServiceError::invalid(
                "notices",
                "List 1 to 100000 notice numbers, or leave notices out for all.",
            ));
        }
        let sent_on = format_date(sent_on);
        let run_id = run_id.to_owned();
        let organization_id = principal.organization_id.clone();
        let mut audit = record.clone();
        registry.database().write(move |conn| {
            let rows = match &numbers {
                Some(numbers) => {
                    let mut rows = Vec::with_capacity(numbers.len());
                    for chunk in numbers.chunks(crate::store::INSERT_CHUNK_ROWS) {
                        rows.extend(outreach_store::notices_numbered(conn, &run_id, chunk)?);
                    }
                    if rows.len() != numbers.iter().collect::<HashSet<_>>().len() {
                        return Err(ServiceError::invalid("notices", "Some notice numbers are not in this run."));
                    }
                    rows
                }
                None => outreach_store::all_notices(conn, &run_id)?,
            };
            let mut contacts = Vec::new();
            let mut marked = Vec::with_capacity(rows.len());
            for row in rows {
                let stored = stored_notice(row)?;
                marked.push(stored.notice.number);
                for group in &stored.notice.vaccine_groups {
                    contacts.push(ContactRow {
                        run_id: run_id.clone(),
                        number: stored.notice.number,
                        vaccine_group: group.vaccine_group.clone(),
                        patient_id: stored.notice.contact.patient_id.clone(),
                        organization_id: organization_id.clone(),
                        sent_on: sent_on.clone(),
                        method: method.as_str().to_owned(),
                    });
                }
                audit.patient_ids.push(stored.notice.contact.patient_id);
            }
            outreach_store::record_sent(conn, &run_id, &marked, &sent_on, method.as_str(), &contacts)?;
            audit.detail = Some(format!("{} notices sent by {} on {sent_on}", marked.len(), method.as_str()));
            append_in(conn, vec![audit])?;
            Ok(marked.len())
        })
    })();
    audit_failure(registry, record, &result);
    result
}

/// Deletes a finished run's results (the record of notices sent stays, so nothing is repeated).
pub fn delete(registry: &Registry, principal: &Principal, run_id: &str) -> Result<(), ServiceError> {
    let record = record_for(principal, "reminder-run-delete", Some(run_id));
    let result = (|| {
        let run = visible_run(registry, principal, run_id)?;
        if matches!(run.status, RunStatus::Queued | RunStatus::Running) {
            return Err(ServiceError::Conflict(crate::fhir::outcome::Issue::error(
                crate::fhir::outcome::IssueType::Conflict,
                "The run is still being computed; delete it once it has finished.",
            )));
        }
        let run_id = run_id.to_owned();
        let audit = record.clone();
        registry.database().write(move |conn| {
            outreach_store::delete_run(conn, &run_id)?;
            append_in(conn, vec![audit])?;
            Ok::<_, ServiceError>(())
        })
    })();
    audit_failure(registry, record, &result);
    result
}

/// A completed run's notices as CSV (header and one row per notice). Audited as an export.
pub fn csv(registry: &Registry, principal: &Principal, run_id: &str) -> Result<Vec<u8>, ServiceError> {
    let (_, notices) = export(registry, principal, run_id, "csv")?;
    let mut out = Vec::with_capacity(notices.len() * 256 + 512);
    crate::outreach::csv::write_notices(&mut out, &notices, true)
        .map_err(|e| ServiceError::Configuration(format!("cannot write CSV: {e}")))?;
    Ok(out)
}

/// A completed run's printable letters (PDF, one page per family), from the organization that
/// requested the run. Audited as an export.
pub fn letters(registry: &Registry, principal: &Principal, run_id: &str) -> Result<Vec<u8>, ServiceError> {
    let (run, notices) = export(registry, principal, run_id, "letters")?;
    let organization =
        registry.database().read(|conn| crate::store::identity::organization(conn, &run.organization_id))?;
    let sender = crate::outreach::letters::LetterSender {
        organization_name: organization.as_ref().map_or_else(|| "Your clinic".to_owned(), |o| o.name.clone()),
        phone: organization.and_then(|o| o.phone),
    };
    let notices: Vec<Notice> = notices.into_iter().map(|stored| stored.notice).collect();
    Ok(crate::outreach::letters::letters_pdf(&sender, run.criteria.as_of, &notices))
}
