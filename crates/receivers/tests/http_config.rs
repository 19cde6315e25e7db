//! `http_config` beyond authentication headers: oauth2 client credentials (token fetch, cache, refresh, errors)
//! and proxy selection (`no_proxy`, `proxy_from_environment`, `proxy_connect_header`). Loopback servers only;
//! made-up host names are either sent to the proxy mock or resolved to 127.0.0.1 by the client's overrides.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::server::{response, Responder, Server};
use common::{ctx, firing, install_crypto};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tocsin_model::clock::{ManualClock, SharedClock};
use tocsin_pipeline::notifier::{Notifier, Retry};
use tocsin_receivers::http::{EnvLookup, HttpContext};
use tocsin_receivers::oauth2::OAuth2Settings;
use tocsin_receivers::{
    Auth, HttpClient, HttpClientSettings, HttpError, SecretSource, Webhook, WebhookSettings,
};

const SECRET: &str = "s3cr3t/value";

fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn oauth(token_url: String) -> OAuth2Settings {
    OAuth2Settings {
        client_id: "my id".to_owned(),
        client_secret: SecretSource::Inline(SECRET.to_owned()),
        scopes: vec!["read".to_owned(), "write".to_owned()],
        token_url,
        endpoint_params: [("audience".to_owned(), "tocsin api".to_owned())].into(),
        http: OAuth2Settings::token_client_defaults(),
    }
}

fn context(clock: SharedClock, env: &[(&str, String)], resolve: &[(&str, u16)]) -> HttpContext {
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    let env: EnvLookup = Arc::new(move |n: &str| env.get(n).cloned());
    let resolve =
        resolve.iter().map(|(h, p)| ((*h).to_owned(), SocketAddr::from(([127, 0, 0, 1], *p)))).collect();
    HttpContext { clock, env, resolve }
}

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(common::now()))
}

fn oauth_client(o: OAuth2Settings, clock: SharedClock) -> HttpClient {
    let settings = HttpClientSettings { auth: Auth::OAuth2(Box::new(o)), ..HttpClientSettings::default() };
    HttpClient::with_context(settings, context(clock, &[], &[]))
}

/// Posts once; `Ok` when the target answered 2xx.
async fn send(c: &HttpClient, url: &str) -> Result<(), HttpError> {
    let resp =
        c.post(url, None).await?.body("{}").send().await.map_err(|e| HttpError::Build(e.to_string()))?;
    assert!(resp.status().is_success(), "{}", resp.status());
    Ok(())
}

/// A token endpoint answering `tok1`, `tok2`, ... with the given `expires_in` (none when `None`).
fn token_server(count: Arc<AtomicUsize>, expires_in: Option<u64>) -> Responder {
    Arc::new(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let exp = expires_in.map(|e| format!(r#","expires_in":{e}"#)).unwrap_or_default();
        let body = format!(r#"{{"access_token":"tok{n}","token_type":"bearer"{exp}}}"#);
        response(200, "content-type: application/json\r\n", body.as_bytes())
    })
}

fn ok() -> Responder {
    Arc::new(|_| response(200, "", b""))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn oauth2_token_fetched_once_and_sent_as_bearer() {
    install_crypto();
    let count = Arc::new(AtomicUsize::new(0));
    let idp = Server::start(None, token_server(count.clone(), Some(3600))).await;
    let target = Server::start(None, ok()).await;
    let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), manual_clock());
    let url = format!("http://127.0.0.1:{}/hook", target.port);
    let (a, b, d) = tokio::join!(send(&c, &url), send(&c, &url), send(&c, &url));
    a.unwrap();
    b.unwrap();
    d.unwrap();
    send(&c, &url).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1, "one token for every send, concurrent ones included");
    let seen = target.seen.lock().await;
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|s| header(&s.head, "authorization") == Some("Bearer tok1")));

    let token_req = &idp.seen.lock().await[0];
    assert!(token_req.head.starts_with("POST /token "), "{}", token_req.head);
    let basic = format!("Basic {}", base64(b"my+id:s3cr3t%2Fvalue"));
    assert_eq!(header(&token_req.head, "authorization"), Some(basic.as_str()));
    assert_eq!(header(&token_req.head, "content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(
        String::from_utf8_lossy(&token_req.body),
        "audience=tocsin+api&grant_type=client_credentials&scope=read+write"
    );
}

