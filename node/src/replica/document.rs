//! The document state of a replica: every organisation's partition, the union view derived
//! from them, admission's per-author state, where each accepted envelope sits in the log, the
//! snapshot bookkeeping and the write limits of revoked keys.
//!
//! Invariant: the view is derived from exactly the partitions held here, and each partition
//! holds the changes of the envelopes admission accepted that count (a revoked key's up to its
//! limit, see [`super::limits`]); `log_index` names every accepted envelope's place in the log
//! and `log_len` is one past the last.
//! Boundary: no disk and no keys: this type never touches the store, never seals or opens an
//! envelope and never decides who may write. The coordinator ([`super::Replica`]) makes a
//! change durable first and then applies it here.

use std::collections::BTreeSet;
use std::collections::{BTreeMap, HashMap};

use puente_crdt::{Hold, HoldId, Offer, OfferId, OrgId, Partition, Time, Touched, View};

use super::local_snapshot::{Part, encode_snapshot};
use super::{
    HoldRequest, OfferAction, RecordKind, ReplicaError, Stats, WriteRefusal, limits,
    signed_changes, snapshot,
};
use crate::envelope::admission::{Accepted, Admission};
use crate::envelope::format::Envelope;
use crate::envelope::snapshot::Snapshot;
use crate::identity::PublicKey;
use crate::keys::{EpochKeyring, NetworkId};

/// The document half of a replica (see the module documentation).
#[derive(Debug)]
pub(super) struct DocumentState {
    /// Admission's per-author sequence and buffer state.
    pub(super) admission: Admission,
    /// Every partition this replica holds.
    pub(super) partitions: Partitions,
    /// Where each accepted envelope sits in the log.
    pub(super) log_index: HashMap<(PublicKey, u64), u64>,
    /// The union view every query reads.
    pub(super) view: View,
    /// Envelopes in the log.
    pub(super) log_len: u64,
    /// The log index the local snapshot covers up to.
    pub(super) snapshot_covers: u64,
    /// Own snapshot for far-behind peers, received ones to relay, fast-forward marks.
    pub(super) snapshots: snapshot::SnapshotState,
    /// How far revoked keys' envelopes count.
    pub(super) limits: limits::Limits,
    /// Partitions that are stand-ins after a history erasure, waiting for their owner's
    /// re-base (`erasure.rs`); the `erasure` record says the same.
    pub(super) standins: BTreeSet<OrgId>,
    /// How many of the log's erasures this store applied (the `erasure` record's count).
    pub(super) erasures_applied: usize,
}

impl DocumentState {
    /// An empty document state of `network` for the device `actor`.
    pub(super) fn new(network: NetworkId, actor: PublicKey) -> Self {
        DocumentState {
            admission: Admission::new(network),
            partitions: Partitions::new(actor),
            log_index: HashMap::new(),
            view: View::new(),
            log_len: 0,
            snapshot_covers: 0,
            snapshots: snapshot::SnapshotState::default(),
            limits: limits::Limits::default(),
            standins: BTreeSet::new(),
            erasures_applied: 0,
        }
    }

    /// Figures for `status`.
    pub(super) fn stats(&self) -> Stats {
        let mut offers_by_owner = BTreeMap::new();
        for o in self.view.offers() {
            *offers_by_owner.entry(o.owner).or_insert(0) += 1;
        }
        Stats {
            log_len: self.log_len,
            since_snapshot: self.log_len - self.snapshot_covers,
            offers_by_owner,
            issues: self.view.issues().values().map(BTreeMap::len).sum(),
        }
    }

    /// The highest contiguous sequence number accepted per author; for a revoked key, at most
    /// its limit (envelopes beyond it are kept but count for nothing).
    pub(super) fn version_vector(&self) -> BTreeMap<PublicKey, u64> {
        let mut vector = self.admission.version_vector();
        for (author, cap) in &self.limits.caps {
            if let Some(seq) = vector.get_mut(author) {
                *seq = (*seq).min(*cap);
            }
        }
        vector
    }

    /// Whether `author`'s envelope `seq` counts: not beyond a revoked key's limit.
    pub(super) fn counts(&self, author: &PublicKey, seq: u64) -> bool {
        self.limits.cap(author).is_none_or(|cap| seq <= cap)
    }

