//! Property tests: [`Envelope::parse`] on any body, including hostile nesting and numbers.
//!
//! "Fast on any input" is argued, not timed: serde_json reads the body in one pass with no
//! backtracking (numbers and skipped values included), and the only second pass re-reads
//! the `data.object` slice once, so the work is linear in the body's length, which the
//! webhook caps (`max_body_bytes`) before parsing.
//!
//! Stack depth is bounded whatever the nesting: the readability check and the fields
//! decoded into values stop at serde_json's recursion limit (128). The
//! deep-nesting tests run on a thread with a deliberately small stack to show it.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::stripe::fuzz;

/// Half of a tokio worker's default stack (2 MiB): the margin the parser must keep.
const SMALL_STACK: usize = 1024 * 1024;
const DEEP: usize = 100_000;

/// `depth` levels of `[` or `{"k":` around `null`, closed properly.
fn nested(depth: usize, object: bool) -> String {
    let (open, close) = if object {
        (r#"{"k":"#, "}")
    } else {
        ("[", "]")
    };
    format!("{}null{}", open.repeat(depth), close.repeat(depth))
}

/// A valid event whose `data.object` (already without its braces) is `object_fields`.
fn event_with(top_fields: &str, object_fields: &str) -> String {
    format!(
        r#"{{{top_fields}"id":"evt_1","type":"x.happened","data":{{"object":{{{object_fields}}}}}}}"#
    )
}

fn on_small_stack<T: Send + 'static>(run: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(run)
        .expect("a thread starts")
        .join()
        .expect("parsing did not overflow the stack")
}

fn invalid_message(body: String) -> String {
    match on_small_stack(move || Envelope::parse(body.as_bytes())) {
        Err(EnvelopeError::Invalid(message)) => message,
        other => panic!("expected invalid_payload, got {other:?}"),
    }
}

