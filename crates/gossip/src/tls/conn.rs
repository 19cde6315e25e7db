//! One TLS connection of the [`super::TlsTransport`]: the hello that opens it, packet frames, the budgets that
//! bound inbound connections (in total and per remote IP) and the wrapper that keeps an inbound stream's slot
//! until the stream is dropped.
//!
//! Layout (all lengths 4-byte big-endian): the client sends a hello frame
//! `len | "TGT1" | kind (0 = packets, 1 = stream) | advertised cluster address as UTF-8`, then either packet
//! frames `len | datagram` (both directions on a pooled connection) or, for a stream, whatever `sync` writes.

use std::{
    collections::HashMap,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Identifies tocsin's TLS gossip and its version, so a stray client (or a future format) fails clearly.
const MAGIC: &[u8; 4] = b"TGT1";
/// A hello is the magic, one kind byte and an address: far below this.
const MAX_HELLO: usize = 128;

/// What a connection carries after its hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Length-prefixed datagrams (membership, small deltas, digests).
    Packets,
    /// One state-sync stream (push-pull or an oversized delta), framed by `sync`.
    Stream,
}

/// The first frame of every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hello {
    pub(crate) kind: Kind,
    /// The sender's cluster address as it advertises it (its IP may be unspecified; see [`Hello::peer`]).
    pub(crate) addr: SocketAddr,
}

impl Hello {
    /// The peer's cluster address: the advertised one, with the connection's IP when it advertised an
    /// unspecified IP (a node bound to 0.0.0.0 without `--cluster.advertise-address`).
    pub(crate) fn peer(&self, remote: SocketAddr) -> SocketAddr {
        if self.addr.ip().is_unspecified() {
            SocketAddr::new(remote.ip(), self.addr.port())
        } else {
            self.addr
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let addr = self.addr.to_string();
        let mut body = Vec::with_capacity(MAGIC.len() + 1 + addr.len());
        body.extend_from_slice(MAGIC);
        body.push(match self.kind {
            Kind::Packets => 0,
            Kind::Stream => 1,
        });
        body.extend_from_slice(addr.as_bytes());
        frame(&body)
    }

    fn decode(body: &[u8]) -> Result<Self, FrameError> {
        let rest = body.strip_prefix(MAGIC).ok_or(FrameError::Malformed("not a tocsin gossip hello"))?;
        let (kind, addr) = rest.split_first().ok_or(FrameError::Malformed("hello without kind"))?;
        let kind = match kind {
            0 => Kind::Packets,
            1 => Kind::Stream,
            _ => return Err(FrameError::Malformed("unknown connection kind")),
        };
        let addr = std::str::from_utf8(addr)
            .ok()
            .and_then(|a| a.parse().ok())
            .ok_or(FrameError::Malformed("hello address is not ip:port"))?;
        Ok(Self { kind, addr })
    }
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    Oversized { size: usize, max: usize },
    #[error("malformed: {0}")]
    Malformed(&'static str),
}

/// `len | body` in one buffer, so a packet goes out in one TLS record where it fits.
pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
    // Callers bound bodies far below 4 GiB (datagrams, hellos); saturate rather than wrap if one ever is not.
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Reads one frame of at most `max` bytes; `Ok(None)` is a clean end of stream between frames.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        let n = reader.read(&mut len[got..]).await?;
        if n == 0 {
            return if got == 0 { Ok(None) } else { Err(FrameError::Malformed("truncated length")) };
        }
        got += n;
    }
    let size = u32::from_be_bytes(len) as usize;
    if size > max {
        return Err(FrameError::Oversized { size, max });
    }
    let mut body = vec![0u8; size];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// Reads and checks the hello frame.
pub(crate) async fn read_hello<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Hello, FrameError> {
    let body = read_frame(reader, MAX_HELLO).await?.ok_or(FrameError::Malformed("closed before hello"))?;
    Hello::decode(&body)
}

/// Writes one already framed buffer and flushes it through TLS.
pub(crate) async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, framed: &[u8]) -> io::Result<()> {
    writer.write_all(framed).await?;
    writer.flush().await
}

/// Connections counted in total and per remote host, both capped: one host cannot take the whole budget.
#[derive(Debug)]
pub(crate) struct Budget {
    max_total: usize,
    max_per_host: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_host: HashMap<IpAddr, usize>,
}

/// Why [`Budget::try_take`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Total,
    Host,
}

impl Full {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Full::Total => "too many connections",
            Full::Host => "too many connections from this host",
        }
    }
}

