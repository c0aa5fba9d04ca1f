//! The signed membership log: which organisations and devices belong to a network, their roles,
//! and the epoch keys sealed to them (format v1, see `docs/formats.md`).
//!
//! The log is a DAG of signed operations ([`Op`]): each names the ops its author had seen as its
//! parents, and its id is the SHA-256 of its signed bytes, so an op commits to its whole causal
//! past. [`MembershipLog`] accepts op bytes from anywhere (local writes, peers, the store), keeps
//! ops whose parents are missing in a bounded pending set, and resolves the set of ops into a
//! [`MemberState`].
//!
//! # Resolution rule
//! Resolution is a pure function of the set of ops, whatever order they arrived in. It is
//! defined for any causally closed set of ops (the log, or the causal past of one op):
//!
//! 1. **Validity is judged against the causal past only.** An op is *valid* iff its author was
//!    authorised for its body in the resolved state of the op's strict ancestors (computed by
//!    this same rule), never in a state that includes concurrent ops. An op whose author was
//!    added only concurrently is invalid, even if both are present in the end. Invalid ops stay
//!    in the log (they are part of the DAG that peers sync and later ops may name them as
//!    parents) with an [`Verdict::Invalid`] and a reason, and have no effect. Rule 3 is the one
//!    exception: a concurrent revocation can take effect away.
//! 2. **A state is the join of the contributions of the valid ops it contains.** Each valid op
//!    contributes a fixed, small piece (an organisation record, a device record, a role write, an
//!    epoch-key record, a tombstone, a receipt); states are joined by set union, with these
//!    deterministic tie-breaks for concurrent ops that were each valid in their own causal past:
//!    - the same organisation or device key added twice concurrently: the record of the op with
//!      the lowest op id wins (one device key belongs to one organisation);
//!    - concurrent role writes (`Create`, `AddOrg`, `SetRole`) for one organisation: each role
//!      write supersedes the role writes in its causal past; of the writes no other write
//!      supersedes, the **lowest role** wins (`Member` below `Admin`): a demotion is never lost
//!      to a concurrent promotion;
//!    - the current epoch is the highest epoch with a valid rotation; two rotations to the same
//!      epoch number are both kept (their recipients can open both keys) and the one whose op
//!      id is lowest is current;
//!    - a revocation is a **tombstone**: the organisation (with every device it has or is given,
//!      concurrently or later) or the device key it names is not a member in any state holding
//!      it, whatever is added concurrently. Records stay, so a revoked organisation id or key is
//!      never added again (`AddOrg`/`AddDevice` naming it are invalid, [`InvalidReason::Revoked`]);
//!      coming back takes a new key, and for an organisation a new id (`org_id_for` its new
//!      founding key);
//!    - receipts: per revocation and device, the highest epoch reported.
//!
//!    Because the join is a union with order-free tie-breaks, it is commutative, associative and
//!    idempotent: the state of a set of ops with given verdicts does not depend on the order
//!    they are folded in.
//! 3. **Revocation, concurrently.** Over a set S, in causal order:
//!    - A `Revoke` is *effective* iff it is valid by rule 1, in the resolved state of its own
//!      causal past. Nothing outside its causal past changes that, not even a concurrent
//!      revocation of its author: two admins revoking each other concurrently are **both**
//!      revoked, and a revocation whose author was added by an op that rule 3 later nullifies
//!      stays effective.
//!    - Every other op q whose author is a member device in the resolved state of q's causal
//!      past is **nullified** (invalid, [`InvalidReason::RevokedConcurrently`]) if an effective
//!      revocation of S covers that author (names the key, or the organisation it is a device
//!      of there) and q is not among that revocation's ancestors. So an op of a revoked key
//!      survives only if it is in the causal past of **every** effective revocation of it (of
//!      each earliest one): what every revoker had seen. "An admin revoked concurrently with its
//!      own operations loses those operations."
//!    - Every other op is judged by rule 1 against the state of its causal past in which the
//!      nullified ops contribute nothing: the descendants of a nullified op are judged again
//!      (a device a nullified op added is no member, so its ops are invalid; a role change of an
//!      organisation a nullified op added names an unknown organisation).
//!    - A nullified `EpochKey` op above the current epoch of its causal state contributes one
//!      thing: its key is **burned**. Nodes that had not heard of the revocation may have
//!      sealed envelopes under it, so it is never current and never shared, no rotation may
//!      use its epoch number again ([`InvalidReason::BurnedEpoch`]), and its recipients can
//!      still open it to read those envelopes ([`MembershipLog::epoch_keys`],
//!      [`MemberState::burned_keys`]). Burning takes an epoch number only, never the ability to
//!      rotate: [`MemberState::next_epoch`] is the lowest free one above the current epoch.
//!
//!    Why every revocation and not any: nullification is then monotone (an op once nullified
//!    stays so as ops arrive, because effective revocations are fixed by their own past), and a
//!    revoked key that signs ops on old parents gets none of them through unless every revoker
//!    had accepted them. The final state is the join over every op valid by these rules.
//! 4. Nothing reads a clock: ops carry a claimed time for people only.
//!
//! What revocation by these rules cannot prevent (inherent to judging by the causal past
//! without a clock): a revoked admin key can still sign a `Revoke` on parents from before its
//! revocation, and it is effective, just as an honest concurrent revocation is. It shows in the
//! audit log (author, claimed time, parents); the defence is to revoke keys before they are
//! abused and to keep few admins.
//!
//! # Cuts and receipts
//! A `Revoke` names, per device it removes, the highest envelope sequence number of that
//! device its author's node had accepted. Several effective revocations covering one device
//! (concurrent ones; a later one cannot name an already revoked target) keep the **highest**
//! cut: what any revoker had accepted is kept, so no honest change that a revoker already
//! accepted is lost. A revoked device that no covering revocation names (added concurrently with
//! its organisation's revocation) has cut 0. [`MemberState::write_limit`] gives the replica the
//! limit for an envelope's author and partition; [`MemberState::device_cut`] the revocations
//! behind it. A `Receipt` has no membership effect: [`MemberState::receipts`] lists, per
//! revocation, each device's latest (highest) reported epoch.
//!
//! # Authorisation, in the op's causal state
//! - `Create`: the network's genesis. Only the root op the log was built with is a `Create`; a
//!   different root is refused at insert ([`MembershipError::NotGenesis`]).
//! - Every other op: the author is a member device (not revoked, nor its organisation).
//! - `AddOrg`: the author is a device of an admin organisation; the organisation and its device
//!   key are neither present nor revoked; the network has fewer than [`MAX_SEALED`] member
//!   devices.
//! - `AddDevice`: the author is a device of that organisation or of an admin organisation; the
//!   organisation exists and is not revoked; the device key is neither present nor revoked;
//!   the organisation has fewer than [`MAX_DEVICES_PER_ORG`] member devices and the network
//!   fewer than [`MAX_SEALED`] (both adds; concurrent adds can exceed these, each being valid on
//!   its own).
//! - `SetRole`: the author is a device of an admin organisation; the organisation exists and is
//!   not revoked.
//! - `EpochKey`, by a device of an admin organisation, is either a **rotation** (epoch above the
//!   current one, or the first, and not a burned key's): it must be sealed to exactly the member
//!   devices of the causal state, each once, so no member is left behind and no outsider (nor revoked device) is
//!   included; or a **share** of a key the causal state already has (same epoch and key
//!   commitment as a valid rotation): sealed to member devices only, for devices added after
//!   the rotation or concurrently with it. [`MemberState::devices_without_current_key`] says who
//!   still needs a share. A rotation concurrent with a revocation may reach the revoked device;
//!   it stays valid, the device gets no later key (shares and rotations to it are invalid), and
//!   [`MemberState::needs_rotation`] tells admins to rotate again.
//! - `Revoke` of an organisation: the author is a device of an admin organisation; the
//!   organisation exists ([`InvalidReason::UnknownOrg`]) and is not revoked yet
//!   ([`InvalidReason::Revoked`]); the cuts name exactly its member devices
//!   ([`InvalidReason::CutsMismatch`]; devices revoked before are not named again).
//! - `Revoke` of a device: the device key has a record ([`InvalidReason::UnknownDevice`]) and is
//!   not revoked yet, by itself or with its organisation ([`InvalidReason::Revoked`]); the
//!   author is a device of an admin organisation or of the same organisation, itself included
//!   ([`InvalidReason::NotOrgOrAdmin`]). The parser checks that the cuts name exactly it.
//!   Revoking an already revoked target is invalid (so no later op can raise a cut); concurrent
//!   revocations of one target are all effective.
//! - `Receipt`: the revocation it names is an effective revocation in its causal past
//!   ([`InvalidReason::UnknownRevocation`]). The epoch is what the author reports and is not
//!   checked (a check against rotations would let a later nullified rotation cost a device its
//!   receipt).
//!
//! Nothing stops the last admin from being revoked or demoted; [`MemberState::admins`],
//! [`MemberState::admin_devices`] and [`MemberState::would_leave_without_admin`] let the CLI
//! warn first.
//!
//! # Complexity
//! Each accepted op needs the state of its causal past. The log keeps the final state and the
//! states of the last [`STATE_CACHE_LEN`] accepted ops; a state's parts (organisations, devices,
//! each organisation's role register, keys, revocations) sit behind `Arc`s and are shared until
//! changed. With s the size of the part an op changes (organisations, devices, one
//! organisation's role history, or the epoch keys):
//! - parents = the heads (a local write, or a peer that was in sync): judged against the final
//!   state, O(s) to apply;
//! - otherwise a walk down the op's causal past that stops at cached states and joins them;
//!   joins skip shared parts, so a merge of recent branches costs O(s) per differing part, and
//!   an op naming parents far outside the cache costs O(n) for the walk;
//! - an op other than a `Revoke` never changes other ops' verdicts: it is nullified at once if
//!   an effective revocation already accepted covers its author (it cannot be that
//!   revocation's ancestor);
//! - a `Revoke` not on the heads walks its causal past (O(n)); if an effective revocation lies
//!   outside that past, the past is resolved afresh (O(n·s)); if it is effective and covers an
//!   op outside its past that is not nullified yet, every verdict is recomputed once (O(n·s),
//!   plus a walk per covering revocation) and the cached states are dropped. Revocations are
//!   rare, so this is paid rarely.
//!
//! Inserting n ops is O(n·s) in the usual cases and O(n²) at worst (many ops naming parents far
//! back). [`MembershipLog::ops_missing_from`] walks newest-first and stops once everything left
//! is known to the peer, so it costs about what diverged; [`MembershipLog::summary`] is
//! O(log n). Measured in a debug build: 2 000 ops written by three replicas that sync every ten
//! ops, each replica judging every op, plus a fourth log inserting them out of order, then a
//! revocation that nullifies 666 of them in both logs, in about 3 s
//! (`thousands_of_ops_resolve_incrementally`).
//!
//! Sans-I/O: this module never touches the disk, the network or the clock. Building an
//! `EpochKey` op draws ephemeral keys and nonces from the operating system, as sealing an
//! envelope does; resolution uses no randomness.

