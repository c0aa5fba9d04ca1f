//! Sync protocol v1 wire messages and their canonical binary encoding (see "Sync protocol v1"
//! in `docs/formats.md`).
//!
//! This module owns the byte layout and its bounds, nothing else: it does not decide what to
//! send or what a message means for the session ([`super::PeerSync`] does). Decoding checks the
//! frame length first, then every count and length against its bound and against the bytes that
//! remain before anything is allocated; it refuses non-canonical encodings (unsorted or
//! repeated keys, zero entries, unknown flag bits, trailing bytes), so every message has exactly
//! one encoding, and it never panics.

use std::collections::BTreeMap;

use crate::envelope::format::MAX_SEQ;
use crate::identity::PublicKey;
use crate::keys::NetworkId;

use super::{
    MAX_BATCH_BYTES, MAX_BATCH_ENVELOPES, MAX_BATCH_OPS, MAX_DIRECT_PEERS, MAX_ENVELOPE_LEN,
    MAX_FRAME_BYTES, MAX_HEADS, MAX_SNAPSHOT_BYTES, MAX_VECTOR_ENTRIES, OpId, PROTOCOL_VERSION,
    Vector,
};

/// Message type byte of [`Message::Hello`].
const TYPE_HELLO: u8 = 1;
/// Message type byte of [`Message::Ops`].
const TYPE_OPS: u8 = 2;
/// Message type byte of [`Message::Envelopes`].
const TYPE_ENVELOPES: u8 = 3;
/// Message type byte of [`Message::Ack`].
const TYPE_ACK: u8 = 4;
/// Message type byte of [`Message::Snapshot`].
const TYPE_SNAPSHOT: u8 = 5;
/// Message type byte of [`Message::Bye`].
const TYPE_BYE: u8 = 6;

/// Hello flag bit: this Hello answers the peer's, so it must not be answered.
const FLAG_REPLY: u8 = 0x01;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is longer than [`MAX_FRAME_BYTES`]; nothing was read.
    #[error("frame of {len} bytes is over the limit of {max}")]
    Oversized {
        /// Length of the frame.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The frame speaks another protocol version.
    #[error("unsupported sync protocol version {0}")]
    UnsupportedVersion(u8),
    /// Unknown message type.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// The frame ends in the middle of a field, or a length claims more bytes than remain.
    #[error("truncated frame")]
    Truncated,
    /// Bytes after the end of the message.
    #[error("trailing bytes after the message")]
    TrailingBytes,
    /// A count or length over its bound (a batch over the limits).
    #[error("over the limit: {0}")]
    OverLimit(&'static str),
    /// A value that is in range but not in its one canonical form.
    #[error("not canonical: {0}")]
    NonCanonical(&'static str),
}

/// Why a peer closes a session, as sent in [`Message::Bye`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ByeReason {
    /// The node is shutting down or no longer wants this session.
    Shutdown,
    /// The peer speaks a protocol version this node does not.
    VersionMismatch,
    /// The peer belongs to another network.
    WrongNetwork,
    /// The peer broke the protocol (malformed or oversized frame, batch over the limits,
    /// impossible acknowledgement, invalid data).
    Misbehaviour,
    /// A code this version does not know (sent by a newer peer); kept as received.
    Other(u8),
}

impl ByeReason {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            ByeReason::Shutdown => 0,
            ByeReason::VersionMismatch => 1,
            ByeReason::WrongNetwork => 2,
            ByeReason::Misbehaviour => 3,
            ByeReason::Other(code) => code,
        }
    }

    /// The reason for a wire code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => ByeReason::Shutdown,
            1 => ByeReason::VersionMismatch,
            2 => ByeReason::WrongNetwork,
            3 => ByeReason::Misbehaviour,
            other => ByeReason::Other(other),
        }
    }
}

