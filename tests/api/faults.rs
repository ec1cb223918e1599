//! Faults inflicted on the real binary under load: SIGKILL at random moments, and several
//! replicas sharing one PostgreSQL with one of them killed. Every acknowledged event must
//! end up stored and applied, and the marketplace rows must equal an undisturbed run.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use sea_orm::{Database, DatabaseConnection, EntityTrait};
use serde_json::Value;

use crate::binary::{free_port, payments, wait_until_healthy};
use crate::helpers::{
    ADMIN_TOKEN, SECRET, event_id, fresh_database_url, http_client, now, postgres_url, sign_at,
    spawn_app_with, temp_dir, test_settings, wait_until_applied, with_search_path,
};
use crate::ordering::{deliver_and_apply, event_stream, final_rows, tagged};
use crate::outage::Proxy;

/// Stream copies (each two stores, about 45 events) in one load.
const COPIES: usize = 20;
/// Concurrent senders.
const SENDERS: usize = 8;

/// A load: deliveries in a random order with redeliveries, and the copies' tags.
struct Load {
    tags: Vec<String>,
    deliveries: Vec<Vec<u8>>,
}

fn load(seed: u64) -> Load {
    let stream = event_stream();
    let tags: Vec<String> = (0..COPIES).map(|n| format!("__fault{n}__")).collect();
    let mut deliveries: Vec<Vec<u8>> = tags.iter().flat_map(|tag| tagged(&stream, tag)).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let redeliveries: Vec<Vec<u8>> = deliveries
        .choose_multiple(&mut rng, deliveries.len() / 10)
        .cloned()
        .collect();
    deliveries.extend(redeliveries);
    deliveries.shuffle(&mut rng);
    Load { tags, deliveries }
}

/// A random seed for [`load`], printed so that a failing run can be replayed
/// (`FAULT_SEED=...`).
fn load_seed() -> u64 {
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("load seed: FAULT_SEED={seed}");
    seed
}

/// The rows an undisturbed, in-order run gives one copy of the stream.
async fn expected_rows() -> Value {
    let db = Database::connect(fresh_database_url().await.as_str())
        .await
        .unwrap();
    payments::store::db::migrate(&db).await.unwrap();
    deliver_and_apply(&db, &tagged(&event_stream(), "__base__")).await;
    final_rows(&db, "__base__").await
}

/// `payments serve` processes on their own ports, killed when dropped (a failing test
/// leaves no server behind).
struct Servers {
    cwd: PathBuf,
    database_url: String,
    ports: Vec<u16>,
    children: Vec<Option<Child>>,
}

impl Servers {
    async fn start(count: usize, database_url: &str) -> Self {
        let mut servers = Self {
            cwd: temp_dir(),
            database_url: database_url.to_owned(),
            ports: (0..count).map(|_| free_port()).collect(),
            children: (0..count).map(|_| None).collect(),
        };
        for index in 0..count {
            servers.spawn(index).await;
        }
        servers
    }

    async fn spawn(&mut self, index: usize) {
        let port = self.ports[index];
        let env = [
            ("DATABASE_URL", self.database_url.clone()),
            ("BIND_ADDR", format!("127.0.0.1:{port}")),
            ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            // Another replica's leftovers are picked up after a second.
            ("RECOVERY_INTERVAL_SECS", "1".to_owned()),
            ("DATABASE_MAX_CONNECTIONS", "8".to_owned()),
        ];
        let log = log_file(&self.cwd, index);
        let mut child = payments(&self.cwd, &env)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_until_healthy(port, &mut child).await;
        self.children[index] = Some(child);
    }

    /// SIGKILL: no shutdown, no drain, whatever was in flight.
    fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for index in 0..self.children.len() {
            self.kill(index);
        }
    }
}

fn log_file(cwd: &Path, index: usize) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cwd.join(format!("server-{index}.log")))
        .unwrap()
}

