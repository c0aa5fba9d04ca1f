//! Tests of the membership log: resolution in any arrival order, roles, revocations and their
//! cuts, relays, epoch-key rotation, and the bounds on what a peer may make a node hold.

use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

use super::*;
use crate::crypto::seal::SymmetricKey;
use crate::envelope::admission::Authority as _;
use crate::membership::epoch_key_commitment;
use crate::membership::fixture::{Dev, NET, accept, genesis};
use crate::membership::{
    Cut, DeviceKeys, EPOCH_KEY_BOX_LEN, InvalidReason, MAX_DEVICES_PER_ORG, MAX_OP_LEN, MAX_SEALED,
    RelayEntry, Role, SealedKey, Verdict, WriteLimit,
};

fn key(epoch: u32, byte: u8) -> EpochKey {
    EpochKey::new(Epoch(epoch), SymmetricKey::from_bytes(&[byte; 32]))
}

fn invalid(log: &MembershipLog, op: &Op) -> Option<InvalidReason> {
    match log.state().verdict(&op.id()) {
        Some(Verdict::Invalid(reason)) => Some(reason),
        _ => None,
    }
}

/// The member devices of `log`'s state, to seal a rotation to.
fn members(log: &MembershipLog) -> Vec<DeviceKeys> {
    log.state()
        .devices()
        .into_iter()
        .map(|d| DeviceKeys {
            device: d.key,
            agreement: d.agreement,
        })
        .collect()
}

#[test]
fn a_network_is_built_and_resolved() {
    let (a, b, b2, c, d) = (
        Dev::new(1),
        Dev::new(2),
        Dev::new(3),
        Dev::new(4),
        Dev::new(5),
    );
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    assert_eq!(log.heads(), vec![g.id()]);
    let k1 = key(1, 1);
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[a.keys()], 2).expect("op"),
        &mut log,
    );
    accept(
        &Op::add_org(
            NET,
            &a.key,
            &log.heads(),
            "Casa Azul",
            Role::Member,
            b.keys(),
            3,
        )
        .expect("op"),
        &mut log,
    );
    let add_c = Op::add_org(
        NET,
        &a.key,
        &log.heads(),
        "Refugio C",
        Role::Admin,
        c.keys(),
        4,
    )
    .expect("op");
    accept(&add_c, &mut log);
    // B adds its own second device; A promotes B; C (an admin) rotates to epoch 2.
    accept(
        &Op::add_device(NET, &b.key, &log.heads(), b.org(), b2.keys(), 5).expect("op"),
        &mut log,
    );
    accept(
        &Op::set_role(NET, &a.key, &log.heads(), b.org(), Role::Admin, 6).expect("op"),
        &mut log,
    );
    let k2 = key(2, 2);
    let rotation = Op::epoch_key(NET, &c.key, &log.heads(), &k2, &members(&log), 7).expect("op");
    accept(&rotation, &mut log);
    assert_eq!(log.len(), 7);
    assert!(log.state().verdicts().values().all(Verdict::is_valid));

    let state = log.state();
    let orgs: Vec<(String, Role, usize)> = state
        .orgs()
        .into_iter()
        .map(|o| (o.name, o.role, o.devices.len()))
        .collect();
    let mut expected = vec![
        ("Founders".to_owned(), Role::Admin, 1),
        ("Casa Azul".to_owned(), Role::Admin, 2),
        ("Refugio C".to_owned(), Role::Admin, 1),
    ];
    expected.sort_by_key(|(name, ..)| {
        [a.org(), b.org(), c.org()][["Founders", "Casa Azul", "Refugio C"]
            .iter()
            .position(|n| n == name)
            .expect("known")]
    });
    assert_eq!(orgs, expected);
    assert_eq!(state.org(&c.org()).map(|o| o.added_by), Some(add_c.id()));
    assert_eq!(
        state
            .device(&b2.public())
            .map(|dev| (dev.org, dev.agreement)),
        Some((b.org(), b2.agreement.public()))
    );
    assert_eq!(state.devices().len(), 4);
    let current = state.current_epoch().expect("an epoch");
    assert_eq!((current.epoch, current.rotation), (Epoch(2), rotation.id()));
    assert_eq!(current.recipients.len(), 4);
    assert_eq!(state.epochs().len(), 2);
    assert!(state.devices_without_current_key().is_empty());
    assert!(state.is_admin_device(&b2.public()));
    // Only an organisation's own devices write its partition.
    assert!(state.may_write(&b2.public(), &b.org()));
    assert!(!state.may_write(&b2.public(), &a.org()));
    assert!(!state.may_write(&d.public(), &d.org()));
    // Each device opens the keys sealed to it.
    let ring = log.epoch_keys(&a.public(), &a.agreement);
    assert_eq!(ring.epochs().collect::<Vec<_>>(), vec![Epoch(1), Epoch(2)]);
    let ring = log.epoch_keys(&b2.public(), &b2.agreement);
    assert_eq!(ring.epochs().collect::<Vec<_>>(), vec![Epoch(2)]);
    assert!(log.epoch_keys(&d.public(), &d.agreement).latest().is_none());

    // A device added after the rotation still needs the key; a share gives it.
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "Dora", Role::Member, d.keys(), 8).expect("op"),
        &mut log,
    );
    assert_eq!(log.state().devices_without_current_key(), vec![d.public()]);
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &k2, &[d.keys()], 9).expect("op"),
        &mut log,
    );
    assert!(log.state().devices_without_current_key().is_empty());
    assert!(log.state().verdicts().values().all(Verdict::is_valid));
    let ring = log.epoch_keys(&d.public(), &d.agreement);
    assert_eq!(
        ring.latest().map(|k| k.key().as_bytes().to_owned()),
        Some(*k2.key().as_bytes())
    );
    // Sharing the old epoch 1 key with D works too, so D can read older envelopes.
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[d.keys()], 10).expect("op"),
        &mut log,
    );
    assert_eq!(
        log.epoch_keys(&d.public(), &d.agreement).epochs().count(),
        2
    );
    assert_eq!(log.state().current_epoch().map(|e| e.epoch), Some(Epoch(2)));
}

#[test]
fn a_member_cannot_add_orgs_change_roles_or_distribute_keys() {
    let (a, b, c, outsider) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2).expect("op"),
        &mut log,
    );
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &key(1, 1), &members(&log), 3).expect("op"),
        &mut log,
    );
    let before = log.state().clone();
    let attempts = [
        (
            Op::add_org(NET, &b.key, &log.heads(), "C", Role::Admin, c.keys(), 4),
            InvalidReason::NotAdmin,
        ),
        (
            Op::set_role(NET, &b.key, &log.heads(), b.org(), Role::Admin, 5),
            InvalidReason::NotAdmin,
        ),
        (
            Op::set_role(NET, &b.key, &log.heads(), a.org(), Role::Member, 5),
            InvalidReason::NotAdmin,
        ),
        (
            Op::epoch_key(NET, &b.key, &log.heads(), &key(2, 2), &members(&log), 6),
            InvalidReason::NotAdmin,
        ),
        (
            Op::epoch_key(NET, &b.key, &log.heads(), &key(1, 1), &[b.keys()], 6),
            InvalidReason::NotAdmin,
        ),
        (
            Op::add_device(NET, &b.key, &log.heads(), a.org(), c.keys(), 7),
            InvalidReason::NotOrgOrAdmin,
        ),
        (
            Op::add_device(
                NET,
                &outsider.key,
                &log.heads(),
                outsider.org(),
                c.keys(),
                8,
            ),
            InvalidReason::NotAMember,
        ),
        (
            Op::add_device(NET, &b.key, &log.heads(), b.org(), a.keys(), 9),
            InvalidReason::DeviceExists,
        ),
        (
            Op::add_org(
                NET,
                &a.key,
                &log.heads(),
                "B again",
                Role::Admin,
                b.keys(),
                10,
            ),
            InvalidReason::OrgExists,
        ),
        (
            Op::set_role(NET, &a.key, &log.heads(), c.org(), Role::Admin, 11),
            InvalidReason::UnknownOrg,
        ),
        (
            Op::add_device(NET, &a.key, &log.heads(), c.org(), c.keys(), 12),
            InvalidReason::UnknownOrg,
        ),
    ];
    for (op, reason) in attempts {
        let op = op.expect("builds");
        // Each attempt is accepted (peers hold it too) and judged invalid.
        let inserted = log.insert(op.as_bytes()).expect("accepted");
        assert_eq!(inserted.accepted, vec![op.id()]);
        assert_eq!(invalid(&log, &op), Some(reason), "{op:?}");
    }
    let after = log.state();
    assert_eq!(after.orgs(), before.orgs());
    assert_eq!(after.devices(), before.devices());
    assert_eq!(after.epochs(), before.epochs());
    assert_eq!(after.role(&b.org()), Some(Role::Member));
    // An op that builds on invalid ops is judged on its own: still valid for an admin.
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "C", Role::Member, c.keys(), 13).expect("op"),
        &mut log,
    );
    assert!(log.state().org(&c.org()).is_some());
}

#[test]
fn an_op_whose_author_was_added_only_concurrently_is_invalid() {
    let (a, b, b2, b3) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
    let g = genesis(&a);
    let add_b = Op::add_org(NET, &a.key, &[g.id()], "B", Role::Admin, b.keys(), 2).expect("op");
    // B acts on a state in which it was not added yet (it only saw the genesis).
    let early = Op::add_device(NET, &b.key, &[g.id()], b.org(), b2.keys(), 3).expect("op");
    let later = Op::add_device(
        NET,
        &b.key,
        &[add_b.id(), early.id()],
        b.org(),
        b3.keys(),
        4,
    )
    .expect("op");
    for order in [
        [&add_b, &early, &later],
        [&early, &add_b, &later],
        [&later, &early, &add_b],
    ] {
        let mut log = MembershipLog::new(g.as_bytes()).expect("log");
        for op in order {
            log.insert(op.as_bytes()).expect("inserts");
        }
        assert_eq!(log.len(), 4);
        assert_eq!(invalid(&log, &early), Some(InvalidReason::NotAMember));
        assert_eq!(log.state().verdict(&later.id()), Some(Verdict::Valid));
        assert!(!log.state().is_member_device(&b2.public()));
        assert!(log.state().is_member_device(&b3.public()));
    }
}

