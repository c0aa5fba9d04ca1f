//! History erasure (issue 13 §4) on stores exchanging what sync would exchange: after an admin
//! erases the history, every store reads exactly as before, each device moved to a new key, and
//! an adversary holding a store with its passphrase, every bundle made before and every mailbox
//! entry deposited before opens nothing of the erased period.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ScalarValue, legacy::OpType};
use puente_crdt::{Decision, OfferPatch};
use puente_node::envelope::Envelope;
use puente_node::identity::PublicKey;
use puente_node::keys::{EpochKeyring, EpochKeys as _};
use puente_node::relay::entry::{entry_epoch, open_entry};
use puente_node::replica::{BundleScope, HoldRequest, MailboxCursor, Replica, ReplicaError};
use puente_node::store::Store;

use crate::support::{NOW, PASS, network, offer};

/// A value that exists only in the erased period: an offer's first handle, renamed since.
const ERASED_HANDLE: &str = "erased-period-handle";

/// Hands every store the membership ops and envelopes the others hold, until nothing moves
/// (what sync does, without the transport).
fn sync_all(rs: &mut [Replica]) {
    for _ in 0..6 {
        let mut moved = false;
        for i in 0..rs.len() {
            for j in 0..rs.len() {
                if i == j {
                    continue;
                }
                let ops = rs[i].membership_ops();
                let (update, _) = rs[j]
                    .apply_membership_and_follow_up(&ops, NOW)
                    .expect("membership applies");
                moved |= update.accepted > 0;
                let have = rs[j].version_vector();
                for env in rs[i].envelopes_missing_from(&have).expect("envelopes") {
                    let before = rs[j].version_vector();
                    rs[j].ingest(&env).expect("ingests");
                    moved |= rs[j].version_vector() != before;
                }
            }
        }
        if !moved {
            return;
        }
    }
    panic!("the stores did not converge");
}

/// What a coordinator reads: every offer's handle and whether it is withdrawn, every hold with
/// its decision, per store.
fn reading(r: &Replica) -> Vec<String> {
    let mut out: Vec<String> = r
        .view()
        .offers()
        .map(|o| {
            format!(
                "offer {} {} withdrawn={}",
                o.owner, o.fields.handle, o.withdrawn
            )
        })
        .collect();
    for h in r.view().holds(NOW, None, None) {
        out.push(format!(
            "hold {} {:?} {:?}",
            h.hold.id, h.status, h.decision
        ));
    }
    out.sort();
    out
}

/// The network of the tests: Org 0 (admin), Org 1 and Org 2, each with offers, a hold placed
/// and decided, a withdrawal, and one offer renamed (its first handle is erased history).
fn busy_network(dir: &std::path::Path) -> Vec<Replica> {
    let mut rs = network(dir, 3);
    let renamed = rs[0].add_offer(offer(ERASED_HANDLE), NOW).expect("added");
    rs[0].add_offer(offer("org0-beds"), NOW).expect("added");
    rs[1].add_offer(offer("org1-host"), NOW).expect("added");
    let gone = rs[2].add_offer(offer("org2-old"), NOW).expect("added");
    rs[2].add_offer(offer("org2-bond"), NOW).expect("added");
    rs[2].withdraw_offer(gone, NOW).expect("withdrawn");
    let patch = OfferPatch {
        handle: Some("org0-renamed".into()),
        ..OfferPatch::default()
    };
    rs[0].update_offer(renamed, patch, NOW).expect("renamed");
    sync_all(&mut rs);
    let target = rs[1]
        .view()
        .offers()
        .find(|o| o.fields.handle == "org0-beds")
        .cloned()
        .expect("Org 1 sees Org 0's offer");
    let hold = rs[1]
        .place_hold(
            HoldRequest {
                owner: target.owner,
                offer: target.id,
                window: target.windows[0].id,
                qty: 1,
                interval: None,
            },
            NOW,
        )
        .expect("held");
    sync_all(&mut rs);
    rs[0]
        .decide_hold(hold, Decision::Confirmed, NOW)
        .expect("decided");
    sync_all(&mut rs);
    rs
}

/// Every key `r`'s store holds or can open from its membership log with its device key.
fn keys_an_adversary_gets(r: &Replica) -> EpochKeyring {
    let mut ring = r.epoch_keyring().clone();
    let log = r.membership().expect("a network");
    for key in log.epoch_keys(&r.public_key(), &r.agreement_secret()).all() {
        ring.insert(key);
    }
    ring
}

