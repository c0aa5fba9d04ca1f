//! One organisation's partition of the shared document: an automerge document that only that
//! organisation's keys write, holding its profile, its offers, the holds it places on partners'
//! offers and its decisions on holds placed on its own offers.
//!
//! Layout (schema 1), all keys at the root so that no two devices ever race to create a shared
//! container (in automerge, two concurrent creations of the same map would hide one of them):
//!
//! ```text
//! schema             uint 1
//! profile            map  {name, counties, kinds, intake, tz}
//! offer:<offer id>   map  {kind, handle, subject, counties, zone?, languages, accepts, affirming,
//!                          accessibility, household, capabilities, unit, lead_time?, max_stay?,
//!                          vetting, status, label, bond_band?, post_within?, created_at,
//!                          last_confirmed_at, expires_at, withdrawn?,
//!                          win:<window id> map {start, end, tz, weekly, total, cancelled?}}
//! hold:<hold id>     map  {owner, offer, window, qty, from, to, created_at, expires_at, released?}
//! decision:<hold id> str  "confirmed" | "declined"
//! ```
//!
//! Set-valued fields are stored as one `;`-joined string each: one operation per field keeps a
//! 100k-offer document small and fast to load, and within one organisation's partition the only
//! concurrent writers are its own devices, for whom last-writer-wins per field is the right
//! merge. One-way flags (`withdrawn`, `cancelled`, `released`) are only ever written as `true`
//! and read as "true if any concurrent value is true", so no concurrent edit can undo them.
//! `last_confirmed_at` and `expires_at` read as the latest of concurrent values; concurrent
//! decisions on one hold read as `declined` if any device declined.
//!
//! Reading is total: a record that does not parse (a hostile or newer writer) is reported as a
//! [`RecordIssue`] and skipped, never a panic.
//!
//! This module does no I/O and reads no clock or random source: ids and times are passed in.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

use automerge::iter::{DocItem, MapRangeItem};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{
    ActorId, AutoCommit, Change, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue,
    ScalarValueRef, Value, ValueRef, transaction::Transactable,
};

use crate::ids::{HoldId, OfferId, OrgId, WindowId};
use crate::schema::{
    Hold, NewOffer, NewWindow, Offer, OfferFields, OfferPatch, OrgProfile, Rule, SchemaError,
    Window, join_list, parse_list,
};
use crate::time::Time;
use crate::vocab::Decision;

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u64 = 1;

/// A call to [`Partition::apply_changes`] whose applied changes hold at least 1/`BULK_SHARE`
/// of the document's operations reports [`Touched::all`] instead of attributing them. Measured
/// with `benches/apply.rs` (10k offers, about 25 operations each): attributing costs about
/// 0.45 µs per operation (automerge's `Change::decode`), an incremental view refresh about
/// 20 µs per touched record, a full one about 18 µs per record. A batch of new offers that is
/// half of the document costs about the same either way; a smaller one is cheaper attributed.
/// (The full read has since become one pass over the document, about 9 µs per record in the
/// issue 3 benchmark, which favours `Touched::all` somewhat more; the share was not measured
/// again.)
const BULK_SHARE: u64 = 2;

const OFFER: &str = "offer:";
const HOLD: &str = "hold:";
const DECISION: &str = "decision:";
const WINDOW: &str = "win:";

