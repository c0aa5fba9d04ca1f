//! Symmetric sealing: the one place that calls the AEAD (XChaCha20-Poly1305) and the passphrase
//! KDF (Argon2id), and the one place that reads the operating system's random source.
//!
//! Every caller passes associated data that binds a ciphertext to where it lives (table and key,
//! header, format version), so ciphertexts cannot be swapped. This module must not decide what
//! that associated data is, touch the disk or the network, or log anything. Opening never panics
//! on short or garbage input.

use std::fmt;

use chacha20poly1305::aead::AeadInOut as _;
use chacha20poly1305::{KeyInit as _, Tag, XChaCha20Poly1305, XNonce};
use rand::TryRng as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of a symmetric key: XChaCha20-Poly1305 takes 256-bit keys.
pub const KEY_LEN: usize = 32;

/// Length of a nonce: XChaCha20's 192-bit nonce is large enough to pick at random for every
/// message without ever expecting a repeat.
pub const NONCE_LEN: usize = 24;

/// Length of the Poly1305 authentication tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// Bytes a sealed value is longer than its plaintext: nonce plus tag.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Length of an Argon2id salt: RFC 9106 recommends 128 bits.
pub const SALT_LEN: usize = 16;

/// Fills `buf` from the operating system's random source.
///
/// # Panics
/// If the operating system cannot provide randomness (getrandom(2) failing after boot). There is
/// no safe way to continue without it: keys and nonces would be predictable.
pub(crate) fn fill_random(buf: &mut [u8]) {
    rand::rngs::SysRng
        .try_fill_bytes(buf)
        .expect("the operating system's random source is available");
}

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The input is shorter than a nonce and a tag.
    #[error("sealed value is too short")]
    TooShort,
    /// Authentication failed: wrong key, wrong associated data, or altered bytes.
    #[error("sealed value could not be opened: wrong key, or the bytes were altered")]
    Unauthentic,
}

/// Why a key could not be derived from a passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KdfError {
    /// The parameters are weaker than [`KdfParams::FLOOR`].
    #[error(
        "key derivation parameters (m = {m_kib} KiB, t = {t}, p = {p}) are below the floor \
         (m = 65536 KiB, t = 3, p = 4)"
    )]
    BelowFloor {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// The parameters are above the ceiling, so deriving would exhaust memory or time.
    #[error("key derivation parameters (m = {m_kib} KiB, t = {t}, p = {p}) are beyond the ceiling")]
    AboveCeiling {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// Argon2 itself failed (for example, it could not allocate its memory).
    #[error("key derivation failed: {reason}")]
    Failed {
        /// Argon2's description of the failure (contains no secret).
        reason: String,
    },
}

/// A 256-bit symmetric key. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey([u8; KEY_LEN]);

impl SymmetricKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut key = Self([0; KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    /// Wraps existing key bytes (for example, unsealed from the store).
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self(*bytes)
    }

    /// The raw key bytes, for sealing the key itself under another key.
    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // The cipher keeps its own copy of the key and zeroizes it on drop (`zeroize` feature).
        XChaCha20Poly1305::new((&self.0).into())
    }
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

/// A fresh random nonce.
pub fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0; NONCE_LEN];
    fill_random(&mut nonce);
    nonce
}

/// Encrypts `plaintext` under `key`, authenticating `aad`, with a fresh random nonce.
/// Returns `nonce || ciphertext || tag` ([`SEAL_OVERHEAD`] bytes longer than the plaintext).
pub fn seal(key: &SymmetricKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce = random_nonce();
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.extend_from_slice(&nonce);
    seal_into(key, &nonce, aad, plaintext, &mut out);
    out
}

/// Encrypts with an explicit nonce, for formats that carry the nonce in a signed header.
/// Returns `ciphertext || tag`. The nonce must come from [`random_nonce`] and be used once.
pub(crate) fn seal_with_nonce(
    key: &SymmetricKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(TAG_LEN + plaintext.len());
    seal_into(key, nonce, aad, plaintext, &mut out);
    out
}

