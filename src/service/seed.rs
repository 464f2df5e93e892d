//! `izreg seed`: fills the registry with synthetic Patients and their immunization histories,
//! for demonstrations, manual testing and benchmarks.
//!
//! The people are realistic but invented: common US names (with the accented and hyphenated
//! names a registry must handle), Minnesota addresses, ages 0 to 18 with a few adults, and
//! immunizations that follow the CDC childhood schedule with real CVX/MVX codes, late and
//! missed visits. The output depends only on the random seed and today's date; resource ids
//! are new on every run, so seeding twice adds a second set of people.
//!
//! Each resource is built directly in the canonical form that validation of a FHIR create
//! produces, with the search facts validation would extract, rendered by the same `render`, and
//! stored with the same rows (current row, search index, "create" history entry). Running
//! validation on every resource would double the cost of a run; the tests instead run every
//! seeded resource through validation and check that it yields the same JSON and index.
//! Generation runs on worker threads, outside the write transactions: the database only
//! inserts, one transaction per batch of patients.

mod names;
mod person;
mod schedule;
mod vaccines;

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use time::Date;

use super::{Registry, ServiceError};
use crate::domain::codes::{CVX_SYSTEM, CodeTables, MVX_SYSTEM};
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::{IndexedToken, PatientIndex};
use crate::domain::resource::{ResourceType, StoredResource};
use crate::domain::time::Timestamp;
use crate::fhir::date::parse_search_value;
use crate::fhir::outcome::{Issue, IssueType};
use crate::fhir::resource::render;
use crate::fhir::text::normalize_for_search;
use crate::store::{StoreError, bulk};

pub use person::{MRN_SYSTEM, REGISTRY_ID_SYSTEM};

/// What to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOptions {
    /// How many Patients to create.
    pub patients: usize,
    /// Seed of the random generator: the same seed gives the same people and immunizations
    /// (on the same day, with the same build).
    pub random_seed: u64,
}

/// What a seeding run stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Patients created.
    pub patients: usize,
    /// Immunizations created.
    pub immunizations: usize,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

/// Patients generated and handed over together.
const BATCH_PATIENTS: usize = 1_000;
/// Batches stored per write transaction. Measured on SQLite: 2,000 patients per transaction is
/// as fast as 1,000 to 4,000, and 10,000 or more is slower (the writer's savepoint journal and
/// page cache outgrow memory); each transaction holds SQLite's write lock (about 2 seconds
/// here), which a server running beside `izreg seed` waits for at most 10 seconds.
const BATCHES_PER_TRANSACTION: usize = 2;
/// Upper bound on generator threads (beyond it, the single SQLite writer is the bottleneck).
const MAX_GENERATORS: usize = 4;
/// Coding systems of Immunization.site and Immunization.route.
const SITE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActSite";
const ROUTE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration";
/// Medical record numbers have 9 digits.
const MRN_SPACE: u64 = 1_000_000_000;
/// Immunizations a Patient may have at most (the id layout below has room for 1023).
const MAX_DOSES_PER_PATIENT: usize = 1_023;

