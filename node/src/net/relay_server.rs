//! The transport of `puente relay`: libp2p's circuit relay v2 server, the AutoNAT v2 server
//! and identify, behind the same kind of allow-list the nodes use, plus the
//! `/puente/relay/1` request-response protocol whose requests (access updates, mailbox
//! deposits and collections) it hands to its owner as opaque bytes.
//!
//! Invariant: a key the owner has not allowed ([`RelayServer::set_access`]) is disconnected
//! the moment its handshake completes, before any handler exists; removing a key closes its
//! connections at once, and with them every circuit it holds or opened. Only keys marked
//! `reserve` may hold a reservation (others may only open circuits, as a joiner's invitation
//! key does).
//!
//! Boundary: it never reads circuit contents (they are Noise-encrypted end to end between the
//! two members) and knows nothing of envelopes, the mailbox or access lists.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::allow_block_list::{self, AllowedPeers};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::futures::StreamExt as _;
use libp2p::request_response::{self, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, autonat, identify, noise, ping, relay, tcp, yamux,
};
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

use super::codec::{RELAY_RPC_PROTOCOL, RpcCodec, WireFrame};
use super::{
    ActorTask, MAX_FRAME_BYTES, NetError, check_address, is_relayed, parse_address, peer_id,
    public_key,
};
use crate::identity::{PublicKey, SecretKey};

/// Events queued for the owner; beyond this the server stops polling the network.
const EVENT_CHANNEL_CAPACITY: usize = 256;

/// Commands from handles; callers await each reply.
const COMMAND_CHANNEL_CAPACITY: usize = 64;

/// Requests from members awaiting the owner's answer. A member sends one request at a time
/// per job (an access update, a mailbox page); beyond this, new requests are refused.
const MAX_PENDING_REQUESTS: usize = 1024;

/// Identify's protocol-version string, as on member nodes.
const IDENTIFY_PROTOCOL_VERSION: &str = "/puente/1";

/// Limits of a relay. The circuit limits are libp2p's defaults raised so that sync itself can
/// run through the relay (libp2p's 2 minutes and 128 KiB suit only hole punching), with
/// bounds per peer and in total.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayLimits {
    /// Reservations held at once (one per member node that cannot be reached directly).
    pub max_reservations: usize,
    /// Reservations one key may hold (a node renews its own; more is a misbehaving one).
    pub max_reservations_per_peer: usize,
    /// How long a reservation lasts before the node renews it.
    pub reservation_duration: Duration,
    /// Circuits open at once, in total.
    pub max_circuits: usize,
    /// Circuits one key may have open at once, as source or destination.
    pub max_circuits_per_peer: usize,
    /// A circuit is closed after this long; the nodes reconnect (through the relay, or
    /// directly if a hole punch succeeded meanwhile).
    pub max_circuit_duration: Duration,
    /// A circuit is closed after this many bytes in either direction.
    pub max_circuit_bytes: u64,
    /// Reservations plus circuits one key may open per minute.
    pub opens_per_peer_per_minute: u32,
    /// The same per source IP address (several keys behind one address).
    pub opens_per_ip_per_minute: u32,
    /// Established connections in total.
    pub max_connections: u32,
    /// Incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Time allowed for a handshake.
    pub handshake_timeout: Duration,
    /// Time allowed for one request and its answer.
    pub request_timeout: Duration,
    /// How often connections are checked for life.
    pub ping_interval: Duration,
    /// A ping not answered within this closes the connection (and its circuits).
    pub ping_timeout: Duration,
}

impl Default for RelayLimits {
    fn default() -> Self {
        Self {
            // A network of seventy organisations with a few devices each, or several smaller
            // networks, fits.
            max_reservations: 512,
            max_reservations_per_peer: 2,
            reservation_duration: Duration::from_secs(60 * 60),
            // Each member node behind NAT keeps circuits to the partners it syncs with.
            max_circuits: 1024,
            max_circuits_per_peer: 32,
            // Long enough for a day's sync sessions without a reconnect every few minutes.
            max_circuit_duration: Duration::from_secs(60 * 60),
            // The initial sync of 10 000 offers is under 1 MiB; 256 MiB per circuit bounds what
            // one circuit can cost (and 1024 × 256 MiB what all of them can) while leaving
            // room for a busy hour.
            max_circuit_bytes: 256 * 1024 * 1024,
            opens_per_peer_per_minute: 60,
            opens_per_ip_per_minute: 240,
            max_connections: 2048,
            max_pending_incoming: 128,
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(5),
            ping_timeout: Duration::from_secs(10),
        }
    }
}

