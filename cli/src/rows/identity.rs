//! Who this node is: `whoami`, `init`, and the first lines of `status`.

use anyhow::Result;
use puente_node::joiner::waits_to_join_as_device;
use puente_node::replica::Replica;
use serde::Serialize;

use super::or_dash;
use crate::output::{self, pairs};

/// What `whoami` and `status` say about a store made with `init --device` that has not joined.
pub fn device_pending() -> String {
    t!("rows-device-pending")
}

/// What `whoami` and `status` say of a store that belongs to no network yet.
pub fn no_network() -> String {
    t!("rows-no-network")
}

/// The columns of `whoami --format csv`, in order.
const WHOAMI_COLUMNS: &[&str] = &[
    "org",
    "name",
    "public_key",
    "fingerprint",
    "network",
    "epoch",
    "counties",
    "intake",
    "tz",
];

/// Who this node is, with its organisation's profile and its devices.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// The organisation's id; none while a new device waits to join its organisation.
    pub org: Option<String>,
    /// The organisation's name (see [`org_name`]).
    pub name: String,
    /// A store made with `init --device` that has not joined yet.
    pub device_pending: bool,
    /// The organisation's member devices, from the membership log.
    pub devices: Vec<String>,
    /// This device is a member but holds no key of the current epoch yet.
    pub waiting_for_key: bool,
    /// This device's key.
    pub public_key: String,
    /// Its fingerprint, to read aloud.
    pub fingerprint: String,
    /// The network this node belongs to: none until it founds or joins one (as `status`
    /// says).
    pub network: Option<String>,
    /// The current epoch.
    pub epoch: u32,
    /// Counties the organisation serves, from its profile.
    pub counties: Vec<String>,
    /// Its intake route, from its profile.
    pub intake: String,
    /// The store's time zone.
    pub tz: String,
}

impl Identity {
    /// This replica's identity.
    pub fn of(replica: &Replica) -> Identity {
        let w = replica.whoami();
        let profile = replica.view().profiles().get(&w.org);
        let pending = waits_to_join_as_device(replica);
        let state = replica.membership().map(|log| log.state());
        let devices: Vec<String> = state
            .and_then(|s| s.org(&w.org))
            .map(|o| o.devices.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let waiting_for_key = state.is_some_and(|s| {
            s.is_member_device(&w.public_key)
                && s.devices_without_current_key().contains(&w.public_key)
        });
        Identity {
            org: (!pending).then(|| w.org.to_string()),
            name: org_name(replica),
            device_pending: pending,
            devices,
            waiting_for_key,
            public_key: w.public_key.to_string(),
            fingerprint: w.fingerprint,
            network: replica.membership().map(|_| w.network),
            epoch: w.epoch,
            counties: profile
                .map(|p| p.counties.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            intake: profile.map(|p| p.intake.clone()).unwrap_or_default(),
            tz: replica.tz().to_string(),
        }
    }

    /// The "devices" line of `whoami` and `status`.
    pub fn devices_line(&self) -> Option<String> {
        devices_line(self.devices.len(), self.waiting_for_key)
    }

    /// `whoami` as people read it.
    pub fn text(&self) -> String {
        if self.device_pending {
            return pairs(&[
                (t!("rows-key-organisation"), device_pending()),
                (t!("rows-key-public-key"), or_dash(&self.public_key)),
                (t!("rows-key-fingerprint"), or_dash(&self.fingerprint)),
                (t!("rows-key-time-zone"), or_dash(&self.tz)),
            ]);
        }
        let counties = if self.counties.is_empty() {
            "-".to_string()
        } else {
            self.counties.join(",")
        };
        let mut rows = vec![
            (t!("rows-key-organisation"), or_dash(&self.name)),
            (
                t!("rows-key-organisation-id"),
                or_dash(self.org.as_deref().unwrap_or_default()),
            ),
            (t!("rows-key-public-key"), or_dash(&self.public_key)),
            (t!("rows-key-fingerprint"), or_dash(&self.fingerprint)),
            (t!("rows-key-counties"), counties),
            (t!("rows-key-intake"), or_dash(&self.intake)),
            (t!("rows-key-time-zone"), or_dash(&self.tz)),
            (
                t!("rows-key-network"),
                self.network.clone().unwrap_or_else(no_network),
            ),
            (t!("rows-key-epoch"), self.epoch.to_string()),
        ];
        if let Some(line) = self.devices_line() {
            rows.push((t!("rows-key-devices"), line));
        }
        pairs(&rows)
    }

    /// `whoami --format csv`: one record; lists joined with `;`, absent values empty.
    pub fn csv(&self) -> Result<String> {
        let row = vec![
            self.org.clone().unwrap_or_default(),
            self.name.clone(),
            self.public_key.clone(),
            self.fingerprint.clone(),
            self.network.clone().unwrap_or_default(),
            self.epoch.to_string(),
            self.counties.join(";"),
            self.intake.clone(),
            self.tz.clone(),
        ];
        output::csv(WHOAMI_COLUMNS, &[row])
    }
}

/// The "devices" line of `whoami` and `status`: how many devices the organisation has, that
/// this is one of them, and whether it still waits for the network's key. None without
/// devices (no network yet).
pub fn devices_line(devices: usize, waiting_for_key: bool) -> Option<String> {
    if devices == 0 {
        return None;
    }
    Some(t!(
        "rows-devices-line",
        count = devices,
        others = devices - 1,
        waiting = if waiting_for_key { "yes" } else { "no" }
    ))
}

/// This organisation's name: from its profile, or (on a device that joined but has not synced
/// the profile yet) from the membership log.
pub fn org_name(replica: &Replica) -> String {
    let name = replica.whoami().name;
    if !name.is_empty() {
        return name;
    }
    replica
        .membership()
        .and_then(|log| log.state().org(&replica.org()))
        .map(|o| o.name)
        .unwrap_or_default()
}
