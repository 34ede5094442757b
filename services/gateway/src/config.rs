//! Layered configuration: built-in defaults, then a TOML file (`--config`), then `HEARD_…`
//! environment variables (`HEARD_SECTION__KEY`, e.g. `HEARD_LOG__FORMAT=json`), then the
//! command line. Every value is validated, and an error names the key and what was wrong.
//! `ops/heard.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything `heard serve` can be configured with.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the event log, keys, projections and search index live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The address to listen on, e.g. `127.0.0.1:8080`. Port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default)]
    pub store: StoreSettings,
    #[serde(default)]
    pub log: LogSettings,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub calendar: CalendarSettings,
    #[serde(default)]
    pub http: HttpSettings,
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub history: HistorySettings,
    #[serde(default)]
    pub retention: RetentionSettings,
    #[serde(default)]
    pub backup: BackupSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
}

/// Who may read `/metrics`: anyone who can reach it (the default), only with a bearer token,
/// and/or only on an address of its own.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct MetricsSettings {
    /// When set, `/metrics` answers 401 unless the request carries `Authorization: Bearer
    /// <token>` (compared in constant time). 16 to 256 visible ASCII characters.
    #[serde(deserialize_with = "optional_text")]
    pub token: Option<String>,
    /// When set, `/metrics` is served on this address only (e.g. `127.0.0.1:9100`), and the
    /// main listener answers 404 for it.
    pub listen: Option<String>,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("token", &self.token.as_ref().map(|_| "(set, not shown)"))
            .field("listen", &self.listen)
            .finish()
    }
}

/// The shortest and longest `metrics.token` accepted.
pub const METRICS_TOKEN_CHARS: std::ops::RangeInclusive<usize> = 16..=256;

impl MetricsSettings {
    /// Checks the token's shape (never repeating it) and the address.
    fn validate(&self, main: Option<SocketAddr>) -> Result<(), String> {
        if let Some(token) = &self.token {
            if !METRICS_TOKEN_CHARS.contains(&token.len()) {
                return Err(format!(
                    "metrics.token must be {} to {} characters long (it is {})",
                    METRICS_TOKEN_CHARS.start(),
                    METRICS_TOKEN_CHARS.end(),
                    token.len()
                ));
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err("metrics.token must be visible ASCII characters only: no spaces, no accents".into());
            }
        }
        let listen = self.listen_addr()?;
        if let (Some(metrics), Some(main)) = (listen, main)
            && metrics == main
            && metrics.port() != 0
        {
            return Err(format!("metrics.listen must be another address than listen (both are {metrics})"));
        }
        Ok(())
    }

    /// The separate address for `/metrics`, if one is configured.
    pub fn listen_addr(&self) -> Result<Option<SocketAddr>, String> {
        self.listen
            .as_deref()
            .map(|listen| {
                listen.trim().parse().map_err(|_| {
                    format!("metrics.listen must be an address and port such as 127.0.0.1:9100, not {listen:?}")
                })
            })
            .transpose()
    }
}

/// A string that may have been read as a number from the environment
/// (`HEARD_METRICS__TOKEN=1234567890123456`).
fn optional_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Text>::deserialize(deserializer)?.map(|text| match text {
        Text::Text(text) => text,
        Text::Number(number) => number.to_string(),
    }))
}

/// `heard backup` and `heard restore`: the passphrase backups are encrypted under, and the
/// erasure register that keeps people erased after a backup erased when it is restored.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct BackupSettings {
    /// A file holding the passphrase (its first line), readable by Heard's user only.
    pub passphrase_file: Option<PathBuf>,
    /// The passphrase itself: for the environment (`HEARD_BACKUP__PASSPHRASE`), never a file
    /// others can read. Give this or `passphrase_file`, not both.
    pub passphrase: Option<String>,
    /// A file outside the data directory (on the backup volume) where every erasure notes the
    /// keys it destroys before destroying them; `heard restore` destroys them again.
    pub erasure_register: Option<PathBuf>,
}

impl std::fmt::Debug for BackupSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupSettings")
            .field("passphrase_file", &self.passphrase_file)
            .field("passphrase", &self.passphrase.as_ref().map(|_| ".."))
            .field("erasure_register", &self.erasure_register)
            .finish()
    }
}

impl BackupSettings {
    fn validate(&self) -> Result<(), String> {
        if self.passphrase_file.is_some() && self.passphrase.is_some() {
            return Err("backup.passphrase and backup.passphrase_file: give one of them, not both".into());
        }
        if self.passphrase.as_deref().is_some_and(|p| p.chars().count() < 12) {
            return Err("backup.passphrase must be at least 12 characters".into());
        }
        if self.erasure_register.as_deref().is_some_and(|path| path.as_os_str().is_empty()) {
            return Err("backup.erasure_register must be a file's path".into());
        }
        Ok(())
    }

