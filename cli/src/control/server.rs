//! The node's side of the control socket: binds it, accepts connections, checks who connects,
//! reads one request and answers it by running the command on the node's replica.
//!
//! Invariant: a malformed, oversized, slow or foreign connection ends that connection only; the
//! node and every other connection carry on.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use puente_crdt::Time;
use puente_node::actor::Node;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::{AbortHandle, JoinSet};

use super::{
    MAX_REQUEST_BYTES, PROTOCOL_VERSION, Request, Response, chunks, frame, read_frame_async,
};
use crate::args::{Cli, Command};
use crate::context::{Ctx, NodeView, Text};
use crate::i18n::{self, Lang};
use crate::web::Page;
use crate::{commands, messages};

/// How long a client has to send its request after connecting: a client writes it at once,
/// so this only bounds connections that never speak.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long writing one frame of the answer may take: a client reads as the answer comes, so
/// this only bounds connections that never read theirs.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once. Commands run one at a time on the node anyway, so this only
/// bounds tasks and buffers; when it is reached, a connection that is not running a command
/// makes room (see [`Connections::admit`]).
pub const MAX_CONNECTIONS: usize = 16;

/// Where a connection is: waiting for its request, running its command on the node, or
/// writing the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Running,
    Writing,
}

/// A connection's phase and since when, shared between its task and [`Connections`].
#[derive(Debug, Clone)]
struct PhaseCell(Arc<Mutex<(Phase, Instant)>>);

impl PhaseCell {
    fn new() -> Self {
        Self(Arc::new(Mutex::new((Phase::Waiting, Instant::now()))))
    }

    fn set(&self, phase: Phase) {
        if let Ok(mut p) = self.0.lock() {
            *p = (phase, Instant::now());
        }
    }

    fn get(&self) -> (Phase, Instant) {
        self.0
            .lock()
            .map(|p| *p)
            .unwrap_or((Phase::Running, Instant::now()))
    }
}

/// The connections being served, owned by `puente run`'s loop.
///
/// Invariant: clients that connect and say nothing, or never read their answer, cannot lock
/// other commands out: each phase has a deadline, and when every slot is taken the connection
/// that has waited longest without a command running (never spoke, or stuck writing) is ended
/// to make room for the new one.
#[derive(Debug, Default)]
pub struct Connections {
    tasks: JoinSet<()>,
    live: Vec<(AbortHandle, PhaseCell)>,
    /// The web page, when the node serves it: `puente open` asks it for sign-in links.
    page: Option<Page>,
}

impl Connections {
    /// No connections yet; `page` is the node's web page, if it serves one.
    pub fn new(page: Option<Page>) -> Self {
        Self {
            page,
            ..Self::default()
        }
    }

    /// Serves `stream`. Returns false (and drops the stream) only when every slot is running
    /// a command, which the node serves one at a time: the client then reports that the node
    /// is busy.
    pub fn admit(&mut self, stream: UnixStream, node: Node, owner: u32) -> bool {
        while self.tasks.try_join_next().is_some() {}
        self.live.retain(|(handle, _)| !handle.is_finished());
        if self.live.len() >= MAX_CONNECTIONS {
            let idle = self
                .live
                .iter()
                .enumerate()
                .filter_map(|(i, (_, cell))| {
                    let (phase, since) = cell.get();
                    (phase != Phase::Running).then_some((since, i))
                })
                .min();
            let Some((_, i)) = idle else {
                tracing::warn!("every control connection is running a command; dropping one");
                return false;
            };
            let (handle, _) = self.live.swap_remove(i);
            handle.abort();
            tracing::debug!("ended an idle control connection to make room");
        }
        let cell = PhaseCell::new();
        let handle = self
            .tasks
            .spawn(serve(stream, node, owner, cell.clone(), self.page.clone()));
        self.live.push((handle, cell));
        true
    }

    /// Gives the connections `grace` to finish, then ends the rest.
    pub async fn finish(mut self, grace: Duration) {
        let finish = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, finish).await.is_err() {
            tracing::debug!("stopping with control connections still open");
        }
        self.tasks.shutdown().await;
    }
}

/// The socket, bound and restricted to the owner, and what connections are checked against.
#[derive(Debug)]
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
    owner: u32,
}

