//! Each seller's storefront, `/shop/{store}` (the store's slug, from its name; its
//! connected account's id redirects there): Home (the hero from the business profile and
//! up to eight featured products), Products (by category), one page per product, About and
//! Contact, with its form ([`super::contact`]). The pages render the store's `pages`
//! document, which the actors rebuild from the store's rows whenever its catalogue changes;
//! a product page reads the product and its default price.
//!
//! A store that cannot take payments (onboarding, restricted, disconnected) shows a notice
//! instead of a shop; an unknown store, the platform, and an archived or deleted product are
//! 404 pages.

mod cart;
mod checkout;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use entity::status::StoreStatus;
use entity::store;
use maud::{Markup, html};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use warp::http::header::{LOCATION, RETRY_AFTER};
use warp::http::{HeaderValue, StatusCode};
use warp::path::Tail;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::contact::{self, ClientAddr, Csrf, Errors, Form, Input, Notice};
use super::keys::Purpose;
use super::limit::Limiter;
use super::money;
use super::page::{self, Nav, decoded};
use super::{Web, headers};
use crate::domain::pages::price_summary;
use crate::store::admin::products::{self, PricedProduct};
use crate::store::admin::{Lookup, QueryError, stores};
use crate::store::contact_messages::{self, NewMessage};
use crate::stripe::envelope::PLATFORM_STORE;

/// The shop's sections, in navigation order: (path below the shop, label).
const SECTIONS: [(&str, &str); 5] = [
    ("", "Home"),
    ("/products", "Products"),
    ("/about", "About"),
    ("/contact", "Contact"),
    ("/cart", "Cart"),
];

/// `GET /shop/{store}` and its pages, `/shop/{store}/{section}[/{product}]`, where
/// `{store}` is the store's slug or its account id (which redirects to the slug when the
/// store has one), and `POST /shop/{store}/contact`, the contact form.
pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let limiter = Arc::new(Limiter::new(contact::MESSAGES_PER_WINDOW, contact::WINDOW));
    let timeout = web.body_read_timeout;
    let with_web = warp::any().map(move || web.clone());
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let pages = warp::path("shop")
        .and(warp::path::param::<String>())
        .and(warp::path::tail())
        .and(super::get_or_head())
        .and(query)
        .and(warp::cookie::optional::<String>(contact::COOKIE))
        .and(warp::cookie::optional::<String>(cart::COOKIE))
        .and(with_web.clone())
        .then(
            |id: String,
             tail: Tail,
             query: String,
             cookie: Option<String>,
             cart_cookie: Option<String>,
             web: Arc<Web>| { shop_page(web, id, tail, query, cookie, cart_cookie) },
        );
    let buying = warp::path!("shop" / String / String)
        .and(warp::post())
        .and(super::forms::form(contact::MAX_BODY_BYTES, timeout))
        .and(warp::cookie::optional::<String>(contact::COOKIE))
        .and(warp::cookie::optional::<String>(cart::COOKIE))
        .and(warp::header::optional::<String>("host"))
        .and(with_web.clone())
        .and_then(
            |id: String, action: String, form, csrf, cart, host, web: Arc<Web>| async move {
                if action != "cart" && action != "checkout" {
                    return Err(warp::reject::not_found());
                }
                Ok(buy(web, id, action, form, csrf, cart, host).await)
            },
        );
    let send = warp::path!("shop" / String / "contact")
        .and(warp::post())
        .and(super::forms::form(contact::MAX_BODY_BYTES, timeout))
        .and(warp::cookie::optional::<String>(contact::COOKIE))
        .and(warp::ext::optional::<ClientAddr>())
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(with_web)
        .and(warp::any().map(move || limiter.clone()))
        .then(send_message);
    pages.or(send).unify().or(buying).unify()
}

