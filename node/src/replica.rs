//! A node's local replica, the coordinator of its two halves: its identity and encrypted store,
//! the network state (`network_state.rs`: node record, epoch keys, members, membership log,
//! address book, invitations) and the document state (`document.rs`: partitions, the union view,
//! admission, the log index, snapshots, revoked keys' limits).
//!
//! Every local write goes through one path: edit the organisation's own partition, commit one
//! automerge change, seal it into a signed [`Envelope`] under the current epoch key, append the
//! envelope to the store's log in one durable transaction, and only then report success. The
//! envelope log is the source of truth; the local snapshot (every partition's `save()`, sealed
//! in the store) only shortens start-up.
//!
//! Envelopes from elsewhere go through [`Admission`] (signature, authority, sequence, and the
//! change chunks' layout and run-length row bound, `MAX_ENVELOPE_ROWS`) before anything is
//! applied; a change inside must also name its signer as its automerge actor, so one device
//! cannot write under another device's actor.
//!
//! Invariant: a change is durable (one store commit, one [`WriteBatch`]) before either half
//! changes in memory; a failed commit after the document moved ahead poisons the replica, and a
//! poisoned replica accepts nothing more until it is reopened.
//! Boundary: no networking and no clock reads here; `now` is passed in. Sync (issue 3) drives
//! [`Replica::ingest`] and [`Replica::envelopes_missing_from`]. What touches one half only lives
//! on that half's type; what stays here (and in the topical `impl Replica` files beside it)
//! needs the store, the device key or both halves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use puente_crdt::automerge::Change;
use puente_crdt::{
    Decision, Hold, HoldId, NewOffer, Offer, OfferId, OfferPatch, OrgId, OrgProfile, Partition,
    PartitionError, SchemaError, Time, Touched, View, WindowId,
};
use serde::{Deserialize, Serialize};

use crate::crypto::seal::{KdfParams, SymmetricKey, fill_random};
use crate::envelope::admission::{Accepted, Admission, Admitted};
use crate::envelope::format::{BuildsOn, Envelope, EnvelopeError};
use crate::identity::{Fingerprint, PublicKey, SecretKey, org_id_for};
use crate::interchange::csv_import::ImportPlan;
use crate::interchange::reconcile::{Reconciliation, reconcile};
use crate::keys::{Epoch, EpochKey, EpochKeyring, EpochKeys, NetworkId};
use crate::membership::MembershipError;
use crate::store::{BackupError, Store, StoreError, WriteBatch};

mod audit;
mod bundle;
mod document;
mod erasure;
mod limits;
mod local_snapshot;
mod mailbox;
mod network;
mod network_state;
mod prune;
mod relays;
mod restore;
mod roles;
mod rollback;
mod snapshot;

use document::{DocumentState, Partitions, Slot};
use local_snapshot::{Part, decode_snapshot};
use network_state::{NetworkState, NodeRecord, decode_keys, encode_keys};
use rollback::RollbackState;

pub use audit::Exposure;
pub use bundle::{BundleRefusal, BundleReport, BundleScope, MAX_BUNDLE_BYTES, write_private};
pub use erasure::{Erased, ErasureStatus};
pub use mailbox::{Deposit, MailboxCursor, Opened};
pub use network::{
    AdminAction, MAX_NETWORK_NAME_CHARS, MembershipUpdate, NetworkRefusal, OwnRevocation,
};
pub use network_state::{Members, PeerBook};
pub use relays::RelayRefusal;
pub use restore::{Replaced, Restored};
pub use roles::RoleRefusal;
pub use rollback::{Rollback, RollbackEvidence};
pub use snapshot::{
    MAX_DOCUMENT_ROWS, OWN_SNAPSHOT_EVERY, OWN_SNAPSHOT_MIN_BYTES, SnapshotError, SnapshotOffer,
    SnapshotOutcome,
};

/// Offers per automerge change when importing: per-record changes make loading and sync of a
/// large import measurably slower, and 1,000 offers (~0.4 MB) stay far below the envelope
/// body limit.
pub const IMPORT_BATCH_ROWS: usize = 1_000;

/// One row of an import as the replica writes it.
enum ImportRow {
    Create(NewOffer),
    Update(OfferId, OfferPatch),
    Withdraw(OfferId),
}

/// Fresh ids for `n` new windows.
fn new_window_ids(n: usize) -> Vec<WindowId> {
    (0..n)
        .map(|_| WindowId::from_bytes(random_bytes()))
        .collect()
}

/// Changes per envelope when a node's local history is re-sealed for a network it joins: well
/// under the 4 MiB envelope body limit.
const REPUBLISH_CHUNK_BYTES: usize = 1024 * 1024;

/// The version of the node record.
const NODE_RECORD_VERSION: u8 = 1;

const REC_IDENTITY: &str = "identity";
const REC_NODE: &str = "node";
const REC_EPOCH_KEYS: &str = "epoch-keys";
const REC_MEMBERS: &str = "members";
const REC_MEMBERSHIP: &str = "membership";
const REC_PEERS: &str = "peers";
const REC_INVITATIONS: &str = "invitations";
const SNAPSHOT_NAME: &str = "local";

