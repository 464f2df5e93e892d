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
