//! Devices: this organisation's (`puente device list`) and the partners' (`puente peer list`).

use anyhow::Result;
use jiff::tz::TimeZone;
use puente_crdt::Time;
use puente_node::identity::PublicKey;
use puente_node::replica::Replica;
use serde::Serialize;

use super::{csv_flag, yes_no};
use crate::context::NodeView;
use crate::output::{self, Table};

/// The columns of `device list --format csv`, in order.
const DEVICE_COLUMNS: &[&str] = &[
    "key",
    "this_device",
    "revoked",
    "revoked_at",
    "reason",
    "connected",
];

/// The columns of `peer list --format csv`, in order.
const PEER_COLUMNS: &[&str] = &["key", "name", "role", "addresses", "connected"];

/// One device of this organisation.
#[derive(Debug, Serialize)]
pub struct DeviceRow {
    /// Its key.
    pub key: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// This device.
    pub this_device: bool,
    /// Revoked (then `revocation` says when and why).
    pub revoked: bool,
    /// When and why it was revoked; the JSON carries these keys for revoked devices only.
    #[serde(flatten)]
    pub revocation: Option<DeviceRevocation>,
    /// With a sync session now (while a node runs).
    pub connected: Option<bool>,
}

/// When and why a device was revoked.
#[derive(Debug, Serialize)]
pub struct DeviceRevocation {
    /// When, by the revoker's clock (RFC 3339, UTC, in JSON and CSV).
    #[serde(serialize_with = "super::opt_rfc3339")]
    pub revoked_at: Option<Time>,
    /// The reason given.
    pub reason: Option<String>,
}

impl DeviceRow {
    /// This organisation's devices: this one first, then the other members, then the revoked
    /// ones (each group in key order).
    pub fn all(replica: &Replica, node: Option<&NodeView>) -> Vec<DeviceRow> {
        let own = replica.public_key();
        let org = replica.org();
        let connected: Vec<PublicKey> = node.map(|n| n.status.sessions.clone()).unwrap_or_default();
        let mut rows = Vec::new();
        match replica.membership().map(|log| log.state()) {
            None => rows.push(DeviceRow {
                key: own.to_string(),
                fingerprint: own.fingerprint().to_string(),
                this_device: true,
                revoked: false,
                revocation: None,
                connected: None,
            }),
            Some(state) => {
                let members = state.org(&org).map(|o| o.devices).unwrap_or_default();
                for d in members {
                    rows.push(DeviceRow {
                        key: d.to_string(),
                        fingerprint: d.fingerprint().to_string(),
                        this_device: d == own,
                        revoked: false,
                        revocation: None,
                        connected: node.map(|_| d == own || connected.contains(&d)),
                    });
                }
                for d in state.revoked_devices().into_iter().filter(|d| d.org == org) {
                    let revocation = state
                        .device_cut(&d.key)
                        .and_then(|cut| cut.revocations.first().copied())
                        .and_then(|id| state.revocation(&id));
                    let at = revocation
                        .as_ref()
                        .and_then(|r| i64::try_from(r.claimed_time).ok())
                        .map(Time);
                    rows.push(DeviceRow {
                        key: d.key.to_string(),
                        fingerprint: d.key.fingerprint().to_string(),
                        this_device: d.key == own,
                        revoked: true,
                        revocation: Some(DeviceRevocation {
                            revoked_at: at,
                            reason: revocation.map(|r| r.reason),
                        }),
                        connected: node.map(|_| false),
                    });
                }
            }
        }
        rows.sort_by_key(|r| (r.revoked, !r.this_device));
        rows
    }

    /// The STATE column, times in `tz`.
    fn state(&self, tz: &TimeZone) -> String {
        if self.revoked {
            let revocation = self.revocation.as_ref();
            let at = revocation
                .and_then(|r| r.revoked_at)
                .map_or_else(String::new, |at| at.local(tz));
            let reason = revocation
                .and_then(|r| r.reason.as_deref())
                .unwrap_or_default();
            t!(
                "rows-device-revoked",
                has_at = if at.is_empty() { "no" } else { "yes" },
                at = at,
                has_reason = if reason.is_empty() { "no" } else { "yes" },
                reason = reason
            )
        } else if self.this_device {
            t!("rows-this-device")
        } else {
            t!("rows-device-member")
        }
    }
}

