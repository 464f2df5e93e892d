//! A run's notices as CSV, one row per notice, for mail merge and autodialers. Cells that a
//! spreadsheet would run as a formula are prefixed with `'` (CSV injection).

use crate::domain::outreach::{DueGroup, DueStatus, StoredNotice};
use crate::domain::time::format_date;

/// The header row.
pub const HEADER: [&str; 20] = [
    "notice_number",
    "kind",
    "patient_id",
    "name",
    "birth_date",
    "guardian_name",
    "guardian_relationship",
    "guardian_phone",
    "address_line_1",
    "address_line_2",
    "city",
    "state",
    "postal_code",
    "phone",
    "email",
    "vaccine_groups",
    "due_summary",
    "attempts",
    "last_sent_on",
    "last_method",
];

/// A cell a spreadsheet shows as text, never evaluates.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn group_summary(group: &DueGroup) -> String {
    match (group.status, group.past_due) {
        (DueStatus::Overdue, Some(past_due)) => {
            format!("{} dose {} overdue since {}", group.vaccine_group, group.dose_number, format_date(past_due))
        }
        _ => format!("{} dose {} due {}", group.vaccine_group, group.dose_number, format_date(group.recommended)),
    }
}

/// Writes the header and one row per notice.
pub fn write_notices<W: std::io::Write>(out: W, notices: &[StoredNotice], with_header: bool) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    let map_err = |e: csv::Error| std::io::Error::other(e.to_string());
    if with_header {
        writer.write_record(HEADER).map_err(map_err)?;
    }
    for stored in notices {
        let notice = &stored.notice;
        let contact = &notice.contact;
        let guardian = contact.guardian.as_ref();
        let address = contact.address.as_ref();
        let line = |i: usize| address.and_then(|a| a.lines.get(i)).cloned().unwrap_or_default();
        let groups: Vec<&str> = notice.vaccine_groups.iter().map(|g| g.vaccine_group.as_str()).collect();
        let summary: Vec<String> = notice.vaccine_groups.iter().map(group_summary).collect();
        let row = [
            notice.number.to_string(),
            notice.kind.as_str().to_owned(),
            contact.patient_id.clone(),
            contact.name.clone(),
            format_date(contact.birth_date),
            guardian.map(|g| g.name.clone()).unwrap_or_default(),
            guardian.and_then(|g| g.relationship.clone()).unwrap_or_default(),
            guardian.and_then(|g| g.phone.clone()).unwrap_or_default(),
            line(0),
            address.map(|a| a.lines.iter().skip(1).cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default(),
            address.and_then(|a| a.city.clone()).unwrap_or_default(),
            address.and_then(|a| a.state.clone()).unwrap_or_default(),
            address.and_then(|a| a.postal_code.clone()).unwrap_or_default(),
            contact.phone.clone().unwrap_or_default(),
            contact.email.clone().unwrap_or_default(),
            groups.join("; "),
            summary.join("; "),
            stored.delivery.attempts.to_string(),
            stored.delivery.last_sent_on.map(format_date).unwrap_or_default(),
            stored.delivery.last_method.map(|m| m.as_str().to_owned()).unwrap_or_default(),
        ];
        writer.write_record(row.iter().map(|text| cell(text))).map_err(map_err)?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("Ana"), "Ana");
    }
}
