//! The connection loop: serves the routes over HTTP/1.1 with the limits a public endpoint
//! needs and `warp::serve` cannot set.
//!
//! warp 0.4's server gives hyper no timer, so hyper's header read timeout never fires, and
//! it accepts connections without bound. This loop is warp's own (the filter becomes a
//! service with [`warp::service`], each connection is watched for graceful shutdown) plus:
//! - a header read timeout: a client that sends its request head slowly (slowloris), or a
//!   keep-alive connection that stays idle, is closed after `header_read_timeout`;
//! - at most `max_connections` connections at once: the loop stops accepting while the
//!   limit is reached, so further connections wait in the operating system's listen queue
//!   (and are refused by it only when that queue is full) instead of costing memory here.
//!
//! The body read timeout is per request, where the body is read (`http::body`).
//! HTTP/1.1 only: hyper has no header timeout for HTTP/2, and Stripe and the proxies that
//! terminate TLS in front of the service speak HTTP/1.1 to it.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, error, warn};
use warp::{Filter, Reply};

use crate::http::{self, AppState};

/// Per-connection limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a complete request head (also the idle keep-alive time).
    pub header_read_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// Serves every route on `listener` until `shutdown` resolves, then stops accepting and
/// waits for the open connections to finish their requests (idle ones close at once).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let open = serve_routes(&listener, http::routes(state), limits, shutdown).await;
    // Closed first, so new connections are refused rather than left waiting on the drain.
    drop(listener);
    open.shutdown().await;
}

/// Serves `routes` on `listener` until `shutdown` resolves, and returns the connections
/// still open, to be drained. The listener stays open: start-up answers the probes on it
/// while the database is connected, then hands it to [`serve`].
pub async fn serve_routes<F, R>(
    listener: &TcpListener,
    routes: F,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> GracefulShutdown
where
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut saturated = false;
    loop {
        let next = async {
            let permit = connection_slot(&permits, &mut saturated).await;
            (permit, listener.accept().await)
        };
        let (permit, accepted) = tokio::select! {
            next = next => next,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                accept_failed(err).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(warp::service(routes.clone()));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                // Timeouts, resets and malformed requests are the client's doing: with a
                // connection per line, a flood of them must not flood the logs.
                debug!(error = %err, timeout = err.is_timeout(), "connection ended with an error");
            }
            drop(permit);
        });
    }
    graceful
}

/// Waits for a free connection slot. Says so when the limit is reached, once until a slot
/// is free again without waiting, so a saturated server does not log every connection.
async fn connection_slot(permits: &Arc<Semaphore>, saturated: &mut bool) -> OwnedSemaphorePermit {
    if let Ok(permit) = permits.clone().try_acquire_owned() {
        *saturated = false;
        return permit;
    }
    if !*saturated {
        *saturated = true;
        warn!("connection limit reached: new connections wait until one closes");
    }
    permits
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed")
}

/// As warp does: connection-level errors are ignored; others (such as too many open
/// files) are logged and followed by a pause, so the loop does not spin.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    error!(error = %err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
