//! Signed partition snapshots in sync (the envelope module's `Snapshot` format v1): this
//! organisation's own snapshot, which a far-behind peer is sent instead of thousands of
//! envelopes, and snapshots received from peers, which are verified, merged into their partition
//! and kept to relay.
//!
//! Invariants:
//! - This device signs a snapshot of its own organisation's partition only, and only while every
//!   change in that document is its own: a snapshot's document names one automerge actor, its
//!   signer, so every change stays attributable to the key that vouched for it, as in envelopes.
//! - The own snapshot is rebuilt when [`OWN_SNAPSHOT_EVERY`] own envelopes were written since
//!   the last one, or when the own envelopes written since weigh at least a quarter of it and
//!   at least [`OWN_SNAPSHOT_MIN_BYTES`] (an import of 10 000 offers is 11 envelopes, and a
//!   stale snapshot would leave a fresh partner applying them one by one). It is built lazily:
//!   when a session asks for the snapshots, or when the replica closes with its own partition
//!   loaded (it was written to), never on the write path.
//! - A received snapshot changes nothing unless it passes every check, in this order: format,
//!   network, signature, the signer's authority over the partition (the membership log, as for
//!   envelopes), a cover that names the signer alone, the epoch key and AEAD, then the document
//!   chunk itself ([`MAX_DOCUMENT_ROWS`], no DEFLATE-compressed column, nothing after the chunk,
//!   the signer as its only actor) before automerge parses it, then automerge's own load and the
//!   loaded heads against the signed heads. Every change of the document is the signer's
//!   because the chunk's actor table names the signer alone and automerge refuses a document
//!   whose columns index an actor outside its table, so no change is listed to check it.
//! - A partition this node holds nothing of (a fresh partner) becomes the loaded document
//!   itself; otherwise the document's changes are merged into a copy of the partition, which
//!   replaces it only if automerge accepts them all.
//! - What an ingested snapshot did is durable in one transaction: the envelopes it released, the
//!   fast-forward mark (log index, author, sequence number), the relayed copy and a new local
//!   snapshot that includes the merged document. Start-up therefore never opens a received
//!   snapshot: it takes the partitions from the local snapshot, replays the log and
//!   fast-forwards admission at each mark's log index.
//! - An adopted document goes into that local snapshot as received (uncompressed; `save()`
//!   would encode the whole document again) and without the view (local snapshot encoding v1),
//!   so that the transaction commits on a helper thread while the view is built: the view is a
//!   start-up cache, derived from the partitions when it is missing, and closing the replica
//!   stores it again.
//!
//! Boundary: no networking and no clock; the actor decides what is offered to whom (through
//! `sync::Source`). The document check reads automerge's chunk layout (actors, heads, and
//! through `envelope::chunk` the header, column metadata and run-length encodings) and nothing
//! else.

use std::collections::BTreeMap;

use puente_crdt::automerge::{Automerge, ChangeHash};
use puente_crdt::{OrgId, Partition, Touched};
use zeroize::Zeroizing;

use super::document::{OwnDoc, save_slot};
use super::local_snapshot::{Part, encode_snapshot};
use super::{Partitions, Replica, ReplicaError, SNAPSHOT_NAME, Slot, signed_changes};
use crate::envelope::admission::{Accepted, Admission, Authority};
use crate::envelope::chunk::{self, ChunkError};
use crate::envelope::format::EnvelopeError;
use crate::envelope::snapshot::{MAX_SNAPSHOT_HEADS, Snapshot};
use crate::identity::PublicKey;
use crate::keys::{Epoch, EpochKeys, NetworkId};
use crate::store::{Store, WriteBatch};
use crate::sync::MAX_SNAPSHOT_BYTES;

/// Own envelopes written since the cached own snapshot before it is rebuilt: a far-behind peer
/// then gets at most 255 envelopes after the snapshot, and the own partition is saved for it at
/// most once per 256 writes.
pub const OWN_SNAPSHOT_EVERY: u64 = 256;

/// Own envelope bytes (as sealed, deflated) written since the cached own snapshot from which it
/// is rebuilt however few envelopes they are, when they also weigh at least a quarter of the
/// snapshot ([`OWN_SNAPSHOT_GROWTH`]). 64 KiB is the size from which sync sends a snapshot to a
/// partner holding none of its envelopes (`sync::SNAPSHOT_FRESH_MIN_BYTES`): the first own
/// snapshot exists as soon as one would be sent. Envelope and snapshot bodies are deflated
/// alike, so the bytes written measure how much the snapshot would grow.
pub const OWN_SNAPSHOT_MIN_BYTES: u64 = 64 * 1024;

/// A rebuild saves the whole partition, so by bytes it waits until the own envelopes since the
/// last one weigh a quarter of that snapshot: the cost of rebuilding stays proportional to what
/// was written, and a partner sent the snapshot applies at most that quarter as envelopes.
const OWN_SNAPSHOT_GROWTH: u64 = 4;

/// Most rows one column of a received snapshot's document may hold. Automerge run-length
/// encodes its columns, so a few bytes can claim billions of operations (a decompression bomb
/// without DEFLATE), and loading allocates and iterates per operation. Offers as puente writes
/// them cost about 18 bytes per operation uncompressed (about 24 operations and 430 bytes per
/// offer; the integration tests check it), so an honest document that fills a sync frame
/// ([`MAX_SNAPSHOT_BYTES`], 8 MiB) holds under 500k operations. 1 Mi rows leaves twice that,
/// and bounds a hostile document: loading one with 1 Mi operations and listing its changes
/// peaks at about 100 MiB and takes about 2 s on the test machine (a debug build, automerge at
/// `opt-level` 2); both grow linearly with the rows.
pub const MAX_DOCUMENT_ROWS: u64 = 1 << 20;

/// Store snapshot entry holding this device's own signed snapshot, the last one built.
const OWN_NAME: &str = "own";

/// Store snapshot entry holding the signed snapshots received from peers, the latest per
/// partition, kept to relay.
const RELAY_NAME: &str = "relay";

/// Store snapshot entry holding the fast-forward marks of every ingested snapshot (and of this
/// device's own envelopes dropped from the log, `prune.rs`).
pub(super) const MARKS_NAME: &str = "marks";

/// Version byte of the `relay` and `marks` encodings.
const STORED_VERSION: u8 = 1;

