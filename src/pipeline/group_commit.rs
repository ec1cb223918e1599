//! Group commit: work items that arrive together are written by one transaction, so a
//! burst costs one commit (one WAL flush) and a few statements, not so many per item.
//! The intake stores deliveries this way, and the actors apply their batches this way.
//!
//! Nothing waits for a group to fill: an item that finds a writer free is written at once,
//! alone. Only when every writer is busy do items queue, and the next free writer takes
//! all of them (up to a bound). Every caller gets its answer after its group's commit.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

/// Items that may wait for a writer before callers wait to enqueue (backpressure).
const QUEUE_DEPTH: usize = 4096;

struct Pending<I, A> {
    item: I,
    reply: oneshot::Sender<A>,
}

/// The handle callers submit items through; cheap to clone.
pub struct GroupCommit<I, A> {
    sender: mpsc::Sender<Pending<I, A>>,
}

impl<I, A> Clone for GroupCommit<I, A> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
        }
    }
}

impl<I, A> std::fmt::Debug for GroupCommit<I, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<I: Send + 'static, A: Send + 'static> GroupCommit<I, A> {
    /// Starts the collector: at most `writers` groups in flight at once, each of at most
    /// `max_group` items, written by `write`, which answers each item of its group in order.
    pub fn start<W, F>(writers: usize, max_group: usize, write: W) -> Self
    where
        W: Fn(Vec<I>) -> F + Send + Sync + 'static,
        F: Future<Output = Vec<A>> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let writers = Arc::new(Semaphore::new(writers.max(1)));
        tokio::spawn(collect(receiver, writers, max_group.max(1), write));
        Self { sender }
    }

    /// Submits `item`; resolves with its answer once its group is written, or `None` if
    /// the collector stopped.
    pub async fn submit(&self, item: I) -> Option<A> {
        let (reply, answer) = oneshot::channel();
        self.sender.send(Pending { item, reply }).await.ok()?;
        answer.await.ok()
    }
}

/// Takes a free writer, then every item already waiting (up to `max_group`), and writes
/// them as one group. Ends when every handle is dropped.
async fn collect<I, A, W, F>(
    mut receiver: mpsc::Receiver<Pending<I, A>>,
    writers: Arc<Semaphore>,
    max_group: usize,
    write: W,
) where
    I: Send + 'static,
    A: Send + 'static,
    W: Fn(Vec<I>) -> F + Send + Sync + 'static,
    F: Future<Output = Vec<A>> + Send + 'static,
{
    loop {
        let Ok(writer) = writers.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = receiver.recv().await else {
            return;
        };
        let mut group = vec![first];
        while group.len() < max_group {
            match receiver.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<I>, Vec<_>) = group
            .into_iter()
            .map(|pending| (pending.item, pending.reply))
            .unzip();
        let written = write(items);
        tokio::spawn(async move {
            for (reply, answer) in replies.into_iter().zip(written.await) {
                let _ = reply.send(answer);
            }
            drop(writer);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_waiting_for_a_busy_writer_are_written_together_and_answered_in_order() {
        let (release, released) = tokio::sync::watch::channel(false);
        let groups = Arc::new(std::sync::Mutex::new(Vec::new()));
        let commit = GroupCommit::start(1, 10, {
            let groups = groups.clone();
            move |items: Vec<u32>| {
                groups.lock().unwrap().push(items.clone());
                let mut released = released.clone();
                async move {
                    let _ = released.wait_for(|open| *open).await;
                    items.into_iter().map(|item| item * 2).collect::<Vec<_>>()
                }
            }
        });
        let first = tokio::spawn({
            let commit = commit.clone();
            async move { commit.submit(1).await }
        });
        while groups.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        // The only writer is busy with the first item: these three queue behind it.
        let queued: Vec<_> = (2..=4)
            .map(|item| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.submit(item).await })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        assert_eq!(first.await.unwrap(), Some(2));
        let mut answers = Vec::new();
        for task in queued {
            answers.push(task.await.unwrap());
        }
        assert_eq!(answers, [Some(4), Some(6), Some(8)]);
        assert_eq!(*groups.lock().unwrap(), [vec![1], vec![2, 3, 4]]);
    }
}
