//! The administrative API (`/api/v1`): organizations, facilities, data use agreements, users,
//! registered systems, logins and the audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{Actor, PASSWORD, TestApp, TestResponse};
use serde_json::{Value, json};
use time::{Date, Duration, Month};

use izreg::domain::access::{OrganizationKind, Role};
use izreg::store::audit::{AuditFilter, AuditRow};

// ---- helpers ----

fn json_request(request: TestRequest, body: &Value) -> TestRequest {
    request.insert_header(("content-type", "application/json")).set_payload(body.to_string())
}

async fn post_json(app: &TestApp, actor: &Actor, uri: &str, body: &Value) -> TestResponse {
    app.send_as(actor, json_request(TestRequest::post().uri(uri), body)).await
}

async fn put_json(app: &TestApp, actor: &Actor, uri: &str, body: &Value) -> TestResponse {
    app.send_as(actor, json_request(TestRequest::put().uri(uri), body)).await
}

async fn get_as(app: &TestApp, actor: &Actor, uri: &str) -> TestResponse {
    app.send_as(actor, TestRequest::get().uri(uri)).await
}

async fn post_empty(app: &TestApp, actor: &Actor, uri: &str) -> TestResponse {
    app.send_as(actor, TestRequest::post().uri(uri)).await
}

/// `POST /auth/token` with the password grant.
async fn password_login(app: &TestApp, organization: &str, username: &str, password: &str) -> TestResponse {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("organization", organization)
        .append_pair("username", username)
        .append_pair("password", password)
        .finish();
    app.send_anonymous(
        TestRequest::post()
            .uri("/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(form),
    )
    .await
}

/// An actor holding a token from a fresh HTTP login.
async fn logged_in(app: &TestApp, organization_id: &str, user_id: &str, username: &str, password: &str) -> Actor {
    let response = password_login(app, organization_id, username, password).await;
    response.assert_status(200);
    Actor {
        organization_id: organization_id.to_owned(),
        facility_id: None,
        user_id: user_id.to_owned(),
        username: username.to_owned(),
        token: response.json()["access_token"].as_str().unwrap().to_owned(),
    }
}

/// Every issue of an OperationOutcome as (code, expression).
fn issues(response: &TestResponse) -> Vec<(String, Option<String>)> {
    let body = response.json();
    assert_eq!(body["resourceType"], "OperationOutcome", "expected an OperationOutcome: {body}");
    body["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap().to_owned(), i["expression"][0].as_str().map(str::to_owned)))
        .collect()
}

fn diagnostics(response: &TestResponse) -> String {
    response.json()["issue"][0]["diagnostics"].as_str().unwrap_or_default().to_owned()
}

fn issue(code: &str, expression: &str) -> (String, Option<String>) {
    (code.to_owned(), Some(expression.to_owned()))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_owned()).collect()
}

fn today() -> Date {
    izreg::domain::agreement::today()
}

fn ymd(date: Date) -> String {
    izreg::domain::agreement::format_date(date)
}

/// The same calendar day `years` later (29 February becomes 1 March in a common year).
fn add_years(date: Date, years: i32) -> Date {
    let year = date.year() + years;
    date.replace_year(year).unwrap_or_else(|_| Date::from_calendar_date(year, Month::March, 1).unwrap())
}

/// The last day of a term starting on `starts`: three years less a day (computed here, not by the code under test).
fn expected_end(starts: Date) -> Date {
    add_years(starts, 3).previous_day().unwrap()
}

fn contact(who: &str) -> Value {
    json!({"name": format!("{who} Person"), "title": "Director", "phone": "612-555-0100",
           "email": format!("{}@example.org", who.to_lowercase())})
}

fn contacts() -> Value {
    json!({
        "authorizedRepresentative": contact("Representative"),
        "administrator": contact("Administrator"),
        "recordContact": contact("Records"),
        "itContact": contact("IT"),
    })
}

/// Enrols an organization over HTTP as the state administrator; returns its id.
async fn create_organization(app: &TestApp, name: &str) -> String {
    let response =
        post_json(app, &app.state, "/api/v1/organizations", &json!({"name": name, "kind": "provider"})).await;
    response.assert_status(201);
    response.json()["id"].as_str().unwrap().to_owned()
}

/// Drafts an agreement over HTTP as the state administrator; returns its JSON.
async fn draft_agreement(app: &TestApp, organization_id: &str, renews: Option<&str>) -> Value {
    let mut body = json!({"contacts": contacts()});
    if let Some(previous) = renews {
        body["renews"] = json!(previous);
    }
    let response =
        post_json(app, &app.state, &format!("/api/v1/organizations/{organization_id}/agreements"), &body).await;
    response.assert_status(201);
    response.json()
}

async fn activate(app: &TestApp, agreement_id: &str, signed_on: &str) -> TestResponse {
    post_json(app, &app.state, &format!("/api/v1/agreements/{agreement_id}/activate"), &json!({"signedOn": signed_on}))
        .await
}

/// An organization with one agreement signed on `signed_on`; returns (organization id, agreement JSON).
async fn organization_with_agreement(app: &TestApp, name: &str, signed_on: Date) -> (String, Value) {
    let organization_id = create_organization(app, name).await;
    let draft = draft_agreement(app, &organization_id, None).await;
    let response = activate(app, draft["id"].as_str().unwrap(), &ymd(signed_on)).await;
    response.assert_status(200);
    (organization_id, response.json())
}

/// Creates a user over HTTP as `admin`; returns the response.
async fn create_user(app: &TestApp, admin: &Actor, organization_id: &str, username: &str, role: &str) -> TestResponse {
    let body = json!({"username": username, "displayName": format!("User {username}"), "email": "user@example.org",
                      "role": role, "password": PASSWORD});
    post_json(app, admin, &format!("/api/v1/organizations/{organization_id}/users"), &body).await
}

fn audit_rows(app: &TestApp, filter: AuditFilter) -> Vec<AuditRow> {
    app.flush_audit();
    app.registry.database().read(|conn| izreg::store::audit::search(conn, &filter, 1000)).unwrap()
}

fn audit_action(app: &TestApp, action: &str) -> Vec<AuditRow> {
    audit_rows(app, AuditFilter { action: Some(action.to_owned()), ..AuditFilter::default() })
}

/// A public EC P-384 key (generated once for these tests; its private half was discarded).
fn p384_public_jwk() -> Value {
    json!({
        "kty": "EC",
        "crv": "P-384",
        "kid": "test-p384",
        "use": "sig",
        "x": "9ujbEXi5C2iZpuurWCjPvzpu-RLe_pP1BsmJgfEKRWzCNe0352qq3D-U95eemijb",
        "y": "r1EorFp-_ByJ2OIdWQiBM2-RkPoTWi1CxYra-DQGxYqdAyp0_ERxJJodJkVKaCuV"
    })
}

fn client_body(jwks: Value) -> Value {
    json!({"name": "Lakeside EHR", "role": "clinician", "allowedScopes": "system/Patient.rs system/Immunization.cruds",
           "jwks": jwks})
}

// ---- organizations ----

#[actix_web::test]
async fn state_admin_enrols_an_organization() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Lakeside Pharmacy", "kind": "pharmacy", "phone": "218-555-0100",
                      "email": "office@lakeside.example.org"});
    let response = post_json(&app, &app.state, "/api/v1/organizations", &body).await;
    response.assert_status(201);
    let created = response.json();
    let id = created["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "id is a UUID: {id}");
    assert_eq!(created["name"], "Lakeside Pharmacy");
    assert_eq!(created["kind"], "pharmacy");
    assert_eq!(created["phone"], "218-555-0100");
    assert_eq!(created["email"], "office@lakeside.example.org");
    assert_eq!(created["operator"], false);
    assert_eq!(created["active"], true);
    let created_at = created["createdAt"].as_str().unwrap();
    assert!(time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339).is_ok());

    let read = get_as(&app, &app.state, &format!("/api/v1/organizations/{id}")).await;
    read.assert_status(200);
    assert_eq!(read.json(), created);
}

#[actix_web::test]
async fn a_duplicate_organization_name_is_409() {
    let app = TestApp::spawn().await;
    let response =
        post_json(&app, &app.state, "/api/v1/organizations", &json!({"name": " Test Clinic ", "kind": "provider"}))
            .await;
    response.assert_status(409);
    assert_eq!(response.first_issue(), issue("duplicate", "name"));
    let list = get_as(&app, &app.state, "/api/v1/organizations").await.json();
    assert_eq!(names(&list), vec!["Test Clinic", "Test Department of Health"]);
}

