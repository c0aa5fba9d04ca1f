//! `puente offer add|update|withdraw|confirm|list|show`.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use jiff::tz::TimeZone;
use puente_crdt::time::{self, format_duration};
use puente_crdt::{
    Kind, NewOffer, NewWindow, Offer, OfferFields, OfferPatch, StatusHint, SubjectType, Time,
    Vetting, WindowId,
};
use puente_node::interchange::parse_window;
use puente_node::replica::Replica;
use serde_json::json;

use crate::args::{
    Clearable, Format, IdArg, OfferAddArgs, OfferConfirmArgs, OfferListArgs, OfferUpdateArgs,
    OfferWithdrawArgs,
};
use crate::context::Ctx;
use crate::messages;
use crate::output::{self, Table, pairs, short};
use crate::render;

pub fn add(ctx: &Ctx, a: OfferAddArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let windows = windows(&replica, ctx.now, "--window", &a.window)?;
    let f = a.fields;
    let subject = a.subject.unwrap_or(if a.kind == Kind::HostHome {
        SubjectType::Household
    } else {
        SubjectType::OrgProgram
    });
    let fields = OfferFields {
        kind: a.kind,
        handle: a.handle,
        subject,
        counties: f.county,
        zone: f.zone,
        languages: f.lang,
        accepts: f.accepts,
        affirming: f.affirming,
        accessibility: f.accessibility,
        household: f.household,
        capabilities: f.capability,
        unit: a.unit.unwrap_or(a.kind.default_unit()),
        lead_time: f.lead_time,
        max_stay: f.max_stay,
        vetting: f.vetting.unwrap_or(Vetting::OrgVetted),
        status: f.status.unwrap_or(StatusHint::Capacity),
        label: f.label.unwrap_or_default(),
        bond_band: f.bond_band,
        post_within: f.post_within,
    };
    let mut offer = NewOffer {
        fields,
        windows,
        expires_in: a.expires_in,
    };
    offer
        .validate()
        .map_err(|e| anyhow::anyhow!(messages::schema(&e)))?;
    let id = replica.add_offer(offer, ctx.now).map_err(|e| ctx.err(e))?;
    let stored = replica.view().offer(replica.org(), id).cloned();
    let tz = zone(&replica)?;
    if let Some(revoked) = crate::rows::status::Revoked::of(&replica) {
        ctx.alert(&format!(
            "warning: {} This offer stays on this computer only.\n",
            revoked.sentence(ctx.now, &tz)
        ));
    }
    replica.close().map_err(|e| ctx.err(e))?;
    let expires = stored.as_ref().map(|o| o.expires_at);
    match format {
        Format::Json => ctx.emit(&output::json(&json!({
            "offer_id": id.to_string(),
            "expires_at": expires.map(Time::rfc3339),
        }))?),
        Format::Csv => ctx.emit(&output::csv(&["offer_id"], &[vec![id.to_string()]])?),
        _ => {
            let what = stored.as_ref().map_or_else(
                || "the offer".to_string(),
                |o| format!("{} offer {}", o.fields.kind, o.fields.handle),
            );
            let until = expires.map_or_else(String::new, |e| {
                format!(
                    "; it expires {} unless you confirm it",
                    render::when(e, ctx.now, &tz)
                )
            });
            // The id alone on the last line, even with --quiet, so that scripts can capture it.
            ctx.say(&format!("Published {what}{until}.\n"))?;
            ctx.emit(&format!("{id}\n"))
        }
    }
}

