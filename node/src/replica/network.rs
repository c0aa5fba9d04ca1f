//! The replica's place in a network: the membership log it keeps (founded here or received when
//! joining), the epoch keys it opens from that log, and the addresses it knows partners at.
//!
//! The membership log is stored one sealed record per op, in the order the log accepted them
//! (each after its parents), plus the `membership` record that says how many there are: a
//! change appends the ops it accepted and rewrites that count, the keyring and the node record
//! (the current epoch) in one durable transaction, instead of the whole log. A log grows by a
//! dozen ops per revocation (the op, a rotation sealed to every device, a receipt per device),
//! so rewriting it whole made every membership change cost more as the network aged. The
//! version 1 record (the whole log in one record) is still read, and is replaced by rows at the
//! first change.
//!
//! Invariant: a membership change is one durable transaction (its ops, the op count, the keyring
//! and the node record); memory changes only after it committed.
//! Boundary: the state itself (node record, keys, members, log, address book, invitations) is
//! [`super::network_state::NetworkState`]; this file holds the operations that need the store, the
//! device key or, when a network is adopted, the document state too.

use hkdf::Hkdf;
use puente_crdt::{OrgId, Time};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::network_state::PeerBook;
use super::rollback::RollbackEvidence;
use super::{
    REC_EPOCH_KEYS, REC_INVITATIONS, REC_MEMBERSHIP, REC_NODE, REC_PEERS, Replica, ReplicaError,
    encode_json, encode_keys,
};
use crate::crypto::labels::DEVICE_AGREEMENT_DOMAIN;
use crate::identity::{AgreementSecret, PublicKey, SecretKey};
use crate::invite::{
    Invitation, InviteState, JoinRefusal, JoinReply, JoinRequest, MAX_NAME_LEN, safety_phrase,
};
use crate::keys::{Epoch, EpochKey, EpochKeyring, EpochKeys, NetworkId};
use crate::membership::{
    Cut, DeviceKeys, MembershipLog, Op, OpId, RevocationInfo, RevokeTarget, Role,
};
use crate::store::{Store, WriteBatch};

/// Longest address text accepted.
const MAX_ADDRESS_LEN: usize = 256;

/// What [`Replica::apply_membership`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MembershipUpdate {
    /// Ops newly accepted (including waiting ops they released).
    pub accepted: usize,
    /// Ops refused (malformed, forged, wrong network, too many waiting).
    pub refused: usize,
}

/// This device's revocation, as [`Replica::own_revocation`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRevocation {
    /// The whole organisation was revoked (else this device alone).
    pub organisation: bool,
    /// The organisation whose admin (or own device) revoked it.
    pub by: OrgId,
    /// Its name.
    pub by_name: String,
    /// When, by the revoker's clock.
    pub at: Time,
    /// The reason given (empty if none).
    pub reason: String,
}

/// Longest network name, in characters.
pub const MAX_NETWORK_NAME_CHARS: usize = 80;

/// Why a change to the network or to this node's place in it was refused: founding and
/// joining, invitations, adding organisations and devices, revocation, partner addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkRefusal {
    /// This node is not part of a network yet.
    #[error("this node is not part of a network yet")]
    NotInNetwork,
    /// This node already belongs to a network; a node belongs to one.
    #[error("this node is already part of network {network}")]
    AlreadyInNetwork {
        /// The network it belongs to.
        network: NetworkId,
    },
    /// A store made for a new device of an existing organisation joins that organisation; it
    /// cannot found a network.
    #[error("a store made for a new device cannot found a network")]
    DeviceStore,
    /// This node holds partners' records, so it is part of a network already.
    #[error("this node already holds partners' records")]
    HoldsPartnersRecords,
    /// A network name is empty or too long.
    #[error("a network name must be 1 to {max} characters")]
    NetworkNameLength {
        /// The longest name, in characters.
        max: usize,
    },
    /// Only an admin organisation may do this.
    #[error("only an admin organisation can {action}")]
    NotAdmin {
        /// What was asked.
        action: AdminAction,
    },
    /// This device is no longer a member of its network (it was revoked).
    #[error("this device is no longer a member of its network")]
    NoLongerMember,
    /// The device to add as a new organisation is already a member.
    #[error("device {device} is already a member")]
    AlreadyMember {
        /// The device.
        device: PublicKey,
    },
    /// The device to add is already known to the network (a member, or revoked).
    #[error("device {device} is already known to the network")]
    DeviceKnown {
        /// The device.
        device: PublicKey,
    },
    /// Only a device of the organisation or an admin may add a device to it.
    #[error("only a device of organisation {org} or an admin can add a device to it")]
    NotAllowedToAddDevice {
        /// The organisation.
        org: OrgId,
    },
    /// The membership log did not accept the op that adds the organisation.
    #[error("the membership log did not accept the new organisation")]
    OrgNotAccepted,
    /// The membership log did not accept the op that adds the device.
    #[error("the membership log did not accept the new device")]
    DeviceNotAccepted,
    /// The membership log did not accept the revocation.
    #[error("the membership log did not accept the revocation")]
    RevocationNotAccepted,
    /// Everything before the date asked for is erased already (or the date is in the future).
    #[error("nothing before that date is left to erase")]
    NothingToErase,
    /// The membership log refused the erasure (it is checked the same way everywhere).
    #[error("the membership log did not accept the erasure")]
    ErasureNotAccepted,
    /// The inviter sent an empty membership log.
    #[error("the inviter sent an empty membership log")]
    EmptyLog,
    /// The inviter's membership log does not list this device.
    #[error("the inviter's membership log does not list this device")]
    NotListed,
    /// The inviter's network has no epoch key yet.
    #[error("the inviter's network has no epoch key yet")]
    NoEpochYet,
    /// A device invitation used on an organisation's own store.
    #[error("a device invitation cannot be used on an organisation's own store")]
    DeviceInvitationForOrgStore,
    /// An organisation's invitation used on a store made for a new device.
    #[error("a store made for a new device can only join as a device")]
    OrgInvitationForDeviceStore,
    /// The inviter did not share the network's key with this device.
    #[error("the inviter did not share the network's key with this device")]
    KeyNotShared,
    /// An invitation's expiry is not after now.
    #[error("an invitation's expiry must be in the future")]
    ExpiryNotInFuture,
    /// An organisation name is empty or too long.
    #[error("an organisation name must be 1 to {max} characters")]
    OrgNameLength {
        /// The longest name, in characters.
        max: usize,
    },
    /// An organisation of that name is already a member.
    #[error("an organisation named `{name}` is already a member")]
    OrgNameTaken {
        /// The name asked for.
        name: String,
    },
    /// No single invitation matches an id prefix.
    #[error("{matches} invitations match `{text}`")]
    InvitationNotFound {
        /// What was typed.
        text: String,
        /// How many matched (0, or more than one).
        matches: usize,
    },
    /// The invitation has no join request waiting for confirmation.
    #[error("invitation {invitation} is not waiting for confirmation")]
    InvitationNotWaiting {
        /// The invitation's id.
        invitation: String,
    },
    /// The invitation expired.
    #[error("invitation {invitation} has expired")]
    InvitationExpired {
        /// The invitation's id.
        invitation: String,
    },
    /// Somebody was admitted with the invitation (or it was cancelled): it cannot be cancelled.
    #[error("invitation {invitation} cannot be cancelled any more")]
    InvitationNotCancellable {
        /// The invitation's id.
        invitation: String,
    },
    /// The organisation to revoke is already revoked.
    #[error("organisation {org} is already revoked")]
    OrgAlreadyRevoked {
        /// The organisation.
        org: OrgId,
    },
    /// No member organisation has that id.
    #[error("no member organisation has id {org}")]
    NoSuchOrg {
        /// The id asked for.
        org: OrgId,
    },
    /// The device to revoke is already revoked.
    #[error("device {device} is already revoked")]
    DeviceAlreadyRevoked {
        /// The device.
        device: PublicKey,
    },
    /// No member device has that key.
    #[error("no member device has key {device}")]
    NoSuchDevice {
        /// The key asked for.
        device: PublicKey,
    },
    /// Only a device of the same organisation or an admin may revoke a device.
    #[error("only a device of the same organisation or an admin can revoke device {device}")]
    NotAllowedToRevokeDevice {
        /// The device.
        device: PublicKey,
    },
    /// A partner address is not a multiaddress.
    #[error("`{text}` is not a multiaddress")]
    BadAddress {
        /// The start of what was given.
        text: String,
    },
}

