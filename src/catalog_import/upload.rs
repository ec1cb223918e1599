//! One row to Stripe, on the connected account: the Product under an id derived from the
//! store and the row's identity (so a re-import finds it), and its default Price.
//!
//! - No product with that id: one `POST /v1/products` with `default_price_data`.
//! - A product: it is updated (`POST /v1/products/{id}`) only with the fields that differ;
//!   a default price of another amount, currency or interval is replaced by a new Price
//!   (Stripe's prices cannot change), made the default, and the old one is archived.
//! - Nothing differs: two reads and no write.
//!
//! Every POST's `Idempotency-Key` names what it creates or changes and from what state, so a
//! retried command (a crash, a timeout) replays Stripe's first answer instead of doing it
//! twice, while a later change back to an earlier value is a new key.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::rows::{Identity, Row};
use crate::domain::catalog::CATEGORY_METADATA_KEY;
use crate::stripe::api::{Client, StripeError};

/// A GET without parameters.
const NO_QUERY: [(&str, &str); 0] = [];

/// Form parameters, in Stripe's bracket notation (`metadata[category]`).
type Form = Vec<(String, String)>;

/// What a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Updated,
    Unchanged,
    Failed,
}

/// The product and price a row left on Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub status: Status,
    pub product: String,
    pub price: Option<String>,
}

/// The product id of `identity` in `store`: readable (`prod_imp_blue-mug_…`) and stable,
/// the hash telling apart identities that read alike.
pub fn product_id(store: &str, identity: &Identity) -> String {
    let (kind, key) = match identity {
        Identity::Sku(sku) => ("sku", sku.as_str()),
        Identity::Name(name) => ("name", name.as_str()),
    };
    let hash = digest(&[store, kind, key]);
    let mut slug = String::new();
    for c in key.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(24).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("prod_imp_{}", &hash[..16])
    } else {
        format!("prod_imp_{slug}_{}", &hash[..12])
    }
}

/// Hex SHA-256 of the parts, separated so that `("ab", "c")` and `("a", "bc")` differ.
fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The key of a POST: what it does, to which object, and a hash of its form and of the
/// state it starts from.
fn idempotency_key(store: &str, action: &str, object: &str, form: &Form, from: &str) -> String {
    let mut parts: Vec<&str> = vec![from];
    for (key, value) in form {
        parts.push(key);
        parts.push(value);
    }
    let hash = digest(&parts);
    format!("import-{store}-{object}-{action}-{}", &hash[..24])
}

/// Uploads `row` to `store`, creating, updating or leaving its product and price.
pub async fn upload(client: &Client, store: &str, row: &Row) -> Result<Uploaded, StripeError> {
    let id = product_id(store, &row.identity);
    match client
        .get::<Value>(&format!("/v1/products/{id}"), &NO_QUERY, Some(store))
        .await
    {
        Ok(product) => update(client, store, row, &product).await,
        Err(StripeError::Api { status: 404, .. }) => create(client, store, row, &id).await,
        Err(err) => Err(err),
    }
}

async fn create(
    client: &Client,
    store: &str,
    row: &Row,
    id: &str,
) -> Result<Uploaded, StripeError> {
    let mut form: Form = vec![("id".into(), id.into()), ("name".into(), row.name.clone())];
    if let Some(description) = &row.description {
        form.push(("description".into(), description.clone()));
    }
    for (at, image) in row.images.iter().enumerate() {
        form.push((format!("images[{at}]"), image.clone()));
    }
    if let Some(category) = &row.category {
        form.push((
            format!("metadata[{CATEGORY_METADATA_KEY}]"),
            category.clone(),
        ));
    }
    for (key, value) in price_form(row) {
        form.push((format!("default_price_data{}", bracketed(&key)), value));
    }
    let key = idempotency_key(store, "create", id, &form, "");
    let product: Value = client
        .post("/v1/products", &form, Some(store), &key)
        .await?;
    Ok(Uploaded {
        status: Status::Created,
        product: id.to_owned(),
        price: price_id(&product["default_price"]),
    })
}

/// `recurring[interval]` → `[recurring][interval]`, to nest under another parameter.
fn bracketed(key: &str) -> String {
    match key.split_once('[') {
        Some((head, rest)) => format!("[{head}][{rest}"),
        None => format!("[{key}]"),
    }
}

