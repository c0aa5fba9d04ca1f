//! The replica end to end: durability across reopen, snapshots, two organisations exchanging
//! envelopes, and envelopes that must be refused.

use std::collections::BTreeMap;

use puente_crdt::{Decision, HoldStatus, NewOffer, OfferId, OrgId, Partition, Query, WindowId};
use puente_node::envelope::{Envelope, EnvelopeError, Epoch, NetworkId};
use puente_node::identity::{SecretKey, org_id_for};
use puente_node::replica::{
    AdminAction, HoldRequest, IngestOutcome, NetworkRefusal, OfferAction, RelayRefusal, Replica,
    ReplicaError, WriteRefusal,
};
use puente_node::store::StoreError;

use crate::support::{NOW, PASS, init, offer};

fn handles(r: &Replica) -> Vec<String> {
    let mut v: Vec<String> = r.view().offers().map(|o| o.fields.handle.clone()).collect();
    v.sort();
    v
}

/// Moves every envelope `from` has and `to` lacks.
fn sync(from: &Replica, to: &mut Replica) -> usize {
    let envs = from
        .envelopes_missing_from(&to.version_vector())
        .expect("log readable");
    let n = envs.len();
    for e in envs {
        to.ingest(&e).expect("envelope accepted");
    }
    n
}

#[test]
fn writes_survive_reopen_with_and_without_a_snapshot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("node");
    let mut r = init(&dir, "River Refuge");
    let a = r.add_offer(offer("host-aaaa"), NOW).expect("added");
    r.add_offer(offer("host-bbbb"), NOW).expect("added");
    r.snapshot().expect("snapshot");
    r.withdraw_offer(a, NOW).expect("withdrawn");
    r.add_offer(offer("host-cccc"), NOW).expect("added");
    let offers = |r: &Replica| {
        let mut v: Vec<_> = r.view().offers().cloned().collect();
        v.sort_by_key(|o| o.id);
        v
    };
    let before = offers(&r);
    drop(r);
    // Snapshot (with its cached view) plus two envelopes replayed on top.
    let mut r = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(offers(&r), before);
    // A snapshot whose cached view covers everything: nothing to replay.
    r.snapshot().expect("snapshot");
    drop(r);
    let mut r = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(offers(&r), before);
    // A write after opening from the cache loads the document and keeps everything.
    let live = before.iter().find(|o| !o.withdrawn).expect("a live offer");
    r.confirm_offer(live.id, NOW.plus(60), None)
        .expect("confirmed");
    assert_eq!(r.view().offer_count(), 3);
    drop(r);
    let r = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(handles(&r), ["host-aaaa", "host-bbbb", "host-cccc"]);
    assert_eq!(r.whoami().name, "River Refuge");
    assert_eq!(
        r.stats().log_len,
        6,
        "profile + 5 writes, one envelope each"
    );
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("node");
    drop(init(&dir, "River Refuge"));
    let err = Replica::open(&dir, b"not the passphrase").expect_err("refused");
    assert!(
        matches!(err, ReplicaError::Store(StoreError::WrongPassphrase)),
        "{err:?}"
    );
    assert!(Replica::open(&dir, PASS).is_ok());
}

#[test]
fn import_is_batched_and_atomic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("node");
    let mut r = init(&dir, "Interfaith Sanctuary");
    let rows: Vec<NewOffer> = (0..2_500)
        .map(|i| offer(&format!("host-{i:04x}")))
        .collect();
    let mut seen = Vec::new();
    let ids = r
        .import_offers(rows, NOW, &mut |n| seen.push(n))
        .expect("imported");
    assert_eq!(ids.len(), 2_500);
    assert_eq!(seen, [1_000, 2_000, 2_500]);
    assert_eq!(
        r.stats().log_len,
        4,
        "profile + one envelope per 1,000 rows"
    );

    let mut bad: Vec<NewOffer> = (0..10).map(|i| offer(&format!("new-{i:04x}"))).collect();
    bad[7].fields.label = "call 916 555 0199".into();
    let err = r.import_offers(bad, NOW, &mut |_| {}).expect_err("refused");
    assert!(matches!(err, ReplicaError::Schema(_)), "{err:?}");
    r.close().expect("closes");
    let r = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(
        r.view().offer_count(),
        2_500,
        "nothing of the refused import was written"
    );
}

