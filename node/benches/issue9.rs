//! The benchmark of issue 9 §5: relays, hole punching and the mailbox, over libp2p on loopback,
//! each figure next to a baseline measured in the same run.
//!
//! ```text
//! cargo build --release -p puente                # §3 runs the real `puente relay` binary
//! cargo bench -p puente-node --bench issue9      # everything, ~2.5 min
//! cargo bench -p puente-node --bench issue9 -- edit circuits   # some sections only
//! ```
//!
//! Measured:
//! 1. **one edit reaching a partner** over three paths, each a network of two nodes of its
//!    own: (a) direct (the baseline: both listen on loopback and the partner dials the
//!    writer's address), (b) through a relay only (both nodes listen nowhere, `listen: vec![]`,
//!    so each is reachable only through its reservation on the relay), (c) after a hole punch
//!    (both listen on loopback and know no address of each other: they meet through the relay,
//!    and the run waits until both report the partner `Reach::Direct`). From the
//!    `Node::add_offer` call on the writer (its durable write included) until the partner's
//!    view holds the offer; the two nodes take turns writing; the paths are interleaved
//!    (a, b, c, a, b, c, ...) and the pair is quiet before each edit. Medians and p99, ratios
//!    against (a).
//! 2. **initial sync of N offers** (default 10 000, the generator of issue 3 through the real
//!    CSV import) to a fresh partner through the relay only (both nodes listen nowhere),
//!    against direct (the partner dials the founder's address), interleaved. Time from the
//!    partner's `Node::spawn` until its view holds N offers; bytes counted by a TCP proxy in
//!    front of the relay (every byte in and out of the relay's sockets, both nodes') and in
//!    front of the founder (every byte on its socket), and the founder's sync bytes
//!    (`NodeStatus`). Two relayed variants, each a network that used its relay before (the
//!    founder's log was deposited once): with the mailbox holding that log (the partner also
//!    collects it, as a real partner joining such a network does), and with the mailbox empty
//!    (the same relay restarted from a copy of its store taken before the deposit, so the
//!    founder has nothing left to deposit and sync has only the circuit).
//! 3. **relay CPU and memory per 100 open circuits**: the real `puente relay` binary in a
//!    child process (its `/proc/PID/stat` CPU ticks and `/proc/PID/status` VmRSS), with
//!    `PUENTE_BENCH_CIRCUIT_NODES` (25) bare transports (`net::Net`, `listen: vec![]`) in this
//!    process, each with a circuit to its `PUENTE_BENCH_CIRCUIT_PEERS` (4) next neighbours on
//!    each side of a ring (it dials those ahead and only accepts those behind: 25 x 4 = 100
//!    circuits, 8 per transport, since a transport holds about 10 at most, see
//!    `docs/performance.md`). Windows: the relay alone, with the
//!    reservations only, with the circuits idle, and with every circuit carrying one small
//!    frame per second. Then the same load against `RelayService` in this process on a
//!    runtime of its own, for what the child cannot tell: the relay's own counters (circuits
//!    open, opened, denied) and the CPU of its threads. The binary is looked up next to this
//!    benchmark's (`target/release/puente`) or taken from `PUENTE_BENCH_RELAY_BIN` (empty:
//!    skip it); without it only the in-process half runs.
//! 4. **mailbox, 1,000 envelopes**: a node writes `PUENTE_BENCH_MAILBOX_EDITS` (1,000) separate
//!    edits while its only partner is stopped; from the last write until the node's status
//!    says the relay acknowledged them all (`RelayReport::deposited`); the bytes `relay.redb`
//!    takes per envelope held (blocks allocated, fresh store to the stopped relay's); then the
//!    writer stops, the partner starts, and the time from its `Node::spawn` until its view
//!    holds them all (collection). Baselines from the same run, a network without relay: the
//!    same edits reaching a partner that is online (from the last write), and a partner that
//!    was stopped starting and catching up by direct sync. Then `PUENTE_BENCH_MAILBOX_SINGLES`
//!    (10) single edits, each after a pause of 0.3 to 1.3 s: from the write until the relay
//!    acknowledged it (against the online partner's figure). Beside them, what a node sends a
//!    relay whose mailbox is full, while idle.
//!
//! The relay of §1, §2 and §4 is `RelayService` in this process on a runtime of its own (two
//! worker threads, as `puente relay` has on this machine), the nodes on the benchmark's
//! runtime (two worker threads). Arrival is polled through the nodes' public handles, see
//! `common/net.rs`, [`net::arrivals`].
//!
//! Environment: `PUENTE_BENCH_EDITS` (§1, default 50), `PUENTE_BENCH_SYNC_OFFERS` (§2, 10000),
//! `PUENTE_BENCH_SYNC_RUNS` (§2, 5), `PUENTE_BENCH_CIRCUIT_NODES` (§3, 25),
//! `PUENTE_BENCH_CIRCUIT_PEERS` (§3, 4), `PUENTE_BENCH_CIRCUIT_SECS` (§3, 10),
//! `PUENTE_BENCH_MAILBOX_EDITS` (§4, 1000), `PUENTE_BENCH_MAILBOX_RUNS` (§4, 1),
//! `PUENTE_BENCH_MAILBOX_SINGLES` (§4, 10),
//! `PUENTE_BENCH_RELAY_BIN`, `PUENTE_BENCH_DIR`. Arguments: the section names `edit`, `sync`,
//! `circuits`, `mailbox` (default all). Results are in `docs/performance.md`, "Issue 9: relay,
//! hole punching and mailbox".

#[path = "common/net.rs"]
mod net;
#[path = "common/process.rs"]
mod process;

use std::fmt::Write as _;
use std::future::Future;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use puente_crdt::NewOffer;
use puente_crdt::time::{local_date, zone};
use puente_node::actor::{Node, NodeConfig, Reach};
use puente_node::envelope::NetworkId;
use puente_node::identity::{PublicKey, SecretKey};
use puente_node::interchange::parse_offers_csv;
use puente_node::membership::Role;
use puente_node::net::{
    Net, NetConfig, NetError, NetEvent, NetLimits, PathKind, RelayConfig, RelayCounters,
    RelayLimits, parse_relay_address,
};
use puente_node::relay::access::RelayTicket;
use puente_node::relay::service::{RelayService, RelayServiceConfig};
use puente_node::relay::store::{DB_FILE, MailboxLimits, RelayStore};
use puente_node::relay::wire::{Request, Response, network_tag};
use puente_node::replica::Replica;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::runtime::Runtime;

use net::{
    LOOPBACK, NETWORK, NOW, PASS, QUIET_POLL, TZ, Table, admit, arrivals, bench_dir, copy_store,
    edit_offer, env_usize, founder_and_partner, init, kb, listen_addr, load_average, machine,
    median, pct, prepare_founder, quiet, runtime, spawn, spread, tempdir,
};
use process::{cpu_s, status_kib};

/// How long one edit, a connection, a sync or a mailbox round may take before the run gives up.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Untimed edits per path first (connections warm, automerge loaded).
const WARMUP: usize = 3;

/// The three paths of §1, in the order they are interleaved.
const PATHS: [&str; 3] = ["direct", "relay only", "hole punched"];

/// How often §2 and §4 ask a partner how many offers its view holds.
const COUNT_POLL: Duration = Duration::from_millis(2);

/// How often §4 asks the writer what the relay acknowledged.
const DEPOSIT_POLL: Duration = Duration::from_millis(1);

/// The largest mailbox entry the node's relay client deposits (`relay::client`), so that the
/// "everything deposited" check skips what the node skips.
const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

/// §4: the pause before each single edit (at least), so that the deposits have gone quiet.
const SINGLE_PAUSE: Duration = Duration::from_millis(300);

/// §4: edits written before the relay's mailbox is found full.
const FULL_MAILBOX_EDITS: usize = 20;

/// §4: how long the writer with a full mailbox is watched.
const FULL_MAILBOX_WINDOW: Duration = Duration::from_secs(2);

/// §3: the size of the frame each circuit carries once a second (a small sync message).
const CIRCUIT_FRAME_BYTES: usize = 200;

/// §3: the windows with the relay alone and with reservations only (CPU reported per 10 s).
const SHORT_WINDOW: Duration = Duration::from_secs(5);

/// §3: the pause after the circuits are up before the idle window (identify, hole-punch
/// attempts and the first pings are over).
const CIRCUIT_SETTLE: Duration = Duration::from_secs(2);

