//! Outreach: reminder / recall runs (background jobs), vaccine-lot recall and outbreak lists, and
//! organizations marking the people they no longer serve. Who may do what is decided in
//! `service::access`; what is due in `crate::outreach::due`; how to reach a person in
//! `crate::outreach::contact`.

pub mod communication_request;
pub mod lists;
mod population;
pub mod provider_status;
pub mod reminder_run;

pub use reminder_run::RunQueue;
