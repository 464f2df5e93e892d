//! Documentation-only schemas for the OpenAPI contract.
//!
//! fhir-sdk's model types have no utoipa `ToSchema`, so the FHIR R4 bodies this API accepts and
//! returns are described here by hand: the elements an immunization registry uses, with their
//! FHIR JSON names, which ones are required (by FHIR or by this registry), code value sets as
//! enums, and formats/patterns for ids, dates and times. These types are never used to parse a
//! request (that is fhir-sdk's job, see `crate::fhir`); they only feed `#[utoipa::path]`
//! annotations, e.g. `request_body = schema::Patient`.
//!
//! Conventions: `Option` marks an optional element (never `null` in FHIR JSON, hence
//! `nullable = false`), a non-`Option` field a required one. Elements not listed here are still
//! valid FHIR R4 and are kept when the server understands them.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------------------------------------
// Code value sets
// ---------------------------------------------------------------------------------------------

/// `Patient.gender` / `Patient.contact.gender` (FHIR AdministrativeGender).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AdministrativeGender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
    /// Unknown.
    Unknown,
}

/// `Immunization.status` (FHIR ImmunizationStatusCodes).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ImmunizationStatus {
    /// The dose was given.
    Completed,
    /// The record was made in error; it stays visible to its submitter but counts for nothing.
    EnteredInError,
    /// The dose was not given (refusal, contraindication, ...); see `statusReason`.
    NotDone,
}

/// `OperationOutcome.issue.severity` (FHIR IssueSeverity).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IssueSeverity {
    /// The request cannot be carried out at all.
    Fatal,
    /// The request failed because of this issue.
    Error,
    /// Worth knowing; the request went through.
    Warning,
    /// For information only.
    Information,
}

/// `OperationOutcome.issue.code` (FHIR IssueType).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum IssueType {
    /// Content invalid against the specification or a profile.
    Invalid,
    /// A structural issue (malformed JSON, unknown element, wrong type).
    Structure,
    /// A required element is missing.
    Required,
    /// An element or header value is invalid.
    Value,
    /// A validation rule failed (e.g. a date order).
    Invariant,
    /// An authentication or authorization problem.
    Security,
    /// The client needs to log in.
    Login,
    /// The user or system is not known.
    Unknown,
    /// The session or token has expired.
    Expired,
    /// The user or system may not do this.
    Forbidden,
    /// Content withheld (e.g. by a privacy choice).
    Suppressed,
    /// A processing problem (generic).
    Processing,
    /// The interaction, parameter or element is not supported.
    NotSupported,
    /// An attempt to create a duplicate.
    Duplicate,
    /// Several matches where one was expected (e.g. conditional create).
    MultipleMatches,
    /// The resource or reference was not found.
    NotFound,
    /// The resource was deleted.
    Deleted,
    /// The content is too long.
    TooLong,
    /// A code or code system is not known (e.g. an unknown CVX or MVX code).
    CodeInvalid,
    /// An extension was not recognized or is not allowed.
    Extension,
    /// The operation would be too costly.
    TooCostly,
    /// A business rule was broken.
    BusinessRule,
    /// A version conflict (edit collision).
    Conflict,
    /// A temporary problem; the request may be retried.
    Transient,
    /// A resource lock could not be obtained.
    LockError,
    /// The server has no persistent store available.
    NoStore,
    /// An unexpected internal error.
    Exception,
    /// An internal timeout.
    Timeout,
    /// Not all data could be returned.
    Incomplete,
    /// The client is sending too many requests.
    Throttled,
    /// Informational only (e.g. "all OK").
    Informational,
}

/// `Bundle.type` (FHIR BundleType).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BundleType {
    /// Search results.
    Searchset,
    /// Versions of resources (`_history`).
    History,
    /// A transaction request: all entries succeed or none do.
    Transaction,
    /// A batch request: each entry is processed on its own.
    Batch,
    /// The response to a transaction.
    TransactionResponse,
    /// The response to a batch.
    BatchResponse,
    /// A FHIR document.
    Document,
    /// A FHIR message.
    Message,
    /// A plain collection of resources.
    Collection,
}

/// `Bundle.entry.search.mode` (FHIR SearchEntryMode).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchEntryMode {
    /// The resource matched the search.
    Match,
    /// Added by `_include` / `_revinclude`.
    Include,
    /// An OperationOutcome about the search itself (e.g. ignored parameters).
    Outcome,
}

/// `Bundle.entry.request.method` (FHIR HTTPVerb).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpVerb {
    /// Read or search.
    Get,
    /// Read the headers only.
    Head,
    /// Create.
    Post,
    /// Update.
    Put,
    /// Delete.
    Delete,
    /// Patch.
    Patch,
}

/// `HumanName.use` (FHIR NameUse).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NameUse {
    /// The name normally used.
    Usual,
    /// The legal name; the registry matches and sorts on it first.
    Official,
    /// A temporary name (e.g. a newborn's "Baby Girl").
    Temp,
    /// A nickname.
    Nickname,
    /// An anonymous name.
    Anonymous,
    /// A name no longer in use.
    Old,
    /// A name before marriage (e.g. a mother's maiden name).
    Maiden,
}

/// `Address.use` (FHIR AddressUse).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AddressUse {
    /// Home address (used for reminder/recall notices).
    Home,
    /// Work address.
    Work,
    /// Temporary address.
    Temp,
    /// An address no longer in use.
    Old,
    /// Billing address.
    Billing,
}

/// `Address.type` (FHIR AddressType).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AddressType {
    /// Mailing address.
    Postal,
    /// Street (visiting) address.
    Physical,
    /// Both.
    Both,
}

/// `ContactPoint.system` (FHIR ContactPointSystem).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContactPointSystem {
    /// Telephone.
    Phone,
    /// Fax.
    Fax,
    /// Email.
    Email,
    /// Pager.
    Pager,
    /// A URL.
    Url,
    /// Text messages.
    Sms,
    /// Something else.
    Other,
}

/// `ContactPoint.use` (FHIR ContactPointUse).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContactPointUse {
    /// Home.
    Home,
    /// Work.
    Work,
    /// Temporary.
    Temp,
    /// No longer in use.
    Old,
    /// Mobile phone.
    Mobile,
}

/// `Identifier.use` (FHIR IdentifierUse).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierUse {
    /// The identifier normally used.
    Usual,
    /// The identifier considered most trusted (e.g. a state registry id).
    Official,
    /// A temporary identifier.
    Temp,
    /// A secondary identifier (e.g. a provider's medical record number).
    Secondary,
    /// An identifier no longer in use.
    Old,
}

/// `Quantity.comparator` (FHIR QuantityComparator).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityComparator {
    /// Less than.
    #[serde(rename = "<")]
    LessThan,
    /// Less than or equal.
    #[serde(rename = "<=")]
    LessOrEqual,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// Greater than.
    #[serde(rename = ">")]
    GreaterThan,
}

/// `Narrative.status` (FHIR NarrativeStatus).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NarrativeStatus {
    /// Generated from the structured data only.
    Generated,
    /// Generated, including extensions.
    Extensions,
    /// Contains information beyond the structured data.
    Additional,
    /// No content (a placeholder).
    Empty,
}

/// `Patient.link.type` (FHIR LinkType).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientLinkType {
    /// This record was merged into the other one (the other one is the one to use).
    #[serde(rename = "replaced-by")]
    ReplacedBy,
    /// This record replaces the other one (the survivor of a merge).
    #[serde(rename = "replaces")]
    Replaces,
    /// The other record holds further information about the same person.
    #[serde(rename = "refer")]
    Refer,
    /// The other record is about the same person, for information.
    #[serde(rename = "seealso")]
    SeeAlso,
}

// ---------------------------------------------------------------------------------------------
// resourceType: one single-value enum per resource
// ---------------------------------------------------------------------------------------------

