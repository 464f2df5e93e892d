//! Test harness: every test gets a fresh database and the real application (`startup::app`).
//!
//! `IZREG_TEST_DATABASE=postgres` runs against PostgreSQL (a new database per test, dropped
//! afterwards; server from `IZREG_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432`); anything else uses a temporary SQLite file.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{Value, json};

use izreg::http::fhir_io::HttpSettings;
use izreg::service::Registry;
use izreg::store::DatabaseOptions;

/// A database that exists for one test.
pub struct TestDatabase {
    /// Connection URL.
    pub url: String,
    sqlite_dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates a fresh, empty database of the backend the environment selects.
    pub fn new() -> Self {
        if std::env::var("IZREG_TEST_DATABASE").as_deref() == Ok("postgres") {
            let server = std::env::var("IZREG_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
            let server = server.trim_end_matches('/').to_owned();
            let name = format!("izreg_test_{}", uuid::Uuid::new_v4().simple());
            let admin_url = format!("{server}/postgres");
            let mut admin = PgConnection::establish(&admin_url).expect("connect to the PostgreSQL server");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create a test database");
            TestDatabase { url: format!("{server}/{name}"), sqlite_dir: None, postgres: Some((admin_url, name)) }
        } else {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = dir.path().join("izreg-test.db").to_string_lossy().into_owned();
            TestDatabase { url, sqlite_dir: Some(dir), postgres: None }
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// A response, read completely.
#[derive(Debug)]
pub struct TestResponse {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as JSON (panics when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(self.status.as_u16(), expected, "unexpected status; body: {}", String::from_utf8_lossy(&self.body));
        self
    }

    /// The first OperationOutcome issue (code, expression).
    pub fn first_issue(&self) -> (String, Option<String>) {
        let body = self.json();
        assert_eq!(body["resourceType"], "OperationOutcome", "expected an OperationOutcome: {body}");
        let issue = &body["issue"][0];
        (issue["code"].as_str().unwrap_or_default().to_owned(), issue["expression"][0].as_str().map(str::to_owned))
    }
}

type BoxedService = Box<
    dyn Service<
            actix_http::Request,
            Response = ServiceResponse<BoxBody>,
            Error = actix_web::Error,
            Future = std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>>,
            >,
        >,
>;

/// The application on a fresh database.
pub struct TestApp {
    service: BoxedService,
    /// The registry behind the app (for direct service/store checks).
    pub registry: Arc<Registry>,
    /// The database (dropped last).
    pub database: TestDatabase,
}

/// Settings used by tests: small body limit so 413 is cheap to provoke.
pub const TEST_MAX_BODY_BYTES: usize = 256 * 1024;

impl TestApp {
    /// Starts the real application on a fresh database.
    pub async fn spawn() -> Self {
        let database = TestDatabase::new();
        let options = DatabaseOptions { url: database.url.clone(), pool_size: 4 };
        let registry = Registry::start(&options).expect("registry starts");
        let settings = HttpSettings {
            max_body_bytes: TEST_MAX_BODY_BYTES,
            public_base_url: Some("http://izreg.test/fhir".into()),
        };
        let service = test::init_service(izreg::startup::app(Arc::clone(&registry), settings)).await;
        let service = BoxedWrapper(service);
        TestApp { service: Box::new(service), registry, database }
    }

    /// Sends a request.
    pub async fn send(&self, request: TestRequest) -> TestResponse {
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        TestResponse { status, headers, body }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(TestRequest::get().uri(path)).await
    }

    /// POST FHIR JSON.
    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(
            TestRequest::post()
                .uri(path)
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(body.to_string()),
        )
        .await
    }

    /// PUT FHIR JSON.
    pub async fn put(&self, path: &str, body: &Value) -> TestResponse {
        self.send(
            TestRequest::put()
                .uri(path)
                .insert_header(("content-type", "application/fhir+json"))
                .set_payload(body.to_string()),
        )
        .await
    }

    /// DELETE a path.
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(TestRequest::delete().uri(path)).await
    }

    /// Creates a Patient and returns its id.
    pub async fn create_patient(&self, patient: &Value) -> String {
        let response = self.post("/fhir/Patient", patient).await;
        response.assert_status(201);
        response.json()["id"].as_str().expect("id").to_owned()
    }

    /// Creates an Immunization and returns its id.
    pub async fn create_immunization(&self, immunization: &Value) -> String {
        let response = self.post("/fhir/Immunization", immunization).await;
        response.assert_status(201);
        response.json()["id"].as_str().expect("id").to_owned()
    }
}

/// Adapts the app's service to boxed bodies and futures so `TestApp` has one concrete type.
struct BoxedWrapper<S>(S);

impl<S, B> Service<actix_http::Request> for BoxedWrapper<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>>>;

    fn poll_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, request: actix_http::Request) -> Self::Future {
        let future = self.0.call(request);
        Box::pin(async move { future.await.map(ServiceResponse::map_into_boxed_body) })
    }
}

/// A valid Patient.
pub fn patient(family: &str, given: &str, birth_date: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:izreg:test:mrn", "value": format!("{family}-{given}-{birth_date}")}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "female",
        "birthDate": birth_date,
        "address": [{"line": ["1 Main St"], "city": "Saint Paul", "state": "MN", "postalCode": "55101"}]
    })
}

/// A valid Immunization for a Patient.
pub fn immunization(patient_id: &str, cvx: &str, date: &str) -> Value {
    json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": cvx}]},
        "patient": {"reference": format!("Patient/{patient_id}")},
        "occurrenceDateTime": date,
        "primarySource": true,
        "manufacturer": {"identifier": {"system": "http://hl7.org/fhir/sid/mvx", "value": "MSD"}},
        "lotNumber": "LOT-1234"
    })
}
