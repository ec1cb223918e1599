//! Products and prices: create (a product may name its own `id`), update, retrieve and
//! list, each change sent as Stripe sends it (`product.created`, `price.updated`, ...).
//! Prices are immutable but for `active`, `metadata`, `nickname` and `lookup_key`, as on
//! Stripe.

use serde_json::{Value, json};

use super::events::{emit, emit_changed, list};
use super::{Answer, Call, Fail, State, now};

const OBJECTS: &str = include_str!("../../data/stripe-openapi/catalog-objects.json");

/// Stripe's example of the object `name` (`product`, `price`, `customer`).
pub fn example(name: &str) -> Value {
    let objects: Value = serde_json::from_str(OBJECTS).unwrap();
    objects[name].clone()
}

pub fn route(state: &mut State, call: &Call<'_>) -> Option<Answer> {
    if let Some(rest) = call.rest("/v1/products") {
        return Some(match (call.method, rest.as_slice()) {
            ("POST", []) => create_product(state, call),
            ("POST", [id]) => update_product(state, call, id),
            ("GET", [id]) => retrieve(state, call, "product", id),
            ("GET", []) => list_kind(state, call, "product", "/v1/products"),
            _ => return None,
        });
    }
    if let Some(rest) = call.rest("/v1/prices") {
        return Some(match (call.method, rest.as_slice()) {
            ("POST", []) => create_price(state, call),
            ("POST", [id]) => update_price(state, call, id),
            ("GET", [id]) => retrieve(state, call, "price", id),
            ("GET", []) => list_kind(state, call, "price", "/v1/prices"),
            _ => return None,
        });
    }
    None
}

fn retrieve(state: &State, call: &Call<'_>, kind: &str, id: &str) -> Answer {
    state
        .object(call.account, id)
        .filter(|object| object["object"] == kind)
        .cloned()
        .ok_or_else(|| Fail::missing(kind, id))
}

/// A list of `kind`, filtered by `product` and `active` when given.
fn list_kind(state: &State, call: &Call<'_>, kind: &str, url: &str) -> Answer {
    let account = call.account.map(str::to_owned);
    let items: Vec<Value> = state
        .objects
        .iter()
        .filter(|((owner, _), object)| *owner == account && object["object"] == kind)
        .map(|(_, object)| object)
        .filter(|object| call.param("product").is_none_or(|p| object["product"] == p))
        .filter(|object| {
            call.param("active")
                .is_none_or(|active| object["active"].to_string() == active)
        })
        .cloned()
        .collect();
    list(items, call, url, kind)
}

fn text(params: &Value, key: &str) -> Option<String> {
    params[key].as_str().map(str::to_owned)
}

fn flag(params: &Value, key: &str) -> Result<Option<bool>, Fail> {
    match params[key].as_str() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Fail::invalid(
            "parameter_invalid_boolean",
            format!("Invalid boolean: {other}"),
        )),
    }
}

fn integer(params: &Value, key: &str) -> Result<Option<i64>, Fail> {
    match params[key].as_str() {
        None => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| {
            Fail::invalid(
                "parameter_invalid_integer",
                format!("Invalid integer: {value}"),
            )
        }),
    }
}

/// `metadata[key]=value` merged into `object.metadata`; an empty value deletes the key.
fn merge_metadata(object: &mut Value, params: &Value) {
    if let Some(metadata) = params["metadata"].as_object() {
        for (key, value) in metadata {
            if value.as_str() == Some("") {
                object["metadata"].as_object_mut().unwrap().remove(key);
            } else {
                object["metadata"][key] = value.clone();
            }
        }
    }
}

fn create_product(state: &mut State, call: &Call<'_>) -> Answer {
    let params = call.params;
    let name = text(params, "name")
        .filter(|name| !name.is_empty())
        .ok_or_else(|| Fail::invalid("parameter_missing", "Missing required param: name."))?;
    let id = match text(params, "id") {
        Some(id) if state.object(call.account, &id).is_some() => {
            return Err(Fail::invalid(
                "resource_already_exists",
                format!("Product already exists: '{id}'"),
            ));
        }
        Some(id) => id,
        None => state.new_id("prod"),
    };
    let mut product = example("product");
    let created = now();
    product["id"] = json!(id);
    product["name"] = json!(name);
    product["created"] = json!(created);
    product["updated"] = json!(created);
    product["default_price"] = Value::Null;
    product["package_dimensions"] = Value::Null;
    product["description"] = json!(text(params, "description"));
    product["images"] = params["images"].as_array().cloned().map_or(json!([]), Value::Array);
    product["active"] = json!(flag(params, "active")?.unwrap_or(true));
    product["metadata"] = json!({});
    merge_metadata(&mut product, params);
    state.put(call.account, product.clone());
    emit(state, call.account, "product.created", &product);
    if let Some(data) = params.get("default_price_data").filter(|d| d.is_object()) {
        let price = new_price(state, call, data, &id)?;
        product["default_price"] = price["id"].clone();
        state.put(call.account, product.clone());
        emit(state, call.account, "product.updated", &product);
    }
    Ok(product)
}

