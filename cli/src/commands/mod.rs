//! One function per command. Each opens the replica, does one thing, prints its result and
//! closes the replica (which writes a snapshot when one is due).
//!
//! The same functions serve a command typed while `puente run` runs: [`run`] hands it to the
//! node through the control socket ([`crate::control`]), and the node calls [`dispatch`] with a
//! [`Ctx`] that lends its replica and collects the text.
//!
//! Invariant: a command that fails leaves the store as it was: every check runs before the
//! single write, and the replica acknowledges a write only once it is durable.

mod audit;
mod backup;
mod bundle;
mod history;
pub mod hold;
mod identity;
pub mod inbox;
mod network;
pub mod offer;
mod open;
mod passphrase;
mod query;
mod relay;
mod revoke;
mod run;
mod service;
mod settings;
mod shell;
mod transfer;

use anyhow::{Result, bail};

use crate::args::{
    AuditCommand, BundleCommand, Cli, Command, DeviceCommand, HistoryCommand, HoldCommand,
    InviteCommand, NetworkCommand, OfferCommand, PassphraseCommand, PeerCommand, RelayArgs,
    RelayCommand, ServiceCommand,
};
use crate::config::Config;
use crate::context::Ctx;
use crate::control;
use crate::output::Verbosity;

/// Runs the command the flags name: through the node running on the data directory if one
/// answers on its control socket (no passphrase is asked), else directly.
pub fn run(mut cli: Cli, config: Config) -> Result<()> {
    let verbosity = Verbosity::of(cli.quiet, cli.verbose);
    // The configuration file fills in what neither a flag nor the environment gave.
    if cli.data_dir.is_none() {
        cli.data_dir = config.data_dir.clone();
    }
    if cli.passphrase_file.is_none() && std::env::var_os("PUENTE_PASSPHRASE").is_none() {
        cli.passphrase_file = config.passphrase_file.clone();
    }
    match cli.command {
        // The relay service keeps its own directory and never touches a node's store.
        Command::Relay(RelayArgs {
            command: None,
            mut serve,
        }) => {
            if serve.relay_dir.is_none() {
                serve.relay_dir = config.relay.dir.clone();
            }
            if serve.listen.is_empty() {
                serve.listen = config.relay.listen.clone();
            }
            if serve.announce.is_empty() {
                serve.announce = config.relay.announce.clone();
            }
            return relay::serve(serve, verbosity);
        }
        Command::Config(ref c) => return settings::show(&cli, &config, c),
        Command::Service(ServiceCommand::Install(ref a)) => {
            return service::install(&Ctx::new(&cli)?, a);
        }
        // Generated from the flags' definitions: no data directory, no passphrase.
        Command::Completions(a) => return shell::completions(a),
        Command::Man(a) => return shell::man(a, verbosity),
        _ => {}
    }
    let ctx = Ctx::new(&cli)?;
    match &cli.command {
        // Into a new data directory: never through a node (one running there makes it not
        // empty, which the command refuses).
        Command::Init(_) | Command::Restore(_) => {}
        Command::Join(_) => {
            if control::client::connect(&ctx.dir).is_some() {
                bail!(t!(
                    "cmd-join-node-running",
                    dir = ctx.dir.display().to_string()
                ));
            }
        }
        Command::Open(a) => return open::open(&ctx, a),
        Command::Passphrase(_) => {
            if control::client::connect(&ctx.dir).is_some() {
                bail!(t!(
                    "admin-passphrase-node-running",
                    dir = ctx.dir.display().to_string()
                ));
            }
        }
        Command::Run(_) => {
            if control::client::connect(&ctx.dir).is_some() {
                bail!(t!(
                    "cmd-run-node-running",
                    dir = ctx.dir.display().to_string()
                ));
            }
        }
        _ => {
            if control::client::forward(&ctx, &cli)? {
                return Ok(());
            }
        }
    }
    match cli.command {
        Command::Run(mut a) => {
            if a.listen.is_empty() {
                a.listen = config.node.listen.clone();
            }
            a.mdns |= config.node.mdns.unwrap_or(false);
            if config.web.enabled == Some(false) && a.web_port.is_none() {
                a.no_web = true;
            }
            if a.web_port.is_none() && !a.no_web {
                a.web_port = config.web.port;
            }
            if a.metrics_port.is_none() {
                a.metrics_port = config.metrics.port;
            }
            run::run(&ctx, a)
        }
        command => dispatch(&ctx, command),
    }
}

