//! `POST /fhir` with a Bundle: `transaction` (all or nothing, `urn:uuid:` references between
//! entries resolved) or `batch` (each entry on its own).
//!
//! Everything that needs no database (structure, references, validation of every resource)
//! is done before the write; the write then runs the entries in FHIR's order: DELETE, POST
//! (Patients before Immunizations, so references resolve), PUT, GET.

use serde_json::Value;
use std::collections::HashMap;

use super::audit::{AuditOutcome, AuditRecord};
use super::kind::{ImmunizationKind, PatientKind, ResourceKind, Validated};
use super::resource::{
    Condition, CreateOutcome, DeleteOutcome, check_update_id, create_in, delete_in, find_single_match, parse_condition,
    read_in, search_in, searchset_json, update_in, vread_in,
};
use super::{Registry, ServiceError};
use crate::domain::access::Principal;
use crate::domain::codes::CodeTables;
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::PatientIndex;
use crate::domain::resource::{ResourceType, StoredResource};
use crate::domain::scope::Interaction;
use crate::domain::time::Timestamp;
use crate::fhir::bundle::{ResponseEntry, response_bundle};
use crate::fhir::outcome::{Issue, IssueType, operation_outcome};
use crate::store::DbConnection;

/// Most entries one Bundle may carry.
pub const MAX_BUNDLE_ENTRIES: usize = 1000;

/// The response Bundle, as JSON.
#[derive(Debug, Clone)]
pub struct BundleResponse {
    /// The `transaction-response` / `batch-response` Bundle.
    pub json: String,
}

/// A validated resource of either type.
#[derive(Debug, Clone)]
enum AnyValidated {
    Patient(Validated<PatientIndex>),
    Immunization(Validated<ImmunizationIndex>),
}

/// A conditional-create condition of either type.
#[derive(Debug, Clone)]
enum AnyCondition {
    Patient(Condition<PatientKind>),
    Immunization(Condition<ImmunizationKind>),
}

/// What an entry asks for, checked and ready to run.
#[derive(Debug, Clone)]
enum Plan {
    Create {
        resource_type: ResourceType,
        id: ResourceId,
        body: Value,
        resource: AnyValidated,
        condition: Option<AnyCondition>,
    },
    Update {
        resource_type: ResourceType,
        id: ResourceId,
        body: Value,
        resource: AnyValidated,
        if_match: Option<VersionId>,
    },
    Delete {
        resource_type: ResourceType,
        id: ResourceId,
    },
    Read {
        resource_type: ResourceType,
        id: ResourceId,
        version: Option<String>,
    },
    Search {
        resource_type: ResourceType,
        params: Vec<(String, String)>,
    },
}

/// An entry as parsed from the request, before validation.
struct RawEntry {
    method: String,
    resource_type: ResourceType,
    id: Option<String>,
    version: Option<String>,
    query: Option<String>,
    full_url: Option<String>,
    body: Option<Value>,
    if_none_exist: Option<String>,
    if_match: Option<String>,
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest(Issue::error(IssueType::Invalid, message))
}

fn entry_error(index: usize, error: ServiceError) -> ServiceError {
    ServiceError::TransactionEntry { index, error: Box::new(error) }
}

