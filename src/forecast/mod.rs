//! The forecasting engine: CDC's Clinical Decision Support for Immunization (CDSi) logic,
//! driven by CDC's published supporting data. Pure: no I/O (the data release is compiled in),
//! no actix, no diesel.
//!
//! The processing model follows the CDSi logic specification: organise the history by antigen
//! (`evaluate::AntigenDose`), evaluate every dose against each relevant patient series
//! (`evaluate`), forecast each series (`next_dose`), select the best series per antigen
//! (`select`), and combine antigens into vaccine-group forecasts (here, `combine_group`).

pub mod calendar;
pub mod cases;
pub mod data;
mod evaluate;
pub mod load;
mod next_dose;
mod select;

use std::sync::OnceLock;

use serde::Serialize;
use time::Date;

pub use data::Gender;
use data::{AntigenIndex, SupportingData, VaccineGroup};
use evaluate::{AntigenContext, AntigenDose, evaluate_series};
pub use load::SupportingDataError;
use next_dose::{SeriesForecast, forecast_series};
use select::{Candidate, best_series, is_relevant};

/// One administered dose as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdministeredDose {
    pub date: Date,
    /// CVX code (`03` and `3` are the same vaccine).
    pub cvx: String,
    pub mvx: Option<String>,
}

/// A CDSi observation (an underlying condition, a contraindication, evidence of immunity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientObservation {
    /// The CDSi observation code, e.g. `042` (smokes cigarettes).
    pub code: String,
    pub date: Option<Date>,
}

/// Everything the engine needs about a person.
#[derive(Debug, Clone)]
pub struct PatientHistory {
    pub birth_date: Date,
    pub gender: Gender,
    pub assessment_date: Date,
    pub doses: Vec<AdministeredDose>,
    pub observations: Vec<PatientObservation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EvaluationStatus {
    Valid,
    NotValid,
    Extraneous,
}

impl EvaluationStatus {
    /// The CDSi wording (`Valid`, `Not Valid`, `Extraneous`).
    pub fn label(self) -> &'static str {
        match self {
            EvaluationStatus::Valid => "Valid",
            EvaluationStatus::NotValid => "Not Valid",
            EvaluationStatus::Extraneous => "Extraneous",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EvaluationReason {
    TooYoung,
    TooOld,
    TooSoon,
    Inadvertent,
    LiveVirusConflict,
    NotPreferableOrAllowable,
    SeriesComplete,
}

impl EvaluationReason {
    /// The CDSi wording, as the CDC test cases spell it.
    pub fn label(self) -> &'static str {
        match self {
            EvaluationReason::TooYoung => "Age: Too Young",
            EvaluationReason::TooOld => "Age: Too Old",
            EvaluationReason::TooSoon => "Interval: Too Soon",
            EvaluationReason::Inadvertent => "Inadvertent Vaccine",
            EvaluationReason::LiveVirusConflict => "Live Virus Conflict",
            EvaluationReason::NotPreferableOrAllowable => "Not a preferable or allowable vaccine",
            EvaluationReason::SeriesComplete => "Series Already Complete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SeriesStatus {
    NotComplete,
    Complete,
    Immune,
    AgedOut,
    Contraindicated,
    NotRecommended,
}

impl SeriesStatus {
    /// The CDSi wording, as the CDC healthy test cases spell it.
    pub fn label(self) -> &'static str {
        match self {
            SeriesStatus::NotComplete => "Not complete",
            SeriesStatus::Complete => "Complete",
            SeriesStatus::Immune => "Immune",
            SeriesStatus::AgedOut => "Aged out",
            SeriesStatus::Contraindicated => "Contraindicated",
            SeriesStatus::NotRecommended => "Not recommended",
        }
    }
}

/// How one dose counts for one antigen (in the antigen's best series).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntigenEvaluation {
    pub antigen: String,
    pub series: String,
    pub status: EvaluationStatus,
    pub reason: Option<EvaluationReason>,
    /// The target dose (1-based) the dose was evaluated against.
    pub dose_number: Option<usize>,
}

/// One administered dose with its evaluation per antigen, in the order the doses were given to
/// the engine. Doses after the assessment date, or of vaccines with no antigen, have none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseAssessment {
    pub date: Date,
    pub cvx: String,
    pub evaluations: Vec<AntigenEvaluation>,
}

/// The dose due next in a series or vaccine group (only when its status is not complete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextDose {
    /// The dose number as CDC reports it (1-based).
    pub dose_number: usize,
    pub earliest: Date,
    pub recommended: Date,
    pub past_due: Option<Date>,
    pub latest: Option<Date>,
    /// CVX codes of the vaccines recommended for it, each once.
    pub vaccines: Vec<String>,
}

