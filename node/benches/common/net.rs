//! Helpers for the benchmarks that run real nodes over libp2p on loopback: admission, a
//! connected overlay, waiting for quiet and for a condition on every node, a founder holding
//! generated offers, and, passed on from `common/table.rs` and `common/settings.rs`, the
//! statistics, the machine line, the results table and the settings. Stores, networks and
//! spawning on loopback come from `puente_node::test_utils`, as in the integration tests. A
//! benchmark takes it in with `#[path = "common/net.rs"] mod net;`; each uses a part of it.

#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use puente_crdt::NewOffer;
use puente_crdt::test_utils::{SAMPLE_TZ, sample_offer};
use puente_node::actor::{Node, NodeStatus};
use puente_node::identity::{AgreementSecret, PublicKey, SecretKey};
use puente_node::membership::{DeviceKeys, Role};
use puente_node::replica::Replica;
use tokio::runtime::Runtime;

#[path = "settings.rs"]
mod settings;
#[path = "table.rs"]
mod table;

/// The settings, statistics and table every benchmark uses (each a part of them).
#[allow(unused_imports)]
pub use settings::{bench_dir, env_usize, sizes};
#[allow(unused_imports)]
pub use table::{Table, kb, load_average, machine, max, median, mib, pct, spread};

/// The stores, nodes and constants the benchmarks share with the integration tests (each
/// benchmark uses a part of them, as of the rest of this file).
#[allow(unused_imports)]
pub use puente_node::test_utils::{
    LOOPBACK, NETWORK, NOW, PASS, init, listen_addr, network, spawn,
};

/// The organisations' time zone.
pub const TZ: &str = SAMPLE_TZ;

/// Worker threads of the runtime the nodes run on: the machine's two cores, as in the tests.
pub const WORKER_THREADS: usize = 2;

/// The pause between two status rounds while waiting for quiet.
pub const QUIET_POLL: Duration = Duration::from_millis(5);

/// Status rounds in a row with no new frame and nothing in flight that count as quiet.
const QUIET_ROUNDS: usize = 3;

/// The pause between two rounds of [`arrivals`]: a figure is late by at most one round.
pub const ARRIVAL_POLL: Duration = Duration::from_micros(250);

pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

pub fn tempdir(base: &Path, prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base)
        .expect("a temporary directory")
}

/// Admits `joiner` to the network of `admin` with `role` and has it join.
pub fn admit(admin: &mut Replica, joiner: &mut Replica, name: &str, role: Role) {
    admin
        .admit_org(name, role, joiner.device_keys(), NOW)
        .expect("the organisation is admitted");
    joiner
        .join(&admin.membership_ops(), NETWORK)
        .expect("the organisation joins");
}

/// The founder's store in `founder` reopened, and a fresh organisation `name` with its store in
/// `dir`, admitted to the founder's network as a member and joined; returns both.
pub fn founder_and_partner(founder: &Path, dir: &Path, name: &str) -> (Replica, Replica) {
    let mut a = Replica::open(founder, PASS).expect("the founder reopens");
    let mut b = init(dir, name);
    admit(&mut a, &mut b, name, Role::Member);
    (a, b)
}

/// A store in `dir` founding the network and holding `offers` from one import (1,000 offers
/// per envelope), snapshotted and closed; returns its device key.
pub fn prepare_founder(dir: &Path, offers: Vec<NewOffer>) -> PublicKey {
    let mut r = init(dir, "Bench Founder");
    r.create_network(NETWORK, NOW)
        .expect("the network is founded");
    r.import_offers(offers, NOW, &mut |_| {})
        .expect("the offers import");
    r.snapshot().expect("snapshot");
    let key = r.public_key();
    r.close().expect("close");
    key
}

/// Copies the data directory `from` to `to` (private, as the store requires).
pub fn copy_store(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(to).expect("the copy's directory can be created");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700))
        .expect("the copy's directory can be made private");
    for entry in std::fs::read_dir(from).expect("the data directory is readable") {
        let entry = entry.expect("a directory entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("a file is copied");
    }
}

/// Keys of a device that never runs: enough to admit (and later revoke) an organisation.
pub fn absent_device() -> DeviceKeys {
    DeviceKeys {
        device: SecretKey::generate().public(),
        agreement: AgreementSecret::generate().public(),
    }
}

