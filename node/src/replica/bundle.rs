//! Bundles: the membership ops and envelopes a disconnected partner lacks, in one sealed file
//! for a USB stick (format v1, see `docs/formats.md`, "Bundle format v1"), and the last version
//! vector heard from each partner organisation, which decides what "lacks" means.
//!
//! A bundle's body is sealed under a fresh random key, and that key is sealed to each recipient
//! device's X25519 agreement key (one anonymous slot per device). The recipient opens its slot
//! with the agreement secret it derives from its device key, which never changes, so a partner
//! that missed any number of epoch-key rotations can still open the bundle and learn the new
//! keys from the ops inside it. Membership ops name organisations and device keys, and envelope
//! headers name partitions and authors, so nothing of either is readable on the stick.
//!
//! The slots give confidentiality only; every op and envelope inside is signed and goes through
//! the same checks as one from a live peer ([`Replica::apply_membership`], [`Replica::ingest`]).
//!
//! Boundary: no file I/O here except [`write_private`], which the CLI calls; the caller reads
//! the file and passes its bytes. Nothing in this module reads the clock.
//!
//! Invariant: what a bundle brings in is admitted exactly as from a live peer; a bundle refused as
//! a whole changes nothing. It coordinates both halves (ops into the network state, envelopes into
//! the document state), so it stays an `impl Replica`.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use puente_crdt::OrgId;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{IngestOutcome, Replica, ReplicaError, decode_json, encode_json};
use crate::codec::{Reader, Truncation};
use crate::crypto::keybox::{self, Binding};
use crate::crypto::labels::BUNDLE_KEY_DOMAIN;
use crate::crypto::seal::{
    KEY_LEN, NONCE_LEN, SEAL_OVERHEAD, SymmetricKey, TAG_LEN, open_with_nonce, random_nonce,
    seal_with_nonce,
};
use crate::envelope::format::{ENVELOPE_HEADER_LEN, SIGNATURE_LEN};
use crate::identity::{AgreementPublic, AgreementSecret, PublicKey};
use crate::keys::NetworkId;
use crate::membership::{MAX_OP_LEN, MAX_OPS, MAX_SEALED};
use crate::store::WriteBatch;
use crate::sync::MAX_ENVELOPE_LEN;

/// First bytes of every bundle file, so that a wrong file is named as such.
pub const BUNDLE_MAGIC: &[u8; 13] = b"PUENTE-BUNDLE";

/// Version byte of bundle format v1.
pub const BUNDLE_FORMAT_VERSION: u8 = 1;

/// Largest bundle file: 256 MiB is still far above a network's whole history (100,000 offers
/// are tens of MiB of envelopes), and it bounds what a hostile file can make a node allocate:
/// the file and its decrypted copy, about twice this, stay within an old laptop's memory.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;

/// Most recipient slots: one per device, and a network has at most 1024 devices (the most an
/// epoch key can be sealed to). Bounds the trial decryptions a hostile file can ask for.
pub const MAX_BUNDLE_SLOTS: usize = MAX_SEALED;

/// Length of one slot: ephemeral X25519 public key (32) ‖ nonce (24) ‖ sealed bundle key (32) ‖
/// tag (16).
pub const BUNDLE_SLOT_LEN: usize = 32 + KEY_LEN + SEAL_OVERHEAD;

/// Bytes before the first slot: magic, version, network id, slot count.
const FIXED_HEADER_LEN: usize = BUNDLE_MAGIC.len() + 1 + NetworkId::BYTES + 2;

/// Shortest envelope (format v1): header, the shortest ciphertext (a count and a tag),
/// signature. Used to bound the envelope count by the bytes that remain.
const MIN_ENVELOPE_LEN: usize = ENVELOPE_HEADER_LEN + 4 + TAG_LEN + SIGNATURE_LEN;

/// Name of the sealed record that keeps the last version vector heard from each organisation.
const REC_PEER_VECTORS: &str = "peer-vectors";

