//! The `izreg` command: serve, migrate, openapi, seed, bootstrap, audit verify, notices, forecast.

mod forecast_cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use izreg::config::Settings;

/// mimalloc rather than glibc's malloc: every request allocates and frees short-lived buffers
/// (a resource's JSON, audit records) on several threads, and glibc's bookkeeping for them
/// (`malloc_consolidate`, `unlink_chunk`) was a tenth of the server's CPU on a read by id.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// izreg: an immunization information system with a FHIR R4 API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file (keys as in `Settings`: bind, database_url, pool_size, ...).
    #[arg(long, global = true, env = "IZREG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// `postgres://user@host/db` or a SQLite file (default `izreg.db` in the working directory).
    #[arg(long, env = "IZREG_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the HTTP server (migrates the database first).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "IZREG_BIND")]
        bind: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Applies pending database migrations and loads the shipped code tables.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Prints the OpenAPI specification (JSON).
    Openapi,
    /// Creates synthetic patients with age-appropriate childhood immunizations.
    Seed {
        /// How many patients.
        #[arg(long)]
        patients: usize,
        /// Random seed (the same seed gives the same data).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Creates the health department's organization and its first state administrator on an
    /// empty registry. The password is read from standard input (one line).
    Bootstrap {
        /// The health department's name.
        #[arg(long)]
        organization: String,
        /// The administrator's username.
        #[arg(long)]
        username: String,
        /// The administrator's display name.
        #[arg(long, default_value = "State administrator")]
        display_name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Signing key tools.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Queues the data use agreement expiry reminders due today and delivers the outbox with the
    /// configured sender (`serve` also does this every `[notices] interval_minutes`).
    QueueNotices {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Runs the CDSi forecaster on a case file (one case, or CDC-style `{"cases": [...]}`;
    /// expected values in the file are ignored) and prints each case's dose evaluations and
    /// vaccine-group forecasts. Needs no database.
    Forecast {
        /// The JSON case file.
        file: PathBuf,
        /// One JSON object per case and line instead of the readable table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Makes a new token signing key and retires the old ones (still published until their
    /// tokens expire); running servers switch within a minute.
    Rotate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks the hash chain; reports the first broken link (exit status 1 when broken).
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn settings(cli_config: Option<&PathBuf>, database: &DatabaseArgs) -> Result<Settings, String> {
    let mut settings = Settings::load(cli_config.map(PathBuf::as_path)).map_err(|e| e.to_string())?;
    if let Some(url) = &database.database_url {
        settings.database_url.clone_from(url);
    }
    Ok(settings)
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve { bind, database } => {
            let mut settings = settings(cli.config.as_ref(), &database)?;
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            let system = actix_web::rt::System::new();
            system.block_on(izreg::startup::serve(settings)).map_err(|e| e.to_string())
        }
        Command::Migrate { database } => {
            let settings = settings(cli.config.as_ref(), &database)?;
            let applied = izreg::service::migrate(&settings.database_url).map_err(|e| e.to_string())?;
            tracing::info!(count = applied.len(), "migrations applied");
            Ok(())
        }
        Command::Openapi => {
            let json = izreg::http::openapi::spec_json().map_err(|e| e.to_string())?;
            print!("{json}");
            Ok(())
        }
        Command::Seed { patients, seed, database } => {
            let settings = settings(cli.config.as_ref(), &database)?;
            let options = izreg::startup::database_options(&settings);
            let registry = izreg::service::Registry::start(&options, &settings.auth).map_err(|e| e.to_string())?;
            let report = izreg::service::seed::seed(
                &registry,
                &izreg::service::seed::SeedOptions { patients, random_seed: seed },
            )
            .map_err(|e| e.to_string())?;
            tracing::info!(
                patients = report.patients,
                immunizations = report.immunizations,
                seconds = report.elapsed.as_secs_f64(),
                "seeded"
            );
            Ok(())
        }
        Command::Bootstrap { organization, username, display_name, database } => {
            let settings = settings(cli.config.as_ref(), &database)?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']);
            let options = izreg::startup::database_options(&settings);
            let registry = izreg::service::Registry::start(&options, &settings.auth).map_err(|e| e.to_string())?;
            let (organization, user) = izreg::service::user::bootstrap_state_admin(
                &registry,
                &organization,
                &username,
                &display_name,
                password,
            )
            .map_err(|e| describe(&e))?;
            println!("organization {} user {}", organization.id, user.id);
            Ok(())
        }
        Command::Keys { command: KeysCommand::Rotate { database } } => {
            let settings = settings(cli.config.as_ref(), &database)?;
            izreg::service::migrate(&settings.database_url).map_err(|e| e.to_string())?;
            let database = izreg::store::Database::open(&izreg::startup::database_options(&settings))
                .map_err(|e| e.to_string())?;
            let kid = izreg::service::session::rotate_signing_key(&database).map_err(|e| describe(&e))?;
            println!("new signing key {kid}");
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify { database } } => {
            let settings = settings(cli.config.as_ref(), &database)?;
            let mut conn = izreg::store::connection::establish(&settings.database_url).map_err(|e| e.to_string())?;
            let report = izreg::service::audit::verify_chain(&mut conn).map_err(|e| e.to_string())?;
            match report.first_broken {
                None => {
                    println!("audit chain intact: {} events", report.events);
                    Ok(())
                }
                Some(seq) => {
                    Err(format!("audit chain broken at event {seq} ({} events verified before it)", report.events))
                }
            }
        }
        Command::QueueNotices { database } => {
            let settings = settings(cli.config.as_ref(), &database)?;
            let options = izreg::startup::database_options(&settings);
            let registry = izreg::service::Registry::start(&options, &settings.auth).map_err(|e| e.to_string())?;
            let queued = izreg::service::agreement::queue_expiry_notices(&registry, izreg::domain::agreement::today())
                .map_err(|e| describe(&e))?;
            let report =
                izreg::service::agreement::deliver_notices(&registry, &settings.notices).map_err(|e| describe(&e))?;
            println!("{queued} notices queued, {} sent, {} failed", report.sent, report.failed);
            Ok(())
        }
        Command::Forecast { file, json } => forecast_cli::run(&file, json),
    }
}

/// A service error as one line for the terminal.
fn describe(error: &izreg::service::ServiceError) -> String {
    let (_, issues) = error.status_and_issues();
    issues.iter().map(|i| i.diagnostics.clone()).collect::<Vec<_>>().join(" ")
}

fn main() -> ExitCode {
    izreg::telemetry::init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("izreg: {message}");
            ExitCode::FAILURE
        }
    }
}