impl ControlSocket {
    /// Binds `path` (in the data directory `dir`) with mode 0600. The caller holds the store's
    /// lock, so anything already at `path` is left over from a node that did not stop cleanly
    /// and is removed first (a directory there is an error).
    pub fn bind(dir: &Path, path: PathBuf) -> Result<ControlSocket> {
        let shown = path.display().to_string();
        let owner = std::fs::metadata(dir)
            .map_err(|e| {
                anyhow::anyhow!(t!(
                    "err-server-cannot-read-dir",
                    dir = dir.display().to_string(),
                    reason = messages::io_reason(&e)
                ))
            })?
            .uid();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                anyhow::bail!(t!("err-server-socket-is-directory", path = shown.as_str()))
            }
            Ok(meta) => {
                tracing::debug!(
                    socket = meta.file_type().is_socket(),
                    "removing a leftover control socket"
                );
                std::fs::remove_file(&path).map_err(|e| {
                    anyhow::anyhow!(t!(
                        "err-server-cannot-remove-socket",
                        path = shown.as_str(),
                        reason = messages::io_reason(&e)
                    ))
                })?;
            }
            Err(_) => {}
        }
        let listener = UnixListener::bind(&path).map_err(|e| {
            anyhow::anyhow!(t!(
                "err-server-cannot-create-socket",
                path = shown.as_str(),
                reason = messages::io_reason(&e)
            ))
        })?;
        // The data directory is 0700 already; 0600 on the socket keeps it owner-only even if
        // the directory's mode is loosened later.
        if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            let _ = std::fs::remove_file(&path);
            anyhow::bail!(t!(
                "err-server-cannot-restrict-socket",
                path = shown.as_str(),
                reason = messages::io_reason(&e)
            ));
        }
        Ok(ControlSocket {
            listener,
            path,
            owner,
        })
    }

    /// Where the socket is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next connection.
    pub async fn accept(&self) -> std::io::Result<UnixStream> {
        self.listener.accept().await.map(|(stream, _)| stream)
    }

    /// The user id that may connect (the owner of the data directory).
    pub fn owner(&self) -> u32 {
        self.owner
    }

    /// Stops listening and removes the socket file.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for ControlSocket {
    /// Removes the socket file, on a clean stop and on every early return alike.
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(error = %e, "cannot remove the control socket");
        }
    }
}

/// Serves one connection: checks the peer, reads one request, runs it, streams the answer.
async fn serve(
    mut stream: UnixStream,
    node: Node,
    owner: u32,
    phase: PhaseCell,
    page: Option<Page>,
) {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == owner => {}
        Ok(cred) => {
            tracing::warn!(
                uid = cred.uid(),
                "refused a control connection from another user"
            );
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell who connected to the control socket");
            return;
        }
    }
    let answer = match tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream)).await {
        Err(_) => refuse(&t!("err-server-request-timeout")),
        Ok(Err(None)) => return,
        Ok(Err(Some(reason))) => refuse(&reason),
        Ok(Ok(request)) => {
            if let Some(format) = follows(&request) {
                // A watcher: never "running a command", so a full socket may end it.
                phase.set(Phase::Writing);
                follow(&mut stream, request, &node, format).await;
                return;
            }
            phase.set(Phase::Running);
            match opens(&request) {
                Some(lang) => sign_in_link(page.as_ref(), lang),
                None => run(request, &node).await,
            }
        }
    };
    phase.set(Phase::Writing);
    for r in &answer {
        match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&frame(r))).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "the client left before the answer");
                return;
            }
            Err(_) => {
                tracing::debug!("the client does not read its answer; closing");
                return;
            }
        }
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, stream.shutdown()).await;
}

/// Reads the request frame. `Err(None)`: the client left without sending one (nothing to
/// answer); `Err(Some(reason))`: a request that is refused, in the language the request asks
/// for when it says, else the node's.
async fn read_request(stream: &mut UnixStream) -> Result<Request, Option<String>> {
    let buf = match read_frame_async(stream, MAX_REQUEST_BYTES).await {
        Ok(Some(buf)) => buf,
        Ok(None) => return Err(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(Some(e.to_string()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(Some(t!("err-server-request-ended-early")));
        }
        Err(_) => return Err(None),
    };
    let request: Request =
        serde_json::from_slice(&buf).map_err(|_| Some(t!("err-server-not-a-request")))?;
    if request.version != PROTOCOL_VERSION {
        return Err(Some(i18n::scoped(lang_of(&request), || {
            t!(
                "err-server-protocol-version",
                ours = PROTOCOL_VERSION,
                theirs = request.version
            )
        })));
    }
    Ok(request)
}

/// The language of an `open` request, or `None` for any other request.
fn opens(request: &Request) -> Option<Lang> {
    let argv = std::iter::once("puente".to_string()).chain(request.args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Command::Open(_),
            ..
        }) => Some(lang_of(request)),
        _ => None,
    }
}

