//! The change envelope format (v1, see `docs/formats.md`): a batch of automerge changes by one
//! author for one partition, compressed, sealed under an epoch key with its header as
//! associated data, and signed by its author ([`Envelope`]); and what the snapshot format shares
//! with it: the version byte, [`EnvelopeError`], the signature trailer and body compression.
//!
//! Invariant: automerge parses a change from an envelope only after [`chunk`] found it
//! uncompressed and, with the envelope's other changes, within [`MAX_ENVELOPE_ROWS`] rows and
//! [`chunk::MAX_STRING_BYTES`] of strings. Every length and count read from input is checked
//! against a bound before anything is allocated, and no input can make it panic.
//!
//! Boundary: sans-I/O. Owns the byte layout, its bounds, and the signature and AEAD checks; who
//! may write and in which order is [`super::admission`]'s, and whether the changes touch only
//! the envelope's partition is the replica's.

use std::collections::BTreeMap;
use std::fmt;

use puente_crdt::OrgId;
use sha2::{Digest as _, Sha256};

use super::chunk::{self, ChunkError};
use crate::crypto::labels::ENVELOPE_SIG_DOMAIN;
use crate::crypto::seal::{
    NONCE_LEN, SymmetricKey, TAG_LEN, open_with_nonce, random_nonce, seal_with_nonce,
};
use crate::identity::{PublicKey, SecretKey, Signature};
use crate::keys::{Epoch, EpochKeys, NetworkId};

/// Version byte of envelope and snapshot format v1.
pub const FORMAT_VERSION: u8 = 1;

/// Record type byte of a change envelope.
pub const RECORD_CHANGES: u8 = 1;

/// Length of the fixed envelope header (everything before the ciphertext), which is also the
/// AEAD associated data.
pub const ENVELOPE_HEADER_LEN: usize = 100;

/// Length of an Ed25519 signature trailer.
pub const SIGNATURE_LEN: usize = 64;

/// Largest envelope ciphertext: 4 MiB holds thousands of ordinary changes (a host-home offer is
/// a few hundred bytes) while bounding what one peer message can make a node allocate.
pub const MAX_ENVELOPE_BODY: u32 = 4 * 1024 * 1024;

/// Most changes one envelope may carry: a batch of local edits is tens of changes; 4096 bounds
/// the work of decoding a hostile list.
pub const MAX_CHANGES_PER_ENVELOPE: u32 = 4096;

/// Highest valid sequence number: one below `u64::MAX`, so that "the next expected number"
/// always exists and never saturates.
pub const MAX_SEQ: u64 = u64::MAX - 1;

/// Most other authors an envelope may say it builds on: the other devices of its organisation
/// whose envelopes are in the partition. An organisation has a handful of devices.
pub const MAX_BUILDS_ON: u16 = 256;

/// Shortest automerge chunk: magic (4), checksum (4), type (1), and a one-byte LEB128 length.
pub(super) const MIN_CHUNK_LEN: usize = 10;

/// Most rows the change chunks of one envelope may claim together (for each change, the rows of
/// its largest column: its operations). Automerge columns are run-length encoded, so a few
/// bytes can claim billions of operations, and automerge iterates and allocates per operation
/// when it parses and applies a change; the claims are counted, and refused past this bound,
/// before automerge sees the change. Honest changes: a 1 000-offer import batch
/// (`IMPORT_BATCH_ROWS`, one change) of ordinary offers is 24 000 operations in 411 KB, about
/// 17 bytes per operation; at that density a full envelope (4 MiB) holds under 250 000, and even
/// 1 000 offers with every list full and 64 windows each are 405 000 (7.5 MB, too large for one
/// envelope anyway). 2^20 leaves four times what fits in an envelope and forty times an import
/// batch, and bounds a hostile envelope: applying a million operations takes about a second and
/// 100-odd MiB. The same figure as a snapshot document's row bound.
pub const MAX_ENVELOPE_ROWS: u64 = 1 << 20;