/// `POST /shop/{store}/cart` and `POST /shop/{store}/checkout`, once the shop is open and
/// the form's token is good.
async fn buy(
    web: Arc<Web>,
    id: String,
    action: String,
    form: HashMap<String, String>,
    csrf: Option<String>,
    cart: Option<String>,
    host: Option<String>,
) -> Response {
    let store = match open_for_forms(&web, &id).await {
        Ok(store) => store,
        Err(refusal) => return refusal,
    };
    let token = form.get(contact::TOKEN_FIELD).map(String::as_str);
    if !contact::accepts(&web.forms, csrf.as_deref(), token, Utc::now().timestamp()) {
        tracing::info!(store = %store.id, "shop form refused: missing, wrong or expired token");
        return page::message(
            StatusCode::FORBIDDEN,
            "Form expired",
            "This page was open too long, or your browser refused the shop's cookie. Go back, reload the page and try again.",
        );
    }
    match action.as_str() {
        "cart" => checkout::change_cart(web, store, form, csrf, cart).await,
        _ => checkout::start(web, store, form, csrf, cart, host).await,
    }
}

/// Finds the shop, then the page the rest of the path names.
async fn shop_page(
    web: Arc<Web>,
    id: String,
    tail: Tail,
    query: String,
    cookie: Option<String>,
    cart_cookie: Option<String>,
) -> Response {
    let segment = decoded(&id);
    let store = match find_shop(&web.db, &segment).await {
        Ok(Shop::Open(store)) => store,
        Ok(Shop::Closed(store)) => return closed(&store, StatusCode::OK),
        Ok(Shop::Missing) => return no_such_shop(),
        Err(_) => return unavailable(),
    };
    if let Some(slug) = store.slug.as_deref().filter(|slug| *slug != segment) {
        // The account id's address, kept working: the same page at the readable one.
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let rest = match tail.as_str() {
            "" => String::new(),
            rest => format!("/{rest}"),
        };
        return redirect(
            StatusCode::PERMANENT_REDIRECT,
            &format!("/shop/{slug}{rest}{query}"),
        );
    }
    let pages = store.pages.clone().unwrap_or(Value::Null);
    let (title, path, main) = match tail.as_str().trim_end_matches('/') {
        "" => ("Home", "", home(&store, &pages["home"])),
        "products" => (
            "Products",
            "/products",
            catalogue(&store, &pages["products"]),
        ),
        "about" => ("About", "/about", about(&pages["about"])),
        "cart" => {
            let now = Utc::now().timestamp();
            let held = cart::Cart::open(&web.forms, cart_cookie.as_deref(), now);
            return checkout::cart_page(
                &web,
                &store,
                &held,
                cookie.as_deref(),
                None,
                StatusCode::OK,
            )
            .await;
        }
        "checkout/success" => {
            return checkout::success(&web, &store, &query, cart_cookie.as_deref()).await;
        }
        "checkout/canceled" => return checkout::canceled(&store, &query),
        "contact" => {
            let sent = query.split('&').any(|pair| pair == "sent=1");
            let notice = sent.then_some(Notice::Sent);
            let reply = ContactReply {
                status: StatusCode::OK,
                input: &Input::default(),
                errors: &[],
                notice,
            };
            return contact_page(&web, &store, cookie.as_deref(), reply);
        }
        rest => match rest
            .strip_prefix("products/")
            .filter(|id| !id.contains('/'))
        {
            Some(product) => {
                return product_page(&web, &store, &decoded(product), cookie.as_deref()).await;
            }
            None => {
                return page::message(
                    StatusCode::NOT_FOUND,
                    "Page not found",
                    "This shop has no such page.",
                );
            }
        },
    };
    page::respond(StatusCode::OK, shop_frame(&store, title, path, main))
}

/// What the Contact page answers, beside the store's contact details.
struct ContactReply<'a> {
    status: StatusCode,
    input: &'a Input,
    errors: &'a [(contact::Field, &'static str)],
    notice: Option<Notice>,
}

/// The Contact page: the store's details and the form, with a token for this browser
/// (and its cookie, when it has none yet).
fn contact_page(
    web: &Web,
    store: &store::Model,
    cookie: Option<&str>,
    reply: ContactReply,
) -> Response {
    let now = Utc::now().timestamp();
    let csrf = Csrf::issue(&web.forms, cookie, now, web.secure_cookies);
    let pages = store.pages.clone().unwrap_or(Value::Null);
    let action = shop_url(store, "/contact");
    let form = Form {
        action: &action,
        token: &csrf.token,
        input: reply.input,
        errors: reply.errors,
        notice: reply.notice,
    };
    let main = html! {
        (contact(&pages["contact"]))
        (form.render())
    };
    let response = page::respond(reply.status, shop_frame(store, "Contact", "/contact", main));
    csrf.set_cookie(response)
}

