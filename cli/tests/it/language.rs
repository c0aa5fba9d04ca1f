//! The command line speaks Spanish when the environment asks for it (`LC_ALL`, then
//! `LC_MESSAGES`, then `LANG`), on the direct path and through a running node, which answers
//! in the client's language rather than its own.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Output;

use crate::daemon::Daemon;
use crate::support::{Node, one_error_line};

/// Runs `args` on `n` with the locale variables `env` (on top of [`Node::cmd`]'s English) and
/// returns the one `error: ` line of a command that must fail.
#[track_caller]
fn fails_with(n: &Node, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = n.cmd(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out: Output = c.output().expect("the binary runs");
    assert!(
        !out.status.success(),
        "puente {args:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    one_error_line(&String::from_utf8(out.stderr).expect("stderr is UTF-8"))
}

#[test]
fn lang_es_gives_the_spanish_sentence_and_keeps_commands_and_flags() {
    let n = Node::new();
    let line = fails_with(&n, &[("LANG", "es_MX.UTF-8")], &["offer", "list"]);
    assert_eq!(
        line,
        format!(
            "error: no hay datos de puente en {}; primero ejecute `puente init --org NAME`, o indique con --data-dir dónde están sus datos",
            n.data.display()
        )
    );
    // The same case in the default English of the tests.
    let line = fails_with(&n, &[], &["offer", "list"]);
    assert!(line.starts_with("error: no puente data in "), "{line}");
}

#[test]
fn lc_messages_overrides_lang_and_lc_all_overrides_both() {
    let mut n = Node::init("Placer Pride");
    n.pass = Some("not the passphrase".into());
    let line = fails_with(
        &n,
        &[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "es_ES.UTF-8")],
        &["whoami"],
    );
    assert_eq!(
        line,
        format!(
            "error: la frase de contraseña del almacén en {} no es correcta (o su encabezado fue alterado); revise PUENTE_PASSPHRASE o --passphrase-file e intente de nuevo",
            n.data.display()
        )
    );
    let line = fails_with(
        &n,
        &[("LC_ALL", "C"), ("LC_MESSAGES", "es_ES.UTF-8")],
        &["whoami"],
    );
    assert!(
        line.starts_with("error: wrong passphrase for the store"),
        "{line}"
    );
}

#[test]
fn a_running_node_answers_in_the_language_of_the_client() {
    let mut n = Node::init("River Refuge");
    let _d = Daemon::start(&n, "node");
    // No passphrase: only the node can answer these.
    n.pass = None;
    let es = [("LANG", "es_MX.UTF-8")];

    let line = fails_with(&n, &es, &["offer", "show", "zzzzzzzz"]);
    assert_eq!(
        line,
        "error: ninguna oferta coincide con `zzzzzzzz`; vea las ofertas con `puente offer list` o `puente query`"
    );

    // What the node refuses before anything runs speaks the request's language too.
    let socket = n.data.join("puente.sock");
    let init = serde_json::json!({
        "version": 1, "args": ["init", "--org", "Again"], "cwd": "/", "now": 0, "lang": "es"
    });
    assert_eq!(
        final_frame(&socket, &init),
        serde_json::json!({
            "exit": 1,
            "error": "ya hay un nodo en marcha aquí; `puente init` es para un directorio de datos nuevo y vacío (elija uno con --data-dir)"
        })
    );
    // So does a flag's value the records refuse, in the request's language.
    let county = serde_json::json!({
        "version": 1, "args": ["query", "--county", "123"], "cwd": "/", "now": 0, "lang": "es"
    });
    assert_eq!(
        final_frame(&socket, &county),
        serde_json::json!({
            "exit": 2,
            "error": "valor no válido '123' para '--county <FIPS>': el condado `123` no es un código FIPS de 5 dígitos (Sacramento es 06067, Yolo 06113, Placer 06061)"
        })
    );
    let newer = serde_json::json!({
        "version": 99, "args": ["query"], "cwd": "/", "now": 0, "lang": "es-MX"
    });
    assert_eq!(
        final_frame(&socket, &newer)["error"],
        "este nodo usa la versión 1 del protocolo de control, no la 99; use la misma versión de puente que el nodo en marcha"
    );

    // The same node, asked in English, answers in English.
    let line = fails_with(&n, &[], &["offer", "show", "zzzzzzzz"]);
    assert_eq!(
        line,
        "error: no offer matches `zzzzzzzz`; list offers with `puente offer list` or `puente query`"
    );
}

#[test]
fn values_the_records_refuse_are_explained_in_spanish() {
    let n = Node::init("River Refuge");
    let es = [("LANG", "es_MX.UTF-8")];
    fn add<'a>(extra: &[&'a str]) -> Vec<&'a str> {
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
        a
    }
    let before = n.state();

    // A label the check refuses, as the replica refuses it.
    let line = fails_with(&n, &es, &add(&["--label", "llame al 916-555-0123"]));
    assert_eq!(
        line,
        "error: parece que la descripción incluye un número de teléfono; las organizaciones aliadas preguntan por sus ofertas por la vía de contacto de su organización, así que no ponga datos de contacto"
    );
    assert!(!line.contains("555"), "the label is never repeated: {line}");

    // A flag's value its parser refuses: clap's line, in Spanish.
    let line = fails_with(&n, &es, &add(&["--county", "123"]));
    assert_eq!(
        line,
        "error: valor no válido '123' para '--county <FIPS>': el condado `123` no es un código FIPS de 5 dígitos (Sacramento es 06067, Yolo 06113, Placer 06061)"
    );
    let line = fails_with(&n, &es, &add(&["--lead-time", "3 days"]));
    assert_eq!(
        line,
        "error: valor no válido '3 days' para '--lead-time <DURATION>': `3 days` no es una duración; escríbala así: 90m, 48h, 14d o 2w"
    );
    // A window, a handle and a rule of the schema.
    let line = fails_with(&n, &es, &add(&["--window", "+5d..+2d=1"]));
    assert_eq!(
        line,
        "error: --window: no se aceptó el periodo `+5d..+2d=1`: un periodo debe terminar después de empezar (START..END=TOTAL; END no se incluye)"
    );
    let line = fails_with(
        &n,
        &es,
        &[
            "offer",
            "add",
            "--kind",
            "host-home",
            "--handle",
            "Maria Lopez",
            "--county",
            "06067",
        ],
    );
    assert!(
        line.starts_with("error: el seudónimo debe tener de 2 a 32 caracteres"),
        "{line}"
    );
    let line = fails_with(&n, &es, &add(&["--bond-band", "5k-15k"]));
    assert!(
        line.starts_with("error: el rango de fianza y el plazo para pagarla"),
        "{line}"
    );

    // clap's other usage errors stay in its own English (and its own layout).
    let out = n
        .cmd(&["offer", "add", "--no-such-flag"])
        .env("LANG", "es_MX.UTF-8")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: unexpected argument"), "{stderr}");

    // The same refusals in English read as they always have.
    let line = fails_with(&n, &[], &add(&["--county", "123"]));
    assert_eq!(
        line,
        "error: invalid value '123' for '--county <FIPS>': county `123` is not a 5-digit FIPS code (Sacramento is 06067, Yolo 06113, Placer 06061)"
    );
    assert!(before == n.state(), "a refused offer wrote something");
}