#[test]
fn concurrent_changes_resolve_the_same_documented_way() {
    let (a, b, c, d, d_again) = (
        Dev::new(1),
        Dev::new(2),
        Dev::new(3),
        Dev::new(4),
        Dev::new(5),
    );
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2).expect("op"),
        &mut log,
    );
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "C", Role::Admin, c.keys(), 3).expect("op"),
        &mut log,
    );
    let base = log.heads();
    // Concurrently: A promotes B while C demotes it; both add D under other names; both
    // rotate to epoch 1; C gives D's founding key a second agreement key as B's device.
    let promote = Op::set_role(NET, &a.key, &base, b.org(), Role::Admin, 4).expect("op");
    let demote = Op::set_role(NET, &c.key, &base, b.org(), Role::Member, 4).expect("op");
    let d_by_a = Op::add_org(NET, &a.key, &base, "Dora", Role::Admin, d.keys(), 5).expect("op");
    let d_by_c = Op::add_org(NET, &c.key, &base, "Dorotea", Role::Member, d.keys(), 5).expect("op");
    let rot_a = Op::epoch_key(NET, &a.key, &base, &key(1, 0xa), &members(&log), 6).expect("op");
    let rot_c = Op::epoch_key(NET, &c.key, &base, &key(1, 0xc), &members(&log), 6).expect("op");
    let dev_in_b = Op::add_device(
        NET,
        &c.key,
        &base,
        b.org(),
        DeviceKeys {
            device: d.public(),
            agreement: d_again.agreement.public(),
        },
        7,
    )
    .expect("op");
    let concurrent = [
        &promote, &demote, &d_by_a, &d_by_c, &rot_a, &rot_c, &dev_in_b,
    ];
    for op in concurrent {
        log.insert(op.as_bytes()).expect("inserts");
    }
    let state = log.state();
    assert!(state.verdicts().values().all(Verdict::is_valid));
    // The lower role wins among concurrent role writes.
    assert_eq!(state.role(&b.org()), Some(Role::Member));
    // D: both adds are valid; the name comes from the add with the lower op id, the role
    // is the lower one.
    let first = if d_by_a.id() < d_by_c.id() {
        "Dora"
    } else {
        "Dorotea"
    };
    assert_eq!(
        state.org(&d.org()).map(|o| (o.name, o.role)),
        Some((first.to_owned(), Role::Member))
    );
    // D's key was claimed by two organisations: the lowest op id decides which.
    let owner = [
        (d_by_a.id(), d.org()),
        (d_by_c.id(), d.org()),
        (dev_in_b.id(), b.org()),
    ]
    .into_iter()
    .min()
    .map(|(_, org)| org);
    assert_eq!(state.device(&d.public()).map(|dev| dev.org), owner);
    // Both epoch 1 keys exist; the one from the lower op id is current.
    let epochs = state.epochs();
    assert_eq!(epochs.len(), 2);
    assert_eq!(
        state.current_epoch().map(|e| e.rotation),
        Some(rot_a.id().min(rot_c.id()))
    );
    let winner = if rot_a.id() < rot_c.id() { 0xa } else { 0xc };
    let ring = log.epoch_keys(&b.public(), &b.agreement);
    assert_eq!(ring.latest().map(|k| k.key().as_bytes()[0]), Some(winner));
    // A later role write that saw both replaces them.
    accept(
        &Op::set_role(NET, &a.key, &log.heads(), b.org(), Role::Admin, 8).expect("op"),
        &mut log,
    );
    assert_eq!(log.state().role(&b.org()), Some(Role::Admin));
    // A rotation after the merge must now reach D too.
    let stale = Op::epoch_key(
        NET,
        &a.key,
        &log.heads(),
        &key(2, 2),
        &[a.keys(), b.keys(), c.keys()],
        9,
    )
    .expect("op");
    log.insert(stale.as_bytes()).expect("inserts");
    assert_eq!(invalid(&log, &stale), Some(InvalidReason::MissingRecipient));
}

#[test]
fn a_merge_sees_role_changes_from_every_branch() {
    // X is added as a member; one branch promotes it, another is unrelated. X's op on top
    // of both branches is judged in the join of their states: X is an admin there.
    let (a, x, z, dev, other) = (
        Dev::new(1),
        Dev::new(2),
        Dev::new(3),
        Dev::new(4),
        Dev::new(5),
    );
    let g = genesis(&a);
    let add_x = Op::add_org(NET, &a.key, &[g.id()], "X", Role::Member, x.keys(), 2).expect("op");
    let promote = Op::set_role(NET, &a.key, &[add_x.id()], x.org(), Role::Admin, 3).expect("op");
    let unrelated = Op::add_device(NET, &a.key, &[add_x.id()], a.org(), dev.keys(), 3).expect("op");
    let concurrent =
        Op::add_device(NET, &a.key, &[add_x.id()], a.org(), other.keys(), 3).expect("op");
    let merge = Op::add_org(
        NET,
        &x.key,
        &[promote.id(), unrelated.id()],
        "Z",
        Role::Member,
        z.keys(),
        4,
    )
    .expect("op");
    let orders = [
        [&add_x, &promote, &unrelated, &concurrent, &merge],
        [&add_x, &unrelated, &promote, &concurrent, &merge],
        [&add_x, &concurrent, &merge, &unrelated, &promote],
    ];
    for order in orders {
        let mut log = MembershipLog::new(g.as_bytes()).expect("log");
        for op in order {
            log.insert(op.as_bytes()).expect("inserts");
        }
        assert_eq!(log.state().verdict(&merge.id()), Some(Verdict::Valid));
        assert!(log.state().org(&z.org()).is_some());
    }
}

#[test]
fn an_organisation_has_a_bounded_number_of_devices() {
    let a = Dev::new(1);
    let g = genesis(&a);
    let mut log = unverified_log(&g);
    // The founding device plus 31 more reach the bound; the next add has no effect.
    let devs: Vec<Dev> = (100..100 + MAX_DEVICES_PER_ORG as u8)
        .map(Dev::new)
        .collect();
    for (i, dev) in devs.iter().enumerate() {
        let op = Op::add_device(NET, &a.key, &log.heads(), a.org(), dev.keys(), 2).expect("op");
        log.insert_verified(VerifiedOp::assume(op.clone()))
            .expect("inserts");
        let expected = if i + 1 < MAX_DEVICES_PER_ORG {
            Verdict::Valid
        } else {
            Verdict::Invalid(InvalidReason::TooManyDevices)
        };
        assert_eq!(log.state().verdict(&op.id()), Some(expected), "device {i}");
    }
    assert_eq!(log.state().devices().len(), MAX_DEVICES_PER_ORG);
    let last = devs.last().expect("devices");
    assert!(!log.state().is_member_device(&last.public()));
}

#[test]
fn rotations_reach_exactly_the_members_and_shares_only_members() {
    let (a, b, outsider) = (Dev::new(1), Dev::new(2), Dev::new(3));
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2).expect("op"),
        &mut log,
    );
    let k1 = key(1, 1);
    let cases = [
        (
            Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[a.keys()], 3),
            InvalidReason::MissingRecipient,
        ),
        (
            Op::epoch_key(
                NET,
                &a.key,
                &log.heads(),
                &k1,
                &[a.keys(), b.keys(), outsider.keys()],
                3,
            ),
            InvalidReason::RecipientNotAMember,
        ),
    ];
    for (op, reason) in cases {
        let op = op.expect("builds");
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(invalid(&log, &op), Some(reason));
    }
    assert!(log.state().current_epoch().is_none());
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[a.keys(), b.keys()], 4).expect("op"),
        &mut log,
    );
    let shares = [
        (
            Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[outsider.keys()], 5),
            Some(InvalidReason::RecipientNotAMember),
        ),
        (
            Op::epoch_key(NET, &a.key, &log.heads(), &key(1, 9), &[b.keys()], 5),
            Some(InvalidReason::UnknownEpochKey),
        ),
        (
            Op::epoch_key(NET, &a.key, &log.heads(), &key(0, 9), &[b.keys()], 5),
            Some(InvalidReason::UnknownEpochKey),
        ),
        (
            Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[b.keys()], 5),
            None,
        ),
    ];
    for (op, reason) in shares {
        let op = op.expect("builds");
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(invalid(&log, &op), reason);
    }
    assert!(
        log.epoch_keys(&outsider.public(), &outsider.agreement)
            .latest()
            .is_none()
    );
}

/// The cuts `log`'s state gives a revocation of `target`: every device it removes, each
/// with sequence number `seq`.
fn cuts_for(log: &MembershipLog, target: RevokeTarget, seq: u64) -> Vec<Cut> {
    let devices = match target {
        RevokeTarget::Org(org) => log
            .state()
            .org(&org)
            .map(|org| org.devices)
            .unwrap_or_default(),
        RevokeTarget::Device(device) => vec![device],
    };
    devices
        .into_iter()
        .map(|device| Cut { device, seq })
        .collect()
}

/// A revocation of `target` by `author` on `parents`, with the cuts `log` knows.
fn revoke(
    log: &MembershipLog,
    author: &Dev,
    parents: &[OpId],
    target: RevokeTarget,
    seq: u64,
) -> Op {
    let cuts = cuts_for(log, target, seq);
    Op::revoke(NET, &author.key, parents, target, &cuts, "test", 20).expect("op")
}

/// A log holding `ops`, inserted in this order (parents may come after children).
fn log_of<'a>(g: &Op, ops: impl IntoIterator<Item = &'a Op>) -> MembershipLog {
    let mut log = unverified_log(g);
    for op in ops {
        log.insert_verified(VerifiedOp::assume(op.clone()))
            .expect("inserts");
    }
    assert_eq!(log.pending_count(), 0);
    log
}

/// Inserts `ops` in this order and checks after each that the keyring opened with the memo
/// (kept across the inserts, so filled before later ops change verdicts and winners) is the
/// one opened from scratch, for each of `devs`.
fn memo_matches_from_scratch<'a>(g: &Op, ops: impl IntoIterator<Item = &'a Op>, devs: &[&Dev]) {
    let flat = |ring: EpochKeyring| -> Vec<(Epoch, Vec<u8>)> {
        ring.all()
            .map(|k| (k.epoch(), k.key().as_bytes().to_vec()))
            .collect()
    };
    let mut logs: Vec<MembershipLog> = devs.iter().map(|_| unverified_log(g)).collect();
    for op in ops {
        for (log, dev) in logs.iter_mut().zip(devs) {
            log.insert_verified(VerifiedOp::assume(op.clone()))
                .expect("inserts");
            let memo = log.epoch_keys_memo(&dev.public(), &dev.agreement);
            let scratch = log.epoch_keys(&dev.public(), &dev.agreement);
            assert_eq!(flat(memo), flat(scratch));
        }
    }
}

/// Builds logs from `ops` in several arrival orders, checks that they all resolve to the
/// same state and that it is the one the rule defines; returns one of them.
fn resolve_in_any_order(g: &Op, ops: &[&Op]) -> MembershipLog {
    let first = log_of(g, ops.iter().copied());
    let expected = reference(&first);
    assert_eq!(first.state().verdicts(), &expected.verdicts);
    assert_eq!(first.state().view(), &expected.all);
    let mut orders: Vec<Vec<&Op>> = vec![ops.iter().rev().copied().collect()];
    for seed in 1..6 {
        let mut order = ops.to_vec();
        shuffle(&mut order, seed);
        orders.push(order);
    }
    for order in orders {
        let log = log_of(g, order);
        assert_eq!(log.state(), first.state());
        assert_eq!(log.heads(), first.heads());
    }
    first
}

