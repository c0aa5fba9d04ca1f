//! A hostile or newer writer puts arbitrary values under arbitrary keys of a partition. Reading
//! must stay total: no panic in `contents`, `View::refresh`, queries or verdicts; every record
//! either reads as a valid one or is reported as an issue.

use std::collections::BTreeSet;

use proptest::prelude::*;
use puente_crdt::automerge::transaction::Transactable;
use puente_crdt::automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use puente_crdt::time::Time;
use puente_crdt::{
    BondBand, Decision, Hold, Kind, NewOffer, NewWindow, OrgId, OrgProfile, Partition, Query,
    Touched, Unit, View,
};

use crate::support::{
    BASE, DAY, HOUR, TZ, change, fields, hold_id, offer_id, org, window, window_id,
};

fn owner() -> OrgId {
    org(1)
}

fn partner() -> OrgId {
    org(2)
}

/// Valid partitions: the owner's (profile, a host offer with a one-off and a weekly window, a
/// standing bond fund, a decision) and the partner's (two holds).
fn base() -> (Partition, Partition) {
    let mut o = Partition::new(owner(), &[1; 32]);
    o.set_profile(&OrgProfile {
        name: "Red de Acompañamiento".into(),
        counties: vec!["06067".parse().expect("valid")],
        kinds: vec![Kind::HostHome],
        intake: "signal: red-acomp.01".into(),
        tz: TZ.into(),
    })
    .expect("valid profile");
    let host = NewOffer {
        fields: fields(Kind::HostHome, "host-7f3k"),
        windows: vec![
            window(BASE + DAY, BASE + 15 * DAY, 2),
            NewWindow {
                weekly: true,
                ..window(BASE + 3 * DAY + 13 * HOUR, BASE + 3 * DAY + 16 * HOUR, 2)
            },
        ],
        expires_in: None,
    };
    o.add_offer(
        offer_id(1, 0),
        &host,
        &[window_id(1, 0), window_id(1, 1)],
        Time(BASE),
    )
    .expect("valid offer");
    let mut bond = fields(Kind::BondFund, "fund-a");
    bond.unit = Unit::Usd;
    bond.bond_band = Some(BondBand::Over15k);
    bond.post_within = Some(2 * DAY);
    let bond = NewOffer {
        fields: bond,
        windows: vec![],
        expires_in: None,
    };
    o.add_offer(offer_id(1, 1), &bond, &[], Time(BASE))
        .expect("valid offer");
    o.decide(hold_id(2, 0), Decision::Confirmed)
        .expect("writes");
    o.commit();
    let mut p = Partition::new(partner(), &[2; 32]);
    for (n, (w, from, to)) in [
        (window_id(1, 0), BASE + 2 * DAY, BASE + 4 * DAY),
        (
            window_id(1, 1),
            BASE + 10 * DAY + 13 * HOUR,
            BASE + 10 * DAY + 14 * HOUR,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        p.place_hold(&Hold {
            id: hold_id(2, n as u8),
            requester: partner(),
            owner: owner(),
            offer: offer_id(1, 0),
            window: w,
            qty: 1,
            from: Time(from),
            to: Time(to),
            created_at: Time(BASE),
            expires_at: Time(BASE + 2 * DAY),
            released: false,
        })
        .expect("valid hold");
    }
    p.commit();
    (o, p)
}

/// Where an edit goes.
#[derive(Debug, Clone)]
enum Target {
    Root,
    Profile,
    /// One of the two offers.
    Offer(usize),
    /// A window of the host offer: 0 and 1 exist, 2 is a new one filled with valid values.
    Window(usize),
    /// One of the partner's holds.
    Hold(usize),
}

#[derive(Debug, Clone)]
enum Val {
    Scalar(ScalarValue),
    Object(ObjType),
    Delete,
}

#[derive(Debug, Clone)]
struct Edit {
    /// In the partner's partition rather than the owner's.
    partner: bool,
    target: Target,
    key: String,
    val: Val,
}

const FIELD_KEYS: &[&str] = &[
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
    "label",
    "bond_band",
    "post_within",
    "created_at",
    "last_confirmed_at",
    "expires_at",
    "withdrawn",
    "start",
    "end",
    "tz",
    "weekly",
    "total",
    "cancelled",
    "owner",
    "offer",
    "window",
    "qty",
    "from",
    "to",
    "released",
    "name",
    "intake",
    "schema",
    "profile",
];

const OFFER_KEYS: &[&str] = &[
    "kind",
    "handle",
    "subject",
    "counties",
    "zone",
    "languages",
    "accepts",
    "affirming",
    "capabilities",
    "unit",
    "lead_time",
    "max_stay",
    "vetting",
    "status",
    "label",
    "bond_band",
    "post_within",
    "created_at",
    "last_confirmed_at",
    "expires_at",
    "withdrawn",
];
const WINDOW_KEYS: &[&str] = &["start", "end", "tz", "weekly", "total", "cancelled"];
const HOLD_KEYS: &[&str] = &[
    "owner",
    "offer",
    "window",
    "qty",
    "from",
    "to",
    "created_at",
    "expires_at",
    "released",
];
const PROFILE_KEYS: &[&str] = &["name", "counties", "kinds", "intake", "tz"];

/// A key for `target`: mostly one it has, sometimes any.
fn key_for(target: &Target) -> BoxedStrategy<String> {
    let own: &'static [&'static str] = match target {
        Target::Root => return key().boxed(),
        Target::Profile => PROFILE_KEYS,
        Target::Offer(_) => OFFER_KEYS,
        Target::Window(_) => WINDOW_KEYS,
        Target::Hold(_) => HOLD_KEYS,
    };
    prop_oneof![
        4 => prop::sample::select(own).prop_map(str::to_string),
        1 => key(),
    ]
    .boxed()
}

