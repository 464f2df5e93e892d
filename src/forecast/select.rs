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

    /// Whether the patient started the series (first valid dose, or today when there is none) at
    /// an age within its start window.
    fn started_in_window(&self, context: &AntigenContext) -> bool {
        let series = self.run.series;
        let started = self
            .run
            .results
            .iter()
            .position(|r| r.status == super::EvaluationStatus::Valid)
            .and_then(|i| context.doses.get(i))
            .map_or(context.patient.assessment_date, |dose| dose.date);
        context.age_within(started, series.min_age_to_start, series.max_age_to_start)
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

    // A series the patient did not start at an age its start window allows (first valid dose, or
    // today when there is none) is not theirs: the adult 50+ pneumococcal series does not apply
    // to a 24-year-old who had PPSV23 at 19.
    let started_in_window: Vec<usize> =
        prioritized.iter().copied().filter(|&i| candidates[i].started_in_window(context)).collect();
    let prioritized = if started_in_window.is_empty() { prioritized } else { started_in_window };

    // A series whose equivalent group is complete is satisfied by it.
    let complete_groups: Vec<&str> = prioritized
        .iter()
        .filter(|&&i| candidates[i].complete())
        .map(|&i| candidates[i].run.series.series_group.as_str())
        .collect();
    let satisfied_by_equivalent = |i: usize| {
        let candidate = &candidates[i];
        !candidate.complete()
            && candidate.run.series.equivalent_series_groups.iter().any(|g| complete_groups.contains(&g.as_str()))
    };
    let eligible: Vec<usize> = prioritized.iter().copied().filter(|&i| !satisfied_by_equivalent(i)).collect();
    let open: Vec<usize> =
        eligible.iter().copied().filter(|&i| candidates[i].forecast.status == SeriesStatus::NotComplete).collect();
    let pool = if !open.is_empty() {
        open
    } else if !eligible.is_empty() {
        eligible
    } else {
        prioritized
    };
    pool.into_iter().min_by_key(|&i| {
        let candidate = &candidates[i];
        let series = candidate.run.series;
        (
            status_rank(candidate.forecast.status),
            // A risk series the person has an indication for is more specific than the standard one.
            series.series_type != SeriesType::Risk,
            series.priority.clone(),
            Reverse(candidate.run.valid_dose_count()),
            series.series_group.clone(),
        )
    })
}

fn status_rank(status: SeriesStatus) -> u8 {
    match status {
        SeriesStatus::NotComplete => 0,
        SeriesStatus::Complete | SeriesStatus::Immune => 1,
        SeriesStatus::AgedOut => 2,
        SeriesStatus::Contraindicated | SeriesStatus::NotRecommended => 3,
    }
}

/// The prioritized patient series of one series group.
fn prioritized_in_group(context: &AntigenContext, candidates: &[Candidate], group: &str) -> Option<usize> {
    let members: Vec<usize> =
        (0..candidates.len()).filter(|&i| candidates[i].run.series.series_group == group).collect();
    if members.len() <= 1 {
        return members.first().copied();
    }
    let preference = |i: usize| candidates[i].run.series.preference;

    // A series "completed" only by skipping every target dose (an infant series for an adult)
    // is not a completed series; it competes with the series that have no valid dose.
    let complete: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| candidates[i].complete() && candidates[i].run.valid_dose_count() > 0)
        .collect();
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

    let in_process: Vec<usize> =
        members.iter().copied().filter(|&i| candidates[i].run.valid_dose_count() > 0).collect();
    if !in_process.is_empty() {
        return in_process.into_iter().min_by_key(|&i| {
            let candidate = &candidates[i];
            (
                !candidate.started_in_window(context),
                candidate.forecast.status == SeriesStatus::AgedOut,
                candidate.remaining_doses(),
                Reverse(candidate.run.valid_dose_count()),
                candidate.forecast.next.as_ref().map(|next| next.earliest),
                preference(i),
            )
        });
    }

    members.into_iter().min_by_key(|&i| {
        let candidate = &candidates[i];
        (
            !candidate.run.series.default_series,
            !candidate.may_start(context),
            candidate.forecast.status != SeriesStatus::NotComplete,
            preference(i),
        )
    })
}
