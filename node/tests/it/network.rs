//! Nodes over real loopback connections: convergence, relay along a line, and refusal of a
//! device that is not a member.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use puente_crdt::Time;
use puente_node::actor::{Node, NodeConfig};
use puente_node::invite::{InviteSecret, InviteState, JoinRefusal, Token};
use puente_node::joiner::{JoinError, JoinProgress, JoinTimeouts, join};
use puente_node::membership::Role;

use crate::support::{LOOPBACK, NOW, has, init, listen_addr, network, offer, settle, spawn};
use puente_node::replica::Replica;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_converge_both_ways() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = network(tmp.path(), 2);
    let mut rb = rs.pop().expect("b");
    let mut ra = rs.pop().expect("a");
    // Written before the nodes start: exchanged by the initial sync.
    ra.add_offer(offer("host-a-old"), NOW).expect("added");
    rb.add_offer(offer("host-b-old"), NOW).expect("added");
    let key_a = ra.public_key();
    let a = spawn(ra, vec![]).await;
    let b = spawn(rb, vec![(key_a, listen_addr(&a).await)]).await;
    let both = ["host-a-old", "host-b-old"];
    settle("initial sync", || async {
        has(&a, &both).await && has(&b, &both).await
    })
    .await;

    // Written while connected: pushed to the peer.
    a.add_offer(offer("host-a-new"), NOW).await.expect("added");
    b.add_offer(offer("host-b-new"), NOW).await.expect("added");
    let all = ["host-a-new", "host-a-old", "host-b-new", "host-b-old"];
    settle("live writes", || async {
        has(&a, &all).await && has(&b, &all).await
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_is_relayed_along_a_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = network(tmp.path(), 3);
    let rc = rs.pop().expect("c");
    let rb = rs.pop().expect("b");
    let ra = rs.pop().expect("a");
    let (key_a, key_b, key_c) = (ra.public_key(), rb.public_key(), rc.public_key());
    // B listens; A and C dial only B, and neither ever learns the other's address.
    let b = spawn(rb, vec![]).await;
    let b_addr = listen_addr(&b).await;
    let a = spawn(ra, vec![(key_b, b_addr.clone())]).await;
    let c = spawn(rc, vec![(key_b, b_addr)]).await;
    settle("B has sessions with A and C", || async {
        let s = b.status().await.expect("running").sessions;
        s.contains(&key_a) && s.contains(&key_c)
    })
    .await;

    a.add_offer(offer("host-from-a"), NOW).await.expect("added");
    settle("C has A's offer", || async {
        has(&c, &["host-from-a"]).await
    })
    .await;
    assert!(has(&b, &["host-from-a"]).await);
    let a_sessions = a.status().await.expect("running").sessions;
    let c_sessions = c.status().await.expect("running").sessions;
    assert_eq!(a_sessions, [key_b], "A talks only to B");
    assert_eq!(c_sessions, [key_b], "C talks only to B");
    for n in [a, b, c] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_is_not_a_member_gets_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = network(tmp.path(), 2);
    let rb = rs.pop().expect("b");
    let mut ra = rs.pop().expect("a");
    ra.add_offer(offer("host-secret"), NOW).expect("added");
    let (key_a, key_b) = (ra.public_key(), rb.public_key());
    // Mallory runs puente with a network of its own and knows A's key and address, but the
    // network's membership log does not name Mallory's device.
    let mut rm = init(&tmp.path().join("m"), "Mallory");
    rm.trust(key_a, ra.org()).expect("trusted");
    let key_m = rm.public_key();

    let a = spawn(ra, vec![]).await;
    let a_addr = listen_addr(&a).await;
    let m = spawn(rm, vec![(key_a, a_addr.clone())]).await;
    let b = spawn(rb, vec![(key_a, a_addr)]).await;
    // A refused Mallory's handshake, and a member connected after it got the offer.
    settle("A refused Mallory", || async {
        a.status().await.expect("running").refused >= 1
    })
    .await;
    settle("B has A's offer", || async {
        has(&b, &["host-secret"]).await
    })
    .await;
    assert!(has(&m, &[]).await, "Mallory got nothing");
    assert_eq!(a.status().await.expect("running").sessions, [key_b]);
    assert!(
        !a.status().await.expect("running").sessions.contains(&key_m),
        "A never holds a session with Mallory"
    );
    for n in [a, b, m] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_admitted_later_is_known_through_the_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs = network(tmp.path(), 2);
    let rb = rs.pop().expect("b");
    let mut ra = rs.pop().expect("a");
    ra.add_offer(offer("host-a"), NOW).expect("added");
    let key_b = rb.public_key();
    let b = spawn(rb, vec![]).await;
    let b_addr = listen_addr(&b).await;
    let a = spawn(ra, vec![(key_b, b_addr.clone())]).await;
    settle("A and B in session", || async {
        a.status().await.expect("running").sessions == [key_b]
    })
    .await;

    // A (admin) admits C while running; C joins with the log A hands it and then dials only
    // B, which must have learned of C from A's membership ops to let it in.
    let mut rc = init(&tmp.path().join("c"), "Org C");
    rc.add_offer(offer("host-c"), NOW).expect("added");
    let c_keys = rc.device_keys();
    let ops = a
        .with_control(move |control| {
            let r = control.replica();
            r.admit_org("Org C", Role::Member, c_keys, NOW)
                .expect("admitted");
            r.membership_ops()
        })
        .await
        .expect("running");
    rc.join(&ops, "Test Network").expect("joins");
    let key_c = rc.public_key();
    let c = spawn(rc, vec![(key_b, b_addr)]).await;
    let all = ["host-a", "host-c"];
    settle("everyone has both offers", || async {
        has(&a, &all).await && has(&b, &all).await && has(&c, &all).await
    })
    .await;
    assert!(b.status().await.expect("running").sessions.contains(&key_c));
    assert!(
        !a.status().await.expect("running").sessions.contains(&key_c),
        "A and C never connected: C's offer came through B"
    );
    for n in [a, b, c] {
        n.shutdown().await;
    }
}

/// A node whose invitation clock reads `clock`.
async fn spawn_with_clock(replica: Replica, clock: Arc<AtomicI64>) -> Node {
    Node::spawn(
        replica,
        NodeConfig {
            listen: vec![LOOPBACK.into()],
            peers: vec![],
            mdns: false,
            clock: Some(Arc::new(move || Time(clock.load(Ordering::SeqCst)))),
        },
    )
    .await
    .expect("node starts")
}

fn short_timeouts() -> JoinTimeouts {
    JoinTimeouts {
        connect: Duration::from_secs(3),
        confirm: Duration::from_secs(20),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_admits_a_partner_once_the_inviter_confirms() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut ra = init(&tmp.path().join("a"), "Org A");
    ra.create_network("Valley", NOW).expect("founded");
    ra.add_offer(offer("host-a"), NOW).expect("added");
    let key_a = ra.public_key();
    let network = ra.network();
    let clock = Arc::new(AtomicI64::new(NOW.0));
    let a = spawn_with_clock(ra, clock.clone()).await;
    let a_addr = listen_addr(&a).await;
    let invite = |name: &'static str, expires: Time| {
        let a_addr = a_addr.clone();
        a.with_control(move |c| {
            let inv = c
                .replica()
                .create_invitation(name, Role::Member, expires, false, NOW)
                .expect("invitation");
            (inv.id(), inv.token(network, key_a, &[a_addr]))
        })
    };
    let (id, token) = invite("Org B", NOW.plus(86_400)).await.expect("running");
    // The token survives being pasted as text.
    let token: Token = token.to_string().parse().expect("parses");

    let mut rb = init(&tmp.path().join("b"), "Org B");
    rb.add_offer(offer("host-b"), NOW).expect("added");
    // The joiner reports progress once (the phrase); a small bounded channel is plenty.
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::channel(4);
    let joining_token = token.clone();
    let joining = tokio::spawn(async move {
        let result = join(&mut rb, &joining_token, "Org B", short_timeouts(), |p| {
            let _ = progress_tx.try_send(p);
        })
        .await;
        (rb, result)
    });
    let Some(JoinProgress::Waiting { phrase }) = progress_rx.recv().await else {
        panic!("the joiner waits for confirmation with a phrase");
    };
    // The inviter sees the same phrase, and nothing is admitted before confirming.
    let (seen, members) = a
        .with_control(|c| {
            let r = c.replica();
            let seen = r.invitations().iter().find_map(|i| match &i.state {
                InviteState::Requested { phrase, .. } => Some(phrase.clone()),
                _ => None,
            });
            (seen, r.member_devices().len())
        })
        .await
        .expect("running");
    assert_eq!(seen.as_deref(), Some(phrase.as_str()));
    assert_eq!(members, 0, "not admitted before confirmation");
    a.with_control(move |c| c.replica().confirm_invitation(&id, NOW).map(|_| ()))
        .await
        .expect("running")
        .expect("confirmed");
    let (rb, result) = joining.await.expect("join task");
    assert_eq!(result.expect("joined"), "Valley");
    assert_eq!(rb.member_devices(), vec![key_a]);
    let b = spawn(rb, vec![]).await;
    settle("A and B share offers", || async {
        let all = ["host-a", "host-b"];
        has(&a, &all).await && has(&b, &all).await
    })
    .await;

    // The same token again, from another device: refused, nothing admitted.
    let mut rc = init(&tmp.path().join("c"), "Org C");
    let err = join(&mut rc, &token, "Org C", short_timeouts(), |_| {})
        .await
        .expect_err("spent");
    assert!(
        matches!(err, JoinError::Refused(JoinRefusal::Used)),
        "{err:?}"
    );
    // A forged token (the right inviter and address, a made-up secret) never connects.
    let mut forged = token.clone();
    forged.secret = InviteSecret::generate();
    let err = join(&mut rc, &forged, "Org C", short_timeouts(), |_| {})
        .await
        .expect_err("forged");
    assert!(matches!(err, JoinError::Closed), "{err}");
    // An expired token is refused by the inviter, by the inviter's clock.
    let (_, late) = invite("Org D", NOW.plus(60)).await.expect("running");
    clock.store(NOW.0 + 120, Ordering::SeqCst);
    let err = join(&mut rc, &late, "Org D", short_timeouts(), |_| {})
        .await
        .expect_err("expired");
    assert!(
        // The transport turns the expired key away, or the inviter answers that it expired.
        matches!(
            err,
            JoinError::Closed | JoinError::Refused(JoinRefusal::Expired)
        ),
        "{err:?}"
    );
    assert_eq!(
        a.with_control(|c| c.replica().member_devices().len())
            .await
            .expect("running"),
        1,
        "only B was ever admitted"
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// A large network where most members are never online: a node's ring targets (past the full
/// mesh's size) are mostly members it has no address for. It must still dial the members it
/// does know, or it sits alone; every running node ends up in one connected group and an offer
/// written on the last one started reaches the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_nodes_connect_when_most_members_are_never_online() {
    use puente_node::identity::{AgreementSecret, SecretKey};
    use puente_node::membership::DeviceKeys;

    const RUNNING: usize = 5;
    const ABSENT: usize = 30;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rs: Vec<Replica> = (0..RUNNING)
        .map(|i| init(&tmp.path().join(format!("n{i}")), &format!("Org {i}")))
        .collect();
    let (founder, rest) = rs.split_first_mut().expect("a founder");
    founder
        .create_network("Test Network", NOW)
        .expect("founded");
    for k in 0..ABSENT {
        let keys = DeviceKeys {
            device: SecretKey::generate().public(),
            agreement: AgreementSecret::generate().public(),
        };
        founder
            .admit_org(&format!("Absent {k}"), Role::Member, keys, NOW)
            .expect("admitted");
    }
    for (i, r) in rest.iter_mut().enumerate() {
        founder
            .admit_org(
                &format!("Org {}", i + 1),
                Role::Member,
                r.device_keys(),
                NOW,
            )
            .expect("admitted");
    }
    let ops = founder.membership_ops();
    for r in rest {
        r.join(&ops, "Test Network").expect("joins");
    }
    rs[RUNNING - 1]
        .add_offer(offer("host-last"), NOW)
        .expect("added");
    // Each node is told only the addresses of those started before it, as partners that
    // exchange addresses one invitation at a time would be.
    let mut known = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    for r in rs {
        let key = r.public_key();
        let node = spawn(r, known.clone()).await;
        known.push((key, listen_addr(&node).await));
        nodes.push(node);
    }
    settle("every running node has the last one's offer", || async {
        for node in &nodes {
            if !has(node, &["host-last"]).await {
                return false;
            }
        }
        true
    })
    .await;
    for node in &nodes {
        assert!(
            !node.status().await.expect("running").sessions.is_empty(),
            "no running node is left alone"
        );
    }
    for node in nodes {
        node.shutdown().await;
    }
}
