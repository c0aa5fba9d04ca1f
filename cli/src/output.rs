//! Turning results into text: aligned tables and key-value blocks for people, JSON and CSV for
//! scripts, and the one function that writes to standard output.
//!
//! Boundary: nothing here opens the store or decides what to show; commands hand over rows.

use puente_node::interchange::formula_safe;
use std::io::Write;

use anyhow::Result;

/// A table with a header row, rendered with columns aligned on character counts.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers (words for people: in the current language).
    pub fn new<S: AsRef<str>>(headers: &[S]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.as_ref().to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines: two spaces between columns, no trailing spaces.
    pub fn render(&self) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut l = String::new();
            for (i, c) in cells.enumerate().take(n) {
                if i > 0 {
                    l.push_str("  ");
                }
                l.push_str(c);
                let pad = widths[i].saturating_sub(c.chars().count());
                l.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(&mut self.headers.iter().map(String::as_str));
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str));
        }
        out
    }
}

/// Key-value lines with the keys padded to one width.
pub fn pairs<K: AsRef<str>>(items: &[(K, String)]) -> String {
    let w = items
        .iter()
        .map(|(k, _)| k.as_ref().chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in items {
        let k = k.as_ref();
        let line = format!("{k:<w$}  {v}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// JSON text, pretty-printed, with a final newline. Keys are written in sorted order (the
/// order of a `serde_json` map), whatever order a typed row declares its fields in.
pub fn json(value: &impl serde::Serialize) -> Result<String> {
    let mut s = serde_json::to_string_pretty(&serde_json::to_value(value)?)?;
    s.push('\n');
    Ok(s)
}

/// Writes to `out` the bytes serde_json's pretty printer writes (then a line break) for an
/// object whose first field is `key`, the array `items`, followed by the fields `rest` (in that
/// order), serialized on every core: items go in runs of [`JSON_RUN`] to the workers in turn,
/// each item pretty-printed on its own and indented as serde_json indents the items of such an
/// array (serde_json escapes line breaks inside strings, so every line break it writes is its
/// own), and the runs are written in order as they come, a few at a time in memory. An export
/// of 100,000 offers is 130 MB of JSON, most of `export`'s time; this way it is neither held
/// whole nor copied.
pub fn write_json_with_items<T: serde::Serialize + Sync>(
    out: &mut dyn Write,
    key: &str,
    items: &[T],
    rest: &[(&str, serde_json::Value)],
) -> Result<()> {
    let mut head = b"{\n  ".to_vec();
    serde_json::to_writer(&mut head, key)?;
    head.extend_from_slice(if items.is_empty() { b": []" } else { b": [\n" });
    out.write_all(&head)?;
    let runs: Vec<&[T]> = items.chunks(JSON_RUN).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, runs.len().max(1));
    std::thread::scope(|scope| -> Result<()> {
        let mut inboxes = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>>>(2);
            let mine: Vec<&[T]> = runs.iter().skip(w).step_by(workers).copied().collect();
            scope.spawn(move || {
                for run in mine {
                    // The writer stopped (an error): nothing more to do.
                    if tx.send(pretty_items(run)).is_err() {
                        return;
                    }
                }
            });
            inboxes.push(rx);
        }
        for i in 0..runs.len() {
            let run = inboxes[i % workers]
                .recv()
                .map_err(|_| anyhow::anyhow!("a JSON writer thread failed"))??;
            if i > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(&run)?;
        }
        Ok(())
    })?;
    let mut tail = Vec::new();
    if !items.is_empty() {
        tail.extend_from_slice(b"\n  ]");
    }
    for (name, value) in rest {
        tail.extend_from_slice(b",\n  ");
        serde_json::to_writer(&mut tail, name)?;
        tail.extend_from_slice(b": ");
        serde_json::to_writer_pretty(Indented::new(&mut tail, b"  "), value)?;
    }
    tail.extend_from_slice(b"\n}\n");
    out.write_all(&tail)?;
    Ok(())
}

/// Items per run of [`write_json_with_items`]: about 600 KB of JSON at 1.3 KB an offer.
const JSON_RUN: usize = 512;

/// `items` pretty-printed, each indented as an item of an array in an object's field, joined
/// with `,` and a line break.
fn pretty_items<T: serde::Serialize>(items: &[T]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(b"    ");
        serde_json::to_writer_pretty(Indented::new(&mut out, b"    "), item)?;
    }
    Ok(out)
}

/// A writer that puts `indent` after every line break written through it.
struct Indented<'a> {
    out: &'a mut Vec<u8>,
    indent: &'static [u8],
}

