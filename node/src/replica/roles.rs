//! Changing an organisation's role (issue 4 §4): admins only, through a signed `SetRole` op.
//!
//! Invariant: only an admin device writes a `SetRole` op, never for a revoked organisation or to
//! the role it already has.
//! Boundary: network state only, through the membership transaction; whether a change would leave
//! the network without an admin is answered here but decided by the caller.

use puente_crdt::{OrgId, Time};

use super::{Replica, ReplicaError};
use crate::membership::{Op, Role};

/// Why a change of an organisation's role was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleRefusal {
    /// This node is not part of a network yet.
    #[error("this node is not part of a network yet")]
    NotInNetwork,
    /// Only an admin organisation changes roles.
    #[error("only an admin organisation can change roles")]
    NotAdmin,
    /// The organisation is revoked; re-adding it takes a new invitation.
    #[error("organisation {org} is revoked")]
    OrgRevoked {
        /// The organisation.
        org: OrgId,
    },
    /// No member organisation has that id.
    #[error("no member organisation has id {org}")]
    NoSuchOrg {
        /// The id asked for.
        org: OrgId,
    },
    /// The organisation already has that role.
    #[error("organisation {org} already has the {role} role")]
    AlreadyHasRole {
        /// The organisation.
        org: OrgId,
        /// Its role.
        role: Role,
    },
    /// The membership log did not accept the role change.
    #[error("the membership log did not accept the role change")]
    NotAccepted,
}

impl Replica {
    /// Makes the member organisation `org` an admin or a member. Admins only; the op is applied
    /// and durable here and returned for pushing to peers. Whether it leaves the network
    /// without an admin is the caller's question to ask first
    /// ([`Replica::would_leave_without_admin`]).
    pub fn set_role(
        &mut self,
        org: OrgId,
        role: Role,
        now: Time,
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        self.check_not_rolled_back()?;
        let log = self
            .net
            .membership
            .as_ref()
            .ok_or(RoleRefusal::NotInNetwork)?;
        let state = log.state();
        if !state.is_admin_device(&self.public) {
            return Err(RoleRefusal::NotAdmin.into());
        }
        if state.is_revoked_org(&org) {
            return Err(RoleRefusal::OrgRevoked { org }.into());
        }
        let current = state.role(&org).ok_or(RoleRefusal::NoSuchOrg { org })?;
        if current == role {
            return Err(RoleRefusal::AlreadyHasRole { org, role }.into());
        }
        let claimed = u64::try_from(now.0).unwrap_or(0);
        let op = Op::set_role(log.network(), &self.key, &log.heads(), org, role, claimed)?;
        let ops = vec![op.to_bytes()];
        let update = self.apply_membership(&ops)?;
        if update.accepted != 1 {
            return Err(RoleRefusal::NotAccepted.into());
        }
        Ok(ops)
    }

    /// Whether making `org` a member (or revoking it) would leave the network with no admin
    /// organisation: nobody could then invite, revoke or rotate the key.
    pub fn would_leave_without_admin(&self, org: OrgId) -> bool {
        self.net.membership.as_ref().is_some_and(|log| {
            let admins = log.state().admins();
            !admins.is_empty() && admins.iter().all(|a| *a == org)
        })
    }
}
