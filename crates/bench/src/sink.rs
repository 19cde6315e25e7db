//! A webhook receiver inside the bench process that records when each notification arrived and for which group.
//!
//! It runs on its own thread with its own runtime, so arrival times are taken the moment a request is read, not
//! when the load generator's thread gets round to it. It answers 200 to everything and keeps only the group key
//! and the alert count of each body (found with a targeted scan, not a full parse, so 10,000 notifications a
//! second cost the sink little CPU).

use anyhow::{Context, Result};
use bytes::Bytes;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use warp::Filter;

/// One notification as the sink saw it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: Instant,
    /// `groupKey` of the webhook body (empty when the body had none).
    pub group_key: String,
    /// Number of entries in the body's `alerts`.
    pub alerts: usize,
}

/// A running sink; stopped (and its thread joined) on drop.
#[derive(Debug)]
pub struct Sink {
    addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sink {
    /// Binds 127.0.0.1:0 and serves on a dedicated thread.
    pub fn start() -> Result<Sink> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind sink")?;
        listener.set_nonblocking(true).context("sink nonblocking")?;
        let addr = listener.local_addr().context("sink addr")?;
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().context("sink runtime")?;
        let recorded = arrivals.clone();
        let thread = std::thread::Builder::new()
            .name("bench-sink".into())
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    let route = warp::any().and(warp::body::bytes()).map(move |body: Bytes| {
                        let at = Instant::now();
                        let (group_key, alerts) = scan(&body);
                        recorded.lock().push(Arrival { at, group_key, alerts });
                        warp::reply()
                    });
                    warp::serve(route)
                        .incoming(listener)
                        .graceful(async move {
                            let _ = stopped.await;
                        })
                        .run()
                        .await;
                });
            })
            .context("spawn sink thread")?;
        Ok(Sink { addr, arrivals, stop: Some(stop), thread: Some(thread) })
    }

    /// The URL to put in `webhook_configs`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Everything received so far.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().clone()
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().len()
    }

    /// Forgets what was received.
    pub fn clear(&self) {
        self.arrivals.lock().clear();
    }

    /// Polls every 2 ms until `n` notifications arrived or `limit` passed; returns how many there are.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.count();
            if got >= n || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The `groupKey` string and the number of alerts (`"fingerprint"` keys) of a webhook body.
fn scan(body: &[u8]) -> (String, usize) {
    let group_key = find(body, b"\"groupKey\"")
        .and_then(|i| {
            let rest = &body[i + 10..];
            let colon = rest.iter().position(|&b| b == b':')?;
            let mut it = serde_json::Deserializer::from_slice(&rest[colon + 1..]).into_iter::<String>();
            it.next()?.ok()
        })
        .unwrap_or_default();
    let alerts = body.windows(13).filter(|w| *w == b"\"fingerprint\"").count();
    (group_key, alerts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_webhook_bodies() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: (&'static str, usize),
        }
        let cases = [
            Case {
                name: "go compact",
                input: r#"{"receiver":"sink","alerts":[{"fingerprint":"a"},{"fingerprint":"b"}],"groupKey":"{}:{group=\"g1\"}","x":1}"#,
                want: (r#"{}:{group="g1"}"#, 2),
            },
            Case {
                name: "spaces",
                input: r#"{"groupKey" : "{}:{}", "alerts": [{"fingerprint": "c"}]}"#,
                want: ("{}:{}", 1),
            },
            Case { name: "no key", input: r#"{"alerts":[]}"#, want: ("", 0) },
        ];
        for c in cases {
            let (k, n) = scan(c.input.as_bytes());
            assert_eq!((k.as_str(), n), c.want, "{}", c.name);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn records_posts() {
        let sink = Sink::start().expect("sink");
        let http = crate::client::http_client(1).expect("client");
        let resp = http
            .post(sink.url())
            .body(r#"{"groupKey":"k","alerts":[{"fingerprint":"f"}]}"#)
            .send()
            .await
            .expect("post");
        assert!(resp.status().is_success());
        assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await, 1);
        let a = &sink.arrivals()[0];
        assert_eq!((a.group_key.as_str(), a.alerts), ("k", 1));
    }
}
