//! `grafana/` stays in sync with `src/metrics.rs`: every dashboard query names metrics the
//! service exports, the alert rules pass promtool, and every dashboard query answers from a
//! real Prometheus (Debian's `prometheus` package) scraping a real service.
//!
//! promtool and prometheus are optional on a workstation (the tests say they skip) and
//! required in CI (`CI` set; `.ci/run` installs them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, random_suffix, spawn_app, temp_dir};

const DASHBOARD: &str = "grafana/dashboards/payments.json";
const RULES: &str = "grafana/alerts/payments-rules.yml";
const RULE_TESTS: &str = "grafana/alerts/payments-rules.test.yml";
const PROMETHEUS_CONFIG: &str = "grafana/prometheus.yml";
const ALERTS: [&str; 4] = [
    "PaymentsSignatureFailuresBurst",
    "PaymentsDeadLetters",
    "PaymentsInboxStale",
    "PaymentsDown",
];

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(repo_path(DASHBOARD)).expect("read the dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Every panel, the panels of collapsed rows included, rows excluded.
fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in list.as_array().into_iter().flatten() {
            walk(&panel["panels"], out);
            if panel["type"] != "row" {
                out.push(panel);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// `(panel title, expression)` of every panel query.
fn queries(dashboard: &Value) -> Vec<(String, String)> {
    panels(dashboard)
        .into_iter()
        .flat_map(|panel| {
            let title = panel["title"].as_str().unwrap_or("?").to_owned();
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |target| {
                    let expr = target["expr"].as_str().unwrap_or_default().to_owned();
                    (title.clone(), expr)
                })
        })
        .collect()
}

/// A dashboard expression as Grafana sends it, for a Prometheus scraping every second.
fn as_sent(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("${job}", "payments")
        .replace("$job", "payments")
}

/// Words PromQL reserves: aggregations, binary operators and modifiers, literals.
const PROMQL_WORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
];
/// Modifiers followed by a list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names a PromQL expression selects: identifiers that are not functions,
/// keywords, label names (inside `{}` or a `by (...)` list), strings, ranges or numbers.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let next_non_space = |from: usize| chars[from..].iter().copied().find(|c| !c.is_whitespace());
    let mut names = BTreeSet::new();
    let mut depth = 0usize;
    let mut label_list_at: Option<usize> = None;
    let mut label_list_next = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' && c != '`' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '{' || c == '[' {
            // Label matchers and ranges: skip to the closing bracket, strings included.
            let close = if c == '{' { '}' } else { ']' };
            while i < chars.len() && chars[i] != close {
                if chars[i] == '"' {
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        i += if chars[i] == '\\' { 2 } else { 1 };
                    }
                }
                i += 1;
            }
            i += 1;
        } else if c == '(' {
            depth += 1;
            if std::mem::take(&mut label_list_next) {
                label_list_at = Some(depth);
            }
            i += 1;
        } else if c == ')' {
            if label_list_at == Some(depth) {
                label_list_at = None;
            }
            depth = depth.saturating_sub(1);
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | ':'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_ascii_lowercase();
            let next = next_non_space(i);
            if label_list_at.is_some() || PROMQL_WORDS.contains(&lower.as_str()) {
                continue;
            }
            if LABEL_LISTS.contains(&lower.as_str()) {
                label_list_next = next == Some('(');
            } else if next != Some('(') {
                names.insert(word);
            }
        } else if c.is_ascii_digit() || c == '.' {
            // Numbers and durations (`0.99`, `1e3`, `15m`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn promql_metric_names_skip_functions_keywords_labels_and_ranges() {
    let names = |expr| metric_names(expr).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (le) (rate(a_bucket{job="$job",x=~"y|z}"}[$__rate_interval])))"#
        ),
        ["a_bucket"]
    );
    assert_eq!(
        names("sum(rate(a_total[5m])) / on (job) group_left(version) b:rule or vector(0)"),
        ["a_total", "b:rule"]
    );
    assert_eq!(
        names("sum by (job, type) (x unless x offset 15m) > 0 and count(y) by (le) > 1e3"),
        ["x", "y"]
    );
    assert_eq!(names("up == 0 or absent(up{job='p'})"), ["up"]);
}

/// The family a sample name belongs to in `exposition` (`x_bucket` belongs to the
/// histogram `x`), if the service exports that sample.
fn exported_family<'a>(exposition: &str, name: &'a str) -> Option<&'a str> {
    let has_samples = exposition.lines().any(|line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
    });
    if !has_samples {
        return None;
    }
    if exposition.contains(&format!("# TYPE {name} ")) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let family = name.strip_suffix(suffix)?;
        let kind = format!("# TYPE {family} histogram");
        exposition.contains(&kind).then_some(family)
    })
}

/// Whether `tool` runs; outside CI a missing tool skips the test, in CI it fails it.
fn tool_available(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "{tool} is required in CI (Debian's prometheus package)"
        );
        eprintln!("skipped: {tool} is not installed (Debian's prometheus package)");
    }
    found
}

/// A load that moves every metric: accepted events of several types, a duplicate, an
/// invalid signature, an invalid payload and an event that is dead-lettered. `round` keeps
/// event ids fresh so repeated loads are accepted, not duplicates.
async fn send_mixed_load(app: &TestApp, round: u32) {
    let run = random_suffix();
    for (n, name) in [
        "customer.created.json",
        "product.created.json",
        "charge.succeeded.json",
    ]
    .into_iter()
    .enumerate()
    {
        let mut event: Value = serde_json::from_slice(&fixture(name)).unwrap();
        event["id"] = json!(format!("evt_dashboard_{run}_{round}_{n}"));
        let body = serde_json::to_vec(&event).unwrap();
        assert_eq!(app.post_event(&body).await.status(), 200);
        if n == 0 {
            let duplicate = app.post_event(&body).await;
            assert_eq!(duplicate.status(), 200);
        }
    }
    let price = fixture("price.created.json");
    let refused = app
        .post_with_signature(&price, Some("t=1,v1=00".into()))
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(app.post_event(b"[]").await.status(), 400);
    if round == 0 {
        // An event the apply path refuses uses up its attempts.
        let mut broken: Value = serde_json::from_slice(&fixture("customer.updated.json")).unwrap();
        broken["id"] = json!(format!("evt_dashboard_dead_letter_{run}"));
        // A deletion at a time no clock can hold: the apply path refuses it (a domain error).
        broken["type"] = json!("customer.deleted");
        broken["created"] = json!(i64::MAX);
        let body = serde_json::to_vec(&broken).unwrap();
        assert_eq!(app.post_event(&body).await.status(), 200);
    }
}

#[tokio::test]
async fn dashboard_queries_only_metrics_the_service_exports() {
    let dashboard = dashboard();
    assert_eq!(dashboard["uid"], "payments");
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables.iter().any(|v| v["name"] == "datasource"
            && v["type"] == "datasource"
            && v["query"] == "prometheus"),
        "a datasource variable of type prometheus"
    );
    let rows: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|panel| panel["type"] == "row")
        .filter_map(|row| row["title"].as_str())
        .collect();
    for row in ["Intake", "Apply", "Actors", "Failures"] {
        assert!(rows.contains(&row), "a {row} row");
    }
    let mut ids = BTreeSet::new();
    for panel in panels(&dashboard) {
        let title = &panel["title"];
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "{title}: unique id"
        );
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().expect("panel targets");
        assert!(!targets.is_empty(), "{title} has a query");
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${datasource}", "{title}");
        }
    }

    // Names from every panel query and from the variables' label_values(metric, label).
    let mut used: Vec<(String, String)> = Vec::new();
    for (title, expr) in queries(&dashboard) {
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "{title}: `{expr}` selects a metric");
        used.extend(names.into_iter().map(|name| (title.clone(), name)));
    }
    for variable in variables {
        if let Some(args) = variable["query"]["query"]
            .as_str()
            .and_then(|d| d.strip_prefix("label_values("))
        {
            let metric = args.split(',').next().unwrap().trim().to_owned();
            used.push((format!("variable {}", variable["name"]), metric));
        }
    }

    // A rendered /metrics after a load that creates every series.
    let app = spawn_app().await;
    send_mixed_load(&app, 0).await;
    app.wait_until_applied().await;
    let exposition = app.metrics_text().await;
    for (title, name) in &used {
        let family = exported_family(&exposition, name)
            .unwrap_or_else(|| panic!("{title}: {name} is not exported by the service"));
        assert!(
            payments::metrics::NAMES.contains(&family) || family.starts_with("process_"),
            "{title}: {name} is not defined in src/metrics.rs"
        );
    }
    // Every metric of the service is on the dashboard.
    for name in payments::metrics::NAMES {
        assert!(
            used.iter()
                .any(|(_, used)| exported_family(&exposition, used) == Some(name)),
            "{name} has no panel"
        );
    }
}

#[test]
fn alert_rules_and_prometheus_config_pass_promtool() {
    if !tool_available("promtool") {
        return;
    }
    for args in [
        ["check", "rules", RULES],
        ["test", "rules", RULE_TESTS],
        ["check", "config", PROMETHEUS_CONFIG],
    ] {
        let output = Command::new("promtool")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("promtool runs");
        assert!(
            output.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let rules = std::fs::read_to_string(repo_path(RULES)).unwrap();
    for alert in ALERTS {
        assert!(rules.contains(&format!("alert: {alert}\n")), "{alert}");
    }
}

/// A Prometheus server on loopback, killed when dropped (a failing test included).
struct Prometheus {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`) every second as job `payments`,
    /// with the alert rules loaded and evaluated every second.
    fn start(target: &str) -> Self {
        let dir = temp_dir();
        let config = dir.join("prometheus.yml");
        let rules = repo_path(RULES);
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {rules:?}\n\
                 scrape_configs:\n  - job_name: payments\n    static_configs:\n      \
                 - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let log = dir.join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus starts");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// GET `path` on the HTTP API with `query` parameters; the JSON answer.
    async fn get(&self, client: &reqwest::Client, path: &str, query: &[(&str, &str)]) -> Value {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.url)).unwrap();
        url.query_pairs_mut().extend_pairs(query);
        let response = client
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap_or_else(|err| panic!("prometheus answers {path}: {err}"));
        response.json().await.expect("prometheus answers JSON")
    }

    /// The instant vector of `expr`, asserting the answer is a successful vector.
    async fn query(&self, client: &reqwest::Client, expr: &str) -> Vec<Value> {
        let answer = self.get(client, "/api/v1/query", &[("query", expr)]).await;
        assert_eq!(answer["status"], "success", "`{expr}`: {answer}");
        assert_eq!(answer["data"]["resultType"], "vector", "`{expr}`: {answer}");
        answer["data"]["result"].as_array().unwrap().clone()
    }

    /// Whether the server answers `/-/ready`.
    async fn ready(&self, client: &reqwest::Client) -> bool {
        client
            .get(format!("{}/-/ready", self.url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("prometheus log:\n{log}");
        }
    }
}

