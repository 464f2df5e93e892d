//! The `immunization` tables: current versions, history, and the vaccine-code index.

use diesel::prelude::*;

use super::current_row::CurrentRow;
use super::schema::{immunization, immunization_vaccine_code};
use super::search_sql::{all_of, any_of, date_condition, one_of, string_condition, token_condition, visible_condition};
use super::{DbConnection, INSERT_CHUNK_ROWS, MultiBackend, StoreError, insert_many, on_backend};
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::IndexedToken;
use crate::domain::resource::{CurrentVersion, HistoryMethod, StoredResource};
use crate::domain::search::{ImmunizationFilter, ImmunizationSortKey, Keyset, Page, PageSpec, SortValue};
use crate::domain::time::Timestamp;

super::history::history_operations!(immunization_history);
super::current_row::owner_operations!(immunization);

type Condition = Box<dyn BoxableExpression<immunization::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

#[derive(Queryable)]
struct SearchRow {
    id: String,
    version_id: i64,
    last_updated: i64,
    resource_json: String,
    occurrence_sort: i64,
    patient_id: String,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = immunization)]
// NULL rather than DEFAULT for None: the columns have no default, and on SQLite diesel can then
// insert many rows in one statement instead of one statement per row.
#[diesel(treat_none_as_default_value = false)]
pub(super) struct ImmunizationRow<'a> {
    id: &'a str,
    version_id: i64,
    last_updated: i64,
    deleted: bool,
    resource_json: &'a str,
    patient_id: &'a str,
    occurrence_start: Option<i64>,
    occurrence_end: Option<i64>,
    occurrence_sort: i64,
    status: &'a str,
    lot_number_norm: Option<&'a str>,
}

impl<'a> ImmunizationRow<'a> {
    pub(super) fn new(resource: &'a StoredResource, index: &'a ImmunizationIndex) -> Self {
        ImmunizationRow {
            id: resource.id.as_str(),
            version_id: resource.version_id.0,
            last_updated: resource.last_updated.0,
            deleted: false,
            resource_json: &resource.json,
            patient_id: index.patient_id.as_str(),
            occurrence_start: index.occurrence.map(|o| o.start.0),
            occurrence_end: index.occurrence.map(|o| o.end.0),
            occurrence_sort: index.occurrence.map_or(i64::MIN, |o| o.start.0),
            status: &index.status,
            lot_number_norm: index.lot_number_normalized.as_deref(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = immunization_vaccine_code)]
pub(super) struct VaccineCodeRow<'a> {
    immunization_id: &'a str,
    system: &'a str,
    code: &'a str,
}

impl<'a> VaccineCodeRow<'a> {
    pub(super) fn new(immunization_id: &'a str, coding: &'a IndexedToken) -> Self {
        VaccineCodeRow { immunization_id, system: &coding.system, code: &coding.value }
    }
}

/// The current row of an Immunization, live or deleted; `None` if the id was never used.
pub fn current(conn: &mut DbConnection, id: &str) -> Result<Option<CurrentVersion>, StoreError> {
    Ok(current_with_visibility(conn, id)?.map(|(current, _)| current))
}

/// The current row of an Immunization with its privacy visibility (`visible_to`), in one query (the
/// read path: a primary-key fetch).
pub fn current_with_visibility(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(CurrentVersion, Option<String>)>, StoreError> {
    let query = immunization::table.find(id).select((
        (
            immunization::id,
            immunization::version_id,
            immunization::last_updated,
            immunization::deleted,
            immunization::resource_json,
        ),
        immunization::visible_to,
    ));
    let row = on_backend!(conn, |backend| query.get_result::<(CurrentRow, Option<String>)>(backend)).optional()?;
    Ok(row.map(|(row, visible_to)| (row.into_current(), visible_to)))
}

/// Stores a new Immunization (version 1) with its search index and first history entry.
pub fn insert(conn: &mut DbConnection, resource: &StoredResource, index: &ImmunizationIndex) -> Result<(), StoreError> {
    diesel::insert_into(immunization::table).values(&ImmunizationRow::new(resource, index)).execute(conn)?;
    insert_index_rows(conn, resource.id.as_str(), index)?;
    insert_history(
        conn,
        resource.id.as_str(),
        resource.version_id,
        resource.last_updated,
        HistoryMethod::Create,
        Some(&resource.json),
    )
}

/// Replaces the current version of an existing Immunization and appends it to history.
pub fn update(conn: &mut DbConnection, resource: &StoredResource, index: &ImmunizationIndex) -> Result<(), StoreError> {
    let id = resource.id.as_str();
    diesel::update(immunization::table.find(id)).set(&ImmunizationRow::new(resource, index)).execute(conn)?;
    delete_index_rows(conn, id)?;
    insert_index_rows(conn, id, index)?;
    insert_history(conn, id, resource.version_id, resource.last_updated, HistoryMethod::Update, Some(&resource.json))
}

/// Marks an Immunization deleted and records the deletion as a new version.
pub fn delete(conn: &mut DbConnection, id: &str, version_id: VersionId, at: Timestamp) -> Result<(), StoreError> {
    diesel::update(immunization::table.find(id))
        .set((
            immunization::deleted.eq(true),
            immunization::version_id.eq(version_id.0),
            immunization::last_updated.eq(at.0),
        ))
        .execute(conn)?;
    delete_index_rows(conn, id)?;
    insert_history(conn, id, version_id, at, HistoryMethod::Delete, None)
}

fn insert_index_rows(conn: &mut DbConnection, id: &str, index: &ImmunizationIndex) -> Result<(), StoreError> {
    let rows: Vec<VaccineCodeRow<'_>> = index.vaccine_codes.iter().map(|t| VaccineCodeRow::new(id, t)).collect();
    for chunk in rows.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, immunization_vaccine_code::table, chunk)?;
    }
    Ok(())
}

