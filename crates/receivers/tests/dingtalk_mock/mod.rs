//! A mock chat-robot server (DingTalk, WeCom, Feishu) on 127.0.0.1:0, built on warp: it records every request
//! (path, raw query, JSON body, arrival time) and answers with what the test's `answer` function decides,
//! so each test file can verify signatures and body shapes the way the real service does.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tokio::time::Instant;
use warp::Filter;

#[derive(Debug, Clone)]
pub struct Req {
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: serde_json::Value,
    pub raw: Bytes,
    pub at: Instant,
}

impl Req {
    /// A query parameter as sent (not decoded).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.split('&').find_map(|p| p.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
    }
}

/// `(status, JSON body)` for a request; `n` is its 0-based index.
pub type Answer = Arc<dyn Fn(&Req, usize) -> (u16, String) + Send + Sync>;

pub struct Mock {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Req>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Mock {
    pub async fn start(answer: Answer) -> Mock {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let route = warp::post()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::optional::<String>("content-type"))
            .and(warp::body::bytes())
            .map(move |path: warp::path::FullPath, query: String, ct: Option<String>, raw: Bytes| {
                let req = Req {
                    path: path.as_str().to_owned(),
                    query,
                    content_type: ct.unwrap_or_default(),
                    body: serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null),
                    raw,
                    at: Instant::now(),
                };
                let n = {
                    let mut r = seen.lock().unwrap();
                    r.push(req.clone());
                    r.len() - 1
                };
                let (status, body) = answer(&req, n);
                warp::reply::with_status(
                    warp::reply::with_header(body, "content-type", "application/json"),
                    warp::http::StatusCode::from_u16(status).unwrap(),
                )
            });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = warp::serve(route).incoming(listener).graceful(async {
            let _ = rx.await;
        });
        tokio::spawn(server.run());
        Mock { addr, requests, _stop: tx }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    pub fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }

    pub fn last(&self) -> Req {
        self.requests().pop().expect("a request arrived")
    }
}

/// `(status, JSON body)` of an `errcode` answer, as DingTalk and WeCom write it.
pub fn errcode(code: i64, msg: &str) -> (u16, String) {
    (200, serde_json::json!({"errcode": code, "errmsg": msg}).to_string())
}

/// One scripted failure answer of a robot and the error it must give.
pub struct AnswerCase {
    pub name: &'static str,
    pub answer: (u16, String),
    pub want: (Retry, FailureReason, &'static str),
}

/// For each case, `start(answer)` starts a robot that answers `answer` once and then success, and returns it with
/// the integration under test: its first notification of `alerts` must fail with `want`, the next (the retry)
/// succeed. (The caller passes the context and alerts: this file is also compiled into the black-box tests.)
pub async fn check_answers<N, F, Fut>(
    cases: Vec<AnswerCase>,
    ctx: &tocsin_pipeline::notifier::NotifyCtx,
    alerts: &[std::sync::Arc<tocsin_model::Alert>],
    start: F,
) where
    N: Notifier,
    F: Fn((u16, String)) -> Fut,
    Fut: std::future::Future<Output = (Mock, N)>,
{
    for c in cases {
        let (_mock, n) = start(c.answer).await;
        let e = n.notify(ctx, alerts).await.unwrap_err();
        assert_eq!((e.retry, e.reason, e.message.as_str()), c.want, "{}", c.name);
        n.notify(ctx, alerts).await.unwrap();
    }
}
