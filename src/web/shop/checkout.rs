//! Buying: the cart page, `POST /shop/{store}/cart` (add, change, remove),
//! `POST /shop/{store}/checkout` (a Checkout Session for the seller, then Stripe's hosted
//! page), and the pages Stripe sends the shopper back to (`/checkout/success`,
//! `/checkout/canceled`).
//!
//! The session follows `CHARGE_MODEL`: a direct charge is created on the seller's
//! connected account (`Stripe-Account`) with the seller's prices; a destination charge on
//! the platform, with the same amounts as inline prices (the seller's prices do not exist
//! on the platform) and `transfer_data.destination` naming the seller. Both carry the
//! platform's fee (`PLATFORM_FEE_PERCENT`) as `application_fee_amount`, and the lines in
//! `metadata.items` (the session's and the PaymentIntent's), which is where the order's
//! items come from. The order is written at once as `pending`, from the session Stripe
//! answered with ([`crate::store::checkout`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use entity::status::OrderStatus;
use entity::{order, store};
use maud::{Markup, html};
use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;

use super::cart::{self, Cart, Refusal};
use super::{Web, headers, money, page, redirect, shop_frame, shop_url, unavailable};
use crate::config::ChargeModel;
use crate::store::admin::orders::{ItemCatalog, item_catalog};
use crate::store::admin::products::{self, PricedProduct};
use crate::store::checkout::{order_of_session, record_session};
use crate::stripe::api::{Client, StripeError};
use crate::stripe::envelope::PLATFORM_STORE;
use crate::web::{contact, keys};

/// Stripe's limit on one metadata value.
const METADATA_MAX: usize = 500;

/// One line being bought, priced as it is now.
#[derive(Debug, Clone)]
pub struct Line {
    pub product: String,
    pub name: String,
    pub description: Option<String>,
    pub image: Option<String>,
    pub price: String,
    pub unit_amount: i64,
    pub currency: String,
    pub quantity: u32,
}

impl Line {
    fn total(&self) -> i64 {
        self.unit_amount.saturating_mul(i64::from(self.quantity))
    }
}

/// Why something cannot be bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotForSale {
    /// The product is unknown, archived, or has no active one-time price.
    Product(String),
    /// Lines in different currencies: one session takes one currency.
    Currencies,
    Empty,
}

impl NotForSale {
    fn text(&self) -> String {
        match self {
            Self::Product(name) => format!("{name} cannot be bought online right now."),
            Self::Currencies => {
                "Products priced in different currencies cannot be bought together.".into()
            }
            Self::Empty => "Your cart is empty.".into(),
        }
    }
}

/// Whether `priced` can be bought here now: active, with an active one-time price.
pub fn for_sale(priced: &PricedProduct) -> bool {
    let price = priced.price.as_ref();
    priced.product.active
        && priced.product.deleted_at.is_none()
        && price.is_some_and(|price| {
            price.active
                && price.deleted_at.is_none()
                && price.recurring.as_ref().is_none_or(Value::is_null)
                && price.unit_amount.is_some_and(|amount| amount > 0)
                && price.currency.is_some()
        })
}

/// The priced lines of `wanted` (product, quantity) in `store`.
pub async fn price_lines(
    web: &Web,
    store: &store::Model,
    wanted: &[(String, u32)],
) -> Result<Result<Vec<Line>, NotForSale>, sea_orm::DbErr> {
    if wanted.is_empty() {
        return Ok(Err(NotForSale::Empty));
    }
    let ids: Vec<String> = wanted.iter().map(|(id, _)| id.clone()).collect();
    let found = products::by_ids(&web.db, &store.id, store.livemode, &ids)
        .await
        .map_err(|err| match err {
            crate::store::admin::QueryError::Db(err) => err,
            other => sea_orm::DbErr::Custom(other.to_string()),
        })?;
    let mut lines = Vec::with_capacity(wanted.len());
    for (id, quantity) in wanted {
        let Some(priced) = found.iter().find(|p| &p.product.id == id) else {
            return Ok(Err(NotForSale::Product("A product of your cart".into())));
        };
        let name = priced
            .product
            .name
            .clone()
            .unwrap_or_else(|| "This product".into());
        let (true, Some(price)) = (for_sale(priced), priced.price.as_ref()) else {
            return Ok(Err(NotForSale::Product(name)));
        };
        lines.push(Line {
            product: id.clone(),
            name,
            description: priced.product.description.clone(),
            image: first_image(priced),
            price: price.id.clone(),
            unit_amount: price.unit_amount.unwrap_or(0),
            currency: price.currency.clone().unwrap_or_default(),
            quantity: *quantity,
        });
    }
    if lines.iter().any(|line| line.currency != lines[0].currency) {
        return Ok(Err(NotForSale::Currencies));
    }
    Ok(Ok(lines))
}

