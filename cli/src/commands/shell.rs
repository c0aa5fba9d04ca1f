//! `puente completions SHELL` and `puente man`: shell completion scripts and manual pages,
//! generated from the clap definitions in [`crate::args`], so that they never disagree with
//! `--help`.
//!
//! Neither opens the store, reads the data directory or asks for a passphrase: they work on a
//! machine where puente was just installed.

use anyhow::Result;
use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::messages;
use crate::output::{self, Verbosity};

/// The binary's name, as shells and `man` know it.
const BIN: &str = "puente";

/// `puente completions SHELL`: the script on standard output.
pub fn completions(a: CompletionsArgs) -> Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, BIN, &mut script);
    output::emit(&String::from_utf8(script)?)
}

/// `puente man [--output DIR]`: puente(1) on standard output, or every page written to DIR.
pub fn man(a: ManArgs, verbosity: Verbosity) -> Result<()> {
    let Some(dir) = a.output else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .map_err(|e| {
                anyhow::anyhow!(t!(
                    "cmd-man-cannot-write-page",
                    reason = messages::io_reason(&e)
                ))
            })?;
        return output::emit(&String::from_utf8(page)?);
    };
    let cannot = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "cmd-man-cannot-write-pages",
            dir = dir.display().to_string(),
            reason = messages::io_reason(&e)
        ))
    };
    std::fs::create_dir_all(&dir).map_err(cannot)?;
    clap_mangen::generate_to(Cli::command(), &dir).map_err(cannot)?;
    output::say(
        verbosity,
        &format!(
            "{}\n",
            t!(
                "cmd-man-wrote",
                count = pages(&Cli::command()),
                dir = dir.display().to_string(),
                bin = BIN
            )
        ),
    )
}

/// How many pages `clap_mangen::generate_to` writes for `cmd`: its own and one per visible
/// subcommand, at every level (no `help` subcommand).
fn pages(cmd: &clap::Command) -> usize {
    1 + cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(pages)
        .sum::<usize>()
}
