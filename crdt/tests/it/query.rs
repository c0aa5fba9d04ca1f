//! Query semantics on a small hand-built network: three owners (an accompaniment network, a
//! shelter, a bond fund) and one partner placing holds. Now is Monday 2026-11-23 12:00 in
//! Sacramento.

use puente_crdt::schema::parse_list;
use puente_crdt::time::Time;
use puente_crdt::{
    Accepts, Affirming, BondBand, Capability, Hit, Hold, HoldStatus, Kind, LanguageQuery, NewOffer,
    NewWindow, OfferFields, OfferId, OrgId, Partition, Query, StatusHint, SubjectType, Touched,
    Unit, View,
};

use crate::support::{DAY, HOUR, TZ, at, fields, hold_id, offer_id, org, window_id};

fn now() -> Time {
    at("2026-11-23T12:00")
}

fn accomp() -> OrgId {
    org(1)
}
fn shelter_org() -> OrgId {
    org(2)
}
fn fund() -> OrgId {
    org(3)
}
fn partner() -> OrgId {
    org(4)
}

/// One offer of the data set.
struct Spec {
    owner: OrgId,
    id: OfferId,
    fields: OfferFields,
    windows: Vec<NewWindow>,
    confirmed: Time,
    expires_in: Option<i64>,
    withdrawn: bool,
}

fn spec(owner: OrgId, id: OfferId, fields: OfferFields, confirmed_ago: i64) -> Spec {
    Spec {
        owner,
        id,
        fields,
        windows: vec![],
        confirmed: now().plus(-confirmed_ago),
        expires_in: None,
        withdrawn: false,
    }
}

fn days(from: &str, to: &str, total: u32) -> NewWindow {
    NewWindow {
        start: at(from),
        end: at(to),
        tz: TZ.into(),
        weekly: false,
        total,
    }
}

fn langs(text: &str) -> Vec<puente_crdt::Language> {
    parse_list(text).expect("valid languages")
}

fn counties(text: &str) -> Vec<puente_crdt::County> {
    parse_list(text).expect("valid counties")
}

fn f(kind: Kind, handle: &str, change: impl FnOnce(&mut OfferFields)) -> OfferFields {
    let mut x = fields(kind, handle);
    x.accepts = vec![];
    x.affirming = vec![];
    change(&mut x);
    x
}

// Offer ids, named for the assertions.
const HOST1: (u8, u8) = (1, 1);
const HOST2: (u8, u8) = (1, 2);
const COURT: (u8, u8) = (1, 3);
const INTERP: (u8, u8) = (1, 4);
const EXPIRED: (u8, u8) = (1, 5);
const SHELTER: (u8, u8) = (2, 1);
const DV: (u8, u8) = (2, 2);
const WITHDRAWN: (u8, u8) = (2, 3);
const BOND1: (u8, u8) = (3, 1);
const BOND2: (u8, u8) = (3, 2);

fn id(x: (u8, u8)) -> OfferId {
    offer_id(x.0, x.1)
}