/// `resourceType` of a Patient.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientResourceType {
    /// Always `Patient`.
    Patient,
}

/// `resourceType` of an Immunization.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationResourceType {
    /// Always `Immunization`.
    Immunization,
}

/// `resourceType` of an OperationOutcome.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationOutcomeResourceType {
    /// Always `OperationOutcome`.
    OperationOutcome,
}

/// `resourceType` of a Bundle.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleResourceType {
    /// Always `Bundle`.
    Bundle,
}

/// `resourceType` of a CapabilityStatement.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapabilityStatementResourceType {
    /// Always `CapabilityStatement`.
    CapabilityStatement,
}

// ---------------------------------------------------------------------------------------------
// Datatypes
// ---------------------------------------------------------------------------------------------

/// Metadata about a resource, maintained by the server on every write.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The version of the resource, increased on every update (the `ETag` is `W/"<versionId>"`).
    /// Set by the server; ignored when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9\-\.]{1,64}$", example = "1")]
    pub version_id: Option<String>,
    /// When this version was written (also the `Last-Modified` header). Set by the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        format = DateTime,
        pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$",
        example = "2024-05-01T14:03:12.345Z"
    )]
    pub last_updated: Option<String>,
    /// URI of the system that sent this version (e.g. the submitting EHR).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub source: Option<String>,
    /// Profiles (StructureDefinition canonical URLs) the resource claims to conform to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub profile: Option<Vec<String>>,
    /// Security labels (e.g. confidentiality) applied to the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub security: Option<Vec<Coding>>,
    /// Tags: operational labels that do not change the meaning of the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tag: Option<Vec<Coding>>,
}

/// A code from a code system (e.g. a CVX vaccine code).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"system": "http://hl7.org/fhir/sid/cvx", "code": "08", "display": "Hep B, adolescent or pediatric"})))]
pub struct Coding {
    /// The code system URI: `http://hl7.org/fhir/sid/cvx` for CVX vaccine codes,
    /// `http://hl7.org/fhir/sid/mvx` for MVX manufacturer codes, `http://snomed.info/sct`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri", example = "http://hl7.org/fhir/sid/cvx")]
    pub system: Option<String>,
    /// Version of the code system, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version: Option<String>,
    /// The code itself. CVX and MVX codes are checked against the registry's code tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "08")]
    pub code: Option<String>,
    /// The code's human-readable meaning.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub display: Option<String>,
    /// Whether a user picked this coding directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub user_selected: Option<bool>,
}

/// A concept: one or more codings for the same meaning, and/or plain text.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codes for the concept, from one or more code systems.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub coding: Option<Vec<Coding>>,
    /// The concept as entered or understood by a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<String>,
}

/// A business identifier: a medical record number, a state registry id, a Medicaid number, ...
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"use": "usual", "system": "urn:oid:2.16.840.1.113883.3.1234", "value": "MRN-000123"})))]
pub struct Identifier {
    /// What the identifier is used for.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub use_: Option<IdentifierUse>,
    /// The kind of identifier (e.g. `MR` medical record number, `SR` state registry id).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub type_: Option<CodeableConcept>,
    /// The namespace the value belongs to (a URI, often `urn:oid:...` of the assigning
    /// organization). Patient search by `identifier=system|value` matches on both.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub system: Option<String>,
    /// The identifier value. The registry requires it on every Patient identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value: Option<String>,
    /// When the identifier was valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub period: Option<Period>,
    /// The organization that issued the identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub assigner: Option<Box<Reference>>,
}

/// A person's name.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"use": "official", "family": "Muñoz", "given": ["Ana", "María"]})))]
pub struct HumanName {
    /// What the name is used for; the registry prefers the `official` name for matching.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub use_: Option<NameUse>,
    /// The full name as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<String>,
    /// Family name (surname). Searched with `family` (starts with, case- and
    /// accent-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub family: Option<String>,
    /// Given names (first, then middle), in order. Searched with `given`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub given: Option<Vec<String>>,
    /// Parts before the name (titles).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub prefix: Option<Vec<String>>,
    /// Parts after the name (e.g. `Jr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub suffix: Option<Vec<String>>,
    /// When the name was in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub period: Option<Period>,
}

/// A phone number, email address or other way to reach someone (used for reminder/recall).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"system": "phone", "value": "+1 612 555 0100", "use": "mobile"})))]
pub struct ContactPoint {
    /// The kind of contact point. Required by FHIR when `value` is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub system: Option<ContactPointSystem>,
    /// The number or address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value: Option<String>,
    /// What the contact point is used for.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub use_: Option<ContactPointUse>,
    /// Preference order (1 = highest).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub rank: Option<u32>,
    /// When the contact point was in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub period: Option<Period>,
}

/// A postal address (used for reminder/recall notices and the `address-postalcode` search).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"use": "home", "line": ["123 Main St"], "city": "Minneapolis", "state": "MN", "postalCode": "55455", "country": "US"})))]
pub struct Address {
    /// What the address is used for.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub use_: Option<AddressUse>,
    /// Postal, physical or both.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub type_: Option<AddressType>,
    /// The full address as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<String>,
    /// Street lines (house number, street, apartment).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line: Option<Vec<String>>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub city: Option<String>,
    /// County or district.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub district: Option<String>,
    /// State (two-letter USPS code in the US).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub state: Option<String>,
    /// Postal (ZIP) code. Searched with `address-postalcode` (starts with, case- and
    /// space-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub postal_code: Option<String>,
    /// Country (ISO 3166 code or name).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub country: Option<String>,
    /// When the address was in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub period: Option<Period>,
}

/// A time interval; either end may be missing (open).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// Start (inclusive), a FHIR dateTime.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub start: Option<String>,
    /// End (inclusive), a FHIR dateTime; missing while ongoing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub end: Option<String>,
}

/// A reference from one resource to another (e.g. `Patient/123`), or a logical reference by
/// identifier.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// Relative (`Organization/42`) or absolute URL of the target; inside a transaction Bundle
    /// also the `fullUrl` (`urn:uuid:...`) of another entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "Organization/org-1")]
    pub reference: Option<String>,
    /// The target's resource type (e.g. `Organization`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub type_: Option<String>,
    /// Logical reference when no resource can be pointed to (e.g. an MVX manufacturer code with
    /// system `http://hl7.org/fhir/sid/mvx`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub identifier: Option<Identifier>,
    /// Text for the target (e.g. a name).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub display: Option<String>,
}

/// `Immunization.patient`: the person vaccinated.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"reference": "Patient/5f0c3b7e-1d2a-4c8e-9a6b-2e7f0a1b2c3d"})))]
pub struct PatientReference {
    /// `Patient/{id}` of a Patient in this registry. Inside a transaction Bundle it may instead
    /// be the `fullUrl` (`urn:uuid:...` / `urn:oid:...`) of a Patient created by the same Bundle;
    /// the server rewrites it to `Patient/{id}`.
    #[schema(pattern = r"^(Patient/[A-Za-z0-9\-\.]{1,64}|urn:(uuid|oid):\S+)$")]
    pub reference: String,
    /// Always `Patient` when given.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "Patient")]
    pub type_: Option<String>,
    /// Text for the patient (e.g. the name).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub display: Option<String>,
}

/// A measured amount (e.g. a dose volume of 0.5 mL).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"value": 0.5, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"})))]
pub struct Quantity {
    /// The numeric value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value: Option<f64>,
    /// How to read the value (`<`, `<=`, `>=`, `>`); absent means the value is exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub comparator: Option<QuantityComparator>,
    /// The unit as displayed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub unit: Option<String>,
    /// The unit's code system (`http://unitsofmeasure.org` for UCUM).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub system: Option<String>,
    /// The unit's code (UCUM, e.g. `mL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code: Option<String>,
}

