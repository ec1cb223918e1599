//! `payments demo`: play one seller's whole story into a running server, so that a newcomer
//! sees a real store: the account is created and onboarded, publishes a catalogue, gets
//! customers, and takes a paid, a declined and a refunded order ([`stripe_samples::story`]).
//!
//! The events go one at a time, in the story's order, signed and sent by `payments
//! trigger`'s own code ([`trigger::send_event`]). The story is derived from the account:
//! its ids are, and so are its times once the server has heard it (its first event's
//! `created`, read back through the admin API), so a second run redelivers the same bytes
//! and the server answers each event as already received, changing nothing.
//!
//! Then, when the admin API answers (open on loopback in development without
//! `ADMIN_TOKEN`), it waits up to [`APPLY_WAIT`] for the server to apply the events, and
//! reports the store; last, it prints the storefront and console URLs.

use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use stripe_samples::story;

use super::trigger::{self, Target};
use crate::cli::DemoArgs;
use crate::config::Settings;

/// How long to wait for the server to apply the events.
const APPLY_WAIT: Duration = Duration::from_secs(10);
/// How often to ask meanwhile.
const POLL: Duration = Duration::from_millis(100);
/// How much of a refusal's body to show.
const BODY_SHOWN: usize = 500;

/// Runs `payments demo`; an error (the server refused an event, or cannot be reached)
/// ends it before the rest of the story is sent.
pub async fn run(args: &DemoArgs) -> anyhow::Result<bool> {
    let target = Target::resolve(&args.target)?;
    let account = args.account();
    let admin = Admin {
        base: target.base_url(),
        token: admin_token(args),
        client: trigger::http_client(),
    };

    let start = match admin.story_start(account).await? {
        Some(start) => start,
        // Ending now: the store looks fresh, and its account's last update is newer than
        // one `payments trigger` sent before.
        None => chrono::Utc::now().timestamp() - story::SPAN,
    };
    let events = story::seller_story(account, start);
    println!(
        "{}: {} events for {account} -> {}",
        story::STORE_NAME,
        events.len(),
        target.url
    );
    let mut fresh = 0;
    for (n, event) in events.iter().enumerate() {
        let kind = event["type"].as_str().unwrap_or_default();
        let outcome = trigger::send_event(&target, &admin.client, event).await?;
        if !(200..300).contains(&outcome.status) {
            anyhow::bail!(
                "the server answered {} to {kind} {} ({} of {}); nothing after it was sent: {}",
                outcome.status,
                outcome.event_id,
                n + 1,
                events.len(),
                shortened(&outcome.body),
            );
        }
        let duplicate = serde_json::from_str::<Value>(&outcome.body)
            .ok()
            .and_then(|answer| answer["duplicate"].as_bool())
            .unwrap_or(false);
        if !duplicate {
            fresh += 1;
        }
        println!(
            "{:>3}/{} {kind:<30} {} {}",
            n + 1,
            events.len(),
            outcome.event_id,
            if duplicate { "already received" } else { "new" }
        );
    }
    println!(
        "sent {} events: {fresh} new, {} already received",
        events.len(),
        events.len() - fresh
    );

    admin.wait_and_report(account, &events).await;
    println!();
    println!("storefront: {}/shop/{account}", admin.base);
    println!("console:    {}/admin", admin.base);
    Ok(true)
}

/// `--admin-token` or `ADMIN_TOKEN`, else the configured one when the server is the local
/// one (a named server with a named secret is not this configuration's).
fn admin_token(args: &DemoArgs) -> Option<SecretString> {
    if let Some(token) = &args.admin_token {
        return Some(SecretString::from(token.clone()));
    }
    if args.target.url.is_some() && args.target.secret.is_some() {
        return None;
    }
    Settings::load().ok()?.admin_token
}

