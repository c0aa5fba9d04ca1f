//! `TestNet`: several real nodes over loopback libp2p, each with its own encrypted store in a
//! temporary directory, admitted through the membership log. Nodes can be stopped and
//! restarted from their stores, the network can be split into groups that cannot reach each
//! other (every node restarts knowing only its group's addresses, so no connection crosses),
//! healed, and waited on by condition.

use std::collections::BTreeMap;
use std::path::PathBuf;

use puente_crdt::{HoldId, HoldStatus, OfferId, OrgId, Partition, WindowId};
use puente_node::actor::{Node, NodeStatus};
use puente_node::envelope::{Envelope, Epoch};
use puente_node::identity::PublicKey;
use puente_node::membership::{MemberState, Role};
use puente_node::net::{Net, NetConfig, NetEvent, NetLimits};
use puente_node::replica::{HoldRequest, Replica};
use puente_node::sync::{ByeReason, Hello, Message};

use crate::network::{addr, has, network, settle, spawn};
use crate::support::{NOW, PASS, init, offer};

pub(crate) struct TestNet {
    _tmp: tempfile::TempDir,
    pub(crate) dirs: Vec<PathBuf>,
    pub(crate) keys: Vec<PublicKey>,
    pub(crate) orgs: Vec<OrgId>,
    nodes: Vec<Option<Node>>,
    addrs: Vec<Option<String>>,
}

impl TestNet {
    /// `n` nodes in a full mesh.
    pub(crate) async fn new(n: usize) -> TestNet {
        let tmp = tempfile::tempdir().expect("tempdir");
        let replicas = network(tmp.path(), n);
        TestNet::from_replicas(tmp, replicas).await
    }

    /// `n` nodes in a full mesh; node 0 founded the network and the organisations of the nodes
    /// in `admins` were admitted as admins too.
    pub(crate) async fn with_admins(n: usize, admins: &[usize]) -> TestNet {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut replicas: Vec<Replica> = (0..n)
            .map(|i| init(&tmp.path().join(format!("n{i}")), &format!("Org {i}")))
            .collect();
        let (first, rest) = replicas.split_first_mut().expect("at least one");
        first.create_network("Test Network", NOW).expect("founded");
        for (i, r) in rest.iter_mut().enumerate() {
            let role = if admins.contains(&(i + 1)) {
                Role::Admin
            } else {
                Role::Member
            };
            first
                .admit_org(&format!("Org {}", i + 1), role, r.device_keys(), NOW)
                .expect("admitted");
        }
        let ops = first.membership_ops();
        for r in rest {
            r.join(&ops, "Test Network").expect("joins");
        }
        TestNet::from_replicas(tmp, replicas).await
    }

    async fn from_replicas(tmp: tempfile::TempDir, replicas: Vec<Replica>) -> TestNet {
        let n = replicas.len();
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

    pub(crate) fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("node running")
    }

    /// Starts node `i` from its store, dialling the running nodes among `peers`.
    pub(crate) async fn start(&mut self, i: usize, peers: &[usize]) {
        let replica = Replica::open(&self.dirs[i], PASS).expect("reopens");
        let known = peers
            .iter()
            .filter(|p| **p != i)
            .filter_map(|p| self.addrs[*p].clone().map(|a| (self.keys[*p], a)))
            .collect();
        let node = spawn(replica, known).await;
        self.addrs[i] = Some(addr(&node).await);
        self.nodes[i] = Some(node);
    }

