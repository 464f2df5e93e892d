//! Access tokens: the server's ES256 signing keys, issuing, and verification pinned to the
//! expected algorithm, issuer and audience.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::EncodePrivateKey;
use serde::{Deserialize, Serialize};

/// Leeway for clock differences when checking `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_LEEWAY_SECONDS: u64 = 30;

/// The claims of an access token issued by this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience (the FHIR base / API).
    pub aud: String,
    /// The user id or client id.
    pub sub: String,
    /// `user` or `system`.
    pub agent: String,
    /// The organization.
    pub org: String,
    /// The facility, if the caller acts for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    /// The role.
    pub role: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Token id.
    pub jti: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Issued at, in microseconds: `iat` has whole seconds, and "sessions ended at 10:00:00.5"
    /// must refuse a token issued at 10:00:00.2 but not one issued at 10:00:00.7.
    pub iat_us: i64,
    /// Not before (seconds since the epoch).
    pub nbf: i64,
    /// Expires (seconds since the epoch).
    pub exp: i64,
}

/// A signing key as stored: private key (PKCS#8 DER, base64) and public JWK.
#[derive(Debug, Clone)]
pub struct StoredSigningKey {
    /// Key id (`kid`).
    pub kid: String,
    /// `ES256`.
    pub algorithm: String,
    /// The private key, PKCS#8 DER, standard base64.
    pub private_key_pkcs8: String,
    /// The public key as a JWK (JSON text).
    pub public_jwk_json: String,
    /// Microseconds since the epoch.
    pub created_at: i64,
    /// When the key stopped signing, if it did.
    pub retired_at: Option<i64>,
}

/// Why a key could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The stored or configured key is not a usable P-256 key.
    #[error("invalid signing key {kid}: {reason}")]
    Invalid {
        /// Which key.
        kid: String,
        /// Why.
        reason: String,
    },
    /// There is no active key to sign with.
    #[error("no active signing key")]
    NoActiveKey,
    /// Signing failed.
    #[error("could not sign a token: {0}")]
    Signing(String),
}

/// Makes a new ES256 (P-256) key pair with a fresh key id.
pub fn generate_es256_key(created_at: i64) -> Result<StoredSigningKey, KeyError> {
    let kid = uuid::Uuid::new_v4().simple().to_string();
    let invalid = |reason: String| KeyError::Invalid { kid: kid.clone(), reason };
    // Any 32 random bytes below the group order make a valid scalar; retry the (2^-32) rest.
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
            break secret;
        }
    };
    let der = secret.to_pkcs8_der().map_err(|e| invalid(e.to_string()))?;
    let public_jwk_json = public_jwk(&secret, &kid).to_string();
    Ok(StoredSigningKey {
        kid: kid.clone(),
        algorithm: "ES256".to_owned(),
        private_key_pkcs8: base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        public_jwk_json,
        created_at,
        retired_at: None,
    })
}

/// Loads a key from a PKCS#8 PEM file's text (a key the operator configured).
pub fn es256_key_from_pem(pem: &str, created_at: i64) -> Result<StoredSigningKey, KeyError> {
    use p256::pkcs8::DecodePrivateKey;
    let secret = p256::SecretKey::from_pkcs8_pem(pem)
        .map_err(|e| KeyError::Invalid { kid: "configured".to_owned(), reason: e.to_string() })?;
    let der =
        secret.to_pkcs8_der().map_err(|e| KeyError::Invalid { kid: "configured".to_owned(), reason: e.to_string() })?;
    // The key id is derived from the public key, so the same configured key keeps its kid.
    let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
    let digest = ring::digest::digest(&ring::digest::SHA256, point.as_bytes());
    let kid = URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]);
    Ok(StoredSigningKey {
        public_jwk_json: public_jwk(&secret, &kid).to_string(),
        kid,
        algorithm: "ES256".to_owned(),
        private_key_pkcs8: base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        created_at,
        retired_at: None,
    })
}

fn public_jwk(secret: &p256::SecretKey, kid: &str) -> serde_json::Value {
    let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
    let x = point.x().map(|x| URL_SAFE_NO_PAD.encode(x)).unwrap_or_default();
    let y = point.y().map(|y| URL_SAFE_NO_PAD.encode(y)).unwrap_or_default();
    serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"})
}

