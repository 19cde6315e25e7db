//! The `Transport` seam: datagrams and streams between cluster members.
//!
//! [`SocketTransport`] binds one UDP socket and one TCP listener on the same address, like memberlist;
//! [`crate::MemNetwork`] provides the same interface in memory for tests with loss and partitions.

use std::{io, net::SocketAddr};

use async_trait::async_trait;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream, UdpSocket},
};

/// A bidirectional byte stream (a TCP connection or an in-memory pipe).
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// How the cluster reaches its peers. `recv_from` and `accept` are each called from a single task.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug + 'static {
    /// The bound address (its port is the real one when binding port 0).
    fn local_addr(&self) -> SocketAddr;
    /// Sends one datagram; losing it is not an error (UDP semantics).
    async fn send_to(&self, to: SocketAddr, packet: &[u8]) -> io::Result<()>;
    /// Receives one datagram. `ErrorKind::NotConnected` means the transport is closed for good.
    async fn recv_from(&self) -> io::Result<(SocketAddr, Vec<u8>)>;
    /// Opens a stream to a peer.
    async fn connect(&self, to: SocketAddr) -> io::Result<BoxStream>;
    /// Accepts the next incoming stream. `ErrorKind::NotConnected` means the transport is closed for good.
    async fn accept(&self) -> io::Result<(SocketAddr, BoxStream)>;
}

/// Largest datagram read from the socket; bigger ones are truncated by the kernel and rejected as malformed.
const RECV_BUFFER: usize = 65_536;

/// UDP socket plus TCP listener on the same address.
#[derive(Debug)]
pub struct SocketTransport {
    udp: UdpSocket,
    tcp: TcpListener,
}

impl SocketTransport {
    /// Binds UDP then TCP on `addr`; with port 0 the TCP listener takes the port the UDP socket got.
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let mut last_error = None;
        for _ in 0..10 {
            let udp = UdpSocket::bind(addr).await?;
            let bound = udp.local_addr()?;
            match TcpListener::bind(bound).await {
                Ok(tcp) => return Ok(Self { udp, tcp }),
                Err(e) if addr.port() == 0 => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free port")))
    }
}

#[async_trait]
impl Transport for SocketTransport {
    fn local_addr(&self) -> SocketAddr {
        self.udp.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    async fn send_to(&self, to: SocketAddr, packet: &[u8]) -> io::Result<()> {
        self.udp.send_to(packet, to).await.map(|_| ())
    }

    async fn recv_from(&self) -> io::Result<(SocketAddr, Vec<u8>)> {
        let mut buf = vec![0u8; RECV_BUFFER];
        let (n, from) = self.udp.recv_from(&mut buf).await?;
        buf.truncate(n);
        Ok((from, buf))
    }

    async fn connect(&self, to: SocketAddr) -> io::Result<BoxStream> {
        let stream = TcpStream::connect(to).await?;
        stream.set_nodelay(true)?;
        Ok(Box::new(stream))
    }

    async fn accept(&self) -> io::Result<(SocketAddr, BoxStream)> {
        let (stream, from) = self.tcp.accept().await?;
        stream.set_nodelay(true)?;
        Ok((from, Box::new(stream)))
    }
}

/// The address to advertise when bound to an unspecified IP: the local IP the kernel would use to reach the
/// first peer, else a private-network route (upstream picks the first private IP).
pub(crate) fn guess_advertise_ip(peers: &[SocketAddr]) -> Option<std::net::IpAddr> {
    let probe_targets = peers.iter().copied().chain(["10.255.255.255:9".parse().ok()].into_iter().flatten());
    for target in probe_targets {
        let local: SocketAddr = if target.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let Ok(socket) = std::net::UdpSocket::bind(local) else { continue };
        if socket.connect(target).is_err() {
            continue;
        }
        if let Ok(addr) = socket.local_addr() {
            if !addr.ip().is_unspecified() {
                return Some(addr.ip());
            }
        }
    }
    None
}