/// Why a snapshot from a peer was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The signed record itself was refused: format, network, signature, the signer's
    /// authority over the partition, epoch key or AEAD.
    #[error(transparent)]
    Record(#[from] EnvelopeError),
    /// The cover names another author than the signer (or none): a snapshot can only vouch
    /// for its signer's envelopes, since its document holds only the signer's changes.
    #[error("snapshot covers envelopes of another key than its signer")]
    ForeignCover,
    /// A column of the document is DEFLATE-compressed: refused rather than inflated, it could
    /// be a decompression bomb (honest nodes send `save_nocompress()` output).
    #[error("snapshot document has compressed columns, which are refused")]
    CompressedColumns,
    /// A column of the document claims more rows than [`MAX_DOCUMENT_ROWS`].
    #[error("snapshot document claims more than {max} rows in one column")]
    TooManyRows {
        /// The bound.
        max: u64,
    },
    /// The document's string columns expand to more than `max` bytes (a long map key repeated
    /// by a run).
    #[error("snapshot document repeats strings to more than {max} bytes")]
    TooManyStringBytes {
        /// The bound.
        max: u64,
    },
    /// The document does not follow automerge's chunk layout, or has bytes after the chunk.
    #[error("snapshot document is malformed: {0}")]
    Malformed(&'static str),
    /// The document holds changes by another automerge actor than the signer's key.
    #[error("snapshot document holds changes that are not its signer's")]
    ForeignActor,
    /// Automerge refused to load the document.
    #[error("snapshot document does not load")]
    Unloadable,
    /// The loaded document's heads are not the signed heads.
    #[error("snapshot document's heads differ from the signed heads")]
    HeadsMismatch,
    /// The document's changes conflict with changes of the signer this node already holds
    /// (automerge refused to merge them): the signer wrote two histories.
    #[error("snapshot document conflicts with changes its signer sent before")]
    Conflicting,
}

impl SnapshotError {
    /// Whether only a misbehaving peer (or a misbehaving signer) sends this: every refusal but
    /// a snapshot sealed under an epoch key this node does not hold yet.
    pub fn is_invalid(&self) -> bool {
        !matches!(self, SnapshotError::Record(EnvelopeError::UnknownEpoch(_)))
    }
}

impl From<ChunkError> for SnapshotError {
    fn from(e: ChunkError) -> Self {
        match e {
            ChunkError::Malformed(what) => SnapshotError::Malformed(what),
            ChunkError::CompressedColumns => SnapshotError::CompressedColumns,
            ChunkError::TooManyRows { max } => SnapshotError::TooManyRows { max },
            ChunkError::TooManyStringBytes { max } => SnapshotError::TooManyStringBytes { max },
        }
    }
}

impl crate::codec::Truncation for SnapshotError {
    fn truncated() -> Self {
        SnapshotError::Malformed("truncated")
    }
}

type Reader<'a> = crate::codec::Reader<'a, SnapshotError>;

/// A signed partition snapshot this node can send: what `sync::SnapshotInfo` needs. The bytes
/// come from [`Replica::snapshot_bytes`], so relayed copies are not held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotOffer {
    /// The snapshot's digest (SHA-256 of its encoding).
    pub id: [u8; 32],
    /// The organisation whose partition it is.
    pub partition: OrgId,
    /// The envelopes it includes: highest sequence number per author.
    pub covers: BTreeMap<PublicKey, u64>,
    /// Its encoded length.
    pub len: usize,
}

impl SnapshotOffer {
    fn of(snapshot: &Snapshot) -> Self {
        SnapshotOffer {
            id: snapshot.digest(),
            partition: snapshot.partition(),
            covers: snapshot.covers().clone(),
            len: snapshot.as_bytes().len(),
        }
    }
}

/// What [`Replica::ingest_snapshot`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotOutcome {
    /// Merged into the partition; admission skipped to the covered sequence number.
    Applied {
        /// The partition.
        partition: OrgId,
        /// The signer's sequence number now held.
        covered: u64,
        /// Buffered envelopes the snapshot unblocked and that were applied after it.
        released: usize,
    },
    /// Nothing new: this node already holds every envelope the snapshot covers.
    Stale,
}

/// An ingested snapshot's effect on admission, replayed at start-up: before the log entry at
/// `index` is restored, `author` is fast-forwarded to `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark {
    index: u64,
    author: PublicKey,
    seq: u64,
}

/// This device's own snapshot, as last built.
#[derive(Debug)]
struct Own {
    network: NetworkId,
    epoch: Epoch,
    offer: SnapshotOffer,
    bytes: Vec<u8>,
}

/// The replica's snapshot bookkeeping.
#[derive(Debug, Default)]
pub(super) struct SnapshotState {
    /// Read from the store on first use.
    own: Option<Own>,
    own_loaded: bool,
    /// Network, epoch and own sequence number of the last build attempt, so that a partition
    /// that cannot be offered (another device's changes in it, too large) is not saved again
    /// before [`OWN_SNAPSHOT_EVERY`] more writes (or as many bytes as a rebuild waits for).
    attempt: Option<(NetworkId, Epoch, u64)>,
    /// The own envelope bytes written after `base` (the last attempt's sequence number in this
    /// network and epoch, else 0), counted up to sequence number `upto`: so each own envelope
    /// is read from the log at most once to decide on a rebuild.
    written: Written,
    /// Every ingested snapshot's mark, in log order.
    marks: Vec<Mark>,
    /// Received snapshots kept to relay, by partition; read from the store on first use.
    relay: Option<BTreeMap<OrgId, SnapshotOffer>>,
    /// Whether the stored local snapshot has no view (an adopted snapshot was committed without
    /// one, or start-up found none): closing writes one with the view then.
    pub(super) local_lacks_view: bool,
}

impl SnapshotState {
    /// Reads the marks (the rest is read when first needed).
    pub(super) fn load(store: &Store) -> Result<Self, ReplicaError> {
        let marks = match store.get_snapshot(MARKS_NAME)? {
            Some(stored) => decode_marks(&stored.bytes).ok_or(ReplicaError::Damaged("snapshot"))?,
            None => Vec::new(),
        };
        Ok(SnapshotState {
            marks,
            ..SnapshotState::default()
        })
    }

    /// At start-up, fast-forwards `admission` for every mark from `*next` on whose log index is
    /// at most `before` (call it before restoring the log entry `before`, and with `u64::MAX`
    /// after the last one).
    pub(super) fn replay_marks(&self, admission: &mut Admission, next: &mut usize, before: u64) {
        let anyone = |_: &PublicKey, _: &OrgId| true;
        while let Some(mark) = self.marks.get(*next).filter(|m| m.index <= before) {
            // Nothing is buffered at start-up, so the authority is never consulted.
            admission.fast_forward(&BTreeMap::from([(mark.author, mark.seq)]), &anyone);
            *next += 1;
        }
    }

    /// The marks with one more, `author` fast-forwarded to `seq` before log index `index`, in
    /// log order; marks of `author` it makes redundant (at or before `index`, up to `seq`) are
    /// left out.
    pub(super) fn marks_with(&self, index: u64, author: PublicKey, seq: u64) -> Vec<Mark> {
        let mut marks: Vec<Mark> = self
            .marks
            .iter()
            .filter(|m| !(m.author == author && m.index <= index && m.seq <= seq))
            .copied()
            .collect();
        marks.push(Mark { index, author, seq });
        marks.sort_by_key(|m| m.index);
        marks
    }

    /// Replaces the marks (after the store holds `marks`).
    pub(super) fn set_marks(&mut self, marks: Vec<Mark>) {
        self.marks = marks;
    }

    /// The highest sequence number of this device's own envelopes dropped from the log: the
    /// own mark's (`own` is this device's key).
    pub(super) fn pruned_own(&self, own: &PublicKey) -> u64 {
        self.marks
            .iter()
            .filter(|m| m.author == *own)
            .map(|m| m.seq)
            .max()
            .unwrap_or(0)
    }

