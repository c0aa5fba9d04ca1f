//! The handover of a device restored from a backup (see `replica/restore.rs`): partners let in
//! only keys their membership log lists, and only this node holds the ops that admit its new
//! key. While the replica has a handover pending, the actor runs a second transport whose
//! identity is the replaced device's key, which partners still accept, and uses it **only to
//! exchange membership ops**: the sync session on it sends no envelope or snapshot and applies
//! none (it acknowledges them unapplied; they come again over the new key's sessions).
//!
//! A partner that applies the ops revokes the replaced key, cuts that connection and lets the
//! new key in; when the handover connection to a partner ends, the main transport dials that
//! partner again at once. The first frame a partner sends over the new key ends the handover (a
//! partner cuts a key it does not list off before any stream, so a frame is proof; our side's
//! `Connected` is not): the replica deletes the replaced key ([`Replica::finish_handover`]) and
//! this transport stops. Partners
//! that were not reached learn the new key from the others, as every membership op spreads.
//!
//! Invariant: the replaced key signs nothing here but the transport's handshakes; no envelope,
//! snapshot or op is written under it. Boundary: dials out only (no listener), to the member
//! devices the main transport dials, at the addresses it knows.

use std::collections::{BTreeMap, VecDeque};

use tokio::sync::mpsc;

use super::{NodeActor, NodeError, Outgoing, Src, short_key, spawn_sender};
use crate::identity::PublicKey;
use crate::net::{Net, NetConfig, NetEvent, NetLimits, RelayConfig};
use crate::replica::Replica;
use crate::sync::{Effect, Input, OpId, PeerSync, Source, Vector};

/// The transport with the replaced device's identity and its sessions.
pub(super) struct Handover {
    net: Net,
    /// The replaced device's key (the transport's identity).
    old: PublicKey,
    sessions: BTreeMap<PublicKey, PeerSync>,
    senders: BTreeMap<PublicKey, mpsc::Sender<Outgoing>>,
    /// The sender tasks, handed to the actor's list when the handover ends.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Whether the log was found not to list this device (said once).
    warned: bool,
}

impl Handover {
    /// Starts the handover transport if `replica` has a handover pending: dialling `dial` at
    /// `known` (and through `relays`), as the main transport does. A transport that cannot
    /// start is logged and left out: the node runs, and a bundle can carry the ops instead.
    pub(super) async fn start(
        replica: &Replica,
        dial: Vec<PublicKey>,
        known: Vec<(PublicKey, String)>,
        relays: Vec<RelayConfig>,
        mdns: bool,
    ) -> Result<Option<(Handover, mpsc::Receiver<NetEvent>)>, NodeError> {
        let Some(key) = replica.handover_key()? else {
            return Ok(None);
        };
        let old = key.public();
        let spawned = Net::spawn(NetConfig {
            key,
            listen: Vec::new(),
            allowed: dial,
            accept_only: Vec::new(),
            known_addresses: known,
            mdns,
            relays,
            limits: NetLimits::default(),
        })
        .await;
        match spawned {
            Ok((net, events)) => {
                tracing::info!(
                    replaced = %short_key(&old),
                    "this device was restored from a backup: telling partners its new key through the replaced device's key"
                );
                Ok(Some((
                    Handover {
                        net,
                        old,
                        sessions: BTreeMap::new(),
                        senders: BTreeMap::new(),
                        tasks: Vec::new(),
                        warned: false,
                    },
                    events,
                )))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the transport that tells partners this device's new key");
                Ok(None)
            }
        }
    }

    /// Stops the transport.
    pub(super) async fn shutdown(self) {
        self.net.shutdown().await;
    }
}

/// What a handover session reads: the replica's membership and vector, and nothing to send but
/// ops.
struct HandoverSrc<'a>(Src<'a>);

impl Source for HandoverSrc<'_> {
    fn network(&self) -> crate::keys::NetworkId {
        self.0.network()
    }

    fn version_vector(&self) -> Vector {
        self.0.version_vector()
    }

    fn membership_heads(&self) -> Vec<OpId> {
        self.0.membership_heads()
    }

    fn ops_missing_from(
        &self,
        their_heads: &[OpId],
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<Vec<u8>> {
        self.0.ops_missing_from(their_heads, max_count, max_bytes)
    }

    fn envelopes_after(&self, _: &PublicKey, _: u64, _: usize, _: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }

    fn connected_peers(&self) -> Vec<PublicKey> {
        Vec::new()
    }
}

