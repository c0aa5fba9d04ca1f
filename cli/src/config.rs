//! The configuration file: what is repeated today on every start (data directory, passphrase
//! file, listen addresses, mDNS, the web page, log level, and the relay service's directory and
//! addresses), in TOML. Flags and environment variables override it; without a file, the
//! built-in defaults apply.
//!
//! Where: `--config FILE`, else `PUENTE_CONFIG`, else `$XDG_CONFIG_HOME/puente/config.toml`
//! (`~/.config/puente/config.toml`). `puente config path` prints which; `puente config show`
//! prints the settings in effect.
//!
//! Invariant: a file that is not valid TOML, has a key puente does not know, or a value of the
//! wrong type stops the command with one line naming the file, the line and what to fix;
//! nothing is guessed. The file holds no secret (the passphrase stays in its own file, named
//! here).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// Largest configuration file read: a few dozen lines; anything bigger is the wrong file.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// The file's contents. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The data directory (`--data-dir`, `PUENTE_DATA_DIR` win).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The file holding the passphrase (`--passphrase-file`, `PUENTE_PASSPHRASE` win).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase_file: Option<PathBuf>,
    /// `error`, `warn`, `info` or `debug` for puente's own logs, or a full filter such as
    /// `warn,puente_node=debug` (`--quiet`, `--verbose`, `RUST_LOG` win).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// `puente run`.
    pub node: NodeSection,
    /// The web page `puente run` serves.
    pub web: WebSection,
    /// The metrics endpoint `puente run` serves.
    pub metrics: MetricsSection,
    /// The relay service (`puente relay`).
    pub relay: RelaySection,
}

/// `[node]`: how `puente run` listens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Multiaddresses to listen on (`--listen` wins).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listen: Vec<String>,
    /// Find partners on the local network with mDNS (`--mdns` turns it on too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mdns: Option<bool>,
}

/// `[web]`: the coordinators' page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSection {
    /// Serve it (`--no-web` turns it off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Its port on 127.0.0.1 (`--web-port` wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// `[metrics]`: the opt-in metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Serve metrics on this port of 127.0.0.1 (`--metrics-port` wins); off without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// `[relay]`: the relay service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelaySection {
    /// Its directory (`--relay-dir`, `PUENTE_RELAY_DIR` win).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Multiaddresses to listen on (`--listen` wins).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listen: Vec<String>,
    /// Public addresses to announce (`--announce` wins).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub announce: Vec<String>,
}

/// Where the configuration comes from: the flag, the environment, or the default place.
pub fn path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("PUENTE_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        let x = PathBuf::from(x);
        if x.is_absolute() {
            return Some(x.join("puente/config.toml"));
        }
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".config/puente/config.toml"))
}

/// Whether the file at `path` was named explicitly (then it must exist).
fn explicit(flag: Option<&Path>) -> bool {
    flag.is_some() || std::env::var_os("PUENTE_CONFIG").is_some_and(|p| !p.is_empty())
}

impl Config {
    /// Reads the configuration named by `flag` (or found in its default place). A default
    /// place with no file means the defaults; a file named explicitly must exist.
    pub fn load(flag: Option<&Path>) -> Result<Config> {
        let Some(path) = path(flag) else {
            return Ok(Config::default());
        };
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit(flag) => {
                return Ok(Config::default());
            }
            Err(e) => bail!(t!(
                "admin-config-unreadable",
                path = shown.as_str(),
                reason = crate::messages::io_reason(&e)
            )),
        };
        if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
            bail!(t!("admin-config-not-a-file", path = shown.as_str()));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!(t!(
                "admin-config-unreadable",
                path = shown.as_str(),
                reason = crate::messages::io_reason(&e)
            ))
        })?;
        let config = Config::parse(&text, &shown)?;
        // A filter is directives such as `warn,puente_node=debug`: no spaces, and one that
        // tracing accepts.
        if let Some(log) = &config.log
            && (log.trim().is_empty()
                || log.trim().contains(char::is_whitespace)
                || tracing_subscriber::EnvFilter::try_new(crate::output::log_filter_for(log))
                    .is_err())
        {
            bail!(t!(
                "admin-config-bad-log",
                path = shown.as_str(),
                log = log.as_str()
            ));
        }
        Ok(config)
    }

    /// Parses `text` (the file `shown`), or says in one line where it is wrong.
    pub fn parse(text: &str, shown: &str) -> Result<Config> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            let what: String = e
                .message()
                .split(['\n', '\r'])
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            anyhow::anyhow!(t!(
                "admin-config-invalid",
                path = shown,
                line = line,
                what = what
            ))
        })
    }

    /// The file's contents as TOML.
    pub fn to_toml(&self) -> String {
        // Plain strings, numbers, booleans and lists: serialising them cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_reads_and_writes_back_the_same() {
        let text = r#"
data_dir = "/srv/puente"
passphrase_file = "/home/ana/.config/puente/passphrase"
log = "info"

[node]
listen = ["/ip4/0.0.0.0/tcp/4737", "/ip4/0.0.0.0/udp/4737/quic-v1"]
mdns = false

[web]
enabled = true
port = 4781

[metrics]
port = 9477

[relay]
dir = "/srv/relay"
listen = ["/ip4/0.0.0.0/tcp/4738"]
announce = ["/ip4/203.0.113.7/tcp/4738"]
"#;
        let c = Config::parse(text, "config.toml").expect("parses");
        assert_eq!(c.data_dir.as_deref(), Some(Path::new("/srv/puente")));
        assert_eq!(c.node.listen.len(), 2);
        assert_eq!(c.web.port, Some(4781));
        assert_eq!(c.relay.announce, vec!["/ip4/203.0.113.7/tcp/4738"]);
        assert_eq!(Config::parse(&c.to_toml(), "again").expect("parses"), c);
        assert_eq!(
            Config::parse("", "empty").expect("parses"),
            Config::default()
        );
    }

    #[test]
    fn a_wrong_key_or_value_is_one_line_with_the_file_and_line() {
        let e = Config::parse("log = \"info\"\n[web]\nprot = 4780\n", "c.toml")
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("c.toml") && e.contains("line 3") && e.contains("prot"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = Config::parse("[web]\nport = \"eighty\"\n", "c.toml")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = Config::parse("[web]\nport = 70000\n", "c.toml")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = Config::parse("this is not toml", "c.toml")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
