//! Immunization forecasting over FHIR: the HL7 ImmDS `$immds-forecast` operation on submitted
//! data and on stored Patients, and the computed ImmunizationRecommendation.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{TestApp, immunization, patient};
use izreg::domain::access::{OrganizationKind, Role};
use serde_json::{Value, json};

const CVX: &str = "http://hl7.org/fhir/sid/cvx";

/// ImmDS input: an infant born 2024-01-01 with one DTaP dose at 6 weeks, assessed 2024-04-01.
fn infant_with_one_dtap() -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "assessmentDate", "valueDate": "2024-04-01"},
            {"name": "patient", "resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2024-01-01"}},
            {"name": "immunization", "resource": {
                "resourceType": "Immunization", "id": "dtap1", "status": "completed",
                "vaccineCode": {"coding": [{"system": CVX, "code": "20"}]},
                "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": "2024-02-12"}},
            {"name": "immunization", "resource": {
                "resourceType": "Immunization", "id": "never", "status": "not-done",
                "vaccineCode": {"coding": [{"system": CVX, "code": "08"}]},
                "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": "2024-02-12"}}
        ]
    })
}

fn resources<'a>(parameters: &'a Value, name: &str) -> Vec<&'a Value> {
    assert_eq!(parameters["resourceType"], "Parameters", "{parameters}");
    parameters["parameter"].as_array().unwrap().iter().filter(|p| p["name"] == name).map(|p| &p["resource"]).collect()
}

/// The recommendation of a vaccine group.
fn group<'a>(recommendation: &'a Value, name: &str) -> &'a Value {
    recommendation["recommendation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["targetDisease"]["text"] == name)
        .unwrap_or_else(|| panic!("no {name} in {recommendation}"))
}

fn date_criterion(item: &Value, loinc: &str) -> Option<String> {
    item["dateCriterion"].as_array()?.iter().find(|c| c["code"]["coding"][0]["code"] == loinc)?["value"]
        .as_str()
        .map(str::to_owned)
}

