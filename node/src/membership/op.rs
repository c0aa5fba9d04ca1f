//! Membership ops: the byte layout (format v1), parsing that checks every bound before
//! allocating, the signature, and builders for each body.
//!
//! An [`Op`] value always holds bytes that parsed and passed the structural checks (a `Create`
//! has no parents and every other op has some, organisation ids match their founding keys,
//! names are printable, agreement keys are not of low order, lists are sorted, relay addresses
//! are well formed); holding one does not mean its signature was checked
//! ([`Op::verify_signature`]) or that its author was authorised (that is the log's verdict).

use std::fmt;

use puente_crdt::OrgId;
use sha2::{Digest as _, Sha256};

use super::crypto::{EPOCH_KEY_BOX_LEN, epoch_key_commitment, seal_epoch_key};
use super::state::Role;
use super::{
    MAX_CUTS, MAX_NAME_LEN, MAX_OP_LEN, MAX_PARENTS, MAX_REASON_LEN, MAX_SEALED, MembershipError,
    OP_FORMAT_VERSION, OpId, RECORD_MEMBERSHIP_OP,
};
use crate::crypto::labels::MEMBERSHIP_SIG_DOMAIN;
use crate::identity::{
    AgreementPublic, AgreementSecret, PublicKey, SecretKey, Signature, org_id_for,
};
use crate::keys::{Epoch, EpochKey, NetworkId};

/// Length of the Ed25519 signature trailer.
const SIGNATURE_LEN: usize = 64;

/// Body kind bytes.
const KIND_CREATE: u8 = 1;
const KIND_ADD_ORG: u8 = 2;
const KIND_ADD_DEVICE: u8 = 3;
const KIND_SET_ROLE: u8 = 4;
const KIND_EPOCH_KEY: u8 = 5;
const KIND_REVOKE: u8 = 6;
const KIND_RECEIPT: u8 = 7;
const KIND_RELAY: u8 = 8;
const KIND_ERASE: u8 = 9;

/// Relay state bytes.
const RELAY_RETIRED: u8 = 0;
const RELAY_ACTIVE: u8 = 1;

/// Most addresses one `Relay` op gives a relay: a relay listens on a handful (IPv4 and IPv6,
/// TCP and QUIC, perhaps a DNS name), so eight leave room to spare while keeping the op small
/// (about 2 KiB at most).
pub const MAX_RELAY_ADDRESSES: usize = 8;

/// Longest relay address in bytes: a multiaddress with a long DNS name (253 bytes at most) and
/// a port fits, without its `/p2p/` suffix.
pub const MAX_RELAY_ADDRESS_LEN: usize = 256;

/// Bytes before a relay address's text: its u16 length.
const RELAY_ADDRESS_PREFIX_LEN: usize = 2;

/// Revocation target bytes.
const TARGET_ORG: u8 = 1;
const TARGET_DEVICE: u8 = 2;

/// Bytes of one cut: device key and sequence number.
const CUT_LEN: usize = PublicKey::BYTES + 8;

/// Role bytes.
const ROLE_MEMBER: u8 = 1;
const ROLE_ADMIN: u8 = 2;

/// Bytes of one sealed entry: recipient device key and box.
const SEALED_ENTRY_LEN: usize = PublicKey::BYTES + EPOCH_KEY_BOX_LEN;

/// Any fixed X25519 scalar: a public key is of low order iff its product with a clamped scalar
/// is the identity, whichever scalar it is.
const LOW_ORDER_PROBE: [u8; 32] = [0x5a; 32];

/// A device's two public keys: Ed25519 to sign, X25519 to receive sealed epoch keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceKeys {
    /// The device's signing key.
    pub device: PublicKey,
    /// The device's key-agreement key.
    pub agreement: AgreementPublic,
}

/// An epoch key sealed to one device (see [`super::open_epoch_key`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey {
    /// The recipient device's signing key.
    pub recipient: PublicKey,
    /// `ephemeral X25519 public key ‖ nonce ‖ ciphertext ‖ tag`.
    pub sealed: [u8; EPOCH_KEY_BOX_LEN],
}

impl fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedKey")
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

/// What a revocation removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RevokeTarget {
    /// An organisation, with every device it has or is ever given.
    Org(OrgId),
    /// One device key; its organisation and other devices stay.
    Device(PublicKey),
}

/// Where a revoked device's envelopes stop, as the revoker knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cut {
    /// The revoked device.
    pub device: PublicKey,
    /// The highest envelope sequence number of that device the revoker had accepted (0: none).
    pub seq: u64,
}

/// What an op does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// Founds the network: the founding organisation, admin, with its first device (the author).
    Create {
        /// `org_id_for(device)`.
        org: OrgId,
        /// Name shown to people.
        name: String,
        /// The founding device: the op's author.
        device: PublicKey,
        /// The founding device's agreement key.
        agreement: AgreementPublic,
    },
    /// Adds an organisation with its first device (by an admin).
    AddOrg {
        /// `org_id_for(device)`.
        org: OrgId,
        /// Name shown to people.
        name: String,
        /// Its role.
        role: Role,
        /// Its first device.
        device: PublicKey,
        /// That device's agreement key.
        agreement: AgreementPublic,
    },
    /// Adds a device to an organisation (by a device of that organisation, or an admin).
    AddDevice {
        /// The organisation.
        org: OrgId,
        /// The new device.
        device: PublicKey,
        /// Its agreement key.
        agreement: AgreementPublic,
    },
    /// Changes an organisation's role (by an admin).
    SetRole {
        /// The organisation.
        org: OrgId,
        /// Its new role.
        role: Role,
    },
    /// An epoch key sealed to devices: a rotation or a share (by an admin).
    EpochKey {
        /// The epoch.
        epoch: Epoch,
        /// [`epoch_key_commitment`] of the key: recipients check what they open against it, so
        /// every recipient of one op gets the same key.
        commitment: [u8; 32],
        /// One box per recipient, sorted by recipient key, each recipient once.
        sealed: Vec<SealedKey>,
    },
    /// Revokes an organisation or one device (by an admin; a device also by its own
    /// organisation): a tombstone that no later op can undo.
    Revoke {
        /// What is revoked.
        target: RevokeTarget,
        /// One cut per device this op revokes, sorted by device key, each device once: for a
        /// device, exactly that device; for an organisation, exactly its member devices in the
        /// op's causal state (checked by the log).
        cuts: Vec<Cut>,
        /// Why, for people: at most [`MAX_REASON_LEN`] bytes, possibly empty, no control or
        /// invisible characters, no surrounding spaces.
        reason: String,
    },
    /// A member device acknowledges that it applied a revocation, and the epoch it is on now.
    Receipt {
        /// The `Revoke` op acknowledged.
        revocation: OpId,
        /// The epoch the author's node uses after applying it (as the author claims).
        epoch: Epoch,
    },
    /// Adds, changes or retires a relay the network's nodes use (by an admin).
    Relay {
        /// The relay's Ed25519 transport key.
        relay: PublicKey,
        /// Multiaddress texts without the `/p2p/` suffix, sorted (bytewise), each once:
        /// 1 to [`MAX_RELAY_ADDRESSES`] when `active`, at most that many when retiring; each
        /// 1 to [`MAX_RELAY_ADDRESS_LEN`] bytes of printable ASCII without spaces, starting
        /// with `/`. Only this structure is checked here (the module does not know libp2p);
        /// whether an address parses as a multiaddress is the caller's check.
        addresses: Vec<String>,
        /// Whether the network uses the relay (false: it is retired).
        active: bool,
    },
    /// Erases the history sealed under every epoch below `before` (by an admin): every node
    /// that applies it destroys those epoch keys, re-bases every partition on a document holding
    /// only the current state, and moves to a new device key of its organisation (its old key
    /// could open the boxes and bundles sealed to it). `before` is at most the current epoch of
    /// the op's causal past, so the key that stays current is one the erasing admin made.
    Erase {
        /// The first epoch kept.
        before: Epoch,
    },
}