/// Additional information not covered by the base resource (e.g. US Core race and ethnicity,
/// or a state extension). Has either one `value[x]` or nested `extension`s.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "Smith"})))]
pub struct Extension {
    /// The URL that defines the extension.
    #[schema(format = "uri")]
    pub url: String,
    /// A text value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_string: Option<String>,
    /// A code value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_code: Option<String>,
    /// A true/false value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_boolean: Option<bool>,
    /// An integer value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_integer: Option<i32>,
    /// A FHIR date value (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^\d{4}(-\d{2}(-\d{2})?)?$")]
    pub value_date: Option<String>,
    /// A FHIR dateTime value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub value_date_time: Option<String>,
    /// A coded value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_coding: Option<Coding>,
    /// A concept value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_codeable_concept: Option<CodeableConcept>,
    /// A reference value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_reference: Option<Reference>,
    /// An identifier value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value_identifier: Option<Identifier>,
    /// Nested extensions (for complex extensions such as US Core race); then no `value[x]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub extension: Option<Vec<Extension>>,
}

/// A note: free text with its author and time.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Annotation {
    /// Who wrote the note, as a reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub author_reference: Option<Reference>,
    /// Who wrote the note, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub author_string: Option<String>,
    /// When the note was written (FHIR dateTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub time: Option<String>,
    /// The note (markdown). Must not contain information that the registry may not keep.
    pub text: String,
}

/// A human-readable summary of the resource (XHTML).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Narrative {
    /// How the narrative relates to the structured data.
    pub status: NarrativeStatus,
    /// Limited XHTML: a single `<div xmlns="http://www.w3.org/1999/xhtml">` element.
    #[schema(example = "<div xmlns=\"http://www.w3.org/1999/xhtml\">Ana María Muñoz, born 2020-02-29</div>")]
    pub div: String,
}

// ---------------------------------------------------------------------------------------------
// Patient
// ---------------------------------------------------------------------------------------------

/// A person whose immunizations the registry records (FHIR R4 Patient).
///
/// Registry rules beyond FHIR: a `name` with a family name and at least one given name, and a
/// full `birthDate` (YYYY-MM-DD, not in the future, not before 1890) are required; every
/// `identifier` needs a `value`.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({
    "resourceType": "Patient",
    "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.1234", "value": "MRN-000123"}],
    "name": [{"use": "official", "family": "Muñoz", "given": ["Ana", "María"]}],
    "gender": "female",
    "birthDate": "2020-02-29",
    "address": [{"use": "home", "city": "Minneapolis", "state": "MN", "postalCode": "55455"}]
})))]
pub struct Patient {
    /// Always `Patient`.
    pub resource_type: PatientResourceType,
    /// Logical id, assigned by the server on create; on update it must equal the id in the URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9\-\.]{1,64}$")]
    pub id: Option<String>,
    /// Version and last-updated time, set by the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub meta: Option<Meta>,
    /// Human-readable summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<Narrative>,
    /// Extensions (e.g. race, ethnicity, mother's maiden name). The mother's maiden name is
    /// sensitive: it is removed for organizations that did not submit it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub extension: Option<Vec<Extension>>,
    /// Business identifiers (medical record numbers, state registry id, ...); each needs a
    /// `value`. Searched with `identifier=system|value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub identifier: Option<Vec<Identifier>>,
    /// Whether the record is in active use; a record without `active` counts as active.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// Names. Required by this registry: at least one name with a `family` name and at least
    /// one `given` name (used to match the person across providers).
    #[schema(min_items = 1)]
    pub name: Vec<HumanName>,
    /// Phone numbers and email addresses (for reminder/recall).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub telecom: Option<Vec<ContactPoint>>,
    /// Administrative gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub gender: Option<AdministrativeGender>,
    /// Date of birth. Required by this registry as a full date (YYYY-MM-DD): the immunization
    /// forecast and person matching need the day. Not in the future, not before 1890.
    #[schema(format = Date, pattern = r"^\d{4}-\d{2}-\d{2}$", example = "2020-02-29")]
    pub birth_date: String,
    /// Whether the person has died (use either this or `deceasedDateTime`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub deceased_boolean: Option<bool>,
    /// When the person died (FHIR dateTime; not before `birthDate`, not in the future).
    /// Deceased persons get no reminders.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub deceased_date_time: Option<String>,
    /// Addresses (the home address receives reminder/recall notices).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub address: Option<Vec<Address>>,
    /// Marital status.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub marital_status: Option<CodeableConcept>,
    /// Whether the person is part of a multiple birth (use either this or
    /// `multipleBirthInteger`); helps tell twins apart when matching.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub multiple_birth_boolean: Option<bool>,
    /// Birth order in a multiple birth (1 = first born).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub multiple_birth_integer: Option<i32>,
    /// Contacts: parents, guardians and other responsible parties.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub contact: Option<Vec<PatientContact>>,
    /// Languages the person speaks (for notices).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub communication: Option<Vec<PatientCommunication>>,
    /// The person's primary care providers (Organization or Practitioner references).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub general_practitioner: Option<Vec<Reference>>,
    /// The organization that keeps this record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub managing_organization: Option<Reference>,
    /// Links to other Patient records about the same person (e.g. after a merge of duplicates).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub link: Option<Vec<PatientLink>>,
}

/// A contact of the patient: parent, guardian, emergency contact.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PatientContact {
    /// The relationship (e.g. `MTH` mother, `FTH` father, `GUARD` guardian).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub relationship: Option<Vec<CodeableConcept>>,
    /// The contact's name (a mother's maiden name uses `use` = `maiden`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<HumanName>,
    /// The contact's phone numbers and email addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub telecom: Option<Vec<ContactPoint>>,
    /// The contact's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub address: Option<Address>,
    /// The contact's administrative gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub gender: Option<AdministrativeGender>,
}

/// A language the patient uses.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PatientCommunication {
    /// The language (BCP-47 code, system `urn:ietf:bcp:47`, e.g. `es`).
    pub language: CodeableConcept,
    /// Whether this is the preferred language (notices are sent in it when available).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub preferred: Option<bool>,
}

/// A link to another Patient record about the same person.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PatientLink {
    /// The other Patient record (`Patient/{id}`).
    pub other: Reference,
    /// How the two records relate.
    #[serde(rename = "type")]
    pub type_: PatientLinkType,
}

// ---------------------------------------------------------------------------------------------
// Immunization
// ---------------------------------------------------------------------------------------------

