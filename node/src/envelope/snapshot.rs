//! The partition snapshot format (v1, see `docs/formats.md`): one partition's automerge
//! document with the version vector of the envelopes it includes and its heads, compressed,
//! sealed under an epoch key and signed by a key of the partition's organisation
//! ([`Snapshot`]). A verifiable catch-up for a partner far behind, and the local fast-start
//! record.
//!
//! Invariant: every count and length is checked against its bound before reading on, the
//! version vector and the heads are strictly sorted, and no input can make it panic; only the
//! organisation's own keys may vouch for its document ([`Snapshot::verify`]).
//!
//! Boundary: sans-I/O. Checks that the body starts like an automerge document; the scan of the
//! document's columns and whether it matches its heads and covers are the replica's
//! (`replica/snapshot.rs`).

use std::collections::BTreeMap;
use std::fmt;

use puente_crdt::OrgId;
use sha2::{Digest as _, Sha256};

use super::admission::Authority;
use super::chunk;
use super::format::{
    EnvelopeError, FORMAT_VERSION, MAX_SEQ, MIN_CHUNK_LEN, Reader, SIGNATURE_LEN, append_signature,
    compress_body, expand_body, vector_len, verify_trailer,
};
use crate::crypto::labels::SNAPSHOT_SIG_DOMAIN;
use crate::crypto::seal::{
    NONCE_LEN, SymmetricKey, TAG_LEN, open_with_nonce, random_nonce, seal_with_nonce,
};
use crate::identity::{PublicKey, SecretKey};
use crate::keys::{Epoch, EpochKeys, NetworkId};

/// Record type byte of a snapshot.
pub const RECORD_SNAPSHOT: u8 = 2;

/// Largest snapshot ciphertext: 64 MiB is far above the uncompressed size of a network-wide
/// document of many thousands of offers, and still allocatable on a small device.
pub const MAX_SNAPSHOT_BODY: u32 = 64 * 1024 * 1024;

/// Most authors a snapshot's version vector may list: more keys than a network of hundreds of
/// organisations will ever have, and bounded so the header stays under 200 KiB.
pub const MAX_SNAPSHOT_COVERS: u16 = 4096;

/// Most heads a snapshot may list: heads are concurrent branches, a handful in practice.
pub const MAX_SNAPSHOT_HEADS: u16 = 1024;

/// A signed, encrypted snapshot of one partition's document: a verifiable catch-up for a
/// partner far behind, and the local fast-start record (format v1, see `docs/formats.md`).
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot {
    bytes: Vec<u8>,
    network: NetworkId,
    partition: OrgId,
    signer: PublicKey,
    epoch: Epoch,
    covers: BTreeMap<PublicKey, u64>,
    heads: Vec<[u8; 32]>,
    nonce: [u8; NONCE_LEN],
    header_len: usize,
}

