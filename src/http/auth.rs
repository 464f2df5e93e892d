//! Authentication over HTTP: the `Caller` extractor every protected handler takes, the token
//! endpoint (password and SMART Backend Services client credentials), logout, password change,
//! the JWKS and the SMART configuration.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::fhir_io::fhir_base;
use super::schema;
use crate::domain::access::Principal;
use crate::service::session::{self, ClientCredentials, PasswordLogin, TokenGrant};
use crate::service::{Registry, ServiceError};

/// Largest token request body read.
const MAX_TOKEN_REQUEST_BYTES: usize = 16 * 1024;
/// The assertion type SMART Backend Services uses.
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The authenticated caller of a request (from `Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub struct Caller(pub std::sync::Arc<Principal>);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credentials.trim().to_owned()).filter(|t| !t.is_empty())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let registry = req.app_data::<web::Data<Registry>>().cloned();
        let presented = bearer(req);
        // The route pattern (ids replaced by placeholders) names the attempt in the audit trail.
        // Computed only for a refusal (an HttpRequest clone is a reference count).
        let request = req.clone();
        let action = move || {
            format!("{} {}", request.method(), request.match_pattern().unwrap_or_else(|| request.path().to_owned()))
        };
        Box::pin(async move {
            let Some(registry) = registry else {
                return Err(ApiError::http(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    crate::fhir::outcome::IssueType::Exception,
                    "The registry is not available.",
                ));
            };
            // Cached standing: no database, no hop to the blocking pool.
            if let Some(result) = session::authenticate_cached(&registry, presented.as_deref(), &action) {
                return result.map(Caller).map_err(ApiError::from);
            }
            // The holder's standing must be read from the database: off the async thread.
            let action = action();
            let principal =
                web::block(move || session::authenticate(&registry, presented.as_deref(), &|| action.clone()))
                    .await??;
            Ok(Caller(principal))
        })
    }
}

/// A token endpoint request (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `password` (users) or `client_credentials` (registered systems).
    #[schema(example = "password")]
    pub grant_type: String,
    /// password grant: the organization's id.
    pub organization: Option<String>,
    /// password grant: the username.
    pub username: Option<String>,
    /// password grant: the password.
    pub password: Option<String>,
    /// client_credentials: `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    pub client_assertion_type: Option<String>,
    /// client_credentials: the signed assertion (RS384 or ES384, at most 5 minutes).
    pub client_assertion: Option<String>,
    /// Requested SMART scopes (space-separated); the most the role allows when absent.
    #[schema(example = "user/Patient.rs user/Immunization.rs")]
    pub scope: Option<String>,
}

/// An issued access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The JWT (ES256).
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The scopes granted.
    pub scope: String,
}

/// An OAuth2 error (RFC 6749 section 5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope` or `unsupported_grant_type`.
    pub error: String,
    /// What went wrong, in plain words.
    pub error_description: String,
}

fn oauth_response(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"izreg\"")));
    }
    response.json(OAuthError { error: error.to_owned(), error_description: description.to_owned() })
}

fn token_response(grant: TokenGrant) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(TokenResponse {
            access_token: grant.access_token,
            token_type: "Bearer",
            expires_in: grant.expires_in,
            scope: grant.scope,
        })
}

fn service_error_response(error: &ServiceError) -> HttpResponse {
    match error {
        ServiceError::OAuth { status, error, description } => {
            oauth_response(StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST), error, description)
        }
        other => {
            if other.is_internal() {
                tracing::error!(error = ?other, "token request failed");
            }
            let (status, _) = other.status_and_issues();
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_server_error() {
                oauth_response(status, "server_error", "The registry could not issue a token; retry shortly.")
            } else {
                oauth_response(status, "invalid_request", &other.to_string())
            }
        }
    }
}

/// The token URL (a client assertion's required audience).
fn token_url(req: &HttpRequest) -> String {
    let base = fhir_base(req);
    format!("{}/auth/token", base.strip_suffix("/fhir").unwrap_or(&base))
}

/// Issues an access token: `password` for users (organization, username, password) or
/// `client_credentials` with a `private_key_jwt` client assertion for registered systems.
/// Errors are OAuth2 error bodies.
#[utoipa::path(
    post, path = "/auth/token", tag = "Auth", operation_id = "token",
    security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token.", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant (wrong credentials, locked or deactivated account, expired password, no active data use agreement), invalid_scope or unsupported_grant_type.", body = OAuthError),
        (status = 401, description = "invalid_client: the client assertion is invalid, expired, too long-lived or replayed.", body = OAuthError),
    )
)]
#[post("/auth/token")]
pub async fn token(registry: web::Data<Registry>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if body.len() > MAX_TOKEN_REQUEST_BYTES {
        return oauth_response(StatusCode::BAD_REQUEST, "invalid_request", "The request is too large.");
    }
    let media = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !media.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return oauth_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the token request as application/x-www-form-urlencoded.",
        );
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    for (name, value) in form_urlencoded::parse(&body) {
        if fields.insert(name.to_string(), value.into_owned()).is_some() {
            return oauth_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("The parameter {name} is repeated."),
            );
        }
    }
    let field = |name: &str| fields.get(name).cloned();
    let result = match field("grant_type").as_deref() {
        Some("password") => {
            let login = PasswordLogin {
                organization: field("organization").unwrap_or_default(),
                username: field("username").unwrap_or_default(),
                password: field("password").unwrap_or_default(),
                scope: field("scope"),
            };
            web::block(move || session::login(&registry, login)).await
        }
        Some("client_credentials") => {
            if field("client_assertion_type").as_deref() != Some(JWT_BEARER_ASSERTION) {
                return oauth_response(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
                );
            }
            let Some(assertion) = field("client_assertion") else {
                return oauth_response(StatusCode::BAD_REQUEST, "invalid_request", "client_assertion is required.");
            };
            let request = ClientCredentials { assertion, scope: field("scope"), token_url: token_url(&req) };
            web::block(move || session::login_client(&registry, request)).await
        }
        Some(_) => {
            return oauth_response(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be password or client_credentials.",
            );
        }
        None => return oauth_response(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required."),
    };
    match result {
        Ok(Ok(grant)) => token_response(grant),
        Ok(Err(error)) => service_error_response(&error),
        Err(_) => {
            oauth_response(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "The server is shutting down.")
        }
    }
}

