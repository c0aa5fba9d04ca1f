//! [`MembershipLog`]: the accepted ops of one network, the bounded set of ops waiting for
//! their parents, the heads, what to send a peer, and the resolved [`MemberState`], kept up to
//! date as ops arrive.
//!
//! Sans-I/O: the caller stores and sends the bytes; nothing here reads the disk, the network,
//! the clock or a random source.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use super::crypto::open_epoch_key;
use super::op::{Body, Op, RevokeTarget, VerifiedOp};
use super::state::{InvalidReason, Judged, MemberState, Verdict, View, covers};
use super::{
    MAX_OPS, MAX_PENDING_BYTES, MAX_PENDING_OPS, MembershipError, OpId, STATE_CACHE_LEN,
    SUMMARY_SAMPLES,
};
use crate::identity::{AgreementSecret, PublicKey};
use crate::keys::{Epoch, EpochKey, EpochKeyring, NetworkId};

/// What [`MembershipLog::insert`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inserted {
    /// Ops newly accepted, in the order they were accepted: the inserted op, then any waiting
    /// ops it released. Empty if the op was a duplicate or is waiting.
    pub accepted: Vec<OpId>,
    /// The parents the op waits for, if it was buffered.
    pub missing: Vec<OpId>,
    /// The op was already accepted or already waiting: nothing changed.
    pub duplicate: bool,
}

/// An accepted op, its judgement in the current set of ops and how many accepted ops name it
/// as a parent.
#[derive(Debug)]
struct Entry {
    op: Op,
    judged: Judged,
    children: usize,
}

/// The membership log of one network (see the module docs for the resolution rule).
#[derive(Debug)]
pub struct MembershipLog {
    network: NetworkId,
    genesis: OpId,
    entries: HashMap<OpId, Entry>,
    /// Accepted ops in canonical order: by depth, then id. A topological order.
    order: BTreeSet<(u64, OpId)>,
    /// Accepted ops in the order this log accepted them: each after its parents.
    accepted: Vec<OpId>,
    /// Depth of each accepted op: the longest path from the genesis.
    depths: HashMap<OpId, u64>,
    heads: BTreeSet<OpId>,
    /// The resolved state of all accepted ops, with their verdicts.
    state: MemberState,
    /// The state of each recently accepted op's causal past including the op, with the
    /// verdicts of the current set of ops (cleared when a revocation changes verdicts).
    cache: HashMap<OpId, View>,
    cache_order: VecDeque<OpId>,
    /// Verified ops with a missing parent.
    pending: HashMap<OpId, Op>,
    /// For each missing parent, the pending ops that name it.
    waiting: HashMap<OpId, Vec<OpId>>,
    pending_bytes: usize,
    /// What each `EpochKey` op opened to for one device ([`MembershipLog::epoch_keys_memo`]).
    opened: Opened,
}

