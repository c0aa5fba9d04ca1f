//! Choosing the network's relays: admins only, through signed `Relay` ops in the membership
//! log, so that every member learns the same choice. This module checks who may write and
//! refuses no-ops; an address's structure is checked by the op, and whether it is a valid
//! multiaddress is the caller's check (`crate::net::validate_address`), since the replica
//! does not know libp2p.
//!
//! Invariant: only an admin device writes a `Relay` op, and never one that changes nothing.
//! Boundary: network state only, through the membership transaction; no libp2p here.

use puente_crdt::Time;

use super::{Replica, ReplicaError};
use crate::identity::PublicKey;
use crate::membership::{Op, RelayEntry};

/// Why a change to the network's relays was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayRefusal {
    /// This node is not part of a network yet.
    #[error("this node is not part of a network yet")]
    NotInNetwork,
    /// Only an admin organisation chooses the network's relays.
    #[error("only an admin organisation can choose the network's relays")]
    NotAdmin,
    /// Retiring a relay that is not in use.
    #[error("relay {relay} is not in use, so there is nothing to retire")]
    NotInUse {
        /// The relay.
        relay: PublicKey,
    },
    /// Giving a relay in use exactly the addresses it has.
    #[error("relay {relay} is already in use with exactly these addresses")]
    Unchanged {
        /// The relay.
        relay: PublicKey,
    },
    /// The membership log did not accept the relay change.
    #[error("the membership log did not accept the relay change")]
    NotAccepted,
}

impl Replica {
    /// Adds relay `relay` with `addresses` (multiaddress texts without `/p2p/`, sorted here),
    /// changes the addresses of one in use, or retires it (`active` false). Admins only;
    /// refuses a no-op (retiring a relay that is not in use, or giving one in use exactly its
    /// addresses). The op is applied and durable here and returned for pushing to peers.
    pub fn set_relay(
        &mut self,
        relay: PublicKey,
        mut addresses: Vec<String>,
        active: bool,
        now: Time,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        self.check_not_rolled_back()?;
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(RelayRefusal::NotInNetwork)?;
        let state = log.state();
        if !state.is_admin_device(&self.public) {
            return Err(RelayRefusal::NotAdmin.into());
        }
        addresses.sort_unstable();
        let in_force = state.relays().into_iter().find(|entry| entry.key == relay);
        match (in_force, active) {
            (None, false) => {
                return Err(RelayRefusal::NotInUse { relay }.into());
            }
            (Some(entry), true) if entry.addresses == addresses => {
                return Err(RelayRefusal::Unchanged { relay }.into());
            }
            _ => {}
        }
        let claimed = u64::try_from(now.0).unwrap_or(0);
        let op = Op::relay(
            log.network(),
            &self.key,
            &log.heads(),
            relay,
            addresses,
            active,
            claimed,
        )?;
        let ops = vec![op.to_bytes()];
        let update = self.apply_membership(&ops)?;
        if update.accepted != 1 {
            return Err(RelayRefusal::NotAccepted.into());
        }
        Ok(ops)
    }

    /// The relays the network's nodes use, sorted by key (empty when not in a network).
    pub fn relays(&self) -> Vec<RelayEntry> {
        self.net
            .membership
            .as_ref()
            .map(|log| log.state().relays())
            .unwrap_or_default()
    }
}
