//! Every domain-separation label of the node, in one place: the fixed bytes that start a hashed,
//! signed, key-derived or authenticated message, so that a value made for one purpose can never
//! be taken for a value of another (a membership signature replayed as an envelope signature, a
//! bundle slot opened as an epoch-key box, a fingerprint that equals an organisation id).
//!
//! Invariant: every label's bytes are part of a wire or disk format (`docs/formats.md`) and never
//! change; a new purpose gets a new label (or a new `vN`), never an edited one. The labels are
//! pairwise distinct and none is a prefix of another (the one exception, the store's check
//! plaintext, is not a separator; see [`STORE_CHECK_PLAINTEXT`]); the tests below pin each
//! label's bytes and check both properties.
//!
//! Boundary: constants only. This module decides no layout; each user says how its label is
//! combined with the rest of its message. Magic numbers that start files (`PUENTEDB`,
//! `PUENTE-BUNDLE`), text prefixes people see (`puente-invite:`) and libp2p protocol names are
//! format markers, not separators, and stay with their formats.

/// Fingerprints of a device key (SHA-256 over label ‖ key), so a fingerprint can never collide
/// with another hash of the same key. Used by `identity.rs` (`PublicKey::fingerprint`).
pub(crate) const FINGERPRINT_DOMAIN: &[u8] = b"puente/fingerprint/v1";

/// Organisation ids derived from a founding key (the first 10 bytes of SHA-256 over label ‖
/// key). Used by `identity.rs` (`org_id_for`).
pub(crate) const ORG_ID_DOMAIN: &[u8] = b"puente/org/v1";

/// The invitation key a joiner connects with, derived from the invitation secret (SHA-256 over
/// label ‖ secret, used as an Ed25519 seed). Used by `invite.rs` (`InviteSecret::key`).
pub(crate) const INVITE_KEY_DOMAIN: &[u8] = b"puente/invitation-key/v1";

/// The message a joiner's join request signs (label ‖ network ‖ invitation key ‖ device keys ‖
/// name). Used by `invite.rs` (`request_message`).
pub(crate) const JOIN_REQUEST_DOMAIN: &[u8] = b"puente/join-request/v1";

/// The four-word safety phrase (SHA-256 over label ‖ network ‖ invitation key ‖ joiner's keys).
/// Used by `invite.rs` (`safety_phrase`).
pub(crate) const SAFETY_PHRASE_DOMAIN: &[u8] = b"puente/safety-phrase/v1";

/// Membership op signatures (over label ‖ op bytes): an op signature can never be replayed as
/// an envelope or snapshot signature, nor the reverse. Used by `membership/op.rs`.
pub(crate) const MEMBERSHIP_SIG_DOMAIN: &[u8] = b"puente/membership/v1";

/// Epoch-key boxes: the start of the key box's HKDF info and associated data when an epoch key
/// is sealed to a member device. Used by `membership/crypto.rs` through `crypto::keybox`.
pub(crate) const EPOCH_KEY_BOX_DOMAIN: &[u8] = b"puente/epoch-key/v1";

/// Epoch-key commitments (SHA-256 over label ‖ network ‖ epoch ‖ key), published in an
/// `EpochKey` op. Used by `membership/crypto.rs` (`epoch_key_commitment`).
pub(crate) const EPOCH_KEY_COMMITMENT_DOMAIN: &[u8] = b"puente/epoch-key-commitment/v1";

/// Bundle slots: the start of the key box's HKDF info and associated data when a bundle key is
/// sealed to a recipient device, so a slot can never be taken for an epoch-key box or the
/// reverse. Used by `replica/bundle.rs` through `crypto::keybox`.
pub(crate) const BUNDLE_KEY_DOMAIN: &[u8] = b"puente/bundle-key/v1";

/// Change envelope signatures (over label ‖ header ‖ ciphertext). Used by `envelope/format.rs`.
pub(crate) const ENVELOPE_SIG_DOMAIN: &[u8] = b"puente/envelope/v1";

/// Partition snapshot signatures (over label ‖ header ‖ ciphertext). Used by
/// `envelope/snapshot.rs`.
pub(crate) const SNAPSHOT_SIG_DOMAIN: &[u8] = b"puente/snapshot/v1";

/// Prefix of the associated data of every value sealed in the store (then the table name and
/// the key); the version changes with the storage format. Used by `store/mod.rs`.
pub(crate) const STORE_VALUE_AAD_PREFIX: &[u8] = b"puente/store/v1";

/// Plaintext of the check value sealed in the store's `meta` table at creation: proves on open
/// that the header's data key is the one the database was written with. Not a separator but a
/// known plaintext, kept here because it is a fixed string of the storage format; that
/// [`STORE_VALUE_AAD_PREFIX`] is a prefix of it does not matter, as one is associated data and
/// the other a plaintext. Used by `store/mod.rs`.
pub(crate) const STORE_CHECK_PLAINTEXT: &[u8] = b"puente/store/v1 check";

/// Associated data of the sealed digest that ends a backup file (see `docs/formats.md`, "Backup
/// file"). Used by `store/backup.rs`.
pub(crate) const BACKUP_DIGEST_AAD: &[u8] = b"puente/backup/v1";

/// HKDF info that derives a device's X25519 agreement secret from its Ed25519 seed. Used by
/// `replica/network.rs` (`Replica::agreement_secret`).
pub(crate) const DEVICE_AGREEMENT_DOMAIN: &[u8] = b"puente/device-agreement/v1";