/// `POST /shop/{store}/contact`: checks the token, drops what the trap caught, validates,
/// counts the client against the limit, stores the message and sends the browser to the
/// thank-you notice (`303`). Nothing the sender wrote is logged.
async fn send_message(
    id: String,
    form: HashMap<String, String>,
    cookie: Option<String>,
    client: Option<ClientAddr>,
    forwarded_for: Option<String>,
    web: Arc<Web>,
    limiter: Arc<Limiter>,
) -> Response {
    let store = match open_for_forms(&web, &id).await {
        Ok(store) => store,
        Err(refusal) => return refusal,
    };
    let input = Input::from_form(&form);
    let answer = |status, errors: &Errors, notice| {
        let reply = ContactReply {
            status,
            input: &input,
            errors,
            notice: Some(notice),
        };
        contact_page(&web, &store, cookie.as_deref(), reply)
    };
    let token = form.get(contact::TOKEN_FIELD).map(String::as_str);
    let now = Utc::now().timestamp();
    if !contact::accepts(&web.forms, cookie.as_deref(), token, now) {
        tracing::info!(store = %store.id, "contact form refused: missing, wrong or expired token");
        return answer(StatusCode::FORBIDDEN, &Vec::new(), Notice::Expired);
    }
    let thanks = shop_url(&store, "/contact?sent=1");
    if form
        .get(contact::HONEYPOT)
        .is_some_and(|trap| !trap.trim().is_empty())
    {
        tracing::info!(store = %store.id, "contact form trap filled: message dropped");
        return redirect(StatusCode::SEE_OTHER, &thanks);
    }
    let valid = match contact::validate(&input) {
        Ok(valid) => valid,
        Err(errors) => return answer(StatusCode::UNPROCESSABLE_ENTITY, &errors, Notice::Invalid),
    };
    let ip = client.map(|ClientAddr(peer)| {
        contact::client_ip(peer.ip(), forwarded_for.as_deref(), &web.trusted_proxies)
    });
    if !limiter.hit(ip, Instant::now()) {
        tracing::info!(store = %store.id, "contact form refused: too many messages from one client");
        let mut response = answer(StatusCode::TOO_MANY_REQUESTS, &Vec::new(), Notice::TooMany);
        let retry = contact::WINDOW.as_secs().to_string();
        if let Ok(value) = HeaderValue::from_str(&retry) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return response;
    }
    let message = NewMessage {
        store_key: store.id.clone(),
        livemode: store.livemode,
        name: valid.name,
        email: valid.email,
        message: valid.message,
        remote_hash: ip.map(|ip| web.forms.digest(Purpose::Sender, &ip.to_string())),
    };
    match contact_messages::insert(&web.db, message).await {
        Ok(()) => {
            tracing::info!(store = %store.id, "contact message stored");
            redirect(StatusCode::SEE_OTHER, &thanks)
        }
        Err(err) => {
            tracing::warn!(store = %store.id, error = %err, "contact message not stored");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                &Vec::new(),
                Notice::Unavailable,
            )
        }
    }
}

/// The open shop a form posts to, or the page refusing the form: `404` for no such shop,
/// `403` for a closed one.
async fn open_for_forms(web: &Web, id: &str) -> Result<store::Model, Response> {
    match find_shop(&web.db, &decoded(id)).await {
        Ok(Shop::Open(store)) => Ok(store),
        Ok(Shop::Closed(store)) => Err(closed(&store, StatusCode::FORBIDDEN)),
        Ok(Shop::Missing) => Err(no_such_shop()),
        Err(_) => Err(unavailable()),
    }
}

/// A redirect to `location` (a path of this site), with the pages' security headers.
fn redirect(status: StatusCode, location: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return no_such_shop();
    };
    let mut response = warp::reply::with_status(warp::reply(), status).into_response();
    response.headers_mut().insert(LOCATION, location);
    headers::secure(response)
}

/// What a shop's address leads to.
enum Shop {
    /// Active: the shop.
    Open(store::Model),
    /// Cannot take payments: a notice.
    Closed(store::Model),
    Missing,
}

