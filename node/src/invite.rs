//! Invitations: how a new organisation joins a network over the phone.
//!
//! The inviter's node creates an [`Invitation`]: a random one-time secret from which an
//! *invitation key* (an Ed25519 key, used only to connect) is derived, the organisation's name
//! and role, and an expiry. The [`Token`] the coordinator pastes into a message carries the
//! network id, the inviter's device key and addresses, the secret and the expiry.
//!
//! `puente join TOKEN` connects to the inviter *as the invitation key*: the transport's
//! handshake proves the joiner knows the secret, and the inviter lets that key in only while
//! the invitation is open, so nobody without the token reaches it. Over that connection the
//! joiner sends a [`JoinRequest`]: its real device and key-agreement keys, signed by the
//! device key. Both sides then show the same [`safety_phrase`], computed from the invitation
//! key and the joiner's keys; the coordinators compare it on the phone, and only when the
//! inviter confirms is the organisation added to the membership log and given the epoch keys.
//! The joiner receives the whole log in [`JoinReply::Accepted`], checks that it names its
//! device, and re-seals what it wrote alone for the network.
//!
//! A device invitation (`puente device add`) works the same way, except that confirming it adds
//! the joiner as one more device of the inviter's organisation; its token says so, so that a
//! store can refuse the wrong kind before it asks to join.
//!
//! A token is single-use: the first joiner device to present it is bound to it, any other is
//! refused, and once the answer is delivered the invitation key is refused too. Expiry uses the
//! inviter's clock: it bounds how long a leaked token is worth anything, and decides nothing
//! about membership (which never reads a clock).

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE64URL_NOPAD;
use puente_crdt::Time;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::codec::{Reader, Truncation};
use crate::crypto::labels::{INVITE_KEY_DOMAIN, JOIN_REQUEST_DOMAIN, SAFETY_PHRASE_DOMAIN};
use crate::crypto::seal::fill_random;
use crate::identity::{AgreementPublic, PublicKey, SecretKey, Signature};
use crate::keys::NetworkId;
use crate::membership::{DeviceKeys, Role};

/// Token format version of an organisation's invitation: no kind byte.
const TOKEN_VERSION: u8 = 1;

/// Token format version that carries a kind byte after the version. Only device invitations
/// are written with it, so an organisation's token is what it always was, and a binary that
/// predates devices refuses a device token instead of joining with it as a new organisation.
const TOKEN_VERSION_KIND: u8 = 2;

/// Token kinds (version 2).
const TOKEN_KIND_ORG: u8 = 0;
const TOKEN_KIND_DEVICE: u8 = 1;

/// What every token starts with, so that a pasted token is recognisable.
pub const TOKEN_PREFIX: &str = "puente-invite:";

/// Addresses carried in a token at most.
pub const MAX_TOKEN_ADDRESSES: usize = 4;

/// Longest organisation name in an invitation or a request.
pub const MAX_NAME_LEN: usize = 80;

/// Join message format version.
const JOIN_VERSION: u8 = 1;

/// Join message kinds.
const MSG_REQUEST: u8 = 1;
const MSG_WAITING: u8 = 2;
const MSG_ACCEPTED: u8 = 3;
const MSG_REFUSED: u8 = 4;

/// Bounds on an accepted reply.
const MAX_REPLY_OPS: usize = 4096;
const MAX_REPLY_ADDRESSES: usize = 256;
const MAX_TEXT: usize = 512;

