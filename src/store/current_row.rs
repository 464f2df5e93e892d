//! The columns every current-resource table shares, read the same way for every type.

use diesel::Queryable;

use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::resource::{CurrentVersion, StoredResource};
use crate::domain::time::Timestamp;

/// `(id, version_id, last_updated, deleted, resource_json)` of a current table.
#[derive(Queryable)]
pub(super) struct CurrentRow {
    id: String,
    version_id: i64,
    last_updated: i64,
    deleted: bool,
    resource_json: String,
}

impl CurrentRow {
    /// The row as a live resource or a deletion marker.
    pub(super) fn into_current(self) -> CurrentVersion {
        if self.deleted {
            CurrentVersion::Deleted {
                version_id: VersionId(self.version_id),
                last_updated: Timestamp(self.last_updated),
            }
        } else {
            CurrentVersion::Live(StoredResource {
                id: ResourceId::from_stored(self.id),
                version_id: VersionId(self.version_id),
                last_updated: Timestamp(self.last_updated),
                json: self.resource_json,
            })
        }
    }
}

/// `owner` and `set_owner` for a current table with `owner_organization_id` and
/// `owner_facility_id` columns: who submitted the resource (the agreement ties data to the
/// site that administered or recorded it, and only that organization may change it).
macro_rules! owner_operations {
    ($table:ident) => {
        /// The organization that submitted the resource (`None`: the registry's own data, or no
        /// such id).
        pub fn owner(conn: &mut DbConnection, id: &str) -> Result<Option<String>, StoreError> {
            Ok($table::table
                .find(id)
                .select($table::owner_organization_id)
                .get_result::<Option<String>>(conn)
                .optional()?
                .flatten())
        }

        /// Stamps the organization and facility that submitted the resource.
        pub fn set_owner(
            conn: &mut DbConnection,
            id: &str,
            organization_id: &str,
            facility_id: Option<&str>,
        ) -> Result<(), StoreError> {
            diesel::update($table::table.find(id))
                .set(($table::owner_organization_id.eq(organization_id), $table::owner_facility_id.eq(facility_id)))
                .execute(conn)?;
            Ok(())
        }
    };
}
pub(crate) use owner_operations;