fn specs() -> Vec<Spec> {
    let mut v = Vec::new();

    let mut s = spec(
        accomp(),
        id(HOST1),
        f(Kind::HostHome, "host-7f3k", |x| {
            x.languages = langs("es;en:conversational");
            x.accepts = vec![Accepts::TransWomen, Accepts::AdultWomen];
            x.affirming = vec![Affirming::Trans, Affirming::Lgbtq];
            x.zone = Some("oak-park".into());
        }),
        5 * HOUR,
    );
    s.windows = vec![days("2026-11-24", "2026-12-08", 2)];
    v.push(s);

    let mut s = spec(
        accomp(),
        id(HOST2),
        f(Kind::HostHome, "host-2b9q", |x| {
            x.counties = counties("06113");
            x.languages = langs("mam:phone;es");
            x.accepts = vec![Accepts::FamiliesWithChildren];
            x.zone = Some("west-sac".into());
        }),
        30 * HOUR,
    );
    s.windows = vec![days("2026-11-30", "2026-12-14", 1)];
    v.push(s);

    // Court accompaniment every Thursday 13:00-16:00, starting this Thursday.
    let mut s = spec(
        accomp(),
        id(COURT),
        f(Kind::AccompanyCourt, "vol-team-3", |x| {
            x.subject = SubjectType::PersonVolunteer;
            x.languages = langs("es;en");
            x.capabilities = vec![Capability::HasCar];
        }),
        HOUR,
    );
    s.windows = vec![NewWindow {
        weekly: true,
        ..days("2026-11-26T13:00", "2026-11-26T16:00", 2)
    }];
    s.expires_in = Some(60 * DAY);
    v.push(s);

    let mut s = spec(
        accomp(),
        id(INTERP),
        f(Kind::Interpretation, "interp-k2", |x| {
            x.subject = SubjectType::PersonVolunteer;
            x.languages = langs("mam:relay-via-es;quc:phone");
            x.unit = Unit::Shift;
        }),
        4 * DAY,
    );
    s.expires_in = Some(30 * DAY);
    v.push(s);

    // Confirmed 20 days ago with the 14-day default: expired six days ago.
    let mut s = spec(
        accomp(),
        id(EXPIRED),
        f(Kind::HostHome, "host-old1", |x| {
            x.accepts = vec![Accepts::AdultWomen];
        }),
        20 * DAY,
    );
    s.windows = vec![days("2026-11-20", "2026-12-20", 1)];
    v.push(s);

    let mut s = spec(
        shelter_org(),
        id(SHELTER),
        f(Kind::ShelterBed, "beds-north", |x| {
            x.subject = SubjectType::OrgFacility;
            x.counties = counties("06067;06061");
            x.languages = langs("quc:relay-via-es;es");
            x.accepts = vec![
                Accepts::AdultWomen,
                Accepts::FamiliesWithChildren,
                Accepts::TransWomen,
            ];
            x.affirming = vec![Affirming::Lgbtq];
        }),
        2 * HOUR,
    );
    s.windows = vec![days("2026-11-23", "2026-12-23", 3)];
    v.push(s);

    v.push(spec(
        shelter_org(),
        id(DV),
        f(Kind::DvConfidentialShelter, "dv-beds", |x| {
            x.subject = SubjectType::OrgFacility;
            x.counties = counties("06067;06113");
            x.accepts = vec![Accepts::AdultWomen, Accepts::FamiliesWithChildren];
        }),
        3 * HOUR,
    ));

    let mut s = spec(
        shelter_org(),
        id(WITHDRAWN),
        f(Kind::HostHome, "host-gone", |x| {
            x.accepts = vec![Accepts::AdultWomen];
        }),
        HOUR,
    );
    s.windows = vec![days("2026-11-23", "2026-12-23", 2)];
    s.withdrawn = true;
    v.push(s);

    v.push(spec(
        fund(),
        id(BOND1),
        f(Kind::BondFund, "fund-a", |x| {
            x.subject = SubjectType::OrgProgram;
            x.unit = Unit::Usd;
            x.bond_band = Some(BondBand::From5kTo15k);
            x.post_within = Some(48 * HOUR);
        }),
        6 * HOUR,
    ));
    v.push(spec(
        fund(),
        id(BOND2),
        f(Kind::BondFund, "fund-b", |x| {
            x.subject = SubjectType::OrgProgram;
            x.unit = Unit::Usd;
            x.bond_band = Some(BondBand::From1kTo5k);
            x.post_within = Some(7 * DAY);
        }),
        3 * DAY,
    ));
    v
}

/// The partner's holds: on the shelter, 2 beds pending on Nov 25-27, 1 released on Dec 1-3,
/// 2 pending then 2 overbooked on Dec 10-12; on the court team, 2 people next week.
fn holds() -> Vec<(Hold, bool)> {
    let hold = |n: u8, offer: (u8, u8), w: u8, qty, from: &str, to: &str, hours_ago: i64| Hold {
        id: hold_id(4, n),
        requester: partner(),
        owner: org(offer.0),
        offer: id(offer),
        window: window_id(offer.0 * 16 + offer.1, w),
        qty,
        from: at(from),
        to: at(to),
        created_at: now().plus(-hours_ago * HOUR),
        expires_at: now().plus(48 * HOUR),
        released: false,
    };
    vec![
        (hold(1, SHELTER, 0, 2, "2026-11-25", "2026-11-27", 3), false),
        (hold(2, SHELTER, 0, 1, "2026-12-01", "2026-12-03", 3), true),
        (hold(3, SHELTER, 0, 2, "2026-12-10", "2026-12-12", 2), false),
        (hold(4, SHELTER, 0, 2, "2026-12-10", "2026-12-12", 1), false),
        (
            hold(5, COURT, 0, 2, "2026-12-03T13:00", "2026-12-03T16:00", 1),
            false,
        ),
    ]
}