/// Words of the safety phrase: 256 short, common, distinct words (8 bits each).
const WORDS: [&str; 256] = [
    "acorn",
    "actor",
    "alarm",
    "album",
    "amber",
    "anchor",
    "angel",
    "ankle",
    "apple",
    "april",
    "apron",
    "arena",
    "arrow",
    "atlas",
    "attic",
    "autumn",
    "avocado",
    "bacon",
    "badge",
    "bagel",
    "baker",
    "bamboo",
    "banana",
    "banjo",
    "barrel",
    "basil",
    "basket",
    "beach",
    "beaver",
    "beetle",
    "bell",
    "berry",
    "bicycle",
    "biscuit",
    "blanket",
    "blossom",
    "boat",
    "bonnet",
    "border",
    "bottle",
    "bracelet",
    "branch",
    "bread",
    "breeze",
    "brick",
    "bridge",
    "broom",
    "bubble",
    "bucket",
    "buffalo",
    "butter",
    "button",
    "cabin",
    "cactus",
    "camel",
    "camera",
    "canal",
    "candle",
    "canoe",
    "canyon",
    "captain",
    "carpet",
    "carrot",
    "castle",
    "cattle",
    "cedar",
    "cello",
    "cherry",
    "chess",
    "chimney",
    "circle",
    "citrus",
    "clock",
    "cloud",
    "clover",
    "cocoa",
    "coconut",
    "comet",
    "copper",
    "coral",
    "cotton",
    "cougar",
    "cradle",
    "crayon",
    "cricket",
    "crystal",
    "cupcake",
    "curtain",
    "daisy",
    "dancer",
    "desert",
    "diamond",
    "dinner",
    "doctor",
    "dolphin",
    "donkey",
    "dragon",
    "drum",
    "eagle",
    "easel",
    "echo",
    "elbow",
    "elephant",
    "ember",
    "engine",
    "falcon",
    "feather",
    "fern",
    "festival",
    "fiddle",
    "finch",
    "flag",
    "flamingo",
    "flute",
    "forest",
    "fountain",
    "fox",
    "garden",
    "garlic",
    "ginger",
    "giraffe",
    "glacier",
    "globe",
    "goose",
    "grape",
    "guitar",
    "hammer",
    "harbor",
    "harvest",
    "hazel",
    "helmet",
    "heron",
    "hill",
    "honey",
    "horizon",
    "hummingbird",
    "iguana",
    "island",
    "ivory",
    "jacket",
    "jaguar",
    "jasmine",
    "jelly",
    "jungle",
    "kettle",
    "kitten",
    "kiwi",
    "ladder",
    "lagoon",
    "lantern",
    "lemon",
    "lettuce",
    "library",
    "lily",
    "lion",
    "lizard",
    "lobster",
    "magnet",
    "mango",
    "maple",
    "marble",
    "meadow",
    "melon",
    "mirror",
    "mitten",
    "monkey",
    "moon",
    "mountain",
    "muffin",
    "mushroom",
    "napkin",
    "nectar",
    "needle",
    "noodle",
    "oasis",
    "ocean",
    "olive",
    "onion",
    "orange",
    "orchid",
    "otter",
    "owl",
    "paddle",
    "painter",
    "panda",
    "papaya",
    "parrot",
    "peach",
    "peanut",
    "pebble",
    "pelican",
    "pencil",
    "pepper",
    "piano",
    "pillow",
    "pine",
    "planet",
    "plum",
    "pocket",
    "pony",
    "poppy",
    "potato",
    "pumpkin",
    "puzzle",
    "quail",
    "quilt",
    "rabbit",
    "radio",
    "rainbow",
    "raven",
    "ribbon",
    "river",
    "robin",
    "rocket",
    "rose",
    "saddle",
    "salmon",
    "sandal",
    "saucer",
    "scarf",
    "shell",
    "shovel",
    "silver",
    "sparrow",
    "spider",
    "spoon",
    "squirrel",
    "star",
    "sugar",
    "summer",
    "sunset",
    "swan",
    "table",
    "tiger",
    "tomato",
    "tortilla",
    "tractor",
    "tulip",
    "turtle",
    "umbrella",
    "valley",
    "velvet",
    "violin",
    "volcano",
    "wagon",
    "walnut",
    "whale",
    "whistle",
    "willow",
    "window",
    "winter",
    "wizard",
    "wolf",
    "yogurt",
    "zebra",
    "zipper",
];

/// Why a token, an invitation or a join message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// The text is not a token, or it was damaged when copied.
    #[error(
        "this is not a complete puente invitation; copy the whole token (it starts with `{TOKEN_PREFIX}`) and try again"
    )]
    BadToken,
    /// A join message did not follow the format.
    #[error("malformed join message: {0}")]
    Malformed(&'static str),
    /// The request's signature does not verify.
    #[error("the join request's signature is not valid")]
    BadSignature,
    /// A name is empty or too long.
    #[error("an organisation name must be 1 to {MAX_NAME_LEN} characters")]
    BadName,
}

