//! The union view over every partition: what queries, hold verdicts and exports read.
//!
//! The view is derived state: it is rebuilt from partitions at start-up and updated for the
//! records each applied change touched. Keys carry the owning organisation, so a hostile
//! partner that copies another organisation's offer id into its own partition creates a
//! separate record that holds against the real offer never match.
//!
//! Invariant: every replica holding the same changes computes the same verdicts for the same
//! `now`: holds on a window are ordered by (created-at, requester organisation, hold id) and
//! accepted greedily up to the window's total; the rest are overbooked until the owner decides.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::ids::{HoldId, OfferId, OrgId, WindowId};
use crate::partition::{Partition, RecordIssue, Touched};
use crate::schema::{County, Hold, LanguageQuery, Offer, OrgProfile, Window};
use crate::time::{self, Time};
use crate::vocab::{
    Accepts, Accessibility, Affirming, BondBand, Capability, Decision, Kind, StatusHint,
    SubjectType,
};

/// How far past `expires_at` an offer or hold is still treated as live. Expiry is the one rule
/// that reads a clock (the local one, passed in as `now`); this grace absorbs ordinary clock
/// skew between partners so that an offer does not flicker on one laptop and not another.
pub const EXPIRY_GRACE_SECS: i64 = 10 * 60;

/// The most occurrences of a weekly window that one query looks at (ten years of weeks): a
/// bound so that no stored record can make a query loop for long.
pub const MAX_OCCURRENCES: usize = 520;

/// Where a hold stands after every replica has applied the same rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldStatus {
    /// The owner confirmed it.
    Confirmed,
    /// Within capacity, waiting for the owner's answer.
    Pending,
    /// Beyond capacity given earlier holds; waits for the owner to confirm or decline.
    Overbooked,
    /// The owner declined it.
    Declined,
    /// The requester released it.
    Released,
    /// It lapsed without an answer.
    Expired,
    /// It names a window or interval that the offer does not have.
    Invalid,
}

impl HoldStatus {
    /// The status as people read it.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Confirmed => "confirmed",
            HoldStatus::Pending => "pending",
            HoldStatus::Overbooked => "overbooked",
            HoldStatus::Declined => "declined",
            HoldStatus::Released => "released",
            HoldStatus::Expired => "expired",
            HoldStatus::Invalid => "invalid",
        }
    }

    /// Whether the hold takes capacity.
    pub fn counts(self) -> bool {
        matches!(self, HoldStatus::Confirmed | HoldStatus::Pending)
    }
}

/// What a coordinator asks for. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Any of these kinds.
    pub kinds: Vec<Kind>,
    /// Serving any of these counties.
    pub counties: Vec<County>,
    /// In any of these zones (an owner's own zone labels, compared without regard to case).
    pub zones: Vec<String>,
    /// In any of these languages (and modes).
    pub languages: Vec<LanguageQuery>,
    /// Accepting all of these.
    pub accepts: Vec<Accepts>,
    /// Affirming all of these.
    pub affirming: Vec<Affirming>,
    /// With all of these.
    pub accessibility: Vec<Accessibility>,
    /// With all of these.
    pub capabilities: Vec<Capability>,
    /// Of this subject type.
    pub subject: Option<SubjectType>,
    /// Start of the range that must be covered.
    pub from: Option<Time>,
    /// End of the range that must be covered.
    pub to: Option<Time>,
    /// At least this many units available over the whole range.
    pub qty: Option<u32>,
    /// Owned by this organisation.
    pub owner: Option<OrgId>,
    /// Confirmed within this many seconds.
    pub fresh_within: Option<i64>,
    /// Bond funds guaranteeing at least this many dollars.
    pub min_usd: Option<u64>,
    /// Bond funds that can post within this many seconds.
    pub post_within: Option<i64>,
    /// Show expired offers too.
    pub include_expired: bool,
    /// Show withdrawn offers too.
    pub include_withdrawn: bool,
}

/// One answer to a query.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    /// The offer.
    pub offer: &'a Offer,
    /// Units available over the asked range (or from now on), `None` for a standing offer
    /// without windows.
    pub available: Option<u32>,
    /// The window that gives that availability.
    pub window: Option<WindowId>,
    /// When that availability starts.
    pub soonest: Option<Time>,
    /// Whether the offer has expired (only with `include_expired`).
    pub expired: bool,
}

