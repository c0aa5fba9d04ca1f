//! [`Admission`]: which envelopes may be applied, and in which order. Checks, in order, the
//! network, the signature, the author's right to write the partition ([`Authority`], the node's
//! view of membership) and the author's sequence numbers; buffers (bounded) envelopes that
//! arrive early or beyond a revoked key's limit, and releases them in order.
//!
//! Invariant: an error never changes the state. An envelope is accepted at most once, only after
//! every earlier envelope of its author; two different envelopes with one (author, sequence
//! number) are reported as [`EnvelopeError::Equivocation`]; the buffer holds at most
//! [`MAX_PENDING_BYTES`].
//!
//! Boundary: sans-I/O and in memory; rebuilt at start-up from the stored log with
//! [`Admission::restore`]. It stores, applies and sends nothing: the replica does.

use std::collections::{BTreeMap, HashMap};

use puente_crdt::OrgId;

use super::format::{Envelope, EnvelopeError, MAX_ENVELOPE_BODY, MAX_SEQ, Opened};
use crate::identity::PublicKey;
use crate::keys::{EpochKeys, NetworkId};

/// How far ahead of the next expected sequence number an envelope may be buffered: 1024 is a
/// generous reorder window for a sync protocol that sends in order per author.
pub const MAX_PENDING_AHEAD: u64 = 1024;

/// Most envelope bytes buffered for one author while waiting for a gap to fill: two maximal
/// envelopes, so one author cannot take the whole buffer.
pub const MAX_PENDING_BYTES_PER_AUTHOR: usize = 2 * MAX_ENVELOPE_BODY as usize;

/// Most envelope bytes buffered in total (the decrypted changes kept alongside roughly double
/// the memory): 16 MiB bounds what out-of-order peers can make a node hold.
pub const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;

/// Decides whether a key may write an organisation's records: the node's view of membership.
pub trait Authority {
    /// Whether `author` may write records of the organisation `partition` now.
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool;

    /// Whether `author`'s envelope number `seq` for `partition` may be accepted: a revoked key
    /// is still accepted up to the cut its revocation names. By default, [`Self::may_write`].
    fn may_write_seq(&self, author: &PublicKey, partition: &OrgId, seq: u64) -> bool {
        let _ = seq;
        self.may_write(author, partition)
    }

    /// Whether an envelope of `author` for `partition` that [`Self::may_write_seq`] refuses now
    /// may become acceptable later: a revoked key's envelope beyond its limit waits (bounded,
    /// never applied) in case a still-valid key's change turns out to build on it. By default,
    /// never.
    fn may_write_later(&self, author: &PublicKey, partition: &OrgId) -> bool {
        let _ = (author, partition);
        false
    }
}

impl<F: Fn(&PublicKey, &OrgId) -> bool> Authority for F {
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool {
        self(author, partition)
    }
}

/// An envelope accepted by [`Admission`] (to append to the stored log) with its decrypted
/// body, ready to apply.
pub type Accepted = (Envelope, Opened);

/// What [`Admission::admit`] decided.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Admitted {
    /// Apply these envelopes, in this order: the admitted one and any buffered successors it
    /// unblocked. Admission already counts them as accepted.
    Apply(Vec<Accepted>),
    /// Already accepted (or already buffered) with identical bytes: nothing to do.
    Duplicate,
    /// Buffered until the author's envelope `expected_seq` arrives.
    Waiting {
        /// The author.
        author: PublicKey,
        /// The sequence number needed next.
        expected_seq: u64,
    },
}

/// Per-author admission state.
#[derive(Debug, Default)]
struct AuthorState {
    /// Sequence numbers up to `base` were accepted through a snapshot, without their digests.
    base: u64,
    /// Digest of every envelope accepted one by one: `digests[i]` is sequence number
    /// `base + i + 1`, so the next expected sequence number is `base + digests.len() + 1`.
    digests: Vec<[u8; 32]>,
    /// Verified, decrypted envelopes waiting for a gap to fill (all greater than the next
    /// expected number) or for a revoked author's limit to rise (from the next expected number
    /// on), by sequence number.
    pending: BTreeMap<u64, Accepted>,
    /// Encoded bytes of `pending`.
    pending_bytes: usize,
}

impl AuthorState {
    fn next_seq(&self) -> u64 {
        // Accepted numbers never exceed MAX_SEQ, so this never overflows; saturate anyway.
        self.base
            .saturating_add(self.digests.len() as u64)
            .saturating_add(1)
    }
}

/// Decides which envelopes may be applied: network, signature, authority, per-author sequence
/// order and equivocation. Sans-I/O; rebuild it at start-up with [`Admission::restore`].
#[derive(Debug)]
pub struct Admission {
    network: NetworkId,
    authors: HashMap<PublicKey, AuthorState>,
    pending_bytes: usize,
}

