//! Vaccines given every season: influenza every fall from 6 months of age, COVID-19 since 2021.

use rand::Rng;
use rand::rngs::SmallRng;
use time::{Date, Month};

use super::super::add_days;
use super::super::vaccines::*;
use super::{Adherence, MONTH, Plan, YEAR, date, one_of};

/// The influenza season (by its starting year) a day falls in.
fn season_of(day: Date) -> i32 {
    if day.month() >= Month::August { day.year() } else { day.year() - 1 }
}

pub(super) fn influenza(plan: &mut Plan, today: Date, adherence: Adherence, rng: &mut SmallRng) {
    let propensity = match (adherence, rng.random_range(0..100)) {
        (Adherence::Declines, _) => return,
        (_, 0..=37) => 0.85,
        (_, 38..=67) => 0.45,
        _ => 0.06,
    };
    let propensity = if adherence == Adherence::Partial { propensity / 2.0 } else { propensity };
    let first_season = season_of(plan.at_age(6 * MONTH)).max(season_of(today) - 7);
    let mut doses_so_far = 0;
    for season in first_season..=season_of(today) {
        if !rng.random_bool(propensity) {
            continue;
        }
        let offset = rng.random_range(0..=75) + rng.random_range(0..=75);
        let mut day = add_days(date(season, Month::September, 1), offset);
        let six_months = plan.at_age(6 * MONTH);
        if day < six_months {
            day = add_days(six_months, rng.random_range(0..=30));
            if day > date(season + 1, Month::April, 30) {
                continue;
            }
        }
        let product = flu_product(season, plan.age_days(day), rng);
        plan.give(day, product);
        // Children under 9 getting influenza vaccine for the first time need two doses.
        if doses_so_far < 2 && plan.age_days(day) < 9 * YEAR && rng.random_bool(0.75) {
            let second = add_days(day, rng.random_range(28..=45));
            plan.give(second, flu_product(season, plan.age_days(second), rng));
            doses_so_far += 1;
        }
        doses_so_far += 1;
    }
}

fn flu_product(season: i32, age: i64, rng: &mut SmallRng) -> Product {
    let laiv_age = (2 * YEAR..50 * YEAR).contains(&age);
    let senior = age >= 65 * YEAR;
    if !(2013..2024).contains(&season) {
        if senior && rng.random_bool(0.75) {
            return if season >= 2016 && rng.random_bool(0.3) { FLUAD } else { FLUZONE_HIGH_DOSE };
        }
        let laiv = if laiv_age { 15 } else { 0 };
        let cell = if season >= 2024 && age >= 6 * MONTH { 15 } else { 0 };
        return one_of(
            rng,
            &[
                (25, FLUZONE_TRI_PF),
                (20, FLUARIX_TRI_PF),
                (10, AFLURIA_TRI_PF),
                (10, FLUZONE_TRI_MDV),
                (5, AFLURIA_TRI_MDV),
                (cell, FLUCELVAX_TRI_MDV),
                (laiv, FLUMIST_TRI),
            ],
        );
    }
    if senior && rng.random_bool(0.75) {
        return if season >= 2020 {
            if rng.random_bool(0.3) { FLUAD_QUAD } else { FLUZONE_HIGH_DOSE_QUAD }
        } else if season >= 2016 && rng.random_bool(0.3) {
            FLUAD
        } else {
            FLUZONE_HIGH_DOSE
        };
    }
    if age < 3 * YEAR && season <= 2018 && rng.random_bool(0.5) {
        return FLUZONE_QUAD_PEDS;
    }
    // LAIV was not recommended in the 2016-17 and 2017-18 seasons.
    let laiv = if laiv_age && season != 2016 && season != 2017 { 18 } else { 0 };
    let cell = if (season >= 2016 && age >= 4 * YEAR) || season >= 2021 { 15 } else { 0 };
    one_of(
        rng,
        &[
            (20, FLUZONE_QUAD_PF),
            (15, FLUARIX_QUAD_PF),
            (12, FLULAVAL_QUAD_PF),
            (if age >= 3 * YEAR { 8 } else { 0 }, AFLURIA_QUAD_PF),
            (6, FLUZONE_QUAD_MDV),
            (if age >= 3 * YEAR { 4 } else { 0 }, AFLURIA_QUAD_MDV),
            (cell, FLUCELVAX_QUAD),
            (laiv, FLUMIST_QUAD),
        ],
    )
}

