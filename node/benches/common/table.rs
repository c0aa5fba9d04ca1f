//! The results table every benchmark prints, the statistics and units its figures are written
//! in, and the machine line printed above it. A benchmark takes it in with
//! `#[path = "common/table.rs"] mod table;`, or through `common/net.rs`, which passes it on;
//! each uses a part of it.

#![allow(dead_code)]

/// The machine the run is on: cores, CPU model, memory, and the load average at the start.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or("?".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    format!(
        "machine: {cores} cores ({cpu}), {mem} RAM; load average {} at start",
        load_average()
    )
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The median (the nearest-rank 50th percentile).
pub fn median(v: &[f64]) -> f64 {
    pct(v, 0.5)
}

/// Nearest-rank percentile.
pub fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

/// The largest value.
pub fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::MIN, f64::max)
}

/// "p50 / p90 / max" in milliseconds.
pub fn spread(v: &[f64]) -> String {
    format!("{:.1} / {:.1} / {:.1} ms", median(v), pct(v, 0.9), max(v))
}

/// Bytes in kilobytes (1,000 bytes).
pub fn kb(bytes: f64) -> String {
    format!("{:.0} KB", bytes / 1e3)
}

/// Bytes in mebibytes.
pub fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / 1024.0 / 1024.0)
}

struct Row {
    name: String,
    figure: String,
    baseline: String,
    ratio: Option<f64>,
    goal: String,
    pass: Option<bool>,
}

/// A table of figures, each with its baseline, ratio and goal.
pub struct Table {
    title: String,
    rows: Vec<Row>,
}

impl Table {
    /// An empty table under `title`.
    pub fn new(title: &str) -> Self {
        Table {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    /// A figure next to its baseline, their ratio, the goal it is held to and whether it meets
    /// it (none: reported, not judged).
    pub fn row(
        &mut self,
        name: &str,
        figure: String,
        baseline: String,
        ratio: Option<f64>,
        goal: &str,
        pass: Option<bool>,
    ) {
        self.rows.push(Row {
            name: name.into(),
            figure,
            baseline,
            ratio,
            goal: goal.into(),
            pass,
        });
    }

    /// A figure with no baseline and no goal, printed after its name alone.
    pub fn info(&mut self, name: &str, figure: String) {
        self.row(name, figure, String::new(), None, "", None);
    }

    /// Prints the title, a header line and every row, in the order they were added.
    pub fn print(&self) {
        println!();
        println!("== {} ==", self.title);
        println!(
            "{:<44} {:>26} {:>26} {:>8} {:>18} {:>6}",
            "figure", "puente", "baseline", "ratio", "goal", ""
        );
        for r in &self.rows {
            if r.baseline.is_empty() && r.goal.is_empty() {
                println!("{:<44} {}", r.name, r.figure);
                continue;
            }
            println!(
                "{:<44} {:>26} {:>26} {:>8} {:>18} {:>6}",
                r.name,
                r.figure,
                r.baseline,
                r.ratio.map_or("-".into(), |x| format!("{x:.2}x")),
                r.goal,
                match r.pass {
                    Some(true) => "PASS",
                    Some(false) => "MISS",
                    None => "",
                }
            );
        }
    }
}
