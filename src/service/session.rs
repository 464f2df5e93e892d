//! Logins, tokens and the standing of their holders.
//!
//! A token's signature is verified once and the caller it stands for cached (keyed by the token)
//! until it expires (bounded). What can change under a live token (the account deactivated, the token
//! revoked, the agreement no longer active) is re-checked from the database at most every
//! `status_cache_seconds`, and immediately after such a change made through this server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::audit::{AuditOutcome, AuditRecord};
use super::{Registry, ServiceError, access, agreement};
use crate::auth::password::{self, PasswordPolicy};
use crate::auth::token::{self, AccessClaims, StoredSigningKey, TokenError, TokenKeys};
use crate::domain::access::{AgentKind, Principal, Role};
use crate::domain::scope::Scopes;
use crate::domain::time::Timestamp;
use crate::store::identity::{self, UserRow};
use crate::store::token::{self as token_store, SigningKeyRow};
use crate::store::{Database, DbConnection, StoreError};

/// Verified tokens kept at most (then the cache is emptied and refilled).
const MAX_CACHED_TOKENS: usize = 20_000;
/// Longest accepted password or username (untrusted input).
const MAX_CREDENTIAL_CHARS: usize = 256;

/// How tokens are issued and checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `iss` of issued tokens.
    pub issuer: String,
    /// `aud` of issued tokens.
    pub audience: String,
    /// Lifetime of a user's token, in minutes.
    pub user_token_minutes: u32,
    /// Lifetime of a system's token, in minutes (at most 5).
    pub system_token_minutes: u32,
    /// How long a token holder's standing (active, not revoked, agreement) may be cached.
    pub status_cache_seconds: u32,
    /// A PKCS#8 PEM file with the P-256 key to sign with; when absent the server makes one at
    /// first start and keeps it in the database.
    pub signing_key_file: Option<String>,
    /// The password policy.
    pub password: PasswordPolicy,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            issuer: "urn:izreg".to_owned(),
            audience: "urn:izreg:api".to_owned(),
            user_token_minutes: 15,
            system_token_minutes: 5,
            status_cache_seconds: 2,
            signing_key_file: None,
            password: PasswordPolicy::default(),
        }
    }
}

/// A token handed out by `/auth/token`.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// The JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// What it grants.
    pub scope: String,
}

/// Why a token holder may not go on, as cached.
#[derive(Debug, Clone)]
enum Standing {
    Good,
    Refused(Refusal),
}

#[derive(Debug, Clone)]
enum Refusal {
    Unauthenticated(String),
    Forbidden(String),
}

impl Refusal {
    fn to_error(&self) -> ServiceError {
        match self {
            Refusal::Unauthenticated(message) => ServiceError::Unauthenticated(message.clone()),
            Refusal::Forbidden(message) => ServiceError::Forbidden(message.clone()),
        }
    }
}

/// How long signing keys are used before they are re-read (another instance, or
/// `izreg keys rotate`, may have rotated them).
const KEYS_MAX_AGE: Duration = Duration::from_secs(60);
/// Least time between re-reads caused by tokens with an unknown key id (bounds what a flood of
/// forged tokens can cost).
const KEYS_MIN_RELOAD: Duration = Duration::from_secs(5);

