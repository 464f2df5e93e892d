//! Signing keys, revoked tokens and used client assertions.

use diesel::prelude::*;

use super::schema::{client_assertion, revoked_token, signing_key};
use super::{DbConnection, StoreError};

/// A stored signing key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_key)]
#[diesel(treat_none_as_default_value = false)]
pub struct SigningKeyRow {
    /// Key id.
    pub kid: String,
    /// Algorithm (ES256).
    pub algorithm: String,
    /// PKCS#8 DER, base64.
    pub private_key_pkcs8: String,
    /// Public JWK JSON.
    pub public_jwk_json: String,
    /// Created (micros).
    pub created_at: i64,
    /// Retired (micros).
    pub retired_at: Option<i64>,
}

/// Keys that are active or were retired after `retired_after` (their tokens may still live).
pub fn signing_keys(conn: &mut DbConnection, retired_after: i64) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_key::table
        .filter(signing_key::retired_at.is_null().or(signing_key::retired_at.gt(retired_after)))
        .select(SigningKeyRow::as_select())
        .order(signing_key::created_at)
        .load(conn)?)
}

/// Stores a key.
pub fn insert_signing_key(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), StoreError> {
    diesel::insert_into(signing_key::table).values(row).execute(conn)?;
    Ok(())
}

/// Retires every active key but `keep`.
pub fn retire_signing_keys_except(conn: &mut DbConnection, keep: &str, now: i64) -> Result<usize, StoreError> {
    Ok(diesel::update(signing_key::table.filter(signing_key::retired_at.is_null()).filter(signing_key::kid.ne(keep)))
        .set(signing_key::retired_at.eq(Some(now)))
        .execute(conn)?)
}

/// Whether a key with this id is stored.
pub fn signing_key_exists(conn: &mut DbConnection, kid: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(signing_key::table.find(kid))).get_result(conn)?)
}

/// Revokes a token (idempotent).
pub fn revoke(conn: &mut DbConnection, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
    let exists: bool = diesel::select(diesel::dsl::exists(revoked_token::table.find(jti))).get_result(conn)?;
    if !exists {
        diesel::insert_into(revoked_token::table)
            .values((
                revoked_token::jti.eq(jti),
                revoked_token::expires_at.eq(expires_at),
                revoked_token::revoked_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether a token is revoked.
pub fn is_revoked(conn: &mut DbConnection, jti: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(revoked_token::table.find(jti))).get_result(conn)?)
}

/// Records a client assertion's id; `false` when it was already used (a replay).
pub fn use_assertion(conn: &mut DbConnection, client_id: &str, jti: &str, expires_at: i64) -> Result<bool, StoreError> {
    let used: bool =
        diesel::select(diesel::dsl::exists(client_assertion::table.find((client_id, jti)))).get_result(conn)?;
    if used {
        return Ok(false);
    }
    diesel::insert_into(client_assertion::table)
        .values((
            client_assertion::client_id.eq(client_id),
            client_assertion::jti.eq(jti),
            client_assertion::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Forgets revocations and assertion ids whose tokens expired before `before`.
pub fn purge_expired(conn: &mut DbConnection, before: i64) -> Result<usize, StoreError> {
    let tokens = diesel::delete(revoked_token::table.filter(revoked_token::expires_at.lt(before))).execute(conn)?;
    let assertions =
        diesel::delete(client_assertion::table.filter(client_assertion::expires_at.lt(before))).execute(conn)?;
    Ok(tokens + assertions)
}