#[test]
fn partners_exchange_envelopes_and_reach_the_same_hold_verdicts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = init(&tmp.path().join("a"), "Sacramento Accompaniment");
    let mut b = init(&tmp.path().join("b"), "Yolo Trans Health");
    let mut c = init(&tmp.path().join("c"), "Placer Pride");
    let (net, keys) = a.network_secret();
    b.join_network(net, &keys, 0).expect("joins");
    c.join_network(net, &keys, 0).expect("joins");
    let members = [
        (a.public_key(), a.org()),
        (b.public_key(), b.org()),
        (c.public_key(), c.org()),
    ];
    for r in [&mut a, &mut b, &mut c] {
        for (k, o) in members {
            r.trust(k, o).expect("trusted");
        }
    }

    let offer_id = a.add_offer(offer("host-7f3k"), NOW).expect("added");
    sync(&a, &mut b);
    sync(&a, &mut c);
    assert_eq!(handles(&b), ["host-7f3k"]);

    // B and C both hold the 2-bed window concurrently: B takes 1, C takes 2 (created later).
    let window: WindowId = b.view().offer(a.org(), offer_id).expect("synced").windows[0].id;
    let req = |qty| HoldRequest {
        owner: a.org(),
        offer: offer_id,
        window,
        qty,
        interval: None,
    };
    let hb = b.place_hold(req(1), NOW.plus(10)).expect("held");
    let hc = c.place_hold(req(2), NOW.plus(20)).expect("held");
    // Deliver in different orders.
    sync(&c, &mut a);
    sync(&b, &mut a);
    sync(&b, &mut c);
    sync(&c, &mut b);

    let verdicts = |r: &Replica| -> BTreeMap<_, _> {
        r.view()
            .verdicts(a_org(r, offer_id), offer_id, NOW.plus(60))
            .into_iter()
            .map(|v| (v.hold.id, v.status))
            .collect()
    };
    fn a_org(r: &Replica, id: OfferId) -> OrgId {
        r.view()
            .offers()
            .find(|o| o.id == id)
            .expect("offer present")
            .owner
    }
    let va = verdicts(&a);
    assert_eq!(va[&hb], HoldStatus::Pending);
    assert_eq!(
        va[&hc],
        HoldStatus::Overbooked,
        "2 + 1 exceeds the window total of 2"
    );
    assert_eq!(va, verdicts(&b));
    assert_eq!(va, verdicts(&c));

    // The owner confirms C's hold despite the overbooking; everyone sees the same.
    a.decide_hold(hc, Decision::Confirmed, NOW.plus(90))
        .expect("decided");
    sync(&a, &mut b);
    sync(&a, &mut c);
    let va = verdicts(&a);
    assert_eq!(va[&hc], HoldStatus::Confirmed);
    assert_eq!(va, verdicts(&b));
    assert_eq!(va, verdicts(&c));

    // A query on C sees A's offer with no capacity left for one more bed this week.
    let q = Query {
        from: Some(NOW.plus(3_600)),
        to: Some(NOW.plus(86_400)),
        qty: Some(1),
        ..Query::default()
    };
    assert!(c.view().query(&q, NOW.plus(100)).is_empty());

    // Only the owner may change an offer; only the requester may release a hold.
    assert!(matches!(
        b.withdraw_offer(offer_id, NOW),
        Err(ReplicaError::Write(WriteRefusal::NotOwnOffer {
            action: OfferAction::Withdraw,
            ..
        }))
    ));
    assert!(matches!(
        a.release_hold(hb, NOW),
        Err(ReplicaError::Write(WriteRefusal::NotRequester { hold })) if hold == hb
    ));
    assert!(matches!(
        b.decide_hold(hb, Decision::Declined, NOW),
        Err(ReplicaError::Write(WriteRefusal::NotOfferOwner { hold })) if hold == hb
    ));

    // Everything survives a reopen of a partner's replica.
    let dir_b = b.dir().to_path_buf();
    let before = verdicts(&b);
    drop(b);
    let b = Replica::open(&dir_b, PASS).expect("reopens");
    assert_eq!(verdicts(&b), before);
}

