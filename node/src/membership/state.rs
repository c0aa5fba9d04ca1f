//! Resolution: how one op is judged against the state of its causal past, what a valid op
//! contributes to a state, how states are joined, and the resolved [`MemberState`].
//!
//! A state ([`View`]) is the join of the contributions of a set of ops with given verdicts. Every
//! part of it is a union with an order-free tie-break (lowest op id, lowest role, a relay's
//! retirement before an add or change and then the lowest address list, highest epoch;
//! revocations are tombstones, receipts keep the highest epoch), so folding contributions in
//! any order, or joining the states of two sets, gives the state of their union. Which ops are
//! valid in a set (revocation can nullify ops concurrent with it) is the log's final pass, see
//! the module docs of `membership`. This module is pure: it never sees bytes, the clock or a
//! random source.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use puente_crdt::OrgId;

use super::op::{Body, Cut, Op, RevokeTarget};
use super::{MAX_DEVICES_PER_ORG, MAX_SEALED, OpId};
use crate::envelope::admission::Authority;
use crate::identity::{AgreementPublic, PublicKey};
use crate::keys::{Epoch, NetworkId};

/// An organisation's role. Ordered `Member < Admin`: of concurrent role changes, the lowest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Writes its own records and adds its own devices.
    Member,
    /// Also adds and revokes organisations, changes roles and distributes epoch keys.
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
    /// Only the organisation's own devices, or an admin, may add or revoke its devices.
    #[error("only a device of the organisation or of an admin may add or revoke its devices")]
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
    /// The organisation or device key was revoked: it is never a member again, and a revoked
    /// target cannot be revoked a second time.
    #[error("the organisation or device was revoked and cannot be added, changed or revoked again")]
    Revoked,
    /// A revocation names a device key that is not a member.
    #[error("the device is not a member")]
    UnknownDevice,
    /// A revocation's cuts do not name exactly the member devices it revokes.
    #[error("the cuts do not name exactly the devices the revocation removes")]
    CutsMismatch,
    /// A rotation uses the epoch number of a burned key (a rotation by an author revoked
    /// concurrently), under which envelopes may already be sealed.
    #[error("the epoch number belongs to a key burned by a revocation; rotate to another")]
    BurnedEpoch,
    /// A receipt names no effective revocation or erasure of its causal past.
    #[error("the receipt names no effective revocation or erasure in the op's causal past")]
    UnknownRevocation,
    /// An erasure names an epoch above the current one, or one an earlier erasure in its
    /// causal past already covers.
    #[error("the erasure names no epoch between the last erasure and the current epoch")]
    NothingToErase,
    /// The author was revoked by an effective revocation that does not build on this op: an op
    /// made concurrently with its author's revocation is lost.
    #[error("the author was revoked by a revocation made without knowledge of this op")]
    RevokedConcurrently,
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

/// What a `Relay` op writes to its relay's register. Ordered `active` first (`false <
/// true`), then by addresses: of concurrent live writes for one relay, the lowest wins, so a
/// retirement is never lost to a concurrent add or change (as a demotion is never lost to a
/// concurrent promotion), and of concurrent changes the lowest address list wins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RelayWrite {
    active: bool,
    addresses: Vec<String>,
}

/// An op's verdict plus what resolution needs to know about it besides its body: the result of
/// judging it against a state of its causal past. A `Revoke` op's is fixed once it is accepted;
/// other ops' are recomputed when a revocation concurrent with them nullifies an op they build
/// on (see the module docs of `membership`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judged {
    pub(crate) verdict: Verdict,
    /// For role and relay writes: the writes to the same register (the organisation's role,
    /// the relay's settings) in the causal past that this one replaces.
    pub(crate) supersedes: Vec<OpId>,
    /// For `EpochKey` ops: a rotation (true) or a share of an existing key (false).
    pub(crate) rotation: bool,
    /// The organisation the author was a member device of in the state the op was judged in,
    /// whatever the verdict (`None` if it was not a member, and for the genesis): what an
    /// organisation's revocation covers.
    pub(crate) author_org: Option<OrgId>,
    /// How many valid erasures the op's causal past holds: a device added by this op belongs
    /// to the history after them.
    pub(crate) erasures_seen: usize,
}

impl Judged {
    pub(crate) fn invalid(reason: InvalidReason) -> Self {
        Self {
            verdict: Verdict::Invalid(reason),
            supersedes: Vec::new(),
            rotation: false,
            author_org: None,
            erasures_seen: 0,
        }
    }

    fn valid() -> Self {
        Self {
            verdict: Verdict::Valid,
            supersedes: Vec::new(),
            rotation: false,
            author_org: None,
            erasures_seen: 0,
        }
    }

    /// The op is lost to a revocation of its author that does not build on it: invalid,
    /// whatever it would have been. `burns`: it is an `EpochKey` op above the current epoch of
    /// its causal state ([`View::burns`]), so nodes that did not know of the revocation may
    /// have sealed envelopes under its key: the key is burned, marked by `rotation`.
    pub(crate) fn nullified(self, burns: bool) -> Self {
        Self {
            rotation: burns,
            author_org: self.author_org,
            ..Self::invalid(InvalidReason::RevokedConcurrently)
        }
    }
}

