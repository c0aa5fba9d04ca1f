//! Who may use a relay, per network, without the relay holding the membership log or any
//! organisation's name.
//!
//! The relay knows a network by its tag ([`super::wire::network_tag`]) and keeps four sets of
//! transport keys: admins (who may send access updates), members (who may reserve, open
//! circuits and use the mailbox), revoked keys (refused for good) and invitation passes (keys
//! that may open circuits until a time, so a joiner reaches its inviter). Its operator admits
//! a network once with a [`RelayTicket`] an admin made; from then on the network's admins send
//! their view of the membership over their authenticated connection.
//!
//! Invariant: the state only grows by union (admins, members, revoked), so every order of
//! updates gives the same state, replaying an old update changes nothing, and a key once
//! revoked stays refused. A key is let in iff it is an admin or member and not revoked, or
//! holds an unexpired pass and is not revoked. No wall clock decides membership; the relay's
//! clock only ends invitation passes.

use std::collections::{BTreeMap, BTreeSet};

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::identity::PublicKey;
use crate::keys::NetworkId;
use crate::net::RelayAccess;

use super::wire::{MAX_ACCESS_KEYS, network_tag};

/// What a ticket starts with.
pub const TICKET_PREFIX: &str = "puente-relay:";

/// The ticket format's version byte.
const TICKET_VERSION: u8 = 1;

/// Admins one ticket may name.
const MAX_TICKET_ADMINS: usize = 64;

/// Invitation passes one network may hold at once; the oldest expiry goes first beyond it.
pub const MAX_PASSES_PER_NETWORK: usize = 256;

/// The format version of the stored state.
const STATE_VERSION: u8 = 1;

/// What an admin gives a relay's operator so the relay serves the network: the network's
/// tag and its admins' device keys. It holds nothing secret and no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayTicket {
    /// The network's tag.
    pub tag: [u8; 32],
    /// Admin device keys.
    pub admins: Vec<PublicKey>,
}

/// Why a ticket could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// It does not start with [`TICKET_PREFIX`].
    #[error("a relay ticket starts with `{TICKET_PREFIX}`; copy the whole line the admin sent")]
    Prefix,
    /// It was damaged in transit (its check failed) or is not base64url.
    #[error(
        "the relay ticket is damaged (part of it is missing or changed); ask the admin to send it again"
    )]
    Damaged,
    /// Unknown version.
    #[error("the relay ticket has version {0}, which this puente does not know; update puente")]
    Version(u8),
}

impl RelayTicket {
    /// A ticket for `network` naming `admins`.
    pub fn new(network: &NetworkId, admins: Vec<PublicKey>) -> Self {
        let mut admins = admins;
        admins.sort_unstable();
        admins.dedup();
        admins.truncate(MAX_TICKET_ADMINS);
        Self {
            tag: network_tag(network),
            admins,
        }
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, TicketError> {
        let body = text
            .trim()
            .strip_prefix(TICKET_PREFIX)
            .ok_or(TicketError::Prefix)?;
        let bytes = BASE64URL_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| TicketError::Damaged)?;
        if bytes.len() < 4 + 1 + 32 + 1 {
            return Err(TicketError::Damaged);
        }
        let (payload, check) = bytes.split_at(bytes.len() - 4);
        if Sha256::digest(payload)[..4] != *check {
            return Err(TicketError::Damaged);
        }
        if payload[0] != TICKET_VERSION {
            return Err(TicketError::Version(payload[0]));
        }
        let mut tag = [0; 32];
        tag.copy_from_slice(&payload[1..33]);
        let count = usize::from(payload[33]);
        let keys = &payload[34..];
        if count > MAX_TICKET_ADMINS || keys.len() != count * 32 || count == 0 {
            return Err(TicketError::Damaged);
        }
        let admins = keys
            .chunks_exact(32)
            .map(|chunk| {
                let mut key = [0; 32];
                key.copy_from_slice(chunk);
                PublicKey::from_bytes(key)
            })
            .collect();
        Ok(Self { tag, admins })
    }
}

impl std::fmt::Display for RelayTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut b = vec![TICKET_VERSION];
        b.extend_from_slice(&self.tag);
        // At most MAX_TICKET_ADMINS (64), so it fits in a byte.
        b.push(self.admins.len() as u8);
        for key in &self.admins {
            b.extend_from_slice(key.as_bytes());
        }
        let check = Sha256::digest(&b);
        b.extend_from_slice(&check[..4]);
        write!(f, "{TICKET_PREFIX}{}", BASE64URL_NOPAD.encode(&b))
    }
}

/// One network's access at a relay (see the module invariant).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAccess {
    admins: BTreeSet<[u8; 32]>,
    members: BTreeSet<[u8; 32]>,
    revoked: BTreeSet<[u8; 32]>,
    /// Invitation key → when its pass ends (relay clock, seconds since the Unix epoch).
    passes: BTreeMap<[u8; 32], u64>,
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Access changed: the relay must tell its transport.
    Changed,
    /// Nothing new.
    Unchanged,
}

