//! `izreg seed`: fills the registry with synthetic Patients and their immunization histories,
//! for demonstrations, manual testing and benchmarks.
//!
//! The people are realistic but invented: common US names (with the accented and hyphenated
//! names a registry must handle), Minnesota addresses, ages 0 to 18 with a few adults, and
//! immunizations that follow the CDC childhood schedule with real CVX/MVX codes, late and
//! missed visits. The output depends only on the random seed and today's date; resource ids
//! are new on every run, so seeding twice adds a second set of people.
//!
//! Every resource goes through the same validation and rendering as a FHIR create, and is
//! stored with the same rows (current row, search index, "create" history entry). Generation
//! runs on worker threads, outside the write transactions; the database only inserts, one
//! transaction per batch of patients.

mod names;
mod person;
mod schedule;
mod vaccines;

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::Date;

use super::{Registry, ServiceError};
use crate::domain::codes::{CVX_SYSTEM, CodeTables, MVX_SYSTEM};
use crate::domain::ids::{ResourceId, VersionId};
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::PatientIndex;
use crate::domain::resource::{ResourceType, StoredResource};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::{Issue, IssueType};
use crate::fhir::resource::render;
use crate::fhir::{immunization as fhir_immunization, patient as fhir_patient};
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

/// Patients per write transaction.
const BATCH_PATIENTS: usize = 2_000;
/// Upper bound on generator threads (beyond it, the single SQLite writer is the bottleneck).
const MAX_GENERATORS: usize = 4;
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
    let batches = options.patients.div_ceil(BATCH_PATIENTS);
    let generators =
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, MAX_GENERATORS).min(batches);
    let (patients, immunizations) = std::thread::scope(|scope| -> Result<(usize, usize), ServiceError> {
        // Worker w generates batches w, w + n, w + 2n, ... and hands them over in order through
        // a channel of its own, so batches are written in order and at most one per worker
        // waits in memory.
        let mut outputs = Vec::with_capacity(generators);
        for worker in 0..generators {
            let (sender, receiver) = sync_channel::<Result<Batch, ServiceError>>(1);
            outputs.push(receiver);
            let context = &context;
            scope.spawn(move || {
                for batch in (worker..batches).step_by(generators) {
                    let start = batch * BATCH_PATIENTS;
                    let end = (start + BATCH_PATIENTS).min(options.patients);
                    let generated = context.batch(start..end);
                    let failed = generated.is_err();
                    // A closed channel means the run stopped on an error: stop too.
                    if sender.send(generated).is_err() || failed {
                        break;
                    }
                }
            });
        }
        let (mut patients, mut immunizations) = (0, 0);
        for batch in 0..batches {
            // Receiving fails only if the worker panicked; the scope re-raises that panic.
            let generated = outputs[batch % generators].recv().map_err(|_| StoreError::WriteAborted)??;
            patients += generated.patients.len();
            immunizations += generated.immunizations.len();
            registry.database().write(move |conn| {
                bulk::insert_patients(conn, &generated.patients)?;
                bulk::insert_immunizations(conn, &generated.immunizations)?;
                Ok::<(), ServiceError>(())
            })?;
            tracing::debug!(patients, immunizations, "seeded a batch");
        }
        Ok((patients, immunizations))
    })?;
    let elapsed = started.elapsed();
    tracing::info!(patients, immunizations, elapsed_ms = elapsed.as_millis(), "seeded the registry");
    Ok(SeedReport { patients, immunizations, elapsed })
}

/// The resources of one batch, validated and rendered, ready to insert.
struct Batch {
    patients: Vec<(StoredResource, PatientIndex)>,
    immunizations: Vec<(StoredResource, ImmunizationIndex)>,
}

/// What every worker shares during a run.
struct Context<'a> {
    codes: &'a CodeTables,
    random_seed: u64,
    today: Date,
    now: Timestamp,
    ids: RunIds,
    /// Display texts of the CVX and MVX codes used, from the code tables.
    displays: HashMap<&'static str, String>,
    manufacturers: HashMap<&'static str, String>,
}

impl<'a> Context<'a> {
    fn new(codes: &'a CodeTables, random_seed: u64) -> Self {
        let now = Timestamp::now();
        let today = now.to_offset_date_time().map_or(Date::MIN, |t| t.date());
        let collapse = |label: &str| label.split_whitespace().collect::<Vec<_>>().join(" ");
        let displays =
            vaccines::ALL.iter().filter_map(|p| codes.cvx(p.cvx).map(|c| (p.cvx, collapse(&c.label)))).collect();
        let manufacturers =
            vaccines::ALL.iter().filter_map(|p| codes.mvx(p.mvx).map(|m| (p.mvx, collapse(&m.label)))).collect();
        Context { codes, random_seed, today, now, ids: RunIds::new(now), displays, manufacturers }
    }

    fn batch(&self, patients: std::ops::Range<usize>) -> Result<Batch, ServiceError> {
        let mut batch = Batch {
            patients: Vec::with_capacity(patients.len()),
            immunizations: Vec::with_capacity(patients.len() * 24),
        };
        for number in patients {
            self.patient(number, &mut batch)?;
        }
        Ok(batch)
    }

