//! Development server: the embedded UI on 127.0.0.1:<port> with `/api/v2/*` proxied to a running Alertmanager-
//! compatible server, so the UI can be worked on before (or without) the app mounting it.
//!
//! `cargo run -p tocsin-ui --example serve -- http://127.0.0.1:9093 [port]`

use bytes::Bytes;
use warp::http::{Method, Response, StatusCode};
use warp::Filter;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let upstream = args.next().unwrap_or_else(|| "http://127.0.0.1:9093".to_owned());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let proxy = warp::path("api")
        .and(warp::path::full())
        .and(warp::method())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::body::bytes())
        .and_then(
            move |path: warp::path::FullPath,
                  method: Method,
                  query: String,
                  ct: Option<String>,
                  body: Bytes| {
                let client = client.clone();
                let url =
                    format!("{upstream}{}{}{query}", path.as_str(), if query.is_empty() { "" } else { "?" });
                async move {
                    let mut req = client.request(method, &url).body(body);
                    if let Some(ct) = ct {
                        req = req.header("content-type", ct);
                    }
                    let reply = match req.send().await {
                        Ok(r) => {
                            let status = r.status();
                            let ct = r.headers().get("content-type").cloned();
                            let body = r.bytes().await.unwrap_or_default();
                            let mut resp = Response::builder().status(status);
                            if let Some(ct) = ct {
                                resp = resp.header("content-type", ct);
                            }
                            resp.body(body)
                        }
                        Err(e) => Response::builder()
                            .status(StatusCode::BAD_GATEWAY)
                            .body(Bytes::from(e.to_string())),
                    };
                    Ok::<_, std::convert::Infallible>(reply.unwrap_or_default())
                }
            },
        );
    let routes = tocsin_ui::routes().or(proxy);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    eprintln!("serving the UI on http://{addr}/");
    warp::serve(routes).incoming(listener).run().await;
}
