//! `payments demo` against the real binary, as the README's quick start has a newcomer run
//! it: a whole store comes out, and running it again changes nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::binary::{database_env, free_port, payments, run, sigterm, start_logged, wait_exit};
use crate::helpers::{ADMIN_TOKEN, SECRET, fresh_database_url, http_client, temp_dir};

const ACCOUNT: &str = payments::cli::DEMO_ACCOUNT;
/// Events in the story: the account created and onboarded, 8 products and their prices, 3
/// customers, a paid (2), a declined (2) and a refunded (3) order, and a last account update.
const EVENTS: usize = 29;

/// `payments demo` with `args`, given the admin token through `ADMIN_TOKEN`.
fn demo(cwd: &Path, args: &[&str]) -> Output {
    let mut command: Command = payments(cwd, &[("ADMIN_TOKEN", ADMIN_TOKEN.to_owned())]);
    command.arg("demo").args(args);
    run(command)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Admin {
    base: String,
    client: reqwest::Client,
}

impl Admin {
    async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Every object of a list of at most 100.
    async fn list(&self, path: &str) -> Vec<Value> {
        let list = self.get(path).await;
        assert_eq!(list["has_more"], false, "{path}");
        list["data"].as_array().unwrap().clone()
    }

    /// The store's counts, and each of the account's events with its status and conflicts.
    async fn state(&self) -> (Value, Vec<(String, String, i64)>) {
        let store = self.get(&format!("/stores/{ACCOUNT}")).await;
        let events = self
            .list(&format!(
                "/webhooks/stripe/logs?account={ACCOUNT}&limit=100"
            ))
            .await;
        let mut events: Vec<(String, String, i64)> = events
            .iter()
            .map(|event| {
                (
                    event["id"].as_str().unwrap().to_owned(),
                    event["status"].as_str().unwrap().to_owned(),
                    event["body_conflicts"].as_i64().unwrap(),
                )
            })
            .collect();
        events.sort();
        (store["counts"].clone(), events)
    }
}

fn strings<'a>(objects: &'a [Value], key: &str) -> BTreeSet<&'a str> {
    objects
        .iter()
        .map(|object| object[key].as_str().unwrap_or("(none)"))
        .collect()
}

