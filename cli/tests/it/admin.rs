//! Running puente for years (issue 13), with the real binary: changing the passphrase, the
//! configuration file, the service unit, metrics, and a data directory restored from an old
//! copy.

use std::os::unix::fs::PermissionsExt;

use crate::daemon::Daemon;
use crate::support::{Node, PASS, one_error_line};

const NEW: &str = "a new sentence nobody else knows";

fn secret_file(n: &Node, name: &str, text: &str) -> String {
    let path = n.scratch().join(name);
    std::fs::write(&path, format!("{text}\n")).expect("written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path.display().to_string()
}

#[test]
fn a_changed_passphrase_opens_the_store_and_the_old_one_no_longer_does() {
    let mut n = Node::init("River Refuge");
    n.add(&[
        "--kind",
        "shelter-bed",
        "--handle",
        "beds-a",
        "--county",
        "06067",
        "--window",
        "2026-11-24..2026-12-20=3",
    ]);
    let before = n.offers();
    let file = secret_file(&n, "new-pass", NEW);
    let out = n.ok(&["passphrase", "change", "--new-passphrase-file", &file]);
    assert!(out.is_empty() || !out.contains(NEW), "never printed");

    // The old passphrase is refused, and says so in one line.
    let err = n.fails(&["whoami"]);
    assert!(err.contains("passphrase"), "{err}");
    // The new one opens everything as it was.
    n.pass = Some(NEW.to_string());
    assert_eq!(n.offers(), before);
    for f in crate::support::files_under(&n.data).into_values() {
        assert!(
            !String::from_utf8_lossy(&f).contains(NEW),
            "the passphrase is never stored"
        );
    }
}

#[test]
fn a_passphrase_change_is_refused_while_the_node_runs_or_without_a_good_new_one() {
    let n = Node::init("River Refuge");
    let short = secret_file(&n, "short", "abc");
    let err = n.fails(&["passphrase", "change", "--new-passphrase-file", &short]);
    assert!(err.contains("8"), "{err}");
    let loose = n.scratch().join("loose");
    std::fs::write(&loose, NEW).expect("written");
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = n.fails(&[
        "passphrase",
        "change",
        "--new-passphrase-file",
        loose.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("chmod") || err.contains("others"), "{err}");
    // Without a terminal and without a file: no prompt that would hang.
    let err = n.fails(&["passphrase", "change"]);
    assert!(err.contains("--new-passphrase-file"), "{err}");
    // Nothing changed: the old passphrase still opens it.
    n.ok(&["whoami"]);

    let good = secret_file(&n, "good", NEW);
    let _d = Daemon::start(&n, "node");
    let err = n.fails(&["passphrase", "change", "--new-passphrase-file", &good]);
    assert!(err.contains("stop it"), "{err}");
    drop(_d);
    n.ok(&["whoami"]);
    let _ = PASS;
}

#[test]
fn the_configuration_file_gives_what_flags_would_and_flags_win() {
    let n = Node::init("River Refuge");
    // The default place, under XDG_CONFIG_HOME (the test's folder): absent, so defaults.
    let default = n.ok(&["config", "path"]);
    assert!(default.trim().ends_with("puente/config.toml"), "{default}");
    let shown = n.ok(&["config", "show"]);
    assert!(shown.contains("port = 4780"), "{shown}");

    // A file names the data directory and the passphrase file: commands need nothing else.
    let pass = secret_file(&n, "pass", PASS);
    let file = n.scratch().join("puente.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = {:?}\npassphrase_file = {pass:?}\nlog = \"warn\"\n\n[web]\nenabled = false\n",
            n.data.display().to_string()
        ),
    )
    .expect("written");
    let whoami = n
        .cmd(&["whoami", "--format", "json"])
        .env_remove("PUENTE_DATA_DIR")
        .env_remove("PUENTE_PASSPHRASE")
        .env("PUENTE_CONFIG", &file)
        .output()
        .expect("runs");
    assert!(
        whoami.status.success(),
        "{}",
        String::from_utf8_lossy(&whoami.stderr)
    );
    assert!(String::from_utf8_lossy(&whoami.stdout).contains("River Refuge"));
    let shown = n.ok(&["config", "show", "--config", file.to_str().expect("utf-8")]);
    assert!(
        shown.contains("enabled = false") && shown.contains("log = \"warn\""),
        "{shown}"
    );

    // `puente run` takes the page setting from it; a flag wins over it.
    let off = Daemon::start_with(
        &n,
        "off",
        &["--config", file.to_str().expect("utf-8")],
        "Ctrl-C",
    );
    assert!(!off.stdout().contains("Web page"), "{}", off.stdout());
    drop(off);
    let on = Daemon::start_with(
        &n,
        "on",
        &["--config", file.to_str().expect("utf-8"), "--web-port", "0"],
        "Web page",
    );
    drop(on);
}

#[test]
fn a_wrong_configuration_file_stops_every_command_with_one_line() {
    let n = Node::init("River Refuge");
    let file = n.scratch().join("puente.toml");
    std::fs::write(&file, "log = \"info\"\n[web]\nprot = 4780\n").expect("written");
    let out = n
        .cmd(&["whoami"])
        .env("PUENTE_CONFIG", &file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("line 3") && err.contains("prot"), "{err}");
    // Named explicitly but missing: said, not ignored.
    let missing = n.fails(&["whoami", "--config", "/nonexistent/puente.toml"]);
    assert!(missing.contains("/nonexistent/puente.toml"), "{missing}");
    // A log setting that is no filter.
    std::fs::write(&file, "log = \"very loud\"\n").expect("written");
    let out = n
        .cmd(&["whoami"])
        .env("PUENTE_CONFIG", &file)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("very loud"));
}