/// A hold with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct HoldView {
    /// The hold.
    pub hold: Hold,
    /// Its status under the shared rule.
    pub status: HoldStatus,
    /// The owner's decision, if any.
    pub decision: Option<Decision>,
}

/// The version of [`View::encode`]'s encoding; a cache of another version is rebuilt. (2: ids
/// as bytes, terms by their place, counties as numbers, and the vocabularies' digest.)
const VIEW_IMAGE_VERSION: u8 = 2;

#[derive(Serialize)]
struct ViewImageRef<'a> {
    version: u8,
    terms: u64,
    offers: Vec<&'a Offer>,
    holds: Vec<&'a Hold>,
    decisions: Vec<(OrgId, HoldId, Decision)>,
    profiles: BTreeMap<&'a OrgId, &'a OrgProfile>,
    issues: BTreeMap<&'a OrgId, &'a BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct ViewImage {
    version: u8,
    terms: u64,
    offers: Vec<Offer>,
    holds: Vec<Hold>,
    decisions: Vec<(OrgId, HoldId, Decision)>,
    profiles: BTreeMap<OrgId, OrgProfile>,
    issues: BTreeMap<OrgId, BTreeMap<String, String>>,
}

/// Offers in a vector, with an index by (owner, id). Queries scan every offer; a vector
/// filled in decode order keeps each offer's heap data (windows, languages) roughly in scan
/// order, where a hash map's order made every offer a cache miss.
#[derive(Debug, Clone, Default)]
struct OfferTable {
    rows: Vec<Offer>,
    index: HashMap<(OrgId, OfferId), usize>,
}

impl OfferTable {
    fn insert(&mut self, o: Offer) {
        let key = (o.owner, o.id);
        match self.index.get(&key) {
            Some(&i) => self.rows[i] = o,
            None => {
                self.index.insert(key, self.rows.len());
                self.rows.push(o);
            }
        }
    }

    /// Adds offers read together. Into an empty table (a partner's first partition, or
    /// start-up) the vector itself becomes the rows, without moving each offer again.
    fn extend(&mut self, offers: Vec<Offer>) {
        if !self.rows.is_empty() {
            self.rows.reserve(offers.len());
            self.index.reserve(offers.len());
            for o in offers {
                self.insert(o);
            }
            return;
        }
        self.rows = offers;
        self.index.clear();
        self.index.reserve(self.rows.len());
        let mut unique = true;
        for (i, o) in self.rows.iter().enumerate() {
            unique &= self.index.insert((o.owner, o.id), i).is_none();
        }
        if !unique {
            // One key twice (not from one partition, whose keys are unique): the later wins,
            // as inserting one by one does.
            let rows = std::mem::take(&mut self.rows);
            self.index.clear();
            for o in rows {
                self.insert(o);
            }
        }
    }

    fn remove(&mut self, key: &(OrgId, OfferId)) -> Option<Offer> {
        let i = self.index.remove(key)?;
        let o = self.rows.swap_remove(i);
        if let Some(moved) = self.rows.get(i) {
            self.index.insert((moved.owner, moved.id), i);
        }
        Some(o)
    }

    fn retain(&mut self, keep: impl Fn(&Offer) -> bool) {
        self.rows.retain(keep);
        self.index = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, o)| ((o.owner, o.id), i))
            .collect();
    }

    fn get(&self, key: &(OrgId, OfferId)) -> Option<&Offer> {
        self.index.get(key).map(|&i| &self.rows[i])
    }

    fn values(&self) -> std::slice::Iter<'_, Offer> {
        self.rows.iter()
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

/// The union of every partition.
#[derive(Debug, Clone, Default)]
pub struct View {
    offers: OfferTable,
    holds: HashMap<(OrgId, HoldId), Hold>,
    decisions: HashMap<(OrgId, HoldId), Decision>,
    profiles: BTreeMap<OrgId, OrgProfile>,
    holds_on: HashMap<(OrgId, OfferId), BTreeSet<(OrgId, HoldId)>>,
    issues: BTreeMap<OrgId, BTreeMap<String, String>>,
}