/// Why a replica operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicaError {
    /// The store refused (wrong passphrase, permissions, corruption, disk full...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An envelope was refused.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The document refused an edit.
    #[error(transparent)]
    Partition(#[from] PartitionError),
    /// A record broke a schema rule.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// No record matches what was typed.
    #[error("no {what} matches `{text}`")]
    NotFound {
        /// Offer, hold or window.
        what: RecordKind,
        /// What was typed.
        text: String,
    },
    /// Several records match a prefix.
    #[error("`{text}` matches {count} {what}s")]
    Ambiguous {
        /// Offer or hold.
        what: RecordKind,
        /// What was typed.
        text: String,
        /// How many matched.
        count: usize,
    },
    /// A write to offers or holds was refused.
    #[error(transparent)]
    Write(#[from] WriteRefusal),
    /// A change to the network or to this node's place in it was refused.
    #[error(transparent)]
    Network(#[from] NetworkRefusal),
    /// A bundle could not be written, or was refused as a whole.
    #[error(transparent)]
    Bundle(#[from] BundleRefusal),
    /// A change to the network's relays was refused.
    #[error(transparent)]
    Relay(#[from] RelayRefusal),
    /// A change of an organisation's role was refused.
    #[error(transparent)]
    Role(#[from] RoleRefusal),
    /// A time zone name is unknown.
    #[error(transparent)]
    Time(#[from] puente_crdt::time::TimeError),
    /// A stored record could not be decoded.
    #[error("stored {0} record is damaged")]
    Damaged(&'static str),
    /// An earlier write failed half-way in memory; the replica must be reopened.
    #[error("an earlier write failed; nothing more is accepted until the replica is reopened")]
    Poisoned,
    /// A membership op was refused.
    #[error(transparent)]
    Membership(#[from] MembershipError),
    /// A partition snapshot from a peer was refused.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A backup could not be made or restored.
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// The kind of record an id names, in [`ReplicaError::NotFound`] and
/// [`ReplicaError::Ambiguous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordKind {
    /// An offer.
    Offer,
    /// A hold.
    Hold,
    /// A window of an offer.
    Window,
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RecordKind::Offer => "offer",
            RecordKind::Hold => "hold",
            RecordKind::Window => "window",
        })
    }
}

/// Why a write to offers or holds was refused: this device cannot write yet, or the record
/// is not this organisation's to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteRefusal {
    /// The store was made for a new device ([`Replica::init_device`]) that has not joined its
    /// organisation yet; it writes nothing until then.
    #[error("this device has not joined its organisation yet")]
    DevicePending,
    /// This device does not hold the key of the epoch it would seal under yet (a new device
    /// waits for an admin's node to share it).
    #[error("this device has not received the key of epoch {epoch} yet")]
    NoEpochKey {
        /// The epoch a write would be sealed under.
        epoch: u32,
    },
    /// A history erasure was applied and another device of this organisation re-bases its
    /// records; this device writes again once they have arrived.
    #[error(
        "history was erased and another device of this organisation is re-basing its records; \
         try again once this node has synced with it"
    )]
    AwaitingRebase,
    /// The offer belongs to another organisation; only its owner changes it.
    #[error("offer {offer} belongs to another organisation; only its owner can {action} it")]
    NotOwnOffer {
        /// The offer.
        offer: OfferId,
        /// What was asked.
        action: OfferAction,
    },
    /// A hold on this organisation's own offer.
    #[error("offer {offer} is this organisation's own; holds are for partners' offers")]
    OwnOffer {
        /// The offer.
        offer: OfferId,
    },
    /// A hold on an offer its owner withdrew.
    #[error("offer {offer} was withdrawn by its owner")]
    OfferWithdrawn {
        /// The offer.
        offer: OfferId,
    },
    /// A hold on a window its owner cancelled.
    #[error("window {window} of offer {offer} was cancelled by its owner")]
    WindowCancelled {
        /// The offer.
        offer: OfferId,
        /// The window.
        window: WindowId,
    },
    /// A hold without an interval on a window with no occurrence left.
    #[error("window {window} has no occurrence left")]
    NoOccurrenceLeft {
        /// The window.
        window: WindowId,
    },
    /// A hold whose interval does not fall inside one occurrence of its window.
    #[error("the hold does not fall inside one occurrence of window {window}")]
    OutsideOccurrence {
        /// The window.
        window: WindowId,
    },
    /// Releasing a hold another organisation placed.
    #[error("hold {hold} was placed by another organisation; only it can release the hold")]
    NotRequester {
        /// The hold.
        hold: HoldId,
    },
    /// Confirming or declining a hold on another organisation's offer.
    #[error("hold {hold} is on another organisation's offer; only its owner can decide it")]
    NotOfferOwner {
        /// The hold.
        hold: HoldId,
    },
    /// This store is older than what partners hold from this device (restored from an older
    /// copy, or a copy running elsewhere): anything written under its key now could reuse a
    /// sequence number partners hold with other contents. It writes nothing more; the
    /// organisation replaces the device (see [`Rollback`]).
    #[error(
        "this store is older than what partners hold from this device (its envelopes up to {held}, partners' up to {seen}); writing would fork its history"
    )]
    RolledBack {
        /// The highest sequence number of this device's envelopes the store held when it
        /// noticed.
        held: u64,
        /// The highest one partners showed.
        seen: u64,
        /// What showed it.
        evidence: RollbackEvidence,
    },
}

/// What was asked of an offer, in [`WriteRefusal::NotOwnOffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferAction {
    /// Change its fields or windows.
    Change,
    /// Withdraw it.
    Withdraw,
    /// Confirm it is still current.
    Confirm,
}

impl std::fmt::Display for OfferAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OfferAction::Change => "change",
            OfferAction::Withdraw => "withdraw",
            OfferAction::Confirm => "confirm",
        })
    }
}

/// What `init` needs to know about the organisation.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Display name (may be a code name).
    pub name: String,
    /// Counties served.
    pub counties: Vec<puente_crdt::County>,
    /// How partners reach the organisation about an offer.
    pub intake: String,
    /// Time zone coordinators enter dates in.
    pub tz: String,
}

/// Who this node is.
#[derive(Debug, Clone, Serialize)]
pub struct Whoami {
    /// The organisation id.
    pub org: OrgId,
    /// Its display name.
    pub name: String,
    /// This device's public key.
    pub public_key: PublicKey,
    /// The key's fingerprint, to read aloud.
    pub fingerprint: String,
    /// The network this node writes to (a local one until it joins a network).
    pub network: String,
    /// The current epoch.
    pub epoch: u32,
}

/// A hold a coordinator asks for.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    /// The offer (its owner is looked up).
    pub owner: OrgId,
    /// The offer id.
    pub offer: OfferId,
    /// The window.
    pub window: WindowId,
    /// Units.
    pub qty: u32,
    /// Sub-interval; `None` takes the window (its next occurrence for weekly windows).
    pub interval: Option<(Time, Time)>,
}

/// What ingesting one envelope did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Applied, with how many envelopes (this one and buffered successors).
    Applied(usize),
    /// Already had it.
    Duplicate,
    /// Buffered until the missing predecessors arrive.
    Waiting,
    /// An envelope of this device's own key under a number this store already holds with
    /// another envelope: the store was rolled back and wrote again (now recorded, see
    /// [`Replica::rollback`]). Not applied, and not the sender's fault.
    OwnConflict,
}

/// Figures about the replica, for `status` and benchmarks.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Envelopes in the log.
    pub log_len: u64,
    /// Envelopes since the last local snapshot.
    pub since_snapshot: u64,
    /// Offers per owner.
    pub offers_by_owner: BTreeMap<OrgId, usize>,
    /// Records that could not be read.
    pub issues: usize,
}

/// A node's local replica.
#[derive(Debug)]
pub struct Replica {
    dir: PathBuf,
    store: Store,
    key: SecretKey,
    public: PublicKey,
    /// Node record, epoch keys, members, membership log, address book and invitations.
    net: NetworkState,
    /// Partitions, view, admission, log index, snapshots and write limits.
    doc: DocumentState,
    /// Whether this store is known to be older than what partners hold from this device.
    rollback: RollbackState,
    poisoned: bool,
}

