//! The inbox table `stripe_webhook_events`: storing deliveries, the queue the actors work
//! from, the attempt bookkeeping, putting events back in it (replay) and retention.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::webhook_event::{self, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait, Query, UpdateStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TryInsertResult,
};

use entity::status::EventStatus;

use crate::stripe::envelope::Envelope;

/// Outcome of storing a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The event id was already stored with the same body; nothing changed.
    Duplicate,
    /// The event id was already stored with a different body: the first body is kept and
    /// the row counts the conflict (`body_conflicts`).
    Conflict,
}

/// A new, waiting inbox row for a verified delivery: the raw payload and the envelope fields.
pub fn new_row(envelope: &Envelope, payload: String) -> webhook_event::Model {
    webhook_event::Model {
        id: envelope.id.clone(),
        event_type: envelope.event_type.clone(),
        account: envelope.account.clone(),
        store_key: envelope.store_key.clone(),
        livemode: envelope.livemode,
        api_version: envelope.api_version.clone(),
        object_id: envelope.object_id.clone(),
        payload,
        status: EventStatus::Received,
        attempts: 0,
        last_error: None,
        created: envelope.created,
        created_at: Utc::now(),
        processed_at: None,
        body_conflicts: 0,
    }
}

/// Stores a verified delivery. Committed when this returns `Ok`; a duplicate event id
/// leaves the existing row untouched.
pub async fn store(
    db: &impl ConnectionTrait,
    envelope: &Envelope,
    payload: String,
) -> Result<Stored, DbErr> {
    let stored = store_batch(db, &[new_row(envelope, payload)]).await?;
    Ok(stored[0])
}

/// Stores many deliveries in one statement (one commit for all: group commit). Answers, in
/// order, whether each row is new; of two rows with the same id, only the first is.
pub async fn store_batch(
    db: &impl ConnectionTrait,
    rows: &[webhook_event::Model],
) -> Result<Vec<Stored>, DbErr> {
    let mut stored = store_absent(db, rows).await?;
    mark_conflicts(db, rows, &mut stored).await?;
    Ok(stored)
}

/// Stores the rows whose id is not stored yet, in one statement; a stored id is a
/// duplicate whatever its body. For the synthetic events of a sync's object listing
/// (`sync_<object>_<version>`), whose id names the object's version but not every field:
/// a later listing of the same version is not a conflicting body.
pub async fn store_absent(
    db: &impl ConnectionTrait,
    rows: &[webhook_event::Model],
) -> Result<Vec<Stored>, DbErr> {
    let inserted: HashSet<String> = match Entity::insert_many(
        rows.iter()
            .map(|row| webhook_event::ActiveModel::from(row.clone())),
    )
    .on_conflict_do_nothing()
    .exec_with_returning_keys(db)
    .await?
    {
        TryInsertResult::Inserted(ids) => ids.into_iter().collect(),
        TryInsertResult::Conflicted | TryInsertResult::Empty => HashSet::new(),
    };
    let mut answered = HashSet::with_capacity(inserted.len());
    Ok(rows
        .iter()
        .map(|row| {
            if inserted.contains(&row.id) && answered.insert(row.id.as_str()) {
                Stored::New
            } else {
                Stored::Duplicate
            }
        })
        .collect())
}

/// Turns the duplicates whose body differs from the one kept into conflicts, and counts
/// them on the kept rows. Only duplicates are read back, by primary key.
async fn mark_conflicts(
    db: &impl ConnectionTrait,
    rows: &[webhook_event::Model],
    stored: &mut [Stored],
) -> Result<(), DbErr> {
    let duplicates: Vec<&str> = rows
        .iter()
        .zip(stored.iter())
        .filter(|(_, stored)| **stored == Stored::Duplicate)
        .map(|(row, _)| row.id.as_str())
        .collect();
    if duplicates.is_empty() {
        return Ok(());
    }
    // The body kept for each id: the stored row's (which is the first of this batch when
    // the batch inserted it).
    let kept: HashMap<String, String> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Payload])
        .filter(Column::Id.is_in(duplicates))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut conflicts: HashMap<&str, i32> = HashMap::new();
    for (row, stored) in rows.iter().zip(stored.iter_mut()) {
        let differs = kept.get(&row.id).is_some_and(|body| *body != row.payload);
        if *stored == Stored::Duplicate && differs {
            *stored = Stored::Conflict;
            *conflicts.entry(row.id.as_str()).or_default() += 1;
        }
    }
    for (id, count) in conflicts {
        Entity::update_many()
            .col_expr(
                Column::BodyConflicts,
                Expr::col(Column::BodyConflicts).add(count),
            )
            .filter(Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// `last_error` while an attempt is running: it stays if the attempt never finishes
/// (the actor panicked or the process died), so operators see why the attempt counted.
pub const INTERRUPTED: &str = "interrupted: the apply did not finish (actor crash or process stop)";

/// Up to `limit` of a store's events not yet applied, oldest first.
pub async fn pending_for_store(
    db: &impl ConnectionTrait,
    store_key: &str,
    limit: u64,
) -> Result<Vec<webhook_event::Model>, DbErr> {
    Entity::find()
        .filter(Column::StoreKey.eq(store_key))
        .filter(waiting())
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Store keys that have events not yet applied (crash recovery at start-up).
pub async fn stores_with_pending(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::StoreKey)
        .filter(waiting())
        .distinct()
        .into_tuple()
        .all(db)
        .await
}

/// Counts an attempt before it starts, so a crash mid-apply still counts. `false` when
/// the event is no longer waiting (another actor or replica applied it).
pub async fn begin_attempt(db: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::LastError, Expr::value(INTERRUPTED))
        .filter(Column::Id.eq(id))
        .filter(still_received())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// `status = 'received'` for rows found by their id, written so that SQLite looks them up
/// by id: without statistics its planner takes a plain equality on `status` for selective
/// and walks the status index instead, through every waiting event (a 5-row claim took
/// 30 ms with 30,000 events waiting, and a spike's apply rate fell to a third).
fn still_received() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("(\"status\" = 'received') IS TRUE")
}

/// `status = 'received'` for the queue's reads by store or by age, written out rather than
/// bound: the waiting events have a partial index of their own (`WHERE status =
/// 'received'`), which PostgreSQL cannot use for a prepared statement's generic plan with
/// the status as a parameter.
pub fn waiting() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("\"status\" = 'received'")
}

