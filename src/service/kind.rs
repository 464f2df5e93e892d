//! What differs between the stored resource types, behind one trait.

use serde_json::{Map, Value};

use super::{ServiceError, access};
use crate::domain::access::Principal;
use crate::domain::codes::CodeTables;
use crate::domain::ids::VersionId;
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::PatientIndex;
use crate::domain::privacy::{Visibility, VisibleTo};
use crate::domain::resource::{CurrentVersion, HistoryEntry, ResourceType, StoredResource};
use crate::domain::search::{
    HistoryKeyset, ImmunizationFilter, ImmunizationSortKey, Page, PageSpec, PatientFilter, PatientSortKey,
};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::{Issue, IssueType, Rejection};
use crate::fhir::search::{SearchError, SearchRequest};
use crate::fhir::{immunization as fhir_immunization, patient as fhir_patient, search as fhir_search};
use crate::store::{self, DbConnection, StoreError};

/// A submitted resource that passed the checks needing no database.
#[derive(Debug, Clone)]
pub struct Validated<I> {
    /// Canonical JSON without the server's id/meta.
    pub canonical: Map<String, Value>,
    /// The id in the body, if any.
    pub submitted_id: Option<String>,
    /// Search facts.
    pub index: I,
}

/// One page of search results with the resources `_include`/`_revinclude` brought in.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The matches.
    pub page: Page,
    /// Included resources (deduplicated).
    pub related: Vec<(ResourceType, StoredResource)>,
}

