//! The encrypted local store: the only module that touches the disk.
//!
//! A data directory (mode 0700) holds two files (mode 0600): `puente.header`, the small header
//! that wraps the random data key under a passphrase-derived key (see [`header`]), and
//! `puente.redb`, a redb database whose every value is sealed with the data key, with associated
//! data binding it to its table and key. Writes go through [`Store::commit`], one durable redb
//! transaction per [`WriteBatch`].
//!
//! This module must not interpret what it stores (envelopes, keys and snapshots are opaque
//! bytes), log values, write anything unsealed except the header, or expose redb types.
//!
//! The header lives in its own file rather than in a redb table so that an open with a wrong
//! passphrase, an edited header or a damaged database writes nothing: redb rewrites its file
//! when it opens read-write, and reads a file it has not verified without checking checksums,
//! so the database is opened (with a full integrity check) only after the passphrase is proven.

mod backup;
mod header;
pub(crate) mod private;
mod rekey;

pub use backup::{BACKUP_FORMAT_VERSION, BACKUP_MAGIC, BackupError, Restoring, restore};
pub use private::write_private_file;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use redb::{
    Database, Durability, ReadOnlyDatabase, ReadTransaction, ReadableDatabase as _,
    ReadableTable as _, TableDefinition, TransactionError,
};
use zeroize::Zeroizing;

use crate::crypto::labels::{STORE_CHECK_PLAINTEXT, STORE_VALUE_AAD_PREFIX};
use crate::crypto::seal::{self, KdfError, KdfParams, SALT_LEN, SymmetricKey, fill_random};
use header::{HEADER_LEN, Header, HeaderParseError};
use private::{FsProblem, check_private, ensure_private_dir, sync_dir};

/// Name of the database file in the data directory.
pub const DB_FILE: &str = "puente.redb";

/// Name of the header file in the data directory.
pub const HEADER_FILE: &str = "puente.header";

/// Temporary name the header is written under before being renamed into place, so a crash
/// never leaves a half-written header.
const HEADER_TMP_FILE: &str = "puente.header.tmp";

/// A header with a new data key while [`Store::rekey`] seals the store again under it
/// (`rekey.rs`).
const HEADER_NEXT_FILE: &str = "puente.header.next";

/// redb's page cache: 64 MiB holds the working set of a large network's log while staying small
/// on a laptop or phone (redb's default is 1 GiB).
const DB_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Unused bytes in the database file from which closing a writable store compacts it (and more
/// than a quarter of what it holds; see [`Store::close`]).
pub const COMPACT_MIN_BYTES: u64 = 1024 * 1024;

const META_NAME: &str = "meta";
const RECORDS_NAME: &str = "records";
const LOG_NAME: &str = "log";
const SNAPSHOTS_NAME: &str = "snapshots";

/// Store-internal values (the check value).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_NAME);
/// Small named secrets and settings.
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new(RECORDS_NAME);
/// The envelope log by local arrival index.
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new(LOG_NAME);
/// Snapshots by name, each with the log index it covers.
const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new(SNAPSHOTS_NAME);

const SNAPSHOT_PARTS_NAME: &str = "snapshot-parts";
/// The sealed bytes of a large snapshot after its first [`PART_BYTES`] (which stay in its
/// `snapshots` row), in pieces of [`PART_BYTES`] keyed by (name, 1, 2 ...): redb gives a value
/// that fills more than a page the next power of two of pages, so a 1.1 MB snapshot in one row
/// took 2 MiB, and a piece a little under 64 KiB takes exactly 16 pages. The pieces are one
/// sealed value, authenticated whole when read back.
const SNAPSHOT_PARTS: TableDefinition<(&str, u32), &[u8]> =
    TableDefinition::new(SNAPSHOT_PARTS_NAME);

const LOG_PARTS_NAME: &str = "log-parts";
/// The sealed bytes of a log entry after its first [`PART_BYTES`] (which stay in its `log`
/// row), keyed by (index, 1, 2 ...), for the same reason as [`SNAPSHOT_PARTS`]: an envelope of
/// an import is about 69 KB, which redb stored in 128 KiB.
const LOG_PARTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new(LOG_PARTS_NAME);

/// The log pieces, opened for reading.
type LogParts = redb::ReadOnlyTable<(u64, u32), &'static [u8]>;

/// Bytes of one piece of a sealed value: 64 KiB less room for the key and the leaf header.
const PART_BYTES: usize = 64 * 1024 - 512;

/// Why a store operation failed. Messages name paths but never values or keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `create` found a store (or part of one) already there.
    #[error("a puente store already exists in {}", dir.display())]
    AlreadyExists {
        /// The data directory.
        dir: PathBuf,
    },
    /// `open` found no store.
    #[error("there is no puente store in {}", dir.display())]
    NotFound {
        /// The data directory.
        dir: PathBuf,
    },
    /// The data directory or a file in it is accessible to other users.
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
    #[error("another puente process is using {}; stop it first", dir.display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },
    /// The header asks for key derivation below the floor: refused, it may be a downgrade.
    #[error(
        "the store header asks for weaker key derivation (m = {m_kib} KiB, t = {t}, p = {p}) \
         than the minimum (m = 65536 KiB, t = 3, p = 4); refusing it"
    )]
    WeakKdf {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// The passphrase is wrong, or a header field was edited (the two are indistinguishable).
    #[error("wrong passphrase, or the store header was altered")]
    WrongPassphrase,
    /// The header file is not a valid header.
    #[error("the store header {} is damaged ({reason}); restore it from a backup", path.display())]
    BadHeader {
        /// The header file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store was written by a newer (or unknown) version of puente.
    #[error("store format version {0} is not supported by this version of puente")]
    UnsupportedVersion(u16),
    /// The header and the database file do not belong together.
    #[error(
        "the store header does not belong to the data file in {}; restore both from the same backup",
        dir.display()
    )]
    Mismatched {
        /// The data directory.
        dir: PathBuf,
    },
    /// A stored value failed authentication: bit flips, truncation, or a value moved between
    /// rows or tables.
    #[error(
        "stored value `{key}` in table `{table}` is corrupt; restore from a backup or re-sync \
         from partners"
    )]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The key (a record name or a log index; not secret).
        key: String,
    },
    /// The database file itself is damaged.
    #[error(
        "the data file {} is damaged ({reason}); restore it from a backup or re-sync from partners",
        path.display()
    )]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What the database reported.
        reason: String,
    },
    /// The disk is full; the write was not applied.
    #[error("the disk holding {} is full; free some space and retry (nothing was written)", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A write on a store opened with [`Store::open_read_only`].
    #[error("the store was opened for reading only")]
    ReadOnly,
    /// [`Store::open_read_only`] found a database that was not closed cleanly: only a
    /// read-write open ([`Store::open`]) can repair it.
    #[error("the data file in {} was not closed cleanly and needs a repair", dir.display())]
    NeedsRepair {
        /// The data directory.
        dir: PathBuf,
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
    /// Key derivation failed or its parameters are out of range.
    #[error(transparent)]
    Kdf(KdfError),
    /// Another database error.
    #[error("the database failed: {reason}")]
    Database {
        /// What the database reported.
        reason: String,
    },
}

impl From<FsProblem> for StoreError {
    fn from(problem: FsProblem) -> Self {
        match problem {
            FsProblem::Loose { path, mode, fix } => {
                StoreError::LoosePermissions { path, mode, fix }
            }
            FsProblem::Io { path, source } => io_error(&path, source),
        }
    }
}

