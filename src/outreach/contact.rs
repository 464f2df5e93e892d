//! How to reach a person, from their stored Patient JSON: name, a parent or guardian for minors,
//! the current home address, a phone number and an email address. Only these elements are read,
//! so nothing sensitive (mother's maiden name, insurance, identifiers) can reach a notice.

use serde::Deserialize;
use time::Date;

use crate::domain::outreach::{Age, AgeUnit, ContactDetails, Guardian, PostalAddress};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PatientView {
    name: Vec<HumanName>,
    telecom: Vec<ContactPoint>,
    address: Vec<Address>,
    contact: Vec<PatientContact>,
    deceased_boolean: Option<bool>,
    deceased_date_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HumanName {
    #[serde(rename = "use")]
    name_use: Option<String>,
    text: Option<String>,
    family: Option<String>,
    given: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactPoint {
    system: Option<String>,
    value: Option<String>,
    #[serde(rename = "use")]
    point_use: Option<String>,
    rank: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Address {
    #[serde(rename = "use")]
    address_use: Option<String>,
    line: Vec<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PatientContact {
    relationship: Vec<CodeableConcept>,
    name: Option<HumanName>,
    telecom: Vec<ContactPoint>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeableConcept {
    coding: Vec<Coding>,
    text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Coding {
    code: Option<String>,
    display: Option<String>,
}

/// HL7 v3 RoleCode family-member codes that make a contact a parent or guardian, with the word
/// a letter uses.
const PARENT_CODES: &[(&str, &str)] = &[
    ("MTH", "mother"),
    ("FTH", "father"),
    ("PRN", "parent"),
    ("GUARD", "guardian"),
    ("NMTH", "mother"),
    ("NFTH", "father"),
    ("STPMTH", "stepmother"),
    ("STPFTH", "stepfather"),
    ("ADOPTMTH", "mother"),
    ("ADOPTFTH", "father"),
    ("FMTH", "foster mother"),
    ("FFTH", "foster father"),
    ("GRMTH", "grandmother"),
    ("GRFTH", "grandfather"),
    ("GRPRN", "grandparent"),
];

/// What a run needs of a stored Patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientFacts {
    pub deceased: bool,
    pub contact: ContactDetails,
}

/// Reads the contact details of the Patient `json` (id `patient_id`, born `birth_date`) as of
/// `as_of`. `None` when the JSON is not a readable Patient.
pub fn patient_facts(patient_id: &str, json: &str, birth_date: Date, as_of: Date) -> Option<PatientFacts> {
    let view: PatientView = serde_json::from_str(json).ok()?;
    let deceased = view.deceased_boolean == Some(true) || view.deceased_date_time.is_some();
    let name = pick_name(&view.name);
    let minor = Age { value: 18, unit: AgeUnit::Years }.reached_on(birth_date).is_some_and(|adult| as_of < adult);
    let guardian = if minor { guardian(&view.contact) } else { None };
    let contact = ContactDetails {
        patient_id: patient_id.to_owned(),
        name: name.map(display_name).unwrap_or_default(),
        family: name.and_then(|n| n.family.clone()),
        birth_date,
        guardian,
        address: current_address(&view.address),
        phone: best_point(&view.telecom, "phone"),
        email: best_point(&view.telecom, "email"),
    };
    Some(PatientFacts { deceased, contact })
}

/// The official name, else the usual one, else the first not marked old.
fn pick_name(names: &[HumanName]) -> Option<&HumanName> {
    let by_use = |wanted: &str| names.iter().find(|n| n.name_use.as_deref() == Some(wanted));
    by_use("official")
        .or_else(|| by_use("usual"))
        .or_else(|| names.iter().find(|n| !matches!(n.name_use.as_deref(), Some("old" | "maiden"))))
}

fn display_name(name: &HumanName) -> String {
    let parts: Vec<&str> =
        name.given.iter().map(String::as_str).chain(name.family.as_deref()).filter(|p| !p.trim().is_empty()).collect();
    if parts.is_empty() { name.text.clone().unwrap_or_default() } else { parts.join(" ") }
}

/// The home address in use (not old, not billing-only), else the first one not marked old.
fn current_address(addresses: &[Address]) -> Option<PostalAddress> {
    let usable = |a: &&Address| !matches!(a.address_use.as_deref(), Some("old" | "billing"));
    let chosen = addresses
        .iter()
        .filter(usable)
        .find(|a| a.address_use.as_deref() == Some("home"))
        .or_else(|| addresses.iter().find(usable))?;
    Some(PostalAddress {
        lines: chosen.line.iter().filter(|l| !l.trim().is_empty()).cloned().collect(),
        city: chosen.city.clone(),
        state: chosen.state.clone(),
        postal_code: chosen.postal_code.clone(),
    })
}

/// The best-ranked contact point of a system (`phone`, `email`), mobile and home before work,
/// never one marked old.
fn best_point(points: &[ContactPoint], system: &str) -> Option<String> {
    let use_order = |p: &ContactPoint| match p.point_use.as_deref() {
        Some("mobile") => 0,
        Some("home") | None => 1,
        Some("work") => 2,
        _ => 3,
    };
    points
        .iter()
        .filter(|p| p.system.as_deref() == Some(system) && p.point_use.as_deref() != Some("old"))
        .filter(|p| p.value.as_deref().is_some_and(|v| !v.trim().is_empty()))
        .min_by_key(|p| (p.rank.unwrap_or(u32::MAX), use_order(p)))
        .and_then(|p| p.value.clone())
}

/// The first contact who is a parent or guardian; else the first next-of-kin with a name.
fn guardian(contacts: &[PatientContact]) -> Option<Guardian> {
    let relationship = |contact: &PatientContact| {
        contact.relationship.iter().flat_map(|r| r.coding.iter()).find_map(|coding| {
            let code = coding.code.as_deref()?;
            PARENT_CODES.iter().find(|(c, _)| *c == code).map(|(_, word)| (*word).to_owned())
        })
    };
    let (contact, word) = contacts
        .iter()
        .filter(|c| c.name.is_some())
        .find_map(|c| relationship(c).map(|word| (c, Some(word))))
        .or_else(|| {
            contacts.iter().filter(|c| c.name.is_some()).find_map(|c| {
                let next_of_kin = c
                    .relationship
                    .iter()
                    .flat_map(|r| r.coding.iter())
                    .any(|coding| coding.code.as_deref() == Some("N"));
                next_of_kin.then(|| {
                    let text = c.relationship.iter().find_map(|r| r.text.clone());
                    (c, text)
                })
            })
        })?;
    let name = contact.name.as_ref().map(display_name).filter(|n| !n.is_empty())?;
    Some(Guardian {
        name,
        relationship: word.or_else(|| {
            contact.relationship.iter().flat_map(|r| r.coding.iter()).find_map(|coding| coding.display.clone())
        }),
        phone: best_point(&contact.telecom, "phone"),
        email: best_point(&contact.telecom, "email"),
    })
}

/// Notices with the same key go to one household: the same street address and postal code, and
/// the same parent or guardian (else the same family name). Without an address each person is
/// their own household.
pub fn family_key(contact: &ContactDetails) -> String {
    let normalize = |text: &str| text.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    let Some(address) = contact.address.as_ref().filter(|a| !a.lines.is_empty()) else {
        return format!("patient:{}", contact.patient_id);
    };
    let postal: String = address.postal_code.as_deref().unwrap_or_default().chars().take(5).collect();
    let household = match &contact.guardian {
        Some(guardian) => normalize(&guardian.name),
        None => normalize(contact.family.as_deref().unwrap_or(&contact.name)),
    };
    format!("{}|{}|{}", normalize(&address.lines.join(" ")), postal, household)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    fn child() -> serde_json::Value {
        json!({
            "resourceType": "Patient",
            "name": [{"use": "old", "family": "Old", "given": ["Name"]}, {"use": "official", "family": "Lopez", "given": ["Ana", "Maria"]}],
            "telecom": [{"system": "phone", "value": "651-555-0100", "use": "work"}, {"system": "phone", "value": "651-555-0199", "use": "mobile"}],
            "address": [{"use": "old", "line": ["9 Gone St"], "postalCode": "55000"}, {"use": "home", "line": ["1 Main St"], "city": "Saint Paul", "state": "MN", "postalCode": "55101-1234"}],
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "Secret"}],
            "contact": [{
                "relationship": [{"coding": [{"code": "N"}]}, {"coding": [{"code": "MTH", "display": "mother"}]}],
                "name": {"family": "Lopez", "given": ["Maria"]},
                "telecom": [{"system": "email", "value": "maria@example.org"}]
            }]
        })
    }

    #[test]
    fn reads_name_guardian_current_address_and_best_phone() {
        let facts = patient_facts("p1", &child().to_string(), date!(2024 - 01 - 10), date!(2026 - 10 - 01)).unwrap();
        assert!(!facts.deceased);
        let c = facts.contact;
        assert_eq!(c.name, "Ana Maria Lopez");
        assert_eq!(c.phone.as_deref(), Some("651-555-0199"));
        assert_eq!(c.address.as_ref().unwrap().lines, ["1 Main St"]);
        let guardian = c.guardian.as_ref().unwrap();
        assert_eq!((guardian.name.as_str(), guardian.relationship.as_deref()), ("Maria Lopez", Some("mother")));
        assert_eq!(guardian.email.as_deref(), Some("maria@example.org"));
        assert!(!serde_json::to_string(&c).unwrap().contains("Secret"));
        assert_eq!(family_key(&c), "1MAINST|55101|MARIALOPEZ");
    }

    #[test]
    fn adults_have_no_guardian_and_deceased_is_read() {
        let mut adult = child();
        adult["deceasedDateTime"] = json!("2026-01-01");
        let facts = patient_facts("p1", &adult.to_string(), date!(2000 - 01 - 10), date!(2026 - 10 - 01)).unwrap();
        assert!(facts.deceased);
        assert!(facts.contact.guardian.is_none());
        assert!(patient_facts("p1", "not json", date!(2000 - 01 - 10), date!(2026 - 10 - 01)).is_none());
    }
}
