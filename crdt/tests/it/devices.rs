//! Several devices of one organisation edit one offer offline; their changes then reach fresh
//! replicas in random orders. Laws (DOMAIN.md rule 6 and the partition module's merge rules):
//! replicas converge, `withdrawn` and `cancelled` are one-way, `last_confirmed_at` and
//! `expires_at` read as the latest of concurrent values, and a device that has seen the
//! withdrawal can no longer change or confirm the offer.

use std::collections::BTreeSet;

use proptest::prelude::*;
use puente_crdt::schema::parse_list;
use puente_crdt::time::Time;
use puente_crdt::{
    Kind, NewOffer, Offer, OfferId, OfferPatch, OrgId, Partition, PartitionError, Touched, View,
    WindowId,
};

use crate::support::{BASE, DAY, HOUR, Seeded, change, fields, offer_id, org, window, window_id};

const LABELS: &[&str] = &[
    "quiet room",
    "two rooms, bus line nearby",
    "ground floor, no stairs",
    "habitación tranquila",
    "Mam and K'iche' by phone",
];
const LANGUAGES: &[&str] = &[
    "es",
    "es;en:conversational",
    "mam:phone;es",
    "quc:relay-via-es",
];
const COUNTIES: &[&str] = &["06067", "06067;06113", "06061", "06113;06061;06067"];

fn the_org() -> OrgId {
    org(1)
}

fn the_offer() -> OfferId {
    offer_id(7, 1)
}

/// The initial change every device starts from: the offer with two windows.
fn initial() -> (Vec<u8>, Offer) {
    let mut p = Partition::new(the_org(), &[0xc0; 32]);
    let offer = NewOffer {
        fields: fields(Kind::HostHome, "host-7f3k"),
        windows: vec![
            window(BASE + DAY, BASE + 8 * DAY, 2),
            window(BASE + 10 * DAY, BASE + 20 * DAY, 1),
        ],
        expires_in: None,
    };
    p.add_offer(
        the_offer(),
        &offer,
        &[window_id(1, 0), window_id(1, 1)],
        Time(BASE),
    )
    .expect("valid offer");
    let bytes = p.commit().expect("a change");
    let o = p.offer(the_offer()).expect("present");
    (bytes, o)
}

#[derive(Debug, Clone)]
enum Op {
    Label(usize),
    Languages(usize),
    Counties(usize),
    /// Confirm via `confirm_offer` or via an update with `expires_in`.
    Confirm {
        via_update: bool,
        expires_in: Option<i64>,
    },
    Withdraw,
    /// Cancel the n-th window the device knows.
    Cancel(usize),
    AddWindow {
        start_day: i64,
        days: i64,
        total: u32,
    },
    /// Receive everything device n knows.
    Sync(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..LABELS.len()).prop_map(Op::Label),
        1 => (0..LANGUAGES.len()).prop_map(Op::Languages),
        1 => (0..COUNTIES.len()).prop_map(Op::Counties),
        3 => (any::<bool>(), prop::option::of(1i64..=40)).prop_map(|(via_update, d)| Op::Confirm {
            via_update,
            expires_in: d.map(|d| d * DAY),
        }),
        1 => Just(Op::Withdraw),
        2 => (0usize..8).prop_map(Op::Cancel),
        1 => (0i64..30, 1i64..10, 1u32..4).prop_map(|(start_day, days, total)| Op::AddWindow {
            start_day,
            days,
            total,
        }),
        1 => (0usize..3).prop_map(Op::Sync),
    ]
}

/// One committed change and what the model knows about it.
#[derive(Debug, Clone)]
struct Rec {
    bytes: Vec<u8>,
    /// The device that made it (`usize::MAX` for the initial change).
    author: usize,
    /// Changes the author had seen when it made this one (transitively closed).
    seen: BTreeSet<usize>,
    withdraw: bool,
    cancels: Vec<WindowId>,
    adds: Vec<WindowId>,
    /// `(last_confirmed_at, expires_at)` written by a confirmation.
    confirm: Option<(i64, i64)>,
}