/// Whether a revocation of `target` covers `author` as a device of `author_org` (`None`: not
/// a member device, which nothing covers).
pub(crate) fn covers(target: &RevokeTarget, author: &PublicKey, author_org: Option<OrgId>) -> bool {
    match (target, author_org) {
        (_, None) => false,
        (RevokeTarget::Device(device), Some(_)) => device == author,
        (RevokeTarget::Org(org), Some(author_org)) => author_org == *org,
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
    /// [`Judged::erasures_seen`] of the op that added it.
    erasures_seen: usize,
}

impl DeviceRecord {
    fn new(added_by: OpId, org: OrgId, agreement: AgreementPublic, erasures_seen: usize) -> Self {
        Self {
            org,
            agreement,
            added_by,
            erasures_seen,
        }
    }
}

/// An effective revocation: what it removes and its cuts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RevocationRecord {
    target: RevokeTarget,
    cuts: Vec<Cut>,
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

/// A multi-value register: one organisation's role, or one relay's settings. Its value is the
/// lowest of its live writes (`V`'s order is the tie-break).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Register<V> {
    /// The writes no known write supersedes, with the value each sets. Never holds an id of
    /// `superseded`, so that equal sets of ops give equal registers.
    live: BTreeMap<OpId, V>,
    /// Every write to this register that a known write supersedes, sorted: kept so that
    /// joining a state in which such a write is still live cannot revive it. Grows by one id
    /// per write; a sorted vector so that copies and joins are one pass over contiguous memory.
    superseded: Vec<OpId>,
}

impl<V> Default for Register<V> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            superseded: Vec::new(),
        }
    }
}

impl<V: Clone + Ord> Register<V> {
    fn is_superseded(&self, id: &OpId) -> bool {
        self.superseded.binary_search(id).is_ok()
    }

    fn write(&mut self, id: OpId, value: V, supersedes: &[OpId]) {
        for old in supersedes {
            self.live.remove(old);
            if let Err(at) = self.superseded.binary_search(old) {
                self.superseded.insert(at, *old);
            }
        }
        if !self.is_superseded(&id) {
            self.live.insert(id, value);
        }
    }

    fn join(&mut self, other: &Register<V>) {
        if self.superseded != other.superseded {
            self.superseded = merge_sorted(&self.superseded, &other.superseded);
        }
        self.live
            .extend(other.live.iter().map(|(id, value)| (*id, value.clone())));
        let superseded = &self.superseded;
        self.live
            .retain(|id, _| superseded.binary_search(id).is_err());
    }

    /// The register's value: the lowest of its live writes.
    fn value(&self) -> Option<&V> {
        self.live.values().min()
    }
}

/// Registers by key, each shared between states until written.
type Registers<K, V> = Arc<BTreeMap<K, Arc<Register<V>>>>;

/// Joins `other`'s registers into `mine`, skipping the parts both share.
fn join_registers<K: Ord + Clone, V: Clone + Ord>(
    mine: &mut Registers<K, V>,
    other: &Registers<K, V>,
) {
    if mine.is_empty() {
        *mine = Arc::clone(other);
    } else if !Arc::ptr_eq(mine, other) {
        let registers = Arc::make_mut(mine);
        for (key, register) in other.iter() {
            match registers.get_mut(key) {
                Some(existing) if Arc::ptr_eq(existing, register) => {}
                Some(existing) => Arc::make_mut(existing).join(register),
                None => {
                    registers.insert(key.clone(), Arc::clone(register));
                }
            }
        }
    }
}

