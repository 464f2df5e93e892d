//! CDC's CDSi test cases as a conformance suite for the forecasting engine.
//!
//! A case passes when every expected dose evaluation status matches and the vaccine group's
//! series status, dose number, earliest, recommended and past-due dates match (the strict rule of
//! the data README). The suite prints the pass rate per vaccine group, writes every failure with
//! expected vs actual to `<target tmp>/cdsi-failures.txt`, and fails when a pass rate falls below
//! the floor committed in `tests/data/cdsi/pass-floor.toml` (raise it as the engine improves).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use izreg::forecast::calendar::format_date;
use izreg::forecast::cases::{CaseFile, ForecastCase};
use izreg::forecast::{Assessment, Engine, EvaluationStatus, vaccine_group_for_label};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdsi");

struct Suite {
    label: &'static str,
    file: &'static str,
    floor_key: &'static str,
}

const SUITES: &[Suite] = &[
    Suite { label: "healthy (CDC v4.45)", file: "cdsi-healthy-v4.45.json", floor_key: "healthy" },
    Suite {
        label: "underlying conditions (CDC v4.6)",
        file: "cdsi-underlying-conditions-v4.6.json",
        floor_key: "underlying_conditions",
    },
];

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// `id -> reason` for the cases the suite does not score (CDC data defects), from `excluded.tsv`.
fn excluded() -> BTreeMap<String, String> {
    read(&format!("{DATA}/excluded.tsv"))
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(id, reason)| (id.trim().to_string(), reason.trim().to_string()))
        .collect()
}

fn floor(key: &str) -> f64 {
    let text = read(&format!("{DATA}/pass-floor.toml"));
    let table: toml::Table = text.parse().unwrap_or_else(|error| panic!("pass-floor.toml: {error}"));
    table.get(key).and_then(|value| value.as_float()).unwrap_or_else(|| panic!("pass-floor.toml has no {key}"))
}

/// The differences between what the case expects and what the engine said; empty when it passes.
fn score(case: &ForecastCase, assessment: &Assessment) -> Vec<String> {
    let mut differences = Vec::new();
    let label = case.vaccine_group.as_deref().unwrap_or_default();
    let Some(group_name) = vaccine_group_for_label(label) else {
        return vec![format!("unknown vaccine group label {label:?}")];
    };
    let Some(group) = assessment.group(group_name) else {
        return vec![format!("no forecast for vaccine group {group_name}")];
    };
    let antigens: Vec<&str> = group.antigens.iter().map(|a| a.antigen.as_str()).collect();
    for (index, (dose, actual)) in case.doses.iter().zip(&assessment.doses).enumerate() {
        let Some(expected) = dose.expected_evaluation_status.as_deref() else { continue };
        // A case may list a dose of another vaccine group (MMR in a varicella case, for the
        // live-virus rules); its expected status is then the one for its own antigens.
        let of_group = actual.evaluations.iter().any(|e| antigens.contains(&e.antigen.as_str()));
        let statuses: Vec<EvaluationStatus> = actual
            .evaluations
            .iter()
            .filter(|e| !of_group || antigens.contains(&e.antigen.as_str()))
            .map(|e| e.status)
            .collect();
        let status = statuses.iter().find(|s| **s != EvaluationStatus::Valid).or(statuses.first());
        let actual_label = status.map(|s| s.label()).unwrap_or("(not evaluated)");
        if !actual_label.eq_ignore_ascii_case(expected) {
            let reasons: Vec<String> = actual
                .evaluations
                .iter()
                .filter(|e| antigens.contains(&e.antigen.as_str()))
                .map(|e| format!("{} {} {}", e.antigen, e.status.label(), e.reason.map(|r| r.label()).unwrap_or("")))
                .collect();
            differences.push(format!(
                "dose {} ({} cvx {}): expected {expected} ({}), got {actual_label} [{}]",
                index + 1,
                dose.date,
                dose.cvx,
                dose.expected_evaluation_reason.as_deref().unwrap_or("-"),
                reasons.join("; ")
            ));
        }
    }
    let Some(expected) = &case.expected_forecast else { return differences };
    let show = |value: Option<String>| value.unwrap_or_else(|| "-".to_string());
    let compare = |differences: &mut Vec<String>, what: &str, expected: Option<&str>, actual: Option<String>| {
        // The underlying-conditions file writes `-` for "no value".
        let expected = expected.map(str::trim).filter(|v| !v.is_empty() && *v != "-");
        if expected != actual.as_deref() {
            differences.push(format!("{what}: expected {}, got {}", expected.unwrap_or("-"), show(actual)));
        }
    };
    let expected_status = expected.series_status.as_deref().unwrap_or_default();
    if !group.status.label().eq_ignore_ascii_case(expected_status) {
        differences.push(format!("series status: expected {expected_status}, got {}", group.status.label()));
    }
    compare(
        &mut differences,
        "forecast number",
        expected.forecast_num.as_deref(),
        group.next.as_ref().map(|next| next.dose_number.to_string()),
    );
    compare(
        &mut differences,
        "earliest",
        expected.earliest_date.as_deref(),
        group.next.as_ref().map(|next| format_date(next.earliest)),
    );
    compare(
        &mut differences,
        "recommended",
        expected.recommended_date.as_deref(),
        group.next.as_ref().map(|next| format_date(next.recommended)),
    );
    compare(
        &mut differences,
        "past due",
        expected.past_due_date.as_deref(),
        group.next.as_ref().and_then(|next| next.past_due).map(format_date),
    );
    if !differences.is_empty() {
        let series: Vec<String> =
            group.antigens.iter().map(|a| format!("{}: {}", a.antigen, a.series.as_deref().unwrap_or("-"))).collect();
        differences.push(format!("(best series: {})", series.join("; ")));
    }
    differences
}