/// The answer to `open`: a new sign-in link for the page, or why there is none.
fn sign_in_link(page: Option<&Page>, lang: Lang) -> Vec<Response> {
    match page {
        Some(page) => vec![
            Response::Stdout {
                stdout: format!("{}\n", page.sign_in_link()),
            },
            Response::Exit {
                exit: 0,
                error: None,
            },
        ],
        None => vec![Response::Exit {
            exit: crate::EXIT_FAILURE,
            error: Some(i18n::text_in(lang, "web-open-off", &[])),
        }],
    }
}

/// How often `events --follow` looks for something new.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(2);

/// The output format of an `events --follow` request, or `None` for any other request.
fn follows(request: &Request) -> Option<crate::args::Format> {
    let argv = std::iter::once("puente".to_string()).chain(request.args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Command::Events(a),
            format,
            ..
        // `--format csv` is refused by the command itself, as when no node serves it.
        }) if a.follow && !matches!(format, Some(crate::args::Format::Csv)) => {
            Some(format.unwrap_or(crate::args::Format::Table))
        }
        _ => None,
    }
}

/// Serves `events --follow`: what needs a person now, then each new item as it arrives, one
/// line each, until the client leaves (or stops reading) or the node stops. "Now" runs on from
/// the client's, so `PUENTE_NOW` works here as for every command.
async fn follow(
    stream: &mut UnixStream,
    request: Request,
    node: &Node,
    format: crate::args::Format,
) {
    let lang = lang_of(&request);
    let mut watcher = commands::inbox::Watcher::new(Time(request.now));
    let mut tick = tokio::time::interval(FOLLOW_INTERVAL);
    let mut probe = [0u8; 1];
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            // The client sends nothing after its request: a read that ends means it left.
            read = stream.read(&mut probe) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
                continue;
            }
        }
        let Some(events) = watcher.news(node).await else {
            let _ = write_frame(
                stream,
                &Response::Exit {
                    exit: 0,
                    error: None,
                },
            )
            .await;
            return;
        };
        let mut text = String::new();
        for e in &events {
            // In the client's language, as every answer of the node.
            match i18n::scoped(lang, || commands::inbox::event_line(e, format)) {
                Ok(line) => text.push_str(&line),
                Err(err) => tracing::debug!(error = %err, "cannot write an event"),
            }
        }
        if text.is_empty() {
            continue;
        }
        for chunk in chunks(&text) {
            let frame = Response::Stdout {
                stdout: chunk.to_string(),
            };
            if !write_frame(stream, &frame).await {
                return;
            }
        }
    }
}

/// Writes one response frame within [`WRITE_TIMEOUT`]; whether the client took it.
async fn write_frame(stream: &mut UnixStream, response: &Response) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&frame(response))).await,
        Ok(Ok(()))
    )
}

/// The answer to a request that is refused before anything runs.
fn refuse(reason: &str) -> Vec<Response> {
    tracing::debug!(%reason, "refused a control request");
    vec![Response::Exit {
        exit: crate::EXIT_USAGE,
        error: Some(reason.to_string()),
    }]
}

/// The language a request asks its answer in: English when it does not say (an older client)
/// or names one puente does not speak.
fn lang_of(request: &Request) -> Lang {
    request
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_default()
}

/// Runs the request's command on the node's replica and returns the frames to send.
async fn run(request: Request, node: &Node) -> Vec<Response> {
    let lang = lang_of(&request);
    let cwd = PathBuf::from(&request.cwd);
    if !cwd.is_absolute() {
        return refuse(&i18n::scoped(lang, || t!("err-server-cwd-not-absolute")));
    }
    let served = execute(request.args, cwd, Time(request.now), lang, None, node).await;
    let mut out = Vec::new();
    for t in served.texts {
        match t {
            Text::Stdout(s) => out.extend(chunks(&s).into_iter().map(|c| Response::Stdout {
                stdout: c.to_string(),
            })),
            Text::Stderr(s) => out.extend(chunks(&s).into_iter().map(|c| Response::Stderr {
                stderr: c.to_string(),
            })),
        }
    }
    out.push(Response::Exit {
        exit: served.exit,
        error: served.error,
    });
    out
}

