//! The benchmark of issue 13 §3, "a store that stays small and opens fast": the real `puente`
//! binary against a store of N imported offers, side by side with automerge alone on the same
//! offers, in one run.
//!
//! ```text
//! cargo bench -p puente --bench issue13                      # 10,000 and 100,000 offers
//! cargo bench -p puente --bench issue13 -- 10000             # one size
//! PUENTE_BENCH_RUNS=9 PUENTE_BENCH_UPDATES=3000 cargo bench -p puente --bench issue13
//! ```
//!
//! Per size N:
//! 1. **the store**: `puente init`, then `puente import` of the generator's N offers (files of
//!    50,000 rows, the import's limit), each a process of its own, no node running.
//! 2. **the baseline**: every partition's automerge `save()` of those offers (taken from the
//!    store through the library), and `Automerge::load` of them, timed in a child process of
//!    its own (this binary re-executed with `--child load FILE`), median of the runs.
//! 3. **every command a coordinator runs on a store opened directly** (no node): `whoami`,
//!    `status`, `offer list`, `offer show`, `query`, `inbox`, `hold list`, `export`, `peer
//!    list`: wall time of the whole process from spawn to exit (what a person waits for,
//!    Argon2id included), median of `PUENTE_BENCH_RUNS`, and its peak resident memory, each
//!    against the `load()` median: at most 0.25x and 300 MiB at 100,000 offers, at most 0.75x
//!    at 10,000.
//! 4. **a read-only command writes nothing**: the data directory's files, byte for byte,
//!    before and after every command of step 3.
//! 5. **bytes on disk** (every file of the data directory, by length) against the `save()`
//!    bytes of the same data: after the import, and after `PUENTE_BENCH_UPDATES` small
//!    updates (`offer confirm` of one offer after another, served by a running `puente run`,
//!    then the node stopped with SIGTERM as a service manager would): at most 3x both times.
//!    Then the commands of step 3 once more on the updated store.
//!
//! `PUENTE_BENCH_KEEP=1` keeps the stores (their directory is printed) for a look afterwards.
//!
//! Data: the deterministic generator every benchmark uses (`node/benches/common/generator.rs`),
//! written as CSV. Files live under cargo's target tmp directory or `PUENTE_BENCH_DIR`.
//! Results: `docs/performance.md`, "Issue 13".

#[path = "../../node/benches/common/process.rs"]
mod process;
#[path = "../../node/benches/common/settings.rs"]
mod settings;
#[path = "../../node/benches/common/table.rs"]
mod table;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use puente_crdt::Time;
use puente_crdt::automerge::Automerge;
use puente_node::replica::Replica;

use generator::{CHUNK_ROWS, csv};

use process::{child_args, run_child};
use settings::{bench_dir, env_usize, sizes};
use table::{Table, machine, median, mib};

/// The passphrase of every benchmark store.
const PASS: &str = "a long benchmark passphrase";

/// The benchmark's "now" (2026-11-18), as for the other benchmarks.
const NOW: Time = Time(1_795_000_000);

/// The zone the generated windows are written in.
const TZ: &str = "America/Los_Angeles";

/// The real binary, built by cargo for this benchmark.
const PUENTE: &str = env!("CARGO_BIN_EXE_puente");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some((mode, path, rest)) = child_args(&args) {
        child(mode, &path, rest);
        return;
    }
    let sizes = sizes(&args[1..], &[10_000, 100_000]);
    let runs = env_usize("PUENTE_BENCH_RUNS", 5);
    let updates = env_usize("PUENTE_BENCH_UPDATES", 2_000);
    println!("{}", machine());
    println!("binary: {PUENTE}; {runs} runs per figure, {updates} updates");
    for n in sizes {
        let base = tempfile::Builder::new()
            .prefix("puente-issue13-")
            .tempdir_in(bench_dir())
            .expect("a temporary directory");
        let mut t = Table::new(&format!(
            "Issue 13 §3: a store of {n} offers, opened directly"
        ));
        bench_size(base.path(), n, runs, updates, &mut t);
        t.print();
        if std::env::var_os("PUENTE_BENCH_KEEP").is_some() {
            println!("kept: {}", base.keep().display());
        }
    }
}

fn bench_size(base: &Path, n: usize, runs: usize, updates: usize, t: &mut Table) {
    let dir = base.join("store");
    let s = Instant::now();
    puente(
        &dir,
        &[
            "init",
            "--org",
            "Benchmark Refuge",
            "--county",
            "06067",
            "--intake",
            "hotline",
        ],
    );
    for (i, first) in (0..n).step_by(CHUNK_ROWS).enumerate() {
        let file = base.join(format!("offers-{i}.csv"));
        std::fs::write(&file, csv(first, CHUNK_ROWS.min(n - first))).expect("the CSV is written");
        puente(&dir, &["import", path_str(&file)]);
    }
    t.info("init + import (processes, no node)", secs(s.elapsed()));

    let (saved, load) = baseline(base, &dir, runs);
    let goal_ratio = if n >= 100_000 { 0.25 } else { 0.75 };
    t.info("automerge save() of the same offers", mib(saved as f64));
    t.info(
        "automerge load() of the same offers",
        format!("{} (median of {runs})", ms(load)),
    );
    disk_row(t, "bytes on disk after the import", &dir, saved);
    commands(t, &dir, n, runs, load, goal_ratio, "");

    if updates > 0 {
        update_through_node(&dir, updates, t);
        let (saved, _) = baseline(base, &dir, 1);
        disk_row(
            t,
            &format!("bytes on disk after {updates} updates"),
            &dir,
            saved,
        );
        commands(t, &dir, n, runs, load, goal_ratio, " (after updates)");
    }
}