/// `device list` as people read it: `org` is this organisation's name; `in_network` says
/// whether devices can be added (a membership log exists).
pub fn device_table(rows: &[DeviceRow], org: &str, in_network: bool, tz: &TimeZone) -> String {
    let mut t = Table::new(&[t!("col-device-key"), t!("col-state"), t!("col-connected")]);
    for r in rows {
        let connected = if r.this_device {
            "-".to_string()
        } else {
            yes_no(r.connected)
        };
        t.row(vec![r.key.clone(), r.state(tz), connected]);
    }
    let mut text = t!("rows-devices-of", org = org);
    text.push('\n');
    text.push_str(&t.render());
    if in_network {
        text.push_str(&t!("rows-devices-hint"));
        text.push('\n');
    }
    text
}

/// `device list --format csv`.
pub fn device_csv(rows: &[DeviceRow]) -> Result<String> {
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let revocation = r.revocation.as_ref();
            vec![
                r.key.clone(),
                r.this_device.to_string(),
                r.revoked.to_string(),
                revocation
                    .and_then(|x| x.revoked_at)
                    .map(Time::rfc3339)
                    .unwrap_or_default(),
                revocation
                    .and_then(|x| x.reason.clone())
                    .unwrap_or_default(),
                csv_flag(r.connected),
            ]
        })
        .collect();
    output::csv(DEVICE_COLUMNS, &records)
}

/// A partner's device (any member device but this one).
#[derive(Debug, Serialize)]
pub struct PeerRow {
    /// Its key.
    pub key: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its organisation's id.
    pub org: String,
    /// Its organisation's name.
    pub name: String,
    /// Its organisation's role.
    pub role: String,
    /// Addresses this node knows for it.
    pub addresses: Vec<String>,
    /// With a sync session now (while a node runs).
    pub connected: Option<bool>,
}

impl PeerRow {
    /// Every member device but this one, by organisation.
    pub fn all(replica: &Replica, node: Option<&NodeView>) -> Vec<PeerRow> {
        let connected: Vec<PublicKey> = node.map(|n| n.status.sessions.clone()).unwrap_or_default();
        let own = replica.public_key();
        let mut rows = Vec::new();
        for org in replica.member_orgs() {
            for d in &org.devices {
                if *d == own {
                    continue;
                }
                rows.push(PeerRow {
                    key: d.to_string(),
                    fingerprint: d.fingerprint().to_string(),
                    org: org.id.to_string(),
                    name: org.name.clone(),
                    role: org.role.to_string(),
                    addresses: replica.peers().addresses(d).to_vec(),
                    connected: node.map(|_| connected.contains(d)),
                });
            }
        }
        rows
    }
}

/// `peer list` as people read it.
pub fn peer_table(rows: &[PeerRow]) -> String {
    if rows.is_empty() {
        return format!("{}\n", t!("rows-no-partners"));
    }
    let mut t = Table::new(&[
        t!("col-organisation"),
        t!("col-role"),
        t!("col-device-key"),
        t!("col-connected"),
        t!("col-addresses"),
    ]);
    for r in rows {
        t.row(vec![
            r.name.clone(),
            r.role.clone(),
            r.key.clone(),
            yes_no(r.connected),
            if r.addresses.is_empty() {
                "-".into()
            } else {
                r.addresses.join(", ")
            },
        ]);
    }
    t.render()
}

/// `peer list --format csv`: addresses joined with `;`.
pub fn peer_csv(rows: &[PeerRow]) -> Result<String> {
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.key.clone(),
                r.name.clone(),
                r.role.clone(),
                r.addresses.join(";"),
                csv_flag(r.connected),
            ]
        })
        .collect();
    output::csv(PEER_COLUMNS, &records)
}
