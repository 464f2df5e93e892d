//! The `patient` tables: current versions, history, and the name/identifier/postal-code indexes.

use diesel::prelude::*;

use super::current_row::CurrentRow;
use super::schema::{patient, patient_identifier, patient_name, patient_postal_code};
use super::search_sql::{all_of, any_of, date_condition, one_of, string_condition, token_condition, visible_condition};
use super::{DbConnection, INSERT_CHUNK_ROWS, MultiBackend, StoreError, insert_many, on_backend};
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::patient::{IndexedName, IndexedToken, PatientIndex};
use crate::domain::resource::{CurrentVersion, HistoryMethod, StoredResource};
use crate::domain::search::{Keyset, Page, PageSpec, PatientFilter, PatientSortKey, SortValue};
use crate::domain::time::{TimeRange, Timestamp};

super::history::history_operations!(patient_history);
super::current_row::owner_operations!(patient);

type Condition = Box<dyn BoxableExpression<patient::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// A search result row: the resource plus the sort keys a cursor may need.
#[derive(Queryable)]
struct SearchRow {
    id: String,
    version_id: i64,
    last_updated: i64,
    resource_json: String,
    family_sort: String,
    birth_sort: i64,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = patient)]
// NULL rather than DEFAULT for None: the columns have no default, and on SQLite diesel can then
// insert many rows in one statement instead of one statement per row.
#[diesel(treat_none_as_default_value = false)]
pub(super) struct PatientRow<'a> {
    id: &'a str,
    version_id: i64,
    last_updated: i64,
    deleted: bool,
    resource_json: &'a str,
    family_sort: &'a str,
    birth_start: Option<i64>,
    birth_end: Option<i64>,
    birth_sort: i64,
    gender: Option<&'a str>,
    active: bool,
}

impl<'a> PatientRow<'a> {
    pub(super) fn new(resource: &'a StoredResource, index: &'a PatientIndex) -> Self {
        PatientRow {
            id: resource.id.as_str(),
            version_id: resource.version_id.0,
            last_updated: resource.last_updated.0,
            deleted: false,
            resource_json: &resource.json,
            family_sort: &index.family_sort,
            birth_start: index.birth.map(|b| b.start.0),
            birth_end: index.birth.map(|b| b.end.0),
            // Missing birth dates sort first ascending (as missing family names do).
            birth_sort: index.birth.map_or(i64::MIN, |b| b.start.0),
            gender: index.gender.as_deref(),
            active: index.active,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = patient_name)]
pub(super) struct NameRow<'a> {
    patient_id: &'a str,
    part: &'a str,
    value_exact: &'a str,
    value_norm: &'a str,
}

impl<'a> NameRow<'a> {
    pub(super) fn new(patient_id: &'a str, name: &'a IndexedName) -> Self {
        NameRow { patient_id, part: name.part.as_str(), value_exact: &name.exact, value_norm: &name.normalized }
    }
}

#[derive(Insertable)]
#[diesel(table_name = patient_identifier)]
pub(super) struct IdentifierRow<'a> {
    patient_id: &'a str,
    system: &'a str,
    value: &'a str,
}

impl<'a> IdentifierRow<'a> {
    pub(super) fn new(patient_id: &'a str, identifier: &'a IndexedToken) -> Self {
        IdentifierRow { patient_id, system: &identifier.system, value: &identifier.value }
    }
}

#[derive(Insertable)]
#[diesel(table_name = patient_postal_code)]
pub(super) struct PostalCodeRow<'a> {
    patient_id: &'a str,
    postal_code_norm: &'a str,
}

impl<'a> PostalCodeRow<'a> {
    pub(super) fn new(patient_id: &'a str, postal_code_norm: &'a str) -> Self {
        PostalCodeRow { patient_id, postal_code_norm }
    }
}

/// The current row of a Patient, live or deleted; `None` if the id was never used.
pub fn current(conn: &mut DbConnection, id: &str) -> Result<Option<CurrentVersion>, StoreError> {
    Ok(current_with_visibility(conn, id)?.map(|(current, _)| current))
}

