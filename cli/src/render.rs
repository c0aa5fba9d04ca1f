//! How offers, hits and holds look in each output format. An offer's fields come from the one
//! field table of `puente_crdt::fields`; each record is a typed row that serializes to JSON and
//! gives its CSV cells in the same order as its columns. One record shape is used for JSON and
//! CSV (CSV joins lists with `;` and leaves absent values empty), so a script can switch formats
//! without renaming fields.
//!
//! Boundary: nothing here opens the store or writes to standard output; commands hand over
//! what the view holds and print the text these functions return.

use anyhow::Result;
use jiff::tz::TimeZone;
use puente_crdt::fields::{self, LISTING_COLUMNS, Record, names};
use puente_crdt::time::format_duration;
use puente_crdt::view;
use puente_crdt::{
    Hit, HoldId, HoldView, LangMode, Language, Offer, OfferId, OrgId, Time, Unit, View, Window,
    WindowId,
};
use serde::{Serialize, Serializer};

use crate::output;

/// The columns of an offer record in CSV, in order: the field table's listing columns.
pub const OFFER_COLUMNS: [&str; LISTING_COLUMNS.len()] = names(&LISTING_COLUMNS);

/// The columns of a query hit in CSV: the offer's, then what the query found.
pub const HIT_EXTRA_COLUMNS: [&str; 3] = ["available", "window_id", "soonest"];

/// The columns of a hold record in CSV, in order: the fields of [`HoldRow`].
pub const HOLD_COLUMNS: [&str; 15] = [
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
    fields::is_expired(o, now)
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

/// An offer as `offer list`, `offer show` and `query` write it: a record over the field
/// table's listing columns, with the owner's name and intake route as this node knows them.
#[derive(Debug)]
pub struct OfferRow<'a> {
    offer: &'a Offer,
    owner_name: String,
    intake: String,
    now: Time,
}

impl<'a> OfferRow<'a> {
    /// The row of `offer` at `now`.
    pub fn new(offer: &'a Offer, view: &View, now: Time) -> Self {
        OfferRow {
            offer,
            owner_name: org_name(view, offer.owner),
            intake: intake(view, offer.owner),
            now,
        }
    }

    fn record(&self) -> Record<'_> {
        Record {
            offer: self.offer,
            owner_name: &self.owner_name,
            intake: &self.intake,
            now: Some(self.now),
        }
    }

    /// The CSV cells, in the order of [`OFFER_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        self.record().row(&LISTING_COLUMNS).cells()
    }
}

impl Serialize for OfferRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.record().row(&LISTING_COLUMNS).serialize(s)
    }
}

/// An offer with its windows, as `offer list --format json` writes it, and with the holds on
/// it as `offer show --format json` writes it.
#[derive(Debug, Serialize)]
pub struct OfferDetail<'a> {
    /// The offer's record.
    #[serde(flatten)]
    pub offer: OfferRow<'a>,
    /// Its windows, in stored order.
    pub windows: Vec<WindowRow<'a>>,
    /// The holds on it (`offer show` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds: Option<Vec<HoldRow>>,
}

impl<'a> OfferDetail<'a> {
    /// The offer with its windows at `now`, without holds.
    pub fn new(offer: &'a Offer, view: &View, now: Time) -> Self {
        OfferDetail {
            offer: OfferRow::new(offer, view, now),
            windows: offer
                .windows
                .iter()
                .map(|w| WindowRow::new(view, offer, w, now))
                .collect(),
            holds: None,
        }
    }
}

/// A window as JSON shows it, with its next occurrence from now and the units free then.
#[derive(Debug, Serialize)]
pub struct WindowRow<'a> {
    window_id: WindowId,
    start: String,
    end: String,
    tz: &'a str,
    weekly: bool,
    total: u32,
    cancelled: bool,
    next_start: Option<String>,
    next_end: Option<String>,
    available: Option<u32>,
}