#[actix_web::test]
async fn only_state_staff_enrol_organizations() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    for actor in [&app.clinician, &admin] {
        let response =
            post_json(&app, actor, "/api/v1/organizations", &json!({"name": "Sneaky Clinic", "kind": "provider"}))
                .await;
        response.assert_status(403);
        assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
    }
    let list = get_as(&app, &app.state, "/api/v1/organizations").await.json();
    assert!(!names(&list).contains(&"Sneaky Clinic".to_owned()));
}

#[actix_web::test]
async fn the_organization_list_is_everything_for_state_staff_and_ones_own_for_others() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let all = get_as(&app, &app.state, "/api/v1/organizations").await;
    all.assert_status(200);
    assert_eq!(names(&all.json()), vec!["Lakeside Clinic", "Test Clinic", "Test Department of Health"]);
    let operators: Vec<bool> =
        all.json().as_array().unwrap().iter().map(|o| o["operator"].as_bool().unwrap()).collect();
    assert_eq!(operators, vec![false, false, true]);

    let own = get_as(&app, &app.clinician, "/api/v1/organizations").await;
    own.assert_status(200);
    assert_eq!(names(&own.json()), vec!["Test Clinic"]);
    assert_eq!(own.json()[0]["id"], app.clinician.organization_id.as_str());

    let own = get_as(&app, &admin, "/api/v1/organizations").await;
    assert_eq!(names(&own.json()), vec!["Lakeside Clinic"]);
}

#[actix_web::test]
async fn another_organization_is_404_for_non_state_users() {
    let app = TestApp::spawn().await;
    let other = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let response = get_as(&app, &app.clinician, &format!("/api/v1/organizations/{}", other.organization_id)).await;
    response.assert_status(404);
    assert_eq!(response.first_issue(), ("not-found".to_owned(), None));
    // The same answer as for an organization that does not exist at all.
    let missing = get_as(&app, &app.clinician, &format!("/api/v1/organizations/{}", uuid::Uuid::new_v4())).await;
    missing.assert_status(404);
    assert_eq!(diagnostics(&missing), diagnostics(&response));

    let own = get_as(&app, &app.clinician, &format!("/api/v1/organizations/{}", app.clinician.organization_id)).await;
    own.assert_status(200);
    assert_eq!(own.json()["name"], "Test Clinic");
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let response = app
        .send_as(
            &app.state,
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"name\": \"Broken"),
        )
        .await;
    response.assert_status(400);
    assert_eq!(response.first_issue().0, "invalid");
    assert_eq!(diagnostics(&response), "The body is not valid JSON.");
    assert_eq!(get_as(&app, &app.state, "/api/v1/organizations").await.json().as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn an_unknown_field_is_400_naming_it() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Lakeside Clinic", "kind": "provider", "favouriteColour": "blue"});
    let response = post_json(&app, &app.state, "/api/v1/organizations", &body).await;
    response.assert_status(400);
    assert_eq!(response.first_issue().0, "invalid");
    assert!(diagnostics(&response).contains("unknown field `favouriteColour`"), "{}", diagnostics(&response));
    // An unknown kind names the field.
    let response =
        post_json(&app, &app.state, "/api/v1/organizations", &json!({"name": "Lakeside Clinic", "kind": "spa"})).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "kind"));
    assert_eq!(get_as(&app, &app.state, "/api/v1/organizations").await.json().as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_body_that_is_not_application_json_is_415() {
    let app = TestApp::spawn().await;
    for content_type in ["application/fhir+json", "text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .send_as(
                &app.state,
                TestRequest::post()
                    .uri("/api/v1/organizations")
                    .insert_header(("content-type", content_type))
                    .set_payload(json!({"name": "Lakeside Clinic", "kind": "provider"}).to_string()),
            )
            .await;
        response.assert_status(415);
        assert_eq!(response.first_issue(), ("not-supported".to_owned(), None));
    }
    assert_eq!(get_as(&app, &app.state, "/api/v1/organizations").await.json().as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn no_token_is_401() {
    let app = TestApp::spawn().await;
    let response = app
        .send_anonymous(json_request(
            TestRequest::post().uri("/api/v1/organizations"),
            &json!({"name": "Lakeside Clinic", "kind": "provider"}),
        ))
        .await;
    response.assert_status(401);
    assert_eq!(response.first_issue(), ("login".to_owned(), None));
    assert!(response.header("www-authenticate").unwrap().starts_with("Bearer realm=\"izreg\""));
    let response = app.send_anonymous(TestRequest::get().uri("/api/v1/organizations")).await;
    response.assert_status(401);
    let response = app
        .send_anonymous(TestRequest::get().uri("/api/v1/organizations").insert_header(("authorization", "Bearer junk")))
        .await;
    response.assert_status(401);
    assert_eq!(response.first_issue(), ("login".to_owned(), None));
}

// ---- facilities ----

#[actix_web::test]
async fn an_administrator_enrols_a_facility() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/facilities", admin.organization_id);
    let body = json!({"name": " Lakeside North ", "siteCode": "MN1001", "addressLine": "1 Main St", "city": "Duluth",
                      "state": "mn", "postalCode": "55802-1234", "phone": "218-555-0100"});
    let response = post_json(&app, &admin, &uri, &body).await;
    response.assert_status(201);
    let facility = response.json();
    assert!(uuid::Uuid::parse_str(facility["id"].as_str().unwrap()).is_ok());
    assert_eq!(facility["organizationId"], admin.organization_id.as_str());
    assert_eq!(facility["name"], "Lakeside North");
    assert_eq!(facility["siteCode"], "MN1001");
    assert_eq!(facility["addressLine"], "1 Main St");
    assert_eq!(facility["city"], "Duluth");
    assert_eq!(facility["state"], "MN");
    assert_eq!(facility["postalCode"], "55802-1234");
    assert_eq!(facility["phone"], "218-555-0100");
    assert_eq!(facility["active"], true);

    let list = get_as(&app, &admin, &uri).await;
    list.assert_status(200);
    assert_eq!(names(&list.json()), vec!["Lakeside Clinic Main", "Lakeside North"]);
}

#[actix_web::test]
async fn a_facility_with_bad_fields_is_400_naming_each() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/facilities", admin.organization_id);
    let body = json!({"name": "Lakeside North", "state": "Minnesota", "postalCode": "5580", "phone": "12"});
    let response = post_json(&app, &admin, &uri, &body).await;
    response.assert_status(400);
    assert_eq!(
        issues(&response),
        vec![
            issue("invalid", "row[1].state"),
            issue("invalid", "row[1].postal_code"),
            issue("invalid", "row[1].phone")
        ]
    );
    assert_eq!(get_as(&app, &admin, &uri).await.json().as_array().unwrap().len(), 1);
}

fn csv_request(uri: &str, csv: &str) -> TestRequest {
    TestRequest::post().uri(uri).insert_header(("content-type", "text/csv; charset=utf-8")).set_payload(csv.to_owned())
}

#[actix_web::test]
async fn the_facilities_spreadsheet_enrols_every_row() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let csv = "name,site_code,address_line,city,state,postal_code,phone\n\
               Lakeside North,MN1001,1 Main St,Duluth,MN,55802,218-555-0100\n\
               Lakeside South , MN1002 ,\"2 Lake Ave, Suite 5\",Duluth,mn,55803-1234,\n\
               Lakeside West,,,,,,\n";
    let uri = format!("/api/v1/organizations/{}/facilities/bulk", admin.organization_id);
    let response = app.send_as(&admin, csv_request(&uri, csv)).await;
    response.assert_status(201);
    let enrolled = response.json();
    assert_eq!(names(&enrolled), vec!["Lakeside North", "Lakeside South", "Lakeside West"]);
    assert_eq!(enrolled[1]["siteCode"], "MN1002");
    assert_eq!(enrolled[1]["addressLine"], "2 Lake Ave, Suite 5");
    assert_eq!(enrolled[1]["state"], "MN");
    assert_eq!(enrolled[1]["postalCode"], "55803-1234");
    assert_eq!(enrolled[1]["phone"], Value::Null);
    assert_eq!(enrolled[2]["siteCode"], Value::Null);
    assert!(enrolled.as_array().unwrap().iter().all(|f| f["organizationId"] == admin.organization_id.as_str()));

    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/facilities", admin.organization_id)).await;
    assert_eq!(names(&list.json()), vec!["Lakeside Clinic Main", "Lakeside North", "Lakeside South", "Lakeside West"]);
}

#[actix_web::test]
async fn a_spreadsheet_saved_by_excel_with_a_byte_order_mark_is_read() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let csv = "\u{feff}Name,State,Postal_Code\r\nLakeside North,MN,55802\r\n";
    let uri = format!("/api/v1/organizations/{}/facilities/bulk", admin.organization_id);
    let response = app.send_as(&admin, csv_request(&uri, csv)).await;
    response.assert_status(201);
    assert_eq!(names(&response.json()), vec!["Lakeside North"]);
    assert_eq!(response.json()[0]["postalCode"], "55802");
}

