//! Automerge chunks read without automerge: the chunk header, LEB128 numbers, column metadata
//! and the run-length encodings of column data, enough to bound what automerge would be asked to
//! parse, load or apply before it sees a byte. Received snapshot documents
//! (`replica/snapshot.rs`) and the change chunks inside envelopes (`envelope/format.rs`) are
//! checked here.
//!
//! Why: automerge columns are run-length encoded, so a few bytes can claim billions of
//! operations (a decompression bomb without DEFLATE), and automerge iterates and allocates per
//! operation when it parses, loads or applies them. A column's rows are therefore summed run by
//! run (repeat, literal and null runs; boolean runs) and refused as soon as they pass the
//! caller's bound, before the run's values are read. DEFLATE-compressed columns are refused
//! outright.
//!
//! Invariant: a run is refused as soon as it passes the bound, before its values are read.
//!
//! Boundary: reads bytes only. No automerge call, no allocation proportional to a count read
//! from the input (only to the input's length), no panic on any input. What the operations mean,
//! checksums and hashes are left to automerge.

use crate::codec::Truncation;

/// First four bytes of every automerge chunk.
pub(crate) const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Chunk type of a whole document (`save()`, `save_nocompress()`).
pub(crate) const CHUNK_DOCUMENT: u8 = 0;

/// Chunk type of an uncompressed change (`Change::raw_bytes()`).
pub(crate) const CHUNK_CHANGE: u8 = 1;

/// Chunk type of a DEFLATE-compressed change.
pub(crate) const CHUNK_COMPRESSED_CHANGE: u8 = 2;

/// Most column descriptions in one column group: automerge 0.12 writes about 25 for a document
/// and 13 for a change; the bound keeps a hostile count from costing work.
const MAX_COLUMNS: u64 = 256;

/// Bit of a column specification that marks the column DEFLATE-compressed.
pub(crate) const COLUMN_DEFLATE: u32 = 0b1000;

/// Low bits of a column specification: the column's encoding.
const COLUMN_TYPE: u32 = 0b0111;

/// Column encodings (automerge storage format). Booleans are alternating run lengths; values
/// are raw bytes whose count comes from their metadata column (no rows of their own); strings
/// are run-length encoded length-prefixed strings; every other type (group, actor, integer,
/// delta, value metadata) is run-length encoded LEB128 integers.
pub(crate) const COLUMN_BOOLEAN: u32 = 4;
pub(crate) const COLUMN_STRING: u32 = 5;
pub(crate) const COLUMN_VALUE: u32 = 7;

/// Why a chunk was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkError {
    /// The bytes do not follow automerge's layout.
    #[error("automerge chunk is malformed: {0}")]
    Malformed(&'static str),
    /// A column is DEFLATE-compressed: refused rather than inflated.
    #[error("automerge chunk has compressed columns")]
    CompressedColumns,
    /// A column claims more rows than the caller's bound.
    #[error("automerge chunk claims more than {max} rows in one column")]
    TooManyRows {
        /// The bound.
        max: u64,
    },
    /// The string columns expand to more bytes than the caller's bound.
    #[error("automerge chunk's strings expand to more than {max} bytes")]
    TooManyStringBytes {
        /// The bound.
        max: u64,
    },
}

/// What a chunk's columns claim once their runs are expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Claims {
    /// The most rows of any one column: a bound on a change's operations, or on a document's
    /// operations and changes.
    pub(crate) rows: u64,
    /// The bytes of the strings in its string columns, a repeated string counted each time.
    pub(crate) string_bytes: u64,
}

/// What a chunk's columns may claim at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Rows of any one column.
    pub(crate) rows: u64,
    /// Bytes of every string column together, expanded: automerge hashes a map key (a string
    /// column) for every operation, so one long key repeated by a run costs its length per row.
    pub(crate) string_bytes: u64,
}