/// Why an operation on a partition failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionError {
    /// The record asked for is not in this partition.
    #[error("no {what} with id {id} in this organisation's records")]
    NotFound {
        /// Offer, hold or window.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The record exists but may no longer change (withdrawn offer, released hold).
    #[error("{0}")]
    Final(String),
    /// The new values break a schema rule.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// Automerge refused the bytes or the operation.
    #[error("document error: {0}")]
    Doc(#[from] automerge::AutomergeError),
    /// A change could not be decoded.
    #[error("change could not be decoded: {0}")]
    Change(#[from] automerge::LoadChangeError),
    /// A stored record does not parse.
    #[error("record {key} is malformed: {reason}")]
    Malformed {
        /// Its root key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// A record that could not be read, reported instead of failing the whole read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordIssue {
    /// The root key of the record.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Which records a set of changes touched, so that derived views update only those.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Everything may have changed (first load, or a change that could not be attributed).
    pub all: bool,
    /// The profile changed.
    pub profile: bool,
    /// Offers that changed.
    pub offers: BTreeSet<OfferId>,
    /// Holds that changed.
    pub holds: BTreeSet<HoldId>,
    /// Decisions that changed.
    pub decisions: BTreeSet<HoldId>,
}

impl Touched {
    /// Everything.
    pub fn all() -> Self {
        Touched {
            all: true,
            ..Touched::default()
        }
    }

    /// Adds the record behind a root key.
    fn root_key(&mut self, key: &str) {
        if key == "profile" {
            self.profile = true;
        } else if let Some(id) = key.strip_prefix(OFFER).and_then(|s| s.parse().ok()) {
            self.offers.insert(id);
        } else if let Some(id) = key.strip_prefix(HOLD).and_then(|s| s.parse().ok()) {
            self.holds.insert(id);
        } else if let Some(id) = key.strip_prefix(DECISION).and_then(|s| s.parse().ok()) {
            self.decisions.insert(id);
        } else if key != "schema" {
            // A key no record owns (malformed, or written by a newer version): re-read the
            // whole partition so that it is reported the same way a full read reports it.
            self.all = true;
        }
    }

    /// Merges another set into this one.
    pub fn extend(&mut self, other: Touched) {
        self.all |= other.all;
        self.profile |= other.profile;
        self.offers.extend(other.offers);
        self.holds.extend(other.holds);
        self.decisions.extend(other.decisions);
    }

    /// Whether nothing was touched.
    pub fn is_empty(&self) -> bool {
        !self.all
            && !self.profile
            && self.offers.is_empty()
            && self.holds.is_empty()
            && self.decisions.is_empty()
    }
}

/// Everything a partition holds, read in one pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contents {
    /// The profile, if one was written.
    pub profile: Option<OrgProfile>,
    /// Offers.
    pub offers: Vec<Offer>,
    /// Holds this organisation placed.
    pub holds: Vec<Hold>,
    /// Decisions this organisation made on holds on its offers.
    pub decisions: Vec<(HoldId, Decision)>,
    /// Records that did not parse.
    pub issues: Vec<RecordIssue>,
}

/// One organisation's partition.
#[derive(Debug, Clone)]
pub struct Partition {
    org: OrgId,
    doc: AutoCommit,
}

impl Partition {
    /// An empty partition written by the device with automerge actor `actor` (the node uses the
    /// device's public key, so a change's actor is bound to the key that signed it).
    pub fn new(org: OrgId, actor: &[u8]) -> Self {
        let doc = AutoCommit::new().with_actor(ActorId::from(actor));
        Partition { org, doc }
    }

    /// Loads a saved partition.
    pub fn load(org: OrgId, bytes: &[u8], actor: &[u8]) -> Result<Self, PartitionError> {
        let doc = AutoCommit::load(bytes)?.with_actor(ActorId::from(actor));
        Ok(Partition { org, doc })
    }

    /// The owning organisation.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The whole document with no DEFLATE-compressed column (what a signed partition snapshot
    /// carries, so that a receiver can refuse compressed input instead of inflating it).
    pub fn save_nocompress(&mut self) -> Vec<u8> {
        self.doc.save_nocompress()
    }

    /// The current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Read access to the automerge document (for statistics and tests).
    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    /// Ends the pending local transaction and returns its change as uncompressed bytes (the
    /// form envelopes carry), or `None` when nothing was written.
    pub fn commit(&mut self) -> Option<Vec<u8>> {
        self.doc.commit()?;
        self.doc
            .get_last_local_change()
            .map(|c| c.raw_bytes().to_vec())
    }

    /// Every change in the document, in causal order, as uncompressed bytes (the form envelopes
    /// carry). Used when a node's local history is re-sealed for the network it joins.
    pub fn all_changes(&mut self) -> Vec<Vec<u8>> {
        self.doc.commit();
        self.doc
            .get_changes(&[])
            .into_iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    /// Discards the pending local transaction.
    pub fn rollback(&mut self) {
        self.doc.rollback();
    }

    /// Applies changes received from elsewhere (already verified by the caller: signed by a key
    /// of this organisation). Returns what they touched.
    ///
    /// What was touched is read from the operations of the changes this call applied (those
    /// passed in that were new, and queued ones whose dependencies they brought), not from
    /// patches: a value that loses a conflict produces no patch, yet rules like "declined wins"
    /// and "latest expiry" read every concurrent value, so the record must be re-read anyway.
    /// When those changes are a large share of the document (a partner receiving everything),
    /// the answer is [`Touched::all`] without looking at their operations: reading the whole
    /// partition once costs less than working out which of most of its records changed.
    pub fn apply_changes(&mut self, changes: Vec<Change>) -> Result<Touched, PartitionError> {
        let (touched, mut results) = self.apply_change_sets(vec![changes]);
        results.pop().unwrap_or(Ok(())).map(|()| touched)
    }

    /// Applies several sets of changes (for example, the changes of several envelopes) as one
    /// call to automerge and attributes them once; returns what they touched together and, per
    /// set, whether it applied. Automerge applies a batch all or nothing, so when the combined
    /// call fails each set is applied on its own (changes already applied are skipped by hash),
    /// and a set that fails leaves the others applied, as separate calls would. The partition
    /// ends in the same state as one [`Partition::apply_changes`] call per set, and the
    /// returned [`Touched`] covers everything those calls would have reported.
    pub fn apply_change_sets(
        &mut self,
        sets: Vec<Vec<Change>>,
    ) -> (Touched, Vec<Result<(), PartitionError>>) {
        // Not `commit()`: with no transaction open it opens one, which enters this device's
        // actor into the document and takes it out again, and each rewrites every operation
        // column (13 ms per call at 10k offers on a partner whose device never wrote here).
        // `get_heads` closes (commits) a pending local transaction, which is what is needed.
        let before = self.doc.get_heads();
        let changes_before = self.doc.stats().num_changes;
        let all_at_once = self.doc.apply_changes(sets.iter().flatten().cloned());
        let results: Vec<Result<(), PartitionError>> = match all_at_once {
            Ok(()) => sets.iter().map(|_| Ok(())).collect(),
            Err(e) if sets.len() == 1 => vec![Err(e.into())],
            Err(_) => sets
                .iter()
                .map(|set| {
                    self.doc
                        .apply_changes(set.iter().cloned())
                        .map_err(PartitionError::from)
                })
                .collect(),
        };
        let stats = self.doc.stats();
        let touched = if stats.num_changes == changes_before {
            Touched::default()
        } else if before.is_empty() {
            Touched::all()
        } else {
            self.touched_since(&before, sets.iter().flatten(), stats.num_ops)
        };
        (touched, results)
    }

    /// Whether changes wait in the document for dependencies it does not hold yet: automerge
    /// queues them, and a saved document leaves them out.
    pub fn has_queued(&mut self) -> bool {
        !self.doc.get_missing_deps(&[]).is_empty()
    }

    /// The records `changes` touched, attributed as [`Partition::apply_changes`] does; the
    /// changes must be in this document, given in the order they were applied. For an audit of
    /// what a set of envelopes revealed.
    pub fn touched_by<'a>(&self, changes: impl IntoIterator<Item = &'a Change>) -> Touched {
        let mut roots = Roots::default();
        let mut t = Touched::default();
        for change in changes {
            roots.attribute(&self.doc, change, &mut t);
        }
        t
    }

    /// Takes the changes `drop` out of the document, with every change that depends on one of
    /// them (directly or through others), by rebuilding it from the rest; returns how many
    /// changes were taken out. A change in `drop` that the document does not hold is ignored.
    /// The node uses this when envelopes of a revoked key it had applied turn out to lie beyond
    /// the key's limit. Costs a rebuild of the whole partition; rare by design.
    pub fn rebuild_without(&mut self, drop: &HashSet<ChangeHash>) -> Result<usize, PartitionError> {
        // Cheap first: none of them in the document (already taken out) means nothing to do.
        let wanted: Vec<ChangeHash> = drop.iter().copied().collect();
        let missing: HashSet<ChangeHash> = self.doc.get_missing_deps(&wanted).into_iter().collect();
        if wanted.iter().all(|h| missing.contains(h)) {
            return Ok(0);
        }
        let all = self.doc.get_changes(&[]);
        let mut gone: HashSet<ChangeHash> = HashSet::new();
        // Dependencies come before their dependents in automerge's history, but the closure is
        // computed to a fixed point so that nothing relies on that order.
        loop {
            let before = gone.len();
            for change in &all {
                let hash = change.hash();
                if !gone.contains(&hash)
                    && (drop.contains(&hash) || change.deps().iter().any(|d| gone.contains(d)))
                {
                    gone.insert(hash);
                }
            }
            if gone.len() == before {
                break;
            }
        }
        if gone.is_empty() {
            return Ok(0);
        }
        let keep: Vec<Change> = all
            .into_iter()
            .filter(|c| !gone.contains(&c.hash()))
            .collect();
        let mut doc = AutoCommit::new().with_actor(self.doc.get_actor().clone());
        doc.apply_changes(keep)?;
        self.doc = doc;
        Ok(gone.len())
    }

    /// A new document holding only what this one reads as now, written by `actor`, with none of
    /// its history: for erasing history (the node re-bases every partition on such a copy and
    /// forgets the old one). The copy is committed in changes of at most `records_per_change`
    /// root records each (a partition of 100,000 offers would otherwise be one change larger
    /// than any envelope), returned in order as the bytes envelopes carry.
    ///
    /// Concurrent values are resolved as reading resolves them, so the copy reads the same:
    /// one-way flags are true if any value is, `last_confirmed_at` and `expires_at` are the
    /// latest value, a decision is `declined` if any value is; any other field keeps the value
    /// automerge shows. Objects other than maps (no writer of schema 1 makes them) are left out.
    pub fn rebased(
        &self,
        actor: &[u8],
        records_per_change: usize,
    ) -> Result<(Partition, Vec<Vec<u8>>), PartitionError> {
        let mut fresh = Partition::new(self.org, actor);
        let mut changes = Vec::new();
        let mut in_change = 0;
        for item in self.doc.map_range(ROOT, ..) {
            copy_entry(&self.doc, &ROOT, &item, &mut fresh.doc, &ROOT)?;
            in_change += 1;
            if in_change >= records_per_change.max(1) {
                changes.extend(fresh.commit());
                in_change = 0;
            }
        }
        changes.extend(fresh.commit());
        Ok((fresh, changes))
    }

    /// What the changes applied since `before` touched. `pool` holds the changes passed in;
    /// an applied change that is not among them (one automerge had queued until its
    /// dependencies arrived) is fetched from the document. `doc_ops` is the document's number of
    /// operations.
    fn touched_since<'a>(
        &mut self,
        before: &[ChangeHash],
        pool: impl Iterator<Item = &'a Change>,
        doc_ops: u64,
    ) -> Touched {
        // Only hashes and operation counts: this reads automerge's change graph, not its
        // operations (`get_changes` would rebuild every change from the operation columns).
        let applied: Vec<(ChangeHash, u64)> = self
            .doc
            .get_changes_meta(before)
            .into_iter()
            .map(|m| (m.hash, (m.max_op + 1).saturating_sub(m.start_op)))
            .collect();
        let new_ops: u64 = applied.iter().map(|(_, n)| n).sum();
        if new_ops.saturating_mul(BULK_SHARE) >= doc_ops {
            return Touched::all();
        }
        let pool: HashMap<ChangeHash, &Change> = pool.map(|c| (c.hash(), c)).collect();
        let mut roots = Roots::default();
        let mut t = Touched::default();
        for (hash, _) in applied {
            match pool.get(&hash) {
                Some(change) => roots.attribute(&self.doc, change, &mut t),
                None => match self.doc.get_change_by_hash(&hash) {
                    Some(change) => roots.attribute(&self.doc, &change, &mut t),
                    None => t.all = true,
                },
            }
            if t.all {
                break;
            }
        }
        t
    }

    /// Writes the schema version and the profile.
    pub fn set_profile(&mut self, profile: &OrgProfile) -> Result<Touched, PartitionError> {
        let mut p = profile.clone();
        p.validate()?;
        if self.doc.get(ROOT, "schema")?.is_none() {
            self.doc.put(ROOT, "schema", SCHEMA_VERSION)?;
        }
        let obj = match self.doc.get(ROOT, "profile")? {
            Some((Value::Object(ObjType::Map), id)) => id,
            _ => self.doc.put_object(ROOT, "profile", ObjType::Map)?,
        };
        put_if_changed(&mut self.doc, &obj, "name", p.name.as_str())?;
        put_if_changed(
            &mut self.doc,
            &obj,
            "counties",
            join_list(&p.counties).as_str(),
        )?;
        put_if_changed(&mut self.doc, &obj, "kinds", join_list(&p.kinds).as_str())?;
        put_if_changed(&mut self.doc, &obj, "intake", p.intake.as_str())?;
        put_if_changed(&mut self.doc, &obj, "tz", p.tz.as_str())?;
        Ok(Touched {
            profile: true,
            ..Touched::default()
        })
    }

    /// Adds an offer. `window_ids` gives one fresh id per window of `offer`.
    pub fn add_offer(
        &mut self,
        id: OfferId,
        offer: &NewOffer,
        window_ids: &[WindowId],
        now: Time,
    ) -> Result<Touched, PartitionError> {
        let mut offer = offer.clone();
        offer.validate()?;
        if window_ids.len() != offer.windows.len() {
            return Err(SchemaError::Invalid("one window id is needed per window".into()).into());
        }
        let key = format!("{OFFER}{id}");
        if self.doc.get(ROOT, key.as_str())?.is_some() {
            return Err(PartitionError::Final(format!("offer {id} already exists")));
        }
        let obj = self.doc.put_object(ROOT, key.as_str(), ObjType::Map)?;
        write_fields(&mut self.doc, &obj, &offer.fields, true)?;
        self.doc.put(&obj, "created_at", now.0)?;
        self.doc.put(&obj, "last_confirmed_at", now.0)?;
        self.doc.put(&obj, "expires_at", offer.expiry_from(now).0)?;
        for (w, wid) in offer.windows.iter().zip(window_ids) {
            write_window(&mut self.doc, &obj, *wid, w)?;
        }
        Ok(touched_offer(id))
    }

    fn offer_obj(&self, id: OfferId) -> Result<ObjId, PartitionError> {
        match self.doc.get(ROOT, format!("{OFFER}{id}"))? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(PartitionError::NotFound {
                what: "offer",
                id: id.to_string(),
            }),
        }
    }

    /// Reads one offer.
    pub fn offer(&self, id: OfferId) -> Result<Offer, PartitionError> {
        let obj = self.offer_obj(id)?;
        read_offer(&self.doc, &obj, id, self.org).map_err(|reason| PartitionError::Malformed {
            key: format!("{OFFER}{id}"),
            reason,
        })
    }

    /// Changes an offer. Refused once it is withdrawn (withdrawal is final: make a new offer).
    pub fn update_offer(
        &mut self,
        id: OfferId,
        patch: &OfferPatch,
        new_window_ids: &[WindowId],
        now: Time,
    ) -> Result<Touched, PartitionError> {
        let current = self.offer(id)?;
        if current.withdrawn {
            return Err(PartitionError::Final(format!(
                "offer {id} is withdrawn and cannot change; publish a new offer instead"
            )));
        }
        let fields = patch.apply_to(&current.fields)?;
        if new_window_ids.len() != patch.add_windows.len() {
            return Err(SchemaError::Invalid("one window id is needed per window".into()).into());
        }
        // Windows live after the change: the ones it cancels no longer count.
        let live = current
            .windows
            .iter()
            .filter(|w| !w.cancelled && !patch.cancel_windows.contains(&w.id))
            .count();
        if live + patch.add_windows.len() > crate::schema::MAX_WINDOWS_PER_OFFER {
            return Err(SchemaError::from(Rule::TooManyWindowsAfterChange).into());
        }
        for wid in &patch.cancel_windows {
            if !current.windows.iter().any(|w| w.id == *wid) {
                return Err(PartitionError::NotFound {
                    what: "window",
                    id: wid.to_string(),
                });
            }
        }
        let obj = self.offer_obj(id)?;
        write_fields(&mut self.doc, &obj, &fields, false)?;
        for (w, wid) in patch.add_windows.iter().zip(new_window_ids) {
            write_window(&mut self.doc, &obj, *wid, w)?;
        }
        for wid in &patch.cancel_windows {
            if let Some((Value::Object(ObjType::Map), wobj)) =
                self.doc.get(&obj, format!("{WINDOW}{wid}"))?
            {
                self.doc.put(&wobj, "cancelled", true)?;
            }
        }
        if let Some(secs) = patch.expires_in {
            self.doc.put(&obj, "expires_at", now.plus(secs).0)?;
            self.doc.put(&obj, "last_confirmed_at", now.0)?;
        }
        Ok(touched_offer(id))
    }

    /// Withdraws an offer: one-way.
    pub fn withdraw_offer(&mut self, id: OfferId) -> Result<Touched, PartitionError> {
        let obj = self.offer_obj(id)?;
        self.doc.put(&obj, "withdrawn", true)?;
        Ok(touched_offer(id))
    }

    /// Renews freshness and expiry: `last_confirmed_at = now`, `expires_at = now + expires_in`
    /// (the kind's default when `None`).
    pub fn confirm_offer(
        &mut self,
        id: OfferId,
        now: Time,
        expires_in: Option<i64>,
    ) -> Result<Touched, PartitionError> {
        let current = self.offer(id)?;
        if current.withdrawn {
            return Err(PartitionError::Final(format!(
                "offer {id} is withdrawn and cannot be confirmed; publish a new offer instead"
            )));
        }
        let obj = self.offer_obj(id)?;
        let secs = expires_in.unwrap_or(current.fields.kind.default_expiry_secs());
        self.doc.put(&obj, "last_confirmed_at", now.0)?;
        self.doc.put(&obj, "expires_at", now.plus(secs).0)?;
        Ok(touched_offer(id))
    }

    /// Places a hold (this partition is the requester's).
    pub fn place_hold(&mut self, hold: &Hold) -> Result<Touched, PartitionError> {
        if hold.requester != self.org {
            return Err(
                SchemaError::Invalid("a hold lives in the requester's partition".into()).into(),
            );
        }
        hold.validate()?;
        let key = format!("{HOLD}{}", hold.id);
        if self.doc.get(ROOT, key.as_str())?.is_some() {
            return Err(PartitionError::Final(format!(
                "hold {} already exists",
                hold.id
            )));
        }
        let obj = self.doc.put_object(ROOT, key.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "owner", hold.owner.to_string())?;
        self.doc.put(&obj, "offer", hold.offer.to_string())?;
        self.doc.put(&obj, "window", hold.window.to_string())?;
        self.doc.put(&obj, "qty", u64::from(hold.qty))?;
        self.doc.put(&obj, "from", hold.from.0)?;
        self.doc.put(&obj, "to", hold.to.0)?;
        self.doc.put(&obj, "created_at", hold.created_at.0)?;
        self.doc.put(&obj, "expires_at", hold.expires_at.0)?;
        let mut t = Touched::default();
        t.holds.insert(hold.id);
        Ok(t)
    }

    /// Releases a hold this organisation placed: one-way.
    pub fn release_hold(&mut self, id: HoldId) -> Result<Touched, PartitionError> {
        match self.doc.get(ROOT, format!("{HOLD}{id}"))? {
            Some((Value::Object(ObjType::Map), obj)) => {
                self.doc.put(&obj, "released", true)?;
                let mut t = Touched::default();
                t.holds.insert(id);
                Ok(t)
            }
            _ => Err(PartitionError::NotFound {
                what: "hold",
                id: id.to_string(),
            }),
        }
    }

    /// Records this organisation's decision on a hold placed on one of its offers.
    pub fn decide(&mut self, id: HoldId, decision: Decision) -> Result<Touched, PartitionError> {
        self.doc
            .put(ROOT, format!("{DECISION}{id}"), decision.as_str())?;
        let mut t = Touched::default();
        t.decisions.insert(id);
        Ok(t)
    }

    /// Reads every record, in one pass over the document ([`ReadDoc::iter`]: every object's
    /// entries in turn, parents before their children) rather than by looking each record and
    /// each window up: a lookup seeks into every column of the document, which for a whole
    /// partition cost as much again as reading it.
    pub fn contents(&self) -> Contents {
        let doc = &self.doc;
        let mut read = Reader::new(self.org);
        scan(doc, |batch| read.batch(doc, batch));
        read.finish(doc)
    }

    /// Reads only the records named in `touched` (everything when `touched.all`).
    pub fn contents_of(&self, touched: &Touched) -> Contents {
        if touched.all {
            return self.contents();
        }
        let mut read = Reader::new(self.org);
        let mut keys: Vec<String> = Vec::new();
        if touched.profile {
            keys.push("profile".into());
        }
        keys.extend(touched.offers.iter().map(|id| format!("{OFFER}{id}")));
        keys.extend(touched.holds.iter().map(|id| format!("{HOLD}{id}")));
        keys.extend(touched.decisions.iter().map(|id| format!("{DECISION}{id}")));
        for key in keys {
            match self.doc.get(ROOT, key.as_str()) {
                Ok(Some((Value::Object(ObjType::Map), id))) => {
                    read.root(&self.doc, &key, Root::Map(id));
                }
                Ok(Some(_)) => read.root(&self.doc, &key, Root::Other),
                Ok(None) => {}
                Err(e) => read.issue(&key, e.to_string()),
            }
        }
        read.finish(&self.doc)
    }
}