fn key() -> impl Strategy<Value = String> {
    let ids = [
        format!("offer:{}", offer_id(1, 0)),
        format!("offer:{}", offer_id(1, 1)),
        format!("offer:{}", offer_id(1, 9)),
        format!("hold:{}", hold_id(2, 0)),
        format!("hold:{}", hold_id(2, 7)),
        format!("decision:{}", hold_id(2, 0)),
        format!("decision:{}", hold_id(2, 1)),
        format!("win:{}", window_id(1, 0)),
        format!("win:{}", window_id(1, 9)),
        "win:not-an-id".to_string(),
        "offer:zzzz".to_string(),
        "decision:".to_string(),
    ];
    prop_oneof![
        6 => prop::sample::select(FIELD_KEYS).prop_map(str::to_string),
        3 => prop::sample::select(ids.to_vec()),
        1 => "[a-z:_]{0,12}",
    ]
}

const TEXTS: &[&str] = &[
    "",
    "host-home",
    "bond-fund",
    "shelter-bed",
    "hostel",
    "household",
    "org-program",
    "usd",
    "bed",
    "org-vetted",
    "capacity",
    "over-15k",
    "1k-5k",
    "06067",
    "06067;06113",
    "6067",
    "06067;;06113,",
    "es;mam:phone",
    "mam:sometimes",
    "spanish!",
    "trans-women;adult-women",
    "trans",
    "has-car",
    "quiet room",
    "call 916-555-0199",
    "1234 Elm St",
    "write maria@example.org",
    "case A123456789",
    "Maria Lopez",
    "host-7f3k",
    "UTC",
    "America/Los_Angeles",
    "Mars/Olympus",
    "confirmed",
    "declined",
    "maybe",
    "1g0s2g0s2g0s2g0s",
    "0410410410410410",
    "08208208208208208",
];

