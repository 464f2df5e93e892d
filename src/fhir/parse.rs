//! Strict parsing of FHIR JSON into fhir-sdk's typed model.
//!
//! fhir-sdk silently drops JSON elements it does not know, and a typed struct does not check
//! `resourceType`. A registry must never lose submitted data without saying so, so parsing
//! here: checks the JSON rules FHIR adds (no nulls, no empty strings/objects/arrays), checks
//! `resourceType`, deserializes with the element path kept for errors, then serializes the typed
//! value again and refuses the resource if any submitted element is missing from the result.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::outcome::{Issue, IssueType, Rejection};
use crate::domain::resource::ResourceType;

/// A resource parsed into its typed form, with the canonical JSON object it serializes to.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    /// The typed resource.
    pub typed: T,
    /// The typed resource serialized again: what the registry stores (after setting id/meta).
    pub canonical: Map<String, Value>,
}

/// Parses bytes as JSON. The error names the line and column, never the content.
pub fn parse_json(bytes: &[u8]) -> Result<Value, Rejection> {
    serde_json::from_slice::<Value>(bytes).map_err(|e| {
        Rejection::malformed(Issue::error(
            IssueType::Structure,
            format!("The body is not valid JSON (line {}, column {}).", e.line(), e.column()),
        ))
    })
}

/// The `resourceType` of a JSON object, if it has a string one.
pub fn resource_type_of(value: &Value) -> Option<&str> {
    value.get("resourceType").and_then(Value::as_str)
}

/// Parses a JSON value as a resource of the expected type, strictly (see the module comment).
pub fn parse_resource<T>(value: &Value, expected: ResourceType) -> Result<Parsed<T>, Rejection>
where
    T: DeserializeOwned + Serialize,
{
    let expected_name = expected.as_str();
    let Some(object) = value.as_object() else {
        return Err(Rejection::malformed(Issue::error(
            IssueType::Structure,
            "The body must be a JSON object (a FHIR resource).",
        )));
    };
    match object.get("resourceType") {
        Some(Value::String(name)) if name == expected_name => {}
        Some(Value::String(_)) => {
            return Err(Rejection::malformed(Issue::at(
                IssueType::Invalid,
                "resourceType",
                format!("The resource must be a {expected_name} here."),
            )));
        }
        _ => {
            return Err(Rejection::malformed(Issue::at(
                IssueType::Required,
                "resourceType",
                format!("The resource has no resourceType; it must be {expected_name}."),
            )));
        }
    }
    let mut issues = Vec::new();
    check_json_rules(value, expected_name, false, &mut issues);
    if !issues.is_empty() {
        return Err(Rejection { kind: super::outcome::RejectionKind::Malformed, issues });
    }
    let typed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = element_path(expected_name, &e.path().to_string());
        Rejection::malformed(describe_type_error(&path, &e.into_inner().to_string()))
    })?;
    let reserialized = serde_json::to_value(&typed).map_err(|_| {
        Rejection::malformed(Issue::error(
            IssueType::Value,
            "A value in the resource cannot be represented (e.g. a year outside 1000-9999).",
        ))
    })?;
    if let Some(dropped) = first_dropped_element(value, &reserialized, expected_name) {
        return Err(Rejection::malformed(Issue::at(
            IssueType::Structure,
            dropped.clone(),
            format!(
                "Unknown or misplaced element {dropped}: it is not part of a FHIR R4 {expected_name} at this position."
            ),
        )));
    }
    let Value::Object(canonical) = reserialized else {
        return Err(Rejection::malformed(Issue::error(IssueType::Structure, "The body must be a JSON object.")));
    };
    Ok(Parsed { typed, canonical })
}

fn element_path(resource_type: &str, serde_path: &str) -> String {
    if serde_path.is_empty() || serde_path == "." {
        resource_type.to_owned()
    } else {
        format!("{resource_type}.{serde_path}")
    }
}

/// Turns a serde error into an issue without echoing the submitted value.
fn describe_type_error(path: &str, message: &str) -> Issue {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let expression = format!("{path}.{field}");
        return Issue::at(IssueType::Required, expression.clone(), format!("{expression} is required."));
    }
    if message.starts_with("unknown variant") {
        let allowed = message.split_once("expected ").map(|(_, a)| a.replace('`', "'")).unwrap_or_default();
        return Issue::at(IssueType::CodeInvalid, path, format!("{path} is not an allowed code; expected {allowed}."));
    }
    // fhir-sdk's code types say "Unknown value: <the value>"; the value is not repeated here.
    if message.starts_with("Unknown value") {
        let allowed = match path.rsplit('.').next() {
            Some("gender") => " (male, female, other or unknown)",
            Some("use") => " (see the element's FHIR value set)",
            _ => "",
        };
        return Issue::at(IssueType::CodeInvalid, path, format!("{path} is not an allowed code{allowed}."));
    }
    if message.starts_with("invalid type") {
        let expected =
            message.split_once("expected ").map(|(_, a)| a.to_owned()).unwrap_or_else(|| "another type".into());
        return Issue::at(IssueType::Structure, path, format!("{path} has the wrong JSON type; expected {expected}."));
    }
    Issue::at(
        IssueType::Value,
        path,
        format!(
            "{path} is not a valid value for this element (dates are YYYY, YYYY-MM or YYYY-MM-DD; \
             date-times YYYY-MM-DDThh:mm:ss with a time zone such as Z or +01:00)."
        ),
    )
}

