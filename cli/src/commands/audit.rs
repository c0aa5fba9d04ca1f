//! `puente audit exposure` and `puente audit log`: what a revoked (or any) organisation or device
//! could read, and the membership history checked end to end.
//!
//! Boundary: everything here reads; nothing writes. The membership log decides who was a
//! member and which ops count; this module only names things and lays them out.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use jiff::tz::TimeZone;
use puente_crdt::{Offer, OrgId, Time};
use puente_node::identity::PublicKey;
use puente_node::membership::{Body, MemberState, MembershipLog, OpId, RevokeTarget, Verdict};
use puente_node::replica::{Exposure, Replica};
use serde_json::{Value, json};

use crate::args::{ExposureArgs, Format};
use crate::commands::offer::zone;
use crate::commands::revoke::{Target, resolve_target};
use crate::context::Ctx;
use crate::output::{self, Table, short};
use crate::render;

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
        match self.device_org(key) {
            Some(org) => format!("{} ({})", self.org(&org), key_prefix(key)),
            None => format!("unknown device ({})", key_prefix(key)),
        }
    }

    /// What a revocation removes, as people read it.
    pub fn target(&self, target: &RevokeTarget) -> String {
        match target {
            RevokeTarget::Org(org) => format!("\"{}\" (organisation)", self.org(org)),
            RevokeTarget::Device(key) => match self.device_org(key) {
                Some(org) => format!("device {} of \"{}\"", key_prefix(key), self.org(&org)),
                None => format!("device {}", key_prefix(key)),
            },
        }
    }

    /// What a revocation removes, for scripts.
    pub fn target_json(&self, target: &RevokeTarget) -> Value {
        match target {
            RevokeTarget::Org(org) => json!({
                "type": "organisation",
                "org": org.to_string(),
                "name": self.org(org),
                "key": null,
            }),
            RevokeTarget::Device(key) => json!({
                "type": "device",
                "org": self.device_org(key).map(|o| o.to_string()),
                "name": self.device_org(key).map(|o| self.org(&o)),
                "key": key.to_string(),
            }),
        }
    }
}

/// The membership log's state, or a sentence saying there is none.
pub fn state_of(replica: &Replica) -> Result<&MemberState> {
    match replica.membership() {
        Some(log) => Ok(log.state()),
        None => bail!(
            "this node is not part of a network yet, so nobody has been added or revoked; create one with `puente network create` or join one"
        ),
    }
}