/// Token keys and caches.
pub struct Sessions {
    keys: std::sync::RwLock<(Arc<TokenKeys>, Instant)>,
    settings: AuthSettings,
    // Keyed by the token text itself: an exact match, so no hash collision can stand in for a
    // verified signature. foldhash (seeded per process) rather than SipHash: both are looked up
    // on every request, and only tokens whose signature was verified are ever inserted, so a
    // caller cannot fill a map with colliding keys.
    verified: Mutex<HashMap<Box<str>, Arc<Principal>, foldhash::fast::RandomState>>,
    standing: Mutex<HashMap<String, (Instant, Standing), foldhash::fast::RandomState>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions {
    /// Loads (or, on first start, makes) the signing keys.
    pub fn start(database: &Database, settings: &AuthSettings) -> Result<Self, ServiceError> {
        token::install_crypto_provider();
        let configured = match &settings.signing_key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path).map_err(|e| {
                    ServiceError::Configuration(format!("cannot read the signing key file {path}: {e}"))
                })?;
                Some(
                    token::es256_key_from_pem(&pem, Timestamp::now().micros())
                        .map_err(|e| ServiceError::Configuration(e.to_string()))?,
                )
            }
            None => None,
        };
        let longest_token = i64::from(settings.user_token_minutes.max(settings.system_token_minutes)) * 60_000_000;
        let rows = database.write(move |conn| -> Result<Vec<SigningKeyRow>, ServiceError> {
            let now = Timestamp::now().micros();
            let mut rows = token_store::signing_keys(conn, now - longest_token)?;
            let wanted = match configured {
                Some(key) if !rows.iter().any(|r| r.kid == key.kid && r.retired_at.is_none()) => Some(key),
                Some(_) => None,
                None if rows.iter().all(|r| r.retired_at.is_some()) => {
                    Some(token::generate_es256_key(now).map_err(|e| ServiceError::Configuration(e.to_string()))?)
                }
                None => None,
            };
            if let Some(key) = wanted {
                if !token_store::signing_key_exists(conn, &key.kid)? {
                    token_store::insert_signing_key(conn, &to_row(&key))?;
                }
                token_store::retire_signing_keys_except(conn, &key.kid, now)?;
                rows = token_store::signing_keys(conn, now - longest_token)?;
            }
            Ok(rows)
        })?;
        let keys = build_keys(rows, settings)?;
        Ok(Sessions {
            keys: std::sync::RwLock::new((Arc::new(keys), Instant::now())),
            settings: settings.clone(),
            verified: Mutex::new(HashMap::default()),
            standing: Mutex::new(HashMap::default()),
        })
    }

    /// The public keys (JWKS JSON).
    pub fn jwks_json(&self) -> String {
        self.keys().0.jwks_json().to_owned()
    }

    fn keys(&self) -> (Arc<TokenKeys>, Instant) {
        match self.keys.read() {
            Ok(guard) => (Arc::clone(&guard.0), guard.1),
            Err(poisoned) => (Arc::clone(&poisoned.get_ref().0), poisoned.get_ref().1),
        }
    }

    /// Re-reads the signing keys (after a rotation by another instance or the CLI).
    pub fn reload_keys(&self, database: &Database) -> Result<(), ServiceError> {
        let longest_token =
            i64::from(self.settings.user_token_minutes.max(self.settings.system_token_minutes)) * 60_000_000;
        let rows = database.read(|conn| token_store::signing_keys(conn, Timestamp::now().micros() - longest_token))?;
        let keys = build_keys(rows, &self.settings)?;
        if let Ok(mut guard) = self.keys.write() {
            *guard = (Arc::new(keys), Instant::now());
        }
        Ok(())
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Forgets every cached standing: called after a logout, deactivation or agreement change,
    /// so that it takes effect on the next request.
    pub fn forget_standing(&self) {
        if let Ok(mut standing) = self.standing.lock() {
            standing.clear();
        }
    }

    fn verify_cached(&self, database: &Database, token: &str, now_seconds: i64) -> Result<Arc<Principal>, TokenError> {
        if let Some(principal) = self.verified.lock().ok().and_then(|cache| cache.get(token).cloned()) {
            let leeway = i64::try_from(token::CLOCK_LEEWAY_SECONDS).unwrap_or(0);
            if principal.expires_at / 1_000_000 + leeway < now_seconds {
                return Err(TokenError::Expired);
            }
            return Ok(principal);
        }
        let (keys, loaded_at) = self.keys();
        let claims = match keys.verify(token, now_seconds) {
            Err(TokenError::UnknownKey) if loaded_at.elapsed() >= KEYS_MIN_RELOAD => {
                // Perhaps a key another instance made since: look once more.
                if let Err(error) = self.reload_keys(database) {
                    tracing::warn!(error = %error, "could not re-read the signing keys");
                }
                self.keys().0.verify(token, now_seconds)?
            }
            other => other?,
        };
        // The principal is built once per token: requests then share it without parsing scopes.
        let principal = Arc::new(principal_from(&claims).ok_or(TokenError::Malformed)?);
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= MAX_CACHED_TOKENS {
                cache.retain(|_, p| p.expires_at / 1_000_000 >= now_seconds);
                if cache.len() >= MAX_CACHED_TOKENS {
                    cache.clear();
                }
            }
            cache.insert(Box::from(token), Arc::clone(&principal));
        }
        Ok(principal)
    }

    fn cached_standing(&self, jti: &str) -> Option<Standing> {
        let ttl = Duration::from_secs(u64::from(self.settings.status_cache_seconds));
        let cache = self.standing.lock().ok()?;
        cache.get(jti).filter(|(at, _)| at.elapsed() < ttl).map(|(_, s)| s.clone())
    }

    fn remember_standing(&self, jti: &str, standing: Standing) {
        if let Ok(mut cache) = self.standing.lock() {
            if cache.len() >= MAX_CACHED_TOKENS {
                cache.clear();
            }
            cache.insert(jti.to_owned(), (Instant::now(), standing));
        }
    }

    fn sign(&self, database: &Database, claims: &AccessClaims) -> Result<String, ServiceError> {
        if self.keys().1.elapsed() >= KEYS_MAX_AGE {
            self.reload_keys(database)?;
        }
        self.keys().0.sign(claims).map_err(|e| ServiceError::Configuration(e.to_string()))
    }
}