/// The first message of a session in each direction: what the sender has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The network the sender belongs to.
    pub network: NetworkId,
    /// This Hello answers the peer's (or refreshes the sender's state): do not answer it.
    pub reply: bool,
    /// The sender's membership heads, strictly ascending, at most [`MAX_HEADS`].
    pub heads: Vec<OpId>,
    /// The sender's version vector, at most [`MAX_VECTOR_ENTRIES`] entries, no zeros.
    pub vector: Vector,
}

/// The receiver's state after applying a batch: acknowledgement and flow control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The batch being acknowledged (the sender's number).
    pub batch: u64,
    /// The receiver's membership heads after applying it.
    pub heads: Vec<OpId>,
    /// The receiver's version vector after applying it.
    pub vector: Vector,
}

/// One sync protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// What the sender has.
    Hello(Hello),
    /// Membership operations the receiver lacks, in causal order.
    Ops {
        /// Batch number, from 1, counting every batch the sender sends in the session.
        batch: u64,
        /// Opaque signed operations, 1 ..= [`MAX_BATCH_OPS`], at most [`MAX_BATCH_BYTES`].
        ops: Vec<Vec<u8>>,
    },
    /// Envelopes the receiver lacks, per author in sequence order.
    Envelopes {
        /// Batch number, from 1, counting every batch the sender sends in the session.
        batch: u64,
        /// Peers (strictly ascending) the sender is also pushing its own envelopes in this batch
        /// to directly: their holders need not relay them (see the module docs).
        direct: Vec<PublicKey>,
        /// Envelope bytes, 1 ..= [`MAX_BATCH_ENVELOPES`]; at most [`MAX_BATCH_BYTES`] in all
        /// unless the batch holds a single envelope (of at most [`MAX_ENVELOPE_LEN`]).
        envelopes: Vec<Vec<u8>>,
    },
    /// Acknowledges a batch with the receiver's updated state.
    Ack(Ack),
    /// A signed partition snapshot (envelope format's `Snapshot`) for a far-behind receiver.
    Snapshot {
        /// Batch number.
        batch: u64,
        /// Snapshot bytes, 1 ..= [`MAX_SNAPSHOT_BYTES`].
        snapshot: Vec<u8>,
    },
    /// The sender closes the session.
    Bye(ByeReason),
}

