//! The relay's durable store: one redb file, `relay.redb`, holding the relay's own identity seed,
//! the blind mailbox of every network it serves, and each network's opaque access state.
//!
//! Nothing here is passphrase-encrypted, because nothing here is readable to begin with: mailbox
//! entries are sealed by member nodes with keys the relay never has, access states are written
//! by the relay's access logic from public keys and signed tokens, and the relay's own seed must
//! be usable by a service that starts unattended (systemd, no passphrase). The file is protected
//! by its permissions: the directory must be 0700 and the file 0600, or [`RelayStore::open`]
//! refuses with the `chmod` to run.
//!
//! Invariants:
//! - A deposit is all or nothing, in one durable transaction (immediate durability, two-phase
//!   commit): once [`RelayStore::deposit`] returns `Ok`, a crash or restart loses none of it;
//!   when it returns `Err`, none of it happened.
//! - Ids in a network's mailbox start at 1 and are never reused: not after expiry, not after
//!   [`RelayStore::remove_network`], not after a restart. A client's cursor ("everything after
//!   id n") therefore never skips an entry while the store lives. A replaced store is noticed by
//!   its [`RelayStore::instance`], which changes, and then cursors start over.
//! - The per-network counters always equal the sum over that network's remaining entries, so a
//!   quota check reads one row and never scans.
//! - Time is passed in (`now`, seconds since the Unix epoch); nothing here reads a clock. Expiry
//!   is the only use of time.
//!
//! Boundary: this module does not decide who may deposit or collect (the relay's access logic
//! does, and keeps its state here as an opaque blob), never interprets an entry or an access
//! state, logs nothing, and exposes no redb type.
//!
//! Tables (format version [`FORMAT_VERSION`]; a file of another version is refused):
//!
//! | table      | key                               | value                                      |
//! |------------|-----------------------------------|--------------------------------------------|
//! | `meta`     | name (text)                       | `version`: u32 big-endian; `identity_seed`: 32 bytes; `instance`: 16 bytes |
//! | `counters` | network tag (32 bytes)            | (entries u64, bytes u64, next id u64)      |
//! | `entries`  | (network tag, id u64)             | (deposit time u64, entry bytes)            |
//! | `by_time`  | (deposit time u64, tag, id u64)   | nothing                                    |
//! | `access`   | network tag                       | access-state bytes                         |
//!
//! Costs: a deposit of k entries is O(k log n) and reads one counter row; a collect is one range
//! read over the network's entries; [`RelayStore::expire`] reads only the expired prefix of
//! `by_time` and removes what it finds, O(e log n) for e expired entries, in one transaction
//! (so deposits wait for it; run it every few minutes and each run removes little);
//! [`RelayStore::remove_network`] is O(m log n) for the m entries it drops. Quota bytes count
//! entry bytes only, not redb's per-row overhead (about 50 bytes per entry across the two
//! tables).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::ops::{Bound, RangeInclusive};
use std::path::{Path, PathBuf};

use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase as _, ReadableTable, TableDefinition,
    WriteTransaction,
};
use zeroize::Zeroizing;

use crate::crypto::seal::fill_random;
use crate::store::private::{FILE_MODE, FsProblem, check_private, ensure_private_dir, sync_dir};

/// An opaque per-network id chosen by the member nodes (the relay never learns what it names).
pub type NetworkTag = [u8; 32];

/// Name of the database file in the relay's directory.
pub const DB_FILE: &str = "relay.redb";

/// Name a new database is built under before it is linked into place, so that a crash during
/// creation never leaves a half-made `relay.redb` (which would then be refused as damaged).
const DB_NEW_FILE: &str = "relay.redb.new";

/// Version of the table layout described in the module documentation. A change to any table's
/// key or value is a new version.
pub const FORMAT_VERSION: u32 = 1;

/// redb's page cache: 32 MiB holds the index pages and recent entries of a busy relay while
/// staying small on a cheap rented server (redb's default is 1 GiB). Entries are read once per
/// collecting partner, so a larger cache buys little.
const DB_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Length of the relay's identity seed (an Ed25519 secret key seed).
const SEED_LEN: usize = 32;

/// Length of the store's instance id: 128 random bits never collide by chance.
const INSTANCE_LEN: usize = 16;

const META_VERSION: &str = "version";
const META_SEED: &str = "identity_seed";
const META_INSTANCE: &str = "instance";

/// Store-internal values: format version, identity seed, instance id.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Per network: (entries, bytes, next id), kept in step with `entries` by every write.
const COUNTERS: TableDefinition<NetworkTag, (u64, u64, u64)> = TableDefinition::new("counters");
/// Mailbox entries by (network, id): (deposit time, entry bytes).
const ENTRIES: TableDefinition<(NetworkTag, u64), (u64, &[u8])> = TableDefinition::new("entries");
/// Expiry index: every entry by (deposit time, network, id).
const BY_TIME: TableDefinition<(u64, NetworkTag, u64), ()> = TableDefinition::new("by_time");
/// Per network: the access logic's opaque state.
const ACCESS: TableDefinition<NetworkTag, &[u8]> = TableDefinition::new("access");

/// Quotas and retention of every network's mailbox. They apply to new deposits and to expiry; a
/// store opened with smaller limits than it was filled under keeps what it holds (nothing is
/// dropped to fit) but accepts nothing more until enough has expired or been collected away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxLimits {
    /// Most entry bytes one network's mailbox holds.
    pub max_bytes_per_network: u64,
    /// Most entries one network's mailbox holds.
    pub max_entries_per_network: u64,
    /// Largest single entry accepted.
    pub max_entry_bytes: usize,
    /// How long an entry is kept after its deposit, in seconds.
    pub retention_secs: u64,
}

impl MailboxLimits {
    /// 256 MiB per network: a network's changes over a retention period are typically a few MiB,
    /// so this leaves room for snapshots and a partner who is away for weeks, while a server with
    /// a few GiB of disk can still host a dozen networks whose mailboxes are all full.
    pub const DEFAULT_MAX_BYTES_PER_NETWORK: u64 = 256 * 1024 * 1024;

    /// 100,000 entries per network: far more than a network writes in a retention period (an
    /// entry usually carries a batch of changes), and it bounds the rows one network can make
    /// the relay keep and index however small its entries are.
    pub const DEFAULT_MAX_ENTRIES_PER_NETWORK: u64 = 100_000;

