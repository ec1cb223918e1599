//! Each seller's storefront, `/shop/{store}` (the connected account's id): Home (the hero
//! from the business profile and up to eight featured products), Products (by category),
//! one page per product, About and Contact. The pages render the store's `pages` document,
//! which the actors rebuild from the store's rows whenever its catalogue changes; a product
//! page reads the product and its default price.
//!
//! A store that cannot take payments (onboarding, restricted, disconnected) shows a notice
//! instead of a shop; an unknown store, the platform, and an archived or deleted product are
//! 404 pages.

use entity::status::StoreStatus;
use entity::store;
use maud::{Markup, html};
use percent_encoding::percent_decode_str;
use sea_orm::DatabaseConnection;
use serde_json::Value;
use warp::http::StatusCode;
use warp::path::Tail;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::money;
use super::page::{self, Nav};
use crate::domain::pages::price_summary;
use crate::store::admin::products::{self, PricedProduct};
use crate::store::admin::{Lookup, QueryError, stores};
use crate::stripe::envelope::PLATFORM_STORE;

/// The shop's sections, in navigation order: (path below the shop, label).
const SECTIONS: [(&str, &str); 4] = [
    ("", "Home"),
    ("/products", "Products"),
    ("/about", "About"),
    ("/contact", "Contact"),
];

/// `GET /shop/{store}` and its pages, `/shop/{store}/{section}[/{product}]`.
pub fn routes(
    db: DatabaseConnection,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path("shop")
        .and(warp::path::param::<String>())
        .and(warp::path::tail())
        .and(warp::get().or(warp::head()).unify())
        .and(warp::any().map(move || db.clone()))
        .then(|id: String, tail: Tail, db| shop_page(id, tail, db))
}

/// Finds the shop, then the page the rest of the path names.
async fn shop_page(id: String, tail: Tail, db: DatabaseConnection) -> Response {
    let store = match find_shop(&db, &decoded(&id)).await {
        Ok(Shop::Open(store)) => store,
        Ok(Shop::Closed(store)) => return closed(&store),
        Ok(Shop::Missing) => return no_such_shop(),
        Err(_) => return unavailable(),
    };
    let pages = store.pages.clone().unwrap_or(Value::Null);
    let (title, path, main) = match tail.as_str().trim_end_matches('/') {
        "" => ("Home", "", home(&store, &pages["home"])),
        "products" => (
            "Products",
            "/products",
            catalogue(&store, &pages["products"]),
        ),
        "about" => ("About", "/about", about(&pages["about"])),
        "contact" => ("Contact", "/contact", contact(&pages["contact"])),
        rest => match rest
            .strip_prefix("products/")
            .filter(|id| !id.contains('/'))
        {
            Some(product) => return product_page(&db, &store, &decoded(product)).await,
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

/// What a shop's address leads to.
enum Shop {
    /// Active: the shop.
    Open(store::Model),
    /// Cannot take payments: a notice.
    Closed(store::Model),
    Missing,
}

async fn find_shop(db: &DatabaseConnection, id: &str) -> Result<Shop, sea_orm::DbErr> {
    if id == PLATFORM_STORE {
        return Ok(Shop::Missing);
    }
    let lookup = Lookup {
        id,
        store: None,
        livemode: None,
    };
    match stores::find(db, lookup).await {
        Ok(found) if found.store.status == StoreStatus::Active => Ok(Shop::Open(found.store)),
        Ok(found) => Ok(Shop::Closed(found.store)),
        Err(QueryError::Db(err)) => Err(err),
        Err(_) => Ok(Shop::Missing),
    }
}

/// A path segment as the id it names (`acct%5F1` is `acct_1`).
fn decoded(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

async fn product_page(db: &DatabaseConnection, store: &store::Model, id: &str) -> Response {
    let lookup = Lookup {
        id,
        store: Some(&store.id),
        livemode: Some(store.livemode),
    };
    let priced = match products::find(db, lookup).await {
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
    let main = product_detail(&priced, name);
    page::respond(StatusCode::OK, shop_frame(store, name, "/products", main))
}

fn shop_url(store: &store::Model, path: &str) -> String {
    format!("/shop/{}{path}", store.id)
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

/// The notice of a store that cannot take payments, in place of its shop.
fn closed(store: &store::Model) -> Response {
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
    page::respond(StatusCode::OK, page::frame(name, name, &[], main))
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
