//! Resolution: how one op is judged against the state of its causal past, what a valid op
//! contributes to a state, how states are joined, and the resolved [`MemberState`].
//!
//! A state ([`View`]) is the join of the contributions of a set of valid ops. Every part of it is
//! a union with an order-free tie-break (lowest op id, lowest role, highest epoch), so folding
//! contributions in any order, or joining the states of two sets, gives the state of their union.
//! This module is pure: it never sees bytes, the clock or a random source.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use puente_crdt::OrgId;

use super::op::{Body, Op};
use super::{MAX_DEVICES_PER_ORG, MAX_SEALED, OpId};
use crate::envelope::{Authority, Epoch, NetworkId};
use crate::identity::{AgreementPublic, PublicKey};

/// An organisation's role. Ordered `Member < Admin`: of concurrent role changes, the lowest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Writes its own records and adds its own devices.
    Member,
    /// Also adds organisations, changes roles and distributes epoch keys.
    Admin,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Member => "member",
            Role::Admin => "admin",
        })
    }
}

/// Why an op had no effect: its author was not authorised for it in the state of its causal
/// past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// The author key is not a member device in the op's causal past.
    #[error("the author is not a member device in the op's causal past")]
    NotAMember,
    /// Only devices of admin organisations may do this.
    #[error("only a device of an admin organisation may do this")]
    NotAdmin,
    /// Only the organisation's own devices, or an admin, may add devices to it.
    #[error("only a device of the organisation or of an admin may add its devices")]
    NotOrgOrAdmin,
    /// The organisation is already a member.
    #[error("the organisation is already a member")]
    OrgExists,
    /// The organisation is not a member.
    #[error("the organisation is not a member")]
    UnknownOrg,
    /// The device key already belongs to a member organisation.
    #[error("the device key already belongs to a member")]
    DeviceExists,
    /// The organisation, or the network, already has the most devices allowed.
    #[error(
        "the organisation already has {MAX_DEVICES_PER_ORG} devices, or the network {MAX_SEALED}"
    )]
    TooManyDevices,
    /// A recipient is not a member device.
    #[error("an epoch key is sealed to a device that is not a member")]
    RecipientNotAMember,
    /// A rotation is not sealed to every member device.
    #[error("a new epoch key is not sealed to every member device")]
    MissingRecipient,
    /// A share names an epoch key that no valid rotation in the causal past introduced.
    #[error("the shared epoch key does not match a rotation in the op's causal past")]
    UnknownEpochKey,
}

/// The log's judgement of one op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The op takes effect.
    Valid,
    /// The op has no effect, for this reason.
    Invalid(InvalidReason),
}

impl Verdict {
    /// Whether the op takes effect.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }
}

/// An op's verdict plus what resolution needs to know about it besides its body. Fixed once the
/// op is accepted: it depends on the op's causal past only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judged {
    pub(crate) verdict: Verdict,
    /// For role writes: the role writes of the causal past that this one replaces.
    pub(crate) supersedes: Vec<OpId>,
    /// For `EpochKey` ops: a rotation (true) or a share of an existing key (false).
    pub(crate) rotation: bool,
}

impl Judged {
    fn invalid(reason: InvalidReason) -> Self {
        Self {
            verdict: Verdict::Invalid(reason),
            supersedes: Vec::new(),
            rotation: false,
        }
    }

