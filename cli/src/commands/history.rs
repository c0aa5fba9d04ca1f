//! `puente history erase --before DATE` and `puente history status`: making old history
//! unreadable for good, and seeing which member devices have applied it.
//!
//! Boundary: what an erasure does (the `Erase` op, the new device key, the re-base, the
//! destroyed keys) is the library's ([`Replica::erase_history`], `replica/erasure.rs`); this
//! module reads the date, says plainly what it did and what it cannot do, and lists receipts.

use anyhow::{Result, bail};
use puente_crdt::Time;
use puente_node::replica::Replica;
use serde_json::json;

use crate::args::{Format, HistoryEraseArgs};
use crate::commands::audit::state_of;
use crate::commands::offer::zone;
use crate::context::{Ctx, instant};
use crate::i18n::{Lang, scoped};
use crate::output::{self, short};
use crate::render;
use crate::rows::names::Names;

pub fn erase(ctx: &Ctx, a: HistoryEraseArgs) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let mut replica = ctx.open()?;
    let state = state_of(&replica)?;
    if !state.is_admin_device(&replica.public_key()) {
        bail!(t!("cmd-history-not-admin"));
    }
    // `now`: every period so far, also one that began within this second.
    let everything = a.before.trim().eq_ignore_ascii_case("now");
    let since = if everything {
        ctx.now
    } else {
        instant("--before", &a.before, ctx.now, replica.tz())?
    };
    if since > ctx.now {
        bail!(t!("cmd-history-future", date = a.before.trim()));
    }
    let old = replica.public_key();
    let since_secs = (!everything).then(|| u64::try_from(since.0).unwrap_or(0));
    let erased = replica
        .erase_history(since_secs, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let tz = zone(&replica)?;
    let json = match format {
        Format::Json => Some(output::json(&json!({
            "before": since.rfc3339(),
            "first_epoch_kept": erased.before.0,
            "old_device": old.to_string(),
            "device": erased.device.to_string(),
            "rebased": erased.rebased,
            "node_running": ctx.node().is_some(),
            // Scripts read these in English, whatever the language.
            "cannot": scoped(Lang::En, cannot),
        }))?),
        _ => None,
    };
    replica.close().map_err(|e| ctx.err(e))?;
    if let Some(json) = json {
        return ctx.emit(&json);
    }
    let mut out = format!(
        "{}\n{}\n",
        t!(
            "cmd-history-erased",
            date = render::when(since, ctx.now, &tz),
            epoch = erased.before.0
        ),
        t!(
            "cmd-history-new-key",
            key = erased.device.to_string(),
            fingerprint = erased.device.fingerprint().to_string()
        ),
    );
    out.push_str(&format!(
        "{}\n",
        t!(
            "cmd-history-next",
            node = if ctx.node().is_some() { "yes" } else { "no" }
        )
    ));
    out.push_str(&format!("\n{}\n", t!("cmd-history-cannot-head")));
    for line in cannot() {
        out.push_str(&format!("- {line}\n"));
    }
    ctx.say(&out)
}

/// What an erasure cannot do, in plain words, in the current language.
fn cannot() -> Vec<String> {
    vec![
        t!("cmd-history-cannot-not-yet"),
        t!("cmd-history-cannot-copies"),
        t!("cmd-history-cannot-backups"),
        t!("cmd-history-cannot-after"),
        t!("cmd-history-cannot-disk"),
    ]
}

pub fn status(ctx: &Ctx) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let replica = ctx.open_read_only()?;
    let text = status_text(ctx, &replica, format);
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text?)
}

fn status_text(ctx: &Ctx, replica: &Replica, format: Format) -> Result<String> {
    let state = state_of(replica)?;
    let names = Names::new(replica);
    let local = replica.erasure_status().map_err(|e| ctx.err(e))?;
    let handover = replica.handover().map_err(|e| ctx.err(e))?;
    let tz = zone(replica)?;
    let members = state.devices();
    let mut rows = Vec::new();
    for e in state.erasures() {
        let receipts = state.receipts(&e.id);
        // Only devices added after it can confirm it (every device moves to a new key).
        let (done, waiting): (Vec<_>, Vec<_>) =
            members.iter().partition(|d| receipts.contains_key(&d.key));
        let claimed = Time(i64::try_from(e.claimed_time).unwrap_or(i64::MAX));
        rows.push((e, claimed, done, waiting));
    }
    if let Format::Json = format {
        let list: Vec<_> = rows
            .iter()
            .map(|(e, claimed, done, waiting)| {
                json!({
                    "erasure": e.id.to_string(),
                    "by": names.device(&e.author),
                    "claimed_time": claimed.rfc3339(),
                    "first_epoch_kept": e.before.0,
                    "applied_by": done.iter().map(|d| json!({
                        "device": d.key.to_string(),
                        "organisation": names.org(&d.org),
                    })).collect::<Vec<_>>(),
                    "not_yet": waiting.iter().map(|d| json!({
                        "device": d.key.to_string(),
                        "organisation": names.org(&d.org),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return output::json(&json!({
            "erasures": list,
            "this_node": {
                "complete": local.complete(),
                "applied": local.applied,
                "waiting_for": local.waiting_for.iter().map(|o| names.org(o)).collect::<Vec<_>>(),
                "oldest_key_epoch": local.oldest_key.map(|e| e.0),
                "old_key_kept_until_a_partner_accepts_the_new_one": handover.map(|k| k.to_string()),
            },
        }));
    }
    if rows.is_empty() {
        return Ok(format!("{}\n", t!("cmd-history-none")));
    }
    let mut out = String::new();
    for (e, claimed, done, waiting) in &rows {
        out.push_str(&format!(
            "{}\n",
            t!(
                "cmd-history-row",
                id = short(&e.id),
                by = names.device(&e.author),
                when = render::when(*claimed, ctx.now, &tz),
                epoch = e.before.0
            )
        ));
        out.push_str(&format!(
            "  {}\n",
            t!("cmd-history-applied-by", count = done.len())
        ));
        for d in done {
            out.push_str(&format!("    {} ({})\n", names.org(&d.org), short(&d.key)));
        }
        if !waiting.is_empty() {
            out.push_str(&format!(
                "  {}\n",
                t!("cmd-history-not-yet", count = waiting.len())
            ));
            for d in waiting {
                out.push_str(&format!("    {} ({})\n", names.org(&d.org), short(&d.key)));
            }
        }
    }
    if !local.waiting_for.is_empty() {
        let orgs: Vec<String> = local.waiting_for.iter().map(|o| names.org(o)).collect();
        out.push_str(&format!(
            "{}\n",
            t!("cmd-history-waiting-rebase", orgs = orgs.join(", "))
        ));
    }
    if let Some(old) = handover {
        out.push_str(&format!(
            "{}\n",
            t!("cmd-history-handover", key = short(&old))
        ));
    }
    Ok(out)
}