impl View {
    /// An empty view.
    pub fn new() -> Self {
        View::default()
    }

    /// Re-reads what `touched` names from `partition`.
    pub fn refresh(&mut self, partition: &Partition, touched: &Touched) {
        if touched.is_empty() {
            return;
        }
        let org = partition.org();
        if touched.all {
            self.clear_org(org);
        } else {
            if touched.profile {
                self.profiles.remove(&org);
            }
            for id in &touched.offers {
                self.offers.remove(&(org, *id));
            }
            for id in &touched.holds {
                self.remove_hold(org, *id);
            }
            for id in &touched.decisions {
                self.decisions.remove(&(org, *id));
            }
        }
        let c = partition.contents_of(touched);
        if let Some(p) = c.profile {
            self.profiles.insert(org, p);
        }
        self.offers.extend(c.offers);
        for h in c.holds {
            self.holds_on
                .entry((h.owner, h.offer))
                .or_default()
                .insert((org, h.id));
            self.holds.insert((org, h.id), h);
        }
        for (id, d) in c.decisions {
            self.decisions.insert((org, id), d);
        }
        let issues = self.issues.entry(org).or_default();
        for RecordIssue { key, reason } in c.issues {
            issues.insert(key, reason);
        }
    }

    fn remove_hold(&mut self, org: OrgId, id: HoldId) {
        if let Some(h) = self.holds.remove(&(org, id))
            && let Some(set) = self.holds_on.get_mut(&(h.owner, h.offer))
        {
            set.remove(&(org, id));
        }
    }

    fn clear_org(&mut self, org: OrgId) {
        self.profiles.remove(&org);
        self.offers.retain(|o| o.owner != org);
        let ids: Vec<HoldId> = self
            .holds
            .keys()
            .filter(|(o, _)| *o == org)
            .map(|(_, id)| *id)
            .collect();
        for id in ids {
            self.remove_hold(org, id);
        }
        self.decisions.retain(|(o, _), _| *o != org);
        self.issues.remove(&org);
    }

    /// Encodes the whole view (a cache stored next to the partitions it was derived from, so
    /// that start-up need not read every record back out of automerge).
    pub fn encode(&self) -> Vec<u8> {
        let mut offers: Vec<&Offer> = self.offers.values().collect();
        offers.sort_by_key(|o| (o.owner, o.id));
        let mut holds: Vec<&Hold> = self.holds.values().collect();
        holds.sort_by_key(|h| (h.requester, h.id));
        let mut decisions: Vec<(OrgId, HoldId, Decision)> = self
            .decisions
            .iter()
            .map(|((o, h), d)| (*o, *h, *d))
            .collect();
        decisions.sort();
        let image = ViewImageRef {
            version: VIEW_IMAGE_VERSION,
            terms: crate::vocab::terms_digest(),
            offers,
            holds,
            decisions,
            profiles: self.profiles.iter().collect(),
            issues: self.issues.iter().collect(),
        };
        postcard::to_allocvec(&image).unwrap_or_default()
    }

    /// Decodes what [`View::encode`] wrote; `None` for anything else (the caller rebuilds the
    /// view from the partitions instead).
    pub fn decode(bytes: &[u8]) -> Option<View> {
        let image: ViewImage = postcard::from_bytes(bytes).ok()?;
        if image.version != VIEW_IMAGE_VERSION || image.terms != crate::vocab::terms_digest() {
            return None;
        }
        let mut view = View::new();
        view.offers.extend(image.offers);
        for h in image.holds {
            view.holds_on
                .entry((h.owner, h.offer))
                .or_default()
                .insert((h.requester, h.id));
            view.holds.insert((h.requester, h.id), h);
        }
        for (o, h, d) in image.decisions {
            view.decisions.insert((o, h), d);
        }
        view.profiles = image.profiles;
        view.issues = image.issues;
        Some(view)
    }

    /// Every organisation profile.
    pub fn profiles(&self) -> &BTreeMap<OrgId, OrgProfile> {
        &self.profiles
    }

    /// Records that could not be read, per organisation.
    pub fn issues(&self) -> &BTreeMap<OrgId, BTreeMap<String, String>> {
        &self.issues
    }

