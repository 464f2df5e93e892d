//! CDSi dose evaluation for one patient series: each dose of the antigen is matched to the next
//! target dose (after conditional skips) and checked for age, interval, live-virus conflict and
//! vaccine type, in the order of the CDSi logic specification, chapter 6.

use time::Date;

use super::calendar::Duration;
use super::data::*;
use super::{EvaluationReason, EvaluationStatus, Patient};

/// A dose of one antigen: an administered dose of a vaccine that counts for the antigen.
#[derive(Debug, Clone)]
pub struct AntigenDose<'p> {
    /// Position of the dose in the patient's history as given.
    pub input_index: usize,
    pub date: Date,
    pub cvx: &'p str,
    pub mvx: Option<&'p str>,
}

/// The evaluation of one antigen dose within a series.
#[derive(Debug, Clone, Copy)]
pub struct DoseResult {
    pub status: EvaluationStatus,
    pub reason: Option<EvaluationReason>,
    /// The target dose (0-based) the dose was evaluated against.
    pub target: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    NotSatisfied,
    Satisfied,
    Skipped,
}

/// One patient series after evaluation.
#[derive(Debug, Clone)]
pub struct SeriesRun<'d> {
    pub series: &'d Series,
    pub results: Vec<DoseResult>,
    pub targets: Vec<TargetStatus>,
    /// The antigen dose (index) that satisfied each target dose.
    pub satisfied_by: Vec<Option<usize>>,
    /// The next target dose to satisfy (0-based); `series.doses.len()` when none is left.
    pub next_target: usize,
}

impl SeriesRun<'_> {
    pub fn valid_dose_count(&self) -> usize {
        self.results.iter().filter(|r| r.status == EvaluationStatus::Valid).count()
    }
}

/// What evaluation and forecasting both need to know about the patient and antigen.
pub struct AntigenContext<'a, 'p> {
    pub data: &'a SupportingData,
    pub patient: &'a Patient<'p>,
    pub doses: &'a [AntigenDose<'p>],
}

impl AntigenContext<'_, '_> {
    pub fn age_date(&self, age: Option<Duration>) -> Option<Date> {
        age.and_then(|age| age.after(self.patient.birth_date))
    }

    /// Whether the patient's age on `date` lies in `[begin, end)` (missing bounds are open).
    pub fn age_within(&self, date: Date, begin: Option<Duration>, end: Option<Duration>) -> bool {
        self.age_date(begin).is_none_or(|begin| date >= begin) && self.age_date(end).is_none_or(|end| date < end)
    }
}

/// The age rule of a target dose in force on `date`.
pub fn age_rule_on(dose: &SeriesDose, date: Date) -> Option<&AgeRule> {
    dose.ages
        .iter()
        .find(|age| age.effective.is_none_or(|from| date >= from) && age.cessation.is_none_or(|until| date < until))
        .or_else(|| dose.ages.first())
}

fn in_force(effective: Option<Date>, cessation: Option<Date>, date: Date) -> bool {
    effective.is_none_or(|from| date >= from) && cessation.is_none_or(|until| date < until)
}

/// Evaluates every dose of the antigen against `series`. `completed_groups` names the series
/// groups of this antigen already found complete (for "Completed Series" conditional skips).
pub fn evaluate_series<'d>(context: &AntigenContext, series: &'d Series, completed_groups: &[&str]) -> SeriesRun<'d> {
    let mut run = SeriesRun {
        series,
        results: Vec::with_capacity(context.doses.len()),
        targets: vec![TargetStatus::NotSatisfied; series.doses.len()],
        satisfied_by: vec![None; series.doses.len()],
        next_target: 0,
    };
    for (index, dose) in context.doses.iter().enumerate() {
        let result = loop {
            let Some(target) = series.doses.get(run.next_target) else {
                break DoseResult {
                    status: EvaluationStatus::Extraneous,
                    reason: Some(EvaluationReason::SeriesComplete),
                    target: None,
                };
            };
            if skip_applies(context, &run, target, SkipContext::Evaluation, dose.date, index, completed_groups) {
                run.targets[run.next_target] = TargetStatus::Skipped;
                run.next_target += 1;
                continue;
            }
            let outcome = evaluate_against_target(context, &run, target, index, dose);
            let target_index = run.next_target;
            if outcome.0 == EvaluationStatus::Valid {
                run.targets[target_index] = TargetStatus::Satisfied;
                run.satisfied_by[target_index] = Some(index);
                if !target.recurring {
                    run.next_target += 1;
                }
            }
            break DoseResult { status: outcome.0, reason: outcome.1, target: Some(target_index) };
        };
        run.results.push(result);
    }
    run
}

