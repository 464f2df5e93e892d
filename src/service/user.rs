//! Users: creation by administrators, deactivation, "manage my account" (profile, password,
//! security questions), and the first state administrator of a fresh install.

use super::audit::AuditRecord;
use super::{Registry, ServiceError, access};
use crate::auth::password;
use crate::domain::access::{Principal, Role};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::{Issue, IssueType};
use crate::store::identity::{self, OrganizationRow, UserRow};

/// What an administrator submits to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name (unique within the organization, case-insensitively).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// Facility within the organization.
    pub facility_id: Option<String>,
    /// Initial password (must meet the policy).
    pub password: String,
}

fn not_found() -> ServiceError {
    ServiceError::NotFoundNamed("No user with this id.".to_owned())
}

fn check_username(username: &str) -> Result<(), ServiceError> {
    let valid = (3..=64).contains(&username.chars().count())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if valid {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "username",
            "A username has 3 to 64 characters: letters, digits, '.', '-', '_' or '@'.",
        ))
    }
}

/// Checks a new password against the policy; each broken rule is an issue at `field` (the
/// request's name for the new password).
fn check_password(registry: &Registry, new_password: &str, field: &str) -> Result<(), ServiceError> {
    let problems = registry.sessions().settings().password.violations(new_password);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(problems.into_iter().map(|p| Issue::at(IssueType::Invalid, field, p)).collect()))
    }
}

fn check_profile(display_name: &str, email: Option<&str>) -> Result<(), ServiceError> {
    if display_name.trim().is_empty() || display_name.chars().count() > 200 {
        return Err(ServiceError::invalid("displayName", "A display name is required (at most 200 characters)."));
    }
    if email.is_some_and(|e| !super::agreement::looks_like_email(e)) {
        return Err(ServiceError::invalid("email", "The email address is not valid."));
    }
    Ok(())
}

/// Creates a user in `organization_id` (its org admin or state staff; only state staff create
/// state administrators).
pub fn create(
    registry: &Registry,
    principal: &Principal,
    organization_id: &str,
    new: NewUser,
) -> Result<UserRow, ServiceError> {
    if !access::may_manage_organization(principal, organization_id) {
        return Err(if access::may_view_organization(principal, organization_id) {
            ServiceError::Forbidden("Only the organization's administrators manage its users.".to_owned())
        } else {
            ServiceError::NotFoundNamed("No organization with this id.".to_owned())
        });
    }
    if new.role == Role::StateAdmin && !principal.is_state_admin() {
        return Err(ServiceError::Forbidden("Only state staff create state administrators.".to_owned()));
    }
    check_username(&new.username)?;
    check_profile(&new.display_name, new.email.as_deref())?;
    check_password(registry, &new.password, "password")?;
    let hash = password::hash_password(&new.password).map_err(|e| ServiceError::Configuration(e.to_string()))?;
    let now = Timestamp::now().micros();
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        organization_id: organization_id.to_owned(),
        facility_id: new.facility_id,
        username_norm: new.username.to_lowercase(),
        username: new.username,
        display_name: new.display_name,
        email: new.email,
        phone: new.phone,
        role: new.role.as_str().to_owned(),
        password_hash: hash,
        password_changed_at: now,
        failed_logins: 0,
        locked_until: None,
        active: true,
        tokens_valid_after: 0,
        created_at: now,
        updated_at: now,
    };
    let mut record = AuditRecord::by(principal, "user-create").on("User");
    record.resource_ids = vec![row.id.clone()];
    registry.database().write(move |conn| -> Result<UserRow, ServiceError> {
        let organization = identity::organization(conn, &row.organization_id)?
            .ok_or_else(|| ServiceError::NotFoundNamed("No organization with this id.".to_owned()))?;
        if new.role == Role::StateAdmin && !organization.operator {
            return Err(ServiceError::invalid(
                "role",
                "State administrators belong to the health department that runs the registry.",
            ));
        }
        check_role_fits_organization(new.role, &organization.kind)?;
        if let Some(facility_id) = &row.facility_id {
            match identity::facility(conn, facility_id)? {
                Some(f) if f.organization_id == row.organization_id => {}
                _ => {
                    return Err(ServiceError::invalid("facilityId", "The facility is not one of this organization's."));
                }
            }
        }
        if identity::user_by_login(conn, &row.organization_id, &row.username_norm)?.is_some() {
            return Err(ServiceError::Conflict(Issue::at(
                IssueType::Duplicate,
                "username",
                "This username is taken in the organization.",
            )));
        }
        identity::insert_user(conn, &row)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(row)
    })
}

