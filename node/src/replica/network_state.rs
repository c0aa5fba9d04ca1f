//! The network state of a replica: this node's record (organisation, network, epoch), its
//! epoch keys, the members trusted by hand, the membership log once there is one, the address
//! book of partner devices and the invitations this node made; and from them, who may write.
//!
//! Invariant: once the membership log exists it alone decides who may write ([`Writers`]); the
//! hand-kept [`Members`] only decide before that. The epoch the node record names is one whose
//! key the keyring holds, except on a new device that waits for its key.
//! Boundary: no disk and no document: this type never touches the store, a partition or the
//! view. The coordinator ([`super::Replica`]) makes a change durable first and then installs it
//! here.

use std::collections::BTreeMap;

use puente_crdt::{OrgId, Time};
use serde::{Deserialize, Serialize};

use super::{AdminAction, NetworkRefusal, WriteRefusal};
use crate::crypto::seal::SymmetricKey;
use crate::envelope::admission::Authority;
use crate::envelope::format::BuildsOn;
use crate::identity::{AgreementSecret, PublicKey};
use crate::invite::Invitation;
use crate::keys::{Epoch, EpochKey, EpochKeyring, EpochKeys as _, NetworkId};
use crate::membership::{Body, MembershipLog, Op, Org, WriteLimit};

/// The network half of a replica (see the module documentation).
#[derive(Debug)]
pub(super) struct NetworkState {
    /// This node's record.
    pub(super) node: NodeRecord,
    /// Every epoch key this node holds.
    pub(super) keys: EpochKeyring,
    /// The keys trusted by hand, before there is a membership log.
    pub(super) members: Members,
    /// The network's membership log, once the node founded or joined a network; until then
    /// `members` (this device alone, plus keys trusted by hand in tests) decides who writes.
    pub(super) membership: Option<MembershipLog>,
    /// Where partner devices are known to listen.
    pub(super) peers: PeerBook,
    /// Every invitation this node made, newest last.
    pub(super) invitations: Vec<Invitation>,
}

impl NetworkState {
    /// Who may write, with `caps` the revoked keys' limits (the document state's).
    pub(super) fn writers<'a>(&'a self, caps: &'a BTreeMap<PublicKey, u64>) -> Writers<'a> {
        Writers {
            members: &self.members,
            log: self.membership.as_ref(),
            caps,
        }
    }

    /// The epoch new envelopes are sealed under.
    pub(super) fn epoch(&self) -> Epoch {
        Epoch(self.node.epoch)
    }

    /// Whether this node can seal a write now: it is not a device waiting to join, and it
    /// holds the key of the epoch it would seal under.
    pub(super) fn writable(&self) -> Result<(), WriteRefusal> {
        if self.node.device_pending {
            return Err(WriteRefusal::DevicePending);
        }
        self.seal_key().map(|_| ())
    }

    /// The key of the epoch new envelopes are sealed under.
    pub(super) fn seal_key(&self) -> Result<&SymmetricKey, WriteRefusal> {
        self.keys.key(self.epoch()).ok_or(WriteRefusal::NoEpochKey {
            epoch: self.node.epoch,
        })
    }

    /// What `me`'s next envelope builds on, given the document's version vector: the other
    /// authors of this organisation's partition, member or revoked, each up to what of theirs
    /// counts. Nothing before there is a membership log.
    pub(super) fn builds_on(&self, me: &PublicKey, vector: BTreeMap<PublicKey, u64>) -> BuildsOn {
        let Some(log) = &self.membership else {
            return BuildsOn::new();
        };
        let state = log.state();
        let org = self.node.org;
        vector
            .into_iter()
            .filter(|(author, _)| {
                author != me && state.write_limit(author, &org) != WriteLimit::NotMember
            })
            .collect()
    }

