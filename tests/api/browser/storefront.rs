//! The storefront in Chromium: a shopper walks a shop by its links at desktop and at phone
//! width, the keyboard's first stop is the skip link, an unknown shop is a 404 page, a
//! product named like markup is shown as text, and the contact form answers a wrong and a
//! right message. axe-core itself is checked to find what it should.

use fantoccini::key::Key;
use serde_json::{Value, json};

use super::harness::{
    DESKTOP, PHONE, Session, assert_no_alert, axe_violations, click_button, field, fill, focused,
    heading, press, texts,
};
use crate::helpers::fixture;
use crate::storefront::{event, price};

pub(super) use crate::storefront::ACCOUNT;

/// The storefront tests' product, without images: the browser loads nothing from the
/// network.
fn product(id: &str, name: &str, category: &str, created: i64) -> Value {
    let mut product = crate::storefront::product(id, name, category, created);
    product["images"] = json!([]);
    product
}

/// An active store (Rosen Threads) with a tee (USD), a print (JPY) and a monthly box.
pub(super) async fn open_shop(session: &Session) {
    session.deliver(&[fixture("account.updated.json")]).await;
    session
        .deliver(&[
            event(
                "evt_br_p1",
                "product.created",
                1001,
                product("prod_tee", "Gray Tee", "Shirts", 1001),
            ),
            event(
                "evt_br_p2",
                "product.created",
                1002,
                product("prod_print", "Wave Print", "Art", 1002),
            ),
            event(
                "evt_br_p3",
                "product.created",
                1003,
                product("prod_box", "Sock Box", "Shirts", 1003),
            ),
            event(
                "evt_br_c1",
                "price.created",
                1004,
                price("prod_tee", 2500, "usd", None),
            ),
            event(
                "evt_br_c2",
                "price.created",
                1005,
                price("prod_print", 1200, "jpy", None),
            ),
            event(
                "evt_br_c3",
                "price.created",
                1006,
                price("prod_box", 900, "usd", Some("month")),
            ),
        ])
        .await;
}

/// Home → Products → a product → About → Contact by the links, at desktop and phone width;
/// on Home the first Tab stop is the skip link, shown when focused, and it leads to the
/// content.
#[tokio::test]
async fn a_shopper_walks_the_shop_by_its_links_at_desktop_and_phone_width() {
    let Some(session) = Session::start().await else {
        return;
    };
    open_shop(&session).await;
    let client = &session.client;
    let shop = format!("/shop/{ACCOUNT}");
    for (width, size) in [("desktop", DESKTOP), ("phone", PHONE)] {
        session.resize(size).await;
        session.goto(&shop).await;
        assert_eq!(heading(client).await, "Rosen Threads");

        press(client, Key::Tab).await;
        let (tag, text, href) = focused(client).await;
        assert_eq!(
            (tag.as_str(), text.as_str(), href.as_deref()),
            ("a", "Skip to content", Some("#main")),
            "{width}: the first Tab stop is the skip link"
        );
        let skip = client.active_element().await.unwrap();
        let (x, y, ..) = skip.rectangle().await.unwrap();
        assert!(
            x >= 0.0 && y >= 0.0,
            "{width}: the focused skip link is on screen ({x}, {y})"
        );
        session
            .check_page(&format!("storefront-home-{width}"))
            .await;
        press(client, Key::Enter).await;
        session.wait_for_url(|url| url.ends_with("#main")).await;

        session.click_link("Products").await;
        assert_eq!(heading(client).await, "Products");
        session
            .check_page(&format!("storefront-products-{width}"))
            .await;

        session.click_link("Wave Print").await;
        assert!(
            session.current().await.ends_with("/products/prod_print"),
            "{width}"
        );
        assert_eq!(heading(client).await, "Wave Print");
        session
            .check_page(&format!("storefront-product-{width}"))
            .await;

        session.click_link("About").await;
        assert!(session.current().await.ends_with("/about"), "{width}");
        session
            .check_page(&format!("storefront-about-{width}"))
            .await;

        session.click_link("Contact").await;
        assert!(session.current().await.ends_with("/contact"), "{width}");
        session
            .check_page(&format!("storefront-contact-{width}"))
            .await;
    }
    session.finish().await;
}

