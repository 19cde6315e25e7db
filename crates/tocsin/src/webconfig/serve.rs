//! Serving the warp filter on one listener, with what exporter-toolkit and Alertmanager wrap around the router:
//! TLS (from `--web.config.file`, certificates re-read when they change), the configured response headers, basic
//! auth, and `--web.timeout` (Go's `http.TimeoutHandler`).
//!
//! warp's own server cannot be used: its acceptor trait is private, so this accepts connections itself and
//! serves each with hyper-util's auto (HTTP/1 + HTTP/2) connection builder, as warp does inside.
//!
//! Whether a listener speaks TLS is decided at start, as upstream: a plain listener stays plain; a TLS listener
//! whose config later becomes unusable refuses handshakes until the file is fixed.

use super::auth::BasicAuth;
use super::watch::WebConfigWatch;
use hyper::body::Body;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::duration::format_go_duration;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, Request, StatusCode};
use warp::reply::Response;
use warp::Reply;

/// A TLS handshake that takes longer than this is dropped, so silent clients do not pin tasks forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The request path of every listener: web config (headers, basic auth), then the timeout, then the routes.
#[derive(Clone, Debug)]
pub struct Handler {
    filter: BoxedFilter<(Response,)>,
    web: Option<Arc<WebConfigWatch>>,
    auth: Arc<BasicAuth>,
    timeout: Duration,
}

impl Handler {
    /// `timeout` zero: no limit.
    pub fn new(
        filter: BoxedFilter<(Response,)>,
        web: Option<Arc<WebConfigWatch>>,
        timeout: Duration,
    ) -> Self {
        Self { filter, web, auth: Arc::new(BasicAuth::default()), timeout }
    }

    /// Whether listeners speak TLS (decided at start) and whether they offer HTTP/2; `None` for plain HTTP.
    pub fn tls_http2(&self) -> Option<bool> {
        let current = self.web.as_ref()?.current().ok()?;
        current.tls.as_ref().map(|_| current.config.http_server_config.http2)
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response
    where
        B: Body + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(web) = &self.web else {
            return self.routes(req).await;
        };
        let Ok(current) = web.current() else {
            return http_error(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let config = &current.config;
        let mut resp = if config.basic_auth_users.is_empty()
            || self
                .auth
                .allows(
                    &config.basic_auth_users,
                    req.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes),
                )
                .await
        {
            self.routes(req).await
        } else {
            let mut resp = http_error(StatusCode::UNAUTHORIZED);
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            resp
        };
        // Upstream sets them before the handler runs, so a handler's own value wins.
        for (name, value) in &config.http_server_config.headers {
            if let (Ok(name), Ok(value)) =
                (header::HeaderName::try_from(name.as_str()), HeaderValue::from_str(value))
            {
                resp.headers_mut().entry(name).or_insert(value);
            }
        }
        resp
    }

    /// The routes, under `--web.timeout`. As with Go's `TimeoutHandler`, a request that runs out of time still
    /// completes in the background (a silence being written is not cut in half); only its answer is replaced.
    async fn routes<B>(&self, req: Request<B>) -> Response
    where
        B: Body + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut service = warp::service(self.filter.clone());
        let fut = tower_service::Service::call(&mut service, req);
        if self.timeout.is_zero() {
            return match fut.await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
        }
        match tokio::time::timeout(self.timeout, tokio::spawn(fut)).await {
            Ok(Ok(Ok(resp))) => resp,
            Ok(Ok(Err(never))) => match never {},
            Ok(Err(_panicked)) => http_error(StatusCode::INTERNAL_SERVER_ERROR),
            Err(_elapsed) => {
                let body = format!("Exceeded configured timeout of {}.\n", format_go_duration(self.timeout));
                warp::reply::with_status(body, StatusCode::SERVICE_UNAVAILABLE).into_response()
            }
        }
    }
}

/// Go's `http.Error(w, http.StatusText(code), code)`.
fn http_error(code: StatusCode) -> Response {
    let text = format!("{}\n", code.canonical_reason().unwrap_or(""));
    let mut resp = warp::reply::with_status(text, code).into_response();
    resp.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// Serves `listener` until `stop` completes, then waits for open connections to finish their requests.
pub async fn serve(listener: TcpListener, handler: Handler, stop: impl Future<Output = ()> + Send + 'static) {
    let tls = handler.tls_http2().is_some();
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    accept_error(err).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let handler = handler.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // The TLS config in force for this connection: certificates rotate without a restart.
            let tls_config = match (&handler.web, tls) {
                (Some(web), true) => match web.current() {
                    Ok(loaded) => match &loaded.tls {
                        Some(c) => Some((c.clone(), loaded.config.http_server_config.http2)),
                        None => return tracing::debug!("TLS is no longer configured; connection refused"),
                    },
                    Err(_) => return,
                },
                _ => None,
            };
            let service = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler.handle(req).await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            let result = match tls_config {
                None => {
                    watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service)).await
                }
                Some((config, http2)) => {
                    let accept = tokio_rustls::TlsAcceptor::from(config).accept(stream);
                    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(err)) => return tracing::debug!(%err, "TLS handshake error"),
                        Err(_) => return tracing::debug!("TLS handshake timed out"),
                    };
                    if !http2 {
                        builder = builder.http1_only();
                    }
                    watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service)).await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%err, "HTTP connection error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Accept errors other than a client giving up (e.g. out of file descriptors) pause the loop briefly.
async fn accept_error(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(%err, "accept error");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::Filter;

    fn slow_routes() -> BoxedFilter<(Response,)> {
        warp::path("slow")
            .and_then(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, warp::Rejection>("done".into_response())
            })
            .or(warp::any().map(|| "fast".into_response()))
            .unify()
            .boxed()
    }

    async fn body(resp: Response) -> String {
        use http_body_util::BodyExt;
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_answers_503_with_go_body() {
        let handler = Handler::new(slow_routes(), None, Duration::from_millis(1500));
        let resp = handler.handle(Request::get("/slow").body(String::new()).expect("request")).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body(resp).await, "Exceeded configured timeout of 1.5s.\n");

        let resp = handler.handle(Request::get("/fast").body(String::new()).expect("request")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(body(resp).await, "fast");

        let unlimited = Handler::new(slow_routes(), None, Duration::ZERO);
        let resp = unlimited.handle(Request::get("/slow").body(String::new()).expect("request")).await;
        assert_eq!(body(resp).await, "done");
    }
}
