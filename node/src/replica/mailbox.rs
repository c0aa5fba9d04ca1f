//! What this node deposits at, and collects from, the mailboxes of the network's relays.
//!
//! Each node deposits what it wrote itself: its own envelopes (in sequence order) and the
//! membership ops its device authored (in the order the log accepted them). A cursor per relay
//! (a sealed record, `mailbox/` + the relay's key) says how far each went, and how far this
//! node collected; a relay whose store was replaced (another instance id) starts both over.
//!
//! Sealing ([`crate::relay::entry`]): under the current epoch key, except an op that
//! introduces a new epoch, which is sealed under the newest key before it, so that a partner
//! still on the old epoch can open it and then the entries sealed under the new one. Opening:
//! entries whose epoch key this node lacks yet wait (bounded) and are tried again after each
//! entry that changed the membership.
//!
//! Invariant: only what this node wrote itself is deposited, each entry sealed under a key a
//! partner on the entry's epoch holds; a cursor moves only when the caller stores it
//! ([`Replica::set_mailbox_cursor`]).
//! Boundary: no networking (the actor talks to relays); it reads the network state's log and keys
//! and the store's log, so it stays an `impl Replica`.

use serde::{Deserialize, Serialize};

use super::{Replica, ReplicaError};
use crate::identity::PublicKey;
use crate::keys::{Epoch, EpochKeys as _};
use crate::membership::Body;
use crate::relay::entry::{EntryKind, entry_epoch, open_entry, seal_entry};

/// Record name prefix of the per-relay cursors.
pub(super) const REC_MAILBOX_PREFIX: &str = "mailbox/";

/// How far this node deposited at, and collected from, one relay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxCursor {
    /// The relay store's instance the cursor belongs to.
    pub instance: [u8; 16],
    /// Own envelopes deposited up to this sequence number.
    pub envelopes: u64,
    /// Membership ops (accepted order) looked at for depositing, up to this index.
    pub ops: u64,
    /// Entries collected up to this id.
    pub collected: u64,
}

/// Entries to deposit and the cursor once they are kept.
#[derive(Debug, Clone, Default)]
pub struct Deposit {
    /// Sealed entries, in order.
    pub entries: Vec<Vec<u8>>,
    /// The cursor after them.
    pub next: MailboxCursor,
    /// Own envelopes too large for a mailbox entry, skipped (they reach partners by sync).
    pub skipped: u64,
}

/// What collected entries gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// Envelopes, in the order collected.
    pub envelopes: Vec<Vec<u8>>,
    /// Membership ops, in the order collected.
    pub ops: Vec<Vec<u8>>,
    /// Entries this node holds no key for yet.
    pub waiting: Vec<Vec<u8>>,
    /// Entries that do not open with any key held for their epoch, or are malformed.
    pub refused: u64,
}

