//! FHIR over HTTP: request bodies (media type, size, JSON), query parameters, `Prefer`,
//! `If-Match`, the base URL, content negotiation and resource responses.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::Value;

use super::error::{ApiError, FHIR_JSON, outcome_response};
use crate::domain::ids::VersionId;
use crate::domain::resource::{ResourceType, StoredResource};
use crate::fhir::bundle::last_modified_header;
use crate::fhir::outcome::{Issue, IssueType};
use crate::fhir::parse::parse_json;
use crate::service::ServiceError;

/// Settings the HTTP layer needs on every request.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// Configured public FHIR base URL, if any.
    pub public_base_url: Option<String>,
    /// The threads that run read-only database calls (see `read_pool`).
    pub read_pool: super::read_pool::ReadPool,
}

/// The body limit when the application was built without settings.
const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

fn settings(req: &HttpRequest) -> Option<&HttpSettings> {
    req.app_data::<web::Data<HttpSettings>>().map(|settings| settings.get_ref())
}

fn max_body_bytes(req: &HttpRequest) -> usize {
    settings(req).map_or(DEFAULT_MAX_BODY_BYTES, |settings| settings.max_body_bytes)
}

/// The FHIR base URL for links: configured, or derived from the request.
pub fn fhir_base(req: &HttpRequest) -> String {
    match settings(req).and_then(|settings| settings.public_base_url.as_deref()) {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}/fhir", info.scheme(), info.host())
        }
    }
}

/// The query string as (name, value) pairs, repeated names kept.
pub fn query_params(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

fn is_json_media_type(media_type: &str) -> bool {
    matches!(media_type, "application/fhir+json" | "application/json" | "application/json+fhir")
}

/// Reads the whole body, refusing more than `limit` bytes (413).
async fn read_body(req: &HttpRequest, mut payload: Payload, limit: usize) -> Result<BytesMut, ApiError> {
    let too_large = || {
        ApiError::http(
            StatusCode::PAYLOAD_TOO_LARGE,
            IssueType::TooLong,
            format!("The request body is larger than the {limit} bytes this server accepts."),
        )
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(8 * 1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::http(StatusCode::BAD_REQUEST, IssueType::Structure, "The request body could not be read.")
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A FHIR JSON request body, parsed as JSON (not yet as a resource).
#[derive(Debug)]
pub struct FhirJson(pub Value);

impl FromRequest for FhirJson {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            match media_type(&req) {
                Some(media) if is_json_media_type(&media) => {}
                _ => {
                    return Err(ApiError::http(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        IssueType::NotSupported,
                        "Send the resource as application/fhir+json (application/json is accepted too).",
                    ));
                }
            }
            let limit = max_body_bytes(&req);
            let body = read_body(&req, payload, limit).await?;
            let value = parse_json(&body).map_err(|r| ApiError::Service(ServiceError::Rejected(r)))?;
            Ok(FhirJson(value))
        })
    }
}

/// Search parameters sent as an `application/x-www-form-urlencoded` body (`POST _search`),
/// merged after those of the query string.
#[derive(Debug)]
pub struct SearchForm(pub Vec<(String, String)>);

impl FromRequest for SearchForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let mut params = query_params(&req);
            match media_type(&req).as_deref() {
                Some("application/x-www-form-urlencoded") => {}
                None => return Ok(SearchForm(params)),
                Some(_) => {
                    return Err(ApiError::http(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        IssueType::NotSupported,
                        "POST _search takes application/x-www-form-urlencoded parameters.",
                    ));
                }
            }
            let limit = max_body_bytes(&req);
            let body = read_body(&req, payload, limit).await?;
            params.extend(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
            Ok(SearchForm(params))
        })
    }
}

/// What `Prefer: return=` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPreference {
    /// The resource (default).
    Representation,
    /// No body.
    Minimal,
    /// An OperationOutcome.
    OperationOutcome,
}

/// The `Prefer` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefer {
    /// `return=`.
    pub return_preference: ReturnPreference,
    /// `handling=lenient`.
    pub lenient: bool,
}

