//! Backups, and restoring one as a **new device** of the same organisation.
//!
//! A backup is the store as it was ([`crate::store`]: the header and every sealed row). Brought
//! back as it is, it would be an older copy of its device: the next envelope would reuse a
//! sequence number partners already hold with other contents (see [`super::rollback`]). So
//! [`Replica::restore`] never writes under the backup's device key again. In the restored store,
//! before it is moved into place:
//! 1. the backup's key (the **old key**) signs one op, and only this one: `AddDevice` of a new
//!    key of the same organisation (any device of an organisation may add one; on a store found
//!    rolled back too);
//! 2. the store's identity becomes the new key (its X25519 key derived from it as always); the
//!    old key is kept in the sealed `handover` record for the transport only (below), the
//!    `rollback` record and the mailbox cursors go (they describe the old key's envelopes);
//! 3. the new key revokes the old one (`Revoke` of the device, by a device of the same
//!    organisation) with the cut **what the backup holds of the old key**: changes the lost
//!    device made after the backup do not count anywhere (a stolen laptop's later writes are not
//!    kept; an honest one's must be entered again), and partners never see two changes under one
//!    (author, sequence number), because the old key writes nothing more. An admin's device also
//!    rotates the epoch key at once; a member's is rotated by the first admin node that applies
//!    the revocation, as for any revocation.
//!
//! The **handover**: partners let in only keys of their membership log, and only this node holds
//! the ops that admit the new key. While the `handover` record exists, the running node keeps a
//! second transport whose identity is the old key (`actor/handover.rs`), used only to exchange
//! membership ops with partners that still accept it. A partner that applies them revokes the old
//! key (and cuts that connection) and lets the new key in; the first sync session on the new key
//! ends the handover ([`Replica::finish_handover`]): the record and the old key are deleted.
//! A bundle (`export_bundle`) carries the same ops for a partner that cannot be reached.
//!
//! A store that is part of no network (never shared anything) keeps its key: no partner holds
//! any of its envelopes, so none can be used twice.
//!
//! Invariant: after a restore nothing is signed by the old key but the one `AddDevice`; envelopes
//! and snapshots are signed by the new key only. The old replica is dropped without
//! [`Replica::close`], which could sign a partition snapshot.
//! Boundary: no file I/O (the caller reads the backup's bytes and writes them); no clock (`now`
//! is only the ops' claimed time).

use std::path::Path;

use puente_crdt::{OrgId, Time};
use zeroize::Zeroizing;

use super::mailbox::REC_MAILBOX_PREFIX;
use super::network::{agreement_of, claimed};
use super::rollback::REC_ROLLBACK;
use super::{NetworkRefusal, REC_IDENTITY, Replica, ReplicaError};
use crate::identity::{PublicKey, SecretKey};
use crate::membership::{DeviceKeys, Op, OpId, RevokeTarget};
use crate::store::{self, WriteBatch};

/// The record that holds the replaced device's key while the handover lasts.
pub(super) const REC_HANDOVER: &str = "handover";

/// The version of the `handover` record (then the 32-byte seed of the old key).
const HANDOVER_RECORD_VERSION: u8 = 1;

/// What [`Replica::restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Restored {
    /// The organisation.
    pub org: OrgId,
    /// Its name.
    pub name: String,
    /// This device's key now.
    pub device: PublicKey,
    /// The device the restored store replaces; `None` when the backup was of a store in no
    /// network, which keeps its key.
    pub replaced: Option<Replaced>,
}

/// The device a restored store replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replaced {
    /// The backup's device key, now revoked.
    pub old: PublicKey,
    /// The revocation's cut: the old key's envelopes up to this sequence number count (what
    /// the backup held), none after.
    pub cut: u64,
    /// The revocation op.
    pub revocation: OpId,
    /// Whether this device rotated the epoch key (an admin's does).
    pub rotated: bool,
}

impl Replica {
    /// A backup of this store (see [`crate::store::Store::backup`]): it opens with the
    /// passphrase the store has now, and only with it.
    pub fn backup(&self) -> Result<Vec<u8>, ReplicaError> {
        Ok(self.store.backup()?)
    }

    /// Restores `backup` (made with [`Replica::backup`] under `passphrase`) into the data
    /// directory `dir`, which must not exist or be empty, as a new device of the same
    /// organisation (see the module documentation); `reason` goes into the revocation of the
    /// backup's key. A refused backup changes nothing; a restore that fails after the file was
    /// accepted leaves nothing at `dir` either.
    pub fn restore(
        backup: &[u8],
        dir: &Path,
        passphrase: &[u8],
        reason: &str,
        now: Time,
    ) -> Result<Restored, ReplicaError> {
        let restoring = store::restore(backup, dir, passphrase)?;
        let restored = Self::replace_device(restoring.dir(), passphrase, reason, now)?;
        restoring.finish()?;
        Ok(restored)
    }

