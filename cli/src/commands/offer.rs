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
            "{}\n",
            t!(
                "cmd-offer-add-revoked",
                sentence = revoked.sentence(ctx.now, &tz)
            )
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
            let sentence = match (stored.as_ref(), expires) {
                (Some(o), Some(e)) => t!(
                    "cmd-offer-published",
                    kind = o.fields.kind.to_string(),
                    handle = o.fields.handle.as_str(),
                    when = render::when(e, ctx.now, &tz)
                ),
                _ => t!("cmd-offer-published-unknown"),
            };
            // The id alone on the last line, even with --quiet, so that scripts can capture it.
            ctx.say(&format!("{sentence}\n"))?;
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
            bail!(t!("cmd-offer-clear-contradicts", flag = flag));
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
        bail!(t!("cmd-offer-update-nothing"));
    }
    if offer.withdrawn {
        bail!(t!("cmd-offer-update-withdrawn", id = offer.id.to_string()));
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
        &t!("cmd-offer-updated", id = offer.id.to_string()),
    )
}

pub fn withdraw(ctx: &Ctx, a: OfferWithdrawArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.id)?;
    if offer.owner != replica.org() {
        bail!(t!(
            "cmd-offer-withdraw-not-owner",
            id = offer.id.to_string(),
            owner = render::org_name(replica.view(), offer.owner)
        ));
    }
    if offer.withdrawn {
        return done(
            ctx,
            format,
            &offer,
            "withdrawn",
            &t!("cmd-offer-already-withdrawn", id = offer.id.to_string()),
        );
    }
    if !a.yes {
        if !ctx.interactive || !std::io::stdin().is_terminal() {
            bail!(t!(
                "cmd-offer-withdraw-no-terminal",
                id = offer.id.to_string()
            ));
        }
        if !confirm_withdrawal(
            &offer.fields.kind.to_string(),
            &offer.fields.handle,
            &offer.id.to_string(),
        )? {
            ctx.note(&format!("{}\n", t!("cmd-offer-not-withdrawn")));
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
        &t!("cmd-offer-withdrawn", id = offer.id.to_string()),
    )
}

pub fn confirm(ctx: &Ctx, a: OfferConfirmArgs) -> Result<()> {
    let format = ctx.format()?;
    let mut replica = ctx.open()?;
    let offer = resolve(ctx, &replica, &a.id)?;
    if offer.withdrawn {
        bail!(t!("cmd-offer-confirm-withdrawn", id = offer.id.to_string()));
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
    let sentence = match expires {
        Some(e) => t!(
            "cmd-offer-confirmed-until",
            id = offer.id.to_string(),
            when = render::when(e, ctx.now, &tz)
        ),
        None => t!("cmd-offer-confirmed", id = offer.id.to_string()),
    };
    done(ctx, format, &offer, "confirmed", &sentence)
}

pub fn list(ctx: &Ctx, a: OfferListArgs) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
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
        _ if offers.is_empty() => format!("{}\n", t!("cmd-offer-list-none")),
        _ => {
            let mut t = Table::new(&[
                t!("col-id"),
                t!("col-owner"),
                t!("col-kind"),
                t!("col-handle"),
                t!("col-counties"),
                t!("col-windows"),
                t!("col-state"),
                t!("col-last-confirmed"),
                t!("col-expires"),
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
                    render::state_text(o, ctx.now),
                    render::ago(ctx.now, o.last_confirmed_at),
                    render::when(o.expires_at, ctx.now, &tz),
                ]);
            }
            t.render()
        }
    };
    // Freeing the view of every offer is not worth waiting for when the process ends next.
    replica.close_at_exit().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