/// Most bytes the string columns of one snapshot document, or of the changes in one envelope,
/// may expand to. Strings in columns are map keys (and change messages and mark names, which
/// puente does not write). Puente's keys are at most 23 bytes (`window/` and a 16-character
/// id) and about 9 on average (a 1 000-offer import: 24 000 operations, 206 000 bytes of keys),
/// so an honest chunk at its row bound (2^20) expands to at most 23 MiB, typically 9 MiB. 64
/// MiB leaves more than twice the worst. Applying a change automerge hashes every operation's
/// key, about 400 MiB a second on the test machine, so a hostile chunk at this bound costs a
/// fraction of a second, where a run repeating one 4 MiB key a million times would take hours.
pub(crate) const MAX_STRING_BYTES: u64 = 64 * 1024 * 1024;

impl Truncation for ChunkError {
    fn truncated() -> Self {
        ChunkError::Malformed("truncated")
    }
}

pub(crate) type Reader<'a> = crate::codec::Reader<'a, ChunkError>;

/// Reads a chunk's header (magic, checksum, type, LEB128 length) and returns its type and a
/// reader over its body. The length must cover exactly the rest of `bytes`: automerge would read
/// anything after the chunk as further chunks. The checksum is left to automerge.
pub(crate) fn open(bytes: &[u8]) -> Result<(u8, Reader<'_>), ChunkError> {
    let mut r = Reader::new(bytes);
    if r.take(4)? != MAGIC {
        return Err(ChunkError::Malformed("not an automerge chunk"));
    }
    r.take(4)?;
    let kind = r.u8()?;
    if uleb(&mut r)? != r.remaining() as u64 {
        return Err(ChunkError::Malformed(
            "the chunk's length must cover exactly the rest of its bytes",
        ));
    }
    Ok((kind, r))
}

/// Checks one uncompressed change chunk (`Change::raw_bytes()`) and returns what its columns
/// claim; its rows bound its operations. Refused: another chunk type, bytes after the chunk, a
/// DEFLATE-compressed column, claims beyond `bounds`.
///
/// Layout after the header (automerge storage format, `storage/change.rs`): dependencies
/// (LEB128 count, 32 bytes each), the actor (LEB128 length and bytes), sequence number and start
/// operation (LEB128), time (signed LEB128), message (LEB128 length and UTF-8), other actors
/// (LEB128 count, then each as the actor), the operation columns' metadata (LEB128 count, then
/// per column a LEB128 specification and data length), the column data, then extra bytes.
pub(crate) fn change_claims(bytes: &[u8], bounds: Bounds) -> Result<Claims, ChunkError> {
    let (kind, mut r) = open(bytes)?;
    match kind {
        CHUNK_CHANGE => {}
        CHUNK_COMPRESSED_CHANGE => return Err(ChunkError::CompressedColumns),
        _ => return Err(ChunkError::Malformed("not a change chunk")),
    }
    let deps = usize_of(uleb(&mut r)?)?;
    r.take(
        deps.checked_mul(32)
            .ok_or(ChunkError::Malformed("too many dependencies"))?,
    )?;
    skip_bytes(&mut r)?; // The actor.
    uleb(&mut r)?; // Sequence number.
    uleb(&mut r)?; // Start operation.
    skip_leb(&mut r)?; // Time.
    skip_bytes(&mut r)?; // Message.
    let others = uleb(&mut r)?;
    for _ in 0..others {
        // Every actor takes at least one byte, so a hostile count ends at the input's end.
        skip_bytes(&mut r)?;
    }
    let columns = column_metadata(&mut r)?;
    // What follows the column data is automerge's "extra bytes", opaque to it and to us.
    check_columns(&mut r, &columns, bounds)
}

/// One group of column metadata: (specification, data length) per column.
pub(crate) fn column_metadata(r: &mut Reader<'_>) -> Result<Vec<(u32, usize)>, ChunkError> {
    let count = uleb(r)?;
    if count > MAX_COLUMNS {
        return Err(ChunkError::Malformed("too many columns"));
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let spec = u32::try_from(uleb(r)?)
            .map_err(|_| ChunkError::Malformed("column specification out of range"))?;
        let len = usize_of(uleb(r)?)?;
        out.push((spec, len));
    }
    Ok(out)
}