#[tokio::test]
async fn oauth2_token_refetched_when_expired() {
    install_crypto();
    let count = Arc::new(AtomicUsize::new(0));
    let idp = Server::start(None, token_server(count.clone(), Some(3600))).await;
    let target = Server::start(None, ok()).await;
    let clock = manual_clock();
    let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), clock.clone());
    let url = format!("http://127.0.0.1:{}/", target.port);
    send(&c, &url).await.unwrap();
    // Still valid until 10 s before expiry (x/oauth2's expiryDelta).
    clock.advance(chrono::TimeDelta::seconds(3589));
    send(&c, &url).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    clock.advance(chrono::TimeDelta::seconds(2));
    send(&c, &url).await.unwrap();
    send(&c, &url).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let auths: Vec<_> = target
        .seen
        .lock()
        .await
        .iter()
        .map(|s| header(&s.head, "authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auths, ["Bearer tok1", "Bearer tok1", "Bearer tok2", "Bearer tok2"]);
}

#[tokio::test]
async fn oauth2_token_without_expiry_is_kept() {
    install_crypto();
    let count = Arc::new(AtomicUsize::new(0));
    let idp = Server::start(None, token_server(count.clone(), None)).await;
    let target = Server::start(None, ok()).await;
    let clock = manual_clock();
    let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), clock.clone());
    send(&c, &format!("http://127.0.0.1:{}/", target.port)).await.unwrap();
    clock.advance(chrono::TimeDelta::days(400));
    send(&c, &format!("http://127.0.0.1:{}/", target.port)).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn oauth2_falls_back_to_credentials_in_body_and_remembers() {
    install_crypto();
    let count = Arc::new(AtomicUsize::new(0));
    let tokens = token_server(Arc::new(AtomicUsize::new(0)), Some(60));
    let c2 = count.clone();
    let idp = Server::start(
        None,
        Arc::new(move |p| match c2.fetch_add(1, Ordering::SeqCst) {
            0 => response(401, "", b"basic auth not accepted"),
            _ => tokens(p),
        }),
    )
    .await;
    let target = Server::start(None, ok()).await;
    let clock = manual_clock();
    let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), clock.clone());
    let url = format!("http://127.0.0.1:{}/", target.port);
    send(&c, &url).await.unwrap();
    clock.advance(chrono::TimeDelta::seconds(60));
    send(&c, &url).await.unwrap();
    let seen = idp.seen.lock().await;
    assert_eq!(seen.len(), 3, "header try, body try, then body directly after expiry");
    assert!(header(&seen[0].head, "authorization").is_some());
    for s in &seen[1..] {
        assert_eq!(header(&s.head, "authorization"), None);
        let body = String::from_utf8_lossy(&s.body);
        assert!(body.contains("client_id=my+id&client_secret=s3cr3t%2Fvalue"), "{body}");
        assert!(body.contains("grant_type=client_credentials"), "{body}");
    }
}

#[tokio::test]
async fn oauth2_secret_file_read_at_use_time() {
    install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "first\n").unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let idp = Server::start(None, token_server(count.clone(), Some(3600))).await;
    let target = Server::start(None, ok()).await;
    let mut o = oauth(format!("http://127.0.0.1:{}/token", idp.port));
    o.client_secret = SecretSource::File(file.clone());
    let c = oauth_client(o, manual_clock());
    let url = format!("http://127.0.0.1:{}/", target.port);
    send(&c, &url).await.unwrap();
    send(&c, &url).await.unwrap();
    std::fs::write(&file, "second").unwrap();
    send(&c, &url).await.unwrap();
    let seen = idp.seen.lock().await;
    assert_eq!(seen.len(), 2, "a rotated secret discards the cached token");
    let want = |s: &str| format!("Basic {}", base64(format!("my+id:{s}").as_bytes()));
    assert_eq!(header(&seen[0].head, "authorization"), Some(want("first").as_str()));
    assert_eq!(header(&seen[1].head, "authorization"), Some(want("second").as_str()));
    std::fs::remove_file(&file).unwrap();
    let e = send(&c, &url).await.unwrap_err().to_string();
    assert!(e.starts_with("unable to read oauth2 client_secret_file "), "{e}");
}

#[tokio::test]
async fn oauth2_form_encoded_token_response() {
    install_crypto();
    let idp = Server::start(
        None,
        Arc::new(|_| {
            response(
                200,
                "content-type: application/x-www-form-urlencoded\r\n",
                b"access_token=a%2Bb&token_type=mac",
            )
        }),
    )
    .await;
    let target = Server::start(None, ok()).await;
    let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), manual_clock());
    send(&c, &format!("http://127.0.0.1:{}/", target.port)).await.unwrap();
    assert_eq!(header(&target.seen.lock().await[0].head, "authorization"), Some("MAC a+b"));
}

