//! How far a revoked key's envelopes count (issue 4 §1).
//!
//! A revocation names a cut: the revoked key's envelopes up to it stay; later ones are refused,
//! except those that a still-valid key's accepted change already builds on, so that no honest
//! change is ever lost. An envelope's body says what it builds on: per other author of the same
//! partition, the highest sequence number of that author's envelopes in the writer's document
//! when it wrote ([`crate::envelope::BuildsOn`]). A *claim* is one such entry naming a revoked
//! key beyond its cut. The limit of a revoked key `K` is the least fixed point of
//!
//! ```text
//! limit(K) = max(cut(K), max { s : an accepted envelope of another key C of K's organisation,
//!                                  in K's partition, names (K, s), and counts: C is a member
//!                                  device, or C is revoked and the envelope is within limit(C) })
//! ```
//!
//! computed from the membership state and the claims alone: the same on every node that holds
//! the same operations and envelopes, whatever order they arrived in.
//!
//! Invariant: a partition's document holds each revoked key's envelopes up to its limit and
//! none beyond. When a limit falls (a revocation arrives after the key's later envelopes were
//! applied here), the partition is rebuilt without those envelopes' changes (and whatever
//! depends on them) and the local snapshot is rewritten; when it rises, envelopes already in
//! the log are applied again and those waiting in admission's buffer are released. The log
//! keeps every envelope it accepted; one beyond its author's limit is neither sent to peers nor
//! counted in the version vector.
//!
//! The claims are kept in a sealed record with the revocations they were collected for, so
//! start-up needs no scan; when the set of revocations changes, the log envelopes of the
//! organisations concerned are opened again to collect them.
//!
//! Boundary: the claims are staged into the same write batch as the envelopes that make them; the
//! limits live in the document state but are computed from the network state's membership log,
//! so settling them is an `impl Replica` coordinator.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use puente_crdt::automerge::{Change, ChangeHash};
use puente_crdt::{OrgId, Touched};
use serde::{Deserialize, Serialize};

use super::{Replica, ReplicaError, decode_json, encode_json, signed_changes};
use crate::envelope::admission::Accepted;
use crate::envelope::format::Envelope;
use crate::identity::PublicKey;
use crate::membership::{MemberState, WriteLimit};
use crate::store::WriteBatch;

/// Sealed record: the claims, and the revocations they were collected for.
pub(super) const REC_WRITE_LIMITS: &str = "write-limits";

/// A revoked key: its organisation and its cut.
type Revoked = BTreeMap<PublicKey, (OrgId, u64)>;

/// One accepted envelope naming a revoked key's envelopes beyond its cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct Claim {
    /// The revoked key whose envelopes are built on.
    target: PublicKey,
    /// Up to which of its sequence numbers.
    target_seq: u64,
    /// The partition of the claiming envelope.
    partition: OrgId,
    /// The key that signed the claiming envelope.
    claimer: PublicKey,
    /// That envelope's sequence number.
    claimer_seq: u64,
}

/// The write limits a replica holds (see the module documentation).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Limits {
    /// The revocations `claims` was collected for.
    revoked: Vec<(PublicKey, OrgId, u64)>,
    claims: BTreeSet<Claim>,
    /// Per revoked key, its limit: derived, not stored.
    #[serde(skip)]
    pub(super) caps: BTreeMap<PublicKey, u64>,
}

impl Limits {
    /// The record as stored, or nothing yet.
    pub(super) fn decode(bytes: Option<&[u8]>) -> Result<Limits, ReplicaError> {
        match bytes {
            Some(bytes) => decode_json(bytes, "write limits"),
            None => Ok(Limits::default()),
        }
    }

    /// The limits `state` and the stored claims give (start-up, before replay).
    pub(super) fn computed(&self, state: &MemberState) -> BTreeMap<PublicKey, u64> {
        compute_caps(state, &revoked_of(state), &self.claims)
    }

    /// The sequence numbers of `author`'s envelopes that count, at most: `None` for a key
    /// that is not revoked.
    pub(super) fn cap(&self, author: &PublicKey) -> Option<u64> {
        self.caps.get(author).copied()
    }
}

/// The organisation of every device key `state` knows, member or revoked.
pub(super) fn device_orgs(state: &MemberState) -> std::collections::HashMap<PublicKey, OrgId> {
    state
        .devices()
        .into_iter()
        .chain(state.revoked_devices())
        .map(|d| (d.key, d.org))
        .collect()
}

/// Every revoked device key of `state` with its organisation and cut.
fn revoked_of(state: &MemberState) -> Revoked {
    state
        .revoked_devices()
        .into_iter()
        .filter_map(|d| match state.write_limit(&d.key, &d.org) {
            WriteLimit::Revoked { cut } => Some((d.key, (d.org, cut))),
            _ => None,
        })
        .collect()
}

