//! Patient: validation of submitted resources and extraction of their search facts.

use fhir_sdk::r4b::resources::{Patient, PatientDeceased};
use std::collections::BTreeSet;

use super::date::{date_range, date_time_range, is_full_date};
use super::outcome::{Issue, IssueType, Rejection, RejectionKind};
use super::parse::{Parsed, parse_resource};
use super::text::normalize_for_search;
use crate::domain::patient::{IndexedName, IndexedToken, NamePart, PatientIndex};
use crate::domain::resource::ResourceType;
use crate::domain::time::{TimeRange, Timestamp};

/// Earliest birth date accepted: older values are almost always data-entry errors.
const EARLIEST_BIRTH_YEAR: i32 = 1890;

/// A Patient that passed validation, ready to store.
#[derive(Debug, Clone)]
pub struct ValidPatient {
    /// Canonical JSON (id and meta are set when stored).
    pub canonical: serde_json::Map<String, serde_json::Value>,
    /// The id in the submitted body, if any (an update must match the URL).
    pub submitted_id: Option<String>,
    /// Search facts.
    pub index: PatientIndex,
}

/// Parses and validates a submitted Patient. `now` decides what "in the future" means.
pub fn validate(value: &serde_json::Value, now: Timestamp) -> Result<ValidPatient, Rejection> {
    let Parsed { typed, canonical } = parse_resource::<Patient>(value, ResourceType::Patient)?;
    let mut issues = Vec::new();

    let has_family = typed.name.iter().flatten().any(|n| n.family.is_some());
    let has_given = typed.name.iter().flatten().any(|n| n.given.iter().flatten().next().is_some());
    if !has_family || !has_given {
        issues.push(Issue::at(
            IssueType::Required,
            "Patient.name",
            "A registry Patient needs a name with a family name and at least one given name.",
        ));
    }
    let birth = match &typed.birth_date {
        None => {
            issues.push(Issue::at(IssueType::Required, "Patient.birthDate", "Patient.birthDate is required."));
            None
        }
        Some(date) if !is_full_date(date) => {
            issues.push(Issue::at(
                IssueType::Value,
                "Patient.birthDate",
                "Patient.birthDate must be a full date (YYYY-MM-DD): forecasting and matching need the day.",
            ));
            None
        }
        Some(date) => {
            let range = date_range(date);
            if range.is_none() {
                issues.push(Issue::at(IssueType::Value, "Patient.birthDate", "Patient.birthDate is out of range."));
            }
            range
        }
    };
    if let Some(birth) = birth {
        if birth.start > now {
            issues.push(Issue::at(IssueType::Invariant, "Patient.birthDate", "Patient.birthDate is in the future."));
        }
        if let Some(earliest) = super::date::parse_search_value(&format!("{EARLIEST_BIRTH_YEAR}"))
            && birth.start < earliest.start
        {
            issues.push(Issue::at(
                IssueType::Value,
                "Patient.birthDate",
                format!("Patient.birthDate is before {EARLIEST_BIRTH_YEAR}."),
            ));
        }
    }
    if let Some(PatientDeceased::DateTime(deceased)) = &typed.deceased
        && let Some(range) = date_time_range(deceased)
    {
        if range.start > now {
            issues.push(Issue::at(
                IssueType::Invariant,
                "Patient.deceasedDateTime",
                "Patient.deceasedDateTime is in the future.",
            ));
        }
        if birth.is_some_and(|b| range.end <= b.start) {
            issues.push(Issue::at(
                IssueType::Invariant,
                "Patient.deceasedDateTime",
                "Patient.deceasedDateTime is before Patient.birthDate.",
            ));
        }
    }
    for (i, identifier) in typed.identifier.iter().enumerate() {
        if identifier.as_ref().is_some_and(|id| id.value.is_none()) {
            issues.push(Issue::at(
                IssueType::Required,
                format!("Patient.identifier[{i}].value"),
                "Every identifier needs a value.",
            ));
        }
    }
    if !issues.is_empty() {
        let kind = if issues.iter().all(|i| i.code == IssueType::Invariant) {
            RejectionKind::Unprocessable
        } else {
            RejectionKind::Malformed
        };
        return Err(Rejection { kind, issues });
    }
    Ok(ValidPatient { submitted_id: typed.id.clone(), index: index(&typed, birth), canonical })
}

