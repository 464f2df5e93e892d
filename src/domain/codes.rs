//! Vaccine code tables: CDC CVX (vaccines) and MVX (manufacturers).

use std::collections::HashMap;

/// FHIR system URI of CVX codes.
pub const CVX_SYSTEM: &str = "http://hl7.org/fhir/sid/cvx";
/// FHIR system URI of MVX codes.
pub const MVX_SYSTEM: &str = "http://hl7.org/fhir/sid/mvx";
/// FHIR system URI of NDC codes.
pub const NDC_SYSTEM: &str = "http://hl7.org/fhir/sid/ndc";

/// One CVX code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvxCode {
    /// The code (`03`, `20`, ...).
    pub code: String,
    /// Short name.
    pub label: String,
    /// CDC status (`Valid`, `Inactive`, `Non-US`, `Never Active`, ...).
    pub status: String,
    /// Vaccine group (`MMR`, `DTAP`, ...), when CDC assigns one.
    pub vaccine_group: Option<String>,
}

/// One MVX code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MvxCode {
    /// The code (`MSD`, `SKB`, ...).
    pub code: String,
    /// Manufacturer name.
    pub label: String,
    /// Status (`Valid`, `Inactive`, ...).
    pub status: String,
}

/// The code tables, in memory for validation on every write.
#[derive(Debug, Clone, Default)]
pub struct CodeTables {
    cvx: HashMap<String, CvxCode>,
    mvx: HashMap<String, MvxCode>,
}

impl CodeTables {
    /// Builds the tables from their rows.
    pub fn new(cvx: Vec<CvxCode>, mvx: Vec<MvxCode>) -> Self {
        CodeTables {
            cvx: cvx.into_iter().map(|c| (c.code.clone(), c)).collect(),
            mvx: mvx.into_iter().map(|m| (m.code.clone(), m)).collect(),
        }
    }

    /// Looks up a CVX code. Codes are compared as sent, and also without leading zeros
    /// (`3` and `03` are the same vaccine; CDC publishes the two-digit form).
    pub fn cvx(&self, code: &str) -> Option<&CvxCode> {
        self.cvx.get(code).or_else(|| {
            let trimmed = code.trim_start_matches('0');
            if trimmed.len() == 1 { self.cvx.get(&format!("0{trimmed}")) } else { self.cvx.get(trimmed) }
        })
    }

    /// Looks up an MVX code (case-insensitive: codes are upper case).
    pub fn mvx(&self, code: &str) -> Option<&MvxCode> {
        self.mvx.get(code).or_else(|| self.mvx.get(&code.to_ascii_uppercase()))
    }

    /// Number of CVX codes known.
    pub fn cvx_count(&self) -> usize {
        self.cvx.len()
    }

    /// Number of MVX codes known.
    pub fn mvx_count(&self) -> usize {
        self.mvx.len()
    }
}
