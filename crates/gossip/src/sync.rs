//! State sync over streams: length-prefixed frames for full-state push-pull and for deltas too large for one
//! datagram (upstream: memberlist's TCP push/pull and `SendReliable`).

use std::{net::SocketAddr, sync::Arc};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::Instant,
};

use crate::{
    context::Ctx,
    metrics::{KeyLabel, FULL_STATE, UPDATE},
    transport::BoxStream,
    wire::{Body, Channel, Delta, DropReason, Known, Part},
};

/// Why a stream exchange failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out")]
    Timeout,
    #[error("frame rejected: {}", .0.as_str())]
    Rejected(DropReason),
}

/// Writes one frame: a 4-byte big-endian length then the envelope.
async fn write_frame(stream: &mut BoxStream, packet: &[u8]) -> Result<(), SyncError> {
    let len = u32::try_from(packet.len()).map_err(|_| SyncError::Rejected(DropReason::Oversized))?;
    stream.write_all(&len.to_be_bytes()).await?;
    stream.write_all(packet).await?;
    stream.flush().await?;
    Ok(())
}

/// Capacity reserved up front for a frame; larger frames grow as their bytes arrive.
const INITIAL_FRAME_BUFFER: usize = 64 * 1024;

/// Reads one frame. `Ok(None)` is a clean end of stream before any byte of a new frame.
async fn read_frame(stream: &mut BoxStream, max: usize) -> Result<Option<Vec<u8>>, SyncError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        let n = stream.read(&mut len[got..]).await?;
        if n == 0 {
            return if got == 0 { Ok(None) } else { Err(SyncError::Rejected(DropReason::Malformed)) };
        }
        got += n;
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(SyncError::Rejected(DropReason::Oversized));
    }
    // Grow with the bytes that actually arrive: a peer announcing `max` and then stalling (or many doing so at
    // once) must not make us reserve `max` bytes each.
    let mut buf = Vec::with_capacity(len.min(INITIAL_FRAME_BUFFER));
    let read = (&mut *stream).take(len as u64).read_to_end(&mut buf).await;
    if read.is_err() || buf.len() != len {
        return Err(SyncError::Rejected(DropReason::Malformed));
    }
    Ok(Some(buf))
}

/// Every registered state, for push-pull.
pub(crate) fn full_state(ctx: &Ctx) -> Vec<Part> {
    ctx.states.values().map(|s| Part { key: s.key().to_owned(), data: s.full_state() }).collect()
}

/// Merges one part into its registered state; false (counted) if the state is unknown or refused it.
fn merge_part(ctx: &Ctx, part: &Part) -> bool {
    let Some(state) = ctx.states.get(part.key.as_str()) else {
        ctx.metrics.drop_message(DropReason::Merge);
        tracing::debug!(key = %part.key, "dropping part for unknown state");
        return false;
    };
    match state.merge(&part.data) {
        Ok(_) => true,
        Err(err) => {
            ctx.metrics.drop_message(DropReason::Merge);
            tracing::debug!(key = %part.key, %err, "merge failed");
            false
        }
    }
}

/// Merges full states into the registered states.
pub(crate) fn merge_parts(ctx: &Ctx, parts: &[Part]) {
    for part in parts {
        merge_part(ctx, part);
    }
}

/// Merges the deltas not seen before and records them as seen (and kept for repair); returns how many were new.
/// A delta is recorded only after its merge, so a push-pull's knowledge never runs ahead of its state.
pub(crate) fn merge_deltas(ctx: &Ctx, deltas: Vec<Delta>) -> usize {
    let mut fresh = 0;
    for delta in deltas {
        if ctx.log.lock().seen(delta.origin, delta.seq) {
            continue;
        }
        if merge_part(ctx, &delta.part) && ctx.log.lock().record(&delta, Instant::now()) {
            fresh += 1;
        }
    }
    fresh
}

/// What this node knows and its full state, in that order (see [`Body::PushPull`]).
fn known_and_state(ctx: &Ctx) -> (Vec<Known>, Vec<Part>) {
    let known = ctx.log.lock().all_known();
    (known, full_state(ctx))
}

