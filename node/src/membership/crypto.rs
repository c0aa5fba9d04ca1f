//! The epoch-key box: an epoch key sealed to one device's X25519 key (format v1, see
//! `docs/formats.md`), and the key commitment that makes every recipient of an op get the same
//! key.
//!
//! Ephemeral-static X25519: a fresh ephemeral secret per box, the shared secret fed through
//! HKDF-SHA256 with the network, the epoch and both public keys in its info, then
//! XChaCha20-Poly1305 (through [`crate::crypto::seal`]) with associated data binding the network, the
//! epoch and the recipient device. Owns no state.

use hkdf::Hkdf;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::MembershipError;
use super::op::{Body, Op};
use crate::crypto::labels::{EPOCH_KEY_BOX_DOMAIN, EPOCH_KEY_COMMITMENT_DOMAIN};
use crate::crypto::seal::{KEY_LEN, SEAL_OVERHEAD, SymmetricKey, open, seal};
use crate::envelope::{Epoch, EpochKey, NetworkId};
use crate::identity::{AgreementPublic, AgreementSecret, PublicKey};

/// Length of one box: ephemeral X25519 public key (32) ‖ nonce (24) ‖ sealed epoch key (32) ‖
/// tag (16).
pub const EPOCH_KEY_BOX_LEN: usize = 32 + KEY_LEN + SEAL_OVERHEAD;

/// SHA-256(`"puente/epoch-key-commitment/v1"` ‖ network ‖ epoch ‖ key): published in an
/// `EpochKey` op so every recipient can check it opened the same key as every other. The key is
/// 256 random bits, so the commitment reveals nothing about it.
pub fn epoch_key_commitment(network: NetworkId, key: &EpochKey) -> [u8; 32] {
    Sha256::new()
        .chain_update(EPOCH_KEY_COMMITMENT_DOMAIN)
        .chain_update(network.as_bytes())
        .chain_update(key.epoch().0.to_be_bytes())
        .chain_update(key.key().as_bytes())
        .finalize()
        .into()
}

/// HKDF-SHA256(ikm = shared secret, no salt, info = domain ‖ network ‖ epoch ‖ ephemeral public
/// ‖ recipient agreement public).
fn box_key(
    shared: &[u8; 32],
    network: NetworkId,
    epoch: Epoch,
    ephemeral: &AgreementPublic,
    recipient: &AgreementPublic,
) -> SymmetricKey {
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    Hkdf::<Sha256>::new(None, shared)
        .expand_multi_info(
            &[
                EPOCH_KEY_BOX_DOMAIN,
                network.as_bytes(),
                &epoch.0.to_be_bytes(),
                ephemeral.as_bytes(),
                recipient.as_bytes(),
            ],
            okm.as_mut_slice(),
        )
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
    SymmetricKey::from_bytes(&okm)
}

/// Associated data: domain ‖ network ‖ epoch ‖ recipient device key, so a box cannot be moved
/// to another network, epoch or recipient.
fn box_aad(network: NetworkId, epoch: Epoch, device: &PublicKey) -> Vec<u8> {
    [
        EPOCH_KEY_BOX_DOMAIN,
        network.as_bytes(),
        &epoch.0.to_be_bytes(),
        device.as_bytes(),
    ]
    .concat()
}

/// Seals `key` to one device. Refuses a low-order agreement key.
pub(crate) fn seal_epoch_key(
    network: NetworkId,
    key: &EpochKey,
    device: &PublicKey,
    agreement: &AgreementPublic,
) -> Result<[u8; EPOCH_KEY_BOX_LEN], MembershipError> {
    let ephemeral = AgreementSecret::generate();
    let ephemeral_public = ephemeral.public();
    let shared = ephemeral
        .shared_secret(agreement)
        .map_err(|_| MembershipError::BadAgreementKey(*device))?;
    let wrapping = box_key(&shared, network, key.epoch(), &ephemeral_public, agreement);
    let sealed = seal(
        &wrapping,
        &box_aad(network, key.epoch(), device),
        key.key().as_bytes(),
    );
    let mut out = [0u8; EPOCH_KEY_BOX_LEN];
    out[..32].copy_from_slice(ephemeral_public.as_bytes());
    out[32..].copy_from_slice(&sealed);
    Ok(out)
}

