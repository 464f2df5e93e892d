//! FHIR search parameters: what each resource type supports (one table, also used by the
//! CapabilityStatement), and parsing of a query into domain search criteria.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::date::parse_search_value;
use super::outcome::{Issue, IssueType};
use super::patient::normalize_postal_code;
use super::text::normalize_for_search;
use crate::domain::patient::NamePart;
use crate::domain::search::{
    DateComparator, DateMatch, HistoryKeyset, ImmunizationFilter, ImmunizationSortKey, Keyset, PageSpec, PatientFilter,
    PatientSortKey, Sort, SortValue, StringMatch, TokenMatch, TokenSystem,
};

/// Page size when `_count` is absent.
pub const DEFAULT_COUNT: usize = 50;
/// Largest page size served; larger `_count` values are lowered to it.
pub const MAX_COUNT: usize = 1000;
/// Most comma-separated alternatives one parameter may carry (each becomes a bound value).
pub const MAX_VALUES_PER_PARAMETER: usize = 100;
/// Most filter parameters one search may carry.
pub const MAX_FILTERS: usize = 30;

/// FHIR search parameter types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `token`.
    Token,
    /// `string`.
    String,
    /// `date`.
    Date,
    /// `reference`.
    Reference,
}

impl ParamType {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Token => "token",
            ParamType::String => "string",
            ParamType::Date => "date",
            ParamType::Reference => "reference",
        }
    }
}

/// A supported search parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamDefinition {
    /// Its name in the query.
    pub name: &'static str,
    /// Its type.
    pub kind: ParamType,
    /// The canonical SearchParameter URL.
    pub definition: &'static str,
    /// What it matches, for the CapabilityStatement.
    pub documentation: &'static str,
}

/// Patient search parameters.
pub const PATIENT_PARAMS: &[ParamDefinition] = &[
    ParamDefinition {
        name: "_id",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/Resource-id",
        documentation: "Logical id.",
    },
    ParamDefinition {
        name: "_lastUpdated",
        kind: ParamType::Date,
        definition: "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
        documentation: "When the current version was written; prefixes eq, ne, gt, lt, ge, le, sa, eb.",
    },
    ParamDefinition {
        name: "identifier",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/Patient-identifier",
        documentation: "system|value, |value, system| or value.",
    },
    ParamDefinition {
        name: "family",
        kind: ParamType::String,
        definition: "http://hl7.org/fhir/SearchParameter/individual-family",
        documentation: "Family name: starts with (case- and accent-insensitive); :exact, :contains.",
    },
    ParamDefinition {
        name: "given",
        kind: ParamType::String,
        definition: "http://hl7.org/fhir/SearchParameter/individual-given",
        documentation: "Given name: starts with (case- and accent-insensitive); :exact, :contains.",
    },
    ParamDefinition {
        name: "name",
        kind: ParamType::String,
        definition: "http://hl7.org/fhir/SearchParameter/Patient-name",
        documentation: "Any name part (family, given, prefix, suffix, text): starts with; :exact, :contains.",
    },
    ParamDefinition {
        name: "birthdate",
        kind: ParamType::Date,
        definition: "http://hl7.org/fhir/SearchParameter/individual-birthdate",
        documentation: "Birth date; prefixes eq, ne, gt, lt, ge, le, sa, eb.",
    },
    ParamDefinition {
        name: "gender",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/individual-gender",
        documentation: "male | female | other | unknown.",
    },
    ParamDefinition {
        name: "address-postalcode",
        kind: ParamType::String,
        definition: "http://hl7.org/fhir/SearchParameter/individual-address-postalcode",
        documentation: "Postal code: starts with (case- and space-insensitive); :exact, :contains.",
    },
    ParamDefinition {
        name: "active",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/Patient-active",
        documentation: "true | false (a record without 'active' counts as active).",
    },
];

