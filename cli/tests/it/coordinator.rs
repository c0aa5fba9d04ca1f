//! Rough edges a new coordinator hit: the tool and the guide agree with each other.

use crate::support::Node;

#[test]
fn whoami_and_status_agree_on_the_network() {
    let n = Node::init("River Refuge");
    let who = n.json(&["whoami"]);
    let status = n.json(&["status"]);
    assert_eq!(who["network"], serde_json::Value::Null, "{who}");
    assert_eq!(status["network"], serde_json::Value::Null, "{status}");
    let text = n.ok(&["whoami"]);
    assert!(text.contains("none yet"), "{text}");
    assert!(n.ok(&["status"]).contains("none yet"));

    n.ok(&["network", "create", "--name", "Valley Network"]);
    let who = n.json(&["whoami"]);
    let status = n.json(&["status"]);
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