/// Maps an I/O error on `path`, singling out a full disk.
fn io_error(path: &Path, source: io::Error) -> StoreError {
    let path = path.to_path_buf();
    if source.kind() == io::ErrorKind::StorageFull {
        StoreError::DiskFull { path, source }
    } else {
        StoreError::Io { path, source }
    }
}

/// A snapshot as stored: its name, the log index it covers, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// The name it was stored under (for example the partition id).
    pub name: String,
    /// The log index up to which (exclusive) the snapshot includes the log: on start-up, load
    /// the snapshot and replay the log from this index.
    pub log_index: u64,
    /// The snapshot bytes.
    pub bytes: Vec<u8>,
}

/// A record's name and its opened value.
pub type NamedRecord = (String, Zeroizing<Vec<u8>>);

/// Writes to apply together in one durable transaction: all or nothing.
#[derive(Default)]
pub struct WriteBatch {
    log: Vec<Vec<u8>>,
    cleared: Vec<u64>,
    clear_log: bool,
    records: Vec<(String, Option<Zeroizing<Vec<u8>>>)>,
    snapshots: Vec<(String, u64, Vec<u8>)>,
    /// Seal the `meta` check value again (under the data key the commit uses): a rekey.
    reseal_check: bool,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry (envelope bytes) to the log; [`Store::commit`] returns its index.
    pub fn append_log(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.log.push(bytes.into());
        self
    }

    /// Empties the log and every snapshot before this batch's appends, so that the batch
    /// replaces the log whole (used once, when a node's local-only history is re-sealed for the
    /// network it joins). Indices start again at 0.
    pub fn replace_log(&mut self) -> &mut Self {
        self.clear_log = true;
        self
    }

    /// Empties the log entry at `index` (an existing one): the row stays, holding a sealed
    /// empty value, so the log stays contiguous and a deleted row is still corruption.
    pub fn clear_log_entry(&mut self, index: u64) -> &mut Self {
        self.cleared.push(index);
        self
    }

    /// Sets a named record (a copy is kept, zeroized on drop).
    pub fn put_record(&mut self, name: impl Into<String>, value: &[u8]) -> &mut Self {
        self.records
            .push((name.into(), Some(Zeroizing::new(value.to_vec()))));
        self
    }

    /// Removes a named record.
    pub fn delete_record(&mut self, name: impl Into<String>) -> &mut Self {
        self.records.push((name.into(), None));
        self
    }

    /// Sets a named snapshot that includes the log up to `log_index` (exclusive).
    pub fn put_snapshot(
        &mut self,
        name: impl Into<String>,
        log_index: u64,
        bytes: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.snapshots.push((name.into(), log_index, bytes.into()));
        self
    }

    /// Whether the batch holds no writes.
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
            && self.cleared.is_empty()
            && !self.clear_log
            && self.records.is_empty()
            && self.snapshots.is_empty()
    }
}

impl std::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatch")
            .field("log", &self.log.len())
            .field("cleared", &self.cleared.len())
            .field("records", &self.records.len())
            .field("snapshots", &self.snapshots.len())
            .finish()
    }
}

/// Associated data of a sealed value: prefix, table name (length-prefixed, so no table name and
/// key can be confused with another), and the key bytes.
fn value_aad(table: &str, key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(STORE_VALUE_AAD_PREFIX.len() + 1 + table.len() + key.len());
    aad.extend_from_slice(STORE_VALUE_AAD_PREFIX);
    // Table names are short constants.
    aad.push(table.len() as u8);
    aad.extend_from_slice(table.as_bytes());
    aad.extend_from_slice(key);
    aad
}

/// The redb file, opened for writing or for reading only.
enum Db {
    /// Opened for writing, after redb's full integrity check.
    Write(Database),
    /// Opened read-only ([`Store::open_read_only`]): the file is opened without write access,
    /// so nothing about it changes, and every write is refused with [`StoreError::ReadOnly`].
    Read(ReadOnlyDatabase),
}

impl Db {
    /// The writable database (tests that write around the store's own API).
    #[cfg(test)]
    fn writable(&self) -> &Database {
        match self {
            Db::Write(db) => db,
            Db::Read(_) => panic!("the store was opened read-only"),
        }
    }

    fn begin_read(&self) -> Result<ReadTransaction, TransactionError> {
        match self {
            Db::Write(db) => db.begin_read(),
            Db::Read(db) => db.begin_read(),
        }
    }
}

/// Whether [`Store::open`] opens the database for writing (after redb's integrity check) or
/// for reading only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Write,
    Read,
}

/// The open, unlocked store. Dropping it closes the database and releases the lock.
pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    db: Db,
    data_key: SymmetricKey,
    params: KdfParams,
    /// The header's salt and the key the passphrase gives with it: what seals a new data key
    /// ([`Store::rekey`]) without asking for the passphrase again. Kept in memory only, like
    /// the data key, which it opens.
    salt: [u8; SALT_LEN],
    kek: SymmetricKey,
    /// The open header file, holding an exclusive advisory lock for the store's lifetime.
    _lock: File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Checks, without asking for the passphrase, that `dir` could hold a store: it is a
/// directory private to its owner (no group or other permission bits) or does not exist
/// yet (then [`Store::create`] makes it 0700). The CLI calls this before prompting, so that
/// a loose directory is reported before anyone types a passphrase.
pub fn check_location(dir: &Path) -> Result<(), StoreError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(check_private(dir, true)?),
        Ok(_) => Err(io_error(
            dir,
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(dir, e)),
    }
}