    /// Devices of other members than `me`: who may connect to this node. Before a network
    /// exists, the keys trusted by hand.
    pub(super) fn member_devices(&self, me: &PublicKey) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> = match &self.membership {
            Some(log) => log.state().devices().iter().map(|d| d.key).collect(),
            None => self.members.iter().map(|(k, _)| *k).collect(),
        };
        keys.retain(|k| k != me);
        keys
    }

    /// Whether `device` belongs to an admin organisation of the network.
    pub(super) fn is_admin(&self, device: &PublicKey) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|log| log.state().is_admin_device(device))
    }

    /// Takes in the epoch keys the membership log seals to `device` (opened with its
    /// `agreement` secret): keys already held stay, the log's take precedence, and the epoch to
    /// seal under becomes the log's current epoch when its key is held (else it stays).
    pub(super) fn refresh_keys(&mut self, device: &PublicKey, agreement: &AgreementSecret) {
        let Some(log) = self.membership.as_mut() else {
            return;
        };
        let opened = log.epoch_keys_memo(device, agreement);
        for e in opened.epochs() {
            for (i, k) in opened.keys(e).into_iter().enumerate() {
                let key = EpochKey::new(e, k.clone());
                if i == 0 {
                    self.keys.insert_preferred(key);
                } else {
                    self.keys.insert(key);
                }
            }
        }
        if let Some(current) = log.state().current_epoch()
            && self.keys.key(current.epoch).is_some()
        {
            self.node.epoch = current.epoch.0;
        }
    }

    /// Every accepted membership op in canonical (causal) order: what a joining node needs.
    pub(super) fn membership_ops(&self) -> Vec<Vec<u8>> {
        self.membership
            .as_ref()
            .map(|log| log.ops().map(Op::to_bytes).collect())
            .unwrap_or_default()
    }

    /// The membership log, if `device` may take the admin `action` in it.
    pub(super) fn admin_log(
        &self,
        device: &PublicKey,
        action: AdminAction,
    ) -> Result<&MembershipLog, NetworkRefusal> {
        let log = self
            .membership
            .as_ref()
            .ok_or(NetworkRefusal::NotInNetwork)?;
        if !log.state().is_admin_device(device) {
            return Err(NetworkRefusal::NotAdmin { action });
        }
        Ok(log)
    }

    /// The organisation names and roles of the membership log.
    pub(super) fn member_orgs(&self) -> Vec<Org> {
        self.membership
            .as_ref()
            .map(|log| log.state().orgs())
            .unwrap_or_default()
    }

    /// The display name the founding op gives the founding organisation, if any.
    pub(super) fn founder_name(&self) -> Option<String> {
        let log = self.membership.as_ref()?;
        match log.get(&log.genesis())?.body() {
            Body::Create { name, .. } => Some(name.clone()),
            _ => None,
        }
    }

    /// Where the invitation with key `invitation` is in the list, if this node made it.
    pub(super) fn invitation_index(&self, invitation: &PublicKey) -> Option<usize> {
        self.invitations.iter().position(|i| i.key() == *invitation)
    }

    /// The keys of invitations a joiner may still connect with at `now`.
    pub(super) fn reachable_invitations(&self, now: Time) -> Vec<PublicKey> {
        self.invitations
            .iter()
            .filter(|i| i.reachable(now))
            .map(Invitation::key)
            .collect()
    }
}

/// This node's record: its organisation, the network it writes to and the epoch it seals
/// under (the sealed `node` record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct NodeRecord {
    /// The record's version.
    pub(super) version: u8,
    /// This organisation.
    pub(super) org: OrgId,
    /// The key the organisation id was derived from.
    pub(super) founding_key: PublicKey,
    /// The network this node writes to.
    pub(super) network: NetworkId,
    /// The epoch new envelopes are sealed under.
    pub(super) epoch: u32,
    /// The zone coordinators enter dates in.
    pub(super) tz: String,
    /// The network's name, once the node is part of one (founded or joined).
    #[serde(default)]
    pub(super) network_name: Option<String>,
    /// Created with `init --device`: waits to join an existing organisation as its device.
    #[serde(default)]
    pub(super) device_pending: bool,
}

/// The keys and organisations allowed to write, as this node knows them. Until the signed
/// membership log arrives (networking), it holds this node's own key and any partner keys the
/// node was told to trust.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Members {
    pub(super) by_key: BTreeMap<PublicKey, OrgId>,
}

impl Members {
    /// The organisation a key writes for.
    pub fn org_of(&self, key: &PublicKey) -> Option<OrgId> {
        self.by_key.get(key).copied()
    }

    /// Every key and its organisation.
    pub fn iter(&self) -> impl Iterator<Item = (&PublicKey, &OrgId)> {
        self.by_key.iter()
    }
}

impl Authority for Members {
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool {
        self.by_key.get(author) == Some(partition)
    }
}

/// Who may write: the membership log's member set once there is one, else the local list;
/// `caps` are the revoked keys' limits ([`super::limits`]).
pub(super) struct Writers<'a> {
    members: &'a Members,
    log: Option<&'a MembershipLog>,
    caps: &'a BTreeMap<PublicKey, u64>,
}