/// What [`Replica::load`] reads from a store.
struct Loaded {
    key: SecretKey,
    public: PublicKey,
    net: NetworkState,
    doc: DocumentState,
    rollback: RollbackState,
}

impl Replica {
    /// Creates the identity, the store and the organisation's partition in `dir`.
    pub fn init(
        dir: &Path,
        passphrase: &[u8],
        opts: InitOptions,
        now: Time,
    ) -> Result<Replica, ReplicaError> {
        let mut profile = OrgProfile {
            name: opts.name,
            counties: opts.counties,
            kinds: Vec::new(),
            intake: opts.intake,
            tz: opts.tz.clone(),
        };
        profile.validate()?;
        Self::create(dir, passphrase, &opts.tz, Some(profile), now)
    }

    /// Creates the identity and store of a new device for an organisation that already exists
    /// elsewhere: no organisation of its own, nothing written; it becomes that organisation's
    /// device by joining with a device invitation ([`Replica::join`]).
    pub fn init_device(
        dir: &Path,
        passphrase: &[u8],
        tz: &str,
        now: Time,
    ) -> Result<Replica, ReplicaError> {
        puente_crdt::time::zone(tz)?;
        Self::create(dir, passphrase, tz, None, now)
    }

    fn create(
        dir: &Path,
        passphrase: &[u8],
        tz: &str,
        profile: Option<OrgProfile>,
        now: Time,
    ) -> Result<Replica, ReplicaError> {
        let store = Store::create(dir, passphrase, KdfParams::default())?;
        let key = SecretKey::generate();
        let public = key.public();
        let org = org_id_for(&public);
        let mut network = [0u8; 16];
        fill_random(&mut network);
        let node = NodeRecord {
            version: NODE_RECORD_VERSION,
            org,
            founding_key: public,
            network: NetworkId::from_bytes(network),
            epoch: 0,
            tz: tz.to_string(),
            network_name: None,
            device_pending: profile.is_none(),
        };
        let mut keys = EpochKeyring::new();
        keys.insert(EpochKey::generate(Epoch(0)));
        let mut members = Members::default();
        members.by_key.insert(public, org);

        let mut batch = WriteBatch::default();
        batch.put_record(REC_IDENTITY, &key.to_bytes()[..]);
        batch.put_record(REC_NODE, &encode_json(&node));
        batch.put_record(REC_EPOCH_KEYS, &encode_keys(&keys));
        batch.put_record(REC_MEMBERS, &encode_json(&members));
        store.commit(batch)?;

        let mut replica = Replica {
            dir: dir.to_path_buf(),
            store,
            key,
            public,
            doc: DocumentState::new(node.network, public),
            net: NetworkState {
                node,
                keys,
                members,
                membership: None,
                peers: PeerBook::default(),
                invitations: Vec::new(),
            },
            rollback: RollbackState::default(),
            poisoned: false,
        };
        if let Some(profile) = profile {
            replica.write(now, |p| p.set_profile(&profile).map(|t| ((), t)))?;
        }
        Ok(replica)
    }

    /// Checks, before any passphrase is asked for, that `dir` is private to its owner or does
    /// not exist yet (see [`crate::store::check_location`]).
    pub fn check_location(dir: &Path) -> Result<(), ReplicaError> {
        Ok(crate::store::check_location(dir)?)
    }

