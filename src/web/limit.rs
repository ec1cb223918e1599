//! A per-client limit on how often a form may be sent: at most `max` hits in any sliding
//! `window`, per client address (an IPv6 client by its /64, which one host usually holds
//! whole). Kept in memory, so each replica counts on its own.
//!
//! Memory is bounded: expired entries are dropped as the table grows, and past
//! [`MAX_CLIENTS`] live entries new clients are let through untracked rather than refused
//! (the limit guards the store from one source, not from a flood of addresses).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most clients tracked at once.
pub const MAX_CLIENTS: usize = 100_000;

/// Counts hits per client.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<Option<IpAddr>, VecDeque<Instant>>>,
}

impl Limiter {
    /// At most `max` hits per `window` per client.
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit of `client` at `now` and says `true`, or says `false` when the client
    /// already had `max` hits in the window before `now` (that refusal is not counted).
    /// An unknown address (`None`) is one client.
    pub fn hit(&self, client: Option<IpAddr>, now: Instant) -> bool {
        let key = client.map(prefix);
        let mut hits = self
            .hits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if hits.len() >= MAX_CLIENTS && !hits.contains_key(&key) {
            let window = self.window;
            hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < window)
            });
            if hits.len() >= MAX_CLIENTS {
                return true;
            }
        }
        let times = hits.entry(key).or_default();
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
                hits.insert(key, VecDeque::from([start]));
            }
        }
        let later = start + Duration::from_secs(2);
        assert!(limiter.hit(ip("203.0.113.9"), later));
        assert!(!limiter.hit(ip("203.0.113.9"), later));
        assert_eq!(limiter.hits.lock().unwrap().len(), 1);
    }
}