#[tokio::test]
async fn demo_builds_a_whole_store_and_a_second_run_changes_nothing() {
    let cwd = temp_dir();
    let port = free_port();
    let database = fresh_database_url().await;
    let mut env = database_env(&database);
    env.push(("BIND_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()));
    env.push(("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()));
    let (mut server, log) = start_logged(&cwd, env, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let admin = Admin {
        base: base.clone(),
        client: http_client(),
    };

    // A newcomer's earlier `payments trigger account.updated` for the same demo seller (another
    // business, "Rosen Threads"): the story's account updates are newer, so its name wins.
    let mut trigger = payments(&cwd, &[]);
    trigger.args([
        "trigger",
        "account.updated",
        "--url",
        &base,
        "--secret",
        SECRET,
    ]);
    let triggered = run(trigger);
    assert!(triggered.status.success(), "{}", stdout(&triggered));

    // A wrong secret: the first event is refused, the run stops there and fails.
    let refused = demo(&cwd, &["--url", &base, "--secret", "whsec_not_this_one"]);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("answered 400"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("no_matching_signature"));

    let first = demo(&cwd, &["--url", &base, "--secret", SECRET]);
    let out = stdout(&first);
    assert!(first.status.success(), "{out}\n{}", stderr(&first));
    assert_eq!(
        out.lines().filter(|line| line.ends_with(" new")).count(),
        EVENTS
    );
    assert!(
        out.contains(&format!(
            "sent {EVENTS} events: {EVENTS} new, 0 already received"
        )),
        "{out}"
    );
    assert!(
        out.contains("applied: Lumen & Leaf (active), 8 products, 3 customers, 3 orders"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|line| line == format!("storefront: {base}/shop/{ACCOUNT}")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|line| line == format!("console:    {base}/admin")),
        "{out}"
    );

    // The store: active, named, with the pages' content.
    let store = admin.get(&format!("/stores/{ACCOUNT}")).await;
    assert_eq!(store["status"], "active");
    assert_eq!(store["name"], "Lumen & Leaf");
    assert!(store["description"].as_str().unwrap().contains("candles"));
    assert!(store["support_email"].as_str().unwrap().contains('@'));
    assert!(store["website"].as_str().unwrap().starts_with("https://"));
    let pages = &store["pages"];
    assert_eq!(
        pages["home"]["featured_products"].as_array().unwrap().len(),
        8
    );
    let categories: Vec<&str> = pages["products"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|category| category["name"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["Candles", "Plants", "Subscriptions"]);
    assert!(pages["contact"]["phone"].is_string());

    // The catalogue: every product active with its price, in one currency.
    let products = admin
        .list(&format!("/stores/{ACCOUNT}/products?limit=100"))
        .await;
    assert_eq!(products.len(), 8);
    for product in &products {
        assert_eq!(product["active"], true, "{product}");
        assert_eq!(product["price"]["currency"], "usd", "{product}");
        assert!(product["price"]["unit_amount"].as_i64().unwrap() > 0);
    }
    assert_eq!(
        strings(&products, "category"),
        BTreeSet::from(["Candles", "Plants", "Subscriptions"])
    );
    let monthly = pages["products"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|category| category["products"].as_array().unwrap())
        .filter(|shown| shown["price"]["interval"] == "month")
        .count();
    assert_eq!(monthly, 2, "the subscriptions are billed monthly");

    // The customers and their orders.
    let customers = admin
        .list(&format!("/stores/{ACCOUNT}/customers?limit=100"))
        .await;
    assert_eq!(customers.len(), 3);
    assert!(strings(&customers, "name").contains("Maya Chen"));
    assert!(
        strings(&customers, "email")
            .iter()
            .all(|email| email.ends_with("@example.com"))
    );
    let orders = admin
        .list(&format!("/stores/{ACCOUNT}/orders?limit=100"))
        .await;
    assert_eq!(
        strings(&orders, "status"),
        BTreeSet::from(["completed", "failed", "refunded"])
    );
    let customer_ids = strings(&customers, "id");
    for order in &orders {
        assert!(customer_ids.contains(order["customer"].as_str().unwrap()));
        assert!(!order["items"].as_array().unwrap().is_empty(), "{order}");
        match order["status"].as_str().unwrap() {
            "completed" => {
                assert_eq!(order["amount_captured"], order["amount"]);
                assert!(order["receipt_url"].is_string());
            }
            "refunded" => assert_eq!(order["amount_refunded"], order["amount"]),
            _ => assert_eq!(order["failure_code"], "card_declined"),
        }
    }

    let (counts, events) = admin.state().await;
    assert_eq!(
        events.len(),
        EVENTS + 1,
        "the story and the triggered event"
    );
    assert!(
        events.iter().all(|(_, status, conflicts)| *conflicts == 0
                // The story's first two account snapshots are older than the triggered one.
                && (status == "processed" || status == "skipped")),
        "{events:?}"
    );

    // The storefront shows it.
    let shop = admin
        .client
        .get(format!("{base}/shop/{ACCOUNT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(shop.status(), 200);
    let html = shop.text().await.unwrap();
    assert!(html.contains("Lumen &amp; Leaf"), "{html}");

    // Again: every event already received, the same bytes, nothing changed.
    let second = demo(&cwd, &["--url", &base, "--secret", SECRET]);
    let out = stdout(&second);
    assert!(second.status.success(), "{out}\n{}", stderr(&second));
    assert!(
        out.contains(&format!(
            "sent {EVENTS} events: 0 new, {EVENTS} already received"
        )),
        "{out}"
    );
    assert_eq!(admin.state().await, (counts, events));

    sigterm(&server);
    let status = wait_exit(&mut server, std::time::Duration::from_secs(10)).await;
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[test]
fn demo_against_no_server_fails_saying_so() {
    let cwd = temp_dir();
    let base = format!("http://127.0.0.1:{}", free_port());
    let output = demo(&cwd, &["--url", &base, "--secret", SECRET]);
    assert!(!output.status.success());
    let stderr = stderr(&output);
    assert!(
        stderr.contains(&format!("cannot reach the server at {base}")),
        "{stderr}"
    );
}