fn shortened(text: &str) -> &str {
    match text.char_indices().nth(BODY_SHOWN) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The running server's admin API.
struct Admin {
    base: String,
    token: Option<SecretString>,
    client: reqwest::Client,
}

/// Why the admin API gave no answer to use.
enum Unanswered {
    /// It answered this status (401: no or another token).
    Status(StatusCode),
    /// The request failed.
    Failed(anyhow::Error),
}

impl Admin {
    /// GETs `path` and reads the answer as JSON.
    async fn get(&self, path: &str) -> Result<Value, Unanswered> {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        let response = request
            .send()
            .await
            .map_err(|err| Unanswered::Failed(err.into()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Unanswered::Status(status));
        }
        let body = response
            .text()
            .await
            .map_err(|err| Unanswered::Failed(err.into()))?;
        serde_json::from_str(&body).map_err(|err| Unanswered::Failed(err.into()))
    }

    /// When the story started the first time the server heard it (its first event's
    /// `created`), so that telling it again gives the same bytes; `None` when the server
    /// has not heard it (or the admin API does not answer: the times are then new, and a
    /// second run's events are still answered as already received). An unreachable
    /// server is an error.
    async fn story_start(&self, account: &str) -> anyhow::Result<Option<i64>> {
        let path = format!("/webhooks/stripe/events/{}", story::first_event_id(account));
        match self.get(&path).await {
            Ok(event) => Ok(event["payload"]["created"].as_i64()),
            Err(Unanswered::Status(_)) => Ok(None),
            Err(Unanswered::Failed(err)) => {
                Err(err).with_context(|| format!("cannot reach the server at {}", self.base))
            }
        }
    }

    /// Waits until none of the account's events is waiting, then prints what the store
    /// holds; prints why not when the admin API does not answer or the wait runs out.
    async fn wait_and_report(&self, account: &str, events: &[Value]) {
        let waiting = format!("/webhooks/stripe/logs?account={account}&status=received&limit=1");
        let deadline = Instant::now() + APPLY_WAIT;
        loop {
            match self.get(&waiting).await {
                Ok(list) if list["data"].as_array().is_some_and(Vec::is_empty) => break,
                Ok(_) if Instant::now() >= deadline => {
                    println!(
                        "the server has not applied every event after {} s: see {}{waiting}",
                        APPLY_WAIT.as_secs(),
                        self.base
                    );
                    return;
                }
                Ok(_) => tokio::time::sleep(POLL).await,
                Err(why) => {
                    self.unanswered(&why);
                    return;
                }
            }
        }
        self.report_failures(account, events).await;
        match self.store_with_pages(account, deadline).await {
            Ok(store) => println!(
                "applied: {} ({}), {} products, {} customers, {} orders",
                store["name"].as_str().unwrap_or(account),
                store["status"].as_str().unwrap_or("unknown"),
                store["counts"]["products"],
                store["counts"]["customers"],
                store["counts"]["orders"],
            ),
            Err(why) => self.unanswered(&why),
        }
    }

    /// The store once its pages are rebuilt (they follow the last change by a moment), or
    /// as it is when the wait runs out.
    async fn store_with_pages(
        &self,
        account: &str,
        deadline: Instant,
    ) -> Result<Value, Unanswered> {
        loop {
            let store = self.get(&format!("/stores/{account}")).await?;
            if store["pages_stale"] != Value::Bool(true) || Instant::now() >= deadline {
                return Ok(store);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Names the story's events the server could not apply.
    async fn report_failures(&self, account: &str, events: &[Value]) {
        let path = format!("/webhooks/stripe/logs?account={account}&status=failed&limit=100");
        let Ok(list) = self.get(&path).await else {
            return;
        };
        let ours: Vec<&Value> = events.iter().map(|event| &event["id"]).collect();
        for failed in list["data"].as_array().into_iter().flatten() {
            if ours.contains(&&failed["id"]) {
                println!(
                    "failed: {} {}: {}",
                    failed["type"].as_str().unwrap_or_default(),
                    failed["id"].as_str().unwrap_or_default(),
                    failed["last_error"].as_str().unwrap_or("no error recorded"),
                );
            }
        }
    }

    fn unanswered(&self, why: &Unanswered) {
        match why {
            Unanswered::Status(StatusCode::UNAUTHORIZED) => println!(
                "not checked that the server applied them: its admin API answered 401 \
                 (give --admin-token or set ADMIN_TOKEN)"
            ),
            Unanswered::Status(status) => println!(
                "not checked that the server applied them: its admin API answered {status}"
            ),
            Unanswered::Failed(err) => println!(
                "not checked that the server applied them: {}",
                crate::error::one_line(err.as_ref())
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_shortened_on_a_character_boundary() {
        assert_eq!(shortened("short"), "short");
        let long = "é".repeat(BODY_SHOWN + 10);
        assert_eq!(shortened(&long).chars().count(), BODY_SHOWN);
    }
}
