//! Privacy choices: the current version per person, every version, and the `visible_to` column
//! they set on the person's Patient and Immunization rows.

use diesel::prelude::*;

use super::schema::{immunization, patient, patient_privacy, patient_privacy_history};
use super::{DbConnection, StoreError};
use crate::domain::patient::{NamePart, PatientIndex};
use crate::domain::privacy::{PrivacyChoices, PrivacyRecord, RecordLock};
use crate::domain::time::Timestamp;

/// One version of the choices, as stored (same columns in both tables).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = patient_privacy)]
#[diesel(treat_none_as_default_value = false)]
struct PrivacyRow {
    patient_id: String,
    version: i32,
    opted_out: bool,
    lock_organization_id: Option<String>,
    lock_facility_id: Option<String>,
    reminders_declined: bool,
    changed_at: i64,
    changed_by_organization_id: String,
    changed_by_user_id: Option<String>,
    requested_by: String,
    identity_verification: String,
}

#[derive(Insertable)]
#[diesel(table_name = patient_privacy_history)]
#[diesel(treat_none_as_default_value = false)]
struct PrivacyHistoryRow<'a> {
    patient_id: &'a str,
    version: i32,
    opted_out: bool,
    lock_organization_id: Option<&'a str>,
    lock_facility_id: Option<&'a str>,
    reminders_declined: bool,
    changed_at: i64,
    changed_by_organization_id: &'a str,
    changed_by_user_id: Option<&'a str>,
    requested_by: &'a str,
    identity_verification: &'a str,
}

impl PrivacyRow {
    fn from_record(record: &PrivacyRecord) -> Self {
        let lock = record.choices.lock.as_ref();
        PrivacyRow {
            patient_id: record.patient_id.clone(),
            version: record.version,
            opted_out: record.choices.opted_out,
            lock_organization_id: lock.map(|lock| lock.organization_id.clone()),
            lock_facility_id: lock.and_then(|lock| lock.facility_id.clone()),
            reminders_declined: record.choices.reminders_declined,
            changed_at: record.changed_at.micros(),
            changed_by_organization_id: record.changed_by_organization_id.clone(),
            changed_by_user_id: record.changed_by_user_id.clone(),
            requested_by: record.requested_by.clone(),
            identity_verification: record.identity_verification.clone(),
        }
    }

    fn into_record(self) -> PrivacyRecord {
        let lock = self
            .lock_organization_id
            .map(|organization_id| RecordLock { organization_id, facility_id: self.lock_facility_id });
        PrivacyRecord {
            patient_id: self.patient_id,
            version: self.version,
            choices: PrivacyChoices { opted_out: self.opted_out, lock, reminders_declined: self.reminders_declined },
            changed_at: Timestamp(self.changed_at),
            changed_by_organization_id: self.changed_by_organization_id,
            changed_by_user_id: self.changed_by_user_id,
            requested_by: self.requested_by,
            identity_verification: self.identity_verification,
        }
    }
}

/// The choices in force for a person; `None` when none were ever recorded.
pub fn current(conn: &mut DbConnection, patient_id: &str) -> Result<Option<PrivacyRecord>, StoreError> {
    let row = patient_privacy::table.find(patient_id).get_result::<PrivacyRow>(conn).optional()?;
    Ok(row.map(PrivacyRow::into_record))
}

/// Every version of a person's choices, newest first.
pub fn history(conn: &mut DbConnection, patient_id: &str) -> Result<Vec<PrivacyRecord>, StoreError> {
    let rows = patient_privacy_history::table
        .filter(patient_privacy_history::patient_id.eq(patient_id))
        .order(patient_privacy_history::version.desc())
        .load::<PrivacyRow>(conn)?;
    Ok(rows.into_iter().map(PrivacyRow::into_record).collect())
}

