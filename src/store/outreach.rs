//! Outreach tables and queries: who an organization serves (`patient_provider_status`), a run's
//! population read in keyset batches with the facts the forecast needs, reminder runs, their
//! notices, and the record of notices sent.

use diesel::prelude::*;

use super::schema::{
    immunization, immunization_vaccine_code, patient, patient_privacy, patient_provider_status, reminder_contact,
    reminder_notice, reminder_run,
};
use super::{DbConnection, INSERT_CHUNK_ROWS, MultiBackend, StoreError, insert_many};
use crate::domain::codes::CVX_SYSTEM;
use crate::domain::outreach::{Population, RunStatus};
use crate::domain::search::PatientFilter;
use crate::domain::time::Timestamp;

type Condition = Box<dyn BoxableExpression<patient::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// Who a run or list looks at, as conditions on `patient`.
#[derive(Debug, Clone)]
pub struct PopulationQuery {
    pub population: Population,
    /// Further patient filters (postal codes, visibility).
    pub filters: Vec<PatientFilter>,
    /// Birth instants (`birth_start`) allowed, both ends inclusive.
    pub born_from: Option<Timestamp>,
    pub born_to: Option<Timestamp>,
}

fn population_condition(query: &PopulationQuery) -> Condition {
    let mut condition: Condition = Box::new(patient::deleted.eq(false).and(patient::birth_start.is_not_null()));
    if let Population::Organization { organization_id } = &query.population {
        let org = organization_id.clone();
        let submitted = patient::owner_organization_id.assume_not_null().eq(org.clone());
        let recorded = patient::id.eq_any(
            immunization::table
                .filter(immunization::owner_organization_id.assume_not_null().eq(org.clone()))
                .filter(immunization::deleted.eq(false))
                .select(immunization::patient_id),
        );
        let claimed = patient::id.eq_any(
            patient_provider_status::table
                .filter(patient_provider_status::organization_id.eq(org.clone()))
                .filter(patient_provider_status::active.eq(true))
                .select(patient_provider_status::patient_id),
        );
        let inactive = patient::id.eq_any(
            patient_provider_status::table
                .filter(patient_provider_status::organization_id.eq(org))
                .filter(patient_provider_status::active.eq(false))
                .select(patient_provider_status::patient_id),
        );
        condition = Box::new(condition.and(submitted.or(recorded).or(claimed)).and(diesel::dsl::not(inactive)));
    }
    if let Some(from) = query.born_from {
        condition = Box::new(condition.and(patient::birth_start.assume_not_null().ge(from.0)));
    }
    if let Some(to) = query.born_to {
        condition = Box::new(condition.and(patient::birth_start.assume_not_null().le(to.0)));
    }
    Box::new(condition.and(super::patient::matching(&query.filters)))
}

/// How many people the population holds (progress reporting).
pub fn count_population(conn: &mut DbConnection, query: &PopulationQuery) -> Result<i64, StoreError> {
    Ok(patient::table.filter(population_condition(query)).count().get_result(conn)?)
}

/// A member of a run's population, with what the run needs of the stored Patient.
#[derive(Debug, Clone, Queryable)]
pub struct Candidate {
    pub id: String,
    pub birth_start: Option<i64>,
    pub birth_end: Option<i64>,
    pub gender: Option<String>,
    pub visible_to: Option<String>,
    pub resource_json: String,
}

