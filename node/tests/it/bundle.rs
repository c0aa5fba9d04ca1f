//! Bundles for offline transfer: real replicas in temporary directories exchange membership ops
//! and envelopes through sealed files instead of a connection.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use puente_node::envelope::{Epoch, EpochKey};
use puente_node::identity::PublicKey;
use puente_node::membership::{Op, Role};
use puente_node::replica::{
    BundleRefusal, BundleReport, BundleScope, Replica, ReplicaError, write_private,
};
use tempfile::TempDir;

use crate::support::{NOW, PASS, init, offer};

const NETWORK: &str = "Valley Network";
const A_NAME: &str = "Sacramento Accompaniment";
const B_NAME: &str = "Yolo Trans Health";
const C_NAME: &str = "Delta Shelter";

fn handles(r: &Replica) -> Vec<String> {
    let mut v: Vec<String> = r.view().offers().map(|o| o.fields.handle.clone()).collect();
    v.sort();
    v
}

/// Everything a bundle import could change, to compare before and after.
fn state(r: &Replica) -> (u64, BTreeMap<PublicKey, u64>, Vec<String>, usize, Epoch) {
    (
        r.stats().log_len,
        r.version_vector(),
        handles(r),
        r.membership_ops().len(),
        r.epoch(),
    )
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

/// `admin` admits `other` as a member and `other` joins with the admin's log.
fn admit(admin: &mut Replica, other: &mut Replica, name: &str) {
    admin
        .admit_org(name, Role::Member, other.device_keys(), NOW)
        .expect("admitted");
    other.join(&admin.membership_ops(), NETWORK).expect("joins");
}

/// A (admin, one offer) and B (member, one offer), in one network and in sync.
fn two_partners(tmp: &TempDir) -> (Replica, Replica) {
    let mut a = init(&tmp.path().join("a"), A_NAME);
    let mut b = init(&tmp.path().join("b"), B_NAME);
    a.add_offer(offer("host-a1"), NOW).expect("added");
    b.add_offer(offer("host-b1"), NOW).expect("added");
    a.create_network(NETWORK, NOW).expect("founded");
    admit(&mut a, &mut b, B_NAME);
    sync(&b, &mut a);
    sync(&a, &mut b);
    (a, b)
}

fn refusal(result: Result<BundleReport, ReplicaError>) -> BundleRefusal {
    match result {
        Err(ReplicaError::Bundle(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn an_offline_partner_catches_up_from_a_bundle_and_a_second_import_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, mut b) = two_partners(&tmp);
    // B's last session with A ends: A records what B had. Then B goes offline.
    a.record_peer_vector(b.org(), b.version_vector())
        .expect("recorded");
    // Meanwhile C is admitted (B does not know C) and publishes, and A publishes more.
    let mut c = init(&tmp.path().join("c"), C_NAME);
    c.add_offer(offer("host-c1"), NOW).expect("added");
    admit(&mut a, &mut c, C_NAME);
    sync(&c, &mut a);
    a.add_offer(offer("host-a2"), NOW).expect("added");
    a.add_offer(offer("host-a3"), NOW).expect("added");

    let bundle = a.export_bundle(BundleScope::For(b.org())).expect("exports");
    let report = b.import_bundle(&bundle).expect("imports");
    // Only what B lacked: A's two new envelopes and C's history; the ops that admitted C come
    // first, so C's envelopes are accepted.
    assert_eq!(report.ops_accepted, 2, "C's admission and its key share");
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.waiting, 0);
    assert_eq!(report.refused, 0);
    assert!(report.envelopes_applied >= 3, "{report:?}");
    assert_eq!(
        handles(&b),
        ["host-a1", "host-a2", "host-a3", "host-b1", "host-c1"]
    );
    assert_eq!(handles(&b), handles(&a));
    assert!(b.member_devices().contains(&c.public_key()));

    // The same file again: every envelope is a duplicate and nothing changes.
    let before = state(&b);
    let again = b.import_bundle(&bundle).expect("imports again");
    assert_eq!(again.ops_accepted, 0);
    assert_eq!(again.envelopes_applied, 0);
    assert_eq!(again.duplicates, report.envelopes_applied);
    assert_eq!(again.refused, 0);
    assert_eq!(state(&b), before);

    // C was never sent A's or B's history; a bundle for every member catches it up.
    let all = a.export_bundle(BundleScope::All).expect("exports");
    let report = c.import_bundle(&all).expect("imports");
    assert_eq!(report.refused, 0);
    assert!(report.duplicates > 0, "C's own envelopes are in it");
    assert_eq!(handles(&c), handles(&a));
}

#[test]
fn without_a_recorded_vector_a_bundle_carries_everything_and_vectors_survive_a_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, b) = two_partners(&tmp);
    assert_eq!(a.peer_vector(b.org()).expect("readable"), None);
    let full = a.export_bundle(BundleScope::For(b.org())).expect("exports");
    a.record_peer_vector(b.org(), b.version_vector())
        .expect("recorded");
    let small = a.export_bundle(BundleScope::For(b.org())).expect("exports");
    assert!(small.len() < full.len(), "only what B lacks");

    let vector = b.version_vector();
    let dir = a.dir().to_path_buf();
    a.close().expect("closes");
    let mut a = Replica::open(&dir, PASS).expect("reopens");
    assert_eq!(a.peer_vector(b.org()).expect("readable"), Some(vector));
    // A newer vector replaces the older one (a partner that lost data gets everything again).
    a.record_peer_vector(b.org(), BTreeMap::new())
        .expect("recorded");
    assert_eq!(
        a.peer_vector(b.org()).expect("readable"),
        Some(BTreeMap::new())
    );
    let stranger = init(&tmp.path().join("s"), "Not Invited");
    let not_a_member = |err: ReplicaError| matches!(err, ReplicaError::Bundle(BundleRefusal::NotAMember { org }) if org == stranger.org());
    let err = a
        .record_peer_vector(stranger.org(), BTreeMap::new())
        .expect_err("not a member");
    assert!(not_a_member(err));
    let err = a
        .export_bundle(BundleScope::For(stranger.org()))
        .expect_err("not a member");
    assert!(not_a_member(err));
}