/// A price's own parameters (`currency`, `unit_amount`, `recurring[interval]`).
fn price_form(row: &Row) -> Form {
    let mut form: Form = vec![
        ("currency".into(), row.currency.clone()),
        ("unit_amount".into(), row.unit_amount.to_string()),
    ];
    if let Some(interval) = row.interval {
        form.push(("recurring[interval]".into(), interval.as_str().into()));
    }
    form
}

/// The id of an expandable field: the id itself, or the expanded object's.
fn price_id(field: &Value) -> Option<String> {
    field
        .as_str()
        .or_else(|| field["id"].as_str())
        .map(str::to_owned)
}

async fn update(
    client: &Client,
    store: &str,
    row: &Row,
    product: &Value,
) -> Result<Uploaded, StripeError> {
    let id = product["id"].as_str().unwrap_or_default().to_owned();
    let mut form = product_changes(row, product);
    let current = match price_id(&product["default_price"]) {
        Some(price) => Some(
            client
                .get::<Value>(&format!("/v1/prices/{price}"), &NO_QUERY, Some(store))
                .await?,
        ),
        None => None,
    };
    let current_id = current.as_ref().and_then(|price| price_id(&price["id"]));
    let mut price = current_id.clone();
    let replace = !current.as_ref().is_some_and(|p| same_price(row, p));
    if replace {
        let mut price_form = price_form(row);
        price_form.push(("product".into(), id.clone()));
        let from = current_id.as_deref().unwrap_or("none");
        let key = idempotency_key(store, "price", &id, &price_form, from);
        let created: Value = client
            .post("/v1/prices", &price_form, Some(store), &key)
            .await?;
        price = price_id(&created["id"]);
        if let Some(new) = &price {
            form.push(("default_price".into(), new.clone()));
        }
    }
    if !form.is_empty() {
        // From the product's `updated`: a retry of this change has the same key, a later
        // change back to earlier values does not.
        let from = product["updated"].to_string();
        let key = idempotency_key(store, "update", &id, &form, &from);
        let path = format!("/v1/products/{id}");
        client
            .post::<Value>(&path, &form, Some(store), &key)
            .await?;
    }
    if let (true, Some(old)) = (replace, current.as_ref()) {
        archive(client, store, old).await?;
    }
    Ok(Uploaded {
        status: if form.is_empty() {
            Status::Unchanged
        } else {
            Status::Updated
        },
        product: id,
        price,
    })
}

/// Archives a replaced default price (Stripe keeps prices; an archived one sells no more).
async fn archive(client: &Client, store: &str, price: &Value) -> Result<(), StripeError> {
    let Some(id) = price["id"].as_str().filter(|_| price["active"] == true) else {
        return Ok(());
    };
    let form: Form = vec![("active".into(), "false".into())];
    let key = idempotency_key(store, "archive", id, &form, "");
    let path = format!("/v1/prices/{id}");
    client
        .post::<Value>(&path, &form, Some(store), &key)
        .await?;
    Ok(())
}

/// Whether `price` (a Stripe Price) is what `row` asks for, and still sells.
fn same_price(row: &Row, price: &Value) -> bool {
    let interval = price["recurring"]["interval"].as_str();
    let count = price["recurring"]["interval_count"].as_i64().unwrap_or(1);
    price["active"] == true
        && price["unit_amount"].as_i64() == Some(row.unit_amount)
        && price["currency"].as_str() == Some(row.currency.as_str())
        && interval == row.interval.map(|i| i.as_str())
        && count == 1
}

