//! The lines of an order, as paid.
//!
//! Stripe keeps no cart on a PaymentIntent, so a platform says what was bought in
//! `metadata.items`, in one of two forms (metadata values are strings of at most 500
//! characters, which bounds a cart to about 8 lines in the JSON form and about 20 in the
//! compact one):
//! - JSON: `[{"price": "price_...", "quantity": 2, "unit_amount": 1500, "currency": "usd"}]`,
//!   each line naming a `price` or a `product`; `unit_amount` and `currency` record the
//!   price as paid and are optional;
//! - compact: `price_...:2,prod_...:1` (an id and a quantity per line).
//!
//! A Checkout Session's `line_items`, when the payload carries them expanded, take
//! precedence: they hold the price as paid.

use serde_json::{Map, Value, json};

use crate::stripe::object::{i64_field, str_field};

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub product: Option<String>,
    pub price: Option<String>,
    pub quantity: i64,
    /// The unit price as paid, when the payload says it.
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
    /// The line's description as paid (Checkout line items).
    pub name: Option<String>,
}

/// The lines of `metadata.items`; `None` when there is none or no line is well formed.
pub fn from_metadata(object: &Value) -> Option<Vec<Item>> {
    let text = object.pointer("/metadata/items")?.as_str()?.trim();
    if text.starts_with('[') {
        from_list(&serde_json::from_str(text).ok()?)
    } else {
        non_empty(text.split(',').filter_map(compact_line).collect())
    }
}

/// The well-formed lines of a JSON list.
pub fn from_list(list: &Value) -> Option<Vec<Item>> {
    non_empty(list.as_array()?.iter().filter_map(json_line).collect())
}

/// The lines of a Checkout Session's expanded `line_items`.
pub fn from_line_items(session: &Value) -> Option<Vec<Item>> {
    let lines = session.pointer("/line_items/data")?.as_array()?;
    non_empty(lines.iter().filter_map(checkout_line).collect())
}

/// The stored form of the lines: only the fields each line has.
pub fn to_json(items: Vec<Item>) -> Value {
    let lines = items.into_iter().map(|item| {
        let mut line = Map::new();
        let text = [
            ("product", item.product),
            ("price", item.price),
            ("currency", item.currency),
            ("name", item.name),
        ];
        for (key, value) in text {
            if let Some(value) = value {
                line.insert(key.to_owned(), json!(value));
            }
        }
        line.insert("quantity".to_owned(), json!(item.quantity));
        if let Some(unit_amount) = item.unit_amount {
            line.insert("unit_amount".to_owned(), json!(unit_amount));
        }
        Value::Object(line)
    });
    Value::Array(lines.collect())
}

fn non_empty(items: Vec<Item>) -> Option<Vec<Item>> {
    (!items.is_empty()).then_some(items)
}

fn id_field(line: &Value, key: &str, prefix: &str) -> Option<String> {
    let value = line.get(key)?;
    let id = value.as_str().or_else(|| value.get("id")?.as_str())?;
    id.starts_with(prefix).then(|| id.to_owned())
}

fn positive_quantity(line: &Value) -> Option<i64> {
    line.get("quantity")?
        .as_i64()
        .filter(|quantity| *quantity > 0)
}

fn json_line(line: &Value) -> Option<Item> {
    let product = line
        .get("product")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let price = id_field(line, "price", "price_").or_else(|| id_field(line, "price", "plan_"));
    if product.is_none() && price.is_none() {
        return None;
    }
    Some(Item {
        product,
        price,
        quantity: positive_quantity(line)?,
        unit_amount: i64_field(line, "unit_amount"),
        currency: str_field(line, "currency"),
        name: None,
    })
}

fn compact_line(line: &str) -> Option<Item> {
    let (id, quantity) = line.trim().split_once(':')?;
    let quantity = quantity.trim().parse::<i64>().ok().filter(|q| *q > 0)?;
    let id = id.trim().to_owned();
    let (product, price) = if id.starts_with("prod_") {
        (Some(id), None)
    } else if id.starts_with("price_") {
        (None, Some(id))
    } else {
        return None;
    };
    Some(Item {
        product,
        price,
        quantity,
        unit_amount: None,
        currency: None,
        name: None,
    })
}

fn checkout_line(line: &Value) -> Option<Item> {
    let price = line.get("price").filter(|price| price.is_object());
    Some(Item {
        product: price.and_then(|p| {
            let product = p.get("product")?;
            product
                .as_str()
                .or_else(|| product.get("id")?.as_str())
                .map(str::to_owned)
        }),
        price: id_field(line, "price", "price_"),
        quantity: positive_quantity(line)?,
        unit_amount: price.and_then(|p| i64_field(p, "unit_amount")),
        currency: price
            .and_then(|p| str_field(p, "currency"))
            .or_else(|| str_field(line, "currency")),
        name: str_field(line, "description"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(text: &str) -> Option<Vec<Item>> {
        from_metadata(&json!({"metadata": {"items": text}}))
    }

    fn line(product: Option<&str>, price: Option<&str>, quantity: i64) -> Item {
        Item {
            product: product.map(str::to_owned),
            price: price.map(str::to_owned),
            quantity,
            unit_amount: None,
            currency: None,
            name: None,
        }
    }

    #[test]
    fn json_lines_keep_only_well_formed_entries() {
        let items = metadata(
            r#"[{"product":"prod_1","quantity":2,"name":"x"},{"product":"prod_2"},
                {"product":"prod_3","quantity":0},{"product":"prod_4","quantity":1.5},
                {"product":5,"quantity":1},"junk",{"product":"prod_5","quantity":"2"},
                {"price":"price_1","quantity":1,"unit_amount":1500,"currency":"eur"}]"#,
        )
        .expect("items");
        let mut priced = line(None, Some("price_1"), 1);
        priced.unit_amount = Some(1500);
        priced.currency = Some("eur".to_owned());
        assert_eq!(items, vec![line(Some("prod_1"), None, 2), priced]);
        assert_eq!(metadata("not json"), None);
        assert_eq!(metadata("[]"), None);
        assert_eq!(from_metadata(&json!({"metadata": {"items": [1]}})), None);
    }

    #[test]
    fn the_compact_form_names_prices_and_products() {
        assert_eq!(
            metadata("price_1:2, prod_9:1,junk:3,price_2:0,price_3:x"),
            Some(vec![
                line(None, Some("price_1"), 2),
                line(Some("prod_9"), None, 1)
            ])
        );
    }

    #[test]
    fn checkout_line_items_hold_the_price_as_paid() {
        let session = json!({"line_items": {"data": [{
            "description": "T-shirt", "quantity": 3, "currency": "usd",
            "price": {"id": "price_1", "product": "prod_1", "unit_amount": 2000, "currency": "usd"}
        }]}});
        let items = from_line_items(&session).expect("lines");
        assert_eq!(items[0].unit_amount, Some(2000));
        assert_eq!(items[0].name.as_deref(), Some("T-shirt"));
        assert_eq!(
            to_json(items),
            json!([{"product": "prod_1", "price": "price_1", "quantity": 3,
                    "unit_amount": 2000, "currency": "usd", "name": "T-shirt"}])
        );
    }
}
