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
mod overlay;
mod peers;
mod relay_server;
#[cfg(test)]
mod tests;

pub use relay_server::{
    RelayAccess, RelayCounters, RelayLimits, RelayServer, RelayServerConfig, RelayServerEvent,
    RequestId,
};

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
    /// Established connections with one peer: a relayed one, a direct one from a hole punch
    /// and a simultaneous dial from both sides.
    pub max_established_per_peer: u32,
    /// Time allowed for a connection's transport handshake (TCP connect, Noise, Yamux).
    pub handshake_timeout: Duration,
    /// Time allowed for one frame to be sent and acknowledged, or received.
    pub frame_timeout: Duration,
    /// First reconnect delay after a lost connection or a failed dial.
    pub initial_backoff: Duration,
    /// Longest reconnect delay; the delay doubles up to this.
    pub max_backoff: Duration,
    /// Longest reconnect delay during the first [`NetLimits::fast_retries`] tries after a
    /// connection was lost: a partner whose path comes back (a router rebooted, a cable
    /// plugged in again) is redialled within seconds instead of after a long backoff.
    pub fast_retry_backoff: Duration,
    /// Tries made with at most [`NetLimits::fast_retry_backoff`] between them before the
    /// delay grows to [`NetLimits::max_backoff`].
    pub fast_retries: u32,
    /// How often each connection is checked for life (a ping on its own substream).
    pub ping_interval: Duration,
    /// A ping not answered within this closes the connection: a path that died silently
    /// (packets dropped, a NAT mapping expired, a laptop lid closed) is noticed within
    /// `ping_interval + ping_timeout` instead of after TCP's retransmission timeout.
    pub ping_timeout: Duration,
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
            // A relayed connection, the direct one a hole punch makes, and a simultaneous dial.
            max_established_per_peer: 3,
            handshake_timeout: Duration::from_secs(5),
            // An 8 MiB frame over a 2 Mbit/s link takes about 34 s.
            frame_timeout: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            // With the 5 s handshake timeout, a dial every 2 s at most: a path that returns is
            // used within about 2 s; thirty tries cover the first few minutes of an outage.
            fast_retry_backoff: Duration::from_secs(2),
            fast_retries: 30,
            // Dead connections are closed within 2 + 5 = 7 s (the goal is 10 s). A ping is a
            // 32-byte round trip, about 1 KiB a minute per connection. The timeout leaves room
            // for a ping queued behind a sync batch on a slow link.
            ping_interval: Duration::from_secs(2),
            ping_timeout: Duration::from_secs(5),
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
    /// Keys that may connect but are never dialled (invitation keys: the joiner dials).
    pub accept_only: Vec<PublicKey>,
    /// Addresses to dial members at.
    pub known_addresses: Vec<(PublicKey, String)>,
    /// Discover members on the local network with mDNS (announces this node there too).
    pub mdns: bool,
    /// The relays the network chose: this node keeps a reservation on each (so members can
    /// reach it through them) and dials members through them when no direct path works.
    pub relays: Vec<RelayConfig>,
    /// Limits; [`NetLimits::default`] unless tuning.
    pub limits: NetLimits,
}

/// A relay the network uses: its transport key and the addresses it listens on (without
/// `/p2p/`), e.g. `/ip4/203.0.113.10/tcp/4738`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// The relay's Ed25519 key (its libp2p identity).
    pub key: PublicKey,
    /// Where it listens.
    pub addresses: Vec<String>,
}

/// How a member is reached right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathKind {
    /// At least one connection without a relay in between.
    Direct,
    /// Only through this relay (a circuit).
    Relayed {
        /// The relay's key.
        relay: PublicKey,
    },
}