/// Every command of step 3, each against the `load()` baseline, and the check that none of
/// them changed a byte of the data directory.
fn commands(
    t: &mut Table,
    dir: &Path,
    n: usize,
    runs: usize,
    load: f64,
    goal_ratio: f64,
    suffix: &str,
) {
    let ids = offer_ids(dir);
    let shown = ids[ids.len() / 2].clone();
    let list: Vec<(&str, Vec<&str>)> = vec![
        ("whoami", vec!["whoami"]),
        ("status", vec!["status"]),
        ("offer list", vec!["offer", "list"]),
        ("offer show", vec!["offer", "show", &shown]),
        (
            "query",
            vec!["query", "--kind", "shelter-bed", "--county", "06067"],
        ),
        ("inbox", vec!["inbox"]),
        ("hold list", vec!["hold", "list"]),
        ("export", vec!["export", "--format", "json"]),
        ("peer list", vec!["peer", "list"]),
    ];
    let before = files(dir);
    let mut worst_rss: f64 = 0.0;
    for (name, args) in &list {
        let runs = runs.to_string();
        let extra: Vec<&str> = std::iter::once(runs.as_str())
            .chain(args.iter().copied())
            .collect();
        let figures = run_child("measure", dir, &extra);
        let wall = figures["median_ms"];
        worst_rss = worst_rss.max(figures["max_rss_kib"]);
        let ratio = wall / load;
        t.row(
            &format!("{name}{suffix}"),
            ms(wall),
            format!("load() {}", ms(load)),
            Some(ratio),
            &format!("<= {goal_ratio}x"),
            Some(ratio <= goal_ratio),
        );
    }
    let rss = worst_rss * 1024.0;
    let rss_goal = n < 100_000 || rss <= 300.0 * 1024.0 * 1024.0;
    t.row(
        &format!("peak memory, worst command{suffix}"),
        mib(rss),
        String::new(),
        None,
        if n >= 100_000 {
            "<= 300 MiB"
        } else {
            "reported"
        },
        Some(rss_goal),
    );
    let after = files(dir);
    let unchanged = before == after;
    t.row(
        &format!("files changed by those commands{suffix}"),
        if unchanged {
            "none".into()
        } else {
            "some".into()
        },
        String::new(),
        None,
        "none",
        Some(unchanged),
    );
}

/// The data directory's size against `saved` (automerge's `save()` of the same data).
fn disk_row(t: &mut Table, name: &str, dir: &Path, saved: usize) {
    let bytes: u64 = files(dir).values().map(|b| b.len() as u64).sum();
    let ratio = bytes as f64 / saved as f64;
    t.row(
        name,
        mib(bytes as f64),
        format!("save() {}", mib(saved as f64)),
        Some(ratio),
        "<= 3x",
        Some(ratio <= 3.0),
    );
}

/// Every file of `dir` by name, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("the data directory is readable")
        .map(|e| e.expect("a directory entry"))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("the file is readable"),
            )
        })
        .collect()
}

/// Automerge alone on the store's offers: the total bytes of every partition's `save()`, and
/// the median time `Automerge::load` takes over the largest one (the organisation's own, which
/// holds the offers), each load in a process of its own.
fn baseline(base: &Path, dir: &Path, runs: usize) -> (usize, f64) {
    let mut replica = Replica::open_read_only(dir, PASS.as_bytes()).expect("the store opens");
    let parts = replica.saved_partitions().expect("the partitions save");
    replica.close().expect("the store closes");
    let saved = parts.iter().map(|(_, b)| b.len()).sum();
    let own = parts
        .iter()
        .map(|(_, b)| b)
        .max_by_key(|b| b.len())
        .expect("a partition");
    let file = base.join("own.automerge");
    std::fs::write(&file, own).expect("the partition is written");
    let loads: Vec<f64> = (0..runs)
        .map(|_| run_child("load", &file, &[])["load_ms"])
        .collect();
    (saved, median(&loads))
}

