//! Lenient parsing of a Stripe event envelope.
//!
//! Payloads differ between endpoints (each has its own `api_version`), so only what the
//! service needs is read and everything else is ignored. The raw bytes, not this parse,
//! are what gets stored.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::event_types;

/// Store key of events that belong to the platform itself rather than a connected account.
pub const PLATFORM_STORE: &str = "platform";

/// Why a body is not an event the service accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the body is not a Stripe event: {0}")]
    Invalid(String),
}

/// How Stripe shaped the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// A v1 event carrying a snapshot of its object in `data.object`.
    Snapshot,
    /// A thin (v2) event notification (`"object": "v2.core.event"`): ids and a link to
    /// the object, no snapshot. The service cannot apply it, but it is acknowledged and
    /// stored (so Stripe does not retry it for days and disable the endpoint), and the
    /// event log says why nothing came of it.
    Thin,
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
    pub format: EventFormat,
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
    /// Thin events: the connected account the event is about, if any.
    context: Option<serde_json::Value>,
    /// Thin events: `{id, type, url}` of the object the event is about.
    related_object: Option<serde_json::Value>,
    // Read as a struct only for snapshot events: a thin event's `data`, if any, is not
    // the service's business and must not get it refused.
    #[serde(borrow)]
    data: Option<&'a RawValue>,
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
    /// are applied in series by the platform's actor; the order names the seller. A thin
    /// event is keyed by its `context` when that is a connected account.
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
        if object_kind.is_some_and(is_thin_kind) {
            return Self::thin(raw, object_kind.unwrap_or_default());
        }
        Self::snapshot(raw)
    }

    fn snapshot(raw: RawEnvelope<'_>) -> Result<Self, EnvelopeError> {
        let data = match raw.data {
            Some(data) => serde_json::from_str::<Option<ObjectOnly<RawData<'_>>>>(data.get())
                .map_err(json_error)?,
            None => None,
        };
        let id = non_empty_string(raw.id, "id")?;
        let event_type = non_empty_string(raw.event_type, "type")?;
        let object = data
            .and_then(|ObjectOnly(data)| data.object)
            .filter(|object| object.get().starts_with('{'))
            .ok_or_else(|| EnvelopeError::Invalid("`data.object` must be an object".into()))?;
        let refs: ObjectRefs = serde_json::from_str(object.get()).unwrap_or_default();
        let object_id = optional_string(refs.id, "data.object.id")?
            .map(|id| bounded(id, "data.object.id"))
            .transpose()?;
        // Every object of a type the service applies has an id: without one the event
        // could only be dead-lettered later.
        if object_id.is_none() && event_types::known(&event_type).is_some() {
            return Err(invalid("`data.object.id` must be a non-empty string"));
        }
        let account = optional_string(raw.account, "account")?
            .map(|account| bounded(account, "account"))
            .transpose()?;
        let store_key = account.clone().unwrap_or_else(|| PLATFORM_STORE.to_owned());
        Ok(Self {
            id: bounded(id, "id")?,
            event_type: bounded(event_type, "type")?,
            account,
            livemode: livemode(raw.livemode)?,
            api_version: optional_string(raw.api_version, "api_version")?,
            created: unix_time(raw.created)?,
            object_id,
            store_key,
            format: EventFormat::Snapshot,
        })
    }

    /// A thin event needs nothing but its id to be stored: anything else it lacks or has
    /// in an odd shape only makes the event log poorer, never gets the delivery refused.
    fn thin(raw: RawEnvelope<'_>, kind: &str) -> Result<Self, EnvelopeError> {
        let id = bounded(non_empty_string(raw.id, "id")?, "id")?;
        let event_type = as_string(raw.event_type)
            .filter(|event_type| !event_type.is_empty())
            .unwrap_or_else(|| kind.to_owned());
        // `context` names the account the event is about; other contexts (none, or a
        // future non-account one) belong to the platform.
        let account = as_string(raw.context).filter(|context| context.starts_with("acct_"));
        Ok(Self {
            id,
            event_type,
            store_key: account.clone().unwrap_or_else(|| PLATFORM_STORE.to_owned()),
            account,
            livemode: raw.livemode.and_then(|v| v.as_bool()).unwrap_or(false),
            api_version: as_string(raw.api_version),
            created: raw.created.as_ref().and_then(unix_seconds).unwrap_or(0),
            object_id: raw
                .related_object
                .as_ref()
                .and_then(|object| object.get("id")?.as_str())
                .map(str::to_owned),
            format: EventFormat::Thin,
        })
    }
}

