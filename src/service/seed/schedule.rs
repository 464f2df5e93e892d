//! Which vaccines a synthetic person received, and when: the CDC/ACIP childhood and adolescent
//! schedule given at well-child visits (with late visits, missed visits and a few families who
//! decline), yearly influenza from 6 months, COVID-19 since 2021, and a few adult vaccines.
//!
//! Products follow what was on the US market on the day of the dose (PCV7 before PCV13 before
//! PCV15/PCV20, quadrivalent influenza only from 2013-14 to 2023-24, ...).

use rand::Rng;
use rand::rngs::SmallRng;
use time::{Date, Month};

use super::add_days;
use super::person::Person;
use super::vaccines::*;

mod seasonal;

use seasonal::{covid19, influenza};

/// One dose given.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Dose {
    /// Day given.
    pub(super) date: Date,
    /// What was given.
    pub(super) product: Product,
}

/// How closely a family follows the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adherence {
    /// Visits on time or a few days to weeks late.
    OnSchedule,
    /// Late visits, and some visits (with their doses) missed.
    Partial,
    /// Declines most vaccines.
    Declines,
}

/// Days from birth.
const MONTH: i64 = 30;
const YEAR: i64 = 365;

/// Every dose of `person`, in date order, none before birth nor after `today`.
pub(super) fn doses(person: &Person, today: Date, rng: &mut SmallRng) -> Vec<Dose> {
    let mut plan = Plan { birth: person.birth, doses: Vec::with_capacity(40) };
    let adherence = match rng.random_range(0..100) {
        0..=89 => Adherence::OnSchedule,
        90..=96 => Adherence::Partial,
        _ => Adherence::Declines,
    };
    if person.adult {
        adult_vaccines(&mut plan, today, adherence, rng);
    } else {
        childhood_series(&mut plan, adherence, rng);
        adolescent_vaccines(&mut plan, adherence, rng);
    }
    influenza(&mut plan, today, adherence, rng);
    covid19(&mut plan, today, adherence, rng);
    let birth = person.birth;
    plan.doses.retain(|d| d.date >= birth && d.date <= today);
    plan.doses.sort_by_key(|d| d.date);
    plan.doses
}

struct Plan {
    birth: Date,
    doses: Vec<Dose>,
}

impl Plan {
    fn give(&mut self, date: Date, product: Product) {
        self.doses.push(Dose { date, product });
    }

    fn age_days(&self, date: Date) -> i64 {
        (date - self.birth).whole_days()
    }

    fn at_age(&self, days: i64) -> Date {
        add_days(self.birth, days)
    }
}

/// Well-child visits: dates with realistic lateness, at least four weeks apart in infancy.
struct Visits {
    adherence: Adherence,
    last: Option<Date>,
}

impl Visits {
    /// The visit planned at `target` days of age (plus up to `spread` days), or `None` when the
    /// family skips it.
    fn visit(&mut self, plan: &Plan, target: i64, spread: i64, rng: &mut SmallRng) -> Option<Date> {
        if self.adherence == Adherence::Partial && rng.random_bool(0.3) {
            return None;
        }
        let delay = match (self.adherence, rng.random_range(0..100)) {
            (Adherence::Partial, 0..=39) => rng.random_range(0..=14),
            (Adherence::Partial, 40..=74) => rng.random_range(15..=60),
            (Adherence::Partial, _) => rng.random_range(61..=150),
            (_, 0..=59) => rng.random_range(0..=7),
            (_, 60..=91) => rng.random_range(8..=30),
            (_, _) => rng.random_range(31..=75),
        };
        let mut date = plan.at_age(target + rng.random_range(0..=spread) + delay);
        if let Some(last) = self.last {
            date = date.max(add_days(last, 28));
        }
        self.last = Some(date);
        Some(date)
    }
}

/// How a practice gives DTaP, IPV, Hib and HepB to infants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Primary {
    /// Pediarix (DTaP-HepB-IPV) at 2, 4, 6 months, Hib separately.
    Pediarix,
    /// Pentacel (DTaP-IPV/Hib) at 2, 4, 6 and 15 months, HepB separately.
    Pentacel,
    /// Vaxelis (DTaP-IPV-Hib-HepB) at 2, 4, 6 months.
    Vaxelis,
    /// Single-antigen vaccines.
    Separate,
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

