//! Running puente for years (issue 13), with the real binary: changing the passphrase.

use std::os::unix::fs::PermissionsExt;

use crate::daemon::Daemon;
use crate::support::{Node, PASS};

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