/// Everything [`RelayServer::spawn`] needs.
#[derive(Debug)]
pub struct RelayServerConfig {
    /// The relay's own key.
    pub key: SecretKey,
    /// Addresses to listen on (`/ip4/0.0.0.0/tcp/4738`, `/ip4/0.0.0.0/udp/4738/quic-v1`).
    pub listen: Vec<String>,
    /// Public addresses members reach it at (for a relay behind a port forward, the router's);
    /// the concrete listen addresses are announced when empty.
    pub announce: Vec<String>,
    /// Limits.
    pub limits: RelayLimits,
}

/// One key the relay lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayAccess {
    /// The key.
    pub key: PublicKey,
    /// Whether it may hold a reservation (member devices), or only open circuits
    /// (invitation keys).
    pub reserve: bool,
}

/// What the relay's transport reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum RelayServerEvent {
    /// A request on `/puente/relay/1`; answer with [`RelayServer::respond`].
    Request {
        /// The sender, authenticated by the handshake.
        from: PublicKey,
        /// Its id, for the answer.
        id: RequestId,
        /// The request's bytes.
        bytes: Vec<u8>,
    },
    /// A non-member completed a handshake and was disconnected (dropped when the channel is
    /// full).
    Refused(PublicKey),
}

/// Identifies a request awaiting an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

/// Counters of what the relay carries, for its status line and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayCounters {
    /// Connections up now.
    pub connections: usize,
    /// Reservations held now.
    pub reservations: usize,
    /// Circuits open now.
    pub circuits: usize,
    /// Circuits opened since start.
    pub circuits_opened: u64,
    /// Reservation and circuit requests denied since start.
    pub denied: u64,
    /// Connections refused after the handshake since start (non-members, revoked keys).
    pub refused: u64,
}

enum Command {
    SetAccess {
        keys: Vec<RelayAccess>,
        reply: oneshot::Sender<()>,
    },
    Respond {
        id: RequestId,
        bytes: Vec<u8>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    Counters {
        reply: oneshot::Sender<RelayCounters>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SetAccess { .. } => "SetAccess",
            Self::Respond { .. } => "Respond",
            Self::ListenAddrs { .. } => "ListenAddrs",
            Self::Counters { .. } => "Counters",
            Self::Shutdown { .. } => "Shutdown",
        })
    }
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<AllowedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    relay: relay::Behaviour,
    autonat: autonat::v2::server::Behaviour,
    rpc: request_response::Behaviour<RpcCodec>,
}

/// A cheap, cloneable handle to the relay's transport.
#[derive(Debug, Clone)]
pub struct RelayServer {
    commands: mpsc::Sender<Command>,
    local: PublicKey,
    _task: Arc<ActorTask>,
}