    /// What the stored own snapshot covers of `own`'s envelopes, if it is one of `network`
    /// at `epoch` (the one offered to peers).
    pub(super) fn own_cover(
        &self,
        network: NetworkId,
        epoch: Epoch,
        own: &PublicKey,
    ) -> Option<u64> {
        self.own
            .as_ref()
            .filter(|o| o.network == network && o.epoch == epoch)
            .and_then(|o| o.offer.covers.get(own).copied())
    }

    /// The log index of the last mark: the local snapshot must include at least this much.
    pub(super) fn last_mark_index(&self) -> Option<u64> {
        self.marks.last().map(|m| m.index)
    }
}

/// Own envelope bytes written since a base sequence number, counted so far.
#[derive(Debug, Default, Clone, Copy)]
struct Written {
    base: u64,
    upto: u64,
    bytes: u64,
}

/// A received snapshot that passed every check but automerge's load: its document, inspected.
struct Checked {
    snapshot: Snapshot,
    covered: u64,
    document: Zeroizing<Vec<u8>>,
}

impl Replica {
    /// The signed snapshot of this organisation's partition, covering this device's envelopes
    /// up to its latest sequence number, sealed under the current epoch key, to offer peers
    /// that are far behind. It is rebuilt (and stored) only when [`OWN_SNAPSHOT_EVERY`] own
    /// envelopes were written since the last one, or own envelopes weighing a quarter of it
    /// and at least [`OWN_SNAPSHOT_MIN_BYTES`]; each own envelope is weighed once, so calling
    /// this often is cheap. `None` while there is none: fewer own envelopes than that, another
    /// device's changes in the partition (only documents with the signer's changes alone are
    /// accepted), or a document too large for one sync frame.
    ///
    /// A store found rolled back ([`Replica::rollback`]) signs and offers none: it vouches for
    /// nothing more under this device's key, and partners hold its envelopes.
    pub fn own_snapshot(&mut self) -> Result<Option<SnapshotOffer>, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        if self.rollback().is_some_and(|r| r.is_proven()) {
            return Ok(None);
        }
        self.load_own()?;
        let network = self.net.node.network;
        let epoch = Epoch(self.net.node.epoch);
        let seq = self.doc.admission.next_seq(&self.public).saturating_sub(1);
        if self.own_due(network, epoch, seq)? {
            self.doc.snapshots.attempt = Some((network, epoch, seq));
            self.build_own(network, epoch, seq)?;
        }
        Ok(self
            .doc
            .snapshots
            .own
            .as_ref()
            .filter(|own| own.network == network && own.epoch == epoch)
            .map(|own| own.offer.clone()))
    }

    /// Builds the own snapshot if it is due and the own partition is loaded anyway (it was
    /// written to): called when the replica closes, so that a command-line import leaves a
    /// fresh snapshot for the next partner without costing a load of the partition.
    pub(super) fn own_snapshot_if_loaded(&mut self) -> Result<(), ReplicaError> {
        if self.doc.partitions.loaded(self.net.node.org).is_some() {
            self.own_snapshot()?;
        }
        Ok(())
    }

    /// Whether the own snapshot at `seq` should be (re)built: see [`Replica::own_snapshot`].
    fn own_due(
        &mut self,
        network: NetworkId,
        epoch: Epoch,
        seq: u64,
    ) -> Result<bool, ReplicaError> {
        let current = |n: NetworkId, e: Epoch| n == network && e == epoch;
        let base = match self.doc.snapshots.attempt {
            Some((n, e, s)) if current(n, e) => s,
            _ => 0,
        };
        if seq <= base {
            return Ok(false);
        }
        if seq - base >= OWN_SNAPSHOT_EVERY {
            return Ok(true);
        }
        // Own envelopes dropped from the log reach a peer only inside a snapshot: one must
        // cover them in this network and epoch (after a key rotation, the old one is not
        // offered).
        let pruned = self.doc.snapshots.pruned_own(&self.public);
        if pruned > 0
            && self
                .doc
                .snapshots
                .own_cover(network, epoch, &self.public)
                .is_none_or(|c| c < pruned)
        {
            return Ok(true);
        }
        let own_len = self
            .doc
            .snapshots
            .own
            .as_ref()
            .filter(|own| current(own.network, own.epoch))
            .map_or(0, |own| own.offer.len as u64);
        let threshold = OWN_SNAPSHOT_MIN_BYTES.max(own_len / OWN_SNAPSHOT_GROWTH);
        let mut written = self.doc.snapshots.written;
        if written.base != base || written.upto < base {
            written = Written {
                base,
                upto: base,
                bytes: 0,
            };
        }
        while written.upto < seq && written.bytes < threshold {
            let next = written.upto + 1;
            let Some(&index) = self.doc.log_index.get(&(self.public, next)) else {
                break;
            };
            let len = self.store.read_log_entry(index)?.map_or(0, |e| e.len());
            written.bytes = written.bytes.saturating_add(len as u64);
            written.upto = next;
        }
        self.doc.snapshots.written = written;
        Ok(written.bytes >= threshold)
    }

    /// Every snapshot this node can send: its own (see [`Replica::own_snapshot`]) and the
    /// latest one received for each other partition, to relay.
    pub fn snapshot_offers(&mut self) -> Result<Vec<SnapshotOffer>, ReplicaError> {
        let mut out: Vec<SnapshotOffer> = self.own_snapshot()?.into_iter().collect();
        self.load_relay()?;
        if let Some(relay) = &self.doc.snapshots.relay {
            out.extend(relay.values().cloned());
        }
        Ok(out)
    }

    /// The bytes of a snapshot listed by [`Replica::snapshot_offers`] (`None` for another id).
    pub fn snapshot_bytes(&self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, ReplicaError> {
        if let Some(own) = self
            .doc
            .snapshots
            .own
            .as_ref()
            .filter(|o| o.offer.id == *id)
        {
            return Ok(Some(own.bytes.clone()));
        }
        let listed = self
            .doc
            .snapshots
            .relay
            .as_ref()
            .is_some_and(|relay| relay.values().any(|o| o.id == *id));
        if !listed {
            return Ok(None);
        }
        Ok(self
            .read_relay()?
            .into_values()
            .find(|bytes| Snapshot::from_bytes(bytes).is_ok_and(|s| s.digest() == *id)))
    }

    /// Verifies a partition snapshot from a peer and merges it: its document's changes into the
    /// partition and the view, admission fast-forwarded so that the signer's envelopes up to
    /// the covered sequence number are duplicates from now on (and buffered successors apply),
    /// all durable before this returns, together with a copy kept to relay. A partition this
    /// node holds nothing of becomes the document itself. A snapshot that covers nothing new is
    /// [`SnapshotOutcome::Stale`]; a refused one is [`ReplicaError::Snapshot`] and changes
    /// nothing.
    pub fn ingest_snapshot(&mut self, bytes: &[u8]) -> Result<SnapshotOutcome, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        let writers = self.net.writers(&self.doc.limits.caps);
        let Some(Checked {
            snapshot,
            covered,
            mut document,
        }) = check_snapshot(
            bytes,
            self.net.node.network,
            &writers,
            &self.net.keys,
            &self.doc.admission,
        )?
        else {
            return Ok(SnapshotOutcome::Stale);
        };
        let org = snapshot.partition();
        let signer = snapshot.signer();
        if self.is_erased_author(&signer) || self.erasure_pending() {
            // History an erasure removed: superseded by the partition's re-base.
            return Ok(SnapshotOutcome::Stale);
        }
        if signer == self.public {
            // This device's own snapshot covering more than this store holds (a stale one was
            // `Stale` above): recorded before anything of it is applied.
            self.notice_rollback(super::rollback::RollbackEvidence::Snapshot, covered)?;
        }
        let writers = self.net.writers(&self.doc.limits.caps);
        // What can fail without changing anything comes first: loading the document and
        // comparing its heads, merging it into a copy of the partition (automerge refuses
        // changes that conflict with the signer's changes held already, and may have applied
        // some of them by then), and reading the relayed copies.
        let adopt = holds_nothing_of(&mut self.doc.partitions, org);
        let (merged, touched) = if adopt {
            let mut p = Partition::load(org, &document, self.public.as_bytes())
                .map_err(|_| SnapshotError::Unloadable)?;
            check_heads(&p.heads(), &snapshot)?;
            let all = Touched {
                all: true,
                ..Touched::default()
            };
            (p, all)
        } else {
            let doc = Automerge::load(&document).map_err(|_| SnapshotError::Unloadable)?;
            check_heads(&doc.get_heads(), &snapshot)?;
            let changes = doc.get_changes(&[]);
            drop(doc);
            let mut merged = self.doc.partitions.get_mut(org)?.clone();
            let touched = merged
                .apply_changes(changes)
                .map_err(|_| SnapshotError::Conflicting)?;
            (merged, touched)
        };
        // This device's own snapshots are offered as its own, not relayed.
        let relay = if signer == self.public {
            None
        } else {
            let mut relay = self.read_relay()?;
            relay.insert(org, snapshot.to_bytes());
            Some(relay)
        };
        let mut marks = self.doc.snapshots.marks.clone();
        marks.push(Mark {
            index: self.doc.log_len,
            author: signer,
            seq: covered,
        });

        // From here on memory changes; a failed commit poisons the replica.
        let released = self.doc.admission.fast_forward(snapshot.covers(), &writers);
        let n = released.len();
        let result = if adopt && released.is_empty() {
            let document = std::mem::take(&mut *document);
            self.commit_adopted(merged, &touched, document, &marks, relay.as_ref())
        } else {
            self.commit_merged(merged, &touched, released, &marks, relay.as_ref())
        };
        if let Err(e) = result {
            self.poisoned = true;
            return Err(e);
        }
        self.doc.snapshot_covers = self.doc.log_len;
        self.doc.snapshots.marks = marks;
        if let Some(mut relay) = relay {
            // The relayed list as stored now, without reading it back (a session asks next).
            // (One that does not parse is left to `load_relay` to report.)
            let infos = match self.doc.snapshots.relay.take() {
                Some(infos) => Some(infos),
                None => {
                    relay.remove(&org);
                    relay_offers(&relay).ok()
                }
            };
            if let Some(mut infos) = infos {
                infos.insert(org, SnapshotOffer::of(&snapshot));
                self.doc.snapshots.relay = Some(infos);
            }
        }
        Ok(SnapshotOutcome::Applied {
            partition: org,
            covered,
            released: n,
        })
    }

    /// Makes an adopted document (nothing released after it) the partition and durable: the
    /// local snapshot stores it as received, and leaves the view out (encoding v1, which
    /// start-up derives the view for), so that the commit runs on a helper thread while this one
    /// builds the view, instead of after it. The view is a start-up cache: [`Replica::close`]
    /// writes a local snapshot with it again.
    fn commit_adopted(
        &mut self,
        adopted: Partition,
        touched: &Touched,
        document: Vec<u8>,
        marks: &[Mark],
        relay: Option<&BTreeMap<OrgId, Vec<u8>>>,
    ) -> Result<(), ReplicaError> {
        let org = adopted.org();
        self.doc
            .partitions
            .slots
            .insert(org, Slot::Loaded(Box::new(adopted)));
        let mut batch = WriteBatch::default();
        batch.put_snapshot(MARKS_NAME, self.doc.log_len, encode_marks(marks));
        if let Some(relay) = relay {
            batch.put_snapshot(RELAY_NAME, self.doc.log_len, encode_relay(relay));
        }
        let own = self.own_doc()?;
        let parts = self.save_partitions(org, Some(document), own.as_ref());
        batch.put_snapshot(
            SNAPSHOT_NAME,
            self.doc.log_len,
            encode_snapshot(&parts, None),
        );
        drop(parts);
        let Some(Slot::Loaded(partition)) = self.doc.partitions.slots.get(&org) else {
            return Err(ReplicaError::Damaged("snapshot"));
        };
        let store = &self.store;
        let view = &mut self.doc.view;
        let committed = std::thread::scope(|scope| {
            let commit = scope.spawn(move || store.commit(batch));
            view.refresh(partition, touched);
            commit.join()
        });
        if let Err(e) = committed.unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
            return Err(e.into());
        }
        self.doc.snapshots.local_lacks_view = true;
        Ok(())
    }

    /// Puts the merged partition in place, applies the envelopes the snapshot released and
    /// commits all of it with a local snapshot that includes the merged partition and the view.
    fn commit_merged(
        &mut self,
        merged: Partition,
        touched: &Touched,
        released: Vec<Accepted>,
        marks: &[Mark],
        relay: Option<&BTreeMap<OrgId, Vec<u8>>>,
    ) -> Result<(), ReplicaError> {
        let mut batch = WriteBatch::default();
        self.merge_snapshot(merged, touched, released, &mut batch)?;
        batch.put_snapshot(MARKS_NAME, self.doc.log_len, encode_marks(marks));
        if let Some(relay) = relay {
            batch.put_snapshot(RELAY_NAME, self.doc.log_len, encode_relay(relay));
        }
        let own = self.own_doc()?;
        let parts = self.doc.partitions.save_all(own.as_ref());
        let view = self.doc.view.encode();
        batch.put_snapshot(
            SNAPSHOT_NAME,
            self.doc.log_len,
            encode_snapshot(&parts, Some(&view)),
        );
        self.store.commit(batch)?;
        self.doc.snapshots.local_lacks_view = false;
        Ok(())
    }

    /// Every partition's saved bytes for the local snapshot, with `received` (a document as it
    /// arrived, which loads as it is) standing for `org`'s instead of saving it again.
    fn save_partitions(
        &mut self,
        org: OrgId,
        received: Option<Vec<u8>>,
        own: Option<&OwnDoc>,
    ) -> Vec<(OrgId, Part<Vec<u8>>)> {
        let mut received = received;
        self.doc
            .partitions
            .slots
            .iter_mut()
            .map(|(o, slot)| match received.take_if(|_| *o == org) {
                Some(bytes) => (*o, Part::Saved(bytes)),
                None => (*o, save_slot(*o, slot, own)),
            })
            .collect()
    }

    /// The own organisation and the sorted heads of the stored own snapshot, if there is one
    /// (see [`OwnDoc`]).
    pub(super) fn own_doc(&mut self) -> Result<Option<OwnDoc>, ReplicaError> {
        self.load_own()?;
        let Some(own) = self.doc.snapshots.own.as_ref() else {
            return Ok(None);
        };
        let Ok(snapshot) = Snapshot::from_bytes(&own.bytes) else {
            return Ok(None);
        };
        let mut heads = snapshot.heads().to_vec();
        heads.sort_unstable();
        Ok(Some((self.net.node.org, heads)))
    }

    /// Puts the merged partition in place and applies the envelopes the snapshot released, to
    /// the partitions and the view; appends those envelopes to `batch` and the log bookkeeping.
    fn merge_snapshot(
        &mut self,
        merged: Partition,
        touched: &Touched,
        released: Vec<Accepted>,
        batch: &mut WriteBatch,
    ) -> Result<(), ReplicaError> {
        self.doc.view.refresh(&merged, touched);
        self.doc
            .partitions
            .slots
            .insert(merged.org(), Slot::Loaded(Box::new(merged)));
        for (env, opened) in released {
            batch.append_log(env.to_bytes());
            self.doc
                .log_index
                .insert((env.author(), env.seq()), self.doc.log_len);
            self.doc.log_len += 1;
            let Some(decoded) = signed_changes(&env.author(), opened.changes) else {
                tracing::warn!(partition = %env.partition(), "quarantined an envelope whose changes are not its signer's");
                continue;
            };
            let p = self.doc.partitions.get_mut(env.partition())?;
            match p.apply_changes(decoded) {
                Ok(t) => self.doc.view.refresh(p, &t),
                Err(e) => {
                    tracing::warn!(partition = %env.partition(), error = %e, "a change did not apply");
                }
            }
        }
        Ok(())
    }

    /// Builds, seals and stores the own snapshot at `seq`, unless the partition cannot be
    /// offered (then the previous one, if any, stays).
    fn build_own(
        &mut self,
        network: NetworkId,
        epoch: Epoch,
        seq: u64,
    ) -> Result<(), ReplicaError> {
        let org = self.net.node.org;
        let public = self.public;
        let p = self.doc.partitions.get_mut(org)?;
        let heads: Vec<[u8; 32]> = p.heads().iter().map(|h| h.0).collect();
        let document = p.save_nocompress();
        if document.len() > MAX_SNAPSHOT_BYTES {
            tracing::debug!("own partition is too large for a snapshot frame");
            return Ok(());
        }
        if let Err(e) = inspect_document(&document, &public) {
            // Another device of this organisation wrote too: no key may vouch for all of it.
            tracing::debug!(error = %e, "own partition cannot be offered as a snapshot");
            return Ok(());
        }
        let key = self
            .net
            .keys
            .key(epoch)
            .ok_or(ReplicaError::Damaged("epoch key"))?;
        let covers = BTreeMap::from([(public, seq)]);
        let snapshot = Snapshot::seal(
            network, org, &self.key, epoch, key, &covers, &heads, &document,
        )?;
        if snapshot.as_bytes().len() > MAX_SNAPSHOT_BYTES {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.put_snapshot(OWN_NAME, self.doc.log_len, snapshot.as_bytes());
        self.store.commit(batch)?;
        self.doc.snapshots.own = Some(Own {
            network,
            epoch,
            offer: SnapshotOffer::of(&snapshot),
            bytes: snapshot.to_bytes(),
        });
        Ok(())
    }

    /// Reads the stored own snapshot once.
    pub(super) fn load_own(&mut self) -> Result<(), ReplicaError> {
        if self.doc.snapshots.own_loaded {
            return Ok(());
        }
        self.doc.snapshots.own_loaded = true;
        let Some(stored) = self.store.get_snapshot(OWN_NAME)? else {
            return Ok(());
        };
        // A cache: one that does not parse as this device's own is rebuilt.
        let Ok(snapshot) = Snapshot::from_bytes(&stored.bytes) else {
            return Ok(());
        };
        let Some(&seq) = snapshot.covers().get(&self.public) else {
            return Ok(());
        };
        if snapshot.signer() != self.public || snapshot.partition() != self.net.node.org {
            return Ok(());
        }
        let (network, epoch) = (snapshot.network(), snapshot.epoch());
        self.doc.snapshots.attempt = Some((network, epoch, seq));
        self.doc.snapshots.own = Some(Own {
            network,
            epoch,
            offer: SnapshotOffer::of(&snapshot),
            bytes: stored.bytes,
        });
        Ok(())
    }

    /// Lists the stored relayed snapshots once.
    fn load_relay(&mut self) -> Result<(), ReplicaError> {
        if self.doc.snapshots.relay.is_some() {
            return Ok(());
        }
        self.doc.snapshots.relay = Some(relay_offers(&self.read_relay()?)?);
        Ok(())
    }

    /// The stored relayed snapshots, by partition.
    fn read_relay(&self) -> Result<BTreeMap<OrgId, Vec<u8>>, ReplicaError> {
        match self.store.get_snapshot(RELAY_NAME)? {
            Some(stored) => decode_relay(&stored.bytes).ok_or(ReplicaError::Damaged("snapshot")),
            None => Ok(BTreeMap::new()),
        }
    }
}

