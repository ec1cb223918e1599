//! A small typed client of Stripe's REST API on reqwest: the key as a bearer token (never
//! logged, never in an error), `Stripe-Account` for a connected account, one pinned
//! `Stripe-Version`, form-encoded POSTs with an `Idempotency-Key` named by the caller,
//! retries with exponential backoff and jitter (429, 5xx, connection errors; Stripe's
//! `Stripe-Should-Retry` and `Retry-After` win), a client-side rate budget shared by clones,
//! list pagination, and the key check shared by start-up and `payments doctor`.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::telemetry::one_line;

use crate::config::Settings;

/// The API version every request asks for (the one the service's parsers are tested on).
pub const API_VERSION: &str = "2026-06-24.dahlia";
/// Items per page of a list (Stripe's maximum).
pub const PAGE_LIMIT: u32 = 100;
/// Requests per second allowed to a test-mode key (Stripe allows about 25).
pub const TEST_RATE: f64 = 25.0;
/// Requests per second allowed to a live key (Stripe allows about 100).
pub const LIVE_RATE: f64 = 90.0;
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a call to Stripe failed. Never holds the key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error (`{"error":{"type","code","message"}}`).
    #[error("HTTP {status} {kind}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Api {
        status: u16,
        /// Stripe's error `type`, such as `invalid_request_error`.
        kind: String,
        code: Option<String>,
        message: String,
    },
    /// No answer: connection refused, DNS, timeout.
    #[error("cannot reach {base}: {detail}")]
    Unreachable { base: String, detail: String },
    /// An answer that is not what the endpoint returns.
    #[error("unreadable answer from Stripe ({0})")]
    Decode(String),
}

impl StripeError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// How failed requests are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub base: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// Backoff after `attempt` failed attempts (1-based), with up to half again as jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.clamp(1, 16) - 1;
        let wait = self
            .base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max);
        let jitter = rand::rng().random_range(0..=wait.as_millis() as u64 / 2);
        wait + Duration::from_millis(jitter)
    }
}

/// A token bucket: `rate` requests per second, bursts up to `rate`.
#[derive(Debug)]
struct Budget {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl Budget {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            state: Mutex::new((rate, Instant::now())),
        }
    }

    /// Waits for a token.
    async fn take(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let now = Instant::now();
                let (tokens, last) = *state;
                let tokens =
                    (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.rate);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A Stripe API client. Clones share the connection pool and the rate budget.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: SecretString,
    budget: Arc<Budget>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// One page of a Stripe list.
#[derive(Debug, serde::Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: bool,
}

/// An item of a list: its `id` is the next page's `starting_after`.
pub trait ListItem {
    fn item_id(&self) -> Option<String>;
}

impl ListItem for serde_json::Value {
    fn item_id(&self) -> Option<String> {
        self.get("id")?.as_str().map(str::to_owned)
    }
}

impl ListItem for Box<RawValue> {
    fn item_id(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Id {
            id: String,
        }
        serde_json::from_str::<Id>(self.get()).ok().map(|id| id.id)
    }
}

