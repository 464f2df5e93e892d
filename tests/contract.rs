//! The published contract: the committed OpenAPI file, the CapabilityStatement, health probes,
//! the docs UI, and the migration trees.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use common::TestApp;

#[test]
fn committed_openapi_matches_the_code() {
    let generated = izreg::http::openapi::spec_json().expect("spec serializes");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors_and_has_a_unique_id() {
    let spec: serde_json::Value = serde_json::from_str(&izreg::http::openapi::spec_json().unwrap()).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let responses = operation["responses"].as_object().unwrap();
            let public = operation["security"]
                .as_array()
                .is_some_and(|r| r.iter().all(|x| x.as_object().is_some_and(|o| o.is_empty())));
            if !public {
                assert!(responses.contains_key("401"), "{method} {path} needs a token but documents no 401");
            }
            if path.starts_with("/fhir") && !public {
                assert!(
                    responses.keys().any(|status| status.starts_with('4')),
                    "{method} {path} documents no error response"
                );
            }
        }
    }
}

#[test]
fn migration_trees_are_in_lockstep() {
    let names = |tree: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!("{}/migrations/{tree}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[actix_web::test]
async fn capability_statement_lists_what_is_implemented() {
    let app = TestApp::spawn().await;
    let response = app.get("/fhir/metadata").await;
    response.assert_status(200);
    let statement = response.json();
    assert_eq!(statement["resourceType"], "CapabilityStatement");
    assert_eq!(statement["fhirVersion"], "4.0.1");
    let resources = statement["rest"][0]["resource"].as_array().unwrap();
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    let params: Vec<&str> =
        patient["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for expected in [
        "_id",
        "identifier",
        "family",
        "given",
        "name",
        "birthdate",
        "_lastUpdated",
        "gender",
        "address-postalcode",
        "active",
    ] {
        assert!(params.contains(&expected), "{expected}");
    }
    assert_eq!(patient["searchRevInclude"][0], "Immunization:patient");
    let immunization = resources.iter().find(|r| r["type"] == "Immunization").unwrap();
    assert_eq!(immunization["searchInclude"][0], "Immunization:patient");
    let interactions: Vec<&str> =
        statement["rest"][0]["interaction"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(interactions, vec!["transaction", "batch"]);
    let forecast = "http://hl7.org/fhir/us/immds/OperationDefinition/ImmDSForecastOperation";
    assert_eq!(statement["rest"][0]["operation"][0]["name"], "immds-forecast");
    assert_eq!(statement["rest"][0]["operation"][0]["definition"], forecast);
    assert_eq!(patient["operation"][0]["definition"], forecast);
    assert_eq!(immunization["operation"][0]["definition"], forecast);
    let recommendation = resources.iter().find(|r| r["type"] == "ImmunizationRecommendation").unwrap();
    let interactions: Vec<&str> =
        recommendation["interaction"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(interactions, vec!["read", "search-type"]);
    assert_eq!(recommendation["searchParam"][0]["name"], "patient");
}

#[actix_web::test]
async fn health_probes_answer() {
    let app = TestApp::spawn().await;
    app.get("/health/live").await.assert_status(200);
    let ready = app.get("/health/ready").await;
    ready.assert_status(200);
    assert_eq!(ready.json()["database"], "ok");
}

#[actix_web::test]
async fn docs_and_spec_are_served() {
    let app = TestApp::spawn().await;
    let spec = app.get("/openapi.json").await;
    spec.assert_status(200);
    assert!(spec.json()["paths"]["/fhir/Patient"].is_object());
    let docs = app.get("/docs/").await;
    docs.assert_status(200);
    assert!(String::from_utf8_lossy(&docs.body).contains("swagger"), "Swagger UI is served offline");
}

#[actix_web::test]
async fn head_is_answered_like_get() {
    let app = TestApp::spawn().await;
    let response = app
        .send(actix_web::test::TestRequest::default().method(actix_web::http::Method::HEAD).uri("/fhir/metadata"))
        .await;
    response.assert_status(200);
    assert!(response.header("content-type").unwrap().starts_with("application/fhir+json"));
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let response = app.send(actix_web::test::TestRequest::patch().uri("/fhir/Patient/some-id")).await;
    response.assert_status(405);
    assert_eq!(response.header("allow").as_deref(), Some("GET, HEAD, PUT, DELETE"));
    assert_eq!(response.first_issue().0, "not-supported");
    app.send(actix_web::test::TestRequest::post().uri("/fhir/metadata")).await.assert_status(405);
    app.get("/fhir/Observation/1").await.assert_status(404);
}
