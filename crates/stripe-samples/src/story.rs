//! One seller's whole story, for `payments demo`: the account is created and onboarded, a
//! catalogue is published, customers sign up, three orders are paid, declined and
//! refunded, and last the seller adds a help page to the business profile (so the account's
//! newest snapshot is the story's, even after a `payments trigger account.updated` for the
//! same account sent before the story).
//!
//! The events are the builders' own ([`build_event_about`]), with the story's names,
//! amounts and people laid over them. Everything is derived from the account and the
//! story's start: ids are hashes of the account and the object's name, and every random
//! field of the builders (request ids, idempotency keys, receipt URLs, ...) is replaced by
//! such a hash. So the same account and start give the same bytes, and playing the story
//! again is a redelivery of each event, not a new one.

use serde_json::{Value, json};

use super::{ObjectIds, build_event_about};

/// The seller's name (its business profile's).
pub const STORE_NAME: &str = "Lumen & Leaf";

/// The story's currency.
pub const CURRENCY: &str = "usd";

const WEBSITE: &str = "https://lumenandleaf.example.com";
const EMAIL: &str = "hello@lumenandleaf.example.com";
const PHONE: &str = "+15035550142";
const DESCRIPTION: &str = "Hand-poured soy candles and easy-going houseplants, \
    potted and shipped from a small studio in Portland, Oregon.";

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How long the story lasts: its last event is `created` this many seconds after its first.
pub const SPAN: i64 = 4 * DAY + 3 * HOUR;

struct Product {
    /// Names the product's and its price's ids.
    key: &'static str,
    name: &'static str,
    description: &'static str,
    category: &'static str,
    /// In cents.
    unit_amount: i64,
    /// Billed every month rather than once.
    monthly: bool,
}

/// The catalogue: eight products in three categories, one price each.
const CATALOGUE: &[Product] = &[
    Product {
        key: "cedar-smoke-candle",
        name: "Cedar & Smoke Candle",
        description: "Soy wax with cedarwood, vetiver and a wisp of campfire. 8 oz, about 50 hours.",
        category: "Candles",
        unit_amount: 2800,
        monthly: false,
    },
    Product {
        key: "fig-leaf-candle",
        name: "Fig Leaf Candle",
        description: "Green fig, cassis and warm wood in an amber glass jar. 8 oz, about 50 hours.",
        category: "Candles",
        unit_amount: 2800,
        monthly: false,
    },
    Product {
        key: "beeswax-tapers",
        name: "Beeswax Taper Pair",
        description: "Two hand-dipped 10-inch tapers in pure beeswax. They burn clean and slow.",
        category: "Candles",
        unit_amount: 1600,
        monthly: false,
    },
    Product {
        key: "golden-pothos",
        name: "Golden Pothos",
        description: "A trailing pothos in a 6-inch terracotta pot. Forgives a missed watering.",
        category: "Plants",
        unit_amount: 3400,
        monthly: false,
    },
    Product {
        key: "snake-plant",
        name: "Snake Plant, Medium",
        description: "Upright, architectural and nearly unkillable: low light is fine. About 20 inches tall.",
        category: "Plants",
        unit_amount: 4800,
        monthly: false,
    },
    Product {
        key: "monstera-cutting",
        name: "Monstera Cutting Kit",
        description: "A rooted monstera cutting with a glass propagation vase and care notes.",
        category: "Plants",
        unit_amount: 2200,
        monthly: false,
    },
    Product {
        key: "plant-of-the-month",
        name: "Plant of the Month",
        description: "A new potted plant on your doorstep every month, with a card on how to keep it happy.",
        category: "Subscriptions",
        unit_amount: 3900,
        monthly: true,
    },
    Product {
        key: "candle-club",
        name: "Candle Club",
        description: "The month's small-batch scent before anyone else, every month. Skip or cancel any time.",
        category: "Subscriptions",
        unit_amount: 2400,
        monthly: true,
    },
];