impl Client {
    /// A client of `base` (`https://api.stripe.com`, without a trailing slash) with `key`;
    /// the rate budget follows the key's mode.
    pub fn new(base: &str, key: SecretString) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rate = match key_mode(key.expose_secret()) {
            Some(true) => LIVE_RATE,
            _ => TEST_RATE,
        };
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("payments/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the client's settings are valid");
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            budget: Arc::new(Budget::new(rate)),
            retry: RetryPolicy::default(),
        }
    }

    /// The client of the configured key, if one is set.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let key = settings.stripe_api_key.clone()?;
        Some(Self::new(&settings.stripe_api_base, key))
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The same client with another timeout per request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("payments/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the client's settings are valid");
        self
    }

    /// The same client with another rate budget (requests per second), no longer shared.
    pub fn with_rate(mut self, rate: f64) -> Self {
        self.budget = Arc::new(Budget::new(rate.max(0.1)));
        self
    }

    /// The API's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether the key is a live key (`Some(false)`: test; `None`: not recognised).
    pub fn live(&self) -> Option<bool> {
        key_mode(self.key.expose_secret())
    }

    /// `GET path?query`, on behalf of `account` when given.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &impl Serialize,
        account: Option<&str>,
    ) -> Result<T, StripeError> {
        let query = serde_urlencoded::to_string(query)
            .map_err(|err| StripeError::Decode(format!("query: {err}")))?;
        self.send(Method::GET, path, &query, None, account).await
    }

    /// `POST path` with the form-encoded `form`, on behalf of `account` when given. The
    /// `idempotency_key` names what is created (`import-acct_1-sku-42`), so a retried command
    /// creates nothing twice: Stripe answers a replayed key with the first answer.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &impl Serialize,
        account: Option<&str>,
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let body = serde_urlencoded::to_string(form)
            .map_err(|err| StripeError::Decode(format!("form: {err}")))?;
        self.send(Method::POST, path, &body, Some(idempotency_key), account)
            .await
    }

    /// Every item of a list, page after page (`limit=100`, `starting_after` the last id),
    /// in the order Stripe lists them. `on_page` hears the count after each page. It holds
    /// the whole list: [`Client::list_page`] reads one page at a time.
    pub async fn list_all<T: DeserializeOwned + ListItem>(
        &self,
        path: &str,
        params: &[(&str, String)],
        account: Option<&str>,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<T>, StripeError> {
        let mut items: Vec<T> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (page, next) = self
                .list_page(path, params, account, after.as_deref())
                .await?;
            items.extend(page);
            on_page(items.len());
            match next {
                Some(next) => after = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// One page of a list (`limit=100`), after the item `starting_after` when given: its
    /// items in Stripe's order, and the next page's `starting_after` (`None` on the last
    /// page).
    pub async fn list_page<T: DeserializeOwned + ListItem>(
        &self,
        path: &str,
        params: &[(&str, String)],
        account: Option<&str>,
        starting_after: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), StripeError> {
        let mut query: Vec<(&str, String)> = params.to_vec();
        query.push(("limit", PAGE_LIMIT.to_string()));
        if let Some(after) = starting_after {
            query.push(("starting_after", after.to_owned()));
        }
        let page: Page<T> = self.get(path, &query, account).await?;
        let next = match page.has_more {
            true => page.data.last().and_then(ListItem::item_id),
            false => None,
        };
        Ok((page.data, next))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &str,
        idempotency_key: Option<&str>,
        account: Option<&str>,
    ) -> Result<T, StripeError> {
        let mut url = format!("{}{path}", self.base);
        if method == Method::GET && !params.is_empty() {
            url.push('?');
            url.push_str(params);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.budget.take().await;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.key.expose_secret())
                .header("Stripe-Version", API_VERSION);
            if let Some(account) = account {
                request = request.header("Stripe-Account", account);
            }
            if method == Method::POST {
                request = request
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(params.to_owned());
                if let Some(key) = idempotency_key {
                    request = request.header("Idempotency-Key", key);
                }
            }
            let last = attempt >= self.retry.max_attempts;
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    let retryable = err.is_connect() || err.is_timeout() || err.is_request();
                    if retryable && !last {
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        continue;
                    }
                    return Err(StripeError::Unreachable {
                        base: self.base.clone(),
                        detail: one_line(&err.without_url()),
                    });
                }
            };
            let status = response.status();
            let should_retry = response
                .headers()
                .get("stripe-should-retry")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.eq_ignore_ascii_case("true"));
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|secs| secs.is_finite() && *secs >= 0.0)
                .map(|secs| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER));
            let text = response
                .text()
                .await
                .map_err(|err| StripeError::Decode(one_line(&err.without_url())))?;
            if status.is_success() {
                return serde_json::from_str(&text)
                    .map_err(|err| StripeError::Decode(err.to_string()));
            }
            let retryable = should_retry
                .unwrap_or(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error());
            if retryable && !last {
                let wait = self
                    .retry
                    .backoff(attempt)
                    .max(retry_after.unwrap_or_default());
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(api_error(status.as_u16(), &text));
        }
    }
}

/// Stripe's error shape read leniently.
fn api_error(status: u16, text: &str) -> StripeError {
    let body: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let error = &body["error"];
    StripeError::Api {
        status,
        kind: error["type"].as_str().unwrap_or("api_error").to_owned(),
        code: error["code"].as_str().map(str::to_owned),
        message: error["message"].as_str().unwrap_or("no message").to_owned(),
    }
}

/// `Some(true)` for a live key, `Some(false)` for a test key.
pub fn key_mode(key: &str) -> Option<bool> {
    let mode = key.split('_').nth(1)?;
    match mode {
        "live" => Some(true),
        "test" => Some(false),
        _ => None,
    }
}

