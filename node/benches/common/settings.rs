//! A benchmark's settings from its environment and arguments: whole numbers, the sizes to run
//! and where its files go. A benchmark takes it in with
//! `#[path = "common/settings.rs"] mod settings;`, or through `common/net.rs`, which passes it
//! on; each uses a part of it.

#![allow(dead_code)]

use std::path::PathBuf;

/// The whole number in the environment variable `name`, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map_or(default, |v| {
        v.parse().expect("benchmark settings are whole numbers")
    })
}

/// The sizes to run (offer counts, network sizes): the whole numbers among `args` (the
/// benchmark's arguments; others, such as the `--bench` cargo passes, are passed over), else
/// the comma-separated list in `PUENTE_BENCH_SIZES`, else `default`.
pub fn sizes(args: &[String], default: &[usize]) -> Vec<usize> {
    let from_args: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if !from_args.is_empty() {
        return from_args;
    }
    std::env::var("PUENTE_BENCH_SIZES")
        .ok()
        .map(|s| {
            s.split(',')
                .map(|x| {
                    x.trim()
                        .parse()
                        .expect("PUENTE_BENCH_SIZES lists whole numbers")
                })
                .collect()
        })
        .unwrap_or_else(|| default.to_vec())
}

/// Where benchmark stores go: `PUENTE_BENCH_DIR`, else cargo's target tmp directory (a real
/// disk, so `fsync` costs what it costs).
pub fn bench_dir() -> PathBuf {
    std::env::var_os("PUENTE_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_TARGET_TMPDIR").into())
}