pub fn show(ctx: &Ctx, a: IdArg) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
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
        (t!("cmd-offer-key-offer"), o.id.to_string()),
        (
            t!("cmd-offer-key-owner"),
            format!("{} ({})", render::org_name(view, o.owner), o.owner),
        ),
        (t!("cmd-offer-key-state"), render::state_text(o, now)),
        (t!("cmd-offer-key-kind"), f.kind.to_string()),
        (t!("cmd-offer-key-handle"), f.handle.clone()),
        (t!("cmd-offer-key-subject"), f.subject.to_string()),
        (t!("rows-key-counties"), output::list(&f.counties)),
        (
            t!("cmd-offer-key-zone"),
            f.zone.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            t!("cmd-offer-key-languages"),
            render::languages(&f.languages),
        ),
        (t!("cmd-offer-key-accepts"), output::list(&f.accepts)),
        (t!("cmd-offer-key-affirming"), output::list(&f.affirming)),
        (
            t!("cmd-offer-key-accessibility"),
            output::list(&f.accessibility),
        ),
        (t!("cmd-offer-key-household"), output::list(&f.household)),
        (
            t!("cmd-offer-key-capabilities"),
            output::list(&f.capabilities),
        ),
        (t!("cmd-offer-key-unit"), f.unit.to_string()),
        (t!("cmd-offer-key-lead-time"), d(f.lead_time)),
        (t!("cmd-offer-key-max-stay"), d(f.max_stay)),
        (t!("cmd-offer-key-vetting"), f.vetting.to_string()),
        (t!("cmd-offer-key-status"), f.status.to_string()),
        (
            t!("cmd-offer-key-bond-band"),
            f.bond_band.map_or_else(|| "-".into(), |b| b.to_string()),
        ),
        (t!("cmd-offer-key-post-within"), d(f.post_within)),
        (
            t!("cmd-offer-key-label"),
            if f.label.is_empty() {
                "-".into()
            } else {
                f.label.clone()
            },
        ),
        (
            t!("rows-key-intake"),
            if intake.is_empty() {
                "-".into()
            } else {
                intake
            },
        ),
        (
            t!("cmd-offer-key-created"),
            render::when(o.created_at, now, tz),
        ),
        (
            t!("cmd-offer-key-confirmed"),
            render::when(o.last_confirmed_at, now, tz),
        ),
        (
            t!("cmd-offer-key-expires"),
            render::when(o.expires_at, now, tz),
        ),
    ]);
    s.push('\n');
    if o.windows.is_empty() {
        s.push_str(&format!("{}\n", t!("cmd-offer-no-windows")));
    } else {
        let mut t = Table::new(&[
            t!("col-window"),
            t!("col-start"),
            t!("col-end"),
            t!("col-repeats"),
            t!("col-total"),
            t!("col-next"),
            t!("col-available"),
            t!("col-state"),
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
                if w.weekly {
                    t!("cmd-offer-window-weekly")
                } else {
                    "-".to_string()
                },
                w.total.to_string(),
                next.map_or_else(|| "-".into(), |(s, _, _)| render::soonest(Some(s), now, tz)),
                next.map_or_else(|| "-".into(), |(_, _, a)| render::quantity(a, f.unit)),
                t!("cmd-offer-window-state", state = state),
            ]);
        }
        s.push_str(&t.render());
    }
    s.push('\n');
    if holds.is_empty() {
        s.push_str(&format!("{}\n", t!("cmd-offer-no-holds")));
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
        t!("col-hold"),
        t!("col-offer"),
        t!("col-handle"),
        t!("col-requester"),
        t!("col-owner"),
        t!("col-qty"),
        t!("col-from"),
        t!("col-to"),
        t!("col-status"),
        t!("col-expires"),
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
            render::hold_status(h.status.as_str()),
            expires,
        ]);
    }
    t.render()
}

/// Asks on the terminal whether to withdraw the offer `id` (of `kind`, with `handle`); whether
/// the answer was yes. Used on the direct path and by the client before it forwards a
/// withdrawal to a running node.
pub fn confirm_withdrawal(kind: &str, handle: &str, id: &str) -> Result<bool> {
    let prompt = t!(
        "cmd-offer-withdraw-ask",
        kind = kind,
        handle = handle,
        id = id.chars().take(8).collect::<String>()
    );
    // A prompt ends with a space, where the answer is typed.
    let answer = output::ask(&format!("{prompt} "))?;
    let answer = answer.trim().to_lowercase();
    // English answers always count; the current language adds its own (`s`, `sí`).
    let yes = t!("cmd-offer-withdraw-yes");
    Ok(
        matches!(answer.as_str(), "y" | "yes")
            || yes.split(',').map(str::trim).any(|w| w == answer),
    )
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
        [] => bail!(t!(
            "cmd-offer-no-window",
            id = short(&offer.id),
            window = text.chars().take(40).collect::<String>()
        )),
        _ => bail!(t!("cmd-offer-several-windows", window = text)),
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
    time::zone(replica.tz())
        .map_err(|e| anyhow::anyhow!(t!("cmd-offer-zone-damaged", reason = e.to_string())))
}
