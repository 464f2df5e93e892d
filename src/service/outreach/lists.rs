//! Outreach lists computed on request: everyone who received a recalled vaccine lot, and the
//! people of an outbreak area and age band who are not complete or immune for a vaccine group.
//! Both see exactly what a search would (opt-out and locks filtered in SQL), serve an
//! organization's own patients or, for state staff, the state; and both are audited with every
//! person listed.

use serde::Deserialize;
use time::Date;

use super::super::audit::AuditRecord;
use super::super::resource::audit_outcome;
use super::super::{Registry, ServiceError, access};
use super::population::{self, Exclusion, Screening};
use super::population::{check_common, population_for, population_query};
use crate::domain::access::Principal;
use crate::domain::codes::{CVX_SYSTEM, MVX_SYSTEM};
use crate::domain::outreach::{AgeRange, ContactDetails, DueGroup, DueStatus, RunCriteria};
use crate::domain::search::PatientFilter;
use crate::domain::time::{Timestamp, format_date, midnight_utc, parse_date, today};
use crate::fhir::text::normalize_for_search;
use crate::forecast::SeriesStatus;
use crate::outreach::contact;
use crate::store::outreach::{self as outreach_store, LotDoseRow, PopulationQuery};

/// Most doses a lot recall lists (a lot is at most some tens of thousands of doses).
const MAX_LOT_DOSES: i64 = 200_000;

/// What a lot recall looks for.
#[derive(Debug, Clone, Default)]
pub struct LotRecallRequest {
    pub lot_number: String,
    /// MVX code of the manufacturer.
    pub manufacturer: Option<String>,
    /// Doses given on or after / on or before these dates.
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// State staff: only this organization's patients.
    pub organization_id: Option<String>,
}

/// A dose of the recalled lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecalledDose {
    pub immunization_id: String,
    pub date: Option<Date>,
    pub cvx: Option<String>,
    pub manufacturer: Option<String>,
    pub lot_number: Option<String>,
    /// The organization that recorded it.
    pub recorded_by: Option<String>,
}

