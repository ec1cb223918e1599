//! The command line: `payments [serve] | migrate | trigger <event-type> | demo | replay |
//! doctor | health | sync | products import`.
//!
//! [`trigger`] sends a signed sample event to a running server, [`demo`] a whole seller's
//! story (signed the same way), [`replay`] asks one to
//! re-apply stored events, [`doctor`] checks the set-up, [`health`] asks a running server
//! whether it is alive (the container image's health check). The load generator is a binary of its own (`tools/loadgen`),
//! not part of the service.

pub mod demo;
pub mod doctor;
pub mod health;
pub mod products;
pub mod replay;
pub mod sync;
pub mod trigger;

use clap::{Parser, Subcommand};

/// Turns Stripe Connect webhooks into live marketplace stores.
#[derive(Debug, Parser)]
#[command(name = "payments", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Sign and send a realistic event to a running server, like `stripe trigger`.
    Trigger(TriggerArgs),
    /// Play a whole seller's story into a running server (onboarding, a catalogue,
    /// customers, a paid, a declined and a refunded order), then print its storefront.
    Demo(DemoArgs),
    /// Re-apply stored events through a running server's admin API.
    Replay(ReplayArgs),
    /// Check the configuration, the database, the webhook secrets, the Stripe key, the
    /// public URL and the metrics endpoint; print each finding with its fix.
    Doctor,
    /// Backfill from Stripe: list the events of the last 30 days (Stripe keeps no older)
    /// for the platform and each connected account the database has a store of, and store
    /// the ones not stored yet in the inbox, as the webhook stores a delivery; with
    /// --objects, the objects themselves too. Resumable: an interrupted sync resumes from
    /// its stored cursor, a finished one next time lists only what is newer. It does not
    /// apply them: the running service's recovery sweep does, within
    /// RECOVERY_INTERVAL_SECS (or the service at its next start). Prints `seen N, new M,
    /// skipped K` per store.
    Sync(SyncArgs),
    /// A seller's catalogue on Stripe: `payments products import FILE --store acct_...`.
    Products(ProductsArgs),
    /// Ask a running server's `/health` (or `/ready`); exit 0 if it answers 200 (the
    /// container image's HEALTHCHECK: the image has no curl).
    Health(HealthArgs),
}

/// Arguments of `payments health`.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Base URL of the server [default: the local server at BIND_ADDR].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Ask `/ready` instead: whether the server can take traffic (database reachable and
    /// migrated), not only whether it is alive.
    #[arg(long)]
    pub ready: bool,
    /// How long to wait for the answer, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3)]
    pub timeout: u64,
}

/// Arguments of `payments sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Only this connected account's events [default: the platform and every connected
    /// account with a store].
    #[arg(long, value_name = "acct_...", value_parser = account_id)]
    pub store: Option<String>,
    /// How far back: `30d`, `12h`, `90m` (at most 30 days, all Stripe keeps) [default:
    /// from where the last finished sync of each store stopped, less 5 minutes, or 30
    /// days for a store never synced]. An interrupted sync always resumes first.
    #[arg(long, value_name = "AGE", value_parser = sync::parse_since)]
    pub since: Option<std::time::Duration>,
    /// Also list the objects (accounts, customers, products, prices, PaymentIntents) to
    /// rebuild rows older than Stripe's 30 days of events; a newer state is never
    /// overwritten by an older object.
    #[arg(long)]
    pub objects: bool,
}

/// Arguments of `payments products`.
#[derive(Debug, clap::Args)]
pub struct ProductsArgs {
    #[command(subcommand)]
    pub command: ProductsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProductsCommand {
    /// Create or update the store's products and their default prices on Stripe from a CSV
    /// or JSON file (needs STRIPE_API_KEY). Columns: name (required), price and currency
    /// (required), description, images (http(s) URLs separated by `|` or spaces), category,
    /// interval (day, week, month or year), and sku or id (what names the product across
    /// imports; else its name). Running it again updates what changed and nothing else.
    /// Prints each failed row as `line N: reason` and a summary; exits non-zero if a row
    /// failed.
    Import(ImportArgs),
}

/// Arguments of `payments products import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV or JSON file.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// The connected account whose catalogue it is.
    #[arg(long, value_name = "acct_...", value_parser = account_id)]
    pub store: String,
    /// How the file is written [default: from its extension].
    #[arg(long, value_enum)]
    pub format: Option<crate::catalog_import::Format>,
}