/// Stores a new version of the choices and applies the visibility it gives to the person's
/// Patient and Immunization rows. Call inside the transaction that checked the previous version.
pub fn save(conn: &mut DbConnection, record: &PrivacyRecord) -> Result<(), StoreError> {
    let row = PrivacyRow::from_record(record);
    diesel::delete(patient_privacy::table.find(&record.patient_id)).execute(conn)?;
    diesel::insert_into(patient_privacy::table).values(row.clone()).execute(conn)?;
    diesel::insert_into(patient_privacy_history::table)
        .values(PrivacyHistoryRow {
            patient_id: &row.patient_id,
            version: row.version,
            opted_out: row.opted_out,
            lock_organization_id: row.lock_organization_id.as_deref(),
            lock_facility_id: row.lock_facility_id.as_deref(),
            reminders_declined: row.reminders_declined,
            changed_at: row.changed_at,
            changed_by_organization_id: &row.changed_by_organization_id,
            changed_by_user_id: row.changed_by_user_id.as_deref(),
            requested_by: &row.requested_by,
            identity_verification: &row.identity_verification,
        })
        .execute(conn)?;
    let visible_to = record.choices.visibility().stored();
    diesel::update(patient::table.find(&record.patient_id))
        .set(patient::visible_to.eq(visible_to.clone()))
        .execute(conn)?;
    diesel::update(immunization::table.filter(immunization::patient_id.eq(&record.patient_id)))
        .set(immunization::visible_to.eq(visible_to))
        .execute(conn)?;
    Ok(())
}

/// The stored visibility of a Patient: `None` when no Patient has this id.
pub fn patient_visibility(conn: &mut DbConnection, id: &str) -> Result<Option<Option<String>>, StoreError> {
    Ok(patient::table.find(id).select(patient::visible_to).get_result::<Option<String>>(conn).optional()?)
}

/// The stored visibility of an Immunization: `None` when no Immunization has this id.
pub fn immunization_visibility(conn: &mut DbConnection, id: &str) -> Result<Option<Option<String>>, StoreError> {
    Ok(immunization::table.find(id).select(immunization::visible_to).get_result::<Option<String>>(conn).optional()?)
}

/// Gives an Immunization the visibility of the Patient it is about (after it is stored or its
/// patient reference changes), so a locked or opted-out person's new records are hidden too.
pub fn inherit_patient_visibility(conn: &mut DbConnection, immunization_id: &str) -> Result<(), StoreError> {
    let patient_id: Option<String> =
        immunization::table.find(immunization_id).select(immunization::patient_id).get_result(conn).optional()?;
    let Some(patient_id) = patient_id else { return Ok(()) };
    let visible_to = patient_visibility(conn, &patient_id)?.flatten();
    diesel::update(immunization::table.find(immunization_id))
        .set(immunization::visible_to.eq(visible_to))
        .execute(conn)?;
    Ok(())
}

/// Whether a submitted Patient is a person who opted out: an opted-out Patient shares one of
/// its identifiers, or has the same birth date, a family name and a given name in common
/// (normalized). The stub kept at opt-out is exactly what makes this recognition possible.
pub fn matches_opted_out_person(conn: &mut DbConnection, index: &PatientIndex) -> Result<bool, StoreError> {
    use super::schema::{patient_identifier, patient_name};
    for identifier in &index.identifiers {
        let found: i64 = patient::table
            .filter(patient::visible_to.eq(""))
            .filter(diesel::dsl::exists(
                patient_identifier::table
                    .filter(patient_identifier::patient_id.eq(patient::id))
                    .filter(patient_identifier::system.eq(&identifier.system))
                    .filter(patient_identifier::value.eq(&identifier.value)),
            ))
            .count()
            .get_result(conn)?;
        if found > 0 {
            return Ok(true);
        }
    }
    let Some(birth) = index.birth else { return Ok(false) };
    let parts = |part: NamePart| -> Vec<String> {
        index.names.iter().filter(|n| n.part == part).map(|n| n.normalized.clone()).collect()
    };
    let (families, givens) = (parts(NamePart::Family), parts(NamePart::Given));
    if families.is_empty() || givens.is_empty() {
        return Ok(false);
    }
    // Correlated EXISTS, not `id IN (SELECT ...)`: the opted-out people born that day (found
    // through the `patient_opted_out` index, usually none) are checked for the names, instead of
    // listing every patient called Smith first (a third of the time of a Patient create).
    let with_part = |part: NamePart, values: Vec<String>| {
        diesel::dsl::exists(
            patient_name::table
                .filter(patient_name::patient_id.eq(patient::id))
                .filter(patient_name::part.eq(part.as_str()))
                .filter(patient_name::value_norm.eq_any(values)),
        )
    };
    let found: i64 = patient::table
        .filter(patient::visible_to.eq(""))
        .filter(patient::birth_start.eq(birth.start.0))
        .filter(with_part(NamePart::Family, families))
        .filter(with_part(NamePart::Given, givens))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}
