//! Sensitive elements: returned only to the organization that submitted them and to state
//! staff (the rule is in `service/access.rs`); everyone else gets the resource without them,
//! labelled `meta.security` REDACTED.
//!
//! - Patient: the mother's maiden name (`patient-mothersMaidenName` extension) and insurance
//!   (izreg's `insurance` extension).
//! - Immunization: VFC / program eligibility (`programEligibility`) and funding (`fundingSource`).

use serde_json::{Map, Value, json};

/// The standard extension for the mother's maiden name.
pub const MOTHERS_MAIDEN_NAME_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName";
/// izreg's extension for the person's insurance (plan name and member id as submitted).
pub const INSURANCE_EXTENSION: &str = "urn:izreg:StructureDefinition/insurance";
/// Immunization elements that are sensitive.
const SENSITIVE_ELEMENTS: [&str; 2] = ["programEligibility", "fundingSource"];
/// The security label on a redacted resource.
pub const REDACTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// Whether stored JSON may hold a sensitive element: a text test (prebuilt SIMD searchers, on
/// every resource returned) that lets the common case, no sensitive element, skip parsing. The
/// sensitive extensions can only be under an `"extension"` key.
pub fn may_hold_sensitive(json: &str) -> bool {
    use memchr::memmem::Finder;
    static FINDERS: std::sync::OnceLock<[Finder<'static>; 3]> = std::sync::OnceLock::new();
    let finders = FINDERS.get_or_init(|| {
        [Finder::new("\"extension\""), Finder::new("\"programEligibility\""), Finder::new("\"fundingSource\"")]
    });
    finders.iter().any(|finder| finder.find(json.as_bytes()).is_some())
}

/// The resource without its sensitive elements and labelled REDACTED; `None` when it holds
/// none (then it is returned as stored).
pub fn redact(json: &str) -> Result<Option<String>, serde_json::Error> {
    let mut value: Value = serde_json::from_str(json)?;
    let Some(resource) = value.as_object_mut() else { return Ok(None) };
    let mut removed = false;
    for element in SENSITIVE_ELEMENTS {
        removed |= resource.remove(element).is_some();
    }
    if let Some(Value::Array(extensions)) = resource.get_mut("extension") {
        let before = extensions.len();
        extensions.retain(|extension| {
            !matches!(extension["url"].as_str(), Some(MOTHERS_MAIDEN_NAME_EXTENSION | INSURANCE_EXTENSION))
        });
        removed |= extensions.len() != before;
        if extensions.is_empty() {
            resource.remove("extension");
        }
    }
    if !removed {
        return Ok(None);
    }
    let meta = resource.entry("meta").or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        let label = json!({"system": REDACTED_SYSTEM, "code": "REDACTED", "display": "redacted"});
        match meta.get_mut("security") {
            Some(Value::Array(labels)) => labels.push(label),
            _ => {
                meta.insert("security".to_owned(), json!([label]));
            }
        }
    }
    Ok(Some(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_elements_are_removed_and_the_resource_labelled() {
        let patient = json!({
            "resourceType": "Patient", "id": "p1", "meta": {"versionId": "1"},
            "extension": [
                {"url": MOTHERS_MAIDEN_NAME_EXTENSION, "valueString": "Berg"},
                {"url": "http://example.org/other", "valueString": "kept"}
            ],
            "name": [{"family": "Lund", "given": ["Ada"]}]
        })
        .to_string();
        assert!(may_hold_sensitive(&patient));
        let redacted: Value = serde_json::from_str(&redact(&patient).unwrap().unwrap()).unwrap();
        assert_eq!(redacted["extension"], json!([{"url": "http://example.org/other", "valueString": "kept"}]));
        assert_eq!(redacted["meta"]["security"][0]["code"], "REDACTED");
        assert_eq!(redacted["meta"]["versionId"], "1");
        assert_eq!(redacted["name"][0]["family"], "Lund");

        let immunization = json!({
            "resourceType": "Immunization", "id": "i1",
            "programEligibility": [{"coding": [{"code": "V02"}]}],
            "fundingSource": {"coding": [{"code": "VXC2"}]}
        })
        .to_string();
        let redacted: Value = serde_json::from_str(&redact(&immunization).unwrap().unwrap()).unwrap();
        assert!(redacted.get("programEligibility").is_none() && redacted.get("fundingSource").is_none());
        assert_eq!(redacted["meta"]["security"][0]["code"], "REDACTED");
    }

    #[test]
    fn resources_without_sensitive_elements_are_left_alone() {
        let plain = json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Lund"}]}).to_string();
        assert!(!may_hold_sensitive(&plain));
        assert_eq!(redact(&plain).unwrap(), None);
        // The text test may say "maybe" (an extension that is not sensitive); parsing decides.
        let lookalike =
            json!({"resourceType": "Patient", "extension": [{"url": "urn:other", "valueString": "x"}]}).to_string();
        assert!(may_hold_sensitive(&lookalike));
        assert_eq!(redact(&lookalike).unwrap(), None);
    }
}
