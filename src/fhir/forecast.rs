//! The Immunization Decision Support forecast (`$immds-forecast`, HL7 ImmDS IG, FHIR R4):
//! FHIR input to the CDSi engine's [`PatientHistory`], and the engine's [`Assessment`] to FHIR
//! `ImmunizationEvaluation` / `ImmunizationRecommendation` resources in an output `Parameters`.
//! Pure: the caller loads the resources and runs the engine.
//!
//! Conventions (see `docs/forecast.md`):
//! - conditions (`condition` parameters, Condition or Observation) carry the CDSi observation
//!   code in a coding of [`CDSI_OBSERVATION_SYSTEM`];
//! - `forecastStatus` codes come from the ImmDS ForecastStatus code system, plus `due` /
//!   `overdue` (FHIR immunization-recommendation-status) for a series that is not complete;
//! - `doseStatus` uses the FHIR dose-status codes (`valid` / `notvalid`) and the CDSi word in an
//!   izreg coding (`valid` / `notvalid` / `extraneous`).

use std::collections::HashMap;

use fhir_sdk::r4b::resources::{Immunization, ImmunizationOccurrence, Patient};
use serde_json::{Value, json};
use time::Date;

use super::outcome::{Issue, IssueType, Rejection};
use super::parse::parse_resource;
use crate::domain::codes::{CVX_SYSTEM, CodeTables, MVX_SYSTEM};
use crate::domain::resource::ResourceType;
use crate::forecast::calendar::format_date;
use crate::forecast::{
    AdministeredDose, Assessment, EvaluationReason, EvaluationStatus, Gender, GroupForecast, PatientHistory,
    PatientObservation, SeriesStatus,
};

/// Canonical URL of the ImmDS IG's operation (`[base]/$immds-forecast`).
pub const IMMDS_FORECAST_DEFINITION: &str = "http://hl7.org/fhir/us/immds/OperationDefinition/ImmDSForecastOperation";
/// The code system izreg reads CDSi observation codes (`042`, `055`, ...) from. CDC publishes
/// no FHIR URI for them; this one is izreg's convention.
pub const CDSI_OBSERVATION_SYSTEM: &str = "http://cdc.gov/cdsi/observation";
/// izreg's code system for the CDSi evaluation status words.
pub const CDSI_EVALUATION_STATUS_SYSTEM: &str = "urn:izreg:cdsi:evaluation-status";
const FORECAST_STATUS_SYSTEM: &str = "http://hl7.org/fhir/us/immds/CodeSystem/ForecastStatus";
const FORECAST_REASON_SYSTEM: &str = "http://hl7.org/fhir/us/immds/CodeSystem/ForecastReason";
const STATUS_REASON_SYSTEM: &str = "http://hl7.org/fhir/us/immds/CodeSystem/StatusReason";
const RECOMMENDATION_STATUS_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status";
const DOSE_STATUS_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/immunization-evaluation-dose-status";
const LOINC: &str = "http://loinc.org";
/// LOINC codes of `ImmunizationRecommendation.recommendation.dateCriterion`.
pub const EARLIEST_DATE_LOINC: &str = "30981-5";
/// Date vaccine due (the CDSi recommended date).
pub const RECOMMENDED_DATE_LOINC: &str = "30980-7";
/// Date when overdue (the CDSi past-due date).
pub const PAST_DUE_DATE_LOINC: &str = "59778-1";
/// Latest date to give.
pub const LATEST_DATE_LOINC: &str = "59777-3";

/// A forecast request in engine terms, with the references the output points back to.
#[derive(Debug, Clone)]
pub struct ForecastRequest {
    /// The engine input.
    pub history: PatientHistory,
    /// `Reference` to the patient (`Patient/{id}`, or a display when the input had no id).
    pub patient: Value,
    /// One `Reference` per dose of `history.doses`, in the same order.
    pub dose_references: Vec<Value>,
}

/// Parses a full FHIR date (`YYYY-MM-DD`).
pub fn parse_full_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(5..7)?.parse().ok()?;
    let day: u8 = text.get(8..10)?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