#[actix_web::test]
async fn a_spreadsheet_with_bad_rows_reports_each_problem_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let csv = "name,site_code,city,state,postal_code\n\
               Lakeside North,MN1001,Duluth,MN,5580\n\
               Lakeside South,MN1002,Duluth,Minnesota,55803\n\
               ,MN1003,Duluth,MN,55804\n\
               Lakeside East,MN1004,Duluth,MN,55805\n\
               lakeside east,MN1005,Duluth,MN,55806\n\
               Lakeside West,MN1001,Duluth,MN,ABCDE\n";
    let uri = format!("/api/v1/organizations/{}/facilities/bulk", admin.organization_id);
    let response = app.send_as(&admin, csv_request(&uri, csv)).await;
    response.assert_status(400);
    assert_eq!(
        issues(&response),
        vec![
            issue("invalid", "row[2].postal_code"),
            issue("invalid", "row[3].state"),
            issue("invalid", "row[4].name"),
            issue("invalid", "row[6].name"),
            issue("invalid", "row[7].postal_code"),
            issue("invalid", "row[7].site_code"),
        ]
    );
    let body = response.json();
    let messages: Vec<&str> =
        body["issue"].as_array().unwrap().iter().map(|i| i["diagnostics"].as_str().unwrap()).collect();
    assert_eq!(messages[3], "Row 6: The same name as row 5.");
    assert_eq!(messages[5], "Row 7: The same site code as row 2.");
    // The values themselves are not echoed.
    assert!(!String::from_utf8_lossy(&response.body).contains("Minnesota"));

    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/facilities", admin.organization_id)).await;
    assert_eq!(names(&list.json()), vec!["Lakeside Clinic Main"]);
}

#[actix_web::test]
async fn a_spreadsheet_with_an_unknown_column_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let csv = "name,zip_code,state\nLakeside North,55802,MN\n";
    let uri = format!("/api/v1/organizations/{}/facilities/bulk", admin.organization_id);
    let response = app.send_as(&admin, csv_request(&uri, csv)).await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![issue("invalid", "row[1].zip_code")]);
    // Without a name column, that is named too.
    let response = app.send_as(&admin, csv_request(&uri, "facility,state\nLakeside North,MN\n")).await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![issue("invalid", "row[1].facility"), issue("invalid", "row[1].name")]);
    // A row with the wrong number of cells is reported by row.
    let response = app.send_as(&admin, csv_request(&uri, "name,state\nLakeside North,MN,extra\n")).await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![("invalid".to_owned(), Some("row[2]".to_owned()))]);

    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/facilities", admin.organization_id)).await;
    assert_eq!(names(&list.json()), vec!["Lakeside Clinic Main"]);
}

#[actix_web::test]
async fn a_spreadsheet_row_naming_an_enrolled_facility_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let csv = "name,state\nLakeside North,MN\nLAKESIDE CLINIC MAIN,MN\n";
    let uri = format!("/api/v1/organizations/{}/facilities/bulk", admin.organization_id);
    let response = app.send_as(&admin, csv_request(&uri, csv)).await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![issue("invalid", "row[3].name")]);
    assert_eq!(diagnostics(&response), "Row 3: A facility with this name is enrolled already.");
    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/facilities", admin.organization_id)).await;
    assert_eq!(names(&list.json()), vec!["Lakeside Clinic Main"]);
    // Another organization may use the same name.
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let response = app
        .send_as(
            &other,
            csv_request(
                &format!("/api/v1/organizations/{}/facilities/bulk", other.organization_id),
                "name\nLakeside Clinic Main\n",
            ),
        )
        .await;
    response.assert_status(201);
}

#[actix_web::test]
async fn the_json_bulk_form_enrols_every_facility() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/facilities/bulk", admin.organization_id);
    let body = json!({"facilities": [
        {"name": "Lakeside North", "state": "MN", "postalCode": "55802"},
        {"name": "Lakeside South", "siteCode": "MN1002"}
    ]});
    let response = post_json(&app, &admin, &uri, &body).await;
    response.assert_status(201);
    assert_eq!(names(&response.json()), vec!["Lakeside North", "Lakeside South"]);
    assert_eq!(response.json()[1]["siteCode"], "MN1002");

    // One bad entry: nothing stored, the entry is named (1-based).
    let body = json!({"facilities": [{"name": "Lakeside East"}, {"name": "Lakeside West", "postalCode": "x"}]});
    let response = post_json(&app, &admin, &uri, &body).await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![issue("invalid", "row[2].postal_code")]);
    // Neither text/csv nor JSON.
    let response = app
        .send_as(
            &admin,
            TestRequest::post().uri(&uri).insert_header(("content-type", "application/xml")).set_payload("<x/>"),
        )
        .await;
    response.assert_status(415);
    assert_eq!(response.first_issue().0, "not-supported");

    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/facilities", admin.organization_id)).await;
    assert_eq!(names(&list.json()), vec!["Lakeside Clinic Main", "Lakeside North", "Lakeside South"]);
}

#[actix_web::test]
async fn an_organization_administrator_cannot_enrol_facilities_for_another_organization() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let other = &app.clinician.organization_id;
    let response =
        post_json(&app, &admin, &format!("/api/v1/organizations/{other}/facilities"), &json!({"name": "Intruder"}))
            .await;
    response.assert_status(404);
    assert_eq!(response.first_issue(), ("not-found".to_owned(), None));
    let response = app
        .send_as(&admin, csv_request(&format!("/api/v1/organizations/{other}/facilities/bulk"), "name\nIntruder\n"))
        .await;
    response.assert_status(404);
    let list = get_as(&app, &app.state, &format!("/api/v1/organizations/{other}/facilities")).await;
    assert_eq!(names(&list.json()), vec!["Test Clinic Main"]);
}

#[actix_web::test]
async fn a_clinician_cannot_enrol_facilities_for_their_own_organization() {
    let app = TestApp::spawn().await;
    let own = &app.clinician.organization_id;
    let response =
        post_json(&app, &app.clinician, &format!("/api/v1/organizations/{own}/facilities"), &json!({"name": "Annex"}))
            .await;
    response.assert_status(403);
    assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
    let response = app
        .send_as(&app.clinician, csv_request(&format!("/api/v1/organizations/{own}/facilities/bulk"), "name\nAnnex\n"))
        .await;
    response.assert_status(403);
    // They may still see the list.
    let list = get_as(&app, &app.clinician, &format!("/api/v1/organizations/{own}/facilities")).await;
    list.assert_status(200);
    assert_eq!(names(&list.json()), vec!["Test Clinic Main"]);
}

// ---- agreements ----

#[actix_web::test]
async fn a_drafted_agreement_is_pending_with_its_contacts() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let agreement = draft_agreement(&app, &organization_id, None).await;
    assert_eq!(agreement["organizationId"], organization_id.as_str());
    assert_eq!(agreement["status"], "pending");
    for field in ["signedOn", "startsOn", "endsOn", "renews", "terminatedOn"] {
        assert_eq!(agreement[field], Value::Null, "{field}");
    }
    assert_eq!(agreement["contacts"], contacts());
    let read = get_as(&app, &app.state, &format!("/api/v1/agreements/{}", agreement["id"].as_str().unwrap())).await;
    read.assert_status(200);
    assert_eq!(read.json(), agreement);
}

#[actix_web::test]
async fn an_agreement_needs_four_contacts_with_emails_and_a_reachable_representative() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let uri = format!("/api/v1/organizations/{organization_id}/agreements");
    let mut without_it = contacts();
    without_it.as_object_mut().unwrap().remove("itContact");
    let mut bad_email = contacts();
    bad_email["recordContact"]["email"] = json!("records at example.org");
    let mut no_title = contacts();
    no_title["authorizedRepresentative"].as_object_mut().unwrap().remove("title");
    let mut blank_phone = contacts();
    blank_phone["authorizedRepresentative"]["phone"] = json!("  ");
    let mut no_name = contacts();
    no_name["administrator"]["name"] = json!(" ");
    let cases = [
        (without_it, "contacts"),
        (bad_email, "contacts.recordContact.email"),
        (no_title, "contacts.authorizedRepresentative"),
        (blank_phone, "contacts.authorizedRepresentative"),
        (no_name, "contacts.administrator.name"),
    ];
    for (contacts, expression) in cases {
        let response = post_json(&app, &app.state, &uri, &json!({"contacts": contacts})).await;
        response.assert_status(400);
        assert_eq!(response.first_issue(), issue("invalid", expression));
    }
    // Only the representative needs a title and phone.
    let mut minimal = contacts();
    for who in ["administrator", "recordContact", "itContact"] {
        let person = minimal[who].as_object_mut().unwrap();
        person.remove("title");
        person.remove("phone");
    }
    post_json(&app, &app.state, &uri, &json!({"contacts": minimal})).await.assert_status(201);
    assert_eq!(get_as(&app, &app.state, &uri).await.json().as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn only_state_staff_draft_agreements() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/agreements", admin.organization_id);
    let response = post_json(&app, &admin, &uri, &json!({"contacts": contacts()})).await;
    response.assert_status(403);
    assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
    // The organization sees its own agreements but nobody else's.
    let list = get_as(&app, &admin, &uri).await;
    list.assert_status(200);
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    let response =
        get_as(&app, &admin, &format!("/api/v1/organizations/{}/agreements", app.clinician.organization_id)).await;
    response.assert_status(404);
}

