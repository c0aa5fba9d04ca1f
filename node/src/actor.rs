//! The node actor: wires the [`Replica`], the sync state machine ([`PeerSync`], one per
//! connected peer) and the transport ([`Net`]) together (see `docs/network.md`, "The actor").
//!
//! [`Node`] is a cheap, cloneable handle; every command goes over a bounded channel to one
//! private task, which owns the replica. Every replica call is synchronous and short and none is
//! held across an `.await` (on a multi-thread runtime they run inside `block_in_place`). Frames
//! are handed to a small sender task per peer, so the actor never waits on the transport while
//! the transport waits on the actor.
//!
//! Membership: the replica's membership log (its heads and ops travel first in every session)
//! decides the transport's allow-list, together with the keys of open invitations; a
//! connection authenticated with an invitation key carries the join handshake
//! ([`crate::invite`]) instead of a sync session. A session that ends with a penalty also
//! closes the connection.
//!
//! Snapshots: sessions are offered the replica's own partition snapshot and the ones it relays
//! ([`Replica::snapshot_offers`]); a received one goes through [`Replica::ingest_snapshot`],
//! is acknowledged like a batch (a forged or tampered one counts as invalid and ends the
//! session) and, once applied, is relayed like envelopes.

mod handover;
mod new_key;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use puente_crdt::{NewOffer, OfferId, Time};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::envelope::format::{Envelope, EnvelopeError};
use crate::identity::PublicKey;
use crate::invite::{InviteState, JoinMessage, JoinRefusal, JoinReply};
use crate::keys::NetworkId;
use crate::membership;
use crate::net::{Net, NetConfig, NetError, NetEvent, NetLimits, PathKind, RelayConfig};
use crate::relay::client::{Job, RelayClient, RelayReport};
use crate::replica::{
    IngestOutcome, Opened, Replica, ReplicaError, SnapshotOffer, SnapshotOutcome,
};
use crate::sync::{Effect, Input, OpId, PeerSync, SnapshotInfo, Source, Vector};

/// Capacity of the command channel: callers await each reply, so this covers concurrent callers.
const COMMAND_CHANNEL_CAPACITY: usize = 64;

/// Frames queued for one peer's sender task; beyond it frames are dropped (the sync protocol
/// recovers lost frames on its tick).
const PEER_QUEUE_CAPACITY: usize = 256;

/// A relay job and its answer (or why there is none).
type RelayAnswer = (Job, Result<Vec<u8>, String>);

/// Answers from relays waiting for the actor: one job per relay at a time, so this covers a
/// few dozen relays.
const RELAY_ANSWERS_CAPACITY: usize = 64;

/// How long a stopping node waits for its last deposits and access update to reach the
/// relays.
const RELAY_FLUSH_GRACE: Duration = Duration::from_secs(3);

/// How often sessions get [`Input::Tick`].
const TICK_INTERVAL: Duration = Duration::from_secs(1);

/// How long shutdown waits for each peer's sender task to hand over its last frames.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Delay before retrying a frame the transport refused as busy (window full).
const BUSY_RETRY: Duration = Duration::from_millis(10);

/// The clock invitations expire by (membership and sync never read it).
pub type Clock = std::sync::Arc<dyn Fn() -> Time + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(|| {
        Time(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        )
    })
}

/// What [`Node::spawn`] needs besides the replica.
#[derive(Clone, Default)]
pub struct NodeConfig {
    /// Multiaddresses to listen on (e.g. `/ip4/127.0.0.1/tcp/0`).
    pub listen: Vec<String>,
    /// Member devices to dial, with an address each.
    pub peers: Vec<(PublicKey, String)>,
    /// Discover members on the local network with mDNS (off unless asked for).
    pub mdns: bool,
    /// The clock invitations expire by; the system clock when `None`.
    pub clock: Option<Clock>,
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("listen", &self.listen)
            .field("peers", &self.peers.len())
            .field("mdns", &self.mdns)
            .finish_non_exhaustive()
    }
}

/// Errors from the node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The actor has stopped (shut down, or it failed).
    #[error("the node has stopped")]
    Closed,
    /// The transport failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The replica refused.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// The operating system would not start the node's thread.
    #[error("cannot start the node's thread: {0}")]
    Thread(String),
}

/// A snapshot of the node's state, for status and tests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NodeStatus {
    /// Peers with a sync session now.
    pub sessions: Vec<PublicKey>,
    /// Per peer with a session: where sync stands.
    pub peers: Vec<PeerInfo>,
    /// When each member device last acknowledged a batch (node clock), since the node started.
    pub last_sync: BTreeMap<PublicKey, Time>,
    /// Non-members the transport refused since start.
    pub refused: u64,
    /// Sync sessions this node ended since start because the peer misbehaved (sent invalid
    /// data or broke the protocol's limits).
    pub penalties: u64,
    /// Envelopes of revoked keys that peers sent since start and this node did not apply:
    /// beyond the revocation's limit they wait (bounded) in case a still-valid key's change
    /// builds on them, or are refused once the buffer is full. A partner that had not heard of
    /// the revocation relays them in good faith, so the sender is not blamed.
    pub revoked_held_back: u64,
    /// Sync frames handed to the transport since start, and their bytes.
    pub frames_sent: u64,
    /// Bytes of those frames.
    pub bytes_sent: u64,
    /// Sync frames received since start.
    pub frames_received: u64,
    /// Bytes of those frames.
    pub bytes_received: u64,
    /// Bytes that crossed the wire for all frames (compressed, with framing), sent.
    pub wire_bytes_sent: u64,
    /// The same, received.
    pub wire_bytes_received: u64,
    /// How each member device was last reached, and since when (node clock): direct, through
    /// a relay, or unreachable (since it was lost, or since the node started).
    pub paths: BTreeMap<PublicKey, PeerPath>,
    /// The network's relays as this node sees them, and since when (node clock).
    pub relays: BTreeMap<PublicKey, RelayView>,
    /// Per relay: what this node deposited in and collected from its mailbox, and the last
    /// problem it reported.
    pub mailbox: BTreeMap<PublicKey, RelayReport>,
    /// Mailbox entries collected that wait for an epoch key this node does not hold yet.
    pub mailbox_waiting: usize,
}

/// How a member device is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reach {
    /// A connection without a relay in between.
    Direct,
    /// Only through this relay.
    Relayed(PublicKey),
    /// No connection.
    Unreachable,
}

/// A member device's path and since when it holds (node clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerPath {
    /// How it is reached.
    pub reach: Reach,
    /// Since when.
    pub since: Time,
}

/// A relay of the network as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayView {
    /// It holds a reservation for this node (members can reach us through it).
    pub reserved: bool,
    /// Since when that holds (node clock; the node's start if nothing happened yet).
    pub since: Time,
}

/// Where sync with one connected peer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerInfo {
    /// The peer's device key.
    pub key: PublicKey,
    /// Both sides have said hello.
    pub established: bool,
    /// Envelopes this node holds that the peer is not known to have.
    pub envelopes_pending: u64,
    /// Batches sent and not acknowledged yet.
    pub in_flight: usize,
}