#[test]
fn a_partner_that_missed_a_key_rotation_still_opens_its_bundle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, mut b) = two_partners(&tmp);
    a.record_peer_vector(b.org(), b.version_vector())
        .expect("recorded");
    // While B is offline, A rotates to epoch 1 (sealed to every member device) and writes
    // under it. B holds only epoch 0's key.
    let log = a.membership().expect("in a network");
    let rotation = Op::epoch_key(
        log.network(),
        &a.device_key(),
        &log.heads(),
        &EpochKey::generate(Epoch(1)),
        &[a.device_keys(), b.device_keys()],
        1,
    )
    .expect("seals");
    let update = a.apply_membership(&[rotation.to_bytes()]).expect("applies");
    assert_eq!(update.accepted, 1);
    assert_eq!(a.epoch(), Epoch(1));
    a.add_offer(offer("host-a2"), NOW).expect("added");
    assert_eq!(b.epoch(), Epoch(0));

    let bundle = a.export_bundle(BundleScope::For(b.org())).expect("exports");
    let report = b.import_bundle(&bundle).expect("imports");
    assert_eq!(report.ops_accepted, 1);
    assert_eq!(report.envelopes_applied, 1);
    assert_eq!(
        b.epoch(),
        Epoch(1),
        "the rotation inside taught B the new key"
    );
    assert_eq!(handles(&b), ["host-a1", "host-a2", "host-b1"]);
}

#[test]
fn any_flipped_byte_refuses_the_whole_bundle_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, mut b) = two_partners(&tmp);
    let mut c = init(&tmp.path().join("c"), C_NAME);
    admit(&mut a, &mut c, C_NAME);
    sync(&c, &mut a);
    a.add_offer(offer("host-a2"), NOW).expect("added");
    // Sealed to every device (three slots): a flip in another device's slot must count too.
    let bundle = a.export_bundle(BundleScope::All).expect("exports");
    let before = state(&b);
    for i in 0..bundle.len() {
        let mut tampered = bundle.clone();
        tampered[i] ^= 0x20;
        refusal(b.import_bundle(&tampered));
    }
    assert_eq!(state(&b), before, "nothing was applied");
    // An extra byte at the end is tampering too.
    let mut longer = bundle.clone();
    longer.push(0);
    refusal(b.import_bundle(&longer));
    assert_eq!(state(&b), before);
    // The untouched bundle still imports.
    let report = b.import_bundle(&bundle).expect("imports");
    assert_eq!(report.refused, 0);
    assert_eq!(handles(&b), ["host-a1", "host-a2", "host-b1"]);
}