#[tokio::test]
async fn an_unknown_shop_is_a_404_page_in_the_browser() {
    let Some(session) = Session::start().await else {
        return;
    };
    open_shop(&session).await;
    assert_eq!(session.status_of("/shop/acct_nobody").await, 404);
    session.goto("/shop/acct_nobody").await;
    assert_eq!(heading(&session.client).await, "Shop not found");
    session.check_page("storefront-404").await;
    session.finish().await;
}

/// A product named `<script>alert("x")</script> "quoted"` is that text in the title, the
/// heading and the links, and no dialog opens.
#[tokio::test]
async fn a_product_named_like_markup_is_shown_as_text_in_the_browser() {
    let Some(session) = Session::start().await else {
        return;
    };
    open_shop(&session).await;
    let hostile = r#"<script>alert("x")</script> "quoted""#;
    session
        .deliver(&[
            event(
                "evt_br_x",
                "product.created",
                1010,
                product("prod_x", hostile, "Art", 1010),
            ),
            event(
                "evt_br_xc",
                "price.created",
                1011,
                price("prod_x", 500, "usd", None),
            ),
        ])
        .await;
    let client = &session.client;
    session.goto(&format!("/shop/{ACCOUNT}/products")).await;
    assert_no_alert(client).await;
    session.click_link(hostile).await;
    assert_no_alert(client).await;
    assert!(session.current().await.ends_with("/products/prod_x"));
    let title = client.title().await.unwrap();
    assert!(title.contains(hostile), "the title holds the name: {title}");
    assert_eq!(heading(client).await, hostile);
    let scripts = client
        .execute("return document.scripts.length", vec![])
        .await
        .unwrap();
    assert_eq!(scripts, json!(0), "no script element on the page");
    session.check_page("storefront-product-markup-name").await;
    session.finish().await;
}

/// A message the server refuses (a blank name and an address without a domain pass the
/// browser's own checks) shows the errors by the fields; corrected, it is sent and the
/// thank-you notice shown.
#[tokio::test]
async fn the_contact_form_shows_errors_then_thanks_in_the_browser() {
    let Some(session) = Session::start().await else {
        return;
    };
    open_shop(&session).await;
    let client = &session.client;
    session.goto(&format!("/shop/{ACCOUNT}/contact")).await;
    fill(client, "Name", "   ").await;
    fill(client, "E-mail", "ana@example").await;
    fill(client, "Message", "Do you ship to Lisbon?").await;
    click_button(client, "Send message").await;
    assert!(session.current().await.ends_with("/contact"));
    assert_eq!(texts(client, ".notice[role=alert]").await.len(), 1);
    assert_eq!(
        texts(client, "p.error").await.len(),
        2,
        "an error by the name and one by the address"
    );
    for label in ["Name", "E-mail"] {
        let control = field(client, label).await;
        assert_eq!(
            control.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true"),
            "{label} is marked invalid"
        );
    }
    let message = field(client, "Message").await;
    assert_eq!(
        message.prop("value").await.unwrap().as_deref(),
        Some("Do you ship to Lisbon?"),
        "what was written is kept"
    );
    session.check_page("storefront-contact-errors").await;

    fill(client, "Name", "Ana Lima").await;
    fill(client, "E-mail", "ana@example.com").await;
    click_button(client, "Send message").await;
    assert!(
        session.current().await.ends_with("/contact?sent=1"),
        "{}",
        session.current().await
    );
    let thanks = texts(client, ".notice[role=status]").await;
    assert!(
        thanks.len() == 1 && thanks[0].starts_with("Thank you"),
        "{thanks:?}"
    );
    assert!(texts(client, "p.error").await.is_empty());
    session.check_page("storefront-contact-sent").await;
    session.finish().await;
}

/// The check finds what it must: on a page with an unlabelled image and an empty button it
/// reports critical violations (so a clean result on the shop's pages means something).
#[tokio::test]
async fn axe_core_reports_the_violations_of_a_broken_page_in_the_browser() {
    let Some(session) = Session::start().await else {
        return;
    };
    session
        .client
        .goto("data:text/html,<!DOCTYPE html><html><body><img src=x.png><button></button></body></html>")
        .await
        .unwrap();
    let violations = axe_violations(&session.client, "broken").await;
    let found: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["impact"].as_str().unwrap()))
        .collect();
    for expected in [("image-alt", "critical"), ("button-name", "critical")] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    session.finish().await;
}
