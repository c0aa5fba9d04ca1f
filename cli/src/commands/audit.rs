//! `puente audit exposure` and `puente audit log`: what a revoked (or any) organisation or device
//! could read, and the membership history checked end to end.
//!
//! Boundary: everything here reads; nothing writes. The membership log decides who was a
//! member and which ops count; the reports are built and laid out in [`crate::rows::audit`].

use anyhow::{Result, bail};
use puente_node::identity::PublicKey;
use puente_node::membership::MemberState;
use puente_node::replica::Replica;

use crate::args::{ExposureArgs, Format};
use crate::commands::offer::zone;
use crate::commands::revoke::{Target, resolve_target};
use crate::context::Ctx;
use crate::rows;
use crate::rows::audit::{ExposureReport, log_entries, log_text};
use crate::rows::names::Names;

/// The membership log's state, or a sentence saying there is none.
pub fn state_of(replica: &Replica) -> Result<&MemberState> {
    match replica.membership() {
        Some(log) => Ok(log.state()),
        None => bail!(t!("cmd-audit-no-network")),
    }
}

pub fn exposure(ctx: &Ctx, a: ExposureArgs) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let mut replica = ctx.open()?;
    let state = state_of(&replica)?;
    let names = Names::new(&replica);
    let target = resolve_target(state, &names, &a.target, true)?;
    let party = party_of(state, &target);
    let exposure = replica.exposure(&party).map_err(|e| ctx.err(e))?;
    let state = state_of(&replica)?;
    let report = ExposureReport::build(
        &replica,
        state,
        &names,
        &target.revoke_target(),
        &exposure,
        ctx.now,
    );
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => rows::json(&report)?,
        _ => report.text(ctx.now, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
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

pub fn log(ctx: &Ctx) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let replica = ctx.open_read_only()?;
    let state = state_of(&replica)?;
    let names = Names::new(&replica);
    let entries = log_entries(&replica, &names);
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => rows::json(&entries)?,
        _ => log_text(replica.network_name(), &state.network(), &entries, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}