/// Why a token was refused. Each becomes a 401 with `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or claims of the wrong shape.
    #[error("the access token is malformed")]
    Malformed,
    /// Not signed with ES256 (e.g. `alg: none`, HS256, RS256).
    #[error("the access token is not signed with ES256")]
    WrongAlgorithm,
    /// The `kid` is not one of the server's keys.
    #[error("the access token was signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the access token's signature is invalid")]
    BadSignature,
    /// Past `exp`.
    #[error("the access token has expired")]
    Expired,
    /// Before `nbf` or `iat`.
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// Another issuer.
    #[error("the access token was issued by another issuer")]
    WrongIssuer,
    /// Another audience.
    #[error("the access token is meant for another audience")]
    WrongAudience,
}

/// The keys the server signs and verifies with: the newest active key signs; every key whose
/// tokens may still be alive verifies (and is published in the JWKS).
pub struct TokenKeys {
    signing: (String, EncodingKey),
    verifying: HashMap<String, DecodingKey>,
    jwks_json: String,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").field("signing_kid", &self.signing.0).finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Builds the key set from stored keys (newest active one signs).
    pub fn new(keys: &[StoredSigningKey], issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        for key in keys {
            let invalid = |reason: String| KeyError::Invalid { kid: key.kid.clone(), reason };
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_str(&key.public_jwk_json).map_err(|e| invalid(e.to_string()))?;
            verifying.insert(key.kid.clone(), DecodingKey::from_jwk(&jwk).map_err(|e| invalid(e.to_string()))?);
            published.push(
                serde_json::from_str::<serde_json::Value>(&key.public_jwk_json).map_err(|e| invalid(e.to_string()))?,
            );
        }
        let signer = keys
            .iter()
            .filter(|key| key.retired_at.is_none())
            .max_by_key(|key| key.created_at)
            .ok_or(KeyError::NoActiveKey)?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(&signer.private_key_pkcs8)
            .map_err(|e| KeyError::Invalid { kid: signer.kid.clone(), reason: e.to_string() })?;
        Ok(TokenKeys {
            signing: (signer.kid.clone(), EncodingKey::from_ec_der(&der)),
            verifying,
            jwks_json: serde_json::json!({ "keys": published }).to_string(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// The issuer written into and required of tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience written into and required of tokens.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The public keys as a JWK Set (JSON text).
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// Signs the claims with the current key.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.signing.0.clone());
        header.typ = Some("at+jwt".to_owned());
        jsonwebtoken::encode(&header, claims, &self.signing.1).map_err(|e| KeyError::Signing(e.to_string()))
    }

    /// Verifies a token: ES256 only, a known `kid`, the signature, `exp`/`nbf`/`iat` (with
    /// leeway), issuer and audience.
    pub fn verify(&self, token: &str, now_seconds: i64) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::WrongAlgorithm);
        }
        let key = header.kid.as_deref().and_then(|kid| self.verifying.get(kid)).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &validation).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
            _ => TokenError::Malformed,
        })?;
        let leeway = i64::try_from(CLOCK_LEEWAY_SECONDS).unwrap_or(0);
        if data.claims.iat > now_seconds + leeway {
            return Err(TokenError::NotYetValid);
        }
        Ok(data.claims)
    }
}

/// Why a token's header could not be read: a readable header naming an algorithm this server
/// does not know (`none`, `HS512`...) is a wrong algorithm; anything else is malformed.
fn header_error(token: &str) -> TokenError {
    let named_alg = token
        .split('.')
        .next()
        .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("alg").is_some_and(serde_json::Value::is_string));
    if named_alg { TokenError::WrongAlgorithm } else { TokenError::Malformed }
}

/// The claims of a SMART Backend Services client assertion.
#[derive(Debug, Clone, Deserialize)]
pub struct AssertionClaims {
    /// The client id.
    pub iss: String,
    /// The client id again.
    pub sub: String,
    /// Assertion id (replay protection).
    pub jti: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at, if given.
    #[serde(default)]
    pub iat: Option<i64>,
}

/// Why a client assertion was refused (OAuth2 `invalid_client`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// Not a JWT, or no usable key.
    #[error("the client assertion is malformed")]
    Malformed,
    /// Not RS384 or ES384.
    #[error("the client assertion must be signed with RS384 or ES384")]
    WrongAlgorithm,
    /// No key of the client's JWKS matches.
    #[error("no registered key of the client matches the assertion")]
    UnknownKey,
    /// The signature, issuer, subject or audience is wrong, or the assertion expired.
    #[error("the client assertion is invalid: {0}")]
    Invalid(&'static str),
    /// It lives longer than five minutes.
    #[error("the client assertion must expire within five minutes")]
    TooLongLived,
}

/// Longest lifetime accepted for a client assertion.
pub const MAX_ASSERTION_SECONDS: i64 = 300;

