//! Every admin read worth timing, derived from the service's OpenAPI document: each
//! documented `GET` route, bare and with each of its query parameters, with ids of rows a
//! seeded [`Plan`] holds. A parameter added to the API without a sample here is an error,
//! so the timings and the query-plan test cannot silently skip it.

use anyhow::{Context, bail};
use serde_json::Value;

use crate::plan::Plan;

/// Rows of a seeded plan that the requests name: mid-table rows of the largest store, so
/// that each filter matches both alone and narrowed to that store, and a cursor is in the
/// store's own lists too.
#[derive(Debug, Clone)]
pub struct Samples {
    /// The largest store (half of every table).
    pub big_store: String,
    /// One of the smallest stores.
    pub small_store: String,
    pub order: i64,
    /// The order's customer.
    pub customer: i64,
    pub product: i64,
    pub event: i64,
    /// The order's `created`: a range from it holds the newer (`gte`) or older (`lte`) half.
    pub created: i64,
    /// A `created` three quarters down the table: a range from it holds the samples, so a
    /// page after or before them has rows on both sides.
    pub range_start: i64,
    /// A store in the middle of the store list (a cursor with stores on both sides).
    pub mid_store: String,
    pub mid_store_index: i64,
}

impl Samples {
    pub fn of(plan: &Plan) -> Self {
        let in_big = |from: i64, to: i64, store: &dyn Fn(i64) -> i64| {
            (from..to).find(|k| store(*k) == 0).unwrap_or(from)
        };
        let order = in_big(plan.orders / 2, plan.orders, &|k| plan.order_store(k));
        Self {
            big_store: "acct_scale0".into(),
            small_store: format!("acct_scale{}", plan.stores - 1),
            order,
            customer: plan.order_customer(order),
            product: in_big(plan.products / 2, plan.products, &|p| plan.product_store(p)),
            // The order's own event number: inside every range that holds the order.
            event: order.min(plan.events - 1),
            created: plan.created(order),
            range_start: plan.created(plan.orders / 4),
            mid_store: format!("acct_scale{}", plan.stores / 2),
            mid_store_index: plan.stores / 2,
        }
    }

    /// The object a route's `{id}` names, by the route's first segment.
    fn id(&self, template: &str) -> anyhow::Result<Vec<String>> {
        Ok(match resource(template) {
            "stores" => vec![self.big_store.clone(), self.small_store.clone()],
            "orders" => vec![
                format!("pi_scale{}", self.order),
                format!("ch_scale{}", self.order),
            ],
            "customers" => vec![format!("cus_scale{}", self.customer)],
            "products" => vec![format!("prod_scale{}", self.product)],
            "events" => vec![format!("evt_scale{}", self.event)],
            other => bail!("no sample id for `{other}` ({template})"),
        })
    }

    /// A cursor of the list at `template`: an object of the big store, so that it is in
    /// the store's own list too.
    fn cursor(&self, template: &str) -> anyhow::Result<String> {
        Ok(match listed(template) {
            "stores" => self.mid_store.clone(),
            "orders" => format!("pi_scale{}", self.order),
            "customers" => format!("cus_scale{}", self.customer),
            "products" => format!("prod_scale{}", self.product),
            "logs" => format!("evt_scale{}", self.event),
            other => bail!("no sample cursor for the list `{other}` ({template})"),
        })
    }

    /// A `page` token of the list at `template` naming the same object as [`Self::cursor`]
    /// (the service's `next_page`: URL-safe base64 of `["a", key]`, the key being the row's
    /// `pk`, or an event's id). The seed writes object `k` of a table as its row `k + 1`.
    fn page(&self, template: &str) -> String {
        use base64::Engine;
        let pk = |k: i64| serde_json::json!(k + 1);
        let key = match listed(template) {
            "logs" => serde_json::json!(format!("evt_scale{}", self.event)),
            "stores" => pk(self.mid_store_index),
            "customers" => pk(self.customer),
            "products" => pk(self.product),
            _ => pk(self.order),
        };
        let token = serde_json::json!(["a", key]).to_string();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    }

    /// The value of query parameter `name` on the list at `template`.
    fn value(&self, template: &str, name: &str) -> anyhow::Result<String> {
        let listed = listed(template);
        Ok(match (name, listed) {
            ("limit", _) => "100".into(),
            ("starting_after" | "ending_before", _) => self.cursor(template)?,
            ("page", _) => self.page(template),
            ("store" | "account", _) => self.big_store.clone(),
            ("livemode", _) => "false".into(),
            // The rarer statuses: an index that is not used shows most.
            ("status", "stores") => "restricted".into(),
            ("status", "orders") => "refunded".into(),
            ("status", "logs") => "failed".into(),
            ("customer", _) => format!("cus_scale{}", self.customer),
            ("payment_intent", _) => format!("pi_scale{}", self.order),
            ("created[gte]" | "created[lte]", _) => self.created.to_string(),
            ("type", _) => "charge.refunded".into(),
            ("active", _) => "false".into(),
            ("category", _) => "Category 7".into(),
            ("email", _) => format!("c{}@example.com", self.customer),
            _ => bail!("no sample value for `{name}` of {template}: add one to scale::requests"),
        })
    }
}