fn scalar() -> impl Strategy<Value = ScalarValue> {
    let extremes = prop_oneof![
        Just(i64::MIN),
        Just(i64::MIN + 1),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        Just(1),
        Just(u32::MAX as i64 + 1),
        Just(BASE),
        BASE - 30 * DAY..BASE + 30 * DAY,
    ];
    let mut ids: Vec<String> = vec![
        offer_id(1, 0).to_string(),
        window_id(1, 0).to_string(),
        window_id(1, 1).to_string(),
        owner().to_string(),
        partner().to_string(),
    ];
    ids.extend(TEXTS.iter().map(|s| s.to_string()));
    prop_oneof![
        3 => extremes.clone().prop_map(ScalarValue::Int),
        1 => any::<i64>().prop_map(ScalarValue::Int),
        1 => prop_oneof![Just(u64::MAX), Just(0u64), Just(3), any::<u64>()]
            .prop_map(ScalarValue::Uint),
        1 => any::<f64>().prop_map(ScalarValue::F64),
        2 => any::<bool>().prop_map(ScalarValue::Boolean),
        1 => Just(ScalarValue::Null),
        1 => prop::collection::vec(any::<u8>(), 0..6).prop_map(ScalarValue::Bytes),
        1 => extremes.clone().prop_map(ScalarValue::counter),
        1 => extremes.prop_map(ScalarValue::Timestamp),
        4 => prop::sample::select(ids).prop_map(|s| ScalarValue::Str(s.into())),
        1 => "\\PC{0,90}".prop_map(|s| ScalarValue::Str(s.into())),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let target = prop_oneof![
        1 => Just(Target::Root),
        1 => Just(Target::Profile),
        3 => (0usize..2).prop_map(Target::Offer),
        3 => (0usize..3).prop_map(Target::Window),
        2 => (0usize..2).prop_map(Target::Hold),
    ];
    let val = prop_oneof![
        8 => scalar().prop_map(Val::Scalar),
        1 => prop_oneof![Just(ObjType::Map), Just(ObjType::List), Just(ObjType::Text)]
            .prop_map(Val::Object),
        1 => Just(Val::Delete),
    ];
    (target, val)
        .prop_flat_map(|(target, val)| (key_for(&target), Just(target), Just(val)))
        .prop_map(|(key, target, val)| {
            let partner = matches!(target, Target::Hold(_));
            Edit {
                partner,
                target,
                key,
                val,
            }
        })
}

fn map_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
        _ => None,
    }
}