/// The birth-date range of a live Patient: `None` when no live Patient has this id,
/// `Some(None)` when it has no birth date.
pub fn live_birth_range(conn: &mut DbConnection, id: &str) -> Result<Option<Option<TimeRange>>, StoreError> {
    let row = patient::table
        .find(id)
        .filter(patient::deleted.eq(false))
        .select((patient::birth_start, patient::birth_end))
        .get_result::<(Option<i64>, Option<i64>)>(conn)
        .optional()?;
    Ok(row.map(|(start, end)| match (start, end) {
        (Some(start), Some(end)) => Some(TimeRange { start: Timestamp(start), end: Timestamp(end) }),
        _ => None,
    }))
}

/// The current row of a Patient with its privacy visibility (`visible_to`), in one query (the
/// read path: a primary-key fetch).
pub fn current_with_visibility(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(CurrentVersion, Option<String>)>, StoreError> {
    let query = patient::table.find(id).select((
        (patient::id, patient::version_id, patient::last_updated, patient::deleted, patient::resource_json),
        patient::visible_to,
    ));
    let row = on_backend!(conn, |backend| query.get_result::<(CurrentRow, Option<String>)>(backend)).optional()?;
    Ok(row.map(|(row, visible_to)| (row.into_current(), visible_to)))
}

/// Stores a new Patient (version 1) with its search index and first history entry.
pub fn insert(conn: &mut DbConnection, resource: &StoredResource, index: &PatientIndex) -> Result<(), StoreError> {
    diesel::insert_into(patient::table).values(&PatientRow::new(resource, index)).execute(conn)?;
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

/// Replaces the current version of an existing Patient and appends the new version to history.
pub fn update(conn: &mut DbConnection, resource: &StoredResource, index: &PatientIndex) -> Result<(), StoreError> {
    let id = resource.id.as_str();
    diesel::update(patient::table.find(id)).set(&PatientRow::new(resource, index)).execute(conn)?;
    delete_index_rows(conn, id)?;
    insert_index_rows(conn, id, index)?;
    insert_history(conn, id, resource.version_id, resource.last_updated, HistoryMethod::Update, Some(&resource.json))
}

/// Marks a Patient deleted (its current row stays so reads answer 410 Gone) and records the
/// deletion as a new version.
pub fn delete(conn: &mut DbConnection, id: &str, version_id: VersionId, at: Timestamp) -> Result<(), StoreError> {
    diesel::update(patient::table.find(id))
        .set((patient::deleted.eq(true), patient::version_id.eq(version_id.0), patient::last_updated.eq(at.0)))
        .execute(conn)?;
    delete_index_rows(conn, id)?;
    insert_history(conn, id, version_id, at, HistoryMethod::Delete, None)
}

fn insert_index_rows(conn: &mut DbConnection, id: &str, index: &PatientIndex) -> Result<(), StoreError> {
    let names: Vec<NameRow<'_>> = index.names.iter().map(|n| NameRow::new(id, n)).collect();
    for chunk in names.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, patient_name::table, chunk)?;
    }
    let identifiers: Vec<IdentifierRow<'_>> = index.identifiers.iter().map(|t| IdentifierRow::new(id, t)).collect();
    for chunk in identifiers.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, patient_identifier::table, chunk)?;
    }
    let postal_codes: Vec<PostalCodeRow<'_>> = index.postal_codes.iter().map(|p| PostalCodeRow::new(id, p)).collect();
    for chunk in postal_codes.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, patient_postal_code::table, chunk)?;
    }
    Ok(())
}

fn delete_index_rows(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(patient_name::table.filter(patient_name::patient_id.eq(id))).execute(conn)?;
    diesel::delete(patient_identifier::table.filter(patient_identifier::patient_id.eq(id))).execute(conn)?;
    diesel::delete(patient_postal_code::table.filter(patient_postal_code::patient_id.eq(id))).execute(conn)?;
    Ok(())
}

