//! The vaccine products seeded: CVX code, manufacturer (MVX), route and volume, and their lot
//! numbers.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use time::{Date, Month};

use super::add_days;

/// How a vaccine is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Intramuscular,
    Subcutaneous,
    Oral,
    Nasal,
}

impl Route {
    /// HL7 v3 RouteOfAdministration code and display.
    pub(super) fn coding(self) -> (&'static str, &'static str) {
        match self {
            Route::Intramuscular => ("IM", "Injection, intramuscular"),
            Route::Subcutaneous => ("SQ", "Injection, subcutaneous"),
            Route::Oral => ("PO", "Swallow, oral"),
            Route::Nasal => ("NASINHLC", "Inhalant, nasal"),
        }
    }

    /// Whether the vaccine is injected (and so has a body site).
    pub(super) fn injected(self) -> bool {
        matches!(self, Route::Intramuscular | Route::Subcutaneous)
    }
}

/// One vaccine product: a CVX code made by one manufacturer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Product {
    /// CDC CVX code.
    pub(super) cvx: &'static str,
    /// CDC MVX manufacturer code.
    pub(super) mvx: &'static str,
    /// Route of administration.
    pub(super) route: Route,
    /// Dose volume in mL.
    pub(super) volume_ml: f64,
}

const fn product(cvx: &'static str, mvx: &'static str, route: Route, volume_ml: f64) -> Product {
    Product { cvx, mvx, route, volume_ml }
}

use Route::{Intramuscular as IM, Nasal, Oral, Subcutaneous as SC};