/// Processes a transaction or batch Bundle.
pub fn process(
    registry: &Registry,
    principal: &Principal,
    bundle: &Value,
    base_url: &str,
) -> Result<BundleResponse, ServiceError> {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(ServiceError::BadRequest(Issue::at(
            IssueType::Invalid,
            "resourceType",
            "POST /fhir takes a Bundle.",
        )));
    }
    let transaction = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => true,
        Some("batch") => false,
        _ => {
            return Err(ServiceError::BadRequest(Issue::at(
                IssueType::NotSupported,
                "Bundle.type",
                "Bundle.type must be 'transaction' or 'batch'.",
            )));
        }
    };
    let entries = match bundle.get("entry") {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(_) => {
            return Err(ServiceError::BadRequest(Issue::at(
                IssueType::Structure,
                "Bundle.entry",
                "Bundle.entry must be an array.",
            )));
        }
    };
    if entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(ServiceError::BadRequest(Issue::at(
            IssueType::TooCostly,
            "Bundle.entry",
            format!("A Bundle may carry at most {MAX_BUNDLE_ENTRIES} entries; split it."),
        )));
    }
    let codes = registry.shared_codes();
    let base_url = base_url.to_owned();
    let actor = principal.clone();
    if transaction {
        let plans = plan_transaction(&codes, &entries, &base_url)?;
        // Every entry must be allowed, or nothing runs.
        for (index, plan) in plans.iter().enumerate() {
            authorize_plan(registry, principal, plan).map_err(|e| entry_error(index, e))?;
        }
        let record = AuditRecord::by(principal, "transaction");
        let result = registry.database().write(move |conn| run_transaction(conn, &codes, plans, &base_url, &actor));
        if let Err(error) = &result {
            let (status, _) = error.status_and_issues();
            let outcome = if error.is_denial() { AuditOutcome::Denied } else { AuditOutcome::Failed };
            registry.audit().record(record.ended(outcome, status, Some(error.to_string())));
        }
        Ok(BundleResponse { json: response_bundle(true, &result?).map_err(internal)? })
    } else {
        let plans: Vec<Result<Plan, ServiceError>> = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                parse_entry(index, entry, &base_url)
                    .and_then(|raw| plan_entry(&codes, raw, None))
                    .and_then(|plan| authorize_plan(registry, principal, &plan).map(|()| plan))
            })
            .collect();
        let entries =
            registry.database().write(move |conn| Ok::<_, ServiceError>(run_batch(conn, plans, &base_url, &actor)))?;
        Ok(BundleResponse { json: response_bundle(false, &entries).map_err(internal)? })
    }
}

/// The interaction an entry performs, checked against role and scopes (and, for searches with
/// `_include`/`_revinclude`, the included type too). A refusal is audited.
fn authorize_plan(registry: &Registry, principal: &Principal, plan: &Plan) -> Result<(), ServiceError> {
    let (resource_type, interaction, action) = match plan {
        Plan::Create { resource_type, condition, .. } => {
            if condition.is_some() {
                check(registry, principal, *resource_type, Interaction::Search, "create")?;
            }
            (*resource_type, Interaction::Create, "create")
        }
        Plan::Update { resource_type, .. } => (*resource_type, Interaction::Update, "update"),
        Plan::Delete { resource_type, .. } => (*resource_type, Interaction::Delete, "delete"),
        Plan::Read { resource_type, .. } => (*resource_type, Interaction::Read, "read"),
        Plan::Search { resource_type, params } => {
            if params.iter().any(|(name, _)| name == "_include" || name == "_revinclude") {
                let related = match resource_type {
                    ResourceType::Patient => ResourceType::Immunization,
                    ResourceType::Immunization => ResourceType::Patient,
                };
                check(registry, principal, related, Interaction::Read, "search")?;
            }
            (*resource_type, Interaction::Search, "search")
        }
    };
    check(registry, principal, resource_type, interaction, action)
}

fn check(
    registry: &Registry,
    principal: &Principal,
    resource_type: ResourceType,
    interaction: Interaction,
    action: &str,
) -> Result<(), ServiceError> {
    let record = AuditRecord::by(principal, action).on(resource_type.as_str());
    super::resource::authorize(registry, principal, resource_type.as_str(), interaction, &record)
}

/// The audit record of an entry that ran.
fn entry_record(
    actor: &Principal,
    action: &str,
    resource_type: ResourceType,
    resource: Option<&StoredResource>,
    status: u16,
) -> AuditRecord {
    let mut record = AuditRecord::by(actor, action).on(resource_type.as_str());
    record.status = status;
    if let Some(resource) = resource {
        record.resource_ids = vec![resource.id.to_string()];
        record.patient_ids = match resource_type {
            ResourceType::Patient => PatientKind::patient_ids(resource),
            ResourceType::Immunization => ImmunizationKind::patient_ids(resource),
        };
    }
    record
}

fn internal(error: serde_json::Error) -> ServiceError {
    ServiceError::Store(crate::store::StoreError::Corrupt(format!("stored resource is not valid JSON: {error}")))
}

