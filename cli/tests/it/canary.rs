//! Canary strings written through the CLI never appear in the data directory (SECURITY.md,
//! promise 1): not as UTF-8, not as UTF-16, in any case.

use crate::support::Node;

const CANARY: &str = "CANARY-7f3a9";

#[test]
fn canaries_never_reach_the_disk_in_plaintext() {
    let n = Node::new();
    n.ok(&[
        "init",
        "--org",
        &format!("{CANARY} Org"),
        "--county",
        "06067",
        "--intake",
        &format!("signal {CANARY}-intake"),
    ]);
    let id = n.add(&[
        "--kind",
        "host-home",
        "--handle",
        "canary-7f3a9",
        "--county",
        "06067",
        "--zone",
        "canary-zone-7f3a9",
        "--label",
        &format!("{CANARY} label"),
        "--window",
        "+1d..+9d=1",
    ]);
    n.ok(&[
        "offer",
        "update",
        &id,
        "--label",
        &format!("{CANARY} label again"),
    ]);
    let file = n.scratch().join("canary.csv");
    std::fs::write(
        &file,
        format!(
            "handle,kind,subject,counties,unit,vetting,label\ncanary-7f3a9-b,shelter-bed,org-facility,06067,bed,org-vetted,{CANARY} imported\n"
        ),
    )
    .expect("write fixture");
    n.ok(&["import", file.to_str().expect("utf-8")]);
    // The canaries are readable through the passphrase...
    let hits = n.ok(&["query"]);
    assert!(
        hits.contains("canary-7f3a9") && hits.contains(CANARY),
        "{hits}"
    );

    // ...and nowhere on disk.
    let files = n.files();
    assert!(!files.is_empty());
    let needles: Vec<Vec<u8>> = ["canary-7f3a9", "7f3a9"]
        .iter()
        .flat_map(|s| {
            let lower = s.to_ascii_lowercase();
            let upper = s.to_ascii_uppercase();
            [lower, upper]
        })
        .flat_map(|s| [s.as_bytes().to_vec(), utf16(&s, false), utf16(&s, true)])
        .collect();
    for (path, bytes) in &files {
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} contains a canary ({:?})",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

fn utf16(s: &str, big_endian: bool) -> Vec<u8> {
    s.encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}
