//! Partners place holds offline on one owner's small windows; the owner's two devices decide
//! some, partners release some. Every view, however the changes arrive, reaches the same
//! verdicts (DOMAIN.md "Capacity without double-booking"), and the verdicts never promise more
//! than a window holds.

use std::collections::BTreeMap;

use proptest::prelude::*;
use puente_crdt::time::Time;
use puente_crdt::{
    Decision, Hold, HoldId, HoldStatus, HoldView, Kind, NewOffer, Offer, OrgId, Partition, Query,
    Touched, View,
};

use crate::support::{
    BASE, DAY, HOUR, Seeded, change, fields, hold_id, offer_id, org, window, window_id,
};

/// Holds are placed in half-day steps inside windows of ten days.
const STEP: i64 = DAY / 2;
const WINDOW_START: i64 = BASE + DAY;
const WINDOW_STEPS: i64 = 20;
const HOLD_TTL: i64 = 48 * HOUR;
const GRACE: i64 = puente_crdt::view::EXPIRY_GRACE_SECS;

#[derive(Debug, Clone)]
struct HoldSpec {
    /// Index of the window; one past the last names a window the offer does not have.
    window: usize,
    qty: u32,
    from_step: i64,
    steps: i64,
    created_hour: i64,
    owner_a: Option<Decision>,
    owner_b: Option<Decision>,
    release: bool,
}

#[derive(Debug, Clone)]
struct Scenario {
    totals: Vec<u32>,
    partners: Vec<Vec<HoldSpec>>,
    now_hours: i64,
    seeds: Vec<u64>,
}

fn decision() -> impl Strategy<Value = Option<Decision>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(Decision::Confirmed)),
        1 => Just(Some(Decision::Declined)),
    ]
}

