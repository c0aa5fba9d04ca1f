//! A new data key for a store, with every value sealed again under it ([`Store::rekey`]): after
//! a history erasure, so that what the erased history left in pages redb freed (sealed under the
//! old data key) opens with nothing the data directory holds, passphrase included.
//!
//! The header and the database are two files, so the switch is made in three durable steps,
//! each of which a crash may interrupt:
//! 1. the new data key, wrapped like the header's under the same passphrase key, is written to
//!    `puente.header.next`;
//! 2. one redb transaction seals every record, log entry and snapshot (and the `meta` check
//!    value) again under the new key;
//! 3. the next header takes the header's place (atomically, with the lock), and is gone.
//!
//! Opening a store finishes or undoes an interrupted switch: when the header's key does not
//! open the check value but the next header's does, step 2 committed, and the next header is
//! put in place (read-only opens just use it); when the header's key opens it, any next header
//! is stale (step 2 never committed) and is deleted.
//!
//! Invariant: at every moment one of the two headers opens the database, and after step 3 the
//! old data key is in no file of the data directory. Boundary: it cannot reach blocks the file
//! system or the disk keep after a file was replaced; that is full-disk encryption's job.

use std::fs;
use std::io;

use super::header::{HEADER_LEN, Header};
use super::private::sync_dir;
use super::{Db, HEADER_NEXT_FILE, Store, StoreError, WriteBatch, io_error, write_header};
use crate::crypto::seal::SymmetricKey;

impl Store {
    /// Seals every value of the store again under a new data key and replaces the header by
    /// one holding it (see the module documentation); the passphrase stays the same. Then the
    /// file is compacted. Costs a rewrite of the whole store, in memory and on disk.
    pub fn rekey(&mut self) -> Result<(), StoreError> {
        if !matches!(self.db, Db::Write(_)) {
            return Err(StoreError::ReadOnly);
        }
        let mut batch = WriteBatch::new();
        batch.replace_log();
        for (_, entry) in self.read_log(0, usize::MAX)? {
            batch.append_log(entry);
        }
        for (name, value) in self.records_with_prefix("")? {
            batch.put_record(name, &value);
        }
        for name in self.snapshot_names()? {
            if let Some(snapshot) = self.get_snapshot(&name)? {
                batch.put_snapshot(name, snapshot.log_index, snapshot.bytes);
            }
        }
        batch.reseal_check = true;

        let new_key = SymmetricKey::generate();
        let next = Header::wrap(self.params, self.salt, &self.kek, &new_key);
        let next_path = self.dir.join(HEADER_NEXT_FILE);
        write_header(&self.dir, &next_path, &next.to_bytes())?;
        let old_key = std::mem::replace(&mut self.data_key, new_key);
        if let Err(e) = self.commit(batch) {
            self.data_key = old_key;
            let _ = fs::remove_file(&next_path);
            return Err(e);
        }
        drop(old_key);
        self.replace_header(&next)?;
        self.remove_next_header()?;
        if let Db::Write(db) = &mut self.db {
            db.compact().map_err(|e| self.db_error_of(e.into()))?;
        }
        Ok(())
    }

    /// Opened with the header's key: a next header left by a rekey whose rewrite never
    /// committed is deleted (a read-only open leaves it).
    pub(super) fn drop_stale_next_header(&mut self) -> Result<(), StoreError> {
        if matches!(self.db, Db::Write(_)) && self.dir.join(HEADER_NEXT_FILE).exists() {
            self.remove_next_header()?;
        }
        Ok(())
    }

