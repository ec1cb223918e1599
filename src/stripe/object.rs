//! Lenient readers of Stripe objects.
//!
//! Payloads differ between API versions, so every field is read leniently: a missing field
//! or one of an unexpected type counts as absent, and the caller decides what absence means.
//! Text comes out without NUL characters, which PostgreSQL refuses in `text` and `jsonb`
//! (SQLite keeps them): a signed event with one would otherwise apply on one backend and
//! fail on the other.

use serde_json::Value;

/// Whether `object` is a `kind` object. An object without an `object` field is taken to be
/// what its event type says; other kinds (a `customer.subscription.*` event carries a
/// subscription, `charge.dispute.*` a dispute) are not.
pub fn is_kind(object: &Value, kind: &str) -> bool {
    object
        .get("object")
        .and_then(Value::as_str)
        .is_none_or(|found| found == kind)
}

/// A string at `pointer` (JSON pointer syntax, such as `/business_profile/name`).
pub fn str_at(object: &Value, pointer: &str) -> Option<String> {
    object.pointer(pointer).and_then(Value::as_str).map(text)
}

/// A string field.
pub fn str_field(object: &Value, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(text)
}

fn text(value: &str) -> String {
    value.replace('\0', "")
}

/// `value` without NUL characters in any string or key, at any depth.
pub fn without_nul(value: Value) -> Value {
    match value {
        Value::String(string) if string.contains('\0') => Value::String(text(&string)),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (text(&key), without_nul(value)))
                .collect(),
        ),
        other => other,
    }
}

/// An integer field.
pub fn i64_field(object: &Value, key: &str) -> Option<i64> {
    object.get(key).and_then(Value::as_i64)
}

/// A boolean field.
pub fn bool_field(object: &Value, key: &str) -> Option<bool> {
    object.get(key).and_then(Value::as_bool)
}

/// A JSON field as sent; JSON `null` is absent, so it is stored as SQL `NULL`.
pub fn json_field(object: &Value, key: &str) -> Option<Value> {
    object
        .get(key)
        .filter(|value| !value.is_null())
        .cloned()
        .map(without_nul)
}

/// An expandable field: an id string, or the `id` of the expanded object.
pub fn expandable_id(object: &Value, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(id) => Some(text(id)),
        expanded @ Value::Object(_) => str_field(expanded, "id"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expandable_fields_accept_ids_and_expanded_objects() {
        let object = json!({"a": "price_1", "b": {"id": "price_2"}, "c": null, "d": 5});
        assert_eq!(expandable_id(&object, "a").as_deref(), Some("price_1"));
        assert_eq!(expandable_id(&object, "b").as_deref(), Some("price_2"));
        assert_eq!(expandable_id(&object, "c"), None);
        assert_eq!(expandable_id(&object, "d"), None);
        assert_eq!(expandable_id(&object, "e"), None);
    }

    #[test]
    fn json_null_is_absent() {
        let object = json!({"a": null, "b": {}});
        assert_eq!(json_field(&object, "a"), None);
        assert_eq!(json_field(&object, "b"), Some(json!({})));
    }

    #[test]
    fn an_object_without_a_kind_is_what_its_event_says() {
        assert!(is_kind(&json!({"id": "cus_1"}), "customer"));
        assert!(is_kind(&json!({"object": "customer"}), "customer"));
        assert!(!is_kind(&json!({"object": "subscription"}), "customer"));
    }

    #[test]
    fn fields_of_the_wrong_type_are_absent() {
        let object = json!({"a": 1, "b": "x", "c": true, "d": null, "e": {"id": "x_1"}});
        assert_eq!(str_field(&object, "a"), None);
        assert_eq!(i64_field(&object, "b"), None);
        assert_eq!(bool_field(&object, "c"), Some(true));
        assert_eq!(json_field(&object, "d"), None);
        assert_eq!(expandable_id(&object, "e").as_deref(), Some("x_1"));
        assert_eq!(expandable_id(&object, "b").as_deref(), Some("x"));
        assert_eq!(expandable_id(&object, "a"), None);
        assert_eq!(str_at(&object, "/e/id").as_deref(), Some("x_1"));
    }

    #[test]
    fn nul_characters_are_dropped_from_keys_and_strings_at_any_depth() {
        let value = json!({"a\0b": ["x\0", {"c": "\0d"}], "n": 1});
        let clean = json!({"ab": ["x", {"c": "d"}], "n": 1});
        assert_eq!(without_nul(value.clone()), clean);
        assert_eq!(json_field(&json!({"m": value}), "m"), Some(clean));
        assert_eq!(
            str_field(&json!({"name": "A\0B"}), "name").as_deref(),
            Some("AB")
        );
    }
}