/// One vaccine dose given to (or not given to) a patient (FHIR R4 Immunization).
///
/// Registry rules beyond FHIR: `vaccineCode` needs a known CVX coding, `patient` must reference
/// a Patient of this registry, the date of administration is required as `occurrenceDateTime`
/// (not `occurrenceString`; not in the future, not before the patient's birth), and an MVX
/// manufacturer code, when sent, must be known.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({
    "resourceType": "Immunization",
    "status": "completed",
    "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03", "display": "MMR"}]},
    "patient": {"reference": "Patient/5f0c3b7e-1d2a-4c8e-9a6b-2e7f0a1b2c3d"},
    "occurrenceDateTime": "2021-05-01",
    "primarySource": true,
    "manufacturer": {"identifier": {"system": "http://hl7.org/fhir/sid/mvx", "value": "MSD"}},
    "lotNumber": "AB12",
    "doseQuantity": {"value": 0.5, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}
})))]
pub struct Immunization {
    /// Always `Immunization`.
    pub resource_type: ImmunizationResourceType,
    /// Logical id, assigned by the server on create; on update it must equal the id in the URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9\-\.]{1,64}$")]
    pub id: Option<String>,
    /// Version and last-updated time, set by the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub meta: Option<Meta>,
    /// Human-readable summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<Narrative>,
    /// Extensions (e.g. VFC eligibility at the dose level). Insurance and eligibility
    /// information is removed for organizations that did not submit it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub extension: Option<Vec<Extension>>,
    /// Business identifiers of the dose in the submitting system (used to recognize resubmissions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub identifier: Option<Vec<Identifier>>,
    /// Whether the dose was given, not given, or recorded in error.
    pub status: ImmunizationStatus,
    /// Why the dose was not given (with `status` = `not-done`), e.g. refusal or immunity.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status_reason: Option<CodeableConcept>,
    /// The vaccine. Must hold a coding with system `http://hl7.org/fhir/sid/cvx` and a CVX code
    /// known to the registry (other codings, e.g. NDC, may accompany it). Searched with
    /// `vaccine-code`.
    pub vaccine_code: CodeableConcept,
    /// The person vaccinated: `Patient/{id}`.
    pub patient: PatientReference,
    /// The encounter during which the dose was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub encounter: Option<Reference>,
    /// When the dose was given (FHIR dateTime; a date `YYYY-MM-DD` is enough). Required by this
    /// registry: dose evaluation and forecasting depend on it. Not in the future, not before the
    /// patient's birth date. Searched with `date`.
    #[schema(
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$",
        example = "2021-05-01"
    )]
    pub occurrence_date_time: String,
    /// When the dose was first recorded (FHIR dateTime; not in the future).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub recorded: Option<String>,
    /// `true` when recorded by the provider who gave the dose; `false` for historical doses
    /// reported from another source (e.g. a paper record).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub primary_source: Option<bool>,
    /// Where a historical (non-primary-source) record came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub report_origin: Option<CodeableConcept>,
    /// Where the dose was given (a Location).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location: Option<Reference>,
    /// The vaccine manufacturer. Its `identifier` may carry an MVX code (system
    /// `http://hl7.org/fhir/sid/mvx`), which must be known to the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub manufacturer: Option<Reference>,
    /// The vaccine lot number (for recalls). Searched with `lot-number`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lot_number: Option<String>,
    /// The lot's expiration date (FHIR date).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^\d{4}(-\d{2}(-\d{2})?)?$")]
    pub expiration_date: Option<String>,
    /// The body site (e.g. left arm).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub site: Option<CodeableConcept>,
    /// The route (e.g. intramuscular).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub route: Option<CodeableConcept>,
    /// The amount given (e.g. 0.5 mL).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub dose_quantity: Option<Quantity>,
    /// Who ordered or administered the dose.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub performer: Option<Vec<ImmunizationPerformer>>,
    /// Free-text notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub note: Option<Vec<Annotation>>,
    /// Why the dose was given (e.g. routine, travel, occupational).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason_code: Option<Vec<CodeableConcept>>,
    /// `true` when the dose did not count (e.g. a partial dose); the forecast then ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub is_subpotent: Option<bool>,
    /// The patient's eligibility for a funding program at the time of the dose (e.g. VFC).
    /// Sensitive: removed for organizations that did not submit it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub program_eligibility: Option<Vec<CodeableConcept>>,
    /// Where the vaccine came from (public or private stock).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub funding_source: Option<CodeableConcept>,
    /// Adverse reactions after the dose.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reaction: Option<Vec<ImmunizationReaction>>,
    /// The series and dose number this dose was given as, as stated by the provider (the
    /// registry's own evaluation may differ).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub protocol_applied: Option<Vec<ImmunizationProtocolApplied>>,
}

/// Who took part in giving the dose.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ImmunizationPerformer {
    /// The role: `OP` ordering provider or `AP` administering provider (v2 table 0443).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub function: Option<CodeableConcept>,
    /// The practitioner or organization.
    pub actor: Reference,
}

/// An adverse reaction after the dose.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ImmunizationReaction {
    /// When the reaction started (FHIR dateTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    )]
    pub date: Option<String>,
    /// Details of the reaction (an Observation).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub detail: Option<Reference>,
    /// Whether the patient reported the reaction themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reported: Option<bool>,
}

/// The series and dose number a dose was given as. FHIR requires exactly one of
/// `doseNumberPositiveInt` and `doseNumberString`.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ImmunizationProtocolApplied {
    /// Name of the series (e.g. `MMR 2-dose series`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub series: Option<String>,
    /// The diseases this dose protects against.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub target_disease: Option<Vec<CodeableConcept>>,
    /// Dose number in the series (1 = first).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub dose_number_positive_int: Option<u32>,
    /// Dose number as text, when it is not a number (e.g. `booster`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub dose_number_string: Option<String>,
    /// Number of doses in the series.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub series_doses_positive_int: Option<u32>,
    /// Number of doses in the series, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub series_doses_string: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// OperationOutcome
// ---------------------------------------------------------------------------------------------

/// The result of a request that failed (every 4xx/5xx body) or that needs explanation.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({
    "resourceType": "OperationOutcome",
    "issue": [{
        "severity": "error",
        "code": "required",
        "diagnostics": "Patient.birthDate is required.",
        "expression": ["Patient.birthDate"]
    }]
})))]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: OperationOutcomeResourceType,
    /// Logical id (rarely set; outcomes are not stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9\-\.]{1,64}$")]
    pub id: Option<String>,
    /// The problems found, all reported at once.
    #[schema(min_items = 1)]
    pub issue: Vec<OperationOutcomeIssue>,
}

/// One problem.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcomeIssue {
    /// How bad it is.
    pub severity: IssueSeverity,
    /// What kind of problem it is (machine-readable).
    pub code: IssueType,
    /// A coded description of the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub details: Option<CodeableConcept>,
    /// A message for a person. Never repeats submitted values (they may be PHI) or internal
    /// error details.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub diagnostics: Option<String>,
    /// FHIRPath of the element or parameter concerned (e.g. `Patient.birthDate`, `_count`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expression: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Bundle
// ---------------------------------------------------------------------------------------------

/// A resource inside a Bundle entry, told apart by its `resourceType`.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(untagged)]
#[schema(discriminator(property_name = "resourceType", mapping(
    ("Patient" = "#/components/schemas/Patient"),
    ("Immunization" = "#/components/schemas/Immunization"),
    ("OperationOutcome" = "#/components/schemas/OperationOutcome"),
    ("Bundle" = "#/components/schemas/Bundle")
)))]
pub enum AnyResource {
    /// A Patient.
    Patient(Box<Patient>),
    /// An Immunization.
    Immunization(Box<Immunization>),
    /// An OperationOutcome (a search outcome, or an entry's result).
    OperationOutcome(Box<OperationOutcome>),
    /// A Bundle (e.g. the searchset answering a GET entry of a batch).
    #[schema(no_recursion)]
    Bundle(Box<Bundle>),
}

/// A collection of resources: search results (`searchset`), version history (`history`), a
/// `transaction` or `batch` request, or its response.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always `Bundle`.
    pub resource_type: BundleResourceType,
    /// Logical id (set by the server on the Bundles it returns).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9\-\.]{1,64}$")]
    pub id: Option<String>,
    /// When the Bundle was assembled (`lastUpdated`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub meta: Option<Meta>,
    /// What the Bundle is for.
    #[serde(rename = "type")]
    pub type_: BundleType,
    /// Number of matches of a search, counting only what the caller may see. Present only when
    /// asked for (`_total=accurate` or `estimate`, `_summary=count`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0)]
    pub total: Option<u32>,
    /// `self` (this page) and `next` (the following page, carrying an opaque `_cursor`) links.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub link: Option<Vec<BundleLink>>,
    /// The entries (at most 1000 in a transaction or batch).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub entry: Option<Vec<BundleEntry>>,
}