fn build_keys(rows: Vec<SigningKeyRow>, settings: &AuthSettings) -> Result<TokenKeys, ServiceError> {
    let stored: Vec<StoredSigningKey> = rows.into_iter().map(from_row).collect();
    TokenKeys::new(&stored, &settings.issuer, &settings.audience)
        .map_err(|e| ServiceError::Configuration(e.to_string()))
}

/// Makes a new signing key and retires the others (they stay published until the tokens they
/// signed have expired). Running servers pick the new key up within a minute.
pub fn rotate_signing_key(database: &Database) -> Result<String, ServiceError> {
    token::install_crypto_provider();
    database.write(|conn| -> Result<String, ServiceError> {
        let now = Timestamp::now().micros();
        let key = token::generate_es256_key(now).map_err(|e| ServiceError::Configuration(e.to_string()))?;
        token_store::insert_signing_key(conn, &to_row(&key))?;
        token_store::retire_signing_keys_except(conn, &key.kid, now)?;
        Ok(key.kid)
    })
}

fn to_row(key: &StoredSigningKey) -> SigningKeyRow {
    SigningKeyRow {
        kid: key.kid.clone(),
        algorithm: key.algorithm.clone(),
        private_key_pkcs8: key.private_key_pkcs8.clone(),
        public_jwk_json: key.public_jwk_json.clone(),
        created_at: key.created_at,
        retired_at: key.retired_at,
    }
}

fn from_row(row: SigningKeyRow) -> StoredSigningKey {
    StoredSigningKey {
        kid: row.kid,
        algorithm: row.algorithm,
        private_key_pkcs8: row.private_key_pkcs8,
        public_jwk_json: row.public_jwk_json,
        created_at: row.created_at,
        retired_at: row.retired_at,
    }
}

/// Turns a bearer token into the caller without touching the database, when the holder's
/// standing is cached; `None` when it has to be read (call [`authenticate`] off the async
/// thread then).
pub fn authenticate_cached(
    registry: &Registry,
    bearer: Option<&str>,
    action: &dyn Fn() -> String,
) -> Option<Result<Arc<Principal>, ServiceError>> {
    match verified_principal(registry, bearer, action) {
        Err(error) => Some(Err(error)),
        Ok(principal) => {
            let standing = registry.sessions().cached_standing(&principal.token_id)?;
            Some(judge(registry, principal, standing, action))
        }
    }
}