/// Schools and child care only ever read: their people and systems get read-only roles.
pub(crate) fn check_role_fits_organization(role: Role, organization_kind: &str) -> Result<(), ServiceError> {
    let read_only_kind =
        crate::domain::access::OrganizationKind::parse(organization_kind).is_some_and(|k| k.is_read_only());
    if read_only_kind && !matches!(role, Role::ReadOnly | Role::OrgAdmin) {
        return Err(ServiceError::invalid(
            "role",
            "Schools and child care read only: their users are read_only (or org_admin).",
        ));
    }
    Ok(())
}

/// The users of an organization.
pub fn list(registry: &Registry, principal: &Principal, organization_id: &str) -> Result<Vec<UserRow>, ServiceError> {
    if !access::may_manage_organization(principal, organization_id) {
        return Err(ServiceError::NotFoundNamed("No organization with this id.".to_owned()));
    }
    Ok(registry.database().read(|conn| identity::users_of(conn, organization_id))?)
}

/// One user (their administrators, state staff, or themselves).
pub fn get(registry: &Registry, principal: &Principal, user_id: &str) -> Result<UserRow, ServiceError> {
    let user = registry.database().read(|conn| identity::user(conn, user_id))?.ok_or_else(not_found)?;
    if user.id == principal.subject || access::may_manage_organization(principal, &user.organization_id) {
        Ok(user)
    } else {
        Err(not_found())
    }
}

/// Deactivates (or reactivates) a user; deactivation ends every session on the next request.
pub fn set_active(
    registry: &Registry,
    principal: &Principal,
    user_id: &str,
    active: bool,
) -> Result<UserRow, ServiceError> {
    let user = get(registry, principal, user_id)?;
    if !access::may_manage_organization(principal, &user.organization_id) {
        return Err(not_found());
    }
    if user.id == principal.subject && !active {
        return Err(ServiceError::Conflict(Issue::error(
            IssueType::BusinessRule,
            "You cannot deactivate your own account.",
        )));
    }
    let mut record = AuditRecord::by(principal, if active { "user-reactivate" } else { "user-deactivate" }).on("User");
    record.resource_ids = vec![user.id.clone()];
    let id = user.id.clone();
    let row = registry.database().write(move |conn| -> Result<UserRow, ServiceError> {
        identity::set_user_active(conn, &id, active, Timestamp::now().micros())?;
        super::audit::append_in(conn, vec![record])?;
        identity::user(conn, &id)?.ok_or_else(not_found)
    })?;
    registry.sessions().forget_standing();
    Ok(row)
}