/// A link related to the Bundle (paging).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BundleLink {
    /// The relation: `self`, `next` (there is no `previous`: paging is forward only).
    #[schema(examples("self", "next"))]
    pub relation: String,
    /// The URL. Follow `next` as is; do not build cursors yourself.
    #[schema(format = "uri")]
    pub url: String,
}

/// One entry of a Bundle.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// Absolute URL of the resource (`{base}/Patient/{id}`); in a transaction request, a
    /// `urn:uuid:` that other entries may reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub full_url: Option<String>,
    /// The resource (absent for a deleted version in a history, or for DELETE requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub resource: Option<AnyResource>,
    /// Why the entry is in a search result.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub search: Option<BundleEntrySearch>,
    /// The request of a transaction/batch entry, or the change recorded in a history.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request: Option<BundleEntryRequest>,
    /// The result of a transaction/batch entry, or the version recorded in a history.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub response: Option<BundleEntryResponse>,
}

/// Search information of an entry.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntrySearch {
    /// `match` for a result, `include` for a resource added by `_include`/`_revinclude`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub mode: Option<SearchEntryMode>,
}

/// The request of a transaction/batch entry.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntryRequest {
    /// The HTTP method.
    pub method: HttpVerb,
    /// The URL relative to the FHIR base (`Patient`, `Patient/123`, `Immunization?patient=123`).
    #[schema(example = "Patient")]
    pub url: String,
    /// For PUT: the version the update is based on, as an ETag (`W/"3"`); a stale version fails
    /// the entry with 412.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "W/\"3\"")]
    pub if_match: Option<String>,
    /// For POST: a search query (`identifier=urn:mrn|A1`); when it matches one resource, nothing
    /// is created and that resource is returned (conditional create).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "identifier=urn:oid:2.16.840.1.113883.3.1234|MRN-000123")]
    pub if_none_exist: Option<String>,
}

/// The outcome of a transaction/batch entry, or the version information in a history.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntryResponse {
    /// HTTP status code, optionally with its reason phrase (`201 Created`).
    #[schema(pattern = r"^\d{3}( .*)?$", example = "201 Created")]
    pub status: String,
    /// Where the created or updated version is (`Patient/{id}/_history/{version}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub location: Option<String>,
    /// The version's ETag (`W/"1"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "W/\"1\"")]
    pub etag: Option<String>,
    /// When the version was written (FHIR instant).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        format = DateTime,
        pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
    )]
    pub last_modified: Option<String>,
    /// Why a batch entry failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub outcome: Option<OperationOutcome>,
}

// ---------------------------------------------------------------------------------------------
// CapabilityStatement
// ---------------------------------------------------------------------------------------------

/// `CapabilityStatement.status` (FHIR PublicationStatus).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PublicationStatus {
    /// Not ready for use.
    Draft,
    /// In use (what this server returns).
    Active,
    /// No longer in use.
    Retired,
    /// Unknown.
    Unknown,
}

/// `CapabilityStatement.kind` (FHIR CapabilityStatementKind).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CapabilityStatementKind {
    /// Describes this running server (what this server returns).
    Instance,
    /// Describes a software product.
    Capability,
    /// Describes requirements.
    Requirements,
}

/// `CapabilityStatement.rest.mode` (FHIR RestfulCapabilityMode).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RestfulCapabilityMode {
    /// A client.
    Client,
    /// A server (what this server returns).
    Server,
}

/// `CapabilityStatement.rest.resource.interaction.code` (FHIR TypeRestfulInteraction).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TypeRestfulInteraction {
    /// `GET [type]/[id]`.
    Read,
    /// `GET [type]/[id]/_history/[vid]`.
    Vread,
    /// `PUT [type]/[id]`.
    Update,
    /// `PATCH [type]/[id]`.
    Patch,
    /// `DELETE [type]/[id]`.
    Delete,
    /// `GET [type]/[id]/_history`.
    HistoryInstance,
    /// `GET [type]/_history`.
    HistoryType,
    /// `POST [type]`.
    Create,
    /// `GET [type]?...`.
    SearchType,
}

/// `CapabilityStatement.rest.interaction.code` (FHIR SystemRestfulInteraction).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SystemRestfulInteraction {
    /// `POST [base]` with a transaction Bundle.
    Transaction,
    /// `POST [base]` with a batch Bundle.
    Batch,
    /// `GET [base]?...`.
    SearchSystem,
    /// `GET [base]/_history`.
    HistorySystem,
}

/// `CapabilityStatement.rest.resource.versioning` (FHIR ResourceVersionPolicy).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceVersionPolicy {
    /// No versions kept.
    NoVersion,
    /// Versions kept.
    Versioned,
    /// Versions kept, and `If-Match` is honoured on update (what this server does).
    VersionedUpdate,
}

/// `CapabilityStatement.rest.resource.conditionalRead` (FHIR ConditionalReadStatus).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionalReadStatus {
    /// Not supported.
    NotSupported,
    /// `If-Modified-Since` only.
    ModifiedSince,
    /// `If-None-Match` only.
    NotMatch,
    /// Both.
    FullSupport,
}

/// `CapabilityStatement.rest.resource.conditionalDelete` (FHIR ConditionalDeleteStatus).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionalDeleteStatus {
    /// Not supported.
    NotSupported,
    /// Deletes a single match.
    Single,
    /// Deletes every match.
    Multiple,
}

/// `CapabilityStatement.rest.resource.searchParam.type` (FHIR SearchParamType).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchParamType {
    /// A number.
    Number,
    /// A date or dateTime; prefixes `eq ne gt lt ge le sa eb`.
    Date,
    /// A string: starts with, case- and accent-insensitive; `:exact`, `:contains`.
    String,
    /// A code or identifier: `system|code`, `|code`, `system|` or `code`.
    Token,
    /// A reference: `Type/id` or `id`.
    Reference,
    /// A composite.
    Composite,
    /// A quantity.
    Quantity,
    /// A URI.
    Uri,
    /// Special.
    Special,
}

/// What this server implements (`GET /fhir/metadata`).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatement {
    /// Always `CapabilityStatement`.
    pub resource_type: CapabilityStatementResourceType,
    /// Publication status (`active`).
    pub status: PublicationStatus,
    /// When the statement was produced (FHIR dateTime).
    #[schema(pattern = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?)?)?$")]
    pub date: String,
    /// Who publishes the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "izreg")]
    pub publisher: Option<String>,
    /// `instance`: the statement describes this running server.
    pub kind: CapabilityStatementKind,
    /// The software.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub software: Option<CapabilityStatementSoftware>,
    /// This installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub implementation: Option<CapabilityStatementImplementation>,
    /// The FHIR version (`4.0.1`, FHIR R4).
    #[schema(example = "4.0.1")]
    pub fhir_version: String,
    /// Supported media types.
    #[schema(min_items = 1, example = json!(["application/fhir+json", "json"]))]
    pub format: Vec<String>,
    /// The RESTful capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rest: Option<Vec<CapabilityStatementRest>>,
}

/// The software behind the server.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementSoftware {
    /// Its name.
    #[schema(example = "izreg")]
    pub name: String,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "0.1.0")]
    pub version: Option<String>,
}

/// The installation.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementImplementation {
    /// What it is.
    pub description: String,
    /// Its FHIR base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub url: Option<String>,
}

/// The REST API of the server.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementRest {
    /// `server`.
    pub mode: RestfulCapabilityMode,
    /// General notes (paging, counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub documentation: Option<String>,
    /// The resource types served.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub resource: Option<Vec<CapabilityStatementResource>>,
    /// Whole-system interactions (`transaction`, `batch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interaction: Option<Vec<CapabilityStatementSystemInteraction>>,
}