/// Delivers every body like Stripe: to a random live port, again after any failure
/// (refused connection, 5xx), until it is acknowledged. Returns the acknowledged ids.
async fn deliver_all(
    deliveries: &[Vec<u8>],
    ports: Arc<Mutex<Vec<u16>>>,
    progress: Arc<AtomicUsize>,
) -> HashSet<String> {
    let queue = Arc::new(Mutex::new(
        deliveries.iter().cloned().collect::<VecDeque<_>>(),
    ));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (queue, acked, ports, in_flight, progress) = (
            queue.clone(),
            acked.clone(),
            ports.clone(),
            in_flight.clone(),
            progress.clone(),
        );
        senders.push(tokio::spawn(async move {
            let client = http_client();
            loop {
                assert!(
                    Instant::now() < deadline,
                    "deliveries not acknowledged in 120 s"
                );
                let next = {
                    let mut queue = queue.lock().unwrap();
                    let next = queue.pop_front();
                    if next.is_some() {
                        in_flight.fetch_add(1, SeqCst);
                    }
                    next
                };
                let Some(body) = next else {
                    if in_flight.load(SeqCst) == 0 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let port = {
                    let ports = ports.lock().unwrap();
                    ports[rand::rng().random_range(0..ports.len())]
                };
                let response = client
                    .post(format!("http://127.0.0.1:{port}/webhooks/stripe"))
                    .header("stripe-signature", sign_at(&body, now()))
                    .header("content-type", "application/json")
                    .timeout(Duration::from_secs(10))
                    .body(body.clone())
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status().is_success() => {
                        acked.lock().unwrap().insert(event_id(&body));
                        progress.fetch_add(1, SeqCst);
                    }
                    Ok(response) => {
                        let status = response.status();
                        assert!(
                            status.is_server_error(),
                            "only outages may refuse a valid delivery, got {status}"
                        );
                        queue.lock().unwrap().push_back(body);
                    }
                    Err(_) => {
                        queue.lock().unwrap().push_back(body);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                in_flight.fetch_sub(1, SeqCst);
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

/// Starts delivering `load` in the background; `progress` counts acknowledgements.
fn start_delivering(
    load: &Load,
    ports: Arc<Mutex<Vec<u16>>>,
) -> (tokio::task::JoinHandle<HashSet<String>>, Arc<AtomicUsize>) {
    let progress = Arc::new(AtomicUsize::new(0));
    let deliveries = load.deliveries.clone();
    let task = tokio::spawn({
        let progress = progress.clone();
        async move { deliver_all(&deliveries, ports, progress).await }
    });
    (task, progress)
}

/// Waits until `count` deliveries were acknowledged (or all were).
async fn wait_for_acks(
    progress: &AtomicUsize,
    count: usize,
    delivering: &tokio::task::JoinHandle<HashSet<String>>,
) {
    while progress.load(SeqCst) < count && !delivering.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every acknowledged event is stored and applied once (none waiting, none failed), and
/// every copy of the stream built exactly the rows of the undisturbed run.
async fn assert_nothing_lost(db: &DatabaseConnection, acked: &HashSet<String>, load: &Load) {
    wait_until_applied(db).await;
    let rows = entity::webhook_event::Entity::find().all(db).await.unwrap();
    let stored: HashSet<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let distinct: HashSet<String> = load.deliveries.iter().map(|b| event_id(b)).collect();
    assert_eq!(
        acked, &distinct,
        "every delivery was acknowledged in the end"
    );
    for id in acked {
        assert!(
            stored.contains(id.as_str()),
            "acknowledged {id} is not stored"
        );
    }
    let failed: Vec<_> = rows.iter().filter(|row| row.status == "failed").collect();
    assert!(failed.is_empty(), "dead letters: {failed:?}");
    // An attempt counts when its transaction commits (or, retrying, before it starts):
    // one each means each event was applied once, and no fault used up an attempt.
    let recounted: Vec<_> = rows
        .iter()
        .filter(|row| row.attempts != 1)
        .map(|row| (&row.id, row.attempts))
        .collect();
    assert!(
        recounted.is_empty(),
        "events not applied exactly once: {recounted:?}"
    );
    let expected = expected_rows().await;
    for tag in &load.tags {
        let actual = final_rows(db, tag).await;
        assert_eq!(
            actual, expected,
            "copy {tag} differs from the undisturbed run"
        );
    }
}

#[tokio::test]
async fn sigkill_at_random_moments_under_load_loses_nothing() {
    let seed = rand::rng().random();
    let load = load(seed);
    let database_url = fresh_database_url().await;
    let mut servers = Servers::start(1, &database_url).await;
    let ports = Arc::new(Mutex::new(servers.ports.clone()));
    let (delivering, progress) = start_delivering(&load, ports);
    // Four kills at random points of the load, each followed by a restart.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let total = load.deliveries.len();
    let mut kill_points: Vec<usize> = (0..4)
        .map(|_| rng.random_range(total / 20..total * 9 / 10))
        .collect();
    kill_points.sort_unstable();
    for point in kill_points {
        wait_for_acks(&progress, point, &delivering).await;
        servers.kill(0);
        servers.spawn(0).await;
    }
    let acked = delivering.await.unwrap();
    let db = Database::connect(database_url.as_str()).await.unwrap();
    assert_nothing_lost(&db, &acked, &load).await;
}

#[tokio::test]
async fn three_replicas_share_the_load_and_a_killed_ones_events_are_taken_over() {
    let Some(_) = postgres_url() else {
        eprintln!("skipped: replicas share a PostgreSQL database (set TEST_DATABASE_URL)");
        return;
    };
    let load = load(load_seed());
    let database_url = fresh_database_url().await;
    let mut servers = Servers::start(3, &database_url).await;
    let ports = Arc::new(Mutex::new(servers.ports.clone()));
    let (delivering, progress) = start_delivering(&load, ports.clone());
    // Killed mid-load and never restarted: what it stored but did not apply is the other
    // replicas' to take over.
    wait_for_acks(&progress, load.deliveries.len() / 3, &delivering).await;
    ports
        .lock()
        .unwrap()
        .retain(|port| *port != servers.ports[0]);
    servers.kill(0);
    let acked = delivering.await.unwrap();
    let db = Database::connect(database_url.as_str()).await.unwrap();
    assert_nothing_lost(&db, &acked, &load).await;
}

#[tokio::test]
async fn a_database_outage_mid_load_loses_nothing_and_burns_no_attempts() {
    let Some(base) = postgres_url() else {
        eprintln!("skipped: the outage is a cut TCP link to PostgreSQL (set TEST_DATABASE_URL)");
        return;
    };
    let parsed = reqwest::Url::parse(&base).unwrap();
    let upstream = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(upstream).await;
    let direct_url = fresh_database_url().await;
    let schema = direct_url
        .rsplit("search_path%3D")
        .next()
        .unwrap()
        .to_owned();
    let mut via_proxy = parsed.clone();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let service_url = with_search_path(via_proxy.as_str(), &schema);
    let app = spawn_app_with(test_settings(&service_url), &direct_url).await;
    let port = reqwest::Url::parse(&app.address).unwrap().port().unwrap();

    let load = load(load_seed());
    let (delivering, progress) = start_delivering(&load, Arc::new(Mutex::new(vec![port])));
    wait_for_acks(&progress, load.deliveries.len() / 3, &delivering).await;
    proxy.cut();
    let acked_before = progress.load(SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "/ready fails during the outage");
    assert!(
        progress.load(SeqCst) <= acked_before + SENDERS,
        "nothing is acknowledged while the database is unreachable (beyond requests already committed)"
    );
    proxy.restore();
    let acked = delivering.await.unwrap();
    // Also: every event counts exactly one attempt, so the outage used up none.
    assert_nothing_lost(&app.db, &acked, &load).await;
}