/// Merges a peer's full state, then counts what it knew as seen.
fn merge_full(ctx: &Ctx, parts: &[Part], known: &[Known]) {
    merge_parts(ctx, parts);
    ctx.log.lock().absorb(known, Instant::now());
}

fn body_size(parts: &[Part]) -> usize {
    parts.iter().map(|p| p.data.len()).sum()
}

/// Push-pull with one peer: send our full state, merge theirs (upstream: on join and every push-pull interval).
pub(crate) async fn push_pull(ctx: Arc<Ctx>, to: SocketAddr) -> Result<(), SyncError> {
    let exchange = async {
        let mut stream = ctx.transport.connect(to).await?;
        let (known, parts) = known_and_state(&ctx);
        let size = body_size(&parts);
        let packet = ctx.wire.encode(Channel::Stream, Body::PushPull { parts, reply: true, known });
        write_frame(&mut stream, &packet).await?;
        ctx.metrics.count_sent(&FULL_STATE, size);
        let frame = read_frame(&mut stream, ctx.config.max_frame_size)
            .await?
            .ok_or(SyncError::Rejected(DropReason::Malformed))?;
        let incoming = ctx.wire.decode(Channel::Stream, &frame).map_err(SyncError::Rejected)?;
        match incoming.body {
            Body::PushPull { parts, known, .. } => {
                ctx.metrics.count_received(&FULL_STATE, body_size(&parts));
                merge_full(&ctx, &parts, &known);
                Ok(())
            }
            _ => Err(SyncError::Rejected(DropReason::Malformed)),
        }
    };
    let result = match tokio::time::timeout(ctx.config.tcp_timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(SyncError::Timeout),
    };
    if let Err(SyncError::Rejected(reason)) = &result {
        ctx.metrics.drop_message(*reason);
    }
    result
}

/// Sends deltas reliably to one peer (upstream: oversized gossip messages).
pub(crate) async fn send_reliable(
    ctx: Arc<Ctx>,
    to: SocketAddr,
    deltas: Vec<Delta>,
) -> Result<(), SyncError> {
    let keys: Vec<String> = deltas.iter().map(|d| d.part.key.clone()).collect();
    let size = deltas.iter().map(|d| d.part.data.len()).sum();
    let exchange = async {
        let mut stream = ctx.transport.connect(to).await?;
        let packet = ctx.wire.encode(Channel::Stream, Body::Deltas(deltas));
        write_frame(&mut stream, &packet).await?;
        stream.shutdown().await?;
        Ok::<(), SyncError>(())
    };
    let result = match tokio::time::timeout(ctx.config.tcp_timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(SyncError::Timeout),
    };
    for key in keys {
        let label = KeyLabel { key };
        match &result {
            Ok(()) => ctx.metrics.oversized_sent.get_or_create(&label).inc(),
            Err(_) => ctx.metrics.oversized_failed.get_or_create(&label).inc(),
        };
    }
    if result.is_ok() {
        ctx.metrics.count_sent(&UPDATE, size);
    }
    result
}

