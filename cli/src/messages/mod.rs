//! Typed errors into sentences: the one place in puente where the words people read about a
//! failure are chosen, one file per language.
//!
//! The node library returns typed errors whose refusals carry what explains them (ids, counts,
//! names, limits) and no command-line wording. This module turns every such error into one plain
//! sentence that says what to do next, and owns the plumbing that makes it the one `error:`
//! line of a failed command ([`one_line`], [`Exit`]).
//!
//! [`Messages`] is the set of sentences a language provides; [`en`] is English, the only one
//! today. A second language is a file beside it (`es.rs`) with a type implementing
//! [`Messages`], and a [`Lang`] variant that selects it: the compiler then names every sentence
//! it still lacks. The functions here ([`replica`], [`join`], [`node`] ...) only walk the
//! wrapper errors to the typed variant and ask the current language for its sentence.
//!
//! Messages never contain the passphrase or offer contents beyond what was typed.

use std::path::Path;

use puente_node::actor::NodeError;
use puente_node::interchange::RowRefusal;
use puente_node::invite::{InviteError, JoinRefusal};
use puente_node::joiner::JoinError;
use puente_node::relay::client::RelayProblem;
use puente_node::replica::{
    BundleRefusal, NetworkRefusal, RecordKind, RelayRefusal, ReplicaError, RoleRefusal,
    WriteRefusal,
};
use puente_node::store::StoreError;

mod en;

/// The sentences one language provides for the errors a person can meet.
pub trait Messages: Sync {
    /// A short reason for an I/O error, without the OS error number.
    fn io(&self, e: &std::io::Error) -> String;
    /// The line for an error that said nothing at all.
    fn nothing_said(&self) -> String;
    /// A store error for the data directory `dir`; `None` where the error's own words serve.
    fn store(&self, e: &StoreError, dir: &Path) -> Option<String>;
    /// No record of kind `what` matches `text`.
    fn not_found(&self, what: RecordKind, text: &str) -> String;
    /// `count` records of kind `what` match the prefix `text`.
    fn ambiguous(&self, what: RecordKind, text: &str, count: usize) -> String;
    /// A stored record of kind `what` could not be decoded.
    fn damaged(&self, what: &str) -> String;
    /// An earlier write failed half-way; the replica accepts nothing more.
    fn poisoned(&self) -> String;
    /// A write to offers or holds was refused.
    fn write(&self, r: &WriteRefusal) -> String;
    /// A change to the network or to this node's place in it was refused.
    fn network(&self, r: &NetworkRefusal) -> String;
    /// A bundle could not be written, or was refused as a whole.
    fn bundle(&self, r: &BundleRefusal) -> String;
    /// A change to the network's relays was refused.
    fn relay(&self, r: &RelayRefusal) -> String;
    /// A change of an organisation's role was refused.
    fn role(&self, r: &RoleRefusal) -> String;
    /// Why the last request to a relay failed, for status.
    fn relay_problem(&self, p: &RelayProblem) -> String;
    /// A token that does not parse, or a join request that cannot be made.
    fn invite(&self, e: &InviteError) -> String;
    /// Why joining failed (the variants that do not wrap a replica or transport error).
    fn join(&self, e: &JoinError) -> String;
    /// Why the inviter's node refused a join request.
    fn join_refusal(&self, r: &JoinRefusal) -> String;
    /// Why a row of an import that was read cannot be applied.
    fn import_row(&self, r: &RowRefusal) -> String;
    /// Why the node could not start (the variants that do not wrap a replica error);
    /// `other_port` is a port to suggest when the one asked for is in use.
    fn node(&self, e: &NodeError, other_port: u16) -> String;
}

/// A language the command line speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
}

impl Lang {
    /// The sentences of this language.
    pub fn messages(self) -> &'static dyn Messages {
        match self {
            Lang::En => &en::English,
        }
    }
}

/// The sentences of the language commands speak (English, the only one so far).
pub fn current() -> &'static dyn Messages {
    Lang::default().messages()
}

/// The one line printed after `error: `.
pub fn one_line(err: &anyhow::Error) -> String {
    let text = err.to_string();
    let line: String = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.is_empty() {
        return current().nothing_said();
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
    current().io(e)
}

/// The sentence for a replica error on the data directory `dir`.
pub fn replica(e: &ReplicaError, dir: &Path) -> String {
    let m = current();
    match e {
        ReplicaError::Store(s) => m.store(s, dir).unwrap_or_else(|| chain(s)),
        ReplicaError::NotFound { what, text } => m.not_found(*what, text),
        ReplicaError::Ambiguous { what, text, count } => m.ambiguous(*what, text, *count),
        ReplicaError::Damaged(what) => m.damaged(what),
        ReplicaError::Poisoned => m.poisoned(),
        ReplicaError::Write(r) => m.write(r),
        ReplicaError::Network(r) => m.network(r),
        ReplicaError::Bundle(r) => m.bundle(r),
        ReplicaError::Relay(r) => m.relay(r),
        ReplicaError::Role(r) => m.role(r),
        // Envelope, document, schema, time, membership and snapshot errors: their own words.
        _ => chain(e),
    }
}

/// The sentence for why joining failed, on the data directory `dir`.
pub fn join(e: &JoinError, dir: &Path) -> String {
    let m = current();
    match e {
        JoinError::Replica(r) => replica(r, dir),
        JoinError::Request(i) => m.invite(i),
        JoinError::Net(n) => chain(n),
        _ => m.join(e),
    }
}

/// The column a refused import row is reported under, and the sentence for why.
pub fn import_row(r: &RowRefusal) -> (Option<&'static str>, String) {
    let column = match r {
        RowRefusal::OtherOrganisation { .. } => Some(puente_crdt::Field::Owner.name()),
        RowRefusal::Unchangeable { field, .. } => Some(field.name()),
        RowRefusal::SharedHandle { .. } => Some(puente_crdt::Field::Handle.name()),
        _ => None,
    };
    (column, current().import_row(r))
}

/// The sentence for a token that does not parse.
pub fn invite(e: &InviteError) -> String {
    current().invite(e)
}

/// The sentence for a node on the data directory `dir` that could not start or stopped;
/// `other_port` is a port to suggest when the one asked for is in use.
pub fn node(e: &NodeError, dir: &Path, other_port: u16) -> String {
    match e {
        NodeError::Replica(r) => replica(r, dir),
        _ => current().node(e, other_port),
    }
}

/// Whether `e`, or an error inside it, says the address is in use. The transport wraps the
/// operating system's error in types of its own that do not expose it as a source, so past
/// the I/O errors the text is the only witness.
fn addr_in_use(e: &std::io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::AddrInUse
        {
            return true;
        }
        if err.to_string().contains("Address already in use") {
            return true;
        }
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    false
}

/// The sentence for why the last request to a relay failed.
pub fn relay_problem(p: &RelayProblem) -> String {
    current().relay_problem(p)
}

/// The message of `e` and of its causes, joined with `: `, skipping a cause whose text the
/// message already contains: for errors whose own words are the sentence.
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