/// What the server does with one resource type.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementResource {
    /// The resource type.
    #[serde(rename = "type")]
    #[schema(examples("Patient", "Immunization"))]
    pub type_: String,
    /// The base profile the resources conform to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub profile: Option<String>,
    /// The interactions supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interaction: Option<Vec<CapabilityStatementResourceInteraction>>,
    /// How versions are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub versioning: Option<ResourceVersionPolicy>,
    /// Whether `vread` works for past versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub read_history: Option<bool>,
    /// Whether PUT may create a resource with a client-chosen id (`false` here).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub update_create: Option<bool>,
    /// Whether `If-None-Exist` (conditional create) is supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conditional_create: Option<bool>,
    /// Conditional read support.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conditional_read: Option<ConditionalReadStatus>,
    /// Whether conditional update is supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conditional_update: Option<bool>,
    /// Conditional delete support.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conditional_delete: Option<ConditionalDeleteStatus>,
    /// Supported `_include` values.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = json!(["Immunization:patient"]))]
    pub search_include: Option<Vec<String>>,
    /// Supported `_revinclude` values.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = json!(["Immunization:patient"]))]
    pub search_rev_include: Option<Vec<String>>,
    /// Supported search parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub search_param: Option<Vec<CapabilityStatementSearchParam>>,
}

/// A supported interaction on a resource type.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementResourceInteraction {
    /// The interaction.
    pub code: TypeRestfulInteraction,
}

/// A supported whole-system interaction.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementSystemInteraction {
    /// The interaction.
    pub code: SystemRestfulInteraction,
}

/// A supported search parameter.
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatementSearchParam {
    /// Its name in the query (e.g. `family`).
    pub name: String,
    /// The canonical SearchParameter URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub definition: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub type_: SearchParamType,
    /// What it matches and which modifiers/prefixes work.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub documentation: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------------

/// Liveness/readiness of the service (not a FHIR resource; `application/json`).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatus {
    /// `ok` when the service can serve requests, `unavailable` otherwise.
    #[schema(examples("ok", "unavailable"))]
    pub status: String,
    /// State of the database, for readiness checks (e.g. `ok`, `unavailable`); absent for
    /// liveness checks that do not touch it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, examples("ok", "unavailable"))]
    pub database: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------------------------

/// `_total` values.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TotalParam {
    /// No `Bundle.total` (the default: counting costs a query).
    None,
    /// Count every match (computed exactly, like `accurate`).
    Estimate,
    /// Count every match the caller may see.
    Accurate,
}

/// `_summary` values.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SummaryParam {
    /// Only `Bundle.total`, no entries.
    Count,
    /// Full resources (the default).
    False,
}

/// `_revinclude` values on Patient search.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientRevInclude {
    /// Add the Immunizations of each matched Patient.
    #[serde(rename = "Immunization:patient")]
    ImmunizationPatient,
}

/// `_include` values on Immunization search.
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationInclude {
    /// Add the Patient of each matched Immunization.
    #[serde(rename = "Immunization:patient")]
    ImmunizationPatient,
}

/// `_sort` values on Patient search (one key; `-` for descending).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientSort {
    /// By id, ascending (the default; ids are time-ordered, so roughly creation order).
    #[serde(rename = "_id")]
    Id,
    /// By id, descending.
    #[serde(rename = "-_id")]
    IdDesc,
    /// By family name (of the official name), ascending.
    #[serde(rename = "family")]
    Family,
    /// By family name, descending.
    #[serde(rename = "-family")]
    FamilyDesc,
    /// By birth date, oldest first.
    #[serde(rename = "birthdate")]
    BirthDate,
    /// By birth date, youngest first.
    #[serde(rename = "-birthdate")]
    BirthDateDesc,
    /// By last update, oldest first.
    #[serde(rename = "_lastUpdated")]
    LastUpdated,
    /// By last update, newest first.
    #[serde(rename = "-_lastUpdated")]
    LastUpdatedDesc,
}

/// `_sort` values on Immunization search (one key; `-` for descending).
#[derive(ToSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationSort {
    /// By id, ascending (the default).
    #[serde(rename = "_id")]
    Id,
    /// By id, descending.
    #[serde(rename = "-_id")]
    IdDesc,
    /// By date of administration, oldest first.
    #[serde(rename = "date")]
    Date,
    /// By date of administration, newest first.
    #[serde(rename = "-date")]
    DateDesc,
    /// By last update, oldest first.
    #[serde(rename = "_lastUpdated")]
    LastUpdated,
    /// By last update, newest first.
    #[serde(rename = "-_lastUpdated")]
    LastUpdatedDesc,
}

/// Search parameters of `GET /fhir/Patient`.
///
/// Rules for every parameter: a comma inside a value means OR (`gender=male,female`);
/// repeating a parameter means AND (`given=ana&given=maria`). String parameters match values
/// that *start with* the text, ignoring case and accents; the modifiers `:exact` (whole value,
/// case- and accent-sensitive) and `:contains` are part of the parameter name
/// (`family:exact=Muñoz`). Date parameters take an optional prefix `eq ne gt lt ge le sa eb`
/// (default `eq`) and a date of any precision (`ge2020-01`, `lt2021-05-03T10:00:00Z`). Unknown
/// parameters or modifiers are a 400 OperationOutcome unless the request carries
/// `Prefer: handling=lenient` (then they are ignored and reported).
#[derive(IntoParams, ToSchema, Serialize, Debug, Clone, Default)]
#[into_params(parameter_in = Query)]
pub struct PatientSearchParams {
    /// Logical id(s); comma = OR.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id: Option<String>,
    /// Business identifier as a token: `system|value`, `|value` (no system), `system|` (any
    /// value in that system) or `value` (any system).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "urn:oid:2.16.840.1.113883.3.1234|MRN-000123")]
    #[schema(nullable = false, example = "urn:oid:2.16.840.1.113883.3.1234|MRN-000123")]
    pub identifier: Option<String>,
    /// Family name: starts with, case- and accent-insensitive (`munoz` finds `Muñoz`). Use
    /// `family:exact` or `family:contains` as the parameter name for the other matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "Mu")]
    #[schema(nullable = false, example = "Mu")]
    pub family: Option<String>,
    /// Given name: starts with, case- and accent-insensitive; `given:exact`, `given:contains`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub given: Option<String>,
    /// Any part of any name (family, given, prefix, suffix, text): starts with, case- and
    /// accent-insensitive; `name:exact`, `name:contains`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Birth date with an optional prefix `eq ne gt lt ge le sa eb` (e.g. `ge2020-01-01`,
    /// `2020` for the whole year). Repeat for a range: `birthdate=ge2020&birthdate=lt2021`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "2020-02-29")]
    #[schema(nullable = false, example = "2020-02-29")]
    pub birthdate: Option<String>,
    /// Administrative gender: `male`, `female`, `other`, `unknown`; comma = OR.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "female")]
    #[schema(nullable = false, example = "female")]
    pub gender: Option<String>,
    /// Postal code of any address: starts with, case- and space-insensitive;
    /// `address-postalcode:exact`, `address-postalcode:contains`.
    #[serde(rename = "address-postalcode", skip_serializing_if = "Option::is_none")]
    #[param(example = "554")]
    #[schema(nullable = false, example = "554")]
    pub address_postalcode: Option<String>,
    /// `true` or `false`; a record without `active` counts as active.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "true")]
    #[schema(nullable = false, example = "true")]
    pub active: Option<String>,
    /// When the current version was written, with a date prefix (`gt2024-05-01T00:00:00Z`).
    #[serde(rename = "_lastUpdated", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_updated: Option<String>,
    /// Page size: default 50; larger values are lowered to 1000 (FHIR lets a server return fewer).
    /// `_count=0` returns only the total.
    #[serde(rename = "_count", skip_serializing_if = "Option::is_none")]
    #[param(minimum = 0, example = 50)]
    #[schema(nullable = false, minimum = 0, example = 50)]
    pub count: Option<u32>,
    /// Sort key (one): `_id` (default), `family`, `birthdate`, `_lastUpdated`; prefix `-` for
    /// descending.
    #[serde(rename = "_sort", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub sort: Option<PatientSort>,
    /// Whether `Bundle.total` is filled: `none` (default), `estimate` or `accurate` (both count
    /// exactly what the caller may see).
    #[serde(rename = "_total", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub total: Option<TotalParam>,
    /// `count`: only the total, no entries; `false`: full resources (default).
    #[serde(rename = "_summary", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub summary: Option<SummaryParam>,
    /// `Immunization:patient` adds each matched Patient's Immunizations (search mode `include`).
    #[serde(rename = "_revinclude", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub revinclude: Option<PatientRevInclude>,
    /// Opaque paging cursor. Do not build it: follow the Bundle's `next` link, which carries it
    /// together with the original parameters.
    #[serde(rename = "_cursor", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cursor: Option<String>,
}

