//! Patient create, read, vread, update, delete and history over HTTP, with their error paths.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{TestApp, patient};
use serde_json::json;

#[actix_web::test]
async fn create_assigns_id_and_version_and_read_returns_it() {
    let app = TestApp::spawn().await;
    let response = app.post("/fhir/Patient", &patient("Nguyen", "Linh", "2020-03-04")).await;
    response.assert_status(201);
    let body = response.json();
    let id = body["id"].as_str().unwrap();
    assert_eq!(body["meta"]["versionId"], "1");
    assert_eq!(response.header("etag").as_deref(), Some("W/\"1\""));
    assert_eq!(response.header("location"), Some(format!("http://izreg.test/fhir/Patient/{id}/_history/1")));
    assert!(response.header("last-modified").is_some());
    assert!(response.header("content-type").unwrap().starts_with("application/fhir+json"));

    let read = app.get(&format!("/fhir/Patient/{id}")).await;
    read.assert_status(200);
    assert_eq!(read.json(), body);
    assert_eq!(read.header("etag").as_deref(), Some("W/\"1\""));
}

#[actix_web::test]
async fn create_ignores_a_client_supplied_id() {
    let app = TestApp::spawn().await;
    let mut resource = patient("Ode", "Ada", "2019-01-01");
    resource["id"] = json!("chosen-by-client");
    let id = app.create_patient(&resource).await;
    assert_ne!(id, "chosen-by-client");
}

#[actix_web::test]
async fn update_creates_a_new_version_and_vread_returns_each() {
    let app = TestApp::spawn().await;
    let id = app.create_patient(&patient("Hansen", "Erik", "2018-06-01")).await;
    let mut changed = patient("Hansen", "Erika", "2018-06-01");
    changed["id"] = json!(id);
    let updated = app.put(&format!("/fhir/Patient/{id}"), &changed).await;
    updated.assert_status(200);
    assert_eq!(updated.json()["meta"]["versionId"], "2");
    assert_eq!(updated.header("etag").as_deref(), Some("W/\"2\""));

    let v1 = app.get(&format!("/fhir/Patient/{id}/_history/1")).await;
    v1.assert_status(200);
    assert_eq!(v1.json()["name"][0]["given"][0], "Erik");
    let v2 = app.get(&format!("/fhir/Patient/{id}/_history/2")).await;
    assert_eq!(v2.json()["name"][0]["given"][0], "Erika");
    app.get(&format!("/fhir/Patient/{id}/_history/3")).await.assert_status(404);
    app.get(&format!("/fhir/Patient/{id}/_history/x")).await.assert_status(404);
}

#[actix_web::test]
async fn update_with_a_stale_if_match_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_patient(&patient("Berg", "Ola", "2017-02-02")).await;
    let mut changed = patient("Berg", "Olav", "2017-02-02");
    changed["id"] = json!(id);
    let ok = app
        .send(
            TestRequest::put()
                .uri(&format!("/fhir/Patient/{id}"))
                .insert_header(("content-type", "application/fhir+json"))
                .insert_header(("if-match", "W/\"1\""))
                .set_payload(changed.to_string()),
        )
        .await;
    ok.assert_status(200);
    changed["name"][0]["given"][0] = json!("Olaf");
    let stale = app
        .send(
            TestRequest::put()
                .uri(&format!("/fhir/Patient/{id}"))
                .insert_header(("content-type", "application/fhir+json"))
                .insert_header(("if-match", "W/\"1\""))
                .set_payload(changed.to_string()),
        )
        .await;
    stale.assert_status(412);
    assert_eq!(stale.first_issue().0, "conflict");
    let current = app.get(&format!("/fhir/Patient/{id}")).await.json();
    assert_eq!(current["name"][0]["given"][0], "Olav");
    assert_eq!(current["meta"]["versionId"], "2");
}

#[actix_web::test]
async fn update_refuses_a_body_id_that_differs_from_the_url() {
    let app = TestApp::spawn().await;
    let id = app.create_patient(&patient("Lee", "Min", "2016-05-05")).await;
    let mut changed = patient("Lee", "Mina", "2016-05-05");
    changed["id"] = json!("some-other-id");
    let response = app.put(&format!("/fhir/Patient/{id}"), &changed).await;
    response.assert_status(400);
    assert_eq!(response.first_issue().1.as_deref(), Some("Patient.id"));
    changed.as_object_mut().unwrap().remove("id");
    app.put(&format!("/fhir/Patient/{id}"), &changed).await.assert_status(400);
    assert_eq!(app.get(&format!("/fhir/Patient/{id}")).await.json()["meta"]["versionId"], "1");
}