impl RelayServer {
    /// Starts listening and serving; returns once every listener is bound. Nobody may connect
    /// until [`RelayServer::set_access`] names them.
    pub async fn spawn(
        config: RelayServerConfig,
    ) -> Result<(RelayServer, mpsc::Receiver<RelayServerEvent>), NetError> {
        let local = config.key.public();
        let reservable = Arc::new(Mutex::new(HashSet::new()));
        let mut swarm = build_swarm(&config, reservable.clone())?;
        let mut pending = HashMap::new();
        for text in &config.listen {
            let addr = parse_address(text, None)?;
            if is_relayed(&addr) {
                return Err(NetError::InvalidAddress {
                    addr: text.clone(),
                    reason: "a relay listens directly, not through another relay".into(),
                });
            }
            super::check_port_free(&addr).map_err(|source| NetError::Listen {
                addr: text.clone(),
                source,
            })?;
            let id = swarm.listen_on(addr).map_err(|e| NetError::Listen {
                addr: text.clone(),
                source: match e {
                    libp2p::TransportError::Other(e) => e,
                    libp2p::TransportError::MultiaddrNotSupported(_) => {
                        io::Error::other("address not supported")
                    }
                },
            })?;
            pending.insert(id, text.clone());
        }
        let mut announce = Vec::new();
        for text in &config.announce {
            let addr = parse_address(text, None)?;
            announce.push(check_address(addr, None).map_err(|reason| {
                NetError::InvalidAddress {
                    addr: text.clone(),
                    reason: reason.into(),
                }
            })?);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut bound = Vec::new();
        while !pending.is_empty() {
            let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
                .await
                .map_err(|_| NetError::Listen {
                    addr: pending.values().next().cloned().unwrap_or_default(),
                    source: io::Error::new(io::ErrorKind::TimedOut, "no address was bound"),
                })?;
            match event {
                SwarmEvent::NewListenAddr {
                    listener_id,
                    address,
                } => {
                    pending.remove(&listener_id);
                    bound.push(address);
                }
                SwarmEvent::ListenerClosed {
                    listener_id,
                    reason,
                    ..
                } => {
                    if let Some(addr) = pending.remove(&listener_id) {
                        let source = reason
                            .err()
                            .unwrap_or_else(|| io::Error::other("listener closed"));
                        return Err(NetError::Listen { addr, source });
                    }
                }
                SwarmEvent::ListenerError { listener_id, error } => {
                    if let Some(addr) = pending.remove(&listener_id) {
                        return Err(NetError::Listen {
                            addr,
                            source: error,
                        });
                    }
                }
                _ => {}
            }
        }
        // The relay behaviour serves reservations only once it has an external address: the
        // announced ones, or else the concrete addresses it listens on.
        let external = if announce.is_empty() {
            bound
                .iter()
                .filter(|a| super::actor::is_dialable(a))
                .cloned()
                .collect()
        } else {
            announce
        };
        for addr in external {
            swarm.add_external_address(addr);
        }
        let (event_tx, event_rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
        let actor = ServerActor {
            swarm,
            events: event_tx,
            reservable,
            pending: HashMap::new(),
            next_id: 0,
            counters: RelayCounters::default(),
        };
        let task = tokio::spawn(actor.run(command_rx));
        Ok((
            RelayServer {
                commands: command_tx,
                local,
                _task: Arc::new(ActorTask(task)),
            },
            event_rx,
        ))
    }

    /// The relay's key.
    pub fn local_key(&self) -> PublicKey {
        self.local
    }

    /// Replaces the keys that may connect. A key no longer listed is disconnected at once,
    /// closing its reservation and every circuit through it.
    pub async fn set_access(&self, keys: Vec<RelayAccess>) -> Result<(), NetError> {
        self.request(|reply| Command::SetAccess { keys, reply })
            .await
    }

    /// Answers a request (dropped if its member has gone).
    pub async fn respond(&self, id: RequestId, bytes: Vec<u8>) -> Result<(), NetError> {
        self.commands
            .send(Command::Respond { id, bytes })
            .await
            .map_err(|_| NetError::Closed)
    }

    /// The addresses bound (port 0 resolved).
    pub async fn listen_addrs(&self) -> Result<Vec<String>, NetError> {
        let addrs = self.request(|reply| Command::ListenAddrs { reply }).await?;
        Ok(addrs.iter().map(Multiaddr::to_string).collect())
    }

    /// What the relay carries now.
    pub async fn counters(&self) -> Result<RelayCounters, NetError> {
        self.request(|reply| Command::Counters { reply }).await
    }

    /// Closes every connection and listener and stops.
    pub async fn shutdown(&self) {
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

struct ServerActor {
    swarm: Swarm<Behaviour>,
    events: mpsc::Sender<RelayServerEvent>,
    reservable: Arc<Mutex<HashSet<PeerId>>>,
    pending: HashMap<RequestId, ResponseChannel<WireFrame>>,
    next_id: u64,
    counters: RelayCounters,
}

impl ServerActor {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let shutdown = loop {
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    None => break None,
                    Some(Command::Shutdown { reply }) => break Some(reply),
                    Some(command) => self.handle_command(command),
                },
                event = self.swarm.select_next_some() => self.handle_event(event).await,
            }
        };
        drop(self);
        if let Some(reply) = shutdown {
            let _ = reply.send(());
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::SetAccess { keys, reply } => {
                self.set_access(keys);
                let _ = reply.send(());
            }
            Command::Respond { id, bytes } => {
                if let Some(channel) = self.pending.remove(&id) {
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .rpc
                        .send_response(channel, WireFrame::Data(bytes));
                }
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::Counters { reply } => {
                self.counters.connections = self.swarm.network_info().num_peers();
                let _ = reply.send(self.counters.clone());
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    fn set_access(&mut self, keys: Vec<RelayAccess>) {
        let mut allowed = HashSet::new();
        let mut reserve = HashSet::new();
        for access in keys {
            if let Some(peer) = peer_id(&access.key) {
                allowed.insert(peer);
                if access.reserve {
                    reserve.insert(peer);
                }
            }
        }
        let old: HashSet<PeerId> = self.swarm.behaviour().allow.allowed_peers().clone();
        for removed in old.difference(&allowed) {
            self.swarm.behaviour_mut().allow.disallow_peer(*removed);
            let _ = self.swarm.disconnect_peer_id(*removed);
        }
        for added in allowed.difference(&old) {
            self.swarm.behaviour_mut().allow.allow_peer(*added);
        }
        // A key that may no longer reserve loses its connections too, so its reservation ends
        // now rather than at its expiry.
        let demoted: Vec<PeerId> = {
            let mut current = self
                .reservable
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let demoted = current.difference(&reserve).copied().collect();
            *current = reserve;
            demoted
        };
        for peer in demoted {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    async fn handle_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Rpc(request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            })) => self.handle_request(peer, request, channel).await,
            SwarmEvent::Behaviour(BehaviourEvent::Relay(event)) => self.count_relay_event(&event),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                connection,
                result: Err(error),
                ..
            })) if !matches!(error, ping::Failure::Unsupported) => {
                self.swarm.close_connection(connection);
            }
            SwarmEvent::IncomingConnectionError {
                peer_id: Some(peer),
                error: libp2p::swarm::ListenError::Denied { .. },
                ..
            } => {
                self.counters.refused += 1;
                if let Some(key) = public_key(&peer) {
                    let _ = self.events.try_send(RelayServerEvent::Refused(key));
                }
            }
            _ => {}
        }
    }