    /// The passphrase, from `passphrase` or the first line of `passphrase_file`; the error names
    /// the key, never the passphrase.
    pub fn passphrase(&self) -> Result<String, String> {
        let passphrase = match (&self.passphrase, &self.passphrase_file) {
            (Some(passphrase), _) => passphrase.clone(),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| format!("backup.passphrase_file: cannot read {}: {error}", path.display()))?;
                text.lines().next().unwrap_or_default().to_owned()
            }
            (None, None) => {
                return Err(
                    "no backup passphrase: set backup.passphrase_file in the config, or HEARD_BACKUP__PASSPHRASE"
                        .into(),
                );
            }
        };
        if passphrase.chars().count() < 12 {
            return Err("the backup passphrase must be at least 12 characters (backup.passphrase_file)".into());
        }
        Ok(passphrase)
    }

    /// From now on every erasure through `store` is noted in the configured register first.
    pub fn keep_register(&self, store: &heard_eventstore::EventStore) -> Result<(), String> {
        match &self.erasure_register {
            Some(path) => {
                store.keep_erasure_register(path).map_err(|error| format!("backup.erasure_register: {error}"))
            }
            None => Ok(()),
        }
    }
}

/// How long each kind of record is kept before Heard's daily retention job erases it (through
/// the same path as a person's request). Each key is a number of days (1 to 36500), or
/// `"never"` to keep that kind until it is erased by hand. 0 is refused: it would erase every
/// record of that kind on the next run.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct RetentionSettings {
    /// Feedback items never shared beyond their hub, counted from the day they were said.
    pub feedback_not_shared_days: RetentionDays,
    /// Advocacy cases, counted from the day the client's last case was closed.
    pub cases_closed_days: RetentionDays,
    /// Complaints, counted from the day their outcome was recorded.
    pub complaints_after_outcome_days: RetentionDays,
}

/// A retention period as configured: days, or a word (only `never` is one).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum RetentionDays {
    Days(i64),
    Word(String),
}

/// The longest retention period accepted, in days (a hundred years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

impl RetentionDays {
    fn of(days: Option<u32>) -> Self {
        days.map_or_else(|| RetentionDays::Word("never".into()), |days| RetentionDays::Days(i64::from(days)))
    }

    fn parse(&self, key: &str) -> Result<Option<u32>, String> {
        let bad = |got: String| {
            format!(
                "retention.{key} must be a number of days from 1 to {MAX_RETENTION_DAYS}, or \"never\" to keep \
                 these records until they are erased by hand (got `{got}`)"
            )
        };
        match self {
            RetentionDays::Days(days) if (1..=MAX_RETENTION_DAYS).contains(days) => Ok(u32::try_from(*days).ok()),
            RetentionDays::Days(days) => Err(bad(days.to_string())),
            RetentionDays::Word(word) if word.trim().eq_ignore_ascii_case("never") => Ok(None),
            RetentionDays::Word(word) => Err(bad(word.escape_debug().to_string())),
        }
    }
}

impl Default for RetentionSettings {
    fn default() -> Self {
        let rules = heard_contracts::privacy::RetentionRules::default();
        RetentionSettings {
            feedback_not_shared_days: RetentionDays::of(rules.feedback_not_shared_days),
            cases_closed_days: RetentionDays::of(rules.cases_closed_days),
            complaints_after_outcome_days: RetentionDays::of(rules.complaints_after_outcome_days),
        }
    }
}

impl RetentionSettings {
    /// The rules the retention job applies; an error names the key that is wrong.
    pub fn rules(&self) -> Result<heard_contracts::privacy::RetentionRules, String> {
        Ok(heard_contracts::privacy::RetentionRules {
            feedback_not_shared_days: self.feedback_not_shared_days.parse("feedback_not_shared_days")?,
            cases_closed_days: self.cases_closed_days.parse("cases_closed_days")?,
            complaints_after_outcome_days: self.complaints_after_outcome_days.parse("complaints_after_outcome_days")?,
        })
    }
}

/// The copies of the commissioning model kept for answers as at a past day or position.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct HistorySettings {
    /// A copy every this many events (1,000 to 10,000,000).
    pub every: u64,
    /// At most this many copies, thinned evenly (2 to 1,000).
    pub keep: usize,
    /// Answers as at a moment kept in memory (0 to 64).
    pub cached: usize,
}

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings { every: 20_000, keep: 64, cached: 4 }
    }
}

impl HistorySettings {
    fn validate(&self) -> Result<(), String> {
        if !(1_000..=10_000_000).contains(&self.every) {
            return Err("history.every must be from 1000 to 10000000 events".into());
        }
        if !(2..=1_000).contains(&self.keep) {
            return Err("history.keep must be from 2 to 1000 copies".into());
        }
        if self.cached > 64 {
            return Err("history.cached must be from 0 to 64 answers".into());
        }
        Ok(())
    }

    /// What the commissioning service takes.
    pub fn config(&self) -> heard_commissioning::service::HistoryConfig {
        heard_commissioning::service::HistoryConfig { every: self.every, keep: self.keep, cached: self.cached }
    }
}

