//! Payment snapshots and the orders derived from them, inside the caller's transaction.
//!
//! Each snapshot replaces the stored one of its object when it is not older (see
//! [`SnapshotVersion`]); then every order it can change is derived again from all the
//! snapshots of its payment ([`derive`]) and saved.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::order;
use entity::order_observation::{self as observation, Column};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Iterable,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::rows;
use crate::domain::orders::derive::{Payment, derive};
use crate::domain::orders::observe::{Snapshot, SnapshotVersion, SourceKind};
use crate::domain::orders::{self, Order};
use crate::domain::{EventRef, Outcome};
use crate::stripe::object::without_nul;

/// The payment objects of one event's store and mode.
#[derive(Clone, Copy)]
struct Source<'a> {
    store: &'a str,
    livemode: bool,
}

impl Source<'_> {
    fn filter<S: QueryFilter>(self, select: S) -> S {
        select
            .filter(Column::SourceStore.eq(self.store))
            .filter(Column::Livemode.eq(self.livemode))
    }
}

/// Stores the snapshots `event` carries and derives the orders they belong to again.
pub async fn apply(
    db: &impl ConnectionTrait,
    event: &EventRef<'_>,
    snapshots: Vec<Snapshot>,
) -> Result<Outcome, DbErr> {
    let source = Source {
        store: event.store_key,
        livemode: event.livemode,
    };
    let now = Utc::now();
    let mut due = BTreeSet::new();
    let mut groups = BTreeSet::new();
    // Charges and Checkout Sessions whose PaymentIntent this event names: what was filed
    // under their own id before the PaymentIntent was known moves to its order.
    let mut aliases: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Orders an object left for another (a session filed under its own id, now under its
    // PaymentIntent's).
    let mut vacated = BTreeSet::new();
    let mut written = false;
    for snapshot in snapshots {
        let existing = find(db, source, snapshot.kind, &snapshot.id).await?;
        if existing
            .as_ref()
            .is_some_and(|row| version_of(row) > snapshot.version)
        {
            continue;
        }
        let order_id = match existing.as_ref().and_then(|row| row.order_id.clone()) {
            // A charge that names no PaymentIntent stays where a PaymentIntent naming it
            // as its latest charge moved it.
            Some(filed) if snapshot.payment_intent().is_none() => Some(filed),
            _ => order_key(db, source, &snapshot).await?,
        };
        if let (Some(provisional), Some(intent)) =
            (snapshot.provisional_key(), snapshot.payment_intent())
        {
            aliases.entry(intent).or_default().insert(provisional);
        }
        let filed = existing.as_ref().and_then(|row| row.order_id.clone());
        if let Some(filed) = filed
            .as_ref()
            .filter(|filed| order_id.as_ref() != Some(*filed))
        {
            vacated.insert(filed.clone());
        }
        due.extend(filed);
        due.extend(order_id.clone());
        // The group it leaves, and the one it joins.
        groups.extend(existing.as_ref().and_then(|row| row.transfer_group.clone()));
        groups.extend(snapshot.transfer_group());
        save(db, source, existing, snapshot, order_id, now).await?;
        written = true;
    }
    if !written {
        return Ok(Outcome::Skipped);
    }
    for group in groups {
        // A group's transfers go to its payment only while it has one; once it has two,
        // neither gets them, and a third changes nothing for the others.
        let orders = orders_in_group(db, source, &group, 3).await?;
        if orders.len() <= 2 {
            due.extend(orders);
        }
    }
    // A charge's own key is derived by its PaymentIntent's order, which takes its snapshots.
    let merged: BTreeSet<&String> = aliases
        .iter()
        .filter(|(intent, _)| due.contains(*intent))
        .flat_map(|(_, provisional)| provisional)
        .collect();
    for id in due.iter().filter(|id| !merged.contains(id)) {
        let provisional = aliases
            .get(id)
            .map(|keys| keys.iter().collect())
            .unwrap_or_default();
        derive_order(db, source, id, provisional, now).await?;
    }
    // A provisional order whose object moved itself: its PaymentIntent's order took every
    // snapshot filed under it, so nothing is left of it.
    for id in merged.into_iter().filter(|id| vacated.contains(*id)) {
        delete_order(db, source, id).await?;
    }
    Ok(Outcome::Processed)
}

fn version_of(row: &observation::Model) -> SnapshotVersion {
    SnapshotVersion {
        created: row.version,
        progress: row.progress,
        event_id: row.version_event.clone(),
    }
}

async fn find(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    kind: SourceKind,
    id: &str,
) -> Result<Option<observation::Model>, DbErr> {
    source
        .filter(observation::Entity::find())
        .filter(Column::Kind.eq(kind.as_str()))
        .filter(Column::SourceId.eq(id))
        .one(db)
        .await
}

/// The order a snapshot belongs to: its PaymentIntent, else the order its charge was filed
/// under, else the charge itself.
async fn order_key(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    snapshot: &Snapshot,
) -> Result<Option<String>, DbErr> {
    let Some(key) = snapshot.own_order_key() else {
        return Ok(None);
    };
    // Named by its PaymentIntent, or a charge or Checkout Session without one: the key is
    // final.
    if snapshot.payment_intent().is_some()
        || matches!(
            snapshot.kind,
            SourceKind::Charge | SourceKind::CheckoutSession
        )
    {
        return Ok(Some(key));
    }
    // Else `key` is the charge it belongs to, which may already be filed elsewhere.
    let charge = key;
    if let Some(filed) = find(db, source, SourceKind::Charge, &charge).await? {
        return Ok(Some(filed.order_id.unwrap_or(charge)));
    }
    // A PaymentIntent seen without its charge names it as its latest charge.
    let order = order::Entity::find()
        .filter(order::Column::SourceStore.eq(source.store))
        .filter(order::Column::Livemode.eq(source.livemode))
        .filter(order::Column::Charge.eq(charge.as_str()))
        .order_by_asc(order::Column::Id)
        .one(db)
        .await?;
    Ok(Some(order.map_or(charge, |order| order.id)))
}

/// Moves the snapshots filed under `provisional` (a charge or session id) to `intent`.
async fn rekey(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    provisional: &str,
    intent: &str,
) -> Result<(), DbErr> {
    source
        .filter(observation::Entity::update_many())
        .col_expr(Column::OrderId, Expr::value(intent))
        .filter(Column::OrderId.eq(provisional))
        .exec(db)
        .await?;
    Ok(())
}

async fn save(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    existing: Option<observation::Model>,
    snapshot: Snapshot,
    order_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let is_new = existing.is_none();
    let row = observation_row(
        source.store,
        source.livemode,
        existing.as_ref(),
        snapshot,
        order_id,
        now,
    );
    rows::save::<observation::ActiveModel>(db, row, is_new).await
}

/// The row that keeps `snapshot` of store `store`, filed under order `order_id`:
/// `existing`'s key and first sighting kept. Public for the apply path's benchmarks.
pub fn observation_row(
    store: &str,
    livemode: bool,
    existing: Option<&observation::Model>,
    snapshot: Snapshot,
    order_id: Option<String>,
    now: DateTime<Utc>,
) -> observation::Model {
    observation::Model {
        pk: existing.map_or(0, |row| row.pk),
        source_store: store.to_owned(),
        livemode,
        kind: snapshot.kind.as_str().to_owned(),
        transfer_group: snapshot.transfer_group(),
        source_id: snapshot.id,
        order_id,
        version: snapshot.version.created,
        progress: snapshot.version.progress,
        version_event: snapshot.version.event_id,
        event_type: snapshot.event_type,
        api_version: snapshot.api_version,
        object: without_nul(snapshot.object),
        created_at: existing.map_or(now, |row| row.created_at),
        updated_at: now,
    }
}

/// The orders whose payment objects carry `group`, at most `limit` of them.
async fn orders_in_group(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    group: &str,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let ids: Vec<Option<String>> = source
        .filter(observation::Entity::find())
        .select_only()
        .column(Column::OrderId)
        .distinct()
        .filter(Column::TransferGroup.eq(group))
        .filter(Column::OrderId.is_not_null())
        .filter(
            Column::Kind
                .is_in([SourceKind::PaymentIntent, SourceKind::Charge].map(SourceKind::as_str)),
        )
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// Derives the order `id` from its snapshots and saves it; deletes the row when no
/// snapshot is filed under `id` any more (it moved to its PaymentIntent's order).
/// `provisional` are the charges and Checkout Sessions of the payment whose snapshots may
/// still be filed under their own id: they move to `id`, in the same read when there are
/// none (the usual case).
async fn derive_order(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    id: &str,
    provisional: Vec<&String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let keys = std::iter::once(id).chain(provisional.iter().map(|key| key.as_str()));
    let rows = source
        .filter(observation::Entity::find())
        .filter(Column::OrderId.is_in(keys))
        .all(db)
        .await?;
    let moved: BTreeSet<String> = rows
        .iter()
        .filter_map(|row| row.order_id.clone())
        .filter(|key| key != id)
        .collect();
    for key in &moved {
        rekey(db, source, key, id).await?;
        delete_order(db, source, key).await?;
    }
    let snapshots: Vec<Snapshot> = rows.into_iter().filter_map(snapshot_of).collect();
    if snapshots.is_empty() {
        return delete_order(db, source, id).await;
    }
    let group_transfers = group_transfers(db, source, &snapshots).await?;
    let order = derive(&Payment {
        id,
        source_store: source.store,
        snapshots: &snapshots,
        group_transfers: &group_transfers,
    });
    save_order(db, source, order, now).await
}

/// The transfers linked to the payment only by its transfer group, when that group funds
/// this payment alone (a group shared by several payments cannot say which one a transfer
/// belongs to).
async fn group_transfers(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    snapshots: &[Snapshot],
) -> Result<Vec<Snapshot>, DbErr> {
    let groups: BTreeSet<String> = snapshots
        .iter()
        .filter(|s| s.is_payment())
        .filter_map(Snapshot::transfer_group)
        .collect();
    let mut transfers = Vec::new();
    for group in groups {
        if orders_in_group(db, source, &group, 2).await?.len() != 1 {
            continue;
        }
        let select = source
            .filter(observation::Entity::find())
            .filter(Column::TransferGroup.eq(group.as_str()))
            .filter(Column::OrderId.is_null())
            .filter(Column::Kind.eq(SourceKind::Transfer.as_str()));
        transfers.extend(self::snapshots(db, select).await?);
    }
    Ok(transfers)
}

async fn snapshots(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<observation::Entity>,
) -> Result<Vec<Snapshot>, DbErr> {
    let rows = select.all(db).await?;
    Ok(rows.into_iter().filter_map(snapshot_of).collect())
}

/// The snapshot a row holds; `None` for a kind this version does not know.
fn snapshot_of(row: observation::Model) -> Option<Snapshot> {
    Some(Snapshot {
        kind: SourceKind::parse(&row.kind)?,
        version: version_of(&row),
        id: row.source_id,
        event_type: row.event_type,
        api_version: row.api_version,
        object: row.object,
    })
}

/// Deletes the order row `id`, if any.
async fn delete_order(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    id: &str,
) -> Result<(), DbErr> {
    order::Entity::delete_many()
        .filter(order::Column::SourceStore.eq(source.store))
        .filter(order::Column::Livemode.eq(source.livemode))
        .filter(order::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Saves the derived order, in one statement: inserted, or every derived column replaced
/// (the key and `created_at` stay). A seller the service has not seen yet gets its stub
/// store, so that the order is listed under a store that exists.
async fn save_order(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    order: Order,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if order.seller != source.store {
        rows::ensure_store(db, &order.seller, source.livemode).await?;
    }
    let mut row = orders::blank(source.store, source.livemode, &order.id, now);
    order.write(&mut row);
    order_upsert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The insert of an order row that, when the order exists, replaces every derived column
/// (the key and `created_at` stay). Public for the apply path's benchmarks.
pub fn order_upsert(row: order::Model) -> sea_orm::Insert<order::ActiveModel> {
    let mut row = row.into_active_model().reset_all();
    row.not_set(order::Column::Pk);
    let key = [
        order::Column::SourceStore,
        order::Column::Livemode,
        order::Column::Id,
    ];
    let derived = order::Column::iter().filter(|column| {
        use order::Column::*;
        !matches!(column, Pk | CreatedAt | SourceStore | Livemode | Id)
    });
    order::Entity::insert(row)
        .on_conflict(OnConflict::columns(key).update_columns(derived).to_owned())
}