fn first_image(priced: &PricedProduct) -> Option<String> {
    let images = priced.product.images.as_ref()?.as_array()?;
    images
        .iter()
        .filter_map(Value::as_str)
        .find(|url| url.starts_with("https://"))
        .map(str::to_owned)
}

/// The platform's fee on `total`: `bps` basis points, rounded half up.
pub fn fee(total: i64, bps: u32) -> i64 {
    let fee = (i128::from(total) * i128::from(bps) + 5_000) / 10_000;
    i64::try_from(fee).unwrap_or(i64::MAX)
}

/// `metadata.items` for `lines` (see `domain::orders::items`): the JSON form with as many
/// fields as fit in Stripe's 500 characters, else the compact form.
pub fn items_metadata(lines: &[Line]) -> String {
    let full: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({"product": l.product, "price": l.price, "quantity": l.quantity,
                   "unit_amount": l.unit_amount, "currency": l.currency})
        })
        .collect();
    let full = Value::Array(full).to_string();
    if full.len() <= METADATA_MAX {
        return full;
    }
    let short: Vec<Value> = lines
        .iter()
        .map(|l| json!({"price": l.price, "quantity": l.quantity, "unit_amount": l.unit_amount}))
        .collect();
    let short = Value::Array(short).to_string();
    if short.len() <= METADATA_MAX {
        return short;
    }
    // Price ids, which always have Stripe's prefix (a product's may not).
    let compact: Vec<String> = lines
        .iter()
        .map(|l| format!("{}:{}", l.price, l.quantity))
        .collect();
    compact.join(",")
}

/// What a session is created with, besides the lines.
pub struct SessionPlan<'a> {
    pub model: ChargeModel,
    pub fee_bps: u32,
    pub seller: &'a str,
    /// The shop's absolute URL, such as `https://shop.example.com/shop/lumen-leaf`.
    pub shop_url: &'a str,
    pub from_cart: bool,
}

/// The form of `POST /v1/checkout/sessions`.
/// The parameters are the same for the same lines, so that a repeated attempt (a double
/// click) is Stripe's idempotent replay rather than a refused reuse of its key: no
/// `expires_at`, whose value would move with the clock. Stripe's session then stays open
/// 24 hours, after which `checkout.session.expired` cancels an abandoned order.
pub fn session_params(plan: &SessionPlan<'_>, lines: &[Line]) -> Vec<(String, String)> {
    let back = if plan.from_cart { "&from=cart" } else { "" };
    let mut params = vec![
        ("mode".to_owned(), "payment".to_owned()),
        (
            "success_url".to_owned(),
            format!(
                "{}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}{back}",
                plan.shop_url
            ),
        ),
        (
            "cancel_url".to_owned(),
            format!(
                "{}/checkout/canceled?{}",
                plan.shop_url,
                back.trim_start_matches('&')
            ),
        ),
    ];
    for (index, line) in lines.iter().enumerate() {
        let key = |field: &str| format!("line_items[{index}]{field}");
        match plan.model {
            ChargeModel::Direct => params.push((key("[price]"), line.price.clone())),
            ChargeModel::Destination => {
                params.push((key("[price_data][currency]"), line.currency.clone()));
                params.push((
                    key("[price_data][unit_amount]"),
                    line.unit_amount.to_string(),
                ));
                params.push((key("[price_data][product_data][name]"), line.name.clone()));
                if let Some(description) = line.description.as_deref().filter(|d| !d.is_empty()) {
                    let key = key("[price_data][product_data][description]");
                    params.push((key, description.chars().take(500).collect()));
                }
                if let Some(image) = &line.image {
                    params.push((key("[price_data][product_data][images][0]"), image.clone()));
                }
            }
        }
        params.push((key("[quantity]"), line.quantity.to_string()));
    }
    let items = items_metadata(lines);
    params.push(("metadata[items]".into(), items.clone()));
    params.push(("payment_intent_data[metadata][items]".into(), items));
    let total: i64 = lines.iter().map(Line::total).sum();
    let fee = fee(total, plan.fee_bps);
    if fee > 0 {
        params.push((
            "payment_intent_data[application_fee_amount]".into(),
            fee.to_string(),
        ));
    }
    if plan.model == ChargeModel::Destination {
        params.push(("metadata[seller_account]".into(), plan.seller.to_owned()));
        params.push((
            "payment_intent_data[transfer_data][destination]".into(),
            plan.seller.to_owned(),
        ));
    }
    params
}

