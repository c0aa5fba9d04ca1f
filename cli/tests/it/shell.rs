//! The shell around puente: completion scripts and manual pages generated from the flags'
//! definitions (on a fresh machine: no data directory, no passphrase), and the global
//! `--quiet` and `--verbose`, directly and through a running node.

use std::path::Path;
use std::process::{Command, Output};

use crate::daemon::Daemon;
use crate::support::{Node, example, last_line, one_error_line};

/// `puente ARGS` with nothing of the user's environment: only `PATH`, and `HOME` a fresh
/// directory, so no data directory exists and no passphrase is set.
fn bare(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .current_dir(home)
        .output()
        .expect("the binary runs")
}

/// Stdout of a run that must succeed with nothing on stderr.
#[track_caller]
fn stdout_of(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed ({}): {stderr}", out.status);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

#[test]
fn completions_for_each_shell_need_no_store() {
    let home = tempfile::tempdir().expect("tempdir");
    for (shell, marker) in [
        ("bash", "complete -F _puente"),
        ("zsh", "#compdef puente"),
        ("fish", "complete -c puente"),
    ] {
        let script = stdout_of(&bare(home.path(), &["completions", shell]));
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        for command in ["offer", "hold", "query", "completions", "quiet"] {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
        if shell == "bash" {
            let file = home.path().join("puente.bash");
            std::fs::write(&file, &script).expect("write the script");
            let check = Command::new("bash")
                .arg("-n")
                .arg(&file)
                .output()
                .expect("bash runs");
            assert!(
                check.status.success(),
                "bash -n refuses the script: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    // Nothing was created: no data directory, no store.
    let left: Vec<_> = std::fs::read_dir(home.path())
        .expect("home")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["puente.bash"], "{left:?}");

    // A shell puente does not know: one line naming the ones it does, usage status.
    let out = bare(home.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let line = one_error_line(&String::from_utf8_lossy(&out.stderr));
    for shell in ["tcsh", "bash", "zsh", "fish"] {
        assert!(line.contains(shell), "{line}");
    }
}

#[test]
fn man_pages_need_no_store() {
    let home = tempfile::tempdir().expect("tempdir");
    let page = stdout_of(&bare(home.path(), &["man"]));
    assert!(is_page(&page, "puente"), "{}", &page[..page.len().min(300)]);
    assert!(page.contains("offer") && page.contains("completions"));

    let dir = home.path().join("man/man1");
    let out = bare(
        home.path(),
        &["man", "--output", dir.to_str().expect("UTF-8")],
    );
    let said = stdout_of(&out);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("Wrote ") && said.contains("man/man1"),
        "{said}"
    );
    for name in [
        "puente.1",
        "puente-offer.1",
        "puente-offer-add.1",
        "puente-hold-place.1",
    ] {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{name} was not written: {e}"));
        assert!(is_page(&text, name.trim_end_matches(".1")), "{name}");
    }
    let written = std::fs::read_dir(&dir).expect("the pages").count();
    assert!(
        said.contains(&format!("Wrote {written} manual pages")),
        "{said}"
    );
    assert!(
        !home.path().join(".local").exists(),
        "a data directory was made"
    );

    // --quiet: the pages, without the sentence.
    let out = bare(
        home.path(),
        &["man", "--quiet", "--output", dir.to_str().expect("UTF-8")],
    );
    assert_eq!(stdout_of(&out), "");
}

/// Whether `text` is the roff of manual page `name`(1): its title macro first (after the
/// roff crate's two lines that define the apostrophe), then its NAME section.
fn is_page(text: &str, name: &str) -> bool {
    let mut lines = text
        .lines()
        .skip_while(|l| l.starts_with(".ie ") || l.starts_with(".el "));
    lines
        .next()
        .is_some_and(|l| l.starts_with(&format!(".TH {name} 1 ")))
        && lines.next() == Some(".SH NAME")
}

/// One offer's flags, for `offer add`.
const ADD: &[&str] = &[
    "offer",
    "add",
    "--kind",
    "host-home",
    "--handle",
    "host-quiet",
    "--county",
    "06067",
    "--window",
    "+2d..+30d=1",
];

#[test]
fn quiet_prints_only_what_was_asked_for() {
    let n = Node::init("River Refuge");
    let csv = example("river-refuge.csv");
    let csv = csv.to_str().expect("UTF-8");

    // A confirmation and nothing else: gone with --quiet, the work still done.
    let r = n.run(&["--quiet", "import", csv]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
    let imported = n.offers().len();
    assert!(imported > 0);
    let again = n.ok(&["import", csv]);
    assert!(again.starts_with("Imported "), "{again}");

    // The JSON asked for stays.
    let r = n.run(&["import", csv, "-q", "--format", "json"]);
    assert!(r.ok && r.stderr.is_empty(), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["unchanged"], imported);

    // `offer add` keeps the id scripts read, without the sentence before it.
    let loud = n.ok(ADD);
    assert!(loud.starts_with("Published "), "{loud}");
    let mut add = ADD.to_vec();
    add[5] = "host-quiet-2";
    add.push("--quiet");
    let r = n.run(&add);
    assert!(r.ok && r.stderr.is_empty(), "{}", r.stderr);
    let id = last_line(&r.stdout);
    assert_eq!(r.stdout, format!("{id}\n"));
    assert!(n.offers().iter().any(|o| o["offer_id"] == id.as_str()));

    let r = n.run(&["offer", "update", &id, "--label", "quiet room", "-q"]);
    assert_eq!((r.ok, r.stdout.as_str(), r.stderr.as_str()), (true, "", ""));
    let loud = n.ok(&["offer", "update", &id, "--label", "a quiet room"]);
    assert!(loud.starts_with("Updated offer "), "{loud}");

    // Both at once is a usage error.
    let r = n.run(&["--quiet", "--verbose", "offer", "list"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--verbose"), "{}", r.stderr);
}

#[test]
fn quiet_travels_to_the_running_node() {
    let mut n = Node::init("River Refuge");
    let _node = Daemon::start(&n, "node");
    // Through the node only: without a passphrase the direct path could not open the store.
    n.pass = None;

    let r = n.run(&[ADD, &["--quiet"][..]].concat());
    assert!(r.ok && r.stderr.is_empty(), "{}", r.stderr);
    let id = last_line(&r.stdout);
    assert_eq!(r.stdout, format!("{id}\n"));

    let r = n.run(&["-q", "offer", "update", &id, "--label", "quiet room"]);
    assert_eq!((r.ok, r.stdout.as_str(), r.stderr.as_str()), (true, "", ""));
    let loud = n.ok(&["offer", "update", &id, "--label", "a quiet room"]);
    assert!(loud.starts_with("Updated offer "), "{loud}");

    let r = n.run(&["offer", "show", &id, "--format", "json", "--quiet"]);
    assert!(r.ok && r.stderr.is_empty(), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["label"], "a quiet room");
}

#[test]
fn verbose_logs_puente_at_debug_unless_rust_log_says_otherwise() {
    let n = Node::init("River Refuge");
    let r = n.run(&["offer", "list", "--verbose"]);
    assert!(r.ok);
    assert!(
        r.stderr.contains("DEBUG") && r.stderr.contains("opening the store"),
        "{}",
        r.stderr
    );

    let r = n.run(&["offer", "list"]);
    assert!(r.ok);
    assert_eq!(r.stderr, "");

    let out = n
        .cmd(&["offer", "list", "-v"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_quiet_node_prints_only_where_it_listens() {
    let n = Node::init("River Refuge");
    let mut d = Daemon::start_with(&n, "quiet", &["--quiet"], "Listening on");
    assert!(d.signal_and_wait("TERM").success());
    let out = d.stdout();
    // Where the node listens for partners, and where its web page is.
    assert!(
        out.lines()
            .all(|l| l.starts_with("Listening on /ip4/127.0.0.1/tcp/")
                || l.starts_with("Web page for coordinators: http://127.0.0.1:")),
        "{out}"
    );
    assert_eq!(d.stderr(), "");
}
