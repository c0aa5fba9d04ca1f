//! `puente run`: the node. Opens the replica, starts the transport and the node actor from
//! `puente-node`, serves other commands on the control socket ([`crate::control`]) and stops
//! cleanly on Ctrl-C or SIGTERM.
//!
//! The rest of the CLI is synchronous; this command builds a tokio runtime of its own.

use std::time::Duration;

use anyhow::{Context as _, Result};
use std::sync::Arc;

use puente_node::actor::{Clock, Node, NodeConfig, NodeError};

use crate::args::RunArgs;
use crate::context::Ctx;
use crate::control::server::{Connections, ControlSocket};
use crate::control::socket_path;
use crate::messages;
use crate::web;
use tokio::sync::watch;

/// The port a node listens on when no `--listen` is given, for TCP and for QUIC: fixed, so
/// that partners can keep one address for this node. Unassigned by IANA.
pub const DEFAULT_PORT: u16 = 4737;

/// How long the runtime may take to wind down its last tasks after the node has stopped; the
/// replica is closed by then, so this only bounds the exit.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(2);

/// How long a stop waits for commands already received on the control socket to finish
/// before cutting their connections: a command takes milliseconds, an import a few seconds.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Pause after a failed accept (for example too many open files) before trying again, so that
/// a persistent failure does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// The addresses listened on without `--listen`: every interface, TCP and QUIC.
pub fn default_listen() -> Vec<String> {
    vec![
        format!("/ip4/0.0.0.0/tcp/{DEFAULT_PORT}"),
        format!("/ip4/0.0.0.0/udp/{DEFAULT_PORT}/quic-v1"),
    ]
}

