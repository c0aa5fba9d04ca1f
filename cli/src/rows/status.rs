//! `puente status`: this node, its network, every member device and how it is reached, the
//! relays, offers per owner and what is revoked.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use puente_crdt::{OrgId, Time};
use puente_node::actor::{NodeStatus, PeerPath, Reach};
use puente_node::identity::PublicKey;
use puente_node::invite::InviteState;
use puente_node::replica::Replica;
use serde::Serialize;

use super::identity::{Identity, device_pending, devices_line, no_network, org_name};
use super::relays::short_id;
use super::revocations::{self, RevocationSummary};
use super::{Stamp, prefix};
use crate::context::NodeView;
use crate::output::{Table, pairs};

/// What `status` shows.
#[derive(Debug, Serialize)]
pub struct Status {
    /// This organisation's name.
    pub organisation: String,
    /// Set when this device was revoked, alone or with its organisation.
    pub revoked: Option<Revoked>,
    /// This store is older than what partners hold from this device: it writes nothing more.
    pub rolled_back: bool,
    /// Restored from a backup, and partners do not know this device yet: the key of the
    /// device it replaced, which the node tells them through.
    pub handover: Option<String>,
    /// History was erased and this node has not finished applying it: partners' re-sent
    /// records not all here yet, or its new key not accepted by a partner yet.
    pub erasing: bool,
    /// A store made with `init --device` that has not joined yet.
    pub device_pending: bool,
    /// The organisation's member devices.
    pub devices: Vec<String>,
    /// This device waits for the current epoch's key.
    pub waiting_for_key: bool,
    /// The network's id, once there is a membership log.
    pub network: Option<String>,
    /// The network's name.
    pub network_name: Option<String>,
    /// The current epoch.
    pub epoch: u32,
    /// Whether a node runs on the data directory (and answered this command).
    pub node_running: bool,
    /// The addresses the running node listens on.
    pub listen: Option<Vec<String>>,
    /// Every member organisation with its devices.
    pub members: Vec<Member>,
    /// Invitations a joiner has presented that wait for confirmation.
    pub invitations_waiting: usize,
    /// Offers per owner's name.
    pub offers_by_owner: BTreeMap<String, usize>,
    /// Non-members the running node's transport refused since it started.
    pub refused_connections: Option<u64>,
    /// The network's relays.
    pub relays: Vec<StatusRelay>,
    /// Effective revocations and how many member devices have not confirmed each.
    pub revocations: Vec<RevocationSummary>,
}

/// A member organisation.
#[derive(Debug, Serialize)]
pub struct Member {
    /// Its id.
    pub org: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Its member devices.
    pub devices: Vec<MemberDevice>,
}

/// A member device as the running node sees it.
#[derive(Debug, Serialize)]
pub struct MemberDevice {
    /// Its key.
    pub key: String,
    /// This device.
    pub this_device: bool,
    /// With a sync session now.
    pub connected: bool,
    /// How it is reached, once the node has tried.
    pub reach: Option<ReachRow>,
    /// When it last acknowledged a batch, since the node started.
    pub last_sync: Option<Stamp>,
    /// Envelopes it is not known to have, while a session runs.
    pub envelopes_pending: Option<u64>,
}

/// How a member device is reached, and since when.
#[derive(Debug, Serialize)]
pub struct ReachRow {
    /// `direct`, `relayed` or `unreachable`.
    pub how: &'static str,
    /// The relay, when relayed.
    pub relay: Option<String>,
    /// Since when (node clock).
    pub since: Stamp,
}

/// A relay of the network, as this node sees it.
#[derive(Debug, Serialize)]
pub struct StatusRelay {
    /// Its libp2p id.
    pub id: Option<String>,
    /// The start of its id, as people compare them.
    pub short: String,
    /// Its addresses.
    pub addresses: Vec<String>,
    /// Whether it holds a reservation for this node (while a node runs).
    pub reserved: Option<bool>,
    /// Since when that holds (node clock).
    pub since: Option<Stamp>,
    /// Mailbox entries this node deposited there since start.
    pub deposited: Option<u64>,
    /// Mailbox entries this node collected there since start.
    pub collected: Option<u64>,
    /// What this node wrote that is not in the mailbox yet.
    pub pending: Option<u64>,
    /// The last problem the mailbox reported.
    pub problem: Option<String>,
}

