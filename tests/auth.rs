//! Tokens and accounts over time: key rotation, self-service password reset, expired
//! passwords, and delivery of agreement reminders.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{PASSWORD, TestApp};
use serde_json::json;

async fn login_response(app: &TestApp, organization: &str, username: &str, password: &str) -> common::TestResponse {
    app.send_anonymous(
        TestRequest::post()
            .uri("/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "password")
                    .append_pair("organization", organization)
                    .append_pair("username", username)
                    .append_pair("password", password)
                    .finish(),
            ),
    )
    .await
}

#[actix_web::test]
async fn a_rotated_key_signs_new_tokens_while_old_tokens_keep_working() {
    let app = TestApp::spawn().await;
    let old_token = app.clinician.token.clone();
    let new_kid = izreg::service::session::rotate_signing_key(app.registry.database()).unwrap();
    // Another instance (or the CLI) rotated: this server learns the new key when it first sees
    // a token signed with it, or within a minute when it signs.
    app.registry.sessions().reload_keys(app.registry.database()).unwrap();
    let jwks: serde_json::Value = serde_json::from_str(&app.registry.sessions().jwks_json()).unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2, "the retired key stays published until its tokens expire: {kids:?}");
    assert!(kids.contains(&new_kid.as_str()));
    let fresh = login_response(&app, &app.clinician.organization_id, &app.clinician.username, PASSWORD).await;
    fresh.assert_status(200);
    let token = fresh.json()["access_token"].as_str().unwrap().to_owned();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    for token in [old_token, token] {
        app.send_anonymous(
            TestRequest::get().uri("/fhir/Patient").insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
        .assert_status(200);
    }
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_with_the_security_answers() {
    let app = TestApp::spawn().await;
    let questions = json!({"questions": [
        {"question": "First school?", "answer": "Lincoln Elementary"},
        {"question": "Favourite lake?", "answer": "Lake Harriet"},
        {"question": "First pet?", "answer": "Biscuit the dog"},
    ]});
    app.send(
        TestRequest::put()
            .uri("/api/v1/me/security-questions")
            .insert_header(("content-type", "application/json"))
            .set_payload(questions.to_string()),
    )
    .await
    .assert_status(204);
    let reset = |answers: serde_json::Value, new_password: &str| {
        TestRequest::post().uri("/auth/password-reset").insert_header(("content-type", "application/json")).set_payload(
            json!({"organization": app.clinician.organization_id, "username": app.clinician.username,
                   "answers": answers, "newPassword": new_password})
            .to_string(),
        )
    };
    let wrong =
        app.send_anonymous(reset(json!(["lake harriet", "nope", "biscuit the dog"]), "Brand-New-Pass-42")).await;
    wrong.assert_status(400);
    // Any order, any case, extra spaces ignored.
    app.send_anonymous(reset(
        json!(["  LAKE harriet", "biscuit   the dog", "lincoln elementary"]),
        "Brand-New-Pass-42",
    ))
    .await
    .assert_status(204);
    login_response(&app, &app.clinician.organization_id, &app.clinician.username, PASSWORD).await.assert_status(400);
    login_response(&app, &app.clinician.organization_id, &app.clinician.username, "Brand-New-Pass-42")
        .await
        .assert_status(200);
    // An account without questions cannot be reset this way.
    let state = app
        .send_anonymous(
            TestRequest::post()
                .uri("/auth/password-reset")
                .insert_header(("content-type", "application/json"))
                .set_payload(
                    json!({"organization": app.state.organization_id, "username": "state.admin",
                       "answers": ["a1234", "b1234", "c1234"], "newPassword": "Brand-New-Pass-42"})
                    .to_string(),
                ),
        )
        .await;
    state.assert_status(400);
}

#[actix_web::test]
async fn an_expired_password_only_allows_a_password_change() {
    let app = TestApp::spawn().await;
    let user_id = app.clinician.user_id.clone();
    let long_ago = izreg::domain::time::Timestamp::now().micros() - 61 * 86_400_000_000;
    app.execute_sql(format!("UPDATE app_user SET password_changed_at = {long_ago} WHERE id = '{user_id}'"));
    let refused = login_response(&app, &app.clinician.organization_id, &app.clinician.username, PASSWORD).await;
    refused.assert_status(400);
    assert!(refused.json()["error_description"].as_str().unwrap().contains("expired"));
    app.send_anonymous(
        TestRequest::post().uri("/auth/password").insert_header(("content-type", "application/json")).set_payload(
            json!({"organization": app.clinician.organization_id, "username": app.clinician.username,
                   "currentPassword": PASSWORD, "newPassword": "Renewed-Pass-2027"})
            .to_string(),
        ),
    )
    .await
    .assert_status(204);
    login_response(&app, &app.clinician.organization_id, &app.clinician.username, "Renewed-Pass-2027")
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn queued_reminders_are_delivered_once_by_the_configured_sender() {
    let app = TestApp::spawn().await;
    // The test clinic's agreement was signed today: it ends in three years, so backdate its
    // term to end in five days.
    let organization = app.clinician.organization_id.clone();
    let ends = izreg::domain::agreement::today() + time::Duration::days(5);
    app.execute_sql(format!(
        "UPDATE agreement SET ends_on = '{}' WHERE organization_id = '{organization}'",
        izreg::domain::agreement::format_date(ends)
    ));
    let today = izreg::domain::agreement::today();
    assert_eq!(izreg::service::agreement::queue_expiry_notices(&app.registry, today).unwrap(), 1);
    let settings = izreg::notify::NoticeSettings::default();
    let report = izreg::service::agreement::deliver_notices(&app.registry, &settings).unwrap();
    assert_eq!((report.sent, report.failed), (1, 0));
    let again = izreg::service::agreement::deliver_notices(&app.registry, &settings).unwrap();
    assert_eq!((again.sent, again.failed), (0, 0), "a delivered notice is not sent twice");
    // An unreachable relay leaves the notice queued, with the error recorded.
    assert_eq!(izreg::service::agreement::queue_expiry_notices(&app.registry, today).unwrap(), 0);
    let organization = app.clinician.organization_id.clone();
    app.execute_sql(format!(
        "UPDATE agreement_notice SET sent_at = NULL WHERE agreement_id IN (SELECT id FROM agreement WHERE organization_id = '{organization}')"
    ));
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let smtp = izreg::notify::NoticeSettings {
        sender: izreg::notify::SenderKind::Smtp,
        smtp_port: closed_port,
        ..izreg::notify::NoticeSettings::default()
    };
    let failed = izreg::service::agreement::deliver_notices(&app.registry, &smtp).unwrap();
    assert_eq!((failed.sent, failed.failed), (0, 1));
    let unsent = app.registry.database().read(|conn| izreg::store::identity::unsent_notices(conn, 10)).unwrap();
    assert_eq!(unsent.len(), 1);
    assert!(unsent[0].last_error.as_deref().unwrap().contains("unreachable"));
    assert_eq!(unsent[0].days_before, 7);
}

#[actix_web::test]
async fn the_password_change_endpoint_counts_wrong_passwords_toward_the_lockout() {
    let app = TestApp::spawn().await;
    let change = |current: &str| {
        TestRequest::post().uri("/auth/password").insert_header(("content-type", "application/json")).set_payload(
            json!({"organization": app.clinician.organization_id, "username": app.clinician.username,
                   "currentPassword": current, "newPassword": "Another-Pass-2027"})
            .to_string(),
        )
    };
    for _ in 0..5 {
        app.send_anonymous(change("Wrong-Guess-0000")).await.assert_status(400);
    }
    // Locked now: even the right password is refused, here and at login.
    let locked = app.send_anonymous(change(PASSWORD)).await;
    locked.assert_status(400);
    assert!(locked.json()["issue"][0]["diagnostics"].as_str().unwrap().contains("locked"));
    let login = login_response(&app, &app.clinician.organization_id, &app.clinician.username, PASSWORD).await;
    login.assert_status(400);
    assert!(login.json()["error_description"].as_str().unwrap().contains("locked"));
}