    /// 4 MiB per entry: the size of the largest envelope body (`envelope::MAX_ENVELOPE_BODY`) and
    /// half the largest frame (`net::MAX_FRAME_BYTES`), so one entry always travels in one frame.
    /// A writer with more to say splits it over several entries. Note that one maximal envelope
    /// with its header and signature is slightly larger than this and does not fit one entry.
    pub const DEFAULT_MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

    /// 30 days: long enough for a partner who is away for a holiday to come back and collect,
    /// short enough that a relay does not keep ciphertext (and its timing) for longer than it
    /// serves any purpose; a partner away longer catches up by syncing directly.
    pub const DEFAULT_RETENTION_SECS: u64 = 30 * 24 * 60 * 60;
}

impl Default for MailboxLimits {
    fn default() -> Self {
        Self {
            max_bytes_per_network: Self::DEFAULT_MAX_BYTES_PER_NETWORK,
            max_entries_per_network: Self::DEFAULT_MAX_ENTRIES_PER_NETWORK,
            max_entry_bytes: Self::DEFAULT_MAX_ENTRY_BYTES,
            retention_secs: Self::DEFAULT_RETENTION_SECS,
        }
    }
}

/// The ids a deposit was given: `first..=last`, consecutive. When nothing was deposited (an
/// empty `entries`), `first` is the network's next id and `last` is `first - 1`, so
/// [`Deposited::ids`] is empty and [`Deposited::count`] is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deposited {
    /// Id of the first entry deposited.
    pub first: u64,
    /// Id of the last entry deposited.
    pub last: u64,
}

impl Deposited {
    /// The ids given, in deposit order (empty when nothing was deposited).
    pub fn ids(&self) -> RangeInclusive<u64> {
        self.first..=self.last
    }

    /// How many entries were deposited.
    pub fn count(&self) -> u64 {
        if self.is_empty() {
            0
        } else {
            self.last - self.first + 1
        }
    }

    /// Whether nothing was deposited.
    pub fn is_empty(&self) -> bool {
        self.first > self.last
    }
}

/// What a collect returned.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Entries with their ids, in id order.
    pub entries: Vec<(u64, Vec<u8>)>,
    /// Whether the mailbox holds more entries after the last one returned.
    pub more: bool,
}

impl std::fmt::Debug for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ids and sizes only: the bytes are ciphertext, but megabytes of it help nobody.
        let entries: Vec<_> = self
            .entries
            .iter()
            .map(|(id, bytes)| (id, bytes.len()))
            .collect();
        f.debug_struct("Collected")
            .field("entries (id, len)", &entries)
            .field("more", &self.more)
            .finish()
    }
}

/// A network's mailbox usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Entries held.
    pub entries: u64,
    /// Entry bytes held (what the byte quota counts).
    pub bytes: u64,
    /// The id the next deposited entry gets (1 for a network never seen).
    pub next_id: u64,
}

impl Usage {
    /// A network that never deposited anything.
    const EMPTY: Usage = Usage {
        entries: 0,
        bytes: 0,
        next_id: 1,
    };

    fn from_row((entries, bytes, next_id): (u64, u64, u64)) -> Self {
        Usage {
            entries,
            bytes,
            // Only this module writes the row and ids start at 1; the floor keeps arithmetic on
            // `next_id - 1` panic-free whatever the file holds.
            next_id: next_id.max(1),
        }
    }

    fn to_row(self) -> (u64, u64, u64) {
        (self.entries, self.bytes, self.next_id)
    }
}

/// Why a relay store operation failed. Messages name paths and numbers, never stored bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayStoreError {
    /// The directory or the database file is accessible to other users.
    #[error("{} can be accessed by other users (mode {mode:03o}); fix it with `{fix}`", path.display())]
    LoosePermissions {
        /// The offending directory or file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The command that fixes it.
        fix: String,
    },
    /// Another process (or another handle in this one) has the store open.
    #[error("another process is using {}; stop it first", path.display())]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file was written with a table layout this version does not know.
    #[error(
        "relay store format version {found} is not supported (this version reads {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
    },
    /// The database file is damaged, or is not a relay store.
    #[error("the relay store {} is damaged ({reason})", path.display())]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The deposit would take the network's mailbox past a quota; nothing was deposited.
    #[error(
        "the mailbox is full ({used_entries} of {max_entries} entries, {used_bytes} of \
         {max_bytes} bytes used); nothing was deposited"
    )]
    Full {
        /// Entries the mailbox held before the refused deposit.
        used_entries: u64,
        /// Entry bytes the mailbox held before the refused deposit.
        used_bytes: u64,
        /// The entry quota.
        max_entries: u64,
        /// The byte quota.
        max_bytes: u64,
    },
    /// One entry of the deposit is larger than the limit; nothing was deposited.
    #[error(
        "entry {index} of the deposit is {len} bytes, more than the {max} allowed; nothing was deposited"
    )]
    EntryTooLarge {
        /// Its position in the deposit.
        index: usize,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The disk is full; the write was not applied.
    #[error("the disk holding {} is full; nothing was written", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another I/O error.
    #[error("i/o error on {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another database error.
    #[error("the relay database failed: {reason}")]
    Database {
        /// What the database reported.
        reason: String,
    },
}

/// The relay's open store. Dropping it closes the database and releases its lock.
///
/// Every method is a short redb transaction on the calling thread: call it from a blocking
/// thread (`spawn_blocking` or the relay's store thread), never from an async task.
pub struct RelayStore {
    path: PathBuf,
    db: Database,
    limits: MailboxLimits,
    seed: Zeroizing<[u8; SEED_LEN]>,
    instance: [u8; INSTANCE_LEN],
}