#[test]
fn organisations_and_devices_are_revoked_by_those_allowed_to() {
    let (a, b, b2, c, nobody) = (
        Dev::new(1),
        Dev::new(2),
        Dev::new(3),
        Dev::new(4),
        Dev::new(5),
    );
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    for op in [
        Op::add_org(NET, &a.key, &[g.id()], "B", Role::Member, b.keys(), 2),
        Op::add_org(NET, &a.key, &[g.id()], "C", Role::Member, c.keys(), 2),
    ] {
        log.insert(op.expect("op").as_bytes()).expect("inserts");
    }
    accept(
        &Op::add_device(NET, &b.key, &log.heads(), b.org(), b2.keys(), 3).expect("op"),
        &mut log,
    );
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &key(1, 1), &members(&log), 4).expect("op"),
        &mut log,
    );
    assert_eq!(log.state().admins(), vec![a.org()]);
    assert!(!log.state().needs_rotation());
    let heads = log.heads();
    let cut = |dev: &Dev, seq| Cut {
        device: dev.public(),
        seq,
    };
    let attempts = [
        // A member organisation cannot revoke another organisation or its devices.
        (
            revoke(&log, &c, &heads, RevokeTarget::Org(b.org()), 1),
            InvalidReason::NotAdmin,
        ),
        (
            revoke(&log, &c, &heads, RevokeTarget::Device(b.public()), 1),
            InvalidReason::NotOrgOrAdmin,
        ),
        (
            revoke(&log, &a, &heads, RevokeTarget::Org(nobody.org()), 1),
            InvalidReason::UnknownOrg,
        ),
        (
            revoke(&log, &a, &heads, RevokeTarget::Device(nobody.public()), 1),
            InvalidReason::UnknownDevice,
        ),
        (
            revoke(&log, &nobody, &heads, RevokeTarget::Device(c.public()), 1),
            InvalidReason::NotAMember,
        ),
        // The cuts name exactly the member devices of the organisation.
        (
            Op::revoke(
                NET,
                &a.key,
                &heads,
                RevokeTarget::Org(b.org()),
                &[cut(&b, 1)],
                "",
                5,
            )
            .expect("op"),
            InvalidReason::CutsMismatch,
        ),
        (
            Op::revoke(
                NET,
                &a.key,
                &heads,
                RevokeTarget::Org(b.org()),
                &[cut(&b, 1), cut(&b2, 1), cut(&c, 1)],
                "",
                5,
            )
            .expect("op"),
            InvalidReason::CutsMismatch,
        ),
    ];
    for (op, reason) in attempts {
        log.insert(op.as_bytes()).expect("accepted");
        assert_eq!(invalid(&log, &op), Some(reason), "{op:?}");
    }
    assert_eq!(log.state().devices().len(), 4);
    assert!(log.state().revocations().iter().all(|r| !r.effective));

    // B's own device revokes its sibling, the lost laptop: B and its other device stay.
    let lost = revoke(&log, &b, &log.heads(), RevokeTarget::Device(b2.public()), 7);
    accept(&lost, &mut log);
    let state = log.state();
    assert!(!state.is_member_device(&b2.public()));
    assert!(state.is_revoked_device(&b2.public()));
    assert_eq!(state.device(&b2.public()), None);
    assert_eq!(
        state
            .revoked_devices()
            .iter()
            .map(|d| d.key)
            .collect::<Vec<_>>(),
        vec![b2.public()]
    );
    assert_eq!(
        state.org(&b.org()).map(|o| o.devices),
        Some(vec![b.public()])
    );
    assert!(!state.is_revoked_org(&b.org()));
    assert_eq!(
        state.write_limit(&b2.public(), &b.org()),
        WriteLimit::Revoked { cut: 7 }
    );
    assert_eq!(state.write_limit(&b.public(), &b.org()), WriteLimit::Member);
    assert_eq!(
        state.write_limit(&b2.public(), &a.org()),
        WriteLimit::NotMember
    );
    assert_eq!(
        state.write_limit(&nobody.public(), &nobody.org()),
        WriteLimit::NotMember
    );
    assert!(!state.may_write(&b2.public(), &b.org()));
    assert!(state.may_write(&b.public(), &b.org()));
    // The epoch 1 key reached B's lost laptop: a new rotation is needed.
    assert_eq!(state.current_key_exposed_to(), vec![b2.public()]);
    assert!(state.needs_rotation());
    assert!(state.devices_without_current_key().is_empty());
    let info = state.revocation(&lost.id()).expect("listed");
    assert_eq!(
        (
            info.author,
            info.target,
            info.reason.as_str(),
            info.effective
        ),
        (b.public(), RevokeTarget::Device(b2.public()), "test", true)
    );

    // An admin revokes C: C and its device are gone, kept for audit.
    let revoke_c = revoke(&log, &a, &log.heads(), RevokeTarget::Org(c.org()), 3);
    assert!(
        !log.state()
            .would_leave_without_admin(&RevokeTarget::Org(c.org()))
    );
    assert!(
        log.state()
            .would_leave_without_admin(&RevokeTarget::Org(a.org()))
    );
    assert!(
        log.state()
            .would_leave_without_admin(&RevokeTarget::Device(a.public()))
    );
    accept(&revoke_c, &mut log);
    let state = log.state();
    assert_eq!(state.org(&c.org()), None);
    assert_eq!(state.role(&c.org()), None);
    assert!(state.is_revoked_org(&c.org()));
    assert_eq!(
        state
            .revoked_orgs()
            .into_iter()
            .map(|o| (o.id, o.role, o.devices))
            .collect::<Vec<_>>(),
        vec![(c.org(), Role::Member, vec![c.public()])]
    );
    assert_eq!(
        state.orgs().iter().map(|o| o.id).collect::<BTreeSet<_>>(),
        BTreeSet::from([a.org(), b.org()])
    );
    assert!(state.is_revoked_device(&c.public()));
    assert_eq!(
        state.write_limit(&c.public(), &c.org()),
        WriteLimit::Revoked { cut: 3 }
    );
    assert_eq!(state.devices().len(), 2);
    let effective: Vec<OpId> = state
        .revocations()
        .into_iter()
        .filter(|r| r.effective)
        .map(|r| r.id)
        .collect();
    let mut expected = vec![lost.id(), revoke_c.id()];
    expected.sort();
    assert_eq!(effective, expected);
    assert_eq!(state.revocations().len(), 9);

    // Neither can be revoked a second time, nor can B's lost laptop be revoked with it.
    for op in [
        revoke(&log, &a, &log.heads(), RevokeTarget::Org(c.org()), 9),
        Op::revoke(
            NET,
            &a.key,
            &log.heads(),
            RevokeTarget::Device(c.public()),
            &[cut(&c, 9)],
            "",
            9,
        )
        .expect("op"),
        Op::revoke(
            NET,
            &b.key,
            &log.heads(),
            RevokeTarget::Device(b2.public()),
            &[cut(&b2, 9)],
            "",
            9,
        )
        .expect("op"),
    ] {
        log.insert(op.as_bytes()).expect("accepted");
        assert_eq!(invalid(&log, &op), Some(InvalidReason::Revoked));
    }
    // An organisation revocation cuts only the devices still members.
    let revoke_b = revoke(&log, &a, &log.heads(), RevokeTarget::Org(b.org()), 4);
    let Body::Revoke { cuts, .. } = revoke_b.body() else {
        panic!("a revoke op");
    };
    assert_eq!(cuts, &[cut(&b, 4)]);
    accept(&revoke_b, &mut log);
    assert_eq!(log.state().device_cut(&b2.public()).map(|c| c.cut), Some(7));
    assert_eq!(log.state().devices().len(), 1);
}

#[test]
fn replayed_or_re_signed_grants_after_a_revocation_change_nothing() {
    let (a, b, b2, fresh) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    let add_b = Op::add_org(NET, &a.key, &log.heads(), "B", Role::Admin, b.keys(), 2).expect("op");
    accept(&add_b, &mut log);
    let k1 = key(1, 1);
    let rotation = Op::epoch_key(NET, &a.key, &log.heads(), &k1, &members(&log), 3).expect("op");
    accept(&rotation, &mut log);
    let add_b2 = Op::add_device(NET, &b.key, &log.heads(), b.org(), b2.keys(), 4).expect("op");
    accept(&add_b2, &mut log);
    let share = Op::epoch_key(NET, &a.key, &log.heads(), &k1, &[b2.keys()], 5).expect("op");
    accept(&share, &mut log);
    let promote = Op::set_role(NET, &a.key, &log.heads(), b.org(), Role::Admin, 6).expect("op");
    accept(&promote, &mut log);
    let before_revocation = log.heads();
    accept(
        &revoke(&log, &a, &log.heads(), RevokeTarget::Org(b.org()), 1),
        &mut log,
    );
    let revoked = log.state().clone();

    // The same bytes again are duplicates.
    for op in [&add_b, &add_b2, &rotation, &share, &promote] {
        assert!(log.insert(op.as_bytes()).expect("inserts").duplicate);
    }
    assert_eq!(log.state(), &revoked);

    // The same grants signed anew after the revocation are invalid.
    let heads = log.heads();
    let again = [
        Op::add_org(NET, &a.key, &heads, "B", Role::Admin, b.keys(), 7),
        Op::add_org(NET, &a.key, &heads, "B2", Role::Member, b2.keys(), 7),
        Op::add_device(NET, &a.key, &heads, a.org(), b2.keys(), 7),
        Op::add_device(NET, &a.key, &heads, b.org(), fresh.keys(), 7),
        Op::set_role(NET, &a.key, &heads, b.org(), Role::Admin, 7),
    ];
    for op in again {
        let op = op.expect("op");
        log.insert(op.as_bytes()).expect("accepted");
        assert_eq!(invalid(&log, &op), Some(InvalidReason::Revoked), "{op:?}");
    }
    let reshare = Op::epoch_key(NET, &a.key, &heads, &k1, &[b2.keys()], 7).expect("op");
    log.insert(reshare.as_bytes()).expect("accepted");
    assert_eq!(
        invalid(&log, &reshare),
        Some(InvalidReason::RecipientNotAMember)
    );
    // Re-signed by the admin on the old parents, concurrent with the revocation: valid in
    // its causal past, but the organisation's tombstone covers whatever it adds.
    let backdated =
        Op::add_device(NET, &a.key, &before_revocation, b.org(), fresh.keys(), 8).expect("op");
    log.insert(backdated.as_bytes()).expect("accepted");
    assert_eq!(log.state().verdict(&backdated.id()), Some(Verdict::Valid));
    assert!(!log.state().is_member_device(&fresh.public()));
    assert_eq!(
        log.state().write_limit(&fresh.public(), &b.org()),
        WriteLimit::Revoked { cut: 0 }
    );
    assert_eq!(log.state().orgs(), revoked.orgs());
    assert_eq!(log.state().devices(), revoked.devices());
    assert_eq!(
        log.epoch_keys(&b.public(), &b.agreement).epochs().count(),
        1
    );

    // Coming back takes a new key, hence a new organisation id.
    let new_b = Dev::new(9);
    accept(
        &Op::add_org(
            NET,
            &a.key,
            &log.heads(),
            "B",
            Role::Member,
            new_b.keys(),
            9,
        )
        .expect("op"),
        &mut log,
    );
    assert!(log.state().is_member_device(&new_b.public()));
    assert_ne!(new_b.org(), b.org());
    assert!(log.state().is_revoked_org(&b.org()));
}

