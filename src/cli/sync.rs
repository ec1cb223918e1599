//! `payments sync`: backfill from Stripe ([`crate::sync`]) beside the service, on the same
//! database. It stores what it finds in the inbox and applies nothing itself: the running
//! service's recovery sweep dispatches waiting events every `RECOVERY_INTERVAL_SECS` (and
//! a service that starts later dispatches them at start-up), so they take the same apply
//! path as a webhook. A progress line on a terminal (hidden when stderr is not one), then
//! `seen, new, skipped` per store.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::SyncArgs;
use crate::config::Settings;
use crate::stripe::api::Client;
use crate::sync::{self, Listing, Observer, Options, Tally};

pub use crate::sync::parse_since;

/// Runs the backfill, printing a line per store; `Ok(false)` if a listing failed.
pub async fn run(args: &SyncArgs) -> anyhow::Result<bool> {
    let settings = Settings::load()?;
    let client = Client::from_settings(&settings).ok_or_else(|| {
        anyhow::anyhow!("STRIPE_API_KEY is not set: sync reads the events from Stripe's API")
    })?;
    let db = crate::startup::connect_and_migrate(&settings, &Default::default()).await?;
    let options = Options {
        store: args.store.clone(),
        since: args.since,
        objects: args.objects,
    };
    let progress = Progress::new();
    let sync = sync::Sync {
        client: &client,
        db: &db,
        observer: &progress,
    };
    let listings = sync.run(&options).await?;
    progress.bar.finish_and_clear();
    let ok = report(&listings);
    db.close().await?;
    Ok(ok)
}

/// Prints a line per store and the totals; whether every listing finished.
fn report(listings: &[Listing]) -> bool {
    let stores = sync::per_store(listings);
    let mut total = Tally::default();
    for (store, tally, error) in &stores {
        match error {
            None => println!(
                "{store}: seen {}, new {}, skipped {}",
                tally.seen, tally.new, tally.skipped
            ),
            Some(error) => println!(
                "{store}: failed: {error} (seen {}, new {}, skipped {}; the next run resumes)",
                tally.seen, tally.new, tally.skipped
            ),
        }
        total.seen += tally.seen;
        total.new += tally.new;
        total.skipped += tally.skipped;
    }
    println!(
        "sync: {} stores, seen {}, new {}, skipped {}{}",
        stores.len(),
        total.seen,
        total.new,
        total.skipped,
        if total.new > 0 {
            " — the running service applies the new events within RECOVERY_INTERVAL_SECS"
        } else {
            ""
        }
    );
    stores.iter().all(|(_, _, error)| error.is_none())
}

/// The progress line: the list being read and what it found so far.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new() -> Self {
        // Drawn on stderr, and only on a terminal: stdout keeps the summary clean, and a
        // redirected run (a log, a test) gets no control characters.
        let bar = match std::io::stderr().is_terminal() {
            true => ProgressBar::new_spinner(),
            false => ProgressBar::hidden(),
        };
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar }
    }
}

impl Observer for Progress {
    fn progress(&self, listing: &Listing) {
        let Tally { seen, new, skipped } = listing.tally;
        self.bar.set_message(format!(
            "{} {}: seen {seen}, new {new}, skipped {skipped}{}",
            listing.store,
            listing.kind.as_str(),
            if listing.resumed { " (resumed)" } else { "" }
        ));
    }
}