/// Reads `request` and the resource of one entry.
fn parse_entry(index: usize, entry: &Value, base_url: &str) -> Result<RawEntry, ServiceError> {
    let at = |message: &str| entry_error(index, bad(message.to_owned()));
    let request = entry.get("request").ok_or_else(|| at("Every entry needs a request (method and url)."))?;
    let method = request.get("method").and_then(Value::as_str).ok_or_else(|| at("request.method is required."))?;
    let url = request.get("url").and_then(Value::as_str).ok_or_else(|| at("request.url is required."))?;
    let url = url.strip_prefix(base_url).map_or(url, |rest| rest.trim_start_matches('/'));
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (url, None),
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resource_type = segments
        .first()
        .and_then(|t| ResourceType::parse(t))
        .ok_or_else(|| at("request.url must start with Patient or Immunization."))?;
    let (id, version) = match segments.as_slice() {
        [_] => (None, None),
        [_, id] => (Some((*id).to_owned()), None),
        [_, id, "_history", version] => (Some((*id).to_owned()), Some((*version).to_owned())),
        _ => return Err(at("request.url is not a resource URL this server supports.")),
    };
    let text = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(RawEntry {
        method: method.to_owned(),
        resource_type,
        id,
        version,
        query,
        full_url: entry.get("fullUrl").and_then(Value::as_str).map(str::to_owned),
        body: entry.get("resource").cloned(),
        if_none_exist: text("ifNoneExist"),
        if_match: text("ifMatch"),
    })
}

/// Parses `W/"3"` (or `3`) into a version.
pub fn parse_if_match(value: &str) -> Option<VersionId> {
    let trimmed = value.trim().trim_start_matches("W/").trim_matches('"');
    trimmed.parse::<i64>().ok().map(VersionId)
}

fn validate_any(codes: &CodeTables, resource_type: ResourceType, body: &Value) -> Result<AnyValidated, ServiceError> {
    let now = Timestamp::now();
    Ok(match resource_type {
        ResourceType::Patient => AnyValidated::Patient(PatientKind::validate(codes, body, now)?),
        ResourceType::Immunization => AnyValidated::Immunization(ImmunizationKind::validate(codes, body, now)?),
    })
}

fn submitted_id(resource: &AnyValidated) -> Option<&str> {
    match resource {
        AnyValidated::Patient(v) => v.submitted_id.as_deref(),
        AnyValidated::Immunization(v) => v.submitted_id.as_deref(),
    }
}

/// Turns an entry into a plan; `provisional_id` is the id assigned to a create in advance.
fn plan_entry(codes: &CodeTables, raw: RawEntry, provisional_id: Option<ResourceId>) -> Result<Plan, ServiceError> {
    let resource_type = raw.resource_type;
    let body = |raw: &RawEntry| -> Result<Value, ServiceError> {
        let body = raw.body.clone().ok_or_else(|| bad("This entry needs a resource."))?;
        if body.get("resourceType").and_then(Value::as_str) != Some(resource_type.as_str()) {
            return Err(ServiceError::BadRequest(Issue::at(
                IssueType::Invalid,
                "resourceType",
                format!("The entry's resource must be a {resource_type}, as its request.url says."),
            )));
        }
        Ok(body)
    };
    let id = |raw: &RawEntry| -> Result<ResourceId, ServiceError> {
        let id = raw.id.as_deref().ok_or_else(|| bad("request.url must name the resource: Type/id."))?;
        ResourceId::parse(id).map_err(|_| ServiceError::NotFound { resource_type })
    };
    match raw.method.as_str() {
        "POST" => {
            if raw.id.is_some() || raw.query.is_some() {
                return Err(bad("A POST entry's request.url is the resource type alone."));
            }
            let body = body(&raw)?;
            let resource = validate_any(codes, resource_type, &body)?;
            let condition = raw
                .if_none_exist
                .as_deref()
                .map(|q| -> Result<AnyCondition, ServiceError> {
                    Ok(match resource_type {
                        ResourceType::Patient => AnyCondition::Patient(parse_condition::<PatientKind>(q)?),
                        ResourceType::Immunization => {
                            AnyCondition::Immunization(parse_condition::<ImmunizationKind>(q)?)
                        }
                    })
                })
                .transpose()?;
            let id = provisional_id.unwrap_or_else(ResourceId::generate);
            Ok(Plan::Create { resource_type, id, body, resource, condition })
        }
        "PUT" => {
            if raw.query.is_some() {
                return Err(ServiceError::BadRequest(Issue::error(
                    IssueType::NotSupported,
                    "Conditional update is not supported.",
                )));
            }
            let id = id(&raw)?;
            let body = body(&raw)?;
            let resource = validate_any(codes, resource_type, &body)?;
            check_update_id(id.as_str(), submitted_id(&resource), resource_type.as_str())?;
            let if_match = match raw.if_match.as_deref() {
                None => None,
                Some(value) => Some(
                    parse_if_match(value)
                        .ok_or_else(|| bad("request.ifMatch must be a version ETag such as W/\"1\"."))?,
                ),
            };
            Ok(Plan::Update { resource_type, id, body, resource, if_match })
        }
        "DELETE" => {
            if raw.query.is_some() {
                return Err(ServiceError::BadRequest(Issue::error(
                    IssueType::NotSupported,
                    "Conditional delete is not supported.",
                )));
            }
            Ok(Plan::Delete { resource_type, id: id(&raw)? })
        }
        "GET" => match (&raw.id, raw.query.clone()) {
            (Some(_), None) => Ok(Plan::Read { resource_type, id: id(&raw)?, version: raw.version.clone() }),
            (None, query) => {
                let params = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                Ok(Plan::Search { resource_type, params })
            }
            (Some(_), Some(_)) => Err(bad("A read entry's request.url takes no query.")),
        },
        _ => Err(ServiceError::BadRequest(Issue::error(
            IssueType::NotSupported,
            "request.method must be GET, POST, PUT or DELETE.",
        ))),
    }
}

