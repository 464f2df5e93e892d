//! Organization, Location and AuditEvent as FHIR R4 JSON, rendered from the registry's
//! relational records (these resources are views: they are not stored as FHIR).

use serde_json::{Value, json};

use super::date::format_instant;
use crate::domain::time::Timestamp;

/// What an Organization resource shows.
#[derive(Debug, Clone)]
pub struct OrganizationFacts<'a> {
    /// Id.
    pub id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Kind code (provider, pharmacy, school, ...).
    pub kind: &'a str,
    /// Phone.
    pub phone: Option<&'a str>,
    /// Email.
    pub email: Option<&'a str>,
    /// Active.
    pub active: bool,
    /// Last change.
    pub updated_at: Timestamp,
}

/// `Organization.type`: the HL7 organization-type code closest to each kind.
fn organization_type(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "provider" => ("prov", "Healthcare Provider"),
        "pharmacy" => ("prov", "Healthcare Provider"),
        "school" | "child_care" => ("edu", "Educational Institute"),
        "health_plan" => ("pay", "Payer"),
        "public_health" => ("govt", "Government"),
        _ => ("other", "Other"),
    }
}

fn telecom(phone: Option<&str>, email: Option<&str>) -> Vec<Value> {
    let mut telecom = Vec::new();
    if let Some(phone) = phone {
        telecom.push(json!({"system": "phone", "value": phone, "use": "work"}));
    }
    if let Some(email) = email {
        telecom.push(json!({"system": "email", "value": email, "use": "work"}));
    }
    telecom
}

/// An Organization resource.
pub fn organization(facts: &OrganizationFacts<'_>) -> Value {
    let (code, display) = organization_type(facts.kind);
    let mut resource = json!({
        "resourceType": "Organization",
        "id": facts.id,
        "meta": {"lastUpdated": format_instant(facts.updated_at)},
        "active": facts.active,
        "type": [{
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": code, "display": display}],
            "text": facts.kind.replace('_', " "),
        }],
        "name": facts.name,
    });
    let telecom = telecom(facts.phone, facts.email);
    if !telecom.is_empty() {
        resource["telecom"] = json!(telecom);
    }
    resource
}

/// What a Location resource shows.
#[derive(Debug, Clone)]
pub struct LocationFacts<'a> {
    /// Id.
    pub id: &'a str,
    /// Managing organization.
    pub organization_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// The state's site code.
    pub site_code: Option<&'a str>,
    /// Street address.
    pub address_line: Option<&'a str>,
    /// City.
    pub city: Option<&'a str>,
    /// State.
    pub state: Option<&'a str>,
    /// ZIP.
    pub postal_code: Option<&'a str>,
    /// Phone.
    pub phone: Option<&'a str>,
    /// Active.
    pub active: bool,
    /// Last change.
    pub updated_at: Timestamp,
}

/// The identifier system of facilities' site codes.
pub const SITE_CODE_SYSTEM: &str = "urn:izreg:site-code";

/// A Location resource.
pub fn location(facts: &LocationFacts<'_>) -> Value {
    let mut resource = json!({
        "resourceType": "Location",
        "id": facts.id,
        "meta": {"lastUpdated": format_instant(facts.updated_at)},
        "status": if facts.active { "active" } else { "inactive" },
        "name": facts.name,
        "mode": "instance",
        "managingOrganization": {"reference": format!("Organization/{}", facts.organization_id)},
    });
    if let Some(code) = facts.site_code {
        resource["identifier"] = json!([{"system": SITE_CODE_SYSTEM, "value": code}]);
    }
    let mut address = serde_json::Map::new();
    if let Some(line) = facts.address_line {
        address.insert("line".to_owned(), json!([line]));
    }
    for (key, value) in [("city", facts.city), ("state", facts.state), ("postalCode", facts.postal_code)] {
        if let Some(value) = value {
            address.insert(key.to_owned(), json!(value));
        }
    }
    if !address.is_empty() {
        resource["address"] = Value::Object(address);
    }
    let telecom = telecom(facts.phone, None);
    if !telecom.is_empty() {
        resource["telecom"] = json!(telecom);
    }
    resource
}