#[test]
fn an_import_reports_a_refused_row_in_the_language_of_the_command() {
    let n = Node::init("River Refuge");
    let file = n.scratch().join("offers.csv");
    std::fs::write(
        &file,
        "handle,kind,subject,counties,unit,vetting,label\n\
         host-ok-1,host-home,household,06067,room,org-vetted,quiet room\n\
         host-bad-1,host-home,household,06067,room,org-vetted,llame al 916-555-0123\n\
         host-bad-2,hotel,household,06067,room,org-vetted,\n",
    )
    .expect("write the file");
    let file = file.to_str().expect("utf-8");
    let args = [
        "import",
        file,
        "--dry-run",
        "--allow-partial",
        "--format",
        "json",
    ];
    let report = |env: &[(&str, &str)]| -> serde_json::Value {
        let mut c = n.cmd(&args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("the binary runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let es = report(&[("LANG", "es_MX.UTF-8")]);
    let en = report(&[]);
    let rejected = &es["rejected"];
    assert_eq!(rejected.as_array().map(Vec::len), Some(2), "{es}");
    assert_eq!(rejected[0]["line"], 3);
    assert_eq!(rejected[0]["handle"], "host-bad-1");
    assert_eq!(rejected[0]["column"], "label");
    assert_eq!(
        rejected[0]["reason"],
        "parece que la descripción incluye un número de teléfono; las organizaciones aliadas preguntan por sus ofertas por la vía de contacto de su organización, así que no ponga datos de contacto"
    );
    assert_eq!(rejected[1]["column"], "kind");
    assert!(
        rejected[1]["reason"].as_str().is_some_and(|r| r
            .starts_with("`hotel` no es un tipo de ayuda válido; use uno de estos: host-home,")),
        "{es}"
    );
    // The outcomes carry the same sentence.
    assert_eq!(es["outcomes"][1]["reason"], rejected[0]["reason"]);
    // In English, the library's words; every other field is the same in both languages.
    assert!(
        en["rejected"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("label looks like it contains a phone number")),
        "{en}"
    );
    let without_reasons = |mut v: serde_json::Value| {
        for list in ["rejected", "outcomes"] {
            for row in v[list].as_array_mut().expect("a list") {
                row["reason"] = serde_json::Value::Null;
            }
        }
        v
    };
    assert_eq!(without_reasons(es.clone()), without_reasons(en.clone()));
}

/// Sends `request` as one frame on the control socket and returns the last frame of the
/// answer.
fn final_frame(socket: &Path, request: &serde_json::Value) -> serde_json::Value {
    let body = serde_json::to_vec(request).expect("json");
    let mut s = UnixStream::connect(socket).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    s.write_all(&(body.len() as u32).to_be_bytes())
        .and_then(|()| s.write_all(&body))
        .expect("send the request");
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes)
        .expect("the node answers and closes");
    let mut rest = &bytes[..];
    let mut last = serde_json::Value::Null;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        last = serde_json::from_slice(&rest[4..4 + len]).expect("a JSON frame");
        rest = &rest[4 + len..];
    }
    last
}
