//! Revocation over real nodes: a revoked organisation is cut off everywhere, the network moves
//! to a key it never receives, every remaining member confirms with a receipt, and the revoked
//! key material opens nothing written afterwards (and, as the honest counter-test, still opens
//! what was written before).

use std::collections::BTreeMap;

use puente_node::envelope::{Envelope, EnvelopeError, Epoch, EpochKey, EpochKeyring};
use puente_node::membership::RevokeTarget;
use puente_node::replica::Replica;
use puente_node::seal::SymmetricKey;

use crate::network::{has, settle};
use crate::support::{NOW, PASS, offer};
use crate::testnet::TestNet;

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
    settle("everyone has the first offer", || async {
        let mut ok = true;
        for i in 0..4 {
            ok &= has(net.node(i), &["before-revocation"]).await;
        }
        ok
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
    assert!(
        net.node(2)
            .status()
            .await
            .expect("running")
            .sessions
            .is_empty(),
        "C has no session with anyone"
    );

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
    let laptop = crate::network::spawn(laptop, vec![]).await;
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
