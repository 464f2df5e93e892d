//! Organizations and their facilities, including bulk enrolment of facilities from the
//! "facilities spreadsheet" (CSV): validated row by row, all or nothing.

use super::audit::AuditRecord;
use super::{Registry, ServiceError, access};
use crate::domain::access::{OrganizationKind, Principal};
use crate::domain::time::Timestamp;
use crate::fhir::outcome::{Issue, IssueType};
use crate::store::identity::{self, FacilityRow, OrganizationRow};

/// Most facilities one spreadsheet may enrol.
pub const MAX_FACILITY_ROWS: usize = 5_000;

/// What state staff submit to enrol an organization.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Name (unique).
    pub name: String,
    /// Kind.
    pub kind: OrganizationKind,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// A facility to enrol.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct NewFacility {
    /// Name (unique within the organization).
    pub name: String,
    /// The state's site code (e.g. a VFC PIN).
    #[serde(default)]
    pub site_code: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address_line: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State (two letters).
    #[serde(default)]
    pub state: Option<String>,
    /// ZIP code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

fn not_found() -> ServiceError {
    ServiceError::NotFoundNamed("No organization with this id.".to_owned())
}

/// Enrols an organization (state staff).
pub fn create(
    registry: &Registry,
    principal: &Principal,
    new: NewOrganization,
) -> Result<OrganizationRow, ServiceError> {
    if !principal.is_state_admin() {
        return Err(ServiceError::Forbidden("Only state staff enrol organizations.".to_owned()));
    }
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServiceError::invalid("name", "An organization needs a name (at most 200 characters)."));
    }
    if new.email.as_deref().is_some_and(|e| !super::agreement::looks_like_email(e)) {
        return Err(ServiceError::invalid("email", "The email address is not valid."));
    }
    let now = Timestamp::now().micros();
    let row = OrganizationRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        kind: new.kind.as_str().to_owned(),
        phone: new.phone,
        email: new.email,
        operator: false,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let mut record = AuditRecord::by(principal, "organization-create").on("Organization");
    record.resource_ids = vec![row.id.clone()];
    registry.database().write(move |conn| -> Result<OrganizationRow, ServiceError> {
        if identity::organization_name_taken(conn, &row.name)? {
            return Err(ServiceError::Conflict(Issue::at(
                IssueType::Duplicate,
                "name",
                "An organization with this name is enrolled already.",
            )));
        }
        identity::insert_organization(conn, &row)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(row)
    })
}

/// One organization (state staff: any; others: their own).
pub fn get(registry: &Registry, principal: &Principal, organization_id: &str) -> Result<OrganizationRow, ServiceError> {
    if !access::may_view_organization(principal, organization_id) {
        return Err(not_found());
    }
    registry.database().read(|conn| identity::organization(conn, organization_id))?.ok_or_else(not_found)
}

/// Organizations the caller may see (state staff: all, up to 1000; others: their own).
pub fn list(registry: &Registry, principal: &Principal) -> Result<Vec<OrganizationRow>, ServiceError> {
    let only = (!principal.is_state_admin()).then_some(principal.organization_id.as_str());
    Ok(registry.database().read(|conn| identity::organizations(conn, only, 1000))?)
}

/// The facilities of an organization.
pub fn facilities(
    registry: &Registry,
    principal: &Principal,
    organization_id: &str,
) -> Result<Vec<FacilityRow>, ServiceError> {
    if !access::may_view_organization(principal, organization_id) {
        return Err(not_found());
    }
    Ok(registry.database().read(|conn| identity::facilities_of(conn, organization_id))?)
}

/// One facility.
pub fn facility(registry: &Registry, principal: &Principal, facility_id: &str) -> Result<FacilityRow, ServiceError> {
    let missing = || ServiceError::NotFoundNamed("No facility with this id.".to_owned());
    let row = registry.database().read(|conn| identity::facility(conn, facility_id))?.ok_or_else(missing)?;
    if access::may_view_organization(principal, &row.organization_id) { Ok(row) } else { Err(missing()) }
}