/// Whether any change of any partition `r` holds writes `value`.
fn history_holds(r: &mut Replica, value: &str) -> bool {
    r.saved_partitions()
        .expect("partitions")
        .into_iter()
        .any(|(_, bytes)| {
            let mut doc = AutoCommit::load(&bytes).expect("loads");
            doc.get_changes(&[]).into_iter().any(|c| {
                c.decode().operations.iter().any(
                    |op| matches!(&op.action, OpType::Put(ScalarValue::Str(s)) if s.as_str() == value),
                )
            })
        })
}

#[test]
fn after_an_erasure_every_store_reads_the_same_and_writing_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rs = busy_network(dir.path());
    let before: Vec<Vec<String>> = rs.iter().map(reading).collect();
    assert!(before.iter().all(|r| r == &before[0]), "{before:#?}");
    assert!(
        before[0].iter().any(|l| l.contains("Some(Confirmed)")),
        "{before:#?}"
    );
    let old_keys: Vec<PublicKey> = rs.iter().map(Replica::public_key).collect();
    for r in rs.iter_mut() {
        assert!(
            history_holds(r, ERASED_HANDLE),
            "the history holds the old name"
        );
    }

    // A member cannot erase.
    assert!(matches!(
        rs[1].erase_history(None, NOW),
        Err(ReplicaError::Network(_))
    ));
    let erased = rs[0].erase_history(None, NOW).expect("erased");
    assert!(erased.rebased);
    assert_ne!(erased.device, old_keys[0]);
    sync_all(&mut rs);

    let state = rs[0].membership().expect("a network").state().clone();
    for (i, r) in rs.iter_mut().enumerate() {
        assert_eq!(reading(r), before[i], "store {i} reads as before");
        assert_ne!(r.public_key(), old_keys[i], "store {i} moved to a new key");
        assert!(state.is_revoked_device(&old_keys[i]));
        let status = r.erasure_status().expect("status");
        assert_eq!(status.applied, 1);
        assert!(status.waiting_for.is_empty(), "store {i}: {status:?}");
        assert!(status.oldest_key >= Some(erased.before));
        assert!(!history_holds(r, ERASED_HANDLE), "store {i} kept history");
    }
    // Receipts say who applied it.
    let erasure = state.erasures()[0].id;
    let receipts = rs[0]
        .membership()
        .expect("a network")
        .state()
        .receipts(&erasure);
    for r in &rs {
        assert!(receipts.contains_key(&r.public_key()), "{receipts:?}");
    }

    // Writing goes on, under the new keys, and reaches everyone; so do holds on re-based offers.
    rs[1].add_offer(offer("org1-after"), NOW).expect("writes");
    rs[2].add_offer(offer("org2-after"), NOW).expect("writes");
    sync_all(&mut rs);
    let now: Vec<Vec<String>> = rs.iter().map(reading).collect();
    assert!(now.iter().all(|r| r == &now[0]));
    assert!(now[0].iter().any(|l| l.contains("org1-after")));
    assert!(now[0].iter().any(|l| l.contains("org2-after")));

    // And the stores open the same from disk.
    let dirs: Vec<_> = rs.iter().map(|r| r.dir().to_path_buf()).collect();
    for r in rs {
        r.close().expect("closes");
    }
    for d in dirs {
        let r = Replica::open(&d, PASS).expect("reopens");
        assert_eq!(reading(&r), now[0]);
    }
}

