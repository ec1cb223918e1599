//! `objects`: the accounts, customers, products, prices and PaymentIntents themselves, to
//! rebuild rows older than Stripe's 30 days of events.
//!
//! Each listed object becomes a synthetic event stored in the inbox, so it takes the webhook
//! path: deduplicated on its id, applied by its store's actor in turn with the store's
//! other events, under the version guard. The event is written so that an object snapshot
//! can never overwrite a newer state:
//!
//! - its id is `sync_<object id>_<version>`, deterministic: listing the same version again
//!   stores nothing (a duplicate, never a conflicting body);
//! - its `created` is the object's `updated` when it has one (products), else the object's
//!   own `created`. Both version rules order by that time first (`domain::version` for
//!   stores, customers, products and prices; `domain::orders::observe` for payments), and
//!   every real event about the object was created at or after it, so any webhook of a
//!   later second wins over the snapshot, in whatever order the two arrive. Within the same
//!   second the snapshot, read after every change of that second, is the newest state:
//!   it ranks as an update (`*.updated`, or the PaymentIntent event its status names) and
//!   wins the event-id tie-break (`sync_` sorts after `evt_`), which is right since it
//!   shows that second's last state;
//! - the cost: an object without `updated` (a customer, a price, an account, a
//!   PaymentIntent) whose row holds a later event's state is not refreshed from the
//!   snapshot. Those later changes are within Stripe's 30 days of events, which the events
//!   listing brings.

use chrono::Utc;
use entity::sync_cursor::Model as Cursor;
use entity::webhook_event;
use serde_json::{Value, json};

use super::{Kind, Listing, State, Sync, SyncError, Tally};
use crate::store::{inbox, sync_cursors};
use crate::stripe::api::API_VERSION;
use crate::stripe::envelope::{Envelope, PLATFORM_STORE};

/// Lists the platform's connected accounts (with `only`, reads that one account), each
/// stored as an `account.updated` of its own store. Returns the listing and the accounts
/// found, whose objects are listed next. Not resumable: one request per 100 accounts, and
/// the account ids are what the rest of the sync needs.
pub async fn accounts(sync: &Sync<'_>, only: Option<&str>) -> (Listing, Vec<String>) {
    let mut listing = Listing {
        store: PLATFORM_STORE.to_owned(),
        kind: Kind::Accounts,
        state: State::Running,
        tally: Tally::default(),
        cursor: None,
        resumed: false,
        error: None,
    };
    let mut found = Vec::new();
    let result = match only {
        Some(account) => one_account(sync, account, &mut listing, &mut found).await,
        None => all_accounts(sync, &mut listing, &mut found).await,
    };
    listing.state = match result {
        Ok(()) => State::Finished,
        Err(err) => {
            listing.error = Some(crate::telemetry::one_line(&err));
            State::Failed
        }
    };
    sync.observer.progress(&listing);
    (listing, found)
}