/// The dose before `index` that intervals "from the previous dose" are measured from: the most
/// recent earlier dose that was not an inadvertent administration.
pub fn previous_dose(run: &SeriesRun, before: usize) -> Option<usize> {
    (0..before).rev().find(|&i| run.results.get(i).is_some_and(|r| r.reason != Some(EvaluationReason::Inadvertent)))
}

fn not_valid_for_age_or_interval(run: &SeriesRun, before: usize) -> bool {
    previous_dose(run, before).and_then(|i| run.results.get(i)).is_some_and(|r| {
        r.status == EvaluationStatus::NotValid
            && matches!(r.reason, Some(EvaluationReason::TooYoung) | Some(EvaluationReason::TooSoon))
    })
}

/// The date an interval is measured from, for a dose at position `before` (or the forecast when
/// `before` is the number of doses). `None` when the interval does not apply.
pub fn interval_reference(
    context: &AntigenContext,
    run: &SeriesRun,
    interval: &Interval,
    before: usize,
    on: Date,
) -> Option<Date> {
    match &interval.from {
        IntervalFrom::PreviousDose => previous_dose(run, before).map(|i| context.doses[i].date),
        IntervalFrom::TargetDose(number) => {
            run.satisfied_by.get(number.checked_sub(1)?).copied().flatten().map(|i| context.doses[i].date)
        }
        IntervalFrom::MostRecent(vaccines) => context
            .patient
            .doses
            .iter()
            .filter(|dose| dose.date < on && vaccines.iter().any(|cvx| cvx == dose.cvx))
            .map(|dose| dose.date)
            .max(),
        IntervalFrom::Observation(code) => {
            context.patient.observations.iter().filter(|obs| obs.code == code.as_str()).filter_map(|obs| obs.date).max()
        }
    }
}

type Outcome = (EvaluationStatus, Option<EvaluationReason>);

fn evaluate_against_target(
    context: &AntigenContext,
    run: &SeriesRun,
    target: &SeriesDose,
    index: usize,
    dose: &AntigenDose,
) -> Outcome {
    use EvaluationReason::*;
    use EvaluationStatus::*;
    if target.inadvertent_vaccines.iter().any(|cvx| cvx == dose.cvx) {
        return (NotValid, Some(Inadvertent));
    }
    let grace_denied = not_valid_for_age_or_interval(run, index);

    if let Some(age) = age_rule_on(target, dose.date) {
        let absolute_minimum = context.age_date(age.absolute_minimum);
        let minimum = context.age_date(age.minimum);
        if absolute_minimum.is_some_and(|date| dose.date < date) {
            return (NotValid, Some(TooYoung));
        }
        if grace_denied && minimum.is_some_and(|date| dose.date < date) {
            return (NotValid, Some(TooYoung));
        }
        if context.age_date(age.maximum).is_some_and(|date| dose.date >= date) {
            return (Extraneous, Some(TooOld));
        }
    }

    let preferable_interval_ok =
        target.intervals.iter().filter(|i| in_force(i.effective, i.cessation, dose.date)).all(|interval| {
            let Some(reference) = interval_reference(context, run, interval, index, dose.date) else { return true };
            let absolute = interval.absolute_minimum.and_then(|d| d.after(reference));
            let minimum = interval.minimum.and_then(|d| d.after(reference));
            !(absolute.is_some_and(|date| dose.date < date)
                || grace_denied && minimum.is_some_and(|date| dose.date < date))
        });
    if !preferable_interval_ok {
        let allowable: Vec<&Interval> =
            target.allowable_intervals.iter().filter(|i| in_force(i.effective, i.cessation, dose.date)).collect();
        let allowable_ok = !allowable.is_empty()
            && allowable.iter().all(|interval| {
                let Some(reference) = interval_reference(context, run, interval, index, dose.date) else { return true };
                interval.absolute_minimum.and_then(|d| d.after(reference)).is_none_or(|date| dose.date >= date)
            });
        if !allowable_ok {
            return (NotValid, Some(TooSoon));
        }
    }

    if live_virus_conflict(context, run, dose) {
        return (NotValid, Some(LiveVirusConflict));
    }

    let preferable = target.preferable_vaccines.iter().any(|vaccine| {
        vaccine.cvx == dose.cvx
            && context.age_within(dose.date, vaccine.begin_age, vaccine.end_age)
            && vaccine.mvx.as_deref().is_none_or(|mvx| dose.mvx.is_none_or(|given| given.eq_ignore_ascii_case(mvx)))
    });
    let allowable = preferable
        || target.allowable_vaccines.iter().any(|vaccine| {
            vaccine.cvx == dose.cvx && context.age_within(dose.date, vaccine.begin_age, vaccine.end_age)
        });
    if !allowable {
        return (NotValid, Some(NotPreferableOrAllowable));
    }
    (Valid, None)
}