/// Applies `edits` with a hostile actor, returning the changes it made.
fn hostile(base: &mut Partition, edits: &[&Edit]) -> Vec<Vec<u8>> {
    let mut doc = AutoCommit::load(&base.save())
        .expect("loads")
        .with_actor(vec![0x66; 32].into());
    let heads = doc.get_heads();
    let host = format!("offer:{}", offer_id(1, 0));
    for e in edits {
        let obj = match &e.target {
            Target::Root => Some(ROOT),
            Target::Profile => map_at(&doc, &ROOT, "profile"),
            Target::Offer(n) => map_at(&doc, &ROOT, &format!("offer:{}", offer_id(1, *n as u8))),
            Target::Window(n) => map_at(&doc, &ROOT, &host).and_then(|offer| {
                let key = format!("win:{}", window_id(1, *n as u8));
                if *n == 2 && map_at(&doc, &offer, &key).is_none() {
                    let w = doc.put_object(&offer, key.as_str(), ObjType::Map).ok()?;
                    doc.put(&w, "start", BASE + 2 * DAY).ok()?;
                    doc.put(&w, "end", BASE + 3 * DAY).ok()?;
                    doc.put(&w, "tz", TZ).ok()?;
                    doc.put(&w, "weekly", true).ok()?;
                    doc.put(&w, "total", 1u64).ok()?;
                }
                map_at(&doc, &offer, &key)
            }),
            Target::Hold(n) => map_at(&doc, &ROOT, &format!("hold:{}", hold_id(2, *n as u8))),
        };
        let Some(obj) = obj else { continue };
        // Automerge may refuse some writes (a counter increment-only key, say); that is fine.
        let _ = match &e.val {
            Val::Scalar(v) => doc.put(&obj, e.key.as_str(), v.clone()),
            Val::Object(t) => doc.put_object(&obj, e.key.as_str(), *t).map(|_| ()),
            Val::Delete => doc.delete(&obj, e.key.as_str()),
        };
    }
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Every root key names a record that was read or an issue that says why not.
fn check_total(p: &Partition) {
    let c = p.contents();
    for o in &c.offers {
        let mut f = o.fields.clone();
        assert_eq!(
            f.normalize_and_validate(),
            Ok(()),
            "offer {} is invalid",
            o.id
        );
        assert_eq!(f, o.fields, "offer {} is not in normal form", o.id);
        for w in &o.windows {
            let nw = NewWindow {
                start: w.start,
                end: w.end,
                tz: w.tz.clone(),
                weekly: w.weekly,
                total: w.total,
            };
            assert_eq!(nw.validate(), Ok(()), "window {} is invalid", w.id);
        }
    }
    for h in &c.holds {
        assert_eq!(h.validate(), Ok(()), "hold {} is invalid", h.id);
        assert_eq!(h.requester, p.org());
    }
    let mut read: BTreeSet<String> = BTreeSet::new();
    read.extend(c.offers.iter().map(|o| format!("offer:{}", o.id)));
    read.extend(c.holds.iter().map(|h| format!("hold:{}", h.id)));
    read.extend(c.decisions.iter().map(|(id, _)| format!("decision:{id}")));
    if c.profile.is_some() {
        read.insert("profile".into());
    }
    let issues: BTreeSet<String> = c.issues.iter().map(|i| i.key.clone()).collect();
    for key in p.doc().keys(ROOT) {
        if key != "schema" {
            assert!(
                read.contains(&key) != issues.contains(&key),
                "root key {key} must be read or reported, exactly once: {:?}",
                c.issues
            );
        }
    }
}

/// Everything a node does with a view, which must not panic on any stored record.
fn exercise(view: &View, now: Time) -> Vec<String> {
    let mut out = Vec::new();
    let queries = [
        Query::default(),
        Query {
            include_expired: true,
            include_withdrawn: true,
            ..Query::default()
        },
        Query {
            from: Some(Time(BASE + 2 * DAY)),
            to: Some(Time(BASE + 3 * DAY)),
            qty: Some(1),
            include_expired: true,
            ..Query::default()
        },
        Query {
            from: Some(Time(BASE + 10 * DAY + 13 * HOUR)),
            to: Some(Time(BASE + 10 * DAY + 14 * HOUR)),
            ..Query::default()
        },
        Query {
            fresh_within: Some(DAY),
            min_usd: Some(1_000),
            post_within: Some(3 * DAY),
            include_expired: true,
            ..Query::default()
        },
    ];
    for q in &queries {
        for h in view.query(q, now) {
            out.push(format!("{} {:?} {:?}", h.offer.id, h.available, h.soonest));
        }
    }
    for v in view.holds(now, None, None) {
        out.push(format!("{} {}", v.hold.id, v.status.as_str()));
    }
    let mut offers: Vec<_> = view.offers().collect();
    offers.sort_by_key(|o| (o.owner, o.id));
    for o in offers {
        for w in &o.windows {
            out.push(format!(
                "{} {}",
                w.id,
                view.available(o, w, w.start, w.end, now)
            ));
        }
    }
    out
}

fn full() -> Touched {
    Touched {
        all: true,
        ..Touched::default()
    }
}

/// Applies `edits` with a hostile actor and checks everything a node reads afterwards.
fn check_edits(edits: &[Edit], now: Time) {
    let (mut o, mut p) = base();
    let base_changes = [
        o.doc().clone().get_changes(&[]),
        p.doc().clone().get_changes(&[]),
    ];
    let owner_edits: Vec<&Edit> = edits.iter().filter(|e| !e.partner).collect();
    let partner_edits: Vec<&Edit> = edits.iter().filter(|e| e.partner).collect();
    let bad = [
        hostile(&mut o, &owner_edits),
        hostile(&mut p, &partner_edits),
    ];

    // A node that had the valid records and receives the hostile changes.
    let mut incremental = View::new();
    let mut parts = Vec::new();
    for (n, org) in [owner(), partner()].into_iter().enumerate() {
        let mut q = Partition::new(org, &[0xee; 32]);
        let t = q.apply_changes(base_changes[n].clone()).expect("applies");
        incremental.refresh(&q, &t);
        let changes = bad[n].iter().map(|c| change(c)).collect();
        let t = q
            .apply_changes(changes)
            .expect("hostile changes still apply");
        incremental.refresh(&q, &t);
        check_total(&q);
        parts.push(q);
    }
    // A node that reads the result in one go.
    let mut whole = View::new();
    for q in &parts {
        whole.refresh(q, &full());
    }

    let mut a: Vec<_> = incremental.offers().cloned().collect();
    let mut b: Vec<_> = whole.offers().cloned().collect();
    a.sort_by_key(|o| (o.owner, o.id));
    b.sort_by_key(|o| (o.owner, o.id));
    assert_eq!(&a, &b, "the incremental view missed a change");
    let ea = exercise(&incremental, now);
    let eb = exercise(&whole, now);
    assert_eq!(ea, eb);
    // Every issue the incremental view reports, a full read reports too (the converse is
    // `unattributable_root_keys_are_reported_by_an_incremental_refresh`).
    for (org, issues) in incremental.issues() {
        let all = whole.issues().get(org).cloned().unwrap_or_default();
        for (key, reason) in issues {
            assert_eq!(all.get(key), Some(reason), "issue {} of {}", key, org);
        }
    }
}

proptest! {
    #![proptest_config(crate::support::config(64))]

    #[test]
    fn malformed_records_are_reported_never_fatal(
        edits in prop::collection::vec(edit(), 1..8),
        now_days in 0i64..20,
    ) {
        check_edits(&edits, Time(BASE + now_days * DAY));
    }
}

/// A window spanning nearly all of time must be refused, not overflow while being checked.
#[test]
fn extreme_window_bounds_are_refused_without_overflow() {
    let w = NewWindow {
        start: Time(i64::MIN + 1),
        end: Time(i64::MAX),
        tz: TZ.into(),
        weekly: false,
        total: 1,
    };
    assert!(w.validate().is_err());
}

/// A root key that names no known record (a newer writer's record type, or an offer key with a
/// bad id) is reported by a full read, so an incremental refresh must report it too.
#[test]
fn unattributable_root_keys_are_reported_by_an_incremental_refresh() {
    let (mut o, _) = base();
    let mut doc = AutoCommit::load(&o.save())
        .expect("loads")
        .with_actor(vec![0x66; 32].into());
    let heads = doc.get_heads();
    doc.put(ROOT, "offer:zzzz", "x").expect("writes");
    doc.put(ROOT, "req:0001", "from a newer version")
        .expect("writes");
    doc.commit();
    let mut q = Partition::new(owner(), &[0xee; 32]);
    let mut view = View::new();
    let t = q
        .apply_changes(o.doc().clone().get_changes(&[]))
        .expect("applies");
    view.refresh(&q, &t);
    let t = q.apply_changes(doc.get_changes(&heads)).expect("applies");
    view.refresh(&q, &t);
    let issues: Vec<String> = q.contents().issues.into_iter().map(|i| i.key).collect();
    assert_eq!(issues, ["offer:zzzz", "req:0001"]);
    let seen: Vec<String> = view
        .issues()
        .get(&owner())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        seen, issues,
        "the incremental view reports what a full read reports"
    );
}

