//! Private files and directories, shared by the node's store and the relay's: a directory made
//! 0700 (or checked to be), files made 0600, durable renames and links, and the one-line fix
//! for loose permissions. Each store turns a [`FsProblem`] into its own error type.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Mode of a data directory: the owner only.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Mode of a data file: the owner only.
pub(crate) const FILE_MODE: u32 = 0o600;

/// What went wrong with a path.
#[derive(Debug)]
pub(crate) enum FsProblem {
    /// The path grants group or others some permission.
    Loose {
        /// The path.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
        /// The command that fixes it.
        fix: String,
    },
    /// The operating system refused.
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn io(path: &Path, source: io::Error) -> FsProblem {
    FsProblem::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes a rename, link or removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), FsProblem> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates `dir` (and missing parents) with mode 0700, or checks that an existing one is private.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), FsProblem> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => check_private(dir, true),
        Ok(_) => Err(io(
            dir,
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
            builder.create(dir).map_err(|e| io(dir, e))?;
            // The umask can only remove bits, but check anyway.
            check_private(dir, true)
        }
        Err(e) => Err(io(dir, e)),
    }
}

/// Refuses a directory or file that grants any permission to group or others.
#[cfg(unix)]
pub(crate) fn check_private(path: &Path, is_dir: bool) -> Result<(), FsProblem> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = fs::metadata(path).map_err(|e| io(path, e))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let bits = if is_dir { DIR_MODE } else { FILE_MODE };
    Err(FsProblem::Loose {
        path: path.to_path_buf(),
        mode,
        fix: format!("chmod {bits:o} {}", shell_quote(path)),
    })
}

#[cfg(not(unix))]
pub(crate) fn check_private(_path: &Path, _is_dir: bool) -> Result<(), FsProblem> {
    Ok(())
}

/// Quotes a path for a copy-and-paste shell command when it contains anything unusual.
pub(crate) fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,".contains(c));
    if plain && !text.is_empty() {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