#[test]
fn refused_envelopes_change_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = init(&tmp.path().join("a"), "Sacramento Accompaniment");
    let (net, keys) = a.network_secret();
    let epoch_key = {
        // The test plays a partner device that was given the network's epoch key.
        let mut ring_bytes = [0u8; 32];
        ring_bytes.copy_from_slice(&keys[4..36]);
        puente_node::seal::SymmetricKey::from_bytes(&ring_bytes)
    };
    let mallory = SecretKey::generate();
    let mallory_org = org_id_for(&mallory.public());
    a.trust(mallory.public(), mallory_org).expect("trusted");
    let a_org = a.org();

    // Mallory's own partition, written change after change like a real device.
    let mut mp = Partition::new(mallory_org, mallory.public().as_bytes());
    let mut next_change = |handle: &str, id: u8| -> Vec<u8> {
        mp.add_offer(
            OfferId::from_bytes([id; 10]),
            &offer(handle),
            &[WindowId::from_bytes([id; 10])],
            NOW,
        )
        .expect("valid");
        mp.commit().expect("a change")
    };
    let change = |partition_org: OrgId, actor: &[u8], handle: &str| -> Vec<u8> {
        let mut p = Partition::new(partition_org, actor);
        p.add_offer(
            OfferId::from_bytes([7; 10]),
            &offer(handle),
            &[WindowId::from_bytes([8; 10])],
            NOW,
        )
        .expect("valid");
        p.commit().expect("a change")
    };
    let seal = |partition: OrgId, seq: u64, changes: &[Vec<u8>]| {
        Envelope::seal(net, partition, &mallory, seq, Epoch(0), &epoch_key, changes)
            .expect("seals")
            .to_bytes()
    };

    // A change in A's records signed by Mallory's key: refused before it is applied.
    let forged = seal(
        a_org,
        1,
        &[change(a_org, mallory.public().as_bytes(), "host-evil")],
    );
    let err = a.ingest(&forged).expect_err("refused");
    assert!(
        matches!(
            err,
            ReplicaError::Envelope(EnvelopeError::NotAuthorized { .. })
        ),
        "{err:?}"
    );

    // A flipped byte anywhere: refused.
    let c1 = next_change("host-m1", 1);
    let c2 = next_change("host-m2", 2);
    let c3 = next_change("host-m3", 3);
    let good = seal(mallory_org, 1, &[c1]);
    for i in [1usize, 20, 70, 99, 150, good.len() - 1] {
        let mut t = good.clone();
        t[i] ^= 0x20;
        assert!(a.ingest(&t).is_err(), "byte {i} flipped was accepted");
    }
    // The wrong network: refused.
    let other = Envelope::seal(
        NetworkId::generate(),
        mallory_org,
        &mallory,
        1,
        Epoch(0),
        &epoch_key,
        &[change(mallory_org, mallory.public().as_bytes(), "host-m1")],
    )
    .expect("seals");
    assert!(a.ingest(&other.to_bytes()).is_err());
    assert_eq!(handles(&a), Vec::<String>::new());

    // In order it applies; a duplicate is a no-op; a gap waits and then drains.
    assert_eq!(
        a.ingest(&good).expect("accepted"),
        IngestOutcome::Applied(1)
    );
    assert_eq!(a.ingest(&good).expect("accepted"), IngestOutcome::Duplicate);
    let second = seal(mallory_org, 2, &[c2]);
    let third = seal(mallory_org, 3, &[c3]);
    assert_eq!(a.ingest(&third).expect("buffered"), IngestOutcome::Waiting);
    assert_eq!(
        a.ingest(&second).expect("accepted"),
        IngestOutcome::Applied(2)
    );
    assert_eq!(handles(&a), ["host-m1", "host-m2", "host-m3"]);

    // The same sequence number with other bytes is evidence of a compromised key.
    let equivocation = seal(
        mallory_org,
        2,
        &[change(mallory_org, mallory.public().as_bytes(), "host-m9")],
    );
    let err = a.ingest(&equivocation).expect_err("refused");
    assert!(
        matches!(
            err,
            ReplicaError::Envelope(EnvelopeError::Equivocation { .. })
        ),
        "{err:?}"
    );

    // A signed, in-order envelope whose change claims another actor is quarantined: the
    // sequence advances, nothing is applied.
    let stolen_actor = seal(mallory_org, 4, &[change(mallory_org, &[42; 32], "host-m4")]);
    assert_eq!(
        a.ingest(&stolen_actor).expect("consumed"),
        IngestOutcome::Applied(1)
    );
    assert!(!handles(&a).contains(&"host-m4".to_string()));
}

