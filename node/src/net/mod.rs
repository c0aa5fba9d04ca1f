//! The transport: moves opaque, length-limited frames between member devices and reports
//! connection events. The only module that touches libp2p.
//!
//! It owns the libp2p swarm (inside one private actor task), the allow-list of member keys,
//! connection limits, the addresses it may dial and the reconnect schedule. It knows nothing of
//! automerge, redb, envelopes or the sync protocol: frames are bytes, peers are [`PublicKey`]s,
//! and no libp2p type appears in its public API.
//!
//! # Stack
//! TCP and QUIC (v1); on TCP, Noise XX for authentication and encryption and Yamux for
//! multiplexing; on QUIC, TLS 1.3 with the libp2p certificate extension. Both authenticate the
//! device's own Ed25519 key (the libp2p identity is built from the same 32-byte seed as
//! [`SecretKey`]), so a connection's peer id names a puente [`PublicKey`] one-to-one. Behaviours,
//! in the order the swarm consults them when a connection is established:
//! - `allow_block_list::Behaviour<AllowedPeers>`: **invariant: a connection from or to a key not
//!   in the member set is dropped the moment the handshake completes, before any connection
//!   handler exists**, so no substream (identify, ping, sync) is ever accepted on it and the
//!   non-member learns nothing beyond the handshake (our public key). Removing a key closes its
//!   connections at once. Denials are reported as [`NetEvent::Refused`].
//! - `connection_limits::Behaviour`: bounds handshakes in progress and established connections
//!   (see [`NetLimits`]); with the handshake timeout this is what keeps a flood of
//!   unauthenticated dials to a fixed number of sockets and Noise states.
//! - identify and ping: identify tells members each other's listen addresses (learned only from
//!   the peer about itself, bounded); ping detects a vanished peer and its connection is closed,
//!   which starts the reconnect backoff.
//! - request-response on `/puente/sync/1` with the `codec` submodule: one frame per substream, answered by a
//!   one-byte acknowledgement. Chosen over `libp2p-stream` because it is already in the
//!   dependency set, gives per-frame timeouts, bounds concurrent substreams per connection and
//!   keeps member connections' stream handling inside libp2p's handler (no stream tasks of our
//!   own to own and cancel). The acknowledgement is how [`Net::send`] bounds frames in flight per
//!   peer; delivery is still fire-and-forget (the layer above tolerates loss).
//! - mDNS, only when [`NetConfig::mdns`] is set: discovered addresses are used only for keys
//!   that are already members.
//!
//! # What is deliberately absent
//! No Kademlia or any DHT, no bootstrap nodes, no relay, no DNS resolution, no AutoNAT or UPnP:
//! the node dials only addresses the local user configured or a member reported about itself,
//! and by default (no mDNS) sends nothing to any other address.
//!
//! # Limits and backpressure
//! A frame longer than [`NetLimits::max_frame_bytes`] (at most [`MAX_FRAME_BYTES`]) is refused by
//! the codec from its length prefix, before the body is read or allocated; the sender's
//! connections are closed and [`NetEvent::Misbehaved`] is reported, while every other peer is
//! served as before. Every channel is bounded. When the event receiver is not drained, the actor
//! stops polling the swarm, so connection tasks stop reading from their sockets and senders are
//! slowed by TCP/QUIC flow control instead of frames piling up in memory. Per peer at most
//! [`NetLimits::max_frames_in_flight`] frames await acknowledgement ([`NetError::Busy`] beyond),
//! and a connection reads at most twice that many frames at once, so a member that ignores the
//! window can make one connection hold at most `2 × window × max_frame_bytes` (64 MiB with the
//! defaults), and a body is only allocated as its bytes arrive.
//!
//! Known limit: while a flood holds every pending-handshake slot (until the handshake timeout),
//! new *inbound* connections, members' included, are refused at accept; established connections
//! and our own dials to members are unaffected, and members reconnect with backoff.

mod actor;
mod codec;
mod peers;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use libp2p::identity;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::identity::{PublicKey, SecretKey};

use self::actor::{Command, NetActor};
use self::codec::WireFrame;

/// Hard ceiling on one frame's length. The sync layer sends batches bounded well below this (a
/// batch of envelopes or a partition snapshot); 8 MiB leaves room for the largest snapshot of a
/// busy partition while bounding what one substream can make a node buffer. A configured limit
/// may be lower, never higher.
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;

