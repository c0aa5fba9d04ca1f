//! A deterministic simulator: N nodes, each with an in-memory model of its replica (per author
//! the accepted envelopes, real ones sealed with test keys) and membership log (opaque ops),
//! one [`PeerSync`] per connection, frames moved through an in-memory queue that tests may
//! drop, duplicate and reorder. Time only moves when a test says so.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

use super::*;
use crate::crypto::seal::SymmetricKey;
use crate::envelope::format::Envelope;
use crate::envelope::snapshot::Snapshot;
use crate::identity::{SecretKey, org_id_for};
use crate::keys::Epoch;

const NET: NetworkId = NetworkId::from_bytes([5; 16]);

/// A change chunk with no operations and about `len` bytes: what the envelope checks.
fn fake_change(len: usize) -> Vec<u8> {
    crate::envelope::chunk::build::padded_change(len.max(19))
}

fn seal(key: &SecretKey, seq: u64, size: usize) -> Vec<u8> {
    let epoch = SymmetricKey::from_bytes(&[9; 32]);
    Envelope::seal(
        NET,
        org_id_for(&key.public()),
        key,
        seq,
        Epoch(1),
        &epoch,
        &[fake_change(size)],
    )
    .expect("seals")
    .into_bytes()
}

/// A node's replica and membership log, as the sync sees them.
#[derive(Debug, Default, Clone)]
struct Model {
    /// Per author, what was accepted: `log[a][i]` is sequence number `i + 1`, `None` when it
    /// came through a snapshot (accepted, but the envelope is not held).
    log: BTreeMap<PublicKey, Vec<Option<Vec<u8>>>>,
    ops: BTreeMap<OpId, Vec<u8>>,
    /// Authors whose envelopes (and snapshots) this node refuses (it lacks their authority or
    /// epoch key, say).
    refuse: BTreeSet<PublicKey>,
    /// Snapshots this node can send (its own, or ingested ones it relays), with their bytes.
    snapshots: Vec<(SnapshotInfo, Vec<u8>)>,
}

/// A signed snapshot by `signer` of its envelopes up to `seq`, with its bytes. Its document is a
/// bare chunk header: the sync never looks inside.
fn snapshot_of(signer: &SecretKey, seq: u64) -> (SnapshotInfo, Vec<u8>) {
    sized_snapshot_of(signer, seq, 0)
}

/// [`snapshot_of`] with `padding` incompressible bytes after the chunk header, so that its
/// encoded length is about that much (bodies are deflated before sealing).
fn sized_snapshot_of(signer: &SecretKey, seq: u64, padding: usize) -> (SnapshotInfo, Vec<u8>) {
    let covers: Vector = [(signer.public(), seq)].into_iter().collect();
    let mut document = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0, 0];
    let mut block = [0u8; 32];
    while document.len() < 10 + padding {
        block = Sha256::digest(block).into();
        document.extend_from_slice(&block);
    }
    let snapshot = Snapshot::seal(
        NET,
        org_id_for(&signer.public()),
        signer,
        Epoch(1),
        &SymmetricKey::from_bytes(&[9; 32]),
        &covers,
        &[],
        &document,
    )
    .expect("seals");
    let info = SnapshotInfo {
        id: snapshot.digest(),
        covers,
        len: snapshot.as_bytes().len(),
    };
    (info, snapshot.to_bytes())
}

impl Model {
    fn vector(&self) -> Vector {
        self.log
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(a, l)| (*a, l.len() as u64))
            .collect()
    }

    /// Holds `envelopes` of `author`, sequence numbers 1, 2, 3...
    fn hold(&mut self, author: PublicKey, envelopes: Vec<Vec<u8>>) {
        self.log
            .insert(author, envelopes.into_iter().map(Some).collect());
    }

    /// Ok(true): applied (accepted up to its cover, kept to relay); Ok(false): stale or
    /// refused; Err: invalid.
    fn ingest_snapshot(&mut self, bytes: &[u8]) -> Result<bool, ()> {
        let snapshot = Snapshot::from_bytes(bytes).map_err(|_| ())?;
        let author = snapshot.signer();
        let seq = *snapshot.covers().get(&author).ok_or(())?;
        let list = self.log.entry(author).or_default();
        if self.refuse.contains(&author) || seq <= list.len() as u64 {
            return Ok(false);
        }
        list.resize(seq as usize, None);
        self.snapshots
            .retain(|(s, _)| !s.covers.contains_key(&author));
        let info = SnapshotInfo {
            id: snapshot.digest(),
            covers: snapshot.covers().clone(),
            len: bytes.len(),
        };
        self.snapshots.push((info, bytes.to_vec()));
        Ok(true)
    }

    /// Ok(true): applied; Ok(false): duplicate, gap or refused; Err: invalid.
    fn ingest(&mut self, bytes: &[u8]) -> Result<bool, ()> {
        let env = Envelope::from_bytes(bytes).map_err(|_| ())?;
        if env.network() != NET {
            return Err(());
        }
        if self.refuse.contains(&env.author()) {
            return Ok(false);
        }
        let list = self.log.entry(env.author()).or_default();
        let seq = env.seq() as usize;
        if seq == list.len() + 1 {
            list.push(Some(bytes.to_vec()));
            Ok(true)
        } else if seq <= list.len() {
            // A different envelope with an accepted number is an equivocation (one a snapshot
            // covered is a duplicate: its digest is unknown).
            match &list[seq - 1] {
                Some(held) if held != bytes => Err(()),
                _ => Ok(false),
            }
        } else {
            Ok(false)
        }
    }

    fn add_op(&mut self, op: Vec<u8>) -> bool {
        let id: OpId = Sha256::digest(&op).into();
        self.ops.insert(id, op).is_none()
    }
}

