//! Accepting connections within limits, so that no number of slow or idle clients
//! can hold the service: at most `max_connections` are served at once, and one more
//! is answered `too_many_connections` and closed (past twice the limit, closed
//! unanswered). HTTP/1.1 only. A client must send a request's headers within
//! `header_timeout`, which also ends keep-alive connections left idle; bodies have
//! their own size and time limits (`http::read_body`). A closing connection drains
//! its client's input for a moment, so that the client reads its answer.

use std::{future::poll_fn, sync::Arc, time::Duration};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
};

use crate::metrics::Metrics;

#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` turns true, then lets requests in
/// progress finish and returns once every connection is closed. `busy` answers the
/// connections over the limit.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    busy: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let served = Arc::new(Semaphore::new(limits.max_connections));
    let turned_away = Arc::new(Semaphore::new(limits.max_connections));
    // Each connection's task holds a receiver: all are closed when none is left.
    let (all_closed, open) = watch::channel(());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: back off instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let (service, slot) = match served.clone().try_acquire_owned() {
            Ok(permit) => (app.clone(), Slot::served(permit, &metrics)),
            Err(_) => match turned_away.clone().try_acquire_owned() {
                Ok(permit) => (busy.clone(), Slot::turned_away(permit)),
                Err(_) => continue,
            },
        };
        let connection = Connection {
            stream,
            service,
            header_timeout: limits.header_timeout,
            keep_alive: slot.counted.is_some(),
        };
        let (stopping, open) = (shutdown.clone(), open.clone());
        tokio::spawn(async move {
            connection.run(stopping).await;
            drop((slot, open));
        });
    }
    drop(open);
    all_closed.closed().await;
}

/// Returns once `shutdown` turns true.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // A closed channel means the service is going away too.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// What a connection holds while it is open: its place under one of the limits, and
/// for one being served, the gauge that counts it.
struct Slot {
    _permit: OwnedSemaphorePermit,
    counted: Option<Arc<Metrics>>,
}

impl Slot {
    fn served(permit: OwnedSemaphorePermit, metrics: &Arc<Metrics>) -> Self {
        metrics.http_connections.inc();
        Slot {
            _permit: permit,
            counted: Some(metrics.clone()),
        }
    }

    fn turned_away(permit: OwnedSemaphorePermit) -> Self {
        Slot {
            _permit: permit,
            counted: None,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(metrics) = &self.counted {
            metrics.http_connections.dec();
        }
    }
}

struct Connection {
    stream: TcpStream,
    service: Router,
    header_timeout: Duration,
    keep_alive: bool,
}

impl Connection {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let _ = self.stream.set_nodelay(true);
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .keep_alive(self.keep_alive);
        let mut connection = builder.serve_connection(
            TokioIo::new(self.stream),
            TowerToHyperService::new(self.service),
        );
        tokio::select! {
            _ = poll_fn(|cx| connection.poll_without_shutdown(cx)) => {}
            _ = stopped(&mut shutdown) => {
                std::pin::Pin::new(&mut connection).graceful_shutdown();
                let _ = poll_fn(|cx| connection.poll_without_shutdown(cx)).await;
            }
        }
        linger(connection.into_parts().io.into_inner()).await;
    }
}

/// How long a closing connection keeps reading what its client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// Closes after reading and dropping what the client still sends, for a short while:
/// closing a socket with unread input resets it, and the client would lose an answer
/// it has not read yet (the 413 to an upload it is still sending).
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = vec![0; 16 * 1024];
    let until = tokio::time::Instant::now() + LINGER;
    while let Ok(Ok(1..)) = tokio::time::timeout_at(until, stream.read(&mut sink)).await {}
}
