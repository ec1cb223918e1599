//! Lenient parsing of a Stripe event envelope.
//!
//! Payloads differ between endpoints (each has its own `api_version`), so only what the
//! service needs is read and everything else is ignored. The raw bytes, not this parse,
//! are what gets stored.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// Store key of events that belong to the platform itself rather than a connected account.
pub const PLATFORM_STORE: &str = "platform";

/// Why a body is not an event the service accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the body is not a Stripe event: {0}")]
    Invalid(String),
    #[error(
        "thin (v2) event notifications are not supported: configure the endpoint to send \
         snapshot events (payload style \"snapshot\")"
    )]
    ThinEvent,
}

/// The envelope fields the service keeps beside the raw payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: String,
    pub event_type: String,
    pub account: Option<String>,
    pub livemode: bool,
    pub api_version: Option<String>,
    pub created: i64,
    /// `data.object.id`, when the object has one.
    pub object_id: Option<String>,
    /// Which store the event belongs to; see [`Envelope::parse`].
    pub store_key: String,
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    id: Option<serde_json::Value>,
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(rename = "type")]
    event_type: Option<serde_json::Value>,
    // Typed leniently: a field of an unexpected type is treated as absent.
    account: Option<serde_json::Value>,
    livemode: Option<serde_json::Value>,
    api_version: Option<serde_json::Value>,
    created: Option<serde_json::Value>,
    #[serde(borrow)]
    data: Option<ObjectOnly<RawData<'a>>>,
}

#[derive(Deserialize)]
struct RawData<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
}

/// `T` read only from a JSON object: serde's derive also reads a struct from an array of
/// its fields in order, and no event (nor its `data`) is an array.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapOnly<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for MapOnly<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(MapOnly(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// The part of `data.object` that names the object.
#[derive(Deserialize, Default)]
struct ObjectRefs {
    id: Option<serde_json::Value>,
}

impl Envelope {
    /// Parses `body`. The store key is `account` for Connect events, else
    /// [`PLATFORM_STORE`]: a destination or `on_behalf_of` charge lives on the platform,
    /// and so do its refunds, disputes and transfers, which do not name the seller. They
    /// are applied in series by the platform's actor; the order names the seller.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        // Checked up front: serde_json skips the bytes of ignored fields without checking
        // them, and the webhook stores accepted bodies as text.
        let body = std::str::from_utf8(body)
            .map_err(|err| EnvelopeError::Invalid(format!("not UTF-8: {err}")))?;
        // Syntax errors and limits only: these messages name a position, never a value.
        serde_json::from_str::<Readable>(body)
            .map_err(|err| EnvelopeError::Invalid(format!("not valid JSON: {err}")))?;
        // No input can overflow the stack: what is decoded is held to serde_json's
        // recursion limit, and what is skipped is scanned without recursion.
        let ObjectOnly(raw): ObjectOnly<RawEnvelope<'_>> =
            serde_json::from_str(body).map_err(json_error)?;
        let object_kind = raw
            .object
            .and_then(|o| serde_json::from_str::<&str>(o.get()).ok());
        if object_kind.is_some_and(|kind| kind.starts_with("v2.")) {
            return Err(EnvelopeError::ThinEvent);
        }
        let id = non_empty_string(raw.id, "id")?;
        let event_type = non_empty_string(raw.event_type, "type")?;
        let object = raw
            .data
            .and_then(|ObjectOnly(data)| data.object)
            .filter(|object| object.get().starts_with('{'))
            .ok_or_else(|| EnvelopeError::Invalid("`data.object` must be an object".into()))?;
        let refs: ObjectRefs = serde_json::from_str(object.get()).unwrap_or_default();
        let account = as_string(raw.account).filter(|account| !account.is_empty());
        let store_key = account.clone().unwrap_or_else(|| PLATFORM_STORE.to_owned());
        Ok(Self {
            id,
            event_type,
            account,
            livemode: raw.livemode.and_then(|v| v.as_bool()).unwrap_or(false),
            api_version: as_string(raw.api_version),
            created: raw.created.and_then(|v| v.as_i64()).unwrap_or(0),
            object_id: refs.id.and_then(|id| id.as_str().map(str::to_owned)),
            store_key,
        })
    }
}

/// Any JSON value the apply path can read into a `serde_json::Value`, checked without
/// building one: nested deeper than serde_json's recursion limit (128) or holding a number
/// beyond `f64` is an error here, before the event is stored and acknowledged, rather than
/// a dead letter later. Its errors name a position, never a value.
struct Readable;

impl<'de> Deserialize<'de> for Readable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ReadableVisitor)
    }
}

struct ReadableVisitor;

