//! Network commands: `network create`, `invite create|list|confirm|cancel`, `join`,
//! `status`, `peer list|add-address`, `device add|list`.
//!
//! Everything here works with or without a running node. Served by a node, `status`, `peer
//! list` and `device list` add what only the node knows (who is connected, what is pending),
//! `invite create` and `device add` put the node's listen addresses in the token, and `peer
//! add-address` dials at once. `join` needs the store itself and runs only while no node runs
//! on the data directory.
//!
//! A device invitation (`device add`) is an invitation like an organisation's: the same token,
//! phrase, `invite list|confirm|cancel` and `join`; confirming it adds the joiner as one more
//! device of this organisation instead of a new organisation.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail};
use puente_crdt::{OrgId, Time};
use puente_node::actor::{NodeStatus, PeerPath, Reach};
use puente_node::identity::PublicKey;
use puente_node::invite::{Invitation, InviteState, Token};
use puente_node::joiner::{
    JoinProgress, JoinTimeouts, check_kind, join as join_network, waits_to_join_as_device,
};
use puente_node::membership::Role;
use puente_node::net::validate_address;
use puente_node::replica::Replica;
use serde_json::{Value, json};

use crate::args::{
    AddAddressArgs, DeviceAddArgs, Format, InviteCreateArgs, InviteIdArgs, JoinArgs,
    NetworkCreateArgs, RoleArg,
};
use crate::commands::offer::zone;
use crate::context::Ctx;
use crate::output::{self, Table, pairs};
use crate::render;
use crate::rows::identity::{DEVICE_PENDING, Identity, devices_line, org_name};

/// Addresses a token carries at most.
const TOKEN_ADDRESSES: usize = 3;

/// With relays, direct and relayed addresses each get this many of a token's four.
const TOKEN_RELAYED_ADDRESSES: usize = 2;

pub fn network_create(ctx: &Ctx, a: NetworkCreateArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    if waits_to_join_as_device(&replica) {
        bail!(
            "this store was made with `puente init --device` to join an existing organisation: run `puente join TOKEN` with a device invitation from one of its devices; to found a network, make an organisation's store with `puente init --org NAME` in another data directory"
        );
    }
    let network = replica
        .create_network(&a.name, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let name = replica.network_name().unwrap_or_default().to_string();
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&format!(
        "Created network \"{name}\" ({network}).\n\
         Your organisation is its admin. Invite partners with:\n  \
         puente invite create --org \"PARTNER NAME\"\n"
    ))
}

/// The addresses a new token carries: `--address` values, else the running node's.
fn invitation_addresses(ctx: &Ctx, given: &[String]) -> Result<Vec<String>> {
    let mut addresses = Vec::new();
    for addr in given {
        addresses.push(validate_address(addr).map_err(|e| anyhow::anyhow!("--address: {e}"))?);
    }
    if addresses.is_empty() {
        let Some(node) = ctx.node() else {
            bail!(
                "no node is running here, so the invitation cannot say where to reach you: start `puente run` first, or pass --address MULTIADDR"
            );
        };
        addresses = token_addresses(&node.listen);
        if addresses.is_empty() {
            bail!(
                "the node listens on no address a partner could dial; pass --address MULTIADDR with this machine's address"
            );
        }
    }
    Ok(addresses)
}

