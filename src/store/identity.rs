//! The identity tables: organizations, facilities, agreements and their notices, users and their
//! security answers, registered systems.

use diesel::prelude::*;

use super::schema::{agreement, agreement_notice, app_user, client, facility, organization, security_answer};
use super::{DbConnection, StoreError};

/// An organization row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organization)]
#[diesel(treat_none_as_default_value = false)]
pub struct OrganizationRow {
    /// Id.
    pub id: String,
    /// Name (unique).
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// The health department that runs the registry (needs no agreement).
    pub operator: bool,
    /// Active.
    pub active: bool,
    /// Created (micros).
    pub created_at: i64,
    /// Updated (micros).
    pub updated_at: i64,
}

/// A facility row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = facility)]
#[diesel(treat_none_as_default_value = false)]
pub struct FacilityRow {
    /// Id.
    pub id: String,
    /// Owning organization.
    pub organization_id: String,
    /// Name (unique within the organization).
    pub name: String,
    /// The state's site code (e.g. VFC PIN).
    pub site_code: Option<String>,
    /// Street address.
    pub address_line: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Active.
    pub active: bool,
    /// Created (micros).
    pub created_at: i64,
    /// Updated (micros).
    pub updated_at: i64,
}

/// An agreement row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agreement)]
#[diesel(treat_none_as_null = true)]
pub struct AgreementRow {
    /// Id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// pending, active, terminated.
    pub status: String,
    /// Date signed.
    pub signed_on: Option<String>,
    /// First day of the term.
    pub starts_on: Option<String>,
    /// Last day of the term.
    pub ends_on: Option<String>,
    /// Contacts (JSON).
    pub contacts_json: String,
    /// The authorized representative's email (notices go there).
    pub representative_email: String,
    /// The agreement this one renews.
    pub renews_agreement_id: Option<String>,
    /// When notice of termination was given.
    pub termination_notice_on: Option<String>,
    /// When the termination takes effect (access ends after this day).
    pub terminated_on: Option<String>,
    /// Who asked for the termination (organization or state).
    pub termination_requested_by: Option<String>,
    /// Why.
    pub termination_reason: Option<String>,
    /// Created (micros).
    pub created_at: i64,
    /// Updated (micros).
    pub updated_at: i64,
}

/// A user row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_user)]
#[diesel(treat_none_as_default_value = false)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Facility.
    pub facility_id: Option<String>,
    /// Login name as entered.
    pub username: String,
    /// Lower-cased login name.
    pub username_norm: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role code.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the password was set (micros).
    pub password_changed_at: i64,
    /// Failed logins in a row.
    pub failed_logins: i32,
    /// Locked until (micros).
    pub locked_until: Option<i64>,
    /// Active.
    pub active: bool,
    /// Tokens issued before this are refused (micros).
    pub tokens_valid_after: i64,
    /// Created (micros).
    pub created_at: i64,
    /// Updated (micros).
    pub updated_at: i64,
}

/// A registered system row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = client)]
#[diesel(treat_none_as_default_value = false)]
pub struct ClientRow {
    /// Client id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Facility.
    pub facility_id: Option<String>,
    /// Name.
    pub name: String,
    /// Role code.
    pub role: String,
    /// Pre-authorized scopes.
    pub allowed_scopes: String,
    /// Public keys (JWKS JSON).
    pub jwks_json: String,
    /// Active.
    pub active: bool,
    /// Tokens issued before this are refused (micros).
    pub tokens_valid_after: i64,
    /// Created (micros).
    pub created_at: i64,
    /// Updated (micros).
    pub updated_at: i64,
}

/// An outbox row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agreement_notice)]
#[diesel(treat_none_as_default_value = false)]
pub struct NoticeRow {
    /// Id.
    pub id: String,
    /// Agreement.
    pub agreement_id: String,
    /// 90, 60, 30 or 7.
    pub days_before: i32,
    /// Email address.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Queued (micros).
    pub queued_at: i64,
    /// Sent (micros).
    pub sent_at: Option<i64>,
    /// Delivery attempts.
    pub attempts: i32,
    /// The last delivery error.
    pub last_error: Option<String>,
}

// ---- organizations and facilities ----

/// Inserts an organization.
pub fn insert_organization(conn: &mut DbConnection, row: &OrganizationRow) -> Result<(), StoreError> {
    diesel::insert_into(organization::table).values(row).execute(conn)?;
    Ok(())
}

/// An organization by id.
pub fn organization(conn: &mut DbConnection, id: &str) -> Result<Option<OrganizationRow>, StoreError> {
    Ok(organization::table.find(id).select(OrganizationRow::as_select()).get_result(conn).optional()?)
}

