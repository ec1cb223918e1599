//! A store's pages (Home, Products, About, Contact) and payment settings, stored as JSON on
//! the store row.
//!
//! They are derived from several rows (the store, its products, their default prices), so
//! they are never patched by one event: [`rebuilt`] recomputes them from the current rows,
//! and the result depends only on the rows, not on which event happened to come last. An
//! apply only marks them stale; the store's actor rebuilds them shortly after, once for
//! every change that came meanwhile (see `pipeline::account`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entity::{price, product, store};
use serde_json::{Value, json};

use super::{catalog, stores};

/// How many products the Home page features.
pub const FEATURED_PRODUCTS: usize = 8;

/// The Products page category of products without `metadata.category`.
pub const DEFAULT_CATEGORY: &str = "All";

/// The store row with its pages and payment settings rebuilt from `products` and
/// `prices`, and no longer stale; `None` when they were up to date (only the flag changes).
pub fn rebuilt(
    store: &store::Model,
    products: &[product::Model],
    prices: &HashMap<String, price::Model>,
) -> Option<store::Model> {
    let pages = build_pages(store, products, prices);
    let payment_settings = build_payment_settings(store);
    if store.pages.as_ref() == Some(&pages)
        && store.payment_settings.as_ref() == Some(&payment_settings)
    {
        return None;
    }
    let mut store = store.clone();
    store.pages = Some(pages);
    store.payment_settings = Some(payment_settings);
    store.pages_stale = false;
    Some(store)
}

/// A new store with its pages and payment settings: a store without products yet.
pub fn with_empty_catalogue(mut store: store::Model) -> store::Model {
    store.pages = Some(build_pages(&store, &[], &HashMap::new()));
    store.payment_settings = Some(build_payment_settings(&store));
    store.pages_stale = false;
    store
}

/// The pages of `store`. `products` may include inactive ones (they are left out);
/// `prices` holds at least the products' default prices, by id.
pub fn build_pages(
    store: &store::Model,
    products: &[product::Model],
    prices: &HashMap<String, price::Model>,
) -> Value {
    let active: Vec<&product::Model> = products
        .iter()
        .filter(|product| product.active && product.deleted_at.is_none())
        .collect();
    json!({
        "home": {
            "hero": {"title": store.name, "description": store.description},
            "featured_products": featured(&active, prices),
        },
        "products": {"categories": categories(&active, prices)},
        "about": {
            "description": store.description,
            "website": store.website,
            "country": store.country,
        },
        "contact": {
            "email": store.support_email.as_ref().or(store.email.as_ref()),
            "phone": store.phone,
            "address": store.address,
            "form": {"fields": contact_form_fields()},
        },
    })
}

/// The payment settings of `store`: whether it can take payments, in what currency, and
/// with which payment methods (its active `*_payments` capabilities, such as
/// `card_payments` → `card`). A disconnected store takes none: the platform can no longer
/// charge for it, whatever Stripe last said about the account.
pub fn build_payment_settings(store: &store::Model) -> Value {
    let enabled = stores::payments_enabled(store);
    let payment_methods: BTreeSet<&str> = store
        .capabilities
        .as_ref()
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|_| !store.disconnected)
        .filter(|(_, state)| state.as_str() == Some("active"))
        .filter_map(|(name, _)| name.strip_suffix("_payments"))
        .collect();
    json!({
        "stripe_enabled": enabled,
        "currency": store.currency,
        "country": store.country,
        "payment_methods": payment_methods,
    })
}

/// The newest products first (Stripe's `created`; unknown counts as oldest), ties by id.
fn featured(products: &[&product::Model], prices: &HashMap<String, price::Model>) -> Vec<Value> {
    let mut newest = products.to_vec();
    newest.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    newest
        .into_iter()
        .take(FEATURED_PRODUCTS)
        .map(|product| summary(product, prices))
        .collect()
}

/// One group per category, sorted by category name; products by name, then id.
fn categories(products: &[&product::Model], prices: &HashMap<String, price::Model>) -> Vec<Value> {
    let mut groups: BTreeMap<&str, Vec<&product::Model>> = BTreeMap::new();
    for product in products {
        let category = product.category.as_deref().unwrap_or(DEFAULT_CATEGORY);
        groups.entry(category).or_default().push(product);
    }
    groups
        .into_iter()
        .map(|(name, mut products)| {
            products.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            let products: Vec<Value> = products
                .into_iter()
                .map(|product| summary(product, prices))
                .collect();
            json!({"name": name, "products": products})
        })
        .collect()
}

