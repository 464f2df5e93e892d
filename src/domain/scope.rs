//! SMART on FHIR scopes (v2, with v1 names mapped): what a token lets its holder do, per
//! resource type and interaction.
//!
//! `user/Patient.rs` lets a user read and search Patients; `system/*.cruds` lets a system do
//! everything on every type. v1 names map to v2: `.read` is `rs`, `.write` is `cud`, `.*` is
//! `cruds`. Scopes that are not about resources (`openid`, `fhirUser`, `launch/...`) are kept
//! as text but grant nothing. Scopes with v2 query refinements (`?category=...`) are refused:
//! honouring only part of a narrower request would grant more than was asked for.

use std::fmt;

/// One FHIR interaction, as a SMART v2 permission letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// `c`: create.
    Create,
    /// `r`: read, vread, history of one resource.
    Read,
    /// `u`: update.
    Update,
    /// `d`: delete.
    Delete,
    /// `s`: search, type history.
    Search,
}

impl Interaction {
    const ALL: [Interaction; 5] =
        [Interaction::Create, Interaction::Read, Interaction::Update, Interaction::Delete, Interaction::Search];

    fn bit(self) -> u8 {
        match self {
            Interaction::Create => 1,
            Interaction::Read => 2,
            Interaction::Update => 4,
            Interaction::Delete => 8,
            Interaction::Search => 16,
        }
    }

    fn letter(self) -> char {
        match self {
            Interaction::Create => 'c',
            Interaction::Read => 'r',
            Interaction::Update => 'u',
            Interaction::Delete => 'd',
            Interaction::Search => 's',
        }
    }

    /// The v2 letter, as a word for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Interaction::Create => "create",
            Interaction::Read => "read",
            Interaction::Update => "update",
            Interaction::Delete => "delete",
            Interaction::Search => "search",
        }
    }
}

/// Whose data a scope is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeContext {
    /// `patient/`: one patient in context (not issued by this server; parsed to be refused).
    Patient,
    /// `user/`: what the logged-in user may see.
    User,
    /// `system/`: a backend system.
    System,
}

impl ScopeContext {
    fn as_str(self) -> &'static str {
        match self {
            ScopeContext::Patient => "patient",
            ScopeContext::User => "user",
            ScopeContext::System => "system",
        }
    }
}

/// One resource scope: a context, a resource type (or every type) and a set of interactions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceScope {
    /// `patient`, `user` or `system`.
    pub context: ScopeContext,
    /// The resource type; `None` for `*`.
    pub resource_type: Option<String>,
    permissions: u8,
}

impl ResourceScope {
    /// Whether this scope grants `interaction` on `resource_type`.
    pub fn allows(&self, resource_type: &str, interaction: Interaction) -> bool {
        self.resource_type.as_deref().is_none_or(|t| t == resource_type) && self.permissions & interaction.bit() != 0
    }

    /// The part of `self` that `limit` also grants (same context), if any.
    fn narrowed_by(&self, limit: &ResourceScope) -> Option<ResourceScope> {
        if self.context != limit.context {
            return None;
        }
        let resource_type = match (&self.resource_type, &limit.resource_type) {
            (_, None) => self.resource_type.clone(),
            (None, Some(t)) => Some(t.clone()),
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => return None,
        };
        let permissions = self.permissions & limit.permissions;
        (permissions != 0).then_some(ResourceScope { context: self.context, resource_type, permissions })
    }
}

impl fmt::Display for ResourceScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}.", self.context.as_str(), self.resource_type.as_deref().unwrap_or("*"))?;
        for interaction in Interaction::ALL {
            if self.permissions & interaction.bit() != 0 {
                write!(f, "{}", interaction.letter())?;
            }
        }
        Ok(())
    }
}

/// Why a scope string is refused (OAuth2 `invalid_scope`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope {scope:?}: {reason}")]
pub struct InvalidScope {
    /// The offending scope.
    pub scope: String,
    /// Why.
    pub reason: &'static str,
}

/// A parsed, space-separated scope list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    resources: Vec<ResourceScope>,
    /// Scopes that grant no resource access but are echoed back (`openid`, `fhirUser`).
    other: Vec<String>,
}

/// Longest scope string accepted (a token request is untrusted input).
const MAX_SCOPE_TEXT: usize = 4096;

impl Scopes {
    /// Parses a space-separated scope list.
    pub fn parse(text: &str) -> Result<Scopes, InvalidScope> {
        if text.len() > MAX_SCOPE_TEXT {
            return Err(InvalidScope { scope: String::new(), reason: "the scope list is too long" });
        }
        let mut scopes = Scopes::default();
        for word in text.split_ascii_whitespace() {
            match parse_resource_scope(word)? {
                Some(scope) => {
                    if !scopes.resources.contains(&scope) {
                        scopes.resources.push(scope);
                    }
                }
                None => {
                    if !scopes.other.iter().any(|o| o == word) {
                        scopes.other.push(word.to_owned());
                    }
                }
            }
        }
        Ok(scopes)
    }

    /// Whether some scope grants `interaction` on `resource_type`.
    pub fn allows(&self, resource_type: &str, interaction: Interaction) -> bool {
        self.resources.iter().any(|scope| scope.allows(resource_type, interaction))
    }

