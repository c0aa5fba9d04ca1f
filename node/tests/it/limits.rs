//! A revoked device's envelopes beyond its cut (issue 4 §1): refused, except those a still-valid
//! key's accepted change builds on, with the same verdict on every node whatever order the
//! revocation, the revoked device's envelopes and the building change arrive in, and after a
//! restart.

use std::collections::BTreeMap;
use std::path::Path;

use puente_crdt::{OrgId, Time};
use puente_node::identity::PublicKey;
use puente_node::membership::{RevokeTarget, Role};
use puente_node::replica::Replica;

use crate::support::{NOW, PASS, init, offer};

/// Everything `from` holds that `to` lacks: membership first, then envelopes.
fn sync(from: &Replica, to: &mut Replica) {
    to.apply_membership(&from.membership_ops())
        .expect("membership applies");
    deliver(
        to,
        &from
            .envelopes_missing_from(&to.version_vector())
            .expect("reads"),
    );
}

fn deliver(to: &mut Replica, envelopes: &[Vec<u8>]) {
    for env in envelopes {
        to.ingest(env).expect("a valid envelope is never an error");
    }
}

/// The offer handles a replica shows, sorted.
fn handles(r: &Replica) -> Vec<String> {
    let mut h: Vec<String> = r.view().offers().map(|o| o.fields.handle.clone()).collect();
    h.sort();
    h
}

/// An admin X, a member organisation A with two devices (A1, A2), and observers that will
/// receive the end of the story in different orders.
struct World {
    x: Replica,
    a1: Replica,
    a2: Replica,
    observers: Vec<Replica>,
    org_a: OrgId,
}

fn world(base: &Path, observers: usize) -> World {
    let mut x = init(&base.join("x"), "Admin X");
    x.create_network("Valley network", NOW).expect("network");
    let mut a1 = init(&base.join("a1"), "Org A");
    x.admit_org("Org A", Role::Member, a1.device_keys(), NOW)
        .expect("A admitted");
    a1.join(&x.membership_ops(), "Valley network")
        .expect("A joins");
    let org_a = a1.org();
    let mut a2 = Replica::init_device(&base.join("a2"), PASS, "America/Los_Angeles", NOW)
        .expect("device store");
    x.admit_device(org_a, a2.device_keys(), NOW)
        .expect("A's second device added by the admin");
    a2.join(&x.membership_ops(), "Valley network")
        .expect("A2 joins as A's device");
    assert_eq!(a2.org(), org_a);
    let mut obs = Vec::new();
    for i in 0..observers {
        let mut o = init(&base.join(format!("o{i}")), &format!("Observer {i}"));
        x.admit_org(&format!("Observer {i}"), Role::Member, o.device_keys(), NOW)
            .expect("observer admitted");
        o.join(&x.membership_ops(), "Valley network")
            .expect("observer joins");
        obs.push(o);
    }
    for r in [&mut a1, &mut a2] {
        sync(&x, r);
    }
    for o in &mut obs {
        sync(&x, o);
    }
    World {
        x,
        a1,
        a2,
        observers: obs,
        org_a,
    }
}

/// The end of the story, as three deliveries.
struct Story {
    /// The membership log after the admin revoked A1 (revocation, rotation, receipts).
    revocation: Vec<Vec<u8>>,
    /// A1's envelopes after the cut: two that A2 built on, one nobody built on.
    a1_after_cut: Vec<Vec<u8>>,
    /// A2's envelope that builds on A1's first two after the cut.
    a2_building: Vec<Vec<u8>>,
    a1_key: PublicKey,
    cut: u64,
}

impl Story {
    /// Delivers the end of the story to `o` in `order`: 0 the revocation, 1 A1's envelopes
    /// after the cut, 2 A2's building envelope.
    fn play(&self, o: &mut Replica, order: [usize; 3]) {
        for part in order {
            match part {
                0 => {
                    o.apply_membership(&self.revocation)
                        .expect("membership applies");
                }
                1 => deliver(o, &self.a1_after_cut),
                _ => deliver(o, &self.a2_building),
            }
        }
    }
}

/// Each device's clock in the story: they may be hours apart.
#[derive(Clone, Copy)]
struct Clocks {
    a1: Time,
    a2: Time,
    x: Time,
}

const SAME: Clocks = Clocks {
    a1: NOW,
    a2: NOW,
    x: NOW,
};