/// The limits: the least fixed point described in the module documentation.
fn compute_caps(
    state: &MemberState,
    revoked: &Revoked,
    claims: &BTreeSet<Claim>,
) -> BTreeMap<PublicKey, u64> {
    let mut caps: BTreeMap<PublicKey, u64> =
        revoked.iter().map(|(k, (_, cut))| (*k, *cut)).collect();
    loop {
        let mut raised = false;
        for c in claims {
            let Some((org, _)) = revoked.get(&c.target) else {
                continue;
            };
            if *org != c.partition || c.claimer == c.target {
                continue;
            }
            let counts = match revoked.get(&c.claimer) {
                Some((claimer_org, _)) => {
                    *claimer_org == c.partition
                        && caps
                            .get(&c.claimer)
                            .is_some_and(|cap| c.claimer_seq <= *cap)
                }
                None => state.write_limit(&c.claimer, &c.partition) == WriteLimit::Member,
            };
            if counts && caps.get(&c.target).is_some_and(|cap| c.target_seq > *cap) {
                caps.insert(c.target, c.target_seq);
                raised = true;
            }
        }
        if !raised {
            return caps;
        }
    }
}

/// The claims `env` (accepted, with body `opened`) makes about `revoked` keys.
fn claims_of<'a>(
    env: &'a Envelope,
    builds_on: &'a BTreeMap<PublicKey, u64>,
    revoked: &'a Revoked,
) -> impl Iterator<Item = Claim> + 'a {
    builds_on.iter().filter_map(move |(target, seq)| {
        let (_, cut) = revoked.get(target)?;
        (*seq > *cut).then_some(Claim {
            target: *target,
            target_seq: *seq,
            partition: env.partition(),
            claimer: env.author(),
            claimer_seq: env.seq(),
        })
    })
}

impl Replica {
    /// Whether any revoked key's limit applies at all (a network with a revocation).
    fn revoked_now(&self) -> Revoked {
        self.net
            .membership
            .as_ref()
            .map(|log| revoked_of(log.state()))
            .unwrap_or_default()
    }

    /// Adds to `batch` the claims that `accepted` envelopes make, when they make any; returns
    /// whether they did (the limits must then be settled after the batch commits).
    pub(super) fn record_claims(&mut self, accepted: &[Accepted], batch: &mut WriteBatch) -> bool {
        if self.doc.limits.caps.is_empty() || accepted.iter().all(|(_, o)| o.builds_on.is_empty()) {
            return false;
        }
        let revoked = self.revoked_now();
        let before = self.doc.limits.claims.len();
        for (env, opened) in accepted {
            self.doc
                .limits
                .claims
                .extend(claims_of(env, &opened.builds_on, &revoked));
        }
        if self.doc.limits.claims.len() == before {
            return false;
        }
        batch.put_record(REC_WRITE_LIMITS, &encode_json(&self.doc.limits));
        true
    }