/// Reads the data of `columns` from `r`, in order, and checks each: not DEFLATE-compressed,
/// within `bounds` (string bytes summed over the columns).
pub(crate) fn check_columns(
    r: &mut Reader<'_>,
    columns: &[(u32, usize)],
    bounds: Bounds,
) -> Result<Claims, ChunkError> {
    let mut claims = Claims::default();
    for &(spec, len) in columns {
        let data = r.take(len)?;
        if spec & COLUMN_DEFLATE != 0 {
            return Err(ChunkError::CompressedColumns);
        }
        let column = column_claims(spec & COLUMN_TYPE, data, bounds, claims.string_bytes)?;
        claims.rows = claims.rows.max(column.rows);
        claims.string_bytes = column.string_bytes;
    }
    Ok(claims)
}

/// What one column's data claims, refusing as soon as a run passes `bounds` (before reading
/// the run's values; for a repeated string, before reading its bytes). Other columns of the
/// chunk already hold `strings_before` bytes of strings, which the returned string bytes
/// include.
fn column_claims(
    kind: u32,
    data: &[u8],
    bounds: Bounds,
    strings_before: u64,
) -> Result<Claims, ChunkError> {
    let mut r = Reader::new(data);
    let mut claims = Claims {
        rows: 0,
        string_bytes: strings_before,
    };
    let add_rows = |claims: &mut Claims, n: u64| -> Result<(), ChunkError> {
        claims.rows = claims.rows.saturating_add(n);
        if claims.rows > bounds.rows {
            return Err(ChunkError::TooManyRows { max: bounds.rows });
        }
        Ok(())
    };
    // Reads a string's length and counts it `times` before skipping its bytes.
    let string = |r: &mut Reader<'_>, claims: &mut Claims, times: u64| -> Result<(), ChunkError> {
        let len = uleb(r)?;
        claims.string_bytes = claims
            .string_bytes
            .saturating_add(len.saturating_mul(times));
        if claims.string_bytes > bounds.string_bytes {
            return Err(ChunkError::TooManyStringBytes {
                max: bounds.string_bytes,
            });
        }
        r.take(usize_of(len)?)?;
        Ok(())
    };
    match kind {
        COLUMN_VALUE => {}
        COLUMN_BOOLEAN => {
            while r.remaining() > 0 {
                add_rows(&mut claims, uleb(&mut r)?)?;
            }
        }
        COLUMN_STRING => {
            while r.remaining() > 0 {
                let count = sleb(&mut r)?;
                if count > 0 {
                    add_rows(&mut claims, count.unsigned_abs())?;
                    string(&mut r, &mut claims, count.unsigned_abs())?;
                } else if count < 0 {
                    add_rows(&mut claims, count.unsigned_abs())?;
                    for _ in 0..count.unsigned_abs() {
                        string(&mut r, &mut claims, 1)?;
                    }
                } else {
                    add_rows(&mut claims, uleb(&mut r)?)?;
                }
            }
        }
        _ => {
            while r.remaining() > 0 {
                let count = sleb(&mut r)?;
                if count > 0 {
                    add_rows(&mut claims, count.unsigned_abs())?;
                    skip_leb(&mut r)?;
                } else if count < 0 {
                    add_rows(&mut claims, count.unsigned_abs())?;
                    for _ in 0..count.unsigned_abs() {
                        skip_leb(&mut r)?;
                    }
                } else {
                    add_rows(&mut claims, uleb(&mut r)?)?;
                }
            }
        }
    }
    Ok(claims)
}

/// Skips a LEB128 length and that many bytes.
fn skip_bytes(r: &mut Reader<'_>) -> Result<(), ChunkError> {
    let len = usize_of(uleb(r)?)?;
    r.take(len)?;
    Ok(())
}

