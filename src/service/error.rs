//! The service layer's error, and the ONE table that turns each error into an HTTP status and
//! OperationOutcome issues (used by the HTTP layer and by batch/transaction responses alike).

use crate::domain::ids::VersionId;
use crate::domain::resource::ResourceType;
use crate::fhir::outcome::{Issue, IssueType, Rejection, RejectionKind};
use crate::fhir::search::SearchError;
use crate::store::StoreError;

/// Why a use case could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The submitted resource is malformed or breaks a rule.
    #[error("the resource was rejected")]
    Rejected(#[from] Rejection),
    /// The search query cannot be run.
    #[error("the search is invalid")]
    InvalidSearch(#[from] SearchError),
    /// No resource with this id.
    #[error("{resource_type} not found")]
    NotFound {
        /// Type asked for.
        resource_type: ResourceType,
    },
    /// The caller may not change this record (another organization submitted it). Answered
    /// exactly like [`ServiceError::NotFound`], so nobody learns what others hold; audited as
    /// a denial.
    #[error("{resource_type} belongs to another organization")]
    NotOwner {
        /// Type asked for.
        resource_type: ResourceType,
    },
    /// The resource was deleted.
    #[error("{resource_type} was deleted")]
    Gone {
        /// Type asked for.
        resource_type: ResourceType,
    },
    /// No such version of the resource.
    #[error("version not found")]
    VersionNotFound {
        /// Type asked for.
        resource_type: ResourceType,
    },
    /// `If-Match` named another version than the current one.
    #[error("version conflict")]
    VersionConflict {
        /// The current version.
        current: VersionId,
    },
    /// A condition (`If-None-Exist`) matched more than one resource.
    #[error("precondition failed")]
    PreconditionFailed(String),
    /// The person the submission is about opted out of the registry: nothing about them is
    /// stored (422, issue code `suppressed`; the message echoes nothing submitted).
    #[error("the person opted out of the registry")]
    Suppressed,
    /// A record hidden from the caller by a privacy choice (opt-out, or a lock to another
    /// provider): answered exactly like [`ServiceError::NotFound`], audited as a denial.
    #[error("{resource_type} is hidden by a privacy choice")]
    Hidden {
        /// Type asked for.
        resource_type: ResourceType,
    },
    /// The request itself is wrong (headers, ids, bundle structure): 400.
    #[error("bad request")]
    BadRequest(Issue),
    /// The request conflicts with stored data (e.g. deleting a Patient that has immunizations).
    #[error("conflict")]
    Conflict(Issue),
    /// An entry of a transaction failed; the whole transaction was rolled back.
    #[error("transaction entry {index} failed")]
    TransactionEntry {
        /// Position of the entry in the request Bundle.
        index: usize,
        /// What went wrong with it.
        error: Box<ServiceError>,
    },
    /// No valid access token: 401 with `WWW-Authenticate`.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed (role, scope, agreement): 403.
    #[error("{0}")]
    Forbidden(String),
    /// A token endpoint refusal, answered as an OAuth2 error body.
    #[error("{error}: {description}")]
    OAuth {
        /// HTTP status (400 or 401).
        status: u16,
        /// The OAuth2 error code.
        error: &'static str,
        /// A plain explanation.
        description: String,
    },
    /// Administrative input breaks a rule (each issue names the field): 400.
    #[error("the request is invalid")]
    Invalid(Vec<Issue>),
    /// A spreadsheet's rows are wrong (one issue per problem, naming row and column): 400.
    #[error("the upload has errors")]
    RowErrors(Vec<crate::service::organization::RowError>),
    /// An administrative record does not exist, or the caller may not know it does: 404.
    #[error("{0}")]
    NotFoundNamed(String),
    /// The server is misconfigured (keys, files).
    #[error("configuration problem: {0}")]
    Configuration(String),
    /// The database failed.
    #[error("storage failure")]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        ServiceError::Store(StoreError::Query(error))
    }
}

