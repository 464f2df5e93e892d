//! Privacy choices (opt-out, record lock, declined reminders) enforced on every path: a matrix
//! of viewers (the owner organization, another provider, a school, state staff) against records
//! (normal, opted out, locked to the owner, reminders declined), with what each sees written out
//! by hand; then the submissions an opted-out person's record refuses, and who may record what.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{Actor, TestApp, TestResponse, immunization, patient};
use izreg::domain::access::{OrganizationKind, Role};
use serde_json::{Value, json};

async fn post_json(app: &TestApp, actor: &Actor, uri: &str, body: &Value) -> TestResponse {
    let request = TestRequest::post()
        .uri(uri)
        .insert_header((
            "content-type",
            if uri.starts_with("/api/") { "application/json" } else { "application/fhir+json" },
        ))
        .set_payload(body.to_string());
    app.send_as(actor, request).await
}

async fn get(app: &TestApp, actor: &Actor, uri: &str) -> TestResponse {
    app.send_as(actor, TestRequest::get().uri(uri)).await
}

fn change(fields: Value) -> Value {
    let mut body = json!({"requestedBy": "Parent: Maria Lopez", "identityVerification": "Driver's license seen"});
    for (key, value) in fields.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// One record of the matrix: the Patient, its Immunization, its family name (unique).
struct Record {
    family: &'static str,
    patient_id: String,
    immunization_id: String,
}

async fn record(app: &TestApp, family: &'static str) -> Record {
    let patient_id = app.create_patient(&patient(family, "Ana", "2020-03-04")).await;
    let immunization_id = app.create_immunization(&immunization(&patient_id, "08", "2020-03-05")).await;
    Record { family, patient_id, immunization_id }
}

/// What a viewer sees of a record on every read path; `true` everywhere or `false` everywhere
/// is the only right answer.
async fn sees(app: &TestApp, viewer: &Actor, record: &Record) -> Vec<(&'static str, bool)> {
    let id = &record.patient_id;
    let status = |response: TestResponse| match response.status.as_u16() {
        200 => true,
        404 => false,
        other => panic!("unexpected status {other}: {}", response.json()),
    };
    let mut seen = Vec::new();
    seen.push(("read", status(get(app, viewer, &format!("/fhir/Patient/{id}")).await)));
    seen.push(("vread", status(get(app, viewer, &format!("/fhir/Patient/{id}/_history/1")).await)));
    seen.push(("instance history", status(get(app, viewer, &format!("/fhir/Patient/{id}/_history")).await)));
    let imm = &record.immunization_id;
    seen.push(("immunization read", status(get(app, viewer, &format!("/fhir/Immunization/{imm}")).await)));
    seen.push(("forecast", status(get(app, viewer, &format!("/fhir/Patient/{id}/$immds-forecast")).await)));

    let search = get(
        app,
        viewer,
        &format!("/fhir/Patient?family={}&_total=accurate&_revinclude=Immunization:patient", record.family),
    )
    .await;
    search.assert_status(200);
    let bundle = search.json();
    let total = bundle["total"].as_u64().unwrap();
    let entries = bundle["entry"].as_array().map_or(0, Vec::len);
    assert!((total, entries) == (1, 2) || (total, entries) == (0, 0), "search total {total}, entries {entries}");
    seen.push(("search + revinclude", total == 1));

    let by_patient =
        get(app, viewer, &format!("/fhir/Immunization?patient={id}&_include=Immunization:patient&_total=accurate"))
            .await;
    let bundle = by_patient.json();
    let total = bundle["total"].as_u64().unwrap();
    let entries = bundle["entry"].as_array().map_or(0, Vec::len);
    assert!((total, entries) == (1, 2) || (total, entries) == (0, 0), "immunization search {total}/{entries}");
    seen.push(("immunization search + include", total == 1));

    let count = get(app, viewer, &format!("/fhir/Patient?family={}&_summary=count", record.family)).await;
    seen.push(("_summary=count", count.json()["total"].as_u64() == Some(1)));

    let history = get(app, viewer, "/fhir/Patient/_history?_count=1000").await;
    let listed = history.json()["entry"]
        .as_array()
        .is_some_and(|entries| entries.iter().any(|e| e["resource"]["id"].as_str() == Some(id.as_str())));
    seen.push(("type history", listed));

    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Patient/{id}")}}
    ]});
    let response = post_json(app, viewer, "/fhir", &batch).await;
    let entry_status = response.json()["entry"][0]["response"]["status"].as_str().unwrap_or_default().to_owned();
    seen.push(("batch read", entry_status.starts_with("200")));
    seen
}

