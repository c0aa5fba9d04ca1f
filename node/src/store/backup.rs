//! Backups of the store: one file that holds the store header and every row exactly as the
//! database holds it (values already sealed under the data key, with table and key as associated
//! data), read in one redb read transaction; and the restore of such a file into a new data
//! directory (backup format v1, `docs/formats.md`, "Backup file").
//!
//! Nothing in a backup is readable without the passphrase the store had when it was made: the
//! header wraps the data key under Argon2id of that passphrase, every value is sealed under the
//! data key, and the file ends with a SHA-256 digest of everything before it, sealed under the
//! data key too, so a row removed, added, reordered or cut off is noticed (a value swapped
//! between rows already fails its own associated data).
//!
//! Invariant: a restore checks the whole file (layout, passphrase, digest) before it writes
//! anything, builds the store in a private directory beside the destination, and moves it into
//! place in one rename only when it is complete ([`Restoring::finish`]); a restore that fails
//! or is dropped unfinished leaves the destination as it was.
//! Boundary: bytes in, bytes out; which file they come from or go to is the caller's. Nothing
//! here interprets a row.

use std::fs::{self, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use redb::{ReadableTable as _, TableError};
use sha2::{Digest as _, Sha256};

use super::header::{HEADER_LEN, Header, HeaderParseError};
use super::private::{DIR_MODE, sync_dir};
use super::{
    DB_FILE, HEADER_FILE, LOG, LOG_PARTS, META, OpenOptionsPrivate as _, RECORDS, SNAPSHOT_PARTS,
    SNAPSHOTS, Store, StoreError, begin_durable, create_db, io_error, kdf_error, redb_error,
    write_header,
};
use crate::codec::{Reader, Truncation};
use crate::crypto::labels::BACKUP_DIGEST_AAD;
use crate::crypto::seal::{self, KdfError, SEAL_OVERHEAD, fill_random};

/// The first bytes of every backup file, so that nothing else is ever taken for one.
pub const BACKUP_MAGIC: [u8; 8] = *b"PUENTEBK";

/// The backup format this code writes and reads.
pub const BACKUP_FORMAT_VERSION: u16 = 1;

/// Longest row key: record and snapshot names are short (`membership-op/0000002a`, a relay's
/// key after `mailbox/`); 1 KiB leaves room while bounding what a damaged length can claim.
const MAX_KEY_LEN: usize = 1024;

/// The row tags: which table a row belongs to.
const TAG_END: u8 = 0;
const TAG_META: u8 = 1;
const TAG_RECORDS: u8 = 2;
const TAG_LOG: u8 = 3;
const TAG_SNAPSHOTS: u8 = 4;
/// The pieces of a long snapshot value: key = the snapshot's name, then its 4-byte piece number.
const TAG_SNAPSHOT_PARTS: u8 = 5;
/// The pieces of a long log entry: key = its 8-byte index, then its 4-byte piece number.
const TAG_LOG_PARTS: u8 = 6;

/// Length of the sealed digest that ends the file: a SHA-256 digest sealed with
/// XChaCha20-Poly1305.
const SEALED_DIGEST_LEN: usize = SEAL_OVERHEAD + 32;

/// Why a backup could not be restored (or, for [`BackupError::Store`], written). A refusal
/// always means nothing was written at the destination.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The file does not start like a puente backup.
    #[error("the file is not a puente backup")]
    NotABackup,
    /// A backup of a format version this code does not read.
    #[error(
        "backup format version {found} is not supported (this puente reads version {supported})"
    )]
    Version {
        /// The version in the file.
        found: u16,
        /// The version this code reads.
        supported: u16,
    },
    /// The file ends before the backup does (an incomplete copy).
    #[error("the backup is truncated")]
    Truncated,
    /// The file is a damaged or altered backup.
    #[error("the backup is damaged or was altered ({what})")]
    Damaged {
        /// What was found wrong.
        what: &'static str,
    },
    /// The passphrase does not open the backup's header (or the header was altered).
    #[error("wrong passphrase for this backup, or its header was altered")]
    WrongPassphrase,
    /// The backup's header asks for key derivation below the floor: refused, it may be a
    /// downgrade.
    #[error(
        "the backup's header asks for weaker key derivation (m = {m_kib} KiB, t = {t}, p = {p}) than the minimum"
    )]
    WeakKdf {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// The destination already holds something (a store, or any other file).
    #[error("{} is not empty", dir.display())]
    NotEmpty {
        /// The destination.
        dir: PathBuf,
    },
    /// Reading the store or writing the restored one failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Truncation for BackupError {
    fn truncated() -> Self {
        BackupError::Truncated
    }
}

