//! Applying received changes to a partition and refreshing the view, against automerge applying
//! the same changes (docs/performance.md, "Issue 3: sync"). No criterion: each figure is the
//! median of a few runs, printed as a table.
//!
//! ```sh
//! cargo bench -p puente-crdt --bench apply
//! PUENTE_BENCH_OFFERS=20000 PUENTE_BENCH_RUNS=3 cargo bench -p puente-crdt --bench apply
//! ```
//!
//! The data: one organisation's device writes `PUENTE_BENCH_OFFERS` offers (default 10 000) in
//! changes of 1 000 (the CSV import's batches), then `PUENTE_BENCH_EDITS` (default 200) small
//! changes, each a confirmation or a label edit of one offer. A fresh partner receives the
//! import changes one call at a time (what `Replica::ingest` does with one envelope each) and
//! all at once; a partner that holds the import receives the small changes one at a time.

use std::time::{Duration, Instant};

use puente_crdt::automerge::{AutoCommit, Change};
use puente_crdt::schema::parse_list;
use puente_crdt::test_utils::{sample_fields, sample_window};
use puente_crdt::time::Time;
use puente_crdt::{
    Accepts, Affirming, Kind, NewOffer, OfferFields, OfferId, OfferPatch, OrgId, OrgProfile,
    Partition, Touched, View, WindowId,
};

/// Offers per import change, as `Replica::import_offers` writes them.
const IMPORT_CHUNK: usize = 1_000;

/// 2026-11-23T00:00:00-08:00, the instant every generated offer is written at.
const NOW: i64 = 1_795_420_800;

const DAY: i64 = 86_400;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn id_bytes(tag: u8, i: usize) -> [u8; 10] {
    let mut b = [tag; 10];
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    b
}

const KINDS: &[Kind] = &[
    Kind::HostHome,
    Kind::ShelterBed,
    Kind::TransportDriver,
    Kind::AccompanyCourt,
    Kind::Interpretation,
];
const COUNTIES: &[&str] = &["06067", "06067;06113", "06061", "06113;06061;06067"];
const LANGUAGES: &[&str] = &[
    "es",
    "es;en:conversational",
    "mam:phone;es",
    "quc:relay-via-es",
];
const LABELS: &[&str] = &[
    "quiet room",
    "two rooms, bus line nearby",
    "ground floor, no stairs",
    "habitación tranquila",
];

fn offer(i: usize) -> NewOffer {
    let kind = KINDS[i % KINDS.len()];
    let fields = OfferFields {
        counties: parse_list(COUNTIES[i % COUNTIES.len()]).expect("valid counties"),
        languages: parse_list(LANGUAGES[(i / 3) % LANGUAGES.len()]).expect("valid languages"),
        accepts: vec![Accepts::AdultWomen],
        affirming: vec![Affirming::Lgbtq],
        label: LABELS[(i / 7) % LABELS.len()].into(),
        ..sample_fields(kind, &format!("h-{i}"))
    };
    let start = Time(NOW + (i % 20) as i64 * DAY);
    NewOffer {
        fields,
        windows: vec![sample_window(
            start,
            start.plus(7 * DAY),
            1 + (i % 3) as u32,
        )],
        expires_in: None,
    }
}

struct Data {
    org: OrgId,
    offers: usize,
    /// The import: the profile and offers in changes of `IMPORT_CHUNK`.
    import: Vec<Vec<u8>>,
    /// Small changes made after the import, one offer each.
    edits: Vec<Vec<u8>>,
}

fn build(n: usize, edits: usize) -> Data {
    let org = OrgId::from_bytes([1; 10]);
    let mut p = Partition::new(org, &[0xa1; 32]);
    p.set_profile(&OrgProfile {
        name: "Bench Org".into(),
        counties: parse_list("06067").expect("valid"),
        kinds: vec![Kind::HostHome],
        intake: "hotline".into(),
        tz: "America/Los_Angeles".into(),
    })
    .expect("valid profile");
    let mut import = Vec::new();
    for i in 0..n {
        let id = OfferId::from_bytes(id_bytes(2, i));
        p.add_offer(
            id,
            &offer(i),
            &[WindowId::from_bytes(id_bytes(3, i))],
            Time(NOW),
        )
        .expect("valid offer");
        if (i + 1) % IMPORT_CHUNK == 0 || i + 1 == n {
            import.push(p.commit().expect("a change"));
        }
    }
    let mut small = Vec::new();
    for e in 0..edits {
        let i = (e * 7919) % n;
        let id = OfferId::from_bytes(id_bytes(2, i));
        if e % 2 == 0 {
            p.confirm_offer(id, Time(NOW + 3_600 + e as i64), None)
                .expect("present");
        } else {
            let patch = OfferPatch {
                label: Some(format!("room {e}")),
                ..OfferPatch::default()
            };
            p.update_offer(id, &patch, &[], Time(NOW + 3_600))
                .expect("valid patch");
        }
        small.push(p.commit().expect("a change"));
    }
    Data {
        org,
        offers: n,
        import,
        edits: small,
    }
}

fn decode(bytes: &[Vec<u8>]) -> Vec<Change> {
    bytes
        .iter()
        .map(|b| Change::from_bytes(b.clone()).expect("decodes"))
        .collect()
}

