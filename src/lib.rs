//! izreg: an immunization information system (IIS) with a FHIR R4 API.
//!
//! Layers (see `ARCHITECTURE.md`): `http` -> `service` -> `store`, with the pure `fhir` and
//! `domain` modules shared by all. `startup` builds the app for `main` and for the tests.

pub mod auth;
pub mod config;
pub mod domain;
pub mod fhir;
pub mod forecast;
pub mod http;
pub mod notify;
pub mod outreach;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