impl<'a> WindowRow<'a> {
    /// The row of window `w` of offer `o` at `now`.
    pub fn new(view: &View, o: &Offer, w: &'a Window, now: Time) -> Self {
        let next = window_next(view, o, w, now);
        WindowRow {
            window_id: w.id,
            start: w.start.rfc3339(),
            end: w.end.rfc3339(),
            tz: &w.tz,
            weekly: w.weekly,
            total: w.total,
            cancelled: w.cancelled,
            next_start: next.map(|(s, _, _)| s.rfc3339()),
            next_end: next.map(|(_, e, _)| e.rfc3339()),
            available: next.map(|(_, _, a)| a),
        }
    }
}

/// A query hit: the offer's record, then what the query found.
#[derive(Debug, Serialize)]
pub struct HitRow<'a> {
    /// The offer's record.
    #[serde(flatten)]
    pub offer: OfferRow<'a>,
    /// Units available over the asked range, `None` for a standing offer.
    pub available: Option<u32>,
    /// The window that gives that availability.
    pub window_id: Option<WindowId>,
    /// When that availability starts.
    pub soonest: Option<String>,
}

impl<'a> HitRow<'a> {
    /// The row of hit `h` at `now`.
    pub fn new(h: &Hit<'a>, view: &View, now: Time) -> Self {
        HitRow {
            offer: OfferRow::new(h.offer, view, now),
            available: h.available,
            window_id: h.window,
            soonest: h.soonest.map(Time::rfc3339),
        }
    }

    /// The CSV cells: the offer's, then those of [`HIT_EXTRA_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        let mut cells = self.offer.cells();
        cells.push(self.available.map(|a| a.to_string()).unwrap_or_default());
        cells.push(self.window_id.map(|w| w.to_string()).unwrap_or_default());
        cells.push(self.soonest.clone().unwrap_or_default());
        cells
    }
}

/// A hold with its verdict, as `hold list` and `offer show` write it. Its fields, in order,
/// are [`HOLD_COLUMNS`].
#[derive(Debug, Serialize)]
pub struct HoldRow {
    hold_id: HoldId,
    offer_id: OfferId,
    window_id: WindowId,
    handle: Option<String>,
    requester: OrgId,
    requester_name: String,
    owner: OrgId,
    owner_name: String,
    qty: u32,
    from: String,
    to: String,
    created_at: String,
    expires_at: String,
    status: &'static str,
    decision: Option<&'static str>,
}

impl HoldRow {
    /// The row of hold `h`.
    pub fn new(h: &HoldView, view: &View) -> Self {
        let hold = &h.hold;
        HoldRow {
            hold_id: hold.id,
            offer_id: hold.offer,
            window_id: hold.window,
            handle: view
                .offer(hold.owner, hold.offer)
                .map(|o| o.fields.handle.clone()),
            requester: hold.requester,
            requester_name: org_name(view, hold.requester),
            owner: hold.owner,
            owner_name: org_name(view, hold.owner),
            qty: hold.qty,
            from: hold.from.rfc3339(),
            to: hold.to.rfc3339(),
            created_at: hold.created_at.rfc3339(),
            expires_at: hold.expires_at.rfc3339(),
            status: h.status.as_str(),
            decision: h.decision.map(|d| d.as_str()),
        }
    }
}

/// Offers as `offer list --format json` writes them: each with its windows.
pub fn offers_json(view: &View, offers: &[&Offer], now: Time) -> Result<String> {
    let rows: Vec<OfferDetail<'_>> = offers
        .iter()
        .map(|o| OfferDetail::new(o, view, now))
        .collect();
    output::json(&rows)
}

/// Offers as `offer list --format csv` and `offer show --format csv` write them.
pub fn offers_csv(view: &View, offers: &[&Offer], now: Time) -> Result<String> {
    let rows: Vec<Vec<String>> = offers
        .iter()
        .map(|o| OfferRow::new(o, view, now).cells())
        .collect();
    output::csv(&OFFER_COLUMNS, &rows)
}

