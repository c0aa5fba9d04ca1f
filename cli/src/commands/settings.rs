//! `puente config path|show`: where the configuration file is read from, and the settings in
//! effect (the file's, with the built-in defaults filled in and the flags of this command line
//! applied), as TOML that could be saved as the file.

use anyhow::Result;

use crate::args::{Cli, ConfigCommand};
use crate::config::{self, Config};
use crate::output::{self, Verbosity};

pub fn show(cli: &Cli, file: &Config, c: &ConfigCommand) -> Result<()> {
    let path = config::path(cli.config.as_deref());
    let shown = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "-".to_string());
    match c {
        ConfigCommand::Path => {
            output::emit(&format!("{shown}\n"))?;
            // The path alone on standard output, for scripts; the note beside it on stderr.
            if !path.as_ref().is_some_and(|p| p.exists())
                && Verbosity::of(cli.quiet, cli.verbose).speaks()
            {
                eprintln!("{}", t!("admin-config-none", path = shown.as_str()));
            }
            Ok(())
        }
        ConfigCommand::Show => {
            let mut effective = file.clone();
            effective.data_dir = Some(crate::context::data_dir(cli.data_dir.as_deref())?);
            if effective.log.is_none() {
                effective.log = Some("info".to_string());
            }
            if effective.node.listen.is_empty() {
                effective.node.listen = super::run::default_listen();
            }
            effective.node.mdns = Some(effective.node.mdns.unwrap_or(false));
            effective.web.enabled = Some(effective.web.enabled.unwrap_or(true));
            effective.web.port = Some(effective.web.port.unwrap_or(crate::web::DEFAULT_PORT));
            output::emit(&format!(
                "# {}\n{}",
                t!("admin-config-show-header", path = shown.as_str()),
                effective.to_toml()
            ))
        }
    }
}
