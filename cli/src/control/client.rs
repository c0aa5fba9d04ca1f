//! The client's side of the control socket: when a node runs on the data directory, hand it
//! the command and relay what it answers; otherwise say so, and the command runs directly.
//!
//! Invariant: nothing here asks for the passphrase; a socket that does not answer (none there,
//! a leftover file, a node killed without cleaning up) means "no node", and the direct path's
//! store lock still guards against a node that really runs.

use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::{Result, bail};
use puente_node::replica::Replica;
use serde_json::Value;

use super::{MAX_RESPONSE_BYTES, PROTOCOL_VERSION, Request, Response, frame, read_frame};
use crate::args::{Cli, Command, HoldCommand, OfferCommand};
use crate::commands::offer::confirm_withdrawal;
use crate::context::Ctx;
use crate::messages::Exit;
use crate::output;

/// A connection to the node running on `dir`, if one answers.
pub fn connect(dir: &Path) -> Option<UnixStream> {
    // The same privacy check as a direct open: in a private directory only its owner can have
    // put the socket there. A failing check is reported by the direct path.
    Replica::check_location(dir).ok()?;
    let path = super::socket_path(dir);
    match UnixStream::connect(&path) {
        Ok(stream) => Some(stream),
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::debug!(error = %e, "no node answers on the control socket");
            }
            None
        }
    }
}

/// Runs the command through the node running on the data directory. `Ok(false)`: no node
/// answers, so the caller runs it directly. A failure the node reports comes back as
/// [`Exit`].
pub fn forward(ctx: &Ctx, cli: &Cli) -> Result<bool> {
    let Some(stream) = connect(&ctx.dir) else {
        return Ok(false);
    };
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(a) => args.push(a),
            Err(_) => bail!(t!(
                "err-client-argument-not-utf8",
                dir = ctx.dir.display().to_string()
            )),
        }
    }
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.into_os_string().into_string().ok())
        .ok_or_else(|| {
            anyhow::anyhow!(t!(
                "err-client-cwd-not-passable",
                dir = ctx.dir.display().to_string()
            ))
        })?;
    let mut stream = Some(stream);

    if let Command::Offer(OfferCommand::Withdraw(w)) = &cli.command
        && !w.yes
        && std::io::stdin().is_terminal()
    {
        // Ask here, as the direct path would, then forward the equivalent of --yes. When the
        // offer cannot be withdrawn (unknown, a partner's, already withdrawn), forward the
        // command as typed and let the node say why.
        if let Some((kind, handle, id)) = withdrawable(ctx, &mut stream, &cwd, &w.id)? {
            if !confirm_withdrawal(&kind, &handle, &id)? {
                ctx.note(&format!("{}\n", t!("err-client-not-withdrawn")));
                return Ok(true);
            }
            let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
            args.insert(at, "--yes".to_string());
        }
    }

    if let Command::Hold(HoldCommand::Place(p)) = &cli.command
        && p.from.is_none()
        && !p.whole_window
        && std::io::stdin().is_terminal()
    {
        // The node has no terminal: ask here, as the direct path would, and forward the dates.
        let (from, to) = crate::commands::hold::ask_dates()?;
        let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
        args.splice(at..at, ["--from".to_string(), from, "--to".to_string(), to]);
    }

    let stream = match stream.take() {
        Some(s) => s,
        None => reconnect(ctx)?,
    };
    let (exit, error) = exchange(ctx, stream, &args, &cwd, &mut Relay::Print)?;
    if exit == 0 && error.is_none() {
        Ok(true)
    } else {
        Err(Exit {
            code: exit.max(1),
            line: Some(error.unwrap_or_else(|| t!("err-client-no-reason"))),
        }
        .into())
    }
}

