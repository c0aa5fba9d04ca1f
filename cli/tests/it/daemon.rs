//! `puente run` and its control socket, with the real binary: commands typed while a node
//! runs go through the node without a passphrase, the socket is private, a second node is
//! refused, bad requests do not hurt the node, SIGTERM stops it cleanly, and a leftover socket
//! never blocks the direct path.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::queries::FIXTURE;
use crate::support::{Node, one_error_line};

/// Generous: a node starts in well under a second, but a loaded two-core CI machine is slow.
const DEADLINE: Duration = Duration::from_secs(60);

/// How often a condition is checked while waiting for it.
const POLL: Duration = Duration::from_millis(50);

/// A `puente run` child process, killed when dropped so that none outlives its test.
pub(crate) struct Daemon {
    child: Child,
    socket: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Daemon {
    /// Starts `puente run` on loopback (any free port) and waits until its socket answers.
    #[track_caller]
    pub(crate) fn start(n: &Node, name: &str) -> Daemon {
        Daemon::start_with(n, name, &[], "Ctrl-C")
    }

    /// [`Daemon::start`] with more arguments, ready once its stdout contains `ready`.
    #[track_caller]
    pub(crate) fn start_with(n: &Node, name: &str, more: &[&str], ready: &str) -> Daemon {
        let stdout = n.scratch().join(format!("{name}.out"));
        let stderr = n.scratch().join(format!("{name}.err"));
        let mut c = Command::new(env!("CARGO_BIN_EXE_puente"));
        c.args(["run", "--listen", "/ip4/127.0.0.1/tcp/0"])
            .args(more)
            .env("PUENTE_DATA_DIR", &n.data)
            .env("PUENTE_NOW", &n.now)
            .env("PUENTE_PASSPHRASE", crate::support::PASS)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .env_remove("RUST_LOG")
            .env_remove("XDG_DATA_HOME")
            .env_remove("PUENTE_CONFIG")
            .env("XDG_CONFIG_HOME", n.scratch())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        let mut d = Daemon {
            child: c.spawn().expect("puente run starts"),
            socket: n.data.join("puente.sock"),
            stdout,
            stderr,
        };
        let socket = d.socket.clone();
        // The socket answers a moment before the node prints its start lines.
        d.wait_for("the control socket to answer and the start lines", |d| {
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("puente run exited early ({status}):\n{}", d.stderr());
            }
            UnixStream::connect(&socket).is_ok() && d.stdout().contains(ready)
        });
        d
    }

    pub(crate) fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until `ready` holds, failing after [`DEADLINE`].
    #[track_caller]
    pub(crate) fn wait_for(&mut self, what: &str, mut ready: impl FnMut(&mut Daemon) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}; stdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Sends `signal` (a name for kill(1)) and waits for the process to exit.
    #[track_caller]
    pub(crate) fn signal_and_wait(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(ok.success(), "kill -{signal} {pid} failed");
        let mut status = None;
        self.wait_for("puente run to exit", |d| {
            status = d.child.try_wait().expect("try_wait");
            status.is_some()
        });
        status.expect("exited")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Sends raw bytes on the socket and returns everything the node answers before closing.
/// When the node closes without reading all of a request (an oversized one), the kernel resets
/// the connection and its answer may be lost: that still counts as closed.
fn raw(socket: &PathBuf, bytes: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(socket).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the node did not close the connection: {e}"),
    }
    out
}

/// The JSON of the last frame in `bytes`.
fn last_frame(bytes: &[u8]) -> serde_json::Value {
    let mut rest = bytes;
    let mut last = serde_json::Value::Null;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        last = serde_json::from_slice(&rest[4..4 + len]).expect("a JSON frame");
        rest = &rest[4 + len..];
    }
    last
}

