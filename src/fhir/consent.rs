//! A person's privacy choices as FHIR R4 `Consent` resources: one per kind of choice ever
//! recorded (opt-out, lock, declined reminders), `active` while in force and `inactive` after it
//! was withdrawn. The id is `<patient id>.<kind>`; `meta.versionId` is the version of the
//! person's choices.

use serde_json::{Value, json};

use super::date::format_instant;
use crate::domain::privacy::{PrivacyChoices, PrivacyRecord, RecordLock};

/// The kinds of choice, each its own Consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentKind {
    OptOut,
    Lock,
    RemindersDeclined,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 3] = [ConsentKind::OptOut, ConsentKind::Lock, ConsentKind::RemindersDeclined];

    /// The id suffix and the code in `urn:izreg:privacy-choice`.
    pub fn code(self) -> &'static str {
        match self {
            ConsentKind::OptOut => "opt-out",
            ConsentKind::Lock => "lock",
            ConsentKind::RemindersDeclined => "reminders-declined",
        }
    }

    fn display(self) -> &'static str {
        match self {
            ConsentKind::OptOut => "Opted out of the immunization registry",
            ConsentKind::Lock => "Record locked to one provider",
            ConsentKind::RemindersDeclined => "Declined reminder and recall notices",
        }
    }

    fn in_force(self, choices: &PrivacyChoices) -> bool {
        match self {
            ConsentKind::OptOut => choices.opted_out,
            ConsentKind::Lock => choices.lock.is_some(),
            ConsentKind::RemindersDeclined => choices.reminders_declined,
        }
    }

    /// Splits a Consent id into the Patient id and the kind.
    pub fn parse_id(id: &str) -> Option<(&str, ConsentKind)> {
        let (patient_id, code) = id.rsplit_once('.')?;
        let kind = ConsentKind::ALL.into_iter().find(|kind| kind.code() == code)?;
        (!patient_id.is_empty()).then_some((patient_id, kind))
    }
}

/// The system of the codes naming each kind of choice.
pub const PRIVACY_CHOICE_SYSTEM: &str = "urn:izreg:privacy-choice";
/// The extension carrying how the requester's identity was checked.
pub const IDENTITY_VERIFICATION_EXTENSION: &str = "urn:izreg:StructureDefinition/identity-verification";

/// The Consents of a person: one per kind that was ever in force (`history`, newest first).
pub fn consents(history: &[PrivacyRecord]) -> Vec<Value> {
    ConsentKind::ALL.into_iter().filter_map(|kind| consent(history, kind)).collect()
}

/// The Consent of one kind; `None` when that choice was never made.
pub fn consent(history: &[PrivacyRecord], kind: ConsentKind) -> Option<Value> {
    let current = history.first()?;
    // The version that last changed this choice: when it was made, or withdrawn.
    let changed = history
        .windows(2)
        .find(|pair| kind.in_force(&pair[0].choices) != kind.in_force(&pair[1].choices))
        .map(|pair| &pair[0])
        .or_else(|| history.last().filter(|first| kind.in_force(&first.choices)))?;
    if !history.iter().any(|record| kind.in_force(&record.choices)) {
        return None;
    }
    let active = kind.in_force(&current.choices);
    let mut provision = json!({"type": "deny"});
    match kind {
        ConsentKind::OptOut => {
            provision["purpose"] = json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "PUBHLTH", "display": "public health"}]);
        }
        ConsentKind::Lock => {
            let lock = current
                .choices
                .lock
                .as_ref()
                .or_else(|| history.iter().find_map(|record| record.choices.lock.as_ref()));
            if let Some(RecordLock { organization_id, facility_id }) = lock {
                let mut actor = json!({
                    "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "CST", "display": "custodian"}]},
                    "reference": {"reference": format!("Organization/{organization_id}")}
                });
                if let Some(facility) = facility_id {
                    actor["reference"]["display"] = json!(format!("Facility Location/{facility} only"));
                }
                provision["provision"] = json!([{"type": "permit", "actor": [actor]}]);
            }
        }
        ConsentKind::RemindersDeclined => {
            provision["purpose"] = json!([{"system": PRIVACY_CHOICE_SYSTEM, "code": "reminder-recall", "display": "reminder and recall notices"}]);
        }
    }
    Some(json!({
        "resourceType": "Consent",
        "id": format!("{}.{}", current.patient_id, kind.code()),
        "meta": {"versionId": current.version.to_string(), "lastUpdated": format_instant(current.changed_at)},
        "extension": [{"url": IDENTITY_VERIFICATION_EXTENSION, "valueString": changed.identity_verification}],
        "status": if active { "active" } else { "inactive" },
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy", "display": "Privacy Consent"}]},
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]},
            {"coding": [{"system": PRIVACY_CHOICE_SYSTEM, "code": kind.code(), "display": kind.display()}]}
        ],
        "patient": {"reference": format!("Patient/{}", current.patient_id)},
        "dateTime": format_instant(changed.changed_at),
        "performer": [{"display": changed.requested_by}],
        "organization": [{"reference": format!("Organization/{}", changed.changed_by_organization_id)}],
        "policyRule": {"text": "State immunization registry law: the person's choice about their registry record."},
        "provision": provision,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;

    fn version(version: i32, choices: PrivacyChoices) -> PrivacyRecord {
        PrivacyRecord {
            patient_id: "p1".into(),
            version,
            choices,
            changed_at: Timestamp(1_700_000_000_000_000 + i64::from(version)),
            changed_by_organization_id: "org".into(),
            changed_by_user_id: None,
            requested_by: format!("requester {version}"),
            identity_verification: format!("check {version}"),
        }
    }

    #[test]
    fn each_choice_ever_made_is_a_consent_active_while_in_force() {
        let lock = RecordLock { organization_id: "clinic".into(), facility_id: None };
        let history = vec![
            version(3, PrivacyChoices { opted_out: false, lock: Some(lock.clone()), reminders_declined: true }),
            version(2, PrivacyChoices { opted_out: true, lock: Some(lock), reminders_declined: true }),
            version(1, PrivacyChoices { opted_out: false, lock: None, reminders_declined: true }),
        ];
        let all = consents(&history);
        let status = |kind: &str| {
            all.iter()
                .find(|c| c["id"] == format!("p1.{kind}"))
                .map(|c| (c["status"].clone(), c["performer"][0]["display"].clone()))
        };
        assert_eq!(status("opt-out"), Some((json!("inactive"), json!("requester 3"))));
        assert_eq!(status("lock"), Some((json!("active"), json!("requester 2"))));
        assert_eq!(status("reminders-declined"), Some((json!("active"), json!("requester 1"))));
        let lock = all.iter().find(|c| c["id"] == "p1.lock").unwrap();
        assert_eq!(lock["provision"]["provision"][0]["actor"][0]["reference"]["reference"], "Organization/clinic");
        assert_eq!(lock["meta"]["versionId"], "3");
    }

    #[test]
    fn choices_never_made_have_no_consent_and_ids_parse_back() {
        let history = vec![version(1, PrivacyChoices { reminders_declined: true, ..PrivacyChoices::default() })];
        let all = consents(&history);
        assert_eq!(all.len(), 1);
        assert_eq!(ConsentKind::parse_id("p1.reminders-declined"), Some(("p1", ConsentKind::RemindersDeclined)));
        assert_eq!(ConsentKind::parse_id("p1.x"), None);
        assert_eq!(ConsentKind::parse_id(".lock"), None);
        assert!(consents(&[]).is_empty());
    }
}
