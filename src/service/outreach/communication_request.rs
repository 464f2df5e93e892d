//! Reminder / recall notices as FHIR `CommunicationRequest` (read, and search by the run's
//! `group-identifier` with keyset paging). The same rules and audit as the run's JSON notices:
//! only the requesting organization and state staff, only once the run has completed.

use serde_json::Value;

use super::super::{Registry, ServiceError};
use super::reminder_run::{self, MAX_PAGE};
use crate::domain::access::Principal;
use crate::fhir::communication_request::{self as fhir_request, RUN_IDENTIFIER_SYSTEM};
use crate::fhir::outcome::{Issue, IssueType};

/// Notices per page when `_count` is not given.
const DEFAULT_COUNT: i64 = 50;

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFoundNamed(format!("No CommunicationRequest {id}."))
}

/// One notice as a CommunicationRequest (`<run id>.<number>`).
pub fn read(registry: &Registry, principal: &Principal, id: &str) -> Result<Value, ServiceError> {
    let (run_id, number) = fhir_request::parse_id(id).ok_or_else(|| not_found(id))?;
    let page =
        reminder_run::notices(registry, principal, run_id, None, number - 1, 1).map_err(|error| match error {
            ServiceError::NotFoundNamed(_) => not_found(id),
            other => other,
        })?;
    let notice = page.notices.first().filter(|n| n.notice.number == number).ok_or_else(|| not_found(id))?;
    Ok(fhir_request::communication_request(&page.run, notice))
}

/// A page of a run's CommunicationRequests.
#[derive(Debug, Clone)]
pub struct CommunicationRequestPage {
    pub resources: Vec<Value>,
    /// The parameters to repeat in links.
    pub link_params: Vec<(String, String)>,
    /// The `_cursor` of the next page.
    pub next_cursor: Option<String>,
}

fn unsupported(name: &str) -> ServiceError {
    ServiceError::BadRequest(Issue::at(
        IssueType::NotSupported,
        name,
        "Unsupported or repeated search parameter: CommunicationRequest is searched by group-identifier (the run, \
         required), with _count and _cursor.",
    ))
}

/// Searches the notices of one run (`group-identifier=[urn:izreg:reminder-run|]<run id>`).
pub fn search(
    registry: &Registry,
    principal: &Principal,
    params: &[(String, String)],
    lenient: bool,
) -> Result<CommunicationRequestPage, ServiceError> {
    let mut run_id = None;
    let mut count = DEFAULT_COUNT;
    let mut after = 0;
    let mut link_params = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "group-identifier" if run_id.is_none() => {
                let id = match value.split_once('|') {
                    Some((system, id)) if system.is_empty() || system == RUN_IDENTIFIER_SYSTEM => id,
                    Some(_) => return Err(unsupported(name)),
                    None => value.as_str(),
                };
                run_id = Some(id.to_owned());
                link_params.push((name.clone(), value.clone()));
            }
            "_count" => {
                count = value.parse::<i64>().ok().filter(|c| *c > 0).ok_or_else(|| {
                    ServiceError::BadRequest(Issue::at(IssueType::Value, "_count", "_count is a positive number."))
                })?;
                count = count.min(MAX_PAGE);
            }
            "_cursor" => {
                after = value.parse::<i64>().ok().filter(|a| *a >= 0).ok_or_else(|| {
                    ServiceError::BadRequest(Issue::at(IssueType::Value, "_cursor", "The paging cursor is not valid."))
                })?;
            }
            "_format" => {}
            _ if lenient => {}
            _ => return Err(unsupported(name)),
        }
    }
    let run_id = run_id.ok_or_else(|| unsupported("group-identifier"))?;
    link_params.push(("_count".to_owned(), count.to_string()));
    let page = match reminder_run::notices(registry, principal, &run_id, None, after, count) {
        Ok(page) => page,
        // Another organization's run, or none: an empty searchset, as for any search.
        Err(ServiceError::NotFoundNamed(_)) => {
            return Ok(CommunicationRequestPage { resources: Vec::new(), link_params, next_cursor: None });
        }
        Err(error) => return Err(error),
    };
    let resources = page.notices.iter().map(|notice| fhir_request::communication_request(&page.run, notice)).collect();
    Ok(CommunicationRequestPage { resources, link_params, next_cursor: page.next_after.map(|n| n.to_string()) })
}