/// This device's revocation, as `status` reports it.
#[derive(Debug, Serialize)]
pub struct Revoked {
    /// `organisation` (the whole organisation) or `device` (this device alone).
    pub what: &'static str,
    /// The organisation that revoked it: its id.
    pub by: String,
    /// Its name.
    pub by_name: String,
    /// When, by the revoker's clock.
    #[serde(serialize_with = "super::rfc3339")]
    pub at: Time,
    /// The reason given.
    pub reason: String,
}

impl Revoked {
    /// This replica's revocation, if the log holds one.
    pub fn of(replica: &Replica) -> Option<Revoked> {
        replica.own_revocation().map(|r| Revoked {
            what: if r.organisation {
                "organisation"
            } else {
                "device"
            },
            by: r.by.to_string(),
            by_name: r.by_name,
            at: r.at,
            reason: r.reason,
        })
    }

    /// The sentence `status` starts with, and `offer add` warns with.
    pub fn sentence(&self, now: Time, tz: &TimeZone) -> String {
        t!(
            "rows-revoked-sentence",
            what = self.what,
            by = self.by_name.as_str(),
            when = crate::render::when(self.at, now, tz),
            has_reason = if self.reason.is_empty() { "no" } else { "yes" },
            reason = self.reason.as_str()
        )
    }
}

impl Status {
    /// The status of `replica`, with what the running node (if any) knows.
    pub fn build(replica: &Replica, node: Option<&NodeView>, now: Time) -> Status {
        let status = node.map(|n| &n.status);
        let connected: Vec<PublicKey> = status.map(|s| s.sessions.clone()).unwrap_or_default();
        let pending: BTreeMap<PublicKey, u64> = status
            .map(|s| {
                s.peers
                    .iter()
                    .map(|p| (p.key, p.envelopes_pending))
                    .collect()
            })
            .unwrap_or_default();
        let own = replica.public_key();
        let members = replica
            .member_orgs()
            .iter()
            .map(|org| Member {
                org: org.id.to_string(),
                name: org.name.clone(),
                role: org.role.to_string(),
                devices: org
                    .devices
                    .iter()
                    .map(|d| MemberDevice {
                        key: d.to_string(),
                        this_device: *d == own,
                        connected: connected.contains(d),
                        reach: status.and_then(|s| s.paths.get(d)).map(ReachRow::new),
                        last_sync: status
                            .and_then(|s| s.last_sync.get(d))
                            .map(|t| Stamp::new(*t)),
                        envelopes_pending: pending.get(d).copied(),
                    })
                    .collect(),
            })
            .collect();
        let names = org_names(replica);
        let offers_by_owner = replica
            .stats()
            .offers_by_owner
            .iter()
            .map(|(o, n)| (names.get(o).cloned().unwrap_or_else(|| o.to_string()), *n))
            .collect();
        let me = Identity::of(replica);
        Status {
            organisation: org_name(replica),
            revoked: Revoked::of(replica),
            rolled_back: replica.rollback().is_some(),
            handover: replica.handover().ok().flatten().map(|k| k.to_string()),
            erasing: replica.erasure_status().is_ok_and(|e| !e.complete()),
            device_pending: me.device_pending,
            devices: me.devices,
            waiting_for_key: me.waiting_for_key,
            network: replica.membership().map(|_| replica.network().to_string()),
            network_name: replica.network_name().map(str::to_string),
            epoch: replica.epoch().0,
            node_running: node.is_some(),
            listen: node.map(|n| n.listen.clone()),
            members,
            invitations_waiting: replica
                .invitations()
                .iter()
                .filter(|i| matches!(i.state, InviteState::Requested { .. }) && now < i.expires)
                .count(),
            offers_by_owner,
            refused_connections: status.map(|s| s.refused),
            relays: StatusRelay::all(replica, status),
            revocations: revocations::summaries(replica),
        }
    }