pub fn run(ctx: &Ctx, a: RunArgs) -> Result<()> {
    let listen = if a.listen.is_empty() {
        default_listen()
    } else {
        a.listen
    };
    let replica = ctx
        .open()?
        .into_owned()
        .with_context(|| t!("cmd-run-within-node"))?;
    let who = replica.whoami();
    // A device that joined names its organisation from the membership log until the profile
    // arrives; one that has not joined has no organisation yet.
    let name = if puente_node::joiner::waits_to_join_as_device(&replica) {
        t!("cmd-run-unjoined-device")
    } else {
        super::identity::org_name(&replica)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!(t!("cmd-run-no-runtime", reason = messages::io_reason(&e))))?;
    let result = runtime.block_on(async {
        // Signals first: from the moment the socket answers, SIGTERM means a clean stop.
        let mut stop = super::StopSignals::watch()?;
        // Invitations expire by the same "now" commands use: the clock, or PUENTE_NOW
        // advancing from when the node started (so scripts and tests stay consistent).
        let started = std::time::Instant::now();
        let start = ctx.now;
        let clock: Clock = Arc::new(move || {
            start.plus(i64::try_from(started.elapsed().as_secs()).unwrap_or(i64::MAX))
        });
        let config = NodeConfig {
            listen,
            peers: Vec::new(),
            mdns: a.mdns,
            clock: Some(clock.clone()),
        };
        let serve = if a.no_web {
            web::Serve::Off
        } else {
            a.web_port.map_or(web::Serve::Default, web::Serve::Port)
        };
        // The page's port first: a port taken is said before the node starts.
        let listener = web::bind(serve).await?;
        let node = Node::spawn(replica, config)
            .await
            .map_err(|e| node_error(e, ctx))?;
        let socket = match ControlSocket::bind(&ctx.dir, socket_path(&ctx.dir)) {
            Ok(s) => s,
            Err(e) => {
                node.shutdown().await;
                return Err(e);
            }
        };
        let addrs = match node.listen_addrs().await {
            Ok(a) => a,
            Err(e) => {
                socket.close();
                node.shutdown().await;
                return Err(node_error(e, ctx));
            }
        };
        let (stop_page, page_stops) = watch::channel(false);
        let page_stops_for_metrics = page_stops.clone();
        let clock_for_metrics = clock.clone();
        let page = match listener
            .map(|l| web::start(l, node.clone(), ctx.dir.clone(), clock, page_stops))
            .transpose()
        {
            Ok(p) => p,
            Err(e) => {
                socket.close();
                node.shutdown().await;
                return Err(e);
            }
        };
        let metrics = match a.metrics_port {
            Some(port) => match crate::metrics::bind(port).await.and_then(|l| {
                crate::metrics::start(
                    l,
                    node.clone(),
                    ctx.dir.clone(),
                    clock_for_metrics.clone(),
                    page_stops_for_metrics.clone(),
                )
            }) {
                Ok(m) => Some(m),
                Err(e) => {
                    socket.close();
                    node.shutdown().await;
                    return Err(e);
                }
            },
            None => None,
        };
        let page_addr = page.as_ref().map(|(p, _)| p.addr);
        if let Err(e) = start_lines(
            ctx,
            &name,
            &who.org.to_string(),
            &addrs,
            socket.path(),
            page_addr,
        ) {
            socket.close();
            node.shutdown().await;
            return Err(e);
        }
        if let Some((addr, _)) = &metrics {
            // Even with --quiet, like the page's address: the port may be one chosen at random.
            ctx.emit(&format!(
                "{}\n",
                t!(
                    "admin-metrics-serving",
                    url = format!("http://{addr}/metrics")
                )
            ))?;
        }
        let (page, page_task) = match page {
            Some((p, task)) => (Some(p), Some(task)),
            None => (None, None),
        };

        let mut connections = Connections::new(page);
        // One line when something arrives that needs a person (the inbox's events).
        let mut news = super::inbox::Watcher::new(ctx.now);
        let mut look = tokio::time::interval(ANNOUNCE_INTERVAL);
        let signal_name = loop {
            tokio::select! {
                biased;
                signal = stop.next() => break signal,
                _ = look.tick() => {
                    let lines: String = news
                        .news(&node)
                        .await
                        .unwrap_or_default()
                        .iter()
                        .map(|e| format!("{}\n", e.sentence()))
                        .collect();
                    if !lines.is_empty() {
                        ctx.say(&lines)?;
                    }
                }
                accepted = socket.accept() => match accepted {
                    Ok(stream) => {
                        connections.admit(stream, node.clone(), socket.owner());
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot accept a control connection");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                    }
                },
            }
        };
        tracing::debug!(signal = signal_name, "stopping");
        // No new connections; commands already asked for get a moment to finish.
        socket.close();
        let _ = stop_page.send(true);
        connections.finish(STOP_GRACE).await;
        if let Some((_, task)) = metrics {
            task.abort();
        }
        if let Some(mut task) = page_task {
            // Open event streams would keep the page's connections up: end them after the grace.
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
        node.shutdown().await;
        ctx.say(&format!("{}\n", t!("cmd-run-stopped")))?;
        Ok::<(), anyhow::Error>(())
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

/// The start lines: where the node listens (even with --quiet: scripts wait for `Listening on`
/// and read the addresses), around them what it is and how to stop it.
fn start_lines(
    ctx: &Ctx,
    name: &str,
    org: &str,
    addrs: &[String],
    socket: &std::path::Path,
    page: Option<std::net::SocketAddr>,
) -> Result<()> {
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-run-running",
            name = name,
            org = org,
            dir = ctx.dir.display().to_string()
        )
    ))?;
    ctx.emit(&crate::output::listening(addrs))?;
    ctx.say(&format!(
        "{}\n",
        t!(
            "cmd-run-control-socket",
            socket = socket.display().to_string()
        )
    ))?;
    match page {
        // Even with --quiet, like the addresses: the port may be one chosen at random.
        Some(addr) => ctx.emit(&format!(
            "{}\n",
            t!("web-serving", url = format!("http://{addr}/"))
        )),
        None => Ok(()),
    }
}

/// The one line for a node that could not start.
fn node_error(e: NodeError, ctx: &Ctx) -> anyhow::Error {
    anyhow::anyhow!(messages::node(&e, &ctx.dir, DEFAULT_PORT + 1))
}

/// How often `puente run` looks for something new that needs a person.
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_listen_uses_the_documented_port() {
        for addr in default_listen() {
            assert!(addr.contains(&DEFAULT_PORT.to_string()), "{addr}");
        }
        let help = include_str!("../args.rs");
        assert!(help.contains(&format!("port {DEFAULT_PORT}")));
    }
}