/// The root key of the record each object belongs to (`None`: not attributable), for the
/// objects one [`Partition::apply_change_sets`] call saw: objects created by its changes are
/// entered from the operation that made them, others are looked up in the document once.
#[derive(Default)]
struct Roots(HashMap<ObjectId, Option<String>>);

impl Roots {
    /// Adds what `change` touched to `t`. Changes must come in the order they were applied, so
    /// that an object is entered before a later change uses it.
    fn attribute(&mut self, doc: &AutoCommit, change: &Change, t: &mut Touched) {
        let actor = change.actor_id();
        let start = change.start_op().get();
        for (i, op) in change.decode().operations.into_iter().enumerate() {
            // The object an operation creates has the operation's id, (start + i)@actor.
            let made = matches!(op.action, OpType::Make(_))
                .then(|| ObjectId::Id(OpId(start + i as u64, actor.clone())));
            let root = match (&op.obj, &op.key) {
                (ObjectId::Root, Key::Map(key)) => {
                    t.root_key(key);
                    if let Some(id) = made {
                        self.0.insert(id, Some(key.to_string()));
                    }
                    continue;
                }
                (ObjectId::Root, Key::Seq(_)) => None,
                (obj, _) => self.root_of(doc, obj),
            };
            match root {
                Some(key) => t.root_key(key),
                None => t.all = true,
            }
            if let Some(id) = made {
                let root = root.map(str::to_string);
                self.0.insert(id, root);
            }
        }
    }

    /// The root key of the record `obj` belongs to, looked up in the document the first time.
    fn root_of(&mut self, doc: &AutoCommit, obj: &ObjectId) -> Option<&str> {
        if !self.0.contains_key(obj) {
            let root = doc
                .import_obj(&obj.to_string())
                .ok()
                .and_then(|id| doc.parents(&id).ok()?.path().into_iter().next())
                .and_then(|(_, prop)| match prop {
                    Prop::Map(key) => Some(key),
                    Prop::Seq(_) => None,
                });
            self.0.insert(obj.clone(), root);
        }
        self.0.get(obj).and_then(Option::as_deref)
    }
}

fn touched_offer(id: OfferId) -> Touched {
    let mut t = Touched::default();
    t.offers.insert(id);
    t
}

/// Copies one map entry of `from` (in `src`) into `to` (in `dst`), resolving concurrent values
/// as [`Partition::contents`] reads them (see [`Partition::rebased`]).
fn copy_entry(
    src: &AutoCommit,
    from: &ObjId,
    entry: &MapRangeItem<'_>,
    dst: &mut AutoCommit,
    to: &ObjId,
) -> Result<(), PartitionError> {
    let key = entry.key.as_ref();
    match &entry.value {
        ValueRef::Object(ObjType::Map) => {
            let child = dst.put_object(to, key, ObjType::Map)?;
            let obj = entry.id();
            for item in src.map_range(&obj, ..) {
                copy_entry(src, &obj, &item, dst, &child)?;
            }
        }
        ValueRef::Object(_) => {}
        ValueRef::Scalar(winner) => {
            let value = if entry.conflict {
                let all: Vec<ScalarValue> = src
                    .get_all(from, key)?
                    .into_iter()
                    .filter_map(|(v, _)| match v {
                        Value::Scalar(s) => Some(s.into_owned()),
                        Value::Object(_) => None,
                    })
                    .collect();
                resolve_concurrent(key, all).unwrap_or_else(|| ScalarValue::from(winner.clone()))
            } else {
                ScalarValue::from(winner.clone())
            };
            dst.put(to, key, value)?;
        }
    }
    Ok(())
}

