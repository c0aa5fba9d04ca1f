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

use std::time::Duration;

use anyhow::{Result, bail};
use puente_node::identity::PublicKey;
use puente_node::invite::Token;
use puente_node::joiner::{
    JoinProgress, JoinTimeouts, check_kind, join as join_network, waits_to_join_as_device,
};
use puente_node::membership::Role;
use puente_node::net::validate_address;
use serde_json::json;

use crate::args::{
    AddAddressArgs, DeviceAddArgs, Format, InviteCreateArgs, InviteIdArgs, JoinArgs,
    NetworkCreateArgs, RoleArg,
};
use crate::commands::offer::zone;
use crate::context::Ctx;
use crate::output;
use crate::render;
use crate::rows;
use crate::rows::devices::{self, DeviceRow, PeerRow};
use crate::rows::identity::org_name;
use crate::rows::invitations::{self, InvitationRow};
use crate::rows::status::Status;

/// Addresses a token carries at most.
const TOKEN_ADDRESSES: usize = 3;

/// With relays, direct and relayed addresses each get this many of a token's four.
const TOKEN_RELAYED_ADDRESSES: usize = 2;

pub fn network_create(ctx: &Ctx, a: NetworkCreateArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    if waits_to_join_as_device(&replica) {
        bail!(t!("cmd-network-create-device"));
    }
    let network = replica
        .create_network(&a.name, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let name = replica.network_name().unwrap_or_default().to_string();
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-network-created",
            name = name,
            network = network.to_string()
        )
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
            bail!(t!("cmd-invite-no-node"));
        };
        addresses = token_addresses(&node.listen);
        if addresses.is_empty() {
            bail!(t!("cmd-invite-no-address"));
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
        t!("cmd-invite-auto-confirm")
    } else {
        t!("cmd-invite-compare-phrase", id = inv.id())
    };
    ctx.note(&format!(
        "{}\n{next}\n",
        t!(
            "cmd-invite-created",
            id = inv.id(),
            org = inv.org_name.as_str(),
            role = inv.role().to_string(),
            until = render::when(expires, ctx.now, &tz)
        )
    ));
    // The token alone on standard output, so that scripts can capture it.
    ctx.emit(&format!("{token}\n"))
}

pub fn device_add(ctx: &Ctx, a: DeviceAddArgs) -> Result<()> {
    let addresses = invitation_addresses(ctx, &a.address)?;
    let mut replica = ctx.open()?;
    if waits_to_join_as_device(&replica) {
        bail!(t!("cmd-device-add-not-joined"));
    }
    if replica.membership().is_none() {
        bail!(t!("cmd-device-add-no-network"));
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
        t!("cmd-device-invite-auto-confirm")
    } else {
        t!("cmd-device-invite-compare-phrase", id = inv.id())
    };
    let key = if admin {
        String::new()
    } else {
        format!("{}\n", t!("cmd-device-invite-not-admin"))
    };
    ctx.note(&format!(
        "{}\n{next}\n{key}",
        t!(
            "cmd-device-invite-created",
            id = inv.id(),
            org = inv.org_name.as_str(),
            until = render::when(expires, ctx.now, &tz)
        )
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
    let replica = ctx.open_read_only()?;
    let tz = zone(&replica)?;
    let rows: Vec<InvitationRow> = replica
        .invitations()
        .iter()
        .map(|i| InvitationRow::new(i, ctx.now))
        .collect();
    let text = match format {
        Format::Json => rows::json(&rows)?,
        Format::Csv => invitations::csv(&rows)?,
        _ => invitations::table(&rows, ctx.now, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

pub fn invite_confirm(ctx: &Ctx, a: InviteIdArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    let inv = replica
        .confirm_invitation(&a.id, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    let node = if ctx.node().is_some() { "yes" } else { "no" };
    if inv.device_of.is_some() {
        return ctx.say(&format!(
            "{}\n",
            t!(
                "cmd-invite-confirmed-device",
                org = inv.org_name.as_str(),
                node = node
            )
        ));
    }
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-invite-confirmed",
            org = inv.org_name.as_str(),
            role = inv.role().to_string(),
            node = node
        )
    ))
}

pub fn invite_cancel(ctx: &Ctx, a: InviteIdArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    let inv = replica.cancel_invitation(&a.id).map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-invite-cancelled",
            id = inv.id(),
            org = inv.org_name.as_str()
        )
    ))
}

