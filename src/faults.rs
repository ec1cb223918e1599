//! Fault injection for the integration tests (cargo feature `fault-injection`, enabled only
//! by the test build): makes applying chosen objects panic, to prove that a crashing actor
//! loses nothing and does not stop other stores, or slow, to hold a transaction (and its
//! pooled connection) open as a slow database would.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

fn poisoned() -> &'static Mutex<HashSet<String>> {
    static POISONED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    POISONED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// From now on, applying an event about `object_id` panics.
pub fn panic_on_object(object_id: &str) {
    lock().insert(object_id.to_owned());
}

/// Stops the panics for `object_id` (the "cause removed" of a replay test).
pub fn heal_object(object_id: &str) {
    lock().remove(object_id);
}

/// Panics if `object_id` was poisoned.
pub fn check(object_id: Option<&str>) {
    if let Some(id) = object_id
        && lock().contains(id)
    {
        panic!("fault injection: applying {id} panics");
    }
}

fn lock() -> std::sync::MutexGuard<'static, HashSet<String>> {
    poisoned().lock().unwrap_or_else(|err| err.into_inner())
}

fn slow() -> std::sync::MutexGuard<'static, HashMap<String, Duration>> {
    static SLOW: OnceLock<Mutex<HashMap<String, Duration>>> = OnceLock::new();
    SLOW.get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|err| err.into_inner())
}

/// From now on, applying an event about `object_id` takes `delay` longer, inside its
/// transaction.
pub fn slow_down_object(object_id: &str, delay: Duration) {
    slow().insert(object_id.to_owned(), delay);
}

/// Waits the delay set for `object_id`, if any.
pub async fn pause(object_id: Option<&str>) {
    let delay = object_id.and_then(|id| slow().get(id).copied());
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
}