/// The one value concurrent `values` at `key` read as, where reading has a rule for it
/// (`None`: automerge's winner).
fn resolve_concurrent(key: &str, values: Vec<ScalarValue>) -> Option<ScalarValue> {
    match key {
        "withdrawn" | "cancelled" | "released" => Some(ScalarValue::Boolean(
            values
                .iter()
                .any(|v| matches!(v, ScalarValue::Boolean(true))),
        )),
        "last_confirmed_at" | "expires_at" => values
            .iter()
            .filter_map(|v| match v {
                ScalarValue::Int(i) => Some(*i),
                _ => None,
            })
            .max()
            .map(ScalarValue::Int),
        _ if key.starts_with(DECISION) => values
            .iter()
            .any(|v| matches!(v, ScalarValue::Str(s) if s.as_str() == Decision::Declined.as_str()))
            .then(|| ScalarValue::Str(Decision::Declined.as_str().into())),
        _ => None,
    }
}

/// Writes `value` at `key` unless it is already the (unconflicted) value there, so an update
/// that changes one field adds one operation, not twenty.
fn put_if_changed<V: Into<ScalarValue>>(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: V,
) -> Result<(), PartitionError> {
    let value: ScalarValue = value.into();
    let all = doc.get_all(obj, key)?;
    let same = all.len() == 1 && matches!(&all[0].0, Value::Scalar(s) if s.as_ref() == &value);
    if !same {
        doc.put(obj, key, value)?;
    }
    Ok(())
}

fn put_opt<V: Into<ScalarValue>>(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: Option<V>,
) -> Result<(), PartitionError> {
    match value {
        Some(v) => put_if_changed(doc, obj, key, v),
        None => {
            if doc.get(obj, key)?.is_some() {
                doc.delete(obj, key)?;
            }
            Ok(())
        }
    }
}

/// Writes every field of an offer. `fresh` says that `obj` was created in this transaction:
/// there is then nothing to compare with, so each field is put without first being read back
/// (that read costs about as much as the put, and made a 10k-row import a third slower).
fn write_fields(
    doc: &mut AutoCommit,
    obj: &ObjId,
    f: &OfferFields,
    fresh: bool,
) -> Result<(), PartitionError> {
    let set = |doc: &mut AutoCommit, key: &str, value: ScalarValue| {
        if fresh {
            doc.put(obj, key, value).map_err(PartitionError::from)
        } else {
            put_if_changed(doc, obj, key, value)
        }
    };
    let set_opt = |doc: &mut AutoCommit, key: &str, value: Option<ScalarValue>| match value {
        None if fresh => Ok(()),
        _ => put_opt(doc, obj, key, value),
    };
    set(doc, "kind", f.kind.as_str().into())?;
    set(doc, "handle", f.handle.as_str().into())?;
    set(doc, "subject", f.subject.as_str().into())?;
    set(doc, "counties", join_list(&f.counties).into())?;
    set_opt(doc, "zone", f.zone.as_deref().map(ScalarValue::from))?;
    set(doc, "languages", join_list(&f.languages).into())?;
    set(doc, "accepts", join_list(&f.accepts).into())?;
    set(doc, "affirming", join_list(&f.affirming).into())?;
    set(doc, "accessibility", join_list(&f.accessibility).into())?;
    set(doc, "household", join_list(&f.household).into())?;
    set(doc, "capabilities", join_list(&f.capabilities).into())?;
    set(doc, "unit", f.unit.as_str().into())?;
    set_opt(doc, "lead_time", f.lead_time.map(ScalarValue::from))?;
    set_opt(doc, "max_stay", f.max_stay.map(ScalarValue::from))?;
    set(doc, "vetting", f.vetting.as_str().into())?;
    set(doc, "status", f.status.as_str().into())?;
    set(doc, "label", f.label.as_str().into())?;
    set_opt(
        doc,
        "bond_band",
        f.bond_band.map(|b| ScalarValue::from(b.as_str())),
    )?;
    set_opt(doc, "post_within", f.post_within.map(ScalarValue::from))?;
    Ok(())
}

fn write_window(
    doc: &mut AutoCommit,
    offer: &ObjId,
    id: WindowId,
    w: &NewWindow,
) -> Result<(), PartitionError> {
    let obj = doc.put_object(offer, format!("{WINDOW}{id}"), ObjType::Map)?;
    doc.put(&obj, "start", w.start.0)?;
    doc.put(&obj, "end", w.end.0)?;
    doc.put(&obj, "tz", w.tz.as_str())?;
    doc.put(&obj, "weekly", w.weekly)?;
    doc.put(&obj, "total", u64::from(w.total))?;
    Ok(())
}

/// Objects per batch of entries a pass over the document hands over: a few dozen offers, so
/// that the entries are read while still in the cache, and the batch's buffers are allocated
/// once per pass.
const BATCH_OBJECTS: usize = 64;

/// A scalar entry of a map object: its key, its value, and whether it has concurrent values.
type Scalar<'d> = (Cow<'d, str>, ScalarValueRef<'d>, bool);

/// An object entry of a map object: its key, its type and its id.
type Child<'d> = (Cow<'d, str>, ObjType, ObjId);

/// The entries of consecutive objects as the document holds them (borrowed, not copied).
#[derive(Default)]
struct Batch<'d> {
    scalars: Vec<Scalar<'d>>,
    children: Vec<Child<'d>>,
    /// Per object: its id and where its entries are in `scalars` and `children`.
    objects: Vec<(Arc<ObjId>, Range<usize>, Range<usize>)>,
}

impl<'d> Batch<'d> {
    fn push(&mut self, entry: MapRangeItem<'d>) {
        let child = match entry.value {
            ValueRef::Object(typ) => Some((typ, entry.id())),
            ValueRef::Scalar(_) => None,
        };
        let MapRangeItem {
            key,
            value,
            conflict,
            ..
        } = entry;
        match (value, child) {
            (ValueRef::Scalar(s), _) => self.scalars.push((key, s, conflict)),
            (ValueRef::Object(_), Some((typ, id))) => self.children.push((key, typ, id)),
            (ValueRef::Object(_), None) => {}
        }
    }

    fn clear(&mut self) {
        self.scalars.clear();
        self.children.clear();
        self.objects.clear();
    }

    /// The entries of one object, looked up.
    fn of(doc: &'d AutoCommit, obj: ObjId) -> Self {
        let mut batch = Batch::default();
        for entry in doc.map_range(&obj, ..) {
            batch.push(entry);
        }
        let ranges = (0..batch.scalars.len(), 0..batch.children.len());
        batch.objects.push((Arc::new(obj), ranges.0, ranges.1));
        batch
    }

    /// Every object in it, with its entries.
    fn fields<'b>(&'b self, doc: &'d AutoCommit) -> impl Iterator<Item = Fields<'d, 'b>> {
        self.objects
            .iter()
            .map(move |(obj, scalars, children)| Fields {
                doc,
                obj,
                items: &self.scalars[scalars.clone()],
                children: &self.children[children.clone()],
            })
    }
}

/// One pass over the whole document ([`ReadDoc::iter`]), handing the map objects' entries to
/// `sink` in batches of [`BATCH_OBJECTS`] objects. An object's entries are never split between
/// batches; objects come parents first.
fn scan<'d>(doc: &'d AutoCommit, mut sink: impl FnMut(&Batch<'d>)) {
    let mut batch = Batch::default();
    // The object being collected, and where its entries start.
    let mut current: Option<(Arc<ObjId>, usize, usize)> = None;
    for item in doc.iter() {
        let DocItem::Map(entry) = item.item else {
            continue;
        };
        if !current
            .as_ref()
            .is_some_and(|(obj, _, _)| Arc::ptr_eq(obj, &item.obj))
        {
            if let Some((obj, s, c)) = current.take() {
                let ranges = (s..batch.scalars.len(), c..batch.children.len());
                batch.objects.push((obj, ranges.0, ranges.1));
                if batch.objects.len() >= BATCH_OBJECTS {
                    sink(&batch);
                    batch.clear();
                }
            }
            current = Some((item.obj, batch.scalars.len(), batch.children.len()));
        }
        batch.push(entry);
    }
    if let Some((obj, s, c)) = current {
        let ranges = (s..batch.scalars.len(), c..batch.children.len());
        batch.objects.push((obj, ranges.0, ranges.1));
    }
    sink(&batch);
}

/// What a map object is read as.
#[derive(Debug, Clone, Copy)]
enum Target {
    Profile,
    /// The offer in that slot of [`Reader::offers`].
    Offer(usize),
    /// A window of the offer in that slot, the window in that slot of its draft.
    Window(usize, usize),
    /// The hold in that slot of [`Reader::holds`].
    Hold(usize),
}

/// The value of a root entry, as far as reading records needs it.
enum Root<'v, 'd> {
    /// A map object.
    Map(ObjId),
    /// One scalar value, without concurrent ones.
    Scalar(&'v ScalarValueRef<'d>),
    /// Anything else: another object, or concurrent values (read again by key if needed).
    Other,
}

/// An offer being read: its own object and its windows' objects are read as they are reached,
/// in whatever order, and [`OfferDraft::finish`] reports the first problem in the order of the
/// record (fields, then windows in key order, then times), whatever order they were read in.
struct OfferDraft {
    id: OfferId,
    /// The fields, checked; `None` until the offer's object is read.
    fields: Option<Result<OfferFields, String>>,
    /// Created, last confirmed, expires, withdrawn.
    times: Option<Result<(Time, Time, Time, bool), String>>,
    /// Per `win:` key, in key order.
    windows: Vec<WindowDraft>,
}

/// A window key of an offer: the window id it names, and the window once its object is read.
type WindowDraft = (Result<WindowId, String>, Option<Result<Window, String>>);

impl OfferDraft {
    fn new(id: OfferId) -> Self {
        OfferDraft {
            id,
            fields: None,
            times: None,
            windows: Vec::new(),
        }
    }