impl Admission {
    /// Nothing accepted yet.
    pub fn new(network: NetworkId) -> Self {
        Self {
            network,
            authors: HashMap::new(),
            pending_bytes: 0,
        }
    }

    /// The network whose envelopes this admits.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// Records an envelope read back from the local log at start-up, without checking its
    /// signature or decrypting it again (the store authenticates what it returns). Envelopes
    /// must be restored in log order (calling [`Admission::fast_forward`] with a stored
    /// snapshot's cover at the log index it was stored at); a repeat is a no-op.
    pub fn restore(&mut self, env: &Envelope) -> Result<(), EnvelopeError> {
        if env.network() != self.network {
            return Err(EnvelopeError::WrongNetwork {
                expected: self.network,
                got: env.network(),
            });
        }
        let next = self.next_seq(&env.author());
        let digest = env.digest();
        if env.seq() < next {
            return self.check_duplicate(env, &digest).map(|_| ());
        }
        if env.seq() > next {
            return Err(EnvelopeError::RestoreGap {
                author: env.author(),
                expected: next,
                got: env.seq(),
            });
        }
        self.authors
            .entry(env.author())
            .or_default()
            .digests
            .push(digest);
        Ok(())
    }

    /// Decides what to do with an envelope from a peer. Checks, in order: network, signature,
    /// `authority.may_write(author, partition)`, then the sequence number: an old number with
    /// the same bytes is a [`Admitted::Duplicate`], with other bytes an
    /// [`EnvelopeError::Equivocation`]; a number ahead is decrypted and buffered (bounded);
    /// the next number is decrypted, accepted, and releases buffered successors.
    ///
    /// An error never changes the state. A buffered successor whose author has meanwhile lost
    /// write access is dropped with the rest of that author's buffer (it was never accepted; a
    /// resend gets the `NotAuthorized` error).
    pub fn admit(
        &mut self,
        env: Envelope,
        authority: &impl Authority,
        keys: &impl EpochKeys,
    ) -> Result<Admitted, EnvelopeError> {
        if env.network() != self.network {
            return Err(EnvelopeError::WrongNetwork {
                expected: self.network,
                got: env.network(),
            });
        }
        env.verify_signature()?;
        // A revoked key's envelope beyond its current limit waits in the buffer like one that
        // arrived early, and is released only if the limit rises to it.
        let beyond_limit = !authority.may_write_seq(&env.author(), &env.partition(), env.seq());
        if beyond_limit && !authority.may_write_later(&env.author(), &env.partition()) {
            return Err(EnvelopeError::NotAuthorized {
                author: env.author(),
                partition: env.partition(),
            });
        }
        let author = env.author();
        let seq = env.seq();
        let next = self.next_seq(&author);
        let digest = env.digest();
        if seq < next {
            return self.check_duplicate(&env, &digest);
        }
        if let Some(buffered) = self
            .authors
            .get(&author)
            .and_then(|state| state.pending.get(&seq))
        {
            return if buffered.0.digest() == digest {
                Ok(Admitted::Duplicate)
            } else {
                Err(EnvelopeError::Equivocation { author, seq })
            };
        }
        if seq > next || beyond_limit {
            if seq - next > MAX_PENDING_AHEAD {
                return Err(EnvelopeError::TooFarAhead {
                    author,
                    seq,
                    expected: next,
                });
            }
            let size = env.len();
            let author_bytes = self.authors.get(&author).map_or(0, |s| s.pending_bytes);
            if author_bytes + size > MAX_PENDING_BYTES_PER_AUTHOR
                || self.pending_bytes + size > MAX_PENDING_BYTES
            {
                return Err(EnvelopeError::PendingFull);
            }
            let opened = env.open_body(keys)?;
            let state = self.authors.entry(author).or_default();
            state.pending.insert(seq, (env, opened));
            state.pending_bytes += size;
            self.pending_bytes += size;
            return Ok(Admitted::Waiting {
                author,
                expected_seq: next,
            });
        }
        let opened = env.open_body(keys)?;
        self.authors.entry(author).or_default().digests.push(digest);
        let mut accepted = vec![(env, opened)];
        self.drain(author, authority, &mut accepted);
        Ok(Admitted::Apply(accepted))
    }

    /// Releases what `author`'s buffer holds that may be accepted now (after the author's
    /// limit rose: a still-valid key's change builds on envelopes of a revoked key), in order.
    pub fn release(&mut self, author: &PublicKey, authority: &impl Authority) -> Vec<Accepted> {
        let mut accepted = Vec::new();
        self.drain(*author, authority, &mut accepted);
        accepted
    }