mod crypto;
mod log;
mod op;
mod state;

use std::fmt;

use data_encoding::BASE32_DNSSEC;

use crate::keys::NetworkId;

pub use crypto::{EPOCH_KEY_BOX_LEN, epoch_key_commitment, open_epoch_key};
pub use log::{Inserted, MembershipLog};
pub use op::{
    Body, Cut, DeviceKeys, MAX_RELAY_ADDRESS_LEN, MAX_RELAY_ADDRESSES, Op, RevokeTarget, SealedKey,
    VerifiedOp,
};
pub use state::{
    Device, DeviceCut, EpochInfo, ErasureInfo, InvalidReason, MemberState, Org, RelayEntry,
    RevocationInfo, Role, Verdict, WriteLimit,
};

/// Version byte of membership op format v1.
pub const OP_FORMAT_VERSION: u8 = 1;

/// Record type byte of a membership op (envelopes are 1, snapshots 2), so that no membership op
/// can be mistaken for another record.
pub const RECORD_MEMBERSHIP_OP: u8 = 3;

/// Largest encoded op: an `EpochKey` op sealed to [`MAX_SEALED`] devices with
/// [`MAX_PARENTS`] parents is about 144 KiB; nothing else comes close.
pub const MAX_OP_LEN: usize = 160 * 1024;

