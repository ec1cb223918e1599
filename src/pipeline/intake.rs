//! The webhook intake: deliveries that arrive together are stored by one multi-row insert
//! in one transaction ([`GroupCommit`]), so a burst costs one commit (one WAL flush), not
//! one per event. Every caller gets its answer after the commit, so no 2xx is ever sent
//! for an event that is not durable.

use std::sync::Arc;

use entity::webhook_event::Model;
use sea_orm::{DatabaseConnection, DbErr};

use super::admission::WriteLock;
use super::group_commit::GroupCommit;
use crate::metrics;
use crate::store::inbox::{self, Stored};

/// Most deliveries in one insert (bound parameters stay far below every driver's limit).
const MAX_BATCH: usize = 200;

/// Why a delivery was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IntakeError {
    #[error("{0}")]
    Db(Arc<DbErr>),
    #[error("the intake writer stopped")]
    Stopped,
}

/// The handle request handlers store deliveries through.
#[derive(Clone)]
pub struct Intake {
    commit: GroupCommit<Model, Result<Stored, IntakeError>>,
}

impl Intake {
    /// Starts the collector with at most `writers` batches in flight at once, each
    /// writing under `lock`.
    pub fn start(db: DatabaseConnection, writers: usize, lock: WriteLock) -> Self {
        let commit = GroupCommit::start(writers, MAX_BATCH, move |rows| {
            let (db, lock) = (db.clone(), lock.clone());
            async move {
                let _held = lock.hold().await;
                write(&db, rows).await
            }
        });
        Self { commit }
    }

    /// Stores `row`; resolves once its batch is committed (or failed).
    pub async fn store(&self, row: Model) -> Result<Stored, IntakeError> {
        self.commit
            .submit(row)
            .await
            .unwrap_or(Err(IntakeError::Stopped))
    }
}

/// Stores a batch of deliveries in one statement, and answers each.
async fn write(db: &DatabaseConnection, rows: Vec<Model>) -> Vec<Result<Stored, IntakeError>> {
    metrics::intake_batch(rows.len());
    match inbox::store_batch(db, &rows).await {
        Ok(stored) => stored.into_iter().map(Ok).collect(),
        Err(err) => {
            let err = IntakeError::Db(Arc::new(err));
            vec![Err(err); rows.len()]
        }
    }
}
