//! Tests of the change envelope format.

use automerge::transaction::Transactable as _;
use proptest::prelude::*;

use super::*;
use crate::envelope::admission::{Admission, Admitted};
use crate::envelope::fixture::{Fixture, NET, applied, change, fake_change};
use crate::keys::{EpochKey, EpochKeyring};

#[test]
fn builds_on_travels_sealed_and_old_bodies_still_open() {
    let f = Fixture::new();
    let builds_on = BuildsOn::from([(f.bob.public(), 7)]);
    let c = change("k", "v");
    let env = Envelope::seal_building_on(
        NET,
        f.org(&f.alice),
        &f.alice,
        1,
        f.key.epoch(),
        f.key.key(),
        std::slice::from_ref(&c),
        &builds_on,
    )
    .expect("seals");
    let opened = env.open_body(&f.key).expect("opens");
    assert_eq!(opened.builds_on, builds_on);
    assert_eq!(opened.changes, vec![c]);
    // Without the list, the body is exactly the change list (what older writers sealed).
    assert!(
        f.env(&f.alice, 1, "v")
            .open_body(&f.key)
            .expect("opens")
            .builds_on
            .is_empty()
    );
    // An author cannot name itself.
    assert!(
        Envelope::seal_building_on(
            NET,
            f.org(&f.alice),
            &f.alice,
            1,
            f.key.epoch(),
            f.key.key(),
            &[change("k", "v")],
            &BuildsOn::from([(f.alice.public(), 1)]),
        )
        .is_err()
    );
}

#[test]
fn a_malformed_builds_on_list_is_refused() {
    let f = Fixture::new();
    let list = encode_body(&[change("k", "v")], &BuildsOn::new()).expect("encodes");
    let entry = |key: &SecretKey, seq: u64| {
        let mut e = key.public().as_bytes().to_vec();
        e.extend_from_slice(&seq.to_be_bytes());
        e
    };
    let with = |count: u16, entries: &[Vec<u8>], extra: &[u8]| {
        let mut b = list.clone();
        b.extend_from_slice(&count.to_be_bytes());
        for e in entries {
            b.extend_from_slice(e);
        }
        b.extend_from_slice(extra);
        decode_body(&b)
    };
    let (a, b) = (entry(&f.alice, 3), entry(&f.bob, 4));
    let sorted = if f.alice.public() < f.bob.public() {
        vec![a.clone(), b.clone()]
    } else {
        vec![b.clone(), a.clone()]
    };
    let unsorted: Vec<Vec<u8>> = sorted.iter().rev().cloned().collect();
    assert_eq!(with(2, &sorted, &[]).expect("decodes").builds_on.len(), 2);
    for (what, bad) in [
        ("unsorted", with(2, &unsorted, &[])),
        ("repeated", with(2, &[a.clone(), a.clone()], &[])),
        ("empty", with(0, &[], &[])),
        ("short", with(2, &sorted[..1], &[])),
        ("trailing", with(1, &sorted[..1], &[0])),
        ("zero seq", with(1, &[entry(&f.bob, 0)], &[])),
        ("too long", with(MAX_BUILDS_ON + 1, &[], &[])),
    ] {
        assert!(
            matches!(bad, Err(EnvelopeError::Malformed(_))),
            "{what}: {bad:?}"
        );
    }
    // A lone byte after the changes is not a list.
    let mut b = list.clone();
    b.push(1);
    assert!(decode_body(&b).is_err());
}

