// The deterministic data generator shared by the benchmarks, so that they all measure the
// same kind of data. Included (`include!`) into each bench target, which provides the `use`
// lines it needs and its `NOW` and `TZ`.

/// Rows per CSV file: the import refuses more than 50,000 rows per file.
const CSV_CHUNK_ROWS: usize = 50_000;

/// `n` offers from the generator with `seed`, through the real CSV parser, in files of
/// [`CSV_CHUNK_ROWS`] rows dated by the including benchmark's `NOW` in its `TZ`.
fn generated_offers(seed: u64, n: usize) -> Vec<NewOffer> {
    let today = local_date(NOW, &zone(TZ).expect("a known zone"));
    let mut offers = Vec::with_capacity(n);
    for first in (0..n).step_by(CSV_CHUNK_ROWS) {
        let csv = offers_csv(seed, first, CSV_CHUNK_ROWS.min(n - first));
        let plan = parse_offers_csv(csv.as_bytes(), today, TZ).expect("the generated CSV parses");
        assert!(
            plan.rejected.is_empty(),
            "generated rows are valid: {:?}",
            plan.rejected.first()
        );
        offers.extend(plan.offers.into_iter().map(|(_, o)| o));
    }
    offers
}

/// SplitMix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, row: u64) -> Self {
        let mut r = Rng(seed ^ row.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Each element with probability `percent`, in order.
    fn some<'a>(&mut self, xs: &[&'a str], percent: u64) -> Vec<&'a str> {
        xs.iter()
            .copied()
            .filter(|_| self.chance(percent))
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Windows {
    /// A stay: `+Ad..+Bd=1..3`.
    Stay,
    /// Beds from today: `today..+Nd=1..10`.
    Beds,
    /// Weekly hours: one or two `+dTHH:00..+dTHH:00=N/weekly`.
    Weekly,
    /// One or two dated shifts.
    Shifts,
    /// No windows (bond funds).
    None,
}

struct KindSpec {
    kind: &'static str,
    prefix: &'static str,
    weight: u64,
    subjects: &'static [&'static str],
    unit: &'static str,
    windows: Windows,
    lead: &'static str,
    max_stay: &'static str,
    vetting: &'static str,
    expires: &'static str,
    labels: &'static [&'static str],
}

