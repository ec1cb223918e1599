//! Fault injection for the integration tests (cargo feature `fault-injection`, enabled only
//! by the test build): makes applying chosen objects panic, to prove that a crashing actor
//! loses nothing and does not stop other stores.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

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
