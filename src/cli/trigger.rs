//! `payments trigger`: build a realistic event, sign it exactly as Stripe does, POST it,
//! and report the answer.

use secrecy::{ExposeSecret, SecretString};

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
    /// (the configuration is only read when a flag is missing).
    pub fn from_flags(url: Option<&str>, secret: Option<&str>) -> anyhow::Result<Self> {
        if let (Some(url), Some(secret)) = (url, secret) {
            return Ok(Self {
                url: url.to_owned(),
                secret: SecretString::from(secret.to_owned()),
            });
        }
        let settings = Settings::load()?;
        let url = url.map_or_else(|| local_url(&settings), str::to_owned);
        let secret = match secret {
            Some(secret) => SecretString::from(secret.to_owned()),
            None => settings.webhook_secrets[0].clone(),
        };
        Ok(Self { url, secret })
    }
}

fn local_url(settings: &Settings) -> String {
    format!("{}/webhooks/stripe", local_base_url(settings))
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
    let event_id = event["id"].as_str().unwrap_or_default().to_owned();
    let body = serde_json::to_vec_pretty(&event)?;
    let header = signature::signature_header(&target.secret, now, &body);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::new()
        .post(&target.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", header)
        .header("user-agent", "payments-trigger (like Stripe/1.0)")
        .body(body)
        .send()
        .await?;
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