#[test]
fn the_service_unit_runs_this_data_directory_with_its_passphrase_file() {
    let n = Node::init("River Refuge");
    let pass = secret_file(&n, "pass", PASS);
    let unit = n.scratch().join("systemd/user/puente.service");

    // Refused: not --user, no passphrase file, a passphrase file others can read.
    let err = n.fails(&["service", "install"]);
    assert!(err.contains("--user"), "{err}");
    let no_file = n
        .cmd(&["service", "install", "--user"])
        .env_remove("PUENTE_PASSPHRASE")
        .output()
        .expect("runs");
    assert!(!no_file.status.success());
    assert!(String::from_utf8_lossy(&no_file.stderr).contains("--passphrase-file"));
    let loose = n.scratch().join("loose");
    std::fs::write(&loose, PASS).expect("written");
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = n.fails(&[
        "service",
        "install",
        "--user",
        "--passphrase-file",
        loose.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("chmod"), "{err}");
    assert!(!unit.exists());

    let out = n.ok(&["service", "install", "--user", "--passphrase-file", &pass]);
    assert!(out.contains("puente.service"), "{out}");
    let text = std::fs::read_to_string(&unit).expect("the unit is written");
    let exec = text
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .expect("an ExecStart line");
    assert!(
        exec.contains(&format!("\"{}\"", n.data.display())),
        "{exec}"
    );
    assert!(exec.contains(&pass), "{exec}");
    assert!(exec.ends_with(" run"), "{exec}");
    assert!(text.contains("KillSignal=SIGTERM") && text.contains("Restart=on-failure"));
    assert!(
        !text.contains(PASS),
        "the passphrase itself is never in the unit"
    );
    // The binary it names is this one.
    let binary = exec
        .trim_start_matches("ExecStart=\"")
        .split('"')
        .next()
        .expect("a path");
    assert!(std::path::Path::new(binary).is_absolute(), "{binary}");

    // systemd itself accepts it, where systemd is installed.
    if let Ok(out) = std::process::Command::new("systemd-analyze")
        .args(["verify", unit.to_str().expect("utf-8")])
        .output()
    {
        assert!(
            out.status.success(),
            "systemd-analyze verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Written once; again only with --force.
    let err = n.fails(&["service", "install", "--user", "--passphrase-file", &pass]);
    assert!(err.contains("--force"), "{err}");
    n.ok(&[
        "service",
        "install",
        "--user",
        "--force",
        "--passphrase-file",
        &pass,
    ]);
}

/// The metrics endpoint's address in a node's start lines.
fn metrics_url(d: &Daemon) -> (u16, String) {
    let out = d.stdout();
    let url = out
        .lines()
        .find_map(|l| l.strip_prefix("Metrics: "))
        .unwrap_or_else(|| panic!("no metrics line in {out}"))
        .trim()
        .to_string();
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    (port, url)
}

fn scrape(port: u16, host: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("sent");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn metrics_count_partners_by_key_never_by_name_and_only_when_asked() {
    let a = Node::init("River Refuge");
    a.ok(&["network", "create", "--name", "Valley Network"]);
    // Off unless asked for.
    let plain = Daemon::start(&a, "plain");
    assert!(!plain.stdout().contains("Metrics:"), "{}", plain.stdout());
    drop(plain);

    let node_a = Daemon::start_with(&a, "a", &["--metrics-port", "0"], "Metrics:");
    let (port, _) = metrics_url(&node_a);
    let (status, text) = scrape(port, &format!("127.0.0.1:{port}"));
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("application/openmetrics-text"), "{text}");
    assert!(
        text.contains("puente_partners_connected{how=\"direct\"} 0"),
        "{text}"
    );
    let bytes: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("puente_store_bytes "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the store's size");
    assert!(bytes > 0);
    // Another host name: refused.
    let (status, _) = scrape(port, &format!("attacker.example:{port}"));
    assert_eq!(status, 421);

    // A partner joins and connects: counted, and named by the start of its key only.
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    let _node_b = Daemon::start(&b, "b");
    let key_b: String = b.json(&["whoami"])["public_key"]
        .as_str()
        .expect("a key")
        .chars()
        .take(8)
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let text = loop {
        let (_, text) = scrape(port, &format!("127.0.0.1:{port}"));
        if text.contains("puente_partners_connected{how=\"direct\"} 1")
            && text.contains(&format!("partner=\"{key_b}\""))
        {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never counted: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    for name in ["River", "Yolo", "Valley"] {
        assert!(!text.contains(name), "{name} in {text}");
    }
}

#[test]
fn status_says_by_its_exit_status_whether_the_node_runs() {
    let n = Node::init("River Refuge");
    let stopped = n.run(&["status"]);
    assert_eq!(stopped.code, Some(3), "{}", stopped.stderr);
    assert!(
        !stopped.stdout.is_empty(),
        "the status is printed all the same"
    );
    assert_eq!(stopped.stderr, "");
    let json = n.run(&["status", "--format", "json"]);
    assert_eq!(json.code, Some(3));
    assert!(
        json.stdout.contains("\"node_running\": false"),
        "{}",
        json.stdout
    );
    let _d = Daemon::start(&n, "node");
    let running = n.run(&["status"]);
    assert_eq!(running.code, Some(0), "{}", running.stderr);
    // A store that cannot be opened is an error, not "not running".
    let missing = n
        .cmd(&["status"])
        .env("PUENTE_DATA_DIR", n.scratch().join("nowhere"))
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(1));
}

/// Copies a data directory whose node is stopped, as a backup tool would: its files, with
/// their private modes (not a leftover control socket).
fn copy_data(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("a directory");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("an entry");
        if entry.file_type().expect("a type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copied");
        }
    }
}

/// The handles of the offers `n` holds (through its node when one runs).
fn handles(n: &Node) -> Vec<String> {
    let mut v: Vec<String> = n
        .offers()
        .iter()
        .filter_map(|o| o["handle"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

#[test]
fn a_data_directory_restored_from_an_old_copy_stops_writing_and_says_what_to_do() {
    let a = Node::founder("River Refuge");
    let _node_a = Daemon::start(&a, "a");
    let b = Node::init("Yolo Trans Health");
    a.invite_and_join(&b, "Yolo Trans Health");
    let offer = |handle: &'static str| {
        vec![
            "--kind",
            "shelter-bed",
            "--handle",
            handle,
            "--county",
            "06067",
            "--window",
            "2026-11-24..2026-12-20=3",
        ]
    };
    b.add(&offer("before-the-copy"));
    // The data directory is copied while no node runs on it; then B writes more and syncs.
    let copy = b.scratch().join("copy");
    copy_data(&b.data, &copy);
    b.add(&offer("after-the-copy"));
    let mut node_b = Daemon::start(&b, "b");
    let both = ["after-the-copy", "before-the-copy"].map(String::from);
    node_b.wait_for("A to hold both of B's offers", |_| handles(&a) == both);
    assert!(node_b.signal_and_wait("TERM").success());
    drop(node_b);

    // The old copy comes back, and the node starts on it.
    std::fs::remove_dir_all(&b.data).expect("removed");
    copy_data(&copy, &b.data);
    assert_eq!(handles(&b), ["before-the-copy".to_string()]);
    let mut node_b = Daemon::start(&b, "b-restored");
    node_b.wait_for("B to notice that it was rolled back", |_| {
        b.status_json()["rolled_back"] == true
    });

    // Writing is refused with one sentence that says what happened and what to do.
    let mut args = vec!["offer", "add"];
    args.extend(offer("after-the-restore"));
    let refused = b.run(&args);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    let line = one_error_line(&refused.stderr);
    for words in [
        "older than what partners hold from this computer",
        "old copy",
        "fork its history",
        "`puente device add`",
        "`puente init --device`",
        "`puente join TOKEN`",
        "`puente device revoke KEY`",
    ] {
        assert!(line.contains(words), "{words:?} not in {line}");
    }
    // Status says so, in JSON and as a table.
    assert_eq!(b.status_json()["rolled_back"], true);
    assert!(b.ok(&["status"]).contains("ROLLED BACK"));
    // B still shows what partners hold, its own later offer included, and A got no second
    // offer from B.
    node_b.wait_for("B to show its own later offer", |_| handles(&b) == both);
    assert_eq!(handles(&a), both);
    // The node said so once, at warn level.
    let said = "older than what partners hold from this device";
    node_b.wait_for("the warning", |d| d.stderr().contains(said));
    assert!(node_b.signal_and_wait("TERM").success());
    let log = node_b.stderr();
    assert_eq!(log.matches(said).count(), 1, "{log}");
    assert!(log.contains("WARN"), "{log}");

    // With the node stopped, the store itself still refuses, in Spanish too.
    let direct = b
        .cmd(&args)
        .env("LANG", "es_MX.UTF-8")
        .output()
        .expect("runs");
    assert_eq!(direct.status.code(), Some(1));
    let line = one_error_line(&String::from_utf8_lossy(&direct.stderr));
    assert!(line.contains("más antiguo"), "{line}");
    assert_eq!(b.status_json()["rolled_back"], true);
}