/// One relay as the transport sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayStatus {
    /// The relay's key.
    pub key: PublicKey,
    /// A connection to it is up.
    pub connected: bool,
    /// It holds a reservation for this node: members can reach us through it.
    pub reserved: bool,
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
    /// How a connected member is reached changed (a first connection, a hole punch that made
    /// a relayed connection direct, or the direct one lost while a relayed one stays).
    PathChanged {
        /// The member.
        peer: PublicKey,
        /// How it is reached now.
        path: PathKind,
    },
    /// A relay accepted this node's reservation: members can reach it through that relay.
    RelayReserved(PublicKey),
    /// The connection to a relay was lost (its reservation with it); it is redialled.
    RelayLost(PublicKey),
    /// A relay closed the connection before accepting a reservation: it does not let this
    /// device in (no member of a network it serves, or revoked). It is redialled with backoff.
    RelayRefused(PublicKey),
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
            Self::PathChanged { peer, path } => f
                .debug_struct("PathChanged")
                .field("peer", peer)
                .field("path", path)
                .finish(),
            Self::RelayReserved(relay) => f.debug_tuple("RelayReserved").field(relay).finish(),
            Self::RelayLost(relay) => f.debug_tuple("RelayLost").field(relay).finish(),
            Self::RelayRefused(relay) => f.debug_tuple("RelayRefused").field(relay).finish(),
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
    /// The key is not a relay this node uses.
    #[error("{relay} is not a relay this node uses")]
    NotARelay {
        /// The key.
        relay: PublicKey,
    },
    /// A relay did not answer a request: it is unreachable, refused the stream, or timed out.
    #[error("the relay {relay} did not answer: {reason}")]
    RelayUnanswered {
        /// The relay.
        relay: PublicKey,
        /// What happened.
        reason: String,
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

/// Refuses `addr` when another socket already listens on its port. libp2p's TCP transport
/// binds its listeners with `SO_REUSEPORT` (hole punching dials out from the listening port),
/// and Linux lets a second process of the same user share such a port: two nodes would both
/// "listen" and split one port's connections between them. A plain bind (`SO_REUSEADDR` only,
/// as the standard library binds) fails when anything listens there, so one is tried and
/// dropped before the transport binds. Port 0 (any free port) is never taken.
pub(crate) fn check_port_free(addr: &Multiaddr) -> std::io::Result<()> {
    let (mut ip, mut tcp, mut udp) = (None, None, None);
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(port) if port != 0 => tcp = Some(port),
            Protocol::Udp(port) if port != 0 => udp = Some(port),
            _ => {}
        }
    }
    let Some(ip) = ip else {
        return Ok(());
    };
    if let Some(port) = tcp {
        drop(std::net::TcpListener::bind((ip, port))?);
    }
    if let Some(port) = udp {
        drop(std::net::UdpSocket::bind((ip, port))?);
    }
    Ok(())
}