/// A stored resource type: its validation, its tables and its search.
pub trait ResourceKind: Send + Sync + 'static {
    /// The FHIR type.
    const TYPE: ResourceType;
    /// Search facts kept for each version.
    type Index: Send + 'static;
    /// Search filters.
    type Filter: Clone + Send + 'static;
    /// Sort keys.
    type SortKey: Copy + Send + 'static;

    /// Parses and validates a submitted resource (no database).
    fn validate(codes: &CodeTables, body: &Value, now: Timestamp) -> Result<Validated<Self::Index>, Rejection>;
    /// Checks that need the database, inside the write transaction: references, and the privacy
    /// choices of the person the resource is about (as `actor` may see them).
    fn check_stored_references(
        conn: &mut DbConnection,
        index: &Self::Index,
        actor: &Principal,
    ) -> Result<(), ServiceError>;
    /// The stored `visible_to` of a resource (`None`: no such id).
    fn visibility(conn: &mut DbConnection, id: &str) -> Result<Option<Option<String>>, StoreError>;
    /// The search filter restricting matches to what the caller may see.
    fn visible_filter(visible_to: VisibleTo) -> Self::Filter;
    /// Stores a new resource.
    fn insert(conn: &mut DbConnection, resource: &StoredResource, index: &Self::Index) -> Result<(), StoreError>;
    /// Stores a new version of an existing resource.
    fn replace(conn: &mut DbConnection, resource: &StoredResource, index: &Self::Index) -> Result<(), StoreError>;
    /// Whether the resource may be deleted (e.g. nothing live refers to it).
    fn check_delete(conn: &mut DbConnection, id: &str) -> Result<(), ServiceError>;
    /// Marks the resource deleted as a new version.
    fn mark_deleted(conn: &mut DbConnection, id: &str, version: VersionId, at: Timestamp) -> Result<(), StoreError>;
    /// The current row.
    fn current(conn: &mut DbConnection, id: &str) -> Result<Option<CurrentVersion>, StoreError>;
    /// The current row and its stored privacy visibility, in one query.
    fn current_with_visibility(
        conn: &mut DbConnection,
        id: &str,
    ) -> Result<Option<(CurrentVersion, Option<String>)>, StoreError>;
    /// One version.
    fn read_version(conn: &mut DbConnection, id: &str, version: i64) -> Result<Option<HistoryEntry>, StoreError>;
    /// Versions of one resource, newest first (`count + 1` at most).
    fn instance_history(
        conn: &mut DbConnection,
        id: &str,
        since: Option<Timestamp>,
        before_version: Option<i64>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError>;
    /// Versions of all resources of the type, newest first (`count + 1` at most).
    fn type_history(
        conn: &mut DbConnection,
        since: Option<Timestamp>,
        after: Option<&HistoryKeyset>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError>;
    /// Parses a search query.
    fn parse_search(
        params: &[(String, String)],
        lenient: bool,
    ) -> Result<SearchRequest<Self::Filter, Self::SortKey>, SearchError>;
    /// The `_sort` name of a key (the cursor records it).
    fn sort_name(key: Self::SortKey) -> &'static str;
    /// Runs a search for one page (and its related resources when asked).
    fn search(
        conn: &mut DbConnection,
        filters: &[Self::Filter],
        page: &PageSpec<Self::SortKey>,
        with_related: bool,
    ) -> Result<SearchPage, StoreError>;
    /// Counts the matches.
    fn count(conn: &mut DbConnection, filters: &[Self::Filter]) -> Result<u64, StoreError>;
    /// The type `_include` / `_revinclude` brings along (its scope is checked too).
    const RELATED_TYPE: ResourceType;
    /// The organization that submitted the resource.
    fn owner(conn: &mut DbConnection, id: &str) -> Result<Option<String>, StoreError>;
    /// Stamps the submitting organization and facility.
    fn set_owner(
        conn: &mut DbConnection,
        id: &str,
        organization_id: &str,
        facility_id: Option<&str>,
    ) -> Result<(), StoreError>;
    /// The patients a stored resource is about (for the audit trail).
    fn patient_ids(resource: &StoredResource) -> Vec<String>;
}

/// The Patient resource type.
#[derive(Debug, Clone, Copy)]
pub struct PatientKind;

/// The Immunization resource type.
#[derive(Debug, Clone, Copy)]
pub struct ImmunizationKind;

impl ResourceKind for PatientKind {
    const TYPE: ResourceType = ResourceType::Patient;
    const RELATED_TYPE: ResourceType = ResourceType::Immunization;
    type Index = PatientIndex;
    type Filter = PatientFilter;
    type SortKey = PatientSortKey;

    fn validate(_codes: &CodeTables, body: &Value, now: Timestamp) -> Result<Validated<PatientIndex>, Rejection> {
        let valid = fhir_patient::validate(body, now)?;
        Ok(Validated { canonical: valid.canonical, submitted_id: valid.submitted_id, index: valid.index })
    }

    fn check_stored_references(
        conn: &mut DbConnection,
        index: &PatientIndex,
        _actor: &Principal,
    ) -> Result<(), ServiceError> {
        // A person who opted out is recognised from the stub kept for them, and nothing new
        // about them is stored.
        if store::privacy::matches_opted_out_person(conn, index)? {
            return Err(ServiceError::Suppressed);
        }
        Ok(())
    }

    fn visibility(conn: &mut DbConnection, id: &str) -> Result<Option<Option<String>>, StoreError> {
        store::privacy::patient_visibility(conn, id)
    }

    fn visible_filter(visible_to: VisibleTo) -> PatientFilter {
        PatientFilter::Visible(visible_to)
    }

    fn insert(conn: &mut DbConnection, resource: &StoredResource, index: &PatientIndex) -> Result<(), StoreError> {
        store::patient::insert(conn, resource, index)
    }

    fn replace(conn: &mut DbConnection, resource: &StoredResource, index: &PatientIndex) -> Result<(), StoreError> {
        store::patient::update(conn, resource, index)
    }

    fn check_delete(conn: &mut DbConnection, id: &str) -> Result<(), ServiceError> {
        let immunizations = store::immunization::live_count_for_patient(conn, id)?;
        if immunizations > 0 {
            return Err(ServiceError::Conflict(Issue::error(
                IssueType::Conflict,
                format!(
                    "This Patient still has {immunizations} immunization(s); delete or move them first so no \
                     immunization is left without its patient."
                ),
            )));
        }
        Ok(())
    }

    fn mark_deleted(conn: &mut DbConnection, id: &str, version: VersionId, at: Timestamp) -> Result<(), StoreError> {
        store::patient::delete(conn, id, version, at)
    }

    fn current(conn: &mut DbConnection, id: &str) -> Result<Option<CurrentVersion>, StoreError> {
        store::patient::current(conn, id)
    }

    fn current_with_visibility(
        conn: &mut DbConnection,
        id: &str,
    ) -> Result<Option<(CurrentVersion, Option<String>)>, StoreError> {
        store::patient::current_with_visibility(conn, id)
    }

    fn read_version(conn: &mut DbConnection, id: &str, version: i64) -> Result<Option<HistoryEntry>, StoreError> {
        store::patient::read_version(conn, id, version)
    }

    fn instance_history(
        conn: &mut DbConnection,
        id: &str,
        since: Option<Timestamp>,
        before_version: Option<i64>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        store::patient::instance_history(conn, id, since, before_version, count)
    }

    fn type_history(
        conn: &mut DbConnection,
        since: Option<Timestamp>,
        after: Option<&HistoryKeyset>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        store::patient::type_history(conn, since, after, count)
    }

    fn parse_search(
        params: &[(String, String)],
        lenient: bool,
    ) -> Result<SearchRequest<PatientFilter, PatientSortKey>, SearchError> {
        fhir_search::parse_patient_search(params, lenient)
    }

    fn sort_name(key: PatientSortKey) -> &'static str {
        match key {
            PatientSortKey::Id => "_id",
            PatientSortKey::Family => "family",
            PatientSortKey::BirthDate => "birthdate",
            PatientSortKey::LastUpdated => "_lastUpdated",
        }
    }

    fn search(
        conn: &mut DbConnection,
        filters: &[PatientFilter],
        page: &PageSpec<PatientSortKey>,
        with_related: bool,
    ) -> Result<SearchPage, StoreError> {
        let page = store::patient::search(conn, filters, page)?;
        let related = if with_related && !page.resources.is_empty() {
            let ids: Vec<String> = page.resources.iter().map(|r| r.id.to_string()).collect();
            store::immunization::live_for_patients(conn, &ids)?
                .into_iter()
                .map(|r| (ResourceType::Immunization, r))
                .collect()
        } else {
            Vec::new()
        };
        Ok(SearchPage { page, related })
    }

    fn count(conn: &mut DbConnection, filters: &[PatientFilter]) -> Result<u64, StoreError> {
        store::patient::count(conn, filters)
    }

    fn owner(conn: &mut DbConnection, id: &str) -> Result<Option<String>, StoreError> {
        store::patient::owner(conn, id)
    }

    fn set_owner(
        conn: &mut DbConnection,
        id: &str,
        organization_id: &str,
        facility_id: Option<&str>,
    ) -> Result<(), StoreError> {
        store::patient::set_owner(conn, id, organization_id, facility_id)
    }

    fn patient_ids(resource: &StoredResource) -> Vec<String> {
        vec![resource.id.to_string()]
    }
}

