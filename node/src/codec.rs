//! The bounded cursor that every binary format of the node (envelopes, snapshots, membership
//! ops, sync frames) is parsed with. It owns no format: it only reads fixed-size fields from
//! untrusted bytes and fails with the format's own "truncated" error instead of panicking or
//! reading past the end.

use std::marker::PhantomData;

/// An error type that has a "the input ended early" case.
pub(crate) trait Truncation {
    /// The error for input that ended before a field did.
    fn truncated() -> Self;
}

/// Reads fields in order from untrusted bytes.
pub(crate) struct Reader<'a, E> {
    bytes: &'a [u8],
    pos: usize,
    error: PhantomData<E>,
}

impl<'a, E: Truncation> Reader<'a, E> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            error: PhantomData,
        }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], E> {
        let end = self.pos.checked_add(n).ok_or_else(E::truncated)?;
        let out = self.bytes.get(self.pos..end).ok_or_else(E::truncated)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], E> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, E> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, E> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, E> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, E> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Short;

    impl Truncation for Short {
        fn truncated() -> Self {
            Short
        }
    }

    #[test]
    fn reads_in_order_and_refuses_to_run_past_the_end() {
        let mut r = Reader::<Short>::new(&[1, 0, 2, 0, 0, 0, 3]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(2));
        assert_eq!(r.remaining(), 4);
        assert_eq!(r.u64(), Err(Short));
        assert_eq!(r.u32(), Ok(3));
        assert_eq!(r.take(usize::MAX), Err(Short));
        assert_eq!(r.remaining(), 0);
    }
}
