//! The audit trail table: appended in hash-chain order, searched by time and organization.

use diesel::prelude::*;

use super::schema::audit_event;
use super::{DbConnection, StoreError};

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_event)]
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    /// Position in the chain (1, 2, ...); also the FHIR AuditEvent id.
    pub seq: i64,
    /// When (micros).
    pub recorded_at: i64,
    /// user, system or anonymous.
    pub agent_kind: String,
    /// User id or client id.
    pub agent_id: Option<String>,
    /// Organization.
    pub organization_id: Option<String>,
    /// Facility.
    pub facility_id: Option<String>,
    /// Token id.
    pub token_id: Option<String>,
    /// What was done.
    pub action: String,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Resource ids, space-separated.
    pub resource_ids: String,
    /// Patient ids, space-separated.
    pub patient_ids: String,
    /// The query, for searches.
    pub query: Option<String>,
    /// success, denied or failed.
    pub outcome: String,
    /// The HTTP status answered.
    pub status: i32,
    /// Why (for denials and failures).
    pub detail: Option<String>,
    /// The previous event's hash.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

/// The last event's position and hash, if any.
pub fn chain_tip(conn: &mut DbConnection) -> Result<Option<(i64, String)>, StoreError> {
    // Serializes appenders on PostgreSQL (SQLite has one writer already).
    super::lock_for_key(conn, "izreg.audit_chain")?;
    Ok(audit_event::table
        .order(audit_event::seq.desc())
        .select((audit_event::seq, audit_event::hash))
        .first(conn)
        .optional()?)
}

/// Rows per multi-row INSERT on SQLite. A fixed-size array has a static query id, so diesel
/// prepares the 32-row statement once and reuses it from its cache; a slice of any length would
/// be rebuilt and re-prepared for every batch.
const SQLITE_ROWS_PER_INSERT: usize = 32;

/// Appends events (already chained).
pub fn append(conn: &mut DbConnection, rows: &[AuditRow]) -> Result<(), StoreError> {
    match conn {
        // In-process SQLite: cached prepared statements only. The background writer's batches
        // (hundreds of read events) go 32 rows per statement: one statement run opens the
        // table's and its indexes' cursors once for 32 rows, not once per row. The rest (and the
        // one or two events of a change) go through the cached one-row statement.
        DbConnection::Sqlite(sqlite) => {
            let mut full_chunks = rows.chunks_exact(SQLITE_ROWS_PER_INSERT);
            for chunk in full_chunks.by_ref() {
                let chunk: &[AuditRow; SQLITE_ROWS_PER_INSERT] = chunk
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("an audit chunk is not of the batch size".to_owned()))?;
                diesel::insert_into(audit_event::table).values(chunk).execute(sqlite)?;
            }
            for row in full_chunks.remainder() {
                diesel::insert_into(audit_event::table).values(row).execute(sqlite)?;
            }
        }
        // Over the network: fewer round trips.
        DbConnection::Postgresql(_) => {
            for chunk in rows.chunks(super::INSERT_CHUNK_ROWS / 4) {
                super::insert_many!(conn, audit_event::table, chunk)?;
            }
        }
    }
    Ok(())
}

/// Events in chain order from `after_seq` on, at most `limit`.
pub fn events_after(conn: &mut DbConnection, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    Ok(audit_event::table
        .filter(audit_event::seq.gt(after_seq))
        .order(audit_event::seq)
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)?)
}

/// What an audit search filters on.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this organization's events.
    pub organization_id: Option<String>,
    /// Only events about this patient.
    pub patient_id: Option<String>,
    /// Only this agent.
    pub agent_id: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Recorded at or after (micros).
    pub from: Option<i64>,
    /// Recorded before (micros).
    pub to: Option<i64>,
    /// Newest first; only events with `seq` below this (keyset cursor).
    pub before_seq: Option<i64>,
}

/// Events matching the filter, newest first, at most `limit`.
pub fn search(conn: &mut DbConnection, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    let mut query = audit_event::table.select(AuditRow::as_select()).into_boxed();
    if let Some(org) = &filter.organization_id {
        query = query.filter(audit_event::organization_id.eq(org.clone()));
    }
    if let Some(patient) = &filter.patient_id {
        // Ids are separated by single spaces; match a whole id.
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(' ' || patient_ids || ' ') LIKE ")
                .bind::<diesel::sql_types::Text, _>(format!("% {} %", escape_like(patient)))
                .sql(" ESCAPE '\\'"),
        );
    }
    if let Some(agent) = &filter.agent_id {
        query = query.filter(audit_event::agent_id.eq(agent.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_event::action.eq(action.clone()));
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(audit_event::outcome.eq(outcome.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::recorded_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::recorded_at.lt(to));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(audit_event::seq.lt(before));
    }
    Ok(query.order(audit_event::seq.desc()).limit(limit).load(conn)?)
}

fn escape_like(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One event by its position in the chain.
pub fn event(conn: &mut DbConnection, seq: i64) -> Result<Option<AuditRow>, StoreError> {
    Ok(audit_event::table.find(seq).select(AuditRow::as_select()).first(conn).optional()?)
}
