//! Access control end to end: every way a token can be refused, role and scope checks,
//! organizations kept apart, and the audit record each refusal leaves.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Actor, TestApp, immunization, patient};
use serde_json::{Value, json};

use izreg::auth::token::{AccessClaims, StoredSigningKey, TokenKeys};
use izreg::domain::access::{OrganizationKind, Role};
use izreg::store::audit::{AuditFilter, AuditRow};

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap()
}

/// The server's own signing keys, read from the database (what an attacker must not have).
fn server_keys(app: &TestApp, audience: &str) -> TokenKeys {
    let rows = app.registry.database().read(|conn| izreg::store::token::signing_keys(conn, 0)).unwrap();
    let stored: Vec<StoredSigningKey> = rows
        .into_iter()
        .map(|r| StoredSigningKey {
            kid: r.kid,
            algorithm: r.algorithm,
            private_key_pkcs8: r.private_key_pkcs8,
            public_jwk_json: r.public_jwk_json,
            created_at: r.created_at,
            retired_at: r.retired_at,
        })
        .collect();
    TokenKeys::new(&stored, "urn:izreg", audience).unwrap()
}

/// Claims as the server would issue them for the clinician.
fn clinician_claims(app: &TestApp) -> AccessClaims {
    let t = now();
    AccessClaims {
        iss: "urn:izreg".to_owned(),
        aud: "urn:izreg:api".to_owned(),
        sub: app.clinician.user_id.clone(),
        agent: "user".to_owned(),
        org: app.clinician.organization_id.clone(),
        facility: app.clinician.facility_id.clone(),
        role: "clinician".to_owned(),
        scope: "user/Patient.cruds user/Immunization.cruds".to_owned(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat_us: t * 1_000_000,
        iat: t,
        nbf: t,
        exp: t + 300,
    }
}

async fn read_patients_with(app: &TestApp, token: &str) -> common::TestResponse {
    app.send_anonymous(
        TestRequest::get().uri("/fhir/Patient?_count=1").insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await
}

fn denied_events(app: &TestApp) -> Vec<AuditRow> {
    app.flush_audit();
    let filter = AuditFilter { outcome: Some("denied".to_owned()), ..AuditFilter::default() };
    app.registry.database().read(|conn| izreg::store::audit::search(conn, &filter, 1000)).unwrap()
}

#[track_caller]
fn assert_unauthenticated(response: &common::TestResponse, reason: &str) {
    response.assert_status(401);
    assert_eq!(response.first_issue().0, "login");
    let challenge = response.header("www-authenticate").expect("WWW-Authenticate");
    assert!(challenge.starts_with("Bearer realm=\"izreg\""), "{challenge}");
    let body = response.json();
    let diagnostics = body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diagnostics.to_lowercase().contains(reason), "{diagnostics} should mention {reason}");
}

#[actix_web::test]
async fn a_request_without_a_token_is_refused_and_audited() {
    let app = TestApp::spawn().await;
    let response = app.send_anonymous(TestRequest::get().uri("/fhir/Patient")).await;
    assert_unauthenticated(&response, "access token is required");
    let events = denied_events(&app);
    assert!(
        events.iter().any(|e| e.agent_kind == "anonymous" && e.status == 401 && e.action.contains("/fhir/Patient"))
    );
}

#[actix_web::test]
async fn public_endpoints_need_no_token() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/health/ready", "/fhir/metadata", "/.well-known/jwks.json", "/openapi.json"] {
        app.send_anonymous(TestRequest::get().uri(path)).await.assert_status(200);
    }
    let smart = app.send_anonymous(TestRequest::get().uri("/fhir/.well-known/smart-configuration")).await;
    smart.assert_status(200);
    assert_eq!(smart.json()["token_endpoint"], "http://izreg.test/auth/token");
    let jwks = app.send_anonymous(TestRequest::get().uri("/.well-known/jwks.json")).await.json();
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert!(jwks["keys"][0].get("d").is_none(), "the JWKS must not publish the private key");
}