// Hepatitis B.
pub(super) const ENGERIX_B_PEDS: Product = product("08", "SKB", IM, 0.5);
pub(super) const RECOMBIVAX_PEDS: Product = product("08", "MSD", IM, 0.5);
pub(super) const ENGERIX_B_ADULT: Product = product("43", "SKB", IM, 1.0);
pub(super) const HEPLISAV_B: Product = product("189", "DVC", IM, 0.5);
// DTaP and its combinations.
pub(super) const INFANRIX: Product = product("20", "SKB", IM, 0.5);
pub(super) const DAPTACEL: Product = product("106", "PMC", IM, 0.5);
pub(super) const PEDIARIX: Product = product("110", "SKB", IM, 0.5);
pub(super) const PENTACEL: Product = product("120", "PMC", IM, 0.5);
pub(super) const KINRIX: Product = product("130", "SKB", IM, 0.5);
pub(super) const QUADRACEL: Product = product("130", "PMC", IM, 0.5);
pub(super) const VAXELIS: Product = product("146", "MSP", IM, 0.5);
// Hib.
pub(super) const PEDVAXHIB: Product = product("49", "MSD", IM, 0.5);
pub(super) const ACTHIB: Product = product("48", "PMC", IM, 0.5);
pub(super) const HIBERIX: Product = product("48", "SKB", IM, 0.5);
// Pneumococcal.
pub(super) const PREVNAR_7: Product = product("100", "WAL", IM, 0.5);
pub(super) const PREVNAR_13: Product = product("133", "PFR", IM, 0.5);
pub(super) const VAXNEUVANCE: Product = product("215", "MSD", IM, 0.5);
pub(super) const PREVNAR_20: Product = product("216", "PFR", IM, 0.5);
pub(super) const CAPVAXIVE: Product = product("327", "MSD", IM, 0.5);
pub(super) const PNEUMOVAX_23: Product = product("33", "MSD", IM, 0.5);
// Polio.
pub(super) const IPOL: Product = product("10", "PMC", IM, 0.5);
// Rotavirus.
pub(super) const ROTATEQ: Product = product("116", "MSD", Oral, 2.0);
pub(super) const ROTARIX: Product = product("119", "SKB", Oral, 1.0);
// Measles, mumps, rubella, varicella.
pub(super) const MMR_II: Product = product("03", "MSD", SC, 0.5);
pub(super) const PRIORIX: Product = product("03", "SKB", SC, 0.5);
pub(super) const VARIVAX: Product = product("21", "MSD", SC, 0.5);
pub(super) const PROQUAD: Product = product("94", "MSD", SC, 0.5);
// Hepatitis A.
pub(super) const HAVRIX_PEDS: Product = product("83", "SKB", IM, 0.5);
pub(super) const VAQTA_PEDS: Product = product("83", "MSD", IM, 0.5);
// Adolescents.
pub(super) const BOOSTRIX: Product = product("115", "SKB", IM, 0.5);
pub(super) const ADACEL: Product = product("115", "PMC", IM, 0.5);
pub(super) const GARDASIL: Product = product("62", "MSD", IM, 0.5);
pub(super) const GARDASIL_9: Product = product("165", "MSD", IM, 0.5);
pub(super) const MENACTRA: Product = product("114", "PMC", IM, 0.5);
pub(super) const MENVEO_NOVARTIS: Product = product("136", "NOV", IM, 0.5);
pub(super) const MENVEO: Product = product("136", "SKB", IM, 0.5);
pub(super) const MENQUADFI: Product = product("203", "PMC", IM, 0.5);
pub(super) const TRUMENBA: Product = product("162", "PFR", IM, 0.5);
pub(super) const BEXSERO: Product = product("163", "SKB", IM, 0.5);
// Adults.
pub(super) const SHINGRIX: Product = product("187", "SKB", IM, 0.5);
// Influenza, trivalent (before 2013 and again from the 2024-25 season).
pub(super) const FLUZONE_TRI_PF: Product = product("140", "PMC", IM, 0.5);
pub(super) const FLUARIX_TRI_PF: Product = product("140", "SKB", IM, 0.5);
pub(super) const AFLURIA_TRI_PF: Product = product("140", "SEQ", IM, 0.5);
pub(super) const FLUZONE_TRI_MDV: Product = product("141", "PMC", IM, 0.5);
pub(super) const AFLURIA_TRI_MDV: Product = product("141", "SEQ", IM, 0.5);
pub(super) const FLUCELVAX_TRI_MDV: Product = product("320", "SEQ", IM, 0.5);
pub(super) const FLUMIST_TRI: Product = product("111", "MED", Nasal, 0.2);
pub(super) const FLUZONE_HIGH_DOSE: Product = product("135", "PMC", IM, 0.5);
pub(super) const FLUAD: Product = product("168", "SEQ", IM, 0.5);
// Influenza, quadrivalent (2013-14 to 2023-24 seasons).
pub(super) const FLUZONE_QUAD_PF: Product = product("150", "PMC", IM, 0.5);
pub(super) const FLUARIX_QUAD_PF: Product = product("150", "SKB", IM, 0.5);
pub(super) const FLULAVAL_QUAD_PF: Product = product("150", "IDB", IM, 0.5);
pub(super) const AFLURIA_QUAD_PF: Product = product("150", "SEQ", IM, 0.5);
pub(super) const FLUZONE_QUAD_MDV: Product = product("158", "PMC", IM, 0.5);
pub(super) const AFLURIA_QUAD_MDV: Product = product("158", "SEQ", IM, 0.5);
pub(super) const FLUZONE_QUAD_PEDS: Product = product("161", "PMC", IM, 0.25);
pub(super) const FLUCELVAX_QUAD: Product = product("171", "SEQ", IM, 0.5);
pub(super) const FLUMIST_QUAD: Product = product("149", "MED", Nasal, 0.2);
pub(super) const FLUZONE_HIGH_DOSE_QUAD: Product = product("197", "PMC", IM, 0.7);
pub(super) const FLUAD_QUAD: Product = product("205", "SEQ", IM, 0.5);
// COVID-19.
pub(super) const COMIRNATY_30: Product = product("208", "PFR", IM, 0.3);
pub(super) const COMIRNATY_30_TRIS: Product = product("217", "PFR", IM, 0.3);
pub(super) const PFIZER_10_TRIS: Product = product("218", "PFR", IM, 0.2);
pub(super) const PFIZER_3_TRIS: Product = product("219", "PFR", IM, 0.2);
pub(super) const SPIKEVAX_100: Product = product("207", "MOD", IM, 0.5);
pub(super) const MODERNA_25_PEDS: Product = product("228", "MOD", IM, 0.25);
pub(super) const JANSSEN: Product = product("212", "JSN", IM, 0.5);
pub(super) const PFIZER_BIVALENT_30: Product = product("300", "PFR", IM, 0.3);
pub(super) const PFIZER_BIVALENT_10: Product = product("301", "PFR", IM, 0.2);
pub(super) const MODERNA_BIVALENT_50: Product = product("229", "MOD", IM, 0.5);
pub(super) const COMIRNATY_2023: Product = product("309", "PFR", IM, 0.3);
pub(super) const PFIZER_2023_10: Product = product("310", "PFR", IM, 0.3);
pub(super) const PFIZER_2023_3: Product = product("308", "PFR", IM, 0.3);
pub(super) const SPIKEVAX_2023: Product = product("312", "MOD", IM, 0.5);
pub(super) const MODERNA_2023_25: Product = product("311", "MOD", IM, 0.25);
pub(super) const NOVAVAX_2023: Product = product("313", "NVX", IM, 0.5);