struct SimSource<'a> {
    model: &'a Model,
    connected: Vec<PublicKey>,
    snapshots: Vec<SnapshotInfo>,
}

impl Source for SimSource<'_> {
    fn network(&self) -> NetworkId {
        NET
    }

    fn version_vector(&self) -> Vector {
        self.model.vector()
    }

    fn membership_heads(&self) -> Vec<OpId> {
        self.model.ops.keys().copied().collect()
    }

    fn ops_missing_from(
        &self,
        their_heads: &[OpId],
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        for (id, op) in &self.model.ops {
            if their_heads.contains(id) {
                continue;
            }
            if out.len() == max_count || bytes + op.len() > max_bytes {
                break;
            }
            bytes += op.len();
            out.push(op.clone());
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
        let Some(list) = self.model.log.get(author) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut bytes = 0;
        // Contiguous held envelopes only: a snapshot's gap ends the run.
        for env in list.iter().skip(after as usize).map_while(Option::as_ref) {
            if out.len() == max_count || bytes + env.len() > max_bytes {
                break;
            }
            bytes += env.len();
            out.push(env.clone());
        }
        out
    }

    fn connected_peers(&self) -> Vec<PublicKey> {
        self.connected.clone()
    }

    fn snapshots(&self) -> Vec<SnapshotInfo> {
        self.snapshots.clone()
    }

    fn snapshot_bytes(&self, id: &[u8; 32]) -> Option<Vec<u8>> {
        if let Some((_, bytes)) = self.model.snapshots.iter().find(|(s, _)| s.id == *id) {
            return Some(bytes.clone());
        }
        self.snapshots
            .iter()
            .any(|s| s.id == *id)
            .then(|| vec![0xab; 100])
    }
}

/// An owned [`Input`], for the simulator's work queue.
#[derive(Debug, Clone)]
enum Ev {
    Connected,
    Received(Vec<u8>),
    LocalChanged,
    Applied { token: ApplyToken, invalid: usize },
    Hinted { author: PublicKey, seq: u64 },
    Refresh,
    Tick,
}

impl Ev {
    fn input(&self) -> Input<'_> {
        match self {
            Ev::Connected => Input::Connected,
            Ev::Received(b) => Input::Received(b),
            Ev::LocalChanged => Input::LocalChanged,
            Ev::Applied { token, invalid } => Input::Applied {
                token: *token,
                invalid: *invalid,
            },
            Ev::Hinted { author, seq } => Input::Hinted {
                author: *author,
                seq: *seq,
            },
            Ev::Refresh => Input::Refresh,
            Ev::Tick => Input::Tick,
        }
    }
}

struct Node {
    key: SecretKey,
    model: Model,
    sessions: BTreeMap<usize, PeerSync>,
}

#[derive(Debug, Clone)]
struct Frame {
    from: usize,
    to: usize,
    bytes: Vec<u8>,
}

struct Sim {
    nodes: Vec<Node>,
    keys: Vec<PublicKey>,
    queue: VecDeque<Frame>,
    now: Duration,
    /// Frames sent so far.
    sent: usize,
    /// Every frame sent: (from, to, message).
    trace: Vec<(usize, usize, Message)>,
    disconnects: Vec<(usize, usize, ByeReason, Option<Penalty>)>,
    /// Snapshots handed to nodes to apply.
    snapshots_applied: usize,
}

impl Sim {
    fn new(n: usize) -> Self {
        let nodes: Vec<Node> = (0..n)
            .map(|i| Node {
                key: SecretKey::from_bytes(&[i as u8 + 1; 32]),
                model: Model::default(),
                sessions: BTreeMap::new(),
            })
            .collect();
        let keys = nodes.iter().map(|n| n.key.public()).collect();
        Sim {
            nodes,
            keys,
            queue: VecDeque::new(),
            now: Duration::ZERO,
            sent: 0,
            trace: Vec::new(),
            disconnects: Vec::new(),
            snapshots_applied: 0,
        }
    }

    fn connect(&mut self, a: usize, b: usize) {
        let (ka, kb) = (self.keys[a], self.keys[b]);
        self.nodes[a].sessions.insert(b, PeerSync::new(ka, kb));
        self.nodes[b].sessions.insert(a, PeerSync::new(kb, ka));
        self.run(a, b, Ev::Connected);
        self.run(b, a, Ev::Connected);
    }

    fn disconnect(&mut self, a: usize, b: usize) {
        self.nodes[a].sessions.remove(&b);
        self.nodes[b].sessions.remove(&a);
        self.queue
            .retain(|f| !((f.from == a && f.to == b) || (f.from == b && f.to == a)));
        for (node, gone) in [(a, b), (b, a)] {
            let others: Vec<usize> = self.nodes[node].sessions.keys().copied().collect();
            for q in others {
                debug_assert_ne!(q, gone);
                self.run(node, q, Ev::Refresh);
            }
        }
    }

    /// Appends a new envelope of `size` change bytes by node `i` and tells its sessions.
    fn write(&mut self, i: usize, size: usize) {
        let pk = self.keys[i];
        let seq = self.nodes[i].model.log.get(&pk).map_or(0, Vec::len) as u64 + 1;
        let env = seal(&self.nodes[i].key, seq, size);
        self.nodes[i]
            .model
            .log
            .entry(pk)
            .or_default()
            .push(Some(env));
        self.changed(i);
    }

    fn add_op(&mut self, i: usize, op: &[u8]) {
        self.nodes[i].model.add_op(op.to_vec());
        self.changed(i);
    }