#[tokio::test]
async fn oauth2_errors_name_the_token_url_never_the_secret() {
    install_crypto();
    struct Case {
        name: &'static str,
        status: u16,
        content_type: &'static str,
        body: String,
        want: &'static str,
        retry: Retry,
    }
    let json = "content-type: application/json\r\n";
    let cases = [
        Case {
            name: "error code",
            status: 401,
            content_type: json,
            body: format!(r#"{{"error":"invalid_client","error_description":"wrong {SECRET}"}}"#),
            want: r#"oauth2: "invalid_client" "wrong <redacted>""#,
            retry: Retry::No,
        },
        Case {
            name: "4xx plain",
            status: 400,
            content_type: "content-type: text/html\r\n",
            body: format!("no {SECRET}"),
            want: "oauth2: cannot fetch token: 400 Bad Request\nResponse: no <redacted>",
            retry: Retry::No,
        },
        Case {
            name: "5xx",
            status: 503,
            content_type: "",
            body: "busy".to_owned(),
            want: "oauth2: cannot fetch token: 503 Service Unavailable\nResponse: busy",
            retry: Retry::Yes,
        },
        Case {
            name: "bad json",
            status: 200,
            content_type: json,
            body: "{not json".to_owned(),
            want: "oauth2: cannot parse json: ",
            retry: Retry::No,
        },
        Case {
            name: "no access_token",
            status: 200,
            content_type: json,
            body: r#"{"token_type":"bearer"}"#.to_owned(),
            want: "oauth2: server response missing access_token",
            retry: Retry::No,
        },
    ];
    let target = Server::start(None, ok()).await;
    for c in cases {
        let (status, ct, body) = (c.status, c.content_type, c.body.clone());
        let idp = Server::start(None, Arc::new(move |_| response(status, ct, body.as_bytes()))).await;
        let token_url = format!("http://127.0.0.1:{}/token", idp.port);
        let client = oauth_client(oauth(token_url.clone()), manual_clock());
        let e = send(&client, &format!("http://127.0.0.1:{}/", target.port)).await.unwrap_err();
        let msg = e.to_string();
        let prefix = format!("oauth2 token request to \"{token_url}\" failed: {}", c.want);
        assert!(msg.starts_with(&prefix), "{}: {msg}", c.name);
        assert!(!msg.contains(SECRET) && !msg.contains("s3cr3t%2F"), "{}: {msg}", c.name);
        assert_eq!(e.into_notify_error().retry, c.retry, "{}", c.name);
    }
    assert!(target.seen.lock().await.is_empty(), "no notification without a token");
}

#[tokio::test]
async fn oauth2_unreachable_token_url_is_retryable() {
    install_crypto();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let token_url = format!("http://idp-user:idp-pass@127.0.0.1:{port}/token");
    let c = oauth_client(oauth(token_url), manual_clock());
    let e = send(&c, "http://127.0.0.1:1/").await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("oauth2 token request to \"http://127.0.0.1:{port}/token\" failed: ")),
        "{msg}"
    );
    assert!(!msg.contains("idp-pass") && !msg.contains("s3cr3t"), "{msg}");
    assert_eq!(e.into_notify_error().retry, Retry::Yes);
}

#[tokio::test]
async fn oauth2_endpoint_params_cannot_overwrite_scope() {
    install_crypto();
    let mut o = oauth("http://127.0.0.1:1/token".to_owned());
    o.endpoint_params.insert("scope".to_owned(), "x".to_owned());
    let e = send(&oauth_client(o, manual_clock()), "http://127.0.0.1:1/").await.unwrap_err();
    assert!(e.to_string().ends_with(r#"oauth2: cannot overwrite parameter "scope""#), "{e}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn oauth2_token_request_uses_oauth2_proxy_and_webhook_from_config() {
    install_crypto();
    let count = Arc::new(AtomicUsize::new(0));
    let proxy = Server::start(None, token_server(count.clone(), Some(3600))).await;
    let target = Server::start(None, ok()).await;
    let cfg: tocsin_config::HttpClientConfig = serde_json::from_value(serde_json::json!({
        "oauth2": {
            "client_id": "id",
            "client_secret": SECRET,
            "token_url": "http://idp.tocsin.invalid/token",
            "proxy_url": format!("http://127.0.0.1:{}", proxy.port),
        }
    }))
    .unwrap();
    let settings = HttpClientSettings::from_config(&cfg);
    assert!(!format!("{settings:?}").contains(SECRET), "Debug hides the secret");
    let hook = Webhook::new(WebhookSettings {
        http: settings,
        ..WebhookSettings::new(format!("http://127.0.0.1:{}/", target.port))
    });
    hook.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    hook.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    let seen = proxy.seen.lock().await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].head.starts_with("POST http://idp.tocsin.invalid/token HTTP/1.1"), "{}", seen[0].head);
    let seen = target.seen.lock().await;
    assert_eq!(seen.len(), 2, "the notification itself is not proxied");
    assert_eq!(header(&seen[1].head, "authorization"), Some("Bearer tok1"));
}