impl Store {
    /// Creates a new store in `dir` (created with mode 0700 if missing; an existing directory
    /// must already be private), protected by `passphrase` with Argon2id `params` (at least
    /// [`KdfParams::FLOOR`]). Refuses if a store is already there.
    pub fn create(dir: &Path, passphrase: &[u8], params: KdfParams) -> Result<Store, StoreError> {
        params.check().map_err(kdf_error)?;
        ensure_private_dir(dir)?;
        let db_path = dir.join(DB_FILE);
        let header_path = dir.join(HEADER_FILE);
        for path in [&db_path, &header_path] {
            if fs::symlink_metadata(path).is_ok() {
                return Err(StoreError::AlreadyExists {
                    dir: dir.to_path_buf(),
                });
            }
        }
        let mut salt = [0; SALT_LEN];
        fill_random(&mut salt);
        let data_key = SymmetricKey::generate();
        let kek = seal::derive_key(passphrase, &salt, params).map_err(kdf_error)?;
        let header = Header::wrap(params, salt, &kek, &data_key);

        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode_0600()
            .open(&db_path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => StoreError::AlreadyExists {
                    dir: dir.to_path_buf(),
                },
                _ => io_error(&db_path, e),
            })?;
        let keys = (data_key, salt, kek);
        match Self::finish_create(dir, &db_path, &header_path, file, &header, keys, params) {
            Ok(store) => Ok(store),
            Err(err) => {
                // Best effort: leave no half-created store behind. The header is renamed into
                // place last, so if it exists the store is complete and is kept.
                if fs::symlink_metadata(&header_path).is_err() {
                    let _ = fs::remove_file(&db_path);
                    let _ = fs::remove_file(dir.join(HEADER_TMP_FILE));
                }
                Err(err)
            }
        }
    }

    fn finish_create(
        dir: &Path,
        db_path: &Path,
        header_path: &Path,
        file: File,
        header: &Header,
        (data_key, salt, kek): (SymmetricKey, [u8; SALT_LEN], SymmetricKey),
        params: KdfParams,
    ) -> Result<Store, StoreError> {
        let map = |e: redb::Error| redb_error(dir, db_path, e);
        let db = create_db(dir, db_path, file)?;
        let txn = begin_durable(&db, dir, db_path)?;
        {
            let mut meta = txn.open_table(META).map_err(|e| map(e.into()))?;
            let check = seal::seal(
                &data_key,
                &value_aad(META_NAME, b"check"),
                STORE_CHECK_PLAINTEXT,
            );
            meta.insert("check", check.as_slice())
                .map_err(|e| map(e.into()))?;
            txn.open_table(RECORDS).map_err(|e| map(e.into()))?;
            txn.open_table(LOG).map_err(|e| map(e.into()))?;
            txn.open_table(SNAPSHOTS).map_err(|e| map(e.into()))?;
            txn.open_table(SNAPSHOT_PARTS).map_err(|e| map(e.into()))?;
            txn.open_table(LOG_PARTS).map_err(|e| map(e.into()))?;
        }
        txn.commit().map_err(|e| map(e.into()))?;

        write_header(dir, header_path, &header.to_bytes())?;
        let lock = lock_header(dir, header_path)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            db_path: db_path.to_path_buf(),
            db: Db::Write(db),
            data_key,
            params,
            salt,
            kek,
            _lock: lock,
        })
    }

    /// Opens the store in `dir` with `passphrase`. In order: permissions of the directory and
    /// files, the lock, the header (parameters below the floor are refused before deriving),
    /// the passphrase, then the database with a full integrity check. Nothing is written
    /// before the passphrase is proven.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Store, StoreError> {
        Self::open_with(dir, passphrase, Access::Write)
    }

    /// Opens the store in `dir` for reading only: the same checks as [`Store::open`] up to the
    /// passphrase, then the database file opened without write access, so a command that only
    /// reads changes nothing on disk (no repair, no commit, no `fsync`). Every write is refused
    /// with [`StoreError::ReadOnly`].
    ///
    /// A file that was not closed cleanly (a crash) cannot be read without its repair: that is
    /// reported as [`StoreError::NeedsRepair`], and [`Store::open`] repairs it. This open skips
    /// redb's integrity check, which reads and rewrites the whole file: a file damaged outside
    /// redb may make redb panic while reading it, so a caller that must not panic catches that
    /// and opens with [`Store::open`] instead, which reports the damage. Every value is still
    /// authenticated when it is read.
    pub fn open_read_only(dir: &Path, passphrase: &[u8]) -> Result<Store, StoreError> {
        Self::open_with(dir, passphrase, Access::Read)
    }

    fn open_with(dir: &Path, passphrase: &[u8], access: Access) -> Result<Store, StoreError> {
        let not_found = || StoreError::NotFound {
            dir: dir.to_path_buf(),
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(not_found()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found()),
            Err(e) => return Err(io_error(dir, e)),
        }
        check_private(dir, true)?;
        let db_path = dir.join(DB_FILE);
        let header_path = dir.join(HEADER_FILE);
        for path in [&header_path, &db_path] {
            match fs::metadata(path) {
                Ok(_) => check_private(path, false)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found()),
                Err(e) => return Err(io_error(path, e)),
            }
        }
        let mut lock = lock_header(dir, &header_path)?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + 1);
        (&mut lock)
            .take(HEADER_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&header_path, e))?;
        let header = Header::parse(&bytes).map_err(|e| match e {
            HeaderParseError::Malformed(reason) => StoreError::BadHeader {
                path: header_path.clone(),
                reason,
            },
            HeaderParseError::Version(v) => StoreError::UnsupportedVersion(v),
        })?;
        match header.params.check() {
            Ok(()) => {}
            Err(KdfError::BelowFloor { m_kib, t, p }) => {
                return Err(StoreError::WeakKdf { m_kib, t, p });
            }
            Err(_) => {
                return Err(StoreError::BadHeader {
                    path: header_path,
                    reason: "key derivation parameters beyond the ceiling",
                });
            }
        }
        let kek = seal::derive_key(passphrase, &header.salt, header.params).map_err(kdf_error)?;
        let data_key = header
            .unwrap(&kek)
            .map_err(|_| StoreError::WrongPassphrase)?;

        let db = match access {
            Access::Write => Db::Write(
                db_builder()
                    .open(&db_path)
                    .map_err(|e| redb_error(dir, &db_path, e.into()))?,
            ),
            Access::Read => {
                Db::Read(db_builder().open_read_only(&db_path).map_err(|e| match e {
                    redb::DatabaseError::RepairAborted => StoreError::NeedsRepair {
                        dir: dir.to_path_buf(),
                    },
                    e => redb_error(dir, &db_path, e.into()),
                })?)
            }
        };
        let mut store = Store {
            dir: dir.to_path_buf(),
            db_path,
            db,
            data_key,
            params: header.params,
            salt: header.salt,
            kek,
            _lock: lock,
        };
        match store.verify_check() {
            Ok(()) => store.drop_stale_next_header()?,
            // A new data key whose rewrite committed before its header took the place of the
            // old one (`rekey.rs`).
            Err(StoreError::Mismatched { .. }) if store.adopt_next_header()? => {}
            Err(e) => return Err(e),
        }
        Ok(store)
    }

    /// Checks that the header's data key opens the check value in `meta`.
    fn verify_check(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.db_error(e.into()))?;
        let meta = txn.open_table(META).map_err(|e| self.db_error(e.into()))?;
        let value = meta.get("check").map_err(|e| self.db_error(e.into()))?;
        let mismatched = || StoreError::Mismatched {
            dir: self.dir.clone(),
        };
        let value = value.ok_or_else(mismatched)?;
        let plain = seal::open(
            &self.data_key,
            &value_aad(META_NAME, b"check"),
            value.value(),
        )
        .map_err(|_| mismatched())?;
        if plain.as_slice() != STORE_CHECK_PLAINTEXT {
            return Err(mismatched());
        }
        Ok(())
    }

    fn db_error(&self, e: redb::Error) -> StoreError {
        redb_error(&self.dir, &self.db_path, e)
    }

    /// Whether this store was opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        matches!(self.db, Db::Read(_))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The Argon2id parameters in the header.
    pub fn kdf_params(&self) -> KdfParams {
        self.params
    }

    /// Seals the data key under `passphrase` instead of the current one: a new header (fresh
    /// salt, the same Argon2id parameters) replaces the old one atomically; the data, sealed
    /// under the data key, is not rewritten. From then on only `passphrase` opens the store;
    /// a copy of the old header (a backup) still opens with the old one.
    ///
    /// Crash safety: the new header is written to a temporary file, synced, locked, then
    /// renamed over the old one and the directory synced; a crash before the rename leaves the
    /// old passphrase in force, after it the new one. The lock moves with the header: the new
    /// file is locked before it takes the header's name, so no other process can open the
    /// store in between.
    pub fn change_passphrase(&mut self, passphrase: &[u8]) -> Result<(), StoreError> {
        let mut salt = [0; SALT_LEN];
        fill_random(&mut salt);
        let kek = seal::derive_key(passphrase, &salt, self.params).map_err(kdf_error)?;
        let header = Header::wrap(self.params, salt, &kek, &self.data_key);
        self.replace_header(&header)?;
        self.salt = salt;
        self.kek = kek;
        Ok(())
    }

    /// Puts `header` in place of the header file, atomically, moving the lock to it.
    fn replace_header(&mut self, header: &Header) -> Result<(), StoreError> {
        let header_path = self.dir.join(HEADER_FILE);
        let tmp = self.dir.join(HEADER_TMP_FILE);
        match fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&tmp, e)),
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode_0600()
            .open(&tmp)
            .map_err(|e| io_error(&tmp, e))?;
        let written = (|| {
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked {
                        dir: self.dir.clone(),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_error(&tmp, e)),
            }
            file.write_all(&header.to_bytes())
                .map_err(|e| io_error(&tmp, e))?;
            file.sync_all().map_err(|e| io_error(&tmp, e))?;
            fs::rename(&tmp, &header_path).map_err(|e| io_error(&header_path, e))
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        // The new header holds the lock from here; the old file's lock goes with its handle.
        self._lock = file;
        sync_dir(&self.dir)?;
        Ok(())
    }

    /// Applies `batch` in one redb write transaction with immediate durability (fsync, two-phase
    /// commit) and returns the log indices assigned to its log entries, in order. When this
    /// returns `Ok` the writes survive a crash; when it returns `Err` none of them happened.
    pub fn commit(&self, batch: WriteBatch) -> Result<Vec<u64>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let Db::Write(db) = &self.db else {
            return Err(StoreError::ReadOnly);
        };
        let txn = begin_durable(db, &self.dir, &self.db_path)?;
        let mut indices = Vec::with_capacity(batch.log.len());
        if batch.clear_log {
            txn.delete_table(LOG).map_err(|e| map(e.into()))?;
            txn.delete_table(SNAPSHOTS).map_err(|e| map(e.into()))?;
            txn.delete_table(SNAPSHOT_PARTS)
                .map_err(|e| map(e.into()))?;
            txn.delete_table(LOG_PARTS).map_err(|e| map(e.into()))?;
        }
        {
            let mut log = txn.open_table(LOG).map_err(|e| map(e.into()))?;
            let first = log
                .last()
                .map_err(|e| map(e.into()))?
                .map_or(0, |(key, _)| key.value() + 1);
            let mut log_parts = txn.open_table(LOG_PARTS).map_err(|e| map(e.into()))?;
            let mut put_log = |index: u64, plain: &[u8]| -> Result<(), StoreError> {
                let sealed = seal::seal(
                    &self.data_key,
                    &value_aad(LOG_NAME, &index.to_be_bytes()),
                    plain,
                );
                let mut pieces = sealed.chunks(PART_BYTES);
                log.insert(index, pieces.next().unwrap_or_default())
                    .map_err(|e| map(e.into()))?;
                let mut n = 1u32;
                for piece in pieces {
                    log_parts
                        .insert((index, n), piece)
                        .map_err(|e| map(e.into()))?;
                    n += 1;
                }
                log_parts
                    .retain_in((index, n)..=(index, u32::MAX), |_, _| false)
                    .map_err(|e| map(e.into()))
            };
            for index in &batch.cleared {
                if *index >= first {
                    return Err(StoreError::Database {
                        reason: format!("log entry {index} cleared before it was written"),
                    });
                }
                put_log(*index, &[])?;
            }
            for (next, entry) in (first..).zip(&batch.log) {
                put_log(next, entry)?;
                indices.push(next);
            }
            if batch.reseal_check {
                let mut meta = txn.open_table(META).map_err(|e| map(e.into()))?;
                let check = seal::seal(
                    &self.data_key,
                    &value_aad(META_NAME, b"check"),
                    STORE_CHECK_PLAINTEXT,
                );
                meta.insert("check", check.as_slice())
                    .map_err(|e| map(e.into()))?;
            }
            let mut records = txn.open_table(RECORDS).map_err(|e| map(e.into()))?;
            for (name, value) in &batch.records {
                match value {
                    Some(value) => {
                        let sealed = seal::seal(
                            &self.data_key,
                            &value_aad(RECORDS_NAME, name.as_bytes()),
                            value,
                        );
                        records
                            .insert(name.as_str(), sealed.as_slice())
                            .map_err(|e| map(e.into()))?;
                    }
                    None => {
                        records.remove(name.as_str()).map_err(|e| map(e.into()))?;
                    }
                }
            }
            let mut snapshots = txn.open_table(SNAPSHOTS).map_err(|e| map(e.into()))?;
            let mut parts = txn.open_table(SNAPSHOT_PARTS).map_err(|e| map(e.into()))?;
            for (name, log_index, bytes) in &batch.snapshots {
                let mut plain = Zeroizing::new(Vec::with_capacity(8 + bytes.len()));
                plain.extend_from_slice(&log_index.to_be_bytes());
                plain.extend_from_slice(bytes);
                let sealed = seal::seal(
                    &self.data_key,
                    &value_aad(SNAPSHOTS_NAME, name.as_bytes()),
                    &plain,
                );
                let mut pieces = sealed.chunks(PART_BYTES);
                snapshots
                    .insert(name.as_str(), pieces.next().unwrap_or_default())
                    .map_err(|e| map(e.into()))?;
                let mut n = 1u32;
                for piece in pieces {
                    parts
                        .insert((name.as_str(), n), piece)
                        .map_err(|e| map(e.into()))?;
                    n += 1;
                }
                // Pieces of a longer snapshot stored before under this name.
                parts
                    .retain_in((name.as_str(), n)..=(name.as_str(), u32::MAX), |_, _| false)
                    .map_err(|e| map(e.into()))?;
            }
        }
        txn.commit().map_err(|e| map(e.into()))?;
        Ok(indices)
    }

    /// Sets one record durably (a batch of one).
    pub fn put_record(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        batch.put_record(name, value);
        self.commit(batch).map(|_| ())
    }

    /// Reads a record; `None` if it was never set (or was deleted).
    pub fn get_record(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(RECORDS).map_err(|e| map(e.into()))?;
        let Some(sealed) = table.get(name).map_err(|e| map(e.into()))? else {
            return Ok(None);
        };
        seal::open(
            &self.data_key,
            &value_aad(RECORDS_NAME, name.as_bytes()),
            sealed.value(),
        )
        .map(Some)
        .map_err(|_| StoreError::Corrupt {
            table: RECORDS_NAME,
            key: name.to_owned(),
        })
    }

    /// Every record whose name starts with `prefix`, sorted by name, opened.
    pub fn records_with_prefix(&self, prefix: &str) -> Result<Vec<NamedRecord>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(RECORDS).map_err(|e| map(e.into()))?;
        let mut out = Vec::new();
        for entry in table.range(prefix..).map_err(|e| map(e.into()))? {
            let (key, sealed) = entry.map_err(|e| map(e.into()))?;
            let name = key.value();
            if !name.starts_with(prefix) {
                break;
            }
            let value = seal::open(
                &self.data_key,
                &value_aad(RECORDS_NAME, name.as_bytes()),
                sealed.value(),
            )
            .map_err(|_| StoreError::Corrupt {
                table: RECORDS_NAME,
                key: name.to_owned(),
            })?;
            out.push((name.to_owned(), value));
        }
        Ok(out)
    }

    /// Names of all stored snapshots, sorted.
    pub fn snapshot_names(&self) -> Result<Vec<String>, StoreError> {
        self.names_in(SNAPSHOTS)
    }

    /// Names of all records, sorted.
    pub fn record_names(&self) -> Result<Vec<String>, StoreError> {
        self.names_in(RECORDS)
    }

    /// The keys of a table keyed by name, sorted.
    fn names_in(&self, table: TableDefinition<&str, &[u8]>) -> Result<Vec<String>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(table).map_err(|e| map(e.into()))?;
        let mut names = Vec::new();
        for entry in table.iter().map_err(|e| map(e.into()))? {
            let (key, _) = entry.map_err(|e| map(e.into()))?;
            names.push(key.value().to_owned());
        }
        Ok(names)
    }

    /// Number of log entries (the next index to be assigned).
    pub fn log_len(&self) -> Result<u64, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(LOG).map_err(|e| map(e.into()))?;
        let last = table.last().map_err(|e| map(e.into()))?;
        Ok(last.map_or(0, |(key, _)| key.value() + 1))
    }

    /// One log entry; `None` past the end.
    pub fn read_log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(LOG).map_err(|e| map(e.into()))?;
        let Some(value) = table.get(index).map_err(|e| map(e.into()))? else {
            return Ok(None);
        };
        let parts = self.log_parts(&txn)?;
        let sealed = self.joined_log_value(parts.as_ref(), index, value.value())?;
        let plain = seal::open(
            &self.data_key,
            &value_aad(LOG_NAME, &index.to_be_bytes()),
            &sealed,
        )
        .map_err(|_| StoreError::Corrupt {
            table: LOG_NAME,
            key: index.to_string(),
        })?;
        Ok(Some(plain.to_vec()))
    }

    /// Up to `max` log entries starting at index `from`, in order. A missing index (a deleted
    /// row) or a value that fails authentication is reported as [`StoreError::Corrupt`].
    pub fn read_log(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(LOG).map_err(|e| map(e.into()))?;
        let parts = self.log_parts(&txn)?;
        let mut out = Vec::new();
        let entries = table.range(from..).map_err(|e| map(e.into()))?.take(max);
        for (expected, entry) in (from..).zip(entries) {
            let (key, value) = entry.map_err(|e| map(e.into()))?;
            let index = key.value();
            if index != expected {
                return Err(StoreError::Corrupt {
                    table: LOG_NAME,
                    key: expected.to_string(),
                });
            }
            let sealed = self.joined_log_value(parts.as_ref(), index, value.value())?;
            let plain = seal::open(
                &self.data_key,
                &value_aad(LOG_NAME, &index.to_be_bytes()),
                &sealed,
            )
            .map_err(|_| StoreError::Corrupt {
                table: LOG_NAME,
                key: index.to_string(),
            })?;
            out.push((index, plain.to_vec()));
        }
        Ok(out)
    }

    /// The table of log pieces, if the store has one (one written before pieces has none).
    fn log_parts(&self, txn: &ReadTransaction) -> Result<Option<LogParts>, StoreError> {
        match txn.open_table(LOG_PARTS) {
            Ok(parts) => Ok(Some(parts)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(self.db_error(e.into())),
        }
    }

    /// A log entry's sealed bytes: its row's, then its pieces in order.
    fn joined_log_value(
        &self,
        parts: Option<&LogParts>,
        index: u64,
        first: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let mut sealed = first.to_vec();
        if let Some(parts) = parts {
            for entry in parts
                .range((index, 1)..=(index, u32::MAX))
                .map_err(|e| map(e.into()))?
            {
                let (_, piece) = entry.map_err(|e| map(e.into()))?;
                sealed.extend_from_slice(piece.value());
            }
        }
        Ok(sealed)
    }

    /// Sets one snapshot durably (a batch of one).
    pub fn put_snapshot(&self, name: &str, log_index: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        batch.put_snapshot(name, log_index, bytes);
        self.commit(batch).map(|_| ())
    }

    /// All stored snapshots, sorted by name.
    pub fn snapshots(&self) -> Result<Vec<StoredSnapshot>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(SNAPSHOTS).map_err(|e| map(e.into()))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| map(e.into()))? {
            let (key, value) = entry.map_err(|e| map(e.into()))?;
            let sealed = self.with_parts(&txn, key.value(), value.value())?;
            out.push(self.open_snapshot(key.value(), &sealed)?);
        }
        Ok(out)
    }

    /// A snapshot's sealed bytes: its row's, then its pieces in order (none in a store written
    /// before pieces, or for a small snapshot).
    fn with_parts(
        &self,
        txn: &ReadTransaction,
        name: &str,
        first: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let mut sealed = first.to_vec();
        let parts = match txn.open_table(SNAPSHOT_PARTS) {
            Ok(parts) => parts,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(sealed),
            Err(e) => return Err(map(e.into())),
        };
        for entry in parts
            .range((name, 1)..=(name, u32::MAX))
            .map_err(|e| map(e.into()))?
        {
            let (_, piece) = entry.map_err(|e| map(e.into()))?;
            sealed.extend_from_slice(piece.value());
        }
        Ok(sealed)
    }

    /// One stored snapshot by name.
    pub fn get_snapshot(&self, name: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let table = txn.open_table(SNAPSHOTS).map_err(|e| map(e.into()))?;
        let Some(value) = table.get(name).map_err(|e| map(e.into()))? else {
            return Ok(None);
        };
        let sealed = self.with_parts(&txn, name, value.value())?;
        self.open_snapshot(name, &sealed).map(Some)
    }

    fn open_snapshot(&self, name: &str, sealed: &[u8]) -> Result<StoredSnapshot, StoreError> {
        let corrupt = || StoreError::Corrupt {
            table: SNAPSHOTS_NAME,
            key: name.to_owned(),
        };
        let plain = seal::open(
            &self.data_key,
            &value_aad(SNAPSHOTS_NAME, name.as_bytes()),
            sealed,
        )
        .map_err(|_| corrupt())?;
        let (index, bytes) = plain.split_first_chunk::<8>().ok_or_else(corrupt)?;
        Ok(StoredSnapshot {
            name: name.to_owned(),
            log_index: u64::from_be_bytes(*index),
            bytes: bytes.to_vec(),
        })
    }

    /// Closes the database, reporting any error that dropping would swallow.
    ///
    /// A store opened for writing is compacted first when the space its commits left unused
    /// (pages freed by replaced snapshots and deleted entries, and the slack inside pages) is
    /// more than [`COMPACT_MIN_BYTES`] and more than a quarter of what it holds: redb reuses
    /// freed pages but never gives them back to the file system on its own. (A quarter: at
    /// 100,000 offers the snapshot an import replaces is about that share of the file.)
    pub fn close(self) -> Result<(), StoreError> {
        let Store {
            dir, db_path, db, ..
        } = self;
        let map = |e: redb::Error| redb_error(&dir, &db_path, e);
        match db {
            Db::Read(db) => db.close().map_err(|e| map(e.into())),
            Db::Write(mut db) => {
                let stats = {
                    let txn = db.begin_write().map_err(|e| map(e.into()))?;
                    let stats = txn.stats().map_err(|e| map(e.into()))?;
                    txn.abort().map_err(|e| map(e.into()))?;
                    stats
                };
                let live = stats.stored_bytes() + stats.metadata_bytes();
                let unused = stats.fragmented_bytes();
                if unused > COMPACT_MIN_BYTES && unused > live / 4 {
                    db.compact().map_err(|e| map(e.into()))?;
                }
                db.close().map_err(|e| map(e.into()))
            }
        }
    }

    /// Bytes in the database file: what a store costs on disk.
    pub fn file_bytes(&self) -> Result<u64, StoreError> {
        fs::metadata(&self.db_path)
            .map(|m| m.len())
            .map_err(|e| io_error(&self.db_path, e))
    }
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

