//! The benchmark of issue 9 §8, "seventy organisations": networks of 10, 20, 40 and 70 real
//! nodes over libp2p on loopback, in one process, one run.
//!
//! ```text
//! cargo bench -p puente-node --bench issue9_scale
//! PUENTE_BENCH_SIZES=10,20 PUENTE_BENCH_EDITS=10 cargo bench -p puente-node --bench issue9_scale
//! ```
//!
//! Per network size N:
//! 1. **the network forms**: every node is told every other node's address (as a coordinator's
//!    address book would), and dials only its ring targets (`node/src/net/overlay.rs`): up to 8
//!    other members it dials everyone, beyond that about 2 log2 N. Reported: connections
//!    (sync sessions) per node, mean and max, against N - 1 for a full mesh.
//! 2. **a membership change**: node 0 (the founder, admin) admits an organisation whose
//!    device never runs (a join: `AddOrg` and the epoch key shared with it), then changes its
//!    role (`SetRole`). Timed until every node applied it; frames sent by all nodes from the
//!    call until the network is quiet again. Reported per change: frames, frames per node
//!    (flat when the cost is O(N)), and bytes.
//! 3. at the largest N and at N = 10 (the baseline): **one edit reaching every node**, p50
//!    and p99 over `PUENTE_BENCH_EDITS` edits from rotating writers, until every other node's
//!    view has it.
//! 4. at the largest N: **idle** CPU and resident memory per node over 10 s of quiet
//!    (process-wide figures divided by N: everything in this process is the nodes).
//!
//! Environment: `PUENTE_BENCH_SIZES` (default `10,20,40,70`), `PUENTE_BENCH_EDITS` (default
//! 30), `PUENTE_BENCH_DIR`. Results: `docs/performance.md`, "Issue 9 §8".

#[path = "common/net.rs"]
mod net;

use std::time::{Duration, Instant};

use puente_crdt::OrgId;
use puente_node::actor::Node;
use puente_node::identity::org_id_for;
use puente_node::membership::Role;
use puente_node::replica::Replica;
use tokio::runtime::Runtime;

use net::{
    NETWORK, NOW, Table, absent_device, admit, arrivals, bench_dir, edit_offer, env_usize, init,
    listen_addr, load_average, machine, median, pct, quiet, runtime, sizes, spawn, tempdir,
};

/// How long one change may take to reach every node before the run gives up.
const TIMEOUT: Duration = Duration::from_secs(60);

/// How long the idle figures are measured.
const IDLE: Duration = Duration::from_secs(10);

struct Size {
    n: usize,
    sessions_mean: f64,
    sessions_max: usize,
    formed_ms: f64,
    join_frames: u64,
    join_bytes: u64,
    join_ms: f64,
    role_frames: u64,
    role_bytes: u64,
    role_ms: f64,
}

