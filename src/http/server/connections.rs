//! The open connections, oldest first: which may be closed to make room at the connection
//! bound (a silent one first, then one idle between requests), and all of them at
//! shutdown. A connection is told to close through its [`Connection::close`]; it closes at
//! once when it is silent or idle, after the answer it is writing otherwise.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;

/// One open connection.
#[derive(Default)]
pub struct Connection {
    /// Told to close (room is needed, or the server shuts down).
    pub close: Notify,
    /// Has sent its first byte.
    spoke: AtomicBool,
    /// A request is being answered.
    busy: AtomicBool,
}

impl Connection {
    pub fn spoke(&self) {
        self.spoke.store(true, Ordering::Relaxed);
    }

    pub fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::Relaxed);
    }

    fn silent(&self) -> bool {
        !self.spoke.load(Ordering::Relaxed)
    }

    fn idle(&self) -> bool {
        !self.busy.load(Ordering::Relaxed)
    }
}

/// The registry. Entries of closed connections are swept out as the queue grows.
#[derive(Default)]
pub struct Connections(Mutex<VecDeque<Weak<Connection>>>);

impl Connections {
    /// Registers a new connection; it counts as open while the returned handle lives.
    pub fn open(&self, limit: usize) -> Arc<Connection> {
        let connection = Arc::new(Connection::default());
        let mut queue = self.queue();
        if queue.len() >= 2 * limit.max(64) {
            queue.retain(|entry| entry.strong_count() > 0);
        }
        queue.push_back(Arc::downgrade(&connection));
        connection
    }

    /// Tells the oldest silent connection, else the oldest idle one, to close; `false` if
    /// every connection is busy answering.
    pub fn make_room(&self) -> bool {
        let mut queue = self.queue();
        queue.retain(|entry| entry.strong_count() > 0);
        let mut pick = |wanted: &dyn Fn(&Connection) -> bool| {
            let at = queue
                .iter()
                .position(|entry| entry.upgrade().is_some_and(|c| wanted(&c)))?;
            queue.remove(at)?.upgrade()
        };
        let victim = pick(&Connection::silent).or_else(|| pick(&Connection::idle));
        victim
            .map(|connection| connection.close.notify_one())
            .is_some()
    }

    /// Tells every open connection to close.
    pub fn close_all(&self) {
        for connection in self.queue().drain(..).filter_map(|entry| entry.upgrade()) {
            connection.close.notify_one();
        }
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Weak<Connection>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn told_to_close(connection: &Connection) -> bool {
        tokio::time::timeout(Duration::from_millis(10), connection.close.notified())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn room_is_made_from_silent_then_idle_connections_never_busy_ones() {
        let connections = Connections::default();
        let busy = connections.open(8);
        busy.spoke();
        busy.set_busy(true);
        let idle = connections.open(8);
        idle.spoke();
        let silent = connections.open(8);
        assert!(connections.make_room());
        assert!(told_to_close(&silent).await, "the silent one goes first");
        assert!(!told_to_close(&idle).await);
        assert!(connections.make_room());
        assert!(told_to_close(&idle).await, "then the idle one");
        assert!(
            !connections.make_room(),
            "a busy connection is never closed for room"
        );
        assert!(!told_to_close(&busy).await);
        connections.close_all();
        assert!(told_to_close(&busy).await, "at shutdown, every one");
    }
}