    fn changed(&mut self, i: usize) {
        let peers: Vec<usize> = self.nodes[i].sessions.keys().copied().collect();
        for p in peers {
            self.run(i, p, Ev::LocalChanged);
        }
    }

    /// Feeds `ev` to node `i`'s session with `p` and performs the effects, as the actor would.
    fn run(&mut self, i: usize, p: usize, ev: Ev) {
        let mut work = VecDeque::from([(i, p, ev)]);
        while let Some((i, p, ev)) = work.pop_front() {
            let effects = {
                let keys = &self.keys;
                let node = &mut self.nodes[i];
                let connected = node.sessions.keys().map(|q| keys[*q]).collect();
                let src = SimSource {
                    model: &node.model,
                    connected,
                    snapshots: node
                        .model
                        .snapshots
                        .iter()
                        .map(|(s, _)| s.clone())
                        .collect(),
                };
                let Some(session) = node.sessions.get_mut(&p) else {
                    continue;
                };
                session.handle(self.now, ev.input(), &src)
            };
            for effect in effects {
                match effect {
                    Effect::Send(bytes) => {
                        self.sent += 1;
                        let m = Message::decode(&bytes).expect("sessions send valid frames");
                        self.trace.push((i, p, m));
                        self.queue.push_back(Frame {
                            from: i,
                            to: p,
                            bytes,
                        });
                    }
                    Effect::ApplyEnvelopes { token, envelopes } => {
                        let (mut applied, mut invalid) = (0, 0);
                        for env in &envelopes {
                            match self.nodes[i].model.ingest(env) {
                                Ok(true) => applied += 1,
                                Ok(false) => {}
                                Err(()) => invalid += 1,
                            }
                        }
                        work.push_back((i, p, Ev::Applied { token, invalid }));
                        if applied > 0 {
                            for q in self.nodes[i].sessions.keys().filter(|q| **q != p) {
                                work.push_back((i, *q, Ev::LocalChanged));
                            }
                        }
                    }
                    Effect::ApplyOps { token, ops } => {
                        let mut applied = 0;
                        for op in ops {
                            applied += usize::from(self.nodes[i].model.add_op(op));
                        }
                        work.push_back((i, p, Ev::Applied { token, invalid: 0 }));
                        if applied > 0 {
                            for q in self.nodes[i].sessions.keys().filter(|q| **q != p) {
                                work.push_back((i, *q, Ev::LocalChanged));
                            }
                        }
                    }
                    Effect::ApplySnapshot { token, snapshot } => {
                        self.snapshots_applied += 1;
                        let (applied, invalid) =
                            match self.nodes[i].model.ingest_snapshot(&snapshot) {
                                Ok(applied) => (applied, 0),
                                Err(()) => (false, 1),
                            };
                        work.push_back((i, p, Ev::Applied { token, invalid }));
                        if applied {
                            for q in self.nodes[i].sessions.keys().filter(|q| **q != p) {
                                work.push_back((i, *q, Ev::LocalChanged));
                            }
                        }
                    }
                    Effect::Hint { peers, author, seq } => {
                        for (q, _) in self.nodes[i].sessions.iter() {
                            if *q != p && peers.contains(&self.keys[*q]) {
                                work.push_back((i, *q, Ev::Hinted { author, seq }));
                            }
                        }
                    }
                    Effect::Disconnect { reason, penalty } => {
                        self.disconnects.push((i, p, reason, penalty));
                        self.disconnect(i, p);
                    }
                }
            }
        }
    }

    fn deliver(&mut self, frame: Frame) {
        self.run(frame.to, frame.from, Ev::Received(frame.bytes));
    }

    /// Delivers frames in order until none are left; returns how many.
    fn run_until_quiet(&mut self) -> usize {
        let mut steps = 0;
        while let Some(frame) = self.queue.pop_front() {
            self.deliver(frame);
            steps += 1;
            assert!(steps < 100_000, "no quiescence: the protocol loops");
        }
        steps
    }

    fn tick_all(&mut self, by: Duration) {
        self.now += by;
        for i in 0..self.nodes.len() {
            let peers: Vec<usize> = self.nodes[i].sessions.keys().copied().collect();
            for p in peers {
                self.run(i, p, Ev::Tick);
            }
        }
    }

    /// Runs until every node holds the same, reliably; ticks when nothing is moving.
    fn settle(&mut self) {
        for _ in 0..50 {
            self.run_until_quiet();
            if self.converged() {
                return;
            }
            self.tick_all(RETRANSMIT_AFTER);
        }
        panic!("did not converge");
    }

    fn converged(&self) -> bool {
        let first = &self.nodes[0].model;
        self.nodes
            .iter()
            .all(|n| n.model.vector() == first.vector() && n.model.ops == first.ops)
    }

    /// After convergence, long quiet periods send at most one re-announcement per session and
    /// then nothing: no loop.
    fn assert_quiescent(&mut self) {
        self.tick_all(ANTI_ENTROPY_INTERVAL);
        self.run_until_quiet();
        let before = self.sent;
        self.tick_all(ANTI_ENTROPY_INTERVAL);
        self.run_until_quiet();
        assert_eq!(self.sent, before, "frames sent while nothing changed");
    }

    fn vector(&self, i: usize) -> Vector {
        self.nodes[i].model.vector()
    }
}

fn mesh(n: usize) -> Sim {
    let mut sim = Sim::new(n);
    for a in 0..n {
        for b in a + 1..n {
            sim.connect(a, b);
        }
    }
    sim.run_until_quiet();
    sim
}