impl Snapshot {
    /// Seals `document` (automerge `save_nocompress()` bytes of the partition's document) with
    /// the version vector of envelopes it includes and its heads, signed by `signer`, which must
    /// be a key of the partition's own organisation for receivers to accept it.
    #[allow(clippy::too_many_arguments)] // Each is a distinct header field; a struct adds nothing.
    pub fn seal(
        network: NetworkId,
        partition: OrgId,
        signer: &SecretKey,
        epoch: Epoch,
        key: &SymmetricKey,
        covers: &BTreeMap<PublicKey, u64>,
        heads: &[[u8; 32]],
        document: &[u8],
    ) -> Result<Snapshot, EnvelopeError> {
        check_document(document)?;
        let n_covers = vector_len(covers, MAX_SNAPSHOT_COVERS)?;
        let mut heads = heads.to_vec();
        heads.sort_unstable();
        heads.dedup();
        let n_heads = u16::try_from(heads.len())
            .ok()
            .filter(|n| *n <= MAX_SNAPSHOT_HEADS)
            .ok_or(EnvelopeError::TooLarge {
                len: heads.len() as u64,
                max: u64::from(MAX_SNAPSHOT_HEADS),
            })?;
        if document.len() > MAX_SNAPSHOT_BODY as usize {
            return Err(EnvelopeError::TooLarge {
                len: document.len() as u64,
                max: u64::from(MAX_SNAPSHOT_BODY),
            });
        }
        let document = compress_body(zeroize::Zeroizing::new(document.to_vec()));
        let document: &[u8] = &document;
        let body_len = document.len().saturating_add(TAG_LEN);
        if body_len > MAX_SNAPSHOT_BODY as usize {
            return Err(EnvelopeError::TooLarge {
                len: body_len as u64,
                max: u64::from(MAX_SNAPSHOT_BODY),
            });
        }
        let signer_key = signer.public();
        let nonce = random_nonce();
        let mut bytes = Vec::new();
        bytes.push(FORMAT_VERSION);
        bytes.push(RECORD_SNAPSHOT);
        bytes.extend_from_slice(network.as_bytes());
        bytes.extend_from_slice(partition.as_bytes());
        bytes.extend_from_slice(signer_key.as_bytes());
        bytes.extend_from_slice(&epoch.0.to_be_bytes());
        bytes.extend_from_slice(&n_covers.to_be_bytes());
        for (author, seq) in covers {
            bytes.extend_from_slice(author.as_bytes());
            bytes.extend_from_slice(&seq.to_be_bytes());
        }
        bytes.extend_from_slice(&n_heads.to_be_bytes());
        for head in &heads {
            bytes.extend_from_slice(head);
        }
        bytes.extend_from_slice(&nonce);
        // Bounded by MAX_SNAPSHOT_BODY above.
        bytes.extend_from_slice(&(body_len as u32).to_be_bytes());
        let header_len = bytes.len();
        let ciphertext = seal_with_nonce(key, &nonce, &bytes, document);
        bytes.extend_from_slice(&ciphertext);
        append_signature(signer, SNAPSHOT_SIG_DOMAIN, &mut bytes);
        Ok(Snapshot {
            bytes,
            network,
            partition,
            signer: signer_key,
            epoch,
            covers: covers.clone(),
            heads,
            nonce,
            header_len,
        })
    }