fn scalar_edit(target: Target, key: &str, v: ScalarValue) -> Edit {
    Edit {
        partner: matches!(target, Target::Hold(_)),
        target,
        key: key.into(),
        val: Val::Scalar(v),
    }
}

/// `fresh_within` subtracts the confirmation time from now.
#[test]
fn a_confirmation_at_the_start_of_time_does_not_overflow_freshness() {
    let edits = [scalar_edit(
        Target::Offer(0),
        "last_confirmed_at",
        ScalarValue::Int(i64::MIN),
    )];
    check_edits(&edits, Time(BASE));
}

/// A weekly window near the start of time is valid on its own; walking its weeks must not
/// overflow.
#[test]
fn a_weekly_window_at_the_start_of_time_does_not_overflow_queries() {
    let edits = [
        scalar_edit(Target::Window(1), "start", ScalarValue::Int(i64::MIN + 10)),
        scalar_edit(
            Target::Window(1),
            "end",
            ScalarValue::Int(i64::MIN + 10 + HOUR),
        ),
    ];
    check_edits(&edits, Time(BASE));
}

/// A hold reaching back to the start of time on a weekly window must be judged, not overflow.
#[test]
fn a_hold_from_the_start_of_time_does_not_overflow_verdicts() {
    let edits = [scalar_edit(
        Target::Hold(1),
        "from",
        ScalarValue::Int(i64::MIN + 1),
    )];
    check_edits(&edits, Time(BASE));
}

/// Freshness words for any stored time.
#[test]
fn freshness_of_extreme_times_does_not_overflow() {
    use puente_crdt::time::ago;
    assert!(ago(Time(BASE), Time(i64::MIN)).ends_with(" d ago"));
    assert!(ago(Time(BASE), Time(i64::MAX)).starts_with("in "));
    assert!(!Time(i64::MIN).rfc3339().is_empty());
}
