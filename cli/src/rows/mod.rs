//! Typed rows for what the network commands show: who this node is, relays, revocations and
//! the audit reports. Each record is a struct built once from the replica (and the running
//! node's view); its JSON is serde's of that struct and its table is rendered from the same
//! fields, so the two cannot say different things.
//!
//! Invariant: the JSON is byte for byte what these commands printed when they assembled
//! `serde_json::Value`s: keys in alphabetical order at every level (see [`json`]), the same
//! keys, and `null` where a value is absent. Scripts read it; `cli/tests/it/network_snapshots.rs`
//! pins it.
//!
//! Boundary: rows read the replica and the node's view; they never write, open the store or
//! print. Offers, hits and holds have their own rows in [`crate::render`].

pub mod audit;
pub mod identity;
pub mod names;
pub mod relays;
pub mod revocations;

use anyhow::Result;
use puente_crdt::Time;
use serde::{Serialize, Serializer};

use crate::output;

/// Rows as JSON text, pretty-printed with a final newline. The rows pass through
/// `serde_json::Value`, whose maps keep keys sorted: the order scripts have always seen, which
/// a struct's field order therefore cannot change.
pub fn json(rows: &impl Serialize) -> Result<String> {
    output::json(&serde_json::to_value(rows)?)
}

/// The text, or `-` when it is empty.
fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text.to_string()
    }
}

/// `t` as RFC 3339 in UTC, for JSON fields that have always carried it so.
fn rfc3339<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.rfc3339())
}

/// Every line indented by two spaces.
pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// The first `n` characters.
fn prefix(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}