#[actix_web::test]
async fn each_viewer_sees_exactly_what_the_privacy_choices_allow_on_every_path() {
    let app = TestApp::spawn().await;
    let owner = app.clinician.clone();
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let school = app.enrol("North School", OrganizationKind::School, Role::ReadOnly);
    let state = app.state.clone();

    let normal = record(&app, "Normal").await;
    let opted_out = record(&app, "Optedout").await;
    let locked = record(&app, "Locked").await;
    let declined = record(&app, "Declined").await;
    let privacy = |r: &Record| format!("/api/v1/patients/{}/privacy", r.patient_id);
    post_json(&app, &owner, &privacy(&opted_out), &change(json!({"optedOut": true}))).await.assert_status(200);
    let lock = json!({"lock": {"organizationId": owner.organization_id}});
    post_json(&app, &owner, &privacy(&locked), &change(lock)).await.assert_status(200);
    post_json(&app, &owner, &privacy(&declined), &change(json!({"remindersDeclined": true}))).await.assert_status(200);

    // viewer, record, sees it?
    let expected = [
        ("owner", &owner, &normal, true),
        ("owner", &owner, &opted_out, false),
        ("owner", &owner, &locked, true),
        ("owner", &owner, &declined, true),
        ("other provider", &other, &normal, true),
        ("other provider", &other, &opted_out, false),
        ("other provider", &other, &locked, false),
        ("other provider", &other, &declined, true),
        ("school", &school, &normal, true),
        ("school", &school, &opted_out, false),
        ("school", &school, &locked, false),
        ("school", &school, &declined, true),
        ("state staff", &state, &normal, true),
        ("state staff", &state, &opted_out, false),
        ("state staff", &state, &locked, true),
        ("state staff", &state, &declined, true),
    ];
    let mut wrong = Vec::new();
    for (viewer_name, viewer, record, visible) in expected {
        for (path, seen) in sees(&app, viewer, record).await {
            if seen != visible {
                wrong.push(format!("{viewer_name} / {} / {path}: saw {seen}, expected {visible}", record.family));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // Hidden reads are audited as denials.
    app.flush_audit();
    let denied: i64 = app.count_sql(&format!(
        "SELECT COUNT(*) AS n FROM audit_event WHERE outcome = 'denied' AND action = 'read' AND resource_ids LIKE '%{}%'",
        locked.patient_id
    ));
    assert!(denied >= 2, "reads of the locked record by the other provider and the school are audited");
}

#[actix_web::test]
async fn nothing_new_is_stored_about_a_person_who_opted_out() {
    let app = TestApp::spawn().await;
    let owner = app.clinician.clone();
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let person = record(&app, "Quiet").await;
    let privacy = format!("/api/v1/patients/{}/privacy", person.patient_id);
    post_json(&app, &owner, &privacy, &change(json!({"optedOut": true}))).await.assert_status(200);

    let refused = |response: TestResponse| {
        response.assert_status(422);
        let outcome = response.json();
        assert_eq!(outcome["issue"][0]["code"], "suppressed", "{outcome}");
        assert!(!outcome.to_string().contains("Quiet"), "nothing submitted is echoed");
    };
    // A new immunization about them, from anyone.
    refused(post_json(&app, &other, "/fhir/Immunization", &immunization(&person.patient_id, "03", "2021-04-01")).await);
    // A new Patient that is them (recognised from the stub: name and birth date, or identifier).
    refused(post_json(&app, &other, "/fhir/Patient", &patient("Quiet", "Ana", "2020-03-04")).await);
    let mut same_identifier = patient("Renamed", "Other", "2019-01-01");
    same_identifier["identifier"] = patient("Quiet", "Ana", "2020-03-04")["identifier"].clone();
    refused(post_json(&app, &other, "/fhir/Patient", &same_identifier).await);
    // An update of their record.
    let mut update = patient("Quiet", "Ana", "2020-03-04");
    update["id"] = json!(person.patient_id);
    let response = app
        .send_as(
            &owner,
            TestRequest::put()
                .uri(&format!("/fhir/Patient/{}", person.patient_id))
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(update.to_string()),
        )
        .await;
    refused(response);
    // Inside a transaction: the whole transaction is refused.
    let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Immunization"}, "resource": immunization(&person.patient_id, "03", "2021-04-01")}
    ]});
    post_json(&app, &other, "/fhir", &transaction).await.assert_status(422);
    // A conditional create whose condition finds them.
    let response = app
        .send_as(
            &other,
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/fhir+json"))
                .insert_header(("if-none-exist", "identifier=urn:izreg:test:mrn|Quiet-Ana-2020-03-04"))
                .set_payload(patient("Else", "Body", "2018-01-01").to_string()),
        )
        .await;
    refused(response);
    // Nothing was stored: still one immunization, one patient of that name.
    assert_eq!(app.count_sql("SELECT COUNT(*) AS n FROM immunization"), 1);
    assert_eq!(app.count_sql("SELECT COUNT(*) AS n FROM patient"), 1);

    // A different person is still accepted.
    post_json(&app, &other, "/fhir/Patient", &patient("Quiet", "Bea", "2020-03-04")).await.assert_status(201);

    // Opting back in (health department) restores what was kept.
    post_json(&app, &owner, &privacy, &change(json!({"optedOut": false}))).await.assert_status(403);
    post_json(&app, &app.state, &privacy, &change(json!({"optedOut": false}))).await.assert_status(200);
    get(&app, &other, &format!("/fhir/Patient/{}", person.patient_id)).await.assert_status(200);
    get(&app, &other, &format!("/fhir/Immunization/{}", person.immunization_id)).await.assert_status(200);
}

