//! Reconciliation against a real store: what a spreadsheet imported again does.

use jiff::civil::Date;
use puente_crdt::test_utils::{SAMPLE_TZ, sample_offer};
use puente_crdt::{Field, OfferId, OrgId, time};

use super::*;
use crate::interchange::csv_import::parse_offers_csv;
use crate::replica::Replica;
use crate::test_utils::{NOW, init};

const HEADER: &str = "handle,kind,subject,counties,unit,vetting,windows,expires_in,label";

fn today() -> Date {
    time::local_date(NOW, &time::zone(SAMPLE_TZ).expect("a zone"))
}

fn row(handle: &str, label: &str) -> String {
    format!("{handle},host-home,household,06067,room,org-vetted,today..+7d=2,14d,{label}")
}

fn file(rows: &[String]) -> String {
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    text
}

fn plan(text: &str) -> ImportPlan {
    parse_offers_csv(text.as_bytes(), today(), SAMPLE_TZ).expect("a readable file")
}

fn actions(r: &Reconciliation) -> Vec<(Option<&str>, &RowAction)> {
    r.rows
        .iter()
        .map(|o| (o.handle.as_deref(), &o.action))
        .collect()
}

/// A store of one organisation, with the rows of `text` imported.
fn imported(dir: &std::path::Path, text: &str) -> Replica {
    let mut r = init(dir, "Org 0");
    let rec = r.reconcile_import(plan(text), NOW, false);
    assert_eq!(rec.refused(), 0, "{:?}", rec.rows);
    r.apply_import(rec, NOW, &mut |_| {}).expect("imported");
    r
}

fn handles(r: &Replica) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = r
        .view()
        .offers()
        .map(|o| (o.fields.handle.clone(), o.withdrawn))
        .collect();
    v.sort();
    v
}

#[test]
fn new_handles_create_and_the_same_file_again_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = file(&[row("host-a", "quiet room"), row("host-b", "two beds")]);
    let mut r = init(&tmp.path().join("n0"), "Org 0");
    let first = r.reconcile_import(plan(&text), NOW, false);
    assert!(matches!(
        actions(&first)[..],
        [
            (Some("host-a"), RowAction::Create),
            (Some("host-b"), RowAction::Create)
        ]
    ));
    let ids = r.apply_import(first, NOW, &mut |_| {}).expect("imported");
    assert_eq!(ids.len(), 2);

    // The same file, an hour later: every row is unchanged and nothing would be written.
    let later = NOW.plus(3_000);
    let again = r.reconcile_import(plan(&text), later, true);
    assert!(
        again
            .rows
            .iter()
            .all(|o| matches!(o.action, RowAction::Unchanged { .. })),
        "{:?}",
        again.rows
    );
    assert!(!again.writes());
    let before = r.version_vector();
    r.apply_import(again, later, &mut |_| {})
        .expect("nothing to do");
    assert_eq!(r.version_vector(), before, "no envelope was written");
    assert_eq!(handles(&r).len(), 2);
}

#[test]
fn a_known_handle_updates_only_the_fields_that_changed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = file(&[row("host-a", "quiet room"), row("host-b", "two beds")]);
    let mut r = imported(&tmp.path().join("n0"), &text);
    let edited = file(&[row("host-a", "quiet room"), row("host-b", "three beds")]);
    let rec = r.reconcile_import(plan(&edited), NOW, false);
    let b = r
        .view()
        .offers()
        .find(|o| o.fields.handle == "host-b")
        .expect("host-b")
        .id;
    assert!(matches!(
        actions(&rec)[..],
        [
            (Some("host-a"), RowAction::Unchanged { .. }),
            (Some("host-b"), RowAction::Update { offer, changed })
        ] if *offer == b && changed == &[Field::Label]
    ));
    r.apply_import(rec, NOW, &mut |_| {}).expect("updated");
    let offer = r.view().offers().find(|o| o.id == b).expect("still there");
    assert_eq!(offer.fields.label, "three beds");
    assert_eq!(handles(&r).len(), 2, "updated in place, not duplicated");
    let rec = r.reconcile_import(plan(&edited), NOW, false);
    assert!(!rec.writes(), "{:?}", rec.rows);
}