/// Claims waiting events of the stores `stores` for an apply, in the caller's transaction:
/// they become `processed` (the caller rewrites a different outcome with [`set_status`]),
/// with one more attempt when `count_attempt` (it counts only if the transaction commits).
/// Returns the ids claimed; the others are no longer waiting and must not be applied again.
///
/// The same statement takes each store's lock ([`super::db::lock_store`]) before it claims
/// a row: one round trip for both. The locks are an `InitPlan`, evaluated once, when the
/// first row passes the other conditions and before any row is locked, so the claim never
/// holds a row while it waits for a lock; a row another transaction claimed meanwhile
/// fails the status test when PostgreSQL checks it again after that transaction ends. A
/// claim that finds nothing to claim may not take the locks, and then nothing is applied.
/// Several stores' locks are taken in the order of their lock keys, so two group applies
/// cannot each hold a lock the other waits for.
pub async fn claim(
    db: &impl ConnectionTrait,
    stores: &[&str],
    ids: &[&str],
    count_attempt: bool,
) -> Result<HashSet<String>, DbErr> {
    let statement = claim_statement(db.get_database_backend(), stores, ids, count_attempt);
    let rows = db.query_all(&statement).await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "id"))
        .collect()
}

/// The statement of [`claim`] (public for the apply path's micro-benchmarks).
pub fn claim_statement(
    backend: DbBackend,
    stores: &[&str],
    ids: &[&str],
    count_attempt: bool,
) -> UpdateStatement {
    let increment = i32::from(count_attempt);
    let mut statement = Query::update()
        .table(Entity)
        .value(Column::Status, EventStatus::Processed.as_str())
        .value(Column::ProcessedAt, Utc::now())
        .value(Column::LastError, Option::<String>::None)
        .value(Column::Attempts, Expr::col(Column::Attempts).add(increment))
        .and_where(Column::Id.is_in(ids.iter().copied()))
        .and_where(still_received())
        .returning_col(Column::Id)
        .to_owned();
    if backend == DbBackend::Postgres {
        statement.and_where(store_locks(stores));
    }
    statement
}

/// The condition that takes the stores' advisory locks (PostgreSQL), true once taken.
fn store_locks(stores: &[&str]) -> sea_orm::sea_query::SimpleExpr {
    if let [store] = stores {
        return Expr::cust_with_values(
            "(SELECT 1 FROM pg_advisory_xact_lock(hashtextextended($1, 0))) = 1",
            [*store],
        );
    }
    // PostgreSQL calls a volatile function of the select list after the sort below it.
    // No square brackets (`ARRAY[...]`): sea-query reads them as a quoted name and binds
    // nothing inside, so the placeholders would name the statement's first values.
    let keys = (1..=stores.len())
        .map(|n| format!("(${n})"))
        .collect::<Vec<_>>()
        .join(", ");
    Expr::cust_with_values(
        format!(
            "(SELECT count(*) FROM (SELECT pg_advisory_xact_lock(lock_key) FROM \
             (SELECT DISTINCT hashtextextended(store_key, 0) AS lock_key \
             FROM (VALUES {keys}) AS stores (store_key)) AS lock_keys \
             ORDER BY lock_key) AS locks) > 0"
        ),
        stores.iter().copied(),
    )
}

/// Sets the final status of claimed events, in the caller's transaction.
pub async fn set_status(
    db: &impl ConnectionTrait,
    ids: &[&str],
    status: EventStatus,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await
        .map(drop)
}