fn damaged(what: &'static str) -> BackupError {
    BackupError::Damaged { what }
}

/// One row as the file holds it: its table, key and sealed value.
struct Row<'a> {
    tag: u8,
    key: &'a [u8],
    value: &'a [u8],
}

impl Store {
    /// A backup of this store: the header, then every row of every table as stored (already
    /// sealed), all read in **one** read transaction, so the copy is consistent even while
    /// writes go on; then the count of rows and the sealed digest of all of it.
    pub fn backup(&self) -> Result<Vec<u8>, StoreError> {
        let header = self.header_bytes()?;
        let map = |e: redb::Error| self.db_error(e);
        let txn = self.db.begin_read().map_err(|e| map(e.into()))?;
        let mut out = Vec::new();
        out.extend_from_slice(&BACKUP_MAGIC);
        out.extend_from_slice(&BACKUP_FORMAT_VERSION.to_be_bytes());
        out.extend_from_slice(&header);
        let mut rows = 0u64;
        for (tag, definition) in [
            (TAG_META, META),
            (TAG_RECORDS, RECORDS),
            (TAG_SNAPSHOTS, SNAPSHOTS),
        ] {
            let table = match txn.open_table(definition) {
                Ok(table) => table,
                Err(TableError::TableDoesNotExist(_)) => continue,
                Err(e) => return Err(map(e.into())),
            };
            for entry in table.iter().map_err(|e| map(e.into()))? {
                let (key, value) = entry.map_err(|e| map(e.into()))?;
                put_row(&mut out, tag, key.value().as_bytes(), value.value())?;
                rows += 1;
            }
        }
        match txn.open_table(SNAPSHOT_PARTS) {
            Ok(table) => {
                for entry in table.iter().map_err(|e| map(e.into()))? {
                    let (key, value) = entry.map_err(|e| map(e.into()))?;
                    let (name, n) = key.value();
                    let mut k = name.as_bytes().to_vec();
                    k.extend_from_slice(&n.to_be_bytes());
                    put_row(&mut out, TAG_SNAPSHOT_PARTS, &k, value.value())?;
                    rows += 1;
                }
            }
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(map(e.into())),
        }
        match txn.open_table(LOG_PARTS) {
            Ok(table) => {
                for entry in table.iter().map_err(|e| map(e.into()))? {
                    let (key, value) = entry.map_err(|e| map(e.into()))?;
                    let (index, n) = key.value();
                    let mut k = index.to_be_bytes().to_vec();
                    k.extend_from_slice(&n.to_be_bytes());
                    put_row(&mut out, TAG_LOG_PARTS, &k, value.value())?;
                    rows += 1;
                }
            }
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(map(e.into())),
        }
        match txn.open_table(LOG) {
            Ok(table) => {
                for entry in table.iter().map_err(|e| map(e.into()))? {
                    let (key, value) = entry.map_err(|e| map(e.into()))?;
                    put_row(&mut out, TAG_LOG, &key.value().to_be_bytes(), value.value())?;
                    rows += 1;
                }
            }
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(map(e.into())),
        }
        out.push(TAG_END);
        out.extend_from_slice(&rows.to_be_bytes());
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&seal::seal(&self.data_key, BACKUP_DIGEST_AAD, &digest));
        Ok(out)
    }

    /// The header file's bytes, read through the handle that holds the store's lock (after
    /// [`Store::change_passphrase`], the new header's).
    fn header_bytes(&self) -> Result<Vec<u8>, StoreError> {
        let path = self.dir.join(HEADER_FILE);
        let mut file = &self._lock;
        let mut bytes = Vec::with_capacity(HEADER_LEN + 1);
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.take(HEADER_LEN as u64 + 1).read_to_end(&mut bytes))
            .map_err(|e| io_error(&path, e))?;
        match Header::parse(&bytes) {
            Ok(_) => Ok(bytes),
            Err(HeaderParseError::Malformed(reason)) => Err(StoreError::BadHeader { path, reason }),
            Err(HeaderParseError::Version(v)) => Err(StoreError::UnsupportedVersion(v)),
        }
    }
}

