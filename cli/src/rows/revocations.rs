//! Revocations and who has confirmed them: `puente peer revocations`, and the lines `status`
//! shows about them.

use jiff::tz::TimeZone;
use puente_crdt::Time;
use puente_node::identity::PublicKey;
use puente_node::membership::{RevocationInfo, Verdict};
use puente_node::replica::Replica;
use serde::Serialize;

use super::names::{Names, TargetRow, device_text};
use super::{indent, rfc3339};
use crate::output::{Table, pairs, short};
use crate::render;

/// One revocation with who has confirmed it.
#[derive(Debug)]
pub struct Confirmations {
    /// The revocation.
    pub info: RevocationInfo,
    /// Per member device: its key, its organisation's name, and the epoch its receipt reports
    /// (`None`: not heard from).
    pub devices: Vec<(PublicKey, String, Option<u32>)>,
}

impl Confirmations {
    /// Member devices that have not confirmed.
    pub fn missing(&self) -> usize {
        self.devices.iter().filter(|d| d.2.is_none()).count()
    }

    /// When it was made, by its author's clock.
    pub fn claimed(&self) -> Time {
        Time(i64::try_from(self.info.claimed_time).unwrap_or(i64::MAX))
    }
}

/// Every revocation of the log, oldest claimed first, with each member device's receipt.
pub fn confirmations(replica: &Replica, names: &Names) -> Vec<Confirmations> {
    let Some(state) = replica.membership().map(|l| l.state()) else {
        return Vec::new();
    };
    let mut out: Vec<Confirmations> = state
        .revocations()
        .into_iter()
        .map(|info| {
            let receipts = state.receipts(&info.id);
            let devices = if info.effective {
                state
                    .devices()
                    .iter()
                    .map(|d| (d.key, names.org(&d.org), receipts.get(&d.key).map(|e| e.0)))
                    .collect()
            } else {
                Vec::new()
            };
            Confirmations { info, devices }
        })
        .collect();
    out.sort_by_key(|c| (c.info.claimed_time, c.info.id));
    out
}

/// A revocation as `peer revocations` shows it.
#[derive(Debug, Serialize)]
pub struct RevocationRow {
    /// The revocation op's id.
    pub revocation: String,
    /// What it removes.
    pub target: TargetRow,
    /// The device that signed it.
    pub by: Author,
    /// The reason it gives (empty if none).
    pub reason: String,
    /// When it was made, by its author's clock.
    #[serde(rename = "claimed_time", serialize_with = "rfc3339")]
    pub claimed: Time,
    /// Whether it takes effect.
    pub effective: bool,
    /// Why not, if it does not.
    pub invalid_reason: Option<String>,
    /// Every member device and whether it confirmed (none unless effective).
    pub devices: Vec<Receipt>,
    /// Member devices that have not confirmed.
    pub missing: usize,
}

/// A device that signed an op.
#[derive(Debug, Serialize)]
pub struct Author {
    /// Its key.
    pub key: String,
    /// Its organisation's id, if the log names one.
    pub org: Option<String>,
    /// Its organisation's name, likewise.
    pub name: Option<String>,
}

/// One member device's confirmation of a revocation.
#[derive(Debug, Serialize)]
pub struct Receipt {
    /// Its key.
    pub key: String,
    /// Its organisation's name.
    pub name: String,
    /// Whether its receipt arrived.
    pub confirmed: bool,
    /// The epoch its receipt reports.
    pub epoch: Option<u32>,
    /// When it is not heard from: since the revocation was made.
    pub not_heard_from_since: Option<String>,
    /// This device (tables mark it).
    #[serde(skip)]
    pub this_device: bool,
}

impl RevocationRow {
    /// The row of `c`; `own` is this device.
    pub fn new(c: &Confirmations, names: &Names, own: &PublicKey) -> RevocationRow {
        let author_org = names.device_org(&c.info.author);
        let claimed = c.claimed();
        RevocationRow {
            revocation: c.info.id.to_string(),
            target: names.target_row(&c.info.target),
            by: Author {
                key: c.info.author.to_string(),
                org: author_org.map(|o| o.to_string()),
                name: author_org.map(|o| names.org(&o)),
            },
            reason: c.info.reason.clone(),
            claimed,
            effective: c.info.effective,
            invalid_reason: match c.info.verdict {
                Verdict::Invalid(r) => Some(r.to_string()),
                _ => None,
            },
            devices: c
                .devices
                .iter()
                .map(|(key, name, epoch)| Receipt {
                    key: key.to_string(),
                    name: name.clone(),
                    confirmed: epoch.is_some(),
                    epoch: *epoch,
                    not_heard_from_since: epoch.is_none().then(|| claimed.rfc3339()),
                    this_device: key == own,
                })
                .collect(),
            missing: c.missing(),
        }
    }