    /// What of `self` (requested) `limit` (pre-authorized) grants: each requested scope cut
    /// down to what the limit allows. Non-resource scopes are kept only if the limit has them
    /// or they are identity scopes (`openid`, `fhirUser`).
    pub fn narrowed_by(&self, limit: &Scopes) -> Scopes {
        let mut result = Scopes::default();
        for requested in &self.resources {
            for allowed in &limit.resources {
                if let Some(scope) = requested.narrowed_by(allowed)
                    && !result.resources.contains(&scope)
                {
                    result.resources.push(scope);
                }
            }
        }
        result.other = self.other.iter().filter(|o| limit.other.contains(o) || is_identity_scope(o)).cloned().collect();
        result
    }

    /// Whether no resource access is granted.
    pub fn grants_nothing(&self) -> bool {
        self.resources.is_empty()
    }

    /// The resource scopes.
    pub fn resource_scopes(&self) -> &[ResourceScope] {
        &self.resources
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for word in self.resources.iter().map(ToString::to_string).chain(self.other.iter().cloned()) {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(&word)?;
            first = false;
        }
        Ok(())
    }
}

fn is_identity_scope(scope: &str) -> bool {
    matches!(scope, "openid" | "fhirUser" | "profile")
}

/// `user/Patient.rs` -> a scope; `openid` -> `None`; malformed resource scopes -> an error.
fn parse_resource_scope(word: &str) -> Result<Option<ResourceScope>, InvalidScope> {
    let invalid = |reason| InvalidScope { scope: word.chars().take(100).collect(), reason };
    let Some((context, rest)) = word.split_once('/') else {
        return Ok(None);
    };
    let context = match context {
        "patient" => ScopeContext::Patient,
        "user" => ScopeContext::User,
        "system" => ScopeContext::System,
        // `launch/patient` and similar are not resource scopes.
        _ => return Ok(None),
    };
    if rest.contains('?') {
        return Err(invalid("scopes with query refinements are not supported"));
    }
    let Some((resource_type, permissions)) = rest.split_once('.') else {
        return Err(invalid("a resource scope is context/Type.permissions"));
    };
    let resource_type = match resource_type {
        "*" => None,
        t if !t.is_empty()
            && t.bytes().all(|b| b.is_ascii_alphabetic())
            && t.starts_with(|c: char| c.is_ascii_uppercase()) =>
        {
            Some(t.to_owned())
        }
        _ => return Err(invalid("the resource type is not a FHIR type name or *")),
    };
    let permissions = match permissions {
        "read" => Interaction::Read.bit() | Interaction::Search.bit(),
        "write" => Interaction::Create.bit() | Interaction::Update.bit() | Interaction::Delete.bit(),
        "*" => Interaction::ALL.iter().fold(0, |acc, i| acc | i.bit()),
        letters => {
            parse_v2_permissions(letters).ok_or_else(|| invalid("permissions are letters of cruds, in that order"))?
        }
    };
    Ok(Some(ResourceScope { context, resource_type, permissions }))
}

/// `cruds` letters, each at most once and in that order.
fn parse_v2_permissions(letters: &str) -> Option<u8> {
    let mut permissions = 0u8;
    let mut next = 0;
    for letter in letters.chars() {
        let position = Interaction::ALL.iter().skip(next).position(|i| i.letter() == letter)?;
        permissions |= Interaction::ALL[next + position].bit();
        next += position + 1;
    }
    (permissions != 0).then_some(permissions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_scopes_grant_their_letters_only() {
        let scopes = Scopes::parse("user/Patient.rs user/Immunization.cu").unwrap();
        assert!(scopes.allows("Patient", Interaction::Read));
        assert!(scopes.allows("Patient", Interaction::Search));
        assert!(!scopes.allows("Patient", Interaction::Create));
        assert!(scopes.allows("Immunization", Interaction::Update));
        assert!(!scopes.allows("Immunization", Interaction::Read));
        assert!(!scopes.allows("Organization", Interaction::Read));
    }

    #[test]
    fn wildcards_and_v1_names_map_to_v2() {
        let scopes = Scopes::parse("system/*.read user/Patient.write").unwrap();
        assert!(scopes.allows("Immunization", Interaction::Search));
        assert!(!scopes.allows("Immunization", Interaction::Delete));
        assert!(scopes.allows("Patient", Interaction::Delete));
        assert!(scopes.allows("Patient", Interaction::Read), "system/*.read covers Patient");
        let all = Scopes::parse("system/*.*").unwrap();
        assert!(all.allows("AuditEvent", Interaction::Delete));
    }

    #[test]
    fn malformed_scopes_are_refused() {
        for bad in [
            "user/Patient.rc",
            "user/Patient.rr",
            "user/Patient",
            "user/patient.r",
            "user/Patient.x",
            "user/Patient.rs?category=a",
        ] {
            assert!(Scopes::parse(bad).is_err(), "{bad}");
        }
        assert!(Scopes::parse("openid fhirUser launch/patient").unwrap().grants_nothing());
    }

    #[test]
    fn requested_scopes_are_cut_to_the_preauthorized_ones() {
        let allowed = Scopes::parse("system/Patient.rs system/Immunization.cruds").unwrap();
        let requested = Scopes::parse("system/*.cruds user/Patient.r openid").unwrap();
        let granted = requested.narrowed_by(&allowed);
        assert_eq!(granted.to_string(), "system/Patient.rs system/Immunization.cruds openid");
        assert!(!granted.allows("Patient", Interaction::Update));
    }
}