#[test]
fn admins_revoking_each_other_across_a_partition_both_lose_membership() {
    let (a, a2, b, c, c2) = (
        Dev::new(1),
        Dev::new(2),
        Dev::new(3),
        Dev::new(4),
        Dev::new(5),
    );
    let g = genesis(&a);
    let mut base = unverified_log(&g);
    let add_b =
        Op::add_org(NET, &a.key, &base.heads(), "B", Role::Member, b.keys(), 2).expect("op");
    accept(&add_b, &mut base);
    let add_c = Op::add_org(NET, &a.key, &base.heads(), "C", Role::Admin, c.keys(), 3).expect("op");
    accept(&add_c, &mut base);
    // The partition: A revokes C and then adds a device; C revokes A and then adds one.
    let heads = base.heads();
    let a_revokes_c = revoke(&base, &a, &heads, RevokeTarget::Org(c.org()), 1);
    let c_revokes_a = revoke(&base, &c, &heads, RevokeTarget::Org(a.org()), 2);
    let a_adds =
        Op::add_device(NET, &a.key, &[a_revokes_c.id()], a.org(), a2.keys(), 4).expect("op");
    let c_adds =
        Op::add_device(NET, &c.key, &[c_revokes_a.id()], c.org(), c2.keys(), 4).expect("op");
    // B saw both sides and writes a receipt for each.
    let b_receipt = Op::receipt(
        NET,
        &b.key,
        &[a_adds.id(), c_adds.id()],
        a_revokes_c.id(),
        Epoch(0),
        5,
    )
    .expect("op");
    let log = resolve_in_any_order(
        &g,
        &[
            &add_b,
            &add_c,
            &a_revokes_c,
            &c_revokes_a,
            &a_adds,
            &c_adds,
            &b_receipt,
        ],
    );
    let state = log.state();
    for revocation in [&a_revokes_c, &c_revokes_a] {
        assert_eq!(state.verdict(&revocation.id()), Some(Verdict::Valid));
    }
    for concurrent in [&a_adds, &c_adds] {
        assert_eq!(
            invalid(&log, concurrent),
            Some(InvalidReason::RevokedConcurrently)
        );
    }
    assert_eq!(state.verdict(&b_receipt.id()), Some(Verdict::Valid));
    assert!(state.is_revoked_org(&a.org()) && state.is_revoked_org(&c.org()));
    assert_eq!(
        state.orgs().iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![b.org()]
    );
    assert!(state.admins().is_empty());
    assert!(state.admin_devices().is_empty());
    for key in [a.public(), a2.public(), c.public(), c2.public()] {
        assert!(!state.is_member_device(&key));
    }
    assert_eq!(
        state.receipts(&a_revokes_c.id()),
        BTreeMap::from([(b.public(), Epoch(0))])
    );
}

#[test]
fn an_admin_revoked_concurrently_loses_its_ops_and_what_builds_on_them() {
    let (a, x, x2, b, d, d2) = (
        Dev::new(1),
        Dev::new(2),
        Dev::new(3),
        Dev::new(4),
        Dev::new(5),
        Dev::new(6),
    );
    let g = genesis(&a);
    let mut base = unverified_log(&g);
    let add_x = Op::add_org(NET, &a.key, &base.heads(), "X", Role::Admin, x.keys(), 2).expect("op");
    accept(&add_x, &mut base);
    let add_b =
        Op::add_org(NET, &a.key, &base.heads(), "B", Role::Member, b.keys(), 3).expect("op");
    accept(&add_b, &mut base);
    // X's op that A has seen when revoking X stays.
    let x_seen = Op::add_device(NET, &x.key, &base.heads(), x.org(), x2.keys(), 4).expect("op");
    accept(&x_seen, &mut base);
    let heads = base.heads();
    let revoke_x = revoke(&base, &a, &heads, RevokeTarget::Org(x.org()), 1);
    // Concurrently, X adds D as an admin and rotates the key; D adds a device and revokes
    // B; A, having seen X's addition of D (but not yet its own revocation of X, on
    // another device of A's in a real network), names D an admin again.
    let add_d = Op::add_org(NET, &x.key, &heads, "D", Role::Admin, d.keys(), 5).expect("op");
    let mut with_d = base.state().devices();
    with_d.push(crate::membership::Device {
        key: d.public(),
        org: d.org(),
        agreement: d.agreement.public(),
        added_by: add_d.id(),
    });
    let recipients: Vec<DeviceKeys> = with_d
        .iter()
        .map(|dev| DeviceKeys {
            device: dev.key,
            agreement: dev.agreement,
        })
        .collect();
    let x_rotates =
        Op::epoch_key(NET, &x.key, &[add_d.id()], &key(5, 5), &recipients, 6).expect("op");
    let d_adds = Op::add_device(NET, &d.key, &[x_rotates.id()], d.org(), d2.keys(), 7).expect("op");
    let d_revokes_b = Op::revoke(
        NET,
        &d.key,
        &[d_adds.id()],
        RevokeTarget::Org(b.org()),
        &[Cut {
            device: b.public(),
            seq: 3,
        }],
        "",
        8,
    )
    .expect("op");
    let a_promotes_d =
        Op::set_role(NET, &a.key, &[add_d.id()], d.org(), Role::Admin, 9).expect("op");
    let ops = [
        &add_x,
        &add_b,
        &x_seen,
        &revoke_x,
        &add_d,
        &x_rotates,
        &d_adds,
        &d_revokes_b,
        &a_promotes_d,
    ];
    // Before the revocation arrives, X's branch is valid.
    let unaware = log_of(
        &g,
        ops.iter().copied().filter(|op| op.id() != revoke_x.id()),
    );
    assert!(unaware.state().verdicts().values().all(Verdict::is_valid));
    assert_eq!(
        unaware.state().current_epoch().map(|e| e.epoch),
        Some(Epoch(5))
    );
    assert!(unaware.state().is_member_device(&d2.public()));
    // The keys opened once are kept, and still the revocation that burns X's rotation
    // changes the keyring exactly as opening everything again does, in either order.
    let late: Vec<&Op> = ops
        .iter()
        .copied()
        .filter(|op| op.id() != revoke_x.id())
        .chain([&revoke_x])
        .collect();
    memo_matches_from_scratch(&g, late.iter().copied(), &[&a, &b, &d]);
    memo_matches_from_scratch(&g, late.iter().rev().copied(), &[&a, &b, &d]);

    let log = resolve_in_any_order(&g, &ops);
    let state = log.state();
    assert_eq!(state.verdict(&x_seen.id()), Some(Verdict::Valid));
    assert_eq!(state.verdict(&revoke_x.id()), Some(Verdict::Valid));
    for op in [&add_d, &x_rotates] {
        assert_eq!(invalid(&log, op), Some(InvalidReason::RevokedConcurrently));
    }
    // Descendants are judged again without the nullified ops.
    assert_eq!(invalid(&log, &d_adds), Some(InvalidReason::NotAMember));
    assert_eq!(
        invalid(&log, &a_promotes_d),
        Some(InvalidReason::UnknownOrg)
    );
    // A revocation keeps the verdict of its own causal past, where D was an admin.
    assert_eq!(state.verdict(&d_revokes_b.id()), Some(Verdict::Valid));
    assert!(state.is_revoked_org(&b.org()));
    assert_eq!(state.org(&d.org()), None);
    assert!(!state.is_member_device(&d2.public()));
    assert_eq!(
        state.write_limit(&d.public(), &d.org()),
        WriteLimit::NotMember
    );
    // X's rotation is burned: never current, its epoch taken, its key still opens for its
    // recipients (what they sealed under it before they knew stays readable).
    assert!(state.current_epoch().is_none());
    assert_eq!(
        state.burned_keys(),
        vec![(
            Epoch(5),
            epoch_key_commitment(NET, &key(5, 5)),
            x_rotates.id()
        )]
    );
    assert_eq!(state.next_epoch(), Some(Epoch(1)));
    assert_eq!(
        log.epoch_keys(&a.public(), &a.agreement)
            .epochs()
            .collect::<Vec<_>>(),
        vec![Epoch(5)]
    );
    assert_eq!(
        state
            .devices()
            .iter()
            .map(|dev| dev.key)
            .collect::<Vec<_>>(),
        vec![a.public()]
    );
    // What the log computes incrementally on top of it is judged in the same state: D's
    // key was never added validly, so it may join now; a rotation must go above the burned
    // epoch, and a share of the burned key is refused.
    let mut log = log;
    let later =
        Op::add_org(NET, &a.key, &log.heads(), "D", Role::Member, d.keys(), 10).expect("op");
    accept(&later, &mut log);
    assert!(log.state().is_member_device(&d.public()));
    let heads = log.heads();
    let share = Op::epoch_key(NET, &a.key, &heads, &key(5, 5), &[d.keys()], 11).expect("op");
    let reused = Op::epoch_key(NET, &a.key, &heads, &key(5, 6), &members(&log), 11).expect("op");
    for op in [&share, &reused] {
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(invalid(&log, op), Some(InvalidReason::BurnedEpoch));
    }
    // Epochs below or above the burned one are free.
    assert_eq!(log.state().next_epoch(), Some(Epoch(1)));
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &key(4, 4), &members(&log), 12).expect("op"),
        &mut log,
    );
    assert_eq!(log.state().next_epoch(), Some(Epoch(6)));
    accept(
        &Op::epoch_key(NET, &a.key, &log.heads(), &key(6, 6), &members(&log), 13).expect("op"),
        &mut log,
    );
    assert_eq!(log.state().current_epoch().map(|e| e.epoch), Some(Epoch(6)));
    assert_eq!(
        log.epoch_keys(&a.public(), &a.agreement)
            .epochs()
            .collect::<Vec<_>>(),
        vec![Epoch(4), Epoch(5), Epoch(6)]
    );
}

#[test]
fn concurrent_revocations_of_a_device_keep_the_highest_cut() {
    let (a, c, b) = (Dev::new(1), Dev::new(2), Dev::new(3));
    let g = genesis(&a);
    let mut base = unverified_log(&g);
    for op in [
        Op::add_org(NET, &a.key, &base.heads(), "C", Role::Admin, c.keys(), 2),
        Op::add_org(NET, &a.key, &base.heads(), "B", Role::Member, b.keys(), 2),
    ] {
        base.insert_verified(VerifiedOp::assume(op.expect("op")))
            .expect("inserts");
    }
    let mut ops: Vec<Op> = base.ops().skip(1).cloned().collect();
    let heads = base.heads();
    let by_a = revoke(&base, &a, &heads, RevokeTarget::Device(b.public()), 5);
    let by_c = revoke(&base, &c, &heads, RevokeTarget::Device(b.public()), 9);
    ops.extend([by_a.clone(), by_c.clone()]);
    let refs: Vec<&Op> = ops.iter().collect();
    let log = resolve_in_any_order(&g, &refs);
    let cut = log.state().device_cut(&b.public()).expect("revoked");
    let mut both = vec![by_a.id(), by_c.id()];
    both.sort();
    assert_eq!(
        (cut.cut, cut.revocations, cut.cut_by),
        (9, both, vec![by_c.id()])
    );
    assert_eq!(
        log.state().write_limit(&b.public(), &b.org()),
        WriteLimit::Revoked { cut: 9 }
    );
    // An organisation revocation concurrent with both counts too.
    let org_wide = revoke(&base, &a, &heads, RevokeTarget::Org(b.org()), 12);
    ops.push(org_wide.clone());
    let refs: Vec<&Op> = ops.iter().collect();
    let log = resolve_in_any_order(&g, &refs);
    let cut = log.state().device_cut(&b.public()).expect("revoked");
    assert_eq!((cut.cut, cut.revocations.len()), (12, 3));
    assert_eq!(cut.cut_by, vec![org_wide.id()]);
    // A device that no cut names, added concurrently with its organisation's revocation,
    // keeps nothing.
    let b2 = Dev::new(4);
    let late = Op::add_device(NET, &b.key, &heads, b.org(), b2.keys(), 3).expect("op");
    ops.push(late.clone());
    let refs: Vec<&Op> = ops.iter().collect();
    let log = resolve_in_any_order(&g, &refs);
    assert_eq!(
        invalid(&log, &late),
        Some(InvalidReason::RevokedConcurrently)
    );
    assert_eq!(
        log.state().write_limit(&b2.public(), &b.org()),
        WriteLimit::NotMember
    );
}