struct Device {
    p: Partition,
    known: BTreeSet<usize>,
    skew: i64,
}

/// The latest of the values no later write has overwritten (the "latest of concurrent values"
/// rule), or `None` when nobody wrote.
fn frontier_max(recs: &[Rec], pick: fn((i64, i64)) -> i64) -> Option<i64> {
    let writes: Vec<usize> = (0..recs.len())
        .filter(|&i| recs[i].confirm.is_some())
        .collect();
    writes
        .iter()
        .filter(|&&i| !writes.iter().any(|&j| recs[j].seen.contains(&i)))
        .filter_map(|&i| recs[i].confirm.map(pick))
        .max()
}

fn knows_withdrawal(recs: &[Rec], known: &BTreeSet<usize>) -> bool {
    known.iter().any(|&i| recs[i].withdraw)
}

fn patch_label(label: &str) -> OfferPatch {
    OfferPatch {
        label: Some(label.into()),
        ..OfferPatch::default()
    }
}

/// Runs the ops; returns every change (index 0 is the initial one) and the devices.
fn run(devices: usize, skews: &[i64], ops: &[(usize, Op)]) -> (Vec<Rec>, Vec<Device>) {
    let (first, _) = initial();
    let mut recs = vec![Rec {
        bytes: first.clone(),
        author: usize::MAX,
        seen: BTreeSet::new(),
        withdraw: false,
        cancels: vec![],
        adds: vec![],
        confirm: None,
    }];
    let mut devs: Vec<Device> = (0..devices)
        .map(|d| {
            let mut p = Partition::new(the_org(), &[d as u8 + 1; 32]);
            p.apply_changes(vec![change(&first)]).expect("applies");
            Device {
                p,
                known: BTreeSet::from([0]),
                skew: skews[d],
            }
        })
        .collect();
    for (step, (d, op)) in ops.iter().enumerate() {
        let d = d % devices;
        let now = BASE + HOUR + step as i64 * 600 + devs[d].skew;
        if let Op::Sync(from) = op {
            let from = from % devices;
            let missing: Vec<usize> = devs[from]
                .known
                .difference(&devs[d].known)
                .copied()
                .collect();
            let changes = missing.iter().map(|&i| change(&recs[i].bytes)).collect();
            devs[d].p.apply_changes(changes).expect("applies");
            devs[d].known.extend(missing);
            continue;
        }
        let withdrawn_here = knows_withdrawal(&recs, &devs[d].known);
        let mut rec = Rec {
            bytes: vec![],
            author: d,
            seen: devs[d].known.clone(),
            withdraw: false,
            cancels: vec![],
            adds: vec![],
            confirm: None,
        };
        let dev = &mut devs[d];
        let result: Result<Touched, PartitionError> = match op {
            Op::Label(i) => {
                dev.p
                    .update_offer(the_offer(), &patch_label(LABELS[*i]), &[], Time(now))
            }
            Op::Languages(i) => {
                let patch = OfferPatch {
                    languages: Some(parse_list(LANGUAGES[*i]).expect("valid")),
                    ..OfferPatch::default()
                };
                dev.p.update_offer(the_offer(), &patch, &[], Time(now))
            }
            Op::Counties(i) => {
                let patch = OfferPatch {
                    counties: Some(parse_list(COUNTIES[*i]).expect("valid")),
                    ..OfferPatch::default()
                };
                dev.p.update_offer(the_offer(), &patch, &[], Time(now))
            }
            Op::Confirm {
                via_update,
                expires_in,
            } => {
                let secs = expires_in.unwrap_or(Kind::HostHome.default_expiry_secs());
                rec.confirm = Some((now, now + secs));
                if *via_update {
                    let patch = OfferPatch {
                        expires_in: Some(secs),
                        ..OfferPatch::default()
                    };
                    dev.p.update_offer(the_offer(), &patch, &[], Time(now))
                } else {
                    dev.p.confirm_offer(the_offer(), Time(now), *expires_in)
                }
            }
            Op::Withdraw => {
                rec.withdraw = true;
                dev.p.withdraw_offer(the_offer())
            }
            Op::Cancel(i) => {
                let windows = dev.p.offer(the_offer()).expect("readable").windows;
                let wid = windows[i % windows.len()].id;
                rec.cancels.push(wid);
                let patch = OfferPatch {
                    cancel_windows: vec![wid],
                    ..OfferPatch::default()
                };
                dev.p.update_offer(the_offer(), &patch, &[], Time(now))
            }
            Op::AddWindow {
                start_day,
                days,
                total,
            } => {
                let wid = window_id(0xa0 + d as u8, step as u8);
                rec.adds.push(wid);
                let s = BASE + start_day * DAY;
                let patch = OfferPatch {
                    add_windows: vec![window(s, s + days * DAY, *total)],
                    ..OfferPatch::default()
                };
                dev.p.update_offer(the_offer(), &patch, &[wid], Time(now))
            }
            Op::Sync(_) => unreachable!("handled above"),
        };
        let dev = &mut devs[d];
        let may_fail = !matches!(op, Op::Withdraw);
        if may_fail && withdrawn_here {
            assert!(
                matches!(result, Err(PartitionError::Final(_))),
                "device {d} has seen the withdrawal, yet {op:?} gave {result:?}"
            );
            assert_eq!(dev.p.commit(), None, "a refused operation writes nothing");
            continue;
        }
        result.unwrap_or_else(|e| panic!("{op:?} on device {d} failed: {e}"));
        if let Some(bytes) = dev.p.commit() {
            rec.bytes = bytes;
            let i = recs.len();
            recs.push(rec);
            dev.known.insert(i);
        } else {
            // Setting a field to the value it has writes nothing; a fresh confirmation time
            // or a new window always writes.
            assert!(
                !matches!(op, Op::Confirm { .. } | Op::AddWindow { .. }),
                "{op:?} always writes"
            );
        }
    }
    (recs, devs)
}

