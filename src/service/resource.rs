//! The FHIR interactions on a stored resource type, written once for every [`ResourceKind`].

use serde_json::Value;

use super::audit::{AuditOutcome, AuditRecord};
use super::kind::{ResourceKind, SearchPage, Validated};
use super::{Registry, ServiceError, access};
use crate::domain::access::Principal;
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::privacy::{Visibility, VisibleTo};
use crate::domain::resource::{CurrentVersion, HistoryEntry, ResourceType, StoredResource};
use crate::domain::scope::Interaction;
use crate::domain::search::{HistoryKeyset, PageSpec};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::{Issue, IssueType};
use crate::fhir::resource::render;
use crate::fhir::search::{self, HistoryRequest, SearchRequest, TotalMode};
use crate::fhir::sensitive;
use crate::store::{self, DbConnection};

/// What a create did.
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    /// A new resource was stored (201).
    Created(StoredResource),
    /// `If-None-Exist` matched this existing resource; nothing was stored (200).
    Existing(StoredResource),
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The resource was deleted; this is the deleting version.
    Deleted(VersionId),
    /// It was already deleted; nothing changed.
    AlreadyDeleted,
}

/// An `If-None-Exist` condition, parsed.
#[derive(Debug, Clone)]
pub struct Condition<K: ResourceKind> {
    request: SearchRequest<K::Filter, K::SortKey>,
    /// Names the condition for the lock that serializes identical conditional creates.
    lock_key: String,
}

/// Parses an `If-None-Exist` value (a search query such as `identifier=urn:mrn|123`).
pub fn parse_condition<K: ResourceKind>(query: &str) -> Result<Condition<K>, ServiceError> {
    let query = query.split_once('?').map_or(query, |(_, q)| q);
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let request = K::parse_search(&params, false)?;
    if request.filters.is_empty() {
        return Err(ServiceError::BadRequest(Issue::at(
            IssueType::Invalid,
            "If-None-Exist",
            "If-None-Exist needs at least one search parameter, e.g. identifier=system|value.",
        )));
    }
    params.sort();
    let lock_key =
        format!("{}?{}", K::TYPE, form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish());
    Ok(Condition { request, lock_key })
}

/// Creates a resource (conditionally, with `If-None-Exist`).
pub fn create<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    body: &Value,
    condition: Option<Condition<K>>,
) -> Result<CreateOutcome, ServiceError> {
    let record = AuditRecord::by(principal, "create").on(K::TYPE.as_str());
    authorize(registry, principal, K::TYPE.as_str(), Interaction::Create, &record)?;
    if condition.is_some() {
        // A conditional create reveals whether a match exists: the caller must be able to search.
        authorize(registry, principal, K::TYPE.as_str(), Interaction::Search, &record)?;
    }
    let result = (|| {
        let validated = K::validate(registry.codes(), body, Timestamp::now())?;
        let id = ResourceId::generate();
        let actor = principal.clone();
        let record = record.clone();
        registry.database().write(move |conn| {
            let outcome = create_in::<K>(conn, validated, condition.as_ref(), id, &actor)?;
            let (action, resource) = match &outcome {
                CreateOutcome::Created(resource) => ("create", resource),
                CreateOutcome::Existing(resource) => ("create-matched", resource),
            };
            let mut record = record.with_action(action);
            record.resource_ids = vec![resource.id.to_string()];
            record.patient_ids = K::patient_ids(resource);
            record.status = if action == "create" { 201 } else { 200 };
            super::audit::append_in(conn, vec![record])?;
            Ok(outcome)
        })
    })();
    audit_failure(registry, record, &result);
    result
}

/// Role and scope check; a refusal is audited (as `record`, ended as a denial).
pub(crate) fn authorize(
    registry: &Registry,
    principal: &Principal,
    resource_type: &str,
    interaction: Interaction,
    record: &AuditRecord,
) -> Result<(), ServiceError> {
    access::authorize(principal, resource_type, interaction).inspect_err(|error| {
        registry.audit().record(record.clone().ended(AuditOutcome::Denied, 403, Some(error.to_string())));
    })
}

/// Audits a failed (not denied) attempt through the background writer; successes were audited
/// where they happened.
pub(crate) fn audit_failure<T>(registry: &Registry, record: AuditRecord, result: &Result<T, ServiceError>) {
    if let Err(error) = result {
        let (status, _) = error.status_and_issues();
        let outcome = if error.is_denial() { AuditOutcome::Denied } else { AuditOutcome::Failed };
        registry.audit().record(record.ended(outcome, status, Some(error.to_string())));
    }
}

