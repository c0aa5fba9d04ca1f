//! Shared helpers: ids, a valid offer, date parsing and a seeded shuffle.

use proptest::test_runner::{Config, RngSeed};
use puente_crdt::automerge::Change;
use puente_crdt::test_utils::{SAMPLE_TZ, sample_fields, sample_window};
use puente_crdt::time::{self, Time};
use puente_crdt::{
    Accepts, Affirming, HoldId, Kind, NewWindow, OfferFields, OfferId, OrgId, WindowId,
};

/// The zone every test date is written in: the sample windows' zone.
pub const TZ: &str = SAMPLE_TZ;

/// 2026-11-23T00:00:00-08:00, a Monday: the base instant of the property tests.
pub const BASE: i64 = 1_795_420_800;

pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;

pub fn org(n: u8) -> OrgId {
    OrgId::from_bytes([n; 10])
}

pub fn offer_id(a: u8, b: u8) -> OfferId {
    let mut x = [a; 10];
    x[9] = b;
    OfferId::from_bytes(x)
}

pub fn window_id(a: u8, b: u8) -> WindowId {
    let mut x = [a; 10];
    x[9] = b;
    WindowId::from_bytes(x)
}

pub fn hold_id(a: u8, b: u8) -> HoldId {
    let mut x = [a; 10];
    x[9] = b;
    HoldId::from_bytes(x)
}

/// The proptest configuration of every property here: a fixed seed, so that a run is
/// reproducible and a failure is the same on every machine (STYLE.md: deterministic tests), and
/// no regression files written into the source tree.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x7075_656e_7465),
        failure_persistence: None,
        ..Config::default()
    }
}

/// The sample fields of an offer of `kind`, accepting adult women and affirming LGBTQ people.
pub fn fields(kind: Kind, handle: &str) -> OfferFields {
    OfferFields {
        accepts: vec![Accepts::AdultWomen],
        affirming: vec![Affirming::Lgbtq],
        ..sample_fields(kind, handle)
    }
}

/// A one-off window in the test zone.
pub fn window(start: i64, end: i64, total: u32) -> NewWindow {
    sample_window(Time(start), Time(end), total)
}

/// A local date or date-time (`2026-11-23`, `2026-11-23T13:00`) in [`TZ`].
pub fn at(text: &str) -> Time {
    let tz = time::zone(TZ).expect("bundled zone");
    let today = time::local_date(Time(BASE), &tz);
    time::parse_when(text, today)
        .expect("test dates are valid")
        .instant(&tz)
        .expect("test dates exist in the zone")
}

/// Decodes change bytes as a receiver does.
pub fn change(bytes: &[u8]) -> Change {
    Change::from_bytes(bytes.to_vec()).expect("changes made by the crate decode")
}

/// A small deterministic generator seeded by proptest (splitmix64), used to derive delivery
/// orders whose length is only known once the scenario has run.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Seeded(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    /// Splits `items` into consecutive batches of 1 to 3.
    pub fn batches<T: Clone>(&mut self, items: &[T]) -> Vec<Vec<T>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let n = (1 + self.below(3)).min(items.len() - i);
            out.push(items[i..i + n].to_vec());
            i += n;
        }
        out
    }
}

#[test]
fn dates_are_read_in_the_test_zone() {
    assert_eq!(at("2026-11-23"), Time(BASE));
    assert_eq!(at("2026-11-23T13:00").0, BASE + 13 * HOUR);
}