/// Creates `options.patients` synthetic Patients with their immunizations.
pub fn seed(registry: &Registry, options: &SeedOptions) -> Result<SeedReport, ServiceError> {
    let started = Instant::now();
    if u32::try_from(options.patients).is_err() {
        return Err(ServiceError::BadRequest(Issue::error(
            IssueType::TooCostly,
            format!("At most {} patients can be seeded in one run.", u32::MAX),
        )));
    }
    let context = Context::new(registry.codes(), options.random_seed);
    let settings = registry.database().write(|conn| bulk::begin_bulk_load(conn).map_err(ServiceError::from))?;
    let batches = options.patients.div_ceil(BATCH_PATIENTS);
    let generators =
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, MAX_GENERATORS).min(batches);
    let outcome = std::thread::scope(|scope| -> Result<(usize, usize), ServiceError> {
        // Worker w generates batches w, w + n, w + 2n, ... and hands them over through a
        // channel of its own, so that batches are stored in order and at most one per worker
        // waits in memory.
        let mut outputs = Vec::with_capacity(generators);
        for worker in 0..generators {
            let (sender, receiver) = sync_channel::<Batch>(1);
            outputs.push(receiver);
            let context = &context;
            scope.spawn(move || {
                for batch in (worker..batches).step_by(generators) {
                    let start = batch * BATCH_PATIENTS;
                    let end = (start + BATCH_PATIENTS).min(options.patients);
                    // A closed channel means the run stopped on an error: stop too.
                    if sender.send(context.batch(start..end)).is_err() {
                        break;
                    }
                }
            });
        }
        let mut stream = BatchStream { outputs, next: 0, batches, patients: 0, immunizations: 0 };
        while stream.next < batches {
            // The transaction takes the stream and gives it back: it stores batches as they
            // arrive, so its rows need not all be in memory at once.
            stream = registry.database().write(move |conn| {
                let mut stream = stream;
                for _ in 0..BATCHES_PER_TRANSACTION {
                    let Some(batch) = stream.next_batch()? else { break };
                    bulk::insert_patients(conn, &batch.patients)?;
                    bulk::insert_immunizations(conn, &batch.immunizations)?;
                }
                Ok::<_, ServiceError>(stream)
            })?;
            tracing::debug!(patients = stream.patients, immunizations = stream.immunizations, "seeding");
        }
        Ok((stream.patients, stream.immunizations))
    });
    // Restore the connection settings even when the run failed.
    let restored =
        registry.database().write(move |conn| bulk::end_bulk_load(conn, settings).map_err(ServiceError::from));
    let (patients, immunizations) = outcome?;
    restored?;
    let elapsed = started.elapsed();
    tracing::info!(patients, immunizations, elapsed_ms = elapsed.as_millis(), "seeded the registry");
    Ok(SeedReport { patients, immunizations, elapsed })
}

/// The generated batches, in order, as the workers hand them over.
struct BatchStream {
    outputs: Vec<Receiver<Batch>>,
    next: usize,
    batches: usize,
    patients: usize,
    immunizations: usize,
}

impl BatchStream {
    /// The next batch; `None` after the last one.
    fn next_batch(&mut self) -> Result<Option<Batch>, StoreError> {
        if self.next >= self.batches {
            return Ok(None);
        }
        // Receiving fails only if the worker panicked; the scope re-raises that panic.
        let batch = self.outputs[self.next % self.outputs.len()].recv().map_err(|_| StoreError::WriteAborted)?;
        self.next += 1;
        self.patients += batch.patients.len();
        self.immunizations += batch.immunizations.len();
        Ok(Some(batch))
    }
}

/// The resources of one batch, rendered and indexed, ready to insert.
struct Batch {
    patients: Vec<(StoredResource, PatientIndex)>,
    immunizations: Vec<(StoredResource, ImmunizationIndex)>,
}

/// What every worker shares during a run.
struct Context {
    random_seed: u64,
    today: Date,
    ids: RunIds,
    /// Display text of each CVX code seeded, from the code tables.
    displays: HashMap<&'static str, String>,
}

impl Context {
    fn new(codes: &CodeTables, random_seed: u64) -> Self {
        let now = Timestamp::now();
        let today = now.to_offset_date_time().map_or(Date::MIN, |t| t.date());
        let displays = vaccines::ALL
            .iter()
            .filter_map(|p| codes.cvx(p.cvx).map(|c| (p.cvx, c.label.split_whitespace().collect::<Vec<_>>().join(" "))))
            .collect();
        Context { random_seed, today, ids: RunIds::new(now), displays }
    }

    fn batch(&self, patients: std::ops::Range<usize>) -> Batch {
        let mut batch = Batch {
            patients: Vec::with_capacity(patients.len()),
            immunizations: Vec::with_capacity(patients.len() * 25),
        };
        for number in patients {
            self.patient(number, &mut batch);
        }
        batch
    }