    /// Opens an existing replica: unseals the store, loads the local snapshot and replays the
    /// envelopes appended after it.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Replica, ReplicaError> {
        Self::open_store(dir, Store::open(dir, passphrase)?)
    }

    /// Opens an existing replica for reading only ([`Store::open_read_only`]): the same
    /// replica as [`Replica::open`], but nothing on disk changes, not even on close, and every
    /// write is refused with `StoreError::ReadOnly` (inside [`ReplicaError::Store`]). It is
    /// also refused when opening would have to write something first (a revoked key's limit
    /// that changed, a crash to repair): then [`Replica::open`] is what to use. Like
    /// [`Store::open_read_only`], it trusts the database file's structure.
    pub fn open_read_only(dir: &Path, passphrase: &[u8]) -> Result<Replica, ReplicaError> {
        Self::open_store(dir, Store::open_read_only(dir, passphrase)?)
    }

    /// Whether this replica was opened with [`Replica::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.store.is_read_only()
    }

    fn open_store(dir: &Path, store: Store) -> Result<Replica, ReplicaError> {
        let loaded = Self::load(&store)?;
        let mut replica = Replica {
            dir: dir.to_path_buf(),
            store,
            key: loaded.key,
            public: loaded.public,
            net: loaded.net,
            doc: loaded.doc,
            rollback: loaded.rollback,
            poisoned: false,
        };
        replica.enforce_limits(true)?;
        Ok(replica)
    }

    /// Reads this replica's state from its store again, as [`Replica::open`] would (after a
    /// change that replaced the identity, the log and the partitions at once).
    pub(super) fn reload(&mut self) -> Result<(), ReplicaError> {
        let loaded = Self::load(&self.store)?;
        self.key = loaded.key;
        self.public = loaded.public;
        self.net = loaded.net;
        self.doc = loaded.doc;
        self.rollback = loaded.rollback;
        self.enforce_limits(true)
    }

    /// The state a store holds: identity, network, document (replayed from the local snapshot
    /// and the log) and rollback evidence.
    fn load(store: &Store) -> Result<Loaded, ReplicaError> {
        let secret = store
            .get_record(REC_IDENTITY)?
            .ok_or(ReplicaError::Damaged("identity"))?;
        let secret: [u8; 32] = secret[..]
            .try_into()
            .map_err(|_| ReplicaError::Damaged("identity"))?;
        let key = SecretKey::from_bytes(&secret);
        let public = key.public();
        let node: NodeRecord = decode_json(
            &store
                .get_record(REC_NODE)?
                .ok_or(ReplicaError::Damaged("node"))?,
            "node",
        )?;
        let keys = decode_keys(
            &store
                .get_record(REC_EPOCH_KEYS)?
                .ok_or(ReplicaError::Damaged("epoch key"))?,
        )
        .ok_or(ReplicaError::Damaged("epoch key"))?;
        let members: Members = decode_json(
            &store
                .get_record(REC_MEMBERS)?
                .ok_or(ReplicaError::Damaged("members"))?,
            "members",
        )?;
        let membership = match store.get_record(REC_MEMBERSHIP)? {
            Some(bytes) => Some(network::load_log(store, &bytes)?),
            None => None,
        };
        let peers: PeerBook = match store.get_record(REC_PEERS)? {
            Some(bytes) => decode_json(&bytes, "peer address")?,
            None => PeerBook::default(),
        };
        let invitations = match store.get_record(REC_INVITATIONS)? {
            Some(bytes) => decode_json(&bytes, "invitation")?,
            None => Vec::new(),
        };
        let rollback = RollbackState::load(store)?;
        let mut erasure_record = erasure::ErasureRecord::load(store)?;
        // Stand-ins whose owner's re-base is in the log after the local snapshot (a crash
        // before the snapshot that ends them was written): emptied before it is replayed.
        let mut ended_standins = BTreeSet::new();
        let limits_record = store.get_record(limits::REC_WRITE_LIMITS)?;
        let mut limits = limits::Limits::decode(limits_record.as_ref().map(|b| b.as_slice()))?;
        if let Some(log) = &membership {
            limits.caps = limits.computed(log.state());
        }

        let mut partitions = Partitions::new(public);
        let mut covers = 0u64;
        let mut view = None;
        let mut has_local = false;
        if let Some(snap) = store.get_snapshot(SNAPSHOT_NAME)? {
            covers = snap.log_index;
            has_local = true;
            let (parts, image) =
                decode_snapshot(&snap.bytes).ok_or(ReplicaError::Damaged("snapshot"))?;
            for (org, part) in parts {
                match part {
                    Part::Saved(doc) => partitions.insert_saved(org, doc.to_vec()),
                    Part::InOwnSnapshot if org == node.org => {
                        let own = snapshot::stored_own(store)?
                            .ok_or(ReplicaError::Damaged("own snapshot"))?;
                        partitions.insert_in_own_snapshot(org, own, keys.clone());
                    }
                    Part::InOwnSnapshot => return Err(ReplicaError::Damaged("snapshot")),
                }
            }
            view = image.and_then(|v| View::decode(&v));
        }
        let lacks_view = has_local && view.is_none();
        let mut view = match view {
            Some(v) => v,
            None => {
                // No cached view (an older snapshot, or none): derive it from every partition.
                let mut v = View::new();
                let all = Touched {
                    all: true,
                    ..Touched::default()
                };
                let orgs: Vec<OrgId> = partitions.orgs().collect();
                for org in orgs {
                    v.refresh(partitions.get_mut(org)?, &all);
                }
                v
            }
        };

        // An ingested peer snapshot is in the local snapshot written with it; admission skips
        // what it covered at the log index it was ingested at.
        let mut snapshots = snapshot::SnapshotState::load(store)?;
        snapshots.local_lacks_view = lacks_view;
        if snapshots
            .last_mark_index()
            .is_some_and(|i| !has_local || i > covers)
        {
            return Err(ReplicaError::Damaged("snapshot"));
        }
        let mut next_mark = 0;
        let mut admission = Admission::new(node.network);
        let mut log_index = HashMap::new();
        let mut pending: BTreeMap<OrgId, Vec<Change>> = BTreeMap::new();
        let mut log_len = 0u64;
        for (index, bytes) in store.read_log(0, usize::MAX)? {
            snapshots.replay_marks(&mut admission, &mut next_mark, index);
            if bytes.is_empty() {
                // An own envelope dropped once nothing could need it (`prune.rs`): the mark
                // replayed above stands for it.
                log_len = index + 1;
                continue;
            }
            let env = Envelope::from_bytes(&bytes).map_err(|_| ReplicaError::Damaged("log"))?;
            admission
                .restore(&env)
                .map_err(|_| ReplicaError::Damaged("log"))?;
            log_index.insert((env.author(), env.seq()), index);
            // A revoked key's envelope beyond its limit stays in the log but not in the
            // partition (`enforce_limits` below settles a limit that changed since).
            let within = limits.cap(&env.author()).is_none_or(|cap| env.seq() <= cap);
            if index >= covers && within {
                // The log was verified before it was written and the store authenticates it,
                // so replay only decrypts; a change that does not apply was quarantined when it
                // arrived and is skipped the same way now. Every entry passed the change chunks'
                // row bound on its way in (sealed here, or admitted from a peer or a bundle,
                // buffered ones included), so replay does not rely on it; `open` checks it
                // again anyway, a linear pass that allocates nothing.
                if let Some(d) = env
                    .open(&keys)
                    .ok()
                    .and_then(|changes| signed_changes(&env.author(), changes))
                {
                    if erasure_record.standins.remove(&env.partition()) {
                        ended_standins.insert(env.partition());
                    }
                    pending.entry(env.partition()).or_default().extend(d);
                }
            }
            log_len = index + 1;
        }
        snapshots.replay_marks(&mut admission, &mut next_mark, u64::MAX);
        for org in ended_standins {
            partitions.replace(org, Partition::new(org, public.as_bytes()));
            view.refresh(partitions.get_mut(org)?, &Touched::all());
        }
        for (org, changes) in pending {
            let p = partitions.get_mut(org)?;
            // Errors here mean a change was refused when it arrived too; state stays the same.
            if let Ok(t) = p.apply_changes(changes) {
                view.refresh(p, &t);
            }
        }
        Ok(Loaded {
            key,
            public,
            net: NetworkState {
                node,
                keys,
                members,
                membership,
                peers,
                invitations,
            },
            doc: DocumentState {
                admission,
                partitions,
                log_index,
                view,
                log_len,
                snapshot_covers: covers,
                snapshots,
                limits,
                standins: erasure_record.standins,
                erasures_applied: erasure_record.applied,
            },
            rollback,
        })
    }

    /// Whether this store was made with [`Replica::init_device`] and has not joined its
    /// organisation yet: it writes nothing until then.
    pub fn waits_to_join_as_device(&self) -> bool {
        self.net.node.device_pending
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This organisation.
    pub fn org(&self) -> OrgId {
        self.net.node.org
    }

    /// This device's public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// A copy of this device's signing key, for the transport identity (the libp2p key is
    /// derived from the same seed, so a connection's peer id names this device). Only the node
    /// actor should call this; the copy is zeroized when dropped.
    pub fn device_key(&self) -> SecretKey {
        SecretKey::from_bytes(&self.key.to_bytes())
    }

    /// The zone coordinators of this organisation enter dates in.
    pub fn tz(&self) -> &str {
        &self.net.node.tz
    }

    /// Who this node is.
    pub fn whoami(&self) -> Whoami {
        let name = self
            .doc
            .view
            .profiles()
            .get(&self.net.node.org)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        Whoami {
            org: self.net.node.org,
            name,
            public_key: self.public,
            fingerprint: self.public.fingerprint().to_string(),
            network: self.net.node.network.to_string(),
            epoch: self.net.node.epoch,
        }
    }

    /// The fingerprint of this device's key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.public.fingerprint()
    }

    /// The union view every query reads.
    pub fn view(&self) -> &View {
        &self.doc.view
    }

    /// The keys this node accepts writes from.
    pub fn members(&self) -> &Members {
        &self.net.members
    }

    /// Figures for `status`.
    pub fn stats(&self) -> Stats {
        self.doc.stats()
    }

    /// The highest contiguous sequence number accepted per author; for a revoked key, at most
    /// its limit (envelopes beyond it are kept but count for nothing).
    pub fn version_vector(&self) -> BTreeMap<PublicKey, u64> {
        self.doc.version_vector()
    }

    /// What this device's next envelope builds on: the other authors of its organisation's
    /// partition, each up to what of theirs counts here (the document holds exactly that).
    fn builds_on(&self) -> BuildsOn {
        self.net.builds_on(&self.public, self.doc.version_vector())
    }

    fn own_partition(&mut self) -> Result<&mut Partition, ReplicaError> {
        self.doc.partitions.get_mut(self.net.node.org)
    }

    /// Runs `edit` on this organisation's partition and makes the result durable as one
    /// signed envelope. Nothing is reported as written unless the store commit succeeded.
    fn write<T>(
        &mut self,
        now: Time,
        edit: impl FnOnce(&mut Partition) -> Result<(T, Touched), PartitionError>,
    ) -> Result<T, ReplicaError> {
        let _ = now;
        self.check_writable()?;
        let p = self.own_partition()?;
        let (out, touched) = match edit(p) {
            Ok(v) => v,
            Err(e) => {
                p.rollback();
                return Err(e.into());
            }
        };
        let Some(change) = p.commit() else {
            return Ok(out);
        };
        if let Err(e) = self.persist_own(vec![change], &touched) {
            // The change is in the in-memory document but in no envelope: anything built on
            // it would depend on a change peers never get, so refuse further work.
            self.poisoned = true;
            return Err(e);
        }
        Ok(out)
    }

    /// Whether a local write can be sealed now: not poisoned, not rolled back (see
    /// [`rollback`]), and holding the key of the epoch it would be sealed under. Checked before
    /// the document is touched.
    fn check_writable(&self) -> Result<(), ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        self.check_not_rolled_back()?;
        if self.doc.standins.contains(&self.net.node.org) {
            return Err(WriteRefusal::AwaitingRebase.into());
        }
        Ok(self.net.writable()?)
    }

    /// Seals `changes` (already applied to our partition) into envelopes, commits them in one
    /// durable transaction, and updates the view.
    fn persist_own(
        &mut self,
        changes: Vec<Vec<u8>>,
        touched: &Touched,
    ) -> Result<(), ReplicaError> {
        let key = self.net.seal_key()?;
        let builds_on = self.builds_on();
        let mut batch = WriteBatch::default();
        let mut envs = Vec::with_capacity(changes.len());
        let first = self.doc.admission.next_seq(&self.public);
        for (seq, change) in (first..).zip(changes) {
            let env = Envelope::seal_building_on(
                self.net.node.network,
                self.net.node.org,
                &self.key,
                seq,
                Epoch(self.net.node.epoch),
                key,
                &[change],
                &builds_on,
            )?;
            batch.append_log(env.to_bytes());
            envs.push(env);
        }
        if let Err(e) = self.store.commit(batch) {
            // The change is in the in-memory document but not on disk: refuse further work so
            // that nothing built on it is ever acknowledged.
            self.poisoned = true;
            return Err(e.into());
        }
        for env in &envs {
            self.doc.admission.restore(env)?;
            self.doc.note_appended(env.author(), env.seq());
        }
        self.doc.refresh_view(self.net.node.org, touched);
        Ok(())
    }

    /// Publishes a new offer and returns its id.
    pub fn add_offer(&mut self, offer: NewOffer, now: Time) -> Result<OfferId, ReplicaError> {
        let id = OfferId::from_bytes(random_bytes());
        let wids = new_window_ids(offer.windows.len());
        self.write(now, |p| {
            p.add_offer(id, &offer, &wids, now).map(|t| (id, t))
        })
    }

    /// Publishes many offers atomically: either all are durable or none. Offers are batched
    /// [`IMPORT_BATCH_ROWS`] to a change; `progress` is told how many are done.
    pub fn import_offers(
        &mut self,
        offers: Vec<NewOffer>,
        now: Time,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<OfferId>, ReplicaError> {
        let rows = offers.into_iter().map(ImportRow::Create).collect();
        self.write_import(rows, now, progress)
    }

    /// Matches the rows of an import against this organisation's offers by handle
    /// ([`reconcile`]): what a dry run shows and what [`Replica::apply_import`] writes.
    pub fn reconcile_import(
        &self,
        plan: ImportPlan,
        now: Time,
        withdraw_missing: bool,
    ) -> Reconciliation {
        let own = self.net.node.org;
        reconcile(plan, own, self.doc.view.offers(), now, withdraw_missing)
    }

    /// Writes a reconciliation atomically: its new offers, its updates and its withdrawals are
    /// all durable or none is. Returns the ids of the new offers, in the order of
    /// [`Reconciliation::creates`]; `progress` is told how many rows are done.
    pub fn apply_import(
        &mut self,
        reconciliation: Reconciliation,
        now: Time,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<OfferId>, ReplicaError> {
        let org = self.net.node.org;
        for (id, _) in &reconciliation.updates {
            self.doc.own_offer(org, *id, OfferAction::Change)?;
        }
        for (id, _) in &reconciliation.withdrawals {
            self.doc.own_offer(org, *id, OfferAction::Withdraw)?;
        }
        let rows = reconciliation
            .creates
            .into_iter()
            .map(ImportRow::Create)
            .chain(
                reconciliation
                    .updates
                    .into_iter()
                    .map(|(id, patch)| ImportRow::Update(id, patch)),
            )
            .chain(
                reconciliation
                    .withdrawals
                    .into_iter()
                    .map(|(id, _)| ImportRow::Withdraw(id)),
            )
            .collect();
        self.write_import(rows, now, progress)
    }

    /// Writes `rows` in one durable transaction, [`IMPORT_BATCH_ROWS`] to a change; returns the
    /// ids of the offers created. Every new offer is validated before the document is touched.
    fn write_import(
        &mut self,
        mut rows: Vec<ImportRow>,
        now: Time,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<OfferId>, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        self.check_writable()?;
        // Validate everything first so that a bad row cannot leave half an import in memory.
        for row in &mut rows {
            if let ImportRow::Create(o) = row {
                o.validate()?;
            }
        }
        let mut ids = Vec::new();
        let mut changes = Vec::new();
        let mut touched = Touched::default();
        let mut done = 0;
        for chunk in rows.chunks(IMPORT_BATCH_ROWS) {
            let p = self.own_partition()?;
            for row in chunk {
                let written = match row {
                    ImportRow::Create(o) => {
                        let id = OfferId::from_bytes(random_bytes());
                        let wids = new_window_ids(o.windows.len());
                        ids.push(id);
                        p.add_offer(id, o, &wids, now)
                    }
                    ImportRow::Update(id, patch) => {
                        let wids = new_window_ids(patch.add_windows.len());
                        p.update_offer(*id, patch, &wids, now)
                    }
                    ImportRow::Withdraw(id) => p.withdraw_offer(*id),
                };
                match written {
                    Ok(t) => touched.extend(t),
                    Err(e) => {
                        p.rollback();
                        if !changes.is_empty() {
                            // Earlier batches are committed in memory only: refuse further work.
                            self.poisoned = true;
                        }
                        return Err(e.into());
                    }
                }
            }
            if let Some(c) = p.commit() {
                changes.push(c);
            }
            done += chunk.len();
            progress(done);
        }
        if !changes.is_empty()
            && let Err(e) = self.persist_own(changes, &touched)
        {
            self.poisoned = true;
            return Err(e);
        }
        Ok(ids)
    }

    /// Changes one of this organisation's offers.
    pub fn update_offer(
        &mut self,
        id: OfferId,
        patch: OfferPatch,
        now: Time,
    ) -> Result<(), ReplicaError> {
        self.doc
            .own_offer(self.net.node.org, id, OfferAction::Change)?;
        let wids = new_window_ids(patch.add_windows.len());
        self.write(now, |p| {
            p.update_offer(id, &patch, &wids, now).map(|t| ((), t))
        })
    }

    /// Withdraws one of this organisation's offers (final).
    pub fn withdraw_offer(&mut self, id: OfferId, now: Time) -> Result<(), ReplicaError> {
        self.doc
            .own_offer(self.net.node.org, id, OfferAction::Withdraw)?;
        self.write(now, |p| p.withdraw_offer(id).map(|t| ((), t)))
    }

    /// Renews freshness and expiry of one of this organisation's offers.
    pub fn confirm_offer(
        &mut self,
        id: OfferId,
        now: Time,
        expires_in: Option<i64>,
    ) -> Result<(), ReplicaError> {
        self.doc
            .own_offer(self.net.node.org, id, OfferAction::Confirm)?;
        self.write(now, |p| {
            p.confirm_offer(id, now, expires_in).map(|t| ((), t))
        })
    }

    /// Places a hold on a partner's offer.
    pub fn place_hold(&mut self, req: HoldRequest, now: Time) -> Result<HoldId, ReplicaError> {
        let hold = self.doc.new_hold(&req, self.net.node.org, now)?;
        let id = hold.id;
        self.write(now, |p| p.place_hold(&hold).map(|t| (id, t)))
    }

    /// Releases a hold this organisation placed.
    pub fn release_hold(&mut self, id: HoldId, now: Time) -> Result<(), ReplicaError> {
        let hold = self.doc.find_hold(id)?;
        if hold.requester != self.net.node.org {
            return Err(WriteRefusal::NotRequester { hold: id }.into());
        }
        self.write(now, |p| p.release_hold(id).map(|t| ((), t)))
    }

    /// Confirms or declines a hold placed on one of this organisation's offers.
    pub fn decide_hold(
        &mut self,
        id: HoldId,
        decision: Decision,
        now: Time,
    ) -> Result<(), ReplicaError> {
        let hold = self.doc.find_hold(id)?;
        if hold.owner != self.net.node.org {
            return Err(WriteRefusal::NotOfferOwner { hold: id }.into());
        }
        self.write(now, |p| p.decide(id, decision).map(|t| ((), t)))
    }

    /// The offer an id or unique id prefix (at least 4 characters) names.
    pub fn resolve_offer(&self, text: &str) -> Result<&Offer, ReplicaError> {
        self.doc.resolve_offer(text)
    }

    /// The hold an id or unique id prefix names.
    pub fn resolve_hold(&self, text: &str) -> Result<&Hold, ReplicaError> {
        self.doc.resolve_hold(text)
    }

    /// Trusts `key` to write for `org`. This is the local trust store that the signed
    /// membership log replaces when networks arrive; it exists so that envelopes from a
    /// partner can be verified and applied.
    pub fn trust(&mut self, key: PublicKey, org: OrgId) -> Result<(), ReplicaError> {
        let mut members = self.net.members.clone();
        members.by_key.insert(key, org);
        let mut batch = WriteBatch::default();
        batch.put_record(REC_MEMBERS, &encode_json(&members));
        self.store.commit(batch)?;
        self.net.members = members;
        Ok(())
    }

    /// Shares this node's epoch keys with another replica of the same network (the sealed
    /// key distribution of the membership log replaces this with networking).
    pub fn network_secret(&self) -> (NetworkId, Vec<u8>) {
        (self.net.node.network, encode_keys(&self.net.keys))
    }

    /// Joins a network given its id and encoded epoch keys directly (tests and tools that
    /// build replicas without the membership log; nodes join through [`Replica::join`]).
    pub fn join_network(
        &mut self,
        network: NetworkId,
        keys: &[u8],
        epoch: u32,
    ) -> Result<(), ReplicaError> {
        let ring = decode_keys(keys).ok_or(ReplicaError::Damaged("epoch key"))?;
        self.adopt_network(network, ring, Epoch(epoch), None, WriteBatch::default())
    }

    /// Adopts a network: its id and epoch keys, and re-seals everything this node wrote while
    /// it was on its own (its local network) as envelopes of the joined network, replacing the
    /// log in one durable transaction together with whatever `batch` already holds. Refused
    /// once the node holds partners' records.
    fn adopt_network(
        &mut self,
        network: NetworkId,
        ring: EpochKeyring,
        epoch: Epoch,
        name: Option<String>,
        mut batch: WriteBatch,
    ) -> Result<(), ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        self.check_not_rolled_back()?;
        if self.doc.partitions.orgs().any(|o| o != self.net.node.org) {
            return Err(NetworkRefusal::HoldsPartnersRecords.into());
        }
        let changes = self.own_partition()?.all_changes();
        let key = match ring.key(epoch) {
            Some(key) => EpochKey::new(epoch, key.clone()),
            // A new device with nothing of its own to re-seal can wait for the key.
            None if changes.is_empty() => EpochKey::new(epoch, SymmetricKey::from_bytes(&[0; 32])),
            None => return Err(ReplicaError::Damaged("epoch key")),
        };
        let mut node = self.net.node.clone();
        node.network = network;
        node.epoch = epoch.0;
        if name.is_some() {
            node.network_name = name;
        }
        let envs = seal_history(network, node.org, &self.key, key, changes)?;
        batch.replace_log();
        for env in &envs {
            batch.append_log(env.to_bytes());
        }
        batch.put_record(REC_NODE, &encode_json(&node));
        batch.put_record(REC_EPOCH_KEYS, &encode_keys(&ring));
        self.store.commit(batch)?;
        self.doc.restart_log(network, &envs)?;
        self.net.node = node;
        self.net.keys = ring;
        Ok(())
    }

    /// Verifies and applies an envelope from elsewhere. Nothing is applied unless it passes
    /// every check; what is applied is durable before this returns.
    pub fn ingest(&mut self, bytes: &[u8]) -> Result<IngestOutcome, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        let env = Envelope::from_bytes(bytes)?;
        if self.is_erased_author(&env.author()) {
            // History an erasure removed (a partner that has not applied it yet sent it):
            // superseded, not the sender's fault.
            return Ok(IngestOutcome::Duplicate);
        }
        if self.erasure_pending() {
            // History after an erasure this store has not applied yet (it lacks the current
            // key): it would land on the history before it. It comes again once applied.
            return Ok(IngestOutcome::Waiting);
        }
        // This device's own envelope numbered beyond this store: recorded before it is applied.
        self.check_own_envelope(&env)?;
        let writers = self.net.writers(&self.doc.limits.caps);
        let admitted = match self.doc.admission.admit(env, &writers, &self.net.keys) {
            Err(EnvelopeError::Equivocation { author, seq }) if author == self.public => {
                // Signed by this device (admission checked), other bytes than the envelope
                // this store holds under that number: it was rolled back and wrote again.
                self.notice_rollback(RollbackEvidence::Conflict, seq)?;
                return Ok(IngestOutcome::OwnConflict);
            }
            other => other?,
        };
        let applied = match admitted {
            Admitted::Duplicate => return Ok(IngestOutcome::Duplicate),
            Admitted::Waiting { .. } => return Ok(IngestOutcome::Waiting),
            Admitted::Apply(list) => list,
        };
        let n = applied.len();
        if self.accept(applied)? {
            // They build on a revoked key's envelopes beyond its cut: its limit rises.
            self.enforce_limits(false)?;
        }
        Ok(IngestOutcome::Applied(n))
    }

    /// Makes envelopes admission accepted durable, then applies them; returns whether they
    /// claim envelopes of a revoked key beyond its limit (see [`limits`]), which the caller
    /// then settles.
    fn accept(&mut self, applied: Vec<Accepted>) -> Result<bool, ReplicaError> {
        if !self.doc.standins.is_empty() {
            let partitions = applied.iter().map(|(env, _)| env.partition()).collect();
            self.end_standins(&partitions)?;
        }
        let mut batch = WriteBatch::default();
        for (env, _) in &applied {
            batch.append_log(env.to_bytes());
        }
        let claims = self.record_claims(&applied, &mut batch);
        self.commit_or_poison(batch)?;
        self.doc.apply_accepted(applied)?;
        Ok(claims)
    }

    /// Applies again the changes of every envelope of `org` in the log that counts (changes
    /// the partition holds already are skipped): after its document was rebuilt, changes that
    /// waited there for dependencies (automerge's queue, which a rebuild does not carry over)
    /// are found again.
    pub(super) fn reapply_all(&mut self, org: OrgId) -> Result<(), ReplicaError> {
        let mut changes = Vec::new();
        for (_, bytes) in self.store.read_log(0, usize::MAX)? {
            if bytes.is_empty() {
                // Dropped (`prune.rs`): its changes are in the partition already.
                continue;
            }
            let env = Envelope::from_bytes(&bytes).map_err(|_| ReplicaError::Damaged("log"))?;
            if env.partition() != org || !self.doc.counts(&env.author(), env.seq()) {
                continue;
            }
            if let Some(decoded) = env
                .open(&self.net.keys)
                .ok()
                .and_then(|c| signed_changes(&env.author(), c))
            {
                changes.extend(decoded);
            }
        }
        // Changes that do not apply were refused when they arrived too; state stays the same.
        let _ = self.doc.apply(org, changes)?;
        Ok(())
    }

    /// Commits `batch`; a failure poisons the replica (memory is then ahead of the disk).
    fn commit_or_poison(&mut self, batch: WriteBatch) -> Result<(), ReplicaError> {
        if let Err(e) = self.store.commit(batch) {
            self.poisoned = true;
            return Err(e.into());
        }
        Ok(())
    }

    /// The envelopes (as stored bytes) that a peer with version vector `have` lacks, in log
    /// order.
    pub fn envelopes_missing_from(
        &self,
        have: &BTreeMap<PublicKey, u64>,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let indices = self.doc.missing_from(have);
        let mut out = Vec::with_capacity(indices.len());
        for i in indices {
            out.extend(self.store.read_log(i, 1)?.into_iter().map(|(_, b)| b));
        }
        Ok(out)
    }

    /// The held envelopes of `author` with sequence numbers `after + 1, after + 2, ...`, in
    /// order and contiguous, at most `max_count` of them and `max_bytes` bytes in all (the first
    /// one is returned even when it alone exceeds `max_bytes`, so a large envelope still moves).
    /// This is what sync sends a peer whose vector says it holds `author` up to `after`.
    pub fn envelopes_after(
        &self,
        author: &PublicKey,
        after: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut seq = after;
        while out.len() < max_count {
            seq = match seq.checked_add(1) {
                Some(s) => s,
                None => break,
            };
            if !self.doc.counts(author, seq) {
                break;
            }
            let Some(&index) = self.doc.log_index.get(&(*author, seq)) else {
                break;
            };
            let Some((_, envelope)) = self.store.read_log(index, 1)?.into_iter().next() else {
                break;
            };
            if !out.is_empty() && bytes + envelope.len() > max_bytes {
                break;
            }
            bytes += envelope.len();
            out.push(envelope);
        }
        Ok(out)
    }

    /// Every partition's automerge `save()`: what automerge alone keeps of this replica's
    /// data, which the benchmarks weigh the store against (and `load()` for start-up).
    pub fn saved_partitions(&mut self) -> Result<Vec<(OrgId, Vec<u8>)>, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        self.doc.partitions.save_loading_all()
    }

    /// Writes a local snapshot of every partition now.
    pub fn snapshot(&mut self) -> Result<(), ReplicaError> {
        let own = self.own_doc()?;
        let bytes = self.doc.local_snapshot(own.as_ref());
        let mut batch = WriteBatch::default();
        batch.put_snapshot(SNAPSHOT_NAME, self.doc.log_len, bytes);
        self.store.commit(batch)?;
        self.doc.snapshot_written();
        Ok(())
    }

    /// Seals this store's data key under `passphrase` instead of the current one (see
    /// [`Store::change_passphrase`]): nothing else is rewritten, and from now on only the new
    /// passphrase opens the store.
    pub fn change_passphrase(&mut self, passphrase: &[u8]) -> Result<(), ReplicaError> {
        self.store.change_passphrase(passphrase)?;
        Ok(())
    }

    /// [`Replica::close`] for a process about to exit: a replica opened read-only closes its
    /// store and leaves the memory of its documents and view to the exit (freeing a view of
    /// 100,000 offers piece by piece costs about 40 ms that nobody waits for otherwise). Any
    /// other replica closes as usual. Not for a process that goes on opening replicas.
    pub fn close_at_exit(mut self) -> Result<(), ReplicaError> {
        if self.store.is_read_only() {
            let network = self.net.node.network;
            let empty = DocumentState::new(network, self.public);
            std::mem::forget(std::mem::replace(&mut self.doc, empty));
        }
        self.close()
    }

    /// Closes the replica: first a local snapshot if the log holds envelopes the stored one
    /// does not cover or the stored one has no view, and the own partition snapshot if it is
    /// due and the partition was written to; then the store (compacted when enough of its file
    /// is unused, see [`Store::close`]). A replica opened read-only writes nothing.
    ///
    /// Why every uncovered envelope: replaying even one change at the next start loads its
    /// whole partition (seconds and hundreds of MiB at 100,000 offers), while every partition
    /// such an envelope touched is loaded now, and saving a loaded document costs a fraction of
    /// loading it. So a command that wrote pays for the snapshot once, and every command after
    /// it starts from the cached view without loading any document.
    pub fn close(mut self) -> Result<(), ReplicaError> {
        if !self.store.is_read_only() && !self.poisoned {
            // The own snapshot first, so that the local snapshot can refer to its document.
            self.own_snapshot_if_loaded()?;
            let uncovered = self.doc.log_len > self.doc.snapshot_covers;
            if uncovered || self.doc.snapshots.local_lacks_view {
                self.snapshot()?;
            }
            self.prune_own()?;
        }
        Ok(self.store.close()?)
    }
}

