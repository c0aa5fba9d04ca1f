//! Typed rows for what the network commands show: who this node is. Each record is a struct
//! built once from the replica (and the running node's view); its JSON is serde's of that
//! struct and its table is rendered from the same fields, so the two cannot say different
//! things.
//!
//! Invariant: the JSON is byte for byte what these commands printed when they assembled
//! `serde_json::Value`s: keys in alphabetical order at every level (see [`json`]), the same
//! keys, and `null` where a value is absent. Scripts read it; `cli/tests/it/network_snapshots.rs`
//! pins it.
//!
//! Boundary: rows read the replica and the node's view; they never write, open the store or
//! print. Offers, hits and holds have their own rows in [`crate::render`].

pub mod identity;

use anyhow::Result;
use serde::Serialize;

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
