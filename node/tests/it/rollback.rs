//! A store replaced by an older copy of itself (a backup restored over it, a virtual machine
//! rolled back): it notices when its own later work comes back to it (from a partner's node,
//! a bundle or the membership log), refuses every write under its key from then on, even
//! after a restart, and keeps taking in what partners send.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use puente_node::actor::NodeError;
use puente_node::identity::PublicKey;
use puente_node::membership::Role;
use puente_node::replica::{
    BundleScope, IngestOutcome, Replica, ReplicaError, RollbackEvidence, WriteRefusal,
};

use crate::support::{NOW, PASS, TestNet, has, init, network, offer, settle};

/// Copies the store in `from` (stopped) to `to`, as a backup tool would: the same files with
/// the same private modes.
fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("an entry");
        if entry.file_type().expect("a type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copied");
        }
    }
}

/// Replaces the store in `dir` by the copy in `backup`.
fn restore(backup: &Path, dir: &Path) {
    std::fs::remove_dir_all(dir).expect("removed");
    copy_store(backup, dir);
}

fn is_rolled_back_refusal<T: std::fmt::Debug>(result: &Result<T, ReplicaError>) -> bool {
    matches!(
        result,
        Err(ReplicaError::Write(WriteRefusal::RolledBack { .. }))
    )
}

/// Every envelope of `author` that `r` holds, in order.
fn envelopes_of(r: &Replica, author: &PublicKey) -> Vec<Vec<u8>> {
    r.envelopes_after(author, 0, usize::MAX, usize::MAX)
        .expect("log readable")
}

fn handles(r: &Replica) -> Vec<String> {
    let mut v: Vec<String> = r.view().offers().map(|o| o.fields.handle.clone()).collect();
    v.sort();
    v
}