fn update_product(state: &mut State, call: &Call<'_>, id: &str) -> Answer {
    let params = call.params;
    let mut product = retrieve(state, call, "product", id)?;
    let before = product.clone();
    for key in ["name", "description"] {
        if let Some(value) = text(params, key) {
            product[key] = json!(value);
        }
    }
    if let Some(images) = params["images"].as_array() {
        product["images"] = Value::Array(images.clone());
    } else if params["images"].as_str() == Some("") {
        product["images"] = json!([]);
    }
    if let Some(active) = flag(params, "active")? {
        product["active"] = json!(active);
    }
    if let Some(price) = text(params, "default_price") {
        let belongs = state
            .object(call.account, &price)
            .is_some_and(|p| p["product"] == id && p["active"] == true);
        if !belongs {
            return Err(Fail::invalid(
                "resource_missing",
                format!("No such price: '{price}'"),
            ));
        }
        product["default_price"] = json!(price);
    }
    merge_metadata(&mut product, params);
    if product != before {
        product["updated"] = json!(now());
        state.put(call.account, product.clone());
        emit_updated(state, call.account, "product.updated", &product, &before);
    }
    Ok(product)
}

fn create_price(state: &mut State, call: &Call<'_>) -> Answer {
    let product = text(call.params, "product")
        .ok_or_else(|| Fail::invalid("parameter_missing", "Missing required param: product."))?;
    retrieve(state, call, "product", &product)?;
    new_price(state, call, call.params, &product)
}

/// A price of `product` from `data` (`currency`, `unit_amount`, `recurring[interval]`).
fn new_price(state: &mut State, call: &Call<'_>, data: &Value, product: &str) -> Answer {
    let currency = text(data, "currency")
        .filter(|c| c.len() == 3 && c.chars().all(|c| c.is_ascii_lowercase()))
        .ok_or_else(|| Fail::invalid("parameter_missing", "Missing required param: currency."))?;
    let unit_amount = integer(data, "unit_amount")?
        .filter(|amount| *amount >= 0)
        .ok_or_else(|| {
            Fail::invalid("parameter_missing", "Missing required param: unit_amount.")
        })?;
    let recurring = match data["recurring"]["interval"].as_str() {
        None => Value::Null,
        Some(interval @ ("day" | "week" | "month" | "year")) => json!({
            "interval": interval, "interval_count": 1, "meter": null,
            "usage_type": "licensed", "trial_period_days": null,
        }),
        Some(other) => {
            return Err(Fail::invalid(
                "parameter_invalid_string",
                format!("Invalid recurring[interval]: {other}"),
            ));
        }
    };
    let mut price = example("price");
    price["id"] = json!(state.new_id("price"));
    price["product"] = json!(product);
    price["created"] = json!(now());
    price["currency"] = json!(currency);
    price["unit_amount"] = json!(unit_amount);
    price["unit_amount_decimal"] = json!(unit_amount.to_string());
    price["type"] = json!(if recurring.is_null() { "one_time" } else { "recurring" });
    price["recurring"] = recurring;
    price["custom_unit_amount"] = Value::Null;
    price["transform_quantity"] = Value::Null;
    price["lookup_key"] = json!(text(data, "lookup_key"));
    price["nickname"] = json!(text(data, "nickname"));
    price["metadata"] = json!({});
    merge_metadata(&mut price, data);
    state.put(call.account, price.clone());
    emit(state, call.account, "price.created", &price);
    Ok(price)
}

fn update_price(state: &mut State, call: &Call<'_>, id: &str) -> Answer {
    let params = call.params;
    let mut price = retrieve(state, call, "price", id)?;
    let before = price.clone();
    for key in ["unit_amount", "currency", "recurring", "product"] {
        if !params[key].is_null() {
            return Err(Fail::invalid(
                "parameter_unknown",
                format!("Received unknown parameter: {key}"),
            ));
        }
    }
    if let Some(active) = flag(params, "active")? {
        price["active"] = json!(active);
    }
    for key in ["nickname", "lookup_key"] {
        if let Some(value) = text(params, key) {
            price[key] = json!(value);
        }
    }
    merge_metadata(&mut price, params);
    if price != before {
        state.put(call.account, price.clone());
        emit_updated(state, call.account, "price.updated", &price, &before);
    }
    Ok(price)
}

/// `*.updated`, which Stripe sends with the changed fields' old values.
fn emit_updated(state: &mut State, account: Option<&str>, kind: &str, now: &Value, before: &Value) {
    let previous: serde_json::Map<String, Value> = before
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, value)| now.get(key.as_str()) != Some(value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    emit_changed(state, account, kind, now, Some(Value::Object(previous)));
}