impl std::fmt::Debug for RelayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayStore")
            .field("path", &self.path)
            .field("instance", &data_encoding::HEXLOWER.encode(&self.instance))
            .field("limits", &self.limits)
            .field("identity_seed", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl RelayStore {
    /// Opens the relay store in `dir`, creating the directory (mode 0700) and `relay.redb`
    /// (mode 0600, with a fresh identity seed and instance id) if they are missing. Refuses a
    /// directory or file with any group or other permission bit, a file another process has
    /// open, a file of an unknown format version, and a damaged file (every page checksum is
    /// verified on open).
    pub fn open(dir: &Path, limits: MailboxLimits) -> Result<RelayStore, RelayStoreError> {
        ensure_private_dir(dir)?;
        let path = dir.join(DB_FILE);
        match fs::symlink_metadata(&path) {
            Ok(_) => check_private(&path, false)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_file(dir, &path)?,
            Err(e) => return Err(io_error(&path, e)),
        }
        let db = db_builder().open(&path).or_db(&path)?;
        let (seed, instance) = read_meta(&db, &path)?;
        Ok(RelayStore {
            path,
            db,
            limits,
            seed,
            instance,
        })
    }

    /// The relay's Ed25519 identity seed: random, made once when the store was created.
    pub fn identity_seed(&self) -> Zeroizing<[u8; 32]> {
        self.seed.clone()
    }

    /// This store's instance id: random, made once when the store was created. A client that
    /// sees it change knows the relay's store was replaced (ids start over), and resets its
    /// cursors.
    pub fn instance(&self) -> [u8; 16] {
        self.instance
    }

    /// The limits this store was opened with.
    pub fn limits(&self) -> MailboxLimits {
        self.limits
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deposits `entries` into the mailbox of `tag`, all or nothing, in one durable transaction:
    /// when this returns `Ok`, the entries survive a crash. Each entry gets the network's next
    /// id, in order, and is stamped with `now` for expiry. Refuses with
    /// [`RelayStoreError::EntryTooLarge`] if one entry is larger than
    /// [`MailboxLimits::max_entry_bytes`], and with [`RelayStoreError::Full`] if the mailbox
    /// would pass a quota; then nothing changes. An empty `entries` writes nothing and returns
    /// an empty [`Deposited`].
    pub fn deposit(
        &self,
        tag: &NetworkTag,
        entries: &[Vec<u8>],
        now: u64,
    ) -> Result<Deposited, RelayStoreError> {
        let max = self.limits.max_entry_bytes;
        if let Some((index, entry)) = entries.iter().enumerate().find(|(_, e)| e.len() > max) {
            return Err(RelayStoreError::EntryTooLarge {
                index,
                len: entry.len(),
                max,
            });
        }
        if entries.is_empty() {
            let next = self.usage(tag)?.next_id;
            return Ok(Deposited {
                first: next,
                last: next - 1,
            });
        }
        let count = entries.len() as u64;
        let bytes: u64 = entries.iter().map(|e| e.len() as u64).sum();
        self.write(|txn| {
            let path = self.path.as_path();
            let mut counters = txn.open_table(COUNTERS).or_db(path)?;
            let usage = usage_in(&counters, tag).or_db(path)?;
            let fits = usage
                .entries
                .checked_add(count)
                .is_some_and(|n| n <= self.limits.max_entries_per_network)
                && usage
                    .bytes
                    .checked_add(bytes)
                    .is_some_and(|n| n <= self.limits.max_bytes_per_network);
            if !fits {
                return Err(RelayStoreError::Full {
                    used_entries: usage.entries,
                    used_bytes: usage.bytes,
                    max_entries: self.limits.max_entries_per_network,
                    max_bytes: self.limits.max_bytes_per_network,
                });
            }
            let first = usage.next_id;
            let next_id = first
                .checked_add(count)
                .ok_or_else(|| RelayStoreError::Damaged {
                    path: self.path.clone(),
                    reason: "a network's id counter is exhausted".to_owned(),
                })?;
            let mut table = txn.open_table(ENTRIES).or_db(path)?;
            let mut by_time = txn.open_table(BY_TIME).or_db(path)?;
            for (id, entry) in (first..).zip(entries) {
                table
                    .insert((*tag, id), (now, entry.as_slice()))
                    .or_db(path)?;
                by_time.insert((now, *tag, id), ()).or_db(path)?;
            }
            let after = Usage {
                entries: usage.entries + count,
                bytes: usage.bytes + bytes,
                next_id,
            };
            counters.insert(tag, after.to_row()).or_db(path)?;
            Ok(Deposited {
                first,
                last: next_id - 1,
            })
        })
    }

    /// Entries of `tag`'s mailbox with an id greater than `after`, in id order: at most
    /// `max_entries`, and stopping before the total entry bytes would pass `max_bytes`; but
    /// always at least one entry if there is any (so every call makes progress, even with a
    /// limit of 0 or an entry larger than `max_bytes`). [`Collected::more`] says whether more
    /// remain after the last one returned. Collecting removes nothing: entries leave by expiry
    /// or [`RelayStore::remove_network`], since every partner of the network collects them.
    pub fn collect(
        &self,
        tag: &NetworkTag,
        after: u64,
        max_entries: usize,
        max_bytes: usize,
    ) -> Result<Collected, RelayStoreError> {
        self.read(|txn| {
            let path = self.path.as_path();
            let table = txn.open_table(ENTRIES).or_db(path)?;
            let range = (
                Bound::Excluded((*tag, after)),
                Bound::Included((*tag, u64::MAX)),
            );
            let mut out = Collected::default();
            let mut total = 0usize;
            for row in table.range(range).or_db(path)? {
                let (key, value) = row.or_db(path)?;
                let (_, id) = key.value();
                let (_, bytes) = value.value();
                if !out.entries.is_empty()
                    && (out.entries.len() >= max_entries
                        || total.saturating_add(bytes.len()) > max_bytes)
                {
                    out.more = true;
                    break;
                }
                total = total.saturating_add(bytes.len());
                out.entries.push((id, bytes.to_vec()));
            }
            Ok(out)
        })
    }

    /// Removes every entry deposited more than [`MailboxLimits::retention_secs`] before `now`
    /// (deposit time < now - retention), in one durable transaction, and returns how many it
    /// removed. The quotas count only what remains; ids are not reused.
    pub fn expire(&self, now: u64) -> Result<u64, RelayStoreError> {
        let cutoff = now.saturating_sub(self.limits.retention_secs);
        if cutoff == 0 {
            return Ok(0);
        }
        self.write(|txn| {
            let path = self.path.as_path();
            let mut by_time = txn.open_table(BY_TIME).or_db(path)?;
            let mut entries = txn.open_table(ENTRIES).or_db(path)?;
            let mut removed: BTreeMap<NetworkTag, (u64, u64)> = BTreeMap::new();
            let mut total = 0u64;
            let mut expired = by_time
                .extract_from_if(..(cutoff, [0u8; 32], 0u64), |_, ()| true)
                .or_db(path)?;
            for row in &mut expired {
                let (key, _) = row.or_db(path)?;
                let (_, tag, id) = key.value();
                if let Some(old) = entries.remove((tag, id)).or_db(path)? {
                    let len = old.value().1.len() as u64;
                    let counts = removed.entry(tag).or_default();
                    counts.0 += 1;
                    counts.1 += len;
                    total += 1;
                }
            }
            expired.close().or_db(path)?;
            let mut counters = txn.open_table(COUNTERS).or_db(path)?;
            for (tag, (count, bytes)) in removed {
                let usage = usage_in(&counters, &tag).or_db(path)?;
                let after = Usage {
                    entries: usage.entries.saturating_sub(count),
                    bytes: usage.bytes.saturating_sub(bytes),
                    next_id: usage.next_id,
                };
                counters.insert(tag, after.to_row()).or_db(path)?;
            }
            Ok(total)
        })
    }

    /// The mailbox usage of `tag` (all zero, next id 1, for a network never seen).
    pub fn usage(&self, tag: &NetworkTag) -> Result<Usage, RelayStoreError> {
        self.read(|txn| {
            let counters = txn.open_table(COUNTERS).or_db(&self.path)?;
            usage_in(&counters, tag).or_db(&self.path)
        })
    }

    /// Stores `state` as `tag`'s access state (replacing any), durably.
    pub fn save_access(&self, tag: &NetworkTag, state: &[u8]) -> Result<(), RelayStoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(ACCESS).or_db(&self.path)?;
            table.insert(tag, state).or_db(&self.path)?;
            Ok(())
        })
    }

    /// Every network's access state, in tag order.
    pub fn load_access(&self) -> Result<Vec<(NetworkTag, Vec<u8>)>, RelayStoreError> {
        self.read(|txn| {
            let table = txn.open_table(ACCESS).or_db(&self.path)?;
            let mut out = Vec::new();
            for row in table.range::<NetworkTag>(..).or_db(&self.path)? {
                let (key, value) = row.or_db(&self.path)?;
                out.push((key.value(), value.value().to_vec()));
            }
            Ok(out)
        })
    }

    /// Drops `tag`'s mailbox and access state, durably. Only its id counter is kept (one
    /// 56-byte row), so that a network served again later never reuses an id a client's cursor
    /// has already passed. A network never seen is not an error.
    pub fn remove_network(&self, tag: &NetworkTag) -> Result<(), RelayStoreError> {
        self.write(|txn| {
            let path = self.path.as_path();
            let mut entries = txn.open_table(ENTRIES).or_db(path)?;
            let mut by_time = txn.open_table(BY_TIME).or_db(path)?;
            let mut dropped = entries
                .extract_from_if((*tag, 0u64)..=(*tag, u64::MAX), |_, _| true)
                .or_db(path)?;
            for row in &mut dropped {
                let (key, value) = row.or_db(path)?;
                let (_, id) = key.value();
                let (time, _) = value.value();
                by_time.remove((time, *tag, id)).or_db(path)?;
            }
            dropped.close().or_db(path)?;
            let mut access = txn.open_table(ACCESS).or_db(path)?;
            access.remove(tag).or_db(path)?;
            let mut counters = txn.open_table(COUNTERS).or_db(path)?;
            let next_id = counters.get(tag).or_db(path)?.map(|row| row.value().2);
            if let Some(next_id) = next_id {
                let cleared = Usage {
                    entries: 0,
                    bytes: 0,
                    next_id,
                };
                counters.insert(tag, cleared.to_row()).or_db(path)?;
            }
            Ok(())
        })
    }

    /// Closes the database, reporting any error that dropping would swallow.
    pub fn close(self) -> Result<(), RelayStoreError> {
        let RelayStore { path, db, .. } = self;
        db.close().or_db(&path)
    }

    /// Runs `f` in one durable write transaction: committed (immediate durability, two-phase
    /// commit) if it returns `Ok`, aborted if it returns `Err`.
    fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, RelayStoreError>,
    ) -> Result<T, RelayStoreError> {
        let mut txn = self.db.begin_write().or_db(&self.path)?;
        txn.set_durability(Durability::Immediate)
            .or_db(&self.path)?;
        txn.set_two_phase_commit(true);
        match f(&txn) {
            Ok(value) => {
                txn.commit().or_db(&self.path)?;
                Ok(value)
            }
            Err(err) => {
                // The refusal or failure is what matters; an abort error adds nothing to it.
                let _ = txn.abort();
                Err(err)
            }
        }
    }

    /// Runs `f` in one read transaction.
    fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, RelayStoreError>,
    ) -> Result<T, RelayStoreError> {
        let txn = self.db.begin_read().or_db(&self.path)?;
        f(&txn)
    }
}