/// The forecast for one antigen (its best patient series).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntigenForecast {
    pub antigen: String,
    pub series: Option<String>,
    pub status: SeriesStatus,
    pub next: Option<NextDose>,
}

/// The forecast for one vaccine group (`DTaP/Tdap/Td`, `MMR`, `HepB`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupForecast {
    /// The CDSi vaccine group name.
    pub vaccine_group: String,
    pub status: SeriesStatus,
    pub next: Option<NextDose>,
    pub antigens: Vec<AntigenForecast>,
}

/// The engine's answer for one person on one assessment date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub assessment_date: Date,
    pub doses: Vec<DoseAssessment>,
    pub vaccine_groups: Vec<GroupForecast>,
}

impl Assessment {
    pub fn group(&self, name: &str) -> Option<&GroupForecast> {
        self.vaccine_groups.iter().find(|group| group.vaccine_group == name)
    }
}

/// The label the CDC test cases use for a CDSi vaccine group (`DTaP/Tdap/Td` is `DTAP`).
pub fn vaccine_group_label(name: &str) -> &str {
    match name {
        "DTaP/Tdap/Td" => "DTAP",
        "Polio" => "POL",
        "Hib" => "HIB",
        "Pneumococcal" => "PCV",
        "Varicella" => "VAR",
        "Rotavirus" => "ROTA",
        "Meningococcal B" => "MENB",
        "Influenza" => "FLU",
        "Meningococcal" => "MCV",
        "Zoster" => "ZOSTER",
        other => other,
    }
}

/// The CDSi vaccine group for a label of either CDC test-case file (`DTAP`, `DTaP`, `IPOL`, ...).
pub fn vaccine_group_for_label(label: &str) -> Option<&'static str> {
    const GROUPS: &[(&str, &[&str])] = &[
        ("DTaP/Tdap/Td", &["DTAP", "DTaP"]),
        ("Polio", &["POL", "IPOL", "Polio"]),
        ("Hib", &["HIB", "Hib"]),
        ("Pneumococcal", &["PCV", "Pneumococcal"]),
        ("Varicella", &["VAR", "Varicella"]),
        ("Rotavirus", &["ROTA", "Rota", "Rotavirus"]),
        ("Meningococcal B", &["MENB", "Meningococcal B"]),
        ("Influenza", &["FLU", "Flu", "Influenza"]),
        ("Meningococcal", &["MCV", "Meningococcal"]),
        ("Zoster", &["ZOSTER", "Zoster"]),
        ("COVID-19", &["COVID-19"]),
        ("HepA", &["HepA"]),
        ("HepB", &["HepB"]),
        ("HPV", &["HPV"]),
        ("MMR", &["MMR"]),
        ("RSV", &["RSV"]),
        ("Rabies", &["Rabies"]),
        ("Orthopoxvirus", &["Orthopoxvirus"]),
        ("Typhoid", &["Typhoid"]),
        ("TBE", &["TBE"]),
        ("Japanese Encephalitis", &["Japanese Encephalitis", "JE"]),
        ("Dengue", &["Dengue"]),
        ("Yellow Fever", &["Yellow Fever", "YF"]),
        ("Cholera", &["Cholera"]),
        ("Ebola", &["Ebola"]),
        ("Chikungunya", &["Chikungunya"]),
    ];
    GROUPS.iter().find(|(_, labels)| labels.iter().any(|l| l.eq_ignore_ascii_case(label))).map(|(group, _)| *group)
}