fn hold_spec(windows: usize) -> impl Strategy<Value = HoldSpec> {
    (
        prop_oneof![9 => 0..windows, 1 => Just(windows)],
        1u32..=3,
        0..WINDOW_STEPS,
        1i64..=8,
        0i64..6,
        decision(),
        decision(),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(window, qty, from_step, steps, created_hour, owner_a, owner_b, release)| HoldSpec {
                window,
                qty,
                from_step,
                steps: steps.min(WINDOW_STEPS - from_step),
                created_hour,
                owner_a,
                owner_b,
                release,
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop::collection::vec(1u32..=3, 1..=2).prop_flat_map(|totals| {
        let n = totals.len();
        (
            Just(totals),
            prop::collection::vec(prop::collection::vec(hold_spec(n), 1..=4), 2..=4),
            0i64..=80,
            prop::collection::vec(any::<u64>(), 3),
        )
            .prop_map(|(totals, partners, now_hours, seeds)| Scenario {
                totals,
                partners,
                now_hours,
                seeds,
            })
    })
}

fn owner() -> OrgId {
    org(1)
}

fn partner(i: usize) -> OrgId {
    org(10 + i as u8)
}

fn hid(i: usize, j: usize) -> HoldId {
    hold_id(10 + i as u8, j as u8)
}

/// Every organisation's changes, in the order they were made.
fn build(s: &Scenario) -> Vec<(OrgId, Vec<Vec<u8>>)> {
    let mut a = Partition::new(owner(), &[1; 32]);
    let offer = NewOffer {
        fields: fields(Kind::ShelterBed, "beds-north"),
        windows: s
            .totals
            .iter()
            .map(|&t| window(WINDOW_START, WINDOW_START + WINDOW_STEPS * STEP, t))
            .collect(),
        expires_in: None,
    };
    let wids: Vec<_> = (0..s.totals.len()).map(|k| window_id(2, k as u8)).collect();
    a.add_offer(offer_id(1, 1), &offer, &wids, Time(BASE))
        .expect("valid offer");
    let created = a.commit().expect("a change");
    let mut b = Partition::new(owner(), &[2; 32]);
    b.apply_changes(vec![change(&created)]).expect("applies");
    let mut owner_changes = vec![created];
    let mut out = Vec::new();
    for (i, holds) in s.partners.iter().enumerate() {
        let mut p = Partition::new(partner(i), &[10 + i as u8; 32]);
        let mut changes = Vec::new();
        for (j, h) in holds.iter().enumerate() {
            let created = BASE + h.created_hour * HOUR;
            let from = WINDOW_START + h.from_step * STEP;
            p.place_hold(&Hold {
                id: hid(i, j),
                requester: partner(i),
                owner: owner(),
                offer: offer_id(1, 1),
                window: window_id(2, h.window as u8),
                qty: h.qty,
                from: Time(from),
                to: Time(from + h.steps * STEP),
                created_at: Time(created),
                expires_at: Time(created + HOLD_TTL),
                released: false,
            })
            .expect("valid hold");
            changes.push(p.commit().expect("a change"));
        }
        for (j, h) in holds.iter().enumerate() {
            if h.release {
                p.release_hold(hid(i, j)).expect("present");
                changes.push(p.commit().expect("a change"));
            }
            for (dev, d) in [(&mut a, h.owner_a), (&mut b, h.owner_b)] {
                if let Some(d) = d {
                    dev.decide(hid(i, j), d).expect("writes");
                    owner_changes.push(dev.commit().expect("a change"));
                }
            }
        }
        out.push((partner(i), changes));
    }
    out.push((owner(), owner_changes));
    out
}

/// The largest total quantity of `intervals` at any instant of `[from, to)`, by brute force:
/// the load is largest at `from` or where some interval starts.
fn load(intervals: &[(i64, i64, u32)], from: i64, to: i64) -> u32 {
    let at = |t: i64| -> u32 {
        intervals
            .iter()
            .filter(|&&(s, e, _)| s <= t && t < e)
            .map(|&(_, _, q)| q)
            .sum()
    };
    std::iter::once(from)
        .chain(intervals.iter().map(|&(s, _, _)| s))
        .filter(|&t| from <= t && t < to)
        .map(at)
        .max()
        .unwrap_or(0)
}

/// The verdict every replica must reach, computed from the scenario alone.
fn model(s: &Scenario, now: i64) -> BTreeMap<HoldId, HoldStatus> {
    let mut out = BTreeMap::new();
    for k in 0..=s.totals.len() {
        let mut pending = Vec::new();
        let mut accepted = Vec::new();
        for (i, holds) in s.partners.iter().enumerate() {
            for (j, h) in holds.iter().enumerate().filter(|(_, h)| h.window == k) {
                let ds = [h.owner_a, h.owner_b];
                let from = WINDOW_START + h.from_step * STEP;
                let iv = (from, from + h.steps * STEP, h.qty);
                let created = BASE + h.created_hour * HOUR;
                let status = if h.release {
                    HoldStatus::Released
                } else if k == s.totals.len() {
                    HoldStatus::Invalid
                } else if ds.contains(&Some(Decision::Declined)) {
                    HoldStatus::Declined
                } else if ds.contains(&Some(Decision::Confirmed)) {
                    accepted.push(iv);
                    HoldStatus::Confirmed
                } else if now > created + HOLD_TTL + GRACE {
                    HoldStatus::Expired
                } else {
                    pending.push(((created, partner(i), hid(i, j)), iv));
                    HoldStatus::Pending
                };
                out.insert(hid(i, j), status);
            }
        }
        pending.sort();
        for ((_, _, id), iv) in pending {
            if load(&accepted, iv.0, iv.1) + iv.2 <= s.totals[k] {
                accepted.push(iv);
            } else {
                out.insert(id, HoldStatus::Overbooked);
            }
        }
    }
    out
}

type Verdict = (HoldId, OrgId, HoldStatus, Option<Decision>);

fn verdicts(v: &[HoldView]) -> Vec<Verdict> {
    v.iter()
        .map(|h| (h.hold.id, h.hold.requester, h.status, h.decision))
        .collect()
}

/// Everything a coordinator could read about capacity, to compare views.
/// Verdicts, availabilities and the best query answers (available, soonest) of a view.
type Observed = (Vec<Verdict>, Vec<u32>, Vec<(Option<u32>, Option<Time>)>);

fn observe(view: &View, now: Time) -> Observed {
    let offer = view.offer(owner(), offer_id(1, 1)).expect("offer present");
    let mut avail = Vec::new();
    let mut hits = Vec::new();
    for w in &offer.windows {
        avail.push(view.available(offer, w, w.start, w.end, now));
        for k in (0..WINDOW_STEPS).step_by(2) {
            let a = Time(w.start.0 + k * STEP);
            avail.push(view.available(offer, w, a, a.plus(2 * STEP), now));
            let q = Query {
                from: Some(a),
                to: Some(a.plus(STEP)),
                qty: Some(1 + (k as u32 / 2 % 3)),
                ..Query::default()
            };
            let found = view.query(&q, now);
            hits.push(
                found
                    .first()
                    .map_or((None, None), |h| (h.available, h.soonest)),
            );
        }
    }
    (verdicts(&view.holds(now, None, None)), avail, hits)
}

/// The safety property, read from a view's verdicts alone.
fn check_safety(offer: &Offer, holds: &[HoldView]) {
    for w in &offer.windows {
        let on: Vec<&HoldView> = holds.iter().filter(|h| h.hold.window == w.id).collect();
        let iv = |h: &&HoldView| (h.hold.from.0, h.hold.to.0, h.hold.qty);
        let pending: Vec<_> = on
            .iter()
            .filter(|h| h.status == HoldStatus::Pending)
            .map(iv)
            .collect();
        let counting: Vec<_> = on.iter().filter(|h| h.status.counts()).map(iv).collect();
        for &(s, e, _) in &pending {
            assert!(
                load(&pending, s, e) <= w.total,
                "holds not confirmed by the owner exceed the window total {}: {holds:#?}",
                w.total
            );
            assert!(
                load(&counting, s, e) <= w.total,
                "an accepted pending hold overlaps more than the total {}: {holds:#?}",
                w.total
            );
        }
        // Holds are listed in the order the rule considers them.
        for (n, h) in on.iter().enumerate() {
            if h.status == HoldStatus::Confirmed {
                assert_eq!(h.decision, Some(Decision::Confirmed));
            }
            if h.status != HoldStatus::Overbooked {
                continue;
            }
            let earlier: Vec<_> = on
                .iter()
                .enumerate()
                .filter(|&(m, o)| {
                    o.status == HoldStatus::Confirmed || (o.status == HoldStatus::Pending && m < n)
                })
                .map(|(_, o)| iv(o))
                .collect();
            assert!(
                load(&earlier, h.hold.from.0, h.hold.to.0) + h.hold.qty > w.total,
                "hold {} is overbooked although it fits: {holds:#?}",
                h.hold.id
            );
        }
    }
}

/// A view built change by change in the order drawn from `seed`, refreshed after each apply.
fn incremental(changes: &[(OrgId, Vec<Vec<u8>>)], seed: u64) -> View {
    let mut rng = Seeded::new(seed);
    let mut items: Vec<(usize, usize)> = changes
        .iter()
        .enumerate()
        .flat_map(|(o, (_, cs))| (0..cs.len()).map(move |c| (o, c)))
        .collect();
    rng.shuffle(&mut items);
    let mut parts: Vec<Partition> = changes
        .iter()
        .map(|(org, _)| Partition::new(*org, &[0xee; 32]))
        .collect();
    let mut view = View::new();
    for (o, c) in items {
        let t = parts[o]
            .apply_changes(vec![change(&changes[o].1[c])])
            .expect("applies");
        view.refresh(&parts[o], &t);
    }
    view
}

/// A view read in one go from each partition's contents.
fn whole(changes: &[(OrgId, Vec<Vec<u8>>)]) -> View {
    let mut view = View::new();
    for (org, cs) in changes {
        let mut p = Partition::new(*org, &[0xef; 32]);
        p.apply_changes(cs.iter().map(|c| change(c)).collect())
            .expect("applies");
        assert!(p.contents().issues.is_empty());
        view.refresh(
            &p,
            &Touched {
                all: true,
                ..Touched::default()
            },
        );
    }
    view
}

proptest! {
    #![proptest_config(crate::support::config(40))]

    #[test]
    fn hold_verdicts_are_the_same_under_every_merge_order(s in scenario()) {
        let changes = build(&s);
        let now = Time(BASE + s.now_hours * HOUR);
        let reference = whole(&changes);
        let want = observe(&reference, now);

        // The verdicts follow the shared rule, computed independently.
        let got: BTreeMap<HoldId, HoldStatus> =
            want.0.iter().map(|&(id, _, status, _)| (id, status)).collect();
        prop_assert_eq!(&got, &model(&s, now.0));
        let offer = reference.offer(owner(), offer_id(1, 1)).expect("present");
        check_safety(offer, &reference.holds(now, None, None));

        for seed in &s.seeds {
            let view = incremental(&changes, *seed);
            prop_assert_eq!(&observe(&view, now), &want, "seed {}", seed);
        }
    }
}

/// Three owner devices decide one hold concurrently; a decline arriving last loses
/// last-writer-wins to two confirmations already in conflict. Declined still wins when read,
/// and a view refreshed with the returned `Touched` must agree.
#[test]
fn a_decline_arriving_third_reaches_the_view() {
    let s = Scenario {
        totals: vec![1],
        partners: vec![vec![HoldSpec {
            window: 0,
            qty: 1,
            from_step: 0,
            steps: 2,
            created_hour: 0,
            owner_a: None,
            owner_b: None,
            release: false,
        }]],
        now_hours: 1,
        seeds: vec![],
    };
    let changes = build(&s);
    let (created, hold) = (&changes[1].1[0], &changes[0].1[0]);
    let mut decisions = Vec::new();
    for (actor, d) in [
        (1u8, Decision::Declined),
        (2, Decision::Confirmed),
        (3, Decision::Confirmed),
    ] {
        let mut dev = Partition::new(owner(), &[actor; 32]);
        dev.apply_changes(vec![change(created)]).expect("applies");
        dev.decide(hid(0, 0), d).expect("writes");
        decisions.push(dev.commit().expect("a change"));
    }
    let mut p = Partition::new(partner(0), &[0xee; 32]);
    let mut o = Partition::new(owner(), &[0xee; 32]);
    let mut view = View::new();
    let t = p.apply_changes(vec![change(hold)]).expect("applies");
    view.refresh(&p, &t);
    for c in [created, &decisions[1], &decisions[2], &decisions[0]] {
        let t = o.apply_changes(vec![change(c)]).expect("applies");
        view.refresh(&o, &t);
    }
    assert_eq!(o.contents().decisions, [(hid(0, 0), Decision::Declined)]);
    let v = view.holds(Time(BASE + HOUR), None, None);
    assert_eq!(
        (v[0].status, v[0].decision),
        (HoldStatus::Declined, Some(Decision::Declined)),
        "the view missed the third decision"
    );
}
