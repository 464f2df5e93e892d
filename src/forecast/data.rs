//! The CDSi supporting data as the engine uses it: one `Antigen` per antigen file, and the schedule
//! (CVX to antigen map, vaccine groups, live-virus conflicts, observations). Parsed once by
//! `load.rs`; read-only afterwards.

use std::collections::HashMap;

use time::Date;

use super::calendar::Duration;

/// Index of an antigen in `SupportingData::antigens`.
pub type AntigenIndex = usize;

#[derive(Debug, Clone)]
pub struct SupportingData {
    pub antigens: Vec<Antigen>,
    /// CVX code -> the antigens a dose of it counts for.
    pub cvx_antigens: HashMap<String, Vec<CvxAssociation>>,
    pub vaccine_groups: Vec<VaccineGroup>,
    pub live_virus_conflicts: Vec<LiveVirusConflict>,
    /// CVX code of the later (current) vaccine -> its conflicts in `live_virus_conflicts`
    /// (an index: evaluation looks conflicts up for every dose of every series).
    pub live_virus_conflicts_by_current: HashMap<String, Vec<usize>>,
    /// CDSi observation code -> title.
    pub observations: HashMap<String, String>,
}

impl SupportingData {
    /// The live-virus conflicts in which `cvx` is the later vaccine.
    pub fn conflicts_for(&self, cvx: &str) -> impl Iterator<Item = &LiveVirusConflict> {
        self.live_virus_conflicts_by_current
            .get(cvx)
            .into_iter()
            .flatten()
            .filter_map(|&index| self.live_virus_conflicts.get(index))
    }

    pub fn antigen_index(&self, name: &str) -> Option<AntigenIndex> {
        self.antigens.iter().position(|antigen| antigen.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct CvxAssociation {
    pub antigen: AntigenIndex,
    pub begin_age: Option<Duration>,
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct VaccineGroup {
    pub name: String,
    /// MMR: every antigen of the group is given together, so the group's dates are the latest.
    pub administer_full_group: bool,
    pub antigens: Vec<AntigenIndex>,
}

#[derive(Debug, Clone)]
pub struct LiveVirusConflict {
    pub previous_cvx: String,
    pub current_cvx: String,
    pub begin: Duration,
    pub min_end: Duration,
    pub end: Duration,
}

#[derive(Debug, Clone)]
pub struct Antigen {
    pub name: String,
    /// Observation codes that are evidence of immunity (clinical history).
    pub immunity_codes: Vec<String>,
    /// Born before this date: immune (unless an exclusion observation applies).
    pub immunity_birth_date: Option<Date>,
    pub immunity_exclusions: Vec<String>,
    /// Observations that contraindicate every vaccine of the antigen.
    pub group_contraindications: Vec<Contraindication>,
    /// Observations that contraindicate particular vaccines (CVX codes).
    pub vaccine_contraindications: Vec<VaccineContraindication>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone)]
pub struct Contraindication {
    pub observation_code: String,
    pub begin_age: Option<Duration>,
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct VaccineContraindication {
    pub observation_code: String,
    pub vaccines: Vec<AgedVaccine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesType {
    Standard,
    Risk,
    EvaluationOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub vaccine_group: String,
    pub series_type: SeriesType,
    pub equivalent_series_groups: Vec<String>,
    pub required_genders: Vec<Gender>,
    pub default_series: bool,
    pub product_path: bool,
    pub series_group: String,
    /// `A` is the highest priority.
    pub priority: String,
    pub preference: u32,
    pub min_age_to_start: Option<Duration>,
    pub max_age_to_start: Option<Duration>,
    pub indications: Vec<Indication>,
    pub doses: Vec<SeriesDose>,
}

#[derive(Debug, Clone)]
pub struct Indication {
    pub observation_code: String,
    pub begin_age: Option<Duration>,
    pub end_age: Option<Duration>,
}

/// Ages of a target dose; a dose may carry several, each for a period of administration dates.
#[derive(Debug, Clone, Default)]
pub struct AgeRule {
    pub absolute_minimum: Option<Duration>,
    pub minimum: Option<Duration>,
    pub earliest_recommended: Option<Duration>,
    pub latest_recommended: Option<Duration>,
    pub maximum: Option<Duration>,
    pub effective: Option<Date>,
    pub cessation: Option<Date>,
}

/// Where an interval is measured from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntervalFrom {
    PreviousDose,
    /// The dose that satisfied this target dose (1-based).
    TargetDose(usize),
    /// The most recent dose of any of these vaccines.
    MostRecent(Vec<String>),
    /// The date of this observation.
    Observation(String),
}

#[derive(Debug, Clone)]
pub struct Interval {
    pub from: IntervalFrom,
    pub absolute_minimum: Option<Duration>,
    pub minimum: Option<Duration>,
    pub earliest_recommended: Option<Duration>,
    pub latest_recommended: Option<Duration>,
    /// The interval's dates win over the age-based dates when forecasting.
    pub priority_override: bool,
    pub effective: Option<Date>,
    pub cessation: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct AgedVaccine {
    pub cvx: String,
    pub begin_age: Option<Duration>,
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct PreferableVaccine {
    pub cvx: String,
    pub begin_age: Option<Duration>,
    pub end_age: Option<Duration>,
    pub mvx: Option<String>,
    pub forecast_vaccine_type: bool,
}

#[derive(Debug, Clone)]
pub struct SeriesDose {
    /// 1-based position in the series.
    pub number: usize,
    pub ages: Vec<AgeRule>,
    pub intervals: Vec<Interval>,
    pub allowable_intervals: Vec<Interval>,
    pub preferable_vaccines: Vec<PreferableVaccine>,
    pub allowable_vaccines: Vec<AgedVaccine>,
    pub inadvertent_vaccines: Vec<String>,
    pub conditional_skips: Vec<ConditionalSkip>,
    pub recurring: bool,
    /// The season the target dose is recommended in: start, and end when given.
    pub season: Option<(Date, Option<Date>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipContext {
    Evaluation,
    Forecast,
    Both,
}

impl SkipContext {
    pub fn applies_to(self, context: SkipContext) -> bool {
        self == SkipContext::Both || self == context
    }
}

#[derive(Debug, Clone)]
pub struct ConditionalSkip {
    pub context: SkipContext,
    /// Sets joined by AND (otherwise OR, or a single set).
    pub sets_all: bool,
    pub sets: Vec<SkipSet>,
}

#[derive(Debug, Clone)]
pub struct SkipSet {
    pub description: String,
    pub effective: Option<Date>,
    pub cessation: Option<Date>,
    /// Conditions joined by OR (otherwise AND, or a single condition).
    pub conditions_any: bool,
    pub conditions: Vec<SkipCondition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    Age,
    CompletedSeries,
    Interval,
    VaccineCountByAge,
    VaccineCountByDate,
    VaccineCountByDateAndAge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountLogic {
    GreaterThan,
    EqualTo,
    LessThan,
}

#[derive(Debug, Clone)]
pub struct SkipCondition {
    pub kind: ConditionKind,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub begin_age: Option<Duration>,
    pub end_age: Option<Duration>,
    pub interval: Option<Duration>,
    pub dose_count: u32,
    /// Count only valid doses (otherwise every dose administered).
    pub valid_only: bool,
    pub count_logic: CountLogic,
    /// CVX codes counted; empty counts every vaccine.
    pub vaccine_types: Vec<String>,
    pub series_groups: Vec<String>,
}