    /// Notes that `author`'s envelope `seq` was appended to the log (after the commit).
    pub(super) fn note_appended(&mut self, author: PublicKey, seq: u64) {
        self.log_index.insert((author, seq), self.log_len);
        self.log_len += 1;
    }

    /// Applies envelopes admission accepted, once they are in the log: notes each one's place
    /// and applies its changes to its partition and the view. An envelope whose changes are
    /// not its signer's is quarantined (kept in the log, applied nowhere); a change that does
    /// not apply leaves its partition as it was.
    pub(super) fn apply_accepted(&mut self, applied: Vec<Accepted>) -> Result<(), ReplicaError> {
        for (env, opened) in applied {
            self.note_appended(env.author(), env.seq());
            let Some(decoded) = signed_changes(&env.author(), opened.changes) else {
                // Quarantined: signed and in order, but not valid changes by their signer.
                tracing::warn!(partition = %env.partition(), "quarantined an envelope whose changes are not its signer's");
                continue;
            };
            let org = env.partition();
            if let Err(e) = self.apply(org, decoded)? {
                tracing::warn!(partition = %org, error = %e, "a change did not apply");
            }
        }
        Ok(())
    }

    /// Starts the log over with `envs` (this node's history re-sealed for `network`, already
    /// durable): admission, the log index and the snapshot bookkeeping begin again from them;
    /// the partitions and the view, which hold the same changes, stay.
    pub(super) fn restart_log(
        &mut self,
        network: NetworkId,
        envs: &[Envelope],
    ) -> Result<(), ReplicaError> {
        let mut admission = Admission::new(network);
        let mut log_index = HashMap::new();
        for (i, env) in envs.iter().enumerate() {
            admission.restore(env)?;
            log_index.insert((env.author(), env.seq()), i as u64);
        }
        self.admission = admission;
        self.log_index = log_index;
        self.log_len = envs.len() as u64;
        self.snapshot_covers = 0;
        self.snapshots = snapshot::SnapshotState::default();
        Ok(())
    }

    /// The local snapshot of every partition and the view, encoded (see [`super::local_snapshot`]).
    pub(super) fn local_snapshot(&mut self, own: Option<&OwnDoc>) -> Vec<u8> {
        let parts = self.partitions.save_all(own);
        encode_snapshot(&parts, Some(&self.view.encode()))
    }

    /// Notes that the local snapshot now covers the whole log and holds the view.
    pub(super) fn snapshot_written(&mut self) {
        self.snapshot_covers = self.log_len;
        self.snapshots.local_lacks_view = false;
    }

    /// The log indices of the envelopes that count and that a peer with version vector `have`
    /// lacks, in log order.
    pub(super) fn missing_from(&self, have: &BTreeMap<PublicKey, u64>) -> Vec<u64> {
        let mut indices: Vec<u64> = self
            .log_index
            .iter()
            .filter(|((author, seq), _)| {
                have.get(author).is_none_or(|h| seq > h) && self.counts(author, *seq)
            })
            .map(|(_, i)| *i)
            .collect();
        indices.sort_unstable();
        indices
    }

    /// Applies decoded `changes` to `org`'s partition and refreshes the view with what they
    /// touched. A change that does not apply leaves the partition and the view as they were.
    pub(super) fn apply(
        &mut self,
        org: OrgId,
        changes: Vec<puente_crdt::automerge::Change>,
    ) -> Result<Result<(), puente_crdt::PartitionError>, ReplicaError> {
        let p = self.partitions.get_mut(org)?;
        Ok(p.apply_changes(changes).map(|t| self.view.refresh(p, &t)))
    }

    /// Whether offer `id` is `org`'s own, which `action` needs.
    pub(super) fn own_offer(
        &self,
        org: OrgId,
        id: OfferId,
        action: OfferAction,
    ) -> Result<(), ReplicaError> {
        match self.view.offer(org, id) {
            Some(_) => Ok(()),
            None if self.view.offers().any(|o| o.id == id) => {
                Err(WriteRefusal::NotOwnOffer { offer: id, action }.into())
            }
            None => Err(ReplicaError::NotFound {
                what: RecordKind::Offer,
                text: id.to_string(),
            }),
        }
    }

    /// The hold `id` names.
    pub(super) fn find_hold(&self, id: HoldId) -> Result<Hold, ReplicaError> {
        self.view
            .holds_by_prefix(&id.to_string())
            .into_iter()
            .find(|h| h.id == id)
            .cloned()
            .ok_or_else(|| ReplicaError::NotFound {
                what: RecordKind::Hold,
                text: id.to_string(),
            })
    }

