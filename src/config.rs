//! Layered, typed configuration.
//!
//! Lowest first: the built-in `config/default.toml` < `config/default.toml` on disk <
//! `config/$APP_ENV.toml` < `.env` < environment variables (upper-case key names).
//! Secrets are [`SecretString`]s, so they never show in logs or `Debug` output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");
const KEYS: &[&str] = &[
    "app_env",
    "bind_addr",
    "database_url",
    "data_dir",
    "database_max_connections",
    "database_acquire_timeout_secs",
    "database_connect_timeout_secs",
    "stripe_webhook_secret",
    "stripe_api_key",
    "stripe_api_base",
    "public_url",
    "admin_token",
    "webhook_tolerance_secs",
    "max_body_bytes",
    "log_format",
    "apply_max_attempts",
    "apply_backoff_ms",
    "apply_backoff_max_ms",
    "apply_batch_linger_ms",
    "pages_rebuild_delay_ms",
    "apply_writers",
    "memory_queue_bytes",
    "max_account_actors",
    "actor_idle_secs",
    "shutdown_timeout_secs",
    "recovery_interval_secs",
    "metrics_require_token",
    "retention_days",
    "retention_interval_secs",
    "sync_interval_secs",
    "header_read_timeout_secs",
    "first_byte_timeout_secs",
    "body_read_timeout_secs",
    "max_connections",
    "trusted_proxies",
    "charge_model",
    "platform_fee_percent",
];

/// Why the configuration cannot be used. Each message is one line an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("{0} must be set when APP_ENV=production")]
    MissingInProduction(&'static str),
    #[error("cannot keep the development webhook secret in {path}: {source}")]
    SecretFile {
        path: String,
        source: std::io::Error,
    },
}

/// `development` (the default) or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    Development,
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

/// The settings as read from the layers, before defaults that need I/O are filled in.
#[derive(Debug, Deserialize)]
struct RawSettings {
    app_env: AppEnv,
    bind_addr: SocketAddr,
    database_url: SecretString,
    data_dir: PathBuf,
    database_max_connections: u32,
    database_acquire_timeout_secs: u64,
    database_connect_timeout_secs: u64,
    stripe_webhook_secret: SecretString,
    stripe_api_key: SecretString,
    stripe_api_base: String,
    public_url: String,
    admin_token: SecretString,
    webhook_tolerance_secs: i64,
    max_body_bytes: u64,
    log_format: LogFormat,
    apply_max_attempts: i32,
    apply_backoff_ms: u64,
    apply_backoff_max_ms: u64,
    apply_batch_linger_ms: u64,
    pages_rebuild_delay_ms: u64,
    apply_writers: usize,
    memory_queue_bytes: usize,
    max_account_actors: usize,
    actor_idle_secs: u64,
    shutdown_timeout_secs: u64,
    recovery_interval_secs: u64,
    metrics_require_token: bool,
    retention_days: u32,
    retention_interval_secs: u64,
    sync_interval_secs: u64,
    header_read_timeout_secs: u64,
    first_byte_timeout_secs: u64,
    body_read_timeout_secs: u64,
    max_connections: usize,
    trusted_proxies: String,
    charge_model: ChargeModel,
    platform_fee_percent: f64,
}