/// The key an address is counted under: the IPv4 address (also when IPv4-mapped), or the IPv6 /64, since one
/// IPv6 host usually owns a whole /64.
fn host_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

impl Budget {
    pub(crate) fn new(max_total: usize, max_per_host: usize) -> Arc<Self> {
        Arc::new(Self { max_total, max_per_host, counts: Mutex::new(Counts::default()) })
    }

    /// Takes one slot for a connection from `ip`, released when the [`Slot`] is dropped.
    pub(crate) fn try_take(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let host = host_key(ip);
        let mut counts = self.counts.lock();
        if counts.total >= self.max_total {
            return Err(Full::Total);
        }
        let n = counts.per_host.entry(host).or_insert(0);
        if *n >= self.max_per_host {
            return Err(Full::Host);
        }
        *n += 1;
        counts.total += 1;
        Ok(Slot { budget: self.clone(), host })
    }

    /// Slots taken now.
    pub(crate) fn taken(&self) -> usize {
        self.counts.lock().total
    }
}

/// One connection's place in a [`Budget`].
#[derive(Debug)]
pub(crate) struct Slot {
    budget: Arc<Budget>,
    host: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.budget.counts.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_host.get_mut(&self.host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_host.remove(&self.host);
            }
        }
    }
}

/// An accepted stream that holds its inbound-connection slot until the sync code drops it.
pub(crate) struct Guarded<S> {
    pub(crate) inner: S,
    pub(crate) _slot: Slot,
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hello_round_trip_and_rejects() {
        let hello = Hello { kind: Kind::Stream, addr: "10.0.0.1:9094".parse().unwrap() };
        let bytes = hello.encode();
        assert_eq!(read_hello(&mut bytes.as_slice()).await.unwrap(), hello);

        let unspecified = Hello { kind: Kind::Packets, addr: "0.0.0.0:9094".parse().unwrap() };
        assert_eq!(unspecified.peer("10.1.2.3:40000".parse().unwrap()), "10.1.2.3:9094".parse().unwrap());
        assert_eq!(hello.peer("10.1.2.3:40000".parse().unwrap()), hello.addr);

        for (name, body) in [
            ("magic", frame(b"HTTP/1.1")),
            ("kind", frame(b"TGT1\x07127.0.0.1:1")),
            ("addr", frame(b"TGT1\x00nowhere")),
            ("empty", frame(b"TGT1")),
            ("too big", frame(&[b'x'; 200])),
            ("truncated", vec![0, 0]),
        ] {
            assert!(read_hello(&mut body.as_slice()).await.is_err(), "{name}");
        }
    }

    #[tokio::test]
    async fn frames_are_bounded() {
        let mut two = frame(b"one");
        two.extend(frame(b"two"));
        let mut reader = two.as_slice();
        assert_eq!(read_frame(&mut reader, 8).await.unwrap().unwrap(), b"one");
        assert_eq!(read_frame(&mut reader, 8).await.unwrap().unwrap(), b"two");
        assert!(read_frame(&mut reader, 8).await.unwrap().is_none());
        let big = frame(&[0; 9]);
        assert!(matches!(
            read_frame(&mut big.as_slice(), 8).await,
            Err(FrameError::Oversized { size: 9, max: 8 })
        ));
        let short = [&frame(b"abc")[..5]].concat();
        assert!(read_frame(&mut short.as_slice(), 8).await.is_err());
    }

    #[test]
    fn budget_caps_total_and_per_host() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let budget = Budget::new(4, 2);
        let a1 = budget.try_take(ip("10.0.0.1")).unwrap();
        // The IPv4-mapped form is the same host.
        let a2 = budget.try_take(ip("::ffff:10.0.0.1")).unwrap();
        assert_eq!(budget.try_take(ip("10.0.0.1")).unwrap_err(), Full::Host);
        // One IPv6 /64 is one host.
        let _b1 = budget.try_take(ip("2001:db8::1")).unwrap();
        let _b2 = budget.try_take(ip("2001:db8::ffff:2")).unwrap();
        assert_eq!(budget.try_take(ip("2001:db8::3")).unwrap_err(), Full::Total);
        assert_eq!(budget.taken(), 4);
        drop(a1);
        let _c = budget.try_take(ip("10.0.0.9")).expect("released on drop");
        assert_eq!(budget.try_take(ip("2001:db8:0:1::1")).unwrap_err(), Full::Total);
        drop(a2);
        assert_eq!(budget.taken(), 3);
        assert!(!budget.counts.lock().per_host.contains_key(&ip("10.0.0.1")), "empty hosts are forgotten");
    }
}
