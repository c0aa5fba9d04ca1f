//! `puente relay`: runs the relay service (no subcommand), and the admins' commands that choose
//! the network's relays (`ticket`, `add`, `remove`, `list`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use puente_node::identity::PublicKey;
use puente_node::net::{RelayLimits, parse_relay_address, peer_id_text, validate_address};
use puente_node::relay::access::RelayTicket;
use puente_node::relay::service::{RelayService, RelayServiceConfig};
use puente_node::relay::store::{MailboxLimits, RelayStore};

use crate::args::{Format, RelayAddArgs, RelayRemoveArgs, RelayServeArgs};
use crate::context::Ctx;
use crate::messages;
use crate::output::{self, Verbosity};
use crate::rows;
use crate::rows::relays::{self, RelayRow, short_id};

/// The port a relay listens on without `--listen` (TCP and QUIC): next to a node's 4737, so
/// one machine can run both. Unassigned by IANA.
pub const DEFAULT_RELAY_PORT: u16 = 4738;

/// How long the runtime may take to wind down after the relay stopped.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(2);

fn relay_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d);
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        let x = PathBuf::from(x);
        if x.is_absolute() {
            return Ok(x.join("puente-relay"));
        }
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h).join(".local/share/puente-relay"));
    }
    bail!(t!("cmd-relay-no-dir"))
}

