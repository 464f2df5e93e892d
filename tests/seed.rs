//! `izreg seed`: synthetic patients and immunizations, stored exactly as FHIR creates store them.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use diesel::prelude::*;
use serde_json::Value;

use common::TestDatabase;
use izreg::domain::ids::{ResourceId, VersionId};
use izreg::domain::resource::ResourceType;
use izreg::domain::search::{PatientFilter, StringMatch};
use izreg::domain::time::Timestamp;
use izreg::fhir::resource::render;
use izreg::fhir::{immunization as fhir_immunization, patient as fhir_patient};
use izreg::service::Registry;
use izreg::service::seed::{SeedOptions, SeedReport, seed};
use izreg::store::schema::{
    deferred_index, immunization, immunization_history, immunization_vaccine_code, patient, patient_history,
    patient_identifier, patient_name, patient_postal_code,
};
use izreg::store::{self, DatabaseOptions, DbConnection, StoreError};

fn start(database: &TestDatabase) -> Arc<Registry> {
    Registry::start(
        &DatabaseOptions { url: database.url.clone(), pool_size: 4 },
        &izreg::service::session::AuthSettings::default(),
    )
    .expect("the registry starts")
}

fn seeded(database: &TestDatabase, patients: usize, random_seed: u64) -> (Arc<Registry>, SeedReport) {
    let registry = start(database);
    let report = seed(&registry, &SeedOptions { patients, random_seed }).expect("seeding succeeds");
    (registry, report)
}

fn read<T>(registry: &Registry, f: impl FnOnce(&mut DbConnection) -> QueryResult<T>) -> T {
    registry.database().read(|conn| f(conn).map_err(StoreError::from)).expect("query runs")
}

type PatientColumns = (String, i64, i64, String, String, Option<i64>, Option<i64>, i64, Option<String>, bool);
type ImmunizationColumns = (String, i64, i64, String, String, Option<i64>, Option<i64>, i64, String, Option<String>);
type HistoryColumns = (String, i64, i64, String, Option<String>);

/// Groups `(owner id, value)` pairs by owner.
fn by_owner<V: Ord>(rows: Vec<(String, V)>) -> BTreeMap<String, BTreeSet<V>> {
    let mut grouped: BTreeMap<String, BTreeSet<V>> = BTreeMap::new();
    for (owner, value) in rows {
        grouped.entry(owner).or_default().insert(value);
    }
    grouped
}

