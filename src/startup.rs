//! Builds the application from settings. `main` and the tests both use it, so tests run the
//! real app.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::http::fhir_io::HttpSettings;
use crate::http::{self, openapi::ApiDoc};
use crate::service::{Registry, ServiceError};
use crate::store::{Backend, DatabaseOptions};

/// How long in-flight requests get to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error("could not open the database: {0}")]
    Database(#[from] ServiceError),
    /// The address could not be bound.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the server failed: {0}")]
    Run(std::io::Error),
}

/// The HTTP settings derived from the full settings.
pub fn http_settings(settings: &Settings) -> std::io::Result<HttpSettings> {
    let read_threads = match settings.read_threads {
        0 => http::read_pool::default_read_threads(Backend::from_url(&settings.database_url), settings.pool_size),
        configured => configured,
    };
    Ok(HttpSettings {
        max_body_bytes: settings.max_body_bytes,
        public_base_url: settings.public_base_url.clone(),
        read_pool: http::read_pool::ReadPool::start(read_threads)?,
    })
}

/// The database options derived from the full settings.
pub fn database_options(settings: &Settings) -> DatabaseOptions {
    DatabaseOptions { url: settings.database_url.clone(), pool_size: settings.pool_size }
}

/// The complete application: every route, the docs UI at `/docs`, the spec at `/openapi.json`,
/// request logging, and OperationOutcome 404s for unknown routes.
pub fn app(
    registry: Arc<Registry>,
    http_settings: HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(web::Data::from(registry))
        .app_data(web::Data::new(http_settings))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            // Typed query strings (the /api/v1 reports) answer like everything else.
            http::error::ApiError::http(
                actix_web::http::StatusCode::BAD_REQUEST,
                crate::fhir::outcome::IssueType::Invalid,
                format!("Invalid query: {error}."),
            )
            .into()
        }))
        .configure(http::configure)
        .split_for_parts();
    let spec = http::openapi::finish(spec);
    app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec))
        .default_service(web::to(http::error::no_route))
        .wrap(from_fn(head_as_get))
        .wrap(from_fn(log_request))
}

/// Answers HEAD like GET (RFC 9110 requires both); the HTTP layer sends headers only.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// Logs method, path (never the query: it may hold names and birth dates), status and time.
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    // The method as sent (`head_as_get` changes HEAD); the path is read back from the response's
    // request, so that nothing is copied for a line that is not logged.
    let method = req.method().clone();
    let response = next.call(req).await?;
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let path = response.request().path();
    if status >= 500 {
        tracing::warn!(%method, path, status, micros, "request");
    } else {
        tracing::debug!(%method, path, status, micros, "request");
    }
    Ok(response)
}

/// The background job that queues due agreement reminders and delivers the outbox.
struct NoticeJob {
    stop: Option<std::sync::mpsc::Sender<()>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl NoticeJob {
    fn start(registry: Arc<Registry>, settings: crate::notify::NoticeSettings) -> Self {
        if settings.interval_minutes == 0 {
            return NoticeJob { stop: None, worker: None };
        }
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let interval = Duration::from_secs(u64::from(settings.interval_minutes) * 60);
        let worker = std::thread::Builder::new()
            .name("izreg-notices".to_owned())
            .spawn(move || {
                loop {
                    let today = crate::domain::agreement::today();
                    match crate::service::agreement::queue_expiry_notices(&registry, today).and_then(|queued| {
                        Ok((queued, crate::service::agreement::deliver_notices(&registry, &settings)?))
                    }) {
                        Ok((queued, report)) if queued + report.sent + report.failed > 0 => {
                            tracing::info!(queued, sent = report.sent, failed = report.failed, "agreement notices");
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(error = %error, "agreement notices round failed"),
                    }
                    if !matches!(stopped.recv_timeout(interval), Err(std::sync::mpsc::RecvTimeoutError::Timeout)) {
                        return;
                    }
                }
            })
            .map_err(|error| tracing::warn!(error = %error, "cannot start the agreement notices job"))
            .ok();
        NoticeJob { stop: Some(stop), worker }
    }

    fn stop(mut self) {
        drop(self.stop.take());
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            tracing::warn!("the agreement notices job panicked");
        }
    }
}

/// Opens the registry and serves until SIGTERM/SIGINT, then drains in-flight requests.
pub async fn serve(settings: Settings) -> Result<(), StartupError> {
    let options = database_options(&settings);
    let auth = settings.auth.clone();
    let registry = web::block(move || Registry::start(&options, &auth))
        .await
        .map_err(|_| StartupError::Run(std::io::Error::other("start-up was interrupted")))??;
    let http_settings = http_settings(&settings).map_err(StartupError::Run)?;
    let server_registry = Arc::clone(&registry);
    let mut server = HttpServer::new(move || app(Arc::clone(&server_registry), http_settings.clone()))
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs());
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    let server =
        server.bind(&settings.bind).map_err(|source| StartupError::Bind { address: settings.bind.clone(), source })?;
    tracing::info!(address = %settings.bind, backend = ?registry.database().backend(), "izreg is listening");
    let notices = NoticeJob::start(Arc::clone(&registry), settings.notices.clone());
    server.run().await.map_err(StartupError::Run)?;
    notices.stop();
    tracing::info!("stopped; flushing the audit trail and the database");
    registry.audit().close();
    drop(registry);
    Ok(())
}
