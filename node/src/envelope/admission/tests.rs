//! Tests of admission: order, duplicates, equivocation, the buffer and revoked keys' limits.

use proptest::prelude::*;

use super::*;
use crate::crypto::labels::ENVELOPE_SIG_DOMAIN;
use crate::envelope::fixture::{Fixture, NET, applied, change, fake_change};
use crate::envelope::format::SIGNATURE_LEN;
use crate::keys::{Epoch, NetworkId};

/// Alice's envelopes count up to `cap` (a revoked key's limit) and wait beyond it.
struct Capped<'a> {
    f: &'a Fixture,
    cap: u64,
}

impl Authority for Capped<'_> {
    fn may_write(&self, author: &PublicKey, org: &OrgId) -> bool {
        crate::identity::org_id_for(author) == *org
    }
    fn may_write_seq(&self, author: &PublicKey, org: &OrgId, seq: u64) -> bool {
        self.may_write(author, org) && (*author != self.f.alice.public() || seq <= self.cap)
    }
    fn may_write_later(&self, author: &PublicKey, org: &OrgId) -> bool {
        *author == self.f.alice.public() && self.may_write(author, org)
    }
}

#[test]
fn beyond_a_revoked_keys_limit_envelopes_wait_and_are_released_when_it_rises() {
    let f = Fixture::new();
    let mut adm = Admission::new(NET);
    let alice = f.alice.public();
    let at_2 = Capped { f: &f, cap: 2 };
    assert_eq!(
        applied(adm.admit(f.env(&f.alice, 1, "a"), &at_2, &f.key)),
        vec![1]
    );
    // 3 arrives before 2: buffered as usual; 2 releases nothing beyond the limit.
    assert!(matches!(
        adm.admit(f.env(&f.alice, 3, "c"), &at_2, &f.key),
        Ok(Admitted::Waiting { .. })
    ));
    assert_eq!(
        applied(adm.admit(f.env(&f.alice, 2, "b"), &at_2, &f.key)),
        vec![2]
    );
    // At the next expected number but beyond the limit: waits, never applied.
    assert!(matches!(
        adm.admit(f.env(&f.alice, 4, "d"), &at_2, &f.key),
        Ok(Admitted::Waiting { .. })
    ));
    assert_eq!(adm.next_seq(&alice), 3);
    assert_eq!(adm.pending_count(), 2);
    assert!(adm.release(&alice, &at_2).is_empty());
    // A different envelope for a waiting number is still equivocation.
    assert!(matches!(
        adm.admit(f.env(&f.alice, 3, "other"), &at_2, &f.key),
        Err(EnvelopeError::Equivocation { .. })
    ));
    // The limit rises to 3: only 3 is released.
    let at_3 = Capped { f: &f, cap: 3 };
    let released = adm.release(&alice, &at_3);
    assert_eq!(released.iter().map(|a| a.0.seq()).collect::<Vec<_>>(), [3]);
    assert_eq!(adm.next_seq(&alice), 4);
    assert_eq!(adm.pending_count(), 1);
    // A key that may never write again loses its buffer.
    let never = |_: &PublicKey, _: &OrgId| false;
    assert!(adm.release(&alice, &never).is_empty());
    assert_eq!(adm.pending_count(), 0);
    assert_eq!(adm.pending_bytes(), 0);
}

#[test]
fn tampered_envelope_is_refused_by_admission() {
    let f = Fixture::new();
    let env = f.env(&f.alice, 1, "x");
    let mut bytes = env.to_bytes();
    bytes[65] ^= 1; // inside the sequence number
    let tampered = Envelope::from_bytes(&bytes).expect("still parses");
    let mut adm = Admission::new(NET);
    assert_eq!(
        adm.admit(tampered, &f.authority(), &f.key).err(),
        Some(EnvelopeError::BadSignature)
    );
    assert_eq!(adm.next_seq(&f.alice.public()), 1);
}

