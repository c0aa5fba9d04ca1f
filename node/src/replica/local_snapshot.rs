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

/// A partition as the local snapshot holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part<B> {
    /// Its automerge `save()` bytes (or a received document as it was adopted).
    Saved(B),
    /// This device's own partition, whose document is exactly that of the stored own signed
    /// snapshot (`snapshot.rs`), so it is not stored twice.
    InOwnSnapshot,
}

/// The length that marks a partition as [`Part::InOwnSnapshot`] (no bytes follow).
const IN_OWN_SNAPSHOT: u32 = u32::MAX;

/// Local snapshot encoding (v3): version byte, partition count (u32), then per partition the
/// 10-byte organisation id, a u32 length and the automerge `save()` bytes (or the length
/// `u32::MAX` and no bytes: the own partition is the stored own snapshot's document, v3 only);
/// then a u32 length and
/// the encoded view derived from exactly those partitions, as a raw deflate stream (v2: the
/// view as it is; deflated, the view weighs a fraction, while the partitions' `save()` is
/// deflated by automerge already), or the length `u32::MAX` for no view (v1: no view section).
pub(super) fn encode_snapshot(parts: &[(OrgId, Part<Vec<u8>>)], view: Option<&[u8]>) -> Vec<u8> {
    let len: usize = parts
        .iter()
        .map(|(_, p)| match p {
            Part::Saved(b) => b.len() + 14,
            Part::InOwnSnapshot => 14,
        })
        .sum();
    let mut out = Vec::with_capacity(len + 9 + view.map_or(0, |v| v.len() / 8));
    out.push(SNAPSHOT_VERSION);
    out.extend_from_slice(&u32::try_from(parts.len()).unwrap_or(u32::MAX).to_be_bytes());
    for (org, part) in parts {
        out.extend_from_slice(org.as_bytes());
        match part {
            Part::Saved(bytes) => {
                let len = u32::try_from(bytes.len()).unwrap_or(IN_OWN_SNAPSHOT - 1);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(bytes);
            }
            Part::InOwnSnapshot => out.extend_from_slice(&IN_OWN_SNAPSHOT.to_be_bytes()),
        }
    }
    match view {
        Some(view) => {
            let deflated = deflate(view);
            let len = u32::try_from(deflated.len()).unwrap_or(NO_VIEW - 1);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&deflated);
        }
        None => out.extend_from_slice(&NO_VIEW.to_be_bytes()),
    }
    out
}

/// The view length that says the snapshot holds no view (v3; v1 had no view section).
const NO_VIEW: u32 = u32::MAX;

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
pub(super) type DecodedSnapshot<'a> = (Vec<(OrgId, Part<&'a [u8]>)>, Option<Cow<'a, [u8]>>);

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
        let len = u32::from_be_bytes(rest.get(10..14)?.try_into().ok()?);
        if len == IN_OWN_SNAPSHOT && version >= 3 {
            out.push((OrgId::from_bytes(org), Part::InOwnSnapshot));
            rest = &rest[14..];
            continue;
        }
        let len = len as usize;
        let doc = rest.get(14..14 + len)?;
        out.push((OrgId::from_bytes(org), Part::Saved(doc)));
        rest = &rest[14 + len..];
    }
    let view = if version == 1 {
        None
    } else {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        if version >= 3 && len == NO_VIEW {
            rest = &rest[4..];
            return rest.is_empty().then_some((out, None));
        }
        let len = len as usize;
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
        let own = OrgId::from_bytes([3; 10]);
        let parts = vec![
            (a, Part::Saved(vec![1, 2, 3])),
            (b, Part::Saved(Vec::new())),
            (own, Part::InOwnSnapshot),
        ];
        let view_bytes = b"view view view view view view view view".repeat(100);
        let v3 = encode_snapshot(&parts, Some(&view_bytes));
        assert_eq!(v3[0], SNAPSHOT_VERSION);
        assert!(
            v3.len() < view_bytes.len() / 4,
            "the view is stored deflated"
        );
        let (decoded, view) = decode_snapshot(&v3).expect("v3 decodes");
        let expected = vec![
            (a, Part::Saved(&[1u8, 2, 3][..])),
            (b, Part::Saved(&[][..])),
            (own, Part::InOwnSnapshot),
        ];
        assert_eq!(decoded, expected);
        assert_eq!(view.as_deref(), Some(&view_bytes[..]));
        let no_view = encode_snapshot(&parts, None);
        let (decoded, view) = decode_snapshot(&no_view).expect("v3 without a view decodes");
        assert_eq!((decoded, view), (expected, None));

        // v1 and v2, as earlier versions wrote them: no view section; the view as it is.
        let mut v1 = encode_snapshot(&parts[..2], None);
        v1[0] = 1;
        v1.truncate(v1.len() - 4);
        let (decoded, view) = decode_snapshot(&v1).expect("v1 decodes");
        assert_eq!((decoded.len(), view), (2, None));
        let mut v2 = v1.clone();
        v2[0] = 2;
        v2.extend_from_slice(&4u32.to_be_bytes());
        v2.extend_from_slice(b"view");
        let (decoded, view) = decode_snapshot(&v2).expect("v2 decodes");
        assert_eq!(decoded.len(), 2);
        assert_eq!(view.as_deref(), Some(&b"view"[..]));
        // Before v3 the marker is just a length, far too long.
        let mut marked = v1[..1].to_vec();
        marked.extend_from_slice(&1u32.to_be_bytes());
        marked.extend_from_slice(own.as_bytes());
        marked.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_snapshot(&marked).is_none());

        let mut longer = v3.clone();
        longer.push(0);
        assert!(decode_snapshot(&longer).is_none());
        assert!(decode_snapshot(&v3[..v3.len() - 1]).is_none());
        assert!(decode_snapshot(&[4]).is_none());
    }
}