/// One person on a lot recall list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotRecallEntry {
    pub contact: ContactDetails,
    pub deceased: bool,
    pub doses: Vec<RecalledDose>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DoseView {
    vaccine_code: CodeableConcept,
    manufacturer: Option<Reference>,
    occurrence_date_time: Option<String>,
    lot_number: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeableConcept {
    coding: Vec<Coding>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reference {
    identifier: Option<Identifier>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Identifier {
    system: Option<String>,
    value: Option<String>,
}

fn recalled_dose(row: &LotDoseRow) -> RecalledDose {
    let view: DoseView = serde_json::from_str(&row.resource_json).unwrap_or_default();
    RecalledDose {
        immunization_id: row.id.clone(),
        date: view.occurrence_date_time.as_deref().and_then(|d| d.get(..10)).and_then(parse_date),
        cvx: view
            .vaccine_code
            .coding
            .iter()
            .find(|c| c.system.as_deref() == Some(CVX_SYSTEM))
            .and_then(|c| c.code.clone()),
        manufacturer: view
            .manufacturer
            .and_then(|m| m.identifier)
            .filter(|i| i.system.as_deref().is_none_or(|s| s == MVX_SYSTEM))
            .and_then(|i| i.value),
        lot_number: view.lot_number,
        recorded_by: row.owner_organization_id.clone(),
    }
}

/// Everyone who received doses of a lot, with contact details: the caller's organization's
/// patients, or anyone for state staff. Audited with every person listed.
pub fn lot_recall(
    registry: &Registry,
    principal: &Principal,
    request: LotRecallRequest,
) -> Result<Vec<LotRecallEntry>, ServiceError> {
    let mut record = AuditRecord::by(principal, "lot-recall-list").on("Immunization");
    record.query = Some(format!(
        "lotNumber={}&manufacturer={}&from={}&to={}",
        request.lot_number.chars().take(64).collect::<String>(),
        request.manufacturer.as_deref().unwrap_or_default().chars().take(16).collect::<String>(),
        request.from.map(format_date).unwrap_or_default(),
        request.to.map(format_date).unwrap_or_default(),
    ));
    let result = (|| {
        access::check_outreach(principal)?;
        let lot = normalize_for_search(request.lot_number.trim());
        if lot.is_empty() || lot.len() > 64 {
            return Err(ServiceError::invalid("lotNumber", "lotNumber is required (at most 64 characters)."));
        }
        if let (Some(from), Some(to)) = (request.from, request.to)
            && from > to
        {
            return Err(ServiceError::invalid("to", "to is before from."));
        }
        let population = population_for(principal, request.organization_id.as_deref())?;
        let visible_to = access::visible_to(principal);
        let from = request.from.map(midnight_utc);
        let to = request.to.and_then(|d| d.next_day()).map(midnight_utc);
        let doses = registry
            .database()
            .read(|conn| outreach_store::doses_of_lot(conn, &lot, &visible_to, from, to, MAX_LOT_DOSES))?;
        let wanted_mvx = request.manufacturer.as_deref().map(|m| m.trim().to_uppercase());
        let mut by_patient: Vec<(String, Vec<RecalledDose>)> = Vec::new();
        let mut position: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for row in &doses {
            let dose = recalled_dose(row);
            let maker = dose.manufacturer.as_deref().map(str::to_uppercase);
            if wanted_mvx.as_ref().is_some_and(|wanted| maker.as_ref() != Some(wanted)) {
                continue;
            }
            let index = *position.entry(row.patient_id.clone()).or_insert_with(|| {
                by_patient.push((row.patient_id.clone(), Vec::new()));
                by_patient.len() - 1
            });
            if let Some((_, list)) = by_patient.get_mut(index) {
                list.push(dose);
            }
        }
        let as_of = today();
        let mut entries = Vec::with_capacity(by_patient.len());
        for chunk in by_patient.chunks(usize::try_from(population::BATCH_SIZE).unwrap_or(2_000)) {
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let query = PopulationQuery {
                population: population.clone(),
                filters: vec![PatientFilter::Id(ids), PatientFilter::Visible(visible_to.clone())],
                born_from: None,
                born_to: None,
            };
            let patients = registry
                .database()
                .read(|conn| outreach_store::population_batch(conn, &query, None, population::BATCH_SIZE))?;
            let patients: std::collections::HashMap<&str, &outreach_store::Candidate> =
                patients.iter().map(|p| (p.id.as_str(), p)).collect();
            for (patient_id, doses) in chunk {
                let Some(candidate) = patients.get(patient_id.as_str()) else { continue };
                let birth = candidate
                    .birth_start
                    .and_then(|s| Timestamp(s).to_offset_date_time())
                    .map_or(Date::MIN, |t| t.date());
                let Some(facts) = contact::patient_facts(patient_id, &candidate.resource_json, birth, as_of) else {
                    continue;
                };
                entries.push(LotRecallEntry { contact: facts.contact, deceased: facts.deceased, doses: doses.clone() });
            }
        }
        Ok(entries)
    })();
    audit_outcome(registry, record, &result, |record, entries| {
        record.patient_ids = entries.iter().map(|e| e.contact.patient_id.clone()).collect();
    });
    result
}

/// What an outbreak list looks for.
#[derive(Debug, Clone, Default)]
pub struct OutbreakRequest {
    /// CDSi vaccine group, e.g. `MMR`.
    pub vaccine_group: String,
    /// Postal codes or prefixes of the outbreak area (at least one).
    pub postal_codes: Vec<String>,
    pub age: AgeRange,
    /// State staff: only this organization's patients.
    pub organization_id: Option<String>,
    /// The date to assess on (today when `None`).
    pub as_of: Option<Date>,
}

/// One person on an outbreak list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutbreakEntry {
    pub contact: ContactDetails,
    /// The CDSi status of the vaccine group (never complete or immune here).
    pub status: SeriesStatus,
    /// The next dose, when the forecast gives one.
    pub next_dose: Option<DueGroup>,
}

/// The people of an area and age band who are not complete or immune for a vaccine group, and
/// the date they were assessed on.
pub fn outbreak(
    registry: &Registry,
    principal: &Principal,
    request: OutbreakRequest,
) -> Result<(Date, Vec<OutbreakEntry>), ServiceError> {
    let mut record = AuditRecord::by(principal, "outbreak-list").on("Patient");
    record.query = Some(
        format!("vaccineGroup={}&postalCodes={}", request.vaccine_group, request.postal_codes.join(","))
            .chars()
            .take(2000)
            .collect(),
    );
    let result = (|| {
        access::check_outreach(principal)?;
        let mut request = request;
        if request.postal_codes.is_empty() {
            return Err(ServiceError::invalid(
                "postalCodes",
                "Name the outbreak area: at least one postal code or prefix.",
            ));
        }
        if request.vaccine_group.trim().is_empty() {
            return Err(ServiceError::invalid("vaccineGroup", "vaccineGroup is required (e.g. MMR)."));
        }
        check_common(&mut request.postal_codes, &request.age, std::slice::from_ref(&request.vaccine_group))?;
        let engine = super::super::forecast::engine()?;
        let as_of = request.as_of.unwrap_or_else(today);
        let criteria = RunCriteria {
            population: population_for(principal, request.organization_id.as_deref())?,
            postal_codes: request.postal_codes,
            age: request.age,
            vaccine_groups: vec![request.vaccine_group.clone()],
            reminder_within_days: None,
            recall_overdue_days: None,
            as_of,
            repeat_interval_days: 0,
        };
        let query = population_query(&criteria, vec![PatientFilter::Visible(access::visible_to(principal))]);
        let screening = Screening { age: &criteria.age, as_of, requester: None };
        let mut entries = Vec::new();
        population::for_each_batch(registry.database(), &query, None, |candidates, facts| {
            let outcomes = population::parallel_map(candidates, |candidate| {
                population::screen(engine, &screening, candidate, facts)
            })?;
            for outcome in outcomes {
                let member = match outcome {
                    Ok(member) => member,
                    Err(Exclusion::Deceased | Exclusion::OutOfAgeBand | Exclusion::Unusable) => continue,
                    Err(Exclusion::OptedOut | Exclusion::LockedElsewhere | Exclusion::RemindersDeclined) => continue,
                };
                let Some(group) = member.assessment.group(&request.vaccine_group) else { continue };
                if matches!(group.status, SeriesStatus::Complete | SeriesStatus::Immune) {
                    continue;
                }
                let next_dose = group.next.as_ref().map(|next| DueGroup {
                    vaccine_group: group.vaccine_group.clone(),
                    status: if next.past_due.is_some_and(|d| d <= as_of) { DueStatus::Overdue } else { DueStatus::Due },
                    dose_number: next.dose_number,
                    earliest: next.earliest,
                    recommended: next.recommended,
                    past_due: next.past_due,
                });
                entries.push(OutbreakEntry { contact: member.facts.contact, status: group.status, next_dose });
            }
            Ok(())
        })?;
        Ok((as_of, entries))
    })();
    audit_outcome(registry, record, &result, |record, (_, entries)| {
        record.patient_ids = entries.iter().map(|e| e.contact.patient_id.clone()).collect();
    });
    result
}