    fn valid() -> Self {
        Self {
            verdict: Verdict::Valid,
            supersedes: Vec::new(),
            rotation: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OrgRecord {
    name: String,
    added_by: OpId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct DeviceRecord {
    org: OrgId,
    agreement: AgreementPublic,
    added_by: OpId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KeyRecord {
    /// The lowest id of the valid rotations that introduced this key (always set in the state
    /// of a causally closed set of ops: a share is valid only after its rotation).
    rotation: Option<OpId>,
    /// Every device the key was sealed to by a valid rotation or share (shared between states
    /// until a share adds to it).
    recipients: Arc<BTreeSet<PublicKey>>,
}

/// One organisation's role register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Register {
    /// The role writes no known write supersedes, with the role each sets. Never holds an id
    /// of `superseded`, so that equal sets of ops give equal registers.
    live: BTreeMap<OpId, Role>,
    /// Every role write of this organisation that a known write supersedes, sorted: kept so
    /// that joining a state in which such a write is still live cannot revive it. Grows by one
    /// id per role change of this organisation; a sorted vector so that copies and joins are
    /// one pass over contiguous memory.
    superseded: Vec<OpId>,
}

impl Register {
    fn is_superseded(&self, id: &OpId) -> bool {
        self.superseded.binary_search(id).is_ok()
    }

    fn write(&mut self, id: OpId, role: Role, supersedes: &[OpId]) {
        for old in supersedes {
            self.live.remove(old);
            if let Err(at) = self.superseded.binary_search(old) {
                self.superseded.insert(at, *old);
            }
        }
        if !self.is_superseded(&id) {
            self.live.insert(id, role);
        }
    }

    fn join(&mut self, other: &Register) {
        if self.superseded != other.superseded {
            self.superseded = merge_sorted(&self.superseded, &other.superseded);
        }
        self.live
            .extend(other.live.iter().map(|(id, role)| (*id, *role)));
        let superseded = &self.superseded;
        self.live
            .retain(|id, _| superseded.binary_search(id).is_err());
    }
}

/// The sorted union of two sorted, duplicate-free slices.
fn merge_sorted(a: &[OpId], b: &[OpId]) -> Vec<OpId> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The state of a set of valid ops: the join of their contributions. Each part sits behind an
/// `Arc`, so copying a state to cache it is cheap and an op copies only the part it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct View {
    orgs: Arc<BTreeMap<OrgId, OrgRecord>>,
    devices: Arc<BTreeMap<PublicKey, DeviceRecord>>,
    /// Per organisation, its role register (shared between states until a role write).
    roles: Arc<BTreeMap<OrgId, Arc<Register>>>,
    /// Every epoch key introduced by a valid rotation, by epoch and commitment.
    keys: Arc<BTreeMap<(Epoch, [u8; 32]), KeyRecord>>,
}

/// Keeps the record with the lowest `added_by`.
fn keep_lowest<K: Ord + Clone, V: Clone>(
    map: &mut BTreeMap<K, V>,
    key: &K,
    value: &V,
    added_by: impl Fn(&V) -> OpId,
) {
    match map.get_mut(key) {
        Some(existing) if added_by(existing) <= added_by(value) => {}
        Some(existing) => *existing = value.clone(),
        None => {
            map.insert(key.clone(), value.clone());
        }
    }
}

fn min_some(a: Option<OpId>, b: Option<OpId>) -> Option<OpId> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl View {
    /// Adds the contribution of an accepted op (nothing if it is invalid).
    pub(crate) fn absorb(&mut self, op: &Op, judged: &Judged) {
        if !judged.verdict.is_valid() {
            return;
        }
        let id = op.id();
        match op.body() {
            Body::Create {
                org,
                name,
                device,
                agreement,
            } => self.add_org(id, *org, name, Role::Admin, *device, *agreement),
            Body::AddOrg {
                org,
                name,
                role,
                device,
                agreement,
            } => self.add_org(id, *org, name, *role, *device, *agreement),
            Body::AddDevice {
                org,
                device,
                agreement,
            } => self.add_device(id, *org, *device, *agreement),
            Body::SetRole { org, role } => self.write_role(*org, id, *role, &judged.supersedes),
            Body::EpochKey {
                epoch,
                commitment,
                sealed,
            } => {
                let record = Arc::make_mut(&mut self.keys)
                    .entry((*epoch, *commitment))
                    .or_default();
                if judged.rotation {
                    record.rotation = min_some(record.rotation, Some(id));
                }
                Arc::make_mut(&mut record.recipients)
                    .extend(sealed.iter().map(|entry| entry.recipient));
            }
        }
    }

    fn add_org(
        &mut self,
        id: OpId,
        org: OrgId,
        name: &str,
        role: Role,
        device: PublicKey,
        agreement: AgreementPublic,
    ) {
        let record = OrgRecord {
            name: name.to_owned(),
            added_by: id,
        };
        keep_lowest(Arc::make_mut(&mut self.orgs), &org, &record, |r| r.added_by);
        // The organisation is new in the op's causal past, so this write supersedes nothing.
        self.write_role(org, id, role, &[]);
        self.add_device(id, org, device, agreement);
    }

    fn write_role(&mut self, org: OrgId, id: OpId, role: Role, supersedes: &[OpId]) {
        let register = Arc::make_mut(&mut self.roles).entry(org).or_default();
        Arc::make_mut(register).write(id, role, supersedes);
    }

    fn add_device(&mut self, id: OpId, org: OrgId, device: PublicKey, agreement: AgreementPublic) {
        let record = DeviceRecord {
            org,
            agreement,
            added_by: id,
        };
        keep_lowest(Arc::make_mut(&mut self.devices), &device, &record, |r| {
            r.added_by
        });
    }

    /// Joins another state into this one: the state of the union of both sets of ops. Parts
    /// both states share are skipped, and an empty part takes the other's without copying.
    pub(crate) fn join(&mut self, other: &View) {
        if self.orgs.is_empty() {
            self.orgs = Arc::clone(&other.orgs);
        } else if !Arc::ptr_eq(&self.orgs, &other.orgs) {
            let orgs = Arc::make_mut(&mut self.orgs);
            for (org, record) in other.orgs.iter() {
                keep_lowest(orgs, org, record, |r| r.added_by);
            }
        }
        if self.devices.is_empty() {
            self.devices = Arc::clone(&other.devices);
        } else if !Arc::ptr_eq(&self.devices, &other.devices) {
            let devices = Arc::make_mut(&mut self.devices);
            for (device, record) in other.devices.iter() {
                keep_lowest(devices, device, record, |r| r.added_by);
            }
        }
        if self.roles.is_empty() {
            self.roles = Arc::clone(&other.roles);
        } else if !Arc::ptr_eq(&self.roles, &other.roles) {
            let roles = Arc::make_mut(&mut self.roles);
            for (org, register) in other.roles.iter() {
                match roles.get_mut(org) {
                    Some(mine) if Arc::ptr_eq(mine, register) => {}
                    Some(mine) => Arc::make_mut(mine).join(register),
                    None => {
                        roles.insert(*org, Arc::clone(register));
                    }
                }
            }
        }
        if self.keys.is_empty() {
            self.keys = Arc::clone(&other.keys);
        } else if !Arc::ptr_eq(&self.keys, &other.keys) {
            let keys = Arc::make_mut(&mut self.keys);
            for (key, record) in other.keys.iter() {
                let mine = keys.entry(*key).or_default();
                mine.rotation = min_some(mine.rotation, record.rotation);
                if !Arc::ptr_eq(&mine.recipients, &record.recipients) {
                    Arc::make_mut(&mut mine.recipients).extend(record.recipients.iter().copied());
                }
            }
        }
    }

    /// The role writes of `org` that no known write supersedes.
    fn live_role_writes(&self, org: &OrgId) -> impl Iterator<Item = (&OpId, &Role)> {
        self.roles
            .get(org)
            .into_iter()
            .flat_map(|register| register.live.iter())
    }

    fn role(&self, org: &OrgId) -> Option<Role> {
        if !self.orgs.contains_key(org) {
            return None;
        }
        self.live_role_writes(org).map(|(_, role)| *role).min()
    }

    fn device_org(&self, device: &PublicKey) -> Option<OrgId> {
        self.devices.get(device).map(|record| record.org)
    }

    fn is_admin_device(&self, device: &PublicKey) -> bool {
        self.device_org(device)
            .is_some_and(|org| self.role(&org) == Some(Role::Admin))
    }

    fn device_count(&self, org: &OrgId) -> usize {
        self.devices.values().filter(|d| d.org == *org).count()
    }

    /// Keys with a rotation, newest epoch first, and within one epoch the current one first.
    fn rotated_keys(&self) -> impl Iterator<Item = (&(Epoch, [u8; 32]), &KeyRecord, OpId)> {
        let mut keys: Vec<_> = self
            .keys
            .iter()
            .filter_map(|(key, record)| record.rotation.map(|op| (key, record, op)))
            .collect();
        keys.sort_by(|a, b| b.0.0.cmp(&a.0.0).then(a.2.cmp(&b.2)));
        keys.into_iter()
    }

    fn max_epoch(&self) -> Option<Epoch> {
        self.keys
            .iter()
            .rev()
            .find(|(_, record)| record.rotation.is_some())
            .map(|((epoch, _), _)| *epoch)
    }

    /// Judges `op` against this state, which must be the state of exactly the op's strict
    /// ancestors. Only the genesis op reaches here as a `Create`.
    pub(crate) fn judge(&self, op: &Op) -> Judged {
        let author = op.author();
        if let Body::Create { .. } = op.body() {
            return Judged::valid();
        }
        let Some(author_org) = self.device_org(&author) else {
            return Judged::invalid(InvalidReason::NotAMember);
        };
        let admin = self.is_admin_device(&author);
        let need_admin = || {
            if admin {
                Ok(())
            } else {
                Err(Judged::invalid(InvalidReason::NotAdmin))
            }
        };
        let result = match op.body() {
            Body::Create { .. } => Ok(Judged::valid()),
            Body::AddOrg { org, device, .. } => need_admin().and_then(|()| {
                if self.orgs.contains_key(org) {
                    Err(Judged::invalid(InvalidReason::OrgExists))
                } else if self.devices.contains_key(device) {
                    Err(Judged::invalid(InvalidReason::DeviceExists))
                } else if self.devices.len() >= MAX_SEALED {
                    Err(Judged::invalid(InvalidReason::TooManyDevices))
                } else {
                    Ok(Judged::valid())
                }
            }),
            Body::AddDevice { org, device, .. } => {
                if author_org != *org && !admin {
                    Err(Judged::invalid(InvalidReason::NotOrgOrAdmin))
                } else if !self.orgs.contains_key(org) {
                    Err(Judged::invalid(InvalidReason::UnknownOrg))
                } else if self.devices.contains_key(device) {
                    Err(Judged::invalid(InvalidReason::DeviceExists))
                } else if self.device_count(org) >= MAX_DEVICES_PER_ORG
                    || self.devices.len() >= MAX_SEALED
                {
                    Err(Judged::invalid(InvalidReason::TooManyDevices))
                } else {
                    Ok(Judged::valid())
                }
            }
            Body::SetRole { org, .. } => need_admin().and_then(|()| {
                if self.orgs.contains_key(org) {
                    Ok(Judged {
                        supersedes: self.live_role_writes(org).map(|(id, _)| *id).collect(),
                        ..Judged::valid()
                    })
                } else {
                    Err(Judged::invalid(InvalidReason::UnknownOrg))
                }
            }),
            Body::EpochKey {
                epoch,
                commitment,
                sealed,
            } => need_admin().and_then(|()| {
                if sealed
                    .iter()
                    .any(|entry| !self.devices.contains_key(&entry.recipient))
                {
                    return Err(Judged::invalid(InvalidReason::RecipientNotAMember));
                }
                let rotation = self.max_epoch().is_none_or(|current| *epoch > current);
                let known_key = || {
                    self.keys
                        .get(&(*epoch, *commitment))
                        .is_some_and(|record| record.rotation.is_some())
                };
                // Recipients are distinct members, so every member is one iff the counts match.
                if rotation && sealed.len() != self.devices.len() {
                    return Err(Judged::invalid(InvalidReason::MissingRecipient));
                }
                if !rotation && !known_key() {
                    return Err(Judged::invalid(InvalidReason::UnknownEpochKey));
                }
                Ok(Judged {
                    rotation,
                    ..Judged::valid()
                })
            }),
        };
        result.unwrap_or_else(|invalid| invalid)
    }
}

/// A member organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Its id (`org_id_for` its founding device).
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The op that added it.
    pub added_by: OpId,
    /// Its device keys, sorted.
    pub devices: Vec<PublicKey>,
}

/// A member device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its signing key.
    pub key: PublicKey,
    /// The organisation it belongs to.
    pub org: OrgId,
    /// Its key-agreement key, to seal epoch keys to.
    pub agreement: AgreementPublic,
    /// The op that added it.
    pub added_by: OpId,
}

/// An epoch key introduced by a valid rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochInfo {
    /// Its epoch.
    pub epoch: Epoch,
    /// Its [`super::epoch_key_commitment`].
    pub commitment: [u8; 32],
    /// The rotation op that introduced it (the lowest id if several did).
    pub rotation: OpId,
    /// Every device it was sealed to, by the rotation or by shares, sorted.
    pub recipients: Vec<PublicKey>,
}

