//! `payments doctor`: checks what usually goes wrong when the service is set up (the
//! configuration, the database, the webhook secrets, the Stripe key, the public URL, the
//! metrics endpoint) and prints one line per check with the fix. Exits non-zero when a
//! check fails; warnings (`!`) do not fail.

use std::fmt;
use std::time::Duration;

use figment::Figment;
use sea_orm::{Database, DatabaseConnection};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Settings, fingerprint};
use crate::error::one_line;
use crate::store::db::{self, probe::Options};
use crate::stripe::api::{self, KeyCheck};

/// How long one network check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Keys whose values are secrets, shown by fingerprint only.
const SECRET_KEYS: &[&str] = &["stripe_webhook_secret", "stripe_api_key", "admin_token"];

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// Works, but likely not as intended.
    Warning,
    Failed,
    /// Nothing to check (not configured, or the service is not running).
    Skipped,
}

/// One printed line.
struct Check {
    verdict: Verdict,
    name: &'static str,
    detail: String,
}

impl Check {
    fn new(verdict: Verdict, name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            verdict,
            name,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.verdict {
            Verdict::Ok => "✓",
            Verdict::Warning => "!",
            Verdict::Failed => "✗",
            Verdict::Skipped => "-",
        };
        write!(f, "{mark} {}: {}", self.name, self.detail)
    }
}

/// Runs every check, printing as it goes; `Ok(false)` when one failed.
pub async fn run() -> anyhow::Result<bool> {
    let layers = Settings::layers();
    println!(
        "configuration (lowest layer first: built-in defaults < config/default.toml < config/$APP_ENV.toml < .env and the environment)"
    );
    for key in Settings::keys() {
        println!("  {key} = {}", shown_value(&layers, key));
    }
    let mut failed = false;
    let mut report = |check: Check| {
        failed |= check.verdict == Verdict::Failed;
        println!("{check}");
    };
    let settings = match Settings::from_figment(layers) {
        Ok(settings) => settings,
        Err(err) => {
            report(Check::new(
                Verdict::Failed,
                "configuration",
                err.to_string(),
            ));
            return Ok(false);
        }
    };
    report(Check::new(
        Verdict::Ok,
        "configuration",
        "complete and valid",
    ));
    for check in secret_checks(&settings) {
        report(check);
    }
    let db = database_checks(&settings, &mut report).await;
    report(stripe_key_check(&settings, db.as_ref()).await);
    report(public_url_check(&settings).await);
    report(metrics_check(&settings).await);
    if let Some(db) = db {
        let _ = db.close().await;
    }
    Ok(!failed)
}

/// A key's value as the layers give it, secrets masked, and the layer it came from.
fn shown_value(layers: &Figment, key: &str) -> String {
    let Ok(value) = layers.find_value(key) else {
        return "(unset)".to_owned();
    };
    let text = match serde_json::to_value(&value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    };
    let text = if SECRET_KEYS.contains(&key) {
        masked_list(&text)
    } else if key == "database_url" {
        without_password(&text)
    } else {
        text
    };
    let shown = if text.is_empty() { "\"\"" } else { &text };
    format!("{shown}   [{}]", layer_of(layers, key))
}

