//! `payments replay`: ask a running server to re-apply stored events, through its admin
//! API (`POST /webhooks/stripe/events/{id}/replay` or `POST /webhooks/stripe/replay`), so
//! the events go through the server's own actors and nothing applies them twice.

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use super::trigger::local_base_url;
use crate::cli::ReplayArgs;
use crate::config::Settings;

/// Where to send and with which token.
struct Target {
    base: String,
    token: Option<SecretString>,
}

impl Target {
    /// Uses the flags, falling back to the local server and the configured admin token.
    fn resolve(args: &ReplayArgs) -> anyhow::Result<Self> {
        if let (Some(url), Some(token)) = (&args.url, &args.token) {
            return Ok(Self {
                base: url.clone(),
                token: Some(SecretString::from(token.clone())),
            });
        }
        let settings = Settings::load()?;
        Ok(Self {
            base: args
                .url
                .clone()
                .unwrap_or_else(|| local_base_url(&settings)),
            token: match &args.token {
                Some(token) => Some(SecretString::from(token.clone())),
                None => settings.admin_token.clone(),
            },
        })
    }
}

/// The admin API request `args` stand for.
fn request_url(base: &str, args: &ReplayArgs) -> anyhow::Result<Url> {
    let mut url = Url::parse(base)?;
    let Ok(mut path) = url.path_segments_mut() else {
        anyhow::bail!("`{base}` cannot be a base URL");
    };
    path.pop_if_empty().extend(["webhooks", "stripe"]);
    match &args.event {
        Some(id) => {
            path.extend(["events", id.as_str(), "replay"]);
        }
        None => {
            path.push("replay");
        }
    }
    drop(path);
    if args.event.is_none() {
        let mut query = url.query_pairs_mut();
        if args.failed {
            query.append_pair("status", "failed");
        }
        if let Some(account) = &args.account {
            query.append_pair("account", account);
        }
        if let Some(event_type) = &args.event_type {
            query.append_pair("type", event_type);
        }
    }
    Ok(url)
}

/// Runs `payments replay` and prints the answer; `Ok(false)` when the server refused.
pub async fn run(args: &ReplayArgs) -> anyhow::Result<bool> {
    let target = Target::resolve(args)?;
    let url = request_url(&target.base, args)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut request = reqwest::Client::new().post(url.clone());
    if let Some(token) = &target.token {
        request = request.bearer_auth(token.expose_secret());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.text().await?;
    println!("POST {url}");
    println!("{status}");
    println!("{body}");
    Ok((200..300).contains(&status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(argv: &[&str]) -> ReplayArgs {
        let mut full = vec!["payments", "replay"];
        full.extend(argv);
        match crate::cli::Cli::try_parse_from(full).unwrap().command {
            Some(crate::cli::Command::Replay(args)) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_event_or_filters_become_the_admin_api_request() {
        let url = request_url("http://h:1", &args(&["--event", "evt_1"])).unwrap();
        assert_eq!(
            url.as_str(),
            "http://h:1/webhooks/stripe/events/evt_1/replay"
        );
        let url = request_url("http://h:1/", &args(&["--failed", "--account", "acct_9"])).unwrap();
        assert_eq!(
            url.as_str(),
            "http://h:1/webhooks/stripe/replay?status=failed&account=acct_9"
        );
    }

    #[test]
    fn replay_needs_an_event_or_a_filter() {
        assert!(crate::cli::Cli::try_parse_from(["payments", "replay"]).is_err());
        let both = ["payments", "replay", "--event", "evt_1", "--failed"];
        assert!(crate::cli::Cli::try_parse_from(both).is_err());
    }
}
