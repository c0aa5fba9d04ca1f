//! The private actor that owns the libp2p swarm: one `tokio::select!` loop that serves handle
//! commands, delivers events, fires reconnect timers and polls the swarm, in that order.
//!
//! Invariant: the swarm is polled only while the outbox of reliable events is empty, and the
//! outbox is drained only into the bounded event channel; so a slow owner pauses the network
//! (backpressure) instead of growing a queue. One swarm event adds at most one event to the
//! outbox, which is what bounds it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use libp2p::allow_block_list::{self, AllowedPeers, NotAllowed};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::core::ConnectedPoint;
use libp2p::core::transport::ListenerId;
use libp2p::futures::StreamExt as _;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, autonat, dcutr, identify, mdns, noise, ping, relay,
    tcp, yamux,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::debug;

use super::codec::{FrameCodec, PROTOCOL, RELAY_RPC_PROTOCOL, RpcCodec, WireCounters, WireFrame};
use super::overlay;
use super::peers::PeerBook;
use super::{
    NetConfig, NetError, NetEvent, NetLimits, PathKind, RelayStatus, check_address, is_relayed,
    public_key, relay_of,
};
use crate::identity::PublicKey;

/// Substreams per connection for everything but frames: identify, identify push and ping,
/// with headroom.
const CONTROL_STREAMS_PER_CONNECTION: usize = 8;

/// Substreams per connection for relayed circuits: on the connection to a relay each circuit
/// through it is one substream (the circuit's own frames are bounded inside it). 64 lets a
/// node behind NAT hold its ring targets (14) through one relay several times over; a member
/// connection never opens these (request-response still bounds sync frames per connection).
const CIRCUIT_STREAMS_PER_CONNECTION: usize = 64;

/// Frame substreams per connection, per unit of the in-flight window: our own outbound window
/// plus the peer's (which an honest peer with the same limits keeps within its window). Frames
/// beyond this are refused by the connection handler, so with the frame limit it bounds what
/// one connection can make us buffer: `2 × max_frames_in_flight × max_frame_bytes`.
const FRAME_STREAMS_PER_WINDOW: usize = 2;

/// Inbound substreams still negotiating their protocol on one connection.
const MAX_NEGOTIATING_INBOUND_STREAMS: usize = 16;

/// Events a connection task may queue for the swarm before it stops reading its socket. Small,
/// so that an unread event channel turns into TCP/QUIC backpressure quickly.
const PER_CONNECTION_EVENT_BUFFER: usize = 4;

/// Member connections are in effect never closed for being idle: they stay up until either
/// side closes them, ping finds the peer gone, or the peer stops being a member. (A year rather
/// than `Duration::MAX`, which libp2p would halve repeatedly to fit an `Instant`.)
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How long [`NetActor::listen`] waits for listeners to report their bound addresses.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);

/// Identify's protocol-version string: only members ever see it.
const IDENTIFY_PROTOCOL_VERSION: &str = "/puente/1";