enum Command {
    AddOffer {
        offer: Box<NewOffer>,
        now: Time,
        reply: oneshot::Sender<Result<OfferId, ReplicaError>>,
    },
    OfferHandles {
        reply: oneshot::Sender<Vec<String>>,
    },
    Status {
        reply: oneshot::Sender<NodeStatus>,
    },
    Control(Box<dyn FnOnce(&mut Control<'_>) + Send>),
}

/// What a closure passed to [`Node::with_control`] works with: the node's replica, a status
/// snapshot taken just before, and requests for the transport that run after the closure.
#[derive(Debug)]
pub struct Control<'a> {
    replica: &'a mut Replica,
    status: NodeStatus,
    addresses: Vec<(PublicKey, String)>,
}

impl Control<'_> {
    /// The node's replica. Anything written here is pushed to connected peers after the
    /// closure returns.
    pub fn replica(&mut self) -> &mut Replica {
        self.replica
    }

    /// The status of the node just before the closure started.
    pub fn status(&self) -> &NodeStatus {
        &self.status
    }

    /// Records an address for a member device, dialled after the closure returns.
    pub fn add_address(&mut self, key: PublicKey, addr: String) {
        self.addresses.push((key, addr));
    }
}

/// A cheap, cloneable handle to a running node. The actor stops on [`Node::shutdown`] or when
/// every handle is gone; afterwards calls return [`NodeError::Closed`].
#[derive(Debug, Clone)]
pub struct Node {
    commands: mpsc::Sender<Command>,
    shutdown: mpsc::Sender<oneshot::Sender<()>>,
    /// The transport and the device key it runs under: both change when the device moves to a
    /// new key (a history erasure), so the actor and every handle share them.
    transport: Arc<Mutex<(Net, PublicKey)>>,
}

impl Node {
    /// Starts the transport with the replica's device key, listening on `config.listen` and
    /// dialling `config.peers`, and the actor that owns `replica`. Only keys in
    /// [`Replica::members`] (other than this device) may connect.
    pub async fn spawn(replica: Replica, config: NodeConfig) -> Result<Node, NodeError> {
        let clock = config.clock.clone().unwrap_or_else(system_clock);
        // An erasure the store has not applied yet (a crash, or a key that arrived since) is
        // applied first, so the transport starts under the key the device has after it.
        let mut replica = replica;
        if let Err(e) = replica.apply_erasures(clock()) {
            tracing::warn!(error = %e, "cannot apply a history erasure yet");
        }
        let key = replica.public_key();
        let allowed = allowed_peers(&replica, clock());
        let mut known = replica.peers().pairs();
        known.extend(config.peers.iter().cloned());
        let relays_now = relay_configs(&replica);
        let started_with = TransportState::new(&replica, allowed.clone(), relays_now.clone());
        // A device restored from a backup that partners do not know yet (`actor/handover.rs`).
        let handover = handover::Handover::start(
            &replica,
            started_with.dial.clone(),
            known.clone(),
            relays_now.clone(),
            config.mdns,
        )
        .await?;
        let (handover, handover_events) = handover.unzip();
        let (net, events) = Net::spawn(NetConfig {
            key: replica.device_key(),
            listen: config.listen,
            allowed: started_with.dial.clone(),
            known_addresses: known,
            mdns: config.mdns,
            relays: relays_now.clone(),
            accept_only: started_with.accept_only.clone(),
            limits: NetLimits::default(),
        })
        .await?;
        let started = clock();
        let shared = Arc::new(Mutex::new((net.clone(), key)));
        let (transport_tx, transport_rx) = tokio::sync::watch::channel(started_with.clone());
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
        let (shutdown_tx, shutdown_rx) = mpsc::channel(1);
        // Receipts or a rotation the log asked for while the node was not running (a bundle
        // imported offline, a crash between applying a revocation and answering it).
        let mut replica = replica;
        if let Err(e) = replica.membership_follow_up(clock()) {
            tracing::warn!(error = %e, "cannot answer a membership change");
        }
        let logged_revocations = effective_revocations(&replica);
        let actor = NodeActor {
            network: replica.network_secret().0,
            replica,
            net: net.clone(),
            sessions: BTreeMap::new(),
            senders: BTreeMap::new(),
            sender_tasks: Vec::new(),
            origin: Instant::now(),
            refused: 0,
            revoked_held_back: 0,
            penalties: 0,
            membership_changed: false,
            rollback_logged: false,
            logged_revocations,
            allowed,
            clock,
            joiners: BTreeMap::new(),
            last_sync: BTreeMap::new(),
            traffic: Traffic::default(),
            started,
            paths: BTreeMap::new(),
            relay_views: BTreeMap::new(),
            relays: relays_now,
            transport: transport_tx,
            transport_rx: Some((started_with, transport_rx)),
            relay_client: RelayClient::default(),
            relay_answers: None,
            relay_tasks: tokio::task::JoinSet::new(),
            transport_tasks: tokio::task::JoinSet::new(),
            handover,
            identity: key,
            mdns: config.mdns,
            start_peers: config.peers,
            shared: Arc::clone(&shared),
            transport_task: None,
        };
        // The actor gets a thread and a single-threaded runtime of its own: its replica calls
        // block on the disk (durable commits), which must not stall the runtime the transport
        // and the caller run on, and a dedicated thread avoids handing worker queues around on
        // every event as `block_in_place` would.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NodeError::Thread(e.to_string()))?;
        std::thread::Builder::new()
            .name("puente-node".into())
            .spawn(move || {
                runtime.block_on(actor.run(shutdown_rx, command_rx, events, handover_events))
            })
            .map_err(|e| NodeError::Thread(e.to_string()))?;
        Ok(Node {
            commands: command_tx,
            shutdown: shutdown_tx,
            transport: shared,
        })
    }

    /// This device's key.
    pub fn public_key(&self) -> PublicKey {
        self.transport
            .lock()
            .map(|t| t.1)
            .unwrap_or_else(|e| e.into_inner().1)
    }

    /// The transport now (another one after the device moved to a new key).
    fn net(&self) -> Net {
        self.transport
            .lock()
            .map(|t| t.0.clone())
            .unwrap_or_else(|e| e.into_inner().0.clone())
    }

    /// Adds an offer for this organisation and pushes it to every connected peer.
    pub async fn add_offer(&self, offer: NewOffer, now: Time) -> Result<OfferId, NodeError> {
        let offer = Box::new(offer);
        Ok(self
            .request(|reply| Command::AddOffer { offer, now, reply })
            .await??)
    }

    /// The handles of every offer in the view (all organisations), sorted.
    pub async fn offer_handles(&self) -> Result<Vec<String>, NodeError> {
        self.request(|reply| Command::OfferHandles { reply }).await
    }

    /// Runs `f` on the node's own task with its replica (see [`Control`]): how the control
    /// socket serves CLI commands while the node runs. `f` must be short; the node handles
    /// nothing else meanwhile. Changes it makes are pushed to peers afterwards.
    pub async fn with_control<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Control<'_>) -> R + Send + 'static,
    ) -> Result<R, NodeError> {
        let (reply, response) = oneshot::channel();
        let job: Box<dyn FnOnce(&mut Control<'_>) + Send> = Box::new(move |control| {
            let _ = reply.send(f(control));
        });
        self.commands
            .send(Command::Control(job))
            .await
            .map_err(|_| NodeError::Closed)?;
        response.await.map_err(|_| NodeError::Closed)
    }

    /// Sessions and refusals now.
    pub async fn status(&self) -> Result<NodeStatus, NodeError> {
        self.request(|reply| Command::Status { reply }).await
    }

    /// The addresses the transport is bound to (port 0 resolved).
    pub async fn listen_addrs(&self) -> Result<Vec<String>, NodeError> {
        self.net().listen_addrs().await.map_err(closed)
    }

    /// Records an address for a member device and dials it if not connected.
    pub async fn add_peer(&self, key: PublicKey, addr: &str) -> Result<(), NodeError> {
        self.net().add_address(key, addr).await.map_err(closed)
    }

    /// Ends every session politely, stops the transport and closes the replica. Idempotent.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self.shutdown.send(reply).await.is_ok() {
            let _ = done.await;
        }
    }

    async fn request<R>(
        &self,
        command: impl FnOnce(oneshot::Sender<R>) -> Command,
    ) -> Result<R, NodeError> {
        let (reply, response) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| NodeError::Closed)?;
        response.await.map_err(|_| NodeError::Closed)
    }
}

