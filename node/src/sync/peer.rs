//! [`PeerSync`]: the per-peer session state machine (protocol in the parent module's docs).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::envelope::format::MAX_SEQ;
use crate::identity::PublicKey;
use crate::keys::NetworkId;

use super::wire::{Ack, ByeReason, DecodeError, Hello, Message, envelope_id, snapshot_covers};
use super::{
    ANTI_ENTROPY_INTERVAL, MAX_BATCH_BYTES, MAX_BATCH_ENVELOPES, MAX_BATCH_OPS, MAX_DIRECT_PEERS,
    MAX_ENVELOPE_LEN, MAX_FRAME_BYTES, MAX_HEADS, MAX_IN_FLIGHT_BATCHES, MAX_PENDING_APPLY,
    MAX_SNAPSHOT_BYTES, MAX_VECTOR_ENTRIES, OpId, RETRANSMIT_AFTER, SNAPSHOT_FRESH_MIN_BYTES,
    SNAPSHOT_MIN_BEHIND, Source, Vector,
};

/// Most snapshot ids remembered as sent in one session; past it no more snapshots are sent.
const MAX_SNAPSHOTS_SENT: usize = 1024;

/// Identifies a batch handed to the actor to apply; pass it back in [`Input::Applied`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApplyToken(u64);

/// What happened, for [`PeerSync::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input<'a> {
    /// The transport authenticated the peer as a member device: start the session (send Hello).
    Connected,
    /// A frame from the peer.
    Received(&'a [u8]),
    /// New envelopes or membership ops are available here (a local write, or anything applied
    /// from any peer, including this one): push what the peer lacks.
    LocalChanged,
    /// The actor applied a batch from [`Effect::ApplyOps`], [`Effect::ApplyEnvelopes`] or
    /// [`Effect::ApplySnapshot`]. `invalid` counts items only a misbehaving peer sends (a bad
    /// signature, a malformed or unauthorised envelope, an equivocation, an invalid op);
    /// duplicates and envelopes buffered for a gap are not invalid.
    Applied {
        /// The token from the effect.
        token: ApplyToken,
        /// Invalid items found.
        invalid: usize,
    },
    /// Another session's peer named this session's peer in `direct`: it is sending `author`'s
    /// envelopes up to `seq` to this peer itself (from [`Effect::Hint`]).
    Hinted {
        /// The author, which is the peer that sent the hint.
        author: PublicKey,
        /// Highest sequence number it is sending.
        seq: u64,
    },
    /// Another session ended: tell this peer our state now, so it drops hints that session's
    /// peer gave about us and sends what we really lack.
    Refresh,
    /// Time passed: retransmit what looks lost, re-announce a changed state now and then.
    Tick,
    /// Close the session politely.
    Shutdown,
}

/// What the actor must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Effect {
    /// Send this frame to the peer.
    Send(Vec<u8>),
    /// Apply these membership ops (in order), then report [`Input::Applied`].
    ApplyOps {
        /// Pass back in [`Input::Applied`].
        token: ApplyToken,
        /// Opaque ops, in causal order.
        ops: Vec<Vec<u8>>,
    },
    /// Ingest these envelopes (in order), then report [`Input::Applied`], then
    /// [`Input::LocalChanged`] to the other sessions if anything new was applied (the relay).
    ApplyEnvelopes {
        /// Pass back in [`Input::Applied`].
        token: ApplyToken,
        /// Envelope bytes.
        envelopes: Vec<Vec<u8>>,
    },
    /// Verify and apply this partition snapshot, then report [`Input::Applied`].
    ApplySnapshot {
        /// Pass back in [`Input::Applied`].
        token: ApplyToken,
        /// Snapshot bytes (envelope format's `Snapshot`).
        snapshot: Vec<u8>,
    },
    /// Pass [`Input::Hinted`] to the sessions with these peers (ignore peers without one),
    /// before the [`Input::LocalChanged`] that follows applying this batch.
    Hint {
        /// Peers the author is sending to directly.
        peers: Vec<PublicKey>,
        /// The author (this session's peer).
        author: PublicKey,
        /// Highest sequence number of its envelopes in the batch.
        seq: u64,
    },
    /// Close the connection. The session is over: later inputs do nothing.
    Disconnect {
        /// Why (sent to the peer in Bye, or received from it).
        reason: ByeReason,
        /// Set when the peer misbehaved: count it against the peer.
        penalty: Option<Penalty>,
    },
}