/// The offer as every replica must read it, from the model.
fn check_against_model(o: &Offer, recs: &[Rec], initial: &Offer) {
    let withdrew = recs.iter().any(|r| r.withdraw);
    assert_eq!(o.withdrawn, withdrew, "withdrawn iff some device withdrew");
    let cancelled: BTreeSet<WindowId> = recs.iter().flat_map(|r| r.cancels.clone()).collect();
    let mut ids: BTreeSet<WindowId> = initial.windows.iter().map(|w| w.id).collect();
    ids.extend(recs.iter().flat_map(|r| r.adds.clone()));
    assert_eq!(
        o.windows.iter().map(|w| w.id).collect::<BTreeSet<_>>(),
        ids,
        "every added window is present"
    );
    for w in &o.windows {
        assert_eq!(
            w.cancelled,
            cancelled.contains(&w.id),
            "window {} cancelled iff some device cancelled it",
            w.id
        );
    }
    let lca = frontier_max(recs, |(c, _)| c).unwrap_or(initial.last_confirmed_at.0);
    let exp = frontier_max(recs, |(_, e)| e).unwrap_or(initial.expires_at.0);
    assert_eq!(
        o.last_confirmed_at,
        Time(lca),
        "latest concurrent confirmation"
    );
    assert_eq!(o.expires_at, Time(exp), "latest concurrent expiry");
    let offline = recs
        .iter()
        .all(|r| r.seen.iter().all(|&i| i == 0 || recs[i].author == r.author));
    if offline {
        // Nobody confirmed after seeing another device's work: the latest confirmation of all.
        let max = recs.iter().filter_map(|r| r.confirm.map(|c| c.0)).max();
        assert_eq!(o.last_confirmed_at, Time(max.unwrap_or(BASE)));
    }
}

/// Delivers `recs` to a fresh replica in an order drawn from `seed`, in batches, refreshing a
/// view after each; returns the replica and the view.
fn deliver(recs: &[Rec], seed: u64, replica: u8) -> (Partition, View) {
    let mut rng = Seeded::new(seed);
    let mut order: Vec<usize> = (0..recs.len()).collect();
    rng.shuffle(&mut order);
    let mut p = Partition::new(the_org(), &[0xe0 + replica; 32]);
    let mut view = View::new();
    for batch in rng.batches(&order) {
        let changes = batch.iter().map(|&i| change(&recs[i].bytes)).collect();
        let t = p.apply_changes(changes).expect("applies");
        view.refresh(&p, &t);
    }
    (p, view)
}

