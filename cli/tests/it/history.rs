//! `puente history erase` and `puente history status` with the real binary (issue 13 §4): an
//! admin erases through its running node, every partner's node applies it and moves to a new
//! key, everyone reads the same as before, a bundle made before opens nothing, and the command
//! says what it cannot do, in English and Spanish.

use std::path::Path;

use crate::daemon::Daemon;
use crate::network::{add_home, eventually, handles};
use crate::support::Node;

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn key(n: &Node) -> String {
    n.json(&["whoami"])["public_key"]
        .as_str()
        .expect("a key")
        .to_string()
}

/// Whether `n`'s node applied every erasure and holds nothing old any more.
fn done(n: &Node) -> bool {
    let s = n.json(&["history", "status"]);
    let this = &s["this_node"];
    this["applied"] == 1
        && this["waiting_for"].as_array().is_some_and(Vec::is_empty)
        && this["old_key_kept_until_a_partner_accepts_the_new_one"].is_null()
}

#[test]
fn an_admin_erases_history_and_every_partner_applies_it() {
    let mut a = Node::founder("River Refuge");
    let mut b = Node::init("Yolo Trans Health");
    let node_a = Daemon::start(&a, "a");
    a.invite_and_join(&b, "Yolo Trans Health");
    let node_b = Daemon::start(&b, "b");
    add_home(&a, "host-river");
    add_home(&b, "host-yolo");
    let both = ["host-river", "host-yolo"];
    eventually("both have both offers", || {
        handles(&a) == both && handles(&b) == both
    });
    let bundle = a.scratch().join("before.bundle");
    a.ok(&["bundle", "export", "--all", path(&bundle)]);
    let (old_a, old_b) = (key(&a), key(&b));
    a.pass = None;
    b.pass = None;

    // Nothing to erase before there was a network, nothing in the future, and not by a member.
    let err = a.fails(&["history", "erase", "--before", "2000-01-01"]);
    assert!(err.contains("nothing before that date"), "{err}");
    let err = a.fails(&["history", "erase", "--before", "2999-01-01"]);
    assert!(err.contains("in the future"), "{err}");
    let err = b.fails(&["history", "erase", "--before", "now"]);
    assert!(err.contains("only an admin"), "{err}");
    assert!(
        a.ok(&["history", "status"])
            .contains("No history has been erased")
    );

    let out = a.ok(&["history", "erase", "--before", "now"]);
    assert!(out.contains("Erased the history before"), "{out}");
    assert!(out.contains("moved to a new key"), "{out}");
    assert!(
        out.contains("What erasing history cannot do")
            && out.contains("backup made before the erasure still opens"),
        "{out}"
    );
    eventually("both nodes applied it and moved on", || {
        done(&a) && done(&b)
    });
    assert_ne!(key(&a), old_a);
    assert_ne!(key(&b), old_b);
    assert_eq!(handles(&a), both);
    assert_eq!(handles(&b), both);
    let status = a.ok(&["history", "status"]);
    assert!(status.contains("Applied by 2 device(s)"), "{status}");
    assert!(
        a.ok(&["audit", "log"]).contains("erased the history"),
        "the audit log names it"
    );

    // Writing goes on.
    add_home(&b, "host-yolo-after");
    eventually("A has B's new offer", || {
        handles(&a) == ["host-river", "host-yolo", "host-yolo-after"]
    });

    // The bundle made before the erasure opens nothing now.
    drop(node_a);
    drop(node_b);
    b.pass = Some(crate::support::PASS.to_string());
    let err = b.fails(&["bundle", "import", path(&bundle)]);
    assert!(!err.contains('\n'), "one line: {err}");
    assert_eq!(handles(&b), ["host-river", "host-yolo", "host-yolo-after"]);
}

#[test]
fn erase_refusals_are_one_line_in_spanish_too() {
    let a = Node::founder("River Refuge");
    let out = a
        .cmd(&["history", "erase", "--before", "2999-01-01"])
        .env("LANG", "es_MX.UTF-8")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let line = crate::support::one_error_line(&String::from_utf8_lossy(&out.stderr));
    assert!(line.contains("está en el futuro"), "{line}");
    let out = a
        .cmd(&["history", "erase", "--before", "ayer"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let line = crate::support::one_error_line(&String::from_utf8_lossy(&out.stderr));
    assert!(line.contains("--before"), "{line}");
}