#[actix_web::test]
async fn signing_today_activates_for_three_years_less_a_day() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let draft = draft_agreement(&app, &organization_id, None).await;
    let response = activate(&app, draft["id"].as_str().unwrap(), &ymd(today())).await;
    response.assert_status(200);
    let agreement = response.json();
    assert_eq!(agreement["status"], "active");
    assert_eq!(agreement["signedOn"], ymd(today()));
    assert_eq!(agreement["startsOn"], ymd(today()));
    assert_eq!(agreement["endsOn"], ymd(expected_end(today())));
    assert_eq!(agreement["contacts"], contacts());
}

#[actix_web::test]
async fn activating_an_active_agreement_again_is_409() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let draft = draft_agreement(&app, &organization_id, None).await;
    let id = draft["id"].as_str().unwrap();
    activate(&app, id, &ymd(today())).await.assert_status(200);
    let yesterday = today().previous_day().unwrap();
    let response = activate(&app, id, &ymd(yesterday)).await;
    response.assert_status(409);
    assert_eq!(response.first_issue(), ("business-rule".to_owned(), None));
    let read = get_as(&app, &app.state, &format!("/api/v1/agreements/{id}")).await.json();
    assert_eq!(read["signedOn"], ymd(today()));
}

#[actix_web::test]
async fn a_signature_in_the_future_or_not_a_date_is_400() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let draft = draft_agreement(&app, &organization_id, None).await;
    let id = draft["id"].as_str().unwrap();
    for signed_on in [ymd(today().next_day().unwrap()), "2026-02-30".to_owned(), "yesterday".to_owned()] {
        let response = activate(&app, id, &signed_on).await;
        response.assert_status(400);
        assert_eq!(response.first_issue(), issue("invalid", "signedOn"));
    }
    let read = get_as(&app, &app.state, &format!("/api/v1/agreements/{id}")).await.json();
    assert_eq!(read["status"], "pending");
    assert_eq!(read["signedOn"], Value::Null);
}

#[actix_web::test]
async fn only_state_staff_activate_agreements() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let draft = draft_agreement(&app, &admin.organization_id, None).await;
    let response = post_json(
        &app,
        &admin,
        &format!("/api/v1/agreements/{}/activate", draft["id"].as_str().unwrap()),
        &json!({"signedOn": ymd(today())}),
    )
    .await;
    response.assert_status(403);
    assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
}

#[actix_web::test]
async fn termination_needs_thirty_days_notice_and_the_agreement_runs_until_then() {
    let app = TestApp::spawn().await;
    let (organization_id, agreement) = organization_with_agreement(&app, "Lakeside Clinic", today()).await;
    let id = agreement["id"].as_str().unwrap();
    let uri = format!("/api/v1/agreements/{id}/terminate");

    let short = today() + Duration::days(29);
    let response = post_json(&app, &app.state, &uri, &json!({"effectiveOn": ymd(short), "reason": "Closing"})).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "effectiveOn"));
    assert!(diagnostics(&response).contains(&ymd(today() + Duration::days(30))), "{}", diagnostics(&response));
    let response =
        post_json(&app, &app.state, &uri, &json!({"effectiveOn": ymd(today() + Duration::days(45)), "reason": " "}))
            .await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "reason"));
    let read = get_as(&app, &app.state, &format!("/api/v1/agreements/{id}")).await.json();
    assert_eq!(read["terminatedOn"], Value::Null);

    let effective = today() + Duration::days(30);
    let response =
        post_json(&app, &app.state, &uri, &json!({"effectiveOn": ymd(effective), "reason": "Clinic closing"})).await;
    response.assert_status(200);
    let terminated = response.json();
    assert_eq!(terminated["status"], "active");
    assert_eq!(terminated["terminatedOn"], ymd(effective));
    assert_eq!(terminated["terminationNoticeOn"], ymd(today()));
    assert_eq!(terminated["terminationRequestedBy"], "state");
    assert_eq!(terminated["terminationReason"], "Clinic closing");
    assert_eq!(terminated["endsOn"], agreement["endsOn"]);

    // Notice was given once; a second notice is a conflict.
    let response = post_json(&app, &app.state, &uri, &json!({"reason": "Again"})).await;
    response.assert_status(409);
    // Users of the organization keep working until the effective date.
    let user = create_user(&app, &app.state, &organization_id, "still.here", "clinician").await;
    user.assert_status(201);
    password_login(&app, &organization_id, "still.here", PASSWORD).await.assert_status(200);
}

#[actix_web::test]
async fn the_organization_administrator_may_give_notice_of_termination() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/agreements", admin.organization_id)).await;
    let id = list.json()[0]["id"].as_str().unwrap().to_owned();
    let response =
        post_json(&app, &admin, &format!("/api/v1/agreements/{id}/terminate"), &json!({"reason": "Moving"})).await;
    response.assert_status(200);
    assert_eq!(response.json()["terminationRequestedBy"], "organization");
    assert_eq!(response.json()["terminatedOn"], ymd(today() + Duration::days(30)));
    // Somebody else's agreement is not found.
    let theirs =
        get_as(&app, &app.state, &format!("/api/v1/organizations/{}/agreements", app.clinician.organization_id)).await;
    let theirs = theirs.json()[0]["id"].as_str().unwrap().to_owned();
    let response =
        post_json(&app, &admin, &format!("/api/v1/agreements/{theirs}/terminate"), &json!({"reason": "Spite"})).await;
    response.assert_status(404);
    let response = get_as(&app, &admin, &format!("/api/v1/agreements/{theirs}")).await;
    response.assert_status(404);
}

#[actix_web::test]
async fn a_renewal_signed_during_the_term_starts_the_day_after_it_ends() {
    let app = TestApp::spawn().await;
    let signed = add_years(today(), -2);
    let (organization_id, previous) = organization_with_agreement(&app, "Lakeside Clinic", signed).await;
    let previous_end = expected_end(signed);
    assert_eq!(previous["endsOn"], ymd(previous_end));
    assert_eq!(previous["status"], "active");

    let previous_id = previous["id"].as_str().unwrap();
    let renewal = draft_agreement(&app, &organization_id, Some(previous_id)).await;
    assert_eq!(renewal["renews"], previous_id);
    let response = activate(&app, renewal["id"].as_str().unwrap(), &ymd(today())).await;
    response.assert_status(200);
    let renewal = response.json();
    let starts = previous_end.next_day().unwrap();
    assert_eq!(renewal["signedOn"], ymd(today()));
    assert_eq!(renewal["startsOn"], ymd(starts));
    assert_eq!(renewal["endsOn"], ymd(expected_end(starts)));
    // Waiting for its term.
    assert_eq!(renewal["status"], "pending");

    let list = get_as(&app, &app.state, &format!("/api/v1/organizations/{organization_id}/agreements")).await.json();
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![renewal["id"].as_str().unwrap(), previous_id]);
}

#[actix_web::test]
async fn a_renewal_must_renew_one_of_the_organizations_agreements() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let theirs =
        get_as(&app, &app.state, &format!("/api/v1/organizations/{}/agreements", app.clinician.organization_id)).await;
    let theirs = theirs.json()[0]["id"].as_str().unwrap().to_owned();
    for renews in [theirs.as_str(), "no-such-agreement"] {
        let response = post_json(
            &app,
            &app.state,
            &format!("/api/v1/organizations/{organization_id}/agreements"),
            &json!({"contacts": contacts(), "renews": renews}),
        )
        .await;
        response.assert_status(400);
        assert_eq!(response.first_issue(), issue("invalid", "renews"));
    }
}