/// The parameters that bring `product` to `row`: only those that differ (an empty value
/// clears a field or a metadata key, as Stripe reads it).
fn product_changes(row: &Row, product: &Value) -> Form {
    let mut form = Form::new();
    if product["name"].as_str() != Some(row.name.as_str()) {
        form.push(("name".into(), row.name.clone()));
    }
    let description = product["description"].as_str().filter(|d| !d.is_empty());
    if description != row.description.as_deref() {
        form.push((
            "description".into(),
            row.description.clone().unwrap_or_default(),
        ));
    }
    let images: Vec<&str> = product["images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if images != row.images.iter().map(String::as_str).collect::<Vec<_>>() {
        if row.images.is_empty() {
            form.push(("images".into(), String::new()));
        }
        for (at, image) in row.images.iter().enumerate() {
            form.push((format!("images[{at}]"), image.clone()));
        }
    }
    let category = product["metadata"][CATEGORY_METADATA_KEY].as_str();
    if category != row.category.as_deref() {
        let key = format!("metadata[{CATEGORY_METADATA_KEY}]");
        form.push((key, row.category.clone().unwrap_or_default()));
    }
    if product["active"] != true {
        form.push(("active".into(), "true".into()));
    }
    form
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog_import::rows::Interval;

    fn row() -> Row {
        Row {
            line: 2,
            identity: Identity::Sku("MUG-1".into()),
            name: "Blue mug".into(),
            description: Some("Stoneware".into()),
            images: vec!["https://img.example/mug.png".into()],
            category: Some("Kitchen".into()),
            unit_amount: 1250,
            currency: "usd".into(),
            interval: None,
        }
    }

    #[test]
    fn product_ids_are_stable_readable_and_differ_by_store_and_identity() {
        let sku = Identity::Sku("MUG-1".into());
        let id = product_id("acct_1", &sku);
        assert!(id.starts_with("prod_imp_mug-1_"), "{id}");
        assert_eq!(id, product_id("acct_1", &sku));
        assert_ne!(id, product_id("acct_2", &sku));
        assert_ne!(id, product_id("acct_1", &Identity::Name("mug-1".into())));
        assert_ne!(
            product_id("acct_1", &Identity::Sku("a b".into())),
            product_id("acct_1", &Identity::Sku("a-b".into()))
        );
        let odd = product_id("acct_1", &Identity::Sku("ü/#".into()));
        assert!(odd.starts_with("prod_imp_") && odd.is_ascii(), "{odd}");
        assert!(!odd.contains("__") && !odd.contains('/'), "{odd}");
    }

    #[test]
    fn an_unchanged_product_needs_no_parameter_and_a_changed_one_only_its_changes() {
        let product = json!({
            "id": "prod_1", "name": "Blue mug", "description": "Stoneware", "active": true,
            "images": ["https://img.example/mug.png"], "metadata": {"category": "Kitchen"},
        });
        assert!(product_changes(&row(), &product).is_empty());
        let mut changed = row();
        changed.description = None;
        changed.images.clear();
        changed.category = Some("Home".into());
        let form = product_changes(&changed, &product);
        assert_eq!(
            form,
            vec![
                ("description".into(), String::new()),
                ("images".into(), String::new()),
                ("metadata[category]".into(), "Home".into()),
            ]
        );
        let archived = json!({"name": "Blue mug", "active": false});
        assert!(product_changes(&changed, &archived).contains(&("active".into(), "true".into())));
    }

    #[test]
    fn a_price_is_the_same_only_with_the_same_amount_currency_and_interval() {
        let price = json!({"id": "price_1", "active": true, "unit_amount": 1250,
                           "currency": "usd", "recurring": null});
        assert!(same_price(&row(), &price));
        let mut monthly = row();
        monthly.interval = Some(Interval::Month);
        assert!(!same_price(&monthly, &price));
        let recurring = json!({"id": "price_2", "active": true, "unit_amount": 1250,
            "currency": "usd", "recurring": {"interval": "month", "interval_count": 1}});
        assert!(same_price(&monthly, &recurring));
        let mut dearer = row();
        dearer.unit_amount = 1300;
        assert!(!same_price(&dearer, &price));
        assert!(!same_price(
            &row(),
            &json!({"active": false, "unit_amount": 1250, "currency": "usd"})
        ));
    }

    #[test]
    fn keys_name_the_object_and_change_with_the_content_and_the_starting_state() {
        let form: Form = vec![("name".into(), "A".into())];
        let key = idempotency_key("acct_1", "update", "prod_1", &form, "100");
        assert!(key.starts_with("import-acct_1-prod_1-update-"), "{key}");
        assert_eq!(
            key,
            idempotency_key("acct_1", "update", "prod_1", &form, "100")
        );
        assert_ne!(
            key,
            idempotency_key("acct_1", "update", "prod_1", &form, "200")
        );
        let other: Form = vec![("name".into(), "B".into())];
        assert_ne!(
            key,
            idempotency_key("acct_1", "update", "prod_1", &other, "100")
        );
        assert!(key.len() < 255, "Stripe's limit");
    }

    #[test]
    fn nested_price_parameters_go_under_default_price_data() {
        assert_eq!(bracketed("currency"), "[currency]");
        assert_eq!(bracketed("recurring[interval]"), "[recurring][interval]");
    }
}