#[actix_web::test]
async fn a_token_with_a_forged_signature_is_refused() {
    let app = TestApp::spawn().await;
    // A key pair of the attacker's, published under the server's key id.
    let server_kid =
        app.send_anonymous(TestRequest::get().uri("/.well-known/jwks.json")).await.json()["keys"][0]["kid"]
            .as_str()
            .unwrap()
            .to_owned();
    let mut forged = izreg::auth::token::generate_es256_key(0).unwrap();
    forged.kid = server_kid.clone();
    let mut jwk: Value = serde_json::from_str(&forged.public_jwk_json).unwrap();
    jwk["kid"] = json!(server_kid);
    forged.public_jwk_json = jwk.to_string();
    let attacker = TokenKeys::new(&[forged], "urn:izreg", "urn:izreg:api").unwrap();
    let token = attacker.sign(&clinician_claims(&app)).unwrap();
    assert_unauthenticated(&read_patients_with(&app, &token).await, "signature is invalid");
    // Tampering with a real token's claims breaks its signature too.
    let real = app.clinician.token.clone();
    let parts: Vec<&str> = real.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("state_admin");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_unauthenticated(&read_patients_with(&app, &tampered).await, "signature is invalid");
    let forged: Vec<AuditRow> = denied_events(&app)
        .into_iter()
        .filter(|e| e.agent_kind == "anonymous" && e.detail.as_deref().unwrap_or_default().contains("signature"))
        .collect();
    assert_eq!(forged.len(), 2, "each forged token leaves a denied audit record");
}

#[actix_web::test]
async fn unsigned_and_hmac_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&clinician_claims(&app)).unwrap());
    let none = format!("{}.{claims}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#));
    assert_unauthenticated(&read_patients_with(&app, &none).await, "not signed with es256");
    // HS256 "signed" with the public key as the shared secret: the classic algorithm confusion.
    let jwks = app.send_anonymous(TestRequest::get().uri("/.well-known/jwks.json")).await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = jwks.json()["keys"][0]["kid"].as_str().map(str::to_owned);
    let hmac =
        jsonwebtoken::encode(&header, &clinician_claims(&app), &jsonwebtoken::EncodingKey::from_secret(&jwks.body))
            .unwrap();
    assert_unauthenticated(&read_patients_with(&app, &hmac).await, "not signed with es256");
    assert_unauthenticated(&read_patients_with(&app, "not-a-jwt").await, "malformed");
    let refusals = denied_events(&app).into_iter().filter(|e| e.status == 401 && e.agent_kind == "anonymous").count();
    assert_eq!(refusals, 3, "alg none, HMAC and garbage each leave a denied audit record");
}

#[actix_web::test]
async fn expired_not_yet_valid_wrong_audience_and_unknown_key_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let keys = server_keys(&app, "urn:izreg:api");
    let t = now();
    let expired = keys
        .sign(&AccessClaims {
            iat: t - 900,
            iat_us: (t - 900) * 1_000_000,
            nbf: t - 900,
            exp: t - 600,
            ..clinician_claims(&app)
        })
        .unwrap();
    assert_unauthenticated(&read_patients_with(&app, &expired).await, "expired");
    let early =
        keys.sign(&AccessClaims { iat: t + 600, nbf: t + 600, exp: t + 900, ..clinician_claims(&app) }).unwrap();
    assert_unauthenticated(&read_patients_with(&app, &early).await, "not valid yet");
    let elsewhere = server_keys(&app, "https://other.example/fhir")
        .sign(&AccessClaims { aud: "https://other.example/fhir".to_owned(), ..clinician_claims(&app) })
        .unwrap();
    assert_unauthenticated(&read_patients_with(&app, &elsewhere).await, "another audience");
    let stranger = TokenKeys::new(&[izreg::auth::token::generate_es256_key(0).unwrap()], "urn:izreg", "urn:izreg:api")
        .unwrap()
        .sign(&clinician_claims(&app))
        .unwrap();
    assert_unauthenticated(&read_patients_with(&app, &stranger).await, "unknown key");
    // The same claims signed by the server itself are accepted: the refusals above are about
    // exactly the one thing each token got wrong.
    read_patients_with(&app, &keys.sign(&clinician_claims(&app)).unwrap()).await.assert_status(200);
    assert!(denied_events(&app).len() >= 4);
}