impl<'a> Indented<'a> {
    fn new(out: &'a mut Vec<u8>, indent: &'static [u8]) -> Self {
        Indented { out, indent }
    }
}

impl std::io::Write for Indented<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|b| *b == b'\n') {
            self.out.extend_from_slice(&rest[..=at]);
            self.out.extend_from_slice(self.indent);
            rest = &rest[at + 1..];
        }
        self.out.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// CSV text with a header row. Every cell a spreadsheet would run as a formula is written
/// inert ([`formula_safe`]): the labels and names in puente's CSV come from partners.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers.iter().map(|h| formula_safe(h).into_owned()))?;
    for r in rows {
        w.write_record(r.iter().map(|c| formula_safe(c).into_owned()))?;
    }
    let bytes = w.into_inner().map_err(|e| {
        anyhow::anyhow!(t!("rows-output-csv-failed", reason = e.error().to_string()))
    })?;
    Ok(String::from_utf8(bytes)?)
}

/// CSV text with a header row, each row a typed record whose fields, in order, are `headers`;
/// formula-safe like [`csv`].
pub fn csv_serialized<T: serde::Serialize>(headers: &[&str], rows: &[T]) -> Result<String> {
    let mut cells = Vec::with_capacity(rows.len());
    for r in rows {
        cells.push(serialized_cells(r)?);
    }
    csv(headers, &cells)
}

/// The cells `csv::Writer::serialize` writes for `row`, read back as strings.
fn serialized_cells<T: serde::Serialize>(row: &T) -> Result<Vec<String>> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.serialize(row)?;
    let bytes = w.into_inner().map_err(|e| {
        anyhow::anyhow!(t!("rows-output-csv-failed", reason = e.error().to_string()))
    })?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let record = r.records().next().transpose()?.unwrap_or_default();
    Ok(record.iter().map(str::to_string).collect())
}

/// Writes `text` to standard output; `false` when standard output was closed (the reader of a
/// pipe left), which is not an error.
pub fn emit_open(text: &str) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(anyhow::anyhow!(t!(
            "rows-output-stdout-failed",
            reason = crate::messages::io_reason(&e)
        ))),
    }
}

/// Runs `write` on standard output (buffered), as [`emit`] writes one text: a closed pipe is
/// not an error.
pub fn emit_with(write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout);
    let written = write(&mut out).and_then(|()| out.flush().map_err(anyhow::Error::from));
    match written {
        Ok(()) => Ok(()),
        Err(e) => match e.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Some(io) => Err(anyhow::anyhow!(t!(
                "rows-output-stdout-failed",
                reason = crate::messages::io_reason(io)
            ))),
            None => Err(e),
        },
    }
}

/// Writes `text` to standard output. A closed pipe (`puente query | head`) is not an error.
pub fn emit(text: &str) -> Result<()> {
    emit_open(text).map(|_| ())
}

/// `Listening on ADDR`, one line per address: how `puente run` and `puente relay` say where they
/// listen (even with `--quiet`: scripts wait for these lines and read the addresses).
pub fn listening(addrs: &[String]) -> String {
    addrs
        .iter()
        .map(|addr| format!("Listening on {addr}\n"))
        .collect()
}

/// How much puente says besides what was asked of it (`--quiet`, `--verbose`).
///
/// What was asked for (records, JSON, CSV, a token, the addresses a node listens on) and
/// errors are always written. Under `--quiet`, nothing written for people is: confirmations
/// ("Published ...", "Wrote ..."), hints, progress bars and `puente run`'s running commentary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// `--quiet`.
    Quiet,
    /// Neither flag.
    #[default]
    Normal,
    /// `--verbose`: debug logs of puente's own crates.
    Verbose,
}

impl Verbosity {
    /// The verbosity the global flags ask for (clap refuses both at once).
    pub fn of(quiet: bool, verbose: bool) -> Verbosity {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }

    /// Whether text written for people (confirmations, hints, progress) is shown.
    pub fn speaks(self) -> bool {
        self != Verbosity::Quiet
    }

