//! CDSi forecasting for one evaluated patient series (logic specification chapter 7): which target
//! dose is next, and its earliest, recommended, past-due and latest dates.

use time::Date;

use super::calendar::Duration;
use super::data::*;
use super::evaluate::{AntigenContext, SeriesRun, TargetStatus, age_rule_on, interval_reference, skip_applies};
use super::{NextDose, SeriesStatus};

/// The forecast of one patient series.
#[derive(Debug, Clone)]
pub struct SeriesForecast {
    pub status: SeriesStatus,
    /// The target dose (0-based) forecast, when one is due.
    pub target: Option<usize>,
    pub next: Option<NextDose>,
}

impl SeriesForecast {
    pub fn without_dates(status: SeriesStatus) -> Self {
        SeriesForecast { status, target: None, next: None }
    }
}

const ONE_DAY: Duration = Duration::days(-1);

pub fn forecast_series(context: &AntigenContext, run: &SeriesRun, completed_groups: &[&str]) -> SeriesForecast {
    let assessment = context.patient.assessment_date;
    let dose_count = context.doses.len();
    let mut target_index = run.next_target;
    let target = loop {
        let Some(target) = run.series.doses.get(target_index) else {
            return SeriesForecast::without_dates(SeriesStatus::Complete);
        };
        if skip_applies(context, run, target, SkipContext::Forecast, assessment, dose_count, completed_groups) {
            target_index += 1;
            continue;
        }
        break target;
    };

    let age = age_rule_on(target, assessment);
    let maximum = age.and_then(|age| context.age_date(age.maximum));
    if maximum.is_some_and(|date| date <= assessment) {
        return SeriesForecast::without_dates(SeriesStatus::AgedOut);
    }

    let mut earliest = age.and_then(|age| context.age_date(age.minimum)).unwrap_or(context.patient.birth_date);
    // Recommended and past-due dates come from the age when the target dose gives one, and from
    // the intervals otherwise (CDC's expected results never push an age-based date later by an
    // interval: the earliest date already carries the minimum intervals).
    let age_recommended = age.and_then(|age| context.age_date(age.earliest_recommended));
    let age_past_due =
        age.and_then(|age| context.age_date(age.latest_recommended)).and_then(|date| ONE_DAY.after(date));
    let mut interval_recommended: Option<Date> = None;
    let mut interval_past_due: Option<Date> = None;

    // Intervals flagged "override" get no special treatment here: CDC's expected results for
    // them (Pertussis doses 2 to 5, the catch-up doses from 7 years) follow the same rules.
    for interval in target.intervals.iter().filter(|i| {
        i.effective.is_none_or(|from| assessment >= from) && i.cessation.is_none_or(|until| assessment < until)
    }) {
        let Some(reference) = interval_reference(context, run, interval, dose_count, assessment) else { continue };
        let minimum = interval.minimum.or(interval.absolute_minimum).and_then(|d| d.after(reference));
        let recommended_interval = interval.earliest_recommended.and_then(|d| d.after(reference));
        let latest_interval =
            interval.latest_recommended.and_then(|d| d.after(reference)).and_then(|d| ONE_DAY.after(d));
        if let Some(minimum) = minimum {
            earliest = earliest.max(minimum);
        }
        interval_recommended = later(interval_recommended, recommended_interval);
        interval_past_due = later(interval_past_due, latest_interval);
    }
    let (recommended, past_due) = (age_recommended.or(interval_recommended), age_past_due.or(interval_past_due));

    // A live vaccine cannot be given within the conflict window of an earlier live vaccine.
    let mut candidates: Vec<&str> = target
        .preferable_vaccines
        .iter()
        .map(|v| v.cvx.as_str())
        .chain(target.allowable_vaccines.iter().map(|v| v.cvx.as_str()))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    for conflict in candidates.iter().flat_map(|cvx| context.data.conflicts_for(cvx)) {
        for earlier in context.patient.doses.iter().filter(|d| d.cvx == conflict.previous_cvx && d.date <= assessment) {
            if let Some(end) = conflict.end.after(earlier.date) {
                earliest = earliest.max(end);
            }
        }
    }

    if let Some((season_start, _)) = target.season {
        earliest = earliest.max(season_start);
    }
    let recommended = recommended.map_or(earliest, |date| date.max(earliest));
    let past_due = past_due.map(|date| date.max(earliest));
    let latest = maximum.and_then(|date| ONE_DAY.after(date));
    if maximum.is_some_and(|date| earliest >= date) {
        return SeriesForecast::without_dates(SeriesStatus::AgedOut);
    }
    // Each vaccine once, in the order of the supporting data (a CVX may be listed per product).
    let mut vaccines: Vec<String> = Vec::new();
    for vaccine in target.preferable_vaccines.iter().filter(|v| context.age_within(recommended, v.begin_age, v.end_age))
    {
        if !vaccines.contains(&vaccine.cvx) {
            vaccines.push(vaccine.cvx.clone());
        }
    }
    // CDC numbers the dose due by the valid doses so far; for seasonal vaccines (influenza,
    // COVID-19) by the target doses satisfied, so a new season starts again at dose 1.
    let dose_number = if target.season.is_some() {
        run.targets[..target_index].iter().filter(|t| **t == TargetStatus::Satisfied).count()
    } else {
        run.valid_dose_count()
    } + 1;
    SeriesForecast {
        status: SeriesStatus::NotComplete,
        target: Some(target_index),
        next: Some(NextDose { dose_number, earliest, recommended, past_due, latest, vaccines }),
    }
}
fn later(current: Option<Date>, candidate: Option<Date>) -> Option<Date> {
    match (current, candidate) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
