//! What the registry keeps of any FHIR resource, whatever its type.

use std::fmt;

use super::ids::{ResourceId, VersionId};
use super::time::Timestamp;

/// The FHIR resource types the registry stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// A person the registry holds immunizations for.
    Patient,
    /// One vaccine administration (or a historical record of one).
    Immunization,
}

impl ResourceType {
    /// The FHIR name (`Patient`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Patient => "Patient",
            ResourceType::Immunization => "Immunization",
        }
    }

    /// Parses a FHIR resource type name this registry stores.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "Patient" => Some(ResourceType::Patient),
            "Immunization" => Some(ResourceType::Immunization),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One version of a resource as stored: the JSON served to clients (with `id` and `meta`
/// filled in), so a read sends these bytes without (de)serializing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResource {
    /// Logical id.
    pub id: ResourceId,
    /// Version id.
    pub version_id: VersionId,
    /// When this version was written.
    pub last_updated: Timestamp,
    /// The resource JSON.
    pub json: String,
}

/// The state of a resource's current row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrentVersion {
    /// The resource exists; this is its current version.
    Live(StoredResource),
    /// The resource was deleted; this was the deleting version.
    Deleted {
        /// The version id the delete produced.
        version_id: VersionId,
        /// When it was deleted.
        last_updated: Timestamp,
    },
}

/// How a version came to be (FHIR `Bundle.entry.request.method` in a history Bundle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMethod {
    /// Created (POST).
    Create,
    /// Updated (PUT).
    Update,
    /// Deleted (DELETE).
    Delete,
}

impl HistoryMethod {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryMethod::Create => "create",
            HistoryMethod::Update => "update",
            HistoryMethod::Delete => "delete",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "create" => Some(HistoryMethod::Create),
            "update" => Some(HistoryMethod::Update),
            "delete" => Some(HistoryMethod::Delete),
            _ => None,
        }
    }
}

/// One entry of a resource's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Logical id.
    pub id: ResourceId,
    /// Version id.
    pub version_id: VersionId,
    /// When this version was written.
    pub last_updated: Timestamp,
    /// What produced the version.
    pub method: HistoryMethod,
    /// The resource JSON; `None` for a delete.
    pub json: Option<String>,
}