/// Live Patients with these ids (for `_include`), in no particular order.
pub fn live_by_ids(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<StoredResource>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(INSERT_CHUNK_ROWS) {
        let rows = patient::table
            .filter(patient::id.eq_any(chunk).and(patient::deleted.eq(false)))
            .select((patient::id, patient::version_id, patient::last_updated, patient::deleted, patient::resource_json))
            .load::<CurrentRow>(conn)?;
        found.extend(rows.into_iter().filter_map(|row| match row.into_current() {
            CurrentVersion::Live(resource) => Some(resource),
            CurrentVersion::Deleted { .. } => None,
        }));
    }
    Ok(found)
}

/// One page of live Patients matching every filter.
pub fn search(
    conn: &mut DbConnection,
    filters: &[PatientFilter],
    page: &PageSpec<PatientSortKey>,
) -> Result<Page, StoreError> {
    let mut query = patient::table
        .filter(patient::deleted.eq(false))
        .filter(matching(filters))
        .select((
            patient::id,
            patient::version_id,
            patient::last_updated,
            patient::resource_json,
            patient::family_sort,
            patient::birth_sort,
        ))
        .into_boxed::<MultiBackend>();
    let descending = page.sort.descending;
    if let Some(after) = &page.after {
        query = query.filter(after_keyset(page.sort.key, descending, after)?);
    }
    query = match (page.sort.key, descending) {
        (PatientSortKey::Id, false) => query.order(patient::id.asc()),
        (PatientSortKey::Id, true) => query.order(patient::id.desc()),
        (PatientSortKey::Family, false) => query.order((patient::family_sort.asc(), patient::id.asc())),
        (PatientSortKey::Family, true) => query.order((patient::family_sort.desc(), patient::id.desc())),
        (PatientSortKey::BirthDate, false) => query.order((patient::birth_sort.asc(), patient::id.asc())),
        (PatientSortKey::BirthDate, true) => query.order((patient::birth_sort.desc(), patient::id.desc())),
        (PatientSortKey::LastUpdated, false) => query.order((patient::last_updated.asc(), patient::id.asc())),
        (PatientSortKey::LastUpdated, true) => query.order((patient::last_updated.desc(), patient::id.desc())),
    };
    let limit = i64::try_from(page.count.saturating_add(1)).unwrap_or(i64::MAX);
    let mut rows = query.limit(limit).load::<SearchRow>(conn)?;
    let next = if rows.len() > page.count {
        rows.truncate(page.count);
        rows.last().map(|last| Keyset {
            sort_value: match page.sort.key {
                PatientSortKey::Id => SortValue::Text(last.id.clone()),
                PatientSortKey::Family => SortValue::Text(last.family_sort.clone()),
                PatientSortKey::BirthDate => SortValue::Integer(last.birth_sort),
                PatientSortKey::LastUpdated => SortValue::Integer(last.last_updated),
            },
            id: last.id.clone(),
        })
    } else {
        None
    };
    let resources = rows
        .into_iter()
        .map(|row| StoredResource {
            id: ResourceId::from_stored(row.id),
            version_id: VersionId(row.version_id),
            last_updated: Timestamp(row.last_updated),
            json: row.resource_json,
        })
        .collect();
    Ok(Page { resources, next })
}