/// Turns a bearer token into the caller, or refuses it. Every refusal is audited (the caller
/// was reaching for protected data). `action` names what was attempted, for the audit record
/// (only computed when needed: most requests are allowed).
pub fn authenticate(
    registry: &Registry,
    bearer: Option<&str>,
    action: &dyn Fn() -> String,
) -> Result<Arc<Principal>, ServiceError> {
    let principal = verified_principal(registry, bearer, action)?;
    let standing = match registry.sessions().cached_standing(&principal.token_id) {
        Some(standing) => standing,
        None => {
            let standing = registry.database().read(|conn| load_standing(conn, &principal))?;
            registry.sessions().remember_standing(&principal.token_id, standing.clone());
            standing
        }
    };
    judge(registry, principal, standing, action)
}

fn refuse(
    registry: &Registry,
    error: ServiceError,
    principal: Option<&Principal>,
    action: &dyn Fn() -> String,
) -> ServiceError {
    let (status, _) = error.status_and_issues();
    let record = match principal {
        Some(p) => AuditRecord::by(p, action()),
        None => AuditRecord::anonymous(action()),
    };
    registry.audit().record(record.ended(AuditOutcome::Denied, status, Some(error.to_string())));
    error
}

fn verified_principal(
    registry: &Registry,
    bearer: Option<&str>,
    action: &dyn Fn() -> String,
) -> Result<Arc<Principal>, ServiceError> {
    let now = Timestamp::now();
    let Some(token) = bearer else {
        let error =
            ServiceError::Unauthenticated("An access token is required (Authorization: Bearer ...).".to_owned());
        return Err(refuse(registry, error, None, action));
    };
    registry.sessions().verify_cached(registry.database(), token, now.micros() / 1_000_000).map_err(|e| {
        refuse(registry, ServiceError::Unauthenticated(format!("{}.", capitalize(&e.to_string()))), None, action)
    })
}