/// Revokes the token used for this request (logout). It stops working at once.
#[utoipa::path(
    post, path = "/auth/logout", tag = "Auth", operation_id = "logout",
    responses(
        (status = 204, description = "Logged out."),
        (status = 401, description = "No valid token.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(registry: web::Data<Registry>, caller: Caller) -> Result<HttpResponse, ApiError> {
    web::block(move || session::logout(&registry, &caller.0)).await??;
    Ok(HttpResponse::NoContent().finish())
}

/// A password change with the current password (the way out of an expired password).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordChange {
    /// The organization's id.
    pub organization: String,
    /// The username.
    pub username: String,
    /// The current password.
    pub current_password: String,
    /// The new password (see the password policy).
    pub new_password: String,
}

/// Changes a password with the current one; needs no token, so it works after the password
/// expired (when login refuses).
#[utoipa::path(
    post, path = "/auth/password", tag = "Auth", operation_id = "changeExpiredPassword",
    security(()),
    request_body(content = PasswordChange, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed; log in with the new password."),
        (status = 400, description = "Wrong credentials (OAuth invalid_grant), or the new password breaks the policy (OperationOutcome listing each rule).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    registry: web::Data<Registry>,
    body: super::admin::JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let change = body.0;
    web::block(move || {
        session::change_password(
            &registry,
            &change.organization,
            &change.username,
            &change.current_password,
            &change.new_password,
        )
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// The public keys that verify the server's tokens (old keys stay until their tokens expire).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "Auth", operation_id = "jwks",
    security(()),
    responses((status = 200, description = "A JWK Set.", body = schema::Jwks))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(registry: web::Data<Registry>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .body(registry.sessions().jwks_json())
}

/// SMART on FHIR configuration (discovery of the token endpoint and what it supports).
#[utoipa::path(
    get, path = "/.well-known/smart-configuration", tag = "Auth", operation_id = "smartConfiguration",
    security(()),
    responses((status = 200, description = "SMART configuration.", body = schema::SmartConfiguration))
)]
#[get("/.well-known/smart-configuration")]
pub async fn smart_configuration(req: HttpRequest) -> HttpResponse {
    let base = fhir_base(&req);
    let root = base.strip_suffix("/fhir").unwrap_or(&base).to_owned();
    HttpResponse::Ok().json(serde_json::json!({
        "issuer": root,
        "jwks_uri": format!("{root}/.well-known/jwks.json"),
        "token_endpoint": format!("{root}/auth/token"),
        "revocation_endpoint": format!("{root}/auth/logout"),
        "grant_types_supported": ["client_credentials", "password"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": ["system/*.cruds", "user/*.cruds", "user/Patient.rs", "user/Immunization.cruds", "system/Patient.rs", "system/Immunization.cruds"],
        "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1"],
        "code_challenge_methods_supported": []
    }))
}

/// A self-service password reset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordReset {
    /// The organization's id.
    pub organization: String,
    /// The username.
    pub username: String,
    /// The answers to the three security questions (any order; case and extra spaces ignored).
    #[schema(min_items = 3, max_items = 3)]
    pub answers: Vec<String>,
    /// The new password (see the password policy).
    pub new_password: String,
}

/// Resets a forgotten password with the answers to the account's security questions. Wrong
/// answers count as failed logins (five lock the account).
#[utoipa::path(
    post, path = "/auth/password-reset", tag = "Auth", operation_id = "resetPassword",
    security(()),
    request_body(content = PasswordReset, content_type = "application/json"),
    responses(
        (status = 204, description = "Reset; log in with the new password."),
        (status = 400, description = "Unknown account, wrong answers or locked account (OAuth invalid_grant), or the new password breaks the policy (OperationOutcome listing each rule).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/auth/password-reset")]
pub async fn reset_password(
    registry: web::Data<Registry>,
    body: super::admin::JsonBody<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let reset = body.0;
    if reset.answers.len() > 10 || reset.answers.iter().any(|a| a.chars().count() > 200) {
        return Err(ApiError::http(
            StatusCode::BAD_REQUEST,
            crate::fhir::outcome::IssueType::Invalid,
            "Give the three answers.",
        ));
    }
    web::block(move || {
        session::reset_password_with_answers(
            &registry,
            &reset.organization,
            &reset.username,
            &reset.answers,
            &reset.new_password,
        )
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}