/// Audits the outcome of a use case through the background writer: on success the record,
/// completed by `fill` from the value (the people disclosed, say); on failure the denial or
/// failure.
pub(crate) fn audit_outcome<T>(
    registry: &Registry,
    mut record: AuditRecord,
    result: &Result<T, ServiceError>,
    fill: impl FnOnce(&mut AuditRecord, &T),
) {
    match result {
        Ok(value) => {
            fill(&mut record, value);
            registry.audit().record(record);
        }
        Err(_) => audit_failure(registry, record, result),
    }
}

/// Creates a resource inside the caller's transaction.
pub(crate) fn create_in<K: ResourceKind>(
    conn: &mut DbConnection,
    validated: Validated<K::Index>,
    condition: Option<&Condition<K>>,
    id: ResourceId,
    actor: &Principal,
) -> Result<CreateOutcome, ServiceError> {
    if let Some(condition) = condition
        && let Some(existing) = find_single_match::<K>(conn, condition, actor)?
    {
        return Ok(CreateOutcome::Existing(existing));
    }
    K::check_stored_references(conn, &validated.index, actor)?;
    let at = Timestamp::now();
    let json = render(&validated.canonical, K::TYPE, &id, VersionId::FIRST, at);
    let resource = StoredResource { id, version_id: VersionId::FIRST, last_updated: at, json };
    K::insert(conn, &resource, &validated.index)?;
    // The agreement requires data to be tied to the site that administered or recorded it.
    K::set_owner(conn, resource.id.as_str(), &actor.organization_id, actor.facility_id.as_deref())?;
    Ok(CreateOutcome::Created(resource))
}

/// The one resource a condition matches; `None` for no match; an error for several.
pub(crate) fn find_single_match<K: ResourceKind>(
    conn: &mut DbConnection,
    condition: &Condition<K>,
    actor: &Principal,
) -> Result<Option<StoredResource>, ServiceError> {
    // Identical conditional creates on PostgreSQL must not both see "no match" and both insert.
    store::lock_for_key(conn, &condition.lock_key)?;
    let page = PageSpec { sort: condition.request.page.sort, count: 2, after: None };
    // Only what the caller may see can match (a record locked elsewhere is not revealed by a
    // 200 or a 412); a match with an opted-out person refuses the submission.
    let mut filters = visible_filters::<K>(&condition.request.filters, actor);
    let found = K::search(conn, &filters, &page, false)?;
    let mut matches = found.page.resources;
    if matches.is_empty() {
        if let Some(last) = filters.last_mut() {
            *last = K::visible_filter(VisibleTo::OptedOutOnly);
        }
        if K::count(conn, &filters)? > 0 {
            return Err(ServiceError::Suppressed);
        }
    }
    match matches.len() {
        0 => Ok(None),
        1 => matches.pop().map(|found| for_viewer(conn, actor, K::TYPE, found)).transpose(),
        _ => Err(ServiceError::PreconditionFailed(format!(
            "If-None-Exist matched more than one {}; make the condition more specific.",
            K::TYPE
        ))),
    }
}

/// The JSON of a stored `resource_type` record `id` as `actor` may see it: without its
/// sensitive elements (labelled REDACTED) unless they submitted it or are state staff.
fn json_for_viewer(
    conn: &mut DbConnection,
    actor: &Principal,
    resource_type: ResourceType,
    id: &str,
    json: String,
) -> Result<String, ServiceError> {
    if actor.is_state_admin() || !sensitive::may_hold_sensitive(&json) {
        return Ok(json);
    }
    let owner = match resource_type {
        ResourceType::Patient => store::patient::owner(conn, id)?,
        ResourceType::Immunization => store::immunization::owner(conn, id)?,
    };
    if access::may_see_sensitive(actor, owner.as_deref()) {
        return Ok(json);
    }
    match sensitive::redact(&json) {
        Ok(Some(redacted)) => Ok(redacted),
        Ok(None) => Ok(json),
        Err(error) => {
            Err(ServiceError::Store(store::StoreError::Corrupt(format!("stored JSON does not parse: {error}"))))
        }
    }
}