/// What a command run on the node wrote, and how it ended.
#[derive(Debug)]
pub struct Served {
    /// What it wrote, in order.
    pub texts: Vec<Text>,
    /// Its exit status: 0 success, 1 failure, 2 usage error, 3 a command's own status.
    pub exit: u8,
    /// The one-line error, when it failed.
    pub error: Option<String>,
}

impl Served {
    fn refused(exit: u8, line: &str) -> Served {
        Served {
            texts: Vec::new(),
            exit,
            error: Some(line.to_string()),
        }
    }

    /// Everything it wrote to standard output.
    pub fn stdout(&self) -> String {
        self.texts
            .iter()
            .filter_map(|t| match t {
                Text::Stdout(s) => Some(s.as_str()),
                Text::Stderr(_) => None,
            })
            .collect()
    }
}

/// Runs the command `args` (the arguments after the binary name) on the node's replica, as the
/// binary would run it on the store, with relative paths resolved against `cwd`, at `now`, with
/// its messages in `lang`, reading `attached` instead of the file it names when given. The
/// control socket and the web page both run commands through here.
pub async fn execute(
    args: Vec<String>,
    cwd: PathBuf,
    now: Time,
    lang: Lang,
    attached: Option<Vec<u8>>,
    node: &Node,
) -> Served {
    let argv = std::iter::once("puente".to_string()).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // A value the record library refused, in the client's language; any other usage
            // error in clap's own words, in English (see `crate::i18n`).
            let text = e.render().to_string();
            let line = match (
                i18n::scoped(lang, || messages::clap_value(&e)),
                text.lines().next(),
            ) {
                (Some(line), _) => line,
                (None, Some(line)) => line.strip_prefix("error: ").unwrap_or(line).to_string(),
                (None, None) => i18n::scoped(lang, || t!("err-server-invalid-arguments")),
            };
            tracing::debug!(reason = %line, "refused a control request");
            return Served::refused(crate::EXIT_USAGE, &line);
        }
    };
    let command = match cli.command {
        Command::Init(_) => {
            let line = i18n::scoped(lang, || t!("err-server-init-refused"));
            return Served::refused(crate::EXIT_FAILURE, &line);
        }
        Command::Join(_) => {
            let line = i18n::scoped(lang, || t!("err-server-join-refused"));
            return Served::refused(crate::EXIT_FAILURE, &line);
        }
        Command::Run(_) => {
            let line = i18n::scoped(lang, || t!("err-server-run-refused"));
            return Served::refused(crate::EXIT_FAILURE, &line);
        }
        Command::Restore(_) => {
            let line = i18n::scoped(lang, || t!("err-server-restore-refused"));
            return Served::refused(crate::EXIT_FAILURE, &line);
        }
        command => command,
    };
    let format = cli.format;
    let verbosity = crate::output::Verbosity::of(cli.quiet, cli.verbose);
    let listen = node.listen_addrs().await.unwrap_or_default();
    let served = node
        .with_control(move |control| {
            i18n::scoped(lang, || {
                let view = NodeView {
                    status: control.status().clone(),
                    listen,
                };
                let ctx = Ctx::served(control.replica(), now, format, verbosity, cwd)
                    .with_node(view)
                    .with_attached(attached);
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    commands::dispatch(&ctx, command)
                }));
                let outcome = match result {
                    Ok(Ok(())) => (0, None),
                    // A command's own exit status (`hold place`'s overbooked) travels as it is.
                    Ok(Err(e)) => match e.downcast_ref::<crate::messages::Exit>() {
                        Some(exit) => (exit.code, exit.line.clone()),
                        None => (crate::EXIT_FAILURE, Some(exit_line(&e))),
                    },
                    Err(_) => (crate::EXIT_FAILURE, Some(t!("err-server-internal"))),
                };
                let texts = ctx.take_text();
                let dials = ctx.take_dials();
                drop(ctx);
                for (key, addr) in dials {
                    control.add_address(key, addr);
                }
                (texts, outcome)
            })
        })
        .await;
    match served {
        Ok((texts, (exit, error))) => Served { texts, exit, error },
        Err(e) => {
            let line = i18n::scoped(lang, || {
                t!("err-server-did-not-run", reason = messages::chain(&e))
            });
            Served::refused(crate::EXIT_FAILURE, &line)
        }
    }
}

/// The one line for a failed command (as `main` prints it on the direct path).
fn exit_line(e: &anyhow::Error) -> String {
    messages::one_line(e)
}