/// Times of one run, by figure.
#[derive(Default)]
struct Run {
    automerge_each: Duration,
    apply_each: Duration,
    refresh_each: Duration,
    touched_all_each: usize,
    automerge_once: Duration,
    apply_once: Duration,
    refresh_once: Duration,
    rebuild: Duration,
    expand: Duration,
    edit_automerge: Duration,
    edit_apply: Duration,
    edit_refresh: Duration,
}

fn run(d: &Data) -> Run {
    let mut r = Run::default();

    // automerge alone, one change per call.
    let mut doc = AutoCommit::new();
    for c in decode(&d.import) {
        let s = Instant::now();
        doc.apply_changes([c]).expect("applies");
        r.automerge_each += s.elapsed();
    }

    // A fresh partner, one change per call, the view refreshed after each.
    let mut p = Partition::new(d.org, &[0xb2; 32]);
    let mut view = View::new();
    for c in decode(&d.import) {
        let s = Instant::now();
        let t = p.apply_changes(vec![c]).expect("applies");
        r.apply_each += s.elapsed();
        r.touched_all_each += usize::from(t.all);
        let s = Instant::now();
        view.refresh(&p, &t);
        r.refresh_each += s.elapsed();
    }
    assert_eq!(view.offer_count(), d.offers, "the view holds every offer");

    // The whole view rebuilt once from the full partition.
    let all = Touched {
        all: true,
        ..Touched::default()
    };
    let mut fresh = View::new();
    let s = Instant::now();
    fresh.refresh(&p, &all);
    r.rebuild = s.elapsed();

    // Expanding every operation (what attributing changes to records starts from).
    let changes = decode(&d.import);
    let s = Instant::now();
    let ops: usize = changes.iter().map(|c| c.decode().operations.len()).sum();
    r.expand = s.elapsed();
    assert!(ops >= d.offers);

    // Everything in one call.
    let mut doc = AutoCommit::new();
    let changes = decode(&d.import);
    let s = Instant::now();
    doc.apply_changes(changes).expect("applies");
    r.automerge_once = s.elapsed();
    let mut q = Partition::new(d.org, &[0xb3; 32]);
    let mut view = View::new();
    let changes = decode(&d.import);
    let s = Instant::now();
    let t = q.apply_changes(changes).expect("applies");
    r.apply_once = s.elapsed();
    let s = Instant::now();
    view.refresh(&q, &t);
    r.refresh_once = s.elapsed();

    // Small changes to a partner that holds the import (`p` above), one call each.
    for c in decode(&d.edits) {
        let s = Instant::now();
        doc.apply_changes([c]).expect("applies");
        r.edit_automerge += s.elapsed();
    }
    let mut view = fresh;
    for c in decode(&d.edits) {
        let s = Instant::now();
        let t = p.apply_changes(vec![c]).expect("applies");
        r.edit_apply += s.elapsed();
        assert!(!t.all, "one edited offer is not a bulk change");
        let s = Instant::now();
        view.refresh(&p, &t);
        r.edit_refresh += s.elapsed();
    }
    r
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us_each(d: Duration, n: usize) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6 / n.max(1) as f64)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let n = env("PUENTE_BENCH_OFFERS", 10_000).max(1);
    let edits = env("PUENTE_BENCH_EDITS", 200);
    let runs = env("PUENTE_BENCH_RUNS", 5).max(1);
    let s = Instant::now();
    let d = build(n, edits);
    println!(
        "data: {n} offers in {} changes, {} small changes ({} ms to build)",
        d.import.len(),
        d.edits.len(),
        s.elapsed().as_millis()
    );
    let results: Vec<Run> = (0..runs).map(|_| run(&d)).collect();
    let pick = |f: fn(&Run) -> Duration| median(results.iter().map(f).collect());
    let rows: [(&str, String); 11] = [
        (
            "fresh partner, one change per call: automerge apply_changes",
            ms(pick(|r| r.automerge_each)),
        ),
        (
            "  Partition::apply_changes",
            format!(
                "{} (Touched.all in {} of {} calls)",
                ms(pick(|r| r.apply_each)),
                results[0].touched_all_each,
                d.import.len()
            ),
        ),
        ("  View::refresh", ms(pick(|r| r.refresh_each))),
        (
            "fresh partner, all in one call: automerge apply_changes",
            ms(pick(|r| r.automerge_once)),
        ),
        ("  Partition::apply_changes", ms(pick(|r| r.apply_once))),
        ("  View::refresh", ms(pick(|r| r.refresh_once))),
        (
            "the whole view rebuilt once (Touched.all)",
            ms(pick(|r| r.rebuild)),
        ),
        (
            "Change::decode of every import change",
            ms(pick(|r| r.expand)),
        ),
        (
            "small changes, one per call: automerge apply_changes",
            us_each(pick(|r| r.edit_automerge), edits),
        ),
        (
            "  Partition::apply_changes",
            us_each(pick(|r| r.edit_apply), edits),
        ),
        ("  View::refresh", us_each(pick(|r| r.edit_refresh), edits)),
    ];
    println!("medians of {runs} runs:");
    for (what, value) in rows {
        println!("{what:<62} {value:>14}");
    }
}
