//! `product.*` and `price.*` events: the `marketplace_products` and `marketplace_prices`
//! rows.
//!
//! Both are version-guarded and deleted by tombstone (see [`super::version`]). A product
//! names its default price by id only; the price is looked up when read
//! ([`default_price_in`]), so product and price events may arrive in either order. `active`
//! is stored as "the object says active and no deletion is known", which a late update
//! cannot undo. A batch that changes the catalogue rebuilds the store's pages once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{price, product};
use serde_json::Value;

use super::version;
use super::{DomainError, EventRef};
use crate::stripe::object::{bool_field, expandable_id, i64_field, json_field, str_at, str_field};

/// The product metadata key holding its storefront category (the catalogue import writes
/// it).
pub const CATEGORY_METADATA_KEY: &str = "category";

/// The default price of `product` among `prices`: known and not deleted.
///
/// A product that names no default price (every product read with an API version before
/// 2022-08-01, which had no `default_price`) shows its earliest active price instead.
pub fn default_price_in<'a>(
    product: &product::Model,
    prices: &'a HashMap<String, price::Model>,
) -> Option<&'a price::Model> {
    let Some(id) = product.default_price.as_deref() else {
        return prices
            .values()
            .filter(|price| price.product.as_deref() == Some(product.id.as_str()))
            .filter(|price| price.active && price.deleted_at.is_none())
            .min_by_key(|price| (price.created, &price.id));
    };
    let price = prices.get(id)?;
    price.deleted_at.is_none().then_some(price)
}

/// The ids of the products that name no default price (see [`default_price_in`]).
pub fn without_default_price<'a>(
    products: impl IntoIterator<Item = &'a product::Model>,
) -> Vec<&'a str> {
    products
        .into_iter()
        .filter(|product| product.default_price.is_none())
        .map(|product| product.id.as_str())
        .collect()
}

version::impl_guarded!(product::Model, on_delete: |row| row.active = false);
version::impl_guarded!(price::Model, on_delete: |row| row.active = false);

/// The product row after `event`, or `None` when the row holds a newer version.
pub fn next_product(
    row: product::Model,
    event: &EventRef<'_>,
) -> Result<Option<product::Model>, DomainError> {
    let object = event.object;
    version::next_row(row, event, |row| {
        row.name = str_field(object, "name");
        row.description = str_field(object, "description");
        row.images = json_field(object, "images").filter(Value::is_array);
        row.active = is_active(object, row.deleted_at);
        row.category = str_at(object, "/metadata/category");
        row.default_price = expandable_id(object, "default_price");
        row.metadata = json_field(object, "metadata");
        row.created = i64_field(object, "created");
    })
}

/// The price row after `event`, or `None` when the row holds a newer version. Prices
/// cannot be deleted through the API; a `price.deleted` is treated as an archive.
pub fn next_price(
    row: price::Model,
    event: &EventRef<'_>,
) -> Result<Option<price::Model>, DomainError> {
    let object = event.object;
    version::next_row(row, event, |row| {
        row.product = expandable_id(object, "product");
        row.unit_amount = i64_field(object, "unit_amount");
        row.currency = str_field(object, "currency");
        row.price_type = str_field(object, "type");
        row.recurring = json_field(object, "recurring");
        row.active = is_active(object, row.deleted_at);
        row.metadata = json_field(object, "metadata");
        row.created = i64_field(object, "created");
    })
}

/// Active as the object says (Stripe's default is active), unless a deletion is known:
/// so a deleted object stays inactive whichever of the two events came last.
fn is_active(object: &Value, deleted_at: Option<DateTime<Utc>>) -> bool {
    bool_field(object, "active").unwrap_or(true) && deleted_at.is_none()
}

/// A product row holding only its key: the start of every new row.
pub fn blank_product(event: &EventRef<'_>, id: String, now: DateTime<Utc>) -> product::Model {
    product::Model {
        pk: 0,
        store_key: event.store_key.to_owned(),
        livemode: event.livemode,
        id,
        name: None,
        description: None,
        images: None,
        active: false,
        category: None,
        default_price: None,
        metadata: None,
        created: None,
        deleted_at: None,
        version: 0,
        version_event: None,
        created_at: now,
        updated_at: now,
    }
}