/// `updates` small updates (`offer confirm` of one offer after another) served by a running
/// node, which is then stopped with SIGTERM.
fn update_through_node(dir: &Path, updates: usize, t: &mut Table) {
    let ids = offer_ids(dir);
    let log_path = dir.with_extension("node.log");
    let log = std::fs::File::create(&log_path).expect("the node's log file");
    let mut node = Command::new(PUENTE)
        .args(["--data-dir", path_str(dir), "run", "--no-web"])
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .env("PUENTE_PASSPHRASE", PASS)
        .env("PUENTE_NOW", now_text())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("puente run starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !status_ok(dir) {
        let exited = node.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() >= deadline {
            panic!(
                "the node did not start ({exited:?}): {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let s = Instant::now();
    for i in 0..updates {
        puente(dir, &["offer", "confirm", &ids[i * 7919 % ids.len()]]);
    }
    let took = s.elapsed();
    t.info(
        &format!("{updates} updates through the node"),
        format!(
            "{} ({:.1} ms each)",
            secs(took),
            took.as_secs_f64() * 1e3 / updates as f64
        ),
    );
    let pid = nix::unistd::Pid::from_raw(i32::try_from(node.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("the signal is sent");
    let s = Instant::now();
    let status = node.wait().expect("the node stops");
    assert!(status.success(), "the node stopped cleanly: {status}");
    t.info("node stop (snapshot, compaction)", secs(s.elapsed()));
}

/// The ids of the organisation's offers, from `offer list --format json`.
fn offer_ids(dir: &Path) -> Vec<String> {
    let out = Command::new(PUENTE)
        .args([
            "--data-dir",
            path_str(dir),
            "offer",
            "list",
            "--format",
            "json",
        ])
        .env("PUENTE_PASSPHRASE", PASS)
        .env("PUENTE_NOW", now_text())
        .output()
        .expect("puente runs");
    assert!(out.status.success(), "offer list failed");
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("offer list prints JSON");
    let ids: Vec<String> = list
        .iter()
        .filter_map(|o| o["offer_id"].as_str().map(str::to_owned))
        .collect();
    assert!(!ids.is_empty(), "the store holds offers");
    ids
}

fn status_ok(dir: &Path) -> bool {
    Command::new(PUENTE)
        .args(["--data-dir", path_str(dir), "status"])
        .env("PUENTE_PASSPHRASE", PASS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `puente --data-dir DIR ARGS` to completion, panicking with its stderr if it fails.
fn puente(dir: &Path, args: &[&str]) {
    let out = Command::new(PUENTE)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("PUENTE_PASSPHRASE", PASS)
        .env("PUENTE_NOW", now_text())
        .stdout(Stdio::null())
        .output()
        .expect("puente runs");
    assert!(
        out.status.success(),
        "puente {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A child process: `load FILE` times `Automerge::load` of FILE; `measure DIR RUNS ARGS…` runs
/// `puente --data-dir DIR ARGS…` RUNS times and reports the median wall time and the peak
/// resident memory of those processes (the child's own children only, so nothing else
/// counts).
fn child(mode: &str, path: &Path, rest: &[String]) {
    let mut out = String::new();
    match mode {
        "load" => {
            let bytes = std::fs::read(path).expect("the partition file is readable");
            let s = Instant::now();
            let doc = Automerge::load(&bytes).expect("the partition loads");
            let took = s.elapsed();
            std::hint::black_box(&doc);
            let _ = writeln!(out, "load_ms={}", took.as_secs_f64() * 1e3);
        }
        "measure" => {
            let runs: usize = rest[0].parse().expect("a run count");
            let args = &rest[1..];
            let mut walls = Vec::with_capacity(runs);
            for _ in 0..runs {
                let s = Instant::now();
                let status = Command::new(PUENTE)
                    .arg("--data-dir")
                    .arg(path)
                    .args(args)
                    .env("PUENTE_PASSPHRASE", PASS)
                    .env("PUENTE_NOW", now_text())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("puente runs");
                walls.push(s.elapsed().as_secs_f64() * 1e3);
                // `status` exits 3 when no node runs: that is its answer, not a failure.
                assert!(
                    status.success() || (args[0] == "status" && status.code() == Some(3)),
                    "puente {args:?} failed: {status}"
                );
            }
            let usage =
                nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
                    .expect("getrusage");
            let _ = writeln!(out, "median_ms={}", median(&walls));
            let _ = writeln!(out, "max_rss_kib={}", usage.max_rss());
        }
        other => panic!("unknown child mode {other}"),
    }
    print!("{out}");
}

fn now_text() -> String {
    jiff::Timestamp::from_second(NOW.0)
        .expect("a valid time")
        .to_string()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn ms(v: f64) -> String {
    format!("{v:.0} ms")
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// The deterministic generator every benchmark uses; this one takes its CSV only (the binary
/// parses it), so the generator's own parsing helper goes unused.
#[allow(dead_code)]
mod generator {
    use super::{NOW, TZ};
    use puente_crdt::NewOffer;
    use puente_crdt::time::{local_date, zone};
    use puente_node::interchange::parse_offers_csv;
    use std::fmt::Write as _;

    include!("../../node/benches/common/generator.rs");

    /// Rows per CSV file.
    pub const CHUNK_ROWS: usize = CSV_CHUNK_ROWS;

    /// `count` generated rows from row `first`, with the header.
    pub fn csv(first: usize, count: usize) -> String {
        offers_csv(0xB00C, first, count)
    }
}
