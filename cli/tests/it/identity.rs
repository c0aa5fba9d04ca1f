//! `init`, `whoami` and where the passphrase comes from.

use crate::support::{Node, PASS};

#[test]
fn init_prints_fingerprint_and_whoami_reports_identity() {
    let n = Node::new();
    let out = n.ok(&[
        "init",
        "--org",
        "River Refuge",
        "--county",
        "06067",
        "--county",
        "06113",
        "--intake",
        "hotline, ask for intake",
    ]);
    let fp_line = out
        .lines()
        .find(|l| l.starts_with("fingerprint"))
        .expect("a fingerprint line");
    let groups: Vec<&str> = fp_line.split_whitespace().skip(1).collect();
    assert_eq!(groups.len(), 6, "{fp_line}");
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(out.contains("aloud"), "{out}");

    let who = n.json(&["whoami"]);
    let org = who["org"].as_str().expect("org");
    assert!(out.contains(org), "init printed the organisation id");
    assert_eq!(who["fingerprint"], groups.join(" "));
    assert_eq!(who["public_key"].as_str().expect("key").len(), 52);
    assert_eq!(who["name"], "River Refuge");
    assert_eq!(who["counties"], serde_json::json!(["06067", "06113"]));
    assert_eq!(who["intake"], "hotline, ask for intake");
    assert_eq!(who["epoch"], 0);
    // No network until it founds or joins one, as `status` says too.
    assert!(who["network"].is_null(), "{who}");

    // A second init in the same directory is refused and changes nothing.
    let before = n.digest();
    let e = n.fails(&["init", "--org", "Someone Else"]);
    assert!(e.contains("already holds"), "{e}");
    assert_eq!(before, n.digest());
}

#[test]
fn passphrase_sources_and_refusals() {
    let mut n = Node::init("Sac Accompaniment");
    let before = n.digest();

    // A wrong passphrase gives one uniform message, whatever the wrong passphrase is.
    n.pass = Some("not the passphrase".into());
    let e1 = n.fails(&["whoami"]);
    assert!(e1.contains("wrong passphrase"), "{e1}");
    n.pass = Some("also not it, longer".into());
    assert_eq!(n.fails(&["offer", "list"]), e1);

    // No passphrase and no terminal: an error that says how to give one, never a prompt.
    n.pass = None;
    let e = n.fails(&["whoami"]);
    assert!(
        e.contains("PUENTE_PASSPHRASE") && e.contains("--passphrase-file"),
        "{e}"
    );

    // A passphrase file that others can read is refused with the fix.
    let file = n.scratch().join("pass.txt");
    std::fs::write(&file, format!("{PASS}\n")).expect("write");
    set_mode(&file, 0o644);
    let shown = file.to_str().expect("utf-8 path");
    let e = n.fails(&["whoami", "--passphrase-file", shown]);
    assert!(e.contains(&format!("chmod 600 {shown}")), "{e}");
    assert_eq!(
        before,
        n.digest(),
        "refused commands left the store untouched"
    );

    // With mode 600 the first line (newline stripped) opens the store.
    set_mode(&file, 0o600);
    let who = n.json(&["whoami", "--passphrase-file", shown]);
    assert_eq!(who["name"], "Sac Accompaniment");
}

#[test]
fn init_refuses_a_short_passphrase_and_commands_need_a_store() {
    let mut n = Node::new();
    n.pass = Some("short".into());
    let e = n.fails(&["init", "--org", "Placer Pride"]);
    assert!(e.contains("at least 8"), "{e}");
    assert!(!n.data.exists(), "nothing was created");

    n.pass = Some(PASS.into());
    let e = n.fails(&["offer", "list"]);
    assert!(
        e.contains("no puente data in") && e.contains("puente init --org NAME"),
        "{e}"
    );
    assert!(!n.data.exists());

    n.now = "next tuesday".into();
    let e = n.fails(&["whoami"]);
    assert!(e.contains("PUENTE_NOW"), "{e}");
}

#[test]
fn a_loose_data_directory_is_reported_before_any_passphrase_is_needed() {
    // No passphrase source and no terminal: the permission problem must come first, since it
    // is what the coordinator has to fix.
    let mut fresh = Node::new();
    fresh.pass = None;
    std::fs::create_dir(&fresh.data).expect("mkdir");
    set_mode(&fresh.data, 0o755);
    let mut existing = Node::init("River Refuge");
    existing.pass = None;
    set_mode(&existing.data, 0o755);
    for (n, args) in [
        (&fresh, &["init", "--org", "River Refuge"][..]),
        (&existing, &["whoami"][..]),
    ] {
        let r = n.run(args);
        assert!(!r.ok, "{args:?} succeeded");
        assert!(r.stderr.contains("chmod 700"), "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.to_lowercase().contains("passphrase"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