/// Kind, handle and id of the offer `id` names, if it is this organisation's and not
/// withdrawn (asked of the node).
fn withdrawable(
    ctx: &Ctx,
    stream: &mut Option<UnixStream>,
    cwd: &str,
    id: &str,
) -> Result<Option<(String, String, String)>> {
    let mut ask = |args: &[&str]| -> Result<Option<Value>> {
        let s = match stream.take() {
            Some(s) => s,
            None => reconnect(ctx)?,
        };
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let mut text = String::new();
        let (exit, _) = exchange(ctx, s, &args, cwd, &mut Relay::Collect(&mut text))?;
        Ok((exit == 0)
            .then(|| serde_json::from_str(&text).ok())
            .flatten())
    };
    let Some(offer) = ask(&["offer", "show", id, "--format", "json"])? else {
        return Ok(None);
    };
    let Some(me) = ask(&["whoami", "--format", "json"])? else {
        return Ok(None);
    };
    let text = |v: &Value, k: &str| v[k].as_str().map(str::to_string);
    let ours = text(&offer, "owner").is_some() && text(&offer, "owner") == text(&me, "org");
    if !ours || offer["withdrawn"].as_bool() != Some(false) {
        return Ok(None);
    }
    match (
        text(&offer, "kind"),
        text(&offer, "handle"),
        text(&offer, "offer_id"),
    ) {
        (Some(k), Some(h), Some(i)) => Ok(Some((k, h, i))),
        _ => Ok(None),
    }
}

/// Asks the node running on the data directory for the standard output of the command `args`
/// (for commands the node answers itself, such as `open`); a failure it reports is an [`Exit`].
pub fn ask(ctx: &Ctx, args: &[String]) -> Result<String> {
    let Some(stream) = connect(&ctx.dir) else {
        bail!(t!(
            "web-open-needs-node",
            dir = ctx.dir.display().to_string()
        ));
    };
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.into_os_string().into_string().ok())
        .unwrap_or_else(|| "/".to_string());
    let mut text = String::new();
    let (exit, error) = exchange(ctx, stream, args, &cwd, &mut Relay::Collect(&mut text))?;
    if exit != 0 || error.is_some() {
        return Err(Exit {
            code: exit.max(1),
            line: error,
        }
        .into());
    }
    Ok(text)
}

/// A further connection to the node, which answered a moment ago.
fn reconnect(ctx: &Ctx) -> Result<UnixStream> {
    connect(&ctx.dir).ok_or_else(|| {
        anyhow::anyhow!(t!(
            "err-client-stopped-answering",
            dir = ctx.dir.display().to_string()
        ))
    })
}

/// Where the node's text goes.
enum Relay<'a> {
    /// To this process's stdout and stderr.
    Print,
    /// Stdout into a string (stderr is dropped): for questions the client asks itself.
    Collect(&'a mut String),
}

/// Sends one request on `stream` and relays the answer; returns the exit status and error.
fn exchange(
    ctx: &Ctx,
    mut stream: UnixStream,
    args: &[String],
    cwd: &str,
    relay: &mut Relay<'_>,
) -> Result<(u8, Option<String>)> {
    let dir = ctx.dir.display().to_string();
    let request = Request {
        version: PROTOCOL_VERSION,
        args: args.to_vec(),
        cwd: cwd.to_string(),
        now: ctx.now.0,
        lang: Some(crate::i18n::current().tag().to_string()),
    };
    stream
        .write_all(&frame(&request))
        .and_then(|()| stream.flush())
        .map_err(|e| {
            anyhow::anyhow!(t!(
                "err-client-cannot-send",
                dir = dir.as_str(),
                reason = crate::messages::io_reason(&e)
            ))
        })?;
    let lost = || anyhow::anyhow!(t!("err-client-connection-lost", dir = dir.as_str()));
    loop {
        let bytes = match read_frame(&mut stream, MAX_RESPONSE_BYTES) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return Err(lost()),
        };
        let response: Response = serde_json::from_slice(&bytes)
            .map_err(|_| anyhow::anyhow!(t!("err-client-not-understood", dir = dir.as_str())))?;
        match (response, &mut *relay) {
            (Response::Stdout { stdout }, Relay::Print) => {
                // Whoever read our output left (`puente events --follow | head -1`): done.
                if !output::emit_open(&stdout)? {
                    return Ok((0, None));
                }
            }
            (Response::Stdout { stdout }, Relay::Collect(text)) => text.push_str(&stdout),
            (Response::Stderr { stderr }, Relay::Print) => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(stderr.as_bytes()).and_then(|()| err.flush());
            }
            (Response::Stderr { .. }, Relay::Collect(_)) => {}
            (Response::Exit { exit, error }, _) => return Ok((exit, error)),
        }
    }
}