    /// Every offer, in no particular order.
    pub fn offers(&self) -> impl Iterator<Item = &Offer> {
        self.offers.values()
    }

    /// Number of offers.
    pub fn offer_count(&self) -> usize {
        self.offers.len()
    }

    /// An offer by owner and id.
    pub fn offer(&self, owner: OrgId, id: OfferId) -> Option<&Offer> {
        self.offers.get(&(owner, id))
    }

    /// Offers whose id starts with `prefix` (case-insensitive), for people typing ids.
    pub fn offers_by_prefix(&self, prefix: &str) -> Vec<&Offer> {
        let p = prefix.to_ascii_lowercase();
        let mut v: Vec<&Offer> = self
            .offers
            .values()
            .filter(|o| o.id.to_string().starts_with(&p))
            .collect();
        v.sort_by_key(|o| (o.owner, o.id));
        v
    }

    /// Holds whose id starts with `prefix`.
    pub fn holds_by_prefix(&self, prefix: &str) -> Vec<&Hold> {
        let p = prefix.to_ascii_lowercase();
        let mut v: Vec<&Hold> = self
            .holds
            .values()
            .filter(|h| h.id.to_string().starts_with(&p))
            .collect();
        v.sort_by_key(|h| (h.requester, h.id));
        v
    }

    /// Every hold with its verdict, optionally only those placed by or on `org`.
    pub fn holds(
        &self,
        now: Time,
        placed_by: Option<OrgId>,
        placed_on: Option<OrgId>,
    ) -> Vec<HoldView> {
        let mut offers: BTreeSet<(OrgId, OfferId)> = BTreeSet::new();
        for h in self.holds.values() {
            if placed_by.is_none_or(|o| o == h.requester) && placed_on.is_none_or(|o| o == h.owner)
            {
                offers.insert((h.owner, h.offer));
            }
        }
        let mut out = Vec::new();
        for (owner, offer) in offers {
            for v in self.verdicts(owner, offer, now) {
                if placed_by.is_none_or(|o| o == v.hold.requester) {
                    out.push(v);
                }
            }
        }
        out.sort_by_key(|v| (v.hold.created_at, v.hold.requester, v.hold.id));
        out
    }

    /// The verdict on every hold placed on one offer.
    pub fn verdicts(&self, owner: OrgId, offer_id: OfferId, now: Time) -> Vec<HoldView> {
        let Some(keys) = self.holds_on.get(&(owner, offer_id)) else {
            return Vec::new();
        };
        let holds: Vec<&Hold> = keys.iter().filter_map(|k| self.holds.get(k)).collect();
        let offer = self.offers.get(&(owner, offer_id));
        let mut out = Vec::new();
        let mut by_window: BTreeMap<WindowId, Vec<&Hold>> = BTreeMap::new();
        for h in holds {
            by_window.entry(h.window).or_default().push(h);
        }
        for (wid, hs) in by_window {
            let window = offer.and_then(|o| o.windows.iter().find(|w| w.id == wid));
            out.extend(self.window_verdicts(owner, offer, window, hs, now));
        }
        out
    }

    fn decision(&self, owner: OrgId, hold: HoldId) -> Option<Decision> {
        self.decisions.get(&(owner, hold)).copied()
    }

    fn window_verdicts(
        &self,
        owner: OrgId,
        offer: Option<&Offer>,
        window: Option<&Window>,
        mut holds: Vec<&Hold>,
        now: Time,
    ) -> Vec<HoldView> {
        holds.sort_by_key(|h| (h.created_at, h.requester, h.id));
        let mut out = Vec::with_capacity(holds.len());
        let mut accepted: Vec<(Time, Time, u32)> = Vec::new();
        let mut pending: Vec<(usize, &Hold)> = Vec::new();
        for h in &holds {
            let decision = self.decision(owner, h.id);
            let fits = match (offer, window) {
                (Some(o), Some(w)) => fits_window(o, w, h.from, h.to),
                _ => false,
            };
            let status = if h.released {
                HoldStatus::Released
            } else if !fits {
                HoldStatus::Invalid
            } else if decision == Some(Decision::Declined) {
                HoldStatus::Declined
            } else if decision == Some(Decision::Confirmed) {
                accepted.push((h.from, h.to, h.qty));
                HoldStatus::Confirmed
            } else if now.0 > h.expires_at.0.saturating_add(EXPIRY_GRACE_SECS) {
                HoldStatus::Expired
            } else {
                pending.push((out.len(), h));
                HoldStatus::Pending
            };
            out.push(HoldView {
                hold: (*h).clone(),
                status,
                decision,
            });
        }
        let total = window.map_or(0, |w| w.total);
        for (i, h) in pending {
            if max_load(&accepted, h.from, h.to).saturating_add(h.qty) <= total {
                accepted.push((h.from, h.to, h.qty));
            } else {
                out[i].status = HoldStatus::Overbooked;
            }
        }
        out
    }