/// Writes `value` to `key`'s register in `registers`, superseding `supersedes`.
fn write_register<K: Ord + Clone, V: Clone + Ord>(
    registers: &mut Registers<K, V>,
    key: K,
    id: OpId,
    value: V,
    supersedes: &[OpId],
) {
    let register = Arc::make_mut(registers).entry(key).or_default();
    Arc::make_mut(register).write(id, value, supersedes);
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
///
/// Organisation and device records stay after a revocation (so that their keys and ids are
/// known and can never be added again); the tombstones say they are no longer members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct View {
    orgs: Arc<BTreeMap<OrgId, OrgRecord>>,
    devices: Arc<BTreeMap<PublicKey, DeviceRecord>>,
    /// Per organisation, its role register (shared between states until a role write).
    roles: Registers<OrgId, Role>,
    /// Per relay key, its register (shared between states until a relay write).
    relays: Registers<PublicKey, RelayWrite>,
    /// Every epoch key introduced by a valid rotation, by epoch and commitment.
    keys: Arc<BTreeMap<(Epoch, [u8; 32]), KeyRecord>>,
    /// Burned keys, by epoch and commitment, with the lowest op: nullified `EpochKey` ops above
    /// the current epoch of their causal state (rotations by an author revoked concurrently).
    /// Never current and never shared; their epoch numbers stay taken, so a later rotation
    /// never reuses the number of envelopes already sealed under them.
    burned: Arc<BTreeMap<(Epoch, [u8; 32]), OpId>>,
    /// Every valid revocation, by op id.
    revocations: Arc<BTreeMap<OpId, RevocationRecord>>,
    /// Tombstones: device keys revoked one by one.
    revoked_devices: Arc<BTreeSet<PublicKey>>,
    /// Tombstones: organisations revoked, with every device they have or are given.
    revoked_orgs: Arc<BTreeSet<OrgId>>,
    /// Per revocation (or erasure), per device, the highest epoch a valid receipt reported.
    receipts: Arc<BTreeMap<OpId, BTreeMap<PublicKey, Epoch>>>,
    /// Every valid erasure: the first epoch it keeps, by op id.
    erasures: Arc<BTreeMap<OpId, Epoch>>,
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
    /// Adds the contribution of an accepted op (nothing if it is invalid, but for the burned
    /// key of a nullified rotation).
    pub(crate) fn absorb(&mut self, op: &Op, judged: &Judged) {
        if !judged.verdict.is_valid() {
            if let Body::EpochKey {
                epoch, commitment, ..
            } = op.body()
                && judged.rotation
            {
                let burned = Arc::make_mut(&mut self.burned);
                let lowest = burned.entry((*epoch, *commitment)).or_insert(op.id());
                *lowest = (*lowest).min(op.id());
            }
            return;
        }
        let id = op.id();
        match op.body() {
            Body::Create {
                org,
                name,
                device,
                agreement,
            } => {
                let record = DeviceRecord::new(id, *org, *agreement, 0);
                self.add_org(id, *org, name, Role::Admin, *device, record);
            }
            Body::AddOrg {
                org,
                name,
                role,
                device,
                agreement,
            } => {
                let record = DeviceRecord::new(id, *org, *agreement, judged.erasures_seen);
                self.add_org(id, *org, name, *role, *device, record);
            }
            Body::AddDevice {
                org,
                device,
                agreement,
            } => {
                let record = DeviceRecord::new(id, *org, *agreement, judged.erasures_seen);
                self.add_device(*device, record);
            }
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
            Body::Revoke { target, cuts, .. } => {
                let record = RevocationRecord {
                    target: *target,
                    cuts: cuts.clone(),
                };
                Arc::make_mut(&mut self.revocations).insert(id, record);
                match target {
                    RevokeTarget::Org(org) => {
                        Arc::make_mut(&mut self.revoked_orgs).insert(*org);
                    }
                    RevokeTarget::Device(device) => {
                        Arc::make_mut(&mut self.revoked_devices).insert(*device);
                    }
                }
            }
            Body::Receipt { revocation, epoch } => {
                let per_device = Arc::make_mut(&mut self.receipts)
                    .entry(*revocation)
                    .or_default();
                let latest = per_device.entry(op.author()).or_insert(*epoch);
                *latest = (*latest).max(*epoch);
            }
            Body::Relay {
                relay,
                addresses,
                active,
            } => {
                let write = RelayWrite {
                    active: *active,
                    addresses: addresses.clone(),
                };
                write_register(&mut self.relays, *relay, id, write, &judged.supersedes);
            }
            Body::Erase { before } => {
                Arc::make_mut(&mut self.erasures).insert(id, *before);
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
        record: DeviceRecord,
    ) {
        let org_record = OrgRecord {
            name: name.to_owned(),
            added_by: id,
        };
        keep_lowest(Arc::make_mut(&mut self.orgs), &org, &org_record, |r| {
            r.added_by
        });
        // The organisation is new in the op's causal past, so this write supersedes nothing.
        self.write_role(org, id, role, &[]);
        self.add_device(device, record);
    }

    fn write_role(&mut self, org: OrgId, id: OpId, role: Role, supersedes: &[OpId]) {
        write_register(&mut self.roles, org, id, role, supersedes);
    }

    fn add_device(&mut self, device: PublicKey, record: DeviceRecord) {
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
        join_registers(&mut self.roles, &other.roles);
        join_registers(&mut self.relays, &other.relays);
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
        if self.burned.is_empty() {
            self.burned = Arc::clone(&other.burned);
        } else if !Arc::ptr_eq(&self.burned, &other.burned) {
            let mine = Arc::make_mut(&mut self.burned);
            for (key, op) in other.burned.iter() {
                let lowest = mine.entry(*key).or_insert(*op);
                *lowest = (*lowest).min(*op);
            }
        }
        if self.revocations.is_empty() {
            self.revocations = Arc::clone(&other.revocations);
        } else if !Arc::ptr_eq(&self.revocations, &other.revocations) {
            let mine = Arc::make_mut(&mut self.revocations);
            for (id, record) in other.revocations.iter() {
                mine.entry(*id).or_insert_with(|| record.clone());
            }
        }
        if self.revoked_devices.is_empty() {
            self.revoked_devices = Arc::clone(&other.revoked_devices);
        } else if !Arc::ptr_eq(&self.revoked_devices, &other.revoked_devices) {
            Arc::make_mut(&mut self.revoked_devices).extend(other.revoked_devices.iter().copied());
        }
        if self.revoked_orgs.is_empty() {
            self.revoked_orgs = Arc::clone(&other.revoked_orgs);
        } else if !Arc::ptr_eq(&self.revoked_orgs, &other.revoked_orgs) {
            Arc::make_mut(&mut self.revoked_orgs).extend(other.revoked_orgs.iter().copied());
        }
        if self.receipts.is_empty() {
            self.receipts = Arc::clone(&other.receipts);
        } else if !Arc::ptr_eq(&self.receipts, &other.receipts) {
            let mine = Arc::make_mut(&mut self.receipts);
            for (revocation, theirs) in other.receipts.iter() {
                let per_device = mine.entry(*revocation).or_default();
                for (device, epoch) in theirs {
                    let latest = per_device.entry(*device).or_insert(*epoch);
                    *latest = (*latest).max(*epoch);
                }
            }
        }
        if self.erasures.is_empty() {
            self.erasures = Arc::clone(&other.erasures);
        } else if !Arc::ptr_eq(&self.erasures, &other.erasures) {
            Arc::make_mut(&mut self.erasures).extend(other.erasures.iter());
        }
    }

    /// The first epoch the valid erasures keep (`None`: nothing was erased).
    fn erased_before(&self) -> Option<Epoch> {
        self.erasures.values().max().copied()
    }

    /// The role writes of `org` that no known write supersedes.
    fn live_role_writes(&self, org: &OrgId) -> impl Iterator<Item = (&OpId, &Role)> {
        self.roles
            .get(org)
            .into_iter()
            .flat_map(|register| register.live.iter())
    }

    /// The role of an organisation that has a record, revoked or not.
    fn recorded_role(&self, org: &OrgId) -> Option<Role> {
        if !self.orgs.contains_key(org) {
            return None;
        }
        self.roles
            .get(org)
            .and_then(|register| register.value())
            .copied()
    }

    /// The relay writes of `relay` that no known write supersedes.
    fn live_relay_writes(&self, relay: &PublicKey) -> impl Iterator<Item = &OpId> {
        self.relays
            .get(relay)
            .into_iter()
            .flat_map(|register| register.live.keys())
    }

    /// The relays in use: those whose winning write is active, by key.
    fn active_relays(&self) -> impl Iterator<Item = (&PublicKey, &RelayWrite)> {
        self.relays.iter().filter_map(|(key, register)| {
            register
                .value()
                .filter(|write| write.active)
                .map(|write| (key, write))
        })
    }

    /// A member organisation's role.
    fn role(&self, org: &OrgId) -> Option<Role> {
        if !self.is_member_org(org) {
            return None;
        }
        self.recorded_role(org)
    }

    fn is_member_org(&self, org: &OrgId) -> bool {
        self.orgs.contains_key(org) && !self.revoked_orgs.contains(org)
    }

    /// Whether a device key with a record was revoked, by itself or with its organisation.
    fn is_revoked_key(&self, device: &PublicKey) -> bool {
        self.revoked_devices.contains(device)
            || self
                .devices
                .get(device)
                .is_some_and(|record| self.revoked_orgs.contains(&record.org))
    }

    /// The organisation of a member device.
    fn member_org(&self, device: &PublicKey) -> Option<OrgId> {
        let record = self.devices.get(device)?;
        (self.is_member_org(&record.org) && !self.revoked_devices.contains(device))
            .then_some(record.org)
    }

    fn is_member_device(&self, device: &PublicKey) -> bool {
        self.member_org(device).is_some()
    }

    /// The member devices, by key.
    fn member_devices(&self) -> impl Iterator<Item = (&PublicKey, &DeviceRecord)> {
        self.devices.iter().filter(|(key, record)| {
            self.is_member_org(&record.org) && !self.revoked_devices.contains(*key)
        })
    }

    fn is_admin_device(&self, device: &PublicKey) -> bool {
        self.member_org(device)
            .is_some_and(|org| self.role(&org) == Some(Role::Admin))
    }

    fn device_count(&self, org: &OrgId) -> usize {
        self.member_devices().filter(|(_, d)| d.org == *org).count()
    }

    fn member_count(&self) -> usize {
        self.member_devices().count()
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

    /// The current epoch: the highest with a valid rotation.
    fn max_epoch(&self) -> Option<Epoch> {
        self.keys
            .iter()
            .rev()
            .find(|(_, record)| record.rotation.is_some())
            .map(|((epoch, _), _)| *epoch)
    }

    fn is_burned_epoch(&self, epoch: Epoch) -> bool {
        self.burned
            .range((epoch, [0; 32])..=(epoch, [0xff; 32]))
            .next()
            .is_some()
    }

    /// Whether `op`, if nullified in this state (the state of its causal past), burns its key:
    /// an `EpochKey` op above the current epoch, whatever else was wrong with it.
    pub(crate) fn burns(&self, op: &Op) -> bool {
        match op.body() {
            Body::EpochKey { epoch, .. } => self.max_epoch().is_none_or(|current| *epoch > current),
            _ => false,
        }
    }

    /// Judges `op` against this state, which must be the state of exactly the op's strict
    /// ancestors. Only the genesis op reaches here as a `Create`.
    pub(crate) fn judge(&self, op: &Op) -> Judged {
        let author = op.author();
        if let Body::Create { .. } = op.body() {
            return Judged::valid();
        }
        let Some(author_org) = self.member_org(&author) else {
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
                if self.revoked_orgs.contains(org) || self.is_revoked_key(device) {
                    Err(Judged::invalid(InvalidReason::Revoked))
                } else if self.orgs.contains_key(org) {
                    Err(Judged::invalid(InvalidReason::OrgExists))
                } else if self.devices.contains_key(device) {
                    Err(Judged::invalid(InvalidReason::DeviceExists))
                } else if self.member_count() >= MAX_SEALED {
                    Err(Judged::invalid(InvalidReason::TooManyDevices))
                } else {
                    Ok(Judged::valid())
                }
            }),
            Body::AddDevice { org, device, .. } => {
                if author_org != *org && !admin {
                    Err(Judged::invalid(InvalidReason::NotOrgOrAdmin))
                } else if self.revoked_orgs.contains(org) || self.is_revoked_key(device) {
                    Err(Judged::invalid(InvalidReason::Revoked))
                } else if !self.orgs.contains_key(org) {
                    Err(Judged::invalid(InvalidReason::UnknownOrg))
                } else if self.devices.contains_key(device) {
                    Err(Judged::invalid(InvalidReason::DeviceExists))
                } else if self.device_count(org) >= MAX_DEVICES_PER_ORG
                    || self.member_count() >= MAX_SEALED
                {
                    Err(Judged::invalid(InvalidReason::TooManyDevices))
                } else {
                    Ok(Judged::valid())
                }
            }
            Body::SetRole { org, .. } => need_admin().and_then(|()| {
                if self.revoked_orgs.contains(org) {
                    Err(Judged::invalid(InvalidReason::Revoked))
                } else if self.orgs.contains_key(org) {
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
                    .any(|entry| !self.is_member_device(&entry.recipient))
                {
                    return Err(Judged::invalid(InvalidReason::RecipientNotAMember));
                }
                let rotation = self.max_epoch().is_none_or(|current| *epoch > current);
                if rotation && self.is_burned_epoch(*epoch) {
                    return Err(Judged::invalid(InvalidReason::BurnedEpoch));
                }
                let known_key = || {
                    self.keys
                        .get(&(*epoch, *commitment))
                        .is_some_and(|record| record.rotation.is_some())
                };
                // Recipients are distinct members, so every member is one iff the counts match.
                if rotation && sealed.len() != self.member_count() {
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
            Body::Revoke {
                target: RevokeTarget::Org(org),
                cuts,
                ..
            } => need_admin().and_then(|()| {
                if self.revoked_orgs.contains(org) {
                    Err(Judged::invalid(InvalidReason::Revoked))
                } else if !self.orgs.contains_key(org) {
                    Err(Judged::invalid(InvalidReason::UnknownOrg))
                } else if !cuts.iter().map(|cut| &cut.device).eq(self
                    .member_devices()
                    .filter(|(_, record)| record.org == *org)
                    .map(|(key, _)| key))
                {
                    Err(Judged::invalid(InvalidReason::CutsMismatch))
                } else {
                    Ok(Judged::valid())
                }
            }),
            // The parser checked that the cuts name exactly the device.
            Body::Revoke {
                target: RevokeTarget::Device(device),
                ..
            } => match self.devices.get(device) {
                None => Err(Judged::invalid(InvalidReason::UnknownDevice)),
                Some(_) if self.is_revoked_key(device) => {
                    Err(Judged::invalid(InvalidReason::Revoked))
                }
                Some(record) if record.org != author_org && !admin => {
                    Err(Judged::invalid(InvalidReason::NotOrgOrAdmin))
                }
                Some(_) => Ok(Judged::valid()),
            },
            Body::Receipt { revocation, .. } => {
                if self.revocations.contains_key(revocation)
                    || self.erasures.contains_key(revocation)
                {
                    Ok(Judged::valid())
                } else {
                    Err(Judged::invalid(InvalidReason::UnknownRevocation))
                }
            }
            Body::Relay { relay, .. } => need_admin().map(|()| Judged {
                supersedes: self.live_relay_writes(relay).copied().collect(),
                ..Judged::valid()
            }),
            Body::Erase { before } => need_admin().and_then(|()| {
                let above_last = self.erased_before().is_none_or(|last| *before > last);
                let at_most_current = self.max_epoch().is_some_and(|current| *before <= current);
                if above_last && at_most_current {
                    Ok(Judged::valid())
                } else {
                    Err(Judged::invalid(InvalidReason::NothingToErase))
                }
            }),
        };
        Judged {
            author_org: Some(author_org),
            erasures_seen: self.erasures.len(),
            ..result.unwrap_or_else(|invalid| invalid)
        }
    }

    /// Whether an effective revocation of this state covers `author` as a member device of
    /// `author_org` (`None`: not a member device, which nothing covers).
    pub(crate) fn is_covered(&self, author: &PublicKey, author_org: Option<OrgId>) -> bool {
        author_org.is_some_and(|org| {
            self.revoked_devices.contains(author) || self.revoked_orgs.contains(&org)
        })
    }

    /// The effective revocations of this state and their targets, by op id.
    pub(crate) fn revocation_targets(&self) -> impl Iterator<Item = (&OpId, &RevokeTarget)> {
        self.revocations
            .iter()
            .map(|(id, record)| (id, &record.target))
    }
}

/// An organisation (a member, or a revoked one in [`MemberState::revoked_orgs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Its id (`org_id_for` its founding device).
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Its role (for a revoked organisation, the role it had).
    pub role: Role,
    /// The op that added it.
    pub added_by: OpId,
    /// Its device keys, sorted: its member devices, or for a revoked organisation every device
    /// it had.
    pub devices: Vec<PublicKey>,
}

/// A device (a member, or a revoked one in [`MemberState::revoked_devices`]).
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

/// A relay the network's nodes use: its winning `Relay` write is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayEntry {
    /// The relay's Ed25519 transport key.
    pub key: PublicKey,
    /// Its multiaddress texts without the `/p2p/` suffix, sorted, each once (checked for
    /// structure only; see [`super::Body::Relay`]).
    pub addresses: Vec<String>,
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

/// A `Revoke` op of the log, effective or not, for the audit view and receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationInfo {
    /// The op.
    pub id: OpId,
    /// The device that signed it.
    pub author: PublicKey,
    /// What it revokes.
    pub target: RevokeTarget,
    /// Its cuts, sorted by device.
    pub cuts: Vec<Cut>,
    /// The reason it gives (empty if none).
    pub reason: String,
    /// The time its author claims (seconds since the Unix epoch; nothing decides by it).
    pub claimed_time: u64,
    /// Whether it takes effect: its author was authorised in its causal past. Fixed once the
    /// op is accepted.
    pub effective: bool,
    /// The verdict, with the reason if it is not effective.
    pub verdict: Verdict,
}

/// A valid `Erase` op of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureInfo {
    /// The op.
    pub id: OpId,
    /// The admin device that signed it.
    pub author: PublicKey,
    /// The first epoch it keeps: every key of a lower epoch is destroyed.
    pub before: Epoch,
    /// The time its author claims (seconds since the Unix epoch; nothing decides by it).
    pub claimed_time: u64,
}

/// How far a revoked device's envelopes are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCut {
    /// The highest sequence number kept: the maximum of the cuts that the effective
    /// revocations covering the device name for it (0 if none names it).
    pub cut: u64,
    /// Every effective revocation covering the device (of the device or of its organisation),
    /// sorted by op id.
    pub revocations: Vec<OpId>,
    /// Those of them whose cut for the device is [`DeviceCut::cut`].
    pub cut_by: Vec<OpId>,
}

/// What a key may write in an organisation's partition, for admitting envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteLimit {
    /// A member device of that organisation: no limit.
    Member,
    /// A revoked device of that organisation (revoked itself or with the organisation): its
    /// envelopes with sequence numbers up to `cut` are kept; later ones are refused, except
    /// those that a change from a still-valid key builds on (the replica's rule).
    Revoked {
        /// [`DeviceCut::cut`].
        cut: u64,
    },
    /// Not a device of that organisation in this state, member or revoked: nothing of it is
    /// accepted for that partition.
    NotMember,
}

