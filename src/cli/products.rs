//! `payments products import FILE --store acct_...`: a seller's catalogue from a CSV or JSON
//! file to their connected account on Stripe ([`crate::catalog_import`]). It needs only the
//! Stripe key, not the database: the running service hears of the new products through
//! Stripe's webhooks, as of any other change.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::catalog_import::{self, Format, ImportError};
use crate::cli::{ImportArgs, ProductsArgs, ProductsCommand};
use crate::config::Settings;
use crate::stripe::api::Client;

/// Runs the subcommand; `Ok(false)` if a row failed.
pub async fn run(args: &ProductsArgs) -> anyhow::Result<bool> {
    match &args.command {
        ProductsCommand::Import(args) => import(args).await,
    }
}

async fn import(args: &ImportArgs) -> anyhow::Result<bool> {
    let file = args.file.display().to_string();
    let format = match args.format.or_else(|| Format::of_path(&args.file)) {
        Some(format) => format,
        None => anyhow::bail!("{file}: say --format csv or --format json (no .csv or .json)"),
    };
    let settings = Settings::load()?;
    let client = Client::from_settings(&settings).ok_or_else(|| {
        anyhow::anyhow!(
            "STRIPE_API_KEY is not set: the import creates products through Stripe's API"
        )
    })?;
    let bytes =
        std::fs::read(&args.file).map_err(|err| anyhow::anyhow!("cannot read {file}: {err}"))?;
    let bar = progress_bar();
    let outcome = catalog_import::import(&client, &args.store, &bytes, format, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await;
    bar.finish_and_clear();
    let report = match outcome {
        Ok(report) => report,
        Err(ImportError::File(err)) => anyhow::bail!("{file}: {err}"),
        Err(ImportError::Stopped(stopped)) => {
            print_report(&file, &args.store, &stopped.done);
            anyhow::bail!(
                "Stripe connection failed, import stopped: {}",
                stopped.error
            );
        }
    };
    print_report(&file, &args.store, &report);
    Ok(report.count(catalog_import::Status::Failed) == 0)
}

/// Each failed row, then the counts.
fn print_report(file: &str, store: &str, report: &catalog_import::Report) {
    for failure in report.failures() {
        println!("{failure}");
    }
    println!("{file} -> {store}: {}", report.summary());
}

/// A bar on stderr when it is a terminal; hidden otherwise (a pipe, a log file, a test).
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}") {
        bar.set_style(style);
    }
    bar
}
