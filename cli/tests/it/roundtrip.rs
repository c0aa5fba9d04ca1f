//! The spreadsheet round trip: export, edit as a coordinator would in a spreadsheet, import
//! again; the same file twice; partners' offers only on request and never imported as ours.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::daemon::Daemon;
use crate::network::{add_home, handles};
use crate::support::{Node, example};

/// A CSV file as its header and its records keyed by handle.
fn table(text: &str) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    let handle = header.iter().position(|h| h == "handle").expect("handle");
    let rows = r
        .records()
        .map(|rec| {
            let rec: Vec<String> = rec.expect("a record").iter().map(str::to_string).collect();
            (rec[handle].clone(), rec)
        })
        .collect();
    (header, rows)
}

/// Writes `header` and `rows` as a spreadsheet would save them (CRLF line ends).
fn write(path: &std::path::Path, header: &[String], rows: &BTreeMap<String, Vec<String>>) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_path(path)
        .expect("a file");
    w.write_record(header).expect("header");
    for rec in rows.values() {
        w.write_record(rec).expect("row");
    }
    w.flush().expect("written");
}

/// The `outcomes` of an import report as (handle, action, fields).
fn outcomes(report: &Value) -> Vec<(String, String, Vec<String>)> {
    report["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| {
            (
                o["handle"].as_str().unwrap_or("").to_string(),
                o["action"].as_str().expect("action").to_string(),
                o["fields"]
                    .as_array()
                    .expect("fields")
                    .iter()
                    .map(|f| f.as_str().expect("a name").to_string())
                    .collect(),
            )
        })
        .filter(|(_, action, _)| action != "unchanged")
        .collect()
}

#[test]
fn export_edit_in_a_spreadsheet_and_import_is_a_round_trip() {
    let n = Node::init("River Refuge");
    let source = example("river-refuge.csv");
    n.ok(&["import", source.to_str().expect("utf-8")]);
    let exported = n.ok(&["export", "--format", "csv"]);
    let (header, mut rows) = table(&exported);
    assert_eq!(rows.len(), 26);
    assert_eq!(header.last().map(String::as_str), Some("owner"));

    // The export imports again as it is: every row unchanged, nothing written.
    let file = n.scratch().join("offers.csv");
    std::fs::write(&file, &exported).expect("write");
    let file = file.to_str().expect("utf-8");
    let before = n.state();
    let report = n.json(&["import", file]);
    assert_eq!(report["unchanged"], 26, "{report}");
    assert!(
        before == n.state(),
        "importing an unchanged export wrote something"
    );

    // A coordinator's edits: a label, a status and a window's total; one row deleted; one new.
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    rows.get_mut("shelter-davis").expect("a row")[col("label")] = "six beds, Davis".into();
    let status = &mut rows.get_mut("trauma-therapy").expect("a row")[col("status")];
    *status = if status == "no-capacity" {
        "capacity"
    } else {
        "no-capacity"
    }
    .into();
    let windows = &mut rows.get_mut("shelter-midtown-w").expect("a row")[col("windows")];
    let (spec, _) = windows.rsplit_once('=').expect("a total");
    *windows = format!("{spec}=9");
    rows.remove("dv-men-sac").expect("a row");
    let mut new = rows["shelter-woodland"].clone();
    new[col("handle")] = "shelter-woodland-2".into();
    new[col("owner")] = String::new();
    rows.insert("shelter-woodland-2".into(), new);
    let edited = n.scratch().join("edited.csv");
    write(&edited, &header, &rows);
    let edited = edited.to_str().expect("utf-8");

    // The dry run says what will happen per row, and what --withdraw-missing withdraws.
    let dry = n.json(&["import", edited, "--dry-run", "--withdraw-missing"]);
    let mut got = outcomes(&dry);
    got.sort();
    let s = |v: &str| v.to_string();
    assert_eq!(
        got,
        [
            (s("shelter-davis"), s("update"), vec![s("label")]),
            (s("shelter-midtown-w"), s("update"), vec![s("windows")]),
            (s("shelter-woodland-2"), s("create"), vec![]),
            (s("trauma-therapy"), s("update"), vec![s("status")]),
        ],
        "{dry}"
    );
    assert_eq!(dry["withdrawn"][0]["handle"], "dv-men-sac", "{dry}");
    assert!(before == n.state(), "a dry run wrote something");
    let text = n.ok(&["import", edited, "--dry-run", "--withdraw-missing"]);
    assert!(
        text.contains("update line") && text.contains(": label") && text.contains("unchanged line"),
        "{text}"
    );
    assert!(text.contains("withdraw dv-men-sac"), "{text}");

    // The real import, then the export again holds exactly the edited rows.
    let done = n.json(&["import", edited, "--withdraw-missing"]);
    assert_eq!(
        (&done["created"], &done["updated"], &done["unchanged"]),
        (&Value::from(1), &Value::from(3), &Value::from(22)),
        "{done}"
    );
    let (header2, again) = table(&n.ok(&["export", "--format", "csv"]));
    assert_eq!(header2, header);
    let own = again["shelter-davis"][col("owner")].clone();
    rows.get_mut("shelter-woodland-2").expect("the new row")[col("owner")] = own;
    assert_eq!(
        again, rows,
        "export → edit → import → export gives the edited file"
    );

    // The same file twice: nothing changes the second time.
    let after = n.state();
    let twice = n.json(&["import", edited, "--withdraw-missing"]);
    assert_eq!(twice["unchanged"], 26, "{twice}");
    assert!(
        after == n.state(),
        "importing the same file twice wrote something"
    );
}