/// Why an envelope or snapshot was refused. Every variant leaves
/// [`Admission`](super::Admission) unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The input ends before the layout says it should.
    #[error("record is truncated")]
    Truncated,
    /// The input does not follow the layout.
    #[error("record is malformed: {0}")]
    Malformed(&'static str),
    /// A format version this node does not speak.
    #[error("record format version {0} is not supported (this node speaks version 1)")]
    UnsupportedVersion(u8),
    /// The record belongs to another network.
    #[error("record belongs to network {got}, not {expected}")]
    WrongNetwork {
        /// This node's network.
        expected: NetworkId,
        /// The record's network.
        got: NetworkId,
    },
    /// The signature does not verify under the claimed author key.
    #[error("record signature is not valid")]
    BadSignature,
    /// The author key may not write this partition.
    #[error("key {fp} may not write records of organisation {partition}", fp = .author.fingerprint())]
    NotAuthorized {
        /// The author key.
        author: PublicKey,
        /// The partition it tried to write.
        partition: OrgId,
    },
    /// The body is sealed under an epoch key this node does not have.
    #[error("record is sealed under epoch {0}, whose key this node does not have")]
    UnknownEpoch(Epoch),
    /// The AEAD refused the body: altered bytes, or sealed under another key.
    #[error("record body could not be decrypted")]
    Undecryptable,
    /// The author signed two different envelopes with the same sequence number: evidence that
    /// the key is compromised or misused. Must be reported.
    #[error("key {fp} signed two different envelopes with sequence number {seq}", fp = .author.fingerprint())]
    Equivocation {
        /// The equivocating author.
        author: PublicKey,
        /// The sequence number used twice.
        seq: u64,
    },
    /// A length is above its bound.
    #[error("record is too large: {len} bytes, at most {max} allowed")]
    TooLarge {
        /// The claimed length.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// An envelope too far ahead of the author's next expected sequence number to buffer.
    #[error(
        "envelope {seq} of key {fp} is too far ahead (expected {expected})",
        fp = .author.fingerprint()
    )]
    TooFarAhead {
        /// The author.
        author: PublicKey,
        /// The envelope's sequence number.
        seq: u64,
        /// The next sequence number this node expects from the author.
        expected: u64,
    },
    /// The buffer for out-of-order envelopes is full; resend in order.
    #[error("too many out-of-order envelopes are waiting; send them in order")]
    PendingFull,
    /// A change inside the envelope is DEFLATE-compressed (as a whole or a column), which could
    /// be a decompression bomb.
    #[error("envelope carries a compressed automerge change, which is refused")]
    CompressedChange,
    /// The changes inside the envelope claim more rows (operations) than
    /// [`MAX_ENVELOPE_ROWS`]: a run-length bomb.
    #[error("envelope's changes claim more than {max} operations")]
    TooManyRows {
        /// The bound.
        max: u64,
    },
    /// The string columns of the changes inside the envelope expand to more than `max` bytes
    /// (a long map key repeated by a run).
    #[error("envelope's changes repeat strings to more than {max} bytes")]
    TooManyStringBytes {
        /// The bound.
        max: u64,
    },
    /// An item inside the body is not an automerge change (or a snapshot body is not a document).
    #[error("record body does not hold automerge {0}")]
    NotAutomerge(&'static str),
    /// At start-up, the stored log skipped a sequence number of an author.
    #[error(
        "stored log skips from sequence number {expected} to {got} for key {fp}",
        fp = .author.fingerprint()
    )]
    RestoreGap {
        /// The author.
        author: PublicKey,
        /// The sequence number expected next.
        expected: u64,
        /// The sequence number found.
        got: u64,
    },
}

pub(super) type Reader<'a> = crate::codec::Reader<'a, EnvelopeError>;

impl crate::codec::Truncation for EnvelopeError {
    fn truncated() -> Self {
        EnvelopeError::Truncated
    }
}

/// Checks the change chunks of one envelope, in order: each an uncompressed automerge change
/// chunk (see [`chunk::change_claims`]), all together within [`MAX_ENVELOPE_ROWS`] and
/// [`chunk::MAX_STRING_BYTES`]. Runs before automerge parses anything and allocates nothing.
#[derive(Debug)]
struct ChangeCheck {
    left: chunk::Bounds,
}

