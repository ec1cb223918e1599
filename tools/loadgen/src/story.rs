//! One store's story: what happens in a marketplace store, told as the events Stripe
//! would send about it.
//!
//! A store is onboarded (`account.updated`), gains customers and products (each product
//! with its price), and then mostly takes payments from those customers for those
//! products; now and then an object is updated or a paid charge refunded. Every event
//! refers to objects the store's earlier events created, so the server builds the same
//! rows a real store would get. The choices come from a seeded generator: one seed, one
//! sequence of event types (the object ids themselves are fresh on every run).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use stripe_samples::ObjectIds;

/// Refundable payments remembered per store: enough for variety, bounded for long runs.
const PAID_KEPT: usize = 64;

/// Events to send in order, all about the same objects.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub event_types: &'static [&'static str],
    pub objects: ObjectIds,
}

/// The state of one store, as the events sent so far made it.
pub struct Story {
    account: String,
    rng: StdRng,
    onboarded: bool,
    customers: Vec<String>,
    /// (product, its price)
    catalog: Vec<(String, String)>,
    paid: Vec<ObjectIds>,
}

impl Story {
    pub fn new(account: String, seed: u64) -> Self {
        Self {
            account,
            rng: StdRng::seed_from_u64(seed),
            onboarded: false,
            customers: Vec::new(),
            catalog: Vec::new(),
            paid: Vec::new(),
        }
    }

    /// The connected account (`acct_...`) the store belongs to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// What happens next in the store.
    pub fn next_chapter(&mut self) -> Chapter {
        if !self.onboarded {
            self.onboarded = true;
            return chapter(&["account.updated"], ObjectIds::fresh());
        }
        let roll: f64 = self.rng.random();
        if self.customers.is_empty() || roll < 0.12 {
            self.new_customer()
        } else if self.catalog.is_empty() || roll < 0.20 {
            self.new_product()
        } else if roll < 0.28 {
            self.update()
        } else if roll < 0.32 && !self.paid.is_empty() {
            self.refund()
        } else {
            self.purchase()
        }
    }

    fn new_customer(&mut self) -> Chapter {
        let objects = ObjectIds::fresh();
        self.customers.push(objects.customer.clone());
        chapter(&["customer.created"], objects)
    }

    fn new_product(&mut self) -> Chapter {
        let objects = ObjectIds::fresh();
        self.catalog
            .push((objects.product.clone(), objects.price.clone()));
        chapter(&["product.created", "price.created"], objects)
    }

    /// A known customer buys a known product.
    fn known_objects(&mut self) -> ObjectIds {
        let mut objects = ObjectIds::fresh();
        let customer = self.rng.random_range(0..self.customers.len());
        objects.customer.clone_from(&self.customers[customer]);
        let (product, price) = &self.catalog[self.rng.random_range(0..self.catalog.len())];
        objects.product.clone_from(product);
        objects.price.clone_from(price);
        objects
    }

    fn update(&mut self) -> Chapter {
        let objects = self.known_objects();
        let event_types: &'static [&'static str] = match self.rng.random_range(0..3) {
            0 => &["customer.updated"],
            1 => &["product.updated"],
            _ => &["price.updated"],
        };
        chapter(event_types, objects)
    }

    fn refund(&mut self) -> Chapter {
        let index = self.rng.random_range(0..self.paid.len());
        let objects = self.paid.swap_remove(index);
        chapter(&["charge.refunded"], objects)
    }

    fn purchase(&mut self) -> Chapter {
        let objects = self.known_objects();
        let roll: f64 = self.rng.random();
        if roll < 0.80 {
            if self.paid.len() >= PAID_KEPT {
                self.paid.swap_remove(0);
            }
            self.paid.push(objects.clone());
            let events = &[
                "payment_intent.created",
                "charge.succeeded",
                "payment_intent.succeeded",
            ];
            chapter(events, objects)
        } else if roll < 0.92 {
            let events = &[
                "payment_intent.created",
                "charge.failed",
                "payment_intent.payment_failed",
            ];
            chapter(events, objects)
        } else {
            chapter(
                &["payment_intent.created", "payment_intent.canceled"],
                objects,
            )
        }
    }
}

fn chapter(event_types: &'static [&'static str], objects: ObjectIds) -> Chapter {
    Chapter {
        event_types,
        objects,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn types(seed: u64, chapters: usize) -> Vec<&'static str> {
        let mut story = Story::new("acct_test".into(), seed);
        (0..chapters)
            .flat_map(|_| story.next_chapter().event_types.iter().copied())
            .collect()
    }

    #[test]
    fn a_story_starts_with_onboarding_and_is_the_same_for_the_same_seed() {
        let first = types(7, 200);
        assert_eq!(first[0], "account.updated");
        assert_eq!(first, types(7, 200));
        assert_ne!(first, types(8, 200));
    }

    #[test]
    fn payments_refer_to_customers_and_products_created_before() {
        let mut story = Story::new("acct_test".into(), 3);
        let (mut customers, mut products, mut charges) =
            (HashSet::new(), HashSet::new(), HashSet::new());
        let mut payments = 0;
        for _ in 0..500 {
            let Chapter {
                event_types,
                objects,
            } = story.next_chapter();
            for &event_type in event_types {
                match event_type {
                    "customer.created" => assert!(customers.insert(objects.customer.clone())),
                    "product.created" => assert!(products.insert(objects.product.clone())),
                    "charge.succeeded" => assert!(charges.insert(objects.charge.clone())),
                    "charge.refunded" => assert!(charges.remove(&objects.charge)),
                    "account.updated" | "price.created" => {}
                    _ => {
                        payments += 1;
                        assert!(customers.contains(&objects.customer), "{event_type}");
                        assert!(products.contains(&objects.product), "{event_type}");
                    }
                }
            }
        }
        assert!(payments > 300, "mostly payments: {payments}");
    }
}