/// Appends one row: tag, key length (u16), key, value length (u32), value.
fn put_row(out: &mut Vec<u8>, tag: u8, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    let too_large = || StoreError::Database {
        reason: "a stored row is too large for a backup".to_owned(),
    };
    let key_len = u16::try_from(key.len())
        .ok()
        .filter(|n| usize::from(*n) <= MAX_KEY_LEN)
        .ok_or_else(too_large)?;
    let value_len = u32::try_from(value.len()).map_err(|_| too_large())?;
    out.push(tag);
    out.extend_from_slice(&key_len.to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&value_len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

/// What parsing a backup found, before any key is derived.
struct Parsed<'a> {
    header: Header,
    header_bytes: &'a [u8],
    rows: Vec<Row<'a>>,
    /// The bytes the digest covers (everything before the sealed digest).
    covered: &'a [u8],
    sealed_digest: &'a [u8],
}

/// Checks the layout of a backup: magic, version, the store header, every row (tag, key and
/// value lengths within what the file holds), the end, the count, the sealed digest and the end
/// of the file. Allocates only the list of rows, each a pair of slices into `bytes`.
fn parse(bytes: &[u8]) -> Result<Parsed<'_>, BackupError> {
    let magic = bytes.get(..BACKUP_MAGIC.len()).unwrap_or(bytes);
    if magic != &BACKUP_MAGIC[..magic.len()] || magic.is_empty() {
        return Err(BackupError::NotABackup);
    }
    let mut r = Reader::<BackupError>::new(bytes);
    r.take(BACKUP_MAGIC.len())?;
    let version = r.u16()?;
    if version != BACKUP_FORMAT_VERSION {
        return Err(BackupError::Version {
            found: version,
            supported: BACKUP_FORMAT_VERSION,
        });
    }
    let header_bytes = r.take(HEADER_LEN)?;
    let header = Header::parse(header_bytes).map_err(|_| damaged("store header"))?;
    let mut rows = Vec::new();
    loop {
        let tag = r.u8()?;
        if tag == TAG_END {
            break;
        }
        if !(TAG_META..=TAG_LOG_PARTS).contains(&tag) {
            return Err(damaged("unknown table"));
        }
        let key_len = usize::from(r.u16()?);
        if key_len > MAX_KEY_LEN {
            return Err(damaged("row key too long"));
        }
        let key = r.take(key_len)?;
        let key_ok = match tag {
            TAG_LOG => key.len() == 8,
            TAG_LOG_PARTS => key.len() == 12,
            TAG_SNAPSHOT_PARTS => {
                key.len() > 4 && std::str::from_utf8(&key[..key.len() - 4]).is_ok()
            }
            _ => std::str::from_utf8(key).is_ok(),
        };
        if !key_ok {
            return Err(damaged("row key"));
        }
        let value_len = usize::try_from(r.u32()?).map_err(|_| BackupError::Truncated)?;
        let value = r.take(value_len)?;
        rows.push(Row { tag, key, value });
    }
    let count = r.u64()?;
    if count != rows.len() as u64 {
        return Err(damaged("row count"));
    }
    let covered_len = r.position();
    let sealed_digest = r.take(SEALED_DIGEST_LEN)?;
    if r.remaining() > 0 {
        return Err(damaged("bytes after the end"));
    }
    Ok(Parsed {
        header,
        header_bytes,
        rows,
        covered: &bytes[..covered_len],
        sealed_digest,
    })
}