fn malformed(code: IssueType, expression: impl Into<String>, message: impl Into<String>) -> Rejection {
    Rejection::malformed(Issue::at(code, expression, message))
}

/// Moves the expressions of a rejection of an embedded resource under its parameter.
fn relocate(mut rejection: Rejection, resource_type: &str, prefix: &str) -> Rejection {
    for issue in &mut rejection.issues {
        issue.expression = Some(match issue.expression.take() {
            Some(expression) => match expression.strip_prefix(resource_type) {
                Some(rest) => format!("{prefix}{rest}"),
                None => format!("{prefix}.{expression}"),
            },
            None => prefix.to_owned(),
        });
        issue.diagnostics = issue.diagnostics.replace(&format!("{resource_type}."), &format!("{prefix}."));
    }
    rejection
}

fn gender_of(patient: &Patient) -> Gender {
    match patient.gender.as_ref().map(|g| g.as_ref().to_owned()).as_deref() {
        Some("female") => Gender::Female,
        Some("male") => Gender::Male,
        _ => Gender::Unknown,
    }
}

fn birth_date_of(patient: &Patient, at: &str) -> Result<Date, Rejection> {
    match &patient.birth_date {
        Some(fhir_sdk::Date::Date(date)) => Ok(*date),
        Some(_) => Err(malformed(
            IssueType::Value,
            format!("{at}.birthDate"),
            "The patient's birthDate must be a full date (YYYY-MM-DD) to forecast.",
        )),
        None => Err(malformed(IssueType::Required, format!("{at}.birthDate"), "The patient needs a birthDate.")),
    }
}

/// What one Immunization contributes: a dose, or nothing (not done, entered in error).
fn dose_of(
    immunization: &Immunization,
    at: &str,
    codes: Option<&CodeTables>,
) -> Result<Option<AdministeredDose>, Rejection> {
    match immunization.status.as_str() {
        "completed" => {}
        "not-done" | "entered-in-error" => return Ok(None),
        _ => {
            return Err(malformed(
                IssueType::CodeInvalid,
                format!("{at}.status"),
                "Immunization.status must be completed, not-done or entered-in-error.",
            ));
        }
    }
    let cvx = immunization
        .vaccine_code
        .coding
        .iter()
        .flatten()
        .find(|c| c.system.as_deref() == Some(CVX_SYSTEM))
        .and_then(|c| c.code.clone())
        .ok_or_else(|| {
            malformed(
                IssueType::Required,
                format!("{at}.vaccineCode"),
                format!("The immunization needs a CVX coding (system {CVX_SYSTEM}) with a code."),
            )
        })?;
    if let Some(codes) = codes
        && codes.cvx(&cvx).is_none()
    {
        return Err(Rejection::unprocessable(Issue::at(
            IssueType::CodeInvalid,
            format!("{at}.vaccineCode"),
            format!("Unknown CVX code; see the CDC CVX table ({CVX_SYSTEM})."),
        )));
    }
    let mvx = immunization
        .manufacturer
        .as_ref()
        .and_then(|m| m.identifier.as_ref())
        .filter(|i| i.system.as_deref() == Some(MVX_SYSTEM))
        .and_then(|i| i.value.clone());
    if let (Some(codes), Some(mvx)) = (codes, &mvx)
        && codes.mvx(mvx).is_none()
    {
        return Err(Rejection::unprocessable(Issue::at(
            IssueType::CodeInvalid,
            format!("{at}.manufacturer.identifier.value"),
            format!("Unknown MVX manufacturer code; see the CDC MVX table ({MVX_SYSTEM})."),
        )));
    }
    let date = match &immunization.occurrence {
        // The calendar date where the dose was given, as written.
        ImmunizationOccurrence::DateTime(fhir_sdk::DateTime::DateTime(instant)) => Some(instant.0.date()),
        ImmunizationOccurrence::DateTime(fhir_sdk::DateTime::Date(fhir_sdk::Date::Date(date))) => Some(*date),
        _ => None,
    };
    let date = date.ok_or_else(|| {
        malformed(
            IssueType::Value,
            format!("{at}.occurrenceDateTime"),
            "The immunization needs occurrenceDateTime with at least a full date (YYYY-MM-DD) to be evaluated.",
        )
    })?;
    Ok(Some(AdministeredDose { date, cvx, mvx }))
}