#[test]
fn rotations_after_a_revocation_leave_the_revoked_devices_out() {
    let (a, c, b, b2) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
    let g = genesis(&a);
    let mut log = unverified_log(&g);
    for op in [
        Op::add_org(NET, &a.key, &log.heads(), "C", Role::Admin, c.keys(), 2),
        Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2),
    ] {
        log.insert_verified(VerifiedOp::assume(op.expect("op")))
            .expect("inserts");
    }
    accept(
        &Op::add_device(NET, &b.key, &log.heads(), b.org(), b2.keys(), 3).expect("op"),
        &mut log,
    );
    let everyone = members(&log);
    let heads = log.heads();
    // A revokes B's second device while C, not knowing, rotates to epoch 2 for everyone.
    let lost = revoke(&log, &a, &heads, RevokeTarget::Device(b2.public()), 0);
    let k2 = key(2, 2);
    let rot_c = Op::epoch_key(NET, &c.key, &heads, &k2, &everyone, 4).expect("op");
    for op in [&lost, &rot_c] {
        log.insert(op.as_bytes()).expect("inserts");
    }
    let state = log.state();
    assert_eq!(state.verdict(&rot_c.id()), Some(Verdict::Valid));
    assert_eq!(state.current_epoch().map(|e| e.epoch), Some(Epoch(2)));
    assert_eq!(state.current_key_exposed_to(), vec![b2.public()]);
    assert!(state.needs_rotation());
    assert!(state.devices_without_current_key().is_empty());
    // The revoked device gets nothing later: no share, no rotation that includes it.
    let heads = log.heads();
    let share = Op::epoch_key(NET, &a.key, &heads, &k2, &[b2.keys()], 5).expect("op");
    let k3 = key(3, 3);
    let with_b2 = Op::epoch_key(NET, &a.key, &heads, &k3, &everyone, 5).expect("op");
    for (op, reason) in [
        (&share, InvalidReason::RecipientNotAMember),
        (&with_b2, InvalidReason::RecipientNotAMember),
    ] {
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(invalid(&log, op), Some(reason));
    }
    let rotation = Op::epoch_key(NET, &a.key, &log.heads(), &k3, &members(&log), 6).expect("op");
    assert_eq!(members(&log).len(), 3);
    accept(&rotation, &mut log);
    assert!(!log.state().needs_rotation());
    assert_eq!(
        log.epoch_keys(&b2.public(), &b2.agreement)
            .epochs()
            .collect::<Vec<_>>(),
        vec![Epoch(2)]
    );
    assert_eq!(
        log.epoch_keys(&b.public(), &b.agreement)
            .epochs()
            .collect::<Vec<_>>(),
        vec![Epoch(2), Epoch(3)]
    );
}

#[test]
fn receipts_are_kept_per_device_and_need_the_revocation_in_their_past() {
    let (a, b, c, d) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
    let g = genesis(&a);
    let mut log = unverified_log(&g);
    for op in [
        Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2),
        Op::add_org(NET, &a.key, &log.heads(), "C", Role::Member, c.keys(), 2),
        Op::add_org(NET, &a.key, &log.heads(), "D", Role::Member, d.keys(), 2),
    ] {
        log.insert_verified(VerifiedOp::assume(op.expect("op")))
            .expect("inserts");
    }
    let before = log.heads();
    let not_a_revocation = before[0];
    let failed = revoke(&log, &b, &before, RevokeTarget::Org(d.org()), 0);
    let revoke_c = revoke(&log, &a, &before, RevokeTarget::Org(c.org()), 0);
    for op in [&failed, &revoke_c] {
        log.insert(op.as_bytes()).expect("inserts");
    }
    assert_eq!(invalid(&log, &failed), Some(InvalidReason::NotAdmin));
    let after = log.heads();
    let receipt = |who: &Dev, parents: &[OpId], revocation: OpId, epoch: u32| {
        Op::receipt(NET, &who.key, parents, revocation, Epoch(epoch), 3).expect("op")
    };
    let b1 = receipt(&b, &after, revoke_c.id(), 1);
    let b2 = receipt(&b, &[b1.id()], revoke_c.id(), 2);
    let a7 = receipt(&a, &after, revoke_c.id(), 7);
    // Concurrent receipts of one device: the highest epoch is its latest.
    let d4 = receipt(&d, &after, revoke_c.id(), 4);
    let d3 = receipt(&d, &after, revoke_c.id(), 3);
    for op in [&b1, &b2, &a7, &d4, &d3] {
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(log.state().verdict(&op.id()), Some(Verdict::Valid));
    }
    let invalid_receipts = [
        // The revocation is not in its causal past.
        (
            receipt(&b, &before, revoke_c.id(), 1),
            InvalidReason::UnknownRevocation,
        ),
        (
            receipt(&b, &after, not_a_revocation, 1),
            InvalidReason::UnknownRevocation,
        ),
        (
            receipt(&b, &after, failed.id(), 1),
            InvalidReason::UnknownRevocation,
        ),
        (
            receipt(&c, &after, revoke_c.id(), 1),
            InvalidReason::NotAMember,
        ),
    ];
    for (op, reason) in invalid_receipts {
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(invalid(&log, &op), Some(reason));
    }
    assert_eq!(
        log.state().receipts(&revoke_c.id()),
        BTreeMap::from([
            (a.public(), Epoch(7)),
            (b.public(), Epoch(2)),
            (d.public(), Epoch(4)),
        ])
    );
    assert!(log.state().receipts(&failed.id()).is_empty());
    // A receipt has no membership effect.
    assert_eq!(log.state().devices().len(), 3);
}

/// Relay addresses for the relay tests.
const TCP: &str = "/ip4/203.0.113.5/tcp/4738";
const QUIC: &str = "/ip4/203.0.113.5/udp/4738/quic-v1";
const OTHER: &str = "/ip4/198.51.100.7/tcp/4738";

/// A `Relay` op by `author` on `parents` about `relay`'s key.
fn relay_op(author: &Dev, parents: &[OpId], relay: &Dev, addresses: &[&str], active: bool) -> Op {
    let addresses = addresses.iter().map(|a| (*a).to_owned()).collect();
    Op::relay(
        NET,
        &author.key,
        parents,
        relay.public(),
        addresses,
        active,
        30,
    )
    .expect("op")
}

/// A relay in use, as [`MemberState::relays`] lists it.
fn in_use(relay: &Dev, addresses: &[&str]) -> RelayEntry {
    RelayEntry {
        key: relay.public(),
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
    }
}

#[test]
fn only_admins_choose_the_relays() {
    let (a, b, outsider, r) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(9));
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2).expect("op"),
        &mut log,
    );
    let attempts = [
        (
            relay_op(&b, &log.heads(), &r, &[TCP], true),
            InvalidReason::NotAdmin,
        ),
        (
            relay_op(&outsider, &log.heads(), &r, &[TCP], true),
            InvalidReason::NotAMember,
        ),
    ];
    for (op, reason) in attempts {
        // Accepted (peers hold it too), judged invalid, without effect.
        let inserted = log.insert(op.as_bytes()).expect("accepted");
        assert_eq!(inserted.accepted, vec![op.id()]);
        assert_eq!(invalid(&log, &op), Some(reason));
    }
    assert!(log.state().relays().is_empty());
    // A member cannot retire a relay an admin added either.
    accept(&relay_op(&a, &log.heads(), &r, &[TCP], true), &mut log);
    let retire = relay_op(&b, &log.heads(), &r, &[], false);
    log.insert(retire.as_bytes()).expect("accepted");
    assert_eq!(invalid(&log, &retire), Some(InvalidReason::NotAdmin));
    assert_eq!(log.state().relays(), vec![in_use(&r, &[TCP])]);
    // Once an admin, it can.
    accept(
        &Op::set_role(NET, &a.key, &log.heads(), b.org(), Role::Admin, 5).expect("op"),
        &mut log,
    );
    accept(&relay_op(&b, &log.heads(), &r, &[], false), &mut log);
    assert!(log.state().relays().is_empty());
}

#[test]
fn concurrent_relay_writes_resolve_the_same_way_in_any_order() {
    let (a, c, r, s) = (Dev::new(1), Dev::new(3), Dev::new(9), Dev::new(10));
    let g = genesis(&a);
    let add_c = Op::add_org(NET, &a.key, &[g.id()], "C", Role::Admin, c.keys(), 2).expect("op");
    let base = [add_c.id()];
    // Admins A and C add relay R concurrently with different addresses; A adds S.
    let by_a = relay_op(&a, &base, &r, &[TCP, QUIC], true);
    let by_c = relay_op(&c, &base, &r, &[OTHER], true);
    let s_by_a = relay_op(&a, &[by_a.id()], &s, &[QUIC], true);
    for order in [
        [&add_c, &by_a, &by_c, &s_by_a],
        [&add_c, &by_c, &s_by_a, &by_a],
    ] {
        let log = log_of(&g, order);
        assert!(log.state().verdicts().values().all(Verdict::is_valid));
        // Both writes stay live; the lowest address list wins, whoever wrote it.
        let mut expected = vec![in_use(&r, &[OTHER]), in_use(&s, &[QUIC])];
        expected.sort_by_key(|entry| entry.key);
        assert_eq!(log.state().relays(), expected);
    }
    let log = resolve_in_any_order(&g, &[&add_c, &by_a, &by_c, &s_by_a]);
    assert_eq!(log.state().relays().len(), 2);

    // Having seen both, A changes R's addresses while C retires R: the retirement wins,
    // whatever the op ids, as a demotion wins over a concurrent promotion.
    let seen = [by_a.id(), by_c.id(), s_by_a.id()];
    let change = relay_op(&a, &seen, &r, &[TCP], true);
    let retire = relay_op(&c, &seen, &r, &[OTHER], false);
    let ops = [&add_c, &by_a, &by_c, &s_by_a, &change, &retire];
    for order in [ops, [&retire, &change, &s_by_a, &by_c, &by_a, &add_c]] {
        assert_eq!(
            log_of(&g, order).state().relays(),
            vec![in_use(&s, &[QUIC])]
        );
    }
    resolve_in_any_order(&g, &ops);
    // A write that saw both replaces them.
    let again = relay_op(&c, &[change.id(), retire.id()], &r, &[QUIC], true);
    let log = resolve_in_any_order(
        &g,
        &[&add_c, &by_a, &by_c, &s_by_a, &change, &retire, &again],
    );
    let mut expected = vec![in_use(&r, &[QUIC]), in_use(&s, &[QUIC])];
    expected.sort_by_key(|entry| entry.key);
    assert_eq!(log.state().relays(), expected);
}

#[test]
fn a_relay_write_supersedes_the_writes_it_saw() {
    let (a, r) = (Dev::new(1), Dev::new(9));
    let g = genesis(&a);
    let add = relay_op(&a, &[g.id()], &r, &[TCP], true);
    let retire = relay_op(&a, &[add.id()], &r, &[], false);
    // A retirement that saw the add takes the relay out of use, in either arrival order.
    let log = resolve_in_any_order(&g, &[&add, &retire]);
    assert!(log.state().relays().is_empty());
    assert!(log.state().verdicts().values().all(Verdict::is_valid));
    // An add that saw the retirement brings it back (it would lose to a concurrent one);
    // a change of addresses that saw it replaces it.
    let back = relay_op(&a, &[retire.id()], &r, &[QUIC], true);
    let log = resolve_in_any_order(&g, &[&add, &retire, &back]);
    assert_eq!(log.state().relays(), vec![in_use(&r, &[QUIC])]);
    let moved = relay_op(&a, &[back.id()], &r, &[QUIC, TCP], true);
    let log = resolve_in_any_order(&g, &[&add, &retire, &back, &moved]);
    assert_eq!(log.state().relays(), vec![in_use(&r, &[TCP, QUIC])]);
}

