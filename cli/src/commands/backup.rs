//! `puente backup FILE` and `puente restore FILE`: an encrypted copy of the store, and bringing
//! one back as a new device of the organisation. The node library makes the copy (from one read
//! transaction of the store: the running node's own when one runs) and restores it
//! ([`Replica::restore`]: checks, a new key, the old one revoked); this resolves the files,
//! writes the copy private and atomically, and reports.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Result, bail};
use puente_node::replica::{Replica, ReplicaError};
use puente_node::store::{BACKUP_MAGIC, write_private_file};

use crate::args::{BackupArgs, RestoreArgs};
use crate::context::{Ctx, has_store};
use crate::messages;
use crate::passphrase::{self, Purpose};

pub fn backup(ctx: &Ctx, a: BackupArgs) -> Result<()> {
    let path = ctx.path(&a.file);
    let file = a.file.display().to_string();
    if !a.force && std::fs::symlink_metadata(&path).is_ok() {
        bail!(t!("admin-backup-exists", file = file.as_str()));
    }
    let replica = ctx.open_read_only()?;
    let bytes = replica.backup().map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    write_private_file(&path, &bytes, a.force).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!(t!("admin-backup-exists", file = file.as_str()))
        }
        _ => anyhow::anyhow!(t!(
            "admin-backup-cannot-write",
            file = file.as_str(),
            reason = messages::io_reason(&e)
        )),
    })?;
    ctx.say(&format!(
        "{}\n",
        t!("admin-backup-wrote", file = file, bytes = bytes.len())
    ))
}

pub fn restore(ctx: &Ctx, a: RestoreArgs) -> Result<()> {
    let path = ctx.path(&a.file);
    let file = a.file.display().to_string();
    let dir = ctx.dir.display().to_string();
    if has_store(&ctx.dir) {
        bail!(t!("err-backup-not-empty", dir = dir.as_str()));
    }
    let bytes = read_backup(&path, &file)?;
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), &path, Purpose::Open)?;
    let restored = Replica::restore(
        &bytes,
        &ctx.dir,
        pass.as_bytes(),
        &t!("admin-restore-reason"),
        ctx.now,
    )
    .map_err(|e| match e {
        ReplicaError::Backup(b) => anyhow::anyhow!(messages::backup(&b, &file, &ctx.dir)),
        e => ctx.err(e),
    })?;
    drop(pass);
    let mut text = match &restored.replaced {
        Some(replaced) => [
            t!(
                "admin-restored",
                file = file.as_str(),
                dir = dir.as_str(),
                name = restored.name.as_str()
            ),
            t!(
                "admin-restored-key",
                key = restored.device.to_string(),
                fingerprint = restored.device.fingerprint().to_string()
            ),
            t!("admin-restored-old", old = replaced.old.to_string()),
            t!("admin-restored-next"),
        ]
        .join("\n"),
        None => t!(
            "admin-restored-same-key",
            file = file.as_str(),
            dir = dir.as_str()
        ),
    };
    text.push('\n');
    ctx.say(&text)
}

/// The backup file's bytes; a file that does not start like a backup is refused after its
/// first bytes, before anything else is read.
fn read_backup(path: &Path, file: &str) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "err-backup-cannot-read",
            file = file,
            reason = messages::io_reason(&e)
        ))
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::ErrorKind::IsADirectory.into()));
    }
    let mut head = Vec::with_capacity(BACKUP_MAGIC.len());
    let mut f = f;
    (&mut f)
        .take(BACKUP_MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    if head.is_empty() || !BACKUP_MAGIC.starts_with(&head) {
        bail!(t!("err-backup-not-a-backup", file = file));
    }
    // One byte more than the file holds, so that reading to its end never grows the buffer;
    // a file too large for this computer's memory is one line, not an abort.
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len.saturating_add(1))
        .map_err(|_| io(std::io::ErrorKind::OutOfMemory.into()))?;
    bytes.extend_from_slice(&head);
    f.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