/// `changes` (a partition's history, in causal order) sealed by `key` as its envelopes
/// numbered from 1 under `epoch_key`, at most [`REPUBLISH_CHUNK_BYTES`] of changes each: a
/// node's local history when it joins a network, or its partition re-based after a history
/// erasure.
fn seal_history(
    network: NetworkId,
    org: OrgId,
    key: &SecretKey,
    epoch_key: EpochKey,
    changes: Vec<Vec<u8>>,
) -> Result<Vec<Envelope>, ReplicaError> {
    let mut envs = Vec::new();
    let mut chunk: Vec<Vec<u8>> = Vec::new();
    let mut chunk_bytes = 0usize;
    let seal = |chunk: &[Vec<u8>], envs: &mut Vec<Envelope>| {
        let seq = envs.len() as u64 + 1;
        Envelope::seal(
            network,
            org,
            key,
            seq,
            epoch_key.epoch(),
            epoch_key.key(),
            chunk,
        )
        .map(|env| envs.push(env))
    };
    for change in changes {
        if !chunk.is_empty() && chunk_bytes + change.len() > REPUBLISH_CHUNK_BYTES {
            seal(&chunk, &mut envs)?;
            chunk.clear();
            chunk_bytes = 0;
        }
        chunk_bytes += change.len();
        chunk.push(change);
    }
    if !chunk.is_empty() {
        seal(&chunk, &mut envs)?;
    }
    Ok(envs)
}