struct Customer {
    key: &'static str,
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    line1: &'static str,
    city: &'static str,
    state: &'static str,
    postal_code: &'static str,
}

const CUSTOMERS: &[Customer] = &[
    Customer {
        key: "maya",
        name: "Maya Chen",
        email: "maya.chen@example.com",
        phone: "+15035550187",
        line1: "2215 SE Division St",
        city: "Portland",
        state: "OR",
        postal_code: "97202",
    },
    Customer {
        key: "tomas",
        name: "Tomás Rivera",
        email: "tomas.rivera@example.com",
        phone: "+12065550133",
        line1: "418 N 36th St",
        city: "Seattle",
        state: "WA",
        postal_code: "98103",
    },
    Customer {
        key: "priya",
        name: "Priya Natarajan",
        email: "priya.natarajan@example.com",
        phone: "+14155550171",
        line1: "77 Clement St",
        city: "San Francisco",
        state: "CA",
        postal_code: "94118",
    },
];

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Paid,
    Declined,
    /// Paid, then refunded in full a day later.
    Refunded,
}

struct Order {
    key: &'static str,
    /// An index into [`CUSTOMERS`].
    customer: usize,
    /// (index into [`CATALOGUE`], quantity).
    lines: &'static [(usize, i64)],
    outcome: Outcome,
    /// When it is placed, after the story's start.
    at: i64,
}

const ORDERS: &[Order] = &[
    Order {
        key: "order-1",
        customer: 0,
        lines: &[(0, 2), (3, 1)],
        outcome: Outcome::Paid,
        at: 2 * DAY,
    },
    Order {
        key: "order-2",
        customer: 1,
        lines: &[(4, 1)],
        outcome: Outcome::Declined,
        at: 2 * DAY + 5 * HOUR,
    },
    Order {
        key: "order-3",
        customer: 2,
        lines: &[(1, 1), (2, 1)],
        outcome: Outcome::Refunded,
        at: 3 * DAY,
    },
];

/// The story's events for `account`, in the order they happen; the first is `created` at
/// `start`, the last at `start + SPAN`. Every event is about `account`.
pub fn seller_story(account: &str, start: i64) -> Vec<Value> {
    let mut story = Story {
        account,
        events: Vec::new(),
    };
    story.account(start);
    for (index, product) in CATALOGUE.iter().enumerate() {
        let at = start + 3 * HOUR + i64::try_from(index).unwrap_or(0) * 7 * MINUTE;
        story.product(product, at);
    }
    for (index, customer) in CUSTOMERS.iter().enumerate() {
        let at = start + DAY + i64::try_from(index).unwrap_or(0) * 3 * HOUR;
        story.customer(customer, at);
    }
    for order in ORDERS {
        story.order(order, start + order.at);
    }
    story.help_page(start, start + SPAN);
    debug_assert_eq!(
        story.events.last().map(|event| event["created"].clone()),
        Some(json!(start + SPAN))
    );
    story.events
}

/// The id of the story's first event for `account` (the same whatever the start): a
/// server that holds it has heard the story before.
pub fn first_event_id(account: &str) -> String {
    derived_id(account, "evt_", "event:0", 24)
}

struct Story<'a> {
    account: &'a str,
    events: Vec<Value>,
}

