//! Bad input gets a clear OperationOutcome and stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{TEST_MAX_BODY_BYTES, TestApp, immunization, patient};
use serde_json::json;

async fn patient_count(app: &TestApp) -> u64 {
    app.get("/fhir/Patient?_summary=count").await.json()["total"].as_u64().unwrap()
}

#[actix_web::test]
async fn malformed_json_is_400_structure() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload("{\"resourceType\": "),
        )
        .await;
    response.assert_status(400);
    assert_eq!(response.first_issue().0, "structure");
    assert_eq!(patient_count(&app).await, 0);
}

#[actix_web::test]
async fn wrong_resource_type_is_400() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Patient", &json!({"resourceType": "Observation", "status": "final"})).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), ("invalid".to_owned(), Some("resourceType".to_owned())));
}

#[actix_web::test]
async fn unknown_elements_are_refused_rather_than_dropped() {
    let app = TestApp::spawn().await;
    let mut body = patient("Drop", "Me", "2020-01-01");
    body["favouriteColour"] = json!("blue");
    let response = app.post("/fhir/Patient", &body).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), ("structure".to_owned(), Some("Patient.favouriteColour".to_owned())));
    assert_eq!(patient_count(&app).await, 0);
}

#[actix_web::test]
async fn missing_required_elements_are_named() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Patient", &json!({"resourceType": "Patient", "gender": "male"})).await;
    response.assert_status(400);
    let body = response.json();
    let expressions: Vec<&str> =
        body["issue"].as_array().unwrap().iter().filter_map(|i| i["expression"][0].as_str()).collect();
    assert_eq!(expressions, vec!["Patient.name", "Patient.birthDate"]);
    assert!(body["issue"].as_array().unwrap().iter().all(|i| i["code"] == "required"));
}

#[actix_web::test]
async fn bad_dates_are_named_without_echoing_the_value() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Patient", &patient("Bad", "Date", "2020-02-31")).await;
    response.assert_status(400);
    let (code, expression) = response.first_issue();
    assert_eq!(code, "value");
    assert_eq!(expression.as_deref(), Some("Patient.birthDate"));
    assert!(!String::from_utf8_lossy(&response.body).contains("2020-02-31"));
}

#[actix_web::test]
async fn future_birth_dates_are_422() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Patient", &patient("Future", "Kid", "2999-01-01")).await;
    response.assert_status(422);
    assert_eq!(response.first_issue(), ("invariant".to_owned(), Some("Patient.birthDate".to_owned())));
}

#[actix_web::test]
async fn unsupported_media_type_is_415() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/xml"))
                .set_payload(patient("X", "Y", "2020-01-01").to_string()),
        )
        .await;
    response.assert_status(415);
    assert_eq!(response.first_issue().0, "not-supported");
    let json_ok = app
        .send(
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/json; charset=utf-8"))
                .set_payload(patient("X", "Y", "2020-01-01").to_string()),
        )
        .await;
    json_ok.assert_status(201);
}

#[actix_web::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::spawn().await;
    let mut body = patient("Big", "Body", "2020-01-01");
    body["name"][0]["text"] = json!("x".repeat(TEST_MAX_BODY_BYTES + 10));
    let response = app.post("/fhir/Patient", &body).await;
    response.assert_status(413);
    assert_eq!(response.first_issue().0, "too-long");
    assert_eq!(patient_count(&app).await, 0);
}

#[actix_web::test]
async fn non_json_accept_is_406() {
    let app = TestApp::spawn().await;
    let response =
        app.send(TestRequest::get().uri("/fhir/metadata").insert_header(("accept", "application/fhir+xml"))).await;
    response.assert_status(406);
    app.send(TestRequest::get().uri("/fhir/metadata?_format=json").insert_header(("accept", "application/fhir+xml")))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn immunization_with_unknown_codes_is_422_and_names_the_codes() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Code", "Check", "2020-01-01")).await;
    let mut body = immunization(&patient_id, "9999", "2021-01-01");
    body["manufacturer"]["identifier"]["value"] = json!("ZZZ");
    let response = app.post("/fhir/Immunization", &body).await;
    response.assert_status(422);
    let outcome = response.json();
    let issues = outcome["issue"].as_array().unwrap();
    assert_eq!(issues[0]["code"], "code-invalid");
    assert_eq!(issues[0]["expression"][0], "Immunization.vaccineCode.coding[0].code");
    assert_eq!(issues[1]["expression"][0], "Immunization.manufacturer.identifier.value");
}