/// Parses `Prefer` (several comma- or semicolon-separated preferences; unknown ones ignored,
/// as RFC 7240 says).
pub fn prefer(req: &HttpRequest) -> Prefer {
    let mut prefer = Prefer { return_preference: ReturnPreference::Representation, lenient: false };
    for value in req.headers().get_all("prefer").filter_map(|v| v.to_str().ok()) {
        for token in value.split([',', ';']).map(str::trim) {
            match token {
                "return=minimal" => prefer.return_preference = ReturnPreference::Minimal,
                "return=representation" => prefer.return_preference = ReturnPreference::Representation,
                "return=OperationOutcome" => prefer.return_preference = ReturnPreference::OperationOutcome,
                "handling=lenient" => prefer.lenient = true,
                "handling=strict" => prefer.lenient = false,
                _ => {}
            }
        }
    }
    prefer
}

/// Parses `If-Match: W/"3"`. A malformed value is a 400, not a silent unconditional update.
pub fn if_match(req: &HttpRequest) -> Result<Option<VersionId>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    value.to_str().ok().and_then(crate::service::bundle::parse_if_match).map(Some).ok_or_else(|| {
        ApiError::http(StatusCode::BAD_REQUEST, IssueType::Value, "If-Match must be a version ETag such as W/\"1\".")
    })
}

/// The `If-None-Exist` header, if any.
pub fn if_none_exist(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    match req.headers().get("if-none-exist") {
        None => Ok(None),
        Some(value) => value.to_str().map(|v| Some(v.to_owned())).map_err(|_| {
            ApiError::http(StatusCode::BAD_REQUEST, IssueType::Value, "If-None-Exist must be a plain search query.")
        }),
    }
}

/// A JSON body with the FHIR media type.
pub fn fhir_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))).body(body)
}

/// A resource response: `ETag`, `Last-Modified`, optionally `Location`, and the body the
/// `Prefer` header asks for.
pub fn resource_response(
    status: StatusCode,
    resource_type: ResourceType,
    resource: StoredResource,
    base_url: &str,
    with_location: bool,
    return_preference: ReturnPreference,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, format!("W/\"{}\"", resource.version_id)));
    response.insert_header((header::LAST_MODIFIED, last_modified_header(resource.last_updated)));
    if with_location {
        response.insert_header((
            header::LOCATION,
            format!("{base_url}/{resource_type}/{}/_history/{}", resource.id, resource.version_id),
        ));
    }
    match return_preference {
        ReturnPreference::Representation => {
            response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))).body(resource.json)
        }
        ReturnPreference::Minimal => response.finish(),
        ReturnPreference::OperationOutcome => {
            let message = format!("{resource_type}/{} version {} stored.", resource.id, resource.version_id);
            let outcome = crate::fhir::outcome::operation_outcome(&[Issue::information(message)]);
            response
                .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)))
                .body(outcome.to_string())
        }
    }
}

/// Refuses (406) requests whose `Accept` header excludes JSON; `_format=json` overrides it.
pub async fn negotiate_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let format = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "_format")
        .map(|(_, v)| v.into_owned());
    let acceptable = match format {
        Some(_) => true,
        None => {
            req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).all(accepts_json)
                || req.headers().get(header::ACCEPT).is_none()
        }
    };
    if acceptable {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let response = outcome_response(
        StatusCode::NOT_ACCEPTABLE,
        &[Issue::error(IssueType::NotSupported, "This server answers in application/fhir+json only.")],
    );
    Ok(req.into_response(response).map_into_right_body())
}

fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let media = range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        matches!(media.as_str(), "*/*" | "application/*" | "") || is_json_media_type(&media)
    })
}

/// A searchset Bundle of resources computed on request (no paging): `total`, the `self` link
/// with the accepted parameters, and no `entry` when there is none (FHIR JSON has no empty
/// arrays).
pub fn computed_searchset(
    req: &HttpRequest,
    resource_type: &str,
    link_params: &[(String, String)],
    resources: Vec<Value>,
) -> HttpResponse {
    let base = fhir_base(req);
    let self_link = crate::service::resource::search_link(&base, resource_type, link_params, None);
    let total = resources.len();
    let mut bundle = crate::fhir::directory::searchset(&base, &self_link, None, resources);
    bundle["total"] = serde_json::json!(total);
    if total == 0
        && let Some(object) = bundle.as_object_mut()
    {
        object.remove("entry");
    }
    fhir_response(StatusCode::OK, bundle.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_matching() {
        assert!(accepts_json("application/fhir+json"));
        assert!(accepts_json("text/html, */*;q=0.8"));
        assert!(accepts_json("application/json; charset=utf-8"));
        assert!(!accepts_json("application/fhir+xml"));
        assert!(!accepts_json("text/html"));
    }
}
