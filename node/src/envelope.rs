//! Signed, encrypted change envelopes and partition snapshots (formats v1, see
//! `docs/formats.md`), and [`Admission`], the state machine that decides which envelopes may be
//! applied and in what order.
//!
//! This module is sans-I/O: it owns the byte layouts, their bounds, the signature and AEAD
//! checks and the per-author sequence bookkeeping. It must not touch the disk or the network,
//! read the clock, or interpret automerge changes beyond their layout as `crate::chunk` reads it
//! (chunk header, column metadata, run lengths: enough to refuse compressed changes and
//! run-length bombs before automerge parses them; the replica decides whether the changes really
//! only touch the envelope's partition). Every length and count read from input is checked
//! against a bound before anything is allocated, and no input can make it panic.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_DNSSEC;
use puente_crdt::OrgId;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::chunk::{self, ChunkError};
use crate::crypto::labels::{ENVELOPE_SIG_DOMAIN, SNAPSHOT_SIG_DOMAIN};
use crate::crypto::seal::{
    NONCE_LEN, SymmetricKey, TAG_LEN, fill_random, open_with_nonce, random_nonce, seal_with_nonce,
};
use crate::identity::{PublicKey, SecretKey, Signature};

/// Version byte of envelope and snapshot format v1.
pub const FORMAT_VERSION: u8 = 1;

/// Record type byte of a change envelope.
pub const RECORD_CHANGES: u8 = 1;

/// Record type byte of a snapshot.
pub const RECORD_SNAPSHOT: u8 = 2;

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

/// Largest snapshot ciphertext: 64 MiB is far above the uncompressed size of a network-wide
/// document of many thousands of offers, and still allocatable on a small device.
pub const MAX_SNAPSHOT_BODY: u32 = 64 * 1024 * 1024;

/// Most authors a snapshot's version vector may list: more keys than a network of hundreds of
/// organisations will ever have, and bounded so the header stays under 200 KiB.
pub const MAX_SNAPSHOT_COVERS: u16 = 4096;

/// Most heads a snapshot may list: heads are concurrent branches, a handful in practice.
pub const MAX_SNAPSHOT_HEADS: u16 = 1024;

/// Highest valid sequence number: one below `u64::MAX`, so that "the next expected number"
/// always exists and never saturates.
pub const MAX_SEQ: u64 = u64::MAX - 1;

/// How far ahead of the next expected sequence number an envelope may be buffered: 1024 is a
/// generous reorder window for a sync protocol that sends in order per author.
pub const MAX_PENDING_AHEAD: u64 = 1024;

/// Most envelope bytes buffered for one author while waiting for a gap to fill: two maximal
/// envelopes, so one author cannot take the whole buffer.
pub const MAX_PENDING_BYTES_PER_AUTHOR: usize = 2 * MAX_ENVELOPE_BODY as usize;

/// Most envelope bytes buffered in total (the decrypted changes kept alongside roughly double
/// the memory): 16 MiB bounds what out-of-order peers can make a node hold.
pub const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;

/// Most other authors an envelope may say it builds on: the other devices of its organisation
/// whose envelopes are in the partition. An organisation has a handful of devices.
pub const MAX_BUILDS_ON: u16 = 256;

/// Shortest automerge chunk: magic (4), checksum (4), type (1), and a one-byte LEB128 length.
const MIN_CHUNK_LEN: usize = 10;

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

/// Why an envelope or snapshot was refused. Every variant leaves [`Admission`] unchanged.
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

/// Identifies one puente network (a set of partner organisations sharing one document): 16
/// random bytes, printed as 26 characters of lowercase base32 (`0-9a-v`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetworkId([u8; 16]);

impl NetworkId {
    /// Number of raw bytes.
    pub const BYTES: usize = 16;

    /// A fresh random id, when a network is founded.
    pub fn generate() -> Self {
        let mut bytes = [0; 16];
        fill_random(&mut bytes);
        Self(bytes)
    }

    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_DNSSEC.encode(&self.0))
    }
}

impl fmt::Debug for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetworkId({self})")
    }
}

/// Why a network id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkIdError {
    /// Not 26 characters of canonical base32.
    #[error("network id `{0}` is not valid: expected 26 characters of 0-9 and a-v")]
    Malformed(String),
}

impl FromStr for NetworkId {
    type Err = NetworkIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || NetworkIdError::Malformed(s.chars().take(64).collect());
        if s.len() != BASE32_DNSSEC.encode_len(16) {
            return Err(err());
        }
        let lower = s.to_ascii_lowercase();
        let bytes = BASE32_DNSSEC.decode(lower.as_bytes()).map_err(|_| err())?;
        let arr: [u8; 16] = bytes.try_into().map_err(|_| err())?;
        if BASE32_DNSSEC.encode(&arr) != lower {
            return Err(err());
        }
        Ok(Self(arr))
    }
}

impl Serialize for NetworkId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NetworkId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A key epoch: epoch keys are replaced (for example after a revocation) and numbered upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub u32);

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A group key together with the epoch it belongs to.
#[derive(Debug, Clone)]
pub struct EpochKey {
    epoch: Epoch,
    key: SymmetricKey,
}

impl EpochKey {
    /// Pairs a key with its epoch.
    pub fn new(epoch: Epoch, key: SymmetricKey) -> Self {
        Self { epoch, key }
    }

    /// A fresh random key for `epoch`.
    pub fn generate(epoch: Epoch) -> Self {
        Self::new(epoch, SymmetricKey::generate())
    }

    /// The epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The key.
    pub fn key(&self) -> &SymmetricKey {
        &self.key
    }
}

/// Finds the key of an epoch: the node's view of the epoch keys it holds.
pub trait EpochKeys {
    /// The key to seal under for `epoch` (the current one when several exist), if held.
    fn key(&self, epoch: Epoch) -> Option<&SymmetricKey>;

    /// Every key held for `epoch`, the preferred one first. Two keys can share an epoch number
    /// (concurrent rotations, a burned rotation): a body is opened with whichever decrypts it.
    fn keys(&self, epoch: Epoch) -> Vec<&SymmetricKey> {
        self.key(epoch).into_iter().collect()
    }
}

impl EpochKeys for EpochKey {
    fn key(&self, epoch: Epoch) -> Option<&SymmetricKey> {
        (epoch == self.epoch).then_some(&self.key)
    }
}

/// The epoch keys a node holds: for each epoch, the preferred key first and any others that
/// share its number.
#[derive(Debug, Clone, Default)]
pub struct EpochKeyring {
    keys: BTreeMap<Epoch, Vec<SymmetricKey>>,
}

impl EpochKeyring {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key of an epoch after the ones held (nothing if it is already held).
    pub fn insert(&mut self, key: EpochKey) {
        let list = self.keys.entry(key.epoch).or_default();
        if !list.iter().any(|k| k.as_bytes() == key.key.as_bytes()) {
            list.push(key.key);
        }
    }

    /// Adds a key of an epoch as the one to seal under (moving it first if already held).
    pub fn insert_preferred(&mut self, key: EpochKey) {
        let list = self.keys.entry(key.epoch).or_default();
        list.retain(|k| k.as_bytes() != key.key.as_bytes());
        list.insert(0, key.key);
    }

    /// The newest epoch and its preferred key.
    pub fn latest(&self) -> Option<EpochKey> {
        self.keys
            .iter()
            .next_back()
            .and_then(|(epoch, keys)| keys.first().map(|k| EpochKey::new(*epoch, k.clone())))
    }

