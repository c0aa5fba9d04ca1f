//! How offers, hits and holds look in each output format. One record shape is used for JSON
//! and CSV (CSV joins lists with `;` and leaves absent values empty), so a script can switch
//! formats without renaming fields.

use jiff::tz::TimeZone;
use puente_crdt::time::{self, format_duration};
use puente_crdt::view::{self, EXPIRY_GRACE_SECS};
use puente_crdt::{Hit, HoldView, LangMode, Language, Offer, OrgId, Time, Unit, View, Window};
use serde_json::{Map, Value, json};

/// The columns of an offer record in CSV, in order.
pub const OFFER_COLUMNS: &[&str] = &[
    "offer_id",
    "owner",
    "owner_name",
    "intake",
    "kind",
    "handle",
    "subject",
    "counties",
    "zone",
    "languages",
    "accepts",
    "affirming",
    "accessibility",
    "household",
    "capabilities",
    "unit",
    "lead_time",
    "max_stay",
    "vetting",
    "status",
    "bond_band",
    "post_within",
    "label",
    "created_at",
    "last_confirmed_at",
    "expires_at",
    "withdrawn",
    "expired",
];

/// The columns of a query hit in CSV: the offer's, then what the query found.
pub const HIT_EXTRA_COLUMNS: &[&str] = &["available", "window_id", "soonest"];

/// The columns of a hold record in CSV, in order.
pub const HOLD_COLUMNS: &[&str] = &[
    "hold_id",
    "offer_id",
    "window_id",
    "handle",
    "requester",
    "requester_name",
    "owner",
    "owner_name",
    "qty",
    "from",
    "to",
    "created_at",
    "expires_at",
    "status",
    "decision",
];

/// Whether an offer is past its expiry (with the same grace the query engine uses).
pub fn is_expired(o: &Offer, now: Time) -> bool {
    now.0 > o.expires_at.0.saturating_add(EXPIRY_GRACE_SECS)
}

/// `active`, `expired` or `withdrawn`.
pub fn state(o: &Offer, now: Time) -> &'static str {
    if o.withdrawn {
        "withdrawn"
    } else if is_expired(o, now) {
        "expired"
    } else {
        "active"
    }
}

/// The owner's display name, or its short id if its profile is unknown.
pub fn org_name(view: &View, org: OrgId) -> String {
    view.profiles()
        .get(&org)
        .map(|p| p.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| crate::output::short(&org))
}

/// The owner's intake route, empty if unknown.
pub fn intake(view: &View, org: OrgId) -> String {
    view.profiles()
        .get(&org)
        .map(|p| p.intake.clone())
        .unwrap_or_default()
}

fn dur(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |s| Value::String(format_duration(s)))
}

fn strs<T: std::fmt::Display>(items: &[T]) -> Value {
    Value::Array(items.iter().map(|i| Value::String(i.to_string())).collect())
}