#[actix_web::test]
async fn a_logged_out_token_stops_working_at_once() {
    let app = TestApp::spawn().await;
    read_patients_with(&app, &app.clinician.token).await.assert_status(200);
    app.send(TestRequest::post().uri("/auth/logout")).await.assert_status(204);
    assert_unauthenticated(&read_patients_with(&app, &app.clinician.token).await, "revoked");
    let events = denied_events(&app);
    assert!(events.iter().any(|e| e.agent_id.as_deref() == Some(app.clinician.user_id.as_str())
        && e.status == 401
        && e.detail.as_deref().unwrap_or_default().contains("revoked")));
}

#[actix_web::test]
async fn a_deactivated_users_token_stops_working_on_the_next_request() {
    let app = TestApp::spawn().await;
    let nurse = app.add_user(&app.clinician.organization_id, "nurse", Role::Clinician);
    read_patients_with(&app, &nurse.token).await.assert_status(200);
    app.send_as(&app.state, TestRequest::post().uri(&format!("/api/v1/users/{}/deactivate", nurse.user_id)))
        .await
        .assert_status(200);
    assert_unauthenticated(&read_patients_with(&app, &nurse.token).await, "deactivated");
    let events = denied_events(&app);
    assert!(events.iter().any(|e| e.agent_id.as_deref() == Some(nurse.user_id.as_str())));
}

#[actix_web::test]
async fn an_expired_agreement_stops_existing_tokens_with_403_saying_since_when() {
    let app = TestApp::spawn().await;
    let pharmacy = app.enrol("Corner Pharmacy", OrganizationKind::Pharmacy, Role::Clinician);
    read_patients_with(&app, &pharmacy.token).await.assert_status(200);
    // The term ended yesterday (as if three years had passed).
    let yesterday = izreg::domain::agreement::today().previous_day().unwrap();
    let org = pharmacy.organization_id.clone();
    app.execute_sql(format!(
        "UPDATE agreement SET starts_on = '2023-01-01', ends_on = '{}' WHERE organization_id = '{org}'",
        izreg::domain::agreement::format_date(yesterday)
    ));
    // Standing is cached for a couple of seconds; a date passing is not an in-process change.
    app.registry.sessions().forget_standing();
    let response = read_patients_with(&app, &pharmacy.token).await;
    response.assert_status(403);
    let diagnostics = response.json()["issue"][0]["diagnostics"].as_str().unwrap().to_owned();
    let today = izreg::domain::agreement::format_date(izreg::domain::agreement::today());
    assert!(diagnostics.contains("not active") && diagnostics.contains(&today), "{diagnostics}");
    // And no new token is issued.
    let login = app
        .send_anonymous(
            TestRequest::post()
                .uri("/auth/token")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!(
                    "grant_type=password&organization={}&username={}&password={}",
                    pharmacy.organization_id,
                    pharmacy.username,
                    common::PASSWORD
                )),
        )
        .await;
    login.assert_status(400);
    assert_eq!(login.json()["error"], "invalid_grant");
    assert!(
        denied_events(&app).iter().any(|e| e.status == 403 && e.organization_id.as_deref() == Some(org_of(&pharmacy)))
    );
}

fn org_of(actor: &Actor) -> &str {
    &actor.organization_id
}

#[actix_web::test]
async fn a_school_reads_but_never_writes_whatever_it_asks_for() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Olsen", "Ida", "2018-02-03")).await;
    let school = app.enrol("Lincoln Elementary", OrganizationKind::School, Role::ReadOnly);
    app.send_as(&school, TestRequest::get().uri(&format!("/fhir/Patient/{patient_id}"))).await.assert_status(200);
    let create = app
        .send_as(
            &school,
            TestRequest::post()
                .uri("/fhir/Patient")
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(patient("New", "Kid", "2019-01-01").to_string()),
        )
        .await;
    create.assert_status(403);
    assert_eq!(create.first_issue().0, "forbidden");
    // Asking for write scopes at login does not help: the role caps them.
    let token = common::login(&app.registry, &school.organization_id, &school.username);
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let scope = claims["scope"].as_str().unwrap();
    assert!(scope.split(' ').all(|s| s.ends_with(".rs")), "read-only scopes only: {scope}");
    let grant =
        common::login_with_scope(&app.registry, &school.organization_id, &school.username, Some("user/Patient.cruds"));
    assert_eq!(grant.scope, "user/Patient.rs");
    let events = denied_events(&app);
    assert!(
        events.iter().any(|e| e.status == 403 && e.action == "create" && e.resource_type.as_deref() == Some("Patient"))
    );
}

