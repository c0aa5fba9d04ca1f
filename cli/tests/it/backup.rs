//! `puente backup` and `puente restore` with the real binary (issue 13): a sealed copy written
//! while the node runs and while it does not, refusals that write nothing, and a restore that
//! comes back as a new device which partners accept while they revoke the old key.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::daemon::Daemon;
use crate::network::{add_home, eventually, handles};
use crate::support::{Node, files_under};

const LABEL: &str = "CANARY-b4ck label";

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_backup_is_written_sealed_and_private_with_or_without_a_running_node() {
    let mut n = Node::init("River Refuge");
    n.add(&[
        "--kind",
        "host-home",
        "--handle",
        "host-b4ck",
        "--county",
        "06067",
        "--label",
        LABEL,
        "--window",
        "+1d..+9d=1",
    ]);
    let before = n.offers();
    let file = n.scratch().join("river.backup");

    // No node: the command opens the store itself.
    let out = n.ok(&["backup", path(&file)]);
    assert!(out.contains("Wrote a backup"), "{out}");
    let mode = std::fs::metadata(&file)
        .expect("written")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let bytes = std::fs::read(&file).expect("readable");
    for needle in [LABEL, "CANARY-b4ck", "River Refuge", "host-b4ck", "hotline"] {
        assert!(!contains(&bytes, needle), "{needle:?} in the backup");
    }
    // An existing file is kept unless --force.
    let err = n.fails(&["backup", path(&file)]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).expect("readable"), bytes);

    // A running node writes it itself: no passphrase is asked.
    let node = Daemon::start(&n, "node");
    n.pass = None;
    let out = n.ok(&["backup", "--force", path(&file)]);
    assert!(out.contains("Wrote a backup"), "{out}");
    let served = n.scratch().join("served.backup");
    assert!(n.ok(&["backup", "--quiet", path(&served)]).is_empty());
    drop(node);
    assert_ne!(std::fs::read(&file).expect("readable"), bytes, "replaced");
    n.pass = Some(crate::support::PASS.to_string());

    // Restored into a new data directory: a store in no network keeps its key and offers.
    let r = Node::new();
    let out = r.ok(&["restore", path(&served)]);
    assert!(out.contains("keeps its key"), "{out}");
    assert_eq!(r.offers(), before);
    assert_eq!(
        r.json(&["whoami"])["public_key"],
        n.json(&["whoami"])["public_key"]
    );
    for f in files_under(&r.data).into_values() {
        assert!(!contains(&f, LABEL), "plaintext in the restored store");
    }
}

#[test]
fn bad_backups_and_a_used_data_directory_are_one_line_and_write_nothing() {
    let n = Node::init("River Refuge");
    let file = n.scratch().join("river.backup");
    n.ok(&["backup", path(&file)]);
    let bytes = std::fs::read(&file).expect("readable");
    let fresh = Node::new();
    let write = |name: &str, content: &[u8]| {
        let p = n.scratch().join(name);
        std::fs::write(&p, content).expect("written");
        p
    };
    let truncated = write("truncated.backup", &bytes[..bytes.len() / 2]);
    let garbage = write("garbage.backup", b"%PDF-1.7 not a backup at all");
    let mut flipped_bytes = bytes.clone();
    let at = flipped_bytes.len() - 100;
    flipped_bytes[at] ^= 0x10;
    let flipped = write("flipped.backup", &flipped_bytes);
    let missing = n.scratch().join("missing.backup");

    for (p, says) in [
        (&truncated, "incomplete"),
        (&garbage, "not a puente backup"),
        (&flipped, "damaged or was altered"),
        (&missing, "cannot read"),
    ] {
        let err = fresh.fails(&["restore", path(p)]);
        assert!(err.contains(says), "{}: {err}", p.display());
        assert!(!fresh.data.exists(), "nothing written for {}", p.display());
    }
    // In Spanish too, one line.
    let out = fresh
        .cmd(&["restore", path(&garbage)])
        .env("LANG", "es_MX.UTF-8")
        .output()
        .expect("runs");
    let line = crate::support::one_error_line(&String::from_utf8_lossy(&out.stderr));
    assert!(
        line.contains("no es una copia de seguridad de puente"),
        "{line}"
    );
    assert!(!fresh.data.exists());

    let mut wrong = Node::new();
    wrong.pass = Some("not the passphrase at all".to_string());
    let err = wrong.fails(&["restore", path(&file)]);
    assert!(err.contains("wrong passphrase for the backup"), "{err}");
    assert!(!wrong.data.exists());
    let listing: Vec<_> = std::fs::read_dir(wrong.scratch())
        .expect("lists")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        listing
            .iter()
            .all(|f| !f.to_string_lossy().contains("restoring")),
        "no half-restored directory left: {listing:?}"
    );

    // Never over an existing store, not even its own.
    let state = n.digest();
    let err = n.fails(&["restore", path(&file)]);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(n.digest(), state);
}

#[test]
fn a_restored_device_gets_a_new_key_and_partners_revoke_the_old_one() {
    let a = Node::founder("River Refuge");
    let b = Node::init("Yolo Trans Health");
    let _node_a = Daemon::start(&a, "a");
    a.invite_and_join(&b, "Yolo Trans Health");
    let node_b = Daemon::start(&b, "b");
    add_home(&b, "host-before");
    eventually("A has B's offer", || handles(&a) == ["host-before"]);
    let old = b.json(&["whoami"])["public_key"]
        .as_str()
        .expect("a key")
        .to_string();
    let file = b.scratch().join("yolo.backup");
    b.ok(&["backup", path(&file)]);

    // B writes once more after the backup, and then the laptop is gone.
    add_home(&b, "host-after-the-backup");
    eventually("A has B's later offer", || {
        handles(&a) == ["host-after-the-backup", "host-before"]
    });
    drop(node_b);

    let c = Node::new();
    let out = c.ok(&["restore", path(&file)]);
    assert!(
        out.contains("as a new device of \"Yolo Trans Health\""),
        "{out}"
    );
    assert!(out.contains(&old) && out.contains("is revoked"), "{out}");
    let new = c.json(&["whoami"])["public_key"]
        .as_str()
        .expect("a key")
        .to_string();
    assert_ne!(new, old);
    assert!(c.status().contains("RESTORED FROM A BACKUP"));
    assert_eq!(c.status_json()["handover"], old.as_str());

    // Its node tells A through the old key, then talks to A as the new device.
    let _node_c = Daemon::start(&c, "c");
    eventually("the handover ends", || {
        c.status_json()["handover"].is_null()
    });
    let peers = a.json(&["peer", "list"]);
    let keys: Vec<&str> = peers
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|p| p["key"].as_str())
        .collect();
    assert!(
        keys.contains(&new.as_str()) && !keys.contains(&old.as_str()),
        "{peers}"
    );
    let r = a.json(&["peer", "revocations"]);
    assert_eq!(r[0]["reason"], "restored from a backup", "{r}");
    assert_eq!(r[0]["by"]["name"], "Yolo Trans Health", "{r}");

    // Its writes reach A; what the lost laptop wrote after the backup is kept nowhere.
    add_home(&c, "host-after-the-restore");
    let expected = ["host-after-the-restore", "host-before"];
    eventually(
        "A has the restored device's offer and not the lost one's later offer",
        || handles(&a) == expected,
    );
    eventually("C caught up", || handles(&c) == expected);
    assert!(!c.status().contains("RESTORED FROM A BACKUP"));
}