#[actix_web::test]
async fn the_expiring_report_lists_agreements_ending_within_the_window() {
    let app = TestApp::spawn().await;
    let signed = add_years(today(), -3) + Duration::days(20);
    let (organization_id, agreement) = organization_with_agreement(&app, "Lakeside Clinic", signed).await;
    let ends = expected_end(signed);
    let days_left = (ends - today()).whole_days();
    assert!((11..=20).contains(&days_left), "the agreement ends within 20 days ({days_left})");
    assert_eq!(agreement["status"], "active");
    assert_eq!(agreement["endsOn"], ymd(ends));

    let response = get_as(&app, &app.state, "/api/v1/agreements/expiring?withinDays=30").await;
    response.assert_status(200);
    let report = response.json();
    assert_eq!(report["asOf"], ymd(today()));
    assert_eq!(report["withinDays"], 30);
    assert_eq!(report["count"], 1);
    assert_eq!(report["withoutRenewal"], 1);
    let line = &report["agreements"][0];
    assert_eq!(line["agreement"]["id"], agreement["id"]);
    assert_eq!(line["agreement"]["organizationId"], organization_id.as_str());
    assert_eq!(line["daysLeft"], days_left);
    assert_eq!(line["renewalSigned"], false);

    let report = get_as(&app, &app.state, "/api/v1/agreements/expiring?withinDays=10").await.json();
    assert_eq!(report["count"], 0);
    assert_eq!(report["withoutRenewal"], 0);
    assert_eq!(report["agreements"], json!([]));

    // The default window is 90 days.
    let report = get_as(&app, &app.state, "/api/v1/agreements/expiring").await.json();
    assert_eq!(report["withinDays"], 90);
    assert_eq!(report["count"], 1);
}

#[actix_web::test]
async fn the_expiring_report_counts_renewed_agreements_apart() {
    let app = TestApp::spawn().await;
    let signed = add_years(today(), -3) + Duration::days(20);
    let (_, lapsing) = organization_with_agreement(&app, "Lakeside Clinic", signed).await;
    let (renewing_org, renewed) = organization_with_agreement(&app, "Riverside Clinic", signed).await;
    let renewal = draft_agreement(&app, &renewing_org, renewed["id"].as_str()).await;
    activate(&app, renewal["id"].as_str().unwrap(), &ymd(today())).await.assert_status(200);

    let report = get_as(&app, &app.state, "/api/v1/agreements/expiring?withinDays=30").await.json();
    assert_eq!(report["count"], 2);
    assert_eq!(report["withoutRenewal"], 1);
    let lines: Vec<(String, bool)> = report["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["agreement"]["id"].as_str().unwrap().to_owned(), l["renewalSigned"].as_bool().unwrap()))
        .collect();
    assert!(lines.contains(&(lapsing["id"].as_str().unwrap().to_owned(), false)), "{lines:?}");
    assert!(lines.contains(&(renewed["id"].as_str().unwrap().to_owned(), true)), "{lines:?}");
}

#[actix_web::test]
async fn the_expiring_report_is_for_state_staff_only() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    for actor in [&app.clinician, &admin] {
        let response = get_as(&app, actor, "/api/v1/agreements/expiring?withinDays=30").await;
        response.assert_status(403);
        assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
    }
}

#[actix_web::test]
async fn the_expiring_report_window_is_at_most_three_years() {
    let app = TestApp::spawn().await;
    get_as(&app, &app.state, "/api/v1/agreements/expiring?withinDays=1098").await.assert_status(200);
    let response = get_as(&app, &app.state, "/api/v1/agreements/expiring?withinDays=1099").await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "withinDays"));
}

#[actix_web::test]
async fn a_malformed_expiring_window_is_an_operation_outcome() {
    let app = TestApp::spawn().await;
    for query in ["withinDays=soon", "withinDays=-1", "within=30"] {
        let response = get_as(&app, &app.state, &format!("/api/v1/agreements/expiring?{query}")).await;
        response.assert_status(400);
        assert_eq!(response.first_issue().0, "invalid", "{query}");
    }
}

#[actix_web::test]
async fn an_organization_whose_agreement_expired_cannot_log_in() {
    let app = TestApp::spawn().await;
    let signed = add_years(today(), -3) - Duration::days(10);
    let (organization_id, agreement) = organization_with_agreement(&app, "Lakeside Clinic", signed).await;
    let ends = expected_end(signed);
    assert!(ends < today());
    assert_eq!(agreement["status"], "expired");
    assert_eq!(agreement["endsOn"], ymd(ends));
    create_user(&app, &app.state, &organization_id, "too.late", "clinician").await.assert_status(201);

    let response = password_login(&app, &organization_id, "too.late", PASSWORD).await;
    response.assert_status(400);
    let body = response.json();
    assert_eq!(body["error"], "invalid_grant");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("agreement") && description.contains("expired"), "{description}");
    assert!(description.contains(&ymd(ends.next_day().unwrap())), "{description}");
    let denied = audit_rows(
        &app,
        AuditFilter {
            organization_id: Some(organization_id.clone()),
            action: Some("login".to_owned()),
            outcome: Some("denied".to_owned()),
            ..AuditFilter::default()
        },
    );
    assert_eq!(denied.len(), 1);
}

#[actix_web::test]
async fn an_organization_without_a_signed_agreement_cannot_log_in() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    draft_agreement(&app, &organization_id, None).await;
    create_user(&app, &app.state, &organization_id, "too.early", "clinician").await.assert_status(201);
    let response = password_login(&app, &organization_id, "too.early", PASSWORD).await;
    response.assert_status(400);
    assert_eq!(response.json()["error"], "invalid_grant");
    assert!(response.json()["error_description"].as_str().unwrap().contains("none has been signed"));
}

/// Time cannot pass in a test, so the termination taking effect is simulated by moving its
/// effective date into the past in the database.
#[actix_web::test]
async fn an_existing_token_stops_working_once_the_termination_takes_effect() {
    let app = TestApp::spawn().await;
    let clinician = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::Clinician);
    get_as(&app, &clinician, "/api/v1/me").await.assert_status(200);
    let list =
        get_as(&app, &app.state, &format!("/api/v1/organizations/{}/agreements", clinician.organization_id)).await;
    let id = list.json()[0]["id"].as_str().unwrap().to_owned();
    post_json(&app, &app.state, &format!("/api/v1/agreements/{id}/terminate"), &json!({"reason": "Closing"}))
        .await
        .assert_status(200);
    // Notice given, not in effect yet.
    get_as(&app, &clinician, "/api/v1/me").await.assert_status(200);

    let yesterday = today().previous_day().unwrap();
    let changed =
        app.execute_sql(format!("UPDATE agreement SET terminated_on = '{}' WHERE id = '{id}'", ymd(yesterday)));
    assert_eq!(changed, 1);
    app.registry.sessions().forget_standing();

    let response = get_as(&app, &clinician, "/api/v1/me").await;
    response.assert_status(403);
    assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
    assert!(diagnostics(&response).contains("terminated"), "{}", diagnostics(&response));
    let response = password_login(&app, &clinician.organization_id, &clinician.username, PASSWORD).await;
    response.assert_status(400);
    assert_eq!(response.json()["error"], "invalid_grant");
    assert!(response.json()["error_description"].as_str().unwrap().contains("terminated"));
    let read = get_as(&app, &app.state, &format!("/api/v1/agreements/{id}")).await.json();
    assert_eq!(read["status"], "terminated");
}

#[actix_web::test]
async fn expiry_notices_are_queued_once_with_the_most_urgent_reminder() {
    let app = TestApp::spawn().await;
    let signed = add_years(today(), -3) + Duration::days(6);
    let (_, agreement) = organization_with_agreement(&app, "Lakeside Clinic", signed).await;
    let ends = expected_end(signed);
    let days_left = (ends - today()).whole_days();
    assert!((1..=7).contains(&days_left), "ends within a week ({days_left})");
    let id = agreement["id"].as_str().unwrap();

    let queued = izreg::service::agreement::queue_expiry_notices(&app.registry, today()).unwrap();
    assert_eq!(queued, 1);
    let again = izreg::service::agreement::queue_expiry_notices(&app.registry, today()).unwrap();
    assert_eq!(again, 0);

    let response = get_as(&app, &app.state, &format!("/api/v1/agreements/{id}/notices")).await;
    response.assert_status(200);
    let notices = response.json();
    assert_eq!(notices.as_array().unwrap().len(), 1);
    let notice = &notices[0];
    assert_eq!(notice["daysBefore"], 7);
    assert_eq!(notice["recipient"], "representative@example.org");
    assert!(notice["subject"].as_str().unwrap().contains(&ymd(ends)), "{notice}");
    assert_eq!(notice["sentAt"], Value::Null);
    assert_eq!(notice["attempts"], 0);
    assert!(notice["queuedAt"].as_str().is_some());

    // The agreements signed today (the harness's clinic) are not due for any reminder.
    let theirs =
        get_as(&app, &app.state, &format!("/api/v1/organizations/{}/agreements", app.clinician.organization_id)).await;
    let theirs = theirs.json()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(get_as(&app, &app.state, &format!("/api/v1/agreements/{theirs}/notices")).await.json(), json!([]));
    // Notices are for state staff.
    let response = get_as(&app, &app.clinician, &format!("/api/v1/agreements/{id}/notices")).await;
    response.assert_status(403);
}

