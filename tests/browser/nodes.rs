//! Real nodes for the browser tests: the `puente` binary on temporary data directories, each
//! node on loopback with its page on a free port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::DEADLINE;

/// The passphrase of every test store (never a real one).
const PASS: &str = "browser test passphrase, not a real one";

/// The binary under test: `PUENTE_BIN`, else the workspace's debug build.
fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PUENTE_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/puente");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p puente` or set PUENTE_BIN",
        bin.display()
    );
    bin
}

/// A free port of 127.0.0.1 (free a moment ago).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One partner organisation: its data directory, and its node once started.
pub struct Org {
    name: String,
    dir: tempfile::TempDir,
    node: Mutex<Option<Child>>,
    join: Mutex<Option<PathBuf>>,
    page: Mutex<Option<String>>,
}

impl Org {
    /// A new organisation's store (not in any network yet).
    pub fn new(name: &str) -> Org {
        let org = Org {
            name: name.to_string(),
            dir: tempfile::tempdir().expect("a temporary directory"),
            node: Mutex::new(None),
            join: Mutex::new(None),
            page: Mutex::new(None),
        };
        org.ok(&[
            "init",
            "--org",
            name,
            "--county",
            "06067",
            "--intake",
            "call the front desk",
        ]);
        org
    }

    /// An organisation that founds a network, with its node running.
    pub fn founder(name: &str) -> Org {
        let org = Org::new(name);
        org.ok(&["network", "create", "--name", "Browser Test Network"]);
        org.start();
        org
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.args(args)
            .env("PUENTE_DATA_DIR", self.data())
            .env("PUENTE_PASSPHRASE", PASS)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .env_remove("RUST_LOG")
            .env_remove("PUENTE_NOW")
            .stdin(Stdio::null());
        c
    }

    /// Runs a command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("puente runs");
        assert!(
            out.status.success(),
            "{} {args:?} failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// The one-line error of a command that must fail, run with `LANG=lang`.
    pub fn error_in(&self, lang: &str, args: &[&str]) -> String {
        let out = self
            .cmd(args)
            .env("LANG", lang)
            .output()
            .expect("puente runs");
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        err.lines()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or_else(|| panic!("no error line in {err}"))
            .to_string()
    }

    /// How many offers this organisation has.
    pub fn offer_count(&self) -> usize {
        let out = self.ok(&["offer", "list", "--format", "json"]);
        serde_json::from_str::<serde_json::Value>(&out)
            .expect("JSON")
            .as_array()
            .map_or(0, Vec::len)
    }

    /// Starts `puente run` on loopback with its page on a free port, and waits for both.
    pub fn start(&self) {
        let out = self.dir.path().join("run.out");
        let err = self.dir.path().join("run.err");
        let child = self
            .cmd(&["run", "--listen", "/ip4/127.0.0.1/tcp/0", "--web-port", "0"])
            .stdout(std::fs::File::create(&out).expect("a file"))
            .stderr(std::fs::File::create(&err).expect("a file"))
            .spawn()
            .expect("puente run starts");
        *self.node.lock().expect("lock") = Some(child);
        let start = Instant::now();
        let url = loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(url) = text.lines().find_map(|l| {
                l.split("Web page for coordinators: ")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
            }) {
                break url.to_string();
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{}'s node did not start: {}",
                self.name,
                std::fs::read_to_string(&err).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        *self.page.lock().expect("lock") = Some(url);
    }

    /// The page's address, ending in `/`.
    pub fn page_url(&self) -> String {
        self.page
            .lock()
            .expect("lock")
            .clone()
            .expect("the node runs")
    }

    /// A fresh sign-in link.
    pub fn open_link(&self) -> String {
        self.ok(&["open", "--no-browser"]).trim().to_string()
    }

    /// Starts `puente join TOKEN` (it waits for the inviter's confirmation).
    pub fn join(&self, token: &str) -> Child {
        let out = self.dir.path().join("join.out");
        *self.join.lock().expect("lock") = Some(out.clone());
        let file = std::fs::File::create(&out).expect("a file");
        self.cmd(&["join", token, "--wait", "2m"])
            .stdout(file.try_clone().expect("a file"))
            .stderr(file)
            .spawn()
            .expect("puente join starts")
    }

    /// What `puente join` printed.
    pub fn join_output(&self) -> String {
        self.join
            .lock()
            .expect("lock")
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// The safety phrase `puente join` shows, once it shows it.
    pub fn wait_for_phrase(&self) -> String {
        let start = Instant::now();
        loop {
            let out = self.join_output();
            if let Some(line) = out.lines().find(|l| l.contains("Safety phrase")) {
                return line
                    .split_once(':')
                    .map(|(_, p)| p.trim().to_string())
                    .unwrap_or_default();
            }
            assert!(start.elapsed() < DEADLINE, "no safety phrase: {out}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Org {
    fn drop(&mut self) {
        if let Some(mut child) = self.node.lock().ok().and_then(|mut n| n.take()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
