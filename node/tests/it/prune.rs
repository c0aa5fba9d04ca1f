//! Own envelopes dropped from the log once nothing can need them (issue 13 §3): the store stays
//! whole across restarts, writing goes on under the next numbers, nothing a partner has not
//! said it holds is dropped, and a partner that never had them catches up from the own
//! snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use puente_node::identity::PublicKey;
use puente_node::replica::{OWN_SNAPSHOT_EVERY, Replica};
use puente_node::store::Store;

use crate::support::{NOW, PASS, init, network, offer};

/// Writes `n` offers, one envelope each, named `{prefix}-{i}`.
fn write_offers(r: &mut Replica, prefix: &str, n: u64) {
    for i in 0..n {
        r.add_offer(offer(&format!("{prefix}-{i:05}")), NOW)
            .expect("added");
    }
}

fn handles(r: &Replica) -> Vec<String> {
    let mut out: Vec<String> = r.view().offers().map(|o| o.fields.handle.clone()).collect();
    out.sort();
    out
}

/// Log entries of the store in `dir`: (held envelopes, emptied ones).
fn log_entries(dir: &Path) -> (usize, usize) {
    let store = Store::open_read_only(dir, PASS).expect("opens");
    let log = store.read_log(0, usize::MAX).expect("reads");
    let emptied = log.iter().filter(|(_, b)| b.is_empty()).count();
    (log.len() - emptied, emptied)
}

fn reopen(r: Replica) -> Replica {
    let dir = r.dir().to_path_buf();
    r.close().expect("closes");
    Replica::open(&dir, PASS).expect("reopens")
}

fn own_seq(r: &Replica) -> u64 {
    r.version_vector()
        .get(&r.public_key())
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_store_of_its_own_drops_covered_envelopes_and_stays_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a");
    let mut a = init(&path, "Org A");
    write_offers(&mut a, "x", OWN_SNAPSHOT_EVERY + 10);
    let before = handles(&a);
    let seq = own_seq(&a);
    let view = deflated(&a.view().encode());
    a.close().expect("closes");
    let (held, emptied) = log_entries(&path);
    assert_eq!(held, 0, "every own envelope is covered by the own snapshot");
    assert_eq!(emptied as u64, seq, "the profile and every offer");

    // The local snapshot refers to the own snapshot's document instead of holding it again.
    {
        let store = Store::open_read_only(&path, PASS).expect("opens");
        let local = store
            .get_snapshot("local")
            .expect("reads")
            .expect("written");
        let own = store.get_snapshot("own").expect("reads").expect("written");
        assert!(
            local.bytes.len() < view.len() + 256,
            "local {} bytes, its view {} bytes, own {} bytes",
            local.bytes.len(),
            view.len(),
            own.bytes.len()
        );
    }

    // The own partition loads from the own snapshot when a write needs it.
    let mut a = Replica::open(&path, PASS).expect("reopens");
    assert_eq!(handles(&a), before);
    assert_eq!(
        own_seq(&a),
        seq,
        "the version vector still says what was written"
    );
    // Writing goes on under the next number.
    a.add_offer(offer("after"), NOW).expect("writes");
    assert_eq!(own_seq(&a), seq + 1);
    let a = reopen(a);
    assert_eq!(own_seq(&a), seq + 1);
    assert!(handles(&a).contains(&"after".to_string()));
    // Read-only opens see the same.
    a.close().expect("closes");
    let ro = Replica::open_read_only(&path, PASS).expect("opens read-only");
    assert_eq!(own_seq(&ro), seq + 1);
    assert_eq!(handles(&ro).len(), before.len() + 1);
}

#[test]
fn nothing_is_dropped_that_a_partner_has_not_said_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut stores = network(dir.path(), 3);
    let mut c = stores.pop().expect("c");
    let mut b = stores.pop().expect("b");
    let mut a = stores.pop().expect("a");
    let a_dir = a.dir().to_path_buf();
    write_offers(&mut a, "x", OWN_SNAPSHOT_EVERY + 10);
    let written = own_seq(&a);
    let a_key: PublicKey = a.public_key();

    // B and C never said what they hold: nothing goes.
    let a = reopen(a);
    assert_eq!(log_entries_of(a), (written as usize, 0));
    let mut a = Replica::open(&a_dir, PASS).expect("reopens");

    // B holds everything now, C still nothing: still nothing goes.
    for env in a
        .envelopes_missing_from(&BTreeMap::new())
        .expect("envelopes")
    {
        b.ingest(&env).expect("ingests");
    }
    a.record_peer_vector(b.org(), b.version_vector())
        .expect("recorded");
    a.record_peer_vector(c.org(), BTreeMap::new())
        .expect("recorded");
    let a = reopen(a);
    assert_eq!(log_entries_of(a), (written as usize, 0));
    let mut a = Replica::open(&a_dir, PASS).expect("reopens");

    // C holds the first 100: those go, the rest stays for it.
    let first: Vec<Vec<u8>> = a
        .envelopes_after(&a_key, 0, 100, usize::MAX)
        .expect("envelopes");
    for env in &first {
        c.ingest(env).expect("ingests");
    }
    a.record_peer_vector(c.org(), c.version_vector())
        .expect("recorded");
    let a = reopen(a);
    assert_eq!(log_entries_of(a), (written as usize - 100, 100));
    let a = Replica::open(&a_dir, PASS).expect("reopens");

    // What C still lacks comes as envelopes, from 101 on.
    let rest = a
        .envelopes_after(&a_key, 100, usize::MAX, usize::MAX)
        .expect("envelopes");
    assert_eq!(rest.len() as u64, written - 100);
    for env in &rest {
        c.ingest(env).expect("ingests");
    }
    assert_eq!(handles(&c), handles(&a));
    a.close().expect("closes");
}

#[test]
fn a_partner_that_never_had_the_dropped_envelopes_catches_up_from_the_own_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut stores = network(dir.path(), 2);
    let mut b = stores.pop().expect("b");
    let mut a = stores.pop().expect("a");
    let a_key = a.public_key();
    write_offers(&mut a, "x", OWN_SNAPSHOT_EVERY + 10);
    // B says (as after a sync) that it holds everything, then loses its store: the replacement
    // holds nothing of A's.
    let mut vector = BTreeMap::new();
    vector.insert(a_key, own_seq(&a));
    a.record_peer_vector(b.org(), vector).expect("recorded");
    let mut a = reopen(a);
    assert!(
        a.envelopes_after(&a_key, 0, 1, usize::MAX)
            .expect("envelopes")
            .is_empty(),
        "dropped"
    );
    let snapshot = a
        .own_snapshot()
        .expect("builds")
        .expect("the own snapshot covers what was dropped");
    assert!(snapshot.covers[&a_key] >= own_seq(&a));
    let bytes = a
        .snapshot_bytes(&snapshot.id)
        .expect("readable")
        .expect("listed");
    b.ingest_snapshot(&bytes).expect("ingests");
    assert_eq!(handles(&b), handles(&a));
    // A partner's copy of a dropped envelope is a duplicate, not evidence of anything.
    assert!(a.rollback().is_none());
}

fn deflated(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("deflates");
    e.finish().expect("deflates")
}

fn log_entries_of(r: Replica) -> (usize, usize) {
    let dir = r.dir().to_path_buf();
    r.close().expect("closes");
    log_entries(&dir)
}