/// Number of devices, their clock skews, the ops (device, op) and the delivery seeds.
type Scenario = (usize, Vec<i64>, Vec<(usize, Op)>, Vec<u64>);

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        2usize..=3,
        prop::collection::vec(-2 * HOUR..=2 * HOUR, 3),
        prop::collection::vec((0usize..3, op()), 1..24),
        prop::collection::vec(any::<u64>(), 3),
    )
}

proptest! {
    #![proptest_config(crate::support::config(40))]

    #[test]
    fn withdrawal_and_cancellation_win_in_every_delivery_order(
        (devices, skews, ops, seeds) in scenario()
    ) {
        let (_, initial_offer) = initial();
        let (recs, mut devs) = run(devices, &skews, &ops);

        // The reference: every change applied in the order it was made.
        let mut reference = Partition::new(the_org(), &[0xee; 32]);
        reference
            .apply_changes(recs.iter().map(|r| change(&r.bytes)).collect())
            .expect("applies");
        let mut heads = reference.heads();
        heads.sort();
        let want = reference.contents();
        prop_assert!(want.issues.is_empty(), "issues: {:?}", want.issues);
        prop_assert_eq!(want.offers.len(), 1);
        check_against_model(&want.offers[0], &recs, &initial_offer);

        for (r, seed) in seeds.iter().enumerate() {
            let (mut p, view) = deliver(&recs, *seed, r as u8);
            let mut got_heads = p.heads();
            got_heads.sort();
            prop_assert_eq!(&got_heads, &heads, "every queued change was applied in the end");
            let got = p.contents();
            prop_assert_eq!(&got.offers, &want.offers);
            prop_assert!(got.issues.is_empty());
            // The view kept up change by change.
            prop_assert_eq!(view.offer_count(), 1);
            prop_assert_eq!(view.offer(the_org(), the_offer()), Some(&want.offers[0]));
        }

        // Every device that receives everything agrees, and refuses edits once withdrawn.
        let withdrew = recs.iter().any(|r| r.withdraw);
        for (d, dev) in devs.iter_mut().enumerate() {
            let missing: Vec<_> = (0..recs.len())
                .filter(|i| !dev.known.contains(i))
                .map(|i| change(&recs[i].bytes))
                .collect();
            dev.p.apply_changes(missing).expect("applies");
            prop_assert_eq!(&dev.p.contents().offers, &want.offers, "device {}", d);
            let update = dev.p.update_offer(
                the_offer(),
                &patch_label("one more room"),
                &[],
                Time(BASE + 30 * DAY),
            );
            let confirm = dev.p.confirm_offer(the_offer(), Time(BASE + 30 * DAY), None);
            if withdrew {
                prop_assert!(matches!(update, Err(PartitionError::Final(_))), "{:?}", update);
                prop_assert!(matches!(confirm, Err(PartitionError::Final(_))), "{:?}", confirm);
                prop_assert_eq!(dev.p.commit(), None);
            } else {
                prop_assert!(update.is_ok() && confirm.is_ok(), "{:?} {:?}", update, confirm);
                dev.p.rollback();
            }
        }
    }
}

/// Automerge queues a change whose dependencies have not arrived and applies it once they do,
/// so the delivery orders above need not be causal.
#[test]
fn changes_arriving_before_their_dependencies_wait_for_them() {
    let (first, _) = initial();
    let mut a = Partition::new(the_org(), &[1; 32]);
    a.apply_changes(vec![change(&first)]).expect("applies");
    a.withdraw_offer(the_offer()).expect("present");
    let second = a.commit().expect("a change");

    let mut r = Partition::new(the_org(), &[9; 32]);
    let mut view = View::new();
    let t = r
        .apply_changes(vec![change(&second)])
        .expect("queued, not refused");
    view.refresh(&r, &t);
    assert!(r.heads().is_empty(), "the change waits for its dependency");
    assert!(r.contents().offers.is_empty());
    assert_eq!(view.offer_count(), 0);

    let t = r.apply_changes(vec![change(&first)]).expect("applies");
    view.refresh(&r, &t);
    assert_eq!(r.heads().len(), 1);
    let o = r.offer(the_offer()).expect("present");
    assert!(o.withdrawn, "the queued withdrawal was applied");
    assert_eq!(view.offer(the_org(), the_offer()), Some(&o));
}

