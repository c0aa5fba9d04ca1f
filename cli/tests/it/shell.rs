//! The shell around puente: completion scripts and manual pages generated from the flags'
//! definitions, on a fresh machine: no data directory, no passphrase.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::one_error_line;

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
        for command in ["offer", "hold", "query", "completions"] {
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
