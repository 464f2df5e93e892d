//! Transaction and batch Bundles, and conditional create (including under concurrency).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{TestApp, immunization, patient};
use serde_json::{Value, json};

fn transaction(entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

fn post_entry(full_url: &str, resource: Value) -> Value {
    let resource_type = resource["resourceType"].as_str().unwrap().to_owned();
    json!({"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": resource_type}})
}

async fn count(app: &TestApp, resource_type: &str) -> u64 {
    app.get(&format!("/fhir/{resource_type}?_summary=count")).await.json()["total"].as_u64().unwrap()
}

#[actix_web::test]
async fn transaction_resolves_urn_uuid_references() {
    let app = TestApp::spawn().await;
    let patient_urn = "urn:uuid:6f3c1a8e-1111-4c7b-9a37-2b8c0f1d2e3f";
    let mut entries = vec![];
    // The immunizations come first on purpose: references must not depend on entry order.
    for (cvx, date) in [("08", "2024-01-02"), ("20", "2024-03-02")] {
        let mut imm = immunization("placeholder", cvx, date);
        imm["patient"]["reference"] = json!(patient_urn);
        entries.push(post_entry(&format!("urn:uuid:{}", uuid_like(cvx)), imm));
    }
    entries.push(post_entry(patient_urn, patient("Trans", "Action", "2024-01-01")));
    let response = app.post("/fhir", &transaction(entries)).await;
    response.assert_status(200);
    let bundle = response.json();
    assert_eq!(bundle["type"], "transaction-response");
    let responses = bundle["entry"].as_array().unwrap();
    assert_eq!(responses.len(), 3);
    assert!(responses.iter().all(|e| e["response"]["status"] == "201 Created"));
    let patient_id = responses[2]["resource"]["id"].as_str().unwrap();
    assert_eq!(responses[0]["resource"]["patient"]["reference"], format!("Patient/{patient_id}"));
    assert!(responses[0]["response"]["location"].as_str().unwrap().starts_with("Immunization/"));
    let stored = app.get(&format!("/fhir/Immunization?patient={patient_id}&_total=accurate")).await.json();
    assert_eq!(stored["total"], 2);
}

fn uuid_like(seed: &str) -> String {
    format!("00000000-0000-4000-8000-{:0>12}", seed)
}

#[actix_web::test]
async fn a_failing_entry_rolls_back_the_whole_transaction() {
    let app = TestApp::spawn().await;
    let patient_urn = "urn:uuid:6f3c1a8e-2222-4c7b-9a37-2b8c0f1d2e3f";
    let mut bad = immunization("placeholder", "9999", "2024-02-01");
    bad["patient"]["reference"] = json!(patient_urn);
    let entries = vec![post_entry(patient_urn, patient("Roll", "Back", "2024-01-01")), post_entry("urn:uuid:x", bad)];
    let response = app.post("/fhir", &transaction(entries)).await;
    response.assert_status(422);
    let (code, expression) = response.first_issue();
    assert_eq!(code, "code-invalid");
    assert_eq!(expression.as_deref(), Some("Bundle.entry[1].resource.vaccineCode.coding[0].code"));
    assert_eq!(count(&app, "Patient").await, 0);
    assert_eq!(count(&app, "Immunization").await, 0);
}

#[actix_web::test]
async fn a_failure_found_only_in_the_database_also_rolls_back() {
    let app = TestApp::spawn().await;
    let entries = vec![
        post_entry("urn:uuid:a", patient("Half", "Done", "2024-01-01")),
        json!({"request": {"method": "DELETE", "url": "Patient/does-not-exist"}}),
    ];
    app.post("/fhir", &transaction(entries)).await.assert_status(404);
    assert_eq!(count(&app, "Patient").await, 0);
}

