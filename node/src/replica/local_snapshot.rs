//! The local snapshot format: every partition's automerge `save()` and the view derived from
//! exactly those partitions, in one sealed store snapshot that only shortens start-up.
//!
//! Invariant: a v2 or v3 snapshot's view is the view of the partitions beside it; v1 (no view)
//! is still read, and the view is then derived again.
//! Boundary: bytes in, bytes out; no store, no automerge (the partitions' bytes are opaque here).

use std::borrow::Cow;
use std::io::{Read as _, Write as _};

use puente_crdt::OrgId;

/// The version of the local snapshot encoding (2 added the cached view, 3 deflates it).
const SNAPSHOT_VERSION: u8 = 3;

/// Local snapshot encoding (v3): version byte, partition count (u32), then per partition the
/// 10-byte organisation id, a u32 length and the automerge `save()` bytes; then a u32 length and
/// the encoded view derived from exactly those partitions, as a raw deflate stream (v2: the
/// view as it is; the view repeats every offer's fields as text, and deflated it weighs about a
/// tenth, while the partitions' `save()` is deflated by automerge already). Without a view, v1
/// (no view section).
pub(super) fn encode_snapshot(parts: &[(OrgId, Vec<u8>)], view: Option<&[u8]>) -> Vec<u8> {
    let len: usize = parts.iter().map(|(_, b)| b.len() + 14).sum();
    let mut out = Vec::with_capacity(len + 9 + view.map_or(0, |v| v.len() / 8));
    out.push(if view.is_some() { SNAPSHOT_VERSION } else { 1 });
    out.extend_from_slice(&u32::try_from(parts.len()).unwrap_or(u32::MAX).to_be_bytes());
    for (org, bytes) in parts {
        out.extend_from_slice(org.as_bytes());
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    if let Some(view) = view {
        let deflated = deflate(view);
        out.extend_from_slice(
            &u32::try_from(deflated.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(&deflated);
    }
    out
}

/// `bytes` as a raw deflate stream at the default level: a fifth of the fastest level's size
/// smaller on the view, for about 12 ms per MB when a command that wrote closes the store.
fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(bytes.len() / 8),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The partitions and, from v2 on, the cached view of a local snapshot (inflated from v3 on).
pub(super) type DecodedSnapshot<'a> = (Vec<(OrgId, &'a [u8])>, Option<Cow<'a, [u8]>>);

/// The partitions and cached view of a local snapshot, or `None` when it is damaged.
pub(super) fn decode_snapshot(bytes: &[u8]) -> Option<DecodedSnapshot<'_>> {
    let (&version, mut rest) = bytes.split_first()?;
    if !(1..=SNAPSHOT_VERSION).contains(&version) {
        return None;
    }
    let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    rest = &rest[4..];
    let mut out = Vec::new();
    for _ in 0..n {
        let org: [u8; 10] = rest.get(..10)?.try_into().ok()?;
        let len = u32::from_be_bytes(rest.get(10..14)?.try_into().ok()?) as usize;
        let doc = rest.get(14..14 + len)?;
        out.push((OrgId::from_bytes(org), doc));
        rest = &rest[14 + len..];
    }
    let view = if version == 1 {
        None
    } else {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let v = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some(if version == 2 {
            Cow::Borrowed(v)
        } else {
            // The snapshot was sealed by this store, so the stream is its own: no bound beyond
            // what the view it was made from weighed.
            let mut inflated = Vec::with_capacity(v.len().saturating_mul(8));
            flate2::read::DeflateDecoder::new(v)
                .read_to_end(&mut inflated)
                .ok()?;
            Cow::Owned(inflated)
        })
    };
    rest.is_empty().then_some((out, view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_round_trips_and_trailing_bytes_are_refused() {
        let a = OrgId::from_bytes([1; 10]);
        let b = OrgId::from_bytes([2; 10]);
        let parts = vec![(a, vec![1, 2, 3]), (b, Vec::new())];
        let view_bytes = b"view view view view view view view view".repeat(100);
        let v3 = encode_snapshot(&parts, Some(&view_bytes));
        assert_eq!(v3[0], SNAPSHOT_VERSION);
        assert!(
            v3.len() < view_bytes.len() / 4,
            "the view is stored deflated"
        );
        let (decoded, view) = decode_snapshot(&v3).expect("v3 decodes");
        assert_eq!(decoded, vec![(a, &[1u8, 2, 3][..]), (b, &[][..])]);
        assert_eq!(view.as_deref(), Some(&view_bytes[..]));
        // v2, as earlier versions wrote it: the view as it is.
        let mut v2 = encode_snapshot(&parts, None);
        v2[0] = 2;
        v2.extend_from_slice(&4u32.to_be_bytes());
        v2.extend_from_slice(b"view");
        let (decoded, view) = decode_snapshot(&v2).expect("v2 decodes");
        assert_eq!(decoded.len(), 2);
        assert_eq!(view.as_deref(), Some(&b"view"[..]));
        let v1 = encode_snapshot(&parts, None);
        assert_eq!(v1[0], 1);
        let (decoded, view) = decode_snapshot(&v1).expect("v1 decodes");
        assert_eq!(decoded.len(), 2);
        assert_eq!(view, None);
        let mut longer = v2.clone();
        longer.push(0);
        assert!(decode_snapshot(&longer).is_none());
        assert!(decode_snapshot(&v2[..v2.len() - 1]).is_none());
        assert!(decode_snapshot(&[4]).is_none());
    }
}
