//! The local snapshot format: every partition's automerge `save()` and the view derived from
//! exactly those partitions, in one sealed store snapshot that only shortens start-up.
//!
//! Invariant: a v2 snapshot's view is the view of the partitions beside it; v1 (no view) is
//! still read, and the view is then derived again.
//! Boundary: bytes in, bytes out; no store, no automerge (the partitions' bytes are opaque here).

use puente_crdt::OrgId;

/// The version of the local snapshot encoding (2 adds the cached view).
const SNAPSHOT_VERSION: u8 = 2;

/// Local snapshot encoding (v2): version byte, partition count (u32), then per partition the
/// 10-byte organisation id, a u32 length and the automerge `save()` bytes; then a u32 length and
/// the encoded view derived from exactly those partitions. Without a view, v1 (no view section).
pub(super) fn encode_snapshot(parts: &[(OrgId, Vec<u8>)], view: Option<&[u8]>) -> Vec<u8> {
    let len: usize = parts.iter().map(|(_, b)| b.len() + 14).sum();
    let mut out = Vec::with_capacity(len + 9 + view.map_or(0, <[u8]>::len));
    out.push(if view.is_some() { SNAPSHOT_VERSION } else { 1 });
    out.extend_from_slice(&u32::try_from(parts.len()).unwrap_or(u32::MAX).to_be_bytes());
    for (org, bytes) in parts {
        out.extend_from_slice(org.as_bytes());
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    if let Some(view) = view {
        out.extend_from_slice(&u32::try_from(view.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(view);
    }
    out
}

/// The partitions and, from v2 on, the cached view of a local snapshot.
pub(super) type DecodedSnapshot<'a> = (Vec<(OrgId, &'a [u8])>, Option<&'a [u8]>);

/// The partitions and cached view of a local snapshot, or `None` when it is damaged.
pub(super) fn decode_snapshot(bytes: &[u8]) -> Option<DecodedSnapshot<'_>> {
    let (&version, mut rest) = bytes.split_first()?;
    if version != 1 && version != SNAPSHOT_VERSION {
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
        Some(v)
    };
    rest.is_empty().then_some((out, view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_versions_round_trip_and_trailing_bytes_are_refused() {
        let a = OrgId::from_bytes([1; 10]);
        let b = OrgId::from_bytes([2; 10]);
        let parts = vec![(a, vec![1, 2, 3]), (b, Vec::new())];
        let v2 = encode_snapshot(&parts, Some(b"view"));
        assert_eq!(v2[0], SNAPSHOT_VERSION);
        let (decoded, view) = decode_snapshot(&v2).expect("v2 decodes");
        assert_eq!(decoded, vec![(a, &[1u8, 2, 3][..]), (b, &[][..])]);
        assert_eq!(view, Some(&b"view"[..]));
        let v1 = encode_snapshot(&parts, None);
        assert_eq!(v1[0], 1);
        let (decoded, view) = decode_snapshot(&v1).expect("v1 decodes");
        assert_eq!(decoded.len(), 2);
        assert_eq!(view, None);
        let mut longer = v2.clone();
        longer.push(0);
        assert!(decode_snapshot(&longer).is_none());
        assert!(decode_snapshot(&v2[..v2.len() - 1]).is_none());
        assert!(decode_snapshot(&[3]).is_none());
    }
}