/// The store whose events carry a checkout of `store` under `model`.
fn source_store(model: ChargeModel, store: &store::Model) -> &str {
    match model {
        ChargeModel::Direct => &store.id,
        ChargeModel::Destination => PLATFORM_STORE,
    }
}

/// `POST /shop/{store}/cart`: `action=add` (from a product page) or `set` (the cart's
/// quantity fields; 0 removes), then back to the cart.
pub async fn change_cart(
    web: Arc<Web>,
    store: store::Model,
    form: HashMap<String, String>,
    csrf: Option<String>,
    cart_cookie: Option<String>,
) -> Response {
    let now = Utc::now().timestamp();
    let mut cart = Cart::open(&web.forms, cart_cookie.as_deref(), now);
    let product = form.get("product").map(String::as_str).unwrap_or_default();
    let change =
        cart::quantity(&form).and_then(|quantity| match form.get("action").map(String::as_str) {
            Some("set") => cart.set(product, quantity),
            _ => cart.add(product, quantity),
        });
    if let Err(refusal) = change {
        return cart_page(
            &web,
            &store,
            &Cart::open(&web.forms, cart_cookie.as_deref(), now),
            csrf.as_deref(),
            Some(refusal.text()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Only products for sale go in; a stale one is dropped at checkout with a notice.
    let adding = cart.lines.iter().any(|(id, _)| id == product);
    if adding {
        match price_lines(&web, &store, &[(product.to_owned(), 1)]).await {
            Ok(Ok(_)) => {}
            Ok(Err(why)) => {
                let held = Cart::open(&web.forms, cart_cookie.as_deref(), now);
                return cart_page(
                    &web,
                    &store,
                    &held,
                    csrf.as_deref(),
                    Some(&why.text()),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(_) => return unavailable(),
        }
    }
    let response = redirect(StatusCode::SEE_OTHER, &shop_url(&store, "/cart"));
    cart.store(
        response,
        &web.forms,
        &shop_url(&store, ""),
        now,
        web.secure_cookies,
    )
}

/// The cart: each line with its price now, a quantity field and a remove button, the
/// total, and the checkout button.
pub async fn cart_page(
    web: &Web,
    store: &store::Model,
    cart: &Cart,
    csrf_cookie: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let now = Utc::now().timestamp();
    let csrf = contact::Csrf::issue(&web.forms, csrf_cookie, now, web.secure_cookies);
    let ids: Vec<String> = cart.lines.iter().map(|(id, _)| id.clone()).collect();
    let found = match products::by_ids(&web.db, &store.id, store.livemode, &ids).await {
        Ok(found) => found,
        Err(_) => return unavailable(),
    };
    let main = html! {
        h1 { "Your cart" }
        @if let Some(problem) = problem {
            p.notice.error role="alert" { (problem) }
        }
        @if cart.lines.is_empty() {
            p { "Your cart is empty." }
            p { a href=(shop_url(store, "/products")) { "Browse the products" } }
        } @else {
            (cart_table(store, cart, &found, &csrf.token))
            (checkout_form(web, store, &csrf.token, true))
        }
    };
    let response = page::respond(status, shop_frame(store, "Cart", "/cart", main));
    let response = headers::forms_may_leave_for(response, &web.checkout_origins);
    let response = page::not_stored(response);
    csrf.set_cookie(response)
}

/// A cart line as shown: the product (if still known) and its price now (if for sale).
struct Row<'a> {
    index: usize,
    id: &'a str,
    quantity: u32,
    name: String,
    known: bool,
    /// Unit amount, line total and currency.
    price: Option<(i64, i64, String)>,
}

fn rows<'a>(cart: &'a Cart, found: &[PricedProduct]) -> Vec<Row<'a>> {
    cart.lines
        .iter()
        .enumerate()
        .map(|(index, (id, quantity))| {
            let priced = found.iter().find(|p| &p.product.id == id);
            let price = priced
                .filter(|p| for_sale(p))
                .and_then(|p| p.price.as_ref());
            Row {
                index,
                id,
                quantity: *quantity,
                name: priced
                    .and_then(|p| p.product.name.clone())
                    .unwrap_or_else(|| "A product no longer sold".into()),
                known: priced.is_some(),
                price: price.map(|price| {
                    let unit = price.unit_amount.unwrap_or(0);
                    let currency = price.currency.clone().unwrap_or_default();
                    (unit, unit.saturating_mul(i64::from(*quantity)), currency)
                }),
            }
        })
        .collect()
}

/// The cart's total, when every line is for sale in one currency.
fn total(rows: &[Row<'_>]) -> Option<(i64, String)> {
    let mut prices = rows.iter().map(|row| row.price.as_ref());
    let (_, first, currency) = prices.next()??.clone();
    prices.try_fold((first, currency), |(sum, currency), price| {
        let (_, line, line_currency) = price?;
        (line_currency == &currency).then(|| (sum.saturating_add(*line), currency))
    })
}

fn cart_table(store: &store::Model, cart: &Cart, found: &[PricedProduct], token: &str) -> Markup {
    let action = shop_url(store, "/cart");
    let rows = rows(cart, found);
    html! {
        table.cart {
            caption.visually-hidden { "Products in your cart" }
            thead { tr {
                th scope="col" { "Product" } th scope="col" { "Price" }
                th scope="col" { "Quantity" } th scope="col" { "Total" }
            } }
            tbody {
                @for row in &rows {
                    tr {
                        th scope="row" {
                            @if row.known {
                                a href=(shop_url(store, &format!("/products/{}", page::encode(row.id)))) { (row.name) }
                            } @else { (row.name) }
                        }
                        td {
                            @match &row.price {
                                Some((unit, _, currency)) => (money::amount(*unit, currency)),
                                None => "Not for sale",
                            }
                        }
                        td { (quantity_forms(&action, token, row)) }
                        td {
                            @if let Some((_, line, currency)) = &row.price {
                                (money::amount(*line, currency))
                            }
                        }
                    }
                }
            }
            @if let Some((amount, currency)) = total(&rows) {
                tfoot { tr { th scope="row" colspan="3" { "Total" } td { (money::amount(amount, &currency)) } } }
            }
        }
    }
}

/// A line's quantity field with its "Update" button, and its "Remove" button.
fn quantity_forms(action: &str, token: &str, row: &Row<'_>) -> Markup {
    let field = format!("quantity-{}", row.index);
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name=(contact::TOKEN_FIELD) value=(token);
            input type="hidden" name="product" value=(row.id);
            input type="hidden" name="action" value="set";
            label for=(field) class="visually-hidden" { "Quantity of " (row.name) }
            input id=(field) type="number" name="quantity" min="0"
                max=(cart::MAX_QUANTITY) value=(row.quantity) inputmode="numeric";
            button type="submit" { "Update" }
        }
        form.inline method="post" action=(action) {
            input type="hidden" name=(contact::TOKEN_FIELD) value=(token);
            input type="hidden" name="product" value=(row.id);
            input type="hidden" name="action" value="set";
            input type="hidden" name="quantity" value="0";
            button type="submit" aria-label=(format!("Remove {}", row.name)) { "Remove" }
        }
    }
}

/// The checkout button: posts the cart (or, on a product page, the product's fields) with
/// a fresh attempt id, so a double click starts one session, not two.
pub fn checkout_form(web: &Web, store: &store::Model, token: &str, from_cart: bool) -> Markup {
    if web.stripe.is_none() {
        return html! { p.notice { "Online checkout is not open in this shop yet." } };
    }
    html! {
        form method="post" action=(shop_url(store, "/checkout")) {
            input type="hidden" name=(contact::TOKEN_FIELD) value=(token);
            input type="hidden" name="attempt" value=(keys::nonce());
            @if from_cart { input type="hidden" name="from" value="cart"; }
            button.primary type="submit" { "Check out" }
        }
    }
}

/// The product page's buying form: a quantity, "Add to cart" and "Buy now".
pub fn buy_form(web: &Web, store: &store::Model, priced: &PricedProduct, token: &str) -> Markup {
    if web.stripe.is_none() {
        return html! { p.notice { "Online checkout is not open in this shop yet." } };
    }
    if !for_sale(priced) {
        let why = match priced.price.as_ref() {
            Some(price) if price.recurring.as_ref().is_some_and(|r| !r.is_null()) => {
                "Subscriptions cannot be bought in this shop yet."
            }
            _ => "This product cannot be bought online right now.",
        };
        return html! { p.notice { (why) } };
    }
    html! {
        form.buy method="post" action=(shop_url(store, "/cart")) {
            input type="hidden" name=(contact::TOKEN_FIELD) value=(token);
            input type="hidden" name="product" value=(priced.product.id);
            input type="hidden" name="attempt" value=(keys::nonce());
            div.field {
                label for="quantity" { "Quantity" }
                input #quantity type="number" name="quantity" min="1" max=(cart::MAX_QUANTITY) value="1" inputmode="numeric" required;
            }
            button type="submit" name="action" value="add" { "Add to cart" }
            button.primary type="submit" formaction=(shop_url(store, "/checkout")) { "Buy now" }
        }
    }
}

/// `POST /shop/{store}/checkout`: prices the cart (or the product of a "Buy now"), creates
/// the Checkout Session, records the pending order, and sends the shopper to Stripe.
pub async fn start(
    web: Arc<Web>,
    store: store::Model,
    form: HashMap<String, String>,
    csrf: Option<String>,
    cart_cookie: Option<String>,
    host: Option<String>,
) -> Response {
    let Some(client) = web.stripe.clone() else {
        return page::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Checkout is not available",
            "This shop cannot take payments online yet.",
        );
    };
    let now = Utc::now().timestamp();
    let from_cart = form.get("from").is_some_and(|from| from == "cart");
    let wanted = if from_cart {
        Cart::open(&web.forms, cart_cookie.as_deref(), now).lines
    } else {
        let product = form.get("product").cloned().unwrap_or_default();
        match cart::quantity(&form) {
            Ok(quantity) if (1..=cart::MAX_QUANTITY).contains(&quantity) && !product.is_empty() => {
                vec![(product, quantity)]
            }
            _ => {
                return page::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Checkout not started",
                    Refusal::Quantity.text(),
                );
            }
        }
    };
    let lines = match price_lines(&web, &store, &wanted).await {
        Ok(Ok(lines)) => lines,
        Ok(Err(why)) => {
            let cart = Cart::open(&web.forms, cart_cookie.as_deref(), now);
            return cart_page(
                &web,
                &store,
                &cart,
                csrf.as_deref(),
                Some(&why.text()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(_) => return unavailable(),
    };
    let Some(attempt) = form.get("attempt").filter(|a| is_attempt(a)) else {
        return page::message(
            StatusCode::BAD_REQUEST,
            "Checkout not started",
            "The form was incomplete. Go back and try again.",
        );
    };
    let Some(public) = public_base(&web, host.as_deref()) else {
        tracing::warn!(store = %store.id, "checkout refused: PUBLIC_URL is not set (APP_ENV=production)");
        return page::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Checkout is not available",
            "This shop cannot take payments online yet.",
        );
    };
    let base = format!("{public}{}", shop_url(&store, ""));
    let plan = SessionPlan {
        model: web.charge_model,
        fee_bps: web.platform_fee_bps,
        seller: &store.id,
        shop_url: &base,
        from_cart,
    };
    let params = session_params(&plan, &lines);
    let account = (web.charge_model == ChargeModel::Direct).then_some(store.id.as_str());
    let key = format!("checkout-{}-{attempt}-{}", store.id, digest(&params));
    let mut opened = open_session(&client, &params, account, &key).await;
    if let Ok((session, _)) = &opened
        && session_used(&web, &store, session).await
    {
        let fresh = format!("{key}-{}", keys::nonce());
        opened = create_session(&client, &params, account, &fresh).await;
    }
    match opened {
        Ok((session, url)) => {
            let source = source_store(web.charge_model, &store);
            if let Err(err) = record_session(&web.db, source, &session).await {
                // Stripe's events about the session will write the order when it is paid.
                tracing::warn!(store = %store.id, error = %err, "checkout order not recorded yet");
            }
            tracing::info!(store = %store.id, lines = lines.len(), "checkout session created");
            redirect(StatusCode::SEE_OTHER, &url)
        }
        Err(err) => {
            tracing::warn!(store = %store.id, error = %err, "checkout session not created");
            let (status, text) = match err.status() {
                Some(status) if (400..500).contains(&status) && status != 429 => (
                    StatusCode::BAD_GATEWAY,
                    "The payment provider refused this purchase. Please contact the shop.",
                ),
                _ => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The payment provider cannot be reached right now. Please try again in a moment.",
                ),
            };
            page::message(status, "Checkout not started", text)
        }
    }
}