impl Body {
    /// A short name of the body kind, for logs and the audit view.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Body::Create { .. } => "create",
            Body::AddOrg { .. } => "add-org",
            Body::AddDevice { .. } => "add-device",
            Body::SetRole { .. } => "set-role",
            Body::EpochKey { .. } => "epoch-key",
            Body::Revoke { .. } => "revoke",
            Body::Receipt { .. } => "receipt",
            Body::Relay { .. } => "relay",
            Body::Erase { .. } => "erase",
        }
    }
}

/// A signed membership operation (format v1, see `docs/formats.md`).
#[derive(Clone, PartialEq, Eq)]
pub struct Op {
    bytes: Vec<u8>,
    id: OpId,
    network: NetworkId,
    author: PublicKey,
    claimed_time: u64,
    parents: Vec<OpId>,
    body: Body,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Op")
            .field("id", &self.id)
            .field("kind", &self.body.kind_name())
            .field("author", &self.author)
            .field("parents", &self.parents.len())
            .finish_non_exhaustive()
    }
}

impl Op {
    /// Signs a new op by `author` with `parents` (sorted and deduplicated here) and `body`.
    /// `claimed_time` (seconds since the Unix epoch) is shown to people and never used for a
    /// decision. Checks the same structure [`Op::from_bytes`] does.
    pub fn new(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        body: Body,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        let mut parents = parents.to_vec();
        parents.sort_unstable();
        parents.dedup();
        if parents.len() > MAX_PARENTS {
            return Err(MembershipError::TooLarge {
                len: parents.len() as u64,
                max: MAX_PARENTS as u64,
            });
        }
        let mut bytes = Vec::new();
        bytes.push(OP_FORMAT_VERSION);
        bytes.push(RECORD_MEMBERSHIP_OP);
        bytes.extend_from_slice(network.as_bytes());
        bytes.extend_from_slice(author.public().as_bytes());
        bytes.extend_from_slice(&claimed_time.to_be_bytes());
        // At most MAX_PARENTS (256), so it fits in a u16.
        bytes.extend_from_slice(&(parents.len() as u16).to_be_bytes());
        for parent in &parents {
            bytes.extend_from_slice(parent.as_bytes());
        }
        encode_body(&body, &mut bytes)?;
        let len = bytes.len() + SIGNATURE_LEN;
        if len > MAX_OP_LEN {
            return Err(MembershipError::TooLarge {
                len: len as u64,
                max: MAX_OP_LEN as u64,
            });
        }
        let sig = author.sign(&[MEMBERSHIP_SIG_DOMAIN, bytes.as_slice()].concat());
        bytes.extend_from_slice(sig.as_bytes());
        // Parsing what was just written applies every structural check in one place.
        Op::from_bytes(&bytes)
    }

    /// The founding op of a new network: `founder`'s organisation, admin, named `name`.
    pub fn create(
        network: NetworkId,
        founder: &SecretKey,
        agreement: AgreementPublic,
        name: &str,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        let device = founder.public();
        let body = Body::Create {
            org: org_id_for(&device),
            name: name.to_owned(),
            device,
            agreement,
        };
        Op::new(network, founder, &[], body, claimed_time)
    }

    /// Adds the organisation founded by `new.device` (its id is `org_id_for(new.device)`).
    pub fn add_org(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        name: &str,
        role: Role,
        new: DeviceKeys,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        let body = Body::AddOrg {
            org: org_id_for(&new.device),
            name: name.to_owned(),
            role,
            device: new.device,
            agreement: new.agreement,
        };
        Op::new(network, author, parents, body, claimed_time)
    }

    /// Adds device `new` to organisation `org`.
    pub fn add_device(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        org: OrgId,
        new: DeviceKeys,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        let body = Body::AddDevice {
            org,
            device: new.device,
            agreement: new.agreement,
        };
        Op::new(network, author, parents, body, claimed_time)
    }

    /// Sets organisation `org`'s role.
    pub fn set_role(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        org: OrgId,
        role: Role,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        Op::new(
            network,
            author,
            parents,
            Body::SetRole { org, role },
            claimed_time,
        )
    }

    /// Seals `key` to each of `recipients` (a fresh ephemeral X25519 key and nonce each, from
    /// the operating system). For a rotation, `recipients` must be every member device of the
    /// author's current state ([`super::MemberState::devices`]); for a share, any of them.
    pub fn epoch_key(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        key: &EpochKey,
        recipients: &[DeviceKeys],
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        if recipients.len() > MAX_SEALED {
            return Err(MembershipError::TooLarge {
                len: recipients.len() as u64,
                max: MAX_SEALED as u64,
            });
        }
        let mut sealed = recipients
            .iter()
            .map(|r| {
                Ok(SealedKey {
                    recipient: r.device,
                    sealed: seal_epoch_key(network, key, &r.device, &r.agreement)?,
                })
            })
            .collect::<Result<Vec<_>, MembershipError>>()?;
        sealed.sort_unstable_by_key(|s| s.recipient);
        let body = Body::EpochKey {
            epoch: key.epoch(),
            commitment: epoch_key_commitment(network, key),
            sealed,
        };
        Op::new(network, author, parents, body, claimed_time)
    }

    /// Revokes `target` (an organisation with all its devices, or one device). `cuts` (sorted
    /// here) names, for each device this revokes, the highest sequence number of its envelopes
    /// the author's node has accepted: for a device, exactly that device; for an organisation,
    /// exactly its member devices in the author's current state. `reason` is shown to people.
    pub fn revoke(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        target: RevokeTarget,
        cuts: &[Cut],
        reason: &str,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        if cuts.len() > MAX_CUTS {
            return Err(MembershipError::TooLarge {
                len: cuts.len() as u64,
                max: MAX_CUTS as u64,
            });
        }
        let mut cuts = cuts.to_vec();
        cuts.sort_unstable_by_key(|cut| cut.device);
        let body = Body::Revoke {
            target,
            cuts,
            reason: reason.to_owned(),
        };
        Op::new(network, author, parents, body, claimed_time)
    }

    /// Acknowledges that the author's node applied revocation `revocation` and is on `epoch`.
    pub fn receipt(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        revocation: OpId,
        epoch: Epoch,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        let body = Body::Receipt { revocation, epoch };
        Op::new(network, author, parents, body, claimed_time)
    }

    /// Erases the history sealed under every epoch below `before` (see [`Body::Erase`]).
    pub fn erase(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        before: Epoch,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        Op::new(
            network,
            author,
            parents,
            Body::Erase { before },
            claimed_time,
        )
    }