/// The next `limit` members of the population after `after` (by id).
pub fn population_batch(
    conn: &mut DbConnection,
    query: &PopulationQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Candidate>, StoreError> {
    let mut select = patient::table.filter(population_condition(query)).into_boxed();
    if let Some(after) = after {
        select = select.filter(patient::id.gt(after.to_owned()));
    }
    Ok(select
        .order(patient::id.asc())
        .limit(limit)
        .select((
            patient::id,
            patient::birth_start,
            patient::birth_end,
            patient::gender,
            patient::visible_to,
            patient::resource_json,
        ))
        .load(conn)?)
}

/// A completed dose, from the indexed columns: patient, start of the occurrence, CVX code.
pub type DoseRow = (String, Option<i64>, String);

/// The completed, CVX-coded doses of these patients.
pub fn doses_of(conn: &mut DbConnection, patient_ids: &[String]) -> Result<Vec<DoseRow>, StoreError> {
    Ok(immunization::table
        .inner_join(immunization_vaccine_code::table)
        .filter(immunization::patient_id.eq_any(patient_ids))
        .filter(immunization::deleted.eq(false))
        .filter(immunization::status.eq("completed"))
        .filter(immunization_vaccine_code::system.eq(CVX_SYSTEM))
        .select((immunization::patient_id, immunization::occurrence_start, immunization_vaccine_code::code))
        .load(conn)?)
}

/// Which of these patients declined reminders.
pub fn reminders_declined(conn: &mut DbConnection, patient_ids: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(patient_privacy::table
        .filter(patient_privacy::patient_id.eq_any(patient_ids))
        .filter(patient_privacy::reminders_declined.eq(true))
        .select(patient_privacy::patient_id)
        .load(conn)?)
}

/// (patient, vaccine group) pairs a notice was sent for on or after `since` (`YYYY-MM-DD`).
pub fn notified_since(
    conn: &mut DbConnection,
    patient_ids: &[String],
    since: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(reminder_contact::table
        .filter(reminder_contact::patient_id.eq_any(patient_ids))
        .filter(reminder_contact::sent_on.ge(since))
        .select((reminder_contact::patient_id, reminder_contact::vaccine_group))
        .distinct()
        .load(conn)?)
}

/// An organization's marking of a person.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = patient_provider_status)]
pub struct ProviderStatusRow {
    pub patient_id: String,
    pub organization_id: String,
    pub active: bool,
    pub reason: Option<String>,
    pub changed_at: i64,
    pub changed_by: String,
}

/// The organization's marking of the person, if any.
pub fn provider_status(
    conn: &mut DbConnection,
    patient_id: &str,
    organization_id: &str,
) -> Result<Option<ProviderStatusRow>, StoreError> {
    Ok(patient_provider_status::table
        .find((patient_id, organization_id))
        .select(ProviderStatusRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Records (replaces) the organization's marking of the person.
pub fn save_provider_status(conn: &mut DbConnection, row: &ProviderStatusRow) -> Result<(), StoreError> {
    diesel::delete(patient_provider_status::table.find((&row.patient_id, &row.organization_id))).execute(conn)?;
    diesel::insert_into(patient_provider_status::table).values(row).execute(conn)?;
    Ok(())
}

/// Whether the organization submitted the Patient or recorded one of their immunizations.
pub fn has_submitted_for(conn: &mut DbConnection, patient_id: &str, organization_id: &str) -> Result<bool, StoreError> {
    let patient_owned: i64 = patient::table
        .filter(patient::id.eq(patient_id))
        .filter(patient::owner_organization_id.assume_not_null().eq(organization_id))
        .count()
        .get_result(conn)?;
    if patient_owned > 0 {
        return Ok(true);
    }
    let recorded: i64 = immunization::table
        .filter(immunization::patient_id.eq(patient_id))
        .filter(immunization::owner_organization_id.assume_not_null().eq(organization_id))
        .filter(immunization::deleted.eq(false))
        .count()
        .get_result(conn)?;
    Ok(recorded > 0)
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reminder_run)]
pub struct RunRow {
    pub id: String,
    pub organization_id: String,
    pub facility_id: Option<String>,
    pub requested_by: String,
    pub criteria_json: String,
    pub status: String,
    pub patients_total: Option<i64>,
    pub patients_processed: i64,
    pub reminders: i64,
    pub recalls: i64,
    pub exclusions_json: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// Stores a new run.
pub fn insert_run(conn: &mut DbConnection, row: &RunRow) -> Result<(), StoreError> {
    diesel::insert_into(reminder_run::table).values(row).execute(conn)?;
    Ok(())
}

/// A run by id.
pub fn run(conn: &mut DbConnection, id: &str) -> Result<Option<RunRow>, StoreError> {
    Ok(reminder_run::table.find(id).select(RunRow::as_select()).get_result(conn).optional()?)
}

/// The newest runs, of one organization or of all, newest first.
pub fn runs(conn: &mut DbConnection, organization_id: Option<&str>, limit: i64) -> Result<Vec<RunRow>, StoreError> {
    let mut query = reminder_run::table.select(RunRow::as_select()).into_boxed();
    if let Some(org) = organization_id {
        query = query.filter(reminder_run::organization_id.eq(org.to_owned()));
    }
    Ok(query.order((reminder_run::created_at.desc(), reminder_run::id.desc())).limit(limit).load(conn)?)
}

/// Marks a run started.
pub fn start_run(conn: &mut DbConnection, id: &str, total: i64, at: Timestamp) -> Result<(), StoreError> {
    diesel::update(reminder_run::table.find(id))
        .set((
            reminder_run::status.eq(RunStatus::Running.as_str()),
            reminder_run::patients_total.eq(Some(total)),
            reminder_run::started_at.eq(Some(at.0)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A run's progress counters.
#[derive(Debug, Clone)]
pub struct RunProgress<'a> {
    pub patients_processed: i64,
    pub reminders: i64,
    pub recalls: i64,
    pub exclusions_json: &'a str,
}

/// Records progress.
pub fn record_progress(conn: &mut DbConnection, id: &str, progress: &RunProgress<'_>) -> Result<(), StoreError> {
    diesel::update(reminder_run::table.find(id))
        .set((
            reminder_run::patients_processed.eq(progress.patients_processed),
            reminder_run::reminders.eq(progress.reminders),
            reminder_run::recalls.eq(progress.recalls),
            reminder_run::exclusions_json.eq(progress.exclusions_json),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a run finished (completed or failed).
pub fn finish_run(
    conn: &mut DbConnection,
    id: &str,
    status: RunStatus,
    error: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(reminder_run::table.find(id))
        .set((
            reminder_run::status.eq(status.as_str()),
            reminder_run::error.eq(error),
            reminder_run::finished_at.eq(Some(at.0)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Fails every run left queued or running (a restart interrupted them).
pub fn fail_interrupted_runs(conn: &mut DbConnection, at: Timestamp) -> Result<usize, StoreError> {
    Ok(diesel::update(
        reminder_run::table
            .filter(reminder_run::status.eq_any([RunStatus::Queued.as_str(), RunStatus::Running.as_str()])),
    )
    .set((
        reminder_run::status.eq(RunStatus::Failed.as_str()),
        reminder_run::error.eq(Some("The server stopped before the run finished; request it again.")),
        reminder_run::finished_at.eq(Some(at.0)),
    ))
    .execute(conn)?)
}

/// Deletes a run and its notices (the record of notices sent stays). Whether it existed.
pub fn delete_run(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    diesel::delete(reminder_notice::table.filter(reminder_notice::run_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(reminder_run::table.find(id)).execute(conn)? > 0)
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reminder_notice)]
#[diesel(treat_none_as_default_value = false)]
pub struct NoticeRow {
    pub run_id: String,
    pub number: i64,
    pub patient_id: String,
    pub kind: String,
    pub notice_json: String,
    pub attempts: i32,
    pub last_sent_on: Option<String>,
    pub last_method: Option<String>,
}

/// Stores notices.
pub fn insert_notices(conn: &mut DbConnection, rows: &[NoticeRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, reminder_notice::table, chunk)?;
    }
    Ok(())
}

/// Notices of a run after number `after`, in number order, optionally of one kind.
pub fn notices(
    conn: &mut DbConnection,
    run_id: &str,
    kind: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<NoticeRow>, StoreError> {
    let mut query = reminder_notice::table
        .filter(reminder_notice::run_id.eq(run_id.to_owned()))
        .filter(reminder_notice::number.gt(after))
        .select(NoticeRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(reminder_notice::kind.eq(kind.to_owned()));
    }
    Ok(query.order(reminder_notice::number.asc()).limit(limit).load(conn)?)
}

/// Every notice of a run, in number order (read in pages of 5,000 so no statement returns the
/// whole run at once).
pub fn all_notices(conn: &mut DbConnection, run_id: &str) -> Result<Vec<NoticeRow>, StoreError> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |row: &NoticeRow| row.number);
        let page = notices(conn, run_id, None, after, 5_000)?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// Notices of a run by number.
pub fn notices_numbered(conn: &mut DbConnection, run_id: &str, numbers: &[i64]) -> Result<Vec<NoticeRow>, StoreError> {
    Ok(reminder_notice::table
        .filter(reminder_notice::run_id.eq(run_id))
        .filter(reminder_notice::number.eq_any(numbers))
        .select(NoticeRow::as_select())
        .order(reminder_notice::number.asc())
        .load(conn)?)
}

/// One vaccine group of one notice sent.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = reminder_contact)]
pub struct ContactRow {
    pub run_id: String,
    pub number: i64,
    pub vaccine_group: String,
    pub patient_id: String,
    pub organization_id: String,
    pub sent_on: String,
    pub method: String,
}

/// Records one more sending attempt of these notices, and the groups they covered.
pub fn record_sent(
    conn: &mut DbConnection,
    run_id: &str,
    numbers: &[i64],
    sent_on: &str,
    method: &str,
    contacts: &[ContactRow],
) -> Result<(), StoreError> {
    for chunk in numbers.chunks(INSERT_CHUNK_ROWS) {
        diesel::update(
            reminder_notice::table
                .filter(reminder_notice::run_id.eq(run_id))
                .filter(reminder_notice::number.eq_any(chunk)),
        )
        .set((
            reminder_notice::attempts.eq(reminder_notice::attempts + 1),
            reminder_notice::last_sent_on.eq(Some(sent_on)),
            reminder_notice::last_method.eq(Some(method)),
        ))
        .execute(conn)?;
        diesel::delete(
            reminder_contact::table
                .filter(reminder_contact::run_id.eq(run_id))
                .filter(reminder_contact::number.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    for chunk in contacts.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, reminder_contact::table, chunk)?;
    }
    Ok(())
}

/// A dose of a recalled lot.
#[derive(Debug, Clone, Queryable)]
pub struct LotDoseRow {
    pub id: String,
    pub patient_id: String,
    pub owner_organization_id: Option<String>,
    pub resource_json: String,
}

/// Live doses whose normalized lot number is `lot_number_norm`, given in `[from, to)` when
/// bounded, that the caller may see; at most `limit`, by id.
pub fn doses_of_lot(
    conn: &mut DbConnection,
    lot_number_norm: &str,
    visible_to: &crate::domain::privacy::VisibleTo,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<LotDoseRow>, StoreError> {
    use super::search_sql::visible_condition;
    type Condition = Box<dyn BoxableExpression<immunization::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;
    let mut query = immunization::table
        .filter(immunization::lot_number_norm.assume_not_null().eq(lot_number_norm.to_owned()))
        .filter(immunization::deleted.eq(false))
        .filter(visible_condition!(immunization::visible_to, visible_to))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(immunization::occurrence_start.assume_not_null().ge(from.0));
    }
    if let Some(to) = to {
        query = query.filter(immunization::occurrence_start.assume_not_null().lt(to.0));
    }
    Ok(query
        .order(immunization::id.asc())
        .limit(limit)
        .select((
            immunization::id,
            immunization::patient_id,
            immunization::owner_organization_id,
            immunization::resource_json,
        ))
        .load(conn)?)
}