/// What only an admin organisation may do, in [`NetworkRefusal::NotAdmin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdminAction {
    /// Invite an organisation.
    Invite,
    /// Add an organisation to the membership log.
    AdmitOrganisation,
    /// Revoke an organisation.
    RevokeOrganisation,
    /// Erase the network's history.
    EraseHistory,
}

impl std::fmt::Display for AdminAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AdminAction::Invite => "invite an organisation",
            AdminAction::AdmitOrganisation => "add an organisation",
            AdminAction::RevokeOrganisation => "revoke an organisation",
            AdminAction::EraseHistory => "erase history",
        })
    }
}

/// Version of the `membership` record: 2 holds how many op records there are; 1 held the whole
/// log (still read, see [`load_log`]).
const MEMBERSHIP_RECORD_VERSION: u8 = 2;

/// The version 1 `membership` record: the whole log.
const MEMBERSHIP_RECORD_V1: u8 = 1;

/// Names of the op records: this prefix and the op's position in the order accepted, as 8
/// hexadecimal digits, so that names sort in that order (a log holds at most 65 536 ops).
const MEMBERSHIP_OP_PREFIX: &str = "membership-op/";

/// What [`Replica::revoke`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Revoked {
    /// The revocation op.
    pub revocation: OpId,
    /// Every op this node wrote (the revocation, the rotation, its receipt), applied and
    /// durable, for pushing to peers.
    pub ops: Vec<Vec<u8>>,
    /// The epoch new envelopes are sealed under now.
    pub epoch: Epoch,
    /// Whether this node rotated the key (an admin does; otherwise an admin node will).
    pub rotated: bool,
}

/// The name of the record holding the `index`-th op accepted.
fn op_record(index: usize) -> String {
    format!("{MEMBERSHIP_OP_PREFIX}{index:08x}")
}

/// Puts the ops of `log` the store does not hold yet (it holds the first `stored` in the order
/// accepted) into `batch`, each in a record of its own, and the `membership` record with the
/// new count.
pub(super) fn put_log(batch: &mut WriteBatch, log: &MembershipLog, stored: usize) {
    let mut count = stored;
    for op in log.accepted_since(stored) {
        batch.put_record(op_record(count), op.as_bytes());
        count += 1;
    }
    let mut header = vec![MEMBERSHIP_RECORD_VERSION];
    header.extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_be_bytes());
    batch.put_record(REC_MEMBERSHIP, &header);
}

/// How many op records the store holds: the count in a version 2 `membership` record; none
/// for a version 1 record (the first change writes them all) or no record.
fn stored_ops(store: &Store) -> Result<usize, ReplicaError> {
    let Some(record) = store.get_record(REC_MEMBERSHIP)? else {
        return Ok(0);
    };
    match record.split_first() {
        Some((&MEMBERSHIP_RECORD_VERSION, count)) => Ok(u32::from_be_bytes(
            count
                .try_into()
                .map_err(|_| ReplicaError::Damaged("membership"))?,
        ) as usize),
        Some((&MEMBERSHIP_RECORD_V1, _)) => Ok(0),
        _ => Err(ReplicaError::Damaged("membership")),
    }
}

/// Rebuilds the stored log from its `membership` record: version 2, the count of op records
/// there must be, read in order (exactly those, each at its position); version 1, the ops in
/// the record itself (per op a u32 length and the op's bytes, in canonical order). Every op
/// is parsed and its signature verified again, and each must be accepted where it stands.
pub(super) fn load_log(store: &Store, record: &[u8]) -> Result<MembershipLog, ReplicaError> {
    let damaged = || ReplicaError::Damaged("membership");
    match record.split_first() {
        Some((&MEMBERSHIP_RECORD_VERSION, count)) => {
            let count = u32::from_be_bytes(count.try_into().map_err(|_| damaged())?) as usize;
            let rows = store.records_with_prefix(MEMBERSHIP_OP_PREFIX)?;
            if rows.len() != count
                || rows
                    .iter()
                    .enumerate()
                    .any(|(i, (name, _))| *name != op_record(i))
            {
                return Err(damaged());
            }
            log_of(rows.iter().map(|(_, op)| op.as_slice())).ok_or_else(damaged)
        }
        Some((&MEMBERSHIP_RECORD_V1, mut bytes)) => {
            let mut ops = Vec::new();
            while !bytes.is_empty() {
                let len = u32::from_be_bytes(
                    bytes
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(damaged)?,
                ) as usize;
                let op = bytes.get(4..4 + len).ok_or_else(damaged)?;
                ops.push(op);
                bytes = &bytes[4 + len..];
            }
            log_of(ops.into_iter()).ok_or_else(damaged)
        }
        _ => Err(damaged()),
    }
}

/// A log from ops in a causal order, the founding op first; `None` if any op does not parse,
/// verify or is not accepted where it stands.
fn log_of<'a>(mut ops: impl Iterator<Item = &'a [u8]>) -> Option<MembershipLog> {
    let mut log = MembershipLog::new(ops.next()?).ok()?;
    for op in ops {
        let inserted = log.insert(op).ok()?;
        if inserted.accepted.is_empty() {
            return None;
        }
    }
    Some(log)
}

impl Replica {
    /// The epoch keys this store holds (for an audit of what it can open).
    pub fn epoch_keyring(&self) -> &EpochKeyring {
        &self.net.keys
    }

    /// This device's X25519 key, which epoch keys are sealed to: derived from the device's
    /// Ed25519 seed with HKDF-SHA256 under its own label, so it needs no record of its own and
    /// is exactly as safe as the device key it comes with.
    pub fn agreement_secret(&self) -> AgreementSecret {
        agreement_of(&self.key)
    }

