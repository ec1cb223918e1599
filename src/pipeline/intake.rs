//! Group commit for the webhook intake: deliveries that arrive together are stored by one
//! multi-row insert in one transaction, so a burst costs one commit (one WAL flush), not
//! one per event.
//!
//! Nothing waits for a batch to fill: a delivery that finds a writer free is written at
//! once, alone. Only when every writer is busy do deliveries queue, and the next free
//! writer takes all of them. Every caller gets its answer after the commit, so no 2xx is
//! ever sent for an event that is not durable.

use std::sync::Arc;

use entity::webhook_event::Model;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::admission::WriteLock;
use crate::metrics;
use crate::store::inbox::{self, Stored};

/// Most deliveries in one insert (bound parameters stay far below every driver's limit).
const MAX_BATCH: usize = 200;
/// Deliveries that may wait for a writer before callers wait to enqueue (backpressure).
const QUEUE_DEPTH: usize = 4096;

/// Why a delivery was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IntakeError {
    #[error("{0}")]
    Db(Arc<DbErr>),
    #[error("the intake writer stopped")]
    Stopped,
}

struct Delivery {
    row: Model,
    reply: oneshot::Sender<Result<Stored, IntakeError>>,
}

/// The handle request handlers store deliveries through.
#[derive(Clone)]
pub struct Intake {
    sender: mpsc::Sender<Delivery>,
}

impl Intake {
    /// Starts the collector with at most `writers` batches in flight at once, each
    /// writing under `lock`.
    pub fn start(db: DatabaseConnection, writers: usize, lock: WriteLock) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(collect(
            db,
            receiver,
            Arc::new(Semaphore::new(writers.max(1))),
            lock,
        ));
        Self { sender }
    }

    /// Stores `row`; resolves once its batch is committed (or failed).
    pub async fn store(&self, row: Model) -> Result<Stored, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Delivery { row, reply })
            .await
            .map_err(|_| IntakeError::Stopped)?;
        answer.await.unwrap_or(Err(IntakeError::Stopped))
    }
}

/// Takes a free writer, then every delivery already waiting (up to [`MAX_BATCH`]), and
/// writes them as one batch. Ends when every [`Intake`] handle is dropped.
async fn collect(
    db: DatabaseConnection,
    mut receiver: mpsc::Receiver<Delivery>,
    writers: Arc<Semaphore>,
    lock: WriteLock,
) {
    loop {
        let Ok(writer) = writers.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = receiver.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(delivery) => batch.push(delivery),
                Err(_) => break,
            }
        }
        let (db, lock) = (db.clone(), lock.clone());
        tokio::spawn(async move {
            let held = lock.hold().await;
            write(&db, batch).await;
            drop((held, writer));
        });
    }
}

async fn write(db: &DatabaseConnection, batch: Vec<Delivery>) {
    metrics::intake_batch(batch.len());
    let (rows, replies): (Vec<Model>, Vec<_>) = batch
        .into_iter()
        .map(|delivery| (delivery.row, delivery.reply))
        .unzip();
    match inbox::store_batch(db, &rows).await {
        Ok(stored) => {
            for (reply, stored) in replies.into_iter().zip(stored) {
                let _ = reply.send(Ok(stored));
            }
        }
        Err(err) => {
            let err = IntakeError::Db(Arc::new(err));
            for reply in replies {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}