#[actix_web::test]
async fn a_token_without_the_scope_is_refused_per_interaction_and_per_include() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Berg", "Ola", "2017-05-06")).await;
    app.create_immunization(&immunization(&patient_id, "08", "2017-05-07")).await;
    let narrow = common::login_with_scope(
        &app.registry,
        &app.clinician.organization_id,
        &app.clinician.username,
        Some("user/Immunization.rs"),
    );
    let as_narrow = |uri: String| common::with_bearer(TestRequest::get().uri(&uri), &narrow.access_token);
    app.send_anonymous(as_narrow(format!("/fhir/Immunization?patient={patient_id}"))).await.assert_status(200);
    app.send_anonymous(as_narrow(format!("/fhir/Patient/{patient_id}"))).await.assert_status(403);
    let include = app
        .send_anonymous(as_narrow(format!("/fhir/Immunization?patient={patient_id}&_include=Immunization:patient")))
        .await;
    include.assert_status(403);
    assert!(include.json()["issue"][0]["diagnostics"].as_str().unwrap().contains("Patient"));
    let write = app
        .send_anonymous(
            common::with_bearer(TestRequest::post().uri("/fhir/Immunization"), &narrow.access_token)
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(immunization(&patient_id, "20", "2017-07-07").to_string()),
        )
        .await;
    write.assert_status(403);
    let denied: Vec<(String, Option<String>)> =
        denied_events(&app).into_iter().map(|e| (e.action, e.resource_type)).collect();
    // The refused include is recorded on the search that asked for it.
    for (action, resource_type) in [("read", "Patient"), ("search", "Immunization"), ("create", "Immunization")] {
        assert!(
            denied.contains(&(action.to_owned(), Some(resource_type.to_owned()))),
            "no denied {action} of {resource_type} in {denied:?}"
        );
    }
}

#[actix_web::test]
async fn organizations_share_records_but_change_only_their_own() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Dahl", "Siri", "2016-04-05")).await;
    let imm_id = app.create_immunization(&immunization(&patient_id, "08", "2016-04-06")).await;
    let other = app.enrol("Other Clinic", OrganizationKind::Provider, Role::Clinician);
    // The registry's purpose: another provider sees the record.
    app.send_as(&other, TestRequest::get().uri(&format!("/fhir/Immunization/{imm_id}"))).await.assert_status(200);
    let found = app.send_as(&other, TestRequest::get().uri(&format!("/fhir/Immunization?patient={patient_id}"))).await;
    assert_eq!(found.json()["entry"].as_array().unwrap().len(), 1);
    // But it cannot change or delete what the first clinic submitted, and learns nothing.
    let mut changed = immunization(&patient_id, "08", "2016-04-07");
    changed["id"] = json!(imm_id);
    let update = app
        .send_as(
            &other,
            TestRequest::put()
                .uri(&format!("/fhir/Immunization/{imm_id}"))
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(changed.to_string()),
        )
        .await;
    update.assert_status(404);
    let missing = app
        .send_as(
            &other,
            TestRequest::put()
                .uri("/fhir/Immunization/no-such-id")
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(json!({"id": "no-such-id"}).to_string()),
        )
        .await;
    assert_eq!(update.first_issue().0, "not-found");
    assert!(missing.status.as_u16() == 400 || missing.status.as_u16() == 404);
    app.send_as(&other, TestRequest::delete().uri(&format!("/fhir/Immunization/{imm_id}"))).await.assert_status(404);
    app.send_as(&other, TestRequest::delete().uri(&format!("/fhir/Patient/{patient_id}"))).await.assert_status(404);
    let denied: Vec<String> = denied_events(&app)
        .into_iter()
        .filter(|e| e.agent_id.as_deref() == Some(other.user_id.as_str()) && e.status == 404)
        .map(|e| e.action)
        .collect();
    assert!(denied.contains(&"update".to_owned()) && denied.contains(&"delete".to_owned()), "{denied:?}");
    let stored = app.get(&format!("/fhir/Immunization/{imm_id}")).await;
    assert_eq!(stored.json()["meta"]["versionId"], "1");
    assert_eq!(stored.json()["occurrenceDateTime"], "2016-04-06");
    // State staff may correct any record.
    let fixed = app
        .send_as(
            &app.state,
            TestRequest::put()
                .uri(&format!("/fhir/Immunization/{imm_id}"))
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(changed.to_string()),
        )
        .await;
    fixed.assert_status(200);
}

