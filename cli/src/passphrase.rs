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
            bail!("PUENTE_PASSPHRASE is not valid UTF-8; set it to the passphrase text");
        };
        Zeroizing::new(p)
    } else if let Some(file) = file {
        read_file(file)?
    } else if std::io::stdin().is_terminal() {
        prompt(dir, purpose)?
    } else {
        bail!(
            "no passphrase: set PUENTE_PASSPHRASE or pass --passphrase-file FILE (there is no terminal to ask on)"
        );
    };
    if pass.is_empty() {
        bail!("the passphrase is empty; give the store passphrase");
    }
    if purpose == Purpose::Create && pass.chars().count() < MIN_CHARS {
        bail!(
            "the passphrase is too short; use at least {MIN_CHARS} characters (a few random words are best)"
        );
    }
    Ok(pass)
}

fn read_file(file: &Path) -> Result<Zeroizing<String>> {
    let shown = file.display();
    let meta = std::fs::metadata(file).map_err(|e| {
        anyhow::anyhow!(
            "cannot read passphrase file {shown}: {}",
            crate::messages::io_reason(&e)
        )
    })?;
    if !meta.is_file() {
        bail!("passphrase file {shown} is not a regular file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "passphrase file {shown} can be read by other users; run `chmod 600 {shown}` and try again"
            );
        }
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "passphrase file {shown} is larger than {MAX_FILE_BYTES} bytes; is it the right file?"
        );
    }
    let bytes = Zeroizing::new(std::fs::read(file).map_err(|e| {
        anyhow::anyhow!(
            "cannot read passphrase file {shown}: {}",
            crate::messages::io_reason(&e)
        )
    })?);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        bail!("passphrase file {shown} is not UTF-8 text");
    };
    let first = text.split('\n').next().unwrap_or("");
    let first = first.strip_suffix('\r').unwrap_or(first);
    Ok(Zeroizing::new(first.to_string()))
}

fn prompt(dir: &Path, purpose: Purpose) -> Result<Zeroizing<String>> {
    let ask = |text: &str| -> Result<Zeroizing<String>> {
        rpassword::prompt_password(text)
            .map(Zeroizing::new)
            .map_err(|e| anyhow::anyhow!("could not read the passphrase from the terminal: {e}"))
    };
    match purpose {
        Purpose::Open => ask(&format!("Passphrase for {}: ", dir.display())),
        Purpose::Create => {
            eprintln!(
                "Choose a passphrase for the new store in {} (at least {MIN_CHARS} characters).",
                dir.display()
            );
            eprintln!(
                "Without it nobody, including you, can read the store: keep it somewhere safe."
            );
            let first = ask("New passphrase: ")?;
            if first.chars().count() < MIN_CHARS {
                bail!(
                    "the passphrase is too short; use at least {MIN_CHARS} characters (a few random words are best)"
                );
            }
            let second = ask("Repeat the passphrase: ")?;
            if *first != *second {
                bail!("the two passphrases differ; run the command again");
            }
            Ok(first)
        }
    }
}