    /// `status` as people read it.
    pub fn text(&self, now: Time, tz: &TimeZone) -> String {
        let running = self.node_running;
        let mut out = String::new();
        if let Some(revoked) = &self.revoked {
            out.push_str(&t!(
                "rows-status-revoked",
                sentence = revoked.sentence(now, tz)
            ));
            out.push_str("\n\n");
        }
        if self.rolled_back {
            out.push_str(&format!("{}\n\n", crate::t!("admin-status-rolled-back")));
        }
        if self.erasing {
            out.push_str(&format!("{}\n\n", crate::t!("admin-status-erasing")));
        } else if let Some(old) = &self.handover {
            let old: String = old.chars().take(8).collect();
            out.push_str(&format!(
                "{}\n\n",
                crate::t!("admin-status-handover", old = old)
            ));
        }
        let network = match (&self.network_name, &self.network) {
            (Some(name), Some(id)) => format!("{name} ({id})"),
            _ if self.device_pending => t!("rows-status-network-pending"),
            _ => no_network(),
        };
        let node = if running {
            t!(
                "rows-status-node-running",
                addresses = self.listen.as_deref().unwrap_or_default().join(", ")
            )
        } else {
            t!("rows-status-node-stopped")
        };
        let organisation = if self.device_pending {
            device_pending()
        } else {
            self.organisation.clone()
        };
        let mut rows = vec![(t!("rows-key-organisation"), organisation)];
        if let Some(line) = devices_line(self.devices.len(), self.waiting_for_key) {
            rows.push((t!("rows-key-devices"), line));
        }
        rows.extend([
            (t!("rows-key-network"), network),
            (t!("rows-key-epoch"), self.epoch.to_string()),
            (t!("rows-key-node"), node),
        ]);
        out.push_str(&pairs(&rows));
        if !self.members.is_empty() {
            out.push('\n');
            let mut t = Table::new(&[
                t!("col-member"),
                t!("col-role"),
                t!("col-device"),
                t!("col-reached"),
                t!("col-last-sync"),
                t!("col-pending"),
            ]);
            for m in &self.members {
                for d in &m.devices {
                    let reached = if d.this_device {
                        t!("rows-this-device")
                    } else if !running {
                        "-".to_string()
                    } else {
                        match &d.reach {
                            Some(reach) => reach.text(now, tz),
                            None if d.connected => t!("rows-yes"),
                            None => t!("rows-no"),
                        }
                    };
                    let last = match (&d.last_sync, d.this_device) {
                        (Some(t), false) => t.when(now, tz),
                        _ => "-".to_string(),
                    };
                    t.row(vec![
                        m.name.clone(),
                        m.role.clone(),
                        prefix(&d.key, 12),
                        reached,
                        last,
                        d.envelopes_pending
                            .map_or_else(|| "-".into(), |n| n.to_string()),
                    ]);
                }
            }
            out.push_str(&t.render());
        }
        if !self.relays.is_empty() {
            out.push('\n');
            let mut t = Table::new(&[t!("col-relay"), t!("col-this-node"), t!("col-mailbox")]);
            for r in &self.relays {
                t.row(vec![r.short.clone(), r.state(now, tz), r.mailbox()]);
            }
            out.push_str(&t.render());
        }
        if !self.offers_by_owner.is_empty() {
            out.push('\n');
            let mut t = Table::new(&[t!("col-offers-by"), t!("col-count")]);
            for (name, n) in &self.offers_by_owner {
                t.row(vec![name.clone(), n.to_string()]);
            }
            out.push_str(&t.render());
        }
        if self.invitations_waiting > 0 {
            out.push('\n');
            out.push_str(&t!(
                "rows-status-invitations-waiting",
                count = self.invitations_waiting
            ));
            out.push('\n');
        }
        let revocations = revocations::status_lines(&self.revocations, now, tz);
        if !revocations.is_empty() {
            out.push('\n');
            out.push_str(&revocations);
        }
        out
    }
}

impl ReachRow {
    fn new(path: &PeerPath) -> ReachRow {
        let (how, relay) = match path.reach {
            Reach::Direct => ("direct", None),
            Reach::Relayed(relay) => ("relayed", Some(short_id(&relay))),
            _ => ("unreachable", None),
        };
        ReachRow {
            how,
            relay,
            since: Stamp::new(path.since),
        }
    }

    /// "direct since 09:14 (2 min ago)", "via relay 12D3KooW… since …", "unreachable since …".
    fn text(&self, now: Time, tz: &TimeZone) -> String {
        let since = self.since.when(now, tz);
        match (self.how, &self.relay) {
            ("direct", _) => t!("rows-reach-direct", since = since),
            ("relayed", Some(relay)) => {
                t!("rows-reach-relayed", relay = relay.as_str(), since = since)
            }
            _ => t!("rows-reach-unreachable", since = since),
        }
    }
}

