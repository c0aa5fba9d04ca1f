//! Networks of real nodes over loopback (`TestNet` from `puente_node::test_utils`): a node
//! offline during changes catches up, a partition with concurrent edits and holds heals to one
//! verdict, a member's forged and tampered envelopes are refused, and a node redials the
//! addresses members told it after a restart.

use std::collections::BTreeMap;

use puente_crdt::{HoldStatus, OfferId, Partition, WindowId};
use puente_node::envelope::{Envelope, Epoch};
use puente_node::net::{Net, NetConfig, NetEvent, NetLimits};
use puente_node::replica::Replica;
use puente_node::sync::{ByeReason, Hello, Message};

use crate::support::{NOW, PASS, TestNet, all_have, has, offer, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_offline_during_changes_catches_up_after_restart() {
    let mut net = TestNet::new(3).await;
    net.stop(2).await;
    net.node(0)
        .add_offer(offer("while-c-was-away-a"), NOW)
        .await
        .expect("added");
    net.node(1)
        .add_offer(offer("while-c-was-away-b"), NOW)
        .await
        .expect("added");
    // C comes back knowing only A's address; B's offer reaches it through A.
    net.start(2, &[0]).await;
    let both = ["while-c-was-away-a", "while-c-was-away-b"];
    settle("C caught up", || async { has(net.node(2), &both).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_and_heal_with_concurrent_edits_and_holds() {
    let mut net = TestNet::new(4).await;
    // One shared offer with a window of 2 beds, known everywhere before the split.
    let owner = net.orgs[0];
    let offer_id = net
        .node(0)
        .add_offer(offer("shared-bed"), NOW)
        .await
        .expect("added");
    settle("everyone has the offer", || {
        all_have(&net, 0..4, &["shared-bed"])
    })
    .await;
    let window: WindowId = net
        .with(1, move |r| {
            r.view().offer(owner, offer_id).expect("synced").windows[0].id
        })
        .await;

    net.partition(&[&[0, 1], &[2, 3]]).await;
    // Concurrent writes on both sides: new offers, and holds that together overbook the window.
    net.node(0)
        .add_offer(offer("side-one"), NOW)
        .await
        .expect("added");
    net.node(2)
        .add_offer(offer("side-two"), NOW)
        .await
        .expect("added");
    let bed = (owner, offer_id, window);
    let h1 = net.place_hold(1, bed, 1, NOW.plus(10)).await;
    let h3 = net.place_hold(3, bed, 2, NOW.plus(20)).await;
    let h2 = net.place_hold(2, bed, 1, NOW.plus(30)).await;
    // While split, each side sees only its own writes.
    settle("each side converged on its own", || async {
        has(net.node(1), &["shared-bed", "side-one"]).await
            && has(net.node(3), &["shared-bed", "side-two"]).await
    })
    .await;
    assert!(!net.handles(0).await.contains(&"side-two".to_string()));

    net.heal().await;
    let all = ["shared-bed", "side-one", "side-two"];
    settle("everyone converged after healing", || async {
        let mut ok = true;
        for i in 0..4 {
            ok &= has(net.node(i), &all).await;
            ok &= net.verdicts(i, owner, offer_id).await.len() == 3;
        }
        ok
    })
    .await;
    let reference = net.verdicts(0, owner, offer_id).await;
    for i in 1..4 {
        assert_eq!(
            net.verdicts(i, owner, offer_id).await,
            reference,
            "node {i}"
        );
    }
    // Holds are judged in creation order against the window's 2 beds, whatever order each
    // node learned them in: the first (1 bed) fits, the second (2 more) does not, the third
    // (1 more) fits.
    assert_eq!(reference[&h1], HoldStatus::Pending);
    assert_eq!(reference[&h3], HoldStatus::Overbooked);
    assert_eq!(reference[&h2], HoldStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_forged_and_tampered_envelopes_are_rejected() {
    let mut net = TestNet::new(3).await;
    // Node 2 is a member whose device turns hostile: stop its node and speak the protocol by
    // hand with its key.
    net.stop(2).await;
    let mallory = Replica::open(&net.dirs[2], PASS).expect("reopens");
    let network = mallory.network();
    let key_m = mallory.public_key();
    let device = mallory.device_key();
    let mut mallory = mallory;
    mallory
        .add_offer(offer("mallory-honest"), NOW)
        .expect("added");
    let vector = mallory.version_vector();
    let own = mallory
        .envelopes_missing_from(&BTreeMap::new())
        .expect("log readable");
    let epoch_key = {
        // A real member holds the epoch key; sealing with it is what a forger would do.
        let keys = mallory.network_secret().1;
        puente_node::seal::SymmetricKey::from_bytes(&keys[4..36].try_into().expect("32 bytes"))
    };
    drop(mallory);
    // A well-formed change signed by Mallory but written into node 0's partition: the
    // authority check refuses it (Mallory's device writes only for its own organisation).
    let mut p = Partition::new(net.orgs[0], key_m.as_bytes());
    p.add_offer(
        OfferId::from_bytes([7; 10]),
        &offer("mallory-forged"),
        &[WindowId::from_bytes([8; 10])],
        NOW,
    )
    .expect("valid");
    let change = p.commit().expect("a change");
    let forged = Envelope::seal(
        network,
        net.orgs[0],
        &device,
        vector.get(&key_m).copied().unwrap_or(0) + 1,
        Epoch(0),
        &epoch_key,
        &[change],
    )
    .expect("seals")
    .to_bytes();
    // Mallory's latest honest envelope with one ciphertext byte flipped: the signature fails.
    let mut tampered = own.last().expect("an envelope").clone();
    let n = tampered.len();
    tampered[n - 80] ^= 1;

    let (raw, mut events) = Net::spawn(NetConfig {
        key: device,
        listen: vec![],
        allowed: vec![net.keys[0]],
        known_addresses: vec![(net.keys[0], net.addr(0).expect("running").into())],
        mdns: false,
        relays: Vec::new(),
        accept_only: Vec::new(),
        limits: NetLimits::default(),
    })
    .await
    .expect("transport starts");
    // Wait for the connection, then send a Hello and a batch holding the bad envelopes.
    loop {
        match events.recv().await.expect("transport running") {
            NetEvent::Connected(peer) if peer == net.keys[0] => break,
            _ => {}
        }
    }
    let hello = Message::Hello(Hello {
        network,
        reply: false,
        heads: Vec::new(),
        vector,
    });
    raw.send(net.keys[0], hello.encode()).await.expect("sent");
    let batch = Message::Envelopes {
        batch: 1,
        direct: Vec::new(),
        envelopes: vec![forged, tampered],
    };
    raw.send(net.keys[0], batch.encode()).await.expect("sent");
    // Node 0 says goodbye for misbehaviour and closes the connection.
    let mut bye = None;
    while let Ok(Some(event)) =
        tokio::time::timeout(std::time::Duration::from_secs(10), events.recv()).await
    {
        match event {
            NetEvent::Frame { bytes, .. } => {
                if let Ok(Message::Bye(reason)) = Message::decode(&bytes) {
                    bye = Some(reason);
                }
            }
            NetEvent::Disconnected(peer) if peer == net.keys[0] => break,
            _ => {}
        }
    }
    assert_eq!(bye, Some(ByeReason::Misbehaviour));
    raw.shutdown().await;
    // Nothing of it was applied, and node 0 goes on serving node 1.
    assert!(
        !net.handles(0)
            .await
            .iter()
            .any(|h| h.starts_with("mallory"))
    );
    assert!(
        !net.node(0)
            .status()
            .await
            .expect("running")
            .sessions
            .contains(&key_m)
    );
    net.node(1)
        .add_offer(offer("after-the-attack"), NOW)
        .await
        .expect("added");
    settle("node 0 still syncs with node 1", || async {
        net.handles(0)
            .await
            .contains(&"after-the-attack".to_string())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_the_addresses_members_tell_it_and_dials_them_after_a_restart() {
    let mut net = TestNet::new(2).await;
    // Node 1 dialled node 0 (TestNet starts nodes in order); identify told node 0 where node
    // 1 listens, and node 0 keeps it.
    let key_1 = net.keys[1];
    settle("node 0 kept node 1's address", || async {
        net.with(0, move |r| !r.peers().addresses(&key_1).is_empty())
            .await
    })
    .await;
    // Node 0 restarts on a new port, told nothing: node 1 cannot find it, so node 0 must
    // dial node 1 from what it kept.
    net.stop(0).await;
    net.start(0, &[]).await;
    settle("node 0 reconnected to node 1 by itself", || async {
        net.node(0)
            .status()
            .await
            .expect("running")
            .sessions
            .contains(&key_1)
    })
    .await;
}