fn judge(
    registry: &Registry,
    principal: Arc<Principal>,
    standing: Standing,
    action: &dyn Fn() -> String,
) -> Result<Arc<Principal>, ServiceError> {
    match standing {
        Standing::Good => Ok(principal),
        Standing::Refused(refusal) => Err(refuse(registry, refusal.to_error(), Some(&principal), action)),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn principal_from(claims: &AccessClaims) -> Option<Principal> {
    let kind = match claims.agent.as_str() {
        "user" => AgentKind::User,
        "system" => AgentKind::System,
        _ => return None,
    };
    Some(Principal {
        kind,
        subject: claims.sub.clone(),
        organization_id: claims.org.clone(),
        facility_id: claims.facility.clone(),
        role: Role::parse(&claims.role)?,
        scopes: Scopes::parse(&claims.scope).ok()?,
        token_id: claims.jti.clone(),
        issued_at: claims.iat_us,
        expires_at: claims.exp.saturating_mul(1_000_000),
    })
}

/// Reads what can change under a live token.
fn load_standing(conn: &mut DbConnection, principal: &Principal) -> Result<Standing, ServiceError> {
    if token_store::is_revoked(conn, &principal.token_id)? {
        return Ok(Standing::Refused(Refusal::Unauthenticated(
            "The access token was revoked (logged out).".to_owned(),
        )));
    }
    let issued_at = principal.issued_at;
    let (active, valid_after) = match principal.kind {
        AgentKind::User => match identity::user(conn, &principal.subject)? {
            Some(user) => (user.active, user.tokens_valid_after),
            None => (false, 0),
        },
        AgentKind::System => match identity::client(conn, &principal.subject)? {
            Some(client) => (client.active, client.tokens_valid_after),
            None => (false, 0),
        },
    };
    if !active {
        return Ok(Standing::Refused(Refusal::Unauthenticated("The account is deactivated.".to_owned())));
    }
    if valid_after >= issued_at {
        return Ok(Standing::Refused(Refusal::Unauthenticated("This session has ended; log in again.".to_owned())));
    }
    match agreement::organization_access(conn, &principal.organization_id, crate::domain::agreement::today())? {
        agreement::OrganizationAccess::Allowed => Ok(Standing::Good),
        agreement::OrganizationAccess::Refused(message) => Ok(Standing::Refused(Refusal::Forbidden(message))),
    }
}

/// A password login request.
#[derive(Debug, Clone)]
pub struct PasswordLogin {
    /// Organization id.
    pub organization: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Requested scopes (the role's ceiling when absent).
    pub scope: Option<String>,
}

/// The token endpoint's refusals (OAuth2 error codes).
fn oauth(error: &'static str, description: impl Into<String>) -> ServiceError {
    ServiceError::OAuth { status: 400, error, description: description.into() }
}

const BAD_LOGIN: &str = "Invalid organization, username or password.";

/// Password login.
pub fn login(registry: &Registry, request: PasswordLogin) -> Result<TokenGrant, ServiceError> {
    if [&request.organization, &request.username, &request.password]
        .iter()
        .any(|s| s.is_empty() || s.chars().count() > MAX_CREDENTIAL_CHARS)
    {
        return Err(oauth("invalid_request", "organization, username and password are required."));
    }
    let requested = match &request.scope {
        Some(text) => Some(Scopes::parse(text).map_err(|e| oauth("invalid_scope", e.to_string()))?),
        None => None,
    };
    let policy = registry.sessions().settings().password.clone();
    let now = Timestamp::now();
    let username_norm = request.username.to_lowercase();
    let organization = request.organization.clone();
    let user = registry.database().read(|conn| identity::user_by_login(conn, &organization, &username_norm))?;
    let Some(user) = user else {
        password::spend_verification_time(&request.password);
        audit_login(registry, None, &request, AuditOutcome::Denied, "unknown username")?;
        return Err(oauth("invalid_grant", BAD_LOGIN));
    };
    if let Some(until) = user.locked_until.filter(|until| *until > now.micros()) {
        audit_login(registry, Some(&user), &request, AuditOutcome::Denied, "account locked")?;
        let until =
            Timestamp(until).to_offset_date_time().map(|t| format!(" until {} UTC", t.time())).unwrap_or_default();
        return Err(oauth(
            "invalid_grant",
            format!("The account is locked after repeated failed logins{until}; try later or ask your administrator."),
        ));
    }
    if !password::verify_password(&request.password, &user.password_hash) {
        let record = login_record(Some(&user), &request, AuditOutcome::Denied, "wrong password");
        record_failure(registry, &policy, &user, &request, record, now)?;
        return Err(oauth("invalid_grant", BAD_LOGIN));
    }
    if !user.active {
        audit_login(registry, Some(&user), &request, AuditOutcome::Denied, "account deactivated")?;
        return Err(oauth("invalid_grant", "The account is deactivated."));
    }
    let age_limit = i64::from(policy.max_age_days) * 86_400_000_000;
    if now.micros() - user.password_changed_at > age_limit {
        audit_login(registry, Some(&user), &request, AuditOutcome::Denied, "password expired")?;
        return Err(oauth(
            "invalid_grant",
            "The password has expired; set a new one with POST /auth/password before logging in.",
        ));
    }
    let role =
        Role::parse(&user.role).ok_or_else(|| StoreError::Corrupt(format!("user {} has an unknown role", user.id)))?;
    let organization_id = user.organization_id.clone();
    if let agreement::OrganizationAccess::Refused(message) = registry
        .database()
        .read(|conn| agreement::organization_access(conn, &organization_id, crate::domain::agreement::today()))?
    {
        audit_login(registry, Some(&user), &request, AuditOutcome::Denied, &message)?;
        return Err(oauth("invalid_grant", message));
    }
    let ceiling = access::role_ceiling(role, false);
    let scopes = requested.map_or_else(|| ceiling.clone(), |requested| requested.narrowed_by(&ceiling));
    if scopes.grants_nothing() {
        return Err(oauth("invalid_scope", "None of the requested scopes is allowed for this role."));
    }
    let lifetime = i64::from(registry.sessions().settings().user_token_minutes.max(1)) * 60;
    let grant = issue(
        registry,
        AgentKind::User,
        &user.id,
        &user.organization_id,
        user.facility_id.as_deref(),
        role,
        &scopes,
        lifetime,
        now,
    )?;
    let user_id = user.id.clone();
    let record = login_record(Some(&user), &request, AuditOutcome::Success, "");
    registry.database().write(move |conn| -> Result<(), ServiceError> {
        identity::record_good_login(conn, &user_id)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(())
    })?;
    Ok(grant)
}

#[expect(clippy::too_many_arguments, reason = "a token has this many independent claims")]
fn issue(
    registry: &Registry,
    kind: AgentKind,
    subject: &str,
    organization_id: &str,
    facility_id: Option<&str>,
    role: Role,
    scopes: &Scopes,
    lifetime_seconds: i64,
    now: Timestamp,
) -> Result<TokenGrant, ServiceError> {
    let iat = now.micros() / 1_000_000;
    let claims = AccessClaims {
        iss: registry.sessions().settings().issuer.clone(),
        aud: registry.sessions().settings().audience.clone(),
        sub: subject.to_owned(),
        agent: kind.as_str().to_owned(),
        org: organization_id.to_owned(),
        facility: facility_id.map(str::to_owned),
        role: role.as_str().to_owned(),
        scope: scopes.to_string(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat_us: now.micros(),
        iat,
        nbf: iat,
        exp: iat + lifetime_seconds,
    };
    Ok(TokenGrant {
        access_token: registry.sessions().sign(registry.database(), &claims)?,
        expires_in: lifetime_seconds,
        scope: claims.scope,
    })
}

/// Counts a failed login (or reset) and locks the account at the policy's limit; both are
/// audited with the change.
fn record_failure(
    registry: &Registry,
    policy: &PasswordPolicy,
    user: &UserRow,
    request: &PasswordLogin,
    record: AuditRecord,
    now: Timestamp,
) -> Result<(), ServiceError> {
    let failures = user.failed_logins.saturating_add(1);
    let lock = (u32::try_from(failures).unwrap_or(u32::MAX) >= policy.lockout_after_failures)
        .then(|| now.micros() + i64::from(policy.lockout_minutes) * 60_000_000);
    let mut records = vec![record];
    if lock.is_some() {
        records.push(login_record(Some(user), request, AuditOutcome::Denied, "account locked").with_action("lockout"));
    }
    let user_id = user.id.clone();
    registry.database().write(move |conn| -> Result<(), ServiceError> {
        identity::record_failed_login(conn, &user_id, failures, lock, now.micros())?;
        super::audit::append_in(conn, records)?;
        Ok(())
    })
}

fn login_record(user: Option<&UserRow>, request: &PasswordLogin, outcome: AuditOutcome, detail: &str) -> AuditRecord {
    let mut record = AuditRecord::anonymous("login");
    record.agent_kind = "user";
    record.agent_id = user.map(|u| u.id.clone());
    record.organization_id = Some(user.map_or_else(|| request.organization.clone(), |u| u.organization_id.clone()));
    record.facility_id = user.and_then(|u| u.facility_id.clone());
    let status = if outcome == AuditOutcome::Success { 200 } else { 400 };
    record.ended(outcome, status, (!detail.is_empty()).then(|| detail.to_owned()))
}

fn audit_login(
    registry: &Registry,
    user: Option<&UserRow>,
    request: &PasswordLogin,
    outcome: AuditOutcome,
    detail: &str,
) -> Result<(), ServiceError> {
    let record = login_record(user, request, outcome, detail);
    registry.database().write(move |conn| super::audit::append_in(conn, vec![record]).map_err(ServiceError::from))
}

/// Revokes the caller's token (logout). Takes effect on the next request.
pub fn logout(registry: &Registry, principal: &Principal) -> Result<(), ServiceError> {
    let jti = principal.token_id.clone();
    let expires_at = principal.expires_at;
    let record = AuditRecord::by(principal, "logout");
    registry.database().write(move |conn| -> Result<(), ServiceError> {
        token_store::revoke(conn, &jti, expires_at, Timestamp::now().micros())?;
        super::audit::append_in(conn, vec![record])?;
        Ok(())
    })?;
    registry.sessions().forget_standing();
    Ok(())
}

/// A SMART Backend Services token request.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The signed client assertion.
    pub assertion: String,
    /// Requested scopes.
    pub scope: Option<String>,
    /// The token endpoint's URL (the assertion's required audience).
    pub token_url: String,
}

/// Client credentials grant with a `private_key_jwt` assertion.
pub fn login_client(registry: &Registry, request: ClientCredentials) -> Result<TokenGrant, ServiceError> {
    let invalid_client =
        |description: String| ServiceError::OAuth { status: 401, error: "invalid_client", description };
    let unverified = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(&request.assertion)
        .map_err(|_| invalid_client("The client assertion is not a JWT.".to_owned()))?;
    let client_id = unverified
        .get("iss")
        .and_then(serde_json::Value::as_str)
        .filter(|s| s.len() <= MAX_CREDENTIAL_CHARS)
        .ok_or_else(|| invalid_client("The client assertion has no iss.".to_owned()))?
        .to_owned();
    let lookup = client_id.clone();
    let Some(client) = registry.database().read(|conn| identity::client(conn, &lookup))? else {
        return Err(invalid_client("Unknown client.".to_owned()));
    };
    let now = Timestamp::now();
    let mut audit = AuditRecord::anonymous("login");
    audit.agent_kind = "system";
    audit.agent_id = Some(client.id.clone());
    audit.organization_id = Some(client.organization_id.clone());
    audit.facility_id = client.facility_id.clone();
    let deny = |registry: &Registry, audit: &AuditRecord, error: ServiceError| -> ServiceError {
        registry.audit().record(audit.clone().ended(AuditOutcome::Denied, 401, Some(error.to_string())));
        error
    };
    let claims = token::verify_client_assertion(
        &request.assertion,
        &client.id,
        &client.jwks_json,
        &request.token_url,
        now.micros() / 1_000_000,
    )
    .map_err(|e| deny(registry, &audit, invalid_client(capitalize(&e.to_string()) + ".")))?;
    if !client.active {
        return Err(deny(registry, &audit, invalid_client("The client is deactivated.".to_owned())));
    }
    let (id, jti, exp) = (client.id.clone(), claims.jti.clone(), claims.exp.saturating_mul(1_000_000));
    let fresh = registry.database().write(move |conn| token_store::use_assertion(conn, &id, &jti, exp))?;
    if !fresh {
        return Err(deny(
            registry,
            &audit,
            invalid_client("The client assertion was already used (replay).".to_owned()),
        ));
    }
    let role = Role::parse(&client.role)
        .ok_or_else(|| StoreError::Corrupt(format!("client {} has an unknown role", client.id)))?;
    let organization_id = client.organization_id.clone();
    if let agreement::OrganizationAccess::Refused(message) = registry
        .database()
        .read(|conn| agreement::organization_access(conn, &organization_id, crate::domain::agreement::today()))?
    {
        registry.audit().record(audit.clone().ended(AuditOutcome::Denied, 400, Some(message.clone())));
        return Err(oauth("invalid_grant", message));
    }
    let allowed = Scopes::parse(&client.allowed_scopes)
        .map_err(|e| StoreError::Corrupt(format!("client {} has invalid scopes: {e}", client.id)))?
        .narrowed_by(&access::role_ceiling(role, true));
    let requested = match &request.scope {
        Some(text) => Scopes::parse(text).map_err(|e| oauth("invalid_scope", e.to_string()))?,
        None => allowed.clone(),
    };
    let scopes = requested.narrowed_by(&allowed);
    if scopes.grants_nothing() {
        return Err(oauth("invalid_scope", "None of the requested scopes was pre-authorized for this client."));
    }
    let lifetime = i64::from(registry.sessions().settings().system_token_minutes.clamp(1, 5)) * 60;
    let grant = issue(
        registry,
        AgentKind::System,
        &client.id,
        &client.organization_id,
        client.facility_id.as_deref(),
        role,
        &scopes,
        lifetime,
        now,
    )?;
    registry.audit().record(audit);
    Ok(grant)
}

/// Changes a password with the old one (the only thing allowed once a password expired).
pub fn change_password(
    registry: &Registry,
    organization: &str,
    username: &str,
    old_password: &str,
    new_password: &str,
) -> Result<(), ServiceError> {
    let request = PasswordLogin {
        organization: organization.to_owned(),
        username: username.to_owned(),
        password: old_password.to_owned(),
        scope: None,
    };
    let (org, norm) = (organization.to_owned(), username.to_lowercase());
    let user = registry.database().read(|conn| identity::user_by_login(conn, &org, &norm))?;
    let Some(user) = user.filter(|u| u.active) else {
        password::spend_verification_time(old_password);
        audit_login(registry, None, &request, AuditOutcome::Denied, "password change refused")?;
        return Err(oauth("invalid_grant", BAD_LOGIN));
    };
    let now = Timestamp::now();
    // Locked accounts are refused before the password is even checked (no guessing while locked).
    if user.locked_until.is_some_and(|until| until > now.micros()) {
        audit_login(registry, Some(&user), &request, AuditOutcome::Denied, "password change: account locked")?;
        return Err(oauth("invalid_grant", "The account is locked; try later or ask your administrator."));
    }
    if !password::verify_password(old_password, &user.password_hash) {
        // This endpoint must not be a way around the lockout: a wrong password counts.
        let policy = registry.sessions().settings().password.clone();
        let record = login_record(Some(&user), &request, AuditOutcome::Denied, "password change: wrong password")
            .with_action("password-change");
        record_failure(registry, &policy, &user, &request, record, now)?;
        return Err(oauth("invalid_grant", BAD_LOGIN));
    }
    super::user::set_password_checked(registry, &user, new_password, old_password)
}

/// Whether every stored answer is matched by a different given answer (in any order: people
/// remember their answers better than the order they set them in).
fn answers_match(stored: &[(String, String)], answers: &[String]) -> bool {
    let mut used = vec![false; answers.len()];
    stored.iter().all(|(_, hash)| {
        let found = answers.iter().enumerate().find(|(i, answer)| !used[*i] && password::verify_answer(answer, hash));
        match found {
            Some((i, _)) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

/// Self-service password reset with the answers to the user's security questions. Wrong answers count as failed logins (and lock the account the same
/// way), so the questions cannot be guessed faster than the password.
pub fn reset_password_with_answers(
    registry: &Registry,
    organization: &str,
    username: &str,
    answers: &[String],
    new_password: &str,
) -> Result<(), ServiceError> {
    let request = PasswordLogin {
        organization: organization.to_owned(),
        username: username.to_owned(),
        password: String::new(),
        scope: None,
    };
    let refused = || oauth("invalid_grant", "The account or the answers are not correct.");
    let (org, norm) = (organization.to_owned(), username.to_lowercase());
    let user = registry.database().read(|conn| identity::user_by_login(conn, &org, &norm))?;
    let Some(user) = user.filter(|u| u.active) else {
        audit_login(registry, None, &request, AuditOutcome::Denied, "password reset: unknown or inactive account")?;
        return Err(refused());
    };
    let now = Timestamp::now();
    if user.locked_until.is_some_and(|until| until > now.micros()) {
        audit_login(registry, Some(&user), &request, AuditOutcome::Denied, "password reset: account locked")?;
        return Err(oauth("invalid_grant", "The account is locked; try later or ask your administrator."));
    }
    let user_id = user.id.clone();
    let stored = registry.database().read(|conn| identity::security_answers(conn, &user_id))?;
    let all_match = !stored.is_empty() && stored.len() == answers.len() && answers_match(&stored, answers);
    if !all_match {
        let policy = registry.sessions().settings().password.clone();
        let record = login_record(Some(&user), &request, AuditOutcome::Denied, "password reset: wrong answers")
            .with_action("password-reset");
        record_failure(registry, &policy, &user, &request, record, now)?;
        return Err(refused());
    }
    super::user::set_password_checked(registry, &user, new_password, "")
}