/// Every check of a received snapshot before automerge parses its document, in order; `None`
/// when it covers nothing new (checked after the signature and authority, so a forged stale
/// snapshot is still refused). The caller loads the document and checks its heads
/// ([`check_heads`]).
fn check_snapshot(
    bytes: &[u8],
    network: NetworkId,
    authority: &impl Authority,
    keys: &impl EpochKeys,
    admission: &Admission,
) -> Result<Option<Checked>, SnapshotError> {
    let snapshot = Snapshot::from_bytes(bytes)?;
    snapshot.verify(network, authority)?;
    let signer = snapshot.signer();
    let covered = match snapshot.covers().iter().next() {
        Some((author, seq)) if *author == signer && snapshot.covers().len() == 1 => *seq,
        _ => return Err(SnapshotError::ForeignCover),
    };
    if covered < admission.next_seq(&signer) {
        return Ok(None);
    }
    let document = Zeroizing::new(snapshot.open(keys)?);
    // The document's only actor is the signer: so is every change's (automerge refuses an
    // actor index outside the table), and no change needs listing to check it.
    inspect_document(&document, &signer)?;
    Ok(Some(Checked {
        snapshot,
        covered,
        document,
    }))
}

/// What each relayed snapshot offers.
fn relay_offers(
    relay: &BTreeMap<OrgId, Vec<u8>>,
) -> Result<BTreeMap<OrgId, SnapshotOffer>, ReplicaError> {
    relay
        .iter()
        .map(|(org, bytes)| {
            let snapshot =
                Snapshot::from_bytes(bytes).map_err(|_| ReplicaError::Damaged("snapshot"))?;
            Ok((*org, SnapshotOffer::of(&snapshot)))
        })
        .collect()
}