#[test]
fn envelope_round_trip() {
    let f = Fixture::new();
    let changes = vec![change("a", "1"), change("b", "2")];
    let env = Envelope::seal(
        NET,
        f.org(&f.alice),
        &f.alice,
        7,
        Epoch(1),
        f.key.key(),
        &changes,
    )
    .expect("seals");
    let parsed = Envelope::from_bytes(env.as_bytes()).expect("parses");
    assert_eq!(parsed, env);
    assert_eq!(parsed.network(), NET);
    assert_eq!(parsed.partition(), f.org(&f.alice));
    assert_eq!(parsed.author(), f.alice.public());
    assert_eq!(parsed.seq(), 7);
    assert_eq!(parsed.epoch(), Epoch(1));
    assert_eq!(parsed.digest(), env.digest());
    assert_eq!(parsed.verify_signature(), Ok(()));
    assert_eq!(parsed.open(&f.key), Ok(changes));
    assert_eq!(
        env.len(),
        ENVELOPE_HEADER_LEN + 4 + (4 + change("a", "1").len()) * 2 + TAG_LEN + SIGNATURE_LEN
    );
    // The header layout is the documented one.
    assert_eq!(env.as_bytes()[0], 1);
    assert_eq!(env.as_bytes()[1], 1);
    assert_eq!(&env.as_bytes()[2..18], NET.as_bytes());
    assert_eq!(&env.as_bytes()[60..68], &7u64.to_be_bytes());
}

#[test]
fn every_tampered_header_byte_is_caught() {
    let f = Fixture::new();
    let env = f.env(&f.alice, 1, "x");
    for i in 0..env.len() {
        let mut bytes = env.to_bytes();
        bytes[i] ^= 0x10;
        let caught = match Envelope::from_bytes(&bytes) {
            Err(_) => true,
            Ok(parsed) => parsed.verify_signature().is_err() || parsed.open(&f.key).is_err(),
        };
        assert!(caught, "flipping byte {i} went unnoticed");
    }
}

#[test]
fn ciphertext_swapped_between_envelopes_is_refused() {
    let f = Fixture::new();
    let a = f.env(&f.alice, 1, "one");
    let b = f.env(&f.alice, 2, "two");
    // Same lengths, so the bodies can be swapped.
    assert_eq!(a.len(), b.len());
    let mut bytes = a.to_bytes();
    let end = bytes.len() - SIGNATURE_LEN;
    bytes[ENVELOPE_HEADER_LEN..end].copy_from_slice(&b.as_bytes()[ENVELOPE_HEADER_LEN..end]);
    let swapped = Envelope::from_bytes(&bytes).expect("parses");
    assert_eq!(swapped.verify_signature(), Err(EnvelopeError::BadSignature));
    // Even the author re-signing the spliced bytes cannot make the AEAD accept them,
    // because the body is bound to its own header (nonce and sequence number).
    assert_eq!(swapped.open(&f.key), Err(EnvelopeError::Undecryptable));
}

#[test]
fn wrong_or_unknown_epoch_key_is_refused() {
    let f = Fixture::new();
    let env = f.env(&f.alice, 1, "x");
    let wrong = EpochKey::new(Epoch(1), SymmetricKey::from_bytes(&[8; 32]));
    assert_eq!(env.open(&wrong), Err(EnvelopeError::Undecryptable));
    let other_epoch = EpochKey::new(Epoch(2), f.key.key().clone());
    assert_eq!(
        env.open(&other_epoch),
        Err(EnvelopeError::UnknownEpoch(Epoch(1)))
    );
    let mut adm = Admission::new(NET);
    assert_eq!(
        adm.admit(env.clone(), &f.authority(), &wrong).err(),
        Some(EnvelopeError::Undecryptable)
    );
    assert_eq!(
        adm.admit(env.clone(), &f.authority(), &EpochKeyring::new())
            .err(),
        Some(EnvelopeError::UnknownEpoch(Epoch(1)))
    );
    assert!(adm.version_vector().is_empty());
    let mut keys = EpochKeyring::new();
    keys.insert(f.key.clone());
    assert_eq!(applied(adm.admit(env, &f.authority(), &keys)), vec![1]);
}

