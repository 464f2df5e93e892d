//! Immunization forecasting (CDSi): the `$immds-forecast` operation on submitted data, and the
//! forecast of a stored Patient (operation, and the computed `ImmunizationRecommendation`).
//!
//! Access: forecasting a stored Patient reads the Patient and searches their Immunizations, so
//! it needs exactly what those interactions need (role, scopes, agreement), and answers 404 for
//! a Patient the caller may not see. The operation on submitted data reads nothing stored; it
//! needs Immunization read. Every call is audited.

use serde_json::Value;
use time::Date;

use super::audit::AuditRecord;
use super::kind::PatientKind;
use super::resource::{audit_failure, authorize, query_text, read_in};
use super::{Registry, ServiceError};
use crate::domain::access::Principal;
use crate::domain::ids::ResourceId;
use crate::domain::resource::ResourceType;
use crate::domain::scope::Interaction;
use crate::fhir::forecast::{self as fhir_forecast, ForecastRequest, parse_full_date};
use crate::fhir::outcome::{Issue, IssueType, Rejection};
use crate::forecast::{Assessment, Engine};
use crate::store;

/// The action recorded in the audit trail for a forecast.
const ACTION: &str = "immds-forecast";

/// The shared engine (the supporting data is compiled in; parsed on first use).
pub(crate) fn engine() -> Result<&'static Engine, ServiceError> {
    Engine::shared().map_err(|e| ServiceError::Configuration(format!("the CDSi supporting data cannot be loaded: {e}")))
}

fn audit_result<T>(
    registry: &Registry,
    record: AuditRecord,
    result: Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    match result {
        Ok(value) => {
            registry.audit().record(record);
            Ok(value)
        }
        Err(error) => refuse(registry, record, error),
    }
}

/// Audits a request refused before any work, and returns the error.
fn refuse<T>(registry: &Registry, record: AuditRecord, error: ServiceError) -> Result<T, ServiceError> {
    let result = Err(error);
    audit_failure(registry, record, &result);
    result
}

fn check_dates(request: &ForecastRequest, expression: &str) -> Result<(), ServiceError> {
    if request.history.assessment_date < request.history.birth_date {
        return Err(ServiceError::BadRequest(Issue::at(
            IssueType::Invariant,
            expression,
            "The assessment date is before the patient's birth date.",
        )));
    }
    Ok(())
}

/// `POST $immds-forecast`: evaluates and forecasts the history in the input `Parameters`;
/// answers the output `Parameters` (evaluations, then the recommendation).
pub fn forecast_submitted(registry: &Registry, principal: &Principal, body: &Value) -> Result<Value, ServiceError> {
    let record = AuditRecord::by(principal, ACTION).on(ResourceType::Immunization.as_str());
    authorize(registry, principal, ResourceType::Immunization.as_str(), Interaction::Read, &record)?;
    let result = (|| {
        let engine = engine()?;
        let request = fhir_forecast::parse_request(body, registry.codes(), &engine.data().observations)?;
        check_dates(&request, "Parameters.parameter")?;
        let assessment = engine.assess(&request.history);
        Ok(fhir_forecast::output_parameters(&request, &assessment, registry.codes()))
    })();
    audit_result(registry, record, result)
}

/// A stored Patient's forecast.
#[derive(Debug, Clone)]
pub struct PatientForecast {
    /// What the engine was given.
    pub request: ForecastRequest,
    /// What it answered.
    pub assessment: Assessment,
}

/// Forecasts a stored Patient from their stored Immunizations, checked and audited as a read
/// of the Patient plus a search of their Immunizations.
fn forecast_stored(
    registry: &Registry,
    principal: &Principal,
    mut record: AuditRecord,
    patient_id: &str,
    assessment_date: Date,
) -> Result<PatientForecast, ServiceError> {
    record.resource_ids = vec![patient_id.chars().take(64).collect()];
    authorize(registry, principal, ResourceType::Patient.as_str(), Interaction::Read, &record)?;
    authorize(registry, principal, ResourceType::Immunization.as_str(), Interaction::Search, &record)?;
    let result = (|| {
        let id = ResourceId::parse(patient_id)
            .map_err(|_| ServiceError::NotFound { resource_type: ResourceType::Patient })?;
        let (patient, immunizations) = registry.database().read(|conn| {
            use diesel::Connection;
            // The Patient and their Immunizations from one snapshot.
            conn.transaction::<_, ServiceError, _>(|conn| {
                let patient = read_in::<PatientKind>(conn, &id, principal)?;
                let immunizations = store::immunization::live_for_patients(conn, &[id.to_string()])?;
                Ok((patient, immunizations))
            })
        })?;
        let request = fhir_forecast::request_from_stored(
            id.as_str(),
            &patient.json,
            immunizations.iter().map(|i| (i.id.as_str(), i.json.as_str())),
            assessment_date,
        )
        .map_err(|rejection: Rejection| {
            ServiceError::Store(store::StoreError::Corrupt(format!(
                "stored Patient cannot be forecast: {:?}",
                rejection.issues.first().map(|i| i.diagnostics.clone())
            )))
        })?;
        check_dates(&request, "assessmentDate")?;
        let assessment = engine()?.assess(&request.history);
        Ok(PatientForecast { request, assessment })
    })();
    if result.is_ok() {
        record.patient_ids = vec![patient_id.to_owned()];
    }
    audit_result(registry, record, result)
}

