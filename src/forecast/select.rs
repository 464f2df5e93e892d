//! CDSi patient series selection (logic specification chapter 8): which relevant series apply to
//! the patient, one prioritized series per series group, then the best series of the antigen.

use std::cmp::Reverse;

use super::SeriesStatus;
use super::data::*;
use super::evaluate::{AntigenContext, SeriesRun};
use super::next_dose::SeriesForecast;

/// Whether `series` applies to the patient: gender, and for risk series an indication (an
/// observation the patient has, at an age the indication covers).
pub fn is_relevant(context: &AntigenContext, series: &Series) -> bool {
    let patient = context.patient;
    if !series.required_genders.is_empty() && !series.required_genders.contains(&patient.gender) {
        return false;
    }
    match series.series_type {
        SeriesType::Standard | SeriesType::EvaluationOnly => true,
        SeriesType::Risk => series.indications.iter().any(|indication| {
            patient.has_observation(&indication.observation_code)
                && context.age_within(patient.assessment_date, indication.begin_age, indication.end_age)
        }),
    }
}

/// An evaluated and forecast patient series.
pub struct Candidate<'d> {
    pub run: SeriesRun<'d>,
    pub forecast: SeriesForecast,
}

impl Candidate<'_> {
    fn complete(&self) -> bool {
        matches!(self.forecast.status, SeriesStatus::Complete | SeriesStatus::Immune)
    }

    fn remaining_doses(&self) -> usize {
        self.run.series.doses.len().saturating_sub(self.forecast.target.unwrap_or(self.run.series.doses.len()))
    }

    /// For a series with no valid dose: whether the patient's age today allows starting it.
    fn may_start(&self, context: &AntigenContext) -> bool {
        let series = self.run.series;
        context.age_within(context.patient.assessment_date, series.min_age_to_start, series.max_age_to_start)
    }
}

/// Picks the best series among `candidates` (all of one antigen); `None` when there are none.
pub fn best_series(context: &AntigenContext, candidates: &[Candidate]) -> Option<usize> {
    let mut groups: Vec<&str> = candidates.iter().map(|c| c.run.series.series_group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    let prioritized: Vec<usize> =
        groups.iter().filter_map(|group| prioritized_in_group(context, candidates, group)).collect();
    if prioritized.len() <= 1 {
        return prioritized.first().copied();
    }

    // A series whose equivalent group is complete is satisfied by it.
    let complete_groups: Vec<&str> = prioritized
        .iter()
        .filter(|&&i| candidates[i].complete())
        .map(|&i| candidates[i].run.series.series_group.as_str())
        .collect();
    let open: Vec<usize> = prioritized
        .iter()
        .copied()
        .filter(|&i| {
            let candidate = &candidates[i];
            !candidate.complete()
                && !candidate.run.series.equivalent_series_groups.iter().any(|g| complete_groups.contains(&g.as_str()))
                && (candidate.run.valid_dose_count() > 0 || candidate.may_start(context))
        })
        .collect();
    let pool = if open.is_empty() { prioritized } else { open };
    pool.into_iter().min_by_key(|&i| {
        let candidate = &candidates[i];
        let series = candidate.run.series;
        (
            series.priority.clone(),
            !candidate.complete(),
            Reverse(candidate.run.valid_dose_count()),
            series.series_type != SeriesType::Risk,
            series.series_group.clone(),
        )
    })
}

/// The prioritized patient series of one series group.
fn prioritized_in_group(context: &AntigenContext, candidates: &[Candidate], group: &str) -> Option<usize> {
    let members: Vec<usize> =
        (0..candidates.len()).filter(|&i| candidates[i].run.series.series_group == group).collect();
    if members.len() <= 1 {
        return members.first().copied();
    }
    let preference = |i: usize| candidates[i].run.series.preference;

    let complete: Vec<usize> = members.iter().copied().filter(|&i| candidates[i].complete()).collect();
    if !complete.is_empty() {
        return complete.into_iter().min_by_key(|&i| {
            let candidate = &candidates[i];
            (
                Reverse(candidate.run.valid_dose_count()),
                candidate.run.results.iter().filter(|r| r.status != super::EvaluationStatus::Valid).count(),
                preference(i),
            )
        });
    }

    let in_process: Vec<usize> = members.iter().copied().filter(|&i| candidates[i].run.valid_dose_count() > 0).collect();
    if !in_process.is_empty() {
        return in_process.into_iter().min_by_key(|&i| {
            let candidate = &candidates[i];
            (
                candidate.forecast.status == SeriesStatus::AgedOut,
                candidate.remaining_doses(),
                Reverse(candidate.run.valid_dose_count()),
                candidate.forecast.earliest,
                preference(i),
            )
        });
    }

    let startable: Vec<usize> = members.iter().copied().filter(|&i| candidates[i].may_start(context)).collect();
    let pool = if startable.is_empty() { members } else { startable };
    pool.into_iter().min_by_key(|&i| (!candidates[i].run.series.default_series, preference(i)))
}
