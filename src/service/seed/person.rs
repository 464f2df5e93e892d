//! Synthetic people: name, sex, birth date, Minnesota address, phone, parent contact, and their
//! FHIR Patient JSON.

use std::collections::BTreeSet;

use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::{Map, Value, json};
use time::Date;

use super::names::{CITIES, City, FAMILY, FEMALE_GIVEN, MALE_GIVEN, STREET_SUFFIXES, STREETS};
use super::{add_days, format_date, object, pick};
use crate::domain::patient::{IndexedName, IndexedToken, NamePart, PatientIndex};
use crate::fhir::date::parse_search_value;
use crate::fhir::patient::normalize_postal_code;
use crate::fhir::text::normalize_for_search;

/// System of the state registry identifier given to seeded Patients.
pub const REGISTRY_ID_SYSTEM: &str = "urn:izreg:registry-id";
/// System of the medical record numbers given to seeded Patients.
pub const MRN_SYSTEM: &str = "urn:izreg:seed:mrn";

const IDENTIFIER_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const CONTACT_ROLE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0131";
const FAMILY_ROLE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

/// Share of seeded people who are adults (19 and older); the rest are 0 to 18 years old. A
/// statewide registry holds everyone vaccinated in the state, so the mix follows the census
/// (about 23% of Minnesotans are under 18). With the schedule's doses this gives about 11
/// immunizations per person: children ~24, adults ~8.
const ADULT_SHARE: f64 = 0.77;
/// Children are born at most this many days before today (19 years).
const CHILD_MAX_AGE_DAYS: i64 = 19 * 365 + 4;

/// Administrative sex (FHIR `gender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }
}

/// A parent listed as the contact of a minor.
#[derive(Debug, Clone)]
struct Parent {
    mother: bool,
    given: &'static str,
    family: String,
    phone: String,
}

/// One synthetic person.
#[derive(Debug, Clone)]
pub(super) struct Person {
    /// Date of birth.
    pub(super) birth: Date,
    /// Administrative sex.
    pub(super) sex: Sex,
    /// Whether the person is 19 or older today.
    pub(super) adult: bool,
    given: Vec<&'static str>,
    family: String,
    line: String,
    city: &'static City,
    zip: &'static str,
    phone: String,
    parent: Option<Parent>,
}

impl Person {
    /// Draws a person who is alive today.
    pub(super) fn generate(rng: &mut SmallRng, today: Date) -> Person {
        let adult = rng.random_bool(ADULT_SHARE);
        let age_days = if adult {
            rng.random_range(CHILD_MAX_AGE_DAYS..=85 * 365)
        } else {
            rng.random_range(0..CHILD_MAX_AGE_DAYS)
        };
        let birth = add_days(today, -age_days);
        let sex = match rng.random_range(0..1000) {
            0..=489 => Sex::Female,
            490..=989 => Sex::Male,
            990..=994 => Sex::Other,
            _ => Sex::Unknown,
        };
        let names = match sex {
            Sex::Female => FEMALE_GIVEN,
            Sex::Male => MALE_GIVEN,
            Sex::Other | Sex::Unknown => {
                if rng.random_bool(0.5) {
                    FEMALE_GIVEN
                } else {
                    MALE_GIVEN
                }
            }
        };
        let mut given = vec![*pick(rng, names)];
        if rng.random_bool(0.45) {
            let middle = *pick(rng, names);
            if middle != given[0] {
                given.push(middle);
            }
        }
        let first_family = *pick(rng, FAMILY);
        let family = if rng.random_bool(0.05) {
            let second = *pick(rng, FAMILY);
            if second == first_family { first_family.to_owned() } else { format!("{first_family}-{second}") }
        } else {
            first_family.to_owned()
        };
        let city = pick_city(rng);
        let zip = *pick(rng, city.zips);
        let mut line =
            format!("{} {} {}", rng.random_range(100..=19_999), pick(rng, STREETS), pick(rng, STREET_SUFFIXES));
        if rng.random_bool(0.2) {
            line.push_str(&format!(" Apt {}", rng.random_range(1..=450)));
        }
        let phone = phone_number(rng, city);
        let parent = (!adult).then(|| {
            let mother = rng.random_bool(0.72);
            let parent_family = if rng.random_bool(0.82) {
                // A hyphenated child's parent usually carries one of the two names.
                family.split('-').next().unwrap_or(&family).to_owned()
            } else {
                (*pick(rng, FAMILY)).to_owned()
            };
            let given = if mother { *pick(rng, FEMALE_GIVEN) } else { *pick(rng, MALE_GIVEN) };
            let phone = if rng.random_bool(0.6) { phone_number(rng, city) } else { phone.clone() };
            Parent { mother, given, family: parent_family, phone }
        });
        Person { birth, sex, adult, given, family, line, city, zip, phone, parent }
    }

