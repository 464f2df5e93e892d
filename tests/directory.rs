//! FHIR Organization, Location and AuditEvent: the directory everyone may look up, and the
//! audit trail only state staff (all) and organization administrators (their own) may read.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{TestApp, patient};
use izreg::domain::access::{OrganizationKind, Role};
use serde_json::Value;

fn entries(body: &Value) -> Vec<Value> {
    body["entry"].as_array().cloned().unwrap_or_default().into_iter().map(|e| e["resource"].clone()).collect()
}

#[actix_web::test]
async fn organizations_and_their_facilities_are_a_searchable_directory() {
    let app = TestApp::spawn().await;
    let school = app.enrol("Lincoln Elementary", OrganizationKind::School, Role::ReadOnly);
    let read = app.get(&format!("/fhir/Organization/{}", school.organization_id)).await;
    read.assert_status(200);
    let organization = read.json();
    assert_eq!(organization["resourceType"], "Organization");
    assert_eq!(organization["name"], "Lincoln Elementary");
    assert_eq!(organization["type"][0]["coding"][0]["code"], "edu");
    let by_name = app.get("/fhir/Organization?name=linc").await.json();
    assert_eq!(entries(&by_name).len(), 1);
    let providers = app.get("/fhir/Organization?type=provider").await.json();
    assert!(entries(&providers).iter().all(|o| o["type"][0]["text"] == "provider"));
    app.get("/fhir/Organization?type=hospital").await.assert_status(400);
    app.get("/fhir/Organization?colour=blue").await.assert_status(400);
    app.get("/fhir/Organization/no-such-id").await.assert_status(404);

    let sites = app.get(&format!("/fhir/Location?organization=Organization/{}", school.organization_id)).await.json();
    let sites = entries(&sites);
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0]["managingOrganization"]["reference"], format!("Organization/{}", school.organization_id));
    let location_id = sites[0]["id"].as_str().unwrap();
    app.get(&format!("/fhir/Location/{location_id}")).await.assert_status(200);
}

#[actix_web::test]
async fn directory_pages_follow_the_next_link() {
    let app = TestApp::spawn().await;
    for name in ["Alpha Care", "Beta Care", "Gamma Care"] {
        app.enrol(name, OrganizationKind::Provider, Role::Clinician);
    }
    let first = app.get("/fhir/Organization?_count=2").await.json();
    assert_eq!(entries(&first).len(), 2);
    let next = first["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://izreg.test")
        .to_owned();
    let second = app.get(&next).await.json();
    let mut seen: Vec<String> =
        entries(&first).iter().chain(entries(&second).iter()).map(|o| o["id"].as_str().unwrap().to_owned()).collect();
    let total = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), total, "pages do not overlap");
    assert!(total >= 4, "the state, the test clinic and the three new organizations: {total}");
}

#[actix_web::test]
async fn the_audit_trail_is_for_state_staff_and_each_organizations_administrators() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Audit", "Trail", "2020-02-02")).await;
    app.get(&format!("/fhir/Patient/{patient_id}")).await.assert_status(200);
    let other = app.enrol("Elsewhere Clinic", OrganizationKind::Provider, Role::Clinician);
    app.send_as(&other, TestRequest::get().uri(&format!("/fhir/Patient/{patient_id}"))).await.assert_status(200);
    app.flush_audit();

    // A clinician may not read the trail.
    let refused = app.get("/fhir/AuditEvent").await;
    refused.assert_status(403);

    // State staff see every organization's access to the patient.
    let all = app.send_as(&app.state, TestRequest::get().uri(&format!("/fhir/AuditEvent?patient={patient_id}"))).await;
    all.assert_status(200);
    let events = entries(&all.json());
    let organizations: std::collections::HashSet<String> = events
        .iter()
        .filter_map(|e| e["agent"][0]["extension"][0]["valueReference"]["reference"].as_str().map(str::to_owned))
        .collect();
    assert!(organizations.contains(&format!("Organization/{}", app.clinician.organization_id)));
    assert!(organizations.contains(&format!("Organization/{}", other.organization_id)));
    assert!(events.iter().any(|e| e["subtype"][0]["code"] == "create" && e["action"] == "C"));

    // An organization's administrator sees only the organization's own events.
    let admin = app.add_user(&app.clinician.organization_id, "clinic.admin", Role::OrgAdmin);
    let own = app.send_as(&admin, TestRequest::get().uri(&format!("/fhir/AuditEvent?patient={patient_id}"))).await;
    own.assert_status(200);
    let own = entries(&own.json());
    assert!(!own.is_empty());
    assert!(own.iter().all(|e| e["agent"][0]["extension"][0]["valueReference"]["reference"]
        == format!("Organization/{}", app.clinician.organization_id)));
    let foreign = events
        .iter()
        .find(|e| {
            e["agent"][0]["extension"][0]["valueReference"]["reference"]
                == format!("Organization/{}", other.organization_id)
        })
        .unwrap();
    let foreign_id = foreign["id"].as_str().unwrap();
    app.send_as(&admin, TestRequest::get().uri(&format!("/fhir/AuditEvent/{foreign_id}"))).await.assert_status(404);
    app.send_as(&app.state, TestRequest::get().uri(&format!("/fhir/AuditEvent/{foreign_id}"))).await.assert_status(200);

    // Denials are searchable by outcome, and dates filter.
    app.flush_audit();
    let denied = app.send_as(&app.state, TestRequest::get().uri("/fhir/AuditEvent?outcome=8")).await.json();
    assert!(entries(&denied).iter().any(|e| e["outcomeDesc"].as_str().unwrap_or_default().contains("AuditEvent")));
    let future = app.send_as(&app.state, TestRequest::get().uri("/fhir/AuditEvent?date=ge2999-01-01")).await.json();
    assert!(entries(&future).is_empty());
    app.send_as(&app.state, TestRequest::get().uri("/fhir/AuditEvent?date=yesterday")).await.assert_status(400);
}