fn dataset() -> View {
    let mut parts: Vec<Partition> = [accomp(), shelter_org(), fund(), partner()]
        .iter()
        .map(|o| Partition::new(*o, o.as_bytes()))
        .collect();
    for s in specs() {
        let p = parts
            .iter_mut()
            .find(|p| p.org() == s.owner)
            .expect("an owner");
        let ids: Vec<_> = (0..s.windows.len())
            .map(|k| window_id(s.id.as_bytes()[0] * 16 + s.id.as_bytes()[9], k as u8))
            .collect();
        let offer = NewOffer {
            fields: s.fields,
            windows: s.windows,
            expires_in: s.expires_in,
        };
        p.add_offer(s.id, &offer, &ids, s.confirmed)
            .expect("valid offer");
        if s.withdrawn {
            p.withdraw_offer(s.id).expect("present");
        }
        p.commit();
    }
    for (h, release) in holds() {
        parts[3].place_hold(&h).expect("valid hold");
        if release {
            parts[3].release_hold(h.id).expect("present");
        }
    }
    parts[3].commit();
    let mut view = View::new();
    for p in &parts {
        assert!(p.contents().issues.is_empty());
        view.refresh(
            p,
            &Touched {
                all: true,
                ..Touched::default()
            },
        );
    }
    view
}