/// A network's counters as read from `table`.
fn usage_in(
    table: &impl ReadableTable<NetworkTag, (u64, u64, u64)>,
    tag: &NetworkTag,
) -> Result<Usage, redb::StorageError> {
    Ok(table
        .get(tag)?
        .map_or(Usage::EMPTY, |row| Usage::from_row(row.value())))
}

/// Builds a new database under a temporary name (mode 0600) with the format version, a fresh
/// identity seed and instance id, and every table; then links it into place as `path`, so
/// `path` either does not exist or is complete. If another process linked its own first, that
/// one is kept.
fn create_file(dir: &Path, path: &Path) -> Result<(), RelayStoreError> {
    let tmp = dir.join(DB_NEW_FILE);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&tmp, e)),
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let file = options.open(&tmp).map_err(|e| io_error(&tmp, e))?;
    let built = build_new(&tmp, file);
    let linked = built.and_then(|()| match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(path, e)),
    });
    let removed = fs::remove_file(&tmp).map_err(|e| io_error(&tmp, e));
    linked?;
    removed?;
    Ok(sync_dir(dir)?)
}

/// Initialises a fresh database in `file` and closes it.
fn build_new(tmp: &Path, file: File) -> Result<(), RelayStoreError> {
    let backend = redb::backends::FileBackend::new(file).or_db(tmp)?;
    let db = db_builder().create_with_backend(backend).or_db(tmp)?;
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    fill_random(seed.as_mut_slice());
    let mut instance = [0u8; INSTANCE_LEN];
    fill_random(&mut instance);
    let mut txn = db.begin_write().or_db(tmp)?;
    txn.set_durability(Durability::Immediate).or_db(tmp)?;
    txn.set_two_phase_commit(true);
    {
        let mut meta = txn.open_table(META).or_db(tmp)?;
        meta.insert(META_VERSION, FORMAT_VERSION.to_be_bytes().as_slice())
            .or_db(tmp)?;
        meta.insert(META_SEED, seed.as_slice()).or_db(tmp)?;
        meta.insert(META_INSTANCE, instance.as_slice()).or_db(tmp)?;
        txn.open_table(COUNTERS).or_db(tmp)?;
        txn.open_table(ENTRIES).or_db(tmp)?;
        txn.open_table(BY_TIME).or_db(tmp)?;
        txn.open_table(ACCESS).or_db(tmp)?;
    }
    txn.commit().or_db(tmp)?;
    db.close().or_db(tmp)
}