#[test]
fn length_prefix_claiming_4_gib_is_refused_before_reading_on() {
    let f = Fixture::new();
    let env = f.env(&f.alice, 1, "x");
    let mut bytes = env.as_bytes()[..ENVELOPE_HEADER_LEN].to_vec();
    bytes[96..100].copy_from_slice(&u32::MAX.to_be_bytes());
    // Only the header is present: the bound is checked before anything else is read or
    // allocated, so the claim alone is refused.
    assert_eq!(
        Envelope::from_bytes(&bytes),
        Err(EnvelopeError::TooLarge {
            len: u64::from(u32::MAX),
            max: u64::from(MAX_ENVELOPE_BODY)
        })
    );
    // A change count claiming 4 billion changes inside a valid body is refused too.
    let mut plaintext = u32::MAX.to_be_bytes().to_vec();
    plaintext.extend_from_slice(&[0; 16]);
    assert!(matches!(
        decode_body(&plaintext).map(|o| o.changes),
        Err(EnvelopeError::TooLarge { .. })
    ));
    let mut plaintext = 1u32.to_be_bytes().to_vec();
    plaintext.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        decode_body(&plaintext).map(|o| o.changes),
        Err(EnvelopeError::Malformed("change length exceeds the body"))
    );
}

#[test]
fn trailing_and_missing_bytes_are_refused() {
    let f = Fixture::new();
    let env = f.env(&f.alice, 1, "x");
    let mut longer = env.to_bytes();
    longer.push(0);
    assert!(matches!(
        Envelope::from_bytes(&longer),
        Err(EnvelopeError::Malformed(_))
    ));
    assert_eq!(
        Envelope::from_bytes(&env.as_bytes()[..env.len() - 1]),
        Err(EnvelopeError::Truncated)
    );
    let mut max = env.to_bytes();
    max[60..68].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(matches!(
        Envelope::from_bytes(&max),
        Err(EnvelopeError::Malformed(_))
    ));
    let mut v2 = env.to_bytes();
    v2[0] = 2;
    assert_eq!(
        Envelope::from_bytes(&v2),
        Err(EnvelopeError::UnsupportedVersion(2))
    );
}

#[test]
fn bodies_are_deflated_before_sealing_and_inflated_with_a_cap() {
    let f = Fixture::new();
    // A real change with a long repetitive value compresses well.
    let change = change("label", &"quiet room, bus line nearby; ".repeat(400));
    let env = Envelope::seal(
        NET,
        f.org(&f.alice),
        &f.alice,
        1,
        Epoch(1),
        f.key.key(),
        std::slice::from_ref(&change),
    )
    .expect("seals");
    assert!(
        env.len() < change.len() / 4,
        "{} sealed vs {} plain",
        env.len(),
        change.len()
    );
    assert_eq!(env.open(&f.key).expect("opens"), vec![change]);

    // A hostile writer's body that inflates to 64 MiB stops at the cap and is refused.
    use std::io::Write as _;
    let mut bomb = vec![PLAINTEXT_DEFLATE];
    let mut e = flate2::write::DeflateEncoder::new(&mut bomb, flate2::Compression::best());
    e.write_all(&vec![0u8; 64 << 20]).expect("in memory");
    e.finish().expect("in memory");
    assert!(bomb.len() < 128 * 1024);
    let env = Envelope::seal_plaintext(
        NET,
        f.org(&f.alice),
        &f.alice,
        1,
        Epoch(1),
        f.key.key(),
        &bomb,
    );
    assert!(matches!(
        env.open(&f.key),
        Err(EnvelopeError::TooLarge { .. })
    ));
    // Corrupt deflate is refused, never a panic.
    let env = Envelope::seal_plaintext(
        NET,
        f.org(&f.alice),
        &f.alice,
        1,
        Epoch(1),
        f.key.key(),
        &[PLAINTEXT_DEFLATE, 0xff, 0xff, 0xff],
    );
    assert!(env.open(&f.key).is_err());
}