    /// Reads the offer's own object; returns the window objects still to read, with their
    /// slots.
    fn read_own(&mut self, f: &Fields<'_, '_>) -> Vec<(usize, ObjId)> {
        self.fields = Some(offer_fields(f));
        self.times = Some(offer_times(f));
        let mut windows = Vec::new();
        for (key, typ, obj) in f.children {
            let Some(wid) = key.strip_prefix(WINDOW) else {
                continue;
            };
            if *typ != ObjType::Map {
                continue;
            }
            let wid = wid
                .parse::<WindowId>()
                .map_err(|_| format!("bad window key {key}"));
            if wid.is_ok() {
                windows.push((self.windows.len(), obj.clone()));
            }
            self.windows.push((wid, None));
        }
        windows
    }

    fn read_window(&mut self, slot: usize, f: &Fields<'_, '_>) {
        if let Some((Ok(wid), window)) = self.windows.get_mut(slot) {
            *window = Some(read_window(f, *wid));
        }
    }

    fn finish(self, owner: OrgId) -> Result<Offer, String> {
        let unread = || "offer was not read".to_string();
        let fields = self.fields.unwrap_or_else(|| Err(unread()))?;
        let mut windows = Vec::with_capacity(self.windows.len());
        for (wid, window) in self.windows {
            wid?;
            windows.push(window.unwrap_or_else(|| Err(unread()))?);
        }
        if windows.len() > crate::schema::MAX_WINDOWS_PER_OFFER * 4 {
            return Err("too many windows".into());
        }
        windows.sort_by_key(|w| (w.start, w.id));
        let (created_at, last_confirmed_at, expires_at, withdrawn) =
            self.times.unwrap_or_else(|| Err(unread()))?;
        Ok(Offer {
            id: self.id,
            owner,
            fields,
            windows,
            created_at,
            last_confirmed_at,
            expires_at,
            withdrawn,
        })
    }
}

/// Reads records from their root entries: a scalar record at once, a map record when its
/// object's entries arrive ([`Reader::batch`]; those that never do are looked up in
/// [`Reader::finish`]).
struct Reader {
    org: OrgId,
    /// Map objects still to read.
    targets: HashMap<ObjId, Target>,
    profile: Option<Result<OrgProfile, String>>,
    offers: Vec<OfferDraft>,
    holds: Vec<(HoldId, Option<Result<Hold, String>>)>,
    decisions: Vec<(HoldId, Decision)>,
    issues: Vec<RecordIssue>,
}

impl Reader {
    fn new(org: OrgId) -> Self {
        Reader {
            org,
            targets: HashMap::new(),
            profile: None,
            offers: Vec::new(),
            holds: Vec::new(),
            decisions: Vec::new(),
            issues: Vec::new(),
        }
    }

    fn target(&mut self, obj: ObjId, target: Target) {
        self.targets.insert(obj, target);
    }

    fn issue(&mut self, key: &str, reason: String) {
        self.issues.push(RecordIssue {
            key: key.to_string(),
            reason,
        });
    }

    /// Reads the objects of a batch: the root's entries, and the objects records need.
    fn batch(&mut self, doc: &AutoCommit, batch: &Batch<'_>) {
        for f in batch.fields(doc) {
            if *f.obj == ROOT {
                // Records that are maps (offers, most of them), reserved at once.
                self.offers.reserve(f.children.len());
                for (key, value, conflict) in f.items {
                    let value = if *conflict {
                        Root::Other
                    } else {
                        Root::Scalar(value)
                    };
                    self.root(doc, key, value);
                }
                for (key, typ, obj) in f.children {
                    let value = match typ {
                        ObjType::Map => Root::Map(obj.clone()),
                        _ => Root::Other,
                    };
                    self.root(doc, key, value);
                }
            } else if let Some(target) = self.targets.remove(f.obj) {
                self.object(target, &f);
            }
        }
    }

    /// A root entry.
    fn root(&mut self, doc: &AutoCommit, key: &str, value: Root<'_, '_>) {
        if key == "profile" {
            match value {
                Root::Map(obj) => {
                    self.target(obj, Target::Profile);
                }
                // Not a map: read as one without fields, which says what is missing.
                _ => {
                    let empty = Batch::default();
                    let f = Fields {
                        doc,
                        obj: &ROOT,
                        items: &empty.scalars,
                        children: &empty.children,
                    };
                    self.object(Target::Profile, &f);
                }
            }
        } else if let Some(id) = key.strip_prefix(OFFER) {
            match (id.parse::<OfferId>(), value) {
                (Ok(id), Root::Map(obj)) => {
                    self.target(obj, Target::Offer(self.offers.len()));
                    self.offers.push(OfferDraft::new(id));
                }
                _ => self.issue(key, "not an offer map".into()),
            }
        } else if let Some(id) = key.strip_prefix(HOLD) {
            match (id.parse::<HoldId>(), value) {
                (Ok(id), Root::Map(obj)) => {
                    self.target(obj, Target::Hold(self.holds.len()));
                    self.holds.push((id, None));
                }
                _ => self.issue(key, "not a hold map".into()),
            }
        } else if let Some(id) = key.strip_prefix(DECISION) {
            match id.parse::<HoldId>() {
                Ok(id) => {
                    let decision = match value {
                        Root::Scalar(v) => decision_of(v),
                        _ => read_decision(doc, key),
                    };
                    match decision {
                        Ok(d) => self.decisions.push((id, d)),
                        Err(r) => self.issue(key, r),
                    }
                }
                Err(_) => self.issue(key, "bad hold id".into()),
            }
        } else if key != "schema" {
            self.issue(key, "unknown record".into());
        }
    }

    /// Reads the object `target` names from its entries `f`.
    fn object(&mut self, target: Target, f: &Fields<'_, '_>) {
        match target {
            Target::Profile => self.profile = Some(read_profile(f)),
            Target::Offer(slot) => {
                if let Some(draft) = self.offers.get_mut(slot) {
                    for (window, obj) in draft.read_own(f) {
                        self.target(obj, Target::Window(slot, window));
                    }
                }
            }
            Target::Window(slot, window) => {
                if let Some(draft) = self.offers.get_mut(slot) {
                    draft.read_window(window, f);
                }
            }
            Target::Hold(slot) => {
                let org = self.org;
                if let Some((id, hold)) = self.holds.get_mut(slot) {
                    *hold = Some(read_hold(f, *id, org));
                }
            }
        }
    }

    /// Reads the objects that did not arrive (looked up one by one: all of them after
    /// [`Partition::contents_of`], empty ones after a pass) and returns the records. Issues
    /// come in root key order, as a pass over the root in key order meets them.
    fn finish(mut self, doc: &AutoCommit) -> Contents {
        // Reading an offer adds its windows, hence rounds.
        while !self.targets.is_empty() {
            let round: Vec<(ObjId, Target)> = self.targets.drain().collect();
            for (obj, target) in round {
                let batch = Batch::of(doc, obj);
                for f in batch.fields(doc) {
                    self.object(target, &f);
                }
            }
        }
        let mut c = Contents {
            decisions: self.decisions,
            issues: self.issues,
            ..Contents::default()
        };
        match self.profile {
            Some(Ok(p)) => c.profile = Some(p),
            Some(Err(r)) => c.issues.push(RecordIssue {
                key: "profile".into(),
                reason: r,
            }),
            None => {}
        }
        c.offers.reserve(self.offers.len());
        for draft in self.offers {
            let id = draft.id;
            match draft.finish(self.org) {
                Ok(o) => c.offers.push(o),
                Err(reason) => c.issues.push(RecordIssue {
                    key: format!("{OFFER}{id}"),
                    reason,
                }),
            }
        }
        for (id, hold) in self.holds {
            match hold.unwrap_or_else(|| Err("hold was not read".into())) {
                Ok(h) => c.holds.push(h),
                Err(reason) => c.issues.push(RecordIssue {
                    key: format!("{HOLD}{id}"),
                    reason,
                }),
            }
        }
        c.issues.sort_by(|a, b| a.key.cmp(&b.key));
        c
    }
}

/// The entries of one map object, to read fields from. Conflicted keys are re-read with
/// `get_all` so that one-way flags and "latest" timestamps resolve by rule, not by actor order.
struct Fields<'d, 'b> {
    doc: &'d AutoCommit,
    obj: &'b ObjId,
    /// In key order.
    items: &'b [Scalar<'d>],
    children: &'b [Child<'d>],
}