pub fn join(ctx: &Ctx, a: JoinArgs) -> Result<()> {
    let token: Token = a
        .token
        .parse()
        .map_err(|e| anyhow::anyhow!(crate::messages::invite(&e)))?;
    let mut replica = ctx.open()?;
    check_kind(&replica, &token)
        .map_err(|e| anyhow::anyhow!(crate::messages::join(&e, &ctx.dir)))?;
    let as_device = waits_to_join_as_device(&replica);
    // A device has no name of its own; the inviter sees this one next to the phrase.
    // Sent to the inviter, whose language is not known here: English, as it always was.
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
        "{}\n",
        t!(
            "cmd-join-connecting",
            addresses = token.addresses.join(", ")
        )
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
            // The phrase even with --quiet: the join cannot be checked without it.
            JoinProgress::Waiting { phrase } if as_device => ctx.alert(&format!(
                "{}\n",
                t!("cmd-join-phrase-device", phrase = phrase.to_string())
            )),
            JoinProgress::Waiting { phrase } => ctx.alert(&format!(
                "{}\n",
                t!("cmd-join-phrase", phrase = phrase.to_string())
            )),
        },
    ));
    drop(runtime);
    let network_name = result.map_err(|e| anyhow::anyhow!(crate::messages::join(&e, &ctx.dir)))?;
    let network = replica.network();
    let org = org_name(&replica);
    let own = replica.public_key();
    let has_key = replica
        .membership()
        .is_some_and(|log| !log.state().devices_without_current_key().contains(&own));
    replica.close().map_err(|e| ctx.err(e))?;
    if !as_device {
        return ctx.say(&format!(
            "{}\n",
            t!(
                "cmd-join-joined",
                name = network_name.to_string(),
                network = network.to_string()
            )
        ));
    }
    let key = if has_key {
        String::new()
    } else {
        format!("{}\n", t!("cmd-join-device-no-key"))
    };
    ctx.say(&format!(
        "{}\n{key}",
        t!(
            "cmd-join-joined-device",
            name = network_name.to_string(),
            network = network.to_string(),
            org = org
        )
    ))
}

pub fn status(ctx: &Ctx) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let replica = ctx.open_read_only()?;
    let tz = zone(&replica)?;
    let status = Status::build(&replica, ctx.node(), ctx.now);
    // What needs a person, as `puente inbox` lists it.
    let items = super::inbox::items(&replica, ctx.now);
    let text = match format {
        Format::Json => {
            let mut v = serde_json::to_value(&status)?;
            v["inbox"] = serde_json::to_value(super::inbox::rows(replica.view(), &items))?;
            rows::json(&v)?
        }
        _ => {
            let mut text = status.text(ctx.now, &tz);
            if let Some(table) = super::inbox::text(replica.view(), &items, ctx.now, &tz) {
                text.push_str(&format!("\n{}\n", t!("cmd-status-needs-you")));
                text.push_str(&table);
            }
            text
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)?;
    // The exit status says whether the node runs (as LSB's `status` does): 0 when a node
    // served this, 3 when none runs here (the status above then comes from the store).
    if ctx.node().is_none() {
        return Err(crate::messages::Exit {
            code: EXIT_NOT_RUNNING,
            line: None,
        }
        .into());
    }
    Ok(())
}

/// `puente status`'s exit status when no node runs on the data directory.
pub const EXIT_NOT_RUNNING: u8 = 3;

pub fn peer_list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    let rows = PeerRow::all(&replica, ctx.node());
    let text = match format {
        Format::Json => rows::json(&rows)?,
        Format::Csv => devices::peer_csv(&rows)?,
        _ => devices::peer_table(&rows),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

pub fn device_list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    if waits_to_join_as_device(&replica) {
        bail!(t!("cmd-device-list-not-joined"));
    }
    let tz = zone(&replica)?;
    let rows = DeviceRow::all(&replica, ctx.node());
    let text = match format {
        Format::Json => rows::json(&rows)?,
        Format::Csv => devices::device_csv(&rows)?,
        _ => devices::device_table(
            &rows,
            &org_name(&replica),
            replica.membership().is_some(),
            &tz,
        ),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
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
        [] => bail!(t!("cmd-peer-no-device", key = typed)),
        _ => bail!(t!("cmd-peer-several-devices", key = typed)),
    };
    let added = replica
        .add_peer_address(key, &addr)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    if ctx.node().is_some() {
        ctx.dial(key, addr.clone());
    }
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-peer-address",
            added = if added { "yes" } else { "no" },
            address = addr.as_str(),
            key = key.to_string().chars().take(12).collect::<String>(),
            node = if ctx.node().is_some() { "yes" } else { "no" }
        )
    ))
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