    /// This device's public keys, as a membership op names them.
    pub fn device_keys(&self) -> DeviceKeys {
        DeviceKeys {
            device: self.public,
            agreement: self.agreement_secret().public(),
        }
    }

    /// The network this node writes to (a local one until it founds or joins one).
    pub fn network(&self) -> NetworkId {
        self.net.node.network
    }

    /// The network's name, once the node is part of one.
    pub fn network_name(&self) -> Option<&str> {
        self.net.node.network_name.as_deref()
    }

    /// The epoch new envelopes are sealed under.
    pub fn epoch(&self) -> Epoch {
        self.net.epoch()
    }

    /// The membership log, once the node is part of a network.
    pub fn membership(&self) -> Option<&MembershipLog> {
        self.net.membership.as_ref()
    }

    /// Every accepted membership op in canonical (causal) order: what a joining node needs.
    pub fn membership_ops(&self) -> Vec<Vec<u8>> {
        self.net.membership_ops()
    }

    /// Devices of other members: who may connect to this node. Before a network exists, the
    /// keys trusted by hand.
    pub fn member_devices(&self) -> Vec<PublicKey> {
        self.net.member_devices(&self.public)
    }

    /// Whether this device belongs to an admin organisation of its network.
    pub fn is_admin(&self) -> bool {
        self.net.is_admin(&self.public)
    }

    /// Founds a network named `name` with this organisation as its admin: the founding op and
    /// the first epoch key (the key this node already seals under, so nothing written so far
    /// needs re-sealing), in one durable transaction.
    pub fn create_network(&mut self, name: &str, now: Time) -> Result<NetworkId, ReplicaError> {
        if self.net.node.device_pending {
            return Err(NetworkRefusal::DeviceStore.into());
        }
        self.check_not_rolled_back()?;
        if let Some(log) = &self.net.membership {
            return Err(NetworkRefusal::AlreadyInNetwork {
                network: log.network(),
            }
            .into());
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NETWORK_NAME_CHARS {
            return Err(NetworkRefusal::NetworkNameLength {
                max: MAX_NETWORK_NAME_CHARS,
            }
            .into());
        }
        let org_name = self.whoami().name;
        let network = self.net.node.network;
        let claimed = claimed(now);
        let create = Op::create(
            network,
            &self.key,
            self.agreement_secret().public(),
            &org_name,
            claimed,
        )?;
        let mut log = MembershipLog::new(create.as_bytes())?;
        let epoch = self.epoch();
        let key = self
            .net
            .keys
            .key(epoch)
            .ok_or(ReplicaError::Damaged("epoch key"))?
            .clone();
        let rotation = Op::epoch_key(
            network,
            &self.key,
            &log.heads(),
            &EpochKey::new(epoch, key),
            &[self.device_keys()],
            claimed,
        )?;
        log.insert_op(rotation)?;
        let mut node = self.net.node.clone();
        node.network_name = Some(name.to_string());
        let mut batch = WriteBatch::default();
        put_log(&mut batch, &log, 0);
        batch.put_record(REC_NODE, &encode_json(&node));
        self.store.commit(batch)?;
        self.net.node = node;
        self.net.membership = Some(log);
        Ok(network)
    }

    /// Adds an organisation (its first device `new`) with `role`, and shares every epoch key
    /// this node holds with that device. Admins only. Returns the new ops' bytes, already
    /// applied and durable here, for sending to the new member and to every peer.
    pub fn admit_org(
        &mut self,
        name: &str,
        role: Role,
        new: DeviceKeys,
        now: Time,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        self.check_not_rolled_back()?;
        let log = self.admin_log(AdminAction::AdmitOrganisation)?;
        if log.state().device(&new.device).is_some() {
            return Err(NetworkRefusal::AlreadyMember { device: new.device }.into());
        }
        let network = log.network();
        let claimed = claimed(now);
        let add = Op::add_org(network, &self.key, &log.heads(), name, role, new, claimed)?;
        let mut ops = vec![add.to_bytes()];
        ops.extend(self.shares_for(new, vec![add.id()], claimed)?);
        let update = self.apply_membership(&ops)?;
        if update.accepted != ops.len() {
            return Err(NetworkRefusal::OrgNotAccepted.into());
        }
        Ok(ops)
    }

    /// Adds `new` as a device of this device's own organisation (or, for an admin, of `org`),
    /// and shares the epoch keys with it when this device may (admins). Returns the new ops.
    /// Also on a store found rolled back ([`Replica::rollback`]): adding the device that
    /// replaces it is what that store is still for.
    pub fn admit_device(
        &mut self,
        org: OrgId,
        new: DeviceKeys,
        now: Time,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(NetworkRefusal::NotInNetwork)?;
        let state = log.state();
        let mine = state.device(&self.public).map(|d| d.org);
        if mine != Some(org) && !state.is_admin_device(&self.public) {
            return Err(NetworkRefusal::NotAllowedToAddDevice { org }.into());
        }
        if state.device(&new.device).is_some() || state.is_revoked_device(&new.device) {
            return Err(NetworkRefusal::DeviceKnown { device: new.device }.into());
        }
        let network = log.network();
        let claimed = claimed(now);
        let add = Op::add_device(network, &self.key, &log.heads(), org, new, claimed)?;
        let mut ops = vec![add.to_bytes()];
        if state.is_admin_device(&self.public) {
            ops.extend(self.shares_for(new, vec![add.id()], claimed)?);
        }
        let update = self.apply_membership(&ops)?;
        if update.accepted != ops.len() {
            return Err(NetworkRefusal::DeviceNotAccepted.into());
        }
        Ok(ops)
    }

    /// `EpochKey` shares of every epoch key the log names that this node holds, for `new`,
    /// chained after `parents`, oldest first, so a new device reads the history as well as what
    /// comes next.
    fn shares_for(
        &self,
        new: DeviceKeys,
        parents: Vec<OpId>,
        claimed: u64,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(Vec::new());
        };
        let network = log.network();
        let mut epochs: Vec<(Epoch, [u8; 32])> = log
            .state()
            .epochs()
            .iter()
            .map(|e| (e.epoch, e.commitment))
            .collect();
        epochs.sort();
        let mut ops = Vec::new();
        let mut parents = parents;
        for (epoch, commitment) in epochs {
            let Some(key) = self
                .net
                .keys
                .keys(epoch)
                .into_iter()
                .map(|k| EpochKey::new(epoch, k.clone()))
                .find(|k| crate::membership::epoch_key_commitment(network, k) == commitment)
            else {
                continue;
            };
            let share = Op::epoch_key(network, &self.key, &parents, &key, &[new], claimed)?;
            parents = vec![share.id()];
            ops.push(share.to_bytes());
        }
        Ok(ops)
    }