/// A store restored from a backup into a private directory beside its destination, not yet in
/// place: open it at [`Restoring::dir`], then [`Restoring::finish`] moves it to the
/// destination. Dropped unfinished, the directory is removed and the destination stays as it
/// was.
#[derive(Debug)]
pub struct Restoring {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Restoring {
    /// Where the restored store is until [`Restoring::finish`].
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Moves the restored store to its destination in one rename (replacing an empty
    /// directory there, refusing anything else) and makes the rename durable.
    pub fn finish(mut self) -> Result<(), BackupError> {
        check_empty(&self.dest)?;
        fs::rename(&self.tmp, &self.dest).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty => {
                BackupError::NotEmpty {
                    dir: self.dest.clone(),
                }
            }
            _ => io_error(&self.dest, e).into(),
        })?;
        self.done = true;
        sync_dir(parent_of(&self.dest)).map_err(StoreError::from)?;
        Ok(())
    }
}

impl Drop for Restoring {
    fn drop(&mut self) {
        if !self.done {
            // Best effort: a directory left behind is hidden and holds only sealed rows.
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// The directory `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Refuses a destination that exists and is not an empty directory.
fn check_empty(dest: &Path) -> Result<(), BackupError> {
    let not_empty = || BackupError::NotEmpty {
        dir: dest.to_path_buf(),
    };
    match fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            let mut entries = fs::read_dir(dest).map_err(|e| io_error(dest, e))?;
            if entries.next().is_some() {
                return Err(not_empty());
            }
            Ok(())
        }
        Ok(_) => Err(not_empty()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(dest, e).into()),
    }
}

/// Restores the backup `bytes` for the data directory `dest`, which must not exist or be an
/// empty directory. The whole file is checked first, in this order: its layout (a file that is
/// no backup, of another version, truncated or malformed is refused before any key is
/// derived), the header's parameters (none below the floor), the passphrase, then the sealed
/// digest of everything. Only then is the store written, with the backup's header and rows
/// unchanged (so it opens with the passphrase the backup was made under), in a private
/// directory beside `dest`; see [`Restoring`].
pub fn restore(bytes: &[u8], dest: &Path, passphrase: &[u8]) -> Result<Restoring, BackupError> {
    check_empty(dest)?;
    let parsed = parse(bytes)?;
    match parsed.header.params.check() {
        Ok(()) => {}
        Err(KdfError::BelowFloor { m_kib, t, p }) => {
            return Err(BackupError::WeakKdf { m_kib, t, p });
        }
        Err(_) => return Err(damaged("key derivation parameters beyond the ceiling")),
    }
    let kek = seal::derive_key(passphrase, &parsed.header.salt, parsed.header.params)
        .map_err(|e| BackupError::Store(kdf_error(e)))?;
    let data_key = parsed
        .header
        .unwrap(&kek)
        .map_err(|_| BackupError::WrongPassphrase)?;
    drop(kek);
    let digest = seal::open(&data_key, BACKUP_DIGEST_AAD, parsed.sealed_digest)
        .map_err(|_| damaged("its digest does not decrypt"))?;
    if digest.as_slice() != Sha256::digest(parsed.covered).as_slice() {
        return Err(damaged("its contents do not match its digest"));
    }
    let tmp = temporary_dir(dest)?;
    let restoring = Restoring {
        tmp,
        dest: dest.to_path_buf(),
        done: false,
    };
    write_store(restoring.dir(), &parsed)?;
    Ok(restoring)
}

/// A new private directory beside `dest` (its parent created if missing), named so that it is
/// hidden and never taken for a data directory.
fn temporary_dir(dest: &Path) -> Result<PathBuf, BackupError> {
    let name = dest.file_name().ok_or_else(|| {
        io_error(
            dest,
            io::Error::new(io::ErrorKind::InvalidInput, "not a directory name"),
        )
    })?;
    let parent = parent_of(dest);
    if fs::symlink_metadata(parent).is_err() {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
        builder.create(parent).map_err(|e| io_error(parent, e))?;
    }
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".restoring-{:016x}", u64::from_be_bytes(suffix)));
    let tmp = parent.join(tmp_name);
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(&tmp).map_err(|e| io_error(&tmp, e))?;
    Ok(tmp)
}