/// What an AuditEvent resource shows.
#[derive(Debug, Clone)]
pub struct AuditFacts<'a> {
    /// Id (the position in the hash chain).
    pub id: &'a str,
    /// When.
    pub recorded_at: Timestamp,
    /// user, system or anonymous.
    pub agent_kind: &'a str,
    /// User or client id.
    pub agent_id: Option<&'a str>,
    /// Organization.
    pub organization_id: Option<&'a str>,
    /// Facility.
    pub facility_id: Option<&'a str>,
    /// Token id.
    pub token_id: Option<&'a str>,
    /// What was done.
    pub action: &'a str,
    /// Resource type.
    pub resource_type: Option<&'a str>,
    /// Resource ids.
    pub resource_ids: &'a str,
    /// Patient ids.
    pub patient_ids: &'a str,
    /// Query of a search.
    pub query: Option<&'a str>,
    /// success, denied, failed.
    pub outcome: &'a str,
    /// HTTP status.
    pub status: i32,
    /// Why.
    pub detail: Option<&'a str>,
    /// The event's chain hash.
    pub hash: &'a str,
}

/// FHIR `AuditEvent.action` for an izreg action.
fn action_code(action: &str) -> &'static str {
    match action {
        "create" | "create-matched" => "C",
        "read" | "vread" | "history" | "search" => "R",
        "update" => "U",
        "delete" => "D",
        _ => "E",
    }
}

/// An AuditEvent resource.
pub fn audit_event(facts: &AuditFacts<'_>) -> Value {
    let rest = matches!(action_code(facts.action), "C" | "R" | "U" | "D");
    let event_type = if rest {
        json!({"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation"})
    } else {
        json!({"system": "urn:izreg:audit-event-type", "code": "security", "display": "Security and administration"})
    };
    let outcome = match facts.outcome {
        "success" => "0",
        "failed" => "4",
        _ => "8",
    };
    let who = match (facts.agent_kind, facts.agent_id) {
        (kind, Some(id)) => json!({"identifier": {"system": format!("urn:izreg:{kind}"), "value": id}}),
        (_, None) => json!({"display": "anonymous"}),
    };
    let mut agent = json!({"who": who, "requestor": true});
    if let Some(token) = facts.token_id {
        agent["altId"] = json!(token);
    }
    if let Some(organization) = facts.organization_id {
        agent["location"] = match facts.facility_id {
            Some(facility) => json!({"reference": format!("Location/{facility}")}),
            None => json!({"display": format!("Organization/{organization}")}),
        };
        agent["extension"] = json!([{"url": "urn:izreg:agent-organization", "valueReference": {"reference": format!("Organization/{organization}")}}]);
    }
    let mut entities = Vec::new();
    for patient in facts.patient_ids.split(' ').filter(|p| !p.is_empty()) {
        entities.push(json!({
            "what": {"reference": format!("Patient/{patient}")},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
        }));
    }
    if let Some(resource_type) = facts.resource_type {
        for id in facts.resource_ids.split(' ').filter(|p| !p.is_empty()) {
            if resource_type == "Patient" && facts.patient_ids.split(' ').any(|p| p == id) {
                continue;
            }
            entities.push(json!({"what": {"reference": format!("{resource_type}/{id}")}}));
        }
    }
    if let Some(query) = facts.query {
        use base64::Engine;
        entities.push(json!({
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24", "display": "Query"},
            "query": base64::engine::general_purpose::STANDARD.encode(query),
        }));
    }
    let mut resource = json!({
        "resourceType": "AuditEvent",
        "id": facts.id,
        "meta": {"lastUpdated": format_instant(facts.recorded_at)},
        "type": event_type,
        "subtype": [{"system": "urn:izreg:audit-action", "code": facts.action}],
        "action": action_code(facts.action),
        "recorded": format_instant(facts.recorded_at),
        "outcome": outcome,
        "agent": [agent],
        "source": {"observer": {"display": "izreg"}},
        "extension": [
            {"url": "urn:izreg:audit-hash", "valueString": facts.hash},
            {"url": "urn:izreg:http-status", "valueInteger": facts.status},
        ],
    });
    if let Some(detail) = facts.detail {
        resource["outcomeDesc"] = json!(detail);
    }
    if !entities.is_empty() {
        resource["entity"] = json!(entities);
    }
    resource
}

/// A searchset Bundle of rendered resources.
pub fn searchset(base_url: &str, self_link: &str, next_link: Option<&str>, resources: Vec<Value>) -> Value {
    let mut links = vec![json!({"relation": "self", "url": self_link})];
    if let Some(next) = next_link {
        links.push(json!({"relation": "next", "url": next}));
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let full_url = format!(
                "{base_url}/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries})
}
