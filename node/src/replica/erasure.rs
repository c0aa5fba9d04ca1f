//! History erasure (`puente history erase`, the membership log's `Erase` op): what a node does
//! when it applies one, so that afterwards its store holds no key that opens the erased period.
//!
//! An `Erase { before }` by an admin names the first epoch kept. Deleting the epoch keys below
//! it is not enough: every key of the erased period is also in the log's `EpochKey` ops, sealed
//! to this device's X25519 key, and bundles sent to this device open with it too; that key is
//! derived from the device seed the store keeps. So applying an erasure replaces the device, as
//! a restore does (`restore.rs`): in one durable transaction after the old key signed the one op
//! that adds a new device of the same organisation,
//! 1. the store's identity becomes the new key (the old seed stays in the `handover` record only
//!    until a partner accepts the new key: `actor/handover.rs`; then it is deleted);
//! 2. the epoch keys below `before` are deleted;
//! 3. every partition is replaced by a copy that holds only its current state
//!    ([`puente_crdt::Partition::rebased`]), and the log, every snapshot (own, relayed, marks)
//!    and the rollback and mailbox records go;
//! 4. the organisation's own partition is **re-based**: its copy, written by the new key, becomes
//!    the new key's first envelopes, sealed under the current epoch, when this device is the one
//!    that re-bases it (the organisation's lowest device key, when none of its devices has done
//!    so yet). Every other partition is a **stand-in**: this node's copy of the partner's current
//!    state, kept until the partner's own re-base arrives.
//!
//! Then the new key revokes the old one and publishes a receipt naming the erasure.
//!
//! After an erasure only keys added after it (every device replaces itself) write history:
//! envelopes and snapshots signed by an older key are dropped on arrival, and the first envelope
//! of a newer key in a stand-in partition replaces the stand-in by an empty document that the
//! partner's re-base fills. The stand-ins are listed in the `erasure` record, written together
//! with the local snapshot that holds them; opening the store replays the log the same way.
//!
//! Invariant: after [`Replica::apply_erasures`] returned, nothing in the store opens anything
//! sealed under an epoch below `before` but the old seed in the `handover` record, which goes
//! when the handover ends. Pages redb freed keep old ciphertext under the store's data key until
//! they are reused; [`crate::store::Store::close`] compacts.
//! Boundary: no clock (`now` is the ops' claimed time only), no file I/O beyond the store.

use std::collections::BTreeSet;

use puente_crdt::{OrgId, Partition, Time, Touched};
use serde::{Deserialize, Serialize};

use super::local_snapshot::{Part, encode_snapshot};
use super::mailbox::REC_MAILBOX_PREFIX;
use super::network::{agreement_of, claimed};
use super::restore::{REC_HANDOVER, handover_record};
use super::rollback::REC_ROLLBACK;
use super::{
    NetworkRefusal, REC_EPOCH_KEYS, REC_IDENTITY, Replica, ReplicaError, SNAPSHOT_NAME,
    decode_json, encode_json, encode_keys,
};
use crate::identity::{PublicKey, SecretKey};
use crate::keys::{Epoch, EpochKey, EpochKeys as _};
use crate::membership::{DeviceKeys, Op, OpId, RevokeTarget};
use crate::relay::entry::{EntryKind, seal_entry};
use crate::store::WriteBatch;

/// The record of the erasures this store applied and the partitions still stand-ins.
pub(super) const REC_ERASURE: &str = "erasure";

/// The seed of the key this device moves to, between its making and the erasure's transaction.
const REC_NEXT_KEY: &str = "erasure-next-key";

/// Mailbox entries an erasing admin sealed under the key current before it (the rotation and
/// the `Erase` op), deposited first at every relay (`mailbox.rs`): version 1, then u32
/// length-prefixed entries.
const REC_OUTBOX: &str = "erasure-outbox";
const OUTBOX_VERSION: u8 = 1;

