//! The key box: a symmetric key sealed to one device's X25519 agreement key, so that only that
//! device can open it. Membership seals epoch keys to member devices with it
//! (`membership/crypto.rs`), bundles seal their body key to each recipient device
//! (`replica/bundle.rs`).
//!
//! Ephemeral-static X25519: a fresh ephemeral secret per box; the shared secret goes through
//! HKDF-SHA256 (no salt; info = label ‖ context ‖ ephemeral public key ‖ recipient agreement
//! key) to a wrapping key; the key is sealed under it with XChaCha20-Poly1305 and a fresh random
//! nonce ([`super::seal`]), with associated data = label ‖ context ‖ recipient device key. A box
//! is `ephemeral public key (32) ‖ nonce (24) ‖ sealed key (32) ‖ tag (16)`.
//!
//! Invariant: these bytes are the epoch-key box and bundle slot formats v1 of `docs/formats.md`
//! and never change; each use has its own label in [`super::labels`], so a box made for one use
//! never opens as another, and the context and recipient in the associated data keep a box from
//! moving to another network, epoch or device. Opening never panics on hostile bytes.
//!
//! Boundary: pure over keys and bytes (randomness through [`super::seal`]); the caller decides
//! the label, the context and the recipient, and judges what the opened key is for.

use zeroize::Zeroizing;

use super::seal::{
    KEY_LEN, NONCE_LEN, SEAL_OVERHEAD, SymmetricKey, open, random_nonce, seal_with_nonce,
};
use crate::identity::{AgreementPublic, AgreementSecret, PublicKey};

/// Length of the ephemeral X25519 public key at the start of a box.
const EPHEMERAL_LEN: usize = 32;

/// Length of a key box: ephemeral X25519 public key (32) ‖ nonce (24) ‖ sealed key (32) ‖ tag
/// (16).
pub(crate) const KEY_BOX_LEN: usize = EPHEMERAL_LEN + KEY_LEN + SEAL_OVERHEAD;

/// Why a key could not be sealed to a device, or a box not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KeyboxError {
    /// The recipient's agreement key (or a box's ephemeral key) is of low order: no secret is
    /// shared with it.
    #[error("agreement key is of low order")]
    LowOrderKey,
    /// The box does not open: sealed to another device or agreement key, made for another use,
    /// network or epoch, or its bytes were altered.
    #[error("key box does not open")]
    Unopenable,
}

/// What a box is bound to, beyond the recipient's agreement key: the caller's label, the
/// context both the key derivation and the associated data take (network, epoch), and the
/// recipient device, named in the associated data.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    label: &'static [u8],
    context: Vec<u8>,
    device: PublicKey,
}

impl Binding {
    /// A binding for boxes of `label` with `context` for the device `device`.
    pub(crate) fn new(label: &'static [u8], context: Vec<u8>, device: &PublicKey) -> Self {
        Self {
            label,
            context,
            device: *device,
        }
    }

    /// HKDF-SHA256(ikm = shared secret, no salt, info = label ‖ context ‖ ephemeral public ‖
    /// recipient agreement public).
    fn wrapping_key(
        &self,
        shared: &[u8; 32],
        ephemeral: &AgreementPublic,
        recipient: &AgreementPublic,
    ) -> SymmetricKey {
        let mut okm = Zeroizing::new([0u8; KEY_LEN]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, shared)
            .expand_multi_info(
                &[
                    self.label,
                    &self.context,
                    ephemeral.as_bytes(),
                    recipient.as_bytes(),
                ],
                okm.as_mut_slice(),
            )
            .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
        SymmetricKey::from_bytes(&okm)
    }

    /// Associated data: label ‖ context ‖ recipient device key.
    fn aad(&self) -> Vec<u8> {
        [self.label, &self.context, self.device.as_bytes()].concat()
    }
}

/// Seals `key` to the device whose agreement key is `recipient`, bound to `binding`, with a
/// fresh ephemeral secret and nonce. Refuses a low-order agreement key.
pub(crate) fn seal_to(
    recipient: &AgreementPublic,
    binding: &Binding,
    key: &SymmetricKey,
) -> Result<[u8; KEY_BOX_LEN], KeyboxError> {
    seal_to_with(
        &AgreementSecret::generate(),
        &random_nonce(),
        recipient,
        binding,
        key,
    )
}

/// [`seal_to`] with the ephemeral secret and the nonce given: the whole box is then a function
/// of its inputs (tests pin the format with it). Each pair must be fresh for every box.
pub(crate) fn seal_to_with(
    ephemeral: &AgreementSecret,
    nonce: &[u8; NONCE_LEN],
    recipient: &AgreementPublic,
    binding: &Binding,
    key: &SymmetricKey,
) -> Result<[u8; KEY_BOX_LEN], KeyboxError> {
    let ephemeral_public = ephemeral.public();
    let shared = ephemeral
        .shared_secret(recipient)
        .map_err(|_| KeyboxError::LowOrderKey)?;
    let wrapping = binding.wrapping_key(&shared, &ephemeral_public, recipient);
    let sealed = seal_with_nonce(&wrapping, nonce, &binding.aad(), key.as_bytes());
    let mut out = [0u8; KEY_BOX_LEN];
    let (head, rest) = out.split_at_mut(EPHEMERAL_LEN);
    head.copy_from_slice(ephemeral_public.as_bytes());
    let (nonce_part, sealed_part) = rest.split_at_mut(NONCE_LEN);
    nonce_part.copy_from_slice(nonce);
    sealed_part.copy_from_slice(&sealed);
    Ok(out)
}

