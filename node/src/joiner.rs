//! The joining side of an invitation (see [`crate::invite`]): connect to the inviter as the
//! invitation key, send the signed request, show the safety phrase, wait for the answer, and
//! join the network with the membership log it carries.
//!
//! A store made with [`Replica::init`] joins as a new organisation; one made with
//! [`Replica::init_device`] joins as one more device of the inviter's organisation. The token
//! says which it is for ([`Token::device`]), and a store refuses the other kind before it
//! connects: once the inviter confirms, the joiner's key is in the network's membership log for
//! good, so a request that could only end in a refusal must never be sent.

use std::time::Duration;

use tokio::time::Instant;

use crate::identity::PublicKey;
use crate::invite::{
    InviteError, JoinMessage, JoinRefusal, JoinReply, JoinRequest, Token, safety_phrase,
};
use crate::net::{Net, NetConfig, NetError, NetEvent, NetLimits};
use crate::replica::{NetworkRefusal, Replica, ReplicaError};

/// How long [`join`] waits.
#[derive(Debug, Clone, Copy)]
pub struct JoinTimeouts {
    /// To reach the inviter at one of the token's addresses.
    pub connect: Duration,
    /// For the inviter to confirm, once connected.
    pub confirm: Duration,
}

impl Default for JoinTimeouts {
    fn default() -> Self {
        JoinTimeouts {
            connect: Duration::from_secs(30),
            confirm: Duration::from_secs(15 * 60),
        }
    }
}

/// What [`join`] reports while it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinProgress {
    /// The inviter has the request and waits for its coordinator to compare the safety phrase
    /// and confirm.
    Waiting {
        /// The phrase both sides show.
        phrase: String,
    },
}

/// Connections closed before any answer after which the joiner gives up.
const MAX_SILENT_CLOSES: u32 = 3;