/// Skips a LEB128 number of at most 10 bytes, signed (delta columns, times) or not: both end
/// at the first byte below 0x80.
fn skip_leb(r: &mut Reader<'_>) -> Result<(), ChunkError> {
    for _ in 0..10 {
        if r.u8()? & 0x80 == 0 {
            return Ok(());
        }
    }
    Err(ChunkError::Malformed("LEB128 number is too long"))
}

/// An unsigned LEB128 number of at most 64 bits.
pub(crate) fn uleb(r: &mut Reader<'_>) -> Result<u64, ChunkError> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let byte = r.u8()?;
        let low = u64::from(byte & 0x7f);
        if i == 9 && low > 1 {
            return Err(ChunkError::Malformed("LEB128 number overflows 64 bits"));
        }
        value |= low << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ChunkError::Malformed("LEB128 number is too long"))
}

/// A signed LEB128 number of at most 64 bits.
pub(crate) fn sleb(r: &mut Reader<'_>) -> Result<i64, ChunkError> {
    let mut value: i64 = 0;
    for i in 0..10 {
        let byte = r.u8()?;
        let shift = 7 * i;
        if i == 9 && byte != 0x00 && byte != 0x7f {
            return Err(ChunkError::Malformed("LEB128 number overflows 64 bits"));
        }
        value |= i64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            if shift + 7 < 64 && byte & 0x40 != 0 {
                value |= -1i64 << (shift + 7);
            }
            return Ok(value);
        }
    }
    Err(ChunkError::Malformed("LEB128 number is too long"))
}

/// A length read from the input, as a `usize`.
pub(crate) fn usize_of(n: u64) -> Result<usize, ChunkError> {
    usize::try_from(n).map_err(|_| ChunkError::Malformed("length out of range"))
}

/// Builders of hand-made chunks, for this module's tests and its callers'.
#[cfg(test)]
pub(crate) mod build {
    use super::*;

    pub(crate) fn uleb(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    pub(crate) fn sleb(n: i64, out: &mut Vec<u8>) {
        let mut n = n;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            let done = (n == 0 && byte & 0x40 == 0) || (n == -1 && byte & 0x40 != 0);
            out.push(if done { byte } else { byte | 0x80 });
            if done {
                return;
            }
        }
    }

    /// A chunk of `kind` around `body`, with a zero checksum (nothing here checks it).
    pub(crate) fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[0; 4]);
        out.push(kind);
        uleb(body.len() as u64, &mut out);
        out.extend_from_slice(body);
        out
    }

    /// Column metadata (count, then specification and length per column) followed by the data.
    pub(crate) fn columns(columns: &[(u32, Vec<u8>)], out: &mut Vec<u8>) {
        uleb(columns.len() as u64, out);
        for (spec, data) in columns {
            uleb(u64::from(*spec), out);
            uleb(data.len() as u64, out);
        }
        for (_, data) in columns {
            out.extend_from_slice(data);
        }
    }

    /// A change chunk by `actor` (no dependencies, sequence number 1, start operation 1, time 0,
    /// no message, no other actors) with the given operation columns.
    pub(crate) fn change(actor: &[u8], ops: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        uleb(0, &mut body);
        uleb(actor.len() as u64, &mut body);
        body.extend_from_slice(actor);
        uleb(1, &mut body);
        uleb(1, &mut body);
        sleb(0, &mut body);
        uleb(0, &mut body);
        uleb(0, &mut body);
        columns(ops, &mut body);
        chunk(CHUNK_CHANGE, &body)
    }

    /// A change chunk of exactly `len` bytes (at least 19) with no operations, padded with
    /// extra bytes: cheap to make large. Its length is a LEB128 number of the fewest bytes that
    /// make `len` come out exactly, which for a few lengths is one byte longer than needed
    /// (this scan accepts that; automerge is never shown these).
    pub(crate) fn padded_change(len: usize) -> Vec<u8> {
        let fixed = [0u8, 1, 7, 1, 1, 0, 0, 0, 0];
        for k in 1..=5u32 {
            let Some(body) = len.checked_sub(9 + k as usize) else {
                break;
            };
            if body < fixed.len() || body as u64 >= 1 << (7 * k) {
                continue;
            }
            let mut out = MAGIC.to_vec();
            out.extend_from_slice(&[0; 4]);
            out.push(CHUNK_CHANGE);
            for i in 0..k {
                let byte = ((body >> (7 * i)) & 0x7f) as u8;
                out.push(if i + 1 < k { byte | 0x80 } else { byte });
            }
            out.extend_from_slice(&fixed);
            // Pseudo-random padding (the change's extra bytes): incompressible, so a padded
            // change is as large sealed as it is here.
            let mut x: u32 = 0x9e37_79b9;
            while out.len() < len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                out.push(x as u8);
            }
            return out;
        }
        panic!("no padded change of {len} bytes")
    }

    /// Column specification: `id`, the given type.
    pub(crate) fn spec(id: u32, kind: u32) -> u32 {
        (id << 4) | kind
    }
}