/// A stored resource as `actor` may see it (see `json_for_viewer`).
pub(crate) fn for_viewer(
    conn: &mut DbConnection,
    actor: &Principal,
    resource_type: ResourceType,
    resource: StoredResource,
) -> Result<StoredResource, ServiceError> {
    let StoredResource { id, version_id, last_updated, json } = resource;
    let json = json_for_viewer(conn, actor, resource_type, id.as_str(), json)?;
    Ok(StoredResource { id, version_id, last_updated, json })
}

/// The search filters plus the one restricting matches to what `actor` may see (last).
fn visible_filters<K: ResourceKind>(filters: &[K::Filter], actor: &Principal) -> Vec<K::Filter> {
    let mut filters = filters.to_vec();
    filters.push(K::visible_filter(access::visible_to(actor)));
    filters
}

/// Whether `actor` may see the stored record `id` under the person's privacy choices (a record
/// that does not exist is not hidden: the caller answers 404 for it anyway).
fn is_visible<K: ResourceKind>(conn: &mut DbConnection, actor: &Principal, id: &str) -> Result<bool, ServiceError> {
    Ok(match K::visibility(conn, id)? {
        None => true,
        Some(stored) => access::may_see(actor, &Visibility::from_stored(stored.as_deref())),
    })
}

/// Refuses access to a record whose stored visibility hides it from `actor`: opted out
/// (`opted_out` is the answer) or locked to another provider (404, audited as a denial).
fn refuse_hidden<K: ResourceKind>(
    actor: &Principal,
    stored: Option<&str>,
    opted_out: ServiceError,
) -> Result<(), ServiceError> {
    let visibility = Visibility::from_stored(stored);
    if access::may_see(actor, &visibility) {
        Ok(())
    } else if visibility == Visibility::Nobody {
        Err(opted_out)
    } else {
        Err(ServiceError::Hidden { resource_type: K::TYPE })
    }
}

/// `refuse_hidden` for a record read by id (no such record is not hidden).
fn check_visible<K: ResourceKind>(
    conn: &mut DbConnection,
    actor: &Principal,
    id: &str,
    opted_out: ServiceError,
) -> Result<(), ServiceError> {
    match K::visibility(conn, id)? {
        Some(stored) => refuse_hidden::<K>(actor, stored.as_deref(), opted_out),
        None => Ok(()),
    }
}

/// Checks the id in an update's body against the URL.
pub fn check_update_id(url_id: &str, submitted_id: Option<&str>, resource_type: &str) -> Result<(), ServiceError> {
    match submitted_id {
        None => Err(ServiceError::BadRequest(Issue::at(
            IssueType::Required,
            format!("{resource_type}.id"),
            "An update must carry the resource id in the body, equal to the id in the URL.",
        ))),
        Some(id) if id != url_id => Err(ServiceError::BadRequest(Issue::at(
            IssueType::Invalid,
            format!("{resource_type}.id"),
            "The id in the body does not match the id in the URL.",
        ))),
        Some(_) => Ok(()),
    }
}

/// Replaces the current version (`If-Match` guards against lost updates).
pub fn update<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    id: &str,
    body: &Value,
    if_match: Option<VersionId>,
) -> Result<StoredResource, ServiceError> {
    let mut record = AuditRecord::by(principal, "update").on(K::TYPE.as_str());
    record.resource_ids = vec![id.chars().take(64).collect()];
    authorize(registry, principal, K::TYPE.as_str(), Interaction::Update, &record)?;
    let result = (|| {
        let id = parse_id::<K>(id)?;
        let validated = K::validate(registry.codes(), body, Timestamp::now())?;
        check_update_id(id.as_str(), validated.submitted_id.as_deref(), K::TYPE.as_str())?;
        let actor = principal.clone();
        let record = record.clone();
        registry.database().write(move |conn| {
            let stored = update_in::<K>(conn, &id, validated, if_match, &actor)?;
            let mut record = record;
            record.patient_ids = K::patient_ids(&stored);
            super::audit::append_in(conn, vec![record])?;
            Ok(stored)
        })
    })();
    audit_failure(registry, record, &result);
    result
}