/// How a peer misbehaved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Penalty {
    /// A frame over [`MAX_FRAME_BYTES`].
    Oversized {
        /// Its length.
        len: usize,
    },
    /// A frame that does not decode.
    Malformed(DecodeError),
    /// A frame of another protocol version (an outdated peer; weigh it lightly).
    VersionMismatch(u8),
    /// A Hello for another network.
    WrongNetwork(NetworkId),
    /// A batch over the limits.
    OverLimit(&'static str),
    /// More than [`MAX_PENDING_APPLY`] batches sent without waiting for acknowledgements.
    TooManyBatches,
    /// An Ack for a batch number never sent.
    UnknownBatch(u64),
    /// Items the actor found invalid.
    InvalidData(usize),
}

/// A session's state for `puente status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStatus {
    /// Both Hellos seen: syncing.
    pub established: bool,
    /// Batches sent and not yet acknowledged.
    pub in_flight: usize,
    /// Envelopes this node has that the peer is not known to have.
    pub envelopes_pending: u64,
    /// When the last Ack arrived (actor's clock).
    pub last_ack: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ops,
    Envelopes,
    Snapshot([u8; 32]),
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    sent_at: Duration,
    kind: Kind,
}

/// Envelopes of one author sent in the current round (while batches are unacknowledged).
#[derive(Debug, Clone, Copy)]
struct Sent {
    /// The peer's acknowledged sequence number when the round started.
    start: u64,
    /// Highest sequence number sent.
    highest: u64,
}

/// The sync session with one connected peer. Create one per connection (a reconnecting peer,
/// possibly with less data than before, gets a fresh one) and feed it every [`Input`].
#[derive(Debug)]
pub struct PeerSync {
    local: PublicKey,
    peer: PublicKey,
    closed: bool,
    /// When we last sent a Hello (None: not yet).
    hello_sent_at: Option<Duration>,
    /// A Hello from the peer arrived.
    heard_peer: bool,
    /// Hellos with `reply = false` received.
    open_hellos: u32,
    /// When we last answered one.
    answered_at: Option<Duration>,
    /// The peer's state as it told us (Hello, Ack) or showed us (what it sent).
    confirmed: Vector,
    peer_heads: Vec<OpId>,
    /// Envelopes the peer's authors say they are sending it directly.
    hinted: Vector,
    next_batch: u64,
    in_flight: BTreeMap<u64, InFlight>,
    sent: BTreeMap<PublicKey, Sent>,
    /// Authors the peer refused: not sent again while its sequence number stays at the value.
    stuck: BTreeMap<PublicKey, u64>,
    /// (our heads, its heads) for which ops were last sent or found missing: not again.
    ops_checked: Option<(Vec<OpId>, Vec<OpId>)>,
    snapshots_sent: BTreeSet<[u8; 32]>,
    next_token: u64,
    /// Batches handed to the actor: token → the peer's batch number.
    pending_apply: BTreeMap<u64, u64>,
    /// The state we last told the peer, and when.
    told: Option<(Vec<OpId>, Vector)>,
    told_at: Duration,
    last_ack: Option<Duration>,
}

impl PeerSync {
    /// A session between this node's device key `local` and the peer's device key `peer`
    /// (the transport authenticated it).
    pub fn new(local: PublicKey, peer: PublicKey) -> Self {
        Self {
            local,
            peer,
            closed: false,
            hello_sent_at: None,
            heard_peer: false,
            open_hellos: 0,
            answered_at: None,
            confirmed: Vector::new(),
            peer_heads: Vec::new(),
            hinted: Vector::new(),
            next_batch: 1,
            in_flight: BTreeMap::new(),
            sent: BTreeMap::new(),
            stuck: BTreeMap::new(),
            ops_checked: None,
            snapshots_sent: BTreeSet::new(),
            next_token: 0,
            pending_apply: BTreeMap::new(),
            told: None,
            told_at: Duration::ZERO,
            last_ack: None,
        }
    }