impl Truncation for InviteError {
    fn truncated() -> Self {
        InviteError::Malformed("truncated")
    }
}

/// The one-time secret of an invitation; the invitation key derives from it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteSecret([u8; 32]);

impl InviteSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut b = [0u8; 32];
        fill_random(&mut b);
        InviteSecret(b)
    }

    /// The key the joiner connects with (and the inviter lets in while the invitation is open).
    pub fn key(&self) -> SecretKey {
        let seed: [u8; 32] = Sha256::new()
            .chain_update(INVITE_KEY_DOMAIN)
            .chain_update(self.0)
            .finalize()
            .into();
        SecretKey::from_bytes(&seed)
    }
}

impl fmt::Debug for InviteSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InviteSecret(<redacted>)")
    }
}

impl Drop for InviteSecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// What an invitation is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InviteState {
    /// Nobody has presented the token yet.
    Open,
    /// A device presented the token; waiting for the inviter to compare the phrase and confirm.
    Requested {
        /// The joiner's keys.
        device: PublicKey,
        /// Its key-agreement key.
        agreement: AgreementPublic,
        /// The name the joiner gave (shown; the invitation's name is what is recorded).
        name: String,
        /// The safety phrase both sides show.
        phrase: String,
    },
    /// Confirmed and added to the membership log; the answer is delivered when the joiner is
    /// connected.
    Confirmed {
        /// The joiner's device.
        device: PublicKey,
        /// The safety phrase that was confirmed.
        phrase: String,
    },
    /// The joiner received the answer; the token is spent.
    Used {
        /// The device that joined.
        device: PublicKey,
    },
    /// Withdrawn by the inviter.
    Cancelled,
}

/// Version of the stored form of an [`Invitation`].
const INVITATION_RECORD_VERSION: u8 = 1;

/// An invitation as the inviter's node keeps it (sealed in the store).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    /// The record version.
    pub version: u8,
    /// The one-time secret.
    pub secret: InviteSecret,
    /// The organisation's name, as recorded in the membership log.
    pub org_name: String,
    /// Its role.
    pub admin: bool,
    /// When it was created.
    pub created: Time,
    /// After this instant the token is refused.
    pub expires: Time,
    /// Confirm without asking (`--yes`).
    pub auto_confirm: bool,
    /// For a new device of this organisation (`puente device add`) rather than a new
    /// organisation.
    #[serde(default)]
    pub device_of: Option<puente_crdt::OrgId>,
    /// Where it stands.
    pub state: InviteState,
}

impl Invitation {
    /// A new open invitation.
    pub fn new(org_name: &str, role: Role, now: Time, expires: Time, auto_confirm: bool) -> Self {
        Invitation {
            version: INVITATION_RECORD_VERSION,
            secret: InviteSecret::generate(),
            org_name: org_name.trim().to_string(),
            admin: role == Role::Admin,
            created: now,
            expires,
            auto_confirm,
            device_of: None,
            state: InviteState::Open,
        }
    }

    /// The key the joiner connects with.
    pub fn key(&self) -> PublicKey {
        self.secret.key().public()
    }

    /// A short id to name the invitation in commands: the first 8 characters of its key.
    pub fn id(&self) -> String {
        self.key().to_string().chars().take(8).collect()
    }

    /// The role recorded for the organisation.
    pub fn role(&self) -> Role {
        if self.admin {
            Role::Admin
        } else {
            Role::Member
        }
    }

    /// Whether the joiner may still connect: until it expires (a confirmed invitation until its
    /// answer is delivered), so that the bound device can ask again if the answer was lost; any
    /// other device presenting a used token is refused in words.
    pub fn reachable(&self, now: Time) -> bool {
        match self.state {
            InviteState::Open | InviteState::Requested { .. } | InviteState::Used { .. } => {
                now < self.expires
            }
            InviteState::Confirmed { .. } => true,
            InviteState::Cancelled => false,
        }
    }

    /// The token for this invitation.
    pub fn token(&self, network: NetworkId, inviter: PublicKey, addresses: &[String]) -> Token {
        Token {
            network,
            inviter,
            secret: self.secret.clone(),
            expires: self.expires,
            device: self.device_of.is_some(),
            addresses: addresses
                .iter()
                .take(MAX_TOKEN_ADDRESSES)
                .cloned()
                .collect(),
        }
    }
}