/// Replaces the current version inside the caller's transaction. Updating a deleted resource
/// brings it back as a new version (history keeps the deletion).
pub(crate) fn update_in<K: ResourceKind>(
    conn: &mut DbConnection,
    id: &ResourceId,
    validated: Validated<K::Index>,
    if_match: Option<VersionId>,
    actor: &Principal,
) -> Result<StoredResource, ServiceError> {
    let current = K::current_with_visibility(conn, id.as_str())?;
    let current = match current {
        Some((current, stored)) => {
            // Nothing new is stored about a person who opted out; a record locked to another
            // provider answers as if it did not exist.
            refuse_hidden::<K>(actor, stored.as_deref(), ServiceError::Suppressed)?;
            access::check_owner(actor, K::TYPE, K::owner(conn, id.as_str())?.as_deref())?;
            Some(current)
        }
        None => None,
    };
    let (current_version, current_time) = match current {
        None => return Err(ServiceError::NotFound { resource_type: K::TYPE }),
        Some(CurrentVersion::Live(current)) => (current.version_id, current.last_updated),
        Some(CurrentVersion::Deleted { version_id, last_updated }) => (version_id, last_updated),
    };
    if if_match.is_some_and(|expected| expected != current_version) {
        return Err(ServiceError::VersionConflict { current: current_version });
    }
    K::check_stored_references(conn, &validated.index, actor)?;
    let version_id = current_version.next();
    let at = Timestamp::now().max(current_time.successor());
    let json = render(&validated.canonical, K::TYPE, id, version_id, at);
    let resource = StoredResource { id: id.clone(), version_id, last_updated: at, json };
    K::replace(conn, &resource, &validated.index)?;
    Ok(resource)
}

/// Deletes a resource.
pub fn delete<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    id: &str,
) -> Result<DeleteOutcome, ServiceError> {
    let mut record = AuditRecord::by(principal, "delete").on(K::TYPE.as_str());
    record.resource_ids = vec![id.chars().take(64).collect()];
    authorize(registry, principal, K::TYPE.as_str(), Interaction::Delete, &record)?;
    let result = (|| {
        let id = parse_id::<K>(id)?;
        let actor = principal.clone();
        let record = record.clone();
        registry.database().write(move |conn| {
            let outcome = delete_in::<K>(conn, &id, &actor)?;
            super::audit::append_in(conn, vec![record])?;
            Ok(outcome)
        })
    })();
    audit_failure(registry, record, &result);
    result
}

/// Deletes a resource inside the caller's transaction.
pub(crate) fn delete_in<K: ResourceKind>(
    conn: &mut DbConnection,
    id: &ResourceId,
    actor: &Principal,
) -> Result<DeleteOutcome, ServiceError> {
    let current = match K::current_with_visibility(conn, id.as_str())? {
        Some((current, stored)) => {
            refuse_hidden::<K>(actor, stored.as_deref(), ServiceError::Hidden { resource_type: K::TYPE })?;
            access::check_owner(actor, K::TYPE, K::owner(conn, id.as_str())?.as_deref())?;
            Some(current)
        }
        None => None,
    };
    match current {
        None => Err(ServiceError::NotFound { resource_type: K::TYPE }),
        Some(CurrentVersion::Deleted { .. }) => Ok(DeleteOutcome::AlreadyDeleted),
        Some(CurrentVersion::Live(current)) => {
            K::check_delete(conn, id.as_str())?;
            let version_id = current.version_id.next();
            let at = Timestamp::now().max(current.last_updated.successor());
            K::mark_deleted(conn, id.as_str(), version_id, at)?;
            Ok(DeleteOutcome::Deleted(version_id))
        }
    }
}

/// An id from a URL: one that is not a valid FHIR id cannot exist.
fn parse_id<K: ResourceKind>(id: &str) -> Result<ResourceId, ServiceError> {
    ResourceId::parse(id).map_err(|_| ServiceError::NotFound { resource_type: K::TYPE })
}

/// Reads the current version.
pub fn read<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    id: &str,
) -> Result<StoredResource, ServiceError> {
    let record = read_record::<K>(principal, "read", id);
    authorize(registry, principal, K::TYPE.as_str(), Interaction::Read, &record)?;
    let result = parse_id::<K>(id).and_then(|id| registry.database().read(|conn| read_in::<K>(conn, &id, principal)));
    audit_read::<K>(registry, record, &result);
    result
}

fn read_record<K: ResourceKind>(principal: &Principal, action: &str, id: &str) -> AuditRecord {
    let mut record = AuditRecord::by(principal, action).on(K::TYPE.as_str());
    record.resource_ids = vec![id.chars().take(64).collect()];
    record
}

