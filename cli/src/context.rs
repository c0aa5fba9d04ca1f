//! What every command needs before it starts: the data directory, "now", the output format,
//! and a way to open the replica.
//!
//! This is the only place in puente that reads the clock, and with `PUENTE_NOW` set it does
//! not read it either, so that tests and scripts are deterministic.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use puente_crdt::Time;
use puente_crdt::time::{self, When};
use puente_node::replica::Replica;

use crate::args::{Cli, Format};
use crate::fail;
use crate::passphrase::{self, Purpose};

/// Settings shared by every command.
#[derive(Debug)]
pub struct Ctx {
    /// The instant this command runs at.
    pub now: Time,
    /// The data directory.
    pub dir: PathBuf,
    /// `--passphrase-file`.
    pub passphrase_file: Option<PathBuf>,
    /// `--format`, if given.
    pub format: Option<Format>,
}

impl Ctx {
    /// Reads the global flags and the environment.
    pub fn new(cli: &Cli) -> Result<Ctx> {
        Ok(Ctx {
            now: now()?,
            dir: data_dir(cli.data_dir.as_deref())?,
            passphrase_file: cli.passphrase_file.clone(),
            format: cli.format,
        })
    }

    /// The output format for a command that prints records (table, json or csv).
    pub fn format(&self) -> Result<Format> {
        match self.format {
            None => Ok(Format::Table),
            Some(Format::Hsds) => {
                bail!("--format hsds is only for `puente export`; use table, json or csv here")
            }
            Some(f) => Ok(f),
        }
    }

    /// Opens the existing replica in the data directory.
    pub fn open(&self) -> Result<Replica> {
        if !has_store(&self.dir) {
            bail!(
                "no puente data in {}; run `puente init --org NAME` first, or point --data-dir at your data",
                self.dir.display()
            );
        }
        Replica::check_location(&self.dir).map_err(|e| fail::replica(e, &self.dir))?;
        let pass = passphrase::obtain(self.passphrase_file.as_deref(), &self.dir, Purpose::Open)?;
        tracing::debug!(dir = %self.dir.display(), "opening the store");
        Replica::open(&self.dir, pass.as_bytes()).map_err(|e| fail::replica(e, &self.dir))
    }

    /// Maps a replica error to the one-line message for this data directory.
    pub fn err(&self, e: puente_node::replica::ReplicaError) -> anyhow::Error {
        fail::replica(e, &self.dir)
    }
}

/// Whether `dir` looks like it holds a store (exists and is not empty).
pub fn has_store(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// "Now": `PUENTE_NOW` (RFC 3339) if set, else the system clock.
fn now() -> Result<Time> {
    match std::env::var("PUENTE_NOW") {
        Ok(text) if !text.trim().is_empty() => {
            let ts: jiff::Timestamp = text.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "PUENTE_NOW `{}` is not an RFC 3339 time such as 2026-11-22T09:00:00-08:00; fix or unset it",
                    text.chars().take(40).collect::<String>()
                )
            })?;
            Ok(Time(ts.as_second()))
        }
        _ => Ok(Time(jiff::Timestamp::now().as_second())),
    }
}

/// The data directory: `--data-dir`/`PUENTE_DATA_DIR`, else `$XDG_DATA_HOME/puente`, else
/// `$HOME/.local/share/puente`.
fn data_dir(flag: Option<&Path>) -> Result<PathBuf> {
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
    bail!("cannot tell where to keep data: pass --data-dir DIR or set PUENTE_DATA_DIR")
}

/// Parses a date flag in the organisation's zone into an instant.
pub fn instant(flag: &str, text: &str, now: Time, tz_name: &str) -> Result<Time> {
    let tz = time::zone(tz_name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = time::local_date(now, &tz);
    let when: When = time::parse_when(text, today).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    when.instant(&tz)
        .map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}
