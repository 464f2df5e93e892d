//! Reminder / recall runs, lot recall and outbreak lists over a small fixture population whose
//! expected lists are written out by hand below. Every run is computed as of 2026-11-01 and
//! looks at the MMR vaccine group, so what is due follows from birth dates and MMR doses alone.
//!
//! The population (all at postal code 55101). "North" is the default test clinic, "South"
//! another provider:
//!
//! | person  | born       | submitted by | MMR doses              | privacy / status            |
//! |---------|------------|--------------|------------------------|-----------------------------|
//! | Arden   | 2024-03-01 | North        | none (overdue)         |                             |
//! | Blake   | 2025-11-15 | North        | none (due 2026-11-15)  |                             |
//! | Casey   | 2024-01-10 | North        | 1 (dose 2 due at 4 y)  |                             |
//! | Devon   | 2024-03-01 | North        | none                   | deceased                    |
//! | Emery   | 2024-03-02 | North        | none                   | opted out                   |
//! | Finley  | 2024-02-01 | North        | none                   | reminders declined          |
//! | Gray    | 2024-02-15 | North, South | none                   | locked to South (by South)  |
//! | Harper  | 2024-04-01 | North        | none                   | North marked inactive       |
//! | Indigo  | 2024-05-01 | South        | none                   |                             |
//! | Jordan  | 2020-01-01 | North        | 2 (complete)           |                             |
//!
//! Arden, Emery, Gray and Indigo also received HepB lot `HB-2024-77`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use actix_web::test::TestRequest;
use common::{Actor, TestApp, TestResponse};
use izreg::domain::access::{OrganizationKind, Role};
use serde_json::{Value, json};

const AS_OF: &str = "2026-11-01";
const LOT: &str = "HB-2024-77";

async fn post_json(app: &TestApp, actor: &Actor, uri: &str, body: &Value) -> TestResponse {
    let content_type = if uri.starts_with("/api/") { "application/json" } else { "application/fhir+json" };
    let request =
        TestRequest::post().uri(uri).insert_header(("content-type", content_type)).set_payload(body.to_string());
    app.send_as(actor, request).await
}

async fn get(app: &TestApp, actor: &Actor, uri: &str) -> TestResponse {
    app.send_as(actor, TestRequest::get().uri(uri)).await
}

fn person(family: &str, birth_date: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:izreg:test:mrn", "value": format!("{family}-{birth_date}")}],
        "name": [{"use": "official", "family": family, "given": ["Kid"]}],
        "gender": "female",
        "birthDate": birth_date,
        "telecom": [{"system": "phone", "value": "651-555-0100", "use": "home"}],
        "address": [{"use": "home", "line": [format!("{family} House, 1 Main St")], "city": "Saint Paul", "state": "MN", "postalCode": "55101"}],
        "contact": [{
            "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH", "display": "mother"}]}],
            "name": {"family": family, "given": ["Parent"]}
        }]
    })
}

fn dose(patient_id: &str, cvx: &str, date: &str, lot: &str) -> Value {
    let mut dose = common::immunization(patient_id, cvx, date);
    dose["lotNumber"] = json!(lot);
    dose
}

struct Fixture {
    app: TestApp,
    north: Actor,
    south: Actor,
    /// Family name -> Patient id.
    ids: BTreeMap<&'static str, String>,
}

impl Fixture {
    fn family_of(&self, patient_id: &str) -> &'static str {
        self.ids.iter().find(|(_, id)| id.as_str() == patient_id).map(|(family, _)| *family).unwrap()
    }
}

async fn create(app: &TestApp, actor: &Actor, resource: &Value) -> String {
    let response =
        post_json(app, actor, &format!("/fhir/{}", resource["resourceType"].as_str().unwrap()), resource).await;
    response.assert_status(201);
    response.json()["id"].as_str().unwrap().to_owned()
}