#[actix_web::test]
async fn locks_are_set_moved_and_removed_only_by_those_allowed() {
    let app = TestApp::spawn().await;
    let owner = app.clinician.clone();
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let school = app.enrol("North School", OrganizationKind::School, Role::ReadOnly);
    let person = record(&app, "Lockable").await;
    let privacy = format!("/api/v1/patients/{}/privacy", person.patient_id);

    // A school may not record choices; a provider may not lock a record to someone else.
    post_json(&app, &school, &privacy, &change(json!({"remindersDeclined": true}))).await.assert_status(403);
    let to_owner = json!({"lock": {"organizationId": owner.organization_id}});
    post_json(&app, &other, &privacy, &change(to_owner.clone())).await.assert_status(403);
    // Missing who asked and how identity was checked; nothing to change.
    post_json(&app, &owner, &privacy, &json!({"optedOut": true})).await.assert_status(400);
    post_json(&app, &owner, &privacy, &change(json!({}))).await.assert_status(400);
    // A lock to an unknown organization.
    let unknown = json!({"lock": {"organizationId": "no-such-org"}});
    post_json(&app, &app.state, &privacy, &change(unknown)).await.assert_status(400);

    // The owner locks to itself; the other provider then sees nothing, not even the choices.
    let locked = post_json(&app, &owner, &privacy, &change(to_owner)).await;
    locked.assert_status(200);
    assert_eq!(locked.json()["version"], 1);
    get(&app, &other, &privacy).await.assert_status(404);
    post_json(&app, &other, &privacy, &change(json!({"lock": null}))).await.assert_status(404);
    // An immunization about a record locked elsewhere: the patient does not exist for them.
    post_json(&app, &other, "/fhir/Immunization", &immunization(&person.patient_id, "03", "2021-04-01"))
        .await
        .assert_status(422);

    // The person moves the lock to the other provider (health department records it).
    let to_other = json!({"lock": {"organizationId": other.organization_id}});
    post_json(&app, &app.state, &privacy, &change(to_other)).await.assert_status(200);
    get(&app, &owner, &format!("/fhir/Patient/{}", person.patient_id)).await.assert_status(404);
    get(&app, &other, &format!("/fhir/Patient/{}", person.patient_id)).await.assert_status(200);
    // New immunizations follow the lock.
    let created =
        post_json(&app, &other, "/fhir/Immunization", &immunization(&person.patient_id, "03", "2021-04-01")).await;
    created.assert_status(201);
    let new_id = created.json()["id"].as_str().unwrap().to_owned();
    get(&app, &owner, &format!("/fhir/Immunization/{new_id}")).await.assert_status(404);

    // The holder removes it; every version is kept.
    let removed = post_json(&app, &other, &privacy, &change(json!({"lock": null}))).await;
    removed.assert_status(200);
    let body = removed.json();
    assert_eq!(body["version"], 3);
    assert_eq!(body["lock"], Value::Null);
    assert_eq!(body["history"].as_array().unwrap().len(), 3);
    assert_eq!(body["history"][2]["requestedBy"], "Parent: Maria Lopez");
    get(&app, &owner, &format!("/fhir/Patient/{}", person.patient_id)).await.assert_status(200);

    // Every change is audited.
    app.flush_audit();
    assert_eq!(
        app.count_sql("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'privacy-change' AND outcome = 'success'"),
        3
    );
}