/// Records, in the caller's transaction, why an applied event came to nothing (its final
/// status is set apart), so the event log shows it.
pub async fn record_reason(db: &impl ConnectionTrait, id: &str, reason: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastError, Expr::value(reason))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

/// Records why an attempt failed; the event stays waiting for the next attempt.
pub async fn record_error(db: &impl ConnectionTrait, id: &str, error: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastError, Expr::value(error))
        .filter(Column::Id.eq(id))
        .filter(still_received())
        .exec(db)
        .await
        .map(drop)
}

/// Gives an attempt back after a database failure (not the event's fault), recording why.
pub async fn release_attempt(
    db: &impl ConnectionTrait,
    id: &str,
    error: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
        .col_expr(Column::LastError, Expr::value(error))
        .filter(Column::Id.eq(id))
        .filter(still_received())
        .filter(Column::Attempts.gt(0))
        .exec(db)
        .await
        .map(drop)
}

/// Store keys with events still `received` that were stored before `before`: events
/// whose dispatch was lost, or that another replica left behind.
pub async fn stores_with_pending_before(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::StoreKey)
        .filter(waiting())
        .filter(Column::CreatedAt.lt(before))
        .distinct()
        .into_tuple()
        .all(db)
        .await
}

/// Dead-letters an event that used up its attempts; its `last_error` is kept.
pub async fn mark_failed(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(EventStatus::Failed.as_str()))
        .col_expr(Column::ProcessedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(still_received())
        .exec(db)
        .await
        .map(drop)
}

/// Replaces the interruption marker of a store's first waiting event by the cause the
/// supervisor saw (a panic message), so the event log says why the attempt was lost.
pub async fn explain_interruption(
    db: &impl ConnectionTrait,
    store_key: &str,
    cause: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastError, Expr::value(cause))
        .filter(Column::StoreKey.eq(store_key))
        .filter(waiting())
        .filter(Column::LastError.eq(INTERRUPTED))
        .exec(db)
        .await
        .map(drop)
}

/// One stored event, by id.
pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<webhook_event::Model>, DbErr> {
    Entity::find_by_id(id.to_owned()).one(db).await
}

/// How many events wait to be applied, and when the oldest of them was received.
pub async fn pending_summary(
    db: &impl ConnectionTrait,
) -> Result<(u64, Option<chrono::DateTime<Utc>>), DbErr> {
    use sea_orm::PaginatorTrait;
    let waiting = Entity::find().filter(waiting());
    let count = waiting.clone().count(db).await?;
    let oldest = waiting
        .select_only()
        .column(Column::CreatedAt)
        .order_by_asc(Column::CreatedAt)
        .limit(1)
        .into_tuple::<chrono::DateTime<Utc>>()
        .one(db)
        .await?;
    Ok((count, oldest))
}

/// Puts the events matching `condition` back in the queue, whatever their status: status
/// `received`, no attempts, no error, not processed. The caller then dispatches them to
/// their stores' actors. Re-applying a processed event changes nothing (the version
/// guards and monotonic merges see to that); it ends `processed` or `skipped` again.
pub async fn requeue(db: &impl ConnectionTrait, condition: Condition) -> Result<u64, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(EventStatus::Received.as_str()))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(
            Column::ProcessedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(condition)
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes up to `limit` applied events received and applied before `before`; failed
/// and waiting events are never deleted. Returns how many were. Small batches keep each
/// delete short, so intake and actors never wait long behind it.
pub async fn prune_applied(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    let oldest = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::Status.is_in(EventStatus::APPLIED.iter().map(|status| status.as_str())))
        .and_where(Column::CreatedAt.lt(before))
        .and_where(Column::ProcessedAt.lt(before))
        .limit(limit)
        .to_owned();
    let result = Entity::delete_many()
        .filter(Column::Id.in_subquery(oldest))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, Value};

    use super::*;

    /// The rendered PostgreSQL claim and the strings bound to it.
    fn rendered(stores: &[&str]) -> (String, Vec<String>) {
        let (sql, values) = claim_statement(DbBackend::Postgres, stores, &["evt_1"], true)
            .build(PostgresQueryBuilder);
        let strings = values
            .iter()
            .filter_map(|value| match value {
                Value::String(Some(text)) => Some(text.to_string()),
                _ => None,
            })
            .collect();
        (sql, strings)
    }

    #[test]
    fn the_claim_binds_the_key_of_every_store_it_locks() {
        for stores in [&["acct_a"][..], &["acct_a", "acct_b", "acct_c"]] {
            let (sql, bound) = rendered(stores);
            for store in stores {
                assert!(bound.iter().any(|value| value == store), "{store}: {sql}");
            }
            // One placeholder per bound value, no more: besides the strings, the time, the
            // empty error and the attempt's increment.
            let placeholders = sql.matches('$').count();
            assert_eq!(placeholders, bound.len() + 3, "{sql}");
        }
    }
}