/// CVX codes are compared in the two-digit form the supporting data uses (`3` -> `03`).
pub fn normalize_cvx(cvx: &str) -> String {
    let cvx = cvx.trim();
    match cvx.parse::<u32>() {
        Ok(number) => format!("{number:02}"),
        Err(_) => cvx.to_string(),
    }
}

/// A dose as the engine sees it: normalised CVX, position in the input.
#[derive(Debug, Clone)]
struct PatientDose {
    input_index: usize,
    date: Date,
    cvx: String,
    mvx: Option<String>,
}

/// The person, prepared for the engine (borrowed by every antigen's context).
pub(crate) struct Patient<'p> {
    birth_date: Date,
    gender: Gender,
    assessment_date: Date,
    doses: Vec<PatientDoseRef<'p>>,
    observations: Vec<ObservationRef<'p>>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PatientDoseRef<'p> {
    input_index: usize,
    date: Date,
    cvx: &'p str,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ObservationRef<'p> {
    code: &'p str,
    date: Option<Date>,
}

impl Patient<'_> {
    fn has_observation(&self, code: &str) -> bool {
        self.observations.iter().any(|observation| observation.code == code)
    }
}

/// A loaded CDSi engine. Cheap to share (`&Engine` across threads); build it once.
#[derive(Debug)]
pub struct Engine {
    data: SupportingData,
}

impl Engine {
    /// Parses the supporting data compiled into the binary.
    pub fn from_embedded_data() -> Result<Engine, SupportingDataError> {
        load::parse_supporting_data(load::EMBEDDED_ANTIGEN_FILES, load::EMBEDDED_SCHEDULE).map(|data| Engine { data })
    }

    /// The engine of the embedded data, parsed on first use and shared afterwards.
    pub fn shared() -> Result<&'static Engine, &'static SupportingDataError> {
        static ENGINE: OnceLock<Result<Engine, SupportingDataError>> = OnceLock::new();
        ENGINE.get_or_init(Engine::from_embedded_data).as_ref()
    }

    /// The supporting data the engine runs on.
    pub fn data(&self) -> &SupportingData {
        &self.data
    }

    /// The vaccine groups, in the order of the supporting data.
    pub fn vaccine_groups(&self) -> impl Iterator<Item = &str> {
        self.data.vaccine_groups.iter().map(|group| group.name.as_str())
    }

    /// Evaluates the history and forecasts every vaccine group.
    pub fn assess(&self, history: &PatientHistory) -> Assessment {
        let normalized: Vec<PatientDose> = history
            .doses
            .iter()
            .enumerate()
            .map(|(input_index, dose)| PatientDose {
                input_index,
                date: dose.date,
                cvx: normalize_cvx(&dose.cvx),
                mvx: dose.mvx.as_ref().map(|mvx| mvx.trim().to_ascii_uppercase()),
            })
            .collect();
        let mut in_date_order: Vec<&PatientDose> =
            normalized.iter().filter(|dose| dose.date <= history.assessment_date).collect();
        in_date_order.sort_by_key(|dose| (dose.date, dose.input_index));
        let patient = Patient {
            birth_date: history.birth_date,
            gender: history.gender,
            assessment_date: history.assessment_date,
            doses: in_date_order
                .iter()
                .map(|dose| PatientDoseRef { input_index: dose.input_index, date: dose.date, cvx: &dose.cvx })
                .collect(),
            observations: history
                .observations
                .iter()
                .map(|observation| ObservationRef { code: observation.code.trim(), date: observation.date })
                .collect(),
        };

        let mut doses: Vec<DoseAssessment> = normalized
            .iter()
            .map(|dose| DoseAssessment { date: dose.date, cvx: dose.cvx.clone(), evaluations: Vec::new() })
            .collect();
        let mut antigen_forecasts: Vec<Option<AntigenForecast>> = vec![None; self.data.antigens.len()];
        let needed: Vec<AntigenIndex> = {
            let mut needed: Vec<AntigenIndex> =
                self.data.vaccine_groups.iter().flat_map(|g| g.antigens.clone()).collect();
            needed.sort_unstable();
            needed.dedup();
            needed
        };
        for antigen_index in needed {
            let antigen_doses: Vec<AntigenDose> = in_date_order
                .iter()
                .filter(|dose| {
                    self.data.cvx_antigens.get(&dose.cvx).is_some_and(|associations| {
                        associations.iter().any(|association| {
                            association.antigen == antigen_index
                                && association
                                    .begin_age
                                    .and_then(|age| age.after(patient.birth_date))
                                    .is_none_or(|d| dose.date >= d)
                                && association
                                    .end_age
                                    .and_then(|age| age.after(patient.birth_date))
                                    .is_none_or(|d| dose.date < d)
                        })
                    })
                })
                .map(|dose| AntigenDose {
                    input_index: dose.input_index,
                    date: dose.date,
                    cvx: &dose.cvx,
                    mvx: dose.mvx.as_deref(),
                })
                .collect();
            let outcome = self.assess_antigen(&patient, antigen_index, &antigen_doses);
            for (dose, evaluation) in antigen_doses.iter().zip(outcome.1) {
                if let (Some(evaluation), Some(target)) = (evaluation, doses.get_mut(dose.input_index)) {
                    target.evaluations.push(evaluation);
                }
            }
            antigen_forecasts[antigen_index] = Some(outcome.0);
        }

        let vaccine_groups = self
            .data
            .vaccine_groups
            .iter()
            .map(|group| {
                let antigens: Vec<AntigenForecast> = group
                    .antigens
                    .iter()
                    .filter_map(|&index| antigen_forecasts.get(index).cloned().flatten())
                    .collect();
                combine_group(group, antigens)
            })
            .collect();
        Assessment { assessment_date: history.assessment_date, doses, vaccine_groups }
    }