/// Appends `ciphertext || tag` to `out`, encrypting in place so that no plaintext copy is left
/// behind in a reallocated buffer (callers reserve the capacity).
fn seal_into(
    key: &SymmetricKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) {
    out.reserve_exact(plaintext.len() + TAG_LEN);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = key
        .cipher()
        .encrypt_inout_detached(&XNonce::from(*nonce), aad, (&mut out[start..]).into())
        .expect("puente never seals anything near XChaCha20-Poly1305's 256 GiB message limit");
    out.extend_from_slice(&tag);
}

/// Opens a value made by [`seal`]. The plaintext is zeroized when dropped, since callers use
/// this for keys and records alike.
pub fn open(
    key: &SymmetricKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(SealError::TooShort);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let mut nonce_arr = [0; NONCE_LEN];
    nonce_arr.copy_from_slice(nonce);
    open_with_nonce(key, &nonce_arr, aad, rest)
}

/// Opens `ciphertext || tag` made by [`seal_with_nonce`].
pub(crate) fn open_with_nonce(
    key: &SymmetricKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let Some(body_len) = ciphertext_and_tag.len().checked_sub(TAG_LEN) else {
        return Err(SealError::TooShort);
    };
    let (body, tag) = ciphertext_and_tag.split_at(body_len);
    let tag = Tag::try_from(tag).map_err(|_| SealError::TooShort)?;
    let mut buf = Zeroizing::new(body.to_vec());
    key.cipher()
        .decrypt_inout_detached(&XNonce::from(*nonce), aad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| SealError::Unauthentic)?;
    Ok(buf)
}

/// Argon2id cost parameters, stored next to the salt so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Number of passes.
    pub t: u32,
    /// Number of lanes.
    pub p: u32,
}

impl KdfParams {
    /// The weakest parameters puente accepts: RFC 9106's second recommended option
    /// (m = 64 MiB, t = 3, p = 4), which runs in about a third of a second on a laptop.
    pub const FLOOR: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 4,
    };

    /// Most memory a header may ask for: 4 GiB, above any sensible setting and at the limit of
    /// what a small server can allocate, so a hostile header cannot make opening eat all memory.
    pub const MAX_M_KIB: u32 = 4 * 1024 * 1024;

    /// Most passes a header may ask for: 64 passes at the floor's memory take tens of seconds,
    /// beyond which opening would look like a hang.
    pub const MAX_T: u32 = 64;

    /// Most lanes a header may ask for: more lanes than any device has cores buys nothing.
    pub const MAX_P: u32 = 64;

    /// Refuses parameters below the floor or above the ceiling.
    pub fn check(&self) -> Result<(), KdfError> {
        let Self { m_kib, t, p } = *self;
        if m_kib < Self::FLOOR.m_kib || t < Self::FLOOR.t || p < Self::FLOOR.p {
            return Err(KdfError::BelowFloor { m_kib, t, p });
        }
        if m_kib > Self::MAX_M_KIB || t > Self::MAX_T || p > Self::MAX_P {
            return Err(KdfError::AboveCeiling { m_kib, t, p });
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::FLOOR
    }
}

