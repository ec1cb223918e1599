//! Recovery: events left `received` are dispatched again, at start-up (a previous run
//! crashed or stopped) and periodically (a lost notification, another replica's leftovers).
//! Events an actor is already working on are claimed once, so a second dispatch is harmless.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};
use tracing::{info, warn};

use super::Dispatcher;
use crate::store::inbox;

/// Dispatches again every store with events a previous run left `received`.
pub async fn resume_all(db: &DatabaseConnection, dispatcher: &Dispatcher) -> Result<(), DbErr> {
    let pending = inbox::stores_with_pending(db).await?;
    if !pending.is_empty() {
        info!(stores = pending.len(), "resuming events left unapplied");
    }
    for store_key in &pending {
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
    }
}