/// The stored own snapshot's bytes, as written (`None` when there is none).
pub(super) fn stored_own(store: &Store) -> Result<Option<Vec<u8>>, ReplicaError> {
    Ok(store.get_snapshot(OWN_NAME)?.map(|s| s.bytes))
}

/// Whether this node holds nothing of `org`'s partition: no slot, or an empty document.
fn holds_nothing_of(partitions: &mut Partitions, org: OrgId) -> bool {
    match partitions.slots.get_mut(&org) {
        None => true,
        Some(Slot::Loaded(p)) => p.heads().is_empty(),
        Some(Slot::Saved(_) | Slot::InOwnSnapshot(_)) => false,
    }
}

/// The loaded document's heads against the signed heads (sorted, as sealed).
fn check_heads(heads: &[ChangeHash], snapshot: &Snapshot) -> Result<(), SnapshotError> {
    let mut heads: Vec<[u8; 32]> = heads.iter().map(|h| h.0).collect();
    heads.sort_unstable();
    if heads != snapshot.heads() {
        return Err(SnapshotError::HeadsMismatch);
    }
    Ok(())
}

/// Checks an automerge document chunk before automerge parses it: exactly one chunk, of type
/// document, whose only actor is `signer`, with at most [`MAX_SNAPSHOT_HEADS`] heads, no
/// DEFLATE-compressed column, no column over [`MAX_DOCUMENT_ROWS`] rows and strings within
/// [`chunk::MAX_STRING_BYTES`] (the scan in `envelope::chunk`). What follows the columns (the head
/// indices) and everything about meaning is left to automerge's own load.
///
/// Layout (automerge storage format): the chunk header (magic, checksum, type, LEB128 length);
/// then LEB128 actor count and per actor a LEB128 length and the bytes; LEB128 head count and
/// 32 bytes per head; the change columns' and then the operation columns' metadata (LEB128
/// count, then per column a LEB128 specification and a LEB128 data length); the change column
/// data; the operation column data; the head indices.
fn inspect_document(bytes: &[u8], signer: &PublicKey) -> Result<(), SnapshotError> {
    let (kind, mut r) = chunk::open(bytes)?;
    if kind != chunk::CHUNK_DOCUMENT {
        return Err(SnapshotError::Malformed("not a document chunk"));
    }
    if chunk::uleb(&mut r)? != 1 {
        return Err(SnapshotError::ForeignActor);
    }
    let actor_len = chunk::usize_of(chunk::uleb(&mut r)?)?;
    if r.take(actor_len)? != signer.as_bytes() {
        return Err(SnapshotError::ForeignActor);
    }
    let heads = chunk::uleb(&mut r)?;
    if heads > u64::from(MAX_SNAPSHOT_HEADS) {
        return Err(SnapshotError::Malformed("too many heads"));
    }
    r.take(chunk::usize_of(heads)? * 32)?;
    let mut columns = chunk::column_metadata(&mut r)?;
    columns.extend(chunk::column_metadata(&mut r)?);
    let bounds = chunk::Bounds {
        rows: MAX_DOCUMENT_ROWS,
        string_bytes: chunk::MAX_STRING_BYTES,
    };
    chunk::check_columns(&mut r, &columns, bounds)?;
    Ok(())
}