/// Every product seeded (the code-table test walks this list).
pub(super) const ALL: &[Product] = &[
    ENGERIX_B_PEDS,
    RECOMBIVAX_PEDS,
    ENGERIX_B_ADULT,
    HEPLISAV_B,
    INFANRIX,
    DAPTACEL,
    PEDIARIX,
    PENTACEL,
    KINRIX,
    QUADRACEL,
    VAXELIS,
    PEDVAXHIB,
    ACTHIB,
    HIBERIX,
    PREVNAR_7,
    PREVNAR_13,
    VAXNEUVANCE,
    PREVNAR_20,
    CAPVAXIVE,
    PNEUMOVAX_23,
    IPOL,
    ROTATEQ,
    ROTARIX,
    MMR_II,
    PRIORIX,
    VARIVAX,
    PROQUAD,
    HAVRIX_PEDS,
    VAQTA_PEDS,
    BOOSTRIX,
    ADACEL,
    GARDASIL,
    GARDASIL_9,
    MENACTRA,
    MENVEO_NOVARTIS,
    MENVEO,
    MENQUADFI,
    TRUMENBA,
    BEXSERO,
    SHINGRIX,
    FLUZONE_TRI_PF,
    FLUARIX_TRI_PF,
    AFLURIA_TRI_PF,
    FLUZONE_TRI_MDV,
    AFLURIA_TRI_MDV,
    FLUCELVAX_TRI_MDV,
    FLUMIST_TRI,
    FLUZONE_HIGH_DOSE,
    FLUAD,
    FLUZONE_QUAD_PF,
    FLUARIX_QUAD_PF,
    FLULAVAL_QUAD_PF,
    AFLURIA_QUAD_PF,
    FLUZONE_QUAD_MDV,
    AFLURIA_QUAD_MDV,
    FLUZONE_QUAD_PEDS,
    FLUCELVAX_QUAD,
    FLUMIST_QUAD,
    FLUZONE_HIGH_DOSE_QUAD,
    FLUAD_QUAD,
    COMIRNATY_30,
    COMIRNATY_30_TRIS,
    PFIZER_10_TRIS,
    PFIZER_3_TRIS,
    SPIKEVAX_100,
    MODERNA_25_PEDS,
    JANSSEN,
    PFIZER_BIVALENT_30,
    PFIZER_BIVALENT_10,
    MODERNA_BIVALENT_50,
    COMIRNATY_2023,
    PFIZER_2023_10,
    PFIZER_2023_3,
    SPIKEVAX_2023,
    MODERNA_2023_25,
    NOVAVAX_2023,
];

/// A lot: its number and expiration date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lot {
    /// Lot number, in the manufacturer's style.
    pub(super) number: String,
    /// Expiration date (always after the end of the quarter the lot is used in).
    pub(super) expiration: Date,
}

/// Lots in use per product and quarter; a clinic draws from one of them.
const LOTS_PER_QUARTER: u64 = 4;

/// The lot a dose given on `date` came from. A product has a few lots per quarter, so many
/// children share a lot (as in real data), and a lot number always has the same expiration.
pub(super) fn lot(product: &Product, date: Date, rng: &mut SmallRng) -> Lot {
    let quarter = (u8::from(date.month()) - 1) / 3;
    let variant = rng.random_range(0..LOTS_PER_QUARTER);
    let mut key: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in product.cvx.bytes().chain(product.mvx.bytes()) {
        key = (key ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    key ^= (u64::from(date.year().unsigned_abs()) << 8) | (u64::from(quarter) << 4) | variant;
    let mut lot_rng = SmallRng::seed_from_u64(key);
    let number = lot_number(product.mvx, &mut lot_rng);
    let quarter_start = Date::from_calendar_date(date.year(), quarter_month(quarter), 1).unwrap_or(date);
    let expiration = add_days(quarter_start, lot_rng.random_range(300..=720));
    Lot { number, expiration }
}

fn quarter_month(quarter: u8) -> Month {
    match quarter {
        0 => Month::January,
        1 => Month::April,
        2 => Month::July,
        _ => Month::October,
    }
}

const LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";

fn letter(rng: &mut SmallRng) -> char {
    char::from(LETTERS[rng.random_range(0..LETTERS.len())])
}

fn alphanumeric(rng: &mut SmallRng) -> char {
    char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())])
}

/// A lot number shaped like the manufacturer's (e.g. Merck `Y012345`, Sanofi `U7021AA`,
/// Pfizer `FK5127`, Moderna `012L20A`).
fn lot_number(mvx: &str, rng: &mut SmallRng) -> String {
    match mvx {
        "MSD" | "WAL" => format!("{}{:06}", letter(rng), rng.random_range(0..1_000_000)),
        "PMC" | "MSP" => format!("{}{:04}{}{}", letter(rng), rng.random_range(0..10_000), letter(rng), letter(rng)),
        "PFR" | "JSN" => format!("{}{}{:04}", letter(rng), letter(rng), rng.random_range(0..10_000)),
        "MOD" => {
            format!("{:03}{}{:02}{}", rng.random_range(0..1_000), letter(rng), rng.random_range(0..100), letter(rng))
        }
        _ => (0..rng.random_range(5..=9)).map(|_| alphanumeric(rng)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lot_number_always_has_the_same_expiration_after_use() {
        let mut rng = SmallRng::seed_from_u64(1);
        let date = time::macros::date!(2024 - 05 - 17);
        let mut seen = std::collections::HashMap::new();
        for _ in 0..200 {
            let lot = lot(&MMR_II, date, &mut rng);
            assert!(lot.expiration > time::macros::date!(2024 - 06 - 30));
            assert!(lot.number.bytes().all(|b| b.is_ascii_alphanumeric()), "{}", lot.number);
            if let Some(expiration) = seen.insert(lot.number.clone(), lot.expiration) {
                assert_eq!(expiration, lot.expiration);
            }
        }
        assert!(seen.len() <= LOTS_PER_QUARTER as usize);
    }
}