/// Moves every envelope `from` has and `to` lacks, as a connection would.
fn sync(from: &Replica, to: &mut Replica) {
    for e in from
        .envelopes_missing_from(&to.version_vector())
        .expect("log readable")
    {
        to.ingest(&e).expect("envelope accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restored_from_an_old_copy_notices_refuses_to_write_and_keeps_syncing() {
    let mut net = TestNet::new(2).await;
    let b = net.keys[1];
    net.node(1)
        .add_offer(offer("before-the-backup"), NOW)
        .await
        .expect("added");
    settle("A has B's first offer", || async {
        has(net.node(0), &["before-the-backup"]).await
    })
    .await;

    // B's store is copied aside while its node is stopped; then B writes more and A gets it.
    let backups = tempfile::tempdir().expect("tempdir");
    let backup = backups.path().join("b");
    net.stop(1).await;
    copy_store(&net.dirs[1], &backup);
    net.start(1, &[0]).await;
    for handle in ["after-the-backup-1", "after-the-backup-2"] {
        net.node(1)
            .add_offer(offer(handle), NOW)
            .await
            .expect("added");
    }
    let all = [
        "after-the-backup-1",
        "after-the-backup-2",
        "before-the-backup",
    ];
    settle("A has B's later offers", || async {
        has(net.node(0), &all).await
    })
    .await;
    let at_a = net.with(0, move |r| envelopes_of(r, &b)).await;

    // The old copy replaces B's store, and B's node starts again and syncs with A.
    net.stop(1).await;
    restore(&backup, &net.dirs[1]);
    net.start(1, &[0]).await;
    settle(
        "B noticed that its store is older than A's copy of it",
        || async {
            net.with(1, |r| r.rollback().is_some_and(|r| r.is_proven()))
                .await
        },
    )
    .await;
    let rollback = net.with(1, |r| r.rollback()).await.expect("rolled back");
    assert_eq!(rollback.evidence, RollbackEvidence::Envelope);
    assert!(rollback.seen > rollback.held, "{rollback:?}");

    // No write under B's key goes out again, through the node or on its replica.
    let refused = net.node(1).add_offer(offer("after-the-restore"), NOW).await;
    assert!(
        matches!(
            refused,
            Err(NodeError::Replica(ReplicaError::Write(
                WriteRefusal::RolledBack { .. }
            )))
        ),
        "{refused:?}"
    );
    let refused_on_the_replica = net
        .with(1, |r| {
            let refused = r.add_offer(offer("through-the-replica"), NOW);
            is_rolled_back_refusal(&refused)
        })
        .await;
    assert!(refused_on_the_replica);

    // B applied its own later envelopes from A: it shows what partners see.
    settle("B shows its own later offers", || async {
        has(net.node(1), &all).await
    })
    .await;
    // A still holds exactly the envelopes B wrote before the restore: no second one under a
    // number it had, and nobody was taken for a misbehaving peer.
    assert_eq!(net.with(0, move |r| envelopes_of(r, &b)).await, at_a);
    assert_eq!(net.status(0).await.penalties, 0);
    assert_eq!(net.status(1).await.penalties, 0);

    // B keeps taking in partners' changes.
    net.node(0)
        .add_offer(offer("from-a-after-the-restore"), NOW)
        .await
        .expect("added");
    settle("B has A's new offer", || async {
        net.with(1, |r| {
            handles(r).contains(&"from-a-after-the-restore".to_string())
        })
        .await
    })
    .await;

    // A restart does not make B forget: the record is in its store.
    net.stop(1).await;
    net.start(1, &[0]).await;
    let still = net.node(1).add_offer(offer("after-a-restart"), NOW).await;
    assert!(
        matches!(
            still,
            Err(NodeError::Replica(ReplicaError::Write(
                WriteRefusal::RolledBack { .. }
            )))
        ),
        "{still:?}"
    );
    assert_eq!(net.with(0, move |r| envelopes_of(r, &b)).await, at_a);
}

#[test]
fn a_store_restored_from_an_old_copy_learns_it_from_a_bundle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut replicas = network(tmp.path(), 2);
    let mut b = replicas.pop().expect("two");
    let mut a = replicas.pop().expect("two");
    b.add_offer(offer("before-the-backup"), NOW).expect("added");
    sync(&b, &mut a);

    let dir = b.dir().to_path_buf();
    let backup = tmp.path().join("backup");
    b.close().expect("closed");
    copy_store(&dir, &backup);
    let mut b = Replica::open(&dir, PASS).expect("reopens");
    b.add_offer(offer("after-the-backup"), NOW).expect("added");
    sync(&b, &mut a);
    let key = b.public_key();
    let at_a = envelopes_of(&a, &key);
    b.close().expect("closed");

    restore(&backup, &dir);
    let mut b = Replica::open(&dir, PASS).expect("reopens");
    // Nothing to notice before the store meets what partners hold.
    assert_eq!(b.rollback(), None);
    let bundle = a
        .export_bundle(BundleScope::For(b.org()))
        .expect("exported");
    let report = b.import_bundle(&bundle).expect("imported");
    assert_eq!(report.refused, 0, "{report:?}");
    let rollback = b.rollback().expect("noticed");
    assert_eq!(rollback.evidence, RollbackEvidence::Envelope);
    assert_eq!(rollback.seen, rollback.held + 1);
    assert!(is_rolled_back_refusal(
        &b.add_offer(offer("after-the-restore"), NOW)
    ));
    // Its own later envelope was applied: the store shows what partners hold.
    assert_eq!(
        handles(&b),
        ["after-the-backup", "before-the-backup"].map(String::from)
    );
    assert_eq!(envelopes_of(&b, &key), at_a);
    b.close().expect("closed");

    let mut b = Replica::open(&dir, PASS).expect("reopens");
    assert!(b.rollback().is_some_and(|r| r.is_proven()));
    assert!(is_rolled_back_refusal(
        &b.add_offer(offer("after-a-restart"), NOW)
    ));
    // Partners' changes are still taken in.
    a.add_offer(offer("from-a"), NOW).expect("added");
    sync(&a, &mut b);
    assert!(handles(&b).contains(&"from-a".to_string()));
}

#[test]
fn a_restored_store_that_already_wrote_again_notices_the_conflict_and_blames_nobody() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut replicas = network(tmp.path(), 2);
    let b = replicas.pop().expect("two");
    let mut a = replicas.pop().expect("two");
    let dir = b.dir().to_path_buf();
    let backup = tmp.path().join("backup");
    b.close().expect("closed");
    copy_store(&dir, &backup);
    let mut b = Replica::open(&dir, PASS).expect("reopens");
    b.add_offer(offer("after-the-backup"), NOW).expect("added");
    sync(&b, &mut a);
    let key = b.public_key();
    let used = b.version_vector()[&key];
    b.close().expect("closed");

    // Restored, and written to before it met anyone: the same number, other contents.
    restore(&backup, &dir);
    let mut b = Replica::open(&dir, PASS).expect("reopens");
    b.add_offer(offer("written-after-the-restore"), NOW)
        .expect("nothing to notice yet");
    assert_eq!(b.version_vector()[&key], used);

    // A's copy of that number comes back: recorded, not applied, and not A's fault.
    let theirs = envelopes_of(&a, &key).pop().expect("A holds it");
    assert_eq!(
        b.ingest(&theirs).expect("no error"),
        IngestOutcome::OwnConflict
    );
    let rollback = b.rollback().expect("noticed");
    assert_eq!(rollback.evidence, RollbackEvidence::Conflict);
    assert_eq!(rollback.seen, used);
    assert!(is_rolled_back_refusal(&b.add_offer(offer("more"), NOW)));
    // A bundle carrying it counts it as refused, and still imports the rest.
    let bundle = a.export_bundle(BundleScope::All).expect("exported");
    let report = b.import_bundle(&bundle).expect("imported");
    assert_eq!(report.refused, 1, "{report:?}");
}