/// Handles of the hits, in answer order.
fn handles(hits: &[Hit<'_>]) -> Vec<String> {
    hits.iter().map(|h| h.offer.fields.handle.clone()).collect()
}

/// Handles of the hits, sorted, for filters whose order is tested elsewhere.
fn found(view: &View, q: &Query) -> Vec<String> {
    let mut v = handles(&view.query(q, now()));
    v.sort();
    v
}

fn names(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn lq(text: &str) -> Vec<LanguageQuery> {
    text.split(',')
        .map(|t| t.parse().expect("valid language query"))
        .collect()
}

#[test]
fn the_data_set_reads_back_with_the_expected_verdicts() {
    let view = dataset();
    assert_eq!(view.offer_count(), 10);
    let statuses: Vec<(u8, HoldStatus)> = view
        .holds(now(), None, None)
        .iter()
        .map(|v| (v.hold.id.as_bytes()[9], v.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (1, HoldStatus::Pending),
            (2, HoldStatus::Released),
            (3, HoldStatus::Pending),
            (4, HoldStatus::Overbooked),
            (5, HoldStatus::Pending),
        ]
    );
}

#[test]
fn filters_by_kind_any_of() {
    let view = dataset();
    let q = |kinds: Vec<Kind>| Query {
        kinds,
        ..Query::default()
    };
    assert_eq!(
        found(&view, &q(vec![Kind::HostHome])),
        names(&["host-7f3k", "host-2b9q"])
    );
    assert_eq!(
        found(&view, &q(vec![Kind::HostHome, Kind::ShelterBed])),
        names(&["host-7f3k", "host-2b9q", "beds-north"])
    );
    assert_eq!(found(&view, &q(vec![Kind::HivCare])), names(&[]));
    assert_eq!(found(&view, &Query::default()).len(), 8, "all live offers");
}

#[test]
fn filters_by_county_any_of() {
    let view = dataset();
    let q = |c: &str| Query {
        counties: counties(c),
        ..Query::default()
    };
    assert_eq!(found(&view, &q("06113")), names(&["host-2b9q", "dv-beds"]));
    assert_eq!(found(&view, &q("06061")), names(&["beds-north"]));
    assert_eq!(
        found(&view, &q("06113;06061")),
        names(&["host-2b9q", "dv-beds", "beds-north"])
    );
    assert_eq!(found(&view, &q("06001")), names(&[]));
}

#[test]
fn filters_by_zone_any_of_without_regard_to_case() {
    let view = dataset();
    let q = |zones: &[&str]| Query {
        zones: zones.iter().map(|z| z.to_string()).collect(),
        ..Query::default()
    };
    assert_eq!(found(&view, &q(&["OAK-park"])), names(&["host-7f3k"]));
    assert_eq!(
        found(&view, &q(&["oak-park", "west-sac"])),
        names(&["host-7f3k", "host-2b9q"])
    );
    assert_eq!(found(&view, &q(&["no-such-zone"])), names(&[]));
}

#[test]
fn filters_by_language_with_and_without_mode() {
    let view = dataset();
    let q = |text: &str| Query {
        languages: lq(text),
        ..Query::default()
    };
    // No mode: any mode of Mam or K'iche' will do.
    assert_eq!(found(&view, &q("mam")), names(&["host-2b9q", "interp-k2"]));
    assert_eq!(found(&view, &q("quc")), names(&["beds-north", "interp-k2"]));
    assert_eq!(
        found(&view, &q("mam,quc")),
        names(&["host-2b9q", "interp-k2", "beds-north"])
    );
    // A mode must match exactly.
    assert_eq!(found(&view, &q("mam:phone")), names(&["host-2b9q"]));
    assert_eq!(found(&view, &q("mam:relay-via-es")), names(&["interp-k2"]));
    assert_eq!(found(&view, &q("quc:phone")), names(&["interp-k2"]));
    assert_eq!(
        found(&view, &q("mam:phone,quc:phone")),
        names(&["host-2b9q", "interp-k2"])
    );
    assert_eq!(found(&view, &q("quc:fluent")), names(&[]));
    assert_eq!(found(&view, &q("kjb")), names(&[]));
    assert_eq!(found(&view, &q("en")), names(&["host-7f3k", "vol-team-3"]));
    assert_eq!(found(&view, &q("en:fluent")), names(&["vol-team-3"]));
    assert_eq!(found(&view, &q("EN:conversational")), names(&["host-7f3k"]));
}

#[test]
fn accepts_affirming_and_capabilities_need_all_of_them() {
    let view = dataset();
    let q = Query {
        accepts: vec![Accepts::TransWomen, Accepts::AdultWomen],
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["host-7f3k", "beds-north"]));
    let q = Query {
        accepts: vec![Accepts::FamiliesWithChildren],
        ..Query::default()
    };
    assert_eq!(
        found(&view, &q),
        names(&["host-2b9q", "beds-north", "dv-beds"])
    );
    let q = Query {
        accepts: vec![Accepts::TransWomen, Accepts::FamiliesWithChildren],
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["beds-north"]));
    let q = Query {
        affirming: vec![Affirming::Trans],
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["host-7f3k"]));
    let q = Query {
        affirming: vec![Affirming::Lgbtq, Affirming::Trans],
        accepts: vec![Accepts::TransWomen],
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["host-7f3k"]));
    let q = Query {
        capabilities: vec![Capability::HasCar],
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["vol-team-3"]));
    let q = Query {
        capabilities: vec![Capability::HasCar, Capability::CarSeat],
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&[]));
}

#[test]
fn subject_and_owner_filters() {
    let view = dataset();
    let q = Query {
        subject: Some(SubjectType::OrgProgram),
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["fund-a", "fund-b"]));
    let q = Query {
        owner: Some(shelter_org()),
        ..Query::default()
    };
    assert_eq!(found(&view, &q), names(&["beds-north", "dv-beds"]));
}

fn range(from: &str, to: &str, qty: Option<u32>) -> Query {
    Query {
        kinds: vec![
            Kind::HostHome,
            Kind::ShelterBed,
            Kind::DvConfidentialShelter,
        ],
        from: Some(at(from)),
        to: Some(at(to)),
        qty,
        ..Query::default()
    }
}