/// Ceiling on [`NetLimits::max_frames_in_flight`]. Each connection accepts twice the window in
/// concurrent frame substreams (ours and the peer's), so with [`MAX_FRAME_BYTES`] this bounds
/// what one connection can make a node buffer.
pub const MAX_FRAMES_IN_FLIGHT: usize = 16;

/// Capacity of the event channel to the owner. Large enough to absorb a burst of frames from
/// several peers while the owner handles one; when full, the actor stops reading from the
/// network (backpressure) rather than buffering.
const EVENT_CHANNEL_CAPACITY: usize = 256;

/// Capacity of the command channel from handles to the actor. Callers await each command's
/// reply, so this only needs to cover the number of tasks calling at once.
const COMMAND_CHANNEL_CAPACITY: usize = 64;

/// Per-node limits. Defaults suit a few dozen partner devices; tests lower the backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetLimits {
    /// Longest frame accepted or sent, in bytes; clamped to [`MAX_FRAME_BYTES`].
    pub max_frame_bytes: usize,
    /// Frames sent to one peer and not yet acknowledged; [`Net::send`] returns
    /// [`NetError::Busy`] beyond this. Clamped to `1..=`[`MAX_FRAMES_IN_FLIGHT`]; all nodes of a
    /// network should use the same value, since a peer accepts at most twice its own window of
    /// concurrent frames per connection and refuses (loses) the rest.
    pub max_frames_in_flight: usize,
    /// Incoming connections still in their handshake. Bounds what unauthenticated dials can
    /// hold (a socket and a Noise state each, for at most `handshake_timeout`).
    pub max_pending_incoming: u32,
    /// Outgoing connections still in their handshake (we only ever dial members).
    pub max_pending_outgoing: u32,
    /// Established connections in total (all of them with members).
    pub max_established: u32,
    /// Established connections with one peer: two allows a simultaneous dial from both sides.
    pub max_established_per_peer: u32,
    /// Time allowed for a connection's transport handshake (TCP connect, Noise, Yamux).
    pub handshake_timeout: Duration,
    /// Time allowed for one frame to be sent and acknowledged, or received.
    pub frame_timeout: Duration,
    /// First reconnect delay after a lost connection or a failed dial.
    pub initial_backoff: Duration,
    /// Longest reconnect delay; the delay doubles up to this.
    pub max_backoff: Duration,
}

impl Default for NetLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: MAX_FRAME_BYTES,
            // Enough to keep a link busy with sync batches (the sync layer's own flow control
            // keeps fewer in flight), while a member that ignores it can make one connection
            // buffer at most 2 × 4 × 8 MiB = 64 MiB.
            max_frames_in_flight: 4,
            // A few dozen members reconnecting at once fit comfortably; a flood beyond it is
            // refused at accept, costing one accept and one close each.
            max_pending_incoming: 64,
            max_pending_outgoing: 64,
            max_established: 256,
            max_established_per_peer: 2,
            handshake_timeout: Duration::from_secs(5),
            // An 8 MiB frame over a 2 Mbit/s link takes about 34 s.
            frame_timeout: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Everything [`Net::spawn`] needs.
#[derive(Debug)]
pub struct NetConfig {
    /// The device key; the transport identity is derived from it.
    pub key: SecretKey,
    /// Multiaddresses to listen on, e.g. `/ip4/0.0.0.0/tcp/4001` or
    /// `/ip4/0.0.0.0/udp/4001/quic-v1`; port 0 picks a free port (see [`Net::listen_addrs`]).
    /// Empty: dial out only.
    pub listen: Vec<String>,
    /// Member device keys: the only keys that may connect, in either direction.
    pub allowed: Vec<PublicKey>,
    /// Addresses to dial members at.
    pub known_addresses: Vec<(PublicKey, String)>,
    /// Discover members on the local network with mDNS (announces this node there too).
    pub mdns: bool,
    /// Limits; [`NetLimits::default`] unless tuning.
    pub limits: NetLimits,
}

