//! The store header file (`puente.header`, store format v1): magic, format version, Argon2id
//! parameters, salt, and the data key sealed under the passphrase-derived key.
//!
//! This module owns the header's byte layout and nothing else: it must not read or write files
//! or choose parameters. The header is not secret; every field is bound to the wrapped key as
//! associated data, so editing any of them makes unwrapping fail.

use crate::crypto::seal::{self, KdfParams, SALT_LEN, SEAL_OVERHEAD, SealError, SymmetricKey};

/// Magic bytes at the start of a header, so a stray file is never mistaken for one.
pub(crate) const MAGIC: [u8; 8] = *b"PUENTEDB";

/// Store format version written by this code.
pub(crate) const STORE_FORMAT_VERSION: u16 = 1;

/// Length of the fields before the wrapped key (magic 8, version 2, m/t/p 12, salt 16); these
/// bytes are the associated data of the wrapped key.
const PREFIX_LEN: usize = 8 + 2 + 12 + SALT_LEN;

/// Length of the wrapped data key: nonce, 32 key bytes, tag.
const WRAPPED_LEN: usize = SEAL_OVERHEAD + seal::KEY_LEN;

/// Total header length.
pub(crate) const HEADER_LEN: usize = PREFIX_LEN + WRAPPED_LEN;

/// Why header bytes could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderParseError {
    /// Not a puente header, or not the length version 1 requires.
    Malformed(&'static str),
    /// A store format version this code does not know.
    Version(u16),
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) params: KdfParams,
    pub(crate) salt: [u8; SALT_LEN],
    wrapped: [u8; WRAPPED_LEN],
}

impl Header {
    /// Builds a header that wraps `data_key` under `kek` (derived from the passphrase with
    /// `params` and `salt`).
    pub(crate) fn wrap(
        params: KdfParams,
        salt: [u8; SALT_LEN],
        kek: &SymmetricKey,
        data_key: &SymmetricKey,
    ) -> Header {
        let mut header = Header {
            params,
            salt,
            wrapped: [0; WRAPPED_LEN],
        };
        let sealed = seal::seal(kek, &header.prefix(), data_key.as_bytes());
        header.wrapped.copy_from_slice(&sealed);
        header
    }

    /// Unwraps the data key; fails if the passphrase is wrong or any header byte was edited.
    pub(crate) fn unwrap(&self, kek: &SymmetricKey) -> Result<SymmetricKey, SealError> {
        let plain = seal::open(kek, &self.prefix(), &self.wrapped)?;
        let bytes: &[u8; seal::KEY_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Unauthentic)?;
        Ok(SymmetricKey::from_bytes(bytes))
    }

    fn prefix(&self) -> [u8; PREFIX_LEN] {
        let mut out = [0; PREFIX_LEN];
        out[..8].copy_from_slice(&MAGIC);
        out[8..10].copy_from_slice(&STORE_FORMAT_VERSION.to_be_bytes());
        out[10..14].copy_from_slice(&self.params.m_kib.to_be_bytes());
        out[14..18].copy_from_slice(&self.params.t.to_be_bytes());
        out[18..22].copy_from_slice(&self.params.p.to_be_bytes());
        out[22..].copy_from_slice(&self.salt);
        out
    }

    /// The encoded header.
    pub(crate) fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[..PREFIX_LEN].copy_from_slice(&self.prefix());
        out[PREFIX_LEN..].copy_from_slice(&self.wrapped);
        out
    }

    /// Parses header bytes (magic, then version, then exact length).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Header, HeaderParseError> {
        if bytes.len() < 10 || bytes[..8] != MAGIC {
            return Err(HeaderParseError::Malformed("not a puente store header"));
        }
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != STORE_FORMAT_VERSION {
            return Err(HeaderParseError::Version(version));
        }
        if bytes.len() != HEADER_LEN {
            return Err(HeaderParseError::Malformed("header has the wrong length"));
        }
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut salt = [0; SALT_LEN];
        salt.copy_from_slice(&bytes[22..PREFIX_LEN]);
        let mut wrapped = [0; WRAPPED_LEN];
        wrapped.copy_from_slice(&bytes[PREFIX_LEN..]);
        Ok(Header {
            params: KdfParams {
                m_kib: word(10),
                t: word(14),
                p: word(18),
            },
            salt,
            wrapped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_binds_every_field() {
        // A stand-in key-encryption key: wrapping does not care how it was derived.
        let kek = SymmetricKey::from_bytes(&[1; 32]);
        let data = SymmetricKey::from_bytes(&[2; 32]);
        let header = Header::wrap(KdfParams::FLOOR, [3; SALT_LEN], &kek, &data);
        let bytes = header.to_bytes();
        assert_eq!(bytes.len(), 110);
        let parsed = Header::parse(&bytes).expect("parses");
        assert_eq!(parsed, header);
        assert_eq!(
            parsed.unwrap(&kek).map(|k| *k.as_bytes()),
            Ok(*data.as_bytes())
        );
        assert!(parsed.unwrap(&SymmetricKey::from_bytes(&[9; 32])).is_err());
        for i in 10..HEADER_LEN {
            let mut edited = bytes;
            edited[i] ^= 1;
            let parsed = Header::parse(&edited).expect("still parses");
            assert!(
                parsed.unwrap(&kek).is_err(),
                "editing byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        let kek = SymmetricKey::from_bytes(&[1; 32]);
        let bytes = Header::wrap(KdfParams::FLOOR, [3; SALT_LEN], &kek, &kek).to_bytes();
        assert!(matches!(
            Header::parse(&[]),
            Err(HeaderParseError::Malformed(_))
        ));
        assert!(matches!(
            Header::parse(&bytes[..HEADER_LEN - 1]),
            Err(HeaderParseError::Malformed(_))
        ));
        let mut v2 = bytes;
        v2[9] = 2;
        assert_eq!(Header::parse(&v2), Err(HeaderParseError::Version(2)));
        let mut magic = bytes;
        magic[0] = b'X';
        assert!(matches!(
            Header::parse(&magic),
            Err(HeaderParseError::Malformed(_))
        ));
    }
}