#[actix_web::test]
async fn no_expiry_notice_is_queued_for_a_renewed_agreement() {
    let app = TestApp::spawn().await;
    let signed = add_years(today(), -3) + Duration::days(40);
    let (organization_id, agreement) = organization_with_agreement(&app, "Lakeside Clinic", signed).await;
    let id = agreement["id"].as_str().unwrap();
    let renewal = draft_agreement(&app, &organization_id, Some(id)).await;
    activate(&app, renewal["id"].as_str().unwrap(), &ymd(today())).await.assert_status(200);
    assert_eq!(izreg::service::agreement::queue_expiry_notices(&app.registry, today()).unwrap(), 0);
    assert_eq!(get_as(&app, &app.state, &format!("/api/v1/agreements/{id}/notices")).await.json(), json!([]));
}

// ---- users ----

#[actix_web::test]
async fn an_organization_administrator_creates_a_clinician() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let body = json!({"username": "jsmith", "displayName": "Jordan Smith", "email": "jsmith@example.org",
                      "phone": "218-555-0101", "role": "clinician", "facilityId": admin.facility_id,
                      "password": PASSWORD});
    let response =
        post_json(&app, &admin, &format!("/api/v1/organizations/{}/users", admin.organization_id), &body).await;
    response.assert_status(201);
    let user = response.json();
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    assert_eq!(user["organizationId"], admin.organization_id.as_str());
    assert_eq!(user["facilityId"], admin.facility_id.as_deref().unwrap());
    assert_eq!(user["username"], "jsmith");
    assert_eq!(user["displayName"], "Jordan Smith");
    assert_eq!(user["email"], "jsmith@example.org");
    assert_eq!(user["phone"], "218-555-0101");
    assert_eq!(user["role"], "clinician");
    assert_eq!(user["active"], true);
    assert_eq!(user["lockedUntil"], Value::Null);
    let text = String::from_utf8_lossy(&response.body);
    assert!(!text.contains(PASSWORD) && !text.contains("argon2") && !text.contains("password\""), "{text}");

    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/users", admin.organization_id)).await;
    let usernames: Vec<String> =
        list.json().as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect();
    assert_eq!(usernames, vec!["jsmith", "org_admin.user"]);
}

#[actix_web::test]
async fn an_organization_administrator_cannot_create_a_state_administrator() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let response = create_user(&app, &admin, &admin.organization_id, "new.boss", "state_admin").await;
    response.assert_status(403);
    assert_eq!(response.first_issue(), ("forbidden".to_owned(), None));
    // State staff cannot make one outside the health department either.
    let response = create_user(&app, &app.state, &admin.organization_id, "new.boss", "state_admin").await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "role"));
    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/users", admin.organization_id)).await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_clinician_cannot_create_users_and_an_administrator_only_in_their_organization() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let response = create_user(&app, &app.clinician, &app.clinician.organization_id, "helper", "clerk").await;
    response.assert_status(403);
    let response = create_user(&app, &admin, &app.clinician.organization_id, "helper", "clerk").await;
    response.assert_status(404);
}

#[actix_web::test]
async fn a_weak_password_is_400_listing_every_broken_rule() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let body = json!({"username": "weak", "displayName": "Weak User", "role": "clinician", "password": "weak"});
    let response =
        post_json(&app, &admin, &format!("/api/v1/organizations/{}/users", admin.organization_id), &body).await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![issue("invalid", "password"); 4]);
    let body = response.json();
    let messages: Vec<&str> =
        body["issue"].as_array().unwrap().iter().map(|i| i["diagnostics"].as_str().unwrap()).collect();
    assert_eq!(
        messages,
        vec![
            "The password must have at least 12 characters.",
            "The password must contain an upper-case letter.",
            "The password must contain a digit.",
            "The password must contain one of ~!@#$%^*()-_+={}[]/?.",
        ]
    );
    let list = get_as(&app, &admin, &format!("/api/v1/organizations/{}/users", admin.organization_id)).await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_username_taken_in_another_case_is_409() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    create_user(&app, &admin, &admin.organization_id, "JSmith", "clinician").await.assert_status(201);
    let response = create_user(&app, &admin, &admin.organization_id, "jsmith", "clerk").await;
    response.assert_status(409);
    assert_eq!(response.first_issue(), issue("duplicate", "username"));
    // The same name in another organization is fine.
    create_user(&app, &app.state, &app.clinician.organization_id, "jsmith", "clerk").await.assert_status(201);
    // A malformed username is named.
    let response = create_user(&app, &admin, &admin.organization_id, "j smith", "clerk").await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "username"));
}

#[actix_web::test]
async fn a_created_user_logs_in_and_uses_the_token() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let created = create_user(&app, &admin, &admin.organization_id, "JSmith", "clinician").await;
    created.assert_status(201);
    // Usernames are matched case-insensitively.
    let response = password_login(&app, &admin.organization_id, "jsmith", PASSWORD).await;
    response.assert_status(200);
    let grant = response.json();
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], 900);
    assert!(grant["scope"].as_str().unwrap().contains("user/Patient"));
    assert_eq!(response.header("cache-control").as_deref(), Some("no-store"));
    let user_id = created.json()["id"].as_str().unwrap().to_owned();
    let actor = Actor {
        organization_id: admin.organization_id.clone(),
        facility_id: None,
        user_id: user_id.clone(),
        username: "JSmith".to_owned(),
        token: grant["access_token"].as_str().unwrap().to_owned(),
    };
    let me = get_as(&app, &actor, "/api/v1/me").await;
    me.assert_status(200);
    assert_eq!(me.json()["id"], user_id.as_str());
}

#[actix_web::test]
async fn a_deactivated_user_is_refused_at_once_and_can_be_reactivated() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let created = create_user(&app, &admin, &admin.organization_id, "jsmith", "clinician").await.json();
    let user_id = created["id"].as_str().unwrap().to_owned();
    let user = logged_in(&app, &admin.organization_id, &user_id, "jsmith", PASSWORD).await;
    get_as(&app, &user, "/api/v1/me").await.assert_status(200);
    // Tokens carry whole seconds: let the deactivation fall in a later second than the login.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let response = post_empty(&app, &admin, &format!("/api/v1/users/{user_id}/deactivate")).await;
    response.assert_status(200);
    assert_eq!(response.json()["active"], false);
    let response = get_as(&app, &user, "/api/v1/me").await;
    response.assert_status(401);
    assert_eq!(response.first_issue(), ("login".to_owned(), None));
    assert_eq!(diagnostics(&response), "The account is deactivated.");
    let response = password_login(&app, &admin.organization_id, "jsmith", PASSWORD).await;
    response.assert_status(400);
    assert_eq!(response.json()["error"], "invalid_grant");
    assert_eq!(response.json()["error_description"], "The account is deactivated.");

    let response = post_empty(&app, &admin, &format!("/api/v1/users/{user_id}/reactivate")).await;
    response.assert_status(200);
    assert_eq!(response.json()["active"], true);
    // The old session stays ended; a new login works.
    let response = get_as(&app, &user, "/api/v1/me").await;
    response.assert_status(401);
    let again = logged_in(&app, &admin.organization_id, &user_id, "jsmith", PASSWORD).await;
    get_as(&app, &again, "/api/v1/me").await.assert_status(200);
}

#[actix_web::test]
async fn reactivation_does_not_revive_a_token_issued_in_the_second_of_the_deactivation() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let created = create_user(&app, &admin, &admin.organization_id, "jsmith", "clinician").await.json();
    let user_id = created["id"].as_str().unwrap().to_owned();
    // Start at the beginning of a second so that login and deactivation share it.
    loop {
        let now = time::OffsetDateTime::now_utc();
        if now.millisecond() < 100 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(u64::from(1000 - now.millisecond())));
    }
    let started = time::OffsetDateTime::now_utc().unix_timestamp();
    let user = logged_in(&app, &admin.organization_id, &user_id, "jsmith", PASSWORD).await;
    post_empty(&app, &admin, &format!("/api/v1/users/{user_id}/deactivate")).await.assert_status(200);
    assert_eq!(time::OffsetDateTime::now_utc().unix_timestamp(), started, "login and deactivation share a second");
    post_empty(&app, &admin, &format!("/api/v1/users/{user_id}/reactivate")).await.assert_status(200);
    get_as(&app, &user, "/api/v1/me").await.assert_status(401);
}