/// The resolved membership of a network: organisations, roles, devices, epoch keys,
/// revocations, receipts, and a verdict for every accepted op. Identical on every node that
/// holds the same ops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberState {
    network: NetworkId,
    genesis: OpId,
    view: View,
    verdicts: BTreeMap<OpId, Verdict>,
    /// Every `Revoke` op (effective or not): their verdicts never change after acceptance.
    revocations: BTreeMap<OpId, RevocationInfo>,
    /// Every accepted `Erase` op's author and claimed time (valid or not: the view says which
    /// are valid).
    erase_ops: BTreeMap<OpId, (PublicKey, u64)>,
}

impl MemberState {
    pub(crate) fn new(network: NetworkId, genesis: OpId) -> Self {
        Self {
            network,
            genesis,
            view: View::default(),
            verdicts: BTreeMap::new(),
            revocations: BTreeMap::new(),
            erase_ops: BTreeMap::new(),
        }
    }

    pub(crate) fn view(&self) -> &View {
        &self.view
    }

    /// Records an accepted op's verdict and adds its contribution.
    pub(crate) fn apply(&mut self, op: &Op, judged: &Judged) {
        self.verdicts.insert(op.id(), judged.verdict);
        self.view.absorb(op, judged);
        if let Body::Erase { .. } = op.body() {
            self.erase_ops
                .insert(op.id(), (op.author(), op.claimed_time()));
        }
        if let Body::Revoke {
            target,
            cuts,
            reason,
        } = op.body()
        {
            let info = RevocationInfo {
                id: op.id(),
                author: op.author(),
                target: *target,
                cuts: cuts.clone(),
                reason: reason.clone(),
                claimed_time: op.claimed_time(),
                effective: judged.verdict.is_valid(),
                verdict: judged.verdict,
            };
            self.revocations.insert(op.id(), info);
        }
    }