impl Authority for Writers<'_> {
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool {
        match self.log {
            Some(log) => log.state().may_write(author, partition),
            None => self.members.may_write(author, partition),
        }
    }

    /// A revoked key's envelopes are accepted up to its limit: the cut of its revocation (what
    /// the revoker had accepted), or further where a still-valid key's change builds on them.
    fn may_write_seq(&self, author: &PublicKey, partition: &OrgId, seq: u64) -> bool {
        match self.log {
            Some(log) => match log.state().write_limit(author, partition) {
                WriteLimit::Member => true,
                WriteLimit::Revoked { cut } => seq <= self.caps.get(author).copied().unwrap_or(cut),
                WriteLimit::NotMember => false,
            },
            None => self.members.may_write(author, partition),
        }
    }

    /// A revoked key's envelope beyond its limit waits, in case a still-valid key's change
    /// turns out to build on it.
    fn may_write_later(&self, author: &PublicKey, partition: &OrgId) -> bool {
        self.log.is_some_and(|log| {
            matches!(
                log.state().write_limit(author, partition),
                WriteLimit::Revoked { .. }
            )
        })
    }
}

/// Encodes epoch keys for the sealed `epoch-keys` record: per key, the epoch (u32) and 32 bytes.
pub(super) fn encode_keys(ring: &EpochKeyring) -> Vec<u8> {
    let mut out = Vec::new();
    for k in ring.all() {
        out.extend_from_slice(&k.epoch().0.to_be_bytes());
        out.extend_from_slice(k.key().as_bytes());
    }
    out
}

/// Decodes the sealed `epoch-keys` record, or `None` when it is damaged.
pub(super) fn decode_keys(bytes: &[u8]) -> Option<EpochKeyring> {
    if !bytes.len().is_multiple_of(36) {
        return None;
    }
    let mut ring = EpochKeyring::new();
    for chunk in bytes.chunks_exact(36) {
        let e = u32::from_be_bytes(chunk[..4].try_into().ok()?);
        let k: [u8; 32] = chunk[4..].try_into().ok()?;
        ring.insert(EpochKey::new(Epoch(e), SymmetricKey::from_bytes(&k)));
    }
    Some(ring)
}

/// Version of the `peers` record.
const PEERS_RECORD_VERSION: u8 = 1;

/// Addresses kept per partner device; older ones are dropped first.
const MAX_ADDRESSES_PER_PEER: usize = 8;

/// Where partner devices can be reached: what the user configured, what invitations carried,
/// what members said about themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerBook {
    version: u8,
    entries: BTreeMap<PublicKey, Vec<String>>,
}

impl Default for PeerBook {
    fn default() -> Self {
        PeerBook {
            version: PEERS_RECORD_VERSION,
            entries: BTreeMap::new(),
        }
    }
}

impl PeerBook {
    /// Every known (device, address) pair.
    pub fn pairs(&self) -> Vec<(PublicKey, String)> {
        self.entries
            .iter()
            .flat_map(|(k, addrs)| addrs.iter().map(move |a| (*k, a.clone())))
            .collect()
    }

    /// The addresses known for `key`.
    pub fn addresses(&self, key: &PublicKey) -> &[String] {
        self.entries.get(key).map_or(&[], Vec::as_slice)
    }

