//! Keys that identify people and devices: Ed25519 signing keys, their public halves, signatures,
//! fingerprints people can read aloud, the organisation id derived from a founding key, and the
//! X25519 key-agreement keys used to hand group keys to members.
//!
//! This module owns key generation, signing and strict verification. It must not persist keys
//! (the store does, sealed), log them, or print secret material: every secret type zeroizes on
//! drop and its `Debug` prints `<redacted>`.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_DNSSEC;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use puente_crdt::OrgId;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::crypto::labels::{FINGERPRINT_DOMAIN, ORG_ID_DOMAIN};
use crate::crypto::seal::fill_random;

/// Number of five-digit groups in a fingerprint: 6 × 5 = 30 digits ≈ 99.6 bits, enough that a
/// second key with the same fingerprint cannot be searched for.
const FINGERPRINT_GROUPS: usize = 6;

/// Each group is read from 5 hash bytes (40 bits) reduced modulo 100 000; 2^40 is so much larger
/// than 10^5 that the modulo bias is below one in ten million.
const FINGERPRINT_GROUP_BYTES: usize = 5;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify under this key (or the key or signature is malformed or of
    /// small order, which strict verification refuses).
    #[error("signature is not valid for this key and message")]
    Invalid,
}

/// Why a key or fingerprint could not be parsed from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyParseError {
    /// The text is not the expected base32 (or, for a fingerprint, 30 digits).
    #[error("{what} `{text}` is not valid: expected {expected}")]
    Malformed {
        /// Which kind of value was expected.
        what: &'static str,
        /// The offending text, shortened (public values only).
        text: String,
        /// What was expected, for the message.
        expected: &'static str,
    },
}

/// Why a key agreement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgreementError {
    /// The peer's public key is of small order, so the shared secret would be predictable.
    #[error("the other party's agreement key is invalid (low order)")]
    NonContributory,
}

/// An Ed25519 signing key. Zeroized on drop; never printed.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        fill_random(seed.as_mut_slice());
        Self(SigningKey::from_bytes(&seed))
    }

    /// Rebuilds a key from its 32-byte seed (as returned by [`SecretKey::to_bytes`]).
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for sealing into the store. Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `msg` (deterministic Ed25519, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

// `SigningKey` zeroizes its secret scalar and seed on drop (ed25519-dalek `zeroize` feature).
impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// An Ed25519 public key, printed as 52 characters of lowercase base32 (`0-9a-v`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Number of raw bytes.
    pub const BYTES: usize = 32;

    /// Wraps raw bytes. Whether they are a valid curve point is checked when verifying.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Verifies `sig` over `msg` with strict RFC 8032 checks (canonical `s`, no small-order key
    /// or `R`), so that nobody but the key holder can produce a second valid signature for a
    /// message.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::Invalid)?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        key.verify_strict(msg, &sig)
            .map_err(|_| SignatureError::Invalid)
    }

    /// The fingerprint people compare over the phone.
    pub fn fingerprint(&self) -> Fingerprint {
        let hash: [u8; 32] = Sha256::new()
            .chain_update(FINGERPRINT_DOMAIN)
            .chain_update(self.0)
            .finalize()
            .into();
        let mut groups = [0u32; FINGERPRINT_GROUPS];
        for (group, chunk) in groups
            .iter_mut()
            .zip(hash.chunks_exact(FINGERPRINT_GROUP_BYTES))
        {
            let value = chunk
                .iter()
                .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
            // The remainder is below 100 000, so it fits in a u32.
            *group = (value % 100_000) as u32;
        }
        Fingerprint(groups)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_DNSSEC.encode(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_base32_key(s, "public key").map(Self)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Decodes 32 bytes of canonical lowercase (or uppercase) base32, one spelling per key.
fn decode_base32_key(s: &str, what: &'static str) -> Result<[u8; 32], KeyParseError> {
    let err = || KeyParseError::Malformed {
        what,
        text: s.chars().take(64).collect(),
        expected: "52 characters of 0-9 and a-v",
    };
    if s.len() != BASE32_DNSSEC.encode_len(32) {
        return Err(err());
    }
    let lower = s.to_ascii_lowercase();
    let bytes = BASE32_DNSSEC.decode(lower.as_bytes()).map_err(|_| err())?;
    let arr: [u8; 32] = bytes.try_into().map_err(|_| err())?;
    if BASE32_DNSSEC.encode(&arr) != lower {
        return Err(err());
    }
    Ok(arr)
}

/// A key fingerprint for people: 30 decimal digits in six groups of five, e.g.
/// `12345 67890 12345 67890 12345 67890`, derived from SHA-256("puente/fingerprint/v1" || key).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u32; FINGERPRINT_GROUPS]);

impl Fingerprint {
    /// The six five-digit groups.
    pub fn groups(&self) -> [u32; FINGERPRINT_GROUPS] {
        self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{group:05}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = KeyParseError;

    /// Accepts the 30 digits with any spacing, as people type what they heard.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || KeyParseError::Malformed {
            what: "fingerprint",
            text: s.chars().take(64).collect(),
            expected: "30 digits",
        };
        let digits: Vec<u32> = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_digit(10).ok_or_else(err))
            .collect::<Result<_, _>>()?;
        if digits.len() != FINGERPRINT_GROUPS * 5 {
            return Err(err());
        }
        let mut groups = [0u32; FINGERPRINT_GROUPS];
        for (group, chunk) in groups.iter_mut().zip(digits.chunks_exact(5)) {
            *group = chunk.iter().fold(0, |acc, d| acc * 10 + d);
        }
        Ok(Self(groups))
    }
}