#[actix_web::test]
async fn declining_reminders_changes_nothing_else() {
    let app = TestApp::spawn().await;
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let person = record(&app, "Noreminders").await;
    let privacy = format!("/api/v1/patients/{}/privacy", person.patient_id);
    let response = post_json(&app, &other, &privacy, &change(json!({"remindersDeclined": true}))).await;
    response.assert_status(200);
    let body = response.json();
    assert_eq!((body["remindersDeclined"].as_bool(), body["optedOut"].as_bool()), (Some(true), Some(false)));
    get(&app, &other, &format!("/fhir/Patient/{}", person.patient_id)).await.assert_status(200);
    let read = get(&app, &other, &privacy).await;
    read.assert_status(200);
    assert_eq!(read.json()["remindersDeclined"], true);
}

#[actix_web::test]
async fn the_choices_are_fhir_consents_readable_and_searchable_by_those_allowed() {
    let app = TestApp::spawn().await;
    let owner = app.clinician.clone();
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let person = record(&app, "Consenting").await;
    let id = &person.patient_id;
    let privacy = format!("/api/v1/patients/{id}/privacy");
    // No choice yet: no Consent.
    let none = get(&app, &owner, &format!("/fhir/Consent?patient={id}")).await;
    none.assert_status(200);
    assert_eq!(none.json()["total"], 0);

    post_json(&app, &owner, &privacy, &change(json!({"remindersDeclined": true}))).await.assert_status(200);
    let lock = json!({"lock": {"organizationId": owner.organization_id}});
    post_json(&app, &owner, &privacy, &change(lock)).await.assert_status(200);
    post_json(&app, &owner, &privacy, &change(json!({"remindersDeclined": false}))).await.assert_status(200);

    let search = get(&app, &owner, &format!("/fhir/Consent?patient=Patient/{id}")).await;
    search.assert_status(200);
    let bundle = search.json();
    assert_eq!(bundle["total"], 2);
    let consents: Vec<&Value> = bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    let lock = consents.iter().find(|c| c["id"] == format!("{id}.lock")).expect("the lock");
    assert_eq!(lock["status"], "active");
    assert_eq!(lock["patient"]["reference"], format!("Patient/{id}"));
    assert_eq!(
        lock["provision"]["provision"][0]["actor"][0]["reference"]["reference"],
        format!("Organization/{}", owner.organization_id)
    );
    assert_eq!(lock["performer"][0]["display"], "Parent: Maria Lopez");
    let reminders = consents.iter().find(|c| c["id"] == format!("{id}.reminders-declined")).expect("reminders");
    assert_eq!(reminders["status"], "inactive");
    assert_eq!(reminders["meta"]["versionId"], "3");

    let active = get(&app, &owner, &format!("/fhir/Consent?patient={id}&status=active")).await.json();
    assert_eq!(active["total"], 1);
    let read = get(&app, &owner, &format!("/fhir/Consent/{id}.lock")).await;
    read.assert_status(200);
    assert_eq!(read.json()["resourceType"], "Consent");
    get(&app, &owner, &format!("/fhir/Consent/{id}.opt-out")).await.assert_status(404);
    get(&app, &owner, "/fhir/Consent/not-an-id").await.assert_status(404);

    // The record is locked to the owner: another provider finds nothing, reads nothing.
    let hidden = get(&app, &other, &format!("/fhir/Consent?patient={id}")).await;
    hidden.assert_status(200);
    assert_eq!(hidden.json()["total"], 0);
    get(&app, &other, &format!("/fhir/Consent/{id}.lock")).await.assert_status(404);
    // State staff see them.
    assert_eq!(get(&app, &app.state, &format!("/fhir/Consent?patient={id}")).await.json()["total"], 2);

    // Malformed searches.
    get(&app, &owner, "/fhir/Consent").await.assert_status(400);
    get(&app, &owner, &format!("/fhir/Consent?patient={id}&category=x")).await.assert_status(400);
    get(&app, &owner, &format!("/fhir/Consent?patient={id}&status=maybe")).await.assert_status(400);

    // The CapabilityStatement lists Consent.
    let metadata = get(&app, &owner, "/fhir/metadata").await.json();
    let types: Vec<&str> =
        metadata["rest"][0]["resource"].as_array().unwrap().iter().filter_map(|r| r["type"].as_str()).collect();
    assert!(types.contains(&"Consent"));
}

