//! Normalization of text for FHIR string search: case- and accent-insensitive.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, removes accents (`José` -> `jose`) and folds runs of white space to one space.
pub fn normalize_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_spaces() {
        assert_eq!(normalize_for_search("  José  María "), "jose maria");
        assert_eq!(normalize_for_search("MÜLLER"), "muller");
        assert_eq!(normalize_for_search("O'Brien"), "o'brien");
    }
}