/// Version of the `peer-vectors` record.
const PEER_VECTORS_VERSION: u8 = 1;

/// Which partner a bundle is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleScope {
    /// Everything this node holds, readable by every member device.
    All,
    /// What this organisation lacks according to the last version vector heard from one of its
    /// devices (everything when none was recorded), readable only by its devices.
    For(OrgId),
}

/// What [`Replica::import_bundle`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BundleReport {
    /// Membership ops newly accepted.
    pub ops_accepted: usize,
    /// Envelopes applied (including ones an earlier gap had kept waiting).
    pub envelopes_applied: usize,
    /// Envelopes this node already had.
    pub duplicates: usize,
    /// Envelopes kept waiting (in memory, until the node stops) because an earlier envelope of
    /// their author is missing.
    pub waiting: usize,
    /// Ops and envelopes refused (badly signed, not authorised, malformed...): never applied.
    pub refused: usize,
}

/// Why a bundle could not be written or was refused as a whole (nothing of a refused bundle is
/// applied).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleRefusal {
    /// A node that is not part of a network has nobody to export a bundle to.
    #[error("this node is not part of a network yet, so it exports no bundle")]
    NoNetworkToExport,
    /// A node that is not part of a network cannot check a bundle's contents.
    #[error("this node is not part of a network yet, so it imports no bundle")]
    NoNetworkToImport,
    /// The organisation is not a member of this network.
    #[error("organisation {org} is not a member of this network")]
    NotAMember {
        /// The organisation.
        org: OrgId,
    },
    /// The membership log lists no device to seal a bundle to.
    #[error("the membership log lists no device to seal the bundle to")]
    NoRecipients,
    /// A recipient device's agreement key cannot be sealed to.
    #[error("device {device} has an unusable agreement key")]
    UnusableAgreementKey {
        /// The device.
        device: PublicKey,
    },
    /// More recipient devices than the slot count can name.
    #[error("{devices} devices are more than a bundle can name")]
    TooManyDevices {
        /// The devices the bundle would be sealed to.
        devices: usize,
    },
    /// The bundle would exceed the size limit.
    #[error("the bundle would be {len} bytes, more than the {max}-byte limit")]
    ExportTooLarge {
        /// Its size, in bytes.
        len: usize,
        /// The limit ([`MAX_BUNDLE_BYTES`]).
        max: usize,
    },
    /// The bundle would hold more items than its count field can say.
    #[error("the bundle would hold too many items")]
    TooManyItems,
    /// An item is larger than its length field can say.
    #[error("an item is too large for a bundle")]
    ItemTooLarge,
    /// The file exceeds the size limit.
    #[error("the bundle is {len} bytes, more than the {max}-byte limit")]
    ImportTooLarge {
        /// Its size, in bytes.
        len: usize,
        /// The limit ([`MAX_BUNDLE_BYTES`]).
        max: usize,
    },
    /// The file does not start like a bundle.
    #[error("not a puente bundle")]
    NotABundle,
    /// The bundle belongs to another network.
    #[error("the bundle belongs to network {bundle}, not to {ours}")]
    WrongNetwork {
        /// The bundle's network.
        bundle: NetworkId,
        /// This node's network.
        ours: NetworkId,
    },
    /// No slot of the bundle opens for this device.
    #[error("the bundle is not addressed to this device")]
    NotAddressed,
    /// The body does not decrypt: the bundle was damaged or altered.
    #[error("the bundle does not decrypt")]
    Altered,
    /// The file ends early.
    #[error("the bundle is truncated")]
    Truncated,
    /// The file does not follow the format.
    #[error("the bundle is malformed ({what})")]
    Malformed {
        /// What is wrong.
        what: &'static str,
    },
    /// A format version this node does not read.
    #[error("bundle format version {found} is not supported (this node reads {supported})")]
    Version {
        /// The bundle's version.
        found: u8,
        /// The version this node reads ([`BUNDLE_FORMAT_VERSION`]).
        supported: u8,
    },
}