#[actix_web::test]
async fn nobody_deactivates_their_own_account_or_another_organizations_users() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let response = post_empty(&app, &admin, &format!("/api/v1/users/{}/deactivate", admin.user_id)).await;
    response.assert_status(409);
    assert_eq!(response.first_issue(), ("business-rule".to_owned(), None));
    let response = post_empty(&app, &admin, &format!("/api/v1/users/{}/deactivate", app.clinician.user_id)).await;
    response.assert_status(404);
    let response =
        post_empty(&app, &app.clinician, &format!("/api/v1/users/{}/deactivate", app.clinician.user_id)).await;
    response.assert_status(404);
    get_as(&app, &app.clinician, "/api/v1/me").await.assert_status(200);
}

#[actix_web::test]
async fn a_user_reads_and_edits_their_profile() {
    let app = TestApp::spawn().await;
    let me = get_as(&app, &app.clinician, "/api/v1/me").await;
    me.assert_status(200);
    let me = me.json();
    assert_eq!(me["id"], app.clinician.user_id.as_str());
    assert_eq!(me["username"], "clinician.user");
    assert_eq!(me["displayName"], "Test clinician.user");
    assert_eq!(me["role"], "clinician");

    let body = json!({"displayName": "Dr. Casey Lee", "email": "casey.lee@example.org", "phone": "612-555-0199"});
    let response = put_json(&app, &app.clinician, "/api/v1/me", &body).await;
    response.assert_status(200);
    let updated = response.json();
    assert_eq!(updated["displayName"], "Dr. Casey Lee");
    assert_eq!(updated["email"], "casey.lee@example.org");
    assert_eq!(updated["phone"], "612-555-0199");
    assert_eq!(updated["username"], "clinician.user");
    assert_eq!(get_as(&app, &app.clinician, "/api/v1/me").await.json(), updated);

    for (body, expression) in [
        (json!({"displayName": " ", "email": null}), "displayName"),
        (json!({"displayName": "Casey", "email": "not-an-email"}), "email"),
    ] {
        let response = put_json(&app, &app.clinician, "/api/v1/me", &body).await;
        response.assert_status(400);
        assert_eq!(response.first_issue(), issue("invalid", expression));
    }
    let response =
        put_json(&app, &app.clinician, "/api/v1/me", &json!({"displayName": "X", "role": "state_admin"})).await;
    response.assert_status(400);
    assert_eq!(get_as(&app, &app.clinician, "/api/v1/me").await.json(), updated);
}

#[actix_web::test]
async fn a_user_changes_their_password_with_the_current_one() {
    let app = TestApp::spawn().await;
    let new_password = "Another-Password-2027";
    let response = post_json(
        &app,
        &app.clinician,
        "/api/v1/me/password",
        &json!({"currentPassword": "Wrong-Password-2026", "newPassword": new_password}),
    )
    .await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "currentPassword"));
    let response = post_json(
        &app,
        &app.clinician,
        "/api/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": PASSWORD}),
    )
    .await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "newPassword"));
    password_login(&app, &app.clinician.organization_id, "clinician.user", PASSWORD).await.assert_status(200);

    let response = post_json(
        &app,
        &app.clinician,
        "/api/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": new_password}),
    )
    .await;
    response.assert_status(204);
    assert!(response.body.is_empty());
    let old = password_login(&app, &app.clinician.organization_id, "clinician.user", PASSWORD).await;
    old.assert_status(400);
    assert_eq!(old.json()["error"], "invalid_grant");
    password_login(&app, &app.clinician.organization_id, "clinician.user", new_password).await.assert_status(200);
    assert_eq!(audit_action(&app, "password-change").len(), 1);
}

#[actix_web::test]
async fn a_weak_new_password_names_the_new_password_field() {
    let app = TestApp::spawn().await;
    let response = post_json(
        &app,
        &app.clinician,
        "/api/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": "weak"}),
    )
    .await;
    response.assert_status(400);
    assert_eq!(issues(&response), vec![issue("invalid", "newPassword"); 4]);
}

#[actix_web::test]
async fn security_questions_are_exactly_three_with_answers_of_five_characters() {
    let app = TestApp::spawn().await;
    let question = |q: &str, a: &str| json!({"question": q, "answer": a});
    let two = json!({"questions": [question("First pet?", "Rover"), question("First street?", "Elm Street")]});
    let response = put_json(&app, &app.clinician, "/api/v1/me/security-questions", &two).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "questions"));
    let short = json!({"questions": [question("First pet?", "Rover"), question("First street?", " Elm "),
                                     question("First school?", "Lincoln High")]});
    let response = put_json(&app, &app.clinician, "/api/v1/me/security-questions", &short).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "questions[1].answer"));
    let repeated = json!({"questions": [question("First pet?", "Rover"), question("first pet?", "Fido the dog"),
                                        question("First school?", "Lincoln High")]});
    let response = put_json(&app, &app.clinician, "/api/v1/me/security-questions", &repeated).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "questions[1].question"));
    let stored = |app: &TestApp| {
        app.registry
            .database()
            .read(|conn| izreg::store::identity::security_answers(conn, &app.clinician.user_id))
            .unwrap()
    };
    assert!(stored(&app).is_empty());

    let good = json!({"questions": [question("First pet?", "Rover"), question("First street?", "Elm Street"),
                                    question("First school?", "Lincoln High")]});
    let response = put_json(&app, &app.clinician, "/api/v1/me/security-questions", &good).await;
    response.assert_status(204);
    let answers = stored(&app);
    let questions: Vec<&str> = answers.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(questions, vec!["First pet?", "First street?", "First school?"]);
    assert!(answers.iter().all(|(_, hash)| hash.starts_with("$argon2id$")));
    assert!(izreg::auth::password::verify_answer("  elm   STREET", &answers[1].1));
}

// ---- logins ----

#[actix_web::test]
async fn a_wrong_password_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let response = password_login(&app, &app.clinician.organization_id, "clinician.user", "Wrong-Password-1").await;
    response.assert_status(400);
    let body = response.json();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "Invalid organization, username or password.");
    assert_eq!(response.header("cache-control").as_deref(), Some("no-store"));
    // A wrong organization is the same answer.
    let response = password_login(&app, &app.state.organization_id, "clinician.user", PASSWORD).await;
    response.assert_status(400);
    assert_eq!(response.json(), body);
}

#[actix_web::test]
async fn an_unknown_username_gets_the_same_answer_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    let wrong = password_login(&app, &app.clinician.organization_id, "clinician.user", "Wrong-Password-1").await;
    let unknown = password_login(&app, &app.clinician.organization_id, "nobody.here", "Wrong-Password-1").await;
    unknown.assert_status(400);
    assert_eq!(unknown.json()["error"], "invalid_grant");
    assert_eq!(unknown.json(), wrong.json());
}

#[actix_web::test]
async fn five_failed_logins_lock_the_account() {
    let app = TestApp::spawn().await;
    let organization = app.clinician.organization_id.clone();
    for _ in 0..5 {
        let response = password_login(&app, &organization, "clinician.user", "Wrong-Password-1").await;
        response.assert_status(400);
        assert_eq!(response.json()["error_description"], "Invalid organization, username or password.");
    }
    let response = password_login(&app, &organization, "clinician.user", PASSWORD).await;
    response.assert_status(400);
    assert_eq!(response.json()["error"], "invalid_grant");
    let description = response.json()["error_description"].as_str().unwrap().to_owned();
    assert!(description.contains("locked"), "{description}");

    let lockouts = audit_action(&app, "lockout");
    assert_eq!(lockouts.len(), 1);
    assert_eq!(lockouts[0].agent_id.as_deref(), Some(app.clinician.user_id.as_str()));
    assert_eq!(lockouts[0].organization_id.as_deref(), Some(organization.as_str()));
    assert_eq!(lockouts[0].outcome, "denied");
    let denied = audit_rows(
        &app,
        AuditFilter {
            agent_id: Some(app.clinician.user_id.clone()),
            action: Some("login".to_owned()),
            outcome: Some("denied".to_owned()),
            ..AuditFilter::default()
        },
    );
    assert_eq!(denied.len(), 6);
    // The administrator sees when the lock ends.
    let user = get_as(&app, &app.state, &format!("/api/v1/users/{}", app.clinician.user_id)).await.json();
    assert!(user["lockedUntil"].as_str().is_some(), "{user}");
}