/// Immunization search parameters.
pub const IMMUNIZATION_PARAMS: &[ParamDefinition] = &[
    ParamDefinition {
        name: "_id",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/Resource-id",
        documentation: "Logical id.",
    },
    ParamDefinition {
        name: "_lastUpdated",
        kind: ParamType::Date,
        definition: "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
        documentation: "When the current version was written; prefixes eq, ne, gt, lt, ge, le, sa, eb.",
    },
    ParamDefinition {
        name: "patient",
        kind: ParamType::Reference,
        definition: "http://hl7.org/fhir/SearchParameter/clinical-patient",
        documentation: "The Patient: Patient/{id} or {id}.",
    },
    ParamDefinition {
        name: "date",
        kind: ParamType::Date,
        definition: "http://hl7.org/fhir/SearchParameter/clinical-date",
        documentation: "occurrenceDateTime; prefixes eq, ne, gt, lt, ge, le, sa, eb.",
    },
    ParamDefinition {
        name: "vaccine-code",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/Immunization-vaccine-code",
        documentation: "system|code (CVX: http://hl7.org/fhir/sid/cvx).",
    },
    ParamDefinition {
        name: "status",
        kind: ParamType::Token,
        definition: "http://hl7.org/fhir/SearchParameter/Immunization-status",
        documentation: "completed | entered-in-error | not-done.",
    },
    ParamDefinition {
        name: "lot-number",
        kind: ParamType::String,
        definition: "http://hl7.org/fhir/SearchParameter/Immunization-lot-number",
        documentation: "Lot number: starts with (case-insensitive); :exact, :contains.",
    },
];

/// Sort keys of Patient search (`_sort`).
pub const PATIENT_SORTS: &[&str] = &["_id", "family", "birthdate", "_lastUpdated"];
/// Sort keys of Immunization search (`_sort`).
pub const IMMUNIZATION_SORTS: &[&str] = &["_id", "date", "_lastUpdated"];
/// `_include` values on Immunization.
pub const IMMUNIZATION_INCLUDES: &[&str] = &["Immunization:patient"];
/// `_revinclude` values on Patient.
pub const PATIENT_REVINCLUDES: &[&str] = &["Immunization:patient"];

/// Whether and how to count the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalMode {
    /// No `Bundle.total` (the default: counting costs a query).
    None,
    /// Count every match (`_total=accurate` or `estimate`).
    Accurate,
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest<F, K> {
    /// Filters, all of which must hold.
    pub filters: Vec<F>,
    /// Order, size and start of the page.
    pub page: PageSpec<K>,
    /// Whether to count.
    pub total: TotalMode,
    /// `_summary=count` (or `_count=0`): only the total.
    pub summary_count: bool,
    /// `_include=Immunization:patient` / `_revinclude=Immunization:patient`.
    pub with_related: bool,
    /// The accepted parameters (without `_cursor`), for the `self` and `next` links.
    pub link_params: Vec<(String, String)>,
    /// Parameters ignored under `Prefer: handling=lenient`.
    pub ignored: Vec<String>,
}

/// A query the server cannot run: 400 with these issues.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid search")]
pub struct SearchError {
    /// What is wrong.
    pub issues: Vec<Issue>,
}

impl SearchError {
    fn at(code: IssueType, parameter: &str, message: impl Into<String>) -> Self {
        SearchError { issues: vec![Issue::at(code, parameter.to_owned(), message)] }
    }
}

/// What the cursor carries (serialized, then base64url).
#[derive(Serialize, Deserialize)]
struct CursorData {
    /// Sort key name.
    k: String,
    /// Descending.
    d: bool,
    /// Text sort value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    /// Integer sort value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<i64>,
    /// Last id.
    i: String,
}

/// Encodes where a page ended as an opaque `_cursor` value.
pub fn encode_cursor(sort_key: &str, descending: bool, keyset: &Keyset) -> String {
    let (t, n) = match &keyset.sort_value {
        SortValue::Text(t) => (Some(t.clone()), None),
        SortValue::Integer(n) => (None, Some(*n)),
    };
    let data = CursorData { k: sort_key.to_owned(), d: descending, t, n, i: keyset.id.clone() };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

fn decode_cursor(value: &str, sort_key: &str, descending: bool) -> Result<Keyset, SearchError> {
    let invalid = || {
        SearchError::at(
            IssueType::Invalid,
            "_cursor",
            "The _cursor value is not one this server issued for this search: follow the 'next' link as given.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if data.k != sort_key || data.d != descending {
        return Err(invalid());
    }
    let sort_value = match (data.t, data.n) {
        (Some(t), None) => SortValue::Text(t),
        (None, Some(n)) => SortValue::Integer(n),
        _ => return Err(invalid()),
    };
    Ok(Keyset { sort_value, id: data.i })
}

/// Splits a parameter value on unescaped commas and removes FHIR escapes (`\,` `\|` `\$` `\\`).
fn split_values(value: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) if matches!(next, ',' | '|' | '$' | '\\') => {
                    // Keep `\|` escaped so the token split below can still tell it apart.
                    if next == '|' {
                        current.push('\\');
                    }
                    current.push(next);
                }
                Some(next) => {
                    current.push('\\');
                    current.push(next);
                }
                None => current.push('\\'),
            },
            ',' => values.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    values.push(current);
    values
}