/// Two devices withdraw and edit concurrently; whichever arrives first, the offer stays
/// withdrawn and the edit still lands (withdrawal blocks later edits, not concurrent ones).
#[test]
fn a_concurrent_edit_does_not_bring_a_withdrawn_offer_back() {
    let (first, _) = initial();
    let mut a = Partition::new(the_org(), &[1; 32]);
    let mut b = Partition::new(the_org(), &[2; 32]);
    for p in [&mut a, &mut b] {
        p.apply_changes(vec![change(&first)]).expect("applies");
    }
    a.withdraw_offer(the_offer()).expect("present");
    let wa = a.commit().expect("a change");
    b.update_offer(
        the_offer(),
        &OfferPatch {
            cancel_windows: vec![window_id(1, 1)],
            ..patch_label("two rooms, bus line nearby")
        },
        &[],
        Time(BASE + HOUR),
    )
    .expect("b has not seen the withdrawal");
    b.confirm_offer(the_offer(), Time(BASE + 2 * HOUR), Some(3 * DAY))
        .expect("b has not seen the withdrawal");
    let wb = b.commit().expect("a change");
    for order in [[&wa, &wb], [&wb, &wa]] {
        let mut r = Partition::new(the_org(), &[9; 32]);
        r.apply_changes(vec![change(&first)]).expect("applies");
        for c in order {
            r.apply_changes(vec![change(c)]).expect("applies");
        }
        let o = r.offer(the_offer()).expect("present");
        assert!(o.withdrawn);
        assert_eq!(o.fields.label, "two rooms, bus line nearby");
        assert!(
            o.windows
                .iter()
                .any(|w| w.id == window_id(1, 1) && w.cancelled)
        );
        assert_eq!(o.last_confirmed_at, Time(BASE + 2 * HOUR));
        // b's confirmation overwrote the initial expiry and nobody else wrote one.
        assert_eq!(o.expires_at, Time(BASE + 2 * HOUR + 3 * DAY));
    }
}

/// Three devices confirm concurrently. The latest confirmation arrives last and loses
/// last-writer-wins to a value already in conflict, so the visible value does not change; the
/// offer still reads as the latest of the three, and a view refreshed with the returned
/// `Touched` must show that too.
#[test]
fn a_third_concurrent_confirmation_reaches_the_view() {
    let (first, _) = initial();
    let mut changes = Vec::new();
    // Device 1 (the lowest actor, so it loses ties) confirms last of all.
    for (actor, hour) in [(1u8, 9), (2, 5), (3, 7)] {
        let mut d = Partition::new(the_org(), &[actor; 32]);
        d.apply_changes(vec![change(&first)]).expect("applies");
        d.confirm_offer(the_offer(), Time(BASE + hour * HOUR), Some(DAY))
            .expect("present");
        changes.push(d.commit().expect("a change"));
    }
    let mut r = Partition::new(the_org(), &[9; 32]);
    let mut view = View::new();
    for c in [&first, &changes[1], &changes[2], &changes[0]] {
        let t = r.apply_changes(vec![change(c)]).expect("applies");
        view.refresh(&r, &t);
    }
    let o = r.offer(the_offer()).expect("present");
    assert_eq!(o.last_confirmed_at, Time(BASE + 9 * HOUR));
    assert_eq!(o.expires_at, Time(BASE + 9 * HOUR + DAY));
    assert_eq!(
        view.offer(the_org(), the_offer()),
        Some(&o),
        "the view missed the third confirmation"
    );
}