fn reference_to(resource_type: &str, id: Option<&str>, display: String) -> Value {
    match id {
        Some(id) => json!({"reference": format!("{resource_type}/{id}")}),
        None => json!({"display": display}),
    }
}

/// The CDSi observation in a Condition or Observation parameter (`None` when it is refuted or
/// entered in error).
fn observation_of(
    resource: &Value,
    at: &str,
    known: &HashMap<String, String>,
) -> Result<Option<PatientObservation>, Rejection> {
    let kind = super::parse::resource_type_of(resource);
    if !matches!(kind, Some("Condition" | "Observation")) {
        return Err(malformed(
            IssueType::Invalid,
            format!("{at}.resourceType"),
            "A condition parameter holds a Condition or an Observation.",
        ));
    }
    let status_code = |path: &[&str]| -> Option<String> {
        let mut value = resource;
        for key in path {
            value = value.get(key)?;
        }
        match value {
            Value::String(code) => Some(code.clone()),
            other => other.get("coding")?.as_array()?.iter().find_map(|c| c.get("code")?.as_str().map(str::to_owned)),
        }
    };
    let withdrawn = match kind {
        Some("Condition") => {
            matches!(status_code(&["verificationStatus"]).as_deref(), Some("refuted" | "entered-in-error"))
        }
        _ => matches!(status_code(&["status"]).as_deref(), Some("entered-in-error" | "cancelled")),
    };
    if withdrawn {
        return Ok(None);
    }
    let code = resource
        .get("code")
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .and_then(|codings| {
            codings.iter().find(|c| c.get("system").and_then(Value::as_str) == Some(CDSI_OBSERVATION_SYSTEM))
        })
        .and_then(|c| c.get("code"))
        .and_then(Value::as_str)
        .map(|c| c.trim().to_owned())
        .ok_or_else(|| {
            malformed(
                IssueType::Required,
                format!("{at}.code"),
                format!("The condition needs a coding with system {CDSI_OBSERVATION_SYSTEM} holding the CDSi observation code."),
            )
        })?;
    if !known.contains_key(&code) {
        return Err(Rejection::unprocessable(Issue::at(
            IssueType::CodeInvalid,
            format!("{at}.code"),
            "Unknown CDSi observation code; see the observations of the CDC CDSi supporting data.",
        )));
    }
    let date = ["onsetDateTime", "effectiveDateTime", "recordedDate"]
        .iter()
        .find_map(|key| resource.get(*key).and_then(Value::as_str))
        .and_then(|text| parse_full_date(text.get(0..10).unwrap_or(text)));
    Ok(Some(PatientObservation { code, date }))
}