/// Messages from [`super::Net`] handles.
#[derive(Debug)]
pub(super) enum Command {
    Send {
        key: PublicKey,
        peer: PeerId,
        frame: WireFrame,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    SetAllowed {
        peers: Vec<PeerId>,
        accept_only: Vec<PeerId>,
        reply: oneshot::Sender<()>,
    },
    AddAddress {
        peer: PeerId,
        addr: Multiaddr,
        reply: oneshot::Sender<()>,
    },
    Dial {
        key: PublicKey,
        peer: PeerId,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    Disconnect {
        peer: PeerId,
        reply: oneshot::Sender<()>,
    },
    /// Last frames for a member about to be removed, then its connections close (see
    /// [`super::Net::farewell`]). No reply: it is queued without waiting, so that it comes
    /// before the removal.
    Farewell {
        key: PublicKey,
        peer: PeerId,
        frames: Vec<Vec<u8>>,
    },
    Connected {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    SetRelays {
        relays: Vec<(PeerId, Vec<Multiaddr>)>,
        reply: oneshot::Sender<()>,
    },
    RelayRequest {
        key: PublicKey,
        peer: PeerId,
        request: Vec<u8>,
        reply: oneshot::Sender<oneshot::Receiver<Result<Vec<u8>, NetError>>>,
    },
    Paths {
        reply: oneshot::Sender<Vec<(PublicKey, PathKind)>>,
    },
    Relays {
        reply: oneshot::Sender<Vec<RelayStatus>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// The libp2p behaviours, consulted in field order; the allow-list must stay first so that a
/// non-member is refused before any other behaviour creates a handler for its connection.
#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<AllowedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    sync: request_response::Behaviour<FrameCodec>,
    mdns: Toggle<mdns::tokio::Behaviour>,
    relay_client: relay::client::Behaviour,
    dcutr: dcutr::Behaviour,
    autonat: autonat::v2::client::Behaviour,
    rpc: request_response::Behaviour<RpcCodec>,
}

/// Where a relay's answer to one request goes.
type RelayAnswer = oneshot::Sender<Result<Vec<u8>, NetError>>;

/// How often connections are checked for a recent sign of life.
const LIVENESS_CHECK: Duration = Duration::from_millis(500);

/// How long a relayed connection stays after a direct one to the same member came up: frames
/// already sent on it are answered first (the sync layer would resend them otherwise).
const RELAYED_GRACE: Duration = Duration::from_secs(5);

/// Relay requests awaiting an answer, at most this many at once: the node asks a relay for
/// little at a time (an access update, one mailbox page), so more means a stuck relay.
const MAX_RELAY_REQUESTS: usize = 64;

pub(super) struct NetActor {
    swarm: Swarm<Behaviour>,
    events: mpsc::Sender<NetEvent>,
    /// Set once the owner dropped its receiver; events are then discarded.
    events_closed: bool,
    /// Reliable events waiting for room in `events`; see the module invariant.
    outbox: VecDeque<NetEvent>,
    book: PeerBook,
    /// Unacknowledged frames, by request, and their count per peer.
    in_flight: HashMap<OutboundRequestId, PeerId>,
    in_flight_per_peer: HashMap<PeerId, usize>,
    max_frames_in_flight: usize,
    /// Peers to disconnect once their frames in flight are acknowledged or failed (so that a
    /// goodbye saying why reaches them first; a frame's timeout bounds the wait).
    hanging_up: HashSet<PeerId>,
    /// Removed members whose farewell frames are still in flight: refused (disallowed) only
    /// once those are settled, so that the frames are not cut off with the connection.
    farewells: HashSet<PeerId>,
    /// Informational events dropped because the channel was full (reported at debug level).
    dropped_refusals: u64,
    /// Member devices: the keys that get sync sessions. The allow-list also holds relays.
    members: HashSet<PeerId>,
    /// The network's relays and their plain addresses: reserved on and dialled through.
    relays: HashMap<PeerId, Vec<Multiaddr>>,
    /// Relays named only inside configured relayed addresses (an invitation's): dialled
    /// through, never reserved on.
    via_relays: HashSet<PeerId>,
    /// Reservation listeners per relay, and which of its addresses the last one used.
    relay_listeners: HashMap<PeerId, ListenerId>,
    relay_address_turn: HashMap<PeerId, usize>,
    /// The address of each relay the current reservation was made through.
    relay_address_used: HashMap<PeerId, Multiaddr>,
    /// Relays that hold a reservation for us.
    reserved: HashSet<PeerId>,
    /// Each member's connections and the relay each goes through (`None`: direct).
    conns: HashMap<PeerId, HashMap<ConnectionId, Option<PeerId>>>,
    /// The path last reported per member, so a change is reported once.
    paths: HashMap<PeerId, PathKind>,
    /// When each connection last proved alive (established, or a ping answered).
    alive: HashMap<ConnectionId, (PeerId, Instant)>,
    /// A connection with no sign of life for this long is closed.
    liveness: Duration,
    /// Relayed connections to close once their grace is over (a direct one replaced them).
    retiring: Vec<(Instant, PeerId, ConnectionId)>,
    /// Keys let in that are never dialled (invitation keys: their joiner dials).
    accept_only: HashSet<PeerId>,
    /// The dialled members on the ring, in order after this node ([`overlay::ring`]).
    ring: Vec<PeerId>,
    /// The members this node dials and redials ([`overlay::targets`]).
    targets: HashSet<PeerId>,
    /// Relay requests in flight and where their answers go.
    relay_requests: HashMap<OutboundRequestId, (PublicKey, RelayAnswer)>,
}

impl NetActor {
    /// Builds the swarm; does not listen or dial yet.
    pub(super) fn new(
        config: &NetConfig,
        counters: Arc<WireCounters>,
        (allowed, accept_only): (Vec<PeerId>, Vec<PeerId>),
        known: Vec<(PeerId, Multiaddr)>,
        relays: Vec<(PeerId, Vec<Multiaddr>)>,
        events: mpsc::Sender<NetEvent>,
    ) -> Result<Self, NetError> {
        let limits = &config.limits;
        let mut swarm = build_swarm(config, limits, counters)?;
        let mut book = PeerBook::new(limits.initial_backoff, limits.max_backoff)
            .with_fast_retries(limits.fast_retry_backoff, limits.fast_retries);
        let mut via_relays = HashSet::new();
        for (peer, addr) in known {
            if let Some(relay) = relay_of(&addr) {
                via_relays.insert(relay);
            }
            book.add_configured(peer, addr);
        }
        let accept_only: HashSet<PeerId> = accept_only.into_iter().collect();
        let members: HashSet<PeerId> = allowed
            .into_iter()
            .chain(accept_only.iter().copied())
            .collect();
        let ring = overlay::ring(
            swarm.local_peer_id(),
            members.iter().filter(|p| !accept_only.contains(p)).copied(),
        );
        for peer in &members {
            swarm.behaviour_mut().allow.allow_peer(*peer);
        }
        for relay in &via_relays {
            swarm.behaviour_mut().allow.allow_peer(*relay);
        }
        let mut relay_map = HashMap::new();
        for (relay, addrs) in relays {
            swarm.behaviour_mut().allow.allow_peer(relay);
            for addr in &addrs {
                book.add_configured(relay, addr.clone());
            }
            relay_map.insert(relay, addrs);
        }
        let mut actor = Self {
            members,
            relays: relay_map,
            via_relays,
            relay_listeners: HashMap::new(),
            relay_address_turn: HashMap::new(),
            relay_address_used: HashMap::new(),
            reserved: HashSet::new(),
            conns: HashMap::new(),
            paths: HashMap::new(),
            relay_requests: HashMap::new(),
            accept_only,
            ring,
            targets: HashSet::new(),
            alive: HashMap::new(),
            liveness: limits.ping_interval + limits.ping_timeout,
            retiring: Vec::new(),
            swarm,
            events,
            events_closed: false,
            outbox: VecDeque::new(),
            book,
            in_flight: HashMap::new(),
            in_flight_per_peer: HashMap::new(),
            max_frames_in_flight: frames_in_flight(limits),
            hanging_up: HashSet::new(),
            farewells: HashSet::new(),
            dropped_refusals: 0,
        };
        // The targets as the running actor judges them (nothing dialled yet: a member is
        // failing when there is no way to dial it).
        actor.update_targets();
        Ok(actor)
    }

    /// Starts every listener and waits until each has reported its bound address; then
    /// schedules a dial to every member with a known address.
    pub(super) async fn listen(&mut self, addrs: Vec<(String, Multiaddr)>) -> Result<(), NetError> {
        let mut pending = HashMap::new();
        for (text, addr) in addrs {
            super::check_port_free(&addr).map_err(|source| NetError::Listen {
                addr: text.clone(),
                source,
            })?;
            let id = self
                .swarm
                .listen_on(addr)
                .map_err(|error| NetError::Listen {
                    addr: text.clone(),
                    source: match error {
                        libp2p::TransportError::Other(e) => e,
                        libp2p::TransportError::MultiaddrNotSupported(_) => {
                            io::Error::other("address not supported")
                        }
                    },
                })?;
            pending.insert(id, text);
        }
        let deadline = Instant::now() + LISTEN_TIMEOUT;
        while !pending.is_empty() {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| NetError::Listen {
                    addr: pending.values().next().cloned().unwrap_or_default(),
                    source: io::Error::new(io::ErrorKind::TimedOut, "no address was bound"),
                })?;
            match &event {
                SwarmEvent::NewListenAddr { listener_id, .. } => {
                    pending.remove(listener_id);
                }
                SwarmEvent::ListenerClosed { listener_id, .. }
                | SwarmEvent::ListenerError { listener_id, .. } => {
                    if let Some(addr) = pending.remove(listener_id) {
                        let source = match event {
                            SwarmEvent::ListenerClosed { reason: Err(e), .. }
                            | SwarmEvent::ListenerError { error: e, .. } => e,
                            _ => io::Error::other("listener closed"),
                        };
                        return Err(NetError::Listen { addr, source });
                    }
                }
                _ => {}
            }
            self.handle_swarm_event(event);
        }
        let now = Instant::now();
        let peers: Vec<PeerId> = self
            .members
            .iter()
            .chain(self.relays.keys())
            .copied()
            .collect();
        for peer in peers {
            self.book.dial_now(peer, now);
        }
        Ok(())
    }

    /// The actor loop. Returns when shut down or when every handle is gone; the swarm (and with
    /// it every connection and listener) is dropped before a shutdown is acknowledged.
    pub(super) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        // A second sender, so that a reserved permit borrows this local rather than `self`.
        let events = self.events.clone();
        let mut liveness = tokio::time::interval(LIVENESS_CHECK);
        liveness.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shutdown = loop {
            let deadline = self.book.next_deadline();
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    None => break None,
                    Some(Command::Shutdown { reply }) => break Some(reply),
                    Some(command) => self.handle_command(command),
                },
                permit = events.reserve(), if !self.outbox.is_empty() => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.outbox.pop_front() {
                            permit.send(event);
                        }
                    }
                    Err(_) => {
                        self.events_closed = true;
                        self.outbox.clear();
                    }
                },
                () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)),
                    if deadline.is_some() => self.handle_due_dials(),
                _ = liveness.tick() => self.check_liveness(),
                event = self.swarm.select_next_some(), if self.outbox.is_empty() => {
                    self.handle_swarm_event(event);
                }
            }
        };
        drop(self);
        if let Some(reply) = shutdown {
            // The caller may have given up waiting; nothing to do then.
            let _ = reply.send(());
        }
    }

    /// Whether `peer` is a member device (not merely a relay the allow-list lets in).
    fn is_allowed(&self, peer: &PeerId) -> bool {
        self.members.contains(peer)
    }

    /// Whether `peer` can be dialled through one of the network's relays.
    fn can_relay(&self, peer: &PeerId) -> bool {
        self.is_allowed(peer) && self.relays.keys().any(|relay| relay != peer)
    }

    /// Whether `peer` is a relay this node uses or dials through.
    fn is_relay(&self, peer: &PeerId) -> bool {
        self.relays.contains_key(peer) || self.via_relays.contains(peer)
    }

    /// Queues an event that must not be lost.
    fn emit(&mut self, event: NetEvent) {
        if !self.events_closed {
            self.outbox.push_back(event);
        }
    }

    /// Sends an informational event if there is room, and drops it otherwise.
    fn emit_lossy(&mut self, event: NetEvent) {
        if self.events_closed {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.events.try_send(event) {
            self.dropped_refusals += 1;
            debug!(
                dropped = self.dropped_refusals,
                "event channel full; dropped a refusal notice"
            );
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Send {
                key,
                peer,
                frame,
                reply,
            } => {
                let result = self.handle_send(key, peer, frame);
                let _ = reply.send(result);
            }
            Command::SetAllowed {
                peers,
                accept_only,
                reply,
            } => {
                self.handle_set_allowed(peers, accept_only);
                let _ = reply.send(());
            }
            Command::AddAddress { peer, addr, reply } => {
                self.book.add_configured(peer, addr);
                if self.is_allowed(&peer) && !self.swarm.is_connected(&peer) {
                    self.book.dial_now(peer, Instant::now());
                    self.update_targets();
                }
                let _ = reply.send(());
            }
            Command::Dial { key, peer, reply } => {
                let result = if !self.is_allowed(&peer) {
                    Err(NetError::NotAllowed { peer: key })
                } else if !self.book.has_addresses(&peer) && !self.can_relay(&peer) {
                    Err(NetError::NoAddress { peer: key })
                } else {
                    self.book.dial_now(peer, Instant::now());
                    Ok(())
                };
                let _ = reply.send(result);
            }
            Command::Farewell { key, peer, frames } => {
                for frame in frames {
                    if let Err(e) = self.handle_send(key, peer, WireFrame::Data(frame)) {
                        debug!(%peer, error = %e, "a farewell frame was not sent");
                        break;
                    }
                }
                if self.in_flight_per_peer.contains_key(&peer) {
                    // Closed once the frames are settled, even after the member set no
                    // longer holds it (see `handle_set_allowed`).
                    self.hanging_up.insert(peer);
                    self.farewells.insert(peer);
                } else {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
            }
            Command::Disconnect { peer, reply } => {
                // Closes every connection to the peer once its frames in flight are settled;
                // it may reconnect (with backoff on our side) and start a fresh session.
                if self.in_flight_per_peer.contains_key(&peer) {
                    self.hanging_up.insert(peer);
                } else {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
                let _ = reply.send(());
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::Connected { reply } => {
                let members = self
                    .swarm
                    .connected_peers()
                    .filter(|peer| self.members.contains(peer))
                    .copied()
                    .collect();
                let _ = reply.send(members);
            }
            Command::SetRelays { relays, reply } => {
                self.handle_set_relays(relays);
                let _ = reply.send(());
            }
            Command::RelayRequest {
                key,
                peer,
                request,
                reply,
            } => {
                let (tx, rx) = oneshot::channel();
                self.handle_relay_request(key, peer, request, tx);
                let _ = reply.send(rx);
            }
            Command::Paths { reply } => {
                let paths = self
                    .paths
                    .iter()
                    .filter_map(|(peer, path)| Some((public_key(peer)?, *path)))
                    .collect();
                let _ = reply.send(paths);
            }
            Command::Relays { reply } => {
                let relays = self
                    .relays
                    .keys()
                    .filter_map(|peer| {
                        Some(RelayStatus {
                            key: public_key(peer)?,
                            connected: self.swarm.is_connected(peer),
                            reserved: self.reserved.contains(peer),
                        })
                    })
                    .collect();
                let _ = reply.send(relays);
            }
            // Handled by the loop, which must stop.
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    fn handle_send(
        &mut self,
        key: PublicKey,
        peer: PeerId,
        frame: WireFrame,
    ) -> Result<(), NetError> {
        if !self.is_allowed(&peer) {
            return Err(NetError::NotAllowed { peer: key });
        }
        // Checked against request-response's own view, so that `send_request` never dials.
        if !self.swarm.behaviour().sync.is_connected(&peer) {
            return Err(NetError::NotConnected { peer: key });
        }
        let count = self.in_flight_per_peer.entry(peer).or_default();
        if *count >= self.max_frames_in_flight {
            return Err(NetError::Busy { peer: key });
        }
        *count += 1;
        let request = self.swarm.behaviour_mut().sync.send_request(&peer, frame);
        self.in_flight.insert(request, peer);
        Ok(())
    }

    fn finish_in_flight(&mut self, request: &OutboundRequestId) {
        if let Some(peer) = self.in_flight.remove(request)
            && let Some(count) = self.in_flight_per_peer.get_mut(&peer)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.in_flight_per_peer.remove(&peer);
                if self.hanging_up.remove(&peer) {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
                if self.farewells.remove(&peer) && !self.members.contains(&peer) {
                    self.swarm.behaviour_mut().allow.disallow_peer(peer);
                }
            }
        }
    }

    fn handle_set_allowed(&mut self, peers: Vec<PeerId>, accept_only: Vec<PeerId>) {
        self.accept_only = accept_only.iter().copied().collect();
        let new: HashSet<PeerId> = peers.into_iter().chain(accept_only).collect();
        let old = std::mem::take(&mut self.members);
        self.members = new.clone();
        let now = Instant::now();
        for removed in old.difference(&new) {
            if self.is_relay(removed) {
                continue;
            }
            if self.farewells.contains(removed) && self.in_flight_per_peer.contains_key(removed) {
                // Its farewell frames are in flight: it is refused, and its connections
                // closed, once they are settled (`finish_in_flight`). Nothing else is sent to
                // it: `is_allowed` is false from now on.
            } else {
                self.farewells.remove(removed);
                self.swarm.behaviour_mut().allow.disallow_peer(*removed);
                // `disallow_peer` queues the close; closing here too makes it immediate.
                let _ = self.swarm.disconnect_peer_id(*removed);
            }
            self.book.cancel(removed);
            self.conns.remove(removed);
            self.paths.remove(removed);
        }
        for added in new.difference(&old) {
            self.swarm.behaviour_mut().allow.allow_peer(*added);
            if !self.accept_only.contains(added) {
                self.book.dial_now(*added, now);
            }
        }
        let local = *self.swarm.local_peer_id();
        self.ring = overlay::ring(
            &local,
            self.members
                .iter()
                .filter(|p| !self.accept_only.contains(p))
                .copied(),
        );
        self.update_targets();
    }

    /// Recomputes the members to keep connections to ([`overlay::targets`]) and dials the new
    /// ones now. A member is failing when it is not connected and either its last dial failed
    /// or there is no way to dial it (no address known and no relay): otherwise a node whose
    /// primaries are members it has never heard from would dial no one.
    fn update_targets(&mut self) {
        let failing = |peer: &PeerId| {
            !self.swarm.is_connected(peer)
                && (self.book.failures(peer) > 0
                    || !(self.book.has_addresses(peer) || self.can_relay(peer)))
        };
        let targets: HashSet<PeerId> = overlay::targets(&self.ring, failing).into_iter().collect();
        let now = Instant::now();
        for added in targets.difference(&self.targets) {
            if !self.swarm.is_connected(added) {
                self.book.dial_now(*added, now);
            }
        }
        self.targets = targets;
    }

    /// Replaces the network's relays: a relay no longer listed loses its reservation and its
    /// connections (unless it is also a member or an invitation's relay); a new one is dialled.
    fn handle_set_relays(&mut self, relays: Vec<(PeerId, Vec<Multiaddr>)>) {
        let new: HashMap<PeerId, Vec<Multiaddr>> = relays.into_iter().collect();
        let old = std::mem::take(&mut self.relays);
        let now = Instant::now();
        for removed in old.keys().filter(|r| !new.contains_key(r)) {
            if let Some(listener) = self.relay_listeners.remove(removed) {
                self.swarm.remove_listener(listener);
            }
            self.relay_address_used.remove(removed);
            self.relay_address_turn.remove(removed);
            self.reserved.remove(removed);
            self.book.cancel(removed);
            if !self.members.contains(removed) && !self.via_relays.contains(removed) {
                self.swarm.behaviour_mut().allow.disallow_peer(*removed);
                let _ = self.swarm.disconnect_peer_id(*removed);
            }
        }
        for (relay, addrs) in &new {
            self.swarm.behaviour_mut().allow.allow_peer(*relay);
            for addr in addrs {
                self.book.add_configured(*relay, addr.clone());
            }
            if old.get(relay) != Some(addrs) {
                self.book.dial_now(*relay, now);
            }
        }
        self.relays = new;
        // Members not connected may now be reachable through a new relay.
        let waiting: Vec<PeerId> = self
            .members
            .iter()
            .filter(|peer| !self.swarm.is_connected(peer))
            .copied()
            .collect();
        for peer in waiting {
            self.book.dial_now(peer, now);
        }
    }

    /// Closes connections that showed no sign of life (no ping answered) for longer than the
    /// ping interval plus its timeout, and relayed connections whose grace is over.
    fn check_liveness(&mut self) {
        let now = Instant::now();
        let dead: Vec<(ConnectionId, PeerId)> = self
            .alive
            .iter()
            .filter(|(_, (_, at))| now.duration_since(*at) > self.liveness)
            .map(|(id, (peer, _))| (*id, *peer))
            .collect();
        for (id, peer) in dead {
            debug!(%peer, "no sign of life; closing the connection");
            self.alive.remove(&id);
            self.swarm.close_connection(id);
        }
        let due: Vec<(PeerId, ConnectionId)> = self
            .retiring
            .iter()
            .filter(|(at, _, _)| *at <= now)
            .map(|(_, peer, id)| (*peer, *id))
            .collect();
        self.retiring.retain(|(at, _, _)| *at > now);
        for (peer, id) in due {
            let still_direct = self
                .conns
                .get(&peer)
                .is_some_and(|conns| conns.values().any(Option::is_none));
            if still_direct {
                self.swarm.close_connection(id);
            }
        }
    }

    fn handle_relay_request(
        &mut self,
        key: PublicKey,
        peer: PeerId,
        request: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetError>>,
    ) {
        if !self.relays.contains_key(&peer) {
            let _ = reply.send(Err(NetError::NotARelay { relay: key }));
            return;
        }
        if !self.swarm.is_connected(&peer) {
            let _ = reply.send(Err(NetError::NotConnected { peer: key }));
            return;
        }
        if self.relay_requests.len() >= MAX_RELAY_REQUESTS {
            let _ = reply.send(Err(NetError::Busy { peer: key }));
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .rpc
            .send_request(&peer, WireFrame::Data(request));
        self.relay_requests.insert(id, (key, reply));
    }

    /// Keeps a reservation on `relay`: listens on a circuit address through it (which dials it
    /// if needed). Each try uses the next of its addresses.
    fn reserve(&mut self, relay: PeerId) {
        if self.relay_listeners.contains_key(&relay) {
            return;
        }
        let Some(addrs) = self.relays.get(&relay) else {
            return;
        };
        if addrs.is_empty() {
            return;
        }
        let turn = self.relay_address_turn.entry(relay).or_default();
        let addr = addrs[*turn % addrs.len()].clone();
        *turn = turn.wrapping_add(1);
        self.relay_address_used.insert(relay, addr.clone());
        let circuit = addr
            .with(libp2p::multiaddr::Protocol::P2p(relay))
            .with(libp2p::multiaddr::Protocol::P2pCircuit);
        match self.swarm.listen_on(circuit) {
            Ok(listener) => {
                self.relay_listeners.insert(relay, listener);
            }
            Err(error) => {
                debug!(%relay, %error, "cannot reserve on a relay");
                self.book.retry_later(relay, Instant::now(), false);
            }
        }
    }

    /// The relayed addresses of `peer` through every relay of the network.
    fn relayed_addresses(&self, peer: &PeerId) -> Vec<Multiaddr> {
        let mut out = Vec::new();
        for (relay, addrs) in &self.relays {
            if relay == peer {
                continue;
            }
            // Through the address this node reserved on, when it did: every connection to a
            // relay then uses one transport, so the addresses the relay observes (and a hole
            // punch dials) are of that transport on both sides.
            let used = self.relay_address_used.get(relay);
            for addr in addrs.iter().filter(|a| used.is_none_or(|u| u == *a)) {
                out.push(
                    addr.clone()
                        .with(libp2p::multiaddr::Protocol::P2p(*relay))
                        .with(libp2p::multiaddr::Protocol::P2pCircuit),
                );
            }
        }
        out
    }

    /// Reports the member's path if it changed: direct when any connection is direct, else
    /// through the relay of its oldest relayed connection. When a direct connection exists,
    /// relayed ones are closed: the hole punch (or a direct dial) succeeded.
    fn update_path(&mut self, peer: PeerId) {
        let Some(conns) = self.conns.get(&peer) else {
            self.paths.remove(&peer);
            return;
        };
        let direct = conns.values().any(Option::is_none);
        let path = if direct {
            let relayed: Vec<ConnectionId> = conns
                .iter()
                .filter(|(_, via)| via.is_some())
                .map(|(id, _)| *id)
                .collect();
            let at = Instant::now() + RELAYED_GRACE;
            for id in relayed {
                if !self.retiring.iter().any(|(_, _, c)| *c == id) {
                    debug!(%peer, "direct connection up; the relayed one closes after a grace");
                    self.retiring.push((at, peer, id));
                }
            }
            Some(PathKind::Direct)
        } else {
            let mut relays: Vec<(ConnectionId, PeerId)> = conns
                .iter()
                .filter_map(|(id, via)| via.map(|r| (*id, r)))
                .collect();
            relays.sort();
            relays
                .first()
                .and_then(|(_, relay)| public_key(relay))
                .map(|relay| PathKind::Relayed { relay })
        };
        let Some(path) = path else {
            return;
        };
        if self.paths.get(&peer) != Some(&path) {
            self.paths.insert(peer, path);
            if let Some(key) = public_key(&peer) {
                self.emit(NetEvent::PathChanged { peer: key, path });
            }
        }
    }

    fn handle_due_dials(&mut self) {
        for peer in self.book.take_due(Instant::now()) {
            if self.relays.contains_key(&peer) {
                self.reserve(peer);
            } else {
                self.dial(peer);
            }
        }
    }

    /// Dials `peer` at every known address unless it is connected or already being dialled.
    fn dial(&mut self, peer: PeerId) {
        if !self.is_allowed(&peer)
            || self.swarm.is_connected(&peer)
            || self.accept_only.contains(&peer)
            || !self.targets.contains(&peer)
        {
            return;
        }
        let mut addresses = self.book.addresses(&peer);
        for relayed in self.relayed_addresses(&peer) {
            if !addresses.contains(&relayed) {
                addresses.push(relayed);
            }
        }
        if addresses.is_empty() {
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .addresses(addresses)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => {}
            Err(error) => {
                debug!(%peer, %error, "dial not started");
                self.book
                    .retry_later(peer, Instant::now(), self.can_relay(&peer));
            }
        }
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.handle_sync_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.learn_addresses(peer_id, info.listen_addrs),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(_)) => {}
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(error),
            })) if !matches!(error, ping::Failure::Unsupported) => {
                // A peer that stopped answering (or whose ping stream broke) is gone: closing
                // the connection now, rather than waiting for TCP to give up, starts the
                // reconnect at once. A peer that does not speak ping keeps its connection.
                debug!(%peer, %error, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Ok(_),
            })) => {
                self.alive.insert(connection, (peer, Instant::now()));
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(found))) => {
                for (peer, addr) in found {
                    self.learn_addresses(peer, vec![addr]);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Expired(_))) => {}
            SwarmEvent::Behaviour(BehaviourEvent::RelayClient(event)) => {
                self.handle_relay_client_event(event);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Dcutr(dcutr::Event {
                remote_peer_id,
                result,
            })) => match result {
                Ok(_) => debug!(peer = %remote_peer_id, "hole punch succeeded"),
                Err(error) => debug!(peer = %remote_peer_id, %error, "hole punch failed"),
            },
            SwarmEvent::Behaviour(BehaviourEvent::Autonat(event)) => {
                debug!(address = %event.tested_addr, ok = event.result.is_ok(), "reachability test");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Rpc(event)) => self.handle_rpc_event(event),
            SwarmEvent::ExternalAddrConfirmed { address } => {
                debug!(%address, "reachable from outside at this address");
            }
            SwarmEvent::ListenerClosed { listener_id, .. } => {
                self.handle_listener_closed(listener_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Allow(never)) => match never {},
            SwarmEvent::Behaviour(BehaviourEvent::Limits(never)) => match never {},
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => self.handle_established(peer_id, connection_id, num_established.get(), &endpoint),
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => self.handle_closed(peer_id, connection_id, num_established),
            SwarmEvent::IncomingConnectionError { error, peer_id, .. } => {
                self.handle_incoming_error(peer_id, error);
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                debug!(%peer, %error, "dial failed");
                if (self.is_allowed(&peer) || self.relays.contains_key(&peer))
                    && !self.swarm.is_connected(&peer)
                {
                    self.book
                        .retry_later(peer, Instant::now(), self.can_relay(&peer));
                    if self.is_allowed(&peer) {
                        self.update_targets();
                    }
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => debug!(%address, "listening"),
            SwarmEvent::ListenerError { error, .. } => debug!(%error, "listener error"),
            _ => {}
        }
    }

    fn handle_established(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        count: u32,
        endpoint: &ConnectedPoint,
    ) {
        self.alive.insert(connection, (peer, Instant::now()));
        if !self.is_allowed(&peer) && self.is_relay(&peer) {
            debug!(%peer, "connected to a relay");
            if self.relays.contains_key(&peer) && !self.relay_listeners.contains_key(&peer) {
                self.reserve(peer);
            }
            return;
        }
        // The allow-list already refused non-members; this is defence in depth.
        let key = match public_key(&peer) {
            Some(key) if self.is_allowed(&peer) => key,
            _ => {
                self.swarm.close_connection(connection);
                return;
            }
        };
        let via = relay_of(match endpoint {
            ConnectedPoint::Dialer { address, .. } => address,
            ConnectedPoint::Listener { local_addr, .. } => local_addr,
        });
        debug!(%peer, count, relayed = via.is_some(), "connection established");
        self.book.connected(&peer);
        self.conns.entry(peer).or_default().insert(connection, via);
        self.update_targets();
        if count == 1 {
            self.emit(NetEvent::Connected(key));
        }
        self.update_path(peer);
    }

    fn handle_closed(&mut self, peer: PeerId, connection: ConnectionId, remaining: u32) {
        self.alive.remove(&connection);
        self.retiring.retain(|(_, _, id)| *id != connection);
        if let Some(conns) = self.conns.get_mut(&peer) {
            conns.remove(&connection);
            if conns.is_empty() {
                self.conns.remove(&peer);
            }
        }
        if remaining > 0 {
            if self.is_allowed(&peer) {
                self.update_path(peer);
            }
            return;
        }
        if self.is_allowed(&peer) || !self.is_relay(&peer) {
            // A member, or one that was until a moment ago (its removal closed this).
            self.paths.remove(&peer);
            if let Some(key) = public_key(&peer) {
                self.emit(NetEvent::Disconnected(key));
            }
            if self.is_allowed(&peer) {
                self.book
                    .retry_later(peer, Instant::now(), self.can_relay(&peer));
                self.update_targets();
            }
        } else if self.relays.contains_key(&peer) {
            // Its reservation listener closes with the connection; redial it soon. A relay
            // that closes the connection before accepting a reservation turned this device
            // away (it is no member of a network the relay serves, or it was revoked).
            let had_reservation = self.reserved.remove(&peer);
            if let Some(key) = public_key(&peer) {
                self.emit(if had_reservation {
                    NetEvent::RelayLost(key)
                } else {
                    NetEvent::RelayRefused(key)
                });
            }
            self.book
                .retry_later(peer, Instant::now(), self.can_relay(&peer));
        }
    }

    fn handle_listener_closed(&mut self, listener: ListenerId) {
        let relay = self
            .relay_listeners
            .iter()
            .find(|(_, id)| **id == listener)
            .map(|(relay, _)| *relay);
        if let Some(relay) = relay {
            debug!(%relay, "reservation ended");
            self.relay_listeners.remove(&relay);
            self.reserved.remove(&relay);
            if self.relays.contains_key(&relay) {
                self.book.retry_later(relay, Instant::now(), false);
            }
        }
    }

    fn handle_relay_client_event(&mut self, event: relay::client::Event) {
        match event {
            relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                renewal,
                ..
            } => {
                debug!(relay = %relay_peer_id, renewal, "reservation accepted");
                self.book.connected(&relay_peer_id);
                // Dials through a relay made before its connection was up fail at once; the
                // members still unreached are tried again now rather than after a backoff.
                let now = Instant::now();
                let waiting: Vec<PeerId> = self
                    .targets
                    .iter()
                    .filter(|peer| !self.swarm.is_connected(peer))
                    .copied()
                    .collect();
                for peer in waiting {
                    self.book.dial_now(peer, now);
                }
                if self.reserved.insert(relay_peer_id)
                    && let Some(key) = public_key(&relay_peer_id)
                {
                    self.emit(NetEvent::RelayReserved(key));
                }
            }
            relay::client::Event::OutboundCircuitEstablished { relay_peer_id, .. } => {
                debug!(relay = %relay_peer_id, "circuit opened through a relay");
            }
            relay::client::Event::InboundCircuitEstablished { src_peer_id, .. } => {
                debug!(peer = %src_peer_id, "circuit accepted through a relay");
            }
        }
    }

    fn handle_rpc_event(&mut self, event: request_response::Event<WireFrame, WireFrame>) {
        match event {
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some((relay, reply)) = self.relay_requests.remove(&request_id) {
                    let answer = match response {
                        WireFrame::Data(bytes) => Ok(bytes),
                        other => Err(NetError::RelayUnanswered {
                            relay,
                            reason: format!("malformed answer ({other:?})"),
                        }),
                    };
                    let _ = reply.send(answer);
                }
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((relay, reply)) = self.relay_requests.remove(&request_id) {
                    let _ = reply.send(Err(NetError::RelayUnanswered {
                        relay,
                        reason: error.to_string(),
                    }));
                }
            }
            // Members serve no relay requests (the protocol is outbound only here).
            request_response::Event::Message {
                message: request_response::Message::Request { .. },
                ..
            }
            | request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn handle_incoming_error(&mut self, peer: Option<PeerId>, error: ListenError) {
        match (&error, peer) {
            (ListenError::Denied { cause }, Some(peer))
                if cause.downcast_ref::<NotAllowed>().is_some() =>
            {
                debug!(%peer, "refused a non-member after its handshake");
                if let Some(key) = public_key(&peer) {
                    self.emit_lossy(NetEvent::Refused { peer: key });
                }
            }
            _ => debug!(%error, "incoming connection failed"),
        }
    }

    fn handle_sync_event(&mut self, event: request_response::Event<WireFrame, ()>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.handle_frame(peer, request, channel),
            request_response::Event::Message {
                message: request_response::Message::Response { request_id, .. },
                ..
            } => self.finish_in_flight(&request_id),
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, %error, "frame not acknowledged");
                self.finish_in_flight(&request_id);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound frame failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn handle_frame(&mut self, peer: PeerId, frame: WireFrame, channel: ResponseChannel<()>) {
        // A frame already in flight when a peer was removed is dropped, not delivered.
        let key = match public_key(&peer) {
            Some(key) if self.is_allowed(&peer) => key,
            _ => return,
        };
        match frame {
            WireFrame::Data(bytes) => {
                debug!(%peer, len = bytes.len(), "frame received");
                self.emit(NetEvent::Frame { from: key, bytes });
                // The receiver may have gone with its connection; the frame is delivered anyway.
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, ());
            }
            WireFrame::Refused(reason) => {
                debug!(%peer, %reason, "peer broke the framing rules; closing its connections");
                self.emit(NetEvent::Misbehaved { peer: key, reason });
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            #[cfg(test)]
            WireFrame::Raw(_) => {}
        }
    }

    /// Records listen addresses a member reported about itself (never about anyone else), and
    /// dials it if it is not connected.
    fn learn_addresses(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if !self.is_allowed(&peer) {
            return;
        }
        let mut learned = Vec::new();
        for addr in addrs {
            // Relayed addresses are never learned: members are dialled through the network's
            // own relays only, never through one a peer names.
            if let Ok(addr) = check_address(addr, Some(&peer))
                && !is_relayed(&addr)
                && is_dialable(&addr)
                && self.book.add_learned(peer, addr.clone())
            {
                learned.push(addr.to_string());
            }
        }
        if learned.is_empty() {
            return;
        }
        if !self.swarm.is_connected(&peer) {
            self.book.dial_now(peer, Instant::now());
            self.update_targets();
        }
        if let Some(key) = public_key(&peer) {
            self.emit_lossy(NetEvent::Learned {
                peer: key,
                addresses: learned,
            });
        }
    }
}

/// Whether an address names a concrete host and port (not `0.0.0.0`, `::` or port 0).
pub(super) fn is_dialable(addr: &Multiaddr) -> bool {
    addr.iter().all(|part| match part {
        Protocol::Ip4(ip) => !ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast(),
        Protocol::Ip6(ip) => !ip.is_unspecified() && !ip.is_multicast(),
        Protocol::Tcp(port) | Protocol::Udp(port) => port != 0,
        _ => true,
    })
}

/// The per-peer window of unacknowledged frames, within `1..=MAX_FRAMES_IN_FLIGHT`.
fn frames_in_flight(limits: &NetLimits) -> usize {
    limits
        .max_frames_in_flight
        .clamp(1, super::MAX_FRAMES_IN_FLIGHT)
}

fn build_swarm(
    config: &NetConfig,
    limits: &NetLimits,
    counters: Arc<WireCounters>,
) -> Result<Swarm<Behaviour>, NetError> {
    let setup = |what: &'static str| {
        move |e: Box<dyn std::error::Error + Send + Sync>| NetError::Setup { what, source: e }
    };
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut config.key.to_bytes()[..])
        .map_err(|e| setup("device identity")(e.into()))?;
    let local_peer = keypair.public().to_peer_id();
    let mdns = if config.mdns {
        Some(
            mdns::tokio::Behaviour::new(mdns::Config::default(), local_peer)
                .map_err(|e| setup("mDNS discovery")(e.into()))?,
        )
    } else {
        None
    };
    let max_frame_bytes = limits.max_frame_bytes.min(super::MAX_FRAME_BYTES);
    let connection_limits = ConnectionLimits::default()
        .with_max_pending_incoming(Some(limits.max_pending_incoming))
        .with_max_pending_outgoing(Some(limits.max_pending_outgoing))
        .with_max_established(Some(limits.max_established))
        .with_max_established_per_peer(Some(limits.max_established_per_peer));
    let frame_streams = FRAME_STREAMS_PER_WINDOW * frames_in_flight(limits);
    let max_streams =
        frame_streams + CONTROL_STREAMS_PER_CONNECTION + CIRCUIT_STREAMS_PER_CONNECTION;
    let sync_config = request_response::Config::default()
        .with_request_timeout(limits.frame_timeout)
        .with_max_concurrent_streams(frame_streams);

    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            || {
                let mut config = yamux::Config::default();
                config.set_max_num_streams(max_streams);
                config
            },
        )
        .map_err(|e| setup("Noise handshake")(e.into()))?
        .with_quic_config(|mut quic| {
            quic.handshake_timeout = limits.handshake_timeout;
            quic.max_concurrent_stream_limit = u32::try_from(max_streams).unwrap_or(u32::MAX);
            quic
        })
        .with_relay_client(noise::Config::new, move || {
            let mut config = yamux::Config::default();
            config.set_max_num_streams(max_streams);
            config
        })
        .map_err(|e| setup("relay client")(e.into()))?
        .with_behaviour(|key, relay_client| Behaviour {
            allow: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(connection_limits),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL_VERSION.to_owned(), key.public())
                    .with_agent_version("puente".to_owned())
                    // Addresses go to our own book; identify must not feed dials by itself.
                    .with_cache_size(0),
            ),
            ping: ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(limits.ping_interval)
                    .with_timeout(limits.ping_timeout),
            ),
            sync: request_response::Behaviour::with_codec(
                FrameCodec::new(max_frame_bytes, counters.clone()),
                [(PROTOCOL, ProtocolSupport::Full)],
                sync_config,
            ),
            mdns: Toggle::from(mdns),
            relay_client,
            dcutr: dcutr::Behaviour::new(local_peer),
            autonat: autonat::v2::client::Behaviour::default(),
            rpc: request_response::Behaviour::with_codec(
                RpcCodec::new(max_frame_bytes),
                [(RELAY_RPC_PROTOCOL, ProtocolSupport::Outbound)],
                request_response::Config::default().with_request_timeout(limits.frame_timeout),
            ),
        })
        .map_err(|e| match e {})?
        .with_swarm_config(|swarm| {
            swarm
                .with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT)
                .with_max_negotiating_inbound_streams(MAX_NEGOTIATING_INBOUND_STREAMS)
                .with_per_connection_event_buffer_size(PER_CONNECTION_EVENT_BUFFER)
        })
        .with_connection_timeout(limits.handshake_timeout)
        .build();
    Ok(swarm)
}