/// The service's settings, complete and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app_env: AppEnv,
    pub bind_addr: SocketAddr,
    /// May hold a password: never log it.
    pub database_url: SecretString,
    pub data_dir: PathBuf,
    pub database_max_connections: u32,
    pub database_acquire_timeout_secs: u64,
    /// How long start-up waits for an unreachable database before giving up.
    pub database_connect_timeout: Duration,
    /// Every accepted webhook signing secret.
    pub webhook_secrets: Vec<SecretString>,
    /// Where the secret came from, for the start-up message.
    pub webhook_secret_source: SecretSource,
    pub stripe_api_key: Option<SecretString>,
    /// Stripe's API, without a trailing slash (a local stand-in in tests).
    pub stripe_api_base: String,
    /// Where the public reaches the service (`https://shop.example.com`), if set.
    pub public_url: Option<String>,
    /// Settings that work but are likely mistakes, each one line to log at start-up.
    pub warnings: Vec<String>,
    pub admin_token: Option<SecretString>,
    pub webhook_tolerance_secs: i64,
    pub max_body_bytes: u64,
    pub log_format: LogFormat,
    /// How account actors apply events.
    pub apply: ApplySettings,
    /// How long shutdown waits for account actors to drain.
    pub shutdown_timeout: Duration,
    /// Period of the sweep that dispatches events left waiting again.
    pub recovery_interval: Duration,
    /// Whether `/metrics` takes the admin token.
    pub metrics_require_token: bool,
    /// Age after which applied events are pruned; `None` keeps them forever.
    pub retention: Option<Duration>,
    /// Period of the pruning task.
    pub retention_interval: Duration,
    /// How often the service gap-fills from Stripe's event list (`None`: never).
    pub sync_interval: Option<Duration>,
    /// How long a client may take to send a request's headers (and how long an idle
    /// keep-alive connection is kept).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a webhook body once its headers arrived.
    pub body_read_timeout: Duration,
    /// How long a new connection may stay silent before its first byte.
    pub first_byte_timeout: Duration,
    /// Most connections served at once (0: as many as the file-descriptor limit allows);
    /// when full, silent connections are closed first, then idle keep-alive ones, then new
    /// ones wait to be accepted.
    pub max_connections: usize,
    /// The proxies whose `X-Forwarded-For` names the client (the storefront's per-client
    /// limits); empty: the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Whose charge a storefront checkout is (`CHARGE_MODEL`).
    pub charge_model: ChargeModel,
    /// The platform's fee on a storefront checkout, in basis points of the total
    /// (`PLATFORM_FEE_PERCENT` 2.5 is 250).
    pub platform_fee_bps: u32,
}

/// Whose charge a storefront checkout is (Stripe Connect's charge types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeModel {
    /// On the seller's connected account (`Stripe-Account`); the platform takes its fee as
    /// an application fee.
    Direct,
    /// On the platform, paying the seller through `transfer_data.destination`, less the
    /// application fee.
    Destination,
}

/// Where the webhook secrets came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Configured,
    /// Generated for development and kept in `<data_dir>/webhook_secret`.
    DevelopmentFile,
}

