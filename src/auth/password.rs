//! Passwords and security answers: the policy a new password must meet, and argon2id hashing.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Deserialize;

/// The password policy (configurable; the defaults are the state's).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// Shortest password accepted.
    pub min_length: usize,
    /// Longest password accepted (argon2 input is bounded to keep hashing cheap for attackers' inputs).
    pub max_length: usize,
    /// The characters that count as "special".
    pub special_characters: String,
    /// Days after which a password must be changed (login then only allows a change).
    pub max_age_days: u32,
    /// Failed logins in a row that lock the account.
    pub lockout_after_failures: u32,
    /// How long a locked account stays locked, in minutes.
    pub lockout_minutes: u32,
    /// Security questions each user must set.
    pub security_questions: usize,
    /// Shortest security answer accepted.
    pub min_answer_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            max_length: 128,
            special_characters: "~!@#$%^*()-_+={}[]/?".to_owned(),
            max_age_days: 60,
            lockout_after_failures: 5,
            lockout_minutes: 30,
            security_questions: 3,
            min_answer_length: 5,
        }
    }
}

impl PasswordPolicy {
    /// Every rule the password breaks, as plain sentences (empty when it is acceptable). The
    /// password itself never appears in them.
    pub fn violations(&self, password: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            problems.push(format!("The password must have at least {} characters.", self.min_length));
        }
        if length > self.max_length {
            problems.push(format!("The password must have at most {} characters.", self.max_length));
        }
        if !password.chars().any(|c| c.is_ascii_uppercase()) {
            problems.push("The password must contain an upper-case letter.".to_owned());
        }
        if !password.chars().any(|c| c.is_ascii_lowercase()) {
            problems.push("The password must contain a lower-case letter.".to_owned());
        }
        if !password.chars().any(|c| c.is_ascii_digit()) {
            problems.push("The password must contain a digit.".to_owned());
        }
        if !password.chars().any(|c| self.special_characters.contains(c)) {
            problems.push(format!("The password must contain one of {}.", self.special_characters));
        }
        problems
    }

    /// Whether a security answer is long enough (after normalising).
    pub fn answer_is_acceptable(&self, answer: &str) -> bool {
        normalize_answer(answer).chars().count() >= self.min_answer_length
    }
}

/// Why hashing failed (only on a broken stored hash or an internal argon2 error).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC hash. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// Hashes a security answer: compared case-insensitively and ignoring extra spaces.
pub fn hash_answer(answer: &str) -> Result<String, HashError> {
    hash_password(&normalize_answer(answer))
}

/// Whether a security answer matches its stored hash.
pub fn verify_answer(answer: &str, stored_hash: &str) -> bool {
    verify_password(&normalize_answer(answer), stored_hash)
}

fn normalize_answer(answer: &str) -> String {
    answer.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Verifies against a throw-away hash, for a login whose username does not exist: it then
/// takes as long as one with a wrong password (no user enumeration by timing).
pub fn spend_verification_time(password: &str) {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DECOY.get_or_init(|| hash_password("izreg decoy password").ok()) {
        let _ = verify_password(password, hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_needs_length_and_every_character_class() {
        let policy = PasswordPolicy::default();
        assert!(policy.violations("Correct-Horse-7").is_empty());
        assert_eq!(policy.violations("Short-7a").len(), 1);
        assert_eq!(policy.violations("alllowercase-7x").len(), 1);
        assert_eq!(policy.violations("NoDigitsHere-xx").len(), 1);
        assert_eq!(policy.violations("NoSpecials7xxxx").len(), 1);
        // '&' is not in the state's list of special characters.
        assert_eq!(policy.violations("Ampersand&7xxx").len(), 1);
    }

    #[test]
    fn hashes_verify_and_answers_ignore_case_and_spacing() {
        let hash = hash_password("Correct-Horse-7").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct-Horse-7", &hash));
        assert!(!verify_password("correct-horse-7", &hash));
        assert!(!verify_password("x", "not a hash"));
        let answer = hash_answer("  Blue   Lake ").unwrap();
        assert!(verify_answer("blue lake", &answer));
        assert!(!verify_answer("blue lakes", &answer));
        spend_verification_time("anything");
    }
}