impl NetworkAccess {
    /// A network admitted with a ticket's admins.
    pub fn from_ticket(ticket: &RelayTicket) -> Self {
        let mut access = Self::default();
        access.admit(ticket);
        access
    }

    /// Adds a ticket's admins (the operator admitting the network again).
    pub fn admit(&mut self, ticket: &RelayTicket) -> Applied {
        let before = self.admins.len();
        self.admins
            .extend(ticket.admins.iter().map(|key| *key.as_bytes()));
        if self.admins.len() == before {
            Applied::Unchanged
        } else {
            Applied::Changed
        }
    }

    /// Whether `key` may send access updates.
    pub fn is_admin(&self, key: &PublicKey) -> bool {
        self.admins.contains(key.as_bytes()) && !self.revoked.contains(key.as_bytes())
    }

    /// Whether `key` may reserve and use the mailbox.
    pub fn is_member(&self, key: &PublicKey) -> bool {
        let k = key.as_bytes();
        (self.members.contains(k) || self.admins.contains(k)) && !self.revoked.contains(k)
    }

    /// Merges an admin's view. The caller has checked the sender is an admin. Returns
    /// `None` when a list exceeds its bound.
    pub fn apply_update(
        &mut self,
        members: &[[u8; 32]],
        admins: &[[u8; 32]],
        revoked: &[[u8; 32]],
    ) -> Option<Applied> {
        let grows = |set: &BTreeSet<[u8; 32]>, new: &[[u8; 32]]| {
            set.len() + new.iter().filter(|k| !set.contains(*k)).count()
        };
        if grows(&self.members, members) > MAX_ACCESS_KEYS
            || grows(&self.admins, admins) > MAX_ACCESS_KEYS
            || grows(&self.revoked, revoked) > 4 * MAX_ACCESS_KEYS
        {
            return None;
        }
        let before = (self.members.len(), self.admins.len(), self.revoked.len());
        self.members.extend(members.iter().copied());
        self.admins.extend(admins.iter().copied());
        self.revoked.extend(revoked.iter().copied());
        for key in revoked {
            self.passes.remove(key);
        }
        let after = (self.members.len(), self.admins.len(), self.revoked.len());
        Some(if before == after {
            Applied::Unchanged
        } else {
            Applied::Changed
        })
    }

    /// Opens (until `until`) or withdraws an invitation pass.
    pub fn set_pass(&mut self, key: [u8; 32], until: Option<u64>) -> Applied {
        if self.revoked.contains(&key) || self.members.contains(&key) {
            return Applied::Unchanged;
        }
        match until {
            Some(until) => {
                if self.passes.get(&key) == Some(&until) {
                    return Applied::Unchanged;
                }
                self.passes.insert(key, until);
                while self.passes.len() > MAX_PASSES_PER_NETWORK {
                    let soonest = self
                        .passes
                        .iter()
                        .min_by_key(|(_, until)| **until)
                        .map(|(key, _)| *key);
                    if let Some(key) = soonest {
                        self.passes.remove(&key);
                    }
                }
                Applied::Changed
            }
            None => {
                if self.passes.remove(&key).is_some() {
                    Applied::Changed
                } else {
                    Applied::Unchanged
                }
            }
        }
    }

    /// Drops passes that ended by `now`.
    pub fn expire_passes(&mut self, now: u64) -> Applied {
        let before = self.passes.len();
        self.passes.retain(|_, until| *until > now);
        if self.passes.len() == before {
            Applied::Unchanged
        } else {
            Applied::Changed
        }
    }

    /// The keys this network lets in at `now`, for the transport.
    pub fn access(&self, now: u64) -> Vec<RelayAccess> {
        let mut out: Vec<RelayAccess> = self
            .members
            .union(&self.admins)
            .filter(|k| !self.revoked.contains(*k))
            .map(|k| RelayAccess {
                key: PublicKey::from_bytes(*k),
                reserve: true,
            })
            .collect();
        out.extend(
            self.passes
                .iter()
                .filter(|(k, until)| **until > now && !self.revoked.contains(*k))
                .map(|(k, _)| RelayAccess {
                    key: PublicKey::from_bytes(*k),
                    reserve: false,
                }),
        );
        out
    }

    /// Counts for the relay's status line: (admins, members, revoked, passes).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.admins.len(),
            self.members.len(),
            self.revoked.len(),
            self.passes.len(),
        )
    }

    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![STATE_VERSION];
        out.extend(postcard::to_allocvec(self).unwrap_or_default());
        out
    }

    /// Reads the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match bytes.split_first() {
            Some((&STATE_VERSION, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
    }
}

