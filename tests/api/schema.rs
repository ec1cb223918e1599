//! The served OpenAPI document as a test oracle: [`Api`] sends admin requests, and checks
//! that the route and the status are documented and that the body validates against the
//! documented schema.
//!
//! The validator is a small one written here rather than the `jsonschema` crate (a heavy
//! dependency for this): it covers what utoipa emits — `$ref`, `type` (also as a list,
//! for nullable fields), `properties`, `required`, `items`, `additionalProperties`,
//! `oneOf` / `anyOf` / `allOf`, `enum`, `minimum` / `maximum`.

use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, TestApp};

/// Sends requests to a test app and validates every answer against its OpenAPI document.
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub doc: Value,
}

impl<'a> Api<'a> {
    pub async fn new(app: &'a TestApp) -> Self {
        let response = app
            .client
            .get(format!("{}/openapi.json", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        Self {
            app,
            doc: response.json().await.unwrap(),
        }
    }

    /// GET with the admin token; returns the status and the validated body.
    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        self.send("get", path_and_query).await
    }

    /// POST with the admin token and no body.
    pub async fn post(&self, path_and_query: &str) -> (u16, Value) {
        self.send("post", path_and_query).await
    }

    async fn send(&self, method: &str, path_and_query: &str) -> (u16, Value) {
        let url = format!("{}{path_and_query}", self.app.address);
        let request = match method {
            "get" => self.app.client.get(url),
            _ => self.app.client.post(url),
        };
        let response = request.bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        let status = response.status().as_u16();
        let body = body_value(response).await;
        let path = path_and_query.split('?').next().unwrap();
        self.check(method, path, status, &body);
        (status, body)
    }

    /// Asserts that `body`, answered with `status` to `method path`, is documented.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let template = self
            .template_of(path)
            .unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"));
        let operation = &self.doc["paths"][template.as_str()][method];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        let response = &operation["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which is not documented: {body}"
        );
        let schema = &response["content"]["application/json"]["schema"];
        if let Err(err) = validate(&self.doc, schema, body, "$") {
            panic!("{method} {path} {status}: {err}\nbody: {body}");
        }
    }

    /// The documented path template matching `path`, literal segments preferred.
    pub fn template_of(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        paths
            .keys()
            .filter(|template| {
                let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
                parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(part, segment)| part.starts_with('{') || part == segment)
            })
            .min_by_key(|template| template.matches('{').count())
            .cloned()
    }
}

/// Validates `value` against `schema` (resolving `$ref`s in `doc`).
pub fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(schema) = schema.as_object() else {
        return Ok(());
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        let target = doc
            .pointer(pointer)
            .ok_or_else(|| format!("{at}: unresolved {reference}"))?;
        validate(doc, target, value, at)?;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let errors: Vec<String> = options
                .iter()
                .filter_map(|option| validate(doc, option, value, at).err())
                .collect();
            if errors.len() == options.len() {
                return Err(format!("{at}: matches no {key} option: {errors:?}"));
            }
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for option in all {
            validate(doc, option, value, at)?;
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.iter().any(|kind| has_type(value, kind)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && number < min
        {
            return Err(format!("{at}: {number} < minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && number > max
        {
            return Err(format!("{at}: {number} > maximum {max}"));
        }
    }
    if let Some(object) = value.as_object() {
        validate_object(doc, schema, object, at)?;
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (n, item) in array.iter().enumerate() {
            validate(doc, items, item, &format!("{at}[{n}]"))?;
        }
    }
    Ok(())
}

fn validate_object(
    doc: &Value,
    schema: &serde_json::Map<String, Value>,
    object: &serde_json::Map<String, Value>,
    at: &str,
) -> Result<(), String> {
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !object.contains_key(required) {
            return Err(format!("{at}: missing required `{required}`"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, field) in object {
        let at = format!("{at}.{key}");
        match properties.and_then(|properties| properties.get(key)) {
            Some(property) => validate(doc, property, field, &at)?,
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => return Err(format!("{at}: not allowed")),
                Some(extra @ Value::Object(_)) => validate(doc, extra, field, &at)?,
                // utoipa objects list all their fields: an undocumented one is drift.
                _ if properties.is_some() => return Err(format!("{at}: undocumented field")),
                _ => {}
            },
        }
    }
    Ok(())
}

fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

#[test]
fn the_validator_checks_types_required_fields_refs_and_nullables() {
    let doc = serde_json::json!({"components": {"schemas": {
        "Price": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "unit_amount": {"type": ["integer", "null"]}}}
    }}});
    let schema =
        serde_json::json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Price"}]});
    let ok = serde_json::json!({"id": "price_1", "unit_amount": null});
    assert!(validate(&doc, &schema, &ok, "$").is_ok());
    assert!(validate(&doc, &schema, &Value::Null, "$").is_ok());
    for bad in [
        serde_json::json!({"unit_amount": 5}),
        serde_json::json!({"id": 5}),
        serde_json::json!({"id": "p", "unit_amount": "5"}),
        serde_json::json!({"id": "p", "colour": "red"}),
    ] {
        assert!(validate(&doc, &schema, &bad, "$").is_err(), "{bad}");
    }
}

/// A response body as JSON, or as a JSON string when the route answers text (`/metrics`).
pub async fn body_value(response: reqwest::Response) -> Value {
    let json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let text = response.text().await.unwrap();
    if json {
        serde_json::from_str(&text).unwrap()
    } else {
        Value::String(text)
    }
}