    /// Generates Patient number `number` and its immunizations into `batch`.
    fn patient(&self, number: usize, batch: &mut Batch) {
        // One generator per patient: a patient does not depend on batch size or thread count.
        let mut rng = SmallRng::seed_from_u64(mix(self.random_seed ^ mix(number as u64)));
        let person = person::Person::generate(&mut rng, self.today);
        let id = self.ids.id(number, 0);
        let registry_id = id.as_str().replace('-', "").to_ascii_uppercase();
        // A bijection of the patient number onto 9 digits (3^18 is coprime to 10^9): unique in a run.
        let scrambled = (number as u64 % MRN_SPACE) * 387_420_489 % MRN_SPACE;
        let mrn = format!("{:09}", (mix(self.random_seed) % MRN_SPACE + scrambled) % MRN_SPACE);
        let (canonical, index) = person.to_fhir(&registry_id, &mrn);
        let resource = stored(&canonical, ResourceType::Patient, id);
        let reference = format!("Patient/{}", resource.id);
        let patient_id = resource.id.clone();
        batch.patients.push((resource, index));

        let doses = schedule::doses(&person, self.today, &mut rng);
        let site_and_route = rng.random_bool(0.85);
        for (slot, dose) in doses.iter().take(MAX_DOSES_PER_PATIENT).enumerate() {
            let (canonical, index) =
                self.immunization(&patient_id, &reference, &person, dose, site_and_route, &mut rng);
            let resource = stored(&canonical, ResourceType::Immunization, self.ids.id(number, slot + 1));
            batch.immunizations.push((resource, index));
        }
    }

    /// The Immunization resource for one dose (without id and meta), in the canonical element
    /// order validation produces, and its search facts as validation extracts them.
    fn immunization(
        &self,
        patient_id: &ResourceId,
        reference: &str,
        person: &person::Person,
        dose: &schedule::Dose,
        site_and_route: bool,
        rng: &mut SmallRng,
    ) -> (Map<String, Value>, ImmunizationIndex) {
        let product = &dose.product;
        let lot = vaccines::lot(product, dose.date, rng);
        let occurrence = format_date(dose.date);
        let mut coding = Map::with_capacity(3);
        coding.insert("system".into(), CVX_SYSTEM.into());
        coding.insert("code".into(), product.cvx.into());
        if let Some(display) = self.displays.get(product.cvx) {
            coding.insert("display".into(), display.as_str().into());
        }
        let mut immunization = object(json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [coding]},
            "patient": {"reference": reference},
            "occurrenceDateTime": occurrence,
            "primarySource": true,
            "manufacturer": {"identifier": {"system": MVX_SYSTEM, "value": product.mvx}},
            "lotNumber": lot.number,
            "expirationDate": format_date(lot.expiration)
        }));
        if site_and_route {
            if product.route.injected() {
                let infant = (dose.date - person.birth).whole_days() < 3 * 365;
                let (code, display) = match (infant, rng.random_bool(0.5)) {
                    (true, true) => ("LT", "left thigh"),
                    (true, false) => ("RT", "right thigh"),
                    (false, true) => ("LD", "left deltoid"),
                    (false, false) => ("RD", "right deltoid"),
                };
                immunization.insert(
                    "site".into(),
                    json!({"coding": [{"system": SITE_SYSTEM, "code": code, "display": display}]}),
                );
            }
            let (code, display) = product.route.coding();
            immunization.insert(
                "route".into(),
                json!({"coding": [{"system": ROUTE_SYSTEM, "code": code, "display": display}]}),
            );
        }
        immunization.insert(
            "doseQuantity".into(),
            json!({"value": product.volume_ml, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}),
        );
        let index = ImmunizationIndex {
            patient_id: patient_id.clone(),
            occurrence: parse_search_value(&occurrence),
            status: "completed".to_owned(),
            lot_number_normalized: Some(normalize_for_search(&lot.number)),
            vaccine_codes: vec![IndexedToken { system: CVX_SYSTEM.to_owned(), value: product.cvx.to_owned() }],
        };
        (immunization, index)
    }
}

/// The stored form of a new resource, as a FHIR create renders it.
fn stored(canonical: &Map<String, Value>, resource_type: ResourceType, id: ResourceId) -> StoredResource {
    let last_updated = Timestamp::now();
    let json = render(canonical, resource_type, &id, VersionId::FIRST, last_updated);
    StoredResource { id, version_id: VersionId::FIRST, last_updated, json }
}

/// The object a `json!({...})` literal builds.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Resource ids of one run: UUID v7 (the form `ResourceId::generate` gives) made of the run's
/// start time, the patient number, the resource's slot within the patient, and a random run
/// nonce. Ids are unique across runs, and they sort in generation order, so inserts append to
/// the primary-key indexes.
struct RunIds {
    millis: u128,
    nonce: u128,
}

