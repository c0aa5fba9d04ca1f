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
use tokio::signal::unix::{SignalKind, signal};

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
    bail!(
        "cannot tell where to keep the relay's data: pass --relay-dir DIR or set PUENTE_RELAY_DIR"
    )
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
        bail!("--mailbox-mib and --mailbox-days must be at least 1");
    }
    let limits = MailboxLimits {
        max_bytes_per_network: a.mailbox_mib.saturating_mul(1024 * 1024),
        retention_secs: a.mailbox_days.saturating_mul(24 * 60 * 60),
        ..MailboxLimits::default()
    };
    let store = RelayStore::open(&dir, limits).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the relay's data in {}: {}",
            dir.display(),
            messages::chain(&e)
        )
    })?;
    for ticket in &tickets {
        RelayService::admit(&store, ticket)
            .map_err(|e| anyhow::anyhow!("cannot record --admit: {}", messages::chain(&e)))?;
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
            anyhow::anyhow!(
                "cannot start the relay's runtime: {}",
                messages::io_reason(&e)
            )
        })?;
    let result = runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt())
            .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {}", messages::io_reason(&e)))?;
        let mut terminate = signal(SignalKind::terminate())
            .map_err(|e| anyhow::anyhow!("cannot watch for SIGTERM: {}", messages::io_reason(&e)))?;
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
                anyhow::anyhow!(
                    "cannot listen: the port is already in use (another relay?); pass --listen with another port"
                )
            } else {
                anyhow::anyhow!("the relay could not start: {text}")
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
            &format!("puente relay {id} is running on {}.\n", dir.display()),
        )?;
        output::emit(&output::listening(&bound))?;
        output::say(
            verbosity,
            "An admin of each network it serves adds it with:\n",
        )?;
        // The lines to pass on, even with --quiet.
        let adds: String = shown
            .iter()
            .map(|addr| format!("  puente relay add {addr}/p2p/{id}\n"))
            .collect();
        output::emit(&adds)?;
        if networks.is_empty() {
            output::say(verbosity, "It serves no network yet: start it with --admit TICKET (an admin prints the ticket with `puente relay ticket`).\n")?;
        } else {
            output::say(
                verbosity,
                &format!(
                    "It serves {} network(s). Press Ctrl-C (or send SIGTERM) to stop it.\n",
                    networks.len()
                ),
            )?;
        }
        let signal_name = tokio::select! {
            _ = interrupt.recv() => "Ctrl-C",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::debug!(signal = signal_name, "stopping the relay");
        service
            .stop()
            .await
            .map_err(|e| anyhow::anyhow!("the relay did not stop cleanly: {}", messages::chain(&e)))?;
        output::say(verbosity, "Stopped the relay; its mailbox is saved.\n")?;
        Ok::<(), anyhow::Error>(())
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

/// `puente relay ticket`: the line for a relay's operator.
pub fn ticket(ctx: &Ctx) -> Result<()> {
    let replica = ctx.open()?;
    if replica.membership().is_none() {
        bail!(
            "this organisation is in no network yet; found one with `puente network create --name NAME` or join one first"
        );
    }
    if !replica.is_admin() {
        bail!(
            "only an admin of the network can make a relay ticket; ask an admin (see `puente status`)"
        );
    }
    let admins = replica
        .membership()
        .map(|log| log.state().admin_devices())
        .unwrap_or_default();
    let ticket = RelayTicket::new(&replica.network(), admins);
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.note(
        "Send this line to whoever runs the relay; they start it with `puente relay --admit LINE`.\n\
         It holds no secret and no name: only an opaque tag for the network and the admins' device keys.\n",
    );
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
            bail!(
                "--address {more} names another relay; add each relay with its own `puente relay add`"
            );
        }
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    let mut replica = ctx.open()?;
    if key == replica.public_key() {
        bail!(
            "that is this device's own key, not a relay's; give the address `puente relay` printed"
        );
    }
    replica
        .set_relay(key, addresses.clone(), true, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!(
        "The network now uses relay {} at {}.\nEvery member's node learns it as it syncs{}.\n",
        short_id(&key),
        addresses.join(", "),
        if ctx.node().is_some() {
            "; this node connects now"
        } else {
            "; this node connects when it runs"
        }
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
        [] => bail!(
            "the network uses no relay whose id starts with `{typed}`; see `puente relay list`"
        ),
        _ => bail!("`{typed}` matches several relays; type more of the id"),
    };
    replica
        .set_relay(key, Vec::new(), false, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!(
        "The network no longer uses relay {}; nodes drop their reservations on it as they sync.\n",
        short_id(&key)
    ))
}

/// `puente relay list`.
pub fn list(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
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
        return ctx.emit(
            "The network uses no relay. Partners whose nodes cannot dial each other (home routers) need one: see \"Connecting partners over the internet\" in the guide.\n",
        );
    }
    ctx.emit(&relays::table(&rows))
}