/// Decodes the changes of an accepted envelope, or `None` when any of them does not decode or
/// names another actor than the key that signed the envelope. Live ingest and start-up replay
/// both use this, so a quarantined envelope is skipped the same way on every path.
fn signed_changes(author: &PublicKey, changes: Vec<Vec<u8>>) -> Option<Vec<Change>> {
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        let change = Change::from_bytes(c).ok()?;
        if change.actor_id().to_bytes() != author.as_bytes() {
            return None;
        }
        out.push(change);
    }
    Some(out)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    fill_random(&mut b);
    b
}

fn encode_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn decode_json<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, ReplicaError> {
    serde_json::from_slice(bytes).map_err(|_| ReplicaError::Damaged(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_length_bomb_from_a_peer_is_refused_as_an_invalid_envelope() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let options = InitOptions {
            name: "Sacramento Accompaniment".into(),
            counties: vec!["06067".parse().expect("county")],
            intake: "hotline".into(),
            tz: "America/Los_Angeles".into(),
        };
        let now = Time(1_795_000_000);
        let mut r = Replica::init(
            &tmp.path().join("r"),
            b"a long test passphrase",
            options,
            now,
        )
        .expect("init");
        let mallory = SecretKey::from_bytes(&[4; 32]);
        let org = org_id_for(&mallory.public());
        r.trust(mallory.public(), org).expect("trusted");
        let (network, epoch) = (r.net.node.network, Epoch(r.net.node.epoch));
        let key = r.net.keys.key(epoch).expect("epoch key").clone();
        // A billion rows claimed by a few bytes: one run of "put" actions.
        let mut actions = Vec::new();
        crate::envelope::chunk::build::sleb(1 << 30, &mut actions);
        crate::envelope::chunk::build::uleb(1, &mut actions);
        let bomb = crate::envelope::chunk::build::change(
            mallory.public().as_bytes(),
            &[(crate::envelope::chunk::build::spec(4, 2), actions)],
        );
        let env = Envelope::seal_unchecked(network, org, &mallory, 1, epoch, &key, &[bomb]);
        let log_len = r.doc.log_len;
        // `ReplicaError::Envelope` is what the actor counts as invalid (the sync session then
        // penalises the peer); nothing was kept.
        assert!(matches!(
            r.ingest(env.as_bytes()),
            Err(ReplicaError::Envelope(EnvelopeError::TooManyRows { .. }))
        ));
        assert_eq!(r.doc.log_len, log_len);
        assert_eq!(r.doc.admission.next_seq(&mallory.public()), 1);
        // Mallory's honest envelope 1 is still welcome.
        let mut doc = puente_crdt::automerge::AutoCommit::new().with_actor(
            puente_crdt::automerge::ActorId::from(mallory.public().as_bytes().as_slice()),
        );
        puente_crdt::automerge::transaction::Transactable::put(
            &mut doc,
            puente_crdt::automerge::ROOT,
            "k",
            "v",
        )
        .expect("put");
        let change = doc
            .get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec();
        let honest =
            Envelope::seal(network, org, &mallory, 1, epoch, &key, &[change]).expect("seals");
        assert!(matches!(
            r.ingest(honest.as_bytes()),
            Ok(IngestOutcome::Applied(1))
        ));
    }
}