    /// Evaluates and forecasts one antigen: its forecast, and an evaluation per antigen dose.
    fn assess_antigen(
        &self,
        patient: &Patient,
        antigen_index: AntigenIndex,
        antigen_doses: &[AntigenDose],
    ) -> (AntigenForecast, Vec<Option<AntigenEvaluation>>) {
        let antigen = &self.data.antigens[antigen_index];
        let context = AntigenContext { data: &self.data, patient, doses: antigen_doses };
        let mut relevant: Vec<&data::Series> =
            antigen.series.iter().filter(|series| is_relevant(&context, series)).collect();
        if relevant.is_empty() && !antigen_doses.is_empty() {
            // Doses of a vaccine the person has no indication for (travel vaccines, say) are still
            // evaluated, against the series whose gender fits.
            relevant = antigen
                .series
                .iter()
                .filter(|series| {
                    series.required_genders.is_empty() || series.required_genders.contains(&patient.gender)
                })
                .collect();
        }
        // Earlier series groups first, so "Completed Series" skips see them.
        relevant.sort_by(|a, b| a.series_group.cmp(&b.series_group));

        let mut candidates: Vec<Candidate> = Vec::with_capacity(relevant.len());
        let mut completed_groups: Vec<&str> = Vec::new();
        for series in relevant {
            let run = evaluate_series(&context, series, &completed_groups);
            let forecast = forecast_series(&context, &run, &completed_groups);
            if forecast.status == SeriesStatus::Complete && !completed_groups.contains(&series.series_group.as_str()) {
                completed_groups.push(series.series_group.as_str());
            }
            candidates.push(Candidate { run, forecast });
        }

        let best = best_series(&context, &candidates).and_then(|index| candidates.get(index));
        let evaluations = match best {
            Some(best) => best
                .run
                .results
                .iter()
                .map(|result| {
                    Some(AntigenEvaluation {
                        antigen: antigen.name.clone(),
                        series: best.run.series.name.clone(),
                        status: result.status,
                        reason: result.reason,
                        dose_number: result.target.map(|target| target + 1),
                    })
                })
                .collect(),
            None => vec![None; antigen_doses.len()],
        };

        let immune = antigen.immunity_codes.iter().any(|code| patient.has_observation(code))
            || antigen.immunity_birth_date.is_some_and(|date| {
                patient.birth_date < date
                    && !antigen.immunity_exclusions.iter().any(|code| patient.has_observation(code))
            });
        let contraindicated = antigen.group_contraindications.iter().any(|contraindication| {
            patient.has_observation(&contraindication.observation_code)
                && context.age_within(patient.assessment_date, contraindication.begin_age, contraindication.end_age)
        });
        let series_forecast = match best {
            _ if immune => SeriesForecast::without_dates(SeriesStatus::Immune),
            Some(best) if contraindicated && best.forecast.status == SeriesStatus::NotComplete => {
                SeriesForecast::without_dates(SeriesStatus::Contraindicated)
            }
            Some(best) => best.forecast.clone(),
            None => SeriesForecast::without_dates(SeriesStatus::NotRecommended),
        };
        // Vaccines the person has a contraindication to are not recommended.
        let next = series_forecast.next.map(|mut next| {
            next.vaccines.retain(|cvx| {
                !antigen.vaccine_contraindications.iter().any(|contraindication| {
                    patient.has_observation(&contraindication.observation_code)
                        && contraindication.vaccines.iter().any(|vaccine| &vaccine.cvx == cvx)
                })
            });
            next
        });
        let forecast = AntigenForecast {
            antigen: antigen.name.clone(),
            series: best.map(|best| best.run.series.name.clone()),
            status: series_forecast.status,
            next,
        };
        (forecast, evaluations)
    }
}

