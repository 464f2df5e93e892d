//! Data use agreements: drafting, signing (activation), renewal without a gap, termination with
//! notice, the report of agreements about to expire, and the reminder outbox.

use serde::{Deserialize, Serialize};
use time::Date;

use super::audit::AuditRecord;
use super::{Registry, ServiceError, access};
use crate::domain::access::Principal;
use crate::domain::agreement::{
    AgreementStatus, AgreementTerm, REMINDER_DAYS, StoredStatus, TERMINATION_NOTICE_DAYS, format_date, parse_date,
    term_end, today,
};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::{Issue, IssueType};
use crate::store::identity::{self, AgreementRow, NoticeRow};
use crate::store::{DbConnection, StoreError};

/// A person named in an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Email.
    pub email: String,
}

/// The people an agreement names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementContacts {
    /// Signs for the organization; receives the expiry reminders.
    pub authorized_representative: Contact,
    /// Administers the organization's registry access (users, facilities).
    pub administrator: Contact,
    /// Answers questions about immunization records.
    pub record_contact: Contact,
    /// Runs data exchange (HL7, FHIR interfaces).
    pub it_contact: Contact,
}

/// An agreement as shown to clients.
#[derive(Debug, Clone)]
pub struct AgreementView {
    /// Stored row.
    pub row: AgreementRow,
    /// Status today.
    pub status: AgreementStatus,
    /// The contacts.
    pub contacts: AgreementContacts,
}

fn term_of(row: &AgreementRow) -> AgreementTerm {
    AgreementTerm {
        stored: StoredStatus::parse(&row.status).unwrap_or(StoredStatus::Pending),
        starts_on: row.starts_on.as_deref().and_then(parse_date),
        ends_on: row.ends_on.as_deref().and_then(parse_date),
        terminated_on: row.terminated_on.as_deref().and_then(parse_date),
    }
}

fn view(row: AgreementRow, today: Date) -> Result<AgreementView, ServiceError> {
    let contacts = serde_json::from_str(&row.contacts_json)
        .map_err(|e| StoreError::Corrupt(format!("agreement {} contacts: {e}", row.id)))?;
    Ok(AgreementView { status: term_of(&row).status_on(today), contacts, row })
}

/// Whether an organization may use the registry today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationAccess {
    /// It has an active agreement (or runs the registry).
    Allowed,
    /// It does not; the message says why and since when.
    Refused(String),
}

/// Decides whether an organization may use the registry on `today`.
pub fn organization_access(
    conn: &mut DbConnection,
    organization_id: &str,
    today: Date,
) -> Result<OrganizationAccess, StoreError> {
    let Some(organization) = identity::organization(conn, organization_id)? else {
        return Ok(OrganizationAccess::Refused("The organization is not enrolled in the registry.".to_owned()));
    };
    if !organization.active {
        return Ok(OrganizationAccess::Refused("The organization's registry access is deactivated.".to_owned()));
    }
    if organization.operator {
        return Ok(OrganizationAccess::Allowed);
    }
    let agreements = identity::agreements_of(conn, organization_id)?;
    if agreements.iter().any(|a| term_of(a).status_on(today) == AgreementStatus::Active) {
        return Ok(OrganizationAccess::Allowed);
    }
    let ended = agreements
        .iter()
        .filter_map(|a| term_of(a).ended_on(today).map(|d| (d, term_of(a).status_on(today))))
        .max_by_key(|(day, _)| *day);
    Ok(OrganizationAccess::Refused(match ended {
        Some((since, AgreementStatus::Terminated)) => format!(
            "The organization's data use agreement is not active: it was terminated and is not in force since {}.",
            format_date(since)
        ),
        Some((since, _)) => {
            format!(
                "The organization's data use agreement is not active: it expired and is not in force since {}.",
                format_date(since)
            )
        }
        None => "The organization's data use agreement is not active: none has been signed yet.".to_owned(),
    }))
}

fn require_state(principal: &Principal) -> Result<(), ServiceError> {
    if principal.is_state_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("Only state staff manage data use agreements.".to_owned()))
    }
}