/// §3: the pause between two transports starting to dial their neighbours (a burst of a
/// few circuits at a time, as members starting one after another make).
const CIRCUIT_PACE: Duration = Duration::from_millis(20);

/// §3: how long the setup waits without a new circuit before it reports how many came up.
const CIRCUIT_STALL: Duration = Duration::from_secs(10);

/// Names of the threads of an in-process relay's runtime (to sum their CPU time).
const RELAY_THREAD: &str = "bench-relay";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cfg = Config::from(&args[1..]);
    let base = bench_dir();
    std::fs::create_dir_all(&base).expect("the benchmark directory can be created");
    println!(
        "puente issue 9 benchmark: sections {:?}; {} edits per path; sync of {} offers x {} runs; {} transports x {} circuits, {} s windows; mailbox {} edits x {} runs; files in {}",
        cfg.sections,
        cfg.edits,
        cfg.sync_offers,
        cfg.sync_runs,
        cfg.circuit_nodes,
        cfg.circuit_peers,
        cfg.circuit_secs,
        cfg.mailbox_edits,
        cfg.mailbox_runs,
        base.display()
    );
    println!("{}", machine());
    let rt = runtime();
    if cfg.has("edit") {
        let mut t = Table::new("1 one edit reaching a partner: direct, relay only, hole punched");
        bench_edit(&base, &cfg, &rt, &mut t);
        t.info("load average now", load_average());
        t.print();
    }
    if cfg.has("sync") {
        let mut t = Table::new(&format!(
            "2 initial sync of {} offers to a fresh partner, relay only against direct",
            cfg.sync_offers
        ));
        bench_sync(&base, &cfg, &rt, &mut t);
        t.info("load average now", load_average());
        t.print();
    }
    if cfg.has("circuits") {
        let mut t = Table::new(&format!(
            "3 relay CPU and memory, {} transports with {} circuits",
            cfg.circuit_nodes,
            cfg.circuit_nodes * cfg.circuit_peers
        ));
        bench_circuits(&base, &cfg, &rt, &mut t);
        t.info("load average now", load_average());
        t.print();
    }
    if cfg.has("mailbox") {
        let mut t = Table::new(&format!(
            "4 mailbox: {} envelopes deposited and collected",
            cfg.mailbox_edits
        ));
        bench_mailbox(&base, &cfg, &rt, &mut t);
        t.info("load average at the end", load_average());
        t.print();
    }
}

struct Config {
    sections: Vec<String>,
    edits: usize,
    sync_offers: usize,
    sync_runs: usize,
    circuit_nodes: usize,
    circuit_peers: usize,
    circuit_secs: usize,
    mailbox_edits: usize,
    mailbox_runs: usize,
    mailbox_singles: usize,
}

impl Config {
    fn from(args: &[String]) -> Config {
        // `cargo bench` passes `--bench`; anything that is not a section is ignored.
        let mut sections: Vec<String> = args
            .iter()
            .filter(|a| matches!(a.as_str(), "edit" | "sync" | "circuits" | "mailbox"))
            .cloned()
            .collect();
        if sections.is_empty() {
            sections = ["edit", "sync", "circuits", "mailbox"]
                .map(String::from)
                .to_vec();
        }
        let cfg = Config {
            sections,
            edits: env_usize("PUENTE_BENCH_EDITS", 50),
            sync_offers: env_usize("PUENTE_BENCH_SYNC_OFFERS", 10_000),
            sync_runs: env_usize("PUENTE_BENCH_SYNC_RUNS", 5),
            circuit_nodes: env_usize("PUENTE_BENCH_CIRCUIT_NODES", 25),
            circuit_peers: env_usize("PUENTE_BENCH_CIRCUIT_PEERS", 4),
            circuit_secs: env_usize("PUENTE_BENCH_CIRCUIT_SECS", 10),
            mailbox_edits: env_usize("PUENTE_BENCH_MAILBOX_EDITS", 1_000),
            mailbox_runs: env_usize("PUENTE_BENCH_MAILBOX_RUNS", 1),
            mailbox_singles: env_usize("PUENTE_BENCH_MAILBOX_SINGLES", 10),
        };
        assert!(
            2 * cfg.circuit_peers < cfg.circuit_nodes,
            "PUENTE_BENCH_CIRCUIT_PEERS must be below half of PUENTE_BENCH_CIRCUIT_NODES (each pair once)"
        );
        cfg
    }

    fn has(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

// ---------------------------------------------------------------------------------------------
// Relays, networks and nodes.

/// `RelayService` in this process, on a runtime of its own (as `puente relay` has its own
/// threads): the nodes' runtime does not run it.
struct RelayHost {
    service: Option<RelayService>,
    key: PublicKey,
    addrs: Vec<String>,
    dir: PathBuf,
    // Last: dropped after the service.
    rt: Runtime,
}

impl RelayHost {
    /// A relay keeping its data in `dir`, serving the networks of `tickets`, on loopback.
    fn start(dir: &Path, tickets: &[RelayTicket], limits: MailboxLimits) -> RelayHost {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(net::WORKER_THREADS)
            .thread_name(RELAY_THREAD)
            .enable_all()
            .build()
            .expect("the relay's runtime");
        let store = RelayStore::open(dir, limits).expect("the relay store opens");
        for ticket in tickets {
            RelayService::admit(&store, ticket).expect("the network is admitted");
        }
        let service = rt
            .block_on(RelayService::start(
                store,
                RelayServiceConfig {
                    listen: vec![LOOPBACK.into()],
                    announce: Vec::new(),
                    limits: RelayLimits::default(),
                },
            ))
            .expect("the relay starts");
        let addrs = rt.block_on(service.listen_addrs()).expect("the relay runs");
        RelayHost {
            key: service.key(),
            service: Some(service),
            addrs,
            dir: dir.to_path_buf(),
            rt,
        }
    }

    fn counters(&self) -> RelayCounters {
        let service = self.service.as_ref().expect("the relay runs");
        self.rt
            .block_on(service.counters())
            .expect("the relay runs")
    }

    /// Bytes of the relay's database file now: its length, and what the file system
    /// allocated for it.
    fn db_bytes(&self) -> (u64, u64) {
        db_bytes(&self.dir)
    }

    fn stop(mut self) {
        if let Some(service) = self.service.take() {
            self.rt.block_on(service.stop()).expect("the relay stops");
        }
    }
}

/// Bytes of the database file of the relay keeping its data in `dir`: its length, and what the
/// file system allocated for it.
fn db_bytes(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(dir.join(DB_FILE)).expect("the relay's database file");
    (meta.len(), meta.blocks() * 512)
}

/// The ticket an admin of `admin`'s network hands the relay's operator.
fn ticket(admin: &Replica) -> RelayTicket {
    let admins = admin
        .membership()
        .expect("in a network")
        .state()
        .admin_devices();
    RelayTicket::new(&admin.network(), admins)
}

/// Two organisations in a network of their own, `dir/a` founding it.
fn pair(dir: &Path) -> Vec<Replica> {
    let mut a = init(&dir.join("a"), "Org A");
    a.create_network(NETWORK, NOW)
        .expect("the network is founded");
    let mut b = init(&dir.join("b"), "Org B");
    admit(&mut a, &mut b, "Org B", Role::Member);
    vec![a, b]
}

/// The admin `replicas[0]` makes the network use the relay `key` at `addrs`; the others learn
/// it (as after an earlier sync).
fn use_relay(replicas: &mut [Replica], key: PublicKey, addrs: Vec<String>) {
    let ops = replicas[0]
        .set_relay(key, addrs, true, NOW)
        .expect("the admin adds the relay");
    for r in &mut replicas[1..] {
        r.apply_membership(&ops).expect("learns the relay");
    }
}

/// A node that listens nowhere: members reach it only through a relay.
async fn spawn_unlistening(replica: Replica) -> Node {
    Node::spawn(
        replica,
        NodeConfig {
            listen: Vec::new(),
            ..Default::default()
        },
    )
    .await
    .expect("the node starts")
}

/// Waits, polling, until `check` holds; panics with `what` after [`TIMEOUT`].
async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < TIMEOUT, "{what}: not within {TIMEOUT:?}");
        tokio::time::sleep(QUIET_POLL).await;
    }
}

/// Whether `node` has an established session with `peer` and reaches it as `want` says.
async fn reaches(node: &Node, peer: PublicKey, want: fn(Reach) -> bool) -> bool {
    let s = node.status().await.expect("the node runs");
    s.peers.iter().any(|p| p.key == peer && p.established)
        && s.paths.get(&peer).is_some_and(|p| want(p.reach))
}