#[test]
fn commands_go_through_a_running_node() {
    let mut n = Node::init("River Refuge");
    let mut d = Daemon::start(&n, "node");

    let out = d.stdout();
    assert!(out.contains("River Refuge"), "{out}");
    assert!(out.contains("Listening on /ip4/127.0.0.1/tcp/"), "{out}");
    assert!(out.contains(&d.socket.display().to_string()), "{out}");
    assert!(out.contains("Ctrl-C"), "{out}");
    let meta = std::fs::metadata(&d.socket).expect("the socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // No passphrase anywhere: only the node can have served these.
    n.pass = None;
    let id = n.add(&[
        "--kind",
        "host-home",
        "--handle",
        "host-7f3k",
        "--county",
        "06067",
        "--window",
        "+2d..+30d=1",
    ]);
    let hits = n.ok(&["query", "--kind", "host-home"]);
    assert!(
        hits.contains("host-7f3k") && hits.contains(&id[..8]),
        "{hits}"
    );
    let listed = n.json(&["offer", "list"]);
    assert_eq!(listed[0]["offer_id"], id.as_str(), "{listed}");

    // A relative path is the client's, not the node's.
    std::fs::write(n.scratch().join("offers.csv"), FIXTURE).expect("write fixture");
    let r = n
        .cmd(&["import", "offers.csv"])
        .current_dir(n.scratch())
        .output()
        .expect("runs");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("from offers.csv"));

    // Failures are one line with the node's exit status; the confirmation rule holds.
    let line = n.fails(&["offer", "withdraw", &id]);
    assert!(line.contains("add --yes"), "{line}");
    let line = n.fails(&["offer", "show", "zzzzzzzz"]);
    assert!(line.contains("no offer matches"), "{line}");
    let r = n.run(&["init", "--org", "Again"]);
    assert_eq!(r.code, Some(1));
    one_error_line(&r.stderr);

    // A second node on the same directory is refused, in one line naming it.
    n.pass = Some(crate::support::PASS.to_string());
    let line = n.fails(&["run", "--listen", "/ip4/127.0.0.1/tcp/0"]);
    assert!(
        line.contains("already running") && line.contains(&n.data.display().to_string()),
        "{line}"
    );
    n.pass = None;

    // Garbage, an oversized length prefix and a silent client each end their connection
    // only.
    let mut garbage = 5u32.to_be_bytes().to_vec();
    garbage.extend_from_slice(b"xxxxx");
    assert_eq!(last_frame(&raw(&d.socket, &garbage))["exit"], 2);
    let answer = raw(&d.socket, &[0xff, 0xff, 0xff, 0xff, b'{']);
    assert!(answer.is_empty() || last_frame(&answer)["exit"] == 2);
    assert!(raw(&d.socket, b"").is_empty());
    let unknown = serde_json::json!({"version": 99, "args": ["query"], "cwd": "/", "now": 0});
    let body = serde_json::to_vec(&unknown).expect("json");
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    assert_eq!(last_frame(&raw(&d.socket, &frame))["exit"], 2);
    n.ok(&["offer", "withdraw", &id, "--yes"]);

    // SIGTERM: a clean stop, the socket gone, everything on disk.
    let status = d.signal_and_wait("TERM");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", d.stderr());
    assert!(!d.socket.exists(), "the socket is removed on a clean stop");
    assert!(d.stdout().contains("Stopped"), "{}", d.stdout());
    n.pass = Some(crate::support::PASS.to_string());
    let offers = n.offers();
    let ours = offers
        .iter()
        .find(|o| o["offer_id"] == id.as_str())
        .expect("the offer made through the node is in the store");
    assert_eq!(ours["withdrawn"], true);
    assert!(offers.len() > 1, "the import went to the store too");
}

#[test]
fn a_leftover_socket_does_not_block_direct_commands() {
    let n = Node::init("Placer Pride");
    let socket = n.data.join("puente.sock");

    // A plain file by that name.
    std::fs::write(&socket, b"").expect("write");
    n.ok(&["offer", "list"]);

    // A socket nobody listens on (what kill -9 leaves behind).
    std::fs::remove_file(&socket).expect("remove");
    drop(UnixListener::bind(&socket).expect("bind"));
    assert!(socket.exists());
    n.add(&[
        "--kind",
        "bond-fund",
        "--handle",
        "bond-a",
        "--county",
        "06067",
    ]);

    // A node replaces it, and a node killed without cleaning up leaves it behind harmlessly.
    let mut d = Daemon::start(&n, "node");
    let status = d.signal_and_wait("KILL");
    assert!(!status.success());
    assert!(socket.exists(), "kill -9 leaves the socket");
    let list = n.ok(&["offer", "list"]);
    assert!(list.contains("bond-a"), "{list}");
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let n = Node::init("Sac Accompaniment");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let line = n.fails(&["run", "--listen", &format!("/ip4/127.0.0.1/tcp/{port}")]);
    assert!(
        line.contains("in use") && line.contains("--listen"),
        "{line}"
    );
    assert!(!n.data.join("puente.sock").exists());
}