#[test]
fn an_adversary_with_a_store_its_passphrase_old_bundles_and_mailbox_entries_opens_nothing_erased() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rs = busy_network(dir.path());
    // What an adversary collected before the erasure: every envelope, a bundle for every
    // member and one for Org 1, and every node's mailbox deposits.
    let old_envelopes: Vec<Vec<u8>> = rs
        .iter()
        .flat_map(|r| {
            r.envelopes_missing_from(&BTreeMap::new())
                .expect("envelopes")
        })
        .collect();
    assert!(old_envelopes.len() >= 8);
    let org1 = rs[1].org();
    let old_bundles = vec![
        rs[0].export_bundle(BundleScope::All).expect("bundle"),
        rs[2].export_bundle(BundleScope::For(org1)).expect("bundle"),
    ];
    let mut old_entries = Vec::new();
    for r in &rs {
        old_entries.extend(all_deposited(r));
    }
    assert!(old_entries.len() >= 8);
    // Before: Org 1's store opens all of it.
    let ring = keys_an_adversary_gets(&rs[1]);
    assert!(
        old_envelopes
            .iter()
            .all(|b| { Envelope::from_bytes(b).expect("parses").open(&ring).is_ok() })
    );

    // Before: they open (and bring nothing new).
    for bundle in &old_bundles {
        rs[1]
            .import_bundle(bundle)
            .expect("an old bundle opens before");
    }
    rs[0].erase_history(None, NOW).expect("erased");
    sync_all(&mut rs);
    // A partner accepted each new key (the first sync session on it ends the handover).
    for r in rs.iter_mut() {
        assert!(r.handover().expect("reads").is_some());
        let header = std::fs::read(r.dir().join(puente_node::store::HEADER_FILE)).expect("reads");
        assert!(r.finish_handover().expect("ends"));
        // Then the store is sealed under a new data key: its header changed.
        let now = std::fs::read(r.dir().join(puente_node::store::HEADER_FILE)).expect("reads");
        assert_ne!(header, now, "a new data key");
    }
    let network = rs[1].network_secret().0;
    let paths: Vec<_> = rs.iter().map(|r| r.dir().to_path_buf()).collect();
    for r in rs {
        r.close().expect("closes");
    }

    for path in &paths {
        // The adversary's copy of the store, opened with its passphrase.
        let mut r = Replica::open(path, PASS).expect("opens with the passphrase");
        let ring = keys_an_adversary_gets(&r);
        assert!(r.handover().expect("reads").is_none());
        assert!(ring.epochs().next().is_some(), "the current key is held");
        for bytes in &old_envelopes {
            let env = Envelope::from_bytes(bytes).expect("parses");
            assert!(env.open(&ring).is_err(), "an erased envelope opened");
        }
        for entry in &old_entries {
            let epoch = entry_epoch(entry).expect("an entry");
            assert!(
                open_entry(&network, entry, &ring.keys(epoch)).is_err(),
                "an erased mailbox entry opened"
            );
        }
        let opened = r.mailbox_open(old_entries.clone());
        assert!(opened.envelopes.is_empty() && opened.ops.is_empty());
        for bundle in &old_bundles {
            assert!(r.import_bundle(bundle).is_err(), "an old bundle opened");
        }
        assert!(!history_holds(&mut r, ERASED_HANDLE));
        r.close().expect("closes");
        // Nothing in the store's own rows says it either.
        let store_has = {
            let store = Store::open_read_only(path, PASS).expect("opens");
            let mut rows: Vec<Vec<u8>> = store
                .read_log(0, usize::MAX)
                .expect("log")
                .into_iter()
                .map(|(_, b)| b)
                .collect();
            for name in store.record_names().expect("names") {
                rows.extend(store.get_record(&name).expect("record").map(|z| z.to_vec()));
            }
            rows.iter().any(|row| {
                row.windows(ERASED_HANDLE.len())
                    .any(|w| w == ERASED_HANDLE.as_bytes())
            })
        };
        assert!(!store_has);
    }
}

/// The busy network with store 2 away while store 0 erases the history and stores 0 and 1
/// apply it: those two, store 2 as it was, and what every store read before.
fn erased_while_store_2_is_away(base: &std::path::Path) -> (Vec<Replica>, Replica, Vec<String>) {
    let mut rs = busy_network(base);
    let before = reading(&rs[0]);
    let away = rs.pop().expect("store 2");
    rs[0].erase_history(None, NOW).expect("erased");
    sync_all(&mut rs);
    (rs, away, before)
}

#[test]
fn a_partner_offline_during_the_erasure_applies_it_from_a_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut rs, mut offline, before) = erased_while_store_2_is_away(dir.path());
    let org2 = offline.org();
    // Org 0 hands Org 2 a bundle: the erasure, the new keys, and the re-based records.
    let bundle = rs[0].export_bundle(BundleScope::For(org2)).expect("bundle");
    let old = offline.public_key();
    let report = offline.import_bundle(&bundle).expect("imports");
    assert!(report.ops_accepted > 0);
    assert_ne!(offline.public_key(), old, "moved to a new key");
    let status = offline.erasure_status().expect("status");
    assert_eq!(status.applied, 1);
    assert!(!status.pending);
    assert_eq!(reading(&offline), before, "reads as before");
    rs.push(offline);
    sync_all(&mut rs);
    let now: Vec<Vec<String>> = rs.iter().map(reading).collect();
    assert!(now.iter().all(|r| r == &before), "{now:#?}");
    for r in &rs {
        assert!(r.erasure_status().expect("status").waiting_for.is_empty());
    }
}

/// Every entry `r` deposits at a relay it starts depositing at.
fn all_deposited(r: &Replica) -> Vec<Vec<u8>> {
    r.mailbox_deposit(
        &MailboxCursor::default(),
        usize::MAX,
        usize::MAX,
        usize::MAX,
    )
    .expect("deposit")
    .entries
}