/// Whether an envelope's `object` names a thin (v2) event: `v2.core.event` today, any
/// `v2.` kind tomorrow.
fn is_thin_kind(kind: &str) -> bool {
    kind.starts_with("v2.")
}

/// Whether a stored payload is a thin (v2) event notification, by the same rule as
/// [`Envelope::parse`].
pub fn is_thin(payload: &serde_json::Value) -> bool {
    payload
        .get("object")
        .and_then(serde_json::Value::as_str)
        .is_some_and(is_thin_kind)
}

/// A thin event's `created`: an RFC 3339 string in v2 (whole seconds kept, like v1's
/// integer); an integer is taken as it is.
fn unix_seconds(created: &serde_json::Value) -> Option<i64> {
    match created {
        serde_json::Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.timestamp()),
        other => other.as_i64(),
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

fn invalid(problem: &str) -> EnvelopeError {
    EnvelopeError::Invalid(problem.to_owned())
}

fn non_empty_string(
    value: Option<serde_json::Value>,
    field: &str,
) -> Result<String, EnvelopeError> {
    match value {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(invalid(&format!("`{field}` must be a non-empty string"))),
    }
}

/// A field that may be absent (or `null`), but when present is a non-empty string: a
/// value of another type is refused rather than read as absent, which would put the event
/// somewhere else (an `account` of `123` is not the platform's event).
fn optional_string(
    value: Option<serde_json::Value>,
    field: &str,
) -> Result<Option<String>, EnvelopeError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(invalid(&format!(
            "`{field}` must be a non-empty string when present"
        ))),
    }
}

/// Stripe's ids are far shorter: a longer value is not Stripe's, and would be stored to
/// make URLs no server accepts.
const MAX_ID_BYTES: usize = 255;

fn bounded(id: String, field: &str) -> Result<String, EnvelopeError> {
    if id.len() > MAX_ID_BYTES {
        return Err(invalid(&format!(
            "`{field}` is longer than {MAX_ID_BYTES} bytes"
        )));
    }
    Ok(id)
}

fn livemode(value: Option<serde_json::Value>) -> Result<bool, EnvelopeError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(serde_json::Value::Bool(live)) => Ok(live),
        Some(_) => Err(invalid("`livemode` must be `true` or `false`")),
    }
}