async fn all_accounts(
    sync: &Sync<'_>,
    listing: &mut Listing,
    found: &mut Vec<String>,
) -> Result<(), SyncError> {
    let mut after: Option<String> = None;
    loop {
        let (items, next) = sync
            .client
            .list_page::<Value>("/v1/accounts", &[], None, after.as_deref())
            .await?;
        store_accounts(sync, &items, listing, found).await?;
        sync.observer.progress(listing);
        match next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

async fn one_account(
    sync: &Sync<'_>,
    account: &str,
    listing: &mut Listing,
    found: &mut Vec<String>,
) -> Result<(), SyncError> {
    let object: Value = sync
        .client
        .get(
            "/v1/account",
            &Vec::<(String, String)>::new(),
            Some(account),
        )
        .await?;
    store_accounts(sync, &[object], listing, found).await
}

/// Stores each account as an event of its own store, grouped by store.
async fn store_accounts(
    sync: &Sync<'_>,
    items: &[Value],
    listing: &mut Listing,
    found: &mut Vec<String>,
) -> Result<(), SyncError> {
    listing.tally.seen += items.len() as u64;
    for object in items {
        let Some(id) = object["id"].as_str().filter(|id| id.starts_with("acct_")) else {
            listing.tally.skipped += 1;
            continue;
        };
        found.push(id.to_owned());
        let rows: Vec<_> = snapshot_row(Kind::Accounts, object, Some(id))
            .into_iter()
            .collect();
        listing.tally.skipped += 1 - rows.len() as u64;
        sync.store_page(id, &rows, true, &mut listing.tally).await?;
    }
    Ok(())
}

/// Lists one kind of `store`'s objects, resuming an interrupted listing.
pub async fn list(sync: &Sync<'_>, store: &str, kind: Kind) -> Listing {
    let mut listing = Listing {
        store: store.to_owned(),
        kind,
        state: State::Running,
        tally: Tally::default(),
        cursor: None,
        resumed: false,
        error: None,
    };
    let previous = match sync_cursors::load(sync.db, store, kind.as_str()).await {
        Ok(previous) => previous,
        Err(err) => {
            listing.state = State::Failed;
            listing.error = Some(crate::telemetry::one_line(&SyncError::Db(err)));
            return listing;
        }
    };
    let (mut cursor, resumed) = super::begin(previous, store, kind, |_| None);
    cursor.listing_newest = Some(Utc::now().timestamp());
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
    loop {
        if sync.observer.stopped() {
            return Err(SyncError::Stopped);
        }
        let path = listing.kind.path();
        let (items, next) =
            super::next_page::<Value>(sync, &path, &[], account.as_deref(), cursor, listing)
                .await?;
        listing.tally.seen += items.len() as u64;
        let rows: Vec<_> = items
            .iter()
            .filter_map(|object| snapshot_row(listing.kind, object, account.as_deref()))
            .collect();
        listing.tally.skipped += (items.len() - rows.len()) as u64;
        sync.store_page(&listing.store, &rows, true, &mut listing.tally)
            .await?;
        super::advance(sync, cursor, listing, next).await?;
        if listing.state == State::Finished {
            return Ok(());
        }
    }
}

/// The inbox row of an object's synthetic event, or `None` for an object without an id
/// or a time.
fn snapshot_row(kind: Kind, object: &Value, account: Option<&str>) -> Option<webhook_event::Model> {
    let event = snapshot_event(kind, object, account)?;
    let payload = event.to_string();
    let envelope = Envelope::parse(payload.as_bytes()).ok()?;
    Some(inbox::new_row(&envelope, payload))
}

/// The synthetic event carrying `object` (see the module's documentation).
pub fn snapshot_event(kind: Kind, object: &Value, account: Option<&str>) -> Option<Value> {
    let id = object["id"].as_str().filter(|id| !id.is_empty())?;
    let version = object["updated"]
        .as_i64()
        .or_else(|| object["created"].as_i64())?;
    let mut event = json!({
        "id": format!("sync_{id}_{version}"),
        "object": "event",
        "api_version": API_VERSION,
        "created": version,
        "data": {"object": object},
        "livemode": object["livemode"].as_bool().unwrap_or(false),
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type(kind, object),
    });
    if let Some(account) = account {
        event["account"] = json!(account);
    }
    Some(event)
}

/// The event type a snapshot is carried by: an update of its kind, or for a PaymentIntent
/// the event its status is announced by (the order is derived from the status either way;
/// the type only names it in the event log).
fn event_type(kind: Kind, object: &Value) -> String {
    let family = match kind {
        Kind::Events => unreachable!("events are listed as events"),
        Kind::Accounts => "account",
        Kind::Customers => "customer",
        Kind::Products => "product",
        Kind::Prices => "price",
        Kind::PaymentIntents => return payment_intent_type(object).to_owned(),
    };
    format!("{family}.updated")
}

fn payment_intent_type(intent: &Value) -> &'static str {
    let failed = !intent["last_payment_error"].is_null();
    match intent["status"].as_str().unwrap_or_default() {
        "succeeded" => "payment_intent.succeeded",
        "canceled" => "payment_intent.canceled",
        "processing" => "payment_intent.processing",
        "requires_action" => "payment_intent.requires_action",
        "requires_capture" => "payment_intent.amount_capturable_updated",
        "requires_payment_method" if failed => "payment_intent.payment_failed",
        _ => "payment_intent.created",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EventRef;
    use crate::domain::version::VersionKey;

    fn key(event: &Value) -> VersionKey {
        VersionKey::from_event(&EventRef {
            id: event["id"].as_str().unwrap(),
            event_type: event["type"].as_str().unwrap(),
            store_key: "acct_1",
            livemode: false,
            created: event["created"].as_i64().unwrap(),
            api_version: None,
            object: &event["data"]["object"],
        })
    }

    #[test]
    fn a_snapshot_is_older_than_any_later_webhook_and_wins_its_own_second() {
        let customer = json!({"id": "cus_1", "object": "customer", "created": 1_000});
        let snapshot = snapshot_event(Kind::Customers, &customer, Some("acct_1")).unwrap();
        assert_eq!(snapshot["id"], "sync_cus_1_1000");
        assert_eq!(snapshot["type"], "customer.updated");
        assert_eq!(snapshot["account"], "acct_1");
        let webhook = |id: &str, created: i64, kind: &str| json!({"id": id, "type": kind, "created": created, "data": {"object": customer}});
        assert!(key(&snapshot) < key(&webhook("evt_2", 1_001, "customer.updated")));
        assert!(key(&snapshot) > key(&webhook("evt_1", 1_000, "customer.created")));
        assert!(key(&snapshot) > key(&webhook("evt_1", 1_000, "customer.updated")));
    }

    #[test]
    fn a_product_is_versioned_by_its_updated_time() {
        let product = json!({"id": "prod_1", "object": "product", "created": 10, "updated": 50});
        let snapshot = snapshot_event(Kind::Products, &product, None).unwrap();
        assert_eq!(
            (snapshot["id"].as_str(), snapshot["created"].as_i64()),
            (Some("sync_prod_1_50"), Some(50))
        );
        assert!(snapshot.get("account").is_none());
        assert!(snapshot_event(Kind::Products, &json!({"id": "prod_2"}), None).is_none());
    }

    #[test]
    fn a_payment_intent_is_carried_by_the_event_its_status_names() {
        let intent =
            |status: &str, error: Value| json!({"status": status, "last_payment_error": error});
        assert_eq!(
            payment_intent_type(&intent("succeeded", Value::Null)),
            "payment_intent.succeeded"
        );
        assert_eq!(
            payment_intent_type(&intent(
                "requires_payment_method",
                json!({"code": "card_declined"})
            )),
            "payment_intent.payment_failed"
        );
        assert_eq!(
            payment_intent_type(&intent("requires_payment_method", Value::Null)),
            "payment_intent.created"
        );
    }
}