/// A new database in `file` (empty, just created private).
fn create_db(dir: &Path, db_path: &Path, file: File) -> Result<Database, StoreError> {
    let map = |e: redb::Error| redb_error(dir, db_path, e);
    let backend = redb::backends::FileBackend::new(file).map_err(|e| map(e.into()))?;
    db_builder()
        .create_with_backend(backend)
        .map_err(|e| map(e.into()))
}

/// A write transaction that commits with immediate durability (fsync) and two-phase commit:
/// when its commit returns the writes survive a crash, and a torn commit is never read.
fn begin_durable(
    db: &Database,
    dir: &Path,
    db_path: &Path,
) -> Result<redb::WriteTransaction, StoreError> {
    let map = |e: redb::Error| redb_error(dir, db_path, e);
    let mut txn = db.begin_write().map_err(|e| map(e.into()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| map(e.into()))?;
    txn.set_two_phase_commit(true);
    Ok(txn)
}

/// Maps a redb error to a store error without exposing redb types.
fn redb_error(dir: &Path, db_path: &Path, e: redb::Error) -> StoreError {
    match e {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            StoreError::Locked {
                dir: dir.to_path_buf(),
            }
        }
        redb::Error::Corrupted(reason) => StoreError::Damaged {
            path: db_path.to_path_buf(),
            reason,
        },
        redb::Error::RepairAborted => StoreError::Damaged {
            path: db_path.to_path_buf(),
            reason: "repair did not complete".to_owned(),
        },
        redb::Error::Io(source) => io_error(db_path, source),
        other => StoreError::Database {
            reason: other.to_string(),
        },
    }
}