#[test]
fn two_nodes_converge() {
    let mut sim = Sim::new(2);
    for _ in 0..300 {
        sim.write(0, 20);
    }
    for _ in 0..5 {
        sim.write(1, 20);
    }
    sim.connect(0, 1);
    sim.settle();
    assert_eq!(sim.vector(1).get(&sim.keys[0]), Some(&300));
    assert_eq!(sim.vector(0).get(&sim.keys[1]), Some(&5));
    // 300 envelopes take two batches; nothing is sent twice.
    let batches = sim
        .trace
        .iter()
        .filter(|(_, _, m)| matches!(m, Message::Envelopes { .. }))
        .count();
    assert_eq!(batches, 3);
    sim.assert_quiescent();
}

#[test]
fn three_nodes_in_a_line_converge_through_relay() {
    let mut sim = Sim::new(3);
    sim.connect(0, 1);
    sim.connect(1, 2);
    sim.run_until_quiet();
    let before = sim.sent;
    sim.write(0, 50);
    sim.run_until_quiet();
    assert!(sim.converged());
    // Two hops, each an Envelopes frame and its Ack.
    assert_eq!(sim.sent - before, 4);
    sim.write(2, 50);
    sim.add_op(2, b"op from the far end");
    sim.settle();
    assert!(sim.converged());
    assert_eq!(sim.nodes[0].model.ops.len(), 1);
    sim.assert_quiescent();
}

#[test]
fn full_mesh_of_ten_one_edit_costs_at_most_36_messages() {
    let mut sim = mesh(10);
    let before = sim.sent;
    sim.write(0, 200);
    sim.run_until_quiet();
    assert!(sim.converged());
    let one = sim.sent - before;
    println!("10-node full mesh: one new envelope reached every node with {one} messages");
    assert!(one <= 36, "{one} messages for one edit");

    // Every node edits at once: still at most 36 messages per edit.
    let before = sim.sent;
    for i in 0..10 {
        sim.write(i, 200);
    }
    sim.run_until_quiet();
    assert!(sim.converged());
    let ten = sim.sent - before;
    println!("10-node full mesh: ten concurrent edits took {ten} messages");
    assert!(ten <= 360, "{ten} messages for ten edits");
    sim.assert_quiescent();
}

#[test]
fn lost_hellos_are_sent_again_and_answered_once() {
    let mut sim = Sim::new(2);
    sim.write(0, 10);
    sim.connect(0, 1);
    sim.queue.clear(); // both Hellos lost
    sim.run_until_quiet();
    assert!(!sim.converged());
    sim.settle();
    assert!(sim.converged());
    sim.assert_quiescent();
}

#[test]
fn a_peer_restarting_with_empty_state_catches_up() {
    let mut sim = Sim::new(3);
    sim.connect(0, 1);
    sim.connect(1, 2);
    sim.connect(0, 2);
    for i in 0..3 {
        for _ in 0..40 {
            sim.write(i, 30);
        }
    }
    sim.add_op(0, b"create");
    sim.settle();
    // Node 1 is wiped (same key) and reconnects.
    sim.disconnect(0, 1);
    sim.disconnect(1, 2);
    sim.nodes[1].model = Model::default();
    sim.run_until_quiet();
    let before = sim.sent;
    sim.connect(0, 1);
    sim.connect(1, 2);
    sim.settle();
    assert!(sim.converged());
    // Its own envelopes come back too, so it will not reuse their numbers.
    assert_eq!(sim.vector(1).get(&sim.keys[1]), Some(&40));
    // Bounded: Hellos, ops and 120 envelopes from each of two peers at most, with Acks.
    let cost = sim.sent - before;
    assert!(cost <= 24, "{cost} frames to catch up");
    sim.assert_quiescent();
}

#[test]
fn membership_ops_go_before_envelopes() {
    let mut sim = Sim::new(3);
    for _ in 0..3 {
        sim.write(0, 10);
    }
    sim.add_op(0, b"create");
    sim.add_op(0, b"add org");
    sim.connect(0, 1);
    sim.connect(1, 2);
    sim.settle();
    for to in [1, 2] {
        let kinds: Vec<&Message> = sim
            .trace
            .iter()
            .filter(|(_, t, m)| *t == to && !matches!(m, Message::Hello(_) | Message::Ack(_)))
            .map(|(_, _, m)| m)
            .collect();
        assert!(
            matches!(kinds.first(), Some(Message::Ops { .. })),
            "{kinds:?}"
        );
    }
    assert_eq!(sim.nodes[2].model.ops.len(), 2);
    sim.assert_quiescent();
}

#[test]
fn a_peer_that_refuses_an_author_is_not_sent_it_in_a_loop() {
    let mut sim = Sim::new(2);
    for _ in 0..5 {
        sim.write(0, 10);
    }
    let a = sim.keys[0];
    sim.nodes[1].model.refuse.insert(a);
    sim.connect(0, 1);
    for _ in 0..5 {
        sim.run_until_quiet();
        sim.tick_all(RETRANSMIT_AFTER);
    }
    sim.run_until_quiet();
    // Two Hellos, one batch, its Ack.
    assert_eq!(sim.sent, 4);
    // A new write by the refused author is not tried until the peer's state changes.
    sim.write(0, 10);
    sim.run_until_quiet();
    assert_eq!(sim.sent, 4);
    sim.assert_quiescent();
    let src = SimSource {
        model: &sim.nodes[0].model,
        connected: vec![],
        snapshots: vec![],
    };
    assert_eq!(sim.nodes[0].sessions[&1].status(&src).envelopes_pending, 6);
}