    /// Inserts membership ops from a peer, a bundle or this node; if any were accepted, opens
    /// the epoch keys sealed to this device, moves to the current epoch if this node holds its
    /// key, and stores all of it in one durable transaction. Refused ops are counted, never
    /// applied.
    ///
    /// Ops this device signed are applied like any other: this is also how its own new ops go
    /// in. What arrives from partners goes through [`Replica::apply_membership_and_follow_up`]
    /// (the node) or [`Replica::import_bundle`], which also watch for an op of this device that
    /// its store lacked (see [`Replica::rollback`]).
    pub fn apply_membership(&mut self, ops: &[Vec<u8>]) -> Result<MembershipUpdate, ReplicaError> {
        self.membership_transaction(|r, changed| r.stage_membership(ops, changed, false))
    }

    /// [`Replica::apply_membership`] for ops received from elsewhere (a bundle): an accepted
    /// op signed by this device's own key shows that this store is older than what partners
    /// hold from this device.
    pub(super) fn apply_received_membership(
        &mut self,
        ops: &[Vec<u8>],
    ) -> Result<MembershipUpdate, ReplicaError> {
        self.membership_transaction(|r, changed| r.stage_membership(ops, changed, true))
    }

    /// [`Replica::apply_membership`] followed by [`Replica::membership_follow_up`] when ops
    /// were accepted, in **one** durable transaction: the peer's ops, this device's rotation,
    /// key shares and receipts are durable together before this returns (a node applying a
    /// revocation writes once, not once for the ops and once per op it answers with). A
    /// follow-up that fails is logged and leaves the accepted ops applied. Returns what was
    /// applied and the ops written here, for pushing to peers. The ops are taken as received
    /// from elsewhere (a partner, a mailbox): one this device signed that its store lacked is
    /// recorded as a rollback (see [`Replica::rollback`]).
    pub fn apply_membership_and_follow_up(
        &mut self,
        ops: &[Vec<u8>],
        now: Time,
    ) -> Result<(MembershipUpdate, Vec<Vec<u8>>), ReplicaError> {
        self.membership_transaction(|r, changed| {
            let update = r.stage_membership(ops, changed, true)?;
            let mut written = Vec::new();
            if update.accepted > 0 {
                // The ops stay applied if answering them fails (as when the node runs
                // `membership_follow_up` later, at start).
                match r.follow_up(now, false, changed) {
                    Ok(ops) => written = ops,
                    Err(e) => tracing::warn!(error = %e, "cannot answer a membership change"),
                }
            }
            Ok((update, written))
        })
        .and_then(|(update, mut written)| {
            if update.accepted > 0 {
                // An erasure among them: applied at once (it commits on its own).
                if let Some(erased) = self.apply_erasures(now)? {
                    written.extend(erased.ops);
                }
                self.rebase_if_due()?;
            }
            Ok((update, written))
        })
    }

