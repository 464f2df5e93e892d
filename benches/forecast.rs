//! Forecasting speed, measured in release mode on one thread: how long the embedded CDSi
//! supporting data takes to load, and how long one assessment of a child with 20 doses across
//! the childhood vaccine groups takes. Run with `bench/forecast` (or `cargo bench --bench
//! forecast`); prints a table and, with `--json PATH`, writes the figures.
//!
//! Targets (issue 5): data load under 200 ms, one assessment under 200 microseconds.

#![allow(clippy::expect_used, reason = "a benchmark fails loudly when the embedded data does not load")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use izreg::forecast::{AdministeredDose, Engine, Gender, PatientHistory};
use time::macros::date;

/// A 4-year-old with the routine infant and toddler doses: 20 doses, most of them combination
/// vaccines, so every dose counts for several antigens.
fn child_with_twenty_doses() -> PatientHistory {
    let doses = [
        (date!(2021 - 03 - 02), "08"),
        (date!(2021 - 05 - 04), "110"),
        (date!(2021 - 05 - 04), "49"),
        (date!(2021 - 05 - 04), "133"),
        (date!(2021 - 05 - 04), "116"),
        (date!(2021 - 07 - 06), "110"),
        (date!(2021 - 07 - 06), "49"),
        (date!(2021 - 07 - 06), "133"),
        (date!(2021 - 07 - 06), "116"),
        (date!(2021 - 09 - 07), "110"),
        (date!(2021 - 09 - 07), "133"),
        (date!(2021 - 09 - 07), "116"),
        (date!(2021 - 10 - 15), "150"),
        (date!(2022 - 03 - 08), "03"),
        (date!(2022 - 03 - 08), "21"),
        (date!(2022 - 03 - 08), "83"),
        (date!(2022 - 03 - 08), "49"),
        (date!(2022 - 06 - 07), "20"),
        (date!(2022 - 06 - 07), "133"),
        (date!(2022 - 09 - 06), "83"),
    ];
    PatientHistory {
        birth_date: date!(2021 - 03 - 02),
        gender: Gender::Female,
        assessment_date: date!(2025 - 03 - 10),
        doses: doses
            .iter()
            .map(|(date, cvx)| AdministeredDose { date: *date, cvx: cvx.to_string(), mvx: None })
            .collect(),
        observations: Vec::new(),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let json_path = std::env::args().skip_while(|arg| arg != "--json").nth(1);

    let load_samples: Vec<Duration> = (0..15)
        .map(|_| {
            let started = Instant::now();
            let engine = Engine::from_embedded_data().expect("embedded supporting data loads");
            black_box(&engine);
            started.elapsed()
        })
        .collect();
    let load = median(load_samples);

    let engine = Engine::from_embedded_data().expect("embedded supporting data loads");
    let history = child_with_twenty_doses();
    for _ in 0..200 {
        black_box(engine.assess(black_box(&history)));
    }
    // Batches of 100 assessments; the median batch, divided by 100.
    let batch = 100u32;
    let batches: Vec<Duration> = (0..100)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..batch {
                black_box(engine.assess(black_box(&history)));
            }
            started.elapsed() / batch
        })
        .collect();
    let assessment = median(batches);
    let groups_due = engine.assess(&history).vaccine_groups.len();

    println!("forecast benchmark (release, one thread)");
    println!("  supporting data load (median of 15)     {:>10.2} ms   target < 200 ms", load.as_secs_f64() * 1e3);
    println!(
        "  assessment, 20 doses, {groups_due} vaccine groups   {:>10.1} us   target < 200 us",
        assessment.as_secs_f64() * 1e6
    );
    if let Some(path) = json_path {
        let figures = serde_json::json!({
            "supporting_data_load_ms": load.as_secs_f64() * 1e3,
            "assessment_20_doses_us": assessment.as_secs_f64() * 1e6,
            "vaccine_groups": groups_due,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&figures).expect("json")).expect("writing the figures");
        println!("  figures written to {path}");
    }
}
