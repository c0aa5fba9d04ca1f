//! A data directory in a temporary folder and the real `puente` binary run against it.
//!
//! Every command runs with `PUENTE_PASSPHRASE` and `PUENTE_NOW` set and stdin not a terminal,
//! so nothing waits for input and every date is deterministic. Argon2id makes each command
//! cost a few hundred milliseconds, so tests share one initialised directory each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The passphrase every test store uses.
pub const PASS: &str = "correct horse battery staple";

/// "Now" for every test: a Monday morning in Sacramento.
pub const NOW: &str = "2026-11-23T09:00:00-08:00";

/// No single command should take anywhere near this long; a hang fails instead of blocking.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The example data set, relative to this package.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/data")
        .join(name)
}

/// The six organisation files of the example data set.
pub const ORG_FILES: &[&str] = &[
    "capitol-legal-bond.csv",
    "interfaith-sanctuary.csv",
    "placer-pride.csv",
    "river-refuge.csv",
    "sac-accompaniment.csv",
    "yolo-trans-health.csv",
];

/// What one run printed.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A data directory and the settings commands run with.
#[derive(Debug)]
pub struct Node {
    tmp: TempDir,
    pub data: PathBuf,
    pub now: String,
    pub pass: Option<String>,
}

impl Node {
    /// A node whose data directory does not exist yet.
    pub fn new() -> Node {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let data = tmp.path().join("data");
        Node {
            tmp,
            data,
            now: NOW.to_string(),
            pass: Some(PASS.to_string()),
        }
    }

    /// A node initialised for an organisation serving Sacramento.
    pub fn init(org: &str) -> Node {
        Node::init_with(org, "06067", "hotline, ask for intake")
    }

    /// A node initialised for an organisation serving `county`, reached through `intake`.
    pub fn init_with(org: &str, county: &str, intake: &str) -> Node {
        let n = Node::new();
        n.ok(&["init", "--org", org, "--county", county, "--intake", intake]);
        n
    }

    /// A node initialised for an organisation serving Sacramento that has founded the network
    /// "Valley Network" (and so is its admin).
    pub fn founder(org: &str) -> Node {
        let n = Node::init(org);
        n.ok(&["network", "create", "--name", "Valley Network"]);
        n
    }

    /// Invites the organisation `org` (with `--yes`, so that the token is all it prints) and has
    /// `joiner` join with the token, waiting up to a minute for this node to answer.
    #[track_caller]
    pub fn invite_and_join(&self, joiner: &Node, org: &str) {
        let token = self.ok(&["invite", "create", "--org", org, "--yes"]);
        joiner.ok(&["join", token.trim(), "--wait", "1m"]);
    }

    /// The temporary folder (outside the data directory) for fixtures.
    pub fn scratch(&self) -> &Path {
        self.tmp.path()
    }

