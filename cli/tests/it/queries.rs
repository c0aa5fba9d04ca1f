//! Every query filter of issue 2 section 3, on a small fixture with known answers, and the
//! coordinator questions of DOMAIN.md on the example data set.

use crate::support::{Node, ORG_FILES, example, handles};

/// A small data set whose answers are known (now is Monday 2026-11-23 09:00 in Sacramento;
/// Thursday is 2026-11-26).
pub const FIXTURE: &str = "\
handle,kind,subject,counties,languages,accepts,affirming,unit,windows,vetting,status,expires_in,label,bond_band,post_within
host-a,host-home,household,06067,es,trans-women,trans,room,+1d..+20d=1,org-vetted,,14d,quiet room,,
host-b,host-home,household,06113,en;es:conversational,adult-men,,room,+3d..+10d=2,org-vetted,,14d,two rooms,,
interp-mam,interpretation,person-volunteer,06067,mam:relay-via-es;es,,,shift,+1dT09:00..+1dT13:00=1/weekly,org-vetted,,21d,,,
interp-mam-phone,interpretation,person-volunteer,06067;06113,mam:phone,,,shift,+2dT09:00..+2dT12:00=1/weekly,org-vetted,,21d,,,
court-pair,accompany-court,org-program,06067,es;en,,,shift,2026-11-26T13:00..2026-11-26T16:00=2,org-vetted-trained,,21d,,,
court-solo,accompany-court,person-volunteer,06067,es,,,shift,2026-11-26T12:00..2026-11-26T17:00=1,org-vetted,,21d,,,
bond-x,bond-fund,org-program,06067,en,,,usd,,org-vetted,,30d,,5k-15k,48h
bond-y,bond-fund,org-program,06067,en,,,usd,,org-vetted,,30d,,under-1k,24h
beds-soon-gone,shelter-bed,org-facility,06067,es;en,adult-women,,bed,today..+5d=3,org-vetted,,1d,,,
";

/// The court accompaniment both data sets are asked for: Thursday 1-4 pm.
const THURSDAY_COURT: [&str; 6] = [
    "--kind",
    "accompany-court",
    "--from",
    "2026-11-26T13:00",
    "--to",
    "2026-11-26T16:00",
];

/// The handles a query returns, sorted.
fn q(n: &Node, args: &[&str]) -> Vec<String> {
    let mut a = vec!["query"];
    a.extend(args);
    let mut v = handles(&n.json(&a));
    v.sort();
    v
}