fn story(w: &mut World, clocks: Clocks) -> Story {
    let a1_key = w.a1.public_key();
    w.a1.add_offer(offer("before-cut"), clocks.a1)
        .expect("writes");
    sync(&w.a1, &mut w.a2);
    sync(&w.a1, &mut w.x);
    for o in &mut w.observers {
        sync(&w.a1, o);
    }
    let cut = w.x.version_vector()[&a1_key];

    // The laptop is seized; before anyone hears, it writes twice and A2 receives both and
    // builds on them; then it writes once more.
    w.a1.add_offer(offer("after-cut-built-on-1"), clocks.a1)
        .expect("writes");
    w.a1.add_offer(offer("after-cut-built-on-2"), clocks.a1)
        .expect("writes");
    sync(&w.a1, &mut w.a2);
    let a2_before = w.a2.version_vector();
    w.a2.add_offer(offer("from-a2"), clocks.a2)
        .expect("A2 writes");
    let a2_building = w.a2.envelopes_missing_from(&a2_before).expect("reads");
    assert_eq!(a2_building.len(), 1);
    w.a1.add_offer(offer("after-cut-nobody-built-on"), clocks.a1)
        .expect("writes");
    let a1_after_cut: Vec<Vec<u8>> =
        w.a1.envelopes_after(&a1_key, cut, usize::MAX, usize::MAX)
            .expect("reads");
    assert_eq!(a1_after_cut.len(), 3);

    // The admin, who has A1 only up to the cut, revokes it.
    w.x.revoke(RevokeTarget::Device(a1_key), "laptop seized", clocks.x)
        .expect("revoked");
    Story {
        revocation: w.x.membership_ops(),
        a1_after_cut,
        a2_building,
        a1_key,
        cut,
    }
}

const KEPT: [&str; 4] = [
    "after-cut-built-on-1",
    "after-cut-built-on-2",
    "before-cut",
    "from-a2",
];

fn assert_verdict(r: &Replica, s: &Story, who: &str) {
    assert_eq!(handles(r), KEPT, "{who}: the offers that count");
    assert_eq!(
        r.version_vector().get(&s.a1_key),
        Some(&(s.cut + 2)),
        "{who}: A1 counts up to what A2 built on"
    );
    // A peer at the cut is sent what counts and nothing beyond.
    let sent = r
        .envelopes_missing_from(&BTreeMap::from([(s.a1_key, s.cut)]))
        .expect("reads");
    let a1_sent = sent
        .iter()
        .filter(|e| {
            puente_node::envelope::Envelope::from_bytes(e)
                .expect("parses")
                .author()
                == s.a1_key
        })
        .count();
    assert_eq!(a1_sent, 2, "{who}: relays A1's two built-on envelopes only");
}

#[test]
fn envelopes_beyond_the_cut_count_only_where_a_valid_change_builds_on_them_in_any_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut w = world(tmp.path(), 4);
    let s = story(&mut w, SAME);
    let orders: [[usize; 3]; 4] = [[0, 1, 2], [1, 0, 2], [2, 0, 1], [2, 1, 0]];
    for (o, order) in w.observers.iter_mut().zip(orders) {
        s.play(o, order);
    }
    for (i, o) in w.observers.iter().enumerate() {
        assert_verdict(o, &s, &format!("observer {i} (order {:?})", orders[i]));
    }
    // The admin gets the same from A2, which had everything before it heard.
    sync(&w.a2, &mut w.x);
    deliver(&mut w.x, &s.a1_after_cut);
    assert_verdict(&w.x, &s, "admin");
    // A2 hears of the revocation after it holds all three: the one nobody built on goes.
    sync(&w.x, &mut w.a2);
    assert_verdict(&w.a2, &s, "A2");
    assert!(
        w.a2.membership()
            .expect("network")
            .state()
            .is_revoked_device(&s.a1_key)
    );

    // After a restart, the same.
    let dirs: Vec<_> = w.observers.iter().map(|o| o.dir().to_path_buf()).collect();
    for o in w.observers.drain(..) {
        o.close().expect("closes");
    }
    for (i, dir) in dirs.iter().enumerate() {
        let o = Replica::open(dir, PASS).expect("reopens");
        assert_verdict(&o, &s, &format!("observer {i} after a restart"));
    }
    let _ = w.org_a;
}