#[actix_web::test]
async fn sensitive_elements_reach_only_the_submitter_and_state_staff() {
    let app = TestApp::spawn().await;
    let owner = app.clinician.clone();
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let mut person = patient("Sensitive", "Ana", "2020-03-04");
    person["extension"] = json!([
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "Berglund"},
        {"url": "urn:izreg:StructureDefinition/insurance", "valueString": "Blue Plan 12345"}
    ]);
    let patient_id = app.create_patient(&person).await;
    let mut dose = immunization(&patient_id, "08", "2020-03-05");
    dose["programEligibility"] = json!([{"coding": [{"system": "urn:oid:2.16.840.1.114222.4.5.274", "code": "V02", "display": "VFC eligible - Medicaid"}]}]);
    dose["fundingSource"] =
        json!({"coding": [{"system": "urn:oid:2.16.840.1.114222.4.5.274", "code": "VXC50", "display": "Public"}]});
    let immunization_id = app.create_immunization(&dose).await;

    let redacted = |resource: &Value| {
        resource["meta"]["security"].as_array().is_some_and(|labels| labels.iter().any(|l| l["code"] == "REDACTED"))
    };
    let holds_sensitive = |resource: &Value| {
        let text = resource.to_string();
        ["Berglund", "Blue Plan", "V02", "VXC50"].iter().any(|value| text.contains(value))
    };
    // The submitter and state staff get everything, unlabelled.
    for viewer in [&owner, &app.state] {
        let read = get(&app, viewer, &format!("/fhir/Patient/{patient_id}")).await.json();
        assert!(holds_sensitive(&read) && !redacted(&read), "{read}");
        let dose = get(&app, viewer, &format!("/fhir/Immunization/{immunization_id}")).await.json();
        assert!(dose.get("programEligibility").is_some() && dose.get("fundingSource").is_some() && !redacted(&dose));
    }
    // Another provider gets the resources without them, labelled REDACTED, on every path.
    let read = get(&app, &other, &format!("/fhir/Patient/{patient_id}")).await.json();
    assert!(!holds_sensitive(&read) && redacted(&read), "{read}");
    assert_eq!(read["name"][0]["family"], "Sensitive", "everything else is returned");
    let vread = get(&app, &other, &format!("/fhir/Patient/{patient_id}/_history/1")).await.json();
    assert!(!holds_sensitive(&vread) && redacted(&vread));
    let history = get(&app, &other, &format!("/fhir/Patient/{patient_id}/_history")).await.json();
    assert!(!holds_sensitive(&history["entry"][0]["resource"]) && redacted(&history["entry"][0]["resource"]));
    let search = get(&app, &other, &format!("/fhir/Immunization?patient={patient_id}&_include=Immunization:patient"))
        .await
        .json();
    let entries = search["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert!(!holds_sensitive(&entry["resource"]) && redacted(&entry["resource"]), "{}", entry["resource"]);
    }
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Immunization/{immunization_id}")}}
    ]});
    let response = post_json(&app, &other, "/fhir", &batch).await.json();
    assert!(!holds_sensitive(&response["entry"][0]["resource"]) && redacted(&response["entry"][0]["resource"]));
    // The stored record is untouched.
    let again = get(&app, &owner, &format!("/fhir/Patient/{patient_id}")).await.json();
    assert!(holds_sensitive(&again));
}