    /// Units of `window` free over `[from, to)` under the shared hold rule.
    pub fn available(
        &self,
        offer: &Offer,
        window: &Window,
        from: Time,
        to: Time,
        now: Time,
    ) -> u32 {
        if !self.holds_on.contains_key(&(offer.owner, offer.id)) {
            return window.total;
        }
        let load: Vec<(Time, Time, u32)> = self
            .verdicts(offer.owner, offer.id, now)
            .into_iter()
            .filter(|v| v.hold.window == window.id && v.status.counts())
            .map(|v| (v.hold.from, v.hold.to, v.hold.qty))
            .collect();
        window.total.saturating_sub(max_load(&load, from, to))
    }

    /// Answers a query, best first: soonest availability, then freshest.
    pub fn query(&self, q: &Query, now: Time) -> Vec<Hit<'_>> {
        // Each hit carries its sort key inline, so that sorting compares contiguous keys rather
        // than chasing a pointer into every offer on every comparison. The key ends with
        // (owner, id), unique in the view, so an unstable sort gives the order a stable one would.
        let mut zones = Zones::default();
        let hits: Vec<Hit<'_>> = self
            .offers
            .values()
            .filter_map(|o| self.match_offer(o, q, now, &mut zones))
            .collect();
        // Sort small (key, position) pairs, then take the hits in that order.
        let mut keyed: Vec<_> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| {
                // (owner, id) as two integers compare like the byte arrays they come from,
                // without a memcmp call per comparison.
                let mut ident = [0u8; 20];
                ident[..10].copy_from_slice(h.offer.owner.as_bytes());
                ident[10..].copy_from_slice(h.offer.id.as_bytes());
                let (hi, lo) = ident.split_at(16);
                let key = (
                    matches!(h.offer.fields.status, StatusHint::NoCapacity),
                    h.soonest.unwrap_or(now).max(now).0,
                    std::cmp::Reverse(h.offer.last_confirmed_at.0),
                    u128::from_be_bytes(hi.try_into().unwrap_or_default()),
                    u32::from_be_bytes(lo.try_into().unwrap_or_default()),
                );
                (key, i)
            })
            .collect();
        keyed.sort_unstable_by_key(|(key, _)| *key);
        keyed.into_iter().map(|(_, i)| hits[i].clone()).collect()
    }

    fn match_offer<'a>(
        &self,
        o: &'a Offer,
        q: &Query,
        now: Time,
        zones: &mut Zones,
    ) -> Option<Hit<'a>> {
        let f = &o.fields;
        let expired = now.0 > o.expires_at.0.saturating_add(EXPIRY_GRACE_SECS);
        if (expired && !q.include_expired) || (o.withdrawn && !q.include_withdrawn) {
            return None;
        }
        if !q.kinds.is_empty() && !q.kinds.contains(&f.kind) {
            return None;
        }
        if !q.counties.is_empty() && !q.counties.iter().any(|c| f.counties.contains(c)) {
            return None;
        }
        if !q.zones.is_empty()
            && !f
                .zone
                .as_deref()
                .is_some_and(|z| q.zones.iter().any(|want| want.eq_ignore_ascii_case(z)))
        {
            return None;
        }
        if !q.languages.is_empty()
            && !q
                .languages
                .iter()
                .any(|want| f.languages.iter().any(|l| l.satisfies(want)))
        {
            return None;
        }
        if !q.accepts.iter().all(|a| f.accepts.contains(a))
            || !q.affirming.iter().all(|a| f.affirming.contains(a))
            || !q.accessibility.iter().all(|a| f.accessibility.contains(a))
            || !q.capabilities.iter().all(|a| f.capabilities.contains(a))
        {
            return None;
        }
        if q.subject.is_some_and(|s| s != f.subject) || q.owner.is_some_and(|x| x != o.owner) {
            return None;
        }
        if q.fresh_within
            .is_some_and(|d| now.0.saturating_sub(o.last_confirmed_at.0) > d)
        {
            return None;
        }
        if let Some(usd) = q.min_usd
            && !f
                .bond_band
                .is_some_and(|b| BondBand::at_least(usd).contains(&b))
        {
            return None;
        }
        if let Some(d) = q.post_within
            && f.post_within.is_none_or(|p| p > d)
        {
            return None;
        }
        let mut live = o.windows.iter().filter(|w| !w.cancelled).peekable();
        if live.peek().is_none() {
            // A standing offer: no windows to count, so it cannot promise a quantity.
            if q.qty.is_some() {
                return None;
            }
            return Some(Hit {
                offer: o,
                available: None,
                window: None,
                soonest: None,
                expired,
            });
        }
        let want = q.qty.unwrap_or(1);
        let ranged = q.from.is_some() || q.to.is_some();
        let from = q.from.unwrap_or(now);
        let to = q.to.unwrap_or(if ranged {
            from.plus(60)
        } else {
            Time(i64::MAX)
        });
        let mut best: Option<(Time, u32, WindowId)> = None;
        for w in live {
            let until = if expired { to } else { o.expires_at };
            for (s, e) in Occurrences::new(w, from, to, until, zones) {
                let (a, b) = if ranged {
                    // The whole asked range must fall inside this occurrence.
                    if s > from || e < to {
                        continue;
                    }
                    (from, to)
                } else {
                    (s.max(now), e)
                };
                if a >= b {
                    continue;
                }
                let avail = self.available(o, w, a, b, now);
                if avail >= want {
                    let cand = (a, avail, w.id);
                    let better = match best {
                        None => true,
                        Some((bs, ba, _)) => a < bs || (a == bs && avail > ba),
                    };
                    if better {
                        best = Some(cand);
                    }
                    break;
                }
            }
        }
        let (soonest, available, window) = best?;
        Some(Hit {
            offer: o,
            available: Some(available),
            window: Some(window),
            soonest: Some(soonest),
            expired,
        })
    }
}