fn closed(e: NetError) -> NodeError {
    match e {
        NetError::Closed => NodeError::Closed,
        e => NodeError::Net(e),
    }
}

/// The transport's allow-list: member devices other than this one, and the keys of
/// invitations a joiner may still use.
fn allowed_peers(replica: &Replica, now: Time) -> Vec<PublicKey> {
    let mut keys = replica.member_devices();
    keys.extend(replica.reachable_invitations(now));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The relays the network chose, as the transport takes them.
fn relay_configs(replica: &Replica) -> Vec<RelayConfig> {
    replica
        .relays()
        .into_iter()
        .filter(|relay| relay.key != replica.public_key())
        .map(|relay| RelayConfig {
            key: relay.key,
            addresses: relay.addresses,
        })
        .collect()
}

/// What the transport is told: the allow-list and the relays. Kept in a `watch` channel read
/// by one task, so the transport always ends up with the newest state: two updates can
/// never reach it in the wrong order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TransportState {
    /// Member devices: dialled (or reached through the ring's targets) and let in.
    dial: Vec<PublicKey>,
    /// Let in, never dialled: invitation keys and joiners still connected.
    accept_only: Vec<PublicKey>,
    relays: Vec<RelayConfig>,
}

impl TransportState {
    /// Splits the allow-list into member devices and the rest.
    fn new(replica: &Replica, allowed: Vec<PublicKey>, relays: Vec<RelayConfig>) -> Self {
        let members = replica.member_devices();
        let (dial, accept_only) = allowed.into_iter().partition(|k| members.contains(k));
        Self {
            dial,
            accept_only,
            relays,
        }
    }
}

/// What [`apply_transport_state`] asks of the transport; a trait so that a test can watch the
/// order in which updates arrive.
trait TransportSink: Send + Sync + 'static {
    /// Replaces the member devices to dial and the keys only let in.
    fn set_peers(
        &self,
        dial: Vec<PublicKey>,
        accept_only: Vec<PublicKey>,
    ) -> impl Future<Output = Result<(), NetError>> + Send;
    /// Replaces the relays.
    fn set_relays(
        &self,
        relays: Vec<RelayConfig>,
    ) -> impl Future<Output = Result<(), NetError>> + Send;
}

impl TransportSink for Net {
    fn set_peers(
        &self,
        dial: Vec<PublicKey>,
        accept_only: Vec<PublicKey>,
    ) -> impl Future<Output = Result<(), NetError>> + Send {
        Net::set_peers(self, dial, accept_only)
    }

    fn set_relays(
        &self,
        relays: Vec<RelayConfig>,
    ) -> impl Future<Output = Result<(), NetError>> + Send {
        Net::set_relays(self, relays)
    }
}

/// Applies every new [`TransportState`] to the transport, in order, until the actor drops
/// its sender. Invariant: one update is applied at a time, and an update is never applied
/// after a newer one (states in between may be skipped: only the newest matters).
async fn apply_transport_state<T: TransportSink>(
    net: T,
    mut applied: TransportState,
    mut rx: tokio::sync::watch::Receiver<TransportState>,
) {
    // `applied` is what the transport was started with: a state sent before this task first
    // runs is seen as a change, never taken for the starting point.
    loop {
        let next = rx.borrow_and_update().clone();
        if next == applied {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        }
        if (next.dial != applied.dial || next.accept_only != applied.accept_only)
            && let Err(e) = net
                .set_peers(next.dial.clone(), next.accept_only.clone())
                .await
        {
            tracing::warn!(error = %e, "cannot update the member list of the transport");
        }
        if next.relays != applied.relays
            && let Err(e) = net.set_relays(next.relays.clone()).await
        {
            tracing::warn!(error = %e, "cannot update the relays of the transport");
        }
        applied = next;
    }
}

/// What a session reads: the replica, the table of sessions, and the partition snapshots the
/// replica can send (its own, rebuilt every few hundred own writes, and relayed ones).
struct Src<'a> {
    replica: &'a Replica,
    network: NetworkId,
    peers: Vec<PublicKey>,
    snapshots: Vec<SnapshotOffer>,
}

impl Source for Src<'_> {
    fn network(&self) -> NetworkId {
        self.network
    }

    fn version_vector(&self) -> Vector {
        self.replica.version_vector()
    }

    fn membership_heads(&self) -> Vec<OpId> {
        // The summary rather than bare heads: after concurrent writes a peer knows none of our
        // heads but some older ops listed, so it sends what diverged instead of everything.
        self.replica
            .membership()
            .map(|log| log.summary().iter().map(|id| *id.as_bytes()).collect())
            .unwrap_or_default()
    }

    fn ops_missing_from(
        &self,
        theirs: &[OpId],
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<Vec<u8>> {
        let Some(log) = self.replica.membership() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let theirs: Vec<membership::OpId> = theirs
            .iter()
            .map(|id| membership::OpId::from_bytes(*id))
            .collect();
        for op in log.ops_missing_from(&theirs) {
            if out.len() == max_count || (!out.is_empty() && bytes + op.len() > max_bytes) {
                break;
            }
            bytes += op.len();
            out.push(op);
        }
        out
    }

    fn envelopes_after(
        &self,
        author: &PublicKey,
        after: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<Vec<u8>> {
        self.replica
            .envelopes_after(author, after, max_count, max_bytes)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the log");
                Vec::new()
            })
    }

    fn connected_peers(&self) -> Vec<PublicKey> {
        self.peers.clone()
    }

    fn snapshots(&self) -> Vec<SnapshotInfo> {
        self.snapshots
            .iter()
            .map(|offer| SnapshotInfo {
                id: offer.id,
                covers: offer.covers.clone(),
                len: offer.len,
            })
            .collect()
    }

    fn snapshot_bytes(&self, id: &[u8; 32]) -> Option<Vec<u8>> {
        self.replica.snapshot_bytes(id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read a snapshot");
            None
        })
    }
}