/// A short digest of the session's parameters, in its idempotency key: the same form sent
/// again with other lines (the Back button, a changed quantity or price) is another
/// request, not a refused reuse of the key.
fn digest(params: &[(String, String)]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (key, value) in params {
        hash.update(key.as_bytes());
        hash.update([0]);
        hash.update(value.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..8])
}

/// The session of this attempt: Stripe's answer to `key`, replayed for a repeated click.
/// While the first request still runs, Stripe answers a second one `409`: it is asked
/// again once.
async fn open_session(
    client: &Client,
    params: &[(String, String)],
    account: Option<&str>,
    key: &str,
) -> Result<(Value, String), StripeError> {
    let mut created = create_session(client, params, account, key).await;
    if matches!(&created, Err(err) if err.status() == Some(409)) {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        created = create_session(client, params, account, key).await;
    }
    created
}

/// Whether a session Stripe answered with is one already paid or ended: Stripe replays
/// the first answer to a key (`open`), so what the session became is read from its order
/// here (the same form sent again after paying, by the Back button).
async fn session_used(web: &Web, store: &store::Model, session: &Value) -> bool {
    if session.get("status").and_then(Value::as_str) != Some("open") {
        return true;
    }
    let Some(id) = session.get("id").and_then(Value::as_str) else {
        return false;
    };
    let order = find_order(web, store, id).await.ok().flatten();
    order.is_some_and(|order| order.status != OrderStatus::Pending)
}

