//! Golden tests: the bytes of every offer, hit and hold record shape, over a fixed view.
//! Update with `UPDATE_EXPECT=1 cargo test -p puente render`.

use super::*;

/// A view with two organisations' offers and a third's holds, fixed ids and times, so the
/// bytes of every record shape can be pinned.
pub(crate) mod fixture {
    use jiff::civil::Date;
    use puente_crdt::partition::{Partition, Touched};
    use puente_crdt::{Decision, Hold, HoldId, OfferId, OrgId, OrgProfile, Time, View, WindowId};
    use puente_node::interchange::parse_offers_csv;

    pub const TZ: &str = "America/Los_Angeles";
    /// 2026-11-23 09:00 in Sacramento.
    pub const NOW: Time = Time(1_795_453_200);
    pub const OWNER: OrgId = OrgId::from_bytes([1; 10]);
    pub const PARTNER: OrgId = OrgId::from_bytes([2; 10]);
    /// An organisation whose profile this node has not seen.
    pub const STRANGER: OrgId = OrgId::from_bytes([3; 10]);

    const OFFERS: &str = "\
handle,kind,subject,counties,zone,languages,accepts,affirming,unit,windows,lead_time,max_stay,status,expires_in,label,bond_band,post_within,vetting
tricky-a,host-home,household,06067,south-sac,es;mam:relay-via-es,trans-women,trans,room,+1d..+20d=2;+2dT13:00..+2dT16:30=1/weekly,90m,30d,,14d,\"quiet room, \"\"big\"\" bed; near bus\",,,org-vetted
tricky-bond,bond-fund,org-program,06067,,en,,,usd,,,,,30d,fund,5k-15k,36h,org-vetted
tricky-c,legal-consult,org-program,06061;06067,,en,,,slot,+1d..+5d=3,,,waitlist,60d,\" spaced label \",,,org-vetted-trained
tricky-d,legal-consult,org-program,06067,,,,,slot,+1d..+5d=3,,,,59d,=SUM(A1) not a formula,,,self-declared
tricky-gone,transport-driver,org-program,06067,,,,,seat,+1d..+2d=1,,,,21d,,,,org-vetted
old-beds,shelter-bed,org-facility,06067,,,,,bed,2026-10-24..2026-10-26=2,,,,2d,\"old, gone\",,,org-vetted
";

    fn profile(name: &str, intake: &str) -> OrgProfile {
        OrgProfile {
            name: name.into(),
            counties: vec!["06067".parse().expect("valid county")],
            kinds: vec![],
            intake: intake.into(),
            tz: TZ.into(),
        }
    }

    pub fn offer_id(n: u8) -> OfferId {
        OfferId::from_bytes([10 + n; 10])
    }

