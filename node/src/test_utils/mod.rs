//! Fixtures shared by the node's integration tests and benchmarks: stores with fixed settings,
//! a network of stores admitted through the membership log, nodes on loopback, waiting by
//! condition ([`settle`]) and [`TestNet`], a small network of running nodes that can be
//! stopped, restarted, split and healed.
//!
//! Compiled only with the `test-utils` feature, which the crate's dev-dependency on itself
//! turns on for its own tests and benchmarks; the `puente` binary never enables it. Every
//! helper panics when something fails: a failure here is a failed test.
//!
//! Boundary: nothing here touches the public network. Nodes listen on loopback and dial only
//! the addresses they are given; mDNS stays off.

mod testnet;

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use puente_crdt::Time;
use puente_crdt::test_utils::SAMPLE_TZ;

use crate::actor::{Node, NodeConfig};
use crate::identity::PublicKey;
use crate::membership::Role;
use crate::replica::{InitOptions, Replica};

pub use testnet::TestNet;

/// The passphrase of every test and benchmark store.
pub const PASS: &[u8] = b"a long test passphrase";

/// The tests' "now" (2026-11-18): when stores are created, members admitted and offers written.
pub const NOW: Time = Time(1_795_000_000);

/// The name of the network every test and benchmark network is founded with.
pub const NETWORK: &str = "Test Network";

/// Where nodes listen: loopback, on a port the system picks.
pub const LOOPBACK: &str = "/ip4/127.0.0.1/tcp/0";

/// How long [`settle`] waits for its condition: far longer than loopback sync takes on a
/// loaded two-core machine, short enough that a broken test fails in seconds.
pub const SETTLE: Duration = Duration::from_secs(10);

/// The pause between two checks of [`settle`]'s condition.
const SETTLE_POLL: Duration = Duration::from_millis(20);

/// A new store in `dir` for the organisation `name`, serving Sacramento County (06067) in
/// [`SAMPLE_TZ`], created at [`NOW`] with [`PASS`].
pub fn init(dir: &Path, name: &str) -> Replica {
    Replica::init(
        dir,
        PASS,
        InitOptions {
            name: name.into(),
            counties: vec!["06067".parse().expect("06067 is a county code")],
            intake: "hotline".into(),
            tz: SAMPLE_TZ.into(),
        },
        NOW,
    )
    .expect("init succeeds")
}

/// `n` stores in `dir/n0` .. `dir/n{n-1}` (organisations "Org 0" ..) on one network, founded by
/// the first and each other admitted as a member through the membership log.
pub fn network(dir: &Path, n: usize) -> Vec<Replica> {
    network_with_admins(dir, n, &[])
}

/// As [`network`], but the organisations at the indices in `admins` are admitted as admins.
pub fn network_with_admins(dir: &Path, n: usize, admins: &[usize]) -> Vec<Replica> {
    let mut replicas: Vec<Replica> = (0..n)
        .map(|i| init(&dir.join(format!("n{i}")), &format!("Org {i}")))
        .collect();
    let (first, rest) = replicas.split_first_mut().expect("at least one store");
    first.create_network(NETWORK, NOW).expect("founded");
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
        r.join(&ops, NETWORK).expect("joins");
    }
    replicas
}

/// Starts `replica` as a node listening on [`LOOPBACK`] that dials `peers`.
pub async fn spawn(replica: Replica, peers: Vec<(PublicKey, String)>) -> Node {
    Node::spawn(
        replica,
        NodeConfig {
            listen: vec![LOOPBACK.into()],
            peers,
            ..NodeConfig::default()
        },
    )
    .await
    .expect("the node starts")
}

/// The first address `node` listens on.
pub async fn listen_addr(node: &Node) -> String {
    node.listen_addrs()
        .await
        .expect("the node runs")
        .into_iter()
        .next()
        .expect("the node listens")
}

/// Polls `cond` until it holds; panics with `what` after [`SETTLE`]. Tests wait for
/// convergence this way, never by sleeping a fixed time.
pub async fn settle<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < SETTLE, "did not settle: {what}");
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

/// Whether the handles of the offers `node` holds are exactly `handles` (in their sorted order).
pub async fn has(node: &Node, handles: &[&str]) -> bool {
    node.offer_handles().await.expect("the node runs") == handles
}
