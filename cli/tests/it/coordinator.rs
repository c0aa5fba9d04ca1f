//! Rough edges a new coordinator hit: the tool and the guide agree with each other.

use crate::support::Node;

#[test]
fn whoami_and_status_agree_on_the_network() {
    let n = Node::init("River Refuge");
    let who = n.json(&["whoami"]);
    let status = n.status_json();
    assert_eq!(who["network"], serde_json::Value::Null, "{who}");
    assert_eq!(status["network"], serde_json::Value::Null, "{status}");
    let text = n.ok(&["whoami"]);
    assert!(text.contains("none yet"), "{text}");
    assert!(n.status().contains("none yet"));

    n.ok(&["network", "create", "--name", "Valley Network"]);
    let who = n.json(&["whoami"]);
    let status = n.status_json();
    assert!(who["network"].is_string(), "{who}");
    assert_eq!(who["network"], status["network"]);
}

#[test]
fn the_guide_does_not_say_roles_cannot_change() {
    let guide = include_str!("../../../docs/user-guide.md");
    assert!(
        !guide.contains("no command yet to change"),
        "the guide still says roles cannot be changed"
    );
    let help = Node::new().ok(&["peer", "role", "--help"]);
    assert!(help.contains("admin") && help.contains("member"), "{help}");
    assert!(guide.contains("puente peer role"));
}

#[test]
fn the_node_logs_what_an_operator_needs_and_nothing_sensitive() {
    use crate::daemon::Daemon;
    use crate::network::{add_home, eventually};

    let a = Node::founder("River Refuge");
    let mut node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    b.add(&[
        "--kind",
        "host-home",
        "--handle",
        "host-secret-9x",
        "--county",
        "06067",
        "--window",
        "+1d..+20d=1",
        "--label",
        "sunny attic room",
    ]);
    let b_key = b.json(&["whoami"])["public_key"]
        .as_str()
        .expect("a key")
        .to_string();
    let short: String = b_key.chars().take(8).collect();
    let mut node_b = Daemon::start(&b, "b");
    node_a.wait_for("A to log B's connection", |d| {
        d.stderr().contains("partner connected") && d.stderr().contains(&short)
    });
    eventually("A has B's offer", || {
        a.json(&["offer", "list"])
            .as_array()
            .is_some_and(|o| !o.is_empty())
    });

    a.ok(&["peer", "revoke", "yolo trans health", "--reason", "test"]);
    node_a.wait_for("A to log the revocation and refuse B", |d| {
        let log = d.stderr();
        log.contains("revocation applied") && log.contains("refused a connection")
    });
    add_home(&a, "host-after");
    let logs = [node_a.stderr(), node_b.stderr()];
    for log in &logs {
        for secret in ["host-secret-9x", "sunny attic room", "hotline", "06067"] {
            assert!(!log.contains(secret), "a log holds {secret:?}:\n{log}");
        }
        assert!(!log.contains(&b_key), "a whole key in a log:\n{log}");
    }
    assert!(logs[0].contains("INFO"), "{}", logs[0]);
    let _ = node_b.signal_and_wait("TERM");
}

#[test]
fn a_revoked_node_tells_its_user_who_revoked_it_and_when() {
    use crate::daemon::Daemon;
    use crate::network::eventually;

    let a = Node::founder("River Refuge");
    let mut node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    let mut node_b = Daemon::start(&b, "b");
    eventually("A and B in session", || {
        a.status_json()["members"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|m| m["devices"].as_array().into_iter().flatten())
            .any(|d| d["connected"] == true)
    });
    assert!(b.status_json()["revoked"].is_null());
    // B holds A's room; A's inbox asks A to answer it.
    crate::network::add_home(&a, "host-river");
    eventually("B sees A's offer", || {
        b.json(&["query", "--kind", "host-home"])
            .as_array()
            .is_some_and(|h| !h.is_empty())
    });
    b.hold_whole_window(&b.hit("host-river"));
    let to_answer = |n: &Node| {
        n.json(&["inbox"]).as_array().map_or(0, |rows| {
            rows.iter().filter(|r| r["what"] == "answer").count()
        })
    };
    eventually("A's inbox has B's hold to answer", || to_answer(&a) == 1);

    a.ok(&[
        "peer",
        "revoke",
        "yolo trans health",
        "--reason",
        "coordinator left",
    ]);
    // A's log shows on failure.
    node_a.wait_for("B's status to say it was revoked", |_| {
        !b.status_json()["revoked"].is_null()
    });
    // A revoked partner's hold waits for no answer: it leaves A's inbox.
    assert_eq!(to_answer(&a), 0, "{}", a.ok(&["inbox"]));
    let revoked = &b.status_json()["revoked"];
    assert_eq!(revoked["what"], "organisation", "{revoked}");
    assert_eq!(revoked["by_name"], "River Refuge", "{revoked}");
    assert_eq!(revoked["reason"], "coordinator left", "{revoked}");
    assert!(
        revoked["at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{revoked}"
    );
    let text = b.status();
    assert!(
        text.starts_with("REVOKED: Your organisation was revoked by \"River Refuge\""),
        "{text}"
    );

    // Writing there warns that partners will refuse it.
    let r = b.run(&[
        "offer",
        "add",
        "--kind",
        "host-home",
        "--handle",
        "host-late",
        "--county",
        "06067",
        "--window",
        "+1d..+20d=1",
    ]);
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.stderr.contains("warning: Your organisation was revoked"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("stays on this computer"), "{}", r.stderr);
    let _ = node_b.signal_and_wait("TERM");
}