impl Settings {
    /// Loads every layer from the working directory and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(Self::layers())
    }

    /// Every layer, from the working directory and the process environment, unread.
    pub fn layers() -> Figment {
        // `.env` fills in only variables the environment does not already set.
        let _ = dotenvy::dotenv();
        let app_env = std::env::var("APP_ENV").unwrap_or_else(|_| "development".into());
        Figment::new()
            .merge(Toml::string(DEFAULTS))
            .merge(Toml::file("config/default.toml"))
            .merge(Toml::file(format!(
                "config/{}.toml",
                app_env.to_lowercase()
            )))
            .merge(Env::raw().filter(|key| KEYS.iter().any(|k| key == *k)))
    }

    /// Every configuration key, in the order of `config/default.toml`'s documentation.
    pub fn keys() -> &'static [&'static str] {
        KEYS
    }

    /// Builds settings from explicit layers (tests use this with their own values).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let raw: RawSettings = figment
            .extract()
            .map_err(|err| ConfigError::Invalid(one_line(&err)))?;
        Self::complete(raw)
    }

    /// The built-in defaults, for callers that layer their own values on top.
    pub fn defaults() -> Figment {
        Figment::new().merge(Toml::string(DEFAULTS))
    }

    fn complete(raw: RawSettings) -> Result<Self, ConfigError> {
        let production = raw.app_env == AppEnv::Production;
        let mut webhook_secrets = split_secrets(&raw.stripe_webhook_secret);
        let mut webhook_secret_source = SecretSource::Configured;
        if webhook_secrets.is_empty() {
            if production {
                return Err(ConfigError::MissingInProduction("STRIPE_WEBHOOK_SECRET"));
            }
            webhook_secrets = vec![development_secret(&raw.data_dir)?];
            webhook_secret_source = SecretSource::DevelopmentFile;
        }
        let mut warnings = check_secret_shapes(&webhook_secrets)?;
        let concurrency = apply_concurrency(&raw);
        let writers = apply_writers(&raw, concurrency);
        let single_writer = is_sqlite(&raw);
        let admin_token = non_empty(raw.admin_token);
        // Webhooks work without it, so a production start without a token goes on (the
        // seed's `docker run` line sets none) with the admin API closed, and says so.
        if production && admin_token.is_none() {
            warnings
                .push("ADMIN_TOKEN is not set: the admin API answers 401 to every request".into());
        }
        if raw.max_body_bytes == 0 {
            return Err(ConfigError::Invalid(
                "MAX_BODY_BYTES must be positive".into(),
            ));
        }
        if raw.header_read_timeout_secs == 0
            || raw.body_read_timeout_secs == 0
            || raw.first_byte_timeout_secs == 0
        {
            return Err(ConfigError::Invalid(
                "HEADER_READ_TIMEOUT_SECS, FIRST_BYTE_TIMEOUT_SECS and BODY_READ_TIMEOUT_SECS \
                 must be positive"
                    .into(),
            ));
        }
        Ok(Self {
            app_env: raw.app_env,
            bind_addr: raw.bind_addr,
            database_url: raw.database_url,
            data_dir: raw.data_dir,
            database_max_connections: raw.database_max_connections.max(1),
            database_acquire_timeout_secs: raw.database_acquire_timeout_secs.max(1),
            database_connect_timeout: Duration::from_secs(raw.database_connect_timeout_secs),
            webhook_secrets,
            webhook_secret_source,
            stripe_api_key: non_empty(raw.stripe_api_key),
            stripe_api_base: raw.stripe_api_base.trim().trim_end_matches('/').to_owned(),
            public_url: Some(raw.public_url.trim().trim_end_matches('/').to_owned())
                .filter(|url| !url.is_empty()),
            warnings,
            admin_token,
            webhook_tolerance_secs: raw.webhook_tolerance_secs,
            max_body_bytes: raw.max_body_bytes,
            log_format: raw.log_format,
            apply: ApplySettings {
                max_attempts: raw.apply_max_attempts.max(1),
                backoff_base: Duration::from_millis(raw.apply_backoff_ms),
                backoff_max: Duration::from_millis(
                    raw.apply_backoff_max_ms.max(raw.apply_backoff_ms),
                ),
                idle_timeout: Duration::from_secs(raw.actor_idle_secs.max(1)),
                batch_linger: Duration::from_millis(raw.apply_batch_linger_ms),
                pages_delay: Duration::from_millis(raw.pages_rebuild_delay_ms),
                concurrency,
                writers,
                memory_queue_bytes: raw.memory_queue_bytes,
                max_actors: raw.max_account_actors.max(1),
                single_writer,
            },
            shutdown_timeout: Duration::from_secs(raw.shutdown_timeout_secs),
            recovery_interval: Duration::from_secs(raw.recovery_interval_secs.max(1)),
            metrics_require_token: raw.metrics_require_token,
            retention: (raw.retention_days > 0)
                .then(|| Duration::from_secs(u64::from(raw.retention_days) * 86_400)),
            retention_interval: Duration::from_secs(raw.retention_interval_secs.max(1)),
            sync_interval: (raw.sync_interval_secs > 0)
                .then(|| Duration::from_secs(raw.sync_interval_secs)),
            header_read_timeout: Duration::from_secs(raw.header_read_timeout_secs),
            first_byte_timeout: Duration::from_secs(raw.first_byte_timeout_secs),
            body_read_timeout: Duration::from_secs(raw.body_read_timeout_secs),
            max_connections: raw.max_connections,
            trusted_proxies: parse_proxies(&raw.trusted_proxies)?,
            charge_model: raw.charge_model,
            platform_fee_bps: fee_bps(raw.platform_fee_percent)?,
        })
    }

    /// Whether logs are JSON lines.
    pub fn json_logs(&self) -> bool {
        match self.log_format {
            LogFormat::Json => true,
            LogFormat::Text => false,
            LogFormat::Auto => self.app_env == AppEnv::Production,
        }
    }

    /// The database URL, with the SQLite default filled in.
    pub fn database_url(&self) -> String {
        let url = self.database_url.expose_secret().trim();
        if url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("payments.db").display()
            )
        } else {
            url.to_owned()
        }
    }
}

