//! Changing an organisation's role (issue 4 §4): admins only, through a signed `SetRole` op.

use puente_crdt::{OrgId, Time};

use super::{Replica, ReplicaError};
use crate::membership::{Op, Role};

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
        let log = self.membership.as_ref().ok_or_else(|| {
            ReplicaError::Refused(
                "this node is not part of a network yet; create one or join one first".into(),
            )
        })?;
        let state = log.state();
        if !state.is_admin_device(&self.public) {
            return Err(ReplicaError::Refused(
                "only an admin organisation can change roles; ask an admin of your network (see `puente status`)".into(),
            ));
        }
        if state.is_revoked_org(&org) {
            return Err(ReplicaError::Refused(
                "that organisation is revoked; re-adding it takes a new invitation".into(),
            ));
        }
        let current = state.role(&org).ok_or_else(|| {
            ReplicaError::Refused("no member organisation has that id; see `puente status`".into())
        })?;
        if current == role {
            return Err(ReplicaError::Refused(format!(
                "that organisation is already {}",
                match role {
                    Role::Admin => "an admin",
                    Role::Member => "a member",
                }
            )));
        }
        let claimed = u64::try_from(now.0).unwrap_or(0);
        let op = Op::set_role(log.network(), &self.key, &log.heads(), org, role, claimed)?;
        let ops = vec![op.to_bytes()];
        let update = self.apply_membership(&ops)?;
        if update.accepted != 1 {
            return Err(ReplicaError::Refused(
                "the membership log did not accept the role change; check `puente audit log`"
                    .into(),
            ));
        }
        Ok(ops)
    }

    /// Whether making `org` a member (or revoking it) would leave the network with no admin
    /// organisation: nobody could then invite, revoke or rotate the key.
    pub fn would_leave_without_admin(&self, org: OrgId) -> bool {
        self.membership.as_ref().is_some_and(|log| {
            let admins = log.state().admins();
            !admins.is_empty() && admins.iter().all(|a| *a == org)
        })
    }
}
