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

use izreg::domain::access::{OrganizationKind, Principal, Role};
use izreg::http::fhir_io::HttpSettings;
use izreg::http::read_pool::ReadPool;
use izreg::service::Registry;
use izreg::service::session::{self, AuthSettings, PasswordLogin};
use izreg::store::DatabaseOptions;

/// The password every test user gets (meets the default policy).
pub const PASSWORD: &str = "Test-Password-2026";

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

/// Someone who can call the API: an organization, a user in it and a token.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Organization id.
    pub organization_id: String,
    /// Facility id, if the user works at one.
    pub facility_id: Option<String>,
    /// User id.
    pub user_id: String,
    /// Username (for logging in again).
    pub username: String,
    /// A valid access token.
    pub token: String,
}

/// The application on a fresh database.
pub struct TestApp {
    service: BoxedService,
    /// The registry behind the app (for direct service/store checks).
    pub registry: Arc<Registry>,
    /// The state administrator (health department).
    pub state: Actor,
    /// A clinician of an enrolled provider with an active agreement: the default caller.
    pub clinician: Actor,
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
        let registry = Registry::start(&options, &AuthSettings::default()).expect("registry starts");
        let settings = HttpSettings {
            max_body_bytes: TEST_MAX_BODY_BYTES,
            public_base_url: Some("http://izreg.test/fhir".into()),
            // Two threads: tests that send requests concurrently queue reads.
            read_pool: ReadPool::start(2).expect("read threads start"),
        };
        let service = test::init_service(izreg::startup::app(Arc::clone(&registry), settings)).await;
        let service = BoxedWrapper(service);
        let (organization, user) = izreg::service::user::bootstrap_state_admin(
            &registry,
            "Test Department of Health",
            "state.admin",
            "State Admin",
            PASSWORD,
        )
        .expect("bootstrap");
        let state = Actor {
            token: login(&registry, &organization.id, "state.admin"),
            organization_id: organization.id,
            facility_id: None,
            user_id: user.id,
            username: "state.admin".to_owned(),
        };
        let clinician = enrol_with(&registry, &state, "Test Clinic", OrganizationKind::Provider, Role::Clinician);
        TestApp { service: Box::new(service), registry, state, clinician, database }
    }

    /// Enrols another organization with an active agreement, a facility and one user of `role`.
    pub fn enrol(&self, name: &str, kind: OrganizationKind, role: Role) -> Actor {
        enrol_with(&self.registry, &self.state, name, kind, role)
    }

    /// Adds a user of `role` to an actor's organization and logs them in.
    pub fn add_user(&self, organization_id: &str, username: &str, role: Role) -> Actor {
        add_user_with(&self.registry, &self.state, organization_id, None, username, role)
    }

    /// The principal behind a token (for calling services directly).
    pub fn principal(&self, actor: &Actor) -> Principal {
        (*session::authenticate(&self.registry, Some(&actor.token), &|| "test".to_owned()).expect("valid token"))
            .clone()
    }

    /// Runs raw SQL on the write path (to move dates, or to tamper as an attacker would) and
    /// returns the rows affected.
    pub fn execute_sql(&self, sql: String) -> usize {
        use diesel::RunQueryDsl;
        self.registry
            .database()
            .write(move |conn| -> Result<usize, izreg::store::StoreError> { Ok(diesel::sql_query(sql).execute(conn)?) })
            .expect("SQL runs")
    }

    /// Runs a `SELECT COUNT(*) AS n ...` on the read path and returns `n`.
    pub fn count_sql(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = sql.to_owned();
        self.registry
            .database()
            .read(move |conn| -> Result<i64, izreg::store::StoreError> {
                Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
            })
            .expect("SQL runs")
    }

    /// Waits until every queued audit record is written.
    pub fn flush_audit(&self) {
        self.registry.audit().flush();
    }

    /// Sends a request as the default clinician (unless it carries its own Authorization).
    pub async fn send(&self, request: TestRequest) -> TestResponse {
        let token = self.clinician.token.clone();
        self.send_with(Some(&token), request).await
    }

    /// Sends a request as `actor`.
    pub async fn send_as(&self, actor: &Actor, request: TestRequest) -> TestResponse {
        self.send_with(Some(&actor.token), request).await
    }

    /// Sends a request without any token.
    pub async fn send_anonymous(&self, request: TestRequest) -> TestResponse {
        self.send_with(None, request).await
    }

    async fn send_with(&self, token: Option<&str>, request: TestRequest) -> TestResponse {
        let mut request = request.to_request();
        if let Some(token) = token
            && !actix_web::HttpMessage::headers(&request).contains_key("authorization")
        {
            let value = actix_web::http::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
            request.headers_mut().insert(actix_web::http::header::AUTHORIZATION, value);
        }
        let response = test::call_service(&self.service, request).await;
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

/// Logs a user in through the service and returns the token.
pub fn login(registry: &Registry, organization_id: &str, username: &str) -> String {
    login_with_scope(registry, organization_id, username, None).access_token
}

/// Logs a user in asking for `scope` (the role may narrow it further); the whole grant.
pub fn login_with_scope(
    registry: &Registry,
    organization_id: &str,
    username: &str,
    scope: Option<&str>,
) -> session::TokenGrant {
    session::login(
        registry,
        PasswordLogin {
            organization: organization_id.to_owned(),
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
            scope: scope.map(str::to_owned),
        },
    )
    .expect("login")
}

/// A request carrying `token` as its bearer token.
pub fn with_bearer(request: TestRequest, token: &str) -> TestRequest {
    request.insert_header(("authorization", format!("Bearer {token}")))
}

fn enrol_with(registry: &Registry, state: &Actor, name: &str, kind: OrganizationKind, role: Role) -> Actor {
    use izreg::service::agreement::{self, AgreementContacts, Contact};
    use izreg::service::organization::{self, NewFacility, NewOrganization};
    let admin = session::authenticate(registry, Some(&state.token), &|| "test".to_owned()).expect("state token");
    let org = organization::create(
        registry,
        &admin,
        NewOrganization { name: name.to_owned(), kind, phone: None, email: None },
    )
    .expect("organization");
    let facility = organization::enrol_facilities(
        registry,
        &admin,
        &org.id,
        vec![NewFacility { name: format!("{name} Main"), ..NewFacility::default() }],
        1,
    )
    .expect("facility")
    .remove(0);
    let contact = |who: &str| Contact {
        name: format!("{who} of {name}"),
        title: Some("Director".to_owned()),
        phone: Some("612-555-0100".to_owned()),
        email: format!("{}@example.org", who.to_lowercase()),
    };
    let contacts = AgreementContacts {
        authorized_representative: contact("Representative"),
        administrator: contact("Administrator"),
        record_contact: contact("Records"),
        it_contact: contact("IT"),
    };
    let draft = agreement::create(registry, &admin, &org.id, contacts, None).expect("agreement");
    agreement::activate(
        registry,
        &admin,
        &draft.row.id,
        &izreg::domain::agreement::format_date(izreg::domain::agreement::today()),
    )
    .expect("activation");
    add_user_with(registry, state, &org.id, Some(facility.id), &format!("{}.user", role.as_str()), role)
}

fn add_user_with(
    registry: &Registry,
    state: &Actor,
    organization_id: &str,
    facility_id: Option<String>,
    username: &str,
    role: Role,
) -> Actor {
    let admin = session::authenticate(registry, Some(&state.token), &|| "test".to_owned()).expect("state token");
    let user = izreg::service::user::create(
        registry,
        &admin,
        organization_id,
        izreg::service::user::NewUser {
            username: username.to_owned(),
            display_name: format!("Test {username}"),
            email: None,
            phone: None,
            role,
            facility_id: facility_id.clone(),
            password: PASSWORD.to_owned(),
        },
    )
    .expect("user");
    Actor {
        token: login(registry, organization_id, username),
        organization_id: organization_id.to_owned(),
        facility_id,
        user_id: user.id,
        username: username.to_owned(),
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