/// Most parents one op may name. Parents are the heads its author had seen, i.e. concurrent
/// branches: a handful in practice. An author with more heads names the first 256 and merges
/// the rest in a following op.
pub const MAX_PARENTS: usize = 256;

/// Most recipients of one `EpochKey` op, hence most member devices a network can have and still
/// rotate its key (an add beyond it is invalid): far more than a network of a hundred
/// organisations with a few devices each.
pub const MAX_SEALED: usize = 1024;

/// Most devices one organisation may have in an op's causal state: a few laptops and phones per
/// organisation, with room to spare. (Concurrent additions can exceed it; revocation trims.)
pub const MAX_DEVICES_PER_ORG: usize = 32;

/// Longest organisation name in bytes of UTF-8: names are shown to people, one line each.
pub const MAX_NAME_LEN: usize = 100;

/// Longest revocation reason in bytes of UTF-8: a sentence or two shown in the audit log and
/// the receipts view, short enough to fit in a one-byte length.
pub const MAX_REASON_LEN: usize = 200;

/// Most cuts one `Revoke` op lists: one per device it revokes, so at most the member devices a
/// network can have ([`MAX_SEALED`]); 40 bytes each, about 40 KiB at most.
pub const MAX_CUTS: usize = MAX_SEALED;

/// Most ops waiting for a missing parent: a sync batch sends ops in causal order, so a few are
/// out of order at most; 1024 also bounds what a peer can make a node hold.
pub const MAX_PENDING_OPS: usize = 1024;

