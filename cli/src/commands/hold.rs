//! `puente hold place|release|confirm|decline|list`.

use anyhow::{Result, bail};
use std::io::IsTerminal;

use puente_crdt::{Decision, HoldStatus, HoldView};
use puente_node::replica::HoldRequest;
use serde_json::json;

use crate::args::{Format, HoldListArgs, HoldPlaceArgs, IdArg};
use crate::commands::offer::{holds_table, resolve, resolve_window, zone};
use crate::context::{Ctx, instant};
use crate::messages::Exit;
use crate::output::{self, short};
use crate::render;

pub fn place(ctx: &Ctx, a: HoldPlaceArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.offer)?;
    if offer.owner == replica.org() {
        bail!(t!("cmd-hold-own-offer", id = short(&offer.id)));
    }
    let window = resolve_window(&offer, &a.window)?;
    let dates = match (&a.from, &a.to) {
        (Some(f), Some(t)) => Some((f.clone(), t.clone())),
        _ if a.whole_window => None,
        _ if ctx.interactive && std::io::stdin().is_terminal() => Some(ask_dates()?),
        _ => bail!(t!("cmd-hold-no-dates")),
    };
    let interval = match dates {
        Some((f, t)) => {
            let from = instant("--from", &f, ctx.now, replica.tz())?;
            let to = instant("--to", &t, ctx.now, replica.tz())?;
            if to <= from {
                bail!(t!("cmd-hold-to-before-from"));
            }
            Some((from, to))
        }
        None => None,
    };
    let req = HoldRequest {
        owner: offer.owner,
        offer: offer.id,
        window,
        qty: a.qty,
        interval,
    };
    let id = replica.place_hold(req, ctx.now).map_err(|e| ctx.err(e))?;
    let verdict = replica
        .view()
        .verdicts(offer.owner, offer.id, ctx.now)
        .into_iter()
        .find(|v| v.hold.id == id);
    let tz = zone(&replica)?;
    let owner_name = render::org_name(replica.view(), offer.owner);
    replica.close().map_err(|e| ctx.err(e))?;
    let status = verdict.as_ref().map_or("pending", |v| v.status.as_str());
    match format {
        Format::Json => ctx.emit(&output::json(
            &json!({ "hold_id": id.to_string(), "status": status }),
        )?)?,
        Format::Csv => ctx.emit(&output::csv(
            &["hold_id", "status"],
            &[vec![id.to_string(), status.to_string()]],
        )?)?,
        _ => {
            let quantity = render::quantity(a.qty, offer.fields.unit);
            let handle = offer.fields.handle.as_str();
            let status = render::hold_status(status);
            let sentence = match verdict.as_ref() {
                Some(v) => t!(
                    "cmd-hold-placed-lapses",
                    quantity = quantity,
                    handle = handle,
                    status = status,
                    when = render::when(v.hold.expires_at, ctx.now, &tz),
                    owner = owner_name.as_str()
                ),
                None => t!(
                    "cmd-hold-placed",
                    quantity = quantity,
                    handle = handle,
                    status = status
                ),
            };
            // The id alone on the last line, even with --quiet, so that scripts can capture it.
            ctx.say(&format!("{sentence}\n"))?;
            ctx.emit(&format!("{id}\n"))?;
        }
    }
    if verdict.is_some_and(|v| v.status == HoldStatus::Overbooked) {
        return Err(Exit {
            code: EXIT_OVERBOOKED,
            line: Some(t!(
                "cmd-hold-overbooked",
                owner = owner_name.as_str(),
                id = short(&id)
            )),
        }
        .into());
    }
    Ok(())
}

/// Exit status of `hold place` when the hold was placed but is overbooked (documented in
/// its `--help`).
pub const EXIT_OVERBOOKED: u8 = 3;

/// Asks on the terminal which dates to hold; the answers are read as `--from` and `--to` are.
/// Used on the direct path and by the client before it forwards `hold place` to a running
/// node.
pub fn ask_dates() -> Result<(String, String)> {
    let ask = |prompt: String| -> Result<String> {
        // A prompt ends with a space, where the answer is typed.
        let answer = output::ask(&format!("{prompt} "))?;
        if answer.is_empty() {
            bail!(t!("cmd-hold-no-date-given"));
        }
        Ok(answer)
    };
    let from = ask(t!("cmd-hold-ask-from"))?;
    let to = ask(t!("cmd-hold-ask-to"))?;
    Ok((from, to))
}

pub fn release(ctx: &Ctx, a: IdArg) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let hold = replica
        .resolve_hold(&a.id)
        .cloned()
        .map_err(|e| ctx.err(e))?;
    replica
        .release_hold(hold.id, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    done(ctx, format, hold.id, "released")
}

pub fn decide(ctx: &Ctx, a: IdArg, decision: Decision) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let hold = replica
        .resolve_hold(&a.id)
        .cloned()
        .map_err(|e| ctx.err(e))?;
    replica
        .decide_hold(hold.id, decision, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    let what = match decision {
        Decision::Confirmed => "confirmed",
        Decision::Declined => "declined",
    };
    done(ctx, format, hold.id, what)
}

/// Prints the outcome of a change to one hold: `what` is `released`, `confirmed` or `declined`.
fn done(ctx: &Ctx, format: Format, id: puente_crdt::HoldId, what: &str) -> Result<()> {
    match format {
        Format::Json => ctx.emit(&output::json(
            &json!({ "hold_id": id.to_string(), "status": what }),
        )?),
        Format::Csv => ctx.emit(&output::csv(
            &["hold_id", "status"],
            &[vec![id.to_string(), what.into()]],
        )?),
        _ => ctx.say(&format!(
            "{}\n",
            t!("cmd-hold-done", what = what, id = id.to_string())
        )),
    }
}

pub fn list(ctx: &Ctx, a: HoldListArgs) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    let view = replica.view();
    let me = replica.org();
    let mut holds: Vec<HoldView> = Vec::new();
    if !a.on_mine {
        holds.extend(view.holds(ctx.now, Some(me), None));
    }
    if !a.mine {
        for h in view.holds(ctx.now, None, Some(me)) {
            if !holds
                .iter()
                .any(|x| x.hold.id == h.hold.id && x.hold.requester == h.hold.requester)
            {
                holds.push(h);
            }
        }
    }
    holds.sort_by_key(|v| (v.hold.created_at, v.hold.requester, v.hold.id));
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => render::holds_json(view, &holds)?,
        Format::Csv => render::holds_csv(view, &holds)?,
        _ if holds.is_empty() => format!("{}\n", t!("cmd-hold-none")),
        _ => holds_table(view, &holds, ctx.now, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}