#[test]
fn a_revoked_admins_relay_writes_after_its_revocation_do_not_count() {
    let (a, x, r) = (Dev::new(1), Dev::new(2), Dev::new(9));
    let g = genesis(&a);
    let mut base = unverified_log(&g);
    let add_x = Op::add_org(NET, &a.key, &base.heads(), "X", Role::Admin, x.keys(), 2).expect("op");
    accept(&add_x, &mut base);
    // X adds relay R; A had seen that when it revoked X, so it stays.
    let x_adds = relay_op(&x, &base.heads(), &r, &[TCP], true);
    accept(&x_adds, &mut base);
    let heads = base.heads();
    let revoke_x = revoke(&base, &a, &heads, RevokeTarget::Org(x.org()), 0);
    // Concurrently with its revocation X moves R; on top of its revocation it retires R.
    let x_concurrent = relay_op(&x, &heads, &r, &[OTHER], true);
    let x_later = relay_op(&x, &[revoke_x.id(), x_concurrent.id()], &r, &[], false);
    let log = resolve_in_any_order(&g, &[&add_x, &x_adds, &revoke_x, &x_concurrent, &x_later]);
    let state = log.state();
    assert_eq!(state.verdict(&x_adds.id()), Some(Verdict::Valid));
    assert_eq!(
        invalid(&log, &x_concurrent),
        Some(InvalidReason::RevokedConcurrently)
    );
    assert_eq!(invalid(&log, &x_later), Some(InvalidReason::NotAMember));
    assert_eq!(state.relays(), vec![in_use(&r, &[TCP])]);
}

/// A chain g ← x ← y ← z and a branch x ← w, built by the founder.
fn chain(a: &Dev) -> (Op, [Op; 4]) {
    let g = genesis(a);
    let devs: Vec<Dev> = (10..14).map(Dev::new).collect();
    let x = Op::add_device(NET, &a.key, &[g.id()], a.org(), devs[0].keys(), 2).expect("op");
    let y = Op::add_device(NET, &a.key, &[x.id()], a.org(), devs[1].keys(), 3).expect("op");
    let z = Op::add_device(NET, &a.key, &[y.id()], a.org(), devs[2].keys(), 4).expect("op");
    let w = Op::add_device(NET, &a.key, &[x.id()], a.org(), devs[3].keys(), 5).expect("op");
    (g, [x, y, z, w])
}

#[test]
fn ops_arriving_before_their_parents_wait_and_are_released_in_causal_order() {
    let a = Dev::new(1);
    let (g, [x, y, z, w]) = chain(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    let missing =
        |log: &mut MembershipLog, op: &Op| log.insert(op.as_bytes()).expect("buffers").missing;
    assert_eq!(missing(&mut log, &z), vec![y.id()]);
    assert_eq!(missing(&mut log, &y), vec![x.id()]);
    assert_eq!(missing(&mut log, &w), vec![x.id()]);
    assert_eq!(log.pending_count(), 3);
    assert_eq!(
        log.pending_bytes(),
        z.as_bytes().len() + y.as_bytes().len() + w.as_bytes().len()
    );
    assert_eq!(log.len(), 1);
    let accepted = log.insert(x.as_bytes()).expect("accepts").accepted;
    let pos = |op: &Op| {
        accepted
            .iter()
            .position(|id| *id == op.id())
            .expect("accepted")
    };
    assert_eq!(accepted.len(), 4);
    assert_eq!(pos(&x), 0);
    assert!(pos(&y) < pos(&z));
    assert_eq!((log.pending_count(), log.pending_bytes()), (0, 0));
    let mut in_order = MembershipLog::new(g.as_bytes()).expect("log");
    for op in [&x, &y, &z, &w] {
        accept(op, &mut in_order);
    }
    assert_eq!(log.state(), in_order.state());
    assert_eq!(log.heads(), in_order.heads());
    let mut heads = vec![z.id(), w.id()];
    heads.sort();
    assert_eq!(log.heads(), heads);
}

#[test]
fn a_replayed_op_is_a_no_op() {
    let a = Dev::new(1);
    let (g, [x, y, z, _]) = chain(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    accept(&x, &mut log);
    log.insert(z.as_bytes()).expect("buffers");
    let state = log.state().clone();
    let duplicate = Inserted {
        duplicate: true,
        ..Inserted::default()
    };
    for op in [&g, &x, &z] {
        assert_eq!(log.insert(op.as_bytes()), Ok(duplicate.clone()));
    }
    assert_eq!(log.state(), &state);
    assert_eq!((log.len(), log.pending_count()), (2, 1));
    add_all(&mut log, &y);
    assert_eq!(log.insert(y.as_bytes()), Ok(duplicate));
    assert_eq!(log.len(), 4);
}

fn add_all(log: &mut MembershipLog, op: &Op) {
    assert!(
        log.insert(op.as_bytes())
            .expect("inserts")
            .accepted
            .contains(&op.id())
    );
}

#[test]
fn wrong_network_and_second_roots_are_refused() {
    let (a, b) = (Dev::new(1), Dev::new(2));
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    let other_net = crate::keys::NetworkId::from_bytes([8; 16]);
    let foreign = Op::create(other_net, &b.key, b.agreement.public(), "Other", 1).expect("op");
    assert_eq!(
        log.insert(foreign.as_bytes()),
        Err(MembershipError::WrongNetwork {
            expected: NET,
            got: other_net
        })
    );
    // A second founding op for the same network, by anyone, is not this network's root.
    for founder in [&a, &b] {
        let root =
            Op::create(NET, &founder.key, founder.agreement.public(), "Usurpers", 2).expect("op");
        assert_eq!(
            log.insert(root.as_bytes()),
            Err(MembershipError::NotGenesis(root.id()))
        );
    }
    let not_create =
        Op::add_org(NET, &a.key, &[g.id()], "B", Role::Member, b.keys(), 2).expect("op");
    assert_eq!(
        MembershipLog::new(not_create.as_bytes()).err(),
        Some(MembershipError::NotCreate)
    );
    let mut forged = g.to_bytes();
    forged[55] ^= 1;
    assert_eq!(
        MembershipLog::new(&forged).err(),
        Some(MembershipError::BadSignature)
    );
    assert_eq!(log.len(), 1);
}

#[test]
fn pending_ops_are_bounded_by_count_and_bytes() {
    let a = Dev::new(1);
    let g = genesis(&a);
    let nowhere = OpId::from_bytes([0xee; 32]);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    // Signatures are checked by other tests; these skip the slow debug-build verification.
    let set_role = |i: u64| {
        VerifiedOp::assume(
            Op::set_role(NET, &a.key, &[nowhere], a.org(), Role::Admin, i).expect("op"),
        )
    };
    for i in 0..MAX_PENDING_OPS as u64 {
        assert_eq!(
            log.insert_verified(set_role(i)).expect("buffers").missing,
            vec![nowhere]
        );
    }
    let bytes = log.pending_bytes();
    assert_eq!(
        log.insert_verified(set_role(u64::MAX)),
        Err(MembershipError::PendingFull)
    );
    assert_eq!(
        (log.pending_count(), log.pending_bytes()),
        (MAX_PENDING_OPS, bytes)
    );
    log.clear_pending();
    assert_eq!((log.pending_count(), log.pending_bytes()), (0, 0));

    // Large ops hit the byte bound first.
    let sealed: Vec<SealedKey> = (0..MAX_SEALED as u16)
        .map(u16::to_be_bytes)
        .map(|i| {
            let mut recipient = [0; 32];
            recipient[..2].copy_from_slice(&i);
            SealedKey {
                recipient: crate::identity::PublicKey::from_bytes(recipient),
                sealed: [0; EPOCH_KEY_BOX_LEN],
            }
        })
        .collect();
    let mut accepted = 0;
    let size = loop {
        let op = Op::new(
            NET,
            &a.key,
            &[nowhere],
            Body::EpochKey {
                epoch: Epoch(accepted),
                commitment: [0; 32],
                sealed: sealed.clone(),
            },
            0,
        )
        .expect("op");
        assert!(op.as_bytes().len() <= MAX_OP_LEN);
        match log.insert_verified(VerifiedOp::assume(op.clone())) {
            Ok(_) => accepted += 1,
            Err(e) => {
                assert_eq!(e, MembershipError::PendingFull);
                break op.as_bytes().len();
            }
        }
    };
    assert!(log.pending_bytes() <= MAX_PENDING_BYTES);
    assert!(log.pending_bytes() + size > MAX_PENDING_BYTES);
    assert_eq!(log.pending_count(), accepted as usize);
}

fn ids_of(batch: &[Vec<u8>]) -> Vec<OpId> {
    batch
        .iter()
        .map(|bytes| OpId::from_bytes(Sha256::digest(bytes).into()))
        .collect()
}

#[test]
fn ops_missing_from_sends_exactly_what_is_missing_in_causal_order() {
    let (a, b) = (Dev::new(1), Dev::new(2));
    let g = genesis(&a);
    let mut behind = MembershipLog::new(g.as_bytes()).expect("log");
    let mut theirs = MembershipLog::new(g.as_bytes()).expect("log");
    let mut mine = MembershipLog::new(g.as_bytes()).expect("log");
    let shared = Op::add_org(NET, &a.key, &[g.id()], "B", Role::Admin, b.keys(), 2).expect("op");
    for log in [&mut behind, &mut theirs, &mut mine] {
        accept(&shared, log);
    }
    let devs: Vec<Dev> = (20..26).map(Dev::new).collect();
    for (i, dev) in devs[1..].iter().enumerate() {
        let author = if i % 2 == 0 { &a } else { &b };
        // One op names an older parent than the heads, making a branch.
        let parents = if i == 2 {
            vec![shared.id()]
        } else {
            mine.heads()
        };
        let op = Op::add_device(
            NET,
            &author.key,
            &parents,
            b.org(),
            dev.keys(),
            4 + i as u64,
        )
        .expect("op");
        accept(&op, &mut mine);
    }
    let new_in_mine: BTreeSet<OpId> = mine
        .ops()
        .map(Op::id)
        .filter(|id| !behind.contains(id))
        .collect();
    assert_eq!(new_in_mine.len(), 5);

    // A peer that is only behind: exactly the ops it lacks, each accepted on arrival.
    let batch = mine.ops_missing_from(&behind.heads());
    let ids = ids_of(&batch);
    assert_eq!(ids.len(), new_in_mine.len());
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), new_in_mine);
    for (bytes, id) in batch.iter().zip(&ids) {
        assert_eq!(behind.insert(bytes).expect("inserts").accepted, vec![*id]);
    }
    assert_eq!(behind.state(), mine.state());
    assert!(mine.ops_missing_from(&behind.heads()).is_empty());

    // A peer that wrote concurrently: its head is unknown here, so its heads alone make
    // this side send everything; its summary names older ops this side knows.
    let their_op =
        Op::add_device(NET, &b.key, &theirs.heads(), b.org(), devs[0].keys(), 3).expect("op");
    accept(&their_op, &mut theirs);
    assert_eq!(mine.ops_missing_from(&theirs.heads()).len(), mine.len());
    let batch = mine.ops_missing_from(&theirs.summary());
    assert_eq!(
        ids_of(&batch).into_iter().collect::<BTreeSet<_>>(),
        new_in_mine
    );
    let back = theirs.ops_missing_from(&mine.summary());
    assert_eq!(ids_of(&back), vec![their_op.id()]);
    for bytes in &batch {
        theirs.insert(bytes).expect("inserts");
    }
    for bytes in &back {
        mine.insert(bytes).expect("inserts");
    }
    assert_eq!(mine.state(), theirs.state());
    assert_eq!(mine.heads(), theirs.heads());
    assert!(mine.ops_missing_from(&theirs.heads()).is_empty());
    assert!(theirs.ops_missing_from(&mine.summary()).is_empty());
    // Unknown ids are ignored; nothing known means everything.
    assert_eq!(
        mine.ops_missing_from(&[OpId::from_bytes([0xee; 32])]).len(),
        mine.len()
    );
    assert_eq!(mine.ops_missing_from(&[]).len(), mine.len());
    assert_eq!(mine.ops_missing_from(&[g.id()]).len(), mine.len() - 1);
}