    /// Steps 1 to 3 of the module documentation, on the restored store in `dir`.
    fn replace_device(
        dir: &Path,
        passphrase: &[u8],
        reason: &str,
        now: Time,
    ) -> Result<Restored, ReplicaError> {
        let mut old = Replica::open(dir, passphrase)?;
        let org = old.org();
        let name = old.whoami().name;
        let old_key = old.public;
        let Some(log) = old.net.membership.as_ref() else {
            return Ok(Restored {
                org,
                name,
                device: old_key,
                replaced: None,
            });
        };
        if !log.state().is_member_device(&old_key) {
            // The backup was made after this device was revoked: it cannot add one.
            return Err(NetworkRefusal::NoLongerMember.into());
        }
        let new = SecretKey::generate();
        let keys = DeviceKeys {
            device: new.public(),
            agreement: agreement_of(&new).public(),
        };
        // The one op the old key signs.
        let add = Op::add_device(
            log.network(),
            &old.key,
            &log.heads(),
            org,
            keys,
            claimed(now),
        )?;
        let update = old.apply_membership(&[add.to_bytes()])?;
        if update.accepted != 1 {
            return Err(NetworkRefusal::DeviceNotAccepted.into());
        }
        let mut batch = WriteBatch::new();
        batch.put_record(REC_IDENTITY, &new.to_bytes()[..]);
        batch.put_record(REC_HANDOVER, &handover_record(&old.key));
        batch.delete_record(REC_ROLLBACK);
        for name in old.store.record_names()? {
            if name.starts_with(REC_MAILBOX_PREFIX) {
                batch.delete_record(name);
            }
        }
        old.store.commit(batch)?;
        // Not `close`: it could sign the own partition's snapshot under the old key.
        drop(old);

        let mut replica = Replica::open(dir, passphrase)?;
        let cut = replica.version_vector().get(&old_key).copied().unwrap_or(0);
        let revoked = replica.revoke(RevokeTarget::Device(old_key), reason, now)?;
        let device = replica.public;
        replica.close()?;
        Ok(Restored {
            org,
            name,
            device,
            replaced: Some(Replaced {
                old: old_key,
                cut,
                revocation: revoked.revocation,
                rotated: revoked.rotated,
            }),
        })
    }

    /// The key of the device this store replaced, while partners may not know this device yet
    /// (the handover is pending); `None` otherwise.
    pub fn handover(&self) -> Result<Option<PublicKey>, ReplicaError> {
        Ok(self.handover_key()?.map(|k| k.public()))
    }

    /// The replaced device's key while the handover is pending: the identity of the transport
    /// that only hands partners the membership ops that admit this device (the node actor's;
    /// nothing else may use it).
    pub(crate) fn handover_key(&self) -> Result<Option<SecretKey>, ReplicaError> {
        let Some(record) = self.store.get_record(REC_HANDOVER)? else {
            return Ok(None);
        };
        match record.split_first() {
            Some((&HANDOVER_RECORD_VERSION, seed)) => {
                let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
                    seed.try_into()
                        .map_err(|_| ReplicaError::Damaged("handover"))?,
                );
                Ok(Some(SecretKey::from_bytes(&seed)))
            }
            _ => Err(ReplicaError::Damaged("handover")),
        }
    }

    /// Ends the handover once a partner accepts this device's own key: the replaced device's
    /// key is deleted from the store. Returns whether one was pending. After a history erasure
    /// the store is then sealed again under a new data key (`erasure.rs`).
    pub fn finish_handover(&mut self) -> Result<bool, ReplicaError> {
        if self.store.get_record(REC_HANDOVER)?.is_none() {
            return Ok(false);
        }
        let mut batch = WriteBatch::new();
        batch.delete_record(REC_HANDOVER);
        self.store.commit(batch)?;
        self.rekey_after_erasure()?;
        Ok(true)
    }
}

/// The `handover` record holding `old`, the replaced device's key.
pub(super) fn handover_record(old: &SecretKey) -> Zeroizing<Vec<u8>> {
    let mut record = Zeroizing::new(Vec::with_capacity(33));
    record.push(HANDOVER_RECORD_VERSION);
    record.extend_from_slice(&old.to_bytes()[..]);
    record
}
