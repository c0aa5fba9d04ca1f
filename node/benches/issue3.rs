//! The benchmark of issue 3 §9: sync over libp2p on loopback and a node's memory, each figure
//! printed next to a baseline measured in the same run, with the goal it is held to.
//!
//! ```text
//! cargo bench -p puente-node --bench issue3                     # everything, ~5 min
//! PUENTE_BENCH_SIZES=10000 cargo bench -p puente-node --bench issue3
//! cargo bench -p puente-node --bench issue3 -- sync mesh        # some sections only
//! cargo bench -p puente-node --bench issue3 -- memory 20000     # memory at 20k offers
//! ```
//!
//! Measured:
//! 1. **initial sync**: a fresh partner B joins a network whose founder A holds N offers (the
//!    real CSV import: 1,000 offers per envelope); from B's `Node::spawn` until B's view holds
//!    N offers, over libp2p on loopback (TCP, Noise, Yamux), and the sync bytes A sent and
//!    received (`NodeStatus`). Baseline: automerge's own sync protocol (`sync::SyncDoc`)
//!    between a document loaded from A's partition (`save()` bytes of the same changes) and an
//!    empty one, in memory, messages encoded and decoded, until neither has anything to send;
//!    and the same baseline again in a thread started for it, as each node's actor is, to see
//!    whether memory the process has not used before costs puente something the baseline is
//!    spared (reported beside the goal, not instead of it). Runs are interleaved (puente,
//!    baseline, baseline in a fresh thread, puente's ingest alone, ...) and medians reported.
//! 2. **one edit among 10 nodes that each dial the ones started before them** (the sessions
//!    they keep are the overlay's, `node/src/net/overlay.rs`, not a full mesh): from `Node::add_offer` returning on the writer until
//!    every other node's view holds the offer (writers round-robin), and the sync frames all
//!    nodes sent for it (the sum of `frames_sent` deltas once the mesh is quiet again). The
//!    same for a 10-node line (edits at one end, latency to the far end). Beside them, to see
//!    where the time goes: the CPU time of the whole process per edit when nobody polls, and
//!    the two parts of one hop alone (a small frame between two bare `Net`s on loopback, and
//!    `Replica::ingest` of a one-offer envelope).
//! 3. **memory of a node holding N offers** (default 100k), in child processes (this binary
//!    re-executed with `--child MODE PATH`) so that nothing else counts: a running `Node`
//!    opened from a prepared store and listening on loopback, idle and after one local write
//!    (which loads its partition into automerge); peak RSS (VmHWM) minus that of a child that
//!    only starts the process and the tokio runtime. Baseline: `Automerge::load` of the same
//!    partition bytes, resident set after minus before.
//!
//! How arrival is observed: the benchmark polls the nodes through their public handles only
//! (nothing was added to the node for it). In §1 B is asked for its view's offer count
//! (`Node::with_control`) every 2 ms; in §2 every node that does not have the edit yet is asked
//! for its handles (`Node::offer_handles`, no side effects) in rounds, the requests of a round
//! all in flight at once and each answer timed as it arrives, with a 250 µs pause between
//! rounds, so a figure is late by at most one round (printed as "poll round").
//!
//! Environment: `PUENTE_BENCH_SIZES` (offer counts for §3, default `100000`),
//! `PUENTE_BENCH_SYNC_OFFERS` (§1, default 10000), `PUENTE_BENCH_SYNC_RUNS` (default 5),
//! `PUENTE_BENCH_NODES` (§2, default 10), `PUENTE_BENCH_EDITS` (§2, default 200),
//! `PUENTE_BENCH_MEM_RUNS` (§3 children per variant, default 3), `PUENTE_BENCH_DIR` (default:
//! cargo's target tmp directory, a real disk, so `fsync` costs what it costs). Arguments: the
//! section names `sync`, `mesh`, `memory` (default all) and offer counts for §3.
//!
//! For profiling by hand the child modes also run alone: `--child prepare DIR N` builds a store
//! of N offers in DIR and its partition in `DIR.automerge`; `--child node DIR` (which writes
//! one offer into the store: the benchmark gives it a fresh copy each time),
//! `--child automerge DIR.automerge` and `--child runtime X`. Results are in
//! `docs/performance.md`, "Issue 3: sync".

// Helpers shared with the other benchmarks (this one does not use all of them).
#[path = "common/net.rs"]
mod net;
#[path = "common/process.rs"]
mod process;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use automerge::sync::{Message, State, SyncDoc as _};
use automerge::{Automerge, Change};
use puente_crdt::test_utils::{sample_fields, sample_window};
use puente_crdt::time::{local_date, zone};
use puente_crdt::{Kind, NewOffer, OfferFields, OrgId, Partition, Touched, View};
use puente_node::actor::Node;
use puente_node::envelope::Envelope;
use puente_node::identity::{PublicKey, SecretKey};
use puente_node::interchange::parse_offers_csv;
use puente_node::membership::Role;
use puente_node::net::{Net, NetConfig, NetError, NetEvent, NetLimits};
use puente_node::replica::{IngestOutcome, Replica};
use puente_node::store::Store;
use tokio::runtime::Runtime;

use net::{
    LOOPBACK, NETWORK, NOW, PASS, QUIET_POLL, TZ, Table, admit, bench_dir, copy_store, env_usize,
    founder_and_partner, init, kb, listen_addr, machine, max, median, mib, network, pct,
    prepare_founder, quiet, reaches_all, runtime, sizes, spawn, tempdir,
};
use process::{child_args, cpu_s, run_child, status_kib};