/// Root records per change of a re-based partition: a change of this many offers is about
/// 500 KiB, well inside an envelope.
const REBASE_RECORDS_PER_CHANGE: usize = 1000;

/// The reason the new key gives when it revokes the key it replaced.
const ERASURE_REASON: &str = "history erased: this device moved to a new key";

/// The `erasure` record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ErasureRecord {
    /// How many of the log's erasures this store applied (or joined after).
    pub(super) applied: usize,
    /// The partitions that are this node's copies of their current state, waiting for their
    /// owner's re-base.
    pub(super) standins: BTreeSet<OrgId>,
    /// How many of the applied erasures the store was sealed again under a new data key for.
    #[serde(default)]
    pub(super) rekeyed: usize,
    /// The key this device had before the last erasure it applied.
    #[serde(default)]
    pub(super) replaced: Option<PublicKey>,
}

impl ErasureRecord {
    pub(super) fn load(store: &crate::store::Store) -> Result<Self, ReplicaError> {
        match store.get_record(REC_ERASURE)? {
            Some(bytes) => decode_json(&bytes, "erasure"),
            None => Ok(Self::default()),
        }
    }
}

/// What [`Replica::apply_erasures`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Erased {
    /// The key this device had, now revoked.
    pub old: PublicKey,
    /// Its key now.
    pub device: PublicKey,
    /// The first epoch kept.
    pub before: Epoch,
    /// Whether this device re-based its organisation's partition (else it waits for the
    /// device that does).
    pub rebased: bool,
    /// Every op written (the new device, the revocation of the old key, a rotation on an
    /// admin's device, the receipt), for pushing to peers.
    pub ops: Vec<Vec<u8>>,
}

/// The erasure state of this store, for `history status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureStatus {
    /// The erasures of the log, by op id, with the first epoch each keeps.
    pub erasures: Vec<(OpId, Epoch)>,
    /// How many of them this store applied.
    pub applied: usize,
    /// Partitions still waiting for their owner's re-base.
    pub waiting_for: Vec<OrgId>,
    /// The oldest epoch whose key this store holds.
    pub oldest_key: Option<Epoch>,
    /// Whether the store was sealed under a new data key after every erasure it applied (done
    /// once a partner accepted the new device key).
    pub rekeyed: bool,
    /// Whether the log holds an erasure this store has not applied yet (it waits for the
    /// current key).
    pub pending: bool,
}

impl ErasureStatus {
    /// Whether every erasure of the log is applied here for good: partners' records re-based,
    /// the old device key gone and the store sealed under a new data key.
    pub fn complete(&self) -> bool {
        !self.pending && self.waiting_for.is_empty() && self.rekeyed
    }
}

impl Replica {
    /// The end of a move a crash interrupted after its transaction: the replaced key, still a
    /// member, is revoked by this one (and the receipt follows).
    fn finish_move(&mut self, record: &ErasureRecord, now: Time) -> Result<(), ReplicaError> {
        let Some(old) = record.replaced.filter(|k| *k != self.public) else {
            return Ok(());
        };
        let still_member = self
            .net
            .membership
            .as_ref()
            .is_some_and(|log| log.state().is_member_device(&old));
        if still_member {
            self.revoke(RevokeTarget::Device(old), ERASURE_REASON, now)?;
            self.membership_follow_up(now)?;
        }
        Ok(())
    }