impl Message {
    /// The canonical encoding. Callers keep every list within its bound (the session does);
    /// a list over its bound would encode but fail to decode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![PROTOCOL_VERSION];
        match self {
            Message::Hello(h) => {
                out.push(TYPE_HELLO);
                out.extend_from_slice(h.network.as_bytes());
                out.push(if h.reply { FLAG_REPLY } else { 0 });
                put_heads(&mut out, &h.heads);
                put_vector(&mut out, &h.vector);
            }
            Message::Ops { batch, ops } => {
                out.push(TYPE_OPS);
                out.extend_from_slice(&batch.to_be_bytes());
                put_items(&mut out, ops);
            }
            Message::Envelopes {
                batch,
                direct,
                envelopes,
            } => {
                out.push(TYPE_ENVELOPES);
                out.extend_from_slice(&batch.to_be_bytes());
                put_u16(&mut out, direct.len());
                for key in direct {
                    out.extend_from_slice(key.as_bytes());
                }
                put_items(&mut out, envelopes);
            }
            Message::Ack(a) => {
                out.push(TYPE_ACK);
                out.extend_from_slice(&a.batch.to_be_bytes());
                put_heads(&mut out, &a.heads);
                put_vector(&mut out, &a.vector);
            }
            Message::Snapshot { batch, snapshot } => {
                out.push(TYPE_SNAPSHOT);
                out.extend_from_slice(&batch.to_be_bytes());
                out.extend_from_slice(&(snapshot.len() as u32).to_be_bytes());
                out.extend_from_slice(snapshot);
            }
            Message::Bye(reason) => {
                out.push(TYPE_BYE);
                out.push(reason.code());
            }
        }
        out
    }

    /// Decodes one frame, checking every bound before allocating. Never panics.
    pub fn decode(frame: &[u8]) -> Result<Message, DecodeError> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::Oversized {
                len: frame.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        let mut r = Reader::new(frame);
        let version = r.u8()?;
        if version != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let message = match r.u8()? {
            TYPE_HELLO => {
                let network = NetworkId::from_bytes(r.array()?);
                let flags = r.u8()?;
                if flags & !FLAG_REPLY != 0 {
                    return Err(DecodeError::NonCanonical("unknown hello flag bits"));
                }
                let heads = r.heads()?;
                let vector = r.vector()?;
                Message::Hello(Hello {
                    network,
                    reply: flags & FLAG_REPLY != 0,
                    heads,
                    vector,
                })
            }
            TYPE_OPS => {
                let batch = r.batch()?;
                let ops = r.items(MAX_BATCH_OPS, MAX_BATCH_BYTES, MAX_BATCH_BYTES, "ops")?;
                Message::Ops { batch, ops }
            }
            TYPE_ENVELOPES => {
                let batch = r.batch()?;
                let count = r.count(MAX_DIRECT_PEERS, 32, "direct peers")?;
                let mut direct: Vec<PublicKey> = Vec::with_capacity(count);
                for _ in 0..count {
                    let key = PublicKey::from_bytes(r.array()?);
                    if direct.last().is_some_and(|last| *last >= key) {
                        return Err(DecodeError::NonCanonical("direct peers not ascending"));
                    }
                    direct.push(key);
                }
                let envelopes = r.items(
                    MAX_BATCH_ENVELOPES,
                    MAX_BATCH_BYTES,
                    MAX_ENVELOPE_LEN,
                    "envelopes",
                )?;
                Message::Envelopes {
                    batch,
                    direct,
                    envelopes,
                }
            }
            TYPE_ACK => {
                let batch = r.batch()?;
                let heads = r.heads()?;
                let vector = r.vector()?;
                Message::Ack(Ack {
                    batch,
                    heads,
                    vector,
                })
            }
            TYPE_SNAPSHOT => {
                let batch = r.batch()?;
                let len = r.u32()? as usize;
                if len == 0 {
                    return Err(DecodeError::NonCanonical("empty snapshot"));
                }
                if len > MAX_SNAPSHOT_BYTES {
                    return Err(DecodeError::OverLimit("snapshot bytes"));
                }
                let snapshot = r.take(len)?.to_vec();
                Message::Snapshot { batch, snapshot }
            }
            TYPE_BYE => Message::Bye(ByeReason::from_code(r.u8()?)),
            other => return Err(DecodeError::UnknownType(other)),
        };
        if r.remaining() != 0 {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(message)
    }
}

fn put_u16(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n.min(usize::from(u16::MAX)) as u16).to_be_bytes());
}

fn put_heads(out: &mut Vec<u8>, heads: &[OpId]) {
    put_u16(out, heads.len());
    for head in heads {
        out.extend_from_slice(head);
    }
}