impl ChangeCheck {
    fn new() -> Self {
        ChangeCheck {
            left: chunk::Bounds {
                rows: MAX_ENVELOPE_ROWS,
                string_bytes: chunk::MAX_STRING_BYTES,
            },
        }
    }

    fn check(&mut self, bytes: &[u8]) -> Result<(), EnvelopeError> {
        if bytes.len() < MIN_CHUNK_LEN || bytes[..4] != chunk::MAGIC {
            return Err(EnvelopeError::NotAutomerge("changes"));
        }
        match bytes[8] {
            chunk::CHUNK_CHANGE => {}
            chunk::CHUNK_COMPRESSED_CHANGE => return Err(EnvelopeError::CompressedChange),
            _ => return Err(EnvelopeError::NotAutomerge("changes")),
        }
        let claims = chunk::change_claims(bytes, self.left).map_err(|e| match e {
            ChunkError::Malformed(_) => EnvelopeError::NotAutomerge("changes"),
            ChunkError::CompressedColumns => EnvelopeError::CompressedChange,
            ChunkError::TooManyRows { .. } => EnvelopeError::TooManyRows {
                max: MAX_ENVELOPE_ROWS,
            },
            ChunkError::TooManyStringBytes { .. } => EnvelopeError::TooManyStringBytes {
                max: chunk::MAX_STRING_BYTES,
            },
        })?;
        // Within the bounds left, so these never underflow.
        self.left.rows -= claims.rows;
        self.left.string_bytes -= claims.string_bytes;
        Ok(())
    }
}

/// First plaintext byte of a compressed body: `0x01` then a raw deflate stream. An
/// uncompressed change list starts with the high byte of its count (at most 4 096), which is
/// always `0x00`, and a document with automerge's magic `0x85`, so the tag is unambiguous.
const PLAINTEXT_DEFLATE: u8 = 0x01;

/// Bodies shorter than this are sealed uncompressed.
const COMPRESS_MIN_BYTES: usize = 512;

/// The plaintext to seal: `body` deflated behind [`PLAINTEXT_DEFLATE`] when it is long enough
/// and that makes it smaller, else `body` itself. Compressing before encrypting is what makes
/// sync and storage small: ciphertext does not compress. Each body holds one author's own
/// changes to its own organisation's records, so no outsider's chosen text shares a body with
/// anyone else's (no compression oracle across organisations).
pub(super) fn compress_body(body: zeroize::Zeroizing<Vec<u8>>) -> zeroize::Zeroizing<Vec<u8>> {
    use std::io::Write as _;
    if body.len() < COMPRESS_MIN_BYTES {
        return body;
    }
    // Reserved up front so the buffer is not reallocated (which would leave plaintext copies
    // behind that are not zeroized).
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(body.len() + 64));
    out.push(PLAINTEXT_DEFLATE);
    let done = {
        let mut encoder =
            flate2::write::DeflateEncoder::new(&mut *out, flate2::Compression::default());
        encoder.write_all(&body).is_ok() && encoder.finish().is_ok()
    };
    if done && out.len() < body.len() {
        return out;
    }
    body
}

/// The body a decrypted plaintext carries: inflated if it is tagged [`PLAINTEXT_DEFLATE`],
/// with `cap` bytes as a hard limit (inflation stops one byte past it and the body is refused,
/// so a decompression bomb costs at most `cap`).
pub(super) fn expand_body(
    plaintext: zeroize::Zeroizing<Vec<u8>>,
    cap: usize,
) -> Result<zeroize::Zeroizing<Vec<u8>>, EnvelopeError> {
    use std::io::Read as _;
    if plaintext.first() != Some(&PLAINTEXT_DEFLATE) {
        return Ok(plaintext);
    }
    let mut out = zeroize::Zeroizing::new(Vec::new());
    flate2::read::DeflateDecoder::new(&plaintext[1..])
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| EnvelopeError::Malformed("compressed body is not valid deflate"))?;
    if out.len() > cap {
        return Err(EnvelopeError::TooLarge {
            len: out.len() as u64,
            max: cap as u64,
        });
    }
    Ok(out)
}

