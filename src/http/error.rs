//! How errors leave the server: always an OperationOutcome with a fitting status.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::fhir::outcome::{Issue, IssueType, operation_outcome};
use crate::service::ServiceError;

/// The FHIR JSON media type sent on every FHIR response.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use case failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The HTTP exchange itself is wrong (media type, size, headers).
    #[error("{}", .issue.diagnostics)]
    Http {
        /// Status to answer.
        status: StatusCode,
        /// What to say.
        issue: Issue,
    },
}

impl ApiError {
    /// An HTTP-level error.
    pub fn http(status: StatusCode, code: IssueType, message: impl Into<String>) -> Self {
        ApiError::Http { status, issue: Issue::error(code, message) }
    }

    fn status_and_issues(&self) -> (StatusCode, Vec<Issue>) {
        match self {
            ApiError::Service(error) => {
                let (status, issues) = error.status_and_issues();
                (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), issues)
            }
            ApiError::Http { status, issue } => (*status, vec![issue.clone()]),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::http(
            StatusCode::SERVICE_UNAVAILABLE,
            IssueType::Transient,
            "The server is shutting down; retry shortly.",
        )
    }
}

impl From<super::read_pool::ReadPoolError> for ApiError {
    fn from(error: super::read_pool::ReadPoolError) -> Self {
        match error {
            super::read_pool::ReadPoolError::Stopped => ApiError::http(
                StatusCode::SERVICE_UNAVAILABLE,
                IssueType::Transient,
                "The server is shutting down; retry shortly.",
            ),
            super::read_pool::ReadPoolError::Panicked => ApiError::http(
                StatusCode::INTERNAL_SERVER_ERROR,
                IssueType::Exception,
                "The read failed unexpectedly; the failure is logged.",
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_issues().0
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Service(error) = self
            && error.is_internal()
        {
            // The cause chain goes to the log, never to the client.
            tracing::error!(error = ?error, "request failed");
        }
        let (status, issues) = self.status_and_issues();
        let mut response = outcome_response(status, &issues);
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: say how to authenticate, and (when a token was sent) why it failed.
            let description = issues.first().map(|i| i.diagnostics.replace('"', "'")).unwrap_or_default();
            let value = format!("Bearer realm=\"izreg\", error=\"invalid_token\", error_description=\"{description}\"");
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// An OperationOutcome response.
pub fn outcome_response(status: StatusCode, issues: &[Issue]) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
    }
    response.body(operation_outcome(issues).to_string())
}

/// Answers requests no route matched: 405 with `Allow` when the path exists but not for this
/// method, else 404.
pub async fn no_route(req: actix_web::HttpRequest) -> HttpResponse {
    match allowed_methods(req.path()) {
        Some(allowed) => {
            let mut response = outcome_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &[Issue::error(
                    IssueType::NotSupported,
                    format!("{} is not supported here; use {allowed}.", req.method()),
                )],
            );
            if let Ok(value) = HeaderValue::from_str(allowed) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => outcome_response(
            StatusCode::NOT_FOUND,
            &[Issue::error(IssueType::NotSupported, "No such endpoint. See /fhir/metadata and /docs.")],
        ),
    }
}

/// The methods served on a FHIR path, if the path is one this server knows.
fn allowed_methods(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let known_type = |name: &str| crate::domain::resource::ResourceType::parse(name).is_some();
    match segments.as_slice() {
        ["fhir"] => Some("POST"),
        ["fhir", "metadata"] => Some("GET, HEAD"),
        ["fhir", t] if known_type(t) => Some("GET, HEAD, POST"),
        ["fhir", t, "_search"] if known_type(t) => Some("POST"),
        ["fhir", t, "_history"] if known_type(t) => Some("GET, HEAD"),
        ["fhir", t, _] if known_type(t) => Some("GET, HEAD, PUT, DELETE"),
        ["fhir", t, _, "_history"] if known_type(t) => Some("GET, HEAD"),
        ["fhir", t, _, "_history", _] if known_type(t) => Some("GET, HEAD"),
        _ => None,
    }
}