fn proxied(proxy_port: u16, no_proxy: &str) -> HttpClientSettings {
    HttpClientSettings {
        proxy_url: Some(SecretSource::Inline(format!("http://127.0.0.1:{proxy_port}"))),
        no_proxy: no_proxy.to_owned(),
        ..HttpClientSettings::default()
    }
}

#[tokio::test]
async fn no_proxy_bypasses_listed_hosts_only() {
    install_crypto();
    let proxy = Server::start(None, ok()).await;
    let target = Server::start(None, ok()).await;
    let ctx = context(manual_clock(), &[], &[("direct.tocsin.test", target.port)]);
    let c = HttpClient::with_context(proxied(proxy.port, "other.example, .tocsin.test"), ctx);
    send(&c, &format!("http://direct.tocsin.test:{}/listed", target.port)).await.unwrap();
    assert!(proxy.seen.lock().await.is_empty(), "listed host went through the proxy");
    assert_eq!(target.seen.lock().await.len(), 1);

    send(&c, "http://hooks.tocsin.invalid/unlisted").await.unwrap();
    let seen = proxy.seen.lock().await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].head.starts_with("POST http://hooks.tocsin.invalid/unlisted "), "{}", seen[0].head);
}

#[tokio::test]
async fn loopback_is_proxied_only_without_no_proxy() {
    install_crypto();
    let proxy = Server::start(None, ok()).await;
    let target = Server::start(None, ok()).await;
    let url = format!("http://127.0.0.1:{}/", target.port);
    // Go: http.ProxyURL proxies everything; httpproxy (used once no_proxy is set) never proxies loopback.
    send(&HttpClient::new(proxied(proxy.port, "")), &url).await.unwrap();
    assert_eq!((proxy.seen.lock().await.len(), target.seen.lock().await.len()), (1, 0));
    send(&HttpClient::new(proxied(proxy.port, "other.example")), &url).await.unwrap();
    assert_eq!((proxy.seen.lock().await.len(), target.seen.lock().await.len()), (1, 1));
}