impl ResourceKind for ImmunizationKind {
    const TYPE: ResourceType = ResourceType::Immunization;
    const RELATED_TYPE: ResourceType = ResourceType::Patient;
    type Index = ImmunizationIndex;
    type Filter = ImmunizationFilter;
    type SortKey = ImmunizationSortKey;

    fn validate(codes: &CodeTables, body: &Value, now: Timestamp) -> Result<Validated<ImmunizationIndex>, Rejection> {
        let valid = fhir_immunization::validate(body, codes, now)?;
        Ok(Validated { canonical: valid.canonical, submitted_id: valid.submitted_id, index: valid.index })
    }

    fn check_stored_references(
        conn: &mut DbConnection,
        index: &ImmunizationIndex,
        actor: &Principal,
    ) -> Result<(), ServiceError> {
        let patient_id = index.patient_id.as_str();
        let missing = || {
            ServiceError::Rejected(Rejection::unprocessable(Issue::at(
                IssueType::NotFound,
                "Immunization.patient.reference",
                "The referenced Patient does not exist in the registry; create it first (or in the same transaction).",
            )))
        };
        // The person's privacy choices first: an opted-out person gets nothing new stored, and
        // a record locked to another provider is, for this caller, a Patient that does not exist.
        if let Some(stored) = store::privacy::patient_visibility(conn, patient_id)? {
            let visibility = Visibility::from_stored(stored.as_deref());
            if visibility == Visibility::Nobody {
                return Err(ServiceError::Suppressed);
            }
            if !access::may_see(actor, &visibility) {
                return Err(missing());
            }
        }
        match store::patient::live_birth_range(conn, patient_id)? {
            None => Err(missing()),
            Some(birth) => Ok(fhir_immunization::check_against_patient(index.occurrence, birth)?),
        }
    }

    fn visibility(conn: &mut DbConnection, id: &str) -> Result<Option<Option<String>>, StoreError> {
        store::privacy::immunization_visibility(conn, id)
    }

