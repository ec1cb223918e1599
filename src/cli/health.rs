//! `payments health`: asks a running server's `/health` (or `/ready`), for the container
//! image's HEALTHCHECK (the runtime image has no curl), exec probes and scripts.

use std::time::Duration;

use crate::cli::HealthArgs;
use crate::cli::trigger::local_base_url;
use crate::config::Settings;

/// Prints the answer; `Ok(false)` when the server answered anything but a success.
/// An unreachable server is an error (exit status 1 either way).
pub async fn run(args: &HealthArgs) -> anyhow::Result<bool> {
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => local_base_url(&Settings::load()?),
    };
    let url = format!("{base}/{}", if args.ready { "ready" } else { "health" });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout.max(1)))
        // The server is local: an HTTP_PROXY meant for outgoing traffic must not carry this.
        .no_proxy()
        .build()?
        .get(&url)
        .header("user-agent", "payments-health")
        .send()
        .await
        .map_err(|err| anyhow::anyhow!("{url}: {}", crate::error::one_line(&err)))?;
    let status = response.status();
    println!("{url} -> {}", status.as_u16());
    Ok(status.is_success())
}