/// The epoch keys `EpochKey` ops opened to for one device, by op id (`None`: the op seals
/// nothing this device can open). An op's bytes are fixed by its id, so what it opens to never
/// changes; only which of the keys count (verdicts, each epoch's winner) is decided afresh.
#[derive(Default)]
struct Opened {
    device: Option<PublicKey>,
    keys: HashMap<OpId, Option<EpochKey>>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("ops", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl MembershipLog {
    /// A log holding only the network's founding op (a `Create` op without parents, checked
    /// and signature-verified here). Every node of a network builds its log from the same
    /// founding op: a joining node receives it from its inviter.
    pub fn new(genesis: &[u8]) -> Result<Self, MembershipError> {
        Self::from_genesis(Op::from_bytes(genesis)?.verify()?)
    }

    /// A log holding only a founding op whose signature was already checked.
    pub fn from_genesis(genesis: VerifiedOp) -> Result<Self, MembershipError> {
        let op = genesis.into_op();
        if !matches!(op.body(), Body::Create { .. }) {
            return Err(MembershipError::NotCreate);
        }
        let mut log = Self {
            network: op.network(),
            genesis: op.id(),
            entries: HashMap::new(),
            order: BTreeSet::new(),
            accepted: Vec::new(),
            depths: HashMap::new(),
            heads: BTreeSet::new(),
            state: MemberState::new(op.network(), op.id()),
            cache: HashMap::new(),
            cache_order: VecDeque::new(),
            pending: HashMap::new(),
            waiting: HashMap::new(),
            pending_bytes: 0,
            opened: Opened::default(),
        };
        log.accept(op);
        Ok(log)
    }

    /// The network.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// The founding op's id.
    pub fn genesis(&self) -> OpId {
        self.genesis
    }

    /// Parses, checks and inserts op bytes (from a peer, the store or this node).
    pub fn insert(&mut self, bytes: &[u8]) -> Result<Inserted, MembershipError> {
        self.insert_op(Op::from_bytes(bytes)?)
    }

    /// Inserts a parsed op. Checks, in order: network, duplicate (a no-op), signature, that an
    /// op without parents is the genesis; then buffers the op if a parent is missing (bounded:
    /// [`MembershipError::PendingFull`]), or accepts it, judges it against its causal past and
    /// releases the waiting ops it completes. An op its author was not authorised for is
    /// accepted with an invalid verdict: it is not an error. An error never changes the log.
    pub fn insert_op(&mut self, op: Op) -> Result<Inserted, MembershipError> {
        if let Some(done) = self.precheck(&op)? {
            return Ok(done);
        }
        self.admit(op.verify()?.into_op())
    }

    /// Inserts an op whose signature was already checked, as [`MembershipLog::insert_op`] does
    /// otherwise.
    pub fn insert_verified(&mut self, op: VerifiedOp) -> Result<Inserted, MembershipError> {
        if let Some(done) = self.precheck(op.op())? {
            return Ok(done);
        }
        self.admit(op.into_op())
    }

    /// The checks before the signature: network, then duplicates.
    fn precheck(&self, op: &Op) -> Result<Option<Inserted>, MembershipError> {
        if op.network() != self.network {
            return Err(MembershipError::WrongNetwork {
                expected: self.network,
                got: op.network(),
            });
        }
        let id = op.id();
        if self.entries.contains_key(&id) || self.pending.contains_key(&id) {
            return Ok(Some(Inserted {
                duplicate: true,
                ..Inserted::default()
            }));
        }
        Ok(None)
    }

    /// Buffers or accepts a verified, new op of this network.
    fn admit(&mut self, op: Op) -> Result<Inserted, MembershipError> {
        let id = op.id();
        if op.parents().is_empty() {
            return Err(MembershipError::NotGenesis(id));
        }
        if self.entries.len() >= MAX_OPS {
            return Err(MembershipError::LogFull);
        }
        let missing: Vec<OpId> = op
            .parents()
            .iter()
            .filter(|parent| !self.entries.contains_key(parent))
            .copied()
            .collect();
        if !missing.is_empty() {
            let size = op.as_bytes().len();
            if self.pending.len() >= MAX_PENDING_OPS
                || self.pending_bytes + size > MAX_PENDING_BYTES
            {
                return Err(MembershipError::PendingFull);
            }
            for parent in &missing {
                self.waiting.entry(*parent).or_default().push(id);
            }
            self.pending.insert(id, op);
            self.pending_bytes += size;
            return Ok(Inserted {
                missing,
                ..Inserted::default()
            });
        }
        self.accept(op);
        let mut accepted = vec![id];
        let mut released = VecDeque::from([id]);
        while let Some(done) = released.pop_front() {
            let Some(mut waiters) = self.waiting.remove(&done) else {
                continue;
            };
            waiters.sort_unstable();
            for waiter in waiters {
                let ready = self.pending.get(&waiter).is_some_and(|op| {
                    op.parents()
                        .iter()
                        .all(|parent| self.entries.contains_key(parent))
                });
                if !ready || self.entries.len() >= MAX_OPS {
                    // Still waiting for another parent (it is listed under that one too), or
                    // the log is full and it stays pending.
                    continue;
                }
                if let Some(op) = self.pending.remove(&waiter) {
                    self.pending_bytes -= op.as_bytes().len();
                    self.accept(op);
                    accepted.push(waiter);
                    released.push_back(waiter);
                }
            }
        }
        Ok(Inserted {
            accepted,
            ..Inserted::default()
        })
    }

    /// Accepts an op whose parents are all accepted.
    ///
    /// Every op but a `Revoke` is judged against the state of its causal past with the verdicts
    /// of the current set, and nullified if an effective revocation already in the log covers
    /// its author (the op is new, so it cannot be an ancestor of that revocation). A `Revoke`
    /// is judged against the state of its causal past alone; if it is effective and covers
    /// valid ops that are not its ancestors, those are nullified and every verdict recomputed.
    /// Nothing else changes the verdicts of ops already accepted.
    fn accept(&mut self, op: Op) {
        let id = op.id();
        let depth = op
            .parents()
            .iter()
            .filter_map(|parent| self.depths.get(parent))
            .max()
            .map_or(0, |d| d + 1);
        let at_heads = op.parents().iter().eq(self.heads.iter());
        let is_revoke = matches!(op.body(), Body::Revoke { .. });
        let mut recompute = false;
        let judged = if at_heads {
            // The op's causal past is everything accepted: judge against the final state and
            // cache the result (sharing its parts) rather than copying the state first. Every
            // effective revocation is an ancestor, so nothing is nullified.
            let judged = self.state.view().judge(&op);
            self.state.apply(&op, &judged);
            self.cache_put(id, self.state.view().clone());
            judged
        } else {
            let mut view = self.state_before(&op);
            let judged = if is_revoke {
                let past = self.ancestors(&op);
                let outside = self
                    .state
                    .view()
                    .revocation_targets()
                    .any(|(revocation, _)| !past.contains(revocation));
                // An effective revocation outside the op's past may have nullified ops inside
                // it: the state of the past alone is then resolved afresh.
                let judged = if outside {
                    self.resolve(Some(&past)).1.judge(&op)
                } else {
                    view.judge(&op)
                };
                recompute = judged.verdict.is_valid() && self.has_concurrent_ops_of(&op, &past);
                judged
            } else {
                let judged = view.judge(&op);
                if self
                    .state
                    .view()
                    .is_covered(&op.author(), judged.author_org)
                {
                    judged.nullified(view.burns(&op))
                } else {
                    judged
                }
            };
            view.absorb(&op, &judged);
            self.cache_put(id, view);
            self.state.apply(&op, &judged);
            judged
        };
        for parent in op.parents() {
            self.heads.remove(parent);
            if let Some(entry) = self.entries.get_mut(parent) {
                entry.children += 1;
            }
        }
        self.heads.insert(id);
        self.order.insert((depth, id));
        self.accepted.push(id);
        self.depths.insert(id, depth);
        self.entries.insert(
            id,
            Entry {
                op,
                judged,
                children: 0,
            },
        );
        if recompute {
            self.recompute();
        }
    }

    /// The strict ancestors of an op whose parents are accepted.
    fn ancestors(&self, op: &Op) -> HashSet<OpId> {
        let mut past = HashSet::new();
        let mut stack = op.parents().to_vec();
        while let Some(id) = stack.pop() {
            if past.insert(id) {
                stack.extend_from_slice(self.entries[&id].op.parents());
            }
        }
        past
    }

    /// Whether the effective revocation `op` covers the author of an op that is not in `past`
    /// (its ancestors) and is not nullified yet: its verdict changes. If there is none, no
    /// verdict changes (the states of every op's past stay the same).
    fn has_concurrent_ops_of(&self, op: &Op, past: &HashSet<OpId>) -> bool {
        let Body::Revoke { target, .. } = op.body() else {
            return false;
        };
        self.entries.iter().any(|(id, entry)| {
            entry.judged.verdict != Verdict::Invalid(InvalidReason::RevokedConcurrently)
                && !matches!(entry.op.body(), Body::Revoke { .. } | Body::Create { .. })
                && covers(target, &entry.op.author(), entry.judged.author_org)
                && !past.contains(id)
        })
    }

    /// Resolves a causally closed set of accepted ops (all of them, or `within`) from scratch,
    /// by the rule in the module docs: in canonical (causal) order, each op is judged against
    /// the join of its parents' states; a `Revoke` keeps its verdict (judged in its own causal
    /// past when accepted); any other op whose author is a member device in its state is
    /// nullified if an effective revocation of the set covers that author and does not have the
    /// op as an ancestor. Returns every op's judgement and the state of the set. O(n·s) plus one
    /// walk per effective revocation that covers an op's author.
    fn resolve(&self, within: Option<&HashSet<OpId>>) -> (HashMap<OpId, Judged>, View) {
        let included = |id: &OpId| within.is_none_or(|set| set.contains(id));
        let ids: Vec<OpId> = self
            .order
            .iter()
            .map(|(_, id)| *id)
            .filter(|id| included(id))
            .collect();
        let revocations: Vec<(OpId, RevokeTarget)> = ids
            .iter()
            .filter_map(|id| match self.entries[id].op.body() {
                Body::Revoke { target, .. } if self.entries[id].judged.verdict.is_valid() => {
                    Some((*id, *target))
                }
                _ => None,
            })
            .collect();
        let mut children: HashMap<OpId, usize> = HashMap::new();
        for id in &ids {
            for parent in self.entries[id].op.parents() {
                *children.entry(*parent).or_default() += 1;
            }
        }
        // The states of the ops whose children are not all resolved yet, each including the op.
        let mut states: HashMap<OpId, View> = HashMap::new();
        let mut pasts: HashMap<OpId, HashSet<OpId>> = HashMap::new();
        let mut judgements = HashMap::with_capacity(ids.len());
        let mut all = View::default();
        for id in ids {
            let entry = &self.entries[&id];
            let op = &entry.op;
            let mut view = View::default();
            for parent in op.parents() {
                view.join(&states[parent]);
            }
            let judged = match op.body() {
                Body::Create { .. } | Body::Revoke { .. } => entry.judged.clone(),
                _ => {
                    let judged = view.judge(op);
                    let nullified = revocations.iter().any(|(revocation, target)| {
                        covers(target, &op.author(), judged.author_org)
                            && !pasts
                                .entry(*revocation)
                                .or_insert_with(|| self.ancestors(&self.entries[revocation].op))
                                .contains(&id)
                    });
                    if nullified {
                        judged.nullified(view.burns(op))
                    } else {
                        judged
                    }
                }
            };
            all.absorb(op, &judged);
            if children.get(&id).is_some_and(|n| *n > 0) {
                view.absorb(op, &judged);
                states.insert(id, view);
            }
            for parent in op.parents() {
                if let Some(left) = children.get_mut(parent) {
                    *left -= 1;
                    if *left == 0 {
                        states.remove(parent);
                    }
                }
            }
            judgements.insert(id, judged);
        }
        (judgements, all)
    }

    /// Recomputes every verdict and the final state after a revocation nullified ops: the
    /// cached states may hold contributions that are gone, so they are dropped.
    fn recompute(&mut self) {
        let (judgements, view) = self.resolve(None);
        let mut verdicts = BTreeMap::new();
        for (id, judged) in judgements {
            verdicts.insert(id, judged.verdict);
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.judged = judged;
            }
        }
        self.state.reset(view, verdicts);
        self.cache.clear();
        self.cache_order.clear();
    }

    /// The state of the op's strict ancestors, when they are not all accepted ops: a walk of
    /// its causal past that joins the cached states it meets instead of walking below them.
    fn state_before(&self, op: &Op) -> View {
        let mut view = View::default();
        let mut seen = HashSet::new();
        let mut stack = op.parents().to_vec();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(cached) = self.cache.get(&id) {
                view.join(cached);
                continue;
            }
            let entry = self
                .entries
                .get(&id)
                .expect("an accepted op's ancestors are all accepted");
            view.absorb(&entry.op, &entry.judged);
            stack.extend_from_slice(entry.op.parents());
        }
        view
    }