    fn visible_filter(visible_to: VisibleTo) -> ImmunizationFilter {
        ImmunizationFilter::Visible(visible_to)
    }

    fn insert(conn: &mut DbConnection, resource: &StoredResource, index: &ImmunizationIndex) -> Result<(), StoreError> {
        store::immunization::insert(conn, resource, index)?;
        store::privacy::inherit_patient_visibility(conn, resource.id.as_str())
    }

    fn replace(
        conn: &mut DbConnection,
        resource: &StoredResource,
        index: &ImmunizationIndex,
    ) -> Result<(), StoreError> {
        store::immunization::update(conn, resource, index)?;
        store::privacy::inherit_patient_visibility(conn, resource.id.as_str())
    }

    fn check_delete(_conn: &mut DbConnection, _id: &str) -> Result<(), ServiceError> {
        Ok(())
    }

    fn mark_deleted(conn: &mut DbConnection, id: &str, version: VersionId, at: Timestamp) -> Result<(), StoreError> {
        store::immunization::delete(conn, id, version, at)
    }

    fn current(conn: &mut DbConnection, id: &str) -> Result<Option<CurrentVersion>, StoreError> {
        store::immunization::current(conn, id)
    }

    fn current_with_visibility(
        conn: &mut DbConnection,
        id: &str,
    ) -> Result<Option<(CurrentVersion, Option<String>)>, StoreError> {
        store::immunization::current_with_visibility(conn, id)
    }

    fn read_version(conn: &mut DbConnection, id: &str, version: i64) -> Result<Option<HistoryEntry>, StoreError> {
        store::immunization::read_version(conn, id, version)
    }

    fn instance_history(
        conn: &mut DbConnection,
        id: &str,
        since: Option<Timestamp>,
        before_version: Option<i64>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        store::immunization::instance_history(conn, id, since, before_version, count)
    }

    fn type_history(
        conn: &mut DbConnection,
        since: Option<Timestamp>,
        after: Option<&HistoryKeyset>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        store::immunization::type_history(conn, since, after, count)
    }

    fn parse_search(
        params: &[(String, String)],
        lenient: bool,
    ) -> Result<SearchRequest<ImmunizationFilter, ImmunizationSortKey>, SearchError> {
        fhir_search::parse_immunization_search(params, lenient)
    }

    fn sort_name(key: ImmunizationSortKey) -> &'static str {
        match key {
            ImmunizationSortKey::Id => "_id",
            ImmunizationSortKey::Date => "date",
            ImmunizationSortKey::LastUpdated => "_lastUpdated",
        }
    }

    fn search(
        conn: &mut DbConnection,
        filters: &[ImmunizationFilter],
        page: &PageSpec<ImmunizationSortKey>,
        with_related: bool,
    ) -> Result<SearchPage, StoreError> {
        let (page, mut patient_ids) = store::immunization::search(conn, filters, page)?;
        let related = if with_related && !patient_ids.is_empty() {
            patient_ids.sort();
            patient_ids.dedup();
            store::patient::live_by_ids(conn, &patient_ids)?.into_iter().map(|r| (ResourceType::Patient, r)).collect()
        } else {
            Vec::new()
        };
        Ok(SearchPage { page, related })
    }

    fn count(conn: &mut DbConnection, filters: &[ImmunizationFilter]) -> Result<u64, StoreError> {
        store::immunization::count(conn, filters)
    }

    fn owner(conn: &mut DbConnection, id: &str) -> Result<Option<String>, StoreError> {
        store::immunization::owner(conn, id)
    }

    fn set_owner(
        conn: &mut DbConnection,
        id: &str,
        organization_id: &str,
        facility_id: Option<&str>,
    ) -> Result<(), StoreError> {
        store::immunization::set_owner(conn, id, organization_id, facility_id)
    }

    fn patient_ids(resource: &StoredResource) -> Vec<String> {
        // Only the reference is needed: deserialize just that field of the stored JSON.
        #[derive(serde::Deserialize)]
        struct Reference {
            reference: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct PatientOnly {
            patient: Option<Reference>,
        }
        serde_json::from_str::<PatientOnly>(&resource.json)
            .ok()
            .and_then(|p| p.patient)
            .and_then(|r| r.reference)
            .and_then(|r| r.strip_prefix("Patient/").map(str::to_owned))
            .into_iter()
            .collect()
    }
}
