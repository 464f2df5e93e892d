//! Reminder or recall: what a person's forecast makes due soon or overdue on the run date,
//! within the run's vaccine groups and due window, leaving out groups notified recently.

use std::collections::HashSet;

use time::{Date, Duration};

use crate::domain::outreach::{DueGroup, DueStatus, NoticeKind, RunCriteria};
use crate::forecast::{Assessment, SeriesStatus};

/// The vaccine groups of `assessment` a notice should be about, and the notice's kind (a recall
/// when any group is overdue). `recently_notified` holds the groups a notice was sent for within
/// the repeat interval; they are left out. `None` when nothing is left.
pub fn due_groups(
    assessment: &Assessment,
    criteria: &RunCriteria,
    recently_notified: Option<&HashSet<String>>,
) -> DueOutcome {
    let as_of = criteria.as_of;
    let mut groups = Vec::new();
    let mut repeats = 0usize;
    for group in &assessment.vaccine_groups {
        if !criteria.vaccine_groups.is_empty() && !criteria.vaccine_groups.contains(&group.vaccine_group) {
            continue;
        }
        if group.status != SeriesStatus::NotComplete {
            continue;
        }
        let Some(next) = &group.next else { continue };
        // A dose that can no longer be given is not something to remind anyone of.
        if next.latest.is_some_and(|latest| latest < as_of) {
            continue;
        }
        let status = match next.past_due {
            Some(past_due) if past_due <= as_of => match criteria.recall_overdue_days {
                Some(days) if days_between(past_due, as_of) >= i64::from(days) => DueStatus::Overdue,
                _ => continue,
            },
            _ => match criteria.reminder_within_days {
                Some(days) if within(next.recommended, as_of, days) => DueStatus::Due,
                _ => continue,
            },
        };
        if recently_notified.is_some_and(|groups| groups.contains(&group.vaccine_group)) {
            repeats += 1;
            continue;
        }
        groups.push(DueGroup {
            vaccine_group: group.vaccine_group.clone(),
            status,
            dose_number: next.dose_number,
            earliest: next.earliest,
            recommended: next.recommended,
            past_due: next.past_due,
        });
    }
    if groups.is_empty() {
        return if repeats > 0 { DueOutcome::OnlyRecentlyNotified } else { DueOutcome::NothingDue };
    }
    let kind =
        if groups.iter().any(|g| g.status == DueStatus::Overdue) { NoticeKind::Recall } else { NoticeKind::Reminder };
    DueOutcome::Notice { kind, groups }
}

/// What a person's forecast means for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueOutcome {
    /// Nothing due or overdue in the run's window and groups.
    NothingDue,
    /// Something is due, but only for groups notified within the repeat interval.
    OnlyRecentlyNotified,
    /// A notice.
    Notice { kind: NoticeKind, groups: Vec<DueGroup> },
}

fn days_between(from: Date, to: Date) -> i64 {
    (to - from).whole_days()
}

/// Whether `recommended` falls on or before `as_of + days` (a recommended date already passed,
/// while the dose is not yet past due, is "due now").
fn within(recommended: Date, as_of: Date, days: u32) -> bool {
    as_of.checked_add(Duration::days(i64::from(days))).is_none_or(|end| recommended <= end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outreach::{AgeRange, Population};
    use crate::forecast::{GroupForecast, NextDose};
    use time::macros::date;

    fn group(name: &str, recommended: Date, past_due: Option<Date>) -> GroupForecast {
        GroupForecast {
            vaccine_group: name.to_owned(),
            status: SeriesStatus::NotComplete,
            next: Some(NextDose {
                dose_number: 1,
                earliest: recommended,
                recommended,
                past_due,
                latest: None,
                vaccines: Vec::new(),
            }),
            antigens: Vec::new(),
        }
    }

    fn criteria(reminder: Option<u32>, recall: Option<u32>) -> RunCriteria {
        RunCriteria {
            population: Population::State,
            postal_codes: Vec::new(),
            age: AgeRange::default(),
            vaccine_groups: Vec::new(),
            reminder_within_days: reminder,
            recall_overdue_days: recall,
            as_of: date!(2026 - 10 - 01),
            repeat_interval_days: 30,
        }
    }

    fn assessment(groups: Vec<GroupForecast>) -> Assessment {
        Assessment { assessment_date: date!(2026 - 10 - 01), doses: Vec::new(), vaccine_groups: groups }
    }

    #[test]
    fn overdue_group_makes_a_recall_and_due_soon_a_reminder() {
        let a = assessment(vec![
            group("MMR", date!(2026 - 08 - 01), Some(date!(2026 - 09 - 01))),
            group("HepA", date!(2026 - 10 - 20), Some(date!(2026 - 12 - 20))),
            group("Varicella", date!(2027 - 01 - 01), Some(date!(2027 - 03 - 01))),
        ]);
        let DueOutcome::Notice { kind, groups } = due_groups(&a, &criteria(Some(30), Some(0)), None) else {
            panic!("expected a notice")
        };
        assert_eq!(kind, NoticeKind::Recall);
        let names: Vec<_> = groups.iter().map(|g| (g.vaccine_group.as_str(), g.status)).collect();
        assert_eq!(names, [("MMR", DueStatus::Overdue), ("HepA", DueStatus::Due)]);

        let DueOutcome::Notice { kind, .. } = due_groups(&a, &criteria(Some(30), None), None) else {
            panic!("expected a notice")
        };
        assert_eq!(kind, NoticeKind::Reminder, "overdue groups are not reminders");
    }

    #[test]
    fn recall_waits_for_the_minimum_days_overdue() {
        let a = assessment(vec![group("MMR", date!(2026 - 08 - 01), Some(date!(2026 - 09 - 15)))]);
        assert_eq!(due_groups(&a, &criteria(None, Some(30)), None), DueOutcome::NothingDue);
        assert!(matches!(due_groups(&a, &criteria(None, Some(16)), None), DueOutcome::Notice { .. }));
    }

    #[test]
    fn recently_notified_groups_are_left_out() {
        let a = assessment(vec![group("MMR", date!(2026 - 08 - 01), Some(date!(2026 - 09 - 01)))]);
        let recent: HashSet<String> = ["MMR".to_owned()].into();
        assert_eq!(due_groups(&a, &criteria(Some(30), Some(0)), Some(&recent)), DueOutcome::OnlyRecentlyNotified);
    }
}