/// One offer as `offer show --format json` writes it: with its windows and `holds`.
pub fn offer_json(view: &View, offer: &Offer, holds: &[HoldView], now: Time) -> Result<String> {
    let mut detail = OfferDetail::new(offer, view, now);
    detail.holds = Some(holds.iter().map(|h| HoldRow::new(h, view)).collect());
    output::json(&detail)
}

/// Query hits as `query --format json` writes them.
pub fn hits_json(view: &View, hits: &[Hit<'_>], now: Time) -> Result<String> {
    let rows: Vec<HitRow<'_>> = hits.iter().map(|h| HitRow::new(h, view, now)).collect();
    output::json(&rows)
}

/// Query hits as `query --format csv` writes them.
pub fn hits_csv(view: &View, hits: &[Hit<'_>], now: Time) -> Result<String> {
    let columns: Vec<&str> = OFFER_COLUMNS
        .iter()
        .chain(&HIT_EXTRA_COLUMNS)
        .copied()
        .collect();
    let rows: Vec<Vec<String>> = hits
        .iter()
        .map(|h| HitRow::new(h, view, now).cells())
        .collect();
    output::csv(&columns, &rows)
}

/// Holds as `hold list --format json` writes them.
pub fn holds_json(view: &View, holds: &[HoldView]) -> Result<String> {
    let rows: Vec<HoldRow> = holds.iter().map(|h| HoldRow::new(h, view)).collect();
    output::json(&rows)
}

/// Holds as `hold list --format csv` writes them.
pub fn holds_csv(view: &View, holds: &[HoldView]) -> Result<String> {
    let rows: Vec<HoldRow> = holds.iter().map(|h| HoldRow::new(h, view)).collect();
    output::csv_serialized(&HOLD_COLUMNS, &rows)
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

/// A quantity with its unit, in the current language: `1 room`, `2 beds`, `500 usd`.
pub fn quantity(n: u32, unit: Unit) -> String {
    t!("rows-quantity", count = n, unit = unit.to_string())
}

/// What a hit offers, for the AVAILABLE column.
pub fn available(h: &Hit<'_>) -> String {
    let f = &h.offer.fields;
    let mut s = match (h.available, f.bond_band) {
        (Some(n), _) => quantity(n, f.unit),
        (None, Some(band)) => match f.post_within {
            Some(p) => t!(
                "rows-bond-within",
                band = band.to_string(),
                duration = short_duration(p)
            ),
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
        Some(t) if t <= now => t!("rows-now"),
        Some(t) => t.local(tz),
    }
}

/// "confirmed 5 h ago", and the state when the offer is not active.
pub fn freshness(o: &Offer, now: Time) -> String {
    let ago = ago(now, o.last_confirmed_at);
    match state(o, now) {
        "active" => t!("rows-freshness", ago = ago),
        other => t!("rows-freshness-state", ago = ago, state = state_word(other)),
    }
}

/// [`state`] as people read it, in the current language.
pub fn state_text(o: &Offer, now: Time) -> String {
    state_word(state(o, now))
}

/// An offer's state (`active`, `expired`, `withdrawn`) as people read it.
pub fn state_word(state: &str) -> String {
    remembered(Said::State(state.to_string()), || {
        t!("rows-offer-state", state = state)
    })
}

/// A few words that listings repeat on every row, as [`remembered`] keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Said {
    /// [`state_word`] of this state.
    State(String),
    /// [`ago`]: in the future (0), just now (1) or past (2), with the count and unit.
    Ago(u8, i64, &'static str),
}

/// Most sentences [`remembered`] keeps per thread: far more than a listing's distinct ones,
/// few enough to cost nothing.
const REMEMBERED_MAX: usize = 4096;

std::thread_local! {
    static REMEMBERED: std::cell::RefCell<
        std::collections::HashMap<(crate::i18n::Lang, Said), String>,
    > = std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The words `said` in the current language, formatted by `make` the first time on this
/// thread: a listing of 100,000 offers says "active" and "in 13 d" a few dozen distinct ways,
/// and formatting each again with Fluent took a tenth of `offer list`.
fn remembered(said: Said, make: impl FnOnce() -> String) -> String {
    let key = (crate::i18n::current(), said);
    if let Some(hit) = REMEMBERED.with(|m| m.borrow().get(&key).cloned()) {
        return hit;
    }
    let text = make();
    REMEMBERED.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= REMEMBERED_MAX {
            m.clear();
        }
        m.insert(key, text.clone());
    });
    text
}

/// A hold's status (`pending`, `overbooked` ...) as people read it.
pub fn hold_status(status: &str) -> String {
    t!("rows-hold-status", status = status)
}

/// How far `then` is from `now`, as people say it: "just now", "5 h ago", "in 3 d" (the
/// same steps as [`puente_crdt::time::ago`], in the current language).
pub fn ago(now: Time, then: Time) -> String {
    let d = now.0.saturating_sub(then.0);
    let (count, unit) = coarse(d.saturating_abs());
    if d < 0 {
        remembered(Said::Ago(0, count, unit), || {
            t!("rows-in", count = count, unit = unit)
        })
    } else if d < 60 {
        remembered(Said::Ago(1, 0, ""), || t!("rows-just-now"))
    } else {
        remembered(Said::Ago(2, count, unit), || {
            t!("rows-ago", count = count, unit = unit)
        })
    }
}

/// A span as a count and the symbol of its unit (`min`, `h`, `d`), the same in every language.
fn coarse(secs: i64) -> (i64, &'static str) {
    if secs < 3_600 {
        ((secs / 60).max(1), "min")
    } else if secs < 2 * 86_400 {
        (secs / 3_600, "h")
    } else {
        (secs / 86_400, "d")
    }
}

/// A local time followed by how far it is from now: `2026-11-22 09:00 (in 3 d)`.
pub fn when(t: Time, now: Time, tz: &TimeZone) -> String {
    format!("{} ({})", t.local(tz), ago(now, t))
}

#[cfg(test)]
mod tests;

/// The words of tables in each language; what JSON and CSV carry stays in `tests.rs`.
#[cfg(test)]
mod words {
    use super::*;
    use crate::i18n::{Lang, scoped};

    #[test]
    fn quantities_and_times_read_in_each_language() {
        let now = Time(1_795_453_200);
        let en = |f: &dyn Fn() -> String| scoped(Lang::En, f);
        let es = |f: &dyn Fn() -> String| scoped(Lang::Es, f);
        assert_eq!(en(&|| quantity(1, Unit::Bed)), "1 bed");
        assert_eq!(en(&|| quantity(0, Unit::Shift)), "0 shifts");
        assert_eq!(es(&|| quantity(1, Unit::Room)), "1 habitación");
        assert_eq!(es(&|| quantity(2, Unit::Room)), "2 habitaciones");
        assert_eq!(es(&|| quantity(500, Unit::Usd)), "500 usd");
        assert_eq!(en(&|| ago(now, now.plus(-30))), "just now");
        assert_eq!(en(&|| ago(now, now.plus(-7_200))), "2 h ago");
        assert_eq!(en(&|| ago(now, now.plus(3 * 86_400))), "in 3 d");
        assert_eq!(es(&|| ago(now, now.plus(-90))), "hace 1 min");
        assert_eq!(es(&|| ago(now, now.plus(3 * 86_400))), "en 3 d");
        // The same steps as the library's English words.
        for d in [
            -200_000, -7_200, -61, -59, 0, 59, 61, 3_599, 3_600, 172_799, 172_800,
        ] {
            assert_eq!(
                en(&|| ago(now, now.plus(d))),
                puente_crdt::time::ago(now, now.plus(d)),
                "{d}"
            );
        }
        assert_eq!(es(&|| hold_status("overbooked")), "sobrerreservada");
        assert_eq!(en(&|| hold_status("overbooked")), "overbooked");
        assert_eq!(es(&|| state_word("withdrawn")), "retirada");
        assert_eq!(es(&|| state_word("something-new")), "something-new");
    }
}
