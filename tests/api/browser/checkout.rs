//! Buying in Chromium: a shopper puts two tees in the cart from the product page, checks
//! out to (the stand-in's) Stripe page, pays, and comes back to the receipt; every page on
//! the way passes axe-core.

use super::harness::{Session, click_button, fill, heading, texts};
use super::storefront::{ACCOUNT, open_shop};
use crate::storefront::price;
use crate::stripe_server::{Payment, StripeServer};

const KEY: &str = "sk_test_browser_checkout";

#[tokio::test]
async fn a_shopper_fills_the_cart_checks_out_and_reads_the_receipt_in_the_browser() {
    let stripe = StripeServer::start(KEY).await;
    let env = [
        ("STRIPE_API_KEY", KEY.to_owned()),
        ("STRIPE_API_BASE", stripe.base.clone()),
    ];
    let Some(session) = Session::start_with(&env).await else {
        return;
    };
    stripe.send_webhooks_to(&session.url("/webhooks/stripe"));
    stripe.add_object(Some(ACCOUNT), price("prod_tee", 2500, "usd", None));
    open_shop(&session).await;
    let client = &session.client;

    session.goto("/shop/rosen-threads/products/prod_tee").await;
    session.check_page("checkout-product").await;
    fill(client, "Quantity", "2").await;
    click_button(client, "Add to cart").await;
    assert!(
        session
            .current()
            .await
            .ends_with("/shop/rosen-threads/cart")
    );
    assert_eq!(heading(client).await, "Your cart");
    let total = texts(client, "tfoot td").await;
    assert_eq!(total, vec!["50.00 USD".to_owned()]);
    session.check_page("checkout-cart").await;

    click_button(client, "Check out").await;
    let paying = session.current().await;
    assert!(
        paying.starts_with(&format!("{}/c/pay/cs_", stripe.base)),
        "{paying}"
    );
    let id = paying.rsplit('/').next().unwrap().to_owned();
    stripe.pay(Some(ACCOUNT), &id, Payment::Succeeded);

    // Stripe sends the shopper back once paid; the webhooks may take a moment.
    let receipt = format!("/shop/rosen-threads/checkout/success?session_id={id}&from=cart");
    for _ in 0..100 {
        session.goto(&receipt).await;
        if texts(client, "[role=status]").await == ["Your payment was received."] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(heading(client).await, "Thank you for your order");
    assert_eq!(texts(client, "tbody th").await, vec!["Gray Tee".to_owned()]);
    session.check_page("checkout-receipt").await;
    session.goto("/shop/rosen-threads/cart").await;
    assert_eq!(texts(client, "main p").await[0], "Your cart is empty.");
    session.finish().await;
}
