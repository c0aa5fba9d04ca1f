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
            "error": "ya hay un nodo en ejecución aquí; `puente init` es para un directorio de datos nuevo y vacío (elija uno con --data-dir)"
        })
    );
    let newer = serde_json::json!({
        "version": 99, "args": ["query"], "cwd": "/", "now": 0, "lang": "es-MX"
    });
    assert_eq!(
        final_frame(&socket, &newer)["error"],
        "este nodo usa la versión 1 del protocolo de control, no la 99; use la misma versión de puente que el nodo en ejecución"
    );

    // The same node, asked in English, answers in English.
    let line = fails_with(&n, &[], &["offer", "show", "zzzzzzzz"]);
    assert_eq!(
        line,
        "error: no offer matches `zzzzzzzz`; list offers with `puente offer list` or `puente query`"
    );
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
