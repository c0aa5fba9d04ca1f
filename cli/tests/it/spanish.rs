//! The command line in Spanish: with `LANG=es_MX.UTF-8` the words people read are Spanish,
//! and what scripts read (JSON, CSV, the id a command prints on its last line) is byte for byte
//! what the English run prints.

use assert_cmd::Command;
use expect_test::expect;
use serde_json::Value;

use crate::queries::FIXTURE;
use crate::support::{Node, Run, last_line, one_error_line, redact_ids};

/// The command, run with a Spanish environment.
fn es_cmd(n: &Node, args: &[&str]) -> Command {
    let mut c = n.cmd(args);
    c.env("LANG", "es_MX.UTF-8");
    c
}

/// Runs a command in Spanish.
fn es_run(n: &Node, args: &[&str]) -> Run {
    let out = es_cmd(n, args).output().expect("the binary runs");
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs a command in Spanish that must succeed, and returns its stdout.
#[track_caller]
fn es(n: &Node, args: &[&str]) -> String {
    let r = es_run(n, args);
    // `status` exits 3 when no node runs, having printed the status all the same.
    let status_without_node = args.first() == Some(&"status") && r.code == Some(3);
    assert!(
        r.ok || status_without_node,
        "puente {args:?} failed in Spanish ({:?}):\n{}{}",
        r.code,
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// Runs a command in Spanish that must fail with one error line; returns that line.
#[track_caller]
fn es_fails(n: &Node, args: &[&str]) -> String {
    let r = es_run(n, args);
    assert!(!r.ok, "puente {args:?} succeeded:\n{}", r.stdout);
    one_error_line(&r.stderr)
}

/// A store with the query fixture, founded network and one open invitation.
fn store() -> Node {
    let n = Node::init("Sac Accompaniment");
    let file = n.scratch().join("fixture.csv");
    std::fs::write(&file, FIXTURE).expect("write fixture");
    n.ok(&["import", file.to_str().expect("utf-8")]);
    n
}

#[test]
fn people_read_spanish() {
    let n = store();

    // A confirmation in Spanish; the id alone on the last line, as in English.
    let added = es(
        &n,
        &[
            "offer",
            "add",
            "--kind",
            "shelter-bed",
            "--handle",
            "camas-norte",
            "--window",
            "+1d..+5d=3",
            "--county",
            "06067",
        ],
    );
    assert!(
        added.starts_with("Se publicó la oferta shelter-bed camas-norte; vence el "),
        "{added}"
    );
    let id = last_line(&added);
    assert_eq!(id.len(), 16, "{added}");
    assert!(n.offers().iter().any(|o| o["offer_id"] == id.as_str()));

    let shorts: Vec<String> = n
        .offers()
        .iter()
        .map(|o| o["offer_id"].as_str().expect("id")[..8].to_string())
        .collect();
    // Headers, quantities and freshness in Spanish; kinds, counties, language codes, intake
    // routes and times as they are.
    let table = es(
        &n,
        &[
            "query",
            "--county",
            "06067",
            "--kind",
            "host-home,interpretation",
        ],
    );
    expect![[r#"
        ID        OFERENTE           TIPO            ALIAS             CONDADOS     IDIOMAS              DISPONIBLE    DESDE             CONFIRMACIÓN            ADMISIÓN
        ########  Sac Accompaniment  host-home       host-a            06067        es                   1 habitación  2026-11-24 00:00  confirmada ahora mismo  hotline, ask for intake
        ########  Sac Accompaniment  interpretation  interp-mam        06067        es,mam:relay-via-es  1 turno       2026-11-24 09:00  confirmada ahora mismo  hotline, ask for intake
        ########  Sac Accompaniment  interpretation  interp-mam-phone  06067,06113  mam:phone            1 turno       2026-11-25 09:00  confirmada ahora mismo  hotline, ask for intake
    "#]]
    .assert_eq(&redact_ids(&table, &shorts));
    let bonds = es(&n, &["query", "--kind", "bond-fund", "--min-usd", "5000"]);
    expect![[r#"
        ID        OFERENTE           TIPO       ALIAS   CONDADOS  IDIOMAS  DISPONIBLE              DESDE  CONFIRMACIÓN            ADMISIÓN
        ########  Sac Accompaniment  bond-fund  bond-x  06067     en       5k-15k en menos de 48h  -      confirmada ahora mismo  hotline, ask for intake
    "#]]
    .assert_eq(&redact_ids(&bonds, &shorts));
    let beds = es(&n, &["query", "--kind", "shelter-bed"]);
    assert!(beds.contains("  3 camas  "), "{beds}");
    assert!(beds.contains("  ahora  "), "{beds}");

    let status = es(&n, &["status"]);
    for words in [
        "organización  Sac Accompaniment",
        "red           ninguna todavía: `puente network create --name NAME`, o `puente join TOKEN`",
        "nodo          detenido (inícielo con `puente run`)",
        "OFERTAS DE         CANTIDAD",
    ] {
        assert!(status.contains(words), "{words:?} in:\n{status}");
    }

    let list = es(&n, &["offer", "list"]);
    assert!(list.starts_with("ID  "), "{list}");
    assert!(
        list.contains("PERIODOS") && list.contains("activa"),
        "{list}"
    );

    let show = es(&n, &["offer", "show", &id]);
    assert!(show.contains("no hay reservas en esta oferta"), "{show}");
    assert!(
        show.contains("PERIODO") && show.contains("abierto"),
        "{show}"
    );

    // The beds of the fixture expire tomorrow: the inbox asks to renew or withdraw them.
    let inbox = es(&n, &["inbox"]);
    assert!(inbox.starts_with("REQUIERE  "), "{inbox}");
    assert!(
        inbox.contains("renovar o retirar")
            && inbox.contains("vence el 2026-11-24 09:00 (en 24 h)"),
        "{inbox}"
    );
    assert_eq!(es(&n, &["hold", "list"]), "no hay reservas\n");

    // Errors in one line, in Spanish, saying what to do; flags as typed.
    let e = es_fails(&n, &["query", "--from", "+3d", "--to", "+1d"]);
    assert!(e.contains("--to debe ser posterior a --from"), "{e}");
    let e = es_fails(&n, &["offer", "withdraw", &id]);
    assert!(
        e.contains("no se puede deshacer") && e.ends_with("agregue --yes"),
        "{e}"
    );

    // LC_ALL wins over LANG, as POSIX orders them; a language puente does not speak is English.
    let out = n
        .cmd(&["hold", "list"])
        .env("LC_ALL", "es_ES.UTF-8")
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no hay reservas\n");
    let out = n
        .cmd(&["hold", "list"])
        .env("LANG", "fr_FR.UTF-8")
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no holds\n");
}

/// The commands whose `--format json` (and `--format csv` where there is one) scripts read.
fn machine_commands(offer: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["offer", "list", "--include-expired", "--include-withdrawn"],
        vec!["offer", "show", offer],
        vec!["query"],
        vec!["hold", "list"],
        vec!["inbox"],
        vec!["status"],
        vec!["whoami"],
        vec!["peer", "list"],
        vec!["device", "list"],
        vec!["invite", "list"],
        vec!["relay", "list"],
        vec!["peer", "revocations"],
        vec!["audit", "log"],
        vec!["audit", "exposure", "Sac Accompaniment"],
    ]
}

/// Every machine output of `n`, in English and in Spanish, must be the same bytes.
#[track_caller]
fn same_machine_output(n: &Node, offer: &str) {
    for cmd in machine_commands(offer) {
        for format in ["json", "csv"] {
            let mut args = cmd.clone();
            args.extend(["--format", format]);
            let en = n.run(&args);
            let es = es_run(n, &args);
            assert_eq!(
                en.code, es.code,
                "puente {args:?}: {}{}",
                en.stderr, es.stderr
            );
            if en.ok || (cmd[0] == "status" && en.code == Some(3)) {
                assert_eq!(en.stdout, es.stdout, "puente {args:?}");
            }
        }
    }
}

#[test]
fn scripts_read_the_same_bytes_in_spanish() {
    let n = store();
    let offer = n.offers()[0]["offer_id"]
        .as_str()
        .expect("an id")
        .to_string();
    n.ok(&["network", "create", "--name", "Valley Network"]);
    n.ok(&[
        "invite",
        "create",
        "--org",
        "River Refuge",
        "--address",
        "/ip4/127.0.0.1/tcp/4737",
    ]);
    same_machine_output(&n, &offer);

    // A revocation's record keeps its English sentences for scripts, whatever the language;
    // people read them in Spanish.
    let key = n.json(&["whoami"])["public_key"]
        .as_str()
        .expect("a key")
        .to_string();
    let out = es(
        &n,
        &[
            "device",
            "revoke",
            &key,
            "--reason",
            "portátil perdida",
            "--yes",
            "--format",
            "json",
        ],
    );
    let revoked: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        revoked["does"][0],
        "Every node that has received the revocation refuses the revoked keys at once: no connection, nothing sent to them, none of their new changes accepted."
    );
    assert_eq!(
        revoked["cannot"][2],
        "It cannot stop a partner that is still trusted from leaking. The defence is sharing less: coarse places, pseudonyms and short expiry."
    );
    assert_eq!(revoked["target"]["type"], "device");
    same_machine_output(&n, &offer);

    let log = es(&n, &["audit", "log"]);
    assert!(
        log.starts_with("Historial de membresía de \"Valley Network\""),
        "{log}"
    );
    assert!(
        log.contains("revocó el dispositivo") && log.contains("motivo: portátil perdida"),
        "{log}"
    );
    let json = n.json(&["audit", "log"]);
    let whats: Vec<&str> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|e| e["what"].as_str())
        .collect();
    assert!(
        whats.iter().any(|w| w.starts_with("revoked device ")),
        "{whats:?}"
    );

    let status = es(&n, &["status"]);
    assert!(status.contains("\nRevocados: el dispositivo "), "{status}");
    assert!(
        status.contains("\nRequiere su atención (`puente inbox`):\n"),
        "{status}"
    );
    let revocations = es(&n, &["peer", "revocations"]);
    assert!(revocations.starts_with("Revocación "), "{revocations}");
    assert!(
        revocations.contains("  motivo     portátil perdida"),
        "{revocations}"
    );
}
