//! THE place that decides who may see or change what (ARCHITECTURE.md section 3). Checked in
//! order: the caller's standing (active account, active agreement: see `session`), the role,
//! the SMART scope, then the record rules (ownership of what is changed).

use crate::domain::access::{Principal, Role};
use crate::domain::resource::ResourceType;
use crate::domain::scope::{Interaction, Scopes};

use super::ServiceError;

/// The most a role may ever do, as user scopes (a login asks for these or less).
fn role_ceiling_text(role: Role) -> &'static str {
    match role {
        Role::StateAdmin => "user/*.cruds",
        Role::OrgAdmin => {
            "user/Patient.rs user/Immunization.rs user/AuditEvent.rs user/Organization.rs user/Location.rs"
        }
        Role::Clinician => "user/Patient.cruds user/Immunization.cruds user/Organization.rs user/Location.rs",
        Role::Clerk => "user/Patient.crus user/Immunization.rs user/Organization.rs user/Location.rs",
        Role::ReadOnly | Role::ReminderRecall => {
            "user/Patient.rs user/Immunization.rs user/Organization.rs user/Location.rs"
        }
    }
}

/// The most a role may do, as scopes of the given context (`user` or `system`).
pub fn role_ceiling(role: Role, system: bool) -> Scopes {
    let text = role_ceiling_text(role);
    let text = if system { text.replace("user/", "system/") } else { text.to_owned() };
    Scopes::parse(&text).unwrap_or_default()
}

/// Whether the role allows the interaction on the type, whatever the scopes say.
pub fn role_permits(role: Role, resource_type: &str, interaction: Interaction) -> bool {
    // Parsed once: this runs on every request.
    static CEILINGS: std::sync::OnceLock<Vec<(Role, Scopes)>> = std::sync::OnceLock::new();
    let ceilings = CEILINGS.get_or_init(|| Role::ALL.iter().map(|role| (*role, role_ceiling(*role, false))).collect());
    ceilings.iter().find(|(r, _)| *r == role).is_some_and(|(_, scopes)| scopes.allows(resource_type, interaction))
}

/// Checks role and scope for an interaction on a resource type. The message names what is
/// missing, never anything about records.
pub fn authorize(principal: &Principal, resource_type: &str, interaction: Interaction) -> Result<(), ServiceError> {
    if !role_permits(principal.role, resource_type, interaction) {
        return Err(ServiceError::Forbidden(format!(
            "The role {} may not {} {resource_type} resources.",
            principal.role,
            interaction.as_str()
        )));
    }
    if !principal.scopes.allows(resource_type, interaction) {
        return Err(ServiceError::Forbidden(format!(
            "The access token's scopes do not allow {} on {resource_type}.",
            interaction.as_str()
        )));
    }
    Ok(())
}

/// Checks that the caller may change a stored record submitted by `owner_organization_id`:
/// its own organization's records, or any record for state staff. Anything else answers as
/// if the record did not exist, so nobody learns what other organizations hold.
pub fn check_owner(
    principal: &Principal,
    resource_type: ResourceType,
    owner_organization_id: Option<&str>,
) -> Result<(), ServiceError> {
    if principal.is_state_admin() || owner_organization_id == Some(principal.organization_id.as_str()) {
        Ok(())
    } else {
        Err(ServiceError::NotOwner { resource_type })
    }
}

/// Whether the caller may manage (users, facilities, systems of) `organization_id`.
pub fn may_manage_organization(principal: &Principal, organization_id: &str) -> bool {
    principal.is_state_admin() || (principal.role == Role::OrgAdmin && principal.organization_id == organization_id)
}

/// Whether the caller may see the administrative records (users, facilities, audit) of
/// `organization_id`.
pub fn may_view_organization(principal: &Principal, organization_id: &str) -> bool {
    principal.is_state_admin() || principal.organization_id == organization_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_roles_never_write_whatever_the_scopes() {
        for role in [Role::ReadOnly, Role::ReminderRecall, Role::OrgAdmin] {
            assert!(role_permits(role, "Patient", Interaction::Read));
            assert!(!role_permits(role, "Patient", Interaction::Create));
            assert!(!role_permits(role, "Immunization", Interaction::Update));
        }
        assert!(role_permits(Role::Clerk, "Patient", Interaction::Update));
        assert!(!role_permits(Role::Clerk, "Immunization", Interaction::Create));
        assert!(role_permits(Role::Clinician, "Immunization", Interaction::Delete));
        assert!(!role_permits(Role::Clinician, "AuditEvent", Interaction::Search));
        assert!(role_permits(Role::StateAdmin, "AuditEvent", Interaction::Search));
    }
}
