//! The epoch-key box: an epoch key sealed to one member device (format v1, see
//! `docs/formats.md`), and the key commitment that makes every recipient of an op get the same
//! key.
//!
//! The box is the crate's one key box ([`crate::crypto::keybox`]) under the label
//! `puente/epoch-key/v1`, with network ‖ epoch as its context (in the key derivation and the
//! associated data) and the recipient's device key in its associated data, so a box cannot be
//! moved to another network, epoch or recipient. Owns no state.

use sha2::{Digest as _, Sha256};

use super::MembershipError;
use super::op::{Body, Op};
use crate::crypto::keybox::{self, Binding, KEY_BOX_LEN};
use crate::crypto::labels::{EPOCH_KEY_BOX_DOMAIN, EPOCH_KEY_COMMITMENT_DOMAIN};
use crate::identity::{AgreementPublic, AgreementSecret, PublicKey};
use crate::keys::{Epoch, EpochKey, NetworkId};

/// Length of one box: ephemeral X25519 public key (32) ‖ nonce (24) ‖ sealed epoch key (32) ‖
/// tag (16).
pub const EPOCH_KEY_BOX_LEN: usize = KEY_BOX_LEN;

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

/// What an epoch-key box is bound to: label, network ‖ epoch, recipient device. Key derivation
/// info: label ‖ network ‖ epoch ‖ ephemeral public ‖ recipient agreement public; associated
/// data: label ‖ network ‖ epoch ‖ recipient device key.
fn binding(network: NetworkId, epoch: Epoch, device: &PublicKey) -> Binding {
    let context = [network.as_bytes().as_slice(), &epoch.0.to_be_bytes()].concat();
    Binding::new(EPOCH_KEY_BOX_DOMAIN, context, device)
}

/// Seals `key` to one device. Refuses a low-order agreement key.
pub(crate) fn seal_epoch_key(
    network: NetworkId,
    key: &EpochKey,
    device: &PublicKey,
    agreement: &AgreementPublic,
) -> Result<[u8; EPOCH_KEY_BOX_LEN], MembershipError> {
    keybox::seal_to(agreement, &binding(network, key.epoch(), device), key.key())
        .map_err(|_| MembershipError::BadAgreementKey(*device))
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
    let network = op.network();
    let opened =
        keybox::open_from(my_agreement, &binding(network, *epoch, my_device), boxed).ok()?;
    let key = EpochKey::new(*epoch, opened);
    (epoch_key_commitment(network, &key) == *commitment).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::seal::{KEY_LEN, SymmetricKey};
    use crate::membership::fixture::{Dev, NET, genesis};
    use crate::membership::op::SealedKey;

    /// An epoch-key box made by the code before the key box was shared (commit 1c740b2, its own
    /// HKDF and associated data, with the ephemeral secret `[0xE1; 32]` and nonce `[0x4E; 24]`):
    /// epoch 5's key `[0x42; 32]` in [`NET`] for `Dev::new(2)`.
    const EPOCH_KEY_BOX_V1: &str = "4c2817a9d668ed844d2f95b93b69ecb8485095783a015a424164b0d0\
        9702894f4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4ec6801f285e3652f0bacce56bf77f5021\
        6baa037a5069f42753e0a4ec2f1e433ef103b380df7db80e0d2c9c67395e4282";

    #[test]
    fn epoch_key_boxes_keep_their_v1_bytes() {
        let (author, recipient) = (Dev::new(1), Dev::new(2));
        let k = key(5, 0x42);
        let pinned: [u8; EPOCH_KEY_BOX_LEN] = data_encoding::HEXLOWER
            .decode(EPOCH_KEY_BOX_V1.as_bytes())
            .expect("hex")
            .try_into()
            .expect("one box");
        // Sealing with the same ephemeral secret and nonce gives the same bytes...
        let sealed = keybox::seal_to_with(
            &AgreementSecret::from_bytes(&[0xE1; 32]),
            &[0x4E; 24],
            &recipient.agreement.public(),
            &binding(NET, k.epoch(), &recipient.public()),
            k.key(),
        )
        .expect("seals");
        assert_eq!(sealed, pinned);
        // ...and the box the old code made opens through the op as before.
        let op = Op::new(
            NET,
            &author.key,
            &[genesis(&author).id()],
            Body::EpochKey {
                epoch: k.epoch(),
                commitment: epoch_key_commitment(NET, &k),
                sealed: vec![SealedKey {
                    recipient: recipient.public(),
                    sealed: pinned,
                }],
            },
            0,
        )
        .expect("op");
        let opened = open_epoch_key(&op, &recipient.public(), &recipient.agreement).expect("opens");
        assert!(same(&opened, &k));
    }

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
            crate::keys::NetworkId::from_bytes([8; 16]),
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
            epoch_key_commitment(crate::keys::NetworkId::from_bytes([8; 16]), &key(1, 1))
        );
        assert_eq!(base, epoch_key_commitment(NET, &key(1, 1)));
    }
}
