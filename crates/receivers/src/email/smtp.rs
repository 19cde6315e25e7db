//! One SMTP session as upstream's email notifier drives Go's `net/smtp`: connect (implicit TLS on port 465),
//! EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA, QUIT.
//!
//! lettre does the protocol (command syntax, reply parsing, dot-stuffing, PLAIN/LOGIN responses). The socket
//! and TLS are ours: TLS uses the receivers' shared `tls_config` semantics ([`crate::tls::client_config`]),
//! and STARTTLS upgrades the socket lettre reads from in place, through [`SharedStream`]. The EHLO reply is
//! parsed here too, because lettre ignores mechanisms it does not implement (CRAM-MD5) and upstream chooses
//! among all of them.

use crate::tls::client_config;
use crate::tls::{TlsMaterial, TlsSettings};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Quit, Rcpt, Starttls};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::Address;
use rustls::pki_types::ServerName;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Why a step of the session failed. `Display` reads like Go's errors (`535 5.7.8 Bad credentials`,
/// `dial tcp 127.0.0.1:25: connection refused`); the caller adds upstream's step prefix.
#[derive(Debug)]
pub enum SmtpError {
    /// The server answered with a 4xx (`transient`) or 5xx reply.
    Reply { code: u16, text: String },
    /// Connect, TLS, I/O or an unparsable reply.
    Transport(String),
}

impl SmtpError {
    /// 4xx replies and transport failures may succeed later; 5xx replies will not.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SmtpError::Reply { code, .. } if *code >= 500)
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::Reply { code, text } => write!(f, "{code:03} {text}"),
            SmtpError::Transport(t) => f.write_str(t),
        }
    }
}

impl From<lettre::transport::smtp::Error> for SmtpError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if let Some(code) = e.status() {
            let code = code.to_string().parse().unwrap_or(0);
            let text = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
            return SmtpError::Reply { code, text: text.trim().to_owned() };
        }
        SmtpError::Transport(crate::classify::error_chain(&e))
    }
}

/// What the server's EHLO reply advertises (`c.Extension(...)` upstream).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    pub starttls: bool,
    /// The `AUTH` line's mechanisms in the server's order; `None` when the server offers no AUTH.
    pub auth: Option<Vec<String>>,
}

impl Extensions {
    /// Parses an EHLO reply's lines (the first is the greeting).
    pub fn parse<'a>(lines: impl Iterator<Item = &'a str>) -> Extensions {
        let mut out = Extensions::default();
        for line in lines.skip(1) {
            let mut words = line.split_whitespace();
            match words.next().map(str::to_ascii_uppercase).as_deref() {
                Some("STARTTLS") => out.starttls = true,
                Some("AUTH") => out.auth = Some(words.map(str::to_ascii_uppercase).collect()),
                _ => {}
            }
        }
        out
    }
}

enum Inner {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while a STARTTLS handshake owns the socket.
    Upgrading,
}

/// The socket lettre reads from, shared with the session so STARTTLS can swap plain TCP for TLS underneath.
/// Polls lock a std mutex briefly; nothing awaits while holding it.
#[derive(Clone)]
pub struct SharedStream {
    inner: Arc<Mutex<Inner>>,
    peer: SocketAddr,
}

impl fmt::Debug for SharedStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedStream({})", self.peer)
    }
}

impl SharedStream {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_tls(&self) -> bool {
        matches!(*self.lock(), Inner::Tls(_))
    }
}

fn upgrading() -> io::Error {
    io::Error::other("connection is being upgraded to TLS")
}

impl AsyncRead for SharedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut *self.lock() {
            Inner::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Inner::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut *self.lock() {
            Inner::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Inner::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut *self.lock() {
            Inner::Plain(s) => Pin::new(s).poll_flush(cx),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Inner::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut *self.lock() {
            Inner::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Inner::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncTokioStream for SharedStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub hello: &'a str,
    pub tls: &'a TlsSettings,
}

impl Target<'_> {
    /// `host:port` as Go's `net.JoinHostPort` prints it (IPv6 in brackets).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    async fn tls_connector(&self) -> Result<(TlsConnector, ServerName<'static>), SmtpError> {
        let material = TlsMaterial::read(self.tls).await.map_err(|e| SmtpError::Transport(e.to_string()))?;
        let cfg =
            client_config(self.tls, &material, false).map_err(|e| SmtpError::Transport(e.to_string()))?;
        // Go: tlsConfig.ServerName defaults to the smarthost's host (SNI and verification name).
        let name =
            self.tls.server_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| self.host.to_owned());
        let name = ServerName::try_from(name.clone())
            .map_err(|_| SmtpError::Transport(format!("tls: invalid server name {name:?}")))?;
        Ok((TlsConnector::from(Arc::new(cfg)), name))
    }
}

/// An open session, after the greeting and EHLO.
pub struct Session {
    conn: AsyncSmtpConnection,
    stream: SharedStream,
    hello: ClientId,
    pub extensions: Extensions,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("stream", &self.stream).field("extensions", &self.extensions).finish()
    }
}

/// The step that failed, for upstream's error prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectStep {
    /// `establish connection to server` / `establish TLS connection to server` (port 465).
    Dial { tls: bool },
    /// `create SMTP client` (greeting) or `send EHLO command`.
    Hello,
}