fn audit_read<K: ResourceKind>(
    registry: &Registry,
    mut record: AuditRecord,
    result: &Result<StoredResource, ServiceError>,
) {
    match result {
        Ok(resource) => {
            record.patient_ids = K::patient_ids(resource);
            registry.audit().record(record);
        }
        Err(_) => audit_failure(registry, record, result),
    }
}

/// Reads the current version if a database connection is free at once (`None` otherwise):
/// a primary-key fetch, cheap enough to run on the request's own thread.
pub fn read_if_connection_free<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    id: &str,
) -> Option<Result<StoredResource, ServiceError>> {
    let record = read_record::<K>(principal, "read", id);
    if let Err(error) = authorize(registry, principal, K::TYPE.as_str(), Interaction::Read, &record) {
        return Some(Err(error));
    }
    let result = match parse_id::<K>(id) {
        Ok(id) => registry.database().try_read(|conn| read_in::<K>(conn, &id, principal))?,
        Err(error) => Err(error),
    };
    audit_read::<K>(registry, record, &result);
    Some(result)
}

/// Reads the current version with the caller's connection.
pub(crate) fn read_in<K: ResourceKind>(
    conn: &mut DbConnection,
    id: &ResourceId,
    actor: &Principal,
) -> Result<StoredResource, ServiceError> {
    let Some((current, stored)) = K::current_with_visibility(conn, id.as_str())? else {
        return Err(ServiceError::NotFound { resource_type: K::TYPE });
    };
    refuse_hidden::<K>(actor, stored.as_deref(), ServiceError::Hidden { resource_type: K::TYPE })?;
    match current {
        CurrentVersion::Live(resource) => for_viewer(conn, actor, K::TYPE, resource),
        CurrentVersion::Deleted { .. } => Err(ServiceError::Gone { resource_type: K::TYPE }),
    }
}

/// Reads one version.
pub fn vread<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    id: &str,
    version: &str,
) -> Result<StoredResource, ServiceError> {
    let record = read_record::<K>(principal, "vread", id);
    authorize(registry, principal, K::TYPE.as_str(), Interaction::Read, &record)?;
    let result =
        parse_id::<K>(id).and_then(|id| registry.database().read(|conn| vread_in::<K>(conn, &id, version, principal)));
    audit_read::<K>(registry, record, &result);
    result
}

/// Reads one version with the caller's connection.
pub(crate) fn vread_in<K: ResourceKind>(
    conn: &mut DbConnection,
    id: &ResourceId,
    version: &str,
    actor: &Principal,
) -> Result<StoredResource, ServiceError> {
    check_visible::<K>(conn, actor, id.as_str(), ServiceError::Hidden { resource_type: K::TYPE })?;
    let entry = match version.parse::<i64>() {
        Ok(version) => K::read_version(conn, id.as_str(), version)?,
        Err(_) => None,
    };
    match entry {
        Some(HistoryEntry { json: Some(json), id, version_id, last_updated, .. }) => {
            for_viewer(conn, actor, K::TYPE, StoredResource { id, version_id, last_updated, json })
        }
        Some(HistoryEntry { json: None, .. }) => Err(ServiceError::Gone { resource_type: K::TYPE }),
        None if K::current(conn, id.as_str())?.is_some() => {
            Err(ServiceError::VersionNotFound { resource_type: K::TYPE })
        }
        None => Err(ServiceError::NotFound { resource_type: K::TYPE }),
    }
}

/// One page of history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// Entries, newest first.
    pub entries: Vec<HistoryEntry>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// Parameters for the links.
    pub link_params: Vec<(String, String)>,
}