/// Limits at the HTTP edge, and which proxies may say who the client is.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// The largest request body accepted (GraphQL and forms), in bytes; larger ones get 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers before the connection is closed.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout: String,
    /// How long one request may take, body included, before it is answered 408.
    #[serde(default = "default_request_timeout")]
    pub request_timeout: String,
    /// Open connections at once; more are closed as soon as they arrive.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Addresses of reverse proxies (e.g. the TLS terminator) whose `X-Forwarded-For` header is
    /// believed. Leave empty when clients connect to Heard directly. In the environment,
    /// separated by commas.
    #[serde(default, deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_body_bytes: default_max_body_bytes(),
            header_read_timeout: default_header_read_timeout(),
            request_timeout: default_request_timeout(),
            max_connections: default_max_connections(),
            trusted_proxies: Vec::new(),
        }
    }
}

fn default_max_body_bytes() -> usize {
    1024 * 1024
}

fn default_header_read_timeout() -> String {
    "10s".to_owned()
}

fn default_request_timeout() -> String {
    "30s".to_owned()
}

fn default_max_connections() -> usize {
    1024
}

/// The edge's limits, parsed; `validate` has checked every value.
#[derive(Clone, Debug)]
pub struct EdgeLimits {
    pub max_body_bytes: usize,
    pub header_read_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub max_connections: usize,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl HttpSettings {
    pub fn limits(&self) -> Result<EdgeLimits, String> {
        if self.max_body_bytes < 1024 {
            return Err("http.max_body_bytes must be at least 1024".into());
        }
        if self.max_connections == 0 {
            return Err("http.max_connections must be at least 1".into());
        }
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .enumerate()
            .map(|(index, text)| {
                text.trim().parse().map_err(|_| {
                    format!("http.trusted_proxies[{index}] must be an IP address such as 127.0.0.1 (got `{text}`)")
                })
            })
            .collect::<Result<Vec<std::net::IpAddr>, String>>()?;
        Ok(EdgeLimits {
            max_body_bytes: self.max_body_bytes,
            header_read_timeout: parse_duration("http.header_read_timeout", &self.header_read_timeout)?,
            request_timeout: parse_duration("http.request_timeout", &self.request_timeout)?,
            max_connections: self.max_connections,
            trusted_proxies,
        })
    }
}

/// What the HTTP server offers besides the API.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Serve GraphiQL at `GET /graphql` (its files are Heard's own; `false` answers 404).
    #[serde(default = "default_true")]
    pub graphiql: bool,
    /// How many new items a `feedbackLogged` subscriber may fall behind by before it is told it
    /// lagged (`LAGGED`, with the position to resume after) and its subscription ends.
    #[serde(default = "default_subscription_buffer")]
    pub subscription_buffer: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { graphiql: true, subscription_buffer: default_subscription_buffer() }
    }
}

fn default_subscription_buffer() -> usize {
    heard_feedback::service::SUBSCRIPTION_BUFFER
}

/// The largest `server.subscription_buffer` (each slot is a few dozen bytes, shared by every
/// subscriber).
pub const MAX_SUBSCRIPTION_BUFFER: usize = 1 << 20;

fn default_true() -> bool {
    true
}

/// Working days for the clocks of complaints: weekends and England and Wales bank holidays
/// (2020–2035, bundled) are never working days; `closures` adds days the service is shut.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    /// Extra closure days, `YYYY-MM-DD`; in the environment, separated by commas
    /// (`HEARD_CALENDAR__CLOSURES=2026-12-29,2026-12-30`).
    #[serde(default, deserialize_with = "list_or_commas")]
    pub closures: Vec<String>,
}

fn list_or_commas<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::List(list) => list,
        Either::Text(text) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    })
}

impl CalendarSettings {
    /// England and Wales bank holidays plus the configured closures.
    pub fn calendar(&self) -> Result<heard_workdays::Calendar, String> {
        let base = heard_workdays::Calendar::england_and_wales();
        let mut days = Vec::new();
        for (index, text) in self.closures.iter().enumerate() {
            let date: jiff::civil::Date = text
                .trim()
                .parse()
                .map_err(|_| format!("calendar.closures[{index}] must be a date like 2026-12-29 (got `{text}`)"))?;
            base.is_working_day(date).map_err(|error| format!("calendar.closures[{index}]: {error}"))?;
            days.push(date);
        }
        Ok(base.with_closures(days))
    }
}

/// Logins, sessions and throttling.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// How long a login lasts, e.g. `12h`, `30m`.
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime: String,
    /// Failed logins in a row that lock an account.
    #[serde(default = "default_max_failed_logins")]
    pub max_failed_logins: u32,
    /// How long a lockout lasts, e.g. `15m`.
    #[serde(default = "default_lockout")]
    pub lockout: String,
    /// Failed logins from one IP address in 15 minutes before it must wait.
    #[serde(default = "default_max_failures_per_ip")]
    pub max_failures_per_ip: u32,
    /// The older switch: as if `public_url` started with `https://` (`Secure` cookies and HSTS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// The address people reach Heard at, e.g. `https://heard.example.org`. When it starts
    /// with `https://`, cookies are marked `Secure` and every response carries
    /// `Strict-Transport-Security`.
    #[serde(default)]
    pub public_url: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_lifetime: default_session_lifetime(),
            max_failed_logins: default_max_failed_logins(),
            lockout: default_lockout(),
            max_failures_per_ip: default_max_failures_per_ip(),
            secure_cookies: false,
            public_url: None,
        }
    }
}

