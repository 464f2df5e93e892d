//! Handlers for the FHIR interactions on a resource type. The bodies are written once, generic
//! over [`ResourceKind`]; [`resource_endpoints!`] stamps out the per-type routes, because each
//! route needs its own literal path and operationId in the OpenAPI contract.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::Caller;
use super::error::ApiError;
use super::fhir_io::{
    FhirJson, fhir_base, fhir_response, if_match, if_none_exist, prefer, query_params, resource_response,
};
use super::read_pool::block_read;
use crate::fhir::bundle::history as history_bundle;
use crate::service::Registry;
use crate::service::kind::ResourceKind;
use crate::service::resource::{self, CreateOutcome, search_link, searchset_json};

/// `POST /{type}`.
pub async fn create<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    body: FhirJson,
) -> Result<HttpResponse, ApiError> {
    let prefer = prefer(&req);
    let condition = if_none_exist(&req)?.map(|q| resource::parse_condition::<K>(&q)).transpose()?;
    let base = fhir_base(&req);
    let outcome = web::block(move || resource::create::<K>(&registry, &caller.0, &body.0, condition)).await??;
    Ok(match outcome {
        CreateOutcome::Created(stored) => {
            resource_response(StatusCode::CREATED, K::TYPE, stored, &base, true, prefer.return_preference)
        }
        CreateOutcome::Existing(stored) => {
            resource_response(StatusCode::OK, K::TYPE, stored, &base, false, prefer.return_preference)
        }
    })
}

/// `GET /{type}/{id}`.
pub async fn read<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // A read answers no Location, so it needs no base URL (computing one costs a formatted
    // connection-info lookup per request).
    // A read by id is one indexed row fetch: when a connection is free, doing it here saves the
    // hand-off to the blocking pool (a large share of the cost of a read on two cores).
    let stored = match resource::read_if_connection_free::<K>(&registry, &caller.0, &id) {
        Some(result) => result?,
        None => block_read(&req, move || resource::read::<K>(&registry, &caller.0, &id)).await??,
    };
    Ok(resource_response(StatusCode::OK, K::TYPE, stored, "", false, super::fhir_io::ReturnPreference::Representation))
}

/// `GET /{type}/{id}/_history/{version_id}`.
pub async fn vread<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let base = fhir_base(&req);
    let (id, version) = path.into_inner();
    let stored = block_read(&req, move || resource::vread::<K>(&registry, &caller.0, &id, &version)).await??;
    Ok(resource_response(
        StatusCode::OK,
        K::TYPE,
        stored,
        &base,
        false,
        super::fhir_io::ReturnPreference::Representation,
    ))
}

/// `PUT /{type}/{id}`.
pub async fn update<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: FhirJson,
) -> Result<HttpResponse, ApiError> {
    let prefer = prefer(&req);
    let if_match = if_match(&req)?;
    let base = fhir_base(&req);
    let stored = web::block(move || resource::update::<K>(&registry, &caller.0, &id, &body.0, if_match)).await??;
    Ok(resource_response(StatusCode::OK, K::TYPE, stored, &base, true, prefer.return_preference))
}

/// `DELETE /{type}/{id}`.
pub async fn delete<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = web::block(move || resource::delete::<K>(&registry, &caller.0, &id)).await??;
    let mut response = HttpResponse::NoContent();
    if let resource::DeleteOutcome::Deleted(version) = outcome {
        response.insert_header((actix_web::http::header::ETAG, format!("W/\"{version}\"")));
    }
    Ok(response.finish())
}

/// `GET /{type}/{id}/_history` (`id` given) or `GET /{type}/_history`.
pub async fn history<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    id: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(&req);
    let lenient = prefer(&req).lenient;
    let base = fhir_base(&req);
    let path = match &id {
        Some(id) => format!("{}/{id}/_history", K::TYPE),
        None => format!("{}/_history", K::TYPE),
    };
    let page = block_read(&req, move || resource::history::<K>(&registry, &caller.0, id.as_deref(), &params, lenient))
        .await??;
    let self_link = search_link(&base, &path, &page.link_params, None);
    let next_link = page.next_cursor.as_deref().map(|c| search_link(&base, &path, &page.link_params, Some(c)));
    let json = history_bundle(&base, K::TYPE, &page.entries, &self_link, next_link.as_deref()).map_err(|e| {
        ApiError::Service(crate::service::ServiceError::Store(crate::store::StoreError::Corrupt(e.to_string())))
    })?;
    Ok(fhir_response(StatusCode::OK, json))
}

