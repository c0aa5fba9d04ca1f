//! What a party could read (issue 4 §3), worked out from the envelopes themselves rather than
//! from the times records claim: a party holding an epoch key can open every envelope sealed
//! under it that reaches it, so every record with content in such an envelope is exposed. An
//! envelope sealed under a later key (after the rotation that left the party out) is not.
//!
//! What cannot be attributed record by record is counted whole: a partition received as a
//! snapshot (its envelopes are not kept one by one) or a change whose operations do not name a
//! record. The report errs on the side of listing too much, never too little.
//!
//! Invariant: the report is derived from the envelopes in the log and the epoch keys sealed to
//! the party in the membership log, never from the times records claim.
//! Boundary: reads only. It coordinates both halves of the replica (the network state's keys and
//! log, the document state's log index) and the store's log, so it stays an `impl Replica`.

use std::collections::{BTreeMap, BTreeSet};

use puente_crdt::automerge::Change;
use puente_crdt::{HoldId, OfferId, OrgId};

use super::{Replica, ReplicaError, signed_changes};
use crate::envelope::format::Envelope;
use crate::identity::PublicKey;
use crate::keys::Epoch;

/// The records a party could read (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The epochs whose keys were sealed to one of the party's devices.
    pub epochs: Vec<Epoch>,
    /// Offers, by owner, with content in an envelope sealed under one of those epochs.
    pub offers: BTreeSet<(OrgId, OfferId)>,
    /// Holds, by the organisation that placed them, likewise.
    pub holds: BTreeSet<(OrgId, HoldId)>,
    /// Organisations whose records all count: part of their partition came in a snapshot
    /// under an exposed epoch, or a change could not be attributed to records.
    pub whole: BTreeSet<OrgId>,
}

impl Exposure {
    /// Whether the offer `id` of `owner` is exposed.
    pub fn offer(&self, owner: OrgId, id: OfferId) -> bool {
        self.whole.contains(&owner) || self.offers.contains(&(owner, id))
    }

    /// Whether the hold `id` placed by `requester` is exposed.
    pub fn hold(&self, requester: OrgId, id: HoldId) -> bool {
        self.whole.contains(&requester) || self.holds.contains(&(requester, id))
    }
}

impl Replica {
    /// What the devices `party` could read of what this node holds: the records with content
    /// in envelopes sealed under an epoch key that was sealed to one of them. The party's own
    /// envelopes are left out (it wrote them). Opens every such envelope of the log, so it
    /// costs about what start-up replay of the same envelopes does.
    pub fn exposure(&mut self, party: &[PublicKey]) -> Result<Exposure, ReplicaError> {
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(Exposure::default());
        };
        let state = log.state();
        let epochs: Vec<Epoch> = state
            .epochs()
            .into_iter()
            .filter(|e| e.recipients.iter().any(|r| party.contains(r)))
            .map(|e| e.epoch)
            .collect();
        let mut out = Exposure {
            epochs,
            ..Exposure::default()
        };
        if out.epochs.is_empty() {
            return Ok(out);
        }
        // Authors some of whose envelopes came inside a snapshot: their first one is not in
        // the log. The snapshot's envelopes cannot be told apart, so the partition counts whole.
        let owners = super::limits::device_orgs(state);
        for author in self.doc.admission.version_vector().keys() {
            if !party.contains(author)
                && !self.doc.log_index.contains_key(&(*author, 1))
                && let Some(org) = owners.get(author)
            {
                out.whole.insert(*org);
            }
        }
        let mut indices: Vec<u64> = self
            .doc
            .log_index
            .iter()
            .filter(|((author, seq), _)| !party.contains(author) && self.doc.counts(author, *seq))
            .map(|(_, index)| *index)
            .collect();
        indices.sort_unstable();
        let mut changes: BTreeMap<OrgId, Vec<Change>> = BTreeMap::new();
        for index in indices {
            let Some(bytes) = self.store.read_log_entry(index)? else {
                continue;
            };
            let env = Envelope::from_bytes(&bytes).map_err(|_| ReplicaError::Damaged("log"))?;
            if !out.epochs.contains(&env.epoch()) {
                continue;
            }
            // One that does not open or decode was quarantined: it changed no record.
            if let Some(decoded) = env
                .open(&self.net.keys)
                .ok()
                .and_then(|c| signed_changes(&env.author(), c))
            {
                changes.entry(env.partition()).or_default().extend(decoded);
            }
        }
        for (org, list) in changes {
            if out.whole.contains(&org) {
                continue;
            }
            let touched = self.doc.partitions.get_mut(org)?.touched_by(&list);
            if touched.all {
                out.whole.insert(org);
                continue;
            }
            out.offers
                .extend(touched.offers.iter().map(|id| (org, *id)));
            out.holds.extend(touched.holds.iter().map(|id| (org, *id)));
        }
        Ok(out)
    }
}