/// Encodes the body: the change list (`u32 N`, then `N × (u32 len, bytes)`), then, when
/// `builds_on` is not empty, `u16 M` and `M × (32-byte author key, u64 sequence number)` in
/// ascending key order.
fn encode_body<C: AsRef<[u8]>>(
    changes: &[C],
    builds_on: &BuildsOn,
) -> Result<Vec<u8>, EnvelopeError> {
    if changes.is_empty() {
        return Err(EnvelopeError::Malformed(
            "an envelope carries at least one change",
        ));
    }
    let count = u32::try_from(changes.len())
        .ok()
        .filter(|n| *n <= MAX_CHANGES_PER_ENVELOPE)
        .ok_or(EnvelopeError::TooLarge {
            len: changes.len() as u64,
            max: u64::from(MAX_CHANGES_PER_ENVELOPE),
        })?;
    let entries = vector_len(builds_on, MAX_BUILDS_ON)?;
    let body_max = (MAX_ENVELOPE_BODY as usize) - TAG_LEN;
    let mut total: usize = 4;
    if entries > 0 {
        total += 2 + usize::from(entries) * BUILDS_ON_ENTRY_LEN;
    }
    let mut check = ChangeCheck::new();
    for change in changes {
        let change = change.as_ref();
        check.check(change)?;
        total = total.saturating_add(4).saturating_add(change.len());
    }
    if total > body_max {
        return Err(EnvelopeError::TooLarge {
            len: total as u64,
            max: body_max as u64,
        });
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&count.to_be_bytes());
    for change in changes {
        let change = change.as_ref();
        // Bounded by MAX_ENVELOPE_BODY above, so the length fits in a u32.
        out.extend_from_slice(&(change.len() as u32).to_be_bytes());
        out.extend_from_slice(change);
    }
    if entries > 0 {
        out.extend_from_slice(&entries.to_be_bytes());
        for (author, seq) in builds_on {
            out.extend_from_slice(author.as_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
        }
    }
    Ok(out)
}

/// The number of entries of a version vector (per author key, a sequence number) that is
/// sealed into a record, checked: at most `max` entries, every number in 1 ..= [`MAX_SEQ`].
pub(super) fn vector_len(
    vector: &BTreeMap<PublicKey, u64>,
    max: u16,
) -> Result<u16, EnvelopeError> {
    let n = u16::try_from(vector.len())
        .ok()
        .filter(|n| *n <= max)
        .ok_or(EnvelopeError::TooLarge {
            len: vector.len() as u64,
            max: u64::from(max),
        })?;
    if vector.values().any(|seq| *seq == 0 || *seq > MAX_SEQ) {
        return Err(EnvelopeError::Malformed("sequence number out of range"));
    }
    Ok(n)
}

/// Bytes of one builds-on entry: author key and sequence number.
const BUILDS_ON_ENTRY_LEN: usize = 32 + 8;

/// Decodes the body (see [`encode_body`]), checking every length against what is left before
/// copying.
fn decode_body(plaintext: &[u8]) -> Result<Opened, EnvelopeError> {
    let mut r = Reader::new(plaintext);
    let count = r.u32()?;
    if count == 0 {
        return Err(EnvelopeError::Malformed(
            "an envelope carries at least one change",
        ));
    }
    if count > MAX_CHANGES_PER_ENVELOPE {
        return Err(EnvelopeError::TooLarge {
            len: u64::from(count),
            max: u64::from(MAX_CHANGES_PER_ENVELOPE),
        });
    }
    let mut changes = Vec::new();
    let mut check = ChangeCheck::new();
    for _ in 0..count {
        let len = r.u32()? as usize;
        if len > r.remaining() {
            return Err(EnvelopeError::Malformed("change length exceeds the body"));
        }
        let change = r.take(len)?;
        check.check(change)?;
        changes.push(change.to_vec());
    }
    let mut builds_on = BuildsOn::new();
    if r.remaining() != 0 {
        let entries = r.u16()?;
        if entries == 0 || entries > MAX_BUILDS_ON {
            return Err(EnvelopeError::Malformed(
                "builds-on list is empty or too long",
            ));
        }
        if r.remaining() != usize::from(entries) * BUILDS_ON_ENTRY_LEN {
            return Err(EnvelopeError::Malformed(
                "builds-on list does not fill the rest of the body",
            ));
        }
        for _ in 0..entries {
            let author = PublicKey::from_bytes(r.array()?);
            let seq = r.u64()?;
            if seq == 0 || seq > MAX_SEQ {
                return Err(EnvelopeError::Malformed("sequence number out of range"));
            }
            if builds_on
                .last_key_value()
                .is_some_and(|(last, _)| *last >= author)
            {
                return Err(EnvelopeError::Malformed(
                    "builds-on authors are not in ascending order",
                ));
            }
            builds_on.insert(author, seq);
        }
    }
    Ok(Opened { changes, builds_on })
}

/// Signs `domain || signed` and appends the signature to `signed`.
pub(super) fn append_signature(signer: &SecretKey, domain: &[u8], signed: &mut Vec<u8>) {
    let sig = signer.sign(&[domain, signed.as_slice()].concat());
    signed.extend_from_slice(sig.as_bytes());
}

/// Verifies the trailing signature of `bytes` over `domain || bytes[..len - 64]`.
pub(super) fn verify_trailer(
    key: &PublicKey,
    domain: &[u8],
    bytes: &[u8],
) -> Result<(), EnvelopeError> {
    let split = bytes
        .len()
        .checked_sub(SIGNATURE_LEN)
        .ok_or(EnvelopeError::Truncated)?;
    let (signed, sig) = bytes.split_at(split);
    let mut sig_bytes = [0; SIGNATURE_LEN];
    sig_bytes.copy_from_slice(sig);
    key.verify(
        &[domain, signed].concat(),
        &Signature::from_bytes(sig_bytes),
    )
    .map_err(|_| EnvelopeError::BadSignature)
}

/// A signed, encrypted batch of automerge changes by one author for one partition: the unit of
/// storage and replication (format v1, see `docs/formats.md`).
///
/// Holding an `Envelope` means its bytes parsed; it does not mean its signature was checked
/// ([`Envelope::verify_signature`], or [`Admission::admit`](super::Admission::admit) which does
/// everything).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    bytes: Vec<u8>,
    network: NetworkId,
    partition: OrgId,
    author: PublicKey,
    seq: u64,
    epoch: Epoch,
    nonce: [u8; NONCE_LEN],
}