/// The store a path segment names: its slug, else its account id.
async fn find_shop(db: &DatabaseConnection, segment: &str) -> Result<Shop, sea_orm::DbErr> {
    if segment == PLATFORM_STORE {
        return Ok(Shop::Missing);
    }
    let is_slug = !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let by_slug = match is_slug {
        true => stores::find_by_slug(db, segment).await,
        false => Ok(None),
    };
    let found = match by_slug {
        Ok(Some(store)) => Ok(store),
        Ok(None) => {
            let lookup = Lookup {
                id: segment,
                store: None,
                livemode: None,
            };
            stores::find(db, lookup).await.map(|found| found.store)
        }
        Err(err) => Err(err),
    };
    match found {
        Ok(store) if store.id == PLATFORM_STORE => Ok(Shop::Missing),
        Ok(store) if store.status == StoreStatus::Active => Ok(Shop::Open(store)),
        Ok(store) => Ok(Shop::Closed(store)),
        Err(QueryError::Db(err)) => Err(err),
        Err(_) => Ok(Shop::Missing),
    }
}

async fn product_page(web: &Web, store: &store::Model, id: &str, cookie: Option<&str>) -> Response {
    let lookup = Lookup {
        id,
        store: Some(&store.id),
        livemode: Some(store.livemode),
    };
    let priced = match products::find(&web.db, lookup).await {
        Ok(priced) if priced.product.active && priced.product.deleted_at.is_none() => priced,
        Ok(_) | Err(QueryError::NotFound { .. }) => {
            return page::message(
                StatusCode::NOT_FOUND,
                "Product not found",
                "This product is not for sale in this shop.",
            );
        }
        Err(_) => return unavailable(),
    };
    let name = priced.product.name.as_deref().unwrap_or("Untitled product");
    let csrf = Csrf::issue(
        &web.forms,
        cookie,
        Utc::now().timestamp(),
        web.secure_cookies,
    );
    let main = html! {
        (product_detail(&priced, name))
        (checkout::buy_form(web, store, &priced, &csrf.token))
    };
    let response = page::respond(StatusCode::OK, shop_frame(store, name, "/products", main));
    let response = headers::forms_may_leave_for(response, &web.checkout_origins);
    // Back from Stripe's page, the browser asks again: a fresh checkout attempt id.
    let response = page::not_stored(response);
    csrf.set_cookie(response)
}

/// A page of the shop, at its readable address when it has one.
fn shop_url(store: &store::Model, path: &str) -> String {
    format!("/shop/{}{path}", store.slug.as_deref().unwrap_or(&store.id))
}

fn store_name(store: &store::Model) -> &str {
    store.name.as_deref().unwrap_or(&store.id)
}

fn shop_frame(store: &store::Model, title: &str, current: &str, main: Markup) -> Markup {
    let nav: Vec<Nav<'_>> = SECTIONS
        .iter()
        .map(|(path, label)| Nav {
            href: shop_url(store, path),
            label,
            current: *path == current,
        })
        .collect();
    let name = store_name(store);
    page::frame(&format!("{title} · {name}"), name, &nav, main)
}

fn home(store: &store::Model, home: &Value) -> Markup {
    let featured = list(&home["featured_products"]);
    html! {
        section.hero {
            h1 { (text(&home["hero"]["title"]).unwrap_or(store_name(store))) }
            @if let Some(description) = text(&home["hero"]["description"]) {
                p { (description) }
            }
        }
        h2 { "Featured products" }
        (product_grid(store, featured))
        p { a href=(shop_url(store, "/products")) { "See every product" } }
    }
}

fn catalogue(store: &store::Model, products: &Value) -> Markup {
    let categories = list(&products["categories"]);
    html! {
        h1 { "Products" }
        @if categories.is_empty() {
            p { "This shop has no products for sale yet." }
        }
        @for category in categories {
            section aria-labelledby=(category_anchor(category)) {
                h2 #(category_anchor(category)) { (text(&category["name"]).unwrap_or("Other")) }
                (product_grid(store, list(&category["products"])))
            }
        }
    }
}

fn category_anchor(category: &Value) -> String {
    let name = text(&category["name"]).unwrap_or("other");
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("category-{slug}")
}

