//! FHIR R4 glue, pure (no I/O): strict parsing, validation and search facts of resources,
//! search-parameter parsing, and the Bundle / OperationOutcome / CapabilityStatement builders.

pub mod bundle;
pub mod capability;
pub mod communication_request;
pub mod consent;
pub mod date;
pub mod directory;
pub mod forecast;
pub mod immunization;
pub mod outcome;
pub mod parse;
pub mod patient;
pub mod resource;
pub mod search;
pub mod sensitive;
pub mod text;
