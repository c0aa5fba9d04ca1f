//! A second device of an organisation, with real `puente run` nodes on loopback: `device add`
//! on the organisation's node, `init --device` and `join` on the new laptop (phrase on both
//! sides, then `invite confirm`); the laptop reads and updates the organisation's offers and a
//! partner sees the update; the wrong kind of invitation is refused before anything is sent;
//! then the laptop is revoked and the organisation, its offers and its first device go on.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::daemon::Daemon;
use crate::network::{add_home, eventually, handles};
use crate::support::{Node, PASS};

/// The offer with `handle` in `n`'s store, expired and withdrawn ones included.
fn offer(n: &Node, handle: &str) -> Option<Value> {
    n.offers().into_iter().find(|o| o["handle"] == handle)
}

#[test]
fn a_second_device_continues_its_organisation_and_is_revoked_when_lost() {
    // River Refuge founds the network and invites Yolo Trans Health.
    let a = Node::founder("River Refuge");
    add_home(&a, "host-river");
    let mut node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    add_home(&b, "host-yolo");
    a.invite_and_join(&b, "Yolo Trans Health");
    let node_b = Daemon::start(&b, "b");
    let org_a = a.json(&["whoami"])["org"]
        .as_str()
        .expect("org id")
        .to_string();

    // The new laptop: a store that waits to join, and says what to do next.
    let a2 = Node::new();
    let out = a2.ok(&["init", "--device"]);
    for needle in ["new device", "puente device add", "puente join TOKEN"] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    let me = a2.json(&["whoami"]);
    assert_eq!(me["device_pending"], true, "{me}");
    let err = a2.fails(&["init", "--device"]);
    assert!(
        err.contains("already holds puente data") && err.contains("--data-dir"),
        "{err}"
    );
    let err = a2.fails(&["device", "add", "--address", "/ip4/127.0.0.1/tcp/9"]);
    assert!(err.contains("has not joined its organisation"), "{err}");

    // The wrong kind of invitation is refused on either side before anything is sent: the
    // tokens stay usable by the right store.
    let org_token = a
        .ok(&["invite", "create", "--org", "Placer Pride"])
        .trim()
        .to_string();
    let err = a2.fails(&["join", &org_token, "--wait", "1m"]);
    assert!(
        err.contains("for a new organisation") && err.contains("`puente device add`"),
        "{err}"
    );
    let device_token = a.ok(&["device", "add"]).trim().to_string();
    assert!(device_token.starts_with("puente-invite:"), "{device_token}");
    let c = Node::init("Placer Pride");
    let err = c.fails(&["join", &device_token, "--wait", "1m"]);
    assert!(
        err.contains("adds a device") && err.contains("`puente init --device`"),
        "{err}"
    );
    let list = a.json(&["invite", "list"]);
    for org in ["Placer Pride", "River Refuge"] {
        let inv = list
            .as_array()
            .and_then(|l| l.iter().find(|i| i["org"] == org))
            .expect("listed");
        assert_eq!(inv["state"], "open", "no refused join reached A: {inv}");
    }

    // The laptop joins with the device token; both sides show the same phrase, and the
    // coordinator confirms.
    let err_path = a2.scratch().join("join.err");
    let out_path = a2.scratch().join("join.out");
    let mut joining = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["join", &device_token, "--wait", "1m"])
        .env("PUENTE_DATA_DIR", &a2.data)
        .env("PUENTE_NOW", &a2.now)
        .env("PUENTE_PASSPHRASE", PASS)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("join starts");
    let mut waiting = Value::Null;
    eventually("A sees the laptop waiting with a phrase", || {
        let list = a.json(&["invite", "list"]);
        if let Some(i) = list.as_array().and_then(|l| {
            l.iter()
                .find(|i| i["state"] == "waiting for confirmation")
                .cloned()
        }) {
            waiting = i;
        }
        !waiting.is_null()
    });
    assert_eq!(waiting["kind"], "device", "{waiting}");
    assert_eq!(waiting["org"], "River Refuge", "{waiting}");
    let phrase = waiting["phrase"].as_str().expect("phrase").to_string();
    // The laptop prints its phrase when A's answer arrives, a moment after A recorded it.
    let expected = format!("Safety phrase: {phrase}");
    eventually("the laptop shows the same phrase as A", || {
        std::fs::read_to_string(&err_path).is_ok_and(|shown| shown.contains(&expected))
    });
    let listed = a.ok(&["invite", "list"]);
    assert!(listed.contains("device"), "{listed}");
    let confirmed = a.ok(&["invite", "confirm", waiting["id"].as_str().expect("id")]);
    assert!(
        confirmed.contains("is now a device of \"River Refuge\""),
        "{confirmed}"
    );
    let mut status = None;
    eventually("the laptop's join finishes", || {
        status = joining.try_wait().expect("try_wait");
        status.is_some()
    });
    let joined = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(
        status.expect("exited").success(),
        "join failed:\n{joined}{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    assert!(
        joined.contains("Joined network \"Valley Network\"")
            && joined.contains("as a device of \"River Refuge\""),
        "{joined}"
    );

    // The laptop writes for River Refuge, and says so.
    let me = a2.json(&["whoami"]);
    assert_eq!(me["org"], org_a.as_str(), "{me}");
    assert_eq!(me["name"], "River Refuge", "{me}");
    assert_eq!(me["device_pending"], false, "{me}");
    assert_eq!(me["waiting_for_key"], false, "an admin added it: {me}");
    assert_eq!(me["devices"].as_array().map(Vec::len), Some(2), "{me}");
    let key2 = me["public_key"].as_str().expect("key").to_string();
    let whoami = a2.ok(&["whoami"]);
    assert!(whoami.contains("2, this one and 1 more"), "{whoami}");
    let node_a2 = Daemon::start(&a2, "a2");
    let status = a2.status_json();
    assert_eq!(status["organisation"], "River Refuge", "{status}");
    assert_eq!(status["devices"].as_array().map(Vec::len), Some(2));

    // It sees its organisation's and its partner's offers, and updates River Refuge's.
    eventually("the laptop sees every offer", || {
        handles(&a2) == ["host-river", "host-yolo"]
    });
    let river = offer(&a2, "host-river").expect("host-river");
    assert_eq!(river["owner"], org_a.as_str());
    a2.ok(&[
        "offer",
        "update",
        river["offer_id"].as_str().expect("offer id"),
        "--label",
        "updated from the laptop",
    ]);
    eventually("B sees the laptop's update of A's offer", || {
        offer(&b, "host-river").is_some_and(|o| o["label"] == "updated from the laptop")
    });
    eventually("A sees it too", || {
        offer(&a, "host-river").is_some_and(|o| o["label"] == "updated from the laptop")
    });
    let devices = a.json(&["device", "list"]);
    let rows = devices.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{devices}");
    assert!(
        rows.iter().any(|d| d["key"] == key2.as_str()
            && d["this_device"] == false
            && d["revoked"] == false),
        "{devices}"
    );

    // The laptop is lost: River Refuge's first device revokes it.
    let out = a.ok(&["device", "revoke", &key2[..10], "--reason", "laptop lost"]);
    assert!(
        out.contains("Revoked device") && out.contains("River Refuge"),
        "{out}"
    );
    let devices = a.json(&["device", "list"]);
    let lost = devices
        .as_array()
        .and_then(|d| d.iter().find(|d| d["key"] == key2.as_str()).cloned())
        .expect("the laptop is still listed");
    assert_eq!(lost["revoked"], true, "{lost}");
    assert_eq!(lost["reason"], "laptop lost", "{lost}");
    assert!(a.ok(&["device", "list"]).contains("revoked"));

    // What the laptop writes now goes nowhere; what A writes reaches B and not the laptop.
    add_home(&a2, "host-stolen");
    add_home(&a, "host-after");
    eventually("B sees A's offer written after the revocation", || {
        handles(&b).contains(&"host-after".to_string())
    });
    eventually("B has applied the revocation", || {
        let s = b.status_json();
        s["members"].as_array().is_some_and(|m| {
            m.iter().any(|m| {
                m["org"] == org_a.as_str() && m["devices"].as_array().map(Vec::len) == Some(1)
            })
        })
    });
    eventually("the laptop is no longer connected to A", || {
        let s = a2.status_json();
        s["members"].as_array().is_some_and(|m| {
            m.iter()
                .flat_map(|m| m["devices"].as_array().cloned().unwrap_or_default())
                .all(|d| d["connected"] == false)
        })
    });
    assert!(!handles(&a).contains(&"host-stolen".to_string()));
    assert!(!handles(&b).contains(&"host-stolen".to_string()));
    assert!(!handles(&a2).contains(&"host-after".to_string()));

    // River Refuge, its offers (the laptop's update included) and its first device go on.
    assert_eq!(handles(&b), ["host-after", "host-river", "host-yolo"]);
    assert_eq!(
        offer(&b, "host-river").map(|o| o["label"].clone()),
        Some(Value::from("updated from the laptop"))
    );
    let s = b.status_json();
    assert!(
        s["members"].as_array().is_some_and(|m| m
            .iter()
            .any(|m| m["name"] == "River Refuge" && m["role"] == "admin")),
        "{s}"
    );
    let me = a.json(&["whoami"]);
    assert_eq!(me["devices"].as_array().map(Vec::len), Some(1), "{me}");

    assert!(node_a.signal_and_wait("TERM").success());
    drop((node_b, node_a2));
}
