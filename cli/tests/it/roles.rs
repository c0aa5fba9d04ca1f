//! Changing roles with real `puente run` nodes on loopback: an admin makes a partner an admin
//! and steps down; the role reaches the partner's node; a member cannot change roles; the last
//! admin cannot step down without --yes.

use serde_json::Value;

use crate::daemon::Daemon;
use crate::network::eventually;
use crate::support::Node;

/// The role `n`'s status gives the organisation `name`.
fn role_of(n: &Node, name: &str) -> Option<String> {
    let status = n.status_json();
    status["members"].as_array().and_then(|m| {
        m.iter()
            .find(|m| m["name"] == name)
            .and_then(|m| m["role"].as_str().map(str::to_string))
    })
}

#[test]
fn an_admin_hands_over_and_the_last_admin_cannot_step_down_silently() {
    let a = Node::founder("River Refuge");
    let node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    let node_b = Daemon::start(&b, "b");
    assert_eq!(role_of(&b, "Yolo Trans Health").as_deref(), Some("member"));

    // A member cannot change roles.
    let err = b.fails(&["peer", "role", "Yolo Trans Health", "admin"]);
    assert!(err.contains("only an admin"), "{err}");
    // The only admin cannot step down without --yes.
    let err = a.fails(&["peer", "role", "River Refuge", "member"]);
    assert!(
        err.contains("without an admin") && err.contains("--yes"),
        "{err}"
    );
    // A device key is not an organisation.
    let key = b.json(&["whoami"])["public_key"]
        .as_str()
        .expect("key")
        .to_string();
    let err = a.fails(&["peer", "role", &key[..10], "admin"]);
    assert!(err.contains("belongs to an organisation"), "{err}");

    let out = a.ok(&["peer", "role", "yolo trans health", "admin"]);
    assert!(out.contains("is now an admin"), "{out}");
    eventually("B's node learns it is an admin", || {
        role_of(&b, "Yolo Trans Health").as_deref() == Some("admin")
    });
    let err = a.fails(&["peer", "role", "Yolo Trans Health", "admin"]);
    assert!(err.contains("already an admin"), "{err}");
    // Now A can step down without --yes, and B, the last admin, cannot.
    let v: Value = a.json(&["peer", "role", "River Refuge", "member"]);
    assert_eq!(v["role"], "member");
    assert_eq!(v["left_without_admin"], false);
    eventually("B sees A step down", || {
        role_of(&b, "River Refuge").as_deref() == Some("member")
    });
    let err = b.fails(&["peer", "role", "Yolo Trans Health", "member"]);
    assert!(err.contains("without an admin"), "{err}");
    // The history shows both changes, verified.
    let log = b.json(&["audit", "log"]);
    let roles = log
        .as_array()
        .expect("ops")
        .iter()
        .filter(|o| o["kind"] == "set-role" && o["verdict"] == "valid")
        .count();
    assert_eq!(roles, 2, "{log}");
    drop((node_a, node_b));
}
