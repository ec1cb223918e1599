//! `loadgen`: sends a stream of realistic, signed Connect events to a running `payments`
//! server and prints one JSON summary (see `README.md` next to this crate).
//!
//! A binary of its own rather than a `payments` subcommand, so that the production binary
//! does not carry it.
//!
//! - [`cli`]: the flags.
//! - [`story`]: what happens in one store (onboarding, customers, products, payments),
//!   as event types about consistent objects, from a seeded generator.
//! - [`feed`]: the stores' stories interleaved, shuffled and duplicated on request,
//!   built with the `stripe-samples` crate (the builders of `payments trigger`).
//! - [`driver`]: the closed loop (fixed concurrency) or open loop (fixed rate), signing
//!   each delivery at send time on keep-alive connections.
//! - [`tally`]: the answers, errors by status and code, ack latency histograms.
//! - [`applied`]: after sending, waits in the database until the acknowledged events are
//!   applied; measures the apply lag and finds lost events.
//! - [`rss`]: the server's peak resident memory.
//! - [`summary`]: the JSON document.

mod applied;
mod cli;
mod driver;
mod feed;
mod rss;
mod story;
mod summary;
mod tally;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cli::Args;
use driver::{Plan, Sender};
use feed::{Feed, FeedOptions};
use payments::cli::trigger::Target;
use summary::{Measured, Summary};

/// The allocator `payments loadgen` ran with when it was a subcommand of the service, so
/// the figures measured with it (`BENCHMARKS.md`) stay comparable.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Without `--duration` or `--events`.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Runs `loadgen`; `Ok(false)` when the check fails (an acknowledged event lost,
/// dead-lettered or still unapplied), unless `--no-check`.
async fn run(args: &Args) -> anyhow::Result<bool> {
    let target = Target::resolve(&args.target)?;
    let plan = plan(args);
    let feed_options = FeedOptions {
        stores: args.stores,
        seed: args.seed,
        duplicates: args.duplicates,
        shuffle: args.shuffle,
    };
    let rss_source = rss_source(args, &target.url)?;
    eprintln!(
        "loadgen: {} loop, {} stores -> {}",
        if plan.rate.is_some() {
            "open"
        } else {
            "closed"
        },
        args.stores,
        target.url
    );
    let sender = Sender::new(target.url, target.secret, plan.concurrency)?;
    let watch = rss::watch(rss_source, sender.client().clone());
    let (tally, elapsed) = driver::run(&plan, sender, Feed::new(feed_options.clone())).await;
    let applied = match &args.database_url {
        Some(url) => {
            let acknowledged = tally.acknowledged.iter().cloned().collect();
            Some(applied::wait(url, acknowledged, args.wait_applied).await?)
        }
        None => None,
    };
    let source = watch.source().label();
    let peak_rss = watch.finish().await.map(|bytes| (bytes, source));
    let measured = Measured {
        tally: &tally,
        elapsed,
        applied: applied.as_ref(),
        peak_rss,
    };
    let summary = Summary::new(&plan, &feed_options, &measured);
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(args.no_check || summary.passes())
}

fn plan(args: &Args) -> Plan {
    let duration = match (args.duration, args.events) {
        (None, None) => Some(DEFAULT_DURATION),
        (duration, _) => duration,
    };
    Plan {
        concurrency: args.concurrency,
        rate: args.rate,
        duration,
        events: args.events,
    }
}

/// `--server-pid`, else the `/metrics` of the server the webhook URL points at.
fn rss_source(args: &Args, webhook_url: &str) -> anyhow::Result<rss::Source> {
    if let Some(pid) = args.server_pid {
        return Ok(rss::Source::Pid(pid));
    }
    let metrics = reqwest::Url::parse(webhook_url)?.join("/metrics")?;
    Ok(rss::Source::Metrics(metrics.to_string()))
}
