//! Stripe's form encoding: `metadata[key]=v`, `line_items[0][price]=p`, `images[]=u`,
//! decoded into the JSON the endpoints read. Values stay strings, as Stripe receives them.

use serde_json::{Map, Value};

use super::Fail;

/// The parameters of a form body.
pub fn decode(body: &[u8]) -> Result<Value, Fail> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| Fail::invalid("invalid_request_body", "The body is not form-encoded."))?;
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let path = segments(&key)
            .ok_or_else(|| Fail::invalid("parameter_unknown", format!("Invalid key: {key}")))?;
        insert(&mut root, &path, value, &key)?;
    }
    Ok(arrays(root))
}

/// `a[b][0]` as `["a", "b", "0"]`; `[]` appends (an empty segment).
fn segments(key: &str) -> Option<Vec<String>> {
    let (head, mut rest) = match key.find('[') {
        Some(at) => (&key[..at], &key[at..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut path = vec![head.to_owned()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        path.push(inner[..end].to_owned());
        rest = &inner[end + 1..];
    }
    Some(path)
}

fn insert(node: &mut Value, path: &[String], value: String, key: &str) -> Result<(), Fail> {
    let clash = || Fail::invalid("parameter_invalid", format!("Invalid parameter: {key}"));
    let Value::Object(map) = node else {
        return Err(clash());
    };
    let name = if path[0].is_empty() {
        // `[]`: the next index.
        map.len().to_string()
    } else {
        path[0].clone()
    };
    if path.len() == 1 {
        if map.insert(name, Value::String(value)).is_some() && !path[0].is_empty() {
            return Err(clash());
        }
        return Ok(());
    }
    let child = map.entry(name).or_insert_with(|| Value::Object(Map::new()));
    insert(child, &path[1..], value, key)
}

/// Objects whose keys are all indices become arrays, in index order.
fn arrays(node: Value) -> Value {
    match node {
        Value::Object(map) => {
            let indexed = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap(), arrays(v)))
                    .collect();
                items.sort_by_key(|(index, _)| *index);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}

#[test]
fn brackets_nest_and_indices_make_arrays() {
    let body = b"mode=payment&line_items[0][price]=price_1&line_items[0][quantity]=2\
&line_items[1][price]=price_2&metadata[items]=x&images[]=a&images[]=b";
    let decoded = decode(body).unwrap();
    assert_eq!(
        decoded,
        serde_json::json!({
            "mode": "payment",
            "line_items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
            "metadata": {"items": "x"},
            "images": ["a", "b"],
        })
    );
    assert!(decode(b"a=1&a[b]=2").is_err());
}
