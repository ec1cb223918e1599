//! The browser tests' harness: the real service, chromedriver and a headless Chromium
//! session, and the steps a test takes on a page (go, click, fill, sign in, check with
//! axe-core, screenshot).
//!
//! Each test starts its own service (fresh database, the known webhook secret and admin
//! token of `helpers`) and its own chromedriver; both run in their own process group, which
//! is killed when the [`Session`] is dropped, so a failing test leaves no browser behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use sea_orm::{Database, DatabaseConnection};
use serde_json::{Value, json};

use crate::binary::{free_port, payments, wait_until_healthy};
use crate::helpers::{
    ADMIN_TOKEN, SECRET, fresh_database_url, http_client, now, sign_at, temp_dir,
    wait_until_applied,
};

/// The window of a desktop browser, and of a phone (CSS pixels).
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (375, 812);

/// How long a page may take to appear after a click or a submit.
const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(20);

/// The programs and files the tests need, found on this machine.
struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

/// `CHROMEDRIVER` (default `chromedriver` on `PATH`), `CHROMIUM` (default
/// `/usr/bin/chromium`) and axe-core's `axe.min.js` under `tools/browser/node_modules`.
/// Outside CI a missing one skips the test with the reason; in CI it fails the test.
fn tools() -> Option<Tools> {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let axe = axe_path();
    let found = (
        find_program(&chromedriver),
        find_program(&chromium),
        axe.is_file(),
    );
    let missing = match &found {
        (None, ..) => format!(
            "chromedriver ({chromedriver}) not found: install Debian's chromium-driver, or set CHROMEDRIVER"
        ),
        (_, None, _) => {
            format!("Chromium ({chromium}) not found: install Debian's chromium, or set CHROMIUM")
        }
        (.., false) => format!(
            "axe-core ({}) not found: run `npm ci` in tools/browser",
            axe.display()
        ),
        (Some(chromedriver), Some(chromium), true) => {
            return Some(Tools {
                chromedriver: chromedriver.clone(),
                chromium: chromium.clone(),
            });
        }
    };
    assert!(
        std::env::var("CI").is_err(),
        "the browser tests are required in CI: {missing}"
    );
    eprintln!("skipped: {missing}");
    None
}

fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/browser/node_modules/axe-core/axe.min.js")
}

