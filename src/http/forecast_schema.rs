//! Documentation-only schemas of the forecast endpoints (HL7 ImmDS `$immds-forecast`,
//! ImmunizationEvaluation, ImmunizationRecommendation). Conventions as in [`super::schema`].

use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{CodeableConcept, Immunization, Patient, Reference};

/// `resourceType` of a Parameters.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParametersResourceType {
    /// Always `Parameters`.
    Parameters,
}

/// `resourceType` of an ImmunizationEvaluation.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationEvaluationResourceType {
    /// Always `ImmunizationEvaluation`.
    ImmunizationEvaluation,
}

/// `resourceType` of an ImmunizationRecommendation.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationRecommendationResourceType {
    /// Always `ImmunizationRecommendation`.
    ImmunizationRecommendation,
}

/// `resourceType` of a condition parameter.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionResourceType {
    /// A Condition (`verificationStatus` refuted or entered-in-error: ignored).
    Condition,
    /// An Observation (`status` entered-in-error or cancelled: ignored).
    Observation,
}

/// The input parameter names of `$immds-forecast`.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ForecastInputName {
    /// The date to assess on (1..1, `valueDate`).
    AssessmentDate,
    /// The person (1..1, a Patient with a full `birthDate`; `gender` selects gender-specific series).
    Patient,
    /// A dose given (0..*, an Immunization; `status` completed counts, not-done and
    /// entered-in-error are ignored; needs a CVX coding and a full `occurrenceDateTime` date).
    Immunization,
    /// An underlying condition, contraindication or evidence of immunity (0..*, a Condition or
    /// Observation whose `code` has a coding of system `http://cdc.gov/cdsi/observation` holding
    /// the CDSi observation code, e.g. `042`).
    Condition,
}

/// A Condition or Observation carrying a CDSi observation code.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"resourceType": "Condition", "code": {"coding": [{"system": "http://cdc.gov/cdsi/observation", "code": "042"}]}})))]
pub struct ForecastCondition {
    /// `Condition` or `Observation`.
    pub resource_type: ConditionResourceType,
    /// Must hold a coding with system `http://cdc.gov/cdsi/observation` and a CDSi observation code.
    pub code: CodeableConcept,
    /// (Condition) refuted or entered-in-error conditions are ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub verification_status: Option<CodeableConcept>,
    /// (Observation) entered-in-error and cancelled observations are ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status: Option<String>,
    /// (Condition) when it began.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = Date)]
    pub onset_date_time: Option<String>,
}

/// The resource of an input parameter.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(untagged)]
pub enum ForecastInputResource {
    /// For `patient`.
    Patient(Box<Patient>),
    /// For `immunization`.
    Immunization(Box<Immunization>),
    /// For `condition`.
    Condition(ForecastCondition),
}

/// One input parameter.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ForecastInputParameter {
    /// Which parameter.
    pub name: ForecastInputName,
    /// (assessmentDate) YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = Date, pattern = r"^\d{4}-\d{2}-\d{2}$", example = "2024-04-01")]
    pub value_date: Option<String>,
    /// (patient, immunization, condition) the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub resource: Option<ForecastInputResource>,
}

/// `$immds-forecast` input (HL7 ImmDS IG): the person, their doses and conditions, and the date
/// to assess on.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({
    "resourceType": "Parameters",
    "parameter": [
        {"name": "assessmentDate", "valueDate": "2024-04-01"},
        {"name": "patient", "resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2024-01-01"}},
        {"name": "immunization", "resource": {"resourceType": "Immunization", "id": "i1", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "20"}]},
            "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": "2024-02-12"}}
    ]
})))]
pub struct ForecastParameters {
    /// Always `Parameters`.
    pub resource_type: ParametersResourceType,
    /// assessmentDate and patient are required.
    pub parameter: Vec<ForecastInputParameter>,
}

/// `ImmunizationEvaluation.status`.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EvaluationResourceStatus {
    /// Always `completed`.
    Completed,
}