    async fn handle_request(
        &mut self,
        peer: PeerId,
        request: WireFrame,
        channel: ResponseChannel<WireFrame>,
    ) {
        let Some(from) = public_key(&peer) else {
            return;
        };
        let WireFrame::Data(bytes) = request else {
            debug!(%peer, "malformed relay request; closing its connections");
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        };
        if self.pending.len() >= MAX_PENDING_REQUESTS {
            debug!(%peer, "too many relay requests waiting; dropping one");
            return;
        }
        self.next_id += 1;
        let id = RequestId(self.next_id);
        self.pending.insert(id, channel);
        // Waiting here is the backpressure: while the owner is busy, the network waits.
        if self
            .events
            .send(RelayServerEvent::Request { from, id, bytes })
            .await
            .is_err()
        {
            self.pending.remove(&id);
        }
    }

    fn count_relay_event(&mut self, event: &relay::Event) {
        match event {
            relay::Event::ReservationReqAccepted { renewed: false, .. } => {
                self.counters.reservations += 1;
            }
            relay::Event::ReservationClosed { .. } | relay::Event::ReservationTimedOut { .. } => {
                self.counters.reservations = self.counters.reservations.saturating_sub(1);
            }
            relay::Event::ReservationReqDenied { .. } | relay::Event::CircuitReqDenied { .. } => {
                self.counters.denied += 1;
            }
            relay::Event::CircuitReqAccepted { .. } => {
                self.counters.circuits += 1;
                self.counters.circuits_opened += 1;
            }
            relay::Event::CircuitClosed { .. } => {
                self.counters.circuits = self.counters.circuits.saturating_sub(1);
            }
            _ => {}
        }
    }
}