fn main() {
    // Sizes from `PUENTE_BENCH_SIZES` only: this benchmark takes no arguments.
    let sizes = sizes(&[], &[10, 20, 40, 70]);
    let edits = env_usize("PUENTE_BENCH_EDITS", 30);
    println!("{}", machine());
    let base = bench_dir();
    std::fs::create_dir_all(&base).expect("the benchmark directory");
    let rt = runtime();
    let largest = sizes.iter().copied().max().unwrap_or(10);

    let mut results = Vec::new();
    let mut edit_small: Vec<f64> = Vec::new();
    let mut edit_large: Vec<f64> = Vec::new();
    let mut frames_small: Vec<f64> = Vec::new();
    let mut frames_large: Vec<f64> = Vec::new();
    let mut idle = None;
    for &n in &sizes {
        let tmp = tempdir(&base, "issue9-scale-");
        let started = Instant::now();
        let nodes = network(&rt, tmp.path(), n);
        rt.block_on(quiet(&nodes, TIMEOUT));
        let formed_ms = started.elapsed().as_secs_f64() * 1e3;
        let statuses = rt.block_on(quiet(&nodes, TIMEOUT));
        let sessions: Vec<usize> = statuses.iter().map(|s| s.sessions.len()).collect();
        let sessions_mean = sessions.iter().sum::<usize>() as f64 / n as f64;
        let sessions_max = sessions.iter().copied().max().unwrap_or(0);

        // A join: an organisation whose device never runs is admitted by node 0.
        let device = absent_device();
        let org = org_id_for(&device.device);
        let (join_ms, join_frames, join_bytes) = change(&rt, &nodes, org, move |r| {
            r.admit_org("Newcomer", Role::Member, device, NOW)
                .expect("admitted");
        });
        // A role change of that organisation.
        let (role_ms, role_frames, role_bytes) = change(&rt, &nodes, org, move |r| {
            r.set_role(org, Role::Admin, NOW).expect("role changed");
        });
        results.push(Size {
            n,
            sessions_mean,
            sessions_max,
            formed_ms,
            join_frames,
            join_bytes,
            join_ms,
            role_frames,
            role_bytes,
            role_ms,
        });

        if n == largest || n == 10 {
            let (times, frames) = one_edit_each(&rt, &nodes, edits);
            if n == largest {
                edit_large = times.clone();
                frames_large = frames.clone();
            }
            if n == 10 {
                edit_small = times;
                frames_small = frames;
            }
        }
        if n == largest {
            idle = Some(idle_per_node(&rt, &nodes));
        }
        for node in &nodes {
            rt.block_on(node.shutdown());
        }
    }

    let mut t = Table::new("Issue 9 §8: seventy organisations, real nodes on loopback");
    for r in &results {
        t.info(
            &format!("N = {}: connections per node", r.n),
            format!(
                "mean {:.1}, max {} (full mesh: {}); formed and quiet in {:.0} ms",
                r.sessions_mean,
                r.sessions_max,
                r.n - 1,
                r.formed_ms
            ),
        );
        t.info(
            &format!("N = {}: a join", r.n),
            format!(
                "{} frames ({:.1} per node), {} KiB, every node in {:.0} ms",
                r.join_frames,
                r.join_frames as f64 / r.n as f64,
                r.join_bytes / 1024,
                r.join_ms
            ),
        );
        t.info(
            &format!("N = {}: a role change", r.n),
            format!(
                "{} frames ({:.1} per node), {} KiB, every node in {:.0} ms",
                r.role_frames,
                r.role_frames as f64 / r.n as f64,
                r.role_bytes / 1024,
                r.role_ms
            ),
        );
    }
    if let (Some(first), Some(last)) = (results.first(), results.last())
        && last.n > first.n
    {
        let per_node = |frames: u64, n: usize| frames as f64 / n as f64;
        let growth = per_node(last.join_frames + last.role_frames, last.n)
            / per_node(first.join_frames + first.role_frames, first.n);
        t.row(
            "membership change, frames per node",
            format!(
                "{:.1} at N = {}",
                per_node(last.join_frames + last.role_frames, last.n) / 2.0,
                last.n
            ),
            format!(
                "{:.1} at N = {}",
                per_node(first.join_frames + first.role_frames, first.n) / 2.0,
                first.n
            ),
            Some(growth),
            "O(N): flat",
            Some(growth < 2.0),
        );
    }
    if !edit_large.is_empty() && !edit_small.is_empty() {
        t.row(
            &format!("one edit reaching all {largest}, p50"),
            format!("{:.1} ms", median(&edit_large)),
            format!("{:.1} ms (10 nodes)", median(&edit_small)),
            Some(median(&edit_large) / median(&edit_small)),
            "",
            None,
        );
        t.row(
            &format!("one edit reaching all {largest}, p99"),
            format!("{:.1} ms", pct(&edit_large, 0.99)),
            format!("{:.1} ms (10 nodes)", pct(&edit_small, 0.99)),
            Some(pct(&edit_large, 0.99) / pct(&edit_small, 0.99)),
            "",
            None,
        );
    }
    if !frames_large.is_empty() && !frames_small.is_empty() {
        t.row(
            &format!("one edit, frames sent by all {largest}"),
            format!("{:.0}", median(&frames_large)),
            format!("{:.0} (10 nodes)", median(&frames_small)),
            Some(median(&frames_large) / median(&frames_small)),
            "",
            None,
        );
    }
    if let Some((cpu_pct, rss_mib)) = idle {
        t.info(
            &format!("idle, per node (N = {largest})"),
            format!("{cpu_pct:.2}% of one core, {rss_mib:.1} MiB resident"),
        );
    }
    t.info("load average", load_average());
    t.print();
}