/// One session whose peer said Hello with an empty state; returns it and its source's model.
fn open_session(model: &Model) -> (PeerSync, Vec<Effect>) {
    let local = SecretKey::from_bytes(&[1; 32]).public();
    let peer = SecretKey::from_bytes(&[2; 32]).public();
    let mut s = PeerSync::new(local, peer);
    let src = SimSource {
        model,
        connected: vec![peer],
        snapshots: vec![],
    };
    let mut effects = s.handle(Duration::ZERO, Input::Connected, &src);
    let hello = hello(NET, false);
    effects.extend(s.handle(Duration::ZERO, Input::Received(&hello), &src));
    (s, effects)
}

fn hello(network: NetworkId, reply: bool) -> Vec<u8> {
    Message::Hello(Hello {
        network,
        reply,
        heads: vec![],
        vector: Vector::new(),
    })
    .encode()
}

fn frames(effects: &[Effect]) -> Vec<Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(b) => Some(Message::decode(b).expect("valid")),
            _ => None,
        })
        .collect()
}

fn penalty(effects: &[Effect]) -> Option<Penalty> {
    match effects.last() {
        Some(Effect::Disconnect { penalty, .. }) => penalty.clone(),
        _ => None,
    }
}

#[test]
fn batches_respect_limits_and_in_flight_is_bounded() {
    let key = SecretKey::from_bytes(&[1; 32]);
    let mut model = Model::default();
    // 1100 small envelopes (more than four full batches) and 12 of 300 KB.
    let other = SecretKey::from_bytes(&[3; 32]);
    let small: Vec<Vec<u8>> = (1..=1100).map(|s| seal(&other, s, 10)).collect();
    model.hold(other.public(), small);
    let big: Vec<Vec<u8>> = (1..=12).map(|s| seal(&key, s, 300_000)).collect();
    model.hold(key.public(), big);
    let (mut s, effects) = open_session(&model);
    let src = SimSource {
        model: &model,
        connected: vec![],
        snapshots: vec![],
    };
    let sent = frames(&effects);
    let batches: Vec<&Message> = sent
        .iter()
        .filter(|m| matches!(m, Message::Envelopes { .. }))
        .collect();
    assert_eq!(batches.len(), MAX_IN_FLIGHT_BATCHES);
    for m in &batches {
        let Message::Envelopes { envelopes, .. } = m else {
            unreachable!()
        };
        let bytes: usize = envelopes.iter().map(Vec::len).sum();
        assert!(envelopes.len() <= MAX_BATCH_ENVELOPES);
        assert!(envelopes.len() == 1 || bytes <= MAX_BATCH_BYTES, "{bytes}");
    }
    // Nothing more until an Ack.
    assert!(frames(&s.handle(Duration::ZERO, Input::LocalChanged, &src)).is_empty());
    // The first batch held the 300 KB envelopes, three of them (the key sorts first).
    let Message::Envelopes {
        envelopes, direct, ..
    } = batches[0]
    else {
        unreachable!()
    };
    assert_eq!(envelopes.len(), 3);
    assert!(direct.is_empty(), "the only peer is the recipient");
    let ack = Message::Ack(Ack {
        batch: 1,
        heads: vec![],
        vector: [(key.public(), 3)].into_iter().collect(),
    })
    .encode();
    let more = frames(&s.handle(Duration::ZERO, Input::Received(&ack), &src));
    assert_eq!(more.len(), 1, "one batch per Ack");
    assert_eq!(s.status(&src).in_flight, MAX_IN_FLIGHT_BATCHES);
}

#[test]
fn misbehaving_frames_disconnect_with_a_penalty() {
    let mut model = Model::default();
    let key = SecretKey::from_bytes(&[1; 32]);
    model.hold(key.public(), vec![seal(&key, 1, 10)]);
    let other_net = NetworkId::from_bytes([6; 16]);
    let too_many = Message::Envelopes {
        batch: 1,
        direct: vec![],
        envelopes: vec![vec![1]; MAX_BATCH_ENVELOPES + 1],
    }
    .encode();
    let unknown_ack = Message::Ack(Ack {
        batch: 99,
        heads: vec![],
        vector: Vector::new(),
    })
    .encode();
    type Check = fn(&Penalty) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (vec![1, 0xff, 3], |p| matches!(p, Penalty::Malformed(_))),
        (vec![0; MAX_FRAME_BYTES + 1], |p| {
            matches!(p, Penalty::Oversized { .. })
        }),
        (vec![2, 6, 0], |p| matches!(p, Penalty::VersionMismatch(2))),
        (hello(other_net, true), |p| {
            matches!(p, Penalty::WrongNetwork(_))
        }),
        (too_many, |p| matches!(p, Penalty::OverLimit(_))),
        (unknown_ack, |p| matches!(p, Penalty::UnknownBatch(99))),
    ];
    for (frame, check) in cases {
        let (mut s, _) = open_session(&model);
        let src = SimSource {
            model: &model,
            connected: vec![],
            snapshots: vec![],
        };
        let effects = s.handle(Duration::ZERO, Input::Received(&frame), &src);
        let p = penalty(&effects).expect("a penalty");
        assert!(check(&p), "{p:?}");
        assert!(matches!(frames(&effects).last(), Some(Message::Bye(_))));
        assert!(s.is_closed());
        assert!(
            s.handle(Duration::ZERO, Input::LocalChanged, &src)
                .is_empty()
        );
    }

    // Batches sent without waiting for Acks (the actor has not applied any yet).
    let (mut s, _) = open_session(&model);
    let src = SimSource {
        model: &model,
        connected: vec![],
        snapshots: vec![],
    };
    let mut last = Vec::new();
    for batch in 1..=MAX_PENDING_APPLY as u64 + 1 {
        let frame = Message::Ops {
            batch,
            ops: vec![vec![1]],
        }
        .encode();
        last = s.handle(Duration::ZERO, Input::Received(&frame), &src);
    }
    assert_eq!(penalty(&last), Some(Penalty::TooManyBatches));
}

