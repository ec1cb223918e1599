//! A stand-in for Stripe's API, started by the tests on a random port: exactly the endpoints
//! the service calls, with Stripe's request rules (the bearer key, `Stripe-Account`,
//! form-encoded bodies, idempotency replay, list pagination) and error shape, and the
//! signed webhooks a real Stripe sends when its objects change. It records every request
//! for assertions.
//!
//! The endpoints live in submodules, each a `route` that answers the calls it knows:
//! [`events`] (the event list and webhook delivery), [`checkout`] (Checkout Sessions and a
//! customer paying them), [`catalog`] (products and prices) and [`objects`] (the other
//! lists a sync reads).

mod catalog;
mod checkout;
mod events;
mod form;
mod objects;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use warp::Filter;
use warp::Reply;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;

pub use checkout::Payment;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The decoded form body of a POST (`Value::Null` for other methods).
    pub params: Value,
    pub account: Option<String>,
    pub version: Option<String>,
    pub idempotency_key: Option<String>,
    pub authorized: bool,
    /// Whether the answer was a replay of an earlier request with the same key.
    pub replayed: bool,
}

/// An error answer in Stripe's shape.
#[derive(Debug, Clone)]
pub struct Fail {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
}

impl Fail {
    /// A 400 `invalid_request_error`.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some(code),
            message: message.into(),
        }
    }

    /// A 404 `resource_missing`.
    pub fn missing(what: &str, id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            message: format!("No such {what}: '{id}'"),
        }
    }

    fn reply(&self) -> Response {
        let mut body = json!({"error": {"type": self.kind, "message": self.message}});
        if let Some(code) = self.code {
            body["error"]["code"] = json!(code);
        }
        warp::reply::with_status(warp::reply::json(&body), self.status).into_response()
    }
}

/// What an endpoint answers: the object, or an error.
pub type Answer = Result<Value, Fail>;

/// One API call, as the endpoints see it.
pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub account: Option<&'a str>,
    pub params: &'a Value,
}

impl Call<'_> {
    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The path's segments after `prefix`, when it starts with it.
    pub fn rest<'p>(&'p self, prefix: &str) -> Option<Vec<&'p str>> {
        let rest = self.path.strip_prefix(prefix)?;
        Some(rest.split('/').filter(|s| !s.is_empty()).collect())
    }
}

/// The first answer to an idempotency key, replayed for later requests with the key.
struct Kept {
    request: (String, String, Value),
    status: StatusCode,
    body: Value,
}

#[derive(Default)]
pub struct State {
    pub base: String,
    key: String,
    /// A restricted key that may not read the account (403 on `GET /v1/account`).
    restricted: Option<String>,
    /// Events by account (`None`: the platform's), in any order.
    pub events: HashMap<Option<String>, Vec<Value>>,
    /// API objects by account and id.
    pub objects: HashMap<(Option<String>, String), Value>,
    next_id: u64,
    /// Requests still to answer 429, and the `Stripe-Should-Retry` they carry.
    throttle: (u32, Option<bool>, Option<u64>),
    /// Errors the next POSTs answer instead of their work.
    failures: Vec<Fail>,
    /// What an endpoint keeps about an object beyond its Stripe fields, by object id.
    pub private: HashMap<String, Value>,
    /// First answers by account and idempotency key.
    idempotent: HashMap<(Option<String>, String), Kept>,
    /// Where new events are signed and sent, when a receiver is set.
    webhooks: Option<mpsc::UnboundedSender<Value>>,
    requests: Vec<Recorded>,
    list_failure: Option<objects::ListFailure>,
}

impl State {
    /// A fresh object id with Stripe's prefix, such as `prod_test_0001`.
    pub fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_test_{:04}", self.next_id)
    }

    pub fn object(&self, account: Option<&str>, id: &str) -> Option<&Value> {
        self.objects
            .get(&(account.map(str::to_owned), id.to_owned()))
    }

    pub fn put(&mut self, account: Option<&str>, object: Value) {
        let id = object["id"]
            .as_str()
            .expect("objects have an id")
            .to_owned();
        self.objects
            .insert((account.map(str::to_owned), id), object);
    }
}