#[test]
fn query_filters() {
    let mut n = Node::init("Sac Accompaniment");
    let file = n.scratch().join("fixture.csv");
    std::fs::write(&file, FIXTURE).expect("write fixture");
    let out = n.ok(&["import", file.to_str().expect("utf-8")]);
    assert!(out.starts_with("Imported 9 offers from "), "{out}");

    assert_eq!(q(&n, &["--kind", "host-home"]), ["host-a", "host-b"]);
    assert_eq!(
        q(
            &n,
            &[
                "--kind",
                "host-home",
                "--kind",
                "shelter-bed",
                "--county",
                "06113"
            ]
        ),
        ["host-b"]
    );
    assert_eq!(q(&n, &["--lang", "mam:relay-via-es"]), ["interp-mam"]);
    assert_eq!(
        q(&n, &["--lang", "mam"]),
        ["interp-mam", "interp-mam-phone"]
    );
    assert_eq!(
        q(&n, &["--accepts", "trans-women", "--affirming", "trans"]),
        ["host-a"]
    );
    assert_eq!(q(&n, &["--subject", "org-facility"]), ["beds-soon-gone"]);
    // Thursday 1-4 pm: two volunteers from one offer, or one.
    let mut two = THURSDAY_COURT.to_vec();
    two.extend(["--qty", "2"]);
    assert_eq!(q(&n, &two), ["court-pair"]);
    assert_eq!(q(&n, &THURSDAY_COURT), ["court-pair", "court-solo"]);
    // A range must fall inside a window.
    assert_eq!(
        q(&n, &["--kind", "host-home", "--from", "+5d", "--to", "+8d"]),
        ["host-a", "host-b"]
    );
    assert_eq!(
        q(
            &n,
            &["--kind", "host-home", "--from", "+12d", "--to", "+15d"]
        ),
        ["host-a"]
    );
    // Bond funds: at least $5k within 48 hours.
    assert_eq!(
        q(&n, &["--min-usd", "5000", "--post-within", "48h"]),
        ["bond-x"]
    );
    assert_eq!(
        q(&n, &["--kind", "bond-fund", "--post-within", "24h"]),
        ["bond-y"]
    );
    // Owner by id and by name; --limit.
    let org = n.json(&["whoami"])["org"]
        .as_str()
        .expect("org")
        .to_string();
    assert_eq!(q(&n, &["--owner", &org]).len(), 9);
    assert_eq!(
        q(&n, &["--owner", "sac accompaniment", "--limit", "2"]).len(),
        2
    );

    // The table shows availability, freshness and the intake route.
    let table = n.ok(&["query", "--kind", "shelter-bed"]);
    for want in [
        "3 beds",
        "confirmed just now",
        "hotline, ask for intake",
        "Sac Accompaniment",
    ] {
        assert!(table.contains(want), "{want} in:\n{table}");
    }

    // CSV has the JSON fields, one row per hit.
    let csv_text = n.ok(&["query", "--kind", "host-home", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = r.headers().expect("header").clone();
    for f in [
        "offer_id",
        "owner",
        "kind",
        "handle",
        "counties",
        "languages",
        "available",
        "unit",
        "expires_at",
        "last_confirmed_at",
    ] {
        assert!(headers.iter().any(|h| h == f), "{f} in {headers:?}");
    }
    assert_eq!(r.records().count(), 2);
    let hit = &n.json(&["query", "--kind", "host-home", "--county", "06067"])[0];
    assert_eq!(hit["available"], 1);
    assert_eq!(hit["unit"], "room");
    assert_eq!(hit["counties"], serde_json::json!(["06067"]));
    assert_eq!(hit["languages"], serde_json::json!(["es:fluent"]));
    assert_eq!(hit["offer_id"].as_str().expect("id").len(), 16);

    // Two days later the one-day offer has expired: hidden unless asked for; nothing is fresh
    // within an hour.
    n.now = "2026-11-25T09:00:00-08:00".into();
    assert_eq!(q(&n, &["--kind", "shelter-bed"]), Vec::<String>::new());
    let hits = n.json(&["query", "--kind", "shelter-bed", "--include-expired"]);
    assert_eq!(handles(&hits), ["beds-soon-gone"]);
    assert_eq!(hits[0]["expired"], true);
    assert_eq!(
        n.ok(&["query", "--fresh-within", "1h"]),
        "no offers match\n"
    );
    assert_eq!(
        n.json(&["query", "--fresh-within", "1h"]),
        serde_json::json!([])
    );
}

#[test]
fn coordinator_questions_on_the_example_data() {
    let n = Node::init("Sacramento Region Demo");
    let mut total = 0;
    for f in ORG_FILES {
        let out = n.ok(&["import", example(f).to_str().expect("utf-8")]);
        let last = out.lines().last().expect("a summary");
        let count: usize = last
            .strip_prefix("Imported ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("summary: {last}"));
        total += count;
    }
    assert_eq!(total, 200);

    // Who can host a trans woman in Sacramento County next week, Spanish-speaking?
    let hosts = handles(&n.json(&[
        "query",
        "--kind",
        "host-home",
        "--county",
        "06067",
        "--accepts",
        "trans-women",
        "--lang",
        "es:fluent",
        "--from",
        "+7d",
        "--to",
        "+14d",
    ]));
    assert_eq!(hosts.len(), 7, "{hosts:?}");

    // Which bond funds can post at least $5k within 48 hours?
    let funds = handles(&n.json(&[
        "query",
        "--kind",
        "bond-fund",
        "--min-usd",
        "5000",
        "--post-within",
        "48h",
    ]));
    for f in ["bond-fund-a", "bond-fund-b", "bond-fund-c"] {
        assert!(funds.contains(&f.to_string()), "{f} in {funds:?}");
    }

    // Two volunteers to accompany a family to immigration court Thursday 1-4 pm.
    let mut args = vec!["query"];
    args.extend(THURSDAY_COURT);
    args.extend(["--qty", "2"]);
    let court = n.json(&args);
    assert!(!handles(&court).is_empty());
    assert!(
        court
            .as_array()
            .expect("hits")
            .iter()
            .all(|h| h["available"].as_u64().expect("a count") >= 2)
    );

    // Who has Mam or K'iche' interpretation, in person or by phone?
    let interp = handles(&n.json(&[
        "query",
        "--kind",
        "interpretation",
        "--lang",
        "mam",
        "--lang",
        "quc",
    ]));
    assert!(interp.len() >= 5, "{interp:?}");

    // Exports: JSON by default, re-importable CSV, and HSDS without households or volunteers,
    // written with mode 600.
    let json: serde_json::Value = serde_json::from_str(&n.ok(&["export"])).expect("JSON export");
    assert_eq!(json["offers"].as_array().expect("offers").len(), 200);
    let csv_text = n.ok(&["export", "--format", "csv"]);
    assert_eq!(
        csv::Reader::from_reader(csv_text.as_bytes())
            .records()
            .count(),
        200
    );
    let path = n.scratch().join("directory.json");
    n.ok(&[
        "export",
        "--format",
        "hsds",
        "--output",
        path.to_str().expect("utf-8"),
    ]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let hsds_text = std::fs::read_to_string(&path).expect("readable");
    let hsds: serde_json::Value = serde_json::from_str(&hsds_text).expect("HSDS JSON");
    assert!(!hsds["services"].as_array().expect("services").is_empty());
    for o in json["offers"].as_array().expect("offers") {
        if matches!(
            o["subject"].as_str(),
            Some("household" | "person-volunteer")
        ) {
            let handle = o["handle"].as_str().expect("handle");
            assert!(
                !hsds_text.contains(handle),
                "{handle} is in the HSDS export"
            );
        }
    }
}

/// No CSV puente writes lets a spreadsheet run a label as a formula: `query`, `offer list`
/// and `export` all start such a cell with `'`, and the export imports again unchanged.
#[test]
fn csv_outputs_never_start_a_cell_with_a_formula() {
    let n = Node::init("Capitol Legal & Bond");
    let labels = ["=1+2 rooms", "+3 beds", "-2 spare", "@home clinic"];
    for (i, label) in labels.iter().enumerate() {
        n.add(&[
            "--kind",
            "legal-consult",
            "--subject",
            "org-program",
            "--handle",
            &format!("clinic-{i}"),
            "--county",
            "06067",
            "--window",
            "+1d..+5d=3",
            // `=` keeps clap from reading "-2 spare" as a flag.
            &format!("--label={label}"),
        ]);
    }
    let outputs = [
        n.ok(&["query", "--kind", "legal-consult", "--format", "csv"]),
        n.ok(&["offer", "list", "--format", "csv"]),
        n.ok(&["export", "--format", "csv"]),
    ];
    for csv in &outputs {
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let mut seen = 0;
        for record in r.records() {
            let record = record.expect("valid CSV");
            for cell in record.iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "a live formula cell {cell:?} in:\n{csv}"
                );
            }
            seen += 1;
        }
        assert_eq!(seen, labels.len(), "{csv}");
        for label in labels {
            assert!(csv.contains(&format!("'{label}")), "{label} in:\n{csv}");
        }
    }
    // The export imports again as the same labels: every row matches its offer unchanged
    // (a guard left on a label would read as a changed label).
    let file = n.scratch().join("export.csv");
    std::fs::write(&file, &outputs[2]).expect("write");
    let report = n.json(&["import", file.to_str().expect("utf-8")]);
    assert_eq!(report["unchanged"], labels.len(), "{report}");
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(report["updated"], 0, "{report}");
}
