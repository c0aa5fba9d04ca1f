//! The network's relays: `puente relay list`, and how relays are named in tables.

use puente_node::identity::PublicKey;
use puente_node::membership::RelayEntry;
use puente_node::net::peer_id_text;
use serde::Serialize;

use crate::context::NodeView;
use crate::output::{self, Table};

/// The first characters of a relay's libp2p id, as people compare them.
pub fn short_id(key: &PublicKey) -> String {
    peer_id_text(key)
        .map(|id| id.chars().take(16).collect())
        .unwrap_or_else(|| key.to_string().chars().take(12).collect())
}

/// A relay as `relay list` shows it.
#[derive(Debug, Serialize)]
pub struct RelayRow {
    /// Its libp2p id.
    pub id: Option<String>,
    /// The start of its id, as people compare them.
    #[serde(skip)]
    pub short: String,
    /// Its addresses.
    pub addresses: Vec<String>,
    /// Whether it holds a reservation for this node (while a node runs).
    pub reserved: Option<bool>,
    /// The last problem its mailbox reported.
    pub problem: Option<String>,
}

impl RelayRow {
    /// The row of `relay`, with what the running node (if any) knows of it.
    pub fn new(relay: &RelayEntry, node: Option<&NodeView>) -> RelayRow {
        let view = node.and_then(|n| n.status.relays.get(&relay.key));
        let mailbox = node.and_then(|n| n.status.mailbox.get(&relay.key));
        RelayRow {
            id: peer_id_text(&relay.key),
            short: short_id(&relay.key),
            addresses: relay.addresses.clone(),
            reserved: view.map(|v| v.reserved),
            problem: mailbox.and_then(|m| m.problem.as_ref().map(crate::messages::relay_problem)),
        }
    }
}

/// The relays as a table.
pub fn table(rows: &[RelayRow]) -> String {
    let mut t = Table::new(&[t!("col-relay"), t!("col-addresses"), t!("col-this-node")]);
    for r in rows {
        let state = match (r.reserved, &r.problem) {
            (None, _) => t!("rows-relay-node-not-running"),
            (Some(true), None) => t!("rows-relay-reachable"),
            (Some(true), Some(problem)) => {
                t!("rows-relay-reachable-problem", problem = problem.as_str())
            }
            (Some(false), Some(problem)) => {
                t!(
                    "rows-relay-not-connected-problem",
                    problem = problem.as_str()
                )
            }
            (Some(false), None) => t!("rows-relay-not-connected"),
        };
        t.row(vec![r.short.clone(), r.addresses.join(" "), state]);
    }
    t.render()
}

/// `relay list --format csv`: one row per relay, addresses `;`-joined, unknown values empty.
pub fn csv(rows: &[RelayRow]) -> anyhow::Result<String> {
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone().unwrap_or_default(),
                r.addresses.join(";"),
                r.reserved.map_or(String::new(), |b| b.to_string()),
                r.problem.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::csv(&["id", "addresses", "reserved", "problem"], &records)
}