/// What a coordinator pastes into a message: `puente-invite:` and base64url of version (1 for
/// an organisation; 2 followed by a kind byte, 1 for a device) ‖ network (16) ‖ inviter device key (32) ‖ secret (32) ‖ expiry (i64 seconds) ‖ address count
/// (u8) ‖ per address a u8 length and the text ‖ the first 4 bytes of SHA-256 of everything
/// before (so a damaged copy is recognised as such).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The network to join.
    pub network: NetworkId,
    /// The inviter's device key (the joiner connects only to this key).
    pub inviter: PublicKey,
    /// The one-time secret.
    pub secret: InviteSecret,
    /// When the inviter stops accepting it.
    pub expires: Time,
    /// Whether it adds a device to the inviter's organisation (`puente device add`) rather
    /// than a new organisation.
    pub device: bool,
    /// Where the inviter listens.
    pub addresses: Vec<String>,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = if self.device {
            vec![TOKEN_VERSION_KIND, TOKEN_KIND_DEVICE]
        } else {
            vec![TOKEN_VERSION]
        };
        b.extend_from_slice(self.network.as_bytes());
        b.extend_from_slice(self.inviter.as_bytes());
        b.extend_from_slice(&self.secret.0);
        b.extend_from_slice(&self.expires.0.to_be_bytes());
        let addrs: Vec<&String> = self
            .addresses
            .iter()
            .filter(|a| a.len() <= u8::MAX as usize)
            .take(MAX_TOKEN_ADDRESSES)
            .collect();
        b.push(addrs.len() as u8);
        for a in addrs {
            b.push(a.len() as u8);
            b.extend_from_slice(a.as_bytes());
        }
        let check = Sha256::digest(&b);
        b.extend_from_slice(&check[..4]);
        write!(f, "{TOKEN_PREFIX}{}", BASE64URL_NOPAD.encode(&b))
    }
}

impl FromStr for Token {
    type Err = InviteError;

    fn from_str(text: &str) -> Result<Token, InviteError> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let body = text
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(InviteError::BadToken)?;
        if body.len() > 4096 {
            return Err(InviteError::BadToken);
        }
        let bytes = BASE64URL_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| InviteError::BadToken)?;
        let split = bytes.len().checked_sub(4).ok_or(InviteError::BadToken)?;
        let (content, check) = bytes.split_at(split);
        if Sha256::digest(content)[..4] != *check {
            return Err(InviteError::BadToken);
        }
        let bad = |_| InviteError::BadToken;
        let mut r: Reader<'_, InviteError> = Reader::new(content);
        let device = match r.u8().map_err(bad)? {
            TOKEN_VERSION => false,
            TOKEN_VERSION_KIND => match r.u8().map_err(bad)? {
                TOKEN_KIND_ORG => false,
                TOKEN_KIND_DEVICE => true,
                _ => return Err(InviteError::BadToken),
            },
            _ => return Err(InviteError::BadToken),
        };
        let network = NetworkId::from_bytes(r.array().map_err(bad)?);
        let inviter = PublicKey::from_bytes(r.array().map_err(bad)?);
        let secret = InviteSecret(r.array().map_err(bad)?);
        let expires = Time(i64::from_be_bytes(r.array().map_err(bad)?));
        let n = r.u8().map_err(bad)? as usize;
        if n > MAX_TOKEN_ADDRESSES {
            return Err(InviteError::BadToken);
        }
        let mut addresses = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.u8().map_err(bad)? as usize;
            let a = std::str::from_utf8(r.take(len).map_err(bad)?)
                .map_err(|_| InviteError::BadToken)?;
            addresses.push(a.to_string());
        }
        if r.remaining() != 0 {
            return Err(InviteError::BadToken);
        }
        Ok(Token {
            network,
            inviter,
            secret,
            expires,
            device,
            addresses,
        })
    }
}