/// The resolved membership of a network: organisations, roles, devices, epoch keys, and a
/// verdict for every accepted op. Identical on every node that holds the same ops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberState {
    network: NetworkId,
    genesis: OpId,
    view: View,
    verdicts: BTreeMap<OpId, Verdict>,
}

impl MemberState {
    pub(crate) fn new(network: NetworkId, genesis: OpId) -> Self {
        Self {
            network,
            genesis,
            view: View::default(),
            verdicts: BTreeMap::new(),
        }
    }

    pub(crate) fn view(&self) -> &View {
        &self.view
    }

    /// Records an accepted op's verdict and adds its contribution.
    pub(crate) fn apply(&mut self, op: &Op, judged: &Judged) {
        self.verdicts.insert(op.id(), judged.verdict);
        self.view.absorb(op, judged);
    }

    /// The network.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// The founding op.
    pub fn genesis(&self) -> OpId {
        self.genesis
    }

    /// Every member organisation, by id.
    pub fn orgs(&self) -> Vec<Org> {
        self.view
            .orgs
            .keys()
            .filter_map(|id| self.org(id))
            .collect()
    }

    /// One member organisation.
    pub fn org(&self, id: &OrgId) -> Option<Org> {
        let record = self.view.orgs.get(id)?;
        Some(Org {
            id: *id,
            name: record.name.clone(),
            role: self.view.role(id)?,
            added_by: record.added_by,
            devices: self
                .view
                .devices
                .iter()
                .filter(|(_, d)| d.org == *id)
                .map(|(key, _)| *key)
                .collect(),
        })
    }