async fn privacy(app: &TestApp, actor: &Actor, patient_id: &str, change: Value) {
    let mut body = json!({"requestedBy": "Parent", "identityVerification": "ID seen"});
    for (key, value) in change.as_object().unwrap() {
        body[key] = value.clone();
    }
    post_json(app, actor, &format!("/api/v1/patients/{patient_id}/privacy"), &body).await.assert_status(200);
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let north = app.clinician.clone();
    let south = app.enrol("South Clinic", OrganizationKind::Provider, Role::Clinician);
    let mut ids = BTreeMap::new();
    for (family, born) in [
        ("Arden", "2024-03-01"),
        ("Blake", "2025-11-15"),
        ("Casey", "2024-01-10"),
        ("Emery", "2024-03-02"),
        ("Finley", "2024-02-01"),
        ("Gray", "2024-02-15"),
        ("Harper", "2024-04-01"),
        ("Jordan", "2020-01-01"),
    ] {
        ids.insert(family, create(&app, &north, &person(family, born)).await);
    }
    let mut devon = person("Devon", "2024-03-01");
    devon["deceasedDateTime"] = json!("2026-05-01");
    ids.insert("Devon", create(&app, &north, &devon).await);
    ids.insert("Indigo", create(&app, &south, &person("Indigo", "2024-05-01")).await);

    create(&app, &north, &dose(&ids["Casey"], "03", "2025-01-15", "MMR-1")).await;
    create(&app, &north, &dose(&ids["Jordan"], "03", "2021-01-05", "MMR-1")).await;
    create(&app, &north, &dose(&ids["Jordan"], "03", "2024-01-10", "MMR-2")).await;
    for family in ["Arden", "Emery"] {
        create(&app, &north, &dose(&ids[family], "08", "2024-03-04", LOT)).await;
    }
    create(&app, &south, &dose(&ids["Gray"], "08", "2024-02-16", LOT)).await;
    create(&app, &south, &dose(&ids["Indigo"], "08", "2024-05-02", LOT)).await;

    privacy(&app, &north, &ids["Emery"], json!({"optedOut": true})).await;
    privacy(&app, &north, &ids["Finley"], json!({"remindersDeclined": true})).await;
    privacy(&app, &south, &ids["Gray"], json!({"lock": {"organizationId": south.organization_id}})).await;
    post_json(
        &app,
        &north,
        &format!("/api/v1/patients/{}/provider-status", ids["Harper"]),
        &json!({"active": false, "reason": "moved"}),
    )
    .await
    .assert_status(200);
    Fixture { app, north, south, ids }
}