/// What `from` would deposit at a relay it starts depositing at, as `to` collects and applies
/// it (ops first, then envelopes, and again while entries wait for a key); whether anything
/// new was applied.
fn through_mailbox(from: &Replica, to: &mut Replica) -> bool {
    let mut entries = all_deposited(from);
    let mut moved = false;
    for _ in 0..4 {
        let opened = to.mailbox_open(entries);
        let (update, _) = to
            .apply_membership_and_follow_up(&opened.ops, NOW)
            .expect("applies");
        moved |= update.accepted > 0;
        for env in &opened.envelopes {
            let before = to.version_vector();
            to.ingest(env).expect("ingests");
            moved |= to.version_vector() != before;
        }
        entries = opened.waiting;
        if entries.is_empty() {
            break;
        }
    }
    moved
}

#[test]
fn a_partner_only_a_relays_mailbox_reaches_applies_the_erasure_from_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut rs, mut offline, before) = erased_while_store_2_is_away(dir.path());
    let old = offline.public_key();
    // Store 2 never meets a partner: what each deposits at a relay is all that passes between
    // it and the others (who sync with each other).
    let exchange = |rs: &mut Vec<Replica>, offline: &mut Replica| {
        for _ in 0..4 {
            for r in rs.iter_mut() {
                through_mailbox(r, offline);
                through_mailbox(offline, r);
            }
            sync_all(rs);
        }
    };
    exchange(&mut rs, &mut offline);
    assert_ne!(offline.public_key(), old, "moved to a new key");
    let status = offline.erasure_status().expect("status");
    assert_eq!(status.applied, 1);
    assert!(status.waiting_for.is_empty(), "{status:?}");
    assert_eq!(reading(&offline), before);
    // Writing goes on, through the mailbox too.
    offline.add_offer(offer("org2-after"), NOW).expect("writes");
    exchange(&mut rs, &mut offline);
    for r in &rs {
        assert_eq!(reading(r), reading(&offline));
        assert!(r.erasure_status().expect("status").waiting_for.is_empty());
    }
    assert!(reading(&offline).iter().any(|l| l.contains("org2-after")));
}

/// Admin X and Org A with two devices (stores `x`, `a1`, `a2` under `base`), synced.
fn admin_and_two_devices(base: &std::path::Path) -> Vec<Replica> {
    use puente_node::membership::Role;

    let mut x = crate::support::init(&base.join("x"), "Admin X");
    x.create_network("Valley network", NOW).expect("network");
    let mut a1 = crate::support::init(&base.join("a1"), "Org A");
    x.admit_org("Org A", Role::Member, a1.device_keys(), NOW)
        .expect("admitted");
    a1.join(&x.membership_ops(), "Valley network")
        .expect("joins");
    let mut a2 = Replica::init_device(&base.join("a2"), PASS, "America/Los_Angeles", NOW)
        .expect("device store");
    x.admit_device(a1.org(), a2.device_keys(), NOW)
        .expect("second device");
    a2.join(&x.membership_ops(), "Valley network")
        .expect("joins");
    let mut rs = vec![x, a1, a2];
    sync_all(&mut rs);
    rs
}

#[test]
fn an_organisations_second_device_waits_for_the_re_base_its_first_device_writes() {
    use puente_node::replica::WriteRefusal;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut rs = admin_and_two_devices(dir.path());
    rs[1]
        .add_offer(offer("a-from-laptop-1"), NOW)
        .expect("writes");
    sync_all(&mut rs);
    rs[2]
        .add_offer(offer("a-from-laptop-2"), NOW)
        .expect("writes");
    sync_all(&mut rs);
    let before = reading(&rs[0]);
    assert!(rs.iter().all(|r| reading(r) == before));
    // Which of A's two devices re-bases: the lower key.
    let (first, second) = if rs[1].public_key() < rs[2].public_key() {
        (1, 2)
    } else {
        (2, 1)
    };

    // The erasure reaches A's second device first: it keeps A's records as a stand-in and
    // writes nothing to them until the first device's re-base arrives.
    let erased = rs[0].erase_history(None, NOW).expect("erased");
    let ops = rs[0].membership_ops();
    rs[second]
        .apply_membership_and_follow_up(&ops, NOW)
        .expect("applies");
    assert_eq!(reading(&rs[second]), before);
    assert!(matches!(
        rs[second].add_offer(offer("too-early"), NOW),
        Err(ReplicaError::Write(WriteRefusal::AwaitingRebase))
    ));
    let status = rs[second].erasure_status().expect("status");
    assert!(status.waiting_for.contains(&rs[second].org()), "{status:?}");
    assert!(erased.rebased);

    sync_all(&mut rs);
    for r in &rs {
        assert_eq!(reading(r), before);
        assert!(r.erasure_status().expect("status").waiting_for.is_empty());
    }
    rs[second]
        .add_offer(offer("a-after"), NOW)
        .expect("writes once the re-base is here");
    rs[first]
        .add_offer(offer("a-after-too"), NOW)
        .expect("writes");
    sync_all(&mut rs);
    let now = reading(&rs[0]);
    assert!(now.iter().any(|l| l.contains("a-after ")));
    assert!(now.iter().any(|l| l.contains("a-after-too")));
    assert!(rs.iter().all(|r| reading(r) == now));
}