#[test]
fn summary_lists_heads_and_exponentially_older_ops() {
    let a = Dev::new(1);
    let g = genesis(&a);
    let mut log = MembershipLog::new(g.as_bytes()).expect("log");
    assert_eq!(log.summary(), vec![g.id()]);
    let mut chain = vec![g.id()];
    for i in 0..100 {
        let op = Op::set_role(NET, &a.key, &log.heads(), a.org(), Role::Admin, i).expect("op");
        log.insert_verified(VerifiedOp::assume(op.clone()))
            .expect("inserts");
        chain.push(op.id());
    }
    // A chain of 101: the newest 8, then 16, 32 and 64 places back, and the genesis.
    let mut expected: Vec<OpId> = [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 101]
        .iter()
        .map(|back| chain[chain.len() - back])
        .collect();
    expected.sort();
    assert_eq!(log.summary(), expected);
}

/// What the incremental log must match, recomputed from scratch by the rule's definition:
/// the state of each op's causal past with the final verdicts, each verdict, and the final
/// state.
struct Reference {
    before: HashMap<OpId, View>,
    verdicts: BTreeMap<OpId, Verdict>,
    all: View,
}

/// Resolves the causally closed set `set` of `ops` (canonical order) by definition: each op
/// is judged against the fold of its ancestors' contributions; a `Revoke` keeps its verdict
/// from `local`; any other valid op is nullified if an effective revocation of the set
/// covers its author and does not have it as an ancestor.
fn resolve_by_definition(
    ops: &[&Op],
    set: &HashSet<OpId>,
    past: &HashMap<OpId, HashSet<OpId>>,
    local: &HashMap<OpId, Judged>,
) -> HashMap<OpId, Judged> {
    let in_set: Vec<&Op> = ops
        .iter()
        .filter(|op| set.contains(&op.id()))
        .copied()
        .collect();
    let effective: Vec<(OpId, RevokeTarget)> = in_set
        .iter()
        .filter_map(|op| match op.body() {
            Body::Revoke { target, .. } if local[&op.id()].verdict.is_valid() => {
                Some((op.id(), *target))
            }
            _ => None,
        })
        .collect();
    let mut judged: HashMap<OpId, Judged> = HashMap::new();
    for op in &in_set {
        let mut view = View::default();
        for ancestor in in_set.iter().filter(|o| past[&op.id()].contains(&o.id())) {
            view.absorb(ancestor, &judged[&ancestor.id()]);
        }
        let verdict = match op.body() {
            Body::Create { .. } | Body::Revoke { .. } => local[&op.id()].clone(),
            _ => {
                let j = view.judge(op);
                let nullified = effective.iter().any(|(r, target)| {
                    covers(target, &op.author(), j.author_org) && !past[r].contains(&op.id())
                });
                if nullified {
                    // A rotation that was valid leaves its key burned.
                    Judged {
                        verdict: Verdict::Invalid(InvalidReason::RevokedConcurrently),
                        supersedes: Vec::new(),
                        rotation: view.burns(op),
                        author_org: j.author_org,
                        erasures_seen: j.erasures_seen,
                    }
                } else {
                    j
                }
            }
        };
        judged.insert(op.id(), verdict);
    }
    judged
}

fn reference(log: &MembershipLog) -> Reference {
    let ops: Vec<&Op> = log.ops().collect();
    let by_id: HashMap<OpId, &Op> = ops.iter().map(|op| (op.id(), *op)).collect();
    let mut past: HashMap<OpId, HashSet<OpId>> = HashMap::new();
    for op in &ops {
        let mut ancestors = HashSet::new();
        let mut stack = op.parents().to_vec();
        while let Some(id) = stack.pop() {
            if ancestors.insert(id) {
                stack.extend_from_slice(by_id[&id].parents());
            }
        }
        past.insert(op.id(), ancestors);
    }
    // Each revocation (and the genesis) is judged in the resolved state of its causal past.
    let mut local: HashMap<OpId, Judged> = HashMap::new();
    for op in &ops {
        if !matches!(op.body(), Body::Create { .. } | Body::Revoke { .. }) {
            continue;
        }
        let set = &past[&op.id()];
        let judged = resolve_by_definition(&ops, set, &past, &local);
        let mut view = View::default();
        for ancestor in ops.iter().filter(|o| set.contains(&o.id())) {
            view.absorb(ancestor, &judged[&ancestor.id()]);
        }
        local.insert(op.id(), view.judge(op));
    }
    let everything: HashSet<OpId> = by_id.keys().copied().collect();
    let judged = resolve_by_definition(&ops, &everything, &past, &local);
    let mut before = HashMap::new();
    let mut all = View::default();
    for op in &ops {
        let mut view = View::default();
        for ancestor in ops.iter().filter(|o| past[&op.id()].contains(&o.id())) {
            view.absorb(ancestor, &judged[&ancestor.id()]);
        }
        before.insert(op.id(), view);
        all.absorb(op, &judged[&op.id()]);
    }
    Reference {
        before,
        verdicts: judged.into_iter().map(|(id, j)| (id, j.verdict)).collect(),
        all,
    }
}

/// A log from a genesis whose signature is not checked again (strict Ed25519 verification
/// takes milliseconds in debug builds; other tests check signatures).
fn unverified_log(genesis: &Op) -> MembershipLog {
    MembershipLog::from_genesis(VerifiedOp::assume(genesis.clone())).expect("log")
}

const ACTORS: usize = 6;

/// Runs a script of ops and syncs among `ACTORS` replicas, one per device. Device 0 founds
/// the network and adds the organisations of devices 1 and 2 as admins and 3 to 5 as
/// members, which every replica knows at the start; keys 6 to 11 are new. A step's target
/// (0..2·`ACTORS`) names the key an op is about, and the replica `target % ACTORS` for a
/// sync. Returns every replica's log. Signatures are real but not re-verified.
fn simulate(script: &[(u8, usize, usize, bool)]) -> (Vec<MembershipLog>, HashMap<OpId, Op>) {
    static DEVS: std::sync::OnceLock<Vec<Dev>> = std::sync::OnceLock::new();
    let devs = DEVS.get_or_init(|| (1..=2 * ACTORS as u8).map(Dev::new).collect());
    let g = genesis(&devs[0]);
    let mut all = HashMap::from([(g.id(), g.clone())]);
    let mut founding = unverified_log(&g);
    for (i, dev) in devs.iter().enumerate().take(ACTORS).skip(1) {
        let role = if i < 3 { Role::Admin } else { Role::Member };
        let op = Op::add_org(
            NET,
            &devs[0].key,
            &founding.heads(),
            &format!("Org {i}"),
            role,
            dev.keys(),
            0,
        )
        .expect("builds");
        all.insert(op.id(), op.clone());
        founding
            .insert_verified(VerifiedOp::assume(op))
            .expect("inserts");
    }
    let mut logs: Vec<MembershipLog> = (0..ACTORS)
        .map(|_| {
            let mut log = unverified_log(&g);
            for op in founding.ops().skip(1) {
                log.insert_verified(VerifiedOp::assume(op.clone()))
                    .expect("inserts");
            }
            log
        })
        .collect();
    for (step, &(kind, actor, target, flag)) in script.iter().enumerate() {
        let state = logs[actor].state();
        let role = if flag { Role::Admin } else { Role::Member };
        let (me, them) = (&devs[actor], &devs[target]);
        let body = match kind {
            0 => Body::AddOrg {
                org: them.org(),
                name: format!("Org {target}"),
                role,
                device: them.public(),
                agreement: them.agreement.public(),
            },
            1 => Body::AddDevice {
                org: state.device(&me.public()).map_or(me.org(), |d| d.org),
                device: them.public(),
                agreement: them.agreement.public(),
            },
            2 => Body::SetRole {
                org: them.org(),
                role,
            },
            3 => {
                let epoch = state.current_epoch().map_or(0, |e| e.epoch.0 + 1);
                let mut recipients: Vec<_> = state.devices().into_iter().map(|d| d.key).collect();
                if flag {
                    recipients.truncate(recipients.len().saturating_sub(1).max(1));
                }
                if recipients.is_empty() {
                    // Everyone was revoked: there is nobody to seal a key to.
                    continue;
                }
                let sealed = recipients
                    .into_iter()
                    .map(|recipient| SealedKey {
                        recipient,
                        sealed: [target as u8; EPOCH_KEY_BOX_LEN],
                    })
                    .collect();
                Body::EpochKey {
                    epoch: Epoch(epoch),
                    commitment: [step as u8; 32],
                    sealed,
                }
            }
            4 => {
                let Some(current) = state.current_epoch() else {
                    continue;
                };
                let commitment = if flag { current.commitment } else { [0xab; 32] };
                let sealed = vec![SealedKey {
                    recipient: them.public(),
                    sealed: [0; EPOCH_KEY_BOX_LEN],
                }];
                Body::EpochKey {
                    epoch: current.epoch,
                    commitment,
                    sealed,
                }
            }
            // Revoke an organisation: its member devices as cuts (all but one if `flag`
            // and it has several, which is invalid).
            5 => {
                let mut devices: Vec<_> = state
                    .org(&them.org())
                    .map(|org| org.devices)
                    .unwrap_or_default();
                if flag && devices.len() > 1 {
                    devices.pop();
                }
                Body::Revoke {
                    target: RevokeTarget::Org(them.org()),
                    cuts: devices
                        .into_iter()
                        .map(|device| Cut {
                            device,
                            seq: step as u64,
                        })
                        .collect(),
                    reason: format!("step {step}"),
                }
            }
            6 => Body::Revoke {
                target: RevokeTarget::Device(them.public()),
                cuts: vec![Cut {
                    device: them.public(),
                    seq: (step as u64) % 4,
                }],
                reason: String::new(),
            },
            // A receipt for one of the revocations this replica knows, effective or not
            // (the latter is invalid), on its current epoch (or a made-up one if `flag`).
            7 => {
                let revocations = state.revocations();
                let Some(revocation) = revocations.get(target % revocations.len().max(1)) else {
                    continue;
                };
                let epoch = match (flag, state.current_epoch()) {
                    (false, Some(current)) => current.epoch,
                    _ => Epoch(step as u32),
                };
                Body::Receipt {
                    revocation: revocation.id,
                    epoch,
                }
            }
            // A write for one of three relay keys: active at an address that depends on
            // the target if `flag`, else a retirement.
            8 => Body::Relay {
                relay: devs[target % 3].public(),
                addresses: if flag {
                    vec![format!("/ip4/203.0.113.{target}/tcp/4738")]
                } else {
                    Vec::new()
                },
                active: flag,
            },
            _ => {
                let peer = target % ACTORS;
                let batch = logs[actor].ops_missing_from(&logs[peer].heads());
                for bytes in batch {
                    let op = all[&OpId::from_bytes(Sha256::digest(&bytes).into())].clone();
                    logs[peer]
                        .insert_verified(VerifiedOp::assume(op))
                        .expect("syncs");
                }
                continue;
            }
        };
        let op = Op::new(NET, &me.key, &logs[actor].heads(), body, step as u64).expect("builds");
        all.insert(op.id(), op.clone());
        let inserted = logs[actor]
            .insert_verified(VerifiedOp::assume(op))
            .expect("inserts");
        assert_eq!(inserted.accepted.len(), 1);
    }
    (logs, all)
}

