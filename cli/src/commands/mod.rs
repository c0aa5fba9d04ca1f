//! One function per command. Each opens the replica, does one thing, prints its result and
//! closes the replica (which writes a snapshot when one is due).
//!
//! Invariant: a command that fails leaves the store as it was: every check runs before the
//! single write, and the replica acknowledges a write only once it is durable.

mod hold;
mod identity;
mod offer;
mod query;
mod transfer;

use anyhow::Result;

use crate::args::{Cli, Command, HoldCommand, OfferCommand};
use crate::context::Ctx;

/// Runs the command the flags name.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::new(&cli)?;
    match cli.command {
        Command::Init(a) => identity::init(&ctx, a),
        Command::Whoami => identity::whoami(&ctx),
        Command::Offer(OfferCommand::Add(a)) => offer::add(&ctx, a),
        Command::Offer(OfferCommand::Update(a)) => offer::update(&ctx, a),
        Command::Offer(OfferCommand::Withdraw(a)) => offer::withdraw(&ctx, a),
        Command::Offer(OfferCommand::Confirm(a)) => offer::confirm(&ctx, a),
        Command::Offer(OfferCommand::List(a)) => offer::list(&ctx, a),
        Command::Offer(OfferCommand::Show(a)) => offer::show(&ctx, a),
        Command::Hold(HoldCommand::Place(a)) => hold::place(&ctx, a),
        Command::Hold(HoldCommand::Release(a)) => hold::release(&ctx, a),
        Command::Hold(HoldCommand::Confirm(a)) => {
            hold::decide(&ctx, a, puente_crdt::Decision::Confirmed)
        }
        Command::Hold(HoldCommand::Decline(a)) => {
            hold::decide(&ctx, a, puente_crdt::Decision::Declined)
        }
        Command::Hold(HoldCommand::List(a)) => hold::list(&ctx, a),
        Command::Query(a) => query::query(&ctx, a),
        Command::Import(a) => transfer::import(&ctx, a),
        Command::Export(a) => transfer::export(&ctx, a),
    }
}
