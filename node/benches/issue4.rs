//! The benchmark of issue 4 §7: a revocation plus key rotation reaching every node of a
//! 10-node network over libp2p on loopback, next to one edit through the same network (the
//! baseline, measured in the same run, interleaved).
//!
//! ```text
//! cargo bench -p puente-node --bench issue4
//! PUENTE_BENCH_SAMPLES=50 PUENTE_BENCH_RUNNING_SAMPLES=10 cargo bench -p puente-node --bench issue4
//! ```
//!
//! Measured:
//! 1. **revoking an absent member**: 10 running nodes; node 0 founded the
//!    network (admin). Besides the 10, the log admits `samples + warmup` organisations whose
//!    devices never run, so every sample revokes a fresh one without shrinking the network.
//!    With more than 9 members a node keeps sessions only with its overlay targets
//!    (`node/src/net/overlay.rs`), so the running nodes form a connected overlay, not a full
//!    mesh, and a change reaches some of them through others.
//!    A sample times from the call to `Replica::revoke` on node 0 (inside
//!    `Node::with_control`: the `Revoke` op, the new epoch key sealed to every remaining
//!    member device and node 0's receipt, in one durable transaction) until every other node
//!    has applied the revocation **and** moved to the new epoch (it opened the key sealed to
//!    it). Also: until node 0 holds every remaining device's receipt (what `puente peer
//!    revocations` shows).
//! 2. **baseline, one edit**: before each revocation, one node (round-robin) adds an offer;
//!    timed from the `Node::add_offer` call (its durable write included, like the revocation's)
//!    until every other node's view holds it.
//! 3. **revoking a running node**: per sample an 11th node is started, admitted and joined
//!    to the overlay (a session with at least one of the 10), then revoked: until the 10 others applied it and moved to the new epoch, and
//!    until none of them has a session with it any more.
//! 4. **where the time goes**: the same operations on stores alone (no network), the log of
//!    the same size: `Replica::revoke` on the admin, and a member applying the three ops and
//!    writing its receipt (`apply_membership_and_follow_up`, as the node does); against
//!    `add_offer` and `ingest`.
//!
//! The network is quiet (no frame sent, nothing in flight) before each timed operation.
//! Arrival is polled through the nodes' public handles (`Node::with_control`,
//! `Node::offer_handles`), see `common/net.rs`, [`net::arrivals`].
//!
//! Environment: `PUENTE_BENCH_NODES` (default 10), `PUENTE_BENCH_SAMPLES` (§1/§2, default 30),
//! `PUENTE_BENCH_RUNNING_SAMPLES` (§3, default 10), `PUENTE_BENCH_DIR`. Results are in
//! `docs/performance.md`, "Issue 4: revocation".

#[path = "common/net.rs"]
mod net;

use std::time::{Duration, Instant};

use puente_crdt::OrgId;
use puente_node::actor::Node;
use puente_node::envelope::Epoch;
use puente_node::membership::{RevokeTarget, Role};
use puente_node::replica::Replica;
use tokio::runtime::Runtime;

use net::{
    NETWORK, NOW, Table, absent_device, admit, arrivals, bench_dir, connected, edit_offer,
    env_usize, init, listen_addr, load_average, machine, median, quiet, runtime, spawn, spread,
    tempdir,
};

/// How long one revocation or edit may take to reach every node before the run gives up.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Untimed rounds first (caches, connections, the first rotation).
const WARMUP: usize = 3;

/// The goal of issue 4 §7, in milliseconds.
const GOAL_MS: f64 = 50.0;