fn check_contacts(contacts: &AgreementContacts) -> Result<(), ServiceError> {
    for (field, contact) in [
        ("authorizedRepresentative", &contacts.authorized_representative),
        ("administrator", &contacts.administrator),
        ("recordContact", &contacts.record_contact),
        ("itContact", &contacts.it_contact),
    ] {
        if contact.name.trim().is_empty() || contact.name.len() > 200 {
            return Err(ServiceError::invalid(
                &format!("contacts.{field}.name"),
                "A contact needs a name (at most 200 characters).",
            ));
        }
        if !looks_like_email(&contact.email) {
            return Err(ServiceError::invalid(
                &format!("contacts.{field}.email"),
                "A contact needs a valid email address.",
            ));
        }
    }
    if contacts.authorized_representative.title.as_deref().is_none_or(|t| t.trim().is_empty())
        || contacts.authorized_representative.phone.as_deref().is_none_or(|p| p.trim().is_empty())
    {
        return Err(ServiceError::invalid(
            "contacts.authorizedRepresentative",
            "The authorized representative needs a name, title, phone and email.",
        ));
    }
    Ok(())
}

/// A plausible email address: one `@`, something on both sides, a dot in the domain.
pub fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// Drafts an agreement for an organization (pending until signed). With `renews`, it is the
/// renewal of that agreement and will start the day after it ends.
pub fn create(
    registry: &Registry,
    principal: &Principal,
    organization_id: &str,
    contacts: AgreementContacts,
    renews: Option<String>,
) -> Result<AgreementView, ServiceError> {
    require_state(principal)?;
    check_contacts(&contacts)?;
    let now = Timestamp::now().micros();
    let contacts_json = serde_json::to_string(&contacts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = AgreementRow {
        id: uuid::Uuid::now_v7().to_string(),
        organization_id: organization_id.to_owned(),
        status: StoredStatus::Pending.as_str().to_owned(),
        signed_on: None,
        starts_on: None,
        ends_on: None,
        contacts_json,
        representative_email: contacts.authorized_representative.email.clone(),
        renews_agreement_id: renews,
        termination_notice_on: None,
        terminated_on: None,
        termination_requested_by: None,
        termination_reason: None,
        created_at: now,
        updated_at: now,
    };
    let mut record = AuditRecord::by(principal, "agreement-create").on("Agreement");
    record.resource_ids = vec![row.id.clone()];
    let organization_id = organization_id.to_owned();
    let stored = registry.database().write(move |conn| -> Result<AgreementRow, ServiceError> {
        if identity::organization(conn, &organization_id)?.is_none() {
            return Err(ServiceError::NotFoundNamed("No organization with this id.".to_owned()));
        }
        if let Some(previous) = &row.renews_agreement_id {
            match identity::agreement(conn, previous)? {
                Some(p) if p.organization_id == organization_id => {}
                _ => {
                    return Err(ServiceError::invalid(
                        "renews",
                        "The agreement to renew is not one of this organization's.",
                    ));
                }
            }
        }
        identity::insert_agreement(conn, &row)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(row)
    })?;
    view(stored, today())
}

/// Records the signature: the agreement becomes active for three years from the signing date,
/// or, for a renewal signed while the previous term runs, from the day after that term ends.
pub fn activate(
    registry: &Registry,
    principal: &Principal,
    agreement_id: &str,
    signed_on: &str,
) -> Result<AgreementView, ServiceError> {
    require_state(principal)?;
    let signed = parse_date(signed_on)
        .ok_or_else(|| ServiceError::invalid("signedOn", "signedOn must be a date (YYYY-MM-DD)."))?;
    if signed > today() {
        return Err(ServiceError::invalid("signedOn", "signedOn cannot be in the future."));
    }
    let id = agreement_id.to_owned();
    let mut record = AuditRecord::by(principal, "agreement-activate").on("Agreement");
    record.resource_ids = vec![id.clone()];
    let row = registry.database().write(move |conn| -> Result<AgreementRow, ServiceError> {
        let mut row = identity::agreement(conn, &id)?
            .ok_or_else(|| ServiceError::NotFoundNamed("No agreement with this id.".to_owned()))?;
        if row.status != StoredStatus::Pending.as_str() {
            return Err(ServiceError::Conflict(Issue::error(
                IssueType::BusinessRule,
                "Only a pending agreement can be signed.",
            )));
        }
        let mut starts = signed;
        if let Some(previous) =
            row.renews_agreement_id.as_deref().map(|p| identity::agreement(conn, p)).transpose()?.flatten()
            && let Some(previous_end) = previous.ends_on.as_deref().and_then(parse_date)
            && previous_end >= signed
        {
            starts = previous_end.next_day().unwrap_or(previous_end);
        }
        row.status = StoredStatus::Active.as_str().to_owned();
        row.signed_on = Some(format_date(signed));
        row.starts_on = Some(format_date(starts));
        row.ends_on = Some(format_date(term_end(starts)));
        row.updated_at = Timestamp::now().micros();
        identity::save_agreement(conn, &row)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(row)
    })?;
    registry.sessions().forget_standing();
    view(row, today())
}

/// Terminates an agreement with notice (30 days at least, by either side).
pub fn terminate(
    registry: &Registry,
    principal: &Principal,
    agreement_id: &str,
    effective_on: Option<&str>,
    reason: &str,
) -> Result<AgreementView, ServiceError> {
    let notice_on = today();
    let earliest = notice_on + time::Duration::days(TERMINATION_NOTICE_DAYS);
    let effective = match effective_on {
        Some(text) => parse_date(text)
            .ok_or_else(|| ServiceError::invalid("effectiveOn", "effectiveOn must be a date (YYYY-MM-DD)."))?,
        None => earliest,
    };
    if effective < earliest {
        return Err(ServiceError::invalid(
            "effectiveOn",
            format!(
                "Termination needs {TERMINATION_NOTICE_DAYS} days' notice: the earliest date is {}.",
                format_date(earliest)
            ),
        ));
    }
    if reason.trim().is_empty() || reason.len() > 1000 {
        return Err(ServiceError::invalid("reason", "A reason is required (at most 1000 characters)."));
    }
    let id = agreement_id.to_owned();
    let principal_for_write = principal.clone();
    let reason = reason.to_owned();
    let mut record = AuditRecord::by(principal, "agreement-terminate").on("Agreement");
    record.resource_ids = vec![id.clone()];
    let row = registry.database().write(move |conn| -> Result<AgreementRow, ServiceError> {
        let not_found = || ServiceError::NotFoundNamed("No agreement with this id.".to_owned());
        let mut row = identity::agreement(conn, &id)?.ok_or_else(not_found)?;
        // The organization's own administrator may give notice too; nobody else learns it exists.
        if !access::may_manage_organization(&principal_for_write, &row.organization_id) {
            return Err(not_found());
        }
        if row.status != StoredStatus::Active.as_str() {
            return Err(ServiceError::Conflict(Issue::error(
                IssueType::BusinessRule,
                "Only an active agreement can be terminated.",
            )));
        }
        row.status = StoredStatus::Terminated.as_str().to_owned();
        row.termination_notice_on = Some(format_date(notice_on));
        row.terminated_on = Some(format_date(effective));
        row.termination_requested_by =
            Some(if principal_for_write.is_state_admin() { "state" } else { "organization" }.to_owned());
        row.termination_reason = Some(reason);
        row.updated_at = Timestamp::now().micros();
        identity::save_agreement(conn, &row)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(row)
    })?;
    registry.sessions().forget_standing();
    view(row, today())
}

/// The agreements of an organization.
pub fn list(
    registry: &Registry,
    principal: &Principal,
    organization_id: &str,
) -> Result<Vec<AgreementView>, ServiceError> {
    if !access::may_view_organization(principal, organization_id) {
        return Err(ServiceError::NotFoundNamed("No organization with this id.".to_owned()));
    }
    let rows = registry.database().read(|conn| identity::agreements_of(conn, organization_id))?;
    let today = today();
    rows.into_iter().map(|row| view(row, today)).collect()
}

/// One agreement.
pub fn get(registry: &Registry, principal: &Principal, agreement_id: &str) -> Result<AgreementView, ServiceError> {
    let row = registry.database().read(|conn| identity::agreement(conn, agreement_id))?;
    match row {
        Some(row) if access::may_view_organization(principal, &row.organization_id) => view(row, today()),
        _ => Err(ServiceError::NotFoundNamed("No agreement with this id.".to_owned())),
    }
}

/// The report of active agreements ending within `within_days` (and not yet renewed).
#[derive(Debug, Clone)]
pub struct ExpiringReport {
    /// The day the report was made for.
    pub as_of: Date,
    /// The window in days.
    pub within_days: u32,
    /// The agreements, soonest first, with whether a renewal is already signed.
    pub agreements: Vec<(AgreementView, bool)>,
}

/// Agreements that end within the window (state staff).
pub fn expiring(registry: &Registry, principal: &Principal, within_days: u32) -> Result<ExpiringReport, ServiceError> {
    require_state(principal)?;
    if within_days > 3 * 366 {
        return Err(ServiceError::invalid("withinDays", "withinDays is at most 1098."));
    }
    let as_of = today();
    let until = as_of + time::Duration::days(i64::from(within_days));
    let rows = registry.database().read(|conn| -> Result<Vec<(AgreementRow, bool)>, ServiceError> {
        let rows = identity::active_agreements_ending_between(conn, &format_date(as_of), &format_date(until))?;
        let renewed = renewed_among(conn, &rows)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let is_renewed = renewed.contains(&row.id);
                (row, is_renewed)
            })
            .collect())
    })?;
    let agreements =
        rows.into_iter().map(|(row, renewed)| view(row, as_of).map(|v| (v, renewed))).collect::<Result<_, _>>()?;
    Ok(ExpiringReport { as_of, within_days, agreements })
}