/// Serves one incoming stream: frames until end of stream; a push-pull request is answered with our state.
pub(crate) async fn serve_stream(ctx: Arc<Ctx>, from: SocketAddr, mut stream: BoxStream) {
    loop {
        let frame = match tokio::time::timeout(
            ctx.config.tcp_timeout,
            read_frame(&mut stream, ctx.config.max_frame_size),
        )
        .await
        {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => return,
            Ok(Err(SyncError::Rejected(reason))) => {
                ctx.metrics.drop_message(reason);
                tracing::debug!(%from, reason = reason.as_str(), "rejected cluster frame");
                return;
            }
            Ok(Err(err)) => {
                tracing::debug!(%from, %err, "cluster stream failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%from, "cluster stream timed out");
                return;
            }
        };
        let incoming = match ctx.wire.decode(Channel::Stream, &frame) {
            Ok(incoming) => incoming,
            Err(reason) => {
                ctx.metrics.drop_message(reason);
                tracing::debug!(%from, reason = reason.as_str(), "rejected cluster frame");
                return;
            }
        };
        match incoming.body {
            Body::PushPull { parts, reply, known } => {
                ctx.metrics.count_received(&FULL_STATE, body_size(&parts));
                let mut replied = true;
                if reply {
                    let (our_known, ours) = known_and_state(&ctx);
                    let size = body_size(&ours);
                    let packet = ctx.wire.encode(
                        Channel::Stream,
                        Body::PushPull { parts: ours, reply: false, known: our_known },
                    );
                    // Bounded like the read: a peer that stops reading must not hold this task and its slot.
                    match tokio::time::timeout(ctx.config.tcp_timeout, write_frame(&mut stream, &packet))
                        .await
                    {
                        Ok(Ok(())) => ctx.metrics.count_sent(&FULL_STATE, size),
                        Ok(Err(err)) => {
                            tracing::debug!(%from, %err, "push-pull reply failed");
                            replied = false;
                        }
                        Err(_) => {
                            tracing::debug!(%from, "push-pull reply timed out");
                            replied = false;
                        }
                    }
                }
                // Their state is good even if our reply failed; after a failure the stream is done.
                merge_full(&ctx, &parts, &known);
                if !replied {
                    return;
                }
            }
            Body::Deltas(deltas) => {
                ctx.metrics.count_received(&UPDATE, deltas.iter().map(|d| d.part.data.len()).sum());
                merge_deltas(&ctx, deltas);
            }
            Body::Swim(_) | Body::Digest { .. } => {
                ctx.metrics.drop_message(DropReason::Malformed);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use parking_lot::{Mutex, RwLock};
    use prometheus_client::registry::Registry;
    use tokio::sync::{watch, Semaphore};

    use super::*;
    use crate::{
        context::{Peer, Status, View, RELIABLE_SLOTS},
        delta_log::DeltaLog,
        metrics::Metrics,
        wire::Wire,
        ClusterConfig, MemNetwork, MergeError, Replicated,
    };

    /// A state whose full state is far larger than the test pipe.
    struct Big;

    impl Replicated for Big {
        fn key(&self) -> &'static str {
            "big"
        }
        fn full_state(&self) -> Vec<u8> {
            vec![7; 1 << 20]
        }
        fn merge(&self, _: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
            Ok(Vec::new())
        }
    }

    fn ctx() -> Arc<Ctx> {
        let addr: SocketAddr = "10.0.0.1:9094".parse().unwrap();
        let config = ClusterConfig::new("node".to_owned(), addr.to_string());
        let mut states: BTreeMap<&'static str, Arc<dyn Replicated>> = BTreeMap::new();
        states.insert("big", Arc::new(Big));
        Arc::new(Ctx {
            wire: Wire::new(&config.label, &config.name, None),
            view: RwLock::new(View {
                peers: vec![Peer { name: config.name.clone(), address: addr }],
                position: 0,
            }),
            config,
            advertise: addr,
            transport: Arc::new(MemNetwork::new(1).bind(addr)),
            states,
            metrics: Metrics::register(&mut Registry::default()),
            status: watch::channel(Status::Settling).0,
            reliable_slots: Arc::new(Semaphore::new(RELIABLE_SLOTS)),
            log: Mutex::new(DeltaLog::new(1)),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn push_pull_reply_to_a_peer_that_stops_reading_times_out() {
        let ctx = ctx();
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let peer = Wire::new(&ctx.config.label, "peer", None);
        let request = peer
            .encode(Channel::Stream, Body::PushPull { parts: Vec::new(), reply: true, known: Vec::new() });
        theirs.write_all(&u32::try_from(request.len()).unwrap().to_be_bytes()).await.unwrap();
        theirs.write_all(&request).await.unwrap();
        // `theirs` is never read: the 1 MiB reply cannot be written.
        let started = Instant::now();
        let served = tokio::time::timeout(
            ctx.config.tcp_timeout * 3,
            serve_stream(ctx.clone(), "10.0.0.2:9094".parse().unwrap(), Box::new(ours)),
        )
        .await;
        assert!(served.is_ok(), "serve_stream gave up on the stalled reply");
        assert_eq!(started.elapsed(), ctx.config.tcp_timeout);
        assert_eq!(ctx.metrics.dropped_total(DropReason::Malformed), 0, "the request itself was fine");
        drop(theirs);
    }
}