    /// The offer an id or unique id prefix (at least 4 characters) names.
    pub(super) fn resolve_offer(&self, text: &str) -> Result<&Offer, ReplicaError> {
        resolve(
            RecordKind::Offer,
            text,
            self.view.offers_by_prefix(text.trim()),
        )
    }

    /// The hold an id or unique id prefix names.
    pub(super) fn resolve_hold(&self, text: &str) -> Result<&Hold, ReplicaError> {
        resolve(
            RecordKind::Hold,
            text,
            self.view.holds_by_prefix(text.trim()),
        )
    }

    /// The hold `org` asks for with `req` at `now`, checked against the view: on a partner's
    /// offer that is not withdrawn, in a window that is not cancelled, inside one occurrence.
    pub(super) fn new_hold(
        &self,
        req: &HoldRequest,
        org: OrgId,
        now: Time,
    ) -> Result<Hold, ReplicaError> {
        let offer =
            self.view
                .offer(req.owner, req.offer)
                .ok_or_else(|| ReplicaError::NotFound {
                    what: RecordKind::Offer,
                    text: req.offer.to_string(),
                })?;
        if offer.owner == org {
            return Err(WriteRefusal::OwnOffer { offer: offer.id }.into());
        }
        if offer.withdrawn {
            return Err(WriteRefusal::OfferWithdrawn { offer: offer.id }.into());
        }
        let window = offer
            .windows
            .iter()
            .find(|w| w.id == req.window)
            .ok_or_else(|| ReplicaError::NotFound {
                what: RecordKind::Window,
                text: req.window.to_string(),
            })?;
        if window.cancelled {
            return Err(WriteRefusal::WindowCancelled {
                offer: offer.id,
                window: window.id,
            }
            .into());
        }
        let (from, to) = match req.interval {
            Some(iv) => iv,
            None => puente_crdt::view::occurrences(window, now, Time(i64::MAX), offer.expires_at)
                .first()
                .map(|(s, e)| (*s.max(&now), *e))
                .ok_or(WriteRefusal::NoOccurrenceLeft { window: window.id })?,
        };
        let fits = puente_crdt::view::occurrences(window, from, to, offer.expires_at.max(to))
            .iter()
            .any(|(s, e)| *s <= from && to <= *e);
        if !fits {
            return Err(WriteRefusal::OutsideOccurrence { window: window.id }.into());
        }
        Ok(Hold {
            id: HoldId::from_bytes(super::random_bytes()),
            requester: org,
            owner: offer.owner,
            offer: offer.id,
            window: window.id,
            qty: req.qty,
            from,
            to,
            created_at: now,
            expires_at: now.plus(offer.fields.kind.default_hold_secs()),
            released: false,
        })
    }

    /// Refreshes the view from `org`'s partition, if it is loaded, with what `touched` names.
    pub(super) fn refresh_view(&mut self, org: OrgId, touched: &Touched) {
        if let Some(p) = self.partitions.loaded(org) {
            self.view.refresh(p, touched);
        }
    }
}

/// The one record of `found` that `text` (an id or unique id prefix of at least 4 characters)
/// names.
pub(super) fn resolve<'a, T>(
    what: RecordKind,
    text: &str,
    found: Vec<&'a T>,
) -> Result<&'a T, ReplicaError> {
    let t = text.trim();
    if t.len() < 4 {
        return Err(ReplicaError::NotFound {
            what,
            text: t.to_string(),
        });
    }
    match found.len() {
        0 => Err(ReplicaError::NotFound {
            what,
            text: t.to_string(),
        }),
        1 => Ok(found[0]),
        count => Err(ReplicaError::Ambiguous {
            what,
            text: t.to_string(),
            count,
        }),
    }
}

/// One organisation's partition, loaded from its saved bytes only when something needs the
/// document itself (a write, an ingest, a snapshot): queries read the view, so a command that
/// only reads never pays for automerge's `load()`.
#[derive(Debug)]
pub(super) enum Slot {
    Saved(Vec<u8>),
    Loaded(Box<Partition>),
    /// This device's own partition, whose document is the stored own signed snapshot's (the
    /// local snapshot does not hold it twice): opened and loaded when first needed.
    InOwnSnapshot(Box<SealedOwn>),
}

