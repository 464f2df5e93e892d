//! THE place that decides who may see or change what (ARCHITECTURE.md section 3). Checked in
//! order: the caller's standing (active account, active agreement: see `session`), the role,
//! the SMART scope, then the record rules (ownership of what is changed).

use crate::domain::access::{Principal, Role};
use crate::domain::privacy::{PrivacyChoices, PrivacyRecord, RecordLock, Visibility, VisibleTo};
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

/// What the caller may see of people's records, as a search filter. Opted-out records are
/// hidden from everyone (only the privacy endpoint shows their stub); a locked record only from
/// providers other than the one it is locked to. State staff administer the locks, so they see
/// locked records.
pub fn visible_to(principal: &Principal) -> VisibleTo {
    if principal.is_state_admin() {
        return VisibleTo::AllButOptedOut;
    }
    let mut keys = Vec::with_capacity(2);
    keys.extend(Visibility::Organization(principal.organization_id.clone()).stored());
    if let Some(facility) = &principal.facility_id {
        keys.extend(Visibility::Facility(facility.clone()).stored());
    }
    VisibleTo::Keys(keys)
}

/// Whether the caller may see a record with this visibility (reads: same rule as `visible_to`).
pub fn may_see(principal: &Principal, visibility: &Visibility) -> bool {
    match visibility {
        Visibility::Everyone => true,
        Visibility::Nobody => false,
        Visibility::Organization(id) => principal.is_state_admin() || principal.organization_id == *id,
        Visibility::Facility(id) => principal.is_state_admin() || principal.facility_id.as_deref() == Some(id),
    }
}

/// Whether the caller may see the sensitive elements (mother's maiden name, insurance, VFC
/// eligibility and funding) of a record submitted by `owner_organization_id`: the submitter and
/// state staff only.
pub fn may_see_sensitive(principal: &Principal, owner_organization_id: Option<&str>) -> bool {
    principal.is_state_admin() || owner_organization_id == Some(principal.organization_id.as_str())
}

/// Whether the caller may record privacy choices at all (they act for the person: staff who
/// write patient data, their administrators, and state staff).
pub fn may_record_privacy(principal: &Principal) -> bool {
    matches!(principal.role, Role::StateAdmin | Role::OrgAdmin | Role::Clinician | Role::Clerk)
}

/// Checks a change of privacy choices. State staff may record any change. A provider acting for
/// the person may record an opt-out and the reminder choice, may lock the record to itself (its
/// organization or one of its own facilities), and may move or remove a lock it holds. Opting
/// back in is recorded by state staff: the record is hidden from every provider.
pub fn check_privacy_change(
    principal: &Principal,
    current: &PrivacyChoices,
    wanted: &PrivacyChoices,
) -> Result<(), ServiceError> {
    if !may_record_privacy(principal) {
        return Err(ServiceError::Forbidden(format!("The role {} may not record privacy choices.", principal.role)));
    }
    if principal.is_state_admin() {
        return Ok(());
    }
    if current.opted_out && !wanted.opted_out {
        return Err(ServiceError::Forbidden(
            "Opting back in is recorded by the health department, which checks the person's request.".to_owned(),
        ));
    }
    if current.lock != wanted.lock {
        let holds = |lock: &RecordLock| lock.organization_id == principal.organization_id;
        if current.lock.as_ref().is_some_and(|lock| !holds(lock)) {
            return Err(ServiceError::Forbidden(
                "Only the provider the record is locked to, or the health department, may move or remove the lock."
                    .to_owned(),
            ));
        }
        if wanted.lock.as_ref().is_some_and(|lock| !holds(lock)) {
            return Err(ServiceError::Forbidden(
                "A provider may lock a record to itself only; the health department records other moves.".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Whether the caller may see the privacy choices of a person whose records have `visibility`:
/// state staff always (they hold the opt-out stubs), others when they may see the records.
pub fn may_see_privacy(principal: &Principal, record: Option<&PrivacyRecord>, visibility: &Visibility) -> bool {
    principal.is_state_admin()
        || may_see(principal, visibility)
        || record.is_some_and(|record| record.changed_by_organization_id == principal.organization_id)
}

/// Checks that the caller may run reminder / recall and the outreach lists (lot recall,
/// outbreak): staff who look after patients and reminder / recall staff, never schools or child
/// care; the lists read Patients and their Immunizations, so both search scopes are needed.
pub fn check_outreach(principal: &Principal) -> Result<(), ServiceError> {
    if !matches!(
        principal.role,
        Role::StateAdmin | Role::OrgAdmin | Role::Clinician | Role::Clerk | Role::ReminderRecall
    ) {
        return Err(ServiceError::Forbidden(format!(
            "The role {} may not run reminder / recall or outreach lists.",
            principal.role
        )));
    }
    authorize(principal, ResourceType::Patient.as_str(), Interaction::Search)?;
    authorize(principal, ResourceType::Immunization.as_str(), Interaction::Search)
}

/// Whether the caller may see and manage a run requested by `organization_id`.
pub fn may_manage_run(principal: &Principal, organization_id: &str) -> bool {
    principal.is_state_admin() || principal.organization_id == organization_id
}

/// Who requested a reminder / recall run, as the run's privacy decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequester {
    pub organization_id: String,
    pub facility_id: Option<String>,
    /// A state-wide or regional run by state staff.
    pub state: bool,
}

/// Why a person is left out of a reminder / recall run on privacy grounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderBar {
    OptedOut,
    LockedElsewhere,
}

/// Whether a run may notify a person whose records have `visibility`. Opted out: never. Locked:
/// only a run of the provider the record is locked to; a state run leaves the person to that
/// provider, whom they chose. (Declined reminders are read from the choices themselves.)
pub fn reminder_bar(requester: &RunRequester, visibility: &Visibility) -> Option<ReminderBar> {
    match visibility {
        Visibility::Everyone => None,
        Visibility::Nobody => Some(ReminderBar::OptedOut),
        Visibility::Organization(id) if !requester.state && requester.organization_id == *id => None,
        Visibility::Facility(id) if !requester.state && requester.facility_id.as_deref() == Some(id) => None,
        Visibility::Organization(_) | Visibility::Facility(_) => Some(ReminderBar::LockedElsewhere),
    }
}

/// Whether the caller may mark a person as no longer (or again) a patient of its organization:
/// staff who look after patients, for their own organization.
pub fn may_mark_provider_status(principal: &Principal) -> bool {
    matches!(principal.role, Role::OrgAdmin | Role::Clinician | Role::Clerk | Role::ReminderRecall)
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
