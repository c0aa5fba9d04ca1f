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

/// Writes `bytes` to a file at `path` that only its owner can read, atomically: a new 0600 file
/// beside it (a hidden name), written and synced, then moved to `path`, then the directory
/// synced, so a crash leaves the old file or the new one at `path`, never a part of one. With
/// `replace` the new file is renamed over an existing one; without it an existing `path` is left
/// as it is and the write fails with [`io::ErrorKind::AlreadyExists`] (the new file takes the
/// name with a hard link, which never replaces; on a file system without hard links, such as a
/// FAT-formatted USB stick, with a rename after checking that nothing is there). The caller
/// names the file: this writes where it is told (a backup), not in a data directory.
pub fn write_private_file(path: &Path, bytes: &[u8], replace: bool) -> io::Result<()> {
    use std::io::Write as _;
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !replace && fs::symlink_metadata(path).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    let mut suffix = [0u8; 8];
    crate::crypto::seal::fill_random(&mut suffix);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{:016x}.tmp", u64::from_be_bytes(suffix)));
    let tmp = dir.join(tmp_name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let mut file = options.open(&tmp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            if replace {
                return fs::rename(&tmp, path);
            }
            match fs::hard_link(&tmp, path) {
                Ok(()) => fs::remove_file(&tmp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
                // No hard links here: the check above is all there is.
                Err(_) if fs::symlink_metadata(path).is_err() => fs::rename(&tmp, path),
                Err(e) => Err(e),
            }
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_private_file_is_written_whole_and_replaces_only_when_asked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("copy");
        write_private_file(&path, b"first", false).expect("writes");
        let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, FILE_MODE);
        let err = write_private_file(&path, b"second", false).expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).expect("reads"), b"first");
        write_private_file(&path, b"second, longer", true).expect("replaces");
        assert_eq!(fs::read(&path).expect("reads"), b"second, longer");
        let names: Vec<_> = fs::read_dir(tmp.path())
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("copy")],
            "no temporary file left"
        );
        assert!(write_private_file(&tmp.path().join("missing/dir/file"), b"x", false).is_err());
    }
}
