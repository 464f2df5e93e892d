//! Immunization forecasting (CDC CDSi): the HL7 ImmDS `$immds-forecast` operation on submitted
//! data and on a stored Patient, and the computed ImmunizationRecommendation (read and search;
//! its id is the Patient's id, and it is computed for today on every request).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa::IntoParams;

use super::auth::Caller;
use super::error::ApiError;
use super::fhir_io::{FhirJson, computed_searchset, fhir_response, prefer, query_params};
use super::forecast_schema;
use super::schema;
use crate::service::{Registry, forecast};

/// Query of the stored-Patient forecast.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct PatientForecastParams {
    /// The date to assess on (YYYY-MM-DD); today (UTC) when absent.
    #[param(rename = "assessmentDate", format = Date, pattern = r"^\d{4}-\d{2}-\d{2}$")]
    assessment_date: Option<String>,
}

/// ImmunizationRecommendation search parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; the handler reads the raw parameters")]
pub struct RecommendationSearchParams {
    /// The Patient (`id` or `Patient/id`); required.
    patient: String,
}

async fn run_submitted(
    registry: web::Data<Registry>,
    caller: Caller,
    body: FhirJson,
) -> Result<HttpResponse, ApiError> {
    let json = web::block(move || forecast::forecast_submitted(&registry, &caller.0, &body.0)).await??;
    Ok(fhir_response(StatusCode::OK, json.to_string()))
}

/// HL7 ImmDS forecast (`[base]/$immds-forecast`): evaluates the submitted doses and forecasts
/// every CDSi vaccine group. Nothing is stored and nothing stored is read.
#[utoipa::path(
    post, path = "/$immds-forecast", tag = "Forecast", operation_id = "immdsForecast",
    request_body(content = forecast_schema::ForecastParameters, content_type = "application/fhir+json", description = "ImmDS input Parameters: assessmentDate, patient, immunization (0..*), condition (0..*)."),
    responses(
        (status = 200, description = "ImmDS output Parameters: evaluation (one ImmunizationEvaluation per dose and antigen), then recommendation.", body = forecast_schema::ForecastResult, content_type = "application/fhir+json"),
        (status = 400, description = "Not a Parameters resource, unknown parameter, missing assessmentDate/patient/birthDate, bad date, malformed resource.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow reading Immunization, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 413, description = "Body too large.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 415, description = "Not application/fhir+json.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "Unknown CVX, MVX or CDSi observation code.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/$immds-forecast")]
pub async fn forecast_system(
    registry: web::Data<Registry>,
    caller: Caller,
    body: FhirJson,
) -> Result<HttpResponse, ApiError> {
    run_submitted(registry, caller, body).await
}

/// HL7 ImmDS forecast on the Immunization type: the same as `[base]/$immds-forecast`.
#[utoipa::path(
    post, path = "/Immunization/$immds-forecast", tag = "Forecast", operation_id = "immdsForecastImmunization",
    request_body(content = forecast_schema::ForecastParameters, content_type = "application/fhir+json", description = "ImmDS input Parameters: assessmentDate, patient, immunization (0..*), condition (0..*)."),
    responses(
        (status = 200, description = "ImmDS output Parameters: evaluation (one ImmunizationEvaluation per dose and antigen), then recommendation.", body = forecast_schema::ForecastResult, content_type = "application/fhir+json"),
        (status = 400, description = "Not a Parameters resource, unknown parameter, missing assessmentDate/patient/birthDate, bad date, malformed resource.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow reading Immunization, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 413, description = "Body too large.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 415, description = "Not application/fhir+json.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "Unknown CVX, MVX or CDSi observation code.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/Immunization/$immds-forecast")]
pub async fn forecast_immunization(
    registry: web::Data<Registry>,
    caller: Caller,
    body: FhirJson,
) -> Result<HttpResponse, ApiError> {
    run_submitted(registry, caller, body).await
}

/// Forecast of a stored Patient from their stored Immunizations (ImmDS output Parameters).
/// Allowed exactly when reading the Patient and searching Immunization are; audited.
#[utoipa::path(
    get, path = "/Patient/{id}/$immds-forecast", tag = "Forecast", operation_id = "immdsForecastPatient",
    params(("id" = String, Path, description = "Patient id."), PatientForecastParams),
    responses(
        (status = 200, description = "ImmDS output Parameters: evaluation (one ImmunizationEvaluation per stored dose and antigen, referring to Immunization/{id}), then recommendation.", body = forecast_schema::ForecastResult, content_type = "application/fhir+json"),
        (status = 400, description = "Bad assessmentDate (not YYYY-MM-DD, or before the birth date), or an unknown parameter.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow reading Patient and searching Immunization, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such Patient.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 410, description = "The Patient was deleted.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/Patient/{id}/$immds-forecast")]
pub async fn forecast_patient(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(&req);
    let lenient = prefer(&req).lenient;
    let json = web::block(move || forecast::forecast_patient(&registry, &caller.0, &id, &params, lenient)).await??;
    Ok(fhir_response(StatusCode::OK, json.to_string()))
}

/// Reads the ImmunizationRecommendation of a Patient (its id is the Patient's id), computed for
/// today from the stored Immunizations. Allowed exactly when reading the Patient and searching
/// Immunization are.
#[utoipa::path(
    get, path = "/ImmunizationRecommendation/{id}", tag = "Forecast", operation_id = "readImmunizationRecommendation",
    params(("id" = String, Path, description = "The Patient's id.")),
    responses(
        (status = 200, description = "The ImmunizationRecommendation.", body = forecast_schema::ImmunizationRecommendation, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow reading Patient and searching Immunization, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No Patient with this id.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/ImmunizationRecommendation/{id}")]
pub async fn read_recommendation(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let json = web::block(move || forecast::read_recommendation(&registry, &caller.0, &id)).await??;
    Ok(fhir_response(StatusCode::OK, json.to_string()))
}

/// Searches ImmunizationRecommendation by patient: a searchset Bundle with the Patient's
/// recommendation computed for today (empty when there is no such Patient).
#[utoipa::path(
    get, path = "/ImmunizationRecommendation", tag = "Forecast", operation_id = "searchImmunizationRecommendation",
    params(RecommendationSearchParams, ("Prefer" = Option<String>, Header, description = "handling=lenient ignores unknown parameters instead of answering 400.")),
    responses(
        (status = 200, description = "A searchset Bundle with zero or one ImmunizationRecommendation.", body = schema::Bundle, content_type = "application/fhir+json"),
        (status = 400, description = "No patient parameter, several, or an unknown parameter.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "The role or the token's scopes do not allow reading Patient and searching Immunization, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/ImmunizationRecommendation")]
pub async fn search_recommendations(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(&req);
    let lenient = prefer(&req).lenient;
    let page = web::block(move || forecast::search_recommendations(&registry, &caller.0, &params, lenient)).await??;
    Ok(computed_searchset(&req, "ImmunizationRecommendation", &page.link_params, page.resources))
}

/// Registers the routes (fixed segments before the resource routes' `{id}`).
pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    config
        .service(forecast_system)
        .service(forecast_immunization)
        .service(forecast_patient)
        .service(search_recommendations)
        .service(read_recommendation);
}