#[test]
fn partners_offers_are_exported_only_on_request_and_never_imported_as_ours() {
    let a = Node::founder("River Refuge");
    let mut node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    assert!(node_a.signal_and_wait("TERM").success());
    add_home(&a, "host-river");
    let bundle = b.scratch().join("for-yolo.puente");
    let bundle = bundle.to_str().expect("UTF-8 path");
    a.ok(&["bundle", "export", "--for", "yolo trans health", bundle]);
    b.ok(&["bundle", "import", bundle]);
    add_home(&b, "host-yolo");
    assert_eq!(handles(&b), ["host-river", "host-yolo"]);

    // Own offers by default, in CSV and JSON.
    let (_, own) = table(&b.ok(&["export", "--format", "csv"]));
    assert_eq!(own.keys().collect::<Vec<_>>(), ["host-yolo"]);
    let json = b.json(&["export"]);
    let listed: Vec<&str> = json["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| o["handle"].as_str().expect("handle"))
        .collect();
    assert_eq!(listed, ["host-yolo"]);

    // With --partners, every offer, each naming its owner.
    let all = b.ok(&["export", "--format", "csv", "--partners"]);
    let (header, rows) = table(&all);
    let owner = header.iter().position(|h| h == "owner").expect("owner");
    assert_eq!(rows.len(), 2);
    assert_ne!(rows["host-river"][owner], rows["host-yolo"][owner]);
    let err = b.fails(&["export", "--format", "hsds", "--partners"]);
    assert!(err.contains("only your own"), "{err}");

    // Importing the partners' export refuses the partner's row and names why.
    let file = b.scratch().join("all.csv");
    std::fs::write(&file, &all).expect("write");
    let file = file.to_str().expect("utf-8");
    let before = b.state();
    let r = b.run(&["import", file]);
    assert!(!r.ok);
    assert!(
        r.stdout
            .contains("owner: this row belongs to another organisation"),
        "{}",
        r.stdout
    );
    assert!(before == b.state(), "a refused import wrote something");
    let partial = b.json(&["import", file, "--allow-partial"]);
    assert_eq!(partial["unchanged"], 1, "{partial}");
    assert_eq!(partial["rejected"][0]["column"], "owner", "{partial}");
    assert_eq!(handles(&b), ["host-river", "host-yolo"]);
}
