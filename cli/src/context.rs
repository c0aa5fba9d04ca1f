//! What every command needs before it starts: the data directory, "now", the output format,
//! a way to open the replica, and where its text goes.
//!
//! A command runs in one of two ways with the same code: directly (this process opens the
//! store, prints to its own stdout and stderr, and may use the terminal), or served by a
//! running node through the control socket (the replica is the node's, borrowed for the
//! command; text is collected and streamed back to the client; no terminal; relative paths are
//! the client's). [`Ctx`] hides the difference.
//!
//! This is the only place in puente that reads the clock, and with `PUENTE_NOW` set it does
//! not read it either, so that tests and scripts are deterministic.

use std::cell::RefCell;
use std::io::Write;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use puente_crdt::Time;
use puente_crdt::time::{self, When};
use puente_node::actor::NodeStatus;
use puente_node::identity::PublicKey;
use puente_node::replica::{Replica, ReplicaError};
use puente_node::store::StoreError;

use crate::args::{Cli, Format};
use crate::messages;
use crate::output::{self, Verbosity};
use crate::passphrase::{self, Purpose};

/// Settings shared by every command, and where its replica and its text come from and go.
#[derive(Debug)]
pub struct Ctx<'r> {
    /// The instant this command runs at.
    pub now: Time,
    /// The data directory.
    pub dir: PathBuf,
    /// `--passphrase-file`.
    pub passphrase_file: Option<PathBuf>,
    /// `--format`, if given.
    pub format: Option<Format>,
    /// `--quiet` or `--verbose`: whether text for people ([`Ctx::say`], [`Ctx::note`]) is
    /// written. A node serving a command uses the client's.
    pub verbosity: Verbosity,
    /// Whether the command may use the terminal (a confirmation prompt, a progress bar): never
    /// when a node serves it, since the node's terminal is not the user's.
    pub interactive: bool,
    /// The directory relative paths in arguments are resolved against; `None` for this
    /// process's own.
    cwd: Option<PathBuf>,
    /// The node's replica, lent for this one command (see [`Ctx::served`]).
    lent: RefCell<Option<&'r mut Replica>>,
    /// Whether this command is served by a node (then the store is never opened directly).
    served: bool,
    /// The text written so far, when it is collected rather than printed.
    collected: Option<RefCell<Vec<Text>>>,
    /// What the running node reports, when a node serves this command.
    node: Option<NodeView>,
    /// Addresses the command asks the running node to dial.
    dials: RefCell<Vec<(PublicKey, String)>>,
    /// The contents of the file the command reads, when they came with the request instead of
    /// being on disk (a spreadsheet uploaded to the web page, kept in memory only).
    attached: RefCell<Option<Vec<u8>>>,
}

/// What a running node tells a command it serves.
#[derive(Debug, Clone)]
pub struct NodeView {
    /// Sessions, sync state and traffic just before the command started.
    pub status: NodeStatus,
    /// The addresses the node listens on.
    pub listen: Vec<String>,
}

/// Text a command wrote, in order, when it is collected to be streamed back to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// For standard output.
    Stdout(String),
    /// For standard error.
    Stderr(String),
}

impl Ctx<'static> {
    /// Reads the global flags and the environment: a command this process runs itself.
    pub fn new(cli: &Cli) -> Result<Ctx<'static>> {
        Ok(Ctx {
            now: now()?,
            dir: data_dir(cli.data_dir.as_deref())?,
            passphrase_file: cli.passphrase_file.clone(),
            format: cli.format,
            verbosity: Verbosity::of(cli.quiet, cli.verbose),
            interactive: true,
            cwd: None,
            lent: RefCell::new(None),
            served: false,
            collected: None,
            node: None,
            dials: RefCell::new(Vec::new()),
            attached: RefCell::new(None),
        })
    }
}