impl NodeActor {
    /// An event of the handover transport.
    pub(super) fn on_handover_event(&mut self, event: NetEvent) {
        let Some(handover) = self.handover.as_mut() else {
            return;
        };
        match event {
            NetEvent::Connected(peer) => {
                let (tx, task) = spawn_sender(handover.net.clone(), peer);
                handover.senders.insert(peer, tx);
                handover.tasks.retain(|t| !t.is_finished());
                handover.tasks.push(task);
                handover
                    .sessions
                    .insert(peer, PeerSync::new(handover.old, peer));
                tracing::debug!(partner = %short_key(&peer), "handing this device's new key over");
                self.handover_feed(peer, Input::Connected);
            }
            NetEvent::Disconnected(peer) => {
                handover.sessions.remove(&peer);
                handover.senders.remove(&peer);
                // A partner that applied the ops cut the replaced key off: the new key may be
                // welcome there now, so dial it without waiting for the backoff.
                let net = self.net.clone();
                self.transport_tasks.spawn(async move {
                    if let Err(e) = net.dial(peer).await {
                        tracing::debug!(error = %e, "cannot dial a partner after the handover");
                    }
                });
            }
            NetEvent::Frame { from, bytes } => self.handover_feed(from, Input::Received(&bytes)),
            _ => {}
        }
    }

    /// Time passed for the handover sessions (an unanswered Hello is sent again).
    pub(super) fn handover_tick(&mut self) {
        let peers: Vec<PublicKey> = self
            .handover
            .as_ref()
            .map(|h| h.sessions.keys().copied().collect())
            .unwrap_or_default();
        for peer in peers {
            self.handover_feed(peer, Input::Tick);
        }
    }

    /// A frame arrived from `peer` on the new key's transport: it accepted this device, so the
    /// handover is over (see the module documentation).
    pub(super) fn handover_reached(&mut self, peer: PublicKey) {
        if self.handover.is_none() {
            return;
        }
        if let Err(e) = self.replica.finish_handover() {
            tracing::warn!(error = %e, "cannot record that the handover is over");
            return;
        }
        let Some(mut handover) = self.handover.take() else {
            return;
        };
        tracing::info!(
            partner = %short_key(&peer),
            replaced = %short_key(&handover.old),
            "a partner accepted this device's new key: the replaced device's key is no longer used"
        );
        handover.senders.clear();
        self.sender_tasks.append(&mut handover.tasks);
        self.transport_tasks.spawn(handover.shutdown());
    }

    /// Passes `input` to the handover session with `peer` and performs what follows.
    fn handover_feed(&mut self, peer: PublicKey, input: Input<'_>) {
        let mut queue = VecDeque::new();
        self.handover_handle(peer, input, &mut queue);
        while let Some(effect) = queue.pop_front() {
            self.handover_perform(peer, effect, &mut queue);
        }
        if std::mem::take(&mut self.membership_changed) {
            self.on_membership_changed();
        }
    }

    fn handover_handle(&mut self, peer: PublicKey, input: Input<'_>, queue: &mut VecDeque<Effect>) {
        let now = self.now();
        let Some(handover) = self.handover.as_mut() else {
            return;
        };
        let src = HandoverSrc(Src {
            replica: &self.replica,
            network: self.network,
            peers: Vec::new(),
            snapshots: Vec::new(),
        });
        if let Some(session) = handover.sessions.get_mut(&peer) {
            queue.extend(session.handle(now, input, &src));
        }
    }

    fn handover_perform(&mut self, peer: PublicKey, effect: Effect, queue: &mut VecDeque<Effect>) {
        match effect {
            Effect::Send(frame) => {
                if let Some(tx) = self.handover.as_ref().and_then(|h| h.senders.get(&peer))
                    && tx.try_send(Outgoing::Frame(frame)).is_err()
                {
                    tracing::debug!("handover queue full; frame dropped");
                }
            }
            Effect::ApplyOps { token, ops } => {
                let (accepted, refused) = self.apply_ops(&ops);
                self.handover_handle(
                    peer,
                    Input::Applied {
                        token,
                        invalid: refused,
                    },
                    queue,
                );
                if accepted > 0 {
                    self.membership_changed = true;
                    self.warn_if_not_admitted();
                }
            }
            // Only membership ops go over the replaced key's connection.
            Effect::ApplyEnvelopes { token, .. } | Effect::ApplySnapshot { token, .. } => {
                self.handover_handle(peer, Input::Applied { token, invalid: 0 }, queue);
            }
            Effect::Hint { .. } => {}
            Effect::Disconnect { penalty, .. } => {
                if let Some(handover) = self.handover.as_mut() {
                    handover.sessions.remove(&peer);
                    if let Some(tx) = handover.senders.remove(&peer)
                        && penalty.is_some()
                    {
                        let _ = tx.try_send(Outgoing::HangUp);
                    }
                }
            }
        }
    }

    /// Says once when the membership log no longer lists this device: a revocation of the
    /// replaced key made elsewhere, without knowledge of the op that added this device,
    /// undid that op (see `membership`, rule 3), so partners will not let this key in.
    fn warn_if_not_admitted(&mut self) {
        let me = self.replica.public_key();
        let listed = self
            .replica
            .membership()
            .is_some_and(|log| log.state().is_member_device(&me));
        if let Some(handover) = self.handover.as_mut()
            && !listed
            && !handover.warned
        {
            handover.warned = true;
            tracing::warn!(
                "the replaced device was revoked elsewhere before partners heard of this one, which undid its admission: this device cannot join with this backup; add a new device from another device of the organisation or an admin's"
            );
        }
    }
}
