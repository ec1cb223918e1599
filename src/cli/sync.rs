//! `payments sync`: backfill from Stripe's event list. Lists `/v1/events` (Stripe keeps
//! them 30 days) for the platform and each connected account the database knows (or one
//! store), and stores every event not stored yet in the inbox, as the webhook intake
//! stores a verified delivery: the JSON as Stripe sent it, deduplicated on the event id,
//! status `received`. It runs beside the service on the same database and does not apply
//! anything itself: the running service's recovery sweep dispatches waiting events every
//! `RECOVERY_INTERVAL_SECS` (and a service that starts later dispatches them at start-up),
//! so they take the same apply path as a webhook.

use std::time::Duration;

use entity::store::{Column, Entity};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::value::RawValue;

use crate::cli::SyncArgs;
use crate::config::Settings;
use crate::store::inbox::{self, Stored};
use crate::stripe::api::{Client, StripeError};
use crate::stripe::envelope::Envelope;

/// How far back Stripe keeps events.
pub const MAX_SINCE: Duration = Duration::from_secs(30 * 86_400);
/// Events stored per statement.
const CHUNK: usize = 200;

/// What one store's listing found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub seen: usize,
    pub new: usize,
    pub skipped: usize,
}

/// `30d`, `12h`, `90m` or `3600s` (a bare number is seconds), capped at 30 days.
pub fn parse_since(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => value.split_at(at),
        None => (value, "s"),
    };
    let scale = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err("expected a number and d, h, m or s, such as 30d or 12h".into()),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| "expected a number and d, h, m or s, such as 30d or 12h".to_owned())?;
    Ok(Duration::from_secs(number.saturating_mul(scale)).min(MAX_SINCE))
}

/// Runs the backfill, printing a line per store; `Ok(false)` if a store's listing failed.
pub async fn run(args: &SyncArgs) -> anyhow::Result<bool> {
    let settings = Settings::load()?;
    let client = Client::from_settings(&settings).ok_or_else(|| {
        anyhow::anyhow!("STRIPE_API_KEY is not set: sync reads the events from Stripe's API")
    })?;
    let db = crate::startup::connect_and_migrate(&settings, &Default::default()).await?;
    let since = chrono::Utc::now().timestamp() - args.since.as_secs() as i64;
    let accounts: Vec<Option<String>> = match &args.store {
        Some(store) => vec![Some(store.clone())],
        None => std::iter::once(None)
            .chain(connected_accounts(&db).await?.into_iter().map(Some))
            .collect(),
    };
    let mut ok = true;
    let mut total = Tally::default();
    for account in &accounts {
        let name = account.as_deref().unwrap_or("platform");
        match sync_account(&client, &db, account.as_deref(), since).await {
            Ok(tally) => {
                println!(
                    "{name}: seen {}, new {}, skipped {}",
                    tally.seen, tally.new, tally.skipped
                );
                total.seen += tally.seen;
                total.new += tally.new;
                total.skipped += tally.skipped;
            }
            Err(err) => {
                ok = false;
                println!("{name}: failed: {err}");
            }
        }
    }
    println!(
        "sync: {} stores, seen {}, new {}, skipped {}{}",
        accounts.len(),
        total.seen,
        total.new,
        total.skipped,
        if total.new > 0 {
            " — the running service applies the new events within RECOVERY_INTERVAL_SECS"
        } else {
            ""
        }
    );
    db.close().await?;
    Ok(ok)
}

/// The connected accounts the database has a store of.
async fn connected_accounts(db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.starts_with("acct_"))
        .distinct()
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// Why one store's backfill stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Stripe: {0}")]
    Stripe(#[from] StripeError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Lists `account`'s events created at or after `since` and stores those not stored yet.
pub async fn sync_account(
    client: &Client,
    db: &DatabaseConnection,
    account: Option<&str>,
    since: i64,
) -> Result<Tally, SyncError> {
    let listed: Vec<Box<RawValue>> = client
        .list_all(
            "/v1/events",
            &[("created[gte]", since.to_string())],
            account,
            |_| {},
        )
        .await?;
    let mut tally = Tally {
        seen: listed.len(),
        ..Default::default()
    };
    let mut rows = Vec::with_capacity(listed.len());
    // Oldest first, as Stripe would have delivered them.
    for raw in listed.iter().rev() {
        let payload = with_account(raw.get(), account);
        match Envelope::parse(payload.as_bytes()) {
            Ok(envelope) => rows.push(inbox::new_row(&envelope, payload)),
            Err(_) => tally.skipped += 1,
        }
    }
    for chunk in rows.chunks(CHUNK) {
        for stored in inbox::store_batch(db, chunk).await? {
            match stored {
                Stored::New => tally.new += 1,
                Stored::Duplicate | Stored::Conflict => tally.skipped += 1,
            }
        }
    }
    Ok(tally)
}

/// The event as listed; an event of a connected account listed without its `account`
/// gets it, so that it is filed under its store as its webhook would be.
fn with_account(raw: &str, account: Option<&str>) -> String {
    let Some(account) = account else {
        return raw.to_owned();
    };
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(mut event) if event.get("account").is_none_or(serde_json::Value::is_null) => {
            event["account"] = serde_json::Value::String(account.to_owned());
            event.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_units_and_is_capped_at_thirty_days() {
        assert_eq!(parse_since("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_since("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_since("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("30d"), Ok(MAX_SINCE));
        assert_eq!(parse_since("90d"), Ok(MAX_SINCE));
        assert!(parse_since("1w").is_err() && parse_since("d").is_err());
    }

    #[test]
    fn a_connected_accounts_event_keeps_its_bytes_unless_it_lacks_the_account() {
        let with = r#"{"id":"evt_1","account":"acct_1"}"#;
        assert_eq!(with_account(with, Some("acct_1")), with);
        assert_eq!(with_account(r#"{"id":"evt_1"}"#, None), r#"{"id":"evt_1"}"#);
        let added: serde_json::Value =
            serde_json::from_str(&with_account(r#"{"id":"evt_1"}"#, Some("acct_2"))).unwrap();
        assert_eq!(added["account"], "acct_2");
    }
}