/// Arguments of `payments trigger`.
#[derive(Debug, clap::Args)]
pub struct TriggerArgs {
    /// Event type, such as `charge.succeeded` (`payments trigger --help` lists them all).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::stripe::event_types::buildable_names()))]
    pub event_type: String,
    /// Connected account the event is about [default: the demo seller, acct_1PgafTB7WZ01zgkW].
    #[arg(long, value_name = "acct_...", conflicts_with = "platform")]
    pub account: Option<String>,
    /// Send a platform event (no `account`), as the "Your account" endpoint receives.
    #[arg(long)]
    pub platform: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// The connected account `payments trigger` speaks for when none is named: one demo
/// seller, so that a newcomer's events build one store (the platform is not a store).
pub const DEMO_ACCOUNT: &str = "acct_1PgafTB7WZ01zgkW";

impl TriggerArgs {
    /// The event's `account`: `None` for a platform event.
    pub fn account(&self) -> Option<&str> {
        if self.platform {
            None
        } else {
            Some(self.account.as_deref().unwrap_or(DEMO_ACCOUNT))
        }
    }
}

/// Arguments of `payments demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Connected account whose story it is [default: the demo seller, acct_1PgafTB7WZ01zgkW].
    #[arg(long, value_name = "acct_...", value_parser = account_id)]
    pub account: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Admin token, to wait until the server has applied the events and report the store
    /// [default: the configured ADMIN_TOKEN].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

impl DemoArgs {
    /// The story's account.
    pub fn account(&self) -> &str {
        self.account.as_deref().unwrap_or(DEMO_ACCOUNT)
    }
}

/// An account id as Stripe makes them: `acct_` and letters or digits (it goes into URLs).
fn account_id(value: &str) -> Result<String, String> {
    match value.strip_prefix("acct_") {
        Some(rest) if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Ok(value.to_owned())
        }
        _ => Err("expected `acct_` followed by letters and digits".to_owned()),
    }
}

/// Where signed sample events go: shared by `payments trigger`, `payments demo` and the
/// load generator.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Webhook URL, or the server's base URL (`/webhooks/stripe` is added to a URL without
    /// a path) [default: the local server at BIND_ADDR, /webhooks/stripe].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Signing secret [default: the first configured STRIPE_WEBHOOK_SECRET, or the
    /// generated development secret].
    #[arg(
        long,
        value_name = "whsec_...",
        env = "TRIGGER_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,
}

/// Arguments of `payments replay`: one event, or every event matching the filters.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("which")
        .required(true)
        .multiple(true)
        .args(["event", "failed", "account", "event_type"])
))]
pub struct ReplayArgs {
    /// Replay this one event, whatever its status.
    #[arg(long, value_name = "evt_...", conflicts_with_all = ["failed", "account", "event_type"])]
    pub event: Option<String>,
    /// Replay every failed event (with `--account` / `--type`: only those).
    #[arg(long)]
    pub failed: bool,
    /// Only this store's events.
    #[arg(long, value_name = "acct_...")]
    pub account: Option<String>,
    /// Only events of this type, such as `charge.succeeded`.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Base URL of the server [default: the local server at BIND_ADDR].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Admin token [default: the configured ADMIN_TOKEN].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "REPLAY_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn trigger_offers_the_buildable_types_only_and_loadgen_is_not_a_subcommand() {
        let cli = Cli::try_parse_from(["payments", "trigger", "charge.succeeded"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Trigger(_))));
        // Known to the metrics, but there is no sample of it to send.
        assert!(Cli::try_parse_from(["payments", "trigger", "charge.captured"]).is_err());
        assert!(Cli::try_parse_from(["payments", "loadgen"]).is_err());
    }

    fn trigger(args: &[&str]) -> Result<TriggerArgs, clap::Error> {
        let argv = ["payments", "trigger", "account.updated"]
            .iter()
            .chain(args);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Trigger(args)) => Ok(args),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trigger_speaks_for_the_demo_seller_unless_told_otherwise() {
        assert_eq!(trigger(&[]).unwrap().account(), Some(DEMO_ACCOUNT));
        let named = trigger(&["--account", "acct_other"]).unwrap();
        assert_eq!(named.account(), Some("acct_other"));
        assert_eq!(trigger(&["--platform"]).unwrap().account(), None);
        assert!(trigger(&["--platform", "--account", "acct_other"]).is_err());
    }

    fn demo(args: &[&str]) -> Result<DemoArgs, clap::Error> {
        let argv = ["payments", "demo"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Demo(args)) => Ok(args),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn demo_tells_the_demo_sellers_story_unless_given_an_account() {
        assert_eq!(demo(&[]).unwrap().account(), DEMO_ACCOUNT);
        let named = demo(&["--account", "acct_1Other", "--url", "http://h:1"]).unwrap();
        assert_eq!(named.account(), "acct_1Other");
        assert_eq!(named.target.url.as_deref(), Some("http://h:1"));
        for bad in ["cus_1", "acct_", "acct_a/b", "acct_a b"] {
            assert!(demo(&["--account", bad]).is_err(), "{bad}");
        }
        assert!(demo(&["--platform"]).is_err());
    }

    #[test]
    fn products_import_takes_a_file_a_store_and_an_optional_format() {
        let parse = |args: &[&str]| {
            let argv = ["payments", "products", "import"].iter().chain(args);
            match Cli::try_parse_from(argv)?.command {
                Some(Command::Products(ProductsArgs {
                    command: ProductsCommand::Import(args),
                })) => Ok::<_, clap::Error>(args),
                other => panic!("{other:?}"),
            }
        };
        let args = parse(&["cat.csv", "--store", "acct_1Seller"]).unwrap();
        assert_eq!(args.file, std::path::PathBuf::from("cat.csv"));
        assert_eq!((args.store.as_str(), args.format), ("acct_1Seller", None));
        let json = parse(&["cat.txt", "--store", "acct_1", "--format", "json"]).unwrap();
        assert_eq!(json.format, Some(crate::catalog_import::Format::Json));
        assert!(parse(&["cat.csv"]).is_err(), "the store is required");
        assert!(parse(&["cat.csv", "--store", "cus_1"]).is_err());
        assert!(parse(&["cat.csv", "--store", "acct_1", "--format", "xml"]).is_err());
    }
}
