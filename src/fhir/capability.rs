//! The CapabilityStatement: built from the same tables the search parser uses, so it lists
//! exactly what is implemented.

use serde_json::{Value, json};

use super::date::format_instant;
use super::forecast::IMMDS_FORECAST_DEFINITION;
use super::search::{IMMUNIZATION_INCLUDES, IMMUNIZATION_PARAMS, PATIENT_PARAMS, PATIENT_REVINCLUDES, ParamDefinition};
use crate::domain::time::Timestamp;

fn search_params(params: &[ParamDefinition]) -> Vec<Value> {
    params
        .iter()
        .map(|p| json!({"name": p.name, "definition": p.definition, "type": p.kind.as_str(), "documentation": p.documentation}))
        .collect()
}

fn resource(kind: &str, profile: &str, params: &[ParamDefinition], includes: &[&str], revincludes: &[&str]) -> Value {
    let mut value = json!({
        "type": kind,
        "profile": profile,
        "interaction": [
            {"code": "read"}, {"code": "vread"}, {"code": "update"}, {"code": "delete"},
            {"code": "history-instance"}, {"code": "history-type"}, {"code": "create"}, {"code": "search-type"}
        ],
        "versioning": "versioned-update",
        "readHistory": true,
        "updateCreate": false,
        "conditionalCreate": true,
        "conditionalRead": "not-supported",
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchParam": search_params(params),
    });
    if !includes.is_empty() {
        value["searchInclude"] = json!(includes);
    }
    if !revincludes.is_empty() {
        value["searchRevInclude"] = json!(revincludes);
    }
    value
}

/// A type served read and search only (views of relational records).
fn read_only(kind: &str, params: &[(&str, &str, &str)]) -> Value {
    json!({
        "type": kind,
        "profile": format!("http://hl7.org/fhir/StructureDefinition/{kind}"),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": false,
        "updateCreate": false,
        "conditionalCreate": false,
        "conditionalRead": "not-supported",
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchParam": params.iter().map(|(name, kind, documentation)| json!({"name": name, "type": kind, "documentation": documentation})).collect::<Vec<_>>(),
    })
}

/// The `$immds-forecast` operation entry (HL7 ImmDS IG definition), documented for where it
/// is invoked.
fn immds_forecast(documentation: &str) -> Value {
    json!({"name": "immds-forecast", "definition": IMMDS_FORECAST_DEFINITION, "documentation": documentation})
}

/// The CapabilityStatement for a server whose FHIR base is `base_url`.
pub fn capability_statement(base_url: &str, software_version: &str) -> Value {
    let mut patient = resource(
        "Patient",
        "http://hl7.org/fhir/StructureDefinition/Patient",
        PATIENT_PARAMS,
        &[],
        PATIENT_REVINCLUDES,
    );
    patient["operation"] = json!([immds_forecast(
        "GET Patient/{id}/$immds-forecast?assessmentDate=YYYY-MM-DD (default today, UTC): the ImmDS output for the \
         stored Patient and their stored Immunizations; allowed when reading the Patient and searching \
         Immunization are."
    )]);
    let mut immunization = resource(
        "Immunization",
        "http://hl7.org/fhir/StructureDefinition/Immunization",
        IMMUNIZATION_PARAMS,
        IMMUNIZATION_INCLUDES,
        &[],
    );
    immunization["operation"] =
        json!([immds_forecast("POST Immunization/$immds-forecast: the same as the system-level operation.")]);
    let mut recommendation = read_only(
        "ImmunizationRecommendation",
        &[("patient", "reference", "The Patient (required): the recommendation computed today for that Patient.")],
    );
    recommendation["documentation"] = json!(
        "Computed on request from the stored Immunizations with the CDC CDSi logic (never stored): the id is the \
         Patient's id, the date is today."
    );
    let mut consent = read_only(
        "Consent",
        &[
            ("patient", "reference", "The Patient (required): their privacy choices."),
            ("status", "token", "active (in force) or inactive (withdrawn)."),
        ],
    );
    consent["documentation"] = json!(
        "A person's privacy choices (opt-out, record lock, declined reminders), one Consent per kind ever chosen \
         (id <patient id>.<kind>), recorded through /api/v1/patients/{id}/privacy."
    );
    let mut communication_request = read_only(
        "CommunicationRequest",
        &[("group-identifier", "token", "The reminder / recall run (urn:izreg:reminder-run|<run id>), required.")],
    );
    communication_request["documentation"] = json!(
        "The notices of a reminder / recall run (POST /api/v1/reminder-runs), computed from the stored notices: id \
         <run id>.<notice number>; status active until the notice is marked sent."
    );
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": format_instant(Timestamp::now()),
        "publisher": "izreg",
        "kind": "instance",
        "software": {"name": "izreg", "version": software_version},
        "implementation": {"description": "izreg immunization information system", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Search results page with an opaque _cursor (see the 'next' link); _count defaults to 50, at most 1000; _total=accurate counts, _summary=count returns only the count.",
            "resource": [
                patient,
                immunization,
                recommendation,
                consent,
                communication_request,
                read_only("Organization", &[
                    ("_id", "token", "Logical id."),
                    ("name", "string", "Name starts with (any case)."),
                    ("type", "token", "provider, pharmacy, school, child_care, health_plan or public_health."),
                    ("active", "token", "true or false."),
                ]),
                read_only("Location", &[
                    ("_id", "token", "Logical id."),
                    ("organization", "reference", "Managing organization."),
                    ("name", "string", "Name starts with (any case)."),
                    ("identifier", "token", "Site code (urn:izreg:site-code)."),
                    ("address-postalcode", "string", "ZIP starts with."),
                ]),
                read_only("AuditEvent", &[
                    ("date", "date", "When recorded (ge, gt, le, lt, eq)."),
                    ("agent", "token", "User or client id."),
                    ("patient", "reference", "Patient involved."),
                    ("subtype", "token", "The izreg action."),
                    ("outcome", "token", "0 success, 4 failed, 8 denied."),
                ]),
            ],
            "interaction": [{"code": "transaction"}, {"code": "batch"}, ],
            "operation": [immds_forecast(
                "POST [base]/$immds-forecast with ImmDS input Parameters (assessmentDate, patient, immunization, \
                 condition with a coding of system http://cdc.gov/cdsi/observation): CDC CDSi evaluation and forecast; \
                 nothing is stored."
            )],
            "security": {
                "cors": false,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "description": "Every interaction needs an ES256 bearer token from POST /auth/token (SMART v2 scopes; Backend Services client credentials for systems). See /fhir/.well-known/smart-configuration.",
            },
        }]
    })
}
