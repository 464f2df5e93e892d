//! Registered systems (EHRs, portals): their public keys and pre-authorized scopes.

use super::audit::AuditRecord;
use super::{Registry, ServiceError, access};
use crate::domain::access::{Principal, Role};
use crate::domain::scope::Scopes;
use crate::domain::time::Timestamp;
use crate::store::identity::{self, ClientRow};

/// A system to register.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// Name.
    pub name: String,
    /// Role the system acts in.
    pub role: Role,
    /// Facility it acts for, if one.
    pub facility_id: Option<String>,
    /// Pre-authorized `system/` scopes.
    pub allowed_scopes: String,
    /// Its public keys (a JWK Set).
    pub jwks: serde_json::Value,
}

/// Registers a system for an organization (its admin or state staff).
pub fn register(
    registry: &Registry,
    principal: &Principal,
    organization_id: &str,
    new: NewClient,
) -> Result<ClientRow, ServiceError> {
    if !access::may_manage_organization(principal, organization_id) {
        return Err(ServiceError::NotFoundNamed("No organization with this id.".to_owned()));
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 200 {
        return Err(ServiceError::invalid("name", "A system needs a name (at most 200 characters)."));
    }
    if new.role == Role::StateAdmin || new.role == Role::OrgAdmin {
        return Err(ServiceError::invalid("role", "A system acts as clinician, clerk, read_only or reminder_recall."));
    }
    let scopes =
        Scopes::parse(&new.allowed_scopes).map_err(|e| ServiceError::invalid("allowedScopes", e.to_string()))?;
    if scopes.grants_nothing()
        || scopes.resource_scopes().iter().any(|s| s.context != crate::domain::scope::ScopeContext::System)
    {
        return Err(ServiceError::invalid(
            "allowedScopes",
            "Pre-authorize at least one system/ scope, and only system/ scopes.",
        ));
    }
    check_jwks(&new.jwks)?;
    let now = Timestamp::now().micros();
    let row = ClientRow {
        id: uuid::Uuid::new_v4().to_string(),
        organization_id: organization_id.to_owned(),
        facility_id: new.facility_id,
        name: new.name.trim().to_owned(),
        role: new.role.as_str().to_owned(),
        allowed_scopes: scopes.to_string(),
        jwks_json: new.jwks.to_string(),
        active: true,
        tokens_valid_after: 0,
        created_at: now,
        updated_at: now,
    };
    let mut record = AuditRecord::by(principal, "client-register").on("Client");
    record.resource_ids = vec![row.id.clone()];
    registry.database().write(move |conn| -> Result<ClientRow, ServiceError> {
        let Some(organization) = identity::organization(conn, &row.organization_id)? else {
            return Err(ServiceError::NotFoundNamed("No organization with this id.".to_owned()));
        };
        super::user::check_role_fits_organization(new.role, &organization.kind)?;
        if let Some(facility_id) = &row.facility_id {
            match identity::facility(conn, facility_id)? {
                Some(f) if f.organization_id == row.organization_id => {}
                _ => {
                    return Err(ServiceError::invalid("facilityId", "The facility is not one of this organization's."));
                }
            }
        }
        identity::insert_client(conn, &row)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(row)
    })
}

/// Only asymmetric public keys usable for RS384/ES384: an `oct` (shared secret) key or a
/// private key component would be a serious mistake, so they are refused.
fn check_jwks(jwks: &serde_json::Value) -> Result<(), ServiceError> {
    let keys = jwks.get("keys").and_then(serde_json::Value::as_array).filter(|k| !k.is_empty() && k.len() <= 10);
    let Some(keys) = keys else {
        return Err(ServiceError::invalid("jwks", "A JWK Set with 1 to 10 keys is required."));
    };
    for (index, key) in keys.iter().enumerate() {
        let kty = key.get("kty").and_then(serde_json::Value::as_str);
        let usable = match kty {
            Some("RSA") => key.get("n").is_some() && key.get("e").is_some(),
            Some("EC") => {
                key.get("crv").and_then(serde_json::Value::as_str) == Some("P-384")
                    && key.get("x").is_some()
                    && key.get("y").is_some()
            }
            _ => false,
        };
        if !usable || key.get("d").is_some() {
            return Err(ServiceError::invalid(
                &format!("jwks.keys[{index}]"),
                "Each key must be a public RSA key or a public EC P-384 key.",
            ));
        }
        if serde_json::from_value::<jsonwebtoken::jwk::Jwk>(key.clone()).is_err() {
            return Err(ServiceError::invalid(&format!("jwks.keys[{index}]"), "The key is not a valid JWK."));
        }
    }
    Ok(())
}

/// The systems of an organization.
pub fn list(registry: &Registry, principal: &Principal, organization_id: &str) -> Result<Vec<ClientRow>, ServiceError> {
    if !access::may_manage_organization(principal, organization_id) {
        return Err(ServiceError::NotFoundNamed("No organization with this id.".to_owned()));
    }
    Ok(registry.database().read(|conn| identity::clients_of(conn, organization_id))?)
}

/// Deactivates a system: its tokens stop working on the next request.
pub fn deactivate(registry: &Registry, principal: &Principal, client_id: &str) -> Result<(), ServiceError> {
    let missing = || ServiceError::NotFoundNamed("No registered system with this id.".to_owned());
    let client = registry.database().read(|conn| identity::client(conn, client_id))?.ok_or_else(missing)?;
    if !access::may_manage_organization(principal, &client.organization_id) {
        return Err(missing());
    }
    let mut record = AuditRecord::by(principal, "client-deactivate").on("Client");
    record.resource_ids = vec![client.id.clone()];
    registry.database().write(move |conn| -> Result<(), ServiceError> {
        identity::set_client_active(conn, &client.id, false, Timestamp::now().micros())?;
        super::audit::append_in(conn, vec![record])?;
        Ok(())
    })?;
    registry.sessions().forget_standing();
    Ok(())
}
