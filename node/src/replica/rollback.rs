//! Noticing that this store is older than what partners hold from this device: a data
//! directory replaced by an older copy of itself (a backup restored over it, a virtual machine
//! rolled back to a snapshot), or a copy of it running somewhere else.
//!
//! Every envelope a device writes carries the next sequence number of its key. A store that
//! went back in time gives its next envelope a number partners already hold with other
//! contents: two changes under one number, a forked history that no partner can merge and that
//! every partner reports as the key's equivocation. So the replica watches every path by which
//! this device's own work can come back to it, and the first proof that partners hold more of
//! it than this store does is recorded (record `rollback`, sealed like every record) before
//! anything else happens:
//! - an envelope signed by this device's key with a sequence number beyond the ones this store
//!   holds ([`RollbackEvidence::Envelope`]), from a sync session, a bundle or a mailbox alike
//!   (they all go through [`Replica::ingest`]);
//! - an envelope signed by this device's key under a number this store holds with another
//!   envelope ([`RollbackEvidence::Conflict`]): the store was rolled back and wrote again;
//! - a partition snapshot this device signed that covers more of its envelopes than this store
//!   holds ([`RollbackEvidence::Snapshot`]);
//! - a membership op this device signed that this store's log lacked
//!   ([`RollbackEvidence::MembershipOp`]).
//!
//! Each of these is signed by this device's own key, so no partner can forge one; a partner's
//! sync state that *claims* more of this device's envelopes is not proof, and only holds local
//! writes while that partner's session lasts ([`Replica::note_sync_claim`]): a partner that
//! lied in its vector could otherwise stop a device from writing for good. An honest partner's
//! claim is followed at once by the envelopes themselves, which are proof.
//!
//! From the record on, this device writes no envelope (offers, holds, profile, imports) and no
//! membership op of its own initiative (`WriteRefusal::RolledBack`), except what replacing it
//! needs: a device invitation for its own organisation and admitting that device. What the
//! network asks of every member (key rotations, key shares, revocation receipts) still goes
//! out: membership ops are linked by hashes and carry no sequence number, so one written now is
//! concurrent with the ones this store forgot, never a second op under a used number, and an
//! admin's rotation after a revocation is what keeps the revoked party out. Sync goes on,
//! read-only as far as this device's envelopes go: partners' envelopes are applied, this
//! device's own later ones included (so the coordinator sees what partners see, and the
//! store's sequence number catches up with theirs); nothing new is sealed under its key.
//!
//! Invariant: the record is written before the envelope, snapshot or op that revealed the
//! rollback is applied, and it is never removed: the store cannot tell whether some partner
//! holds still more of this device's envelopes, so only a new device is safe.
//! Boundary: no networking and no clock; what a sync session claims is passed in by the actor.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Replica, ReplicaError, WriteRefusal, decode_json, encode_json};
use crate::envelope::format::Envelope;
use crate::identity::PublicKey;
use crate::store::{Store, WriteBatch};

/// The record that says this store was found rolled back.
pub(super) const REC_ROLLBACK: &str = "rollback";

/// The version of the `rollback` record.
const ROLLBACK_RECORD_VERSION: u8 = 1;

/// What showed that this store is older than what partners hold from this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RollbackEvidence {
    /// An envelope of this device's key numbered beyond the ones this store holds.
    Envelope,
    /// An envelope of this device's key under a number this store holds with another one: it
    /// was rolled back and wrote again.
    Conflict,
    /// A partition snapshot this device signed, covering more of its envelopes than this
    /// store holds.
    Snapshot,
    /// A membership op this device signed that this store's log lacked.
    MembershipOp,
    /// A partner's sync state claims more of this device's envelopes than this store holds.
    /// Not proof (a partner could lie): held in memory only, while that partner's session lasts.
    Claim,
}

/// This store is older than what partners hold from this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rollback {
    /// The highest sequence number of this device's envelopes this store held when it noticed.
    pub held: u64,
    /// The highest sequence number of this device's envelopes partners showed (for a conflict,
    /// the number used twice; for a membership op, `held`).
    pub seen: u64,
    /// What showed it.
    pub evidence: RollbackEvidence,
}