fn default_session_lifetime() -> String {
    "12h".to_owned()
}

fn default_max_failed_logins() -> u32 {
    5
}

fn default_lockout() -> String {
    "15m".to_owned()
}

fn default_max_failures_per_ip() -> u32 {
    30
}

/// Parses `90s`, `15m`, `12h`, `7d` (or `1h 30m`) into a duration of at least one second.
pub fn parse_duration(key: &str, text: &str) -> Result<std::time::Duration, String> {
    let duration: jiff::SignedDuration =
        text.trim().parse().map_err(|_| format!("{key} must be a duration like 90s, 15m or 12h (got `{text}`)"))?;
    if duration.as_secs() < 1 {
        return Err(format!("{key} must be at least 1s"));
    }
    std::time::Duration::try_from(duration).map_err(|_| format!("{key} must be positive"))
}

/// Checks a public address: `https://` or `http://`, a host, no spaces. Returns whether it is
/// served over HTTPS.
pub fn parse_public_url(key: &str, text: &str) -> Result<bool, String> {
    let bad = || {
        format!(
            "{key} must be the address people reach Heard at, starting with https:// (or http://), \
             e.g. https://heard.example.org (got `{}`)",
            text.escape_debug()
        )
    };
    let (https, rest) = if let Some(rest) = text.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    Ok(https)
}

impl AuthSettings {
    /// Whether Heard is served over HTTPS: `public_url` starts with `https://`.
    pub fn served_over_https(&self) -> Result<bool, String> {
        match &self.public_url {
            Some(url) => parse_public_url("auth.public_url", url),
            None => Ok(false),
        }
    }

    /// The identity service's configuration; `validate` has checked every value.
    pub fn identity_config(&self) -> Result<heard_identity::IdentityConfig, String> {
        Ok(heard_identity::IdentityConfig {
            session_lifetime: parse_duration("auth.session_lifetime", &self.session_lifetime)?,
            max_failed_logins: self.max_failed_logins,
            lockout: parse_duration("auth.lockout", &self.lockout)?,
            max_failures_per_ip: self.max_failures_per_ip,
            secure_cookies: self.secure_cookies || self.served_over_https()?,
        })
    }
}

/// How the event log is kept.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `segments` (the default: append-only files), `sled`, or `postgres` (with `url`).
    #[serde(default)]
    pub backend: heard_eventstore::BackendKind,
    /// The PostgreSQL database, `postgres://user@host:port/database`, for `backend =
    /// "postgres"` only (`HEARD_STORE__URL`). It may hold a password, so it is never printed.
    #[serde(default)]
    pub url: Option<String>,
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("backend", &self.backend)
            .field("url", &self.url.as_ref().map(|_| "(set, not shown)"))
            .finish()
    }
}

impl StoreSettings {
    /// Checks that `url`, when given, is a PostgreSQL URL. The message names the key and never
    /// repeats the URL. (Whether the URL is needed is checked by [`Self::complete`]: the layers
    /// are checked one by one, and a file or variable that sets the backend comes before the
    /// one that sets the URL.)
    pub fn validate(&self) -> Result<(), String> {
        match &self.url {
            Some(url) => heard_eventstore::postgres_backend::parse_url(url)
                .map(drop)
                .map_err(|_| "store.url is not a valid PostgreSQL URL (postgres://user@host:port/database)".into()),
            None => Ok(()),
        }
    }

    /// Checks the finished settings: PostgreSQL needs `url`, and `url` is for PostgreSQL only.
    pub fn complete(&self) -> Result<(), String> {
        self.validate()?;
        match (self.backend, &self.url) {
            (heard_eventstore::BackendKind::Postgres, None) => {
                Err("store.url is required with store.backend = \"postgres\" (postgres://user@host:port/database)"
                    .into())
            }
            (heard_eventstore::BackendKind::Postgres, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => Err("store.url is only used with store.backend = \"postgres\"".into()),
        }
    }
}

/// How logs are written.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people, `json` for log collectors.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `heard=debug,tower_http=info`.
    #[serde(default = "default_filter")]
    pub filter: String,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { format: LogFormat::Text, filter: default_filter() }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: default_data_dir(),
            listen: default_listen(),
            store: StoreSettings::default(),
            log: LogSettings::default(),
            auth: AuthSettings::default(),
            calendar: CalendarSettings::default(),
            http: HttpSettings::default(),
            server: ServerSettings::default(),
            history: HistorySettings::default(),
            retention: RetentionSettings::default(),
            backup: BackupSettings::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_owned()
}

fn default_filter() -> String {
    "info,tantivy=error".to_owned()
}

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error in {origin}: {message}")]
pub struct ConfigError {
    /// Where the bad value came from: the file, or the environment variable.
    pub origin: String,
    pub message: String,
}

