//! Recovery: events left `received` are dispatched again, at start-up (a previous run
//! crashed or stopped) and periodically (a lost notification, another replica's leftovers);
//! so are stores whose pages were left stale.
//! Events an actor is already working on are claimed once, so a second dispatch is harmless.

use std::collections::BTreeSet;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};
use tracing::{info, warn};

use super::Dispatcher;
use crate::store::{inbox, rows};

/// Dispatches again every store with events a previous run left `received`, or with
/// pages it left stale (it stopped between a change and the rebuild of its pages).
pub async fn resume_all(db: &DatabaseConnection, dispatcher: &Dispatcher) -> Result<(), DbErr> {
    let pending = inbox::stores_with_pending(db).await?;
    if !pending.is_empty() {
        info!(stores = pending.len(), "resuming events left unapplied");
    }
    let stale = rows::stores_with_stale_pages(db).await?;
    if !stale.is_empty() {
        info!(stores = stale.len(), "rebuilding pages left stale");
    }
    let stores: BTreeSet<&String> = pending.iter().chain(&stale).collect();
    for store_key in stores {
        dispatcher.resume(store_key);
    }
    Ok(())
}

/// Every `interval`, dispatches again the stores whose events have waited longer than
/// `interval`: a lost notification or another replica's leftovers never wait for a restart.
pub async fn sweep(db: DatabaseConnection, dispatcher: Dispatcher, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(before) = chrono::Duration::from_std(interval)
            .ok()
            .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
        else {
            continue;
        };
        match inbox::stores_with_pending_before(&db, before).await {
            Ok(stores) => {
                for store_key in &stores {
                    dispatcher.resume(store_key);
                }
            }
            Err(err) => warn!(error = %err, "recovery sweep could not read the inbox"),
        }
        // Stale for more than an instant: another replica's actor may have stopped before
        // rebuilding them. A store whose own actor is about to rebuild them is
        // dispatched too, which only makes that rebuild read the flag.
        match rows::stores_with_stale_pages(&db).await {
            Ok(stores) => {
                for store_key in &stores {
                    dispatcher.resume(store_key);
                }
            }
            Err(err) => warn!(error = %err, "recovery sweep could not read the stores"),
        }
    }
}