impl Rollback {
    /// Whether this rests on something this device signed (recorded for good), rather than on
    /// a partner's claim.
    pub fn is_proven(&self) -> bool {
        self.evidence != RollbackEvidence::Claim
    }
}

/// The `rollback` record as stored.
#[derive(Debug, Serialize, Deserialize)]
struct RollbackRecord {
    version: u8,
    held: u64,
    seen: u64,
    evidence: RollbackEvidence,
}

/// What the replica knows about a rollback: the durable record, and the claims of the sync
/// sessions running now.
#[derive(Debug, Default)]
pub(super) struct RollbackState {
    /// The record, once proven.
    recorded: Option<Rollback>,
    /// Per partner with a running session, the highest sequence number of this device's
    /// envelopes it claims to hold, where that is beyond what this store holds.
    claims: BTreeMap<PublicKey, u64>,
}

impl RollbackState {
    /// Reads the record, if the store has one.
    pub(super) fn load(store: &Store) -> Result<RollbackState, ReplicaError> {
        let recorded = match store.get_record(REC_ROLLBACK)? {
            Some(bytes) => {
                let r: RollbackRecord = decode_json(&bytes, "rollback")?;
                if r.version != ROLLBACK_RECORD_VERSION || r.evidence == RollbackEvidence::Claim {
                    return Err(ReplicaError::Damaged("rollback"));
                }
                Some(Rollback {
                    held: r.held,
                    seen: r.seen,
                    evidence: r.evidence,
                })
            }
            None => None,
        };
        Ok(RollbackState {
            recorded,
            claims: BTreeMap::new(),
        })
    }

    /// The recorded rollback, else the highest claim beyond `held`.
    fn current(&self, held: u64) -> Option<Rollback> {
        self.recorded.or_else(|| {
            let seen = self.claims.values().copied().max().filter(|s| *s > held)?;
            Some(Rollback {
                held,
                seen,
                evidence: RollbackEvidence::Claim,
            })
        })
    }
}

impl Replica {
    /// Whether this store is known to be older than what partners hold from this device: the
    /// durable record once something this device signed proved it, else a running sync
    /// session's claim ([`Rollback::is_proven`] tells them apart). While this is `Some`, local
    /// writes are refused with [`WriteRefusal::RolledBack`].
    pub fn rollback(&self) -> Option<Rollback> {
        self.rollback.current(self.own_held())
    }

    /// Notes that the sync session with `peer` says it holds this device's envelopes up to
    /// `seq`. Beyond what this store holds, that holds local writes until the session ends
    /// ([`Replica::end_sync_claim`]) or the envelopes themselves arrive (then the rollback is
    /// recorded). Returns whether this is a new claim beyond this store.
    pub fn note_sync_claim(&mut self, peer: PublicKey, seq: u64) -> bool {
        if self.rollback.recorded.is_some() || seq <= self.own_held() {
            return false;
        }
        match self.rollback.claims.insert(peer, seq) {
            Some(before) => before <= self.own_held(),
            None => true,
        }
    }

    /// The sync session with `peer` ended: its claim no longer holds writes. Returns the claim
    /// if it was still beyond this store and nothing proved it (a partner whose session broke
    /// off before it sent the envelopes, or one that claimed what it does not hold).
    pub fn end_sync_claim(&mut self, peer: &PublicKey) -> Option<u64> {
        let seq = self.rollback.claims.remove(peer)?;
        (self.rollback.recorded.is_none() && seq > self.own_held()).then_some(seq)
    }

    /// The highest sequence number of this device's envelopes this store holds (contiguous).
    pub(super) fn own_held(&self) -> u64 {
        self.doc.admission.next_seq(&self.public).saturating_sub(1)
    }

    /// Refuses a write under this device's key once the store is known to be rolled back.
    pub(super) fn check_not_rolled_back(&self) -> Result<(), WriteRefusal> {
        match self.rollback() {
            Some(r) => Err(WriteRefusal::RolledBack {
                held: r.held,
                seen: r.seen,
                evidence: r.evidence,
            }),
            None => Ok(()),
        }
    }