const ENV_PREFIX: &str = "HEARD_";

impl Settings {
    /// Loads defaults, then `file`, then the `HEARD_…` variables among `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Settings, ConfigError> {
        let mut table = toml::Table::new();
        if let Some(path) = file {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
                origin: origin.clone(),
                message: format!("cannot read the file: {error}"),
            })?;
            let from_file: toml::Table = toml::from_str(&text)
                .map_err(|error| ConfigError { origin: origin.clone(), message: error.to_string() })?;
            // Check the file on its own so its errors name the file.
            Self::from_table(from_file.clone(), &origin)?;
            table = from_file;
        }
        let mut env: Vec<(String, String)> = env.into_iter().filter(|(key, _)| key.starts_with(ENV_PREFIX)).collect();
        env.sort();
        for (key, value) in env {
            let path: Vec<String> = key[ENV_PREFIX.len()..].split("__").map(|part| part.to_ascii_lowercase()).collect();
            if path.iter().any(String::is_empty) {
                return Err(ConfigError { origin: key, message: "the variable name has an empty section".into() });
            }
            insert_path(&mut table, &path, parse_env_value(&value));
            Self::from_table(table.clone(), &key)?;
        }
        Self::from_table(table, "the configuration")
    }

    fn from_table(table: toml::Table, origin: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = toml::Value::Table(table).try_into().map_err(|error: toml::de::Error| {
            ConfigError { origin: origin.to_owned(), message: error.message().to_owned() }
        })?;
        settings.validate().map_err(|message| ConfigError { origin: origin.to_owned(), message })?;
        Ok(settings)
    }

    /// Checks values serde cannot: the listen address and the log filter.
    pub fn validate(&self) -> Result<(), String> {
        self.listen_addr()?;
        if self.data_dir.as_os_str().is_empty() {
            return Err("data_dir must not be empty".into());
        }
        self.auth.identity_config()?;
        self.store.validate()?;
        self.calendar.calendar()?;
        self.http.limits()?;
        self.history.validate()?;
        self.retention.rules()?;
        self.backup.validate()?;
        self.metrics.validate(self.listen_addr().ok())?;
        if self.auth.max_failed_logins == 0 {
            return Err("auth.max_failed_logins must be at least 1".into());
        }
        if self.auth.max_failures_per_ip == 0 {
            return Err("auth.max_failures_per_ip must be at least 1".into());
        }
        if !(1..=MAX_SUBSCRIPTION_BUFFER).contains(&self.server.subscription_buffer) {
            return Err(format!("server.subscription_buffer must be between 1 and {MAX_SUBSCRIPTION_BUFFER}"));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.filter)
            .map_err(|error| format!("log.filter is not a valid filter: {error}"))?;
        Ok(())
    }

    /// The parsed listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen
            .parse()
            .map_err(|_| format!("listen must be an address and port such as 127.0.0.1:8080, not {:?}", self.listen))
    }
}

fn insert_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let (last, sections) = path.split_last().expect("paths are never empty");
    let mut current = table;
    for section in sections {
        let entry = current.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        current = entry.as_table_mut().expect("just made a table");
    }
    current.insert(last.clone(), value);
}