/// Derives a key from a passphrase with Argon2id (version 0x13), refusing parameters outside
/// the floor and ceiling before doing any work.
pub fn derive_key(
    passphrase: &[u8],
    salt: &[u8; SALT_LEN],
    params: KdfParams,
) -> Result<SymmetricKey, KdfError> {
    params.check()?;
    let failed = |e: argon2::Error| KdfError::Failed {
        reason: e.to_string(),
    };
    let argon_params =
        argon2::Params::new(params.m_kib, params.t, params.p, Some(KEY_LEN)).map_err(failed)?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut key = SymmetricKey([0; KEY_LEN]);
    argon
        .hash_password_into(passphrase, salt, &mut key.0)
        .map_err(failed)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> SymmetricKey {
        SymmetricKey::from_bytes(&[byte; KEY_LEN])
    }

    #[test]
    fn seal_open_round_trip() {
        let k = SymmetricKey::generate();
        let sealed = seal(&k, b"aad", b"plaintext");
        assert_eq!(sealed.len(), b"plaintext".len() + SEAL_OVERHEAD);
        assert_eq!(
            open(&k, b"aad", &sealed).as_deref().map(Vec::as_slice),
            Ok(&b"plaintext"[..])
        );
        // Fresh nonce every time.
        assert_ne!(seal(&k, b"aad", b"plaintext"), sealed);
        let empty = seal(&k, b"", b"");
        assert_eq!(open(&k, b"", &empty).map(|p| p.len()), Ok(0));
    }

    #[test]
    fn wrong_key_aad_or_tampering_is_refused() {
        let sealed = seal(&key(1), b"aad", b"plaintext");
        assert_eq!(open(&key(2), b"aad", &sealed), Err(SealError::Unauthentic));
        assert_eq!(open(&key(1), b"aaD", &sealed), Err(SealError::Unauthentic));
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                open(&key(1), b"aad", &tampered),
                Err(SealError::Unauthentic),
                "flipped byte {i}"
            );
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(open(&key(1), b"aad", &longer), Err(SealError::Unauthentic));
    }

    #[test]
    fn short_input_is_an_error() {
        for len in 0..SEAL_OVERHEAD {
            assert_eq!(open(&key(1), b"", &vec![0; len]), Err(SealError::TooShort));
        }
        assert_eq!(
            open_with_nonce(&key(1), &[0; NONCE_LEN], b"", &[0; TAG_LEN - 1]),
            Err(SealError::TooShort)
        );
    }

    #[test]
    fn explicit_nonce_round_trip() {
        let nonce = random_nonce();
        let ct = seal_with_nonce(&key(3), &nonce, b"h", b"body");
        assert_eq!(ct.len(), 4 + TAG_LEN);
        assert_eq!(
            open_with_nonce(&key(3), &nonce, b"h", &ct).map(|p| p.to_vec()),
            Ok(b"body".to_vec())
        );
        assert_eq!(
            open_with_nonce(&key(3), &random_nonce(), b"h", &ct),
            Err(SealError::Unauthentic)
        );
    }

    #[test]
    fn key_debug_is_redacted() {
        assert_eq!(format!("{:?}", key(9)), "SymmetricKey(<redacted>)");
    }

    #[test]
    fn kdf_refuses_params_outside_floor_and_ceiling_without_deriving() {
        let salt = [0; SALT_LEN];
        assert_eq!(KdfParams::default(), KdfParams::FLOOR);
        for weak in [
            KdfParams {
                m_kib: 65535,
                ..KdfParams::FLOOR
            },
            KdfParams {
                t: 2,
                ..KdfParams::FLOOR
            },
            KdfParams {
                p: 1,
                ..KdfParams::FLOOR
            },
        ] {
            assert!(matches!(
                derive_key(b"pw", &salt, weak),
                Err(KdfError::BelowFloor { .. })
            ));
        }
        for huge in [
            KdfParams {
                m_kib: KdfParams::MAX_M_KIB + 1,
                ..KdfParams::FLOOR
            },
            KdfParams {
                t: 65,
                ..KdfParams::FLOOR
            },
            KdfParams {
                p: 65,
                ..KdfParams::FLOOR
            },
            KdfParams {
                m_kib: u32::MAX,
                t: u32::MAX,
                p: u32::MAX,
            },
        ] {
            assert!(matches!(
                derive_key(b"pw", &salt, huge),
                Err(KdfError::AboveCeiling { .. })
            ));
        }
    }

    #[test]
    fn kdf_at_the_floor_depends_on_the_salt() {
        // Determinism (same passphrase and salt give the same key) is exercised by the store's
        // reopen tests; each derivation costs about a second in a debug build.
        let a = derive_key(b"correct horse", &[1; SALT_LEN], KdfParams::FLOOR).expect("derives");
        let c = derive_key(b"correct horse", &[2; SALT_LEN], KdfParams::FLOOR).expect("derives");
        assert_ne!(a.as_bytes(), c.as_bytes());
        assert_ne!(a.as_bytes(), &[0; KEY_LEN]);
    }

    proptest! {
        #[test]
        fn open_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200), aad in proptest::collection::vec(any::<u8>(), 0..16)) {
            prop_assert!(open(&key(5), &aad, &bytes).is_err());
        }

        #[test]
        fn seal_open_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..512), aad in proptest::collection::vec(any::<u8>(), 0..64)) {
            let sealed = seal(&key(6), &aad, &plaintext);
            let opened = open(&key(6), &aad, &sealed).map(|p| p.to_vec());
            prop_assert_eq!(opened, Ok(plaintext));
        }
    }
}
