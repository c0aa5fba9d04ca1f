//! Output for scripts is consistent: every listing command gives CSV with `--format csv` or
//! refuses it in one line (never a table), and every time in JSON and CSV is RFC 3339 in UTC.

use serde_json::Value;

use crate::support::{Node, example, one_error_line};

/// Every listing command, on a store with offers, a network and invitations.
fn listing_commands(n: &Node) -> Vec<Vec<String>> {
    let offer = n.offers()[0]["offer_id"]
        .as_str()
        .expect("an id")
        .to_string();
    [
        vec!["offer", "list"],
        vec!["offer", "show", &offer],
        vec!["query", "--kind", "shelter-bed"],
        vec!["hold", "list"],
        vec!["inbox"],
        vec!["events"],
        vec!["status"],
        vec!["whoami"],
        vec!["peer", "list"],
        vec!["device", "list"],
        vec!["invite", "list"],
        vec!["relay", "list"],
        vec!["peer", "revocations"],
        vec!["audit", "log"],
        vec!["audit", "exposure", "River Refuge"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_string).collect())
    .collect()
}

fn network(n: &Node) {
    n.ok(&[
        "import",
        example("river-refuge.csv").to_str().expect("utf-8"),
    ]);
    n.ok(&["network", "create", "--name", "Valley Network"]);
    n.ok(&[
        "invite",
        "create",
        "--org",
        "Gone Org",
        "--address",
        "/ip4/127.0.0.1/tcp/4737",
        "--yes",
    ]);
    n.ok(&[
        "invite",
        "create",
        "--org",
        "Another Org",
        "--address",
        "/ip4/127.0.0.1/tcp/4737",
        "--yes",
    ]);
}

/// Whether `text` is a time as puente writes them for machines: `2026-11-23T09:00:00Z`.
fn is_utc_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Whether a key or column names a time.
fn is_time_key(key: &str) -> bool {
    key.ends_with("_at")
        || [
            "claimed_time",
            "expires",
            "deadline",
            "since",
            "last_sync",
            "from",
            "to",
            "soonest",
        ]
        .contains(&key)
}

/// Every (key, value) pair of a JSON document, at any depth.
fn pairs<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.push((k, v));
                pairs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| pairs(v, out)),
        _ => {}
    }
}

#[test]
fn every_listing_gives_csv_or_refuses_it_in_one_line() {
    let n = Node::init("River Refuge");
    network(&n);
    for command in listing_commands(&n) {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.extend(["--format", "csv"]);
        let r = n.run(&args);
        if !r.ok {
            let e = one_error_line(&r.stderr);
            assert!(e.contains("--format csv is not available"), "{args:?}: {e}");
            continue;
        }
        let mut reader = csv::Reader::from_reader(r.stdout.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap_or_else(|e| panic!("{args:?}: not CSV ({e}):\n{}", r.stdout))
            .iter()
            .map(str::to_string)
            .collect();
        assert!(
            header
                .iter()
                .all(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')),
            "{args:?}: the first line is not a CSV header, so this is not CSV:\n{}",
            r.stdout
        );
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{args:?}: {e}:\n{}", r.stdout));
            for (column, cell) in header.iter().zip(record.iter()) {
                if is_time_key(column) && !cell.is_empty() {
                    assert!(
                        is_utc_rfc3339(cell),
                        "{args:?}: {column} = {cell:?} is not RFC 3339 in UTC"
                    );
                }
            }
        }
    }
}

#[test]
fn every_time_in_json_is_rfc3339_in_utc() {
    let n = Node::init("River Refuge");
    network(&n);
    let mut checked = 0;
    for command in listing_commands(&n) {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.extend(["--format", "json"]);
        // `status` exits 3 here: no node runs (it prints the status all the same).
        let out = if command[0] == "status" {
            n.status_with(&["--format", "json"])
        } else {
            n.ok(&args)
        };
        // `events` writes JSON lines; the others one document.
        let docs: Vec<Value> = if command[0] == "events" {
            out.lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect()
        } else {
            vec![serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}"))]
        };
        for doc in &docs {
            let mut all = Vec::new();
            pairs(doc, &mut all);
            for (key, value) in all {
                assert!(
                    !key.ends_with("_unix"),
                    "{args:?}: {key} is a time in Unix seconds"
                );
                if is_time_key(key)
                    && let Some(text) = value.as_str()
                {
                    assert!(
                        is_utc_rfc3339(text),
                        "{args:?}: {key} = {text:?} is not RFC 3339 in UTC"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} times were seen");
}