const KINDS: &[KindSpec] = &[
    KindSpec {
        kind: "host-home",
        prefix: "host",
        weight: 24,
        subjects: &["household", "household", "org-facility"],
        unit: "room",
        windows: Windows::Stay,
        lead: "72h",
        max_stay: "30d",
        vetting: "org-vetted",
        expires: "14d",
        labels: &[
            "quiet room, bus line nearby",
            "Spanish-speaking family home",
            "congregation family, room for a parent and child",
            "retired couple, can drive to check-ins",
            "downstairs bedroom, own entrance",
        ],
    },
    KindSpec {
        kind: "shelter-bed",
        prefix: "shelter",
        weight: 10,
        subjects: &["org-facility"],
        unit: "bed",
        windows: Windows::Beds,
        lead: "2h",
        max_stay: "30d",
        vetting: "org-vetted",
        expires: "3d",
        labels: &[
            "women's dorm beds, evening check-in",
            "overflow cots, nights only",
            "family beds, cribs and a play room",
        ],
    },
    KindSpec {
        kind: "dv-confidential-shelter",
        prefix: "dv",
        weight: 5,
        subjects: &["org-facility"],
        unit: "room",
        windows: Windows::Beds,
        lead: "2h",
        max_stay: "45d",
        vetting: "org-vetted-trained",
        expires: "3d",
        labels: &[
            "family room at a confidential site, intake by hotline",
            "single beds, safety screen by phone first",
        ],
    },
    KindSpec {
        kind: "accompany-court",
        prefix: "court",
        weight: 14,
        subjects: &["person-volunteer", "person-volunteer", "org-program"],
        unit: "shift",
        windows: Windows::Weekly,
        lead: "48h",
        max_stay: "",
        vetting: "org-vetted-trained",
        expires: "14d",
        labels: &[
            "court volunteer, knows the hearing room routine",
            "court accompaniment team, afternoon docket",
        ],
    },
    KindSpec {
        kind: "accompany-ice-checkin",
        prefix: "checkin",
        weight: 8,
        subjects: &["person-volunteer"],
        unit: "shift",
        windows: Windows::Shifts,
        lead: "48h",
        max_stay: "",
        vetting: "org-vetted-trained",
        expires: "14d",
        labels: &[
            "check-in accompaniment, early mornings",
            "check-in accompaniment, can give a ride",
        ],
    },
    KindSpec {
        kind: "legal-consult",
        prefix: "legal",
        weight: 8,
        subjects: &["org-program"],
        unit: "slot",
        windows: Windows::Weekly,
        lead: "24h",
        max_stay: "",
        vetting: "org-vetted-trained",
        expires: "14d",
        labels: &[
            "weekly clinic, walk-ins until full",
            "evening clinic for working families",
        ],
    },
    KindSpec {
        kind: "interpretation",
        prefix: "interp",
        weight: 9,
        subjects: &["person-volunteer"],
        unit: "shift",
        windows: Windows::Weekly,
        lead: "24h",
        max_stay: "",
        vetting: "org-vetted-trained",
        expires: "30d",
        labels: &[
            "Mam by phone, mornings",
            "K'iche' interpretation for appointments",
        ],
    },
    KindSpec {
        kind: "transport-driver",
        prefix: "ride",
        weight: 7,
        subjects: &["person-volunteer"],
        unit: "seat",
        windows: Windows::Shifts,
        lead: "24h",
        max_stay: "",
        vetting: "org-vetted",
        expires: "14d",
        labels: &[
            "rides to hearings and check-ins",
            "weekend rides, car seat available",
        ],
    },
    KindSpec {
        kind: "parole-sponsor",
        prefix: "parole",
        weight: 4,
        subjects: &["person-volunteer", "household"],
        unit: "slot",
        windows: Windows::Beds,
        lead: "7d",
        max_stay: "",
        vetting: "org-vetted-trained",
        expires: "60d",
        labels: &[
            "parole sponsor, paperwork ready",
            "sponsor household, can host as well",
        ],
    },
    KindSpec {
        kind: "gender-affirming-care",
        prefix: "gac",
        weight: 6,
        subjects: &["org-program"],
        unit: "slot",
        windows: Windows::Weekly,
        lead: "48h",
        max_stay: "",
        vetting: "org-vetted-trained",
        expires: "30d",
        labels: &[
            "informed-consent hormone clinic, new patients",
            "Spanish-first hormone clinic",
        ],
    },
    KindSpec {
        kind: "bond-fund",
        prefix: "bond",
        weight: 5,
        subjects: &["org-program"],
        unit: "usd",
        windows: Windows::None,
        lead: "",
        max_stay: "",
        vetting: "org-vetted",
        expires: "7d",
        labels: &["community bond fund", "bond fund for detained parents"],
    },
];

const COUNTIES: &[&str] = &["06067", "06067", "06067", "06113", "06061", "06017"];
const ZONES: &[&str] = &[
    "south-sac",
    "midtown",
    "natomas",
    "elk-grove",
    "davis",
    "woodland",
    "roseville",
    "rocklin",
    "auburn",
    "placerville",
];
const ACCEPTS: &[&str] = &[
    "adult-women",
    "adult-men",
    "trans-women",
    "trans-men",
    "nonbinary",
    "families-with-children",
    "youth-18-24",
    "couples",
];