    /// An organisation's role, if it is a member.
    pub fn role(&self, id: &OrgId) -> Option<Role> {
        self.view.role(id)
    }

    /// Every member device, by key.
    pub fn devices(&self) -> Vec<Device> {
        self.view
            .devices
            .iter()
            .map(|(key, record)| Device {
                key: *key,
                org: record.org,
                agreement: record.agreement,
                added_by: record.added_by,
            })
            .collect()
    }

    /// One member device.
    pub fn device(&self, key: &PublicKey) -> Option<Device> {
        self.view.devices.get(key).map(|record| Device {
            key: *key,
            org: record.org,
            agreement: record.agreement,
            added_by: record.added_by,
        })
    }

    /// Whether `key` is a member device (the transport's allow-list).
    pub fn is_member_device(&self, key: &PublicKey) -> bool {
        self.view.devices.contains_key(key)
    }

    /// Whether `key` is a device of an admin organisation.
    pub fn is_admin_device(&self, key: &PublicKey) -> bool {
        self.view.is_admin_device(key)
    }

    /// The current epoch key: the highest epoch with a valid rotation, the lowest rotation op id
    /// among rotations to that epoch.
    pub fn current_epoch(&self) -> Option<EpochInfo> {
        self.epochs().into_iter().next()
    }