impl<'r> Ctx<'r> {
    /// A command a running node serves for a client: `replica` is the node's; `now`, the
    /// flags and `cwd` are the client's, and the text is collected (take it with
    /// [`Ctx::take_text`]).
    pub fn served(
        replica: &'r mut Replica,
        now: Time,
        format: Option<Format>,
        verbosity: Verbosity,
        cwd: PathBuf,
    ) -> Ctx<'r> {
        Ctx {
            now,
            dir: replica.dir().to_path_buf(),
            passphrase_file: None,
            format,
            verbosity,
            interactive: false,
            cwd: Some(cwd),
            lent: RefCell::new(Some(replica)),
            served: true,
            collected: Some(RefCell::new(Vec::new())),
            node: None,
            dials: RefCell::new(Vec::new()),
            attached: RefCell::new(None),
        }
    }

    /// Gives the command the contents of the file it reads (see [`Ctx::take_attached`]).
    pub fn with_attached(self, bytes: Option<Vec<u8>>) -> Self {
        *self.attached.borrow_mut() = bytes;
        self
    }

    /// The contents of the file the command reads, when they came with the request: the
    /// command then reads them instead of the file its argument names (the name is kept for
    /// its messages).
    pub fn take_attached(&self) -> Option<Vec<u8>> {
        self.attached.borrow_mut().take()
    }

    /// Adds what the running node reports (for `status`, `peer list`, `invite create`).
    pub fn with_node(mut self, view: NodeView) -> Self {
        self.node = Some(view);
        self
    }

    /// What the running node reports, when a node serves this command.
    pub fn node(&self) -> Option<&NodeView> {
        self.node.as_ref()
    }

    /// Asks the running node (if any) to dial `addr` for `key` once the command is done.
    pub fn dial(&self, key: PublicKey, addr: String) {
        self.dials.borrow_mut().push((key, addr));
    }

    /// The addresses the command asked the node to dial.
    pub fn take_dials(&self) -> Vec<(PublicKey, String)> {
        std::mem::take(&mut *self.dials.borrow_mut())
    }

    /// Writes `text` to standard output (or collects it for the client): what the command was
    /// asked for, written even with `--quiet`.
    pub fn emit(&self, text: &str) -> Result<()> {
        match &self.collected {
            None => output::emit(text),
            Some(c) => {
                c.borrow_mut().push(Text::Stdout(text.to_string()));
                Ok(())
            }
        }
    }

    /// [`Ctx::emit`] of what `write` writes, straight to standard output (or collected for the
    /// client): for results too large to hold twice.
    pub fn emit_with(
        &self,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
    ) -> Result<()> {
        match &self.collected {
            None => output::emit_with(write),
            Some(c) => {
                let mut bytes = Vec::new();
                write(&mut bytes)?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                c.borrow_mut().push(Text::Stdout(text));
                Ok(())
            }
        }
    }

    /// Writes `text` to standard output like [`Ctx::emit`], unless `--quiet`: for sentences
    /// written for people around the result (a confirmation, a hint, what to do next).
    pub fn say(&self, text: &str) -> Result<()> {
        if self.verbosity.speaks() {
            self.emit(text)
        } else {
            Ok(())
        }
    }

    /// Writes `text` to standard error (or collects it for the client), unless `--quiet`: for
    /// messages to the person at the terminal that are not the command's result.
    pub fn note(&self, text: &str) {
        if self.verbosity.speaks() {
            self.alert(text);
        }
    }

    /// Writes `text` to standard error (or collects it for the client), even with `--quiet`:
    /// for what the person must see for the command to do its job (a safety phrase to
    /// compare).
    pub fn alert(&self, text: &str) {
        match &self.collected {
            None => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
            }
            Some(c) => c.borrow_mut().push(Text::Stderr(text.to_string())),
        }
    }

    /// The text collected so far (empty when it was printed directly).
    pub fn take_text(&self) -> Vec<Text> {
        self.collected
            .as_ref()
            .map(|c| std::mem::take(&mut *c.borrow_mut()))
            .unwrap_or_default()
    }

    /// A path named in an argument, resolved against the directory the command was typed in.
    pub fn path(&self, p: &Path) -> PathBuf {
        match &self.cwd {
            Some(cwd) => cwd.join(p),
            None => p.to_path_buf(),
        }
    }

    /// The output format for a command that prints records (table, json or csv).
    pub fn format(&self) -> Result<Format> {
        match self.format {
            None => Ok(Format::Table),
            Some(Format::Hsds) => bail!(t!("err-format-hsds-export-only")),
            Some(f) => Ok(f),
        }
    }

    /// As [`Ctx::format`], for a command whose output has no single row shape: `--format csv`
    /// is refused in one line instead of printing something that is not CSV.
    pub fn format_table_or_json(&self) -> Result<Format> {
        match self.format()? {
            Format::Csv => bail!(t!("err-format-csv-unavailable")),
            f => Ok(f),
        }
    }

    /// The replica: the node's when a node serves this command, else the store in the data
    /// directory, opened now (asking for the passphrase).
    pub fn open(&self) -> Result<Opened<'r>> {
        if self.served {
            return match self.lent.borrow_mut().take() {
                Some(r) => Ok(Opened::Lent(r)),
                None => bail!(t!("err-replica-asked-twice")),
            };
        }
        let pass = self.passphrase_to_open()?;
        tracing::debug!(dir = %self.dir.display(), "opening the store");
        self.open_writable(pass.as_bytes())
    }

    /// The replica for a command that only reads: the node's when a node serves this
    /// command, else the store opened read-only ([`Replica::open_read_only`]), so that nothing
    /// on disk changes. When that open cannot serve (the file was not closed cleanly, opening
    /// must settle something first, or redb fails on a file damaged outside it), the store is
    /// opened as for a write, which repairs, settles or reports the damage in one line.
    pub fn open_read_only(&self) -> Result<Opened<'r>> {
        if self.served {
            return self.open();
        }
        let pass = self.passphrase_to_open()?;
        tracing::debug!(dir = %self.dir.display(), "opening the store read-only");
        let attempt = crate::quiet_panics(|| Replica::open_read_only(&self.dir, pass.as_bytes()));
        match attempt {
            Some(Ok(r)) => return Ok(Opened::Owned(Box::new(r))),
            Some(Err(ReplicaError::Store(
                StoreError::ReadOnly | StoreError::NeedsRepair { .. },
            )))
            | None => {}
            Some(Err(e)) => return Err(self.err(e)),
        }
        tracing::debug!(dir = %self.dir.display(), "opening the store read-write instead");
        self.open_writable(pass.as_bytes())
    }

    /// Checks that the data directory holds a store and is private, then obtains the
    /// passphrase (asking for it only after that).
    fn passphrase_to_open(&self) -> Result<zeroize::Zeroizing<String>> {
        if !has_store(&self.dir) {
            bail!(t!(
                "err-store-not-found",
                dir = self.dir.display().to_string()
            ));
        }
        Replica::check_location(&self.dir).map_err(|e| self.err(e))?;
        passphrase::obtain(self.passphrase_file.as_deref(), &self.dir, Purpose::Open)
    }

    fn open_writable(&self, pass: &[u8]) -> Result<Opened<'r>> {
        Replica::open(&self.dir, pass)
            .map(|r| Opened::Owned(Box::new(r)))
            .map_err(|e| self.err(e))
    }

    /// Maps a replica error to the one-line message for this data directory.
    pub fn err(&self, e: ReplicaError) -> anyhow::Error {
        anyhow::anyhow!(messages::replica(&e, &self.dir))
    }
}

