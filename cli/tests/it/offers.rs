//! The life of an offer: add, list, show, update, confirm, withdraw.

use crate::support::{Node, handles, last_line, strings};

#[test]
fn offer_lifecycle() {
    let mut n = Node::init("Yolo Trans Health");
    let out = n.ok(&[
        "offer",
        "add",
        "--kind",
        "host-home",
        "--handle",
        "host-7f3k",
        "--county",
        "06067",
        "--zone",
        "south-sac",
        "--lang",
        "es",
        "--lang",
        "en:conversational",
        "--accepts",
        "trans-women",
        "--affirming",
        "trans",
        "--window",
        "+2d..+30d=1",
        "--max-stay",
        "30d",
        "--label",
        "quiet room, bus line nearby",
    ]);
    let id = last_line(&out);
    assert_eq!(id.len(), 16, "the id is alone on the last line:\n{out}");
    assert!(out.lines().count() >= 2, "a confirmation precedes the id");

    let added = n.json(&[
        "offer",
        "add",
        "--kind",
        "accompany-court",
        "--handle",
        "court-team-1",
        "--county",
        "06067",
        "--window",
        "2026-11-26T13:00..2026-11-26T16:00=2/weekly",
    ]);
    let court = added["offer_id"].as_str().expect("offer_id").to_string();

    let list = n.ok(&["offer", "list", "--mine"]);
    assert!(
        list.contains("host-7f3k") && list.contains("court-team-1"),
        "{list}"
    );
    assert!(list.contains(&id[..8]), "{list}");

    // Defaults, windows with ids and availability, no holds.
    let show = n.json(&["offer", "show", &id]);
    assert_eq!(show["subject"], "household");
    assert_eq!(show["unit"], "room");
    assert_eq!(show["vetting"], "org-vetted");
    assert_eq!(show["status"], "capacity");
    assert_eq!(show["zone"], "south-sac");
    assert_eq!(show["max_stay"], "30d");
    assert_eq!(show["windows"][0]["available"], 1);
    assert_eq!(show["holds"], serde_json::json!([]));
    let court_show = n.ok(&["offer", "show", &court[..6]]);
    for want in ["org-program", "shift", "weekly", "WINDOW", "no holds"] {
        assert!(court_show.contains(want), "{want} in:\n{court_show}");
    }

    // Lists replace; windows are added and cancelled; the zone is cleared.
    n.ok(&[
        "offer",
        "update",
        &id,
        "--lang",
        "es",
        "--lang",
        "mam:relay-via-es",
        "--add-window",
        "+40d..+50d=2",
        "--clear-zone",
    ]);
    let show = n.json(&["offer", "show", &id]);
    assert_eq!(
        strings(&show, "languages"),
        ["es:fluent", "mam:relay-via-es"]
    );
    assert_eq!(show["zone"], serde_json::Value::Null);
    assert_eq!(show["windows"].as_array().expect("windows").len(), 2);
    let first = show["windows"][0]["window_id"]
        .as_str()
        .expect("window id")
        .to_string();
    n.ok(&["offer", "update", &id, "--cancel-window", &first[..6]]);

    // A day later: confirm renews freshness and expiry.
    n.now = "2026-11-24T09:00:00-08:00".into();
    n.ok(&["offer", "confirm", &id, "--expires-in", "7d"]);
    let show = n.json(&["offer", "show", &id]);
    assert_eq!(show["last_confirmed_at"], "2026-11-24T17:00:00Z");
    assert_eq!(show["expires_at"], "2026-12-01T17:00:00Z");
    let cancelled: Vec<bool> = show["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .filter(|w| w["window_id"] == first.as_str())
        .map(|w| w["cancelled"].as_bool().expect("bool"))
        .collect();
    assert_eq!(cancelled, [true]);

    // The mode matters: relay via Spanish is asked for and found.
    let hits = n.json(&["query", "--lang", "mam:relay-via-es"]);
    assert_eq!(handles(&hits), ["host-7f3k"]);

    // Withdrawal needs --yes without a terminal, then hides the offer for good.
    let e = n.fails(&["offer", "withdraw", &id]);
    assert!(e.contains("--yes"), "{e}");
    n.ok(&["offer", "withdraw", &id, "--yes"]);
    assert_eq!(n.ok(&["query", "--kind", "host-home"]), "no offers match\n");
    let hits = n.json(&["query", "--kind", "host-home", "--include-withdrawn"]);
    assert_eq!(hits[0]["withdrawn"], true);
    let e = n.fails(&["offer", "update", &id, "--label", "back again"]);
    assert!(e.contains("withdrawn"), "{e}");
    let e = n.fails(&["offer", "confirm", &id]);
    assert!(e.contains("withdrawn"), "{e}");
    let listed = n.ok(&["offer", "list"]);
    assert!(!listed.contains("host-7f3k"), "{listed}");

    // Holds: in a single-node store every offer is our own, so a hold is refused clearly.
    let e = n.fails(&["hold", "place", &court, "--window", "0000", "--qty", "1"]);
    assert!(e.contains("your own"), "{e}");
    assert_eq!(n.ok(&["hold", "list"]), "no holds\n");
}
