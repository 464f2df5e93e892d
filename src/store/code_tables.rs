//! The CVX and MVX code tables: loaded from the CSV files shipped in `data/codes/` (AIRA code
//! base extracts of the CDC tables) into the database at migrate time, and read back into
//! memory at start for validation. Codes already in the database are left as they are, so an
//! administrator's later corrections survive upgrades.

use std::collections::HashSet;

use diesel::prelude::*;

use super::schema::{cvx_code, mvx_code};
use super::{DbConnection, INSERT_CHUNK_ROWS, StoreError, insert_many};
use crate::domain::codes::{CodeTables, CvxCode, MvxCode};

const CVX_CSV: &str = include_str!("../../data/codes/aira-cvx.csv");
const MVX_CSV: &str = include_str!("../../data/codes/aira-mvx.csv");

#[derive(Insertable, Queryable)]
#[diesel(table_name = cvx_code)]
struct CvxRow {
    code: String,
    label: String,
    status: String,
    vaccine_group: Option<String>,
}

#[derive(Insertable, Queryable)]
#[diesel(table_name = mvx_code)]
struct MvxRow {
    code: String,
    label: String,
    status: String,
}

#[derive(serde::Deserialize)]
struct CsvCode {
    code: String,
    label: String,
    status: String,
    #[serde(default)]
    vaccine_group: Option<String>,
}

fn parse_csv(text: &str) -> Result<Vec<CsvCode>, StoreError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    reader
        .deserialize::<CsvCode>()
        .map(|row| row.map_err(|e| StoreError::Corrupt(format!("embedded code table: {e}"))))
        .filter(|row| row.as_ref().map_or(true, |r| !r.code.trim().is_empty()))
        .collect()
}

/// Inserts the shipped codes the database does not have yet. Returns how many were added.
pub fn load_shipped_codes(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let known_cvx: HashSet<String> = cvx_code::table.select(cvx_code::code).load::<String>(conn)?.into_iter().collect();
    let new_cvx: Vec<CvxRow> = parse_csv(CVX_CSV)?
        .into_iter()
        .filter(|c| !known_cvx.contains(c.code.trim()))
        .map(|c| CvxRow {
            code: c.code.trim().to_owned(),
            label: c.label,
            status: c.status,
            vaccine_group: c.vaccine_group.filter(|g| !g.trim().is_empty()),
        })
        .collect();
    let known_mvx: HashSet<String> = mvx_code::table.select(mvx_code::code).load::<String>(conn)?.into_iter().collect();
    let new_mvx: Vec<MvxRow> = parse_csv(MVX_CSV)?
        .into_iter()
        .filter(|m| !known_mvx.contains(m.code.trim()))
        .map(|m| MvxRow { code: m.code.trim().to_owned(), label: m.label, status: m.status })
        .collect();
    for chunk in new_cvx.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, cvx_code::table, chunk)?;
    }
    for chunk in new_mvx.chunks(INSERT_CHUNK_ROWS) {
        insert_many!(conn, mvx_code::table, chunk)?;
    }
    Ok(new_cvx.len() + new_mvx.len())
}

/// Reads both tables into memory.
pub fn load(conn: &mut DbConnection) -> Result<CodeTables, StoreError> {
    let cvx = cvx_code::table
        .load::<CvxRow>(conn)?
        .into_iter()
        .map(|r| CvxCode { code: r.code, label: r.label, status: r.status, vaccine_group: r.vaccine_group })
        .collect();
    let mvx = mvx_code::table
        .load::<MvxRow>(conn)?
        .into_iter()
        .map(|r| MvxCode { code: r.code, label: r.label, status: r.status })
        .collect();
    Ok(CodeTables::new(cvx, mvx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_tables_parse_and_hold_the_common_codes() {
        let cvx = parse_csv(CVX_CSV).unwrap();
        let mvx = parse_csv(MVX_CSV).unwrap();
        assert!(cvx.len() > 250, "CVX rows: {}", cvx.len());
        assert!(mvx.len() > 80, "MVX rows: {}", mvx.len());
        assert!(cvx.iter().any(|c| c.code == "03"), "MMR (03) present");
        assert!(cvx.iter().any(|c| c.code == "20"), "DTaP (20) present");
        assert!(mvx.iter().any(|m| m.code == "MSD"), "Merck (MSD) present");
    }
}