/// The words both coordinators compare: four words (32 bits) from SHA-256 over the network,
/// the invitation key and the joiner's two keys. A different joiner (someone who intercepted
/// the token) gets a different phrase with probability 1 - 2^-32.
pub fn safety_phrase(network: NetworkId, invitation: &PublicKey, joiner: &DeviceKeys) -> String {
    let digest = Sha256::new()
        .chain_update(SAFETY_PHRASE_DOMAIN)
        .chain_update(network.as_bytes())
        .chain_update(invitation.as_bytes())
        .chain_update(joiner.device.as_bytes())
        .chain_update(joiner.agreement.as_bytes())
        .finalize();
    digest[..4]
        .iter()
        .map(|b| WORDS[*b as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The joiner's request: its keys and the name it gives, signed by its device key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The device and key-agreement keys to add.
    pub keys: DeviceKeys,
    /// The organisation's name as the joiner gives it.
    pub name: String,
    signature: Signature,
}

impl JoinRequest {
    /// A request by `device` for the invitation whose key is `invitation`.
    pub fn new(
        network: NetworkId,
        invitation: &PublicKey,
        device: &SecretKey,
        agreement: AgreementPublic,
        name: &str,
    ) -> Result<Self, InviteError> {
        let name = checked_name(name)?;
        let keys = DeviceKeys {
            device: device.public(),
            agreement,
        };
        let signature = device.sign(&request_message(network, invitation, &keys, &name));
        Ok(JoinRequest {
            keys,
            name,
            signature,
        })
    }

    /// Checks the signature for this network and invitation.
    pub fn verify(&self, network: NetworkId, invitation: &PublicKey) -> Result<(), InviteError> {
        self.keys
            .device
            .verify(
                &request_message(network, invitation, &self.keys, &self.name),
                &self.signature,
            )
            .map_err(|_| InviteError::BadSignature)
    }
}

fn request_message(
    network: NetworkId,
    invitation: &PublicKey,
    keys: &DeviceKeys,
    name: &str,
) -> Vec<u8> {
    let mut m = JOIN_REQUEST_DOMAIN.to_vec();
    m.extend_from_slice(network.as_bytes());
    m.extend_from_slice(invitation.as_bytes());
    m.extend_from_slice(keys.device.as_bytes());
    m.extend_from_slice(keys.agreement.as_bytes());
    m.extend_from_slice(name.as_bytes());
    m
}

fn checked_name(name: &str) -> Result<String, InviteError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(InviteError::BadName);
    }
    Ok(name.to_string())
}

/// The inviter's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinReply {
    /// Received; waiting for the inviter to compare the phrase and confirm.
    Waiting,
    /// Added: the network's name, its whole membership log (causal order) and the addresses
    /// the inviter knows its members at.
    Accepted {
        /// The network's name.
        network_name: String,
        /// Every membership op.
        ops: Vec<Vec<u8>>,
        /// Member devices and an address each.
        addresses: Vec<(PublicKey, String)>,
    },
    /// Refused, and why.
    Refused(JoinRefusal),
}

/// Why an inviter's node refused a join request. On the wire it travels as a short text, the
/// one [`JoinRefusal::wire_text`] gives (the texts every version has sent); a text this
/// version does not know arrives as [`JoinRefusal::Other`], to be shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoinRefusal {
    /// The invitation key names no invitation of the inviter's node.
    #[error("unknown invitation")]
    UnknownInvitation,
    /// The request is not signed by the device it names.
    #[error("the join request is not signed by the device it names")]
    BadSignature,
    /// The invitation expired (by the inviter's clock).
    #[error("the invitation has expired")]
    Expired,
    /// The invitation was cancelled before the request arrived.
    #[error("the invitation was cancelled")]
    Cancelled,
    /// The inviter cancelled the invitation while the joiner waited for confirmation.
    #[error("the inviter cancelled the invitation")]
    CancelledWhileWaiting,
    /// Another device has joined, or asked to join, with the invitation.
    #[error("the invitation has already been used")]
    Used,
    /// The inviter's node could not store the request.
    #[error("the inviter's node could not record the request")]
    NotRecorded,
    /// The request did not follow the format.
    #[error("malformed join request")]
    Malformed,
    /// A reason this version does not know, as the inviter's node sent it.
    #[error("{0}")]
    Other(String),
}