/// The own signed snapshot a partition is loaded from, and the keys that open it.
#[derive(Debug)]
pub(super) struct SealedOwn {
    pub(super) snapshot: Vec<u8>,
    pub(super) keys: EpochKeyring,
}

/// The own organisation and the heads (sorted) of its stored own snapshot's document: a loaded
/// own partition with exactly these heads is that document, and the local snapshot refers to it
/// instead of saving it again.
pub(super) type OwnDoc = (OrgId, Vec<[u8; 32]>);

/// Whether `p` is the document of the own snapshot `own` names.
pub(super) fn is_own_doc(org: OrgId, p: &mut Partition, own: Option<&OwnDoc>) -> bool {
    own.is_some_and(|(own_org, heads)| {
        if *own_org != org {
            return false;
        }
        let mut mine: Vec<[u8; 32]> = p.heads().iter().map(|h| h.0).collect();
        mine.sort_unstable();
        mine == *heads
    })
}

/// Every partition this replica holds.
#[derive(Debug)]
pub(super) struct Partitions {
    actor: PublicKey,
    pub(super) slots: BTreeMap<OrgId, Slot>,
}

impl Partitions {
    /// No partition yet; new ones are written by `actor`.
    pub(super) fn new(actor: PublicKey) -> Self {
        Partitions {
            actor,
            slots: BTreeMap::new(),
        }
    }

    /// Replaces `org`'s partition by `partition` (an erasure's stand-in ending).
    pub(super) fn replace(&mut self, org: OrgId, partition: Partition) {
        self.slots.insert(org, Slot::Loaded(Box::new(partition)));
    }

    /// Keeps `org`'s partition as saved bytes, to be loaded when first needed.
    pub(super) fn insert_saved(&mut self, org: OrgId, bytes: Vec<u8>) {
        self.slots.insert(org, Slot::Saved(bytes));
    }

    /// Keeps `org`'s partition (this device's own) as the document of the own signed snapshot
    /// `snapshot`, opened with `keys` and loaded when first needed.
    pub(super) fn insert_in_own_snapshot(
        &mut self,
        org: OrgId,
        snapshot: Vec<u8>,
        keys: EpochKeyring,
    ) {
        self.slots.insert(
            org,
            Slot::InOwnSnapshot(Box::new(SealedOwn { snapshot, keys })),
        );
    }

    /// Every organisation with a partition here.
    pub(super) fn orgs(&self) -> impl Iterator<Item = OrgId> + '_ {
        self.slots.keys().copied()
    }

    /// The partition, loading it first if needed, or a new empty one.
    pub(super) fn get_mut(&mut self, org: OrgId) -> Result<&mut Partition, ReplicaError> {
        let actor = self.actor;
        let slot = self
            .slots
            .entry(org)
            .or_insert_with(|| Slot::Loaded(Box::new(Partition::new(org, actor.as_bytes()))));
        match slot {
            Slot::Saved(bytes) => {
                let p = Partition::load(org, bytes, actor.as_bytes())
                    .map_err(|_| ReplicaError::Damaged("snapshot"))?;
                *slot = Slot::Loaded(Box::new(p));
            }
            Slot::InOwnSnapshot(sealed) => {
                let damaged = |_| ReplicaError::Damaged("own snapshot");
                let document = Snapshot::from_bytes(&sealed.snapshot)
                    .map_err(damaged)?
                    .open(&sealed.keys)
                    .map_err(damaged)?;
                let p = Partition::load(org, &document, actor.as_bytes())
                    .map_err(|_| ReplicaError::Damaged("own snapshot"))?;
                *slot = Slot::Loaded(Box::new(p));
            }
            Slot::Loaded(_) => {}
        }
        match slot {
            Slot::Loaded(p) => Ok(p),
            _ => Err(ReplicaError::Damaged("snapshot")),
        }
    }

    /// The partition if it is loaded.
    pub(super) fn loaded(&self, org: OrgId) -> Option<&Partition> {
        match self.slots.get(&org) {
            Some(Slot::Loaded(p)) => Some(p),
            _ => None,
        }
    }

    /// Every partition as the local snapshot holds it: saved bytes (unloaded ones are still
    /// exactly their saved bytes), or, for the own partition when it is the document of the
    /// stored own snapshot (`own`), a reference to it.
    pub(super) fn save_all(&mut self, own: Option<&OwnDoc>) -> Vec<(OrgId, Part<Vec<u8>>)> {
        self.slots
            .iter_mut()
            .map(|(org, slot)| (*org, save_slot(*org, slot, own)))
            .collect()
    }

    /// Every partition's `save()`, loading the ones that are not (benchmarks weigh the store
    /// against it).
    pub(super) fn save_loading_all(&mut self) -> Result<Vec<(OrgId, Vec<u8>)>, ReplicaError> {
        let orgs: Vec<OrgId> = self.orgs().collect();
        orgs.into_iter()
            .map(|org| Ok((org, self.get_mut(org)?.save())))
            .collect()
    }
}