/// History of one resource (`id`) or of the whole type (`None`).
pub fn history<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    id: Option<&str>,
    params: &[(String, String)],
    lenient: bool,
) -> Result<HistoryPage, ServiceError> {
    let mut record = AuditRecord::by(principal, "history").on(K::TYPE.as_str());
    record.resource_ids = id.map(|id| id.chars().take(64).collect()).into_iter().collect();
    record.query = Some(query_text(params));
    // Instance history is a read of that resource; type history lists everything, a search.
    let interaction = if id.is_some() { Interaction::Read } else { Interaction::Search };
    authorize(registry, principal, K::TYPE.as_str(), interaction, &record)?;
    let result = history_unaudited::<K>(registry, principal, id, params, lenient);
    match &result {
        Ok(page) => {
            if id.is_none() {
                record.resource_ids = page.entries.iter().map(|e| e.id.to_string()).collect();
                record.resource_ids.dedup();
            }
            record.patient_ids = page
                .entries
                .iter()
                .filter_map(|e| {
                    e.json.as_ref().map(|json| StoredResource {
                        id: e.id.clone(),
                        version_id: e.version_id,
                        last_updated: e.last_updated,
                        json: json.clone(),
                    })
                })
                .flat_map(|r| K::patient_ids(&r))
                .collect();
            record.patient_ids.sort();
            record.patient_ids.dedup();
            registry.audit().record(record);
        }
        Err(_) => audit_failure(registry, record, &result),
    }
    result
}

/// The query of a search, as recorded in the audit trail.
pub(crate) fn query_text(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish().chars().take(2000).collect()
}

fn history_unaudited<K: ResourceKind>(
    registry: &Registry,
    actor: &Principal,
    id: Option<&str>,
    params: &[(String, String)],
    lenient: bool,
) -> Result<HistoryPage, ServiceError> {
    let request: HistoryRequest = search::parse_history_query(params, lenient)?;
    let id = id.map(parse_id::<K>).transpose()?;
    registry.database().read(|conn| {
        let mut entries = match &id {
            Some(id) => {
                let Some((_, stored)) = K::current_with_visibility(conn, id.as_str())? else {
                    return Err(ServiceError::NotFound { resource_type: K::TYPE });
                };
                refuse_hidden::<K>(actor, stored.as_deref(), ServiceError::Hidden { resource_type: K::TYPE })?;
                let before = request.after.as_ref().map(|a| a.version_id);
                K::instance_history(conn, id.as_str(), request.since, before, request.count)?
            }
            None => K::type_history(conn, request.since, request.after.as_ref(), request.count)?,
        };
        let next_cursor = if entries.len() > request.count {
            entries.truncate(request.count);
            entries.last().map(|last| {
                search::encode_history_cursor(&HistoryKeyset {
                    last_updated: last.last_updated.0,
                    id: last.id.to_string(),
                    version_id: last.version_id.0,
                })
            })
        } else {
            None
        };
        if id.is_none() {
            // Type history lists versions of every record: the privacy choices in force now
            // decide which the caller may see (the cursor still moves past the hidden ones).
            let mut visible = Vec::with_capacity(entries.len());
            for entry in entries {
                if is_visible::<K>(conn, actor, entry.id.as_str())? {
                    visible.push(entry);
                }
            }
            entries = visible;
        }
        for entry in &mut entries {
            if let Some(json) = entry.json.take() {
                entry.json = Some(json_for_viewer(conn, actor, K::TYPE, entry.id.as_str(), json)?);
            }
        }
        Ok(HistoryPage { entries, next_cursor, link_params: request.link_params.clone() })
    })
}

/// The result of a search.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The page and its related resources; empty for `_summary=count`.
    pub found: SearchPage,
    /// `Bundle.total`, when asked for.
    pub total: Option<u64>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// The accepted parameters, for the links.
    pub link_params: Vec<(String, String)>,
}