#[test]
fn signature_by_another_key_is_refused() {
    let f = Fixture::new();
    let env = f.env(&f.alice, 1, "x");
    // Replace the signature with Bob's signature over the same bytes.
    let mut bytes = env.to_bytes();
    let split = bytes.len() - SIGNATURE_LEN;
    let sig = f.bob.sign(&[ENVELOPE_SIG_DOMAIN, &bytes[..split]].concat());
    bytes[split..].copy_from_slice(sig.as_bytes());
    let forged = Envelope::from_bytes(&bytes).expect("parses");
    let mut adm = Admission::new(NET);
    assert_eq!(
        adm.admit(forged, &f.authority(), &f.key).err(),
        Some(EnvelopeError::BadSignature)
    );
    // And a valid signature over other bytes is no better.
    let mut bytes = env.to_bytes();
    let other = f.env(&f.alice, 2, "x");
    bytes[split..].copy_from_slice(&other.as_bytes()[split..]);
    let forged = Envelope::from_bytes(&bytes).expect("parses");
    assert_eq!(forged.verify_signature(), Err(EnvelopeError::BadSignature));
}

#[test]
fn write_to_another_organisation_is_refused() {
    let f = Fixture::new();
    // Alice signs an envelope claiming Bob's organisation.
    let env = Envelope::seal(
        NET,
        f.org(&f.bob),
        &f.alice,
        1,
        Epoch(1),
        f.key.key(),
        &[change("k", "v")],
    )
    .expect("seals");
    let mut adm = Admission::new(NET);
    let err = adm.admit(env, &f.authority(), &f.key).err();
    assert_eq!(
        err,
        Some(EnvelopeError::NotAuthorized {
            author: f.alice.public(),
            partition: f.org(&f.bob),
        })
    );
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains(&f.alice.public().fingerprint().to_string()));
    assert_eq!(adm.next_seq(&f.alice.public()), 1);
}

#[test]
fn wrong_network_is_refused() {
    let f = Fixture::new();
    let env = Envelope::seal(
        NetworkId::from_bytes([4; 16]),
        f.org(&f.alice),
        &f.alice,
        1,
        Epoch(1),
        f.key.key(),
        &[change("k", "v")],
    )
    .expect("seals");
    let mut adm = Admission::new(NET);
    assert!(matches!(
        adm.admit(env, &f.authority(), &f.key),
        Err(EnvelopeError::WrongNetwork { .. })
    ));
}