#[cfg(test)]
mod tests {
    use super::build::spec;
    use super::*;
    use proptest::prelude::*;
    use puente_crdt::automerge::transaction::Transactable as _;
    use puente_crdt::automerge::{ActorId, AutoCommit, ROOT};

    const ACTOR: [u8; 32] = [7; 32];
    const MAX: u64 = 1 << 20;
    const BOUNDS: Bounds = Bounds {
        rows: MAX,
        string_bytes: MAX_STRING_BYTES,
    };

    fn rows_of(kind: u32, data: &[u8]) -> Result<u64, ChunkError> {
        column_claims(kind, data, BOUNDS, 0).map(|c| c.rows)
    }

    fn rows(change: &[u8]) -> Result<u64, ChunkError> {
        change_claims(change, BOUNDS).map(|c| c.rows)
    }

    #[test]
    fn every_run_kind_is_counted() {
        // Repeat, literal and null runs of integers.
        let mut rle = Vec::new();
        build::sleb(3, &mut rle);
        build::uleb(7, &mut rle);
        build::sleb(-2, &mut rle);
        build::uleb(300, &mut rle);
        build::uleb(1, &mut rle);
        build::sleb(0, &mut rle);
        build::uleb(4, &mut rle);
        assert_eq!(rows_of(2, &rle), Ok(9));
        // Negative deltas, including one that takes ten bytes.
        let mut delta = Vec::new();
        build::sleb(-2, &mut delta);
        build::sleb(-5, &mut delta);
        build::sleb(i64::MIN, &mut delta);
        assert_eq!(rows_of(3, &delta), Ok(2));
        // Strings.
        let mut strings = Vec::new();
        build::sleb(-2, &mut strings);
        build::uleb(3, &mut strings);
        strings.extend_from_slice(b"abc");
        build::uleb(0, &mut strings);
        build::sleb(5, &mut strings);
        build::uleb(1, &mut strings);
        strings.push(b'z');
        assert_eq!(
            column_claims(COLUMN_STRING, &strings, BOUNDS, 0),
            Ok(Claims {
                rows: 7,
                string_bytes: 3 + 5
            })
        );
        assert_eq!(rows_of(COLUMN_BOOLEAN, &[2, 0, 3]), Ok(5));
        assert_eq!(rows_of(COLUMN_VALUE, &[0xff; 9]), Ok(0));
    }