    /// Runs `f`, which changes the membership log in memory only (through
    /// [`Replica::stage_membership`], which sets the flag it is given when ops were accepted),
    /// then makes the log, the epoch keys opened from it and the current epoch durable in one
    /// transaction if anything changed, also when `f` failed half-way (what it accepted is
    /// valid and stays). Nothing is acknowledged or pushed before this returns; if the commit
    /// fails the replica refuses all further work (memory is ahead of the disk).
    fn membership_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self, &mut bool) -> Result<T, ReplicaError>,
    ) -> Result<T, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        let mut changed = false;
        let result = f(self, &mut changed);
        if changed {
            self.commit_membership()?;
        }
        result
    }

    /// Inserts ops into the log in memory and brings the keyring and the epoch up to date with
    /// it (opening only the `EpochKey` ops not seen before); sets `changed` when ops were
    /// accepted. Durable only once [`Replica::membership_transaction`] commits. Ops from
    /// elsewhere (`external`) that this device signed and the log lacked are recorded as a
    /// rollback first (see [`super::rollback`]).
    fn stage_membership(
        &mut self,
        ops: &[Vec<u8>],
        changed: &mut bool,
        external: bool,
    ) -> Result<MembershipUpdate, ReplicaError> {
        let Some(log) = self.net.membership.as_mut() else {
            return Err(NetworkRefusal::NotInNetwork.into());
        };
        let mut update = MembershipUpdate::default();
        let mut own_from_elsewhere = false;
        for bytes in ops {
            match log.insert(bytes) {
                Ok(inserted) => {
                    update.accepted += inserted.accepted.len();
                    own_from_elsewhere |= external
                        && inserted
                            .accepted
                            .iter()
                            .any(|id| log.get(id).is_some_and(|op| op.author() == self.public));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "refused a membership op");
                    update.refused += 1;
                }
            }
        }
        if update.accepted > 0 {
            *changed = true;
            self.refresh_keys();
        }
        if own_from_elsewhere {
            // Before the transaction commits the log (also if this fails: the ops are valid).
            let held = self.own_held();
            self.notice_rollback(RollbackEvidence::MembershipOp, held)?;
        }
        Ok(update)
    }

    /// Writes the log, the keyring, the node record (its epoch) and the write-limits record a
    /// revocation changes in one durable transaction, then brings the partitions in line with
    /// the limits (see `limits`).
    fn commit_membership(&mut self) -> Result<(), ReplicaError> {
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(ReplicaError::Damaged("membership"))?;
        let stored = match stored_ops(&self.store) {
            Ok(n) if n > log.len() => Err(ReplicaError::Damaged("membership")),
            other => other,
        };
        let stored = match stored {
            Ok(n) => n,
            Err(e) => {
                // The log in memory is ahead of the disk: refuse further work.
                self.poisoned = true;
                return Err(e);
            }
        };
        let mut batch = WriteBatch::default();
        put_log(&mut batch, log, stored);
        batch.put_record(REC_EPOCH_KEYS, &encode_keys(&self.net.keys));
        batch.put_record(REC_NODE, &encode_json(&self.net.node));
        // The write limits a revocation changes go in the same transaction; if collecting
        // them fails (it reads the log), the rest is committed and they are retried below.
        let staged = self.stage_limits(&mut batch);
        if let Err(e) = self.store.commit(batch) {
            // The log in memory is ahead of the disk: refuse further work.
            self.poisoned = true;
            return Err(e.into());
        }
        staged?;
        // A revocation may take out envelopes applied before it arrived (see `limits`).
        self.enforce_limits(false)
    }

    /// Joins the network whose membership log is `ops` (the founding op first, then the rest
    /// in causal order, as an inviter sends them): checks that the log makes this device a
    /// member and seals a key to it, then re-seals everything this node wrote on its own as
    /// the network's envelopes, all in one durable transaction.
    pub fn join(&mut self, ops: &[Vec<u8>], network_name: &str) -> Result<(), ReplicaError> {
        if let Some(log) = &self.net.membership {
            return Err(NetworkRefusal::AlreadyInNetwork {
                network: log.network(),
            }
            .into());
        }
        let (first, rest) = ops.split_first().ok_or(NetworkRefusal::EmptyLog)?;
        let mut log = MembershipLog::new(first)?;
        for op in rest {
            log.insert(op)?;
        }
        if !log.state().is_member_device(&self.public) {
            return Err(NetworkRefusal::NotListed.into());
        }
        let ring = log.epoch_keys(&self.public, &self.agreement_secret());
        let current = log
            .state()
            .current_epoch()
            .ok_or(NetworkRefusal::NoEpochYet)?;
        let org = log
            .state()
            .device(&self.public)
            .map(|d| d.org)
            .ok_or(ReplicaError::Damaged("membership"))?;
        let as_device = org != self.net.node.org;
        if as_device && !self.net.node.device_pending {
            return Err(NetworkRefusal::DeviceInvitationForOrgStore.into());
        }
        if !as_device && self.net.node.device_pending {
            return Err(NetworkRefusal::OrgInvitationForDeviceStore.into());
        }
        // A new organisation needs the key to re-seal what it wrote alone; a new device of an
        // existing one has nothing to re-seal, and gets the key from an admin if its inviter
        // could not share it.
        if !as_device && ring.key(current.epoch).is_none() {
            return Err(NetworkRefusal::KeyNotShared.into());
        }
        let network = log.network();
        let mut batch = WriteBatch::default();
        put_log(&mut batch, &log, 0);
        let before = self.net.node.clone();
        if as_device {
            // This device writes for the organisation that added it from now on.
            self.net.node.org = org;
            self.net.node.device_pending = false;
        }
        if let Err(e) = self.adopt_network(
            network,
            ring,
            current.epoch,
            Some(network_name.to_string()),
            batch,
        ) {
            self.net.node = before;
            return Err(e);
        }
        self.net.membership = Some(log);
        Ok(())
    }

    /// Creates an invitation for a new device of this device's organisation (`puente device
    /// add`), valid until `expires`.
    pub fn create_device_invitation(
        &mut self,
        expires: Time,
        auto_confirm: bool,
        now: Time,
    ) -> Result<Invitation, ReplicaError> {
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(NetworkRefusal::NotInNetwork)?;
        let me = log
            .state()
            .device(&self.public)
            .ok_or(NetworkRefusal::NoLongerMember)?;
        if expires <= now {
            return Err(NetworkRefusal::ExpiryNotInFuture.into());
        }
        let name = log.state().org(&me.org).map(|o| o.name).unwrap_or_default();
        let mut invitation = Invitation::new(&name, Role::Member, now, expires, auto_confirm);
        invitation.device_of = Some(me.org);
        let mut all = self.net.invitations.clone();
        all.push(invitation.clone());
        self.store_invitations(all)?;
        Ok(invitation)
    }

    /// Brings the keyring up to date after the log changed (in memory): every key already
    /// held stays, the keys the log seals to this device take precedence, and the epoch to
    /// seal under becomes the log's current epoch when this node holds its key (else it stays).
    fn refresh_keys(&mut self) {
        let agreement = self.agreement_secret();
        let public = self.public;
        self.net.refresh_keys(&public, &agreement);
        self.keys_of_replaced_device();
    }

    /// After a history erasure, while the replaced key is still kept for the handover: the
    /// keys of epochs from the first one kept on that were sealed to it (rotations made after
    /// the erasure but before partners knew this device's new key), never an erased one. A
    /// partner that a relay's mailbox alone reaches gets them no other way.
    fn keys_of_replaced_device(&mut self) {
        let Some(log) = self.net.membership.as_ref() else {
            return;
        };
        let Some(kept) = log.state().erased_before() else {
            return;
        };
        let Ok(Some(old)) = self.handover_key() else {
            return;
        };
        let opened = log.epoch_keys(&old.public(), &agreement_of(&old));
        for key in opened.all().filter(|k| k.epoch() >= kept) {
            self.net.keys.insert(key);
        }
        if let Some(current) = log.state().current_epoch()
            && self.net.keys.key(current.epoch).is_some()
        {
            self.net.node.epoch = current.epoch.0;
        }
    }

    pub(super) fn admin_log(&self, action: AdminAction) -> Result<&MembershipLog, ReplicaError> {
        Ok(self.net.admin_log(&self.public, action)?)
    }

    /// Where partner devices are known to listen.
    pub fn peers(&self) -> &PeerBook {
        &self.net.peers
    }

    /// Remembers an address for a partner device (durable); whether it was new.
    pub fn add_peer_address(&mut self, key: PublicKey, addr: &str) -> Result<bool, ReplicaError> {
        let addr = addr.trim();
        if addr.is_empty() || addr.len() > MAX_ADDRESS_LEN || !addr.starts_with('/') {
            return Err(NetworkRefusal::BadAddress {
                text: addr.chars().take(60).collect(),
            }
            .into());
        }
        let mut peers = self.net.peers.clone();
        if !peers.add(key, addr) {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        batch.put_record(REC_PEERS, &encode_json(&peers));
        self.store.commit(batch)?;
        self.net.peers = peers;
        Ok(true)
    }

    /// The organisation names and roles of the membership log, for status lines.
    pub fn member_orgs(&self) -> Vec<crate::membership::Org> {
        self.net.member_orgs()
    }

    /// Whether this device was revoked, alone or with its organisation, as far as this node's
    /// log knows: by whom, when (the revoker's claimed time; nothing decides by it) and why.
    /// `None` while it is a member, or before the revocation reached this node.
    pub fn own_revocation(&self) -> Option<OwnRevocation> {
        let state = self.net.membership.as_ref()?.state();
        let own = self.public;
        let cut = state.device_cut(&own)?;
        // The first effective revocation behind the cut, in op-id order (a deterministic
        // choice; the claimed times are for people only).
        let info = cut
            .revocations
            .iter()
            .filter_map(|id| state.revocation(id))
            .find(|r| r.effective)?;
        let by = state
            .orgs()
            .into_iter()
            .chain(state.revoked_orgs())
            .find(|o| o.devices.contains(&info.author))?;
        Some(OwnRevocation {
            organisation: matches!(info.target, RevokeTarget::Org(_)),
            by: by.id,
            by_name: by.name,
            at: Time(i64::try_from(info.claimed_time).unwrap_or(i64::MAX)),
            reason: info.reason,
        })
    }

    /// The display name a membership op gives the founding organisation, if any.
    pub fn founder_name(&self) -> Option<String> {
        self.net.founder_name()
    }
}

impl Replica {
    /// Every invitation this node made, newest last.
    pub fn invitations(&self) -> &[Invitation] {
        &self.net.invitations
    }

