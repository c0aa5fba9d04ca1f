//! `puente relay` with the real binary on loopback: an admin's ticket admits the network, the
//! admin adds the relay, partners learn it, a change crosses the mailbox between two nodes that
//! never run at the same time, and bad input gets one line that says what to do.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::Daemon;
use crate::network::{add_home, eventually, handles};
use crate::support::{Node, files_under, one_error_line};

/// A `puente relay` process on loopback, stopped (SIGTERM) when dropped.
struct Relay {
    child: Child,
    dir: tempfile::TempDir,
}

impl Relay {
    #[track_caller]
    fn start(ticket: &str) -> (Relay, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("relay.out");
        let child = Command::new(env!("CARGO_BIN_EXE_puente"))
            .args([
                "relay",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--admit",
                ticket,
            ])
            .arg("--relay-dir")
            .arg(dir.path().join("data"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(Stdio::piped())
            .spawn()
            .expect("puente relay starts");
        let mut relay = Relay { child, dir };
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(line) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("puente relay add "))
            {
                return (relay, line.to_string());
            }
            if let Ok(Some(status)) = relay.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = relay.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("puente relay exited early ({status}): {err}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "relay did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn a_change_crosses_the_mailbox_between_partners_never_online_together() {
    let a = Node::founder("River Refuge");
    let ticket = a.ok(&["relay", "ticket"]);
    let (relay, addr) = Relay::start(ticket.trim());
    let added = a.ok(&["relay", "add", &addr]);
    assert!(added.contains("now uses relay"), "{added}");
    let node_a = Daemon::start(&a, "a");
    eventually("A holds a reservation on the relay", || {
        a.status_json()["relays"][0]["reserved"] == true
    });
    let b = Node::init("Yolo Trans Health");
    let token = a.ok(&["invite", "create", "--org", "Yolo Trans Health", "--yes"]);
    assert!(token.contains("puente-invite:"));
    b.ok(&["join", token.trim(), "--wait", "1m"]);
    // B learned the relay from the membership log at its join.
    let listed = b.json(&["relay", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // A writes and stops once its change is in the mailbox.
    add_home(&a, "mailbox-room");
    eventually("A deposited its change", || {
        let relay = &a.status_json()["relays"][0];
        relay["deposited"].as_u64().is_some_and(|n| n > 0) && relay["pending"] == 0
    });
    drop(node_a);

    // B starts later; A is not running; B knows no address of A's that works.
    let _node_b = Daemon::start(&b, "b");
    eventually("B sees A's change through the mailbox", || {
        handles(&b) == ["mailbox-room"]
    });
    let status = b.status_json();
    assert!(
        status["relays"][0]["collected"].as_u64().unwrap_or(0) > 0,
        "{status}"
    );

    // The relay's files hold none of it in the clear.
    for (entry, bytes) in files_under(relay.dir.path()) {
        for canary in [
            "mailbox-room",
            "River Refuge",
            "Yolo Trans Health",
            "Valley Network",
        ] {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{canary} in {}",
                entry.display()
            );
        }
    }
}

#[test]
fn relay_commands_refuse_bad_input_with_one_line() {
    let a = Node::init("River Refuge");
    // No network yet.
    let err = a.fails(&["relay", "ticket"]);
    assert!(err.contains("network"), "{err}");
    a.ok(&["network", "create", "--name", "Valley Network"]);
    // Not a relay address.
    let err = a.fails(&["relay", "add", "/ip4/127.0.0.1/tcp/4738"]);
    assert!(err.contains("/p2p/"), "{err}");
    let err = a.fails(&["relay", "add", "nonsense"]);
    assert_eq!(one_error_line(&err), err.trim());
    let err = a.fails(&["relay", "remove", "12D3"]);
    assert!(err.contains("relay list"), "{err}");
    // A damaged ticket at the relay: one line, nothing started.
    let out = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args([
            "relay",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--admit",
            "puente-relay:AAAA",
        ])
        .arg("--relay-dir")
        .arg(a.scratch().join("relay"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A member that is not an admin cannot choose relays.
    let ticket = a.ok(&["relay", "ticket"]);
    let (_relay, addr) = Relay::start(ticket.trim());
    let b = Node::init("Yolo Trans Health");
    let _node_a = Daemon::start(&a, "a");
    a.invite_and_join(&b, "Yolo Trans Health");
    let err = b.fails(&["relay", "add", &addr]);
    assert!(err.contains("admin"), "{err}");
    let err = b.fails(&["relay", "ticket"]);
    assert!(err.contains("admin"), "{err}");
}
