//! HTTP: actix-web handlers, extractors, OpenAPI annotations, status/error mapping, content
//! types. No SQL and no policy here: a handler extracts, calls one service function inside
//! `web::block` (diesel is blocking) and maps the result.

pub mod error;
pub mod fhir_io;
pub mod health;
pub mod immunization;
pub mod openapi;
pub mod patient;
pub mod resource;
pub mod schema;
pub mod system;

use actix_web::middleware::from_fn;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every documented route.
pub fn configure(config: &mut ServiceConfig<'_>) {
    config.service(health::live).service(health::ready).service(
        scope::scope("/fhir")
            .wrap(from_fn(fhir_io::negotiate_json))
            .service(system::metadata)
            .service(system::transaction)
            .configure(patient::configure)
            .configure(immunization::configure),
    );
}