/// Opens the epoch key that `op` (an `EpochKey` op) sealed to `my_device`, using that device's
/// agreement secret. `None` if the op is not an `EpochKey` op, `my_device` is not a recipient,
/// the box does not open with `my_agreement`, or the key does not match the op's commitment.
///
/// This does not judge the op: take keys only from ops the log judged valid
/// ([`super::MembershipLog::epoch_keys`] does both).
pub fn open_epoch_key(
    op: &Op,
    my_device: &PublicKey,
    my_agreement: &AgreementSecret,
) -> Option<EpochKey> {
    let Body::EpochKey {
        epoch,
        commitment,
        sealed,
    } = op.body()
    else {
        return None;
    };
    let index = sealed
        .binary_search_by_key(my_device, |entry| entry.recipient)
        .ok()?;
    let boxed = &sealed[index].sealed;
    let mut ephemeral = [0u8; 32];
    ephemeral.copy_from_slice(&boxed[..32]);
    let ephemeral = AgreementPublic::from_bytes(ephemeral);
    let shared = my_agreement.shared_secret(&ephemeral).ok()?;
    let network = op.network();
    let wrapping = box_key(&shared, network, *epoch, &ephemeral, &my_agreement.public());
    let plaintext = open(
        &wrapping,
        &box_aad(network, *epoch, my_device),
        &boxed[32..],
    )
    .ok()?;
    let bytes: &[u8; KEY_LEN] = plaintext.as_slice().try_into().ok()?;
    let key = EpochKey::new(*epoch, SymmetricKey::from_bytes(bytes));
    (epoch_key_commitment(network, &key) == *commitment).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::fixture::{Dev, NET, genesis};
    use crate::membership::op::SealedKey;

    fn key(epoch: u32, byte: u8) -> EpochKey {
        EpochKey::new(Epoch(epoch), SymmetricKey::from_bytes(&[byte; KEY_LEN]))
    }

    fn same(a: &EpochKey, b: &EpochKey) -> bool {
        a.epoch() == b.epoch() && a.key().as_bytes() == b.key().as_bytes()
    }

    /// Re-signs `op`'s body after `edit`, so only the box checks can catch the change.
    fn resigned(
        op: &Op,
        author: &Dev,
        edit: impl FnOnce(&mut Epoch, &mut [u8; 32], &mut Vec<SealedKey>),
    ) -> Op {
        let Body::EpochKey {
            mut epoch,
            mut commitment,
            mut sealed,
        } = op.body().clone()
        else {
            panic!("an epoch key op");
        };
        edit(&mut epoch, &mut commitment, &mut sealed);
        Op::new(
            op.network(),
            &author.key,
            op.parents(),
            Body::EpochKey {
                epoch,
                commitment,
                sealed,
            },
            0,
        )
        .expect("re-signs")
    }

    #[test]
    fn epoch_key_opens_for_each_recipient_and_nobody_else() {
        let (a, b, c, outsider) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
        let g = genesis(&a).id();
        let k = key(3, 0x42);
        let op =
            Op::epoch_key(NET, &a.key, &[g], &k, &[a.keys(), b.keys(), c.keys()], 0).expect("op");
        for dev in [&a, &b, &c] {
            let opened = open_epoch_key(&op, &dev.public(), &dev.agreement).expect("opens");
            assert!(same(&opened, &k));
        }
        assert!(open_epoch_key(&op, &outsider.public(), &outsider.agreement).is_none());
        // A recipient's device key with another agreement secret, and the reverse.
        assert!(open_epoch_key(&op, &b.public(), &c.agreement).is_none());
        assert!(open_epoch_key(&op, &b.public(), &outsider.agreement).is_none());
        // Other op kinds hold no key.
        assert!(open_epoch_key(&genesis(&a), &a.public(), &a.agreement).is_none());
        // Fresh ephemeral keys and nonces: the same key sealed twice gives other boxes.
        let again = Op::epoch_key(NET, &a.key, &[g], &k, &[a.keys()], 0).expect("op");
        let (
            Body::EpochKey {
                sealed: s1,
                commitment: c1,
                ..
            },
            Body::EpochKey {
                sealed: s2,
                commitment: c2,
                ..
            },
        ) = (op.body(), again.body())
        else {
            panic!("epoch key ops");
        };
        assert_eq!(c1, c2);
        let a_box = |s: &[SealedKey]| {
            s.iter()
                .find(|e| e.recipient == a.public())
                .map(|e| e.sealed)
        };
        assert_ne!(a_box(s1), a_box(s2));
    }

    #[test]
    fn altered_moved_or_mismatched_boxes_do_not_open() {
        let (a, b, c) = (Dev::new(1), Dev::new(2), Dev::new(3));
        let g = genesis(&a).id();
        let k = key(3, 0x42);
        let op = Op::epoch_key(NET, &a.key, &[g], &k, &[b.keys(), c.keys()], 0).expect("op");
        // One flipped bit anywhere in b's box: ephemeral key, nonce, ciphertext or tag.
        for i in 0..EPOCH_KEY_BOX_LEN {
            let tampered = resigned(&op, &a, |_, _, sealed| {
                let entry = sealed
                    .iter_mut()
                    .find(|e| e.recipient == b.public())
                    .expect("b");
                entry.sealed[i] ^= 0x01;
            });
            assert!(
                open_epoch_key(&tampered, &b.public(), &b.agreement).is_none(),
                "bit in byte {i}"
            );
            assert!(open_epoch_key(&tampered, &c.public(), &c.agreement).is_some());
        }
        // b's box relabelled as c's: c cannot open it, nor can b under c's name.
        let moved = resigned(&op, &a, |_, _, sealed| {
            let b_box = sealed
                .iter()
                .find(|e| e.recipient == b.public())
                .expect("b")
                .sealed;
            sealed
                .iter_mut()
                .find(|e| e.recipient == c.public())
                .expect("c")
                .sealed = b_box;
        });
        assert!(open_epoch_key(&moved, &c.public(), &c.agreement).is_none());
        assert!(open_epoch_key(&moved, &c.public(), &b.agreement).is_none());
        // The same boxes claimed for another epoch or network.
        let other_epoch = resigned(&op, &a, |epoch, _, _| *epoch = Epoch(4));
        assert!(open_epoch_key(&other_epoch, &b.public(), &b.agreement).is_none());
        let Body::EpochKey {
            epoch,
            commitment,
            sealed,
        } = op.body().clone()
        else {
            panic!("an epoch key op");
        };
        let other_net = Op::new(
            crate::envelope::NetworkId::from_bytes([8; 16]),
            &a.key,
            op.parents(),
            Body::EpochKey {
                epoch,
                commitment,
                sealed,
            },
            0,
        )
        .expect("op");
        assert!(open_epoch_key(&other_net, &b.public(), &b.agreement).is_none());
        // A box that opens but holds another key than the commitment promises.
        let lying = resigned(&op, &a, |_, commitment, _| {
            *commitment = epoch_key_commitment(NET, &key(3, 0x43))
        });
        assert!(open_epoch_key(&lying, &b.public(), &b.agreement).is_none());
    }

    #[test]
    fn commitment_binds_network_epoch_and_key() {
        let base = epoch_key_commitment(NET, &key(1, 1));
        assert_ne!(base, epoch_key_commitment(NET, &key(2, 1)));
        assert_ne!(base, epoch_key_commitment(NET, &key(1, 2)));
        assert_ne!(
            base,
            epoch_key_commitment(crate::envelope::NetworkId::from_bytes([8; 16]), &key(1, 1))
        );
        assert_eq!(base, epoch_key_commitment(NET, &key(1, 1)));
    }
}