/// The JSON record of an offer (without windows).
pub fn offer_record(o: &Offer, view: &View, now: Time) -> Map<String, Value> {
    let f = &o.fields;
    let v = json!({
        "offer_id": o.id.to_string(),
        "owner": o.owner.to_string(),
        "owner_name": org_name(view, o.owner),
        "intake": intake(view, o.owner),
        "kind": f.kind.as_str(),
        "handle": f.handle,
        "subject": f.subject.as_str(),
        "counties": strs(&f.counties),
        "zone": f.zone,
        "languages": strs(&f.languages),
        "accepts": strs(&f.accepts),
        "affirming": strs(&f.affirming),
        "accessibility": strs(&f.accessibility),
        "household": strs(&f.household),
        "capabilities": strs(&f.capabilities),
        "unit": f.unit.as_str(),
        "lead_time": dur(f.lead_time),
        "max_stay": dur(f.max_stay),
        "vetting": f.vetting.as_str(),
        "status": f.status.as_str(),
        "bond_band": f.bond_band.map(|b| b.as_str()),
        "post_within": dur(f.post_within),
        "label": f.label,
        "created_at": o.created_at.rfc3339(),
        "last_confirmed_at": o.last_confirmed_at.rfc3339(),
        "expires_at": o.expires_at.rfc3339(),
        "withdrawn": o.withdrawn,
        "expired": is_expired(o, now),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The JSON record of a query hit: the offer plus what is available.
pub fn hit_record(h: &Hit<'_>, view: &View, now: Time) -> Map<String, Value> {
    let mut m = offer_record(h.offer, view, now);
    m.insert("available".into(), json!(h.available));
    m.insert("window_id".into(), json!(h.window.map(|w| w.to_string())));
    m.insert("soonest".into(), json!(h.soonest.map(Time::rfc3339)));
    m
}

/// The next occurrence of a window from `now` on, and the units free over it.
pub fn window_next(view: &View, o: &Offer, w: &Window, now: Time) -> Option<(Time, Time, u32)> {
    if w.cancelled {
        return None;
    }
    let (s, e) = view::occurrences(w, now, Time(i64::MAX), o.expires_at)
        .into_iter()
        .next()?;
    let from = s.max(now);
    (from < e).then(|| (s, e, view.available(o, w, from, e, now)))
}

/// The JSON record of a window.
pub fn window_record(view: &View, o: &Offer, w: &Window, now: Time) -> Value {
    let next = window_next(view, o, w, now);
    json!({
        "window_id": w.id.to_string(),
        "start": w.start.rfc3339(),
        "end": w.end.rfc3339(),
        "tz": w.tz,
        "weekly": w.weekly,
        "total": w.total,
        "cancelled": w.cancelled,
        "next_start": next.map(|(s, _, _)| s.rfc3339()),
        "next_end": next.map(|(_, e, _)| e.rfc3339()),
        "available": next.map(|(_, _, a)| a),
    })
}

/// The JSON record of a hold.
pub fn hold_record(h: &HoldView, view: &View) -> Map<String, Value> {
    let hold = &h.hold;
    let handle = view
        .offer(hold.owner, hold.offer)
        .map(|o| o.fields.handle.clone());
    let v = json!({
        "hold_id": hold.id.to_string(),
        "offer_id": hold.offer.to_string(),
        "window_id": hold.window.to_string(),
        "handle": handle,
        "requester": hold.requester.to_string(),
        "requester_name": org_name(view, hold.requester),
        "owner": hold.owner.to_string(),
        "owner_name": org_name(view, hold.owner),
        "qty": hold.qty,
        "from": hold.from.rfc3339(),
        "to": hold.to.rfc3339(),
        "created_at": hold.created_at.rfc3339(),
        "expires_at": hold.expires_at.rfc3339(),
        "status": h.status.as_str(),
        "decision": h.decision.map(|d| d.as_str()),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A record as a CSV row over `columns`: lists joined with `;`, absent values empty.
pub fn csv_row(m: &Map<String, Value>, columns: &[&str]) -> Vec<String> {
    columns
        .iter()
        .map(|c| match m.get(*c) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(";"),
            Some(other) => other.to_string(),
        })
        .collect()
}

/// Languages as people read them: `es,mam:relay-via-es` (fluent is the default, left out).
pub fn languages(langs: &[Language]) -> String {
    if langs.is_empty() {
        return "-".into();
    }
    langs
        .iter()
        .map(|l| match l.mode {
            LangMode::Fluent => l.tag.clone(),
            m => format!("{}:{m}", l.tag),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A quantity with its unit: `1 room`, `2 beds`, `500 usd`.
pub fn quantity(n: u32, unit: Unit) -> String {
    match unit {
        Unit::Usd => format!("{n} usd"),
        u if n == 1 => format!("1 {u}"),
        u => format!("{n} {u}s"),
    }
}

/// What a hit offers, for the AVAILABLE column.
pub fn available(h: &Hit<'_>) -> String {
    let f = &h.offer.fields;
    let mut s = match (h.available, f.bond_band) {
        (Some(n), _) => quantity(n, f.unit),
        (None, Some(band)) => match f.post_within {
            Some(p) => format!("{band} within {}", short_duration(p)),
            None => band.to_string(),
        },
        (None, None) => "-".into(),
    };
    if f.status != puente_crdt::StatusHint::Capacity {
        s.push_str(&format!(" ({})", f.status));
    }
    s
}

/// A duration as people say it: hours up to three days (`48h`), the largest unit beyond.
pub fn short_duration(secs: i64) -> String {
    if secs % 3_600 == 0 && secs <= 72 * 3_600 {
        format!("{}h", secs / 3_600)
    } else {
        format_duration(secs)
    }
}

/// A local time for tables, or `now` if it has started.
pub fn soonest(t: Option<Time>, now: Time, tz: &TimeZone) -> String {
    match t {
        None => "-".into(),
        Some(t) if t <= now => "now".into(),
        Some(t) => t.local(tz),
    }
}

/// "confirmed 5 h ago".
pub fn freshness(o: &Offer, now: Time) -> String {
    let mut s = format!("confirmed {}", time::ago(now, o.last_confirmed_at));
    match state(o, now) {
        "active" => {}
        other => s.push_str(&format!(" ({other})")),
    }
    s
}

/// A local time followed by how far it is from now: `2026-11-22 09:00 (in 3 d)`.
pub fn when(t: Time, now: Time, tz: &TimeZone) -> String {
    format!("{} ({})", t.local(tz), time::ago(now, t))
}

#[cfg(test)]
mod tests;
