//! A network of real `puente` processes on loopback: create, invite, join, change, and see the
//! change on the other node; the phrase check before confirming; tokens that must not work.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::Daemon;
use crate::support::{Node, PASS};

const DEADLINE: Duration = Duration::from_secs(60);

/// Waits until `cond` holds, failing with `what` after [`DEADLINE`].
#[track_caller]
pub(crate) fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The handles of the host homes a query on `n` finds, sorted.
pub(crate) fn handles(n: &Node) -> Vec<String> {
    handles_of(n, &["query", "--kind", "host-home"])
}

/// The handles of the offers the command `args` lists on `n` (as JSON), sorted.
pub(crate) fn handles_of(n: &Node, args: &[&str]) -> Vec<String> {
    let mut h: Vec<String> = n
        .json(args)
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|o| o["handle"].as_str().map(str::to_string))
        .collect();
    h.sort();
    h
}

pub(crate) fn add_home(n: &Node, handle: &str) {
    n.add(&[
        "--kind",
        "host-home",
        "--handle",
        handle,
        "--county",
        "06067",
        "--lang",
        "es",
        "--window",
        "+1d..+20d=1",
    ]);
}

#[test]
fn partners_create_invite_join_and_see_each_others_changes() {
    let a = Node::init("River Refuge");
    let created = a.ok(&["network", "create", "--name", "Valley Network"]);
    assert!(created.contains("Valley Network"), "{created}");
    add_home(&a, "host-river");
    let mut node_a = Daemon::start(&a, "a");

    // A bad token and a token for nobody: one clear line each, nothing changes.
    let b = Node::init("Yolo Trans Health");
    add_home(&b, "host-yolo");
    let err = b.fails(&["join", "puente-invite:AAAA"]);
    assert!(err.contains("not a complete puente invitation"), "{err}");

    // Invite B with --yes (as a script would): the token is the only line on stdout.
    let token = a.ok(&["invite", "create", "--org", "Yolo Trans Health", "--yes"]);
    let token = token.trim().to_string();
    assert!(token.starts_with("puente-invite:"), "{token}");
    assert!(
        token.len() < 240,
        "short enough to paste: {} chars",
        token.len()
    );
    let joined = b.ok(&["join", &token, "--wait", "1m"]);
    assert!(
        joined.contains("Joined network \"Valley Network\""),
        "{joined}"
    );
    let node_b = Daemon::start(&b, "b");

    // Each sees the other's offer published before joining, through the running nodes.
    let both = ["host-river", "host-yolo"];
    eventually("A sees B's offer", || handles(&a) == both);
    eventually("B sees A's offer", || handles(&b) == both);
    // A change on one node reaches the other while both run.
    add_home(&b, "host-yolo-2");
    eventually("A sees B's new offer", || {
        handles(&a) == ["host-river", "host-yolo", "host-yolo-2"]
    });
    let status = a.status_json();
    assert_eq!(status["network_name"], "Valley Network");
    assert_eq!(status["members"].as_array().map(Vec::len), Some(2));
    let peers = a.json(&["peer", "list"]);
    assert_eq!(peers[0]["name"], "Yolo Trans Health");
    assert_eq!(peers[0]["connected"], true);

    // The token is spent: a third organisation cannot use it.
    let c = Node::init("Placer Pride");
    let r = c.run(&["join", &token, "--wait", "1m"]);
    assert!(!r.ok);
    let err = r.stderr.lines().last().unwrap_or_default();
    assert!(
        err.starts_with("error: ") && err.contains("used"),
        "{}",
        r.stderr
    );

    // Without --yes, C joins only after A compares the phrase and confirms.
    let token = a
        .ok(&["invite", "create", "--org", "Placer Pride"])
        .trim()
        .to_string();
    let err_path = c.scratch().join("join.err");
    let mut joining = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["join", &token, "--wait", "1m"])
        .env("PUENTE_DATA_DIR", &c.data)
        .env("PUENTE_NOW", &c.now)
        .env("PUENTE_PASSPHRASE", PASS)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("join starts");
    let mut phrase = String::new();
    eventually("A sees C waiting with a phrase", || {
        let list = a.json(&["invite", "list"]);
        let waiting = list.as_array().and_then(|l| {
            l.iter()
                .find(|i| i["state"] == "waiting for confirmation")
                .cloned()
        });
        if let Some(i) = waiting {
            phrase = i["phrase"].as_str().unwrap_or_default().to_string();
        }
        !phrase.is_empty()
    });
    // C prints its phrase when the inviter's answer arrives, which may be a moment after A
    // recorded the request.
    let expected = format!("Safety phrase: {phrase}");
    eventually("C shows the same phrase as A", || {
        std::fs::read_to_string(&err_path).is_ok_and(|shown| shown.contains(&expected))
    });
    assert_eq!(
        a.status_json()["members"].as_array().map(Vec::len),
        Some(2),
        "nobody is admitted before confirmation"
    );
    let list = a.json(&["invite", "list"]);
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["phrase"] == phrase.as_str()))
        .and_then(|i| i["id"].as_str())
        .expect("the waiting invitation")
        .to_string();
    a.ok(&["invite", "confirm", &id]);
    let mut status = None;
    eventually("C's join finishes", || {
        status = joining.try_wait().expect("try_wait");
        status.is_some()
    });
    assert!(status.expect("exited").success(), "join failed");
    assert_eq!(a.status_json()["members"].as_array().map(Vec::len), Some(3));

    assert!(node_a.signal_and_wait("TERM").success());
    drop(node_b);
}

#[test]
fn a_bundle_carries_offers_to_a_partner_without_a_connection() {
    let a = Node::founder("River Refuge");
    let mut node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    assert!(node_a.signal_and_wait("TERM").success());

    // Both offline from here on: A publishes, and carries the change over on a "USB stick".
    add_home(&a, "host-by-usb");
    let file = b.scratch().join("for-yolo.puente");
    let file = file.to_str().expect("UTF-8 path");
    let wrote = a.ok(&["bundle", "export", "--for", "yolo trans health", file]);
    assert!(wrote.contains("for \"Yolo Trans Health\""), "{wrote}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(file).expect("written").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let err = a.fails(&["bundle", "export", "--all", file]);
    assert!(err.contains("already exists"), "{err}");
    let bytes = std::fs::read(file).expect("readable");
    assert!(
        !bytes.windows(11).any(|w| w == b"host-by-usb"),
        "no plaintext in the bundle"
    );

    let report = b.json(&["bundle", "import", file]);
    assert!(report["envelopes_applied"].as_u64() > Some(0), "{report}");
    assert_eq!(handles(&b), ["host-by-usb"]);
    let again = b.json(&["bundle", "import", file]);
    assert_eq!(
        again["envelopes_applied"], 0,
        "importing twice changes nothing"
    );

    // A damaged bundle is refused whole, in one line, and changes nothing.
    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 1;
    let bad = b.scratch().join("damaged.puente");
    std::fs::write(&bad, &damaged).expect("written");
    let before = b.state();
    let err = b.fails(&["bundle", "import", bad.to_str().expect("UTF-8")]);
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(b.state(), before);
    let err = b.fails(&["bundle", "import", "/nonexistent/bundle.puente"]);
    assert!(err.contains("cannot read"), "{err}");
}