/// How one dose counts for one antigen (CDSi evaluation), HL7 ImmDS profile.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ImmunizationEvaluation {
    /// Always `ImmunizationEvaluation`.
    pub resource_type: ImmunizationEvaluationResourceType,
    /// Always `completed`.
    pub status: EvaluationResourceStatus,
    /// `Patient/{id}`, or a display when the input Patient had no id.
    pub patient: Reference,
    /// The assessment date.
    #[schema(format = Date)]
    pub date: String,
    /// The forecaster (izreg CDSi engine and its supporting data release).
    pub authority: Reference,
    /// `text`: the CDSi antigen (`Diphtheria`, `Measles`, ...).
    pub target_disease: CodeableConcept,
    /// The evaluated Immunization (`Immunization/{id}`, or a display naming the input parameter).
    pub immunization_event: Reference,
    /// `valid` / `notvalid` (system `http://terminology.hl7.org/CodeSystem/immunization-evaluation-dose-status`)
    /// and the CDSi word (`valid` / `notvalid` / `extraneous`, system `urn:izreg:cdsi:evaluation-status`).
    pub dose_status: CodeableConcept,
    /// Why not valid: ImmDS StatusReason code where one fits, `text` the CDSi reason
    /// (`Age: Too Young`, `Interval: Too Soon`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub dose_status_reason: Option<Vec<CodeableConcept>>,
    /// The CDSi patient series the dose was evaluated in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub series: Option<String>,
    /// The target dose it was evaluated against (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub dose_number_positive_int: Option<u32>,
}

/// A date of a recommendation.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"code": {"coding": [{"system": "http://loinc.org", "code": "30981-5", "display": "Earliest date to give"}]}, "value": "2024-02-12"})))]
pub struct DateCriterion {
    /// LOINC `30981-5` earliest date to give, `30980-7` date vaccine due (recommended),
    /// `59778-1` date when overdue (past due), `59777-3` latest date to give.
    pub code: CodeableConcept,
    /// The date.
    #[schema(format = Date, pattern = r"^\d{4}-\d{2}-\d{2}$")]
    pub value: String,
}

/// The forecast of one vaccine group.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RecommendationItem {
    /// CVX codings of the vaccines recommended for the next dose.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub vaccine_code: Option<Vec<CodeableConcept>>,
    /// `text`: the CDSi vaccine group (`DTaP/Tdap/Td`, `MMR`, ...).
    pub target_disease: CodeableConcept,
    /// ImmDS ForecastStatus (`notComplete`, `complete`, `immune`, `contraindicated`, `agedOut`,
    /// `notRecommended`) and, where one applies, the FHIR immunization-recommendation-status
    /// (`due`, `overdue`, `complete`, `immune`, `contraindicated`); `text` says Due, Overdue or
    /// Not yet due for a series that is not complete.
    pub forecast_status: CodeableConcept,
    /// ImmDS ForecastReason (`complete`, `notRecommended`, `maximumAge`) or text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub forecast_reason: Option<Vec<CodeableConcept>>,
    /// Earliest, recommended, past-due and latest dates (those that apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub date_criterion: Option<Vec<DateCriterion>>,
    /// The dose number due next (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub dose_number_positive_int: Option<u32>,
    /// The Immunizations evaluated for the group's antigens.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub supporting_immunization: Option<Vec<Reference>>,
}

/// The forecast for a person: one recommendation per CDSi vaccine group, HL7 ImmDS profile.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ImmunizationRecommendation {
    /// Always `ImmunizationRecommendation`.
    pub resource_type: ImmunizationRecommendationResourceType,
    /// (Served resources) the Patient's id: izreg computes a recommendation per Patient.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9\-\.]{1,64}$")]
    pub id: Option<String>,
    /// `Patient/{id}`, or a display when the input Patient had no id.
    pub patient: Reference,
    /// The assessment date.
    #[schema(format = Date)]
    pub date: String,
    /// The forecaster.
    pub authority: Reference,
    /// One per vaccine group.
    pub recommendation: Vec<RecommendationItem>,
}

/// The output parameter names of `$immds-forecast`.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ForecastOutputName {
    /// An ImmunizationEvaluation (0..*): one per dose and antigen.
    Evaluation,
    /// The ImmunizationRecommendation (1..1).
    Recommendation,
}

/// The resource of an output parameter.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(untagged)]
pub enum ForecastOutputResource {
    /// For `evaluation`.
    Evaluation(Box<ImmunizationEvaluation>),
    /// For `recommendation`.
    Recommendation(Box<ImmunizationRecommendation>),
}

/// One output parameter.
#[derive(ToSchema, Serialize, Debug, Clone)]
pub struct ForecastOutputParameter {
    /// Which parameter.
    pub name: ForecastOutputName,
    /// The resource.
    pub resource: ForecastOutputResource,
}

/// `$immds-forecast` output: the `evaluation`s (dose order), then the `recommendation`.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ForecastResult {
    /// Always `Parameters`.
    pub resource_type: ParametersResourceType,
    /// Evaluations, then one recommendation.
    pub parameter: Vec<ForecastOutputParameter>,
}