/// The value of one sample of a query answer, checking its shape.
fn sample_value(expr: &str, sample: &Value) -> f64 {
    assert!(sample["metric"].is_object(), "`{expr}`: {sample}");
    let value = sample["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("`{expr}`: {sample}"));
    value
        .parse()
        .unwrap_or_else(|_| panic!("`{expr}`: {value} is a number"))
}

#[tokio::test]
async fn every_dashboard_query_answers_from_a_real_prometheus_after_a_mixed_load() {
    if !tool_available("prometheus") {
        return;
    }
    let app = spawn_app().await;
    send_mixed_load(&app, 0).await;
    app.wait_until_applied().await;
    let target = app
        .address
        .strip_prefix("http://")
        .expect("app.address is http://127.0.0.1:PORT");
    let prometheus = Prometheus::start(target);
    let client = crate::helpers::http_client();
    let deadline = Instant::now() + Duration::from_secs(60);
    let before_deadline =
        |what: &str| assert!(Instant::now() < deadline, "prometheus: {what} within 60 s");

    while !prometheus.ready(&client).await {
        before_deadline("ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Keep a little load going between scrapes so every rate() has moving samples.
    let mut round = 1;
    loop {
        send_mixed_load(&app, round).await;
        app.wait_until_applied().await;
        round += 1;
        let scrapes = prometheus
            .query(&client, r#"count_over_time(up{job="payments"}[1m])"#)
            .await;
        if scrapes
            .first()
            .is_some_and(|s| sample_value("scrapes", s) >= 5.0)
        {
            break;
        }
        before_deadline("5 scrapes of the service");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let up = prometheus.query(&client, r#"up{job="payments"}"#).await;
    assert_eq!(sample_value("up", &up[0]), 1.0, "the scrape succeeds");

    for (title, expr) in queries(&dashboard()) {
        let expr = as_sent(&expr);
        assert!(
            !expr.contains('$'),
            "{title}: `{expr}` has an unknown variable"
        );
        let result = prometheus.query(&client, &expr).await;
        assert!(!result.is_empty(), "{title}: `{expr}` answered no series");
        for sample in &result {
            let value = sample_value(&expr, sample);
            assert!(
                value.is_finite() && value >= 0.0,
                "{title}: `{expr}` = {value}"
            );
        }
    }
    let accepted = prometheus
        .query(
            &client,
            r#"sum(rate(payments_webhook_requests_total{job="payments",outcome="accepted"}[1m]))"#,
        )
        .await;
    assert!(sample_value("accepted/s", &accepted[0]) > 0.0);

    // The rules load and evaluate; the dead letter above fires its alert, nothing else.
    loop {
        let rules = prometheus.get(&client, "/api/v1/rules", &[]).await;
        let rules: Vec<&Value> = rules["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|group| group["rules"].as_array().into_iter().flatten())
            .collect();
        assert_eq!(rules.len(), ALERTS.len(), "every alert rule is loaded");
        for rule in &rules {
            assert_ne!(rule["health"], "err", "{rule}");
        }
        let firing: BTreeSet<&str> = rules
            .iter()
            .flat_map(|rule| rule["alerts"].as_array().into_iter().flatten())
            .filter(|alert| alert["state"] == "firing")
            .filter_map(|alert| alert["labels"]["alertname"].as_str())
            .collect();
        if rules.iter().all(|rule| rule["health"] == "ok") && firing.contains("PaymentsDeadLetters")
        {
            assert!(!firing.contains("PaymentsDown"), "{firing:?}");
            break;
        }
        before_deadline("the rules evaluated and PaymentsDeadLetters firing");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(prometheus);
    app.shutdown().await;
}