/// Ctrl-C and SIGTERM, the two ways a long-running command (`puente run`, `puente relay`) is
/// asked to stop cleanly; watched from the moment this is made.
#[derive(Debug)]
pub struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Starts watching both; inside a tokio runtime.
    pub fn watch() -> Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        let watch = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| {
                anyhow::anyhow!(t!(
                    "cmd-cannot-watch-signal",
                    signal = name,
                    reason = crate::messages::io_reason(&e)
                ))
            })
        };
        Ok(StopSignals {
            interrupt: watch(SignalKind::interrupt(), "Ctrl-C")?,
            terminate: watch(SignalKind::terminate(), "SIGTERM")?,
        })
    }

    /// The next of them to arrive, by name.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "Ctrl-C",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// Runs one command with `ctx` (directly, or for a client when a node serves it).
pub fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Init(a) => identity::init(ctx, a),
        Command::Whoami => identity::whoami(ctx),
        Command::Offer(OfferCommand::Add(a)) => offer::add(ctx, a),
        Command::Offer(OfferCommand::Update(a)) => offer::update(ctx, a),
        Command::Offer(OfferCommand::Withdraw(a)) => offer::withdraw(ctx, a),
        Command::Offer(OfferCommand::Confirm(a)) => offer::confirm(ctx, a),
        Command::Offer(OfferCommand::List(a)) => offer::list(ctx, a),
        Command::Offer(OfferCommand::Show(a)) => offer::show(ctx, a),
        Command::Hold(HoldCommand::Place(a)) => hold::place(ctx, a),
        Command::Hold(HoldCommand::Release(a)) => hold::release(ctx, a),
        Command::Hold(HoldCommand::Confirm(a)) => {
            hold::decide(ctx, a, puente_crdt::Decision::Confirmed)
        }
        Command::Hold(HoldCommand::Decline(a)) => {
            hold::decide(ctx, a, puente_crdt::Decision::Declined)
        }
        Command::Hold(HoldCommand::List(a)) => hold::list(ctx, a),
        Command::Query(a) => query::query(ctx, a),
        Command::Import(a) => transfer::import(ctx, a),
        Command::Export(a) => transfer::export(ctx, a),
        Command::Network(NetworkCommand::Create(a)) => network::network_create(ctx, a),
        Command::Invite(InviteCommand::Create(a)) => network::invite_create(ctx, a),
        Command::Invite(InviteCommand::List) => network::invite_list(ctx),
        Command::Invite(InviteCommand::Confirm(a)) => network::invite_confirm(ctx, a),
        Command::Invite(InviteCommand::Cancel(a)) => network::invite_cancel(ctx, a),
        Command::Join(a) => network::join(ctx, a),
        Command::Status => network::status(ctx),
        Command::Inbox => inbox::show(ctx),
        Command::Events(a) => inbox::events(ctx, a),
        Command::Peer(PeerCommand::List) => network::peer_list(ctx),
        Command::Peer(PeerCommand::AddAddress(a)) => network::peer_add_address(ctx, a),
        Command::Peer(PeerCommand::Revoke(a)) => revoke::peer_revoke(ctx, a),
        Command::Peer(PeerCommand::Revocations) => revoke::revocations(ctx),
        Command::Peer(PeerCommand::Role(a)) => revoke::peer_role(ctx, a),
        Command::Device(DeviceCommand::Add(a)) => network::device_add(ctx, a),
        Command::Device(DeviceCommand::List) => network::device_list(ctx),
        Command::Device(DeviceCommand::Revoke(a)) => revoke::device_revoke(ctx, a),
        Command::Audit(AuditCommand::Exposure(a)) => audit::exposure(ctx, a),
        Command::Audit(AuditCommand::Log) => audit::log(ctx),
        Command::Bundle(BundleCommand::Export(a)) => bundle::export(ctx, a),
        Command::Bundle(BundleCommand::Import(a)) => bundle::import(ctx, a),
        Command::Relay(RelayArgs { command, .. }) => match command {
            Some(RelayCommand::Ticket) => relay::ticket(ctx),
            Some(RelayCommand::Add(a)) => relay::add(ctx, a),
            Some(RelayCommand::Remove(a)) => relay::remove(ctx, a),
            Some(RelayCommand::List) => relay::list(ctx),
            None => bail!(t!("cmd-relay-served")),
        },
        Command::Run(_) => bail!(t!("cmd-run-served")),
        Command::Passphrase(PassphraseCommand::Change(a)) => passphrase::change(ctx, a),
        Command::Backup(a) => backup::backup(ctx, a),
        Command::History(HistoryCommand::Erase(a)) => history::erase(ctx, a),
        Command::History(HistoryCommand::Status) => history::status(ctx),
        Command::Restore(a) => backup::restore(ctx, a),
        // Answered by the control socket itself, which knows the page (see control::server).
        Command::Open(_) => bail!(t!(
            "web-open-needs-node",
            dir = ctx.dir.display().to_string()
        )),
        Command::Config(_) | Command::Service(_) => {
            bail!(t!("admin-config-not-through-node"))
        }
        Command::Completions(_) | Command::Man(_) => bail!(t!("cmd-shell-served")),
    }
}