#[test]
fn invalid_envelopes_and_garbage_disconnect_one_peer_only() {
    let mut sim = Sim::new(3);
    sim.connect(0, 1);
    sim.connect(0, 2);
    sim.settle();
    // Node 1 sends node 0 a well-framed batch whose envelope is forged.
    let mut forged = seal(&sim.nodes[1].key, 1, 10);
    forged[20] ^= 1;
    forged[1] = 9;
    let frame = Message::Envelopes {
        batch: 1,
        direct: vec![],
        envelopes: vec![forged],
    }
    .encode();
    sim.queue.push_back(Frame {
        from: 1,
        to: 0,
        bytes: frame,
    });
    sim.run_until_quiet();
    assert!(matches!(
        sim.disconnects.as_slice(),
        [(0, 1, ByeReason::Misbehaviour, Some(Penalty::InvalidData(1)))]
    ));
    assert!(!sim.nodes[0].sessions.contains_key(&1));
    // Node 0 keeps syncing with node 2.
    sim.write(2, 10);
    sim.run_until_quiet();
    assert_eq!(sim.vector(0), sim.vector(2));

    // Garbage from 2 ends that session too, and a reconnected 1 syncs again.
    sim.queue.push_back(Frame {
        from: 2,
        to: 0,
        bytes: vec![1, 3, 0, 0],
    });
    sim.run_until_quiet();
    assert!(matches!(
        sim.disconnects.last(),
        Some((0, 2, _, Some(Penalty::Malformed(_))))
    ));
    sim.connect(0, 1);
    sim.connect(0, 2);
    sim.settle();
    assert!(sim.converged());
}

#[test]
fn a_far_behind_peer_gets_a_snapshot_once() {
    let author = SecretKey::from_bytes(&[3; 32]).public();
    let model = Model::default();
    let covers: Vector = [(author, 5000)].into_iter().collect();
    let snapshot = SnapshotInfo {
        id: [7; 32],
        covers,
        len: 100,
    };
    let local = SecretKey::from_bytes(&[1; 32]).public();
    let peer = SecretKey::from_bytes(&[2; 32]).public();
    let mut s = PeerSync::new(local, peer);
    let src = SimSource {
        model: &model,
        connected: vec![],
        snapshots: vec![snapshot],
    };
    s.handle(Duration::ZERO, Input::Connected, &src);
    let sent = frames(&s.handle(Duration::ZERO, Input::Received(&hello(NET, true)), &src));
    assert!(matches!(
        sent.as_slice(),
        [Message::Snapshot { batch: 1, .. }]
    ));
    // The peer could not use it: it acknowledges unchanged; the snapshot is not sent again.
    let ack = Message::Ack(Ack {
        batch: 1,
        heads: vec![],
        vector: Vector::new(),
    })
    .encode();
    assert!(frames(&s.handle(Duration::ZERO, Input::Received(&ack), &src)).is_empty());
}

/// Node 0 wrote 100 envelopes and signed a snapshot of them, then went offline. Node 1 caught
/// up from a relayed copy of that snapshot: it holds only its first `relay_holds` envelopes.
/// Node 2 holds the first `peer_holds`, node 3 (if any) the first `peer_holds - 5`.
fn relayed_snapshot(nodes: usize, relay_holds: usize, peer_holds: usize) -> Sim {
    let mut sim = Sim::new(nodes);
    let author = sim.keys[0];
    let envelopes: Vec<Vec<u8>> = (1..=100).map(|s| seal(&sim.nodes[0].key, s, 10)).collect();
    sim.nodes[0].model.hold(author, envelopes.clone());
    let snapshot = snapshot_of(&sim.nodes[0].key, 100);
    sim.nodes[0].model.snapshots.push(snapshot.clone());
    let mut relay: Vec<Option<Vec<u8>>> =
        envelopes[..relay_holds].iter().cloned().map(Some).collect();
    relay.resize(100, None);
    sim.nodes[1].model.log.insert(author, relay);
    sim.nodes[1].model.snapshots.push(snapshot);
    sim.nodes[2]
        .model
        .hold(author, envelopes[..peer_holds].to_vec());
    if nodes > 3 {
        sim.nodes[3]
            .model
            .hold(author, envelopes[..peer_holds - 5].to_vec());
    }
    sim
}

/// The non-Hello, non-Ack frames node `from` sent node `to`, in order.
fn data_frames(sim: &Sim, from: usize, to: usize) -> Vec<&Message> {
    sim.trace
        .iter()
        .filter(|(f, t, m)| {
            *f == from && *t == to && !matches!(m, Message::Hello(_) | Message::Ack(_))
        })
        .map(|(_, _, m)| m)
        .collect()
}

fn snapshots_sent(sim: &Sim) -> usize {
    sim.trace
        .iter()
        .filter(|(_, _, m)| matches!(m, Message::Snapshot { .. }))
        .count()
}

