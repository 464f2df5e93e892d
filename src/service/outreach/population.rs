//! A run's or list's population: whom it covers and the criteria both share (postal codes, age
//! band, vaccine groups), read in keyset batches, screened (age band, privacy, declined reminders,
//! deceased) and forecast in parallel on every core.

use std::collections::{HashMap, HashSet};

use time::Date;

use super::super::ServiceError;
use super::super::access::{self, ReminderBar, RunRequester};
use crate::domain::access::Principal;
use crate::domain::outreach::{AgeRange, Population, RunCriteria};
use crate::domain::privacy::Visibility;
use crate::domain::search::{PatientFilter, StringMatch};
use crate::domain::time::Timestamp;
use crate::forecast::{AdministeredDose, Assessment, Engine, Gender, PatientHistory};
use crate::outreach::contact::{self, PatientFacts};
use crate::store::outreach::{self as outreach_store, Candidate, PopulationQuery};
use crate::store::{DbConnection, StoreError};

/// People read and forecast per batch: large enough to keep both cores busy, small enough that
/// every `IN (...)` list stays far below the backends' bind-parameter limits.
pub const BATCH_SIZE: i64 = 2_000;

/// One microsecond-precision day: the width of a full `birthDate`.
const DAY_MICROS: i64 = 86_400_000_000;

/// Why a person of the population gets no notice or list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// No full birth date, or an unreadable record.
    Unusable,
    OutOfAgeBand,
    OptedOut,
    LockedElsewhere,
    RemindersDeclined,
    Deceased,
}

/// A person who passed the screening, with their forecast.
#[derive(Debug, Clone)]
pub struct Member {
    pub facts: PatientFacts,
    pub assessment: Assessment,
}

/// How to screen a batch.
#[derive(Debug, Clone)]
pub struct Screening<'a> {
    pub age: &'a AgeRange,
    pub as_of: Date,
    /// Reminder runs decide opt-out and locks here (to count them); lists filter them in SQL
    /// exactly as searches do, and pass `None`.
    pub requester: Option<&'a RunRequester>,
}

/// What a batch needs besides the candidates.
#[derive(Debug, Default)]
pub struct BatchFacts {
    pub doses: HashMap<String, Vec<AdministeredDose>>,
    pub declined: HashSet<String>,
    /// Patient id -> vaccine groups a notice was sent for within the repeat interval.
    pub recently_notified: HashMap<String, HashSet<String>>,
}

/// Reads the facts of a batch: completed doses; for a reminder run (`run_notified_since`: the
/// first day of the repeat interval, `YYYY-MM-DD`) also declined reminders and the vaccine groups
/// notified since that day.
pub fn batch_facts(
    conn: &mut DbConnection,
    candidates: &[Candidate],
    run_notified_since: Option<&str>,
) -> Result<BatchFacts, StoreError> {
    let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
    let mut doses: HashMap<String, Vec<AdministeredDose>> = HashMap::with_capacity(ids.len());
    for (patient_id, start, cvx) in outreach_store::doses_of(conn, &ids)? {
        let Some(date) = start.and_then(|s| Timestamp(s).to_offset_date_time()).map(|t| t.date()) else { continue };
        doses.entry(patient_id).or_default().push(AdministeredDose { date, cvx, mvx: None });
    }
    let mut facts = BatchFacts { doses, ..BatchFacts::default() };
    if let Some(since) = run_notified_since {
        facts.declined = outreach_store::reminders_declined(conn, &ids)?.into_iter().collect();
        for (patient_id, group) in outreach_store::notified_since(conn, &ids, since)? {
            facts.recently_notified.entry(patient_id).or_default().insert(group);
        }
    }
    Ok(facts)
}

/// The full birth date of a candidate (`None` for a partial or missing one).
fn birth_date(candidate: &Candidate) -> Option<Date> {
    let (start, end) = (candidate.birth_start?, candidate.birth_end?);
    if end - start != DAY_MICROS {
        return None;
    }
    Timestamp(start).to_offset_date_time().map(|t| t.date())
}

fn gender(candidate: &Candidate) -> Gender {
    match candidate.gender.as_deref() {
        Some("female") => Gender::Female,
        Some("male") => Gender::Male,
        _ => Gender::Unknown,
    }
}

/// Screens one candidate and forecasts them.
pub fn screen(
    engine: &Engine,
    screening: &Screening<'_>,
    candidate: &Candidate,
    facts: &BatchFacts,
) -> Result<Member, Exclusion> {
    let birth = birth_date(candidate).ok_or(Exclusion::Unusable)?;
    if !screening.age.contains(birth, screening.as_of) {
        return Err(Exclusion::OutOfAgeBand);
    }
    if let Some(requester) = screening.requester {
        match access::reminder_bar(requester, &Visibility::from_stored(candidate.visible_to.as_deref())) {
            Some(ReminderBar::OptedOut) => return Err(Exclusion::OptedOut),
            Some(ReminderBar::LockedElsewhere) => return Err(Exclusion::LockedElsewhere),
            None => {}
        }
    }
    // Read for reminder runs only (lists do not honour the choice): empty otherwise.
    if facts.declined.contains(&candidate.id) {
        return Err(Exclusion::RemindersDeclined);
    }
    let patient_facts = contact::patient_facts(&candidate.id, &candidate.resource_json, birth, screening.as_of)
        .ok_or(Exclusion::Unusable)?;
    if patient_facts.deceased {
        return Err(Exclusion::Deceased);
    }
    let history = PatientHistory {
        birth_date: birth,
        gender: gender(candidate),
        assessment_date: screening.as_of,
        doses: facts.doses.get(&candidate.id).cloned().unwrap_or_default(),
        observations: Vec::new(),
    };
    Ok(Member { facts: patient_facts, assessment: engine.assess(&history) })
}