#[actix_web::test]
async fn four_failures_and_a_good_login_reset_the_count() {
    let app = TestApp::spawn().await;
    let organization = app.clinician.organization_id.clone();
    for _ in 0..4 {
        password_login(&app, &organization, "clinician.user", "Wrong-Password-1").await.assert_status(400);
    }
    password_login(&app, &organization, "clinician.user", PASSWORD).await.assert_status(200);
    for _ in 0..4 {
        password_login(&app, &organization, "clinician.user", "Wrong-Password-1").await.assert_status(400);
    }
    password_login(&app, &organization, "clinician.user", PASSWORD).await.assert_status(200);
    assert!(audit_action(&app, "lockout").is_empty());
}

// ---- registered systems ----

#[actix_web::test]
async fn a_shared_secret_key_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/clients", admin.organization_id);
    let jwks = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNoYXJlZC1rZXktMTIzNDU2Nzg5MA"}]});
    let response = post_json(&app, &admin, &uri, &client_body(jwks)).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "jwks.keys[0]"));
    assert_eq!(get_as(&app, &admin, &uri).await.json(), json!([]));
}

#[actix_web::test]
async fn a_private_key_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/clients", admin.organization_id);
    let mut private = p384_public_jwk();
    private["d"] = json!("xtaAsrOHmuDDdcGJCymuIK3fscUqYOSSYN_NR5-idMoNJqS_SuTsCTCemgtDPSlZ");
    let response = post_json(&app, &admin, &uri, &client_body(json!({"keys": [p384_public_jwk(), private]}))).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "jwks.keys[1]"));
    // Neither are other curves, nor an empty set.
    let mut p256 = p384_public_jwk();
    p256["crv"] = json!("P-256");
    let response = post_json(&app, &admin, &uri, &client_body(json!({"keys": [p256]}))).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "jwks.keys[0]"));
    let response = post_json(&app, &admin, &uri, &client_body(json!({"keys": []}))).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "jwks"));
    assert_eq!(get_as(&app, &admin, &uri).await.json(), json!([]));
}

#[actix_web::test]
async fn a_system_with_a_public_p384_key_is_registered() {
    let app = TestApp::spawn().await;
    let admin = app.enrol("Lakeside Clinic", OrganizationKind::Provider, Role::OrgAdmin);
    let uri = format!("/api/v1/organizations/{}/clients", admin.organization_id);
    let response = post_json(&app, &admin, &uri, &client_body(json!({"keys": [p384_public_jwk()]}))).await;
    response.assert_status(201);
    let client = response.json();
    let client_id = client["clientId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(client_id).is_ok());
    assert_eq!(client["organizationId"], admin.organization_id.as_str());
    assert_eq!(client["facilityId"], Value::Null);
    assert_eq!(client["name"], "Lakeside EHR");
    assert_eq!(client["role"], "clinician");
    let scopes: std::collections::BTreeSet<&str> = client["allowedScopes"].as_str().unwrap().split(' ').collect();
    assert_eq!(scopes, ["system/Immunization.cruds", "system/Patient.rs"].into_iter().collect());
    assert_eq!(client["active"], true);
    let list = get_as(&app, &admin, &uri).await;
    list.assert_status(200);
    assert_eq!(list.json(), json!([client]));

    // user/ scopes and administrative roles are not for systems.
    let mut body = client_body(json!({"keys": [p384_public_jwk()]}));
    body["allowedScopes"] = json!("user/Patient.rs");
    let response = post_json(&app, &admin, &uri, &body).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "allowedScopes"));
    let mut body = client_body(json!({"keys": [p384_public_jwk()]}));
    body["role"] = json!("org_admin");
    let response = post_json(&app, &admin, &uri, &body).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), issue("invalid", "role"));
    // Nobody else registers systems for the organization.
    let response = post_json(&app, &app.clinician, &uri, &client_body(json!({"keys": [p384_public_jwk()]}))).await;
    response.assert_status(404);
    assert_eq!(get_as(&app, &admin, &uri).await.json().as_array().unwrap().len(), 1);
}

// ---- audit ----

#[actix_web::test]
async fn administrative_actions_are_audited_with_the_acting_user() {
    let app = TestApp::spawn().await;
    let organization_id = create_organization(&app, "Lakeside Clinic").await;
    let draft = draft_agreement(&app, &organization_id, None).await;
    let agreement_id = draft["id"].as_str().unwrap().to_owned();
    activate(&app, &agreement_id, &ymd(today())).await.assert_status(200);
    let user = create_user(&app, &app.state, &organization_id, "jsmith", "clinician").await.json();
    let user_id = user["id"].as_str().unwrap().to_owned();
    post_empty(&app, &app.state, &format!("/api/v1/users/{user_id}/deactivate")).await.assert_status(200);

    for (action, resource_type, resource_id) in [
        ("organization-create", "Organization", &organization_id),
        ("agreement-create", "Agreement", &agreement_id),
        ("agreement-activate", "Agreement", &agreement_id),
        ("user-create", "User", &user_id),
        ("user-deactivate", "User", &user_id),
    ] {
        let rows: Vec<AuditRow> =
            audit_action(&app, action).into_iter().filter(|r| r.resource_ids == *resource_id).collect();
        assert_eq!(rows.len(), 1, "{action}");
        let row = &rows[0];
        assert_eq!(row.agent_kind, "user", "{action}");
        assert_eq!(row.agent_id.as_deref(), Some(app.state.user_id.as_str()), "{action}");
        assert_eq!(row.organization_id.as_deref(), Some(app.state.organization_id.as_str()), "{action}");
        assert_eq!(row.resource_type.as_deref(), Some(resource_type), "{action}");
        assert_eq!(row.outcome, "success", "{action}");
        assert!(row.token_id.is_some(), "{action}");
    }
}

#[actix_web::test]
async fn a_refused_request_is_audited_as_denied() {
    let app = TestApp::spawn().await;
    app.send_anonymous(TestRequest::get().uri("/api/v1/organizations")).await.assert_status(401);
    let rows = audit_rows(
        &app,
        AuditFilter { action: Some("GET /api/v1/organizations".to_owned()), ..AuditFilter::default() },
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].agent_kind, "anonymous");
    assert_eq!(rows[0].outcome, "denied");
    assert_eq!(rows[0].status, 401);
}

#[actix_web::test]
async fn the_audit_chain_verifies_and_a_changed_row_breaks_it() {
    let app = TestApp::spawn().await;
    create_organization(&app, "Lakeside Clinic").await;
    password_login(&app, &app.clinician.organization_id, "clinician.user", "Wrong-Password-1").await;
    app.send_anonymous(TestRequest::get().uri("/api/v1/organizations")).await;
    app.flush_audit();
    let total = audit_rows(&app, AuditFilter::default()).len();
    assert!(total >= 5, "{total} events");

    let report = app.registry.database().read(izreg::service::audit::verify_chain).unwrap();
    assert_eq!(report.first_broken, None);
    assert_eq!(report.events, u64::try_from(total).unwrap());

    assert_eq!(app.execute_sql("UPDATE audit_event SET detail = 'x' WHERE seq = 2".to_owned()), 1);
    let report = app.registry.database().read(izreg::service::audit::verify_chain).unwrap();
    assert_eq!(report.first_broken, Some(2));
    assert_eq!(report.events, 1);
}

#[actix_web::test]
async fn a_deleted_audit_row_breaks_the_chain() {
    let app = TestApp::spawn().await;
    create_organization(&app, "Lakeside Clinic").await;
    app.flush_audit();
    assert_eq!(app.execute_sql("DELETE FROM audit_event WHERE seq = 3".to_owned()), 1);
    let report = app.registry.database().read(izreg::service::audit::verify_chain).unwrap();
    assert_eq!(report.first_broken, Some(3));
}

#[actix_web::test]
async fn a_large_audit_batch_is_stored_whole_and_in_chain_order() {
    // More than two multi-row statements' worth (32 rows each on SQLite) plus a remainder.
    let app = TestApp::spawn().await;
    app.flush_audit();
    let before = audit_rows(&app, AuditFilter::default()).len();
    let records: Vec<_> = (0..70)
        .map(|i| izreg::service::audit::AuditRecord::anonymous(format!("GET /batch/{i}")).on("Patient"))
        .collect();
    app.registry.database().write(move |conn| izreg::service::audit::append_in(conn, records)).unwrap();

    let report = app.registry.database().read(izreg::service::audit::verify_chain).unwrap();
    assert_eq!(report.first_broken, None);
    assert_eq!(report.events, u64::try_from(before + 70).unwrap());
    let mut batch: Vec<AuditRow> = audit_rows(&app, AuditFilter::default())
        .into_iter()
        .filter(|row| row.action.starts_with("GET /batch/"))
        .collect();
    batch.sort_by_key(|row| row.seq);
    let actions: Vec<String> = batch.iter().map(|row| row.action.clone()).collect();
    let expected: Vec<String> = (0..70).map(|i| format!("GET /batch/{i}")).collect();
    assert_eq!(actions, expected, "every event stored once, in the order given");
}