#[test]
fn rows_of_another_organisation_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = init(&tmp.path().join("n0"), "Org 0");
    let other = OrgId::from_bytes([7; 10]);
    let text = format!(
        "{HEADER},owner\n{},{}\n{},{}\n",
        row("host-a", "ours"),
        r.org(),
        row("host-b", "theirs"),
        other
    );
    let rec = r.reconcile_import(plan(&text), NOW, false);
    assert!(matches!(
        actions(&rec)[..],
        [
            (Some("host-a"), RowAction::Create),
            (Some("host-b"), RowAction::Refused(RowRefusal::OtherOrganisation { owner }))
        ] if *owner == other
    ));
    assert_eq!(rec.creates.len(), 1);
}

#[test]
fn missing_offers_are_listed_for_withdrawal_only_when_asked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = file(&[row("host-a", "a"), row("host-b", "b"), row("host-c", "c")]);
    let mut r = imported(&tmp.path().join("n0"), &text);
    // host-b is gone from the file; host-c's row is there but cannot be read.
    let shorter = file(&[
        row("host-a", "a"),
        "host-c,host-home,household,06067,room,no-such-vetting,today..+7d=2,14d,c".into(),
    ]);
    let kept = r.reconcile_import(plan(&shorter), NOW, false);
    assert!(kept.withdrawals.is_empty());
    let rec = r.reconcile_import(plan(&shorter), NOW, true);
    assert_eq!(
        rec.withdrawals
            .iter()
            .map(|(_, h)| h.as_str())
            .collect::<Vec<_>>(),
        ["host-b"],
        "a refused row still names its offer"
    );
    assert!(matches!(
        actions(&rec)[..],
        [
            (Some("host-a"), RowAction::Unchanged { .. }),
            (Some("host-c"), RowAction::Rejected(_))
        ]
    ));
    r.apply_import(rec, NOW, &mut |_| {}).expect("applied");
    assert_eq!(
        handles(&r),
        [
            ("host-a".into(), false),
            ("host-b".into(), true),
            ("host-c".into(), false)
        ]
    );
}

#[test]
fn kind_changes_and_shared_handles_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut r = imported(&tmp.path().join("n0"), &file(&[row("host-a", "a")]));
    r.add_offer(sample_offer("twice", NOW), NOW).expect("added");
    r.add_offer(sample_offer("twice", NOW), NOW).expect("added");
    let text = format!(
        "{HEADER}\nhost-a,shelter-bed,household,06067,bed,org-vetted,today..+7d=2,14d,a\n{}\n",
        row("twice", "quiet room")
    );
    let rec = r.reconcile_import(plan(&text), NOW, false);
    assert!(
        matches!(
            actions(&rec)[..],
            [
                (
                    Some("host-a"),
                    RowAction::Refused(RowRefusal::Unchangeable {
                        field: Field::Kind,
                        ..
                    })
                ),
                (
                    Some("twice"),
                    RowAction::Refused(RowRefusal::SharedHandle { offers: 2 })
                )
            ]
        ),
        "{:?}",
        rec.rows
    );
    assert!(!rec.writes());
}

#[test]
fn a_withdrawn_offer_s_handle_publishes_a_new_offer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut r = imported(&tmp.path().join("n0"), &file(&[row("host-a", "a")]));
    let old: OfferId = r.view().offers().next().expect("one").id;
    r.withdraw_offer(old, NOW).expect("withdrawn");
    let rec = r.reconcile_import(plan(&file(&[row("host-a", "a")])), NOW, false);
    assert!(matches!(
        actions(&rec)[..],
        [(Some("host-a"), RowAction::Create)]
    ));
}