/// HKDF info prefix (then the network id) of the key mailbox entries are sealed under, derived
/// from an epoch key. Used by `relay/entry.rs`.
pub(crate) const MAILBOX_KEY_INFO: &[u8] = b"puente mailbox entry key v1";

/// The network tag a relay knows a network by (SHA-256 over label ‖ network id). Used by
/// `relay/wire.rs` (`network_tag`).
pub(crate) const RELAY_TAG_DOMAIN: &[u8] = b"puente relay network tag v1";

/// HSDS export ids (a UUID from SHA-256 over label ‖ table ‖ NUL ‖ key); the label ends with its
/// own NUL separator. Used by `interchange/export.rs` (`hsds_id`).
pub(crate) const HSDS_ID_DOMAIN: &[u8] = b"puente-hsds-id-v1\0";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every label with its exact bytes, spelled out a second time: an accidental edit of a
    /// label above fails here.
    const PINNED: [(&str, &[u8], &[u8]); 18] = [
        (
            "FINGERPRINT_DOMAIN",
            FINGERPRINT_DOMAIN,
            b"puente/fingerprint/v1",
        ),
        ("ORG_ID_DOMAIN", ORG_ID_DOMAIN, b"puente/org/v1"),
        (
            "INVITE_KEY_DOMAIN",
            INVITE_KEY_DOMAIN,
            b"puente/invitation-key/v1",
        ),
        (
            "JOIN_REQUEST_DOMAIN",
            JOIN_REQUEST_DOMAIN,
            b"puente/join-request/v1",
        ),
        (
            "SAFETY_PHRASE_DOMAIN",
            SAFETY_PHRASE_DOMAIN,
            b"puente/safety-phrase/v1",
        ),
        (
            "MEMBERSHIP_SIG_DOMAIN",
            MEMBERSHIP_SIG_DOMAIN,
            b"puente/membership/v1",
        ),
        (
            "EPOCH_KEY_BOX_DOMAIN",
            EPOCH_KEY_BOX_DOMAIN,
            b"puente/epoch-key/v1",
        ),
        (
            "EPOCH_KEY_COMMITMENT_DOMAIN",
            EPOCH_KEY_COMMITMENT_DOMAIN,
            b"puente/epoch-key-commitment/v1",
        ),
        (
            "BUNDLE_KEY_DOMAIN",
            BUNDLE_KEY_DOMAIN,
            b"puente/bundle-key/v1",
        ),
        (
            "ENVELOPE_SIG_DOMAIN",
            ENVELOPE_SIG_DOMAIN,
            b"puente/envelope/v1",
        ),
        (
            "SNAPSHOT_SIG_DOMAIN",
            SNAPSHOT_SIG_DOMAIN,
            b"puente/snapshot/v1",
        ),
        (
            "STORE_VALUE_AAD_PREFIX",
            STORE_VALUE_AAD_PREFIX,
            b"puente/store/v1",
        ),
        (
            "STORE_CHECK_PLAINTEXT",
            STORE_CHECK_PLAINTEXT,
            b"puente/store/v1 check",
        ),
        ("BACKUP_DIGEST_AAD", BACKUP_DIGEST_AAD, b"puente/backup/v1"),
        (
            "DEVICE_AGREEMENT_DOMAIN",
            DEVICE_AGREEMENT_DOMAIN,
            b"puente/device-agreement/v1",
        ),
        (
            "MAILBOX_KEY_INFO",
            MAILBOX_KEY_INFO,
            b"puente mailbox entry key v1",
        ),
        (
            "RELAY_TAG_DOMAIN",
            RELAY_TAG_DOMAIN,
            b"puente relay network tag v1",
        ),
        ("HSDS_ID_DOMAIN", HSDS_ID_DOMAIN, b"puente-hsds-id-v1\0"),
    ];

    #[test]
    fn every_label_keeps_its_bytes() {
        for (name, label, pinned) in PINNED {
            assert_eq!(
                label, pinned,
                "{name} changed: it is part of a stored format"
            );
        }
    }

    #[test]
    fn every_label_is_pinned() {
        // A label added above without a line in PINNED fails here.
        let source = include_str!("labels.rs");
        let defined = source
            .lines()
            .filter(|line| line.starts_with("pub(crate) const "))
            .count();
        assert_eq!(defined, PINNED.len());
        for (name, _, _) in PINNED {
            assert!(
                source.contains(&format!("pub(crate) const {name}: &[u8] = ")),
                "{name} is not defined here"
            );
        }
    }

    #[test]
    fn labels_are_distinct_and_none_is_a_prefix_of_another() {
        for (i, (name_a, a, _)) in PINNED.iter().enumerate() {
            for (name_b, b, _) in &PINNED[i + 1..] {
                assert_ne!(a, b, "{name_a} and {name_b} are equal");
                // A label that is a prefix of another would let `short ‖ message` equal
                // `long ‖ other message`: separation would rest on the message layouts alone.
                // The check plaintext is no separator (see its documentation).
                let exempt =
                    [*name_a, *name_b] == ["STORE_VALUE_AAD_PREFIX", "STORE_CHECK_PLAINTEXT"];
                if !exempt {
                    assert!(
                        !a.starts_with(b) && !b.starts_with(a),
                        "{name_a} and {name_b}: one is a prefix of the other"
                    );
                }
            }
        }
    }
}
