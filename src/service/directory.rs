//! Read-only FHIR views of the registry's own records: the Organization and Location
//! directory (every enrolled organization may look sites up) and the AuditEvent trail (state
//! staff: everything; an organization's administrators: their organization's events).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::audit::AuditRecord;
use super::{Registry, ServiceError};
use crate::domain::access::Principal;
use crate::domain::scope::Interaction;
use crate::domain::time::Timestamp;
use crate::fhir::directory::{self, AuditFacts, LocationFacts, OrganizationFacts};
use crate::fhir::outcome::{Issue, IssueType};
use crate::store::audit::{self as audit_store, AuditFilter, AuditRow};
use crate::store::identity::{self, FacilityQuery, FacilityRow, OrganizationQuery, OrganizationRow};

/// Default page size.
const DEFAULT_COUNT: usize = 50;
/// Largest page size.
const MAX_COUNT: usize = 1000;

/// A page of rendered resources and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct DirectoryPage {
    /// The resources.
    pub resources: Vec<Value>,
    /// Opaque cursor for `_cursor`, when there is more.
    pub next_cursor: Option<String>,
    /// The accepted parameters (for links).
    pub link_params: Vec<(String, String)>,
}

fn invalid(parameter: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest(Issue::at(IssueType::Invalid, parameter, message))
}

fn check(
    registry: &Registry,
    principal: &Principal,
    resource_type: &str,
    interaction: Interaction,
) -> Result<(), ServiceError> {
    let record = AuditRecord::by(principal, interaction.as_str()).on(resource_type);
    super::resource::authorize(registry, principal, resource_type, interaction, &record)
}

/// Parameters common to every search: `_count` and `_cursor`; the rest go to `accept`.
struct Paging {
    count: usize,
    cursor: Option<String>,
    link_params: Vec<(String, String)>,
}

fn paging(
    params: &[(String, String)],
    lenient: bool,
    mut accept: impl FnMut(&str, &str) -> Result<bool, ServiceError>,
) -> Result<Paging, ServiceError> {
    let mut paging = Paging { count: DEFAULT_COUNT, cursor: None, link_params: Vec::new() };
    for (name, value) in params {
        match name.as_str() {
            "_count" => {
                paging.count = value
                    .parse::<usize>()
                    .ok()
                    .filter(|c| *c >= 1)
                    .ok_or_else(|| invalid("_count", "_count must be a whole number from 1."))?
                    .min(MAX_COUNT);
                paging.link_params.push((name.clone(), paging.count.to_string()));
            }
            "_cursor" => {
                let decoded = URL_SAFE_NO_PAD
                    .decode(value)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| invalid("_cursor", "The _cursor was not issued by this server."))?;
                paging.cursor = Some(decoded);
            }
            _ => {
                if accept(name, value)? {
                    paging.link_params.push((name.clone(), value.clone()));
                } else if !lenient {
                    return Err(invalid(name, format!("Unknown or unsupported search parameter: {name}.")));
                }
            }
        }
    }
    Ok(paging)
}

fn cursor_of(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last)
}

fn organization_resource(row: &OrganizationRow) -> Value {
    directory::organization(&OrganizationFacts {
        id: &row.id,
        name: &row.name,
        kind: &row.kind,
        phone: row.phone.as_deref(),
        email: row.email.as_deref(),
        active: row.active,
        updated_at: Timestamp(row.updated_at),
    })
}

fn location_resource(row: &FacilityRow) -> Value {
    directory::location(&LocationFacts {
        id: &row.id,
        organization_id: &row.organization_id,
        name: &row.name,
        site_code: row.site_code.as_deref(),
        address_line: row.address_line.as_deref(),
        city: row.city.as_deref(),
        state: row.state.as_deref(),
        postal_code: row.postal_code.as_deref(),
        phone: row.phone.as_deref(),
        active: row.active,
        updated_at: Timestamp(row.updated_at),
    })
}

fn not_found(resource_type: &str) -> ServiceError {
    ServiceError::NotFoundNamed(format!("No {resource_type} with this id."))
}

/// `GET /fhir/Organization/{id}`.
pub fn read_organization(registry: &Registry, principal: &Principal, id: &str) -> Result<Value, ServiceError> {
    check(registry, principal, "Organization", Interaction::Read)?;
    let row =
        registry.database().read(|conn| identity::organization(conn, id))?.ok_or_else(|| not_found("Organization"))?;
    Ok(organization_resource(&row))
}

