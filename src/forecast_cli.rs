//! `izreg forecast FILE [--json]`: runs the CDSi engine on CDC-style test cases, for checking a
//! forecast by hand (the readable table) or by script (one JSON object per case and line).

use std::io::Write;
use std::path::Path;

use izreg::forecast::calendar::format_date;
use izreg::forecast::cases::{ForecastCase, run_case};
use izreg::forecast::{Assessment, Engine, PatientHistory};

/// Reads the cases of a file: `{"cases": [...]}` or one case object. Errors name the file and
/// the element at fault.
fn read_cases(path: &Path) -> Result<Vec<ForecastCase>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{shown} is not valid JSON (line {}, column {})", e.line(), e.column()))?;
    let described = |e: serde_path_to_error::Error<serde_json::Error>, prefix: &str| {
        let at = e.path().to_string();
        let at = if at == "." { prefix.to_owned() } else { format!("{prefix}{at}") };
        format!("{shown}: {at}: {}", e.into_inner())
    };
    match value {
        serde_json::Value::Object(mut object) if object.contains_key("cases") => {
            let cases = object.remove("cases").unwrap_or_default();
            serde_path_to_error::deserialize::<_, Vec<ForecastCase>>(cases).map_err(|e| described(e, "cases"))
        }
        serde_json::Value::Object(_) => serde_path_to_error::deserialize::<_, ForecastCase>(value)
            .map(|case| vec![case])
            .map_err(|e| described(e, "case")),
        _ => Err(format!("{shown} must hold a case object or {{\"cases\": [...]}}")),
    }
}

/// Why output stopped.
enum WriteError {
    /// Standard output was closed by the reader.
    Closed,
    /// Anything else, as a message.
    Other(String),
}

impl From<std::io::Error> for WriteError {
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            WriteError::Closed
        } else {
            WriteError::Other(format!("cannot write the output: {error}"))
        }
    }
}

/// Runs every case of `file` and prints the results. Cases with bad dates are reported on
/// standard error (the others still run) and make the command fail.
pub fn run(file: &Path, json: bool) -> Result<(), String> {
    let cases = read_cases(file)?;
    let engine = Engine::shared().map_err(|e| format!("the CDSi supporting data cannot be loaded: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = Vec::new();
    for case in &cases {
        // The history is checked first so a bad date is reported before anything is printed
        // for the case.
        let history = match case.history() {
            Ok(history) => history,
            Err(error) => {
                eprintln!("izreg: {error}");
                failed.push(case.id.clone());
                continue;
            }
        };
        let written = match run_case(engine, case) {
            Ok((_, result)) if json => serde_json::to_string(&result)
                .map_err(|e| WriteError::Other(format!("case {}: cannot write the result: {e}", case.id)))
                .and_then(|line| writeln!(out, "{line}").map_err(WriteError::from)),
            Ok((assessment, _)) => write_table(&mut out, case, &history, &assessment).map_err(WriteError::from),
            Err(error) => {
                eprintln!("izreg: {error}");
                failed.push(case.id.clone());
                continue;
            }
        };
        match written {
            // The reader went away (`| head`): nothing more to say, and not an error.
            Err(WriteError::Closed) => return Ok(()),
            Err(WriteError::Other(message)) => return Err(message),
            Ok(()) => {}
        }
    }
    match out.flush() {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(format!("cannot write the output: {e}")),
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} of {} case(s) could not be run: {}", failed.len(), cases.len(), failed.join(", ")))
    }
}

fn date_or_dash(date: Option<time::Date>) -> String {
    date.map_or_else(|| "-".to_owned(), format_date)
}

/// The readable form: the doses with each antigen's evaluation, then every vaccine group.
fn write_table(
    out: &mut impl Write,
    case: &ForecastCase,
    history: &PatientHistory,
    assessment: &Assessment,
) -> std::io::Result<()> {
    let title = case.name.as_deref().map(|name| format!(" ({name})")).unwrap_or_default();
    writeln!(out, "Case {}{title}", case.id)?;
    writeln!(
        out,
        "  born {}, gender {:?}, assessed on {}",
        format_date(history.birth_date),
        history.gender,
        format_date(assessment.assessment_date)
    )?;
    if !history.observations.is_empty() {
        let codes: Vec<&str> = history.observations.iter().map(|o| o.code.as_str()).collect();
        writeln!(out, "  observations: {}", codes.join(", "))?;
    }
    writeln!(out)?;
    writeln!(out, "  Doses")?;
    writeln!(
        out,
        "    {:<10}  {:<4}  {:<16}  {:<10}  {:<4}  Reason / series",
        "Date", "CVX", "Antigen", "Status", "Dose"
    )?;
    if assessment.doses.is_empty() {
        writeln!(out, "    (none)")?;
    }
    for dose in &assessment.doses {
        if dose.evaluations.is_empty() {
            writeln!(
                out,
                "    {:<10}  {:<4}  (not evaluated: after the assessment date or no antigen)",
                format_date(dose.date),
                dose.cvx
            )?;
        }
        for (i, evaluation) in dose.evaluations.iter().enumerate() {
            let (date, cvx) =
                if i == 0 { (format_date(dose.date), dose.cvx.clone()) } else { (String::new(), String::new()) };
            let reason = evaluation.reason.map(|r| r.label()).unwrap_or("");
            let number = evaluation.dose_number.map(|n| n.to_string()).unwrap_or_else(|| "-".to_owned());
            let detail =
                if reason.is_empty() { evaluation.series.clone() } else { format!("{reason} ({})", evaluation.series) };
            writeln!(
                out,
                "    {date:<10}  {cvx:<4}  {:<16}  {:<10}  {number:<4}  {detail}",
                evaluation.antigen,
                evaluation.status.label()
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "  Forecast")?;
    writeln!(
        out,
        "    {:<22}  {:<16}  {:<4}  {:<10}  {:<11}  {:<10}  Vaccines",
        "Vaccine group", "Status", "Dose", "Earliest", "Recommended", "Past due"
    )?;
    for group in &assessment.vaccine_groups {
        let next = group.next.as_ref();
        let number = next.map(|n| n.dose_number.to_string()).unwrap_or_else(|| "-".to_owned());
        writeln!(
            out,
            "    {:<22}  {:<16}  {number:<4}  {:<10}  {:<11}  {:<10}  {}",
            group.vaccine_group,
            group.status.label(),
            date_or_dash(next.map(|n| n.earliest)),
            date_or_dash(next.map(|n| n.recommended)),
            date_or_dash(next.and_then(|n| n.past_due)),
            next.map(|n| n.vaccines.join(" ")).unwrap_or_default()
        )?;
    }
    writeln!(out)
}
