//! HTTP: actix-web handlers, extractors, OpenAPI annotations, status/error mapping, content
//! types. No SQL and no policy here: a handler extracts, calls one service function off the
//! async worker (diesel is blocking: reads on the read threads of `read_pool`, everything else
//! inside `web::block`) and maps the result.

pub mod account;
pub mod admin;
pub mod agreement;
pub mod auth;
pub mod communication_request;
pub mod consent;
pub mod directory;
pub mod error;
pub mod fhir_io;
pub mod forecast;
pub mod forecast_schema;
pub mod health;
pub mod immunization;
pub mod openapi;
pub mod outreach_list;
pub mod outreach_schema;
pub mod patient;
pub mod privacy;
pub mod read_pool;
pub mod reminder_run;
pub mod resource;
pub mod schema;
pub mod system;

use actix_web::middleware::from_fn;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every documented route.
pub fn configure(config: &mut ServiceConfig<'_>) {
    // The hot FHIR routes first: actix tries routes in order, and every dynamic route tried
    // before the right one costs a regex match.
    config.service(
        scope::scope("/fhir")
            .wrap(from_fn(fhir_io::negotiate_json))
            .service(system::metadata)
            .configure(patient::configure)
            .configure(immunization::configure)
            .configure(forecast::configure)
            .configure(consent::configure)
            .service(communication_request::read_communication_request)
            .service(communication_request::search_communication_requests)
            .service(system::transaction)
            .service(auth::smart_configuration)
            .service(directory::read_organization)
            .service(directory::search_organizations)
            .service(directory::read_location)
            .service(directory::search_locations)
            .service(directory::read_audit_event)
            .service(directory::search_audit_events),
    );
    config.service(
        scope::scope("/api/v1")
            .service(admin::create_organization)
            .service(admin::list_organizations)
            .service(admin::read_organization)
            .service(admin::enrol_facilities)
            .service(admin::create_facility)
            .service(admin::list_facilities)
            .service(admin::register_client)
            .service(admin::list_clients)
            .service(admin::deactivate_client)
            .service(agreement::expiring_agreements)
            .service(agreement::create_agreement)
            .service(agreement::list_agreements)
            .service(agreement::read_agreement)
            .service(agreement::activate_agreement)
            .service(agreement::terminate_agreement)
            .service(agreement::agreement_notices)
            .service(account::create_user)
            .service(account::list_users)
            .service(account::read_me)
            .service(account::update_me)
            .service(account::change_my_password)
            .service(account::set_my_security_questions)
            .service(account::read_user)
            .service(account::deactivate_user)
            .service(account::reactivate_user)
            .service(privacy::read_privacy)
            .service(privacy::change_privacy)
            .service(outreach_list::read_provider_status)
            .service(outreach_list::change_provider_status)
            .service(reminder_run::request_reminder_run)
            .service(reminder_run::list_reminder_runs)
            .service(reminder_run::read_reminder_run)
            .service(reminder_run::delete_reminder_run)
            .service(reminder_run::list_reminder_notices)
            .service(reminder_run::download_reminder_notices_csv)
            .service(reminder_run::download_reminder_letters)
            .service(reminder_run::mark_reminder_notices_sent)
            .service(outreach_list::lot_recall_list)
            .service(outreach_list::outbreak_list),
    );
    config
        .service(health::live)
        .service(health::ready)
        .service(auth::token)
        .service(auth::logout)
        .service(auth::change_password)
        .service(auth::reset_password)
        .service(auth::jwks);
}