async fn conditional_create(app: &TestApp, actor: &Actor) -> TestResponse {
    let request = TestRequest::post()
        .uri("/fhir/Patient")
        .insert_header(("content-type", "application/fhir+json"))
        .insert_header(("if-none-exist", "identifier=urn:izreg:test:mrn|Conditional-Ana-2020-03-04"))
        .set_payload(patient("Conditional", "Ana", "2020-03-04").to_string());
    app.send_as(actor, request).await
}

#[actix_web::test]
async fn conditional_creates_and_type_histories_reveal_nothing_locked_elsewhere() {
    let app = TestApp::spawn().await;
    let owner = app.clinician.clone();
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    let person = record(&app, "Conditional").await;
    let privacy = format!("/api/v1/patients/{}/privacy", person.patient_id);
    let lock = json!({"lock": {"organizationId": owner.organization_id}});
    post_json(&app, &owner, &privacy, &change(lock)).await.assert_status(200);

    // The other provider's conditional create does not see the locked match: it neither gets
    // the record back (200) nor learns that one exists (412); it creates its own.
    let created = conditional_create(&app, &other).await;
    created.assert_status(201);
    assert_ne!(created.json()["id"], json!(person.patient_id));
    // The owner's conditional create finds its record (and now also the other's copy: 412).
    let owner_match = conditional_create(&app, &owner).await;
    assert_eq!(owner_match.status.as_u16(), 412, "two visible matches for the owner");

    // Immunization type history lists the locked record's dose only for the owner.
    let listed = |response: TestResponse| {
        response.json()["entry"].as_array().is_some_and(|entries| {
            entries.iter().any(|e| e["resource"]["id"].as_str() == Some(person.immunization_id.as_str()))
        })
    };
    assert!(listed(get(&app, &owner, "/fhir/Immunization/_history?_count=1000").await));
    assert!(!listed(get(&app, &other, "/fhir/Immunization/_history?_count=1000").await));
}
