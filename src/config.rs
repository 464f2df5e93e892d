//! Typed configuration, layered: defaults -> optional TOML file -> `IZREG_*` environment ->
//! command-line flags. Unknown keys in the file are refused. Boots on embedded SQLite with no
//! file at all.

use std::path::Path;

use serde::Deserialize;

/// Everything the server needs to start.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// `postgres://...` or a SQLite file path.
    pub database_url: String,
    /// Connections in the pool.
    pub pool_size: u32,
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// The public FHIR base URL (e.g. `https://iis.example.org/fhir`) used in links and
    /// `Location`; when absent it is derived from each request's Host.
    pub public_base_url: Option<String>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Threads that run read-only database calls (0: two per core on SQLite, at most
    /// `pool_size`; `pool_size` on PostgreSQL).
    pub read_threads: usize,
    /// Tokens, keys and the password policy (`[auth]` in the file).
    pub auth: crate::service::session::AuthSettings,
    /// How agreement reminders are delivered (`[notices]` in the file).
    pub notices: crate::notify::NoticeSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "izreg.db".to_owned(),
            pool_size: 8,
            max_body_bytes: 4 * 1024 * 1024,
            public_base_url: None,
            workers: 0,
            read_threads: 0,
            auth: crate::service::session::AuthSettings::default(),
            notices: crate::notify::NoticeSettings::default(),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid (syntax, unknown key, wrong type).
    #[error("invalid configuration file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Defaults, overlaid with the TOML file when given.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = file else {
            return Ok(Settings::default());
        };
        let display = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: display.clone(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Invalid { path: display, message: e.message().to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "bind = \"0.0.0.0:9000\"\npool_size = 3\n").unwrap();
        let settings = Settings::load(Some(&good)).unwrap();
        assert_eq!(settings.bind, "0.0.0.0:9000");
        assert_eq!(settings.pool_size, 3);
        assert_eq!(settings.database_url, "izreg.db");

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "bnd = \"x\"\n").unwrap();
        assert!(matches!(Settings::load(Some(&bad)), Err(ConfigError::Invalid { .. })));
    }
}
