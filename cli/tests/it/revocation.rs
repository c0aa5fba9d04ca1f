//! Revocation with three real `puente run` nodes on loopback: only an admin revokes, never
//! silently the last admin; the revoked node is cut off and learns nothing new; the others
//! confirm with receipts; the command says what it cannot do and what was exposed; the audit
//! log shows it all as valid; queries hide the revoked organisation's offers unless asked.

use serde_json::Value;

use crate::daemon::Daemon;
use crate::network::{add_home, eventually, handles, handles_of};
use crate::support::{Node, hold_args};

#[test]
fn an_admin_revokes_a_partner_and_every_node_cuts_it_off() {
    let a = Node::founder("River Refuge");
    add_home(&a, "host-river");
    let mut node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    add_home(&b, "host-yolo");
    let c = Node::init("Placer Pride");
    add_home(&c, "host-placer");
    for (n, name) in [(&b, "Yolo Trans Health"), (&c, "Placer Pride")] {
        a.invite_and_join(n, name);
    }
    let node_b = Daemon::start(&b, "b");
    let node_c = Daemon::start(&c, "c");
    let all = ["host-placer", "host-river", "host-yolo"];
    eventually("every node sees every offer", || {
        handles(&a) == all && handles(&b) == all && handles(&c) == all
    });
    // Placer Pride holds River Refuge's room: the revoked partner can read that hold too.
    let river = c.hit("host-river");
    let hold = c.hold_whole_window(&river);
    // Without dates and without a terminal, a hold is refused rather than silently taking the
    // whole window; a second hold of the room's only place comes back overbooked, placed,
    // with exit status 3 (through the running node).
    let place = |extra: &[&str]| {
        let mut args = hold_args(&river);
        args.extend(extra);
        // Five minutes after the first hold: holds placed in the same second are ordered by
        // id, which would make either one the first.
        let out = c
            .cmd(&args)
            .env("PUENTE_NOW", "2026-11-23T09:05:00-08:00")
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = place(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--from DATE --to DATE"), "{stderr}");
    let (code, stdout, stderr) = place(&["--from", "+2d", "--to", "+4d"]);
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("(overbooked)"), "{stdout}");
    assert!(stderr.contains("the hold is overbooked"), "{stderr}");
    eventually("A sees the hold on its offer", || {
        a.json(&["hold", "list", "--on-mine"])
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["hold_id"] == hold.as_str()))
    });

    // A member cannot revoke another organisation; the only admin cannot silently revoke
    // itself. One line each, nothing changes.
    let err = c.fails(&["peer", "revoke", "Yolo Trans Health"]);
    assert!(err.contains("only an admin"), "{err}");
    let err = a.fails(&["peer", "revoke", "river refuge"]);
    assert!(
        err.contains("without an admin") && err.contains("nobody could invite or revoke"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    let err = a.fails(&["peer", "revoke", "nobody-here"]);
    assert!(err.contains("no organisation or device matches"), "{err}");

    // The admin revokes Yolo Trans Health while every node runs.
    let out = a.ok(&[
        "peer",
        "revoke",
        "yolo trans health",
        "--reason",
        "coordinator left",
    ]);
    for needle in [
        "Revoked \"Yolo Trans Health\" (organisation). Reason: coordinator left.",
        "refuses the revoked keys at once",
        "encrypted under a new key that the revoked party never receives",
        "cannot take back what the revoked party already synced",
        "offline keep trusting the revoked key until the revocation reaches them",
        "`puente peer revocations`",
        "cannot stop a partner that is still trusted from leaking",
        "Your node is sending the revocation",
        "Exposure report: what \"Yolo Trans Health\" could read when it was cut off",
        "errs on the side of including too much",
        "host-river",
        "host-placer",
        &hold[..8],
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert!(
        !out.contains("host-yolo"),
        "its own offers are not exposure:\n{out}"
    );
    let err = a.fails(&["peer", "revoke", "Yolo Trans Health"]);
    assert!(err.contains("already revoked"), "{err}");

    // Every remaining member device confirms; the others' status shows the revocation.
    eventually("A sees every remaining device confirm", || {
        let r = a.json(&["peer", "revocations"]);
        r[0]["missing"] == 0 && r[0]["devices"].as_array().map(Vec::len) == Some(2)
    });
    let r = a.json(&["peer", "revocations"]);
    assert_eq!(r[0]["target"]["name"], "Yolo Trans Health");
    assert_eq!(r[0]["by"]["name"], "River Refuge");
    assert_eq!(r[0]["reason"], "coordinator left");
    assert_eq!(r[0]["effective"], true);
    for d in r[0]["devices"].as_array().expect("devices") {
        assert_eq!(d["confirmed"], true, "{d}");
        assert!(d["epoch"].as_u64() >= Some(1), "{d}");
    }
    let text = a.ok(&["peer", "revocations"]);
    assert!(
        text.contains("Every remaining member device has confirmed"),
        "{text}"
    );
    eventually("C's status shows Yolo revoked", || {
        let s = c.status_json();
        s["revocations"][0]["target"]["name"] == "Yolo Trans Health"
            && s["members"].as_array().map(Vec::len) == Some(2)
    });
    let status = a.status();
    assert!(
        status.contains("Revoked: \"Yolo Trans Health\" (organisation)."),
        "{status}"
    );

    // The revoked node is cut off: what A writes now reaches C, never B, and B's new offer
    // reaches nobody.
    add_home(&b, "host-yolo-late");
    add_home(&a, "host-after");
    eventually("C sees A's new offer", || {
        handles(&c).contains(&"host-after".to_string())
    });
    let everything = ["query", "--kind", "host-home", "--include-revoked"];
    assert!(!handles_of(&b, &everything).contains(&"host-after".to_string()));
    assert!(!handles_of(&c, &everything).contains(&"host-yolo-late".to_string()));
    assert!(!handles_of(&a, &everything).contains(&"host-yolo-late".to_string()));

    // Queries and lists hide the revoked organisation's offers unless asked for.
    // (host-river's one room is held, so the query leaves it out.)
    assert_eq!(handles(&a), ["host-after", "host-placer"]);
    assert_eq!(
        handles_of(&a, &everything),
        ["host-after", "host-placer", "host-yolo"]
    );
    assert_eq!(
        handles_of(&c, &["offer", "list"]),
        ["host-after", "host-placer", "host-river"]
    );
    assert_eq!(
        handles_of(&c, &["offer", "list", "--include-revoked"]),
        ["host-after", "host-placer", "host-river", "host-yolo"]
    );

    // The audit log lists the revocation and the receipts, verified and valid.
    let log = a.json(&["audit", "log"]);
    let ops = log.as_array().expect("ops");
    assert_eq!(ops[0]["kind"], "create");
    assert!(
        ops.iter()
            .all(|o| o["signature_ok"] == true && o["parents_present"] == true)
    );
    let revoke: Vec<&Value> = ops.iter().filter(|o| o["kind"] == "revoke").collect();
    assert_eq!(revoke.len(), 1);
    assert_eq!(revoke[0]["verdict"], "valid");
    assert_eq!(revoke[0]["author_name"], "River Refuge");
    assert!(
        revoke[0]["what"]
            .as_str()
            .is_some_and(|w| w.contains("Yolo Trans Health") && w.contains("coordinator left")),
        "{}",
        revoke[0]
    );
    let receipts: Vec<&Value> = ops.iter().filter(|o| o["kind"] == "receipt").collect();
    assert!(receipts.len() >= 2, "{log}");
    assert!(receipts.iter().all(|r| r["verdict"] == "valid"));
    let text = a.ok(&["audit", "log"]);
    assert!(text.contains("Verified end to end"), "{text}");

    // The exposure report, again and for scripts.
    let e = a.json(&["audit", "exposure", "Yolo Trans Health"]);
    assert_eq!(e["revoked"], true);
    assert_eq!(e["errs_on_the_side_of_including_too_much"], true);
    let orgs = e["organisations"].as_array().expect("organisations");
    let names: Vec<&str> = orgs.iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(names, ["Placer Pride", "River Refuge"]);
    assert!(orgs.iter().all(|o| o["confirmed_at"].is_string()), "{e}");
    assert!(orgs[0]["holds"][0]["hold_id"] == hold.as_str(), "{e}");
    // Per record, by the key it was sealed under: what River wrote before the rotation is
    // listed, what it wrote under the new key is not.
    let river: Vec<&str> = orgs[1]["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .filter_map(|o| o["handle"].as_str())
        .collect();
    assert!(river.contains(&"host-river"), "{e}");
    assert!(
        !river.contains(&"host-after"),
        "sealed under the new key: {e}"
    );
    assert!(
        e["epochs_held"].as_array().is_some_and(|a| !a.is_empty()),
        "{e}"
    );

    // A lost laptop: the device alone is revoked; its organisation stays a member.
    let key = c.json(&["whoami"])["public_key"]
        .as_str()
        .expect("key")
        .to_string();
    let out = a.ok(&["device", "revoke", &key[..10], "--reason", "laptop lost"]);
    assert!(out.contains("Revoked device"), "{out}");
    assert!(out.contains("Placer Pride"), "{out}");
    let members = a.status_json()["members"].clone();
    assert!(
        members
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["name"] == "Placer Pride")),
        "{members}"
    );

    assert!(node_a.signal_and_wait("TERM").success());
    drop((node_b, node_c));
}

/// The device entries of the first revocation in `peer revocations`, by organisation name:
/// whether each has confirmed.
fn confirmed(n: &Node) -> Vec<(String, bool)> {
    let r = n.json(&["peer", "revocations"]);
    let mut out: Vec<(String, bool)> = r[0]["devices"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    (
                        d["name"].as_str().unwrap_or_default().to_string(),
                        d["confirmed"] == true,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn refused_connections(n: &Node) -> u64 {
    n.status_json()["refused_connections"]
        .as_u64()
        .expect("a running node reports refusals")
}

#[test]
fn a_revoked_node_keeps_dialling_and_an_offline_member_shows_as_missing_until_it_returns() {
    let a = Node::founder("River Refuge");
    let _node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    let c = Node::init("Placer Pride");
    let d = Node::init("Delta Shelter");
    for (n, name) in [
        (&b, "Yolo Trans Health"),
        (&c, "Placer Pride"),
        (&d, "Delta Shelter"),
    ] {
        a.invite_and_join(n, name);
    }
    // B and C run; D is offline.
    let _node_b = Daemon::start(&b, "b");
    let _node_c = Daemon::start(&c, "c");
    add_home(&c, "host-placer");
    eventually("A has C's offer", || {
        handles(&a).contains(&"host-placer".to_string())
    });

    a.ok(&[
        "peer",
        "revoke",
        "placer pride",
        "--reason",
        "laptop seized",
    ]);
    eventually("B confirms; D, offline, is not heard from", || {
        confirmed(&a)
            == [
                ("Delta Shelter".to_string(), false),
                ("River Refuge".to_string(), true),
                ("Yolo Trans Health".to_string(), true),
            ]
    });
    let r = a.json(&["peer", "revocations"]);
    assert_eq!(r[0]["missing"], 1, "{r}");
    let delta = r[0]["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == "Delta Shelter").cloned())
        .expect("D listed");
    assert!(delta["not_heard_from_since"].is_string(), "{delta}");
    let text = a.ok(&["peer", "revocations"]);
    assert!(
        text.contains("1 of 3 remaining member devices not heard from yet"),
        "{text}"
    );

    // C's `puente run` goes on dialling A, which refuses it again and again; C gets nothing.
    let before = refused_connections(&a);
    eventually("A refuses C's dials again and again", || {
        refused_connections(&a) >= before + 3
    });
    add_home(&a, "host-after");
    add_home(&c, "host-placer-late");
    let before = refused_connections(&a);
    eventually("A refuses C's dials after both wrote", || {
        refused_connections(&a) >= before + 2
    });
    let everything = ["offer", "list", "--include-revoked"];
    assert!(!handles_of(&c, &everything).contains(&"host-after".to_string()));
    assert!(!handles_of(&a, &everything).contains(&"host-placer-late".to_string()));
    // D comes back: it applies the revocation, confirms, and nobody is missing any more.
    let _node_d = Daemon::start(&d, "d");
    eventually("D confirms", || confirmed(&a).iter().all(|(_, ok)| *ok));
    let text = a.ok(&["peer", "revocations"]);
    assert!(
        text.contains("Every remaining member device has confirmed"),
        "{text}"
    );
    assert!(
        !handles_of(&d, &everything).contains(&"host-placer-late".to_string()),
        "D got C's late offer"
    );
}