/// Search parameters of `GET /fhir/Immunization`.
///
/// Same rules as Patient search: comma = OR, repeating a parameter = AND; string parameters
/// match "starts with" (case-insensitive) with `:exact`/`:contains` as part of the name
/// (`lot-number:exact`); date prefixes `eq ne gt lt ge le sa eb`; unknown parameters are a 400
/// OperationOutcome unless the request carries `Prefer: handling=lenient`.
#[derive(IntoParams, ToSchema, Serialize, Debug, Clone, Default)]
#[into_params(parameter_in = Query)]
pub struct ImmunizationSearchParams {
    /// Logical id(s); comma = OR.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id: Option<String>,
    /// The Patient: `Patient/{id}` or `{id}` (also `patient:Patient={id}`); comma = OR.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "Patient/5f0c3b7e-1d2a-4c8e-9a6b-2e7f0a1b2c3d")]
    #[schema(nullable = false, example = "Patient/5f0c3b7e-1d2a-4c8e-9a6b-2e7f0a1b2c3d")]
    pub patient: Option<String>,
    /// Date of administration (`occurrenceDateTime`) with an optional prefix
    /// `eq ne gt lt ge le sa eb` (e.g. `ge2021-01-01`); repeat for a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "ge2021-01-01")]
    #[schema(nullable = false, example = "ge2021-01-01")]
    pub date: Option<String>,
    /// Vaccine as a token: `http://hl7.org/fhir/sid/cvx|03`, `|03` or `03`.
    #[serde(rename = "vaccine-code", skip_serializing_if = "Option::is_none")]
    #[param(example = "http://hl7.org/fhir/sid/cvx|03")]
    #[schema(nullable = false, example = "http://hl7.org/fhir/sid/cvx|03")]
    pub vaccine_code: Option<String>,
    /// `completed`, `entered-in-error` or `not-done`; comma = OR.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "completed")]
    #[schema(nullable = false, example = "completed")]
    pub status: Option<String>,
    /// Lot number: starts with, case-insensitive; `lot-number:exact` (whole value,
    /// case-insensitive), `lot-number:contains`.
    #[serde(rename = "lot-number", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lot_number: Option<String>,
    /// When the current version was written, with a date prefix (`gt2024-05-01T00:00:00Z`).
    #[serde(rename = "_lastUpdated", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_updated: Option<String>,
    /// Page size: default 50; larger values are lowered to 1000 (FHIR lets a server return fewer).
    /// `_count=0` returns only the total.
    #[serde(rename = "_count", skip_serializing_if = "Option::is_none")]
    #[param(minimum = 0, example = 50)]
    #[schema(nullable = false, minimum = 0, example = 50)]
    pub count: Option<u32>,
    /// Sort key (one): `_id` (default), `date`, `_lastUpdated`; prefix `-` for descending.
    #[serde(rename = "_sort", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub sort: Option<ImmunizationSort>,
    /// Whether `Bundle.total` is filled: `none` (default), `estimate` or `accurate` (both count
    /// exactly what the caller may see).
    #[serde(rename = "_total", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub total: Option<TotalParam>,
    /// `count`: only the total, no entries; `false`: full resources (default).
    #[serde(rename = "_summary", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub summary: Option<SummaryParam>,
    /// `Immunization:patient` adds the Patient of each matched Immunization (search mode
    /// `include`).
    #[serde(rename = "_include", skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    #[schema(nullable = false)]
    pub include: Option<ImmunizationInclude>,
    /// Opaque paging cursor. Do not build it: follow the Bundle's `next` link.
    #[serde(rename = "_cursor", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cursor: Option<String>,
}

/// Parameters of the `_history` interactions (newest version first).
#[derive(IntoParams, ToSchema, Serialize, Debug, Clone, Default)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Page size: default 50, at most 1000.
    #[serde(rename = "_count", skip_serializing_if = "Option::is_none")]
    #[param(minimum = 0, example = 50)]
    #[schema(nullable = false, minimum = 0, example = 50)]
    pub count: Option<u32>,
    /// Only versions written at or after this instant (FHIR instant, with time zone).
    #[serde(rename = "_since", skip_serializing_if = "Option::is_none")]
    #[param(
        format = DateTime,
        pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$",
        example = "2024-05-01T00:00:00Z"
    )]
    #[schema(
        nullable = false,
        format = DateTime,
        pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$",
        example = "2024-05-01T00:00:00Z"
    )]
    pub since: Option<String>,
    /// Opaque paging cursor. Do not build it: follow the Bundle's `next` link.
    #[serde(rename = "_cursor", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::{IntoParams, OpenApi};

    use super::*;

    #[derive(OpenApi)]
    #[openapi(components(schemas(
        Patient,
        Immunization,
        Bundle,
        OperationOutcome,
        CapabilityStatement,
        HealthStatus,
        PatientSearchParams,
        ImmunizationSearchParams,
        HistoryParams
    )))]
    struct Doc;

    fn spec() -> Value {
        serde_json::to_value(Doc::openapi()).unwrap_or_else(|error| panic!("the spec serializes: {error}"))
    }

    fn schema<'a>(spec: &'a Value, name: &str) -> &'a Value {
        &spec["components"]["schemas"][name]
    }

    /// Follows a `$ref` to `#/components/schemas/...`, or returns the schema itself.
    fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => schema(spec, r.trim_start_matches("#/components/schemas/")),
            None => value,
        }
    }

    /// The strings of a JSON array (empty when it is not one).
    fn strings(value: &Value) -> Vec<&str> {
        value.as_array().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    fn required(schema: &Value) -> Vec<&str> {
        strings(&schema["required"])
    }

    fn enum_values(schema: &Value) -> Vec<&str> {
        strings(&schema["enum"])
    }

    #[test]
    fn immunization_requires_status_vaccine_code_patient_and_date() {
        let spec = spec();
        let immunization = schema(&spec, "Immunization");
        let required = required(immunization);
        for name in ["resourceType", "status", "vaccineCode", "patient", "occurrenceDateTime"] {
            assert!(required.contains(&name), "{name} missing from {required:?}");
        }
        assert!(!required.contains(&"lotNumber"));
        let status = resolve(&spec, &immunization["properties"]["status"]);
        assert_eq!(enum_values(status), ["completed", "entered-in-error", "not-done"]);
        assert_eq!(enum_values(resolve(&spec, &immunization["properties"]["resourceType"])), ["Immunization"]);
    }

    #[test]
    fn patient_gender_is_an_enum_and_name_and_birth_date_are_required() {
        let spec = spec();
        let patient = schema(&spec, "Patient");
        let gender = resolve(&spec, &patient["properties"]["gender"]);
        assert_eq!(enum_values(gender), ["male", "female", "other", "unknown"]);
        let required = required(patient);
        assert_eq!(required, ["resourceType", "name", "birthDate"]);
        assert_eq!(patient["properties"]["birthDate"]["format"], "date");
        assert_eq!(patient["properties"]["id"]["pattern"], r"^[A-Za-z0-9\-\.]{1,64}$");
    }

    #[test]
    fn optional_elements_are_not_nullable_and_nothing_is_wrapped_in_all_of() {
        // FHIR JSON never carries `null`: optional elements must not be typed as nullable.
        let text = spec().to_string();
        assert!(!text.contains("\"null\""), "a schema allows null");
        // utoipa turns `#[schema(inline)]` + a field doc comment into
        // `allOf: [{enum}, {type: object}]`, which no value satisfies.
        assert!(!text.contains("allOf"), "a schema uses allOf");
    }

    #[test]
    fn operation_outcome_issue_codes_are_kebab_case() {
        let spec = spec();
        let issue = schema(&spec, "OperationOutcomeIssue");
        assert_eq!(required(issue), ["severity", "code"]);
        let code = enum_values(resolve(&spec, &issue["properties"]["code"]));
        assert_eq!(code.len(), 31);
        for value in ["not-supported", "multiple-matches", "code-invalid", "business-rule", "lock-error", "too-costly"]
        {
            assert!(code.contains(&value), "{value} missing");
        }
    }

    #[test]
    fn bundle_entry_resource_is_one_of_the_resources() {
        let spec = spec();
        let any = schema(&spec, "AnyResource");
        assert_eq!(any["oneOf"].as_array().map(Vec::len), Some(4));
        assert_eq!(any["discriminator"]["propertyName"], "resourceType");
        let bundle = schema(&spec, "Bundle");
        assert_eq!(required(bundle), ["resourceType", "type"]);
        let request = schema(&spec, "BundleEntryRequest");
        assert_eq!(
            enum_values(resolve(&spec, &request["properties"]["method"])),
            ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
        );
    }

    #[test]
    fn search_parameters_carry_their_fhir_names() {
        let params = PatientSearchParams::into_params(|| None);
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "_id",
                "identifier",
                "family",
                "given",
                "name",
                "birthdate",
                "gender",
                "address-postalcode",
                "active",
                "_lastUpdated",
                "_count",
                "_sort",
                "_total",
                "_summary",
                "_revinclude",
                "_cursor"
            ]
        );
        assert!(params.iter().all(|p| p.parameter_in == ParameterIn::Query));
        let names: Vec<String> = ImmunizationSearchParams::into_params(|| None).into_iter().map(|p| p.name).collect();
        assert!(names.iter().any(|n| n == "vaccine-code") && names.iter().any(|n| n == "lot-number"));
        let names: Vec<String> = HistoryParams::into_params(|| None).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["_count", "_since", "_cursor"]);
    }
}

