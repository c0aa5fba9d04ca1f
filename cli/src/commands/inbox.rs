//! `puente inbox`: what needs a person at this organisation (the node's
//! [`puente_crdt::inbox`]): holds on our offers waiting for an answer, our holds that came back
//! overbooked or were declined, our offers about to expire. A thin adapter: read, render.

use anyhow::Result;
use puente_crdt::{Inbox, OfferId, Time, View};
use puente_node::replica::Replica;
use serde::Serialize;

use crate::args::{EventsArgs, Format};
use crate::context::Ctx;
use crate::output::{self, Table, short};
use crate::render;

/// One line of the inbox, as JSON and CSV carry it: ids, handles, counts and times only, never
/// a label.
#[derive(Debug, Serialize)]
pub struct InboxRow {
    /// `answer` (a partner's hold on our offer), `our-hold` (ours came back overbooked or
    /// declined) or `expiring` (our offer).
    what: &'static str,
    /// The hold, when there is one.
    hold_id: Option<String>,
    offer_id: String,
    handle: String,
    /// The partner: who placed the hold (`answer`) or owns the offer (`our-hold`).
    partner: Option<String>,
    partner_name: Option<String>,
    qty: Option<u32>,
    /// The hold's verdict (`pending`, `overbooked`, `declined`).
    status: Option<String>,
    /// When the hold lapses (`answer`) or the offer expires (`expiring`).
    deadline: Option<String>,
}

/// The inbox's lines, for JSON and CSV (and `status --format json`).
pub fn rows(view: &View, items: &Inbox) -> Vec<InboxRow> {
    let handle = |id: OfferId| {
        view.offers()
            .find(|o| o.id == id)
            .map_or_else(String::new, |o| o.fields.handle.clone())
    };
    let mut out = Vec::with_capacity(items.len());
    for h in &items.to_answer {
        out.push(InboxRow {
            what: "answer",
            hold_id: Some(h.hold.id.to_string()),
            offer_id: h.hold.offer.to_string(),
            handle: handle(h.hold.offer),
            partner: Some(h.hold.requester.to_string()),
            partner_name: Some(render::org_name(view, h.hold.requester)),
            qty: Some(h.hold.qty),
            status: Some(h.status.as_str().to_string()),
            deadline: Some(h.hold.expires_at.rfc3339()),
        });
    }
    for h in &items.our_holds {
        out.push(InboxRow {
            what: "our-hold",
            hold_id: Some(h.hold.id.to_string()),
            offer_id: h.hold.offer.to_string(),
            handle: handle(h.hold.offer),
            partner: Some(h.hold.owner.to_string()),
            partner_name: Some(render::org_name(view, h.hold.owner)),
            qty: Some(h.hold.qty),
            status: Some(h.status.as_str().to_string()),
            deadline: None,
        });
    }
    for e in &items.expiring {
        out.push(InboxRow {
            what: "expiring",
            hold_id: None,
            offer_id: e.offer.to_string(),
            handle: e.handle.clone(),
            partner: None,
            partner_name: None,
            qty: None,
            status: None,
            deadline: Some(e.expires_at.rfc3339()),
        });
    }
    out
}

/// The inbox as people read it, or `None` when nothing needs anyone.
pub fn text(view: &View, items: &Inbox, now: Time, tz: &jiff::tz::TimeZone) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        t!("col-needs"),
        t!("col-hold"),
        t!("col-offer"),
        t!("col-partner"),
        t!("col-qty"),
        t!("col-when"),
    ]);
    for r in rows(view, items) {
        let needs = match (r.what, r.status.as_deref()) {
            ("answer", Some("overbooked")) => t!("cmd-inbox-answer-overbooked"),
            ("answer", _) => t!("cmd-inbox-answer"),
            ("our-hold", Some(status)) => t!("cmd-inbox-our-hold", status = status),
            ("expiring", _) => t!("cmd-inbox-renew"),
            (other, _) => other.to_string(),
        };
        let when = r
            .deadline
            .as_deref()
            .and_then(|d| d.parse::<jiff::Timestamp>().ok())
            .map_or_else(
                || "-".to_string(),
                |d| {
                    t!(
                        "cmd-inbox-deadline",
                        what = r.what,
                        when = render::when(Time(d.as_second()), now, tz)
                    )
                },
            );
        t.row(vec![
            needs,
            r.hold_id.as_ref().map_or_else(|| "-".into(), short),
            format!("{} {}", short(&r.offer_id), r.handle),
            r.partner_name.unwrap_or_else(|| "-".into()),
            r.qty.map_or_else(|| "-".into(), |q| q.to_string()),
            when,
        ]);
    }
    Some(t.render())
}

/// What needs a person at this organisation at `now` (`puente_crdt::inbox`), leaving out
/// revoked organisations: their holds wait for no answer, their answers will not come.
pub fn items(replica: &Replica, now: Time) -> Inbox {
    puente_crdt::inbox(replica.view(), replica.org(), now)
        .without(|org| crate::commands::revoke::is_revoked_org(replica, &org))
}

