//! The messages of `/puente/relay/1`, spoken by member nodes to a relay: access updates from
//! admins, invitation passes from any member, and the mailbox (deposit and collect).
//!
//! Format v1: one version byte (1), then the message in postcard encoding. Every list is
//! bounded here, after decoding and before anything is kept; the frame limit of the
//! transport bounds the bytes. The relay learns from these messages only what
//! `docs/threat-model.md` lists: transport keys, a per-network tag, entry sizes and counts.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::crypto::labels::RELAY_TAG_DOMAIN;
use crate::keys::NetworkId;

/// The version byte of every request and response.
pub const WIRE_VERSION: u8 = 1;

/// Keys one access update may name (members, admins and revoked keys each): a network of
/// seventy organisations with several devices each fits many times over.
pub const MAX_ACCESS_KEYS: usize = 4096;

/// Entries one deposit may carry.
pub const MAX_DEPOSIT_ENTRIES: usize = 256;

/// Entries one collection answer carries at most.
pub const MAX_COLLECT_ENTRIES: u32 = 256;

/// Bytes of entries one collection answer carries at most (within the 8 MiB frame limit,
/// leaving room for the encoding).
pub const MAX_COLLECT_BYTES: u32 = 6 * 1024 * 1024;

/// Longest time an invitation pass lasts at a relay, in seconds: invitations themselves
/// expire sooner (a week by default).
pub const MAX_INVITATION_TTL_SECS: u32 = 14 * 24 * 60 * 60;

/// The tag a relay knows a network by: SHA-256 of a domain and the network id, so the relay
/// never holds the id itself (the id names the network in tokens and bundles).
pub fn network_tag(network: &NetworkId) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(RELAY_TAG_DOMAIN);
    h.update(network.as_bytes());
    h.finalize().into()
}

/// A member's request to a relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Request {
    /// An admin's view of who may use the relay for its network. The relay keeps the union
    /// of what admins sent (members and admins grow, revoked keys stay revoked).
    Access {
        /// The network's tag.
        tag: [u8; 32],
        /// Member device keys: they may reserve and open circuits, and use the mailbox.
        members: Vec<[u8; 32]>,
        /// Admin device keys: they may send access updates.
        admins: Vec<[u8; 32]>,
        /// Revoked device keys: refused from now on, for good.
        revoked: Vec<[u8; 32]>,
    },
    /// A member's invitation key may open circuits (not reserve, not use the mailbox) for
    /// `ttl_secs`, or no longer (`open == false`), so that a joiner reaches the inviter.
    Invitation {
        /// The network's tag.
        tag: [u8; 32],
        /// The invitation's key.
        key: [u8; 32],
        /// How long it may, in seconds (at most [`MAX_INVITATION_TTL_SECS`]).
        ttl_secs: u32,
        /// Whether it may (false: withdraw the pass).
        open: bool,
    },
    /// Sealed entries for the network's mailbox, all or none.
    Deposit {
        /// The network's tag.
        tag: [u8; 32],
        /// Entries the relay cannot open.
        entries: Vec<Vec<u8>>,
    },
    /// Entries of the network's mailbox after `after`.
    Collect {
        /// The network's tag.
        tag: [u8; 32],
        /// The last entry id already collected (0 for all).
        after: u64,
        /// Entries wanted at most.
        max_entries: u32,
        /// Bytes wanted at most.
        max_bytes: u32,
    },
}

/// A relay's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// Done.
    Done,
    /// The entries were kept under these ids.
    Deposited {
        /// The relay store's instance: a change means the store was replaced.
        instance: [u8; 16],
        /// The first id given.
        first: u64,
        /// The last id given.
        last: u64,
    },
    /// Entries, oldest first.
    Entries {
        /// The relay store's instance: a change means the store was replaced and cursors
        /// start over.
        instance: [u8; 16],
        /// `(id, entry)`.
        entries: Vec<(u64, Vec<u8>)>,
        /// More remain after the last one.
        more: bool,
    },
    /// Refused.
    Refused(Refusal),
}

/// Why a relay refused a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Refusal {
    /// The relay does not serve this network (its operator has not admitted it).
    UnknownNetwork,
    /// Only the network's admins may send access updates.
    NotAdmin,
    /// The key is not a member of this network at the relay.
    NotMember,
    /// The network's mailbox is full.
    Full {
        /// Entries held.
        used_entries: u64,
        /// Bytes held.
        used_bytes: u64,
        /// The entry quota.
        max_entries: u64,
        /// The byte quota.
        max_bytes: u64,
    },
    /// An entry is larger than the relay keeps.
    TooLarge {
        /// The largest entry kept.
        max: u64,
    },
    /// The request broke the format or its bounds.
    Malformed,
    /// The relay could not do it now (its disk failed); try later.
    Unavailable,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownNetwork => f.write_str("the relay does not serve this network"),
            Self::NotAdmin => f.write_str("only the network's admins may change access"),
            Self::NotMember => f.write_str("the relay does not know this device as a member"),
            Self::Full {
                used_entries,
                used_bytes,
                max_entries,
                max_bytes,
            } => write!(
                f,
                "the mailbox is full ({used_entries} of {max_entries} entries, {used_bytes} of {max_bytes} bytes)"
            ),
            Self::TooLarge { max } => write!(f, "an entry is larger than the {max} bytes kept"),
            Self::Malformed => f.write_str("malformed request"),
            Self::Unavailable => f.write_str("the relay cannot store anything right now"),
        }
    }
}

