//! How ids are named for people: organisations by name, devices by their organisation and the
//! start of their key, and what a revocation removes, in words and as a row for scripts.

use std::collections::BTreeMap;
use std::fmt;

use puente_crdt::OrgId;
use puente_node::identity::PublicKey;
use puente_node::membership::{Body, MembershipLog, RevokeTarget};
use puente_node::replica::Replica;
use serde::Serialize;

use crate::output::short;

/// The start of a device key, enough to tell devices apart in tables and sentences.
pub fn key_prefix(key: &PublicKey) -> String {
    key.to_string().chars().take(12).collect()
}

/// Names of organisations and the organisation of every device, from every op of the
/// membership log (so revoked organisations and devices keep their names) and the profiles
/// partners published.
#[derive(Debug, Default)]
pub struct Names {
    orgs: BTreeMap<OrgId, String>,
    devices: BTreeMap<PublicKey, OrgId>,
}

impl Names {
    /// The names this replica knows.
    pub fn new(replica: &Replica) -> Names {
        let mut names = Names::default();
        for (id, p) in replica.view().profiles() {
            if !p.name.is_empty() {
                names.orgs.insert(*id, p.name.clone());
            }
        }
        if let Some(log) = replica.membership() {
            names.add_log(log);
        }
        names
    }

    /// Adds the names a membership log gives (they win over profiles).
    pub fn add_log(&mut self, log: &MembershipLog) {
        let names = self;
        for op in log.ops() {
            match op.body() {
                Body::Create {
                    org, name, device, ..
                }
                | Body::AddOrg {
                    org, name, device, ..
                } => {
                    names.orgs.insert(*org, name.clone());
                    names.devices.entry(*device).or_insert(*org);
                }
                Body::AddDevice { org, device, .. } => {
                    names.devices.entry(*device).or_insert(*org);
                }
                _ => {}
            }
        }
        // The resolved state wins where concurrent adds disagree.
        let state = log.state();
        for d in state.devices().into_iter().chain(state.revoked_devices()) {
            names.devices.insert(d.key, d.org);
        }
    }

    /// An organisation's name, or the start of its id if it is unknown.
    pub fn org(&self, id: &OrgId) -> String {
        self.orgs.get(id).cloned().unwrap_or_else(|| short(id))
    }

    /// The organisation a device belongs to, if the log names it.
    pub fn device_org(&self, key: &PublicKey) -> Option<OrgId> {
        self.devices.get(key).copied()
    }

    /// "River Refuge (udnf5tq0kkh1)": a device as people read it.
    pub fn device(&self, key: &PublicKey) -> String {
        device_text(self.device_org(key).map(|o| self.org(&o)).as_deref(), key)
    }

    /// What a revocation removes, as people read it.
    pub fn target(&self, target: &RevokeTarget) -> String {
        self.target_row(target).to_string()
    }

    /// What a revocation removes, as a row.
    pub fn target_row(&self, target: &RevokeTarget) -> TargetRow {
        match target {
            RevokeTarget::Org(org) => TargetRow {
                kind: TargetKind::Organisation,
                org: Some(org.to_string()),
                name: Some(self.org(org)),
                key: None,
            },
            RevokeTarget::Device(key) => TargetRow {
                kind: TargetKind::Device,
                org: self.device_org(key).map(|o| o.to_string()),
                name: self.device_org(key).map(|o| self.org(&o)),
                key: Some(key.to_string()),
            },
        }
    }
}

/// "River Refuge (udnf5tq0kkh1)", or "unknown device (udnf5tq0kkh1)" when no organisation is
/// known for the key.
pub fn device_text(org_name: Option<&str>, key: &impl fmt::Display) -> String {
    let prefix: String = key.to_string().chars().take(12).collect();
    match org_name {
        Some(name) => format!("{name} ({prefix})"),
        None => t!("rows-unknown-device", key = prefix),
    }
}

/// Whether a revocation removes an organisation or one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// An organisation with all its devices.
    Organisation,
    /// One device key.
    Device,
}

/// What a revocation removes. For an organisation, `org` and `name` are set and `key` is not;
/// for a device, `key` is set, and `org` and `name` when the log names its organisation.
/// Displayed as people read it, in the current language: `"Yolo" (organisation)`,
/// `device udnf5tq0kkh1 of "Yolo"`.
#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    /// Organisation or device.
    #[serde(rename = "type")]
    pub kind: TargetKind,
    /// The organisation's id.
    pub org: Option<String>,
    /// The organisation's name.
    pub name: Option<String>,
    /// The device key.
    pub key: Option<String>,
}

impl TargetRow {
    /// The start of the device key, for a device.
    pub fn key_prefix(&self) -> String {
        self.key
            .as_deref()
            .map(|k| super::prefix(k, 12))
            .unwrap_or_default()
    }
}

impl fmt::Display for TargetRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match (self.kind, &self.name) {
            (TargetKind::Organisation, name) => t!(
                "rows-target-org",
                name = name.as_deref().unwrap_or_default()
            ),
            (TargetKind::Device, Some(name)) => t!(
                "rows-target-device",
                key = self.key_prefix(),
                name = name.as_str()
            ),
            (TargetKind::Device, None) => t!("rows-target-device-unknown", key = self.key_prefix()),
        };
        f.write_str(&text)
    }
}