fn one_of(rng: &mut SmallRng, options: &[(u32, Product)]) -> Product {
    let total: u32 = options.iter().map(|(w, _)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (weight, product) in options {
        if roll < *weight {
            return *product;
        }
        roll -= weight;
    }
    options[0].1
}

fn pcv(on: Date, rng: &mut SmallRng) -> Product {
    if on < date(2010, Month::March, 1) {
        PREVNAR_7
    } else if on < date(2022, Month::July, 1) {
        PREVNAR_13
    } else if on < date(2023, Month::July, 1) {
        one_of(rng, &[(80, PREVNAR_13), (20, VAXNEUVANCE)])
    } else if on < date(2024, Month::July, 1) {
        one_of(rng, &[(30, PREVNAR_13), (35, VAXNEUVANCE), (35, PREVNAR_20)])
    } else {
        one_of(rng, &[(50, VAXNEUVANCE), (50, PREVNAR_20)])
    }
}

fn dtap(rng: &mut SmallRng) -> Product {
    one_of(rng, &[(55, DAPTACEL), (45, INFANRIX)])
}

fn dtap_ipv(on: Date, rng: &mut SmallRng) -> Product {
    if on < date(2015, Month::April, 1) { KINRIX } else { one_of(rng, &[(50, KINRIX), (50, QUADRACEL)]) }
}

fn mmr(on: Date, rng: &mut SmallRng) -> Product {
    if on < date(2022, Month::June, 3) { MMR_II } else { one_of(rng, &[(80, MMR_II), (20, PRIORIX)]) }
}

fn childhood_series(plan: &mut Plan, adherence: Adherence, rng: &mut SmallRng) {
    let hepb = one_of(rng, &[(60, ENGERIX_B_PEDS), (40, RECOMBIVAX_PEDS)]);
    // The birth dose is given in the hospital; even families who decline later often accept it.
    let birth_dose = match adherence {
        Adherence::Declines => rng.random_bool(0.35),
        _ => rng.random_bool(0.9),
    };
    if birth_dose {
        let day = rng.random_range(0..=1);
        plan.give(plan.at_age(day), hepb);
    }
    if adherence == Adherence::Declines {
        return;
    }
    let birth = plan.birth;
    let primary = {
        let vaxelis = if birth >= date(2021, Month::January, 1) { 25 } else { 0 };
        let pentacel = if birth >= date(2008, Month::July, 1) { 30 } else { 0 };
        match rng.random_range(0..(vaxelis + pentacel + 30 + 15)) {
            r if r < vaxelis => Primary::Vaxelis,
            r if r < vaxelis + pentacel => Primary::Pentacel,
            r if r < vaxelis + pentacel + 30 => Primary::Pediarix,
            _ => Primary::Separate,
        }
    };
    let hib = one_of(rng, &[(55, PEDVAXHIB), (45, ACTHIB)]);
    let rotavirus =
        if birth < date(2008, Month::April, 1) { ROTATEQ } else { one_of(rng, &[(55, ROTATEQ), (45, ROTARIX)]) };
    let separate_hepb = matches!(primary, Primary::Pentacel | Primary::Separate);
    let mut visits = Visits { adherence, last: None };

    if separate_hepb && let Some(day) = visits.visit(plan, MONTH, MONTH, rng) {
        plan.give(day, hepb);
    }
    let mut rotavirus_doses = 0;
    for (dose, target) in [(1, 2 * MONTH + 1), (2, 4 * MONTH + 2), (3, 6 * MONTH + 3)] {
        let Some(day) = visits.visit(plan, target, 7, rng) else { continue };
        match primary {
            Primary::Pediarix => plan.give(day, PEDIARIX),
            Primary::Pentacel => plan.give(day, PENTACEL),
            Primary::Vaxelis => plan.give(day, VAXELIS),
            Primary::Separate => {
                plan.give(day, dtap(rng));
                if dose < 3 || rng.random_bool(0.6) {
                    plan.give(day, IPOL);
                }
            }
        }
        let separate_hib = matches!(primary, Primary::Pediarix | Primary::Separate);
        if separate_hib && (dose < 3 || hib == ACTHIB) {
            plan.give(day, hib);
        }
        if dose == 3 && separate_hepb {
            plan.give(day, hepb);
        }
        plan.give(day, pcv(day, rng));
        // Rotavirus: first dose by 14 weeks 6 days, none after 8 months.
        let age = plan.age_days(day);
        let wanted = if rotavirus == ROTATEQ { 3 } else { 2 };
        let may_start = rotavirus_doses > 0 || age <= 104;
        if rotavirus_doses < wanted && may_start && age < 8 * MONTH {
            plan.give(day, rotavirus);
            rotavirus_doses += 1;
        }
    }
    let ipv_at_12_months = primary == Primary::Separate
        && !plan.doses.iter().any(|d| d.product == IPOL && plan.age_days(d.date) > 5 * MONTH);

    let hib_booster = if hib == PEDVAXHIB { PEDVAXHIB } else { one_of(rng, &[(70, ACTHIB), (30, HIBERIX)]) };
    let pcv_at_12_months = rng.random_bool(0.6);
    let hib_at_12_months = primary != Primary::Pentacel && rng.random_bool(0.5);
    let mut hepa_first = None;
    if let Some(day) = visits.visit(plan, 12 * MONTH + 5, 14, rng) {
        if rng.random_bool(0.08) {
            plan.give(day, PROQUAD);
        } else {
            plan.give(day, mmr(day, rng));
            plan.give(day, VARIVAX);
        }
        if rng.random_bool(0.92) {
            plan.give(day, one_of(rng, &[(55, HAVRIX_PEDS), (45, VAQTA_PEDS)]));
            hepa_first = Some(day);
        }
        if pcv_at_12_months {
            plan.give(day, pcv(day, rng));
        }
        if hib_at_12_months {
            plan.give(day, hib_booster);
        }
        if ipv_at_12_months {
            plan.give(day, IPOL);
        }
    }
    if let Some(day) = visits.visit(plan, 15 * MONTH + 5, 60, rng) {
        if primary == Primary::Pentacel && rng.random_bool(0.6) {
            plan.give(day, PENTACEL);
        } else {
            plan.give(day, dtap(rng));
            if !hib_at_12_months {
                plan.give(day, if primary == Primary::Pentacel { ACTHIB } else { hib_booster });
            }
        }
        if !pcv_at_12_months {
            plan.give(day, pcv(day, rng));
        }
    }
    if let Some(first) = hepa_first
        && let Some(day) = visits.visit(plan, 18 * MONTH + 5, 30, rng)
    {
        plan.give(day.max(add_days(first, 183)), one_of(rng, &[(55, HAVRIX_PEDS), (45, VAQTA_PEDS)]));
    }
    // Kindergarten entry: 4 to 6 years.
    let spread = if rng.random_bool(0.7) { 365 } else { 2 * YEAR };
    if let Some(day) = visits.visit(plan, 4 * YEAR + 10, spread, rng) {
        if rng.random_bool(0.65) {
            plan.give(day, dtap_ipv(day, rng));
        } else {
            plan.give(day, dtap(rng));
            plan.give(day, IPOL);
        }
        if rng.random_bool(0.4) {
            plan.give(day, PROQUAD);
        } else {
            plan.give(day, mmr(day, rng));
            plan.give(day, VARIVAX);
        }
    }
}

fn adolescent_vaccines(plan: &mut Plan, adherence: Adherence, rng: &mut SmallRng) {
    if adherence == Adherence::Declines {
        return;
    }
    let mut visits = Visits { adherence, last: None };
    if let Some(day) = visits.visit(plan, 11 * YEAR + 30, 600, rng) {
        if rng.random_bool(0.9) {
            plan.give(day, one_of(rng, &[(55, BOOSTRIX), (45, ADACEL)]));
        }
        if rng.random_bool(0.88) {
            plan.give(day, menacwy(day, rng));
        }
        if rng.random_bool(0.75) {
            let hpv = if day < date(2015, Month::January, 1) { GARDASIL } else { GARDASIL_9 };
            plan.give(day, hpv);
            if rng.random_bool(0.85) {
                plan.give(add_days(day, rng.random_range(183..=365)), hpv);
            }
        }
    }
    if let Some(day) = visits.visit(plan, 16 * YEAR + 10, 300, rng) {
        if rng.random_bool(0.65) {
            plan.give(day, menacwy(day, rng));
        }
        if day >= date(2015, Month::March, 1) && rng.random_bool(0.25) {
            if rng.random_bool(0.55) {
                plan.give(day, BEXSERO);
                plan.give(add_days(day, rng.random_range(30..=60)), BEXSERO);
            } else {
                plan.give(day, TRUMENBA);
                plan.give(add_days(day, rng.random_range(183..=240)), TRUMENBA);
            }
        }
    }
}

fn menacwy(on: Date, rng: &mut SmallRng) -> Product {
    let menveo = if on < date(2015, Month::March, 1) { MENVEO_NOVARTIS } else { MENVEO };
    if on < date(2020, Month::May, 1) {
        one_of(rng, &[(60, MENACTRA), (40, menveo)])
    } else if on < date(2022, Month::July, 1) {
        one_of(rng, &[(40, MENACTRA), (35, menveo), (25, MENQUADFI)])
    } else {
        one_of(rng, &[(50, menveo), (50, MENQUADFI)])
    }
}

fn adult_vaccines(plan: &mut Plan, today: Date, adherence: Adherence, rng: &mut SmallRng) {
    if adherence == Adherence::Declines {
        return;
    }
    let age = plan.age_days(today);
    let adult_from = plan.at_age(19 * YEAR);
    // Any day between `from` and today.
    let some_day = |from: Date, rng: &mut SmallRng| {
        let span = (today - from).whole_days().max(0);
        add_days(from, rng.random_range(0..=span))
    };
    if rng.random_bool(0.55) {
        let day = some_day(adult_from.max(add_days(today, -10 * YEAR)), rng);
        plan.give(day, one_of(rng, &[(55, BOOSTRIX), (45, ADACEL)]));
    }
    if age < 60 * YEAR && rng.random_bool(0.12) {
        let day = some_day(adult_from.max(add_days(today, -15 * YEAR)), rng);
        if day >= date(2018, Month::June, 1) && rng.random_bool(0.4) {
            plan.give(day, HEPLISAV_B);
            plan.give(add_days(day, rng.random_range(30..=45)), HEPLISAV_B);
        } else {
            plan.give(day, ENGERIX_B_ADULT);
            plan.give(add_days(day, rng.random_range(30..=45)), ENGERIX_B_ADULT);
            plan.give(add_days(day, rng.random_range(180..=240)), ENGERIX_B_ADULT);
        }
    }
    if age >= 50 * YEAR && rng.random_bool(0.35) {
        let day = some_day(plan.at_age(50 * YEAR).max(date(2018, Month::January, 15)), rng);
        plan.give(day, SHINGRIX);
        if rng.random_bool(0.85) {
            plan.give(add_days(day, rng.random_range(60..=180)), SHINGRIX);
        }
    }
    if age >= 65 * YEAR && rng.random_bool(0.6) {
        let day = some_day(plan.at_age(65 * YEAR), rng);
        let product = if day < date(2021, Month::October, 20) {
            PNEUMOVAX_23
        } else if day < date(2024, Month::July, 1) {
            PREVNAR_20
        } else {
            one_of(rng, &[(65, PREVNAR_20), (35, CAPVAXIVE)])
        };
        plan.give(day, product);
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn child_born(birth: Date) -> Person {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut person = Person::generate(&mut rng, date(2026, Month::November, 21));
        while person.adult {
            person = Person::generate(&mut rng, date(2026, Month::November, 21));
        }
        person.birth = birth;
        person
    }

    #[test]
    fn doses_fall_between_birth_and_today_in_order() {
        let today = date(2026, Month::November, 21);
        let mut rng = SmallRng::seed_from_u64(11);
        for i in 0..3_000 {
            let mut person = Person::generate(&mut rng, today);
            if i % 7 == 0 {
                person.birth = today;
            }
            let doses = doses(&person, today, &mut rng);
            assert!(doses.windows(2).all(|w| w[0].date <= w[1].date));
            assert!(doses.iter().all(|d| d.date >= person.birth && d.date <= today));
        }
    }

    #[test]
    fn a_six_year_old_has_the_childhood_series() {
        let today = date(2026, Month::November, 21);
        let person = child_born(date(2020, Month::March, 2));
        let mut complete = 0;
        for seed in 0..200 {
            let mut rng = SmallRng::seed_from_u64(seed);
            let doses = doses(&person, today, &mut rng);
            let count = |cvx: &[&str]| doses.iter().filter(|d| cvx.contains(&d.product.cvx)).count();
            // DTaP: five doses, alone or in combinations.
            if count(&["20", "106", "110", "120", "130", "146"]) == 5 && count(&["03", "94"]) == 2 {
                complete += 1;
            }
            assert!(count(&["116", "119"]) <= 3);
        }
        assert!((150..=195).contains(&complete), "most but not all children are complete: {complete}");
    }
}
