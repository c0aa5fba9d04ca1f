//! `puente open`: a one-time sign-in link for the web page of the node running here, asked of
//! the node through the control socket (only the data directory's owner can), printed, and
//! opened in a browser when there is a desktop.
//!
//! The link is handed to the browser as `xdg-open`'s argument: on a computer shared with other
//! accounts they could see it in the process list for the moment the browser takes to open it,
//! and it works once. `--no-browser` only prints it.

use anyhow::Result;

use crate::args::OpenArgs;
use crate::context::Ctx;
use crate::control;

pub fn open(ctx: &Ctx, a: &OpenArgs) -> Result<()> {
    let link = control::client::ask(ctx, &["open".to_string()])?;
    let link = link.trim();
    ctx.emit(&format!("{link}\n"))?;
    if a.no_browser || !has_desktop() {
        ctx.note(&t!("web-open-paste"));
        return Ok(());
    }
    match std::process::Command::new("xdg-open")
        .arg(link)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => ctx.note(&t!("web-open-opened")),
        Err(_) => ctx.note(&t!("web-open-paste")),
    }
    Ok(())
}

/// Whether a graphical session is there to open a browser in.
fn has_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}
