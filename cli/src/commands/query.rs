//! `puente query`: the coordinator's questions, answered by the query engine of
//! `puente-crdt` over every partition this node holds.

use anyhow::{Result, bail};
use puente_crdt::{OrgId, Query, View};

use crate::args::{Format, QueryArgs};
use crate::commands::offer::zone;
use crate::context::{Ctx, instant};
use crate::output::{Table, list, short};
use crate::render;

pub fn query(ctx: &Ctx, a: QueryArgs) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    let view = replica.view();
    let tz_name = replica.tz().to_string();
    let from = a
        .from
        .as_deref()
        .map(|t| instant("--from", t, ctx.now, &tz_name))
        .transpose()?;
    let to =
        a.to.as_deref()
            .map(|t| instant("--to", t, ctx.now, &tz_name))
            .transpose()?;
    if let Some(t) = to
        && t <= from.unwrap_or(ctx.now)
    {
        bail!(t!("cmd-query-to-before-from"));
    }
    let owner = a
        .owner
        .as_deref()
        .map(|o| resolve_org(view, o))
        .transpose()?;
    let q = Query {
        kinds: a.kind,
        counties: a.county,
        zones: a.zone,
        languages: a.lang,
        accepts: a.accepts,
        affirming: a.affirming,
        accessibility: a.accessibility,
        capabilities: a.capability,
        subject: a.subject,
        from,
        to,
        qty: a.qty,
        owner,
        fresh_within: a.fresh_within,
        min_usd: a.min_usd,
        post_within: a.post_within,
        include_expired: a.include_expired,
        include_withdrawn: a.include_withdrawn,
    };
    let mut hits = view.query(&q, ctx.now);
    if !a.include_revoked {
        hits.retain(|h| !crate::commands::revoke::is_revoked_org(&replica, &h.offer.owner));
    }
    if let Some(n) = a.limit {
        hits.truncate(n);
    }
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => render::hits_json(view, &hits, ctx.now)?,
        Format::Csv => render::hits_csv(view, &hits, ctx.now)?,
        _ if hits.is_empty() => format!("{}\n", t!("cmd-query-none")),
        _ => {
            let mut t = Table::new(&[
                t!("col-id"),
                t!("col-owner"),
                t!("col-kind"),
                t!("col-handle"),
                t!("col-counties"),
                t!("col-languages"),
                t!("col-available"),
                t!("col-soonest"),
                t!("col-freshness"),
                t!("col-intake"),
            ]);
            for h in &hits {
                let o = h.offer;
                let intake = render::intake(view, o.owner);
                t.row(vec![
                    short(&o.id),
                    render::org_name(view, o.owner),
                    o.fields.kind.to_string(),
                    o.fields.handle.clone(),
                    list(&o.fields.counties),
                    render::languages(&o.fields.languages),
                    render::available(h),
                    render::soonest(h.soonest, ctx.now, &tz),
                    render::freshness(o, ctx.now),
                    if intake.is_empty() {
                        "-".into()
                    } else {
                        intake
                    },
                ]);
            }
            t.render()
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

/// An organisation by full id, unique id prefix, or display name (case-insensitive).
fn resolve_org(view: &View, text: &str) -> Result<OrgId> {
    let t = text.trim();
    if let Ok(id) = t.parse::<OrgId>() {
        return Ok(id);
    }
    let lower = t.to_ascii_lowercase();
    let by_name: Vec<OrgId> = view
        .profiles()
        .iter()
        .filter(|(_, p)| p.name.eq_ignore_ascii_case(t))
        .map(|(id, _)| *id)
        .collect();
    if let [id] = by_name.as_slice() {
        return Ok(*id);
    }
    let by_prefix: Vec<OrgId> = view
        .profiles()
        .keys()
        .filter(|id| lower.len() >= 4 && id.to_string().starts_with(&lower))
        .copied()
        .collect();
    match by_prefix.as_slice() {
        [id] => Ok(*id),
        [] => bail!(t!(
            "cmd-query-no-owner",
            owner = t.chars().take(40).collect::<String>()
        )),
        _ => bail!(t!("cmd-query-several-owners", owner = t)),
    }
}