/// Starts `replicas` as nodes (each given the addresses of the ones started before it) and
/// waits until their established sessions connect every node to every other, directly or
/// through others. In a network of more than `FULL_MESH_MAX + 1` members a node keeps sessions
/// only with its overlay targets (`net/overlay.rs`), so a full mesh is not what forms there.
pub async fn connected(replicas: Vec<Replica>, timeout: Duration) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut keys: Vec<PublicKey> = Vec::new();
    let mut known: Vec<(PublicKey, String)> = Vec::new();
    for replica in replicas {
        let key = replica.public_key();
        let node = spawn(replica, known.clone()).await;
        known.push((key, listen_addr(&node).await));
        keys.push(key);
        nodes.push(node);
    }
    let start = Instant::now();
    loop {
        let mut edges: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
        for node in &nodes {
            let s = node.status().await.expect("the node runs");
            edges.push(
                s.peers
                    .iter()
                    .filter(|p| p.established)
                    .filter_map(|p| keys.iter().position(|k| *k == p.key))
                    .collect(),
            );
        }
        if reaches_all(&edges) {
            return nodes;
        }
        assert!(start.elapsed() < timeout, "the nodes did not connect");
        tokio::time::sleep(QUIET_POLL).await;
    }
}

/// Whether every node is reachable from the first over `edges` (node index → the indexes it
/// has a session with; a session counts in both directions).
pub fn reaches_all(edges: &[Vec<usize>]) -> bool {
    let n = edges.len();
    let mut adjacent = vec![Vec::new(); n];
    for (i, out) in edges.iter().enumerate() {
        for &j in out {
            adjacent[i].push(j);
            adjacent[j].push(i);
        }
    }
    let mut seen = vec![false; n];
    let mut stack = vec![0];
    while let Some(i) = stack.pop() {
        if n == 0 || std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(adjacent[i].iter().copied());
    }
    seen.iter().all(|s| *s)
}

/// Waits until no node has a batch in flight and no node sent or received a frame for
/// [`QUIET_ROUNDS`] status rounds; returns the statuses then.
pub async fn quiet(nodes: &[Node], timeout: Duration) -> Vec<NodeStatus> {
    let start = Instant::now();
    let mut last: Option<Vec<(u64, u64)>> = None;
    let mut rounds = 0;
    loop {
        let mut statuses = Vec::with_capacity(nodes.len());
        for node in nodes {
            statuses.push(node.status().await.expect("the node runs"));
        }
        let counters: Vec<(u64, u64)> = statuses
            .iter()
            .map(|s| (s.frames_sent, s.frames_received))
            .collect();
        let idle = statuses
            .iter()
            .all(|s| s.peers.iter().all(|p| p.in_flight == 0));
        if idle && last.as_ref() == Some(&counters) {
            rounds += 1;
            if rounds >= QUIET_ROUNDS {
                return statuses;
            }
        } else {
            rounds = 0;
        }
        last = Some(counters);
        assert!(start.elapsed() < timeout, "the nodes did not fall quiet");
        tokio::time::sleep(QUIET_POLL).await;
    }
}

/// Asks every node of `pending` whether `check` holds, in rounds: the requests of a round all
/// in flight at once and each answer timed as it arrives (so a busy node does not delay seeing
/// another's), [`ARRIVAL_POLL`] between rounds, until it holds on every one. Returns, per node
/// in the order they got there, the milliseconds since `start`. Panics with `what` after
/// `timeout`.
pub fn arrivals<F, Fut>(
    rt: &Runtime,
    nodes: &[Node],
    mut pending: Vec<usize>,
    start: Instant,
    timeout: Duration,
    what: &str,
    check: F,
) -> Vec<f64>
where
    F: Fn(Node) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let mut arrived = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let asks: Vec<(usize, tokio::task::JoinHandle<(bool, Instant)>)> = pending
            .iter()
            .map(|&i| {
                let ask = check(nodes[i].clone());
                (i, rt.spawn(async move { (ask.await, Instant::now()) }))
            })
            .collect();
        pending.clear();
        for (i, ask) in asks {
            let (done, at) = rt.block_on(ask).expect("the poll task runs");
            if done {
                arrived.push((at - start).as_secs_f64() * 1e3);
            } else {
                pending.push(i);
            }
        }
        if !pending.is_empty() {
            assert!(
                start.elapsed() < timeout,
                "{what}: not every node got there"
            );
            std::thread::sleep(ARRIVAL_POLL);
        }
    }
    arrived
}

/// A small offer, as one edit writes: the sample offer, its window starting at [`NOW`].
pub fn edit_offer(handle: &str) -> NewOffer {
    sample_offer(handle, NOW)
}