/// Runs a search from query parameters.
pub fn search<K: ResourceKind>(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<SearchResult, ServiceError> {
    let mut record = AuditRecord::by(principal, "search").on(K::TYPE.as_str());
    record.query = Some(query_text(params));
    authorize(registry, principal, K::TYPE.as_str(), Interaction::Search, &record)?;
    let request = match K::parse_search(params, lenient) {
        Ok(request) => request,
        Err(error) => {
            let result = Err(ServiceError::from(error));
            audit_failure(registry, record, &result);
            return result;
        }
    };
    if request.with_related {
        // Every included resource must be readable under the token too.
        authorize(registry, principal, K::RELATED_TYPE.as_str(), Interaction::Read, &record)?;
    }
    let result = registry.database().read(|conn| search_in::<K>(conn, request, principal));
    match &result {
        Ok(found) => {
            record.resource_ids = found.found.page.resources.iter().map(|r| r.id.to_string()).collect();
            let mut patients: Vec<String> = found.found.page.resources.iter().flat_map(K::patient_ids).collect();
            patients.extend(
                found
                    .found
                    .related
                    .iter()
                    .filter(|(t, _)| *t == crate::domain::resource::ResourceType::Patient)
                    .map(|(_, r)| r.id.to_string()),
            );
            patients.sort();
            patients.dedup();
            record.patient_ids = patients;
            registry.audit().record(record);
        }
        Err(_) => audit_failure(registry, record, &result),
    }
    result
}

/// Runs a parsed search with the caller's connection (one read transaction: the page and its
/// total see the same data).
pub(crate) fn search_in<K: ResourceKind>(
    conn: &mut DbConnection,
    mut request: SearchRequest<K::Filter, K::SortKey>,
    actor: &Principal,
) -> Result<SearchResult, ServiceError> {
    use diesel::Connection;
    // Matches, totals and included resources only ever hold what the caller may see (an
    // Immunization carries its Patient's visibility, so includes follow the same rule).
    request.filters.push(K::visible_filter(access::visible_to(actor)));
    // Several queries (a total beside the page, or the included resources) must see one
    // snapshot; a lone page query is its own statement-level snapshot, and an explicit
    // BEGIN/COMMIT would only add two round trips through SQLite's locks.
    let several_queries = !request.summary_count && (request.total == TotalMode::Accurate || request.with_related);
    if several_queries {
        conn.transaction(|conn| search_page::<K>(conn, request, actor))
    } else {
        search_page::<K>(conn, request, actor)
    }
}

fn search_page<K: ResourceKind>(
    conn: &mut DbConnection,
    request: SearchRequest<K::Filter, K::SortKey>,
    actor: &Principal,
) -> Result<SearchResult, ServiceError> {
    {
        let total = if request.summary_count || request.total == TotalMode::Accurate {
            Some(K::count(conn, &request.filters)?)
        } else {
            None
        };
        if request.summary_count {
            let empty = SearchPage {
                page: crate::domain::search::Page { resources: Vec::new(), next: None },
                related: Vec::new(),
            };
            return Ok(SearchResult { found: empty, total, next_cursor: None, link_params: request.link_params });
        }
        let mut found = K::search(conn, &request.filters, &request.page, request.with_related)?;
        let resources = std::mem::take(&mut found.page.resources);
        for resource in resources {
            found.page.resources.push(for_viewer(conn, actor, K::TYPE, resource)?);
        }
        let related = std::mem::take(&mut found.related);
        for (resource_type, resource) in related {
            found.related.push((resource_type, for_viewer(conn, actor, resource_type, resource)?));
        }
        let sort = request.page.sort;
        let next_cursor = found
            .page
            .next
            .as_ref()
            .map(|keyset| search::encode_cursor(K::sort_name(sort.key), sort.descending, keyset));
        Ok(SearchResult { found, total, next_cursor, link_params: request.link_params })
    }
}

/// The `searchset` Bundle JSON for a search result. Links repeat the accepted parameters.
pub fn searchset_json(
    base_url: &str,
    resource_type: crate::domain::resource::ResourceType,
    result: &SearchResult,
) -> Result<String, ServiceError> {
    use crate::fhir::bundle::{SearchEntry, SearchMode, searchset};
    let self_link = search_link(base_url, resource_type.as_str(), &result.link_params, None);
    let next_link = result
        .next_cursor
        .as_deref()
        .map(|c| search_link(base_url, resource_type.as_str(), &result.link_params, Some(c)));
    let mut entries: Vec<SearchEntry<'_>> = result
        .found
        .page
        .resources
        .iter()
        .map(|resource| SearchEntry { resource_type, resource, mode: SearchMode::Match })
        .collect();
    entries.extend(result.found.related.iter().map(|(resource_type, resource)| SearchEntry {
        resource_type: *resource_type,
        resource,
        mode: SearchMode::Include,
    }));
    searchset(base_url, result.total, &self_link, next_link.as_deref(), &entries).map_err(|e| {
        ServiceError::Store(crate::store::StoreError::Corrupt(format!("stored resource is not valid JSON: {e}")))
    })
}

/// `{base}/{path}?{params}[&_cursor=...]`.
pub fn search_link(base_url: &str, path: &str, params: &[(String, String)], cursor: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    if let Some(cursor) = cursor {
        query.append_pair("_cursor", cursor);
    }
    let query = query.finish();
    if query.is_empty() { format!("{base_url}/{path}") } else { format!("{base_url}/{path}?{query}") }
}