impl Story<'_> {
    fn id(&self, prefix: &str, name: &str, len: usize) -> String {
        derived_id(self.account, prefix, name, len)
    }

    /// Adds an event of `event_type` about `objects`, `created` at `at`, with `object_patch`
    /// laid over its object and its random parts replaced by derived ones.
    fn push(&mut self, event_type: &str, at: i64, objects: &ObjectIds, object_patch: Value) {
        let mut event = build_event_about(event_type, Some(self.account), at, objects)
            .expect("the story tells only events the builders make");
        let n = self.events.len();
        event["id"] = json!(derived_id(self.account, "evt_", &format!("event:{n}"), 24));
        if !event["request"]["id"].is_null() {
            event["request"]["id"] = json!(self.id("req_", &format!("request:{n}"), 14));
        }
        if !event["request"]["idempotency_key"].is_null() {
            event["request"]["idempotency_key"] = json!(uuid_like(&hash_text(
                self.account,
                &format!("idempotency:{n}")
            )));
        }
        merge(&mut event["data"]["object"], object_patch);
        self.events.push(event);
    }

    fn no_objects(&self) -> ObjectIds {
        ObjectIds {
            customer: String::new(),
            product: String::new(),
            price: String::new(),
            payment_intent: String::new(),
            charge: String::new(),
            payment_method: String::new(),
        }
    }

    /// Created while onboarding, then onboarded two hours later.
    fn account(&mut self, start: i64) {
        let none = self.no_objects();
        // The platform names the business when it creates the account (so the store has its
        // name, and its readable address, from the start).
        let named = json!({ "business_profile": { "name": STORE_NAME }, "email": EMAIL });
        self.push("account.created", start, &none, named);
        self.push(
            "account.updated",
            start + 2 * HOUR,
            &none,
            onboarded_profile(start),
        );
        // The name did not change: it is not among the previous attributes.
        if let Some(previous) = self.events.last_mut().and_then(|event| {
            event["data"]["previous_attributes"]["business_profile"].as_object_mut()
        }) {
            previous.remove("name");
        }
    }

    /// The seller adds a help page to the profile: the account's last update.
    fn help_page(&mut self, start: i64, at: i64) {
        let none = self.no_objects();
        let mut profile = onboarded_profile(start);
        profile["business_profile"]["support_url"] = json!(format!("{WEBSITE}/help"));
        self.push("account.updated", at, &none, profile);
        if let Some(event) = self.events.last_mut() {
            event["data"]["previous_attributes"] =
                json!({ "business_profile": { "support_url": null } });
        }
    }

    fn product_ids(&self, product: &Product) -> ObjectIds {
        ObjectIds {
            product: self.id("prod_", &format!("product:{}", product.key), 14),
            price: self.id("price_", &format!("price:{}", product.key), 24),
            ..self.no_objects()
        }
    }

    /// The product, then its price a minute later.
    fn product(&mut self, product: &Product, at: i64) {
        let ids = self.product_ids(product);
        let patch = json!({
            "name": product.name,
            "description": product.description,
            "images": [],
            "metadata": { "category": product.category },
            "shippable": !product.monthly,
            "type": if product.monthly { "service" } else { "good" },
        });
        self.push("product.created", at, &ids, patch);
        let (price_type, recurring) = if product.monthly {
            let recurring = json!({
                "aggregate_usage": null, "interval": "month", "interval_count": 1,
                "meter": null, "trial_period_days": null, "usage_type": "licensed",
            });
            ("recurring", recurring)
        } else {
            ("one_time", Value::Null)
        };
        let patch = json!({
            "currency": CURRENCY,
            "recurring": recurring,
            "type": price_type,
            "unit_amount": product.unit_amount,
            "unit_amount_decimal": product.unit_amount.to_string(),
        });
        self.push("price.created", at + MINUTE, &ids, patch);
    }

    fn customer_id(&self, customer: &Customer) -> String {
        self.id("cus_", &format!("customer:{}", customer.key), 14)
    }

    fn customer(&mut self, customer: &Customer, at: i64) {
        let ids = ObjectIds {
            customer: self.customer_id(customer),
            ..self.no_objects()
        };
        let patch = json!({
            "address": address(customer),
            "description": null,
            "email": customer.email,
            "invoice_prefix": hash_text(self.account, &format!("invoice:{}", customer.key))
                [..8]
                .to_uppercase(),
            "name": customer.name,
            "phone": customer.phone,
            "shipping": shipping(customer),
        });
        self.push("customer.created", at, &ids, patch);
    }

    /// The PaymentIntent's event and the charge's, at `at`; a refund a day later.
    fn order(&mut self, order: &Order, at: i64) {
        let customer = &CUSTOMERS[order.customer];
        let first = &CATALOGUE[order.lines[0].0];
        let first_ids = self.product_ids(first);
        let ids = ObjectIds {
            customer: self.customer_id(customer),
            payment_intent: self.id("pi_", &format!("payment_intent:{}", order.key), 24),
            charge: self.id("ch_", &format!("charge:{}", order.key), 24),
            payment_method: self.id("pm_", &format!("payment_method:{}", order.key), 24),
            ..first_ids
        };
        let items: Vec<Value> = order
            .lines
            .iter()
            .map(|&(product, quantity)| {
                let product = &CATALOGUE[product];
                let ids = self.product_ids(product);
                json!({
                    "price": ids.price, "product": ids.product, "quantity": quantity,
                    "unit_amount": product.unit_amount, "currency": CURRENCY,
                })
            })
            .collect();
        let amount: i64 = order
            .lines
            .iter()
            .map(|&(product, quantity)| CATALOGUE[product].unit_amount * quantity)
            .sum();
        let metadata = json!({ "items": Value::Array(items).to_string() });
        let description = format!("{STORE_NAME} order {}", &ids.payment_intent[3..11]);
        let billing_details = json!({
            "address": address(customer), "email": customer.email, "name": customer.name,
            "phone": customer.phone,
        });
        let declined = order.outcome == Outcome::Declined;

        let mut intent = json!({
            "amount": amount,
            "amount_received": if declined { 0 } else { amount },
            "client_secret": format!(
                "{}_secret_{}",
                ids.payment_intent,
                &self.id("", &format!("client_secret:{}", order.key), 25)
            ),
            "created": at - 10,
            "currency": CURRENCY,
            "description": description,
            "metadata": metadata,
            "receipt_email": customer.email,
            "shipping": shipping(customer),
        });
        if declined {
            intent["last_payment_error"] = json!({
                "payment_method": { "billing_details": billing_details, "created": at - 11 },
            });
        }
        let intent_type = if declined {
            "payment_intent.payment_failed"
        } else {
            "payment_intent.succeeded"
        };
        self.push(intent_type, at, &ids, intent);

        let mut charge = json!({
            "amount": amount,
            "amount_captured": if declined { 0 } else { amount },
            "amount_refunded": 0,
            "billing_details": billing_details,
            "calculated_statement_descriptor": "LUMEN & LEAF",
            "created": at - 1,
            "currency": CURRENCY,
            "description": description,
            "metadata": metadata,
            "receipt_email": customer.email,
            "shipping": shipping(customer),
        });
        if !declined {
            charge["balance_transaction"] =
                json!(self.id("txn_", &format!("balance:{}", order.key), 24));
            charge["receipt_url"] = json!(format!(
                "https://pay.stripe.com/receipts/payment/{}",
                self.id("", &format!("receipt:{}", order.key), 96)
            ));
        }
        let charge_type = if declined {
            "charge.failed"
        } else {
            "charge.succeeded"
        };
        self.push(charge_type, at + 1, &ids, charge.clone());

        if order.outcome == Outcome::Refunded {
            charge["amount_refunded"] = json!(amount);
            self.push("charge.refunded", at + DAY + 2 * HOUR, &ids, charge);
        }
    }
}