#[test]
fn a_node_holding_only_a_snapshot_brings_a_slightly_behind_peer_up_to_date() {
    // 1 (the snapshot alone) - 2 (ten behind) - 3 (fifteen behind); the author is offline.
    let mut sim = relayed_snapshot(4, 0, 90);
    let author = sim.keys[0];
    const { assert!(100 - 90 < SNAPSHOT_MIN_BEHIND) };
    sim.connect(1, 2);
    sim.connect(2, 3);
    sim.run_until_quiet();
    for node in 1..4 {
        assert_eq!(sim.vector(node).get(&author), Some(&100), "node {node}");
    }
    // 1 sent 2 the snapshot and nothing else; 2 sent 3 the envelopes it holds that 3 lacks,
    // then relayed the snapshot.
    assert!(matches!(
        data_frames(&sim, 1, 2).as_slice(),
        [Message::Snapshot { .. }]
    ));
    let to_3 = data_frames(&sim, 2, 3);
    assert!(
        matches!(
            to_3.as_slice(),
            [Message::Envelopes { envelopes, .. }, Message::Snapshot { .. }] if envelopes.len() == 5
        ),
        "{to_3:?}"
    );
    assert_eq!(snapshots_sent(&sim), 2);
    assert_eq!(sim.snapshots_applied, 2);
    assert!(sim.disconnects.is_empty(), "{:?}", sim.disconnects);
    sim.assert_quiescent();
    assert_eq!(snapshots_sent(&sim), 2, "no snapshot is sent again");

    // The author comes back and writes: nobody needs a snapshot, the new envelope flows.
    sim.connect(0, 1);
    sim.connect(0, 2);
    sim.run_until_quiet();
    sim.write(0, 10);
    sim.settle();
    assert!(sim.converged());
    assert_eq!(sim.vector(3).get(&author), Some(&101));
    assert_eq!(snapshots_sent(&sim), 2);
    sim.assert_quiescent();
}

#[test]
fn envelopes_a_node_holds_go_before_the_snapshot() {
    // Node 1 holds the author's first 50 envelopes and a snapshot up to 100; node 2 has 40.
    let mut sim = relayed_snapshot(3, 50, 40);
    let author = sim.keys[0];
    sim.connect(1, 2);
    sim.run_until_quiet();
    assert_eq!(sim.vector(2).get(&author), Some(&100));
    let sent = data_frames(&sim, 1, 2);
    assert!(
        matches!(
            sent.as_slice(),
            [Message::Envelopes { envelopes, .. }, Message::Snapshot { .. }] if envelopes.len() == 10
        ),
        "{sent:?}"
    );
    sim.assert_quiescent();
    assert_eq!(snapshots_sent(&sim), 1);
}

#[test]
fn a_slightly_behind_peer_gets_envelopes_when_they_are_held() {
    // Node 1 holds every envelope its snapshot covers: envelopes, no snapshot.
    let mut sim = relayed_snapshot(3, 100, 90);
    let author = sim.keys[0];
    sim.connect(1, 2);
    sim.run_until_quiet();
    assert_eq!(sim.vector(2).get(&author), Some(&100));
    assert!(matches!(
        data_frames(&sim, 1, 2).as_slice(),
        [Message::Envelopes { envelopes, .. }] if envelopes.len() == 10
    ));
    assert_eq!(snapshots_sent(&sim), 0);
    sim.assert_quiescent();
}

#[test]
fn a_snapshot_the_peer_cannot_use_is_not_sent_again() {
    // Node 2 refuses the author's records (no epoch key yet, say): it acknowledges the
    // snapshot unchanged. Node 1 has nothing else to send it for that author.
    let mut sim = relayed_snapshot(3, 0, 90);
    let author = sim.keys[0];
    sim.nodes[2].model.refuse.insert(author);
    sim.connect(1, 2);
    for _ in 0..5 {
        sim.run_until_quiet();
        sim.tick_all(RETRANSMIT_AFTER);
    }
    sim.run_until_quiet();
    assert_eq!(sim.vector(2).get(&author), Some(&90));
    assert_eq!(snapshots_sent(&sim), 1);
    // Other traffic in the session does not bring it back.
    sim.write(1, 10);
    sim.write(2, 10);
    sim.run_until_quiet();
    assert_eq!(sim.vector(2).get(&sim.keys[1]), Some(&1));
    assert_eq!(snapshots_sent(&sim), 1);
    assert!(sim.disconnects.is_empty(), "{:?}", sim.disconnects);
    sim.assert_quiescent();
    assert_eq!(snapshots_sent(&sim), 1);
}

/// Node 0 imported a lot in a few envelopes (`seq` of them, the first `snapshot_seq` covered by
/// its own snapshot of `padding` bytes); node 1 holds the first `peer_holds` of them.
fn imported(seq: u64, snapshot_seq: u64, padding: usize, peer_holds: usize) -> Sim {
    let mut sim = Sim::new(2);
    let author = sim.keys[0];
    let envelopes: Vec<Vec<u8>> = (1..=seq).map(|s| seal(&sim.nodes[0].key, s, 10)).collect();
    sim.nodes[0].model.hold(author, envelopes.clone());
    let snapshot = sized_snapshot_of(&sim.nodes[0].key, snapshot_seq, padding);
    sim.nodes[0].model.snapshots.push(snapshot);
    sim.nodes[1]
        .model
        .hold(author, envelopes[..peer_holds].to_vec());
    sim
}

#[test]
fn a_fresh_peer_gets_a_large_snapshot_instead_of_a_few_envelopes() {
    // Eleven envelopes (an import of 10 000 offers) are far fewer than SNAPSHOT_MIN_BEHIND, but
    // the peer holds none of them and the snapshot is large: it gets the snapshot alone.
    const { assert!(11 < SNAPSHOT_MIN_BEHIND) };
    let mut sim = imported(11, 11, SNAPSHOT_FRESH_MIN_BYTES, 0);
    let author = sim.keys[0];
    assert!(sim.nodes[0].model.snapshots[0].0.len >= SNAPSHOT_FRESH_MIN_BYTES);
    sim.connect(0, 1);
    sim.run_until_quiet();
    assert_eq!(sim.vector(1).get(&author), Some(&11));
    assert!(matches!(
        data_frames(&sim, 0, 1).as_slice(),
        [Message::Snapshot { .. }]
    ));
    assert_eq!(sim.snapshots_applied, 1);
    sim.assert_quiescent();
    assert_eq!(snapshots_sent(&sim), 1);

    // A newer envelope than the snapshot covers follows it; a later write goes as an envelope.
    let mut sim = imported(13, 11, SNAPSHOT_FRESH_MIN_BYTES, 0);
    sim.connect(0, 1);
    sim.run_until_quiet();
    assert_eq!(sim.vector(1).get(&author), Some(&13));
    let sent = data_frames(&sim, 0, 1);
    assert!(
        matches!(
            sent.as_slice(),
            [Message::Snapshot { .. }, Message::Envelopes { envelopes, .. }] if envelopes.len() == 2
        ),
        "{sent:?}"
    );
    sim.write(0, 10);
    sim.run_until_quiet();
    assert_eq!(sim.vector(1).get(&author), Some(&14));
    assert_eq!(snapshots_sent(&sim), 1);
    sim.assert_quiescent();
}