/// A live vaccine given too soon after another live vaccine (any antigen). The 4-day grace
/// (`min_end`) applies unless the earlier dose was itself refused for a live-virus conflict.
fn live_virus_conflict(context: &AntigenContext, run: &SeriesRun, dose: &AntigenDose) -> bool {
    context.data.conflicts_for(dose.cvx).any(|conflict| {
        context
            .patient
            .doses
            .iter()
            .filter(|earlier| earlier.cvx == conflict.previous_cvx && earlier.date < dose.date)
            .any(|earlier| {
                let earlier_refused = context.doses.iter().zip(&run.results).any(|(d, r)| {
                    d.input_index == earlier.input_index && r.reason == Some(EvaluationReason::LiveVirusConflict)
                });
                let end = if earlier_refused { conflict.end } else { conflict.min_end };
                let begins = conflict.begin.after(earlier.date);
                let ends = end.after(earlier.date);
                begins.is_some_and(|b| dose.date >= b) && ends.is_some_and(|e| dose.date < e)
            })
    })
}

/// Whether a conditional skip of `target` applies on `on` (the dose date in evaluation, the
/// assessment date in forecasting). `before` is the number of antigen doses that count (doses
/// before the one being evaluated).
pub fn skip_applies(
    context: &AntigenContext,
    run: &SeriesRun,
    target: &SeriesDose,
    wanted: SkipContext,
    on: Date,
    before: usize,
    completed_groups: &[&str],
) -> bool {
    target.conditional_skips.iter().filter(|skip| skip.context.applies_to(wanted)).any(|skip| {
        let mut sets = skip.sets.iter().map(|set| {
            if !in_force(set.effective, set.cessation, on) {
                return false;
            }
            let mut conditions = set
                .conditions
                .iter()
                .map(|condition| condition_met(context, run, condition, on, before, completed_groups));
            if set.conditions_any { conditions.any(|met| met) } else { conditions.all(|met| met) }
        });
        if skip.sets_all { sets.all(|met| met) } else { sets.any(|met| met) }
    })
}

fn condition_met(
    context: &AntigenContext,
    run: &SeriesRun,
    condition: &SkipCondition,
    on: Date,
    before: usize,
    completed_groups: &[&str],
) -> bool {
    match condition.kind {
        ConditionKind::Age => context.age_within(on, condition.begin_age, condition.end_age),
        ConditionKind::CompletedSeries => {
            condition.series_groups.iter().any(|group| completed_groups.contains(&group.as_str()))
        }
        ConditionKind::Interval => {
            let Some(previous) = previous_dose(run, before) else { return false };
            condition
                .interval
                .and_then(|interval| interval.after(context.doses[previous].date))
                .is_some_and(|date| on >= date)
        }
        ConditionKind::VaccineCountByAge
        | ConditionKind::VaccineCountByDate
        | ConditionKind::VaccineCountByDateAndAge => {
            let by_age = condition.kind != ConditionKind::VaccineCountByDate;
            let by_date = condition.kind != ConditionKind::VaccineCountByAge;
            let count = context.doses[..before.min(context.doses.len())]
                .iter()
                .enumerate()
                .filter(|(i, dose)| {
                    (condition.vaccine_types.is_empty() || condition.vaccine_types.iter().any(|cvx| cvx == dose.cvx))
                        && (!condition.valid_only
                            || run.results.get(*i).is_some_and(|r| r.status == EvaluationStatus::Valid))
                        && (!by_age || context.age_within(dose.date, condition.begin_age, condition.end_age))
                        && (!by_date
                            || (condition.start_date.is_none_or(|start| dose.date >= start)
                                && condition.end_date.is_none_or(|end| dose.date < end)))
                })
                .count();
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            match condition.count_logic {
                CountLogic::GreaterThan => count > condition.dose_count,
                CountLogic::EqualTo => count == condition.dose_count,
                CountLogic::LessThan => count < condition.dose_count,
            }
        }
    }
}