/// `puente relay [--listen …]`: the relay service, until Ctrl-C or SIGTERM. With --quiet it
/// prints only where it listens and the `puente relay add` lines for admins.
pub fn serve(a: RelayServeArgs, verbosity: Verbosity) -> Result<()> {
    let dir = relay_dir(a.relay_dir)?;
    let mut tickets = Vec::new();
    for text in &a.admit {
        tickets.push(RelayTicket::parse(text).map_err(|e| anyhow::anyhow!("--admit: {e}"))?);
    }
    for addr in a.listen.iter().chain(&a.announce) {
        validate_address(addr).map_err(|e| anyhow::anyhow!("{}", messages::chain(&e)))?;
    }
    if a.mailbox_mib == 0 || a.mailbox_days == 0 {
        bail!(t!("cmd-relay-mailbox-limits"));
    }
    let limits = MailboxLimits {
        max_bytes_per_network: a.mailbox_mib.saturating_mul(1024 * 1024),
        retention_secs: a.mailbox_days.saturating_mul(24 * 60 * 60),
        ..MailboxLimits::default()
    };
    let store = RelayStore::open(&dir, limits).map_err(|e| {
        anyhow::anyhow!(t!(
            "cmd-relay-cannot-open",
            dir = dir.display().to_string(),
            reason = messages::chain(&e)
        ))
    })?;
    for ticket in &tickets {
        RelayService::admit(&store, ticket).map_err(|e| {
            anyhow::anyhow!(t!("cmd-relay-cannot-admit", reason = messages::chain(&e)))
        })?;
    }
    let networks =
        RelayService::networks(&store).map_err(|e| anyhow::anyhow!("{}", messages::chain(&e)))?;
    let listen = if a.listen.is_empty() {
        vec![
            format!("/ip4/0.0.0.0/tcp/{DEFAULT_RELAY_PORT}"),
            format!("/ip4/0.0.0.0/udp/{DEFAULT_RELAY_PORT}/quic-v1"),
        ]
    } else {
        a.listen
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            anyhow::anyhow!(t!("cmd-relay-no-runtime", reason = messages::io_reason(&e)))
        })?;
    let result = runtime.block_on(async {
        let mut stop = super::StopSignals::watch()?;
        let service = RelayService::start(
            store,
            RelayServiceConfig {
                listen,
                announce: a.announce.clone(),
                limits: RelayLimits::default(),
            },
        )
        .await
        .map_err(|e| {
            let text = messages::chain(&e);
            if text.contains("Address already in use") {
                anyhow::anyhow!(t!("cmd-relay-port-in-use"))
            } else {
                anyhow::anyhow!(t!("cmd-relay-cannot-start", reason = text))
            }
        })?;
        let id = peer_id_text(&service.key()).unwrap_or_default();
        let bound = service.listen_addrs().await.unwrap_or_default();
        let shown: Vec<String> = if a.announce.is_empty() {
            bound
                .iter()
                .filter(|a| !a.contains("/0.0.0.0/") && !a.contains("/::/"))
                .cloned()
                .collect()
        } else {
            a.announce.clone()
        };
        output::say(
            verbosity,
            &format!(
                "{}\n",
                t!(
                    "cmd-relay-running",
                    id = id.as_str(),
                    dir = dir.display().to_string()
                )
            ),
        )?;
        output::emit(&output::listening(&bound))?;
        output::say(verbosity, &format!("{}\n", t!("cmd-relay-admins-add")))?;
        // The lines to pass on, even with --quiet.
        let adds: String = shown
            .iter()
            .map(|addr| format!("  puente relay add {addr}/p2p/{id}\n"))
            .collect();
        output::emit(&adds)?;
        let serves = if networks.is_empty() {
            t!("cmd-relay-serves-none")
        } else {
            t!("cmd-relay-serves", count = networks.len())
        };
        output::say(verbosity, &format!("{serves}\n"))?;
        let signal_name = stop.next().await;
        tracing::debug!(signal = signal_name, "stopping the relay");
        service.stop().await.map_err(|e| {
            anyhow::anyhow!(t!("cmd-relay-unclean-stop", reason = messages::chain(&e)))
        })?;
        output::say(verbosity, &format!("{}\n", t!("cmd-relay-stopped")))?;
        Ok::<(), anyhow::Error>(())
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

/// `puente relay ticket`: the line for a relay's operator.
pub fn ticket(ctx: &Ctx) -> Result<()> {
    let replica = ctx.open_read_only()?;
    if replica.membership().is_none() {
        bail!(t!("cmd-relay-ticket-no-network"));
    }
    if !replica.is_admin() {
        bail!(t!("cmd-relay-ticket-not-admin"));
    }
    let admins = replica
        .membership()
        .map(|log| log.state().admin_devices())
        .unwrap_or_default();
    let ticket = RelayTicket::new(&replica.network(), admins);
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.note(&format!("{}\n", t!("cmd-relay-ticket-note")));
    ctx.emit(&format!("{ticket}\n"))
}

/// `puente relay add ADDR`: the network uses the relay.
pub fn add(ctx: &Ctx, a: RelayAddArgs) -> Result<()> {
    let (key, first) =
        parse_relay_address(&a.address).map_err(|e| anyhow::anyhow!("{}", messages::chain(&e)))?;
    let mut addresses = vec![first];
    for more in &a.more {
        let (other, addr) = match parse_relay_address(more) {
            Ok(pair) => pair,
            Err(_) => {
                let addr = validate_address(more)
                    .map_err(|e| anyhow::anyhow!("--address: {}", messages::chain(&e)))?;
                (key, addr)
            }
        };
        if other != key {
            bail!(t!("cmd-relay-add-other-relay", address = more.as_str()));
        }
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    let mut replica = ctx.open()?;
    if key == replica.public_key() {
        bail!(t!("cmd-relay-add-own-key"));
    }
    replica
        .set_relay(key, addresses.clone(), true, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-relay-added",
            id = short_id(&key),
            addresses = addresses.join(", "),
            node = if ctx.node().is_some() { "yes" } else { "no" }
        )
    ))
}

/// `puente relay remove RELAY`.
pub fn remove(ctx: &Ctx, a: RelayRemoveArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    let typed = a.relay.trim();
    let matches: Vec<PublicKey> = replica
        .relays()
        .into_iter()
        .map(|r| r.key)
        .filter(|k| {
            typed.len() >= 4
                && (k.to_string().starts_with(typed)
                    || peer_id_text(k).is_some_and(|id| id.starts_with(typed)))
        })
        .collect();
    let key = match matches[..] {
        [key] => key,
        [] => bail!(t!("cmd-relay-remove-none", id = typed)),
        _ => bail!(t!("cmd-relay-remove-several", id = typed)),
    };
    replica
        .set_relay(key, Vec::new(), false, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!(
        "{}\n",
        t!("cmd-relay-removed", id = short_id(&key))
    ))
}

/// `puente relay list`.
pub fn list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    let relays = replica.relays();
    replica.close().map_err(|e| ctx.err(e))?;
    let rows: Vec<RelayRow> = relays
        .iter()
        .map(|r| RelayRow::new(r, ctx.node()))
        .collect();
    match format {
        Format::Json => return ctx.emit(&rows::json(&rows)?),
        Format::Csv => return ctx.emit(&relays::csv(&rows)?),
        _ => {}
    }
    if rows.is_empty() {
        return ctx.emit(&format!("{}\n", t!("cmd-relay-list-none")));
    }
    ctx.emit(&relays::table(&rows))
}