/// `TRUSTED_PROXIES`: comma-separated addresses or networks (`10.0.0.0/8`, `::1`).
fn parse_proxies(list: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::Invalid(format!(
                        "TRUSTED_PROXIES: `{entry}` is not an IP address or a network such as 10.0.0.0/8"
                    ))
                })
        })
        .collect()
}

fn split_secrets(list: &SecretString) -> Vec<SecretString> {
    list.expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect()
}

/// Refuses a webhook secret that is an API key (every delivery would fail its signature),
/// and warns of one without Stripe's `whsec_` prefix. Says which secret by its
/// [`fingerprint`], never its value.
fn check_secret_shapes(secrets: &[SecretString]) -> Result<Vec<String>, ConfigError> {
    let mut warnings = Vec::new();
    for (index, secret) in secrets.iter().enumerate() {
        let value = secret.expose_secret();
        let which = format!(
            "secret {} of {} ({})",
            index + 1,
            secrets.len(),
            fingerprint(secret)
        );
        if let Some(kind) = api_key_kind(value) {
            return Err(ConfigError::Invalid(format!(
                "STRIPE_WEBHOOK_SECRET {which} is a Stripe {kind}, not a webhook signing \
                 secret: use the endpoint's signing secret (whsec_..., Dashboard > Webhooks \
                 > the endpoint > Signing secret, or the one `stripe listen` prints)"
            )));
        }
        if !value.starts_with("whsec_") {
            warnings.push(format!(
                "STRIPE_WEBHOOK_SECRET {which} does not start with whsec_: Stripe's signing \
                 secrets do, so deliveries will likely fail their signature"
            ));
        }
    }
    Ok(warnings)
}

/// What kind of API key `value` is, if it is one.
fn api_key_kind(value: &str) -> Option<&'static str> {
    [
        ("sk_", "secret API key"),
        ("rk_", "restricted API key"),
        ("pk_", "publishable key"),
    ]
    .into_iter()
    .find(|(prefix, _)| value.starts_with(prefix))
    .map(|(_, kind)| kind)
}

/// A secret's short, stable name for logs and probes: the first 8 hex digits of its
/// SHA-256. It tells two configured secrets apart without revealing either.
/// `PLATFORM_FEE_PERCENT` in basis points: a percentage from 0 to 100, to 0.01.
fn fee_bps(percent: f64) -> Result<u32, ConfigError> {
    if !(0.0..=100.0).contains(&percent) {
        return Err(ConfigError::Invalid(format!(
            "PLATFORM_FEE_PERCENT must be between 0 and 100, not {percent}"
        )));
    }
    Ok((percent * 100.0).round() as u32)
}

pub fn fingerprint(secret: &SecretString) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(secret.expose_secret().as_bytes());
    format!("sha256:{}", hex::encode(&digest[..4]))
}

/// Apply steps allowed to use the database at once: the pool less a quarter (at least
/// one connection) kept for the admin API, probes and recovery, so those never wait behind
/// a backlog. SQLite has one writer (taken in turn, [`ApplySettings::single_writer`]): a
/// few steps at once overlap their reads and work with another's write; more only wait.
fn apply_concurrency(raw: &RawSettings) -> usize {
    let pool = raw.database_max_connections.max(1) as usize;
    let slots = pool.saturating_sub((pool / 4).max(1)).max(1);
    if is_sqlite(raw) { slots.min(4) } else { slots }
}