/// The `assessmentDate` query parameter (a full date; today when absent).
fn assessment_date(params: &[(String, String)], lenient: bool) -> Result<Date, ServiceError> {
    let mut date = None;
    for (name, value) in params {
        match name.as_str() {
            "assessmentDate" => {
                date = Some(parse_full_date(value).ok_or_else(|| {
                    ServiceError::BadRequest(Issue::at(
                        IssueType::Value,
                        "assessmentDate",
                        "assessmentDate must be a full date (YYYY-MM-DD).",
                    ))
                })?);
            }
            "_format" => {}
            _ if lenient => {}
            _ => {
                return Err(ServiceError::BadRequest(Issue::at(
                    IssueType::NotSupported,
                    name.as_str(),
                    "Unknown parameter; this operation takes assessmentDate (YYYY-MM-DD).",
                )));
            }
        }
    }
    Ok(date.unwrap_or_else(crate::domain::agreement::today))
}

/// `GET Patient/{id}/$immds-forecast?assessmentDate=`: the output `Parameters` for a stored
/// Patient.
pub fn forecast_patient(
    registry: &Registry,
    principal: &Principal,
    patient_id: &str,
    params: &[(String, String)],
    lenient: bool,
) -> Result<Value, ServiceError> {
    let record = AuditRecord::by(principal, ACTION).on(ResourceType::Patient.as_str());
    let date = match assessment_date(params, lenient) {
        Ok(date) => date,
        Err(error) => return refuse(registry, record, error),
    };
    let forecast = forecast_stored(registry, principal, record, patient_id, date)?;
    Ok(fhir_forecast::output_parameters(&forecast.request, &forecast.assessment, registry.codes()))
}

/// `GET ImmunizationRecommendation/{id}`: the recommendation computed today for the Patient
/// with this id (izreg's ImmunizationRecommendation ids are Patient ids).
pub fn read_recommendation(registry: &Registry, principal: &Principal, id: &str) -> Result<Value, ServiceError> {
    let record = AuditRecord::by(principal, "read").on("ImmunizationRecommendation");
    let forecast = forecast_stored(registry, principal, record, id, crate::domain::agreement::today()).map_err(
        |error| match error {
            ServiceError::NotFound { .. } | ServiceError::NotOwner { .. } | ServiceError::Gone { .. } => {
                ServiceError::NotFoundNamed("No ImmunizationRecommendation with this id.".to_owned())
            }
            other => other,
        },
    )?;
    Ok(fhir_forecast::recommendation(&forecast.request, &forecast.assessment, registry.codes(), Some(id)))
}

/// The result of a recommendation search.
#[derive(Debug, Clone)]
pub struct RecommendationPage {
    /// Zero or one ImmunizationRecommendation.
    pub resources: Vec<Value>,
    /// The accepted parameters (for the `self` link).
    pub link_params: Vec<(String, String)>,
}

/// `GET ImmunizationRecommendation?patient=`: the recommendation computed today for that
/// Patient (none when the Patient does not exist or was deleted), and the accepted parameters.
pub fn search_recommendations(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<RecommendationPage, ServiceError> {
    let mut record = AuditRecord::by(principal, "search").on("ImmunizationRecommendation");
    record.query = Some(query_text(params));
    let mut patient = None;
    let mut accepted = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "patient" if patient.is_none() => {
                let id = value.strip_prefix("Patient/").unwrap_or(value).to_owned();
                accepted.push((name.clone(), value.clone()));
                patient = Some(id);
            }
            "patient" => {
                let error = ServiceError::BadRequest(Issue::at(
                    IssueType::NotSupported,
                    "patient",
                    "Give one patient per search.",
                ));
                return refuse(registry, record, error);
            }
            "_format" => {}
            _ if lenient => {}
            _ => {
                let error = ServiceError::BadRequest(Issue::at(
                    IssueType::NotSupported,
                    name.as_str(),
                    "Unknown or unsupported search parameter; ImmunizationRecommendation is searched by patient.",
                ));
                return refuse(registry, record, error);
            }
        }
    }
    let Some(patient) = patient else {
        let error = ServiceError::BadRequest(Issue::at(
            IssueType::Required,
            "patient",
            "Search ImmunizationRecommendation by patient (patient=<id>): recommendations are computed per patient.",
        ));
        return refuse(registry, record, error);
    };
    match forecast_stored(registry, principal, record, &patient, crate::domain::agreement::today()) {
        Ok(forecast) => {
            let resource = fhir_forecast::recommendation(
                &forecast.request,
                &forecast.assessment,
                registry.codes(),
                Some(&patient),
            );
            Ok(RecommendationPage { resources: vec![resource], link_params: accepted })
        }
        // A search finds nothing rather than saying why.
        Err(ServiceError::NotFound { .. } | ServiceError::NotOwner { .. } | ServiceError::Gone { .. }) => {
            Ok(RecommendationPage { resources: Vec::new(), link_params: accepted })
        }
        Err(other) => Err(other),
    }
}
