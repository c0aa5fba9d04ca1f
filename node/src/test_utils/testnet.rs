//! `TestNet`: several real nodes over loopback libp2p, each with its own encrypted store in a
//! temporary directory, admitted through the membership log. Nodes can be stopped and
//! restarted from their stores, the network can be split into groups that cannot reach each
//! other (every node restarts knowing only its group's addresses, so no connection crosses),
//! healed, and waited on by condition ([`settle`](super::settle)).

use std::collections::BTreeMap;
use std::path::PathBuf;

use puente_crdt::{HoldId, HoldStatus, OfferId, OrgId, Time, WindowId};

use super::{NOW, PASS, listen_addr, network_with_admins, spawn};
use crate::actor::{Node, NodeStatus};
use crate::identity::PublicKey;
use crate::membership::MemberState;
use crate::replica::{HoldRequest, Replica};

/// A network of real nodes on loopback, node `i` being organisation "Org i" with its store in
/// `dirs[i]`. The stores live in a temporary directory removed when the `TestNet` is dropped;
/// dropping it stops every node.
#[derive(Debug)]
pub struct TestNet {
    _tmp: tempfile::TempDir,
    /// Each node's data directory.
    pub dirs: Vec<PathBuf>,
    /// Each node's device key.
    pub keys: Vec<PublicKey>,
    /// Each node's organisation.
    pub orgs: Vec<OrgId>,
    /// The running nodes; `None` while stopped.
    nodes: Vec<Option<Node>>,
    /// Where each running node listens; `None` while stopped.
    addrs: Vec<Option<String>>,
}

impl TestNet {
    /// `n` nodes in a full mesh; node 0 founded the network and admitted the others as members.
    pub async fn new(n: usize) -> TestNet {
        TestNet::with_admins(n, &[]).await
    }

    /// `n` nodes in a full mesh; node 0 founded the network and the organisations of the nodes
    /// in `admins` were admitted as admins too.
    pub async fn with_admins(n: usize, admins: &[usize]) -> TestNet {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let replicas = network_with_admins(tmp.path(), n, admins);
        let dirs = replicas.iter().map(|r| r.dir().to_path_buf()).collect();
        let keys = replicas.iter().map(Replica::public_key).collect();
        let orgs = replicas.iter().map(Replica::org).collect();
        drop(replicas);
        let mut net = TestNet {
            _tmp: tmp,
            dirs,
            keys,
            orgs,
            nodes: (0..n).map(|_| None).collect(),
            addrs: vec![None; n],
        };
        let all: Vec<usize> = (0..n).collect();
        for i in 0..n {
            net.start(i, &all).await;
        }
        net
    }

    /// Running node `i`.
    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("node running")
    }

    /// Where node `i` listens, while it runs.
    pub fn addr(&self, i: usize) -> Option<&str> {
        self.addrs[i].as_deref()
    }

    /// Starts node `i` from its store, dialling the running nodes among `peers`.
    pub async fn start(&mut self, i: usize, peers: &[usize]) {
        let replica = Replica::open(&self.dirs[i], PASS).expect("reopens");
        let known = peers
            .iter()
            .filter(|p| **p != i)
            .filter_map(|p| self.addrs[*p].clone().map(|a| (self.keys[*p], a)))
            .collect();
        let node = spawn(replica, known).await;
        self.addrs[i] = Some(listen_addr(&node).await);
        self.nodes[i] = Some(node);
    }

    /// Stops node `i` cleanly (its store is flushed and closed).
    pub async fn stop(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            node.shutdown().await;
        }
        self.addrs[i] = None;
    }

    /// Splits the network: every node restarts knowing only the addresses of its own group.
    pub async fn partition(&mut self, groups: &[&[usize]]) {
        for i in 0..self.nodes.len() {
            self.stop(i).await;
        }
        for group in groups {
            for &i in *group {
                self.start(i, group).await;
            }
        }
    }

    /// Lets running node `i` reach running node `j` (they connect; nobody else is told).
    pub async fn connect(&self, i: usize, j: usize) {
        let addr = self.addrs[j].as_deref().expect("node j running");
        self.node(i)
            .add_peer(self.keys[j], addr)
            .await
            .expect("running");
    }

    /// Node `i`'s status.
    pub async fn status(&self, i: usize) -> NodeStatus {
        self.node(i).status().await.expect("running")
    }

    /// Node `i`'s resolved membership.
    pub async fn state(&self, i: usize) -> MemberState {
        self.with(i, |r| r.membership().expect("network").state().clone())
            .await
    }

    /// Lets every running node reach every other.
    pub async fn heal(&self) {
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            for (j, addr) in self.addrs.iter().enumerate() {
                if let Some(addr) = addr
                    && i != j
                {
                    node.add_peer(self.keys[j], addr).await.expect("running");
                }
            }
        }
    }

    /// Runs `f` on node `i`'s replica.
    pub async fn with<R: Send + 'static>(
        &self,
        i: usize,
        f: impl FnOnce(&mut Replica) -> R + Send + 'static,
    ) -> R {
        self.node(i)
            .with_control(move |c| f(c.replica()))
            .await
            .expect("running")
    }

    /// The handles of every offer node `i` holds, sorted.
    pub async fn handles(&self, i: usize) -> Vec<String> {
        self.node(i).offer_handles().await.expect("running")
    }

    /// Places a hold of `qty` on `window` of `owner`'s offer `offer` at node `i`, at time `at`.
    pub async fn place_hold(
        &self,
        i: usize,
        (owner, offer, window): (OrgId, OfferId, WindowId),
        qty: u32,
        at: Time,
    ) -> HoldId {
        self.with(i, move |r| {
            r.place_hold(
                HoldRequest {
                    owner,
                    offer,
                    window,
                    qty,
                    interval: None,
                },
                at,
            )
            .expect("held")
        })
        .await
    }

    /// Every hold's verdict on node `i`, for offer `offer` of organisation `owner`.
    pub async fn verdicts(
        &self,
        i: usize,
        owner: OrgId,
        offer: OfferId,
    ) -> BTreeMap<HoldId, HoldStatus> {
        self.with(i, move |r| {
            r.view()
                .verdicts(owner, offer, NOW.plus(600))
                .into_iter()
                .map(|v| (v.hold.id, v.status))
                .collect()
        })
        .await
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        // Nodes stop when their handles are dropped; stores close with them.
        self.nodes.clear();
    }
}