    /// Creates an invitation for organisation `org_name` with `role`, valid until `expires`.
    /// Admins only.
    pub fn create_invitation(
        &mut self,
        org_name: &str,
        role: Role,
        expires: Time,
        auto_confirm: bool,
        now: Time,
    ) -> Result<Invitation, ReplicaError> {
        self.check_not_rolled_back()?;
        let log = self.admin_log(AdminAction::Invite)?;
        let name = org_name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            return Err(NetworkRefusal::OrgNameLength { max: MAX_NAME_LEN }.into());
        }
        if log
            .state()
            .orgs()
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(name))
        {
            return Err(NetworkRefusal::OrgNameTaken {
                name: name.to_string(),
            }
            .into());
        }
        if expires <= now {
            return Err(NetworkRefusal::ExpiryNotInFuture.into());
        }
        let invitation = Invitation::new(name, role, now, expires, auto_confirm);
        let mut all = self.net.invitations.clone();
        all.push(invitation.clone());
        self.store_invitations(all)?;
        Ok(invitation)
    }

    /// The keys of invitations a joiner may still connect with at `now`.
    pub fn reachable_invitations(&self, now: Time) -> Vec<PublicKey> {
        self.net.reachable_invitations(now)
    }

    /// Handles a join request that arrived on a connection authenticated as `invitation`:
    /// binds the invitation to the first device that presents it, confirms at once if it was
    /// created with `--yes`, and returns the answer to send. Never fails on hostile input: a
    /// bad request gets [`JoinReply::Refused`].
    pub fn on_join_request(
        &mut self,
        invitation: &PublicKey,
        request: &JoinRequest,
        now: Time,
    ) -> Result<JoinReply, ReplicaError> {
        let network = self.network();
        let Some(index) = self.net.invitation_index(invitation) else {
            return Ok(JoinReply::Refused(JoinRefusal::UnknownInvitation));
        };
        if request.verify(network, invitation).is_err() {
            return Ok(JoinReply::Refused(JoinRefusal::BadSignature));
        }
        let device = request.keys.device;
        let inv = self.net.invitations[index].clone();
        match &inv.state {
            InviteState::Open => {
                if now >= inv.expires {
                    return Ok(JoinReply::Refused(JoinRefusal::Expired));
                }
                let phrase = safety_phrase(network, invitation, &request.keys);
                let mut all = self.net.invitations.clone();
                all[index].state = InviteState::Requested {
                    device,
                    agreement: request.keys.agreement,
                    name: request.name.clone(),
                    phrase,
                };
                self.store_invitations(all)?;
                if inv.auto_confirm {
                    self.confirm_invitation(&inv.id(), now)?;
                    return Ok(self.accepted_reply());
                }
                Ok(JoinReply::Waiting)
            }
            InviteState::Requested { device: bound, .. } if *bound == device => {
                if now >= inv.expires {
                    return Ok(JoinReply::Refused(JoinRefusal::Expired));
                }
                Ok(JoinReply::Waiting)
            }
            InviteState::Confirmed { device: bound, .. } | InviteState::Used { device: bound }
                if *bound == device =>
            {
                Ok(self.accepted_reply())
            }
            InviteState::Cancelled => Ok(JoinReply::Refused(JoinRefusal::Cancelled)),
            _ => Ok(JoinReply::Refused(JoinRefusal::Used)),
        }
    }

    /// Confirms the request waiting on the invitation whose id starts with `id`: adds the
    /// organisation and shares the epoch keys. Returns the confirmed invitation.
    pub fn confirm_invitation(&mut self, id: &str, now: Time) -> Result<Invitation, ReplicaError> {
        let id = id.trim();
        let matching: Vec<usize> = self
            .net
            .invitations
            .iter()
            .enumerate()
            .filter(|(_, i)| id.len() >= 4 && i.id().starts_with(id))
            .map(|(n, _)| n)
            .collect();
        let [index] = matching[..] else {
            return Err(NetworkRefusal::InvitationNotFound {
                text: id.to_string(),
                matches: matching.len(),
            }
            .into());
        };
        let inv = self.net.invitations[index].clone();
        let InviteState::Requested {
            device,
            agreement,
            phrase,
            ..
        } = inv.state.clone()
        else {
            return Err(NetworkRefusal::InvitationNotWaiting {
                invitation: inv.id(),
            }
            .into());
        };
        if now >= inv.expires {
            return Err(NetworkRefusal::InvitationExpired {
                invitation: inv.id(),
            }
            .into());
        }
        let keys = DeviceKeys { device, agreement };
        match inv.device_of {
            Some(org) => self.admit_device(org, keys, now)?,
            None => self.admit_org(&inv.org_name, inv.role(), keys, now)?,
        };
        let mut all = self.net.invitations.clone();
        all[index].state = InviteState::Confirmed { device, phrase };
        self.store_invitations(all)?;
        Ok(self.net.invitations[index].clone())
    }

    /// Marks a confirmed invitation as spent once its answer went out.
    pub fn invitation_delivered(&mut self, invitation: &PublicKey) -> Result<(), ReplicaError> {
        let Some(index) = self.net.invitation_index(invitation) else {
            return Ok(());
        };
        if let InviteState::Confirmed { device, .. } = self.net.invitations[index].state {
            let mut all = self.net.invitations.clone();
            all[index].state = InviteState::Used { device };
            self.store_invitations(all)?;
        }
        Ok(())
    }

    /// Withdraws an invitation that has not been confirmed.
    pub fn cancel_invitation(&mut self, id: &str) -> Result<Invitation, ReplicaError> {
        let id = id.trim();
        let Some(index) = self
            .net
            .invitations
            .iter()
            .position(|i| id.len() >= 4 && i.id().starts_with(id))
        else {
            return Err(NetworkRefusal::InvitationNotFound {
                text: id.to_string(),
                matches: 0,
            }
            .into());
        };
        if !matches!(
            self.net.invitations[index].state,
            InviteState::Open | InviteState::Requested { .. }
        ) {
            return Err(NetworkRefusal::InvitationNotCancellable {
                invitation: self.net.invitations[index].id(),
            }
            .into());
        }
        let mut all = self.net.invitations.clone();
        all[index].state = InviteState::Cancelled;
        self.store_invitations(all)?;
        Ok(self.net.invitations[index].clone())
    }

    /// The answer for a confirmed joiner: the whole log and the addresses known here.
    fn accepted_reply(&self) -> JoinReply {
        JoinReply::Accepted {
            network_name: self.network_name().unwrap_or_default().to_string(),
            ops: self.membership_ops(),
            addresses: self.net.peers.pairs(),
        }
    }

    fn store_invitations(&mut self, all: Vec<Invitation>) -> Result<(), ReplicaError> {
        let mut batch = WriteBatch::default();
        batch.put_record(REC_INVITATIONS, &encode_json(&all));
        self.store.commit(batch)?;
        self.net.invitations = all;
        Ok(())
    }
}

