//! A per-client limit on how often a form may be sent: at most `max` hits in any sliding
//! `window`, per client address (an IPv6 client by its /64, which one host usually holds
//! whole). Kept in memory, so each replica counts on its own.
//!
//! Memory is bounded: expired entries are dropped as the table grows, and past
//! [`MAX_CLIENTS`] live entries new clients share one count (so a flood of addresses can
//! neither grow the table nor lift the limit).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most clients tracked at once.
pub const MAX_CLIENTS: usize = 100_000;
/// The least time between two sweeps of a full table.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Counts hits per client.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    window: Duration,
    hits: Mutex<Hits>,
}

/// The hits of each client, and when clients with no hit in the window were last dropped.
#[derive(Debug, Default)]
struct Hits {
    by_client: HashMap<Option<IpAddr>, VecDeque<Instant>>,
    swept: Option<Instant>,
}

impl Limiter {
    /// At most `max` hits per `window` per client.
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max,
            window,
            hits: Mutex::new(Hits::default()),
        }
    }

    /// Counts a hit of `client` at `now` and says `true`, or says `false` when the client
    /// already had `max` hits in the window before `now` (that refusal is not counted).
    /// An unknown address (`None`) is one client. With [`MAX_CLIENTS`] clients in the
    /// window, clients with no recent hit are dropped (at most once a second: a sweep reads
    /// them all); while it stays full, new clients share the unknown address's count, so
    /// filling the table does not lift the limit.
    pub fn hit(&self, client: Option<IpAddr>, now: Instant) -> bool {
        let mut key = client.map(prefix);
        let mut guard = self
            .hits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Hits { by_client, swept } = &mut *guard;
        if by_client.len() >= MAX_CLIENTS && !by_client.contains_key(&key) {
            let due = swept.is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY);
            if due {
                let window = self.window;
                by_client.retain(|_, times| {
                    times
                        .back()
                        .is_some_and(|last| now.saturating_duration_since(*last) < window)
                });
                *swept = Some(now);
            }
            if by_client.len() >= MAX_CLIENTS {
                key = None;
            }
        }
        let times = by_client.entry(key).or_default();
        while times
            .front()
            .is_some_and(|first| now.saturating_duration_since(*first) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max {
            return false;
        }
        times.push_back(now);
        true
    }

    /// Whether `client` has had `max` hits in the window before `now` (nothing counted).
    pub fn is_spent(&self, client: Option<IpAddr>, now: Instant) -> bool {
        let hits = self
            .hits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        hits.by_client
            .get(&client.map(prefix))
            .is_some_and(|times| {
                times
                    .iter()
                    .filter(|at| now.saturating_duration_since(**at) < self.window)
                    .count()
                    >= self.max
            })
    }
}

/// The part of an address that names one client: an IPv4 address whole, an IPv6 one by
/// its /64 (an IPv4-mapped one as IPv4).
fn prefix(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                let kept = [
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ];
                IpAddr::V6(kept.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_MINUTES: Duration = Duration::from_secs(600);

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_client_gets_max_hits_per_window_and_others_are_counted_apart() {
        let limiter = Limiter::new(5, TEN_MINUTES);
        let start = Instant::now();
        for n in 0..5 {
            assert!(limiter.hit(ip("192.0.2.1"), start + Duration::from_secs(n)));
        }
        assert!(!limiter.hit(ip("192.0.2.1"), start + Duration::from_secs(10)));
        assert!(limiter.hit(ip("192.0.2.2"), start + Duration::from_secs(10)));
        assert!(limiter.hit(None, start));
    }

    #[test]
    fn the_window_slides_and_refusals_are_not_counted() {
        let limiter = Limiter::new(2, TEN_MINUTES);
        let start = Instant::now();
        let client = ip("192.0.2.1");
        assert!(limiter.hit(client, start));
        assert!(limiter.hit(client, start + Duration::from_secs(300)));
        assert!(!limiter.hit(client, start + Duration::from_secs(599)));
        // The first hit leaves the window: one more is allowed, then none until the second
        // leaves it too.
        assert!(limiter.hit(client, start + TEN_MINUTES));
        assert!(!limiter.hit(client, start + Duration::from_secs(899)));
        assert!(limiter.hit(client, start + Duration::from_secs(900)));
    }

    #[test]
    fn an_ipv6_client_is_its_64_prefix_and_a_mapped_ipv4_is_the_ipv4() {
        let limiter = Limiter::new(1, TEN_MINUTES);
        let now = Instant::now();
        assert!(limiter.hit(ip("2001:db8:1:2::1"), now));
        assert!(!limiter.hit(ip("2001:db8:1:2:ffff::9"), now));
        assert!(limiter.hit(ip("2001:db8:1:3::1"), now));
        assert!(limiter.hit(ip("198.51.100.7"), now));
        assert!(!limiter.hit(ip("::ffff:198.51.100.7"), now));
    }

    #[test]
    fn a_full_table_drops_expired_clients_first() {
        let limiter = Limiter::new(1, Duration::from_secs(1));
        let start = Instant::now();
        {
            let mut hits = limiter.hits.lock().unwrap();
            for n in 0..MAX_CLIENTS as u32 {
                let key = Some(IpAddr::V4(n.into()));
                hits.by_client.insert(key, VecDeque::from([start]));
            }
        }
        let later = start + Duration::from_secs(2);
        assert!(limiter.hit(ip("203.0.113.9"), later));
        assert!(!limiter.hit(ip("203.0.113.9"), later));
        assert_eq!(limiter.hits.lock().unwrap().by_client.len(), 1);
    }

    #[test]
    fn while_the_table_stays_full_new_clients_share_one_count() {
        let limiter = Limiter::new(1, Duration::from_secs(60));
        let now = Instant::now();
        {
            let mut hits = limiter.hits.lock().unwrap();
            for n in 0..MAX_CLIENTS as u32 {
                let key = Some(IpAddr::V4(n.into()));
                hits.by_client.insert(key, VecDeque::from([now]));
            }
        }
        assert!(
            limiter.hit(ip("203.0.113.9"), now),
            "the shared count's first"
        );
        assert!(
            !limiter.hit(ip("203.0.113.10"), now),
            "another new client shares it"
        );
        assert_eq!(
            limiter.hits.lock().unwrap().by_client.len(),
            MAX_CLIENTS + 1
        );
    }
}