/// Environment values are TOML scalars when they parse as one (numbers, booleans), else strings.
fn parse_env_value(value: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {value}")) {
        Ok(mut table) => match table.remove("v") {
            Some(parsed @ (toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_))) => parsed,
            _ => toml::Value::String(value.to_owned()),
        },
        Err(_) => toml::Value::String(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_configured() {
        assert_eq!(Settings::load(None, env(&[])).unwrap(), Settings::default());
    }

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("heard.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\n[log]\nformat = \"json\"\n").unwrap();
        let settings = Settings::load(Some(&file), env(&[("HEARD_LOG__FORMAT", "text"), ("OTHER", "x")])).unwrap();
        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.log.format, LogFormat::Text);
    }

    #[test]
    fn a_bad_value_names_its_key_and_where_it_came_from() {
        let err = Settings::load(None, env(&[("HEARD_LOG__FORMAT", "yaml")])).unwrap_err();
        assert_eq!(err.origin, "HEARD_LOG__FORMAT");
        assert!(err.message.contains("yaml"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_LISTEN", "localhost")])).unwrap_err();
        assert!(err.message.contains("listen"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_LISTN", "127.0.0.1:1")])).unwrap_err();
        assert!(err.message.contains("listn"), "an unknown key is named: {err}");
    }

    #[test]
    fn the_store_runs_on_postgres_only_with_a_valid_url_and_a_bad_one_is_named_without_its_password() {
        assert_eq!(Settings::load(None, env(&[])).unwrap().store.backend, heard_eventstore::BackendKind::Segments);
        let settings = Settings::load(
            None,
            env(&[
                ("HEARD_STORE__BACKEND", "postgres"),
                ("HEARD_STORE__URL", "postgres://heard:pw@db.example:5432/heard"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.store.backend, heard_eventstore::BackendKind::Postgres);
        assert_eq!(settings.store.url.as_deref(), Some("postgres://heard:pw@db.example:5432/heard"));
        assert!(!format!("{settings:?}").contains("pw@"), "Debug never shows the URL");

        settings.store.complete().unwrap();
        let no_url = Settings::load(None, env(&[("HEARD_STORE__BACKEND", "postgres")])).unwrap();
        let err = no_url.store.complete().unwrap_err();
        assert!(err.contains("store.url is required"), "{err}");
        let err = Settings::load(
            None,
            env(&[
                ("HEARD_STORE__BACKEND", "postgres"),
                ("HEARD_STORE__URL", "postgres://heard:hunter2@db:notaport/x"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.origin, "HEARD_STORE__URL");
        assert!(err.message.contains("store.url is not a valid"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let stray = Settings::load(None, env(&[("HEARD_STORE__URL", "postgres://db/x")])).unwrap();
        let err = stray.store.complete().unwrap_err();
        assert!(err.contains("only used with store.backend"), "{err}");
    }

    #[test]
    fn a_public_url_must_be_an_http_or_https_address_and_https_makes_cookies_secure() {
        let settings = Settings::load(None, env(&[("HEARD_AUTH__PUBLIC_URL", "https://heard.example.org")])).unwrap();
        assert!(settings.auth.served_over_https().unwrap());
        assert!(settings.auth.identity_config().unwrap().secure_cookies);
        let settings = Settings::load(None, env(&[("HEARD_AUTH__PUBLIC_URL", "http://localhost:8080/")])).unwrap();
        assert!(!settings.auth.identity_config().unwrap().secure_cookies);
        assert!(!Settings::default().auth.identity_config().unwrap().secure_cookies);
        for bad in ["heard.example.org", "https://", "ftp://heard.example.org", "https://heard example.org"] {
            let err = Settings::load(None, env(&[("HEARD_AUTH__PUBLIC_URL", bad)])).unwrap_err();
            assert_eq!(err.origin, "HEARD_AUTH__PUBLIC_URL");
            assert!(err.message.contains("auth.public_url") && err.message.contains("https://"), "{err}");
        }
    }

    #[test]
    fn graphiql_is_on_unless_turned_off_and_only_true_or_false_will_do() {
        assert!(Settings::default().server.graphiql);
        let settings = Settings::load(None, env(&[("HEARD_SERVER__GRAPHIQL", "false")])).unwrap();
        assert!(!settings.server.graphiql);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("heard.toml");
        std::fs::write(&file, "[server]\ngraphiql = false\n").unwrap();
        assert!(!Settings::load(Some(&file), env(&[])).unwrap().server.graphiql);
        let err = Settings::load(None, env(&[("HEARD_SERVER__GRAPHIQL", "off")])).unwrap_err();
        assert_eq!(err.origin, "HEARD_SERVER__GRAPHIQL");
        assert!(err.message.contains("bool") || err.message.contains("off"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_SERVER__GRAPHIQ", "true")])).unwrap_err();
        assert!(err.message.contains("graphiq"), "an unknown key is named: {err}");
    }

    #[test]
    fn the_subscription_buffer_is_1024_unless_configured_and_never_zero() {
        assert_eq!(Settings::default().server.subscription_buffer, 1024);
        let settings = Settings::load(None, env(&[("HEARD_SERVER__SUBSCRIPTION_BUFFER", "8")])).unwrap();
        assert_eq!(settings.server.subscription_buffer, 8);
        for bad in ["0", "2000000"] {
            let err = Settings::load(None, env(&[("HEARD_SERVER__SUBSCRIPTION_BUFFER", bad)])).unwrap_err();
            assert!(err.message.contains("server.subscription_buffer"), "{bad}: {err}");
        }
    }

    #[test]
    fn closure_days_come_from_a_list_or_commas_and_a_bad_one_is_named_by_position() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("heard.toml");
        std::fs::write(&file, "[calendar]\nclosures = [\"2026-12-29\", \"2026-12-30\"]\n").unwrap();
        let settings = Settings::load(Some(&file), env(&[])).unwrap();
        let calendar = settings.calendar.calendar().unwrap();
        assert!(!calendar.is_working_day("2026-12-29".parse().unwrap()).unwrap());
        assert!(calendar.is_working_day("2026-12-31".parse().unwrap()).unwrap());
        let settings = Settings::load(None, env(&[("HEARD_CALENDAR__CLOSURES", "2027-01-04, 2027-01-05")])).unwrap();
        assert_eq!(settings.calendar.closures, ["2027-01-04", "2027-01-05"]);
        let err = Settings::load(None, env(&[("HEARD_CALENDAR__CLOSURES", "2027-01-04,tuesday")])).unwrap_err();
        assert!(err.message.contains("calendar.closures[1]") && err.message.contains("tuesday"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_CALENDAR__CLOSURES", "2041-01-04")])).unwrap_err();
        assert!(err.message.contains("calendar.closures[0]") && err.message.contains("2035"), "{err}");
    }

    #[test]
    fn history_copies_are_configured_within_bounds_and_a_bad_value_names_its_key() {
        let set = Settings::load(None, env(&[("HEARD_HISTORY__EVERY", "5000"), ("HEARD_HISTORY__KEEP", "8")])).unwrap();
        assert_eq!((set.history.every, set.history.keep, set.history.cached), (5000, 8, 4));
        for (key, value, named) in [
            ("HEARD_HISTORY__EVERY", "10", "history.every"),
            ("HEARD_HISTORY__KEEP", "1", "history.keep"),
            ("HEARD_HISTORY__CACHED", "65", "history.cached"),
            // Not a number: named by the variable it came from, as every type error is.
            ("HEARD_HISTORY__EVERY", "often", "configuration error in HEARD_HISTORY__EVERY"),
        ] {
            let err = Settings::load(None, env(&[(key, value)])).unwrap_err();
            assert!(err.to_string().contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn edge_limits_are_validated_and_trusted_proxies_come_from_a_list_or_commas() {
        let settings = Settings::load(None, env(&[("HEARD_HTTP__TRUSTED_PROXIES", "127.0.0.1, ::1")])).unwrap();
        let limits = settings.http.limits().unwrap();
        assert_eq!(limits.trusted_proxies.len(), 2);
        assert_eq!(limits.max_body_bytes, 1024 * 1024);
        let err = Settings::load(None, env(&[("HEARD_HTTP__TRUSTED_PROXIES", "127.0.0.1,proxy")])).unwrap_err();
        assert!(err.message.contains("http.trusted_proxies[1]") && err.message.contains("proxy"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_HTTP__MAX_BODY_BYTES", "10")])).unwrap_err();
        assert!(err.message.contains("http.max_body_bytes"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_HTTP__REQUEST_TIMEOUT", "soon")])).unwrap_err();
        assert!(err.message.contains("http.request_timeout"), "{err}");
        let err = Settings::load(None, env(&[("HEARD_CALENDAR__CLOSURES", "2041-01-04")])).unwrap_err();
        assert!(err.message.contains("calendar.closures[0]") && err.message.contains("2035"), "{err}");
    }
}

#[cfg(test)]
mod retention_tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn retention_defaults_to_two_years_for_unshared_feedback_and_six_for_cases_and_complaints() {
        let rules = Settings::default().retention.rules().unwrap();
        assert_eq!(rules, heard_contracts::privacy::RetentionRules::default());
        assert_eq!(rules.feedback_not_shared_days, Some(730));
        assert_eq!(rules.cases_closed_days, Some(2190));
    }

    #[test]
    fn retention_periods_are_days_or_never_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("heard.toml");
        std::fs::write(&file, "[retention]\nfeedback_not_shared_days = 365\ncases_closed_days = \"never\"\n").unwrap();
        let rules = Settings::load(Some(&file), env(&[("HEARD_RETENTION__COMPLAINTS_AFTER_OUTCOME_DAYS", "NEVER")]))
            .unwrap()
            .retention
            .rules()
            .unwrap();
        assert_eq!(rules.feedback_not_shared_days, Some(365));
        assert_eq!(rules.cases_closed_days, None);
        assert_eq!(rules.complaints_after_outcome_days, None);
        let rules = Settings::load(None, env(&[("HEARD_RETENTION__CASES_CLOSED_DAYS", "3000")])).unwrap();
        assert_eq!(rules.retention.rules().unwrap().cases_closed_days, Some(3000));
    }

    #[test]
    fn a_bad_retention_period_is_refused_naming_its_key() {
        for (key, value, named) in [
            ("HEARD_RETENTION__FEEDBACK_NOT_SHARED_DAYS", "0", "retention.feedback_not_shared_days"),
            ("HEARD_RETENTION__CASES_CLOSED_DAYS", "-5", "retention.cases_closed_days"),
            ("HEARD_RETENTION__COMPLAINTS_AFTER_OUTCOME_DAYS", "forever", "retention.complaints_after_outcome_days"),
            ("HEARD_RETENTION__CASES_CLOSED_DAYS", "36501", "retention.cases_closed_days"),
            ("HEARD_RETENTION__CASES_CLOSED_DAY", "30", "cases_closed_day"),
        ] {
            let err = Settings::load(None, env(&[(key, value)])).unwrap_err();
            assert_eq!(err.origin, key);
            assert!(err.message.contains(named), "{key}={value}: {err}");
        }
    }
}

#[cfg(test)]
mod metrics_tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn metrics_are_open_unless_a_token_or_an_address_of_their_own_is_configured() {
        assert_eq!(Settings::default().metrics, MetricsSettings::default());
        let settings = Settings::load(
            None,
            env(&[("HEARD_METRICS__TOKEN", "scrape-me-0123456789"), ("HEARD_METRICS__LISTEN", "127.0.0.1:9100")]),
        )
        .unwrap();
        assert_eq!(settings.metrics.token.as_deref(), Some("scrape-me-0123456789"));
        assert_eq!(settings.metrics.listen_addr().unwrap(), Some("127.0.0.1:9100".parse().unwrap()));
        assert!(!format!("{settings:?}").contains("scrape-me"), "Debug never shows the token");
        let digits = Settings::load(None, env(&[("HEARD_METRICS__TOKEN", "12345678901234567")])).unwrap();
        assert_eq!(digits.metrics.token.as_deref(), Some("12345678901234567"), "a token of digits stays text");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("heard.toml");
        std::fs::write(&file, "[metrics]\nlisten = \"[::1]:9100\"\n").unwrap();
        let settings = Settings::load(Some(&file), env(&[])).unwrap();
        assert_eq!(settings.metrics.listen_addr().unwrap(), Some("[::1]:9100".parse().unwrap()));
    }

    #[test]
    fn a_bad_metrics_value_names_its_key_and_never_repeats_the_token() {
        for (pairs, named) in [
            (vec![("HEARD_METRICS__TOKEN", "short")], "metrics.token"),
            (vec![("HEARD_METRICS__TOKEN", "a token with spaces in it")], "metrics.token"),
            (vec![("HEARD_METRICS__LISTEN", "localhost")], "metrics.listen"),
            (vec![("HEARD_METRICS__LISTEN", "127.0.0.1:8080")], "metrics.listen"),
            (vec![("HEARD_METRICS__TOKN", "x")], "tokn"),
        ] {
            let err = Settings::load(None, env(&pairs)).unwrap_err();
            assert_eq!(err.origin, pairs[0].0);
            assert!(err.message.contains(named), "{pairs:?}: {err}");
            assert!(!err.to_string().contains("with spaces") && !err.message.contains("short"), "{err}");
        }
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    fn example_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops/heard.example.toml")
    }

    #[test]
    fn the_example_config_in_ops_is_valid_and_matches_the_defaults() {
        assert_eq!(Settings::load(Some(&example_path()), Vec::new()).unwrap(), Settings::default());
    }

    /// Every key `value` (serialized settings) has, as (table, key): "" is the top level, and a
    /// struct inside a struct is a table of its own ("backup", or "a.b" if ever nested deeper).
    fn setting_keys(value: &serde_json::Value, table: &str, keys: &mut Vec<(String, String)>) {
        let serde_json::Value::Object(fields) = value else { return };
        for (key, field) in fields {
            if field.is_object() {
                let nested = if table.is_empty() { key.clone() } else { format!("{table}.{key}") };
                setting_keys(field, &nested, keys);
            } else {
                keys.push((table.to_owned(), key.clone()));
            }
        }
    }

    /// A line's `key =`, set or commented out (`# key =`); `None` for prose and tables.
    fn key_of(line: &str) -> Option<&str> {
        let line = line.trim();
        let line = line.strip_prefix('#').map_or(line, str::trim_start);
        let (key, _) = line.split_once(" =")?;
        let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        is_key.then_some(key)
    }

    #[test]
    fn every_setting_is_in_the_example_config_with_a_comment_naming_its_environment_variable() {
        // serde_json writes an Option that is None as `null`, so settings with no default are
        // listed too (toml would leave them out).
        let mut expected = Vec::new();
        setting_keys(&serde_json::to_value(Settings::default()).unwrap(), "", &mut expected);
        assert!(expected.contains(&("backup".to_owned(), "passphrase".to_owned())), "{expected:?}");

        let text = std::fs::read_to_string(example_path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // (table, key, the comment block it sits in: the lines above it up to a blank line)
        let mut documented: Vec<(String, String, String)> = Vec::new();
        let mut table = String::new();
        for (n, line) in lines.iter().enumerate() {
            let trimmed = line.trim();
            if let Some(name) = trimmed.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
                table = name.to_owned();
                continue;
            }
            let Some(key) = key_of(line) else { continue };
            let block: Vec<&str> = lines[..n]
                .iter()
                .rev()
                .take_while(|above| !above.trim().is_empty() && !above.trim().starts_with('['))
                .copied()
                .collect();
            let prose = block.iter().filter(|above| above.trim().starts_with('#') && key_of(above).is_none()).count();
            assert!(prose > 0, "ops/heard.example.toml line {}: `{key}` has no comment above it", n + 1);
            documented.push((table.clone(), key.to_owned(), block.join("\n")));
        }

        for (table, key) in &expected {
            let name = if table.is_empty() { key.clone() } else { format!("[{table}] {key}") };
            let Some((_, _, comment)) = documented.iter().find(|(t, k, _)| t == table && k == key) else {
                let place =
                    if table.is_empty() { "before the first [table]".to_owned() } else { format!("in [{table}]") };
                panic!("ops/heard.example.toml has no `{key} =` or `# {key} =` line {place}");
            };
            let path = if table.is_empty() { key.clone() } else { format!("{}__{key}", table.replace('.', "__")) };
            let variable = format!("HEARD_{}", path.to_uppercase());
            assert!(
                comment.contains(&variable),
                "ops/heard.example.toml: the comment on {name} does not name {variable}"
            );
        }
        for (table, key, _) in &documented {
            assert!(
                expected.iter().any(|(t, k)| t == table && k == key),
                "ops/heard.example.toml names `{key}` in [{table}], which is not a setting"
            );
        }
    }
}
