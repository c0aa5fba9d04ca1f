//! Bad input: one `error:` line on stderr, a non-zero exit, and the store untouched.

use crate::support::{Node, one_error_line};

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let n = Node::init("Capitol Legal & Bond");
    let id = n.add(&[
        "--kind",
        "legal-consult",
        "--handle",
        "legal-clinic-midtown",
        "--county",
        "06067",
        "--window",
        "+2dT09:00..+2dT12:00=6/weekly",
    ]);
    let before = n.state();
    let add = |extra: &[&str]| {
        let mut a = vec![
            "offer",
            "add",
            "--kind",
            "host-home",
            "--handle",
            "host-x1",
            "--county",
            "06067",
        ];
        a.extend(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "offer",
                "add",
                "--kind",
                "hotel-voucher",
                "--handle",
                "h1",
                "--county",
                "06067",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "unknown kind `hotel-voucher`",
        ),
        (add(&["--county", "6067"]), "5-digit FIPS"),
        (add(&["--lang", "spanish!"]), "BCP 47"),
        (add(&["--window", "+5d..+2d=1"]), "must end after it starts"),
        (add(&["--window", "next week"]), "START..END=TOTAL"),
        (
            add(&["--label", "call 916-555-0142 after six"]),
            "phone number",
        ),
        (add(&["--label", "room at 1234 Elm St"]), "street address"),
        (add(&["--label", "case A123456789"]), "A-number"),
        (
            vec![
                "offer",
                "add",
                "--kind",
                "host-home",
                "--handle",
                "Maria Lopez",
                "--county",
                "06067",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "handle must be",
        ),
        (add(&["--expires-in", "soon"]), "duration"),
        (add(&["--bond-band", "5k-15k"]), "bond"),
        (
            vec!["offer".into(), "show".into(), "zzzzzzzz".into()],
            "no offer matches `zzzzzzzz`",
        ),
        (
            vec!["offer".into(), "update".into(), id.clone()],
            "nothing to change",
        ),
        (
            vec![
                "offer".into(),
                "update".into(),
                id.clone(),
                "--cancel-window".into(),
                "vvvvvv".into(),
            ],
            "no window matching",
        ),
        (
            vec!["hold".into(), "confirm".into(), "zzzzzzzz".into()],
            "no hold matches `zzzzzzzz`",
        ),
        (
            vec!["query".into(), "--from".into(), "someday".into()],
            "is not a date",
        ),
        (
            vec!["query".into(), "--format".into(), "hsds".into()],
            "only for `puente export`",
        ),
        (
            vec!["query".into(), "--owner".into(), "nobody-at-all".into()],
            "no organisation matches",
        ),
        (
            vec![
                "import".into(),
                n.scratch().join("missing.csv").display().to_string(),
            ],
            "cannot read",
        ),
    ];
    for (args, want) in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e = n.fails(&a);
        assert!(e.contains(want), "puente {a:?}: expected `{want}` in: {e}");
    }
    assert!(before == n.state(), "a refused command changed the store");
    assert_eq!(n.offers().len(), 1);
}

#[test]
fn usage_errors_keep_clap_format() {
    let n = Node::new();
    let r = n.run(&["offer", "add", "--handle", "h1"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains("--kind"), "{}", r.stderr);
    let r = n.run(&["frobnicate"]);
    assert_eq!(r.code, Some(2));
    assert!(!n.data.exists());
    // Help has examples for every command and documents PUENTE_NOW.
    let help = n.ok(&["--help"]);
    assert!(
        help.contains("PUENTE_NOW") && help.contains("Examples:"),
        "{help}"
    );
    for cmd in [
        &["init"][..],
        &["whoami"],
        &["offer", "add"],
        &["offer", "update"],
        &["offer", "withdraw"],
        &["offer", "confirm"],
        &["offer", "list"],
        &["offer", "show"],
        &["hold", "place"],
        &["hold", "release"],
        &["hold", "confirm"],
        &["hold", "decline"],
        &["hold", "list"],
        &["query"],
        &["import"],
        &["export"],
        &["run"],
    ] {
        let mut a = cmd.to_vec();
        a.push("--help");
        let help = n.ok(&a);
        assert!(help.contains("Examples:"), "puente {cmd:?} --help:\n{help}");
    }
}

/// A bundle file larger than a bundle can be is refused from its size, before it is read: the
/// file here is sparse (no disk used), and the command's memory stays far below its size.
#[test]
fn an_oversized_bundle_is_refused_before_it_is_read() {
    let n = Node::init("River Refuge");
    n.ok(&["network", "create", "--name", "Valley Network"]);
    let path = n.scratch().join("huge.bundle");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(4 * 1024 * 1024 * 1024)
        .expect("a sparse 4 GiB file");
    drop(file);
    let before = n.digest();
    let r = n.run(&["bundle", "import", path.to_str().expect("UTF-8")]);
    assert_eq!(r.code, Some(1));
    let line = one_error_line(&r.stderr);
    assert!(
        line.contains("more than a bundle can be") && line.contains("not a puente bundle"),
        "{line}"
    );
    assert_eq!(n.digest(), before, "nothing changed");
}
