//! Dropping this device's own envelopes from the log once nothing can need them: the own
//! signed snapshot (which a peer lacking them is sent instead, `sync`) covers them, the local
//! snapshot holds their changes, and every partner organisation has said it holds them (the
//! `peer-vectors` record), or there is no partner. An import of 10,000 offers is 11 envelopes
//! as large as the whole document; thousands of small edits weigh more than the document grows:
//! without this the log alone costs what automerge's `save()` of everything costs, or more.
//!
//! Invariants:
//! - A dropped entry is replaced by a sealed empty value at the same log index, so the log
//!   stays contiguous and a deleted row is still corruption. Start-up skips it and
//!   fast-forwards admission past the dropped sequence numbers at the mark stored with them
//!   (the mechanism of an ingested snapshot), in the same transaction.
//! - Only this device's envelopes, only up to what the stored own snapshot of the current
//!   network and epoch covers, and only those the local snapshot covers. The own snapshot
//!   exists only while every change of the partition is this device's (no other device's
//!   envelope, no revoked key's limit, needs these), and a rebuild is due whenever the current
//!   one covers less than what was dropped (after a key rotation).
//! - What is given up: an envelope a partner later asks for by number goes as the snapshot
//!   instead (a partner that joins afterwards gets them from the partners that hold them, or the
//!   snapshot); the exposure report counts the own partition whole for such a party (as for a
//!   partition received as a snapshot); a second envelope under a dropped number is taken as a
//!   duplicate, not reported as equivocation (partners that hold the first still report it).
//!
//! Boundary: decides and commits; the log format and the snapshot are the store's and
//! `snapshot.rs`'s.

use super::snapshot::{MARKS_NAME, encode_marks};
use super::{Replica, ReplicaError};
use crate::keys::Epoch;
use crate::store::WriteBatch;

impl Replica {
    /// Drops the own envelopes nothing can need any more (see the module documentation), in
    /// one durable transaction. Returns how many were dropped.
    pub(super) fn prune_own(&mut self) -> Result<usize, ReplicaError> {
        self.load_own()?;
        let network = self.net.node.network;
        let epoch = Epoch(self.net.node.epoch);
        let Some(covered) = self.doc.snapshots.own_cover(network, epoch, &self.public) else {
            return Ok(0);
        };
        let upto = covered.min(self.partners_hold_own()?);
        let mut dropped: Vec<(u64, u64)> = self
            .doc
            .log_index
            .iter()
            .filter(|((author, seq), index)| {
                *author == self.public && *seq <= upto && **index < self.doc.snapshot_covers
            })
            .map(|((_, seq), index)| (*seq, *index))
            .collect();
        if dropped.is_empty() {
            return Ok(0);
        }
        dropped.sort_unstable();
        let last = dropped.iter().map(|(_, i)| *i).max().unwrap_or(0);
        let seq = dropped.iter().map(|(s, _)| *s).max().unwrap_or(0);
        let marks = self.doc.snapshots.marks_with(last, self.public, seq);
        let mut batch = WriteBatch::default();
        for (_, index) in &dropped {
            batch.clear_log_entry(*index);
        }
        batch.put_snapshot(MARKS_NAME, self.doc.log_len, encode_marks(&marks));
        self.commit_or_poison(batch)?;
        for (s, _) in &dropped {
            self.doc.log_index.remove(&(self.public, *s));
        }
        self.doc.snapshots.set_marks(marks);
        Ok(dropped.len())
    }

    /// The highest own sequence number every partner organisation is known to hold: the
    /// least, over the member organisations other than this one, of what its last recorded
    /// version vector says of this device (0 for one never heard from); unbounded when there
    /// is no other member.
    fn partners_hold_own(&self) -> Result<u64, ReplicaError> {
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(u64::MAX);
        };
        let mine = self.net.node.org;
        let mut least = u64::MAX;
        for org in log.state().orgs() {
            if org.id == mine {
                continue;
            }
            let held = self
                .peer_vector(org.id)?
                .and_then(|v| v.get(&self.public).copied())
                .unwrap_or(0);
            least = least.min(held);
        }
        Ok(least)
    }
}