    /// Records, durably and once, that this store is older than what partners hold from this
    /// device; `seen` is the sequence number the evidence showed. The first record stays.
    pub(super) fn notice_rollback(
        &mut self,
        evidence: RollbackEvidence,
        seen: u64,
    ) -> Result<(), ReplicaError> {
        if self.rollback.recorded.is_some() {
            return Ok(());
        }
        let held = self.own_held();
        let record = RollbackRecord {
            version: ROLLBACK_RECORD_VERSION,
            held,
            seen,
            evidence,
        };
        let mut batch = WriteBatch::default();
        batch.put_record(REC_ROLLBACK, &encode_json(&record));
        self.store.commit(batch)?;
        self.rollback.recorded = Some(Rollback {
            held,
            seen,
            evidence,
        });
        self.rollback.claims.clear();
        tracing::debug!(
            held,
            seen,
            ?evidence,
            "recorded that this store was rolled back"
        );
        Ok(())
    }

    /// Before an envelope from elsewhere is admitted: one of this device's key, of this
    /// network, numbered beyond what this store holds and validly signed, proves a rollback.
    /// Its signature is checked first, so nobody but the key's holder can make this store stop
    /// writing; a bad one is the envelope's error, as admission would report it.
    pub(super) fn check_own_envelope(&mut self, env: &Envelope) -> Result<(), ReplicaError> {
        if env.author() != self.public
            || env.network() != self.net.node.network
            || env.seq() <= self.own_held()
        {
            return Ok(());
        }
        env.verify_signature()?;
        self.notice_rollback(RollbackEvidence::Envelope, env.seq())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{NOW, PASS, init, network};
    use puente_crdt::test_utils::sample_offer;

    #[test]
    fn a_claim_holds_writes_only_while_its_session_lasts_and_proof_is_for_good() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut r = init(&tmp.path().join("r"), "River Refuge");
        let partner = crate::identity::SecretKey::from_bytes(&[7; 32]).public();
        let held = r.own_held();
        assert_eq!(r.rollback(), None);
        // A claim at or below what the store holds is no claim.
        assert!(!r.note_sync_claim(partner, held));
        assert!(r.note_sync_claim(partner, held + 3));
        assert!(!r.note_sync_claim(partner, held + 4), "not a new claim");
        let refused = r.add_offer(sample_offer("held-back", NOW), NOW);
        assert!(matches!(
            refused,
            Err(ReplicaError::Write(WriteRefusal::RolledBack {
                evidence: RollbackEvidence::Claim,
                ..
            }))
        ));
        assert_eq!(r.end_sync_claim(&partner), Some(held + 4));
        assert_eq!(r.rollback(), None);
        r.add_offer(sample_offer("after-the-session", NOW), NOW)
            .expect("writes again");

        r.notice_rollback(RollbackEvidence::Envelope, held + 9)
            .expect("recorded");
        let dir = r.dir().to_path_buf();
        drop(r);
        let r = Replica::open(&dir, PASS).expect("reopens");
        let rollback = r.rollback().expect("still known after a restart");
        assert!(rollback.is_proven());
        assert_eq!(rollback.seen, held + 9);
        assert_eq!(rollback.held, held + 1);
    }

    #[test]
    fn a_forged_envelope_under_this_devices_key_is_refused_and_proves_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut replicas = network(tmp.path(), 2);
        let b = replicas.pop().expect("two");
        let mut a = replicas.pop().expect("two");
        let bytes = b
            .envelopes_after(&b.public_key(), 0, 1, usize::MAX)
            .expect("reads")
            .remove(0);
        // B's envelope with A's key written over its author: the signature no longer holds.
        let mut forged = bytes.clone();
        forged[28..60].copy_from_slice(a.public_key().as_bytes());
        forged[60..68].copy_from_slice(&100u64.to_be_bytes());
        assert!(matches!(a.ingest(&forged), Err(ReplicaError::Envelope(_))));
        assert_eq!(a.rollback(), None);
        a.add_offer(sample_offer("still-writes", NOW), NOW)
            .expect("writes");
    }
}
