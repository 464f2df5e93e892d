//! OperationOutcome issues: how every problem is reported to a FHIR client.

use serde::Serialize;

/// `OperationOutcome.issue.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The request cannot be carried out.
    Fatal,
    /// The request failed because of this issue.
    Error,
    /// Worth knowing; the request went through.
    Warning,
    /// For information only.
    Information,
}

/// `OperationOutcome.issue.code` (FHIR IssueType value set), the codes this server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueType {
    /// Content invalid against the specification or a profile.
    Invalid,
    /// A structural issue in the content (malformed JSON, unknown element, wrong type).
    Structure,
    /// A required element is missing.
    Required,
    /// An element or header value is invalid.
    Value,
    /// A content validation rule failed (e.g. a date order).
    Invariant,
    /// An authentication or authorization problem.
    Security,
    /// The client needs to log in.
    Login,
    /// The user or system is not allowed to do this.
    Forbidden,
    /// The content or operation is suppressed (e.g. by a privacy choice).
    Suppressed,
    /// Processing issues (generic).
    Processing,
    /// The requested interaction or parameter is not supported.
    NotSupported,
    /// An attempt to create a duplicate.
    Duplicate,
    /// Several matches where one was expected.
    MultipleMatches,
    /// The reference or resource was not found.
    NotFound,
    /// The resource was deleted.
    Deleted,
    /// The content is too long (e.g. the body).
    TooLong,
    /// The code or system is not known.
    CodeInvalid,
    /// The operation would be too costly.
    TooCostly,
    /// A business rule was broken.
    BusinessRule,
    /// A version conflict (edit collision).
    Conflict,
    /// An internal error.
    Exception,
    /// Temporary problem; the request may be retried.
    Transient,
    /// Informational only.
    Informational,
}

/// One issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// How bad it is.
    pub severity: Severity,
    /// What kind of issue it is.
    pub code: IssueType,
    /// FHIRPath of the element concerned (`Patient.birthDate`), when there is one.
    pub expression: Option<String>,
    /// A plain message for a person. Never includes submitted values (they may be PHI).
    pub diagnostics: String,
}

impl Issue {
    /// An error issue.
    pub fn error(code: IssueType, diagnostics: impl Into<String>) -> Self {
        Issue { severity: Severity::Error, code, expression: None, diagnostics: diagnostics.into() }
    }

    /// An error issue about one element.
    pub fn at(code: IssueType, expression: impl Into<String>, diagnostics: impl Into<String>) -> Self {
        Issue { severity: Severity::Error, code, expression: Some(expression.into()), diagnostics: diagnostics.into() }
    }

    /// An informational issue (used for "all OK" outcomes).
    pub fn information(diagnostics: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Information,
            code: IssueType::Informational,
            expression: None,
            diagnostics: diagnostics.into(),
        }
    }

    /// A warning issue.
    pub fn warning(code: IssueType, diagnostics: impl Into<String>) -> Self {
        Issue { severity: Severity::Warning, code, expression: None, diagnostics: diagnostics.into() }
    }
}

#[derive(Serialize)]
struct OperationOutcomeJson<'a> {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    issue: Vec<IssueJson<'a>>,
}

#[derive(Serialize)]
struct IssueJson<'a> {
    severity: Severity,
    code: IssueType,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostics: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<[&'a str; 1]>,
}

/// The OperationOutcome resource for these issues, as JSON.
pub fn operation_outcome(issues: &[Issue]) -> serde_json::Value {
    let body = OperationOutcomeJson {
        resource_type: "OperationOutcome",
        issue: issues
            .iter()
            .map(|i| IssueJson {
                severity: i.severity,
                code: i.code,
                diagnostics: Some(i.diagnostics.as_str()),
                expression: i.expression.as_deref().map(|e| [e]),
            })
            .collect(),
    };
    serde_json::to_value(&body).unwrap_or_else(|_| serde_json::json!({"resourceType": "OperationOutcome", "issue": []}))
}

/// Why a resource was refused: one or more issues, all reported at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) with the submitted resource", issues.len())]
pub struct Rejection {
    /// Whether the content is unusable as FHIR (400) or breaks a rule of this registry (422).
    pub kind: RejectionKind,
    /// What is wrong.
    pub issues: Vec<Issue>,
}

/// The two classes of rejected content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// Unparseable, wrong type, unknown or malformed elements, missing required elements (400).
    Malformed,
    /// Valid FHIR that breaks a business rule: unknown codes, impossible dates, missing
    /// referenced resources (422).
    Unprocessable,
}

impl Rejection {
    /// A malformed-content rejection with one issue.
    pub fn malformed(issue: Issue) -> Self {
        Rejection { kind: RejectionKind::Malformed, issues: vec![issue] }
    }

    /// A business-rule rejection with one issue.
    pub fn unprocessable(issue: Issue) -> Self {
        Rejection { kind: RejectionKind::Unprocessable, issues: vec![issue] }
    }
}