#[test]
fn seeded_resources_are_stored_exactly_as_fhir_creates_store_them() {
    let database = TestDatabase::new();
    let (registry, report) = seeded(&database, 200, 7);
    let now = Timestamp::now();
    let today = &izreg::fhir::date::format_instant(now)[..10];

    assert_eq!(report.patients, 200);
    let (patients, immunizations) =
        read(&registry, |conn| Ok((store::patient::count(conn, &[]), store::immunization::count(conn, &[]))));
    assert_eq!(patients.expect("patients counted"), 200);
    assert_eq!(immunizations.expect("immunizations counted"), report.immunizations as u64);
    let per_patient = report.immunizations as f64 / 200.0;
    assert!((8.0..40.0).contains(&per_patient), "{per_patient} immunizations per patient");

    // Patients: current row, index rows and history as the create path writes them.
    let rows: Vec<PatientColumns> = read(&registry, |conn| {
        patient::table
            .select((
                patient::id,
                patient::version_id,
                patient::last_updated,
                patient::resource_json,
                patient::family_sort,
                patient::birth_start,
                patient::birth_end,
                patient::birth_sort,
                patient::gender,
                patient::active,
            ))
            .filter(patient::deleted.eq(false))
            .load(conn)
    });
    let names = by_owner(read(&registry, |conn| {
        patient_name::table
            .select((
                patient_name::patient_id,
                (patient_name::part, patient_name::value_exact, patient_name::value_norm),
            ))
            .load::<(String, (String, String, String))>(conn)
    }));
    let identifiers = by_owner(read(&registry, |conn| {
        patient_identifier::table
            .select((patient_identifier::patient_id, (patient_identifier::system, patient_identifier::value)))
            .load::<(String, (String, String))>(conn)
    }));
    let postal_codes = by_owner(read(&registry, |conn| {
        patient_postal_code::table
            .select((patient_postal_code::patient_id, patient_postal_code::postal_code_norm))
            .load::<(String, String)>(conn)
    }));
    let patient_history: BTreeMap<String, HistoryColumns> = read(&registry, |conn| {
        patient_history::table
            .select((
                patient_history::id,
                patient_history::version_id,
                patient_history::last_updated,
                patient_history::method,
                patient_history::resource_json,
            ))
            .load::<HistoryColumns>(conn)
    })
    .into_iter()
    .map(|row| (row.0.clone(), row))
    .collect();
    assert_eq!(patient_history.len(), 200, "one history entry per patient");

    let mut births = BTreeMap::new();
    for (id, version, last_updated, json, family_sort, birth_start, birth_end, birth_sort, gender, active) in rows {
        let value: Value = serde_json::from_str(&json).expect("stored JSON parses");
        let valid = fhir_patient::validate(&value, now).expect("a seeded Patient passes validation");
        let rendered = render(
            &valid.canonical,
            ResourceType::Patient,
            &ResourceId::parse(&id).expect("a FHIR id"),
            VersionId(version),
            Timestamp(last_updated),
        );
        assert_eq!(rendered, json, "stored JSON is the rendering of its canonical form");
        assert_eq!(version, 1);
        let index = valid.index;
        assert_eq!(family_sort, index.family_sort);
        assert_eq!(birth_start, index.birth.map(|b| b.start.0));
        assert_eq!(birth_end, index.birth.map(|b| b.end.0));
        assert_eq!(birth_sort, index.birth.map_or(i64::MIN, |b| b.start.0));
        assert_eq!(gender, index.gender);
        assert_eq!(active, index.active);
        let expected_names: BTreeSet<_> =
            index.names.iter().map(|n| (n.part.as_str().to_owned(), n.exact.clone(), n.normalized.clone())).collect();
        assert_eq!(names.get(&id), Some(&expected_names), "name index of {id}");
        let expected_identifiers: BTreeSet<_> =
            index.identifiers.iter().map(|t| (t.system.clone(), t.value.clone())).collect();
        assert_eq!(identifiers.get(&id), Some(&expected_identifiers), "identifier index of {id}");
        assert_eq!(expected_identifiers.len(), 2, "registry id and MRN");
        let expected_postal: BTreeSet<_> = index.postal_codes.iter().cloned().collect();
        assert_eq!(postal_codes.get(&id), Some(&expected_postal), "postal-code index of {id}");
        assert_eq!(
            patient_history.get(&id),
            Some(&(id.clone(), 1, last_updated, "create".to_owned(), Some(json.clone()))),
            "history of {id}"
        );
        births.insert(id, value["birthDate"].as_str().expect("a birth date").to_owned());
    }

    // Immunizations: each refers to a seeded Patient, given between birth and today.
    let rows: Vec<ImmunizationColumns> = read(&registry, |conn| {
        immunization::table
            .select((
                immunization::id,
                immunization::version_id,
                immunization::last_updated,
                immunization::resource_json,
                immunization::patient_id,
                immunization::occurrence_start,
                immunization::occurrence_end,
                immunization::occurrence_sort,
                immunization::status,
                immunization::lot_number_norm,
            ))
            .filter(immunization::deleted.eq(false))
            .load(conn)
    });
    assert_eq!(rows.len(), report.immunizations);
    let vaccine_codes = by_owner(read(&registry, |conn| {
        immunization_vaccine_code::table
            .select((
                immunization_vaccine_code::immunization_id,
                (immunization_vaccine_code::system, immunization_vaccine_code::code),
            ))
            .load::<(String, (String, String))>(conn)
    }));
    let immunization_history: BTreeMap<String, HistoryColumns> = read(&registry, |conn| {
        immunization_history::table
            .select((
                immunization_history::id,
                immunization_history::version_id,
                immunization_history::last_updated,
                immunization_history::method,
                immunization_history::resource_json,
            ))
            .load::<HistoryColumns>(conn)
    })
    .into_iter()
    .map(|row| (row.0.clone(), row))
    .collect();
    assert_eq!(immunization_history.len(), report.immunizations, "one history entry per immunization");

    for (id, version, last_updated, json, patient_id, start, end, sort, status, lot) in rows {
        let value: Value = serde_json::from_str(&json).expect("stored JSON parses");
        let valid = fhir_immunization::validate(&value, registry.codes(), now)
            .expect("a seeded Immunization passes validation");
        let rendered = render(
            &valid.canonical,
            ResourceType::Immunization,
            &ResourceId::parse(&id).expect("a FHIR id"),
            VersionId(version),
            Timestamp(last_updated),
        );
        assert_eq!(rendered, json, "stored JSON is the rendering of its canonical form");
        assert_eq!(version, 1);
        let index = valid.index;
        assert_eq!(patient_id, index.patient_id.as_str());
        assert_eq!(value["patient"]["reference"], format!("Patient/{patient_id}"));
        assert_eq!(start, index.occurrence.map(|o| o.start.0));
        assert_eq!(end, index.occurrence.map(|o| o.end.0));
        assert_eq!(sort, index.occurrence.map_or(i64::MIN, |o| o.start.0));
        assert_eq!(status, index.status);
        assert_eq!(lot, index.lot_number_normalized);
        let expected_codes: BTreeSet<_> =
            index.vaccine_codes.iter().map(|t| (t.system.clone(), t.value.clone())).collect();
        assert_eq!(vaccine_codes.get(&id), Some(&expected_codes), "vaccine-code index of {id}");
        assert_eq!(
            immunization_history.get(&id),
            Some(&(id.clone(), 1, last_updated, "create".to_owned(), Some(json.clone()))),
            "history of {id}"
        );

        let birth = births.get(&patient_id).expect("the immunization's Patient was seeded");
        let occurrence = value["occurrenceDateTime"].as_str().expect("a date");
        assert_eq!(occurrence.len(), 10, "a date, not a dateTime: {occurrence}");
        assert!(birth.as_str() <= occurrence && occurrence <= today, "{occurrence} outside {birth}..{today}");
        assert_eq!(value["status"], "completed");
        assert_eq!(value["primarySource"], true);
        assert!(value["expirationDate"].as_str().is_some_and(|e| e > occurrence), "expires after use");
        assert_eq!(value["manufacturer"]["identifier"]["system"], "http://hl7.org/fhir/sid/mvx");
    }
}

