//! `izreg forecast FILE [--json]`: the CDSi forecaster from the command line, run as a user would.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn izreg_forecast(file: &Path, json: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_izreg"));
    command.arg("forecast").arg(file).env("RUST_LOG", "off");
    if json {
        command.arg("--json");
    }
    command.output().expect("the binary runs")
}

fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn group<'a>(line: &'a Value, label: &str) -> &'a Value {
    line["forecasts"].as_array().unwrap().iter().find(|g| g["vaccine_group"] == label).unwrap()
}

#[test]
fn json_output_is_one_line_per_case_with_evaluations_and_forecasts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = json!({"cases": [
        {"id": "newborn", "dob": "2024-01-01", "gender": "F", "assessment_date": "2024-01-01", "doses": [],
         "expected_forecast": {"series_status": "ignored"}},
        {"id": "one-dtap", "dob": "2024-01-01", "gender": "M", "assessment_date": "2024-04-01",
         "doses": [{"date": "2024-02-12", "cvx": "20", "mvx": "PMC"}], "observations": []}
    ]});
    let file = write(&dir, "cases.json", &cases.to_string());
    let output = izreg_forecast(&file, true);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);

    let newborn = &lines[0];
    assert_eq!(newborn["id"], "newborn");
    let dtap = group(newborn, "DTAP");
    assert_eq!(dtap["series_status"], "Not complete");
    assert_eq!(dtap["forecast_num"], "1");
    // The first DTaP dose may be given from 6 weeks of age.
    assert_eq!(dtap["earliest_date"], "2024-02-12");

    let one = &lines[1];
    assert_eq!(one["id"], "one-dtap");
    let evaluations = one["doses"][0]["evaluations"].as_array().unwrap();
    assert!(evaluations.iter().any(|e| e["antigen"] == "Diphtheria" && e["status"] == "Valid"));
    assert_eq!(group(one, "DTAP")["forecast_num"], "2");
}

#[test]
fn a_single_case_object_prints_a_readable_table() {
    let dir = tempfile::tempdir().unwrap();
    let case = json!({"id": "solo", "dob": "2024-01-01", "gender": "F", "assessment_date": "2024-04-01",
                      "doses": [{"date": "2024-02-01", "cvx": "20"}]});
    let file = write(&dir, "case.json", &case.to_string());
    let output = izreg_forecast(&file, false);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Case solo"), "{text}");
    // The dose came before 6 weeks minus the 4-day grace period: too young.
    assert!(text.contains("Age: Too Young"), "{text}");
    assert!(text.lines().any(|l| l.contains("DTaP/Tdap/Td") && l.contains("Not complete")), "{text}");
}

#[test]
fn bad_files_fail_with_a_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bad_date = write(&dir, "bad-date.json", r#"{"id": "x", "dob": "2024-13-01", "assessment_date": "2024-01-01"}"#);
    let not_json = write(&dir, "not-json.json", "{ nope");
    let wrong_shape = write(&dir, "wrong.json", r#"{"cases": [{"id": 7}]}"#);
    let missing = dir.path().join("missing.json");
    for (file, expected) in
        [(&bad_date, "dob"), (&not_json, "not valid JSON"), (&wrong_shape, "cases[0].id"), (&missing, "cannot read")]
    {
        let output = izreg_forecast(file, true);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{}: {stderr}", file.display());
        assert!(stderr.contains(expected), "{}: {stderr}", file.display());
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