    /// The Patient resource (without id and meta: the store adds them), in the canonical element
    /// order validation produces, and its search facts as validation extracts them.
    pub(super) fn to_fhir(&self, registry_id: &str, mrn: &str) -> (Map<String, Value>, PatientIndex) {
        let birth_date = format_date(self.birth);
        let mut patient = object(json!({
            "resourceType": "Patient",
            "identifier": [
                {
                    "use": "official",
                    "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "SR", "display": "State registry ID"}]},
                    "system": REGISTRY_ID_SYSTEM,
                    "value": registry_id
                },
                {
                    "use": "usual",
                    "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "MR", "display": "Medical record number"}]},
                    "system": MRN_SYSTEM,
                    "value": mrn
                }
            ],
            "active": true,
            "name": [{"use": "official", "family": self.family, "given": self.given}],
            "telecom": [{"system": "phone", "value": self.phone, "use": "home"}],
            "gender": self.sex.code(),
            "birthDate": birth_date,
            "address": [{
                "use": "home",
                "type": "physical",
                "line": [self.line],
                "city": self.city.name,
                "state": "MN",
                "postalCode": self.zip,
                "country": "US"
            }]
        }));
        if let Some(parent) = &self.parent {
            let (code, display) = if parent.mother { ("MTH", "mother") } else { ("FTH", "father") };
            patient.insert(
                "contact".into(),
                json!([{
                    "relationship": [
                        {"coding": [{"system": CONTACT_ROLE_SYSTEM, "code": "N", "display": "Next-of-Kin"}]},
                        {"coding": [{"system": FAMILY_ROLE_SYSTEM, "code": code, "display": display}]}
                    ],
                    "name": {"use": "official", "family": parent.family, "given": [parent.given]},
                    "telecom": [{"system": "phone", "value": parent.phone, "use": "mobile"}]
                }]),
            );
        }
        (patient, self.index(registry_id, mrn, &birth_date))
    }

    /// What `fhir::patient::validate` extracts from [`Person::to_fhir`]'s resource (a test checks
    /// that the two agree).
    fn index(&self, registry_id: &str, mrn: &str, birth_date: &str) -> PatientIndex {
        let mut names = BTreeSet::new();
        names.insert((NamePart::Family.as_str(), self.family.as_str(), NamePart::Family));
        for given in &self.given {
            names.insert((NamePart::Given.as_str(), given, NamePart::Given));
        }
        let identifiers: BTreeSet<IndexedToken> = [(REGISTRY_ID_SYSTEM, registry_id), (MRN_SYSTEM, mrn)]
            .into_iter()
            .map(|(system, value)| IndexedToken { system: system.to_owned(), value: value.to_owned() })
            .collect();
        PatientIndex {
            family_sort: normalize_for_search(&self.family),
            birth: parse_search_value(birth_date),
            gender: Some(self.sex.code().to_owned()),
            active: true,
            names: names
                .into_iter()
                .map(|(_, exact, part)| IndexedName {
                    part,
                    exact: exact.to_owned(),
                    normalized: normalize_for_search(exact),
                })
                .collect(),
            identifiers: identifiers.into_iter().collect(),
            postal_codes: vec![normalize_postal_code(self.zip)],
        }
    }
}

fn pick_city(rng: &mut SmallRng) -> &'static City {
    let total: u32 = CITIES.iter().map(|c| c.weight).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for city in CITIES {
        if roll < city.weight {
            return city;
        }
        roll -= city.weight;
    }
    &CITIES[0]
}

/// A number in the 555 exchange, so that no real subscriber is ever listed.
fn phone_number(rng: &mut SmallRng, city: &City) -> String {
    format!("{}-555-{:04}", city.area_code, rng.random_range(0..10_000))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn people_are_born_in_the_past_and_minors_have_a_parent() {
        let today = time::macros::date!(2026 - 11 - 21);
        let mut rng = SmallRng::seed_from_u64(7);
        let mut adults = 0;
        for _ in 0..2_000 {
            let person = Person::generate(&mut rng, today);
            assert!(person.birth <= today);
            assert_eq!(person.parent.is_some(), !person.adult);
            adults += usize::from(person.adult);
            let zip: u32 = person.zip.parse().unwrap();
            assert!((55_001..=56_763).contains(&zip), "{zip}");
        }
        assert!((1_460..=1_620).contains(&adults), "about 77% adults: {adults}");
    }
}