fn kdf_error(e: KdfError) -> StoreError {
    match e {
        KdfError::BelowFloor { m_kib, t, p } => StoreError::WeakKdf { m_kib, t, p },
        other => StoreError::Kdf(other),
    }
}

/// Opens the header file and takes an exclusive advisory lock on it for the store's lifetime.
fn lock_header(dir: &Path, header_path: &Path) -> Result<File, StoreError> {
    let file = File::open(header_path).map_err(|e| io_error(header_path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(io_error(header_path, e)),
    }
}

/// Writes the header durably: a private temporary file, fsync, rename into place, fsync of the
/// directory.
fn write_header(dir: &Path, header_path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = dir.join(HEADER_TMP_FILE);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&tmp, e)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode_0600()
        .open(&tmp)
        .map_err(|e| io_error(&tmp, e))?;
    file.write_all(bytes).map_err(|e| io_error(&tmp, e))?;
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, header_path).map_err(|e| io_error(header_path, e))?;
    Ok(sync_dir(dir)?)
}

/// Sets mode 0600 on files the store creates.
trait OpenOptionsPrivate {
    fn mode_0600(&mut self) -> &mut Self;
}

impl OpenOptionsPrivate for OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(self, private::FILE_MODE);
        self
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    const PASS: &[u8] = b"correct horse battery staple";

    fn new_store() -> (tempfile::TempDir, PathBuf, Store) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let store = Store::create(&dir, PASS, KdfParams::FLOOR).expect("creates");
        (tmp, dir, store)
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn read_all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                out.push((path.clone(), fs::read(&path).expect("read")));
            }
        }
        out.sort();
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn edit_header(dir: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
        let path = dir.join(HEADER_FILE);
        let mut bytes = fs::read(&path).expect("read header");
        edit(&mut bytes);
        fs::write(&path, bytes).expect("write header");
    }

    #[test]
    fn create_open_round_trip() {
        let (_tmp, dir, store) = new_store();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
        assert_eq!(mode(&dir.join(HEADER_FILE)), 0o600);
        assert_eq!(store.log_len().expect("len"), 0);
        assert_eq!(store.get_record("identity").expect("reads"), None);

        let mut batch = WriteBatch::new();
        batch
            .append_log(b"envelope 0")
            .append_log(b"envelope 1")
            .put_record("identity", b"secret seed")
            .put_record("doomed", b"x")
            .put_snapshot("org-a", 2, b"snapshot bytes");
        assert_eq!(store.commit(batch).expect("commits"), vec![0, 1]);
        let mut batch = WriteBatch::new();
        batch
            .append_log(b"envelope 2".to_vec())
            .delete_record("doomed");
        assert_eq!(store.commit(batch).expect("commits"), vec![2]);
        store.put_record("settings", b"{}").expect("puts");
        store.close().expect("closes");

        let store = Store::open(&dir, PASS).expect("opens");
        assert_eq!(store.kdf_params(), KdfParams::FLOOR);
        assert_eq!(
            store.get_record("identity").expect("reads").as_deref(),
            Some(&b"secret seed".to_vec())
        );
        assert_eq!(store.get_record("doomed").expect("reads"), None);
        assert_eq!(
            store.record_names().expect("names"),
            vec!["identity".to_owned(), "settings".to_owned()]
        );
        assert_eq!(store.log_len().expect("len"), 3);
        assert_eq!(
            store.read_log(1, 10).expect("reads"),
            vec![(1, b"envelope 1".to_vec()), (2, b"envelope 2".to_vec())]
        );
        assert_eq!(store.read_log(0, usize::MAX).expect("reads").len(), 3);
        assert_eq!(
            store.read_log(0, 2).expect("reads"),
            vec![(0, b"envelope 0".to_vec()), (1, b"envelope 1".to_vec())]
        );
        assert_eq!(store.read_log(3, 10).expect("reads"), vec![]);
        assert_eq!(
            store.read_log_entry(2).expect("reads"),
            Some(b"envelope 2".to_vec())
        );
        assert_eq!(store.read_log_entry(3).expect("reads"), None);
        let snap = StoredSnapshot {
            name: "org-a".to_owned(),
            log_index: 2,
            bytes: b"snapshot bytes".to_vec(),
        };
        assert_eq!(store.snapshots().expect("reads"), vec![snap.clone()]);
        assert_eq!(store.get_snapshot("org-a").expect("reads"), Some(snap));
        assert_eq!(store.get_snapshot("org-b").expect("reads"), None);
        // The next append continues the numbering.
        let mut batch = WriteBatch::new();
        batch.append_log(b"envelope 3");
        assert_eq!(store.commit(batch).expect("commits"), vec![3]);
        drop(store);

        assert!(matches!(
            Store::create(&dir, PASS, KdfParams::FLOOR),
            Err(StoreError::AlreadyExists { .. })
        ));
        assert!(matches!(
            Store::open(&dir.join("elsewhere"), PASS),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn a_new_passphrase_opens_the_same_data_and_the_old_one_no_longer_does() {
        let (_tmp, dir, store) = new_store();
        store.put_record("node", b"identity").expect("writes");
        let mut batch = WriteBatch::new();
        batch.append_log(b"envelope 0");
        store.commit(batch).expect("commits");
        // The sealed bytes as they are on disk: the change must leave them as they are.
        let raw = |store: &Store| -> Vec<u8> {
            let txn = store.db.begin_read().expect("reads");
            let table = txn.open_table(RECORDS).expect("opens");
            let value = table.get("node").expect("reads").expect("present");
            value.value().to_vec()
        };
        let sealed_before = raw(&store);
        let old_header = fs::read(dir.join(HEADER_FILE)).expect("reads");
        let mut store = store;
        store
            .change_passphrase(b"a different passphrase")
            .expect("changes");
        // Still this process's store: another open is refused while it is held.
        assert!(matches!(
            Store::open(&dir, b"a different passphrase"),
            Err(StoreError::Locked { .. })
        ));
        assert_eq!(
            store
                .get_record("node")
                .expect("reads")
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"identity"[..])
        );
        assert_eq!(
            raw(&store),
            sealed_before,
            "the sealed value is the same bytes"
        );
        drop(store);

        // The data was not rewritten; the header was, with a fresh salt.
        let new_header = fs::read(dir.join(HEADER_FILE)).expect("reads");
        assert_ne!(new_header, old_header);
        assert!(!dir.join(HEADER_TMP_FILE).exists());
        assert_eq!(mode(&dir.join(HEADER_FILE)), 0o600);

        assert!(matches!(
            Store::open(&dir, PASS),
            Err(StoreError::WrongPassphrase)
        ));
        let store = Store::open(&dir, b"a different passphrase").expect("opens");
        assert_eq!(
            store.read_log_entry(0).expect("reads"),
            Some(b"envelope 0".to_vec())
        );
        drop(store);

        // A copy of the old header (a backup made before) still opens with the old passphrase.
        fs::write(dir.join(HEADER_FILE), &old_header).expect("restores");
        assert!(Store::open(&dir, PASS).is_ok());
    }

    #[test]
    fn records_with_a_prefix_are_read_in_name_order_and_no_others() {
        let (_tmp, _dir, store) = new_store();
        let mut batch = WriteBatch::new();
        batch
            .put_record("row/00000001", b"second")
            .put_record("row", b"not a row")
            .put_record("row/00000000", b"first")
            .put_record("rows", b"other")
            .put_record("a", b"before");
        store.commit(batch).expect("commits");
        let rows: Vec<(String, Vec<u8>)> = store
            .records_with_prefix("row/")
            .expect("reads")
            .into_iter()
            .map(|(name, value)| (name, value.to_vec()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("row/00000000".to_owned(), b"first".to_vec()),
                ("row/00000001".to_owned(), b"second".to_vec()),
            ]
        );
        assert!(store.records_with_prefix("zzz").expect("reads").is_empty());
    }

    #[test]
    fn wrong_passphrase_is_uniform_and_writes_nothing() {
        let (_tmp, dir, store) = new_store();
        store.put_record("identity", b"seed").expect("puts");
        drop(store);
        let before = read_all_files(&dir);
        let err = Store::open(&dir, b"wrong passphrase").err();
        assert!(matches!(err, Some(StoreError::WrongPassphrase)), "{err:?}");
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("wrong passphrase, or the store header was altered")
        );
        assert_eq!(
            read_all_files(&dir),
            before,
            "a failed open changed the files"
        );

        // Raising a parameter (still within range) is an edit like any other.
        edit_header(&dir, |h| h[10..14].copy_from_slice(&65537u32.to_be_bytes()));
        let err = Store::open(&dir, PASS).err();
        assert!(matches!(err, Some(StoreError::WrongPassphrase)), "{err:?}");
    }

    #[test]
    fn weaker_or_malformed_header_is_refused_before_deriving() {
        assert!(matches!(
            Store::create(
                &tempfile::tempdir().expect("tempdir").path().join("d"),
                PASS,
                KdfParams {
                    m_kib: 1024,
                    t: 1,
                    p: 1
                }
            ),
            Err(StoreError::WeakKdf { .. })
        ));
        let (_tmp, dir, store) = new_store();
        drop(store);
        let original = fs::read(dir.join(HEADER_FILE)).expect("read");
        let cases: [(usize, u32); 3] = [(10, 32 * 1024), (14, 2), (18, 1)];
        for (at, value) in cases {
            edit_header(&dir, |h| {
                h.copy_from_slice(&original);
                h[at..at + 4].copy_from_slice(&value.to_be_bytes());
            });
            let err = Store::open(&dir, PASS).err();
            assert!(matches!(err, Some(StoreError::WeakKdf { .. })), "{err:?}");
        }
        edit_header(&dir, |h| {
            h.copy_from_slice(&original);
            h[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        });
        assert!(matches!(
            Store::open(&dir, PASS),
            Err(StoreError::BadHeader { .. })
        ));
        edit_header(&dir, |h| {
            h.copy_from_slice(&original);
            h[9] = 9;
        });
        assert!(matches!(
            Store::open(&dir, PASS),
            Err(StoreError::UnsupportedVersion(9))
        ));
        edit_header(&dir, |h| {
            h.copy_from_slice(&original);
            h.truncate(50);
        });
        assert!(matches!(
            Store::open(&dir, PASS),
            Err(StoreError::BadHeader { .. })
        ));
        edit_header(&dir, |h| {
            *h = original.clone();
            h.extend_from_slice(&[0; 4096]);
        });
        assert!(matches!(
            Store::open(&dir, PASS),
            Err(StoreError::BadHeader { .. })
        ));
    }

    #[test]
    fn a_large_snapshot_is_stored_in_pieces_and_read_back_whole() {
        let (_tmp, dir, store) = new_store();
        let big: Vec<u8> = (0..5 * PART_BYTES + 123).map(|i| (i % 251) as u8).collect();
        store.put_snapshot("s", 7, &big).expect("writes");
        let back = store.get_snapshot("s").expect("reads").expect("present");
        assert_eq!((back.log_index, back.bytes.as_slice()), (7, big.as_slice()));
        assert_eq!(store.snapshots().expect("lists")[0].bytes, big);
        // A shorter one under the same name leaves no piece of the longer one behind.
        store.put_snapshot("s", 8, b"small").expect("writes");
        assert_eq!(
            store
                .get_snapshot("s")
                .expect("reads")
                .expect("present")
                .bytes,
            b"small"
        );
        {
            let txn = store.db.begin_read().expect("read");
            let parts = txn.open_table(SNAPSHOT_PARTS).expect("table");
            assert_eq!(parts.iter().expect("iterates").count(), 0);
        }
        // A log entry in pieces reads back whole, emptied it leaves no piece behind.
        let mut batch = WriteBatch::new();
        batch.append_log(big.clone()).append_log(b"small".to_vec());
        let indices = store.commit(batch).expect("appends");
        assert_eq!(
            store.read_log(indices[0], 2).expect("reads"),
            vec![(indices[0], big.clone()), (indices[1], b"small".to_vec())]
        );
        assert_eq!(
            store.read_log_entry(indices[0]).expect("reads"),
            Some(big.clone())
        );
        let mut batch = WriteBatch::new();
        batch.clear_log_entry(indices[0]);
        store.commit(batch).expect("clears");
        assert_eq!(
            store.read_log_entry(indices[0]).expect("reads"),
            Some(Vec::new())
        );
        {
            let txn = store.db.begin_read().expect("read");
            let parts = txn.open_table(LOG_PARTS).expect("table");
            assert_eq!(parts.iter().expect("iterates").count(), 0);
        }
        // A missing piece is corruption, not a shorter snapshot.
        store.put_snapshot("s", 9, &big).expect("writes");
        {
            let txn = store.db.writable().begin_write().expect("write");
            txn.open_table(SNAPSHOT_PARTS)
                .expect("table")
                .remove(("s", 5))
                .expect("removes");
            txn.commit().expect("commits");
        }
        assert!(matches!(
            store.get_snapshot("s"),
            Err(StoreError::Corrupt { .. })
        ));
        // Read-only, the same.
        store.close().expect("closes");
        let ro = Store::open_read_only(&dir, PASS).expect("opens");
        assert!(matches!(
            ro.get_snapshot("s"),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            ro.put_snapshot("t", 1, b"x"),
            Err(StoreError::ReadOnly)
        ));
    }

    #[test]
    fn tampered_values_are_reported_as_corrupt() {
        let (_tmp, _dir, store) = new_store();
        let mut batch = WriteBatch::new();
        batch
            .append_log(b"zero")
            .append_log(b"one!")
            .append_log(b"two")
            .append_log(b"three")
            .put_record("a", b"value a")
            .put_record("b", b"value b")
            .put_snapshot("s", 1, b"snap");
        store.commit(batch).expect("commits");

        // Edit values behind the store's back, as an attacker with the file could.
        let raw_get = |table: TableDefinition<&str, &[u8]>, key: &str| -> Vec<u8> {
            let txn = store.db.begin_read().expect("read");
            let t = txn.open_table(table).expect("table");
            t.get(key).expect("get").expect("present").value().to_vec()
        };
        let raw_log = |key: u64| -> Vec<u8> {
            let txn = store.db.begin_read().expect("read");
            let t = txn.open_table(LOG).expect("table");
            t.get(key).expect("get").expect("present").value().to_vec()
        };
        let mut flipped = raw_get(RECORDS, "a");
        flipped[30] ^= 0x01;
        let record_b = raw_get(RECORDS, "b");
        let (log0, log1, log2) = (raw_log(0), raw_log(1), raw_log(2));
        let txn = store.db.writable().begin_write().expect("write");
        {
            let mut records = txn.open_table(RECORDS).expect("table");
            records.insert("a", flipped.as_slice()).expect("insert");
            records.insert("c", record_b.as_slice()).expect("insert");
            let mut log = txn.open_table(LOG).expect("table");
            log.insert(0, log1.as_slice()).expect("insert");
            log.insert(1, log0.as_slice()).expect("insert");
            log.insert(2, &log2[..log2.len() - 1]).expect("insert");
            log.remove(3).expect("remove");
            let mut snaps = txn.open_table(SNAPSHOTS).expect("table");
            snaps.insert("t", record_b.as_slice()).expect("insert");
        }
        txn.commit().expect("commit");

        fn corrupt<T>(r: Result<T, StoreError>, table: &str, key: &str) {
            match r {
                Err(StoreError::Corrupt { table: t, key: k }) => {
                    assert_eq!((t, k.as_str()), (table, key));
                }
                other => panic!("expected Corrupt, got {:?}", other.map(|_| ())),
            }
        }
        corrupt(store.get_record("a"), "records", "a");
        corrupt(store.get_record("c"), "records", "c");
        assert_eq!(
            store.get_record("b").expect("untouched").as_deref(),
            Some(&b"value b".to_vec())
        );
        corrupt(store.read_log(0, 10), "log", "0");
        corrupt(store.read_log_entry(0), "log", "0");
        corrupt(store.read_log(1, 10), "log", "1");
        corrupt(store.read_log(2, 10), "log", "2");
        corrupt(store.snapshots(), "snapshots", "t");
        assert!(store.get_snapshot("s").expect("untouched").is_some());
        // A deleted row in the middle of the log is a gap, not silently skipped.
        let mut batch = WriteBatch::new();
        batch
            .append_log(b"four".to_vec())
            .append_log(b"five".to_vec());
        assert_eq!(store.commit(batch).expect("commits"), vec![3, 4]);
        let txn = store.db.writable().begin_write().expect("write");
        txn.open_table(LOG)
            .expect("table")
            .remove(3)
            .expect("remove");
        txn.commit().expect("commit");
        corrupt(store.read_log(3, 10), "log", "3");
    }

    #[test]
    fn loose_permissions_are_refused_with_a_fix() {
        let (tmp, dir, store) = new_store();
        drop(store);
        set_mode(&dir, 0o750);
        match Store::open(&dir, PASS) {
            Err(StoreError::LoosePermissions { path, mode, fix }) => {
                assert_eq!(path, dir);
                assert_eq!(mode, 0o750);
                assert_eq!(fix, format!("chmod 700 {}", dir.display()));
            }
            other => panic!("expected LoosePermissions, got {other:?}"),
        }
        set_mode(&dir, 0o700);
        for file in [HEADER_FILE, DB_FILE] {
            let path = dir.join(file);
            set_mode(&path, 0o644);
            let err = Store::open(&dir, PASS).err();
            let message = err.as_ref().map(ToString::to_string).unwrap_or_default();
            assert!(
                matches!(err, Some(StoreError::LoosePermissions { .. })),
                "{err:?}"
            );
            assert!(
                message.contains(&format!("chmod 600 {}", path.display())),
                "{message}"
            );
            set_mode(&path, 0o600);
        }
        // Creating into an existing shared directory is refused too.
        let shared = tmp.path().join("shared dir");
        fs::create_dir(&shared).expect("mkdir");
        set_mode(&shared, 0o755);
        match Store::create(&shared, PASS, KdfParams::FLOOR) {
            Err(StoreError::LoosePermissions { fix, .. }) => {
                assert_eq!(fix, format!("chmod 700 '{}'", shared.display()));
            }
            other => panic!("expected LoosePermissions, got {other:?}"),
        }
        assert!(read_all_files(&shared).is_empty());
    }

    #[test]
    fn second_open_is_locked() {
        let (_tmp, dir, store) = new_store();
        let err = Store::open(&dir, PASS).err();
        assert!(matches!(err, Some(StoreError::Locked { .. })), "{err:?}");
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(format!(
                "another puente process is using {}; stop it first",
                dir.display()
            ))
        );
        // The database file itself is also locked by redb, in case the header lock is bypassed.
        let second = db_builder().open(dir.join(DB_FILE)).err();
        assert!(matches!(
            second.map(|e| redb_error(&dir, &dir.join(DB_FILE), e.into())),
            Some(StoreError::Locked { .. })
        ));
        drop(store);
    }

    #[test]
    fn canaries_never_reach_the_disk() {
        let passphrase = b"CANARY-passphrase-5b1e";
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let store = Store::create(&dir, passphrase, KdfParams::FLOOR).expect("creates");
        let canaries: [&[u8]; 3] = [
            b"CANARY-record-9f2c",
            b"CANARY-log-41d7",
            b"CANARY-snapshot-77aa",
        ];
        let mut batch = WriteBatch::new();
        for i in 0..20 {
            batch
                .put_record(format!("r{i}"), &[canaries[0], b" host home"].concat())
                .append_log([canaries[1], format!(" {i}").as_bytes()].concat());
        }
        batch.put_snapshot("s", 20, [b"doc ".as_slice(), canaries[2]].concat());
        store.commit(batch).expect("commits");
        let data_key = *store.data_key.as_bytes();
        let check = |files: Vec<(PathBuf, Vec<u8>)>| {
            assert!(!files.is_empty());
            for (path, bytes) in files {
                for needle in canaries
                    .iter()
                    .chain([&passphrase[..], &data_key[..]].iter())
                {
                    assert!(
                        !contains(&bytes, needle),
                        "{} contains a plaintext canary",
                        path.display()
                    );
                }
            }
        };
        check(read_all_files(&dir));
        store.close().expect("closes");
        check(read_all_files(&dir));
    }

    #[test]
    fn damaged_file_is_a_typed_error_not_a_panic() {
        let (_tmp, dir, store) = new_store();
        let value = vec![b'A'; 3000];
        store.put_record("big", &value).expect("puts");
        let sealed = {
            let txn = store.db.begin_read().expect("read");
            let t = txn.open_table(RECORDS).expect("table");
            t.get("big")
                .expect("get")
                .expect("present")
                .value()
                .to_vec()
        };
        drop(store);
        let path = dir.join(DB_FILE);
        let mut file_bytes = fs::read(&path).expect("read");
        let at = file_bytes
            .windows(64)
            .position(|w| w == &sealed[..64])
            .expect("the sealed value is in the file");
        file_bytes[at + 1000] ^= 0x20;
        fs::write(&path, &file_bytes).expect("write");
        match Store::open(&dir, PASS) {
            Err(StoreError::Damaged { .. }) => {}
            Ok(store) => assert!(matches!(
                store.get_record("big"),
                Err(StoreError::Corrupt { .. })
            )),
            Err(other) => panic!("expected Damaged or Corrupt, got {other:?}"),
        }
        let message = StoreError::Damaged {
            path: path.clone(),
            reason: "x".to_owned(),
        }
        .to_string();
        assert!(message.contains("restore it from a backup or re-sync from partners"));

        let len = file_bytes.len();
        file_bytes.truncate(len / 2);
        fs::write(&path, &file_bytes).expect("write");
        let err = Store::open(&dir, PASS).err();
        assert!(
            matches!(
                err,
                Some(StoreError::Damaged { .. } | StoreError::Database { .. })
            ),
            "{err:?}"
        );
    }
}
