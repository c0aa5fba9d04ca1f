//! English.

use std::path::Path;

use puente_node::actor::NodeError;
use puente_node::interchange::RowRefusal;
use puente_node::invite::{InviteError, JoinRefusal, MAX_NAME_LEN, TOKEN_PREFIX};
use puente_node::joiner::JoinError;
use puente_node::membership::Role;
use puente_node::net::NetError;
use puente_node::relay::client::RelayProblem;
use puente_node::relay::wire::Refusal;
use puente_node::replica::{
    AdminAction, BundleRefusal, NetworkRefusal, RecordKind, RelayRefusal, RoleRefusal, WriteRefusal,
};
use puente_node::store::StoreError;

use super::{Messages, addr_in_use, chain};

/// What to do when this node is not part of a network yet.
const NOT_IN_NETWORK: &str = "this node is not part of a network yet; create one with `puente network create --name NAME` or join one with `puente join TOKEN` first";

/// The English sentences.
#[derive(Debug, Clone, Copy)]
pub struct English;

impl Messages for English {
    fn io(&self, e: &std::io::Error) -> String {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::NotFound => "no such file or directory".into(),
            K::PermissionDenied => "permission denied".into(),
            K::AlreadyExists => "it already exists".into(),
            K::IsADirectory => "it is a directory".into(),
            K::StorageFull => "the disk is full".into(),
            _ => e.to_string(),
        }
    }

    fn nothing_said(&self) -> String {
        "something went wrong; run again with RUST_LOG=debug for details".into()
    }

    fn store(&self, e: &StoreError, dir: &Path) -> Option<String> {
        let d = dir.display();
        Some(match e {
            StoreError::NotFound { .. } => format!(
                "no puente data in {d}; run `puente init --org NAME` first, or point --data-dir at your data"
            ),
            StoreError::AlreadyExists { .. } => {
                format!(
                    "{d} already holds a puente store; choose another directory with --data-dir"
                )
            }
            StoreError::WrongPassphrase => format!(
                "wrong passphrase for the store in {d} (or its header was altered); check PUENTE_PASSPHRASE or --passphrase-file and try again"
            ),
            StoreError::Locked { .. } => format!(
                "a puente node is already running on {d} (or another puente command is using it); stop that node or let the command finish, then try again"
            ),
            StoreError::Io { path, source } => format!(
                "cannot access {}: {}; check the data directory and try again",
                path.display(),
                self.io(source)
            ),
            _ => return None,
        })
    }

    fn not_found(&self, what: RecordKind, text: &str) -> String {
        match what {
            RecordKind::Offer => format!(
                "no offer matches `{text}`; list offers with `puente offer list` or `puente query`"
            ),
            RecordKind::Hold => {
                format!("no hold matches `{text}`; list holds with `puente hold list`")
            }
            RecordKind::Window => format!(
                "no window matches `{text}`; see the offer's windows with `puente offer show OFFER_ID`"
            ),
            _ => format!("no {what} matches `{text}`; check the id and try again"),
        }
    }

    fn ambiguous(&self, what: RecordKind, text: &str, count: usize) -> String {
        format!("`{text}` matches {count} {what}s; type more of the id")
    }

    fn damaged(&self, what: &str) -> String {
        format!("stored {what} record is damaged; restore the data directory from a backup")
    }

    fn poisoned(&self) -> String {
        "an earlier write failed; nothing more is accepted until puente is restarted".into()
    }

    fn write(&self, r: &WriteRefusal) -> String {
        match r {
            WriteRefusal::DevicePending => "this device has not joined its organisation yet: on a computer of your organisation run `puente device add`, then here `puente join TOKEN`".into(),
            WriteRefusal::NoEpochKey { .. } => "this device has not received the network's key yet; keep `puente run` running until an admin's node shares it, then try again".into(),
            WriteRefusal::NotOwnOffer { offer, action } => format!(
                "offer {offer} belongs to another organisation; only its owner can {action} it (you can place a hold)"
            ),
            WriteRefusal::OwnOffer { .. } => {
                "this is your own offer; change its windows instead of holding it".into()
            }
            WriteRefusal::OfferWithdrawn { .. } => "that offer was withdrawn by its owner".into(),
            WriteRefusal::WindowCancelled { .. } => "that window was cancelled by its owner".into(),
            WriteRefusal::NoOccurrenceLeft { .. } => {
                "that window has no occurrence left; pick another window".into()
            }
            WriteRefusal::OutsideOccurrence { .. } => {
                "the hold's --from/--to must fall inside one occurrence of the window".into()
            }
            WriteRefusal::NotRequester { .. } => {
                "only the organisation that placed a hold can release it; as the owner, decline it"
                    .into()
            }
            WriteRefusal::NotOfferOwner { .. } => {
                "only the organisation that owns the offer can confirm or decline a hold on it"
                    .into()
            }
            _ => r.to_string(),
        }
    }

    fn network(&self, r: &NetworkRefusal) -> String {
        use NetworkRefusal as N;
        match r {
            N::NotInNetwork => NOT_IN_NETWORK.into(),
            N::AlreadyInNetwork { network } => {
                format!("this node is already part of network {network}; a node belongs to one network")
            }
            N::DeviceStore => "this store was made for a new device of an existing organisation (`puente init --device`): it joins with `puente join TOKEN` and cannot found a network".into(),
            N::HoldsPartnersRecords => {
                "this node already holds partners' records: it is part of a network".into()
            }
            N::NetworkNameLength { max } => format!("a network name must be 1 to {max} characters"),
            N::NotAdmin {
                action: AdminAction::RevokeOrganisation,
            } => "only an admin organisation can revoke an organisation; ask an admin of your network".into(),
            N::NotAdmin { .. } => {
                "only an admin organisation can do this; ask an admin of your network".into()
            }
            N::NoLongerMember => "this device is no longer a member of its network".into(),
            N::AlreadyMember { device } => format!("device {device} is already a member"),
            N::DeviceKnown { device } => format!("device {device} is already known to the network"),
            N::NotAllowedToAddDevice { .. } => {
                "only a device of that organisation or an admin can add a device to it".into()
            }
            N::OrgNotAccepted => "the membership log did not accept the new organisation; check `puente status`".into(),
            N::DeviceNotAccepted => {
                "the membership log did not accept the new device; check `puente status`".into()
            }
            N::RevocationNotAccepted => "the membership log did not accept the revocation; check `puente audit log`".into(),
            N::EmptyLog => "the inviter sent an empty membership log".into(),
            N::NotListed => "the inviter's membership log does not list this device; ask for a new invitation".into(),
            N::NoEpochYet => "the inviter's network has no epoch key yet".into(),
            N::DeviceInvitationForOrgStore => "this invitation adds a device to an existing organisation: use it on a new store made with `puente init --device`".into(),
            N::OrgInvitationForDeviceStore => "this store was made with `puente init --device`: it can only join as a device of an existing organisation (`puente device add` on that organisation's node)".into(),
            N::KeyNotShared => "the inviter did not share the network's key with this device; ask them to try again".into(),
            N::ExpiryNotInFuture => "--expires-in must be in the future".into(),
            N::OrgNameLength { max } => format!("--org must be 1 to {max} characters"),
            N::OrgNameTaken { name } => {
                format!("an organisation named `{name}` is already a member; pick another name")
            }
            N::InvitationNotFound { text, matches: 0 } => {
                format!("no invitation matches `{text}`; see `puente invite list`")
            }
            N::InvitationNotFound { text, .. } => {
                format!("no single invitation matches `{text}`; see `puente invite list`")
            }
            N::InvitationNotWaiting { invitation } => format!(
                "invitation {invitation} is not waiting for confirmation (nobody has joined with it yet, or it is done); see `puente invite list`"
            ),
            N::InvitationExpired { invitation } => {
                format!("invitation {invitation} has expired; create a new one")
            }
            N::InvitationNotCancellable { .. } => {
                "only an invitation nobody has been admitted with can be cancelled".into()
            }
            N::OrgAlreadyRevoked { .. } => "that organisation is already revoked".into(),
            N::NoSuchOrg { .. } => "no member organisation has that id; see `puente status`".into(),
            N::DeviceAlreadyRevoked { .. } => "that device is already revoked".into(),
            N::NoSuchDevice { .. } => "no member device has that key; see `puente peer list`".into(),
            N::NotAllowedToRevokeDevice { .. } => {
                "only a device of the same organisation or an admin can revoke a device".into()
            }
            N::BadAddress { text } => {
                format!("`{text}` is not a multiaddress such as /ip4/192.0.2.10/tcp/4737")
            }
            _ => r.to_string(),
        }
    }

    fn bundle(&self, r: &BundleRefusal) -> String {
        use BundleRefusal as B;
        match r {
            B::NoNetworkToExport => "this node is not part of a network yet; create one or join one before exporting a bundle".into(),
            B::NoNetworkToImport => "this node is not part of a network yet; create one or join one before importing a bundle".into(),
            B::NotAMember { org } => format!(
                "organisation {org} is not a member of this network; see `puente status` for the members"
            ),
            B::NoRecipients => "the membership log lists no device to seal the bundle to".into(),
            B::UnusableAgreementKey { device } => format!(
                "device {device} has an unusable agreement key; the bundle cannot be sealed to it"
            ),
            B::TooManyDevices { .. } => "the network has more devices than a bundle can name".into(),
            B::ExportTooLarge { len, max } => format!(
                "the bundle would be {len} bytes, more than the {max}-byte limit; export `--for` one organisation, or sync part of it first"
            ),
            B::TooManyItems => "the bundle would hold too many items".into(),
            B::ItemTooLarge => "an item is too large for a bundle".into(),
            B::ImportTooLarge { len, max } => format!(
                "the bundle is {len} bytes, more than the {max}-byte limit; nothing was imported"
            ),
            B::NotABundle => "this file is not a puente bundle; nothing was imported".into(),
            B::WrongNetwork { bundle, ours } => format!(
                "this bundle belongs to network {bundle}, but this node is part of network {ours}; nothing was imported"
            ),
            B::NotAddressed => "this bundle is not addressed to this device: it was exported for another organisation, or before this device joined; ask for one exported `--for` your organisation. Nothing was imported".into(),
            B::Altered => "the bundle is damaged or was altered (it does not decrypt); nothing was imported".into(),
            B::Truncated => "the bundle is truncated (the file is incomplete; copy it again); nothing was imported".into(),
            B::Malformed { what } => format!("the bundle is malformed ({what}); nothing was imported"),
            B::Version { found, supported } => format!(
                "this bundle has format version {found}, which this puente cannot read (it reads version {supported}); update puente. Nothing was imported"
            ),
            _ => r.to_string(),
        }
    }

    fn relay(&self, r: &RelayRefusal) -> String {
        match r {
            RelayRefusal::NotInNetwork => NOT_IN_NETWORK.into(),
            RelayRefusal::NotAdmin => "only an admin organisation can choose the network's relays; ask an admin of your network (see `puente status`)".into(),
            RelayRefusal::NotInUse { .. } => {
                "that relay is not in use, so there is nothing to retire".into()
            }
            RelayRefusal::Unchanged { .. } => {
                "that relay is already in use with exactly these addresses".into()
            }
            RelayRefusal::NotAccepted => {
                "the membership log did not accept the relay change; check `puente audit log`"
                    .into()
            }
            _ => r.to_string(),
        }
    }

    fn role(&self, r: &RoleRefusal) -> String {
        match r {
            RoleRefusal::NotInNetwork => NOT_IN_NETWORK.into(),
            RoleRefusal::NotAdmin => "only an admin organisation can change roles; ask an admin of your network (see `puente status`)".into(),
            RoleRefusal::OrgRevoked { .. } => {
                "that organisation is revoked; re-adding it takes a new invitation".into()
            }
            RoleRefusal::NoSuchOrg { .. } => {
                "no member organisation has that id; see `puente status`".into()
            }
            RoleRefusal::AlreadyHasRole {
                role: Role::Admin, ..
            } => "that organisation is already an admin".into(),
            RoleRefusal::AlreadyHasRole { .. } => "that organisation is already a member".into(),
            RoleRefusal::NotAccepted => {
                "the membership log did not accept the role change; check `puente audit log`"
                    .into()
            }
            _ => r.to_string(),
        }
    }

    fn relay_problem(&self, p: &RelayProblem) -> String {
        match p {
            RelayProblem::TurnedAway => "the relay turns this device away: it does not know it as a member of a network it serves (an admin's node tells it when it runs; `puente relay ticket` and `--admit` admit the network), or this device was revoked".into(),
            RelayProblem::UnknownNetwork => "this relay does not serve the network yet: its operator starts it with --admit and the line `puente relay ticket` prints on an admin's node".into(),
            RelayProblem::Refused(refusal) => relay_refusal(refusal),
            RelayProblem::NoAnswer(reason) => reason.clone(),
            RelayProblem::Mismatch => {
                "the relay gave an answer that does not fit the request".into()
            }
            _ => p.to_string(),
        }
    }

    fn invite(&self, e: &InviteError) -> String {
        match e {
            InviteError::BadToken => format!(
                "this is not a complete puente invitation; copy the whole token (it starts with `{TOKEN_PREFIX}`) and try again"
            ),
            InviteError::Malformed(what) => format!("malformed join message: {what}"),
            InviteError::BadSignature => "the join request's signature is not valid".into(),
            InviteError::BadName => {
                format!("an organisation name must be 1 to {MAX_NAME_LEN} characters")
            }
            _ => e.to_string(),
        }
    }

    fn join(&self, e: &JoinError) -> String {
        match e {
            JoinError::Unreachable { addresses } => format!(
                "cannot reach the inviter at {addresses}; check that their node is running (`puente run`) and reachable from here, then try again"
            ),
            JoinError::Refused(r) => format!("the inviter refused: {}", self.join_refusal(r)),
            JoinError::Closed => "the inviter's node closed the connection: the invitation is used, expired or cancelled, or the token was not made by this inviter; ask for a new invitation".into(),
            JoinError::NotConfirmed(minutes) => format!(
                "the inviter did not confirm within {minutes} minutes; ask them to run `puente invite confirm`, then join again"
            ),
            JoinError::DeviceInvitation => "this invitation adds a device to an existing organisation, and this data directory holds an organisation's own store; on the new device run `puente init --device` (with an empty data directory), then `puente join TOKEN` there".into(),
            JoinError::OrganisationInvitation => "this invitation is for a new organisation, but this store was made with `puente init --device` to become a device of an existing one; ask a device of your organisation for a device invitation (`puente device add`) and join with that".into(),
            JoinError::DeviceNotEmpty => "this store was made with `puente init --device` but holds records written before joining; a new device must start empty: run `puente init --device` with another, empty data directory and join from there".into(),
            JoinError::NoAddress => "the invitation carries no address; ask the inviter for a token made while their node runs, or with --address".into(),
            JoinError::NotAnAnswer => "the inviter's node sent something that is not a join answer; try again, or ask the inviter for a new invitation".into(),
            _ => chain(e),
        }
    }

    fn join_refusal(&self, r: &JoinRefusal) -> String {
        match r {
            JoinRefusal::UnknownInvitation => {
                "this invitation is unknown here; ask for a new one".into()
            }
            JoinRefusal::BadSignature => {
                "the join request is not signed by the device it names".into()
            }
            JoinRefusal::Expired => "this invitation has expired; ask for a new one".into(),
            JoinRefusal::Cancelled => "this invitation was cancelled".into(),
            JoinRefusal::CancelledWhileWaiting => "the inviter cancelled this invitation".into(),
            JoinRefusal::Used => "this invitation has already been used; ask for a new one".into(),
            JoinRefusal::NotRecorded => {
                "the inviter's node could not record the request; try again".into()
            }
            JoinRefusal::Malformed => "malformed join request".into(),
            JoinRefusal::Other(text) => text.clone(),
            _ => r.to_string(),
        }
    }

    fn import_row(&self, r: &RowRefusal) -> String {
        match r {
            RowRefusal::OtherOrganisation { owner } => format!(
                "this row belongs to another organisation ({owner}); an import only changes your own offers, so remove the row (export without --partners to get only yours)"
            ),
            RowRefusal::Unchangeable { offer, field } => format!(
                "the {field} of offer {offer} cannot change; withdraw it (`puente offer withdraw {offer}`) and import the row under a new handle",
                field = field.name()
            ),
            RowRefusal::SharedHandle { offers } => format!(
                "{offers} of your offers share this handle, so the row cannot say which to update; give them distinct handles with `puente offer update`"
            ),
            RowRefusal::Invalid(e) => chain(e),
            _ => r.to_string(),
        }
    }

    fn node(&self, e: &NodeError, other_port: u16) -> String {
        match e {
            NodeError::Net(NetError::Listen { addr, source }) if addr_in_use(source) => format!(
                "cannot listen on {addr}: the port is already in use (another puente node?); pass --listen with another port, such as --listen /ip4/0.0.0.0/tcp/{p} --listen /ip4/0.0.0.0/udp/{p}/quic-v1",
                p = other_port
            ),
            NodeError::Net(NetError::Listen { addr, source }) => format!(
                "cannot listen on {addr}: {}; pass --listen with another address or port",
                chain(source)
            ),
            NodeError::Net(e @ NetError::InvalidAddress { .. }) => {
                format!("--listen: {}", chain(e))
            }
            NodeError::Thread(reason) => format!(
                "the node could not start: cannot start the node's thread: {reason}; free some memory and try again"
            ),
            other => format!("the node could not start: {}", chain(other)),
        }
    }
}