pub fn exposure(ctx: &Ctx, a: ExposureArgs) -> Result<()> {
    let format = table_or_json(ctx)?;
    let mut replica = ctx.open()?;
    let state = state_of(&replica)?;
    let names = Names::new(&replica);
    let target = resolve_target(state, &names, &a.target, true)?;
    let party = party_of(state, &target);
    let exposure = replica.exposure(&party).map_err(|e| ctx.err(e))?;
    let report = exposure_report(&replica, &names, &target, &exposure, ctx.now);
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => output::json(&report)?,
        _ => exposure_text(&report, ctx.now, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

/// `table` or `json`; the reports here have no single row shape for CSV.
pub fn table_or_json(ctx: &Ctx) -> Result<Format> {
    match ctx.format()? {
        Format::Csv => bail!("--format csv is not available for this command; use table or json"),
        f => Ok(f),
    }
}

/// The effective revocations that removed `target` (for a device, also those of its
/// organisation), earliest claimed first.
fn covering(state: &MemberState, names: &Names, target: &Target) -> Vec<(OpId, u64)> {
    let mut found: Vec<(OpId, u64)> = state
        .revocations()
        .into_iter()
        .filter(|r| r.effective)
        .filter(|r| match (target, &r.target) {
            (Target::Org { id, .. }, RevokeTarget::Org(org)) => org == id,
            (Target::Device { key, .. }, RevokeTarget::Device(k)) => k == key,
            (Target::Device { key, .. }, RevokeTarget::Org(org)) => {
                names.device_org(key) == Some(*org)
            }
            (Target::Org { .. }, RevokeTarget::Device(_)) => false,
        })
        .map(|r| (r.id, r.claimed_time))
        .collect();
    found.sort_by_key(|(id, t)| (*t, *id));
    found
}

/// Per device, the earliest claimed time of its valid receipts for any of `revocations`.
fn receipt_times(replica: &Replica, revocations: &[OpId]) -> BTreeMap<PublicKey, u64> {
    let mut out: BTreeMap<PublicKey, u64> = BTreeMap::new();
    let Some(log) = replica.membership() else {
        return out;
    };
    let state = log.state();
    for op in log.ops() {
        if let Body::Receipt { revocation, .. } = op.body()
            && revocations.contains(revocation)
            && state.verdict(&op.id()) == Some(Verdict::Valid)
        {
            let t = out.entry(op.author()).or_insert(op.claimed_time());
            *t = (*t).min(op.claimed_time());
        }
    }
    out
}

fn to_time(secs: u64) -> Time {
    Time(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Every device key of `target`, member or revoked: the party whose reading is audited.
pub fn party_of(state: &MemberState, target: &Target) -> Vec<PublicKey> {
    match target {
        Target::Device { key, .. } => vec![*key],
        Target::Org { id, .. } => {
            let mut keys: Vec<PublicKey> = state
                .devices()
                .into_iter()
                .chain(state.revoked_devices())
                .filter(|d| d.org == *id)
                .map(|d| d.key)
                .collect();
            keys.sort();
            keys.dedup();
            keys
        }
    }
}

/// What `target` could read: per organisation, the offers and holds this node holds with
/// content sealed under an encryption key that was sealed to one of its devices (`exposure`,
/// from [`Replica::exposure`]). JSON, which the text form is rendered from.
pub fn exposure_report(
    replica: &Replica,
    names: &Names,
    target: &Target,
    exposure: &Exposure,
    now: Time,
) -> Value {
    let view = replica.view();
    let Some(state) = replica.membership().map(|l| l.state()) else {
        return Value::Null;
    };
    let revocations = covering(state, names, target);
    let first = revocations.first().copied();
    let receipts = receipt_times(
        replica,
        &revocations.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
    );
    // Every organisation the target could have read something of: members, and owners of
    // anything in the document. A revoked organisation's own records are not listed: it
    // wrote them.
    let mut orgs: Vec<OrgId> = state.orgs().iter().map(|o| o.id).collect();
    orgs.extend(view.offers().map(|o| o.owner));
    orgs.extend(view.holds(now, None, None).iter().map(|h| h.hold.requester));
    orgs.sort();
    orgs.dedup();
    if let Target::Org { id, .. } = target {
        orgs.retain(|o| o != id);
    }
    let mut sections: Vec<(String, Value)> = Vec::new();
    for org in orgs {
        // When this organisation's node(s) confirmed the cut: only then does it stop writing
        // under a key the target holds, and stop syncing with it.
        let confirmed: Option<u64> = match (first, state.org(&org)) {
            (Some(_), Some(member)) if !member.devices.is_empty() => member
                .devices
                .iter()
                .map(|d| receipts.get(d).copied())
                .collect::<Option<Vec<u64>>>()
                .and_then(|t| t.into_iter().max()),
            _ => None,
        };
        let mut offers: Vec<&Offer> = view
            .offers()
            .filter(|o| o.owner == org && exposure.offer(o.owner, o.id))
            .collect();
        offers.sort_by_key(|o| (o.created_at, o.id));
        let offers: Vec<Value> = offers
            .iter()
            .map(|o| {
                json!({
                    "offer_id": o.id.to_string(),
                    "kind": o.fields.kind.to_string(),
                    "handle": o.fields.handle,
                    "counties": o.fields.counties.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "created_at": o.created_at.rfc3339(),
                    "created_unix": o.created_at.0,
                    "state": render::state(o, now),
                })
            })
            .collect();
        let holds: Vec<Value> = view
            .holds(now, Some(org), None)
            .iter()
            .filter(|h| exposure.hold(h.hold.requester, h.hold.id))
            .map(|h| {
                let hold = &h.hold;
                json!({
                    "hold_id": hold.id.to_string(),
                    "offer_id": hold.offer.to_string(),
                    "owner": hold.owner.to_string(),
                    "owner_name": names.org(&hold.owner),
                    "handle": view.offer(hold.owner, hold.offer).map(|o| o.fields.handle.clone()),
                    "qty": hold.qty,
                    "created_at": hold.created_at.rfc3339(),
                    "created_unix": hold.created_at.0,
                    "status": h.status.as_str(),
                })
            })
            .collect();
        let name = names.org(&org);
        sections.push((
            name.to_lowercase(),
            json!({
                "org": org.to_string(),
                "name": name,
                "confirmed_at": confirmed.map(|t| to_time(t).rfc3339()),
                "confirmed_unix": confirmed,
                "listed_whole": exposure.whole.contains(&org),
                "offers": offers,
                "holds": holds,
            }),
        ));
    }
    sections.sort_by(|a, b| a.0.cmp(&b.0));
    let (target_json, own_listed) = match target {
        Target::Org { id, .. } => (names.target_json(&RevokeTarget::Org(*id)), false),
        Target::Device { key, .. } => (names.target_json(&RevokeTarget::Device(*key)), true),
    };
    json!({
        "target": target_json,
        "revoked": first.is_some(),
        "revocation": first.map(|(id, _)| id.to_string()),
        "claimed_time": first.map(|(_, t)| to_time(t).rfc3339()),
        "claimed_unix": first.map(|(_, t)| t),
        "epochs_held": exposure.epochs.iter().map(|e| e.0).collect::<Vec<_>>(),
        "own_records_listed": own_listed,
        "errs_on_the_side_of_including_too_much": true,
        "organisations": sections.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })
}

/// "epoch 1" or "epochs 1, 2 and 3".
fn epochs_text(v: &Value) -> String {
    let list: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .map(|e| e.to_string())
                .collect()
        })
        .unwrap_or_default();
    match list.as_slice() {
        [] => "no epoch".to_string(),
        [one] => format!("epoch {one}"),
        [init @ .., last] => format!("epochs {} and {last}", init.join(", ")),
    }
}

fn unix(v: &Value) -> Option<Time> {
    v.as_i64().map(Time)
}

/// The exposure report as people read it.
pub fn exposure_text(report: &Value, now: Time, tz: &TimeZone) -> String {
    let mut out = String::new();
    let who = match report["target"]["type"].as_str() {
        Some("device") => format!(
            "device {} of \"{}\"",
            report["target"]["key"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(12)
                .collect::<String>(),
            report["target"]["name"].as_str().unwrap_or("?")
        ),
        _ => format!("\"{}\"", report["target"]["name"].as_str().unwrap_or("?")),
    };
    let revoked = report["revoked"].as_bool().unwrap_or(false);
    if revoked {
        let at = unix(&report["claimed_unix"])
            .map_or_else(|| "-".to_string(), |t| render::when(t, now, tz));
        out.push_str(&format!(
            "Exposure report: what {who} could read when it was cut off (revocation {}, {at}).\n",
            report["revocation"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(8)
                .collect::<String>()
        ));
        out.push_str(&format!(
            "It lists every offer and hold with content encrypted under a key the revoked party \
             held ({}). puente cannot tell which of those reached it, so the list errs on the \
             side of including too much. Use it to decide whom to warn.\n",
            epochs_text(&report["epochs_held"])
        ));
    } else {
        out.push_str(&format!(
            "Exposure report: {who} is not revoked, so it can read everything below now, and \
             whatever partners publish next.\n"
        ));
    }
    if report["own_records_listed"].as_bool() == Some(false) {
        out.push_str("Its own offers and holds are not listed: it wrote them.\n");
    }
    let empty = Vec::new();
    let sections = report["organisations"].as_array().unwrap_or(&empty);
    if sections.is_empty() {
        out.push_str("\nNothing: this node holds no offers or holds it could read.\n");
    }
    for s in sections {
        let name = s["name"].as_str().unwrap_or("?");
        let whole = if s["listed_whole"].as_bool() == Some(true) {
            " (all of it: part came in a snapshot that cannot be told apart)"
        } else {
            ""
        };
        let head = match (revoked, unix(&s["confirmed_unix"])) {
            (false, _) => format!("{name}:"),
            (true, Some(c)) => format!(
                "{name}: confirmed the revocation {}{whole}:",
                render::when(c, now, tz),
            ),
            (true, None) => format!(
                "{name}: has not confirmed the revocation yet; what it writes until it does is exposed too{whole}:"
            ),
        };
        out.push('\n');
        out.push_str(&head);
        out.push('\n');
        let offers = s["offers"].as_array().unwrap_or(&empty);
        let holds = s["holds"].as_array().unwrap_or(&empty);
        if offers.is_empty() && holds.is_empty() {
            out.push_str("  no offers or holds\n");
            continue;
        }
        if !offers.is_empty() {
            let mut t = Table::new(&["OFFER", "KIND", "HANDLE", "COUNTIES", "CREATED", "STATE"]);
            for o in offers {
                t.row(vec![
                    o["offer_id"]
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(8)
                        .collect(),
                    o["kind"].as_str().unwrap_or_default().to_string(),
                    o["handle"].as_str().unwrap_or_default().to_string(),
                    list_of(&o["counties"]),
                    unix(&o["created_unix"]).map_or_else(|| "-".into(), |t| t.local(tz)),
                    o["state"].as_str().unwrap_or_default().to_string(),
                ]);
            }
            out.push_str(&indent(&t.render()));
        }
        if !holds.is_empty() {
            let mut t = Table::new(&["HOLD", "ON OFFER OF", "HANDLE", "QTY", "CREATED", "STATUS"]);
            for h in holds {
                t.row(vec![
                    h["hold_id"]
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(8)
                        .collect(),
                    h["owner_name"].as_str().unwrap_or_default().to_string(),
                    h["handle"].as_str().unwrap_or("-").to_string(),
                    h["qty"].as_u64().unwrap_or(0).to_string(),
                    unix(&h["created_unix"]).map_or_else(|| "-".into(), |t| t.local(tz)),
                    h["status"].as_str().unwrap_or_default().to_string(),
                ]);
            }
            out.push_str(&indent(&t.render()));
        }
    }
    out
}

fn list_of(v: &Value) -> String {
    let items: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

/// Every line indented by two spaces.
pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

pub fn log(ctx: &Ctx) -> Result<()> {
    let format = table_or_json(ctx)?;
    let replica = ctx.open()?;
    let state = state_of(&replica)?;
    let names = Names::new(&replica);
    let entries = log_entries(&replica, &names);
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => output::json(&Value::Array(entries))?,
        _ => log_text(&replica, state, &entries, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

/// Every op of the log in canonical order, checked again (signature, parents present) and
/// described in words.
fn log_entries(replica: &Replica, names: &Names) -> Vec<Value> {
    let Some(log) = replica.membership() else {
        return Vec::new();
    };
    let state = log.state();
    let rotations: BTreeMap<OpId, u32> = state
        .epochs()
        .iter()
        .map(|e| (e.rotation, e.epoch.0))
        .collect();
    let burned: BTreeMap<OpId, u32> = state
        .burned_keys()
        .iter()
        .map(|(epoch, _, op)| (*op, epoch.0))
        .collect();
    let mut out = Vec::new();
    for op in log.ops() {
        let id = op.id();
        let signature_ok = op.verify_signature().is_ok();
        let parents_present = op.parents().iter().all(|p| log.contains(p));
        let verdict = state.verdict(&id);
        let what = match op.body() {
            Body::Create { name, device, .. } => format!(
                "founded the network with \"{name}\" as admin, device {}",
                key_prefix(device)
            ),
            Body::AddOrg {
                name, role, device, ..
            } => format!("added \"{name}\" as {role}, device {}", key_prefix(device)),
            Body::AddDevice { org, device, .. } => format!(
                "added device {} to \"{}\"",
                key_prefix(device),
                names.org(org)
            ),
            Body::SetRole { org, role } => format!("made \"{}\" {role}", names.org(org)),
            Body::EpochKey { epoch, sealed, .. } => {
                let recipients = sealed.len();
                if rotations.contains_key(&id) || burned.contains_key(&id) {
                    format!(
                        "new encryption key, epoch {}, sealed to {recipients} device(s){}",
                        epoch.0,
                        if burned.contains_key(&id) {
                            " (burned: never used for new writes)"
                        } else {
                            ""
                        }
                    )
                } else {
                    let to: Vec<String> =
                        sealed.iter().map(|s| names.device(&s.recipient)).collect();
                    format!("shared the key of epoch {} with {}", epoch.0, to.join(", "))
                }
            }
            Body::Revoke {
                target,
                cuts,
                reason,
            } => {
                let mut s = match target {
                    RevokeTarget::Org(org) => format!(
                        "revoked organisation \"{}\" with its {} device(s)",
                        names.org(org),
                        cuts.len()
                    ),
                    RevokeTarget::Device(_) => format!("revoked {}", names.target(target)),
                };
                if !reason.is_empty() {
                    s.push_str(&format!("; reason: {reason}"));
                }
                s
            }
            Body::Receipt { revocation, epoch } => {
                let of = state
                    .revocation(revocation)
                    .map(|r| format!(" of {}", names.target(&r.target)))
                    .unwrap_or_default();
                format!(
                    "confirmed revocation {}{of}, now on epoch {}",
                    short(revocation),
                    epoch.0
                )
            }
            _ => "an operation this version does not describe".to_string(),
        };
        let author = op.author();
        let author_org = names.device_org(&author);
        let (verdict_text, reason) = match verdict {
            Some(Verdict::Valid) => ("valid", None),
            Some(Verdict::Invalid(r)) => ("invalid", Some(r.to_string())),
            None => ("unknown", None),
        };
        out.push(json!({
            "id": id.to_string(),
            "claimed_time": to_time(op.claimed_time()).rfc3339(),
            "claimed_unix": op.claimed_time(),
            "kind": op.body().kind_name(),
            "what": what,
            "author": author.to_string(),
            "author_org": author_org.map(|o| o.to_string()),
            "author_name": author_org.map(|o| names.org(&o)),
            "parents": op.parents().iter().map(ToString::to_string).collect::<Vec<_>>(),
            "signature_ok": signature_ok,
            "parents_present": parents_present,
            "verdict": verdict_text,
            "invalid_reason": reason,
        }));
    }
    out
}

fn log_text(replica: &Replica, state: &MemberState, entries: &[Value], tz: &TimeZone) -> String {
    let bad = entries
        .iter()
        .filter(|e| e["signature_ok"] != true || e["parents_present"] != true)
        .count();
    let invalid = entries.iter().filter(|e| e["verdict"] != "valid").count();
    let mut out = format!(
        "Membership history of \"{}\" ({}): {} operation(s), oldest first.\n",
        replica.network_name().unwrap_or("?"),
        state.network(),
        entries.len()
    );
    if bad == 0 {
        out.push_str(
            "Verified end to end: every signature checks and every operation's parents are here.\n",
        );
    } else {
        out.push_str(&format!(
            "WARNING: {bad} operation(s) fail verification (signature or missing parents); report this to your network's admins.\n"
        ));
    }
    if invalid > 0 {
        out.push_str(&format!(
            "{invalid} operation(s) have no effect (invalid): their authors were not allowed to do them, or were revoked concurrently.\n"
        ));
    }
    out.push('\n');
    let mut t = Table::new(&["CLAIMED TIME", "BY", "VERDICT", "WHAT"]);
    for e in entries {
        let verdict = e["verdict"].as_str().unwrap_or_default().to_string();
        let mut what = e["what"].as_str().unwrap_or_default().to_string();
        if let Some(r) = e["invalid_reason"].as_str() {
            what.push_str(&format!(" [no effect: {r}]"));
        }
        let by = match e["author_name"].as_str() {
            Some(n) => format!(
                "{n} ({})",
                e["author"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(12)
                    .collect::<String>()
            ),
            None => e["author"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(12)
                .collect(),
        };
        t.row(vec![
            unix(&e["claimed_unix"]).map_or_else(|| "-".into(), |t| t.local(tz)),
            by,
            verdict,
            what,
        ]);
    }
    out.push_str(&t.render());
    out
}
