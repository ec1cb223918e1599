//! `payments trigger`: build a realistic event, sign it exactly as Stripe does, POST it,
//! and report the answer. `payments demo` sends its events through the same [`Target`] and
//! [`send_event`].

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::cli::{TargetArgs, TriggerArgs};
use crate::config::Settings;
use crate::stripe::signature;

/// What the server answered.
#[derive(Debug)]
pub struct TriggerOutcome {
    pub event_id: String,
    pub status: u16,
    pub body: String,
}

/// Where and with which secret to send (also used by the load generator, `tools/loadgen`).
pub struct Target {
    pub url: String,
    pub secret: SecretString,
}

impl Target {
    /// Uses the flags, falling back to the local server and the configured secret.
    pub fn resolve(args: &TargetArgs) -> anyhow::Result<Self> {
        Self::from_flags(args.url.as_deref(), args.secret.as_deref())
    }

    /// `--url` and `--secret` when given, else the local server and the configured secret
    /// (the configuration is only read when a flag is missing). A URL without a path is
    /// the server's: the webhook endpoint's path is added.
    pub fn from_flags(url: Option<&str>, secret: Option<&str>) -> anyhow::Result<Self> {
        if let (Some(url), Some(secret)) = (url, secret) {
            return Ok(Self {
                url: webhook_url(url),
                secret: SecretString::from(secret.to_owned()),
            });
        }
        let settings = Settings::load()?;
        let url = url.map_or_else(|| local_url(&settings), webhook_url);
        let secret = match secret {
            Some(secret) => SecretString::from(secret.to_owned()),
            None => settings.webhook_secrets[0].clone(),
        };
        Ok(Self { url, secret })
    }

    /// The server's base URL: the webhook URL without its endpoint's path (without any
    /// path when the endpoint is elsewhere).
    pub fn base_url(&self) -> String {
        let url = self.url.trim_end_matches('/');
        match url.strip_suffix(WEBHOOK_PATH) {
            Some(base) => base.to_owned(),
            None => reqwest::Url::parse(url)
                .map_or_else(|_| url.to_owned(), |url| url.origin().ascii_serialization()),
        }
    }
}

/// The webhook endpoint's path.
const WEBHOOK_PATH: &str = "/webhooks/stripe";

fn local_url(settings: &Settings) -> String {
    format!("{}{WEBHOOK_PATH}", local_base_url(settings))
}

/// `url`, with the webhook endpoint's path added when it has none (`http://host:8000`).
fn webhook_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) if parsed.path() == "/" && parsed.query().is_none() => {
            format!("{}{WEBHOOK_PATH}", url.trim_end_matches('/'))
        }
        _ => url.to_owned(),
    }
}

/// The local server's base URL, from `BIND_ADDR` (an unspecified address means loopback).
pub fn local_base_url(settings: &Settings) -> String {
    let mut addr = settings.bind_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// Builds, signs and sends one event of `event_type`.
pub async fn send(
    target: &Target,
    event_type: &str,
    account: Option<&str>,
) -> anyhow::Result<TriggerOutcome> {
    let now = chrono::Utc::now().timestamp();
    let event = stripe_samples::build_event(event_type, account, now)?;
    send_event(target, &http_client(), &event).await
}

/// An HTTP client for [`send_event`] (reqwest needs a TLS provider installed first).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Signs `event` now, exactly as Stripe signs, and POSTs it to the target.
pub async fn send_event(
    target: &Target,
    client: &reqwest::Client,
    event: &Value,
) -> anyhow::Result<TriggerOutcome> {
    let event_id = event["id"].as_str().unwrap_or_default().to_owned();
    let body = serde_json::to_vec_pretty(event)?;
    let now = chrono::Utc::now().timestamp();
    let header = signature::signature_header(&target.secret, now, &body);
    let response = client
        .post(&target.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", header)
        .header("user-agent", "payments-trigger (like Stripe/1.0)")
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", target.url))?;
    let status = response.status().as_u16();
    let body = response.text().await?;
    Ok(TriggerOutcome {
        event_id,
        status,
        body,
    })
}

/// Runs `payments trigger` and prints the outcome; `Ok(false)` when the server refused.
pub async fn run(args: &TriggerArgs) -> anyhow::Result<bool> {
    let target = Target::resolve(&args.target)?;
    let outcome = send(&target, &args.event_type, args.account()).await?;
    println!("{} {} -> {}", args.event_type, outcome.event_id, target.url);
    println!("{}", outcome.status);
    println!("{}", outcome.body);
    let _ = target.secret.expose_secret();
    Ok((200..300).contains(&outcome.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_path_is_the_servers_and_gets_the_webhook_path() {
        let target = |url| Target::from_flags(Some(url), Some("whsec_x")).unwrap();
        for url in ["http://127.0.0.1:8000", "http://127.0.0.1:8000/"] {
            assert_eq!(target(url).url, "http://127.0.0.1:8000/webhooks/stripe");
            assert_eq!(target(url).base_url(), "http://127.0.0.1:8000");
        }
        let given = target("https://example.com/hooks/in");
        assert_eq!(given.url, "https://example.com/hooks/in");
        assert_eq!(given.base_url(), "https://example.com");
        let given = target("https://example.com/webhooks/stripe");
        assert_eq!(given.url, "https://example.com/webhooks/stripe");
        assert_eq!(given.base_url(), "https://example.com");
    }
}