/// The `peer-vectors` record: per organisation, the last version vector heard from one of its
/// devices.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PeerVectors {
    version: u8,
    orgs: BTreeMap<OrgId, BTreeMap<PublicKey, u64>>,
}

/// Why bundle bytes did not parse; turned into a [`BundleRefusal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Truncated,
    Malformed(&'static str),
    Version(u8),
}

impl Truncation for Fault {
    fn truncated() -> Self {
        Fault::Truncated
    }
}

/// The parsed cleartext part of a bundle.
struct Header<'a> {
    network: NetworkId,
    slots: Vec<&'a [u8; BUNDLE_SLOT_LEN]>,
    nonce: [u8; NONCE_LEN],
    /// Length of everything before the ciphertext: the AEAD's associated data.
    len: usize,
}

impl Replica {
    /// Writes a bundle for `scope`: every membership op of the network and the envelopes the
    /// recipient lacks, in log order, sealed so that only the recipient devices can read it.
    /// Refused on a node that is not part of a network.
    pub fn export_bundle(&self, scope: BundleScope) -> Result<Vec<u8>, ReplicaError> {
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(BundleRefusal::NoNetworkToExport)?;
        let state = log.state();
        let network = log.network();
        let (devices, have) = match scope {
            BundleScope::All => (state.devices(), BTreeMap::new()),
            BundleScope::For(org) => {
                if state.org(&org).is_none() {
                    return Err(BundleRefusal::NotAMember { org }.into());
                }
                let devices = state.devices().into_iter().filter(|d| d.org == org);
                (
                    devices.collect(),
                    self.peer_vector(org)?.unwrap_or_default(),
                )
            }
        };
        if devices.is_empty() {
            return Err(BundleRefusal::NoRecipients.into());
        }
        let ops = self.membership_ops();
        let envelopes = self.envelopes_missing_from(&have)?;
        let body_limit = MAX_BUNDLE_BYTES
            - FIXED_HEADER_LEN
            - devices.len() * BUNDLE_SLOT_LEN
            - NONCE_LEN
            - TAG_LEN;
        let body = encode_body(&ops, &envelopes, body_limit)?;

        let bundle_key = SymmetricKey::generate();
        let mut slots = Vec::with_capacity(devices.len());
        for d in &devices {
            let slot = seal_slot(network, &bundle_key, &d.key, &d.agreement)
                .ok_or(BundleRefusal::UnusableAgreementKey { device: d.key })?;
            slots.push(slot);
        }
        // The ephemeral key starts each slot, so sorting leaves an order that says nothing about
        // which device a slot is for.
        slots.sort_unstable();
        let nonce = random_nonce();
        let header_len = FIXED_HEADER_LEN + slots.len() * BUNDLE_SLOT_LEN + NONCE_LEN;
        let mut out = Vec::with_capacity(header_len + body.len() + TAG_LEN);
        out.extend_from_slice(BUNDLE_MAGIC);
        out.push(BUNDLE_FORMAT_VERSION);
        out.extend_from_slice(network.as_bytes());
        let count = u16::try_from(slots.len()).map_err(|_| BundleRefusal::TooManyDevices {
            devices: slots.len(),
        })?;
        out.extend_from_slice(&count.to_be_bytes());
        for slot in &slots {
            out.extend_from_slice(slot);
        }
        out.extend_from_slice(&nonce);
        debug_assert_eq!(out.len(), header_len);
        let ciphertext = seal_with_nonce(&bundle_key, &nonce, &out, &body);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Verifies and applies a bundle read from a file: opens it with this device's agreement
    /// key, then applies its membership ops and then its envelopes through the same checks as
    /// a live peer's. A bundle that is not for this node, of another network, truncated or
    /// altered in any byte is refused as a whole, with nothing applied; inside an authentic
    /// bundle, each refused op or envelope is counted and skipped.
    pub fn import_bundle(&mut self, bytes: &[u8]) -> Result<BundleReport, ReplicaError> {
        if self.poisoned {
            return Err(ReplicaError::Poisoned);
        }
        let Some(log) = self.net.membership.as_ref() else {
            return Err(BundleRefusal::NoNetworkToImport.into());
        };
        let ours = log.network();
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(BundleRefusal::ImportTooLarge {
                len: bytes.len(),
                max: MAX_BUNDLE_BYTES,
            }
            .into());
        }
        if !bytes.starts_with(BUNDLE_MAGIC) {
            return Err(BundleRefusal::NotABundle.into());
        }
        let header = parse_header(bytes).map_err(refusal)?;
        if header.network != ours {
            return Err(BundleRefusal::WrongNetwork {
                bundle: header.network,
                ours,
            }
            .into());
        }
        let agreement = self.agreement_secret();
        let bundle_key = header
            .slots
            .iter()
            .find_map(|slot| open_slot(ours, slot, &self.public, &agreement))
            .ok_or(BundleRefusal::NotAddressed)?;
        let body = open_with_nonce(
            &bundle_key,
            &header.nonce,
            &bytes[..header.len],
            &bytes[header.len..],
        )
        .map_err(|_| BundleRefusal::Altered)?;
        let (ops, envelopes) = decode_body(&body).map_err(refusal)?;

        let mut report = BundleReport::default();
        let update = self.apply_received_membership(&ops)?;
        if update.accepted > 0 {
            // An erasure among them is applied before any envelope after it lands.
            self.apply_erasures_now()?;
        }
        report.ops_accepted = update.accepted;
        report.refused = update.refused;
        for envelope in envelopes {
            match self.ingest(envelope) {
                Ok(IngestOutcome::Applied(n)) => report.envelopes_applied += n,
                Ok(IngestOutcome::Duplicate) => report.duplicates += 1,
                Ok(IngestOutcome::Waiting) => report.waiting += 1,
                // This device's own envelope under a number the store used for another one:
                // not applied; the rollback it shows is recorded (`Replica::rollback`).
                Ok(IngestOutcome::OwnConflict) => report.refused += 1,
                Err(ReplicaError::Envelope(e)) => {
                    tracing::debug!(error = %e, "refused an envelope from a bundle");
                    report.refused += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Remembers `vector` as the last version vector heard from a device of `org` (durable;
    /// replaces the one recorded before, so a partner that lost data gets everything again).
    /// `BundleScope::For(org)` exports what this vector lacks. Refused for an organisation the
    /// membership log does not list.
    pub fn record_peer_vector(
        &mut self,
        org: OrgId,
        vector: BTreeMap<PublicKey, u64>,
    ) -> Result<(), ReplicaError> {
        if let Some(log) = &self.net.membership
            && log.state().org(&org).is_none()
        {
            return Err(BundleRefusal::NotAMember { org }.into());
        }
        let mut all = self.peer_vectors()?;
        if all.orgs.get(&org) == Some(&vector) {
            return Ok(());
        }
        all.version = PEER_VECTORS_VERSION;
        all.orgs.insert(org, vector);
        let mut batch = WriteBatch::default();
        batch.put_record(REC_PEER_VECTORS, &encode_json(&all));
        self.store.commit(batch)?;
        Ok(())
    }

    /// The last version vector recorded for `org`, if any.
    pub fn peer_vector(
        &self,
        org: OrgId,
    ) -> Result<Option<BTreeMap<PublicKey, u64>>, ReplicaError> {
        Ok(self.peer_vectors()?.orgs.remove(&org))
    }

    fn peer_vectors(&self) -> Result<PeerVectors, ReplicaError> {
        match self.store.get_record(REC_PEER_VECTORS)? {
            Some(bytes) => {
                let v: PeerVectors = decode_json(&bytes, "peer vector")?;
                if v.version != PEER_VECTORS_VERSION {
                    return Err(ReplicaError::Damaged("peer vector"));
                }
                Ok(v)
            }
            None => Ok(PeerVectors {
                version: PEER_VECTORS_VERSION,
                orgs: BTreeMap::new(),
            }),
        }
    }
}

/// Writes `bytes` to `path` so that only the owner can read it, replacing what is there
/// atomically (see [`crate::store::write_private_file`]): a crash leaves either the old file or
/// the new one, never a partial one at `path`.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::store::write_private_file(path, bytes, true)
}

/// The refusal for bundle bytes that did not parse.
fn refusal(fault: Fault) -> ReplicaError {
    match fault {
        Fault::Truncated => BundleRefusal::Truncated,
        Fault::Malformed(what) => BundleRefusal::Malformed { what },
        Fault::Version(found) => BundleRefusal::Version {
            found,
            supported: BUNDLE_FORMAT_VERSION,
        },
    }
    .into()
}

/// Parses everything before the ciphertext. Checks the slot count against its bound and the
/// bytes that remain before collecting the slots.
fn parse_header(bytes: &[u8]) -> Result<Header<'_>, Fault> {
    let mut r = Reader::<Fault>::new(bytes);
    if r.take(BUNDLE_MAGIC.len())? != BUNDLE_MAGIC {
        return Err(Fault::Malformed("not a puente bundle"));
    }
    let version = r.u8()?;
    if version != BUNDLE_FORMAT_VERSION {
        return Err(Fault::Version(version));
    }
    let network = NetworkId::from_bytes(r.array()?);
    let count = usize::from(r.u16()?);
    if count == 0 || count > MAX_BUNDLE_SLOTS {
        return Err(Fault::Malformed("slot count out of range"));
    }
    if count * BUNDLE_SLOT_LEN + NONCE_LEN + TAG_LEN > r.remaining() {
        return Err(Fault::Truncated);
    }
    let mut slots = Vec::with_capacity(count);
    for _ in 0..count {
        let slot: &[u8; BUNDLE_SLOT_LEN] = r
            .take(BUNDLE_SLOT_LEN)?
            .try_into()
            .map_err(|_| Fault::Truncated)?;
        slots.push(slot);
    }
    let nonce = r.array()?;
    Ok(Header {
        network,
        slots,
        nonce,
        len: r.position(),
    })
}

/// Body: u32 op count ‖ ops ‖ u32 envelope count ‖ envelopes, each item a u32 length and its
/// bytes. Refused when it would exceed `limit` bytes.
fn encode_body(
    ops: &[Vec<u8>],
    envelopes: &[Vec<u8>],
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, ReplicaError> {
    let len = 8 + ops
        .iter()
        .chain(envelopes)
        .map(|item| 4 + item.len())
        .sum::<usize>();
    if len > limit {
        return Err(BundleRefusal::ExportTooLarge {
            len,
            max: MAX_BUNDLE_BYTES,
        }
        .into());
    }
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    for list in [ops, envelopes] {
        let count = u32::try_from(list.len()).map_err(|_| BundleRefusal::TooManyItems)?;
        out.extend_from_slice(&count.to_be_bytes());
        for item in list {
            // Every item is at most MAX_ENVELOPE_LEN (or MAX_OP_LEN) bytes, below u32::MAX.
            let n = u32::try_from(item.len()).map_err(|_| BundleRefusal::ItemTooLarge)?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(item);
        }
    }
    Ok(out)
}

/// A decrypted body's membership ops (copied, as [`Replica::apply_membership`] takes them) and
/// envelopes (borrowed from the body).
type Contents<'a> = (Vec<Vec<u8>>, Vec<&'a [u8]>);

/// The ops and envelopes of a decrypted body. Every count is checked against its bound and the
/// bytes that remain, every length against its bound, before anything is kept; trailing bytes
/// are refused.
fn decode_body(body: &[u8]) -> Result<Contents<'_>, Fault> {
    let mut r = Reader::<Fault>::new(body);
    let op_count = r.u32()? as usize;
    if op_count > MAX_OPS || op_count > r.remaining() / 5 {
        return Err(Fault::Malformed("op count out of range"));
    }
    let mut ops = Vec::new();
    for _ in 0..op_count {
        ops.push(item(&mut r, MAX_OP_LEN, "an op length is out of range")?.to_vec());
    }
    let env_count = r.u32()? as usize;
    if env_count > r.remaining() / (4 + MIN_ENVELOPE_LEN) {
        return Err(Fault::Malformed("envelope count out of range"));
    }
    let mut envelopes = Vec::new();
    for _ in 0..env_count {
        envelopes.push(item(
            &mut r,
            MAX_ENVELOPE_LEN,
            "an envelope length is out of range",
        )?);
    }
    if r.remaining() != 0 {
        return Err(Fault::Malformed("trailing bytes after the last envelope"));
    }
    Ok((ops, envelopes))
}

/// One length-prefixed item of 1 to `max` bytes; `out_of_range` says which kind when not.
fn item<'a>(
    r: &mut Reader<'a, Fault>,
    max: usize,
    out_of_range: &'static str,
) -> Result<&'a [u8], Fault> {
    let len = r.u32()? as usize;
    if len == 0 || len > max {
        return Err(Fault::Malformed(out_of_range));
    }
    r.take(len)
}