#[test]
fn cdc_cdsi_test_cases_pass_at_or_above_the_committed_floor() {
    let engine = Engine::from_embedded_data().expect("the embedded supporting data loads");
    let excluded = excluded();
    let mut report = String::new();
    let mut below_floor = Vec::new();
    for suite in SUITES {
        let file: CaseFile = serde_json::from_str(&read(&format!("{DATA}/{}", suite.file))).expect("a CDSi case file");
        let cases = file.into_cases();
        let mut per_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let (mut passed, mut scored) = (0usize, 0usize);
        let mut failures = String::new();
        for case in &cases {
            if let Some(reason) = excluded.get(&case.id) {
                writeln!(report, "excluded {}: {reason}", case.id).ok();
                continue;
            }
            let history = case.history().expect("case dates parse");
            let assessment = engine.assess(&history);
            let differences = score(case, &assessment);
            // `CDSI_CASE=2013-0008 cargo test --test cdsi_conformance -- --nocapture` shows one case in full.
            if std::env::var("CDSI_CASE").is_ok_and(|id| id == case.id) {
                println!("{case:#?}\n{assessment:#?}\n{differences:#?}");
            }
            let entry = per_group.entry(case.vaccine_group.clone().unwrap_or_default()).or_default();
            entry.1 += 1;
            scored += 1;
            if differences.is_empty() {
                entry.0 += 1;
                passed += 1;
            } else {
                writeln!(
                    failures,
                    "{} [{}] dob {} assessed {} obs {:?}\n    {}",
                    case.id,
                    case.vaccine_group.as_deref().unwrap_or("-"),
                    case.dob,
                    case.assessment_date,
                    case.observations.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(),
                    differences.join("\n    ")
                )
                .ok();
            }
        }
        let rate = passed as f64 / scored.max(1) as f64;
        writeln!(report, "\n{}: {passed}/{scored} passed ({:.1}%)", suite.label, rate * 100.0).ok();
        for (group, (group_passed, group_total)) in &per_group {
            writeln!(
                report,
                "  {group:<24} {group_passed:>4}/{group_total:<4} {:>5.1}%",
                *group_passed as f64 * 100.0 / (*group_total).max(1) as f64
            )
            .ok();
        }
        let failure_file = format!("{}/cdsi-failures-{}.txt", env!("CARGO_TARGET_TMPDIR"), suite.floor_key);
        std::fs::write(&failure_file, &failures).expect("writing the failure report");
        writeln!(report, "  failures with expected vs actual: {failure_file}").ok();
        let floor = floor(suite.floor_key);
        if rate + 1e-9 < floor {
            below_floor.push(format!("{}: {:.4} < floor {floor:.4}", suite.label, rate));
        }
    }
    println!("{report}");
    assert!(below_floor.is_empty(), "CDSi pass rate below the committed floor: {below_floor:?}");
}
