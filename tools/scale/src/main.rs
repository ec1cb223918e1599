//! `scale seed` fills a fresh database; `scale time` times every admin read of a server
//! running on it. See `README.md` next to this crate.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use scale::plan::Plan;
use scale::requests::{Samples, admin_reads};
use sea_orm::{ConnectOptions, Database};

#[derive(Parser)]
#[command(about = "Seeds a payments database at scale and times every admin read")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes stores, customers, products, prices, orders and events in bulk into a fresh
    /// database, then builds the indexes and the summaries.
    Seed {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[command(flatten)]
        size: Size,
    },
    /// Times every admin `GET` of the OpenAPI document against a server on a seeded
    /// database, and prints a Markdown table.
    Time {
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        base_url: String,
        #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
        token: String,
        #[command(flatten)]
        size: Size,
        /// Timed runs of each request, after one untimed pass over all of them and one
        /// untimed run of each.
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
}

#[derive(Args)]
struct Size {
    /// Orders seeded; the other tables follow (see `Plan::for_orders`).
    #[arg(long, default_value_t = 1_000_000)]
    orders: i64,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("scale: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Seed { database_url, size } => {
            let plan = Plan::for_orders(size.orders);
            eprintln!("seeding {plan:?}");
            // One connection: the session setting that skips triggers holds on it.
            let mut options = ConnectOptions::new(database_url);
            options
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .sqlx_logging(false);
            let db = Database::connect(options).await.context("connecting")?;
            scale::seed::seed(&db, &plan, |step| eprintln!("{step}")).await
        }
        Command::Time {
            base_url,
            token,
            size,
            runs,
        } => time(&base_url, &token, &Plan::for_orders(size.orders), runs).await,
    }
}

async fn time(base_url: &str, token: &str, plan: &Plan, runs: usize) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let doc: serde_json::Value = client
        .get(format!("{base_url}/openapi.json"))
        .send()
        .await
        .context("fetching /openapi.json")?
        .json()
        .await?;
    let requests = admin_reads(&doc, &Samples::of(plan))?;
    // One untimed pass first: the server's connection pool grows to what the reads need
    // (a new PostgreSQL connection costs tens of milliseconds), and caches warm up.
    for (_, path) in &requests {
        let response = client
            .get(format!("{base_url}{path}"))
            .bearer_auth(token)
            .send()
            .await?;
        response.bytes().await?;
    }
    println!("| route | request | objects | median ms | max ms |\n|---|---|---:|---:|---:|");
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for (template, path) in requests {
        let mut times = Vec::with_capacity(runs);
        let mut objects = 0;
        for run in 0..=runs {
            let started = Instant::now();
            let response = client
                .get(format!("{base_url}{path}"))
                .bearer_auth(token)
                .send()
                .await?;
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            // A list's objects, or 1 for an object: a read that finds nothing shows as 0.
            objects = body["data"].as_array().map_or(1, Vec::len);
            if !status.is_success() {
                failures.push(format!("{path}: {status}"));
                break;
            }
            if run > 0 {
                times.push(started.elapsed());
            }
        }
        if times.is_empty() {
            continue;
        }
        times.sort();
        let median = times[times.len() / 2];
        if median > slowest.0 {
            slowest = (median, path.clone());
        }
        println!(
            "| `{template}` | `{path}` | {objects} | {:.2} | {:.2} |",
            ms(median),
            ms(times[times.len() - 1])
        );
    }
    eprintln!("slowest median: {:.2} ms ({})", ms(slowest.0), slowest.1);
    if !failures.is_empty() {
        bail!("requests failed:\n{}", failures.join("\n"));
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