#[test]
fn a_second_node_on_a_port_a_node_listens_on_is_refused() {
    let first = Node::init("River Refuge");
    let second = Node::init("Yolo Trans Health");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.local_addr().expect("addr").port()
    };
    let listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let mut c = Command::new(env!("CARGO_BIN_EXE_puente"));
    c.args(["run", "--listen", &listen])
        .env("PUENTE_DATA_DIR", &first.data)
        .env("PUENTE_NOW", &first.now)
        .env("PUENTE_PASSPHRASE", crate::support::PASS)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut d = Daemon {
        child: c.spawn().expect("puente run starts"),
        socket: first.data.join("puente.sock"),
        stdout: first.scratch().join("unused.out"),
        stderr: first.scratch().join("unused.err"),
    };
    let socket = d.socket.clone();
    d.wait_for("the first node to listen", |_| {
        UnixStream::connect(&socket).is_ok()
    });
    let line = second.fails(&["run", "--listen", &listen]);
    assert!(
        line.contains("already in use") && line.contains("--listen"),
        "{line}"
    );
    assert!(!second.data.join("puente.sock").exists());
    // The first node still answers.
    assert!(UnixStream::connect(&socket).is_ok());
}

/// A request frame for `args`, as the client writes it.
fn request(args: &[&str], now: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&serde_json::json!({
        "version": 1,
        "args": args,
        "cwd": "/",
        "now": now.parse::<jiff::Timestamp>().expect("PUENTE_NOW is RFC 3339").as_second(),
    }))
    .expect("json");
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

#[test]
fn idle_and_non_reading_clients_do_not_lock_other_commands_out() {
    let mut n = Node::init("River Refuge");
    // Enough offers that an export does not fit in the socket's buffers: a client that never
    // reads it leaves the node's write waiting.
    let mut csv = String::from(
        "handle,kind,subject,counties,languages,accepts,unit,windows,vetting,expires_in,label\n",
    );
    for i in 0..1500 {
        csv.push_str(&format!(
            "room-{i:04},host-home,household,06067,es;en,trans-women,room,+1d..+20d=1,org-vetted,14d,a quiet room with its own door\n"
        ));
    }
    let file = n.scratch().join("many.csv");
    std::fs::write(&file, csv).expect("write the offers");
    n.ok(&["import", file.to_str().expect("utf-8")]);
    let d = Daemon::start(&n, "node");
    n.pass = None;

    // 200 clients that connect and say nothing.
    let idle: Vec<UnixStream> = (0..200)
        .map(|_| UnixStream::connect(&d.socket).expect("connect"))
        .collect();
    let started = Instant::now();
    let status = n.status();
    assert!(status.contains("River Refuge"), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "status waited {:?} behind idle connections",
        started.elapsed()
    );

    // 20 clients that ask for a large export and never read the answer.
    let export = request(&["export", "--format", "json"], &n.now);
    let stuck: Vec<UnixStream> = (0..20)
        .map(|_| {
            let mut s = UnixStream::connect(&d.socket).expect("connect");
            s.write_all(&export).expect("send the request");
            s
        })
        .collect();
    // Give the node time to run those exports and block writing them.
    std::thread::sleep(Duration::from_secs(2));
    let status = n.status();
    assert!(status.contains("River Refuge"), "{status}");
    let hits = n.json(&["query", "--kind", "host-home"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(1500));
    drop(idle);
    drop(stuck);
    let status = n.status();
    assert!(status.contains("River Refuge"), "{status}");
}

#[test]
fn events_follow_streams_what_needs_a_person_and_run_prints_one_line() {
    let mut n = Node::init("River Refuge");
    // Without a running node there is nothing to follow.
    let line = n.fails(&["events", "--follow"]);
    assert!(line.contains("puente run"), "{line}");
    let mut d = Daemon::start(&n, "node");
    n.pass = None;

    let mut follower = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["events", "--follow", "--format", "json"])
        .env("PUENTE_DATA_DIR", &n.data)
        .env("PUENTE_NOW", &n.now)
        .env_remove("PUENTE_PASSPHRASE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the follower starts");
    let mut lines = std::io::BufReader::new(follower.stdout.take().expect("piped"));

    n.add(&[
        "--kind",
        "host-home",
        "--handle",
        "host-soon",
        "--county",
        "06067",
        "--window",
        "+1d..+20d=1",
        "--expires-in",
        "2d",
    ]);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut lines, &mut line).expect("a line arrives");
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["event"], "offer-expiring", "{line}");
    assert_eq!(event["handle"], "host-soon", "{line}");
    assert!(event.get("label").is_none(), "{line}");
    d.wait_for("puente run to announce it", |d| {
        d.stdout().contains("host-soon") && d.stdout().contains("expires within 72 hours")
    });
    let _ = follower.kill();
    let _ = follower.wait();
    // The node keeps serving after the follower left.
    assert!(n.ok(&["inbox"]).contains("host-soon"));
}