    /// Every epoch key introduced by a valid rotation: newest epoch first, and within an epoch
    /// the current one (lowest rotation op id) first.
    pub fn epochs(&self) -> Vec<EpochInfo> {
        self.view
            .rotated_keys()
            .map(|((epoch, commitment), record, rotation)| EpochInfo {
                epoch: *epoch,
                commitment: *commitment,
                rotation,
                recipients: record.recipients.iter().copied().collect(),
            })
            .collect()
    }

    /// Member devices that have not been sealed the current epoch key (added after the rotation
    /// or concurrently with it): an admin should share the key with them.
    pub fn devices_without_current_key(&self) -> Vec<PublicKey> {
        let current = self.current_epoch();
        self.view
            .devices
            .keys()
            .filter(|key| {
                current
                    .as_ref()
                    .is_none_or(|info| info.recipients.binary_search(key).is_err())
            })
            .copied()
            .collect()
    }

    /// The verdict on an accepted op.
    pub fn verdict(&self, op: &OpId) -> Option<Verdict> {
        self.verdicts.get(op).copied()
    }

    /// Every accepted op's verdict, by op id.
    pub fn verdicts(&self) -> &BTreeMap<OpId, Verdict> {
        &self.verdicts
    }
}

impl Authority for MemberState {
    /// Whether `author` is a device of organisation `partition` in the current state.
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool {
        self.view
            .device_org(author)
            .is_some_and(|org| org == *partition && self.view.orgs.contains_key(&org))
    }
}