/// `created`, Unix seconds; 0 when a hand-written event leaves it out.
fn unix_time(value: Option<serde_json::Value>) -> Result<i64, EnvelopeError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(0),
        Some(value) => value
            .as_i64()
            .ok_or_else(|| invalid("`created` must be a Unix time in whole seconds")),
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
            "data":{"object":{"id":"pi_1","transfer_data":null,"on_behalf_of":"acct_4"}}}"#;
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
    fn thin_event_of_a_connected_account_is_keyed_by_its_context() {
        let body = br#"{"id":"evt_test_65R9","object":"v2.core.event","type":"v2.core.account.updated",
            "livemode":true,"created":"2024-09-17T06:20:52.246Z","context":"acct_9",
            "related_object":{"id":"acct_9","type":"v2.core.account","url":"/v2/core/accounts/acct_9"}}"#;
        let envelope = Envelope::parse(body).unwrap();
        assert_eq!(envelope.format, EventFormat::Thin);
        assert_eq!(envelope.id, "evt_test_65R9");
        assert_eq!(envelope.event_type, "v2.core.account.updated");
        assert_eq!(envelope.store_key, "acct_9");
        assert_eq!(envelope.account.as_deref(), Some("acct_9"));
        assert_eq!(envelope.object_id.as_deref(), Some("acct_9"));
        assert_eq!(envelope.created, 1_726_554_052);
        assert!(envelope.livemode);
        let payload: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert!(is_thin(&payload));
    }

    #[test]
    fn thin_event_without_an_account_context_goes_to_the_platform_store() {
        for context in [r#""#, r#","context":null"#, r#","context":"org_1""#] {
            let body = format!(
                r#"{{"id":"evt_1","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered",
                "created":"2024-09-17T06:20:52Z","related_object":{{"id":"mtr_1"}}{context}}}"#
            );
            let envelope = Envelope::parse(body.as_bytes()).unwrap();
            assert_eq!(envelope.store_key, PLATFORM_STORE, "{context}");
            assert_eq!(envelope.account, None);
            assert_eq!(envelope.object_id.as_deref(), Some("mtr_1"));
        }
    }

    #[test]
    fn thin_event_needs_only_an_id() {
        // Odd or missing fields make the log poorer but never refuse a signed delivery.
        let body = br#"{"id":"evt_1","object":"v2.core.event","created":"yesterday",
            "data":[1],"related_object":"mtr_1","livemode":"yes"}"#;
        let envelope = Envelope::parse(body).unwrap();
        assert_eq!(envelope.format, EventFormat::Thin);
        assert_eq!(envelope.event_type, "v2.core.event");
        assert_eq!((envelope.created, envelope.livemode), (0, false));
        assert_eq!(envelope.object_id, None);
        for body in [
            &br#"{"object":"v2.core.event","type":"x"}"#[..],
            br#"{"id":"","object":"v2.core.event"}"#,
            br#"{"id":7,"object":"v2.core.event"}"#,
        ] {
            assert!(
                Envelope::parse(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn fields_of_the_wrong_type_or_size_are_refused_not_coerced() {
        let event = |fields: &str| {
            format!(
                r#"{{"id":"evt_1","type":"customer.created",{fields}"data":{{"object":{{"id":"cus_1"}}}}}}"#
            )
        };
        let long = "x".repeat(256);
        let cases = [
            (event(r#""account":123,"#), "`account`"),
            (event(r#""account":"","#), "`account`"),
            (event(r#""created":"now","#), "`created`"),
            (event(r#""created":1.5,"#), "`created`"),
            (event(r#""livemode":"yes","#), "`livemode`"),
            (event(r#""api_version":7,"#), "`api_version`"),
            (event(&format!(r#""account":"{long}","#)), "`account`"),
            (event("").replace("evt_1", &long), "`id`"),
            (event("").replace("cus_1", &long), "`data.object.id`"),
            (
                event("").replace(r#""id":"cus_1""#, r#""name":"x""#),
                "`data.object.id`",
            ),
            (
                event("").replace(r#""id":"cus_1""#, r#""id":5"#),
                "`data.object.id`",
            ),
        ];
        for (body, field) in cases {
            let err = Envelope::parse(body.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(field), "{body}: {err}");
        }
        // Absent or null is not wrong: hand-written events leave fields out.
        let fine = event(r#""account":null,"livemode":null,"created":null,"#);
        assert_eq!(
            Envelope::parse(fine.as_bytes()).unwrap().store_key,
            PLATFORM_STORE
        );
        // A type the service does not apply may carry an object without an id (a balance).
        let balance =
            r#"{"id":"evt_1","type":"balance.available","data":{"object":{"object":"balance"}}}"#;
        assert!(Envelope::parse(balance.as_bytes()).is_ok());
    }

    #[test]
    fn snapshot_events_are_not_thin() {
        let body = br#"{"id":"evt_1","object":"event","type":"x","data":{"object":{}}}"#;
        assert_eq!(Envelope::parse(body).unwrap().format, EventFormat::Snapshot);
        assert!(!is_thin(&serde_json::from_slice(body).unwrap()));
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