/// A relay's refusal of one request.
fn relay_refusal(r: &Refusal) -> String {
    match r {
        Refusal::UnknownNetwork => "the relay does not serve this network".into(),
        Refusal::NotAdmin => "only the network's admins may change access".into(),
        Refusal::NotMember => "the relay does not know this device as a member".into(),
        Refusal::Full {
            used_entries,
            used_bytes,
            max_entries,
            max_bytes,
        } => format!(
            "the mailbox is full ({used_entries} of {max_entries} entries, {used_bytes} of {max_bytes} bytes)"
        ),
        Refusal::TooLarge { max } => format!("an entry is larger than the {max} bytes kept"),
        Refusal::Malformed => "malformed request".into(),
        Refusal::Unavailable => "the relay cannot store anything right now".into(),
        _ => r.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use puente_node::envelope::NetworkId;
    use puente_node::invite::JoinRefusal;
    use puente_node::joiner::JoinError;
    use puente_node::replica::{
        BundleRefusal, NetworkRefusal, RecordKind, RelayRefusal, ReplicaError, RoleRefusal,
        WriteRefusal,
    };

    use crate::messages;

    fn sentence(e: impl Into<ReplicaError>) -> String {
        messages::replica(&e.into(), Path::new("/data"))
    }

    #[test]
    fn refusals_read_as_the_sentences_puente_has_always_printed() {
        assert_eq!(
            sentence(WriteRefusal::DevicePending),
            "this device has not joined its organisation yet: on a computer of your organisation run `puente device add`, then here `puente join TOKEN`"
        );
        assert_eq!(
            sentence(ReplicaError::NotFound {
                what: RecordKind::Hold,
                text: "zzzz".into()
            }),
            "no hold matches `zzzz`; list holds with `puente hold list`"
        );
        assert_eq!(
            sentence(NetworkRefusal::InvitationNotFound {
                text: "abcd".into(),
                matches: 0
            }),
            "no invitation matches `abcd`; see `puente invite list`"
        );
        assert_eq!(
            sentence(NetworkRefusal::AlreadyInNetwork {
                network: NetworkId::from_bytes([0; 16])
            }),
            format!(
                "this node is already part of network {}; a node belongs to one network",
                NetworkId::from_bytes([0; 16])
            )
        );
        assert_eq!(
            sentence(BundleRefusal::Malformed { what: "slot count" }),
            "the bundle is malformed (slot count); nothing was imported"
        );
        assert_eq!(
            sentence(RoleRefusal::NotAccepted),
            "the membership log did not accept the role change; check `puente audit log`"
        );
        assert_eq!(
            messages::join(&JoinError::Refused(JoinRefusal::Used), Path::new("/data")),
            "the inviter refused: this invitation has already been used; ask for a new one"
        );
    }

    #[test]
    fn not_being_in_a_network_says_both_ways_in() {
        for text in [
            sentence(NetworkRefusal::NotInNetwork),
            sentence(RelayRefusal::NotInNetwork),
            sentence(RoleRefusal::NotInNetwork),
        ] {
            assert!(
                text.contains("`puente network create --name NAME`")
                    && text.contains("`puente join TOKEN`"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_refusal_the_sentences_do_not_know_still_reads_as_its_own_words() {
        let text = messages::join(
            &JoinError::Refused(JoinRefusal::Other("a reason from a newer node".into())),
            Path::new("/data"),
        );
        assert_eq!(text, "the inviter refused: a reason from a newer node");
    }
}