    /// The epochs held, oldest first.
    pub fn epochs(&self) -> impl Iterator<Item = Epoch> + '_ {
        self.keys.keys().copied()
    }

    /// Every key held, epoch by epoch, preferred first (for storing the ring).
    pub fn all(&self) -> impl Iterator<Item = EpochKey> + '_ {
        self.keys
            .iter()
            .flat_map(|(epoch, keys)| keys.iter().map(move |k| EpochKey::new(*epoch, k.clone())))
    }
}

impl EpochKeys for EpochKeyring {
    fn key(&self, epoch: Epoch) -> Option<&SymmetricKey> {
        self.keys.get(&epoch).and_then(|keys| keys.first())
    }

    fn keys(&self, epoch: Epoch) -> Vec<&SymmetricKey> {
        self.keys
            .get(&epoch)
            .map(|keys| keys.iter().collect())
            .unwrap_or_default()
    }
}

/// Decides whether a key may write an organisation's records: the node's view of membership.
pub trait Authority {
    /// Whether `author` may write records of the organisation `partition` now.
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool;

    /// Whether `author`'s envelope number `seq` for `partition` may be accepted: a revoked key
    /// is still accepted up to the cut its revocation names. By default, [`Self::may_write`].
    fn may_write_seq(&self, author: &PublicKey, partition: &OrgId, seq: u64) -> bool {
        let _ = seq;
        self.may_write(author, partition)
    }

    /// Whether an envelope of `author` for `partition` that [`Self::may_write_seq`] refuses now
    /// may become acceptable later: a revoked key's envelope beyond its limit waits (bounded,
    /// never applied) in case a still-valid key's change turns out to build on it. By default,
    /// never.
    fn may_write_later(&self, author: &PublicKey, partition: &OrgId) -> bool {
        let _ = (author, partition);
        false
    }
}

impl<F: Fn(&PublicKey, &OrgId) -> bool> Authority for F {
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool {
        self(author, partition)
    }
}

type Reader<'a> = crate::codec::Reader<'a, EnvelopeError>;

impl crate::codec::Truncation for EnvelopeError {
    fn truncated() -> Self {
        EnvelopeError::Truncated
    }
}