#[test]
fn a_small_snapshot_or_a_peer_holding_some_of_it_gets_envelopes() {
    let author = SecretKey::from_bytes(&[1; 32]).public();
    // A fresh peer, but a snapshot below the size rule: the envelopes cost as little.
    let mut sim = imported(11, 11, SNAPSHOT_FRESH_MIN_BYTES / 2, 0);
    assert!(sim.nodes[0].model.snapshots[0].0.len < SNAPSHOT_FRESH_MIN_BYTES);
    sim.connect(0, 1);
    sim.run_until_quiet();
    assert_eq!(sim.vector(1).get(&author), Some(&11));
    assert!(matches!(
        data_frames(&sim, 0, 1).as_slice(),
        [Message::Envelopes { envelopes, .. }] if envelopes.len() == 11
    ));
    assert_eq!(snapshots_sent(&sim), 0);
    sim.assert_quiescent();

    // A large snapshot, but the peer holds one of the envelopes: the snapshot would resend it
    // and be merged change by change, so the ten it lacks go as envelopes.
    let mut sim = imported(11, 11, SNAPSHOT_FRESH_MIN_BYTES, 1);
    sim.connect(0, 1);
    sim.run_until_quiet();
    assert_eq!(sim.vector(1).get(&author), Some(&11));
    assert!(matches!(
        data_frames(&sim, 0, 1).as_slice(),
        [Message::Envelopes { envelopes, .. }] if envelopes.len() == 10
    ));
    assert_eq!(snapshots_sent(&sim), 0);
    sim.assert_quiescent();

    // A peer that holds everything the snapshot covers gets only what is newer.
    let mut sim = imported(13, 11, SNAPSHOT_FRESH_MIN_BYTES, 11);
    sim.connect(0, 1);
    sim.run_until_quiet();
    assert!(matches!(
        data_frames(&sim, 0, 1).as_slice(),
        [Message::Envelopes { envelopes, .. }] if envelopes.len() == 2
    ));
    assert_eq!(snapshots_sent(&sim), 0);
}

#[test]
fn a_fresh_peer_that_cannot_use_the_snapshot_gets_the_envelopes() {
    // The peer lacks the epoch key (say) and acknowledges the snapshot unchanged; once it can
    // use the author's records, the envelopes follow and the snapshot is not sent again.
    let mut sim = imported(11, 11, SNAPSHOT_FRESH_MIN_BYTES, 0);
    let author = sim.keys[0];
    sim.nodes[1].model.refuse.insert(author);
    sim.connect(0, 1);
    sim.run_until_quiet();
    assert_eq!(snapshots_sent(&sim), 1);
    assert_eq!(sim.vector(1).get(&author), None);
    sim.nodes[1].model.refuse.clear();
    sim.add_op(1, b"the epoch key arrives");
    sim.settle();
    assert_eq!(sim.vector(1).get(&author), Some(&11));
    assert_eq!(snapshots_sent(&sim), 1);
    assert!(sim.disconnects.is_empty(), "{:?}", sim.disconnects);
    sim.assert_quiescent();
}

/// What a schedule step does to the queue.
fn apply_step(sim: &mut Sim, choice: (u8, u16)) {
    let (action, pick) = choice;
    if sim.queue.is_empty() {
        if action % 4 == 0 {
            let n = sim.nodes.len();
            sim.write(usize::from(pick) % n, 10);
        } else {
            sim.tick_all(RETRANSMIT_AFTER);
        }
        return;
    }
    let index = usize::from(pick) % sim.queue.len();
    match action % 10 {
        0 => {
            sim.queue.remove(index);
        }
        1 => {
            let copy = sim.queue[index].clone();
            sim.queue.push_back(copy);
        }
        2 => {
            let n = sim.nodes.len();
            sim.write(usize::from(pick) % n, 10);
        }
        _ => {
            let frame = sim.queue.remove(index).expect("index is in range");
            sim.deliver(frame);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Lost, duplicated and reordered frames: every node still ends with everything, within
    /// bounded steps once the network behaves, and then goes quiet.
    #[test]
    fn lossy_reordering_network_converges(
        schedule in proptest::collection::vec((any::<u8>(), any::<u16>()), 0..300),
        extra_edge in any::<bool>(),
    ) {
        let mut sim = Sim::new(4);
        sim.connect(0, 1);
        sim.connect(1, 2);
        sim.connect(2, 3);
        if extra_edge {
            sim.connect(0, 3);
        }
        sim.write(0, 10);
        sim.write(3, 10);
        sim.add_op(1, b"op");
        for step in schedule {
            apply_step(&mut sim, step);
        }
        sim.settle();
        prop_assert!(sim.converged());
        prop_assert!(sim.disconnects.is_empty(), "{:?}", sim.disconnects);
        sim.assert_quiescent();
    }
}