/// What a slot is bound to: label, network, recipient device. Key derivation info: label ‖
/// network ‖ ephemeral public ‖ recipient agreement public; associated data: label ‖ network ‖
/// recipient device key, so a slot opens only for the device it was made for, in its network.
fn slot_binding(network: NetworkId, device: &PublicKey) -> Binding {
    Binding::new(BUNDLE_KEY_DOMAIN, network.as_bytes().to_vec(), device)
}

/// Seals the bundle key to one device; `None` for a low-order agreement key.
fn seal_slot(
    network: NetworkId,
    bundle_key: &SymmetricKey,
    device: &PublicKey,
    agreement: &AgreementPublic,
) -> Option<[u8; BUNDLE_SLOT_LEN]> {
    keybox::seal_to(agreement, &slot_binding(network, device), bundle_key).ok()
}

/// The bundle key if `slot` was sealed to `device` (whose agreement secret is `agreement`).
fn open_slot(
    network: NetworkId,
    slot: &[u8; BUNDLE_SLOT_LEN],
    device: &PublicKey,
    agreement: &AgreementSecret,
) -> Option<SymmetricKey> {
    keybox::open_from(agreement, &slot_binding(network, device), slot).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_refuses_trailing_bytes() {
        let ops = vec![vec![1u8; 3], vec![2u8; 5]];
        let env = vec![7u8; MIN_ENVELOPE_LEN];
        let body = encode_body(&ops, std::slice::from_ref(&env), usize::MAX).expect("encodes");
        let (o, e) = decode_body(&body).expect("decodes");
        assert_eq!(o, ops);
        assert_eq!(e, vec![&env[..]]);
        let mut longer = body.to_vec();
        longer.push(0);
        assert_eq!(
            decode_body(&longer).map(|_| ()),
            Err(Fault::Malformed("trailing bytes after the last envelope"))
        );
        for len in 0..body.len() {
            assert!(decode_body(&body[..len]).is_err(), "prefix of {len} bytes");
        }
    }

    #[test]
    fn counts_and_lengths_are_checked_before_anything_is_kept() {
        // Four billion ops claimed by eight bytes.
        let huge = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        assert_eq!(
            decode_body(&huge).map(|_| ()),
            Err(Fault::Malformed("op count out of range"))
        );
        // One op claiming 4 GiB.
        let mut long = vec![0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        long.extend_from_slice(&[0; 8]);
        assert_eq!(
            decode_body(&long).map(|_| ()),
            Err(Fault::Malformed("an op length is out of range"))
        );
        // No ops, then a million envelopes claimed by a few bytes.
        let many = [0, 0, 0, 0, 0, 0x0f, 0x42, 0x40, 0, 0];
        assert_eq!(
            decode_body(&many).map(|_| ()),
            Err(Fault::Malformed("envelope count out of range"))
        );
        assert!(
            encode_body(&[vec![0; 10]], &[], 8).is_err(),
            "over the limit"
        );
    }

    #[test]
    fn a_slot_opens_only_for_its_device_and_network() {
        let network = NetworkId::from_bytes([3; 16]);
        let other = NetworkId::from_bytes([4; 16]);
        let device = PublicKey::from_bytes([5; 32]);
        let agreement = AgreementSecret::generate();
        let key = SymmetricKey::generate();
        let slot = seal_slot(network, &key, &device, &agreement.public()).expect("seals");
        let opened = open_slot(network, &slot, &device, &agreement).expect("opens");
        assert_eq!(opened.as_bytes(), key.as_bytes());
        assert!(open_slot(other, &slot, &device, &agreement).is_none());
        assert!(open_slot(network, &slot, &PublicKey::from_bytes([6; 32]), &agreement).is_none());
        assert!(open_slot(network, &slot, &device, &AgreementSecret::generate()).is_none());
        for i in 0..BUNDLE_SLOT_LEN {
            let mut flipped = slot;
            flipped[i] ^= 1;
            assert!(
                open_slot(network, &flipped, &device, &agreement).is_none(),
                "byte {i}"
            );
        }
    }

    /// A slot made by the code before the key box was shared (commit 1c740b2, its own HKDF and
    /// associated data, with the ephemeral secret `[0xE2; 32]` and nonce `[0x4F; 24]`): the
    /// bundle key `[0x6B; 32]` in network `[3; 16]` for device `[5; 32]`.
    const SLOT_V1: &str = "19d80204bf85f3e1118e1b23410c88f0d0eeced5156f4c5bdf347b14ed7ec63f\
        4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f1aa35daabcd79abf3deeb9ae1905059b2e348c53\
        510a6e10bc062d75f596dd1faf7ff5a50b9e75f4863a0d0d8db5e51d";

    #[test]
    fn slots_keep_their_v1_bytes() {
        let network = NetworkId::from_bytes([3; 16]);
        let device = PublicKey::from_bytes([5; 32]);
        let agreement = AgreementSecret::from_bytes(&[0x35; 32]);
        let bundle_key = SymmetricKey::from_bytes(&[0x6B; 32]);
        let pinned: [u8; BUNDLE_SLOT_LEN] = data_encoding::HEXLOWER
            .decode(SLOT_V1.as_bytes())
            .expect("hex")
            .try_into()
            .expect("one slot");
        let sealed = keybox::seal_to_with(
            &AgreementSecret::from_bytes(&[0xE2; 32]),
            &[0x4F; 24],
            &agreement.public(),
            &slot_binding(network, &device),
            &bundle_key,
        )
        .expect("seals");
        assert_eq!(sealed, pinned);
        let opened = open_slot(network, &pinned, &device, &agreement).expect("opens");
        assert_eq!(opened.as_bytes(), bundle_key.as_bytes());
    }

    #[test]
    fn header_parsing_refuses_bad_counts() {
        let mut bytes = BUNDLE_MAGIC.to_vec();
        bytes.push(BUNDLE_FORMAT_VERSION);
        bytes.extend_from_slice(&[0; 16]);
        let zero = [bytes.clone(), vec![0, 0]].concat();
        assert!(matches!(parse_header(&zero), Err(Fault::Malformed(_))));
        let many = [bytes.clone(), vec![0xff, 0xff], vec![0; 200]].concat();
        assert!(matches!(parse_header(&many), Err(Fault::Malformed(_))));
        let short = [bytes, vec![0, 2], vec![0; 200]].concat();
        assert!(matches!(parse_header(&short), Err(Fault::Truncated)));
    }
}