fn put_vector(out: &mut Vec<u8>, vector: &Vector) {
    put_u16(out, vector.len());
    for (author, seq) in vector {
        out.extend_from_slice(author.as_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
    }
}

fn put_items(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    put_u16(out, items.len());
    for item in items {
        out.extend_from_slice(&(item.len() as u32).to_be_bytes());
        out.extend_from_slice(item);
    }
}

type Reader<'a> = crate::codec::Reader<'a, DecodeError>;

impl crate::codec::Truncation for DecodeError {
    fn truncated() -> Self {
        DecodeError::Truncated
    }
}

/// The sync protocol's own fields, read with the node's bounded cursor.
trait WireRead {
    fn batch(&mut self) -> Result<u64, DecodeError>;
    fn count(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError>;
    fn heads(&mut self) -> Result<Vec<OpId>, DecodeError>;
    fn vector(&mut self) -> Result<Vector, DecodeError>;
    fn items(
        &mut self,
        max_count: usize,
        max_total: usize,
        max_item: usize,
        what: &'static str,
    ) -> Result<Vec<Vec<u8>>, DecodeError>;
}

impl WireRead for Reader<'_> {
    /// A batch number: never 0.
    fn batch(&mut self) -> Result<u64, DecodeError> {
        match self.u64()? {
            0 => Err(DecodeError::NonCanonical("batch number 0")),
            n => Ok(n),
        }
    }

    /// A u16 count, checked against its bound and against the bytes that remain (each item
    /// takes at least `min_item` bytes), so a hostile count cannot make us allocate.
    fn count(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let n = usize::from(self.u16()?);
        if n > max {
            return Err(DecodeError::OverLimit(what));
        }
        if n.saturating_mul(min_item) > self.remaining() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }

    fn heads(&mut self) -> Result<Vec<OpId>, DecodeError> {
        let n = self.count(MAX_HEADS, 32, "membership heads")?;
        let mut heads: Vec<OpId> = Vec::with_capacity(n);
        for _ in 0..n {
            let head: OpId = self.array()?;
            if heads.last().is_some_and(|last| *last >= head) {
                return Err(DecodeError::NonCanonical("heads not ascending"));
            }
            heads.push(head);
        }
        Ok(heads)
    }

    fn vector(&mut self) -> Result<Vector, DecodeError> {
        let n = self.count(MAX_VECTOR_ENTRIES, 40, "version vector entries")?;
        let mut vector = BTreeMap::new();
        let mut last: Option<PublicKey> = None;
        for _ in 0..n {
            let author = PublicKey::from_bytes(self.array()?);
            let seq = self.u64()?;
            if last.is_some_and(|l| l >= author) {
                return Err(DecodeError::NonCanonical("vector keys not ascending"));
            }
            if seq == 0 || seq > MAX_SEQ {
                return Err(DecodeError::NonCanonical("sequence number out of range"));
            }
            last = Some(author);
            vector.insert(author, seq);
        }
        Ok(vector)
    }

    /// A u16-counted list of u32-length-prefixed byte strings: 1 ..= `max_count` items, each
    /// 1 ..= `max_item` bytes, at most `max_total` in all unless there is only one.
    fn items(
        &mut self,
        max_count: usize,
        max_total: usize,
        max_item: usize,
        what: &'static str,
    ) -> Result<Vec<Vec<u8>>, DecodeError> {
        let n = self.count(max_count, 5, what)?;
        if n == 0 {
            return Err(DecodeError::NonCanonical("empty batch"));
        }
        let mut items = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let len = self.u32()? as usize;
            if len == 0 {
                return Err(DecodeError::NonCanonical("empty item"));
            }
            if len > max_item {
                return Err(DecodeError::OverLimit(what));
            }
            total = total.saturating_add(len);
            if n > 1 && total > max_total {
                return Err(DecodeError::OverLimit(what));
            }
            items.push(self.take(len)?.to_vec());
        }
        Ok(items)
    }
}

/// Author and sequence number from an envelope's header (format v1: author at bytes 28..60,
/// sequence number at 60..68), without copying or verifying anything else; `None` if the bytes
/// are not a v1 change envelope header.
pub(crate) fn envelope_id(bytes: &[u8]) -> Option<(PublicKey, u64)> {
    use crate::envelope::format::{FORMAT_VERSION, RECORD_CHANGES};
    if bytes.first() != Some(&FORMAT_VERSION) || bytes.get(1) != Some(&RECORD_CHANGES) {
        return None;
    }
    let author: [u8; 32] = bytes.get(28..60)?.try_into().ok()?;
    let seq = u64::from_be_bytes(bytes.get(60..68)?.try_into().ok()?);
    (1..=MAX_SEQ)
        .contains(&seq)
        .then_some((PublicKey::from_bytes(author), seq))
}