    /// Moves buffered envelopes that follow the author's accepted ones into `accepted`, while
    /// the authority accepts them. One beyond a revoked author's limit stays buffered
    /// ([`Authority::may_write_later`]); one whose author may no longer write at all is
    /// dropped with the rest of that author's buffer.
    fn drain(
        &mut self,
        author: PublicKey,
        authority: &impl Authority,
        accepted: &mut Vec<Accepted>,
    ) {
        let Some(state) = self.authors.get_mut(&author) else {
            return;
        };
        while let Some(next) = state.pending.first_key_value().map(|(seq, _)| *seq) {
            if next != state.next_seq() {
                return;
            }
            let partition = state.pending[&next].0.partition();
            if !authority.may_write_seq(&author, &partition, next) {
                if !authority.may_write_later(&author, &partition) {
                    self.pending_bytes -= state.pending_bytes;
                    state.pending_bytes = 0;
                    state.pending.clear();
                }
                return;
            }
            let Some(buffered) = state.pending.remove(&next) else {
                return;
            };
            let size = buffered.0.len();
            state.pending_bytes -= size;
            self.pending_bytes -= size;
            state.digests.push(buffered.0.digest());
            accepted.push(buffered);
        }
    }

    /// Records that a verified snapshot (see [`Snapshot::verify`](super::Snapshot::verify)) includes the envelopes in
    /// `covers`, for a node that catches up from the snapshot instead of the envelopes. Authors
    /// move forward only (a cover behind what is already accepted changes nothing); buffered
    /// envelopes the snapshot includes are dropped, and buffered successors it unblocks are
    /// returned to apply, in order.
    ///
    /// The digests of skipped envelopes are unknown, so an envelope with a sequence number the
    /// snapshot covers is from then on treated as a duplicate: it is never applied, but a
    /// conflicting one is no longer detected as equivocation.
    pub fn fast_forward(
        &mut self,
        covers: &BTreeMap<PublicKey, u64>,
        authority: &impl Authority,
    ) -> Vec<Accepted> {
        let mut accepted = Vec::new();
        for (author, seq) in covers {
            let seq = (*seq).min(MAX_SEQ);
            let state = self.authors.entry(*author).or_default();
            if seq < state.next_seq() {
                continue;
            }
            state.base = seq;
            state.digests.clear();
            let stale: Vec<u64> = state.pending.range(..=seq).map(|(s, _)| *s).collect();
            for s in stale {
                if let Some(dropped) = state.pending.remove(&s) {
                    state.pending_bytes -= dropped.0.len();
                    self.pending_bytes -= dropped.0.len();
                }
            }
            self.drain(*author, authority, &mut accepted);
        }
        accepted
    }

    /// Compares an envelope with an already accepted one of the same author and number.
    fn check_duplicate(
        &self,
        env: &Envelope,
        digest: &[u8; 32],
    ) -> Result<Admitted, EnvelopeError> {
        let skipped = self
            .authors
            .get(&env.author())
            .is_some_and(|state| env.seq() <= state.base);
        match self.digest_of(&env.author(), env.seq()) {
            _ if skipped => Ok(Admitted::Duplicate),
            Some(known) if known == *digest => Ok(Admitted::Duplicate),
            _ => Err(EnvelopeError::Equivocation {
                author: env.author(),
                seq: env.seq(),
            }),
        }
    }

    /// Highest contiguous accepted sequence number per author (authors with none are absent).
    pub fn version_vector(&self) -> BTreeMap<PublicKey, u64> {
        self.authors
            .iter()
            .filter(|(_, state)| state.next_seq() > 1)
            .map(|(author, state)| (*author, state.next_seq() - 1))
            .collect()
    }

    /// The sequence number expected next from `author` (1 if none accepted yet); for the local
    /// key, the number to give its next envelope.
    pub fn next_seq(&self, author: &PublicKey) -> u64 {
        self.authors.get(author).map_or(1, AuthorState::next_seq)
    }

    /// Digest of the accepted envelope `seq` of `author`, to find the evidence of an
    /// equivocation in the stored log (`None` if not accepted, or skipped by a snapshot).
    pub fn digest_of(&self, author: &PublicKey, seq: u64) -> Option<[u8; 32]> {
        let state = self.authors.get(author)?;
        let index = usize::try_from(seq.checked_sub(state.base)?.checked_sub(1)?).ok()?;
        state.digests.get(index).copied()
    }

    /// Number of envelopes buffered while waiting for gaps to fill.
    pub fn pending_count(&self) -> usize {
        self.authors.values().map(|s| s.pending.len()).sum()
    }

    /// Encoded bytes buffered while waiting for gaps to fill.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }
}

#[cfg(test)]
mod tests;