#[test]
fn compressed_or_foreign_chunks_are_refused() {
    let f = Fixture::new();
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "k", "y".repeat(4096))
        .expect("put");
    let mut big = doc.get_last_local_change().expect("a change");
    let compressed = big.bytes().to_vec();
    assert_eq!(compressed[8], chunk::CHUNK_COMPRESSED_CHANGE);
    let org = f.org(&f.alice);
    assert_eq!(
        Envelope::seal(
            NET,
            org,
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            std::slice::from_ref(&compressed)
        )
        .err(),
        Some(EnvelopeError::CompressedChange)
    );
    let document = doc.save();
    assert_eq!(
        Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[document]).err(),
        Some(EnvelopeError::NotAutomerge("changes"))
    );
    assert_eq!(
        Envelope::seal(
            NET,
            org,
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            &[b"not automerge".to_vec()]
        )
        .err(),
        Some(EnvelopeError::NotAutomerge("changes"))
    );
    // A hostile writer that skips the check in seal is caught when opening.
    let mut plaintext = 1u32.to_be_bytes().to_vec();
    plaintext.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
    plaintext.extend_from_slice(&compressed);
    assert_eq!(
        decode_body(&plaintext).map(|o| o.changes),
        Err(EnvelopeError::CompressedChange)
    );
    // The uncompressed bytes of the same change are fine.
    let raw = big.raw_bytes().to_vec();
    assert!(Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[raw]).is_ok());
}

/// Hand-built change chunks whose columns claim more rows than [`MAX_ENVELOPE_ROWS`] in a
/// few bytes, one per kind of run: a repeat run (actions), a literal run (keys), null runs
/// (object counters) and boolean runs (insert flags). No values follow the claims, so a
/// scanner that read them, or automerge, would fail differently or run for hours.
fn bombs() -> Vec<(&'static str, Vec<u8>)> {
    use chunk::build::{change, sleb, spec, uleb};
    let max = i64::try_from(MAX_ENVELOPE_ROWS).expect("fits");
    let mut repeat = Vec::new();
    sleb(1 << 40, &mut repeat);
    uleb(1, &mut repeat);
    let mut literal = Vec::new();
    sleb(-(max + 1), &mut literal);
    let mut nulls = Vec::new();
    for _ in 0..2 {
        sleb(0, &mut nulls);
        uleb(MAX_ENVELOPE_ROWS / 2 + 1, &mut nulls);
    }
    let mut booleans = Vec::new();
    uleb(MAX_ENVELOPE_ROWS, &mut booleans);
    uleb(1, &mut booleans);
    let actor = [1u8; 32];
    vec![
        ("repeat", change(&actor, &[(spec(4, 2), repeat)])),
        (
            "literal",
            change(&actor, &[(spec(1, chunk::COLUMN_STRING), literal)]),
        ),
        ("null", change(&actor, &[(spec(0, 2), nulls)])),
        (
            "boolean",
            change(&actor, &[(spec(3, chunk::COLUMN_BOOLEAN), booleans)]),
        ),
    ]
}

#[test]
fn run_length_bombs_are_refused_before_automerge_sees_them() {
    let f = Fixture::new();
    let org = f.org(&f.alice);
    for (run, bomb) in bombs() {
        assert!(bomb.len() < 120, "{run}: {} bytes", bomb.len());
        let too_many = Err(EnvelopeError::TooManyRows {
            max: MAX_ENVELOPE_ROWS,
        });
        // This node never seals one.
        let sealed = Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[&bomb]);
        assert_eq!(sealed.map(|_| ()), too_many, "{run}");
        // A hostile writer's is refused by admission, which changes nothing: the sync
        // session counts it as invalid and penalises the sender.
        let env = Envelope::seal_unchecked(
            NET,
            org,
            &f.alice,
            1,
            Epoch(1),
            f.key.key(),
            std::slice::from_ref(&bomb),
        );
        let mut adm = Admission::new(NET);
        let started = std::time::Instant::now();
        assert_eq!(
            adm.admit(env, &f.authority(), &f.key).map(|_| ()),
            too_many,
            "{run}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{run}"
        );
        assert_eq!(adm.next_seq(&f.alice.public()), 1);
        assert_eq!(adm.pending_count(), 0);
    }
}

