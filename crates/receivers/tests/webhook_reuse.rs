//! Connection reuse: a receiver that answers 200 with a body keeps its connection, because the webhook drains the
//! body (upstream's `notify.Drain`); left unread, the body would close the connection and every notification would
//! pay a new handshake.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::{ctx, firing, install_crypto};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tocsin_pipeline::notifier::Notifier;
use tocsin_receivers::{Webhook, WebhookSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bigger than what hyper reads along with the head, so the body is still unread when the response is dropped.
const BODY_LEN: usize = 48 * 1024;

fn response() -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {BODY_LEN}\r\n\r\n")
        .into_bytes();
    r.resize(r.len() + BODY_LEN, b'x');
    r
}

/// Answers every request of one connection with [`response`] until the client closes it.
async fn serve(mut conn: TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = conn.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        // Whole requests: head, then `content-length` bytes of body.
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() < end + 4 + len {
                break;
            }
            buf.drain(..end + 4 + len);
            if conn.write_all(&response()).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test]
async fn success_body_is_drained_and_the_connection_reused() {
    install_crypto();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(conn));
        }
    });
    let hook = Webhook::new(WebhookSettings::new(format!("http://{addr}/")));
    for i in 0..3 {
        hook.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
        // The drain runs in its own task: let it finish (its body is already buffered) before the next send.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "send {i} opened a new connection");
    }
}
