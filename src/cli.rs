//! The command line: `payments [serve] | migrate | trigger <event-type>`.

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
}

/// Arguments of `payments trigger`.
#[derive(Debug, clap::Args)]
pub struct TriggerArgs {
    /// Event type, such as `charge.succeeded` (`payments trigger --help` lists them all).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::stripe::samples::EVENT_TYPES))]
    pub event_type: String,
    /// Connected account the event is about (omit for a platform event).
    #[arg(long, value_name = "acct_...")]
    pub account: Option<String>,
    /// Webhook URL [default: the local server at BIND_ADDR, /webhooks/stripe].
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