    /// The log filter when `RUST_LOG` does not set one. AutoNAT's server warns each time it
    /// cannot dial a node back, which is the normal answer for a node behind a home router: on
    /// a relay that would be a warning every few seconds, so only its errors show.
    pub fn log_filter(self) -> &'static str {
        match self {
            Verbosity::Verbose => {
                "warn,libp2p_autonat=error,puente=debug,puente_node=debug,puente_crdt=debug"
            }
            Verbosity::Normal => "warn,libp2p_autonat=error,puente=info,puente_node=info",
            Verbosity::Quiet => "warn,libp2p_autonat=error",
        }
    }
}

/// The log filter for the configuration file's `log`: a level for puente's own logs (`error`,
/// `warn`, `info`, `debug`), or else a filter in `RUST_LOG`'s syntax, taken as it is.
pub fn log_filter_for(level: &str) -> String {
    match level.trim() {
        "error" => "error".to_string(),
        "warn" => Verbosity::Quiet.log_filter().to_string(),
        "info" => Verbosity::Normal.log_filter().to_string(),
        "debug" => Verbosity::Verbose.log_filter().to_string(),
        other => other.to_string(),
    }
}

/// Writes `text`, written for people (a confirmation, a hint), to standard output unless
/// `verbosity` is quiet: for the few commands that run without a [`crate::context::Ctx`].
pub fn say(verbosity: Verbosity, text: &str) -> Result<()> {
    if verbosity.speaks() {
        emit(text)
    } else {
        Ok(())
    }
}

/// Asks `prompt` on the terminal (stderr) and returns the answer typed, trimmed.
pub fn ask(prompt: &str) -> Result<String> {
    use std::io::BufRead as _;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| {
            anyhow::anyhow!(t!(
                "rows-output-answer-failed",
                reason = crate::messages::io_reason(&e)
            ))
        })?;
    Ok(answer.trim().to_string())
}

/// A list as people read it: comma-separated, `-` when empty.
pub fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "-".to_string();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The first 8 characters of an id, enough to tell offers apart in a table.
pub fn short(id: &impl std::fmt::Display) -> String {
    id.to_string().chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_items_is_serde_jsons_pretty_text() {
        #[derive(serde::Serialize)]
        struct Doc<T> {
            offers: Vec<T>,
            version: u32,
        }
        let item = |i: u32| {
            serde_json::json!({
                "id": i,
                "label": format!("line one\nline \"two\" {i}"),
                "windows": [{"start": 1, "tz": "America/Los_Angeles"}, {"start": 2}],
                "empty": [],
                "none": {},
                "nested": {"a": [1, 2, {"b": null}]},
            })
        };
        for n in [0, 1, 2, 3, 17, JSON_RUN as u32 * 3 + 5] {
            let items: Vec<serde_json::Value> = (0..n).map(item).collect();
            let expected = serde_json::to_string_pretty(&Doc {
                offers: items.clone(),
                version: 1,
            })
            .expect("serializes")
                + "\n";
            let mut ours = Vec::new();
            write_json_with_items(
                &mut ours,
                "offers",
                &items,
                &[("version", serde_json::json!(1))],
            )
            .expect("serializes");
            assert_eq!(
                String::from_utf8(ours).expect("UTF-8"),
                expected,
                "{n} items"
            );
        }
    }

    #[test]
    fn table_aligns_and_trims() {
        let mut t = Table::new(&["A", "LONGER", "C"]);
        t.row(vec!["xyz".into(), "1".into(), String::new()]);
        t.row(vec!["é".into(), "22".into(), "end".into()]);
        assert_eq!(t.render(), "A    LONGER  C\nxyz  1\né    22      end\n");
    }

    #[test]
    fn quiet_is_silent_and_verbose_debugs_puente_only() {
        assert!(!Verbosity::of(true, false).speaks());
        assert!(Verbosity::of(false, false).speaks());
        assert!(Verbosity::of(false, true).speaks());
        // Quiet: warnings only; normal: puente's own at info, what an operator needs.
        assert_eq!(
            Verbosity::of(true, false).log_filter(),
            "warn,libp2p_autonat=error"
        );
        assert!(Verbosity::Normal.log_filter().contains("puente_node=info"));
        let verbose = Verbosity::of(false, true).log_filter();
        for c in ["puente=debug", "puente_node=debug", "puente_crdt=debug"] {
            assert!(verbose.split(',').any(|d| d == c), "{verbose}");
        }
        assert!(verbose.starts_with("warn,"), "{verbose}");
    }

    #[test]
    fn pairs_align() {
        assert_eq!(
            pairs(&[("a", "1".into()), ("long", "2".into())]),
            "a     1\nlong  2\n"
        );
    }
}