    pub fn view() -> View {
        let plan = parse_offers_csv(OFFERS.as_bytes(), Date::constant(2026, 11, 23), TZ)
            .expect("a valid file");
        assert_eq!(plan.rejected, vec![]);
        let mut a = Partition::new(OWNER, b"a");
        a.set_profile(&profile(
            "Capitol Legal & Bond",
            "hotline, ask for \"intake\"",
        ))
        .expect("a valid profile");
        for (i, (_, new)) in plan.offers.iter().enumerate() {
            let mut new = new.clone();
            if new.fields.handle == "tricky-c" {
                // The import trims cells; a label typed with `offer add` need not be.
                new.fields.label = " spaced label ".into();
            }
            let n = u8::try_from(i).expect("few offers");
            let windows: Vec<WindowId> = (0..new.windows.len())
                .map(|w| WindowId::from_bytes([n * 16 + u8::try_from(w).expect("few"); 10]))
                .collect();
            let at = if new.fields.handle == "old-beds" {
                NOW.plus(-30 * 86_400)
            } else {
                NOW
            };
            a.add_offer(offer_id(n), &new, &windows, at)
                .expect("a valid offer");
        }
        a.withdraw_offer(offer_id(4)).expect("withdrawn");
        let mut b = Partition::new(PARTNER, b"b");
        b.set_profile(&profile("Yolo Trans Health", "signal: yth-intake"))
            .expect("a valid profile");
        let mut c = Partition::new(STRANGER, b"c");
        let hold = |n: u8, requester: OrgId, offer: u8, qty: u32, days: i64| Hold {
            id: HoldId::from_bytes([100 + n; 10]),
            requester,
            owner: OWNER,
            offer: offer_id(offer),
            window: WindowId::from_bytes([offer * 16; 10]),
            qty,
            from: NOW.plus(days * 86_400),
            to: NOW.plus((days + 2) * 86_400),
            created_at: NOW.plus(i64::from(n)),
            expires_at: NOW.plus(48 * 3_600),
            released: false,
        };
        b.place_hold(&hold(1, PARTNER, 0, 1, 1)).expect("a hold");
        b.place_hold(&hold(2, PARTNER, 0, 2, 1)).expect("a hold");
        b.place_hold(&hold(3, PARTNER, 2, 1, 1)).expect("a hold");
        b.place_hold(&hold(4, PARTNER, 3, 1, 1)).expect("a hold");
        b.release_hold(HoldId::from_bytes([104; 10]))
            .expect("released");
        c.place_hold(&hold(5, STRANGER, 2, 1, 2)).expect("a hold");
        a.decide(HoldId::from_bytes([101; 10]), Decision::Confirmed)
            .expect("decided");
        a.decide(HoldId::from_bytes([103; 10]), Decision::Declined)
            .expect("decided");
        let mut view = View::new();
        for p in [&a, &b, &c] {
            view.refresh(p, &Touched::all());
        }
        view
    }
}

use expect_test::{Expect, expect};
use fixture::{NOW, offer_id};
use puente_crdt::Query;

fn offers_sorted(view: &View) -> Vec<&Offer> {
    let mut offers: Vec<&Offer> = view.offers().collect();
    offers.sort_by_key(|o| (o.expires_at, o.owner, o.id));
    offers
}

/// What `offer list --include-expired --include-withdrawn --format json` prints.
fn offer_list_json(view: &View) -> String {
    offers_json(view, &offers_sorted(view), NOW).expect("JSON")
}

/// What `offer list --include-expired --include-withdrawn --format csv` prints.
fn offer_list_csv(view: &View) -> String {
    offers_csv(view, &offers_sorted(view), NOW).expect("CSV")
}

/// What `offer show ID --format json` prints.
fn offer_show_json(view: &View, o: &Offer) -> String {
    let holds = view.verdicts(o.owner, o.id, NOW);
    offer_json(view, o, &holds, NOW).expect("JSON")
}

/// What `offer show ID --format csv` prints.
fn offer_show_csv(view: &View, o: &Offer) -> String {
    offers_csv(view, &[o], NOW).expect("CSV")
}

fn every_hit(view: &View) -> Vec<Hit<'_>> {
    let q = Query {
        include_expired: true,
        include_withdrawn: true,
        ..Query::default()
    };
    view.query(&q, NOW)
}

/// What `query --include-expired --include-withdrawn --format json` prints.
fn query_json(view: &View) -> String {
    hits_json(view, &every_hit(view), NOW).expect("JSON")
}

/// What `query --include-expired --include-withdrawn --format csv` prints.
fn query_csv(view: &View) -> String {
    hits_csv(view, &every_hit(view), NOW).expect("CSV")
}

fn every_hold(view: &View) -> Vec<HoldView> {
    let mut holds = view.holds(NOW, None, None);
    holds.sort_by_key(|v| (v.hold.created_at, v.hold.requester, v.hold.id));
    holds
}

/// What `hold list --format json` prints.
fn hold_list_json(view: &View) -> String {
    holds_json(view, &every_hold(view)).expect("JSON")
}