/// Combines the antigens of a vaccine group (CDSi chapter 9). The group is due when any antigen
/// is. When the whole group is given together (MMR) its earliest and recommended dates are the
/// latest of the antigens due; otherwise the earliest.
fn combine_group(group: &VaccineGroup, antigens: Vec<AntigenForecast>) -> GroupForecast {
    let any = |status: SeriesStatus| antigens.iter().any(|a| a.status == status);
    let all = |status: SeriesStatus| !antigens.is_empty() && antigens.iter().all(|a| a.status == status);
    let due: Vec<&AntigenForecast> = antigens.iter().filter(|a| a.status == SeriesStatus::NotComplete).collect();
    let status = if group.administer_full_group && any(SeriesStatus::Contraindicated) {
        SeriesStatus::Contraindicated
    } else if !due.is_empty() {
        SeriesStatus::NotComplete
    } else if any(SeriesStatus::Contraindicated) {
        SeriesStatus::Contraindicated
    } else if all(SeriesStatus::Immune) {
        SeriesStatus::Immune
    } else if all(SeriesStatus::AgedOut) {
        SeriesStatus::AgedOut
    } else if all(SeriesStatus::NotRecommended) || antigens.is_empty() {
        SeriesStatus::NotRecommended
    } else if any(SeriesStatus::Complete) || any(SeriesStatus::Immune) {
        SeriesStatus::Complete
    } else {
        SeriesStatus::AgedOut
    };
    let next = if status == SeriesStatus::NotComplete {
        let due: Vec<&NextDose> = due.iter().filter_map(|a| a.next.as_ref()).collect();
        // Antigens given together (MMR) wait for the last of them; otherwise (DTaP/Tdap/Td) the
        // group is due as soon as any antigen is, with that antigen's dose.
        let leading = if group.administer_full_group {
            due.iter().max_by_key(|next| next.earliest).copied()
        } else {
            due.iter().min_by_key(|next| (next.earliest, next.recommended)).copied()
        };
        leading.map(|leading| {
            let (earliest, recommended) = if group.administer_full_group {
                (due.iter().map(|n| n.earliest).max(), due.iter().map(|n| n.recommended).max())
            } else {
                (due.iter().map(|n| n.earliest).min(), due.iter().map(|n| n.recommended).min())
            };
            // The vaccines that cover every antigen due, else those of the leading antigen.
            let common: Vec<String> =
                leading.vaccines.iter().filter(|cvx| due.iter().all(|n| n.vaccines.contains(cvx))).cloned().collect();
            NextDose {
                dose_number: leading.dose_number,
                earliest: earliest.unwrap_or(leading.earliest),
                recommended: recommended.unwrap_or(leading.recommended),
                past_due: due.iter().filter_map(|n| n.past_due).min(),
                latest: due.iter().filter_map(|n| n.latest).min(),
                vaccines: if common.is_empty() { leading.vaccines.clone() } else { common },
            }
        })
    } else {
        None
    };
    GroupForecast { vaccine_group: group.name.clone(), status, next, antigens }
}