/// Shuffles with a small deterministic generator (xorshift64*).
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    seed |= 1;
    for i in (1..items.len()).rev() {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let j = (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn resolution_is_independent_of_arrival_order(
        script in proptest::collection::vec((0u8..12, 0..ACTORS, 0..2 * ACTORS, any::<bool>()), 1..48),
        seeds in proptest::collection::vec(any::<u64>(), 3),
    ) {
        let (mut logs, all) = simulate(&script);
        // Full sync: every replica gets every op, in whatever order its peers send them.
        for i in 0..ACTORS {
            for j in 0..ACTORS {
                for bytes in logs[j].ops_missing_from(&logs[i].heads()) {
                    let op = all[&OpId::from_bytes(Sha256::digest(&bytes).into())].clone();
                    logs[i].insert_verified(VerifiedOp::assume(op)).expect("syncs");
                }
            }
        }
        let union = &logs[0];
        prop_assert_eq!(union.len(), all.len());
        let expected = reference(union);
        prop_assert_eq!(union.state().verdicts(), &expected.verdicts);
        prop_assert_eq!(union.state().view(), &expected.all);
        for log in &logs[1..] {
            prop_assert_eq!(log.state(), union.state());
            prop_assert_eq!(log.heads(), union.heads());
        }
        // Random arrival orders into fresh logs, parents often after children.
        let g = union.genesis();
        let mut ops: Vec<Op> = union.ops().filter(|op| op.id() != g).cloned().collect();
        for seed in seeds {
            shuffle(&mut ops, seed);
            let mut fresh = unverified_log(union.get(&g).expect("genesis"));
            for op in &ops {
                fresh.insert_verified(VerifiedOp::assume(op.clone())).expect("inserts");
            }
            prop_assert_eq!(fresh.pending_count(), 0);
            prop_assert_eq!(fresh.state(), union.state());
            prop_assert_eq!(fresh.heads(), union.heads());
            // Every op's causal state as the log computes it now (joining whatever states
            // its cache holds after this arrival order) is the reference one.
            for op in &ops {
                prop_assert_eq!(&fresh.state_before(op), &expected.before[&op.id()]);
            }
        }
    }
}

#[test]
fn thousands_of_ops_resolve_incrementally() {
    // Three admin replicas and many member organisations; replicas sync every few ops, so
    // the log has concurrent branches and merges, rotations sealed to every device, and
    // more ops than the state cache holds.
    let admins: Vec<Dev> = (1..=3).map(Dev::new).collect();
    let g = genesis(&admins[0]);
    let mut logs: Vec<MembershipLog> = (0..3).map(|_| unverified_log(&g)).collect();
    let mut all: HashMap<OpId, Op> = HashMap::from([(g.id(), g.clone())]);
    let write =
        |logs: &mut Vec<MembershipLog>, who: usize, body: Body, all: &mut HashMap<OpId, Op>| {
            let op = Op::new(
                NET,
                &admins[who].key,
                &logs[who].heads(),
                body,
                all.len() as u64,
            )
            .expect("op");
            logs[who]
                .insert_verified(VerifiedOp::assume(op.clone()))
                .expect("inserts");
            all.insert(op.id(), op);
        };
    let orgs: Vec<Dev> = (10..40).map(Dev::new).collect();
    for (i, dev) in admins[1..].iter().chain(&orgs).enumerate() {
        let role = if i < 2 { Role::Admin } else { Role::Member };
        let body = Body::AddOrg {
            org: dev.org(),
            name: format!("Org {i}"),
            role,
            device: dev.public(),
            agreement: dev.agreement.public(),
        };
        write(&mut logs, 0, body, &mut all);
    }
    let sync = |logs: &mut Vec<MembershipLog>, by_id: &HashMap<OpId, Op>| {
        for i in 0..logs.len() {
            for j in 0..logs.len() {
                let batch = logs[j].ops_missing_from(&logs[i].summary());
                // Replicas write concurrently between syncs; the summary keeps what is sent
                // close to what diverged.
                assert!(batch.len() <= 40, "sent {} ops", batch.len());
                for bytes in batch {
                    let op = by_id[&OpId::from_bytes(Sha256::digest(&bytes).into())].clone();
                    logs[i]
                        .insert_verified(VerifiedOp::assume(op))
                        .expect("syncs");
                }
            }
        }
    };
    sync(&mut logs, &all);
    let before_writes = logs[0].heads();
    let mut epoch = 0;
    for step in 0..2000usize {
        let who = step % 3;
        let body = if step % 50 == 0 {
            epoch += 1;
            let sealed = logs[who]
                .state()
                .devices()
                .into_iter()
                .map(|d| SealedKey {
                    recipient: d.key,
                    sealed: [0; EPOCH_KEY_BOX_LEN],
                })
                .collect();
            Body::EpochKey {
                epoch: Epoch(epoch * 3 + who as u32),
                commitment: [step as u8; 32],
                sealed,
            }
        } else {
            let role = if step % 7 < 3 {
                Role::Admin
            } else {
                Role::Member
            };
            Body::SetRole {
                org: orgs[step % orgs.len()].org(),
                role,
            }
        };
        write(&mut logs, who, body, &mut all);
        if step % 10 == 9 {
            sync(&mut logs, &all);
        }
    }
    sync(&mut logs, &all);
    assert_eq!(logs[0].len(), all.len());
    assert_eq!(logs[1].state(), logs[0].state());
    assert_eq!(logs[2].state(), logs[0].state());
    // Inserted in runs of 500 ops, each run newest first: every op of a run waits until
    // the run's oldest op arrives, then they are released in one cascade.
    let mut reversed = unverified_log(&g);
    let ordered: Vec<Op> = logs[0].ops().skip(1).cloned().collect();
    for chunk in ordered.chunks(500) {
        for op in chunk.iter().rev() {
            reversed
                .insert_verified(VerifiedOp::assume(op.clone()))
                .expect("inserts");
        }
    }
    assert_eq!(reversed.pending_count(), 0);
    assert_eq!(reversed.state(), logs[0].state());
    assert!(logs[0].state().verdicts().values().all(Verdict::is_valid));

    // A revocation of the third admin made before the 2000 writes: its hundreds of ops are
    // lost and every verdict is recomputed once, the same in both logs.
    let revocation = Op::revoke(
        NET,
        &admins[0].key,
        &before_writes,
        RevokeTarget::Org(admins[2].org()),
        &[Cut {
            device: admins[2].public(),
            seq: 0,
        }],
        "",
        0,
    )
    .expect("op");
    for log in [&mut logs[0], &mut reversed] {
        log.insert_verified(VerifiedOp::assume(revocation.clone()))
            .expect("inserts");
    }
    assert_eq!(reversed.state(), logs[0].state());
    let lost = logs[0]
        .state()
        .verdicts()
        .values()
        .filter(|v| **v == Verdict::Invalid(InvalidReason::RevokedConcurrently))
        .count();
    assert_eq!(lost, 2000 / 3);
    assert!(!logs[0].state().is_member_device(&admins[2].public()));
}

#[test]
fn erasures_are_by_admins_up_to_the_current_epoch_and_split_devices_before_and_after() {
    let (a, b, b2, b3) = (Dev::new(1), Dev::new(2), Dev::new(3), Dev::new(4));
    let g = genesis(&a);
    let mut log = unverified_log(&g);
    accept(
        &Op::add_org(NET, &a.key, &log.heads(), "B", Role::Member, b.keys(), 2).expect("op"),
        &mut log,
    );
    for (epoch, byte) in [(1, 1), (2, 2)] {
        let op = Op::epoch_key(
            NET,
            &a.key,
            &log.heads(),
            &key(epoch, byte),
            &members(&log),
            3,
        )
        .expect("op");
        accept(&op, &mut log);
    }
    let heads = log.heads();
    let erase = |who: &Dev, parents: &[OpId], before: u32| {
        Op::erase(NET, &who.key, parents, Epoch(before), 4).expect("op")
    };
    for (op, reason) in [
        (erase(&b, &heads, 2), InvalidReason::NotAdmin),
        (erase(&a, &heads, 3), InvalidReason::NothingToErase),
    ] {
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(invalid(&log, &op), Some(reason));
    }
    assert_eq!(log.state().erased_before(), None);
    // B adds a device concurrently with the erasure: it belongs to the history before it.
    let concurrent = Op::add_device(NET, &b.key, &heads, b.org(), b2.keys(), 5).expect("op");
    let valid = erase(&a, &heads, 2);
    for op in [&concurrent, &valid] {
        log.insert(op.as_bytes()).expect("inserts");
        assert_eq!(log.state().verdict(&op.id()), Some(Verdict::Valid));
    }
    let state = log.state();
    assert_eq!(state.erased_before(), Some(Epoch(2)));
    let erasures = state.erasures();
    assert_eq!(erasures.len(), 1);
    assert_eq!(
        (erasures[0].id, erasures[0].author),
        (valid.id(), a.public())
    );
    assert!(!state.is_after_erasures(&a.public()));
    assert!(!state.is_after_erasures(&b2.public()));
    // A device added after it, and a receipt naming it.
    let after = Op::add_device(NET, &b.key, &log.heads(), b.org(), b3.keys(), 6).expect("op");
    accept(&after, &mut log);
    assert!(log.state().is_after_erasures(&b3.public()));
    let receipt = Op::receipt(NET, &b3.key, &log.heads(), valid.id(), Epoch(2), 7).expect("op");
    accept(&receipt, &mut log);
    assert_eq!(
        log.state().receipts(&valid.id()),
        BTreeMap::from([(b3.public(), Epoch(2))])
    );
    // A second erasure must keep a later epoch than the first.
    let again = erase(&a, &log.heads(), 2);
    log.insert(again.as_bytes()).expect("inserts");
    assert_eq!(invalid(&log, &again), Some(InvalidReason::NothingToErase));
    let k3 = Op::epoch_key(NET, &a.key, &log.heads(), &key(3, 3), &members(&log), 8).expect("op");
    accept(&k3, &mut log);
    let second = erase(&a, &log.heads(), 3);
    accept(&second, &mut log);
    let state = log.state();
    assert_eq!(state.erased_before(), Some(Epoch(3)));
    assert_eq!(state.erasures().len(), 2);
    assert!(
        !state.is_after_erasures(&b3.public()),
        "added before the second"
    );
}
