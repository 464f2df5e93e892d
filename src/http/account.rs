//! `/api/v1` users: administrators create and deactivate them; everyone manages their own
//! account (profile, password, security questions).

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::{JsonBody, RoleCode, instant};
use super::auth::Caller;
use super::error::ApiError;
use super::schema;
use crate::service::Registry;
use crate::service::user::{self, NewUser};
use crate::store::identity::UserRow;

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserInput {
    /// Login name, unique within the organization (3 to 64 of letters, digits, . - _ @).
    #[schema(example = "jsmith", min_length = 3, max_length = 64)]
    pub username: String,
    /// Display name.
    #[schema(example = "Jordan Smith")]
    pub display_name: String,
    /// Email.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: RoleCode,
    /// Facility within the organization.
    pub facility_id: Option<String>,
    /// Initial password: at least 12 characters with upper, lower, digit and one of ~!@#$%^*()-_+={}[]/?.
    #[schema(format = "password", min_length = 12)]
    pub password: String,
}

/// A user (never the password or answers).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Id (`sub` of their tokens).
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Facility.
    pub facility_id: Option<String>,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: String,
    /// Active.
    pub active: bool,
    /// When the password was last set.
    #[schema(format = "date-time")]
    pub password_changed_at: String,
    /// Locked after failed logins until.
    #[schema(format = "date-time")]
    pub locked_until: Option<String>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            organization_id: row.organization_id,
            facility_id: row.facility_id,
            username: row.username,
            display_name: row.display_name,
            email: row.email,
            phone: row.phone,
            role: row.role,
            active: row.active,
            password_changed_at: instant(row.password_changed_at),
            locked_until: row.locked_until.map(instant),
        }
    }
}

/// Creates a user (the organization's administrator, or state staff).
#[utoipa::path(
    post, path = "/organizations/{organization_id}/users", tag = "Users", operation_id = "createUser",
    params(("organization_id" = String, Path, description = "Organization id.")),
    request_body(content = UserInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = User),
        (status = 400, description = "Invalid input; each broken password rule is listed.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not the organization's administrator.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such organization (or not yours).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "Username taken.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/organizations/{organization_id}/users")]
pub async fn create_user(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<UserInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let new = NewUser {
        username: input.username,
        display_name: input.display_name,
        email: input.email,
        phone: input.phone,
        role: input.role.into(),
        facility_id: input.facility_id,
        password: input.password,
    };
    let row = web::block(move || user::create(&registry, &caller.0, &path, new)).await??;
    Ok(HttpResponse::Created().json(User::from(row)))
}

/// The users of an organization (its administrators and state staff).
#[utoipa::path(
    get, path = "/organizations/{organization_id}/users", tag = "Users", operation_id = "listUsers",
    params(("organization_id" = String, Path, description = "Organization id.")),
    responses(
        (status = 200, description = "Users by username.", body = Vec<User>),
        (status = 404, description = "No such organization (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/organizations/{organization_id}/users")]
pub async fn list_users(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = web::block(move || user::list(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(User::from).collect::<Vec<_>>()))
}

/// One user.
#[utoipa::path(
    get, path = "/users/{user_id}", tag = "Users", operation_id = "readUser",
    params(("user_id" = String, Path, description = "User id.")),
    responses(
        (status = 200, description = "The user.", body = User),
        (status = 404, description = "No such user (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/users/{user_id}")]
pub async fn read_user(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = web::block(move || user::get(&registry, &caller.0, &path)).await??;
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// Deactivates a user: their tokens stop working on their next request.
#[utoipa::path(
    post, path = "/users/{user_id}/deactivate", tag = "Users", operation_id = "deactivateUser",
    params(("user_id" = String, Path, description = "User id.")),
    responses(
        (status = 200, description = "Deactivated.", body = User),
        (status = 404, description = "No such user (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "Your own account.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/users/{user_id}/deactivate")]
pub async fn deactivate_user(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = web::block(move || user::set_active(&registry, &caller.0, &path, false)).await??;
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// Reactivates a user.
#[utoipa::path(
    post, path = "/users/{user_id}/reactivate", tag = "Users", operation_id = "reactivateUser",
    params(("user_id" = String, Path, description = "User id.")),
    responses(
        (status = 200, description = "Active again.", body = User),
        (status = 404, description = "No such user (or not yours to manage).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/users/{user_id}/reactivate")]
pub async fn reactivate_user(
    registry: web::Data<Registry>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = web::block(move || user::set_active(&registry, &caller.0, &path, true)).await??;
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// The caller's own account.
#[utoipa::path(
    get, path = "/me", tag = "Users", operation_id = "readMyAccount",
    responses(
        (status = 200, description = "Your account.", body = User),
        (status = 403, description = "A registered system has no account.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[get("/me")]
pub async fn read_me(registry: web::Data<Registry>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let row = web::block(move || user::own_account(&registry, &caller.0)).await??;
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// Profile changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileInput {
    /// Display name.
    pub display_name: String,
    /// Email.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// Edits the caller's profile.
#[utoipa::path(
    put, path = "/me", tag = "Users", operation_id = "updateMyProfile",
    request_body(content = ProfileInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated.", body = User),
        (status = 400, description = "Invalid input.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[put("/me")]
pub async fn update_me(
    registry: web::Data<Registry>,
    caller: Caller,
    body: JsonBody<ProfileInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let row = web::block(move || {
        user::update_profile(&registry, &caller.0, &input.display_name, input.email.as_deref(), input.phone.as_deref())
    })
    .await??;
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordInput {
    /// The current password.
    #[schema(format = "password")]
    pub current_password: String,
    /// The new password.
    #[schema(format = "password", min_length = 12)]
    pub new_password: String,
}

/// Changes the caller's password.
#[utoipa::path(
    post, path = "/me/password", tag = "Users", operation_id = "changeMyPassword",
    request_body(content = PasswordInput, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed."),
        (status = 400, description = "Wrong current password, or the new one breaks the policy (each rule listed).", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[post("/me/password")]
pub async fn change_my_password(
    registry: web::Data<Registry>,
    caller: Caller,
    body: JsonBody<PasswordInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    web::block(move || user::change_own_password(&registry, &caller.0, &input.current_password, &input.new_password))
        .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// A security question and its answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityQuestion {
    /// The question.
    pub question: String,
    /// The answer (at least 5 characters; compared ignoring case).
    #[schema(min_length = 5)]
    pub answer: String,
}

/// The caller's security questions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityQuestionsInput {
    /// Exactly three.
    #[schema(min_items = 3, max_items = 3)]
    pub questions: Vec<SecurityQuestion>,
}

/// Sets the caller's three security questions (answers stored hashed).
#[utoipa::path(
    put, path = "/me/security-questions", tag = "Users", operation_id = "setMySecurityQuestions",
    request_body(content = SecurityQuestionsInput, content_type = "application/json"),
    responses(
        (status = 204, description = "Set."),
        (status = 400, description = "Not three questions, or an answer too short.", body = schema::OperationOutcome, content_type = "application/fhir+json"),
    )
)]
#[put("/me/security-questions")]
pub async fn set_my_security_questions(
    registry: web::Data<Registry>,
    caller: Caller,
    body: JsonBody<SecurityQuestionsInput>,
) -> Result<HttpResponse, ApiError> {
    let questions: Vec<(String, String)> = body.0.questions.into_iter().map(|q| (q.question, q.answer)).collect();
    web::block(move || user::set_security_questions(&registry, &caller.0, &questions)).await??;
    Ok(HttpResponse::NoContent().finish())
}