/// Parses the `$immds-forecast` input `Parameters`: `assessmentDate` (valueDate, 1..1),
/// `patient` (Patient with birthDate, 1..1), `immunization` (Immunization, 0..*; not-done and
/// entered-in-error ones are ignored) and `condition` (Condition or Observation with a CDSi
/// observation coding, 0..*). CVX and MVX codes are checked against the code tables and
/// observation codes against the engine's (`observations`).
pub fn parse_request(
    body: &Value,
    codes: &CodeTables,
    observations: &HashMap<String, String>,
) -> Result<ForecastRequest, Rejection> {
    match super::parse::resource_type_of(body) {
        Some("Parameters") => {}
        _ => {
            return Err(malformed(
                IssueType::Invalid,
                "resourceType",
                "The body must be a Parameters resource (ImmDS $immds-forecast input).",
            ));
        }
    }
    let parameters: &[Value] = match body.get("parameter") {
        None => &[],
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(malformed(
                IssueType::Structure,
                "Parameters.parameter",
                "Parameters.parameter must be an array.",
            ));
        }
    };
    let mut assessment_date = None;
    let mut patient: Option<(Date, Gender, Value)> = None;
    let mut doses = Vec::new();
    let mut dose_references = Vec::new();
    let mut observations_found = Vec::new();
    for (i, parameter) in parameters.iter().enumerate() {
        let at = format!("Parameters.parameter[{i}]");
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(IssueType::Required, format!("{at}.name"), "Every parameter needs a name."))?;
        let resource = || {
            parameter.get("resource").ok_or_else(|| {
                malformed(
                    IssueType::Required,
                    format!("{at}.resource"),
                    format!("The {name} parameter holds a resource."),
                )
            })
        };
        match name {
            "assessmentDate" => {
                if assessment_date.is_some() {
                    return Err(malformed(IssueType::Invalid, at, "assessmentDate is given more than once."));
                }
                let date =
                    parameter.get("valueDate").and_then(Value::as_str).and_then(parse_full_date).ok_or_else(|| {
                        malformed(
                            IssueType::Value,
                            format!("{at}.valueDate"),
                            "assessmentDate must be a valueDate with a full date (YYYY-MM-DD).",
                        )
                    })?;
                assessment_date = Some(date);
            }
            "patient" => {
                if patient.is_some() {
                    return Err(malformed(IssueType::Invalid, at, "patient is given more than once."));
                }
                let prefix = format!("{at}.resource");
                let parsed = parse_resource::<Patient>(resource()?, ResourceType::Patient)
                    .map_err(|r| relocate(r, "Patient", &prefix))?
                    .typed;
                let birth = birth_date_of(&parsed, &prefix)?;
                let reference = reference_to("Patient", parsed.id.as_deref(), "The patient of the request".to_owned());
                patient = Some((birth, gender_of(&parsed), reference));
            }
            "immunization" => {
                let prefix = format!("{at}.resource");
                let parsed = parse_resource::<Immunization>(resource()?, ResourceType::Immunization)
                    .map_err(|r| relocate(r, "Immunization", &prefix))?
                    .typed;
                if let Some(dose) = dose_of(&parsed, &prefix, Some(codes))? {
                    let display = format!("Immunization parameter {i}: CVX {} on {}", dose.cvx, format_date(dose.date));
                    dose_references.push(reference_to("Immunization", parsed.id.as_deref(), display));
                    doses.push(dose);
                }
            }
            "condition" => {
                if let Some(observation) = observation_of(resource()?, &format!("{at}.resource"), observations)? {
                    observations_found.push(observation);
                }
            }
            _ => {
                return Err(malformed(
                    IssueType::NotSupported,
                    format!("{at}.name"),
                    "Unknown parameter; $immds-forecast takes assessmentDate, patient, immunization and condition.",
                ));
            }
        }
    }
    let assessment_date = assessment_date.ok_or_else(|| {
        malformed(IssueType::Required, "Parameters.parameter", "The assessmentDate parameter (valueDate) is required.")
    })?;
    let (birth_date, gender, patient) = patient.ok_or_else(|| {
        malformed(
            IssueType::Required,
            "Parameters.parameter",
            "The patient parameter (a Patient resource) is required.",
        )
    })?;
    Ok(ForecastRequest {
        history: PatientHistory { birth_date, gender, assessment_date, doses, observations: observations_found },
        patient,
        dose_references,
    })
}