#[actix_web::test]
async fn batch_entries_succeed_or_fail_independently() {
    let app = TestApp::spawn().await;
    let existing = app.create_patient(&patient("Batch", "Read", "2020-01-01")).await;
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient("Batch", "Good", "2020-01-01"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": patient("Batch", "Bad", "2999-01-01"), "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": format!("Patient/{existing}")}},
        {"request": {"method": "GET", "url": "Patient?family=batch&_total=accurate"}},
        {"request": {"method": "PATCH", "url": format!("Patient/{existing}")}}
    ]});
    let response = app.post("/fhir", &bundle).await;
    response.assert_status(200);
    let body = response.json();
    assert_eq!(body["type"], "batch-response");
    let statuses: Vec<&str> =
        body["entry"].as_array().unwrap().iter().map(|e| e["response"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["201 Created", "422 Unprocessable Entity", "200 OK", "200 OK", "400 Bad Request"]);
    assert_eq!(body["entry"][1]["response"]["outcome"]["resourceType"], "OperationOutcome");
    assert_eq!(body["entry"][2]["resource"]["id"], existing.as_str());
    assert_eq!(body["entry"][3]["resource"]["resourceType"], "Bundle");
    assert_eq!(count(&app, "Patient").await, 2);
}

#[actix_web::test]
async fn bundle_of_the_wrong_type_is_400() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir", &json!({"resourceType": "Bundle", "type": "collection"})).await;
    response.assert_status(400);
    assert_eq!(response.first_issue().1.as_deref(), Some("Bundle.type"));
    app.post("/fhir", &patient("Not", "Bundle", "2020-01-01")).await.assert_status(400);
}

fn conditional(app_body: &Value) -> TestRequest {
    TestRequest::post()
        .uri("/fhir/Patient")
        .insert_header(("content-type", "application/fhir+json"))
        .insert_header(("if-none-exist", "identifier=urn:izreg:test:mrn|Cond-Create-2020-01-01"))
        .set_payload(app_body.to_string())
}

#[actix_web::test]
async fn conditional_create_creates_once_then_returns_the_match() {
    let app = TestApp::spawn().await;
    let body = patient("Cond", "Create", "2020-01-01");
    let first = app.send(conditional(&body)).await;
    first.assert_status(201);
    let second = app.send(conditional(&body)).await;
    second.assert_status(200);
    assert_eq!(second.json()["id"], first.json()["id"]);
    assert_eq!(count(&app, "Patient").await, 1);

    // A second record with the same identifier makes the condition ambiguous: 412.
    app.create_patient(&body).await;
    app.send(conditional(&body)).await.assert_status(412);
    assert_eq!(count(&app, "Patient").await, 2);
}

#[actix_web::test]
async fn concurrent_identical_conditional_creates_store_one_resource() {
    let app = TestApp::spawn().await;
    let body = patient("Cond", "Create", "2020-01-01");
    let requests: Vec<_> = (0..12).map(|_| app.send(conditional(&body))).collect();
    let responses = futures_util::future::join_all(requests).await;
    let created = responses.iter().filter(|r| r.status.as_u16() == 201).count();
    let matched = responses.iter().filter(|r| r.status.as_u16() == 200).count();
    assert_eq!((created, matched), (1, 11));
    assert_eq!(count(&app, "Patient").await, 1);
}

#[actix_web::test]
async fn conditional_create_in_a_transaction_reuses_the_existing_patient() {
    let app = TestApp::spawn().await;
    let existing = app.create_patient(&patient("Cond", "Create", "2020-01-01")).await;
    let patient_urn = "urn:uuid:6f3c1a8e-3333-4c7b-9a37-2b8c0f1d2e3f";
    let mut imm = immunization("placeholder", "08", "2020-02-01");
    imm["patient"]["reference"] = json!(patient_urn);
    let bundle = transaction(vec![
        json!({"fullUrl": patient_urn, "resource": patient("Cond", "Create", "2020-01-01"),
               "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:izreg:test:mrn|Cond-Create-2020-01-01"}}),
        post_entry("urn:uuid:imm", imm),
    ]);
    let response = app.post("/fhir", &bundle).await;
    response.assert_status(200);
    let body = response.json();
    assert_eq!(body["entry"][0]["response"]["status"], "200 OK");
    assert_eq!(body["entry"][1]["resource"]["patient"]["reference"], format!("Patient/{existing}"));
    assert_eq!(count(&app, "Patient").await, 1);
}