/// Most bytes of ops waiting for a missing parent: eight maximal `EpochKey` ops, or a thousand
/// ordinary ones.
pub const MAX_PENDING_BYTES: usize = 8 * MAX_OP_LEN;

/// Most ops a log accepts: a real network's membership history is thousands of ops; the bound
/// keeps a flooding member from exhausting memory (its ops stay visible in the verdicts).
pub const MAX_OPS: usize = 65_536;

/// Most ids a [`MembershipLog::summary`] lists besides the heads: the 8 newest ops, then ops
/// 16, 32 ... places back (15 more reach 2^23, beyond [`MAX_OPS`]), and the genesis.
pub const SUMMARY_SAMPLES: usize = 24;

/// How many per-op states the log caches to judge new ops: enough for the ops of a sync batch
/// to find their parents' states, small enough that the cache stays a few MiB.
pub const STATE_CACHE_LEN: usize = 64;

/// Identifies an op: SHA-256 of its full signed encoding, printed as 52 characters of base32.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId([u8; 32]);

impl OpId {
    /// Number of raw bytes.
    pub const BYTES: usize = 32;

    /// Wraps raw bytes (for example, heads received from a peer).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_DNSSEC.encode(&self.0))
    }
}

impl fmt::Debug for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ten characters (50 bits) tell ops apart in logs and test output.
        let text = BASE32_DNSSEC.encode(&self.0);
        write!(f, "OpId({}…)", &text[..10])
    }
}

