//! The OpenAPI document: metadata here, paths and schemas collected from the routes by
//! utoipa-actix-web (so the served spec cannot drift from the routes).

use utoipa::OpenApi;

/// Top-level OpenAPI metadata.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "izreg",
        description = "An immunization information system (IIS) with a FHIR R4 (4.0.1) API: Patient and Immunization \
                       with read, vread, create (conditional), update (If-Match), delete, history, search with \
                       keyset paging, and transaction/batch Bundles; organizations, facilities, data use agreements, \
                       users and registered systems under /api/v1. Every request but health, metadata, discovery and \
                       the token endpoint needs an ES256 access token from POST /auth/token (SMART v2 scopes). \
                       Every error is a FHIR OperationOutcome (the token endpoint answers OAuth2 error bodies).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerSecurity),
    security(("bearer" = [])),
    tags(
        (name = "Auth", description = "Tokens (password and SMART Backend Services), logout, keys, SMART discovery."),
        (name = "Organizations", description = "Organizations, their facilities and registered systems."),
        (name = "Agreements", description = "Data use agreements: three-year terms, renewal, termination, expiry report."),
        (name = "Users", description = "Users, roles, and managing one's own account."),
        (name = "Directory", description = "FHIR Organization, Location and AuditEvent (read and search; views of the registry's records)."),
        (name = "Patient", description = "People the registry holds immunizations for."),
        (name = "Privacy", description = "A person's choices under state law: opt out, lock the record to a provider, decline reminders. Enforced on every read, search and submission."),
        (name = "Immunization", description = "Vaccine administrations (CVX/MVX coded)."),
        (name = "Forecast", description = "Immunization forecasting with the CDC CDSi logic: the HL7 ImmDS $immds-forecast operation and the computed ImmunizationRecommendation."),
        (name = "Outreach", description = "Reminder / recall runs (background jobs with JSON, CSV and PDF letters), vaccine-lot recall and outbreak lists, and which organization serves a person. Opt-out, locks and declined reminders are honoured; every list is audited."),
        (name = "System", description = "CapabilityStatement and transaction/batch."),
        (name = "Health", description = "Probes for orchestrators."),
    )
)]
pub struct ApiDoc;

/// Declares the bearer token scheme every protected operation requires.
struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An ES256 access token from POST /auth/token."))
                    .build(),
            ),
        );
    }
}

/// The whole spec, built from the same route registration the server uses.
pub fn spec() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::configure)
        .split_for_parts();
    finish(spec)
}

/// Completes the collected spec: every operation that needs a token documents the 401 it
/// answers without one (written once here instead of on every handler).
pub fn finish(mut spec: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let unauthorized = ResponseBuilder::new()
        .description("No valid access token (missing, malformed, bad signature, wrong algorithm, unknown key, expired, revoked, or the account deactivated).")
        .header("WWW-Authenticate", utoipa::openapi::header::Header::new(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).build()))
        .content(
            "application/fhir+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("OperationOutcome"))).build(),
        )
        .build();
    for item in spec.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten() {
            let public = operation.security.as_ref().is_some_and(|requirements| {
                requirements
                    .iter()
                    .all(|r| serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty())))
            });
            if !public && !operation.responses.responses.contains_key("401") {
                operation.responses.responses.insert("401".to_owned(), RefOr::T(unauthorized.clone()));
            }
        }
    }
    spec
}

/// The spec as pretty JSON (what `izreg openapi` prints and `openapi/openapi.json` holds).
pub fn spec_json() -> Result<String, serde_json::Error> {
    let mut json = spec().to_pretty_json()?;
    json.push('\n');
    Ok(json)
}
