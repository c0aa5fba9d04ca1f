//! Where the store passphrase comes from: `PUENTE_PASSPHRASE`, then `--passphrase-file`, then
//! a prompt on the terminal (never echoed). Without a terminal and without a source, puente
//! stops with an error instead of waiting for input.
//!
//! The passphrase lives in a `Zeroizing` buffer and is never logged or printed.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Result, bail};
use zeroize::Zeroizing;

/// Shortest passphrase accepted when a store is created: Argon2id slows guessing down, but it
/// cannot save a passphrase that is in every wordlist.
pub const MIN_CHARS: usize = 8;

/// Largest passphrase file read: a passphrase is one line, so anything bigger is the wrong
/// file.
const MAX_FILE_BYTES: u64 = 4096;

/// Why the passphrase is wanted, which decides whether to ask twice and check its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Creating a store: asked twice on a terminal, at least [`MIN_CHARS`] characters.
    Create,
    /// Opening an existing store.
    Open,
}

/// Reads the passphrase from the first available source.
pub fn obtain(file: Option<&Path>, dir: &Path, purpose: Purpose) -> Result<Zeroizing<String>> {
    let pass = if let Some(p) = std::env::var_os("PUENTE_PASSPHRASE") {
        let Ok(p) = p.into_string() else {
            bail!(t!("err-passphrase-env-not-utf8"));
        };
        Zeroizing::new(p)
    } else if let Some(file) = file {
        read_file(file)?
    } else if std::io::stdin().is_terminal() {
        prompt(dir, purpose)?
    } else {
        bail!(t!("err-passphrase-missing"));
    };
    if pass.is_empty() {
        bail!(t!("err-passphrase-empty"));
    }
    if purpose == Purpose::Create && pass.chars().count() < MIN_CHARS {
        bail!(t!("err-passphrase-too-short", min = MIN_CHARS));
    }
    Ok(pass)
}

/// Reads a new passphrase for the store in `dir`: from `file` when given, else asked twice on
/// the terminal; at least [`MIN_CHARS`] characters. `PUENTE_PASSPHRASE` is never read here: it
/// holds the current one.
pub fn obtain_new(file: Option<&Path>, dir: &Path) -> Result<Zeroizing<String>> {
    let pass = match file {
        Some(file) => read_file(file)?,
        None if std::io::stdin().is_terminal() => prompt(dir, Purpose::Create)?,
        None => bail!(t!("admin-new-passphrase-missing")),
    };
    if pass.chars().count() < MIN_CHARS {
        bail!(t!("err-passphrase-too-short", min = MIN_CHARS));
    }
    Ok(pass)
}

/// Checks that `file` could serve as a passphrase file (a private regular file, readable,
/// not empty) without keeping what it holds.
pub fn check_file(file: &Path) -> Result<()> {
    let pass = read_file(file)?;
    if pass.is_empty() {
        bail!(t!("err-passphrase-empty"));
    }
    Ok(())
}

fn read_file(file: &Path) -> Result<Zeroizing<String>> {
    let shown = file.display().to_string();
    let unreadable = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "err-passphrase-file-unreadable",
            path = shown.as_str(),
            reason = crate::messages::io_reason(&e)
        ))
    };
    let meta = std::fs::metadata(file).map_err(unreadable)?;
    if !meta.is_file() {
        bail!(t!("err-passphrase-file-not-regular", path = shown.as_str()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(t!(
                "err-passphrase-file-readable-by-others",
                path = shown.as_str()
            ));
        }
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(t!(
            "err-passphrase-file-too-large",
            path = shown.as_str(),
            max = MAX_FILE_BYTES
        ));
    }
    let bytes = Zeroizing::new(std::fs::read(file).map_err(unreadable)?);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        bail!(t!("err-passphrase-file-not-utf8", path = shown.as_str()));
    };
    let first = text.split('\n').next().unwrap_or("");
    let first = first.strip_suffix('\r').unwrap_or(first);
    Ok(Zeroizing::new(first.to_string()))
}

fn prompt(dir: &Path, purpose: Purpose) -> Result<Zeroizing<String>> {
    // A prompt is its message and one space, where the typing starts.
    let ask = |text: String| -> Result<Zeroizing<String>> {
        rpassword::prompt_password(format!("{text} "))
            .map(Zeroizing::new)
            .map_err(|e| {
                anyhow::anyhow!(t!(
                    "err-passphrase-terminal",
                    reason = crate::messages::io_reason(&e)
                ))
            })
    };
    let shown = dir.display().to_string();
    match purpose {
        Purpose::Open => ask(t!("err-passphrase-prompt-open", dir = shown)),
        Purpose::Create => {
            eprintln!(
                "{}",
                t!("err-passphrase-choose", dir = shown, min = MIN_CHARS)
            );
            eprintln!("{}", t!("err-passphrase-keep-safe"));
            let first = ask(t!("err-passphrase-prompt-new"))?;
            if first.chars().count() < MIN_CHARS {
                bail!(t!("err-passphrase-too-short", min = MIN_CHARS));
            }
            let second = ask(t!("err-passphrase-prompt-repeat"))?;
            if *first != *second {
                bail!(t!("err-passphrase-differ"));
            }
            Ok(first)
        }
    }
}