/// Why a peer's frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// The length prefix claimed more than the limit; nothing after it was read.
    FrameTooLarge {
        /// Bytes the prefix claimed.
        claimed: u64,
        /// The limit in force.
        limit: usize,
    },
    /// The stream ended before the length prefix or the body was complete.
    TruncatedFrame,
    /// Bytes followed the frame on its stream.
    TrailingBytes,
    /// The frame's encoding byte is unknown, or its compressed body is not valid deflate.
    BadEncoding,
    /// The compressed body inflates beyond the frame limit (a decompression bomb); inflating
    /// stopped at the limit.
    InflatesTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooLarge { claimed, limit } => {
                write!(f, "frame of {claimed} bytes exceeds the limit of {limit}")
            }
            Self::TruncatedFrame => f.write_str("truncated frame"),
            Self::TrailingBytes => f.write_str("bytes after the end of a frame"),
            Self::BadEncoding => {
                f.write_str("frame encoding is unknown or its deflate body is invalid")
            }
            Self::InflatesTooLarge { limit } => {
                write!(
                    f,
                    "compressed frame inflates beyond the limit of {limit} bytes"
                )
            }
        }
    }
}

/// What the transport reports to its owner.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetEvent {
    /// The first connection to a member is up.
    Connected(PublicKey),
    /// The last connection to a member is gone.
    Disconnected(PublicKey),
    /// A frame from a member.
    Frame {
        /// The sender, authenticated by the transport handshake.
        from: PublicKey,
        /// The frame's contents, at most the frame limit.
        bytes: Vec<u8>,
    },
    /// A non-member completed a handshake and was disconnected. Informational: dropped rather
    /// than queued when the event channel is full, so a flood cannot crowd out members' frames.
    Refused {
        /// The key it authenticated with.
        peer: PublicKey,
    },
    /// A member broke the framing rules; its connections were closed.
    Misbehaved {
        /// The member.
        peer: PublicKey,
        /// What it did.
        reason: Misbehaviour,
    },
    /// A member told us (identify) or mDNS showed addresses for it that we did not know.
    /// Informational (dropped when the channel is full), so the owner may keep them.
    Learned {
        /// The member.
        peer: PublicKey,
        /// The new addresses, checked as dialable.
        addresses: Vec<String>,
    },
}

impl fmt::Debug for NetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Frame contents are never printed, only their size.
        match self {
            Self::Connected(peer) => f.debug_tuple("Connected").field(peer).finish(),
            Self::Disconnected(peer) => f.debug_tuple("Disconnected").field(peer).finish(),
            Self::Frame { from, bytes } => f
                .debug_struct("Frame")
                .field("from", from)
                .field("len", &bytes.len())
                .finish(),
            Self::Refused { peer } => f.debug_struct("Refused").field("peer", peer).finish(),
            Self::Misbehaved { peer, reason } => f
                .debug_struct("Misbehaved")
                .field("peer", peer)
                .field("reason", reason)
                .finish(),
            Self::Learned { peer, addresses } => f
                .debug_struct("Learned")
                .field("peer", peer)
                .field("addresses", &addresses.len())
                .finish(),
        }
    }
}

