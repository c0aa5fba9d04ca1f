//! `puente import` of a file with bad rows: all or nothing, dry runs, partial imports.

use crate::support::{Node, example, one_error_line};

/// The lines of `examples/data/bad-rows.csv` that must be rejected (README of the data set).
const BAD_LINES: [usize; 8] = [3, 4, 6, 7, 8, 9, 11, 12];

#[test]
fn bad_rows_import_nothing_unless_partial() {
    let n = Node::init("River Refuge");
    let bad = example("bad-rows.csv");
    let bad = bad.to_str().expect("utf-8");
    let before = n.state();

    // Without --allow-partial: every bad line reported, nothing imported, non-zero exit.
    let r = n.run(&["import", bad]);
    assert!(!r.ok);
    let e = one_error_line(&r.stderr);
    assert!(
        e.contains("8 of 11 rows were rejected") && e.contains("nothing was imported"),
        "{e}"
    );
    assert_rejected_lines(&r.stdout);
    assert!(r.stdout.contains("phone number") && r.stdout.contains("street address"));
    assert!(before == n.state(), "a refused import wrote something");

    // A dry run reports the same and writes nothing, with or without --allow-partial.
    let r = n.run(&["import", bad, "--dry-run"]);
    assert!(!r.ok);
    one_error_line(&r.stderr);
    assert_rejected_lines(&r.stdout);
    let out = n.ok(&["import", bad, "--dry-run", "--allow-partial"]);
    assert!(
        out.contains("3 new, 0 updated, 0 unchanged, 8 rejected; nothing was written"),
        "{out}"
    );
    assert!(before == n.state(), "a dry run wrote something");
    assert_eq!(n.offers().len(), 0);

    // --allow-partial imports the three valid rows.
    let r = n.json(&["import", bad, "--allow-partial"]);
    assert_eq!(r["imported"], 3);
    assert_eq!(r["rejected"].as_array().expect("rejected").len(), 8);
    let mut got: Vec<String> = n
        .offers()
        .iter()
        .map(|o| o["handle"].as_str().expect("handle").to_string())
        .collect();
    got.sort();
    assert_eq!(got, ["demo-ok-1", "demo-ok-2", "demo-ok-3"]);
    let listed = n.ok(&["offer", "list", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(listed.as_bytes());
    assert!(
        r.headers()
            .expect("header")
            .iter()
            .any(|h| h == "expires_at")
    );
    assert_eq!(r.records().count(), 3);
}

#[track_caller]
fn assert_rejected_lines(stdout: &str) {
    let lines: Vec<usize> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("rejected line "))
        .map(|rest| {
            rest.split([',', ':'])
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a line number")
        })
        .collect();
    assert_eq!(lines, BAD_LINES, "{stdout}");
}