/// `marks` encoding v1: version, u32 count, then per mark the u64 log index, the 32-byte author
/// key and the u64 sequence number.
pub(super) fn encode_marks(marks: &[Mark]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + marks.len() * 48);
    out.push(STORED_VERSION);
    out.extend_from_slice(&u32::try_from(marks.len()).unwrap_or(u32::MAX).to_be_bytes());
    for mark in marks {
        out.extend_from_slice(&mark.index.to_be_bytes());
        out.extend_from_slice(mark.author.as_bytes());
        out.extend_from_slice(&mark.seq.to_be_bytes());
    }
    out
}

fn decode_marks(bytes: &[u8]) -> Option<Vec<Mark>> {
    let mut r = Reader::new(bytes);
    if r.u8().ok()? != STORED_VERSION {
        return None;
    }
    let count = r.u32().ok()?;
    let mut marks = Vec::new();
    for _ in 0..count {
        marks.push(Mark {
            index: r.u64().ok()?,
            author: PublicKey::from_bytes(r.array().ok()?),
            seq: r.u64().ok()?,
        });
    }
    (r.remaining() == 0).then_some(marks)
}

/// `relay` encoding v1: version, u32 count, then per snapshot a u32 length and the signed
/// snapshot (format v1). The partition is read from each snapshot's header.
fn encode_relay(relay: &BTreeMap<OrgId, Vec<u8>>) -> Vec<u8> {
    let len: usize = relay.values().map(|b| b.len() + 4).sum();
    let mut out = Vec::with_capacity(5 + len);
    out.push(STORED_VERSION);
    out.extend_from_slice(&u32::try_from(relay.len()).unwrap_or(u32::MAX).to_be_bytes());
    for bytes in relay.values() {
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

fn decode_relay(bytes: &[u8]) -> Option<BTreeMap<OrgId, Vec<u8>>> {
    let mut r = Reader::new(bytes);
    if r.u8().ok()? != STORED_VERSION {
        return None;
    }
    let count = r.u32().ok()?;
    let mut out = BTreeMap::new();
    for _ in 0..count {
        let len = r.u32().ok()? as usize;
        let snapshot = r.take(len).ok()?;
        let org = Snapshot::from_bytes(snapshot).ok()?.partition();
        out.insert(org, snapshot.to_vec());
    }
    (r.remaining() == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SecretKey;
    use proptest::prelude::*;
    use puente_crdt::automerge::transaction::Transactable as _;
    use puente_crdt::automerge::{ActorId, AutoCommit, ROOT};

    use crate::envelope::chunk::build::{sleb as put_sleb, uleb as put_uleb};
    use crate::envelope::chunk::{COLUMN_BOOLEAN, COLUMN_DEFLATE, COLUMN_STRING};

    fn signer() -> PublicKey {
        SecretKey::from_bytes(&[5; 32]).public()
    }

    /// A document written by `actor` with a value of `len` bytes.
    fn document(actor: &PublicKey, len: usize) -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor.as_bytes().as_slice()));
        doc.put(ROOT, "offer", "x".repeat(len)).expect("put");
        doc.put(ROOT, "beds", 2).expect("put");
        doc.commit();
        doc
    }

    /// A document chunk by hand: `actor` alone, no heads, no change columns, and the given
    /// operation columns (specification, data). The checksum is not computed: the inspection
    /// leaves it to automerge.
    fn document_chunk(actor: &[u8], columns: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        put_uleb(1, &mut body);
        put_uleb(actor.len() as u64, &mut body);
        body.extend_from_slice(actor);
        put_uleb(0, &mut body);
        put_uleb(0, &mut body);
        chunk::build::columns(columns, &mut body);
        chunk::build::chunk(chunk::CHUNK_DOCUMENT, &body)
    }

    /// Column specification: id 1, the given type.
    fn spec(kind: u32) -> u32 {
        (1 << 4) | kind
    }

    #[test]
    fn honest_documents_pass() {
        let key = signer();
        let mut doc = document(&key, 4096);
        assert_eq!(inspect_document(&doc.save_nocompress(), &key), Ok(()));
        let mut empty = AutoCommit::new().with_actor(ActorId::from(key.as_bytes().as_slice()));
        empty.put(ROOT, "k", "v").expect("put");
        assert_eq!(inspect_document(&empty.save_nocompress(), &key), Ok(()));
        // The run-length scan itself is tested in `envelope::chunk`.
    }

    #[test]
    fn compressed_columns_are_refused() {
        let key = signer();
        let mut doc = document(&key, 4096);
        let compressed = doc.save();
        assert!(compressed.len() < doc.save_nocompress().len());
        assert_eq!(
            inspect_document(&compressed, &key),
            Err(SnapshotError::CompressedColumns)
        );
        let flagged = document_chunk(key.as_bytes(), &[(spec(2) | COLUMN_DEFLATE, vec![1, 0])]);
        assert_eq!(
            inspect_document(&flagged, &key),
            Err(SnapshotError::CompressedColumns)
        );
    }

    #[test]
    fn run_length_bombs_are_refused_before_their_values_are_read() {
        let key = signer();
        let max = i64::try_from(MAX_DOCUMENT_ROWS).expect("fits");
        // One repeat run claiming 2^40 rows in a few bytes.
        let mut repeat = Vec::new();
        put_sleb(1 << 40, &mut repeat);
        put_uleb(0, &mut repeat);
        // A literal run claiming more rows than the bound, with no values behind it.
        let mut literal = Vec::new();
        put_sleb(-(max + 1), &mut literal);
        // Null runs and boolean runs that add up past the bound.
        let mut nulls = Vec::new();
        for _ in 0..2 {
            put_sleb(0, &mut nulls);
            put_uleb(MAX_DOCUMENT_ROWS / 2 + 1, &mut nulls);
        }
        let mut booleans = Vec::new();
        put_uleb(MAX_DOCUMENT_ROWS, &mut booleans);
        put_uleb(1, &mut booleans);
        for (kind, data) in [
            (2, repeat),
            (COLUMN_STRING, literal),
            (3, nulls),
            (COLUMN_BOOLEAN, booleans),
        ] {
            assert_eq!(
                inspect_document(&document_chunk(key.as_bytes(), &[(spec(kind), data)]), &key),
                Err(SnapshotError::TooManyRows {
                    max: MAX_DOCUMENT_ROWS
                }),
                "column type {kind}"
            );
        }
        // A long key repeated by a run: few rows, a gigabyte of keys for automerge to hash.
        let mut keys = Vec::new();
        put_sleb(1 << 20, &mut keys);
        put_uleb(1 << 10, &mut keys);
        keys.extend_from_slice(&[b'k'; 1 << 10]);
        assert_eq!(
            inspect_document(
                &document_chunk(key.as_bytes(), &[(spec(COLUMN_STRING), keys)]),
                &key
            ),
            Err(SnapshotError::TooManyStringBytes {
                max: chunk::MAX_STRING_BYTES
            })
        );
        // Exactly the bound is fine.
        let mut full = Vec::new();
        put_sleb(max, &mut full);
        put_uleb(0, &mut full);
        assert_eq!(
            inspect_document(&document_chunk(key.as_bytes(), &[(spec(2), full)]), &key),
            Ok(())
        );
    }

    #[test]
    fn anything_but_one_document_chunk_by_the_signer_is_refused() {
        let key = signer();
        let mut doc = document(&key, 10);
        let bytes = doc.save_nocompress();
        // A chunk after the document (automerge would load it too, compressed or not).
        let mut longer = bytes.clone();
        longer.extend_from_slice(&bytes);
        assert!(matches!(
            inspect_document(&longer, &key),
            Err(SnapshotError::Malformed(_))
        ));
        assert!(matches!(
            inspect_document(&bytes[..bytes.len() - 1], &key),
            Err(SnapshotError::Malformed(_))
        ));
        // Another actor, or two.
        let other = SecretKey::from_bytes(&[6; 32]).public();
        assert_eq!(
            inspect_document(&bytes, &other),
            Err(SnapshotError::ForeignActor)
        );
        let mut theirs = document(&other, 10);
        let mut merged = document(&key, 10);
        merged.merge(&mut theirs).expect("merges");
        assert_eq!(
            inspect_document(&merged.save_nocompress(), &key),
            Err(SnapshotError::ForeignActor)
        );
        // A change chunk is not a document.
        let change = doc
            .get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec();
        assert_eq!(
            inspect_document(&change, &key),
            Err(SnapshotError::Malformed("not a document chunk"))
        );
        assert!(matches!(
            inspect_document(b"not automerge", &key),
            Err(SnapshotError::Malformed(_))
        ));
    }

    #[test]
    fn stored_marks_and_relays_round_trip() {
        let marks = vec![
            Mark {
                index: 3,
                author: signer(),
                seq: 1100,
            },
            Mark {
                index: 9,
                author: signer(),
                seq: 2000,
            },
        ];
        assert_eq!(decode_marks(&encode_marks(&marks)), Some(marks.clone()));
        let mut bytes = encode_marks(&marks);
        bytes.push(0);
        assert_eq!(decode_marks(&bytes), None);
        assert_eq!(
            decode_relay(&encode_relay(&BTreeMap::new())),
            Some(BTreeMap::new())
        );
    }

    const PASS: &[u8] = b"a long test passphrase";
    const NOW: puente_crdt::Time = puente_crdt::Time(1_795_000_000);

    fn replica(dir: &std::path::Path, name: &str) -> Replica {
        let options = super::super::InitOptions {
            name: name.into(),
            counties: vec!["06067".parse().expect("county")],
            intake: "hotline".into(),
            tz: "America/Los_Angeles".into(),
        };
        Replica::init(dir, PASS, options, NOW).expect("init")
    }

    /// A founder and a member of its network.
    fn pair(dir: &std::path::Path) -> (Replica, Replica) {
        let mut a = replica(&dir.join("a"), "Founder");
        let mut b = replica(&dir.join("b"), "Partner");
        a.create_network("Test Network", NOW).expect("founded");
        a.admit_org(
            "Partner",
            crate::membership::Role::Member,
            b.device_keys(),
            NOW,
        )
        .expect("admitted");
        b.join(&a.membership_ops(), "Test Network").expect("joins");
        (a, b)
    }

    /// `len` letters from a small generator seeded with `seed`, so that labels and handles do
    /// not deflate to nothing and an import weighs what real ones do.
    fn letters(seed: u64, len: usize) -> String {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    }

    /// `n` valid offers with varied handles and labels.
    fn offers(n: usize) -> Vec<puente_crdt::NewOffer> {
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        (0..n)
            .map(|_| {
                let handle = letters(NEXT.fetch_add(1, Relaxed), 32);
                let mut offer = puente_crdt::test_utils::sample_offer(&handle, NOW);
                offer.fields.label = letters(NEXT.fetch_add(1, Relaxed), 80);
                offer
            })
            .collect()
    }

    /// Imports offers in a few envelopes until they weigh [`OWN_SNAPSHOT_MIN_BYTES`]; returns
    /// how many envelopes that took.
    fn import_enough(r: &mut Replica) -> u64 {
        let key = r.public_key();
        let first = r.doc.admission.next_seq(&key);
        loop {
            r.import_offers(offers(250), NOW, &mut |_| {})
                .expect("imported");
            let bytes: usize = r
                .envelopes_after(&key, first - 1, usize::MAX, usize::MAX)
                .expect("reads")
                .iter()
                .map(Vec::len)
                .sum();
            if bytes as u64 >= OWN_SNAPSHOT_MIN_BYTES {
                return r.doc.admission.next_seq(&key) - first;
            }
        }
    }

    fn handles(r: &Replica) -> Vec<String> {
        let mut out: Vec<String> = r.view().offers().map(|o| o.fields.handle.clone()).collect();
        out.sort();
        out
    }

    #[test]
    fn an_import_is_followed_by_an_own_snapshot_built_at_close() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut a, _) = pair(tmp.path());
        let key = a.public_key();
        let envelopes = import_enough(&mut a);
        assert!(envelopes < OWN_SNAPSHOT_EVERY / 8, "{envelopes} envelopes");
        let seq = a.doc.admission.next_seq(&key) - 1;
        // Closing builds it (the partition is loaded, having been written to)...
        let dir = a.dir().to_path_buf();
        a.snapshot()
            .expect("a local snapshot, so that opening loads no partition");
        a.close().expect("closes");
        let mut a = Replica::open(&dir, PASS).expect("reopens");
        let stored = a.store.get_snapshot(OWN_NAME).expect("reads");
        let stored = Snapshot::from_bytes(&stored.expect("built at close").bytes).expect("parses");
        assert_eq!(stored.covers(), &BTreeMap::from([(key, seq)]));
        // ...and it is offered as it is, without loading the partition.
        let offer = a.own_snapshot().expect("checks").expect("an own snapshot");
        assert_eq!(offer.id, stored.digest());
        assert!(a.doc.partitions.loaded(a.org()).is_none());
        // A few small writes since do not make it stale enough to rebuild.
        for i in 0..3 {
            a.add_offer(offers(1).remove(0), NOW.plus(i))
                .expect("added");
        }
        assert_eq!(a.own_snapshot().expect("checks"), Some(offer.clone()));
        // Another import as large as a quarter of it does.
        import_enough(&mut a);
        let rebuilt = a.own_snapshot().expect("checks").expect("an own snapshot");
        assert_ne!(rebuilt.id, offer.id);
        assert_eq!(rebuilt.covers[&key], a.doc.admission.next_seq(&key) - 1);
    }

    #[test]
    fn a_fresh_partner_adopts_the_document_and_keeps_it_across_a_restart() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut a, mut b) = pair(tmp.path());
        let key = a.public_key();
        import_enough(&mut a);
        let offer = a.own_snapshot().expect("builds").expect("due by bytes");
        let bytes = a.snapshot_bytes(&offer.id).expect("reads").expect("listed");
        let b_log = b.stats().log_len;
        let covered = offer.covers[&key];
        assert_eq!(
            b.ingest_snapshot(&bytes).expect("applies"),
            SnapshotOutcome::Applied {
                partition: a.org(),
                covered,
                released: 0,
            }
        );
        assert_eq!(handles(&b), handles(&a));
        assert_eq!(
            b.stats().log_len,
            b_log,
            "no envelope of A's entered B's log"
        );
        // The local snapshot holds the document as it came, and no view: closing adds it.
        let local = b.store.get_snapshot(SNAPSHOT_NAME).expect("reads");
        let local = local.expect("written with the ingest");
        assert_eq!(local.log_index, b.stats().log_len);
        let (parts, view) =
            super::super::local_snapshot::decode_snapshot(&local.bytes).expect("decodes");
        let document = Snapshot::from_bytes(&bytes)
            .expect("parses")
            .open(&a.net.keys)
            .expect("opens");
        assert!(parts.iter().any(|(org, doc)| *org == a.org()
            && *doc == super::super::local_snapshot::Part::Saved(&document[..])));
        assert_eq!(view, None);
        assert!(b.doc.snapshots.local_lacks_view);

        // A later envelope applies on top; everything survives a restart.
        a.add_offer(offers(1).remove(0), NOW).expect("added");
        let next = a
            .envelopes_after(&key, covered, 1, usize::MAX)
            .expect("reads");
        assert_eq!(
            b.ingest(&next[0]).expect("applies"),
            super::super::IngestOutcome::Applied(1)
        );
        let dir = b.dir().to_path_buf();
        b.close().expect("closes");
        let mut b = Replica::open(&dir, PASS).expect("reopens");
        assert!(!b.doc.snapshots.local_lacks_view, "closing stored the view");
        assert_eq!(handles(&b), handles(&a));
        assert_eq!(b.version_vector()[&key], covered + 1);
        assert_eq!(
            b.ingest_snapshot(&bytes).expect("checks"),
            SnapshotOutcome::Stale
        );
        a.add_offer(offers(1).remove(0), NOW).expect("added");
        let next = a
            .envelopes_after(&key, covered + 1, 1, usize::MAX)
            .expect("reads");
        assert_eq!(
            b.ingest(&next[0]).expect("applies"),
            super::super::IngestOutcome::Applied(1)
        );
        assert_eq!(handles(&b), handles(&a));
    }

    #[test]
    fn an_adopted_snapshot_survives_a_crash_before_its_view_is_stored() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut a, mut b) = pair(tmp.path());
        import_enough(&mut a);
        let offer = a.own_snapshot().expect("builds").expect("due by bytes");
        let bytes = a.snapshot_bytes(&offer.id).expect("reads").expect("listed");
        assert!(matches!(
            b.ingest_snapshot(&bytes).expect("applies"),
            SnapshotOutcome::Applied { released: 0, .. }
        ));
        // Dropped without closing: the view was never stored.
        let dir = b.dir().to_path_buf();
        drop(b);
        let b = Replica::open(&dir, PASS).expect("reopens");
        assert!(
            b.doc.snapshots.local_lacks_view,
            "derived from the partitions"
        );
        assert_eq!(handles(&b), handles(&a));
        let key = a.public_key();
        assert_eq!(b.version_vector()[&key], offer.covers[&key]);
        b.close().expect("closes");
        let b = Replica::open(&dir, PASS).expect("reopens");
        assert!(!b.doc.snapshots.local_lacks_view, "closing stored it");
        assert_eq!(handles(&b), handles(&a));
    }

    proptest! {
        #[test]
        fn inspection_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = inspect_document(&bytes, &signer());
        }

        #[test]
        fn mutated_documents_never_panic(index in 0usize..200, byte in any::<u8>()) {
            let key = signer();
            let mut bytes = document(&key, 20).save_nocompress();
            let i = index % bytes.len();
            bytes[i] = byte;
            let _ = inspect_document(&bytes, &key);
        }
    }
}