fn parse_token(text: &str) -> TokenMatch {
    // Split on the first `|` that is not escaped.
    let mut split_at = None;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            split_at = Some(i);
            break;
        }
    }
    let unescape = |s: &str| s.replace("\\|", "|");
    match split_at {
        None => TokenMatch { system: TokenSystem::Any, code: Some(unescape(text)) },
        Some(i) => {
            let (system, code) = (&text[..i], &text[i + 1..]);
            let system = if system.is_empty() { TokenSystem::Absent } else { TokenSystem::Is(unescape(system)) };
            let code = if code.is_empty() { None } else { Some(unescape(code)) };
            TokenMatch { system, code }
        }
    }
}

fn parse_date(parameter: &str, text: &str) -> Result<DateMatch, SearchError> {
    let comparators = [
        ("eq", DateComparator::Eq),
        ("ne", DateComparator::Ne),
        ("gt", DateComparator::Gt),
        ("lt", DateComparator::Lt),
        ("ge", DateComparator::Ge),
        ("le", DateComparator::Le),
        ("sa", DateComparator::Sa),
        ("eb", DateComparator::Eb),
    ];
    let (comparator, rest) = comparators
        .iter()
        .find_map(|(prefix, comparator)| text.strip_prefix(prefix).map(|rest| (*comparator, rest)))
        .unwrap_or((DateComparator::Eq, text));
    let range = parse_search_value(rest).ok_or_else(|| {
        SearchError::at(
            IssueType::Value,
            parameter,
            format!(
                "{parameter}: not a valid date; use an optional prefix (eq, ne, gt, lt, ge, le, sa, eb) and \
                 YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm]."
            ),
        )
    })?;
    Ok(DateMatch { comparator, range })
}

/// Normalizes a string search value according to the modifier.
fn parse_string(modifier: Option<&str>, text: &str, normalize: fn(&str) -> String) -> StringMatch {
    match modifier {
        Some("exact") => StringMatch::Exact(text.to_owned()),
        Some("contains") => StringMatch::Contains(normalize(text)),
        _ => StringMatch::StartsWith(normalize(text)),
    }
}

/// A reference value (`Patient/123`, `123`, or an absolute URL ending in `Patient/123`) to an id.
fn parse_patient_reference_value(text: &str) -> String {
    match text.rsplit_once("Patient/") {
        Some((_, id)) => id.to_owned(),
        None => text.to_owned(),
    }
}

/// Parameters every search accepts, besides the resource's own.
const RESULT_PARAMS: &[&str] =
    &["_count", "_sort", "_total", "_summary", "_cursor", "_format", "_pretty", "_include", "_revinclude"];

/// Which resource's search is being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Patient,
    Immunization,
}

/// Result parameters, parsed the same way for every resource type.
struct ResultParams {
    count: usize,
    sort: Option<(String, bool)>,
    total: TotalMode,
    summary_count: bool,
    cursor: Option<String>,
    with_related: bool,
}