/// Why an op was refused, or could not be built. An error never changes the log.
///
/// An op that is well formed and correctly signed but whose author was not authorised is *not*
/// an error: it is accepted with an [`Verdict::Invalid`] and has no effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MembershipError {
    /// The input ends before the layout says it should.
    #[error("membership op is truncated")]
    Truncated,
    /// The input does not follow the layout.
    #[error("membership op is malformed: {0}")]
    Malformed(&'static str),
    /// A format version this node does not speak.
    #[error("membership op format version {0} is not supported (this node speaks version 1)")]
    UnsupportedVersion(u8),
    /// A body kind this node does not know.
    #[error("membership op kind {0} is not supported by this version")]
    UnsupportedKind(u8),
    /// A length or count is above its bound.
    #[error("membership op is too large: {len}, at most {max} allowed")]
    TooLarge {
        /// The claimed length or count.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// The op belongs to another network.
    #[error("membership op belongs to network {got}, not {expected}")]
    WrongNetwork {
        /// This log's network.
        expected: NetworkId,
        /// The op's network.
        got: NetworkId,
    },
    /// The signature does not verify under the op's author key.
    #[error("membership op signature is not valid")]
    BadSignature,
    /// An op without parents that is not the network's founding op: a second root.
    #[error("membership op {0} has no parents but is not this network's founding op")]
    NotGenesis(OpId),
    /// The op the log was built from is not a founding op.
    #[error("a membership log must start from a network's founding (create) op")]
    NotCreate,
    /// A recipient's agreement key is of low order, so nothing can be sealed to it.
    #[error("recipient {0:?} has an invalid agreement key")]
    BadAgreementKey(crate::identity::PublicKey),
    /// Too many ops are waiting for missing parents; send them in causal order.
    #[error("too many membership ops are waiting for their parents; send them in causal order")]
    PendingFull,
    /// The log holds [`MAX_OPS`] ops and accepts no more.
    #[error("the membership log is full ({MAX_OPS} ops)")]
    LogFull,
}

/// Keys and ops shared by the tests of this module's files.
#[cfg(test)]
pub(crate) mod fixture {
    use puente_crdt::OrgId;

    use super::{DeviceKeys, Inserted, MembershipLog, Op, OpId};
    use crate::identity::{AgreementSecret, PublicKey, SecretKey, org_id_for};
    use crate::keys::NetworkId;

    /// The network of every test.
    pub(crate) const NET: NetworkId = NetworkId::from_bytes([7; 16]);

    /// A device with deterministic keys.
    pub(crate) struct Dev {
        pub(crate) key: SecretKey,
        pub(crate) agreement: AgreementSecret,
    }

    impl Dev {
        pub(crate) fn new(seed: u8) -> Self {
            Self {
                key: SecretKey::from_bytes(&[seed; 32]),
                agreement: AgreementSecret::from_bytes(&[seed.wrapping_add(128); 32]),
            }
        }

        pub(crate) fn public(&self) -> PublicKey {
            self.key.public()
        }

        pub(crate) fn keys(&self) -> DeviceKeys {
            DeviceKeys {
                device: self.public(),
                agreement: self.agreement.public(),
            }
        }

        /// The organisation this device would found.
        pub(crate) fn org(&self) -> OrgId {
            org_id_for(&self.public())
        }
    }

    /// The founding op of [`NET`] by `founder`.
    pub(crate) fn genesis(founder: &Dev) -> Op {
        Op::create(NET, &founder.key, founder.agreement.public(), "Founders", 1)
            .expect("a valid create op")
    }

    /// Inserts an op that must be accepted at once, returning its id.
    pub(crate) fn accept(op: &Op, log: &mut MembershipLog) -> OpId {
        let inserted = log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(
            inserted,
            Inserted {
                accepted: vec![op.id()],
                ..Inserted::default()
            }
        );
        op.id()
    }
}