fn availability(view: &View, q: &Query) -> Vec<(String, Option<u32>)> {
    let mut v: Vec<_> = view
        .query(q, now())
        .iter()
        .map(|h| (h.offer.fields.handle.clone(), h.available))
        .collect();
    v.sort();
    v
}

fn avail(pairs: &[(&str, Option<u32>)]) -> Vec<(String, Option<u32>)> {
    let mut v: Vec<_> = pairs.iter().map(|(h, a)| (h.to_string(), *a)).collect();
    v.sort();
    v
}

#[test]
fn a_range_must_lie_inside_one_window_with_the_quantity_free_after_holds() {
    let view = dataset();
    // Two beds are held on Nov 25-27: one left at the shelter; host-2b9q opens only on Nov 30;
    // the standing dv shelter cannot promise a quantity.
    let q = range("2026-11-25", "2026-11-27", Some(1));
    assert_eq!(
        availability(&view, &q),
        avail(&[("host-7f3k", Some(2)), ("beds-north", Some(1))])
    );
    let q = range("2026-11-25", "2026-11-27", Some(2));
    assert_eq!(availability(&view, &q), avail(&[("host-7f3k", Some(2))]));
    // Overlapping the held nights by one day is enough to lose the beds.
    let q = range("2026-11-26", "2026-11-29", Some(2));
    assert_eq!(availability(&view, &q), avail(&[("host-7f3k", Some(2))]));
    let q = range("2026-11-27", "2026-11-29", Some(3));
    assert_eq!(availability(&view, &q), avail(&[("beds-north", Some(3))]));
    // host-7f3k ends on Dec 8: a range to Dec 10 is not covered.
    let q = range("2026-12-05", "2026-12-10", Some(1));
    assert_eq!(
        availability(&view, &q),
        avail(&[("host-2b9q", Some(1)), ("beds-north", Some(3))])
    );
    let q = range("2026-12-07", "2026-12-08", Some(1));
    assert_eq!(
        availability(&view, &q),
        avail(&[
            ("host-7f3k", Some(2)),
            ("host-2b9q", Some(1)),
            ("beds-north", Some(3))
        ])
    );
    // The released hold frees its bed; the overbooked hold takes nothing.
    let q = range("2026-12-01", "2026-12-03", Some(3));
    assert_eq!(availability(&view, &q), avail(&[("beds-north", Some(3))]));
    let q = range("2026-12-10", "2026-12-11", Some(1));
    assert_eq!(
        availability(&view, &q),
        avail(&[("host-2b9q", Some(1)), ("beds-north", Some(1))])
    );
    let q = range("2026-12-10", "2026-12-11", Some(2));
    assert_eq!(availability(&view, &q), avail(&[]));
    // Before the shelter window and beyond every window: nothing.
    let q = range("2026-12-20", "2026-12-28", Some(1));
    assert_eq!(availability(&view, &q), avail(&[]));
    // Without a quantity, standing offers match any range (they promise no number).
    let q = range("2026-12-20", "2026-12-28", None);
    assert_eq!(availability(&view, &q), avail(&[("dv-beds", None)]));
    let hit = &view.query(&range("2026-11-25", "2026-11-27", Some(1)), now())[0];
    assert_eq!(hit.soonest, Some(at("2026-11-25")));
}

#[test]
fn weekly_windows_match_a_range_in_a_later_week() {
    let view = dataset();
    let q = |from: &str, to: &str, qty: u32| Query {
        kinds: vec![Kind::AccompanyCourt],
        from: Some(at(from)),
        to: Some(at(to)),
        qty: Some(qty),
        ..Query::default()
    };
    let hits = view.query(&q("2026-12-10T13:00", "2026-12-10T16:00", 2), now());
    assert_eq!(handles(&hits), ["vol-team-3"]);
    assert_eq!(hits[0].soonest, Some(at("2026-12-10T13:00")));
    assert_eq!(hits[0].available, Some(2));
    // A week from Thursday the partner holds both volunteers.
    assert!(
        view.query(&q("2026-12-03T13:00", "2026-12-03T16:00", 1), now())
            .is_empty()
    );
    // Part of an occurrence is fine, more than one is not.
    let hits = view.query(&q("2026-12-17T14:00", "2026-12-17T15:00", 2), now());
    assert_eq!(handles(&hits), ["vol-team-3"]);
    assert!(
        view.query(&q("2026-12-17T12:00", "2026-12-17T16:00", 1), now())
            .is_empty()
    );
    assert!(
        view.query(&q("2026-12-16T13:00", "2026-12-16T16:00", 1), now())
            .is_empty(),
        "a Wednesday is not a Thursday"
    );
    // Without a range: the next occurrence.
    let hits = view.query(
        &Query {
            kinds: vec![Kind::AccompanyCourt],
            ..Query::default()
        },
        now(),
    );
    assert_eq!(hits[0].soonest, Some(at("2026-11-26T13:00")));
    assert_eq!(hits[0].available, Some(2));
}

