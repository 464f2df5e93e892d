//! Outreach rules, pure (no I/O): which vaccine groups a forecast makes due or overdue for a
//! reminder / recall run, how to reach a person from their Patient record, and the CSV and PDF
//! renderings of a run's notices. The service layer feeds them stored records.

pub mod contact;
pub mod csv;
pub mod due;
pub mod letters;
