//! The admin console in Chromium: a wrong token is refused on the sign-in form; the admin
//! token signs in to the overview, every section is reachable by the navigation, signing
//! out ends the session, and the console then refuses its pages.

use fantoccini::Locator;
use serde_json::json;

use super::harness::{Session, click_button, fill, heading, shows_sign_in_form, sign_in, texts};
use super::storefront::{ACCOUNT, open_shop};
use crate::helpers::{ADMIN_TOKEN, fixture};

const SECTIONS: [&str; 5] = ["Stores", "Orders", "Customers", "Products", "Events"];

#[tokio::test]
async fn the_console_signs_in_walks_its_sections_and_signs_out_in_the_browser() {
    let Some(session) = Session::start().await else {
        return;
    };
    open_shop(&session).await;
    let client = &session.client;

    session.goto("/admin").await;
    assert!(
        session.current().await.contains("/admin/sign-in"),
        "a visitor is sent to the sign-in form: {}",
        session.current().await
    );
    assert!(shows_sign_in_form(client).await);
    session.check_page("console-sign-in").await;
    fill(client, "Admin token", "not-the-token").await;
    click_button(client, "Sign in").await;
    assert!(shows_sign_in_form(client).await, "a wrong token is refused");
    assert_eq!(texts(client, "p.error").await.len(), 1, "and says so");
    session.check_page("console-sign-in-refused").await;

    sign_in(client, &session.base, ADMIN_TOKEN).await;
    assert!(
        session.current().await.ends_with("/admin"),
        "signed in to the overview: {}",
        session.current().await
    );
    assert!(!heading(client).await.is_empty());
    session.check_page("console-overview").await;
    for section in SECTIONS {
        session.click_link(section).await;
        assert!(!shows_sign_in_form(client).await, "{section}");
        session
            .check_page(&format!("console-{}", section.to_lowercase()))
            .await;
    }

    click_button(client, "Sign out").await;
    assert!(shows_sign_in_form(client).await, "signed out");
    session.check_page("console-signed-out").await;
    for path in ["/admin", "/admin/stores"] {
        session.goto(path).await;
        assert!(
            shows_sign_in_form(client).await,
            "{path} after signing out: {}",
            session.current().await
        );
    }
    session.finish().await;
}

/// A customer event that fails because its table is gone (renamed away, then back): an
/// operator finds it in the console, reads its error and payload, and replays it; meanwhile
/// a shopper's message shows on the store's page, and the paid order on its own.
#[tokio::test]
async fn an_operator_replays_a_failed_event_and_reads_a_message_in_the_browser() {
    use sea_orm::ConnectionTrait;
    let Some(session) = Session::start().await else {
        return;
    };
    open_shop(&session).await;
    let client = &session.client;
    session.goto(&format!("/shop/{ACCOUNT}/contact")).await;
    fill(client, "Name", "Ana Lima").await;
    fill(client, "E-mail", "ana@example.com").await;
    fill(client, "Message", "Do you ship to Lisbon?").await;
    click_button(client, "Send message").await;

    let mut charge: serde_json::Value =
        serde_json::from_slice(&fixture("charge.succeeded.json")).unwrap();
    charge["account"] = json!(ACCOUNT);
    session
        .deliver(&[serde_json::to_vec(&charge).unwrap()])
        .await;
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    let db = &session.db;
    db.execute_unprepared(&rename("marketplace_customers", "customers_away"))
        .await
        .unwrap();
    session.deliver(&[customer_event()]).await;
    db.execute_unprepared(&rename("customers_away", "marketplace_customers"))
        .await
        .unwrap();

    sign_in(client, &session.base, ADMIN_TOKEN).await;
    session.click_link("Stores").await;
    session.click_link("Rosen Threads").await;
    assert!(
        texts(client, ".message .body").await == ["Do you ship to Lisbon?"],
        "the shopper's message is on the store's page"
    );
    session.check_page("console-store").await;

    session.click_link("Orders").await;
    let order = client
        .find(Locator::Css("tbody tr td a"))
        .await
        .expect("an order in the list");
    order.click().await.unwrap();
    session
        .wait_for_url(|url| url.contains("/admin/orders/"))
        .await;
    assert!(heading(client).await.starts_with("Order "));
    session.check_page("console-order").await;

    session.goto("/admin/events?status=failed").await;
    session.click_link(FAILED_EVENT).await;
    let error = texts(client, "dl dd").await.join(" ");
    assert!(error.contains("failed"), "the event's status: {error}");
    session.check_page("console-event-failed").await;
    session.click_link("Replay…").await;
    session.check_page("console-replay-confirm").await;
    click_button(client, "Replay").await;
    assert!(!texts(client, ".notice[role=status]").await.is_empty());
    wait_until_processed(&session).await;
    session.check_page("console-event-replayed").await;
    session.finish().await;
}

const FAILED_EVENT: &str = "evt_br_customer_failed";

fn customer_event() -> Vec<u8> {
    serde_json::to_vec(&json!({"id": FAILED_EVENT, "object": "event",
        "type": "customer.created", "created": 2000, "livemode": false,
        "api_version": "2024-06-20", "pending_webhooks": 1, "account": ACCOUNT,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": "cus_br_failed", "object": "customer", "name": "Bo Reis",
            "email": "bo@example.com", "created": 2000, "metadata": {}}}}))
    .unwrap()
}

/// Reloads the event's page until it says `processed` (the actor applies the replay at
/// once; the reloads only wait for it).
async fn wait_until_processed(session: &Session) {
    for _ in 0..100 {
        session.goto(&format!("/admin/events/{FAILED_EVENT}")).await;
        if texts(&session.client, ".status")
            .await
            .iter()
            .any(|s| s == "processed")
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the replayed event was not processed within 10 s");
}