    /// When the set of revoked keys changed, collects the claims again and puts the
    /// write-limits record into `batch` (whether it did), so that the caller can make it durable
    /// with the membership change that caused it. The limits in memory change at once: if the
    /// batch is not committed, the replica must refuse further work.
    pub(super) fn stage_limits(&mut self, batch: &mut WriteBatch) -> Result<bool, ReplicaError> {
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(false);
        };
        let revoked = revoked_of(log.state());
        let listed: Vec<(PublicKey, OrgId, u64)> =
            revoked.iter().map(|(k, (o, c))| (*k, *o, *c)).collect();
        if listed == self.doc.limits.revoked {
            return Ok(false);
        }
        self.doc.limits.claims = self.scan_claims(&revoked)?;
        self.doc.limits.revoked = listed;
        batch.put_record(REC_WRITE_LIMITS, &encode_json(&self.doc.limits));
        Ok(true)
    }

    /// Brings the limits up to date with the membership log and the claims, and every
    /// partition in line with them (see the module documentation). `all` settles every revoked
    /// key, not only those whose limit changed (start-up: the local snapshot may predate a
    /// change whose follow-up did not finish).
    pub(super) fn enforce_limits(&mut self, all: bool) -> Result<(), ReplicaError> {
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(());
        };
        let revoked = revoked_of(log.state());
        let mut batch = WriteBatch::default();
        if self.stage_limits(&mut batch)? {
            self.commit_or_poison(batch)?;
        }
        let mut settle_all = all;
        let mut rebuilt = false;
        loop {
            let state = self
                .net
                .membership
                .as_ref()
                .ok_or(ReplicaError::Damaged("membership"))?
                .state();
            let caps = compute_caps(state, &revoked, &self.doc.limits.claims);
            let changed: Vec<PublicKey> = revoked
                .keys()
                .filter(|k| settle_all || caps.get(*k) != self.doc.limits.caps.get(*k))
                .copied()
                .collect();
            self.doc.limits.caps = caps;
            if changed.is_empty() {
                break;
            }
            settle_all = false;
            for key in changed {
                let (org, cut) = revoked[&key];
                rebuilt |= self.settle(key, org, cut)?;
            }
        }
        if rebuilt {
            // The rebuilt partitions are durable only in a local snapshot: the log still holds
            // the envelopes taken out (start-up replays after the snapshot, within the limits).
            self.snapshot()?;
        }
        Ok(())
    }

    /// Opens the log envelopes of every organisation with a revoked key and collects the
    /// claims they make.
    fn scan_claims(&self, revoked: &Revoked) -> Result<BTreeSet<Claim>, ReplicaError> {
        let orgs: BTreeSet<OrgId> = revoked.values().map(|(org, _)| *org).collect();
        let mut claims = BTreeSet::new();
        if orgs.is_empty() {
            return Ok(claims);
        }
        let owners = self
            .net
            .membership
            .as_ref()
            .map(|log| device_orgs(log.state()))
            .unwrap_or_default();
        let mut indices: Vec<u64> = self
            .doc
            .log_index
            .iter()
            .filter(|((author, _), _)| owners.get(author).is_some_and(|o| orgs.contains(o)))
            .map(|(_, index)| *index)
            .collect();
        indices.sort_unstable();
        for index in indices {
            let Some(bytes) = self.store.read_log_entry(index)? else {
                continue;
            };
            let env = Envelope::from_bytes(&bytes).map_err(|_| ReplicaError::Damaged("log"))?;
            // An envelope that no longer opens was quarantined or never applied: no claim.
            if let Ok(opened) = env.open_body(&self.net.keys) {
                claims.extend(claims_of(&env, &opened.builds_on, revoked));
            }
        }
        Ok(claims)
    }

    /// Makes `key`'s partition hold exactly its envelopes up to its limit: releases buffered
    /// ones within it, applies logged ones within it again (a no-op for those already there),
    /// and rebuilds the partition without logged ones beyond it. Returns whether a partition
    /// was rebuilt.
    fn settle(&mut self, key: PublicKey, org: OrgId, cut: u64) -> Result<bool, ReplicaError> {
        let cap = self.doc.limits.cap(&key).unwrap_or(cut);
        // Waiting in the buffer and within the limit now.
        let writers = self.net.writers(&self.doc.limits.caps);
        let released = self.doc.admission.release(&key, &writers);
        if !released.is_empty() {
            self.accept(released)?;
        }
        let accepted = self.doc.admission.next_seq(&key).saturating_sub(1);
        if accepted <= cut {
            return Ok(false);
        }
        let mut within: Vec<Change> = Vec::new();
        let mut beyond: HashSet<ChangeHash> = HashSet::new();
        for seq in cut + 1..=accepted {
            let Some(&index) = self.doc.log_index.get(&(key, seq)) else {
                continue;
            };
            let Some(bytes) = self.store.read_log_entry(index)? else {
                continue;
            };
            let env = Envelope::from_bytes(&bytes).map_err(|_| ReplicaError::Damaged("log"))?;
            let Some(changes) = env
                .open(&self.net.keys)
                .ok()
                .and_then(|c| signed_changes(&key, c))
            else {
                continue;
            };
            if seq <= cap {
                within.extend(changes);
            } else {
                beyond.extend(changes.iter().map(Change::hash));
            }
        }
        let p = self.doc.partitions.get_mut(org)?;
        if !within.is_empty()
            && let Ok(t) = p.apply_changes(within)
        {
            self.doc.view.refresh(p, &t);
        }
        if beyond.is_empty() {
            return Ok(false);
        }
        let had_queue = p.has_queued();
        let taken = p.rebuild_without(&beyond)?;
        if taken == 0 {
            return Ok(false);
        }
        tracing::info!(
            changes = taken,
            "took out changes of a revoked device beyond its cut"
        );
        // The rebuilt document starts with an empty queue: changes that were waiting for
        // dependencies are found again in the log.
        if had_queue {
            self.reapply_all(org)?;
        }
        let p = self.doc.partitions.get_mut(org)?;
        self.doc.view.refresh(
            p,
            &Touched {
                all: true,
                ..Touched::default()
            },
        );
        Ok(true)
    }
}