/// A running stand-in; it stops with the test's runtime.
#[derive(Clone)]
pub struct StripeServer {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl StripeServer {
    /// Starts a server that accepts the secret key `key` only.
    pub async fn start(key: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            base: base.clone(),
            key: key.to_owned(),
            ..Default::default()
        }));
        let shared = state.clone();
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(
                move |method: Method,
                      path: warp::path::FullPath,
                      query: String,
                      headers: HeaderMap,
                      body: bytes::Bytes| {
                    answer(&shared, &method, path.as_str(), &query, &headers, &body)
                },
            );
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Self { base, state }
    }

    /// Adds events of `account` (`None`: the platform); a connected account's carry
    /// `account`, as Stripe sends them. They are listed, not sent.
    pub fn add_events(&self, account: Option<&str>, events: impl IntoIterator<Item = Value>) {
        let mut state = self.state.lock().unwrap();
        let list = state.events.entry(account.map(str::to_owned)).or_default();
        for mut event in events {
            if let Some(account) = account {
                event["account"] = json!(account);
            }
            list.push(event);
        }
    }

    /// Adds an API object (a price, a product) to `account` (`None`: the platform).
    pub fn add_object(&self, account: Option<&str>, object: Value) {
        self.state.lock().unwrap().put(account, object);
    }

    /// The object `id` of `account`, as the server holds it now.
    pub fn object(&self, account: Option<&str>, id: &str) -> Option<Value> {
        self.state.lock().unwrap().object(account, id).cloned()
    }

    /// Every object of `account` whose `object` field is `kind`.
    pub fn objects(&self, account: Option<&str>, kind: &str) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        let account = account.map(str::to_owned);
        let mut found: Vec<Value> = state
            .objects
            .iter()
            .filter(|((owner, _), object)| *owner == account && object["object"] == kind)
            .map(|(_, object)| object.clone())
            .collect();
        found.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        found
    }

    /// From now on every event the server makes is signed with the tests' webhook secret
    /// and sent to `url`, one at a time in the order made, retried until it is accepted.
    pub fn send_webhooks_to(&self, url: &str) {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.state.lock().unwrap().webhooks = Some(sender);
        tokio::spawn(events::deliver(url.to_owned(), receiver));
    }

    /// The next `count` requests are answered 429, with `Stripe-Should-Retry` when given.
    pub fn throttle(&self, count: u32, should_retry: Option<bool>) {
        self.state.lock().unwrap().throttle = (count, should_retry, None);
    }

    /// The next `count` requests are answered 429 with `Retry-After: secs`.
    pub fn throttle_for(&self, count: u32, secs: u64) {
        self.state.lock().unwrap().throttle = (count, None, Some(secs));
    }

    /// The next POST is answered with `fail` instead of doing its work.
    pub fn fail_next_post(&self, fail: Fail) {
        self.state.lock().unwrap().failures.push(fail);
    }

    /// Also accepts `key`, a restricted key lacking the permission to read the account.
    pub fn restricted_key(&self, key: &str) {
        self.state.lock().unwrap().restricted = Some(key.to_owned());
    }

    /// The events of `account` (`None`: the platform) the server made or was given, in
    /// the order made.
    pub fn listed_events(&self, account: Option<&str>) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state
            .events
            .get(&account.map(str::to_owned))
            .cloned()
            .unwrap_or_default()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn with_state<T>(&self, work: impl FnOnce(&mut State) -> T) -> T {
        work(&mut self.state.lock().unwrap())
    }
}