/// The occurrences `[start, end)` of a window that overlap `[from, to)`, in order, at most
/// [`MAX_OCCURRENCES`], never past the offer's expiry for weekly windows.
pub fn occurrences(w: &Window, from: Time, to: Time, expires_at: Time) -> Vec<(Time, Time)> {
    Occurrences::new(w, from, to, expires_at, &mut Zones::default()).collect()
}

/// The occurrences of [`occurrences`], computed one at a time: a query stops at the first
/// occurrence with room, and each weekly step costs a time-zone conversion, so computing every
/// occurrence up to the offer's expiry first made broad queries several times slower.
struct Occurrences<'w, 'z> {
    /// The one occurrence of a dated window, or the first of a weekly one, until taken.
    once: Option<(Time, Time)>,
    /// The walk through the weeks of a weekly window, until it ends.
    weekly: Option<Weekly<'w>>,
    zones: &'z mut Zones,
    from: Time,
    to: Time,
    expires_at: Time,
}

/// The zone of the last weekly window looked at: nearly every window of a network is in one of
/// a few zones, and looking a zone up by name cost a sixth of a broad query.
#[derive(Default)]
struct Zones {
    last: Option<(String, jiff::tz::TimeZone)>,
}

impl Zones {
    fn get(&mut self, name: &str) -> Option<jiff::tz::TimeZone> {
        if let Some((n, tz)) = &self.last
            && n == name
        {
            return Some(tz.clone());
        }
        let tz = time::zone(name).ok()?;
        self.last = Some((name.to_string(), tz.clone()));
        Some(tz)
    }
}