fn product_grid(store: &store::Model, products: &[Value]) -> Markup {
    html! {
        @if products.is_empty() {
            p { "Nothing to show yet." }
        } @else {
            ul.products {
                @for product in products {
                    li.product {
                        @if let Some(image) = web_url(&product["image"]) {
                            img src=(image) alt="" loading="lazy";
                        }
                        h3 {
                            a href=(shop_url(store, &format!("/products/{}", text(&product["id"]).unwrap_or_default()))) {
                                (text(&product["name"]).unwrap_or("Untitled product"))
                            }
                        }
                        p.price { (price_text(&product["price"])) }
                    }
                }
            }
        }
    }
}

/// A price summary of the pages (`amount`, `currency`, `interval`, `interval_count`).
fn price_text(price: &Value) -> String {
    let (Some(amount), Some(currency)) = (price["amount"].as_i64(), text(&price["currency"]))
    else {
        return "Price on request".to_owned();
    };
    let amount = money::amount(amount, currency);
    match text(&price["interval"]) {
        Some(interval) => {
            let count = price["interval_count"].as_u64().unwrap_or(1);
            format!("{amount} {}", money::interval(interval, count))
        }
        None => amount,
    }
}

fn product_detail(priced: &PricedProduct, name: &str) -> Markup {
    let product = &priced.product;
    let price = priced.price.as_ref().map(price_summary);
    let images = product.images.as_ref().and_then(Value::as_array);
    html! {
        article.detail {
            @if let Some(image) = images.and_then(|images| images.first()).and_then(web_url) {
                img src=(image) alt=(name);
            }
            div {
                h1 { (name) }
                @if let Some(category) = &product.category {
                    p.category { (category) }
                }
                p.price { (price_text(price.as_ref().unwrap_or(&Value::Null))) }
                @if let Some(description) = &product.description {
                    p { (description) }
                }
            }
        }
    }
}

fn about(about: &Value) -> Markup {
    html! {
        h1 { "About" }
        @match text(&about["description"]) {
            Some(description) => p { (description) },
            None => p { "This seller has not written about their shop yet." },
        }
        dl {
            @if let Some(website) = web_url(&about["website"]) {
                dt { "Website" }
                dd { a href=(website) rel="noopener" { (website) } }
            }
            @if let Some(country) = text(&about["country"]) {
                dt { "Country" }
                dd { (country) }
            }
        }
    }
}

fn contact(contact: &Value) -> Markup {
    let address: Vec<&str> = ["line1", "line2", "postal_code", "city", "state", "country"]
        .iter()
        .filter_map(|field| text(&contact["address"][field]))
        .collect();
    html! {
        h1 { "Contact" }
        dl {
            @if let Some(email) = text(&contact["email"]) {
                dt { "E-mail" }
                dd { a href=(format!("mailto:{email}")) { (email) } }
            }
            @if let Some(phone) = text(&contact["phone"]) {
                dt { "Phone" }
                dd { a href=(format!("tel:{phone}")) { (phone) } }
            }
            @if !address.is_empty() {
                dt { "Address" }
                dd { address { @for line in &address { (line) br; } } }
            }
        }
    }
}

/// The notice of a store that cannot take payments, in place of its shop (and answer to
/// its contact form, with `status`).
fn closed(store: &store::Model, status: StatusCode) -> Response {
    let why = match store.status {
        StoreStatus::Onboarding => "is still setting up its payments",
        StoreStatus::Restricted => "cannot take payments at the moment",
        _ => "is no longer selling here",
    };
    let name = store_name(store);
    let main = html! {
        h1 { (name) }
        p.notice role="status" { (name) " " (why) ", so its shop is closed. Please come back later." }
    };
    page::respond(status, page::frame(name, name, &[], main))
}

fn no_such_shop() -> Response {
    page::message(
        StatusCode::NOT_FOUND,
        "Shop not found",
        "There is no shop at this address.",
    )
}

fn unavailable() -> Response {
    page::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The shop cannot be shown right now. Please try again in a moment.",
    )
}

/// A URL a page may link or load: http(s) only, whatever the seller typed (no
/// `javascript:`).
fn web_url(value: &Value) -> Option<&str> {
    text(value).filter(|url| {
        let lower = url.trim_start().to_ascii_lowercase();
        lower.starts_with("https://") || lower.starts_with("http://")
    })
}

/// An array of the pages document (empty when missing).
fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// A non-empty string of the pages document.
fn text(value: &Value) -> Option<&str> {
    value.as_str().filter(|text| !text.trim().is_empty())
}