/// What `hold list --format csv` prints.
fn hold_list_csv(view: &View) -> String {
    holds_csv(view, &every_hold(view)).expect("CSV")
}

fn check(actual: &str, golden: &Expect) {
    golden.assert_eq(actual);
}

#[test]
fn offer_records_keep_their_bytes() {
    let view = fixture::view();
    check(
        &offer_list_csv(&view),
        &expect![[r#"
        offer_id,owner,owner_name,intake,kind,handle,subject,counties,zone,languages,accepts,affirming,accessibility,household,capabilities,unit,lead_time,max_stay,vetting,status,bond_band,post_within,label,created_at,last_confirmed_at,expires_at,withdrawn,expired
        1s7gu3of1s7gu3of,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",shelter-bed,old-beds,org-facility,06067,,,,,,,,bed,,,org-vetted,capacity,,,"old, gone",2026-10-24T17:00:00Z,2026-10-24T17:00:00Z,2026-10-26T17:00:00Z,false,true
        1850k2ga1850k2ga,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",host-home,tricky-a,household,06067,south-sac,es:fluent;mam:relay-via-es,trans-women,trans,,,,room,90m,30d,org-vetted,capacity,,,"quiet room, ""big"" bed; near bus",2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-07T17:00:00Z,false,false
        1o70s3ge1o70s3ge,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",transport-driver,tricky-gone,org-program,06067,,,,,,,,seat,,,org-vetted,capacity,,,,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-14T17:00:00Z,true,false
        1c5gm2ob1c5gm2ob,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",bond-fund,tricky-bond,org-program,06067,,en:fluent,,,,,,usd,,,org-vetted,capacity,5k-15k,36h,fund,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-23T17:00:00Z,false,false
        1k6gq38d1k6gq38d,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",legal-consult,tricky-d,org-program,06067,,,,,,,,slot,,,self-declared,capacity,,,=SUM(A1) not a formula,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2027-01-21T17:00:00Z,false,false
        1g60o30c1g60o30c,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",legal-consult,tricky-c,org-program,06061;06067,,en:fluent,,,,,,slot,,,org-vetted-trained,waitlist,,, spaced label ,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2027-01-22T17:00:00Z,false,false
    "#]],
    );
    check(
        &offer_list_json(&view),
        &expect![[r#"
        [
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-10-24T17:00:00Z",
            "expired": true,
            "expires_at": "2026-10-26T17:00:00Z",
            "handle": "old-beds",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "shelter-bed",
            "label": "old, gone",
            "languages": [],
            "last_confirmed_at": "2026-10-24T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1s7gu3of1s7gu3of",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "status": "capacity",
            "subject": "org-facility",
            "unit": "bed",
            "vetting": "org-vetted",
            "windows": [
              {
                "available": null,
                "cancelled": false,
                "end": "2026-10-26T07:00:00Z",
                "next_end": null,
                "next_start": null,
                "start": "2026-10-24T07:00:00Z",
                "total": 2,
                "tz": "America/Los_Angeles",
                "weekly": false,
                "window_id": "a1850k2ga1850k2g"
              }
            ],
            "withdrawn": false,
            "zone": null
          },
          {
            "accepts": [
              "trans-women"
            ],
            "accessibility": [],
            "affirming": [
              "trans"
            ],
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2026-12-07T17:00:00Z",
            "handle": "tricky-a",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "host-home",
            "label": "quiet room, \"big\" bed; near bus",
            "languages": [
              "es:fluent",
              "mam:relay-via-es"
            ],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": "90m",
            "max_stay": "30d",
            "offer_id": "1850k2ga1850k2ga",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "status": "capacity",
            "subject": "household",
            "unit": "room",
            "vetting": "org-vetted",
            "windows": [
              {
                "available": 1,
                "cancelled": false,
                "end": "2026-12-13T08:00:00Z",
                "next_end": "2026-12-13T08:00:00Z",
                "next_start": "2026-11-24T08:00:00Z",
                "start": "2026-11-24T08:00:00Z",
                "total": 2,
                "tz": "America/Los_Angeles",
                "weekly": false,
                "window_id": "0000000000000000"
              },
              {
                "available": 1,
                "cancelled": false,
                "end": "2026-11-26T00:30:00Z",
                "next_end": "2026-11-26T00:30:00Z",
                "next_start": "2026-11-25T21:00:00Z",
                "start": "2026-11-25T21:00:00Z",
                "total": 1,
                "tz": "America/Los_Angeles",
                "weekly": true,
                "window_id": "040g2081040g2081"
              }
            ],
            "withdrawn": false,
            "zone": "south-sac"
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2026-12-14T17:00:00Z",
            "handle": "tricky-gone",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "transport-driver",
            "label": "",
            "languages": [],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1o70s3ge1o70s3ge",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "status": "capacity",
            "subject": "org-program",
            "unit": "seat",
            "vetting": "org-vetted",
            "windows": [
              {
                "available": 1,
                "cancelled": false,
                "end": "2026-11-25T08:00:00Z",
                "next_end": "2026-11-25T08:00:00Z",
                "next_start": "2026-11-24T08:00:00Z",
                "start": "2026-11-24T08:00:00Z",
                "total": 1,
                "tz": "America/Los_Angeles",
                "weekly": false,
                "window_id": "81040g2081040g20"
              }
            ],
            "withdrawn": true,
            "zone": null
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "bond_band": "5k-15k",
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2026-12-23T17:00:00Z",
            "handle": "tricky-bond",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "bond-fund",
            "label": "fund",
            "languages": [
              "en:fluent"
            ],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1c5gm2ob1c5gm2ob",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": "36h",
            "status": "capacity",
            "subject": "org-program",
            "unit": "usd",
            "vetting": "org-vetted",
            "windows": [],
            "withdrawn": false,
            "zone": null
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2027-01-21T17:00:00Z",
            "handle": "tricky-d",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "legal-consult",
            "label": "=SUM(A1) not a formula",
            "languages": [],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1k6gq38d1k6gq38d",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "status": "capacity",
            "subject": "org-program",
            "unit": "slot",
            "vetting": "self-declared",
            "windows": [
              {
                "available": 3,
                "cancelled": false,
                "end": "2026-11-28T08:00:00Z",
                "next_end": "2026-11-28T08:00:00Z",
                "next_start": "2026-11-24T08:00:00Z",
                "start": "2026-11-24T08:00:00Z",
                "total": 3,
                "tz": "America/Los_Angeles",
                "weekly": false,
                "window_id": "60o30c1g60o30c1g"
              }
            ],
            "withdrawn": false,
            "zone": null
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06061",
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2027-01-22T17:00:00Z",
            "handle": "tricky-c",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "legal-consult",
            "label": " spaced label ",
            "languages": [
              "en:fluent"
            ],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1g60o30c1g60o30c",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "status": "waitlist",
            "subject": "org-program",
            "unit": "slot",
            "vetting": "org-vetted-trained",
            "windows": [
              {
                "available": 2,
                "cancelled": false,
                "end": "2026-11-28T08:00:00Z",
                "next_end": "2026-11-28T08:00:00Z",
                "next_start": "2026-11-24T08:00:00Z",
                "start": "2026-11-24T08:00:00Z",
                "total": 3,
                "tz": "America/Los_Angeles",
                "weekly": false,
                "window_id": "40g2081040g20810"
              }
            ],
            "withdrawn": false,
            "zone": null
          }
        ]
    "#]],
    );
    let o = view
        .offer(fixture::OWNER, offer_id(0))
        .expect("the first offer");
    check(
        &offer_show_csv(&view, o),
        &expect![[r#"
        offer_id,owner,owner_name,intake,kind,handle,subject,counties,zone,languages,accepts,affirming,accessibility,household,capabilities,unit,lead_time,max_stay,vetting,status,bond_band,post_within,label,created_at,last_confirmed_at,expires_at,withdrawn,expired
        1850k2ga1850k2ga,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",host-home,tricky-a,household,06067,south-sac,es:fluent;mam:relay-via-es,trans-women,trans,,,,room,90m,30d,org-vetted,capacity,,,"quiet room, ""big"" bed; near bus",2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-07T17:00:00Z,false,false
    "#]],
    );
    check(
        &offer_show_json(&view, o),
        &expect![[r#"
        {
          "accepts": [
            "trans-women"
          ],
          "accessibility": [],
          "affirming": [
            "trans"
          ],
          "bond_band": null,
          "capabilities": [],
          "counties": [
            "06067"
          ],
          "created_at": "2026-11-23T17:00:00Z",
          "expired": false,
          "expires_at": "2026-12-07T17:00:00Z",
          "handle": "tricky-a",
          "holds": [
            {
              "created_at": "2026-11-23T17:00:01Z",
              "decision": "confirmed",
              "expires_at": "2026-11-25T17:00:00Z",
              "from": "2026-11-24T17:00:00Z",
              "handle": "tricky-a",
              "hold_id": "climapb5climapb5",
              "offer_id": "1850k2ga1850k2ga",
              "owner": "040g2081040g2081",
              "owner_name": "Capitol Legal & Bond",
              "qty": 1,
              "requester": "081040g2081040g2",
              "requester_name": "Yolo Trans Health",
              "status": "confirmed",
              "to": "2026-11-26T17:00:00Z",
              "window_id": "0000000000000000"
            },
            {
              "created_at": "2026-11-23T17:00:02Z",
              "decision": null,
              "expires_at": "2026-11-25T17:00:00Z",
              "from": "2026-11-24T17:00:00Z",
              "handle": "tricky-a",
              "hold_id": "cpj6cpj6cpj6cpj6",
              "offer_id": "1850k2ga1850k2ga",
              "owner": "040g2081040g2081",
              "owner_name": "Capitol Legal & Bond",
              "qty": 2,
              "requester": "081040g2081040g2",
              "requester_name": "Yolo Trans Health",
              "status": "overbooked",
              "to": "2026-11-26T17:00:00Z",
              "window_id": "0000000000000000"
            }
          ],
          "household": [],
          "intake": "hotline, ask for \"intake\"",
          "kind": "host-home",
          "label": "quiet room, \"big\" bed; near bus",
          "languages": [
            "es:fluent",
            "mam:relay-via-es"
          ],
          "last_confirmed_at": "2026-11-23T17:00:00Z",
          "lead_time": "90m",
          "max_stay": "30d",
          "offer_id": "1850k2ga1850k2ga",
          "owner": "040g2081040g2081",
          "owner_name": "Capitol Legal & Bond",
          "post_within": null,
          "status": "capacity",
          "subject": "household",
          "unit": "room",
          "vetting": "org-vetted",
          "windows": [
            {
              "available": 1,
              "cancelled": false,
              "end": "2026-12-13T08:00:00Z",
              "next_end": "2026-12-13T08:00:00Z",
              "next_start": "2026-11-24T08:00:00Z",
              "start": "2026-11-24T08:00:00Z",
              "total": 2,
              "tz": "America/Los_Angeles",
              "weekly": false,
              "window_id": "0000000000000000"
            },
            {
              "available": 1,
              "cancelled": false,
              "end": "2026-11-26T00:30:00Z",
              "next_end": "2026-11-26T00:30:00Z",
              "next_start": "2026-11-25T21:00:00Z",
              "start": "2026-11-25T21:00:00Z",
              "total": 1,
              "tz": "America/Los_Angeles",
              "weekly": true,
              "window_id": "040g2081040g2081"
            }
          ],
          "withdrawn": false,
          "zone": "south-sac"
        }
    "#]],
    );
}

#[test]
fn hit_records_keep_their_bytes() {
    let view = fixture::view();
    check(
        &query_csv(&view),
        &expect![[r#"
        offer_id,owner,owner_name,intake,kind,handle,subject,counties,zone,languages,accepts,affirming,accessibility,household,capabilities,unit,lead_time,max_stay,vetting,status,bond_band,post_within,label,created_at,last_confirmed_at,expires_at,withdrawn,expired,available,window_id,soonest
        1c5gm2ob1c5gm2ob,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",bond-fund,tricky-bond,org-program,06067,,en:fluent,,,,,,usd,,,org-vetted,capacity,5k-15k,36h,fund,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-23T17:00:00Z,false,false,,,
        1850k2ga1850k2ga,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",host-home,tricky-a,household,06067,south-sac,es:fluent;mam:relay-via-es,trans-women,trans,,,,room,90m,30d,org-vetted,capacity,,,"quiet room, ""big"" bed; near bus",2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-07T17:00:00Z,false,false,1,0000000000000000,2026-11-24T08:00:00Z
        1g60o30c1g60o30c,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",legal-consult,tricky-c,org-program,06061;06067,,en:fluent,,,,,,slot,,,org-vetted-trained,waitlist,,, spaced label ,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2027-01-22T17:00:00Z,false,false,2,40g2081040g20810,2026-11-24T08:00:00Z
        1k6gq38d1k6gq38d,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",legal-consult,tricky-d,org-program,06067,,,,,,,,slot,,,self-declared,capacity,,,=SUM(A1) not a formula,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2027-01-21T17:00:00Z,false,false,3,60o30c1g60o30c1g,2026-11-24T08:00:00Z
        1o70s3ge1o70s3ge,040g2081040g2081,Capitol Legal & Bond,"hotline, ask for ""intake""",transport-driver,tricky-gone,org-program,06067,,,,,,,,seat,,,org-vetted,capacity,,,,2026-11-23T17:00:00Z,2026-11-23T17:00:00Z,2026-12-14T17:00:00Z,true,false,1,81040g2081040g20,2026-11-24T08:00:00Z
    "#]],
    );
    check(
        &query_json(&view),
        &expect![[r#"
        [
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "available": null,
            "bond_band": "5k-15k",
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2026-12-23T17:00:00Z",
            "handle": "tricky-bond",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "bond-fund",
            "label": "fund",
            "languages": [
              "en:fluent"
            ],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1c5gm2ob1c5gm2ob",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": "36h",
            "soonest": null,
            "status": "capacity",
            "subject": "org-program",
            "unit": "usd",
            "vetting": "org-vetted",
            "window_id": null,
            "withdrawn": false,
            "zone": null
          },
          {
            "accepts": [
              "trans-women"
            ],
            "accessibility": [],
            "affirming": [
              "trans"
            ],
            "available": 1,
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2026-12-07T17:00:00Z",
            "handle": "tricky-a",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "host-home",
            "label": "quiet room, \"big\" bed; near bus",
            "languages": [
              "es:fluent",
              "mam:relay-via-es"
            ],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": "90m",
            "max_stay": "30d",
            "offer_id": "1850k2ga1850k2ga",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "soonest": "2026-11-24T08:00:00Z",
            "status": "capacity",
            "subject": "household",
            "unit": "room",
            "vetting": "org-vetted",
            "window_id": "0000000000000000",
            "withdrawn": false,
            "zone": "south-sac"
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "available": 2,
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06061",
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2027-01-22T17:00:00Z",
            "handle": "tricky-c",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "legal-consult",
            "label": " spaced label ",
            "languages": [
              "en:fluent"
            ],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1g60o30c1g60o30c",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "soonest": "2026-11-24T08:00:00Z",
            "status": "waitlist",
            "subject": "org-program",
            "unit": "slot",
            "vetting": "org-vetted-trained",
            "window_id": "40g2081040g20810",
            "withdrawn": false,
            "zone": null
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "available": 3,
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2027-01-21T17:00:00Z",
            "handle": "tricky-d",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "legal-consult",
            "label": "=SUM(A1) not a formula",
            "languages": [],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1k6gq38d1k6gq38d",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "soonest": "2026-11-24T08:00:00Z",
            "status": "capacity",
            "subject": "org-program",
            "unit": "slot",
            "vetting": "self-declared",
            "window_id": "60o30c1g60o30c1g",
            "withdrawn": false,
            "zone": null
          },
          {
            "accepts": [],
            "accessibility": [],
            "affirming": [],
            "available": 1,
            "bond_band": null,
            "capabilities": [],
            "counties": [
              "06067"
            ],
            "created_at": "2026-11-23T17:00:00Z",
            "expired": false,
            "expires_at": "2026-12-14T17:00:00Z",
            "handle": "tricky-gone",
            "household": [],
            "intake": "hotline, ask for \"intake\"",
            "kind": "transport-driver",
            "label": "",
            "languages": [],
            "last_confirmed_at": "2026-11-23T17:00:00Z",
            "lead_time": null,
            "max_stay": null,
            "offer_id": "1o70s3ge1o70s3ge",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "post_within": null,
            "soonest": "2026-11-24T08:00:00Z",
            "status": "capacity",
            "subject": "org-program",
            "unit": "seat",
            "vetting": "org-vetted",
            "window_id": "81040g2081040g20",
            "withdrawn": true,
            "zone": null
          }
        ]
    "#]],
    );
}

#[test]
fn hold_records_keep_their_bytes() {
    let view = fixture::view();
    check(
        &hold_list_csv(&view),
        &expect![[r#"
        hold_id,offer_id,window_id,handle,requester,requester_name,owner,owner_name,qty,from,to,created_at,expires_at,status,decision
        climapb5climapb5,1850k2ga1850k2ga,0000000000000000,tricky-a,081040g2081040g2,Yolo Trans Health,040g2081040g2081,Capitol Legal & Bond,1,2026-11-24T17:00:00Z,2026-11-26T17:00:00Z,2026-11-23T17:00:01Z,2026-11-25T17:00:00Z,confirmed,confirmed
        cpj6cpj6cpj6cpj6,1850k2ga1850k2ga,0000000000000000,tricky-a,081040g2081040g2,Yolo Trans Health,040g2081040g2081,Capitol Legal & Bond,2,2026-11-24T17:00:00Z,2026-11-26T17:00:00Z,2026-11-23T17:00:02Z,2026-11-25T17:00:00Z,overbooked,
        ctjmepr7ctjmepr7,1g60o30c1g60o30c,40g2081040g20810,tricky-c,081040g2081040g2,Yolo Trans Health,040g2081040g2081,Capitol Legal & Bond,1,2026-11-24T17:00:00Z,2026-11-26T17:00:00Z,2026-11-23T17:00:03Z,2026-11-25T17:00:00Z,declined,declined
        d1k6gq38d1k6gq38,1k6gq38d1k6gq38d,60o30c1g60o30c1g,tricky-d,081040g2081040g2,Yolo Trans Health,040g2081040g2081,Capitol Legal & Bond,1,2026-11-24T17:00:00Z,2026-11-26T17:00:00Z,2026-11-23T17:00:04Z,2026-11-25T17:00:00Z,released,
        d5kmiqb9d5kmiqb9,1g60o30c1g60o30c,40g2081040g20810,tricky-c,0c1g60o30c1g60o3,0c1g60o3,040g2081040g2081,Capitol Legal & Bond,1,2026-11-25T17:00:00Z,2026-11-27T17:00:00Z,2026-11-23T17:00:05Z,2026-11-25T17:00:00Z,pending,
    "#]],
    );
    check(
        &hold_list_json(&view),
        &expect![[r#"
        [
          {
            "created_at": "2026-11-23T17:00:01Z",
            "decision": "confirmed",
            "expires_at": "2026-11-25T17:00:00Z",
            "from": "2026-11-24T17:00:00Z",
            "handle": "tricky-a",
            "hold_id": "climapb5climapb5",
            "offer_id": "1850k2ga1850k2ga",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "qty": 1,
            "requester": "081040g2081040g2",
            "requester_name": "Yolo Trans Health",
            "status": "confirmed",
            "to": "2026-11-26T17:00:00Z",
            "window_id": "0000000000000000"
          },
          {
            "created_at": "2026-11-23T17:00:02Z",
            "decision": null,
            "expires_at": "2026-11-25T17:00:00Z",
            "from": "2026-11-24T17:00:00Z",
            "handle": "tricky-a",
            "hold_id": "cpj6cpj6cpj6cpj6",
            "offer_id": "1850k2ga1850k2ga",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "qty": 2,
            "requester": "081040g2081040g2",
            "requester_name": "Yolo Trans Health",
            "status": "overbooked",
            "to": "2026-11-26T17:00:00Z",
            "window_id": "0000000000000000"
          },
          {
            "created_at": "2026-11-23T17:00:03Z",
            "decision": "declined",
            "expires_at": "2026-11-25T17:00:00Z",
            "from": "2026-11-24T17:00:00Z",
            "handle": "tricky-c",
            "hold_id": "ctjmepr7ctjmepr7",
            "offer_id": "1g60o30c1g60o30c",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "qty": 1,
            "requester": "081040g2081040g2",
            "requester_name": "Yolo Trans Health",
            "status": "declined",
            "to": "2026-11-26T17:00:00Z",
            "window_id": "40g2081040g20810"
          },
          {
            "created_at": "2026-11-23T17:00:04Z",
            "decision": null,
            "expires_at": "2026-11-25T17:00:00Z",
            "from": "2026-11-24T17:00:00Z",
            "handle": "tricky-d",
            "hold_id": "d1k6gq38d1k6gq38",
            "offer_id": "1k6gq38d1k6gq38d",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "qty": 1,
            "requester": "081040g2081040g2",
            "requester_name": "Yolo Trans Health",
            "status": "released",
            "to": "2026-11-26T17:00:00Z",
            "window_id": "60o30c1g60o30c1g"
          },
          {
            "created_at": "2026-11-23T17:00:05Z",
            "decision": null,
            "expires_at": "2026-11-25T17:00:00Z",
            "from": "2026-11-25T17:00:00Z",
            "handle": "tricky-c",
            "hold_id": "d5kmiqb9d5kmiqb9",
            "offer_id": "1g60o30c1g60o30c",
            "owner": "040g2081040g2081",
            "owner_name": "Capitol Legal & Bond",
            "qty": 1,
            "requester": "0c1g60o30c1g60o3",
            "requester_name": "0c1g60o3",
            "status": "pending",
            "to": "2026-11-27T17:00:00Z",
            "window_id": "40g2081040g20810"
          }
        ]
    "#]],
    );
}

#[test]
fn hold_columns_are_the_fields_of_a_hold_row() {
    let view = fixture::view();
    let row = HoldRow::new(&every_hold(&view)[0], &view);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(&row).expect("a CSV row");
    let text = String::from_utf8(w.into_inner().expect("written")).expect("UTF-8");
    assert_eq!(text.lines().next(), Some(HOLD_COLUMNS.join(",").as_str()));
}

#[test]
fn quantities_read_naturally() {
    assert_eq!(quantity(1, Unit::Room), "1 room");
    assert_eq!(quantity(2, Unit::Bed), "2 beds");
    assert_eq!(quantity(500, Unit::Usd), "500 usd");
}

#[test]
fn languages_drop_fluent() {
    let l = puente_crdt::schema::parse_list::<Language>("es;mam:relay-via-es").expect("valid");
    assert_eq!(languages(&l), "es,mam:relay-via-es");
}