impl StatusRelay {
    /// The network's relays and this node's view of each.
    fn all(replica: &Replica, status: Option<&NodeStatus>) -> Vec<StatusRelay> {
        replica
            .relays()
            .iter()
            .map(|relay| {
                let view = status.and_then(|s| s.relays.get(&relay.key));
                let mailbox = status.and_then(|s| s.mailbox.get(&relay.key));
                StatusRelay {
                    id: puente_node::net::peer_id_text(&relay.key),
                    short: short_id(&relay.key),
                    addresses: relay.addresses.clone(),
                    reserved: view.map(|v| v.reserved),
                    since: view.map(|v| Stamp::new(v.since)),
                    deposited: mailbox.map(|m| m.deposited),
                    collected: mailbox.map(|m| m.collected),
                    pending: mailbox.map(|m| m.pending),
                    problem: mailbox
                        .and_then(|m| m.problem.as_ref().map(crate::messages::relay_problem)),
                }
            })
            .collect()
    }

    /// The THIS NODE column.
    fn state(&self, now: Time, tz: &TimeZone) -> String {
        match (self.reserved, &self.since) {
            (Some(true), Some(since)) => {
                t!("rows-relay-reachable-since", since = since.when(now, tz))
            }
            (Some(false), Some(since)) => {
                t!(
                    "rows-relay-not-connected-since",
                    since = since.when(now, tz)
                )
            }
            _ => "-".to_string(),
        }
    }

    /// The MAILBOX column.
    fn mailbox(&self) -> String {
        match (&self.problem, self.deposited) {
            (Some(problem), _) => problem.clone(),
            (None, Some(dep)) => t!(
                "rows-mailbox",
                deposited = dep,
                collected = self.collected.unwrap_or(0),
                pending = self.pending.unwrap_or(0)
            ),
            (None, None) => "-".to_string(),
        }
    }
}

/// Names of organisations, from the membership log and the profiles partners published.
fn org_names(replica: &Replica) -> BTreeMap<OrgId, String> {
    let mut names: BTreeMap<OrgId, String> = replica
        .view()
        .profiles()
        .iter()
        .map(|(id, p)| (*id, p.name.clone()))
        .collect();
    for org in replica.member_orgs() {
        names.insert(org.id, org.name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, scoped};

    #[test]
    fn the_revocation_sentence_reads_in_each_language() {
        let tz = puente_crdt::time::zone("America/Los_Angeles").expect("a zone");
        let now = Time(1_795_453_200);
        let mut revoked = Revoked {
            what: "organisation",
            by: "abc".into(),
            by_name: "River Refuge".into(),
            at: now.plus(-7_200),
            reason: "laptop seized".into(),
        };
        assert_eq!(
            scoped(Lang::En, || revoked.sentence(now, &tz)),
            "Your organisation was revoked by \"River Refuge\" 2026-11-23 07:00 (2 h ago) (\"laptop seized\"): partners refuse everything this node writes and send it nothing new. Ask them if this is a mistake."
        );
        revoked.what = "device";
        revoked.reason = String::new();
        assert_eq!(
            scoped(Lang::Es, || revoked.sentence(now, &tz)),
            "Este dispositivo fue revocado por \"River Refuge\" el 2026-11-23 07:00 (hace 2 h): las organizaciones aliadas rechazan todo lo que escribe este nodo y no le envían nada nuevo. Pregúnteles si se trata de un error."
        );
    }

    #[test]
    fn the_devices_line_counts_in_each_language() {
        assert_eq!(
            scoped(Lang::En, || devices_line(1, false)),
            Some("1, this one".to_string())
        );
        assert_eq!(
            scoped(Lang::En, || devices_line(3, true)),
            Some("3, this one and 2 more (`puente device list`); this device waits for the network's key: keep `puente run` running until an admin's node shares it".to_string())
        );
        assert_eq!(
            scoped(Lang::Es, || devices_line(2, false)),
            Some("2, este y 1 más (`puente device list`)".to_string())
        );
        assert_eq!(devices_line(0, false), None);
    }
}
