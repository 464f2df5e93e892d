//! Identifier newtypes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A FHIR logical id: 1 to 64 characters from `A-Z a-z 0-9 - .` (FHIR `id` datatype).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(String);

/// Why a string is not a FHIR id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a resource id is 1 to 64 characters from A-Z, a-z, 0-9, '-' and '.'")]
pub struct InvalidResourceId;

impl ResourceId {
    /// Parses a FHIR id.
    pub fn parse(value: &str) -> Result<Self, InvalidResourceId> {
        let valid_length = (1..=64).contains(&value.len());
        let valid_chars = value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if valid_length && valid_chars { Ok(ResourceId(value.to_owned())) } else { Err(InvalidResourceId) }
    }

    /// A new server-assigned id. UUID v7 ids are time-ordered, which keeps the primary-key
    /// B-tree append-mostly and gives the default sort a sensible (creation) order.
    pub fn generate() -> Self {
        ResourceId(uuid::Uuid::now_v7().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds an id read back from the database (already validated when it was stored).
    pub fn from_stored(value: String) -> Self {
        ResourceId(value)
    }
}

impl TryFrom<String> for ResourceId {
    type Error = InvalidResourceId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ResourceId::parse(&value)
    }
}

impl From<ResourceId> for String {
    fn from(id: ResourceId) -> String {
        id.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resource version (`meta.versionId`), starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionId(pub i64);

impl VersionId {
    /// The version a create produces.
    pub const FIRST: VersionId = VersionId(1);

    /// The version after this one.
    pub fn next(self) -> VersionId {
        VersionId(self.0 + 1)
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_id_accepts_fhir_ids_and_rejects_others() {
        assert!(ResourceId::parse("abc-123.X").is_ok());
        assert!(ResourceId::parse(&"a".repeat(64)).is_ok());
        assert!(ResourceId::parse(&"a".repeat(65)).is_err());
        assert!(ResourceId::parse("").is_err());
        assert!(ResourceId::parse("a/b").is_err());
        assert!(ResourceId::parse("a b").is_err());
        assert!(ResourceId::parse("é").is_err());
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = ResourceId::generate();
        let b = ResourceId::generate();
        assert_ne!(a, b);
        assert!(ResourceId::parse(a.as_str()).is_ok());
    }
}
