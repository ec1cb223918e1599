//! The stream of deliveries: the stores' stories interleaved, optionally shuffled, with
//! some events delivered again.
//!
//! Stripe delivers each event at least once and in no guaranteed order; `--shuffle` and
//! `--duplicates` reproduce both. Events are built when they are first needed, so a run
//! of any length holds only a small window in memory and `created` is close to the send
//! time (signatures are made at send time: see [`super::driver`]).

use std::collections::VecDeque;

use bytes::Bytes;
use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::story::Story;

/// How far ahead `--shuffle` reorders: a delivery goes out among the next this many.
const SHUFFLE_WINDOW: usize = 64;
/// Recent deliveries that `--duplicates` picks from, like a retry after a short while.
const RECENT_KEPT: usize = 256;

/// One POST of one event.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event id (`evt_...`).
    pub id: String,
    /// The body, byte for byte (a redelivery sends the same bytes).
    pub body: Bytes,
    /// Whether this is a redelivery of an event already handed out.
    pub resend: bool,
}

/// Shape of the stream.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    pub stores: u32,
    pub seed: u64,
    /// Fraction of deliveries that repeat an earlier one.
    pub duplicates: f64,
    pub shuffle: bool,
}

pub struct Feed {
    stories: Vec<Story>,
    rng: StdRng,
    options: FeedOptions,
    /// Events built and not yet handed out, in story order.
    ready: VecDeque<Delivery>,
    /// With `--shuffle`: the events the next delivery is drawn from.
    window: Vec<Delivery>,
    recent: VecDeque<Delivery>,
}

/// The stores' connected accounts: the same seed gives the same accounts.
pub fn accounts(seed: u64, stores: u32) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..stores)
        .map(|_| {
            let suffix: String = (&mut rng)
                .sample_iter(Alphanumeric)
                .take(16)
                .map(char::from)
                .collect();
            format!("acct_{suffix}")
        })
        .collect()
}

/// Each store's own seed, spread so that nearby seeds do not share stories.
fn story_seed(seed: u64, store: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(store as u64)
}

impl Feed {
    pub fn new(options: FeedOptions) -> Self {
        let stories = accounts(options.seed, options.stores)
            .into_iter()
            .enumerate()
            .map(|(index, account)| Story::new(account, story_seed(options.seed, index)))
            .collect();
        Self {
            stories,
            rng: StdRng::seed_from_u64(options.seed),
            options,
            ready: VecDeque::new(),
            window: Vec::with_capacity(SHUFFLE_WINDOW),
            recent: VecDeque::with_capacity(RECENT_KEPT),
        }
    }

    /// The next delivery.
    pub fn next_delivery(&mut self) -> Delivery {
        if !self.recent.is_empty() && self.rng.random_bool(self.options.duplicates) {
            let again = &self.recent[self.rng.random_range(0..self.recent.len())];
            return Delivery {
                resend: true,
                ..again.clone()
            };
        }
        let delivery = if self.options.shuffle {
            while self.window.len() < SHUFFLE_WINDOW {
                let next = self.build_next();
                self.window.push(next);
            }
            let index = self.rng.random_range(0..self.window.len());
            self.window.swap_remove(index)
        } else {
            self.build_next()
        };
        if self.recent.len() == RECENT_KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(delivery.clone());
        delivery
    }

    /// The next event in story order, building a random store's next chapter if needed.
    fn build_next(&mut self) -> Delivery {
        loop {
            if let Some(delivery) = self.ready.pop_front() {
                return delivery;
            }
            let store = self.rng.random_range(0..self.stories.len());
            self.build_chapter(store);
        }
    }

    fn build_chapter(&mut self, store: usize) {
        let story = &mut self.stories[store];
        let chapter = story.next_chapter();
        let now = chrono::Utc::now().timestamp();
        for event_type in chapter.event_types {
            let event = stripe_samples::build_event_about(
                event_type,
                Some(story.account()),
                now,
                &chapter.objects,
            )
            .expect("stories only tell known event types");
            let id = event["id"].as_str().unwrap_or_default().to_owned();
            // Pretty, as Stripe sends them (and as `payments trigger` does).
            let body = serde_json::to_vec_pretty(&event).expect("a JSON value serializes");
            self.ready.push_back(Delivery {
                id,
                body: Bytes::from(body),
                resend: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn options(duplicates: f64, shuffle: bool) -> FeedOptions {
        FeedOptions {
            stores: 4,
            seed: 11,
            duplicates,
            shuffle,
        }
    }

    fn event_type(delivery: &Delivery) -> String {
        let event: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
        event["type"].as_str().unwrap().to_owned()
    }

    #[test]
    fn accounts_depend_only_on_the_seed() {
        let accounts = accounts(5, 3);
        assert_eq!(accounts, super::accounts(5, 3));
        assert_ne!(accounts, super::accounts(6, 3));
        assert_eq!(accounts.iter().collect::<HashSet<_>>().len(), 3);
        assert!(
            accounts
                .iter()
                .all(|a| a.starts_with("acct_") && a.len() == 21)
        );
    }

    #[test]
    fn duplicates_resend_earlier_events_at_about_the_given_fraction() {
        let mut feed = Feed::new(options(0.2, false));
        let mut seen = HashSet::new();
        let mut resent = 0;
        for _ in 0..2000 {
            let delivery = feed.next_delivery();
            if delivery.resend {
                resent += 1;
                assert!(seen.contains(&delivery.id), "a resend repeats a sent event");
            } else {
                assert!(seen.insert(delivery.id.clone()), "fresh events are new");
            }
        }
        assert!((300..500).contains(&resent), "{resent} of 2000");
    }

    #[test]
    fn without_shuffle_each_store_is_onboarded_first_and_shuffle_changes_that() {
        let first_types = |shuffle| {
            let mut feed = Feed::new(options(0.0, shuffle));
            let mut firsts = Vec::new();
            let mut accounts = HashSet::new();
            for _ in 0..400 {
                let delivery = feed.next_delivery();
                let event: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
                if accounts.insert(event["account"].as_str().unwrap().to_owned()) {
                    firsts.push(event_type(&delivery));
                }
            }
            firsts
        };
        assert_eq!(first_types(false), vec!["account.updated"; 4]);
        assert_ne!(first_types(true), vec!["account.updated"; 4]);
    }
}