fn index(patient: &Patient, birth: Option<TimeRange>) -> PatientIndex {
    let mut names = BTreeSet::new();
    let mut add = |part: NamePart, text: &str| {
        names.insert((part.as_str(), text.to_owned(), part));
    };
    for name in patient.name.iter().flatten() {
        if let Some(family) = &name.family {
            add(NamePart::Family, family);
        }
        for given in name.given.iter().flatten() {
            add(NamePart::Given, given);
        }
        for prefix in name.prefix.iter().flatten() {
            add(NamePart::Prefix, prefix);
        }
        for suffix in name.suffix.iter().flatten() {
            add(NamePart::Suffix, suffix);
        }
        if let Some(text) = &name.text {
            add(NamePart::Text, text);
        }
    }
    // The family sort key is the official name's family name, else the first one given.
    let official = patient
        .name
        .iter()
        .flatten()
        .find(|n| n.r#use.as_ref().is_some_and(|u| u.as_ref() == "official") && n.family.is_some());
    let family_sort = official
        .or_else(|| patient.name.iter().flatten().find(|n| n.family.is_some()))
        .and_then(|n| n.family.as_deref())
        .map(normalize_for_search)
        .unwrap_or_default();
    let identifiers: BTreeSet<IndexedToken> = patient
        .identifier
        .iter()
        .flatten()
        .filter_map(|i| {
            i.value
                .as_ref()
                .map(|value| IndexedToken { system: i.system.clone().unwrap_or_default(), value: value.clone() })
        })
        .collect();
    let postal_codes: BTreeSet<String> = patient
        .address
        .iter()
        .flatten()
        .filter_map(|a| a.postal_code.as_deref())
        .map(normalize_postal_code)
        .filter(|p| !p.is_empty())
        .collect();
    PatientIndex {
        family_sort,
        birth,
        gender: patient.gender.as_ref().map(|g| g.as_ref().to_owned()),
        active: patient.active.unwrap_or(true),
        names: names
            .into_iter()
            .map(|(_, exact, part)| IndexedName { part, normalized: normalize_for_search(&exact), exact })
            .collect(),
        identifiers: identifiers.into_iter().collect(),
        postal_codes: postal_codes.into_iter().collect(),
    }
}

/// Postal codes compare case-insensitively and without inner spaces (`K1A 0B1` = `k1a0b1`).
pub fn normalize_postal_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> Timestamp {
        Timestamp::now()
    }

    fn valid_patient() -> serde_json::Value {
        json!({
            "resourceType": "Patient",
            "identifier": [{"system": "urn:mrn", "value": "A1"}, {"system": "urn:mrn", "value": "A1"}],
            "name": [{"use": "official", "family": "Muñoz", "given": ["Ana", "María"]}],
            "gender": "female",
            "birthDate": "2020-02-29",
            "address": [{"postalCode": "55455 "}]
        })
    }

    #[test]
    fn indexes_names_identifiers_and_postal_codes() {
        let valid = validate(&valid_patient(), now()).unwrap();
        assert_eq!(valid.index.family_sort, "munoz");
        assert_eq!(valid.index.names.len(), 3);
        assert_eq!(valid.index.identifiers.len(), 1, "duplicates collapse");
        assert_eq!(valid.index.postal_codes, vec!["55455".to_owned()]);
        assert!(valid.index.active);
        assert_eq!(valid.index.gender.as_deref(), Some("female"));
    }

    #[test]
    fn requires_name_and_full_birth_date() {
        let err = validate(&json!({"resourceType": "Patient", "birthDate": "2020"}), now()).unwrap_err();
        let expressions: Vec<_> = err.issues.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert_eq!(expressions, vec!["Patient.name", "Patient.birthDate"]);
        assert_eq!(err.kind, RejectionKind::Malformed);
    }

    #[test]
    fn refuses_a_birth_date_in_the_future() {
        let mut patient = valid_patient();
        patient["birthDate"] = json!("2999-01-01");
        let err = validate(&patient, now()).unwrap_err();
        assert_eq!(err.kind, RejectionKind::Unprocessable);
        assert_eq!(err.issues[0].expression.as_deref(), Some("Patient.birthDate"));
    }
}