    /// The revocation as people read it.
    pub fn text(&self, now: Time, tz: &TimeZone) -> String {
        let mut out = t!(
            "rows-revocation-head",
            id = short(&self.revocation),
            target = self.target.to_string()
        );
        out.push('\n');
        let effective = match &self.invalid_reason {
            Some(r) => t!("rows-revocation-not-effective", reason = r.as_str()),
            None => t!("rows-yes"),
        };
        let reason = if self.reason.is_empty() {
            "-".to_string()
        } else {
            self.reason.clone()
        };
        out.push_str(&indent(&pairs(&[
            (
                t!("rows-key-by"),
                device_text(self.by.name.as_deref(), &self.by.key),
            ),
            (t!("rows-key-reason"), reason),
            (t!("rows-key-claimed"), render::when(self.claimed, now, tz)),
            (t!("rows-key-effective"), effective),
        ])));
        if !self.effective {
            return out;
        }
        let mut t = Table::new(&[
            t!("col-organisation"),
            t!("col-device"),
            t!("col-confirmed"),
        ]);
        for d in &self.devices {
            let prefix = super::prefix(&d.key, 12);
            t.row(vec![
                d.name.clone(),
                if d.this_device {
                    t!("rows-key-this-device", key = prefix)
                } else {
                    prefix
                },
                match d.epoch {
                    Some(e) => t!("rows-confirmed-on-epoch", epoch = e),
                    None => t!(
                        "rows-not-heard-from-since",
                        since = render::when(self.claimed, now, tz)
                    ),
                },
            ]);
        }
        out.push_str(&indent(&t.render()));
        let summary = if self.missing == 0 {
            t!("rows-revocation-all-confirmed")
        } else {
            t!(
                "rows-revocation-missing",
                missing = self.missing,
                devices = self.devices.len()
            )
        };
        out.push_str(&indent(&format!("{summary}\n")));
        out
    }
}

/// An effective revocation as `status` shows it.
#[derive(Debug, Serialize)]
pub struct RevocationSummary {
    /// The revocation op's id.
    pub revocation: String,
    /// What it removes.
    pub target: TargetRow,
    /// When it was made, by its author's clock.
    #[serde(rename = "claimed_time", serialize_with = "rfc3339")]
    pub claimed: Time,
    /// Member devices that have not confirmed.
    pub missing: usize,
    /// Member devices.
    pub devices: usize,
}

/// Every effective revocation, oldest claimed first.
pub fn summaries(replica: &Replica) -> Vec<RevocationSummary> {
    let names = Names::new(replica);
    confirmations(replica, &names)
        .iter()
        .filter(|c| c.info.effective)
        .map(|c| RevocationSummary {
            revocation: c.info.id.to_string(),
            target: names.target_row(&c.info.target),
            claimed: c.claimed(),
            missing: c.missing(),
            devices: c.devices.len(),
        })
        .collect()
}

/// For `puente status`: one line naming what is revoked, and one line per effective
/// revocation that some member device has not confirmed yet.
pub fn status_lines(summaries: &[RevocationSummary], now: Time, tz: &TimeZone) -> String {
    let mut out = String::new();
    let revoked: Vec<String> = summaries.iter().map(|s| s.target.to_string()).collect();
    if !revoked.is_empty() {
        out.push_str(&t!(
            "rows-status-revoked-list",
            targets = revoked.join(", ")
        ));
        out.push('\n');
    }
    for s in summaries.iter().filter(|s| s.missing > 0) {
        out.push_str(&t!(
            "rows-status-revocation-missing",
            target = s.target.to_string(),
            missing = s.missing,
            devices = s.devices,
            since = render::when(s.claimed, now, tz)
        ));
        out.push('\n');
    }
    out
}