/// Edits the caller's own profile.
pub fn update_profile(
    registry: &Registry,
    principal: &Principal,
    display_name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<UserRow, ServiceError> {
    check_profile(display_name, email)?;
    let user = own_account(registry, principal)?;
    let (id, display_name, email, phone) =
        (user.id, display_name.to_owned(), email.map(str::to_owned), phone.map(str::to_owned));
    let record = AuditRecord::by(principal, "profile-update").on("User");
    registry.database().write(move |conn| -> Result<UserRow, ServiceError> {
        identity::set_user_profile(
            conn,
            &id,
            &display_name,
            email.as_deref(),
            phone.as_deref(),
            Timestamp::now().micros(),
        )?;
        super::audit::append_in(conn, vec![record])?;
        identity::user(conn, &id)?.ok_or_else(not_found)
    })
}

/// The caller's own account (users only).
pub fn own_account(registry: &Registry, principal: &Principal) -> Result<UserRow, ServiceError> {
    if principal.kind != crate::domain::access::AgentKind::User {
        return Err(ServiceError::Forbidden("Registered systems have no user account.".to_owned()));
    }
    registry.database().read(|conn| identity::user(conn, &principal.subject))?.ok_or_else(not_found)
}

/// Changes the caller's password (the current one is required).
pub fn change_own_password(
    registry: &Registry,
    principal: &Principal,
    current_password: &str,
    new_password: &str,
) -> Result<(), ServiceError> {
    let user = own_account(registry, principal)?;
    if !password::verify_password(current_password, &user.password_hash) {
        return Err(ServiceError::invalid("currentPassword", "The current password is not correct."));
    }
    set_password_checked(registry, &user, new_password, current_password)
}

/// Sets a new password after the caller proved they know the old one.
pub(crate) fn set_password_checked(
    registry: &Registry,
    user: &UserRow,
    new_password: &str,
    old_password: &str,
) -> Result<(), ServiceError> {
    check_password(registry, new_password, "newPassword")?;
    if new_password == old_password {
        return Err(ServiceError::invalid("newPassword", "The new password must differ from the current one."));
    }
    let hash = password::hash_password(new_password).map_err(|e| ServiceError::Configuration(e.to_string()))?;
    let mut record = AuditRecord::anonymous("password-change").on("User");
    record.agent_kind = "user";
    record.agent_id = Some(user.id.clone());
    record.organization_id = Some(user.organization_id.clone());
    let id = user.id.clone();
    registry.database().write(move |conn| -> Result<(), ServiceError> {
        identity::set_password(conn, &id, &hash, Timestamp::now().micros())?;
        super::audit::append_in(conn, vec![record])?;
        Ok(())
    })
}

/// Sets the caller's security questions (exactly the policy's number, answers long enough).
pub fn set_security_questions(
    registry: &Registry,
    principal: &Principal,
    questions: &[(String, String)],
) -> Result<(), ServiceError> {
    let policy = registry.sessions().settings().password.clone();
    if questions.len() != policy.security_questions {
        return Err(ServiceError::invalid(
            "questions",
            format!("Exactly {} security questions are required.", policy.security_questions),
        ));
    }
    let mut stored = Vec::with_capacity(questions.len());
    for (index, (question, answer)) in questions.iter().enumerate() {
        if question.trim().is_empty() || question.chars().count() > 200 {
            return Err(ServiceError::invalid(
                &format!("questions[{index}].question"),
                "A question is required (at most 200 characters).",
            ));
        }
        if !policy.answer_is_acceptable(answer) || answer.chars().count() > 200 {
            return Err(ServiceError::invalid(
                &format!("questions[{index}].answer"),
                format!("An answer needs at least {} characters.", policy.min_answer_length),
            ));
        }
        if stored.iter().any(|(q, _): &(String, String)| q.eq_ignore_ascii_case(question.trim())) {
            return Err(ServiceError::invalid(&format!("questions[{index}].question"), "The questions must differ."));
        }
        let hash = password::hash_answer(answer).map_err(|e| ServiceError::Configuration(e.to_string()))?;
        stored.push((question.trim().to_owned(), hash));
    }
    let user = own_account(registry, principal)?;
    let record = AuditRecord::by(principal, "security-questions-set").on("User");
    registry.database().write(move |conn| -> Result<(), ServiceError> {
        identity::set_security_answers(conn, &user.id, &stored)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(())
    })
}

/// Creates the health department's organization and its first state administrator on an
/// empty registry (the `bootstrap` command).
pub fn bootstrap_state_admin(
    registry: &Registry,
    organization_name: &str,
    username: &str,
    display_name: &str,
    new_password: &str,
) -> Result<(OrganizationRow, UserRow), ServiceError> {
    check_username(username)?;
    check_profile(display_name, None)?;
    check_password(registry, new_password, "password")?;
    if organization_name.trim().is_empty() {
        return Err(ServiceError::invalid("organization", "The organization needs a name."));
    }
    let hash = password::hash_password(new_password).map_err(|e| ServiceError::Configuration(e.to_string()))?;
    let now = Timestamp::now().micros();
    let organization = OrganizationRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: organization_name.trim().to_owned(),
        kind: crate::domain::access::OrganizationKind::PublicHealth.as_str().to_owned(),
        phone: None,
        email: None,
        operator: true,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let user = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        organization_id: organization.id.clone(),
        facility_id: None,
        username: username.to_owned(),
        username_norm: username.to_lowercase(),
        display_name: display_name.to_owned(),
        email: None,
        phone: None,
        role: Role::StateAdmin.as_str().to_owned(),
        password_hash: hash,
        password_changed_at: now,
        failed_logins: 0,
        locked_until: None,
        active: true,
        tokens_valid_after: 0,
        created_at: now,
        updated_at: now,
    };
    let mut record = AuditRecord::anonymous("bootstrap").on("User");
    record.resource_ids = vec![user.id.clone()];
    record.organization_id = Some(organization.id.clone());
    registry.database().write(move |conn| -> Result<(OrganizationRow, UserRow), ServiceError> {
        if identity::any_user(conn)? {
            return Err(ServiceError::Conflict(Issue::error(
                IssueType::BusinessRule,
                "The registry already has users; bootstrap only works on an empty registry.",
            )));
        }
        identity::insert_organization(conn, &organization)?;
        identity::insert_user(conn, &user)?;
        super::audit::append_in(conn, vec![record])?;
        Ok((organization, user))
    })
}