    /// Parses a snapshot, checking every count and length against its bound first, requiring
    /// the version vector and heads in strictly ascending order, and refusing trailing bytes.
    pub fn from_bytes(input: &[u8]) -> Result<Snapshot, EnvelopeError> {
        let mut r = Reader::new(input);
        let version = r.u8()?;
        if version != FORMAT_VERSION {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        if r.u8()? != RECORD_SNAPSHOT {
            return Err(EnvelopeError::Malformed("not a snapshot"));
        }
        let network = NetworkId::from_bytes(r.array()?);
        let partition = OrgId::from_bytes(r.array()?);
        let signer = PublicKey::from_bytes(r.array()?);
        let epoch = Epoch(r.u32()?);
        let n_covers = r.u16()?;
        if n_covers > MAX_SNAPSHOT_COVERS {
            return Err(EnvelopeError::TooLarge {
                len: u64::from(n_covers),
                max: u64::from(MAX_SNAPSHOT_COVERS),
            });
        }
        if r.remaining() < usize::from(n_covers) * 40 {
            return Err(EnvelopeError::Truncated);
        }
        let mut covers = BTreeMap::new();
        let mut last: Option<PublicKey> = None;
        for _ in 0..n_covers {
            let author = PublicKey::from_bytes(r.array()?);
            let seq = r.u64()?;
            if last.is_some_and(|prev| prev >= author) {
                return Err(EnvelopeError::Malformed(
                    "version vector is not strictly sorted",
                ));
            }
            if seq == 0 || seq > MAX_SEQ {
                return Err(EnvelopeError::Malformed("sequence number out of range"));
            }
            last = Some(author);
            covers.insert(author, seq);
        }
        let n_heads = r.u16()?;
        if n_heads > MAX_SNAPSHOT_HEADS {
            return Err(EnvelopeError::TooLarge {
                len: u64::from(n_heads),
                max: u64::from(MAX_SNAPSHOT_HEADS),
            });
        }
        if r.remaining() < usize::from(n_heads) * 32 {
            return Err(EnvelopeError::Truncated);
        }
        let mut heads: Vec<[u8; 32]> = Vec::with_capacity(usize::from(n_heads));
        for _ in 0..n_heads {
            let head = r.array()?;
            if heads.last().is_some_and(|prev| *prev >= head) {
                return Err(EnvelopeError::Malformed("heads are not strictly sorted"));
            }
            heads.push(head);
        }
        let nonce = r.array()?;
        let body_len = r.u32()?;
        if body_len > MAX_SNAPSHOT_BODY {
            return Err(EnvelopeError::TooLarge {
                len: u64::from(body_len),
                max: u64::from(MAX_SNAPSHOT_BODY),
            });
        }
        if (body_len as usize) < TAG_LEN {
            return Err(EnvelopeError::Malformed("body is too short"));
        }
        let header_len = r.position();
        let expected = header_len + body_len as usize + SIGNATURE_LEN;
        if input.len() < expected {
            return Err(EnvelopeError::Truncated);
        }
        if input.len() > expected {
            return Err(EnvelopeError::Malformed(
                "trailing bytes after the signature",
            ));
        }
        Ok(Snapshot {
            bytes: input.to_vec(),
            network,
            partition,
            signer,
            epoch,
            covers,
            heads,
            nonce,
            header_len,
        })
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A copy of the encoded bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The network this snapshot belongs to.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// The organisation whose document this is.
    pub fn partition(&self) -> OrgId {
        self.partition
    }

    /// The key that signed it.
    pub fn signer(&self) -> PublicKey {
        self.signer
    }

    /// The epoch whose key sealed the document.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Which author envelopes the document includes: highest sequence number per author.
    pub fn covers(&self) -> &BTreeMap<PublicKey, u64> {
        &self.covers
    }

    /// The automerge change hashes of the document's heads, sorted. The receiver must check
    /// that the loaded document has exactly these heads.
    pub fn heads(&self) -> &[[u8; 32]] {
        &self.heads
    }

    /// SHA-256 of the full encoding.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(&self.bytes).into()
    }

    /// Checks the signer's signature over `"puente/snapshot/v1" || header || ciphertext`.
    pub fn verify_signature(&self) -> Result<(), EnvelopeError> {
        verify_trailer(&self.signer, SNAPSHOT_SIG_DOMAIN, &self.bytes)
    }

    /// Checks network, signature, and that the signer may write the partition (only the
    /// organisation's own keys may vouch for its document).
    pub fn verify(
        &self,
        network: NetworkId,
        authority: &impl Authority,
    ) -> Result<(), EnvelopeError> {
        if self.network != network {
            return Err(EnvelopeError::WrongNetwork {
                expected: network,
                got: self.network,
            });
        }
        self.verify_signature()?;
        if !authority.may_write(&self.signer, &self.partition) {
            return Err(EnvelopeError::NotAuthorized {
                author: self.signer,
                partition: self.partition,
            });
        }
        Ok(())
    }

    /// Decrypts the document bytes (checking they are an automerge document chunk). Does not
    /// check the signature: call [`Snapshot::verify`] first.
    pub fn open(&self, keys: &impl EpochKeys) -> Result<Vec<u8>, EnvelopeError> {
        let candidates = keys.keys(self.epoch);
        if candidates.is_empty() {
            return Err(EnvelopeError::UnknownEpoch(self.epoch));
        }
        let end = self.bytes.len() - SIGNATURE_LEN;
        let document = candidates
            .into_iter()
            .find_map(|key| {
                open_with_nonce(
                    key,
                    &self.nonce,
                    &self.bytes[..self.header_len],
                    &self.bytes[self.header_len..end],
                )
                .ok()
            })
            .ok_or(EnvelopeError::Undecryptable)?;
        let document = expand_body(document, MAX_SNAPSHOT_BODY as usize)?;
        check_document(&document)?;
        Ok(document.to_vec())
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("partition", &self.partition)
            .field("signer", &self.signer)
            .field("epoch", &self.epoch)
            .field("covers", &self.covers.len())
            .field("heads", &self.heads.len())
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Checks that `bytes` starts like an automerge document chunk.
fn check_document(bytes: &[u8]) -> Result<(), EnvelopeError> {
    if bytes.len() < MIN_CHUNK_LEN
        || bytes[..4] != chunk::MAGIC
        || bytes[8] != chunk::CHUNK_DOCUMENT
    {
        return Err(EnvelopeError::NotAutomerge("a document"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable as _;
    use proptest::prelude::*;

    use super::*;
    use crate::envelope::fixture::{Fixture, NET, change};

    fn snapshot_fixture(f: &Fixture) -> (Vec<u8>, Vec<[u8; 32]>, BTreeMap<PublicKey, u64>) {
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "offer", "two beds").expect("put");
        let heads: Vec<[u8; 32]> = doc.get_heads().iter().map(|h| h.0).collect();
        let covers = BTreeMap::from([(f.alice.public(), 3), (f.bob.public(), 1)]);
        (doc.save_nocompress(), heads, covers)
    }

    #[test]
    fn snapshot_round_trip() {
        let f = Fixture::new();
        let (doc, heads, covers) = snapshot_fixture(&f);
        let org = f.org(&f.alice);
        let snap = Snapshot::seal(
            NET,
            org,
            &f.alice,
            Epoch(1),
            f.key.key(),
            &covers,
            &heads,
            &doc,
        )
        .expect("seals");
        let parsed = Snapshot::from_bytes(snap.as_bytes()).expect("parses");
        assert_eq!(parsed, snap);
        assert_eq!(parsed.covers(), &covers);
        assert_eq!(parsed.heads(), &heads[..]);
        assert_eq!(parsed.signer(), f.alice.public());
        assert_eq!(parsed.partition(), org);
        assert_eq!(parsed.verify(NET, &f.authority()), Ok(()));
        assert_eq!(parsed.open(&f.key), Ok(doc.clone()));
        let loaded =
            automerge::AutoCommit::load(&parsed.open(&f.key).expect("opens")).expect("loads");
        let mut loaded = loaded;
        let loaded_heads: Vec<[u8; 32]> = loaded.get_heads().iter().map(|h| h.0).collect();
        assert_eq!(loaded_heads, parsed.heads());
    }

    #[test]
    fn tampered_snapshot_is_refused() {
        let f = Fixture::new();
        let (doc, heads, covers) = snapshot_fixture(&f);
        let snap = Snapshot::seal(
            NET,
            f.org(&f.alice),
            &f.alice,
            Epoch(1),
            f.key.key(),
            &covers,
            &heads,
            &doc,
        )
        .expect("seals");
        for i in 0..snap.as_bytes().len() {
            let mut bytes = snap.to_bytes();
            bytes[i] ^= 0x04;
            let caught = match Snapshot::from_bytes(&bytes) {
                Err(_) => true,
                Ok(parsed) => {
                    parsed.verify(NET, &f.authority()).is_err() || parsed.open(&f.key).is_err()
                }
            };
            assert!(caught, "flipping byte {i} went unnoticed");
        }
        let mut longer = snap.to_bytes();
        longer.push(0);
        assert!(Snapshot::from_bytes(&longer).is_err());
    }

    #[test]
    fn snapshot_by_another_organisation_is_refused() {
        let f = Fixture::new();
        let (doc, heads, covers) = snapshot_fixture(&f);
        // Bob signs a snapshot of Alice's organisation: well-formed, validly signed, refused.
        let snap = Snapshot::seal(
            NET,
            f.org(&f.alice),
            &f.bob,
            Epoch(1),
            f.key.key(),
            &covers,
            &heads,
            &doc,
        )
        .expect("seals");
        assert_eq!(snap.verify_signature(), Ok(()));
        assert_eq!(
            snap.verify(NET, &f.authority()),
            Err(EnvelopeError::NotAuthorized {
                author: f.bob.public(),
                partition: f.org(&f.alice)
            })
        );
        // Replacing the signer field with Alice's key breaks the signature.
        let mut bytes = snap.to_bytes();
        bytes[28..60].copy_from_slice(f.alice.public().as_bytes());
        let relabelled = Snapshot::from_bytes(&bytes).expect("parses");
        assert_eq!(
            relabelled.verify(NET, &f.authority()),
            Err(EnvelopeError::BadSignature)
        );
        // A snapshot body must be a document, not a change.
        assert_eq!(
            Snapshot::seal(
                NET,
                f.org(&f.alice),
                &f.alice,
                Epoch(1),
                f.key.key(),
                &covers,
                &heads,
                &change("k", "v")
            )
            .err(),
            Some(EnvelopeError::NotAutomerge("a document"))
        );
    }

    #[test]
    fn snapshot_counts_are_bounded_before_reading() {
        let f = Fixture::new();
        let (doc, heads, covers) = snapshot_fixture(&f);
        let snap = Snapshot::seal(
            NET,
            f.org(&f.alice),
            &f.alice,
            Epoch(1),
            f.key.key(),
            &covers,
            &heads,
            &doc,
        )
        .expect("seals");
        let mut bytes = snap.as_bytes()[..66].to_vec();
        bytes[64..66].copy_from_slice(&u16::MAX.to_be_bytes());
        assert!(matches!(
            Snapshot::from_bytes(&bytes),
            Err(EnvelopeError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn snapshot_from_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(snap) = Snapshot::from_bytes(&bytes) {
                let _ = snap.verify_signature();
            }
        }
    }
}