struct NodeActor {
    replica: Replica,
    network: NetworkId,
    net: Net,
    sessions: BTreeMap<PublicKey, PeerSync>,
    senders: BTreeMap<PublicKey, mpsc::Sender<Outgoing>>,
    /// The sender tasks, so that shutdown waits for them to hand over their last frames.
    sender_tasks: Vec<tokio::task::JoinHandle<()>>,
    origin: Instant,
    refused: u64,
    revoked_held_back: u64,
    penalties: u64,
    /// The membership log accepted ops since the allow-list was last set.
    membership_changed: bool,
    /// Whether this run has logged that the store was found rolled back (once per run).
    rollback_logged: bool,
    /// The effective revocations already in the log at start or logged since: each is logged
    /// once, when it is applied.
    logged_revocations: BTreeSet<membership::OpId>,
    /// The allow-list last given to the transport.
    allowed: Vec<PublicKey>,
    clock: Clock,
    /// Connections authenticated with an invitation key, and their frame senders.
    joiners: BTreeMap<PublicKey, mpsc::Sender<Outgoing>>,
    last_sync: BTreeMap<PublicKey, Time>,
    traffic: Traffic,
    /// When the node started (node clock): members not reached yet are unreachable since.
    started: Time,
    /// Per member device, how it was last reached and since when.
    paths: BTreeMap<PublicKey, PeerPath>,
    /// Per relay, whether it holds our reservation and since when.
    relay_views: BTreeMap<PublicKey, RelayView>,
    /// The relays last given to the transport.
    relays: Vec<RelayConfig>,
    /// The newest allow-list and relays for the transport (see [`TransportState`]).
    transport: tokio::sync::watch::Sender<TransportState>,
    /// Taken by `run`, which starts the task that applies it.
    transport_rx: Option<(TransportState, tokio::sync::watch::Receiver<TransportState>)>,
    /// Access updates and mailbox work for the network's relays.
    relay_client: RelayClient,
    /// Where relay requests' answers come back (set by `run`).
    relay_answers: Option<mpsc::Sender<RelayAnswer>>,
    /// The requests to relays in flight, owned here and aborted when the node stops.
    relay_tasks: tokio::task::JoinSet<()>,
    /// One-off requests to the transport (hang up on a peer, use an address a command gave):
    /// owned here, reaped every tick and ended with the node.
    transport_tasks: tokio::task::JoinSet<()>,
    /// While a device restored from a backup hands its new key over to partners, the transport
    /// with the replaced device's identity (`actor/handover.rs`).
    handover: Option<handover::Handover>,
    /// The device key the transport runs under: when the replica's differs (it applied a
    /// history erasure), the transport is replaced.
    identity: PublicKey,
    /// Whether the transport announces itself with mDNS.
    mdns: bool,
    /// The addresses the node was started with (`--peer`), besides the replica's book.
    start_peers: Vec<(PublicKey, String)>,
    /// The transport and key [`Node`] handles use.
    shared: Arc<Mutex<(Net, PublicKey)>>,
    /// The task that applies allow-list and relay changes to the transport.
    transport_task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Traffic {
    frames_sent: u64,
    bytes_sent: u64,
    frames_received: u64,
    bytes_received: u64,
}

impl NodeActor {
    async fn run(
        mut self,
        mut shutdown: mpsc::Receiver<oneshot::Sender<()>>,
        mut commands: mpsc::Receiver<Command>,
        mut events: mpsc::Receiver<NetEvent>,
        mut handover_events: Option<mpsc::Receiver<NetEvent>>,
    ) {
        let mut tick = tokio::time::interval(TICK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Owned here and ended with the loop: it stops when the sender is dropped, and is
        // aborted if it is still waiting on the transport then.
        self.transport_task = self.transport_rx.take().map(|(started, rx)| {
            tokio::spawn(apply_transport_state(self.net.clone(), started, rx))
        });
        let (answers_tx, mut answers) = mpsc::channel(RELAY_ANSWERS_CAPACITY);
        self.relay_answers = Some(answers_tx);
        self.log_rollback();
        let done = loop {
            tokio::select! {
                biased;
                reply = shutdown.recv() => break reply,
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break None,
                },
                event = events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => break None,
                },
                Some((job, answer)) = answers.recv() => self.on_relay_answer(job, answer),
                Some(event) = next_event(&mut handover_events) => self.on_handover_event(event),
                _ = tick.tick() => {
                    while self.transport_tasks.try_join_next().is_some() {}
                    let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
                    self.feed(peers, Input::Tick);
                    self.handover_tick();
                    self.start_relay_jobs();
                }
            }
            if self.replica.public_key() != self.identity {
                match self.replace_transport().await {
                    Ok((new_events, new_handover)) => {
                        events = new_events;
                        handover_events = new_handover;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot start the transport under this device's new key; stopping");
                        break None;
                    }
                }
            }
            if self.handover.is_none() {
                handover_events = None;
            }
            self.log_rollback();
        };
        if let Some(handover) = self.handover.take() {
            handover.shutdown().await;
        }
        // What this node wrote (and, on an admin's node, who may use the relay) reaches the
        // relays' mailboxes before it goes: a laptop closed right after a change.
        self.flush_relays(&mut answers).await;
        let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
        self.feed(peers, Input::Shutdown);
        // Let the sender tasks hand over the Byes before the transport stops: dropping their
        // channels ends each task once its queue is empty.
        self.senders.clear();
        for task in std::mem::take(&mut self.sender_tasks) {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        if let Some(task) = self.transport_task.take() {
            task.abort();
        }
        self.relay_tasks.shutdown().await;
        // Hang-ups still waiting on the transport: the transport is about to close every
        // connection anyway.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while self.transport_tasks.join_next().await.is_some() {}
        })
        .await;
        self.transport_tasks.shutdown().await;
        self.net.shutdown().await;
        let replica = self.replica;
        if let Err(e) = replica.close() {
            tracing::warn!(error = %e, "closing the replica failed");
        }
        if let Some(reply) = done {
            let _ = reply.send(());
        }
    }

    /// Logs once per run, at warn, that this store was found rolled back: at start if the
    /// record was there, or when the replica notices it.
    fn log_rollback(&mut self) {
        if self.rollback_logged {
            return;
        }
        let Some(r) = self.replica.rollback().filter(|r| r.is_proven()) else {
            return;
        };
        self.rollback_logged = true;
        tracing::warn!(
            held = r.held,
            seen = r.seen,
            evidence = ?r.evidence,
            "this store is older than what partners hold from this device (restored from an older copy?): it writes nothing more under this device's key, which would fork its history; replace this device and revoke its key"
        );
    }

    fn is_invitation(&self, key: &PublicKey) -> bool {
        self.replica.invitations().iter().any(|i| i.key() == *key)
    }

    fn heads(&self) -> Vec<OpId> {
        self.replica
            .membership()
            .map(|log| log.heads().iter().map(|id| *id.as_bytes()).collect())
            .unwrap_or_default()
    }

    fn status(&self) -> NodeStatus {
        let src = Src {
            replica: &self.replica,
            network: self.network,
            peers: self.sessions.keys().copied().collect(),
            snapshots: Vec::new(),
        };
        let peers = self
            .sessions
            .iter()
            .map(|(key, session)| {
                let s = session.status(&src);
                PeerInfo {
                    key: *key,
                    established: s.established,
                    envelopes_pending: s.envelopes_pending,
                    in_flight: s.in_flight,
                }
            })
            .collect();
        NodeStatus {
            sessions: self.sessions.keys().copied().collect(),
            peers,
            last_sync: self.last_sync.clone(),
            refused: self.refused,
            revoked_held_back: self.revoked_held_back,
            penalties: self.penalties,
            frames_sent: self.traffic.frames_sent,
            bytes_sent: self.traffic.bytes_sent,
            frames_received: self.traffic.frames_received,
            bytes_received: self.traffic.bytes_received,
            wire_bytes_sent: self.net.wire_bytes().0,
            wire_bytes_received: self.net.wire_bytes().1,
            paths: self
                .allowed
                .iter()
                .filter(|key| !self.joiners.contains_key(key) && !self.is_invitation(key))
                .map(|key| {
                    let path = self.paths.get(key).copied().unwrap_or(PeerPath {
                        reach: Reach::Unreachable,
                        since: self.started,
                    });
                    (*key, path)
                })
                .collect(),
            mailbox: self
                .relay_client
                .reports()
                .into_iter()
                .map(|(relay, mut report)| {
                    report.pending = self
                        .replica
                        .mailbox_pending(&self.replica.mailbox_cursor(&relay));
                    (relay, report)
                })
                .collect(),
            mailbox_waiting: self.relay_client.waiting(),
            relays: self
                .relays
                .iter()
                .map(|relay| {
                    let view = self
                        .relay_views
                        .get(&relay.key)
                        .copied()
                        .unwrap_or(RelayView {
                            reserved: false,
                            since: self.started,
                        });
                    (relay.key, view)
                })
                .collect(),
        }
    }

    /// Notes when `peer` last acknowledged something (node clock), for status.
    fn note_ack(&mut self, peer: &PublicKey) {
        let Some(at) = self.sessions.get(peer).and_then(PeerSync::last_ack) else {
            return;
        };
        let ago = i64::try_from(self.now().saturating_sub(at).as_secs()).unwrap_or(0);
        let wall = (self.clock)();
        self.last_sync.insert(*peer, Time(wall.0 - ago));
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::AddOffer { offer, now, reply } => {
                let result = self.replica.add_offer(*offer, now);
                let ok = result.is_ok();
                let _ = reply.send(result);
                if ok {
                    let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
                    self.feed(peers, Input::LocalChanged);
                    self.start_relay_jobs();
                }
            }
            Command::OfferHandles { reply } => {
                let mut handles: Vec<String> = self
                    .replica
                    .view()
                    .offers()
                    .map(|o| o.fields.handle.clone())
                    .collect();
                handles.sort();
                let _ = reply.send(handles);
            }
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
            Command::Control(job) => {
                let heads_before = self.heads();
                let mut control = Control {
                    status: self.status(),
                    replica: &mut self.replica,
                    addresses: Vec::new(),
                };
                job(&mut control);
                let addresses = control.addresses;
                for (key, addr) in addresses {
                    let net = self.net.clone();
                    self.transport_tasks.spawn(async move {
                        if let Err(e) = net.add_address(key, &addr).await {
                            tracing::warn!(error = %e, "cannot use a peer address");
                        }
                    });
                }
                if self.heads() != heads_before {
                    self.membership_changed = true;
                }
                self.update_allowed();
                self.deliver_confirmed();
                let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
                self.feed(peers, Input::LocalChanged);
                self.start_relay_jobs();
            }
        }
    }

    fn on_event(&mut self, event: NetEvent) {
        match event {
            NetEvent::Connected(peer) if self.is_invitation(&peer) => {
                let (tx, task) = spawn_sender(self.net.clone(), peer);
                self.joiners.insert(peer, tx);
                self.sender_tasks.retain(|t| !t.is_finished());
                self.sender_tasks.push(task);
            }
            NetEvent::Connected(peer) if !self.allowed.contains(&peer) => {
                // Established before the transport heard that the key was removed (a
                // revocation applied a moment ago): no session, nothing sent.
                self.hang_up(peer);
            }
            NetEvent::Connected(peer) => {
                tracing::info!(partner = %short_key(&peer), "partner connected");
                // A fresh connection starts a fresh session (a stale one is replaced).
                self.end_session(&peer);
                self.sessions
                    .insert(peer, PeerSync::new(self.replica.public_key(), peer));
                let (tx, task) = spawn_sender(self.net.clone(), peer);
                self.senders.insert(peer, tx);
                self.sender_tasks.retain(|t| !t.is_finished());
                self.sender_tasks.push(task);
                self.feed(vec![peer], Input::Connected);
            }
            NetEvent::Disconnected(peer) if self.joiners.remove(&peer).is_some() => {
                // A spent invitation's key is refused from now on.
                self.update_allowed();
            }
            NetEvent::Disconnected(peer) => {
                if self.sessions.contains_key(&peer) {
                    tracing::info!(partner = %short_key(&peer), "partner disconnected");
                }
                let since = (self.clock)();
                self.paths.insert(
                    peer,
                    PeerPath {
                        reach: Reach::Unreachable,
                        since,
                    },
                );
                if self.end_session(&peer) {
                    let others: Vec<PublicKey> = self.sessions.keys().copied().collect();
                    self.feed(others, Input::Refresh);
                }
            }
            NetEvent::Frame { from, bytes } if self.joiners.contains_key(&from) => {
                self.on_join_frame(from, &bytes);
                if std::mem::take(&mut self.membership_changed) {
                    self.on_membership_changed();
                }
            }
            NetEvent::Frame { from, bytes } => {
                // A frame on this device's own key: the partner let it in (a key it does not
                // list is cut off before any stream), which ends a restored device's handover.
                // (`Connected` is no proof: it reports our side of the handshake.)
                self.handover_reached(from);
                self.traffic.frames_received += 1;
                self.traffic.bytes_received += bytes.len() as u64;
                self.feed(vec![from], Input::Received(&bytes));
                self.note_ack(&from);
            }
            NetEvent::Refused { peer } => {
                self.refused += 1;
                // The start of the key only: enough for the operator to match it against
                // `puente peer list` or a revocation, nothing more.
                tracing::info!(key = %short_key(&peer), "refused a connection from a key that is not a member");
            }
            NetEvent::Misbehaved { peer, reason } => {
                // Who it was is partnership metadata: the key only at debug level.
                tracing::warn!(%reason, "a member broke the framing rules; its connection was closed");
                tracing::debug!(%peer, "the member that broke the framing rules");
            }
            NetEvent::PathChanged { peer, path } => {
                let reach = match path {
                    PathKind::Relayed { relay } => Reach::Relayed(relay),
                    _ => Reach::Direct,
                };
                let since = (self.clock)();
                self.paths.insert(peer, PeerPath { reach, since });
            }
            NetEvent::RelayReserved(relay) => {
                let since = (self.clock)();
                self.relay_views.insert(
                    relay,
                    RelayView {
                        reserved: true,
                        since,
                    },
                );
                self.relay_client.reserved(relay, self.now());
                self.start_relay_jobs();
            }
            NetEvent::RelayLost(relay) => {
                let since = (self.clock)();
                self.relay_views.insert(
                    relay,
                    RelayView {
                        reserved: false,
                        since,
                    },
                );
                self.relay_client.lost(relay);
            }
            NetEvent::RelayRefused(relay) => {
                tracing::debug!(%relay, "a relay turned this device away");
                self.relay_client.refused(relay);
            }
            NetEvent::Learned { peer, addresses } => {
                // Kept, so that after a restart this node can dial partners that so far only
                // dialled it, and new members receive them with their invitation.
                for addr in addresses {
                    if let Err(e) = self.replica.add_peer_address(peer, &addr) {
                        tracing::debug!(error = %e, "cannot keep a learned address");
                    }
                }
            }
        }
    }

    /// Removes a session and its sender; whether there was one. Records what the peer was
    /// known to hold, so that an offline bundle for its organisation carries only what it
    /// lacks (one durable write per session, not per batch).
    fn end_session(&mut self, peer: &PublicKey) -> bool {
        self.senders.remove(peer);
        let Some(session) = self.sessions.remove(peer) else {
            return false;
        };
        if let Some(seq) = self.replica.end_sync_claim(peer) {
            tracing::warn!(
                partner = %short_key(peer),
                seq,
                "a partner claimed more of this device's changes than this store holds, but sent none of them before its session ended; local writes go on"
            );
        }
        let vector = session.peer_vector().clone();
        let org = self
            .replica
            .membership()
            .and_then(|log| log.state().device(peer))
            .map(|d| d.org);
        if let Some(org) = org
            && !vector.is_empty()
            && let Err(e) = self.replica.record_peer_vector(org, vector)
        {
            tracing::debug!(error = %e, "cannot record what a peer holds");
        }
        true
    }

    /// Passes `input` to the sessions with `peers`, then performs every effect that follows,
    /// including the relay ([`Input::LocalChanged`] to every session after anything applied).
    fn feed(&mut self, peers: Vec<PublicKey>, input: Input<'_>) {
        let mut queue: VecDeque<(PublicKey, Effect)> = VecDeque::new();
        for peer in peers {
            self.handle(peer, input, &mut queue);
        }
        let mut relay = false;
        loop {
            while let Some((peer, effect)) = queue.pop_front() {
                relay |= self.perform(peer, effect, &mut queue);
            }
            if !relay {
                break;
            }
            relay = false;
            let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
            for peer in peers {
                self.handle(peer, Input::LocalChanged, &mut queue);
            }
        }
        if std::mem::take(&mut self.membership_changed) {
            self.on_membership_changed();
        }
    }

    /// The member set may have changed: give the transport the new allow-list (removed keys
    /// are cut off there at once) and let every session tell its peer our new heads.
    /// Sends each relay its next request (see [`RelayClient`]); answers come back to
    /// [`Self::on_relay_answer`].
    fn start_relay_jobs(&mut self) {
        let Some(answers) = self.relay_answers.clone() else {
            return;
        };
        let jobs = self
            .relay_client
            .next_jobs(&self.replica, self.now(), (self.clock)());
        for job in jobs {
            let net = self.net.clone();
            let answers = answers.clone();
            self.relay_tasks.spawn(async move {
                let answer = net
                    .relay_request(job.relay, job.request.clone())
                    .await
                    .map_err(|e| e.to_string());
                // The actor has stopped if this fails; nothing is lost (cursors move only
                // when an answer is applied).
                let _ = answers.send((job, answer)).await;
            });
        }
        while self.relay_tasks.try_join_next().is_some() {}
    }

    /// Runs relay jobs until none is due or [`RELAY_FLUSH_GRACE`] is over.
    async fn flush_relays(&mut self, answers: &mut mpsc::Receiver<RelayAnswer>) {
        let deadline = Instant::now() + RELAY_FLUSH_GRACE;
        self.start_relay_jobs();
        while self.relay_client.busy() {
            match tokio::time::timeout_at(deadline, answers.recv()).await {
                Ok(Some((job, answer))) => self.on_relay_answer(job, answer),
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// Applies a relay's answer: moves the mailbox cursors and applies collected entries
    /// (membership ops first, then envelopes), then asks for the next job.
    fn on_relay_answer(&mut self, job: Job, answer: Result<Vec<u8>, String>) {
        let now = self.now();
        let collected = self
            .relay_client
            .finish(&mut self.replica, &job, answer, now);
        self.apply_opened(collected.opened);
        self.start_relay_jobs();
    }

    /// Applies entries opened from a mailbox, as if a peer had sent them.
    fn apply_opened(&mut self, opened: Opened) {
        let mut changed = false;
        if !opened.ops.is_empty() {
            let now = (self.clock)();
            match self
                .replica
                .apply_membership_and_follow_up(&opened.ops, now)
            {
                Ok((update, _)) if update.accepted > 0 => {
                    self.membership_changed = true;
                    changed = true;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot apply membership ops from a mailbox"),
            }
        }
        let mut applied = 0usize;
        let mut waiting = 0usize;
        for envelope in &opened.envelopes {
            match self.replica.ingest(envelope) {
                Ok(IngestOutcome::Applied(n)) => applied += n,
                Ok(IngestOutcome::Waiting) => waiting += 1,
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "refused an envelope from a mailbox"),
            }
        }
        if !opened.envelopes.is_empty() || !opened.ops.is_empty() {
            tracing::debug!(
                envelopes = opened.envelopes.len(),
                ops = opened.ops.len(),
                applied,
                waiting,
                "applied entries from a mailbox"
            );
        }
        if opened.refused > 0 {
            tracing::debug!(refused = opened.refused, "mailbox entries that do not open");
        }
        if std::mem::take(&mut self.membership_changed) {
            self.on_membership_changed();
            // Entries that waited for a key this change may have brought.
            let again = self.relay_client.retry_waiting(&self.replica);
            if !again.ops.is_empty() || !again.envelopes.is_empty() {
                self.apply_opened(again);
            }
        }
        if applied > 0 || changed {
            let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
            self.feed(peers, Input::LocalChanged);
        }
    }

    fn on_membership_changed(&mut self) {
        self.log_new_revocations();
        self.update_allowed();
        // Relays hear of a new member or a revocation now, not at the next tick.
        self.start_relay_jobs();
        let peers: Vec<PublicKey> = self.sessions.keys().copied().collect();
        self.feed(peers, Input::Refresh);
    }

    /// Gives the transport the allow-list if it changed, and ends at once the sessions of keys
    /// no longer on it (a revocation just applied): their senders are dropped before anything
    /// else is queued, so nothing written from now on reaches them, whatever the transport has
    /// not processed yet.
    fn update_allowed(&mut self) {
        let mut allowed = allowed_peers(&self.replica, (self.clock)());
        // A joiner stays connected until it has its answer and hangs up.
        allowed.extend(self.joiners.keys().copied());
        allowed.sort_unstable();
        allowed.dedup();
        let removed: Vec<PublicKey> = self
            .sessions
            .keys()
            .filter(|k| allowed.binary_search(k).is_err())
            .copied()
            .collect();
        for peer in removed {
            let frames = self.farewell_frames(peer);
            self.end_session(&peer);
            if frames.is_empty() || !self.net.farewell(peer, frames) {
                self.hang_up(peer);
            }
        }
        let relays = relay_configs(&self.replica);
        if allowed != self.allowed || relays != self.relays {
            let added: Vec<PublicKey> = allowed
                .iter()
                .filter(|k| self.allowed.binary_search(k).is_err())
                .copied()
                .collect();
            for (key, addr) in self.inherited_addresses(&added) {
                let net = self.net.clone();
                self.transport_tasks.spawn(async move {
                    if let Err(e) = net.add_address(key, &addr).await {
                        tracing::debug!(error = %e, "cannot use an inherited address");
                    }
                });
            }
            self.allowed = allowed.clone();
            self.relays = relays.clone();
            self.relay_views
                .retain(|key, _| relays.iter().any(|relay| relay.key == *key));
            let keys: Vec<PublicKey> = relays.iter().map(|relay| relay.key).collect();
            self.relay_client.retain(&keys);
            // Nobody listening only means the node is stopping.
            let _ = self
                .transport
                .send(TransportState::new(&self.replica, allowed, relays));
        }
    }

    /// Logs each effective revocation the log holds that was not logged yet: what was revoked
    /// and by which device, by the start of their keys and ids.
    fn log_new_revocations(&mut self) {
        let Some(log) = self.replica.membership() else {
            return;
        };
        for r in log.state().revocations() {
            if !r.effective || !self.logged_revocations.insert(r.id) {
                continue;
            }
            let (what, target) = match r.target {
                membership::RevokeTarget::Org(org) => ("organisation", org.to_string()),
                membership::RevokeTarget::Device(key) => ("device", short_key(&key)),
            };
            tracing::info!(
                revoked = what,
                target = %target,
                by = %short_key(&r.author),
                "revocation applied"
            );
        }
    }

    /// The last frames for a member whose session ends because it was just removed: the
    /// membership ops it lacks, so that a revoked node learns of its own revocation (who, when,
    /// why) and can tell its user, instead of being cut off without a word. Only when those
    /// ops are revocations, their receipts and epoch keys (sealed to others, so unreadable to
    /// it): an op that would tell it something new about the network (an organisation, a
    /// device, a role or a relay added meanwhile) means no farewell at all. Nothing else is
    /// sent; offers written from now on never reach it.
    fn farewell_frames(&mut self, peer: PublicKey) -> Vec<Vec<u8>> {
        let mut queue = VecDeque::new();
        // What a local change sends: the ops and envelopes the peer lacks (envelopes are
        // dropped below).
        self.handle(peer, Input::LocalChanged, &mut queue);
        let mut frames = Vec::new();
        for (_, effect) in queue {
            let Effect::Send(frame) = effect else {
                continue;
            };
            let Ok(crate::sync::Message::Ops { ops, .. }) = crate::sync::Message::decode(&frame)
            else {
                continue;
            };
            let harmless = ops.iter().all(|op| {
                membership::Op::from_bytes(op).is_ok_and(|op| {
                    matches!(
                        op.body(),
                        membership::Body::Revoke { .. }
                            | membership::Body::Receipt { .. }
                            | membership::Body::EpochKey { .. }
                    )
                })
            });
            if !harmless {
                return Vec::new();
            }
            frames.push(frame);
        }
        frames
    }

    /// Closes the connection with `peer` without a word (it is not, or no longer, a member).
    fn hang_up(&mut self, peer: PublicKey) {
        let net = self.net.clone();
        self.transport_tasks.spawn(async move {
            let _ = net.disconnect(peer).await;
        });
    }

    /// Whether `envelope` (as received) is signed by a revoked key: what a partner that has not
    /// heard of the revocation may still relay.
    fn is_revoked_author(&self, envelope: &[u8]) -> bool {
        let Ok(env) = Envelope::from_bytes(envelope) else {
            return false;
        };
        self.replica
            .membership()
            .is_some_and(|log| log.state().is_revoked_device(&env.author()))
    }

    /// A frame on an invitation connection: the join request, answered at once (or once the
    /// coordinator confirms; see [`NodeActor::deliver_confirmed`]).
    fn on_join_frame(&mut self, invitation: PublicKey, bytes: &[u8]) {
        let reply = match JoinMessage::decode(bytes) {
            Ok(JoinMessage::Request(request)) => {
                match self
                    .replica
                    .on_join_request(&invitation, &request, (self.clock)())
                {
                    Ok(reply) => reply,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot record a join request");
                        JoinReply::Refused(JoinRefusal::NotRecorded)
                    }
                }
            }
            Ok(JoinMessage::Reply(_)) | Err(_) => JoinReply::Refused(JoinRefusal::Malformed),
        };
        let accepted = matches!(reply, JoinReply::Accepted { .. });
        if accepted {
            self.membership_changed = true;
        }
        self.send_join_reply(invitation, reply);
        if accepted && let Err(e) = self.replica.invitation_delivered(&invitation) {
            tracing::warn!(error = %e, "cannot record a delivered invitation");
        }
    }

    fn send_join_reply(&mut self, invitation: PublicKey, reply: JoinReply) {
        if let Some(tx) = self.joiners.get(&invitation)
            && tx
                .try_send(Outgoing::Frame(JoinMessage::Reply(reply).encode()))
                .is_err()
        {
            tracing::debug!("joiner queue full; reply dropped (the joiner asks again)");
        }
    }

    /// Sends the answer to joiners whose invitation was confirmed while they wait.
    fn deliver_confirmed(&mut self) {
        let waiting: Vec<PublicKey> = self.joiners.keys().copied().collect();
        for invitation in waiting {
            let state = self
                .replica
                .invitations()
                .iter()
                .find(|i| i.key() == invitation)
                .map(|i| i.state.clone());
            match state {
                Some(InviteState::Confirmed { .. }) => {}
                Some(InviteState::Cancelled) => {
                    self.send_join_reply(
                        invitation,
                        JoinReply::Refused(JoinRefusal::CancelledWhileWaiting),
                    );
                    continue;
                }
                _ => continue,
            }
            let reply = JoinReply::Accepted {
                network_name: self.replica.network_name().unwrap_or_default().to_string(),
                ops: self.replica.membership_ops(),
                addresses: self.replica.peers().pairs(),
            };
            self.send_join_reply(invitation, reply);
            if let Err(e) = self.replica.invitation_delivered(&invitation) {
                tracing::warn!(error = %e, "cannot record a delivered invitation");
            }
        }
    }

    /// Applies membership ops from a peer, returning how many were accepted and refused. A
    /// revocation asks for a rotation (admins) and a receipt (everyone): written in the same
    /// durable transaction as the ops that asked for them.
    fn apply_ops(&mut self, ops: &[Vec<u8>]) -> (usize, usize) {
        let now = (self.clock)();
        match self.replica.apply_membership_and_follow_up(ops, now) {
            Ok((update, _written)) => (update.accepted, update.refused),
            Err(e) => {
                tracing::warn!(error = %e, "cannot apply membership ops");
                (0, 0)
            }
        }
    }

    fn handle(
        &mut self,
        peer: PublicKey,
        input: Input<'_>,
        queue: &mut VecDeque<(PublicKey, Effect)>,
    ) {
        let now = self.now();
        let snapshots = if self.sessions.contains_key(&peer) {
            self.replica.snapshot_offers().unwrap_or_else(|e| {
                tracing::debug!(error = %e, "no snapshot to offer");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let src = Src {
            replica: &self.replica,
            network: self.network,
            peers: self.sessions.keys().copied().collect(),
            snapshots,
        };
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        let effects = session.handle(now, input, &src);
        // What the peer says it holds of this device's envelopes (its Hello and Acks, and what
        // it sends): beyond this store, local writes wait (see `Replica::note_sync_claim`).
        let claim = session
            .peer_vector()
            .get(&self.replica.public_key())
            .copied();
        if let Some(seq) = claim
            && self.replica.note_sync_claim(peer, seq)
        {
            tracing::info!(
                partner = %short_key(&peer),
                seq,
                "a partner holds more of this device's changes than this store: local writes wait for them"
            );
        }
        queue.extend(effects.into_iter().map(|e| (peer, e)));
    }

    /// Performs one effect of `peer`'s session; whether anything new was applied.
    fn perform(
        &mut self,
        peer: PublicKey,
        effect: Effect,
        queue: &mut VecDeque<(PublicKey, Effect)>,
    ) -> bool {
        match effect {
            Effect::Send(frame) => {
                self.traffic.frames_sent += 1;
                self.traffic.bytes_sent += frame.len() as u64;
                if let Some(tx) = self.senders.get(&peer)
                    && tx.try_send(Outgoing::Frame(frame)).is_err()
                {
                    tracing::debug!(%peer, "peer queue full; frame dropped");
                }
                false
            }
            Effect::ApplyEnvelopes { token, envelopes } => {
                let mut applied = 0;
                let mut invalid = 0;
                for envelope in &envelopes {
                    match self.replica.ingest(envelope) {
                        Ok(IngestOutcome::Applied(n)) => applied += n,
                        Ok(IngestOutcome::Waiting) if self.is_revoked_author(envelope) => {
                            self.revoked_held_back += 1;
                        }
                        // This device's own envelope under a number a rolled-back store used
                        // again: recorded, and the partner that holds it is not to blame.
                        Ok(
                            IngestOutcome::Duplicate
                            | IngestOutcome::Waiting
                            | IngestOutcome::OwnConflict,
                        ) => {}
                        Err(ReplicaError::Envelope(
                            e @ (EnvelopeError::NotAuthorized { .. }
                            | EnvelopeError::TooFarAhead { .. }
                            | EnvelopeError::PendingFull),
                        )) if self.is_revoked_author(envelope) => {
                            // A partner that had not heard of the revocation when it accepted
                            // the envelope relays it in good faith: refused, not misbehaviour
                            // (the session stops offering that author once we acknowledge
                            // without it).
                            tracing::debug!(%peer, error = %e, "refused a revoked key's envelope");
                            self.revoked_held_back += 1;
                        }
                        Err(ReplicaError::Envelope(e)) => {
                            tracing::debug!(%peer, error = %e, "refused an envelope");
                            invalid += 1;
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot ingest an envelope"),
                    }
                }
                self.handle(peer, Input::Applied { token, invalid }, queue);
                applied > 0
            }
            Effect::ApplyOps { token, ops } => {
                let (accepted, refused) = self.apply_ops(&ops);
                self.handle(
                    peer,
                    Input::Applied {
                        token,
                        invalid: refused,
                    },
                    queue,
                );
                if accepted > 0 {
                    self.membership_changed = true;
                    // A revoked key is cut off before anything else is sent or relayed: not
                    // even the revocation reaches it from this node. (The other sessions get
                    // `Refresh` when the feed ends, in `on_membership_changed`.)
                    self.update_allowed();
                }
                accepted > 0
            }
            Effect::ApplySnapshot { token, snapshot } => {
                let (applied, invalid) = match self.replica.ingest_snapshot(&snapshot) {
                    Ok(SnapshotOutcome::Applied { .. }) => (true, 0),
                    Ok(_) => (false, 0),
                    Err(ReplicaError::Snapshot(e)) => {
                        tracing::debug!(%peer, error = %e, "refused a snapshot");
                        (false, usize::from(e.is_invalid()))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot ingest a snapshot");
                        (false, 0)
                    }
                };
                self.handle(peer, Input::Applied { token, invalid }, queue);
                applied
            }
            Effect::Hint { peers, author, seq } => {
                for named in peers {
                    if named != peer {
                        self.handle(named, Input::Hinted { author, seq }, queue);
                    }
                }
                false
            }
            Effect::Disconnect { reason, penalty } => {
                tracing::debug!(%peer, ?reason, ?penalty, "sync session ended");
                if let Some(penalty) = penalty {
                    self.penalties += 1;
                    tracing::warn!(?penalty, "ended the sync session of a misbehaving member");
                    // After the frames already queued (the Bye saying why).
                    if let Some(tx) = self.senders.get(&peer)
                        && tx.try_send(Outgoing::HangUp).is_err()
                    {
                        self.hang_up(peer);
                    }
                }
                if self.end_session(&peer) {
                    let others: Vec<PublicKey> = self.sessions.keys().copied().collect();
                    for other in others {
                        self.handle(other, Input::Refresh, queue);
                    }
                }
                false
            }
        }
    }
}

/// What a peer's sender task hands to the transport, in order.
#[derive(Debug)]
enum Outgoing {
    /// A frame.
    Frame(Vec<u8>),
    /// Close the connection once everything before has been handed over.
    HangUp,
}

/// A task that hands frames for `peer` to the transport in order, retrying while its window is
/// full; it ends when the session's sender is dropped, the peer is gone, or on a hang-up.
fn spawn_sender(
    net: Net,
    peer: PublicKey,
) -> (mpsc::Sender<Outgoing>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Outgoing>(PEER_QUEUE_CAPACITY);
    let task = tokio::spawn(async move {
        while let Some(item) = rx.recv().await {
            let frame = match item {
                Outgoing::Frame(frame) => frame,
                Outgoing::HangUp => {
                    let _ = net.disconnect(peer).await;
                    return;
                }
            };
            loop {
                match net.send(peer, frame.clone()).await {
                    Ok(()) => break,
                    Err(NetError::Busy { .. }) => tokio::time::sleep(BUSY_RETRY).await,
                    Err(NetError::Closed) => return,
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "frame not sent");
                        break;
                    }
                }
            }
        }
    });
    (tx, task)
}

/// The next event of a transport that may be absent (then never).
async fn next_event(events: &mut Option<mpsc::Receiver<NetEvent>>) -> Option<NetEvent> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

/// The start of a device key as logs name it: eight characters, as `puente peer list` and
/// `puente device revoke` accept it.
fn short_key(key: &PublicKey) -> String {
    key.to_string().chars().take(8).collect()
}

/// The ids of the effective revocations in `replica`'s log.
fn effective_revocations(replica: &Replica) -> BTreeSet<membership::OpId> {
    replica
        .membership()
        .map(|log| {
            log.state()
                .revocations()
                .into_iter()
                .filter(|r| r.effective)
                .map(|r| r.id)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::identity::SecretKey;

    /// Records what reaches it, each call taking a different time, as a transport busy with
    /// other work would.
    #[derive(Clone, Default)]
    struct Recorder {
        calls: Arc<Mutex<Vec<usize>>>,
    }

    impl TransportSink for Recorder {
        fn set_peers(
            &self,
            dial: Vec<PublicKey>,
            _accept_only: Vec<PublicKey>,
        ) -> impl Future<Output = Result<(), NetError>> + Send {
            let calls = self.calls.clone();
            async move {
                let n = dial.len();
                // Slow for some updates, quick for others.
                tokio::time::sleep(Duration::from_millis(((n * 7) % 5) as u64)).await;
                calls.lock().expect("not poisoned").push(n);
                Ok(())
            }
        }

        async fn set_relays(&self, _relays: Vec<RelayConfig>) -> Result<(), NetError> {
            Ok(())
        }
    }

    fn state(keys: &[PublicKey], n: usize) -> TransportState {
        TransportState {
            dial: keys[..n].to_vec(),
            accept_only: Vec::new(),
            relays: Vec::new(),
        }
    }

    /// Allow-list updates made one after another reach the transport in the order they were
    /// made, and the last one made is the last one applied, however long each takes.
    #[tokio::test]
    async fn allow_list_updates_reach_the_transport_in_order() {
        let keys: Vec<PublicKey> = (0..40).map(|_| SecretKey::generate().public()).collect();
        let sink = Recorder::default();
        let (tx, rx) = tokio::sync::watch::channel(state(&keys, 0));
        let task = tokio::spawn(apply_transport_state(sink.clone(), state(&keys, 0), rx));
        for n in 1..=keys.len() {
            tx.send(state(&keys, n)).expect("the task is listening");
            // Let some updates land while one is being applied, others while it is idle.
            if n % 3 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
        // Wait until the newest state is applied, then end the task by dropping the sender.
        for _ in 0..1000 {
            if sink.calls.lock().expect("not poisoned").last() == Some(&keys.len()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        drop(tx);
        task.await
            .expect("the task ends when the sender is dropped");
        let calls = sink.calls.lock().expect("not poisoned").clone();
        assert_eq!(
            calls.last(),
            Some(&keys.len()),
            "the newest list is applied last: {calls:?}"
        );
        assert!(
            calls.windows(2).all(|w| w[0] < w[1]),
            "an older list reached the transport after a newer one: {calls:?}"
        );
        assert!(
            calls.len() > 1,
            "updates while idle are applied, not only the last: {calls:?}"
        );
    }
}
