//! The `puente` command line: publish, find and hold offers of help shared among partner
//! organisations.
//!
//! Boundary: this crate is the only one that reads environment variables, the clock, the
//! terminal and prints to stdout. It parses flags, opens the replica from `puente-node` (or
//! hands the command to the node that `puente run` keeps running, see [`control`]), runs one
//! command, and turns every error into one line on stderr with a non-zero exit.

#[macro_use]
mod i18n;
mod args;
mod commands;
mod config;
mod context;
mod control;
mod messages;
mod metrics;
mod output;
mod passphrase;
mod render;
mod rows;
mod web;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// Exit status for a command that failed (clap's usage errors exit with 2).
pub const EXIT_FAILURE: u8 = 1;

/// Exit status for a usage error, as clap uses.
pub const EXIT_USAGE: u8 = 2;

thread_local! {
    /// Set while [`quiet_panics`] runs a closure whose panic is caught and handled.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, returning `None` instead of unwinding when it panics, with the panic hook's line
/// left out: for an attempt whose failure the caller handles (a read-only open of a database
/// file damaged outside redb, which is then opened with redb's integrity check).
pub(crate) fn quiet_panics<T>(f: impl FnOnce() -> T) -> Option<T> {
    QUIET_PANICS.set(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    QUIET_PANICS.set(false);
    result
}

fn main() -> ExitCode {
    i18n::set_default(i18n::Lang::from_env());
    std::panic::set_hook(Box::new(|info| {
        if QUIET_PANICS.get() {
            return;
        }
        // No payload and no backtrace: the message could carry data, and a backtrace helps
        // nobody at a shelter's front desk. The location is enough for a bug report.
        let line = match info.location() {
            Some(l) => t!("err-internal-at", file = l.file(), line = l.line()),
            None => t!("err-internal"),
        };
        eprintln!("error: {line}");
    }));

    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            // A value our own parser refused: its message already names the accepted values,
            // so print one line: ours in the current language when the record library refused
            // it, else clap's first line.
            ErrorKind::ValueValidation => {
                match messages::clap_value(&e) {
                    Some(line) => eprintln!("error: {line}"),
                    None => {
                        let text = e.render().to_string();
                        eprintln!("{}", text.lines().next().unwrap_or("error: invalid value"));
                    }
                }
                return ExitCode::from(EXIT_USAGE);
            }
            // A value outside a closed set (a shell, a format): clap's first line and the
            // values it accepts, on one line.
            ErrorKind::InvalidValue => {
                let text = e.render().to_string();
                let mut lines = text.lines();
                let first = lines.next().unwrap_or("error: invalid value");
                match lines
                    .map(str::trim)
                    .find(|l| l.starts_with("[possible values"))
                {
                    Some(values) => eprintln!("{first} {values}"),
                    None => eprintln!("{first}"),
                }
                return ExitCode::from(EXIT_USAGE);
            }
            _ => e.exit(),
        },
    };
    let config = match config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", messages::one_line(&e));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    init_logging(
        output::Verbosity::of(cli.quiet, cli.verbose),
        config.log.as_deref(),
    );

    let result = std::panic::catch_unwind(|| commands::run(cli, config));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            if let Some(exit) = e.downcast_ref::<messages::Exit>() {
                if let Some(line) = &exit.line {
                    eprintln!(
                        "error: {}",
                        messages::one_line(&anyhow::anyhow!(line.clone()))
                    );
                }
                return ExitCode::from(exit.code);
            }
            eprintln!("error: {}", messages::one_line(&e));
            ExitCode::from(EXIT_FAILURE)
        }
        // The hook has already printed the one line.
        Err(_) => ExitCode::from(EXIT_FAILURE),
    }
}

/// Logs go to stderr: puente's own at INFO (what an operator needs: partners connected,
/// disconnected or refused by the start of their key, revocations applied; never labels,
/// handles, addresses or payloads; at DEBUG with `--verbose`, WARN with `--quiet`), everything
/// else at WARN, unless `RUST_LOG` says otherwise.
/// The configuration file's `log` applies when neither `--quiet`, `--verbose` nor `RUST_LOG`
/// says otherwise.
fn init_logging(verbosity: output::Verbosity, configured: Option<&str>) {
    let fallback = match (verbosity, configured) {
        (output::Verbosity::Normal, Some(level)) => output::log_filter_for(level),
        _ => verbosity.log_filter().to_string(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(fallback));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
