//! Who is asking: organizations' kinds, users' roles, and the principal a verified token
//! stands for.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::scope::Scopes;

/// What kind of organization signs a data use agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// A clinic, hospital or practice that gives vaccines.
    Provider,
    /// A pharmacy.
    Pharmacy,
    /// A school (read only).
    School,
    /// A child care provider (read only).
    ChildCare,
    /// A health plan.
    HealthPlan,
    /// The state or a local public health agency.
    PublicHealth,
}

impl OrganizationKind {
    /// Every kind, in a stable order.
    pub const ALL: [OrganizationKind; 6] = [
        OrganizationKind::Provider,
        OrganizationKind::Pharmacy,
        OrganizationKind::School,
        OrganizationKind::ChildCare,
        OrganizationKind::HealthPlan,
        OrganizationKind::PublicHealth,
    ];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationKind::Provider => "provider",
            OrganizationKind::Pharmacy => "pharmacy",
            OrganizationKind::School => "school",
            OrganizationKind::ChildCare => "child_care",
            OrganizationKind::HealthPlan => "health_plan",
            OrganizationKind::PublicHealth => "public_health",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        OrganizationKind::ALL.into_iter().find(|kind| kind.as_str() == code)
    }

    /// Schools and child care only ever read.
    pub fn is_read_only(self) -> bool {
        matches!(self, OrganizationKind::School | OrganizationKind::ChildCare)
    }
}

/// A user's (or a registered system's) role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Health department staff: organizations, agreements, every user, all records.
    StateAdmin,
    /// Manages the organization's users, facilities and systems.
    OrgAdmin,
    /// Reads and writes patient data.
    Clinician,
    /// Reads patient data, writes demographics (Patient) only.
    Clerk,
    /// Schools and child care: reads only, whatever the scopes say.
    ReadOnly,
    /// Runs reminder/recall for the organization's population (reads).
    ReminderRecall,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] =
        [Role::StateAdmin, Role::OrgAdmin, Role::Clinician, Role::Clerk, Role::ReadOnly, Role::ReminderRecall];

    /// The stored code (also the `role` claim).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::StateAdmin => "state_admin",
            Role::OrgAdmin => "org_admin",
            Role::Clinician => "clinician",
            Role::Clerk => "clerk",
            Role::ReadOnly => "read_only",
            Role::ReminderRecall => "reminder_recall",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|role| role.as_str() == code)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a token was issued to a person or to a registered system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentKind {
    /// A user who logged in with a password.
    User,
    /// A registered system (SMART Backend Services).
    System,
}

impl AgentKind {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::User => "user",
            AgentKind::System => "system",
        }
    }
}

/// The caller of a request, from a verified token. Built by the HTTP layer, judged by
/// `service::access`.
#[derive(Debug, Clone)]
pub struct Principal {
    /// User or system.
    pub kind: AgentKind,
    /// The user id or client id (`sub`).
    pub subject: String,
    /// The organization the caller acts for.
    pub organization_id: String,
    /// The facility the caller acts for, if any.
    pub facility_id: Option<String>,
    /// The role.
    pub role: Role,
    /// What the token grants.
    pub scopes: Scopes,
    /// The token id (`jti`), for the audit trail and revocation.
    pub token_id: String,
    /// When the token was issued (microseconds since the epoch).
    pub issued_at: i64,
    /// When the token expires (microseconds since the epoch).
    pub expires_at: i64,
}

impl Principal {
    /// Whether the caller is state staff.
    pub fn is_state_admin(&self) -> bool {
        self.role == Role::StateAdmin
    }
}