    /// Adds relay `relay` with `addresses` (sorted here), changes its addresses, or retires it
    /// (`active` false; `addresses` may then be empty). Checks the addresses' structure only:
    /// validating them as multiaddresses is the caller's job.
    pub fn relay(
        network: NetworkId,
        author: &SecretKey,
        parents: &[OpId],
        relay: PublicKey,
        mut addresses: Vec<String>,
        active: bool,
        claimed_time: u64,
    ) -> Result<Op, MembershipError> {
        addresses.sort_unstable();
        let body = Body::Relay {
            relay,
            addresses,
            active,
        };
        Op::new(network, author, parents, body, claimed_time)
    }

    /// Parses an op. Checks the total length first, then every count against its bound and
    /// against the bytes that remain before allocating, and the structure; refuses trailing
    /// bytes. Does not check the signature. Never panics.
    pub fn from_bytes(input: &[u8]) -> Result<Op, MembershipError> {
        if input.len() > MAX_OP_LEN {
            return Err(MembershipError::TooLarge {
                len: input.len() as u64,
                max: MAX_OP_LEN as u64,
            });
        }
        let mut r = Reader::new(input);
        let version = r.u8()?;
        if version != OP_FORMAT_VERSION {
            return Err(MembershipError::UnsupportedVersion(version));
        }
        if r.u8()? != RECORD_MEMBERSHIP_OP {
            return Err(MembershipError::Malformed("not a membership op"));
        }
        let network = NetworkId::from_bytes(r.array()?);
        let author = PublicKey::from_bytes(r.array()?);
        let claimed_time = r.u64()?;
        let count = usize::from(r.u16()?);
        if count > MAX_PARENTS {
            return Err(MembershipError::TooLarge {
                len: count as u64,
                max: MAX_PARENTS as u64,
            });
        }
        if count * OpId::BYTES > r.remaining() {
            return Err(MembershipError::Truncated);
        }
        let mut parents = Vec::with_capacity(count);
        for _ in 0..count {
            parents.push(OpId::from_bytes(r.array()?));
        }
        if !parents.windows(2).all(|w| w[0] < w[1]) {
            return Err(MembershipError::Malformed(
                "parents are not sorted and distinct",
            ));
        }
        let body = decode_body(&mut r)?;
        match r.remaining() {
            n if n < SIGNATURE_LEN => return Err(MembershipError::Truncated),
            n if n > SIGNATURE_LEN => {
                return Err(MembershipError::Malformed(
                    "trailing bytes after the signature",
                ));
            }
            _ => {}
        }
        check_structure(&author, &parents, &body)?;
        Ok(Op {
            bytes: input.to_vec(),
            id: OpId::from_bytes(Sha256::digest(input).into()),
            network,
            author,
            claimed_time,
            parents,
            body,
        })
    }

    /// Checks the author's signature over `"puente/membership/v1" ‖ every byte before it`.
    pub fn verify_signature(&self) -> Result<(), MembershipError> {
        // The parser guarantees the trailer is present.
        let split = self.bytes.len() - SIGNATURE_LEN;
        let (signed, sig) = self.bytes.split_at(split);
        let mut sig_bytes = [0; SIGNATURE_LEN];
        sig_bytes.copy_from_slice(sig);
        self.author
            .verify(
                &[MEMBERSHIP_SIG_DOMAIN, signed].concat(),
                &Signature::from_bytes(sig_bytes),
            )
            .map_err(|_| MembershipError::BadSignature)
    }

    /// Checks the signature and returns the op as a [`VerifiedOp`].
    pub fn verify(self) -> Result<VerifiedOp, MembershipError> {
        self.verify_signature()?;
        Ok(VerifiedOp(self))
    }

    /// The op id: SHA-256 of the full encoding, signature included.
    pub fn id(&self) -> OpId {
        self.id
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A copy of the encoded bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The network this op belongs to.
    pub fn network(&self) -> NetworkId {
        self.network
    }

    /// The device key that signed the op.
    pub fn author(&self) -> PublicKey {
        self.author
    }

    /// The time the author claims to have made the op (seconds since the Unix epoch). For
    /// people only: nothing decides by it.
    pub fn claimed_time(&self) -> u64 {
        self.claimed_time
    }

    /// The parents, sorted ascending, distinct.
    pub fn parents(&self) -> &[OpId] {
        &self.parents
    }

    /// What the op does.
    pub fn body(&self) -> &Body {
        &self.body
    }
}

/// An op whose signature was checked ([`Op::verify`]): for inserting ops that were verified
/// elsewhere (by another thread, or before they were stored) without paying for it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedOp(Op);

impl VerifiedOp {
    /// The op.
    pub fn op(&self) -> &Op {
        &self.0
    }

    /// The op, without the proof.
    pub fn into_op(self) -> Op {
        self.0
    }

    /// Treats an op as verified without checking: for tests that exercise resolution on
    /// thousands of ops (strict Ed25519 verification is slow in debug builds).
    #[cfg(test)]
    pub(crate) fn assume(op: Op) -> Self {
        Self(op)
    }
}

/// Structural rules that depend on the op alone.
fn check_structure(
    author: &PublicKey,
    parents: &[OpId],
    body: &Body,
) -> Result<(), MembershipError> {
    let is_create = matches!(body, Body::Create { .. });
    if is_create != parents.is_empty() {
        return Err(MembershipError::Malformed(
            "a create op has no parents and every other op has some",
        ));
    }
    match body {
        Body::Create {
            org,
            name,
            device,
            agreement,
        } => {
            if device != author {
                return Err(MembershipError::Malformed(
                    "the founding device must sign the create op",
                ));
            }
            check_founding(org, device)?;
            check_name(name)?;
            check_agreement(agreement)
        }
        Body::AddOrg {
            org,
            name,
            device,
            agreement,
            ..
        } => {
            check_founding(org, device)?;
            check_name(name)?;
            check_agreement(agreement)
        }
        Body::AddDevice { agreement, .. } => check_agreement(agreement),
        Body::SetRole { .. } => Ok(()),
        Body::EpochKey { sealed, .. } => {
            if sealed.is_empty() {
                return Err(MembershipError::Malformed(
                    "an epoch key op has at least one recipient",
                ));
            }
            if sealed.len() > MAX_SEALED {
                return Err(MembershipError::TooLarge {
                    len: sealed.len() as u64,
                    max: MAX_SEALED as u64,
                });
            }
            if !sealed.windows(2).all(|w| w[0].recipient < w[1].recipient) {
                return Err(MembershipError::Malformed(
                    "recipients are not sorted and distinct",
                ));
            }
            Ok(())
        }
        Body::Revoke {
            target,
            cuts,
            reason,
        } => {
            if cuts.len() > MAX_CUTS {
                return Err(MembershipError::TooLarge {
                    len: cuts.len() as u64,
                    max: MAX_CUTS as u64,
                });
            }
            if !cuts.windows(2).all(|w| w[0].device < w[1].device) {
                return Err(MembershipError::Malformed(
                    "cut devices are not sorted and distinct",
                ));
            }
            if let RevokeTarget::Device(device) = target
                && !matches!(cuts.as_slice(), [cut] if cut.device == *device)
            {
                return Err(MembershipError::Malformed(
                    "a device revocation has exactly one cut, for that device",
                ));
            }
            check_reason(reason)
        }
        Body::Receipt { .. } | Body::Erase { .. } => Ok(()),
        Body::Relay {
            addresses, active, ..
        } => check_relay_addresses(addresses, *active),
    }
}

/// Relay addresses: 1 to [`MAX_RELAY_ADDRESSES`] for an active relay (0 allowed when retiring
/// it), each 1 to [`MAX_RELAY_ADDRESS_LEN`] bytes of printable ASCII without spaces starting
/// with `/`, strictly ascending (so each once, and one set of addresses has one encoding).
fn check_relay_addresses(addresses: &[String], active: bool) -> Result<(), MembershipError> {
    if addresses.len() > MAX_RELAY_ADDRESSES {
        return Err(MembershipError::TooLarge {
            len: addresses.len() as u64,
            max: MAX_RELAY_ADDRESSES as u64,
        });
    }
    if active && addresses.is_empty() {
        return Err(MembershipError::Malformed(
            "an active relay has at least one address",
        ));
    }
    for address in addresses {
        check_relay_address(address)?;
    }
    if !addresses.windows(2).all(|w| w[0] < w[1]) {
        return Err(MembershipError::Malformed(
            "relay addresses are not sorted and distinct",
        ));
    }
    Ok(())
}

fn check_relay_address(address: &str) -> Result<(), MembershipError> {
    if address.is_empty() || address.len() > MAX_RELAY_ADDRESS_LEN {
        return Err(MembershipError::Malformed(
            "relay address must be 1 to 256 bytes",
        ));
    }
    if !address.starts_with('/') || !address.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(MembershipError::Malformed(
            "relay address must be printable ASCII without spaces, starting with /",
        ));
    }
    Ok(())
}