/// The request for a stored Patient and their stored Immunizations (`(id, JSON)` pairs).
/// Stored resources passed validation; an immunization without a full date (a partial
/// historical date) cannot be evaluated and is left out.
pub fn request_from_stored<'a>(
    patient_id: &str,
    patient_json: &str,
    immunizations: impl IntoIterator<Item = (&'a str, &'a str)>,
    assessment_date: Date,
) -> Result<ForecastRequest, Rejection> {
    let unreadable = || malformed(IssueType::Exception, "Patient", "The stored Patient cannot be read.");
    let patient: Patient = serde_json::from_str(patient_json).map_err(|_| unreadable())?;
    let birth_date = birth_date_of(&patient, "Patient")?;
    let mut doses = Vec::new();
    let mut dose_references = Vec::new();
    for (id, json) in immunizations {
        let Ok(immunization) = serde_json::from_str::<Immunization>(json) else { continue };
        if let Ok(Some(dose)) = dose_of(&immunization, "Immunization", None) {
            doses.push(dose);
            dose_references.push(json!({"reference": format!("Immunization/{id}")}));
        }
    }
    Ok(ForecastRequest {
        history: PatientHistory {
            birth_date,
            gender: gender_of(&patient),
            assessment_date,
            doses,
            observations: Vec::new(),
        },
        patient: json!({"reference": format!("Patient/{patient_id}")}),
        dose_references,
    })
}

fn authority() -> Value {
    json!({"display": format!("izreg CDSi forecaster (CDC supporting data {})", crate::forecast::load::EMBEDDED_VERSION)})
}

fn dose_status(status: EvaluationStatus) -> Value {
    let (fhir_code, cdsi_code) = match status {
        EvaluationStatus::Valid => (Some(("valid", "Valid")), "valid"),
        EvaluationStatus::NotValid => (Some(("notvalid", "Not valid")), "notvalid"),
        EvaluationStatus::Extraneous => (None, "extraneous"),
    };
    let mut coding = Vec::new();
    if let Some((code, display)) = fhir_code {
        coding.push(json!({"system": DOSE_STATUS_SYSTEM, "code": code, "display": display}));
    }
    coding.push(json!({"system": CDSI_EVALUATION_STATUS_SYSTEM, "code": cdsi_code, "display": status.label()}));
    json!({"coding": coding, "text": status.label()})
}

fn dose_status_reason(reason: EvaluationReason) -> Value {
    let code = match reason {
        EvaluationReason::TooYoung => Some(("tooyoung", "Patient Too Young")),
        EvaluationReason::TooOld => Some(("tooold", "Patient Too Old")),
        EvaluationReason::TooSoon => Some(("toosoon", "Administered Too Soon")),
        EvaluationReason::LiveVirusConflict => Some(("productconflict", "Product Conflict")),
        EvaluationReason::Inadvertent | EvaluationReason::NotPreferableOrAllowable => {
            Some(("inappropriate", "Inappropriate Vaccine"))
        }
        EvaluationReason::SeriesComplete => None,
    };
    match code {
        Some((code, display)) => json!({
            "coding": [{"system": STATUS_REASON_SYSTEM, "code": code, "display": display}],
            "text": reason.label()
        }),
        None => json!({"text": reason.label()}),
    }
}

/// One `ImmunizationEvaluation` per dose and antigen, in dose order.
pub fn evaluations(request: &ForecastRequest, assessment: &Assessment) -> Vec<Value> {
    let date = format_date(assessment.assessment_date);
    assessment
        .doses
        .iter()
        .zip(&request.dose_references)
        .flat_map(|(dose, reference)| {
            let date = &date;
            dose.evaluations.iter().map(move |evaluation| {
                let mut resource = json!({
                    "resourceType": "ImmunizationEvaluation",
                    "status": "completed",
                    "patient": request.patient,
                    "date": date,
                    "authority": authority(),
                    "targetDisease": {"text": evaluation.antigen},
                    "immunizationEvent": reference,
                    "doseStatus": dose_status(evaluation.status),
                    "series": evaluation.series,
                });
                if let Some(reason) = evaluation.reason {
                    resource["doseStatusReason"] = json!([dose_status_reason(reason)]);
                }
                if let Some(number) = evaluation.dose_number {
                    resource["doseNumberPositiveInt"] = json!(number);
                }
                resource
            })
        })
        .collect()
}

