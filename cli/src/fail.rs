//! Every error becomes one plain sentence on stderr that says what to do next.
//!
//! Library errors are typed; this module is where their variants meet the people reading
//! them. Messages never contain the passphrase or offer contents beyond what was typed.

use std::path::Path;

use puente_node::replica::ReplicaError;
use puente_node::store::StoreError;

/// The one line printed after `error: `.
pub fn one_line(err: &anyhow::Error) -> String {
    let text = err.to_string();
    let mut line: String = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.is_empty() {
        line = "something went wrong; run again with RUST_LOG=debug for details".to_string();
    }
    line
}

/// The outcome of a command that a running node served: exit with `code`, printing `line`
/// after `error: ` when there is one (the node has already made it one line).
#[derive(Debug)]
pub struct Exit {
    /// The exit status.
    pub code: u8,
    /// The error line, if the command failed.
    pub line: Option<String>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.line {
            Some(line) => f.write_str(line),
            None => write!(f, "the command failed (exit status {})", self.code),
        }
    }
}

impl std::error::Error for Exit {}

/// A short reason for an I/O error, without the OS error number.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::AlreadyExists => "it already exists".into(),
        K::IsADirectory => "it is a directory".into(),
        K::StorageFull => "the disk is full".into(),
        _ => e.to_string(),
    }
}

/// Maps a replica error for the data directory `dir`.
pub fn replica(e: ReplicaError, dir: &Path) -> anyhow::Error {
    let msg = match &e {
        ReplicaError::Store(s) => store(s, dir),
        ReplicaError::NotFound {
            what: "window",
            text,
        } => format!(
            "no window matches `{text}`; see the offer's windows with `puente offer show OFFER_ID`"
        ),
        _ => chain(&e),
    };
    anyhow::anyhow!(msg)
}

/// Maps a store error for the data directory `dir`.
fn store(e: &StoreError, dir: &Path) -> String {
    let d = dir.display();
    match e {
        StoreError::NotFound { .. } => {
            format!(
                "no puente data in {d}; run `puente init --org NAME` first, or point --data-dir at your data"
            )
        }
        StoreError::AlreadyExists { .. } => {
            format!("{d} already holds a puente store; choose another directory with --data-dir")
        }
        StoreError::WrongPassphrase => format!(
            "wrong passphrase for the store in {d} (or its header was altered); check PUENTE_PASSPHRASE or --passphrase-file and try again"
        ),
        StoreError::Locked { .. } => format!(
            "a puente node is already running on {d} (or another puente command is using it); stop that node or let the command finish, then try again"
        ),
        StoreError::Io { path, source } => format!(
            "cannot access {}: {}; check the data directory and try again",
            path.display(),
            io_reason(source)
        ),
        other => chain(other),
    }
}

/// The message of `e` and of its causes, joined with `: `, skipping a cause whose text the
/// message already contains.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cur = s.source();
    }
    out
}
