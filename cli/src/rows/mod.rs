//! Typed rows for what the network commands show: who this node is, `status`, devices, peers,
//! invitations, relays, revocations and the audit reports. Each record is a struct built once
//! from the replica (and the running node's view); its JSON is serde's of that struct and its
//! table is rendered from the same fields, so the two cannot say different things.
//!
//! Invariant: the JSON is byte for byte what these commands printed when they assembled
//! `serde_json::Value`s: keys in alphabetical order at every level (see [`json`]), the same
//! keys, and `null` where a value is absent. Scripts read it; `cli/tests/it/network_snapshots.rs`
//! pins it.
//!
//! Boundary: rows read the replica and the node's view; they never write, open the store or
//! print. Offers, hits and holds have their own rows in [`crate::render`].

pub mod audit;
pub mod devices;
pub mod identity;
pub mod invitations;
pub mod names;
pub mod relays;
pub mod revocations;
pub mod status;

use anyhow::Result;
use jiff::tz::TimeZone;
use puente_crdt::Time;
use serde::{Serialize, Serializer};

use crate::output;
use crate::render;

/// Rows as JSON text, pretty-printed with a final newline. The rows pass through
/// `serde_json::Value`, whose maps keep keys sorted: the order scripts have always seen, which
/// a struct's field order therefore cannot change.
pub fn json(rows: &impl Serialize) -> Result<String> {
    output::json(&serde_json::to_value(rows)?)
}

/// A moment: JSON and CSV write it in RFC 3339 (UTC), like every time puente writes for
/// machines; tables show it in the organisation's zone and add how long ago it was.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    at: Time,
}

impl Stamp {
    /// The moment `at`.
    pub fn new(at: Time) -> Stamp {
        Stamp { at }
    }

    /// "2026-11-23 09:00 (2 h ago)".
    pub fn when(&self, now: Time, tz: &TimeZone) -> String {
        render::when(self.at, now, tz)
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.at.rfc3339())
    }
}

/// A time as JSON writes it: RFC 3339 in UTC (`#[serde(serialize_with = "rfc3339")]`).
pub fn rfc3339<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.rfc3339())
}

/// An optional time as JSON writes it: RFC 3339 in UTC, or `null`.
pub fn opt_rfc3339<S: Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.rfc3339()),
        None => s.serialize_none(),
    }
}

/// The text, or `-` when it is empty.
fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text.to_string()
    }
}

/// `yes`, `no` (in the current language), or `-` when unknown (no node runs).
fn yes_no(b: Option<bool>) -> String {
    match b {
        Some(true) => t!("rows-yes"),
        Some(false) => t!("rows-no"),
        None => "-".to_string(),
    }
}

/// A flag as a CSV cell: `true`, `false`, or empty when unknown.
fn csv_flag(b: Option<bool>) -> String {
    b.map_or(String::new(), |b| b.to_string())
}

/// Every line indented by two spaces.
pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// The first `n` characters.
fn prefix(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}