/// Merges every network's access into what the transport lets in: a key let in by any
/// network, reserving if any network lets it reserve. Each network decides for its own keys
/// (a device belongs to one network).
pub fn merged_access<'a>(
    networks: impl IntoIterator<Item = &'a NetworkAccess>,
    now: u64,
) -> Vec<RelayAccess> {
    let mut keys: BTreeMap<PublicKey, bool> = BTreeMap::new();
    for network in networks {
        for access in network.access(now) {
            let reserve = keys.entry(access.key).or_insert(false);
            *reserve |= access.reserve;
        }
    }
    keys.into_iter()
        .map(|(key, reserve)| RelayAccess { key, reserve })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SecretKey;

    fn key(n: u8) -> PublicKey {
        SecretKey::from_bytes(&[n; 32]).public()
    }

    #[test]
    fn tickets_round_trip_and_damage_is_named() {
        let ticket = RelayTicket::new(&NetworkId::from_bytes([7; 16]), vec![key(2), key(1)]);
        let text = ticket.to_string();
        assert!(text.starts_with(TICKET_PREFIX));
        assert_eq!(
            RelayTicket::parse(&format!("  {text}\n")),
            Ok(ticket.clone())
        );
        assert_eq!(RelayTicket::parse("hello"), Err(TicketError::Prefix));
        let mut damaged = text.clone();
        damaged.truncate(text.len() - 3);
        assert_eq!(RelayTicket::parse(&damaged), Err(TicketError::Damaged));
        let flipped: String = text
            .char_indices()
            .map(|(i, c)| {
                if i == 30 {
                    if c == 'A' { 'B' } else { 'A' }
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(RelayTicket::parse(&flipped), Err(TicketError::Damaged));
    }

    #[test]
    fn updates_merge_in_any_order_and_revocation_sticks() {
        let ticket = RelayTicket::new(&NetworkId::from_bytes([7; 16]), vec![key(1)]);
        let (a, b, c) = (*key(2).as_bytes(), *key(3).as_bytes(), *key(4).as_bytes());
        type Keys<'a> = &'a [[u8; 32]];
        let updates: [(Keys<'_>, Keys<'_>, Keys<'_>); 3] = [
            (&[a, b], &[], &[]),
            (&[a, b, c], &[], &[b]),
            (&[a], &[], &[]),
        ];
        let mut states = Vec::new();
        for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]] {
            let mut access = NetworkAccess::from_ticket(&ticket);
            for i in order {
                let (m, ad, r) = updates[i];
                access.apply_update(m, ad, r).expect("within bounds");
            }
            states.push(access);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
        let access = &states[0];
        assert!(access.is_member(&key(2)));
        assert!(!access.is_member(&key(3)), "revoked stays revoked");
        assert!(access.is_member(&key(4)));
        assert!(access.is_admin(&key(1)) && !access.is_admin(&key(2)));
        // Replaying the first update does not bring the revoked key back.
        let mut replayed = access.clone();
        assert_eq!(
            replayed.apply_update(&[a, b], &[], &[]),
            Some(Applied::Unchanged)
        );
        assert!(!replayed.is_member(&key(3)));
        let keys: Vec<PublicKey> = access.access(0).iter().map(|a| a.key).collect();
        assert!(!keys.contains(&key(3)));
    }

    #[test]
    fn passes_let_in_for_circuits_only_until_they_end() {
        let ticket = RelayTicket::new(&NetworkId::from_bytes([7; 16]), vec![key(1)]);
        let mut access = NetworkAccess::from_ticket(&ticket);
        let pass = *key(9).as_bytes();
        assert_eq!(access.set_pass(pass, Some(100)), Applied::Changed);
        assert!(!access.is_member(&key(9)));
        let now = access.access(50);
        assert!(now.contains(&RelayAccess {
            key: key(9),
            reserve: false
        }));
        assert!(!access.access(100).iter().any(|a| a.key == key(9)));
        assert_eq!(access.expire_passes(100), Applied::Changed);
        // A revoked key gets no pass.
        access
            .apply_update(&[], &[], &[pass])
            .expect("within bounds");
        assert_eq!(access.set_pass(pass, Some(1000)), Applied::Unchanged);
        assert!(access.access(0).iter().all(|a| a.key != key(9)));
    }

    #[test]
    fn stored_state_round_trips_and_garbage_is_none() {
        let ticket = RelayTicket::new(&NetworkId::from_bytes([7; 16]), vec![key(1)]);
        let mut access = NetworkAccess::from_ticket(&ticket);
        access
            .apply_update(&[*key(2).as_bytes()], &[], &[*key(3).as_bytes()])
            .expect("within bounds");
        access.set_pass(*key(4).as_bytes(), Some(5));
        assert_eq!(NetworkAccess::from_bytes(&access.to_bytes()), Some(access));
        assert_eq!(NetworkAccess::from_bytes(&[9, 1, 2]), None);
        assert_eq!(NetworkAccess::from_bytes(&[]), None);
    }
}