/// Opens a box made by [`seal_to`] for the device whose agreement secret is `secret`, with the
/// same binding.
pub(crate) fn open_from(
    secret: &AgreementSecret,
    binding: &Binding,
    boxed: &[u8; KEY_BOX_LEN],
) -> Result<SymmetricKey, KeyboxError> {
    let (ephemeral, sealed) = boxed.split_at(EPHEMERAL_LEN);
    let mut ephemeral_bytes = [0u8; EPHEMERAL_LEN];
    ephemeral_bytes.copy_from_slice(ephemeral);
    let ephemeral = AgreementPublic::from_bytes(ephemeral_bytes);
    let shared = secret
        .shared_secret(&ephemeral)
        .map_err(|_| KeyboxError::LowOrderKey)?;
    let wrapping = binding.wrapping_key(&shared, &ephemeral, &secret.public());
    let plaintext = open(&wrapping, &binding.aad(), sealed).map_err(|_| KeyboxError::Unopenable)?;
    let bytes: &[u8; KEY_LEN] = plaintext
        .as_slice()
        .try_into()
        .map_err(|_| KeyboxError::Unopenable)?;
    Ok(SymmetricKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::labels::{BUNDLE_KEY_DOMAIN, EPOCH_KEY_BOX_DOMAIN};

    fn device(byte: u8) -> PublicKey {
        PublicKey::from_bytes([byte; 32])
    }

    fn binding() -> Binding {
        Binding::new(EPOCH_KEY_BOX_DOMAIN, vec![1, 2, 3], &device(5))
    }

    #[test]
    fn a_box_opens_for_its_recipient_and_binding_only() {
        let recipient = AgreementSecret::from_bytes(&[0x31; 32]);
        let key = SymmetricKey::from_bytes(&[0x42; KEY_LEN]);
        let boxed = seal_to(&recipient.public(), &binding(), &key).expect("seals");
        let opened = open_from(&recipient, &binding(), &boxed).expect("opens");
        assert_eq!(opened.as_bytes(), key.as_bytes());
        // Fresh ephemeral key and nonce: the same key sealed twice gives another box.
        let again = seal_to(&recipient.public(), &binding(), &key).expect("seals");
        assert_ne!(boxed, again);
        let others = [
            Binding::new(BUNDLE_KEY_DOMAIN, vec![1, 2, 3], &device(5)),
            Binding::new(EPOCH_KEY_BOX_DOMAIN, vec![1, 2, 4], &device(5)),
            Binding::new(EPOCH_KEY_BOX_DOMAIN, vec![1, 2], &device(5)),
            Binding::new(EPOCH_KEY_BOX_DOMAIN, vec![1, 2, 3], &device(6)),
        ];
        for other in &others {
            assert_eq!(
                open_from(&recipient, other, &boxed).map(|_| ()),
                Err(KeyboxError::Unopenable),
                "{other:?}"
            );
        }
        let stranger = AgreementSecret::from_bytes(&[0x32; 32]);
        assert_eq!(
            open_from(&stranger, &binding(), &boxed).map(|_| ()),
            Err(KeyboxError::Unopenable)
        );
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let recipient = AgreementSecret::from_bytes(&[0x31; 32]);
        let key = SymmetricKey::from_bytes(&[0x42; KEY_LEN]);
        let boxed = seal_to(&recipient.public(), &binding(), &key).expect("seals");
        for i in 0..KEY_BOX_LEN {
            for bit in 0..8 {
                let mut flipped = boxed;
                flipped[i] ^= 1 << bit;
                assert!(
                    open_from(&recipient, &binding(), &flipped).is_err(),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn the_layout_is_ephemeral_key_nonce_sealed_key() {
        let recipient = AgreementSecret::from_bytes(&[0x31; 32]);
        let ephemeral = AgreementSecret::from_bytes(&[0xE1; 32]);
        let nonce = [0x4E; NONCE_LEN];
        let key = SymmetricKey::from_bytes(&[0x42; KEY_LEN]);
        let boxed =
            seal_to_with(&ephemeral, &nonce, &recipient.public(), &binding(), &key).expect("seals");
        assert_eq!(&boxed[..32], ephemeral.public().as_bytes());
        assert_eq!(&boxed[32..56], &nonce);
        let shared = ephemeral
            .shared_secret(&recipient.public())
            .expect("contributory");
        let wrapping = binding().wrapping_key(&shared, &ephemeral.public(), &recipient.public());
        let plaintext = open(&wrapping, &binding().aad(), &boxed[32..]).expect("opens");
        assert_eq!(plaintext.as_slice(), key.as_bytes());
        assert_eq!(
            open_from(&recipient, &binding(), &boxed).map(|k| *k.as_bytes()),
            Ok(*key.as_bytes())
        );
    }

    #[test]
    fn low_order_keys_are_refused() {
        let key = SymmetricKey::from_bytes(&[0x42; KEY_LEN]);
        let zero = AgreementPublic::from_bytes([0; 32]);
        assert_eq!(
            seal_to(&zero, &binding(), &key).map(|_| ()),
            Err(KeyboxError::LowOrderKey)
        );
        // A box whose ephemeral key is of low order.
        let recipient = AgreementSecret::from_bytes(&[0x31; 32]);
        let mut boxed = seal_to(&recipient.public(), &binding(), &key).expect("seals");
        boxed[..32].fill(0);
        assert_eq!(
            open_from(&recipient, &binding(), &boxed).map(|_| ()),
            Err(KeyboxError::LowOrderKey)
        );
    }
}