/// What `GET /v1/account` said of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// A valid key of `account`, of the data's mode: the detail says which.
    Valid(String),
    /// A restricted key lacking a permission (403): it works, with less.
    Restricted(String),
    /// Stripe refused the key (401), or it is of the other mode than the stored data.
    Refused(String),
    /// Stripe could not be asked (unreachable, or an error of its own).
    Unavailable(String),
}

impl KeyCheck {
    /// The line to show.
    pub fn detail(&self) -> &str {
        match self {
            Self::Valid(d) | Self::Restricted(d) | Self::Refused(d) | Self::Unavailable(d) => d,
        }
    }
}

/// Checks the key with `GET /v1/account`: valid, test or live, and of the same mode as the
/// stored events (`data_modes`: whether live events are stored, whether test-mode ones are;
/// `store::db::modes_in_data`). Used by start-up and `payments doctor`; every message is
/// one line with the fix, and none shows the key.
pub async fn check_key(client: &Client, data_modes: (bool, bool)) -> KeyCheck {
    let live = client.live();
    let account: serde_json::Value = match client
        .get("/v1/account", &Vec::<(String, String)>::new(), None)
        .await
    {
        Ok(account) => account,
        Err(StripeError::Unreachable { base, detail }) => {
            return KeyCheck::Unavailable(format!(
                "Stripe connection failed: cannot reach {base}: {detail} — check the network \
                 and STRIPE_API_BASE"
            ));
        }
        Err(StripeError::Api {
            status: 401,
            message,
            ..
        }) => {
            return KeyCheck::Refused(format!(
                "Stripe connection failed: the key is invalid, expired or revoked ({message}) \
                 — create or roll a key in the Dashboard (Developers > API keys) and set \
                 STRIPE_API_KEY"
            ));
        }
        Err(StripeError::Api {
            status: 403,
            message,
            ..
        }) => {
            return KeyCheck::Restricted(format!(
                "the key works but may not read the account ({message}) — give the restricted \
                 key the permissions the service needs"
            ));
        }
        Err(StripeError::Api {
            status, message, ..
        }) => {
            return KeyCheck::Unavailable(format!(
                "Stripe connection failed: HTTP {status} ({message})"
            ));
        }
        Err(err @ StripeError::Decode(_)) => {
            return KeyCheck::Unavailable(format!("Stripe connection failed: {err}"));
        }
    };
    let account = account["id"].as_str().unwrap_or("an account");
    let mode = match live {
        Some(true) => "live",
        Some(false) => "test",
        None => "unknown-mode",
    };
    let (data_live, data_test) = data_modes;
    let mismatch = match live {
        Some(true) => data_test && !data_live,
        Some(false) => data_live,
        None => false,
    };
    if mismatch {
        return KeyCheck::Refused(format!(
            "a valid {mode} key of {account}, but the stored events are {} — use the key of \
             the same mode as the webhook endpoint",
            if data_live { "live" } else { "test-mode" }
        ));
    }
    KeyCheck::Valid(format!("a valid {mode} key of {account}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_modes() {
        assert_eq!(key_mode("sk_live_abc"), Some(true));
        assert_eq!(key_mode("rk_test_abc"), Some(false));
        assert_eq!(key_mode("nonsense"), None);
    }

    #[test]
    fn api_errors_carry_stripes_fields() {
        let err = api_error(
            402,
            r#"{"error":{"type":"card_error","code":"card_declined","message":"Declined."}}"#,
        );
        assert_eq!(err.status(), Some(402));
        assert_eq!(
            err.to_string(),
            "HTTP 402 card_error (card_declined): Declined."
        );
        assert_eq!(
            api_error(500, "oops").to_string(),
            "HTTP 500 api_error: no message"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        for (attempt, low) in [(1, 100), (2, 200), (3, 300), (4, 300)] {
            let wait = policy.backoff(attempt).as_millis();
            assert!(wait >= low && wait <= low * 3 / 2, "{attempt}: {wait}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        let client = Client::new("http://x", SecretString::from("sk_test_hidden".to_owned()));
        assert!(!format!("{client:?}").contains("sk_test_hidden"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_spaces_requests_beyond_the_burst() {
        let budget = Budget::new(10.0);
        let start = Instant::now();
        for _ in 0..20 {
            budget.take().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(950) && elapsed < Duration::from_millis(1100),
            "{elapsed:?}"
        );
    }
}