impl JoinRefusal {
    /// The texts on the wire, as every version has sent them.
    const WIRE: [(JoinRefusal, &'static str); 8] = [
        (
            JoinRefusal::UnknownInvitation,
            "this invitation is unknown here; ask for a new one",
        ),
        (
            JoinRefusal::BadSignature,
            "the join request is not signed by the device it names",
        ),
        (
            JoinRefusal::Expired,
            "this invitation has expired; ask for a new one",
        ),
        (JoinRefusal::Cancelled, "this invitation was cancelled"),
        (
            JoinRefusal::CancelledWhileWaiting,
            "the inviter cancelled this invitation",
        ),
        (
            JoinRefusal::Used,
            "this invitation has already been used; ask for a new one",
        ),
        (
            JoinRefusal::NotRecorded,
            "the inviter's node could not record the request; try again",
        ),
        (JoinRefusal::Malformed, "malformed join request"),
    ];

    /// The text this refusal travels as.
    pub fn wire_text(&self) -> &str {
        match self {
            JoinRefusal::Other(text) => text,
            known => Self::WIRE
                .iter()
                .find(|(r, _)| r == known)
                .map_or("", |(_, text)| text),
        }
    }

    /// The refusal a text on the wire names.
    pub fn from_wire_text(text: &str) -> JoinRefusal {
        Self::WIRE
            .iter()
            .find(|(_, t)| *t == text)
            .map_or_else(|| JoinRefusal::Other(text.to_string()), |(r, _)| r.clone())
    }
}

/// A message on an invitation connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinMessage {
    /// Joiner to inviter.
    Request(JoinRequest),
    /// Inviter to joiner.
    Reply(JoinReply),
}

impl JoinMessage {
    /// The frame: version ‖ kind ‖ body.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![JOIN_VERSION];
        match self {
            JoinMessage::Request(r) => {
                b.push(MSG_REQUEST);
                b.extend_from_slice(r.keys.device.as_bytes());
                b.extend_from_slice(r.keys.agreement.as_bytes());
                b.extend_from_slice(r.signature.as_bytes());
                put_text(&mut b, &r.name);
            }
            JoinMessage::Reply(JoinReply::Waiting) => b.push(MSG_WAITING),
            JoinMessage::Reply(JoinReply::Accepted {
                network_name,
                ops,
                addresses,
            }) => {
                b.push(MSG_ACCEPTED);
                put_text(&mut b, network_name);
                b.extend_from_slice(&(ops.len() as u32).to_be_bytes());
                for op in ops {
                    b.extend_from_slice(&(op.len() as u32).to_be_bytes());
                    b.extend_from_slice(op);
                }
                b.extend_from_slice(&(addresses.len() as u32).to_be_bytes());
                for (key, addr) in addresses {
                    b.extend_from_slice(key.as_bytes());
                    put_text(&mut b, addr);
                }
            }
            JoinMessage::Reply(JoinReply::Refused(reason)) => {
                b.push(MSG_REFUSED);
                put_text(&mut b, reason.wire_text());
            }
        }
        b
    }

    /// Parses a frame; never panics, allocates only what the frame holds.
    pub fn decode(frame: &[u8]) -> Result<JoinMessage, InviteError> {
        let mut r: Reader<'_, InviteError> = Reader::new(frame);
        if r.u8()? != JOIN_VERSION {
            return Err(InviteError::Malformed("unknown version"));
        }
        let msg = match r.u8()? {
            MSG_REQUEST => {
                let device = PublicKey::from_bytes(r.array()?);
                let agreement = AgreementPublic::from_bytes(r.array()?);
                let signature = Signature::from_bytes(r.array()?);
                let name = checked_name(&get_text(&mut r)?)?;
                JoinMessage::Request(JoinRequest {
                    keys: DeviceKeys { device, agreement },
                    name,
                    signature,
                })
            }
            MSG_WAITING => JoinMessage::Reply(JoinReply::Waiting),
            MSG_ACCEPTED => {
                let network_name = get_text(&mut r)?;
                let n = r.u32()? as usize;
                if n > MAX_REPLY_OPS || n > r.remaining() / 4 {
                    return Err(InviteError::Malformed("too many ops"));
                }
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = r.u32()? as usize;
                    ops.push(r.take(len)?.to_vec());
                }
                let n = r.u32()? as usize;
                if n > MAX_REPLY_ADDRESSES || n > r.remaining() / 33 {
                    return Err(InviteError::Malformed("too many addresses"));
                }
                let mut addresses = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = PublicKey::from_bytes(r.array()?);
                    addresses.push((key, get_text(&mut r)?));
                }
                JoinMessage::Reply(JoinReply::Accepted {
                    network_name,
                    ops,
                    addresses,
                })
            }
            MSG_REFUSED => JoinMessage::Reply(JoinReply::Refused(JoinRefusal::from_wire_text(
                &get_text(&mut r)?,
            ))),
            _ => return Err(InviteError::Malformed("unknown kind")),
        };
        if r.remaining() != 0 {
            return Err(InviteError::Malformed("trailing bytes"));
        }
        Ok(msg)
    }
}