/// `GET /{type}?...` and `POST /{type}/_search`.
pub async fn search<K: ResourceKind>(
    registry: web::Data<Registry>,
    caller: Caller,
    req: HttpRequest,
    params: Vec<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let lenient = prefer(&req).lenient;
    let base = fhir_base(&req);
    let json = block_read(&req, move || -> Result<String, crate::service::ServiceError> {
        let result = resource::search::<K>(&registry, &caller.0, &params, lenient)?;
        searchset_json(&base, K::TYPE, &result)
    })
    .await??;
    Ok(fhir_response(StatusCode::OK, json))
}

/// Generates the documented routes of one resource type and a `configure` function that
/// registers them in an order where fixed segments (`_history`, `_search`) win over `{id}`.
macro_rules! resource_endpoints {
    (
        kind: $kind:ty,
        tag: $tag:tt,
        schema: $schema:ty,
        search_params: $search_params:ty,
        type_path: $type_path:tt,
        search_path: $search_path:tt,
        type_history_path: $type_history_path:tt,
        instance_path: $instance_path:tt,
        instance_history_path: $instance_history_path:tt,
        version_path: $version_path:tt,
        operation_ids: [$create_op:tt, $search_op:tt, $search_post_op:tt, $type_history_op:tt, $read_op:tt,
                        $vread_op:tt, $update_op:tt, $delete_op:tt, $instance_history_op:tt] $(,)?
    ) => {
        use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};

        use $crate::http::auth::Caller;
        use $crate::http::error::ApiError;
        use $crate::http::fhir_io::{FhirJson, SearchForm};
        use $crate::http::schema;
        use $crate::service::Registry;

        /// Creates a resource; the server assigns the id. With `If-None-Exist`, returns the
        /// one existing match instead (200), or 412 when several match.
        #[utoipa::path(
            post, path = $type_path, tag = $tag, operation_id = $create_op,
            params(
                ("If-None-Exist" = Option<String>, Header, description = "Conditional create: a search query (e.g. identifier=urn:mrn|123). 0 matches: create; 1: return it (200); more: 412."),
                ("Prefer" = Option<String>, Header, description = "return=representation (default), return=minimal or return=OperationOutcome."),
            ),
            request_body(content = $schema, content_type = "application/fhir+json", description = "The resource to create (application/json is accepted too)."),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 201, description = "Created.", body = $schema, content_type = "application/fhir+json",
                    headers(("Location" = String, description = "URL of the new version."), ("ETag" = String, description = "W/\"1\""), ("Last-Modified" = String, description = "When it was stored."))),
                (status = 200, description = "If-None-Exist matched one existing resource; nothing was created.", body = $schema, content_type = "application/fhir+json"),
                (status = 400, description = "Malformed JSON, wrong resourceType, unknown element, missing required element, bad date.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 412, description = "If-None-Exist matched more than one resource.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 413, description = "Body too large.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 415, description = "Not application/fhir+json.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 422, description = "Breaks a registry rule: unknown CVX/MVX code, future date, dose before birth, missing Patient.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[post($type_path)]
        pub async fn create(registry: web::Data<Registry>, caller: Caller, req: HttpRequest, body: FhirJson) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::create::<$kind>(registry, caller, req, body).await
        }

        /// Searches (GET). Results come in pages linked by `next`.
        #[utoipa::path(
            get, path = $type_path, tag = $tag, operation_id = $search_op,
            params($search_params, ("Prefer" = Option<String>, Header, description = "handling=lenient ignores unknown parameters instead of answering 400.")),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "A searchset Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
                (status = 400, description = "Unknown parameter or modifier, malformed value, or a cursor not issued for this search.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[get($type_path)]
        pub async fn search(registry: web::Data<Registry>, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
            let params = $crate::http::fhir_io::query_params(&req);
            $crate::http::resource::search::<$kind>(registry, caller, req, params).await
        }

        /// Searches (POST): the same parameters as a form body (keeps them out of URLs and logs).
        #[utoipa::path(
            post, path = $search_path, tag = $tag, operation_id = $search_post_op,
            params(("Prefer" = Option<String>, Header, description = "handling=lenient ignores unknown parameters.")),
            request_body(content = $search_params, content_type = "application/x-www-form-urlencoded", description = "Search parameters, as for GET."),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "A searchset Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
                (status = 400, description = "Invalid search.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 415, description = "Not a form body.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[post($search_path)]
        pub async fn search_post(registry: web::Data<Registry>, caller: Caller, req: HttpRequest, form: SearchForm) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::search::<$kind>(registry, caller, req, form.0).await
        }

        /// History of every resource of this type, newest first.
        #[utoipa::path(
            get, path = $type_history_path, tag = $tag, operation_id = $type_history_op,
            params(schema::HistoryParams),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "A history Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
                (status = 400, description = "Invalid parameter.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[get($type_history_path)]
        pub async fn type_history(registry: web::Data<Registry>, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::history::<$kind>(registry, caller, req, None).await
        }

        /// Reads the current version.
        #[utoipa::path(
            get, path = $instance_path, tag = $tag, operation_id = $read_op,
            params(("id" = String, Path, description = "Logical id.")),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "The resource.", body = $schema, content_type = "application/fhir+json",
                    headers(("ETag" = String, description = "W/\"<version>\""), ("Last-Modified" = String, description = "When the version was stored."))),
                (status = 404, description = "No such resource.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 410, description = "The resource was deleted.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[get($instance_path)]
        pub async fn read(registry: web::Data<Registry>, caller: Caller, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::read::<$kind>(registry, caller, req, id).await
        }

        /// Reads one version.
        #[utoipa::path(
            get, path = $version_path, tag = $tag, operation_id = $vread_op,
            params(("id" = String, Path, description = "Logical id."), ("version_id" = String, Path, description = "Version id (meta.versionId).")),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "That version.", body = $schema, content_type = "application/fhir+json"),
                (status = 404, description = "No such resource or version.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 410, description = "That version is the deletion.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[get($version_path)]
        pub async fn vread(registry: web::Data<Registry>, caller: Caller, req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::vread::<$kind>(registry, caller, req, path).await
        }

        /// Replaces the current version. The body's id must equal the URL's. `If-Match` makes
        /// the update conditional on the version the client read (412 when stale).
        #[utoipa::path(
            put, path = $instance_path, tag = $tag, operation_id = $update_op,
            params(
                ("id" = String, Path, description = "Logical id."),
                ("If-Match" = Option<String>, Header, description = "W/\"<version>\": update only if this is still the current version."),
                ("Prefer" = Option<String>, Header, description = "return=representation (default), return=minimal or return=OperationOutcome."),
            ),
            request_body(content = $schema, content_type = "application/fhir+json", description = "The new version (with the same id)."),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "Updated.", body = $schema, content_type = "application/fhir+json",
                    headers(("Location" = String, description = "URL of the new version."), ("ETag" = String, description = "W/\"<version>\""))),
                (status = 400, description = "Malformed resource, or the body id does not match the URL.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 404, description = "No such resource (create with POST).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 412, description = "If-Match names a version that is no longer current.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 413, description = "Body too large.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 415, description = "Not application/fhir+json.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 422, description = "Breaks a registry rule.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[put($instance_path)]
        pub async fn update(registry: web::Data<Registry>, caller: Caller, req: HttpRequest, id: web::Path<String>, body: FhirJson) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::update::<$kind>(registry, caller, req, id, body).await
        }

        /// Deletes the resource (its history is kept; reads then answer 410).
        #[utoipa::path(
            delete, path = $instance_path, tag = $tag, operation_id = $delete_op,
            params(("id" = String, Path, description = "Logical id.")),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 204, description = "Deleted (or already deleted)."),
                (status = 404, description = "No such resource.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 409, description = "Other resources still depend on it (a Patient with immunizations).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[delete($instance_path)]
        pub async fn delete(registry: web::Data<Registry>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::delete::<$kind>(registry, caller, id).await
        }

        /// History of one resource, newest version first.
        #[utoipa::path(
            get, path = $instance_history_path, tag = $tag, operation_id = $instance_history_op,
            params(("id" = String, Path, description = "Logical id."), schema::HistoryParams),
            responses(
                (status = 403, description = "The role or the token's scopes do not allow this, or the organization's data use agreement is not active.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 200, description = "A history Bundle.", body = schema::Bundle, content_type = "application/fhir+json"),
                (status = 400, description = "Invalid parameter.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
                (status = 404, description = "No such resource.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
            )
        )]
        #[get($instance_history_path)]
        pub async fn instance_history(registry: web::Data<Registry>, caller: Caller, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
            $crate::http::resource::history::<$kind>(registry, caller, req, Some(id.into_inner())).await
        }

        /// Registers the routes, fixed segments before `{id}`.
        pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
            // Static paths first (`_search` and `_history` must not be taken for an id), then
            // the one-segment instance path (the hot read: `{id}` never spans a `/`, so it cannot
            // shadow the history paths), then the longer ones: each dynamic path tried before
            // the right one costs a regex match.
            config
                .service(search_post)
                .service(type_history)
                .service(create)
                .service(search)
                .service(read)
                .service(update)
                .service(delete)
                .service(instance_history)
                .service(vread);
        }
    };
}
pub(crate) use resource_endpoints;