impl<'de> Visitor<'de> for ReadableVisitor {
    type Value = Readable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_str<E>(self, _: &str) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_unit<E>(self) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Readable, A::Error> {
        while seq.next_element::<Readable>()?.is_some() {}
        Ok(Readable)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Readable, A::Error> {
        while map.next_entry::<IgnoredAny, Readable>()?.is_some() {}
        Ok(Readable)
    }
}

/// Not `err`'s message when it is about the data: it may quote a value of the body
/// (customer data), which must not reach the logs.
fn json_error(err: serde_json::Error) -> EnvelopeError {
    match err.classify() {
        serde_json::error::Category::Data => EnvelopeError::Invalid(format!(
            "not a JSON object with an object `data` (line {}, column {})",
            err.line(),
            err.column()
        )),
        _ => EnvelopeError::Invalid(format!("not valid JSON: {err}")),
    }
}

fn as_string(value: Option<serde_json::Value>) -> Option<String> {
    match value {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}

fn non_empty_string(
    value: Option<serde_json::Value>,
    field: &str,
) -> Result<String, EnvelopeError> {
    match value {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(EnvelopeError::Invalid(format!(
            "`{field}` must be a non-empty string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_event_is_keyed_by_its_account() {
        let body = br#"{"id":"evt_1","type":"charge.succeeded","account":"acct_1","created":5,
            "livemode":true,"data":{"object":{"id":"ch_1","transfer_data":{"destination":"acct_2"}}}}"#;
        let envelope = Envelope::parse(body).unwrap();
        assert_eq!(envelope.store_key, "acct_1");
        assert_eq!(envelope.object_id.as_deref(), Some("ch_1"));
        assert!(envelope.livemode);
        assert_eq!(envelope.created, 5);
    }

    #[test]
    fn platform_events_are_keyed_by_the_platform_even_for_a_seller() {
        // The seller of a destination charge is derived with its order; its refunds and
        // disputes do not name it, so every event of the payment goes to one actor.
        let body = br#"{"id":"evt_1","type":"charge.succeeded",
            "data":{"object":{"id":"ch_1","transfer_data":{"destination":"acct_2"}}}}"#;
        assert_eq!(Envelope::parse(body).unwrap().store_key, PLATFORM_STORE);
        let obo = br#"{"id":"evt_1","type":"payment_intent.created",
            "data":{"object":{"transfer_data":null,"on_behalf_of":"acct_4"}}}"#;
        assert_eq!(Envelope::parse(obo).unwrap().store_key, PLATFORM_STORE);
    }

    #[test]
    fn platform_event_without_seller_goes_to_the_platform_store() {
        let body = br#"{"id":"evt_1","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
        assert_eq!(Envelope::parse(body).unwrap().store_key, PLATFORM_STORE);
    }

    #[test]
    fn bodies_that_are_not_events_are_invalid() {
        for body in [
            &b"[]"[..],
            b"\"evt\"",
            b"{}",
            b"{\"id\":1,\"type\":\"x\",\"data\":{\"object\":{}}}",
            b"{\"id\":\"evt_1\",\"type\":\"x\",\"data\":{}}",
            b"{\"id\":\"evt_1\",\"type\":\"x\",\"data\":{\"object\":[]}}",
            b"\xff\xfe",
            b"{\"id\":\"evt_1\"",
            // serde's derive would read these arrays as the structs' fields in order.
            br#"["evt_1",null,"x",null,null,null,null,{"object":{}}]"#,
            br#"{"id":"evt_1","type":"x","data":[{}]}"#,
            // Ignored fields are skipped unchecked by serde_json; the body is stored as text.
            b"{\"id\":\"evt_1\",\"type\":\"x\",\"data\":{\"object\":{}},\"x\":\"\xff\"}",
        ] {
            let err = Envelope::parse(body).unwrap_err();
            assert_eq!(
                crate::error::ErrorCode::from(&err).as_str(),
                "invalid_payload",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn thin_event_is_refused_as_unsupported() {
        let body = br#"{"id":"evt_1","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered",
            "created":"2024-09-17T06:20:52.246Z","related_object":{"id":"mtr_1"}}"#;
        assert_eq!(Envelope::parse(body), Err(EnvelopeError::ThinEvent));
    }

    #[test]
    fn bodies_the_apply_path_could_not_read_are_invalid() {
        let deep = format!(
            r#"{{"id":"evt_1","type":"x","data":{{"object":{{"a":{}1{}}}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let huge_digits = format!(
            r#"{{"id":"evt_1","type":"x","data":{{"object":{{"amount":{}}}}}}}"#,
            "9".repeat(100_000)
        );
        let huge_exponent = r#"{"id":"evt_1","type":"x","data":{"object":{"amount":1e999}}}"#;
        for body in [deep.as_str(), &huge_digits, huge_exponent] {
            let err = Envelope::parse(body.as_bytes()).unwrap_err();
            assert_eq!(
                crate::error::ErrorCode::from(&err).as_str(),
                "invalid_payload",
                "{err}"
            );
            assert!(serde_json::from_str::<serde_json::Value>(body).is_err());
        }
        let big_but_fine = r#"{"id":"evt_1","type":"x","data":{"object":{"amount":123456789012345678901234567890}}}"#;
        assert!(Envelope::parse(big_but_fine.as_bytes()).is_ok());
    }

    #[test]
    fn nesting_is_allowed_up_to_127_levels() {
        // The envelope, `data` and `data.object` are three levels.
        let nested = |arrays: usize| {
            format!(
                r#"{{"id":"evt_1","type":"x","data":{{"object":{{"a":{}{}}}}}}}"#,
                "[".repeat(arrays),
                "]".repeat(arrays)
            )
        };
        assert!(Envelope::parse(nested(124).as_bytes()).is_ok());
        assert!(Envelope::parse(nested(125).as_bytes()).is_err());
    }

    #[test]
    fn invalid_payload_messages_do_not_quote_the_body() {
        for body in [
            &br#""jane@example.com""#[..],
            br#"{"id":"evt_1","type":"x","data":"jane@example.com"}"#,
        ] {
            let err = Envelope::parse(body).unwrap_err();
            assert!(!err.to_string().contains("jane"), "{err}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let mut body = String::from(r#"{"id":"evt_1","type":"x","data":{"object":{"a":"#);
        body.push_str(&"[".repeat(100_000));
        assert_eq!(
            crate::error::ErrorCode::from(&Envelope::parse(body.as_bytes()).unwrap_err()).as_str(),
            "invalid_payload"
        );
    }
}

#[cfg(test)]
mod proptests;