pub fn invite_create(ctx: &Ctx, a: InviteCreateArgs) -> Result<()> {
    let addresses = invitation_addresses(ctx, &a.address)?;
    let role = match a.role {
        RoleArg::Member => Role::Member,
        RoleArg::Admin => Role::Admin,
    };
    let mut replica = ctx.open()?;
    let expires = ctx.now.plus(a.expires_in);
    let inv = replica
        .create_invitation(&a.org, role, expires, a.yes, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let token = inv.token(replica.network(), replica.public_key(), &addresses);
    let tz = zone(&replica)?;
    replica.close().map_err(|e| ctx.err(e))?;
    if ctx.format == Some(Format::Json) {
        return ctx.emit(&output::json(&json!({
            "id": inv.id(),
            "org": inv.org_name,
            "role": inv.role().to_string(),
            "expires": expires.local(&tz).to_string(),
            "auto_confirm": inv.auto_confirm,
            "token": token.to_string(),
        }))?);
    }
    let next = if a.yes {
        "It will be confirmed as soon as they join (--yes): no phrase check.".to_string()
    } else {
        format!(
            "When they join, you both see a safety phrase. Compare it over the phone, then run:\n  puente invite confirm {}",
            inv.id()
        )
    };
    ctx.note(&format!(
        "Invitation {} for \"{}\" ({}), valid until {}.\n\
         Send them this token (it works once); they run `puente join TOKEN`.\n{next}\n",
        inv.id(),
        inv.org_name,
        inv.role(),
        render::when(expires, ctx.now, &tz),
    ));
    // The token alone on standard output, so that scripts can capture it.
    ctx.emit(&format!("{token}\n"))
}

pub fn device_add(ctx: &Ctx, a: DeviceAddArgs) -> Result<()> {
    let addresses = invitation_addresses(ctx, &a.address)?;
    let mut replica = ctx.open()?;
    if waits_to_join_as_device(&replica) {
        bail!(
            "this device has not joined its organisation yet, so it cannot add others: run `puente device add` on a device that has, or join first with `puente join TOKEN`"
        );
    }
    if replica.membership().is_none() {
        bail!(
            "devices are added through a network, and this organisation is in none yet: found one with `puente network create --name NAME` (or join one with `puente join TOKEN`), then add the device"
        );
    }
    let expires = ctx.now.plus(a.expires_in);
    let inv = replica
        .create_device_invitation(expires, a.yes, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let token = inv.token(replica.network(), replica.public_key(), &addresses);
    let tz = zone(&replica)?;
    let admin = replica.is_admin();
    replica.close().map_err(|e| ctx.err(e))?;
    if ctx.format == Some(Format::Json) {
        return ctx.emit(&output::json(&json!({
            "id": inv.id(),
            "org": inv.org_name,
            "kind": "device",
            "expires": expires.local(&tz).to_string(),
            "auto_confirm": inv.auto_confirm,
            "token": token.to_string(),
        }))?);
    }
    let next = if a.yes {
        "It will be confirmed as soon as the device joins (--yes): no phrase check.".to_string()
    } else {
        format!(
            "When it joins, both screens show a safety phrase. Check they are the same, then run:\n  puente invite confirm {}",
            inv.id()
        )
    };
    let key = if admin {
        ""
    } else {
        "Your organisation is not an admin: the new device gets the network's key from an admin's node when it first connects to one.\n"
    };
    ctx.note(&format!(
        "Device invitation {} for a new device of \"{}\", valid until {}.\n\
         On the new computer run `puente init --device`, then `puente join TOKEN` with this token (it works once).\n\
         {next}\n{key}",
        inv.id(),
        inv.org_name,
        render::when(expires, ctx.now, &tz),
    ));
    // The token alone on standard output, so that scripts can capture it.
    ctx.emit(&format!("{token}\n"))
}

/// The addresses to put in a token: concrete ones (not 0.0.0.0 or ::) that other machines can
/// reach, loopback ones only when there is nothing else (a network on one machine, as in the
/// demo); then the addresses through the network's relays, so that a partner behind a home
/// router reaches this node even when neither side has a public address. At most
/// [`TOKEN_ADDRESSES`] of each kind, to keep the token short.
fn token_addresses(listen: &[String]) -> Vec<String> {
    let (relayed, direct): (Vec<&String>, Vec<&String>) =
        listen.iter().partition(|a| a.contains("/p2p-circuit"));
    let concrete: Vec<&String> = direct
        .into_iter()
        .filter(|a| !a.contains("/0.0.0.0/") && !a.contains("/::/"))
        .collect();
    let is_loopback = |a: &&String| a.contains("/127.0.0.1/") || a.contains("/::1/");
    let remote: Vec<&String> = concrete
        .iter()
        .copied()
        .filter(|a| !is_loopback(a))
        .collect();
    let mut chosen: Vec<String> = if remote.is_empty() {
        concrete.into_iter().cloned().collect()
    } else {
        remote.into_iter().cloned().collect()
    };
    chosen.dedup();
    let mut through: Vec<String> = relayed.into_iter().cloned().collect();
    through.dedup();
    // A token carries at most four addresses: room for both kinds when there are relays.
    if through.is_empty() {
        chosen.truncate(TOKEN_ADDRESSES);
    } else {
        chosen.truncate(TOKEN_RELAYED_ADDRESSES);
        through.truncate(TOKEN_RELAYED_ADDRESSES);
    }
    chosen.extend(through);
    chosen
}

pub fn invite_list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    let tz = zone(&replica)?;
    let rows: Vec<Value> = replica
        .invitations()
        .iter()
        .map(|i| invitation_json(i, ctx.now))
        .collect();
    let text = match format {
        Format::Json => output::json(&Value::Array(rows))?,
        Format::Csv => output::csv(
            &[
                "id",
                "org",
                "role",
                "state",
                "expires",
                "phrase",
                "joiner_name",
            ],
            &rows
                .iter()
                .map(|r| {
                    [
                        "id",
                        "org",
                        "role",
                        "state",
                        "expires",
                        "phrase",
                        "joiner_name",
                    ]
                    .iter()
                    .map(|k| r[*k].as_str().unwrap_or_default().to_string())
                    .collect()
                })
                .collect::<Vec<_>>(),
        )?,
        _ => {
            if replica.invitations().is_empty() {
                "No invitations. Create one with `puente invite create --org NAME`.\n".into()
            } else {
                let mut t = Table::new(&[
                    "ID",
                    "ORGANISATION",
                    "ROLE",
                    "STATE",
                    "EXPIRES",
                    "SAFETY PHRASE",
                ]);
                for i in replica.invitations() {
                    let v = invitation_json(i, ctx.now);
                    t.row(vec![
                        i.id(),
                        i.org_name.clone(),
                        v["role"].as_str().unwrap_or_default().to_string(),
                        v["state"].as_str().unwrap_or_default().to_string(),
                        render::when(i.expires, ctx.now, &tz),
                        v["phrase"].as_str().unwrap_or("-").to_string(),
                    ]);
                }
                t.render()
            }
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

fn invitation_json(i: &Invitation, now: Time) -> Value {
    let (state, phrase, joiner) = match &i.state {
        InviteState::Open if now >= i.expires => ("expired", None, None),
        InviteState::Open => ("open", None, None),
        InviteState::Requested { phrase, name, .. } if now >= i.expires => {
            ("expired", Some(phrase.clone()), Some(name.clone()))
        }
        InviteState::Requested { phrase, name, .. } => (
            "waiting for confirmation",
            Some(phrase.clone()),
            Some(name.clone()),
        ),
        InviteState::Confirmed { phrase, .. } => ("confirmed", Some(phrase.clone()), None),
        InviteState::Used { .. } => ("used", None, None),
        InviteState::Cancelled => ("cancelled", None, None),
    };
    // A device invitation adds a device to this organisation: it has no role of its own.
    let (kind, role) = match i.device_of {
        Some(_) => ("device", "device".to_string()),
        None => ("organisation", i.role().to_string()),
    };
    json!({
        "id": i.id(),
        "org": i.org_name,
        "kind": kind,
        "role": role,
        "state": state,
        "expires": i.expires.0.to_string(),
        "phrase": phrase,
        "joiner_name": joiner,
    })
}

pub fn invite_confirm(ctx: &Ctx, a: InviteIdArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    let inv = replica
        .confirm_invitation(&a.id, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    if inv.device_of.is_some() {
        let delivery = if ctx.node().is_some() {
            "The node is sending it the network's membership now; it then reads and writes this organisation's offers."
        } else {
            "Start `puente run`: the device receives the network's membership when it runs `puente join` again."
        };
        return ctx.emit(&format!(
            "Confirmed: the new device is now a device of \"{}\".\n{delivery}\n",
            inv.org_name
        ));
    }
    let delivery = if ctx.node().is_some() {
        "The node is sending them the network's membership and keys now."
    } else {
        "Start `puente run`: they receive the network's keys when they run `puente join` again."
    };
    ctx.emit(&format!(
        "Confirmed: \"{}\" is now a {} of the network.\n{delivery}\n",
        inv.org_name,
        inv.role()
    ))
}

pub fn invite_cancel(ctx: &Ctx, a: InviteIdArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    let inv = replica.cancel_invitation(&a.id).map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&format!(
        "Cancelled invitation {} for \"{}\"; its token no longer works.\n",
        inv.id(),
        inv.org_name
    ))
}

pub fn join(ctx: &Ctx, a: JoinArgs) -> Result<()> {
    let token: Token = a.token.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut replica = ctx.open()?;
    check_kind(&replica, &token).map_err(|e| anyhow::anyhow!("{e}"))?;
    let as_device = waits_to_join_as_device(&replica);
    // A device has no name of its own; the inviter sees this one next to the phrase.
    let name = if as_device {
        "new device".to_string()
    } else {
        replica.whoami().name
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    ctx.note(&format!(
        "Connecting to the inviter at {} ...\n",
        token.addresses.join(", ")
    ));
    let timeouts = JoinTimeouts {
        confirm: Duration::from_secs(u64::try_from(a.wait).unwrap_or(900)),
        ..JoinTimeouts::default()
    };
    let result = runtime.block_on(join_network(
        &mut replica,
        &token,
        &name,
        timeouts,
        |progress| match progress {
            JoinProgress::Waiting { phrase } if as_device => ctx.note(&format!(
                "Safety phrase: {phrase}\n\
                 `puente invite list` on the device that made the invitation shows four words too. Confirm there (`puente invite confirm ID`) only if they are the same.\n\
                 Waiting for the confirmation ...\n"
            )),
            JoinProgress::Waiting { phrase } => ctx.note(&format!(
                "Safety phrase: {phrase}\n\
                 Read these four words to the inviter. They confirm only if they see the same words.\n\
                 Waiting for them to confirm ...\n"
            )),
        },
    ));
    drop(runtime);
    let network_name = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let network = replica.network();
    let org = org_name(&replica);
    let own = replica.public_key();
    let has_key = replica
        .membership()
        .is_some_and(|log| !log.state().devices_without_current_key().contains(&own));
    replica.close().map_err(|e| ctx.err(e))?;
    if !as_device {
        return ctx.emit(&format!(
            "Joined network \"{network_name}\" ({network}).\n\
             Start your node with `puente run` to exchange offers with your partners.\n"
        ));
    }
    let key = if has_key {
        ""
    } else {
        "Your organisation is not an admin, so this device does not hold the network's key yet: an admin's node shares it when your node connects to it. Until then it can neither read nor write offers.\n"
    };
    ctx.emit(&format!(
        "Joined network \"{network_name}\" ({network}) as a device of \"{org}\".\n\
         Start your node with `puente run`: it fetches your organisation's offers, and you can then update them from here.\n{key}"
    ))
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

pub fn status(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    let tz = zone(&replica)?;
    let names = org_names(&replica);
    let node = ctx.node();
    let connected: Vec<PublicKey> = node.map(|n| n.status.sessions.clone()).unwrap_or_default();
    let pending: BTreeMap<PublicKey, u64> = node
        .map(|n| {
            n.status
                .peers
                .iter()
                .map(|p| (p.key, p.envelopes_pending))
                .collect()
        })
        .unwrap_or_default();
    let last_sync = node.map(|n| n.status.last_sync.clone()).unwrap_or_default();
    let paths = node.map(|n| n.status.paths.clone()).unwrap_or_default();
    let own = replica.public_key();
    let members: Vec<Value> = replica
        .member_orgs()
        .iter()
        .map(|org| {
            let devices: Vec<Value> = org
                .devices
                .iter()
                .map(|d| {
                    json!({
                        "key": d.to_string(),
                        "this_device": *d == own,
                        "connected": connected.contains(d),
                        "reach": paths.get(d).map(|p| reach_json(p, &tz)),
                        "last_sync": last_sync.get(d).map(|t| t.local(&tz).to_string()),
                        "envelopes_pending": pending.get(d),
                    })
                })
                .collect();
            json!({
                "org": org.id.to_string(),
                "name": org.name,
                "role": org.role.to_string(),
                "devices": devices,
            })
        })
        .collect();
    let stats = replica.stats();
    let offers: BTreeMap<String, usize> = stats
        .offers_by_owner
        .iter()
        .map(|(o, n)| (names.get(o).cloned().unwrap_or_else(|| o.to_string()), *n))
        .collect();
    let me = Identity::of(&replica);
    let v = json!({
        "organisation": org_name(&replica),
        "device_pending": me.device_pending,
        "devices": me.devices,
        "waiting_for_key": me.waiting_for_key,
        "network": replica.membership().map(|_| replica.network().to_string()),
        "network_name": replica.network_name(),
        "epoch": replica.epoch().0,
        "node_running": node.is_some(),
        "listen": node.map(|n| n.listen.clone()),
        "members": members,
        "invitations_waiting": replica.invitations().iter().filter(|i| matches!(i.state, InviteState::Requested { .. }) && ctx.now < i.expires).count(),
        "offers_by_owner": offers,
        "refused_connections": node.map(|n| n.status.refused),
        "relays": relays_json(&replica, node.map(|n| &n.status), &tz),
        "revocations": crate::rows::revocations::summaries(&replica),
    });
    let text = match format {
        Format::Json => output::json(&v)?,
        _ => status_text(&replica, &v, node.map(|n| &n.status), ctx.now, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

/// How a member device is reached, for `status --format json`.
fn reach_json(path: &PeerPath, tz: &jiff::tz::TimeZone) -> Value {
    let (how, relay) = match path.reach {
        Reach::Direct => ("direct", None),
        Reach::Relayed(relay) => ("relayed", Some(crate::rows::relays::short_id(&relay))),
        _ => ("unreachable", None),
    };
    json!({ "how": how, "relay": relay, "since": path.since.local(tz).to_string() })
}

/// The network's relays and this node's view of each, for status.
fn relays_json(
    replica: &Replica,
    status: Option<&puente_node::actor::NodeStatus>,
    tz: &jiff::tz::TimeZone,
) -> Value {
    Value::Array(
        replica
            .relays()
            .iter()
            .map(|relay| {
                let view = status.and_then(|s| s.relays.get(&relay.key));
                let mailbox = status.and_then(|s| s.mailbox.get(&relay.key));
                json!({
                    "id": puente_node::net::peer_id_text(&relay.key),
                    "short": crate::rows::relays::short_id(&relay.key),
                    "addresses": relay.addresses,
                    "reserved": view.map(|v| v.reserved),
                    "since": view.map(|v| v.since.local(tz).to_string()),
                    "deposited": mailbox.map(|m| m.deposited),
                    "collected": mailbox.map(|m| m.collected),
                    "pending": mailbox.map(|m| m.pending),
                    "problem": mailbox.and_then(|m| m.problem.clone()),
                })
            })
            .collect(),
    )
}

fn status_text(
    replica: &Replica,
    v: &Value,
    status: Option<&NodeStatus>,
    now: Time,
    tz: &jiff::tz::TimeZone,
) -> String {
    let running = status.is_some();
    let empty = BTreeMap::new();
    let last_sync = status.map_or(&empty, |s| &s.last_sync);
    let mut out = String::new();
    let network = match (replica.network_name(), replica.membership()) {
        (Some(name), Some(_)) => format!("{name} ({})", replica.network()),
        _ if v["device_pending"] == true => {
            "none yet: it joins its organisation's with `puente join TOKEN`".into()
        }
        _ => "none yet: `puente network create --name NAME`, or `puente join TOKEN`".into(),
    };
    let node = if running {
        format!(
            "running, listening on {}",
            v["listen"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        )
    } else {
        "not running (start it with `puente run`)".into()
    };
    let organisation = if v["device_pending"] == true {
        DEVICE_PENDING.to_string()
    } else {
        v["organisation"].as_str().unwrap_or("-").to_string()
    };
    let mut rows = vec![("organisation", organisation)];
    let devices = v["devices"].as_array().map_or(0, Vec::len);
    if let Some(line) = devices_line(devices, v["waiting_for_key"] == true) {
        rows.push(("devices", line));
    }
    rows.extend([
        ("network", network),
        ("epoch", replica.epoch().0.to_string()),
        ("node", node),
    ]);
    out.push_str(&pairs(&rows));
    if let Some(members) = v["members"].as_array()
        && !members.is_empty()
    {
        out.push('\n');
        let mut t = Table::new(&[
            "MEMBER",
            "ROLE",
            "DEVICE",
            "REACHED",
            "LAST SYNC",
            "PENDING",
        ]);
        for m in members {
            for d in m["devices"].as_array().into_iter().flatten() {
                let key = d["key"].as_str().unwrap_or_default();
                let this = d["this_device"].as_bool().unwrap_or(false);
                let connected = if this {
                    "this device".to_string()
                } else if !running {
                    "-".to_string()
                } else {
                    key.parse::<PublicKey>()
                        .ok()
                        .and_then(|k| status.and_then(|s| s.paths.get(&k)))
                        .map_or_else(
                            || {
                                if d["connected"].as_bool().unwrap_or(false) {
                                    "yes".to_string()
                                } else {
                                    "no".to_string()
                                }
                            },
                            |p| reach_text(p, now, tz),
                        )
                };
                let last = key
                    .parse::<PublicKey>()
                    .ok()
                    .and_then(|k| last_sync.get(&k))
                    .map(|t| render::when(*t, now, tz))
                    .unwrap_or_else(|| "-".into());
                t.row(vec![
                    m["name"].as_str().unwrap_or_default().to_string(),
                    m["role"].as_str().unwrap_or_default().to_string(),
                    key.chars().take(12).collect(),
                    connected,
                    if this { "-".into() } else { last },
                    d["envelopes_pending"]
                        .as_u64()
                        .map_or_else(|| "-".into(), |n| n.to_string()),
                ]);
            }
        }
        out.push_str(&t.render());
    }
    if let Some(relays) = v["relays"].as_array()
        && !relays.is_empty()
    {
        out.push('\n');
        let mut t = Table::new(&["RELAY", "THIS NODE", "MAILBOX"]);
        for (relay, r) in replica.relays().iter().zip(relays) {
            let view = status.and_then(|s| s.relays.get(&relay.key));
            let state = match view {
                None => "-".to_string(),
                Some(v) if v.reserved => {
                    format!(
                        "reachable through it since {}",
                        render::when(v.since, now, tz)
                    )
                }
                Some(v) => format!("not connected since {}", render::when(v.since, now, tz)),
            };
            let mailbox = match (r["problem"].as_str(), r["deposited"].as_u64()) {
                (Some(problem), _) => problem.to_string(),
                (None, Some(dep)) => format!(
                    "{dep} deposited, {} collected, {} to send",
                    r["collected"].as_u64().unwrap_or(0),
                    r["pending"].as_u64().unwrap_or(0)
                ),
                (None, None) => "-".to_string(),
            };
            t.row(vec![
                r["short"].as_str().unwrap_or_default().to_string(),
                state,
                mailbox,
            ]);
        }
        out.push_str(&t.render());
    }
    if let Some(offers) = v["offers_by_owner"].as_object()
        && !offers.is_empty()
    {
        out.push('\n');
        let mut t = Table::new(&["OFFERS BY", "COUNT"]);
        for (name, n) in offers {
            t.row(vec![name.clone(), n.to_string()]);
        }
        out.push_str(&t.render());
    }
    if let Some(n) = v["invitations_waiting"].as_u64()
        && n > 0
    {
        out.push_str(&format!(
            "\n{n} invitation(s) waiting for confirmation: see `puente invite list`.\n"
        ));
    }
    let summaries = crate::rows::revocations::summaries(replica);
    let revocations = crate::rows::revocations::status_lines(&summaries, now, tz);
    if !revocations.is_empty() {
        out.push('\n');
        out.push_str(&revocations);
    }
    out
}

pub fn peer_list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    let connected: Vec<PublicKey> = ctx
        .node()
        .map(|n| n.status.sessions.clone())
        .unwrap_or_default();
    let own = replica.public_key();
    let mut rows = Vec::new();
    for org in replica.member_orgs() {
        for d in &org.devices {
            if *d == own {
                continue;
            }
            rows.push(json!({
                "key": d.to_string(),
                "fingerprint": d.fingerprint().to_string(),
                "org": org.id.to_string(),
                "name": org.name,
                "role": org.role.to_string(),
                "addresses": replica.peers().addresses(d),
                "connected": ctx.node().map(|_| connected.contains(d)),
            }));
        }
    }
    let text = match format {
        Format::Json => output::json(&Value::Array(rows))?,
        Format::Csv => output::csv(
            &["key", "name", "role", "addresses", "connected"],
            &rows
                .iter()
                .map(|r| {
                    vec![
                        r["key"].as_str().unwrap_or_default().to_string(),
                        r["name"].as_str().unwrap_or_default().to_string(),
                        r["role"].as_str().unwrap_or_default().to_string(),
                        join_strings(&r["addresses"], ";"),
                        r["connected"].as_bool().map_or(String::new(), |b| b.to_string()),
                    ]
                })
                .collect::<Vec<_>>(),
        )?,
        _ if rows.is_empty() => {
            "No partners yet. Invite one with `puente invite create --org NAME`, or join a network.\n"
                .into()
        }
        _ => {
            let mut t = Table::new(&["ORGANISATION", "ROLE", "DEVICE KEY", "CONNECTED", "ADDRESSES"]);
            for r in &rows {
                t.row(vec![
                    r["name"].as_str().unwrap_or_default().to_string(),
                    r["role"].as_str().unwrap_or_default().to_string(),
                    r["key"].as_str().unwrap_or_default().to_string(),
                    r["connected"]
                        .as_bool()
                        .map_or("-".into(), |b| if b { "yes" } else { "no" }.to_string()),
                    match join_strings(&r["addresses"], ", ") {
                        s if s.is_empty() => "-".into(),
                        s => s,
                    },
                ]);
            }
            t.render()
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

pub fn device_list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    if waits_to_join_as_device(&replica) {
        bail!(
            "this device has not joined its organisation yet: run `puente device add` on one of its devices, then `puente join TOKEN` here"
        );
    }
    let tz = zone(&replica)?;
    let own = replica.public_key();
    let org = replica.org();
    let connected: Vec<PublicKey> = ctx
        .node()
        .map(|n| n.status.sessions.clone())
        .unwrap_or_default();
    let mut rows = Vec::new();
    match replica.membership().map(|log| log.state()) {
        None => rows.push(json!({
            "key": own.to_string(),
            "fingerprint": own.fingerprint().to_string(),
            "this_device": true,
            "revoked": false,
            "connected": Value::Null,
        })),
        Some(state) => {
            let members = state.org(&org).map(|o| o.devices).unwrap_or_default();
            for d in members {
                rows.push(json!({
                    "key": d.to_string(),
                    "fingerprint": d.fingerprint().to_string(),
                    "this_device": d == own,
                    "revoked": false,
                    "connected": ctx.node().map(|_| d == own || connected.contains(&d)),
                }));
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
                rows.push(json!({
                    "key": d.key.to_string(),
                    "fingerprint": d.key.fingerprint().to_string(),
                    "this_device": d.key == own,
                    "revoked": true,
                    "revoked_at": at.map(|t| t.local(&tz).to_string()),
                    "reason": revocation.map(|r| r.reason),
                    "connected": ctx.node().map(|_| false),
                }));
            }
        }
    }
    // This device first, then the other members, then the revoked ones.
    rows.sort_by_key(|r| (r["revoked"] == true, r["this_device"] != true));
    let text = match format {
        Format::Json => output::json(&Value::Array(rows))?,
        Format::Csv => output::csv(
            &[
                "key",
                "this_device",
                "revoked",
                "revoked_at",
                "reason",
                "connected",
            ],
            &rows
                .iter()
                .map(|r| {
                    vec![
                        r["key"].as_str().unwrap_or_default().to_string(),
                        r["this_device"].as_bool().unwrap_or(false).to_string(),
                        r["revoked"].as_bool().unwrap_or(false).to_string(),
                        r["revoked_at"].as_str().unwrap_or_default().to_string(),
                        r["reason"].as_str().unwrap_or_default().to_string(),
                        r["connected"]
                            .as_bool()
                            .map_or(String::new(), |b| b.to_string()),
                    ]
                })
                .collect::<Vec<_>>(),
        )?,
        _ => {
            let mut t = Table::new(&["DEVICE KEY", "STATE", "CONNECTED"]);
            for r in &rows {
                let state = if r["revoked"] == true {
                    let mut s = "revoked".to_string();
                    if let Some(at) = r["revoked_at"].as_str() {
                        s.push(' ');
                        s.push_str(at);
                    }
                    if let Some(reason) = r["reason"].as_str().filter(|r| !r.is_empty()) {
                        s.push_str(&format!(" ({reason})"));
                    }
                    s
                } else if r["this_device"] == true {
                    "this device".to_string()
                } else {
                    "member".to_string()
                };
                let connected = if r["this_device"] == true {
                    "-".to_string()
                } else {
                    r["connected"]
                        .as_bool()
                        .map_or("-".into(), |b| if b { "yes" } else { "no" }.to_string())
                };
                t.row(vec![
                    r["key"].as_str().unwrap_or_default().to_string(),
                    state,
                    connected,
                ]);
            }
            let mut text = format!("Devices of \"{}\":\n", org_name(&replica));
            text.push_str(&t.render());
            if replica.membership().is_some() {
                text.push_str(
                    "Add one with `puente device add`; cut a lost one off with `puente device revoke KEY`.\n",
                );
            }
            text
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

fn join_strings(v: &Value, sep: &str) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(sep)
        })
        .unwrap_or_default()
}

pub fn peer_add_address(ctx: &Ctx, a: AddAddressArgs) -> Result<()> {
    let addr = validate_address(&a.multiaddr).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut replica = ctx.open()?;
    let typed = a.key.trim();
    let own = replica.public_key();
    let matches: Vec<PublicKey> = replica
        .member_devices()
        .into_iter()
        .filter(|k| *k != own && typed.len() >= 4 && k.to_string().starts_with(typed))
        .collect();
    let key = match matches[..] {
        [key] => key,
        [] => bail!("no partner device has a key starting with `{typed}`; see `puente peer list`"),
        _ => bail!("`{typed}` matches several partner devices; type more of the key"),
    };
    let added = replica
        .add_peer_address(key, &addr)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    if ctx.node().is_some() {
        ctx.dial(key, addr.clone());
    }
    ctx.emit(&format!(
        "{} {addr} for device {}{}.\n",
        if added { "Recorded" } else { "Already knew" },
        key.to_string().chars().take(12).collect::<String>(),
        if ctx.node().is_some() {
            "; the node dials it now"
        } else {
            "; the node dials it when it runs"
        }
    ))
}

/// "direct since 09:14 (2 min ago)", "via relay 12D3KooW… since …", "unreachable since …".
fn reach_text(path: &PeerPath, now: Time, tz: &jiff::tz::TimeZone) -> String {
    let since = render::when(path.since, now, tz);
    match path.reach {
        Reach::Direct => format!("direct since {since}"),
        Reach::Relayed(relay) => {
            format!(
                "via relay {} since {since}",
                crate::rows::relays::short_id(&relay)
            )
        }
        _ => format!("unreachable since {since}"),
    }
}

#[cfg(test)]
mod tests {
    use super::token_addresses;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|a| (*a).to_string()).collect()
    }

    #[test]
    fn tokens_carry_reachable_addresses_and_loopback_only_alone() {
        let listen = s(&[
            "/ip4/127.0.0.1/tcp/4737",
            "/ip4/192.0.2.2/tcp/4737",
            "/ip4/0.0.0.0/tcp/4737",
            "/ip4/192.0.2.2/udp/4737/quic-v1",
        ]);
        assert_eq!(
            token_addresses(&listen),
            s(&["/ip4/192.0.2.2/tcp/4737", "/ip4/192.0.2.2/udp/4737/quic-v1"])
        );
        let local = s(&["/ip4/127.0.0.1/tcp/40000"]);
        assert_eq!(token_addresses(&local), local);
        let relayed = "/ip4/203.0.113.10/tcp/4738/p2p/12D3KooWRelay/p2p-circuit";
        let behind_nat = s(&[
            "/ip4/198.51.100.2/tcp/4737",
            "/ip4/198.51.100.2/udp/4737/quic-v1",
            "/ip4/127.0.0.1/tcp/4737",
            relayed,
        ]);
        assert_eq!(
            token_addresses(&behind_nat),
            s(&[
                "/ip4/198.51.100.2/tcp/4737",
                "/ip4/198.51.100.2/udp/4737/quic-v1",
                relayed
            ])
        );
        assert!(token_addresses(&s(&["/ip4/0.0.0.0/tcp/1"])).is_empty());
    }
}