#[actix_web::test]
async fn a_transaction_touching_another_organizations_record_stores_nothing() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Lund", "Per", "2015-03-04")).await;
    let imm_id = app.create_immunization(&immunization(&patient_id, "08", "2015-03-05")).await;
    let other = app.enrol("Third Clinic", OrganizationKind::Provider, Role::Clinician);
    let mut changed = immunization(&patient_id, "08", "2015-03-06");
    changed["id"] = json!(imm_id);
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1b2c3d4e-0000-4000-8000-000000000001", "resource": patient("Fresh", "Entry", "2020-01-01"),
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": changed, "request": {"method": "PUT", "url": format!("Immunization/{imm_id}")}},
    ]});
    let response = app
        .send_as(
            &other,
            TestRequest::post()
                .uri("/fhir")
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(bundle.to_string()),
        )
        .await;
    response.assert_status(404);
    let found = app.get("/fhir/Patient?family=Fresh&_summary=count").await;
    assert_eq!(found.json()["total"], 0, "nothing of the transaction was stored");
    assert!(
        denied_events(&app)
            .iter()
            .any(|e| e.action == "transaction" && e.agent_id.as_deref() == Some(other.user_id.as_str()))
    );
    // A read-only organization's batch: reads run, writes are refused entry by entry.
    let school = app.enrol("Washington Middle", OrganizationKind::School, Role::ReadOnly);
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Patient/{patient_id}")}},
        {"resource": patient("Batch", "Write", "2020-01-01"), "request": {"method": "POST", "url": "Patient"}},
    ]});
    let response = app
        .send_as(
            &school,
            TestRequest::post()
                .uri("/fhir")
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(batch.to_string()),
        )
        .await;
    response.assert_status(200);
    let entries = response.json()["entry"].as_array().unwrap().clone();
    assert!(entries[0]["response"]["status"].as_str().unwrap().starts_with("200"));
    assert!(entries[1]["response"]["status"].as_str().unwrap().starts_with("403"));
}

#[actix_web::test]
async fn submitted_records_are_stamped_with_the_organization_and_facility_and_audited() {
    let app = TestApp::spawn().await;
    let patient_id = app.create_patient(&patient("Strand", "Eva", "2014-01-02")).await;
    let imm_id = app.create_immunization(&immunization(&patient_id, "08", "2014-01-03")).await;
    let owner = app.registry.database().read(|conn| izreg::store::immunization::owner(conn, &imm_id)).unwrap();
    assert_eq!(owner.as_deref(), Some(app.clinician.organization_id.as_str()));
    app.get(&format!("/fhir/Immunization/{imm_id}")).await.assert_status(200);
    app.flush_audit();
    let filter = AuditFilter { patient_id: Some(patient_id.clone()), ..AuditFilter::default() };
    let events = app.registry.database().read(|conn| izreg::store::audit::search(conn, &filter, 100)).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"create") && actions.contains(&"read"), "{actions:?}");
    let read = events.iter().find(|e| e.action == "read").unwrap();
    assert_eq!(read.agent_id.as_deref(), Some(app.clinician.user_id.as_str()));
    assert_eq!(read.facility_id, app.clinician.facility_id);
    assert!(read.token_id.is_some());
    assert_eq!(read.resource_ids, imm_id);
    let report = app.registry.database().read(izreg::service::audit::verify_chain).unwrap();
    assert_eq!(report.first_broken, None);
}