/// Why joining failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The inviter could not be reached.
    #[error("cannot reach the inviter at {addresses}")]
    Unreachable {
        /// The addresses tried.
        addresses: String,
    },
    /// The inviter refused.
    #[error("the inviter refused: {0}")]
    Refused(JoinRefusal),
    /// The inviter's node let the handshake finish and then closed the connection without a
    /// word: its transport refused the invitation key (the invitation is used, expired or
    /// cancelled, or the token was not made by this inviter).
    #[error("the inviter's node closed the connection without an answer")]
    Closed,
    /// The inviter did not confirm in time.
    #[error("the inviter did not confirm within {0} minutes")]
    NotConfirmed(u64),
    /// A device invitation used on an organisation's own store.
    #[error("a device invitation cannot be used on an organisation's own store")]
    DeviceInvitation,
    /// An organisation's invitation used on a store made to become a device.
    #[error("an organisation's invitation cannot be used on a store made for a new device")]
    OrganisationInvitation,
    /// A store made to become a device that wrote records of its own before joining.
    #[error("a store made for a new device holds records written before joining")]
    DeviceNotEmpty,
    /// The token carries no address to reach the inviter at.
    #[error("the invitation carries no address")]
    NoAddress,
    /// The inviter's node answered with something that is not an answer to a join request.
    #[error("the inviter's node sent something that is not a join answer")]
    NotAnAnswer,
    /// The join request could not be made (the name does not fit).
    #[error(transparent)]
    Request(#[from] InviteError),
    /// This node cannot join.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// The transport failed.
    #[error(transparent)]
    Net(#[from] NetError),
}

/// Whether `replica` is a store made with [`Replica::init_device`] that has not joined its
/// organisation yet ([`Replica::waits_to_join_as_device`]).
pub fn waits_to_join_as_device(replica: &Replica) -> bool {
    replica.waits_to_join_as_device()
}

/// Checks, before anything is sent, that `token` is the kind of invitation this store can join
/// with: a device invitation for a store made with [`Replica::init_device`] that is still
/// empty, an organisation's invitation for any other. [`join`] checks it first; a caller may
/// check it earlier too.
pub fn check_kind(replica: &Replica, token: &Token) -> Result<(), JoinError> {
    let as_device = waits_to_join_as_device(replica);
    if token.device && !as_device {
        return Err(JoinError::DeviceInvitation);
    }
    if !token.device && as_device {
        return Err(JoinError::OrganisationInvitation);
    }
    if as_device && replica.stats().log_len > 0 {
        return Err(JoinError::DeviceNotEmpty);
    }
    Ok(())
}

/// Joins the network `token` invites to, as the organisation `name` (or, with a device
/// invitation, as a device of the inviter's organisation; `name` is then only shown to the
/// inviter). On success the replica is part of the network, knows the inviter's addresses, and
/// returns the network's name.
pub async fn join(
    replica: &mut Replica,
    token: &Token,
    name: &str,
    timeouts: JoinTimeouts,
    mut progress: impl FnMut(JoinProgress),
) -> Result<String, JoinError> {
    if let Some(log) = replica.membership() {
        return Err(JoinError::Replica(
            NetworkRefusal::AlreadyInNetwork {
                network: log.network(),
            }
            .into(),
        ));
    }
    check_kind(replica, token)?;
    if token.addresses.is_empty() {
        return Err(JoinError::NoAddress);
    }
    let invitation = token.secret.key();
    let invitation_key = invitation.public();
    let request = JoinRequest::new(
        token.network,
        &invitation_key,
        &replica.device_key(),
        replica.agreement_secret().public(),
        name,
    )?;
    let phrase = safety_phrase(token.network, &invitation_key, &request.keys);
    let (net, mut events) = Net::spawn(NetConfig {
        key: invitation,
        listen: Vec::new(),
        allowed: vec![token.inviter],
        known_addresses: token
            .addresses
            .iter()
            .map(|a| (token.inviter, a.clone()))
            .collect(),
        mdns: false,
        relays: Vec::new(),
        accept_only: Vec::new(),
        limits: NetLimits::default(),
    })
    .await?;
    let result = converse(
        &net,
        &mut events,
        token.inviter,
        &request,
        &phrase,
        timeouts,
        &mut progress,
    )
    .await;
    net.shutdown().await;
    let (network_name, ops, addresses) = match result {
        Ok(accepted) => accepted,
        Err(JoinError::Unreachable { .. }) => {
            return Err(JoinError::Unreachable {
                addresses: token.addresses.join(", "),
            });
        }
        Err(e) => return Err(e),
    };
    replica.join(&ops, &network_name)?;
    let own = replica.public_key();
    for addr in &token.addresses {
        replica.add_peer_address(token.inviter, addr)?;
    }
    for (key, addr) in addresses {
        if key != own {
            // A malformed address from the inviter is skipped, not fatal.
            let _ = replica.add_peer_address(key, &addr);
        }
    }
    Ok(network_name)
}

type Accepted = (String, Vec<Vec<u8>>, Vec<(PublicKey, String)>);

async fn converse(
    net: &Net,
    events: &mut tokio::sync::mpsc::Receiver<NetEvent>,
    inviter: PublicKey,
    request: &JoinRequest,
    phrase: &str,
    timeouts: JoinTimeouts,
    progress: &mut impl FnMut(JoinProgress),
) -> Result<Accepted, JoinError> {
    let frame = JoinMessage::Request(request.clone()).encode();
    let mut deadline = Instant::now() + timeouts.connect;
    let mut connected_once = false;
    let mut answered = false;
    let mut silent_closes = 0u32;
    loop {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => return Err(JoinError::Net(NetError::Closed)),
            Err(_) if connected_once => {
                return Err(JoinError::NotConfirmed(timeouts.confirm.as_secs() / 60));
            }
            Err(_) => {
                return Err(JoinError::Unreachable {
                    addresses: String::new(),
                });
            }
        };
        match event {
            NetEvent::Connected(peer) if peer == inviter => {
                if !connected_once {
                    connected_once = true;
                    deadline = Instant::now() + timeouts.confirm;
                }
                // Sent again after a reconnect: the inviter answers the same device the same
                // way. A connection the inviter drops at once shows up as a close below.
                send(net, inviter, frame.clone()).await;
            }
            NetEvent::Disconnected(peer) if peer == inviter && !answered => {
                silent_closes += 1;
                if silent_closes >= MAX_SILENT_CLOSES {
                    return Err(JoinError::Closed);
                }
            }
            NetEvent::Frame { from, bytes } if from == inviter => {
                match JoinMessage::decode(&bytes) {
                    Ok(JoinMessage::Reply(JoinReply::Waiting)) => {
                        if !answered {
                            progress(JoinProgress::Waiting {
                                phrase: phrase.to_string(),
                            });
                        }
                        answered = true;
                    }
                    Ok(JoinMessage::Reply(JoinReply::Accepted {
                        network_name,
                        ops,
                        addresses,
                    })) => return Ok((network_name, ops, addresses)),
                    Ok(JoinMessage::Reply(JoinReply::Refused(reason))) => {
                        return Err(JoinError::Refused(reason));
                    }
                    Ok(JoinMessage::Request(_)) | Err(_) => {
                        return Err(JoinError::NotAnAnswer);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Hands `frame` to the transport; a connection that is already gone is not an error here
/// (the close is reported as an event, and a reconnect sends the request again).
async fn send(net: &Net, peer: PublicKey, frame: Vec<u8>) {
    loop {
        match net.send(peer, frame.clone()).await {
            Err(NetError::Busy { .. }) => tokio::time::sleep(Duration::from_millis(10)).await,
            Ok(()) => return,
            Err(e) => {
                tracing::debug!(error = %e, "join request not sent");
                return;
            }
        }
    }
}
