//! Immunization: validation of submitted resources and extraction of their search facts.

use std::collections::BTreeSet;

use fhir_sdk::r4b::resources::{Immunization, ImmunizationOccurrence};

use super::date::date_time_range;
use super::outcome::{Issue, IssueType, Rejection, RejectionKind};
use super::parse::{Parsed, parse_resource};
use super::text::normalize_for_search;
use crate::domain::codes::{CVX_SYSTEM, CodeTables, MVX_SYSTEM};
use crate::domain::ids::ResourceId;
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::IndexedToken;
use crate::domain::resource::ResourceType;
use crate::domain::time::{TimeRange, Timestamp};

/// The `Immunization.status` codes (FHIR R4 ImmunizationStatusCodes).
pub const STATUS_CODES: [&str; 3] = ["completed", "entered-in-error", "not-done"];

/// An Immunization that passed the checks that need no database.
#[derive(Debug, Clone)]
pub struct ValidImmunization {
    /// Canonical JSON (id and meta are set when stored).
    pub canonical: serde_json::Map<String, serde_json::Value>,
    /// The id in the submitted body, if any.
    pub submitted_id: Option<String>,
    /// Search facts (including the Patient id).
    pub index: ImmunizationIndex,
}

/// Parses and validates a submitted Immunization against the code tables. The Patient it
/// refers to is checked by the caller (see [`check_against_patient`]).
pub fn validate(value: &serde_json::Value, codes: &CodeTables, now: Timestamp) -> Result<ValidImmunization, Rejection> {
    let Parsed { typed, canonical } = parse_resource::<Immunization>(value, ResourceType::Immunization)?;
    let mut malformed = Vec::new();
    let mut unprocessable = Vec::new();

    if !STATUS_CODES.contains(&typed.status.as_str()) {
        malformed.push(Issue::at(
            IssueType::CodeInvalid,
            "Immunization.status",
            "Immunization.status must be one of 'completed', 'entered-in-error', 'not-done'.",
        ));
    }

    let mut cvx_codings = 0;
    for (i, coding) in typed.vaccine_code.coding.iter().enumerate() {
        let Some(coding) = coding else { continue };
        if coding.system.as_deref() != Some(CVX_SYSTEM) {
            continue;
        }
        cvx_codings += 1;
        let expression = format!("Immunization.vaccineCode.coding[{i}].code");
        match coding.code.as_deref() {
            None => malformed.push(Issue::at(IssueType::Required, expression, "A CVX coding needs a code.")),
            Some(code) if codes.cvx(code).is_none() => unprocessable.push(Issue::at(
                IssueType::CodeInvalid,
                expression,
                format!("Unknown CVX code; see the CDC CVX table ({CVX_SYSTEM})."),
            )),
            Some(_) => {}
        }
    }
    if cvx_codings == 0 {
        malformed.push(Issue::at(
            IssueType::Required,
            "Immunization.vaccineCode.coding",
            format!("Immunization.vaccineCode needs a CVX coding (system {CVX_SYSTEM})."),
        ));
    }

    if let Some(manufacturer) = &typed.manufacturer
        && let Some(identifier) = &manufacturer.identifier
        && identifier.system.as_deref() == Some(MVX_SYSTEM)
    {
        match identifier.value.as_deref() {
            Some(code) if codes.mvx(code).is_some() => {}
            Some(_) => unprocessable.push(Issue::at(
                IssueType::CodeInvalid,
                "Immunization.manufacturer.identifier.value",
                format!("Unknown MVX manufacturer code; see the CDC MVX table ({MVX_SYSTEM})."),
            )),
            None => malformed.push(Issue::at(
                IssueType::Required,
                "Immunization.manufacturer.identifier.value",
                "An MVX manufacturer identifier needs a value.",
            )),
        }
    }

    let patient_id = match typed.patient.reference.as_deref().map(parse_patient_reference) {
        Some(Some(id)) => Some(id),
        Some(None) => {
            malformed.push(Issue::at(
                IssueType::Value,
                "Immunization.patient.reference",
                "Immunization.patient.reference must be a relative reference 'Patient/{id}'.",
            ));
            None
        }
        None => {
            malformed.push(Issue::at(
                IssueType::Required,
                "Immunization.patient.reference",
                "Immunization.patient must reference the Patient ('Patient/{id}').",
            ));
            None
        }
    };

    let occurrence = match &typed.occurrence {
        ImmunizationOccurrence::DateTime(value) => {
            let range = date_time_range(value);
            if range.is_none() {
                malformed.push(Issue::at(
                    IssueType::Value,
                    "Immunization.occurrenceDateTime",
                    "Immunization.occurrenceDateTime is out of range.",
                ));
            }
            range
        }
        ImmunizationOccurrence::String(_) => {
            malformed.push(Issue::at(
                IssueType::NotSupported,
                "Immunization.occurrenceString",
                "The registry needs the date of administration: send occurrenceDateTime.",
            ));
            None
        }
    };
    if let Some(occurrence) = occurrence
        && occurrence.start > now
    {
        unprocessable.push(Issue::at(
            IssueType::Invariant,
            "Immunization.occurrenceDateTime",
            "Immunization.occurrenceDateTime is in the future.",
        ));
    }
    if let Some(recorded) = typed.recorded.as_ref().and_then(date_time_range)
        && recorded.start > now
    {
        unprocessable.push(Issue::at(
            IssueType::Invariant,
            "Immunization.recorded",
            "Immunization.recorded is in the future.",
        ));
    }

    if !malformed.is_empty() {
        malformed.extend(unprocessable);
        return Err(Rejection { kind: RejectionKind::Malformed, issues: malformed });
    }
    if !unprocessable.is_empty() {
        return Err(Rejection { kind: RejectionKind::Unprocessable, issues: unprocessable });
    }
    let Some(patient_id) = patient_id else {
        return Err(Rejection::malformed(Issue::at(
            IssueType::Required,
            "Immunization.patient",
            "Immunization.patient is required.",
        )));
    };
    let vaccine_codes: BTreeSet<IndexedToken> = typed
        .vaccine_code
        .coding
        .iter()
        .flatten()
        .filter_map(|c| {
            c.code
                .as_ref()
                .map(|code| IndexedToken { system: c.system.clone().unwrap_or_default(), value: code.clone() })
        })
        .collect();
    let index = ImmunizationIndex {
        patient_id,
        occurrence,
        status: typed.status.clone(),
        lot_number_normalized: typed.lot_number.as_deref().map(normalize_for_search),
        vaccine_codes: vaccine_codes.into_iter().collect(),
    };
    Ok(ValidImmunization { canonical, submitted_id: typed.id.clone(), index })
}