    /// The command, not yet run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_puente"));
        c.args(args)
            .env("PUENTE_DATA_DIR", &self.data)
            .env("PUENTE_NOW", &self.now)
            // English whatever the machine's locale, unless a test asks for another.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .env_remove("RUST_LOG")
            .env_remove("XDG_DATA_HOME")
            // No configuration file but the one a test writes.
            .env_remove("PUENTE_CONFIG")
            .env("XDG_CONFIG_HOME", self.tmp.path())
            .env_remove("PUENTE_PASSPHRASE")
            .timeout(TIMEOUT)
            .write_stdin("");
        if let Some(p) = &self.pass {
            c.env("PUENTE_PASSPHRASE", p);
        }
        c
    }

    /// Runs a command.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).output().expect("the binary runs");
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Runs a command that must succeed, and returns its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert!(
            r.ok,
            "puente {args:?} failed ({:?}):\n{}{}",
            r.code, r.stdout, r.stderr
        );
        r.stdout
    }

    /// Runs a command that must fail with one `error: ` line on stderr; returns that line.
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert!(!r.ok, "puente {args:?} succeeded:\n{}", r.stdout);
        one_error_line(&r.stderr)
    }

    /// `puente status` with `extra` arguments: its output, whether or not a node runs (it exits
    /// 0 when one does, 3 when none does; anything else fails the test).
    #[track_caller]
    pub fn status_with(&self, extra: &[&str]) -> String {
        let mut a = vec!["status"];
        a.extend(extra);
        let r = self.run(&a);
        assert!(
            matches!(r.code, Some(0) | Some(3)),
            "puente {a:?} failed ({:?}):\n{}{}",
            r.code,
            r.stdout,
            r.stderr
        );
        r.stdout
    }

    /// `puente status` as a table.
    #[track_caller]
    pub fn status(&self) -> String {
        self.status_with(&[])
    }

    /// `puente status --format json`, parsed.
    #[track_caller]
    pub fn status_json(&self) -> Value {
        let out = self.status_with(&["--format", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("status: bad JSON ({e}):\n{out}"))
    }

    /// Runs a command with `--format json` and parses its output.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let out = self.ok(&a);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("puente {a:?}: bad JSON ({e}):\n{out}"))
    }

    /// Every offer in the store, expired and withdrawn included.
    #[track_caller]
    pub fn offers(&self) -> Vec<Value> {
        self.json(&["offer", "list", "--include-expired", "--include-withdrawn"])
            .as_array()
            .expect("an array")
            .clone()
    }

    /// Runs `offer add` and returns the id on its last line.
    #[track_caller]
    pub fn add(&self, args: &[&str]) -> String {
        let mut a = vec!["offer", "add"];
        a.extend(args);
        last_line(&self.ok(&a))
    }

    /// The host home with `handle` as `query --kind host-home` finds it.
    #[track_caller]
    pub fn hit(&self, handle: &str) -> Value {
        self.json(&["query", "--kind", "host-home"])
            .as_array()
            .and_then(|hits| hits.iter().find(|h| h["handle"] == handle).cloned())
            .unwrap_or_else(|| panic!("no hit for {handle}"))
    }

    /// Places a hold of one on the whole of `offer`'s window (`offer` as a query lists it) and
    /// returns the hold's id.
    #[track_caller]
    pub fn hold_whole_window(&self, offer: &Value) -> String {
        let mut args = hold_args(offer);
        args.push("--whole-window");
        self.json(&args)["hold_id"]
            .as_str()
            .expect("hold id")
            .to_string()
    }

    /// Every file under the data directory with its bytes.
    pub fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        files_under(&self.data)
    }

    /// Every file under the data directory with its length and a hash of its bytes: equal
    /// digests mean nothing on disk changed (and a mismatch prints readably).
    pub fn digest(&self) -> BTreeMap<PathBuf, (usize, u64)> {
        self.files()
            .into_iter()
            .map(|(p, b)| {
                let mut h = std::hash::DefaultHasher::new();
                std::hash::Hash::hash(&b, &mut h);
                (p, (b.len(), std::hash::Hasher::finish(&h)))
            })
            .collect()
    }

    /// What the store holds, as partners and scripts see it: every offer with every field and
    /// window, and the header. The database file itself changes on every open (the database
    /// records each open and clean close), so commands that opened the store are compared on
    /// this instead of raw bytes.
    pub fn state(&self) -> (String, Vec<u8>) {
        let mut offers = self.offers();
        offers.sort_by_key(|o| o["offer_id"].as_str().unwrap_or_default().to_string());
        let header = std::fs::read(self.data.join("puente.header")).unwrap_or_default();
        (serde_json::to_string(&offers).expect("json"), header)
    }
}

/// The arguments of `hold place` for one place in `offer`'s window (`offer` as a query lists
/// it), without dates: add `--from`/`--to` or `--whole-window`.
pub fn hold_args(offer: &Value) -> Vec<&str> {
    vec![
        "hold",
        "place",
        offer["offer_id"].as_str().expect("offer id"),
        "--window",
        offer["window_id"].as_str().expect("window id"),
        "--qty",
        "1",
    ]
}

/// Every file under `dir`, recursively, with its bytes; none if `dir` does not exist.
pub fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            let bytes = std::fs::read(&path).expect("readable file");
            out.insert(path, bytes);
        }
    }
}

/// Asserts that stderr is exactly one line starting with `error: `, and returns it.
#[track_caller]
pub fn one_error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got:\n{stderr}"
    );
    assert!(
        lines[0].starts_with("error: "),
        "stderr does not start with `error: `:\n{stderr}"
    );
    lines[0].to_string()
}

/// The last non-empty line.
pub fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The string values of a JSON array field.
pub fn strings(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} is not an array in {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// The `handle` of each hit.
pub fn handles(hits: &Value) -> Vec<String> {
    hits.as_array()
        .expect("an array")
        .iter()
        .map(|h| h["handle"].as_str().expect("a handle").to_string())
        .collect()
}

/// Replaces every run of 16 or more base32 id characters (`0-9a-v`) that contains a digit by
/// `<id>`, and 8-character ids in `ID` table columns by `<id8>`.
pub fn redact_ids(text: &str, short_ids: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let is_id = word.len() >= 16
            && word
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
            && word.bytes().any(|b| b.is_ascii_digit());
        if is_id {
            out.push_str(&"#".repeat(word.len()));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    for s in short_ids {
        out = out.replace(s.as_str(), "########");
    }
    out
}