/// Reads and checks the format version, the identity seed and the instance id, and that every
/// table is there.
fn read_meta(
    db: &Database,
    path: &Path,
) -> Result<(Zeroizing<[u8; SEED_LEN]>, [u8; INSTANCE_LEN]), RelayStoreError> {
    let damaged = |reason: &str| RelayStoreError::Damaged {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let txn = db.begin_read().or_db(path)?;
    let meta = txn.open_table(META).or_db(path)?;
    let version = meta
        .get(META_VERSION)
        .or_db(path)?
        .ok_or_else(|| damaged("no format version"))?;
    let version =
        <[u8; 4]>::try_from(version.value()).map_err(|_| damaged("malformed format version"))?;
    let found = u32::from_be_bytes(version);
    if found != FORMAT_VERSION {
        return Err(RelayStoreError::UnsupportedVersion { found });
    }
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    {
        let value = meta
            .get(META_SEED)
            .or_db(path)?
            .ok_or_else(|| damaged("no identity seed"))?;
        if value.value().len() != SEED_LEN {
            return Err(damaged("malformed identity seed"));
        }
        seed.copy_from_slice(value.value());
    }
    let instance = meta
        .get(META_INSTANCE)
        .or_db(path)?
        .ok_or_else(|| damaged("no instance id"))?;
    let instance = <[u8; INSTANCE_LEN]>::try_from(instance.value())
        .map_err(|_| damaged("malformed instance id"))?;
    txn.open_table(COUNTERS).or_db(path)?;
    txn.open_table(ENTRIES).or_db(path)?;
    txn.open_table(BY_TIME).or_db(path)?;
    txn.open_table(ACCESS).or_db(path)?;
    Ok((seed, instance))
}

/// The redb configuration: verify every page checksum on open (a damaged file becomes an error,
/// not a panic or a silent rollback) and a bounded cache.
fn db_builder() -> redb::Builder {
    let mut builder = redb::Builder::new();
    builder
        .set_check_integrity_on_open(true)
        .set_cache_size(DB_CACHE_BYTES);
    builder
}

/// Maps redb's errors to [`RelayStoreError`], naming the database file.
trait OrDb<T> {
    fn or_db(self, path: &Path) -> Result<T, RelayStoreError>;
}

impl<T, E: Into<redb::Error>> OrDb<T> for Result<T, E> {
    fn or_db(self, path: &Path) -> Result<T, RelayStoreError> {
        self.map_err(|e| redb_error(path, e.into()))
    }
}

/// Maps a redb error to a store error without exposing redb types.
fn redb_error(path: &Path, e: redb::Error) -> RelayStoreError {
    let damaged = |reason: String| RelayStoreError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    match e {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            RelayStoreError::Locked {
                path: path.to_path_buf(),
            }
        }
        redb::Error::Corrupted(reason) => damaged(reason),
        redb::Error::RepairAborted => damaged("repair did not complete".to_owned()),
        redb::Error::TableDoesNotExist(table) => damaged(format!("table `{table}` is missing")),
        redb::Error::TableTypeMismatch { table, .. } | redb::Error::TableIsMultimap(table) => {
            damaged(format!("table `{table}` has the wrong type"))
        }
        redb::Error::Io(source) => io_error(path, source),
        other => RelayStoreError::Database {
            reason: other.to_string(),
        },
    }
}

/// Maps an I/O error on `path`, singling out a full disk and a file that is not a database (or
/// is cut short).
impl From<FsProblem> for RelayStoreError {
    fn from(problem: FsProblem) -> Self {
        match problem {
            FsProblem::Loose { path, mode, fix } => {
                RelayStoreError::LoosePermissions { path, mode, fix }
            }
            FsProblem::Io { path, source } => io_error(&path, source),
        }
    }
}