pub fn update(ctx: &Ctx, a: OfferUpdateArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.id)?;
    let f = a.fields;
    let clear = |c: Clearable| a.clear.contains(&c);
    for (c, given, flag) in [
        (Clearable::Zone, f.zone.is_some(), "--zone"),
        (Clearable::Languages, !f.lang.is_empty(), "--lang"),
        (Clearable::Accepts, !f.accepts.is_empty(), "--accepts"),
        (Clearable::Affirming, !f.affirming.is_empty(), "--affirming"),
        (
            Clearable::Accessibility,
            !f.accessibility.is_empty(),
            "--accessibility",
        ),
        (Clearable::Household, !f.household.is_empty(), "--household"),
        (
            Clearable::Capabilities,
            !f.capability.is_empty(),
            "--capability",
        ),
        (Clearable::LeadTime, f.lead_time.is_some(), "--lead-time"),
        (Clearable::MaxStay, f.max_stay.is_some(), "--max-stay"),
        (Clearable::Label, f.label.is_some(), "--label"),
        (Clearable::BondBand, f.bond_band.is_some(), "--bond-band"),
        (
            Clearable::PostWithin,
            f.post_within.is_some(),
            "--post-within",
        ),
    ] {
        if given && clear(c) {
            bail!("{flag} and --clear for the same field contradict each other; give one of them");
        }
    }
    fn set_list<T>(given: Vec<T>, cleared: bool) -> Option<Vec<T>> {
        if cleared {
            Some(Vec::new())
        } else if given.is_empty() {
            None
        } else {
            Some(given)
        }
    }
    fn set_opt<T>(given: Option<T>, cleared: bool) -> Option<Option<T>> {
        if cleared { Some(None) } else { given.map(Some) }
    }
    let mut cancel = Vec::new();
    for text in &a.cancel_window {
        cancel.push(resolve_window(&offer, text)?);
    }
    let patch = OfferPatch {
        handle: a.handle,
        counties: set_list(f.county, false),
        zone: set_opt(f.zone, a.clear_zone || clear(Clearable::Zone)),
        languages: set_list(f.lang, clear(Clearable::Languages)),
        accepts: set_list(f.accepts, clear(Clearable::Accepts)),
        affirming: set_list(f.affirming, clear(Clearable::Affirming)),
        accessibility: set_list(f.accessibility, clear(Clearable::Accessibility)),
        household: set_list(f.household, clear(Clearable::Household)),
        capabilities: set_list(f.capability, clear(Clearable::Capabilities)),
        lead_time: set_opt(f.lead_time, clear(Clearable::LeadTime)),
        max_stay: set_opt(f.max_stay, clear(Clearable::MaxStay)),
        vetting: f.vetting,
        status: f.status,
        label: if clear(Clearable::Label) {
            Some(String::new())
        } else {
            f.label
        },
        bond_band: set_opt(f.bond_band, clear(Clearable::BondBand)),
        post_within: set_opt(f.post_within, clear(Clearable::PostWithin)),
        add_windows: windows(&replica, ctx.now, "--add-window", &a.add_window)?,
        cancel_windows: cancel,
        expires_in: a.expires_in,
    };
    if patch.is_empty() {
        bail!(
            "nothing to change: give at least one flag, such as --label, --add-window or --status (see `puente offer update --help`)"
        );
    }
    if offer.withdrawn {
        bail!(
            "offer {} is withdrawn and cannot change; publish a new offer with `puente offer add` instead",
            offer.id
        );
    }
    replica
        .update_offer(offer.id, patch, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    done(
        ctx,
        format,
        &offer,
        "updated",
        &format!("Updated offer {}.", offer.id),
    )
}

pub fn withdraw(ctx: &Ctx, a: OfferWithdrawArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.id)?;
    if offer.owner != replica.org() {
        bail!(
            "offer {} belongs to {}; only its owner can withdraw it",
            offer.id,
            render::org_name(replica.view(), offer.owner)
        );
    }
    if offer.withdrawn {
        return done(
            ctx,
            format,
            &offer,
            "withdrawn",
            &format!("Offer {} was already withdrawn; nothing changed.", offer.id),
        );
    }
    if !a.yes {
        if !ctx.interactive || !std::io::stdin().is_terminal() {
            bail!(
                "withdrawing offer {} cannot be undone and there is no terminal to confirm on; add --yes",
                offer.id
            );
        }
        if !confirm_withdrawal(
            &offer.fields.kind.to_string(),
            &offer.fields.handle,
            &offer.id.to_string(),
        )? {
            ctx.note("Not withdrawn; nothing changed.\n");
            return Ok(());
        }
    }
    replica
        .withdraw_offer(offer.id, ctx.now)
        .map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    done(
        ctx,
        format,
        &offer,
        "withdrawn",
        &format!(
            "Withdrew offer {}. Partners no longer see it; to offer again, publish a new offer.",
            offer.id
        ),
    )
}

pub fn confirm(ctx: &Ctx, a: OfferConfirmArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.id)?;
    if offer.withdrawn {
        bail!(
            "offer {} is withdrawn and cannot be confirmed; publish a new offer instead",
            offer.id
        );
    }
    replica
        .confirm_offer(offer.id, ctx.now, a.expires_in)
        .map_err(|e| ctx.err(e))?;
    let expires = replica
        .view()
        .offer(offer.owner, offer.id)
        .map(|o| o.expires_at);
    let tz = zone(&replica)?;
    replica.close().map_err(|e| ctx.err(e))?;
    let until = expires.map_or_else(String::new, |e| {
        format!("; it now expires {}", render::when(e, ctx.now, &tz))
    });
    done(
        ctx,
        format,
        &offer,
        "confirmed",
        &format!("Confirmed offer {}{until}.", offer.id),
    )
}