/// The account once onboarded, with its business profile (created at `start`).
fn onboarded_profile(start: i64) -> Value {
    json!({
        "business_profile": {
            "mcc": "5992",
            "name": STORE_NAME,
            "product_description": DESCRIPTION,
            "support_address": {
                "city": "Portland", "country": "US", "line1": "1010 SE Water Ave",
                "line2": "Studio 4", "postal_code": "97214", "state": "OR",
            },
            "support_email": EMAIL,
            "support_phone": PHONE,
            "url": WEBSITE,
        },
        "created": start,
        "email": EMAIL,
        "settings": { "dashboard": { "display_name": STORE_NAME } },
    })
}

fn address(customer: &Customer) -> Value {
    json!({
        "city": customer.city, "country": "US", "line1": customer.line1, "line2": null,
        "postal_code": customer.postal_code, "state": customer.state,
    })
}

fn shipping(customer: &Customer) -> Value {
    json!({
        "address": address(customer), "carrier": null, "name": customer.name,
        "phone": customer.phone, "tracking_number": null,
    })
}

/// `patch` laid over `target`: objects merge key by key, anything else is replaced.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}

/// FNV-1a, 64 bits: stable across platforms and releases (std's hashers are not).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// At least `len` base-62 characters derived from `account` and `name`.
fn hash_chars(account: &str, name: &str, len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(len + 10);
    let mut round = 0u32;
    while out.len() < len {
        let mut hash = fnv1a(&[account, name, &round.to_string()]);
        for _ in 0..10 {
            out.push(char::from(DIGITS[usize::try_from(hash % 62).unwrap_or(0)]));
            hash /= 62;
        }
        round += 1;
    }
    out.truncate(len);
    out
}