impl Replica {
    /// The cursor for `relay` (zero when none was kept).
    pub fn mailbox_cursor(&self, relay: &PublicKey) -> MailboxCursor {
        self.store
            .get_record(&format!("{REC_MAILBOX_PREFIX}{relay}"))
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Keeps the cursor for `relay`.
    pub fn set_mailbox_cursor(
        &mut self,
        relay: &PublicKey,
        cursor: &MailboxCursor,
    ) -> Result<(), ReplicaError> {
        let bytes = serde_json::to_vec(cursor).unwrap_or_default();
        self.store
            .put_record(&format!("{REC_MAILBOX_PREFIX}{relay}"), &bytes)?;
        Ok(())
    }

    /// What to deposit after `cursor`: own membership ops first, then own envelopes, at most
    /// `max_entries` entries and about `max_bytes` bytes (at least one entry if any is due),
    /// each at most `max_entry_bytes` sealed. Empty when this node is in no network or holds
    /// no epoch key.
    pub fn mailbox_deposit(
        &self,
        cursor: &MailboxCursor,
        max_entries: usize,
        max_bytes: usize,
        max_entry_bytes: usize,
    ) -> Result<Deposit, ReplicaError> {
        let mut out = Deposit {
            next: cursor.clone(),
            ..Deposit::default()
        };
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(out);
        };
        let Some(current) = self.net.keys.latest() else {
            return Ok(out);
        };
        let network = self.net.node.network;
        let mut bytes = 0usize;
        let full = |out: &Deposit, bytes: usize| {
            out.entries.len() >= max_entries || (!out.entries.is_empty() && bytes >= max_bytes)
        };
        // A relay this node deposits at from the start (a new cursor) gets first what a history
        // erasure sealed under the key it destroyed (`erasure.rs`): the rotation and the
        // `Erase` op, which partners still on that key open only so.
        if cursor.ops == 0 && cursor.envelopes == 0 {
            for entry in self.erasure_outbox()? {
                bytes += entry.len();
                out.entries.push(entry);
            }
        }
        // The ops this device signed, under this key or the one an erasure replaced (the op
        // that added this key among them).
        let replaced = self.replaced_key()?;
        let from = usize::try_from(cursor.ops).unwrap_or(usize::MAX);
        // The epoch current when each op was written, as the log accepted them (in causal
        // order): an op is sealed under it, so that a partner that holds the keys of the ops
        // before it opens it, however far the network rotated since.
        let rotations: std::collections::BTreeMap<_, Epoch> = log
            .state()
            .epochs()
            .into_iter()
            .map(|e| (e.rotation, e.epoch))
            .collect();
        let mut written_at: Option<Epoch> = None;
        for (index, op) in log.accepted_since(0).enumerate() {
            let at = written_at;
            if let Some(epoch) = rotations.get(&op.id()) {
                written_at = written_at.max(Some(*epoch));
            }
            if index < from {
                continue;
            }
            if full(&out, bytes) {
                return Ok(out);
            }
            out.next.ops += 1;
            if op.author() != self.public && Some(op.author()) != replaced {
                continue;
            }
            let (epoch, key) = match op.body() {
                Body::EpochKey { epoch, .. } => {
                    let below = self
                        .net
                        .keys
                        .epochs()
                        .filter(|e| e < epoch)
                        .last()
                        .unwrap_or(*epoch);
                    match self.net.keys.key(below) {
                        Some(key) => (below, key.clone()),
                        None => (current.epoch(), current.key().clone()),
                    }
                }
                _ => {
                    // The key of the epoch it was written in, or the oldest held after it (an
                    // erasure destroyed the older ones).
                    let held = at.and_then(|at| self.net.keys.epochs().find(|e| *e >= at));
                    match held.and_then(|e| self.net.keys.key(e).map(|k| (e, k.clone()))) {
                        Some(sealed) => sealed,
                        None => (current.epoch(), current.key().clone()),
                    }
                }
            };
            let entry = seal_entry(
                &network,
                epoch,
                &key,
                EntryKind::MembershipOp,
                &op.to_bytes(),
            );
            bytes += entry.len();
            out.entries.push(entry);
        }
        let own = self.public;
        loop {
            if full(&out, bytes) {
                break;
            }
            let batch = self.envelopes_after(&own, out.next.envelopes, 16, max_bytes)?;
            if batch.is_empty() {
                break;
            }
            for envelope in batch {
                if full(&out, bytes) {
                    return Ok(out);
                }
                out.next.envelopes += 1;
                let entry = seal_entry(
                    &network,
                    current.epoch(),
                    current.key(),
                    EntryKind::Envelope,
                    &envelope,
                );
                if entry.len() > max_entry_bytes {
                    out.skipped += 1;
                    continue;
                }
                bytes += entry.len();
                out.entries.push(entry);
            }
        }
        Ok(out)
    }

    /// How many of this device's own envelopes and membership ops are after `cursor`: what is
    /// still to be deposited.
    pub fn mailbox_pending(&self, cursor: &MailboxCursor) -> u64 {
        let envelopes = self
            .version_vector()
            .get(&self.public)
            .copied()
            .unwrap_or(0)
            .saturating_sub(cursor.envelopes);
        let ops = self.net.membership.as_ref().map_or(0, |log| {
            let from = usize::try_from(cursor.ops).unwrap_or(usize::MAX);
            log.accepted_since(from)
                .filter(|op| op.author() == self.public)
                .count() as u64
        });
        envelopes + ops
    }

    /// Opens collected entries with the epoch keys held now.
    pub fn mailbox_open(&self, entries: Vec<Vec<u8>>) -> Opened {
        let mut out = Opened::default();
        let network = self.net.node.network;
        for entry in entries {
            let epoch: Epoch = match entry_epoch(&entry) {
                Ok(epoch) => epoch,
                Err(_) => {
                    out.refused += 1;
                    continue;
                }
            };
            let keys = self.net.keys.keys(epoch);
            let erased = self
                .net
                .membership
                .as_ref()
                .and_then(|log| log.state().erased_before())
                .is_some_and(|before| epoch < before);
            if keys.is_empty() && erased {
                // Sealed under a key a history erasure destroyed: it never opens here again.
                out.refused += 1;
                continue;
            }
            if keys.is_empty() {
                out.waiting.push(entry);
                continue;
            }
            match open_entry(&network, &entry, &keys) {
                Ok((EntryKind::Envelope, payload)) => out.envelopes.push(payload),
                Ok((EntryKind::MembershipOp, payload)) => out.ops.push(payload),
                Err(_) => out.refused += 1,
            }
        }
        out
    }
}