/// Replaces every `reference` string found in `map` (recursively).
fn rewrite_references(value: &mut Value, map: &HashMap<String, String>) -> bool {
    let mut changed = false;
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "reference" {
                    if let Value::String(reference) = child
                        && let Some(target) = map.get(reference.as_str())
                    {
                        *reference = target.clone();
                        changed = true;
                    }
                } else {
                    changed |= rewrite_references(child, map);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= rewrite_references(item, map);
            }
        }
        _ => {}
    }
    changed
}

/// Plans a transaction: assigns ids to creates, points `urn:uuid:` references at them, then
/// validates every resource.
fn plan_transaction(codes: &CodeTables, entries: &[Value], base_url: &str) -> Result<Vec<Plan>, ServiceError> {
    let mut raws =
        entries.iter().enumerate().map(|(i, e)| parse_entry(i, e, base_url)).collect::<Result<Vec<_>, _>>()?;
    let mut provisional: Vec<Option<ResourceId>> = vec![None; raws.len()];
    let mut references = HashMap::new();
    for (index, raw) in raws.iter().enumerate() {
        if raw.method != "POST" {
            continue;
        }
        let id = ResourceId::generate();
        if let Some(full_url) =
            raw.full_url.as_deref().filter(|u| u.starts_with("urn:uuid:") || u.starts_with("urn:oid:"))
            && references.insert(full_url.to_owned(), format!("{}/{id}", raw.resource_type)).is_some()
        {
            return Err(entry_error(index, bad("Two entries share this fullUrl.")));
        }
        provisional[index] = Some(id);
    }
    if !references.is_empty() {
        for raw in &mut raws {
            if let Some(body) = raw.body.as_mut() {
                rewrite_references(body, &references);
            }
        }
    }
    raws.into_iter()
        .zip(provisional)
        .enumerate()
        .map(|(index, (raw, id))| plan_entry(codes, raw, id).map_err(|e| entry_error(index, e)))
        .collect()
}

fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        422 => "Unprocessable Entity",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    format!("{status} {reason}")
}

fn stored_entry(status: u16, resource_type: ResourceType, resource: StoredResource, base_url: &str) -> ResponseEntry {
    ResponseEntry {
        status: status_line(status),
        location: Some(format!("{resource_type}/{}/_history/{}", resource.id, resource.version_id)),
        etag: Some(format!("W/\"{}\"", resource.version_id)),
        last_modified: Some(resource.last_updated),
        full_url: Some(format!("{base_url}/{resource_type}/{}", resource.id)),
        resource: Some(resource.json),
        outcome: None,
    }
}

fn error_entry(error: &ServiceError) -> ResponseEntry {
    if error.is_internal() {
        tracing::error!(error = ?error, "a batch entry failed");
    }
    let (status, issues) = error.status_and_issues();
    ResponseEntry {
        status: status_line(status),
        location: None,
        etag: None,
        last_modified: None,
        full_url: None,
        resource: None,
        outcome: Some(operation_outcome(&issues)),
    }
}

/// Runs one planned entry. `existing` is the match of an already-resolved conditional create.
fn run_plan(
    conn: &mut DbConnection,
    plan: Plan,
    existing: Option<StoredResource>,
    base_url: &str,
    actor: &Principal,
) -> Result<ResponseEntry, ServiceError> {
    let (entry, record) = run_plan_unaudited(conn, plan, existing, base_url, actor)?;
    super::audit::append_in(conn, vec![record])?;
    Ok(entry)
}

