//! The actors that apply stored events: one [`AccountActor`](account::AccountActor) per
//! store key, under one [`AccountSupervisor`](supervisor::AccountSupervisor).
//!
//! The inbox table is the queue; mailboxes only carry notifications. Whatever an actor
//! loses (a panic, an idle drain racing a send, a process crash) is still `received` in
//! the table and is picked up again by the next actor of that store.

pub mod account;
pub mod supervisor;

use std::time::Duration;

pub use supervisor::{AccountSupervisor, Dispatcher, SupervisorStats};

/// How actors apply events.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// Attempts an event gets before it is marked `failed`.
    pub max_attempts: i32,
    /// Backoff before the second attempt; doubled for each further one.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// An actor with no message for this long drains and stops.
    pub idle_timeout: Duration,
    /// How long a busy store gathers events before applying them.
    pub batch_linger: Duration,
}

impl ApplySettings {
    /// Backoff after `attempts` failed attempts (exponential, capped).
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exponent = attempts.clamp(1, 20) as u32 - 1;
        self.backoff_base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = ApplySettings {
            max_attempts: 5,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(350),
            idle_timeout: Duration::from_secs(60),
            batch_linger: Duration::ZERO,
        };
        let waits: Vec<u128> = (1..=4).map(|n| settings.backoff(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 350, 350]);
    }
}
