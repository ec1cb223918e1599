//! One store's `/v1/events`, page by page: every event not stored yet goes in the inbox as
//! Stripe listed it (with its `account` added when the listing left it out), as the
//! webhook intake stores a verified delivery.

use std::time::Duration;

use chrono::Utc;
use entity::sync_cursor::Model as Cursor;
use entity::webhook_event;
use serde_json::value::RawValue;

use super::{Kind, Listing, MAX_SINCE, OVERLAP, State, Sync, SyncError, Tally};
use crate::store::{inbox, sync_cursors};
use crate::stripe::api::StripeError;
use crate::stripe::envelope::Envelope;

/// Lists `store`'s events: resumes its interrupted listing, else lists those created since
/// `since` ago, or (`None`) since the last finished listing's newest event less
/// [`OVERLAP`], or 30 days for a store never synced.
pub async fn list(sync: &Sync<'_>, store: &str, since: Option<Duration>) -> Listing {
    let now = Utc::now().timestamp();
    let oldest = now - MAX_SINCE.as_secs() as i64;
    let previous = sync_cursors::load(sync.db, store, Kind::Events.as_str()).await;
    let mut listing = Listing {
        store: store.to_owned(),
        kind: Kind::Events,
        state: State::Running,
        tally: Tally::default(),
        cursor: None,
        resumed: false,
        error: None,
    };
    let previous = match previous {
        Ok(previous) => previous,
        Err(err) => {
            listing.state = State::Failed;
            listing.error = Some(crate::telemetry::one_line(&SyncError::Db(err)));
            return listing;
        }
    };
    let (mut cursor, resumed) = super::begin(previous, store, Kind::Events, |through| {
        Some(match (since, through) {
            (Some(since), _) => now - since.as_secs() as i64,
            (None, Some(through)) => (through - OVERLAP).max(oldest),
            (None, None) => oldest,
        })
    });
    listing.resumed = resumed;
    listing.cursor = cursor.starting_after.clone();
    if let Err(err) = pages(sync, &mut cursor, &mut listing).await {
        super::fail(sync, &mut cursor, &mut listing, err).await;
    }
    listing
}

async fn pages(
    sync: &Sync<'_>,
    cursor: &mut Cursor,
    listing: &mut Listing,
) -> Result<(), SyncError> {
    let account = super::account_of(&listing.store).map(str::to_owned);
    let since = cursor.listing_since.unwrap_or_default();
    let params = [("created[gte]", since.to_string())];
    loop {
        if sync.observer.stopped() {
            return Err(SyncError::Stopped);
        }
        let (items, next) = super::next_page::<Box<RawValue>>(
            sync,
            "/v1/events",
            &params,
            account.as_deref(),
            cursor,
            listing,
        )
        .await?;
        let rows = rows(&items, account.as_deref(), &mut listing.tally);
        cursor.listing_newest = rows
            .iter()
            .map(|row| row.created)
            .max()
            .max(cursor.listing_newest);
        sync.store_page(&listing.store, &rows, false, &mut listing.tally)
            .await?;
        super::advance(sync, cursor, listing, next).await?;
        if listing.state == State::Finished {
            return Ok(());
        }
    }
}

/// Whether Stripe says the `starting_after` object does not exist (any more).
pub(super) fn is_gone(err: &StripeError) -> bool {
    matches!(err, StripeError::Api { status: 400 | 404, code: Some(code), .. } if code == "resource_missing")
}

/// The inbox rows of a page, counting every item as seen and the unreadable ones as
/// skipped.
fn rows(
    items: &[Box<RawValue>],
    account: Option<&str>,
    tally: &mut Tally,
) -> Vec<webhook_event::Model> {
    tally.seen += items.len() as u64;
    let mut rows = Vec::with_capacity(items.len());
    for raw in items {
        let payload = with_account(raw.get(), account);
        match Envelope::parse(payload.as_bytes()) {
            Ok(envelope) => rows.push(inbox::new_row(&envelope, payload)),
            Err(_) => tally.skipped += 1,
        }
    }
    rows
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
    fn a_connected_accounts_event_keeps_its_bytes_unless_it_lacks_the_account() {
        let with = r#"{"id":"evt_1","account":"acct_1"}"#;
        assert_eq!(with_account(with, Some("acct_1")), with);
        assert_eq!(with_account(r#"{"id":"evt_1"}"#, None), r#"{"id":"evt_1"}"#);
        let added: serde_json::Value =
            serde_json::from_str(&with_account(r#"{"id":"evt_1"}"#, Some("acct_2"))).unwrap();
        assert_eq!(added["account"], "acct_2");
    }

    #[test]
    fn only_a_missing_resource_restarts_a_resumed_listing() {
        let api = |status, code: Option<&str>| StripeError::Api {
            status,
            kind: "invalid_request_error".into(),
            code: code.map(Into::into),
            message: String::new(),
        };
        assert!(is_gone(&api(400, Some("resource_missing"))));
        assert!(!is_gone(&api(400, Some("parameter_invalid_integer"))));
        assert!(!is_gone(&api(500, None)));
    }
}
