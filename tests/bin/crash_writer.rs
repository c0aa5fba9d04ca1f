//! A stream of durable writes for the crash test: opens (or creates) a replica and adds offers
//! one by one, printing `ack N` only after `add_offer` returned, which is after the envelope was
//! committed durably. The crash test kills this process with SIGKILL at random instants and
//! then checks that every acknowledged write survived.
//!
//! Usage: `puente-crash-writer DIR FIRST COUNT` with the passphrase in `PUENTE_PASSPHRASE`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use puente_crdt::{Kind, NewOffer, NewWindow, OfferFields, StatusHint, SubjectType, Time, Vetting};
use puente_node::replica::{InitOptions, Replica};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, first, count] = args.as_slice() else {
        bail!("usage: puente-crash-writer DIR FIRST COUNT");
    };
    let dir = PathBuf::from(dir);
    let first: u32 = first.parse().context("FIRST is a number")?;
    let count: u32 = count.parse().context("COUNT is a number")?;
    let pass = std::env::var("PUENTE_PASSPHRASE").context("PUENTE_PASSPHRASE is set")?;
    let now = Time(1_795_000_000);
    let mut replica = if dir.join("puente.redb").exists() {
        Replica::open(&dir, pass.as_bytes())?
    } else {
        Replica::init(
            &dir,
            pass.as_bytes(),
            InitOptions {
                name: "Crash Test Shelter".into(),
                counties: vec!["06067".parse()?],
                intake: "hotline".into(),
                tz: "America/Los_Angeles".into(),
            },
            now,
        )?
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for i in first..first + count {
        let offer = NewOffer {
            fields: OfferFields {
                kind: Kind::ShelterBed,
                handle: format!("bed-{i:06}"),
                subject: SubjectType::OrgFacility,
                counties: vec!["06067".parse()?],
                zone: None,
                languages: vec!["es".parse()?, "en".parse()?],
                accepts: vec![],
                affirming: vec![],
                accessibility: vec![],
                household: vec![],
                capabilities: vec![],
                unit: Kind::ShelterBed.default_unit(),
                lead_time: None,
                max_stay: None,
                vetting: Vetting::OrgVetted,
                status: StatusHint::Capacity,
                label: format!("crash test bed number {i}"),
                bond_band: None,
                post_within: None,
            },
            windows: vec![NewWindow {
                start: now,
                end: now.plus(7 * 86_400),
                tz: "America/Los_Angeles".into(),
                weekly: false,
                total: 1 + i % 3,
            }],
            expires_in: None,
        };
        replica.add_offer(offer, now)?;
        // Every few writes, take a snapshot too, so kills also land inside snapshot commits.
        if i % 17 == 16 {
            replica.snapshot()?;
        }
        writeln!(out, "ack {i}")?;
        out.flush()?;
    }
    replica.close()?;
    Ok(())
}