/// Whether a series that is not complete is due, overdue or not yet due on the assessment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Before the recommended date.
    NotYetDue,
    /// On or after the recommended date, before the past-due date.
    Due,
    /// On or after the past-due date.
    Overdue,
}

/// The timing of a group forecast on `today`.
pub fn timing(group: &GroupForecast, today: Date) -> Timing {
    let Some(next) = &group.next else { return Timing::NotYetDue };
    if next.past_due.is_some_and(|d| today >= d) {
        Timing::Overdue
    } else if today >= next.recommended {
        Timing::Due
    } else {
        Timing::NotYetDue
    }
}

fn forecast_status(group: &GroupForecast, today: Date) -> Value {
    let (code, display) = match group.status {
        SeriesStatus::NotComplete => ("notComplete", "Not Complete"),
        SeriesStatus::Complete => ("complete", "Complete"),
        SeriesStatus::Immune => ("immune", "Immune"),
        SeriesStatus::AgedOut => ("agedOut", "Aged Out"),
        SeriesStatus::Contraindicated => ("contraindicated", "Contraindicated"),
        SeriesStatus::NotRecommended => ("notRecommended", "Not Recommended"),
    };
    let mut coding = vec![json!({"system": FORECAST_STATUS_SYSTEM, "code": code, "display": display})];
    let (base, text) = match group.status {
        SeriesStatus::NotComplete => match timing(group, today) {
            Timing::Overdue => (Some(("overdue", "Overdue")), "Overdue"),
            Timing::Due => (Some(("due", "Due")), "Due"),
            Timing::NotYetDue => (None, "Not yet due"),
        },
        SeriesStatus::Complete => (Some(("complete", "Complete")), group.status.label()),
        SeriesStatus::Immune => (Some(("immune", "Immune")), group.status.label()),
        SeriesStatus::Contraindicated => (Some(("contraindicated", "Contraindicated")), group.status.label()),
        SeriesStatus::AgedOut | SeriesStatus::NotRecommended => (None, group.status.label()),
    };
    if let Some((code, display)) = base {
        coding.push(json!({"system": RECOMMENDATION_STATUS_SYSTEM, "code": code, "display": display}));
    }
    json!({"coding": coding, "text": text})
}

fn forecast_reason(status: SeriesStatus) -> Option<Value> {
    let (code, text) = match status {
        SeriesStatus::Complete => (Some(("complete", "Complete")), "The series is complete."),
        SeriesStatus::NotRecommended => (
            Some(("notRecommended", "Not Recommended")),
            "No series of this vaccine group is recommended for the patient.",
        ),
        SeriesStatus::AgedOut => (Some(("maximumAge", "Maximum Age Exceeded")), "The patient is past the maximum age."),
        SeriesStatus::Immune => (None, "The patient has evidence of immunity."),
        SeriesStatus::Contraindicated => (None, "The patient has a contraindication."),
        SeriesStatus::NotComplete => return None,
    };
    Some(match code {
        Some((code, display)) => {
            json!({"coding": [{"system": FORECAST_REASON_SYSTEM, "code": code, "display": display}], "text": text})
        }
        None => json!({"text": text}),
    })
}

fn date_criterion(code: &str, display: &str, date: Date) -> Value {
    json!({"code": {"coding": [{"system": LOINC, "code": code, "display": display}]}, "value": format_date(date)})
}