impl Session {
    /// Dials `target`, wraps it in TLS first on port 465, reads the greeting and sends EHLO.
    pub async fn connect(target: &Target<'_>) -> Result<Session, (ConnectStep, SmtpError)> {
        let implicit_tls = target.port == 465;
        let dial = ConnectStep::Dial { tls: implicit_tls };
        let tcp = TcpStream::connect((target.host, target.port))
            .await
            .map_err(|e| (dial, SmtpError::Transport(format!("dial tcp {}: {e}", target.addr()))))?;
        let peer = tcp.peer_addr().map_err(|e| (dial, SmtpError::Transport(e.to_string())))?;
        let inner = if implicit_tls {
            let (connector, name) = target.tls_connector().await.map_err(|e| (dial, e))?;
            let tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| (dial, SmtpError::Transport(e.to_string())))?;
            Inner::Tls(Box::new(tls))
        } else {
            Inner::Plain(tcp)
        };
        let stream = SharedStream { inner: Arc::new(Mutex::new(inner)), peer };
        let hello = ClientId::Domain(target.hello.to_owned());
        let conn = AsyncSmtpConnection::connect_with_transport(Box::new(stream.clone()), &hello)
            .await
            .map_err(|e| (ConnectStep::Hello, e.into()))?;
        let mut session = Session { conn, stream, hello, extensions: Extensions::default() };
        session.ehlo().await.map_err(|e| (ConnectStep::Hello, e))?;
        Ok(session)
    }

    /// lettre sent EHLO already but keeps only the mechanisms it knows; ask again for the full list.
    async fn ehlo(&mut self) -> Result<(), SmtpError> {
        let reply = self.conn.command(Ehlo::new(self.hello.clone())).await?;
        self.extensions = Extensions::parse(reply.message());
        Ok(())
    }

    pub fn is_encrypted(&self) -> bool {
        self.stream.is_tls()
    }

    /// `STARTTLS`, the TLS handshake on the same socket, then EHLO again (the extensions may change).
    pub async fn starttls(&mut self, target: &Target<'_>) -> Result<(), SmtpError> {
        let (connector, name) = target.tls_connector().await?;
        self.conn.command(Starttls).await?;
        let taken = std::mem::replace(&mut *self.stream.lock(), Inner::Upgrading);
        let tcp = match taken {
            Inner::Plain(tcp) => tcp,
            other => {
                *self.stream.lock() = other;
                return Err(SmtpError::Transport("connection is already encrypted".to_owned()));
            }
        };
        let tls = connector.connect(name, tcp).await.map_err(|e| SmtpError::Transport(e.to_string()))?;
        *self.stream.lock() = Inner::Tls(Box::new(tls));
        self.ehlo().await
    }

    /// Sends one command line (already CRLF-terminated) and reads the reply; for AUTH exchanges.
    pub async fn command(&mut self, line: impl fmt::Display) -> Result<Response, SmtpError> {
        Ok(self.conn.command(line).await?)
    }

    pub async fn mail(&mut self, from: Address) -> Result<(), SmtpError> {
        self.conn.command(Mail::new(Some(from), Vec::new())).await?;
        Ok(())
    }

    pub async fn rcpt(&mut self, to: Address) -> Result<(), SmtpError> {
        self.conn.command(Rcpt::new(to, Vec::new())).await?;
        Ok(())
    }

    /// `DATA`; the error is upstream's `send DATA command` step.
    pub async fn data(&mut self) -> Result<(), SmtpError> {
        self.conn.command(Data).await?;
        Ok(())
    }

    /// The message (dot-stuffed by lettre) and the final `.`; the server's verdict on the message.
    pub async fn message(&mut self, message: &[u8]) -> Result<(), SmtpError> {
        self.conn.message(message).await?;
        Ok(())
    }

    /// QUIT, ignoring failures (upstream only logs them after a success).
    pub async fn quit(mut self) {
        if self.conn.command(Quit).await.is_err() {
            self.conn.abort().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extensions() {
        struct Case {
            name: &'static str,
            lines: &'static [&'static str],
            want: Extensions,
        }
        let cases = [
            Case { name: "none", lines: &["mx.example"], want: Extensions::default() },
            Case {
                name: "starttls and auth",
                lines: &["mx.example", "SIZE 100", "STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5", "8BITMIME"],
                want: Extensions {
                    starttls: true,
                    auth: Some(vec!["PLAIN".into(), "LOGIN".into(), "CRAM-MD5".into()]),
                },
            },
            Case {
                name: "lower case",
                lines: &["mx", "starttls", "auth login"],
                want: Extensions { starttls: true, auth: Some(vec!["LOGIN".into()]) },
            },
            Case { name: "greeting is not a keyword", lines: &["STARTTLS"], want: Extensions::default() },
        ];
        for c in cases {
            assert_eq!(Extensions::parse(c.lines.iter().copied()), c.want, "{}", c.name);
        }
    }

    #[test]
    fn addr_brackets_ipv6() {
        let tls = TlsSettings::default();
        let t = Target { host: "::1", port: 25, hello: "localhost", tls: &tls };
        assert_eq!(t.addr(), "[::1]:25");
        let t = Target { host: "mx.example", port: 587, hello: "localhost", tls: &tls };
        assert_eq!(t.addr(), "mx.example:587");
    }
}