impl Replica {
    /// Revokes an organisation (admins) or one device (admins, or a device of the same
    /// organisation): a signed `Revoke` op naming, per revoked device, the last envelope this
    /// node accepted from it (the cut); then, if this device is an admin, a new epoch key sealed
    /// to every remaining member and not to the revoked ones; then this device's receipt. All
    /// applied and durable, in one transaction, before this returns.
    pub fn revoke(
        &mut self,
        target: RevokeTarget,
        reason: &str,
        now: Time,
    ) -> Result<Revoked, ReplicaError> {
        self.check_not_rolled_back()?;
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(NetworkRefusal::NotInNetwork)?;
        let state = log.state();
        let me = state
            .device(&self.public)
            .ok_or(NetworkRefusal::NoLongerMember)?;
        let vector = self.version_vector();
        let devices: Vec<PublicKey> = match &target {
            RevokeTarget::Org(org) => {
                if state.is_revoked_org(org) {
                    return Err(NetworkRefusal::OrgAlreadyRevoked { org: *org }.into());
                }
                let found = state
                    .org(org)
                    .ok_or(NetworkRefusal::NoSuchOrg { org: *org })?;
                if !state.is_admin_device(&self.public) {
                    return Err(NetworkRefusal::NotAdmin {
                        action: AdminAction::RevokeOrganisation,
                    }
                    .into());
                }
                found.devices
            }
            RevokeTarget::Device(key) => {
                if state.is_revoked_device(key) {
                    return Err(NetworkRefusal::DeviceAlreadyRevoked { device: *key }.into());
                }
                let device = state
                    .device(key)
                    .ok_or(NetworkRefusal::NoSuchDevice { device: *key })?;
                if device.org != me.org && !state.is_admin_device(&self.public) {
                    return Err(NetworkRefusal::NotAllowedToRevokeDevice { device: *key }.into());
                }
                vec![*key]
            }
        };
        let cuts: Vec<Cut> = devices
            .iter()
            .map(|d| Cut {
                device: *d,
                seq: vector.get(d).copied().unwrap_or(0),
            })
            .collect();
        let op = Op::revoke(
            log.network(),
            &self.key,
            &log.heads(),
            target,
            &cuts,
            reason.trim(),
            claimed(now),
        )?;
        let revocation = op.id();
        let first = vec![op.to_bytes()];
        let epoch_before = self.epoch();
        // The revocation, the rotation and the receipt: one durable transaction.
        let ops = self.membership_transaction(|r, changed| {
            let update = r.stage_membership(&first, changed, false)?;
            if update.accepted == 0 {
                return Err(NetworkRefusal::RevocationNotAccepted.into());
            }
            let follow = r.follow_up(now, true, changed)?;
            let mut ops = first;
            ops.extend(follow);
            Ok(ops)
        })?;
        // The revoked device was to re-base this organisation's records after an erasure.
        if let Err(e) = self.rebase_if_due() {
            tracing::warn!(error = %e, "cannot re-base this organisation's records yet");
        }
        let epoch = self.epoch();
        Ok(Revoked {
            revocation,
            ops,
            epoch,
            rotated: epoch != epoch_before,
        })
    }

    /// What the membership log asks of this device after it changed: an admin rotates the epoch
    /// key when the current one was sealed to a revoked device (the admin device with the lowest
    /// key does, or the revoker itself, so that concurrent rotations stay rare), and every member
    /// publishes a receipt for each effective revocation once, and again when it moves to a newer
    /// epoch. Returns the ops written (applied and durable), for pushing to peers.
    pub fn membership_follow_up(&mut self, now: Time) -> Result<Vec<Vec<u8>>, ReplicaError> {
        self.membership_transaction(|r, changed| r.follow_up(now, false, changed))
    }

    /// The ops [`Replica::membership_follow_up`] writes, applied in memory (`changed` set when
    /// any were); the caller's [`Replica::membership_transaction`] makes them durable.
    fn follow_up(
        &mut self,
        now: Time,
        revoker: bool,
        changed: &mut bool,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let mut written = Vec::new();
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(written);
        };
        let state = log.state();
        if !state.is_member_device(&self.public) {
            return Ok(written);
        }
        let designated = state.admin_devices().into_iter().min() == Some(self.public);
        if state.needs_rotation()
            && state.is_admin_device(&self.public)
            && (revoker || designated)
            && let Some(epoch) = state.next_epoch()
        {
            let bytes = vec![rotation(log, &self.key, epoch, now)?.to_bytes()];
            self.stage_membership(&bytes, changed, false)?;
            written.extend(bytes);
        }
        // Devices added by a member organisation (which cannot share keys) get them from the
        // designated admin.
        if let Some(log) = self.net.membership.as_ref()
            && designated
            && log.state().is_admin_device(&self.public)
        {
            let lacking: Vec<DeviceKeys> = log
                .state()
                .devices_without_current_key()
                .iter()
                .filter_map(|k| log.state().device(k))
                .map(|d| DeviceKeys {
                    device: d.key,
                    agreement: d.agreement,
                })
                .collect();
            for new in lacking {
                let Some(log) = self.net.membership.as_ref() else {
                    break;
                };
                let ops = self.shares_for(new, log.heads(), claimed(now))?;
                if !ops.is_empty() {
                    self.stage_membership(&ops, changed, false)?;
                    written.extend(ops);
                }
            }
        }
        let Some(log) = self.net.membership.as_ref() else {
            return Ok(written);
        };
        let state = log.state();
        let epoch = self.epoch();
        let due: Vec<OpId> = state
            .revocations()
            .iter()
            .filter(|r: &&RevocationInfo| r.effective)
            .filter(|r| match state.receipts(&r.id).get(&self.public) {
                None => true,
                // Again only while the epoch this device reported was one the revoked
                // devices could read (the rotation had not reached it yet): a later rotation
                // is no news for a revocation already confirmed on a key they never had, and
                // answering every past revocation at every rotation would grow the log by
                // (revocations x devices) ops per rotation.
                Some(reported) => *reported < epoch && readable_by_revoked(state, *reported, r),
            })
            .map(|r| r.id)
            .collect();
        // An erasure is confirmed once, by the key this device moved to when it applied it.
        let erasures_due: Vec<OpId> = if state.is_after_erasures(&self.public) {
            state
                .erasures()
                .into_iter()
                .filter(|e| !state.receipts(&e.id).contains_key(&self.public))
                .map(|e| e.id)
                .collect()
        } else {
            Vec::new()
        };
        for revocation in due.into_iter().chain(erasures_due) {
            let Some(log) = self.net.membership.as_ref() else {
                break;
            };
            let op = Op::receipt(
                log.network(),
                &self.key,
                &log.heads(),
                revocation,
                epoch,
                claimed(now),
            )?;
            let bytes = vec![op.to_bytes()];
            self.stage_membership(&bytes, changed, false)?;
            written.extend(bytes);
        }
        Ok(written)
    }
}

/// A rotation by `author` to a new key of `epoch`, sealed to every member device of `log`.
pub(super) fn rotation(
    log: &MembershipLog,
    author: &SecretKey,
    epoch: Epoch,
    now: Time,
) -> Result<Op, ReplicaError> {
    let recipients: Vec<DeviceKeys> = log
        .state()
        .devices()
        .iter()
        .map(|d| DeviceKeys {
            device: d.key,
            agreement: d.agreement,
        })
        .collect();
    let key = EpochKey::generate(epoch);
    Ok(Op::epoch_key(
        log.network(),
        author,
        &log.heads(),
        &key,
        &recipients,
        claimed(now),
    )?)
}