#[test]
fn gap_waits_then_drains_in_order() {
    let f = Fixture::new();
    let mut adm = Admission::new(NET);
    let alice = f.alice.public();
    for seq in [3, 4, 2] {
        match adm.admit(f.env(&f.alice, seq, "v"), &f.authority(), &f.key) {
            Ok(Admitted::Waiting {
                author,
                expected_seq,
            }) => {
                assert_eq!((author, expected_seq), (alice, 1));
            }
            other => panic!("expected Waiting, got {other:?}"),
        }
    }
    assert_eq!(adm.pending_count(), 3);
    // Another author is unaffected.
    assert_eq!(
        applied(adm.admit(f.env(&f.bob, 1, "b"), &f.authority(), &f.key)),
        vec![1]
    );
    let out = adm.admit(f.env(&f.alice, 1, "v"), &f.authority(), &f.key);
    let Ok(Admitted::Apply(list)) = out else {
        panic!("expected Apply, got {out:?}");
    };
    assert_eq!(
        list.iter().map(|a| a.0.seq()).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    for a in &list {
        assert_eq!(a.0.open(&f.key).as_ref(), Ok(&a.1.changes));
        assert_eq!(a.1.changes.len(), 1);
    }
    assert_eq!(adm.pending_count(), 0);
    assert_eq!(adm.pending_bytes(), 0);
    assert_eq!(adm.next_seq(&alice), 5);
    assert_eq!(
        adm.version_vector(),
        BTreeMap::from([(alice, 4), (f.bob.public(), 1)])
    );
}

#[test]
fn duplicate_is_a_no_op() {
    let f = Fixture::new();
    let mut adm = Admission::new(NET);
    let one = f.env(&f.alice, 1, "v");
    let three = f.env(&f.alice, 3, "v");
    applied(adm.admit(one.clone(), &f.authority(), &f.key));
    assert!(matches!(
        adm.admit(one, &f.authority(), &f.key),
        Ok(Admitted::Duplicate)
    ));
    assert!(matches!(
        adm.admit(three.clone(), &f.authority(), &f.key),
        Ok(Admitted::Waiting { .. })
    ));
    let bytes = adm.pending_bytes();
    assert!(matches!(
        adm.admit(three, &f.authority(), &f.key),
        Ok(Admitted::Duplicate)
    ));
    assert_eq!(adm.pending_bytes(), bytes);
    assert_eq!(adm.next_seq(&f.alice.public()), 2);
}

#[test]
fn same_sequence_number_with_other_bytes_is_equivocation() {
    let f = Fixture::new();
    let mut adm = Admission::new(NET);
    let alice = f.alice.public();
    let first = f.env(&f.alice, 1, "v");
    applied(adm.admit(first.clone(), &f.authority(), &f.key));
    let second = f.env(&f.alice, 1, "w");
    assert_eq!(
        adm.admit(second, &f.authority(), &f.key).err(),
        Some(EnvelopeError::Equivocation {
            author: alice,
            seq: 1
        })
    );
    assert_eq!(adm.digest_of(&alice, 1), Some(first.digest()));
    // Also while the first one is still buffered.
    assert!(matches!(
        adm.admit(f.env(&f.alice, 3, "v"), &f.authority(), &f.key),
        Ok(Admitted::Waiting { .. })
    ));
    assert_eq!(
        adm.admit(f.env(&f.alice, 3, "w"), &f.authority(), &f.key)
            .err(),
        Some(EnvelopeError::Equivocation {
            author: alice,
            seq: 3
        })
    );
}

#[test]
fn buffer_is_bounded() {
    let f = Fixture::new();
    let mut adm = Admission::new(NET);
    assert!(matches!(
        adm.admit(
            f.env(&f.alice, 2 + MAX_PENDING_AHEAD, "v"),
            &f.authority(),
            &f.key
        ),
        Err(EnvelopeError::TooFarAhead { .. })
    ));
    // Fill one author's byte budget with large envelopes.
    let big = vec![fake_change(1024 * 1024)];
    let mut seq = 2;
    let err = loop {
        let env = Envelope::seal(
            NET,
            f.org(&f.alice),
            &f.alice,
            seq,
            Epoch(1),
            f.key.key(),
            &big,
        )
        .expect("seals");
        match adm.admit(env, &f.authority(), &f.key) {
            Ok(Admitted::Waiting { .. }) => seq += 1,
            other => break other,
        }
        assert!(seq < 100, "buffer never filled");
    };
    assert_eq!(err.err(), Some(EnvelopeError::PendingFull));
    assert!(adm.pending_bytes() <= MAX_PENDING_BYTES_PER_AUTHOR);
}

#[test]
fn revoked_author_buffer_is_dropped_on_drain() {
    let f = Fixture::new();
    let mut adm = Admission::new(NET);
    let allow = f.authority();
    adm.admit(f.env(&f.alice, 2, "v"), &allow, &f.key)
        .expect("buffers");
    adm.admit(f.env(&f.alice, 3, "v"), &allow, &f.key)
        .expect("buffers");
    // Seq 1 is admitted while allowed, but by the time seq 2 drains the author is refused.
    let one_shot = std::cell::Cell::new(true);
    let flip = |_: &PublicKey, _: &OrgId| one_shot.replace(false);
    assert_eq!(
        applied(adm.admit(f.env(&f.alice, 1, "v"), &flip, &f.key)),
        vec![1]
    );
    assert_eq!(adm.pending_count(), 0);
    assert_eq!(adm.pending_bytes(), 0);
    assert_eq!(adm.next_seq(&f.alice.public()), 2);
}

#[test]
fn restore_rebuilds_state_without_keys() {
    let f = Fixture::new();
    let envs: Vec<Envelope> = (1..=3).map(|s| f.env(&f.alice, s, "v")).collect();
    let mut adm = Admission::new(NET);
    for env in &envs {
        adm.restore(env).expect("restores");
    }
    adm.restore(&envs[1]).expect("repeat is a no-op");
    assert_eq!(adm.next_seq(&f.alice.public()), 4);
    assert!(matches!(
        adm.admit(envs[2].clone(), &f.authority(), &f.key),
        Ok(Admitted::Duplicate)
    ));
    assert!(matches!(
        adm.restore(&f.env(&f.alice, 5, "v")),
        Err(EnvelopeError::RestoreGap {
            expected: 4,
            got: 5,
            ..
        })
    ));
}

#[test]
fn fast_forward_skips_covered_envelopes_and_drains_successors() {
    let f = Fixture::new();
    let alice = f.alice.public();
    let mut adm = Admission::new(NET);
    applied(adm.admit(f.env(&f.alice, 1, "v"), &f.authority(), &f.key));
    for seq in [4, 6, 7] {
        assert!(matches!(
            adm.admit(f.env(&f.alice, seq, "v"), &f.authority(), &f.key),
            Ok(Admitted::Waiting { .. })
        ));
    }
    // A snapshot includes Alice's envelopes up to 5: 4 is dropped, 6 and 7 are released.
    let released = adm.fast_forward(&BTreeMap::from([(alice, 5)]), &f.authority());
    assert_eq!(
        released.iter().map(|a| a.0.seq()).collect::<Vec<_>>(),
        vec![6, 7]
    );
    assert_eq!(adm.pending_count(), 0);
    assert_eq!(adm.pending_bytes(), 0);
    assert_eq!(adm.next_seq(&alice), 8);
    assert_eq!(adm.version_vector(), BTreeMap::from([(alice, 7)]));
    assert_eq!(adm.digest_of(&alice, 3), None);
    assert!(adm.digest_of(&alice, 6).is_some());
    // Covered numbers are duplicates and are never applied again.
    assert!(matches!(
        adm.admit(f.env(&f.alice, 3, "w"), &f.authority(), &f.key),
        Ok(Admitted::Duplicate)
    ));
    // A cover behind what is accepted changes nothing.
    assert!(
        adm.fast_forward(&BTreeMap::from([(alice, 2)]), &f.authority())
            .is_empty()
    );
    assert_eq!(adm.next_seq(&alice), 8);
    // A hostile cover at the end of the number space does not overflow.
    adm.fast_forward(
        &BTreeMap::from([(f.bob.public(), u64::MAX)]),
        &f.authority(),
    );
    assert_eq!(adm.next_seq(&f.bob.public()), u64::MAX);
    assert!(matches!(
        adm.admit(f.env(&f.bob, 9, "v"), &f.authority(), &f.key),
        Ok(Admitted::Duplicate)
    ));
}

proptest! {
    #[test]
    fn mutated_envelopes_never_panic_and_never_admit(index in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
        let f = Fixture::new();
        let env = f.env(&f.alice, 1, "v");
        let mut bytes = env.to_bytes();
        let i = index % bytes.len();
        let changed = bytes[i] != byte;
        bytes[i] = byte;
        bytes.truncate(bytes.len() - cut.min(bytes.len()) / 8);
        let mut adm = Admission::new(NET);
        if let Ok(parsed) = Envelope::from_bytes(&bytes) {
            let result = adm.admit(parsed, &f.authority(), &f.key);
            if changed {
                prop_assert!(result.is_err());
            }
        }
    }
}