#[test]
fn envelopes_after_gives_contiguous_bounded_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = init(&tmp.path().join("a"), "Sacramento Accompaniment");
    for i in 0..5 {
        a.add_offer(offer(&format!("host-{i:04}")), NOW)
            .expect("added");
    }
    let me = a.public_key();
    // Profile + 5 offers: sequence numbers 1 to 6.
    let all = a
        .envelopes_after(&me, 0, 100, usize::MAX)
        .expect("readable");
    assert_eq!(all.len(), 6);
    let seqs: Vec<u64> = all
        .iter()
        .map(|b| Envelope::from_bytes(b).expect("an envelope").seq())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        a.envelopes_after(&me, 4, 100, usize::MAX)
            .expect("readable")
            .len(),
        2
    );
    assert_eq!(
        a.envelopes_after(&me, 1, 3, usize::MAX)
            .expect("readable")
            .len(),
        3
    );
    assert_eq!(
        a.envelopes_after(&me, 6, 100, usize::MAX)
            .expect("readable")
            .len(),
        0
    );
    // A byte bound smaller than one envelope still moves that one envelope.
    assert_eq!(
        a.envelopes_after(&me, 0, 100, 1).expect("readable").len(),
        1
    );
    let other = SecretKey::generate().public();
    assert!(
        a.envelopes_after(&other, 0, 100, usize::MAX)
            .expect("readable")
            .is_empty()
    );
    // What a peer lacks, by the other path, agrees.
    let mut have = BTreeMap::new();
    have.insert(me, 4);
    assert_eq!(
        a.envelopes_missing_from(&have).expect("readable"),
        all[4..].to_vec()
    );
}

#[test]
fn a_network_admits_partners_through_its_membership_log() {
    use puente_node::membership::Role;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir_a = tmp.path().join("a");
    let mut a = init(&dir_a, "Sacramento Accompaniment");
    let mut b = init(&tmp.path().join("b"), "Yolo Trans Health");
    let mut m = init(&tmp.path().join("m"), "Not Invited");
    a.add_offer(offer("host-a1"), NOW).expect("added");
    b.add_offer(offer("host-b1"), NOW)
        .expect("added before joining");

    let network = a.create_network("Valley Network", NOW).expect("founded");
    assert!(a.is_admin());
    assert!(
        a.create_network("Again", NOW).is_err(),
        "a node founds one network"
    );
    let ops = a
        .admit_org("Yolo Trans Health", Role::Member, b.device_keys(), NOW)
        .expect("admitted");
    assert_eq!(ops.len(), 2, "add organisation + epoch key share");
    b.join(&a.membership_ops(), "Valley Network")
        .expect("joins");
    assert_eq!(b.network(), network);
    assert_eq!(b.network_name(), Some("Valley Network"));
    assert!(!b.is_admin());
    assert_eq!(b.member_devices(), vec![a.public_key()]);

    // B's history written before joining was re-sealed for the network: A accepts all of it
    // because the log says B's device writes for B; and B reads A's.
    sync(&b, &mut a);
    sync(&a, &mut b);
    assert_eq!(handles(&a), ["host-a1", "host-b1"]);
    assert_eq!(handles(&b), ["host-a1", "host-b1"]);

    // A member cannot admit anyone; a device the log does not name gets nothing accepted, even
    // one that was given the network's id: its envelopes fail the authority check.
    let err = b
        .admit_org("Not Invited", Role::Member, m.device_keys(), NOW)
        .expect_err("members do not admit");
    assert!(
        matches!(
            err,
            ReplicaError::Network(NetworkRefusal::NotAdmin {
                action: AdminAction::AdmitOrganisation
            })
        ),
        "{err:?}"
    );
    let err = m
        .join(&a.membership_ops(), "Valley Network")
        .expect_err("not listed");
    assert!(
        matches!(err, ReplicaError::Network(NetworkRefusal::NotListed)),
        "{err:?}"
    );
    m.add_offer(offer("host-m1"), NOW).expect("local write");
    for env in m
        .envelopes_missing_from(&Default::default())
        .expect("log readable")
    {
        assert!(
            a.ingest(&env).is_err(),
            "a non-member's envelope is refused"
        );
    }

    // The log, keys and network survive a restart.
    a.close().expect("closes");
    let mut a = Replica::open(&dir_a, PASS).expect("reopens");
    assert_eq!(a.network_name(), Some("Valley Network"));
    assert_eq!(a.member_devices(), vec![b.public_key()]);
    b.add_offer(offer("host-b2"), NOW).expect("added");
    sync(&b, &mut a);
    assert_eq!(handles(&a), ["host-a1", "host-b1", "host-b2"]);
    // Replaying ops changes nothing.
    let again = a.apply_membership(&b.membership_ops()).expect("applies");
    assert_eq!(again.accepted, 0);
}