fn parse_result_param(target: Target, name: &str, value: &str, result: &mut ResultParams) -> Result<(), SearchError> {
    match name {
        "_count" => {
            let count: usize = value.parse().map_err(|_| {
                SearchError::at(IssueType::Value, "_count", "_count must be a whole number (0 to 1000).")
            })?;
            result.count = count.min(MAX_COUNT);
            if count == 0 {
                result.summary_count = true;
            }
        }
        "_sort" => {
            let allowed = match target {
                Target::Patient => PATIENT_SORTS,
                Target::Immunization => IMMUNIZATION_SORTS,
            };
            if value.contains(',') {
                return Err(SearchError::at(IssueType::NotSupported, "_sort", "Only one _sort key is supported."));
            }
            let (key, descending) = match value.strip_prefix('-') {
                Some(key) => (key, true),
                None => (value, false),
            };
            if !allowed.contains(&key) {
                return Err(SearchError::at(
                    IssueType::NotSupported,
                    "_sort",
                    format!("_sort supports {} (prefix '-' for descending).", allowed.join(", ")),
                ));
            }
            result.sort = Some((key.to_owned(), descending));
        }
        "_total" => {
            result.total = match value {
                "none" => TotalMode::None,
                "accurate" | "estimate" => TotalMode::Accurate,
                _ => {
                    return Err(SearchError::at(
                        IssueType::Value,
                        "_total",
                        "_total must be none, estimate or accurate.",
                    ));
                }
            }
        }
        "_summary" => match value {
            "count" => result.summary_count = true,
            "false" => {}
            _ => {
                return Err(SearchError::at(IssueType::NotSupported, "_summary", "_summary supports count and false."));
            }
        },
        "_cursor" => result.cursor = Some(value.to_owned()),
        "_format" if !matches!(value, "json" | "application/json" | "application/fhir+json") => {
            return Err(SearchError::at(IssueType::NotSupported, "_format", "Only JSON is served (_format=json)."));
        }
        "_pretty" => {}
        "_include" => {
            if target == Target::Immunization && IMMUNIZATION_INCLUDES.contains(&value) {
                result.with_related = true;
            } else {
                return Err(SearchError::at(
                    IssueType::NotSupported,
                    "_include",
                    "Supported: _include=Immunization:patient on Immunization.",
                ));
            }
        }
        "_revinclude" => {
            if target == Target::Patient && PATIENT_REVINCLUDES.contains(&value) {
                result.with_related = true;
            } else {
                return Err(SearchError::at(
                    IssueType::NotSupported,
                    "_revinclude",
                    "Supported: _revinclude=Immunization:patient on Patient.",
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The pieces common to both resource searches, before the typed filters are built.
struct ParsedQuery<F> {
    filters: Vec<F>,
    result: ResultParams,
    link_params: Vec<(String, String)>,
    ignored: Vec<String>,
}

fn parse_query<F>(
    target: Target,
    params: &[(String, String)],
    lenient: bool,
    mut parse_filter: impl FnMut(&str, Option<&str>, &str) -> Result<Option<F>, SearchError>,
) -> Result<ParsedQuery<F>, SearchError> {
    let mut result = ResultParams {
        count: DEFAULT_COUNT,
        sort: None,
        total: TotalMode::None,
        summary_count: false,
        cursor: None,
        with_related: false,
    };
    let mut filters = Vec::new();
    let mut link_params = Vec::new();
    let mut ignored = Vec::new();
    let mut issues = Vec::new();
    for (raw_name, value) in params {
        let (name, modifier) = match raw_name.split_once(':') {
            Some((name, modifier)) => (name, Some(modifier)),
            None => (raw_name.as_str(), None),
        };
        let outcome = if RESULT_PARAMS.contains(&name) && modifier.is_none() {
            parse_result_param(target, name, value, &mut result).map(|()| true)
        } else {
            parse_filter(name, modifier, value).map(|filter| match filter {
                Some(filter) => {
                    filters.push(filter);
                    true
                }
                None => false,
            })
        };
        match outcome {
            Ok(true) => {
                if name != "_cursor" {
                    link_params.push((raw_name.clone(), value.clone()));
                }
            }
            Ok(false) if lenient => ignored.push(raw_name.clone()),
            Ok(false) => issues.push(Issue::at(
                IssueType::NotSupported,
                raw_name.clone(),
                format!(
                    "Unknown search parameter or modifier '{raw_name}' (send 'Prefer: handling=lenient' to ignore it)."
                ),
            )),
            Err(error) => issues.extend(error.issues),
        }
    }
    if filters.len() > MAX_FILTERS {
        issues.push(Issue::error(
            IssueType::TooCostly,
            format!("A search may combine at most {MAX_FILTERS} parameters."),
        ));
    }
    if !issues.is_empty() {
        return Err(SearchError { issues });
    }
    Ok(ParsedQuery { filters, result, link_params, ignored })
}

fn values(value: &str) -> Vec<String> {
    split_values(value).into_iter().filter(|v| !v.is_empty()).collect()
}

/// Refuses a parameter without a value, or with more alternatives than a query may bind.
fn reject_empty<T>(parameter: &str, list: Vec<T>) -> Result<Vec<T>, SearchError> {
    if list.is_empty() {
        Err(SearchError::at(IssueType::Value, parameter, format!("{parameter} has no value.")))
    } else if list.len() > MAX_VALUES_PER_PARAMETER {
        Err(SearchError::at(
            IssueType::TooCostly,
            parameter,
            format!("{parameter} has more than {MAX_VALUES_PER_PARAMETER} alternatives; split the search."),
        ))
    } else {
        Ok(list)
    }
}

/// Whether a string parameter's modifier (if any) is one this server supports.
fn string_modifier_supported(modifier: Option<&str>) -> bool {
    matches!(modifier, None | Some("exact") | Some("contains"))
}

fn dates(parameter: &str, value: &str) -> Result<Vec<DateMatch>, SearchError> {
    reject_empty(parameter, values(value))?.iter().map(|v| parse_date(parameter, v)).collect()
}

/// Parses a Patient search.
pub fn parse_patient_search(
    params: &[(String, String)],
    lenient: bool,
) -> Result<SearchRequest<PatientFilter, PatientSortKey>, SearchError> {
    let parsed = parse_query(Target::Patient, params, lenient, |name, modifier, value| {
        let filter = match name {
            "_id" if modifier.is_none() => PatientFilter::Id(reject_empty(name, values(value))?),
            "identifier" if modifier.is_none() => {
                PatientFilter::Identifier(reject_empty(name, values(value))?.iter().map(|v| parse_token(v)).collect())
            }
            "family" | "given" | "name" if string_modifier_supported(modifier) => {
                let part = match name {
                    "family" => Some(NamePart::Family),
                    "given" => Some(NamePart::Given),
                    _ => None,
                };
                let matches = reject_empty(name, values(value))?
                    .iter()
                    .map(|v| parse_string(modifier, v, normalize_for_search))
                    .collect();
                PatientFilter::Name { part, matches }
            }
            "birthdate" if modifier.is_none() => PatientFilter::BirthDate(dates(name, value)?),
            "_lastUpdated" if modifier.is_none() => PatientFilter::LastUpdated(dates(name, value)?),
            "gender" if modifier.is_none() => PatientFilter::Gender(
                reject_empty(name, values(value))?.iter().map(|v| parse_token(v).code.unwrap_or_default()).collect(),
            ),
            "address-postalcode" if string_modifier_supported(modifier) => PatientFilter::PostalCode(
                reject_empty(name, values(value))?
                    .iter()
                    .map(|v| parse_string(modifier, v, normalize_postal_code))
                    .collect(),
            ),
            "active" if modifier.is_none() => PatientFilter::Active(
                reject_empty(name, values(value))?
                    .iter()
                    .map(|v| match v.as_str() {
                        "true" => Ok(true),
                        "false" => Ok(false),
                        _ => Err(SearchError::at(IssueType::Value, "active", "active must be true or false.")),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Ok(None),
        };
        Ok(Some(filter))
    })?;
    let (sort_name, descending) = parsed.result.sort.clone().unwrap_or_else(|| ("_id".to_owned(), false));
    let key = match sort_name.as_str() {
        "family" => PatientSortKey::Family,
        "birthdate" => PatientSortKey::BirthDate,
        "_lastUpdated" => PatientSortKey::LastUpdated,
        _ => PatientSortKey::Id,
    };
    finish(parsed, key, &sort_name, descending)
}

/// Parses an Immunization search.
pub fn parse_immunization_search(
    params: &[(String, String)],
    lenient: bool,
) -> Result<SearchRequest<ImmunizationFilter, ImmunizationSortKey>, SearchError> {
    let parsed = parse_query(Target::Immunization, params, lenient, |name, modifier, value| {
        let filter = match (name, modifier) {
            ("_id", None) => ImmunizationFilter::Id(reject_empty(name, values(value))?),
            ("patient", None | Some("Patient")) => ImmunizationFilter::Patient(
                reject_empty(name, values(value))?.iter().map(|v| parse_patient_reference_value(v)).collect(),
            ),
            ("date", None) => ImmunizationFilter::Date(dates(name, value)?),
            ("_lastUpdated", None) => ImmunizationFilter::LastUpdated(dates(name, value)?),
            ("vaccine-code", None) => ImmunizationFilter::VaccineCode(
                reject_empty(name, values(value))?.iter().map(|v| parse_token(v)).collect(),
            ),
            ("status", None) => ImmunizationFilter::Status(
                reject_empty(name, values(value))?.iter().map(|v| parse_token(v).code.unwrap_or_default()).collect(),
            ),
            ("lot-number", None | Some("exact") | Some("contains")) => ImmunizationFilter::LotNumber(
                reject_empty(name, values(value))?
                    .iter()
                    .map(|v| match modifier {
                        // Lot numbers are stored normalized only, so :exact compares whole
                        // values case-insensitively.
                        Some("exact") => StringMatch::Exact(normalize_for_search(v)),
                        _ => parse_string(modifier, v, normalize_for_search),
                    })
                    .collect(),
            ),
            _ => return Ok(None),
        };
        Ok(Some(filter))
    })?;
    let (sort_name, descending) = parsed.result.sort.clone().unwrap_or_else(|| ("_id".to_owned(), false));
    let key = match sort_name.as_str() {
        "date" => ImmunizationSortKey::Date,
        "_lastUpdated" => ImmunizationSortKey::LastUpdated,
        _ => ImmunizationSortKey::Id,
    };
    finish(parsed, key, &sort_name, descending)
}

fn finish<F, K>(
    parsed: ParsedQuery<F>,
    key: K,
    sort_name: &str,
    descending: bool,
) -> Result<SearchRequest<F, K>, SearchError> {
    let after = parsed.result.cursor.as_deref().map(|c| decode_cursor(c, sort_name, descending)).transpose()?;
    Ok(SearchRequest {
        filters: parsed.filters,
        page: PageSpec { sort: Sort { key, descending }, count: parsed.result.count, after },
        total: parsed.result.total,
        summary_count: parsed.result.summary_count,
        with_related: parsed.result.with_related,
        link_params: parsed.link_params,
        ignored: parsed.ignored,
    })
}

/// A parsed `_history` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    /// Entries per page.
    pub count: usize,
    /// `_since`: only versions written at or after this instant.
    pub since: Option<crate::domain::time::Timestamp>,
    /// Continue after this entry.
    pub after: Option<HistoryKeyset>,
    /// The accepted parameters (without `_cursor`), for the links.
    pub link_params: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct HistoryCursorData {
    t: i64,
    i: String,
    v: i64,
}

/// Encodes where a history page ended as an opaque `_cursor` value.
pub fn encode_history_cursor(keyset: &HistoryKeyset) -> String {
    let data = HistoryCursorData { t: keyset.last_updated, i: keyset.id.clone(), v: keyset.version_id };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

/// Parses the parameters of a `_history` interaction (`_count`, `_since`, `_cursor`).
pub fn parse_history_query(params: &[(String, String)], lenient: bool) -> Result<HistoryRequest, SearchError> {
    let mut request = HistoryRequest { count: DEFAULT_COUNT, since: None, after: None, link_params: Vec::new() };
    let mut issues = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "_count" => match value.parse::<usize>() {
                Ok(count) => request.count = count.clamp(1, MAX_COUNT),
                Err(_) => {
                    issues.push(Issue::at(IssueType::Value, "_count", "_count must be a whole number (1 to 1000)."))
                }
            },
            "_since" => match parse_search_value(value) {
                Some(range) => request.since = Some(range.start),
                None => issues.push(Issue::at(
                    IssueType::Value,
                    "_since",
                    "_since must be an instant such as 2026-01-31T12:00:00Z.",
                )),
            },
            "_cursor" => {
                let decoded = URL_SAFE_NO_PAD
                    .decode(value)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<HistoryCursorData>(&bytes).ok());
                match decoded {
                    Some(d) => request.after = Some(HistoryKeyset { last_updated: d.t, id: d.i, version_id: d.v }),
                    None => issues.push(Issue::at(
                        IssueType::Invalid,
                        "_cursor",
                        "The _cursor value is not one this server issued.",
                    )),
                }
                continue;
            }
            "_format" | "_pretty" => {}
            _ if lenient => continue,
            _ => {
                issues.push(Issue::at(
                    IssueType::NotSupported,
                    name.clone(),
                    format!("Unknown _history parameter '{name}' (supported: _count, _since)."),
                ));
                continue;
            }
        }
        request.link_params.push((name.clone(), value.clone()));
    }
    if issues.is_empty() { Ok(request) } else { Err(SearchError { issues }) }
}