/// Maps `items` on every core, keeping their order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Result<Vec<R>, ServiceError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if threads <= 1 || items.len() < 64 {
        return Ok(items.iter().map(f).collect());
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            let part =
                handle.join().map_err(|_| ServiceError::Configuration("a forecasting thread failed".to_owned()))?;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Walks the population batch by batch, calling `each` with the batch's candidates and facts.
/// Each batch is read on its own pooled connection, so a long run never holds one for long.
pub fn for_each_batch(
    database: &crate::store::Database,
    query: &PopulationQuery,
    run_notified_since: Option<&str>,
    mut each: impl FnMut(&[Candidate], &BatchFacts) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    let mut after: Option<String> = None;
    loop {
        let (candidates, facts) = database.read(|conn| {
            let candidates = outreach_store::population_batch(conn, query, after.as_deref(), BATCH_SIZE)?;
            let facts = batch_facts(conn, &candidates, run_notified_since)?;
            Ok::<_, ServiceError>((candidates, facts))
        })?;
        let Some(last) = candidates.last() else { return Ok(()) };
        after = Some(last.id.clone());
        each(&candidates, &facts)?;
        if i64::try_from(candidates.len()).unwrap_or(i64::MAX) < BATCH_SIZE {
            return Ok(());
        }
    }
}

/// The birth instants an age band allows on `as_of`, one day wider on each side than the band
/// (the exact test is `AgeRange::contains`); lets the database skip everyone else.
pub fn birth_bounds(age: &AgeRange, as_of: Date) -> (Option<Timestamp>, Option<Timestamp>) {
    let instant = |date: Date| Timestamp::from_offset_date_time(date.midnight().assume_utc());
    let back = |age: crate::domain::outreach::Age| -> Option<Date> {
        let value = i64::from(age.value);
        use crate::domain::outreach::{AgeUnit, add_months};
        match age.unit {
            AgeUnit::Days => as_of.checked_sub(time::Duration::days(value)),
            AgeUnit::Weeks => as_of.checked_sub(time::Duration::weeks(value)),
            AgeUnit::Months => add_months(as_of, -value),
            AgeUnit::Years => add_months(as_of, -value * 12),
        }
    };
    let day = time::Duration::days(1);
    let born_to = age.min.and_then(back).and_then(|d| d.checked_add(day)).map(instant);
    let born_from = age.max.map(|max| max.next()).and_then(back).and_then(|d| d.checked_sub(day)).map(instant);
    (born_from, born_to)
}

/// The population conditions of a run or list.
pub fn population_query(criteria: &RunCriteria, mut filters: Vec<PatientFilter>) -> PopulationQuery {
    if !criteria.postal_codes.is_empty() {
        filters.push(PatientFilter::PostalCode(
            criteria.postal_codes.iter().map(|code| StringMatch::StartsWith(code.clone())).collect(),
        ));
    }
    let (born_from, born_to) = birth_bounds(&criteria.age, criteria.as_of);
    PopulationQuery { population: criteria.population.clone(), filters, born_from, born_to }
}

/// Checks the postal codes, age band and vaccine groups shared by runs and outbreak lists, and
/// normalizes the postal codes as the index stores them.
pub fn check_common(
    postal_codes: &mut [String],
    age: &AgeRange,
    vaccine_groups: &[String],
) -> Result<(), ServiceError> {
    for code in postal_codes.iter_mut() {
        *code = crate::fhir::patient::normalize_postal_code(code);
        if code.is_empty() || code.len() > 10 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ServiceError::invalid(
                "postalCodes",
                "Each postal code or prefix is 1 to 10 letters or digits (e.g. 55101 or 551).",
            ));
        }
    }
    if postal_codes.len() > 500 {
        return Err(ServiceError::invalid("postalCodes", "At most 500 postal codes or prefixes."));
    }
    if let (Some(min), Some(max)) = (age.min, age.max) {
        // Any ordinary date compares the two bounds; month lengths only blur a one-unit gap.
        let reference = time::macros::date!(2000 - 01 - 01);
        let (low, high) = (min.reached_on(reference), max.next().reached_on(reference));
        if let (Some(low), Some(high)) = (low, high)
            && low >= high
        {
            return Err(ServiceError::invalid("maxAge", "maxAge is below minAge."));
        }
    }
    let engine = super::super::forecast::engine()?;
    for group in vaccine_groups {
        if !engine.data().vaccine_groups.iter().any(|g| g.name == *group) {
            let known: Vec<&str> = engine.data().vaccine_groups.iter().map(|g| g.name.as_str()).collect();
            return Err(ServiceError::invalid(
                "vaccineGroups",
                format!("Unknown vaccine group {group:?}; the CDSi groups are: {}.", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Whom a run or list is for: a non-state caller always its own organization; state staff the
/// organization they name, or the state.
pub fn population_for(principal: &Principal, organization_id: Option<&str>) -> Result<Population, ServiceError> {
    match organization_id {
        Some(id) if principal.is_state_admin() || id == principal.organization_id => {
            Ok(Population::Organization { organization_id: id.to_owned() })
        }
        Some(_) => Err(ServiceError::Forbidden(
            "An organization runs outreach for its own patients; the health department runs it for others.".to_owned(),
        )),
        None if principal.is_state_admin() => Ok(Population::State),
        None => Ok(Population::Organization { organization_id: principal.organization_id.clone() }),
    }
}
