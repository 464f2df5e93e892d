//! The stored form of a resource: canonical JSON with the server's `id` and `meta`.

use serde_json::{Map, Value};

use super::date::format_instant;
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::resource::ResourceType;
use crate::domain::time::Timestamp;

/// Renders the JSON to store and serve: `resourceType`, `id` and `meta` first (with the
/// server's `versionId` and `lastUpdated`; the client's `profile`, `tag`, `security` and
/// `source` are kept), then the other elements in their canonical order.
pub fn render(
    canonical: &Map<String, Value>,
    resource_type: ResourceType,
    id: &ResourceId,
    version_id: VersionId,
    last_updated: Timestamp,
) -> String {
    let mut meta = match canonical.get("meta") {
        Some(Value::Object(meta)) => meta.clone(),
        _ => Map::new(),
    };
    meta.shift_remove("versionId");
    meta.shift_remove("lastUpdated");
    let mut ordered_meta = Map::with_capacity(meta.len() + 2);
    ordered_meta.insert("versionId".into(), Value::String(version_id.to_string()));
    ordered_meta.insert("lastUpdated".into(), Value::String(format_instant(last_updated)));
    ordered_meta.extend(meta);

    let mut out = Map::with_capacity(canonical.len() + 2);
    out.insert("resourceType".into(), Value::String(resource_type.as_str().into()));
    out.insert("id".into(), Value::String(id.as_str().into()));
    out.insert("meta".into(), Value::Object(ordered_meta));
    for (key, value) in canonical {
        if !matches!(key.as_str(), "resourceType" | "id" | "meta") {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sets_id_and_meta_first_and_keeps_client_tags() {
        let canonical = json!({
            "resourceType": "Patient",
            "gender": "male",
            "id": "client-id",
            "meta": {"versionId": "99", "tag": [{"code": "x"}]}
        });
        let Value::Object(canonical) = canonical else { unreachable!() };
        let id = ResourceId::parse("server-id").unwrap();
        let json = render(&canonical, ResourceType::Patient, &id, VersionId(2), Timestamp(0));
        assert_eq!(
            json,
            r#"{"resourceType":"Patient","id":"server-id","meta":{"versionId":"2","lastUpdated":"1970-01-01T00:00:00.000000Z","tag":[{"code":"x"}]},"gender":"male"}"#
        );
    }
}