    /// Adds an address (most recent last); whether it was new.
    pub(super) fn add(&mut self, key: PublicKey, addr: &str) -> bool {
        let list = self.entries.entry(key).or_default();
        if list.iter().any(|a| a == addr) {
            return false;
        }
        list.push(addr.to_string());
        if list.len() > MAX_ADDRESSES_PER_PEER {
            list.remove(0);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{SecretKey, org_id_for};

    fn founder() -> SecretKey {
        SecretKey::from_bytes(&[11; 32])
    }

    /// A network state on its own: `me` trusted by hand, epoch 0's key held.
    fn state(me: &SecretKey) -> NetworkState {
        let public = me.public();
        let org = org_id_for(&public);
        let network = NetworkId::from_bytes([4; 16]);
        let mut keys = EpochKeyring::new();
        keys.insert(EpochKey::generate(Epoch(0)));
        let mut members = Members::default();
        members.by_key.insert(public, org);
        NetworkState {
            node: NodeRecord {
                version: 1,
                org,
                founding_key: public,
                network,
                epoch: 0,
                tz: "America/Los_Angeles".into(),
                network_name: None,
                device_pending: false,
            },
            keys,
            members,
            membership: None,
            peers: PeerBook::default(),
            invitations: Vec::new(),
        }
    }

    /// `me`'s state after founding a network named "Valley".
    fn founded(me: &SecretKey) -> NetworkState {
        let mut state = state(me);
        let agreement = AgreementSecret::from_bytes(&[12; 32]).public();
        let create =
            Op::create(state.node.network, me, agreement, "Valley", 1_795_000_000).expect("op");
        state.membership = Some(MembershipLog::new(create.as_bytes()).expect("log"));
        state
    }

    #[test]
    fn before_a_log_the_members_trusted_by_hand_decide_who_writes() {
        let me = founder();
        let mut state = state(&me);
        let partner = SecretKey::from_bytes(&[13; 32]).public();
        let partner_org = org_id_for(&partner);
        let caps = BTreeMap::new();
        assert!(!state.writers(&caps).may_write(&partner, &partner_org));
        state.members.by_key.insert(partner, partner_org);
        let writers = state.writers(&caps);
        assert!(writers.may_write(&partner, &partner_org));
        assert!(writers.may_write_seq(&partner, &partner_org, 1_000));
        assert!(
            !writers.may_write(&partner, &state.node.org),
            "only for its own org"
        );
        assert!(!writers.may_write_later(&partner, &partner_org));
        assert_eq!(state.member_devices(&me.public()), vec![partner]);
        assert!(
            state
                .builds_on(&me.public(), BTreeMap::from([(partner, 3)]))
                .is_empty()
        );
    }

    #[test]
    fn once_there_is_a_log_it_alone_decides() {
        let me = founder();
        let mut state = founded(&me);
        let org = state.node.org;
        let trusted = SecretKey::from_bytes(&[13; 32]).public();
        state.members.by_key.insert(trusted, org_id_for(&trusted));
        let caps = BTreeMap::new();
        let writers = state.writers(&caps);
        assert!(writers.may_write(&me.public(), &org));
        assert!(!writers.may_write(&trusted, &org_id_for(&trusted)));
        assert!(state.is_admin(&me.public()));
        assert!(!state.is_admin(&trusted));
        assert!(state.admin_log(&me.public(), AdminAction::Invite).is_ok());
        assert!(matches!(
            state.admin_log(&trusted, AdminAction::Invite),
            Err(NetworkRefusal::NotAdmin { .. })
        ));
        assert_eq!(state.founder_name().as_deref(), Some("Valley"));
        assert_eq!(state.membership_ops().len(), 1);
        assert_eq!(state.member_orgs().len(), 1);
        assert!(state.member_devices(&me.public()).is_empty());
        // This device's own envelopes are never something its next one builds on.
        assert!(
            state
                .builds_on(&me.public(), BTreeMap::from([(me.public(), 3)]))
                .is_empty()
        );
    }

    #[test]
    fn a_write_needs_a_joined_device_and_the_current_epochs_key() {
        let me = founder();
        let mut state = state(&me);
        assert_eq!(state.writable(), Ok(()));
        assert!(state.seal_key().is_ok());
        state.node.epoch = 1;
        assert_eq!(state.epoch(), Epoch(1));
        assert_eq!(state.writable(), Err(WriteRefusal::NoEpochKey { epoch: 1 }));
        state.node.device_pending = true;
        assert_eq!(state.writable(), Err(WriteRefusal::DevicePending));
        assert!(matches!(
            state.admin_log(&me.public(), AdminAction::Invite),
            Err(NetworkRefusal::NotInNetwork)
        ));
    }

    #[test]
    fn epoch_keys_round_trip_and_damage_is_refused() {
        let me = founder();
        let mut state = state(&me);
        state.keys.insert(EpochKey::generate(Epoch(3)));
        let bytes = encode_keys(&state.keys);
        assert_eq!(bytes.len(), 72);
        let ring = decode_keys(&bytes).expect("decodes");
        for epoch in [Epoch(0), Epoch(3)] {
            assert_eq!(
                ring.key(epoch).map(SymmetricKey::as_bytes),
                state.keys.key(epoch).map(SymmetricKey::as_bytes)
            );
        }
        assert!(decode_keys(&bytes[..35]).is_none());
    }

    #[test]
    fn the_address_book_keeps_the_newest_addresses_once_each() {
        let mut book = PeerBook::default();
        let key = SecretKey::from_bytes(&[13; 32]).public();
        assert!(book.add(key, "/ip4/192.0.2.1/udp/4001/quic-v1"));
        assert!(!book.add(key, "/ip4/192.0.2.1/udp/4001/quic-v1"));
        for port in 0..MAX_ADDRESSES_PER_PEER {
            assert!(book.add(key, &format!("/ip4/192.0.2.2/udp/{port}/quic-v1")));
        }
        let kept = book.addresses(&key);
        assert_eq!(kept.len(), MAX_ADDRESSES_PER_PEER);
        assert!(
            !kept.iter().any(|a| a.starts_with("/ip4/192.0.2.1/")),
            "oldest dropped"
        );
        assert_eq!(book.pairs().len(), MAX_ADDRESSES_PER_PEER);
    }
}