#[test]
fn the_row_bound_is_for_the_whole_envelope() {
    use chunk::build::{change, sleb, spec, uleb};
    let f = Fixture::new();
    let org = f.org(&f.alice);
    let actions = |rows: u64| {
        let mut column = Vec::new();
        sleb(i64::try_from(rows).expect("fits"), &mut column);
        uleb(1, &mut column);
        change(&[1; 32], &[(spec(4, 2), column)])
    };
    // A quarter of the bound per change: four fit, five do not.
    let quarter = actions(MAX_ENVELOPE_ROWS / 4);
    let four = vec![quarter.clone(); 4];
    let five = vec![quarter; 5];
    let seal = |changes: &[Vec<u8>]| {
        Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), changes).map(|_| ())
    };
    assert_eq!(seal(&four), Ok(()));
    assert_eq!(
        seal(&five),
        Err(EnvelopeError::TooManyRows {
            max: MAX_ENVELOPE_ROWS
        })
    );
    let env = Envelope::seal_unchecked(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &five);
    assert_eq!(
        env.open(&f.key).map(|_| ()),
        Err(EnvelopeError::TooManyRows {
            max: MAX_ENVELOPE_ROWS
        })
    );
    // A long map key repeated by a run: few rows, a gigabyte of keys to hash.
    let mut keys = Vec::new();
    sleb(1 << 20, &mut keys);
    uleb(1 << 10, &mut keys);
    keys.extend_from_slice(&[b'k'; 1 << 10]);
    let long_keys = change(&[1; 32], &[(spec(1, chunk::COLUMN_STRING), keys)]);
    assert_eq!(
        seal(&[long_keys]),
        Err(EnvelopeError::TooManyStringBytes {
            max: chunk::MAX_STRING_BYTES
        })
    );
}

#[test]
fn an_import_batch_is_far_below_the_row_bound() {
    use puente_crdt::{OfferId, Partition, Time, WindowId};
    let f = Fixture::new();
    let now = Time(1_795_000_000);
    let mut offer = puente_crdt::test_utils::sample_offer("host-7f3k", now);
    offer.validate().expect("valid");
    // One change, as `Replica::import_offers` makes per `IMPORT_BATCH_ROWS` offers.
    let mut partition = Partition::new(f.org(&f.alice), f.alice.public().as_bytes());
    for i in 0..crate::replica::IMPORT_BATCH_ROWS as u32 {
        let mut id = [0u8; 10];
        id[..4].copy_from_slice(&i.to_be_bytes());
        let mut window = id;
        window[9] = 1;
        partition
            .add_offer(
                OfferId::from_bytes(id),
                &offer,
                &[WindowId::from_bytes(window)],
                now,
            )
            .expect("adds");
    }
    let change = partition.commit().expect("a change");
    let ops = automerge::Change::from_bytes(change.clone())
        .expect("parses")
        .len() as u64;
    assert_eq!(ops, 24_000, "the figure MAX_ENVELOPE_ROWS documents");
    assert!(MAX_ENVELOPE_ROWS >= 40 * ops);
    let org = f.org(&f.alice);
    let env = Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[&change])
        .expect("an honest batch seals");
    let mut adm = Admission::new(NET);
    let Ok(Admitted::Apply(accepted)) = adm.admit(env, &f.authority(), &f.key) else {
        panic!("an honest batch is admitted");
    };
    assert_eq!(accepted[0].1.changes, vec![change]);
}

#[test]
fn empty_or_oversized_batches_are_refused_at_seal() {
    let f = Fixture::new();
    let org = f.org(&f.alice);
    let none: [Vec<u8>; 0] = [];
    assert!(matches!(
        Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &none),
        Err(EnvelopeError::Malformed(_))
    ));
    assert!(matches!(
        Envelope::seal(
            NET,
            org,
            &f.alice,
            0,
            Epoch(1),
            f.key.key(),
            &[change("k", "v")]
        ),
        Err(EnvelopeError::Malformed(_))
    ));
    let huge = fake_change(MAX_ENVELOPE_BODY as usize);
    assert!(matches!(
        Envelope::seal(NET, org, &f.alice, 1, Epoch(1), f.key.key(), &[huge]),
        Err(EnvelopeError::TooLarge { .. })
    ));
}

proptest! {
    #[test]
    fn envelope_from_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(env) = Envelope::from_bytes(&bytes) {
            let _ = env.verify_signature();
            let _ = env.open(&EpochKey::new(env.epoch(), SymmetricKey::from_bytes(&[0; 32])));
        }
    }

    #[test]
    fn decode_body_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_body(&bytes);
    }
}