#[test]
fn expired_and_withdrawn_offers_are_hidden_unless_asked_for() {
    let view = dataset();
    let host = |include_expired, include_withdrawn| Query {
        kinds: vec![Kind::HostHome],
        include_expired,
        include_withdrawn,
        ..Query::default()
    };
    assert_eq!(
        found(&view, &host(false, false)),
        names(&["host-7f3k", "host-2b9q"])
    );
    let hits = view.query(&host(true, false), now());
    let mut flags: Vec<(String, bool)> = hits
        .iter()
        .map(|h| (h.offer.fields.handle.clone(), h.expired))
        .collect();
    flags.sort();
    assert_eq!(
        flags,
        vec![
            ("host-2b9q".to_string(), false),
            ("host-7f3k".to_string(), false),
            ("host-old1".to_string(), true),
        ]
    );
    assert_eq!(
        found(&view, &host(false, true)),
        names(&["host-7f3k", "host-2b9q", "host-gone"])
    );
    assert_eq!(
        found(&view, &host(true, true)),
        names(&["host-7f3k", "host-2b9q", "host-gone", "host-old1"])
    );
}

#[test]
fn expiry_has_a_grace_for_clock_skew() {
    let view = dataset();
    let o = view.offer(accomp(), id(HOST1)).expect("present");
    let q = Query {
        kinds: vec![Kind::HostHome],
        ..Query::default()
    };
    let grace = puente_crdt::view::EXPIRY_GRACE_SECS;
    let live = |t: Time| view.query(&q, t).iter().any(|h| h.offer.id == id(HOST1));
    assert!(live(o.expires_at.plus(grace)));
    assert!(!live(o.expires_at.plus(grace + 1)));
}

#[test]
fn fresh_within_keeps_recently_confirmed_offers() {
    let view = dataset();
    let q = |secs| Query {
        fresh_within: Some(secs),
        ..Query::default()
    };
    assert_eq!(
        found(&view, &q(24 * HOUR)),
        names(&["host-7f3k", "vol-team-3", "beds-north", "dv-beds", "fund-a"])
    );
    // Exactly five hours ago still counts as within five hours.
    assert_eq!(
        found(&view, &q(5 * HOUR)),
        names(&["host-7f3k", "vol-team-3", "beds-north", "dv-beds"])
    );
    assert_eq!(found(&view, &q(30 * 60)), names(&[]));
}

#[test]
fn bond_funds_by_amount_and_speed() {
    let view = dataset();
    let q = |min_usd, post_within| Query {
        min_usd,
        post_within,
        ..Query::default()
    };
    assert_eq!(found(&view, &q(Some(5_000), None)), names(&["fund-a"]));
    assert_eq!(
        found(&view, &q(Some(1_000), None)),
        names(&["fund-a", "fund-b"])
    );
    assert_eq!(found(&view, &q(Some(20_000), None)), names(&[]));
    assert_eq!(found(&view, &q(None, Some(48 * HOUR))), names(&["fund-a"]));
    assert_eq!(
        found(&view, &q(None, Some(7 * DAY))),
        names(&["fund-a", "fund-b"])
    );
    assert_eq!(found(&view, &q(None, Some(24 * HOUR))), names(&[]));
    assert_eq!(
        found(&view, &q(Some(1_000), Some(72 * HOUR))),
        names(&["fund-a"])
    );
}