    /// Replaces the state and the verdicts after the log recomputed them. `Revoke` verdicts
    /// are unchanged by a recompute, so the revocations are kept.
    pub(crate) fn reset(&mut self, view: View, verdicts: BTreeMap<OpId, Verdict>) {
        self.view = view;
        self.verdicts = verdicts;
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

    /// One member organisation (`None` if it is not one, or was revoked).
    pub fn org(&self, id: &OrgId) -> Option<Org> {
        if !self.view.is_member_org(id) {
            return None;
        }
        self.org_record(id)
    }

    /// Every revoked organisation, by id, with the role it had and every device it had: kept
    /// so that its records and history can still be shown.
    pub fn revoked_orgs(&self) -> Vec<Org> {
        self.view
            .revoked_orgs
            .iter()
            .filter_map(|id| self.org_record(id))
            .collect()
    }

    fn org_record(&self, id: &OrgId) -> Option<Org> {
        let record = self.view.orgs.get(id)?;
        let revoked = self.view.revoked_orgs.contains(id);
        Some(Org {
            id: *id,
            name: record.name.clone(),
            role: self.view.recorded_role(id)?,
            added_by: record.added_by,
            devices: self
                .view
                .devices
                .iter()
                .filter(|(key, d)| {
                    d.org == *id && (revoked || !self.view.revoked_devices.contains(*key))
                })
                .map(|(key, _)| *key)
                .collect(),
        })
    }

    /// A member organisation's role.
    pub fn role(&self, id: &OrgId) -> Option<Role> {
        self.view.role(id)
    }

    /// The member organisations with the admin role, by id. One whose devices were all revoked
    /// is listed but can do nothing: [`MemberState::admin_devices`] says who can.
    pub fn admins(&self) -> Vec<OrgId> {
        self.view
            .orgs
            .keys()
            .filter(|id| self.view.role(id) == Some(Role::Admin))
            .copied()
            .collect()
    }

    /// The member devices of admin organisations, by key: the keys that can still add and
    /// revoke organisations, change roles and rotate the epoch key.
    pub fn admin_devices(&self) -> Vec<PublicKey> {
        self.view
            .member_devices()
            .filter(|(key, _)| self.view.is_admin_device(key))
            .map(|(key, _)| *key)
            .collect()
    }

    /// Whether revoking `target` would leave no member device of an admin organisation, so
    /// nobody could add organisations, change roles, revoke organisations or rotate the key
    /// any more: the CLI warns before doing it. (Demoting the last admin has the same effect:
    /// compare [`MemberState::admins`].)
    pub fn would_leave_without_admin(&self, target: &RevokeTarget) -> bool {
        self.view.member_devices().all(|(key, record)| {
            !self.view.is_admin_device(key)
                || match target {
                    RevokeTarget::Org(org) => record.org == *org,
                    RevokeTarget::Device(device) => key == device,
                }
        })
    }

    /// Every member device, by key.
    pub fn devices(&self) -> Vec<Device> {
        self.view
            .member_devices()
            .map(|(key, record)| Device {
                key: *key,
                org: record.org,
                agreement: record.agreement,
                added_by: record.added_by,
            })
            .collect()
    }

    /// One member device (`None` if it is not one, or was revoked).
    pub fn device(&self, key: &PublicKey) -> Option<Device> {
        if !self.view.is_member_device(key) {
            return None;
        }
        self.device_record(key)
    }

    fn device_record(&self, key: &PublicKey) -> Option<Device> {
        self.view.devices.get(key).map(|record| Device {
            key: *key,
            org: record.org,
            agreement: record.agreement,
            added_by: record.added_by,
        })
    }

    /// Every revoked device (revoked itself or with its organisation), by key.
    pub fn revoked_devices(&self) -> Vec<Device> {
        self.view
            .devices
            .keys()
            .filter(|key| self.view.is_revoked_key(key))
            .filter_map(|key| self.device_record(key))
            .collect()
    }

    /// Whether `key` is a member device (the transport's allow-list).
    pub fn is_member_device(&self, key: &PublicKey) -> bool {
        self.view.is_member_device(key)
    }

    /// Whether `key` is a device of an admin organisation.
    pub fn is_admin_device(&self, key: &PublicKey) -> bool {
        self.view.is_admin_device(key)
    }

    /// Whether `key` was a device that an effective revocation removed, by itself or with its
    /// organisation. Such a key is never a member again.
    pub fn is_revoked_device(&self, key: &PublicKey) -> bool {
        self.view.is_revoked_key(key)
    }

    /// Whether an effective revocation removed organisation `id`. Its id is never a member
    /// again (the same founding key cannot found it anew).
    pub fn is_revoked_org(&self, id: &OrgId) -> bool {
        self.view.revoked_orgs.contains(id)
    }

    /// Every `Revoke` op of the log, effective or not, by op id.
    pub fn revocations(&self) -> Vec<RevocationInfo> {
        self.revocations.values().cloned().collect()
    }

    /// One `Revoke` op of the log.
    pub fn revocation(&self, id: &OpId) -> Option<RevocationInfo> {
        self.revocations.get(id).cloned()
    }

    /// For a revoked device, the cut of its envelopes and the revocations behind it; `None`
    /// for any other key. Several effective revocations of one device keep the **highest**
    /// cut: what any revoker had accepted is kept.
    pub fn device_cut(&self, key: &PublicKey) -> Option<DeviceCut> {
        if !self.view.is_revoked_key(key) {
            return None;
        }
        let org = self.view.devices.get(key).map(|record| record.org);
        let mut cuts = Vec::new();
        for (id, record) in self.view.revocations.iter() {
            if covers(&record.target, key, org) {
                let seq = record
                    .cuts
                    .iter()
                    .find(|cut| cut.device == *key)
                    .map(|cut| cut.seq);
                cuts.push((*id, seq));
            }
        }
        let cut = cuts.iter().filter_map(|(_, seq)| *seq).max();
        Some(DeviceCut {
            cut: cut.unwrap_or(0),
            revocations: cuts.iter().map(|(id, _)| *id).collect(),
            cut_by: cuts
                .iter()
                .filter(|(_, seq)| seq.is_some() && *seq == cut)
                .map(|(id, _)| *id)
                .collect(),
        })
    }

    /// What `author` may write in organisation `partition`'s records: everything if it is a
    /// member device of that organisation, up to its cut if it is a revoked device of it,
    /// nothing otherwise.
    pub fn write_limit(&self, author: &PublicKey, partition: &OrgId) -> WriteLimit {
        match self.view.devices.get(author) {
            Some(record) if record.org == *partition && self.view.orgs.contains_key(partition) => {
                match self.device_cut(author) {
                    None => WriteLimit::Member,
                    Some(cut) => WriteLimit::Revoked { cut: cut.cut },
                }
            }
            _ => WriteLimit::NotMember,
        }
    }

    /// The relays the network's nodes use, sorted by key: for each relay key, the winning
    /// write of its register (a write replaces the writes it saw; of concurrent live writes a
    /// retirement wins, then the lowest address list) if it is active.
    pub fn relays(&self) -> Vec<RelayEntry> {
        self.view
            .active_relays()
            .map(|(key, write)| RelayEntry {
                key: *key,
                addresses: write.addresses.clone(),
            })
            .collect()
    }

    /// The valid erasures, by op id.
    pub fn erasures(&self) -> Vec<ErasureInfo> {
        self.view
            .erasures
            .iter()
            .filter_map(|(id, before)| {
                let (author, claimed_time) = self.erase_ops.get(id)?;
                Some(ErasureInfo {
                    id: *id,
                    author: *author,
                    before: *before,
                    claimed_time: *claimed_time,
                })
            })
            .collect()
    }

    /// How many valid erasures the log holds.
    pub fn erasure_count(&self) -> usize {
        self.view.erasures.len()
    }

    /// The first epoch the valid erasures keep: every key below it is to be destroyed (`None`:
    /// nothing was erased).
    pub fn erased_before(&self) -> Option<Epoch> {
        self.view.erased_before()
    }

    /// Whether device `key` (member or revoked) was added after every valid erasure: only such
    /// a device writes the history that follows them. `false` for an unknown key.
    pub fn is_after_erasures(&self, key: &PublicKey) -> bool {
        self.view
            .devices
            .get(key)
            .is_some_and(|record| record.erasures_seen == self.view.erasures.len())
    }

    /// The receipts for revocation `id`: per device, the highest epoch its valid receipts
    /// report. Devices revoked since keep their receipts here.
    pub fn receipts(&self, id: &OpId) -> BTreeMap<PublicKey, Epoch> {
        self.view.receipts.get(id).cloned().unwrap_or_default()
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

    /// The epoch for a new rotation: the lowest above the current one (or `Epoch(1)`) that no
    /// burned key holds. `None` if the epoch numbers are exhausted.
    pub fn next_epoch(&self) -> Option<Epoch> {
        let mut next = match self.view.max_epoch() {
            None => 1,
            Some(Epoch(e)) => e.checked_add(1)?,
        };
        // At most one step per burned key: bounded by the log's size.
        while self.view.is_burned_epoch(Epoch(next)) {
            next = next.checked_add(1)?;
        }
        Some(Epoch(next))
    }

    /// Burned keys, by epoch and commitment, with the lowest op that carried each: `EpochKey`
    /// ops above the current epoch of their causal state that a concurrent revocation of their
    /// author nullified. Never current, never shared, their epoch numbers never rotated to
    /// again. Their recipients may still open them ([`super::MembershipLog::epoch_keys`]) to
    /// read what was sealed under them before the revocation was known.
    pub fn burned_keys(&self) -> Vec<(Epoch, [u8; 32], OpId)> {
        self.view
            .burned
            .iter()
            .map(|((epoch, commitment), op)| (*epoch, *commitment, *op))
            .collect()
    }

    /// Member devices that have not been sealed the current epoch key (added after the rotation
    /// or concurrently with it): an admin should share the key with them.
    pub fn devices_without_current_key(&self) -> Vec<PublicKey> {
        let current = self.current_epoch();
        self.view
            .member_devices()
            .map(|(key, _)| key)
            .filter(|key| {
                current
                    .as_ref()
                    .is_none_or(|info| info.recipients.binary_search(key).is_err())
            })
            .copied()
            .collect()
    }

    /// Devices the current epoch key was sealed to that are not member devices now: revoked
    /// devices (a rotation concurrent with their revocation reached them), or devices whose
    /// addition a revocation nullified. While this is not empty, whatever is written under the
    /// current key is readable by them: an admin must rotate again
    /// ([`MemberState::needs_rotation`]).
    pub fn current_key_exposed_to(&self) -> Vec<PublicKey> {
        self.current_epoch()
            .map(|info| {
                info.recipients
                    .into_iter()
                    .filter(|key| !self.view.is_member_device(key))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the current epoch key reached a device that is not a member now, so a new
    /// rotation (sealed to the member devices only) is needed.
    pub fn needs_rotation(&self) -> bool {
        !self.current_key_exposed_to().is_empty()
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
    /// Whether `author` is a member device of organisation `partition` now (not revoked).
    fn may_write(&self, author: &PublicKey, partition: &OrgId) -> bool {
        self.view.member_org(author) == Some(*partition)
    }
}