/// Each comma-separated secret as its prefix and fingerprint.
fn masked_list(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .map(|secret| {
            let prefix: String = secret.chars().take_while(|c| *c != '_').collect();
            let fingerprint = fingerprint(&SecretString::from(secret.to_owned()));
            match secret.contains('_') {
                true => format!("{prefix}_… ({fingerprint})"),
                false => format!("… ({fingerprint})"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A URL with its password replaced by `****`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:****@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The layer a key's value came from.
fn layer_of(layers: &Figment, key: &str) -> String {
    use figment::Source;
    match layers.find_metadata(key) {
        None => "unset".to_owned(),
        Some(metadata) => match &metadata.source {
            Some(Source::File(path)) => path
                .strip_prefix(std::env::current_dir().unwrap_or_default())
                .unwrap_or(path)
                .display()
                .to_string(),
            _ if metadata.name.contains("environment") => {
                format!("environment: {}", key.to_uppercase())
            }
            _ => "built-in default".to_owned(),
        },
    }
}

/// The webhook secrets: how many, which (by fingerprint), and their shape.
fn secret_checks(settings: &Settings) -> Vec<Check> {
    let fingerprints: Vec<String> = settings.webhook_secrets.iter().map(fingerprint).collect();
    let mut checks = vec![Check::new(
        Verdict::Ok,
        "webhook secrets",
        format!(
            "{} configured ({}){}",
            fingerprints.len(),
            fingerprints.join(", "),
            match settings.webhook_secret_source {
                crate::config::SecretSource::DevelopmentFile => {
                    ", the generated development secret: set STRIPE_WEBHOOK_SECRET for Stripe"
                }
                crate::config::SecretSource::Configured => "",
            }
        ),
    )];
    for warning in &settings.warnings {
        checks.push(Check::new(
            Verdict::Warning,
            "webhook secrets",
            warning.clone(),
        ));
    }
    checks
}

/// Reachable, migrated, writable; the open database for the later checks.
async fn database_checks(
    settings: &Settings,
    report: &mut impl FnMut(Check),
) -> Option<DatabaseConnection> {
    let url = settings.database_url();
    if let Err(err) = db::create_sqlite_folder(&url) {
        let detail = format!("cannot create the SQLite folder: {err} — check DATA_DIR");
        report(Check::new(Verdict::Failed, "database", detail));
        return None;
    }
    let reachable = match Options::parse(&url) {
        Ok(options) => options.probe().await.map(|()| options.target()),
        Err(err) => Err(err),
    };
    let target = match reachable {
        Ok(target) => target,
        Err(err) => {
            report(Check::new(Verdict::Failed, "database", err.to_string()));
            return None;
        }
    };
    report(Check::new(
        Verdict::Ok,
        "database",
        format!("{target} answers"),
    ));
    let db = match Database::connect(url.as_str()).await {
        Ok(db) => db,
        Err(err) => {
            let err = db::step_failed(settings, "opening a pool to", &err);
            report(Check::new(Verdict::Failed, "database", err.to_string()));
            return None;
        }
    };
    report(match db::pending_migrations(&db).await {
        Ok(pending) if pending.is_empty() => {
            Check::new(Verdict::Ok, "migrations", "every migration is applied")
        }
        Ok(pending) => Check::new(
            Verdict::Warning,
            "migrations",
            format!(
                "{} pending ({}) — the service applies them at start-up; in production run \
                 `payments migrate` first",
                pending.len(),
                pending.join(", ")
            ),
        ),
        Err(err) => Check::new(Verdict::Failed, "migrations", err.to_string()),
    });
    report(match db::write_and_read_back(&db).await {
        Ok(()) => Check::new(
            Verdict::Ok,
            "database writes",
            "an event row written and read back (rolled back)",
        ),
        Err(_)
            if db::pending_migrations(&db)
                .await
                .is_ok_and(|p| !p.is_empty()) =>
        {
            Check::new(
                Verdict::Skipped,
                "database writes",
                "not checked until the migrations are applied",
            )
        }
        Err(err) => Check::new(
            Verdict::Failed,
            "database writes",
            db::step_failed(settings, "writing to", &err).to_string(),
        ),
    });
    Some(db)
}

/// `GET /v1/account` with the key: valid, test or live, and the same mode as the data
/// ([`api::check_key`], which start-up runs too).
async fn stripe_key_check(settings: &Settings, db: Option<&DatabaseConnection>) -> Check {
    const NAME: &str = "stripe key";
    let Some(client) = api::Client::from_settings(settings) else {
        return Check::new(Verdict::Skipped, NAME, "STRIPE_API_KEY is not set");
    };
    // One attempt: doctor reports what it sees, it does not wait for Stripe.
    let client = client.with_retry(api::RetryPolicy {
        max_attempts: 1,
        ..Default::default()
    });
    let modes = match db {
        Some(db) => db::modes_in_data(db).await.unwrap_or((false, false)),
        None => (false, false),
    };
    let check = api::check_key(&client, modes).await;
    let verdict = match check {
        KeyCheck::Valid(_) => Verdict::Ok,
        KeyCheck::Restricted(_) => Verdict::Warning,
        KeyCheck::Refused(_) | KeyCheck::Unavailable(_) => Verdict::Failed,
    };
    Check::new(verdict, NAME, check.detail())
}

/// The public URL answers `/health`, over TLS as Stripe requires for live endpoints.
async fn public_url_check(settings: &Settings) -> Check {
    const NAME: &str = "public url";
    let Some(base) = &settings.public_url else {
        return Check::new(Verdict::Skipped, NAME, "PUBLIC_URL is not set");
    };
    let url = format!("{base}/health");
    match client().get(&url).send().await {
        Ok(response) if response.status().is_success() => {
            if base.starts_with("https://") {
                Check::new(Verdict::Ok, NAME, format!("{url} answers over TLS"))
            } else {
                Check::new(
                    Verdict::Warning,
                    NAME,
                    format!(
                        "{url} answers, but not over https: Stripe sends live events to https endpoints only"
                    ),
                )
            }
        }
        Ok(response) => Check::new(
            Verdict::Failed,
            NAME,
            format!(
                "{url} answers HTTP {} — check the proxy in front of the service routes to it",
                response.status().as_u16()
            ),
        ),
        Err(err) => Check::new(
            Verdict::Failed,
            NAME,
            format!(
                "{url} cannot be reached from this machine: {} — check DNS, the TLS \
                 certificate and the proxy",
                one_line(&err)
            ),
        ),
    }
}

/// A service running at `BIND_ADDR` answers `/metrics` with the service's metrics.
async fn metrics_check(settings: &Settings) -> Check {
    const NAME: &str = "metrics";
    let mut addr = settings.bind_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{addr}/metrics");
    let mut request = client().get(&url);
    if let Some(token) = &settings.admin_token {
        request = request.bearer_auth(token.expose_secret());
    }
    match request.send().await {
        Err(err) if err.is_connect() => Check::new(
            Verdict::Skipped,
            NAME,
            format!(
                "no service is running at {addr}; start it, then run `payments doctor` again to check {url}"
            ),
        ),
        Err(err) => Check::new(Verdict::Failed, NAME, format!("{url}: {}", one_line(&err))),
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if status == 200 && body.contains(crate::metrics::BUILD_INFO) {
                Check::new(Verdict::Ok, NAME, format!("{url} answers"))
            } else if status == 401 {
                Check::new(
                    Verdict::Failed,
                    NAME,
                    format!("{url} wants the admin token — set ADMIN_TOKEN to the service's"),
                )
            } else {
                Check::new(
                    Verdict::Failed,
                    NAME,
                    format!(
                        "{url} answers HTTP {status} without the service's metrics — is another program on BIND_ADDR?"
                    ),
                )
            }
        }
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .user_agent(concat!("payments-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the client's settings are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secrets_are_never_shown() {
        assert_eq!(
            without_password("postgres://shop:hunter2@db:5432/orders"),
            "postgres://shop:****@db:5432/orders"
        );
        assert_eq!(
            without_password("postgres://shop@db/orders"),
            "postgres://shop@db/orders"
        );
        let shown = masked_list("whsec_abc123, sk_test_xyz");
        assert!(shown.starts_with("whsec_… (sha256:"), "{shown}");
        assert!(shown.contains("sk_… (sha256:"), "{shown}");
        assert!(
            !shown.contains("abc123") && !shown.contains("xyz"),
            "{shown}"
        );
    }
}