/// A JSON Web Key Set (RFC 7517).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[schema(example = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "3f1c", "alg": "ES256", "use": "sig"}]}))]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One public key.
#[derive(ToSchema, Serialize, Debug, Clone)]
pub struct Jwk {
    /// `EC` or `RSA`.
    pub kty: String,
    /// Key id.
    pub kid: Option<String>,
    /// Algorithm (`ES256`, `ES384`, `RS384`).
    pub alg: Option<String>,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: Option<String>,
    /// EC curve (`P-256`, `P-384`).
    pub crv: Option<String>,
    /// EC x coordinate (base64url).
    pub x: Option<String>,
    /// EC y coordinate (base64url).
    pub y: Option<String>,
    /// RSA modulus (base64url).
    pub n: Option<String>,
    /// RSA exponent (base64url).
    pub e: Option<String>,
}

/// SMART App Launch configuration (`.well-known/smart-configuration`).
#[derive(ToSchema, Serialize, Debug, Clone)]
pub struct SmartConfiguration {
    /// The token issuer.
    pub issuer: String,
    /// Where the public keys are.
    pub jwks_uri: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// Where tokens are revoked (logout).
    pub revocation_endpoint: String,
    /// `client_credentials`, `password`.
    pub grant_types_supported: Vec<String>,
    /// `private_key_jwt`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `RS384`, `ES384`.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// Example scopes.
    pub scopes_supported: Vec<String>,
    /// SMART capabilities.
    pub capabilities: Vec<String>,
    /// None (no authorization-code flow).
    pub code_challenge_methods_supported: Vec<String>,
}

/// A FHIR reference.
#[derive(ToSchema, Serialize, Debug, Clone)]
pub struct PlainReference {
    /// `Type/id`.
    pub reference: Option<String>,
    /// Text when there is no reference.
    pub display: Option<String>,
}

/// FHIR R4 Organization (a view of an enrolled organization).
#[derive(ToSchema, Serialize, Debug, Clone)]
#[schema(example = json!({"resourceType": "Organization", "id": "0193a0c2-7c1e-7b8e-9d1a-3c4f5e6a7b8c", "active": true,
    "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}], "text": "provider"}],
    "name": "Lakeside Family Clinic"}))]
pub struct FhirOrganization {
    /// Always `Organization`.
    #[serde(rename = "resourceType")]
    #[schema(pattern = "^Organization$")]
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// Last change.
    pub meta: Option<Meta>,
    /// Whether it is enrolled and active.
    pub active: bool,
    /// HL7 organization-type (prov, edu, pay, govt) with the izreg kind as text.
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    /// Name.
    pub name: String,
    /// Phone and email.
    pub telecom: Option<Vec<ContactPoint>>,
}

/// FHIR R4 Location (a view of a facility).
#[derive(ToSchema, Serialize, Debug, Clone)]
pub struct FhirLocation {
    /// Always `Location`.
    #[serde(rename = "resourceType")]
    #[schema(pattern = "^Location$")]
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// Last change.
    pub meta: Option<Meta>,
    /// `active` or `inactive`.
    #[schema(pattern = "^(active|inactive)$")]
    pub status: String,
    /// Name.
    pub name: String,
    /// Always `instance`.
    pub mode: String,
    /// The site code (`urn:izreg:site-code`).
    pub identifier: Option<Vec<Identifier>>,
    /// Address.
    pub address: Option<Address>,
    /// Phone.
    pub telecom: Option<Vec<ContactPoint>>,
    /// The organization the facility belongs to.
    #[serde(rename = "managingOrganization")]
    pub managing_organization: PlainReference,
}

/// FHIR R4 AuditEvent (a view of one audit trail record).
#[derive(ToSchema, Serialize, Debug, Clone)]
pub struct FhirAuditEvent {
    /// Always `AuditEvent`.
    #[serde(rename = "resourceType")]
    #[schema(pattern = "^AuditEvent$")]
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// `rest` for FHIR interactions, `security` for logins and administration.
    #[serde(rename = "type")]
    pub event_type: Coding,
    /// The izreg action (read, search, create, login, lockout, agreement-activate, ...).
    pub subtype: Vec<Coding>,
    /// C, R, U, D or E.
    #[schema(pattern = "^[CRUDE]$")]
    pub action: String,
    /// When.
    #[schema(format = "date-time")]
    pub recorded: String,
    /// 0 success, 4 failed, 8 denied.
    #[schema(pattern = "^(0|4|8)$")]
    pub outcome: String,
    /// Why it was denied or failed.
    #[serde(rename = "outcomeDesc")]
    pub outcome_desc: Option<String>,
    /// Who: the user or system (identifier), the token id (altId), the facility (location).
    pub agent: Vec<serde_json::Value>,
    /// The registry.
    pub source: serde_json::Value,
    /// The patients and resources involved, and the query of a search (base64).
    pub entity: Option<Vec<serde_json::Value>>,
    /// Chain position, chain hash and HTTP status.
    pub extension: Vec<serde_json::Value>,
}
