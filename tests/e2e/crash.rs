//! kill -9 at random instants during a stream of durable writes; on restart every acknowledged
//! write is present and nothing is half-applied.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use puente_node::replica::Replica;

const PASS: &str = "crash test passphrase";

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn handles(r: &Replica) -> BTreeSet<String> {
    r.view().offers().map(|o| o.fields.handle.clone()).collect()
}

#[test]
fn acknowledged_writes_survive_kill_dash_nine() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("node");
    let writer = env!("CARGO_BIN_EXE_puente-crash-writer");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut next = 0u32;
    let rounds = 8;
    for round in 0..rounds {
        let mut child = Command::new(writer)
            .arg(&dir)
            .arg(next.to_string())
            .arg("1000")
            .env("PUENTE_PASSPHRASE", PASS)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("writer starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("writer says something").expect("utf-8");
        assert_eq!(
            first, "ready",
            "writer failed to open the store in round {round}"
        );
        // Let a random number of writes through, then kill at a random instant after that
        // acknowledgement: sometimes between writes, often in the middle of one.
        let target = 1 + rng.next() % 12;
        let mut last = None;
        for _ in 0..target {
            match lines.next() {
                Some(Ok(line)) => {
                    let n: u32 = line
                        .strip_prefix("ack ")
                        .and_then(|s| s.parse().ok())
                        .expect("ack line");
                    acked.insert(format!("bed-{n:06}"));
                    last = Some(n);
                }
                _ => break,
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next() % 20_000));
        child.kill().expect("SIGKILL delivered");
        // Acknowledgements already in the pipe were written after a durable commit.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line
                .strip_prefix("ack ")
                .and_then(|s| s.parse::<u32>().ok())
            {
                acked.insert(format!("bed-{n:06}"));
                last = Some(n);
            }
        }
        let status = child.wait().expect("reaped");
        assert!(
            !status.success(),
            "the writer was killed, not finished, in round {round}"
        );
        next = last.map_or(next, |n| n + 1) + 1;

        let replica = Replica::open(&dir, PASS.as_bytes()).expect("store opens after kill -9");
        let present = handles(&replica);
        let missing: Vec<_> = acked.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged writes lost: {missing:?}"
        );
        // Nothing half-applied: every offer present is whole and valid, and at most the one
        // unacknowledged in-flight write per round was committed beyond the acknowledged ones.
        for o in replica.view().offers() {
            assert_eq!(
                o.windows.len(),
                1,
                "offer {} lost its window",
                o.fields.handle
            );
            assert_eq!(o.fields.languages.len(), 2);
        }
        assert!(replica.view().issues().values().all(|m| m.is_empty()));
        assert!(present.len() <= acked.len() + round + 1);
        acked.extend(present);
        drop(replica);
    }
    assert!(
        acked.len() >= rounds,
        "the test made progress: {} writes",
        acked.len()
    );
}
