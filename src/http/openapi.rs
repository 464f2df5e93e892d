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
                       keyset paging, and transaction/batch Bundles. Every error is a FHIR OperationOutcome.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "Patient", description = "People the registry holds immunizations for."),
        (name = "Immunization", description = "Vaccine administrations (CVX/MVX coded)."),
        (name = "System", description = "CapabilityStatement and transaction/batch."),
        (name = "Health", description = "Probes for orchestrators."),
    )
)]
pub struct ApiDoc;

/// The whole spec, built from the same route registration the server uses.
pub fn spec() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::configure)
        .split_for_parts();
    spec
}

/// The spec as pretty JSON (what `izreg openapi` prints and `openapi/openapi.json` holds).
pub fn spec_json() -> Result<String, serde_json::Error> {
    let mut json = spec().to_pretty_json()?;
    json.push('\n');
    Ok(json)
}
