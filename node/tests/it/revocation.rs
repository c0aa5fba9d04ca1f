//! Revocation over real nodes: a revoked organisation is cut off everywhere, the network moves
//! to a key it never receives, every remaining member confirms with a receipt, and the revoked
//! key material opens nothing written afterwards (and, as the honest counter-test, still opens
//! what was written before).

use std::collections::BTreeMap;

use puente_crdt::{OrgId, WindowId};
use puente_node::envelope::{Envelope, EnvelopeError, Epoch, EpochKey, EpochKeyring};
use puente_node::identity::{AgreementSecret, PublicKey, SecretKey};
use puente_node::membership::{Body, DeviceKeys, MemberState, Op, OpId, RevokeTarget, Role};
use puente_node::replica::{IngestOutcome, Replica};
use puente_node::seal::SymmetricKey;

use crate::support::{NOW, PASS, TestNet, all_have, has, offer, settle};

/// Every epoch key a replica holds, decoded from its key export (the adversary's view: every
/// byte of the revoked device's key material).
fn keyring_of(r: &Replica) -> EpochKeyring {
    let (_, bytes) = r.network_secret();
    let mut ring = EpochKeyring::new();
    for chunk in bytes.chunks_exact(36) {
        let epoch = u32::from_be_bytes(chunk[..4].try_into().expect("4 bytes"));
        let key: [u8; 32] = chunk[4..].try_into().expect("32 bytes");
        ring.insert(EpochKey::new(Epoch(epoch), SymmetricKey::from_bytes(&key)));
    }
    ring
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_organisation_is_cut_off_and_reads_nothing_written_afterwards() {
    let mut net = TestNet::new(4).await;
    let (key_c, org_c) = (net.keys[2], net.orgs[2]);
    net.node(1)
        .add_offer(offer("before-revocation"), NOW)
        .await
        .expect("added");
    settle("everyone has the first offer", || {
        all_have(&net, 0..4, &["before-revocation"])
    })
    .await;
    let old_epoch = net.with(0, |r| r.epoch()).await;

    // A (admin) revokes C.
    let revoked = net
        .with(0, move |r| {
            r.revoke(RevokeTarget::Org(org_c), "laptop seized", NOW)
                .expect("revoked")
        })
        .await;
    assert!(revoked.rotated, "the admin rotates the key at once");
    assert!(revoked.epoch > old_epoch);
    let revocation = revoked.revocation;

    // Every remaining node applies it, moves to the new epoch, drops C and confirms.
    settle("the revocation reaches everyone, with receipts", || async {
        let mut ok = true;
        for i in [0, 1, 3] {
            ok &= net
                .with(i, move |r| {
                    let state = r.membership().expect("network").state();
                    state.is_revoked_org(&org_c) && r.epoch() == revoked.epoch
                })
                .await;
            ok &= !net
                .node(i)
                .status()
                .await
                .expect("running")
                .sessions
                .contains(&key_c);
        }
        let receipts: BTreeMap<_, _> = net
            .with(0, move |r| {
                r.membership()
                    .expect("network")
                    .state()
                    .receipts(&revocation)
            })
            .await;
        ok && [0, 1, 3].iter().all(|i| {
            receipts
                .get(&net.keys[*i])
                .is_some_and(|e| *e == revoked.epoch)
        })
    })
    .await;
    // C's side of the connection to A closes once A's farewell (the revocation) is settled.
    settle("C has no session with anyone", || async {
        net.node(2)
            .status()
            .await
            .expect("running")
            .sessions
            .is_empty()
    })
    .await;

    // B writes after the revocation: A and D get it, C does not.
    net.node(1)
        .add_offer(offer("after-revocation"), NOW)
        .await
        .expect("added");
    let both = ["after-revocation", "before-revocation"];
    settle("A and D have B's new offer", || async {
        has(net.node(0), &both).await && has(net.node(3), &both).await
    })
    .await;
    assert!(
        !net.handles(2)
            .await
            .contains(&"after-revocation".to_string())
    );

    // The adversary: every key C ever held, and all of B's ciphertext from A's log.
    let key_b = net.keys[1];
    let c_keys = net.with(2, |r| keyring_of(r)).await;
    let b_envelopes = net
        .with(0, move |r| {
            r.envelopes_after(&key_b, 0, 1_000, usize::MAX)
                .expect("log readable")
        })
        .await;
    let mut opened_before = 0;
    let mut refused_after = 0;
    for bytes in &b_envelopes {
        let env = Envelope::from_bytes(bytes).expect("parses");
        if env.epoch() >= revoked.epoch {
            assert!(
                matches!(env.open(&c_keys), Err(EnvelopeError::UnknownEpoch(_))),
                "C's keys open nothing sealed after the revocation"
            );
            refused_after += 1;
        } else {
            env.open(&c_keys)
                .expect("C could read what it was sent before");
            opened_before += 1;
        }
    }
    assert!(opened_before >= 1 && refused_after >= 1);

    // C stays cut off: restarted and dialling A, it is refused and gets nothing more.
    net.stop(2).await;
    net.start(2, &[0, 1, 3]).await;
    settle("A refuses C's new connection", || async {
        net.node(0).status().await.expect("running").refused >= 1
    })
    .await;
    assert!(
        !net.handles(2)
            .await
            .contains(&"after-revocation".to_string())
    );
    let _ = PASS;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_laptop_is_revoked_and_its_organisation_goes_on() {
    use puente_node::joiner::{JoinTimeouts, join};
    let net = TestNet::new(3).await;
    let (key_b, org_b) = (net.keys[1], net.orgs[1]);
    let network = net.with(0, |r| r.network()).await;

    // B (a member organisation) adds a second device: a laptop made with `init --device`.
    let addr_b = net.node(1).listen_addrs().await.expect("running")[0].clone();
    let token = net
        .with(1, move |r| {
            // TestNet nodes judge expiry by the system clock: far in the future.
            r.create_device_invitation(NOW.plus(100 * 365 * 86_400), true, NOW)
                .expect("invitation")
                .token(network, key_b, &[addr_b])
        })
        .await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut laptop =
        Replica::init_device(&tmp.path().join("laptop"), PASS, "America/Los_Angeles", NOW)
            .expect("device store");
    let timeouts = JoinTimeouts {
        connect: std::time::Duration::from_secs(5),
        confirm: std::time::Duration::from_secs(20),
    };
    join(&mut laptop, &token, "Org 1", timeouts, |_| {})
        .await
        .expect("joins as B's device");
    assert_eq!(laptop.org(), org_b, "the laptop writes for B");
    let key_laptop = laptop.public_key();
    let laptop_dir = laptop.dir().to_path_buf();
    let laptop = crate::support::spawn(laptop, vec![]).await;
    laptop
        .add_peer(
            key_b,
            &net.node(1).listen_addrs().await.expect("running")[0],
        )
        .await
        .expect("running");

    // An admin's node shares the network's key with it (B cannot); then it writes for B.
    let mut wrote = false;
    for _ in 0..200 {
        if laptop
            .add_offer(offer("from-the-laptop"), NOW)
            .await
            .is_ok()
        {
            wrote = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(wrote, "the laptop received the key and wrote");
    settle("A has the laptop's offer, owned by B", || async {
        net.with(0, move |r| {
            r.view()
                .offers()
                .any(|o| o.fields.handle == "from-the-laptop" && o.owner == org_b)
        })
        .await
    })
    .await;

    // The laptop is lost: B's other device revokes it. The designated admin rotates the key.
    let epoch_before = net.with(0, |r| r.epoch()).await;
    net.with(1, move |r| {
        r.revoke(RevokeTarget::Device(key_laptop), "laptop lost", NOW)
            .expect("revoked")
    })
    .await;
    settle("everyone applied it and moved to a new key", || async {
        let mut ok = true;
        for i in 0..3 {
            ok &= net
                .with(i, move |r| {
                    let state = r.membership().expect("network").state();
                    state.is_revoked_device(&key_laptop)
                        && !state.is_revoked_org(&org_b)
                        && r.epoch() > epoch_before
                })
                .await;
        }
        ok
    })
    .await;
    // B's organisation, its offers (the laptop's included) and its other device stay.
    net.node(1)
        .add_offer(offer("from-b-after"), NOW)
        .await
        .expect("B's first device still writes");
    settle("A has B's new offer and still the laptop's", || async {
        let h = net.handles(0).await;
        h.contains(&"from-b-after".to_string()) && h.contains(&"from-the-laptop".to_string())
    })
    .await;
    // What the laptop writes now is refused everywhere.
    let _ = laptop.add_offer(offer("thief-writes"), NOW).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!net.handles(0).await.contains(&"thief-writes".to_string()));
    assert!(!net.handles(1).await.contains(&"thief-writes".to_string()));
    laptop.shutdown().await;
    let _ = laptop_dir;
}

/// Member devices of `state` that have not confirmed `revocation` with a receipt: what
/// `puente peer revocations` lists as not heard from.
fn missing(state: &MemberState, revocation: &OpId) -> Vec<PublicKey> {
    let receipts = state.receipts(revocation);
    state
        .devices()
        .iter()
        .map(|d| d.key)
        .filter(|k| !receipts.contains_key(k))
        .collect()
}

/// Revokes organisation `org` on node `by`: the revocation and the epoch `by` is on after it.
async fn revoke_org(net: &TestNet, by: usize, org: OrgId, reason: &'static str) -> (OpId, Epoch) {
    net.with(by, move |r| {
        let revoked = r
            .revoke(RevokeTarget::Org(org), reason, NOW)
            .expect("revoked");
        (revoked.revocation, revoked.epoch)
    })
    .await
}

/// Waits until node `i`'s transport has refused at least `n` connections since it started.
async fn refused_at_least(net: &TestNet, i: usize, n: u64) {
    settle(&format!("node {i} refused {n} connections"), || async {
        net.status(i).await.refused >= n
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_node_dialling_every_partner_is_refused_and_gets_nothing() {
    let mut net = TestNet::new(4).await;
    let (key_c, org_c) = (net.keys[2], net.orgs[2]);
    let partners = [0, 1, 3];
    settle("a full mesh", || async {
        let mut ok = true;
        for i in 0..4 {
            ok &= net.status(i).await.sessions.len() == 3;
        }
        ok
    })
    .await;

    // A revokes C while C is connected to everyone.
    let (revocation, _) = revoke_org(&net, 0, org_c, "compromised").await;
    settle("every partner applied it and cut C off", || async {
        let mut ok = true;
        for i in partners {
            ok &= net.state(i).await.is_revoked_org(&org_c);
            ok &= !net.status(i).await.sessions.contains(&key_c);
        }
        ok
    })
    .await;
    // A node that applied the revocation sent C nothing more but the revocation itself (its
    // farewell), so C can tell its user who revoked it and why.
    settle("the revocation reached C as a farewell", || async {
        net.with(2, move |r| {
            r.membership().expect("network").contains(&revocation)
        })
        .await
    })
    .await;
    let told = net.with(2, |r| r.own_revocation()).await.expect("C knows");
    assert!(told.organisation);
    assert_eq!(told.reason, "compromised");
    let c_handles = net.handles(2).await;

    // C restarts and dials every partner again and again: each is refused right after the
    // handshake, so C receives no frame at all and no session starts anywhere.
    let mut refused = Vec::new();
    for i in partners {
        refused.push(net.status(i).await.refused);
    }
    net.stop(2).await;
    net.start(2, &partners).await;
    for (i, before) in partners.iter().zip(&refused) {
        refused_at_least(&net, *i, before + 3).await;
    }
    // Its new offer reaches nobody: every partner refuses it again afterwards.
    net.node(2)
        .add_offer(offer("from-the-revoked-node"), NOW)
        .await
        .expect("C still writes locally");
    for i in partners {
        let now = net.status(i).await.refused;
        refused_at_least(&net, i, now + 2).await;
    }
    let c = net.status(2).await;
    assert_eq!(c.frames_received, 0, "a partner sent C a frame");
    assert!(c.last_sync.is_empty());
    for i in partners {
        assert!(!net.status(i).await.sessions.contains(&key_c));
        assert!(
            !net.handles(i)
                .await
                .contains(&"from-the-revoked-node".to_string())
        );
    }
    let mut expected = c_handles;
    expected.push("from-the-revoked-node".to_string());
    expected.sort();
    assert_eq!(net.handles(2).await, expected, "C learned nothing new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_node_relaying_through_an_uninformed_partner_gets_nothing_past_its_cut() {
    // A (0) revokes C (2); B (1) hears of it; D (3) has not heard when C's envelopes reach it.
    let mut net = TestNet::new(4).await;
    let (key_c, org_c) = (net.keys[2], net.orgs[2]);
    let (key_a, key_d) = (net.keys[0], net.keys[3]);
    net.node(2)
        .add_offer(offer("c-before-the-cut"), NOW)
        .await
        .expect("added");
    settle("everyone has C's first offer", || {
        all_have(&net, 0..4, &["c-before-the-cut"])
    })
    .await;

    // C and D are out of the admin's reach. C writes again: only D accepts it.
    net.partition(&[&[0, 1], &[2, 3]]).await;
    net.node(2)
        .add_offer(offer("c-beyond-the-cut"), NOW)
        .await
        .expect("added");
    settle("D has C's second offer", || async {
        has(net.node(3), &["c-before-the-cut", "c-beyond-the-cut"]).await
    })
    .await;
    let (_, epoch) = revoke_org(&net, 0, org_c, "compromised").await;
    let cut = net
        .with(0, move |r| r.version_vector().get(&key_c).copied())
        .await
        .expect("A accepted C's first envelope");
    settle("B applied the revocation", || async {
        net.state(1).await.is_revoked_org(&org_c)
    })
    .await;
    assert_eq!(
        net.state(1).await.device_cut(&key_c).map(|c| c.cut),
        Some(cut),
        "the cut is what the revoker had accepted"
    );
    let d_vector = net.with(3, |r| r.version_vector()).await;
    assert!(
        d_vector[&key_c] > cut,
        "D holds C's envelope beyond the cut"
    );
    assert!(
        !net.state(3).await.is_revoked_org(&org_c),
        "D has not heard"
    );

    // D meets B: it relays C's envelope beyond the cut, which B holds back (unapplied) without
    // blaming D; B tells D of the revocation, and D cuts C off.
    net.connect(3, 1).await;
    settle(
        "B held back the relayed envelope; D applied the revocation",
        || async {
            net.status(1).await.revoked_held_back >= 1
                && net.state(3).await.is_revoked_org(&org_c)
                && net.with(3, |r| r.epoch()).await == epoch
                && !net.status(3).await.sessions.contains(&key_c)
        },
    )
    .await;
    // D keeps nothing of it either: it rebuilt C's partition without the envelope it had
    // applied before it heard, so every node holds the same.
    settle("D dropped C's envelope beyond the cut", || async {
        !net.handles(3)
            .await
            .contains(&"c-beyond-the-cut".to_string())
    })
    .await;
    for i in [0, 1, 3] {
        assert_eq!(
            net.with(i, move |r| r.version_vector().get(&key_c).copied())
                .await,
            Some(cut),
            "node {i} accepted nothing of C beyond the cut"
        );
        assert!(
            !net.handles(i)
                .await
                .contains(&"c-beyond-the-cut".to_string())
        );
    }
    // D was not taken for a misbehaving peer: its session with B goes on and its offer flows
    // on to A.
    net.node(3)
        .add_offer(offer("d-after"), NOW)
        .await
        .expect("added");
    settle("A has D's offer through B", || async {
        net.handles(0).await.contains(&"d-after".to_string())
    })
    .await;
    assert!(net.status(1).await.sessions.contains(&key_d));
    assert_eq!(net.status(1).await.penalties, 0, "B blamed D for relaying");

    // Nothing more flows from C: it keeps dialling D and is refused; what it writes reaches
    // nobody.
    net.node(2)
        .add_offer(offer("c-after-the-revocation"), NOW)
        .await
        .expect("C still writes locally");
    let before = net.status(3).await.refused;
    refused_at_least(&net, 3, before + 2).await;
    // Once healed, D syncs with A directly and offers it nothing of C beyond the cut.
    net.heal().await;
    settle("D and A synced directly, nothing pending", || async {
        net.status(3).await.peers.iter().any(|p| {
            p.key == key_a && p.established && p.in_flight == 0 && p.envelopes_pending == 0
        })
    })
    .await;
    assert_eq!(
        net.status(0).await.revoked_held_back,
        0,
        "D offered C's envelope beyond the cut after it heard of the revocation"
    );
    for i in [0, 1, 3] {
        assert_eq!(
            net.status(i).await.penalties,
            0,
            "node {i} blamed a partner"
        );
    }
    for i in [0, 1, 3] {
        assert!(
            !net.handles(i)
                .await
                .contains(&"c-after-the-revocation".to_string()),
            "node {i}"
        );
        assert!(!net.status(i).await.sessions.contains(&key_c));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_grants_keys_and_envelopes_change_nothing_after_a_revocation() {
    let mut net = TestNet::new(3).await;
    let (key_c, org_c) = (net.keys[2], net.orgs[2]);
    // C gets a second device (AddDevice, and key shares from the admin) and writes.
    let laptop = DeviceKeys {
        device: SecretKey::generate().public(),
        agreement: AgreementSecret::generate().public(),
    };
    net.with(0, move |r| {
        r.admit_device(org_c, laptop, NOW).expect("added")
    })
    .await;
    net.node(2)
        .add_offer(offer("c-old"), NOW)
        .await
        .expect("added");
    settle("everyone has C's offer and its second device", || async {
        let mut ok = true;
        for i in 0..3 {
            ok &= has(net.node(i), &["c-old"]).await;
            ok &= net.state(i).await.device(&laptop.device).is_some();
        }
        ok
    })
    .await;

    // What an adversary captured before the revocation: every grant and key so far, and C's
    // envelopes.
    let old_ops = net.with(0, |r| r.membership_ops()).await;
    let kinds: Vec<&'static str> = old_ops
        .iter()
        .map(|b| match Op::from_bytes(b).expect("an op").body() {
            Body::AddOrg { .. } => "add-org",
            Body::AddDevice { .. } => "add-device",
            Body::EpochKey { .. } => "epoch-key",
            _ => "other",
        })
        .collect();
    for kind in ["add-org", "add-device", "epoch-key"] {
        assert!(kinds.contains(&kind), "captured no {kind} op");
    }
    let old_envelopes = net
        .with(0, move |r| {
            r.envelopes_after(&key_c, 0, 1_000, usize::MAX)
                .expect("log readable")
        })
        .await;
    assert!(!old_envelopes.is_empty());

    let (revocation, epoch) = revoke_org(&net, 0, org_c, "compromised").await;
    let members = [0, 1];
    settle("A and B applied it, moved on and confirmed", || async {
        let mut ok = true;
        for i in members {
            let state = net.state(i).await;
            ok &= missing(&state, &revocation).is_empty();
            ok &= net.with(i, |r| r.epoch()).await == epoch;
        }
        ok
    })
    .await;

    // Every member gets the captured bytes again, the ops in reverse order.
    for i in members {
        let before = snapshot(&net, i).await;
        let ops: Vec<Vec<u8>> = old_ops.iter().rev().cloned().collect();
        let envelopes = old_envelopes.clone();
        let (update, outcomes) = net
            .with(i, move |r| {
                let update = r.apply_membership(&ops).expect("applies");
                let outcomes: Vec<_> = envelopes.iter().map(|e| r.ingest(e)).collect();
                (update, outcomes)
            })
            .await;
        assert_eq!((update.accepted, update.refused), (0, 0), "node {i}");
        for outcome in outcomes {
            assert!(
                matches!(outcome, Ok(IngestOutcome::Duplicate)),
                "node {i}: {outcome:?}"
            );
        }
        let after = snapshot(&net, i).await;
        assert!(after == before, "node {i} changed after the replay");
        assert!(!after.1.contains(&key_c) && !after.1.contains(&laptop.device));
    }

    // The transport's allow-list did not change either: C, restarted, is refused by both.
    let refused: Vec<u64> = vec![net.status(0).await.refused, net.status(1).await.refused];
    net.stop(2).await;
    net.start(2, &members).await;
    for i in members {
        refused_at_least(&net, i, refused[i] + 2).await;
    }
    assert_eq!(net.status(2).await.frames_received, 0);
}

/// What a replay must not change on node `i`: the resolved membership (members, roles,
/// epochs, revocations, receipts, verdicts), the transport's allow-list, the epoch new
/// envelopes use, every key held, the log's heads, the envelopes held and the offers.
async fn snapshot(
    net: &TestNet,
    i: usize,
) -> (
    MemberState,
    Vec<PublicKey>,
    Epoch,
    Vec<u8>,
    Vec<OpId>,
    BTreeMap<PublicKey, u64>,
    Vec<String>,
) {
    let handles = net.handles(i).await;
    net.with(i, move |r| {
        let log = r.membership().expect("network");
        (
            log.state().clone(),
            r.member_devices(),
            r.epoch(),
            r.network_secret().1,
            log.heads(),
            r.version_vector(),
            handles,
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_revoking_each_other_across_a_partition_both_leave_everywhere() {
    // Admins A (0) and C (2) on either side of a partition; E (4), a third admin, is with A.
    let mut net = TestNet::with_admins(5, &[2, 4]).await;
    let (org_a, org_c) = (net.orgs[0], net.orgs[2]);
    let (key_a, key_c) = (net.keys[0], net.keys[2]);
    let owner = net.orgs[1];
    let offer_id = net
        .node(1)
        .add_offer(offer("shared-room"), NOW)
        .await
        .expect("added");
    settle("everyone has the offer", || {
        all_have(&net, 0..5, &["shared-room"])
    })
    .await;
    let window: WindowId = net
        .with(3, move |r| {
            r.view().offer(owner, offer_id).expect("synced").windows[0].id
        })
        .await;

    net.partition(&[&[0, 1, 4], &[2, 3]]).await;
    let (by_a, _) = revoke_org(&net, 0, org_c, "A revokes C").await;
    let (by_c, _) = revoke_org(&net, 2, org_a, "C revokes A").await;
    settle("each side applied its own revocation", || async {
        net.state(1).await.is_revoked_org(&org_c)
            && net.state(4).await.is_revoked_org(&org_c)
            && net.state(3).await.is_revoked_org(&org_a)
    })
    .await;
    // Each side holds a bed of B's room meanwhile, sealed under the key its side rotated to.
    let room = (owner, offer_id, window);
    net.place_hold(4, room, 1, NOW.plus(10)).await;
    net.place_hold(3, room, 2, NOW.plus(20)).await;

    net.heal().await;
    let members = [1, 3, 4];
    settle("every member reached the same state", || async {
        let reference = net.state(1).await;
        let mut ok = reference.is_revoked_org(&org_a)
            && reference.is_revoked_org(&org_c)
            && !reference.needs_rotation();
        let epoch = net.with(1, |r| r.epoch()).await;
        let verdicts = net.verdicts(1, owner, offer_id).await;
        ok &= verdicts.len() == 2;
        for i in members {
            ok &= net.state(i).await == reference;
            ok &= net.with(i, |r| r.epoch()).await == epoch;
            ok &= net.verdicts(i, owner, offer_id).await == verdicts;
        }
        ok
    })
    .await;

    // The documented rule: both revocations are effective, so both admins are out; the key
    // every member is on was sealed to neither.
    let state = net.state(1).await;
    for r in [by_a, by_c] {
        assert!(state.revocation(&r).expect("in the log").effective);
    }
    let orgs: Vec<OrgId> = state.orgs().iter().map(|o| o.id).collect();
    let mut expected: Vec<OrgId> = members.iter().map(|i| net.orgs[*i]).collect();
    expected.sort();
    assert_eq!(orgs, expected);
    let current = state.current_epoch().expect("an epoch");
    assert_eq!(net.with(1, |r| r.epoch()).await, current.epoch);
    assert!(!current.recipients.contains(&key_a) && !current.recipients.contains(&key_c));
    for i in members {
        let sessions = net.status(i).await.sessions;
        assert!(
            !sessions.contains(&key_a) && !sessions.contains(&key_c),
            "node {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_show_who_is_missing_until_offline_members_return() {
    let mut net = TestNet::new(5).await;
    let org_c = net.orgs[2];
    let (key_d, key_e) = (net.keys[3], net.keys[4]);
    net.stop(3).await;
    net.stop(4).await;
    let (revocation, epoch) = revoke_org(&net, 0, org_c, "compromised").await;
    let sorted = |mut keys: Vec<PublicKey>| {
        keys.sort();
        keys
    };
    settle("A and B confirmed; D and E are missing", || async {
        let mut ok = true;
        for i in [0, 1] {
            ok &= missing(&net.state(i).await, &revocation) == sorted(vec![key_d, key_e]);
        }
        ok
    })
    .await;

    // D returns, knowing only B's address: it applies the revocation and confirms.
    net.start(3, &[1]).await;
    settle("only E is missing", || async {
        let mut ok = true;
        for i in [0, 1, 3] {
            ok &= missing(&net.state(i).await, &revocation) == [key_e];
        }
        ok
    })
    .await;
    assert_eq!(net.state(0).await.receipts(&revocation)[&key_d], epoch);
    assert_eq!(net.with(3, |r| r.epoch()).await, epoch);

    // E returns too: nobody is missing anywhere.
    net.start(4, &[0]).await;
    settle("everyone confirmed", || async {
        let mut ok = true;
        for i in [0, 1, 3, 4] {
            ok &= missing(&net.state(i).await, &revocation).is_empty();
        }
        ok
    })
    .await;
    let receipts = net.state(0).await.receipts(&revocation);
    for i in [0, 1, 3, 4] {
        assert_eq!(receipts[&net.keys[i]], epoch, "node {i}");
    }
}

#[test]
fn a_member_confirms_each_revocation_again_only_while_its_key_was_readable_by_the_revoked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = crate::support::network(tmp.path(), 2);
    let mut b = rs.pop().expect("b");
    let mut a = rs.pop().expect("a");
    let org_b = b.org();
    // B's second device (never running), shared the key by the admin; and three organisations
    // whose devices never run.
    let laptop = DeviceKeys {
        device: SecretKey::generate().public(),
        agreement: AgreementSecret::generate().public(),
    };
    let ops = b.admit_device(org_b, laptop, NOW).expect("added");
    a.apply_membership(&ops).expect("applies");
    let shares = a.membership_follow_up(NOW).expect("shares");
    assert!(
        !shares.is_empty(),
        "the admin shares the key with the laptop"
    );
    let mut orgs = Vec::new();
    for k in 0..3 {
        let device = DeviceKeys {
            device: SecretKey::generate().public(),
            agreement: AgreementSecret::generate().public(),
        };
        a.admit_org(&format!("Absent {k}"), Role::Member, device, NOW)
            .expect("admitted");
        orgs.push(puente_node::identity::org_id_for(&device.device));
    }
    b.apply_membership(&a.membership_ops()).expect("applies");

    // B revokes its lost laptop: no rotation yet, so B confirms on the key the laptop had.
    let lost = b
        .revoke(RevokeTarget::Device(laptop.device), "lost", NOW)
        .expect("revoked");
    assert!(!lost.rotated);
    a.apply_membership(&lost.ops).expect("applies");
    let rotation = a.membership_follow_up(NOW).expect("the admin rotates");
    b.apply_membership(&rotation).expect("applies");
    assert_eq!(b.epoch(), a.epoch());
    let again = b.membership_follow_up(NOW).expect("a receipt");
    assert_eq!(
        again.len(),
        1,
        "B confirms the laptop's revocation on the new key"
    );
    a.apply_membership(&again).expect("applies");

    // Each later revocation (with its rotation) asks B for one receipt: its own, not one per
    // past revocation confirmed already on a key the revoked never had.
    for org in orgs {
        let revoked = a
            .revoke(RevokeTarget::Org(org), "gone", NOW)
            .expect("revoked");
        assert!(revoked.rotated);
        b.apply_membership(&revoked.ops).expect("applies");
        let receipts = b.membership_follow_up(NOW).expect("receipts");
        assert_eq!(receipts.len(), 1);
        a.apply_membership(&receipts).expect("applies");
    }
    let state = a.membership().expect("network").state().clone();
    for r in state.revocations() {
        assert!(state.receipts(&r.id).contains_key(&b.public_key()));
    }
}

/// A revoked node whose log holds its revocation (from a partner that had not applied it yet,
/// a bundle, a mailbox) can say so: who revoked it, when, why, and whether its organisation or
/// this device alone. A member, or a partner of the revoked, is told nothing about itself.
#[test]
fn a_revoked_node_knows_it_was_revoked_once_its_log_holds_the_revocation() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = crate::support::network(tmp.path(), 3);
    let mut c = rs.pop().expect("c");
    let _b = rs.pop().expect("b");
    let mut a = rs.pop().expect("a");
    assert_eq!(c.own_revocation(), None);
    a.revoke(RevokeTarget::Org(c.org()), "laptop seized", NOW.plus(60))
        .expect("revoked");
    assert_eq!(c.own_revocation(), None, "not before the op reaches it");
    c.apply_membership(&a.membership_ops()).expect("applied");
    let r = c.own_revocation().expect("C knows");
    assert!(r.organisation);
    assert_eq!((r.by, r.by_name.as_str()), (a.org(), "Org 0"));
    assert_eq!(r.at, NOW.plus(60));
    assert_eq!(r.reason, "laptop seized");
    assert_eq!(a.own_revocation(), None);
}