/// Why bytes are not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Unknown version byte.
    #[error("unknown relay message version {0}")]
    Version(u8),
    /// Not a valid encoding.
    #[error("malformed relay message")]
    Malformed,
    /// A list is longer than its bound.
    #[error("relay message exceeds its bounds")]
    TooLarge,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![WIRE_VERSION];
    // Serialising these types into a Vec cannot fail: no map keys, no unsupported types.
    out.extend(postcard::to_allocvec(value).unwrap_or_default());
    out
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
    match bytes.split_first() {
        Some((&WIRE_VERSION, rest)) => {
            let (value, tail) =
                postcard::take_from_bytes(rest).map_err(|_| WireError::Malformed)?;
            if tail.is_empty() {
                Ok(value)
            } else {
                Err(WireError::Malformed)
            }
        }
        Some((&v, _)) => Err(WireError::Version(v)),
        None => Err(WireError::Malformed),
    }
}

impl Request {
    /// The bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses and checks the bounds.
    pub fn from_bytes(bytes: &[u8]) -> Result<Request, WireError> {
        let request: Request = decode(bytes)?;
        let ok = match &request {
            Request::Access {
                members,
                admins,
                revoked,
                ..
            } => {
                members.len() <= MAX_ACCESS_KEYS
                    && admins.len() <= MAX_ACCESS_KEYS
                    && revoked.len() <= MAX_ACCESS_KEYS
            }
            Request::Invitation { ttl_secs, .. } => *ttl_secs <= MAX_INVITATION_TTL_SECS,
            Request::Deposit { entries, .. } => entries.len() <= MAX_DEPOSIT_ENTRIES,
            Request::Collect { .. } => true,
        };
        if ok {
            Ok(request)
        } else {
            Err(WireError::TooLarge)
        }
    }
}

impl Response {
    /// For logs: the kind of answer (and for a refusal, why), never its contents.
    pub fn name(&self) -> String {
        match self {
            Self::Done => "done".into(),
            Self::Deposited { first, last, .. } => {
                format!("deposited {}", (last + 1).saturating_sub(*first))
            }
            Self::Entries { entries, more, .. } => {
                format!(
                    "{} entries{}",
                    entries.len(),
                    if *more { ", more" } else { "" }
                )
            }
            Self::Refused(why) => format!("refused: {why}"),
        }
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses an answer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Response, WireError> {
        decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let requests = [
            Request::Access {
                tag: [1; 32],
                members: vec![[2; 32], [3; 32]],
                admins: vec![[2; 32]],
                revoked: vec![[9; 32]],
            },
            Request::Invitation {
                tag: [1; 32],
                key: [4; 32],
                ttl_secs: 3600,
                open: true,
            },
            Request::Deposit {
                tag: [1; 32],
                entries: vec![vec![5; 100], Vec::new()],
            },
            Request::Collect {
                tag: [1; 32],
                after: 7,
                max_entries: 10,
                max_bytes: 1000,
            },
        ];
        for request in requests {
            assert_eq!(Request::from_bytes(&request.to_bytes()), Ok(request));
        }
        let responses = [
            Response::Done,
            Response::Deposited {
                instance: [1; 16],
                first: 1,
                last: 2,
            },
            Response::Entries {
                instance: [1; 16],
                entries: vec![(1, vec![1, 2, 3])],
                more: true,
            },
            Response::Refused(Refusal::Full {
                used_entries: 1,
                used_bytes: 2,
                max_entries: 3,
                max_bytes: 4,
            }),
        ];
        for response in responses {
            assert_eq!(Response::from_bytes(&response.to_bytes()), Ok(response));
        }
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics_or_huge_allocations() {
        assert_eq!(Request::from_bytes(&[]), Err(WireError::Malformed));
        assert_eq!(Request::from_bytes(&[9, 0]), Err(WireError::Version(9)));
        // A deposit claiming four billion entries in a few bytes.
        let mut bomb = vec![WIRE_VERSION, 2];
        bomb.extend([0u8; 32]);
        bomb.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(Request::from_bytes(&bomb).is_err());
        let too_many = Request::Deposit {
            tag: [0; 32],
            entries: vec![Vec::new(); MAX_DEPOSIT_ENTRIES + 1],
        };
        assert_eq!(
            Request::from_bytes(&too_many.to_bytes()),
            Err(WireError::TooLarge)
        );
        let mut trailing = Request::Collect {
            tag: [0; 32],
            after: 0,
            max_entries: 1,
            max_bytes: 1,
        }
        .to_bytes();
        trailing.push(0);
        assert_eq!(Request::from_bytes(&trailing), Err(WireError::Malformed));
        for len in 0..64 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let _ = Request::from_bytes(&junk);
            let _ = Response::from_bytes(&junk);
        }
    }

    #[test]
    fn tags_differ_per_network_and_hide_the_id() {
        let a = NetworkId::from_bytes([1; 16]);
        let b = NetworkId::from_bytes([2; 16]);
        assert_ne!(network_tag(&a), network_tag(&b));
        assert_eq!(network_tag(&a), network_tag(&a));
        assert!(
            !network_tag(&a)
                .windows(16)
                .any(|w| w == a.as_bytes().as_slice())
        );
    }
}