fn run_plan_unaudited(
    conn: &mut DbConnection,
    plan: Plan,
    existing: Option<StoredResource>,
    base_url: &str,
    actor: &Principal,
) -> Result<(ResponseEntry, AuditRecord), ServiceError> {
    match plan {
        Plan::Create { resource_type, id, resource, condition, .. } => {
            if let Some(existing) = existing {
                let record = entry_record(actor, "create-matched", resource_type, Some(&existing), 200);
                return Ok((stored_entry(200, resource_type, existing, base_url), record));
            }
            let outcome = match (resource, condition) {
                (AnyValidated::Patient(v), condition) => {
                    let condition = match condition {
                        Some(AnyCondition::Patient(c)) => Some(c),
                        _ => None,
                    };
                    create_in::<PatientKind>(conn, v, condition.as_ref(), id, actor)?
                }
                (AnyValidated::Immunization(v), condition) => {
                    let condition = match condition {
                        Some(AnyCondition::Immunization(c)) => Some(c),
                        _ => None,
                    };
                    create_in::<ImmunizationKind>(conn, v, condition.as_ref(), id, actor)?
                }
            };
            Ok(match outcome {
                CreateOutcome::Created(r) => (
                    stored_entry(201, resource_type, r.clone(), base_url),
                    entry_record(actor, "create", resource_type, Some(&r), 201),
                ),
                CreateOutcome::Existing(r) => (
                    stored_entry(200, resource_type, r.clone(), base_url),
                    entry_record(actor, "create-matched", resource_type, Some(&r), 200),
                ),
            })
        }
        Plan::Update { resource_type, id, resource, if_match, .. } => {
            let stored = match resource {
                AnyValidated::Patient(v) => update_in::<PatientKind>(conn, &id, v, if_match, actor)?,
                AnyValidated::Immunization(v) => update_in::<ImmunizationKind>(conn, &id, v, if_match, actor)?,
            };
            let record = entry_record(actor, "update", resource_type, Some(&stored), 200);
            Ok((stored_entry(200, resource_type, stored, base_url), record))
        }
        Plan::Delete { resource_type, id } => {
            let outcome = match resource_type {
                ResourceType::Patient => delete_in::<PatientKind>(conn, &id, actor)?,
                ResourceType::Immunization => delete_in::<ImmunizationKind>(conn, &id, actor)?,
            };
            let etag = match outcome {
                DeleteOutcome::Deleted(version) => Some(format!("W/\"{version}\"")),
                DeleteOutcome::AlreadyDeleted => None,
            };
            let mut record = entry_record(actor, "delete", resource_type, None, 204);
            record.resource_ids = vec![id.to_string()];
            Ok((ResponseEntry { etag, ..error_free_entry(204) }, record))
        }
        Plan::Read { resource_type, id, version } => {
            let action = if version.is_some() { "vread" } else { "read" };
            let stored = match (resource_type, version) {
                (ResourceType::Patient, None) => read_in::<PatientKind>(conn, &id, actor)?,
                (ResourceType::Immunization, None) => read_in::<ImmunizationKind>(conn, &id, actor)?,
                (ResourceType::Patient, Some(v)) => vread_in::<PatientKind>(conn, &id, &v, actor)?,
                (ResourceType::Immunization, Some(v)) => vread_in::<ImmunizationKind>(conn, &id, &v, actor)?,
            };
            let record = entry_record(actor, action, resource_type, Some(&stored), 200);
            Ok((stored_entry(200, resource_type, stored, base_url), record))
        }
        Plan::Search { resource_type, params } => {
            let mut record = entry_record(actor, "search", resource_type, None, 200);
            record.query = Some(form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish());
            let (json, ids, patients) = match resource_type {
                ResourceType::Patient => {
                    let request = PatientKind::parse_search(&params, false)?;
                    let result = search_in::<PatientKind>(conn, request, actor)?;
                    let ids: Vec<String> = result.found.page.resources.iter().map(|r| r.id.to_string()).collect();
                    (searchset_json(base_url, resource_type, &result)?, ids.clone(), ids)
                }
                ResourceType::Immunization => {
                    let request = ImmunizationKind::parse_search(&params, false)?;
                    let result = search_in::<ImmunizationKind>(conn, request, actor)?;
                    let ids = result.found.page.resources.iter().map(|r| r.id.to_string()).collect();
                    let patients = result.found.page.resources.iter().flat_map(ImmunizationKind::patient_ids).collect();
                    (searchset_json(base_url, resource_type, &result)?, ids, patients)
                }
            };
            record.resource_ids = ids;
            record.patient_ids = patients;
            Ok((ResponseEntry { resource: Some(json), ..error_free_entry(200) }, record))
        }
    }
}