pub(super) fn covid19(plan: &mut Plan, today: Date, adherence: Adherence, rng: &mut SmallRng) {
    if adherence == Adherence::Declines {
        return;
    }
    let damp = if adherence == Adherence::Partial { 0.5 } else { 1.0 };
    // When each age group could first get a primary series in Minnesota.
    let rules = [
        (date(2021, Month::January, 18), 65 * YEAR),
        (date(2021, Month::March, 30), 16 * YEAR),
        (date(2021, Month::May, 13), 12 * YEAR),
        (date(2021, Month::November, 3), 5 * YEAR),
        (date(2022, Month::June, 20), 6 * MONTH),
    ];
    let eligible = rules.iter().map(|&(from, age)| from.max(plan.at_age(age))).min();
    let mut last_dose = None;
    if let Some(eligible) = eligible {
        let age = plan.age_days(eligible);
        let uptake = match age {
            a if a >= 65 * YEAR => 0.9,
            a if a >= 16 * YEAR => 0.72,
            a if a >= 12 * YEAR => 0.55,
            a if a >= 5 * YEAR => 0.35,
            _ => 0.08,
        };
        if rng.random_bool(uptake * damp) {
            let wait = match rng.random_range(0..100) {
                0..=39 => rng.random_range(0..=30),
                40..=79 => rng.random_range(31..=120),
                _ => rng.random_range(121..=360),
            };
            let day = add_days(eligible, wait);
            last_dose = Some(covid_primary_series(plan, day, rng));
        }
    }
    // Bivalent boosters, September 2022 to September 2023.
    if let Some(last) = last_dose {
        let start = date(2022, Month::September, 1).max(add_days(last, 61));
        let booster_uptake = if plan.age_days(start) >= 65 * YEAR { 0.6 } else { 0.25 };
        if start < date(2023, Month::September, 12) && rng.random_bool(booster_uptake * damp) {
            let day = add_days(start, rng.random_range(0..=120)).min(date(2023, Month::September, 11));
            let age = plan.age_days(day);
            if age >= 12 * YEAR {
                plan.give(day, one_of(rng, &[(60, PFIZER_BIVALENT_30), (40, MODERNA_BIVALENT_50)]));
            } else if age >= 5 * YEAR {
                plan.give(day, PFIZER_BIVALENT_10);
            }
        }
    }
    // Updated vaccines every fall since 2023 (CDC kept the 2023-2024 CVX codes for later formulas).
    for season in 2023..=season_of(today) {
        let day = add_days(date(season, Month::September, 12), rng.random_range(0..=150));
        let age = plan.age_days(day);
        if age < 6 * MONTH {
            continue;
        }
        let uptake = match age {
            a if a >= 65 * YEAR => 0.5,
            a if a >= 18 * YEAR => 0.2,
            _ => 0.08,
        };
        if !rng.random_bool(uptake * damp) {
            continue;
        }
        let product = if age >= 12 * YEAR {
            one_of(rng, &[(55, COMIRNATY_2023), (40, SPIKEVAX_2023), (5, NOVAVAX_2023)])
        } else if age >= 5 * YEAR {
            one_of(rng, &[(60, PFIZER_2023_10), (40, MODERNA_2023_25)])
        } else {
            one_of(rng, &[(50, PFIZER_2023_3), (50, MODERNA_2023_25)])
        };
        plan.give(day, product);
    }
}

/// Gives a primary series starting on `day`; returns the day of its last dose.
fn covid_primary_series(plan: &mut Plan, day: Date, rng: &mut SmallRng) -> Date {
    let age = plan.age_days(day);
    let janssen_window = day >= date(2021, Month::March, 2) && day <= date(2021, Month::December, 16);
    let (product, gaps): (Product, &[i64]) = if day >= date(2023, Month::September, 12) {
        // From the 2023-24 formula on, one dose is a complete series from 5 years of age.
        if age >= 12 * YEAR {
            (one_of(rng, &[(60, COMIRNATY_2023), (40, SPIKEVAX_2023)]), &[])
        } else if age >= 5 * YEAR {
            (PFIZER_2023_10, &[])
        } else if rng.random_bool(0.5) {
            (PFIZER_2023_3, &[21, 56])
        } else {
            (MODERNA_2023_25, &[28])
        }
    } else if age >= 18 * YEAR {
        let pfizer = if day < date(2022, Month::March, 1) { COMIRNATY_30 } else { COMIRNATY_30_TRIS };
        let janssen = if janssen_window { 7 } else { 0 };
        match one_of(rng, &[(55, pfizer), (38, SPIKEVAX_100), (janssen, JANSSEN)]) {
            p if p == JANSSEN => (p, &[]),
            p if p == SPIKEVAX_100 => (p, &[28]),
            p => (p, &[21]),
        }
    } else if age >= 12 * YEAR {
        (if day < date(2022, Month::March, 1) { COMIRNATY_30 } else { COMIRNATY_30_TRIS }, &[21])
    } else if age >= 5 * YEAR {
        (PFIZER_10_TRIS, &[21])
    } else if rng.random_bool(0.6) {
        (PFIZER_3_TRIS, &[21, 56])
    } else {
        (MODERNA_25_PEDS, &[28])
    };
    plan.give(day, product);
    let mut last = day;
    for gap in gaps {
        last = add_days(last, gap + rng.random_range(0..=14));
        plan.give(last, product);
    }
    last
}