impl RunIds {
    fn new(now: Timestamp) -> Self {
        let millis = u128::try_from(now.micros() / 1_000).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
        RunIds { millis, nonce: u128::from(rand::random::<u32>()) }
    }

    /// The id of resource `slot` (0 for the Patient, then its immunizations) of patient `number`.
    fn id(&self, number: usize, slot: usize) -> ResourceId {
        // 74 bits after the timestamp and version: 32 (patient) + 10 (slot) + 32 (nonce).
        let sequence = ((number as u128 & 0xFFFF_FFFF) << 10) | (slot as u128 & 0x3FF);
        let low = (sequence << 32) | self.nonce;
        let rand_a = (low >> 62) & 0xFFF;
        let rand_b = low & ((1 << 62) - 1);
        let value = (self.millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b;
        ResourceId::from_stored(uuid::Uuid::from_u128(value).hyphenated().to_string())
    }
}

/// SplitMix64 finalizer: spreads nearby inputs (patient numbers) over the whole seed space.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `date` plus `days` (negative: earlier); unchanged if the result leaves the calendar.
fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(time::Duration::days(days)).unwrap_or(date)
}

use crate::domain::time::format_date;

/// A uniformly chosen element of a non-empty list.
fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code tables shipped in `data/codes`, loaded as the registry loads them.
    fn shipped_codes() -> CodeTables {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("codes.db").to_string_lossy().into_owned();
        crate::service::migrate(&url).unwrap();
        let mut conn = crate::store::connection::establish(&url).unwrap();
        crate::store::code_tables::load(&mut conn).unwrap()
    }

    #[test]
    fn every_seeded_cvx_and_mvx_code_is_in_the_shipped_tables() {
        let codes = shipped_codes();
        assert!(codes.cvx_count() > 250 && codes.mvx_count() > 80);
        for product in vaccines::ALL {
            assert!(codes.cvx(product.cvx).is_some_and(|c| c.code == product.cvx), "CVX {}", product.cvx);
            assert!(codes.mvx(product.mvx).is_some_and(|m| m.code == product.mvx), "MVX {}", product.mvx);
        }
    }

    #[test]
    fn run_ids_are_uuid_v7_in_generation_order() {
        let ids = RunIds::new(Timestamp::now());
        let mut previous = String::new();
        for number in [0, 1, 2, 1_000, 4_000_000_000] {
            for slot in [0, 1, 2, 1_023] {
                let id = ids.id(number, slot);
                let uuid = uuid::Uuid::parse_str(id.as_str()).unwrap();
                assert_eq!(uuid.get_version_num(), 7);
                assert!(ResourceId::parse(id.as_str()).is_ok());
                assert!(id.as_str() > previous.as_str(), "{id} after {previous}");
                previous = id.to_string();
            }
        }
    }

    #[test]
    fn generated_resources_are_what_validation_of_a_create_yields() {
        let codes = shipped_codes();
        let context = Context::new(&codes, 42);
        let batch = context.batch(0..400);
        let now = Timestamp::now();
        assert_eq!(batch.patients.len(), 400);
        let per_patient = batch.immunizations.len() as f64 / 400.0;
        assert!((8.0..40.0).contains(&per_patient), "{per_patient} immunizations per patient");

        let mut births = HashMap::new();
        for (resource, index) in &batch.patients {
            let value: Value = serde_json::from_str(&resource.json).unwrap();
            let valid = crate::fhir::patient::validate(&value, now).unwrap();
            assert_eq!(&valid.index, index);
            let rendered = render(
                &valid.canonical,
                ResourceType::Patient,
                &resource.id,
                resource.version_id,
                resource.last_updated,
            );
            assert_eq!(rendered, resource.json);
            births.insert(resource.id.clone(), valid.index.birth);
        }
        for (resource, index) in &batch.immunizations {
            let value: Value = serde_json::from_str(&resource.json).unwrap();
            let valid = crate::fhir::immunization::validate(&value, &codes, now).unwrap();
            assert_eq!(&valid.index, index);
            let rendered = render(
                &valid.canonical,
                ResourceType::Immunization,
                &resource.id,
                resource.version_id,
                resource.last_updated,
            );
            assert_eq!(rendered, resource.json);
            let birth = births[&index.patient_id];
            crate::fhir::immunization::check_against_patient(index.occurrence, birth).unwrap();
        }
    }
}