/// One row's problems, for the per-row error report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based row number (the header is row 1, the first facility row 2, as a spreadsheet shows).
    pub row: usize,
    /// The column, if one is to blame.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Enrols facilities (their organization's admin or state staff): all of them, or none when any
/// row is wrong, in which case every problem of every row is reported.
pub fn enrol_facilities(
    registry: &Registry,
    principal: &Principal,
    organization_id: &str,
    facilities: Vec<NewFacility>,
    first_row_number: usize,
) -> Result<Vec<FacilityRow>, ServiceError> {
    if !access::may_manage_organization(principal, organization_id) {
        return Err(if access::may_view_organization(principal, organization_id) {
            ServiceError::Forbidden("Only the organization's administrators enrol its facilities.".to_owned())
        } else {
            not_found()
        });
    }
    if facilities.is_empty() {
        return Err(ServiceError::invalid("facilities", "No facilities were given."));
    }
    if facilities.len() > MAX_FACILITY_ROWS {
        return Err(ServiceError::invalid("facilities", format!("At most {MAX_FACILITY_ROWS} facilities at a time.")));
    }
    let mut errors = Vec::new();
    for (index, facility) in facilities.iter().enumerate() {
        errors.extend(check_facility(facility, index + first_row_number));
    }
    let mut seen_names = std::collections::HashMap::new();
    let mut seen_codes = std::collections::HashMap::new();
    for (index, facility) in facilities.iter().enumerate() {
        let row = index + first_row_number;
        if let Some(first) = seen_names.insert(facility.name.trim().to_lowercase(), row) {
            errors.push(RowError {
                row,
                column: Some("name".to_owned()),
                message: format!("The same name as row {first}."),
            });
        }
        if let Some(code) = facility.site_code.as_deref().filter(|c| !c.trim().is_empty())
            && let Some(first) = seen_codes.insert(code.trim().to_owned(), row)
        {
            errors.push(RowError {
                row,
                column: Some("site_code".to_owned()),
                message: format!("The same site code as row {first}."),
            });
        }
    }
    let now = Timestamp::now().micros();
    let rows: Vec<FacilityRow> = facilities
        .into_iter()
        .map(|f| FacilityRow {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: organization_id.to_owned(),
            name: f.name.trim().to_owned(),
            site_code: clean(f.site_code),
            address_line: clean(f.address_line),
            city: clean(f.city),
            state: clean(f.state).map(|s| s.to_uppercase()),
            postal_code: clean(f.postal_code),
            phone: clean(f.phone),
            active: true,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let mut record = AuditRecord::by(principal, "facility-enrol").on("Location");
    record.resource_ids = rows.iter().map(|r| r.id.clone()).collect();
    let organization_id = organization_id.to_owned();
    registry.database().write(move |conn| -> Result<Vec<FacilityRow>, ServiceError> {
        if identity::organization(conn, &organization_id)?.is_none() {
            return Err(not_found());
        }
        let existing = identity::facilities_of(conn, &organization_id)?;
        for (index, row) in rows.iter().enumerate() {
            let number = index + first_row_number;
            if existing.iter().any(|e| e.name.eq_ignore_ascii_case(&row.name)) {
                errors.push(RowError {
                    row: number,
                    column: Some("name".to_owned()),
                    message: "A facility with this name is enrolled already.".to_owned(),
                });
            }
            if row.site_code.is_some() && existing.iter().any(|e| e.site_code == row.site_code) {
                errors.push(RowError {
                    row: number,
                    column: Some("site_code".to_owned()),
                    message: "A facility with this site code is enrolled already.".to_owned(),
                });
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(ServiceError::RowErrors(errors));
        }
        identity::insert_facilities(conn, &rows)?;
        super::audit::append_in(conn, vec![record])?;
        Ok(rows)
    })
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn check_facility(facility: &NewFacility, row: usize) -> Vec<RowError> {
    let mut errors = Vec::new();
    let mut fail = |column: &str, message: &str| {
        errors.push(RowError { row, column: Some(column.to_owned()), message: message.to_owned() });
    };
    let name = facility.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        fail("name", "A facility needs a name (at most 200 characters).");
    }
    if let Some(state) = facility.state.as_deref().map(str::trim).filter(|s| !s.is_empty())
        && !(state.len() == 2 && state.chars().all(|c| c.is_ascii_alphabetic()))
    {
        fail("state", "The state is a two-letter code.");
    }
    if let Some(zip) = facility.postal_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let digits: Vec<char> = zip.chars().collect();
        let five = digits.len() == 5 && digits.iter().all(char::is_ascii_digit);
        let nine = digits.len() == 10
            && digits[5] == '-'
            && digits.iter().enumerate().all(|(i, c)| i == 5 || c.is_ascii_digit());
        if !(five || nine) {
            fail("postal_code", "The ZIP code is 5 digits or ZIP+4 (12345-6789).");
        }
    }
    if let Some(phone) = facility.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !(10..=15).contains(&digits) || phone.chars().any(|c| !(c.is_ascii_digit() || " ()+-.".contains(c))) {
            fail("phone", "The phone number needs 10 to 15 digits.");
        }
    }
    for (column, value) in
        [("site_code", &facility.site_code), ("address_line", &facility.address_line), ("city", &facility.city)]
    {
        if value.as_deref().is_some_and(|v| v.chars().count() > 200) {
            fail(column, "At most 200 characters.");
        }
    }
    errors
}

/// Reads the facilities spreadsheet (CSV with a header row: name, site_code, address_line,
/// city, state, postal_code, phone; only `name` is required). Unknown columns are refused so a
/// misspelt header is not silently ignored.
pub fn parse_facilities_csv(text: &str) -> Result<Vec<NewFacility>, ServiceError> {
    const COLUMNS: [&str; 7] = ["name", "site_code", "address_line", "city", "state", "postal_code", "phone"];
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ServiceError::invalid("csv", format!("The header row cannot be read: {e}")))?
        .clone();
    let mut report = Vec::new();
    for header in headers.iter() {
        if !COLUMNS.contains(&header.to_lowercase().as_str()) {
            report.push(RowError {
                row: 1,
                column: Some(header.chars().take(50).collect()),
                message: format!("Unknown column; the columns are {}.", COLUMNS.join(", ")),
            });
        }
    }
    if !headers.iter().any(|h| h.eq_ignore_ascii_case("name")) {
        report.push(RowError {
            row: 1,
            column: Some("name".to_owned()),
            message: "The name column is required.".to_owned(),
        });
    }
    if !report.is_empty() {
        return Err(ServiceError::RowErrors(report));
    }
    let mut facilities = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        if facilities.len() >= MAX_FACILITY_ROWS {
            return Err(ServiceError::invalid("csv", format!("At most {MAX_FACILITY_ROWS} facilities at a time.")));
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                report.push(RowError { row, column: None, message: format!("The row cannot be read: {e}") });
                continue;
            }
        };
        let mut facility = NewFacility::default();
        for (header, value) in headers.iter().zip(record.iter()) {
            let value = (!value.is_empty()).then(|| value.to_owned());
            match header.to_lowercase().as_str() {
                "name" => facility.name = value.unwrap_or_default(),
                "site_code" => facility.site_code = value,
                "address_line" => facility.address_line = value,
                "city" => facility.city = value,
                "state" => facility.state = value,
                "postal_code" => facility.postal_code = value,
                _ => facility.phone = value,
            }
        }
        facilities.push(facility);
    }
    if !report.is_empty() {
        return Err(ServiceError::RowErrors(report));
    }
    Ok(facilities)
}