/// A path as given, or a bare name looked up on `PATH`; `None` unless it is a file.
fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A child process leading its own process group; the group (the process and anything it
/// started, such as chromedriver's Chromium) is killed on drop.
struct Group(Child);

impl Group {
    fn spawn(command: &mut Command, log: &Path) -> Group {
        let log = std::fs::File::create(log).expect("create a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| panic!("start {:?}: {err}", command.get_program()));
        Group(child)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// The service, chromedriver and a Chromium session for one test.
pub struct Session {
    pub client: Client,
    /// `http://127.0.0.1:{port}` of the service.
    pub base: String,
    /// The service's database, for a test to read or to sabotage.
    pub db: DatabaseConnection,
    http: reqwest::Client,
    // Dropped after the client: the browser goes with the driver's process group.
    _driver: Group,
    _server: Group,
}

impl Session {
    /// Starts the service, chromedriver and a headless Chromium at desktop size; `None`
    /// (after saying why) when the tools are missing outside CI.
    pub async fn start() -> Option<Session> {
        Self::start_with(&[]).await
    }

    /// [`Session::start`], the service with more settings (`extra`: environment).
    pub async fn start_with(extra: &[(&str, String)]) -> Option<Session> {
        let tools = tools()?;
        let dir = temp_dir();
        let (server, base, db) = start_service(&dir, extra).await;
        let (driver, driver_url) = start_chromedriver(&tools.chromedriver, &dir).await;
        let client = connect(&driver_url, &tools.chromium).await;
        Some(Session {
            client,
            base,
            db,
            http: http_client(),
            _driver: driver,
            _server: server,
        })
    }

    /// Ends the browser session (the processes go when the session is dropped).
    pub async fn finish(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("close the session");
    }

    /// POSTs each event to the service signed with the test secret, then waits until the
    /// service has applied them all.
    pub async fn deliver(&self, events: &[Vec<u8>]) {
        for body in events {
            let response = self
                .http
                .post(format!("{}/webhooks/stripe", self.base))
                .header("content-type", "application/json; charset=utf-8")
                .header("stripe-signature", sign_at(body, now()))
                .body(body.clone())
                .send()
                .await
                .expect("webhook sent");
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
        wait_until_applied(&self.db).await;
    }

    /// The HTTP status of `path`, asked outside the browser (WebDriver does not tell).
    pub async fn status_of(&self, path: &str) -> u16 {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        response.status().as_u16()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` of the service.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|err| panic!("open {path}: {err}"));
    }

    /// Sets the browser window to `(width, height)` and checks the page's viewport
    /// follows (headless Chromium has no window frame).
    pub async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
        let inner = self
            .client
            .execute("return window.innerWidth", vec![])
            .await
            .unwrap();
        assert_eq!(inner, json!(width), "viewport width after resizing");
    }

    /// Clicks the link whose text is exactly `text` (the first in the document, so a
    /// navigation link before one in the page) and waits until its page is shown.
    pub async fn click_link(&self, text: &str) {
        let link = match self.client.find(Locator::LinkText(text)).await {
            Ok(link) => link,
            Err(err) => panic!("no link {text:?} on {}: {err}", self.current().await),
        };
        let href = link
            .prop("href")
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("the link {text:?} has an href"));
        link.click()
            .await
            .unwrap_or_else(|err| panic!("click the link {text:?}: {err}"));
        self.wait_for_url(|url| url == href).await;
    }

    /// Waits until the current address satisfies `arrived` and the page has loaded.
    pub async fn wait_for_url(&self, arrived: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + NAVIGATION_TIMEOUT;
        loop {
            let url = self.current().await;
            let ready = self
                .client
                .execute("return document.readyState", vec![])
                .await
                .unwrap();
            if arrived(&url) && ready == "complete" {
                return;
            }
            assert!(Instant::now() < deadline, "still on {url} ({ready})");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The address shown.
    pub async fn current(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Checks the page with axe-core and saves a screenshot, both named `name`.
    pub async fn check_page(&self, name: &str) {
        assert_no_alert(&self.client).await;
        axe_check(&self.client, name).await;
        screenshot(&self.client, name).await;
    }
}

async fn start_service(
    dir: &Path,
    extra: &[(&str, String)],
) -> (Group, String, DatabaseConnection) {
    let port = free_port();
    let database_url = fresh_database_url().await;
    let mut env = vec![
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("DATABASE_URL", database_url.clone()),
        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        // A sabotaged event fails within a test's patience: two attempts, 10 ms apart.
        ("APPLY_MAX_ATTEMPTS", "2".to_owned()),
        ("APPLY_BACKOFF_MS", "10".to_owned()),
    ];
    env.extend(extra.iter().cloned());
    let mut server = Group::spawn(&mut payments(dir, &env), &dir.join("server.log"));
    wait_until_healthy(port, &mut server.0).await;
    let db = Database::connect(database_url.as_str())
        .await
        .expect("the test connects to the service's database");
    (server, format!("http://127.0.0.1:{port}"), db)
}

async fn start_chromedriver(program: &Path, dir: &Path) -> (Group, String) {
    let port = free_port();
    let log = dir.join("chromedriver.log");
    let mut driver = Group::spawn(Command::new(program).arg(format!("--port={port}")), &log);
    let url = format!("http://127.0.0.1:{port}");
    let http = http_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = driver.0.try_wait().unwrap() {
            panic!(
                "chromedriver exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let ready = match http.get(format!("{url}/status")).send().await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|status| status["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            return (driver, url);
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver not ready after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A WebDriver session in headless Chromium, over plain HTTP to the local chromedriver.
async fn connect(driver_url: &str, chromium: &Path) -> Client {
    let (width, height) = DESKTOP;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver_url)
        .await
        .unwrap_or_else(|err| panic!("chromedriver at {driver_url} starts Chromium: {err}"))
}

/// Fails if a dialog (`alert`, `confirm`, `prompt`) is open: a page's text ran as script.
pub async fn assert_no_alert(client: &Client) {
    match client.get_alert_text().await {
        Err(err) if err.is_no_such_alert() => {}
        Ok(text) => panic!("a dialog opened on the page: {text:?}"),
        Err(err) => panic!("asking for a dialog: {err}"),
    }
}

/// Injects axe-core into the page, runs it over the whole document, and fails listing
/// every `serious` or `critical` violation (rule, impact, help, elements). Lesser ones are
/// printed.
pub async fn axe_check(client: &Client, page_name: &str) {
    let mut failing = Vec::new();
    for violation in axe_violations(client, page_name).await {
        let line = format!(
            "{} ({}): {} at {}",
            violation["id"].as_str().unwrap_or("?"),
            violation["impact"].as_str().unwrap_or("?"),
            violation["help"].as_str().unwrap_or("?"),
            violation["targets"]
        );
        if matches!(violation["impact"].as_str(), Some("serious" | "critical")) {
            failing.push(line);
        } else {
            eprintln!("{page_name}: axe-core notes {line}");
        }
    }
    assert!(
        failing.is_empty(),
        "{page_name}: axe-core finds serious or critical violations:\n{}",
        failing.join("\n")
    );
}

/// axe-core's violations on the page: `{id, impact, help, targets}` each (`targets`: a
/// CSS selector per element).
pub async fn axe_violations(client: &Client, page_name: &str) -> Vec<Value> {
    static AXE: OnceLock<String> = OnceLock::new();
    let source = AXE.get_or_init(|| {
        std::fs::read_to_string(axe_path()).expect("read axe-core (npm ci in tools/browser)")
    });
    let loaded = client
        .execute("return typeof window.axe === 'object'", vec![])
        .await
        .unwrap();
    if loaded != true {
        client
            .execute(source, vec![])
            .await
            .unwrap_or_else(|err| panic!("{page_name}: inject axe-core: {err}"));
    }
    let outcome = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            window.axe.run(document, { resultTypes: ['violations'] })
                .then(results => done({ violations: results.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(node => node.target.join(' ')),
                })) }))
                .catch(error => done({ error: String(error) }));"#,
            vec![],
        )
        .await
        .unwrap_or_else(|err| panic!("{page_name}: run axe-core: {err}"));
    if let Some(error) = outcome.get("error") {
        panic!("{page_name}: axe-core failed: {error}");
    }
    match outcome {
        Value::Object(mut outcome) => match outcome.remove("violations") {
            Some(Value::Array(violations)) => violations,
            other => panic!("{page_name}: axe-core's answer: {other:?}"),
        },
        other => panic!("{page_name}: axe-core's answer: {other}"),
    }
}

/// Saves what the window shows as `target/browser/{name}.png`.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|err| panic!("{name}: screenshot: {err}"));
    assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG screenshot");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).expect("create target/browser");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
}

/// Presses and releases `key` where the focus is (on the document at first).
pub async fn press(client: &Client, key: Key) {
    let key = char::from(key);
    let actions = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(actions).await.expect("press a key");
    client.release_actions().await.expect("release the keys");
}

/// The focused element's `(tag, text, href)`.
pub async fn focused(client: &Client) -> (String, String, Option<String>) {
    let element = client.active_element().await.expect("a focused element");
    (
        element.tag_name().await.unwrap(),
        element.text().await.unwrap(),
        element.attr("href").await.unwrap(),
    )
}

/// The text of the page's first `h1` as the document holds it (`textContent`).
pub async fn heading(client: &Client) -> String {
    let text = client
        .execute(
            "const h1 = document.querySelector('h1'); return h1 ? h1.textContent : null",
            vec![],
        )
        .await
        .unwrap();
    text.as_str()
        .unwrap_or_else(|| panic!("the page has an h1"))
        .trim()
        .to_owned()
}

/// The form control labelled `label` (a `<label>` whose text is or starts with it), else
/// the one named `label`.
pub async fn field(client: &Client, label: &str) -> Element {
    for candidate in client.find_all(Locator::Css("label")).await.unwrap() {
        let text = candidate.text().await.unwrap();
        let text = text.trim();
        if text != label && !text.starts_with(label) {
            continue;
        }
        if let Some(id) = candidate.attr("for").await.unwrap() {
            return client
                .find(Locator::Id(&id))
                .await
                .unwrap_or_else(|err| panic!("the control of label {label:?} (#{id}): {err}"));
        }
        if let Ok(inner) = candidate
            .find(Locator::Css("input, textarea, select"))
            .await
        {
            return inner;
        }
    }
    let by_name = format!("[name=\"{}\"]", label.replace('"', "\\\""));
    client
        .find(Locator::Css(&by_name))
        .await
        .unwrap_or_else(|err| panic!("no control labelled or named {label:?}: {err}"))
}

/// Types `value` into the control labelled or named `label`, replacing what it held.
pub async fn fill(client: &Client, label: &str, value: &str) {
    let control = field(client, label).await;
    control.clear().await.unwrap();
    control
        .send_keys(value)
        .await
        .unwrap_or_else(|err| panic!("type into {label:?}: {err}"));
}

/// Clicks the button (`<button>` or a submit/button `<input>`) whose text is `text`, and
/// waits until the browser shows the page the form's answer (the pages run no script, so
/// every button submits a form).
pub async fn click_button(client: &Client, text: &str) {
    let buttons = client
        .find_all(Locator::Css(
            "button, input[type=submit], input[type=button]",
        ))
        .await
        .unwrap();
    for button in buttons {
        let label = match button.tag_name().await.unwrap().as_str() {
            "input" => button.attr("value").await.unwrap().unwrap_or_default(),
            _ => button.text().await.unwrap(),
        };
        if label.trim() == text {
            mark_document(client).await;
            button
                .click()
                .await
                .unwrap_or_else(|err| panic!("click the button {text:?}: {err}"));
            wait_for_new_document(client).await;
            return;
        }
    }
    panic!("no button {text:?} on the page");
}

/// Marks the document shown, for [`wait_for_new_document`].
async fn mark_document(client: &Client) {
    client
        .execute("window.browserTestOldDocument = true", vec![])
        .await
        .expect("mark the document");
}

/// Waits until the browser shows a document loaded after [`mark_document`] (the same
/// address included: a form answered with its own page again).
async fn wait_for_new_document(client: &Client) {
    let deadline = Instant::now() + NAVIGATION_TIMEOUT;
    loop {
        let state = client
            .execute(
                "return window.browserTestOldDocument ? 'old' : document.readyState",
                vec![],
            )
            .await;
        // Between two documents a script may find no page to run in: not there yet.
        if state.is_ok_and(|state| state == "complete") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no new page {NAVIGATION_TIMEOUT:?} after submitting a form"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the page shows a sign-in form (a password field).
pub async fn shows_sign_in_form(client: &Client) -> bool {
    client
        .find(Locator::Css("form input[type=password]"))
        .await
        .is_ok()
}

/// Signs in to the console with `token`: opens `{base}/admin` (which shows, or leads to,
/// the sign-in form), types the token into the form's password field and submits it with
/// the form's button; fails unless the answer is past the sign-in form.
pub async fn sign_in(client: &Client, base: &str, token: &str) {
    client.goto(&format!("{base}/admin")).await.unwrap();
    let form_url = client.current_url().await.unwrap().to_string();
    let input = client
        .find(Locator::Css("form input[type=password]"))
        .await
        .unwrap_or_else(|err| panic!("a sign-in form at {form_url}: {err}"));
    input.clear().await.unwrap();
    input.send_keys(token).await.unwrap();
    let form = client
        .find(Locator::XPath("//input[@type='password']/ancestor::form"))
        .await
        .expect("the sign-in form");
    let submit = form
        .find(Locator::Css(
            "button:not([type=button]), input[type=submit]",
        ))
        .await
        .expect("the sign-in form's button");
    mark_document(client).await;
    submit.click().await.expect("submit the sign-in form");
    wait_for_new_document(client).await;
    assert!(
        !shows_sign_in_form(client).await,
        "signed in from {form_url}: still on a sign-in form at {}",
        client.current_url().await.unwrap()
    );
}

/// The text of every element matching `css`, trimmed.
pub async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap() {
        texts.push(element.text().await.unwrap().trim().to_owned());
    }
    texts
}
