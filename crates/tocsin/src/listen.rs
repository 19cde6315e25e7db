//! Binding `--web.listen-address` values the way Go's `net.Listen("tcp", addr)` reads them: `:9093` listens on
//! every interface (IPv6 and IPv4), `host:port` on the addresses the host resolves to, port `0` or empty picks a
//! free port.

use crate::flags::split_host_port;
use tokio::net::TcpListener;

/// Why an address could not be bound; shown with the address in the start-up error.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("listen tcp {addr}: {message}")]
    Address { addr: String, message: String },
    #[error("listen tcp {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// Binds one listen address.
pub async fn bind(addr: &str) -> Result<TcpListener, ListenError> {
    let address_err = |message: String| ListenError::Address { addr: addr.to_owned(), message };
    let (host, port) = split_host_port(addr).map_err(address_err)?;
    let port: u16 = if port.is_empty() {
        0
    } else {
        port.parse().map_err(|_| address_err(format!("unknown port {port:?}")))?
    };
    let bind_err = |source| ListenError::Bind { addr: addr.to_owned(), source };
    if host.is_empty() {
        // Dual-stack wildcard first (Linux accepts IPv4 on it), IPv4 wildcard where IPv6 is disabled.
        return match TcpListener::bind(("::", port)).await {
            Ok(l) => Ok(l),
            Err(_) => TcpListener::bind(("0.0.0.0", port)).await.map_err(bind_err),
        };
    }
    TcpListener::bind((host, port)).await.map_err(bind_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_loopback_port_zero_and_reports_errors() {
        let l = bind("127.0.0.1:0").await.expect("bind");
        let taken = l.local_addr().expect("local addr");
        assert_ne!(taken.port(), 0);
        let err = bind(&taken.to_string()).await.expect_err("address in use");
        assert!(err.to_string().starts_with(&format!("listen tcp {taken}: ")), "{err}");
        let err = bind("127.0.0.1").await.expect_err("no port");
        assert_eq!(err.to_string(), "listen tcp 127.0.0.1: address 127.0.0.1: missing port in address");
        let err = bind("127.0.0.1:http").await.expect_err("named port");
        assert!(err.to_string().contains("unknown port"), "{err}");
    }
}
