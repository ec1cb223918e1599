//! Every admin read worth timing, derived from the service's OpenAPI document: each
//! documented `GET` route, bare and with each of its query parameters, with ids of rows a
//! seeded [`Plan`] holds. A parameter added to the API without a sample here is an error,
//! so the timings and the query-plan test cannot silently skip it.

use anyhow::{Context, bail};
use serde_json::Value;

use crate::plan::Plan;

/// Rows of a seeded plan that the requests name.
#[derive(Debug, Clone)]
pub struct Samples {
    /// The largest store (half of every table).
    pub big_store: String,
    /// One of the smallest stores.
    pub small_store: String,
    /// Mid-table rows of any store.
    pub order: i64,
    pub customer: i64,
    pub product: i64,
    pub event: i64,
    /// Mid-table rows of the big store (cursors of its lists).
    pub big_order: i64,
    pub big_customer: i64,
    pub big_product: i64,
    pub created: i64,
    /// The stores of `order`, `customer` and `product` (the `store` of a lookup).
    pub order_store: i64,
    pub customer_store: i64,
    pub product_store: i64,
}

impl Samples {
    pub fn of(plan: &Plan) -> Self {
        let in_big = |from: i64, to: i64, store: &dyn Fn(i64) -> i64| {
            (from..to).find(|k| store(*k) == 0).unwrap_or(from)
        };
        let order = plan.orders / 2;
        Self {
            big_store: "acct_scale0".into(),
            small_store: format!("acct_scale{}", plan.stores - 1),
            order,
            customer: plan.order_customer(order),
            product: plan.products / 2,
            event: plan.events / 2,
            big_order: in_big(order, plan.orders, &|k| plan.order_store(k)),
            big_customer: in_big(plan.customers / 2, plan.customers, &|c| {
                plan.customer_store(c)
            }),
            big_product: in_big(plan.products / 2, plan.products, &|p| plan.product_store(p)),
            created: plan.created(order),
            order_store: plan.order_store(order),
            customer_store: plan.customer_store(plan.order_customer(order)),
            product_store: plan.product_store(plan.products / 2),
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
            "stores" => self.small_store.clone(),
            "orders" => format!("pi_scale{}", self.big_order),
            "customers" => format!("cus_scale{}", self.big_customer),
            "products" => format!("prod_scale{}", self.big_product),
            "logs" => format!("evt_scale{}", self.event),
            other => bail!("no sample cursor for the list `{other}` ({template})"),
        })
    }

    /// The value of query parameter `name` on the list at `template`.
    fn value(&self, template: &str, name: &str) -> anyhow::Result<String> {
        let listed = listed(template);
        Ok(match (name, listed) {
            ("limit", _) => "100".into(),
            ("starting_after" | "ending_before", _) => self.cursor(template)?,
            // A lookup narrowed to the store its object belongs to.
            ("store", _) if template.ends_with("{id}") => match resource(template) {
                "stores" => self.big_store.clone(),
                "orders" => format!("acct_scale{}", self.order_store),
                "customers" => format!("acct_scale{}", self.customer_store),
                "products" => format!("acct_scale{}", self.product_store),
                other => bail!("no sample store for a lookup of `{other}`"),
            },
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
        for name in &params {
            let value = samples.value(template, name)?;
            let query = format!("{}={}", encode(name), encode(&value));
            requests.push((template.clone(), format!("{}?{query}", paths[0])));
            // And narrowed to the big store, as a console's store page asks.
            let narrows = params.contains(&"store") && !matches!(*name, "store" | "livemode");
            if narrows && !name.contains("_before") && !name.contains("_after") {
                let store = format!("store={}", samples.big_store);
                requests.push((template.clone(), format!("{}?{query}&{store}", paths[0])));
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
                {"in": "query", "name": "starting_after"}]}},
            "/orders/{id}": {"get": {"security": [{}]}},
            "/health": {"get": {}}
        }});
        let samples = Samples::of(&Plan::for_orders(10_000));
        let paths: Vec<String> = admin_reads(&doc, &samples)
            .unwrap()
            .into_iter()
            .map(|(_, path)| path)
            .collect();
        let cursor = format!("pi_scale{}", samples.big_order);
        assert_eq!(
            paths,
            [
                "/orders".to_owned(),
                "/orders?store=acct_scale0".into(),
                "/orders?status=refunded".into(),
                "/orders?status=refunded&store=acct_scale0".into(),
                format!("/orders?starting_after={cursor}"),
                "/orders/pi_scale5000".into(),
                "/orders/ch_scale5000".into(),
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