/// Per patient, in id (= generation) order: everything but server-assigned ids and times.
fn fingerprint(registry: &Registry) -> Vec<String> {
    let patients: Vec<(String, String)> = read(registry, |conn| {
        patient::table.select((patient::id, patient::resource_json)).order(patient::id).load(conn)
    });
    let immunizations: Vec<(String, String)> = read(registry, |conn| {
        immunization::table
            .select((immunization::patient_id, immunization::resource_json))
            .order(immunization::id)
            .load(conn)
    });
    let mut doses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (patient_id, json) in immunizations {
        let value: Value = serde_json::from_str(&json).expect("JSON");
        doses.entry(patient_id).or_default().push(format!(
            "{} {} {}",
            value["vaccineCode"]["coding"][0]["code"], value["occurrenceDateTime"], value["lotNumber"]
        ));
    }
    patients
        .into_iter()
        .map(|(id, json)| {
            let value: Value = serde_json::from_str(&json).expect("JSON");
            format!(
                "{} {} {} {} | {}",
                value["name"][0]["family"],
                value["name"][0]["given"],
                value["birthDate"],
                value["address"][0]["postalCode"],
                doses.get(&id).map(|d| d.join(", ")).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_people_in_the_same_order() {
    let first = TestDatabase::new();
    let second = TestDatabase::new();
    let third = TestDatabase::new();
    let (first, _) = seeded(&first, 120, 2026);
    let (second, _) = seeded(&second, 120, 2026);
    let (third, _) = seeded(&third, 120, 2027);

    let families = |registry: &Registry| -> Vec<String> {
        fingerprint(registry).iter().map(|f| f.split(' ').next().unwrap_or_default().to_owned()).collect()
    };
    assert_eq!(families(&first).len(), 120);
    assert_eq!(families(&first), families(&second));
    assert_eq!(fingerprint(&first), fingerprint(&second));
    assert_ne!(fingerprint(&first), fingerprint(&third), "another seed gives other people");
}

#[test]
fn seeding_twice_adds_new_people_with_unique_identifiers() {
    let database = TestDatabase::new();
    let (registry, _) = seeded(&database, 50, 1);
    seed(&registry, &SeedOptions { patients: 50, random_seed: 1 }).expect("a second run succeeds");
    let registry_ids: Vec<String> = read(&registry, |conn| {
        patient_identifier::table
            .filter(patient_identifier::system.eq(izreg::service::seed::REGISTRY_ID_SYSTEM))
            .select(patient_identifier::value)
            .load(conn)
    });
    assert_eq!(registry_ids.len(), 100);
    assert_eq!(registry_ids.iter().collect::<BTreeSet<_>>().len(), 100, "registry ids are unique");
}

/// The secondary indexes of the resource tables, as SQLite stores them (empty on PostgreSQL,
/// where bulk loads defer nothing).
fn resource_indexes(registry: &Registry) -> BTreeSet<(String, String)> {
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
    }
    read(registry, |conn| match conn {
        DbConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('patient', 'patient_name', 'patient_identifier', 'patient_postal_code', \
             'patient_history', 'immunization', 'immunization_vaccine_code', 'immunization_history')",
        )
        .load::<Index>(sqlite),
        DbConnection::Postgresql(_) => Ok(Vec::new()),
    })
    .into_iter()
    .map(|index| (index.name, index.sql))
    .collect()
}

fn deferred_indexes(registry: &Registry) -> Vec<String> {
    read(registry, |conn| deferred_index::table.select(deferred_index::name).load(conn))
}

#[test]
fn a_seed_into_an_empty_registry_ends_with_every_index_it_deferred_built() {
    let database = TestDatabase::new();
    let registry = start(&database);
    let before = resource_indexes(&registry);
    if !database.is_postgres() {
        assert!(before.len() >= 15, "the resource tables are indexed: {before:?}");
    }
    seed(&registry, &SeedOptions { patients: 30, random_seed: 3 }).expect("seeding succeeds");
    assert_eq!(resource_indexes(&registry), before, "the same indexes, with the same definitions");
    assert!(deferred_indexes(&registry).is_empty());
    // The rebuilt indexes answer searches.
    let family: String = read(&registry, |conn| patient_name::table.select(patient_name::value_norm).first(conn));
    let found = read(&registry, |conn| {
        Ok(store::patient::count(
            conn,
            &[PatientFilter::Name { part: None, matches: vec![StringMatch::StartsWith(family)] }],
        ))
    });
    assert!(found.expect("counted") >= 1);
}

#[test]
fn a_bulk_load_into_a_registry_that_holds_resources_keeps_its_indexes() {
    let database = TestDatabase::new();
    let (registry, _) = seeded(&database, 5, 4);
    let before = resource_indexes(&registry);
    let settings = registry.database().write(store::bulk::begin_bulk_load).expect("the load begins");
    assert_eq!(resource_indexes(&registry), before);
    assert!(deferred_indexes(&registry).is_empty());
    registry.database().write(move |conn| store::bulk::end_bulk_load(conn, settings)).expect("the load ends");
}

#[test]
fn an_interrupted_bulk_load_has_its_indexes_rebuilt_when_the_database_is_next_opened() {
    let database = TestDatabase::new();
    let registry = start(&database);
    let before = resource_indexes(&registry);
    // A load begins and its process dies: the end of the load never runs.
    registry.database().write(store::bulk::begin_bulk_load).expect("the load begins");
    if !database.is_postgres() {
        let dropped = deferred_indexes(&registry);
        assert_eq!(dropped.len(), before.len(), "every resource index was deferred: {dropped:?}");
        assert!(resource_indexes(&registry).is_empty());
    }
    drop(registry);

    let registry = start(&database);
    assert_eq!(resource_indexes(&registry), before);
    assert!(deferred_indexes(&registry).is_empty());
}

/// Times a large run: `cargo test --release --test seed -- --ignored --nocapture`
/// (`IZREG_SEED_BENCH_PATIENTS` sets the number of patients, 100,000 by default).
#[test]
#[ignore = "benchmark: run explicitly in release mode"]
fn seed_benchmark() {
    let patients = std::env::var("IZREG_SEED_BENCH_PATIENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let database = TestDatabase::new();
    let (registry, report) = seeded(&database, patients, 42);
    println!(
        "seeded {} patients and {} immunizations in {:.1} s ({:.0} resources/s)",
        report.patients,
        report.immunizations,
        report.elapsed.as_secs_f64(),
        (report.patients + report.immunizations) as f64 / report.elapsed.as_secs_f64()
    );
    let counted = read(&registry, |conn| Ok(store::immunization::count(conn, &[])));
    assert_eq!(counted.expect("counted"), report.immunizations as u64);
}