/// An Ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; 64]);

impl Signature {
    /// Number of raw bytes.
    pub const BYTES: usize = 64;

    /// Wraps raw bytes; validity is checked by [`PublicKey::verify`].
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = BASE32_DNSSEC.encode(&self.0[..5]);
        write!(f, "Signature({prefix}…)")
    }
}

/// The organisation id for an organisation founded with `founding_key`: the first 10 bytes of
/// SHA-256("puente/org/v1" || key), so nobody can pick an id that collides with another's.
pub fn org_id_for(founding_key: &PublicKey) -> OrgId {
    let hash: [u8; 32] = Sha256::new()
        .chain_update(ORG_ID_DOMAIN)
        .chain_update(founding_key.0)
        .finalize()
        .into();
    let mut id = [0u8; OrgId::BYTES];
    id.copy_from_slice(&hash[..OrgId::BYTES]);
    OrgId::from_bytes(id)
}

/// An X25519 static secret for receiving group keys sealed to this device. Zeroized on drop.
pub struct AgreementSecret(x25519_dalek::StaticSecret);

impl AgreementSecret {
    /// A fresh secret from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(bytes.as_mut_slice());
        Self(x25519_dalek::StaticSecret::from(*bytes))
    }

    /// Rebuilds a secret from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(x25519_dalek::StaticSecret::from(*bytes))
    }

    /// The 32 secret bytes, for sealing into the store. Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half, to publish in the membership log.
    pub fn public(&self) -> AgreementPublic {
        AgreementPublic(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }

    /// The raw X25519 shared secret with `theirs`. Callers must feed it through a
    /// domain-separated KDF (with both public keys) before using it as a key; a low-order peer
    /// key is refused.
    pub fn shared_secret(
        &self,
        theirs: &AgreementPublic,
    ) -> Result<Zeroizing<[u8; 32]>, AgreementError> {
        let shared = self
            .0
            .diffie_hellman(&x25519_dalek::PublicKey::from(theirs.0));
        if !shared.was_contributory() {
            return Err(AgreementError::NonContributory);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }
}

// `StaticSecret` zeroizes itself on drop (x25519-dalek `zeroize` feature).
impl ZeroizeOnDrop for AgreementSecret {}

impl fmt::Debug for AgreementSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AgreementSecret(<redacted>)")
    }
}

/// An X25519 public key, printed like [`PublicKey`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgreementPublic([u8; 32]);

impl AgreementPublic {
    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for AgreementPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_DNSSEC.encode(&self.0))
    }
}

impl fmt::Debug for AgreementPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgreementPublic({self})")
    }
}

impl FromStr for AgreementPublic {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_base32_key(s, "agreement key").map(Self)
    }
}