/// Parses `Patient/{id}` (relative reference).
pub fn parse_patient_reference(reference: &str) -> Option<ResourceId> {
    reference.strip_prefix("Patient/").and_then(|id| ResourceId::parse(id).ok())
}

/// Checks an Immunization against its Patient's birth date: a dose cannot precede birth.
pub fn check_against_patient(occurrence: Option<TimeRange>, birth: Option<TimeRange>) -> Result<(), Rejection> {
    match (occurrence, birth) {
        (Some(occurrence), Some(birth)) if occurrence.end <= birth.start => Err(Rejection::unprocessable(Issue::at(
            IssueType::Invariant,
            "Immunization.occurrenceDateTime",
            "Immunization.occurrenceDateTime is before the Patient's birth date.",
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::codes::{CvxCode, MvxCode};

    fn codes() -> CodeTables {
        CodeTables::new(
            vec![CvxCode {
                code: "03".into(),
                label: "MMR".into(),
                status: "Valid".into(),
                vaccine_group: Some("MMR".into()),
            }],
            vec![MvxCode { code: "MSD".into(), label: "Merck".into(), status: "Valid".into() }],
        )
    }

    fn immunization() -> serde_json::Value {
        json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": CVX_SYSTEM, "code": "03"}]},
            "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2021-05-01",
            "manufacturer": {"identifier": {"system": MVX_SYSTEM, "value": "MSD"}},
            "lotNumber": "AB12"
        })
    }

    #[test]
    fn accepts_a_valid_immunization_and_indexes_it() {
        let valid = validate(&immunization(), &codes(), Timestamp::now()).unwrap();
        assert_eq!(valid.index.patient_id.as_str(), "p1");
        assert_eq!(valid.index.lot_number_normalized.as_deref(), Some("ab12"));
        assert_eq!(valid.index.vaccine_codes[0].value, "03");
    }

    #[test]
    fn refuses_unknown_cvx_and_mvx_codes() {
        let mut imm = immunization();
        imm["vaccineCode"]["coding"][0]["code"] = json!("9999");
        imm["manufacturer"]["identifier"]["value"] = json!("NOPE");
        let err = validate(&imm, &codes(), Timestamp::now()).unwrap_err();
        assert_eq!(err.kind, RejectionKind::Unprocessable);
        let expressions: Vec<_> = err.issues.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert_eq!(
            expressions,
            vec!["Immunization.vaccineCode.coding[0].code", "Immunization.manufacturer.identifier.value"]
        );
    }

    #[test]
    fn refuses_future_doses_and_bad_status() {
        let mut imm = immunization();
        imm["occurrenceDateTime"] = json!("2999-01-01");
        imm["status"] = json!("done");
        let err = validate(&imm, &codes(), Timestamp::now()).unwrap_err();
        assert_eq!(err.issues.len(), 2);
    }

    #[test]
    fn refuses_a_dose_before_birth() {
        let birth = crate::fhir::date::parse_search_value("2021-05-02");
        let occurrence = crate::fhir::date::parse_search_value("2021-05-01");
        assert!(check_against_patient(occurrence, birth).is_err());
        assert!(check_against_patient(birth, birth).is_ok());
    }
}
