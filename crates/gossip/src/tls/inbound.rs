//! The accepting side of the [`super::TlsTransport`].
//!
//! A connection first needs a handshake slot (taken at accept; capped in total and per host; released after
//! the hello or after `handshake_timeout`), then an established slot (taken after the hello; capped in total
//! and per host; held while the connection is open). When a budget is full the connection is closed at once
//! and counted, so silent sockets, or many idle connections from one host, cannot lock the members out.
//!
//! A failed handshake is counted, logged at warn level at most once a minute (naming the remote address and
//! the TLS error, which never carries key material) and at debug level otherwise; it never stops the listener.

use std::{fmt::Display, net::SocketAddr, sync::Arc, time::Duration};

use parking_lot::Mutex;
use tokio::{
    io::AsyncRead,
    net::{TcpListener, TcpStream},
    time::Instant,
};

use super::{
    conn::{self, FrameError, Guarded, Kind, Slot},
    Shared,
};
use crate::transport::BoxStream;

/// At most one handshake-failure warning per this period; the others go to debug level.
const WARN_EVERY: Duration = Duration::from_secs(60);

pub(super) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, remote)) => match shared.handshakes.try_take(remote.ip()) {
                Ok(slot) => {
                    tokio::spawn(serve_inbound(shared.clone(), tcp, remote, slot));
                }
                Err(full) => {
                    shared.stats.refused_connections.inc();
                    tracing::debug!(%remote, reason = full.as_str(), "closing cluster connection before its handshake");
                }
            },
            Err(err) => {
                tracing::debug!(%err, "cluster accept failed");
                // Out of file descriptors and similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Handshake and hello (bounded in time), then either hands the stream to `accept` or reads packets.
async fn serve_inbound(shared: Arc<Shared>, tcp: TcpStream, remote: SocketAddr, handshake: Slot) {
    let _ = tcp.set_nodelay(true);
    let mut shutdown = shared.shutdown.clone();
    let setup = async {
        let mut tls = shared.acceptor.accept(tcp).await.map_err(FrameError::Io)?;
        let hello = conn::read_hello(&mut tls).await?;
        Ok::<_, FrameError>((tls, hello))
    };
    let setup = tokio::select! {
        _ = shutdown.changed() => return,
        setup = tokio::time::timeout(shared.options.handshake_timeout, setup) => setup,
    };
    drop(handshake);
    let (tls, hello) = match setup {
        Ok(Ok(ok)) => ok,
        Ok(Err(err)) => return shared.handshake_failed(remote, &err),
        Err(_) => return shared.handshake_failed(remote, &"timed out"),
    };
    let slot = match shared.established.try_take(remote.ip()) {
        Ok(slot) => slot,
        Err(full) => {
            shared.stats.refused_connections.inc();
            tracing::debug!(%remote, reason = full.as_str(), "closing cluster connection after its hello");
            return;
        }
    };
    let from = hello.peer(remote);
    match hello.kind {
        Kind::Stream => {
            let stream: BoxStream = Box::new(Guarded { inner: tls, _slot: slot });
            if shared.streams.try_send((from, stream)).is_err() {
                tracing::debug!(%from, "too many cluster streams waiting, closing");
            }
        }
        Kind::Packets => {
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = read_packets(&shared, from, tls, Some(shared.options.idle_timeout)) => {}
            }
            drop(slot);
        }
    }
}

impl Shared {
    fn handshake_failed(&self, remote: SocketAddr, err: &dyn Display) {
        self.stats.handshake_failures.inc();
        if warn_due(&self.warned, Instant::now()) {
            tracing::warn!(
                %remote,
                error = %err,
                "cluster TLS handshake failed (further failures within a minute are logged at debug level)"
            );
        } else {
            tracing::debug!(%remote, error = %err, "cluster TLS handshake failed");
        }
    }
}

/// Whether a warning may be logged at `now`; if so, `now` becomes the last warning.
fn warn_due(last: &Mutex<Option<Instant>>, now: Instant) -> bool {
    let mut last = last.lock();
    if last.is_some_and(|at| now.saturating_duration_since(at) < WARN_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}

/// Forwards packet frames from one connection to `recv_from` until it closes or fails, or, with `idle`, until
/// nothing arrived for that long.
pub(super) async fn read_packets<R: AsyncRead + Unpin>(
    shared: &Shared,
    from: SocketAddr,
    mut reader: R,
    idle: Option<Duration>,
) {
    loop {
        let read = conn::read_frame(&mut reader, shared.options.max_packet);
        let frame = match idle {
            Some(idle) => match tokio::time::timeout(idle, read).await {
                Ok(frame) => frame,
                Err(_) => {
                    tracing::debug!(%from, "cluster packet connection idle, closing");
                    return;
                }
            },
            None => read.await,
        };
        match frame {
            Ok(Some(packet)) => {
                if shared.packets.try_send((from, packet)).is_err() {
                    shared.stats.dropped_packets.inc();
                }
            }
            Ok(None) => return,
            Err(err @ (FrameError::Oversized { .. } | FrameError::Malformed(_))) => {
                shared.stats.rejected_frames.inc();
                tracing::debug!(%from, %err, "rejected cluster packet frame, closing the connection");
                return;
            }
            Err(err) => {
                tracing::debug!(%from, %err, "cluster packet connection failed");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{tests::shared, TlsOptions};
    use tokio::io::AsyncWriteExt;

    #[test]
    fn handshake_warnings_are_rate_limited() {
        let last = Mutex::new(None);
        let t0 = Instant::now();
        struct Case {
            name: &'static str,
            at: Duration,
            want: bool,
        }
        let cases = [
            Case { name: "first", at: Duration::ZERO, want: true },
            Case { name: "same instant", at: Duration::ZERO, want: false },
            Case { name: "59 s later", at: Duration::from_secs(59), want: false },
            Case { name: "a minute later", at: Duration::from_secs(60), want: true },
            Case { name: "right after", at: Duration::from_secs(61), want: false },
            Case { name: "two minutes later", at: Duration::from_secs(120), want: true },
        ];
        for case in cases {
            assert_eq!(warn_due(&last, t0 + case.at), case.want, "{}", case.name);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn inbound_packet_connections_idle_out() {
        let options = TlsOptions { idle_timeout: Duration::from_secs(300), ..TlsOptions::default() };
        let (shared, mut queues) = shared(options);
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let from = "10.0.0.3:9094".parse().unwrap();
        let reader = read_packets(&shared, from, ours, Some(Duration::from_secs(300)));
        let writer = async {
            tokio::time::sleep(Duration::from_secs(299)).await;
            theirs.write_all(&conn::frame(b"keep")).await.unwrap();
            theirs
        };
        let started = Instant::now();
        let ((), _theirs) = tokio::join!(reader, writer);
        assert_eq!(started.elapsed(), Duration::from_secs(599), "idle timer restarts with each packet");
        assert_eq!(queues.packets.recv().await.unwrap(), (from, b"keep".to_vec()));
    }
}