impl Serialize for AgreementPublic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AgreementPublic {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() {
        let key = SecretKey::generate();
        let sig = key.sign(b"hello");
        assert_eq!(key.public().verify(b"hello", &sig), Ok(()));
        assert_eq!(
            key.public().verify(b"hellO", &sig),
            Err(SignatureError::Invalid)
        );
        let other = SecretKey::generate();
        assert_eq!(
            other.public().verify(b"hello", &sig),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn secret_key_round_trips_through_bytes() {
        let key = SecretKey::generate();
        let again = SecretKey::from_bytes(&key.to_bytes());
        assert_eq!(key.public(), again.public());
        assert_eq!(key.sign(b"m"), again.sign(b"m"));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let key = SecretKey::from_bytes(&[7; 32]);
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
        let agreement = AgreementSecret::from_bytes(&[7; 32]);
        assert_eq!(format!("{agreement:?}"), "AgreementSecret(<redacted>)");
    }

    #[test]
    fn non_canonical_signature_is_refused() {
        // Adding the group order to `s` gives a signature that lax verifiers accept.
        let key = SecretKey::from_bytes(&[1; 32]);
        let sig = key.sign(b"m");
        let mut bytes = *sig.as_bytes();
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(bytes[32 + i]) + u16::from(L[i]) + carry;
            bytes[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(
            key.public().verify(b"m", &Signature::from_bytes(bytes)),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn small_order_key_is_refused() {
        // The identity point with an all-zero-ish signature: accepted by naive verifiers.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert_eq!(
            PublicKey::from_bytes(identity).verify(b"anything", &Signature::from_bytes(sig)),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn public_key_text_and_serde_round_trip() {
        let key = SecretKey::generate().public();
        let text = key.to_string();
        assert_eq!(text.len(), 52);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c))
        );
        assert_eq!(text.parse::<PublicKey>(), Ok(key));
        assert_eq!(text.to_ascii_uppercase().parse::<PublicKey>(), Ok(key));
        let json = serde_json::to_string(&key).expect("serialises");
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).ok(), Some(key));
        assert!("short".parse::<PublicKey>().is_err());
        // The last character carries padding bits: a non-canonical spelling is refused.
        let mut noncanonical = text.clone();
        noncanonical.pop();
        noncanonical.push('v');
        if noncanonical != text {
            assert!(noncanonical.parse::<PublicKey>().is_err());
        }
    }

    #[test]
    fn fingerprint_has_six_groups_of_five_digits() {
        let fp = PublicKey::from_bytes([0; 32]).fingerprint();
        let text = fp.to_string();
        let groups: Vec<&str> = text.split(' ').collect();
        assert_eq!(groups.len(), 6);
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit()))
        );
        assert_eq!(text.parse::<Fingerprint>(), Ok(fp));
        assert_eq!(text.replace(' ', "").parse::<Fingerprint>(), Ok(fp));
        assert!("1234".parse::<Fingerprint>().is_err());
        // Derived from the documented hash, so it is stable across versions.
        let hash: [u8; 32] = Sha256::digest([FINGERPRINT_DOMAIN, &[0u8; 32]].concat()).into();
        let first = hash[..5].iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)) % 100_000;
        assert_eq!(u64::from(fp.groups()[0]), first);
        assert_ne!(fp, PublicKey::from_bytes([1; 32]).fingerprint());
    }

    #[test]
    fn org_id_is_derived_from_the_founding_key() {
        let key = PublicKey::from_bytes([9; 32]);
        let hash: [u8; 32] = Sha256::digest([ORG_ID_DOMAIN, &[9u8; 32]].concat()).into();
        assert_eq!(org_id_for(&key).as_bytes()[..], hash[..10]);
        assert_ne!(
            org_id_for(&key),
            org_id_for(&PublicKey::from_bytes([8; 32]))
        );
    }

    #[test]
    fn agreement_gives_both_sides_the_same_secret() {
        let a = AgreementSecret::generate();
        let b = AgreementSecret::generate();
        let ab = a.shared_secret(&b.public()).expect("contributory");
        let ba = b.shared_secret(&a.public()).expect("contributory");
        assert_eq!(*ab, *ba);
        assert_eq!(
            a.shared_secret(&AgreementPublic::from_bytes([0; 32])),
            Err(AgreementError::NonContributory)
        );
        let text = a.public().to_string();
        assert_eq!(text.parse::<AgreementPublic>(), Ok(a.public()));
    }
}