/// Requests a run, waits for it, and returns the finished run.
async fn run(fixture: &Fixture, actor: &Actor, criteria: Value) -> Value {
    let response = post_json(&fixture.app, actor, "/api/v1/reminder-runs", &criteria).await;
    response.assert_status(202);
    let location = response.header("location").unwrap();
    assert_eq!(location, response.json()["links"]["self"].as_str().unwrap());
    for _ in 0..600 {
        let status = get(&fixture.app, actor, &location).await;
        status.assert_status(200);
        let body = status.json();
        match body["status"].as_str().unwrap() {
            "completed" => return body,
            "failed" => panic!("run failed: {body}"),
            _ => actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    panic!("run did not finish")
}

/// The run's notices: family name -> (kind, vaccine groups with status).
async fn notices(fixture: &Fixture, actor: &Actor, run: &Value) -> BTreeMap<&'static str, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut next = Some(format!("{}?count=2", run["links"]["notices"].as_str().unwrap()));
    while let Some(uri) = next {
        let page = get(&fixture.app, actor, &uri).await;
        page.assert_status(200);
        let page = page.json();
        for notice in page["notices"].as_array().unwrap() {
            let family = fixture.family_of(notice["contact"]["patientId"].as_str().unwrap());
            let groups = notice["vaccineGroups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| format!("{} {}", g["vaccineGroup"].as_str().unwrap(), g["status"].as_str().unwrap()))
                .collect();
            out.insert(family, (notice["kind"].as_str().unwrap().to_owned(), groups));
        }
        next = page["next"].as_str().map(str::to_owned);
    }
    out
}

fn mmr(reminder: u32, recall: u32) -> Value {
    json!({"vaccineGroups": ["MMR"], "reminderWithinDays": reminder, "recallOverdueDays": recall, "asOf": AS_OF})
}

fn expected(entries: &[(&'static str, &str, &str)]) -> BTreeMap<&'static str, (String, Vec<String>)> {
    entries.iter().map(|(family, kind, group)| (*family, ((*kind).to_owned(), vec![(*group).to_owned()]))).collect()
}

#[actix_web::test]
async fn organization_run_applies_every_cohort_rule_and_splits_reminders_from_recalls() {
    let f = fixture().await;
    let done = run(&f, &f.north, mmr(30, 0)).await;
    // Arden is overdue (recall), Blake due within 30 days (reminder). Casey's and Jordan's next
    // doses are not due; Harper was marked inactive; Indigo is South's. Devon, Emery, Finley and
    // Gray are each left out for their own reason.
    assert_eq!(
        notices(&f, &f.north, &done).await,
        expected(&[("Arden", "recall", "MMR overdue"), ("Blake", "reminder", "MMR due")])
    );
    assert_eq!((done["reminders"].as_i64(), done["recalls"].as_i64()), (Some(1), Some(1)));
    let excluded = &done["exclusions"];
    assert_eq!(
        [&excluded["deceased"], &excluded["optedOut"], &excluded["remindersDeclined"], &excluded["lockedElsewhere"]],
        [&json!(1), &json!(1), &json!(1), &json!(1)],
        "{excluded}"
    );
    assert_eq!(done["patientsTotal"], 8, "North serves everyone it submitted but Harper; not Indigo");
    assert_eq!(done["patientsProcessed"], 8);

    // Reminders only, recalls only.
    let reminders = run(&f, &f.north, json!({"vaccineGroups": ["MMR"], "reminderWithinDays": 30, "asOf": AS_OF})).await;
    assert_eq!(notices(&f, &f.north, &reminders).await, expected(&[("Blake", "reminder", "MMR due")]));
    let recalls = run(&f, &f.north, json!({"vaccineGroups": ["MMR"], "recallOverdueDays": 0, "asOf": AS_OF})).await;
    assert_eq!(notices(&f, &f.north, &recalls).await, expected(&[("Arden", "recall", "MMR overdue")]));
    // Blake's recommended date is 14 days out: a 7-day window leaves it out.
    let narrow = run(&f, &f.north, json!({"vaccineGroups": ["MMR"], "reminderWithinDays": 7, "asOf": AS_OF})).await;
    assert!(notices(&f, &f.north, &narrow).await.is_empty());
}

#[actix_web::test]
async fn the_locking_provider_reminds_its_locked_patient_and_nobody_else_does() {
    let f = fixture().await;
    let south = run(&f, &f.south, mmr(30, 0)).await;
    assert_eq!(
        notices(&f, &f.south, &south).await,
        expected(&[("Gray", "recall", "MMR overdue"), ("Indigo", "recall", "MMR overdue")])
    );
}

#[actix_web::test]
async fn state_run_covers_a_region_and_leaves_locked_records_to_their_provider() {
    let f = fixture().await;
    let mut criteria = mmr(30, 0);
    criteria["postalCodes"] = json!(["551"]);
    let state = run(&f, &f.app.state, criteria).await;
    assert_eq!(
        notices(&f, &f.app.state, &state).await,
        expected(&[
            ("Arden", "recall", "MMR overdue"),
            ("Blake", "reminder", "MMR due"),
            ("Harper", "recall", "MMR overdue"),
            ("Indigo", "recall", "MMR overdue"),
        ])
    );
    assert_eq!(state["exclusions"]["lockedElsewhere"], 1);
    assert_eq!(state["criteria"]["population"], "state");

    let mut elsewhere = mmr(30, 0);
    elsewhere["postalCodes"] = json!(["559"]);
    let empty = run(&f, &f.app.state, elsewhere).await;
    assert_eq!(empty["patientsTotal"], 0);
}

#[actix_web::test]
async fn age_band_limits_the_population() {
    let f = fixture().await;
    let mut criteria = mmr(30, 0);
    criteria["minAge"] = json!({"value": 19, "unit": "months"});
    criteria["maxAge"] = json!({"value": 35, "unit": "months"});
    let done = run(&f, &f.north, criteria).await;
    // Blake (11 months) and Jordan (6 years) are outside 19-35 months.
    assert_eq!(notices(&f, &f.north, &done).await, expected(&[("Arden", "recall", "MMR overdue")]));
}

#[actix_web::test]
async fn notices_sent_recently_are_not_repeated() {
    let f = fixture().await;
    let first = run(&f, &f.north, mmr(30, 0)).await;
    let sent = format!("{}/notices/sent", first["links"]["self"].as_str().unwrap());
    let marked = post_json(&f.app, &f.north, &sent, &json!({"method": "letter", "sentOn": "2026-10-25"})).await;
    marked.assert_status(200);
    assert_eq!(marked.json()["marked"], 2);
    // A second attempt by phone is counted.
    post_json(&f.app, &f.north, &sent, &json!({"method": "phone", "sentOn": "2026-10-26", "notices": [1]}))
        .await
        .assert_status(200);
    let page = get(&f.app, &f.north, first["links"]["notices"].as_str().unwrap()).await.json();
    let delivery: Vec<(i64, &str)> = page["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["delivery"]["attempts"].as_i64().unwrap(), n["delivery"]["lastMethod"].as_str().unwrap()))
        .collect();
    assert_eq!(delivery, [(2, "phone"), (1, "letter")]);

    let again = run(&f, &f.north, mmr(30, 0)).await;
    assert!(notices(&f, &f.north, &again).await.is_empty(), "sent within 30 days");
    assert_eq!(again["exclusions"]["recentlyNotified"], 2);

    // Deleting the first run keeps the record of what was sent.
    f.app
        .send_as(&f.north, TestRequest::delete().uri(first["links"]["self"].as_str().unwrap()))
        .await
        .assert_status(204);
    get(&f.app, &f.north, first["links"]["self"].as_str().unwrap()).await.assert_status(404);
    let after_delete = run(&f, &f.north, mmr(30, 0)).await;
    assert!(notices(&f, &f.north, &after_delete).await.is_empty());

    // Past the interval both are notified again (Blake's dose is now due, not yet overdue).
    let mut later = mmr(30, 0);
    later["asOf"] = json!("2026-12-15");
    let later = run(&f, &f.north, later).await;
    assert_eq!(
        notices(&f, &f.north, &later).await,
        expected(&[("Arden", "recall", "MMR overdue"), ("Blake", "reminder", "MMR due")])
    );
}

#[actix_web::test]
async fn csv_and_letters_hold_the_notices_and_nothing_sensitive() {
    let f = fixture().await;
    let done = run(&f, &f.north, mmr(30, 0)).await;
    let csv = get(&f.app, &f.north, done["links"]["csv"].as_str().unwrap()).await;
    csv.assert_status(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(csv.body.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("notice_number,kind,patient_id,name,birth_date,guardian_name"));
    assert_eq!(lines.len(), 3, "{text}");
    assert!(text.contains("Kid Arden") && text.contains("Parent Arden") && text.contains("MMR dose 1 overdue since"));
    assert!(!text.contains("urn:izreg:test:mrn"), "no identifiers");

    let pdf = get(&f.app, &f.north, done["links"]["letters"].as_str().unwrap()).await;
    pdf.assert_status(200);
    assert_eq!(pdf.header("content-type").as_deref(), Some("application/pdf"));
    assert!(pdf.body.starts_with(b"%PDF-"));
    let pages = pdf
        .body
        .windows(b"/Type /Page\n".len())
        .filter(|w| w.starts_with(b"/Type /Page") && !w.starts_with(b"/Type /Pages"))
        .count();
    assert_eq!(pages, 2, "one page per family (Arden's and Blake's households differ)");
}

#[actix_web::test]
async fn runs_are_private_to_their_organization_and_refused_to_schools() {
    let f = fixture().await;
    let done = run(&f, &f.north, mmr(30, 0)).await;
    let own = done["links"]["self"].as_str().unwrap();
    get(&f.app, &f.south, own).await.assert_status(404);
    get(&f.app, &f.south, done["links"]["csv"].as_str().unwrap()).await.assert_status(404);
    get(&f.app, &f.app.state, own).await.assert_status(200);
    let listed = get(&f.app, &f.south, "/api/v1/reminder-runs").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 0);

    let school = f.app.enrol("Lincoln Elementary", OrganizationKind::School, Role::ReadOnly);
    post_json(&f.app, &school, "/api/v1/reminder-runs", &mmr(30, 0)).await.assert_status(403);
    get(&f.app, &school, &format!("/api/v1/lot-recalls?lotNumber={LOT}")).await.assert_status(403);

    let mut other = mmr(30, 0);
    other["organizationId"] = json!(f.south.organization_id);
    post_json(&f.app, &f.north, "/api/v1/reminder-runs", &other).await.assert_status(403);
    // State staff may run for one organization's patients.
    let for_south = run(&f, &f.app.state, other).await;
    assert_eq!(for_south["criteria"]["organizationId"], json!(f.south.organization_id));
    assert_eq!(for_south["patientsTotal"], 2, "Gray and Indigo");
}

#[actix_web::test]
async fn bad_criteria_are_refused_with_the_field_named() {
    let f = fixture().await;
    for (body, field) in [
        (json!({"vaccineGroups": ["Measles"], "recallOverdueDays": 0}), "vaccineGroups"),
        (json!({"postalCodes": ["55;1"], "recallOverdueDays": 0}), "postalCodes"),
        (json!({"vaccineGroups": ["MMR"]}), "reminderWithinDays"),
        (json!({"recallOverdueDays": 0, "asOf": "2026-13-01"}), "asOf"),
        (
            json!({"recallOverdueDays": 0, "minAge": {"value": 3, "unit": "years"}, "maxAge": {"value": 2, "unit": "years"}}),
            "maxAge",
        ),
    ] {
        let response = post_json(&f.app, &f.north, "/api/v1/reminder-runs", &body).await;
        response.assert_status(400);
        assert_eq!(response.first_issue().1.as_deref(), Some(field), "{body}");
    }
    let unknown = post_json(&f.app, &f.north, "/api/v1/reminder-runs", &json!({"recallOverdueDays": 0, "x": 1})).await;
    unknown.assert_status(400);
    assert_eq!(f.app.count_sql("SELECT COUNT(*) AS n FROM reminder_run"), 0, "nothing stored");
}

#[actix_web::test]
async fn lot_recall_lists_who_received_the_lot_as_each_caller_may_see_it() {
    let f = fixture().await;
    let families = |body: Value| -> BTreeSet<&'static str> {
        body["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| f.family_of(p["contact"]["patientId"].as_str().unwrap()))
            .collect()
    };
    // North's patients who got the lot: Arden (Emery opted out; Gray locked to South).
    let north = get(&f.app, &f.north, &format!("/api/v1/lot-recalls?lotNumber={}", LOT.to_lowercase())).await;
    north.assert_status(200);
    assert_eq!(families(north.json()), BTreeSet::from(["Arden"]));
    // South's: Gray and Indigo.
    let south = get(&f.app, &f.south, &format!("/api/v1/lot-recalls?lotNumber={LOT}")).await.json();
    assert_eq!(families(south.clone()), BTreeSet::from(["Gray", "Indigo"]));
    assert_eq!(south["people"][0]["doses"][0]["lotNumber"], LOT);
    // State staff: everyone but the opted-out person.
    let state = get(&f.app, &f.app.state, &format!("/api/v1/lot-recalls?lotNumber={LOT}")).await.json();
    assert_eq!(families(state), BTreeSet::from(["Arden", "Gray", "Indigo"]));
    // Manufacturer and date range narrow it.
    let other_maker = get(&f.app, &f.app.state, &format!("/api/v1/lot-recalls?lotNumber={LOT}&manufacturer=PFR")).await;
    assert_eq!(other_maker.json()["count"], 0);
    let in_may =
        get(&f.app, &f.app.state, &format!("/api/v1/lot-recalls?lotNumber={LOT}&from=2024-05-01&to=2024-05-31")).await;
    assert_eq!(families(in_may.json()), BTreeSet::from(["Indigo"]));
    get(&f.app, &f.north, "/api/v1/lot-recalls?lotNumber=").await.assert_status(400);
    get(&f.app, &f.north, &format!("/api/v1/lot-recalls?lotNumber={LOT}&from=May")).await.assert_status(400);

    f.app.flush_audit();
    let audited = f.app.count_sql("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'lot-recall-list'");
    assert!(audited >= 5, "every list is audited ({audited})");
}

#[actix_web::test]
async fn outbreak_list_names_everyone_not_complete_or_immune() {
    let f = fixture().await;
    let families = |body: Value| -> BTreeSet<&'static str> {
        body["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| f.family_of(p["contact"]["patientId"].as_str().unwrap()))
            .collect()
    };
    let request = json!({
        "vaccineGroup": "MMR",
        "postalCodes": ["55101"],
        "minAge": {"value": 12, "unit": "months"},
        "maxAge": {"value": 18, "unit": "years"},
        "asOf": AS_OF
    });
    // State: Casey has one dose of two; Finley declined reminders but is still at risk; Gray is
    // locked (state staff see locked records); Harper is inactive only for North. Blake is under
    // 12 months, Devon deceased, Emery opted out, Jordan complete.
    let state = post_json(&f.app, &f.app.state, "/api/v1/outbreak-lists", &request).await;
    state.assert_status(200);
    assert_eq!(families(state.json()), BTreeSet::from(["Arden", "Casey", "Finley", "Gray", "Harper", "Indigo"]));
    // North: its own patients it may see.
    let north = post_json(&f.app, &f.north, "/api/v1/outbreak-lists", &request).await.json();
    assert_eq!(families(north.clone()), BTreeSet::from(["Arden", "Casey", "Finley"]));
    let casey = north["people"].as_array().unwrap().iter().find(|p| p["contact"]["name"] == "Kid Casey").unwrap();
    assert_eq!((casey["status"].as_str(), casey["nextDose"]["doseNumber"].as_i64()), (Some("Not complete"), Some(2)));

    let mut elsewhere = request.clone();
    elsewhere["postalCodes"] = json!(["55901"]);
    assert_eq!(post_json(&f.app, &f.app.state, "/api/v1/outbreak-lists", &elsewhere).await.json()["count"], 0);
    let mut no_area = request.clone();
    no_area["postalCodes"] = json!([]);
    post_json(&f.app, &f.app.state, "/api/v1/outbreak-lists", &no_area).await.assert_status(400);
}

#[actix_web::test]
async fn provider_status_is_kept_per_organization() {
    let f = fixture().await;
    let uri = |family: &str| format!("/api/v1/patients/{}/provider-status", f.ids[family]);
    let harper = get(&f.app, &f.north, &uri("Harper")).await.json();
    assert_eq!((harper["active"].as_bool(), harper["reason"].as_str()), (Some(false), Some("moved")));
    let arden = get(&f.app, &f.north, &uri("Arden")).await.json();
    assert_eq!((arden["active"].as_bool(), arden["reason"].as_str()), (Some(true), None));
    // South never served Arden: nothing to mark inactive.
    post_json(&f.app, &f.south, &uri("Arden"), &json!({"active": false, "reason": "moved"})).await.assert_status(409);
    post_json(&f.app, &f.north, &uri("Arden"), &json!({"active": false})).await.assert_status(400);
    // Hidden records answer 404, as a read would.
    get(&f.app, &f.north, &uri("Gray")).await.assert_status(404);
    get(&f.app, &f.north, &uri("Emery")).await.assert_status(404);
    // Marked active again, Harper is back in North's runs.
    post_json(&f.app, &f.north, &uri("Harper"), &json!({"active": true})).await.assert_status(200);
    let done = run(&f, &f.north, mmr(30, 0)).await;
    assert!(notices(&f, &f.north, &done).await.contains_key("Harper"));
}

#[actix_web::test]
async fn results_are_refused_until_the_run_completes_and_runs_are_audited() {
    let f = fixture().await;
    let done = run(&f, &f.north, mmr(30, 0)).await;
    let id = done["id"].as_str().unwrap();
    f.app.execute_sql(format!("UPDATE reminder_run SET status = 'running' WHERE id = '{id}'"));
    get(&f.app, &f.north, done["links"]["notices"].as_str().unwrap()).await.assert_status(409);
    f.app
        .send_as(&f.north, TestRequest::delete().uri(done["links"]["self"].as_str().unwrap()))
        .await
        .assert_status(409);
    get(&f.app, &f.north, "/api/v1/reminder-runs/no-such-run").await.assert_status(404);
    f.app.flush_audit();
    assert_eq!(f.app.count_sql("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'reminder-run-request'"), 1);
    assert!(f.app.count_sql("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'reminder-notices-read'") >= 1);
}

#[actix_web::test]
async fn notices_are_fhir_communication_requests_paged_by_run() {
    let f = fixture().await;
    let done = run(&f, &f.north, mmr(30, 0)).await;
    let run_id = done["id"].as_str().unwrap();
    let first = get(&f.app, &f.north, &format!("/fhir/CommunicationRequest?group-identifier={run_id}&_count=1")).await;
    first.assert_status(200);
    let first = first.json();
    assert_eq!(first["entry"].as_array().unwrap().len(), 1);
    let next = first["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"]
        .as_str()
        .unwrap()
        .replace("http://izreg.test/fhir", "/fhir");
    let second = get(&f.app, &f.north, &next).await.json();
    assert_eq!(second["entry"].as_array().unwrap().len(), 1);
    assert!(second["link"].as_array().unwrap().iter().all(|l| l["relation"] != "next"));

    let arden = format!("Patient/{}", f.ids["Arden"]);
    let recall = [&first, &second]
        .iter()
        .map(|bundle| bundle["entry"][0]["resource"].clone())
        .find(|resource| resource["subject"]["reference"] == arden.as_str())
        .unwrap();
    assert_eq!(
        (recall["status"].as_str(), recall["priority"].as_str(), recall["category"][0]["text"].as_str()),
        (Some("active"), Some("asap"), Some("recall"))
    );
    assert_eq!(recall["groupIdentifier"]["value"], run_id);
    assert_eq!(recall["reasonCode"][0]["text"], "MMR");
    assert!(recall["recipient"][0]["display"].as_str().unwrap().starts_with("Parent Arden (mother of"));

    let id = recall["id"].as_str().unwrap();
    post_json(
        &f.app,
        &f.north,
        &format!("/api/v1/reminder-runs/{run_id}/notices/sent"),
        &json!({"method": "letter", "sentOn": "2026-10-25"}),
    )
    .await
    .assert_status(200);
    let read = get(&f.app, &f.north, &format!("/fhir/CommunicationRequest/{id}")).await;
    read.assert_status(200);
    let read = read.json();
    assert_eq!(
        (read["status"].as_str(), read["medium"][0]["coding"][0]["code"].as_str()),
        (Some("completed"), Some("MAILWRIT"))
    );

    // Another organization finds nothing and reads nothing; junk ids and parameters are refused.
    let hidden = get(&f.app, &f.south, &format!("/fhir/CommunicationRequest?group-identifier={run_id}")).await.json();
    assert!(hidden["entry"].is_null());
    get(&f.app, &f.south, &format!("/fhir/CommunicationRequest/{id}")).await.assert_status(404);
    get(&f.app, &f.north, &format!("/fhir/CommunicationRequest/{run_id}.99")).await.assert_status(404);
    get(&f.app, &f.north, "/fhir/CommunicationRequest/nonsense").await.assert_status(404);
    get(&f.app, &f.north, "/fhir/CommunicationRequest?subject=Patient/1").await.assert_status(400);
    let metadata = get(&f.app, &f.north, "/fhir/metadata").await.json();
    assert!(metadata["rest"][0]["resource"].as_array().unwrap().iter().any(|r| r["type"] == "CommunicationRequest"));
}