fn put_text(b: &mut Vec<u8>, text: &str) {
    let text = truncate(text, MAX_TEXT);
    b.extend_from_slice(&(text.len() as u16).to_be_bytes());
    b.extend_from_slice(text.as_bytes());
}

fn get_text(r: &mut Reader<'_, InviteError>) -> Result<String, InviteError> {
    let len = r.u16()? as usize;
    if len > MAX_TEXT {
        return Err(InviteError::Malformed("text too long"));
    }
    let bytes = r.take(len)?;
    let text = std::str::from_utf8(bytes).map_err(|_| InviteError::Malformed("not UTF-8"))?;
    if text.chars().any(char::is_control) {
        return Err(InviteError::Malformed("control characters in text"));
    }
    Ok(text.to_string())
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::AgreementSecret;

    const NET: NetworkId = NetworkId::from_bytes([9; 16]);

    fn token() -> Token {
        Token {
            network: NET,
            inviter: SecretKey::from_bytes(&[1; 32]).public(),
            secret: InviteSecret([2; 32]),
            expires: Time(1_795_000_000),
            device: false,
            addresses: vec![
                "/ip4/127.0.0.1/tcp/4737".into(),
                "/ip4/127.0.0.1/udp/4737/quic-v1".into(),
            ],
        }
    }

    #[test]
    fn a_token_round_trips_and_is_short() {
        let t = token();
        let text = t.to_string();
        assert!(text.starts_with(TOKEN_PREFIX));
        assert!(text.len() < 220, "{} characters", text.len());
        assert_eq!(text.parse::<Token>(), Ok(t.clone()));
        // Line breaks and spaces from a messaging app are ignored.
        let wrapped = format!("  {}\n{}  ", &text[..40], &text[40..]);
        assert_eq!(wrapped.parse::<Token>(), Ok(t));
    }

    #[test]
    fn a_device_token_says_so_and_an_organisation_token_keeps_version_1() {
        let org = token();
        let device = Token {
            device: true,
            ..token()
        };
        let bytes = |t: &Token| {
            BASE64URL_NOPAD
                .decode(&t.to_string().as_bytes()[TOKEN_PREFIX.len()..])
                .expect("base64url")
        };
        assert_eq!(bytes(&org)[0], TOKEN_VERSION);
        assert_eq!(bytes(&device)[..2], [TOKEN_VERSION_KIND, TOKEN_KIND_DEVICE]);
        assert_eq!(device.to_string().parse::<Token>(), Ok(device.clone()));
        assert_eq!(org.to_string().parse::<Token>(), Ok(org.clone()));
        // Version 2 with the organisation kind reads as an organisation's token; an unknown
        // kind is refused like any damaged token.
        let reencode = |kind: u8| {
            let mut b = bytes(&device);
            b[1] = kind;
            let end = b.len() - 4;
            let check = Sha256::digest(&b[..end]);
            b[end..].copy_from_slice(&check[..4]);
            format!("{TOKEN_PREFIX}{}", BASE64URL_NOPAD.encode(&b))
        };
        assert_eq!(reencode(TOKEN_KIND_ORG).parse::<Token>(), Ok(org));
        assert_eq!(reencode(7).parse::<Token>(), Err(InviteError::BadToken));
    }

    #[test]
    fn a_damaged_or_foreign_token_is_refused() {
        let text = token().to_string();
        let mut chars: Vec<char> = text.chars().collect();
        let i = TOKEN_PREFIX.len() + 30;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let damaged: String = chars.into_iter().collect();
        assert_eq!(damaged.parse::<Token>(), Err(InviteError::BadToken));
        assert_eq!(
            text[..text.len() - 5].parse::<Token>(),
            Err(InviteError::BadToken)
        );
        assert_eq!("hello".parse::<Token>(), Err(InviteError::BadToken));
        assert_eq!(
            format!("{TOKEN_PREFIX}{}", "A".repeat(5000)).parse::<Token>(),
            Err(InviteError::BadToken)
        );
    }

    #[test]
    fn requests_are_bound_to_their_network_and_invitation() {
        let device = SecretKey::from_bytes(&[3; 32]);
        let agreement = AgreementSecret::from_bytes(&[4; 32]).public();
        let invitation = InviteSecret([5; 32]).key().public();
        let req =
            JoinRequest::new(NET, &invitation, &device, agreement, "Casa Norte").expect("valid");
        assert_eq!(req.verify(NET, &invitation), Ok(()));
        let other = InviteSecret([6; 32]).key().public();
        assert_eq!(req.verify(NET, &other), Err(InviteError::BadSignature));
        let msg = JoinMessage::Request(req.clone());
        let back = JoinMessage::decode(&msg.encode()).expect("decodes");
        assert_eq!(back, msg);
        let mut renamed = req;
        renamed.name = "Someone Else".into();
        assert_eq!(
            renamed.verify(NET, &invitation),
            Err(InviteError::BadSignature)
        );
    }

    #[test]
    fn the_phrase_differs_for_another_joiner() {
        let inv = InviteSecret([5; 32]).key().public();
        let keys = |seed: u8| DeviceKeys {
            device: SecretKey::from_bytes(&[seed; 32]).public(),
            agreement: AgreementSecret::from_bytes(&[seed; 32]).public(),
        };
        let a = safety_phrase(NET, &inv, &keys(1));
        assert_eq!(a, safety_phrase(NET, &inv, &keys(1)));
        assert_ne!(a, safety_phrase(NET, &inv, &keys(2)));
        assert_eq!(a.split(' ').count(), 4);
    }

    #[test]
    fn refusals_travel_as_the_texts_every_version_sends() {
        for (refusal, text) in &JoinRefusal::WIRE {
            let typed = JoinMessage::Reply(JoinReply::Refused(refusal.clone())).encode();
            let mut plain = vec![JOIN_VERSION, MSG_REFUSED];
            put_text(&mut plain, text);
            assert_eq!(typed, plain, "{refusal:?}");
            assert_eq!(JoinRefusal::from_wire_text(text), *refusal);
        }
        let texts: std::collections::BTreeSet<&str> =
            JoinRefusal::WIRE.iter().map(|(_, t)| *t).collect();
        assert_eq!(texts.len(), JoinRefusal::WIRE.len(), "one text per refusal");
        assert_eq!(
            JoinRefusal::from_wire_text("a reason from a newer node"),
            JoinRefusal::Other("a reason from a newer node".into())
        );
    }

    #[test]
    fn replies_round_trip_and_garbage_never_panics() {
        let accepted = JoinMessage::Reply(JoinReply::Accepted {
            network_name: "Valley".into(),
            ops: vec![vec![1, 2, 3], vec![4; 300]],
            addresses: vec![(
                SecretKey::from_bytes(&[1; 32]).public(),
                "/ip4/127.0.0.1/tcp/1".into(),
            )],
        });
        for m in [
            accepted,
            JoinMessage::Reply(JoinReply::Waiting),
            JoinMessage::Reply(JoinReply::Refused(JoinRefusal::Expired)),
            JoinMessage::Reply(JoinReply::Refused(JoinRefusal::Other("expired".into()))),
        ] {
            let bytes = m.encode();
            assert_eq!(JoinMessage::decode(&bytes), Ok(m));
            for cut in 0..bytes.len() {
                assert!(JoinMessage::decode(&bytes[..cut]).is_err());
            }
        }
        let mut huge = vec![JOIN_VERSION, MSG_ACCEPTED, 0, 0];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(JoinMessage::decode(&huge).is_err());
    }
}