/// Which of the agreements a signed renewal renews (they then need no reminder).
fn renewed_among(
    conn: &mut DbConnection,
    agreements: &[AgreementRow],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let ids: Vec<String> = agreements.iter().map(|a| a.id.clone()).collect();
    identity::renewed_among(conn, &ids)
}

/// Queues the expiry reminders that are due on `as_of` (90, 60, 30 and 7 days before the end;
/// each once per agreement, skipped when a renewal is signed). Returns how many were queued.
pub fn queue_expiry_notices(registry: &Registry, as_of: Date) -> Result<usize, ServiceError> {
    let widest = REMINDER_DAYS.iter().copied().max().unwrap_or(90);
    let until = as_of + time::Duration::days(widest);
    registry.database().write(move |conn| -> Result<usize, ServiceError> {
        let mut queued = 0;
        let ending = identity::active_agreements_ending_between(conn, &format_date(as_of), &format_date(until))?;
        let renewed = renewed_among(conn, &ending)?;
        for row in ending {
            let Some(ends) = row.ends_on.as_deref().and_then(parse_date) else { continue };
            if renewed.contains(&row.id) {
                continue;
            }
            let days_left = (ends - as_of).whole_days();
            // The most urgent reminder whose day has come (a reminder missed while the server
            // was down is still sent, once).
            let Some(days_before) = REMINDER_DAYS.iter().copied().filter(|d| days_left <= *d).min() else { continue };
            let organization = identity::organization(conn, &row.organization_id)?.map(|o| o.name).unwrap_or_default();
            let notice = NoticeRow {
                id: uuid::Uuid::now_v7().to_string(),
                agreement_id: row.id.clone(),
                days_before: i32::try_from(days_before).unwrap_or(i32::MAX),
                recipient: row.representative_email.clone(),
                subject: format!("Immunization registry data use agreement expires on {}", format_date(ends)),
                body: format!(
                    "The data use agreement of {organization} with the immunization registry expires on {}. \
                     Without a renewal, your organization's access to the registry stops on that day. \
                     Please contact the registry to renew.",
                    format_date(ends)
                ),
                queued_at: Timestamp::now().micros(),
                sent_at: None,
                attempts: 0,
                last_error: None,
            };
            if identity::queue_notice(conn, &notice)? {
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// The notices queued for an agreement (state staff).
pub fn notices(registry: &Registry, principal: &Principal, agreement_id: &str) -> Result<Vec<NoticeRow>, ServiceError> {
    require_state(principal)?;
    Ok(registry.database().read(|conn| identity::notices_of(conn, agreement_id))?)
}

/// What a delivery round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryReport {
    /// Notices delivered.
    pub sent: usize,
    /// Notices that failed (kept for the next round, with the error recorded).
    pub failed: usize,
}

/// Most delivery attempts per notice before it is left for a person to look at.
const MAX_ATTEMPTS: i32 = 10;

/// Delivers the notices waiting in the outbox.
pub fn deliver_notices(
    registry: &Registry,
    settings: &crate::notify::NoticeSettings,
) -> Result<DeliveryReport, ServiceError> {
    let pending = registry.database().read(|conn| identity::unsent_notices(conn, 500))?;
    let mut report = DeliveryReport::default();
    for notice in pending.into_iter().filter(|n| n.attempts < MAX_ATTEMPTS) {
        let message = crate::notify::Message { to: &notice.recipient, subject: &notice.subject, body: &notice.body };
        let outcome = crate::notify::deliver(settings, &message);
        let id = notice.id.clone();
        let (sent_at, error) = match &outcome {
            Ok(()) => (Some(Timestamp::now().micros()), None),
            Err(error) => (None, Some(error.to_string())),
        };
        registry.database().write(move |conn| identity::mark_notice(conn, &id, sent_at, error.as_deref()))?;
        match outcome {
            Ok(()) => report.sent += 1,
            Err(error) => {
                tracing::warn!(notice = %notice.id, error = %error, "agreement notice not delivered");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}