fn check_founding(org: &OrgId, device: &PublicKey) -> Result<(), MembershipError> {
    if *org != org_id_for(device) {
        return Err(MembershipError::Malformed(
            "organisation id does not belong to its founding device",
        ));
    }
    Ok(())
}

/// Names are shown to people: 1 to 100 bytes of UTF-8 without control characters (no terminal
/// escapes, no line breaks), without invisible or direction-changing characters (a name cannot
/// render as another), and without leading or trailing space.
fn check_name(name: &str) -> Result<(), MembershipError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(MembershipError::Malformed("name must be 1 to 100 bytes"));
    }
    if name.chars().any(|c| c.is_control() || is_invisible(c)) || name.trim() != name {
        return Err(MembershipError::Malformed(
            "name has control, invisible or direction characters, or surrounding spaces",
        ));
    }
    Ok(())
}

/// Reasons are shown to people: at most 200 bytes of UTF-8 (empty means none given), with the
/// character rules of names.
fn check_reason(reason: &str) -> Result<(), MembershipError> {
    if reason.len() > MAX_REASON_LEN {
        return Err(MembershipError::Malformed(
            "reason must be at most 200 bytes",
        ));
    }
    if reason.chars().any(|c| c.is_control() || is_invisible(c)) || reason.trim() != reason {
        return Err(MembershipError::Malformed(
            "reason has control, invisible or direction characters, or surrounding spaces",
        ));
    }
    Ok(())
}

/// Zero-width and bidirectional formatting characters, line and paragraph separators, and the
/// byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}')
}

/// Refuses low-order agreement keys: nothing could be sealed to such a device, and a rotation
/// must be sealed to every member device.
fn check_agreement(key: &AgreementPublic) -> Result<(), MembershipError> {
    AgreementSecret::from_bytes(&LOW_ORDER_PROBE)
        .shared_secret(key)
        .map(|_| ())
        .map_err(|_| MembershipError::Malformed("agreement key is of low order"))
}

fn encode_role(role: Role) -> u8 {
    match role {
        Role::Member => ROLE_MEMBER,
        Role::Admin => ROLE_ADMIN,
    }
}

fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<(), MembershipError> {
    check_name(name)?;
    // check_name bounds the length to MAX_NAME_LEN (100), so it fits in a u8.
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn encode_body(body: &Body, out: &mut Vec<u8>) -> Result<(), MembershipError> {
    match body {
        Body::Create {
            org,
            name,
            device,
            agreement,
        } => {
            out.push(KIND_CREATE);
            out.extend_from_slice(org.as_bytes());
            encode_name(name, out)?;
            out.extend_from_slice(device.as_bytes());
            out.extend_from_slice(agreement.as_bytes());
        }
        Body::AddOrg {
            org,
            name,
            role,
            device,
            agreement,
        } => {
            out.push(KIND_ADD_ORG);
            out.extend_from_slice(org.as_bytes());
            encode_name(name, out)?;
            out.push(encode_role(*role));
            out.extend_from_slice(device.as_bytes());
            out.extend_from_slice(agreement.as_bytes());
        }
        Body::AddDevice {
            org,
            device,
            agreement,
        } => {
            out.push(KIND_ADD_DEVICE);
            out.extend_from_slice(org.as_bytes());
            out.extend_from_slice(device.as_bytes());
            out.extend_from_slice(agreement.as_bytes());
        }
        Body::SetRole { org, role } => {
            out.push(KIND_SET_ROLE);
            out.extend_from_slice(org.as_bytes());
            out.push(encode_role(*role));
        }
        Body::EpochKey {
            epoch,
            commitment,
            sealed,
        } => {
            let count = u16::try_from(sealed.len())
                .ok()
                .filter(|n| usize::from(*n) <= MAX_SEALED)
                .ok_or(MembershipError::TooLarge {
                    len: sealed.len() as u64,
                    max: MAX_SEALED as u64,
                })?;
            out.push(KIND_EPOCH_KEY);
            out.extend_from_slice(&epoch.0.to_be_bytes());
            out.extend_from_slice(commitment);
            out.extend_from_slice(&count.to_be_bytes());
            out.reserve(sealed.len() * SEALED_ENTRY_LEN);
            for entry in sealed {
                out.extend_from_slice(entry.recipient.as_bytes());
                out.extend_from_slice(&entry.sealed);
            }
        }
        Body::Revoke {
            target,
            cuts,
            reason,
        } => {
            let count = u16::try_from(cuts.len())
                .ok()
                .filter(|n| usize::from(*n) <= MAX_CUTS)
                .ok_or(MembershipError::TooLarge {
                    len: cuts.len() as u64,
                    max: MAX_CUTS as u64,
                })?;
            check_reason(reason)?;
            out.push(KIND_REVOKE);
            match target {
                RevokeTarget::Org(org) => {
                    out.push(TARGET_ORG);
                    out.extend_from_slice(org.as_bytes());
                }
                RevokeTarget::Device(device) => {
                    out.push(TARGET_DEVICE);
                    out.extend_from_slice(device.as_bytes());
                }
            }
            out.extend_from_slice(&count.to_be_bytes());
            out.reserve(cuts.len() * CUT_LEN);
            for cut in cuts {
                out.extend_from_slice(cut.device.as_bytes());
                out.extend_from_slice(&cut.seq.to_be_bytes());
            }
            // check_reason bounds the length to MAX_REASON_LEN (200), so it fits in a u8.
            out.push(reason.len() as u8);
            out.extend_from_slice(reason.as_bytes());
        }
        Body::Receipt { revocation, epoch } => {
            out.push(KIND_RECEIPT);
            out.extend_from_slice(revocation.as_bytes());
            out.extend_from_slice(&epoch.0.to_be_bytes());
        }
        Body::Erase { before } => {
            out.push(KIND_ERASE);
            out.extend_from_slice(&before.0.to_be_bytes());
        }
        Body::Relay {
            relay,
            addresses,
            active,
        } => {
            check_relay_addresses(addresses, *active)?;
            out.push(KIND_RELAY);
            out.extend_from_slice(relay.as_bytes());
            out.push(if *active { RELAY_ACTIVE } else { RELAY_RETIRED });
            // check_relay_addresses bounds the count to MAX_RELAY_ADDRESSES (8) and each
            // length to MAX_RELAY_ADDRESS_LEN (256), so they fit in a u8 and a u16.
            out.push(addresses.len() as u8);
            for address in addresses {
                out.extend_from_slice(&(address.len() as u16).to_be_bytes());
                out.extend_from_slice(address.as_bytes());
            }
        }
    }
    Ok(())
}

fn decode_role(r: &mut Reader<'_>) -> Result<Role, MembershipError> {
    match r.u8()? {
        ROLE_MEMBER => Ok(Role::Member),
        ROLE_ADMIN => Ok(Role::Admin),
        _ => Err(MembershipError::Malformed("unknown role")),
    }
}

fn decode_name(r: &mut Reader<'_>) -> Result<String, MembershipError> {
    let len = usize::from(r.u8()?);
    let name = std::str::from_utf8(r.take(len)?)
        .map_err(|_| MembershipError::Malformed("name is not UTF-8"))?;
    check_name(name)?;
    Ok(name.to_owned())
}

fn decode_body(r: &mut Reader<'_>) -> Result<Body, MembershipError> {
    let kind = r.u8()?;
    Ok(match kind {
        KIND_CREATE => Body::Create {
            org: OrgId::from_bytes(r.array()?),
            name: decode_name(r)?,
            device: PublicKey::from_bytes(r.array()?),
            agreement: AgreementPublic::from_bytes(r.array()?),
        },
        KIND_ADD_ORG => Body::AddOrg {
            org: OrgId::from_bytes(r.array()?),
            name: decode_name(r)?,
            role: decode_role(r)?,
            device: PublicKey::from_bytes(r.array()?),
            agreement: AgreementPublic::from_bytes(r.array()?),
        },
        KIND_ADD_DEVICE => Body::AddDevice {
            org: OrgId::from_bytes(r.array()?),
            device: PublicKey::from_bytes(r.array()?),
            agreement: AgreementPublic::from_bytes(r.array()?),
        },
        KIND_SET_ROLE => Body::SetRole {
            org: OrgId::from_bytes(r.array()?),
            role: decode_role(r)?,
        },
        KIND_EPOCH_KEY => {
            let epoch = Epoch(r.u32()?);
            let commitment = r.array()?;
            let count = usize::from(r.u16()?);
            if count > MAX_SEALED {
                return Err(MembershipError::TooLarge {
                    len: count as u64,
                    max: MAX_SEALED as u64,
                });
            }
            if count * SEALED_ENTRY_LEN > r.remaining() {
                return Err(MembershipError::Truncated);
            }
            let mut sealed = Vec::with_capacity(count);
            for _ in 0..count {
                sealed.push(SealedKey {
                    recipient: PublicKey::from_bytes(r.array()?),
                    sealed: r.array()?,
                });
            }
            Body::EpochKey {
                epoch,
                commitment,
                sealed,
            }
        }
        KIND_REVOKE => {
            let target = match r.u8()? {
                TARGET_ORG => RevokeTarget::Org(OrgId::from_bytes(r.array()?)),
                TARGET_DEVICE => RevokeTarget::Device(PublicKey::from_bytes(r.array()?)),
                _ => return Err(MembershipError::Malformed("unknown revocation target")),
            };
            let count = usize::from(r.u16()?);
            if count > MAX_CUTS {
                return Err(MembershipError::TooLarge {
                    len: count as u64,
                    max: MAX_CUTS as u64,
                });
            }
            if count * CUT_LEN > r.remaining() {
                return Err(MembershipError::Truncated);
            }
            let mut cuts = Vec::with_capacity(count);
            for _ in 0..count {
                cuts.push(Cut {
                    device: PublicKey::from_bytes(r.array()?),
                    seq: r.u64()?,
                });
            }
            let len = usize::from(r.u8()?);
            if len > MAX_REASON_LEN {
                return Err(MembershipError::Malformed(
                    "reason must be at most 200 bytes",
                ));
            }
            let reason = std::str::from_utf8(r.take(len)?)
                .map_err(|_| MembershipError::Malformed("reason is not UTF-8"))?
                .to_owned();
            Body::Revoke {
                target,
                cuts,
                reason,
            }
        }
        KIND_RECEIPT => Body::Receipt {
            revocation: OpId::from_bytes(r.array()?),
            epoch: Epoch(r.u32()?),
        },
        KIND_ERASE => Body::Erase {
            before: Epoch(r.u32()?),
        },
        KIND_RELAY => {
            let relay = PublicKey::from_bytes(r.array()?);
            let active = match r.u8()? {
                RELAY_ACTIVE => true,
                RELAY_RETIRED => false,
                _ => return Err(MembershipError::Malformed("unknown relay state")),
            };
            let count = usize::from(r.u8()?);
            if count > MAX_RELAY_ADDRESSES {
                return Err(MembershipError::TooLarge {
                    len: count as u64,
                    max: MAX_RELAY_ADDRESSES as u64,
                });
            }
            // Each address takes its length prefix and at least one byte.
            if count * (RELAY_ADDRESS_PREFIX_LEN + 1) > r.remaining() {
                return Err(MembershipError::Truncated);
            }
            let mut addresses = Vec::with_capacity(count);
            for _ in 0..count {
                let len = usize::from(r.u16()?);
                if len == 0 || len > MAX_RELAY_ADDRESS_LEN {
                    return Err(MembershipError::Malformed(
                        "relay address must be 1 to 256 bytes",
                    ));
                }
                let address = std::str::from_utf8(r.take(len)?).map_err(|_| {
                    MembershipError::Malformed(
                        "relay address must be printable ASCII without spaces, starting with /",
                    )
                })?;
                addresses.push(address.to_owned());
            }
            Body::Relay {
                relay,
                addresses,
                active,
            }
        }
        other => return Err(MembershipError::UnsupportedKind(other)),
    })
}

type Reader<'a> = crate::codec::Reader<'a, MembershipError>;

impl crate::codec::Truncation for MembershipError {
    fn truncated() -> Self {
        MembershipError::Truncated
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::crypto::seal::SymmetricKey;
    use crate::membership::fixture::{Dev, NET, genesis};
    use crate::membership::{MAX_CUTS, MembershipLog, Role};

    /// Every op kind, signed by `a`, on top of the genesis.
    fn one_of_each(a: &Dev, b: &Dev) -> Vec<Op> {
        let g = genesis(a).id();
        let key = EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[1; 32]));
        vec![
            genesis(a),
            Op::add_org(NET, &a.key, &[g], "Casa Azul", Role::Member, b.keys(), 2).expect("op"),
            Op::add_device(NET, &a.key, &[g, g], a.org(), b.keys(), 3).expect("op"),
            Op::set_role(NET, &a.key, &[g], b.org(), Role::Admin, 4).expect("op"),
            Op::epoch_key(NET, &a.key, &[g], &key, &[b.keys(), a.keys()], 5).expect("op"),
            Op::revoke(
                NET,
                &a.key,
                &[g],
                RevokeTarget::Org(b.org()),
                &[cut(b, 7), cut(a, 0)],
                "laptop seized",
                6,
            )
            .expect("op"),
            Op::receipt(NET, &a.key, &[g], g, Epoch(3), 7).expect("op"),
            Op::relay(
                NET,
                &a.key,
                &[g],
                b.public(),
                vec![QUIC.to_owned(), TCP.to_owned()],
                true,
                8,
            )
            .expect("op"),
        ]
    }

    /// A relay's TCP and QUIC addresses, as an admin types them.
    const TCP: &str = "/ip4/203.0.113.5/tcp/4738";
    const QUIC: &str = "/ip4/203.0.113.5/udp/4738/quic-v1";

    fn cut(dev: &Dev, seq: u64) -> Cut {
        Cut {
            device: dev.public(),
            seq,
        }
    }

    #[test]
    fn ops_round_trip_through_bytes() {
        let (a, b) = (Dev::new(1), Dev::new(2));
        for op in one_of_each(&a, &b) {
            let parsed = Op::from_bytes(op.as_bytes()).expect("parses");
            assert_eq!(parsed, op);
            assert_eq!(parsed.verify_signature(), Ok(()));
            assert_eq!(parsed.network(), NET);
            assert_eq!(parsed.author(), a.public());
            assert!(parsed.parents().windows(2).all(|w| w[0] < w[1]));
            assert_eq!(
                parsed.id().as_bytes(),
                &<[u8; 32]>::from(Sha256::digest(op.as_bytes()))
            );
        }
        let ops = one_of_each(&a, &b);
        // Parents are deduplicated; recipients are sorted.
        assert_eq!(ops[2].parents().len(), 1);
        let Body::EpochKey { sealed, .. } = ops[4].body() else {
            panic!("an epoch key op");
        };
        assert!(sealed[0].recipient < sealed[1].recipient);
        assert_eq!(ops[3].claimed_time(), 4);
        // Cuts are sorted too; the bodies read back as built.
        let Body::Revoke {
            target,
            cuts,
            reason,
        } = ops[5].body()
        else {
            panic!("a revoke op");
        };
        assert_eq!(*target, RevokeTarget::Org(b.org()));
        assert!(cuts[0].device < cuts[1].device);
        assert_eq!(
            cuts.iter().find(|c| c.device == b.public()).map(|c| c.seq),
            Some(7)
        );
        assert_eq!(reason, "laptop seized");
        assert_eq!(
            ops[6].body(),
            &Body::Receipt {
                revocation: genesis(&a).id(),
                epoch: Epoch(3)
            }
        );
        assert_eq!(
            ops.iter()
                .map(|op| op.body().kind_name())
                .collect::<Vec<_>>(),
            [
                "create",
                "add-org",
                "add-device",
                "set-role",
                "epoch-key",
                "revoke",
                "receipt",
                "relay"
            ]
        );
        // A device revocation and an empty reason round-trip as well.
        let device = Op::revoke(
            NET,
            &a.key,
            &[genesis(&a).id()],
            RevokeTarget::Device(b.public()),
            &[cut(&b, u64::MAX)],
            "",
            8,
        )
        .expect("op");
        assert_eq!(Op::from_bytes(device.as_bytes()), Ok(device));
    }

    #[test]
    fn every_flipped_byte_is_refused_and_changes_nothing() {
        let (a, b) = (Dev::new(1), Dev::new(2));
        let g = genesis(&a);
        let op = Op::set_role(NET, &a.key, &[g.id()], b.org(), Role::Admin, 9).expect("op");
        let mut log = MembershipLog::new(g.as_bytes()).expect("log");
        for i in 0..op.as_bytes().len() {
            let mut bytes = op.to_bytes();
            bytes[i] ^= 0x10;
            assert!(
                log.insert(&bytes).is_err(),
                "flipping byte {i} went unnoticed"
            );
        }
        assert_eq!(log.len(), 1);
        assert_eq!(log.pending_count(), 0);
        // A valid signature over other bytes: the signature of one op on another op's body.
        let other = Op::set_role(NET, &a.key, &[g.id()], b.org(), Role::Member, 9).expect("op");
        let mut swapped = other.to_bytes();
        let n = swapped.len();
        swapped[n - SIGNATURE_LEN..].copy_from_slice(&op.as_bytes()[n - SIGNATURE_LEN..]);
        assert_eq!(log.insert(&swapped), Err(MembershipError::BadSignature));
        // Someone else's key in the author field.
        let mut relabelled = op.to_bytes();
        relabelled[18..50].copy_from_slice(b.public().as_bytes());
        assert_eq!(log.insert(&relabelled), Err(MembershipError::BadSignature));
    }

    #[test]
    fn truncated_and_extended_ops_are_refused() {
        let (a, b) = (Dev::new(1), Dev::new(2));
        for op in one_of_each(&a, &b) {
            let bytes = op.as_bytes();
            for len in 0..bytes.len() {
                assert!(
                    Op::from_bytes(&bytes[..len]).is_err(),
                    "prefix {len} parsed"
                );
            }
            let mut longer = op.to_bytes();
            longer.push(0);
            assert_eq!(
                Op::from_bytes(&longer),
                Err(MembershipError::Malformed(
                    "trailing bytes after the signature"
                ))
            );
        }
    }

    #[test]
    fn lengths_and_counts_are_bounded_before_allocating() {
        assert_eq!(
            Op::from_bytes(&vec![1; MAX_OP_LEN + 1]),
            Err(MembershipError::TooLarge {
                len: MAX_OP_LEN as u64 + 1,
                max: MAX_OP_LEN as u64
            })
        );
        let (a, b) = (Dev::new(1), Dev::new(2));
        let ops = one_of_each(&a, &b);
        // The parent count sits at bytes 58..60.
        let mut bytes = ops[3].to_bytes();
        bytes[58..60].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            Op::from_bytes(&bytes),
            Err(MembershipError::TooLarge {
                len: u64::from(u16::MAX),
                max: MAX_PARENTS as u64
            })
        );
        bytes[58..60].copy_from_slice(&200u16.to_be_bytes());
        assert_eq!(Op::from_bytes(&bytes), Err(MembershipError::Truncated));
        // The recipient count of an epoch key op with one parent: header 60, parent 32, kind
        // 1, epoch 4, commitment 32.
        let at = 60 + 32 + 1 + 4 + 32;
        let mut bytes = ops[4].to_bytes();
        bytes[at..at + 2].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            Op::from_bytes(&bytes),
            Err(MembershipError::TooLarge {
                len: u64::from(u16::MAX),
                max: MAX_SEALED as u64
            })
        );
        bytes[at..at + 2].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(Op::from_bytes(&bytes), Err(MembershipError::Truncated));
        // Too many parents or recipients cannot be built either.
        let parents: Vec<OpId> = (0..=MAX_PARENTS as u16)
            .map(|i| {
                let mut id = [0; 32];
                id[..2].copy_from_slice(&i.to_be_bytes());
                OpId::from_bytes(id)
            })
            .collect();
        assert!(matches!(
            Op::set_role(NET, &a.key, &parents, b.org(), Role::Admin, 0),
            Err(MembershipError::TooLarge { .. })
        ));
        let too_many = vec![b.keys(); MAX_SEALED + 1];
        let key = EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[1; 32]));
        assert!(matches!(
            Op::epoch_key(NET, &a.key, &parents[..1], &key, &too_many, 0),
            Err(MembershipError::TooLarge { .. })
        ));
    }

    #[test]
    fn structure_is_checked_when_building_and_parsing() {
        let (a, b) = (Dev::new(1), Dev::new(2));
        let g = genesis(&a).id();
        let malformed =
            |r: Result<Op, MembershipError>| matches!(r, Err(MembershipError::Malformed(_)));
        let create = Body::Create {
            org: a.org(),
            name: "A".into(),
            device: a.public(),
            agreement: a.agreement.public(),
        };
        assert!(malformed(Op::new(NET, &a.key, &[g], create.clone(), 0)));
        assert!(malformed(Op::new(NET, &b.key, &[], create, 0)));
        assert!(malformed(Op::new(
            NET,
            &a.key,
            &[],
            Body::SetRole {
                org: a.org(),
                role: Role::Admin
            },
            0
        )));
        // An organisation id that does not belong to its founding key.
        let stolen = Body::AddOrg {
            org: a.org(),
            name: "B".into(),
            role: Role::Admin,
            device: b.public(),
            agreement: b.agreement.public(),
        };
        assert!(malformed(Op::new(NET, &a.key, &[g], stolen, 0)));
        for name in [
            "",
            " padded",
            "line\nbreak",
            "esc\u{1b}[31m",
            "abc\u{202e}fdp.exe",
            "zero\u{200b}width",
            &"x".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(
                malformed(Op::add_org(
                    NET,
                    &a.key,
                    &[g],
                    name,
                    Role::Member,
                    b.keys(),
                    0
                )),
                "{name:?}"
            );
        }
        assert!(
            Op::add_org(
                NET,
                &a.key,
                &[g],
                &"ñ".repeat(MAX_NAME_LEN / 2),
                Role::Member,
                b.keys(),
                0
            )
            .is_ok()
        );
        // A low-order agreement key (all zeros is the identity).
        let weak = DeviceKeys {
            device: b.public(),
            agreement: AgreementPublic::from_bytes([0; 32]),
        };
        assert!(malformed(Op::add_device(
            NET,
            &a.key,
            &[g],
            a.org(),
            weak,
            0
        )));
        let key = EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[1; 32]));
        assert_eq!(
            Op::epoch_key(NET, &a.key, &[g], &key, &[weak], 0).err(),
            Some(MembershipError::BadAgreementKey(b.public()))
        );
        assert!(malformed(Op::epoch_key(NET, &a.key, &[g], &key, &[], 0)));
        assert!(malformed(Op::epoch_key(
            NET,
            &a.key,
            &[g],
            &key,
            &[b.keys(), b.keys()],
            0
        )));

        let ops = one_of_each(&a, &b);
        let mut v2 = ops[1].to_bytes();
        v2[0] = 2;
        assert_eq!(
            Op::from_bytes(&v2),
            Err(MembershipError::UnsupportedVersion(2))
        );
        let mut envelope = ops[1].to_bytes();
        envelope[1] = 1;
        assert!(matches!(
            Op::from_bytes(&envelope),
            Err(MembershipError::Malformed(_))
        ));
        // The kind byte follows the single parent; 10 is unknown.
        let mut unknown = ops[3].to_bytes();
        unknown[92] = 10;
        assert_eq!(
            Op::from_bytes(&unknown),
            Err(MembershipError::UnsupportedKind(10))
        );
        let mut role = ops[3].to_bytes();
        role[92 + 1 + 10] = 3;
        assert_eq!(
            Op::from_bytes(&role),
            Err(MembershipError::Malformed("unknown role"))
        );
        // Unsorted parents.
        let p1 = OpId::from_bytes([1; 32]);
        let p2 = OpId::from_bytes([2; 32]);
        let mut two = Op::set_role(NET, &a.key, &[p1, p2], b.org(), Role::Admin, 0)
            .expect("op")
            .to_bytes();
        two[60..92].copy_from_slice(p2.as_bytes());
        two[92..124].copy_from_slice(p1.as_bytes());
        assert!(matches!(
            Op::from_bytes(&two),
            Err(MembershipError::Malformed(_))
        ));
    }

    #[test]
    fn revoke_and_receipt_structure_is_checked() {
        let (a, b, c) = (Dev::new(1), Dev::new(2), Dev::new(3));
        let g = genesis(&a).id();
        let malformed =
            |r: Result<Op, MembershipError>| matches!(r, Err(MembershipError::Malformed(_)));
        let revoke = |target, cuts: &[Cut], reason: &str| {
            Op::revoke(NET, &a.key, &[g], target, cuts, reason, 0)
        };
        // A device revocation cuts exactly that device.
        let device = RevokeTarget::Device(b.public());
        assert!(malformed(revoke(device, &[], "")));
        assert!(malformed(revoke(device, &[cut(&c, 1)], "")));
        assert!(malformed(revoke(device, &[cut(&b, 1), cut(&c, 1)], "")));
        // Each device once.
        let org = RevokeTarget::Org(b.org());
        assert!(malformed(revoke(org, &[cut(&b, 1), cut(&b, 2)], "")));
        assert!(revoke(org, &[], "").is_ok());
        // Reasons: short, printable, no surrounding spaces.
        for reason in [
            " padded",
            "line\nbreak",
            "esc\u{1b}[31m",
            "abc\u{202e}fdp",
            &"x".repeat(MAX_REASON_LEN + 1),
        ] {
            assert!(malformed(revoke(org, &[], reason)), "{reason:?}");
        }
        assert!(revoke(org, &[], &"ñ".repeat(MAX_REASON_LEN / 2)).is_ok());
        let too_many: Vec<Cut> = (0..=MAX_CUTS as u16)
            .map(|i| {
                let mut key = [0; 32];
                key[..2].copy_from_slice(&i.to_be_bytes());
                Cut {
                    device: PublicKey::from_bytes(key),
                    seq: 0,
                }
            })
            .collect();
        assert!(matches!(
            revoke(org, &too_many, ""),
            Err(MembershipError::TooLarge { .. })
        ));

        // Bytes: header 60, one parent 32, kind at 92, target byte at 93.
        let op = revoke(org, &[cut(&b, 5)], "gone").expect("op");
        let mut bytes = op.to_bytes();
        bytes[93] = 3;
        assert_eq!(
            Op::from_bytes(&bytes),
            Err(MembershipError::Malformed("unknown revocation target"))
        );
        // The cut count follows the 10-byte organisation id.
        let at = 94 + 10;
        let mut bytes = op.to_bytes();
        bytes[at..at + 2].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            Op::from_bytes(&bytes),
            Err(MembershipError::TooLarge {
                len: u64::from(u16::MAX),
                max: MAX_CUTS as u64
            })
        );
        bytes[at..at + 2].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(Op::from_bytes(&bytes), Err(MembershipError::Truncated));
        // The reason length follows the single 40-byte cut.
        let len_at = at + 2 + 40;
        let mut bytes = op.to_bytes();
        bytes[len_at] = 255;
        assert!(Op::from_bytes(&bytes).is_err());
        let mut bytes = op.to_bytes();
        bytes[len_at + 1] = 0xff;
        assert_eq!(
            Op::from_bytes(&bytes),
            Err(MembershipError::Malformed("reason is not UTF-8"))
        );
        // A receipt is a fixed 36 bytes after its kind.
        let receipt = Op::receipt(NET, &b.key, &[g], op.id(), Epoch(2), 0).expect("op");
        assert_eq!(receipt.as_bytes().len(), 93 + 36 + 64);
    }

    #[test]
    fn relay_ops_round_trip_through_bytes() {
        let (a, b) = (Dev::new(1), Dev::new(2));
        let g = genesis(&a).id();
        // Addresses are sorted when building; the body reads back as built.
        let op = &one_of_each(&a, &b)[7];
        assert_eq!(
            op.body(),
            &Body::Relay {
                relay: b.public(),
                addresses: vec![TCP.to_owned(), QUIC.to_owned()],
                active: true,
            }
        );
        assert_eq!(op.body().kind_name(), "relay");
        // Kind 8 follows the single parent: relay key, state byte, count, then each address
        // with its u16 length.
        let bytes = op.as_bytes();
        assert_eq!(bytes[92], 8);
        assert_eq!(&bytes[93..125], b.public().as_bytes());
        assert_eq!(bytes[125..127], [1, 2]);
        assert_eq!(
            bytes.len(),
            93 + 32 + 2 + 2 + TCP.len() + 2 + QUIC.len() + 64
        );
        // A retirement without addresses, and one that keeps them, round-trip too; so does the
        // longest address.
        for (addresses, active) in [
            (vec![], false),
            (vec![TCP.to_owned()], false),
            (
                vec![format!("/{}", "d".repeat(MAX_RELAY_ADDRESS_LEN - 1))],
                true,
            ),
        ] {
            let op =
                Op::relay(NET, &a.key, &[g], b.public(), addresses.clone(), active, 9).expect("op");
            let parsed = Op::from_bytes(op.as_bytes()).expect("parses");
            assert_eq!(parsed.verify_signature(), Ok(()));
            assert_eq!(
                parsed.body(),
                &Body::Relay {
                    relay: b.public(),
                    addresses,
                    active
                }
            );
            assert_eq!(parsed, op);
        }
    }

    #[test]
    fn malformed_relay_bodies_are_refused() {
        let (a, b) = (Dev::new(1), Dev::new(2));
        let g = genesis(&a).id();
        let relay = |addresses: &[&str], active| {
            let addresses = addresses.iter().map(|s| (*s).to_owned()).collect();
            Op::relay(NET, &a.key, &[g], b.public(), addresses, active, 0)
        };
        let malformed =
            |r: Result<Op, MembershipError>| matches!(r, Err(MembershipError::Malformed(_)));
        let nine: Vec<String> = (0..=MAX_RELAY_ADDRESSES)
            .map(|i| format!("/ip4/203.0.113.{i}/tcp/4738"))
            .collect();
        let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
        for active in [true, false] {
            assert_eq!(
                relay(&nine, active).err(),
                Some(MembershipError::TooLarge {
                    len: MAX_RELAY_ADDRESSES as u64 + 1,
                    max: MAX_RELAY_ADDRESSES as u64
                })
            );
            assert!(relay(&nine[..MAX_RELAY_ADDRESSES], active).is_ok());
        }
        // An active relay needs an address; a retired one does not.
        assert!(malformed(relay(&[], true)));
        assert!(relay(&[], false).is_ok());
        let long = format!("/{}", "d".repeat(MAX_RELAY_ADDRESS_LEN));
        for address in [
            "",
            "ip4/203.0.113.5/tcp/4738",
            "/ip4/203.0.113.5/tcp/4738 ",
            "/ip4/203.0.113.5/tcp /4738",
            "/dns4/relé.example/tcp/4738",
            "/dns4/relay.example/tcp/4738\n",
            "/ip4/203.0.113.5/tcp/4738\n",
            "/ip4/203.0.113.5/tcp/4738\u{7f}",
            "/ip4/203.0.113.5/tcp/4738\u{200b}",
            &long,
        ] {
            for active in [true, false] {
                assert!(malformed(relay(&[TCP, address], active)), "{address:?}");
            }
        }
        // Each address once.
        assert!(malformed(relay(&[TCP, QUIC, TCP], true)));
        assert!(malformed(relay(&[TCP, TCP], false)));
        // Nor can the body be built unsorted by hand.
        let unsorted = Body::Relay {
            relay: b.public(),
            addresses: vec![QUIC.to_owned(), TCP.to_owned()],
            active: true,
        };
        assert!(malformed(Op::new(NET, &a.key, &[g], unsorted, 0)));

        // Bytes: header 60, one parent 32, kind at 92, relay key 93..125, state at 125, count
        // at 126, first length at 127..129.
        let op = relay(&["/a", "/b"], true).expect("op");
        let tampered = |at: usize, bytes: &[u8]| {
            let mut out = op.to_bytes();
            out[at..at + bytes.len()].copy_from_slice(bytes);
            Op::from_bytes(&out)
        };
        assert_eq!(
            tampered(125, &[2]),
            Err(MembershipError::Malformed("unknown relay state"))
        );
        // An oversized count is refused before anything is read or allocated; a count within
        // the bound that the bytes left cannot hold is truncated.
        assert_eq!(
            tampered(126, &[255]),
            Err(MembershipError::TooLarge {
                len: 255,
                max: MAX_RELAY_ADDRESSES as u64
            })
        );
        let mut short = op.as_bytes()[..127].to_vec();
        short[126] = 8;
        assert_eq!(Op::from_bytes(&short), Err(MembershipError::Truncated));
        // A count below the addresses present leaves bytes after the signature.
        assert_eq!(
            tampered(126, &[1]),
            Err(MembershipError::Malformed(
                "trailing bytes after the signature"
            ))
        );
        assert_eq!(
            tampered(127, &[0, 0]),
            Err(MembershipError::Malformed(
                "relay address must be 1 to 256 bytes"
            ))
        );
        assert_eq!(
            tampered(127, &[1, 1]),
            Err(MembershipError::Malformed(
                "relay address must be 1 to 256 bytes"
            ))
        );
        assert_eq!(tampered(127, &[0, 255]), Err(MembershipError::Truncated));
        // Not UTF-8, not printable, not starting with a slash, duplicated, unsorted.
        for (at, byte) in [(130, 0xff), (130, b' '), (129, b'a'), (130, 0x07)] {
            assert_eq!(
                tampered(at, &[byte]),
                Err(MembershipError::Malformed(
                    "relay address must be printable ASCII without spaces, starting with /"
                )),
                "{at} {byte:#x}"
            );
        }
        assert_eq!(
            tampered(134, b"a"),
            Err(MembershipError::Malformed(
                "relay addresses are not sorted and distinct"
            ))
        );
        assert_eq!(
            tampered(130, b"c"),
            Err(MembershipError::Malformed(
                "relay addresses are not sorted and distinct"
            ))
        );
        // An active relay without addresses, in bytes: the count says none.
        let retired = relay(&[], false).expect("op");
        let mut bytes = retired.to_bytes();
        bytes[125] = 1;
        assert_eq!(
            Op::from_bytes(&bytes),
            Err(MembershipError::Malformed(
                "an active relay has at least one address"
            ))
        );
    }

    proptest! {
        #[test]
        fn from_bytes_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let _ = Op::from_bytes(&bytes);
        }

        #[test]
        fn mutated_ops_never_panic(which in 0usize..8, index in any::<usize>(), byte in any::<u8>(), cut in 0usize..64) {
            static OPS: std::sync::OnceLock<Vec<Op>> = std::sync::OnceLock::new();
            let op = &OPS.get_or_init(|| one_of_each(&Dev::new(1), &Dev::new(2)))[which];
            let mut bytes = op.to_bytes();
            let i = index % bytes.len();
            bytes[i] = byte;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            if let Ok(parsed) = Op::from_bytes(&bytes) {
                prop_assert_eq!(parsed.as_bytes(), &bytes[..]);
            }
        }
    }
}
