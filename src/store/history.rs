//! Operations on the `<type>_history` tables, identical for every resource type and so written
//! once, as a macro instantiated per table.

/// Generates `insert_history`, `read_version`, `instance_history` and `type_history` for one
/// history table.
macro_rules! history_operations {
    ($table:ident) => {
        /// One row of the history table.
        #[derive(diesel::Queryable)]
        struct HistoryRow {
            id: String,
            version_id: i64,
            last_updated: i64,
            method: String,
            resource_json: Option<String>,
        }

        impl HistoryRow {
            fn into_entry(self) -> Result<$crate::domain::resource::HistoryEntry, $crate::store::StoreError> {
                use $crate::domain::resource::{HistoryEntry, HistoryMethod};
                let method = HistoryMethod::parse(&self.method)
                    .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("history method {:?}", self.method)))?;
                Ok(HistoryEntry {
                    id: $crate::domain::ids::ResourceId::from_stored(self.id),
                    version_id: $crate::domain::ids::VersionId(self.version_id),
                    last_updated: $crate::domain::time::Timestamp(self.last_updated),
                    method,
                    json: self.resource_json,
                })
            }
        }

        /// A history row to insert.
        #[derive(diesel::Insertable)]
        #[diesel(table_name = $crate::store::schema::$table)]
        // NULL rather than DEFAULT for a deletion's missing JSON: on SQLite diesel can then
        // insert many rows in one statement instead of one statement per row.
        #[diesel(treat_none_as_default_value = false)]
        pub(super) struct NewHistoryRow<'a> {
            id: &'a str,
            version_id: i64,
            last_updated: i64,
            method: &'a str,
            resource_json: Option<&'a str>,
        }

        impl<'a> NewHistoryRow<'a> {
            /// The history row recording `resource` as written by `method` (bulk loads use it).
            pub(super) fn new(
                resource: &'a $crate::domain::resource::StoredResource,
                method: $crate::domain::resource::HistoryMethod,
            ) -> Self {
                NewHistoryRow {
                    id: resource.id.as_str(),
                    version_id: resource.version_id.0,
                    last_updated: resource.last_updated.0,
                    method: method.as_str(),
                    resource_json: Some(&resource.json),
                }
            }
        }

        /// Appends one version to the history.
        fn insert_history(
            conn: &mut $crate::store::DbConnection,
            id: &str,
            version_id: $crate::domain::ids::VersionId,
            last_updated: $crate::domain::time::Timestamp,
            method: $crate::domain::resource::HistoryMethod,
            json: Option<&str>,
        ) -> Result<(), $crate::store::StoreError> {
            use diesel::RunQueryDsl;
            diesel::insert_into($crate::store::schema::$table::table)
                .values(&NewHistoryRow {
                    id,
                    version_id: version_id.0,
                    last_updated: last_updated.0,
                    method: method.as_str(),
                    resource_json: json,
                })
                .execute(conn)?;
            Ok(())
        }

        /// One version of one resource (vread), deleted versions included.
        pub fn read_version(
            conn: &mut $crate::store::DbConnection,
            id: &str,
            version_id: i64,
        ) -> Result<Option<$crate::domain::resource::HistoryEntry>, $crate::store::StoreError> {
            use diesel::prelude::*;
            use $crate::store::schema::$table::dsl as h;
            let row = h::$table
                .filter(h::id.eq(id).and(h::version_id.eq(version_id)))
                .select((h::id, h::version_id, h::last_updated, h::method, h::resource_json))
                .get_result::<HistoryRow>(conn)
                .optional()?;
            row.map(HistoryRow::into_entry).transpose()
        }

        /// Versions of one resource, newest first, at most `count + 1` (the extra one tells
        /// the caller there is a next page).
        pub fn instance_history(
            conn: &mut $crate::store::DbConnection,
            id: &str,
            since: Option<$crate::domain::time::Timestamp>,
            before_version: Option<i64>,
            count: usize,
        ) -> Result<Vec<$crate::domain::resource::HistoryEntry>, $crate::store::StoreError> {
            use diesel::prelude::*;
            use $crate::store::schema::$table::dsl as h;
            let mut query = h::$table
                .filter(h::id.eq(id))
                .select((h::id, h::version_id, h::last_updated, h::method, h::resource_json))
                .into_boxed::<$crate::store::MultiBackend>();
            if let Some(since) = since {
                query = query.filter(h::last_updated.ge(since.0));
            }
            if let Some(before) = before_version {
                query = query.filter(h::version_id.lt(before));
            }
            let rows = query
                .order(h::version_id.desc())
                .limit(i64::try_from(count + 1).unwrap_or(i64::MAX))
                .load::<HistoryRow>(conn)?;
            rows.into_iter().map(HistoryRow::into_entry).collect()
        }

        /// Versions of every resource of the type, newest first, at most `count + 1`.
        pub fn type_history(
            conn: &mut $crate::store::DbConnection,
            since: Option<$crate::domain::time::Timestamp>,
            after: Option<&$crate::domain::search::HistoryKeyset>,
            count: usize,
        ) -> Result<Vec<$crate::domain::resource::HistoryEntry>, $crate::store::StoreError> {
            use diesel::prelude::*;
            use $crate::store::schema::$table::dsl as h;
            let mut query = h::$table
                .select((h::id, h::version_id, h::last_updated, h::method, h::resource_json))
                .into_boxed::<$crate::store::MultiBackend>();
            if let Some(since) = since {
                query = query.filter(h::last_updated.ge(since.0));
            }
            if let Some(cursor) = after {
                let (t, i, v) = (cursor.last_updated, cursor.id.clone(), cursor.version_id);
                query = query.filter(
                    h::last_updated
                        .lt(t)
                        .or(h::last_updated.eq(t).and(h::id.lt(i.clone()).or(h::id.eq(i).and(h::version_id.lt(v))))),
                );
            }
            let rows = query
                .order((h::last_updated.desc(), h::id.desc(), h::version_id.desc()))
                .limit(i64::try_from(count + 1).unwrap_or(i64::MAX))
                .load::<HistoryRow>(conn)?;
            rows.into_iter().map(HistoryRow::into_entry).collect()
        }
    };
}
pub(crate) use history_operations;