impl ServiceError {
    /// Administrative input breaking a rule, at `field` (400).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid(vec![Issue::at(IssueType::Invalid, field, message)])
    }

    /// The HTTP status and the OperationOutcome issues for this error.
    pub fn status_and_issues(&self) -> (u16, Vec<Issue>) {
        match self {
            ServiceError::Rejected(rejection) => {
                let status = match rejection.kind {
                    RejectionKind::Malformed => 400,
                    RejectionKind::Unprocessable => 422,
                };
                (status, rejection.issues.clone())
            }
            ServiceError::InvalidSearch(error) => (400, error.issues.clone()),
            ServiceError::NotFound { resource_type }
            | ServiceError::NotOwner { resource_type }
            | ServiceError::Hidden { resource_type } => {
                (404, vec![Issue::error(IssueType::NotFound, format!("No {resource_type} with this id."))])
            }
            ServiceError::Gone { resource_type } => {
                (410, vec![Issue::error(IssueType::Deleted, format!("This {resource_type} was deleted."))])
            }
            ServiceError::VersionNotFound { resource_type } => {
                (404, vec![Issue::error(IssueType::NotFound, format!("This {resource_type} has no such version."))])
            }
            ServiceError::VersionConflict { current } => (
                412,
                vec![Issue::error(
                    IssueType::Conflict,
                    format!(
                        "The resource was changed meanwhile: the current version is {current}. Read it again and reapply your change."
                    ),
                )],
            ),
            ServiceError::PreconditionFailed(message) => {
                (412, vec![Issue::error(IssueType::MultipleMatches, message.clone())])
            }
            ServiceError::Suppressed => (
                422,
                vec![Issue::error(
                    IssueType::Suppressed,
                    "The person this submission is about has opted out of the registry, so it was not stored. \
                     Do not submit records about them.",
                )],
            ),
            ServiceError::BadRequest(issue) => (400, vec![issue.clone()]),
            ServiceError::Conflict(issue) => (409, vec![issue.clone()]),
            ServiceError::TransactionEntry { index, error } => {
                let (status, issues) = error.status_and_issues();
                let issues = issues
                    .into_iter()
                    .map(|mut issue| {
                        issue.expression = Some(match issue.expression.take() {
                            Some(expression) => format!("Bundle.entry[{index}].resource.{}", strip_type(&expression)),
                            None => format!("Bundle.entry[{index}]"),
                        });
                        issue.diagnostics =
                            format!("Entry {index}: {} The transaction was rolled back.", issue.diagnostics);
                        issue
                    })
                    .collect();
                (status, issues)
            }
            ServiceError::Unauthenticated(message) => (401, vec![Issue::error(IssueType::Login, message.clone())]),
            ServiceError::Forbidden(message) => (403, vec![Issue::error(IssueType::Forbidden, message.clone())]),
            ServiceError::OAuth { status, error, description } => {
                (*status, vec![Issue::error(IssueType::Security, format!("{error}: {description}"))])
            }
            ServiceError::Invalid(issues) => (400, issues.clone()),
            ServiceError::RowErrors(rows) => (
                400,
                rows.iter()
                    .map(|row| {
                        let expression = match &row.column {
                            Some(column) => format!("row[{}].{column}", row.row),
                            None => format!("row[{}]", row.row),
                        };
                        Issue::at(IssueType::Invalid, expression, format!("Row {}: {}", row.row, row.message))
                    })
                    .collect(),
            ),
            ServiceError::NotFoundNamed(message) => (404, vec![Issue::error(IssueType::NotFound, message.clone())]),
            ServiceError::Configuration(_) => (
                500,
                vec![Issue {
                    severity: crate::fhir::outcome::Severity::Fatal,
                    ..Issue::error(IssueType::Exception, "An internal error occurred; it has been logged.")
                }],
            ),
            ServiceError::Store(StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => (
                // Two requests raced to create the same thing; the database kept one.
                409,
                vec![Issue::error(IssueType::Duplicate, "This already exists (created by a concurrent request).")],
            ),
            ServiceError::Store(StoreError::Pool(_)) | ServiceError::Store(StoreError::WriterGone) => {
                (503, vec![Issue::error(IssueType::Transient, "The registry is busy or restarting; retry shortly.")])
            }
            ServiceError::Store(_) => (
                500,
                vec![Issue {
                    severity: crate::fhir::outcome::Severity::Fatal,
                    ..Issue::error(IssueType::Exception, "An internal error occurred; it has been logged.")
                }],
            ),
        }
    }

    /// Whether access control refused the request (audited as `denied`, not `failed`).
    pub fn is_denial(&self) -> bool {
        match self {
            ServiceError::Unauthenticated(_)
            | ServiceError::Forbidden(_)
            | ServiceError::NotOwner { .. }
            | ServiceError::Hidden { .. }
            | ServiceError::Suppressed => true,
            ServiceError::TransactionEntry { error, .. } => error.is_denial(),
            _ => false,
        }
    }

    /// Whether this is the server's fault (logged with its cause chain).
    pub fn is_internal(&self) -> bool {
        match self {
            ServiceError::Store(StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => false,
            ServiceError::Store(_) | ServiceError::Configuration(_) => true,
            ServiceError::TransactionEntry { error, .. } => error.is_internal(),
            _ => false,
        }
    }
}

/// `Patient.birthDate` -> `birthDate` (the resource type is implied by the entry).
fn strip_type(expression: &str) -> &str {
    match expression.split_once('.') {
        Some((head, rest)) if head.chars().next().is_some_and(char::is_uppercase) => rest,
        _ => expression,
    }
}