/// One partition as the local snapshot holds it (see [`Partitions::save_all`]).
pub(super) fn save_slot(org: OrgId, slot: &mut Slot, own: Option<&OwnDoc>) -> Part<Vec<u8>> {
    match slot {
        Slot::Saved(bytes) => Part::Saved(bytes.clone()),
        Slot::InOwnSnapshot(_) => Part::InOwnSnapshot,
        Slot::Loaded(p) => {
            if is_own_doc(org, p, own) {
                Part::InOwnSnapshot
            } else {
                Part::Saved(p.save())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use puente_crdt::test_utils::sample_offer;
    use puente_crdt::{HoldId, WindowId};

    use super::*;
    use crate::envelope::admission::Admitted;
    use crate::identity::{SecretKey, org_id_for};
    use crate::keys::{Epoch, EpochKey, EpochKeyring, EpochKeys as _};
    use crate::replica::Members;

    const NOW: Time = Time(1_795_000_000);

    /// A partner organisation's device, the change its first offer makes and the keys to seal
    /// it with.
    struct Partner {
        key: SecretKey,
        org: OrgId,
        network: NetworkId,
        ring: EpochKeyring,
        members: Members,
    }

    impl Partner {
        fn new() -> Self {
            let key = SecretKey::from_bytes(&[7; 32]);
            let org = org_id_for(&key.public());
            let mut ring = EpochKeyring::new();
            ring.insert(EpochKey::generate(Epoch(0)));
            let mut members = Members::default();
            members.by_key.insert(key.public(), org);
            Partner {
                key,
                org,
                network: NetworkId::from_bytes([3; 16]),
                ring,
                members,
            }
        }

        /// Envelope `seq`, holding one new offer written with the partner's own actor.
        fn envelope(&self, doc: &mut Partition, seq: u64, handle: &str) -> (OfferId, Envelope) {
            let id = OfferId::from_bytes([seq as u8; 10]);
            let offer = sample_offer(handle, NOW);
            let wids: Vec<WindowId> = offer
                .windows
                .iter()
                .map(|_| WindowId::from_bytes([seq as u8 + 100; 10]))
                .collect();
            doc.add_offer(id, &offer, &wids, NOW).expect("adds");
            let change = doc.commit().expect("a change");
            let key = self.ring.key(Epoch(0)).expect("epoch key");
            let env = Envelope::seal(
                self.network,
                self.org,
                &self.key,
                seq,
                Epoch(0),
                key,
                &[change],
            )
            .expect("seals");
            (id, env)
        }

        /// Admits `env` into `state` as ingest does, without a store.
        fn deliver(&self, state: &mut DocumentState, env: Envelope) -> usize {
            let writers = |author: &PublicKey, org: &OrgId| {
                crate::envelope::admission::Authority::may_write(&self.members, author, org)
            };
            match state
                .admission
                .admit(env, &writers, &self.ring)
                .expect("admitted")
            {
                Admitted::Apply(list) => {
                    let n = list.len();
                    state.apply_accepted(list).expect("applies");
                    n
                }
                other => panic!("not applied: {other:?}"),
            }
        }
    }

    /// A partner, its document (written with `actor`, its own key unless another is given)
    /// and an empty document state on another device.
    fn setup(actor: Option<&[u8]>) -> (Partner, Partition, DocumentState) {
        let partner = Partner::new();
        let own = partner.key.public();
        let doc = Partition::new(partner.org, actor.unwrap_or(own.as_bytes()));
        let state = DocumentState::new(partner.network, SecretKey::from_bytes(&[1; 32]).public());
        (partner, doc, state)
    }

    #[test]
    fn accepted_envelopes_reach_the_partition_the_view_and_the_log_index() {
        let (partner, mut doc, mut state) = setup(None);
        let (first, env1) = partner.envelope(&mut doc, 1, "beds-1");
        let (second, env2) = partner.envelope(&mut doc, 2, "beds-2");
        // The second arrives first and waits for its predecessor, then both apply in order.
        assert!(matches!(
            state.admission.admit(
                env2.clone(),
                &|_: &PublicKey, _: &OrgId| true,
                &partner.ring
            ),
            Ok(Admitted::Waiting { .. })
        ));
        assert_eq!(partner.deliver(&mut state, env1), 2);
        assert!(state.view.offer(partner.org, first).is_some());
        assert!(state.view.offer(partner.org, second).is_some());
        assert_eq!(state.log_len, 2);
        assert_eq!(state.log_index.get(&(partner.key.public(), 1)), Some(&0));
        assert_eq!(state.log_index.get(&(partner.key.public(), 2)), Some(&1));
        assert_eq!(
            state.version_vector(),
            BTreeMap::from([(partner.key.public(), 2)])
        );
        let stats = state.stats();
        assert_eq!(stats.log_len, 2);
        assert_eq!(stats.since_snapshot, 2);
        assert_eq!(stats.offers_by_owner.get(&partner.org), Some(&2));
        assert_eq!(state.missing_from(&BTreeMap::new()), vec![0, 1]);
        assert_eq!(
            state.missing_from(&BTreeMap::from([(partner.key.public(), 1)])),
            vec![1]
        );
    }

    #[test]
    fn a_revoked_keys_envelopes_beyond_its_limit_count_for_nothing() {
        let (partner, mut doc, mut state) = setup(None);
        for seq in 1..=3 {
            let (_, env) = partner.envelope(&mut doc, seq, &format!("beds-{seq}"));
            partner.deliver(&mut state, env);
        }
        state.limits.caps.insert(partner.key.public(), 1);
        assert!(state.counts(&partner.key.public(), 1));
        assert!(!state.counts(&partner.key.public(), 2));
        assert_eq!(
            state.version_vector(),
            BTreeMap::from([(partner.key.public(), 1)])
        );
        assert_eq!(state.missing_from(&BTreeMap::new()), vec![0]);
    }

    #[test]
    fn an_envelope_whose_changes_are_not_its_signers_is_quarantined() {
        // The change names another actor than the key that signs the envelope.
        let (partner, mut doc, mut state) = setup(Some(&[9; 32]));
        let (id, env) = partner.envelope(&mut doc, 1, "beds-1");
        assert_eq!(partner.deliver(&mut state, env), 1);
        assert_eq!(state.log_len, 1, "kept in the log");
        assert!(
            state.view.offer(partner.org, id).is_none(),
            "applied nowhere"
        );
    }

    #[test]
    fn holds_are_checked_against_the_view() {
        let (partner, mut doc, mut state) = setup(None);
        let (id, env) = partner.envelope(&mut doc, 1, "beds-1");
        partner.deliver(&mut state, env);
        let offer = state.view.offer(partner.org, id).expect("offer").clone();
        let me = OrgId::from_bytes([5; 10]);
        let request = HoldRequest {
            owner: partner.org,
            offer: id,
            window: offer.windows[0].id,
            qty: 1,
            interval: None,
        };
        let hold = state.new_hold(&request, me, NOW).expect("a hold");
        assert_eq!(
            (hold.requester, hold.owner, hold.offer),
            (me, partner.org, id)
        );
        assert!(matches!(
            state.new_hold(&request, partner.org, NOW),
            Err(ReplicaError::Write(WriteRefusal::OwnOffer { .. }))
        ));
        assert!(matches!(
            state.own_offer(me, id, OfferAction::Change),
            Err(ReplicaError::Write(WriteRefusal::NotOwnOffer { .. }))
        ));
        assert!(
            state
                .own_offer(partner.org, id, OfferAction::Change)
                .is_ok()
        );
        assert!(matches!(
            state.find_hold(HoldId::from_bytes([0; 10])),
            Err(ReplicaError::NotFound {
                what: RecordKind::Hold,
                ..
            })
        ));
        assert_eq!(
            state.resolve_offer(&id.to_string()).expect("resolves").id,
            id
        );
        assert!(matches!(
            state.resolve_offer("ab"),
            Err(ReplicaError::NotFound { .. })
        ));
    }
}