/// `GET /fhir/Organization?...`: `_id`, `name` (prefix, any case), `type` (provider, pharmacy,
/// school, child_care, health_plan, public_health), `active`.
pub fn search_organizations(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<DirectoryPage, ServiceError> {
    check(registry, principal, "Organization", Interaction::Search)?;
    let mut query = OrganizationQuery::default();
    let paging = paging(params, lenient, |name, value| {
        match name {
            "_id" => query.id = Some(value.to_owned()),
            "name" => query.name_prefix = Some(value.to_owned()),
            "type" => {
                let kind = crate::domain::access::OrganizationKind::parse(value).ok_or_else(|| {
                    invalid(
                        "type",
                        "type is one of provider, pharmacy, school, child_care, health_plan, public_health.",
                    )
                })?;
                query.kind = Some(kind.as_str().to_owned());
            }
            "active" => {
                query.active = Some(value.parse::<bool>().map_err(|_| invalid("active", "active is true or false."))?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    query.after_id = paging.cursor.clone();
    let limit = i64::try_from(paging.count + 1).unwrap_or(i64::MAX);
    let mut rows = registry.database().read(|conn| identity::search_organizations(conn, &query, limit))?;
    let next_cursor = more(&mut rows, paging.count, |r| r.id.clone());
    Ok(DirectoryPage {
        resources: rows.iter().map(organization_resource).collect(),
        next_cursor,
        link_params: paging.link_params,
    })
}

fn more<T>(rows: &mut Vec<T>, count: usize, key: impl Fn(&T) -> String) -> Option<String> {
    if rows.len() > count {
        rows.truncate(count);
        rows.last().map(|last| cursor_of(&key(last)))
    } else {
        None
    }
}

/// `GET /fhir/Location/{id}`.
pub fn read_location(registry: &Registry, principal: &Principal, id: &str) -> Result<Value, ServiceError> {
    check(registry, principal, "Location", Interaction::Read)?;
    let row = registry.database().read(|conn| identity::facility(conn, id))?.ok_or_else(|| not_found("Location"))?;
    Ok(location_resource(&row))
}

/// `GET /fhir/Location?...`: `_id`, `organization`, `name` (prefix), `identifier` (site code,
/// optionally `urn:izreg:site-code|`), `address-postalcode` (prefix).
pub fn search_locations(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<DirectoryPage, ServiceError> {
    check(registry, principal, "Location", Interaction::Search)?;
    let mut query = FacilityQuery::default();
    let paging = paging(params, lenient, |name, value| {
        match name {
            "_id" => query.id = Some(value.to_owned()),
            "organization" => {
                query.organization_id = Some(value.strip_prefix("Organization/").unwrap_or(value).to_owned())
            }
            "name" => query.name_prefix = Some(value.to_owned()),
            "identifier" => {
                let code = match value.split_once('|') {
                    Some((system, code)) if system.is_empty() || system == directory::SITE_CODE_SYSTEM => code,
                    Some(_) => {
                        return Err(invalid(
                            "identifier",
                            format!("Locations are identified in {}.", directory::SITE_CODE_SYSTEM),
                        ));
                    }
                    None => value,
                };
                query.site_code = Some(code.to_owned());
            }
            "address-postalcode" => query.postal_code_prefix = Some(value.to_owned()),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    query.after_id = paging.cursor.clone();
    let limit = i64::try_from(paging.count + 1).unwrap_or(i64::MAX);
    let mut rows = registry.database().read(|conn| identity::search_facilities(conn, &query, limit))?;
    let next_cursor = more(&mut rows, paging.count, |r| r.id.clone());
    Ok(DirectoryPage {
        resources: rows.iter().map(location_resource).collect(),
        next_cursor,
        link_params: paging.link_params,
    })
}

fn audit_resource(row: &AuditRow) -> Value {
    let id = row.seq.to_string();
    directory::audit_event(&AuditFacts {
        id: &id,
        recorded_at: Timestamp(row.recorded_at),
        agent_kind: &row.agent_kind,
        agent_id: row.agent_id.as_deref(),
        organization_id: row.organization_id.as_deref(),
        facility_id: row.facility_id.as_deref(),
        token_id: row.token_id.as_deref(),
        action: &row.action,
        resource_type: row.resource_type.as_deref(),
        resource_ids: &row.resource_ids,
        patient_ids: &row.patient_ids,
        query: row.query.as_deref(),
        outcome: &row.outcome,
        status: row.status,
        detail: row.detail.as_deref(),
        hash: &row.hash,
    })
}

/// `GET /fhir/AuditEvent?...` (newest first): `date` (with `ge`/`gt`/`le`/`lt`/`eq`
/// prefixes, repeatable), `agent` (user or client id), `patient`, `subtype` (the izreg
/// action), `outcome` (0, 4, 8). State staff see every event; an organization's administrator
/// sees the organization's own. Reading the trail is itself audited.
pub fn search_audit_events(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<DirectoryPage, ServiceError> {
    check(registry, principal, "AuditEvent", Interaction::Search)?;
    let mut filter = AuditFilter::default();
    if !principal.is_state_admin() {
        filter.organization_id = Some(principal.organization_id.clone());
    }
    let paging = paging(params, lenient, |name, value| {
        match name {
            "date" => apply_date(&mut filter, value)?,
            "agent" => filter.agent_id = Some(value.to_owned()),
            "patient" => filter.patient_id = Some(value.strip_prefix("Patient/").unwrap_or(value).to_owned()),
            "subtype" => filter.action = Some(value.rsplit('|').next().unwrap_or(value).to_owned()),
            "outcome" => {
                filter.outcome = Some(
                    match value {
                        "0" => "success",
                        "4" => "failed",
                        "8" => "denied",
                        _ => return Err(invalid("outcome", "outcome is 0 (success), 4 (failed) or 8 (denied).")),
                    }
                    .to_owned(),
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if let Some(cursor) = &paging.cursor {
        filter.before_seq =
            Some(cursor.parse().map_err(|_| invalid("_cursor", "The _cursor was not issued by this server."))?);
    }
    let limit = i64::try_from(paging.count + 1).unwrap_or(i64::MAX);
    let mut rows = registry.database().read(|conn| audit_store::search(conn, &filter, limit))?;
    let next_cursor = more(&mut rows, paging.count, |r| r.seq.to_string());
    let mut record = AuditRecord::by(principal, "search").on("AuditEvent");
    record.query = Some(form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish());
    record.resource_ids = rows.iter().map(|r| r.seq.to_string()).collect();
    registry.audit().record(record);
    Ok(DirectoryPage {
        resources: rows.iter().map(audit_resource).collect(),
        next_cursor,
        link_params: paging.link_params,
    })
}

fn apply_date(filter: &mut AuditFilter, value: &str) -> Result<(), ServiceError> {
    let (prefix, text) = match value.get(..2) {
        Some(p @ ("ge" | "gt" | "le" | "lt" | "eq")) => (p, &value[2..]),
        _ => ("eq", value),
    };
    let range = crate::fhir::date::parse_search_value(text).ok_or_else(|| {
        invalid("date", "date is a FHIR date or dateTime, optionally prefixed with ge, gt, le, lt or eq.")
    })?;
    let (from, to) = match prefix {
        "ge" => (Some(range.start.micros()), None),
        "gt" => (Some(range.end.micros()), None),
        "le" => (None, Some(range.end.micros())),
        "lt" => (None, Some(range.start.micros())),
        _ => (Some(range.start.micros()), Some(range.end.micros())),
    };
    if let Some(from) = from {
        filter.from = Some(filter.from.map_or(from, |f| f.max(from)));
    }
    if let Some(to) = to {
        filter.to = Some(filter.to.map_or(to, |t| t.min(to)));
    }
    Ok(())
}

/// `GET /fhir/AuditEvent/{id}` (the same visibility as the search).
pub fn read_audit_event(registry: &Registry, principal: &Principal, id: &str) -> Result<Value, ServiceError> {
    check(registry, principal, "AuditEvent", Interaction::Read)?;
    let row = match id.parse::<i64>() {
        Ok(seq) => registry.database().read(|conn| audit_store::event(conn, seq))?,
        Err(_) => None,
    };
    match row {
        Some(row)
            if principal.is_state_admin()
                || row.organization_id.as_deref() == Some(principal.organization_id.as_str()) =>
        {
            let mut record = AuditRecord::by(principal, "read").on("AuditEvent");
            record.resource_ids = vec![row.seq.to_string()];
            registry.audit().record(record);
            Ok(audit_resource(&row))
        }
        _ => Err(not_found("AuditEvent")),
    }
}