fn main() {
    let n = env_usize("PUENTE_BENCH_NODES", 10);
    let samples = env_usize("PUENTE_BENCH_SAMPLES", 30);
    let running_samples = env_usize("PUENTE_BENCH_RUNNING_SAMPLES", 10);
    println!("{}", machine());
    let base = bench_dir();
    std::fs::create_dir_all(&base).expect("the benchmark directory");
    let rt = runtime();
    let tmp = tempdir(&base, "issue4-");

    // The network: n running organisations and `absent` that never run.
    let absent = samples + WARMUP;
    let mut replicas: Vec<Replica> = (0..n)
        .map(|i| init(&tmp.path().join(format!("n{i}")), &format!("Org {i}")))
        .collect();
    let (first, rest) = replicas.split_first_mut().expect("nodes");
    first
        .create_network(NETWORK, NOW)
        .expect("the network is founded");
    let mut absent_orgs: Vec<OrgId> = Vec::new();
    for k in 0..absent {
        absent_orgs.push(admit_absent(first, k));
    }
    for (i, r) in rest.iter_mut().enumerate() {
        admit(first, r, &format!("Org {}", i + 1), Role::Member);
    }
    let ops_at_start = first.membership_ops().len();
    let nodes = rt.block_on(connected(replicas, TIMEOUT));

    let mut t = Table::new(&format!(
        "Issue 4: revocation and key rotation, {n} nodes on the overlay on loopback"
    ));
    // The running devices: the absent ones never confirm.
    let running: Vec<puente_node::identity::PublicKey> =
        nodes.iter().map(Node::public_key).collect();
    let mut edit = Vec::new();
    let mut revoke = Vec::new();
    let mut revoke_first = Vec::new();
    let mut receipts = Vec::new();
    let mut revoke_call = Vec::new();
    let mut sealed_to = Vec::new();
    for (k, &org) in absent_orgs.iter().enumerate() {
        // Baseline: one edit, from the add_offer call until every other node has it.
        rt.block_on(quiet(&nodes, TIMEOUT));
        let writer = k % n;
        let handle = format!("edit-{k}");
        let start = Instant::now();
        rt.block_on(nodes[writer].add_offer(edit_offer(&handle), NOW))
            .expect("the edit is written");
        let others: Vec<usize> = (0..n).filter(|&i| i != writer).collect();
        let got = arrivals(&rt, &nodes, others, start, TIMEOUT, "an edit", |node| {
            let handle = handle.clone();
            async move {
                let handles = node.offer_handles().await.expect("the node runs");
                handles.binary_search(&handle).is_ok()
            }
        });
        if k >= WARMUP {
            edit.push(net::max(&got));
        }

        // A revocation of a fresh absent organisation, from the revoke call until every
        // other node applied it and moved to the new epoch.
        rt.block_on(quiet(&nodes, TIMEOUT));
        let start = Instant::now();
        let (revocation, epoch, call, devices) = rt
            .block_on(nodes[0].with_control(move |c| {
                let s = Instant::now();
                let r = c.replica();
                let revoked = r
                    .revoke(RevokeTarget::Org(org), "benchmark", NOW)
                    .expect("revoked");
                assert!(revoked.rotated, "the admin rotates at once");
                let devices = r.member_devices().len() + 1;
                (revoked.revocation, revoked.epoch, s.elapsed(), devices)
            }))
            .expect("the node runs");
        let got = revocation_arrivals(&rt, &nodes, start, "a revocation", org, epoch);
        let all_receipts = arrivals(&rt, &nodes, vec![0], start, TIMEOUT, "receipts", |node| {
            let running = running.clone();
            async move {
                node.with_control(move |c| {
                    let state = c.replica().membership().expect("a network").state();
                    let receipts = state.receipts(&revocation);
                    running
                        .iter()
                        .all(|key| receipts.get(key).is_some_and(|e| *e == epoch))
                })
                .await
                .expect("the node runs")
            }
        });
        if k >= WARMUP {
            revoke.push(net::max(&got));
            revoke_first.push(got.iter().copied().fold(f64::MAX, f64::min));
            receipts.push(all_receipts[0]);
            revoke_call.push(call.as_secs_f64() * 1e3);
            sealed_to.push(devices as f64);
        }
    }
    let ops_at_end = rt
        .block_on(nodes[0].with_control(|c| c.replica().membership_ops().len()))
        .expect("the node runs");

    let (p50, base50) = (median(&revoke), median(&edit));
    t.row(
        "revocation + rotation reaches every node",
        spread(&revoke),
        spread(&edit),
        Some(p50 / base50),
        "p50 <= 50 ms",
        Some(p50 <= GOAL_MS),
    );
    t.info("  first node there (p50/p90/max)", spread(&revoke_first));
    t.info("  the revoke call on the admin", spread(&revoke_call));
    t.info("  every receipt back at the admin", spread(&receipts));
    t.info(
        "  new key sealed to (devices, first..last)",
        format!(
            "{:.0}..{:.0}",
            sealed_to.first().copied().unwrap_or(0.0),
            sealed_to.last().copied().unwrap_or(0.0)
        ),
    );
    t.info(
        "  membership log (ops, start..end)",
        format!("{ops_at_start}..{ops_at_end}"),
    );
    let third = (revoke.len() / 3).max(1);
    t.info(
        "  p50 of the first / last third of samples",
        format!(
            "{:.1} / {:.1} ms",
            median(&revoke[..third]),
            median(&revoke[revoke.len() - third..])
        ),
    );
    t.info(
        "samples",
        format!("{samples} (+{WARMUP} warm-up), interleaved"),
    );

    // §3: revoking a running node.
    let mut running_revoke = Vec::new();
    let mut cut = Vec::new();
    let addrs: Vec<(puente_node::identity::PublicKey, String)> = nodes
        .iter()
        .map(|node| (node.public_key(), rt.block_on(listen_addr(node))))
        .collect();
    for k in 0..running_samples + 1 {
        let mut joiner = init(
            &tmp.path().join(format!("victim{k}")),
            &format!("Victim {k}"),
        );
        let keys = joiner.device_keys();
        let ops = rt
            .block_on(nodes[0].with_control(move |c| {
                let r = c.replica();
                r.admit_org(&format!("Victim {k}"), Role::Member, keys, NOW)
                    .expect("admitted");
                r.membership_ops()
            }))
            .expect("the node runs");
        joiner.join(&ops, NETWORK).expect("joins");
        let org = joiner.org();
        let key = joiner.public_key();
        let victim = rt.block_on(spawn(joiner, addrs.clone()));
        rt.block_on(async {
            let start = Instant::now();
            loop {
                let mut any = false;
                for node in &nodes {
                    let s = node.status().await.expect("the node runs");
                    any |= s.peers.iter().any(|p| p.key == key && p.established);
                }
                if any {
                    break;
                }
                assert!(
                    start.elapsed() < TIMEOUT,
                    "the victim did not join the overlay"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let mut everyone = nodes.clone();
        everyone.push(victim.clone());
        rt.block_on(quiet(&everyone, TIMEOUT));
        let start = Instant::now();
        let epoch = rt
            .block_on(nodes[0].with_control(move |c| {
                c.replica()
                    .revoke(RevokeTarget::Org(org), "benchmark", NOW)
                    .expect("revoked")
                    .epoch
            }))
            .expect("the node runs");
        let got = revocation_arrivals(
            &rt,
            &nodes,
            start,
            "a running node's revocation",
            org,
            epoch,
        );
        let gone = arrivals(
            &rt,
            &nodes,
            (0..n).collect(),
            start,
            TIMEOUT,
            "cut off",
            |node| async move {
                let s = node.status().await.expect("the node runs");
                !s.sessions.contains(&key)
            },
        );
        rt.block_on(victim.shutdown());
        if k > 0 {
            running_revoke.push(net::max(&got));
            cut.push(net::max(&gone));
        }
    }
    if running_samples > 0 {
        t.row(
            "revoking a running node reaches every node",
            spread(&running_revoke),
            spread(&edit),
            Some(median(&running_revoke) / base50),
            "p50 <= 50 ms",
            Some(median(&running_revoke) <= GOAL_MS),
        );
        t.info("  the revoked node cut off everywhere", spread(&cut));
        t.info("samples", format!("{running_samples} (+1 warm-up)"));
    }
    for node in &nodes {
        rt.block_on(node.shutdown());
    }

    // §4: the same operations on stores alone.
    let names = [
        "  admin: revoke (op, rotation, receipt)",
        "  member: apply the 3 ops + its receipt",
        "  writer: add_offer",
        "  member: ingest the edit",
    ];
    let times = alone(&tmp.path().join("alone"), n, absent, samples);
    t.info("stores alone (no network), p50:", String::new());
    for (name, times) in names.iter().zip(&times) {
        t.info(name, format!("{:.2} ms", median(times)));
    }
    t.info("load average at the end", load_average());
    t.print();
}

/// Admits the organisation "Absent `k`" to `admin`'s network with a device that never runs;
/// returns its id.
fn admit_absent(admin: &mut Replica, k: usize) -> OrgId {
    let device = absent_device();
    admin
        .admit_org(&format!("Absent {k}"), Role::Member, device, NOW)
        .expect("admitted");
    puente_node::identity::org_id_for(&device.device)
}

/// From `start`, when each node but the admin (node 0) applied the revocation of `org` and
/// moved to `epoch`: milliseconds, in the order they got there. Panics with `what` after
/// [`TIMEOUT`].
fn revocation_arrivals(
    rt: &Runtime,
    nodes: &[Node],
    start: Instant,
    what: &str,
    org: OrgId,
    epoch: Epoch,
) -> Vec<f64> {
    arrivals(
        rt,
        nodes,
        (1..nodes.len()).collect(),
        start,
        TIMEOUT,
        what,
        |node| applied(node, org, epoch),
    )
}

/// Whether `node` applied the revocation of `org` and moved to `epoch`.
async fn applied(node: Node, org: OrgId, epoch: Epoch) -> bool {
    node.with_control(move |c| {
        let r = c.replica();
        r.epoch() == epoch
            && r.membership()
                .is_some_and(|log| log.state().is_revoked_org(&org))
    })
    .await
    .expect("the node runs")
}

/// §4: an admin and a member store with the same number of organisations as the network; per
/// sample the admin revokes an absent organisation and the member applies the ops and writes
/// its receipt, and the admin adds an offer that the member ingests. Milliseconds each.
fn alone(dir: &std::path::Path, n: usize, absent: usize, samples: usize) -> [Vec<f64>; 4] {
    std::fs::create_dir_all(dir).expect("a directory");
    let mut admin = init(&dir.join("admin"), "Org 0");
    let mut member = init(&dir.join("member"), "Org 1");
    admin.create_network(NETWORK, NOW).expect("founded");
    let mut orgs = Vec::new();
    for k in 0..absent + n - 2 {
        orgs.push(admit_absent(&mut admin, k));
    }
    admit(&mut admin, &mut member, "Org 1", Role::Member);
    let mut out: [Vec<f64>; 4] = Default::default();
    for (k, org) in orgs.into_iter().take(samples).enumerate() {
        let s = Instant::now();
        let revoked = admin
            .revoke(RevokeTarget::Org(org), "benchmark", NOW)
            .expect("revoked");
        out[0].push(s.elapsed().as_secs_f64() * 1e3);
        let s = Instant::now();
        // As the node does: the ops and its receipt in one durable transaction.
        let (_, receipt) = member
            .apply_membership_and_follow_up(&revoked.ops, NOW)
            .expect("applies");
        out[1].push(s.elapsed().as_secs_f64() * 1e3);
        assert_eq!(receipt.len(), 1, "one receipt, for this revocation only");
        admin.apply_membership(&receipt).expect("applies");

        let before = admin.version_vector();
        let s = Instant::now();
        admin
            .add_offer(edit_offer(&format!("alone-{k}")), NOW)
            .expect("added");
        out[2].push(s.elapsed().as_secs_f64() * 1e3);
        let envelopes = admin.envelopes_missing_from(&before).expect("log");
        let s = Instant::now();
        for e in &envelopes {
            member.ingest(e).expect("ingested");
        }
        out[3].push(s.elapsed().as_secs_f64() * 1e3);
    }
    out
}