/// Creates the session; its object and the hosted page's URL.
async fn create_session(
    client: &Client,
    params: &[(String, String)],
    account: Option<&str>,
    key: &str,
) -> Result<(Value, String), StripeError> {
    let session: Value = client
        .post("/v1/checkout/sessions", &params, account, key)
        .await?;
    let url = session
        .get("url")
        .and_then(Value::as_str)
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .map(str::to_owned)
        .ok_or_else(|| StripeError::Decode("the session has no url".into()))?;
    Ok((session, url))
}

/// An attempt id as [`keys::nonce`] makes them.
fn is_attempt(text: &str) -> bool {
    text.len() == 22
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where Stripe sends the shopper back: `PUBLIC_URL`; in development without it, the
/// request's `Host` over http. In production the `Host` (a proxy's, or a client's choice)
/// is no address to send shoppers to: `None`.
fn public_base(web: &Web, host: Option<&str>) -> Option<String> {
    if let Some(url) = &web.public_url {
        return Some(url.clone());
    }
    if web.production {
        return None;
    }
    let host = host
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    Some(format!("http://{host}"))
}

/// `GET /shop/{store}/checkout/success?session_id=cs_...`: the order as it stands.
pub async fn success(
    web: &Web,
    store: &store::Model,
    query: &str,
    cart_cookie: Option<&str>,
) -> Response {
    let params: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap_or_default();
    let session = params
        .get("session_id")
        .filter(|id| id.starts_with("cs_") && id.len() <= 255);
    let order = match session {
        Some(session) => match find_order(web, store, session).await {
            Ok(order) => order,
            Err(_) => return unavailable(),
        },
        None => None,
    };
    let catalog = match &order {
        Some(order) => item_catalog(&web.db, std::slice::from_ref(order))
            .await
            .unwrap_or_default(),
        None => ItemCatalog::default(),
    };
    let main = receipt(store, order.as_ref(), &catalog);
    let response = page::respond(
        StatusCode::OK,
        shop_frame(store, "Thank you", "/checkout", main),
    );
    let bought_cart =
        params.get("from").is_some_and(|from| from == "cart") && cart_cookie.is_some();
    let bought =
        |o: &order::Model| matches!(o.status, OrderStatus::Pending | OrderStatus::Completed);
    if bought_cart && order.as_ref().is_some_and(bought) {
        let now = Utc::now().timestamp();
        return Cart::default().store(
            response,
            &web.forms,
            &shop_url(store, ""),
            now,
            web.secure_cookies,
        );
    }
    response
}

/// The order of `session`, in the store of either charge model (the setting may have
/// changed since).
async fn find_order(
    web: &Web,
    store: &store::Model,
    session: &str,
) -> Result<Option<order::Model>, sea_orm::DbErr> {
    for source in [store.id.as_str(), PLATFORM_STORE] {
        let order = order_of_session(&web.db, source, store.livemode, session).await?;
        if let Some(order) = order.filter(|order| order.store_key == store.id) {
            return Ok(Some(order));
        }
    }
    Ok(None)
}

fn receipt(store: &store::Model, order: Option<&order::Model>, catalog: &ItemCatalog) -> Markup {
    let Some(order) = order else {
        return html! {
            h1 { "Thank you" }
            p role="status" { "We have not heard from the payment provider about this payment yet. Refresh this page in a moment to see your order." }
            p { a href=(shop_url(store, "")) { "Back to the shop" } }
        };
    };
    let (heading, text) = match order.status {
        OrderStatus::Completed => ("Thank you for your order", "Your payment was received."),
        OrderStatus::Failed => (
            "Payment failed",
            "Your payment did not go through, and you were not charged. You can try again.",
        ),
        OrderStatus::Canceled => (
            "Order canceled",
            "This checkout was canceled, and you were not charged.",
        ),
        OrderStatus::Refunded | OrderStatus::PartiallyRefunded => {
            ("Order refunded", "This order was refunded.")
        }
        _ => (
            "Thank you for your order",
            "Your payment is being confirmed. Refresh this page in a moment to see it confirmed.",
        ),
    };
    let currency = order.currency.clone().unwrap_or_default();
    let items = order
        .items
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        h1 { (heading) }
        p role="status" { (text) }
        @if !items.is_empty() {
            table.cart {
                caption.visually-hidden { "What you bought" }
                thead { tr { th scope="col" { "Item" } th scope="col" { "Quantity" } th scope="col" { "Price" } } }
                tbody {
                    @for item in &items {
                        tr {
                            th scope="row" { (item_name(item, order, catalog)) }
                            td { (item["quantity"].as_i64().unwrap_or(1)) }
                            td { @if let Some(unit) = item["unit_amount"].as_i64() { (money::amount(unit, &currency)) } }
                        }
                    }
                }
            }
        }
        @if order.amount > 0 {
            p { "Total: " strong { (money::amount(order.amount, &currency)) } }
        }
        @if let Some(receipt) = order.receipt_url.as_deref().filter(|url| url.starts_with("https://")) {
            p { a href=(receipt) rel="noopener" { "Your receipt" } }
        }
        p { a href=(shop_url(store, "")) { "Back to the shop" } }
    }
}

