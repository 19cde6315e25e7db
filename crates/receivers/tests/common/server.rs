//! A minimal HTTP/1.1 server on 127.0.0.1:0, plain or TLS, answering every request with a scripted response.
//! It exists for what the testkit sink cannot do: TLS (with optional client-certificate checks), response bodies
//! and redirects.

use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct Seen {
    pub head: String,
    pub body: Vec<u8>,
    /// A client certificate was presented and verified (TLS only).
    pub client_cert: bool,
}

pub struct Server {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `respond(path) -> raw response bytes`.
pub type Responder = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

pub fn response(status: u16, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

impl Server {
    pub async fn start(tls: Option<Arc<rustls::ServerConfig>>, respond: Responder) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (s, respond, tls) = (s.clone(), respond.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve(tcp, false, &s, &respond).await,
                        Some(cfg) => {
                            let Ok(stream) = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await else {
                                return;
                            };
                            let client_cert =
                                stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                            serve(stream, client_cert, &s, &respond).await
                        }
                    }
                });
            }
        });
        Server { port, seen, task }
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    client_cert: bool,
    seen: &Mutex<Vec<Seen>>,
    respond: &Responder,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    seen.lock().await.push(Seen { head, body: buf[head_end..].to_vec(), client_cert });
    let _ = stream.write_all(&respond(&path)).await;
    let _ = stream.shutdown().await;
}