/// The replica a command works on: opened by this process (and closed by the command), or
/// lent by the running node (which keeps it open).
#[derive(Debug)]
pub enum Opened<'r> {
    /// Opened by this process (boxed: a replica is large, a loan is one pointer).
    Owned(Box<Replica>),
    /// The node's, for the duration of one command.
    Lent(&'r mut Replica),
}

impl Opened<'_> {
    /// Ends the command's use of the replica: closes one this process opened (writing a
    /// snapshot when one is due); a lent one stays open in the node.
    pub fn close(self) -> Result<(), ReplicaError> {
        match self {
            Opened::Owned(r) => (*r).close(),
            Opened::Lent(_) => Ok(()),
        }
    }

    /// [`Opened::close`] for a command whose process exits next: one opened read-only leaves
    /// its memory to the exit ([`Replica::close_at_exit`]).
    pub fn close_at_exit(self) -> Result<(), ReplicaError> {
        match self {
            Opened::Owned(r) => (*r).close_at_exit(),
            Opened::Lent(_) => Ok(()),
        }
    }

    /// The replica itself, if this process opened it.
    pub fn into_owned(self) -> Option<Replica> {
        match self {
            Opened::Owned(r) => Some(*r),
            Opened::Lent(_) => None,
        }
    }
}

impl Deref for Opened<'_> {
    type Target = Replica;

    fn deref(&self) -> &Replica {
        match self {
            Opened::Owned(r) => r,
            Opened::Lent(r) => r,
        }
    }
}

impl DerefMut for Opened<'_> {
    fn deref_mut(&mut self) -> &mut Replica {
        match self {
            Opened::Owned(r) => r,
            Opened::Lent(r) => r,
        }
    }
}

/// Whether `dir` looks like it holds a store (exists and is not empty).
pub fn has_store(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// "Now": `PUENTE_NOW` (RFC 3339) if set, else the system clock.
pub fn now() -> Result<Time> {
    match std::env::var("PUENTE_NOW") {
        Ok(text) if !text.trim().is_empty() => {
            let ts: jiff::Timestamp = text.trim().parse().map_err(|_| {
                anyhow::anyhow!(t!(
                    "err-bad-now",
                    text = text.chars().take(40).collect::<String>()
                ))
            })?;
            Ok(Time(ts.as_second()))
        }
        _ => Ok(Time(jiff::Timestamp::now().as_second())),
    }
}

/// The data directory: `--data-dir`/`PUENTE_DATA_DIR`, else `$XDG_DATA_HOME/puente`, else
/// `$HOME/.local/share/puente`.
pub fn data_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        let x = PathBuf::from(x);
        if x.is_absolute() {
            return Ok(x.join("puente"));
        }
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h).join(".local/share/puente"));
    }
    bail!(t!("err-no-data-dir"))
}

/// Parses a date flag in the organisation's zone into an instant.
pub fn instant(flag: &str, text: &str, now: Time, tz_name: &str) -> Result<Time> {
    let tz = time::zone(tz_name).map_err(|e| anyhow::anyhow!(messages::time(&e)))?;
    let today = time::local_date(now, &tz);
    let when: When = time::parse_when(text, today)
        .map_err(|e| anyhow::anyhow!("{flag}: {}", messages::time(&e)))?;
    when.instant(&tz)
        .map_err(|e| anyhow::anyhow!("{flag}: {}", messages::time(&e)))
}