impl<'d> Fields<'d, '_> {
    fn entry(&self, key: &str) -> Option<&Scalar<'d>> {
        // A record has a few dozen fields at most: comparing lengths first leaves one string
        // comparison per lookup, where a binary search made about five (a tenth of reading a
        // partition). A longer map (a hostile record) is searched by halves.
        if self.items.len() > 64 {
            return self
                .items
                .binary_search_by(|(k, _, _)| k.as_ref().cmp(key))
                .ok()
                .map(|i| &self.items[i]);
        }
        self.items.iter().find(|(k, _, _)| k.as_ref() == key)
    }

    fn get(&self, key: &str) -> Option<&ScalarValueRef<'d>> {
        self.entry(key).map(|(_, v, _)| v)
    }

    /// Every concurrent value at `key` (one value without a lookup when there is no conflict).
    fn all(&self, key: &str) -> Vec<ScalarValue> {
        match self.entry(key) {
            None => Vec::new(),
            Some((_, v, false)) => vec![ScalarValue::from(v.clone())],
            Some((_, _, true)) => self
                .doc
                .get_all(self.obj, key)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(v, _)| match v {
                    Value::Scalar(s) => Some(s.into_owned()),
                    Value::Object(_) => None,
                })
                .collect(),
        }
    }

    fn str(&self, key: &str) -> Result<&str, String> {
        match self.get(key) {
            Some(ScalarValueRef::Str(s)) => Ok(s.as_ref()),
            Some(_) => Err(format!("{key} is not text")),
            None => Err(format!("{key} is missing")),
        }
    }

    fn opt_str(&self, key: &str) -> Result<Option<&str>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(ScalarValueRef::Str(s)) => Ok(Some(s.as_ref())),
            Some(_) => Err(format!("{key} is not text")),
        }
    }

    fn parse<T: FromStr>(&self, key: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        self.str(key)?
            .parse()
            .map_err(|e: T::Err| format!("{key}: {e}"))
    }

    fn list<T: FromStr>(&self, key: &str) -> Result<Vec<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        parse_list(self.opt_str(key)?.unwrap_or("")).map_err(|e: T::Err| format!("{key}: {e}"))
    }

    fn int(&self, key: &str) -> Result<i64, String> {
        self.opt_int(key)?
            .ok_or_else(|| format!("{key} is missing"))
    }

    fn opt_int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(ScalarValueRef::Int(i)) => Ok(Some(*i)),
            Some(ScalarValueRef::Uint(u)) => i64::try_from(*u)
                .map(Some)
                .map_err(|_| format!("{key} is out of range")),
            Some(_) => Err(format!("{key} is not a number")),
        }
    }

    /// The largest of concurrent integer values.
    fn latest_int(&self, key: &str) -> Result<i64, String> {
        let missing = || format!("{key} is missing");
        match self.entry(key) {
            Some((_, ScalarValueRef::Int(i), false)) => Ok(*i),
            Some((_, _, false)) | None => Err(missing()),
            Some((_, _, true)) => self
                .all(key)
                .iter()
                .filter_map(|v| match v {
                    ScalarValue::Int(i) => Some(*i),
                    _ => None,
                })
                .max()
                .ok_or_else(missing),
        }
    }

    /// True when any concurrent value is `true`.
    fn one_way(&self, key: &str) -> bool {
        match self.entry(key) {
            Some((_, v, false)) => matches!(v, ScalarValueRef::Boolean(true)),
            None => false,
            Some((_, _, true)) => self
                .all(key)
                .iter()
                .any(|v| matches!(v, ScalarValue::Boolean(true))),
        }
    }
}

fn read_profile(f: &Fields<'_, '_>) -> Result<OrgProfile, String> {
    Ok(OrgProfile {
        name: f.str("name")?.to_string(),
        counties: f.list("counties")?,
        kinds: f.list("kinds")?,
        intake: f.opt_str("intake")?.unwrap_or("").to_string(),
        tz: f.str("tz")?.to_string(),
    })
}

/// Reads one offer by looking its object and its windows' objects up.
fn read_offer(doc: &AutoCommit, obj: &ObjId, id: OfferId, owner: OrgId) -> Result<Offer, String> {
    let mut draft = OfferDraft::new(id);
    let own = Batch::of(doc, obj.clone());
    for f in own.fields(doc) {
        for (slot, wobj) in draft.read_own(&f) {
            let window = Batch::of(doc, wobj);
            for f in window.fields(doc) {
                draft.read_window(slot, &f);
            }
        }
    }
    draft.finish(owner)
}

/// An offer's fields, checked.
fn offer_fields(f: &Fields<'_, '_>) -> Result<OfferFields, String> {
    let mut fields = OfferFields {
        kind: f.parse("kind")?,
        handle: f.str("handle")?.to_string(),
        subject: f.parse("subject")?,
        counties: f.list("counties")?,
        zone: f.opt_str("zone")?.map(str::to_string),
        languages: f.list("languages")?,
        accepts: f.list("accepts")?,
        affirming: f.list("affirming")?,
        accessibility: f.list("accessibility")?,
        household: f.list("household")?,
        capabilities: f.list("capabilities")?,
        unit: f.parse("unit")?,
        lead_time: f.opt_int("lead_time")?,
        max_stay: f.opt_int("max_stay")?,
        vetting: f.parse("vetting")?,
        status: f.parse("status")?,
        label: f.opt_str("label")?.unwrap_or("").to_string(),
        bond_band: f
            .opt_str("bond_band")?
            .map(str::parse)
            .transpose()
            .map_err(|e| format!("bond_band: {e}"))?,
        post_within: f.opt_int("post_within")?,
    };
    // A partner's record is checked by the same rules as our own: a hostile writer cannot put
    // an address into a label by skipping the CLI.
    fields.normalize_and_validate().map_err(|e| e.to_string())?;
    Ok(fields)
}

/// An offer's created, last confirmed and expiry times, and whether it is withdrawn.
fn offer_times(f: &Fields<'_, '_>) -> Result<(Time, Time, Time, bool), String> {
    Ok((
        Time(f.int("created_at")?),
        Time(f.latest_int("last_confirmed_at")?),
        Time(f.latest_int("expires_at")?),
        f.one_way("withdrawn"),
    ))
}

fn read_window(f: &Fields<'_, '_>, id: WindowId) -> Result<Window, String> {
    let total = f.int("total")?;
    let w = NewWindow {
        start: Time(f.int("start")?),
        end: Time(f.int("end")?),
        tz: f.str("tz")?.to_string(),
        weekly: matches!(f.get("weekly"), Some(ScalarValueRef::Boolean(true))),
        total: u32::try_from(total).map_err(|_| "window total out of range".to_string())?,
    };
    w.validate().map_err(|e| format!("window {id}: {e}"))?;
    Ok(Window {
        id,
        start: w.start,
        end: w.end,
        tz: w.tz,
        weekly: w.weekly,
        total: w.total,
        cancelled: f.one_way("cancelled"),
    })
}

fn read_hold(f: &Fields<'_, '_>, id: HoldId, requester: OrgId) -> Result<Hold, String> {
    let qty = f.int("qty")?;
    let hold = Hold {
        id,
        requester,
        owner: f.parse("owner")?,
        offer: f.parse("offer")?,
        window: f.parse("window")?,
        qty: u32::try_from(qty).map_err(|_| "qty out of range".to_string())?,
        from: Time(f.int("from")?),
        to: Time(f.int("to")?),
        created_at: Time(f.int("created_at")?),
        expires_at: Time(f.int("expires_at")?),
        released: f.one_way("released"),
    };
    hold.validate().map_err(|e| e.to_string())?;
    Ok(hold)
}

/// A decision from one value.
fn decision_of(value: &ScalarValueRef<'_>) -> Result<Decision, String> {
    match value {
        ScalarValueRef::Str(t) => t.parse::<Decision>().map_err(|e| e.to_string()),
        _ => Err("decision is not text".into()),
    }
}