fn error_free_entry(status: u16) -> ResponseEntry {
    ResponseEntry {
        status: status_line(status),
        location: None,
        etag: None,
        last_modified: None,
        full_url: None,
        resource: None,
        outcome: None,
    }
}

/// FHIR's processing order: DELETE, POST (Patients first), PUT, GET.
fn processing_rank(plan: &Plan) -> u8 {
    match plan {
        Plan::Delete { .. } => 0,
        Plan::Create { resource_type: ResourceType::Patient, .. } => 1,
        Plan::Create { .. } => 2,
        Plan::Update { .. } => 3,
        Plan::Read { .. } | Plan::Search { .. } => 4,
    }
}

fn run_transaction(
    conn: &mut DbConnection,
    codes: &CodeTables,
    mut plans: Vec<Plan>,
    base_url: &str,
    actor: &Principal,
) -> Result<Vec<ResponseEntry>, ServiceError> {
    // Resolve conditional creates first: a match replaces the id assigned in advance, and the
    // entries that referred to that id are pointed at the existing resource and validated again.
    let mut existing: Vec<Option<StoredResource>> = vec![None; plans.len()];
    let mut substitutions = HashMap::new();
    for (index, plan) in plans.iter().enumerate() {
        if let Plan::Create { resource_type, id, condition: Some(condition), .. } = plan {
            let found = match condition {
                AnyCondition::Patient(c) => find_single_match::<PatientKind>(conn, c, actor),
                AnyCondition::Immunization(c) => find_single_match::<ImmunizationKind>(conn, c, actor),
            }
            .map_err(|e| entry_error(index, e))?;
            if let Some(found) = found {
                substitutions.insert(format!("{resource_type}/{id}"), format!("{resource_type}/{}", found.id));
                existing[index] = Some(found);
            }
        }
    }
    if !substitutions.is_empty() {
        for (index, plan) in plans.iter_mut().enumerate() {
            let (resource_type, body, resource) = match plan {
                Plan::Create { resource_type, body, resource, .. }
                | Plan::Update { resource_type, body, resource, .. } => (*resource_type, body, resource),
                _ => continue,
            };
            if rewrite_references(body, &substitutions) {
                *resource = validate_any(codes, resource_type, body).map_err(|e| entry_error(index, e))?;
            }
        }
    }
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| (processing_rank(&plans[i]), i));
    let mut slots: Vec<Option<Plan>> = plans.into_iter().map(Some).collect();
    let mut responses: Vec<Option<ResponseEntry>> = vec![None; slots.len()];
    for index in order {
        let Some(plan) = slots[index].take() else { continue };
        let response =
            run_plan(conn, plan, existing[index].take(), base_url, actor).map_err(|e| entry_error(index, e))?;
        responses[index] = Some(response);
    }
    Ok(responses.into_iter().flatten().collect())
}

fn run_batch(
    conn: &mut DbConnection,
    plans: Vec<Result<Plan, ServiceError>>,
    base_url: &str,
    actor: &Principal,
) -> Vec<ResponseEntry> {
    use diesel::Connection;
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| (plans[i].as_ref().map_or(0, processing_rank), i));
    let mut slots: Vec<Option<Result<Plan, ServiceError>>> = plans.into_iter().map(Some).collect();
    let mut responses: Vec<Option<ResponseEntry>> = vec![None; slots.len()];
    for index in order {
        let Some(plan) = slots[index].take() else { continue };
        let response = match plan {
            Err(error) => error_entry(&error),
            // Each entry in a savepoint of its own: a failing entry leaves no trace.
            Ok(plan) => match conn.transaction(|conn| run_plan(conn, plan, None, base_url, actor)) {
                Ok(response) => response,
                Err(error) => error_entry(&error),
            },
        };
        responses[index] = Some(response);
    }
    responses.into_iter().flatten().collect()
}