    /// The peer's device key.
    pub fn peer(&self) -> PublicKey {
        self.peer
    }

    /// What the peer is known to hold (what it said in Hello and Acks, or showed by sending):
    /// empty until it has said hello.
    pub fn peer_vector(&self) -> &Vector {
        &self.confirmed
    }

    /// When the peer last acknowledged a batch (the caller's clock).
    pub fn last_ack(&self) -> Option<Duration> {
        self.last_ack
    }

    /// Whether the session ended (after an [`Effect::Disconnect`]).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The session's state for `puente status`.
    pub fn status(&self, src: &impl Source) -> PeerStatus {
        let envelopes_pending = src
            .version_vector()
            .iter()
            .map(|(author, have)| have.saturating_sub(self.known(author)))
            .fold(0u64, u64::saturating_add);
        PeerStatus {
            established: self.heard_peer && self.hello_sent_at.is_some(),
            in_flight: self.in_flight.len(),
            envelopes_pending,
            last_ack: self.last_ack,
        }
    }

    /// Handles one input at `now` (a monotonic time since an origin the actor picks) and
    /// returns what to do. Never panics, whatever the peer sends.
    pub fn handle(&mut self, now: Duration, input: Input<'_>, src: &impl Source) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        match input {
            Input::Connected => {
                if self.hello_sent_at.is_none() {
                    self.send_hello(now, false, src, &mut out);
                }
                self.pump(now, src, &mut out);
            }
            Input::Received(frame) => self.on_frame(now, frame, src, &mut out),
            Input::LocalChanged => self.pump(now, src, &mut out),
            Input::Applied { token, invalid } => {
                let Some(batch) = self.pending_apply.remove(&token.0) else {
                    return out;
                };
                if invalid > 0 {
                    self.misbehaved(
                        ByeReason::Misbehaviour,
                        Penalty::InvalidData(invalid),
                        &mut out,
                    );
                    return out;
                }
                let (heads, vector) = current(src);
                let ack = Message::Ack(Ack {
                    batch,
                    heads: heads.clone(),
                    vector: vector.clone(),
                });
                out.push(Effect::Send(ack.encode()));
                self.told = Some((heads, vector));
                self.told_at = now;
                self.pump(now, src, &mut out);
            }
            Input::Hinted { author, seq } => {
                if author != self.peer && author != self.local && (1..=MAX_SEQ).contains(&seq) {
                    raise(&mut self.hinted, author, seq);
                }
            }
            Input::Refresh => {
                if self.heard_peer && self.hello_sent_at.is_some() {
                    self.send_hello(now, true, src, &mut out);
                }
            }
            Input::Tick => self.on_tick(now, src, &mut out),
            Input::Shutdown => {
                out.push(Effect::Send(Message::Bye(ByeReason::Shutdown).encode()));
                out.push(Effect::Disconnect {
                    reason: ByeReason::Shutdown,
                    penalty: None,
                });
                self.closed = true;
            }
        }
        out
    }

    fn on_frame(&mut self, now: Duration, frame: &[u8], src: &impl Source, out: &mut Vec<Effect>) {
        let message = match Message::decode(frame) {
            Ok(m) => m,
            Err(e) => {
                let (reason, penalty) = match e {
                    DecodeError::Oversized { len, .. } => {
                        (ByeReason::Misbehaviour, Penalty::Oversized { len })
                    }
                    DecodeError::UnsupportedVersion(v) => {
                        (ByeReason::VersionMismatch, Penalty::VersionMismatch(v))
                    }
                    DecodeError::OverLimit(what) => {
                        (ByeReason::Misbehaviour, Penalty::OverLimit(what))
                    }
                    other => (ByeReason::Misbehaviour, Penalty::Malformed(other)),
                };
                self.misbehaved(reason, penalty, out);
                return;
            }
        };
        match message {
            Message::Hello(h) => self.on_hello(now, h, src, out),
            Message::Ops { batch, ops } => {
                if let Some(token) = self.register_batch(batch, out) {
                    out.push(Effect::ApplyOps { token, ops });
                }
            }
            Message::Envelopes {
                batch,
                direct,
                envelopes,
            } => {
                if self.pending_apply.len() >= MAX_PENDING_APPLY {
                    self.misbehaved(ByeReason::Misbehaviour, Penalty::TooManyBatches, out);
                    return;
                }
                // The peer holds whatever it sends (its vector is contiguous).
                let mut own = None;
                for (author, seq) in envelopes.iter().filter_map(|e| envelope_id(e)) {
                    self.learn(author, seq);
                    if author == self.peer {
                        own = own.max(Some(seq));
                    }
                }
                if let Some(seq) = own {
                    let peers: Vec<PublicKey> = direct
                        .into_iter()
                        .filter(|p| *p != self.local && *p != self.peer)
                        .collect();
                    if !peers.is_empty() {
                        out.push(Effect::Hint {
                            peers,
                            author: self.peer,
                            seq,
                        });
                    }
                }
                if let Some(token) = self.register_batch(batch, out) {
                    out.push(Effect::ApplyEnvelopes { token, envelopes });
                }
            }
            Message::Snapshot { batch, snapshot } => {
                // The peer holds what its snapshot covers (it signed or ingested it), so it is
                // not sent back to it.
                if let Some(covers) = snapshot_covers(&snapshot) {
                    self.merge_confirmed(&covers);
                }
                if let Some(token) = self.register_batch(batch, out) {
                    out.push(Effect::ApplySnapshot { token, snapshot });
                }
            }
            Message::Ack(ack) => self.on_ack(now, ack, src, out),
            Message::Bye(reason) => {
                out.push(Effect::Disconnect {
                    reason,
                    penalty: None,
                });
                self.closed = true;
            }
        }
    }

    /// Registers a received batch for the actor to apply, refusing a flood.
    fn register_batch(&mut self, batch: u64, out: &mut Vec<Effect>) -> Option<ApplyToken> {
        if self.pending_apply.len() >= MAX_PENDING_APPLY {
            self.misbehaved(ByeReason::Misbehaviour, Penalty::TooManyBatches, out);
            return None;
        }
        let token = self.next_token;
        self.next_token += 1;
        self.pending_apply.insert(token, batch);
        Some(ApplyToken(token))
    }

    fn on_hello(&mut self, now: Duration, h: Hello, src: &impl Source, out: &mut Vec<Effect>) {
        if h.network != src.network() {
            self.misbehaved(
                ByeReason::WrongNetwork,
                Penalty::WrongNetwork(h.network),
                out,
            );
            return;
        }
        // The peer's own word replaces what third parties hinted. Refused authors are tried
        // again only if its membership changed (or, in `learn`, its state for them), so a
        // repeated Hello cannot make us resend what it refuses.
        self.hinted.clear();
        if h.heads != self.peer_heads {
            self.stuck.clear();
        }
        self.merge_confirmed(&h.vector);
        self.peer_heads = h.heads;
        self.heard_peer = true;
        if !h.reply {
            // The first open Hello crossing ours needs no answer; a later one means the peer
            // did not hear us. Answers are never answered, so this cannot loop, and are sent
            // at most once per half retransmission interval, so a flood gets few.
            let answer = self.hello_sent_at.is_none()
                || (self.open_hellos > 0
                    && self
                        .answered_at
                        .is_none_or(|at| now.saturating_sub(at) >= RETRANSMIT_AFTER / 2));
            self.open_hellos = self.open_hellos.saturating_add(1);
            if answer {
                self.answered_at = Some(now);
                self.send_hello(now, true, src, out);
            }
        }
        self.pump(now, src, out);
    }

    fn on_ack(&mut self, now: Duration, ack: Ack, src: &impl Source, out: &mut Vec<Effect>) {
        if ack.batch >= self.next_batch {
            self.misbehaved(
                ByeReason::Misbehaviour,
                Penalty::UnknownBatch(ack.batch),
                out,
            );
            return;
        }
        self.merge_confirmed(&ack.vector);
        if ack.heads != self.peer_heads {
            self.peer_heads = ack.heads;
            self.stuck.clear();
        }
        self.last_ack = Some(now);
        if self.in_flight.remove(&ack.batch).is_some() && self.in_flight.is_empty() {
            self.end_round();
        }
        self.pump(now, src, out);
    }

    fn on_tick(&mut self, now: Duration, src: &impl Source, out: &mut Vec<Effect>) {
        if let Some(at) = self.hello_sent_at
            && !self.heard_peer
            && now.saturating_sub(at) >= RETRANSMIT_AFTER
        {
            self.send_hello(now, false, src, out);
        }
        let oldest = self.in_flight.values().map(|f| f.sent_at).min();
        if oldest.is_some_and(|at| now.saturating_sub(at) >= RETRANSMIT_AFTER) {
            // Taken as lost: forget them and send again from what the peer acknowledged.
            for f in self.in_flight.values() {
                if let Kind::Snapshot(id) = f.kind {
                    self.snapshots_sent.remove(&id);
                }
            }
            self.in_flight.clear();
            self.sent.clear();
            self.ops_checked = None;
        }
        if self.heard_peer
            && self.hello_sent_at.is_some()
            && now.saturating_sub(self.told_at) >= ANTI_ENTROPY_INTERVAL
            && self.told.as_ref() != Some(&current(src))
        {
            self.send_hello(now, true, src, out);
        }
        self.pump(now, src, out);
    }

    fn send_hello(&mut self, now: Duration, reply: bool, src: &impl Source, out: &mut Vec<Effect>) {
        let (heads, vector) = current(src);
        let hello = Message::Hello(Hello {
            network: src.network(),
            reply,
            heads: heads.clone(),
            vector: vector.clone(),
        });
        out.push(Effect::Send(hello.encode()));
        self.hello_sent_at = Some(now);
        self.told = Some((heads, vector));
        self.told_at = now;
    }

    fn misbehaved(&mut self, reason: ByeReason, penalty: Penalty, out: &mut Vec<Effect>) {
        out.push(Effect::Send(Message::Bye(reason).encode()));
        out.push(Effect::Disconnect {
            reason,
            penalty: Some(penalty),
        });
        self.closed = true;
    }

    /// The peer's acknowledged sequence number for `author`.
    fn confirmed_of(&self, author: &PublicKey) -> u64 {
        self.confirmed.get(author).copied().unwrap_or(0)
    }

    /// Everything up to this number of `author` the peer has or is being sent.
    fn known(&self, author: &PublicKey) -> u64 {
        let hinted = self.hinted.get(author).copied().unwrap_or(0);
        let sent = self.sent.get(author).map_or(0, |s| s.highest);
        self.confirmed_of(author).max(hinted).max(sent)
    }

    fn learn(&mut self, author: PublicKey, seq: u64) {
        if raise(&mut self.confirmed, author, seq) {
            self.stuck.remove(&author);
        }
    }

    fn merge_confirmed(&mut self, vector: &Vector) {
        for (author, seq) in vector {
            self.learn(*author, *seq);
        }
    }

    /// All batches acknowledged: authors the peer still lacks some of are sent again if it
    /// made progress, and are otherwise stuck until its state changes.
    fn end_round(&mut self) {
        for (author, s) in std::mem::take(&mut self.sent) {
            let confirmed = self.confirmed_of(&author);
            if s.highest > confirmed && confirmed <= s.start {
                self.stuck.insert(author, confirmed);
            }
        }
    }

    /// Sends what the peer lacks while the in-flight window has room: membership first.
    fn pump(&mut self, now: Duration, src: &impl Source, out: &mut Vec<Effect>) {
        if self.closed || !self.heard_peer || self.hello_sent_at.is_none() {
            return;
        }
        while self.in_flight.len() < MAX_IN_FLIGHT_BATCHES {
            let blocking = self
                .in_flight
                .values()
                .any(|f| matches!(f.kind, Kind::Ops | Kind::Snapshot(_)));
            if blocking {
                return;
            }
            if self.push_ops(now, src, out) || self.push_snapshot(now, src, out) {
                continue;
            }
            if !self.push_envelopes(now, src, out) {
                return;
            }
        }
    }

    fn next_batch(&mut self, now: Duration, kind: Kind) -> u64 {
        let batch = self.next_batch;
        self.next_batch += 1;
        self.in_flight
            .insert(batch, InFlight { sent_at: now, kind });
        batch
    }

    fn push_ops(&mut self, now: Duration, src: &impl Source, out: &mut Vec<Effect>) -> bool {
        let ours = normalise_heads(src.membership_heads());
        if ours == self.peer_heads {
            return false;
        }
        let key = (ours, self.peer_heads.clone());
        if self.ops_checked.as_ref() == Some(&key) {
            return false;
        }
        let offered = src.ops_missing_from(&self.peer_heads, MAX_BATCH_OPS, MAX_BATCH_BYTES);
        self.ops_checked = Some(key);
        let mut ops = Vec::new();
        let mut bytes = 0usize;
        for op in offered {
            // Ops are in causal order: stop at the first one that cannot go in this batch.
            if ops.len() == MAX_BATCH_OPS
                || op.is_empty()
                || op.len() > MAX_BATCH_BYTES
                || (!ops.is_empty() && bytes + op.len() > MAX_BATCH_BYTES)
            {
                break;
            }
            bytes += op.len();
            ops.push(op);
        }
        if ops.is_empty() {
            return false;
        }
        let batch = self.next_batch(now, Kind::Ops);
        out.push(Effect::Send(Message::Ops { batch, ops }.encode()));
        true
    }

    fn push_snapshot(&mut self, now: Duration, src: &impl Source, out: &mut Vec<Effect>) -> bool {
        if !self.in_flight.is_empty() || self.snapshots_sent.len() >= MAX_SNAPSHOTS_SENT {
            return false;
        }
        let mut best: Option<([u8; 32], u64)> = None;
        for info in src.snapshots() {
            if info.len == 0
                || info.len > MAX_SNAPSHOT_BYTES
                || self.snapshots_sent.contains(&info.id)
            {
                continue;
            }
            let behind = info
                .covers
                .iter()
                .map(|(author, seq)| seq.saturating_sub(self.known(author)))
                .fold(0u64, u64::saturating_add);
            // Far behind (by envelopes, or holding none of a large snapshot's), or behind
            // where this node holds the snapshot but not the envelope the peer needs next (it
            // caught up from the snapshot itself): without the snapshot the peer would wait for
            // a node that holds those envelopes.
            let fresh = info.len >= SNAPSHOT_FRESH_MIN_BYTES
                && info.covers.keys().all(|author| self.known(author) == 0);
            let wanted = behind >= SNAPSHOT_MIN_BEHIND
                || (behind > 0 && (fresh || self.cannot_send_covered(&info.covers, src)));
            if wanted && best.is_none_or(|(_, b)| behind > b) {
                best = Some((info.id, behind));
            }
        }
        let Some((id, _)) = best else {
            return false;
        };
        // Sent at most once per session, whether or not the source can produce it.
        self.snapshots_sent.insert(id);
        let Some(snapshot) = src.snapshot_bytes(&id) else {
            return false;
        };
        if snapshot.is_empty() || snapshot.len() > MAX_SNAPSHOT_BYTES {
            return false;
        }
        let batch = self.next_batch(now, Kind::Snapshot(id));
        out.push(Effect::Send(Message::Snapshot { batch, snapshot }.encode()));
        true
    }

    /// Whether, for an author of `covers` the peer is behind on, this node cannot send the
    /// envelope the peer needs next (`Source::envelopes_after` offers nothing usable).
    fn cannot_send_covered(&self, covers: &Vector, src: &impl Source) -> bool {
        covers.iter().any(|(author, &seq)| {
            let from = self.known(author);
            from < seq
                && !src
                    .envelopes_after(author, from, 1, MAX_ENVELOPE_LEN)
                    .first()
                    .is_some_and(|env| {
                        env.len() <= MAX_ENVELOPE_LEN
                            && envelope_id(env) == Some((*author, from + 1))
                    })
        })
    }

    fn push_envelopes(&mut self, now: Duration, src: &impl Source, out: &mut Vec<Effect>) -> bool {
        let ours = src.version_vector();
        let mut envelopes: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0usize;
        let mut own = false;
        let mut full = false;
        for (author, &have) in &ours {
            if full {
                break;
            }
            let from = self.known(author);
            if have <= from || self.stuck.get(author) == Some(&self.confirmed_of(author)) {
                continue;
            }
            let room = if envelopes.is_empty() {
                MAX_ENVELOPE_LEN
            } else {
                MAX_BATCH_BYTES - bytes
            };
            let offered =
                src.envelopes_after(author, from, MAX_BATCH_ENVELOPES - envelopes.len(), room);
            let mut next = from + 1;
            for env in offered {
                // Trust nothing: stop at anything out of order or over the limits.
                if env.len() > MAX_ENVELOPE_LEN
                    || envelope_id(&env) != Some((*author, next))
                    || next > have
                {
                    break;
                }
                if envelopes.len() >= MAX_BATCH_ENVELOPES
                    || (!envelopes.is_empty() && bytes + env.len() > MAX_BATCH_BYTES)
                {
                    full = true;
                    break;
                }
                bytes += env.len();
                envelopes.push(env);
                next += 1;
                if bytes >= MAX_BATCH_BYTES {
                    full = true;
                    break;
                }
            }
            let highest = next - 1;
            if highest > from {
                let start = self.confirmed_of(author);
                self.sent
                    .entry(*author)
                    .and_modify(|s| s.highest = s.highest.max(highest))
                    .or_insert(Sent { start, highest });
                own |= *author == self.local;
            }
            full |= envelopes.len() >= MAX_BATCH_ENVELOPES;
        }
        if envelopes.is_empty() {
            return false;
        }
        let direct = if own {
            let mut peers: Vec<PublicKey> = src
                .connected_peers()
                .into_iter()
                .filter(|p| *p != self.peer && *p != self.local)
                .collect();
            peers.sort_unstable();
            peers.dedup();
            peers.truncate(MAX_DIRECT_PEERS);
            peers
        } else {
            Vec::new()
        };
        let batch = self.next_batch(now, Kind::Envelopes);
        let frame = Message::Envelopes {
            batch,
            direct,
            envelopes,
        }
        .encode();
        debug_assert!(
            frame.len() <= MAX_FRAME_BYTES,
            "batch limits keep frames in bounds"
        );
        out.push(Effect::Send(frame));
        true
    }
}

/// This node's heads and vector, within the wire bounds.
fn current(src: &impl Source) -> (Vec<OpId>, Vector) {
    let heads = normalise_heads(src.membership_heads());
    let vector = src
        .version_vector()
        .into_iter()
        .filter(|(_, seq)| (1..=MAX_SEQ).contains(seq))
        .take(MAX_VECTOR_ENTRIES)
        .collect();
    (heads, vector)
}

fn normalise_heads(mut heads: Vec<OpId>) -> Vec<OpId> {
    heads.sort_unstable();
    heads.dedup();
    heads.truncate(MAX_HEADS);
    heads
}

/// Raises `vector[author]` to `seq`, adding the author only while the vector has room.
/// Returns whether it changed.
fn raise(vector: &mut Vector, author: PublicKey, seq: u64) -> bool {
    if let Some(known) = vector.get_mut(&author) {
        if seq > *known {
            *known = seq;
            return true;
        }
        false
    } else if vector.len() < MAX_VECTOR_ENTRIES {
        vector.insert(author, seq);
        true
    } else {
        false
    }
}