fn codes(concept: &Value) -> Vec<String> {
    concept["coding"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn the_operation_evaluates_each_dose_per_antigen_and_forecasts_each_vaccine_group() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Immunization/$immds-forecast", &infant_with_one_dtap()).await;
    response.assert_status(200);
    let output = response.json();

    let evaluations = resources(&output, "evaluation");
    // One DTaP dose: diphtheria, tetanus and pertussis; the not-done HepB dose is ignored.
    assert_eq!(evaluations.len(), 3, "{output}");
    for evaluation in &evaluations {
        assert_eq!(evaluation["resourceType"], "ImmunizationEvaluation");
        assert_eq!(evaluation["status"], "completed");
        assert_eq!(evaluation["patient"]["reference"], "Patient/p1");
        assert_eq!(evaluation["immunizationEvent"]["reference"], "Immunization/dtap1");
        assert_eq!(evaluation["date"], "2024-04-01");
        assert!(codes(&evaluation["doseStatus"]).contains(&"valid".to_owned()), "{evaluation}");
        assert_eq!(evaluation["doseNumberPositiveInt"], 1);
    }
    let antigens: Vec<&str> = evaluations.iter().map(|e| e["targetDisease"]["text"].as_str().unwrap()).collect();
    assert!(antigens.contains(&"Diphtheria") && antigens.contains(&"Tetanus") && antigens.contains(&"Pertussis"));

    let recommendations = resources(&output, "recommendation");
    assert_eq!(recommendations.len(), 1);
    let recommendation = recommendations[0];
    assert_eq!(recommendation["resourceType"], "ImmunizationRecommendation");
    assert_eq!(recommendation["date"], "2024-04-01");
    let dtap = group(recommendation, "DTaP/Tdap/Td");
    assert_eq!(dtap["doseNumberPositiveInt"], 2);
    // Dose 2: 4 weeks after dose 1 at the earliest, recommended at 4 months, past due at 4
    // months + 4 weeks (6 weeks... 4 months in CDSi terms).
    assert_eq!(date_criterion(dtap, "30981-5").as_deref(), Some("2024-03-11"));
    assert_eq!(date_criterion(dtap, "30980-7").as_deref(), Some("2024-05-01"));
    assert_eq!(date_criterion(dtap, "59778-1").as_deref(), Some("2024-06-28"));
    let status = codes(&dtap["forecastStatus"]);
    assert!(status.contains(&"notComplete".to_owned()), "{status:?}");
    // Not yet at the recommended date.
    assert_eq!(dtap["forecastStatus"]["text"], "Not yet due");
    assert_eq!(dtap["vaccineCode"][0]["coding"][0]["system"], CVX);
    assert_eq!(dtap["supportingImmunization"][0]["reference"], "Immunization/dtap1");
    // HepB dose 1 was due at birth and is overdue by now.
    let hepb = group(recommendation, "HepB");
    assert!(codes(&hepb["forecastStatus"]).contains(&"overdue".to_owned()), "{hepb}");

    // The system-level URL of the ImmDS IG answers the same.
    let system = app.post("/fhir/$immds-forecast", &infant_with_one_dtap()).await;
    system.assert_status(200);
    assert_eq!(resources(&system.json(), "evaluation").len(), 3);
}

#[actix_web::test]
async fn a_dose_given_too_early_is_not_valid_with_the_cdsi_reason() {
    let app = TestApp::spawn().await;
    let mut input = infant_with_one_dtap();
    input["parameter"][2]["resource"]["occurrenceDateTime"] = json!("2024-01-20");
    let output = app.post("/fhir/$immds-forecast", &input).await;
    output.assert_status(200);
    let output = output.json();
    let evaluation = resources(&output, "evaluation")[0].clone();
    assert!(codes(&evaluation["doseStatus"]).contains(&"notvalid".to_owned()), "{evaluation}");
    assert_eq!(evaluation["doseStatusReason"][0]["text"], "Age: Too Young");
    assert_eq!(evaluation["doseStatusReason"][0]["coding"][0]["code"], "tooyoung");
    let dtap = group(resources(&output, "recommendation")[0], "DTaP/Tdap/Td");
    assert_eq!(dtap["doseNumberPositiveInt"], 1);
}

#[actix_web::test]
async fn malformed_operation_input_is_a_400_operation_outcome() {
    let app = TestApp::spawn().await;
    let mut cases: Vec<(Value, &str)> = Vec::new();
    cases.push((json!({"resourceType": "Patient", "birthDate": "2024-01-01"}), "resourceType"));
    let mut no_patient = infant_with_one_dtap();
    no_patient["parameter"].as_array_mut().unwrap().remove(1);
    cases.push((no_patient, "Parameters.parameter"));
    let mut no_birth_date = infant_with_one_dtap();
    no_birth_date["parameter"][1]["resource"].as_object_mut().unwrap().remove("birthDate");
    cases.push((no_birth_date, "Parameters.parameter[1].resource.birthDate"));
    let mut bad_date = infant_with_one_dtap();
    bad_date["parameter"][0]["valueDate"] = json!("2024-02-30");
    cases.push((bad_date, "Parameters.parameter[0].valueDate"));
    let mut bad_occurrence = infant_with_one_dtap();
    bad_occurrence["parameter"][2]["resource"]["occurrenceDateTime"] = json!("yesterday");
    // (fhir-sdk reports a bad occurrence[x] on the resource.)
    cases.push((bad_occurrence, "Parameters.parameter[2].resource"));
    let mut partial_occurrence = infant_with_one_dtap();
    partial_occurrence["parameter"][2]["resource"]["occurrenceDateTime"] = json!("2024-02");
    cases.push((partial_occurrence, "Parameters.parameter[2].resource.occurrenceDateTime"));
    let mut unknown = infant_with_one_dtap();
    unknown["parameter"].as_array_mut().unwrap().push(json!({"name": "colour", "valueString": "blue"}));
    cases.push((unknown, "Parameters.parameter[4].name"));
    let mut before_birth = infant_with_one_dtap();
    before_birth["parameter"][0]["valueDate"] = json!("2023-12-31");
    cases.push((before_birth, "Parameters.parameter"));
    for (body, expression) in cases {
        let response = app.post("/fhir/Immunization/$immds-forecast", &body).await;
        response.assert_status(400);
        let (_, at) = response.first_issue();
        assert_eq!(at.as_deref(), Some(expression), "{}", String::from_utf8_lossy(&response.body));
    }
    let not_json = app
        .send(
            TestRequest::post()
                .uri("/fhir/$immds-forecast")
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload("{ not json"),
        )
        .await;
    not_json.assert_status(400);
    assert_eq!(not_json.first_issue().0, "structure");

    // An unknown CVX code is a registry rule (422), as when storing an Immunization.
    let mut unknown_cvx = infant_with_one_dtap();
    unknown_cvx["parameter"][2]["resource"]["vaccineCode"]["coding"][0]["code"] = json!("9999");
    app.post("/fhir/$immds-forecast", &unknown_cvx).await.assert_status(422);
}

#[actix_web::test]
async fn conditions_are_read_from_the_cdsi_observation_coding() {
    let app = TestApp::spawn().await;
    let mut input = infant_with_one_dtap();
    // 070 (persons at risk during an outbreak) is an observation of the CDSi supporting data.
    input["parameter"].as_array_mut().unwrap().push(json!({"name": "condition", "resource": {
        "resourceType": "Condition",
        "code": {"coding": [{"system": "http://cdc.gov/cdsi/observation", "code": "070"}]},
        "subject": {"reference": "Patient/p1"}
    }}));
    let response = app.post("/fhir/$immds-forecast", &input).await;
    response.assert_status(200);
    let mut bad = infant_with_one_dtap();
    bad["parameter"].as_array_mut().unwrap().push(json!({"name": "condition", "resource": {
        "resourceType": "Condition",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005"}]},
        "subject": {"reference": "Patient/p1"}
    }}));
    let refused = app.post("/fhir/$immds-forecast", &bad).await;
    refused.assert_status(400);
    assert_eq!(refused.first_issue().1.as_deref(), Some("Parameters.parameter[4].resource.code"));
}

async fn stored_infant(app: &TestApp) -> (String, String) {
    let patient_id = app.create_patient(&patient("Forecast", "Fay", "2024-01-01")).await;
    let dose_id = app.create_immunization(&immunization(&patient_id, "20", "2024-02-12")).await;
    (patient_id, dose_id)
}

#[actix_web::test]
async fn a_stored_patient_is_forecast_from_their_stored_immunizations() {
    let app = TestApp::spawn().await;
    let (patient_id, dose_id) = stored_infant(&app).await;
    let response = app.get(&format!("/fhir/Patient/{patient_id}/$immds-forecast?assessmentDate=2024-04-01")).await;
    response.assert_status(200);
    let output = response.json();
    let evaluations = resources(&output, "evaluation");
    assert_eq!(evaluations.len(), 3);
    assert!(evaluations.iter().all(|e| e["immunizationEvent"]["reference"] == format!("Immunization/{dose_id}")));
    assert!(evaluations.iter().all(|e| e["patient"]["reference"] == format!("Patient/{patient_id}")));
    let dtap = group(resources(&output, "recommendation")[0], "DTaP/Tdap/Td");
    assert_eq!(dtap["doseNumberPositiveInt"], 2);
    assert_eq!(date_criterion(dtap, "30980-7").as_deref(), Some("2024-05-01"));

    // Without assessmentDate: today.
    let today = app.get(&format!("/fhir/Patient/{patient_id}/$immds-forecast")).await;
    today.assert_status(200);
    let today_date = izreg::domain::agreement::format_date(izreg::domain::agreement::today());
    assert_eq!(resources(&today.json(), "recommendation")[0]["date"], today_date);

    app.get(&format!("/fhir/Patient/{patient_id}/$immds-forecast?assessmentDate=April")).await.assert_status(400);
    app.get(&format!("/fhir/Patient/{patient_id}/$immds-forecast?colour=blue")).await.assert_status(400);

    // The access is audited as a forecast of that patient.
    app.flush_audit();
    let filter = izreg::store::audit::AuditFilter { patient_id: Some(patient_id.clone()), ..Default::default() };
    let events = app.registry.database().read(|conn| izreg::store::audit::search(conn, &filter, 100)).unwrap();
    assert!(events.iter().any(|e| e.action == "immds-forecast" && e.outcome == "success"), "{events:?}");
}

#[actix_web::test]
async fn the_stored_patient_forecast_is_refused_exactly_as_reading_the_patient_is() {
    let app = TestApp::spawn().await;
    let (patient_id, _) = stored_infant(&app).await;
    let forecast_uri = format!("/fhir/Patient/{patient_id}/$immds-forecast");
    let read_uri = format!("/fhir/Patient/{patient_id}");

    // No token.
    let read = app.send_anonymous(TestRequest::get().uri(&read_uri)).await;
    let forecast = app.send_anonymous(TestRequest::get().uri(&forecast_uri)).await;
    assert_eq!((read.status.as_u16(), forecast.status.as_u16()), (401, 401));
    assert_eq!(forecast.first_issue().0, "login");

    // Another organization: the registry shares records, so both are allowed.
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    app.send_as(&other, TestRequest::get().uri(&read_uri)).await.assert_status(200);
    app.send_as(&other, TestRequest::get().uri(&forecast_uri)).await.assert_status(200);

    // An organization whose agreement has ended: both refused with 403.
    let lapsed = app.enrol("Lapsed Pharmacy", OrganizationKind::Pharmacy, Role::Clinician);
    app.execute_sql(format!(
        "UPDATE agreement SET starts_on = '2020-01-01', ends_on = '2023-01-01' WHERE organization_id = '{}'",
        lapsed.organization_id
    ));
    app.registry.sessions().forget_standing();
    let read = app.send_as(&lapsed, TestRequest::get().uri(&read_uri)).await;
    let forecast = app.send_as(&lapsed, TestRequest::get().uri(&forecast_uri)).await;
    assert_eq!((read.status.as_u16(), forecast.status.as_u16()), (403, 403));

    // A token without Patient read: refused like the read.
    let narrow = common::login_with_scope(
        &app.registry,
        &app.clinician.organization_id,
        &app.clinician.username,
        Some("user/Immunization.rs"),
    );
    let as_narrow = |uri: &str| common::with_bearer(TestRequest::get().uri(uri), &narrow.access_token);
    let read = app.send_anonymous(as_narrow(&read_uri)).await;
    let forecast = app.send_anonymous(as_narrow(&forecast_uri)).await;
    assert_eq!((read.status.as_u16(), forecast.status.as_u16()), (403, 403));
    // And one without Immunization search (the forecast reads the immunizations).
    let patient_only = common::login_with_scope(
        &app.registry,
        &app.clinician.organization_id,
        &app.clinician.username,
        Some("user/Patient.rs"),
    );
    let forecast = app
        .send_anonymous(common::with_bearer(TestRequest::get().uri(&forecast_uri), &patient_only.access_token))
        .await;
    forecast.assert_status(403);

    // Unknown and deleted patients.
    app.get("/fhir/Patient/no-such-patient/$immds-forecast").await.assert_status(404);
    let lonely = app.create_patient(&patient("Gone", "Gus", "2020-01-01")).await;
    app.delete(&format!("/fhir/Patient/{lonely}")).await.assert_status(204);
    app.get(&format!("/fhir/Patient/{lonely}/$immds-forecast")).await.assert_status(410);

    // Every refusal is audited as a denial.
    app.flush_audit();
    let filter = izreg::store::audit::AuditFilter { outcome: Some("denied".to_owned()), ..Default::default() };
    let denied = app.registry.database().read(|conn| izreg::store::audit::search(conn, &filter, 1000)).unwrap();
    assert!(denied.iter().filter(|e| e.action == "immds-forecast").count() >= 2, "{denied:?}");
}

#[actix_web::test]
async fn immunization_recommendations_are_read_and_searched_by_patient() {
    let app = TestApp::spawn().await;
    let (patient_id, dose_id) = stored_infant(&app).await;
    let today = izreg::domain::agreement::format_date(izreg::domain::agreement::today());

    let read = app.get(&format!("/fhir/ImmunizationRecommendation/{patient_id}")).await;
    read.assert_status(200);
    let recommendation = read.json();
    assert_eq!(recommendation["resourceType"], "ImmunizationRecommendation");
    assert_eq!(recommendation["id"], patient_id.as_str());
    assert_eq!(recommendation["patient"]["reference"], format!("Patient/{patient_id}"));
    assert_eq!(recommendation["date"], today);
    assert_eq!(
        group(&recommendation, "DTaP/Tdap/Td")["supportingImmunization"][0]["reference"],
        format!("Immunization/{dose_id}")
    );
    app.get("/fhir/ImmunizationRecommendation/no-such-patient").await.assert_status(404);

    for query in [format!("patient={patient_id}"), format!("patient=Patient/{patient_id}")] {
        let found = app.get(&format!("/fhir/ImmunizationRecommendation?{query}")).await;
        found.assert_status(200);
        let bundle = found.json();
        assert_eq!(bundle["type"], "searchset");
        assert_eq!(bundle["total"], 1);
        assert_eq!(bundle["entry"][0]["resource"]["id"], patient_id.as_str());
        assert_eq!(
            bundle["entry"][0]["fullUrl"],
            format!("http://izreg.test/fhir/ImmunizationRecommendation/{patient_id}")
        );
    }
    let none = app.get("/fhir/ImmunizationRecommendation?patient=no-such-patient").await;
    none.assert_status(200);
    assert_eq!(none.json()["total"], 0);
    assert!(none.json().get("entry").is_none());
    app.get("/fhir/ImmunizationRecommendation").await.assert_status(400);
    app.get("/fhir/ImmunizationRecommendation?vaccine-type=20").await.assert_status(400);
    app.send_anonymous(TestRequest::get().uri(&format!("/fhir/ImmunizationRecommendation/{patient_id}")))
        .await
        .assert_status(401);
}
