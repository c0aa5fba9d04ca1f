//! A backup made while the node runs, restored as a new device of the same organisation, with
//! real nodes on loopback: partners admit the new key through the replaced key's one handover
//! connection, revoke the replaced key at what the backup held of it (its later changes are not
//! kept, nor its later membership changes), accept the new device's writes, and nothing is
//! signed under the replaced key again; the replaced key's later work that comes back is
//! another device's, never evidence that the restored store was rolled back.

use puente_node::identity::{AgreementSecret, PublicKey, SecretKey};
use puente_node::membership::DeviceKeys;
use puente_node::replica::{IngestOutcome, Replica, ReplicaError, Restored};
use puente_node::store::BackupError;

use crate::support::{NOW, PASS, TestNet, has, init, listen_addr, offer, settle, spawn};

/// The membership ops `r`'s log holds that `author` signed.
fn ops_by(r: &Replica, author: &PublicKey) -> usize {
    r.membership()
        .expect("a network")
        .ops()
        .filter(|op| op.author() == *author)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_device_gets_a_new_key_and_partners_revoke_the_old_one() {
    let mut net = TestNet::new(3).await;
    let old = net.keys[1];
    net.node(1)
        .add_offer(offer("before-the-backup"), NOW)
        .await
        .expect("added");
    settle("every node has the first offer", || async {
        has(net.node(0), &["before-the-backup"]).await
            && has(net.node(2), &["before-the-backup"]).await
    })
    .await;

    // The backup is made by the running node, from one read transaction of its store.
    let backup = net
        .with(1, |r| r.backup())
        .await
        .expect("a backup while the node runs");
    let (old_ops_in_backup, held) = {
        let tmp = tempfile::tempdir().expect("tempdir");
        let probe = tmp.path().join("probe");
        puente_node::store::restore(&backup, &probe, PASS)
            .expect("restores")
            .finish()
            .expect("in place");
        let r = Replica::open(&probe, PASS).expect("opens");
        (ops_by(&r, &old), r.version_vector()[&old])
    };

    // The device writes once more after the backup, partners get it, and then it is lost.
    net.node(1)
        .add_offer(offer("after-the-backup"), NOW)
        .await
        .expect("added");
    settle("partners have the later offer", || async {
        has(net.node(0), &["after-the-backup", "before-the-backup"]).await
            && has(net.node(2), &["after-the-backup", "before-the-backup"]).await
    })
    .await;
    let later = net
        .with(0, move |r| r.envelopes_after(&old, held, 10, usize::MAX))
        .await
        .expect("readable");
    assert_eq!(later.len(), 1, "the lost device's change after the backup");
    // It also changed the network after the backup: it added a device.
    let org = net.orgs[1];
    let added = SecretKey::generate().public();
    net.with(1, move |r| {
        let keys = DeviceKeys {
            device: added,
            agreement: AgreementSecret::generate().public(),
        };
        r.admit_device(org, keys, NOW)
    })
    .await
    .expect("added");
    settle("partners have the added device", || async {
        net.state(0).await.is_member_device(&added)
    })
    .await;
    net.stop(1).await;

    // Restored elsewhere: a new key, the old one revoked at what the backup held of it.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("restored");
    let restored: Restored =
        Replica::restore(&backup, &dir, PASS, "restored from a backup", NOW).expect("restored");
    assert_eq!(restored.org, net.orgs[1]);
    let new = restored.device;
    assert_ne!(new, old, "a new device key");
    let replaced = restored.replaced.expect("it replaced the backup's device");
    assert_eq!((replaced.old, replaced.cut), (old, held));
    assert!(
        !replaced.rotated,
        "a member's device does not rotate the key"
    );

    let mut r = Replica::open(&dir, PASS).expect("opens with the backup's passphrase");
    assert_eq!(r.public_key(), new);
    assert_eq!(r.handover().expect("readable"), Some(old));
    let state = r.membership().expect("a network").state().clone();
    assert!(state.is_member_device(&new));
    assert!(state.is_revoked_device(&old));
    assert_eq!(
        ops_by(&r, &old),
        old_ops_in_backup + 1,
        "the old key signed one op: the one that adds the new device"
    );
    // The lost device's later change is another device's change now: no rollback, just a key
    // revoked beyond its cut.
    for envelope in &later {
        let outcome = r.ingest(envelope);
        assert!(
            matches!(
                outcome,
                Ok(IngestOutcome::Waiting) | Err(ReplicaError::Envelope(_))
            ),
            "{outcome:?}"
        );
    }
    assert_eq!(r.rollback(), None);
    assert_eq!(r.version_vector().get(&old), Some(&held));

    // Its node tells the partners through the old key, then talks to them as the new one.
    let known = vec![
        (net.keys[0], net.addr(0).expect("running").to_string()),
        (net.keys[2], net.addr(2).expect("running").to_string()),
    ];
    let node = spawn(r, known).await;
    let _ = listen_addr(&node).await;
    for i in [0, 2] {
        settle(
            "a partner admits the new key and revokes the old one",
            || async {
                let s = net.state(i).await;
                s.is_member_device(&new) && s.is_revoked_device(&old)
            },
        )
        .await;
    }
    // The lost device's op after the backup came back to the restored node: another device's
    // op, undone by the revocation; no rollback.
    settle(
        "the restored node has the lost device's later op, undone",
        || async {
            node.with_control(move |c| {
                let r = c.replica();
                let state = r.membership().expect("a network").state();
                ops_by(r, &old) == old_ops_in_backup + 2 && !state.is_member_device(&added)
            })
            .await
            .expect("running")
        },
    )
    .await;
    for i in [0, 2] {
        assert!(!net.state(i).await.is_member_device(&added));
    }
    settle("the handover ends", || async {
        node.with_control(|c| c.replica().handover().expect("readable"))
            .await
            .expect("running")
            .is_none()
    })
    .await;

    // The restored node catches up and writes; partners accept it under the new key, and the
    // lost device's change after the backup is kept nowhere.
    let expected = ["before-the-backup", "written-after-the-restore"];
    node.add_offer(offer("written-after-the-restore"), NOW)
        .await
        .expect("the restored device writes");
    settle("everyone has the restored device's offer", || async {
        has(&node, &expected).await
            && has(net.node(0), &expected).await
            && has(net.node(2), &expected).await
    })
    .await;
    for i in [0, 2] {
        let (old_seq, new_seq) = net
            .with(i, move |r| {
                let v = r.version_vector();
                (v.get(&old).copied(), v.get(&new).copied())
            })
            .await;
        assert_eq!(
            old_seq,
            Some(held),
            "nothing of the old key counts beyond the cut"
        );
        assert_eq!(new_seq, Some(1));
    }
    let (old_after, new_written, rollback, old_ops) = node
        .with_control(move |c| {
            let r = c.replica();
            (
                r.envelopes_after(&old, held, 10, usize::MAX)
                    .expect("readable"),
                r.envelopes_after(&new, 0, 10, usize::MAX)
                    .expect("readable"),
                r.rollback(),
                ops_by(r, &old),
            )
        })
        .await
        .expect("running");
    assert!(old_after.is_empty(), "nothing sealed under the old key");
    assert_eq!(new_written.len(), 1);
    assert_eq!(rollback, None);
    assert_eq!(
        old_ops,
        old_ops_in_backup + 2,
        "the op adding this device, and the lost device's later one it received"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_admin_device_rotates_the_key_and_a_restart_keeps_the_handover() {
    let mut net = TestNet::new(2).await;
    let old = net.keys[0];
    let backup = net.with(0, |r| r.backup()).await.expect("a backup");
    net.stop(0).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("restored");
    let restored = Replica::restore(&backup, &dir, PASS, "restored", NOW).expect("restored");
    let replaced = restored.replaced.expect("replaced");
    assert!(replaced.rotated, "an admin's device rotates at once");
    let new = restored.device;

    // A node started without partners and stopped keeps the handover for its next start.
    let node = spawn(Replica::open(&dir, PASS).expect("opens"), Vec::new()).await;
    node.shutdown().await;
    let r = Replica::open(&dir, PASS).expect("opens");
    assert_eq!(r.handover().expect("readable"), Some(old));
    let epoch = r.epoch();
    let state = r.membership().expect("a network").state().clone();
    let current = state
        .epochs()
        .into_iter()
        .find(|e| e.epoch == epoch)
        .expect("the current epoch");
    assert!(current.recipients.contains(&new));
    assert!(
        !current.recipients.contains(&old),
        "never sealed to the old key"
    );

    let known = vec![(net.keys[1], net.addr(1).expect("running").to_string())];
    let node = spawn(r, known).await;
    settle(
        "the partner takes the new key and the new epoch",
        || async {
            let s = net.state(1).await;
            let partner_epoch = net.with(1, |r| r.epoch()).await;
            s.is_member_device(&new) && s.is_revoked_device(&old) && partner_epoch == epoch
        },
    )
    .await;
    net.node(1)
        .add_offer(offer("from-the-partner"), NOW)
        .await
        .expect("added");
    node.add_offer(offer("from-the-restored-admin"), NOW)
        .await
        .expect("added");
    let both = ["from-the-partner", "from-the-restored-admin"];
    settle("both sides have both offers", || async {
        has(&node, &both).await && has(net.node(1), &both).await
    })
    .await;
    assert_eq!(
        node.with_control(|c| c.replica().handover().expect("readable"))
            .await
            .expect("running"),
        None
    );
    node.shutdown().await;
}

#[test]
fn a_store_in_no_network_keeps_its_key_and_a_store_is_never_restored_over() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = init(&tmp.path().join("alone"), "Alone");
    let key = r.public_key();
    let backup = r.backup().expect("a backup");
    drop(r);
    let restored =
        Replica::restore(&backup, &tmp.path().join("back"), PASS, "restored", NOW).expect("ok");
    assert_eq!(restored.device, key);
    assert_eq!(restored.replaced, None);
    let r = Replica::open(&tmp.path().join("back"), PASS).expect("opens");
    assert_eq!(r.handover().expect("readable"), None);
    drop(r);
    assert!(matches!(
        Replica::restore(&backup, &tmp.path().join("back"), PASS, "again", NOW),
        Err(ReplicaError::Backup(BackupError::NotEmpty { .. }))
    ));
    assert!(matches!(
        Replica::restore(
            &backup,
            &tmp.path().join("other"),
            b"wrong passphrase",
            "x",
            NOW
        ),
        Err(ReplicaError::Backup(BackupError::WrongPassphrase))
    ));
    assert!(!tmp.path().join("other").exists());
}