/// How often §1 asks B how many offers its view holds.
const SYNC_POLL: Duration = Duration::from_millis(2);

/// How long §1 waits for the initial sync before giving up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);

/// The pause between two rounds of §2's arrival polling.
const MESH_POLL: Duration = Duration::from_micros(250);

/// How long §2 waits for one edit, or for the mesh to form, before giving up.
const MESH_TIMEOUT: Duration = Duration::from_secs(30);

/// Size of the frame §2 times between two bare transports: about a batch with one new offer.
const HOP_FRAME_BYTES: usize = 1_200;

/// Edits whose CPU time §2 measures without polling: enough for the 10 ms clock ticks of
/// `/proc/self/stat` to average out.
const CPU_EDITS: usize = 100;

/// How far apart those edits are written: several times an edit's latency, so that they
/// rarely overlap (the CPU time counts either way).
const CPU_EDIT_SPACING: Duration = Duration::from_millis(50);

/// How long §2 measures the nodes' CPU time while idle (ticks, pings).
const CPU_IDLE: Duration = Duration::from_secs(2);

/// How long a memory child lets its node run before reading its resident set.
const MEMORY_SETTLE: Duration = Duration::from_millis(300);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some((mode, path, extra)) = child_args(&args) {
        child(mode, &path, extra);
        return;
    }
    let cfg = Config::from(&args[1..]);
    let base = bench_dir();
    std::fs::create_dir_all(&base).expect("the benchmark directory can be created");
    println!(
        "puente issue 3 benchmark: sections {:?}; sync of {} offers x {} runs; {} nodes, {} edits; memory at {:?} offers x {} runs; files in {}",
        cfg.sections,
        cfg.sync_offers,
        cfg.sync_runs,
        cfg.nodes,
        cfg.edits,
        cfg.sizes,
        cfg.mem_runs,
        base.display()
    );
    println!("{}", machine());
    let rt = runtime();

    if cfg.has("sync") {
        let mut t = Table::new(&format!(
            "1 initial sync of {} offers to a fresh partner",
            cfg.sync_offers
        ));
        bench_sync(&base, &cfg, &rt, &mut t);
        t.print();
    }
    if cfg.has("mesh") {
        let mut t = Table::new(&format!(
            "2 one edit reaching every node, {} nodes",
            cfg.nodes
        ));
        bench_mesh(&base, &cfg, &rt, Topology::Mesh, &mut t);
        bench_mesh(&base, &cfg, &rt, Topology::Line, &mut t);
        bench_hop(&base, &cfg, &rt, &mut t);
        t.print();
    }
    drop(rt);
    if cfg.has("memory") {
        for &n in &cfg.sizes {
            let mut t = Table::new(&format!("3 memory of a node holding {n} offers"));
            bench_memory(&base, n, &cfg, &mut t);
            t.print();
        }
    }
}

struct Config {
    sections: Vec<String>,
    sync_offers: usize,
    sync_runs: usize,
    nodes: usize,
    edits: usize,
    sizes: Vec<usize>,
    mem_runs: usize,
}

impl Config {
    fn from(args: &[String]) -> Config {
        // `cargo bench` passes `--bench`; anything that is neither a section nor a number is
        // ignored.
        let mut sections: Vec<String> = args
            .iter()
            .filter(|a| matches!(a.as_str(), "sync" | "mesh" | "memory"))
            .cloned()
            .collect();
        if sections.is_empty() {
            sections = vec!["sync".into(), "mesh".into(), "memory".into()];
        }
        Config {
            sections,
            sync_offers: env_usize("PUENTE_BENCH_SYNC_OFFERS", 10_000),
            sync_runs: env_usize("PUENTE_BENCH_SYNC_RUNS", 5),
            nodes: env_usize("PUENTE_BENCH_NODES", 10),
            edits: env_usize("PUENTE_BENCH_EDITS", 200),
            sizes: sizes(args, &[100_000]),
            mem_runs: env_usize("PUENTE_BENCH_MEM_RUNS", 3),
        }
    }

