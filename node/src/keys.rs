//! The keys of a network: its id ([`NetworkId`]), key epochs ([`Epoch`]), epoch keys
//! ([`EpochKey`]) and the keyring a node holds ([`EpochKeyring`], looked up through
//! [`EpochKeys`]).
//!
//! Invariant: a network id reads back only from the 26 characters of base32 (`0-9a-v`, case
//! ignored) it prints as; anything else is a [`NetworkIdError`]. A keyring holds each key of an
//! epoch once, the one to seal under first.
//!
//! Boundary: values only, no I/O (a fresh id or key comes from the random source through
//! [`crate::crypto::seal`]). How epoch keys reach member devices is `membership/`, what they
//! seal is `envelope/`, where they are kept is the replica's store.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_DNSSEC;
use serde::{Deserialize, Serialize};

use crate::crypto::seal::{SymmetricKey, fill_random};

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

    /// Forgets (and zeroizes) every key of an epoch below `epoch`: a history erasure.
    pub fn forget_below(&mut self, epoch: Epoch) {
        self.keys.retain(|e, _| *e >= epoch);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