/// Verifies a client assertion against the client's registered JWKS (JSON text).
pub fn verify_client_assertion(
    assertion: &str,
    client_id: &str,
    jwks_json: &str,
    token_url: &str,
    now_seconds: i64,
) -> Result<AssertionClaims, AssertionError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| AssertionError::WrongAlgorithm)?;
    if !matches!(header.alg, Algorithm::RS384 | Algorithm::ES384) {
        return Err(AssertionError::WrongAlgorithm);
    }
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks_json).map_err(|_| AssertionError::Malformed)?;
    let jwk = match header.kid.as_deref() {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or(AssertionError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| AssertionError::UnknownKey)?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = CLOCK_LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_issuer(&[client_id]);
    validation.set_audience(&[token_url]);
    validation.sub = Some(client_id.to_owned());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud", "jti"]);
    let data = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation).map_err(|e| {
        AssertionError::Invalid(match e.kind() {
            ErrorKind::InvalidSignature => "bad signature",
            ErrorKind::ExpiredSignature => "expired",
            ErrorKind::ImmatureSignature => "not valid yet",
            ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => "iss and sub must be the client id",
            ErrorKind::InvalidAudience => "aud must be the token endpoint URL",
            ErrorKind::InvalidAlgorithm => "the key does not match the algorithm",
            _ => "missing or malformed claims",
        })
    })?;
    let starts = data.claims.iat.unwrap_or(now_seconds).min(now_seconds);
    if data.claims.exp - starts > MAX_ASSERTION_SECONDS {
        return Err(AssertionError::TooLongLived);
    }
    Ok(data.claims)
}

/// Installs the pure-Rust crypto provider for jsonwebtoken. Without exactly one provider it
/// panics on first use; installing explicitly at start makes that impossible. Calling it again
/// is harmless.
pub fn install_crypto_provider() {
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> AccessClaims {
        AccessClaims {
            iss: "urn:izreg".to_owned(),
            aud: "urn:izreg:api".to_owned(),
            sub: "u1".to_owned(),
            agent: "user".to_owned(),
            org: "o1".to_owned(),
            facility: None,
            role: "clinician".to_owned(),
            scope: "user/Patient.rs".to_owned(),
            jti: "t1".to_owned(),
            iat_us: now * 1_000_000,
            iat: now,
            nbf: now,
            exp: now + 300,
        }
    }

    #[test]
    fn signs_and_verifies_and_pins_issuer_audience_and_expiry() {
        install_crypto_provider();
        let key = generate_es256_key(0).unwrap();
        let keys = TokenKeys::new(std::slice::from_ref(&key), "urn:izreg", "urn:izreg:api").unwrap();
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap();
        let token = keys.sign(&claims(now)).unwrap();
        assert_eq!(keys.verify(&token, now).unwrap(), claims(now));

        let other = TokenKeys::new(std::slice::from_ref(&key), "urn:other", "urn:izreg:api").unwrap();
        assert_eq!(other.verify(&token, now), Err(TokenError::WrongIssuer));
        let other = TokenKeys::new(&[key], "urn:izreg", "urn:other").unwrap();
        assert_eq!(other.verify(&token, now), Err(TokenError::WrongAudience));

        let expired = keys.sign(&AccessClaims { exp: 1_000, iat: 900, nbf: 900, ..claims(now) }).unwrap();
        assert_eq!(keys.verify(&expired, now), Err(TokenError::Expired));
        let future = now + 3_600;
        let early = keys.sign(&AccessClaims { iat: future, nbf: future, exp: future + 300, ..claims(now) }).unwrap();
        assert_eq!(keys.verify(&early, now), Err(TokenError::NotYetValid));
    }

    #[test]
    fn refuses_none_hmac_and_unknown_keys() {
        install_crypto_provider();
        let keys = TokenKeys::new(&[generate_es256_key(0).unwrap()], "urn:izreg", "urn:izreg:api").unwrap();
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap();
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now)).unwrap());
        let none = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(keys.verify(&none, now), Err(TokenError::WrongAlgorithm));
        let hmac = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(now),
            &EncodingKey::from_secret(keys.jwks_json().as_bytes()),
        )
        .unwrap();
        assert_eq!(keys.verify(&hmac, now), Err(TokenError::WrongAlgorithm));
        let stranger = TokenKeys::new(&[generate_es256_key(0).unwrap()], "urn:izreg", "urn:izreg:api").unwrap();
        assert_eq!(keys.verify(&stranger.sign(&claims(now)).unwrap(), now), Err(TokenError::UnknownKey));
        assert_eq!(keys.verify("not a token", now), Err(TokenError::Malformed));
    }
}