#[test]
fn bundles_of_another_network_or_for_another_organisation_are_refused_clearly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, mut b) = two_partners(&tmp);
    let mut c = init(&tmp.path().join("c"), C_NAME);
    admit(&mut a, &mut c, C_NAME);
    let before = state(&b);

    let mut d = init(&tmp.path().join("d"), "Foothill Network Admin");
    d.add_offer(offer("host-d1"), NOW).expect("added");
    let other = d.create_network("Foothill Network", NOW).expect("founded");
    let foreign = d.export_bundle(BundleScope::All).expect("exports");
    assert_eq!(
        refusal(b.import_bundle(&foreign)),
        BundleRefusal::WrongNetwork {
            bundle: other,
            ours: b.network()
        }
    );

    let for_c = a.export_bundle(BundleScope::For(c.org())).expect("exports");
    assert_eq!(
        refusal(b.import_bundle(&for_c)),
        BundleRefusal::NotAddressed
    );
    assert!(c.import_bundle(&for_c).is_ok(), "C opens its own");

    assert_eq!(
        refusal(b.import_bundle(b"name,kind\nfoo,host_home\n")),
        BundleRefusal::NotABundle
    );
    assert_eq!(state(&b), before);
}

#[test]
fn a_node_without_a_network_refuses_to_export_or_import() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, _b) = two_partners(&tmp);
    let mut lone = init(&tmp.path().join("lone"), "On Its Own");
    let bundle = a.export_bundle(BundleScope::All).expect("exports");
    let err = lone
        .export_bundle(BundleScope::All)
        .expect_err("no network");
    assert!(
        matches!(err, ReplicaError::Bundle(BundleRefusal::NoNetworkToExport)),
        "{err:?}"
    );
    let err = lone.import_bundle(&bundle).expect_err("no network");
    assert!(
        matches!(err, ReplicaError::Bundle(BundleRefusal::NoNetworkToImport)),
        "{err:?}"
    );
}

#[test]
fn a_bundle_shows_no_name_handle_id_or_key_in_its_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, b) = two_partners(&tmp);
    a.add_offer(offer("canary-handle-7q"), NOW).expect("added");
    for scope in [BundleScope::All, BundleScope::For(b.org())] {
        let bundle = a.export_bundle(scope).expect("exports");
        for text in [
            A_NAME,
            B_NAME,
            NETWORK,
            "canary-handle-7q",
            "Sacramento",
            "Yolo",
        ] {
            assert!(!contains(&bundle, text.as_bytes()), "{text} in {scope:?}");
        }
        for r in [&a, &b] {
            assert!(
                !contains(&bundle, r.org().as_bytes()),
                "org id in {scope:?}"
            );
            assert!(
                !contains(&bundle, r.public_key().as_bytes()),
                "key in {scope:?}"
            );
            assert!(!contains(&bundle, r.device_keys().agreement.as_bytes()));
        }
    }
}

#[test]
fn truncated_and_random_bundles_are_refused_without_panicking() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut a, b) = two_partners(&tmp);
    a.add_offer(offer("host-a2"), NOW).expect("added");
    let bundle = a.export_bundle(BundleScope::All).expect("exports");
    let b = RefCell::new(b);
    let before = state(&b.borrow());
    for len in 0..bundle.len() {
        refusal(b.borrow_mut().import_bundle(&bundle[..len]));
    }
    // Magic, version, network and slot count of a real bundle, then anything: reaches the
    // slots and the body.
    let prefix = &bundle[..32];
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(any::<u8>(), 0..4096),
        0usize..3,
        any::<(usize, u8)>(),
    );
    runner
        .run(&strategy, |(garbage, mode, (at, byte))| {
            let bytes = match mode {
                0 => garbage,
                1 => [prefix, &garbage[..]].concat(),
                _ => {
                    let mut mutated = bundle.clone();
                    let i = at % mutated.len();
                    mutated[i] = mutated[i].wrapping_add(byte.max(1));
                    mutated.truncate(mutated.len() - garbage.len() % 64);
                    mutated
                }
            };
            let result = b.borrow_mut().import_bundle(&bytes);
            prop_assert!(matches!(result, Err(ReplicaError::Bundle(_))), "{result:?}");
            Ok(())
        })
        .expect("every hostile input is refused");
    assert_eq!(state(&b.borrow()), before);
}

#[cfg(unix)]
#[test]
fn write_private_leaves_an_owner_only_file_and_no_temporary_one() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("for-shelter.bundle");
    write_private(&path, b"first").expect("writes");
    write_private(&path, b"second, longer").expect("replaces");
    assert_eq!(std::fs::read(&path).expect("readable"), b"second, longer");
    let mode = std::fs::metadata(&path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("listable")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["for-shelter.bundle"]);
    assert!(write_private(Path::new("/"), b"x").is_err());
    assert!(
        write_private(&tmp.path().join("missing/dir/file"), b"x").is_err(),
        "the directory must exist"
    );
}