#[test]
fn without_a_building_change_everything_beyond_the_cut_goes_even_if_applied_first() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut w = world(tmp.path(), 2);
    let s = story(&mut w, SAME);
    // Observer 0 applied A1's later envelopes before it heard; observer 1 hears first.
    deliver(&mut w.observers[0], &s.a1_after_cut);
    assert_eq!(handles(&w.observers[0]).len(), 4, "applied before it heard");
    w.observers[0]
        .apply_membership(&s.revocation)
        .expect("applies");
    w.observers[1]
        .apply_membership(&s.revocation)
        .expect("applies");
    deliver(&mut w.observers[1], &s.a1_after_cut);
    for (i, o) in w.observers.iter().enumerate() {
        assert_eq!(handles(o), ["before-cut"], "observer {i}");
        assert_eq!(o.version_vector().get(&s.a1_key), Some(&s.cut));
        assert!(
            o.envelopes_after(&s.a1_key, s.cut, usize::MAX, usize::MAX)
                .expect("reads")
                .is_empty(),
            "observer {i} relays nothing beyond the cut"
        );
    }
    let dir = w.observers[0].dir().to_path_buf();
    let o = w.observers.remove(0);
    o.close().expect("closes");
    let o = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(handles(&o), ["before-cut"], "still gone after a restart");
}

#[test]
fn the_exposure_report_lists_records_sealed_under_keys_the_party_held() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut w = world(tmp.path(), 1);
    let org_x = w.x.org();
    w.x.add_offer(offer("x-before"), NOW).expect("writes");
    let s = story(&mut w, SAME);
    w.x.add_offer(offer("x-after"), NOW).expect("writes");
    let exposure = w.x.exposure(&[s.a1_key]).expect("audits");
    let exposed = |handle: &str| {
        let o =
            w.x.view()
                .offers()
                .find(|o| o.fields.handle == handle)
                .expect("held")
                .clone();
        exposure.offer(o.owner, o.id)
    };
    assert!(exposed("x-before"), "sealed under a key A1 held");
    assert!(
        !exposed("x-after"),
        "sealed under the key after the rotation"
    );
    assert!(!exposed("before-cut"), "A1's own offers are not listed");
    assert!(exposure.whole.is_empty());
    assert!(!exposure.epochs.is_empty());
    assert!(
        !exposure.epochs.contains(&w.x.epoch()),
        "the current key was never sealed to A1"
    );
    let _ = org_x;
}

#[test]
fn clocks_hours_apart_change_no_verdict() {
    // The admin's clock is 9 hours behind, the seized laptop's 9 hours ahead: the revocation
    // claims a time long before every write of the laptop, after the cut or not.
    let hours = |h: i64| Time(NOW.0 + h * 3_600);
    let clocks = Clocks {
        a1: hours(9),
        a2: hours(-5),
        x: hours(-9),
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut w = world(tmp.path(), 2);
    let s = story(&mut w, clocks);
    for (o, order) in w.observers.iter_mut().zip([[0, 1, 2], [2, 1, 0]]) {
        s.play(o, order);
    }
    for (i, o) in w.observers.iter().enumerate() {
        assert_verdict(o, &s, &format!("observer {i} with skewed clocks"));
    }
}

#[test]
fn a_change_waiting_for_another_devices_change_survives_a_snapshot_and_a_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut w = world(tmp.path(), 1);
    let a1_key = w.a1.public_key();
    sync(&w.a1, &mut w.a2);
    sync(&w.a1, &mut w.observers[0]);
    let a1_had = w.a1.version_vector()[&a1_key];
    w.a1.add_offer(offer("from-a1"), NOW).expect("writes");
    let a1_new =
        w.a1.envelopes_after(&a1_key, a1_had, usize::MAX, usize::MAX)
            .expect("reads");
    sync(&w.a1, &mut w.a2);
    let a2_had = w.a2.version_vector();
    w.a2.add_offer(offer("from-a2"), NOW).expect("writes");
    let a2_new = w.a2.envelopes_missing_from(&a2_had).expect("reads");

    // The observer gets A2's envelope first: its change waits for A1's. A local snapshot and
    // a restart must not lose it.
    let mut o = w.observers.remove(0);
    deliver(&mut o, &a2_new);
    assert!(!handles(&o).contains(&"from-a2".to_string()), "waits");
    o.snapshot().expect("snapshot");
    let dir = o.dir().to_path_buf();
    o.close().expect("closes");
    let mut o = Replica::open(&dir, PASS).expect("reopens");
    deliver(&mut o, &a1_new);
    let h = handles(&o);
    assert!(h.contains(&"from-a1".to_string()), "{h:?}");
    assert!(h.contains(&"from-a2".to_string()), "{h:?}");
}
