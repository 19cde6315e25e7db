//! A webhook receiver on 127.0.0.1:0 that records every request and answers with scripted status codes.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use warp::Filter;

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct SinkRequest {
    pub at: Instant,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl SinkRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<SinkRequest>>,
    /// Status codes to answer with, in order; 200 once exhausted.
    script: Mutex<VecDeque<u16>>,
    delay: Mutex<Duration>,
    /// Canned bodies by path prefix (first match wins), for receivers that read the answer: (prefix, body).
    bodies: Mutex<Vec<(String, String)>>,
    arrived: Notify,
}

/// A running sink; stops when dropped.
#[derive(Debug)]
pub struct Sink {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Sink {
    /// Starts on 127.0.0.1:0 in the current tokio runtime.
    pub async fn start() -> Sink {
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let route = warp::any()
            .and(warp::path::full())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .then(move |path: warp::path::FullPath, headers: warp::http::HeaderMap, body: Bytes| {
                let s = s.clone();
                async move {
                    let delay = *s.delay.lock();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    s.requests.lock().push(SinkRequest {
                        at: Instant::now(),
                        path: path.as_str().to_owned(),
                        headers,
                        body,
                    });
                    s.arrived.notify_waiters();
                    let code = s.script.lock().pop_front().unwrap_or(200);
                    let body = s
                        .bodies
                        .lock()
                        .iter()
                        .find(|(prefix, _)| path.as_str().starts_with(prefix.as_str()))
                        .map(|(_, b)| b.clone())
                        .unwrap_or_default();
                    let content_type =
                        if body.starts_with('{') { "application/json" } else { "text/plain; charset=utf-8" };
                    warp::reply::with_status(
                        warp::reply::with_header(body, "content-type", content_type),
                        warp::http::StatusCode::from_u16(code).unwrap_or(warp::http::StatusCode::OK),
                    )
                }
            });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = warp::serve(route).incoming(listener).graceful(async {
            let _ = rx.await;
        });
        tokio::spawn(server.run());
        Sink { addr, shared, _stop: tx }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Answer the next requests with these status codes (then 200).
    pub fn script(&self, codes: &[u16]) {
        self.shared.script.lock().extend(codes.iter().copied());
    }

    /// Answer requests whose path starts with `prefix` with `body` (JSON when it starts with `{`, else text).
    pub fn answer(&self, prefix: &str, body: &str) {
        self.shared.bodies.lock().push((prefix.to_owned(), body.to_owned()));
    }

    /// Delay every answer (a slow receiver).
    pub fn set_delay(&self, d: Duration) {
        *self.shared.delay.lock() = d;
    }

    pub fn requests(&self) -> Vec<SinkRequest> {
        self.shared.requests.lock().clone()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<SinkRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            if self.shared.requests.lock().len() >= n {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        self.requests()
    }
}