/// A price row holding only its key: the start of every new row.
pub fn blank_price(event: &EventRef<'_>, id: String, now: DateTime<Utc>) -> price::Model {
    price::Model {
        pk: 0,
        store_key: event.store_key.to_owned(),
        livemode: event.livemode,
        id,
        product: None,
        unit_amount: None,
        currency: None,
        price_type: None,
        recurring: None,
        active: false,
        metadata: None,
        created: None,
        deleted_at: None,
        version: 0,
        version_event: None,
        created_at: now,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    type Event = (String, String, i64, Value);

    fn fixture(text: &str) -> Event {
        let event: Value = serde_json::from_str(text).expect("fixture is JSON");
        (
            event["id"].as_str().expect("id").to_owned(),
            event["type"].as_str().expect("type").to_owned(),
            event["created"].as_i64().expect("created"),
            event["data"]["object"].clone(),
        )
    }

    fn product_events() -> Vec<Event> {
        vec![
            fixture(include_str!("../../tests/data/stripe/product.created.json")),
            fixture(include_str!("../../tests/data/stripe/product.updated.json")),
            fixture(include_str!("../../tests/data/stripe/product.deleted.json")),
        ]
    }

    fn price_events() -> Vec<Event> {
        vec![
            fixture(include_str!("../../tests/data/stripe/price.created.json")),
            fixture(include_str!("../../tests/data/stripe/price.updated.json")),
            fixture(include_str!("../../tests/data/stripe/price.deleted.json")),
        ]
    }

    fn event_ref(event: &Event) -> EventRef<'_> {
        EventRef {
            id: &event.0,
            event_type: &event.1,
            store_key: "acct_1",
            livemode: false,
            created: event.2,
            api_version: None,
            object: &event.3,
        }
    }

    /// Applies `events` in order through `next`, as `apply` does against the table.
    fn replay<M: Clone>(
        events: &[Event],
        blank: fn(&EventRef<'_>, String, DateTime<Utc>) -> M,
        next: fn(M, &EventRef<'_>) -> Result<Option<M>, DomainError>,
    ) -> Option<M> {
        let mut row: Option<M> = None;
        for event in events {
            let event = event_ref(event);
            let current = row.clone().unwrap_or_else(|| {
                let id = crate::domain::object_id(event.object, "object").expect("id");
                blank(&event, id, DateTime::UNIX_EPOCH)
            });
            if let Some(updated) = next(current, &event).expect("valid") {
                row = Some(updated);
            }
        }
        row
    }

    fn final_product(events: &[Event]) -> Option<product::Model> {
        replay(events, blank_product, next_product)
    }

    fn final_price(events: &[Event]) -> Option<price::Model> {
        replay(events, blank_price, next_price)
    }

    #[test]
    fn a_product_update_sets_every_field() {
        let row = final_product(&product_events()[..2]).expect("row");
        assert_eq!(row.name.as_deref(), Some("T-shirt"));
        assert_eq!(
            row.description.as_deref(),
            Some("Comfortable gray cotton t-shirt")
        );
        assert_eq!(row.images, Some(json!([])));
        assert!(row.active);
        assert_eq!(row.category, None);
        assert_eq!(
            row.default_price.as_deref(),
            Some("price_1PgafmB7WZ01zgkW02Hf9z6c")
        );
        assert_eq!(row.metadata, Some(json!({"foo": "bar"})));
        assert_eq!(row.created, Some(1_721_948_520));
        assert_eq!(row.version, 1_721_948_800);
    }

    #[test]
    fn any_order_of_product_events_gives_the_same_inactive_row() {
        let mut events = product_events();
        events.push(events[0].clone());
        let expected = final_product(&events).expect("row");
        assert!(!expected.active);
        assert_eq!(expected.name.as_deref(), Some("T-shirt"));
        assert_eq!(expected.metadata, Some(json!({"foo": "bar"})));
        assert!(expected.deleted_at.is_some());
        for order in version::permutations(&events) {
            assert_eq!(final_product(&order).as_ref(), Some(&expected));
        }
    }

    #[test]
    fn a_price_update_sets_every_field() {
        let row = final_price(&price_events()[..2]).expect("row");
        assert_eq!(row.product.as_deref(), Some("prod_QXg1hqf4jFNsqG"));
        assert_eq!(row.unit_amount, Some(2000));
        assert_eq!(row.currency.as_deref(), Some("usd"));
        assert_eq!(row.price_type.as_deref(), Some("recurring"));
        assert_eq!(
            row.recurring.as_ref().and_then(|r| r.get("interval")),
            Some(&json!("month"))
        );
        assert!(row.active);
        assert_eq!(row.metadata, Some(json!({"foo": "bar"})));
    }

    #[test]
    fn any_order_of_price_events_gives_the_same_archived_row() {
        let mut events = price_events();
        events.push(events[2].clone());
        let expected = final_price(&events).expect("row");
        assert!(!expected.active);
        assert_eq!(expected.unit_amount, Some(2000));
        for order in version::permutations(&events) {
            assert_eq!(final_price(&order).as_ref(), Some(&expected));
        }
    }

    #[test]
    fn expanded_references_and_categories_are_read() {
        let event = (
            "evt_1".to_owned(),
            "product.created".to_owned(),
            10,
            json!({
                "id": "prod_1",
                "default_price": {"id": "price_9", "object": "price"},
                "metadata": {"category": "Shirts"},
                "images": "not a list",
            }),
        );
        let row = final_product(&[event]).expect("row");
        assert_eq!(row.default_price.as_deref(), Some("price_9"));
        assert_eq!(row.category.as_deref(), Some("Shirts"));
        assert_eq!(row.images, None);
        assert!(row.active, "missing active means active");
        assert_eq!(row.version, 10);
    }

    #[test]
    fn a_product_without_an_id_is_invalid() {
        assert!(crate::domain::object_id(&json!({"object": "product"}), "product").is_err());
    }

    #[test]
    fn the_default_price_must_exist_and_not_be_deleted() {
        let mut events = product_events();
        events.truncate(1);
        let mut product = final_product(&events).expect("row");
        product.default_price = Some("price_1PgafmB7WZ01zgkW6dKueIc5".to_owned());
        let live = final_price(&price_events()[..1]).expect("row");
        let archived = final_price(&price_events()).expect("row");

        let mut prices = HashMap::new();
        assert!(default_price_in(&product, &prices).is_none());
        prices.insert(live.id.clone(), live.clone());
        assert_eq!(default_price_in(&product, &prices), Some(&live));
        prices.insert(archived.id.clone(), archived);
        assert!(default_price_in(&product, &prices).is_none());
        product.default_price = None;
        assert!(default_price_in(&product, &prices).is_none());
    }

    #[test]
    fn a_product_without_a_default_price_shows_its_earliest_active_price() {
        let mut product = final_product(&product_events()[..1]).expect("row");
        product.default_price = None;
        let price = |id: &str, created: i64, active: bool| {
            let mut price = final_price(&price_events()[..1]).expect("row");
            (price.id, price.created, price.active) = (id.to_owned(), Some(created), active);
            price.product = Some(product.id.clone());
            (id.to_owned(), price)
        };
        let mut prices = HashMap::from([
            price("price_old_archived", 100, false),
            price("price_b", 200, true),
            price("price_a", 200, true),
            price("price_late", 300, true),
        ]);
        let mut other = price("price_other", 50, true).1;
        other.product = Some("prod_other".to_owned());
        prices.insert(other.id.clone(), other);
        let shown = default_price_in(&product, &prices).expect("a price");
        assert_eq!(shown.id, "price_a");
        assert_eq!(
            without_default_price(std::slice::from_ref(&product)),
            [product.id.clone()]
        );
    }
}