/// The `ImmunizationRecommendation`: one recommendation per vaccine group. `id` is set for the
/// resource served at `ImmunizationRecommendation/{id}` (izreg uses the Patient's id).
pub fn recommendation(
    request: &ForecastRequest,
    assessment: &Assessment,
    codes: &CodeTables,
    id: Option<&str>,
) -> Value {
    let today = assessment.assessment_date;
    let recommendations: Vec<Value> = assessment
        .vaccine_groups
        .iter()
        .map(|group| {
            let mut item = serde_json::Map::new();
            let next = group.next.as_ref();
            let vaccines: Vec<Value> = next
                .map(|next| next.vaccines.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|cvx| {
                    let mut coding = json!({"system": CVX_SYSTEM, "code": cvx});
                    if let Some(known) = codes.cvx(cvx) {
                        coding["display"] = json!(known.label);
                    }
                    json!({"coding": [coding]})
                })
                .collect();
            if !vaccines.is_empty() {
                item.insert("vaccineCode".into(), Value::Array(vaccines));
            }
            item.insert("targetDisease".into(), json!({"text": group.vaccine_group}));
            item.insert("forecastStatus".into(), forecast_status(group, today));
            if let Some(reason) = forecast_reason(group.status) {
                item.insert("forecastReason".into(), json!([reason]));
            }
            let criteria: Vec<Value> = [
                (EARLIEST_DATE_LOINC, "Earliest date to give", next.map(|next| next.earliest)),
                (RECOMMENDED_DATE_LOINC, "Date vaccine due", next.map(|next| next.recommended)),
                (PAST_DUE_DATE_LOINC, "Date when overdue for immunization", next.and_then(|next| next.past_due)),
                (LATEST_DATE_LOINC, "Latest date to give immunization", next.and_then(|next| next.latest)),
            ]
            .into_iter()
            .filter_map(|(code, display, date)| date.map(|date| date_criterion(code, display, date)))
            .collect();
            if !criteria.is_empty() {
                item.insert("dateCriterion".into(), Value::Array(criteria));
            }
            if let Some(number) = next.map(|next| next.dose_number) {
                item.insert("doseNumberPositiveInt".into(), json!(number));
            }
            // The doses the group's antigens counted (or refused): the evidence for the forecast.
            let antigens: Vec<&str> = group.antigens.iter().map(|a| a.antigen.as_str()).collect();
            let supporting: Vec<Value> = assessment
                .doses
                .iter()
                .zip(&request.dose_references)
                .filter(|(dose, reference)| {
                    reference.get("reference").is_some()
                        && dose.evaluations.iter().any(|e| antigens.contains(&e.antigen.as_str()))
                })
                .map(|(_, reference)| reference.clone())
                .collect();
            if !supporting.is_empty() {
                item.insert("supportingImmunization".into(), Value::Array(supporting));
            }
            Value::Object(item)
        })
        .collect();
    let mut resource = json!({"resourceType": "ImmunizationRecommendation"});
    if let Some(id) = id {
        resource["id"] = json!(id);
    }
    resource["patient"] = request.patient.clone();
    resource["date"] = json!(format_date(today));
    resource["authority"] = authority();
    resource["recommendation"] = Value::Array(recommendations);
    resource
}

/// The `$immds-forecast` output: an `evaluation` parameter per ImmunizationEvaluation, then the
/// `recommendation` parameter.
pub fn output_parameters(request: &ForecastRequest, assessment: &Assessment, codes: &CodeTables) -> Value {
    let mut parameters: Vec<Value> = evaluations(request, assessment)
        .into_iter()
        .map(|resource| json!({"name": "evaluation", "resource": resource}))
        .collect();
    parameters.push(json!({"name": "recommendation", "resource": recommendation(request, assessment, codes, None)}));
    json!({"resourceType": "Parameters", "parameter": parameters})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_dates_only() {
        assert!(parse_full_date("2024-02-29").is_some());
        assert!(parse_full_date("2023-02-29").is_none());
        assert!(parse_full_date("2024-02").is_none());
        assert!(parse_full_date("2024-2-01").is_none());
        assert!(parse_full_date("20240201").is_none());
    }

    #[test]
    fn relocated_issues_name_the_parameter() {
        let rejection =
            Rejection::malformed(Issue::at(IssueType::Value, "Patient.birthDate", "Patient.birthDate is bad."));
        let moved = relocate(rejection, "Patient", "Parameters.parameter[1].resource");
        assert_eq!(moved.issues[0].expression.as_deref(), Some("Parameters.parameter[1].resource.birthDate"));
        assert!(moved.issues[0].diagnostics.starts_with("Parameters.parameter[1].resource.birthDate"));
    }
}
