//! Building and running the service: the one entry point the binary and the tests share.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::{SecretSource, Settings};
use crate::http::server;
use crate::http::starting::{self, Progress};
use crate::http::{AdminAuth, AppState};
use crate::pipeline::{Dispatcher, recovery, retention};
use crate::store::db;
use crate::store::db::probe::ConnectError;

/// A service bound to its listener with its database migrated, ready to run.
pub struct Application {
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown_timeout: Duration,
    recovery_interval: Duration,
    retention: Option<Duration>,
    retention_interval: Duration,
    sync_interval: Option<Duration>,
    limits: server::Limits,
}

impl Application {
    /// Binds `settings.bind_addr` (port 0 picks a free port, as the tests do), then waits
    /// for the database and migrates it, answering the probes meanwhile
    /// ([`starting::routes`]).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        crate::metrics::handle();
        let listener = TcpListener::bind(settings.bind_addr).await.map_err(|err| {
            anyhow::anyhow!(
                "cannot listen on {}: {err} (stop the process using it, or set BIND_ADDR)",
                settings.bind_addr
            )
        })?;
        let progress = Arc::new(Progress::default());
        let (connected, stop_probes) = tokio::sync::oneshot::channel::<()>();
        let probes = server::serve_routes(
            &listener,
            starting::routes(progress.clone()),
            limits(settings),
            async {
                let _ = stop_probes.await;
            },
        );
        let database = async {
            let db = connect_and_migrate(settings, &progress).await;
            let _ = connected.send(());
            db
        };
        let (open, db) = tokio::join!(probes, database);
        open.shutdown().await;
        let db = db?;
        let stripe = check_stripe_key(settings, &db).await?;
        let app = Self::with_parts(settings, db, listener).await?;
        if let Some(stripe) = stripe {
            let _ = app.state.stripe_key.set(stripe);
        }
        Ok(app)
    }

    /// Assembles the service from an open, migrated database and a bound listener, and
    /// dispatches again every event a previous run left `received` (crash recovery).
    pub async fn with_parts(
        settings: &Settings,
        db: DatabaseConnection,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let (dispatcher, _) = Dispatcher::start(db.clone(), settings.apply.clone()).await?;
        recovery::resume_all(&db, &dispatcher).await?;
        let writers = crate::http::intake_writers(settings) as u32;
        let intake_db = db::connect_pool(settings, writers).await?;
        let state = Arc::new(AppState::new(settings, db, intake_db, dispatcher));
        Ok(Self {
            listener,
            state,
            shutdown_timeout: settings.shutdown_timeout,
            recovery_interval: settings.recovery_interval,
            retention: settings.retention,
            retention_interval: settings.retention_interval,
            sync_interval: settings.sync_interval,
            limits: limits(settings),
        })
    }

    /// The handle on the account actors.
    pub fn dispatcher(&self) -> Dispatcher {
        self.state.dispatcher.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the
    /// database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let Self {
            listener,
            state,
            shutdown_timeout,
            recovery_interval,
            retention,
            retention_interval,
            sync_interval,
            limits,
        } = self;
        let sweep = tokio::spawn(recovery::sweep(
            state.db.clone(),
            state.dispatcher.clone(),
            recovery_interval,
        ));
        let pruning = retention
            .map(|age| tokio::spawn(retention::run(state.db.clone(), age, retention_interval)));
        let gap_fill = sync_interval.and_then(|every| state.sync.every(every));
        server::serve(listener, state.clone(), limits, shutdown).await;
        sweep.abort();
        if let Some(pruning) = pruning {
            pruning.abort();
        }
        // A sync stops at its next page (its cursor stays for the next run) before the
        // actors drain and the database closes.
        state.sync.shutdown(shutdown_timeout).await;
        if let Some(gap_fill) = gap_fill {
            gap_fill.abort();
        }
        info!("http server stopped; draining account actors");
        state.dispatcher.shutdown(shutdown_timeout).await;
        info!("closing the database");
        if let Err(err) = state.db.clone().close().await {
            warn!(error = %err, "closing the database failed");
        }
    }
}

fn limits(settings: &Settings) -> server::Limits {
    server::Limits {
        header_read_timeout: settings.header_read_timeout,
        first_byte_timeout: settings.first_byte_timeout,
        max_connections: connection_bound(settings.max_connections),
    }
}