#[actix_web::test]
async fn update_of_an_unknown_id_is_404() {
    let app = TestApp::spawn().await;
    let mut body = patient("Nobody", "No", "2016-05-05");
    body["id"] = json!("does-not-exist");
    app.put("/fhir/Patient/does-not-exist", &body).await.assert_status(404);
}

#[actix_web::test]
async fn delete_then_read_is_gone_and_history_keeps_every_version() {
    let app = TestApp::spawn().await;
    let id = app.create_patient(&patient("Olsen", "Kari", "2015-01-01")).await;
    let deleted = app.delete(&format!("/fhir/Patient/{id}")).await;
    deleted.assert_status(204);
    assert_eq!(deleted.header("etag").as_deref(), Some("W/\"2\""));
    let read = app.get(&format!("/fhir/Patient/{id}")).await;
    read.assert_status(410);
    assert_eq!(read.first_issue().0, "deleted");
    app.get(&format!("/fhir/Patient/{id}/_history/2")).await.assert_status(410);
    app.get(&format!("/fhir/Patient/{id}/_history/1")).await.assert_status(200);
    app.delete(&format!("/fhir/Patient/{id}")).await.assert_status(204);

    let history = app.get(&format!("/fhir/Patient/{id}/_history")).await;
    history.assert_status(200);
    let bundle = history.json();
    assert_eq!(bundle["type"], "history");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["request"]["method"], "DELETE");
    assert!(entries[0].get("resource").is_none());
    assert_eq!(entries[1]["request"]["method"], "POST");
    assert_eq!(entries[1]["resource"]["meta"]["versionId"], "1");
}

#[actix_web::test]
async fn reading_unknown_or_malformed_ids_is_404() {
    let app = TestApp::spawn().await;
    let missing = app.get("/fhir/Patient/unknown-id").await;
    missing.assert_status(404);
    assert_eq!(missing.first_issue().0, "not-found");
    app.get("/fhir/Patient/bad%20id").await.assert_status(404);
    app.delete("/fhir/Patient/unknown-id").await.assert_status(404);
    app.get("/fhir/Patient/unknown-id/_history").await.assert_status(404);
}

#[actix_web::test]
async fn history_pages_with_a_next_link() {
    let app = TestApp::spawn().await;
    let id = app.create_patient(&patient("Paging", "Hist", "2015-01-01")).await;
    for given in ["A", "B", "C", "D"] {
        let mut changed = patient("Paging", given, "2015-01-01");
        changed["id"] = json!(id);
        app.put(&format!("/fhir/Patient/{id}"), &changed).await.assert_status(200);
    }
    let mut versions = Vec::new();
    let mut url = format!("/fhir/Patient/{id}/_history?_count=2");
    loop {
        let bundle = app.get(&url).await.json();
        for entry in bundle["entry"].as_array().unwrap() {
            versions.push(entry["resource"]["meta"]["versionId"].as_str().unwrap().to_owned());
        }
        match bundle["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") {
            Some(next) => url = next["url"].as_str().unwrap().replace("http://izreg.test", ""),
            None => break,
        }
    }
    assert_eq!(versions, vec!["5", "4", "3", "2", "1"]);

    let type_history = app.get("/fhir/Patient/_history").await.json();
    assert_eq!(type_history["entry"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn prefer_return_minimal_and_operation_outcome() {
    let app = TestApp::spawn().await;
    let minimal = app
        .send(
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/fhir+json"))
                .insert_header(("prefer", "return=minimal"))
                .set_payload(patient("Min", "Imal", "2020-01-01").to_string()),
        )
        .await;
    minimal.assert_status(201);
    assert!(minimal.body.is_empty());
    assert!(minimal.header("location").is_some());
    let outcome = app
        .send(
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/fhir+json"))
                .insert_header(("prefer", "return=OperationOutcome"))
                .set_payload(patient("Out", "Come", "2020-01-01").to_string()),
        )
        .await;
    outcome.assert_status(201);
    assert_eq!(outcome.json()["resourceType"], "OperationOutcome");
}
