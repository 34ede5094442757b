//! The command line: `heard serve | import | rebuild | migrate | verify | export | copy | backup |
//! restore | schema | admin | erase | subject-access | retention`.
//! The benchmarks have their own binary, `heard-bench` (`tools/bench`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use heard_eventstore::{BackendKind, EventStore, Personal, Upcasters, verify_chain};
use serde_json::json;

use crate::config::Settings;
use crate::data_dir::{StorePlace, open_existing};

#[derive(Debug, Parser)]
#[command(name = "heard", version, about = "Heard: service-user involvement and advocacy, kept as an event log")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI, GraphQL, health and metrics.
    Serve {
        /// Data directory (overrides the config file and HEARD_DATA_DIR).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides HEARD_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// A TOML config file (see ops/heard.example.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Start with a demo data set (a year of meetings and feedback, and an account for each
        /// role, whose passwords are printed). Only seeds a data directory without feedback.
        #[arg(long)]
        demo: bool,
        /// Run one service alone, as a federation subgraph (GraphQL only, no web UI), for the
        /// split deployment over PostgreSQL composed by a gateway (see ops/federation).
        #[arg(long, value_enum, conflicts_with = "demo")]
        service: Option<crate::subgraphs::ServiceName>,
        /// Serve only the web UI, sending its GraphQL to this federation gateway (e.g.
        /// http://127.0.0.1:4000/graphql), for the split deployment (see ops/federation).
        #[arg(long, value_name = "GATEWAY_URL", conflicts_with_all = ["demo", "service"])]
        web_through: Option<String>,
    },
    /// Import data kept elsewhere.
    Import {
        #[command(subcommand)]
        import: ImportCommand,
    },
    /// Rebuild a projection from the log.
    Rebuild {
        #[command(subcommand)]
        rebuild: RebuildCommand,
    },
    /// Create or migrate the PostgreSQL event store's schema (store.backend = "postgres",
    /// store.url or HEARD_STORE__URL) and print its version. `heard serve` also migrates when
    /// it starts; several may run at once.
    Migrate {
        /// A TOML config file (see ops/heard.example.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Walk the hash chain of the event log and report the first break. The log is --data,
    /// --store-url, or else the configured one (store.backend, store.url, data_dir).
    Verify {
        /// A data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// A PostgreSQL event store (postgres://user@host:port/database).
        #[arg(long)]
        store_url: Option<String>,
        /// A TOML config file (see ops/heard.example.toml), read when neither is given.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Verify only up to this global position (as quoted by a report).
        #[arg(long)]
        at: Option<u64>,
    },
    /// Print every event in global order as NDJSON, personal fields still encrypted. The log is
    /// --data, --store-url, or else the configured one.
    Export {
        /// A data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// A PostgreSQL event store (postgres://user@host:port/database).
        #[arg(long)]
        store_url: Option<String>,
        /// A TOML config file, read when neither is given.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Copy a whole store into a new, empty one, between any backends: every event in global
    /// order exactly as recorded (so `heard verify` gives the same chain head on both), every
    /// person's key, and every erasure (an erased person stays erased). Each of --from and --to
    /// is a data directory or a postgres:// URL. Stop every Heard using the source first. Prints
    /// progress on stderr, then one JSON line with the events, keys and the chain head.
    Copy {
        /// The store to copy: a data directory or postgres://user@host:port/database.
        #[arg(long)]
        from: String,
        /// Where to copy it: a new or empty data directory, or a PostgreSQL database (schema)
        /// with no Heard events or keys.
        #[arg(long)]
        to: String,
    },
    /// Back up a store into one file, while Heard runs or not: the whole log, every person's key
    /// (erased people's as erased; each sealed under the person's backup key in the keyring
    /// beside backup.erasure_register, which erasing them destroys) and the server key,
    /// encrypted under the passphrase configured in [backup] (passphrase_file, or
    /// HEARD_BACKUP__PASSPHRASE), with a SHA-256 checksum.
    /// Read models are not in it: a restore rebuilds them. The store is --data, --store-url, or
    /// else the configured one. Prints one JSON line with the events, the chain head and the
    /// checksum.
    Backup {
        /// The backup file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
        /// A data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// A PostgreSQL event store (postgres://user@host:port/database).
        #[arg(long)]
        store_url: Option<String>,
        /// A TOML config file (see ops/heard.example.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Restore a backup into a new data directory: checks the file's checksum, opens it with
    /// the configured passphrase, writes every event and key (opened with the backup keyring
    /// beside the erasure register: people erased after the backup was taken have no backup key
    /// left, and the register names them too), verifies the chain and
    /// rebuilds every read model and the search index. A failed restore leaves nothing behind.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The data directory to restore into: new, or empty.
        #[arg(long)]
        data: PathBuf,
        /// A TOML config file (see ops/heard.example.toml): the passphrase, the erasure register.
        #[arg(long)]
        config: Option<PathBuf>,
        /// An erasure register to apply besides the configured one (repeat for several).
        #[arg(long = "erasures")]
        erasures: Vec<PathBuf>,
        /// Restore with no erasure register at all (only a backup whose keys are not sealed, from
        /// before backup keyrings, or one holding no one's key).
        #[arg(long)]
        without_erasure_register: bool,
    },
    /// Print the composed GraphQL schema (SDL), or write every committed SDL file.
    Schema {
        /// Write `heard.graphql` and one subgraph file per service into this folder
        /// (normally `schema/`) instead of printing.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Administration that must work before anyone can log in.
    Admin {
        #[command(subcommand)]
        admin: AdminCommand,
    },
    /// Erase everything Heard holds about a person, at their request: the words and details of
    /// every feedback item, case and complaint of theirs are gone for good; counts, dates and
    /// themes stay. Asks for confirmation unless --yes. Prints how many records of each kind
    /// were erased. Run it while Heard is stopped (while it runs, use `eraseSubject`).
    Erase {
        /// The person's id (the opaque id the hub or service holds for them).
        #[arg(long)]
        person: String,
        /// Erase without asking.
        #[arg(long)]
        yes: bool,
        /// Data directory (overrides the config file and HEARD_DATA_DIR).
        #[arg(long)]
        data: Option<PathBuf>,
        /// A TOML config file (see ops/heard.example.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print everything Heard holds about a person, to give it to them: as JSON (the same shape
    /// as the GraphQL `subjectAccess`) or as a readable HTML page. The request is recorded on
    /// the access log. Run it while Heard is stopped.
    SubjectAccess {
        /// The person's id (the opaque id the hub or service holds for them).
        #[arg(long)]
        person: String,
        #[arg(long, value_enum, default_value = "json")]
        format: SubjectAccessFormat,
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Erase every record whose retention period (the [retention] section of the config) has
    /// ended, as `heard serve` does once a day; with --dry-run, only list them. Prints what was
    /// due and erased, as ids and counts. Run it while Heard is stopped.
    Retention {
        /// List the records that are due, and erase nothing.
        #[arg(long)]
        dry_run: bool,
        /// Count the periods to this day (YYYY-MM-DD) instead of today.
        #[arg(long)]
        today: Option<String>,
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// How `heard subject-access` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SubjectAccessFormat {
    Json,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a hub's feedback spreadsheet: an Excel workbook (.xlsx), an OpenDocument
    /// spreadsheet (.ods) or CSV, with columns for the date, channel, about, text, themes,
    /// speaker and consent (matched by name, e.g. "Date said", "Where", "Who said it"; other
    /// columns are left out). Nothing is imported unless every row is valid, or with
    /// --skip-invalid the good rows are and the bad ones are written to a rejects file.
    /// Importing the same rows twice adds nothing. While Heard runs, import from its web page
    /// "Import a spreadsheet" instead.
    Feedback {
        #[arg(long)]
        data: PathBuf,
        /// The hub the feedback was heard at (id or name, e.g. arun).
        #[arg(long)]
        hub: String,
        /// Import the valid rows and write the others to --rejects.
        #[arg(long)]
        skip_invalid: bool,
        /// Where rejected rows go (default: FILE with `.rejects.csv`).
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// The sheet of a workbook to read (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// What a column Heard does not recognise holds, as HEADING=COLUMN (COLUMN one of date,
        /// channel, about, text, themes, speaker, consent, or "none" to leave it out). Repeat
        /// for several columns.
        #[arg(long = "column", value_name = "HEADING=COLUMN")]
        columns: Vec<String>,
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RebuildCommand {
    /// Rebuild the search index from the log into a new directory and swap it in.
    Search {
        /// The data directory the index is kept in (and the log, without --store-url).
        #[arg(long)]
        data: PathBuf,
        /// The log in PostgreSQL (postgres://user@host:port/database), when Heard keeps it there.
        #[arg(long)]
        store_url: Option<String>,
    },
    /// Rebuild saved read models from the log now: one (identity, feedback, advocacy,
    /// rights, commissioning) or all. Run it while Heard is stopped.
    Models {
        #[arg(default_value = "all")]
        model: String,
        /// The data directory the models are kept in (and the log, without --store-url).
        #[arg(long)]
        data: PathBuf,
        /// The log in PostgreSQL (postgres://user@host:port/database), when Heard keeps it there.
        #[arg(long)]
        store_url: Option<String>,
    },
}

/// The read models Heard saves between starts (`heard rebuild models`).
pub const SAVED_MODELS: [&str; 6] = ["identity", "feedback", "advocacy", "rights", "commissioning", "privacy"];

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (the first administrator, usually). Prints a one-time password, or
    /// reads the password from stdin with --password-stdin. Run it while Heard is stopped.
    CreateUser {
        /// The data directory: its log, or with --store-url this command's own read models (not
        /// a running replica's directory).
        #[arg(long)]
        data: PathBuf,
        /// The PostgreSQL log to create the account in (postgres://…), created if new, as
        /// `heard serve` does; replicas then take their `secret.key` from --data.
        #[arg(long)]
        store_url: Option<String>,
        #[arg(long)]
        email: String,
        /// administrator, hub_coordinator, hub_member, advocate, complaints_handler,
        /// commissioner or provider_responder. Repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// A hub id or name (e.g. arun, "Adur & Worthing"). Repeat for several.
        #[arg(long = "hub")]
        hubs: Vec<String>,
        /// A provider id or name, for provider responders.
        #[arg(long)]
        provider: Option<String>,
        /// The name other people see. Defaults to the part of the email before the @.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("heard: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("heard: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { data, listen, config, demo, service, web_through } => {
            let mut settings = Settings::load(config.as_deref(), std::env::vars())?;
            if let Some(data) = data {
                settings.data_dir = data;
            }
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            settings.validate().map_err(anyhow::Error::msg)?;
            settings.store.complete().map_err(anyhow::Error::msg)?;
            crate::telemetry::init(&settings.log);
            match (service, web_through) {
                (Some(service), _) => serve_subgraph(settings, service).await?,
                (None, Some(gateway)) => serve_web(settings, &gateway).await?,
                (None, None) => serve(settings, demo).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { config } => {
            let settings = Settings::load(config.as_deref(), std::env::vars())?;
            settings.store.complete().map_err(anyhow::Error::msg)?;
            let Some(url) = settings.store.url.as_deref() else {
                anyhow::bail!(
                    "the embedded store needs no migration (set store.backend = \"postgres\" and store.url to migrate PostgreSQL)"
                );
            };
            let config = heard_eventstore::postgres_backend::parse_url(url)?;
            let version = heard_eventstore::postgres_backend::migrate_with(&config).await?;
            println!("the PostgreSQL event store is at schema version {version}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { data, store_url, config, at } => {
            let (place, flag) = StorePlace::chosen(data, store_url, config.as_deref())?;
            let store = place.open_existing(flag).await?;
            let report = verify_chain(&store, at).await;
            store.close().await?;
            let report = report?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Export { data, store_url, config } => {
            let (place, flag) = StorePlace::chosen(data, store_url, config.as_deref())?;
            let store = place.open_existing(flag).await?;
            let exported = export(&store).await;
            store.close().await?;
            exported?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Copy { from, to } => copy(&from, &to).await,
        Command::Backup { to, data, store_url, config } => {
            crate::backup::back_up(crate::backup::BackupArgs { to, data, store_url, config }).await
        }
        Command::Restore { from, data, config, erasures, without_erasure_register } => {
            crate::backup::restore(crate::backup::RestoreArgs {
                from,
                data,
                config,
                erasures,
                without_erasure_register,
            })
            .await
        }
        Command::Schema { write: None } => {
            print!("{}", crate::graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { write: Some(dir) } => {
            std::fs::create_dir_all(&dir)?;
            for (name, sdl) in crate::graphql::sdl_files() {
                std::fs::write(dir.join(name), sdl)?;
                println!("wrote {}", dir.join(name).display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            import: ImportCommand::Feedback { data, hub, skip_invalid, rejects, sheet, columns, file },
        } => {
            let choices = column_choices(&columns)?;
            let how = ImportHow { skip_invalid, rejects, sheet, choices };
            import_feedback(&data, &hub, how, &file).await
        }
        Command::Rebuild { rebuild: RebuildCommand::Search { data, store_url } } => {
            rebuild_search(&data, store_url).await
        }
        Command::Rebuild { rebuild: RebuildCommand::Models { model, data, store_url } } => {
            rebuild_models(&data, store_url, &model).await
        }
        Command::Admin {
            admin: AdminCommand::CreateUser { data, store_url, email, roles, hubs, provider, name, password_stdin },
        } => {
            let store = match store_url {
                Some(url) => match StorePlace::parse("--store-url", &url)? {
                    StorePlace::Dir(_) => {
                        anyhow::bail!("--store-url: give a postgres:// URL (the directory goes in --data)")
                    }
                    StorePlace::Postgres(url) => {
                        std::fs::create_dir_all(&data).map_err(|error| anyhow::anyhow!("--data: {error}"))?;
                        EventStore::open_postgres(&url, Upcasters::new())
                            .await
                            .map_err(|error| anyhow::anyhow!("--store-url: cannot open the event store: {error}"))?
                    }
                },
                None => {
                    EventStore::open_embedded(&data, BackendKind::detect(&data).unwrap_or_default(), Upcasters::new())?
                }
            };
            create_user(store, &data, email, roles, hubs, provider, name, password_stdin).await
        }
        Command::Erase { person, yes, data, config } => {
            let settings = offline_settings(config.as_deref(), data)?;
            erase(&settings, &person, yes).await
        }
        Command::SubjectAccess { person, format, data, config } => {
            let settings = offline_settings(config.as_deref(), data)?;
            subject_access(&settings, &person, format).await
        }
        Command::Retention { dry_run, today, data, config } => {
            let settings = offline_settings(config.as_deref(), data)?;
            let today = match today {
                Some(text) => {
                    heard_contracts::day::parse(&text).map_err(|error| anyhow::anyhow!("--today: {error}"))?
                }
                None => heard_api::today(),
            };
            retention(&settings, today, dry_run).await
        }
    }
}

/// The settings of a command run while Heard is stopped: the config file and `HEARD_…`
/// variables, with `--data` over them.
fn offline_settings(config: Option<&std::path::Path>, data: Option<PathBuf>) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(config, std::env::vars())?;
    if let Some(data) = data {
        settings.data_dir = data;
    }
    settings.validate().map_err(anyhow::Error::msg)?;
    Ok(settings)
}

/// Opens every service over the log in `settings.data_dir`, which must exist and not be in use
/// by a running Heard.
/// On PostgreSQL (`store.backend = "postgres"`), the log is the shared one (created if new, as
/// `heard serve` does) and the data directory holds this command's read models, so it must not
/// be a running replica's.
async fn open_stopped(settings: &Settings) -> anyhow::Result<(EventStore, crate::services::Services)> {
    let data = &settings.data_dir;
    let store = if settings.store.backend == BackendKind::Postgres {
        std::fs::create_dir_all(data)
            .map_err(|error| anyhow::anyhow!("cannot create the data directory {}: {error}", data.display()))?;
        EventStore::open_configured(data, settings.store.backend, settings.store.url.as_deref(), Upcasters::new())
            .await
            .map_err(|error| anyhow::anyhow!("store.url: cannot open the event store in PostgreSQL: {error}"))?
    } else {
        match open_existing(data) {
            Err(error) if matches!(error.downcast_ref(), Some(heard_eventstore::Error::Locked)) => {
                anyhow::bail!("Heard is running on {}: stop it, then run this again", data.display())
            }
            opened => opened?,
        }
    };
    if let Err(error) = settings.backup.keep_register(&store) {
        let _ = store.close().await;
        anyhow::bail!(error);
    }
    match crate::services::Services::open(&store, settings).await {
        Ok(services) => Ok((store, services)),
        Err(error) => {
            let _ = store.close().await;
            Err(error)
        }
    }
}

async fn close(store: EventStore, services: crate::services::Services) -> anyhow::Result<()> {
    store.close().await?;
    services.stopped().await;
    Ok(())
}

/// The person `--person` names. What was typed is never repeated (it could be a name).
fn person_arg(text: &str) -> anyhow::Result<heard_contracts::privacy::PersonId> {
    uuid::Uuid::parse_str(text.trim())
        .map(heard_contracts::privacy::PersonId)
        .map_err(|_| anyhow::anyhow!("--person: this is not a person id; give the id Heard holds for them (a UUID)"))
}

/// The person, if Heard holds any record of them (or erased them).
fn known_person(
    services: &crate::services::Services,
    text: &str,
) -> anyhow::Result<heard_contracts::privacy::PersonId> {
    let person = person_arg(text)?;
    if !services.privacy.knows(person) {
        anyhow::bail!("--person: Heard holds no records of this person");
    }
    Ok(person)
}

async fn erase(settings: &Settings, person: &str, yes: bool) -> anyhow::Result<ExitCode> {
    person_arg(person)?;
    let (store, services) = open_stopped(settings).await?;
    let outcome = erase_person(&services, person, yes).await;
    close(store, services).await?;
    outcome
}

async fn erase_person(services: &crate::services::Services, person: &str, yes: bool) -> anyhow::Result<ExitCode> {
    let person = known_person(services, person)?;
    if let Some(at) = services.privacy.erased_at(person) {
        anyhow::bail!("--person: this person's records were already erased ({})", heard_api::timestamp(at));
    }
    let records = services.privacy.records_of(person);
    let counts = heard_privacy::service::count_by_kind(&records);
    if !yes {
        eprintln!(
            "This erases {} record(s) about person {person}: {} feedback item(s), {} case(s), {} complaint(s).",
            records.len(),
            counts["feedback_item"],
            counts["case"],
            counts["complaint"],
        );
        eprintln!("Their words and details cannot be brought back. Counts, dates and themes stay.");
        eprint!("Type yes to erase them: ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            eprintln!("Nothing was erased.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let erased = services.privacy.erase_person(person, None).await.map_err(|error| anyhow::anyhow!(error.message()))?;
    let counts = heard_privacy::service::count_by_kind(&erased.event.records);
    println!(
        "{}",
        json!({
            "person": person.to_string(),
            "erased_at": heard_api::timestamp(erased.erased_at_micros),
            "erased": counts,
            "keys_destroyed": erased.event.subjects.len(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

async fn subject_access(settings: &Settings, person: &str, format: SubjectAccessFormat) -> anyhow::Result<ExitCode> {
    person_arg(person)?;
    let (store, services) = open_stopped(settings).await?;
    let answer = async {
        let person = known_person(&services, person)?;
        services.privacy.record_subject_access(person, None).await.map_err(|error| anyhow::anyhow!(error.message()))?;
        services.subject_access(person).await
    }
    .await;
    close(store, services).await?;
    let answer = answer?;
    match format {
        SubjectAccessFormat::Json => println!("{}", serde_json::to_string_pretty(&answer)?),
        SubjectAccessFormat::Html => print!("{}", subject_access_html(&answer)),
    }
    Ok(ExitCode::SUCCESS)
}

async fn retention(settings: &Settings, today: jiff::civil::Date, dry_run: bool) -> anyhow::Result<ExitCode> {
    let rules = settings.retention.rules().map_err(anyhow::Error::msg)?;
    let (store, services) = open_stopped(settings).await?;
    let report = services.apply_retention(today, &rules, dry_run).await;
    close(store, services).await?;
    println!("{}", serde_json::to_string(&report?)?);
    Ok(ExitCode::SUCCESS)
}

/// Text made safe to put in HTML.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A field's name in words: `feedbackItems` → "Feedback items".
fn label(key: &str) -> String {
    let mut words = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn scalar_html(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "none".to_owned(),
        serde_json::Value::Bool(true) => "yes".to_owned(),
        serde_json::Value::Bool(false) => "no".to_owned(),
        serde_json::Value::String(text) => escape_html(text),
        serde_json::Value::Array(items) if items.is_empty() => "none".to_owned(),
        serde_json::Value::Array(items) => items.iter().map(scalar_html).collect::<Vec<_>>().join(", "),
        other => escape_html(&other.to_string()),
    }
}

/// A value shown as text: a scalar, or a list of scalars.
fn is_scalar(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(_) => false,
        serde_json::Value::Array(items) => items.iter().all(|item| !item.is_object() && !item.is_array()),
        _ => true,
    }
}

fn is_flat(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(|fields| fields.values().all(is_scalar))
}

/// One value as HTML: scalars as text, a list of flat objects as a table, anything else as
/// nested definition lists. `level` is the heading level for lists' items.
fn value_html(out: &mut String, value: &serde_json::Value, level: usize, name: &str) {
    use std::fmt::Write as _;
    match value {
        serde_json::Value::Array(items) if items.is_empty() => out.push_str("<p>None.</p>\n"),
        serde_json::Value::Array(items) if items.iter().all(is_flat) => {
            let mut columns: Vec<&String> = Vec::new();
            for item in items {
                for key in item.as_object().into_iter().flat_map(|fields| fields.keys()) {
                    if !columns.contains(&key) {
                        columns.push(key);
                    }
                }
            }
            let _ = writeln!(out, "<table>\n<caption>{} ({})</caption>\n<thead><tr>", escape_html(name), items.len());
            for column in &columns {
                let _ = write!(out, "<th scope=\"col\">{}</th>", escape_html(&label(column)));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for item in items {
                out.push_str("<tr>");
                for column in &columns {
                    let _ = write!(
                        out,
                        "<td>{}</td>",
                        scalar_html(item.get(column.as_str()).unwrap_or(&serde_json::Value::Null))
                    );
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n");
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let heading = level.min(6);
                let _ = writeln!(out, "<section>\n<h{heading}>{} {}</h{heading}>", escape_html(name), index + 1);
                value_html(out, item, level + 1, name);
                out.push_str("</section>\n");
            }
        }
        serde_json::Value::Object(fields) => {
            out.push_str("<dl>\n");
            for (key, field) in fields {
                let _ = write!(out, "<dt>{}</dt>\n<dd>", escape_html(&label(key)));
                if !is_scalar(field) {
                    out.push('\n');
                    value_html(out, field, level + 1, &label(key));
                } else {
                    out.push_str(&scalar_html(field));
                }
                out.push_str("</dd>\n");
            }
            out.push_str("</dl>\n");
        }
        scalar => out.push_str(&scalar_html(scalar)),
    }
}

/// The subject access answer as a plain, readable and accessible HTML page: the facts first,
/// then one section per kind of record, each record's fields in words.
pub fn subject_access_html(answer: &serde_json::Value) -> String {
    use std::fmt::Write as _;
    let person = answer.get("person").and_then(|p| p.as_str()).unwrap_or_default();
    let title = format!("What Heard holds about person {}", escape_html(person));
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;line-height:1.5;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff}}\
         table{{border-collapse:collapse;margin:1rem 0}}caption{{text-align:left;font-weight:bold}}\
         th,td{{border:1px solid #444;padding:.3rem .5rem;text-align:left;vertical-align:top}}dt{{font-weight:bold}}dd{{margin:0 0 .5rem 1.5rem}}</style>\n\
         </head>\n<body>\n<main>\n<h1>{title}</h1>\n"
    );
    let empty = serde_json::Map::new();
    let fields = answer.as_object().unwrap_or(&empty);
    out.push_str("<dl>\n");
    for (key, value) in fields.iter().filter(|(_, value)| !value.is_array() && !value.is_object()) {
        let _ = writeln!(out, "<dt>{}</dt>\n<dd>{}</dd>", escape_html(&label(key)), scalar_html(value));
    }
    out.push_str("</dl>\n");
    for (key, value) in fields.iter().filter(|(_, value)| value.is_array() || value.is_object()) {
        let _ = writeln!(out, "<section>\n<h2>{}</h2>", escape_html(&label(key)));
        value_html(&mut out, value, 3, &label(key));
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

#[allow(clippy::too_many_arguments)]
async fn create_user(
    store: EventStore,
    data: &std::path::Path,
    email: String,
    roles: Vec<String>,
    hubs: Vec<String>,
    provider: Option<String>,
    name: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    let roles = roles.iter().map(|role| role.parse::<heard_access::Role>()).collect::<Result<Vec<_>, _>>();
    let roles = roles.map_err(|error| anyhow::anyhow!("--role: {error}"))?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let models = heard_eventstore::ModelStore::open(&data.join("models"))?;
    let identity = heard_identity::IdentityService::open(store.clone(), data, Default::default(), &models).await?;
    let pick = |wanted: &str, known: Vec<(String, String)>, flag: &str| -> anyhow::Result<String> {
        let slug = heard_identity::domain::slug(wanted);
        known
            .iter()
            .find(|(id, name)| *id == wanted || *id == slug || heard_identity::domain::slug(name) == slug)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                let ids: Vec<&str> = known.iter().map(|(id, _)| id.as_str()).collect();
                anyhow::anyhow!("{flag}: there is no `{wanted}`; use one of {}", ids.join(", "))
            })
    };
    let hub_ids: Vec<(String, String)> = identity.hubs().into_iter().map(|hub| (hub.id, hub.name)).collect();
    let hubs = hubs.iter().map(|hub| pick(hub, hub_ids.clone(), "--hub")).collect::<anyhow::Result<Vec<_>>>()?;
    let provider_ids: Vec<(String, String)> = identity.providers().into_iter().map(|p| (p.id, p.name)).collect();
    let provider = provider.map(|provider| pick(&provider, provider_ids, "--provider")).transpose()?;
    let display_name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let new = heard_identity::NewAccount { email, display_name, roles, hubs, provider, password };
    let created = identity.create_account(None, new).await;
    store.close().await?;
    identity.stopped().await;
    let flags = [
        ("input.displayName", "--name"),
        ("input.hubs", "--hub"),
        ("input.roles", "--role"),
        ("input.password", "the password on stdin"),
        ("input.", "--"),
    ];
    let (account, one_time) = created.map_err(|error| {
        anyhow::anyhow!(flags.iter().fold(error.message(), |message, (field, flag)| message.replace(field, flag)))
    })?;
    println!(
        "created account {} ({})",
        account.id,
        account.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
    );
    if let Some(password) = one_time {
        println!("one-time password: {password}");
        println!("give it to the person privately; Heard asks them to choose their own at their first login.");
    }
    Ok(ExitCode::SUCCESS)
}

/// How `heard import feedback` reads and imports a file.
struct ImportHow {
    skip_invalid: bool,
    rejects: Option<PathBuf>,
    sheet: Option<String>,
    choices: Vec<heard_feedback::import::Choice>,
}

/// The largest file the command line reads: it runs on the hub's own machine, so it allows far
/// more than an upload.
const MAX_COMMAND_LINE_FILE: usize = 1024 * 1024 * 1024;

/// `--column "Date said=date"` choices; a wrong one names the option.
fn column_choices(columns: &[String]) -> anyhow::Result<Vec<heard_feedback::import::Choice>> {
    use heard_feedback::import::{Choice, Column};
    columns
        .iter()
        .map(|pair| {
            let Some((heading, column)) = pair.rsplit_once('=') else {
                anyhow::bail!("--column: write it as HEADING=COLUMN, for example \"Date said=date\"");
            };
            let column = match column.trim() {
                "none" | "" => None,
                name => Some(Column::parse(name).ok_or_else(|| {
                    let names = Column::ALL.map(Column::name).join(", ");
                    anyhow::anyhow!("--column: the column after = must be one of {names}, or none")
                })?),
            };
            Ok(Choice { heading: heading.trim().to_owned(), column })
        })
        .collect()
}

async fn import_feedback(
    data: &std::path::Path,
    hub: &str,
    how: ImportHow,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
    let store = match open_existing(data) {
        Err(error) if matches!(error.downcast_ref(), Some(heard_eventstore::Error::Locked)) => anyhow::bail!(
            "Heard is running on {}: import the spreadsheet from its web page \"Import a spreadsheet\" while it runs, or stop Heard and run this again",
            data.display()
        ),
        opened => opened?,
    };
    let models = heard_eventstore::ModelStore::open(&data.join("models"))?;
    let feedback = heard_feedback::FeedbackService::open(store.clone(), data, &models).await?;
    let outcome = import_rows(&feedback, hub, how, file, &bytes).await;
    store.close().await?;
    feedback.stopped().await;
    outcome
}

async fn import_rows(
    feedback: &heard_feedback::FeedbackService,
    hub: &str,
    how: ImportHow,
    file: &std::path::Path,
    bytes: &[u8],
) -> anyhow::Result<ExitCode> {
    use heard_feedback::import::{Known, Options};
    let hub_slug = heard_identity::domain::slug(hub);
    let (hub, providers, vocabulary) = feedback.read(|state| {
        let hub = state
            .reference
            .hubs
            .iter()
            .find(|(id, name)| id.as_str() == hub || **id == hub_slug || heard_identity::domain::slug(name) == hub_slug)
            .map(|(id, _)| id.clone());
        let providers: Vec<(String, String)> =
            state.reference.providers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        (hub, providers, state.vocabulary.clone())
    });
    let Some(hub) = hub else {
        let known = feedback.read(|state| state.reference.hubs.keys().cloned().collect::<Vec<_>>().join(", "));
        anyhow::bail!("--hub: there is no such hub; use one of {known}");
    };
    let today = heard_feedback::service::today();
    let known = Known { hub: &hub, providers: &providers, vocabulary: &vocabulary, today };
    let options = Options { sheet: how.sheet.as_deref(), choices: &how.choices, max_bytes: MAX_COMMAND_LINE_FILE };
    let reading = heard_feedback::import::read(bytes, options, known)
        .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    for notice in &reading.table.notices {
        eprintln!("{}: {notice}", file.display());
    }
    if let Some(problem) = &reading.problem {
        anyhow::bail!("{}: {problem} (with --column \"HEADING=COLUMN\")", file.display());
    }
    let parsed = &reading.parsed;
    let rejected = parsed.rows_to_fix();
    if !parsed.errors.is_empty() {
        for error in &parsed.errors {
            eprintln!("{}: {error}", file.display());
        }
        if !how.skip_invalid {
            eprintln!(
                "nothing was imported: {rejected} row(s) need fixing. Fix them, or use --skip-invalid to import the rest."
            );
            return Ok(ExitCode::FAILURE);
        }
        let path = how.rejects.unwrap_or_else(|| file.with_extension("rejects.csv"));
        std::fs::write(&path, heard_feedback::import::rejects_csv(&reading))?;
        eprintln!("rejected rows written to {}", path.display());
    }
    let rows = reading.parsed.rows.iter().map(|row| row.item.clone()).collect();
    let (imported, duplicates) =
        feedback.import(uuid::Uuid::nil(), rows).await.map_err(|e| anyhow::anyhow!(e.message()))?;
    println!("{}", json!({ "imported": imported, "already_there": duplicates, "rejected": rejected }));
    Ok(ExitCode::SUCCESS)
}

/// The log a rebuild reads: in PostgreSQL with `--store-url`, else in the data directory.
async fn rebuild_log(data: &std::path::Path, store_url: Option<String>) -> anyhow::Result<EventStore> {
    match store_url {
        Some(url) => match StorePlace::parse("--store-url", &url)? {
            StorePlace::Dir(_) => {
                anyhow::bail!("--store-url: not a PostgreSQL URL (postgres://user@host:port/database)")
            }
            place => place.open_existing("--store-url").await,
        },
        None => StorePlace::Dir(data.to_owned()).open_existing("--data").await.map_err(|error| {
            let running = format!("Heard is running on {}", data.display());
            if error.to_string().contains(&running) {
                anyhow::anyhow!("{running}: stop it, then rebuild")
            } else {
                error
            }
        }),
    }
}

async fn rebuild_models(data: &std::path::Path, store_url: Option<String>, model: &str) -> anyhow::Result<ExitCode> {
    let chosen: Vec<&str> = match model {
        "all" => SAVED_MODELS.to_vec(),
        one if SAVED_MODELS.contains(&one) => vec![one],
        _ => anyhow::bail!("MODEL: choose one of {} or all", SAVED_MODELS.join(", ")),
    };
    let started = std::time::Instant::now();
    let store = rebuild_log(data, store_url).await?;
    let models = heard_eventstore::ModelStore::open(&data.join("models"))?;
    for name in &chosen {
        models.forget(name)?;
    }
    drop(models);
    // Opening the services rebuilds what was forgotten (with its progress in the log); closing
    // the store saves it.
    let settings = Settings { data_dir: data.to_owned(), ..Settings::default() };
    let services = crate::services::Services::open(&store, &settings).await?;
    store.close().await?;
    services.stopped().await;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({ "rebuilt": chosen, "events": store.head().position, "seconds": (seconds * 1000.0).round() / 1000.0 })
    );
    Ok(ExitCode::SUCCESS)
}

async fn rebuild_search(data: &std::path::Path, store_url: Option<String>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let store = rebuild_log(data, store_url).await?;
    let root = data.join("search");
    let old = std::fs::read_to_string(root.join("CURRENT")).ok().map(|name| root.join(name.trim()));
    let generation = format!("g{}", uuid::Uuid::now_v7().simple());
    let index = heard_feedback::search::SearchIndex::create(&root.join(&generation))?;
    // The model is rebuilt with the index, so that the two agree.
    let models = heard_eventstore::ModelStore::open(&data.join("models"))?;
    models.forget("feedback")?;
    let feedback = heard_feedback::FeedbackService::start(store.clone(), std::sync::Arc::new(index), &models).await?;
    let items = feedback.read(|state| state.items.len());
    let events = store.head().position;
    store.close().await?;
    feedback.stopped().await;
    drop(feedback);
    heard_feedback::search::SearchIndex::set_current(&root, &generation)?;
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(old);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{}", json!({ "events": events, "items": items, "seconds": (seconds * 1000.0).round() / 1000.0 }));
    Ok(ExitCode::SUCCESS)
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let server = crate::server::start(&settings).await?;
    if demo {
        let accounts = heard_demo::seed(server.services.demo()).await?;
        println!("Demo accounts (password for each, shown because this is a demo):");
        for (email, role, password) in accounts {
            println!("  {email:<36} {role:<20} {password}");
        }
    }
    println!("Heard is running at http://{}/  (GraphQL: http://{}/graphql)", server.addr, server.addr);
    shutdown.await;
    tracing::info!("shutting down");
    server.shutdown().await
}

async fn serve_subgraph(settings: Settings, service: crate::subgraphs::ServiceName) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let subgraph = crate::subgraphs::start(&settings, service).await?;
    println!("Heard's {} subgraph is running at http://{}/graphql", service.as_str(), subgraph.addr);
    shutdown.await;
    tracing::info!("shutting down");
    subgraph.shutdown().await
}

async fn serve_web(settings: Settings, gateway: &str) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let web = crate::web_split::start(&settings, gateway).await?;
    println!("Heard's web UI is running at http://{}/ (its GraphQL through {gateway})", web.addr);
    shutdown.await;
    tracing::info!("shutting down");
    web.shutdown().await
}

/// Listens for Ctrl-C and SIGTERM from now on (the handlers are installed before this returns,
/// so a signal sent as soon as Heard says it is running is never missed).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async move {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `heard copy`: opens the source (which must hold a log) and the destination (which must hold
/// nothing), copies, and prints the chain head both now end at.
async fn copy(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let (from, to) = (StorePlace::parse("--from", from)?, StorePlace::parse("--to", to)?);
    if from == to {
        anyhow::bail!("--to: the destination is the source; give another directory or database");
    }
    let source = from.open_existing("--from").await?;
    let destination = match to.open_empty("--to").await {
        Ok(destination) => destination,
        Err(error) => {
            let _ = source.close().await;
            return Err(error);
        }
    };
    let mut printed = std::time::Instant::now();
    let copied = heard_eventstore::copy::copy_store(&source, &destination, |copied, total| {
        if copied == total || printed.elapsed() >= std::time::Duration::from_secs(1) {
            eprintln!("copied {copied} of {total} events");
            printed = std::time::Instant::now();
        }
    })
    .await;
    let closed = (source.close().await, destination.close().await);
    let report = copied?;
    closed.0?;
    closed.1?;
    println!(
        "{}",
        json!({
            "events": report.events,
            "keys": report.keys,
            "erased_keys": report.destroyed,
            "head_position": report.head.position,
            "head": hex::encode(report.head.hash),
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the backup format: one JSON object per event, in global order.
async fn export(store: &EventStore) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut from = 1;
    loop {
        let page = store.read_all_raw(from, 4096).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in page {
            let personal = match &event.personal {
                Personal::Sealed(sealed) => json!({
                    "subject": sealed.subject,
                    "nonce": hex::encode(sealed.nonce),
                    "ciphertext": hex::encode(&sealed.ciphertext),
                }),
                _ => serde_json::Value::Null,
            };
            let line = json!({
                "position": event.position,
                "stream": event.stream.as_str(),
                "revision": event.revision,
                "id": event.id,
                "type": event.event_type,
                "version": event.schema_version,
                "recorded_at_micros": event.recorded_at_micros,
                "prev_hash": hex::encode(event.prev_hash),
                "hash": hex::encode(event.hash),
                "metadata": event.metadata_json()?,
                "data": event.data_json()?,
                "personal": personal,
            });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}