/// The connection bound: as configured, or (0) as many as the file-descriptor limit allows
/// once the soft limit is raised to the hard one, keeping an eighth for the database pools
/// and files.
fn connection_bound(configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    // Start-up serves the probes, then the full server: one reading, said once.
    static FROM_LIMIT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *FROM_LIMIT.get_or_init(|| {
        let descriptors = match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => limit,
            Err(err) => {
                warn!(error = %err, "the file-descriptor limit could not be read or raised");
                1024
            }
        };
        let descriptors = usize::try_from(descriptors).unwrap_or(usize::MAX);
        let bound = (descriptors - descriptors / 8).max(1);
        info!(
            descriptors,
            connections = bound,
            "connection bound from the file-descriptor limit"
        );
        bound
    })
}

/// Waits for the database ([`db::wait_until_reachable`], one line per failed attempt),
/// then opens the pool and applies pending migrations. Errors are one line: where, the
/// cause once, the fix.
pub async fn connect_and_migrate(
    settings: &Settings,
    progress: &Progress,
) -> Result<DatabaseConnection, ConnectError> {
    db::wait_until_reachable(settings, |attempt, err, pause| {
        progress.attempt_failed(attempt);
        warn!(
            attempt,
            retry_in_ms = pause.as_millis() as u64,
            "database not reachable yet; /health answers and /ready says `database: \
             connecting` meanwhile: {err}"
        );
    })
    .await?;
    let db = db::connect(settings)
        .await
        .map_err(|err| db::step_failed(settings, "opening a pool to", &err))?;
    db::migrate(&db)
        .await
        .map_err(|err| db::step_failed(settings, "migrating", &err))?;
    Ok(db)
}

/// The service refuses to start: the reason is one line, already logged at ERROR.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// When `STRIPE_API_KEY` is set, asks Stripe about it (`GET /v1/account`, as `payments
/// doctor` does) before serving. A refused key (401), or a key of the other mode than the
/// stored events, stops start-up ([`Refused`]); a restricted key (403) or an unreachable
/// Stripe is a warning: webhooks do not need Stripe to be taken. Returns what `/ready`
/// says of the key (`None` without one): `ok`, `restricted: ...` or `unchecked: ...`.
pub async fn check_stripe_key(
    settings: &Settings,
    db: &DatabaseConnection,
) -> anyhow::Result<Option<String>> {
    use crate::stripe::api::{self, KeyCheck};
    let Some(client) = api::Client::from_settings(settings) else {
        return Ok(None);
    };
    let client = client
        .with_timeout(Duration::from_secs(5))
        .with_retry(api::RetryPolicy {
            max_attempts: 2,
            ..Default::default()
        });
    let modes = db::modes_in_data(db).await.unwrap_or((false, false));
    let readiness = match api::check_key(&client, modes).await {
        KeyCheck::Valid(detail) => {
            info!("Stripe key checked: {detail}");
            "ok".to_owned()
        }
        KeyCheck::Restricted(detail) => {
            warn!("Stripe key: {detail}");
            format!("restricted: {detail}")
        }
        KeyCheck::Unavailable(detail) => {
            warn!("{detail}; serving webhooks anyway (they do not need Stripe)");
            format!("unchecked: {detail}")
        }
        KeyCheck::Refused(detail) => {
            let line = if detail.starts_with("Stripe connection failed") {
                detail
            } else {
                format!("Stripe connection failed: {detail}")
            };
            tracing::error!("{line}");
            return Err(Refused(line).into());
        }
    };
    Ok(Some(readiness))
}

/// Logs the settings that are likely mistakes, and which webhook secrets are configured
/// (by fingerprint): the first lines an operator reads when deliveries fail.
pub fn report_settings(settings: &Settings) {
    for warning in &settings.warnings {
        warn!("{warning}");
    }
    let fingerprints: Vec<String> = settings
        .webhook_secrets
        .iter()
        .map(crate::config::fingerprint)
        .collect();
    info!(
        count = fingerprints.len(),
        fingerprints = %fingerprints.join(", "),
        "webhook signing secrets configured"
    );
}

/// Logs what an operator needs at start-up; prints the development secret once.
pub fn announce(settings: &Settings, addr: SocketAddr) {
    info!(%addr, env = ?settings.app_env, "payments listening");
    if settings.webhook_secret_source == SecretSource::DevelopmentFile {
        use secrecy::ExposeSecret;
        // Printed, not logged: it is a development secret the user must copy.
        println!(
            "development webhook secret (kept in {}): {}",
            crate::config::development_secret_path(&settings.data_dir).display(),
            settings.webhook_secrets[0].expose_secret()
        );
    }
    match AdminAuth::from_settings(settings) {
        AdminAuth::OpenOnLoopback => {
            warn!("ADMIN_TOKEN is not set: the admin API is open to this machine (loopback only)")
        }
        AdminAuth::Closed => warn!("ADMIN_TOKEN is not set: the admin API answers 401"),
        AdminAuth::Token(_) => {}
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    info!("shutdown signal received");
}