    /// Stops node `i` cleanly (its store is flushed and closed).
    pub(crate) async fn stop(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            node.shutdown().await;
        }
        self.addrs[i] = None;
    }

    /// Splits the network: every node restarts knowing only the addresses of its own group.
    pub(crate) async fn partition(&mut self, groups: &[&[usize]]) {
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
    pub(crate) async fn connect(&self, i: usize, j: usize) {
        let addr = self.addrs[j].as_deref().expect("node j running");
        self.node(i)
            .add_peer(self.keys[j], addr)
            .await
            .expect("running");
    }

    /// Node `i`'s status.
    pub(crate) async fn status(&self, i: usize) -> NodeStatus {
        self.node(i).status().await.expect("running")
    }

    /// Node `i`'s resolved membership.
    pub(crate) async fn state(&self, i: usize) -> MemberState {
        self.with(i, |r| r.membership().expect("network").state().clone())
            .await
    }

    /// Lets every running node reach every other.
    pub(crate) async fn heal(&self) {
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
    pub(crate) async fn with<R: Send + 'static>(
        &self,
        i: usize,
        f: impl FnOnce(&mut Replica) -> R + Send + 'static,
    ) -> R {
        self.node(i)
            .with_control(move |c| f(c.replica()))
            .await
            .expect("running")
    }

    pub(crate) async fn handles(&self, i: usize) -> Vec<String> {
        self.node(i).offer_handles().await.expect("running")
    }

    /// Every hold's verdict on node `i`, for offer `offer` of organisation `owner`.
    pub(crate) async fn verdicts(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_offline_during_changes_catches_up_after_restart() {
    let mut net = TestNet::new(3).await;
    net.stop(2).await;
    net.node(0)
        .add_offer(offer("while-c-was-away-a"), NOW)
        .await
        .expect("added");
    net.node(1)
        .add_offer(offer("while-c-was-away-b"), NOW)
        .await
        .expect("added");
    // C comes back knowing only A's address; B's offer reaches it through A.
    net.start(2, &[0]).await;
    let both = ["while-c-was-away-a", "while-c-was-away-b"];
    settle("C caught up", || async { has(net.node(2), &both).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_and_heal_with_concurrent_edits_and_holds() {
    let mut net = TestNet::new(4).await;
    // One shared offer with a window of 2 beds, known everywhere before the split.
    let owner = net.orgs[0];
    let offer_id = net
        .node(0)
        .add_offer(offer("shared-bed"), NOW)
        .await
        .expect("added");
    settle("everyone has the offer", || async {
        let mut all = true;
        for i in 0..4 {
            all &= has(net.node(i), &["shared-bed"]).await;
        }
        all
    })
    .await;
    let window: WindowId = net
        .with(1, move |r| {
            r.view().offer(owner, offer_id).expect("synced").windows[0].id
        })
        .await;

    net.partition(&[&[0, 1], &[2, 3]]).await;
    // Concurrent writes on both sides: new offers, and holds that together overbook the window.
    net.node(0)
        .add_offer(offer("side-one"), NOW)
        .await
        .expect("added");
    net.node(2)
        .add_offer(offer("side-two"), NOW)
        .await
        .expect("added");
    let hold = |qty: u32, at: i64| {
        move |r: &mut Replica| {
            r.place_hold(
                HoldRequest {
                    owner,
                    offer: offer_id,
                    window,
                    qty,
                    interval: None,
                },
                NOW.plus(at),
            )
            .expect("held")
        }
    };
    let h1 = net.with(1, hold(1, 10)).await;
    let h3 = net.with(3, hold(2, 20)).await;
    let h2 = net.with(2, hold(1, 30)).await;
    // While split, each side sees only its own writes.
    settle("each side converged on its own", || async {
        has(net.node(1), &["shared-bed", "side-one"]).await
            && has(net.node(3), &["shared-bed", "side-two"]).await
    })
    .await;
    assert!(!net.handles(0).await.contains(&"side-two".to_string()));

    net.heal().await;
    let all = ["shared-bed", "side-one", "side-two"];
    settle("everyone converged after healing", || async {
        let mut ok = true;
        for i in 0..4 {
            ok &= has(net.node(i), &all).await;
            ok &= net.verdicts(i, owner, offer_id).await.len() == 3;
        }
        ok
    })
    .await;
    let reference = net.verdicts(0, owner, offer_id).await;
    for i in 1..4 {
        assert_eq!(
            net.verdicts(i, owner, offer_id).await,
            reference,
            "node {i}"
        );
    }
    // Holds are judged in creation order against the window's 2 beds, whatever order each
    // node learned them in: the first (1 bed) fits, the second (2 more) does not, the third
    // (1 more) fits.
    assert_eq!(reference[&h1], HoldStatus::Pending);
    assert_eq!(reference[&h3], HoldStatus::Overbooked);
    assert_eq!(reference[&h2], HoldStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_forged_and_tampered_envelopes_are_rejected() {
    let mut net = TestNet::new(3).await;
    // Node 2 is a member whose device turns hostile: stop its node and speak the protocol by
    // hand with its key.
    net.stop(2).await;
    let mallory = Replica::open(&net.dirs[2], PASS).expect("reopens");
    let network = mallory.network();
    let key_m = mallory.public_key();
    let device = mallory.device_key();
    let mut mallory = mallory;
    mallory
        .add_offer(offer("mallory-honest"), NOW)
        .expect("added");
    let vector = mallory.version_vector();
    let own = mallory
        .envelopes_missing_from(&BTreeMap::new())
        .expect("log readable");
    let epoch_key = {
        // A real member holds the epoch key; sealing with it is what a forger would do.
        let keys = mallory.network_secret().1;
        puente_node::seal::SymmetricKey::from_bytes(&keys[4..36].try_into().expect("32 bytes"))
    };
    drop(mallory);
    // A well-formed change signed by Mallory but written into node 0's partition: the
    // authority check refuses it (Mallory's device writes only for its own organisation).
    let mut p = Partition::new(net.orgs[0], key_m.as_bytes());
    p.add_offer(
        OfferId::from_bytes([7; 10]),
        &offer("mallory-forged"),
        &[WindowId::from_bytes([8; 10])],
        NOW,
    )
    .expect("valid");
    let change = p.commit().expect("a change");
    let forged = Envelope::seal(
        network,
        net.orgs[0],
        &device,
        vector.get(&key_m).copied().unwrap_or(0) + 1,
        Epoch(0),
        &epoch_key,
        &[change],
    )
    .expect("seals")
    .to_bytes();
    // Mallory's latest honest envelope with one ciphertext byte flipped: the signature fails.
    let mut tampered = own.last().expect("an envelope").clone();
    let n = tampered.len();
    tampered[n - 80] ^= 1;

    let (raw, mut events) = Net::spawn(NetConfig {
        key: device,
        listen: vec![],
        allowed: vec![net.keys[0]],
        known_addresses: vec![(net.keys[0], net.addrs[0].clone().expect("running"))],
        mdns: false,
        relays: Vec::new(),
        accept_only: Vec::new(),
        limits: NetLimits::default(),
    })
    .await
    .expect("transport starts");
    // Wait for the connection, then send a Hello and a batch holding the bad envelopes.
    loop {
        match events.recv().await.expect("transport running") {
            NetEvent::Connected(peer) if peer == net.keys[0] => break,
            _ => {}
        }
    }
    let hello = Message::Hello(Hello {
        network,
        reply: false,
        heads: Vec::new(),
        vector,
    });
    raw.send(net.keys[0], hello.encode()).await.expect("sent");
    let batch = Message::Envelopes {
        batch: 1,
        direct: Vec::new(),
        envelopes: vec![forged, tampered],
    };
    raw.send(net.keys[0], batch.encode()).await.expect("sent");
    // Node 0 says goodbye for misbehaviour and closes the connection.
    let mut bye = None;
    while let Ok(Some(event)) =
        tokio::time::timeout(std::time::Duration::from_secs(10), events.recv()).await
    {
        match event {
            NetEvent::Frame { bytes, .. } => {
                if let Ok(Message::Bye(reason)) = Message::decode(&bytes) {
                    bye = Some(reason);
                }
            }
            NetEvent::Disconnected(peer) if peer == net.keys[0] => break,
            _ => {}
        }
    }
    assert_eq!(bye, Some(ByeReason::Misbehaviour));
    raw.shutdown().await;
    // Nothing of it was applied, and node 0 goes on serving node 1.
    assert!(
        !net.handles(0)
            .await
            .iter()
            .any(|h| h.starts_with("mallory"))
    );
    assert!(
        !net.node(0)
            .status()
            .await
            .expect("running")
            .sessions
            .contains(&key_m)
    );
    net.node(1)
        .add_offer(offer("after-the-attack"), NOW)
        .await
        .expect("added");
    settle("node 0 still syncs with node 1", || async {
        net.handles(0)
            .await
            .contains(&"after-the-attack".to_string())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_the_addresses_members_tell_it_and_dials_them_after_a_restart() {
    let mut net = TestNet::new(2).await;
    // Node 1 dialled node 0 (TestNet starts nodes in order); identify told node 0 where node
    // 1 listens, and node 0 keeps it.
    let key_1 = net.keys[1];
    settle("node 0 kept node 1's address", || async {
        net.with(0, move |r| !r.peers().addresses(&key_1).is_empty())
            .await
    })
    .await;
    // Node 0 restarts on a new port, told nothing: node 1 cannot find it, so node 0 must
    // dial node 1 from what it kept.
    net.stop(0).await;
    net.start(0, &[]).await;
    settle("node 0 reconnected to node 1 by itself", || async {
        net.node(0)
            .status()
            .await
            .expect("running")
            .sessions
            .contains(&key_1)
    })
    .await;
}