    #[test]
    fn real_changes_are_read_right() {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(ACTOR.as_slice()));
        for i in 0..50 {
            doc.put(ROOT, format!("key{i}"), i).expect("put");
        }
        doc.put(ROOT, "text", "x".repeat(500)).expect("put");
        doc.commit();
        let change = doc.get_last_local_change().expect("a change");
        assert_eq!(change.len(), 51);
        assert_eq!(rows(change.raw_bytes()), Ok(51));
        // An update: every op has a predecessor (the group and the predecessor columns count).
        for i in 0..50 {
            doc.put(ROOT, format!("key{i}"), i + 1).expect("put");
        }
        doc.commit();
        let change = doc.get_last_local_change().expect("a change");
        assert_eq!(rows(change.raw_bytes()), Ok(50));
        // A change with an extra actor (an op whose predecessor is another actor's).
        let mut theirs = doc.fork().with_actor(ActorId::from([8u8; 32].as_slice()));
        theirs.put(ROOT, "key1", 9).expect("put");
        theirs.commit();
        let change = theirs.get_last_local_change().expect("a change");
        assert_eq!(rows(change.raw_bytes()), Ok(1));
        // A compressed change.
        let mut big = AutoCommit::new().with_actor(ActorId::from(ACTOR.as_slice()));
        big.put(ROOT, "k", "y".repeat(4096)).expect("put");
        big.commit();
        let mut change = big.get_last_local_change().expect("a change").clone();
        assert_eq!(
            rows(change.bytes().as_ref()),
            Err(ChunkError::CompressedColumns)
        );
    }

    #[test]
    fn runs_past_the_bound_are_refused_before_their_values() {
        let max = i64::try_from(MAX).expect("fits");
        let mut repeat = Vec::new();
        build::sleb(1 << 40, &mut repeat);
        let mut literal = Vec::new();
        build::sleb(-(max + 1), &mut literal);
        let mut nulls = Vec::new();
        for _ in 0..2 {
            build::sleb(0, &mut nulls);
            build::uleb(MAX / 2 + 1, &mut nulls);
        }
        let mut booleans = Vec::new();
        build::uleb(MAX, &mut booleans);
        build::uleb(1, &mut booleans);
        // No values follow the claims: the refusal comes from the count alone.
        for (kind, data) in [
            (2, repeat),
            (COLUMN_STRING, literal),
            (3, nulls),
            (COLUMN_BOOLEAN, booleans),
        ] {
            assert_eq!(
                rows_of(kind, &data),
                Err(ChunkError::TooManyRows { max: MAX }),
                "column type {kind}"
            );
        }
    }

    #[test]
    fn long_strings_repeated_by_runs_are_refused_before_their_bytes() {
        // One run repeating a 1 KiB key a million times: few rows, but automerge would hash
        // a gigabyte of keys. The key's bytes are not even there.
        let mut repeat = Vec::new();
        build::sleb(1 << 20, &mut repeat);
        build::uleb(1024, &mut repeat);
        assert_eq!(
            column_claims(COLUMN_STRING, &repeat, BOUNDS, 0),
            Err(ChunkError::TooManyStringBytes {
                max: MAX_STRING_BYTES
            })
        );
        // The bound is over every string column of the chunk together.
        let mut half = Vec::new();
        build::sleb(1 << 16, &mut half);
        build::uleb(512, &mut half);
        half.extend_from_slice(&[b'k'; 512]);
        let one = build::change(&ACTOR, &[(spec(1, COLUMN_STRING), half.clone())]);
        assert_eq!(
            change_claims(&one, BOUNDS),
            Ok(Claims {
                rows: 1 << 16,
                string_bytes: 1 << 25
            })
        );
        let mut third = Vec::new();
        build::sleb(1, &mut third);
        build::uleb(1, &mut third);
        third.push(b'x');
        let two = build::change(
            &ACTOR,
            &[
                (spec(1, COLUMN_STRING), half.clone()),
                (spec(10, COLUMN_STRING), half),
                (spec(11, COLUMN_STRING), third),
            ],
        );
        assert_eq!(
            change_claims(&two, BOUNDS),
            Err(ChunkError::TooManyStringBytes {
                max: MAX_STRING_BYTES
            })
        );
    }

    #[test]
    fn leb128_edges_do_not_overflow() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(uleb(&mut r), Ok(u64::MAX));
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert!(uleb(&mut r).is_err());
        let mut r = Reader::new(&[0x80; 11]);
        assert!(uleb(&mut r).is_err());
        let mut min = Vec::new();
        build::sleb(i64::MIN, &mut min);
        assert_eq!(sleb(&mut Reader::new(&min)), Ok(i64::MIN));
        let mut max = Vec::new();
        build::sleb(i64::MAX, &mut max);
        assert_eq!(sleb(&mut Reader::new(&max)), Ok(i64::MAX));
        assert_eq!(sleb(&mut Reader::new(&[0x7f])), Ok(-1));
        assert_eq!(rows_of(2, &min), Err(ChunkError::TooManyRows { max: MAX }));
    }

    #[test]
    fn change_layout_errors_are_typed() {
        let column = |data: Vec<u8>| vec![(spec(4, 2), data)];
        let change = build::change(&ACTOR, &column(vec![1, 1]));
        assert_eq!(rows(&change), Ok(1));
        // Bytes after the chunk, a cut chunk, another chunk type, a flagged column.
        let mut longer = change.clone();
        longer.push(0);
        assert!(matches!(rows(&longer), Err(ChunkError::Malformed(_))));
        assert!(matches!(
            rows(&change[..change.len() - 1]),
            Err(ChunkError::Malformed(_))
        ));
        let mut document = change.clone();
        document[8] = CHUNK_DOCUMENT;
        assert_eq!(
            rows(&document),
            Err(ChunkError::Malformed("not a change chunk"))
        );
        document[8] = CHUNK_COMPRESSED_CHANGE;
        assert_eq!(rows(&document), Err(ChunkError::CompressedColumns));
        let flagged = build::change(&ACTOR, &[(spec(4, 2) | COLUMN_DEFLATE, vec![1, 1])]);
        assert_eq!(rows(&flagged), Err(ChunkError::CompressedColumns));
        // A dependency count whose bytes would overflow.
        let mut body = Vec::new();
        build::uleb(u64::MAX / 16, &mut body);
        assert!(matches!(
            rows(&build::chunk(CHUNK_CHANGE, &body)),
            Err(ChunkError::Malformed(_))
        ));
        // Too many columns.
        let mut body = Vec::new();
        build::uleb(0, &mut body);
        build::uleb(0, &mut body);
        body.extend_from_slice(&[1, 1, 0, 0, 0]);
        build::uleb(MAX_COLUMNS + 1, &mut body);
        assert_eq!(
            rows(&build::chunk(CHUNK_CHANGE, &body)),
            Err(ChunkError::Malformed("too many columns"))
        );
    }

    #[test]
    fn padded_changes_are_well_formed() {
        for len in [19, 127 + 10, 128 + 10, 129 + 10, 20_000, 1 << 22] {
            let change = build::padded_change(len);
            assert_eq!(change.len(), len);
            assert_eq!(rows(&change), Ok(0), "{len}");
        }
    }

    proptest! {
        #[test]
        fn scanning_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = rows(&bytes);
            for kind in 0..8 {
                let _ = column_claims(kind, &bytes, BOUNDS, 0);
            }
            // The same bytes as the body of a change chunk.
            let _ = rows(&build::chunk(CHUNK_CHANGE, &bytes));
        }

        #[test]
        fn mutated_changes_never_panic(index in 0usize..400, byte in any::<u8>()) {
            let mut doc = AutoCommit::new().with_actor(ActorId::from(ACTOR.as_slice()));
            doc.put(ROOT, "offer", "x".repeat(20)).expect("put");
            doc.put(ROOT, "beds", 2).expect("put");
            doc.commit();
            let mut bytes = doc.get_last_local_change().expect("a change").raw_bytes().to_vec();
            let i = index % bytes.len();
            bytes[i] = byte;
            let _ = rows(&bytes);
        }
    }
}