    /// Erases the network's history (admins; `puente history erase`): a rotation to a new
    /// epoch key, then an `Erase` op keeping every epoch whose key was made at or after
    /// `since` (seconds since the Unix epoch, as the rotations claim; `None` or a time after
    /// the last rotation: only the new epoch is kept), then this node applies it
    /// ([`Replica::apply_erasures`]). The claimed times only choose the epoch named in the
    /// op; nothing that resolves the log reads them.
    pub fn erase_history(&mut self, since: Option<u64>, now: Time) -> Result<Erased, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        self.check_not_rolled_back()?;
        let log = self.admin_log(super::AdminAction::EraseHistory)?;
        let state = log.state();
        let network = log.network();
        let epoch = state.next_epoch().ok_or(NetworkRefusal::NothingToErase)?;
        // The first epoch kept: the oldest whose rotation is claimed at or after `since`.
        let kept = since.and_then(|since| {
            state
                .epochs()
                .into_iter()
                .filter(|e| {
                    log.get(&e.rotation)
                        .is_some_and(|op| op.claimed_time() >= since)
                })
                .map(|e| e.epoch)
                .min()
        });
        let before = kept.unwrap_or(epoch);
        // No key period began before it, or an earlier erasure already covered them.
        let nothing_before = state.epochs().iter().all(|e| e.epoch >= before);
        if nothing_before || state.erased_before().is_some_and(|last| before <= last) {
            return Err(NetworkRefusal::NothingToErase.into());
        }
        let mut ops = vec![super::network::rotation(log, &self.key, epoch, now)?.to_bytes()];
        if self.apply_membership(&ops)?.accepted != 1 {
            return Err(NetworkRefusal::ErasureNotAccepted.into());
        }
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(NetworkRefusal::NotInNetwork)?;
        let erase = Op::erase(network, &self.key, &log.heads(), before, claimed(now))?;
        let erase = erase.to_bytes();
        if self
            .apply_membership(std::slice::from_ref(&erase))?
            .accepted
            != 1
        {
            return Err(NetworkRefusal::ErasureNotAccepted.into());
        }
        ops.push(erase);
        // Partners that only a relay's mailbox reaches hold the key before the rotation only:
        // the news goes to them sealed under it, before this node destroys it.
        if let Some(previous) = self.net.keys.epochs().filter(|e| *e < epoch).last()
            && let Some(key) = self.net.keys.key(previous)
        {
            let mut outbox = vec![OUTBOX_VERSION];
            for op in &ops {
                let entry = seal_entry(&network, previous, key, EntryKind::MembershipOp, op);
                outbox.extend_from_slice(&(entry.len() as u32).to_be_bytes());
                outbox.extend_from_slice(&entry);
            }
            let mut batch = WriteBatch::new();
            batch.put_record(REC_OUTBOX, &outbox);
            self.store.commit(batch)?;
        }
        let mut erased = self
            .apply_erasures(now)?
            .ok_or(NetworkRefusal::ErasureNotAccepted)?;
        ops.append(&mut erased.ops);
        erased.ops = ops;
        Ok(erased)
    }

    /// Applies the erasures of the membership log this store has not applied yet (see the
    /// module documentation). `None` when there was nothing to do, or nothing this device can
    /// do yet (it does not hold the current epoch key: an admin's node shares it first).
    pub fn apply_erasures(&mut self, now: Time) -> Result<Option<Erased>, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(None);
        };
        let state = log.state();
        let count = state.erasure_count();
        let mut record = ErasureRecord::load(&self.store)?;
        if record.applied >= count {
            self.finish_move(&record, now)?;
            return Ok(None);
        }
        let Some(before) = state.erased_before() else {
            return Ok(None);
        };
        if !state.is_member_device(&self.public) {
            return Ok(None);
        }
        if state.is_after_erasures(&self.public) {
            // Joined after them: nothing of the erased period was ever this device's.
            record.applied = count;
            let mut batch = WriteBatch::new();
            batch.put_record(REC_ERASURE, &encode_json(&record));
            self.store.commit(batch)?;
            self.doc.erasures_applied = count;
            return Ok(None);
        }
        let epoch = Epoch(self.net.node.epoch);
        let Some(seal_key) = self.net.keys.key(epoch).cloned() else {
            return Ok(None);
        };
        if epoch < before {
            return Ok(None);
        }
        let org = self.net.node.org;
        let network = log.network();
        let old_key = self.public;
        let rebases = rebaser(log, org) == Some(old_key);

        // The new key is kept before the one op the old key signs, so that a crash between
        // them cannot leave a device in the log whose key nobody holds.
        let new = match self.store.get_record(REC_NEXT_KEY)? {
            Some(seed) => {
                let seed: zeroize::Zeroizing<[u8; 32]> = zeroize::Zeroizing::new(
                    seed[..]
                        .try_into()
                        .map_err(|_| ReplicaError::Damaged("erasure"))?,
                );
                SecretKey::from_bytes(&seed)
            }
            None => {
                let new = SecretKey::generate();
                let mut batch = WriteBatch::new();
                batch.put_record(REC_NEXT_KEY, &new.to_bytes()[..]);
                self.store.commit(batch)?;
                new
            }
        };
        let mut ops = Vec::new();
        if state.device(&new.public()).is_none() {
            let keys = DeviceKeys {
                device: new.public(),
                agreement: agreement_of(&new).public(),
            };
            let add = Op::add_device(network, &self.key, &log.heads(), org, keys, claimed(now))?;
            ops.push(add.to_bytes());
            if self.apply_membership(&ops)?.accepted != 1 {
                return Err(NetworkRefusal::DeviceNotAccepted.into());
            }
        }

        // Every partition as it reads now, with no history; the own one as the new key's.
        let actor = new.public();
        let orgs: Vec<OrgId> = self.doc.partitions.orgs().collect();
        let mut parts = Vec::with_capacity(orgs.len());
        let mut base = Vec::new();
        record.standins.clear();
        for o in orgs {
            let (mut fresh, changes) = self
                .doc
                .partitions
                .get_mut(o)?
                .rebased(actor.as_bytes(), REBASE_RECORDS_PER_CHANGE)?;
            if o == org && rebases {
                base = changes;
            } else {
                record.standins.insert(o);
            }
            parts.push((o, Part::Saved(fresh.save())));
        }
        let envs = super::seal_history(network, org, &new, EpochKey::new(epoch, seal_key), base)?;
        let mut ring = self.net.keys.clone();
        ring.forget_below(before);
        record.applied = count;
        record.replaced = Some(old_key);

        let mut batch = WriteBatch::new();
        batch.replace_log();
        for env in &envs {
            batch.append_log(env.to_bytes());
        }
        let view = self.doc.view.encode();
        batch.put_snapshot(
            SNAPSHOT_NAME,
            envs.len() as u64,
            encode_snapshot(&parts, Some(&view)),
        );
        batch.put_record(REC_IDENTITY, &new.to_bytes()[..]);
        batch.put_record(REC_HANDOVER, &handover_record(&self.key));
        batch.put_record(REC_EPOCH_KEYS, &encode_keys(&ring));
        batch.put_record(REC_ERASURE, &encode_json(&record));
        batch.delete_record(REC_NEXT_KEY);
        batch.delete_record(REC_ROLLBACK);
        for name in self.store.record_names()? {
            if name.starts_with(REC_MAILBOX_PREFIX) {
                batch.delete_record(name);
            }
        }
        if let Err(e) = self.store.commit(batch) {
            self.poisoned = true;
            return Err(e.into());
        }
        self.reload()?;
        tracing::debug!(
            epoch = before.0,
            rebased = rebases,
            "history erased: this device moved to a new key"
        );

        let revoked = self.revoke(RevokeTarget::Device(old_key), ERASURE_REASON, now)?;
        ops.extend(revoked.ops);
        ops.extend(self.membership_follow_up(now)?);
        let alone = self
            .net
            .membership
            .as_ref()
            .is_some_and(|log| log.state().devices().iter().all(|d| d.key == self.public));
        if alone {
            // No partner to tell the new key to: the old one goes now.
            self.finish_handover()?;
        }
        Ok(Some(Erased {
            old: old_key,
            device: self.public,
            before,
            rebased: rebases,
            ops,
        }))
    }

    /// The re-base of this organisation's partition, when this device turns out to be the one
    /// that writes it only after it applied the erasure (the device that was to write it was
    /// revoked meanwhile, a lost laptop): its stand-in, written by this device's key, is
    /// published as this key's next envelopes. Returns whether it did.
    pub(super) fn rebase_if_due(&mut self) -> Result<bool, ReplicaError> {
        let org = self.net.node.org;
        if !self.doc.standins.contains(&org) {
            return Ok(false);
        }
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(false);
        };
        let record = ErasureRecord::load(&self.store)?;
        if record.replaced.is_none() || rebaser(log, org) != record.replaced {
            return Ok(false);
        }
        let (fresh, changes) = self
            .doc
            .partitions
            .get_mut(org)?
            .rebased(self.public.as_bytes(), REBASE_RECORDS_PER_CHANGE)?;
        self.doc.partitions.replace(org, fresh);
        // The envelopes first: a crash before the record below changes leaves the partition a
        // stand-in on disk, which opening replaces by these envelopes (`Replica::load`).
        self.doc.standins.remove(&org);
        self.persist_own(changes, &Touched::all())?;
        self.commit_standins(record)?;
        tracing::debug!("history erased: this device re-based its organisation's records");
        Ok(true)
    }

    /// Once the replaced key is gone (the handover ended): every value sealed again under a new
    /// data key ([`crate::store::Store::rekey`]), so that what the erased history left in
    /// pages the database freed opens with nothing in the data directory.
    pub(super) fn rekey_after_erasure(&mut self) -> Result<(), ReplicaError> {
        let mut record = ErasureRecord::load(&self.store)?;
        if record.rekeyed >= record.applied {
            return Ok(());
        }
        self.store.rekey()?;
        record.rekeyed = record.applied;
        let mut batch = WriteBatch::new();
        batch.put_record(REC_ERASURE, &encode_json(&record));
        self.store.commit(batch)?;
        tracing::debug!("history erased: the store is sealed under a new data key");
        Ok(())
    }

    /// The erasures of the log and how far this store applied them.
    pub fn erasure_status(&self) -> Result<ErasureStatus, ReplicaError> {
        let record = ErasureRecord::load(&self.store)?;
        let erasures = self
            .net
            .membership
            .as_ref()
            .map(|log| {
                log.state()
                    .erasures()
                    .into_iter()
                    .map(|e| (e.id, e.before))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ErasureStatus {
            erasures,
            applied: record.applied,
            waiting_for: self.doc.standins.iter().copied().collect(),
            oldest_key: self.net.keys.epochs().next(),
            rekeyed: record.rekeyed >= record.applied,
            pending: self.erasure_pending(),
        })
    }

    /// The mailbox entries an erasure this device made left to deposit first (see
    /// [`REC_OUTBOX`]); none when it made none.
    pub(super) fn erasure_outbox(&self) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let Some(record) = self.store.get_record(REC_OUTBOX)? else {
            return Ok(Vec::new());
        };
        let damaged = || ReplicaError::Damaged("erasure outbox");
        let (&version, mut rest) = record.split_first().ok_or_else(damaged)?;
        if version != OUTBOX_VERSION {
            return Err(damaged());
        }
        let mut out = Vec::new();
        while !rest.is_empty() {
            let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(damaged)?;
            let len = u32::from_be_bytes(*len) as usize;
            if tail.len() < len {
                return Err(damaged());
            }
            out.push(tail[..len].to_vec());
            rest = &tail[len..];
        }
        Ok(out)
    }

    /// The key this device had before the last erasure it applied, if any.
    pub(super) fn replaced_key(&self) -> Result<Option<PublicKey>, ReplicaError> {
        Ok(ErasureRecord::load(&self.store)?.replaced)
    }

    /// Whether the log holds an erasure this store has not applied yet.
    pub(super) fn erasure_pending(&self) -> bool {
        self.net.membership.as_ref().is_some_and(|log| {
            let state = log.state();
            state.erasure_count() > self.doc.erasures_applied
                && state.is_member_device(&self.public)
                && !state.is_after_erasures(&self.public)
        })
    }

    /// [`Replica::apply_erasures`] with the erasure's own claimed time for the ops it writes
    /// (for paths that have no clock, such as a bundle's import).
    pub(super) fn apply_erasures_now(&mut self) -> Result<Option<Erased>, ReplicaError> {
        let at = self
            .net
            .membership
            .as_ref()
            .and_then(|log| log.state().erasures().iter().map(|e| e.claimed_time).max())
            .unwrap_or(0);
        self.apply_erasures(Time(i64::try_from(at).unwrap_or(i64::MAX)))
    }

    /// Whether an envelope or snapshot signed by `author` belongs to history an applied
    /// erasure removed: the log has erasures and `author` was added before one of them.
    pub(super) fn is_erased_author(&self, author: &PublicKey) -> bool {
        self.net.membership.as_ref().is_some_and(|log| {
            let state = log.state();
            state.erased_before().is_some() && !state.is_after_erasures(author)
        })
    }

    /// Before envelopes of `partitions` by keys added after the erasures are applied: each of
    /// them that is still a stand-in is emptied (its owner's re-base refills it), and the
    /// `erasure` record and the local snapshot are written so that the store says the same.
    pub(super) fn end_standins(
        &mut self,
        partitions: &BTreeSet<OrgId>,
    ) -> Result<(), ReplicaError> {
        let ending: Vec<OrgId> = partitions
            .intersection(&self.doc.standins)
            .copied()
            .collect();
        if ending.is_empty() {
            return Ok(());
        }
        let record = ErasureRecord::load(&self.store)?;
        for org in &ending {
            self.doc.standins.remove(org);
            self.doc
                .partitions
                .replace(*org, Partition::new(*org, self.public.as_bytes()));
            self.doc.refresh_view(*org, &Touched::all());
        }
        self.commit_standins(record)
    }

    /// Makes the stand-ins in memory durable: the `erasure` record (`record` with them) and
    /// the local snapshot that holds them, in one transaction, so that the store always says
    /// the same in both.
    fn commit_standins(&mut self, mut record: ErasureRecord) -> Result<(), ReplicaError> {
        record.standins = self.doc.standins.clone();
        let own = self.own_doc()?;
        let bytes = self.doc.local_snapshot(own.as_ref());
        let mut batch = WriteBatch::new();
        batch.put_snapshot(SNAPSHOT_NAME, self.doc.log_len, bytes);
        batch.put_record(REC_ERASURE, &encode_json(&record));
        if let Err(e) = self.store.commit(batch) {
            self.poisoned = true;
            return Err(e.into());
        }
        self.doc.snapshot_written();
        Ok(())
    }
}

/// The device of `org` that re-bases its partition after the latest erasures: the lowest key
/// among its devices from before them that are members, or that moved to a new key (revoked
/// by a device of `org` added after the erasures). Every device of `org` finds the same one
/// whatever it has heard of the others' moves, so exactly one re-bases.
fn rebaser(log: &crate::membership::MembershipLog, org: OrgId) -> Option<PublicKey> {
    let state = log.state();
    // Revoked by the new key it added itself (what applying an erasure does).
    let moved = |key: &PublicKey| {
        state.revocations().iter().any(|r| {
            r.effective
                && r.target == RevokeTarget::Device(*key)
                && state.is_after_erasures(&r.author)
                && state
                    .device(&r.author)
                    .or_else(|| {
                        state
                            .revoked_devices()
                            .into_iter()
                            .find(|d| d.key == r.author)
                    })
                    .and_then(|d| log.get(&d.added_by))
                    .is_some_and(|op| op.author() == *key)
        })
    };
    state
        .devices()
        .into_iter()
        .chain(state.revoked_devices())
        .filter(|d| d.org == org && !state.is_after_erasures(&d.key))
        .filter(|d| state.is_member_device(&d.key) || moved(&d.key))
        .map(|d| d.key)
        .min()
}