#[tokio::test]
async fn proxy_from_environment_uses_injected_env() {
    install_crypto();
    let proxy = Server::start(None, ok()).await;
    let target = Server::start(None, ok()).await;
    let resolve = [("direct.tocsin.test", target.port)];
    let from_env = HttpClientSettings { proxy_from_environment: true, ..HttpClientSettings::default() };
    let env =
        [("http_proxy", format!("127.0.0.1:{}", proxy.port)), ("NO_PROXY", "direct.tocsin.test".to_owned())];
    let c = HttpClient::with_context(from_env.clone(), context(manual_clock(), &env, &resolve));
    send(&c, "http://hooks.tocsin.invalid/a").await.unwrap();
    send(&c, &format!("http://direct.tocsin.test:{}/b", target.port)).await.unwrap();
    assert_eq!((proxy.seen.lock().await.len(), target.seen.lock().await.len()), (1, 1));

    // HTTPS_PROXY does not apply to http:// targets, and without the flag the environment is ignored.
    let env = [("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))];
    let c = HttpClient::with_context(from_env, context(manual_clock(), &env, &resolve));
    send(&c, &format!("http://direct.tocsin.test:{}/c", target.port)).await.unwrap();
    let env = [("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port))];
    let c = HttpClient::with_context(HttpClientSettings::default(), context(manual_clock(), &env, &resolve));
    send(&c, &format!("http://direct.tocsin.test:{}/d", target.port)).await.unwrap();
    assert_eq!((proxy.seen.lock().await.len(), target.seen.lock().await.len()), (1, 3));
}

#[tokio::test]
async fn proxy_connect_header_on_connect_only() {
    install_crypto();
    let proxy = Server::start(None, Arc::new(|_| response(403, "", b""))).await;
    let mut s = proxied(proxy.port, "");
    s.proxy_connect_header =
        [("X-Tenant".to_owned(), vec![SecretSource::Inline("t1-secret".to_owned())])].into();
    let c = HttpClient::new(s);
    let e = c.post("https://secure.tocsin.invalid/x", None).await.unwrap().send().await.unwrap_err();
    assert!(!format!("{e:?}").contains("t1-secret"));
    let _ = c.post("http://plain.tocsin.invalid/y", None).await.unwrap().send().await;
    let seen = proxy.seen.lock().await;
    assert!(seen[0].head.starts_with("CONNECT secure.tocsin.invalid:443 "), "{}", seen[0].head);
    assert_eq!(header(&seen[0].head, "x-tenant"), Some("t1-secret"));
    assert!(seen[1].head.starts_with("POST http://plain.tocsin.invalid/y "), "{}", seen[1].head);
    assert_eq!(header(&seen[1].head, "x-tenant"), None, "not on forwarded plain-HTTP requests");
}

/// A token endpoint answering `tok1`, `tok2`, ... with `expires_in` written as given.
fn token_server_raw(count: Arc<AtomicUsize>, expires_in: &'static str) -> Responder {
    Arc::new(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let body = format!(r#"{{"access_token":"tok{n}","token_type":"bearer","expires_in":{expires_in}}}"#);
        response(200, "content-type: application/json\r\n", body.as_bytes())
    })
}

#[tokio::test]
async fn oauth2_extreme_expires_in_neither_panics_nor_refetches_early() {
    install_crypto();
    struct Case {
        name: &'static str,
        expires_in: &'static str,
        /// Seconds after which the token is fetched again (`None`: kept for good).
        refetch_after: Option<i64>,
    }
    let cases = [
        Case { name: "hugely negative", expires_in: "-9000000000000", refetch_after: None },
        Case { name: "zero", expires_in: "0", refetch_after: None },
        // Capped at i32::MAX seconds as x/oauth2 does, minus the 10 s expiry delta.
        Case {
            name: "hugely positive",
            expires_in: "9000000000000000000",
            refetch_after: Some(2_147_483_647 - 9),
        },
    ];
    let target = Server::start(None, ok()).await;
    let url = format!("http://127.0.0.1:{}/", target.port);
    for c in cases {
        let count = Arc::new(AtomicUsize::new(0));
        let idp = Server::start(None, token_server_raw(count.clone(), c.expires_in)).await;
        let clock = manual_clock();
        let client = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), clock.clone());
        send(&client, &url).await.unwrap();
        clock.advance(chrono::TimeDelta::days(400));
        send(&client, &url).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1, "{}: token kept", c.name);
        if let Some(after) = c.refetch_after {
            clock.advance(chrono::TimeDelta::seconds(after - 400 * 86_400 - 1));
            send(&client, &url).await.unwrap();
            assert_eq!(count.load(Ordering::SeqCst), 1, "{}: still valid", c.name);
            clock.advance(chrono::TimeDelta::seconds(2));
            send(&client, &url).await.unwrap();
            assert_eq!(count.load(Ordering::SeqCst), 2, "{}: fetched again", c.name);
        }
    }
}

#[tokio::test]
async fn oauth2_error_fields_are_capped_and_secrets_cut_in_half_dropped() {
    install_crypto();
    let target = Server::start(None, ok()).await;
    // A long error_description: the message keeps 256 characters of it.
    let long = "d".repeat(1000);
    let body = format!(r#"{{"error":"invalid_client","error_description":"{long}","error_uri":"{long}"}}"#);
    let idp = Server::start(
        None,
        Arc::new(move |_| response(401, "content-type: application/json\r\n", body.as_bytes())),
    )
    .await;
    let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), manual_clock());
    let msg = send(&c, &format!("http://127.0.0.1:{}/", target.port)).await.unwrap_err().to_string();
    let capped = format!("\"{}…\"", "d".repeat(256));
    assert!(msg.ends_with(&format!(r#"oauth2: "invalid_client" {capped} {capped}"#)), "{msg}");

    // A plain answer echoing the secret across the 1 KiB cut.
    for (pad, want_end) in [(1024 - 5, "x<reda"), (1024 - 20, "x<redacted> and more")] {
        let body = format!("{}{SECRET} and more", "x".repeat(pad));
        let idp = Server::start(
            None,
            Arc::new(move |_| response(400, "content-type: text/plain\r\n", body.as_bytes())),
        )
        .await;
        let c = oauth_client(oauth(format!("http://127.0.0.1:{}/token", idp.port)), manual_clock());
        let msg = send(&c, &format!("http://127.0.0.1:{}/", target.port)).await.unwrap_err().to_string();
        assert!(msg.ends_with(want_end), "{pad}: {msg}");
        assert!(!msg.contains("xs3"), "{pad}: {msg}");
    }
}