/// Whether an organization with this name exists.
pub fn organization_name_taken(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(organization::table.filter(organization::name.eq(name)))).get_result(conn)?)
}

/// Organizations, by name, at most `limit`; only `only` when given.
pub fn organizations(
    conn: &mut DbConnection,
    only: Option<&str>,
    limit: i64,
) -> Result<Vec<OrganizationRow>, StoreError> {
    let mut query =
        organization::table.select(OrganizationRow::as_select()).order(organization::name).limit(limit).into_boxed();
    if let Some(id) = only {
        query = query.filter(organization::id.eq(id.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Inserts facilities.
pub fn insert_facilities(conn: &mut DbConnection, rows: &[FacilityRow]) -> Result<(), StoreError> {
    for row in rows {
        diesel::insert_into(facility::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// A facility by id.
pub fn facility(conn: &mut DbConnection, id: &str) -> Result<Option<FacilityRow>, StoreError> {
    Ok(facility::table.find(id).select(FacilityRow::as_select()).get_result(conn).optional()?)
}

/// The facilities of an organization, by name.
pub fn facilities_of(conn: &mut DbConnection, organization_id: &str) -> Result<Vec<FacilityRow>, StoreError> {
    Ok(facility::table
        .filter(facility::organization_id.eq(organization_id))
        .select(FacilityRow::as_select())
        .order(facility::name)
        .load(conn)?)
}

// ---- agreements ----

/// Inserts an agreement.
pub fn insert_agreement(conn: &mut DbConnection, row: &AgreementRow) -> Result<(), StoreError> {
    diesel::insert_into(agreement::table).values(row).execute(conn)?;
    Ok(())
}

/// Saves every column of an agreement.
pub fn save_agreement(conn: &mut DbConnection, row: &AgreementRow) -> Result<(), StoreError> {
    diesel::update(agreement::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}

/// An agreement by id.
pub fn agreement(conn: &mut DbConnection, id: &str) -> Result<Option<AgreementRow>, StoreError> {
    Ok(agreement::table.find(id).select(AgreementRow::as_select()).get_result(conn).optional()?)
}

/// The agreements of an organization, newest term first.
pub fn agreements_of(conn: &mut DbConnection, organization_id: &str) -> Result<Vec<AgreementRow>, StoreError> {
    Ok(agreement::table
        .filter(agreement::organization_id.eq(organization_id))
        .select(AgreementRow::as_select())
        .order((agreement::starts_on.desc(), agreement::created_at.desc()))
        .load(conn)?)
}

/// Active agreements whose term ends in `[from, to]` (dates as `YYYY-MM-DD`), soonest first.
pub fn active_agreements_ending_between(
    conn: &mut DbConnection,
    from: &str,
    to: &str,
) -> Result<Vec<AgreementRow>, StoreError> {
    Ok(agreement::table
        .filter(agreement::status.eq("active"))
        .filter(agreement::ends_on.ge(from))
        .filter(agreement::ends_on.le(to))
        .select(AgreementRow::as_select())
        .order((agreement::ends_on, agreement::id))
        .load(conn)?)
}

/// The ids of the agreements that a signed (active) renewal renews, among `agreement_ids`: one
/// query for a whole report instead of one per agreement.
pub fn renewed_among(
    conn: &mut DbConnection,
    agreement_ids: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut renewed = std::collections::HashSet::new();
    // Bounded IN lists (SQLite's bind-parameter limit).
    for chunk in agreement_ids.chunks(super::INSERT_CHUNK_ROWS) {
        let ids: Vec<Option<String>> = agreement::table
            .filter(agreement::status.eq("active"))
            .filter(agreement::renews_agreement_id.eq_any(chunk))
            .select(agreement::renews_agreement_id)
            .load(conn)?;
        renewed.extend(ids.into_iter().flatten());
    }
    Ok(renewed)
}

/// Queues a notice unless one for the same agreement and reminder exists. Returns whether it
/// was queued.
pub fn queue_notice(conn: &mut DbConnection, row: &NoticeRow) -> Result<bool, StoreError> {
    let exists = diesel::select(diesel::dsl::exists(
        agreement_notice::table
            .filter(agreement_notice::agreement_id.eq(&row.agreement_id))
            .filter(agreement_notice::days_before.eq(row.days_before)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(agreement_notice::table).values(row).execute(conn)?;
    Ok(true)
}

/// Notices not sent yet, oldest first.
pub fn unsent_notices(conn: &mut DbConnection, limit: i64) -> Result<Vec<NoticeRow>, StoreError> {
    Ok(agreement_notice::table
        .filter(agreement_notice::sent_at.is_null())
        .select(NoticeRow::as_select())
        .order((agreement_notice::queued_at, agreement_notice::id))
        .limit(limit)
        .load(conn)?)
}

/// Every notice of an agreement.
pub fn notices_of(conn: &mut DbConnection, agreement_id: &str) -> Result<Vec<NoticeRow>, StoreError> {
    Ok(agreement_notice::table
        .filter(agreement_notice::agreement_id.eq(agreement_id))
        .select(NoticeRow::as_select())
        .order(agreement_notice::days_before.desc())
        .load(conn)?)
}

/// Records a delivery attempt.
pub fn mark_notice(
    conn: &mut DbConnection,
    id: &str,
    sent_at: Option<i64>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(agreement_notice::table.find(id))
        .set((
            agreement_notice::sent_at.eq(sent_at),
            agreement_notice::attempts.eq(agreement_notice::attempts + 1),
            agreement_notice::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- users ----

/// Inserts a user.
pub fn insert_user(conn: &mut DbConnection, row: &UserRow) -> Result<(), StoreError> {
    diesel::insert_into(app_user::table).values(row).execute(conn)?;
    Ok(())
}

/// A user by id.
pub fn user(conn: &mut DbConnection, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(app_user::table.find(id).select(UserRow::as_select()).get_result(conn).optional()?)
}

/// A user by organization and (lower-cased) username.
pub fn user_by_login(
    conn: &mut DbConnection,
    organization_id: &str,
    username_norm: &str,
) -> Result<Option<UserRow>, StoreError> {
    Ok(app_user::table
        .filter(app_user::organization_id.eq(organization_id))
        .filter(app_user::username_norm.eq(username_norm))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The users of an organization, by username.
pub fn users_of(conn: &mut DbConnection, organization_id: &str) -> Result<Vec<UserRow>, StoreError> {
    Ok(app_user::table
        .filter(app_user::organization_id.eq(organization_id))
        .select(UserRow::as_select())
        .order(app_user::username_norm)
        .load(conn)?)
}

/// Whether any user exists (bootstrap only works on an empty registry).
pub fn any_user(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(app_user::table.select(app_user::id))).get_result(conn)?)
}

/// Records a failed login; locks the account until `lock_until` when given.
pub fn record_failed_login(
    conn: &mut DbConnection,
    id: &str,
    failures: i32,
    lock_until: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    diesel::update(app_user::table.find(id))
        .set((
            app_user::failed_logins.eq(failures),
            app_user::locked_until.eq(lock_until),
            app_user::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Clears the failure count after a good login.
pub fn record_good_login(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::update(app_user::table.find(id))
        .set((app_user::failed_logins.eq(0), app_user::locked_until.eq(None::<i64>)))
        .execute(conn)?;
    Ok(())
}

/// Sets a new password hash.
pub fn set_password(conn: &mut DbConnection, id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
    diesel::update(app_user::table.find(id))
        .set((
            app_user::password_hash.eq(hash),
            app_user::password_changed_at.eq(now),
            app_user::failed_logins.eq(0),
            app_user::locked_until.eq(None::<i64>),
            app_user::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Activates or deactivates a user; deactivation also ends every session.
pub fn set_user_active(conn: &mut DbConnection, id: &str, active: bool, now: i64) -> Result<(), StoreError> {
    if active {
        diesel::update(app_user::table.find(id))
            .set((app_user::active.eq(true), app_user::updated_at.eq(now)))
            .execute(conn)?;
    } else {
        diesel::update(app_user::table.find(id))
            .set((app_user::active.eq(false), app_user::tokens_valid_after.eq(now), app_user::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Updates a user's profile.
pub fn set_user_profile(
    conn: &mut DbConnection,
    id: &str,
    display_name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    diesel::update(app_user::table.find(id))
        .set((
            app_user::display_name.eq(display_name),
            app_user::email.eq(email),
            app_user::phone.eq(phone),
            app_user::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces a user's security questions.
pub fn set_security_answers(
    conn: &mut DbConnection,
    user_id: &str,
    answers: &[(String, String)],
) -> Result<(), StoreError> {
    diesel::delete(security_answer::table.filter(security_answer::user_id.eq(user_id))).execute(conn)?;
    for (position, (question, answer_hash)) in answers.iter().enumerate() {
        diesel::insert_into(security_answer::table)
            .values((
                security_answer::user_id.eq(user_id),
                security_answer::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                security_answer::question.eq(question),
                security_answer::answer_hash.eq(answer_hash),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A user's security questions and answer hashes, in order.
pub fn security_answers(conn: &mut DbConnection, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
    Ok(security_answer::table
        .filter(security_answer::user_id.eq(user_id))
        .order(security_answer::position)
        .select((security_answer::question, security_answer::answer_hash))
        .load(conn)?)
}

// ---- systems ----

/// Inserts a registered system.
pub fn insert_client(conn: &mut DbConnection, row: &ClientRow) -> Result<(), StoreError> {
    diesel::insert_into(client::table).values(row).execute(conn)?;
    Ok(())
}

/// A registered system by client id.
pub fn client(conn: &mut DbConnection, id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(client::table.find(id).select(ClientRow::as_select()).get_result(conn).optional()?)
}

/// The registered systems of an organization.
pub fn clients_of(conn: &mut DbConnection, organization_id: &str) -> Result<Vec<ClientRow>, StoreError> {
    Ok(client::table
        .filter(client::organization_id.eq(organization_id))
        .select(ClientRow::as_select())
        .order(client::name)
        .load(conn)?)
}

/// Activates or deactivates a registered system (deactivation ends its tokens).
pub fn set_client_active(conn: &mut DbConnection, id: &str, active: bool, now: i64) -> Result<(), StoreError> {
    diesel::update(client::table.find(id))
        .set((client::active.eq(active), client::tokens_valid_after.eq(now), client::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

// ---- directory searches (FHIR Organization and Location) ----

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends for ASCII.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

fn like_prefix(prefix: &str) -> String {
    let escaped = prefix.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{escaped}%")
}

/// What an organization search filters on.
#[derive(Debug, Clone, Default)]
pub struct OrganizationQuery {
    /// Only this id.
    pub id: Option<String>,
    /// Name starts with (case-insensitive).
    pub name_prefix: Option<String>,
    /// Kind code.
    pub kind: Option<String>,
    /// Active flag.
    pub active: Option<bool>,
    /// Keyset: ids after this.
    pub after_id: Option<String>,
}

/// Organizations matching the query, by id, at most `limit`.
pub fn search_organizations(
    conn: &mut DbConnection,
    query: &OrganizationQuery,
    limit: i64,
) -> Result<Vec<OrganizationRow>, StoreError> {
    let mut sql = organization::table.select(OrganizationRow::as_select()).into_boxed();
    if let Some(id) = &query.id {
        sql = sql.filter(organization::id.eq(id.clone()));
    }
    if let Some(prefix) = &query.name_prefix {
        sql = sql.filter(lower(organization::name).like(like_prefix(prefix)).escape('\\'));
    }
    if let Some(kind) = &query.kind {
        sql = sql.filter(organization::kind.eq(kind.clone()));
    }
    if let Some(active) = query.active {
        sql = sql.filter(organization::active.eq(active));
    }
    if let Some(after) = &query.after_id {
        sql = sql.filter(organization::id.gt(after.clone()));
    }
    Ok(sql.order(organization::id).limit(limit).load(conn)?)
}

/// What a facility search filters on.
#[derive(Debug, Clone, Default)]
pub struct FacilityQuery {
    /// Only this id.
    pub id: Option<String>,
    /// Managing organization.
    pub organization_id: Option<String>,
    /// Name starts with (case-insensitive).
    pub name_prefix: Option<String>,
    /// Site code.
    pub site_code: Option<String>,
    /// ZIP starts with.
    pub postal_code_prefix: Option<String>,
    /// Keyset: ids after this.
    pub after_id: Option<String>,
}

/// Facilities matching the query, by id, at most `limit`.
pub fn search_facilities(
    conn: &mut DbConnection,
    query: &FacilityQuery,
    limit: i64,
) -> Result<Vec<FacilityRow>, StoreError> {
    let mut sql = facility::table.select(FacilityRow::as_select()).into_boxed();
    if let Some(id) = &query.id {
        sql = sql.filter(facility::id.eq(id.clone()));
    }
    if let Some(organization_id) = &query.organization_id {
        sql = sql.filter(facility::organization_id.eq(organization_id.clone()));
    }
    if let Some(prefix) = &query.name_prefix {
        sql = sql.filter(lower(facility::name).like(like_prefix(prefix)).escape('\\'));
    }
    if let Some(code) = &query.site_code {
        sql = sql.filter(facility::site_code.eq(code.clone()));
    }
    if let Some(prefix) = &query.postal_code_prefix {
        sql = sql.filter(facility::postal_code.like(like_prefix(prefix)).escape('\\'));
    }
    if let Some(after) = &query.after_id {
        sql = sql.filter(facility::id.gt(after.clone()));
    }
    Ok(sql.order(facility::id).limit(limit).load(conn)?)
}