impl Envelope {
    /// Seals `changes` (uncompressed automerge change chunks, `Change::raw_bytes()`, together
    /// within [`MAX_ENVELOPE_ROWS`]) into an envelope signed by `author` with sequence number `seq` (1, 2, 3... per author key; the
    /// caller must store an envelope before sending it and never reuse a number, or peers will
    /// see equivocation).
    pub fn seal<C: AsRef<[u8]>>(
        network: NetworkId,
        partition: OrgId,
        author: &SecretKey,
        seq: u64,
        epoch: Epoch,
        key: &SymmetricKey,
        changes: &[C],
    ) -> Result<Envelope, EnvelopeError> {
        if seq == 0 || seq > MAX_SEQ {
            return Err(EnvelopeError::Malformed("sequence number out of range"));
        }
        Self::seal_building_on(
            network,
            partition,
            author,
            seq,
            epoch,
            key,
            changes,
            &BuildsOn::new(),
        )
    }

    /// [`Envelope::seal`] for a partition other keys write too (the organisation's other
    /// devices): `builds_on` names, per other author, the highest sequence number of its
    /// envelopes whose changes are in the document the new changes were made on. A revoked
    /// key's envelopes named there stay accepted (see
    /// [`Authority::may_write_later`](super::Authority::may_write_later)).
    #[allow(clippy::too_many_arguments)]
    pub fn seal_building_on<C: AsRef<[u8]>>(
        network: NetworkId,
        partition: OrgId,
        author: &SecretKey,
        seq: u64,
        epoch: Epoch,
        key: &SymmetricKey,
        changes: &[C],
        builds_on: &BuildsOn,
    ) -> Result<Envelope, EnvelopeError> {
        if seq == 0 || seq > MAX_SEQ {
            return Err(EnvelopeError::Malformed("sequence number out of range"));
        }
        if builds_on.contains_key(&author.public()) {
            return Err(EnvelopeError::Malformed(
                "an envelope cannot build on its own author",
            ));
        }
        let plaintext = compress_body(zeroize::Zeroizing::new(encode_body(changes, builds_on)?));
        Ok(Self::seal_plaintext(
            network, partition, author, seq, epoch, key, &plaintext,
        ))
    }