/// Whether a key of `epoch` was sealed to a device that `revocation` removed (or the epoch is
/// no valid rotation's, a burned key's: counted as readable, to be safe).
fn readable_by_revoked(
    state: &crate::membership::MemberState,
    epoch: Epoch,
    revocation: &RevocationInfo,
) -> bool {
    let mut removed: Vec<PublicKey> = revocation.cuts.iter().map(|c| c.device).collect();
    if let RevokeTarget::Org(org) = revocation.target
        && let Some(record) = state.revoked_orgs().into_iter().find(|o| o.id == org)
    {
        removed.extend(record.devices);
    }
    let keys: Vec<_> = state
        .epochs()
        .into_iter()
        .filter(|info| info.epoch == epoch)
        .collect();
    keys.is_empty()
        || keys
            .iter()
            .any(|info| info.recipients.iter().any(|k| removed.contains(k)))
}

/// The X25519 agreement secret of the device whose Ed25519 key is `key` (see
/// [`Replica::agreement_secret`]).
pub(super) fn agreement_of(key: &SecretKey) -> AgreementSecret {
    let seed = key.to_bytes();
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's output limit.
    let _ = Hkdf::<Sha256>::new(None, &seed[..]).expand(DEVICE_AGREEMENT_DOMAIN, &mut okm[..]);
    AgreementSecret::from_bytes(&okm)
}

/// The time an op claims (for people; never used for a decision).
pub(super) fn claimed(now: Time) -> u64 {
    u64::try_from(now.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SecretKey;

    const PASS: &[u8] = b"a long test passphrase";
    const NOW: Time = Time(1_795_000_000);

    fn replica(dir: &std::path::Path, name: &str) -> Replica {
        let options = super::super::InitOptions {
            name: name.into(),
            counties: vec!["06067".parse().expect("county")],
            intake: "hotline".into(),
            tz: "America/Los_Angeles".into(),
        };
        Replica::init(dir, PASS, options, NOW).expect("init")
    }

    /// An organisation whose device never runs.
    fn absent(admin: &mut Replica, name: &str) -> OrgId {
        let keys = DeviceKeys {
            device: SecretKey::generate().public(),
            agreement: AgreementSecret::generate().public(),
        };
        admin
            .admit_org(name, Role::Member, keys, NOW)
            .expect("admitted");
        crate::identity::org_id_for(&keys.device)
    }

    fn op_records(r: &Replica) -> Vec<String> {
        r.store
            .records_with_prefix(MEMBERSHIP_OP_PREFIX)
            .expect("reads")
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// What a reopened replica must have kept of the log.
    fn log_image(r: &Replica) -> (Vec<Vec<u8>>, Vec<OpId>, Epoch) {
        let log = r.membership().expect("a network");
        (r.membership_ops(), log.heads(), r.epoch())
    }

    #[test]
    fn a_change_appends_its_ops_and_a_log_stored_whole_is_still_read() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));
        let mut a = replica(&dir_a, "Founder");
        let mut b = replica(&dir_b, "Partner");
        a.create_network("Net", NOW).expect("founded");
        a.admit_org("Partner", Role::Member, b.device_keys(), NOW)
            .expect("admitted");
        b.join(&a.membership_ops(), "Net").expect("joins");
        let gone = [absent(&mut a, "Gone 0"), absent(&mut a, "Gone 1")];
        b.apply_membership(&a.membership_ops()).expect("applies");
        assert_eq!(op_records(&a).len(), a.membership().expect("log").len());

        // One revocation appends exactly its ops (the revocation, the rotation, the receipt)
        // to the records; the member applies them and writes its receipt in one go.
        let records = op_records(&a).len();
        let revoked = a
            .revoke(RevokeTarget::Org(gone[0]), "test", NOW)
            .expect("revoked");
        assert!(revoked.rotated);
        assert_eq!(revoked.ops.len(), 3);
        assert_eq!(op_records(&a).len(), records + 3);
        let (update, receipt) = b
            .apply_membership_and_follow_up(&revoked.ops, NOW)
            .expect("applies");
        assert_eq!((update.accepted, update.refused), (3, 0));
        assert_eq!(receipt.len(), 1);
        assert_eq!(b.epoch(), revoked.epoch);
        let image_b = log_image(&b);
        drop(b);
        let b = Replica::open(&dir_b, PASS).expect("reopens");
        assert_eq!(log_image(&b), image_b);
        let receipts = b
            .membership()
            .expect("log")
            .state()
            .receipts(&revoked.revocation);
        assert_eq!(receipts.get(&b.public_key()), Some(&revoked.epoch));

        // An older version's store: the whole log in one version 1 record, no op records.
        let image = log_image(&a);
        let mut whole = vec![MEMBERSHIP_RECORD_V1];
        for op in a.membership().expect("log").ops() {
            let bytes = op.as_bytes();
            whole.extend_from_slice(&u32::try_from(bytes.len()).expect("short").to_be_bytes());
            whole.extend_from_slice(bytes);
        }
        let mut batch = WriteBatch::default();
        batch.put_record(REC_MEMBERSHIP, &whole);
        for name in op_records(&a) {
            batch.delete_record(name);
        }
        a.store.commit(batch).expect("commits");
        drop(a);
        let mut a = Replica::open(&dir_a, PASS).expect("reopens");
        assert_eq!(log_image(&a), image);
        assert!(op_records(&a).is_empty(), "opening writes nothing");
        // The next change writes every op as a record of its own, and the record says so.
        a.revoke(RevokeTarget::Org(gone[1]), "test", NOW)
            .expect("revoked");
        let len = a.membership().expect("log").len();
        assert_eq!(op_records(&a).len(), len);
        assert_eq!(stored_ops(&a.store).expect("reads"), len);
        let image = log_image(&a);
        drop(a);
        let a = Replica::open(&dir_a, PASS).expect("reopens");
        assert_eq!(log_image(&a), image);
    }

    #[test]
    fn a_missing_or_misplaced_op_record_is_reported_as_damage() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a");
        let mut a = replica(&dir, "Founder");
        a.create_network("Net", NOW).expect("founded");
        absent(&mut a, "Gone");
        let records = op_records(&a);
        let last = records.last().expect("records").clone();
        let value = a
            .store
            .get_record(&last)
            .expect("reads")
            .expect("there")
            .to_vec();
        let damaged = |r: Result<Replica, ReplicaError>| {
            matches!(r, Err(ReplicaError::Damaged("membership")))
        };

        // The last op missing.
        a.store
            .commit({
                let mut batch = WriteBatch::default();
                batch.delete_record(last.clone());
                batch
            })
            .expect("commits");
        drop(a);
        assert!(damaged(Replica::open(&dir, PASS)));

        // The op one position further on: a gap.
        let store = Store::open(&dir, PASS).expect("opens");
        let mut batch = WriteBatch::default();
        batch.put_record(op_record(records.len()), &value);
        store.commit(batch).expect("commits");
        drop(store);
        assert!(damaged(Replica::open(&dir, PASS)));

        // Back where it was: the store opens again.
        let store = Store::open(&dir, PASS).expect("opens");
        let mut batch = WriteBatch::default();
        batch.delete_record(op_record(records.len()));
        batch.put_record(last, &value);
        store.commit(batch).expect("commits");
        drop(store);
        let a = Replica::open(&dir, PASS).expect("reopens");
        assert_eq!(a.membership().expect("log").len(), records.len());
    }
}