#[test]
fn a_store_made_for_a_new_device_writes_nothing_until_it_joins() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut d = Replica::init_device(&tmp.path().join("d"), PASS, "America/Los_Angeles", NOW)
        .expect("device store");
    assert!(d.waits_to_join_as_device());
    let err = d.add_offer(offer("too-early"), NOW).expect_err("refused");
    assert!(
        matches!(err, ReplicaError::Write(WriteRefusal::DevicePending)),
        "{err:?}"
    );
    let err = d
        .create_network("Valley Network", NOW)
        .expect_err("refused");
    assert!(
        matches!(err, ReplicaError::Network(NetworkRefusal::DeviceStore)),
        "{err:?}"
    );
    assert_eq!(d.view().offers().count(), 0);
    // Joining as a device of an organisation lifts it.
    let mut a = init(&tmp.path().join("a"), "Org A");
    a.create_network("Valley Network", NOW).expect("network");
    a.admit_device(a.org(), d.device_keys(), NOW)
        .expect("device added");
    d.join(&a.membership_ops(), "Valley Network")
        .expect("joins as A's device");
    assert!(!d.waits_to_join_as_device());
    d.add_offer(offer("from-the-new-device"), NOW)
        .expect("writes for A");
}

#[test]
fn admins_choose_the_relays_and_members_learn_them_through_the_log() {
    use puente_node::membership::RelayEntry;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = crate::support::network(tmp.path(), 2);
    let mut member = rs.pop().expect("a member");
    let mut admin = rs.pop().expect("the founder");
    let relay = SecretKey::from_bytes(&[42; 32]).public();
    let tcp = "/ip4/203.0.113.5/tcp/4738".to_owned();
    let quic = "/ip4/203.0.113.5/udp/4738/quic-v1".to_owned();
    let refused = |r: Result<Vec<Vec<u8>>, ReplicaError>, why: RelayRefusal| matches!(r, Err(ReplicaError::Relay(got)) if got == why);

    // Outside a network there are no relays to choose; a member cannot choose them.
    let mut solo = init(&tmp.path().join("solo"), "Solo");
    assert!(solo.relays().is_empty());
    assert!(refused(
        solo.set_relay(relay, vec![tcp.clone()], true, NOW),
        RelayRefusal::NotInNetwork
    ));
    assert!(refused(
        member.set_relay(relay, vec![tcp.clone()], true, NOW),
        RelayRefusal::NotAdmin
    ));
    assert!(member.relays().is_empty());
    // Retiring a relay that is not in use is a no-op, refused.
    assert!(refused(
        admin.set_relay(relay, Vec::new(), false, NOW),
        RelayRefusal::NotInUse { relay }
    ));

    let ops = admin
        .set_relay(relay, vec![quic.clone(), tcp.clone()], true, NOW)
        .expect("added");
    assert_eq!(ops.len(), 1);
    let expected = vec![RelayEntry {
        key: relay,
        addresses: vec![tcp.clone(), quic.clone()],
    }];
    assert_eq!(admin.relays(), expected);
    assert_eq!(member.apply_membership(&ops).expect("applies").accepted, 1);
    assert_eq!(member.relays(), expected);
    // The same addresses again, in any order, are a no-op; a malformed address is the op's
    // typed error.
    assert!(refused(
        admin.set_relay(relay, vec![tcp.clone(), quic.clone()], true, NOW),
        RelayRefusal::Unchanged { relay }
    ));
    assert!(matches!(
        admin.set_relay(relay, vec!["not an address".into()], true, NOW),
        Err(ReplicaError::Membership(_))
    ));
    // The choice is durable.
    member.close().expect("closes");
    let mut member = Replica::open(&tmp.path().join("n1"), PASS).expect("reopens");
    assert_eq!(member.relays(), expected);

    let ops = admin
        .set_relay(relay, Vec::new(), false, NOW)
        .expect("retired");
    assert_eq!(member.apply_membership(&ops).expect("applies").accepted, 1);
    assert!(admin.relays().is_empty());
    assert!(member.relays().is_empty());
}