/// The version vector a snapshot's header says it covers (format v1: the count at bytes
/// 64..66, then 40 bytes per author), without copying or verifying anything else; `None` if the
/// bytes are not a v1 snapshot header or claim more authors than the format allows. Entries
/// with a sequence number out of range are left out.
pub(crate) fn snapshot_covers(bytes: &[u8]) -> Option<Vector> {
    use crate::envelope::format::FORMAT_VERSION;
    use crate::envelope::snapshot::{MAX_SNAPSHOT_COVERS, RECORD_SNAPSHOT};
    if bytes.first() != Some(&FORMAT_VERSION) || bytes.get(1) != Some(&RECORD_SNAPSHOT) {
        return None;
    }
    let n = u16::from_be_bytes(bytes.get(64..66)?.try_into().ok()?);
    if n > MAX_SNAPSHOT_COVERS {
        return None;
    }
    let entries = bytes.get(66..66 + usize::from(n) * 40)?;
    Some(
        entries
            .chunks_exact(40)
            .filter_map(|entry| {
                let author: [u8; 32] = entry[..32].try_into().ok()?;
                let seq = u64::from_be_bytes(entry[32..].try_into().ok()?);
                (1..=MAX_SEQ)
                    .contains(&seq)
                    .then_some((PublicKey::from_bytes(author), seq))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NET: NetworkId = NetworkId::from_bytes([7; 16]);

    fn key(b: u8) -> PublicKey {
        PublicKey::from_bytes([b; 32])
    }

    fn samples() -> Vec<Message> {
        let vector: Vector = [(key(1), 3), (key(2), 9)].into_iter().collect();
        vec![
            Message::Hello(Hello {
                network: NET,
                reply: true,
                heads: vec![[1; 32], [2; 32]],
                vector: vector.clone(),
            }),
            Message::Hello(Hello {
                network: NET,
                reply: false,
                heads: vec![],
                vector: Vector::new(),
            }),
            Message::Ops {
                batch: 1,
                ops: vec![vec![1, 2, 3], vec![4]],
            },
            Message::Envelopes {
                batch: 2,
                direct: vec![key(3), key(4)],
                envelopes: vec![vec![9; 100], vec![8; 3]],
            },
            Message::Ack(Ack {
                batch: 2,
                heads: vec![[5; 32]],
                vector,
            }),
            Message::Snapshot {
                batch: 3,
                snapshot: vec![1; 10],
            },
            Message::Bye(ByeReason::Misbehaviour),
            Message::Bye(ByeReason::Other(200)),
        ]
    }

    #[test]
    fn messages_round_trip() {
        for m in samples() {
            let bytes = m.encode();
            assert_eq!(Message::decode(&bytes), Ok(m.clone()), "{m:?}");
            // Every strict prefix is refused, and so is a trailing byte.
            for cut in 0..bytes.len() {
                assert!(
                    Message::decode(&bytes[..cut]).is_err(),
                    "{m:?} cut at {cut}"
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(Message::decode(&longer), Err(DecodeError::TrailingBytes));
        }
    }

    #[test]
    fn non_canonical_and_over_limit_frames_are_refused() {
        // Version and type.
        assert_eq!(
            Message::decode(&[2, TYPE_BYE, 0]),
            Err(DecodeError::UnsupportedVersion(2))
        );
        assert_eq!(Message::decode(&[1, 99]), Err(DecodeError::UnknownType(99)));
        // Unsorted vector keys.
        let mut bad = vec![1, TYPE_ACK, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
        bad.extend_from_slice(&[2; 32]);
        bad.extend_from_slice(&1u64.to_be_bytes());
        bad.extend_from_slice(&[1; 32]);
        bad.extend_from_slice(&1u64.to_be_bytes());
        assert!(matches!(
            Message::decode(&bad),
            Err(DecodeError::NonCanonical(_))
        ));
        // A count that claims more entries than the limit, before any allocation.
        let mut many = vec![1, TYPE_ACK, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
        many.extend_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            Message::decode(&many),
            Err(DecodeError::OverLimit("version vector entries"))
        );
        // An item length claiming 4 GiB.
        let mut huge = vec![1, TYPE_OPS, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        huge.push(0);
        assert_eq!(Message::decode(&huge), Err(DecodeError::OverLimit("ops")));
        // Too many envelopes in one batch.
        let items = vec![vec![1u8]; MAX_BATCH_ENVELOPES + 1];
        let frame = Message::Envelopes {
            batch: 1,
            direct: vec![],
            envelopes: items,
        }
        .encode();
        assert_eq!(
            Message::decode(&frame),
            Err(DecodeError::OverLimit("envelopes"))
        );
        // Oversized frame, refused from its length alone.
        let big = vec![0u8; MAX_FRAME_BYTES + 1];
        assert!(matches!(
            Message::decode(&big),
            Err(DecodeError::Oversized { .. })
        ));
        // Batch number 0, a flag bit nobody defined.
        let mut zero = Message::Snapshot {
            batch: 1,
            snapshot: vec![1],
        }
        .encode();
        zero[9] = 0;
        assert!(matches!(
            Message::decode(&zero),
            Err(DecodeError::NonCanonical(_))
        ));
        let mut flags = samples()[0].encode();
        flags[18] = 0x80;
        assert!(matches!(
            Message::decode(&flags),
            Err(DecodeError::NonCanonical(_))
        ));
    }

    #[test]
    fn batch_bytes_limit_allows_one_large_envelope_only() {
        let one = Message::Envelopes {
            batch: 1,
            direct: vec![],
            envelopes: vec![vec![0; MAX_BATCH_BYTES + 10]],
        };
        assert_eq!(Message::decode(&one.encode()), Ok(one));
        let two = Message::Envelopes {
            batch: 1,
            direct: vec![],
            envelopes: vec![vec![0; MAX_BATCH_BYTES], vec![0; 1]],
        };
        assert_eq!(
            Message::decode(&two.encode()),
            Err(DecodeError::OverLimit("envelopes"))
        );
    }

    #[test]
    fn a_snapshots_cover_is_read_from_its_header() {
        use crate::envelope::snapshot::Snapshot;
        use crate::identity::{SecretKey, org_id_for};
        use crate::keys::Epoch;
        let signer = SecretKey::from_bytes(&[4; 32]);
        let covers: Vector = [(key(1), 7), (signer.public(), 1500)].into_iter().collect();
        let document = [0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0, 0];
        let snapshot = Snapshot::seal(
            NET,
            org_id_for(&signer.public()),
            &signer,
            Epoch(1),
            &crate::crypto::seal::SymmetricKey::from_bytes(&[9; 32]),
            &covers,
            &[[3; 32]],
            &document,
        )
        .expect("seals");
        assert_eq!(snapshot_covers(snapshot.as_bytes()), Some(covers));
        let bytes = snapshot.as_bytes();
        assert_eq!(snapshot_covers(&bytes[..66 + 40]), None, "cut short");
        let mut envelope = bytes.to_vec();
        envelope[1] = crate::envelope::format::RECORD_CHANGES;
        assert_eq!(snapshot_covers(&envelope), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes never panic; whatever decodes re-encodes to the same bytes.
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(m) = Message::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }

        /// Reading a snapshot's cover from arbitrary bytes never panics.
        #[test]
        fn snapshot_covers_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..600), head in any::<bool>()) {
            if head && bytes.len() >= 66 {
                bytes[0] = crate::envelope::format::FORMAT_VERSION;
                bytes[1] = crate::envelope::snapshot::RECORD_SNAPSHOT;
                bytes[64] = 0;
            }
            let _ = snapshot_covers(&bytes);
        }

        /// Valid frames with one byte changed or cut never panic, and stay canonical.
        #[test]
        fn mutated_frames_never_panic(which in 0usize..8, pos in any::<usize>(), val in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = samples()[which].encode();
            let pos = pos % bytes.len();
            if cut { bytes.truncate(pos) } else { bytes[pos] = val }
            if let Ok(m) = Message::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