struct Weekly<'w> {
    /// The zone's name, looked up only when a week after the first is needed: most weekly
    /// windows are asked about before their first occurrence has ended.
    tz_name: &'w str,
    tz: Option<jiff::tz::TimeZone>,
    start: Time,
    len: i64,
    /// The next week to look at.
    k: i64,
    steps: usize,
    given: usize,
}

impl<'w, 'z> Occurrences<'w, 'z> {
    fn new(w: &'w Window, from: Time, to: Time, expires_at: Time, zones: &'z mut Zones) -> Self {
        let mut it = Occurrences {
            once: None,
            weekly: None,
            zones,
            from,
            to,
            expires_at,
        };
        let overlaps = w.start < to && w.end > from;
        if !w.weekly {
            if overlaps {
                it.once = Some((w.start, w.end));
            }
            return it;
        }
        let len = w.end.0 - w.start.0;
        // The first occurrence is the window itself: no zone arithmetic. Later weeks are
        // walked in civil time, skipping whole weeks before `from` arithmetically first.
        let week = 7 * 86_400;
        let k = if w.end > from {
            if overlaps && w.start <= expires_at {
                it.once = Some((w.start, w.end));
            }
            1
        } else {
            (from.0.saturating_sub(w.end.0) / week - 1).max(1)
        };
        it.weekly = Some(Weekly {
            tz_name: &w.tz,
            tz: None,
            start: w.start,
            len,
            k,
            steps: 0,
            given: usize::from(it.once.is_some()),
        });
        it
    }
}

impl Iterator for Occurrences<'_, '_> {
    type Item = (Time, Time);

    fn next(&mut self) -> Option<(Time, Time)> {
        if let Some(o) = self.once.take() {
            return Some(o);
        }
        let w = self.weekly.as_mut()?;
        if w.tz.is_none() {
            w.tz = self.zones.get(w.tz_name);
        }
        while let Some(tz) = &w.tz
            && w.steps < MAX_OCCURRENCES * 2
            && w.given < MAX_OCCURRENCES
        {
            w.steps += 1;
            let Some(s) = time::add_weeks(w.start, w.k, tz) else {
                break;
            };
            let e = s.plus(w.len);
            if s >= self.to || s > self.expires_at {
                break;
            }
            w.k += 1;
            if e > self.from {
                w.given += 1;
                return Some((s, e));
            }
        }
        self.weekly = None;
        None
    }
}

/// Whether `[from, to)` lies within one occurrence of the window.
fn fits_window(o: &Offer, w: &Window, from: Time, to: Time) -> bool {
    if to <= from {
        return false;
    }
    Occurrences::new(w, from, to, o.expires_at.max(to), &mut Zones::default())
        .any(|(s, e)| s <= from && to <= e)
}

/// The largest total quantity of `intervals` that overlap at any instant of `[from, to)`.
fn max_load(intervals: &[(Time, Time, u32)], from: Time, to: Time) -> u32 {
    let mut events: Vec<(Time, i64)> = Vec::new();
    for &(s, e, q) in intervals {
        if s < to && e > from {
            events.push((s.max(from), i64::from(q)));
            events.push((e.min(to), -i64::from(q)));
        }
    }
    // Ends sort before starts at the same instant: [a, b) and [b, c) do not overlap.
    events.sort_by_key(|&(t, d)| (t, d));
    let mut cur = 0i64;
    let mut max = 0i64;
    for (_, d) in events {
        cur += d;
        max = max.max(cur);
    }
    u32::try_from(max).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_foreign_image_is_refused() {
        assert!(View::decode(&View::new().encode()).is_some());
        assert!(View::decode(b"").is_none());
        assert!(View::decode(&[2, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn load_counts_only_overlaps() {
        let iv = vec![
            (Time(0), Time(10), 1),
            (Time(10), Time(20), 1),
            (Time(5), Time(15), 2),
        ];
        assert_eq!(max_load(&iv, Time(0), Time(20)), 3);
        assert_eq!(max_load(&iv, Time(0), Time(5)), 1);
        assert_eq!(max_load(&iv, Time(15), Time(20)), 1);
        assert_eq!(max_load(&iv, Time(20), Time(30)), 0);
    }
}