/// How many live Patients match every filter.
pub fn count(conn: &mut DbConnection, filters: &[PatientFilter]) -> Result<u64, StoreError> {
    let n: i64 =
        patient::table.filter(patient::deleted.eq(false)).filter(matching(filters)).count().get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The rows after `after` in the given order.
fn after_keyset(key: PatientSortKey, descending: bool, after: &Keyset) -> Result<Condition, StoreError> {
    let id = after.id.clone();
    let wrong_cursor = || StoreError::Corrupt("the paging cursor does not fit the sort order".into());
    macro_rules! beyond {
        ($column:expr, $value:expr) => {{
            let value = $value;
            let condition: Condition = if descending {
                Box::new($column.lt(value.clone()).or($column.eq(value).and(patient::id.lt(id))))
            } else {
                Box::new($column.gt(value.clone()).or($column.eq(value).and(patient::id.gt(id))))
            };
            condition
        }};
    }
    Ok(match (key, &after.sort_value) {
        (PatientSortKey::Id, _) => {
            if descending {
                Box::new(patient::id.lt(id))
            } else {
                Box::new(patient::id.gt(id))
            }
        }
        (PatientSortKey::Family, SortValue::Text(v)) => beyond!(patient::family_sort, v.clone()),
        (PatientSortKey::BirthDate, SortValue::Integer(v)) => beyond!(patient::birth_sort, *v),
        (PatientSortKey::LastUpdated, SortValue::Integer(v)) => beyond!(patient::last_updated, *v),
        _ => return Err(wrong_cursor()),
    })
}

/// The condition "matches every filter".
pub(super) fn matching(filters: &[PatientFilter]) -> Condition {
    let alternatives: usize = filters.iter().map(PatientFilter::alternatives).sum();
    all_of!(patient::table, alternatives, filters.iter().map(filter_condition))
}

fn filter_condition(filter: &PatientFilter) -> Condition {
    match filter {
        PatientFilter::Visible(visible_to) => visible_condition!(patient::visible_to, visible_to),
        PatientFilter::Id(ids) => one_of!(patient::id, ids),
        PatientFilter::Identifier(tokens) => {
            macro_rules! in_identifiers {
                ($condition:expr) => {
                    Box::new(
                        patient::id.eq_any(
                            patient_identifier::table.filter($condition).select(patient_identifier::patient_id),
                        ),
                    ) as Condition
                };
            }
            any_of!(patient::table, tokens, |t| token_condition!(
                patient_identifier::system,
                patient_identifier::value,
                t,
                in_identifiers
            ))
        }
        PatientFilter::Name { part: Some(part), matches } => {
            let part = part.as_str();
            macro_rules! in_name_part {
                ($condition:expr) => {
                    Box::new(
                        patient::id.eq_any(
                            patient_name::table
                                .filter(patient_name::part.eq(part).and($condition))
                                .select(patient_name::patient_id),
                        ),
                    ) as Condition
                };
            }
            any_of!(patient::table, matches, |m| string_condition!(
                patient_name::value_norm,
                patient_name::value_exact,
                m,
                in_name_part
            ))
        }
        PatientFilter::Name { part: None, matches } => {
            macro_rules! in_any_name {
                ($condition:expr) => {
                    Box::new(
                        patient::id.eq_any(patient_name::table.filter($condition).select(patient_name::patient_id)),
                    ) as Condition
                };
            }
            any_of!(patient::table, matches, |m| string_condition!(
                patient_name::value_norm,
                patient_name::value_exact,
                m,
                in_any_name
            ))
        }
        PatientFilter::BirthDate(dates) => any_of!(patient::table, dates, |d| date_condition!(
            patient::table,
            patient::birth_start.assume_not_null(),
            patient::birth_end.assume_not_null(),
            d
        )),
        PatientFilter::LastUpdated(dates) => any_of!(patient::table, dates, |d| date_condition!(
            patient::table,
            patient::last_updated,
            patient::last_updated + 1_i64,
            d
        )),
        PatientFilter::Gender(codes) => one_of!(patient::gender.assume_not_null(), codes),
        PatientFilter::PostalCode(matches) => {
            macro_rules! in_postal_codes {
                ($condition:expr) => {
                    Box::new(
                        patient::id.eq_any(
                            patient_postal_code::table.filter($condition).select(patient_postal_code::patient_id),
                        ),
                    ) as Condition
                };
            }
            any_of!(patient::table, matches, |m| string_condition!(
                patient_postal_code::postal_code_norm,
                patient_postal_code::postal_code_norm,
                m,
                in_postal_codes
            ))
        }
        PatientFilter::Active(values) => one_of!(patient::active, values),
    }
}
