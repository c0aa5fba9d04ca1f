//! `puente service install --user`: a systemd user unit that runs `puente run` for this data
//! directory, started at login (or at boot, with lingering), restarted after a failure, and
//! stopped cleanly with SIGTERM. It writes one file and prints what it wrote and what to run
//! next; it never starts anything itself.
//!
//! A service cannot type a passphrase: the unit passes `--passphrase-file` (a file only this
//! user can read). The user guide says what that means for a machine seized while it runs.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::args::ServiceInstallArgs;
use crate::context::Ctx;

/// The unit's file name.
pub const UNIT: &str = "puente.service";

/// Where systemd looks for this user's units.
fn unit_dir() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        let x = PathBuf::from(x);
        if x.is_absolute() {
            return Ok(x.join("systemd/user"));
        }
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".config/systemd/user")),
        None => bail!(t!("admin-service-no-home")),
    }
}

/// Quotes `arg` for a systemd `ExecStart=` line (double quotes, with `\` `"` `$` `%` escaped).
fn quote(arg: &str) -> String {
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn absolute(ctx: &Ctx, p: &Path) -> PathBuf {
    let p = ctx.path(p);
    std::fs::canonicalize(&p).unwrap_or(p)
}

/// The unit's text for `binary` running the node on `dir` with `passphrase_file`, reading
/// `config` when one is given.
pub fn unit_text(
    binary: &Path,
    dir: &Path,
    passphrase_file: &Path,
    config: Option<&Path>,
) -> String {
    let mut exec = vec![
        quote(&binary.display().to_string()),
        "--data-dir".to_string(),
        quote(&dir.display().to_string()),
        "--passphrase-file".to_string(),
        quote(&passphrase_file.display().to_string()),
    ];
    if let Some(c) = config {
        exec.push("--config".to_string());
        exec.push(quote(&c.display().to_string()));
    }
    exec.push("run".to_string());
    format!(
        "# Written by `puente service install --user`. Edit it, or run that command again with\n\
         # --force to write it anew.\n\
         [Unit]\n\
         Description=puente node ({dir})\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={exec}\n\
         # puente saves everything and stops on SIGTERM; give it time to finish a write.\n\
         KillSignal=SIGTERM\n\
         TimeoutStopSec=30\n\
         Restart=on-failure\n\
         RestartSec=10\n\
         UMask=0077\n\
         NoNewPrivileges=yes\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        dir = dir.display(),
        exec = exec.join(" "),
    )
}

pub fn install(ctx: &Ctx, a: &ServiceInstallArgs) -> Result<()> {
    if !a.user {
        bail!(t!("admin-service-user-only"));
    }
    let Some(pass) = ctx.passphrase_file.as_deref() else {
        bail!(t!("admin-service-needs-passphrase-file"));
    };
    let pass = absolute(ctx, pass);
    // The same checks as when the node reads it: a service that cannot start helps nobody.
    crate::passphrase::check_file(&pass)?;
    let dir = absolute(ctx, &ctx.dir);
    if !crate::context::has_store(&dir) {
        bail!(t!(
            "admin-service-no-store",
            dir = dir.display().to_string()
        ));
    }
    let binary = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| {
            anyhow::anyhow!(t!(
                "admin-service-no-binary",
                reason = crate::messages::io_reason(&e)
            ))
        })?;
    let config = a.config_file.as_deref().map(|c| absolute(ctx, c));
    let units = unit_dir()?;
    let path = units.join(UNIT);
    if path.exists() && !a.force {
        bail!(t!(
            "admin-service-exists",
            path = path.display().to_string()
        ));
    }
    let text = unit_text(&binary, &dir, &pass, config.as_deref());
    let io = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "admin-service-cannot-write",
            path = path.display().to_string(),
            reason = crate::messages::io_reason(&e)
        ))
    };
    std::fs::create_dir_all(&units).map_err(io)?;
    std::fs::write(&path, &text).map_err(io)?;
    ctx.emit(&format!(
        "{}\n",
        t!("admin-service-wrote", path = path.display().to_string())
    ))?;
    ctx.say(&format!("{}\n", t!("admin-service-next")))
}