/// Writes the database (every row in one durable transaction) and then the header into `dir`.
fn write_store(dir: &Path, parsed: &Parsed<'_>) -> Result<(), StoreError> {
    let db_path = dir.join(DB_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode_0600()
        .open(&db_path)
        .map_err(|e| io_error(&db_path, e))?;
    let map = |e: redb::Error| redb_error(dir, &db_path, e);
    let db = create_db(dir, &db_path, file)?;
    let txn = begin_durable(&db, dir, &db_path)?;
    {
        let mut meta = txn.open_table(META).map_err(|e| map(e.into()))?;
        let mut records = txn.open_table(RECORDS).map_err(|e| map(e.into()))?;
        let mut log = txn.open_table(LOG).map_err(|e| map(e.into()))?;
        let mut snapshots = txn.open_table(SNAPSHOTS).map_err(|e| map(e.into()))?;
        let mut parts = txn.open_table(SNAPSHOT_PARTS).map_err(|e| map(e.into()))?;
        let mut log_parts = txn.open_table(LOG_PARTS).map_err(|e| map(e.into()))?;
        for row in &parsed.rows {
            if row.tag == TAG_LOG_PARTS {
                let key: [u8; 12] = row.key.try_into().map_err(|_| StoreError::Database {
                    reason: "a log piece's key is not 12 bytes".to_owned(),
                })?;
                let (index, n) = key.split_at(8);
                let index = u64::from_be_bytes(index.try_into().unwrap_or_default());
                let n = u32::from_be_bytes(n.try_into().unwrap_or_default());
                log_parts
                    .insert((index, n), row.value)
                    .map_err(|e| map(e.into()))?;
                continue;
            }
            if row.tag == TAG_SNAPSHOT_PARTS {
                let (name, n) = row.key.split_at(row.key.len().saturating_sub(4));
                let name = std::str::from_utf8(name).map_err(|_| StoreError::Database {
                    reason: "a snapshot piece's name is not UTF-8".to_owned(),
                })?;
                let n: [u8; 4] = n.try_into().map_err(|_| StoreError::Database {
                    reason: "a snapshot piece's number is not 4 bytes".to_owned(),
                })?;
                parts
                    .insert((name, u32::from_be_bytes(n)), row.value)
                    .map_err(|e| map(e.into()))?;
                continue;
            }
            if row.tag == TAG_LOG {
                let index: [u8; 8] = row.key.try_into().map_err(|_| StoreError::Database {
                    reason: "a log key is not 8 bytes".to_owned(),
                })?;
                log.insert(u64::from_be_bytes(index), row.value)
                    .map_err(|e| map(e.into()))?;
                continue;
            }
            let key = std::str::from_utf8(row.key).map_err(|_| StoreError::Database {
                reason: "a row key is not UTF-8".to_owned(),
            })?;
            let table: &mut redb::Table<&str, &[u8]> = match row.tag {
                TAG_META => &mut meta,
                TAG_RECORDS => &mut records,
                _ => &mut snapshots,
            };
            table.insert(key, row.value).map_err(|e| map(e.into()))?;
        }
    }
    txn.commit().map_err(|e| map(e.into()))?;
    db.close().map_err(|e| map(e.into()))?;
    write_header(dir, &dir.join(HEADER_FILE), parsed.header_bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::crypto::seal::KdfParams;
    use crate::store::WriteBatch;
    use std::os::unix::fs::PermissionsExt as _;

    const PASS: &[u8] = b"correct horse battery staple";

    fn store_with_rows() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store =
            Store::create(&tmp.path().join("data"), PASS, KdfParams::FLOOR).expect("creates");
        let mut batch = WriteBatch::new();
        batch
            .append_log(b"CANARY-envelope-0")
            .append_log(b"CANARY-envelope-1")
            .put_record("identity", b"CANARY-seed")
            .put_record("membership-op/00000000", b"an op")
            .put_snapshot("local", 2, b"CANARY-snapshot");
        store.commit(batch).expect("commits");
        (tmp, store)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_backup_restores_every_row_and_holds_nothing_readable() {
        let (tmp, store) = store_with_rows();
        let bytes = store.backup().expect("backs up");
        assert!(bytes.starts_with(&BACKUP_MAGIC));
        for canary in [
            &b"CANARY-envelope-0"[..],
            b"CANARY-seed",
            b"CANARY-snapshot",
            PASS,
        ] {
            assert!(!contains(&bytes, canary), "plaintext in the backup");
        }
        // Writes after the backup are not in it.
        store.put_record("later", b"x").expect("writes");
        drop(store);

        let dest = tmp.path().join("restored");
        let restoring = restore(&bytes, &dest, PASS).expect("restores");
        assert!(!dest.exists(), "nothing at the destination before finish");
        let inside = restoring.dir().to_path_buf();
        restoring.finish().expect("moves into place");
        assert!(!inside.exists());
        let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dest), 0o700);
        assert_eq!(mode(&dest.join(DB_FILE)), 0o600);
        assert_eq!(mode(&dest.join(HEADER_FILE)), 0o600);
        let restored = Store::open(&dest, PASS).expect("opens with the backup's passphrase");
        assert_eq!(
            restored.read_log(0, 10).expect("reads"),
            vec![
                (0, b"CANARY-envelope-0".to_vec()),
                (1, b"CANARY-envelope-1".to_vec())
            ]
        );
        assert_eq!(
            restored.get_record("identity").expect("reads").as_deref(),
            Some(&b"CANARY-seed".to_vec())
        );
        assert_eq!(restored.get_record("later").expect("reads"), None);
        assert_eq!(
            restored
                .get_snapshot("local")
                .expect("reads")
                .map(|s| s.bytes),
            Some(b"CANARY-snapshot".to_vec())
        );
        // A backup of the restored store is the same rows (nonces are kept: values are copied).
        let again = restored.backup().expect("backs up");
        let (a, b) = (
            parse(&bytes).expect("parses"),
            parse(&again).expect("parses"),
        );
        assert_eq!(a.rows.len(), b.rows.len());
        assert!(
            a.rows
                .iter()
                .zip(&b.rows)
                .all(|(x, y)| x.key == y.key && x.value == y.value)
        );
    }

    #[test]
    fn a_snapshot_and_a_log_entry_stored_in_pieces_come_back_whole() {
        let (tmp, store) = store_with_rows();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        store.put_snapshot("own", 3, &big).expect("writes");
        let mut batch = WriteBatch::new();
        batch.append_log(big.clone());
        let index = store.commit(batch).expect("appends")[0];
        let bytes = store.backup().expect("backs up");
        drop(store);
        let dest = tmp.path().join("restored");
        restore(&bytes, &dest, PASS)
            .expect("restores")
            .finish()
            .expect("moves into place");
        let restored = Store::open(&dest, PASS).expect("opens");
        let back = restored
            .get_snapshot("own")
            .expect("reads")
            .expect("present");
        assert_eq!((back.log_index, back.bytes), (3, big.clone()));
        assert_eq!(restored.read_log_entry(index).expect("reads"), Some(big));
    }

    #[test]
    fn a_backup_opens_with_the_passphrase_it_was_made_under() {
        let (tmp, mut store) = store_with_rows();
        let before = store.backup().expect("backs up");
        store
            .change_passphrase(b"a newer passphrase")
            .expect("changes");
        let after = store.backup().expect("backs up");
        drop(store);
        assert!(matches!(
            restore(&before, &tmp.path().join("x"), b"a newer passphrase"),
            Err(BackupError::WrongPassphrase)
        ));
        restore(&before, &tmp.path().join("x"), PASS).expect("the old one opens the old backup");
        assert!(matches!(
            restore(&after, &tmp.path().join("y"), PASS),
            Err(BackupError::WrongPassphrase)
        ));
        restore(&after, &tmp.path().join("y"), b"a newer passphrase").expect("the new one");
    }

    #[test]
    fn damaged_truncated_and_foreign_files_are_refused_and_write_nothing() {
        let (tmp, store) = store_with_rows();
        let bytes = store.backup().expect("backs up");
        drop(store);
        let dest = tmp.path().join("restored");
        let listing = |dir: &Path| -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = fs::read_dir(dir)
                .expect("lists")
                .map(|e| e.expect("entry").path())
                .collect();
            v.sort();
            v
        };
        let before = listing(tmp.path());
        let refused = |b: &[u8]| restore(b, &dest, PASS).expect_err("refused");
        assert!(matches!(refused(b""), BackupError::NotABackup));
        assert!(matches!(
            refused(b"GIF89a garbage"),
            BackupError::NotABackup
        ));
        assert!(matches!(refused(&bytes[..5]), BackupError::Truncated));
        for cut in [10, 100, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                matches!(refused(&bytes[..cut]), BackupError::Truncated),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(refused(&longer), BackupError::Damaged { .. }));
        let mut v2 = bytes.clone();
        v2[9] = 2;
        assert!(matches!(
            refused(&v2),
            BackupError::Version {
                found: 2,
                supported: 1
            }
        ));
        // A flipped bit in a value, in a key, in the count: the digest says so.
        for at in [
            bytes.len() - SEALED_DIGEST_LEN - 20,
            200,
            bytes.len() - SEALED_DIGEST_LEN - 1,
        ] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x01;
            let e = refused(&flipped);
            assert!(
                matches!(e, BackupError::Damaged { .. } | BackupError::Truncated),
                "flip at {at}: {e:?}"
            );
        }
        // The header's salt: the passphrase no longer opens it.
        let mut salt = bytes.clone();
        salt[10 + 30] ^= 0x01;
        assert!(matches!(refused(&salt), BackupError::WrongPassphrase));
        assert!(matches!(
            restore(&bytes, &dest, b"not the passphrase"),
            Err(BackupError::WrongPassphrase)
        ));
        assert_eq!(listing(tmp.path()), before, "nothing was written");

        // An existing store (or any file) at the destination is refused before anything.
        fs::create_dir(&dest).expect("mkdir");
        fs::write(dest.join("puente.redb"), b"x").expect("writes");
        assert!(matches!(refused(&bytes), BackupError::NotEmpty { .. }));
        fs::remove_file(dest.join("puente.redb")).expect("removes");
        // An empty one is taken.
        restore(&bytes, &dest, PASS)
            .expect("restores")
            .finish()
            .expect("finishes");
        assert!(Store::open(&dest, PASS).is_ok());
    }

    #[test]
    fn an_unfinished_restore_leaves_nothing() {
        let (tmp, store) = store_with_rows();
        let bytes = store.backup().expect("backs up");
        drop(store);
        let dest = tmp.path().join("new/restored");
        let restoring = restore(&bytes, &dest, PASS).expect("restores");
        let inside = restoring.dir().to_path_buf();
        assert!(inside.exists());
        drop(restoring);
        assert!(!inside.exists());
        assert!(!dest.exists());
    }
}
