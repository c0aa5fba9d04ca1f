//! The mailbox entry format: what a member deposits at a relay, sealed so that the relay (or
//! anyone holding its disk) cannot open it.
//!
//! Format v1: `version (1) ‖ epoch (u32 BE) ‖ sealed`, where `sealed` is XChaCha20-Poly1305
//! (random nonce, [`seal`]) under a key derived with HKDF-SHA256 from the network's
//! epoch key of that epoch (info: [`MAILBOX_KEY_INFO`] and the network id), with associated
//! data `version ‖ epoch ‖ network tag`, of `kind (1) ‖ payload`. The kind (an envelope or a
//! membership op) is inside the ciphertext, so the relay sees only the epoch number, the
//! size and who deposited it. Envelopes are signed and their bodies already sealed; this
//! wraps them again so the relay does not see their headers (author, sequence, partition),
//! and membership ops (which carry organisation names) are never stored in the clear.

use hkdf::Hkdf;
use sha2::Sha256;

use crate::crypto::labels::MAILBOX_KEY_INFO;
use crate::crypto::seal::{self, SymmetricKey};
use crate::keys::{Epoch, NetworkId};

use super::wire::network_tag;

/// The entry format's version byte.
pub const ENTRY_VERSION: u8 = 1;

/// Bytes before the sealed part.
const HEADER_LEN: usize = 1 + 4;

/// What an entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A signed envelope, as in the log.
    Envelope,
    /// A signed membership op.
    MembershipOp,
}

impl EntryKind {
    fn byte(self) -> u8 {
        match self {
            Self::Envelope => 1,
            Self::MembershipOp => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Envelope),
            2 => Some(Self::MembershipOp),
            _ => None,
        }
    }
}

/// Why an entry could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Too short, or an unknown version or kind.
    #[error("malformed mailbox entry")]
    Malformed,
    /// None of the keys held for its epoch opens it (tampered, or another network's).
    #[error("a mailbox entry does not open with this network's keys")]
    NotOpened,
}

/// The key entries of `epoch` are sealed under.
fn mailbox_key(epoch_key: &SymmetricKey, network: &NetworkId) -> SymmetricKey {
    let hk = Hkdf::<Sha256>::new(None, epoch_key.as_bytes());
    let mut info = MAILBOX_KEY_INFO.to_vec();
    info.extend_from_slice(network.as_bytes());
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 × 32.
    if hk.expand(&info, &mut out).is_err() {
        out = [0; 32];
    }
    SymmetricKey::from_bytes(&out)
}

fn aad(epoch: Epoch, network: &NetworkId) -> Vec<u8> {
    let mut aad = vec![ENTRY_VERSION];
    aad.extend_from_slice(&epoch.0.to_be_bytes());
    aad.extend_from_slice(&network_tag(network));
    aad
}

/// Seals `payload` of `kind` under the epoch key `key` of `epoch`.
pub fn seal_entry(
    network: &NetworkId,
    epoch: Epoch,
    key: &SymmetricKey,
    kind: EntryKind,
    payload: &[u8],
) -> Vec<u8> {
    let mut plain = Vec::with_capacity(payload.len() + 1);
    plain.push(kind.byte());
    plain.extend_from_slice(payload);
    let sealed = seal::seal(&mailbox_key(key, network), &aad(epoch, network), &plain);
    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.push(ENTRY_VERSION);
    out.extend_from_slice(&epoch.0.to_be_bytes());
    out.extend_from_slice(&sealed);
    out
}

/// The epoch an entry claims to be sealed under (to look its key up).
pub fn entry_epoch(entry: &[u8]) -> Result<Epoch, EntryError> {
    if entry.len() < HEADER_LEN || entry[0] != ENTRY_VERSION {
        return Err(EntryError::Malformed);
    }
    let mut e = [0u8; 4];
    e.copy_from_slice(&entry[1..5]);
    Ok(Epoch(u32::from_be_bytes(e)))
}

/// Opens an entry with any of `keys` (the keys held for its epoch).
pub fn open_entry(
    network: &NetworkId,
    entry: &[u8],
    keys: &[&SymmetricKey],
) -> Result<(EntryKind, Vec<u8>), EntryError> {
    let epoch = entry_epoch(entry)?;
    let aad = aad(epoch, network);
    for key in keys {
        if let Ok(plain) = seal::open(&mailbox_key(key, network), &aad, &entry[HEADER_LEN..]) {
            let (&kind, payload) = plain.split_first().ok_or(EntryError::Malformed)?;
            let kind = EntryKind::from_byte(kind).ok_or(EntryError::Malformed)?;
            return Ok((kind, payload.to_vec()));
        }
    }
    Err(EntryError::NotOpened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_open_with_their_epoch_key_only_and_hide_their_contents() {
        let network = NetworkId::from_bytes([3; 16]);
        let key = SymmetricKey::from_bytes(&[7; 32]);
        let other = SymmetricKey::from_bytes(&[8; 32]);
        let canary = b"CANARY-river-refuge-host-home";
        let entry = seal_entry(&network, Epoch(2), &key, EntryKind::MembershipOp, canary);
        assert!(!entry.windows(canary.len()).any(|w| w == canary));
        assert_eq!(entry_epoch(&entry), Ok(Epoch(2)));
        assert_eq!(
            open_entry(&network, &entry, &[&other, &key]),
            Ok((EntryKind::MembershipOp, canary.to_vec()))
        );
        assert_eq!(
            open_entry(&network, &entry, &[&other]),
            Err(EntryError::NotOpened)
        );
        // Another network's entry, or one whose epoch byte was changed, does not open.
        let elsewhere = NetworkId::from_bytes([4; 16]);
        assert_eq!(
            open_entry(&elsewhere, &entry, &[&key]),
            Err(EntryError::NotOpened)
        );
        let mut moved = entry.clone();
        moved[4] ^= 1;
        assert_eq!(
            open_entry(&network, &moved, &[&key]),
            Err(EntryError::NotOpened)
        );
        let mut flipped = entry.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            open_entry(&network, &flipped, &[&key]),
            Err(EntryError::NotOpened)
        );
        assert_eq!(
            open_entry(&network, &[1, 0], &[&key]),
            Err(EntryError::Malformed)
        );
        assert_eq!(entry_epoch(&[]), Err(EntryError::Malformed));
    }
}