/// Checks the change chunks of one envelope, in order: each an uncompressed automerge change
/// chunk (see [`crate::chunk::change_claims`]), all together within [`MAX_ENVELOPE_ROWS`] and
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
fn compress_body(body: zeroize::Zeroizing<Vec<u8>>) -> zeroize::Zeroizing<Vec<u8>> {
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
fn expand_body(
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
fn vector_len(vector: &BTreeMap<PublicKey, u64>, max: u16) -> Result<u16, EnvelopeError> {
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
fn append_signature(signer: &SecretKey, domain: &[u8], signed: &mut Vec<u8>) {
    let sig = signer.sign(&[domain, signed.as_slice()].concat());
    signed.extend_from_slice(sig.as_bytes());
}

/// Verifies the trailing signature of `bytes` over `domain || bytes[..len - 64]`.
fn verify_trailer(key: &PublicKey, domain: &[u8], bytes: &[u8]) -> Result<(), EnvelopeError> {
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
/// ([`Envelope::verify_signature`], or [`Admission::admit`] which does everything).
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
    /// key's envelopes named there stay accepted (see [`Authority::may_write_later`]).
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
        let network = NetworkId(r.array()?);
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

/// An envelope accepted by [`Admission`] (to append to the stored log) with its decrypted
/// body, ready to apply.
pub type Accepted = (Envelope, Opened);

/// What [`Admission::admit`] decided.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Admitted {
    /// Apply these envelopes, in this order: the admitted one and any buffered successors it
    /// unblocked. Admission already counts them as accepted.
    Apply(Vec<Accepted>),
    /// Already accepted (or already buffered) with identical bytes: nothing to do.
    Duplicate,
    /// Buffered until the author's envelope `expected_seq` arrives.
    Waiting {
        /// The author.
        author: PublicKey,
        /// The sequence number needed next.
        expected_seq: u64,
    },
}

/// Per-author admission state.
#[derive(Debug, Default)]
struct AuthorState {
    /// Sequence numbers up to `base` were accepted through a snapshot, without their digests.
    base: u64,
    /// Digest of every envelope accepted one by one: `digests[i]` is sequence number
    /// `base + i + 1`, so the next expected sequence number is `base + digests.len() + 1`.
    digests: Vec<[u8; 32]>,
    /// Verified, decrypted envelopes waiting for a gap to fill (all greater than the next
    /// expected number) or for a revoked author's limit to rise (from the next expected number
    /// on), by sequence number.
    pending: BTreeMap<u64, Accepted>,
    /// Encoded bytes of `pending`.
    pending_bytes: usize,
}

impl AuthorState {
    fn next_seq(&self) -> u64 {
        // Accepted numbers never exceed MAX_SEQ, so this never overflows; saturate anyway.
        self.base
            .saturating_add(self.digests.len() as u64)
            .saturating_add(1)
    }
}

/// Decides which envelopes may be applied: network, signature, authority, per-author sequence
/// order and equivocation. Sans-I/O; rebuild it at start-up with [`Admission::restore`].
#[derive(Debug)]
pub struct Admission {
    network: NetworkId,
    authors: HashMap<PublicKey, AuthorState>,
    pending_bytes: usize,
}

impl Admission {
    /// Nothing accepted yet.
    pub fn new(network: NetworkId) -> Self {
        Self {
            network,
            authors: HashMap::new(),
            pending_bytes: 0,
        }
    }

    /// The network whose envelopes this admits.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// Records an envelope read back from the local log at start-up, without checking its
    /// signature or decrypting it again (the store authenticates what it returns). Envelopes
    /// must be restored in log order (calling [`Admission::fast_forward`] with a stored
    /// snapshot's cover at the log index it was stored at); a repeat is a no-op.
    pub fn restore(&mut self, env: &Envelope) -> Result<(), EnvelopeError> {
        if env.network != self.network {
            return Err(EnvelopeError::WrongNetwork {
                expected: self.network,
                got: env.network,
            });
        }
        let next = self.next_seq(&env.author);
        let digest = env.digest();
        if env.seq < next {
            return self.check_duplicate(env, &digest).map(|_| ());
        }
        if env.seq > next {
            return Err(EnvelopeError::RestoreGap {
                author: env.author,
                expected: next,
                got: env.seq,
            });
        }
        self.authors
            .entry(env.author)
            .or_default()
            .digests
            .push(digest);
        Ok(())
    }

    /// Decides what to do with an envelope from a peer. Checks, in order: network, signature,
    /// `authority.may_write(author, partition)`, then the sequence number: an old number with
    /// the same bytes is a [`Admitted::Duplicate`], with other bytes an
    /// [`EnvelopeError::Equivocation`]; a number ahead is decrypted and buffered (bounded);
    /// the next number is decrypted, accepted, and releases buffered successors.
    ///
    /// An error never changes the state. A buffered successor whose author has meanwhile lost
    /// write access is dropped with the rest of that author's buffer (it was never accepted; a
    /// resend gets the `NotAuthorized` error).
    pub fn admit(
        &mut self,
        env: Envelope,
        authority: &impl Authority,
        keys: &impl EpochKeys,
    ) -> Result<Admitted, EnvelopeError> {
        if env.network != self.network {
            return Err(EnvelopeError::WrongNetwork {
                expected: self.network,
                got: env.network,
            });
        }
        env.verify_signature()?;
        // A revoked key's envelope beyond its current limit waits in the buffer like one that
        // arrived early, and is released only if the limit rises to it.
        let beyond_limit = !authority.may_write_seq(&env.author, &env.partition, env.seq);
        if beyond_limit && !authority.may_write_later(&env.author, &env.partition) {
            return Err(EnvelopeError::NotAuthorized {
                author: env.author,
                partition: env.partition,
            });
        }
        let author = env.author;
        let seq = env.seq;
        let next = self.next_seq(&author);
        let digest = env.digest();
        if seq < next {
            return self.check_duplicate(&env, &digest);
        }
        if let Some(buffered) = self
            .authors
            .get(&author)
            .and_then(|state| state.pending.get(&seq))
        {
            return if buffered.0.digest() == digest {
                Ok(Admitted::Duplicate)
            } else {
                Err(EnvelopeError::Equivocation { author, seq })
            };
        }
        if seq > next || beyond_limit {
            if seq - next > MAX_PENDING_AHEAD {
                return Err(EnvelopeError::TooFarAhead {
                    author,
                    seq,
                    expected: next,
                });
            }
            let size = env.len();
            let author_bytes = self.authors.get(&author).map_or(0, |s| s.pending_bytes);
            if author_bytes + size > MAX_PENDING_BYTES_PER_AUTHOR
                || self.pending_bytes + size > MAX_PENDING_BYTES
            {
                return Err(EnvelopeError::PendingFull);
            }
            let opened = env.open_body(keys)?;
            let state = self.authors.entry(author).or_default();
            state.pending.insert(seq, (env, opened));
            state.pending_bytes += size;
            self.pending_bytes += size;
            return Ok(Admitted::Waiting {
                author,
                expected_seq: next,
            });
        }
        let opened = env.open_body(keys)?;
        self.authors.entry(author).or_default().digests.push(digest);
        let mut accepted = vec![(env, opened)];
        self.drain(author, authority, &mut accepted);
        Ok(Admitted::Apply(accepted))
    }

    /// Releases what `author`'s buffer holds that may be accepted now (after the author's
    /// limit rose: a still-valid key's change builds on envelopes of a revoked key), in order.
    pub fn release(&mut self, author: &PublicKey, authority: &impl Authority) -> Vec<Accepted> {
        let mut accepted = Vec::new();
        self.drain(*author, authority, &mut accepted);
        accepted
    }

    /// Moves buffered envelopes that follow the author's accepted ones into `accepted`, while
    /// the authority accepts them. One beyond a revoked author's limit stays buffered
    /// ([`Authority::may_write_later`]); one whose author may no longer write at all is
    /// dropped with the rest of that author's buffer.
    fn drain(
        &mut self,
        author: PublicKey,
        authority: &impl Authority,
        accepted: &mut Vec<Accepted>,
    ) {
        let Some(state) = self.authors.get_mut(&author) else {
            return;
        };
        while let Some(next) = state.pending.first_key_value().map(|(seq, _)| *seq) {
            if next != state.next_seq() {
                return;
            }
            let partition = state.pending[&next].0.partition;
            if !authority.may_write_seq(&author, &partition, next) {
                if !authority.may_write_later(&author, &partition) {
                    self.pending_bytes -= state.pending_bytes;
                    state.pending_bytes = 0;
                    state.pending.clear();
                }
                return;
            }
            let Some(buffered) = state.pending.remove(&next) else {
                return;
            };
            let size = buffered.0.len();
            state.pending_bytes -= size;
            self.pending_bytes -= size;
            state.digests.push(buffered.0.digest());
            accepted.push(buffered);
        }
    }

    /// Records that a verified snapshot (see [`Snapshot::verify`]) includes the envelopes in
    /// `covers`, for a node that catches up from the snapshot instead of the envelopes. Authors
    /// move forward only (a cover behind what is already accepted changes nothing); buffered
    /// envelopes the snapshot includes are dropped, and buffered successors it unblocks are
    /// returned to apply, in order.
    ///
    /// The digests of skipped envelopes are unknown, so an envelope with a sequence number the
    /// snapshot covers is from then on treated as a duplicate: it is never applied, but a
    /// conflicting one is no longer detected as equivocation.
    pub fn fast_forward(
        &mut self,
        covers: &BTreeMap<PublicKey, u64>,
        authority: &impl Authority,
    ) -> Vec<Accepted> {
        let mut accepted = Vec::new();
        for (author, seq) in covers {
            let seq = (*seq).min(MAX_SEQ);
            let state = self.authors.entry(*author).or_default();
            if seq < state.next_seq() {
                continue;
            }
            state.base = seq;
            state.digests.clear();
            let stale: Vec<u64> = state.pending.range(..=seq).map(|(s, _)| *s).collect();
            for s in stale {
                if let Some(dropped) = state.pending.remove(&s) {
                    state.pending_bytes -= dropped.0.len();
                    self.pending_bytes -= dropped.0.len();
                }
            }
            self.drain(*author, authority, &mut accepted);
        }
        accepted
    }

    /// Compares an envelope with an already accepted one of the same author and number.
    fn check_duplicate(
        &self,
        env: &Envelope,
        digest: &[u8; 32],
    ) -> Result<Admitted, EnvelopeError> {
        let skipped = self
            .authors
            .get(&env.author)
            .is_some_and(|state| env.seq <= state.base);
        match self.digest_of(&env.author, env.seq) {
            _ if skipped => Ok(Admitted::Duplicate),
            Some(known) if known == *digest => Ok(Admitted::Duplicate),
            _ => Err(EnvelopeError::Equivocation {
                author: env.author,
                seq: env.seq,
            }),
        }
    }

    /// Highest contiguous accepted sequence number per author (authors with none are absent).
    pub fn version_vector(&self) -> BTreeMap<PublicKey, u64> {
        self.authors
            .iter()
            .filter(|(_, state)| state.next_seq() > 1)
            .map(|(author, state)| (*author, state.next_seq() - 1))
            .collect()
    }

    /// The sequence number expected next from `author` (1 if none accepted yet); for the local
    /// key, the number to give its next envelope.
    pub fn next_seq(&self, author: &PublicKey) -> u64 {
        self.authors.get(author).map_or(1, AuthorState::next_seq)
    }

    /// Digest of the accepted envelope `seq` of `author`, to find the evidence of an
    /// equivocation in the stored log (`None` if not accepted, or skipped by a snapshot).
    pub fn digest_of(&self, author: &PublicKey, seq: u64) -> Option<[u8; 32]> {
        let state = self.authors.get(author)?;
        let index = usize::try_from(seq.checked_sub(state.base)?.checked_sub(1)?).ok()?;
        state.digests.get(index).copied()
    }

    /// Number of envelopes buffered while waiting for gaps to fill.
    pub fn pending_count(&self) -> usize {
        self.authors.values().map(|s| s.pending.len()).sum()
    }

    /// Encoded bytes buffered while waiting for gaps to fill.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }
}

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
        let network = NetworkId(r.array()?);
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
    use super::*;
    use automerge::transaction::Transactable as _;
    use proptest::prelude::*;

    const NET: NetworkId = NetworkId::from_bytes([3; 16]);

    /// A real, uncompressed automerge change that sets `key` to `value`.
    fn change(key: &str, value: &str) -> Vec<u8> {
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, key, value).expect("put");
        doc.get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec()
    }

    /// A well-formed change chunk with no operations and `len` bytes in all, cheap to make
    /// large.
    fn fake_change(len: usize) -> Vec<u8> {
        chunk::build::padded_change(len)
    }

    struct Fixture {
        alice: SecretKey,
        bob: SecretKey,
        key: EpochKey,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                alice: SecretKey::from_bytes(&[1; 32]),
                bob: SecretKey::from_bytes(&[2; 32]),
                key: EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[9; 32])),
            }
        }

        fn org(&self, who: &SecretKey) -> OrgId {
            crate::identity::org_id_for(&who.public())
        }

        fn env(&self, who: &SecretKey, seq: u64, value: &str) -> Envelope {
            Envelope::seal(
                NET,
                self.org(who),
                who,
                seq,
                self.key.epoch(),
                self.key.key(),
                &[change("k", value)],
            )
            .expect("seals")
        }

        /// Each key writes only its own organisation.
        fn authority(&self) -> impl Authority + '_ {
            move |author: &PublicKey, org: &OrgId| crate::identity::org_id_for(author) == *org
        }
    }

    fn applied(result: Result<Admitted, EnvelopeError>) -> Vec<u64> {
        match result {
            Ok(Admitted::Apply(list)) => list.iter().map(|a| a.0.seq()).collect(),
            other => panic!("expected Apply, got {other:?}"),
        }
    }

    /// Alice's envelopes count up to `cap` (a revoked key's limit) and wait beyond it.
    struct Capped<'a> {
        f: &'a Fixture,
        cap: u64,
    }

    impl Authority for Capped<'_> {
        fn may_write(&self, author: &PublicKey, org: &OrgId) -> bool {
            crate::identity::org_id_for(author) == *org
        }
        fn may_write_seq(&self, author: &PublicKey, org: &OrgId, seq: u64) -> bool {
            self.may_write(author, org) && (*author != self.f.alice.public() || seq <= self.cap)
        }
        fn may_write_later(&self, author: &PublicKey, org: &OrgId) -> bool {
            *author == self.f.alice.public() && self.may_write(author, org)
        }
    }

    #[test]
    fn builds_on_travels_sealed_and_old_bodies_still_open() {
        let f = Fixture::new();
        let builds_on = BuildsOn::from([(f.bob.public(), 7)]);
        let c = change("k", "v");
        let env = Envelope::seal_building_on(
            NET,
            f.org(&f.alice),
            &f.alice,
            1,
            f.key.epoch(),
            f.key.key(),
            std::slice::from_ref(&c),
            &builds_on,
        )
        .expect("seals");
        let opened = env.open_body(&f.key).expect("opens");
        assert_eq!(opened.builds_on, builds_on);
        assert_eq!(opened.changes, vec![c]);
        // Without the list, the body is exactly the change list (what older writers sealed).
        assert!(
            f.env(&f.alice, 1, "v")
                .open_body(&f.key)
                .expect("opens")
                .builds_on
                .is_empty()
        );
        // An author cannot name itself.
        assert!(
            Envelope::seal_building_on(
                NET,
                f.org(&f.alice),
                &f.alice,
                1,
                f.key.epoch(),
                f.key.key(),
                &[change("k", "v")],
                &BuildsOn::from([(f.alice.public(), 1)]),
            )
            .is_err()
        );
    }

    #[test]
    fn a_malformed_builds_on_list_is_refused() {
        let f = Fixture::new();
        let list = encode_body(&[change("k", "v")], &BuildsOn::new()).expect("encodes");
        let entry = |key: &SecretKey, seq: u64| {
            let mut e = key.public().as_bytes().to_vec();
            e.extend_from_slice(&seq.to_be_bytes());
            e
        };
        let with = |count: u16, entries: &[Vec<u8>], extra: &[u8]| {
            let mut b = list.clone();
            b.extend_from_slice(&count.to_be_bytes());
            for e in entries {
                b.extend_from_slice(e);
            }
            b.extend_from_slice(extra);
            decode_body(&b)
        };
        let (a, b) = (entry(&f.alice, 3), entry(&f.bob, 4));
        let sorted = if f.alice.public() < f.bob.public() {
            vec![a.clone(), b.clone()]
        } else {
            vec![b.clone(), a.clone()]
        };
        let unsorted: Vec<Vec<u8>> = sorted.iter().rev().cloned().collect();
        assert_eq!(with(2, &sorted, &[]).expect("decodes").builds_on.len(), 2);
        for (what, bad) in [
            ("unsorted", with(2, &unsorted, &[])),
            ("repeated", with(2, &[a.clone(), a.clone()], &[])),
            ("empty", with(0, &[], &[])),
            ("short", with(2, &sorted[..1], &[])),
            ("trailing", with(1, &sorted[..1], &[0])),
            ("zero seq", with(1, &[entry(&f.bob, 0)], &[])),
            ("too long", with(MAX_BUILDS_ON + 1, &[], &[])),
        ] {
            assert!(
                matches!(bad, Err(EnvelopeError::Malformed(_))),
                "{what}: {bad:?}"
            );
        }
        // A lone byte after the changes is not a list.
        let mut b = list.clone();
        b.push(1);
        assert!(decode_body(&b).is_err());
    }

    #[test]
    fn beyond_a_revoked_keys_limit_envelopes_wait_and_are_released_when_it_rises() {
        let f = Fixture::new();
        let mut adm = Admission::new(NET);
        let alice = f.alice.public();
        let at_2 = Capped { f: &f, cap: 2 };
        assert_eq!(
            applied(adm.admit(f.env(&f.alice, 1, "a"), &at_2, &f.key)),
            vec![1]
        );
        // 3 arrives before 2: buffered as usual; 2 releases nothing beyond the limit.
        assert!(matches!(
            adm.admit(f.env(&f.alice, 3, "c"), &at_2, &f.key),
            Ok(Admitted::Waiting { .. })
        ));
        assert_eq!(
            applied(adm.admit(f.env(&f.alice, 2, "b"), &at_2, &f.key)),
            vec![2]
        );
        // At the next expected number but beyond the limit: waits, never applied.
        assert!(matches!(
            adm.admit(f.env(&f.alice, 4, "d"), &at_2, &f.key),
            Ok(Admitted::Waiting { .. })
        ));
        assert_eq!(adm.next_seq(&alice), 3);
        assert_eq!(adm.pending_count(), 2);
        assert!(adm.release(&alice, &at_2).is_empty());
        // A different envelope for a waiting number is still equivocation.
        assert!(matches!(
            adm.admit(f.env(&f.alice, 3, "other"), &at_2, &f.key),
            Err(EnvelopeError::Equivocation { .. })
        ));
        // The limit rises to 3: only 3 is released.
        let at_3 = Capped { f: &f, cap: 3 };
        let released = adm.release(&alice, &at_3);
        assert_eq!(released.iter().map(|a| a.0.seq()).collect::<Vec<_>>(), [3]);
        assert_eq!(adm.next_seq(&alice), 4);
        assert_eq!(adm.pending_count(), 1);
        // A key that may never write again loses its buffer.
        let never = |_: &PublicKey, _: &OrgId| false;
        assert!(adm.release(&alice, &never).is_empty());
        assert_eq!(adm.pending_count(), 0);
        assert_eq!(adm.pending_bytes(), 0);
    }

    #[test]
    fn envelope_round_trip() {
        let f = Fixture::new();
        let changes = vec![change("a", "1"), change("b", "2")];
        let env = Envelope::seal(
            NET,
            f.org(&f.alice),
            &f.alice,
            7,
            Epoch(1),
            f.key.key(),
            &changes,
        )
        .expect("seals");
        let parsed = Envelope::from_bytes(env.as_bytes()).expect("parses");
        assert_eq!(parsed, env);
        assert_eq!(parsed.network(), NET);
        assert_eq!(parsed.partition(), f.org(&f.alice));
        assert_eq!(parsed.author(), f.alice.public());
        assert_eq!(parsed.seq(), 7);
        assert_eq!(parsed.epoch(), Epoch(1));
        assert_eq!(parsed.digest(), env.digest());
        assert_eq!(parsed.verify_signature(), Ok(()));
        assert_eq!(parsed.open(&f.key), Ok(changes));
        assert_eq!(
            env.len(),
            ENVELOPE_HEADER_LEN + 4 + (4 + change("a", "1").len()) * 2 + TAG_LEN + SIGNATURE_LEN
        );
        // The header layout is the documented one.
        assert_eq!(env.as_bytes()[0], 1);
        assert_eq!(env.as_bytes()[1], 1);
        assert_eq!(&env.as_bytes()[2..18], NET.as_bytes());
        assert_eq!(&env.as_bytes()[60..68], &7u64.to_be_bytes());
    }

    #[test]
    fn every_tampered_header_byte_is_caught() {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "x");
        for i in 0..env.len() {
            let mut bytes = env.to_bytes();
            bytes[i] ^= 0x10;
            let caught = match Envelope::from_bytes(&bytes) {
                Err(_) => true,
                Ok(parsed) => parsed.verify_signature().is_err() || parsed.open(&f.key).is_err(),
            };
            assert!(caught, "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn tampered_envelope_is_refused_by_admission() {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "x");
        let mut bytes = env.to_bytes();
        bytes[65] ^= 1; // inside the sequence number
        let tampered = Envelope::from_bytes(&bytes).expect("still parses");
        let mut adm = Admission::new(NET);
        assert_eq!(
            adm.admit(tampered, &f.authority(), &f.key).err(),
            Some(EnvelopeError::BadSignature)
        );
        assert_eq!(adm.next_seq(&f.alice.public()), 1);
    }

    #[test]
    fn ciphertext_swapped_between_envelopes_is_refused() {
        let f = Fixture::new();
        let a = f.env(&f.alice, 1, "one");
        let b = f.env(&f.alice, 2, "two");
        // Same lengths, so the bodies can be swapped.
        assert_eq!(a.len(), b.len());
        let mut bytes = a.to_bytes();
        let end = bytes.len() - SIGNATURE_LEN;
        bytes[ENVELOPE_HEADER_LEN..end].copy_from_slice(&b.as_bytes()[ENVELOPE_HEADER_LEN..end]);
        let swapped = Envelope::from_bytes(&bytes).expect("parses");
        assert_eq!(swapped.verify_signature(), Err(EnvelopeError::BadSignature));
        // Even the author re-signing the spliced bytes cannot make the AEAD accept them,
        // because the body is bound to its own header (nonce and sequence number).
        assert_eq!(swapped.open(&f.key), Err(EnvelopeError::Undecryptable));
    }

    #[test]
    fn wrong_or_unknown_epoch_key_is_refused() {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "x");
        let wrong = EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[8; 32]));
        assert_eq!(env.open(&wrong), Err(EnvelopeError::Undecryptable));
        let other_epoch = EpochKey::new(Epoch(2), f.key.key().clone());
        assert_eq!(
            env.open(&other_epoch),
            Err(EnvelopeError::UnknownEpoch(Epoch(1)))
        );
        let mut adm = Admission::new(NET);
        assert_eq!(
            adm.admit(env.clone(), &f.authority(), &wrong).err(),
            Some(EnvelopeError::Undecryptable)
        );
        assert_eq!(
            adm.admit(env.clone(), &f.authority(), &EpochKeyring::new())
                .err(),
            Some(EnvelopeError::UnknownEpoch(Epoch(1)))
        );
        assert!(adm.version_vector().is_empty());
        let mut keys = EpochKeyring::new();
        keys.insert(f.key.clone());
        assert_eq!(applied(adm.admit(env, &f.authority(), &keys)), vec![1]);
    }

    #[test]
    fn signature_by_another_key_is_refused() {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "x");
        // Replace the signature with Bob's signature over the same bytes.
        let mut bytes = env.to_bytes();
        let split = bytes.len() - SIGNATURE_LEN;
        let sig = f.bob.sign(&[ENVELOPE_SIG_DOMAIN, &bytes[..split]].concat());
        bytes[split..].copy_from_slice(sig.as_bytes());
        let forged = Envelope::from_bytes(&bytes).expect("parses");
        let mut adm = Admission::new(NET);
        assert_eq!(
            adm.admit(forged, &f.authority(), &f.key).err(),
            Some(EnvelopeError::BadSignature)
        );
        // And a valid signature over other bytes is no better.
        let mut bytes = env.to_bytes();
        let other = f.env(&f.alice, 2, "x");
        bytes[split..].copy_from_slice(&other.as_bytes()[split..]);
        let forged = Envelope::from_bytes(&bytes).expect("parses");
        assert_eq!(forged.verify_signature(), Err(EnvelopeError::BadSignature));
    }

    #[test]
    fn write_to_another_organisation_is_refused() {
        let f = Fixture::new();
        // Alice signs an envelope claiming Bob's organisation.
        let env = Envelope::seal(
            NET,
            f.org(&f.bob),
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            &[change("k", "v")],
        )
        .expect("seals");
        let mut adm = Admission::new(NET);
        let err = adm.admit(env, &f.authority(), &f.key).err();
        assert_eq!(
            err,
            Some(EnvelopeError::NotAuthorized {
                author: f.alice.public(),
                partition: f.org(&f.bob),
            })
        );
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(&f.alice.public().fingerprint().to_string()));
        assert_eq!(adm.next_seq(&f.alice.public()), 1);
    }

    #[test]
    fn wrong_network_is_refused() {
        let f = Fixture::new();
        let env = Envelope::seal(
            NetworkId::from_bytes([4; 16]),
            f.org(&f.alice),
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            &[change("k", "v")],
        )
        .expect("seals");
        let mut adm = Admission::new(NET);
        assert!(matches!(
            adm.admit(env, &f.authority(), &f.key),
            Err(EnvelopeError::WrongNetwork { .. })
        ));
    }

    #[test]
    fn gap_waits_then_drains_in_order() {
        let f = Fixture::new();
        let mut adm = Admission::new(NET);
        let alice = f.alice.public();
        for seq in [3, 4, 2] {
            match adm.admit(f.env(&f.alice, seq, "v"), &f.authority(), &f.key) {
                Ok(Admitted::Waiting {
                    author,
                    expected_seq,
                }) => {
                    assert_eq!((author, expected_seq), (alice, 1));
                }
                other => panic!("expected Waiting, got {other:?}"),
            }
        }
        assert_eq!(adm.pending_count(), 3);
        // Another author is unaffected.
        assert_eq!(
            applied(adm.admit(f.env(&f.bob, 1, "b"), &f.authority(), &f.key)),
            vec![1]
        );
        let out = adm.admit(f.env(&f.alice, 1, "v"), &f.authority(), &f.key);
        let Ok(Admitted::Apply(list)) = out else {
            panic!("expected Apply, got {out:?}");
        };
        assert_eq!(
            list.iter().map(|a| a.0.seq()).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        for a in &list {
            assert_eq!(a.0.open(&f.key).as_ref(), Ok(&a.1.changes));
            assert_eq!(a.1.changes.len(), 1);
        }
        assert_eq!(adm.pending_count(), 0);
        assert_eq!(adm.pending_bytes(), 0);
        assert_eq!(adm.next_seq(&alice), 5);
        assert_eq!(
            adm.version_vector(),
            BTreeMap::from([(alice, 4), (f.bob.public(), 1)])
        );
    }

    #[test]
    fn duplicate_is_a_no_op() {
        let f = Fixture::new();
        let mut adm = Admission::new(NET);
        let one = f.env(&f.alice, 1, "v");
        let three = f.env(&f.alice, 3, "v");
        applied(adm.admit(one.clone(), &f.authority(), &f.key));
        assert!(matches!(
            adm.admit(one, &f.authority(), &f.key),
            Ok(Admitted::Duplicate)
        ));
        assert!(matches!(
            adm.admit(three.clone(), &f.authority(), &f.key),
            Ok(Admitted::Waiting { .. })
        ));
        let bytes = adm.pending_bytes();
        assert!(matches!(
            adm.admit(three, &f.authority(), &f.key),
            Ok(Admitted::Duplicate)
        ));
        assert_eq!(adm.pending_bytes(), bytes);
        assert_eq!(adm.next_seq(&f.alice.public()), 2);
    }

    #[test]
    fn same_sequence_number_with_other_bytes_is_equivocation() {
        let f = Fixture::new();
        let mut adm = Admission::new(NET);
        let alice = f.alice.public();
        let first = f.env(&f.alice, 1, "v");
        applied(adm.admit(first.clone(), &f.authority(), &f.key));
        let second = f.env(&f.alice, 1, "w");
        assert_eq!(
            adm.admit(second, &f.authority(), &f.key).err(),
            Some(EnvelopeError::Equivocation {
                author: alice,
                seq: 1
            })
        );
        assert_eq!(adm.digest_of(&alice, 1), Some(first.digest()));
        // Also while the first one is still buffered.
        assert!(matches!(
            adm.admit(f.env(&f.alice, 3, "v"), &f.authority(), &f.key),
            Ok(Admitted::Waiting { .. })
        ));
        assert_eq!(
            adm.admit(f.env(&f.alice, 3, "w"), &f.authority(), &f.key)
                .err(),
            Some(EnvelopeError::Equivocation {
                author: alice,
                seq: 3
            })
        );
    }

    #[test]
    fn buffer_is_bounded() {
        let f = Fixture::new();
        let mut adm = Admission::new(NET);
        assert!(matches!(
            adm.admit(
                f.env(&f.alice, 2 + MAX_PENDING_AHEAD, "v"),
                &f.authority(),
                &f.key
            ),
            Err(EnvelopeError::TooFarAhead { .. })
        ));
        // Fill one author's byte budget with large envelopes.
        let big = vec![fake_change(1024 * 1024)];
        let mut seq = 2;
        let err = loop {
            let env = Envelope::seal(
                NET,
                f.org(&f.alice),
                &f.alice,
                seq,
                Epoch(1),
                f.key.key(),
                &big,
            )
            .expect("seals");
            match adm.admit(env, &f.authority(), &f.key) {
                Ok(Admitted::Waiting { .. }) => seq += 1,
                other => break other,
            }
            assert!(seq < 100, "buffer never filled");
        };
        assert_eq!(err.err(), Some(EnvelopeError::PendingFull));
        assert!(adm.pending_bytes() <= MAX_PENDING_BYTES_PER_AUTHOR);
    }

    #[test]
    fn revoked_author_buffer_is_dropped_on_drain() {
        let f = Fixture::new();
        let mut adm = Admission::new(NET);
        let allow = f.authority();
        adm.admit(f.env(&f.alice, 2, "v"), &allow, &f.key)
            .expect("buffers");
        adm.admit(f.env(&f.alice, 3, "v"), &allow, &f.key)
            .expect("buffers");
        // Seq 1 is admitted while allowed, but by the time seq 2 drains the author is refused.
        let one_shot = std::cell::Cell::new(true);
        let flip = |_: &PublicKey, _: &OrgId| one_shot.replace(false);
        assert_eq!(
            applied(adm.admit(f.env(&f.alice, 1, "v"), &flip, &f.key)),
            vec![1]
        );
        assert_eq!(adm.pending_count(), 0);
        assert_eq!(adm.pending_bytes(), 0);
        assert_eq!(adm.next_seq(&f.alice.public()), 2);
    }

    #[test]
    fn restore_rebuilds_state_without_keys() {
        let f = Fixture::new();
        let envs: Vec<Envelope> = (1..=3).map(|s| f.env(&f.alice, s, "v")).collect();
        let mut adm = Admission::new(NET);
        for env in &envs {
            adm.restore(env).expect("restores");
        }
        adm.restore(&envs[1]).expect("repeat is a no-op");
        assert_eq!(adm.next_seq(&f.alice.public()), 4);
        assert!(matches!(
            adm.admit(envs[2].clone(), &f.authority(), &f.key),
            Ok(Admitted::Duplicate)
        ));
        assert!(matches!(
            adm.restore(&f.env(&f.alice, 5, "v")),
            Err(EnvelopeError::RestoreGap {
                expected: 4,
                got: 5,
                ..
            })
        ));
    }

    #[test]
    fn fast_forward_skips_covered_envelopes_and_drains_successors() {
        let f = Fixture::new();
        let alice = f.alice.public();
        let mut adm = Admission::new(NET);
        applied(adm.admit(f.env(&f.alice, 1, "v"), &f.authority(), &f.key));
        for seq in [4, 6, 7] {
            assert!(matches!(
                adm.admit(f.env(&f.alice, seq, "v"), &f.authority(), &f.key),
                Ok(Admitted::Waiting { .. })
            ));
        }
        // A snapshot includes Alice's envelopes up to 5: 4 is dropped, 6 and 7 are released.
        let released = adm.fast_forward(&BTreeMap::from([(alice, 5)]), &f.authority());
        assert_eq!(
            released.iter().map(|a| a.0.seq()).collect::<Vec<_>>(),
            vec![6, 7]
        );
        assert_eq!(adm.pending_count(), 0);
        assert_eq!(adm.pending_bytes(), 0);
        assert_eq!(adm.next_seq(&alice), 8);
        assert_eq!(adm.version_vector(), BTreeMap::from([(alice, 7)]));
        assert_eq!(adm.digest_of(&alice, 3), None);
        assert!(adm.digest_of(&alice, 6).is_some());
        // Covered numbers are duplicates and are never applied again.
        assert!(matches!(
            adm.admit(f.env(&f.alice, 3, "w"), &f.authority(), &f.key),
            Ok(Admitted::Duplicate)
        ));
        // A cover behind what is accepted changes nothing.
        assert!(
            adm.fast_forward(&BTreeMap::from([(alice, 2)]), &f.authority())
                .is_empty()
        );
        assert_eq!(adm.next_seq(&alice), 8);
        // A hostile cover at the end of the number space does not overflow.
        adm.fast_forward(
            &BTreeMap::from([(f.bob.public(), u64::MAX)]),
            &f.authority(),
        );
        assert_eq!(adm.next_seq(&f.bob.public()), u64::MAX);
        assert!(matches!(
            adm.admit(f.env(&f.bob, 9, "v"), &f.authority(), &f.key),
            Ok(Admitted::Duplicate)
        ));
    }

    #[test]
    fn length_prefix_claiming_4_gib_is_refused_before_reading_on() {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "x");
        let mut bytes = env.as_bytes()[..ENVELOPE_HEADER_LEN].to_vec();
        bytes[96..100].copy_from_slice(&u32::MAX.to_be_bytes());
        // Only the header is present: the bound is checked before anything else is read or
        // allocated, so the claim alone is refused.
        assert_eq!(
            Envelope::from_bytes(&bytes),
            Err(EnvelopeError::TooLarge {
                len: u64::from(u32::MAX),
                max: u64::from(MAX_ENVELOPE_BODY)
            })
        );
        // A change count claiming 4 billion changes inside a valid body is refused too.
        let mut plaintext = u32::MAX.to_be_bytes().to_vec();
        plaintext.extend_from_slice(&[0; 16]);
        assert!(matches!(
            decode_body(&plaintext).map(|o| o.changes),
            Err(EnvelopeError::TooLarge { .. })
        ));
        let mut plaintext = 1u32.to_be_bytes().to_vec();
        plaintext.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            decode_body(&plaintext).map(|o| o.changes),
            Err(EnvelopeError::Malformed("change length exceeds the body"))
        );
    }

    #[test]
    fn trailing_and_missing_bytes_are_refused() {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "x");
        let mut longer = env.to_bytes();
        longer.push(0);
        assert!(matches!(
            Envelope::from_bytes(&longer),
            Err(EnvelopeError::Malformed(_))
        ));
        assert_eq!(
            Envelope::from_bytes(&env.as_bytes()[..env.len() - 1]),
            Err(EnvelopeError::Truncated)
        );
        let mut max = env.to_bytes();
        max[60..68].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            Envelope::from_bytes(&max),
            Err(EnvelopeError::Malformed(_))
        ));
        let mut v2 = env.to_bytes();
        v2[0] = 2;
        assert_eq!(
            Envelope::from_bytes(&v2),
            Err(EnvelopeError::UnsupportedVersion(2))
        );
    }

    #[test]
    fn bodies_are_deflated_before_sealing_and_inflated_with_a_cap() {
        let f = Fixture::new();
        // A real change with a long repetitive value compresses well.
        let change = change("label", &"quiet room, bus line nearby; ".repeat(400));
        let env = Envelope::seal(
            NET,
            f.org(&f.alice),
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            std::slice::from_ref(&change),
        )
        .expect("seals");
        assert!(
            env.len() < change.len() / 4,
            "{} sealed vs {} plain",
            env.len(),
            change.len()
        );
        assert_eq!(env.open(&f.key).expect("opens"), vec![change]);

        // A hostile writer's body that inflates to 64 MiB stops at the cap and is refused.
        use std::io::Write as _;
        let mut bomb = vec![PLAINTEXT_DEFLATE];
        let mut e = flate2::write::DeflateEncoder::new(&mut bomb, flate2::Compression::best());
        e.write_all(&vec![0u8; 64 << 20]).expect("in memory");
        e.finish().expect("in memory");
        assert!(bomb.len() < 128 * 1024);
        let env = Envelope::seal_plaintext(
            NET,
            f.org(&f.alice),
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            &bomb,
        );
        assert!(matches!(
            env.open(&f.key),
            Err(EnvelopeError::TooLarge { .. })
        ));
        // Corrupt deflate is refused, never a panic.
        let env = Envelope::seal_plaintext(
            NET,
            f.org(&f.alice),
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            &[PLAINTEXT_DEFLATE, 0xff, 0xff, 0xff],
        );
        assert!(env.open(&f.key).is_err());
    }

    #[test]
    fn compressed_or_foreign_chunks_are_refused() {
        let f = Fixture::new();
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "k", "y".repeat(4096))
            .expect("put");
        let mut big = doc.get_last_local_change().expect("a change");
        let compressed = big.bytes().to_vec();
        assert_eq!(compressed[8], chunk::CHUNK_COMPRESSED_CHANGE);
        let org = f.org(&f.alice);
        assert_eq!(
            Envelope::seal(
                NET,
                org,
                &f.alice,
                1,
                Epoch(1),
                f.key.key(),
                std::slice::from_ref(&compressed)
            )
            .err(),
            Some(EnvelopeError::CompressedChange)
        );
        let document = doc.save();
        assert_eq!(
            Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[document]).err(),
            Some(EnvelopeError::NotAutomerge("changes"))
        );
        assert_eq!(
            Envelope::seal(
                NET,
                org,
                &f.alice,
                1,
                Epoch(1),
                f.key.key(),
                &[b"not automerge".to_vec()]
            )
            .err(),
            Some(EnvelopeError::NotAutomerge("changes"))
        );
        // A hostile writer that skips the check in seal is caught when opening.
        let mut plaintext = 1u32.to_be_bytes().to_vec();
        plaintext.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
        plaintext.extend_from_slice(&compressed);
        assert_eq!(
            decode_body(&plaintext).map(|o| o.changes),
            Err(EnvelopeError::CompressedChange)
        );
        // The uncompressed bytes of the same change are fine.
        let raw = big.raw_bytes().to_vec();
        assert!(Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[raw]).is_ok());
    }

    /// Hand-built change chunks whose columns claim more rows than [`MAX_ENVELOPE_ROWS`] in a
    /// few bytes, one per kind of run: a repeat run (actions), a literal run (keys), null runs
    /// (object counters) and boolean runs (insert flags). No values follow the claims, so a
    /// scanner that read them, or automerge, would fail differently or run for hours.
    fn bombs() -> Vec<(&'static str, Vec<u8>)> {
        use chunk::build::{change, sleb, spec, uleb};
        let max = i64::try_from(MAX_ENVELOPE_ROWS).expect("fits");
        let mut repeat = Vec::new();
        sleb(1 << 40, &mut repeat);
        uleb(1, &mut repeat);
        let mut literal = Vec::new();
        sleb(-(max + 1), &mut literal);
        let mut nulls = Vec::new();
        for _ in 0..2 {
            sleb(0, &mut nulls);
            uleb(MAX_ENVELOPE_ROWS / 2 + 1, &mut nulls);
        }
        let mut booleans = Vec::new();
        uleb(MAX_ENVELOPE_ROWS, &mut booleans);
        uleb(1, &mut booleans);
        let actor = [1u8; 32];
        vec![
            ("repeat", change(&actor, &[(spec(4, 2), repeat)])),
            (
                "literal",
                change(&actor, &[(spec(1, chunk::COLUMN_STRING), literal)]),
            ),
            ("null", change(&actor, &[(spec(0, 2), nulls)])),
            (
                "boolean",
                change(&actor, &[(spec(3, chunk::COLUMN_BOOLEAN), booleans)]),
            ),
        ]
    }

    #[test]
    fn run_length_bombs_are_refused_before_automerge_sees_them() {
        let f = Fixture::new();
        let org = f.org(&f.alice);
        for (run, bomb) in bombs() {
            assert!(bomb.len() < 120, "{run}: {} bytes", bomb.len());
            let too_many = Err(EnvelopeError::TooManyRows {
                max: MAX_ENVELOPE_ROWS,
            });
            // This node never seals one.
            let sealed = Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[&bomb]);
            assert_eq!(sealed.map(|_| ()), too_many, "{run}");
            // A hostile writer's is refused by admission, which changes nothing: the sync
            // session counts it as invalid and penalises the sender.
            let env = Envelope::seal_unchecked(
                NET,
                org,
                &f.alice,
                1,
                Epoch(1),
                f.key.key(),
                std::slice::from_ref(&bomb),
            );
            let mut adm = Admission::new(NET);
            let started = std::time::Instant::now();
            assert_eq!(
                adm.admit(env, &f.authority(), &f.key).map(|_| ()),
                too_many,
                "{run}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{run}"
            );
            assert_eq!(adm.next_seq(&f.alice.public()), 1);
            assert_eq!(adm.pending_count(), 0);
        }
    }

    #[test]
    fn the_row_bound_is_for_the_whole_envelope() {
        use chunk::build::{change, sleb, spec, uleb};
        let f = Fixture::new();
        let org = f.org(&f.alice);
        let actions = |rows: u64| {
            let mut column = Vec::new();
            sleb(i64::try_from(rows).expect("fits"), &mut column);
            uleb(1, &mut column);
            change(&[1; 32], &[(spec(4, 2), column)])
        };
        // A quarter of the bound per change: four fit, five do not.
        let quarter = actions(MAX_ENVELOPE_ROWS / 4);
        let four = vec![quarter.clone(); 4];
        let five = vec![quarter; 5];
        let seal = |changes: &[Vec<u8>]| {
            Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), changes).map(|_| ())
        };
        assert_eq!(seal(&four), Ok(()));
        assert_eq!(
            seal(&five),
            Err(EnvelopeError::TooManyRows {
                max: MAX_ENVELOPE_ROWS
            })
        );
        let env = Envelope::seal_unchecked(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &five);
        assert_eq!(
            env.open(&f.key).map(|_| ()),
            Err(EnvelopeError::TooManyRows {
                max: MAX_ENVELOPE_ROWS
            })
        );
        // A long map key repeated by a run: few rows, a gigabyte of keys to hash.
        let mut keys = Vec::new();
        sleb(1 << 20, &mut keys);
        uleb(1 << 10, &mut keys);
        keys.extend_from_slice(&[b'k'; 1 << 10]);
        let long_keys = change(&[1; 32], &[(spec(1, chunk::COLUMN_STRING), keys)]);
        assert_eq!(
            seal(&[long_keys]),
            Err(EnvelopeError::TooManyStringBytes {
                max: chunk::MAX_STRING_BYTES
            })
        );
    }

    #[test]
    fn an_import_batch_is_far_below_the_row_bound() {
        use puente_crdt::{
            Accepts, Kind, NewOffer, NewWindow, OfferFields, OfferId, Partition, StatusHint,
            SubjectType, Time, Vetting, WindowId,
        };
        let f = Fixture::new();
        let now = Time(1_795_000_000);
        let mut offer = NewOffer {
            fields: OfferFields {
                kind: Kind::HostHome,
                handle: "host-7f3k".into(),
                subject: SubjectType::Household,
                counties: vec!["06067".parse().expect("county")],
                zone: None,
                languages: vec!["es".parse().expect("language")],
                accepts: vec![Accepts::TransWomen],
                affirming: vec![],
                accessibility: vec![],
                household: vec![],
                capabilities: vec![],
                unit: Kind::HostHome.default_unit(),
                lead_time: None,
                max_stay: None,
                vetting: Vetting::OrgVetted,
                status: StatusHint::Capacity,
                label: "quiet room".into(),
                bond_band: None,
                post_within: None,
            },
            windows: vec![NewWindow {
                start: now,
                end: now.plus(14 * 86_400),
                tz: "America/Los_Angeles".into(),
                weekly: false,
                total: 2,
            }],
            expires_in: None,
        };
        offer.validate().expect("valid");
        // One change, as `Replica::import_offers` makes per `IMPORT_BATCH_ROWS` offers.
        let mut partition = Partition::new(f.org(&f.alice), f.alice.public().as_bytes());
        for i in 0..crate::replica::IMPORT_BATCH_ROWS as u32 {
            let mut id = [0u8; 10];
            id[..4].copy_from_slice(&i.to_be_bytes());
            let mut window = id;
            window[9] = 1;
            partition
                .add_offer(
                    OfferId::from_bytes(id),
                    &offer,
                    &[WindowId::from_bytes(window)],
                    now,
                )
                .expect("adds");
        }
        let change = partition.commit().expect("a change");
        let ops = automerge::Change::from_bytes(change.clone())
            .expect("parses")
            .len() as u64;
        assert_eq!(ops, 24_000, "the figure MAX_ENVELOPE_ROWS documents");
        assert!(MAX_ENVELOPE_ROWS >= 40 * ops);
        let org = f.org(&f.alice);
        let env = Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[&change])
            .expect("an honest batch seals");
        let mut adm = Admission::new(NET);
        let Ok(Admitted::Apply(accepted)) = adm.admit(env, &f.authority(), &f.key) else {
            panic!("an honest batch is admitted");
        };
        assert_eq!(accepted[0].1.changes, vec![change]);
    }

    #[test]
    fn empty_or_oversized_batches_are_refused_at_seal() {
        let f = Fixture::new();
        let org = f.org(&f.alice);
        let none: [Vec<u8>; 0] = [];
        assert!(matches!(
            Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &none),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::seal(
                NET,
                org,
                &f.alice,
                0,
                Epoch(1),
                f.key.key(),
                &[change("k", "v")]
            ),
            Err(EnvelopeError::Malformed(_))
        ));
        let huge = fake_change(MAX_ENVELOPE_BODY as usize);
        assert!(matches!(
            Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[huge]),
            Err(EnvelopeError::TooLarge { .. })
        ));
    }

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

    #[test]
    fn network_id_text_round_trip() {
        let id = NetworkId::generate();
        let text = id.to_string();
        assert_eq!(text.len(), 26);
        assert_eq!(text.parse::<NetworkId>(), Ok(id));
        assert!("nope".parse::<NetworkId>().is_err());
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(serde_json::from_str::<NetworkId>(&json).ok(), Some(id));
    }

    proptest! {
        #[test]
        fn envelope_from_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(env) = Envelope::from_bytes(&bytes) {
                let _ = env.verify_signature();
                let _ = env.open(&EpochKey::new(env.epoch(), SymmetricKey::from_bytes(&[0; 32])));
            }
        }

        #[test]
        fn snapshot_from_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(snap) = Snapshot::from_bytes(&bytes) {
                let _ = snap.verify_signature();
            }
        }

        #[test]
        fn mutated_envelopes_never_panic_and_never_admit(index in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
            let f = Fixture::new();
            let env = f.env(&f.alice, 1, "v");
            let mut bytes = env.to_bytes();
            let i = index % bytes.len();
            let changed = bytes[i] != byte;
            bytes[i] = byte;
            bytes.truncate(bytes.len() - cut.min(bytes.len()) / 8);
            let mut adm = Admission::new(NET);
            if let Ok(parsed) = Envelope::from_bytes(&bytes) {
                let result = adm.admit(parsed, &f.authority(), &f.key);
                if changed {
                    prop_assert!(result.is_err());
                }
            }
        }

        #[test]
        fn decode_body_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_body(&bytes);
        }
    }
}