    fn has(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

/// The `save()` bytes of the store's own partition, from its local snapshot (see
/// `encode_snapshot` in `replica.rs`: version byte, partition count (u32), then per partition
/// the 10-byte organisation id, a u32 length and the bytes; v2 then adds the cached view).
fn own_partition(dir: &Path, org: OrgId) -> Vec<u8> {
    let store = Store::open(dir, PASS).expect("the store opens");
    let snaps = store.snapshots().expect("snapshots readable");
    let bytes = &snaps.first().expect("a snapshot was written").bytes;
    assert!(matches!(bytes[0], 1 | 2), "snapshot encoding v1 or v2");
    let n = u32::from_be_bytes(bytes[1..5].try_into().expect("four bytes"));
    let mut rest = &bytes[5..];
    for _ in 0..n {
        let id: [u8; 10] = rest[..10].try_into().expect("ten bytes");
        let len = u32::from_be_bytes(rest[10..14].try_into().expect("four bytes")) as usize;
        if OrgId::from_bytes(id) == org {
            return rest[14..14 + len].to_vec();
        }
        rest = &rest[14 + len..];
    }
    panic!("the snapshot holds the organisation's own partition")
}

// ---------------------------------------------------------------------------------------------
// §1 Initial sync of N offers to a fresh partner.

fn bench_sync(base: &Path, cfg: &Config, rt: &Runtime, t: &mut Table) {
    let n = cfg.sync_offers;
    let tmp = tempdir(base, "puente-sync-");
    let a_dir = tmp.path().join("a");
    let s = Instant::now();
    let a_key = prepare_founder(&a_dir, generated_offers(0x155E3, n));
    t.info(
        "prepare A (init, network, import, snapshot)",
        format!("{} ms", s.elapsed().as_millis()),
    );
    let (a_org, envelopes) = {
        let r = Replica::open(&a_dir, PASS).expect("A reopens");
        let envelopes = r
            .envelopes_after(&a_key, 0, usize::MAX, usize::MAX)
            .expect("A's log is readable");
        let org = r.org();
        r.close().expect("close");
        (org, envelopes)
    };
    let saved = own_partition(&a_dir, a_org);
    let envelope_bytes: usize = envelopes.iter().map(Vec::len).sum();

    let mut puente_ms = Vec::new();
    let mut puente_bytes = Vec::new();
    let mut puente_frames = Vec::new();
    let mut poll_us = Vec::new();
    let mut base_ms = Vec::new();
    let mut base_bytes = Vec::new();
    let mut base_msgs = Vec::new();
    let mut fresh_ms = Vec::new();
    let mut ingest_ms = Vec::new();
    for run in 0..cfg.sync_runs {
        let p = puente_sync(rt, &a_dir, tmp.path(), run, a_key, n);
        println!(
            "  run {run}: puente {:.0} ms, {} B in {} frames",
            p.ms, p.bytes, p.frames
        );
        puente_ms.push(p.ms);
        puente_bytes.push(p.bytes as f64);
        puente_frames.push(p.frames as f64);
        poll_us.push(p.poll_us);

        let (ms, bytes, msgs) = automerge_sync(&saved);
        println!("  run {run}: automerge sync {ms:.0} ms, {bytes} B in {msgs} messages");
        base_ms.push(ms);
        base_bytes.push(bytes as f64);
        base_msgs.push(msgs as f64);

        // The same in a thread started for it, as each node's actor is: its allocations come
        // from memory the process has not used before, not from what earlier runs freed.
        let (ms, _, _) = std::thread::scope(|scope| {
            scope
                .spawn(|| automerge_sync(&saved))
                .join()
                .expect("the baseline thread ends")
        });
        println!("  run {run}: automerge sync in a fresh thread {ms:.0} ms");
        fresh_ms.push(ms);

        let ms = ingest_alone(&a_dir, tmp.path(), run, &envelopes);
        println!("  run {run}: B's replica ingesting A's envelopes alone {ms:.0} ms");
        ingest_ms.push(ms);
    }
    let (p, b) = (median(&puente_ms), median(&base_ms));
    t.row(
        "1 time to a fresh partner",
        format!("{p:.0} ms"),
        format!("{b:.0} ms am sync"),
        Some(p / b),
        "<= 1.5x",
        Some(p / b <= 1.5),
    );
    let f = median(&fresh_ms);
    t.row(
        "  against the baseline in a fresh thread",
        format!("{p:.0} ms"),
        format!("{f:.0} ms am sync"),
        Some(p / f),
        "(report)",
        None,
    );
    let bytes = median(&puente_bytes);
    let saved_len = saved.len() as f64;
    t.row(
        "1 bytes (A sent + received)",
        kb(bytes),
        format!("{} save()", kb(saved_len)),
        Some(bytes / saved_len),
        "<= 1.2x",
        Some(bytes / saved_len <= 1.2),
    );
    t.row(
        "  automerge sync messages, bytes",
        format!("{:.0} frames", median(&puente_frames)),
        format!(
            "{:.0} msgs, {}",
            median(&base_msgs),
            kb(median(&base_bytes))
        ),
        Some(bytes / median(&base_bytes)),
        "(report)",
        None,
    );
    t.info(
        "  per run, puente / automerge sync / in a fresh thread",
        puente_ms
            .iter()
            .zip(&base_ms)
            .zip(&fresh_ms)
            .map(|((p, b), f)| format!("{p:.0}/{b:.0}/{f:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
            + " ms",
    );
    t.info(
        "  B's replica ingesting alone",
        format!(
            "{:.0} ms ({} envelopes, verify+open+apply+commit+view)",
            median(&ingest_ms),
            envelopes.len()
        ),
    );
    t.info(
        "  one poll of B (with_control)",
        format!("{:.0} µs median", median(&poll_us)),
    );

    // Where B's time and the bytes go: the steps of `Replica::ingest`, measured on their own
    // on the same envelopes and changes (each envelope carries one change).
    let parts = ingest_steps(a_org, &saved, &envelopes);
    t.info(
        "  ingest steps: verify / apply / view",
        format!(
            "{:.0} / {:.0} / {:.0} ms (rest: open, durable commit)",
            parts.verify_ms, parts.apply_ms, parts.view_ms
        ),
    );
    t.info(
        "  Automerge::apply_changes: all / one by one",
        format!(
            "{:.0} / {:.0} ms; view built once {:.0} ms",
            parts.raw_apply_ms, parts.raw_apply_each_ms, parts.view_once_ms
        ),
    );
    let doc = Automerge::load(&saved).expect("the partition loads");
    let changes = doc.get_changes(&[]);
    let raw: usize = changes.iter().map(|c| c.raw_bytes().len()).sum();
    let compressed: usize = changes.iter().map(|c| c.clone().bytes().len()).sum();
    let nocompress = doc.save_nocompress().len();
    drop(doc);
    t.info(
        "  A's envelopes / change bytes",
        format!(
            "{} envelopes {}; changes raw {}, deflated {}",
            envelopes.len(),
            kb(envelope_bytes as f64),
            kb(raw as f64),
            kb(compressed as f64)
        ),
    );
    t.info(
        "  save() / save_nocompress()",
        format!("{} / {}", kb(saved_len), kb(nocompress as f64)),
    );
}

struct SyncRun {
    ms: f64,
    bytes: u64,
    frames: u64,
    poll_us: f64,
}

/// One initial sync: A (reopened from its store) admits a fresh B; B is spawned dialling A and
/// timed until its view holds `n` offers; then A's sync traffic once both are quiet.
fn puente_sync(
    rt: &Runtime,
    a_dir: &Path,
    tmp: &Path,
    run: usize,
    a_key: PublicKey,
    n: usize,
) -> SyncRun {
    let (a, b) = founder_and_partner(
        a_dir,
        &tmp.join(format!("b{run}")),
        &format!("Partner {run}"),
    );
    rt.block_on(async move {
        let a = spawn(a, vec![]).await;
        let addr = listen_addr(&a).await;
        let start = Instant::now();
        let b = spawn(b, vec![(a_key, addr)]).await;
        let mut polls = Vec::new();
        loop {
            let p = Instant::now();
            let count = b
                .with_control(|c| c.replica().view().offer_count())
                .await
                .expect("B runs");
            polls.push(p.elapsed().as_secs_f64() * 1e6);
            if count >= n {
                break;
            }
            assert!(
                start.elapsed() < SYNC_TIMEOUT,
                "B did not receive the offers ({count} of {n})"
            );
            tokio::time::sleep(SYNC_POLL).await;
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let st = quiet(&[a.clone(), b.clone()], SYNC_TIMEOUT).await;
        a.shutdown().await;
        b.shutdown().await;
        SyncRun {
            ms,
            bytes: st[0].wire_bytes_sent + st[0].wire_bytes_received,
            frames: st[0].frames_sent + st[0].frames_received,
            poll_us: median(&polls),
        }
    })
}

/// The baseline: automerge's sync protocol from a document holding `saved` to an empty one,
/// in memory, every message encoded and decoded. Returns ms, message bytes, messages.
fn automerge_sync(saved: &[u8]) -> (f64, usize, usize) {
    let mut a = Automerge::load(saved).expect("the partition loads");
    let mut b = Automerge::new();
    let (mut sa, mut sb) = (State::new(), State::new());
    let mut bytes = 0;
    let mut messages = 0;
    let s = Instant::now();
    loop {
        let mut sent = false;
        // The fresh partner speaks first, as B dials A.
        if let Some(m) = b.generate_sync_message(&mut sb) {
            let wire = m.encode();
            bytes += wire.len();
            messages += 1;
            let m = Message::decode(&wire).expect("the message decodes");
            a.receive_sync_message(&mut sa, m).expect("A applies");
            sent = true;
        }
        if let Some(m) = a.generate_sync_message(&mut sa) {
            let wire = m.encode();
            bytes += wire.len();
            messages += 1;
            let m = Message::decode(&wire).expect("the message decodes");
            b.receive_sync_message(&mut sb, m).expect("B applies");
            sent = true;
        }
        if !sent {
            break;
        }
    }
    let ms = s.elapsed().as_secs_f64() * 1e3;
    assert_eq!(a.get_heads(), b.get_heads(), "the baseline converged");
    (ms, bytes, messages)
}

/// B's replica work alone: a fresh member ingesting A's envelopes in order, no network.
fn ingest_alone(a_dir: &Path, tmp: &Path, run: usize, envelopes: &[Vec<u8>]) -> f64 {
    let (a, mut c) = founder_and_partner(
        a_dir,
        &tmp.join(format!("c{run}")),
        &format!("Ingest {run}"),
    );
    a.close().expect("close");
    let offers = c.view().offer_count();
    let s = Instant::now();
    for e in envelopes {
        c.ingest(e).expect("the envelope is accepted");
    }
    let ms = s.elapsed().as_secs_f64() * 1e3;
    assert!(c.view().offer_count() > offers, "the offers arrived");
    c.close().expect("close");
    ms
}

struct IngestSteps {
    verify_ms: f64,
    apply_ms: f64,
    view_ms: f64,
    raw_apply_ms: f64,
    raw_apply_each_ms: f64,
    view_once_ms: f64,
}

/// The steps of `Replica::ingest` that can be run through public APIs, one envelope (one
/// change) at a time as B receives them: parse and verify the signature, apply the change to
/// the partition (`Partition::apply_changes`, which also works out what it touched), refresh
/// the view; and automerge applying every change at once, for comparison.
fn ingest_steps(org: OrgId, saved: &[u8], envelopes: &[Vec<u8>]) -> IngestSteps {
    let s = Instant::now();
    for e in envelopes {
        let env = Envelope::from_bytes(e).expect("the envelope parses");
        env.verify_signature().expect("the signature verifies");
    }
    let verify_ms = s.elapsed().as_secs_f64() * 1e3;
    let changes = Automerge::load(saved)
        .expect("the partition loads")
        .get_changes(&[]);
    assert_eq!(changes.len(), envelopes.len(), "one change per envelope");
    let copy = |c: &Change| Change::from_bytes(c.raw_bytes().to_vec()).expect("a change");
    let mut p = Partition::new(org, &[2; 32]);
    let mut view = View::new();
    let mut apply_ms = 0.0;
    let mut view_ms = 0.0;
    for c in &changes {
        let c = copy(c);
        let s = Instant::now();
        let touched = p.apply_changes(vec![c]).expect("the change applies");
        apply_ms += s.elapsed().as_secs_f64() * 1e3;
        let s = Instant::now();
        view.refresh(&p, &touched);
        view_ms += s.elapsed().as_secs_f64() * 1e3;
    }
    black_box(view.offer_count());
    let all: Vec<Change> = changes.iter().map(copy).collect();
    let s = Instant::now();
    let mut fresh = Automerge::new();
    fresh.apply_changes(all).expect("the changes apply");
    let raw_apply_ms = s.elapsed().as_secs_f64() * 1e3;
    black_box(&fresh);
    let mut fresh = Automerge::new();
    let s = Instant::now();
    for c in &changes {
        fresh.apply_changes([copy(c)]).expect("the change applies");
    }
    let raw_apply_each_ms = s.elapsed().as_secs_f64() * 1e3;
    black_box(&fresh);
    let s = Instant::now();
    let mut whole = View::new();
    whole.refresh(
        &p,
        &Touched {
            all: true,
            ..Touched::default()
        },
    );
    let view_once_ms = s.elapsed().as_secs_f64() * 1e3;
    black_box(whole.offer_count());
    IngestSteps {
        verify_ms,
        apply_ms,
        view_ms,
        raw_apply_ms,
        raw_apply_each_ms,
        view_once_ms,
    }
}

// ---------------------------------------------------------------------------------------------
// §2 One edit reaching every node.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Topology {
    /// Every node connected to every other; writers round-robin.
    Mesh,
    /// Node i connected to i - 1 and i + 1; every edit written at node 0.
    Line,
}

fn bench_mesh(base: &Path, cfg: &Config, rt: &Runtime, topology: Topology, t: &mut Table) {
    let n = cfg.nodes;
    let tmp = tempdir(base, "puente-mesh-");
    let replicas = network(tmp.path(), n);
    let keys: Vec<PublicKey> = replicas.iter().map(Replica::public_key).collect();
    let sessions = |i: usize| match topology {
        Topology::Mesh => n - 1,
        Topology::Line => usize::from(i > 0) + usize::from(i + 1 < n),
    };
    let nodes = rt.block_on(async {
        let mut nodes: Vec<Node> = Vec::new();
        let mut addrs: Vec<String> = Vec::new();
        for (i, replica) in replicas.into_iter().enumerate() {
            let dial: Vec<usize> = match topology {
                Topology::Mesh => (0..i).collect(),
                Topology::Line => (i.saturating_sub(1)..i).collect(),
            };
            let peers = dial.iter().map(|&j| (keys[j], addrs[j].clone())).collect();
            let node = spawn(replica, peers).await;
            addrs.push(listen_addr(&node).await);
            nodes.push(node);
        }
        let start = Instant::now();
        loop {
            let mut formed = true;
            let mut edges: Vec<Vec<usize>> = Vec::with_capacity(n);
            for (i, node) in nodes.iter().enumerate() {
                let st = node.status().await.expect("the node runs");
                formed &= st.peers.iter().all(|p| p.established);
                match topology {
                    // Past `FULL_MESH_MAX + 1` members a node keeps sessions with its overlay
                    // targets only (`net/overlay.rs`): the mesh is formed when the sessions
                    // connect every node.
                    Topology::Mesh => edges.push(
                        st.sessions
                            .iter()
                            .filter_map(|k| keys.iter().position(|x| x == k))
                            .collect(),
                    ),
                    Topology::Line => formed &= st.sessions.len() == sessions(i),
                }
            }
            if topology == Topology::Mesh {
                formed &= reaches_all(&edges);
            }
            if formed {
                break;
            }
            assert!(start.elapsed() < MESH_TIMEOUT, "the nodes did not connect");
            tokio::time::sleep(QUIET_POLL).await;
        }
        quiet(&nodes, MESH_TIMEOUT).await;
        nodes
    });

    let writer = |k: usize| match topology {
        Topology::Mesh => k % n,
        Topology::Line => 0,
    };
    // One untimed round first: every writer's first edit.
    let warmup = match topology {
        Topology::Mesh => n,
        Topology::Line => 2,
    };
    let mut latency = Vec::new();
    let mut first = Vec::new();
    let mut messages = Vec::new();
    let mut rounds = Vec::new();
    let mut write = Vec::new();
    for k in 0..warmup + cfg.edits {
        let w = writer(k);
        let before: u64 = rt
            .block_on(quiet(&nodes, MESH_TIMEOUT))
            .iter()
            .map(|s| s.frames_sent)
            .sum();
        let handle = format!("edit-{}", letters(k as u64));
        let s = Instant::now();
        rt.block_on(nodes[w].add_offer(edit_offer(&handle), NOW))
            .expect("the edit is written");
        let start = Instant::now();
        let wrote = (start - s).as_secs_f64() * 1e3;
        let mut pending: Vec<usize> = (0..n).filter(|&i| i != w).collect();
        let mut arrived = Vec::with_capacity(n);
        while !pending.is_empty() {
            // One request to every node still waiting, all in flight at once, each answer
            // timed when it arrives (so a busy node does not delay seeing another's).
            let round = Instant::now();
            let asks: Vec<(usize, tokio::task::JoinHandle<(bool, Instant)>)> = pending
                .iter()
                .map(|&i| {
                    let node = nodes[i].clone();
                    let handle = handle.clone();
                    let ask = rt.spawn(async move {
                        let handles = node.offer_handles().await.expect("the node runs");
                        (handles.binary_search(&handle).is_ok(), Instant::now())
                    });
                    (i, ask)
                })
                .collect();
            pending.clear();
            for (i, ask) in asks {
                let (has, at) = rt.block_on(ask).expect("the poll task runs");
                if has {
                    arrived.push((at - start).as_secs_f64() * 1e3);
                } else {
                    pending.push(i);
                }
            }
            rounds.push(round.elapsed().as_secs_f64() * 1e3);
            if !pending.is_empty() {
                assert!(
                    start.elapsed() < MESH_TIMEOUT,
                    "edit {k} did not reach every node"
                );
                std::thread::sleep(MESH_POLL);
            }
        }
        let after: u64 = rt
            .block_on(quiet(&nodes, MESH_TIMEOUT))
            .iter()
            .map(|s| s.frames_sent)
            .sum();
        if k >= warmup {
            latency.push(max(&arrived));
            first.push(arrived.iter().copied().fold(f64::MAX, f64::min));
            messages.push((after - before) as f64);
            write.push(wrote);
        }
    }
    // CPU per edit without any polling: the process idle for a while, then edits spaced
    // apart with nobody asking the nodes anything until the last one, minus the idle rate.
    let (cpu_per_edit, cpu_idle) = rt.block_on(async {
        let s = Instant::now();
        let c = process_cpu_ms();
        tokio::time::sleep(CPU_IDLE).await;
        let idle_rate = (process_cpu_ms() - c) / s.elapsed().as_secs_f64();
        let s = Instant::now();
        let c = process_cpu_ms();
        let mut last = String::new();
        for k in 0..CPU_EDITS {
            last = format!("cpu-{}", letters(k as u64));
            nodes[writer(k)]
                .add_offer(edit_offer(&last), NOW)
                .await
                .expect("the edit is written");
            tokio::time::sleep(CPU_EDIT_SPACING).await;
        }
        for node in &nodes {
            let handles = node.offer_handles().await.expect("the node runs");
            assert!(handles.binary_search(&last).is_ok(), "the edits arrived");
        }
        let used = process_cpu_ms() - c - idle_rate * s.elapsed().as_secs_f64();
        (used / CPU_EDITS as f64, idle_rate / 1e3)
    });
    rt.block_on(async {
        for node in &nodes {
            node.shutdown().await;
        }
    });

    let p50 = median(&latency);
    let mean_msgs = messages.iter().sum::<f64>() / messages.len() as f64;
    match topology {
        Topology::Mesh => {
            t.row(
                "2 ten nodes (overlay): edit to every node, p50",
                format!("{p50:.2} ms"),
                "~140 ms naive (issue)".into(),
                None,
                "p50 <= 10 ms",
                Some(p50 <= 10.0),
            );
            t.row(
                "2 ten nodes (overlay): messages per edit",
                format!("{:.0} median, {:.0} max", median(&messages), max(&messages)),
                "~800 naive (issue)".into(),
                None,
                "<= 36",
                Some(max(&messages) <= 36.0),
            );
        }
        Topology::Line => {
            t.row(
                "2 line: edit to the far end (9 hops), p50",
                format!("{p50:.2} ms"),
                "~4 ms (issue)".into(),
                None,
                "(report)",
                None,
            );
            t.info(
                "2 line: messages per edit",
                format!("{:.0} median, {:.0} max", median(&messages), max(&messages)),
            );
        }
    }
    t.info(
        "  p50 / p90 / p99 / max",
        format!(
            "{:.2} / {:.2} / {:.2} / {:.2} ms over {} edits; first node p50 {:.2} ms",
            p50,
            pct(&latency, 0.9),
            pct(&latency, 0.99),
            max(&latency),
            latency.len(),
            median(&first)
        ),
    );
    t.info(
        "  writer's add_offer (durable write) p50",
        format!("{:.2} ms, p99 {:.2} ms", median(&write), pct(&write, 0.99)),
    );
    t.info(
        "  CPU per edit, all nodes, not polled",
        format!(
            "{cpu_per_edit:.1} ms ({CPU_EDITS} edits {} ms apart; idle {:.1}% of a core)",
            CPU_EDIT_SPACING.as_millis(),
            cpu_idle * 100.0
        ),
    );
    t.info(
        "  messages mean / poll round p50, p99",
        format!(
            "{mean_msgs:.1} / {:.3}, {:.3} ms",
            median(&rounds),
            pct(&rounds, 0.99)
        ),
    );
}

/// The two parts of one hop, each alone: a small frame between two transports on loopback
/// (half a round trip, `Net` only), and `Replica::ingest` of a one-offer envelope (verify,
/// open, apply, durable commit, view) on the same disk as the nodes'.
fn bench_hop(base: &Path, cfg: &Config, rt: &Runtime, t: &mut Table) {
    let rounds = cfg.edits.max(1);
    let frame = vec![0x5A; HOP_FRAME_BYTES];
    let half_rtt = rt.block_on(async {
        let (ka, kb) = (SecretKey::generate(), SecretKey::generate());
        let (pa, pb) = (ka.public(), kb.public());
        let transport = |key: SecretKey, allowed: PublicKey, known: Vec<(PublicKey, String)>| {
            Net::spawn(NetConfig {
                key,
                listen: vec![LOOPBACK.into()],
                allowed: vec![allowed],
                known_addresses: known,
                mdns: false,
                relays: Vec::new(),
                accept_only: Vec::new(),
                limits: NetLimits::default(),
            })
        };
        let (a, mut ea) = transport(ka, pb, Vec::new()).await.expect("A's transport");
        let addr = a.listen_addrs().await.expect("A runs")[0].clone();
        let (b, mut eb) = transport(kb, pa, vec![(pa, addr)])
            .await
            .expect("B's transport");
        next_event(&mut ea, |e| matches!(e, NetEvent::Connected(_))).await;
        next_event(&mut eb, |e| matches!(e, NetEvent::Connected(_))).await;
        let mut half = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let s = Instant::now();
            send_frame(&a, pb, &frame).await;
            next_event(&mut eb, |e| matches!(e, NetEvent::Frame { .. })).await;
            send_frame(&b, pa, &frame).await;
            next_event(&mut ea, |e| matches!(e, NetEvent::Frame { .. })).await;
            half.push(s.elapsed().as_secs_f64() * 1e3 / 2.0);
        }
        a.shutdown().await;
        b.shutdown().await;
        half
    });
    t.info(
        "  one hop: frame over loopback p50/p99",
        format!(
            "{:.2} / {:.2} ms (Net alone, {HOP_FRAME_BYTES} B, half a round trip)",
            median(&half_rtt),
            pct(&half_rtt, 0.99)
        ),
    );

    let tmp = tempdir(base, "puente-hop-");
    let mut x = init(&tmp.path().join("x"), "Writer");
    x.create_network(NETWORK, NOW)
        .expect("the network is founded");
    let mut y = init(&tmp.path().join("y"), "Reader");
    admit(&mut x, &mut y, "Reader", Role::Member);
    let key = x.public_key();
    for env in x
        .envelopes_after(&key, 0, usize::MAX, usize::MAX)
        .expect("the log is readable")
    {
        y.ingest(&env).expect("the writer's profile is accepted");
    }
    let mut ingest = Vec::with_capacity(rounds);
    for k in 0..rounds {
        x.add_offer(edit_offer(&format!("hop-{}", letters(k as u64))), NOW)
            .expect("written");
        let seq = x.version_vector()[&key];
        let env = x
            .envelopes_after(&key, seq - 1, 1, usize::MAX)
            .expect("the log is readable");
        let s = Instant::now();
        let outcome = y.ingest(&env[0]).expect("the envelope is accepted");
        ingest.push(s.elapsed().as_secs_f64() * 1e3);
        assert!(
            matches!(outcome, IngestOutcome::Applied(1)),
            "the envelope is applied"
        );
    }
    t.info(
        "  one hop: Replica::ingest p50/p99",
        format!(
            "{:.2} / {:.2} ms (one-offer envelope, durable)",
            median(&ingest),
            pct(&ingest, 0.99)
        ),
    );
    x.close().expect("close");
    y.close().expect("close");
}

async fn send_frame(net: &Net, to: PublicKey, frame: &[u8]) {
    loop {
        match net.send(to, frame.to_vec()).await {
            Ok(()) => return,
            Err(NetError::Busy { .. }) => tokio::task::yield_now().await,
            Err(e) => panic!("the frame cannot be sent: {e}"),
        }
    }
}

async fn next_event(
    events: &mut tokio::sync::mpsc::Receiver<NetEvent>,
    want: impl Fn(&NetEvent) -> bool,
) {
    let wait = async {
        while let Some(e) = events.recv().await {
            if want(&e) {
                return;
            }
        }
        panic!("the transport stopped");
    };
    tokio::time::timeout(MESH_TIMEOUT, wait)
        .await
        .expect("the transport delivers in time");
}

/// The offer each edit writes: a host-home offer like the ones coordinators add one at a time.
fn edit_offer(handle: &str) -> NewOffer {
    NewOffer {
        fields: OfferFields {
            zone: Some("south-sac".into()),
            languages: vec![
                "es".parse().expect("a language"),
                "en".parse().expect("a language"),
            ],
            lead_time: Some(72 * 3_600),
            max_stay: Some(30 * 86_400),
            label: "quiet room, bus line nearby".into(),
            ..sample_fields(Kind::HostHome, handle)
        },
        windows: vec![sample_window(
            NOW.plus(2 * 86_400),
            NOW.plus(30 * 86_400),
            1,
        )],
        expires_in: Some(14 * 86_400),
    }
}

// ---------------------------------------------------------------------------------------------
// §3 Memory of a node holding N offers.

fn bench_memory(base: &Path, n: usize, cfg: &Config, t: &mut Table) {
    let tmp = tempdir(base, "puente-memory-");
    let dir = tmp.path().join("node");
    let s = Instant::now();
    run_child("prepare", &dir, &[&n.to_string()]);
    t.info(
        "prepare (import, snapshot)",
        format!("{:.1} s", s.elapsed().as_secs_f64()),
    );
    let doc = dir.with_extension("automerge");
    let mut runtime_hwm = Vec::new();
    let mut idle_hwm = Vec::new();
    let mut idle_rss = Vec::new();
    let mut active_hwm = Vec::new();
    let mut active_rss = Vec::new();
    let mut am_held = Vec::new();
    let mut am_peak = Vec::new();
    for _ in 0..cfg.mem_runs {
        let r = run_child("runtime", &dir, &[]);
        runtime_hwm.push(r["hwm_kib"]);
        // A fresh copy each time: the child's write must not reach the next child's store
        // (an envelope after the snapshot makes the open load the partition to replay it).
        let copy = tmp.path().join("copy");
        copy_store(&dir, &copy);
        let node = run_child("node", &copy, &[]);
        std::fs::remove_dir_all(&copy).expect("the copy is removed");
        assert!(node["offers"] as usize >= n, "the node holds every offer");
        idle_hwm.push(node["idle_hwm_kib"]);
        idle_rss.push(node["idle_rss_kib"]);
        active_hwm.push(node["active_hwm_kib"]);
        active_rss.push(node["rss_kib"]);
        let am = run_child("automerge", &doc, &[]);
        am_held.push(am["rss_kib"] - am["rss_before_kib"]);
        am_peak.push(am["hwm_kib"] - am["rss_before_kib"]);
    }
    let base_hwm = median(&runtime_hwm);
    let held = median(&am_held) * 1024.0;
    let bound = 4.0 * held + 64.0 * 1024.0 * 1024.0;
    let goal = format!("<= {} (4x+64)", mib(bound));
    for (name, hwm) in [
        ("3 running node, after a write: peak", &active_hwm),
        ("3 running node, idle: peak", &idle_hwm),
    ] {
        let node = (median(hwm) - base_hwm) * 1024.0;
        t.row(
            name,
            mib(node),
            format!("{} am held", mib(held)),
            Some(node / held),
            &goal,
            Some(node <= bound),
        );
    }
    for (name, rss) in [
        ("  after a write: resident now", &active_rss),
        ("  idle: resident now", &idle_rss),
    ] {
        t.info(
            name,
            format!(
                "{} over the runtime child's peak",
                mib((median(rss) - base_hwm) * 1024.0)
            ),
        );
    }
    t.info("  runtime-only child: peak", mib(base_hwm * 1024.0));
    t.info(
        "  automerge load(): peak over before",
        mib(median(&am_peak) * 1024.0),
    );
    t.info(
        "  partition save() bytes",
        mib(std::fs::metadata(&doc).expect("the partition file").len() as f64),
    );
}

// ---------------------------------------------------------------------------------------------
// Child processes.

fn child(mode: &str, path: &Path, extra: &[String]) {
    let mut out = String::new();
    match mode {
        // A founder's store of N offers at `path` and its partition at `path.automerge`.
        "prepare" => {
            let n = extra
                .first()
                .map_or(10_000, |s| s.parse().expect("an offer count"));
            prepare_founder(path, generated_offers(0x155E3, n));
            let org = {
                let r = Replica::open(path, PASS).expect("the store opens");
                let org = r.org();
                r.close().expect("close");
                org
            };
            let own = own_partition(path, org);
            std::fs::write(path.with_extension("automerge"), own).expect("writable");
        }
        // The process and the runtime the node runs on, nothing else.
        "runtime" => {
            let rt = runtime();
            rt.block_on(async {
                let task = tokio::spawn(async { tokio::time::sleep(MEMORY_SETTLE).await });
                task.await.expect("the task runs");
            });
            let _ = writeln!(out, "rss_kib={}", status_kib("self", "VmRSS:"));
        }
        // A running node: opened from the store at `path`, listening on loopback; idle, then
        // after one local write (which loads the own partition into automerge).
        "node" => {
            let rt = runtime();
            let s = Instant::now();
            let replica = Replica::open(path, PASS).expect("the store opens");
            let _ = writeln!(out, "open_ms={}", s.elapsed().as_secs_f64() * 1e3);
            let _ = writeln!(out, "offers={}", replica.view().offer_count());
            rt.block_on(async {
                let node = spawn(replica, vec![]).await;
                listen_addr(&node).await;
                tokio::time::sleep(MEMORY_SETTLE).await;
                let _ = writeln!(out, "idle_rss_kib={}", status_kib("self", "VmRSS:"));
                let _ = writeln!(out, "idle_hwm_kib={}", status_kib("self", "VmHWM:"));
                node.add_offer(edit_offer("memory-write"), NOW)
                    .await
                    .expect("the write succeeds");
                tokio::time::sleep(MEMORY_SETTLE).await;
                let _ = writeln!(out, "rss_kib={}", status_kib("self", "VmRSS:"));
                let _ = writeln!(out, "active_hwm_kib={}", status_kib("self", "VmHWM:"));
                node.shutdown().await;
            });
        }
        // The baseline: automerge holding the same partition.
        "automerge" => {
            let bytes = std::fs::read(path).expect("the partition file is readable");
            let before = status_kib("self", "VmRSS:");
            let s = Instant::now();
            let doc = Automerge::load(&bytes).expect("the partition loads");
            let _ = writeln!(out, "load_ms={}", s.elapsed().as_secs_f64() * 1e3);
            let _ = writeln!(out, "rss_before_kib={before}");
            let _ = writeln!(out, "rss_kib={}", status_kib("self", "VmRSS:"));
            black_box(&doc);
        }
        other => panic!("unknown child mode {other}"),
    }
    let _ = writeln!(out, "hwm_kib={}", status_kib("self", "VmHWM:"));
    print!("{out}");
}

/// CPU time this process used so far, all threads, user and system, in milliseconds (clock
/// ticks of 10 ms).
fn process_cpu_ms() -> f64 {
    cpu_s("/proc/self/stat") * 1e3
}

// ---------------------------------------------------------------------------------------------
// The deterministic data generator (shared with the other benchmarks).

include!("common/generator.rs");
