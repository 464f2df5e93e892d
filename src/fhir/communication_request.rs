//! A reminder / recall notice as a FHIR R4 `CommunicationRequest`: the registry asks the
//! requesting organization to tell the person (or their parent or guardian) which vaccines are
//! due or overdue. Computed from the stored notice on request; the id is `<run id>.<number>`.

use serde_json::{Value, json};

use crate::domain::outreach::{DueStatus, NoticeKind, RunRecord, SendMethod, StoredNotice};
use crate::domain::time::format_date;
use crate::fhir::date::format_instant;

/// `groupIdentifier.system`: the run a notice belongs to.
pub const RUN_IDENTIFIER_SYSTEM: &str = "urn:izreg:reminder-run";
const CATEGORY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/communication-category";
const PARTICIPATION_MODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode";
/// The kind of notice (`reminder`, `recall`).
pub const NOTICE_KIND_SYSTEM: &str = "urn:izreg:notice-kind";
/// CDSi vaccine group names.
pub const VACCINE_GROUP_SYSTEM: &str = "urn:izreg:cdsi-vaccine-group";

/// The id of a notice's CommunicationRequest.
pub fn id(run_id: &str, number: i64) -> String {
    format!("{run_id}.{number}")
}

/// Splits a CommunicationRequest id into the run id and notice number.
pub fn parse_id(id: &str) -> Option<(&str, i64)> {
    let (run, number) = id.rsplit_once('.')?;
    let number = number.parse::<i64>().ok().filter(|n| *n > 0)?;
    (!run.is_empty()).then_some((run, number))
}

fn medium(method: SendMethod) -> Value {
    let (code, display) = match method {
        SendMethod::Letter => ("MAILWRIT", "mail"),
        SendMethod::Phone => ("PHONE", "telephone"),
        SendMethod::Email => ("EMAILWRIT", "email"),
        SendMethod::Text => ("SMSWRIT", "SMS message"),
        SendMethod::Portal => ("ELECTRONIC", "electronic data"),
    };
    json!({"coding": [{"system": PARTICIPATION_MODE_SYSTEM, "code": code, "display": display}], "text": method.as_str()})
}

/// The CommunicationRequest of one notice of a run.
pub fn communication_request(run: &RunRecord, stored: &StoredNotice) -> Value {
    let notice = &stored.notice;
    let contact = &notice.contact;
    let mut resource = json!({
        "resourceType": "CommunicationRequest",
        "id": id(&run.id, notice.number),
        "meta": {"lastUpdated": format_instant(run.finished_at.unwrap_or(run.created_at))},
        "groupIdentifier": {"system": RUN_IDENTIFIER_SYSTEM, "value": run.id},
        // Sent at least once: done; otherwise still to do.
        "status": if stored.delivery.attempts > 0 { "completed" } else { "active" },
        "category": [{
            "coding": [
                {"system": CATEGORY_SYSTEM, "code": "reminder", "display": "Reminder"},
                {"system": NOTICE_KIND_SYSTEM, "code": notice.kind.as_str()}
            ],
            "text": notice.kind.as_str()
        }],
        "priority": match notice.kind { NoticeKind::Recall => "asap", NoticeKind::Reminder => "routine" },
        "subject": {"reference": format!("Patient/{}", contact.patient_id), "display": contact.name},
        "payload": notice.vaccine_groups.iter().map(|group| {
            let text = match (group.status, group.past_due) {
                (DueStatus::Overdue, Some(past_due)) => format!(
                    "{} dose {} is overdue (since {})", group.vaccine_group, group.dose_number, format_date(past_due)
                ),
                _ => format!(
                    "{} dose {} is due on {}", group.vaccine_group, group.dose_number, format_date(group.recommended)
                ),
            };
            json!({"contentString": text})
        }).collect::<Vec<_>>(),
        "occurrenceDateTime": format_date(run.criteria.as_of),
        "authoredOn": format_instant(run.created_at),
        "requester": {"reference": format!("Organization/{}", run.organization_id)},
        "reasonCode": notice.vaccine_groups.iter().map(|group| json!({
            "coding": [{"system": VACCINE_GROUP_SYSTEM, "code": group.vaccine_group}],
            "text": group.vaccine_group
        })).collect::<Vec<_>>(),
    });
    let recipient = match &contact.guardian {
        Some(guardian) => json!([{"display": match &guardian.relationship {
            Some(relationship) => format!("{} ({relationship} of {})", guardian.name, contact.name),
            None => format!("{} (for {})", guardian.name, contact.name),
        }}]),
        None => json!([{"reference": format!("Patient/{}", contact.patient_id), "display": contact.name}]),
    };
    resource["recipient"] = recipient;
    if let Some(method) = stored.delivery.last_method {
        resource["medium"] = json!([medium(method)]);
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_junk_is_refused() {
        assert_eq!(parse_id(&id("0193-abc", 12)), Some(("0193-abc", 12)));
        assert_eq!(parse_id("run.0"), None);
        assert_eq!(parse_id("run."), None);
        assert_eq!(parse_id(".5"), None);
        assert_eq!(parse_id("nodot"), None);
    }
}