pub fn list(ctx: &Ctx, a: OfferListArgs) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    let view = replica.view();
    let me = replica.org();
    let mut offers: Vec<&Offer> = view
        .offers()
        .filter(|o| !a.mine || o.owner == me)
        .filter(|o| a.include_withdrawn || !o.withdrawn)
        .filter(|o| a.include_expired || !render::is_expired(o, ctx.now))
        .filter(|o| {
            a.include_revoked || !crate::commands::revoke::is_revoked_org(&replica, &o.owner)
        })
        .collect();
    offers.sort_by_key(|o| (o.expires_at, o.owner, o.id));
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => render::offers_json(view, &offers, ctx.now)?,
        Format::Csv => render::offers_csv(view, &offers, ctx.now)?,
        _ if offers.is_empty() => {
            "no offers; publish one with `puente offer add` or import a CSV with `puente import`\n"
                .to_string()
        }
        _ => {
            let mut t = Table::new(&[
                "ID",
                "OWNER",
                "KIND",
                "HANDLE",
                "COUNTIES",
                "WINDOWS",
                "STATE",
                "CONFIRMED",
                "EXPIRES",
            ]);
            for o in &offers {
                let live = o.windows.iter().filter(|w| !w.cancelled).count();
                t.row(vec![
                    short(&o.id),
                    render::org_name(view, o.owner),
                    o.fields.kind.to_string(),
                    o.fields.handle.clone(),
                    output::list(&o.fields.counties),
                    live.to_string(),
                    render::state(o, ctx.now).to_string(),
                    time::ago(ctx.now, o.last_confirmed_at),
                    render::when(o.expires_at, ctx.now, &tz),
                ]);
            }
            t.render()
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

pub fn show(ctx: &Ctx, a: IdArg) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.id)?;
    let view = replica.view();
    let tz = zone(&replica)?;
    let holds = view.verdicts(offer.owner, offer.id, ctx.now);
    let text = match format {
        Format::Csv => render::offers_csv(view, &[&offer], ctx.now)?,
        Format::Json => render::offer_json(view, &offer, &holds, ctx.now)?,
        _ => show_table(&replica, &offer, &holds, ctx.now, &tz),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

fn show_table(
    replica: &Replica,
    o: &Offer,
    holds: &[puente_crdt::HoldView],
    now: Time,
    tz: &TimeZone,
) -> String {
    let view = replica.view();
    let f = &o.fields;
    let d = |v: Option<i64>| v.map_or_else(|| "-".to_string(), format_duration);
    let intake = render::intake(view, o.owner);
    let mut s = pairs(&[
        ("offer", o.id.to_string()),
        (
            "owner",
            format!("{} ({})", render::org_name(view, o.owner), o.owner),
        ),
        ("state", render::state(o, now).to_string()),
        ("kind", f.kind.to_string()),
        ("handle", f.handle.clone()),
        ("subject", f.subject.to_string()),
        ("counties", output::list(&f.counties)),
        ("zone", f.zone.clone().unwrap_or_else(|| "-".into())),
        ("languages", render::languages(&f.languages)),
        ("accepts", output::list(&f.accepts)),
        ("affirming", output::list(&f.affirming)),
        ("accessibility", output::list(&f.accessibility)),
        ("household", output::list(&f.household)),
        ("capabilities", output::list(&f.capabilities)),
        ("unit", f.unit.to_string()),
        ("lead time", d(f.lead_time)),
        ("max stay", d(f.max_stay)),
        ("vetting", f.vetting.to_string()),
        ("status", f.status.to_string()),
        (
            "bond band",
            f.bond_band.map_or_else(|| "-".into(), |b| b.to_string()),
        ),
        ("post within", d(f.post_within)),
        (
            "label",
            if f.label.is_empty() {
                "-".into()
            } else {
                f.label.clone()
            },
        ),
        (
            "intake",
            if intake.is_empty() {
                "-".into()
            } else {
                intake
            },
        ),
        ("created", render::when(o.created_at, now, tz)),
        ("confirmed", render::when(o.last_confirmed_at, now, tz)),
        ("expires", render::when(o.expires_at, now, tz)),
    ]);
    s.push('\n');
    if o.windows.is_empty() {
        s.push_str("no windows (a standing offer)\n");
    } else {
        let mut t = Table::new(&[
            "WINDOW",
            "START",
            "END",
            "REPEATS",
            "TOTAL",
            "NEXT",
            "AVAILABLE",
            "STATE",
        ]);
        for w in &o.windows {
            let next = render::window_next(view, o, w, now);
            let state = if w.cancelled {
                "cancelled"
            } else if next.is_none() {
                "ended"
            } else {
                "open"
            };
            t.row(vec![
                w.id.to_string(),
                w.start.local(tz),
                w.end.local(tz),
                if w.weekly { "weekly" } else { "-" }.to_string(),
                w.total.to_string(),
                next.map_or_else(|| "-".into(), |(s, _, _)| render::soonest(Some(s), now, tz)),
                next.map_or_else(|| "-".into(), |(_, _, a)| render::quantity(a, f.unit)),
                state.to_string(),
            ]);
        }
        s.push_str(&t.render());
    }
    s.push('\n');
    if holds.is_empty() {
        s.push_str("no holds on this offer\n");
    } else {
        s.push_str(&holds_table(view, holds, now, tz));
    }
    s
}

/// The table of holds used by `offer show` and `hold list`.
pub fn holds_table(
    view: &puente_crdt::View,
    holds: &[puente_crdt::HoldView],
    now: Time,
    tz: &TimeZone,
) -> String {
    let mut t = Table::new(&[
        "HOLD",
        "OFFER",
        "HANDLE",
        "REQUESTER",
        "OWNER",
        "QTY",
        "FROM",
        "TO",
        "STATUS",
        "EXPIRES",
    ]);
    for h in holds {
        let hold = &h.hold;
        let handle = view
            .offer(hold.owner, hold.offer)
            .map_or_else(|| "-".to_string(), |o| o.fields.handle.clone());
        let expires = match h.status {
            puente_crdt::HoldStatus::Pending | puente_crdt::HoldStatus::Overbooked => {
                render::when(hold.expires_at, now, tz)
            }
            _ => "-".into(),
        };
        t.row(vec![
            short(&hold.id),
            short(&hold.offer),
            handle,
            render::org_name(view, hold.requester),
            render::org_name(view, hold.owner),
            hold.qty.to_string(),
            hold.from.local(tz),
            hold.to.local(tz),
            h.status.as_str().to_string(),
            expires,
        ]);
    }
    t.render()
}

/// Asks on the terminal whether to withdraw the offer `id` (of `kind`, with `handle`); whether
/// the answer was yes. Used on the direct path and by the client before it forwards a
/// withdrawal to a running node.
pub fn confirm_withdrawal(kind: &str, handle: &str, id: &str) -> Result<bool> {
    let answer = output::ask(&format!(
        "Withdraw {kind} offer {handle} ({})? Partners will stop seeing it and this cannot be undone. [y/N] ",
        id.chars().take(8).collect::<String>()
    ))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Prints the outcome of a change to one offer: a record for scripts, or a sentence for people
/// (none with --quiet).
fn done(ctx: &Ctx, format: Format, offer: &Offer, what: &str, sentence: &str) -> Result<()> {
    match format {
        Format::Json => ctx.emit(&output::json(
            &json!({ "offer_id": offer.id.to_string(), what: true }),
        )?),
        Format::Csv => ctx.emit(&output::csv(
            &["offer_id", what],
            &[vec![offer.id.to_string(), "true".into()]],
        )?),
        _ => ctx.say(&format!("{sentence}\n")),
    }
}

/// The offer an id or unique prefix names.
pub fn resolve(ctx: &Ctx, replica: &Replica, text: &str) -> Result<Offer> {
    replica.resolve_offer(text).cloned().map_err(|e| ctx.err(e))
}

/// The window of `offer` an id or unique prefix names.
pub fn resolve_window(offer: &Offer, text: &str) -> Result<WindowId> {
    let t = text.trim().to_ascii_lowercase();
    let found: Vec<WindowId> = offer
        .windows
        .iter()
        .map(|w| w.id)
        .filter(|id| t.len() >= 4 && id.to_string().starts_with(&t))
        .collect();
    match found.as_slice() {
        [id] => Ok(*id),
        [] => bail!(
            "offer {} has no window matching `{}`; see its windows with `puente offer show {}`",
            short(&offer.id),
            text.chars().take(40).collect::<String>(),
            short(&offer.id)
        ),
        _ => bail!("`{text}` matches several windows of this offer; type more of the id"),
    }
}

/// Parses window flags in the organisation's zone.
fn windows(replica: &Replica, now: Time, flag: &str, specs: &[String]) -> Result<Vec<NewWindow>> {
    let tz_name = replica.tz();
    let today = time::local_date(now, &zone(replica)?);
    specs
        .iter()
        .map(|s| {
            parse_window(s, today, tz_name)
                .map_err(|e| anyhow::anyhow!("{flag}: {}", messages::window(&e)))
        })
        .collect()
}

/// The organisation's time zone.
pub fn zone(replica: &Replica) -> Result<TimeZone> {
    time::zone(replica.tz()).map_err(|e| anyhow::anyhow!("{e}; the store's time zone is damaged"))
}
