//! The lists a sync's `--objects` reads beside products and prices (in [`super::catalog`]):
//! `GET /v1/accounts` (the platform's connected accounts), `GET /v1/customers` and
//! `GET /v1/payment_intents`, with Stripe's list rules; and a listing that fails mid-way
//! ([`StripeServer::fail_listing`]), to interrupt a sync.

use serde_json::Value;
use warp::http::StatusCode;

use super::events::list;
use super::{Answer, Call, Fail, State, StripeServer};

/// A listing failing mid-way: after `served` pages of `path`, the next `failures` requests
/// of it answer 500.
#[derive(Debug, Clone, Default)]
pub struct ListFailure {
    path: String,
    served: usize,
    failures: u32,
}

impl StripeServer {
    /// After `pages` more pages of `path`, answers its next `failures` requests with 500
    /// (the client retries each, so `failures` of at least its attempts fails the listing).
    pub fn fail_listing(&self, path: &str, pages: usize, failures: u32) {
        self.with_state(|state| {
            state.list_failure = Some(ListFailure {
                path: path.to_owned(),
                served: pages,
                failures,
            })
        });
    }
}

/// A 500 when the listing is set to fail now.
pub fn failing(state: &mut State, call: &Call<'_>) -> Option<Answer> {
    let failure = state.list_failure.as_mut()?;
    if call.method != "GET" || call.path != failure.path {
        return None;
    }
    if failure.served > 0 {
        failure.served -= 1;
        return None;
    }
    if failure.failures == 0 {
        return None;
    }
    failure.failures -= 1;
    Some(Err(Fail {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        kind: "api_error",
        code: None,
        message: "An unknown error occurred".to_owned(),
    }))
}

pub fn route(state: &mut State, call: &Call<'_>) -> Option<Answer> {
    let kind = match (call.method, call.path) {
        ("GET", "/v1/accounts") if call.account.is_none() => "account",
        ("GET", "/v1/customers") => "customer",
        ("GET", "/v1/payment_intents") => "payment_intent",
        _ => return None,
    };
    let account = call.account.map(str::to_owned);
    let items: Vec<Value> = state
        .objects
        .iter()
        .filter(|((owner, _), object)| *owner == account && object["object"] == kind)
        .map(|(_, object)| object.clone())
        .collect();
    Some(list(items, call, call.path, kind))
}