/// `n` organisations on one network founded by the first, all running, each told every other
/// node's address.
fn network(rt: &Runtime, dir: &std::path::Path, n: usize) -> Vec<Node> {
    let mut replicas: Vec<Replica> = (0..n)
        .map(|i| init(&dir.join(format!("n{i}")), &format!("Org {i}")))
        .collect();
    let (first, rest) = replicas.split_first_mut().expect("nodes");
    first
        .create_network(NETWORK, NOW)
        .expect("the network is founded");
    for (i, r) in rest.iter_mut().enumerate() {
        admit(first, r, &format!("Org {}", i + 1), Role::Member);
    }
    // Every replica holds the whole log (the later ones joined after more admissions).
    let ops = replicas[0].membership_ops();
    for r in &mut replicas[1..] {
        r.apply_membership(&ops).expect("the whole log");
    }
    rt.block_on(async {
        let mut nodes = Vec::with_capacity(n);
        for replica in replicas {
            nodes.push(spawn(replica, Vec::new()).await);
        }
        let mut book = Vec::with_capacity(n);
        for node in &nodes {
            book.push((node.public_key(), listen_addr(node).await));
        }
        for node in &nodes {
            for (key, addr) in &book {
                if *key != node.public_key() {
                    node.add_peer(*key, addr).await.expect("the node runs");
                }
            }
        }
        // Formed: every node has at least one session and the changes below reach all.
        let start = Instant::now();
        loop {
            let mut ok = true;
            for node in &nodes {
                ok &= !node.status().await.expect("runs").sessions.is_empty();
            }
            if ok {
                break;
            }
            assert!(start.elapsed() < TIMEOUT, "the network did not form");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nodes
    })
}

/// Runs `write` on node 0's replica; returns the milliseconds until every node's log names
/// `org` as in the state after it, and the frames and bytes all nodes sent meanwhile until the
/// network is quiet again.
fn change(
    rt: &Runtime,
    nodes: &[Node],
    org: OrgId,
    write: impl FnOnce(&mut Replica) + Send + 'static,
) -> (f64, u64, u64) {
    let before = rt.block_on(quiet(nodes, TIMEOUT));
    let start = Instant::now();
    let target = rt
        .block_on(nodes[0].with_control(move |c| {
            write(c.replica());
            c.replica()
                .membership()
                .and_then(|log| log.state().role(&org))
        }))
        .expect("the node runs");
    let others: Vec<usize> = (1..nodes.len()).collect();
    let got = arrivals(
        rt,
        nodes,
        others,
        start,
        TIMEOUT,
        "a membership change",
        |node| async move {
            node.with_control(move |c| {
                c.replica()
                    .membership()
                    .and_then(|log| log.state().role(&org))
            })
            .await
            .expect("the node runs")
                == target
        },
    );
    let after = rt.block_on(quiet(nodes, TIMEOUT));
    let frames: u64 = after.iter().map(|s| s.frames_sent).sum::<u64>()
        - before.iter().map(|s| s.frames_sent).sum::<u64>();
    let bytes: u64 = after.iter().map(|s| s.wire_bytes_sent).sum::<u64>()
        - before.iter().map(|s| s.wire_bytes_sent).sum::<u64>();
    (net::max(&got), frames, bytes)
}

/// `edits` edits from rotating writers: per edit, milliseconds until every other node has it,
/// and the frames all nodes sent for it (until quiet again).
fn one_edit_each(rt: &Runtime, nodes: &[Node], edits: usize) -> (Vec<f64>, Vec<f64>) {
    let n = nodes.len();
    let mut out = Vec::with_capacity(edits);
    let mut frames = Vec::with_capacity(edits);
    let sent =
        |s: &[puente_node::actor::NodeStatus]| -> u64 { s.iter().map(|s| s.frames_sent).sum() };
    let mut before = sent(&rt.block_on(quiet(nodes, TIMEOUT)));
    for k in 0..edits + 2 {
        let now = sent(&rt.block_on(quiet(nodes, TIMEOUT)));
        if k >= 3 {
            frames.push((now - before) as f64);
        }
        before = now;
        let writer = (k * 7) % n;
        let handle = format!("edit-{n}-{k}");
        let start = Instant::now();
        rt.block_on(nodes[writer].add_offer(edit_offer(&handle), NOW))
            .expect("the edit is written");
        let others: Vec<usize> = (0..n).filter(|&i| i != writer).collect();
        let got = arrivals(rt, nodes, others, start, TIMEOUT, "an edit", |node| {
            let handle = handle.clone();
            async move {
                let handles = node.offer_handles().await.expect("the node runs");
                handles.binary_search(&handle).is_ok()
            }
        });
        // The first two are warm-up.
        if k >= 2 {
            out.push(net::max(&got));
        }
    }
    let last = sent(&rt.block_on(quiet(nodes, TIMEOUT)));
    frames.push((last - before) as f64);
    (out, frames)
}

/// CPU (percent of one core) and resident memory (MiB) per node over [`IDLE`] of quiet.
fn idle_per_node(rt: &Runtime, nodes: &[Node]) -> (f64, f64) {
    rt.block_on(quiet(nodes, TIMEOUT));
    let ticks = || -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name: utime and stime are the 12th and 13th.
        let rest = stat.rsplit(')').next().unwrap_or_default();
        let f: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let stime: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        utime + stime
    };
    let t0 = ticks();
    let w0 = Instant::now();
    std::thread::sleep(IDLE);
    let cpu = (ticks() - t0) / 100.0 / w0.elapsed().as_secs_f64() * 100.0;
    let rss_kib: f64 = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let n = nodes.len() as f64;
    (cpu / n, rss_kib / 1024.0 / n)
}