#[test]
fn when_the_device_that_was_to_re_base_is_lost_the_other_one_does_once_it_is_revoked() {
    use puente_node::membership::RevokeTarget;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut rs = admin_and_two_devices(dir.path());
    rs[1].add_offer(offer("a-one"), NOW).expect("writes");
    sync_all(&mut rs);
    // The device with the lower key is lost before the erasure reaches it.
    let lost_at = if rs[1].public_key() < rs[2].public_key() {
        1
    } else {
        2
    };
    let lost = rs.remove(lost_at);
    let lost_key = lost.public_key();
    drop(lost);
    let before = reading(&rs[0]);
    rs[0].erase_history(None, NOW).expect("erased");
    sync_all(&mut rs);
    assert!(
        !rs[1]
            .erasure_status()
            .expect("status")
            .waiting_for
            .is_empty(),
        "waits for the lost device"
    );
    rs[1]
        .revoke(RevokeTarget::Device(lost_key), "laptop lost", NOW)
        .expect("revokes the lost laptop");
    assert!(
        rs[1]
            .erasure_status()
            .expect("status")
            .waiting_for
            .is_empty()
    );
    rs[1].add_offer(offer("a-two"), NOW).expect("writes again");
    sync_all(&mut rs);
    let now = reading(&rs[0]);
    assert_eq!(now, reading(&rs[1]));
    assert!(
        now.iter().any(|l| l.contains("a-one")),
        "{now:?} {before:?}"
    );
    assert!(now.iter().any(|l| l.contains("a-two")));
    for r in &rs {
        assert!(r.erasure_status().expect("status").waiting_for.is_empty());
    }
    // And it reopens the same.
    let d = rs[1].dir().to_path_buf();
    let r = rs.remove(1);
    r.close().expect("closes");
    assert_eq!(reading(&Replica::open(&d, PASS).expect("reopens")), now);
}

/// Whether node `i` applied the erasure, runs under a key other than `old`, has every
/// partner's re-base and no handover pending.
async fn moved_on(net: &crate::support::TestNet, i: usize, old: PublicKey) -> bool {
    let node = net.node(i);
    if node.public_key() == old {
        return false;
    }
    net.with(i, |r| {
        let status = r.erasure_status().expect("status");
        status.applied == 1
            && status.waiting_for.is_empty()
            && r.handover().expect("reads").is_none()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_nodes_apply_an_erasure_move_to_new_keys_and_keep_syncing() {
    use crate::support::{TestNet, has, settle};

    let net = TestNet::new(3).await;
    for (i, handle) in ["org0-beds", "org1-host", "org2-bond"].iter().enumerate() {
        net.node(i)
            .add_offer(offer(handle), NOW)
            .await
            .expect("added");
    }
    let all = ["org0-beds", "org1-host", "org2-bond"];
    settle("every node has every offer", || async {
        has(net.node(0), &all).await && has(net.node(1), &all).await && has(net.node(2), &all).await
    })
    .await;

    // The admin erases through its running node (as `puente history erase` does).
    let erased = net
        .with(0, |r| r.erase_history(None, NOW))
        .await
        .expect("erased");
    assert!(erased.rebased);
    settle(
        "every node moved to a new key and has every re-base",
        || async {
            moved_on(&net, 0, net.keys[0]).await
                && moved_on(&net, 1, net.keys[1]).await
                && moved_on(&net, 2, net.keys[2]).await
        },
    )
    .await;
    for i in 0..3 {
        assert!(has(net.node(i), &all).await, "node {i} reads as before");
    }

    // Writing goes on under the new keys.
    net.node(2)
        .add_offer(offer("org2-after"), NOW)
        .await
        .expect("added");
    let now = ["org0-beds", "org1-host", "org2-after", "org2-bond"];
    settle("the new offer reaches everyone", || async {
        has(net.node(0), &now).await && has(net.node(1), &now).await
    })
    .await;
}