/// `count` rows of the import format starting at row `first`, with a header. Each row depends
/// only on `seed` and its index, so chunks of one data set are the same however it is split.
fn offers_csv(seed: u64, first: usize, count: usize) -> String {
    let total_weight: u64 = KINDS.iter().map(|k| k.weight).sum();
    let mut out = String::with_capacity(count * 260 + 256);
    out.push_str("handle,kind,subject,counties,zone,languages,accepts,affirming,accessibility,household,capabilities,unit,windows,lead_time,max_stay,vetting,status,expires_in,label,bond_band,post_within\n");
    for row in first..first + count {
        let mut g = Rng::new(seed, row as u64);
        let mut w = g.below(total_weight);
        let spec = KINDS
            .iter()
            .find(|k| {
                if w < k.weight {
                    true
                } else {
                    w -= k.weight;
                    false
                }
            })
            .expect("the weights cover the range");
        let housing = matches!(spec.windows, Windows::Stay | Windows::Beds) && spec.unit != "slot";
        let mut counties = vec![*g.pick(COUNTIES)];
        if g.chance(20) {
            counties.push(*g.pick(COUNTIES));
        }
        counties.dedup();
        let zone = if g.chance(60) { *g.pick(ZONES) } else { "" };
        let mut langs: Vec<&str> = Vec::new();
        if g.chance(80) {
            langs.push("es");
        }
        if g.chance(70) {
            langs.push("en");
        }
        if g.chance(12) {
            langs.push(*g.pick(&["mam:relay-via-es", "mam", "mam:phone"]));
        }
        if g.chance(8) {
            langs.push(*g.pick(&["quc:conversational", "quc:relay-via-es"]));
        }
        if g.chance(5) {
            langs.push(*g.pick(&["kjb:phone", "kjb:relay-via-es"]));
        }
        if langs.is_empty() {
            langs.push("es");
        }
        let accepts = if housing {
            g.some(ACCEPTS, 30)
        } else {
            Vec::new()
        };
        let affirming = match g.below(100) {
            0..=29 => "lgbtq;trans",
            30..=44 => "lgbtq",
            _ => "",
        };
        let accessibility = if housing && g.chance(15) {
            *g.pick(&["step-free", "ground-floor-bedroom", "service-animal-ok"])
        } else {
            ""
        };
        let household = if spec.kind == "host-home" && g.chance(20) {
            *g.pick(&["pets", "children-in-home", "smokers"])
        } else {
            ""
        };
        let capabilities = if spec.subjects.contains(&"person-volunteer") {
            g.some(&["has-car", "car-seat"], 30)
        } else {
            Vec::new()
        };
        let windows = windows(&mut g, spec.windows);
        let status = match g.below(100) {
            0..=79 => "",
            80..=87 => "waitlist",
            88..=94 => "no-capacity",
            _ => "assessment-required",
        };
        let (bond_band, post_within) = if spec.kind == "bond-fund" {
            (
                *g.pick(&["under-1k", "1k-5k", "5k-15k", "over-15k"]),
                *g.pick(&["24h", "48h", "72h"]),
            )
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "{}-{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",{},{}",
            spec.prefix,
            letters(seed.wrapping_mul(1_000_003).wrapping_add(row as u64) % 26u64.pow(7)),
            spec.kind,
            g.pick(spec.subjects),
            counties.join(";"),
            zone,
            langs.join(";"),
            accepts.join(";"),
            affirming,
            accessibility,
            household,
            capabilities.join(";"),
            spec.unit,
            windows,
            spec.lead,
            spec.max_stay,
            spec.vetting,
            status,
            spec.expires,
            g.pick(spec.labels),
            bond_band,
            post_within,
        );
    }
    out
}

fn windows(g: &mut Rng, style: Windows) -> String {
    match style {
        Windows::Stay => {
            let a = g.below(8);
            let b = a + 14 + g.below(76);
            let start = if a == 0 {
                "today".to_string()
            } else {
                format!("+{a}d")
            };
            format!("{start}..+{b}d={}", 1 + g.below(3))
        }
        Windows::Beds => format!("today..+{}d={}", 7 + g.below(24), 1 + g.below(10)),
        Windows::Weekly => {
            let n = 1 + g.below(2);
            (0..n)
                .map(|_| {
                    let d = 1 + g.below(7);
                    let h = 8 + g.below(9);
                    format!(
                        "+{d}dT{h:02}:00..+{d}dT{:02}:00={}/weekly",
                        h + 3,
                        1 + g.below(8)
                    )
                })
                .collect::<Vec<_>>()
                .join(";")
        }
        Windows::Shifts => {
            let n = 1 + g.below(2);
            (0..n)
                .map(|i| {
                    let d = 1 + i * 7 + g.below(7);
                    let h = 7 + g.below(10);
                    format!("+{d}dT{h:02}:30..+{d}dT{:02}:00=1", h + 3)
                })
                .collect::<Vec<_>>()
                .join(";")
        }
        Windows::None => String::new(),
    }
}

/// `i` in base 26 with lowercase letters (handles may hold at most six digits).
fn letters(mut i: u64) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).expect("ascii letters")
}