fn io_error(path: &Path, source: io::Error) -> RelayStoreError {
    let path = path.to_path_buf();
    match source.kind() {
        io::ErrorKind::StorageFull => RelayStoreError::DiskFull { path, source },
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => RelayStoreError::Damaged {
            path,
            reason: source.to_string(),
        },
        _ => RelayStoreError::Io { path, source },
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    const A: NetworkTag = [0xa1; 32];
    const B: NetworkTag = [0xb2; 32];
    const DAY: u64 = 24 * 60 * 60;
    const T0: u64 = 1_800_000_000;

    fn limits() -> MailboxLimits {
        MailboxLimits {
            max_bytes_per_network: 1000,
            max_entries_per_network: 10,
            max_entry_bytes: 300,
            retention_secs: 7 * DAY,
        }
    }

    fn new_store() -> (tempfile::TempDir, PathBuf, RelayStore) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("relay");
        let store = RelayStore::open(&dir, limits()).expect("opens");
        (tmp, dir, store)
    }

    fn entry(n: u8, len: usize) -> Vec<u8> {
        vec![n; len]
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn ids(collected: &Collected) -> Vec<u64> {
        collected.entries.iter().map(|(id, _)| *id).collect()
    }

    #[test]
    fn creates_private_dir_and_file_with_identity() {
        let (_tmp, dir, store) = new_store();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
        assert!(!dir.join(DB_NEW_FILE).exists());
        assert_ne!(*store.identity_seed(), [0; 32]);
        assert_ne!(store.instance(), [0; 16]);
        assert_eq!(store.usage(&A).expect("usage"), Usage::EMPTY);
        assert_eq!(store.path(), dir.join(DB_FILE));
        assert_eq!(store.limits(), limits());

        let other = tempfile::tempdir().expect("tempdir");
        let second = RelayStore::open(&other.path().join("relay"), limits()).expect("opens");
        assert_ne!(*second.identity_seed(), *store.identity_seed());
        assert_ne!(second.instance(), store.instance());
    }

    #[test]
    fn deposit_collect_round_trip_with_paging_by_count_and_bytes() {
        let (_tmp, _dir, store) = new_store();
        let batch: Vec<_> = (1..=5).map(|n| entry(n, 100)).collect();
        let deposited = store.deposit(&A, &batch, T0).expect("deposits");
        assert_eq!(deposited, Deposited { first: 1, last: 5 });
        assert_eq!(deposited.count(), 5);
        assert_eq!(deposited.ids().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        let more = store
            .deposit(&A, &[entry(6, 50)], T0 + 1)
            .expect("deposits");
        assert_eq!(more, Deposited { first: 6, last: 6 });

        // Everything at once, with the bytes intact and in order.
        let all = store.collect(&A, 0, 100, 10_000).expect("collects");
        assert!(!all.more);
        assert_eq!(ids(&all), vec![1, 2, 3, 4, 5, 6]);
        for (id, bytes) in &all.entries {
            let len = if *id == 6 { 50 } else { 100 };
            assert_eq!(bytes, &entry(*id as u8, len));
        }

        // Paging by count.
        let page = store.collect(&A, 0, 2, 10_000).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![1, 2], true));
        let page = store.collect(&A, 2, 2, 10_000).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![3, 4], true));
        let page = store.collect(&A, 4, 2, 10_000).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![5, 6], false));
        let page = store.collect(&A, 6, 2, 10_000).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![], false));

        // Paging by bytes: stops before passing the limit.
        let page = store.collect(&A, 0, 100, 250).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![1, 2], true));
        let page = store.collect(&A, 2, 100, 250).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![3, 4], true));
        let page = store.collect(&A, 3, 100, 250).expect("collects");
        assert_eq!(
            (ids(&page), page.more),
            (vec![4, 5, 6], false),
            "exactly the limit"
        );
        let page = store.collect(&A, 4, 100, 250).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![5, 6], false));

        // Always at least one entry when there is one, whatever the limits.
        let page = store.collect(&A, 0, 100, 10).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![1], true));
        let page = store.collect(&A, 5, 0, 0).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![6], false));

        // A cursor far past the end, and the largest cursor, return nothing.
        let page = store.collect(&A, u64::MAX, 10, 10_000).expect("collects");
        assert_eq!((ids(&page), page.more), (vec![], false));
        assert!(format!("{page:?}").contains("more"));
    }

    #[test]
    fn empty_deposit_writes_nothing_and_gives_no_ids() {
        let (_tmp, _dir, store) = new_store();
        let none = store.deposit(&A, &[], T0).expect("deposits");
        assert!(none.is_empty());
        assert_eq!(none.count(), 0);
        assert_eq!(none.ids().count(), 0);
        assert_eq!(none.first, 1);
        store.deposit(&A, &[entry(1, 10)], T0).expect("deposits");
        let none = store.deposit(&A, &[], T0).expect("deposits");
        assert_eq!(none, Deposited { first: 2, last: 1 });
        assert_eq!(store.usage(&A).expect("usage").entries, 1);
    }

    #[test]
    fn quota_refusal_leaves_the_store_unchanged_and_says_the_numbers() {
        let (_tmp, _dir, store) = new_store();
        let batch: Vec<_> = (1..=3).map(|n| entry(n, 300)).collect();
        store.deposit(&A, &batch, T0).expect("deposits");
        let before = store.usage(&A).expect("usage");
        assert_eq!(
            before,
            Usage {
                entries: 3,
                bytes: 900,
                next_id: 4
            }
        );

        // Over the byte quota: the first entry would fit, the second not; neither is kept.
        let err = store
            .deposit(&A, &[entry(4, 50), entry(5, 60)], T0)
            .expect_err("over the byte quota");
        match err {
            RelayStoreError::Full {
                used_entries,
                used_bytes,
                max_entries,
                max_bytes,
            } => assert_eq!(
                (used_entries, used_bytes, max_entries, max_bytes),
                (3, 900, 10, 1000)
            ),
            other => panic!("expected Full, got {other:?}"),
        }
        assert_eq!(store.usage(&A).expect("usage"), before);
        assert_eq!(
            ids(&store.collect(&A, 0, 100, 10_000).expect("collects")),
            vec![1, 2, 3]
        );

        // Exactly up to the byte quota is accepted, and the ids continue where they were.
        let ok = store
            .deposit(&A, &[entry(4, 100)], T0)
            .expect("fits exactly");
        assert_eq!(ok, Deposited { first: 4, last: 4 });

        // Over the entry quota (on a network with room in bytes).
        let small: Vec<_> = (0..10).map(|n| entry(n, 1)).collect();
        store.deposit(&B, &small, T0).expect("ten fit");
        let err = store
            .deposit(&B, &[entry(11, 1)], T0)
            .expect_err("eleventh");
        assert!(
            matches!(
                err,
                RelayStoreError::Full {
                    used_entries: 10,
                    used_bytes: 10,
                    max_entries: 10,
                    max_bytes: 1000
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("10 of 10 entries"), "{err}");
        assert_eq!(store.usage(&B).expect("usage").next_id, 11);
    }

    #[test]
    fn entry_too_large_is_refused_and_nothing_is_deposited() {
        let (_tmp, _dir, store) = new_store();
        let err = store
            .deposit(&A, &[entry(1, 10), entry(2, 301)], T0)
            .expect_err("too large");
        assert!(
            matches!(
                err,
                RelayStoreError::EntryTooLarge {
                    index: 1,
                    len: 301,
                    max: 300
                }
            ),
            "{err:?}"
        );
        assert_eq!(store.usage(&A).expect("usage"), Usage::EMPTY);
        store
            .deposit(&A, &[entry(1, 300)], T0)
            .expect("the limit itself fits");
    }

    #[test]
    fn durable_across_reopen() {
        let (_tmp, dir, store) = new_store();
        let seed = store.identity_seed();
        let instance = store.instance();
        store
            .deposit(&A, &[entry(1, 10), entry(2, 20)], T0)
            .expect("deposits");
        store.deposit(&B, &[entry(3, 30)], T0).expect("deposits");
        store.save_access(&A, b"access of a").expect("saves");
        drop(store);

        let store = RelayStore::open(&dir, limits()).expect("reopens");
        assert_eq!(*store.identity_seed(), *seed);
        assert_eq!(store.instance(), instance);
        let a = store.collect(&A, 0, 100, 10_000).expect("collects");
        assert_eq!(a.entries, vec![(1, entry(1, 10)), (2, entry(2, 20))]);
        let b = store.collect(&B, 0, 100, 10_000).expect("collects");
        assert_eq!(b.entries, vec![(1, entry(3, 30))]);
        assert_eq!(
            store.usage(&A).expect("usage"),
            Usage {
                entries: 2,
                bytes: 30,
                next_id: 3
            }
        );
        assert_eq!(
            store.load_access().expect("loads"),
            vec![(A, b"access of a".to_vec())]
        );
        store.close().expect("closes");

        let store = RelayStore::open(&dir, limits()).expect("reopens after close");
        assert_eq!(store.instance(), instance);
    }

    #[test]
    fn ids_are_never_reused_after_expiry_removal_or_reopen() {
        let (_tmp, dir, store) = new_store();
        store
            .deposit(&A, &[entry(1, 10), entry(2, 10), entry(3, 10)], T0)
            .expect("deposits");
        assert_eq!(store.expire(T0 + 8 * DAY).expect("expires"), 3);
        assert_eq!(
            store.usage(&A).expect("usage"),
            Usage {
                entries: 0,
                bytes: 0,
                next_id: 4
            }
        );
        let d = store
            .deposit(&A, &[entry(4, 10)], T0 + 8 * DAY)
            .expect("deposits");
        assert_eq!(d, Deposited { first: 4, last: 4 });
        drop(store);

        let store = RelayStore::open(&dir, limits()).expect("reopens");
        let d = store
            .deposit(&A, &[entry(5, 10)], T0 + 8 * DAY)
            .expect("deposits");
        assert_eq!(d, Deposited { first: 5, last: 5 });

        store.remove_network(&A).expect("removes");
        let d = store
            .deposit(&A, &[entry(6, 10)], T0 + 9 * DAY)
            .expect("deposits");
        assert_eq!(d, Deposited { first: 6, last: 6 });
        let page = store.collect(&A, 0, 100, 10_000).expect("collects");
        assert_eq!(page.entries, vec![(6, entry(6, 10))]);
    }

    #[test]
    fn expiry_removes_only_entries_older_than_retention() {
        let (_tmp, _dir, store) = new_store();
        let retention = limits().retention_secs;
        store.deposit(&A, &[entry(1, 100)], T0).expect("deposits");
        store
            .deposit(&A, &[entry(2, 100), entry(3, 50)], T0 + DAY)
            .expect("deposits");
        store.deposit(&B, &[entry(4, 70)], T0).expect("deposits");
        store
            .deposit(&B, &[entry(5, 80)], T0 + 2 * DAY)
            .expect("deposits");

        // Nothing is older than the retention yet; a clock before the epoch plus retention is
        // harmless too.
        assert_eq!(store.expire(T0 + retention).expect("expires"), 0);
        assert_eq!(store.expire(0).expect("expires"), 0);

        // One second past retention for the entries deposited at T0, in both networks.
        assert_eq!(store.expire(T0 + retention + 1).expect("expires"), 2);
        let a = store.collect(&A, 0, 100, 10_000).expect("collects");
        assert_eq!(ids(&a), vec![2, 3]);
        let b = store.collect(&B, 0, 100, 10_000).expect("collects");
        assert_eq!(ids(&b), vec![2]);
        assert_eq!(
            store.usage(&A).expect("usage"),
            Usage {
                entries: 2,
                bytes: 150,
                next_id: 4
            }
        );
        assert_eq!(
            store.usage(&B).expect("usage"),
            Usage {
                entries: 1,
                bytes: 80,
                next_id: 3
            }
        );
        // Running again at the same time removes nothing more.
        assert_eq!(store.expire(T0 + retention + 1).expect("expires"), 0);

        // The quota counts only what remains: the freed bytes can be used again.
        let batch: Vec<_> = (0..3).map(|n| entry(n, 280)).collect();
        store
            .deposit(&A, &batch, T0 + DAY)
            .expect("fits in the freed room");

        // Later, everything goes.
        assert_eq!(store.expire(T0 + 10 * DAY).expect("expires"), 6);
        assert_eq!(store.usage(&A).expect("usage").entries, 0);
        assert_eq!(store.usage(&B).expect("usage").bytes, 0);
    }

    #[test]
    fn remove_network_drops_its_mailbox_and_access_state_only() {
        let (_tmp, dir, store) = new_store();
        store
            .deposit(&A, &[entry(1, 10), entry(2, 20)], T0)
            .expect("deposits");
        store.deposit(&B, &[entry(3, 30)], T0).expect("deposits");
        store.save_access(&A, b"a").expect("saves");
        store.save_access(&B, b"b").expect("saves");
        store.remove_network(&A).expect("removes");
        store
            .remove_network(&[0x77; 32])
            .expect("an unknown network is fine");

        let a = store.collect(&A, 0, 100, 10_000).expect("collects");
        assert_eq!((a.entries.len(), a.more), (0, false));
        assert_eq!(
            store.usage(&A).expect("usage"),
            Usage {
                entries: 0,
                bytes: 0,
                next_id: 3
            }
        );
        assert_eq!(
            store.load_access().expect("loads"),
            vec![(B, b"b".to_vec())]
        );
        let b = store.collect(&B, 0, 100, 10_000).expect("collects");
        assert_eq!(b.entries, vec![(1, entry(3, 30))]);

        // The expiry index lost A's rows too: expiring later counts only B's entry.
        assert_eq!(store.expire(T0 + 30 * DAY).expect("expires"), 1);
        drop(store);
        let store = RelayStore::open(&dir, limits()).expect("reopens");
        assert_eq!(
            store.load_access().expect("loads"),
            vec![(B, b"b".to_vec())]
        );
        assert_eq!(store.usage(&A).expect("usage").next_id, 3);
    }

    #[test]
    fn access_blobs_round_trip() {
        let (_tmp, _dir, store) = new_store();
        assert_eq!(store.load_access().expect("loads"), vec![]);
        store.save_access(&B, b"state of b").expect("saves");
        store.save_access(&A, b"first").expect("saves");
        store.save_access(&A, b"second").expect("replaces");
        store.save_access(&[0; 32], b"").expect("an empty state");
        assert_eq!(
            store.load_access().expect("loads"),
            vec![
                ([0; 32], Vec::new()),
                (A, b"second".to_vec()),
                (B, b"state of b".to_vec()),
            ]
        );
    }

    #[test]
    fn two_networks_mailboxes_and_quotas_are_independent() {
        let (_tmp, _dir, store) = new_store();
        let full: Vec<_> = (0..3).map(|n| entry(n, 300)).collect();
        store.deposit(&A, &full, T0).expect("deposits");
        store
            .deposit(&A, &[entry(9, 100)], T0)
            .expect("A is now full");
        assert!(matches!(
            store.deposit(&A, &[entry(9, 1)], T0),
            Err(RelayStoreError::Full { .. })
        ));
        // B still has its whole quota, and its own ids.
        let d = store.deposit(&B, &full, T0).expect("B has room");
        assert_eq!(d, Deposited { first: 1, last: 3 });
        let a = store.collect(&A, 0, 100, 10_000).expect("collects");
        let b = store.collect(&B, 0, 100, 10_000).expect("collects");
        assert_eq!(ids(&a), vec![1, 2, 3, 4]);
        assert_eq!(ids(&b), vec![1, 2, 3]);
        assert_eq!(a.entries[3].1, entry(9, 100));
        // Tags next to each other in key order do not bleed into each other's ranges.
        let mut below = A;
        below[31] -= 1;
        let mut above = A;
        above[31] += 1;
        store.deposit(&below, &[entry(1, 1)], T0).expect("deposits");
        store.deposit(&above, &[entry(2, 1)], T0).expect("deposits");
        assert_eq!(
            store
                .collect(&A, 0, 100, 10_000)
                .expect("collects")
                .entries
                .len(),
            4
        );
        assert_eq!(
            store
                .collect(&below, 0, 100, 10_000)
                .expect("collects")
                .entries
                .len(),
            1
        );
    }

    #[test]
    fn loose_permissions_are_refused_with_a_fix() {
        let (_tmp, dir, store) = new_store();
        drop(store);
        set_mode(&dir, 0o755);
        match RelayStore::open(&dir, limits()) {
            Err(RelayStoreError::LoosePermissions { path, mode, fix }) => {
                assert_eq!(path, dir);
                assert_eq!(mode, 0o755);
                assert_eq!(fix, format!("chmod 700 {}", dir.display()));
            }
            other => panic!("expected LoosePermissions, got {other:?}"),
        }
        set_mode(&dir, 0o700);
        let file = dir.join(DB_FILE);
        set_mode(&file, 0o640);
        let err = RelayStore::open(&dir, limits()).expect_err("loose file");
        assert!(
            matches!(&err, RelayStoreError::LoosePermissions { path, mode: 0o640, .. } if *path == file),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(&format!("chmod 600 {}", file.display())),
            "{err}"
        );
        set_mode(&file, 0o600);
        RelayStore::open(&dir, limits()).expect("opens once fixed");

        // An existing loose directory is refused before anything is created in it.
        let tmp = tempfile::tempdir().expect("tempdir");
        let open_dir = tmp.path().join("open");
        fs::create_dir(&open_dir).expect("mkdir");
        set_mode(&open_dir, 0o750);
        assert!(matches!(
            RelayStore::open(&open_dir, limits()),
            Err(RelayStoreError::LoosePermissions { .. })
        ));
        assert!(!open_dir.join(DB_FILE).exists());
    }

    #[test]
    fn second_open_is_locked() {
        let (_tmp, dir, store) = new_store();
        let err = RelayStore::open(&dir, limits()).expect_err("already open");
        assert!(matches!(err, RelayStoreError::Locked { .. }), "{err:?}");
        drop(store);
        RelayStore::open(&dir, limits()).expect("opens once closed");
    }

    #[test]
    fn truncated_or_garbage_file_is_an_error_not_a_panic() {
        let (_tmp, dir, store) = new_store();
        let batch: Vec<_> = (0..8).map(|n| entry(n, 250)).collect();
        store.deposit(&A, &batch[..4], T0).expect("deposits");
        store.deposit(&B, &batch[4..], T0).expect("deposits");
        drop(store);
        let path = dir.join(DB_FILE);
        let bytes = fs::read(&path).expect("read");

        for cut in [bytes.len() / 2, 100, 1] {
            fs::write(&path, &bytes[..cut]).expect("truncate");
            let err = RelayStore::open(&dir, limits()).expect_err("truncated");
            assert!(
                matches!(
                    err,
                    RelayStoreError::Damaged { .. } | RelayStoreError::Database { .. }
                ),
                "cut at {cut}: {err:?}"
            );
        }

        let garbage: Vec<u8> = (0..64 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        fs::write(&path, &garbage).expect("garbage");
        let err = RelayStore::open(&dir, limits()).expect_err("garbage");
        assert!(
            matches!(
                err,
                RelayStoreError::Damaged { .. } | RelayStoreError::Database { .. }
            ),
            "{err:?}"
        );

        // An empty file is not silently turned into a new store with a new identity.
        fs::write(&path, b"").expect("empty");
        assert!(RelayStore::open(&dir, limits()).is_err());
    }

    #[test]
    fn a_flipped_byte_in_an_entry_is_an_error_not_a_panic() {
        let (_tmp, dir, store) = new_store();
        let marker: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        store
            .deposit(&A, std::slice::from_ref(&marker), T0)
            .expect("deposits");
        drop(store);
        let path = dir.join(DB_FILE);
        let mut bytes = fs::read(&path).expect("read");
        let at = bytes
            .windows(64)
            .position(|w| w == &marker[..64])
            .expect("the entry is in the file");
        bytes[at + 200] ^= 0x20;
        fs::write(&path, &bytes).expect("write");
        match RelayStore::open(&dir, limits()) {
            Err(RelayStoreError::Damaged { .. }) => {}
            other => panic!("expected Damaged, got {other:?}"),
        }
    }

    #[test]
    fn unknown_format_version_is_refused() {
        let (_tmp, dir, store) = new_store();
        {
            let txn = store.db.begin_write().expect("write");
            {
                let mut meta = txn.open_table(META).expect("meta");
                meta.insert(META_VERSION, 2u32.to_be_bytes().as_slice())
                    .expect("insert");
            }
            txn.commit().expect("commit");
        }
        drop(store);
        let err = RelayStore::open(&dir, limits()).expect_err("version 2");
        assert!(
            matches!(err, RelayStoreError::UnsupportedVersion { found: 2 }),
            "{err:?}"
        );
    }

    #[test]
    fn a_stale_half_built_file_is_replaced_on_creation() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("relay");
        fs::create_dir(&dir).expect("mkdir");
        set_mode(&dir, 0o700);
        fs::write(dir.join(DB_NEW_FILE), b"left by a crash").expect("write");
        let store = RelayStore::open(&dir, limits()).expect("opens");
        assert!(!dir.join(DB_NEW_FILE).exists());
        store.deposit(&A, &[entry(1, 1)], T0).expect("deposits");
    }

    #[test]
    fn debug_redacts_the_seed() {
        let (_tmp, _dir, store) = new_store();
        let seed = store.identity_seed();
        let debug = format!("{store:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(!debug.contains(&format!("{:?}", *seed)), "{debug}");
        assert!(
            !debug.contains(&data_encoding::HEXLOWER.encode(&*seed)),
            "{debug}"
        );
        assert!(debug.contains(&data_encoding::HEXLOWER.encode(&store.instance())));
    }
}
