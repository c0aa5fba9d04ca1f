//! Moving a running node to its device's new key: after the replica applied a history erasure
//! (`replica/erasure.rs`) its identity is a new key, and the transport, whose identity is the
//! old one, is replaced.
//!
//! Every session ends (their peers see the connection close), the old transport stops and a new
//! one starts under the new key on the addresses the old one was bound to (ports resolved, so
//! partners that know them keep finding the node), with the allow-list and relays of the
//! replica now; the handover transport (`actor/handover.rs`) starts under the old key, so that
//! partners that do not know the new key yet learn it. Nothing else changes: the replica, the
//! relay jobs and the status counters stay.
//!
//! Invariant: nothing is sent under the old key after this but the handover's membership ops.

use tokio::sync::mpsc;

use crate::identity::PublicKey;

use super::{
    NodeActor, NodeError, TransportState, allowed_peers, apply_transport_state, handover,
    relay_configs,
};
use crate::net::{Net, NetConfig, NetEvent, NetLimits};

impl NodeActor {
    /// Replaces the transport by one under the replica's key now; returns its events and the
    /// handover transport's.
    pub(super) async fn replace_transport(
        &mut self,
    ) -> Result<(mpsc::Receiver<NetEvent>, Option<mpsc::Receiver<NetEvent>>), NodeError> {
        let old = self.identity;
        // The ports bound (0 resolved), not the relay circuits: reservations are made again
        // from the relays configured.
        let listen: Vec<String> = self
            .net
            .listen_addrs()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|a| !a.contains("/p2p-circuit"))
            .collect();
        self.sessions.clear();
        self.senders.clear();
        self.joiners.clear();
        for task in std::mem::take(&mut self.sender_tasks) {
            task.abort();
        }
        self.paths.clear();
        if let Some(handover) = self.handover.take() {
            handover.shutdown().await;
        }
        if let Some(task) = self.transport_task.take() {
            task.abort();
        }
        self.net.shutdown().await;

        let allowed = allowed_peers(&self.replica, (self.clock)());
        let mut known = self.replica.peers().pairs();
        known.extend(self.start_peers.iter().cloned());
        let members: Vec<PublicKey> = self.replica.member_devices();
        known.extend(self.inherited_addresses(&members));
        let relays = relay_configs(&self.replica);
        let state = TransportState::new(&self.replica, allowed.clone(), relays.clone());
        let (net, events) = Net::spawn(NetConfig {
            key: self.replica.device_key(),
            listen,
            allowed: state.dial.clone(),
            known_addresses: known.clone(),
            mdns: self.mdns,
            relays: relays.clone(),
            accept_only: state.accept_only.clone(),
            limits: NetLimits::default(),
        })
        .await?;
        let handover = handover::Handover::start(
            &self.replica,
            state.dial.clone(),
            known,
            relays.clone(),
            self.mdns,
        )
        .await?;
        let (handover, handover_events) = handover.unzip();
        let (transport_tx, transport_rx) = tokio::sync::watch::channel(state.clone());
        self.transport_task = Some(tokio::spawn(apply_transport_state(
            net.clone(),
            state,
            transport_rx,
        )));
        self.transport = transport_tx;
        self.net = net.clone();
        self.handover = handover;
        self.allowed = allowed;
        self.relays = relays;
        self.identity = self.replica.public_key();
        match self.shared.lock() {
            Ok(mut shared) => *shared = (net, self.identity),
            Err(poisoned) => *poisoned.into_inner() = (net, self.identity),
        }
        tracing::info!(
            old = %super::short_key(&old),
            new = %super::short_key(&self.identity),
            "history erased: the node now runs under this device's new key"
        );
        Ok((events, handover_events))
    }

    /// Addresses to try for devices in `new` that nothing gave an address for: those of the
    /// device of the same organisation that added it (a device that moved to a new key after an
    /// erasure, or was restored on the same machine, listens where the old one did).
    pub(super) fn inherited_addresses(&self, new: &[PublicKey]) -> Vec<(PublicKey, String)> {
        let Some(log) = self.replica.membership() else {
            return Vec::new();
        };
        let mut book = self.replica.peers().pairs();
        book.extend(self.start_peers.iter().cloned());
        let mut out = Vec::new();
        for key in new {
            if book.iter().any(|(k, _)| k == key) {
                continue;
            }
            let Some(device) = log.state().device(key) else {
                continue;
            };
            let Some(author) = log.get(&device.added_by).map(|op| op.author()) else {
                continue;
            };
            let same_org = log
                .state()
                .device(&author)
                .or_else(|| {
                    log.state()
                        .revoked_devices()
                        .into_iter()
                        .find(|d| d.key == author)
                })
                .is_some_and(|d| d.org == device.org);
            if !same_org {
                continue;
            }
            out.extend(
                book.iter()
                    .filter(|(k, _)| *k == author)
                    .map(|(_, addr)| (*key, addr.clone())),
            );
        }
        out
    }
}