/// FHIR JSON rules serde does not check: no `null` (except as a placeholder inside arrays of
/// primitives), no empty strings, objects or arrays.
fn check_json_rules(value: &Value, path: &str, in_array: bool, issues: &mut Vec<Issue>) {
    const MAX_ISSUES: usize = 20;
    if issues.len() >= MAX_ISSUES {
        return;
    }
    match value {
        Value::Null if !in_array => {
            issues.push(Issue::at(
                IssueType::Structure,
                path,
                format!("{path} is null; FHIR JSON omits absent elements instead."),
            ));
        }
        Value::String(s) if s.is_empty() => {
            issues.push(Issue::at(
                IssueType::Value,
                path,
                format!("{path} is an empty string; FHIR does not allow empty values."),
            ));
        }
        Value::String(s) if s.trim().is_empty() => {
            issues.push(Issue::at(IssueType::Value, path, format!("{path} holds only white space.")));
        }
        Value::Array(items) => {
            if items.is_empty() {
                issues.push(Issue::at(
                    IssueType::Structure,
                    path,
                    format!("{path} is an empty array; omit it instead."),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                check_json_rules(item, &format!("{path}[{i}]"), true, issues);
            }
        }
        Value::Object(map) => {
            if map.is_empty() {
                issues.push(Issue::at(
                    IssueType::Structure,
                    path,
                    format!("{path} is an empty object; omit it instead."),
                ));
            }
            for (key, item) in map {
                // `div` of a Narrative is XHTML in a string; anything goes there.
                if key == "div" {
                    continue;
                }
                check_json_rules(item, &format!("{path}.{key}"), false, issues);
            }
        }
        _ => {}
    }
}

/// The path of the first element present in `submitted` but missing from `kept`.
fn first_dropped_element(submitted: &Value, kept: &Value, path: &str) -> Option<String> {
    match (submitted, kept) {
        (Value::Object(sub), Value::Object(kept)) => sub.iter().find_map(|(key, value)| {
            let child_path = format!("{path}.{key}");
            match kept.get(key) {
                None => Some(child_path),
                Some(kept_value) => first_dropped_element(value, kept_value, &child_path),
            }
        }),
        (Value::Array(sub), Value::Array(kept)) => sub.iter().enumerate().find_map(|(i, value)| {
            let child_path = format!("{path}[{i}]");
            match kept.get(i) {
                None if value.is_null() => None,
                None => Some(child_path),
                Some(kept_value) => first_dropped_element(value, kept_value, &child_path),
            }
        }),
        (Value::Object(sub), _) if !sub.is_empty() => Some(path.to_owned()),
        (Value::Array(sub), _) if !sub.is_empty() => Some(path.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use fhir_sdk::r4b::resources::Patient;
    use serde_json::json;

    use super::*;

    fn parse_patient(value: Value) -> Result<Parsed<Patient>, Rejection> {
        parse_resource::<Patient>(&value, ResourceType::Patient)
    }

    #[test]
    fn accepts_a_plain_patient() {
        let parsed =
            parse_patient(json!({"resourceType": "Patient", "birthDate": "2020-01-02", "name": [{"family": "Doe"}]}))
                .unwrap();
        assert_eq!(parsed.canonical["birthDate"], "2020-01-02");
    }

    #[test]
    fn refuses_unknown_elements_with_their_path() {
        let err = parse_patient(json!({"resourceType": "Patient", "name": [{"family": "Doe", "nickname": "Jo"}]}))
            .unwrap_err();
        assert_eq!(err.issues[0].expression.as_deref(), Some("Patient.name[0].nickname"));
        assert_eq!(err.issues[0].code, IssueType::Structure);
    }

    #[test]
    fn refuses_the_wrong_resource_type() {
        let err = parse_patient(json!({"resourceType": "Observation"})).unwrap_err();
        assert_eq!(err.issues[0].expression.as_deref(), Some("resourceType"));
    }

    #[test]
    fn names_the_element_holding_a_bad_date_without_echoing_it() {
        let err = parse_patient(json!({"resourceType": "Patient", "birthDate": "2020-13-45"})).unwrap_err();
        assert_eq!(err.issues[0].expression.as_deref(), Some("Patient.birthDate"));
        assert!(!err.issues[0].diagnostics.contains("2020-13-45"));
    }

    #[test]
    fn refuses_nulls_and_empty_values() {
        let err = parse_patient(json!({"resourceType": "Patient", "gender": null, "name": []})).unwrap_err();
        assert_eq!(err.issues.len(), 2);
    }

    #[test]
    fn reports_bad_codes_with_the_allowed_values() {
        let err = parse_patient(json!({"resourceType": "Patient", "gender": "yes"})).unwrap_err();
        assert_eq!(err.issues[0].code, IssueType::CodeInvalid);
        assert!(err.issues[0].diagnostics.contains("female"), "{}", err.issues[0].diagnostics);
    }
}