    /// Generates Patient number `number` and its immunizations into `batch`.
    fn patient(&self, number: usize, batch: &mut Batch) -> Result<(), ServiceError> {
        // One generator per patient: a patient does not depend on batch size or thread count.
        let mut rng = SmallRng::seed_from_u64(mix(self.random_seed ^ mix(number as u64)));
        let person = person::Person::generate(&mut rng, self.today);
        let id = self.ids.id(number, 0);
        let registry_id = id.as_str().replace('-', "").to_ascii_uppercase();
        // A bijection of the patient number onto 9 digits (3^18 is coprime to 10^9): unique in a run.
        const MRN_SPACE: u64 = 1_000_000_000;
        let scrambled = (number as u64 % MRN_SPACE) * 387_420_489 % MRN_SPACE;
        let mrn = format!("{:09}", (mix(self.random_seed) % MRN_SPACE + scrambled) % MRN_SPACE);
        let valid = fhir_patient::validate(&person.to_fhir(&registry_id, &mrn), self.now)?;
        let birth = valid.index.birth;
        let resource = stored(&valid.canonical, ResourceType::Patient, id);
        let reference = format!("Patient/{}", resource.id);
        batch.patients.push((resource, valid.index));

        let doses = schedule::doses(&person, self.today, &mut rng);
        let site_and_route = rng.random_bool(0.85);
        for (slot, dose) in doses.iter().take(MAX_DOSES_PER_PATIENT).enumerate() {
            let json = self.immunization(&reference, &person, dose, site_and_route, &mut rng);
            let valid = fhir_immunization::validate(&json, self.codes, self.now)?;
            fhir_immunization::check_against_patient(valid.index.occurrence, birth)?;
            let resource = stored(&valid.canonical, ResourceType::Immunization, self.ids.id(number, slot + 1));
            batch.immunizations.push((resource, valid.index));
        }
        Ok(())
    }

    /// The Immunization resource for one dose (without id and meta).
    fn immunization(
        &self,
        reference: &str,
        person: &person::Person,
        dose: &schedule::Dose,
        site_and_route: bool,
        rng: &mut SmallRng,
    ) -> Value {
        let product = &dose.product;
        let lot = vaccines::lot(product, dose.date, rng);
        let mut coding = json!({"system": CVX_SYSTEM, "code": product.cvx});
        if let (Some(display), Some(object)) = (self.displays.get(product.cvx), coding.as_object_mut()) {
            object.insert("display".into(), Value::String(display.clone()));
        }
        let mut manufacturer = json!({"identifier": {"system": MVX_SYSTEM, "value": product.mvx}});
        if let (Some(display), Some(object)) = (self.manufacturers.get(product.mvx), manufacturer.as_object_mut()) {
            object.insert("display".into(), Value::String(display.clone()));
        }
        let mut immunization = json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [coding]},
            "patient": {"reference": reference},
            "occurrenceDateTime": format_date(dose.date),
            "primarySource": true,
            "manufacturer": manufacturer,
            "lotNumber": lot.number,
            "expirationDate": format_date(lot.expiration),
            "doseQuantity": {"value": product.volume_ml, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}
        });
        if let (true, Some(object)) = (site_and_route, immunization.as_object_mut()) {
            if product.route.injected() {
                let infant = (dose.date - person.birth).whole_days() < 3 * 365;
                let left = rng.random_bool(0.5);
                let (code, display) = match (infant, left) {
                    (true, true) => ("LT", "left thigh"),
                    (true, false) => ("RT", "right thigh"),
                    (false, true) => ("LD", "left deltoid"),
                    (false, false) => ("RD", "right deltoid"),
                };
                object.insert(
                    "site".into(),
                    json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActSite", "code": code, "display": display}]}),
                );
            }
            let (code, display) = product.route.coding();
            object.insert(
                "route".into(),
                json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "code": code, "display": display}]}),
            );
        }
        immunization
    }
}

/// The stored form of a new resource, as a FHIR create renders it.
fn stored(canonical: &serde_json::Map<String, Value>, resource_type: ResourceType, id: ResourceId) -> StoredResource {
    let last_updated = Timestamp::now();
    let json = render(canonical, resource_type, &id, VersionId::FIRST, last_updated);
    StoredResource { id, version_id: VersionId::FIRST, last_updated, json }
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

/// A FHIR date (`YYYY-MM-DD`).
fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A uniformly chosen element of a non-empty list.
fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::{CvxCode, MvxCode};

    /// The code tables shipped in `data/codes`, as the registry loads them.
    fn shipped_codes() -> CodeTables {
        #[derive(serde::Deserialize)]
        struct Row {
            code: String,
            label: String,
            status: String,
        }
        let read = |text: &str| -> Vec<Row> {
            csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(text.as_bytes())
                .deserialize::<Row>()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let cvx = read(include_str!("../../data/codes/aira-cvx.csv"))
            .into_iter()
            .map(|r| CvxCode { code: r.code.trim().into(), label: r.label, status: r.status, vaccine_group: None })
            .collect();
        let mvx = read(include_str!("../../data/codes/aira-mvx.csv"))
            .into_iter()
            .map(|r| MvxCode { code: r.code.trim().into(), label: r.label, status: r.status })
            .collect();
        CodeTables::new(cvx, mvx)
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
    fn generated_resources_pass_validation() {
        let codes = shipped_codes();
        let context = Context::new(&codes, 42);
        let batch = context.batch(0..300).unwrap();
        assert_eq!(batch.patients.len(), 300);
        let per_patient = batch.immunizations.len() as f64 / 300.0;
        assert!((8.0..40.0).contains(&per_patient), "{per_patient} immunizations per patient");
    }
}