    fn cache_put(&mut self, id: OpId, view: View) {
        self.cache.insert(id, view);
        self.cache_order.push_back(id);
        while self.cache_order.len() > STATE_CACHE_LEN {
            if let Some(old) = self.cache_order.pop_front() {
                self.cache.remove(&old);
            }
        }
    }

    /// The accepted ops no other accepted op names as a parent, sorted: what a new op by this
    /// node names as its parents, and what this node tells peers it has.
    pub fn heads(&self) -> Vec<OpId> {
        self.heads.iter().copied().collect()
    }

    /// Whether the op is accepted.
    pub fn contains(&self, id: &OpId) -> bool {
        self.entries.contains_key(id)
    }

    /// An accepted op.
    pub fn get(&self, id: &OpId) -> Option<&Op> {
        self.entries.get(id).map(|entry| &entry.op)
    }

    /// Number of accepted ops (the genesis included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: a log holds at least its genesis.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every accepted op in canonical order (by depth, then id): a topological order, the same
    /// on every node. For storing the log; re-insert in this order to rebuild it.
    pub fn ops(&self) -> impl Iterator<Item = &Op> + '_ {
        self.order.iter().map(|(_, id)| &self.entries[id].op)
    }

    /// The accepted ops from the `from`-th on, in the order this log accepted them (each after
    /// its parents, so re-inserting them in this order rebuilds the log). Ops are never taken
    /// out of a log, so a copy of the first `from` stays a prefix: a store appends what was
    /// accepted since it last wrote, instead of the whole log.
    pub fn accepted_since(&self, from: usize) -> impl Iterator<Item = &Op> + '_ {
        self.accepted
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|id| &self.entries[id].op)
    }

    /// Ids that tell a peer what this log holds, for its [`MembershipLog::ops_missing_from`]:
    /// the heads; one op at each of the 8 greatest depths, then 16, 32, 64 ... levels back; and
    /// the genesis. Heads alone are enough when the peer knows them; when both sides wrote
    /// concurrently the peer knows none of this node's heads, but it knows some of the older
    /// ops listed, so it sends about what diverged instead of everything. At most the heads
    /// plus [`SUMMARY_SAMPLES`] ids; O(log n) to compute.
    pub fn summary(&self) -> Vec<OpId> {
        let mut ids = self.heads();
        let max_depth = self.order.last().map_or(0, |(depth, _)| *depth);
        let mut back = 1u64;
        while back <= max_depth && ids.len() < self.heads.len() + SUMMARY_SAMPLES - 1 {
            let depth = max_depth + 1 - back;
            // Depths are contiguous (a depth-d op has a depth d-1 parent), so one exists.
            if let Some((_, id)) = self
                .order
                .range((depth, OpId::from_bytes([0; 32]))..)
                .next()
            {
                ids.push(*id);
            }
            back = if back < 8 { back + 1 } else { back * 2 };
        }
        ids.push(self.genesis);
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The encoded ops that a peer holding `theirs` (its heads or [`MembershipLog::summary`];
    /// it holds these ops and all their ancestors) lacks, in canonical order, which is causal:
    /// the peer can accept each op as it arrives. Ids this node does not know are ignored: the
    /// peer has ops this node lacks, and ancestors of those that this node has may be sent
    /// although the peer has them (duplicates are no-ops). O(n) in the number of accepted ops.
    pub fn ops_missing_from(&self, theirs: &[OpId]) -> Vec<Vec<u8>> {
        // Newest first (every child before its parents): an op is known to the peer iff it is
        // one of `theirs` or a parent of a known op. The walk stops once every maximal op of
        // what is left is known, since then everything left is, so it costs about what
        // diverged rather than the whole log.
        let mut known: HashSet<OpId> = theirs
            .iter()
            .filter(|id| self.entries.contains_key(id))
            .copied()
            .collect();
        let mut unvisited_children: HashMap<OpId, usize> = HashMap::new();
        let mut unknown_maximal = self.heads.iter().filter(|id| !known.contains(id)).count();
        let mut missing = Vec::new();
        for (_, id) in self.order.iter().rev() {
            if unknown_maximal == 0 {
                break;
            }
            // The newest op left has no child left, so it is maximal. If it is known, its
            // parents become known below.
            let is_known = known.contains(id);
            if !is_known {
                unknown_maximal -= 1;
                missing.push(self.entries[id].op.to_bytes());
            }
            for parent in self.entries[id].op.parents() {
                if is_known {
                    known.insert(*parent);
                }
                let left = unvisited_children
                    .entry(*parent)
                    .or_insert_with(|| self.entries[parent].children);
                *left -= 1;
                if *left == 0 && !known.contains(parent) {
                    unknown_maximal += 1;
                }
            }
        }
        missing.reverse();
        missing
    }

    /// The resolved membership.
    pub fn state(&self) -> &MemberState {
        &self.state
    }

    /// Every epoch key sealed to `my_device` by a valid `EpochKey` op, or by a burned rotation
    /// ([`MemberState::burned_keys`]: valid in its causal past, nullified by a concurrent
    /// revocation of its author), that opens with `my_agreement` and matches its commitment.
    /// Burned keys are for opening what was sealed under them before the revocation was known:
    /// seal new envelopes under [`MemberState::current_epoch`] only, never under
    /// [`EpochKeyring::latest`], which may be a burned epoch until the next rotation. If this
    /// device holds two keys of one epoch (concurrent rotations), the keyring gets the current
    /// one, and a valid key before a burned one.
    pub fn epoch_keys(
        &self,
        my_device: &PublicKey,
        my_agreement: &AgreementSecret,
    ) -> EpochKeyring {
        self.keyring_with(|op| open_epoch_key(op, my_device, my_agreement))
    }

    /// [`MembershipLog::epoch_keys`], remembering what each op opened to: only `EpochKey` ops
    /// not seen before are opened (one X25519 agreement, HKDF and AEAD open each), so a
    /// replica that calls this after every change pays for the new ops, not for the whole log.
    /// The keyring is the same as [`MembershipLog::epoch_keys`] gives: verdicts and winners
    /// are read afresh each time. Asking for another device starts over.
    pub fn epoch_keys_memo(
        &mut self,
        my_device: &PublicKey,
        my_agreement: &AgreementSecret,
    ) -> EpochKeyring {
        if self.opened.device != Some(*my_device) {
            self.opened = Opened {
                device: Some(*my_device),
                keys: HashMap::new(),
            };
        }
        let mut opened = std::mem::take(&mut self.opened.keys);
        let ring = self.keyring_with(|op| {
            opened
                .entry(op.id())
                .or_insert_with(|| open_epoch_key(op, my_device, my_agreement))
                .clone()
        });
        self.opened.keys = opened;
        ring
    }

    /// The keyring of [`MembershipLog::epoch_keys`], with `open` giving what an `EpochKey` op
    /// opens to for this device.
    fn keyring_with(&self, mut open: impl FnMut(&Op) -> Option<EpochKey>) -> EpochKeyring {
        let mut winners: BTreeMap<Epoch, [u8; 32]> = BTreeMap::new();
        for info in self.state.epochs() {
            winners.entry(info.epoch).or_insert(info.commitment);
        }
        let mut chosen: BTreeMap<Epoch, (bool, EpochKey)> = BTreeMap::new();
        let mut others: Vec<EpochKey> = Vec::new();
        // Valid ops first, so that a valid key of an epoch wins over a burned one.
        let valid = |op: &&Op| self.entries[&op.id()].judged.verdict.is_valid();
        let burned = |op: &&Op| {
            let judged = &self.entries[&op.id()].judged;
            judged.rotation
                && judged.verdict == Verdict::Invalid(InvalidReason::RevokedConcurrently)
        };
        for op in self.ops().filter(valid).chain(self.ops().filter(burned)) {
            let Body::EpochKey {
                epoch, commitment, ..
            } = op.body()
            else {
                continue;
            };
            let is_winner = winners.get(epoch) == Some(commitment);
            if let Some(key) = open(op) {
                if is_winner {
                    chosen.insert(*epoch, (true, key));
                } else {
                    others.push(key);
                }
            }
        }
        // The current key of each epoch first (what this device seals under); every other key
        // opened (a concurrent rotation's, a burned one's) after it, so their envelopes open.
        let mut ring = EpochKeyring::new();
        for (_, key) in chosen.into_values() {
            ring.insert_preferred(key);
        }
        for key in others {
            ring.insert(key);
        }
        ring
    }

    /// Number of ops waiting for a parent.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Encoded bytes of the ops waiting for a parent.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Drops every waiting op (for example when the peer session that sent them ends).
    pub fn clear_pending(&mut self) {
        self.pending.clear();
        self.waiting.clear();
        self.pending_bytes = 0;
    }
}

#[cfg(test)]
mod tests;