    /// The header's key did not open the store: if a next header's does, the rekey's rewrite
    /// committed; its key is used, and on a store opened for writing it takes the header's
    /// place. Returns whether it opened the store.
    pub(super) fn adopt_next_header(&mut self) -> Result<bool, StoreError> {
        let path = self.dir.join(HEADER_NEXT_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) if b.len() == HEADER_LEN => b,
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error(&path, e)),
        };
        let Ok(next) = Header::parse(&bytes) else {
            return Ok(false);
        };
        if next.salt != self.salt || next.params != self.params {
            return Ok(false);
        }
        let Ok(key) = next.unwrap(&self.kek) else {
            return Ok(false);
        };
        let old = std::mem::replace(&mut self.data_key, key);
        if self.verify_check().is_err() {
            self.data_key = old;
            return Ok(false);
        }
        if matches!(self.db, Db::Write(_)) {
            self.replace_header(&next)?;
            self.remove_next_header()?;
        }
        Ok(true)
    }

    fn remove_next_header(&self) -> Result<(), StoreError> {
        let path = self.dir.join(HEADER_NEXT_FILE);
        match fs::remove_file(&path) {
            Ok(()) => Ok(sync_dir(&self.dir)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    fn db_error_of(&self, e: redb::Error) -> StoreError {
        super::redb_error(&self.dir, &self.db_path, e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DB_FILE, HEADER_FILE};
    use super::*;
    use crate::crypto::seal::KdfParams;

    const PASS: &[u8] = b"correct horse battery staple";

    fn store(dir: &std::path::Path) -> Store {
        Store::create(dir, PASS, KdfParams::FLOOR).expect("creates")
    }

    fn filled(dir: &std::path::Path) -> Store {
        let s = store(dir);
        let mut batch = WriteBatch::new();
        batch.put_record("identity", b"the-seed-of-an-old-key");
        batch.append_log(b"envelope one".to_vec());
        batch.append_log(Vec::new());
        batch.append_log(vec![7; 200_000]);
        batch.put_snapshot("local", 3, vec![9; 150_000]);
        s.commit(batch).expect("commits");
        s
    }

    /// The log, the records and the `local` snapshot, opened.
    type Contents = (Vec<(u64, Vec<u8>)>, Vec<(String, Vec<u8>)>, Vec<u8>);

    fn contents(s: &Store) -> Contents {
        let log = s.read_log(0, usize::MAX).expect("log");
        let records = s
            .records_with_prefix("")
            .expect("records")
            .into_iter()
            .map(|(n, v)| (n, v.to_vec()))
            .collect();
        let snap = s
            .get_snapshot("local")
            .expect("reads")
            .expect("there")
            .bytes;
        (log, records, snap)
    }

    #[test]
    fn a_rekeyed_store_reads_the_same_and_no_longer_opens_with_the_old_data_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let mut s = filled(&path);
        let before = contents(&s);
        let old_key = s.data_key.clone();
        let old_header = fs::read(path.join(HEADER_FILE)).expect("reads");
        s.rekey().expect("rekeys");
        assert_eq!(contents(&s), before);
        assert!(!path.join(HEADER_NEXT_FILE).exists());
        assert_ne!(fs::read(path.join(HEADER_FILE)).expect("reads"), old_header);
        s.close().expect("closes");
        let s = Store::open(&path, PASS).expect("opens with the same passphrase");
        assert_eq!(contents(&s), before);
        // The old data key opens nothing the store holds now.
        let mut stale = s;
        stale.data_key = old_key;
        assert!(stale.read_log(0, usize::MAX).is_err());
        assert!(stale.records_with_prefix("").is_err());
        assert!(stale.verify_check().is_err());
    }

    #[test]
    fn an_interrupted_rekey_is_finished_or_undone_when_the_store_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let s = filled(&path);
        let before = contents(&s);
        s.close().expect("closes");

        // Step 1 only: a next header for a key nothing was sealed under.
        let db = fs::read(path.join(DB_FILE)).expect("reads");
        let header = fs::read(path.join(HEADER_FILE)).expect("reads");
        let mut s = Store::open(&path, PASS).expect("opens");
        s.rekey().expect("rekeys");
        s.close().expect("closes");
        let rekeyed_db = fs::read(path.join(DB_FILE)).expect("reads");
        let rekeyed_header = fs::read(path.join(HEADER_FILE)).expect("reads");
        fs::write(path.join(DB_FILE), &db).expect("restores");
        fs::write(path.join(HEADER_FILE), &header).expect("restores");
        fs::write(path.join(HEADER_NEXT_FILE), &rekeyed_header).expect("writes");
        let s = Store::open(&path, PASS).expect("opens with the old key");
        assert_eq!(contents(&s), before);
        assert!(
            !path.join(HEADER_NEXT_FILE).exists(),
            "the stale one is gone"
        );
        s.close().expect("closes");

        // Steps 1 and 2: the database is under the new key, the header still the old one.
        fs::write(path.join(DB_FILE), &rekeyed_db).expect("writes");
        fs::write(path.join(HEADER_FILE), &header).expect("restores");
        fs::write(path.join(HEADER_NEXT_FILE), &rekeyed_header).expect("writes");
        let ro = Store::open_read_only(&path, PASS).expect("a read-only open uses the next one");
        assert_eq!(contents(&ro), before);
        ro.close().expect("closes");
        assert!(
            path.join(HEADER_NEXT_FILE).exists(),
            "read-only changes nothing"
        );
        let s = Store::open(&path, PASS).expect("opens and finishes the switch");
        assert_eq!(contents(&s), before);
        s.close().expect("closes");
        assert!(!path.join(HEADER_NEXT_FILE).exists());
        assert_eq!(
            fs::read(path.join(HEADER_FILE)).expect("reads"),
            rekeyed_header
        );

        // A wrong passphrase is still refused as one.
        assert!(matches!(
            Store::open(&path, b"not the passphrase"),
            Err(StoreError::WrongPassphrase)
        ));
    }
}