/// Stops the actor if every handle is gone before it noticed; the task never outlives its owner
/// (the node's transport and the relay's keep theirs in one of these).
#[derive(Debug)]
pub(crate) struct ActorTask(pub(crate) tokio::task::JoinHandle<()>);

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
        let accept_only: Vec<PeerId> = config.accept_only.iter().filter_map(peer_id).collect();
        let relays = parse_relays(&config.relays)?;

        let (event_tx, event_rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
        let counters = Arc::new(codec::WireCounters::default());
        let mut actor = NetActor::new(
            &config,
            counters.clone(),
            (allowed, accept_only),
            known,
            relays,
            event_tx,
        )?;
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

    /// Queues `frames` for `peer` and then the close of its connections, without waiting:
    /// called just before `peer` is removed from the member set, so that it comes first. The
    /// frames settle before the removal cuts the connection. Returns `false` if the command
    /// could not be queued (the transport is busy or stopped): then nothing is sent.
    pub fn farewell(&self, peer: PublicKey, frames: Vec<Vec<u8>>) -> bool {
        let Some(id) = peer_id(&peer) else {
            return false;
        };
        if frames.iter().any(|f| f.len() > self.max_frame_bytes) {
            return false;
        }
        self.commands
            .try_send(Command::Farewell {
                key: peer,
                peer: id,
                frames,
            })
            .is_ok()
    }

    /// Replaces the member set. A removed key's connections are closed at once and it is refused
    /// from then on; an added key with a known address is dialled.
    pub async fn set_allowed(&self, peers: Vec<PublicKey>) -> Result<(), NetError> {
        self.set_peers(peers, Vec::new()).await
    }

    /// Replaces the member set as [`Net::set_allowed`] does, and lets `accept_only` connect
    /// too without ever dialling them (invitation keys: the joiner dials).
    pub async fn set_peers(
        &self,
        peers: Vec<PublicKey>,
        accept_only: Vec<PublicKey>,
    ) -> Result<(), NetError> {
        let peers = peers.iter().filter_map(peer_id).collect();
        let accept_only = accept_only.iter().filter_map(peer_id).collect();
        self.request(|reply| Command::SetAllowed {
            peers,
            accept_only,
            reply,
        })
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

    /// Replaces the relays this node uses: reservations on relays no longer listed are dropped
    /// with their connections, new ones are dialled and reserved.
    pub async fn set_relays(&self, relays: Vec<RelayConfig>) -> Result<(), NetError> {
        let relays = parse_relays(&relays)?;
        self.request(|reply| Command::SetRelays { relays, reply })
            .await
    }

    /// Sends `request` to a relay this node uses on `/puente/relay/1` and waits for its answer
    /// (bounded by the frame timeout). Contents are opaque here.
    pub async fn relay_request(
        &self,
        relay: PublicKey,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, NetError> {
        if request.len() > self.max_frame_bytes {
            return Err(NetError::FrameTooLarge {
                len: request.len(),
                limit: self.max_frame_bytes,
            });
        }
        let peer = peer_id(&relay).ok_or(NetError::NotARelay { relay })?;
        let answer = self
            .request(|reply| Command::RelayRequest {
                key: relay,
                peer,
                request,
                reply,
            })
            .await?;
        answer.await.map_err(|_| NetError::Closed)?
    }

    /// How each connected member is reached now.
    pub async fn paths(&self) -> Result<Vec<(PublicKey, PathKind)>, NetError> {
        self.request(|reply| Command::Paths { reply }).await
    }

    /// The relays this node uses, and whether each is connected and holds a reservation.
    pub async fn relays(&self) -> Result<Vec<RelayStatus>, NetError> {
        self.request(|reply| Command::Relays { reply }).await
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

/// A key as libp2p prints a peer id (`12D3KooW…`), the form relay addresses carry after
/// `/p2p/`; `None` if the bytes are not an Ed25519 point.
pub fn peer_id_text(key: &PublicKey) -> Option<String> {
    peer_id(key).map(|id| id.to_string())
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
/// UDP + QUIC v1; no DNS names), or a relayed address (such an address, then `/p2p/RELAY`
/// and `/p2p-circuit`), for configuration typed by people; returns it normalised.
pub fn validate_address(text: &str) -> Result<String, NetError> {
    parse_address(text.trim(), None).map(|a| a.to_string())
}

/// Checks a relay's own address as people type it (`/ip4/…/tcp/PORT/p2p/RELAY` or the same
/// with `/udp/PORT/quic-v1`); returns the relay's key and the address without `/p2p/`.
pub fn parse_relay_address(text: &str) -> Result<(PublicKey, String), NetError> {
    let text = text.trim();
    let invalid = |reason: &str| NetError::InvalidAddress {
        addr: text.chars().take(200).collect(),
        reason: reason.to_owned(),
    };
    let mut addr: Multiaddr = text.parse().map_err(|e| invalid(&format!("{e}")))?;
    let Some(Protocol::P2p(id)) = addr.pop() else {
        return Err(invalid(
            "a relay address ends in /p2p/ and the relay's id, as the relay prints it when it starts",
        ));
    };
    let key = public_key(&id).ok_or_else(|| invalid("the /p2p/ id is not an Ed25519 key"))?;
    let plain = check_address(addr, None).map_err(invalid)?;
    if is_relayed(&plain) {
        return Err(invalid(
            "a relay is reached directly, not through another relay",
        ));
    }
    Ok((key, plain.to_string()))
}

/// Parses and checks an address: IPv4/IPv6 with TCP or UDP + QUIC v1, or such an address
/// followed by `/p2p/RELAY/p2p-circuit`; optionally ending in `/p2p/<id>` (which must be
/// `expected`'s when given; it is stripped).
fn parse_address(text: &str, expected: Option<&PeerId>) -> Result<Multiaddr, NetError> {
    let invalid = |reason: &str| NetError::InvalidAddress {
        addr: text.chars().take(200).collect(),
        reason: reason.to_owned(),
    };
    let addr: Multiaddr = text.parse().map_err(|e| invalid(&format!("{e}")))?;
    check_address(addr, expected).map_err(invalid)
}

/// See [`parse_address`]; returns the address without its final `/p2p` suffix.
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
    let transport = |parts: &[Protocol<'_>]| {
        matches!(
            parts,
            [Protocol::Ip4(_) | Protocol::Ip6(_), Protocol::Tcp(_)]
                | [
                    Protocol::Ip4(_) | Protocol::Ip6(_),
                    Protocol::Udp(_),
                    Protocol::QuicV1,
                ]
        )
    };
    match parts.as_slice() {
        plain if transport(plain) => Ok(addr),
        [base @ .., Protocol::P2p(relay), Protocol::P2pCircuit] if transport(base) => {
            if public_key(relay).is_none() {
                return Err("the relay's /p2p/ id is not an Ed25519 key");
            }
            if expected == Some(relay) {
                return Err("a peer cannot be reached through itself");
            }
            Ok(addr)
        }
        _ => Err(
            "expected /ip4 or /ip6 with /tcp/PORT or /udp/PORT/quic-v1 (no DNS names), optionally followed by /p2p/RELAY/p2p-circuit",
        ),
    }
}

/// Whether an address goes through a relay (it contains `/p2p-circuit`).
fn is_relayed(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

/// The relay an address goes through: the `/p2p/` id just before `/p2p-circuit`.
fn relay_of(addr: &Multiaddr) -> Option<PeerId> {
    let mut last = None;
    for part in addr.iter() {
        match part {
            Protocol::P2p(id) => last = Some(id),
            Protocol::P2pCircuit => return last,
            _ => {}
        }
    }
    None
}

/// The relays of a configuration as the actor keeps them: peer id and plain addresses.
fn parse_relays(relays: &[RelayConfig]) -> Result<Vec<(PeerId, Vec<Multiaddr>)>, NetError> {
    let mut out = Vec::with_capacity(relays.len());
    for relay in relays {
        let Some(id) = peer_id(&relay.key) else {
            continue;
        };
        let mut addrs = Vec::new();
        for text in &relay.addresses {
            let addr = parse_address(text, Some(&id))?;
            if is_relayed(&addr) {
                return Err(NetError::InvalidAddress {
                    addr: text.chars().take(200).collect(),
                    reason: "a relay is reached directly, not through another relay".into(),
                });
            }
            addrs.push(addr);
        }
        out.push((id, addrs));
    }
    Ok(out)
}
