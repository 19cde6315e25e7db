//! The load generator's HTTP side: a raw one-shot readiness probe (cheapest possible, so the 1 ms poll measures the
//! server, not the client), a pooled reqwest client for POST/GET, and the concurrent ingest loop.

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

/// Bound on one readiness probe (connect + request + status line).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Bound on one POST of a batch.
const POST_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on one GET of all alerts (Alertmanager needs seconds at 100k).
const GET_TIMEOUT: Duration = Duration::from_secs(300);

/// `GET /-/ready` on a fresh connection; the status code, or `None` while nothing listens (or on any error).
pub async fn probe_ready(addr: SocketAddr) -> Option<u16> {
    timeout(PROBE_TIMEOUT, async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.set_nodelay(true).ok()?;
        let req = format!("GET /-/ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = [0u8; 64];
        let mut n = 0;
        // "HTTP/1.1 200" is 12 bytes; read until we have them (bounded by the buffer and the timeout).
        while n < 12 {
            let m = s.read(&mut buf[n..]).await.ok()?;
            if m == 0 {
                break;
            }
            n += m;
        }
        parse_status_line(&buf[..n])
    })
    .await
    .ok()
    .flatten()
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status_line(b: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(b).ok()?;
    let code = s.strip_prefix("HTTP/1.")?.get(2..5)?;
    code.parse().ok()
}

/// A plain-HTTP/1.1 client that never goes through a proxy (all traffic stays on 127.0.0.1).
pub fn http_client(connections: usize) -> Result<reqwest::Client> {
    crate::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(connections.max(1))
        .build()
        .context("build HTTP client")
}

/// POSTs every pre-serialised batch to `url` from `connections` concurrent workers; returns the wall time taken.
/// Each worker takes the next batch from a shared counter, so the loop is bounded by the number of batches.
pub async fn ingest(
    client: &reqwest::Client,
    url: &str,
    batches: Arc<Vec<Bytes>>,
    connections: usize,
) -> Result<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (client, url, batches, next) = (client.clone(), url.to_owned(), batches.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = batches.get(i) else { return Ok::<(), anyhow::Error>(()) };
                let resp = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .timeout(POST_TIMEOUT)
                    .send()
                    .await
                    .with_context(|| format!("POST batch {i}"))?;
                let status = resp.status();
                // Drain the body so the connection goes back to the pool.
                let text = resp.bytes().await.with_context(|| format!("POST batch {i}: read response"))?;
                if !status.is_success() {
                    bail!("POST batch {i}: {status}: {}", String::from_utf8_lossy(&text));
                }
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.context("ingest worker panicked")??;
    }
    Ok(started.elapsed())
}

/// One GET of all alerts, reading the whole body. Returns the latency and how many alerts the body holds.
pub async fn get_all(client: &reqwest::Client, url: &str) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let resp = client.get(url).timeout(GET_TIMEOUT).send().await.context("GET alerts")?;
    let status = resp.status();
    let body = resp.bytes().await.context("GET alerts: read body")?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!("GET alerts: {status}");
    }
    Ok((took, count_alerts(&body)))
}

/// Alerts in a `GET /api/v2/alerts` body: each gettableAlert has exactly one `"fingerprint"` key and our label
/// values never contain that word, so counting the key avoids parsing tens of megabytes of JSON.
fn count_alerts(body: &[u8]) -> usize {
    const KEY: &[u8] = b"\"fingerprint\"";
    body.windows(KEY.len()).filter(|w| *w == KEY).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        struct Case {
            name: &'static str,
            input: &'static [u8],
            want: Option<u16>,
        }
        let cases = [
            Case { name: "ok", input: b"HTTP/1.1 200 OK\r\n", want: Some(200) },
            Case { name: "unavailable", input: b"HTTP/1.1 503 Service Unavailable", want: Some(503) },
            Case { name: "http/1.0", input: b"HTTP/1.0 200 OK", want: Some(200) },
            Case { name: "short", input: b"HTTP/1.1 2", want: None },
            Case { name: "garbage", input: b"SSH-2.0-OpenSSH", want: None },
        ];
        for c in cases {
            assert_eq!(parse_status_line(c.input), c.want, "{}", c.name);
        }
    }

    #[test]
    fn counts_alerts() {
        let body = br#"[{"fingerprint":"a","labels":{}},{"fingerprint": "b"}]"#;
        assert_eq!(count_alerts(body), 2);
        assert_eq!(count_alerts(b"[]"), 0);
    }
}