/// Errors from the transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The network task has stopped (shut down, or every handle was dropped).
    #[error("the network task has stopped")]
    Closed,
    /// A multiaddress could not be parsed or is of a kind puente does not use.
    #[error("`{addr}` is not a usable address: {reason}")]
    InvalidAddress {
        /// The text given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Listening on an address failed.
    #[error("cannot listen on `{addr}`")]
    Listen {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Setting up the transport failed.
    #[error("cannot set up the {what}")]
    Setup {
        /// Which part.
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The key is not a member (or not a valid Ed25519 key).
    #[error("peer {peer} is not a member")]
    NotAllowed {
        /// The key.
        peer: PublicKey,
    },
    /// No connection to the peer is up.
    #[error("peer {peer} is not connected")]
    NotConnected {
        /// The key.
        peer: PublicKey,
    },
    /// No address is known for the peer.
    #[error("no address is known for peer {peer}; add one first")]
    NoAddress {
        /// The key.
        peer: PublicKey,
    },
    /// Too many frames to this peer await acknowledgement; try again later.
    #[error("too many frames to peer {peer} are in flight")]
    Busy {
        /// The key.
        peer: PublicKey,
    },
    /// The frame is longer than the limit.
    #[error("frame of {len} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// Its length.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
}

/// Stops the actor if every handle is gone before it noticed; the task never outlives its owner.
#[derive(Debug)]
struct ActorTask(tokio::task::JoinHandle<()>);

impl Drop for ActorTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A cheap, cloneable handle to the transport. The actor stops on [`Net::shutdown`] or when the
/// last handle is dropped; afterwards every call returns [`NetError::Closed`].
#[derive(Debug, Clone)]
pub struct Net {
    commands: mpsc::Sender<Command>,
    local: PublicKey,
    max_frame_bytes: usize,
    counters: Arc<codec::WireCounters>,
    _task: Arc<ActorTask>,
}

impl Net {
    /// Starts the transport: listens on every configured address, returning once each listener
    /// has reported a bound address (so [`Net::listen_addrs`] resolves port 0 at once; a
    /// wildcard listener may report further interfaces shortly after), then dials every member
    /// with a known address.
    pub async fn spawn(config: NetConfig) -> Result<(Net, mpsc::Receiver<NetEvent>), NetError> {
        let local = config.key.public();
        let max_frame_bytes = config.limits.max_frame_bytes.min(MAX_FRAME_BYTES);
        let listen = config
            .listen
            .iter()
            .map(|text| parse_address(text, None).map(|addr| (text.clone(), addr)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut known = Vec::with_capacity(config.known_addresses.len());
        for (key, text) in &config.known_addresses {
            // A key that is not a valid Ed25519 point can never connect: skip it.
            if let Some(peer) = peer_id(key) {
                known.push((peer, parse_address(text, Some(&peer))?));
            }
        }
        let allowed: Vec<PeerId> = config.allowed.iter().filter_map(peer_id).collect();

        let (event_tx, event_rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
        let counters = Arc::new(codec::WireCounters::default());
        let mut actor = NetActor::new(&config, counters.clone(), allowed, known, event_tx)?;
        actor.listen(listen).await?;
        let task = tokio::spawn(actor.run(command_rx));
        let net = Net {
            counters,
            commands: command_tx,
            local,
            max_frame_bytes,
            _task: Arc::new(ActorTask(task)),
        };
        Ok((net, event_rx))
    }

    /// This device's key.
    pub fn local_key(&self) -> PublicKey {
        self.local
    }

    /// Bytes of sync frames written and read on the wire since start (after compression,
    /// with length prefixes), as `(sent, received)`.
    pub fn wire_bytes(&self) -> (u64, u64) {
        (
            self.counters
                .sent
                .load(std::sync::atomic::Ordering::Relaxed),
            self.counters
                .received
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Queues `frame` for `peer` on a connection that is up. Returns once it is handed to the
    /// connection; delivery is not confirmed to the caller (the layer above tolerates loss).
    pub async fn send(&self, peer: PublicKey, frame: Vec<u8>) -> Result<(), NetError> {
        if frame.len() > self.max_frame_bytes {
            return Err(NetError::FrameTooLarge {
                len: frame.len(),
                limit: self.max_frame_bytes,
            });
        }
        self.send_wire(peer, WireFrame::Data(frame)).await
    }

    /// Test only: sends bytes verbatim as a frame, to forge framing a correct sender never would.
    #[cfg(test)]
    pub(crate) async fn send_raw(&self, peer: PublicKey, bytes: Vec<u8>) -> Result<(), NetError> {
        self.send_wire(peer, WireFrame::Raw(bytes)).await
    }

    async fn send_wire(&self, key: PublicKey, frame: WireFrame) -> Result<(), NetError> {
        let peer = peer_id(&key).ok_or(NetError::NotAllowed { peer: key })?;
        self.request(|reply| Command::Send {
            key,
            peer,
            frame,
            reply,
        })
        .await?
    }

    /// Replaces the member set. A removed key's connections are closed at once and it is refused
    /// from then on; an added key with a known address is dialled.
    pub async fn set_allowed(&self, peers: Vec<PublicKey>) -> Result<(), NetError> {
        let peers = peers.iter().filter_map(peer_id).collect();
        self.request(|reply| Command::SetAllowed { peers, reply })
            .await
    }

    /// Closes every connection to `peer` now (a session that broke the protocol); the peer
    /// stays a member and may reconnect.
    pub async fn disconnect(&self, peer: PublicKey) -> Result<(), NetError> {
        let id = peer_id(&peer).ok_or(NetError::NotAllowed { peer })?;
        self.request(|reply| Command::Disconnect { peer: id, reply })
            .await
    }

    /// Records an address for `peer` (e.g. after it moved). If the peer is a member and not
    /// connected, it is dialled at once.
    pub async fn add_address(&self, peer: PublicKey, addr: &str) -> Result<(), NetError> {
        let id = peer_id(&peer).ok_or(NetError::NotAllowed { peer })?;
        let addr = parse_address(addr, Some(&id))?;
        self.request(|reply| Command::AddAddress {
            peer: id,
            addr,
            reply,
        })
        .await
    }

    /// Dials a member now, resetting its backoff. The outcome arrives as an event.
    pub async fn dial(&self, peer: PublicKey) -> Result<(), NetError> {
        let id = peer_id(&peer).ok_or(NetError::NotAllowed { peer })?;
        self.request(|reply| Command::Dial {
            key: peer,
            peer: id,
            reply,
        })
        .await?
    }

    /// The addresses actually bound (port 0 resolved; `0.0.0.0` expanded per interface).
    pub async fn listen_addrs(&self) -> Result<Vec<String>, NetError> {
        let addrs = self.request(|reply| Command::ListenAddrs { reply }).await?;
        Ok(addrs.iter().map(Multiaddr::to_string).collect())
    }

    /// Members with at least one connection up.
    pub async fn connected(&self) -> Result<Vec<PublicKey>, NetError> {
        let peers = self.request(|reply| Command::Connected { reply }).await?;
        Ok(peers.iter().filter_map(public_key).collect())
    }

    /// Closes every connection and listener and stops the actor. Idempotent: once the actor has
    /// stopped this returns at once.
    pub async fn shutdown(&self) {
        // `Closed` only means it has already stopped, which is what was asked for.
        let _ = self.request(|reply| Command::Shutdown { reply }).await;
    }

    async fn request<R>(
        &self,
        command: impl FnOnce(oneshot::Sender<R>) -> Command,
    ) -> Result<R, NetError> {
        let (reply, response) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| NetError::Closed)?;
        response.await.map_err(|_| NetError::Closed)
    }
}

/// The libp2p peer id of a puente key, or `None` if the bytes are not an Ed25519 point.
fn peer_id(key: &PublicKey) -> Option<PeerId> {
    let ed25519 = identity::ed25519::PublicKey::try_from_bytes(key.as_bytes()).ok()?;
    Some(identity::PublicKey::from(ed25519).to_peer_id())
}

/// Multihash code of an inlined ("identity") peer id, which is what Ed25519 keys produce.
const IDENTITY_MULTIHASH_CODE: u64 = 0;

/// The puente key behind a peer id, or `None` if it is not an inlined Ed25519 key.
fn public_key(peer: &PeerId) -> Option<PublicKey> {
    let multihash: &libp2p::multihash::Multihash<64> = peer.as_ref();
    if multihash.code() != IDENTITY_MULTIHASH_CODE {
        return None;
    }
    let key = identity::PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    let ed25519 = key.try_into_ed25519().ok()?;
    Some(PublicKey::from_bytes(ed25519.to_bytes()))
}

/// Checks that `text` is an address the transport can dial or listen on (IPv4/IPv6 with TCP, or
/// UDP + QUIC v1; no DNS names), for configuration typed by people; returns it normalised.
pub fn validate_address(text: &str) -> Result<String, NetError> {
    parse_address(text.trim(), None).map(|a| a.to_string())
}

/// Parses and checks an address: IPv4/IPv6 with TCP or UDP + QUIC v1, optionally ending in
/// `/p2p/<id>` (which must be `expected`'s when given; it is stripped).
fn parse_address(text: &str, expected: Option<&PeerId>) -> Result<Multiaddr, NetError> {
    let invalid = |reason: &str| NetError::InvalidAddress {
        addr: text.chars().take(200).collect(),
        reason: reason.to_owned(),
    };
    let addr: Multiaddr = text.parse().map_err(|e| invalid(&format!("{e}")))?;
    check_address(addr, expected).map_err(invalid)
}

/// See [`parse_address`]; returns the address without its `/p2p` suffix.
fn check_address(
    mut addr: Multiaddr,
    expected: Option<&PeerId>,
) -> Result<Multiaddr, &'static str> {
    if let Some(Protocol::P2p(id)) = addr.iter().last() {
        if expected.is_some_and(|expected| *expected != id) {
            return Err("it names a different peer");
        }
        addr.pop();
    }
    let parts: Vec<Protocol<'_>> = addr.iter().collect();
    match parts.as_slice() {
        [Protocol::Ip4(_) | Protocol::Ip6(_), Protocol::Tcp(_)]
        | [
            Protocol::Ip4(_) | Protocol::Ip6(_),
            Protocol::Udp(_),
            Protocol::QuicV1,
        ] => Ok(addr),
        _ => Err("expected /ip4 or /ip6 with /tcp/PORT or /udp/PORT/quic-v1 (no DNS names)"),
    }
}