fn build_swarm(
    config: &RelayServerConfig,
    reservable: Arc<Mutex<HashSet<PeerId>>>,
) -> Result<Swarm<Behaviour>, NetError> {
    let setup = |what: &'static str| {
        move |e: Box<dyn std::error::Error + Send + Sync>| NetError::Setup { what, source: e }
    };
    let limits = &config.limits;
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut config.key.to_bytes()[..])
        .map_err(|e| setup("relay identity")(e.into()))?;
    let local_peer = keypair.public().to_peer_id();
    let per_minute = |n: u32| NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    let minute = Duration::from_secs(60);
    let may_reserve = move |peer: PeerId, _: &Multiaddr, _| {
        reservable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&peer)
    };
    let mut relay_config = relay::Config {
        max_reservations: limits.max_reservations,
        max_reservations_per_peer: limits.max_reservations_per_peer,
        reservation_duration: limits.reservation_duration,
        max_circuits: limits.max_circuits,
        max_circuits_per_peer: limits.max_circuits_per_peer,
        max_circuit_duration: limits.max_circuit_duration,
        max_circuit_bytes: limits.max_circuit_bytes,
        ..relay::Config::default()
    };
    relay_config.reservation_rate_limiters = Vec::new();
    relay_config.circuit_src_rate_limiters = Vec::new();
    relay_config
        .reservation_rate_limiters
        .push(Box::new(may_reserve));
    // libp2p's limiter gives each key (or IP) a bucket of `limit` tokens and adds one per
    // `interval`: an interval of a minute divided by the limit makes it `limit` per minute,
    // with bursts of up to `limit`.
    let refill = |n: u32| minute / n.max(1);
    let relay_config = relay_config
        .reservation_rate_per_peer(
            per_minute(limits.opens_per_peer_per_minute),
            refill(limits.opens_per_peer_per_minute),
        )
        .reservation_rate_per_ip(
            per_minute(limits.opens_per_ip_per_minute),
            refill(limits.opens_per_ip_per_minute),
        )
        .circuit_src_per_peer(
            per_minute(limits.opens_per_peer_per_minute),
            refill(limits.opens_per_peer_per_minute),
        )
        .circuit_src_per_ip(
            per_minute(limits.opens_per_ip_per_minute),
            refill(limits.opens_per_ip_per_minute),
        );
    let connection_limits = ConnectionLimits::default()
        .with_max_pending_incoming(Some(limits.max_pending_incoming))
        .with_max_established(Some(limits.max_connections))
        .with_max_established_per_peer(Some(4));
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| setup("Noise handshake")(e.into()))?
        .with_quic_config(|mut quic| {
            quic.handshake_timeout = limits.handshake_timeout;
            quic
        })
        .with_behaviour(|key| Behaviour {
            allow: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(connection_limits),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL_VERSION.to_owned(), key.public())
                    .with_agent_version("puente-relay".to_owned())
                    .with_cache_size(0),
            ),
            ping: ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(limits.ping_interval)
                    .with_timeout(limits.ping_timeout),
            ),
            relay: relay::Behaviour::new(local_peer, relay_config),
            autonat: autonat::v2::server::Behaviour::default(),
            rpc: request_response::Behaviour::with_codec(
                RpcCodec::new(MAX_FRAME_BYTES),
                [(RELAY_RPC_PROTOCOL, ProtocolSupport::Inbound)],
                request_response::Config::default()
                    .with_request_timeout(limits.request_timeout)
                    .with_max_concurrent_streams(16),
            ),
        })
        .map_err(|e| match e {})?
        .with_swarm_config(|swarm| {
            swarm.with_idle_connection_timeout(Duration::from_secs(365 * 24 * 60 * 60))
        })
        .with_connection_timeout(limits.handshake_timeout)
        .build();
    Ok(swarm)
}