    /// Seals an encoded change list as it is. `plaintext` must fit [`MAX_ENVELOPE_BODY`] with
    /// the tag, as `encode_body` ensures (tests use this to play a writer that skips it).
    fn seal_plaintext(
        network: NetworkId,
        partition: OrgId,
        author: &SecretKey,
        seq: u64,
        epoch: Epoch,
        key: &SymmetricKey,
        plaintext: &[u8],
    ) -> Envelope {
        let body_len = (plaintext.len() + TAG_LEN) as u32;
        let nonce = random_nonce();
        let author_key = author.public();
        let mut bytes = Vec::with_capacity(ENVELOPE_HEADER_LEN + body_len as usize + SIGNATURE_LEN);
        bytes.push(FORMAT_VERSION);
        bytes.push(RECORD_CHANGES);
        bytes.extend_from_slice(network.as_bytes());
        bytes.extend_from_slice(partition.as_bytes());
        bytes.extend_from_slice(author_key.as_bytes());
        bytes.extend_from_slice(&seq.to_be_bytes());
        bytes.extend_from_slice(&epoch.0.to_be_bytes());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&body_len.to_be_bytes());
        debug_assert_eq!(bytes.len(), ENVELOPE_HEADER_LEN);
        let ciphertext = seal_with_nonce(key, &nonce, &bytes, plaintext);
        bytes.extend_from_slice(&ciphertext);
        append_signature(author, ENVELOPE_SIG_DOMAIN, &mut bytes);
        Envelope {
            bytes,
            network,
            partition,
            author: author_key,
            seq,
            epoch,
            nonce,
        }
    }

    /// [`Envelope::seal`] without checking the changes: what a hostile writer can send.
    #[cfg(test)]
    pub(crate) fn seal_unchecked(
        network: NetworkId,
        partition: OrgId,
        author: &SecretKey,
        seq: u64,
        epoch: Epoch,
        key: &SymmetricKey,
        changes: &[Vec<u8>],
    ) -> Envelope {
        let mut plaintext = (changes.len() as u32).to_be_bytes().to_vec();
        for change in changes {
            plaintext.extend_from_slice(&(change.len() as u32).to_be_bytes());
            plaintext.extend_from_slice(change);
        }
        Self::seal_plaintext(network, partition, author, seq, epoch, key, &plaintext)
    }

    /// Parses an envelope. Checks the layout and every bound before copying anything, and
    /// refuses trailing bytes; does not check the signature or decrypt.
    pub fn from_bytes(input: &[u8]) -> Result<Envelope, EnvelopeError> {
        let mut r = Reader::new(input);
        let version = r.u8()?;
        if version != FORMAT_VERSION {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        if r.u8()? != RECORD_CHANGES {
            return Err(EnvelopeError::Malformed("not a change envelope"));
        }
        let network = NetworkId::from_bytes(r.array()?);
        let partition = OrgId::from_bytes(r.array()?);
        let author = PublicKey::from_bytes(r.array()?);
        let seq = r.u64()?;
        let epoch = Epoch(r.u32()?);
        let nonce = r.array()?;
        let body_len = r.u32()?;
        if body_len > MAX_ENVELOPE_BODY {
            return Err(EnvelopeError::TooLarge {
                len: u64::from(body_len),
                max: u64::from(MAX_ENVELOPE_BODY),
            });
        }
        if (body_len as usize) < TAG_LEN + 4 {
            return Err(EnvelopeError::Malformed("body is too short"));
        }
        if seq == 0 || seq > MAX_SEQ {
            return Err(EnvelopeError::Malformed("sequence number out of range"));
        }
        let expected = ENVELOPE_HEADER_LEN + body_len as usize + SIGNATURE_LEN;
        if input.len() < expected {
            return Err(EnvelopeError::Truncated);
        }
        if input.len() > expected {
            return Err(EnvelopeError::Malformed(
                "trailing bytes after the signature",
            ));
        }
        Ok(Envelope {
            bytes: input.to_vec(),
            network,
            partition,
            author,
            seq,
            epoch,
            nonce,
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

    /// The encoded bytes, without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Length of the encoding in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: an envelope has at least a header and a signature.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The network this envelope belongs to.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// The organisation whose records the changes touch.
    pub fn partition(&self) -> OrgId {
        self.partition
    }

    /// The author key that signed the envelope.
    pub fn author(&self) -> PublicKey {
        self.author
    }

    /// The author's sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The epoch whose key sealed the body.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// SHA-256 of the full encoding (signature included): identifies the envelope and detects
    /// equivocation. Strict signature checking makes it impossible for anyone but the author
    /// to produce a second valid encoding of the same content.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(&self.bytes).into()
    }

    /// Checks the author's signature over `"puente/envelope/v1" || header || ciphertext`.
    pub fn verify_signature(&self) -> Result<(), EnvelopeError> {
        verify_trailer(&self.author, ENVELOPE_SIG_DOMAIN, &self.bytes)
    }

    /// Decrypts the body and decodes the change list, checking every change is an uncompressed
    /// automerge change chunk and that together they claim at most [`MAX_ENVELOPE_ROWS`] rows
    /// and [`chunk::MAX_STRING_BYTES`] of strings. Does not check the signature.
    pub fn open(&self, keys: &impl EpochKeys) -> Result<Vec<Vec<u8>>, EnvelopeError> {
        self.open_body(keys).map(|opened| opened.changes)
    }

    /// [`Envelope::open`], with the other authors' envelopes the changes build on. An envelope
    /// that names its own author there is malformed.
    pub fn open_body(&self, keys: &impl EpochKeys) -> Result<Opened, EnvelopeError> {
        let candidates = keys.keys(self.epoch);
        if candidates.is_empty() {
            return Err(EnvelopeError::UnknownEpoch(self.epoch));
        }
        let end = self.bytes.len() - SIGNATURE_LEN;
        let plaintext = candidates
            .into_iter()
            .find_map(|key| {
                open_with_nonce(
                    key,
                    &self.nonce,
                    &self.bytes[..ENVELOPE_HEADER_LEN],
                    &self.bytes[ENVELOPE_HEADER_LEN..end],
                )
                .ok()
            })
            .ok_or(EnvelopeError::Undecryptable)?;
        let list = expand_body(plaintext, MAX_ENVELOPE_BODY as usize)?;
        let opened = decode_body(&list)?;
        if opened.builds_on.contains_key(&self.author) {
            return Err(EnvelopeError::Malformed(
                "an envelope cannot build on its own author",
            ));
        }
        Ok(opened)
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("partition", &self.partition)
            .field("author", &self.author)
            .field("seq", &self.seq)
            .field("epoch", &self.epoch)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Per other author of the same partition, the highest sequence number of its envelopes that
/// an envelope's changes build on.
pub type BuildsOn = BTreeMap<PublicKey, u64>;

/// A decrypted envelope body.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// The automerge changes: uncompressed change chunks, in order.
    pub changes: Vec<Vec<u8>>,
    /// Other authors' envelopes these changes build on.
    pub builds_on: BuildsOn,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("changes", &self.changes.len())
            .field("builds_on", &self.builds_on)
            .finish()
    }
}

#[cfg(test)]
mod tests;