/// The first segment of a route that names a resource (`/webhooks/stripe/events/{id}`
/// names events).
fn resource(template: &str) -> &str {
    let segments: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["webhooks", "stripe", kind, ..] => kind,
        [kind, ..] => kind,
        [] => "",
    }
}

/// What a list route lists: its last segment.
fn listed(template: &str) -> &str {
    template.rsplit('/').next().unwrap_or_default()
}

/// The admin `GET` requests (path and query) for `openapi`, with the route template each
/// came from.
pub fn admin_reads(openapi: &Value, samples: &Samples) -> anyhow::Result<Vec<(String, String)>> {
    let paths = openapi["paths"]
        .as_object()
        .context("the OpenAPI document has no paths")?;
    let mut requests = Vec::new();
    for (template, item) in paths {
        let Some(get) = item.get("get") else {
            continue;
        };
        if get.get("security").is_none() {
            continue;
        }
        // Sync runs live in the process's memory: reading them reads no table.
        if resource(template) == "sync" {
            continue;
        }
        let paths = match template.contains("{id}") {
            true => samples
                .id(template)?
                .into_iter()
                .map(|id| template.replace("{id}", &id))
                .collect(),
            false => vec![template.clone()],
        };
        let params: Vec<&str> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        for path in &paths {
            requests.push((template.clone(), path.clone()));
        }
        // Each parameter once, on the first sample path (the big store's lists).
        let store_param = params.iter().find(|p| matches!(**p, "store" | "account"));
        let created = params.iter().find(|p| **p == "created[gte]");
        for name in &params {
            let value = samples.value(template, name)?;
            let query = format!("{}={}", encode(name), encode(&value));
            requests.push((template.clone(), format!("{}?{query}", paths[0])));
            let also = |other: &str| -> anyhow::Result<String> {
                let value = samples.value(template, other)?;
                Ok(format!(
                    "{}?{query}&{}={}",
                    paths[0],
                    encode(other),
                    encode(&value)
                ))
            };
            let is_cursor = name.contains("_before") || name.contains("_after") || *name == "page";
            // Narrowed to the big store, as a console's store page asks.
            let narrows = !is_cursor && *name != "livemode";
            if let Some(store) = store_param.filter(|s| *s != name && narrows) {
                requests.push((template.clone(), also(store)?));
            }
            // A page inside a `created` range (ordered by `created`).
            if created.is_some() && is_cursor {
                let range = format!("created%5Bgte%5D={}", samples.range_start);
                requests.push((template.clone(), format!("{}?{query}&{range}", paths[0])));
            }
        }
    }
    Ok(requests)
}

fn encode(text: &str) -> String {
    text.replace('[', "%5B")
        .replace(']', "%5D")
        .replace(' ', "%20")
        .replace('@', "%40")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_parameter_is_asked_alone_and_within_the_big_store() {
        let doc = json!({"paths": {
            "/orders": {"get": {"security": [{}], "parameters": [
                {"in": "query", "name": "store"}, {"in": "query", "name": "status"},
                {"in": "query", "name": "starting_after"},
                {"in": "query", "name": "created[gte]"}]}},
            "/orders/{id}": {"get": {"security": [{}]}},
            "/health": {"get": {}}
        }});
        let plan = Plan::for_orders(10_000);
        let samples = Samples::of(&plan);
        assert_eq!(plan.order_store(samples.order), 0, "in the big store");
        let paths: Vec<String> = admin_reads(&doc, &samples)
            .unwrap()
            .into_iter()
            .map(|(_, path)| path)
            .collect();
        let (order, created) = (samples.order, samples.created);
        assert_eq!(
            paths,
            [
                "/orders".to_owned(),
                "/orders?store=acct_scale0".into(),
                "/orders?status=refunded".into(),
                "/orders?status=refunded&store=acct_scale0".into(),
                format!("/orders?starting_after=pi_scale{order}"),
                format!(
                    "/orders?starting_after=pi_scale{order}&created%5Bgte%5D={}",
                    samples.range_start
                ),
                format!("/orders?created%5Bgte%5D={created}"),
                format!("/orders?created%5Bgte%5D={created}&store=acct_scale0"),
                format!("/orders/pi_scale{order}"),
                format!("/orders/ch_scale{order}"),
            ]
        );
    }

    #[test]
    fn a_parameter_without_a_sample_is_an_error() {
        let doc = json!({"paths": {"/orders": {"get": {"security": [{}], "parameters": [
            {"in": "query", "name": "colour"}]}}}});
        let samples = Samples::of(&Plan::for_orders(10_000));
        let error = admin_reads(&doc, &samples).unwrap_err().to_string();
        assert!(error.contains("`colour`"), "{error}");
    }
}