#[test]
fn a_restored_admins_store_learns_it_from_its_own_membership_op_and_can_still_be_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut replicas = network(tmp.path(), 2);
    let mut b = replicas.pop().expect("two");
    let a = replicas.pop().expect("two");
    let dir = a.dir().to_path_buf();
    let backup = tmp.path().join("backup");
    a.close().expect("closed");
    copy_store(&dir, &backup);
    let mut a = Replica::open(&dir, PASS).expect("reopens");
    // After the backup, the founder admits a third organisation; B hears of it.
    let c = init(&tmp.path().join("c"), "Delta Shelter");
    a.admit_org("Delta Shelter", Role::Member, c.device_keys(), NOW)
        .expect("admitted");
    b.apply_membership(&a.membership_ops()).expect("applied");
    a.close().expect("closed");

    restore(&backup, &dir);
    let mut a = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(a.rollback(), None);
    // B's log brings back the op A signed and its store forgot (as the node applies a
    // partner's ops).
    let (update, _) = a
        .apply_membership_and_follow_up(&b.membership_ops(), NOW)
        .expect("applied");
    assert!(update.accepted > 0);
    let rollback = a.rollback().expect("noticed");
    assert_eq!(rollback.evidence, RollbackEvidence::MembershipOp);

    // Admin changes of its own initiative are refused...
    let d = init(&tmp.path().join("d"), "Elk Grove Food Bank");
    assert!(is_rolled_back_refusal(&a.admit_org(
        "Elk Grove Food Bank",
        Role::Member,
        d.device_keys(),
        NOW
    )));
    assert!(is_rolled_back_refusal(&a.set_role(
        b.org(),
        Role::Admin,
        NOW
    )));
    assert!(is_rolled_back_refusal(&a.create_invitation(
        "Elk Grove Food Bank",
        Role::Member,
        NOW.plus(3600),
        false,
        NOW
    )));
    assert!(is_rolled_back_refusal(&a.add_offer(offer("more"), NOW)));
    // ...but the device that replaces this one can still be added to its organisation.
    let new = Replica::init_device(
        &tmp.path().join("a2"),
        PASS,
        puente_crdt::test_utils::SAMPLE_TZ,
        NOW,
    )
    .expect("a new device's store");
    a.create_device_invitation(NOW.plus(3600), false, NOW)
        .expect("a device invitation");
    let org = a.org();
    a.admit_device(org, new.device_keys(), NOW)
        .expect("the replacement is admitted");
    let state = a.membership().expect("a network").state().clone();
    assert!(state.is_member_device(&new.public_key()));
}
