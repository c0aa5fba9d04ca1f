//! A store that opens without writing (issue 13 §3), with the real binary: a command that only
//! reads changes no byte on disk, a data file that was not closed cleanly is still repaired,
//! and a damaged one is one line, never a panic.

use crate::daemon::Daemon;
use crate::queries::FIXTURE;
use crate::support::{Node, files_under};

/// Every command that only reads, with its arguments.
fn reading_commands(offer: &str) -> Vec<Vec<String>> {
    [
        vec!["whoami"],
        vec!["offer", "list"],
        vec!["offer", "show", offer],
        vec!["query", "--county", "06067"],
        vec!["query", "--kind", "host-home", "--format", "json"],
        vec!["inbox"],
        vec!["hold", "list"],
        vec!["export", "--format", "json"],
        vec!["export", "--format", "csv"],
        vec!["peer", "list"],
        vec!["device", "list"],
        vec!["invite", "list"],
        vec!["peer", "revocations"],
        vec!["relay", "list"],
        vec!["audit", "log"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(str::to_owned).collect())
    .collect()
}

fn imported(org: &str) -> Node {
    let n = Node::founder(org);
    let file = n.scratch().join("fixture.csv");
    std::fs::write(&file, FIXTURE).expect("write fixture");
    n.ok(&["import", file.to_str().expect("utf-8")]);
    n
}

#[test]
fn a_command_that_only_reads_changes_no_byte_on_disk() {
    let n = imported("River Refuge");
    let offer = n.offers()[0]["offer_id"]
        .as_str()
        .expect("an id")
        .to_string();
    let before = n.digest();
    for args in reading_commands(&offer) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        n.ok(&args);
        assert_eq!(n.digest(), before, "`puente {}` wrote", args.join(" "));
    }
    // `status` without a node reads the store too, and exits 3.
    let run = n.run(&["status"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(n.digest(), before, "`puente status` wrote");

    // A write still writes, and what it wrote is there for the next reader.
    n.ok(&["offer", "withdraw", &offer, "--yes"]);
    assert_ne!(n.digest(), before);
    let after = n.digest();
    let shown = n.json(&["offer", "show", &offer]);
    assert_eq!(shown["withdrawn"], true, "{shown}");
    assert_eq!(n.digest(), after);
}

#[test]
fn a_store_copied_while_its_node_ran_is_repaired_by_the_next_command() {
    let n = imported("River Refuge");
    let expected = n.offers();
    let copy = Node::new();
    {
        let _daemon = Daemon::start(&n, "river");
        // The node holds the database open: a copy now is a file that was not closed cleanly,
        // as after a crash or a power cut.
        std::fs::create_dir_all(&copy.data).expect("mkdir");
        for name in ["puente.header", "puente.redb"] {
            std::fs::copy(n.data.join(name), copy.data.join(name)).expect("copied");
        }
    }
    set_private(&copy.data);
    // A reading command cannot repair it read-only, so it opens the store for writing, which
    // repairs, and answers.
    assert_eq!(copy.offers(), expected);
    // From then on it is closed cleanly, and reading writes nothing again.
    let before = copy.digest();
    assert_eq!(copy.offers(), expected);
    assert_eq!(copy.digest(), before);
}

#[test]
fn a_damaged_data_file_gets_one_line_from_a_reading_command_never_a_panic() {
    let n = imported("River Refuge");
    let db = n.data.join("puente.redb");
    let original = std::fs::read(&db).expect("the data file");
    let pages = original.len() / 4096;
    assert!(pages >= 4, "a store of a few pages");
    let step = (pages / 24).max(1);
    for page in (1..pages).step_by(step) {
        let copy = Node::new();
        std::fs::create_dir_all(&copy.data).expect("mkdir");
        for (path, bytes) in files_under(&n.data) {
            std::fs::write(copy.data.join(path.file_name().expect("a name")), bytes)
                .expect("copied");
        }
        set_private(&copy.data);
        let mut damaged = original.clone();
        for b in &mut damaged[page * 4096 + 64..page * 4096 + 320] {
            *b ^= 0x5a;
        }
        std::fs::write(copy.data.join("puente.redb"), &damaged).expect("damaged");
        let run = copy.run(&["offer", "list", "--format", "json"]);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert!(
            lines.len() <= 1 && !run.stderr.contains("internal error"),
            "page {page}: {}",
            run.stderr
        );
        if !run.ok {
            assert!(
                lines[0].starts_with("error: "),
                "page {page}: {}",
                run.stderr
            );
        }
    }
    assert_eq!(std::fs::read(&db).expect("the data file"), original);
}

fn set_private(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("an entry").path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

#[test]
fn the_json_export_is_what_a_sorted_json_value_prints() {
    // The export is serialized straight from its rows (no `serde_json::Value` in between, which
    // costs hundreds of MiB at 100,000 offers); its bytes are still those of sorted keys.
    let n = imported("River Refuge");
    let text = n.ok(&["export", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let again = serde_json::to_string_pretty(&value).expect("prints") + "\n";
    assert_eq!(text, again);
    assert!(value["offers"].as_array().is_some_and(|o| !o.is_empty()));
}