fn is_direct(r: Reach) -> bool {
    r == Reach::Direct
}

fn is_relayed(r: Reach) -> bool {
    matches!(r, Reach::Relayed(_))
}

fn reach_name(r: Option<Reach>) -> &'static str {
    match r {
        Some(Reach::Direct) => "direct",
        Some(Reach::Relayed(_)) => "relayed",
        Some(_) => "unreachable",
        None => "unknown",
    }
}

async fn reach_of(node: &Node, peer: PublicKey) -> Option<Reach> {
    let s = node.status().await.expect("the node runs");
    s.paths.get(&peer).map(|p| p.reach)
}

/// Whether the relay holds everything `node` deposits there: nothing is left to deposit.
async fn all_deposited(node: &Node, relay: PublicKey) -> bool {
    node.with_control(move |c| {
        let r = c.replica();
        let cursor = r.mailbox_cursor(&relay);
        r.mailbox_deposit(&cursor, 1, usize::MAX, MAX_ENTRY_BYTES)
            .is_ok_and(|d| d.entries.is_empty())
    })
    .await
    .expect("the node runs")
}

/// What the relay acknowledged to `node` since it started, and the last problem.
async fn mailbox_report(node: &Node, relay: PublicKey) -> (u64, u64, Option<String>) {
    let s = node.status().await.expect("the node runs");
    s.mailbox.get(&relay).map_or((0, 0, None), |m| {
        (
            m.deposited,
            m.collected,
            m.problem.as_ref().map(ToString::to_string),
        )
    })
}

async fn offer_count(node: &Node) -> usize {
    node.with_control(|c| c.replica().view().offer_count())
        .await
        .expect("the node runs")
}

/// Polls `node` every [`COUNT_POLL`] until its view holds `n` offers; milliseconds since
/// `start`.
async fn until_offers(node: &Node, n: usize, start: Instant, what: &str) -> f64 {
    loop {
        let count = offer_count(node).await;
        if count >= n {
            return start.elapsed().as_secs_f64() * 1e3;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "{what}: {count} of {n} offers after {TIMEOUT:?}"
        );
        tokio::time::sleep(COUNT_POLL).await;
    }
}

// ---------------------------------------------------------------------------------------------
// A byte-counting TCP proxy.