fn derived_id(account: &str, prefix: &str, name: &str, len: usize) -> String {
    format!("{prefix}{}", hash_chars(account, name, len))
}

/// 32 lowercase hex digits derived from `account` and `name`.
fn hash_text(account: &str, name: &str) -> String {
    format!(
        "{:016x}{:016x}",
        fnv1a(&[account, name, "a"]),
        fnv1a(&[account, name, "b"])
    )
}

/// `hex` (32 digits) in the 8-4-4-4-12 form of a UUID v4.
fn uuid_like(hex: &str) -> String {
    let variant = ['8', '9', 'a', 'b'][usize::from(hex.as_bytes()[16] % 4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const ACCT: &str = "acct_1PgafTB7WZ01zgkW";
    const START: i64 = 1_790_000_000;

    fn object(event: &Value) -> &Value {
        &event["data"]["object"]
    }

    #[test]
    fn the_same_account_and_start_give_the_same_bytes() {
        let a = serde_json::to_vec(&seller_story(ACCT, START)).unwrap();
        let b = serde_json::to_vec(&seller_story(ACCT, START)).unwrap();
        assert_eq!(a, b);
        let other = seller_story("acct_other", START);
        let mine = seller_story(ACCT, START);
        let ids: HashSet<&Value> = mine.iter().map(|e| &e["id"]).collect();
        assert!(other.iter().all(|event| !ids.contains(&event["id"])));
    }

    #[test]
    fn events_are_about_the_account_in_time_order_with_unique_ids() {
        let story = seller_story(ACCT, START);
        assert_eq!(story.len(), 2 + 2 * 8 + 3 + 2 + 2 + 3 + 1);
        assert_eq!(story[0]["id"], first_event_id(ACCT));
        let ids: HashSet<&str> = story.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), story.len());
        let created: Vec<i64> = story
            .iter()
            .map(|e| e["created"].as_i64().unwrap())
            .collect();
        assert!(
            created.windows(2).all(|pair| pair[0] < pair[1]),
            "{created:?}"
        );
        assert_eq!(created[0], START);
        assert_eq!(*created.last().unwrap(), START + SPAN);
        for event in &story {
            assert_eq!(event["account"], ACCT);
            assert!(ids.contains(event["id"].as_str().unwrap()));
            assert!(event["id"].as_str().unwrap().starts_with("evt_"));
            assert_eq!(event["id"].as_str().unwrap().len(), 28);
        }
    }

    #[test]
    fn the_account_onboards_with_a_business_profile() {
        let story = seller_story(ACCT, START);
        assert_eq!(story[0]["type"], "account.created");
        assert_eq!(object(&story[0])["charges_enabled"], false);
        assert_eq!(object(&story[0])["business_profile"]["name"], STORE_NAME);
        assert_eq!(story[1]["type"], "account.updated");
        let account = object(&story[1]);
        assert_eq!(account["id"], ACCT);
        for flag in ["charges_enabled", "payouts_enabled", "details_submitted"] {
            assert_eq!(account[flag], true);
        }
        assert_eq!(account["business_profile"]["name"], STORE_NAME);
        assert_eq!(account["business_profile"]["support_email"], EMAIL);
        assert_eq!(account["business_profile"]["url"], WEBSITE);
        let previous = &story[1]["data"]["previous_attributes"];
        assert_eq!(previous["charges_enabled"], false);
        assert!(previous["business_profile"].get("name").is_none());
        assert!(previous["business_profile"]["url"].is_null());
        let last = story.last().unwrap();
        assert_eq!(last["type"], "account.updated");
        assert_eq!(object(last)["business_profile"]["name"], STORE_NAME);
        assert_eq!(
            last["data"]["previous_attributes"],
            json!({ "business_profile": { "support_url": null } })
        );
    }

    #[test]
    fn every_product_has_its_price_and_one_is_monthly() {
        let story = seller_story(ACCT, START);
        let products: Vec<&Value> = story
            .iter()
            .filter(|e| e["type"] == "product.created")
            .map(object)
            .collect();
        let prices: Vec<&Value> = story
            .iter()
            .filter(|e| e["type"] == "price.created")
            .map(object)
            .collect();
        assert_eq!(products.len(), 8);
        for product in &products {
            let price = prices
                .iter()
                .find(|price| price["id"] == product["default_price"])
                .expect("the default price is created");
            assert_eq!(price["product"], product["id"]);
            assert_eq!(price["currency"], CURRENCY);
            assert!(product["metadata"]["category"].is_string());
        }
        assert!(prices.iter().any(|p| p["recurring"]["interval"] == "month"));
        let categories: std::collections::BTreeSet<&str> = products
            .iter()
            .map(|p| p["metadata"]["category"].as_str().unwrap())
            .collect();
        assert_eq!(
            categories.into_iter().collect::<Vec<_>>(),
            ["Candles", "Plants", "Subscriptions"]
        );
    }

    #[test]
    fn orders_name_their_customer_and_items_and_add_up() {
        let story = seller_story(ACCT, START);
        let customers: HashSet<&Value> = story
            .iter()
            .filter(|e| e["type"] == "customer.created")
            .map(|e| &object(e)["id"])
            .collect();
        assert_eq!(customers.len(), 3);
        for event in story.iter().filter(|e| {
            let kind = e["type"].as_str().unwrap();
            kind.starts_with("charge.") || kind.starts_with("payment_intent.")
        }) {
            let object = object(event);
            assert!(customers.contains(&object["customer"]));
            let items: Vec<Value> =
                serde_json::from_str(object["metadata"]["items"].as_str().unwrap()).unwrap();
            let total: i64 = items
                .iter()
                .map(|i| i["unit_amount"].as_i64().unwrap() * i["quantity"].as_i64().unwrap())
                .sum();
            assert_eq!(object["amount"], total);
            assert!(object["metadata"]["items"].as_str().unwrap().len() <= 500);
        }
        let refunded = story
            .iter()
            .find(|e| e["type"] == "charge.refunded")
            .unwrap();
        assert_eq!(
            object(refunded)["amount_refunded"],
            object(refunded)["amount"]
        );
        let failed = story.iter().find(|e| e["type"] == "charge.failed").unwrap();
        assert!(object(failed)["receipt_url"].is_null());
        let paid = story
            .iter()
            .find(|e| e["type"] == "charge.succeeded")
            .unwrap();
        assert!(
            object(paid)["receipt_url"]
                .as_str()
                .unwrap()
                .starts_with("https://pay.stripe.com/receipts/")
        );
    }
}