#[test]
fn standing_offers_have_no_windows_and_no_quantity() {
    let view = dataset();
    let q = Query {
        kinds: vec![
            Kind::DvConfidentialShelter,
            Kind::BondFund,
            Kind::Interpretation,
        ],
        ..Query::default()
    };
    let hits = view.query(&q, now());
    assert_eq!(hits.len(), 4);
    for h in &hits {
        assert_eq!((h.available, h.window, h.soonest), (None, None, None));
    }
    let q = Query { qty: Some(1), ..q };
    assert!(
        view.query(&q, now()).is_empty(),
        "a quantity needs a window"
    );
}

#[test]
fn answers_come_soonest_first_then_freshest() {
    let view = dataset();
    let q = Query {
        kinds: vec![
            Kind::HostHome,
            Kind::ShelterBed,
            Kind::DvConfidentialShelter,
            Kind::AccompanyCourt,
        ],
        ..Query::default()
    };
    // Available now (shelter window open, dv standing): fresher first. Then by start:
    // host-7f3k tomorrow, court Thursday, host-2b9q next Monday.
    assert_eq!(
        handles(&view.query(&q, now())),
        [
            "beds-north",
            "dv-beds",
            "host-7f3k",
            "vol-team-3",
            "host-2b9q"
        ]
    );
}

#[test]
fn no_capacity_hints_sort_last_and_ties_break_by_freshness() {
    let mut p = Partition::new(org(9), &[9; 32]);
    let mk = |handle: &str, status| {
        let mut x = f(Kind::ShelterBed, handle, |_| {});
        x.status = status;
        x
    };
    let rows = [
        ("soon-stale", "2026-11-24", 48 * HOUR, StatusHint::Capacity),
        ("soon-fresh", "2026-11-24", HOUR, StatusHint::Capacity),
        ("now-stale", "2026-11-20", 72 * HOUR, StatusHint::Capacity),
        ("now-fresh", "2026-11-22", 2 * HOUR, StatusHint::Waitlist),
        ("now-full", "2026-11-22", 0, StatusHint::NoCapacity),
        ("later", "2026-11-28", 0, StatusHint::Capacity),
    ];
    for (n, (handle, start, ago, status)) in rows.iter().enumerate() {
        let offer = NewOffer {
            fields: mk(handle, *status),
            windows: vec![days(start, "2026-12-20", 1)],
            expires_in: None,
        };
        p.add_offer(
            offer_id(9, n as u8),
            &offer,
            &[window_id(9, n as u8)],
            now().plus(-ago),
        )
        .expect("valid offer");
    }
    p.commit();
    let mut view = View::new();
    view.refresh(
        &p,
        &Touched {
            all: true,
            ..Touched::default()
        },
    );
    assert_eq!(
        handles(&view.query(&Query::default(), now())),
        [
            "now-fresh",
            "now-stale",
            "soon-fresh",
            "soon-stale",
            "later",
            "now-full"
        ]
    );
}

/// `include_expired` lists expired offers so their owners can renew them; a weekly window
/// must not hide its offer just because no occurrence falls before the expiry.
#[test]
fn include_expired_lists_expired_offers_with_weekly_windows() {
    let mut p = Partition::new(org(9), &[9; 32]);
    let offer = NewOffer {
        fields: f(Kind::AccompanyCourt, "vol-team-9", |_| {}),
        windows: vec![NewWindow {
            weekly: true,
            ..days("2026-10-01T13:00", "2026-10-01T16:00", 2)
        }],
        expires_in: Some(30 * DAY),
    };
    p.add_offer(offer_id(9, 0), &offer, &[window_id(9, 0)], at("2026-10-01"))
        .expect("valid offer");
    p.commit();
    let mut view = View::new();
    view.refresh(
        &p,
        &Touched {
            all: true,
            ..Touched::default()
        },
    );
    let q = Query {
        include_expired: true,
        ..Query::default()
    };
    let hits = view.query(&q, now());
    assert_eq!(handles(&hits), ["vol-team-9"]);
    assert!(hits[0].expired);
}