/// A registered EHR with an ES384 key, as SMART Backend Services describes.
struct Ehr {
    client_id: String,
    key: jsonwebtoken::EncodingKey,
}

async fn register_ehr(app: &TestApp) -> Ehr {
    use p384::elliptic_curve::sec1::ToEncodedPoint;
    use p384::pkcs8::EncodePrivateKey;
    let secret = loop {
        let bytes: [u8; 48] = rand::random();
        if let Ok(secret) = p384::SecretKey::from_slice(&bytes) {
            break secret;
        }
    };
    let point = secret.public_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-384", "kid": "ehr-1", "alg": "ES384",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())});
    let der = secret.to_pkcs8_der().unwrap();
    let response = app
        .send_as(
            &app.state,
            TestRequest::post()
                .uri(&format!("/api/v1/organizations/{}/clients", app.clinician.organization_id))
                .insert_header(("content-type", "application/json"))
                .set_payload(
                    json!({"name": "Clinic EHR", "role": "clinician", "allowedScopes": "system/Patient.rs system/Immunization.cruds", "jwks": {"keys": [jwk]}})
                        .to_string(),
                ),
        )
        .await;
    response.assert_status(201);
    Ehr {
        client_id: response.json()["clientId"].as_str().unwrap().to_owned(),
        key: jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
    }
}

fn assertion(ehr: &Ehr, jti: &str, lifetime: i64) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.kid = Some("ehr-1".to_owned());
    let t = now();
    let claims = json!({"iss": ehr.client_id, "sub": ehr.client_id, "aud": "http://izreg.test/auth/token",
        "jti": jti, "iat": t, "exp": t + lifetime});
    jsonwebtoken::encode(&header, &claims, &ehr.key).unwrap()
}

async fn client_token(app: &TestApp, assertion: &str, scope: &str) -> common::TestResponse {
    app.send_anonymous(
        TestRequest::post()
            .uri("/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "client_credentials")
                    .append_pair("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                    .append_pair("client_assertion", assertion)
                    .append_pair("scope", scope)
                    .finish(),
            ),
    )
    .await
}

#[actix_web::test]
async fn a_registered_system_gets_a_short_token_once_per_assertion() {
    let app = TestApp::spawn().await;
    let ehr = register_ehr(&app).await;
    let signed = assertion(&ehr, "jti-1", 240);
    let first = client_token(&app, &signed, "system/Patient.cruds system/Immunization.rs").await;
    first.assert_status(200);
    let body = first.json();
    assert!(body["expires_in"].as_i64().unwrap() <= 300);
    // Only what was pre-authorized is granted.
    assert_eq!(body["scope"], "system/Patient.rs system/Immunization.rs");
    let token = body["access_token"].as_str().unwrap().to_owned();
    read_patients_with(&app, &token).await.assert_status(200);
    let replay = client_token(&app, &signed, "system/Patient.rs").await;
    replay.assert_status(401);
    assert_eq!(replay.json()["error"], "invalid_client");
    assert!(replay.json()["error_description"].as_str().unwrap().contains("replay"));
    let long = client_token(&app, &assertion(&ehr, "jti-2", 3600), "system/Patient.rs").await;
    long.assert_status(401);
    assert!(long.json()["error_description"].as_str().unwrap().contains("five minutes"));
    assert!(denied_events(&app).iter().any(|e| e.agent_id.as_deref() == Some(ehr.client_id.as_str())));
}

#[actix_web::test]
async fn schools_and_child_care_only_get_read_only_users() {
    let app = TestApp::spawn().await;
    let school = app.enrol("Roosevelt High", OrganizationKind::School, Role::ReadOnly);
    let response = app
        .send_as(
            &app.state,
            TestRequest::post()
                .uri(&format!("/api/v1/organizations/{}/users", school.organization_id))
                .insert_header(("content-type", "application/json"))
                .set_payload(
                    json!({"username": "school.nurse", "displayName": "Nurse", "role": "clinician", "password": common::PASSWORD})
                        .to_string(),
                ),
        )
        .await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), ("invalid".to_owned(), Some("role".to_owned())));
}
