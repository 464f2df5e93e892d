//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};

use super::schema::HealthStatus;
use crate::service::Registry;

/// The process is up and serving HTTP.
#[utoipa::path(
    get, path = "/health/live", tag = "Health", operation_id = "live",
    security(()),
    responses((status = 200, description = "Alive.", body = HealthStatus))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok".into(), database: None })
}

/// The server can serve requests: the database answers.
#[utoipa::path(
    get, path = "/health/ready", tag = "Health", operation_id = "ready",
    security(()),
    responses(
        (status = 200, description = "Ready.", body = HealthStatus),
        (status = 503, description = "The database does not answer.", body = HealthStatus),
    )
)]
#[get("/health/ready")]
pub async fn ready(registry: web::Data<Registry>) -> HttpResponse {
    let result = web::block(move || registry.check_ready()).await;
    match result {
        Ok(Ok(())) => HttpResponse::Ok().json(HealthStatus { status: "ok".into(), database: Some("ok".into()) }),
        Ok(Err(error)) => {
            tracing::warn!(error = ?error, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(HealthStatus { status: "unavailable".into(), database: Some("unavailable".into()) })
        }
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(HealthStatus { status: "unavailable".into(), database: Some("unknown".into()) }),
    }
}