#[actix_web::test]
async fn immunization_before_birth_or_in_future_is_422() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Order", "Check", "2020-06-01")).await;
    let before = app.post("/fhir/Immunization", &immunization(&patient_id, "08", "2020-05-31")).await;
    before.assert_status(422);
    assert_eq!(before.first_issue(), ("invariant".to_owned(), Some("Immunization.occurrenceDateTime".to_owned())));
    let future = app.post("/fhir/Immunization", &immunization(&patient_id, "08", "2999-01-01")).await;
    future.assert_status(422);
    app.post("/fhir/Immunization", &immunization(&patient_id, "08", "2020-06-01")).await.assert_status(201);
}

#[actix_web::test]
async fn immunization_for_a_missing_patient_is_422() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Immunization", &immunization("no-such-patient", "08", "2021-01-01")).await;
    response.assert_status(422);
    assert_eq!(response.first_issue(), ("not-found".to_owned(), Some("Immunization.patient.reference".to_owned())));
}

#[actix_web::test]
async fn rejected_update_leaves_the_stored_version_untouched() {
    let app = TestApp::spawn().await;
    let id = app.create_patient(&patient("Keep", "Me", "2020-01-01")).await;
    let before = app.get(&format!("/fhir/Patient/{id}")).await.json();
    let mut bad = patient("Keep", "Me", "2999-01-01");
    bad["id"] = json!(id);
    app.put(&format!("/fhir/Patient/{id}"), &bad).await.assert_status(422);
    assert_eq!(app.get(&format!("/fhir/Patient/{id}")).await.json(), before);
}

#[actix_web::test]
async fn deleting_a_patient_with_immunizations_is_409() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Has", "Shots", "2020-01-01")).await;
    let immunization_id = app.create_immunization(&immunization(&patient_id, "08", "2020-01-02")).await;
    let response = app.delete(&format!("/fhir/Patient/{patient_id}")).await;
    response.assert_status(409);
    app.delete(&format!("/fhir/Immunization/{immunization_id}")).await.assert_status(204);
    app.delete(&format!("/fhir/Patient/{patient_id}")).await.assert_status(204);
}

#[actix_web::test]
async fn unknown_routes_answer_an_operation_outcome() {
    let app = TestApp::spawn().await;
    let response = app.get("/fhir/Observation").await;
    response.assert_status(404);
    assert_eq!(response.first_issue().0, "not-supported");
}

#[actix_web::test]
async fn dates_at_the_edge_of_the_calendar_are_refused_cleanly() {
    let app = TestApp::spawn().await;
    let last_day = app.post("/fhir/Patient", &patient("Edge", "Year", "9999-12-31")).await;
    last_day.assert_status(400);
    assert_eq!(last_day.first_issue(), ("value".to_owned(), Some("Patient.birthDate".to_owned())));
    let mut deceased = patient("Edge", "Dead", "2000-01-01");
    deceased["deceasedDateTime"] = json!("2147483647");
    let response = app.post("/fhir/Patient", &deceased).await;
    assert!(response.status.is_client_error(), "{}", response.status);
    let patient_id = app.create_patient(&patient("Edge", "Shot", "2000-01-01")).await;
    let mut shot = immunization(&patient_id, "08", "2000-01-02");
    shot["occurrenceDateTime"] = json!("9999-12-31");
    let response = app.post("/fhir/Immunization", &shot).await;
    response.assert_status(400);
    assert_eq!(response.first_issue().1.as_deref(), Some("Immunization.occurrenceDateTime"));
}