/// Apply transactions at once, each for the batches of every store ready then (group
/// commit): `APPLY_WRITERS`, or by default one on SQLite (its one writer) and an eighth of
/// the apply steps on PostgreSQL (1 to 8). Fewer writers make bigger groups: fewer
/// commits and statements per event, for less parallelism. On 2 cores with a pool of 10,
/// one writer applied the most events (BENCHMARKS.md, "Group commit of the apply").
fn apply_writers(raw: &RawSettings, concurrency: usize) -> usize {
    match raw.apply_writers {
        0 if is_sqlite(raw) => 1,
        0 => (concurrency / 8).clamp(1, 8),
        writers => writers.min(concurrency),
    }
}

/// Whether the configured database is SQLite (the default when none is set).
fn is_sqlite(raw: &RawSettings) -> bool {
    let url = raw.database_url.expose_secret().trim();
    url.is_empty() || url.starts_with("sqlite:")
}

fn non_empty(secret: SecretString) -> Option<SecretString> {
    (!secret.expose_secret().trim().is_empty()).then_some(secret)
}

/// Path of the generated development webhook secret.
pub fn development_secret_path(data_dir: &Path) -> PathBuf {
    data_dir.join("webhook_secret")
}

/// Reads the development secret, generating and keeping one on first use.
fn development_secret(data_dir: &Path) -> Result<SecretString, ConfigError> {
    let path = development_secret_path(data_dir);
    let io_err = |source| ConfigError::SecretFile {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(io_err)?;
    let secret = generate_secret();
    write_private(&path, secret.expose_secret()).map_err(io_err)?;
    Ok(secret)
}

fn generate_secret() -> SecretString {
    use rand::Rng;
    let suffix: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    SecretString::from(format!("whsec_{suffix}"))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

fn one_line(err: &figment::Error) -> String {
    err.to_string().replace('\n', " ")
}

/// How actors apply events.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// Attempts an event gets before it is marked `failed`.
    pub max_attempts: i32,
    /// Backoff before the second attempt; doubled for each further one.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// An actor with no message for this long drains and stops.
    pub idle_timeout: Duration,
    /// How long a busy store gathers events before applying them.
    pub batch_linger: Duration,
    /// How long after a change to a store's pages they are rebuilt, once for every change
    /// that came meanwhile.
    pub pages_delay: Duration,
    /// Apply steps using the database at once ([`apply_concurrency`]).
    pub concurrency: usize,
    /// Apply transactions at once, each for several stores' batches ([`apply_writers`]).
    pub writers: usize,
    /// Payload bytes that may wait in memory for the actors; beyond, events wait in the
    /// inbox table only.
    pub memory_queue_bytes: usize,
    /// Most account actors alive at once; further stores wait their turn.
    pub max_actors: usize,
    /// The database allows one writer at a time (SQLite): writers take turns in-process.
    pub single_writer: bool,
}

impl ApplySettings {
    /// Backoff after `attempts` failed attempts (exponential, capped).
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exponent = attempts.clamp(1, 20) as u32 - 1;
        self.backoff_base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut figment = Settings::defaults();
        for (key, value) in pairs {
            figment = figment.merge(Serialized::default(key, value));
        }
        Settings::from_figment(figment)
    }

    #[test]
    fn apply_writers_default_to_one_writer_and_scale_with_a_large_postgres_pool() {
        let writers = |database_url: &str, pool: u32, apply_writers: usize| {
            let figment = Settings::defaults()
                .merge(Serialized::default("stripe_webhook_secret", "whsec_a"))
                .merge(Serialized::default("database_url", database_url))
                .merge(Serialized::default("database_max_connections", pool))
                .merge(Serialized::default("apply_writers", apply_writers));
            Settings::from_figment(figment).unwrap().apply.writers
        };
        let postgres = "postgres://localhost/payments";
        assert_eq!(writers("", 16, 0), 1, "SQLite has one writer");
        assert_eq!(writers(postgres, 16, 0), 1, "pool 16: 12 apply steps");
        assert_eq!(
            writers(postgres, 64, 0),
            6,
            "pool 64: 48 apply steps, an eighth"
        );
        assert_eq!(
            writers(postgres, 16, 100),
            12,
            "never more than the apply steps"
        );
    }

    #[test]
    fn production_without_webhook_secret_names_the_variable() {
        let err = with(&[("app_env", "production"), ("admin_token", "t")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "STRIPE_WEBHOOK_SECRET must be set when APP_ENV=production"
        );
    }

    #[test]
    fn production_without_admin_token_starts_with_a_warning() {
        let settings = with(&[
            ("app_env", "production"),
            ("stripe_webhook_secret", "whsec_a"),
        ])
        .unwrap();
        assert!(settings.admin_token.is_none());
        assert_eq!(
            settings.warnings,
            ["ADMIN_TOKEN is not set: the admin API answers 401 to every request"]
        );
    }

    #[test]
    fn secret_list_is_split_and_hidden_from_debug() {
        let settings = with(&[
            ("stripe_webhook_secret", "whsec_one, whsec_two,"),
            ("admin_token", "tok_hidden"),
        ])
        .unwrap();
        assert_eq!(settings.webhook_secrets.len(), 2);
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("whsec_one") && !debug.contains("tok_hidden"),
            "{debug}"
        );
    }

    #[test]
    fn an_api_key_as_webhook_secret_is_refused_without_showing_it() {
        for key in ["sk_test_51Habc", "rk_live_xyz", "pk_test_123"] {
            let list = format!("whsec_ok,{key}");
            let err = with(&[("stripe_webhook_secret", list.as_str())]).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("secret 2 of 2"), "{message}");
            assert!(
                message.contains("not a webhook signing secret"),
                "{message}"
            );
            assert!(!message.contains(key), "{message}");
        }
    }

    #[test]
    fn a_secret_without_the_whsec_prefix_is_a_warning() {
        let settings = with(&[("stripe_webhook_secret", "whsec_a,bad_secret")]).unwrap();
        assert_eq!(settings.warnings.len(), 1);
        assert!(settings.warnings[0].contains("secret 2 of 2"));
        assert!(!settings.warnings[0].contains("bad_secret"));
        let fingerprint = fingerprint(&settings.webhook_secrets[1]);
        assert!(settings.warnings[0].contains(&fingerprint));
        assert_eq!(fingerprint.len(), "sha256:".len() + 8);
    }

    #[test]
    fn development_secret_is_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("payments-cfg-{}", std::process::id()));
        let data_dir = dir.to_str().unwrap();
        let first = with(&[("data_dir", data_dir)]).unwrap();
        let second = with(&[("data_dir", data_dir)]).unwrap();
        assert_eq!(first.webhook_secret_source, SecretSource::DevelopmentFile);
        let (a, b) = (&first.webhook_secrets[0], &second.webhook_secrets[0]);
        assert!(a.expose_secret().starts_with("whsec_"));
        assert_eq!(a.expose_secret(), b.expose_secret());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn zero_timeouts_are_refused() {
        for key in [
            "header_read_timeout_secs",
            "first_byte_timeout_secs",
            "body_read_timeout_secs",
        ] {
            let figment = Settings::defaults()
                .merge(Serialized::default("stripe_webhook_secret", "whsec_a"))
                .merge(Serialized::default(key, 0));
            let err = Settings::from_figment(figment).unwrap_err();
            assert!(
                err.to_string().contains(&key.to_uppercase()),
                "{key}: {err}"
            );
        }
    }

    #[test]
    fn empty_database_url_defaults_to_sqlite_in_the_data_dir() {
        let settings = with(&[("stripe_webhook_secret", "whsec_a"), ("data_dir", "var")]).unwrap();
        assert_eq!(settings.database_url(), "sqlite://var/payments.db?mode=rwc");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = ApplySettings {
            max_attempts: 5,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(350),
            idle_timeout: Duration::from_secs(60),
            batch_linger: Duration::ZERO,
            pages_delay: Duration::ZERO,
            concurrency: 4,
            writers: 1,
            memory_queue_bytes: 1 << 20,
            max_actors: 100,
            single_writer: false,
        };
        let waits: Vec<u128> = (1..=4).map(|n| settings.backoff(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 350, 350]);
    }
}
