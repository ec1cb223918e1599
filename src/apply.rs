//! Applying one stored event: count the attempt, then in ONE transaction take the store's
//! lock, claim the event, run its domain handler and record its final status.
//!
//! The claim (`status = 'received'` → final status, checked by rows affected) makes the
//! effect happen once even if two actors or two replicas try the same event. On PostgreSQL
//! a transaction-scoped advisory lock per store key serializes a store's transactions
//! across replicas. SQLite has a single writer; the claim is the transaction's first
//! statement, so the write lock is taken at once (a deferred transaction that read first
//! could fail its later write with SQLITE_BUSY instead of waiting).
//!
//! A database failure gives the attempt back: an outage must not dead-letter healthy events.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use serde_json::Value;
use std::time::Instant;

use crate::domain::{self, DomainError, EventRef, Outcome};
use crate::{inbox, metrics};

/// What one attempt at an event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Applied now, with this outcome.
    Done(Outcome),
    /// Not waiting any more: applied before, by this or another actor.
    AlreadyDone,
    /// It had used up its attempts and is now `failed`.
    DeadLettered,
}

/// Why an attempt failed; the event stays `received` for the next attempt.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("attempt {attempts} failed: {source}")]
    Domain {
        attempts: i32,
        #[source]
        source: DomainError,
    },
    #[error("database unavailable: {0}")]
    Db(#[from] DbErr),
}

/// Makes one attempt at event `id`. Events that already used `max_attempts` are
/// dead-lettered instead.
pub async fn attempt(
    db: &DatabaseConnection,
    id: &str,
    max_attempts: i32,
) -> Result<Applied, ApplyError> {
    let Some(row) = inbox::find(db, id).await? else {
        return Ok(Applied::AlreadyDone);
    };
    if row.status != inbox::RECEIVED {
        return Ok(Applied::AlreadyDone);
    }
    if row.attempts >= max_attempts {
        inbox::mark_failed(db, id).await?;
        metrics::event_dead_lettered(&row.event_type);
        return Ok(Applied::DeadLettered);
    }
    if !inbox::begin_attempt(db, id).await? {
        return Ok(Applied::AlreadyDone);
    }
    let attempts = row.attempts + 1;
    let started = Instant::now();
    match apply_in_transaction(db, &row).await {
        Ok(applied) => {
            if let Applied::Done(outcome) = applied {
                metrics::event_attempted(&row.event_type, outcome.status(), started.elapsed());
                let lag = chrono::Utc::now() - row.created_at;
                metrics::event_lag(lag.to_std().unwrap_or_default());
            }
            Ok(applied)
        }
        Err(TxError::Domain(source)) => {
            inbox::record_error(db, id, &source.to_string()).await?;
            if attempts < max_attempts {
                metrics::event_attempted(&row.event_type, "retried", started.elapsed());
            }
            Err(ApplyError::Domain { attempts, source })
        }
        Err(TxError::Db(err)) => {
            // Best effort: the database may be the thing that failed.
            let _ = inbox::release_attempt(db, id, &format!("database error: {err}")).await;
            Err(ApplyError::Db(err))
        }
    }
}

enum TxError {
    Domain(DomainError),
    Db(DbErr),
}

impl From<DbErr> for TxError {
    /// The apply transaction's own statements (claim, status) fail only when the database
    /// does; anything else is a bug that must count against the event, not spin forever.
    fn from(err: DbErr) -> Self {
        if crate::db::is_unavailable(&err) {
            Self::Db(err)
        } else {
            Self::Domain(DomainError::Db(err))
        }
    }
}

async fn apply_in_transaction(
    db: &DatabaseConnection,
    row: &entity::webhook_event::Model,
) -> Result<Applied, TxError> {
    let payload: Value = serde_json::from_str(&row.payload).map_err(|err| {
        TxError::Domain(DomainError::InvalidObject {
            object: "event",
            reason: err.to_string(),
        })
    })?;
    let null = Value::Null;
    let event = EventRef {
        id: &row.id,
        event_type: &row.event_type,
        store_key: &row.store_key,
        livemode: row.livemode,
        created: row.created,
        object: payload.pointer("/data/object").unwrap_or(&null),
    };
    let txn = db.begin().await?;
    lock_store(&txn, &row.store_key).await?;
    // Claim first: the event's final status is rewritten below if the outcome differs.
    if !inbox::finish(&txn, &row.id, Outcome::Processed.status()).await? {
        txn.rollback().await?;
        return Ok(Applied::AlreadyDone);
    }
    #[cfg(feature = "fault-injection")]
    crate::faults::check(event.object.get("id").and_then(Value::as_str));
    let outcome = match domain::apply(&txn, &event).await {
        Ok(outcome) => outcome,
        Err(err) => {
            // Roll back now rather than on drop, so the store's lock is released at once.
            let _ = txn.rollback().await;
            return Err(match err {
                DomainError::Db(err) if crate::db::is_unavailable(&err) => TxError::Db(err),
                err => TxError::Domain(err),
            });
        }
    };
    if outcome != Outcome::Processed {
        set_status(&txn, &row.id, outcome.status()).await?;
    }
    txn.commit().await?;
    Ok(Applied::Done(outcome))
}

/// Serializes a store's apply transactions across replicas (PostgreSQL only).
async fn lock_store(txn: &impl ConnectionTrait, store_key: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [store_key.into()],
    ))
    .await
    .map(drop)
}

async fn set_status(txn: &impl ConnectionTrait, id: &str, status: &str) -> Result<(), DbErr> {
    use entity::webhook_event::{Column, Entity};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .filter(Column::Id.eq(id))
        .exec(txn)
        .await
        .map(drop)
}