pub fn show(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    let view = replica.view();
    let items = items(&replica, ctx.now);
    let tz = crate::commands::offer::zone(&replica)?;
    let out = match format {
        Format::Json => output::json(&rows(view, &items))?,
        Format::Csv => output::csv_serialized(
            &[
                "what",
                "hold_id",
                "offer_id",
                "handle",
                "partner",
                "partner_name",
                "qty",
                "status",
                "deadline",
            ],
            &rows(view, &items),
        )?,
        _ => text(view, &items, ctx.now, &tz)
            .unwrap_or_else(|| format!("{}\n", t!("cmd-inbox-empty"))),
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&out)
}

/// One thing that needs a person, as `puente events` and `puente run` report it: kinds, ids,
/// the offer's handle and a deadline; never a label, a note or a partner's free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// `hold-to-answer`, `our-hold-overbooked`, `our-hold-declined` or `offer-expiring`.
    pub event: &'static str,
    /// The hold, for the hold events.
    pub hold_id: Option<String>,
    /// The offer.
    pub offer_id: String,
    /// The offer's handle.
    pub handle: String,
    /// When the hold lapses or the offer expires (RFC 3339), where there is such a time.
    pub deadline: Option<String>,
}

impl Event {
    /// One line as people read it, e.g. for `puente run`'s output.
    pub fn sentence(&self) -> String {
        let hold = self.hold_id.as_ref().map_or_else(String::new, short);
        let offer = format!("{} ({})", self.handle, short(&self.offer_id));
        t!("cmd-event", event = self.event, hold = hold, offer = offer)
    }
}

/// The events of `items`, in the inbox's order.
pub fn events_of(view: &View, items: &Inbox) -> Vec<Event> {
    rows(view, items)
        .into_iter()
        .map(|r| Event {
            event: match (r.what, r.status.as_deref()) {
                ("answer", _) => "hold-to-answer",
                ("our-hold", Some("declined")) => "our-hold-declined",
                ("our-hold", _) => "our-hold-overbooked",
                _ => "offer-expiring",
            },
            hold_id: r.hold_id,
            offer_id: r.offer_id,
            handle: r.handle,
            deadline: r.deadline,
        })
        .collect()
}

/// `event` as one line of `format`: JSON lines for scripts, else the sentence.
pub fn event_line(event: &Event, format: Format) -> Result<String> {
    Ok(match format {
        Format::Json => format!("{}\n", serde_json::to_string(event)?),
        _ => format!("{}\n", event.sentence()),
    })
}

/// `puente events`: what needs a person now, one line each. `--follow` is served by the
/// running node (see the control socket), which keeps the connection open.
pub fn events(ctx: &Ctx, a: EventsArgs) -> Result<()> {
    // Lines of sentences or of JSON: there is no CSV of a stream of events.
    let format = ctx.format_table_or_json()?;
    if a.follow {
        anyhow::bail!(t!("cmd-events-follow-needs-node"));
    }
    let replica = ctx.open_read_only()?;
    let view = replica.view();
    let items = items(&replica, ctx.now);
    let mut out = String::new();
    for e in events_of(view, &items) {
        out.push_str(&event_line(&e, format)?);
    }
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&out)
}

/// Watches a running node's inbox and hands out only what is new: `puente run`'s lines and
/// `events --follow` both use it. "Now" runs on from the `now` it started with, so
/// `PUENTE_NOW` holds for watchers too.
#[derive(Debug)]
pub struct Watcher {
    started: std::time::Instant,
    start_now: Time,
    seen: std::collections::BTreeSet<(&'static str, Option<String>, String)>,
}

impl Watcher {
    /// Nothing seen yet: the first look reports everything that needs a person.
    pub fn new(now: Time) -> Self {
        Self {
            started: std::time::Instant::now(),
            start_now: now,
            seen: std::collections::BTreeSet::new(),
        }
    }

    /// The events that appeared since the last look; `None` when the node is gone. An item
    /// that left (answered, lapsed) is news again if it comes back.
    pub async fn news(&mut self, node: &puente_node::actor::Node) -> Option<Vec<Event>> {
        let now = Time(
            self.start_now
                .0
                .saturating_add(self.started.elapsed().as_secs() as i64),
        );
        let events = node
            .with_control(move |control| {
                let replica = control.replica();
                let items = items(replica, now);
                events_of(replica.view(), &items)
            })
            .await
            .ok()?;
        let mut current = std::collections::BTreeSet::new();
        let mut fresh = Vec::new();
        for e in events {
            let key = (e.event, e.hold_id.clone(), e.offer_id.clone());
            if !self.seen.contains(&key) {
                fresh.push(e);
            }
            current.insert(key);
        }
        self.seen = current;
        Some(fresh)
    }
}
