//! Token issuing and verification (jsonwebtoken, ES256), password hashing (argon2id) and the
//! password policy. Pure: no database, no HTTP.

pub mod password;
pub mod token;
