//! The connection loop: serves the routes over HTTP/1.1 with the limits a public endpoint
//! needs and `warp::serve` cannot set.
//!
//! warp 0.4's server gives hyper no timer, so hyper's header read timeout never fires, and
//! it accepts connections without bound. This loop is warp's own (the filter becomes a
//! service with [`warp::service`]; at shutdown every connection is told to close and
//! awaited) plus:
//! - a first-byte timeout: a new connection is handed to hyper only once it has something to
//!   read, and closed if it stays silent for `first_byte_timeout`; until then it costs a
//!   small task, so thousands of idle sockets are cheap;
//! - a header read timeout: a client that sends its request head slowly (slowloris), or a
//!   keep-alive connection that stays idle, is closed after `header_read_timeout`;
//! - at most `max_connections` connections at once: when the limit is reached, the oldest
//!   connection that has not sent anything yet is closed to make room, else the oldest
//!   keep-alive connection idle between requests; when every one is busy, the loop stops
//!   accepting, so further connections wait in the operating system's listen queue (and
//!   are refused by it only when that queue is full).
//!
//! The body read timeout is per request, where the body is read (`http::body`). Each
//! request carries its connection's peer address as a [`crate::web::ClientAddr`] extension.
//! HTTP/1.1 only: hyper has no header timeout for HTTP/2, and Stripe and the proxies that
//! terminate TLS in front of the service speak HTTP/1.1 to it.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, error, warn};
use warp::{Filter, Reply};

use crate::http::{self, AppState};

mod connections;

use connections::{Connection, Connections};

/// Per-connection limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a complete request head (also the idle keep-alive time).
    pub header_read_timeout: Duration,
    /// Longest wait for the first byte of a new connection.
    pub first_byte_timeout: Duration,
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
) -> Open
where
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let connections = Arc::new(Connections::default());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut saturated = false;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                accept_failed(err).await;
                continue;
            }
        };
        // A slot for this connection: at the bound, a silent or idle one makes room; when
        // every connection is busy, this one waits (and the next ones in the listen queue).
        let permit = tokio::select! {
            permit = connection_slot(&permits, &connections, &mut saturated) => permit,
            () = &mut shutdown => break,
        };
        let connection = connections.open(limits.max_connections);
        tokio::spawn(serve_connection(
            stream,
            peer,
            builder.clone(),
            routes.clone(),
            limits.first_byte_timeout,
            connection,
            permit,
        ));
    }
    Open {
        connections,
        permits,
        total: limits.max_connections,
    }
}

/// The connections still open when the server stops accepting.
pub struct Open {
    connections: Arc<Connections>,
    permits: Arc<Semaphore>,
    total: usize,
}

impl Open {
    /// Tells every connection to close (idle ones at once, the others after the answer
    /// they are writing) and waits until all have.
    pub async fn shutdown(self) {
        self.connections.close_all();
        let total = u32::try_from(self.total).unwrap_or(u32::MAX);
        let _all_closed = self.permits.acquire_many(total).await;
    }
}

/// Serves one connection. Nothing of hyper's is built until the client sends a byte: a
/// silent socket is a task and a file descriptor, closed when it times out or when room is
/// needed.
async fn serve_connection<F, R>(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    builder: http1::Builder,
    routes: F,
    first_byte: Duration,
    connection: Arc<Connection>,
    _permit: OwnedSemaphorePermit,
) where
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    tokio::select! {
        ready = tokio::time::timeout(first_byte, stream.readable()) => {
            if !matches!(ready, Ok(Ok(()))) {
                return;
            }
        }
        () = connection.close.notified() => return,
    }
    connection.spoke();
    let warp_service = TowerToHyperService::new(warp::service(routes));
    let tracked = connection.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        tracked.set_busy(true);
        // The peer, for the routes that need it (the storefront's per-client limit): warp's
        // `addr::remote` is only filled by warp's own server.
        request
            .extensions_mut()
            .insert(crate::web::ClientAddr(peer));
        // A head too large is answered here, before any route, as JSON.
        let answer = match http::head_too_large(&request) {
            Some(refused) => Err(refused),
            None => Ok(hyper::service::Service::call(&warp_service, request)),
        };
        let tracked = tracked.clone();
        async move {
            let response = match answer {
                Ok(answer) => answer.await,
                Err(refused) => Ok(refused.into_response()),
            };
            tracked.set_busy(false);
            response
        }
    });
    let served = builder.serve_connection(TokioIo::new(stream), service);
    let mut served = std::pin::pin!(served);
    let result = tokio::select! {
        result = served.as_mut() => result,
        () = connection.close.notified() => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(err) = result {
        // Timeouts, resets and malformed requests are the client's doing: with a
        // connection per line, a flood of them must not flood the logs.
        debug!(error = %err, timeout = err.is_timeout(), "connection ended with an error");
    }
}

/// Waits for a free connection slot for a connection just accepted. When none is free, the
/// oldest silent (else idle) connection is told to close to make one; when every one is
/// busy, says so once until a slot is free again without waiting, so a saturated server
/// does not log every connection.
async fn connection_slot(
    permits: &Arc<Semaphore>,
    connections: &Connections,
    saturated: &mut bool,
) -> OwnedSemaphorePermit {
    if let Ok(permit) = permits.clone().try_acquire_owned() {
        *saturated = false;
        return permit;
    }
    if !connections.make_room() && !*saturated {
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
