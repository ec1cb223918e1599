//! Saying a repeated warning once: a burst of the same failure (every delivery after a
//! secret roll, a client retrying a bad request) is one line, then a count, not a line
//! each. The metrics still count every occurrence.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Admits the first occurrence of each kind of warning at once, holds back the others for
/// `window`, and admits the next one after it with the number held back.
#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    kinds: Mutex<HashMap<&'static str, Seen>>,
}

#[derive(Debug)]
struct Seen {
    /// When the last admitted occurrence was logged.
    logged: Instant,
    /// Occurrences held back since.
    held_back: u64,
}

impl Throttle {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)`: log this occurrence of `kind`, saying `n` were held back since the last
    /// line; `None`: it is counted, not logged.
    pub fn admit(&self, kind: &'static str) -> Option<u64> {
        let now = Instant::now();
        let mut kinds = self
            .kinds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match kinds.get_mut(kind) {
            Some(seen) if now.duration_since(seen.logged) < self.window => {
                seen.held_back += 1;
                None
            }
            Some(seen) => {
                let held_back = std::mem::take(&mut seen.held_back);
                seen.logged = now;
                Some(held_back)
            }
            None => {
                let seen = Seen {
                    logged: now,
                    held_back: 0,
                };
                kinds.insert(kind, seen);
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_one_line_then_a_count_per_window_and_kind() {
        let throttle = Throttle::new(Duration::from_millis(50));
        assert_eq!(throttle.admit("no_match"), Some(0));
        assert!((0..1000).all(|_| throttle.admit("no_match").is_none()));
        // Another kind is not held back by the first.
        assert_eq!(throttle.admit("missing"), Some(0));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(throttle.admit("no_match"), Some(1000));
        assert_eq!(throttle.admit("no_match"), None);
    }
}