/// An item's product name, else what names it.
fn item_name<'a>(item: &'a Value, order: &order::Model, catalog: &'a ItemCatalog) -> &'a str {
    let (product, price) = (item["product"].as_str(), item["price"].as_str());
    catalog
        .product_of(order, product, price)
        .and_then(|priced| priced.product.name.as_deref())
        .or(item["name"].as_str())
        .or(product)
        .unwrap_or("An item")
}

/// `GET /shop/{store}/checkout/canceled`: nothing was charged; the cart is kept.
pub fn canceled(store: &store::Model, query: &str) -> Response {
    let from_cart = query.split('&').any(|pair| pair == "from=cart");
    let main = html! {
        h1 { "Checkout canceled" }
        p role="status" { "You left the payment page, and you were not charged." }
        @if from_cart {
            p { a href=(shop_url(store, "/cart")) { "Back to your cart" } }
        } @else {
            p { a href=(shop_url(store, "/products")) { "Back to the products" } }
        }
    };
    page::respond(
        StatusCode::OK,
        shop_frame(store, "Checkout canceled", "/checkout", main),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: &str, quantity: u32, unit_amount: i64) -> Line {
        Line {
            product: product.into(),
            name: format!("Name of {product}"),
            description: None,
            image: None,
            price: format!("price_{product}"),
            unit_amount,
            currency: "eur".into(),
            quantity,
        }
    }

    fn plan(model: ChargeModel) -> SessionPlan<'static> {
        SessionPlan {
            model,
            fee_bps: 250,
            seller: "acct_1",
            shop_url: "https://shop.example/shop/s",
            from_cart: true,
        }
    }

    fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_fee_is_rounded_half_up_in_minor_units() {
        assert_eq!(fee(1000, 250), 25);
        assert_eq!(fee(999, 250), 25); // 24.975
        assert_eq!(fee(19, 250), 0); // 0.475
        assert_eq!(fee(1000, 0), 0);
        assert_eq!(fee(i64::MAX, 10_000), i64::MAX);
    }

    #[test]
    fn a_direct_charge_uses_the_sellers_prices_and_a_destination_charge_inline_ones() {
        let lines = [line("prod_a", 2, 1500), line("prod_b", 1, 500)];
        let direct = session_params(&plan(ChargeModel::Direct), &lines);
        assert_eq!(param(&direct, "line_items[0][price]"), Some("price_prod_a"));
        assert_eq!(param(&direct, "line_items[0][quantity]"), Some("2"));
        assert_eq!(
            param(&direct, "payment_intent_data[application_fee_amount]"),
            Some("88")
        );
        assert_eq!(
            param(&direct, "payment_intent_data[transfer_data][destination]"),
            None
        );
        assert_eq!(param(&direct, "expires_at"), None);
        assert!(
            param(&direct, "success_url")
                .unwrap()
                .contains("{CHECKOUT_SESSION_ID}&from=cart")
        );
        let destination = session_params(&plan(ChargeModel::Destination), &lines);
        assert_eq!(param(&destination, "line_items[1][price]"), None);
        assert_eq!(
            param(&destination, "line_items[1][price_data][unit_amount]"),
            Some("500")
        );
        assert_eq!(
            param(
                &destination,
                "line_items[1][price_data][product_data][name]"
            ),
            Some("Name of prod_b")
        );
        assert_eq!(
            param(
                &destination,
                "payment_intent_data[transfer_data][destination]"
            ),
            Some("acct_1")
        );
        assert_eq!(
            param(&destination, "metadata[seller_account]"),
            Some("acct_1")
        );
        let items: Value =
            serde_json::from_str(param(&destination, "metadata[items]").unwrap()).unwrap();
        assert_eq!(
            items[0],
            json!({"product": "prod_a", "price": "price_prod_a", "quantity": 2, "unit_amount": 1500, "currency": "eur"})
        );
    }

    #[test]
    fn items_metadata_always_fits_stripes_limit() {
        for count in 1..=cart::MAX_LINES {
            let lines: Vec<Line> = (0..count)
                .map(|n| line(&format!("prod_{n:0>24}"), 99, 123_456_789))
                .collect();
            let items = items_metadata(&lines);
            assert!(
                items.len() <= METADATA_MAX,
                "{count} lines: {}",
                items.len()
            );
            let parsed =
                crate::domain::orders::items::from_metadata(&json!({"metadata": {"items": items}}));
            assert_eq!(parsed.map(|items| items.len()), Some(count));
        }
    }
}