/// A product as the pages show it.
fn summary(product: &product::Model, prices: &HashMap<String, price::Model>) -> Value {
    let image = product
        .images
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|images| images.first())
        .cloned()
        .unwrap_or(Value::Null);
    let price = catalog::default_price_in(product, prices).map(price_summary);
    json!({
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "image": image,
        "price": price,
    })
}

/// A price as the pages show it: amount in the smallest unit, currency, and the recurring
/// interval when there is one (the storefront's product page shows the same).
pub fn price_summary(price: &price::Model) -> Value {
    let recurring = price.recurring.as_ref();
    json!({
        "amount": price.unit_amount,
        "currency": price.currency,
        "interval": recurring.and_then(|r| r.get("interval")),
        "interval_count": recurring.and_then(|r| r.get("interval_count")),
    })
}

fn contact_form_fields() -> Value {
    json!([
        {"name": "name", "label": "Name", "type": "text", "required": true},
        {"name": "email", "label": "Email", "type": "email", "required": true},
        {"name": "message", "label": "Message", "type": "textarea", "required": true},
    ])
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn store() -> store::Model {
        let mut store = stores::stub("acct_1", false, DateTime::UNIX_EPOCH);
        store.name = Some("Rosen Threads".to_owned());
        store.description = Some("Comfortable gray cotton t-shirts".to_owned());
        store.website = Some("https://rosenthreads.example.com".to_owned());
        store.country = Some("US".to_owned());
        store.currency = Some("usd".to_owned());
        store.email = Some("site@stripe.com".to_owned());
        store.phone = Some("+15555555555".to_owned());
        store.address = Some(json!({"city": "San Francisco"}));
        store.charges_enabled = true;
        store.capabilities = Some(json!({
            "card_payments": "active",
            "transfers": "active",
            "us_bank_account_ach_payments": "active",
            "klarna_payments": "pending",
        }));
        store
    }

    fn product(id: &str, name: &str, created: i64, category: Option<&str>) -> product::Model {
        product::Model {
            pk: 0,
            store_key: "acct_1".to_owned(),
            livemode: false,
            id: id.to_owned(),
            name: Some(name.to_owned()),
            description: None,
            images: Some(json!([
                format!("https://img/{id}.png"),
                "https://img/2.png"
            ])),
            active: true,
            category: category.map(str::to_owned),
            default_price: Some(format!("price_{id}")),
            metadata: None,
            created: Some(created),
            deleted_at: None,
            version: 0,
            version_event: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    fn price(id: &str, amount: Option<i64>, deleted: bool) -> price::Model {
        price::Model {
            pk: 0,
            store_key: "acct_1".to_owned(),
            livemode: false,
            id: id.to_owned(),
            product: None,
            unit_amount: amount,
            currency: Some("usd".to_owned()),
            price_type: Some("one_time".to_owned()),
            recurring: None,
            active: true,
            metadata: None,
            created: None,
            deleted_at: deleted.then_some(DateTime::UNIX_EPOCH),
            version: 0,
            version_event: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    fn ids(products: &Value) -> Vec<&str> {
        products
            .as_array()
            .expect("list")
            .iter()
            .map(|product| product["id"].as_str().expect("id"))
            .collect()
    }

    #[test]
    fn an_empty_store_has_every_page() {
        let pages = build_pages(&store(), &[], &HashMap::new());
        assert_eq!(
            pages["home"]["hero"],
            json!({"title": "Rosen Threads", "description": "Comfortable gray cotton t-shirts"})
        );
        assert_eq!(pages["home"]["featured_products"], json!([]));
        assert_eq!(pages["products"]["categories"], json!([]));
        assert_eq!(
            pages["about"],
            json!({"description": "Comfortable gray cotton t-shirts",
                   "website": "https://rosenthreads.example.com", "country": "US"})
        );
        assert_eq!(pages["contact"]["email"], json!("site@stripe.com"));
        assert_eq!(pages["contact"]["phone"], json!("+15555555555"));
        assert_eq!(
            pages["contact"]["address"],
            json!({"city": "San Francisco"})
        );
        assert_eq!(
            pages["contact"]["form"]["fields"][2]["type"],
            json!("textarea")
        );
    }

    #[test]
    fn the_contact_email_prefers_the_support_email() {
        let mut store = store();
        store.support_email = Some("help@example.com".to_owned());
        let pages = build_pages(&store, &[], &HashMap::new());
        assert_eq!(pages["contact"]["email"], json!("help@example.com"));
    }

    #[test]
    fn a_stub_store_has_null_fields_and_no_payment_methods() {
        let stub = stores::stub("acct_1", true, DateTime::UNIX_EPOCH);
        let pages = build_pages(&stub, &[], &HashMap::new());
        assert_eq!(pages["home"]["hero"]["title"], Value::Null);
        assert_eq!(
            build_payment_settings(&stub),
            json!({"stripe_enabled": false, "currency": null, "country": null,
                   "payment_methods": []})
        );
    }

    #[test]
    fn featured_products_are_the_eight_newest_active_ones() {
        let mut products: Vec<product::Model> = (0..10)
            .map(|n| product(&format!("prod_{n}"), "Shirt", 100 + n, None))
            .collect();
        products.push(product("prod_a", "Tie", 109, None)); // ties with prod_9 on `created`
        products[9].active = false;
        let mut unknown = product("prod_old", "Old", 0, None);
        unknown.created = None;
        products.push(unknown);

        let pages = build_pages(&store(), &products, &HashMap::new());
        assert_eq!(
            ids(&pages["home"]["featured_products"]),
            [
                "prod_a", "prod_8", "prod_7", "prod_6", "prod_5", "prod_4", "prod_3", "prod_2"
            ]
        );
    }

    #[test]
    fn categories_are_sorted_and_products_sorted_by_name_then_id() {
        let products = [
            product("prod_3", "Beanie", 1, Some("Hats")),
            product("prod_2", "Tee", 1, None),
            product("prod_1", "Cap", 1, Some("Hats")),
            product("prod_0", "Beanie", 1, Some("Hats")),
            product("prod_4", "Apron", 1, Some("Aprons")),
        ];
        let pages = build_pages(&store(), &products, &HashMap::new());
        let categories = pages["products"]["categories"].as_array().expect("list");
        let names: Vec<&str> = categories
            .iter()
            .map(|category| category["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["All", "Aprons", "Hats"]);
        assert_eq!(
            ids(&categories[2]["products"]),
            ["prod_0", "prod_3", "prod_1"]
        );
    }

    #[test]
    fn a_product_summary_shows_its_first_image_and_live_default_price() {
        let products = [
            product("prod_1", "Tee", 3, None),
            product("prod_2", "Cap", 2, None),
            product("prod_3", "Mug", 1, None),
        ];
        let prices: HashMap<String, price::Model> = [
            price("price_prod_1", Some(2000), false),
            price("price_prod_2", Some(900), true),
        ]
        .into_iter()
        .map(|price| (price.id.clone(), price))
        .collect();
        let pages = build_pages(&store(), &products, &prices);
        let featured = &pages["home"]["featured_products"];
        assert_eq!(
            featured[0],
            json!({"id": "prod_1", "name": "Tee", "description": null,
                   "image": "https://img/prod_1.png",
                   "price": {"amount": 2000, "currency": "usd", "interval": null,
                             "interval_count": null}})
        );
        assert_eq!(
            featured[1]["price"],
            Value::Null,
            "a deleted price is no price"
        );
        assert_eq!(
            featured[2]["price"],
            Value::Null,
            "an unknown price is no price"
        );
    }

    #[test]
    fn home_features_the_eight_newest_products() {
        let products: Vec<product::Model> = (1..=10)
            .map(|n| product(&format!("prod_{n}"), "Tee", n, None))
            .collect();
        let pages = build_pages(&store(), &products, &HashMap::new());
        let featured: Vec<&str> = pages["home"]["featured_products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|product| product["id"].as_str().unwrap())
            .collect();
        assert_eq!(featured.len(), FEATURED_PRODUCTS);
        assert_eq!(featured.first(), Some(&"prod_10"), "newest first");
        assert!(!featured.contains(&"prod_1") && !featured.contains(&"prod_2"));
    }

    #[test]
    fn pages_do_not_depend_on_the_order_of_the_rows() {
        let mut products = vec![
            product("prod_1", "Tee", 3, Some("Shirts")),
            product("prod_2", "Tee", 3, Some("Shirts")),
            product("prod_3", "Cap", 5, None),
        ];
        let expected = build_pages(&store(), &products, &HashMap::new());
        products.reverse();
        assert_eq!(build_pages(&store(), &products, &HashMap::new()), expected);
    }

    #[test]
    fn payment_methods_are_the_active_payment_capabilities() {
        assert_eq!(
            build_payment_settings(&store()),
            json!({"stripe_enabled": true, "currency": "usd", "country": "US",
                   "payment_methods": ["card", "us_bank_account_ach"]})
        );
    }

    #[test]
    fn a_disconnected_store_shows_payments_disabled() {
        let mut store = store();
        store.disconnected = true;
        assert_eq!(
            build_payment_settings(&store),
            json!({"stripe_enabled": false, "currency": "usd", "country": "US",
                   "payment_methods": []})
        );
    }
}