/// Forwards every connection made to it to `target` and counts the bytes both ways: what
/// crosses the target's sockets. Its task (and every connection's) ends when it is dropped.
struct Proxy {
    addr: String,
    bytes: Arc<AtomicU64>,
    /// The target's port on loopback, read at each new connection.
    port: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// A proxy on loopback for the multiaddress `target` (`/ip4/127.0.0.1/tcp/PORT`).
    async fn start(target: &str) -> Proxy {
        let port = Arc::new(AtomicU16::new(tcp_port(target)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy listens");
        let addr = format!(
            "/ip4/127.0.0.1/tcp/{}",
            listener.local_addr().expect("bound").port()
        );
        let bytes = Arc::new(AtomicU64::new(0));
        let counted = bytes.clone();
        let target_port = port.clone();
        let task = tokio::spawn(async move {
            // Owned by the accept loop: aborted with it.
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((inbound, _)) = listener.accept().await {
                let counted = counted.clone();
                let target = std::net::SocketAddr::from((
                    [127, 0, 0, 1],
                    target_port.load(Ordering::Relaxed),
                ));
                conns.spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    tokio::join!(pump(ri, wo, &counted), pump(ro, wi, &counted));
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Proxy {
            addr,
            bytes,
            port,
            task,
        }
    }

    /// New connections go to `target` from now on.
    fn retarget(&self, target: &str) {
        self.port.store(tcp_port(target), Ordering::Relaxed);
    }

    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The port of a `/ip4/127.0.0.1/tcp/PORT` multiaddress.
fn tcp_port(addr: &str) -> u16 {
    addr.rsplit('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a TCP multiaddress on loopback")
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counted: &AtomicU64,
) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counted.fetch_add(n as u64, Ordering::Relaxed);
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// §1 One edit reaching a partner.

fn bench_edit(base: &Path, cfg: &Config, rt: &Runtime, t: &mut Table) {
    let tmp = tempdir(base, "issue9-edit-");
    let mut pairs: Vec<Vec<Replica>> = PATHS
        .iter()
        .enumerate()
        .map(|(i, _)| pair(&tmp.path().join(format!("p{i}"))))
        .collect();
    let relay = RelayHost::start(
        &tmp.path().join("relay"),
        &[ticket(&pairs[1][0]), ticket(&pairs[2][0])],
        MailboxLimits::default(),
    );
    for p in &mut pairs[1..] {
        use_relay(p, relay.key, relay.addrs.clone());
    }
    let keys: Vec<[PublicKey; 2]> = pairs
        .iter()
        .map(|p| [p[0].public_key(), p[1].public_key()])
        .collect();
    let mut pairs = pairs.into_iter();
    let (nodes, relayed_ms, punched_ms) = rt.block_on(async {
        // (a) direct: B dials A's address; no relay in the network.
        let mut p = pairs.next().expect("three pairs");
        let b = p.pop().expect("two");
        let a = spawn(p.pop().expect("two"), vec![]).await;
        let b = spawn(b, vec![(keys[0][0], listen_addr(&a).await)]).await;
        let direct = vec![a, b];
        // (b) relay only: neither listens anywhere.
        let mut p = pairs.next().expect("three pairs");
        let start = Instant::now();
        let b = spawn_unlistening(p.pop().expect("two")).await;
        let a = spawn_unlistening(p.pop().expect("two")).await;
        let relayed = vec![a, b];
        // (c) hole punched: both listen on loopback, neither knows the other's address.
        let mut p = pairs.next().expect("three pairs");
        let punch_start = Instant::now();
        let b = spawn(p.pop().expect("two"), vec![]).await;
        let a = spawn(p.pop().expect("two"), vec![]).await;
        let punched = vec![a, b];

        until("the direct pair connects", || async {
            reaches(&direct[0], keys[0][1], is_direct).await
                && reaches(&direct[1], keys[0][0], is_direct).await
        })
        .await;
        until("the relay-only pair connects through the relay", || async {
            reaches(&relayed[0], keys[1][1], is_relayed).await
                && reaches(&relayed[1], keys[1][0], is_relayed).await
        })
        .await;
        let relayed_ms = start.elapsed().as_secs_f64() * 1e3;
        until("the hole-punched pair connects directly", || async {
            reaches(&punched[0], keys[2][1], is_direct).await
                && reaches(&punched[1], keys[2][0], is_direct).await
        })
        .await;
        let punched_ms = punch_start.elapsed().as_secs_f64() * 1e3;
        (vec![direct, relayed, punched], relayed_ms, punched_ms)
    });

    let mut latency: Vec<Vec<f64>> = vec![Vec::new(); PATHS.len()];
    let mut after_write: Vec<Vec<f64>> = vec![Vec::new(); PATHS.len()];
    let mut write: Vec<f64> = Vec::new();
    for k in 0..WARMUP + cfg.edits {
        for (v, pair) in nodes.iter().enumerate() {
            rt.block_on(quiet(pair, TIMEOUT));
            let writer = k % 2;
            let handle = format!("e{v}-{}", letters(k as u64));
            let start = Instant::now();
            rt.block_on(pair[writer].add_offer(edit_offer(&handle), NOW))
                .expect("the edit is written");
            let wrote = start.elapsed().as_secs_f64() * 1e3;
            let got = arrivals(
                rt,
                pair,
                vec![1 - writer],
                start,
                TIMEOUT,
                "an edit",
                |node| {
                    let handle = handle.clone();
                    async move {
                        let handles = node.offer_handles().await.expect("the node runs");
                        handles.binary_search(&handle).is_ok()
                    }
                },
            );
            if k >= WARMUP {
                latency[v].push(got[0]);
                after_write[v].push(got[0] - wrote);
                write.push(wrote);
            }
        }
    }
    let ends: Vec<String> = nodes
        .iter()
        .zip(&keys)
        .map(|(pair, keys)| {
            let (x, y) = rt.block_on(async {
                (
                    reach_of(&pair[0], keys[1]).await,
                    reach_of(&pair[1], keys[0]).await,
                )
            });
            format!("{}/{}", reach_name(x), reach_name(y))
        })
        .collect();
    let counters = relay.counters();
    rt.block_on(async {
        for node in nodes.iter().flatten() {
            node.shutdown().await;
        }
    });
    relay.stop();

    let (base50, base99) = (median(&latency[0]), pct(&latency[0], 0.99));
    for (v, name) in PATHS.iter().enumerate().skip(1) {
        let (p50, p99) = (median(&latency[v]), pct(&latency[v], 0.99));
        t.row(
            &format!("1 edit to the partner, {name}: p50"),
            format!("{p50:.2} ms"),
            format!("{base50:.2} ms direct"),
            Some(p50 / base50),
            "(report)",
            None,
        );
        t.row(
            "  p99",
            format!("{p99:.2} ms"),
            format!("{base99:.2} ms direct"),
            Some(p99 / base99),
            "(report)",
            None,
        );
    }
    for (v, name) in PATHS.iter().enumerate() {
        t.info(&format!("  {name}: p50 / p90 / max"), spread(&latency[v]));
    }
    let (net50, net99) = (median(&after_write[0]), pct(&after_write[0], 0.99));
    for (v, name) in PATHS.iter().enumerate().skip(1) {
        let (p50, p99) = (median(&after_write[v]), pct(&after_write[v], 0.99));
        t.row(
            &format!("  {name}, after add_offer returned: p50/p99"),
            format!("{p50:.2} / {p99:.2} ms"),
            format!("{net50:.2} / {net99:.2} ms direct"),
            Some(p50 / net50),
            "(report)",
            None,
        );
    }
    t.info(
        "  writer's add_offer (durable write) p50/p99",
        format!("{:.2} / {:.2} ms", median(&write), pct(&write, 0.99)),
    );
    t.info(
        "  relay only: both relayed, after start",
        format!("{relayed_ms:.0} ms"),
    );
    t.info(
        "  hole punched: both direct, after start",
        format!("{punched_ms:.0} ms"),
    );
    t.info(
        "  paths at the end (A/B)",
        PATHS
            .iter()
            .zip(&ends)
            .map(|(name, end)| format!("{name} {end}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    t.info(
        "  relay at the end",
        format!(
            "{} connections, {} reservations, {} circuits open, {} opened, {} denied",
            counters.connections,
            counters.reservations,
            counters.circuits,
            counters.circuits_opened,
            counters.denied
        ),
    );
    t.info(
        "samples",
        format!(
            "{} per path (+{WARMUP} warm-up), interleaved, writers alternate",
            cfg.edits
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// §2 Initial sync through the relay only against direct.

struct SyncRun {
    ms: f64,
    /// Bytes through the proxy: the relay's sockets, or the founder's.
    socket_bytes: u64,
    /// The founder's sync bytes on the wire (`NodeStatus`), sent + received.
    sync_bytes: u64,
    /// Mailbox entries the partner collected.
    collected: u64,
    /// The partner's path to the founder at the end.
    reach: Option<Reach>,
}

/// A relayed variant of §2: a copy of the founder's store whose admin added a relay (behind a
/// counting proxy); the founder's log deposited there once, as in a network that has been
/// using its relay. With `mailbox` the mailbox holds it; without, the relay is the same
/// relay (key, store instance) started from a copy of its store taken before the deposit: the
/// founder has nothing left to deposit and the partner finds the mailbox empty, so sync has
/// only the circuit.
struct Relayed {
    dir: PathBuf,
    relay: RelayHost,
    proxy: Proxy,
    mailbox: bool,
}

impl Relayed {
    fn prepare(rt: &Runtime, a_dir: &Path, dir: &Path, mailbox: bool) -> Relayed {
        let store_dir = dir.join("a");
        copy_store(a_dir, &store_dir);
        let mut a = Replica::open(&store_dir, PASS).expect("the copy opens");
        let empty = dir.join("relay-empty");
        let store = RelayStore::open(&empty, MailboxLimits::default()).expect("the relay store");
        RelayService::admit(&store, &ticket(&a)).expect("the network is admitted");
        store.close().expect("close");
        let used = dir.join("relay");
        copy_store(&empty, &used);
        let relay = RelayHost::start(&used, &[], MailboxLimits::default());
        let proxy = rt.block_on(Proxy::start(&relay.addrs[0]));
        a.set_relay(relay.key, vec![proxy.addr.clone()], true, NOW)
            .expect("the admin adds the relay");
        a.close().expect("close");
        rt.block_on(async {
            let a = spawn_unlistening(Replica::open(&store_dir, PASS).expect("opens")).await;
            until("the founder deposits its log", || {
                all_deposited(&a, relay.key)
            })
            .await;
            a.shutdown().await;
        });
        let relay = if mailbox {
            relay
        } else {
            relay.stop();
            let fresh = RelayHost::start(&empty, &[], MailboxLimits::default());
            proxy.retarget(&fresh.addrs[0]);
            fresh
        };
        Relayed {
            dir: store_dir,
            relay,
            proxy,
            mailbox,
        }
    }
}

fn bench_sync(base: &Path, cfg: &Config, rt: &Runtime, t: &mut Table) {
    let n = cfg.sync_offers;
    let tmp = tempdir(base, "issue9-sync-");
    let a_dir = tmp.path().join("a");
    let s = Instant::now();
    // The founder holds the same offers as issue 3's.
    let a_key = prepare_founder(&a_dir, generated_offers(0x155E3, n));
    // Two relayed networks, each a copy of the founder whose admin added a relay: the same
    // log plus one op. In one the mailbox refuses everything, in the other it holds the
    // founder's log.
    let variants = [
        Relayed::prepare(rt, &a_dir, &tmp.path().join("circuit"), false),
        Relayed::prepare(rt, &a_dir, &tmp.path().join("mailbox"), true),
    ];
    t.info(
        "prepare (import, snapshot, first deposit)",
        format!("{:.1} s", s.elapsed().as_secs_f64()),
    );
    let deposit_bytes = variants[1].proxy.bytes();

    let mut direct: Vec<SyncRun> = Vec::new();
    let mut relayed: [Vec<SyncRun>; 2] = Default::default();
    for run in 0..cfg.sync_runs {
        let d = sync_direct(rt, &a_dir, tmp.path(), run, a_key, n);
        println!(
            "  run {run}: direct {:.0} ms, {} B on the founder's socket, {} B sync",
            d.ms, d.socket_bytes, d.sync_bytes
        );
        direct.push(d);
        for (v, variant) in variants.iter().enumerate() {
            let r = sync_relayed(rt, variant, tmp.path(), run, n);
            println!(
                "  run {run}: relay only{} {:.0} ms, {} B through the relay's sockets, {} B sync, {} mailbox entries collected",
                if variant.mailbox {
                    ", log in the mailbox,"
                } else {
                    ""
                },
                r.ms,
                r.socket_bytes,
                r.sync_bytes,
                r.collected
            );
            relayed[v].push(r);
        }
    }
    let counters: Vec<RelayCounters> = variants.iter().map(|v| v.relay.counters()).collect();
    for v in variants {
        drop(v.proxy);
        v.relay.stop();
    }

    let med = |runs: &[SyncRun], f: fn(&SyncRun) -> f64| {
        median(&runs.iter().map(f).collect::<Vec<f64>>())
    };
    let dm = med(&direct, |r| r.ms);
    let db = med(&direct, |r| r.socket_bytes as f64);
    let ds = med(&direct, |r| r.sync_bytes as f64);
    for (v, name) in ["relay only", "relay only, log in the mailbox"]
        .iter()
        .enumerate()
    {
        let runs = &relayed[v];
        let rm = med(runs, |r| r.ms);
        t.row(
            &format!("2 time to a fresh partner, {name}"),
            format!("{rm:.0} ms"),
            format!("{dm:.0} ms direct"),
            Some(rm / dm),
            "(report)",
            None,
        );
        let rb = med(runs, |r| r.socket_bytes as f64);
        t.row(
            "  bytes on the relay's / founder's sockets",
            kb(rb),
            format!("{} direct", kb(db)),
            Some(rb / db),
            "(report)",
            None,
        );
        let rs = med(runs, |r| r.sync_bytes as f64);
        t.row(
            "  founder's sync bytes (sent + received)",
            kb(rs),
            format!("{} direct", kb(ds)),
            Some(rs / ds),
            "(report)",
            None,
        );
        t.info(
            "  per run, relayed / direct",
            runs.iter()
                .zip(&direct)
                .map(|(r, d)| format!("{:.0}/{:.0}", r.ms, d.ms))
                .collect::<Vec<_>>()
                .join(" ")
                + " ms",
        );
        t.info(
            "  partner: mailbox entries collected; path",
            format!(
                "{:.0}; {} (direct: {})",
                med(runs, |r| r.collected as f64),
                reach_name(runs.last().and_then(|r| r.reach)),
                reach_name(direct.last().and_then(|r| r.reach))
            ),
        );
        t.info(
            "  relay at the end",
            format!(
                "{} circuits opened, {} denied",
                counters[v].circuits_opened, counters[v].denied
            ),
        );
    }
    t.info(
        "  the founder's log deposited once",
        format!("{} through the relay's sockets", kb(deposit_bytes as f64)),
    );
}

/// The founder reopened, a fresh partner admitted; the partner dials the founder's address
/// (through a counting proxy) and is timed from its spawn until its view holds `n` offers.
fn sync_direct(
    rt: &Runtime,
    a_dir: &Path,
    tmp: &Path,
    run: usize,
    a_key: PublicKey,
    n: usize,
) -> SyncRun {
    let (a, b) = founder_and_partner(
        a_dir,
        &tmp.join(format!("d{run}")),
        &format!("Direct {run}"),
    );
    rt.block_on(async move {
        let a = spawn(a, vec![]).await;
        let proxy = Proxy::start(&listen_addr(&a).await).await;
        let start = Instant::now();
        let b = spawn(b, vec![(a_key, proxy.addr.clone())]).await;
        let ms = until_offers(&b, n, start, "direct sync").await;
        let st = quiet(&[a.clone(), b.clone()], TIMEOUT).await;
        let reach = reach_of(&b, a_key).await;
        a.shutdown().await;
        b.shutdown().await;
        SyncRun {
            ms,
            socket_bytes: proxy.bytes(),
            sync_bytes: st[0].wire_bytes_sent + st[0].wire_bytes_received,
            collected: 0,
            reach,
        }
    })
}

/// The same through the relay only: neither node listens anywhere. The founder starts first
/// and has given the relay the new member and the mailbox its new ops before the partner is
/// spawned and timed.
fn sync_relayed(rt: &Runtime, variant: &Relayed, tmp: &Path, run: usize, n: usize) -> SyncRun {
    let (a, b) = founder_and_partner(
        &variant.dir,
        &tmp.join(format!("r{run}-{}", u8::from(variant.mailbox))),
        &format!("Relayed {run}"),
    );
    let a_key = a.public_key();
    let relay_key = variant.relay.key;
    let proxy = &variant.proxy;
    rt.block_on(async move {
        let a = spawn_unlistening(a).await;
        // The access update goes before any deposit, so once the new member's admission is
        // deposited the relay knows the new member.
        until("the founder deposits the new ops", || {
            all_deposited(&a, relay_key)
        })
        .await;
        let before = proxy.bytes();
        let start = Instant::now();
        let b = spawn_unlistening(b).await;
        let ms = until_offers(&b, n, start, "relayed sync").await;
        let st = quiet(&[a.clone(), b.clone()], TIMEOUT).await;
        if variant.mailbox {
            // The mailbox collection runs beside sync; let it finish before counting.
            until("the partner collects the mailbox", || async {
                let (_, collected, _) = mailbox_report(&b, relay_key).await;
                collected > 0
            })
            .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (_, collected, _) = mailbox_report(&b, relay_key).await;
        let reach = reach_of(&b, a_key).await;
        let socket_bytes = proxy.bytes() - before;
        a.shutdown().await;
        b.shutdown().await;
        SyncRun {
            ms,
            socket_bytes,
            sync_bytes: st[0].wire_bytes_sent + st[0].wire_bytes_received,
            collected,
            reach,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// §3 Relay CPU and memory per 100 circuits.

/// CPU seconds so far and resident set (KiB) of a relay.
#[derive(Clone, Copy)]
struct Sample {
    cpu_s: f64,
    rss_kib: Option<f64>,
}

/// What one circuit load measured on one relay.
struct Load {
    empty: Sample,
    empty_cpu_per_10s: f64,
    reserved: Sample,
    reserved_cpu_per_10s: f64,
    idle: Sample,
    idle_cpu: f64,
    active: Sample,
    active_cpu: f64,
    /// The idle and active windows, seconds.
    window_s: f64,
    /// Pairs connected through the relay (a circuit each) when the idle window started.
    pairs: usize,
    /// Pairs that should have been.
    wanted: usize,
    setup_s: f64,
    frames_sent: u64,
    frames_received: u64,
    send_errors: u64,
    /// Connections (both ends counted) through the relay at the end, of `2 × pairs`.
    still: usize,
    counters: Vec<(&'static str, RelayCounters)>,
}

fn bench_circuits(base: &Path, cfg: &Config, rt: &Runtime, t: &mut Table) {
    let tmp = tempdir(base, "issue9-circuits-");
    let n = cfg.circuit_nodes;
    let seeds: Vec<[u8; 32]> = (0..n)
        .map(|i| {
            let mut s = [0x39; 32];
            s[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            s
        })
        .collect();
    let network = NetworkId::generate();
    let admin = SecretKey::from_bytes(&seeds[0]).public();
    let ticket = RelayTicket::new(&network, vec![admin]);

    match relay_binary() {
        Some(bin) => {
            let child = RelayChild::start(&bin, &tmp.path().join("cli-relay"), &ticket);
            println!("  §3: `{}` as pid {}", bin.display(), child.child.id());
            let load = circuit_load(rt, cfg, &seeds, &network, child.key, &child.addrs, &|| {
                child.sample()
            }, &|| None);
            let hwm = child.hwm_kib();
            child.stop();
            report_load(t, "puente relay (child process)", &load, hwm);
        }
        None => t.info(
            "3 puente relay (child process)",
            "not run: no target/release/puente (cargo build --release -p puente) and no PUENTE_BENCH_RELAY_BIN".into(),
        ),
    }
    let host = RelayHost::start(
        &tmp.path().join("relay"),
        &[ticket],
        MailboxLimits::default(),
    );
    let load = circuit_load(
        rt,
        cfg,
        &seeds,
        &network,
        host.key,
        &host.addrs,
        &|| Sample {
            cpu_s: relay_threads_cpu_s(),
            rss_kib: None,
        },
        &|| Some(host.counters()),
    );
    host.stop();
    report_load(t, "RelayService (in this process)", &load, None);
}

fn report_load(t: &mut Table, name: &str, l: &Load, hwm: Option<f64>) {
    let circuits = l.pairs as f64;
    let per100 = 100.0 / circuits;
    let window = l.window_s;
    if let (Some(empty), Some(reserved), Some(idle), Some(active)) = (
        l.empty.rss_kib,
        l.reserved.rss_kib,
        l.idle.rss_kib,
        l.active.rss_kib,
    ) {
        let with = (idle - reserved) * per100;
        t.row(
            &format!("3 {name}: RSS per 100 circuits, idle"),
            mib_kib(with),
            format!("{} relay alone", mib_kib(empty)),
            Some(idle / empty),
            "(report)",
            None,
        );
        t.row(
            "  per 100 circuits, carrying frames",
            mib_kib((active - reserved) * per100),
            format!("{} relay alone", mib_kib(empty)),
            Some(active / empty),
            "(report)",
            None,
        );
        t.info(
            "  resident: alone / reservations / idle / frames",
            format!(
                "{} / {} / {} / {}{}",
                mib_kib(empty),
                mib_kib(reserved),
                mib_kib(idle),
                mib_kib(active),
                hwm.map_or(String::new(), |h| format!("; peak {}", mib_kib(h)))
            ),
        );
    }
    let idle_per100 = l.idle_cpu * per100;
    t.row(
        &format!("3 {name}: CPU per 100 circuits, idle"),
        format!("{idle_per100:.3} s / {window:.0} s"),
        format!(
            "{:.3} s reservations only",
            l.reserved_cpu_per_10s * window / 10.0
        ),
        Some(l.idle_cpu / (l.reserved_cpu_per_10s * window / 10.0).max(0.01)),
        "(report)",
        None,
    );
    t.row(
        "  per 100 circuits, 1 frame/s each",
        format!("{:.3} s / {window:.0} s", l.active_cpu * per100),
        format!("{idle_per100:.3} s idle"),
        Some(l.active_cpu / l.idle_cpu.max(0.01)),
        "(report)",
        None,
    );
    t.info(
        "  CPU per 10 s: alone / reservations only",
        format!(
            "{:.3} / {:.3} s",
            l.empty_cpu_per_10s, l.reserved_cpu_per_10s
        ),
    );
    t.info(
        "  pairs; frames sent / received / not sent",
        format!(
            "{} of {}; {} / {} / {} (setup {:.1} s)",
            l.pairs, l.wanted, l.frames_sent, l.frames_received, l.send_errors, l.setup_s
        ),
    );
    t.info(
        "  pair ends still relayed at the end",
        format!("{} of {}", l.still, 2 * l.wanted),
    );
    for (when, c) in &l.counters {
        t.info(
            &format!("  relay counters, {when}"),
            format!(
                "{} connections, {} reservations, {} circuits open, {} opened, {} denied, {} refused",
                c.connections, c.reservations, c.circuits, c.circuits_opened, c.denied, c.refused
            ),
        );
    }
}

/// Starts `seeds.len()` bare transports that listen nowhere, all using the relay, each with a
/// circuit to its next `cfg.circuit_peers` neighbours on a ring; measures the relay with
/// `sample` in the windows described at the top.
#[allow(clippy::too_many_arguments)]
fn circuit_load(
    rt: &Runtime,
    cfg: &Config,
    seeds: &[[u8; 32]],
    network: &NetworkId,
    relay: PublicKey,
    addrs: &[String],
    sample: &dyn Fn() -> Sample,
    counters: &dyn Fn() -> Option<RelayCounters>,
) -> Load {
    let n = seeds.len();
    let peers = cfg.circuit_peers;
    let window = Duration::from_secs(cfg.circuit_secs as u64);
    let keys: Vec<PublicKey> = seeds
        .iter()
        .map(|s| SecretKey::from_bytes(s).public())
        .collect();
    // Each transport dials the `peers` neighbours ahead of it on the ring and only accepts
    // (never dials) those behind it: one circuit per pair, no dial refused.
    let ahead = |i: usize| -> Vec<PublicKey> { (1..=peers).map(|d| keys[(i + d) % n]).collect() };
    let behind =
        |i: usize| -> Vec<PublicKey> { (1..=peers).map(|d| keys[(i + n - d) % n]).collect() };
    let relay_config = RelayConfig {
        key: relay,
        addresses: addrs.to_vec(),
    };
    let mut snapshots = Vec::new();

    // The relay alone.
    let s0 = sample();
    std::thread::sleep(SHORT_WINDOW);
    let empty = sample();
    let empty_cpu_per_10s = (empty.cpu_s - s0.cpu_s) * 10.0 / SHORT_WINDOW.as_secs_f64();

    let received = Arc::new(AtomicU64::new(0));
    let setup = Instant::now();
    let (nets, drains) = rt.block_on(async {
        let mut nets: Vec<Net> = Vec::new();
        let mut drains = tokio::task::JoinSet::new();
        for (i, seed) in seeds.iter().enumerate() {
            let (net, mut events) = Net::spawn(NetConfig {
                key: SecretKey::from_bytes(seed),
                listen: Vec::new(),
                allowed: Vec::new(),
                accept_only: Vec::new(),
                known_addresses: Vec::new(),
                mdns: false,
                relays: vec![relay_config.clone()],
                limits: NetLimits::default(),
            })
            .await
            .expect("the transport starts");
            let received = received.clone();
            drains.spawn(async move {
                while let Some(e) = events.recv().await {
                    if matches!(e, NetEvent::Frame { .. }) {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            until("a reservation on the relay", || async {
                net.relays()
                    .await
                    .expect("the transport runs")
                    .iter()
                    .any(|r| r.reserved)
            })
            .await;
            if i == 0 {
                // The admin tells the relay who the members are, as a node's relay client does.
                let mut members: Vec<[u8; 32]> = keys.iter().map(|k| *k.as_bytes()).collect();
                members.sort_unstable();
                let request = Request::Access {
                    tag: network_tag(network),
                    members,
                    admins: vec![*keys[0].as_bytes()],
                    revoked: Vec::new(),
                };
                let answer = net
                    .relay_request(relay, request.to_bytes())
                    .await
                    .expect("the relay answers");
                assert!(
                    matches!(Response::from_bytes(&answer), Ok(Response::Done)),
                    "the relay takes the access list"
                );
            }
            nets.push(net);
        }
        (nets, drains)
    });
    rt.block_on(async { tokio::time::sleep(CIRCUIT_SETTLE).await });
    if let Some(c) = counters() {
        snapshots.push(("reservations only", c));
    }
    let r0 = sample();
    std::thread::sleep(SHORT_WINDOW);
    let reserved = sample();
    let reserved_cpu_per_10s = (reserved.cpu_s - r0.cpu_s) * 10.0 / SHORT_WINDOW.as_secs_f64();

    // The circuits: every transport first accepts the neighbours behind it, then each in
    // turn dials those ahead of it.
    rt.block_on(async {
        for (i, net) in nets.iter().enumerate() {
            net.set_peers(Vec::new(), behind(i))
                .await
                .expect("the transport runs");
        }
        for (i, net) in nets.iter().enumerate() {
            net.set_peers(ahead(i), behind(i))
                .await
                .expect("the transport runs");
            tokio::time::sleep(CIRCUIT_PACE).await;
        }
        // Until every pair is connected, or nothing changed for a while (a transport holds
        // only so many circuits: see the issue 9 section of docs/performance.md).
        let mut last = (0, Instant::now());
        loop {
            let up = relayed_ends(&nets).await;
            if up == 2 * n * peers {
                break;
            }
            if up != last.0 {
                last = (up, Instant::now());
            }
            if last.1.elapsed() > CIRCUIT_STALL {
                println!("  §3: only {up} of {} pair ends came up", 2 * n * peers);
                break;
            }
            tokio::time::sleep(QUIET_POLL).await;
        }
    });
    let setup_s =
        setup.elapsed().as_secs_f64() - SHORT_WINDOW.as_secs_f64() - CIRCUIT_SETTLE.as_secs_f64();
    rt.block_on(async { tokio::time::sleep(CIRCUIT_SETTLE).await });
    if let Some(c) = counters() {
        snapshots.push(("circuits up", c));
    }

    // Idle circuits.
    let pairs_up = rt.block_on(relayed_ends(&nets)) / 2;
    let i0 = sample();
    std::thread::sleep(window);
    let idle = sample();
    let idle_cpu = idle.cpu_s - i0.cpu_s;

    // One small frame per second on every circuit, from the lower to the higher neighbour.
    let before = received.load(Ordering::Relaxed);
    let a0 = sample();
    let (sent, errors) = rt.block_on(async {
        let frame = vec![0x5A; CIRCUIT_FRAME_BYTES];
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let (mut sent, mut errors) = (0u64, 0u64);
        for _ in 0..cfg.circuit_secs {
            tick.tick().await;
            for (i, net) in nets.iter().enumerate() {
                for d in 1..=peers {
                    match net.send(keys[(i + d) % n], frame.clone()).await {
                        Ok(()) => sent += 1,
                        Err(NetError::Busy { .. } | NetError::NotConnected { .. }) => errors += 1,
                        Err(e) => panic!("a frame cannot be sent: {e}"),
                    }
                }
            }
        }
        // The last second's frames land within the window.
        tick.tick().await;
        (sent, errors)
    });
    let active = sample();
    let active_cpu = active.cpu_s - a0.cpu_s;
    let frames_received = received.load(Ordering::Relaxed) - before;
    if let Some(c) = counters() {
        snapshots.push(("after the frames", c));
    }
    let still = rt.block_on(relayed_ends(&nets));
    rt.block_on(async {
        for net in &nets {
            net.shutdown().await;
        }
    });
    drop(drains);
    Load {
        empty,
        empty_cpu_per_10s,
        reserved,
        reserved_cpu_per_10s,
        idle,
        idle_cpu,
        active,
        active_cpu,
        window_s: window.as_secs_f64(),
        pairs: pairs_up,
        wanted: n * peers,
        setup_s,
        frames_sent: sent,
        frames_received,
        send_errors: errors,
        still,
        counters: snapshots,
    }
}

/// Connections to members through a relay, summed over `nets` (each pair counts twice).
async fn relayed_ends(nets: &[Net]) -> usize {
    let mut relayed = 0;
    for net in nets {
        relayed += net
            .paths()
            .await
            .expect("the transport runs")
            .iter()
            .filter(|(_, p)| matches!(p, PathKind::Relayed { .. }))
            .count();
    }
    relayed
}

/// The `puente` binary: `PUENTE_BENCH_RELAY_BIN` (none if empty), else next to this benchmark's binary
/// (`target/release/deps/issue9-…` → `target/release/puente`).
fn relay_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PUENTE_BENCH_RELAY_BIN") {
        // Empty: skip the child process.
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("puente");
    bin.is_file().then_some(bin)
}

/// `puente relay` in a child process, on loopback, admitted to the ticket's network.
struct RelayChild {
    child: Child,
    key: PublicKey,
    addrs: Vec<String>,
}

impl RelayChild {
    fn start(bin: &Path, dir: &Path, ticket: &RelayTicket) -> RelayChild {
        let log = std::fs::File::create(dir.with_extension("log")).expect("a log file");
        let mut child = Command::new(bin)
            .arg("relay")
            .arg("--listen")
            .arg(LOOPBACK)
            .arg("--admit")
            .arg(ticket.to_string())
            .arg("--relay-dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("`puente relay` starts");
        let stdout = child.stdout.take().expect("piped");
        let mut found = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("the relay's output is readable");
            if let Some(addr) = line.trim().strip_prefix("puente relay add ") {
                found = Some(parse_relay_address(addr).expect("the relay prints its address"));
                break;
            }
        }
        let (key, addr) = found.expect("`puente relay` printed the address to add");
        RelayChild {
            child,
            key,
            addrs: vec![addr],
        }
    }

    fn sample(&self) -> Sample {
        let pid = self.child.id();
        Sample {
            cpu_s: cpu_s(&format!("/proc/{pid}/stat")),
            rss_kib: Some(status_kib(pid, "VmRSS:")),
        }
    }

    fn hwm_kib(&self) -> Option<f64> {
        Some(status_kib(self.child.id(), "VmHWM:"))
    }

    /// SIGTERM (the relay stops cleanly), then waits for it.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for RelayChild {
    /// Ends the child if the run failed before [`RelayChild::stop`] (after it, a no-op).
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// CPU seconds of this process's threads named [`RELAY_THREAD`] (the in-process relay's).
fn relay_threads_cpu_s() -> f64 {
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task is readable") {
        let dir = task.expect("a task").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() == RELAY_THREAD {
            total += cpu_s(&dir.join("stat").to_string_lossy());
        }
    }
    total
}

// ---------------------------------------------------------------------------------------------
// §4 Mailbox: deposit and collection.

fn bench_mailbox(base: &Path, cfg: &Config, rt: &Runtime, t: &mut Table) {
    let n = cfg.mailbox_edits;
    let mut deposit = Vec::new();
    let mut deposit_all = Vec::new();
    let mut writes = Vec::new();
    let mut collect = Vec::new();
    let mut online = Vec::new();
    let mut catch_up = Vec::new();
    let mut disk_per_entry = Vec::new();
    let mut entry_bytes = Vec::new();
    let mut held = (0, 0);
    let mut collected = 0;
    let mut sizes = String::new();
    let mut direct_writes = Vec::new();
    let mut single = Vec::new();
    for run in 0..cfg.mailbox_runs {
        let tmp = tempdir(base, "issue9-mailbox-");
        let m = mailbox_run(rt, tmp.path(), run, n, cfg.mailbox_singles);
        single.extend(&m.single);
        println!(
            "  run {run}: deposited {:.0} ms after the last write ({:.0} ms after the first), collected in {:.0} ms; {:.0} B of relay.redb allocated per entry held",
            m.deposit_ms, m.deposit_all_ms, m.collect_ms, m.disk_per_entry
        );
        deposit.push(m.deposit_ms);
        deposit_all.push(m.deposit_all_ms);
        writes.push(m.writes_ms);
        collect.push(m.collect_ms);
        disk_per_entry.push(m.disk_per_entry);
        entry_bytes.push(m.entry_bytes);
        held = m.held;
        collected = m.collected;
        sizes = format!(
            "allocated {} / {} / {} / {} KB (length {} / {} / {} / {} KB)",
            m.sizes[0].1 / 1000,
            m.sizes[1].1 / 1000,
            m.sizes[2].1 / 1000,
            m.size_end.1 / 1000,
            m.sizes[0].0 / 1000,
            m.sizes[1].0 / 1000,
            m.sizes[2].0 / 1000,
            m.size_end.0 / 1000
        );
        let (on, up, wrote) = direct_run(rt, tmp.path(), run, n);
        direct_writes.push(wrote);
        println!(
            "  run {run}: direct: online partner {on:.0} ms after the last write, stopped partner caught up in {up:.0} ms"
        );
        online.push(on);
        catch_up.push(up);
    }
    let (d, o) = (median(&deposit), median(&online));
    t.row(
        "4 deposit: last write until the relay has all",
        format!("{d:.0} ms"),
        format!("{o:.0} ms online partner"),
        Some(d / o),
        "(report)",
        None,
    );
    if !single.is_empty() {
        t.row(
            "4 one edit: write until the relay has it",
            format!("{:.0} / {:.0} ms", median(&single), net::max(&single)),
            format!("{o:.0} ms online partner"),
            Some(median(&single) / o),
            "(report)",
            None,
        );
        t.info(
            "  each (p50 / max above)",
            single
                .iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(" ")
                + " ms",
        );
    }
    let (c, u) = (median(&collect), median(&catch_up));
    t.row(
        "4 collection: partner start until it has all",
        format!("{c:.0} ms"),
        format!("{u:.0} ms direct catch-up"),
        Some(c / u),
        "(report)",
        None,
    );
    let (disk, entry) = (median(&disk_per_entry), median(&entry_bytes));
    t.row(
        "4 relay.redb per envelope (allocated)",
        format!("{disk:.0} B"),
        format!("{entry:.0} B sealed entry"),
        Some(disk / entry),
        "(report)",
        None,
    );
    t.info("  relay.redb: fresh / before / after / stopped", sizes);
    t.info(
        "  first write until the relay has all",
        format!(
            "{:.0} ms ({n} writes took {:.0} ms; {:.0} ms without relay)",
            median(&deposit_all),
            median(&writes),
            median(&direct_writes)
        ),
    );
    t.info(
        "  the relay holds (its own count)",
        format!("{} entries, {} in the mailbox", held.0, kb(held.1 as f64)),
    );
    t.info(
        "  partner collected",
        format!("{collected} entries (its view: {n} offers)"),
    );
    let full = tempdir(base, "issue9-full-");
    let (full_bytes, full_deposits, problem) = full_mailbox(rt, full.path());
    t.info(
        "  a full mailbox: writer to relay, idle",
        format!(
            "{}/s, {full_deposits:.0} deposits/s refused ({})",
            kb(full_bytes),
            problem.unwrap_or_default()
        ),
    );
    t.info("runs", format!("{} of {n} edits each", cfg.mailbox_runs));
}

/// A node whose relay's mailbox has no room: what it sends the relay per second while idle
/// (bytes through a proxy in front of the relay), and about how many deposits that is (bytes
/// over the size of what it has to deposit).
fn full_mailbox(rt: &Runtime, dir: &Path) -> (f64, f64, Option<String>) {
    let mut replicas = pair(dir);
    let full = MailboxLimits {
        max_bytes_per_network: 0,
        max_entries_per_network: 0,
        ..MailboxLimits::default()
    };
    let relay = RelayHost::start(&dir.join("relay"), &[ticket(&replicas[0])], full);
    let relay_key = relay.key;
    let proxy = rt.block_on(Proxy::start(&relay.addrs[0]));
    use_relay(&mut replicas, relay.key, vec![proxy.addr.clone()]);
    drop(replicas.pop());
    let a = replicas.pop().expect("two");
    let result = rt.block_on(async {
        let a = spawn(a, vec![]).await;
        for k in 0..FULL_MAILBOX_EDITS {
            a.add_offer(edit_offer(&format!("full-{}", letters(k as u64))), NOW)
                .await
                .expect("the edit is written");
        }
        until("the relay refuses a deposit", || async {
            let (_, _, problem) = mailbox_report(&a, relay_key).await;
            problem.is_some()
        })
        .await;
        let entry_bytes = a
            .with_control(move |c| {
                let r = c.replica();
                let cursor = r.mailbox_cursor(&relay_key);
                r.mailbox_deposit(&cursor, usize::MAX, usize::MAX, MAX_ENTRY_BYTES)
                    .map(|d| d.entries.iter().map(Vec::len).sum::<usize>())
                    .unwrap_or(0)
            })
            .await
            .expect("A runs");
        let before = proxy.bytes();
        let start = Instant::now();
        tokio::time::sleep(FULL_MAILBOX_WINDOW).await;
        let rate = (proxy.bytes() - before) as f64 / start.elapsed().as_secs_f64();
        let (_, _, problem) = mailbox_report(&a, relay_key).await;
        a.shutdown().await;
        (rate, rate / entry_bytes.max(1) as f64, problem)
    });
    drop(proxy);
    relay.stop();
    result
}

struct MailboxRun {
    writes_ms: f64,
    deposit_ms: f64,
    deposit_all_ms: f64,
    collect_ms: f64,
    disk_per_entry: f64,
    entry_bytes: f64,
    held: (u64, u64),
    collected: u64,
    /// Single edits: from the write until the relay acknowledged it, ms.
    single: Vec<f64>,
    /// `relay.redb` (length, allocated): fresh, before the edits' deposits, after them.
    sizes: [(u64, u64); 3],
    /// The same once the relay stopped.
    size_end: (u64, u64),
}

/// A writes `n` edits with its partner B stopped; the relay's mailbox carries them to B.
fn mailbox_run(rt: &Runtime, dir: &Path, run: usize, n: usize, singles: usize) -> MailboxRun {
    let mut replicas = pair(&dir.join("m"));
    let relay_dir = dir.join("relay");
    let relay = RelayHost::start(
        &relay_dir,
        &[ticket(&replicas[0])],
        MailboxLimits::default(),
    );
    let relay_key = relay.key;
    let size_empty = relay.db_bytes();
    use_relay(&mut replicas, relay.key, relay.addrs.clone());
    let b = replicas.pop().expect("two");
    let b_dir = b.dir().to_path_buf();
    b.close().expect("close");
    let a = replicas.pop().expect("two");
    let (writes_ms, deposit_ms, deposit_all_ms, size0, entries, entry_total, single) =
        rt.block_on(async {
            let a = spawn(a, vec![]).await;
            until("A deposits its log", || all_deposited(&a, relay_key)).await;
            let (d0, _, _) = mailbox_report(&a, relay_key).await;
            let cursor0 = a
                .with_control(move |c| c.replica().mailbox_cursor(&relay_key))
                .await
                .expect("A runs");
            let size0 = relay.db_bytes();
            let first = Instant::now();
            for k in 0..n {
                a.add_offer(edit_offer(&format!("m{run}-{}", letters(k as u64))), NOW)
                    .await
                    .expect("the edit is written");
            }
            let last = Instant::now();
            let writes_ms = (last - first).as_secs_f64() * 1e3;
            loop {
                let (deposited, _, problem) = mailbox_report(&a, relay_key).await;
                if deposited >= d0 + n as u64 {
                    break;
                }
                assert!(
                    last.elapsed() < TIMEOUT,
                    "the relay acknowledged {} of {n} deposits (problem: {problem:?})",
                    deposited - d0
                );
                tokio::time::sleep(DEPOSIT_POLL).await;
            }
            let deposit_ms = last.elapsed().as_secs_f64() * 1e3;
            let deposit_all_ms = first.elapsed().as_secs_f64() * 1e3;
            assert!(
                all_deposited(&a, relay_key).await,
                "nothing is left to deposit"
            );
            // The sealed entries the node sent for the edits, as it made them.
            let (entries, entry_total) = a
                .with_control(move |c| {
                    let d = c
                        .replica()
                        .mailbox_deposit(&cursor0, usize::MAX, usize::MAX, MAX_ENTRY_BYTES)
                        .expect("the log is readable");
                    (
                        d.entries.len(),
                        d.entries.iter().map(Vec::len).sum::<usize>(),
                    )
                })
                .await
                .expect("A runs");
            // Single edits at different phases of the node's one-second tick, each once the
            // deposits have gone quiet: from the write until the relay acknowledged it.
            let mut single = Vec::with_capacity(singles);
            for k in 0..singles {
                let pause = SINGLE_PAUSE + Duration::from_millis((k as u64 * 379) % 1000);
                tokio::time::sleep(pause).await;
                let (before, _, _) = mailbox_report(&a, relay_key).await;
                let start = Instant::now();
                a.add_offer(edit_offer(&format!("s{run}-{}", letters(k as u64))), NOW)
                    .await
                    .expect("the edit is written");
                loop {
                    let (deposited, _, _) = mailbox_report(&a, relay_key).await;
                    if deposited > before {
                        break;
                    }
                    assert!(start.elapsed() < TIMEOUT, "a single edit was not deposited");
                    tokio::time::sleep(DEPOSIT_POLL).await;
                }
                single.push(start.elapsed().as_secs_f64() * 1e3);
            }
            a.shutdown().await;
            (
                writes_ms,
                deposit_ms,
                deposit_all_ms,
                size0,
                entries,
                entry_total,
                single,
            )
        });
    assert_eq!(entries, n, "one mailbox entry per edit");
    let size1 = relay.db_bytes();
    let (collect_ms, collected, sessions) = rt.block_on(async {
        let b = Replica::open(&b_dir, PASS).expect("B opens");
        let start = Instant::now();
        let b = spawn(b, vec![]).await;
        let ms = until_offers(&b, n, start, "mailbox collection").await;
        let (_, collected, _) = mailbox_report(&b, relay_key).await;
        let sessions = b.status().await.expect("B runs").sessions.len();
        b.shutdown().await;
        (ms, collected, sessions)
    });
    assert_eq!(sessions, 0, "B never had a session with A");
    relay.stop();
    let size_end = db_bytes(&relay_dir);
    let store =
        RelayStore::open(&relay_dir, MailboxLimits::default()).expect("the relay store reopens");
    let networks = RelayService::networks(&store).expect("the relay store is readable");
    let held = networks
        .iter()
        .fold((0, 0), |(e, b), s| (e + s.entries, b + s.bytes));
    store.close().expect("close");
    MailboxRun {
        writes_ms,
        deposit_ms,
        deposit_all_ms,
        collect_ms,
        disk_per_entry: (size_end.1 as f64 - size_empty.1 as f64) / held.0.max(1) as f64,
        entry_bytes: entry_total as f64 / entries as f64,
        held,
        collected,
        single,
        sizes: [size_empty, size0, size1],
        size_end,
    }
}

/// The baselines, a network without relay: A writes `n` edits with partner C1 online (from the
/// last write until C1 has them all); then C1 stops and C2, stopped all along, starts with A's
/// address (from its spawn until it has them all). Also returns how long the writes took.
fn direct_run(rt: &Runtime, dir: &Path, run: usize, n: usize) -> (f64, f64, f64) {
    let mut replicas = pair(&dir.join("d"));
    let mut c2 = init(&dir.join("d/c2"), "Org C2");
    admit(&mut replicas[0], &mut c2, "Org C2", Role::Member);
    // C1 learns C2's admission from A when they sync.
    let c2_dir = c2.dir().to_path_buf();
    c2.close().expect("close");
    let c1 = replicas.pop().expect("two");
    let a = replicas.pop().expect("two");
    let a_key = a.public_key();
    let c1_key = c1.public_key();
    rt.block_on(async {
        let a = spawn(a, vec![]).await;
        let addr = listen_addr(&a).await;
        let c1 = spawn(c1, vec![(a_key, addr.clone())]).await;
        until("C1 connects to A", || reaches(&a, c1_key, is_direct)).await;
        quiet(&[a.clone(), c1.clone()], TIMEOUT).await;
        let first = Instant::now();
        for k in 0..n {
            a.add_offer(edit_offer(&format!("d{run}-{}", letters(k as u64))), NOW)
                .await
                .expect("the edit is written");
        }
        let last = Instant::now();
        let wrote = (last - first).as_secs_f64() * 1e3;
        let online = until_offers(&c1, n, last, "the online partner").await;
        c1.shutdown().await;
        let c2 = Replica::open(&c2_dir, PASS).expect("C2 opens");
        let start = Instant::now();
        let c2 = spawn(c2, vec![(a_key, addr)]).await;
        let caught_up = until_offers(&c2, n, start, "the stopped partner").await;
        c2.shutdown().await;
        a.shutdown().await;
        (online, caught_up, wrote)
    })
}

// ---------------------------------------------------------------------------------------------
// Shared.

fn mib_kib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// The deterministic data generator (shared with the issue 2 and 3 benchmarks).

include!("common/generator.rs");