fn read_decision(doc: &AutoCommit, key: &str) -> Result<Decision, String> {
    let values = doc.get_all(ROOT, key).map_err(|e| e.to_string())?;
    let mut out = None;
    for (v, _) in values {
        let d = match v {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(t) => t.parse::<Decision>().map_err(|e| e.to_string())?,
                _ => return Err("decision is not text".into()),
            },
            Value::Object(_) => return Err("decision is not text".into()),
        };
        // Declined wins over a concurrent confirmation: the owner's devices disagreed, and the
        // safe reading keeps the capacity free until a person looks again.
        out = Some(match (out, d) {
            (Some(Decision::Declined), _) | (_, Decision::Declined) => Decision::Declined,
            _ => Decision::Confirmed,
        });
    }
    out.ok_or_else(|| "decision is missing".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::fields;
    use crate::vocab::Kind;

    pub(crate) fn org(n: u8) -> OrgId {
        OrgId::from_bytes([n; 10])
    }

    fn offer() -> NewOffer {
        NewOffer {
            fields: fields(Kind::HostHome),
            windows: vec![NewWindow {
                start: Time(1_000_000),
                end: Time(1_000_000 + 14 * 86_400),
                tz: "America/Los_Angeles".into(),
                weekly: false,
                total: 2,
            }],
            expires_in: None,
        }
    }

    #[test]
    fn offer_round_trips_through_the_document() {
        let mut p = Partition::new(org(1), &[1; 32]);
        let id = OfferId::from_bytes([9; 10]);
        p.add_offer(id, &offer(), &[WindowId::from_bytes([3; 10])], Time(500))
            .expect("valid");
        assert!(p.commit().is_some());
        let o = p.offer(id).expect("present");
        assert_eq!(o.fields.handle, "host-7f3k");
        assert_eq!(o.windows.len(), 1);
        assert_eq!(o.expires_at, Time(500 + 14 * 86_400));
        let c = p.contents();
        assert_eq!(c.offers.len(), 1);
        assert!(c.issues.is_empty());
        let bytes = p.save();
        let q = Partition::load(org(1), &bytes, &[2; 32]).expect("loads");
        assert_eq!(q.offer(id).expect("present"), o);
    }

    #[test]
    fn update_writes_only_changed_fields() {
        let mut p = Partition::new(org(1), &[1; 32]);
        let id = OfferId::from_bytes([9; 10]);
        p.add_offer(id, &offer(), &[WindowId::from_bytes([3; 10])], Time(500))
            .expect("valid");
        p.commit();
        let patch = OfferPatch {
            label: Some("two quiet rooms".into()),
            ..OfferPatch::default()
        };
        p.update_offer(id, &patch, &[], Time(600)).expect("valid");
        p.commit();
        let change = p.doc.get_last_local_change().expect("a change");
        assert_eq!(change.len(), 1, "one field changed, one operation written");
    }

    #[test]
    fn withdrawn_offers_are_final() {
        let mut p = Partition::new(org(1), &[1; 32]);
        let id = OfferId::from_bytes([9; 10]);
        p.add_offer(id, &offer(), &[WindowId::from_bytes([3; 10])], Time(500))
            .expect("valid");
        p.withdraw_offer(id).expect("present");
        p.commit();
        let patch = OfferPatch {
            label: Some("back again".into()),
            ..OfferPatch::default()
        };
        assert!(matches!(
            p.update_offer(id, &patch, &[], Time(600)),
            Err(PartitionError::Final(_))
        ));
        assert!(matches!(
            p.confirm_offer(id, Time(600), None),
            Err(PartitionError::Final(_))
        ));
    }

    #[test]
    fn remote_changes_report_what_they_touched() {
        let mut a = Partition::new(org(1), &[1; 32]);
        let id = OfferId::from_bytes([9; 10]);
        a.add_offer(id, &offer(), &[WindowId::from_bytes([3; 10])], Time(500))
            .expect("valid");
        let c1 = a.commit().expect("change");
        let mut b = Partition::new(org(1), &[2; 32]);
        let t = b
            .apply_changes(vec![Change::from_bytes(c1).expect("decodes")])
            .expect("applies");
        assert!(t.all);
        a.confirm_offer(id, Time(900), None).expect("present");
        let c2 = a.commit().expect("change");
        let t = b
            .apply_changes(vec![Change::from_bytes(c2).expect("decodes")])
            .expect("applies");
        assert!(!t.all);
        assert_eq!(t.offers.into_iter().collect::<Vec<_>>(), vec![id]);
        assert_eq!(b.offer(id).expect("present").last_confirmed_at, Time(900));
    }

    fn offer_id(n: u8) -> OfferId {
        OfferId::from_bytes([n; 10])
    }

    /// A device's partition holding `n` offers (ids 1..=n) in one change, and that change.
    fn with_offers(actor: u8, n: u8) -> (Partition, Change) {
        let mut p = Partition::new(org(1), &[actor; 32]);
        for i in 1..=n {
            p.add_offer(
                offer_id(i),
                &offer(),
                &[WindowId::from_bytes([i; 10])],
                Time(500),
            )
            .expect("valid");
        }
        let c = p.commit().expect("change");
        (p, Change::from_bytes(c).expect("decodes"))
    }

    fn confirm(p: &mut Partition, id: u8, at: i64) -> Change {
        p.confirm_offer(offer_id(id), Time(at), None)
            .expect("present");
        Change::from_bytes(p.commit().expect("change")).expect("decodes")
    }

    fn offers(t: &Touched) -> Vec<OfferId> {
        t.offers.iter().copied().collect()
    }

    #[test]
    fn small_changes_are_attributed_and_bulk_ones_are_all() {
        let (mut a, first) = with_offers(1, 20);
        let mut b = Partition::new(org(1), &[2; 32]);
        assert_eq!(
            b.apply_changes(vec![first.clone()]).expect("applies"),
            Touched::all()
        );
        // Already held: nothing applied, nothing touched.
        assert!(b.apply_changes(vec![first]).expect("applies").is_empty());
        // A window of an offer from an earlier change: attributed through the document.
        let id = offer_id(3);
        a.update_offer(
            id,
            &OfferPatch {
                cancel_windows: vec![WindowId::from_bytes([3; 10])],
                ..OfferPatch::default()
            },
            &[],
            Time(600),
        )
        .expect("valid");
        let c = Change::from_bytes(a.commit().expect("change")).expect("decodes");
        let t = b.apply_changes(vec![c]).expect("applies");
        assert!(!t.all);
        assert_eq!(offers(&t), vec![id]);
        // New offers with their windows: attributed from the operations that made them.
        for i in 21..=25 {
            a.add_offer(
                offer_id(i),
                &offer(),
                &[WindowId::from_bytes([i; 10])],
                Time(700),
            )
            .expect("valid");
        }
        let c = Change::from_bytes(a.commit().expect("change")).expect("decodes");
        let t = b.apply_changes(vec![c]).expect("applies");
        assert!(!t.all);
        assert_eq!(offers(&t), (21..=25).map(offer_id).collect::<Vec<_>>());
        // As many operations as the document already had: everything is re-read.
        for i in 26..=60 {
            a.add_offer(
                offer_id(i),
                &offer(),
                &[WindowId::from_bytes([i; 10])],
                Time(800),
            )
            .expect("valid");
        }
        let c = Change::from_bytes(a.commit().expect("change")).expect("decodes");
        assert_eq!(b.apply_changes(vec![c]).expect("applies"), Touched::all());
        assert_eq!(b.contents().offers.len(), 60);
    }

    #[test]
    fn a_queued_change_is_attributed_when_it_applies() {
        let (mut a, first) = with_offers(1, 20);
        let c1 = confirm(&mut a, 4, 900);
        let c2 = confirm(&mut a, 9, 950);
        let mut b = Partition::new(org(1), &[2; 32]);
        b.apply_changes(vec![first]).expect("applies");
        // c2 depends on c1: automerge queues it, nothing changed yet.
        assert!(b.apply_changes(vec![c2]).expect("queued").is_empty());
        let t = b.apply_changes(vec![c1]).expect("applies");
        assert!(!t.all);
        assert_eq!(offers(&t), vec![offer_id(4), offer_id(9)]);
        assert_eq!(
            b.offer(offer_id(9)).expect("present").last_confirmed_at,
            Time(950)
        );
    }

    #[test]
    fn rebuilding_without_changes_takes_out_their_dependents_and_keeps_the_rest() {
        let (mut a, first) = with_offers(1, 20);
        let c1 = confirm(&mut a, 4, 900);
        let mut b = Partition::new(org(1), &[2; 32]);
        b.apply_changes(vec![first.clone(), c1.clone()])
            .expect("applies");
        // b builds on c1; d's change, made without c1, does not.
        let c2 = confirm(&mut b, 5, 950);
        let mut d = Partition::new(org(1), &[4; 32]);
        d.apply_changes(vec![first.clone()]).expect("applies");
        let c3 = confirm(&mut d, 6, 960);
        let mut c = Partition::new(org(1), &[3; 32]);
        c.apply_changes(vec![first, c1.clone(), c2, c3])
            .expect("applies");
        assert_eq!(
            c.rebuild_without(&HashSet::from([c1.hash()]))
                .expect("rebuilds"),
            2,
            "c1 and b's change that depends on it"
        );
        let at = |p: &Partition, id| p.offer(offer_id(id)).expect("present").last_confirmed_at;
        assert_eq!(at(&c, 4), Time(500));
        assert_eq!(at(&c, 5), Time(500));
        assert_eq!(at(&c, 6), Time(960), "the concurrent change stays");
        // Nothing left to take out: a no-op.
        assert_eq!(
            c.rebuild_without(&HashSet::from([c1.hash()]))
                .expect("rebuilds"),
            0
        );
        // The change can come back (a limit rose).
        c.apply_changes(vec![c1]).expect("applies");
        assert_eq!(at(&c, 4), Time(900));
    }

    #[test]
    fn a_failing_set_leaves_the_others_applied() {
        let (mut a, first) = with_offers(1, 20);
        let mut b = Partition::new(org(1), &[2; 32]);
        b.apply_changes(vec![first.clone()]).expect("applies");
        // Two different changes with one (actor, seq): automerge refuses the second.
        let mut fork = a.clone();
        let held = confirm(&mut a, 4, 900);
        let clash = confirm(&mut fork, 5, 900);
        b.apply_changes(vec![held]).expect("applies");
        let mut c = Partition::new(org(1), &[3; 32]);
        c.apply_changes(vec![first]).expect("applies");
        let other = confirm(&mut c, 7, 990);
        let (t, results) = b.apply_change_sets(vec![vec![clash], vec![other]]);
        assert!(results[0].is_err(), "{results:?}");
        assert!(results[1].is_ok(), "{results:?}");
        assert_eq!(offers(&t), vec![offer_id(7)]);
        assert_eq!(
            b.offer(offer_id(7)).expect("present").last_confirmed_at,
            Time(990)
        );
        assert_eq!(
            b.offer(offer_id(5)).expect("present").last_confirmed_at,
            Time(500)
        );
    }

    #[test]
    fn a_rebased_copy_reads_the_same_and_has_no_history() {
        let (mut a, first) = with_offers(1, 20);
        let mut b = Partition::new(org(1), &[2; 32]);
        b.apply_changes(vec![first.clone()]).expect("applies");
        // Concurrent confirmations (latest wins), a withdrawal, a window change.
        let ca = confirm(&mut a, 4, 900);
        let cb = confirm(&mut b, 4, 950);
        a.apply_changes(vec![cb]).expect("applies");
        b.apply_changes(vec![ca]).expect("applies");
        a.withdraw_offer(offer_id(7)).expect("withdraws");
        a.commit();
        let before = a.contents();
        let (mut fresh, changes) = a.rebased(&[9; 32], 6).expect("copies");
        assert_eq!(fresh.contents(), before);
        assert_eq!(
            fresh.offer(offer_id(4)).expect("present").last_confirmed_at,
            Time(950)
        );
        assert!(fresh.offer(offer_id(7)).expect("present").withdrawn);
        // 20 offers and the schema/profile root entries, six per change.
        assert_eq!(changes.len(), fresh.doc.get_changes(&[]).len());
        assert!(changes.len() >= 4, "{}", changes.len());
        // Only the new actor wrote it: none of the old changes, none of their values.
        let all = fresh.doc.get_changes(&[]);
        assert!(all.iter().all(|c| c.actor_id().to_bytes() == [9; 32]));
        assert!(all.iter().all(|c| {
            c.deps()
                .iter()
                .all(|d| a.doc().get_change_by_hash(d).is_none())
        }));
        // A partner applying the changes reads the same.
        let mut c = Partition::new(org(1), &[3; 32]);
        let decoded: Vec<Change> = changes
            .iter()
            .map(|b| Change::from_bytes(b.clone()).expect("decodes"))
            .collect();
        c.apply_changes(decoded).expect("applies");
        assert_eq!(c.contents(), before);
        // The superseded concurrent value (900) is in the old history, not in the copy's.
        let holds_900 = |changes: Vec<Change>| {
            changes.into_iter().any(|c| {
                c.decode()
                    .operations
                    .iter()
                    .any(|op| matches!(op.action, OpType::Put(ScalarValue::Int(900))))
            })
        };
        assert!(holds_900(a.doc.get_changes(&[])));
        assert!(!holds_900(fresh.doc.get_changes(&[])));
    }

    /// Every record read by key (profile, offers, holds and decisions whose ids parse).
    fn looked_up(p: &Partition) -> Contents {
        let mut t = Touched {
            profile: true,
            ..Touched::default()
        };
        for item in p.doc.map_range(ROOT, ..) {
            let key = item.key.as_ref();
            if let Some(id) = key.strip_prefix(OFFER).and_then(|s| s.parse().ok()) {
                t.offers.insert(id);
            } else if let Some(id) = key.strip_prefix(HOLD).and_then(|s| s.parse().ok()) {
                t.holds.insert(id);
            } else if let Some(id) = key.strip_prefix(DECISION).and_then(|s| s.parse().ok()) {
                t.decisions.insert(id);
            }
        }
        p.contents_of(&t)
    }

    /// What two reads hold, in one order, as comparable text.
    fn summary(c: &Contents) -> Vec<String> {
        let mut out: Vec<String> = c.offers.iter().map(|o| format!("{o:?}")).collect();
        out.extend(c.holds.iter().map(|h| format!("{h:?}")));
        out.extend(c.decisions.iter().map(|d| format!("{d:?}")));
        out.extend(c.profile.iter().map(|p| format!("{p:?}")));
        out.extend(c.issues.iter().map(|i| format!("{i:?}")));
        out.sort();
        out
    }

    #[test]
    fn one_pass_reads_what_lookups_read() {
        // Two devices of one organisation, more objects than one batch holds, windows added
        // after later offers, concurrent values, and malformed records of every kind.
        let (mut a, first) = with_offers(1, 150);
        let mut b = Partition::new(org(1), &[2; 32]);
        b.apply_changes(vec![first]).expect("applies");
        a.set_profile(&OrgProfile {
            name: "Casa".into(),
            counties: vec!["06067".parse().expect("county")],
            kinds: vec![Kind::HostHome],
            intake: "signal: casa".into(),
            tz: "America/Los_Angeles".into(),
        })
        .expect("valid");
        let patch = OfferPatch {
            add_windows: vec![offer().windows[0].clone()],
            cancel_windows: vec![WindowId::from_bytes([5; 10])],
            ..OfferPatch::default()
        };
        a.update_offer(
            offer_id(5),
            &patch,
            &[WindowId::from_bytes([200; 10])],
            Time(900),
        )
        .expect("valid");
        a.withdraw_offer(offer_id(6)).expect("present");
        let hold = Hold {
            id: HoldId::from_bytes([7; 10]),
            requester: org(1),
            owner: org(2),
            offer: offer_id(3),
            window: WindowId::from_bytes([3; 10]),
            qty: 1,
            from: Time(1_000_000),
            to: Time(1_086_400),
            created_at: Time(950),
            expires_at: Time(99_999),
            released: false,
        };
        a.place_hold(&hold).expect("valid");
        a.decide(HoldId::from_bytes([8; 10]), Decision::Confirmed)
            .expect("ok");
        a.decide(HoldId::from_bytes([9; 10]), Decision::Confirmed)
            .expect("ok");
        let changes = |p: &mut Partition| Change::from_bytes(p.commit().expect("a change"));
        let from_a = changes(&mut a).expect("decodes");
        // Concurrently on b: a later confirmation, a decline, a withdrawal.
        b.confirm_offer(offer_id(7), Time(5_000), None)
            .expect("present");
        b.decide(HoldId::from_bytes([9; 10]), Decision::Declined)
            .expect("ok");
        b.withdraw_offer(offer_id(8)).expect("present");
        let from_b = changes(&mut b).expect("decodes");
        a.apply_changes(vec![from_b]).expect("applies");
        b.apply_changes(vec![from_a]).expect("applies");
        // Malformed records, written behind the schema's back.
        let doc = &mut a.doc;
        let put_map = |doc: &mut AutoCommit, key: String| {
            doc.put_object(ROOT, key, ObjType::Map).expect("ok")
        };
        put_map(doc, format!("{OFFER}{}", offer_id(201)));
        let half = put_map(doc, format!("{OFFER}{}", offer_id(202)));
        doc.put(&half, "kind", "hostel").expect("ok");
        // Complete offers but for an empty window, and for a window key that does not parse.
        let no_window = put_map(doc, format!("{OFFER}{}", offer_id(203)));
        let bad_key = put_map(doc, format!("{OFFER}{}", offer_id(204)));
        let full = b.offer_obj(offer_id(1)).expect("present");
        for item in b.doc.map_range(&full, ..) {
            if let ValueRef::Scalar(v) = item.value {
                for obj in [&no_window, &bad_key] {
                    doc.put(obj, item.key.as_ref(), ScalarValue::from(v.clone()))
                        .expect("ok");
                }
            }
        }
        let empty = format!("{WINDOW}{}", WindowId::from_bytes([9; 10]));
        doc.put_object(&no_window, empty, ObjType::Map).expect("ok");
        doc.put_object(&bad_key, "win:nope", ObjType::Map)
            .expect("ok");
        put_map(doc, "offer:zzzz".into());
        doc.put(ROOT, format!("{OFFER}{}", offer_id(205)), "scalar")
            .expect("ok");
        doc.put(
            ROOT,
            format!("{HOLD}{}", HoldId::from_bytes([10; 10])),
            3_u64,
        )
        .expect("ok");
        put_map(doc, format!("{HOLD}{}", HoldId::from_bytes([11; 10])));
        doc.put(
            ROOT,
            format!("{DECISION}{}", HoldId::from_bytes([12; 10])),
            "maybe",
        )
        .expect("ok");
        doc.put_object(
            ROOT,
            format!("{DECISION}{}", HoldId::from_bytes([13; 10])),
            ObjType::List,
        )
        .expect("ok");
        doc.put(ROOT, "decision:nothold", "confirmed").expect("ok");
        doc.put(ROOT, "surprise", 1_u64).expect("ok");
        a.commit();

        for p in [&a, &b] {
            let one = p.contents();
            let keys: Vec<&str> = one.issues.iter().map(|i| i.key.as_str()).collect();
            assert!(keys.is_sorted(), "issues in root key order: {keys:?}");
            // Lookups by key see every record whose id parses.
            let by_key = looked_up(p);
            let parsed = |c: &Contents| {
                let mut c = c.clone();
                c.issues.retain(|i| {
                    !matches!(
                        i.key.as_str(),
                        "offer:zzzz" | "decision:nothold" | "surprise"
                    )
                });
                summary(&c)
            };
            assert_eq!(parsed(&one), summary(&by_key));
        }
        let c = a.contents();
        assert_eq!(c.offers.len(), 150);
        assert_eq!(c.holds, vec![hold]);
        assert_eq!(c.profile.as_ref().map(|p| p.name.as_str()), Some("Casa"));
        let decided: BTreeSet<_> = c.decisions.iter().copied().collect();
        assert_eq!(
            decided,
            BTreeSet::from([
                (HoldId::from_bytes([8; 10]), Decision::Confirmed),
                (HoldId::from_bytes([9; 10]), Decision::Declined),
            ])
        );
        let offer = |id: u8| {
            c.offers
                .iter()
                .find(|o| o.id == offer_id(id))
                .expect("read")
        };
        assert_eq!(offer(5).windows.len(), 2);
        assert!(offer(5).windows.iter().any(|w| w.cancelled));
        assert!(offer(6).withdrawn && offer(8).withdrawn);
        assert_eq!(offer(7).last_confirmed_at, Time(5_000));
        let issues: Vec<(&str, &str)> = c
            .issues
            .iter()
            .map(|i| (i.key.as_str(), i.reason.as_str()))
            .collect();
        assert_eq!(issues.len(), 12, "{issues:#?}");
        for (key, reason) in [
            ("surprise", "unknown record"),
            ("offer:zzzz", "not an offer map"),
            ("decision:nothold", "bad hold id"),
        ] {
            assert!(issues.contains(&(key, reason)), "{key}: {issues:#?}");
        }
        let reason = |key: String| {
            c.issues
                .iter()
                .find(|i| i.key == key)
                .map(|i| i.reason.clone())
                .expect("an issue")
        };
        assert_eq!(
            reason(format!("{OFFER}{}", offer_id(201))),
            "kind is missing"
        );
        assert_eq!(
            reason(format!("{OFFER}{}", offer_id(203))),
            "total is missing"
        );
        assert_eq!(
            reason(format!("{OFFER}{}", offer_id(204))),
            "bad window key win:nope"
        );
        assert_eq!(
            reason(format!("{OFFER}{}", offer_id(205))),
            "not an offer map"
        );
        assert_eq!(
            reason(format!("{HOLD}{}", HoldId::from_bytes([10; 10]))),
            "not a hold map"
        );
        assert_eq!(
            reason(format!("{HOLD}{}", HoldId::from_bytes([11; 10]))),
            "qty is missing"
        );
        assert_eq!(
            reason(format!("{DECISION}{}", HoldId::from_bytes([13; 10]))),
            "decision is not text"
        );
    }

    #[test]
    fn malformed_records_are_reported_not_fatal() {
        let mut p = Partition::new(org(1), &[1; 32]);
        let obj = p
            .doc
            .put_object(ROOT, "offer:zzzz", ObjType::Map)
            .expect("ok");
        p.doc.put(&obj, "kind", "hostel").expect("ok");
        let bad = OfferId::from_bytes([1; 10]);
        let obj = p
            .doc
            .put_object(ROOT, format!("offer:{bad}"), ObjType::Map)
            .expect("ok");
        p.doc.put(&obj, "kind", "hostel").expect("ok");
        p.doc
            .put(ROOT, "decision:nothold", "confirmed")
            .expect("ok");
        let c = p.contents();
        assert!(c.offers.is_empty());
        assert_eq!(c.issues.len(), 3);
    }
}
