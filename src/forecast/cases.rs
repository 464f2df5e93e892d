//! Forecast cases in the shape of CDC's CDSi test-case files (`izreg forecast FILE`, and the
//! conformance suite): reading them, running them, and the one-line JSON result per case.
//! Expected values in the files are read for scoring and ignored when forecasting.

use serde::{Deserialize, Serialize};
use time::Date;

use super::calendar::{format_date, parse_data_date};
use super::{AdministeredDose, Assessment, Engine, Gender, PatientHistory, PatientObservation, vaccine_group_label};

/// A file of cases (`{"cases": [...]}`) or a single case object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum CaseFile {
    Many { cases: Vec<ForecastCase> },
    One(Box<ForecastCase>),
}

impl CaseFile {
    pub fn into_cases(self) -> Vec<ForecastCase> {
        match self {
            CaseFile::Many { cases } => cases,
            CaseFile::One(case) => vec![*case],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ForecastCase {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub dob: String,
    #[serde(default)]
    pub gender: Option<String>,
    pub assessment_date: String,
    /// The vaccine group the case tests (CDC label, e.g. `DTAP`).
    #[serde(default)]
    pub vaccine_group: Option<String>,
    #[serde(default)]
    pub doses: Vec<CaseDose>,
    #[serde(default)]
    pub observations: Vec<CaseObservation>,
    #[serde(default)]
    pub expected_forecast: Option<ExpectedForecast>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseDose {
    pub date: String,
    pub cvx: String,
    #[serde(default)]
    pub mvx: Option<String>,
    #[serde(default)]
    pub expected_evaluation_status: Option<String>,
    #[serde(default)]
    pub expected_evaluation_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseObservation {
    pub code: String,
    #[serde(default)]
    pub date: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedForecast {
    pub series_status: Option<String>,
    pub forecast_num: Option<String>,
    pub earliest_date: Option<String>,
    pub recommended_date: Option<String>,
    pub past_due_date: Option<String>,
}

/// A case that cannot be run (a date that is not a date).
#[derive(Debug, thiserror::Error)]
#[error("case {id}: {field} {value:?} is not a date (YYYY-MM-DD)")]
pub struct CaseError {
    pub id: String,
    pub field: &'static str,
    pub value: String,
}

impl ForecastCase {
    fn date(&self, field: &'static str, value: &str) -> Result<Date, CaseError> {
        parse_data_date(value).ok_or_else(|| CaseError { id: self.id.clone(), field, value: value.to_string() })
    }

    /// The case as engine input.
    pub fn history(&self) -> Result<PatientHistory, CaseError> {
        let gender = match self.gender.as_deref().map(str::trim) {
            Some("F" | "f" | "female" | "Female") => Gender::Female,
            Some("M" | "m" | "male" | "Male") => Gender::Male,
            _ => Gender::Unknown,
        };
        let doses = self
            .doses
            .iter()
            .map(|dose| {
                Ok(AdministeredDose {
                    date: self.date("doses[].date", &dose.date)?,
                    cvx: dose.cvx.clone(),
                    mvx: dose.mvx.clone(),
                })
            })
            .collect::<Result<_, CaseError>>()?;
        let observations = self
            .observations
            .iter()
            .map(|observation| {
                let date = match observation.date.as_deref() {
                    Some(date) => Some(self.date("observations[].date", date)?),
                    None => None,
                };
                Ok(PatientObservation { code: observation.code.clone(), date })
            })
            .collect::<Result<_, CaseError>>()?;
        Ok(PatientHistory {
            birth_date: self.date("dob", &self.dob)?,
            gender,
            assessment_date: self.date("assessment_date", &self.assessment_date)?,
            doses,
            observations,
        })
    }
}

/// One line of `izreg forecast --json`.
#[derive(Debug, Serialize)]
pub struct CaseResult {
    pub id: String,
    pub doses: Vec<DoseResultJson>,
    pub forecasts: Vec<GroupResultJson>,
}

#[derive(Debug, Serialize)]
pub struct DoseResultJson {
    pub date: String,
    pub cvx: String,
    pub evaluations: Vec<EvaluationJson>,
}

#[derive(Debug, Serialize)]
pub struct EvaluationJson {
    pub antigen: String,
    pub status: &'static str,
    pub reason: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct GroupResultJson {
    pub vaccine_group: String,
    pub series_status: &'static str,
    pub forecast_num: Option<String>,
    pub earliest_date: Option<String>,
    pub recommended_date: Option<String>,
    pub past_due_date: Option<String>,
}

/// Runs a case; the assessment with its JSON form.
pub fn run_case(engine: &Engine, case: &ForecastCase) -> Result<(Assessment, CaseResult), CaseError> {
    let assessment = engine.assess(&case.history()?);
    let result = CaseResult {
        id: case.id.clone(),
        doses: assessment
            .doses
            .iter()
            .map(|dose| DoseResultJson {
                date: format_date(dose.date),
                cvx: dose.cvx.clone(),
                evaluations: dose
                    .evaluations
                    .iter()
                    .map(|e| EvaluationJson {
                        antigen: e.antigen.clone(),
                        status: e.status.label(),
                        reason: e.reason.map(|r| r.label()),
                    })
                    .collect(),
            })
            .collect(),
        forecasts: assessment
            .vaccine_groups
            .iter()
            .map(|group| GroupResultJson {
                vaccine_group: vaccine_group_label(&group.vaccine_group).to_string(),
                series_status: group.status.label(),
                forecast_num: group.next.as_ref().map(|next| next.dose_number.to_string()),
                earliest_date: group.next.as_ref().map(|next| format_date(next.earliest)),
                recommended_date: group.next.as_ref().map(|next| format_date(next.recommended)),
                past_due_date: group.next.as_ref().and_then(|next| next.past_due).map(format_date),
            })
            .collect(),
    };
    Ok((assessment, result))
}
