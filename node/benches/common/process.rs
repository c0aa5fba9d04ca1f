//! Processes of a benchmark: the benchmark binary run again as a child
//! (`--child MODE PATH [ARGS]`), so that one measurement (a cold start, a node's memory) has a
//! process of its own, with the `key=value` lines it prints read back as figures; and the CPU
//! time and memory Linux reports for a process in `/proc`. A benchmark takes it in with
//! `#[path = "common/process.rs"] mod process;`; each uses a part of it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mode, path and further arguments when this process was started as a child
/// (`--child MODE PATH [ARGS]`, `args` as `std::env::args` gives them); none otherwise.
pub fn child_args(args: &[String]) -> Option<(&str, PathBuf, &[String])> {
    if args.get(1).map(String::as_str) != Some("--child") {
        return None;
    }
    let mode = args.get(2).expect("a child mode follows --child").as_str();
    let path = PathBuf::from(args.get(3).expect("a path follows the child mode"));
    Some((mode, path, &args[4..]))
}

/// Runs this benchmark binary again as `--child mode path extra…` and returns what it printed
/// as `key=value` lines, the values as numbers (other lines are passed over). Panics with the
/// child's stderr if it fails.
pub fn run_child(mode: &str, path: &Path, extra: &[&str]) -> BTreeMap<String, f64> {
    let exe = std::env::current_exe().expect("the benchmark binary's path");
    let out = Command::new(exe)
        .arg("--child")
        .arg(mode)
        .arg(path)
        .args(extra)
        .output()
        .expect("the child runs");
    assert!(
        out.status.success(),
        "child {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// A figure in KiB from `/proc/PID/status` (`field` is `VmRSS:`, `VmHWM:`, ...); `pid` is a
/// process id, or `self` for this process.
pub fn status_kib(pid: impl std::fmt::Display, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("the status file is readable (Linux)")
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("the field is reported")
}

/// Clock ticks per second in `/proc/…/stat` (`getconf CLK_TCK` on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) so far from the `/proc/…/stat` file at `path`: a process's
/// (`/proc/self/stat`, all its threads) or one thread's (`/proc/self/task/TID/stat`).
pub fn cpu_s(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).expect("the stat file is readable");
    // The fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let ticks =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / TICKS_PER_SECOND
}