fn answer(
    state: &Mutex<State>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut state = state.lock().unwrap();
    let authorization = header("authorization");
    let restricted = state
        .restricted
        .as_ref()
        .is_some_and(|key| authorization.as_deref() == Some(&format!("Bearer {key}")));
    let authorized =
        restricted || authorization.as_deref() == Some(&format!("Bearer {}", state.key));
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let account = header("stripe-account");
    let is_post = method == Method::POST;
    let params = if is_post {
        form::decode(body)
    } else {
        Ok(Value::Null)
    };
    let idempotency_key = header("idempotency-key").filter(|_| is_post);
    state.requests.push(Recorded {
        method: method.to_string(),
        path: path.to_owned(),
        query: query.clone(),
        params: params.clone().unwrap_or(Value::Null),
        account: account.clone(),
        version: header("stripe-version"),
        idempotency_key: idempotency_key.clone(),
        authorized,
        replayed: false,
    });
    if !authorized {
        return Fail {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            message: "Invalid API Key provided: sk_test_****".to_owned(),
        }
        .reply();
    }
    if let Some(reply) = throttled(&mut state) {
        return reply;
    }
    let params = match params {
        Ok(params) => params,
        Err(fail) => return fail.reply(),
    };
    if is_post && header("content-type").as_deref() != Some("application/x-www-form-urlencoded") {
        return Fail::invalid(
            "invalid_request_body",
            "Stripe takes form-encoded bodies (application/x-www-form-urlencoded).",
        )
        .reply();
    }
    let fingerprint = (method.to_string(), path.to_owned(), params.clone());
    let slot = idempotency_key.map(|key| (account.clone(), key));
    if let Some(kept) = slot.as_ref().and_then(|slot| state.idempotent.get(slot)) {
        if kept.request != fingerprint {
            return Fail::invalid(
                "idempotency_key_in_use",
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            )
            .reply();
        }
        let mut reply =
            warp::reply::with_status(warp::reply::json(&kept.body), kept.status).into_response();
        reply
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().unwrap());
        state.requests.last_mut().unwrap().replayed = true;
        return reply;
    }
    let call = Call {
        method: method.as_str(),
        path,
        query: &query,
        account: account.as_deref(),
        params: &params,
    };
    let result = if is_post && !state.failures.is_empty() {
        Err(state.failures.remove(0))
    } else {
        route(&mut state, &call, restricted)
    };
    let (status, body) = match &result {
        Ok(body) => (StatusCode::OK, body.clone()),
        Err(fail) => (
            fail.status,
            json!({"error": {"type": fail.kind, "code": fail.code, "message": fail.message}}),
        ),
    };
    // Stripe keeps the answer of every request that ran, errors included, but not of one
    // refused before it ran (validation, rate limits).
    let ran = status.is_success() || status == StatusCode::PAYMENT_REQUIRED;
    if let (Some(slot), true) = (slot, ran) {
        state.idempotent.insert(
            slot,
            Kept {
                request: fingerprint,
                status,
                body: body.clone(),
            },
        );
    }
    match result {
        Ok(body) => warp::reply::json(&body).into_response(),
        Err(fail) => fail.reply(),
    }
}

/// A 429 while the throttle lasts.
fn throttled(state: &mut State) -> Option<Response> {
    if state.throttle.0 == 0 {
        return None;
    }
    state.throttle.0 -= 1;
    let mut reply = Fail {
        status: StatusCode::TOO_MANY_REQUESTS,
        kind: "invalid_request_error",
        code: Some("rate_limit"),
        message: "Too many requests hit the API too quickly.".to_owned(),
    }
    .reply();
    if let Some(retry) = state.throttle.1 {
        reply
            .headers_mut()
            .insert("stripe-should-retry", retry.to_string().parse().unwrap());
    }
    if let Some(secs) = state.throttle.2 {
        reply
            .headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
    }
    Some(reply)
}

fn route(state: &mut State, call: &Call<'_>, restricted: bool) -> Answer {
    if let Some(answer) = account(call, restricted) {
        return answer;
    }
    objects::failing(state, call)
        .or_else(|| events::route(state, call))
        .or_else(|| checkout::route(state, call))
        .or_else(|| catalog::route(state, call))
        .or_else(|| objects::route(state, call))
        .unwrap_or_else(|| {
            Err(Fail {
                status: StatusCode::NOT_FOUND,
                kind: "invalid_request_error",
                code: Some("resource_missing"),
                message: format!("Unrecognized request URL ({} {}).", call.method, call.path),
            })
        })
}

/// `GET /v1/account`: the platform's account, or the connected account named.
fn account(call: &Call<'_>, restricted: bool) -> Option<Answer> {
    if (call.method, call.path) != ("GET", "/v1/account") {
        return None;
    }
    if restricted {
        return Some(Err(Fail {
            status: StatusCode::FORBIDDEN,
            kind: "invalid_request_error",
            code: Some("secret_key_required"),
            message: "The provided key 'rk_test_****' does not have the required permissions for this endpoint.".to_owned(),
        }));
    }
    let mut account =
        crate::helpers::fixture_value("account.updated.json")["data"]["object"].clone();
    account["id"] = json!(call.account.unwrap_or("acct_platform"));
    Some(Ok(account))
}

/// The current time, as Stripe's `created`.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
