//! SQL building blocks shared by the resource searches: date-range comparisons, string matches,
//! and the text range that turns a prefix match into an index range scan.
//!
//! They are macros because each table's columns are distinct types in diesel; the logic is
//! written once here.

/// Upper bound of the keys that start with `prefix`, in byte order (SQLite BINARY collation,
/// PostgreSQL `COLLATE "C"`): `key >= prefix AND key < prefix_upper_bound(prefix)` matches
/// exactly the keys starting with `prefix`, and uses the index.
pub(crate) fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Searches with at most this many alternatives in all (`family=smith`, `patient=123`, the
/// everyday searches) reuse one prepared statement per connection; richer ones are prepared per
/// request. Diesel's statement cache is unbounded and keyed by SQL text, so caching every shape
/// would let a client grow it without limit: at one alternative there are a few dozen shapes per
/// sort order.
pub(crate) const MAX_CACHED_ALTERNATIVES: usize = 1;

/// ANDs the conditions of a search's filters. Raw SQL keeps diesel from caching a statement, so
/// it appears only in a search with more than [`MAX_CACHED_ALTERNATIVES`] alternatives; the
/// everyday search is a cached statement (parsing and planning it anew was an eighth of the
/// server's work on a name search).
macro_rules! all_of {
    ($table:ty, $alternatives:expr, $conditions:expr) => {{
        use diesel::prelude::*;
        type Condition =
            Box<dyn diesel::BoxableExpression<$table, $crate::store::MultiBackend, SqlType = diesel::sql_types::Bool>>;
        let mut combined: Option<Condition> = if $alternatives > $crate::store::search_sql::MAX_CACHED_ALTERNATIVES {
            Some(Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 1")))
        } else {
            None
        };
        for next in $conditions {
            let next: Condition = next;
            combined = Some(match combined {
                None => next,
                Some(previous) => Box::new(previous.and(next)),
            });
        }
        combined.unwrap_or_else(|| -> Condition {
            Box::new(<bool as diesel::IntoSql>::into_sql::<diesel::sql_types::Bool>(true))
        })
    }};
}
pub(crate) use all_of;

/// `column = value` for one value, `column IN (...)` for several (an `IN` list is never cached:
/// its length varies).
macro_rules! one_of {
    ($column:expr, $values:expr) => {{
        use diesel::prelude::*;
        match $values.as_slice() {
            [one] => Box::new($column.eq(one.clone())) as Condition,
            several => Box::new($column.eq_any(several.to_vec())) as Condition,
        }
    }};
}
pub(crate) use one_of;

/// A boxed condition on a stored range `[start, end)` (both not-null expressions) for one date
/// criterion. See `DateComparator` for the meaning of each prefix.
macro_rules! date_condition {
    ($table:ty, $start:expr, $end:expr, $criterion:expr) => {{
        use diesel::prelude::*;
        use $crate::domain::search::DateComparator;
        type Condition =
            Box<dyn diesel::BoxableExpression<$table, $crate::store::MultiBackend, SqlType = diesel::sql_types::Bool>>;
        let criterion: &$crate::domain::search::DateMatch = $criterion;
        let (s, e) = (criterion.range.start.0, criterion.range.end.0);
        let condition: Condition = match criterion.comparator {
            DateComparator::Eq => Box::new($start.ge(s).and($end.le(e))),
            DateComparator::Ne => Box::new(diesel::dsl::not($start.ge(s).and($end.le(e)))),
            DateComparator::Gt => Box::new($end.gt(e)),
            DateComparator::Lt => Box::new($start.lt(s)),
            DateComparator::Ge => Box::new($end.gt(s)),
            DateComparator::Le => Box::new($start.lt(e)),
            DateComparator::Sa => Box::new($start.ge(e)),
            DateComparator::Eb => Box::new($end.le(s)),
        };
        condition
    }};
}
pub(crate) use date_condition;

/// ORs a list of boxed conditions built by `$build` from each alternative. An empty list
/// matches nothing.
macro_rules! any_of {
    ($table:ty, $alternatives:expr, $build:expr) => {{
        use diesel::prelude::*;
        type Condition =
            Box<dyn diesel::BoxableExpression<$table, $crate::store::MultiBackend, SqlType = diesel::sql_types::Bool>>;
        let mut combined: Option<Condition> = None;
        for alternative in $alternatives {
            let next: Condition = $build(alternative);
            combined = Some(match combined {
                None => next,
                Some(previous) => Box::new(previous.or(next)),
            });
        }
        combined.unwrap_or_else(|| -> Condition { Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")) })
    }};
}
pub(crate) use any_of;

/// A condition for one string criterion on a normalized column and an as-sent column. Each
/// arm's concrete expression is handed to `$wrap!` (which boxes it, possibly inside a subquery:
/// diesel cannot box a subquery on the multi-backend, so subqueries keep concrete types).
macro_rules! string_condition {
    ($normalized:expr, $exact:expr, $criterion:expr, $wrap:ident) => {{
        use diesel::prelude::*;
        use $crate::domain::search::StringMatch;
        let criterion: &StringMatch = $criterion;
        match criterion {
            StringMatch::StartsWith(prefix) => $wrap!(
                $normalized
                    .ge(prefix.clone())
                    .and($normalized.lt($crate::store::search_sql::prefix_upper_bound(prefix)))
            ),
            StringMatch::Exact(value) => $wrap!($exact.eq(value.clone())),
            StringMatch::Contains(text) => {
                $wrap!($normalized.like($crate::store::search_sql::like_contains_pattern(text)).escape('\\'))
            }
        }
    }};
}
pub(crate) use string_condition;

/// A condition for one token criterion on a system column and a code column; see
/// `string_condition` for `$wrap`.
macro_rules! token_condition {
    ($system:expr, $code:expr, $criterion:expr, $wrap:ident) => {{
        use diesel::prelude::*;
        use $crate::domain::search::TokenSystem;
        let criterion: &$crate::domain::search::TokenMatch = $criterion;
        match (&criterion.system, &criterion.code) {
            (TokenSystem::Any, Some(code)) => $wrap!($code.eq(code.clone())),
            (TokenSystem::Any, None) => $wrap!($code.ne(String::new())),
            (TokenSystem::Absent, Some(code)) => $wrap!($system.eq(String::new()).and($code.eq(code.clone()))),
            (TokenSystem::Absent, None) => $wrap!($system.eq(String::new())),
            (TokenSystem::Is(system), Some(code)) => $wrap!($system.eq(system.clone()).and($code.eq(code.clone()))),
            (TokenSystem::Is(system), None) => $wrap!($system.eq(system.clone())),
        }
    }};
}
pub(crate) use token_condition;

/// A condition on a `visible_to` column (see the privacy migration) for what the caller may see.
macro_rules! visible_condition {
    ($column:expr, $visible_to:expr) => {{
        use diesel::prelude::*;
        use $crate::domain::privacy::VisibleTo;
        match $visible_to {
            // OR-ed equalities rather than `IN`: the statement stays cacheable (a caller has one
            // or two keys).
            VisibleTo::Keys(keys) => {
                let mut condition = Box::new($column.is_null()) as Condition;
                for key in keys {
                    condition = Box::new(condition.or($column.assume_not_null().eq(key.clone())));
                }
                condition
            }
            VisibleTo::AllButOptedOut => {
                Box::new($column.is_null().or($column.assume_not_null().ne(String::new()))) as Condition
            }
            VisibleTo::OptedOutOnly => Box::new($column.assume_not_null().eq(String::new())) as Condition,
        }
    }};
}
pub(crate) use visible_condition;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bound_sorts_after_every_extension_of_the_prefix() {
        let bound = prefix_upper_bound("smi");
        assert!("smith".as_bytes() < bound.as_bytes());
        assert!("smi".as_bytes() < bound.as_bytes());
        assert!("smj".as_bytes() > bound.as_bytes());
        assert!("smiþ".as_bytes() < bound.as_bytes());
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