#[test]
fn deep_nesting_in_decoded_fields_hits_the_recursion_limit_with_a_clear_error() {
    for object in [false, true] {
        let deep = nested(DEEP, object);
        for body in [
            event_with(&format!(r#""id":{deep},"#), ""),
            event_with(&format!(r#""created":{deep},"#), ""),
            event_with(&format!(r#""account":{deep},"#), ""),
        ] {
            let message = invalid_message(body);
            assert!(message.contains("recursion limit exceeded"), "{message}");
        }
    }
}

/// Deep nesting anywhere, even in fields the envelope skips, is refused before the event is
/// stored: applying it would read the whole payload into a `Value`, which cannot hold it.
#[test]
fn deep_nesting_in_skipped_values_is_refused_without_recursion_overflow() {
    for object in [false, true] {
        let deep = nested(DEEP, object);
        for body in [
            event_with(&format!(r#""unknown":{deep},"#), ""),
            event_with("", &format!(r#""id":"ch_1","metadata":{deep}"#)),
            event_with("", &format!(r#""id":"ch_1","on_behalf_of":{deep}"#)),
        ] {
            let message = invalid_message(body);
            assert!(message.contains("recursion limit exceeded"), "{message}");
        }
    }
}

#[test]
fn deep_nesting_as_the_whole_body_or_its_data_is_invalid() {
    for object in [false, true] {
        let deep = nested(DEEP, object);
        for body in [
            deep.clone(),
            format!(r#"{{"id":"evt_1","type":"x","data":{deep}}}"#),
        ] {
            invalid_message(body);
        }
    }
}

#[test]
fn unclosed_deep_nesting_is_invalid() {
    let body = format!(
        r#"{{"id":"evt_1","type":"x","data":{{"object":{{"a":{}"#,
        "[".repeat(DEEP)
    );
    let message = invalid_message(body);
    assert!(
        message.contains("recursion limit exceeded") || message.contains("EOF while parsing"),
        "{message}"
    );
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        Just(json!("v2.core.event")),
        Just(json!("acct_1")),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            proptest::collection::btree_map(".{0,8}", inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A field that is absent or holds any JSON value.
fn field() -> impl Strategy<Value = Option<Value>> {
    proptest::option::of(json_value())
}

/// An envelope-shaped object with random values in the fields the parser reads.
fn envelope_value() -> impl Strategy<Value = Map<String, Value>> {
    let known = [
        "id",
        "object",
        "type",
        "account",
        "livemode",
        "created",
        "api_version",
        "context",
        "related_object",
        "data",
    ];
    let fields = proptest::collection::vec(field(), known.len());
    let data_object = proptest::option::of(json_value());
    let extra = proptest::collection::btree_map("[a-z_]{1,8}", json_value(), 0..4);
    (fields, data_object, extra).prop_map(move |(fields, data_object, extra)| {
        let mut map: Map<String, Value> = extra.into_iter().collect();
        for (name, value) in known.iter().zip(fields) {
            map.remove(*name);
            if let Some(value) = value {
                map.insert((*name).to_owned(), value);
            }
        }
        if let Some(object) = data_object {
            map.insert("data".to_owned(), json!({ "object": object }));
        }
        map
    })
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn is_thin(event: &Map<String, Value>) -> bool {
    event
        .get("object")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.starts_with("v2."))
}

/// The verdict the parser must give, worked out from the value rather than the text.
fn expected_code(event: &Map<String, Value>) -> Result<(), &'static str> {
    // A signed thin event with an id is always stored, whatever else it holds.
    if is_thin(event) {
        return non_empty_str(event.get("id"))
            .map(drop)
            .ok_or("invalid_payload");
    }
    // `data` is read into a struct before anything is checked: any other type is invalid.
    if event
        .get("data")
        .is_some_and(|data| !data.is_null() && !data.is_object())
    {
        return Err("invalid_payload");
    }
    let data_object = event.get("data").and_then(|data| data.get("object"));
    let (Some(id), Some(event_type), Some(object)) = (
        non_empty_str(event.get("id")),
        non_empty_str(event.get("type")),
        data_object.filter(|object| object.is_object()),
    ) else {
        return Err("invalid_payload");
    };
    // Present fields must have their type; ids are at most 255 bytes.
    let absent = |value: Option<&Value>| value.is_none_or(Value::is_null);
    let id_or_absent = |value: Option<&Value>| {
        absent(value) || non_empty_str(value).is_some_and(|id| id.len() <= 255)
    };
    let object_id = object.get("id");
    let needs_object_id = super::event_types::known(event_type).is_some();
    let valid = id.len() <= 255
        && event_type.len() <= 255
        && id_or_absent(event.get("account"))
        && (absent(event.get("livemode")) || event["livemode"].is_boolean())
        && (absent(event.get("created")) || event["created"].is_i64())
        && (absent(event.get("api_version")) || non_empty_str(event.get("api_version")).is_some())
        && id_or_absent(object_id)
        && !(needs_object_id && absent(object_id));
    if valid {
        Ok(())
    } else {
        Err("invalid_payload")
    }
}

proptest! {
    #[test]
    fn any_bytes_never_panic_the_parser(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        fuzz::parse_envelope(&data);
    }

    #[test]
    fn any_string_never_panics_the_parser(body in any::<String>()) {
        fuzz::parse_envelope(body.as_bytes());
    }

    #[test]
    fn envelopes_with_random_fields_get_the_expected_verdict(event in envelope_value()) {
        let body = serde_json::to_vec(&event).unwrap();
        fuzz::parse_envelope(&body);
        let parsed = Envelope::parse(&body);
        prop_assert_eq!(parsed.as_ref().map(|_| ()).map_err(|err| crate::error::ErrorCode::from(err).as_str()), expected_code(&event));
        if let Ok(envelope) = parsed {
            prop_assert_eq!(Some(envelope.id.as_str()), non_empty_str(event.get("id")));
            let account = if is_thin(&event) {
                event.get("context").and_then(Value::as_str).filter(|c| c.starts_with("acct_"))
            } else {
                non_empty_str(event.get("account"))
            };
            prop_assert_eq!(envelope.account.as_deref(), account);
            prop_assert_eq!(envelope.format == EventFormat::Thin, is_thin(&event));
            let created = event.get("created").and_then(Value::as_i64);
            if created.is_some() || !is_thin(&event) {
                prop_assert_eq!(envelope.created, created.unwrap_or(0));
            }
            prop_assert_eq!(envelope.livemode, event.get("livemode").and_then(Value::as_bool).unwrap_or(false));
        }
    }

    #[test]
    fn invalid_utf8_anywhere_is_refused(at in any::<prop::sample::Index>(), byte in 0x80u8..=0xff) {
        let mut body = event_with(r#""note":"    ","#, r#""id":"ch_1","name":"    ""#).into_bytes();
        let spaces: Vec<usize> = (0..body.len()).filter(|&i| body[i] == b' ').collect();
        body[spaces[at.index(spaces.len())]] = byte;
        let message = match Envelope::parse(&body) {
            Err(EnvelopeError::Invalid(message)) => message,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert!(message.starts_with("not UTF-8"), "{}", message);
    }

    #[test]
    fn huge_numbers_are_read_or_refused_never_panicked_on(
        number in "-?(0|[1-9][0-9]{0,400})(\\.[0-9]{1,50})?([eE][+-]?[0-9]{1,400})?"
    ) {
        let body = event_with(&format!(r#""created":{number},"#), &format!(r#""amount":{number}"#));
        // An integer is read; any other number is refused, never coerced to 0.
        match Envelope::parse(body.as_bytes()) {
            Ok(envelope) => prop_assert_eq!(Some(envelope.created), number.parse::<i64>().ok()),
            Err(EnvelopeError::Invalid(message)) => {
                prop_assert!(message.contains("number out of range") || message.contains("`created`"), "{}", message);
            }
        }
    }

    #[test]
    fn nesting_below_the_limit_is_read_and_above_it_refused(depth in 0usize..300, object in any::<bool>()) {
        let body = event_with(&format!(r#""account":{},"#, nested(depth, object)), "");
        let verdict = on_small_stack(move || Envelope::parse(body.as_bytes()));
        match verdict {
            // `null` is no account; any nesting under serde_json's limit of 128 is read and
            // refused as an account that is not a string; above it, the limit refuses it.
            Ok(envelope) => prop_assert!(depth == 0 && envelope.account.is_none()),
            Err(EnvelopeError::Invalid(message)) => {
                let limit = depth > 100 && message.contains("recursion limit exceeded");
                prop_assert!(depth > 0 && (limit || message.contains("`account`")), "{}", message);
            }
        }
    }
}