fn delete_index_rows(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(immunization_vaccine_code::table.filter(immunization_vaccine_code::immunization_id.eq(id)))
        .execute(conn)?;
    Ok(())
}

/// How many live Immunizations refer to this Patient.
pub fn live_count_for_patient(conn: &mut DbConnection, patient_id: &str) -> Result<u64, StoreError> {
    let n: i64 = immunization::table
        .filter(immunization::patient_id.eq(patient_id).and(immunization::deleted.eq(false)))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Live Immunizations of these Patients (for `_revinclude`), ordered by patient and date.
pub fn live_for_patients(conn: &mut DbConnection, patient_ids: &[String]) -> Result<Vec<StoredResource>, StoreError> {
    let mut found = Vec::new();
    for chunk in patient_ids.chunks(INSERT_CHUNK_ROWS) {
        let rows = immunization::table
            .filter(immunization::patient_id.eq_any(chunk).and(immunization::deleted.eq(false)))
            .order((immunization::patient_id.asc(), immunization::occurrence_sort.asc(), immunization::id.asc()))
            .select((
                immunization::id,
                immunization::version_id,
                immunization::last_updated,
                immunization::resource_json,
                immunization::occurrence_sort,
                immunization::patient_id,
            ))
            .load::<SearchRow>(conn)?;
        found.extend(rows.into_iter().map(SearchRow::into_resource));
    }
    Ok(found)
}

impl SearchRow {
    fn into_resource(self) -> StoredResource {
        StoredResource {
            id: ResourceId::from_stored(self.id),
            version_id: VersionId(self.version_id),
            last_updated: Timestamp(self.last_updated),
            json: self.resource_json,
        }
    }
}

/// One page of live Immunizations matching every filter, with the Patient id of each.
pub fn search(
    conn: &mut DbConnection,
    filters: &[ImmunizationFilter],
    page: &PageSpec<ImmunizationSortKey>,
) -> Result<(Page, Vec<String>), StoreError> {
    let mut query = immunization::table
        .filter(immunization::deleted.eq(false))
        .filter(matching(filters))
        .select((
            immunization::id,
            immunization::version_id,
            immunization::last_updated,
            immunization::resource_json,
            immunization::occurrence_sort,
            immunization::patient_id,
        ))
        .into_boxed::<MultiBackend>();
    let descending = page.sort.descending;
    if let Some(after) = &page.after {
        query = query.filter(after_keyset(page.sort.key, descending, after)?);
    }
    query = match (page.sort.key, descending) {
        (ImmunizationSortKey::Id, false) => query.order(immunization::id.asc()),
        (ImmunizationSortKey::Id, true) => query.order(immunization::id.desc()),
        (ImmunizationSortKey::Date, false) => {
            query.order((immunization::occurrence_sort.asc(), immunization::id.asc()))
        }
        (ImmunizationSortKey::Date, true) => {
            query.order((immunization::occurrence_sort.desc(), immunization::id.desc()))
        }
        (ImmunizationSortKey::LastUpdated, false) => {
            query.order((immunization::last_updated.asc(), immunization::id.asc()))
        }
        (ImmunizationSortKey::LastUpdated, true) => {
            query.order((immunization::last_updated.desc(), immunization::id.desc()))
        }
    };
    let limit = i64::try_from(page.count.saturating_add(1)).unwrap_or(i64::MAX);
    let mut rows = query.limit(limit).load::<SearchRow>(conn)?;
    let next = if rows.len() > page.count {
        rows.truncate(page.count);
        rows.last().map(|last| Keyset {
            sort_value: match page.sort.key {
                ImmunizationSortKey::Id => SortValue::Text(last.id.clone()),
                ImmunizationSortKey::Date => SortValue::Integer(last.occurrence_sort),
                ImmunizationSortKey::LastUpdated => SortValue::Integer(last.last_updated),
            },
            id: last.id.clone(),
        })
    } else {
        None
    };
    let patient_ids = rows.iter().map(|r| r.patient_id.clone()).collect();
    let resources = rows.into_iter().map(SearchRow::into_resource).collect();
    Ok((Page { resources, next }, patient_ids))
}

/// How many live Immunizations match every filter.
pub fn count(conn: &mut DbConnection, filters: &[ImmunizationFilter]) -> Result<u64, StoreError> {
    let n: i64 = immunization::table
        .filter(immunization::deleted.eq(false))
        .filter(matching(filters))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn after_keyset(key: ImmunizationSortKey, descending: bool, after: &Keyset) -> Result<Condition, StoreError> {
    let id = after.id.clone();
    macro_rules! beyond {
        ($column:expr, $value:expr) => {{
            let value = $value;
            let condition: Condition = if descending {
                Box::new($column.lt(value).or($column.eq(value).and(immunization::id.lt(id))))
            } else {
                Box::new($column.gt(value).or($column.eq(value).and(immunization::id.gt(id))))
            };
            condition
        }};
    }
    Ok(match (key, &after.sort_value) {
        (ImmunizationSortKey::Id, _) => {
            if descending {
                Box::new(immunization::id.lt(id))
            } else {
                Box::new(immunization::id.gt(id))
            }
        }
        (ImmunizationSortKey::Date, SortValue::Integer(v)) => beyond!(immunization::occurrence_sort, *v),
        (ImmunizationSortKey::LastUpdated, SortValue::Integer(v)) => beyond!(immunization::last_updated, *v),
        _ => return Err(StoreError::Corrupt("the paging cursor does not fit the sort order".into())),
    })
}

fn matching(filters: &[ImmunizationFilter]) -> Condition {
    let alternatives: usize = filters.iter().map(ImmunizationFilter::alternatives).sum();
    all_of!(immunization::table, alternatives, filters.iter().map(filter_condition))
}

fn filter_condition(filter: &ImmunizationFilter) -> Condition {
    match filter {
        ImmunizationFilter::Id(ids) => one_of!(immunization::id, ids),
        ImmunizationFilter::Patient(ids) => one_of!(immunization::patient_id, ids),
        ImmunizationFilter::Date(dates) => any_of!(immunization::table, dates, |d| date_condition!(
            immunization::table,
            immunization::occurrence_start.assume_not_null(),
            immunization::occurrence_end.assume_not_null(),
            d
        )),
        ImmunizationFilter::LastUpdated(dates) => any_of!(immunization::table, dates, |d| date_condition!(
            immunization::table,
            immunization::last_updated,
            immunization::last_updated + 1_i64,
            d
        )),
        ImmunizationFilter::VaccineCode(tokens) => {
            macro_rules! in_vaccine_codes {
                ($condition:expr) => {
                    Box::new(
                        immunization::id.eq_any(
                            immunization_vaccine_code::table
                                .filter($condition)
                                .select(immunization_vaccine_code::immunization_id),
                        ),
                    ) as Condition
                };
            }
            any_of!(immunization::table, tokens, |t| token_condition!(
                immunization_vaccine_code::system,
                immunization_vaccine_code::code,
                t,
                in_vaccine_codes
            ))
        }
        ImmunizationFilter::Status(codes) => one_of!(immunization::status, codes),
        ImmunizationFilter::Visible(visible_to) => visible_condition!(immunization::visible_to, visible_to),
        ImmunizationFilter::LotNumber(matches) => {
            macro_rules! boxed {
                ($condition:expr) => {
                    Box::new($condition) as Condition
                };
            }
            any_of!(immunization::table, matches, |m| string_condition!(
                immunization::lot_number_norm.assume_not_null(),
                immunization::lot_number_norm.assume_not_null(),
                m,
                boxed
            ))
        }
    }
}
