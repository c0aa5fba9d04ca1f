//! What the envelope, admission and snapshot tests share: a network, two keys with their own
//! organisations, an epoch key, and real or cheap automerge changes.

use automerge::transaction::Transactable as _;
use puente_crdt::OrgId;

use super::admission::{Admitted, Authority};
use super::chunk;
use super::format::{Envelope, EnvelopeError};
use crate::crypto::seal::SymmetricKey;
use crate::identity::{PublicKey, SecretKey};
use crate::keys::{Epoch, EpochKey, NetworkId};

/// The network of every test.
pub(super) const NET: NetworkId = NetworkId::from_bytes([3; 16]);

/// A real, uncompressed automerge change that sets `key` to `value`.
pub(super) fn change(key: &str, value: &str) -> Vec<u8> {
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, key, value).expect("put");
    doc.get_last_local_change()
        .expect("a change")
        .raw_bytes()
        .to_vec()
}

/// A well-formed change chunk with no operations and `len` bytes in all, cheap to make
/// large.
pub(super) fn fake_change(len: usize) -> Vec<u8> {
    chunk::build::padded_change(len)
}

/// Two keys, each founding its own organisation, and the epoch key both seal under.
pub(super) struct Fixture {
    pub(super) alice: SecretKey,
    pub(super) bob: SecretKey,
    pub(super) key: EpochKey,
}

impl Fixture {
    pub(super) fn new() -> Self {
        Self {
            alice: SecretKey::from_bytes(&[1; 32]),
            bob: SecretKey::from_bytes(&[2; 32]),
            key: EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[9; 32])),
        }
    }

    pub(super) fn org(&self, who: &SecretKey) -> OrgId {
        crate::identity::org_id_for(&who.public())
    }

    pub(super) fn env(&self, who: &SecretKey, seq: u64, value: &str) -> Envelope {
        Envelope::seal(
            NET,
            self.org(who),
            who,
            seq,
            self.key.epoch(),
            self.key.key(),
            &[change("k", value)],
        )
        .expect("seals")
    }

    /// Each key writes only its own organisation.
    pub(super) fn authority(&self) -> impl Authority + '_ {
        move |author: &PublicKey, org: &OrgId| crate::identity::org_id_for(author) == *org
    }
}

/// The sequence numbers an admission applied, in order; panics on any other outcome.
pub(super) fn applied(result: Result<Admitted, EnvelopeError>) -> Vec<u64> {
    match result {
        Ok(Admitted::Apply(list)) => list.iter().map(|a| a.0.seq()).collect(),
        other => panic!("expected Apply, got {other:?}"),
    }
}
