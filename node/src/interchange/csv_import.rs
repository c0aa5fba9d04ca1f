//! CSV import of offers: the spreadsheet format of `examples/data/` turned into validated
//! [`NewOffer`]s, with every rejected row reported by line, column and reason.
//!
//! The columns, their order and which are required come from the field table
//! (`puente_crdt::fields::IMPORT_COLUMNS`); the CSV export writes the same header.
//!
//! The import is a plan, not a write: [`parse_offers_csv`] returns the offers that would be
//! created and the rows that would be refused, so a dry run and a real run share one code path.
//!
//! Invariant: any byte string gives `Ok(plan)` or a typed [`ImportError`]; nothing here panics.
//! Memory is bounded by [`MAX_INPUT_BYTES`] and [`MAX_ROWS`].
//!
//! Boundary: no file or network I/O and no clock reads; the caller passes the bytes, today's
//! local date and the organisation's time zone, against which relative dates (`today`, `+Nd`,
//! `+NdTHH:MM`) resolve.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use puente_crdt::fields::{IMPORT_COLUMNS, names, required_import_names};
use puente_crdt::label::{check_label, check_slug};
use puente_crdt::schema::{MAX_WINDOW_TOTAL, MAX_WINDOWS_PER_OFFER, parse_list};
use puente_crdt::time::{TimeError, parse_duration, parse_when, zone};
use puente_crdt::{Field, NewOffer, NewWindow, OfferFields, OrgId, Rule, SchemaError, StatusHint};

/// Every column of the import format, in the order an export writes them: the names of the
/// field table's [`IMPORT_COLUMNS`].
pub const COLUMNS: [&str; N] = names(&IMPORT_COLUMNS);

/// The columns a header must name: without them no row could form a valid offer (the field
/// table's [`Import::Required`](puente_crdt::fields::Import::Required) columns).
pub const REQUIRED_COLUMNS: [&str; 6] = required_import_names::<6>();

/// How many columns the import format has.
const N: usize = IMPORT_COLUMNS.len();

/// The largest file accepted, in bytes (16 MiB): two hundred offers take about 40 KiB, so this
/// leaves room for any real spreadsheet while bounding what one import can hold in memory.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// The most data rows accepted in one file: far above any region's offers, small enough that
/// a plan (offers plus row errors) stays a few tens of megabytes at most.
pub const MAX_ROWS: usize = 50_000;

/// The longest cell accepted, in characters: the longest legitimate cell is a list of windows
/// (64 windows of about 40 characters would be more, but real schedules use a handful).
pub const MAX_CELL_CHARS: usize = 1_000;

/// The position of `field` among the import columns; a field the import does not read fails
/// to compile where it is asked for.
const fn col(field: Field) -> usize {
    match field.import_position() {
        Some(i) => i,
        None => panic!("not a column of the import format"),
    }
}

const HANDLE: usize = col(Field::Handle);
const KIND: usize = col(Field::Kind);
const SUBJECT: usize = col(Field::Subject);
const COUNTIES: usize = col(Field::Counties);
const ZONE: usize = col(Field::Zone);
const LANGUAGES: usize = col(Field::Languages);
const ACCEPTS: usize = col(Field::Accepts);
const AFFIRMING: usize = col(Field::Affirming);
const ACCESSIBILITY: usize = col(Field::Accessibility);
const HOUSEHOLD: usize = col(Field::Household);
const CAPABILITIES: usize = col(Field::Capabilities);
const UNIT: usize = col(Field::Unit);
const WINDOWS: usize = col(Field::Windows);
const LEAD_TIME: usize = col(Field::LeadTime);
const MAX_STAY: usize = col(Field::MaxStay);
const VETTING: usize = col(Field::Vetting);
const STATUS: usize = col(Field::Status);
const EXPIRES_IN: usize = col(Field::ExpiresIn);
const LABEL: usize = col(Field::Label);
const BOND_BAND: usize = col(Field::BondBand);
const POST_WITHIN: usize = col(Field::PostWithin);
const OWNER: usize = col(Field::Owner);

/// Why a whole file was refused (a problem in a single row is a [`RowError`] instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// No header line.
    #[error("the file is empty; the first line must be a header naming the columns: {}", COLUMNS.join(", "))]
    Empty,
    /// Larger than [`MAX_INPUT_BYTES`].
    #[error(
        "the file is {bytes} bytes; import at most {MAX_INPUT_BYTES} bytes (16 MiB) at a time by splitting it into smaller files"
    )]
    TooLarge {
        /// Size of the input.
        bytes: usize,
    },
    /// More than [`MAX_ROWS`] data rows.
    #[error("the file has more than {MAX_ROWS} rows; split it into smaller files")]
    TooManyRows,
    /// The header line is not usable.
    #[error("the header on line 1 {0}; the accepted columns are: {cols}", cols = COLUMNS.join(", "))]
    Header(HeaderProblem),
    /// The time zone given for the import is unknown.
    #[error(transparent)]
    Zone(#[from] TimeError),
    /// The CSV reader failed (not expected for in-memory input).
    #[error("line {line}: the file could not be read as CSV ({reason})")]
    Malformed {
        /// The line the reader had reached.
        line: usize,
        /// What the reader reported.
        reason: String,
    },
}

/// What is wrong with the header line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// A column name outside [`COLUMNS`].
    #[error("has an unknown column `{0}`")]
    Unknown(String),
    /// A column named twice.
    #[error("names the column `{0}` twice")]
    Duplicate(String),
    /// Required columns absent.
    #[error("lacks the required column(s) {}", .0.join(", "))]
    Missing(Vec<String>),
    /// A column with an empty name, at this 1-based position.
    #[error("has an empty column name at position {0}")]
    EmptyName(usize),
    /// The header is not UTF-8.
    #[error("is not UTF-8 text; save the file as UTF-8 (\"CSV UTF-8\" in a spreadsheet)")]
    NotUtf8,
}

/// A data row that was refused, with the one reason why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based physical line where the row starts; the header is line 1.
    pub line: usize,
    /// The row's handle, when its `handle` cell could be read (so that a reconciliation can
    /// tell which existing offer a refused row was about, and never withdraw it as missing).
    pub handle: Option<String>,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// Why the row was refused: typed, so that a front end can say it in its own language;
    /// its `Display` is the reason in English words a coordinator can act on.
    pub reason: RowProblem,
}

/// Why a data row was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowProblem {
    /// The row has another number of cells than the header has columns.
    #[error(
        "the row has {found} cells but the header has {expected} columns; put a label that contains a comma in double quotes"
    )]
    CellCount {
        /// Cells in the row.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A cell is not UTF-8.
    #[error("the cell is not UTF-8 text; save the file as UTF-8 (\"CSV UTF-8\" in a spreadsheet)")]
    NotUtf8,
    /// A cell is longer than [`MAX_CELL_CHARS`].
    #[error("the cell is {chars} characters; a cell may hold at most {MAX_CELL_CHARS}")]
    CellTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// An earlier row of the file has the same handle.
    #[error(
        "handle `{handle}` is already used on line {first}; handles must be unique within the file"
    )]
    DuplicateHandle {
        /// The handle (truncated).
        handle: String,
        /// The line of the row that has it first.
        first: usize,
    },
    /// A required cell is empty.
    #[error("{column} is required")]
    Required {
        /// The column's name.
        column: &'static str,
    },
    /// The `owner` cell is not an organisation id.
    #[error("owner must be an organisation id as an export writes it, or empty")]
    Owner,
    /// A cell or the offer the row describes breaks a rule of the schema (a term outside its
    /// vocabulary, a label, handle, county, language or duration that is refused, ...).
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The `windows` cell holds a window that was refused (the sentence names its causes).
    #[error("{}", error_chain(.0))]
    Window(WindowError),
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for RowError {}

/// The outcome of reading a file: the offers its rows describe and the rows that were refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPlan {
    /// Valid offers with the line of their row, in file order.
    pub offers: Vec<(usize, NewOffer)>,
    /// Refused rows, in file order.
    pub rejected: Vec<RowError>,
    /// The organisation a valid row named in its `owner` column, by line (an export writes
    /// it; a row without it describes an offer of the importing organisation).
    pub owners: BTreeMap<usize, OrgId>,
}

impl ImportPlan {
    /// Data rows read (accepted plus rejected; blank rows are not counted).
    pub fn rows(&self) -> usize {
        self.offers.len() + self.rejected.len()
    }
}

/// Why a window specification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Not `START..END=TOTAL[/weekly]`.
    #[error(
        "window `{spec}` is not START..END=TOTAL or START..END=TOTAL/weekly (for example +1dT13:00..+1dT16:00=2/weekly or 2026-12-01..2026-12-15=1)"
    )]
    Syntax {
        /// The specification (truncated).
        spec: String,
    },
    /// TOTAL is not a whole number in range.
    #[error(
        "window `{spec}` has total `{total}`; write a whole number from 1 to {MAX_WINDOW_TOTAL}"
    )]
    Total {
        /// The specification (truncated).
        spec: String,
        /// The total as written (truncated).
        total: String,
    },
    /// START or END is not a date.
    #[error("window `{spec}` has a date that was not understood")]
    Date {
        /// The specification (truncated).
        spec: String,
        /// What the date parser said.
        #[source]
        source: TimeError,
    },
    /// The window is well-formed but breaks a rule (ends before it starts, too long, ...).
    #[error("window `{spec}` was refused")]
    Invalid {
        /// The specification (truncated).
        spec: String,
        /// The rule it broke.
        #[source]
        source: SchemaError,
    },
    /// More windows than an offer may carry.
    #[error("an offer may have at most {MAX_WINDOWS_PER_OFFER} windows")]
    TooMany,
    /// The time zone is unknown.
    #[error(transparent)]
    Zone(#[from] TimeError),
}

/// The message of `e` followed by the messages of its causes, joined with `: `.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

fn truncated(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Parses one window `START..END=TOTAL[/weekly]` in the zone `tz_name`; START and END take
/// every form of [`parse_when`] (relative forms count from `today`), END is exclusive.
pub fn parse_window(spec: &str, today: Date, tz_name: &str) -> Result<NewWindow, WindowError> {
    let tz = zone(tz_name)?;
    parse_window_in(spec, today, &tz, tz_name)
}

/// Parses a `;`-separated list of windows (empty text gives no windows), as in the `windows`
/// column of the import format.
pub fn parse_windows(
    text: &str,
    today: Date,
    tz_name: &str,
) -> Result<Vec<NewWindow>, WindowError> {
    let tz = zone(tz_name)?;
    parse_windows_in(text, today, &tz, tz_name)
}

fn parse_windows_in(
    text: &str,
    today: Date,
    tz: &TimeZone,
    tz_name: &str,
) -> Result<Vec<NewWindow>, WindowError> {
    let mut out = Vec::new();
    for spec in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if out.len() == MAX_WINDOWS_PER_OFFER {
            return Err(WindowError::TooMany);
        }
        out.push(parse_window_in(spec, today, tz, tz_name)?);
    }
    Ok(out)
}

fn parse_window_in(
    spec: &str,
    today: Date,
    tz: &TimeZone,
    tz_name: &str,
) -> Result<NewWindow, WindowError> {
    let spec = spec.trim();
    let syntax = || WindowError::Syntax {
        spec: truncated(spec),
    };
    let (range, rest) = spec.split_once('=').ok_or_else(syntax)?;
    let (start, end) = range.split_once("..").ok_or_else(syntax)?;
    let rest = rest.trim();
    let (total_text, weekly) = match rest.len().checked_sub("/weekly".len()) {
        Some(i) if rest.is_char_boundary(i) && rest[i..].eq_ignore_ascii_case("/weekly") => {
            (rest[..i].trim(), true)
        }
        _ => (rest, false),
    };
    let bad_total = || WindowError::Total {
        spec: truncated(spec),
        total: truncated(total_text),
    };
    if total_text.is_empty() || !total_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_total());
    }
    let total: u32 = total_text.parse().map_err(|_| bad_total())?;
    if total == 0 {
        return Err(bad_total());
    }
    let date_err = |source| WindowError::Date {
        spec: truncated(spec),
        source,
    };
    let start = parse_when(start, today)
        .and_then(|w| w.instant(tz))
        .map_err(date_err)?;
    let end = parse_when(end, today)
        .and_then(|w| w.instant(tz))
        .map_err(date_err)?;
    let window = NewWindow {
        start,
        end,
        tz: tz_name.to_string(),
        weekly,
        total,
    };
    window.validate().map_err(|source| WindowError::Invalid {
        spec: truncated(spec),
        source,
    })?;
    Ok(window)
}

/// A refused row before its line is known.
struct Reject {
    column: Option<usize>,
    reason: RowProblem,
}

impl Reject {
    fn at(column: usize, reason: impl Into<RowProblem>) -> Self {
        Reject {
            column: Some(column),
            reason: reason.into(),
        }
    }
}

/// Reads an offers CSV (see `examples/data/README.md` for the format) into a plan.
///
/// The header is required and names columns from [`COLUMNS`] (any order, case-insensitive);
/// [`REQUIRED_COLUMNS`] must be among them. Each data row becomes a validated [`NewOffer`]
/// or a [`RowError`] with one reason; every refused row is reported. Windows are read in the
/// zone `tz_name`, relative dates count from `today`. Rows whose cells are all empty are skipped.
pub fn parse_offers_csv(
    input: &[u8],
    today: Date,
    tz_name: &str,
) -> Result<ImportPlan, ImportError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge { bytes: input.len() });
    }
    let tz = zone(tz_name)?;
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();

    let header = match records.next() {
        None => return Err(ImportError::Empty),
        Some(Err(e)) => return Err(malformed(&e)),
        Some(Ok(h)) => h,
    };
    let positions = read_header(&header)?;
    // For each field position of a record, the column it holds.
    let mut column_at = vec![0usize; header.len()];
    for (col, pos) in positions.iter().enumerate() {
        if let Some(p) = pos {
            column_at[*p] = col;
        }
    }

    let mut plan = ImportPlan::default();
    let mut lines = LineCounter::new(input);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut count = 0usize;
    for record in records {
        let record = record.map_err(|e| malformed(&e))?;
        count += 1;
        if count > MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        // The reader's own line count is one short per earlier record in a file with CRLF
        // line ends (what spreadsheets save); count the line feeds before the record instead.
        let line = record.position().map_or(0, |p| {
            lines.line_at(usize::try_from(p.byte()).unwrap_or(usize::MAX))
        });
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        let reject = |r: Reject, handle: Option<&str>| RowError {
            line,
            handle: handle.filter(|h| !h.is_empty()).map(str::to_string),
            column: r.column.map(|c| COLUMNS[c].to_string()),
            reason: r.reason,
        };
        match row_cells(&record, &positions, &column_at) {
            Err(r) => plan.rejected.push(reject(r, None)),
            Ok(cells) => {
                let handle = cells[HANDLE];
                if !handle.is_empty() {
                    if let Some(first) = seen.get(handle) {
                        plan.rejected.push(reject(
                            Reject::at(
                                HANDLE,
                                RowProblem::DuplicateHandle {
                                    handle: truncated(handle),
                                    first: *first,
                                },
                            ),
                            None,
                        ));
                        continue;
                    }
                    seen.insert(handle.to_string(), line);
                }
                match parse_row(&cells, today, &tz, tz_name)
                    .and_then(|offer| Ok((offer, owner(cells[OWNER])?)))
                {
                    Ok((offer, owner)) => {
                        plan.offers.push((line, offer));
                        if let Some(owner) = owner {
                            plan.owners.insert(line, owner);
                        }
                    }
                    Err(r) => plan.rejected.push(reject(r, Some(handle))),
                }
            }
        }
    }
    Ok(plan)
}

/// 1-based line numbers of byte offsets into a file, asked for in increasing order: each
/// call counts only the line feeds since the previous one.
struct LineCounter<'a> {
    input: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(input: &'a [u8]) -> Self {
        LineCounter {
            input,
            offset: 0,
            line: 1,
        }
    }

    /// The line a record starting at `offset` is on. The reader reports a record after blank
    /// lines as starting where they start; a record never starts with a line end (a field
    /// holding one is quoted), so those are skipped first.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut offset = offset.min(self.input.len());
        while matches!(self.input.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if offset > self.offset {
            self.line += self.input[self.offset..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.offset = offset;
        }
        self.line
    }
}

fn malformed(e: &csv::Error) -> ImportError {
    let line = e
        .position()
        .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    ImportError::Malformed {
        line,
        reason: e.to_string(),
    }
}

/// Maps each column to its field position in a record.
fn read_header(header: &csv::ByteRecord) -> Result<[Option<usize>; N], ImportError> {
    let mut positions: [Option<usize>; N] = [None; N];
    for (pos, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| ImportError::Header(HeaderProblem::NotUtf8))?
            .trim()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(ImportError::Header(HeaderProblem::EmptyName(pos + 1)));
        }
        let col = COLUMNS
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| ImportError::Header(HeaderProblem::Unknown(truncated(&name))))?;
        if positions[col].is_some() {
            return Err(ImportError::Header(HeaderProblem::Duplicate(name)));
        }
        positions[col] = Some(pos);
    }
    let missing: Vec<String> = REQUIRED_COLUMNS
        .iter()
        .filter(|r| {
            COLUMNS
                .iter()
                .position(|c| c == *r)
                .is_none_or(|i| positions[i].is_none())
        })
        .map(|r| (*r).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::Header(HeaderProblem::Missing(missing)));
    }
    Ok(positions)
}

/// The trimmed text of every column of a record ("" for columns the header lacks).
fn row_cells<'r>(
    record: &'r csv::ByteRecord,
    positions: &[Option<usize>; N],
    column_at: &[usize],
) -> Result<[&'r str; N], Reject> {
    if record.len() != column_at.len() {
        return Err(Reject {
            column: None,
            reason: RowProblem::CellCount {
                found: record.len(),
                expected: column_at.len(),
            },
        });
    }
    for (pos, raw) in record.iter().enumerate() {
        let col = column_at[pos];
        let text = std::str::from_utf8(raw).map_err(|_| Reject::at(col, RowProblem::NotUtf8))?;
        let n = text.chars().count();
        if n > MAX_CELL_CHARS {
            return Err(Reject::at(col, RowProblem::CellTooLong { chars: n }));
        }
    }
    let mut cells = [""; N];
    for (col, pos) in positions.iter().enumerate() {
        if let Some(raw) = pos.and_then(|p| record.get(p)) {
            // Checked to be UTF-8 above; an error cannot occur here.
            // A cell puente guarded against spreadsheet formulas reads as what was guarded.
            cells[col] = super::formula_unguarded(std::str::from_utf8(raw).unwrap_or("").trim());
        }
    }
    Ok(cells)
}

/// The organisation an `owner` cell names, if any.
fn owner(cell: &str) -> Result<Option<OrgId>, Reject> {
    if cell.is_empty() {
        return Ok(None);
    }
    cell.parse()
        .map(Some)
        .map_err(|_| Reject::at(OWNER, RowProblem::Owner))
}

fn required(cells: &[&str; N], col: usize) -> Result<(), Reject> {
    if cells[col].is_empty() {
        return Err(Reject::at(
            col,
            RowProblem::Required {
                column: COLUMNS[col],
            },
        ));
    }
    Ok(())
}

fn term<T: FromStr>(cells: &[&str; N], col: usize) -> Result<T, Reject>
where
    T::Err: Into<SchemaError>,
{
    required(cells, col)?;
    cells[col]
        .parse()
        .map_err(|e: T::Err| Reject::at(col, e.into()))
}

fn list<T: FromStr>(cells: &[&str; N], col: usize) -> Result<Vec<T>, Reject>
where
    T::Err: Into<SchemaError>,
{
    parse_list(cells[col]).map_err(|e: T::Err| Reject::at(col, e.into()))
}

fn optional<T: FromStr>(cells: &[&str; N], col: usize) -> Result<Option<T>, Reject>
where
    T::Err: Into<SchemaError>,
{
    if cells[col].is_empty() {
        return Ok(None);
    }
    term(cells, col).map(Some)
}

fn duration(cells: &[&str; N], col: usize) -> Result<Option<i64>, Reject> {
    if cells[col].is_empty() {
        return Ok(None);
    }
    parse_duration(cells[col])
        .map(Some)
        .map_err(|e| Reject::at(col, SchemaError::from(e)))
}

fn parse_row(
    cells: &[&str; N],
    today: Date,
    tz: &TimeZone,
    tz_name: &str,
) -> Result<NewOffer, Reject> {
    required(cells, HANDLE)?;
    check_slug("handle", cells[HANDLE]).map_err(|e| Reject::at(HANDLE, SchemaError::from(e)))?;
    let kind = term(cells, KIND)?;
    let subject = term(cells, SUBJECT)?;
    required(cells, COUNTIES)?;
    let counties = list(cells, COUNTIES)?;
    if counties.is_empty() {
        return Err(Reject::at(
            COUNTIES,
            RowProblem::Required {
                column: COLUMNS[COUNTIES],
            },
        ));
    }
    let zone = match cells[ZONE] {
        "" => None,
        z => {
            check_slug("zone", z).map_err(|e| Reject::at(ZONE, SchemaError::from(e)))?;
            Some(z.to_string())
        }
    };
    let languages = list(cells, LANGUAGES)?;
    let accepts = list(cells, ACCEPTS)?;
    let affirming = list(cells, AFFIRMING)?;
    let accessibility = list(cells, ACCESSIBILITY)?;
    let household = list(cells, HOUSEHOLD)?;
    let capabilities = list(cells, CAPABILITIES)?;
    let unit = term(cells, UNIT)?;
    let windows = parse_windows_in(cells[WINDOWS], today, tz, tz_name)
        .map_err(|e| Reject::at(WINDOWS, RowProblem::Window(e)))?;
    let lead_time = duration(cells, LEAD_TIME)?;
    let max_stay = duration(cells, MAX_STAY)?;
    let vetting = term(cells, VETTING)?;
    let status = optional(cells, STATUS)?.unwrap_or(StatusHint::Capacity);
    let expires_in = duration(cells, EXPIRES_IN)?;
    let label = cells[LABEL].to_string();
    check_label(&label).map_err(|e| Reject::at(LABEL, SchemaError::from(e)))?;
    let bond_band = optional(cells, BOND_BAND)?;
    let post_within = duration(cells, POST_WITHIN)?;
    let mut offer = NewOffer {
        fields: OfferFields {
            kind,
            handle: cells[HANDLE].to_string(),
            subject,
            counties,
            zone,
            languages,
            accepts,
            affirming,
            accessibility,
            household,
            capabilities,
            unit,
            lead_time,
            max_stay,
            vetting,
            status,
            label,
            bond_band,
            post_within,
        },
        windows,
        expires_in,
    };
    offer.validate().map_err(|e| Reject {
        column: column_of(&e, cells),
        reason: e.into(),
    })?;
    Ok(offer)
}

/// The column a whole-offer validation error points at, where one can be named.
fn column_of(e: &SchemaError, cells: &[&str; N]) -> Option<usize> {
    match e {
        SchemaError::Label(_) => Some(LABEL),
        SchemaError::Slug(s) if s.what == "zone" => Some(ZONE),
        SchemaError::Slug(_) => Some(HANDLE),
        SchemaError::County(_) => Some(COUNTIES),
        SchemaError::Language(_) => Some(LANGUAGES),
        SchemaError::Rule(rule) => match rule {
            Rule::BondFieldsWithoutBondFund => Some(if cells[BOND_BAND].is_empty() {
                POST_WITHIN
            } else {
                BOND_BAND
            }),
            Rule::BondFundNotInUsd => Some(UNIT),
            Rule::NoCounty | Rule::TooManyCounties => Some(COUNTIES),
            Rule::TooManyLanguages => Some(LANGUAGES),
            Rule::OutOfRange(field) => field.import_position(),
            Rule::WindowEndsBeforeStart
            | Rule::WindowTooLong
            | Rule::WeeklyWindowTooLong
            | Rule::WindowTotal
            | Rule::TooManyWindows
            | Rule::TooManyWindowsAfterChange => Some(WINDOWS),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use puente_crdt::{Kind, LangMode, SubjectType, Time};

    const TZ: &str = "America/Los_Angeles";
    const HEADER: &str = "handle,kind,subject,counties,zone,languages,accepts,affirming,accessibility,household,capabilities,unit,windows,lead_time,max_stay,vetting,status,expires_in,label,bond_band,post_within";
    const GOOD_ROW: &str = "demo-ok-1,host-home,household,06067,south-sac,es;en,adult-women,,,,,room,+2d..+30d=1,48h,30d,org-vetted,,14d,\"quiet room, bus line nearby\",,";

    fn today() -> Date {
        Date::constant(2026, 11, 22)
    }

    fn parse(text: &str) -> Result<ImportPlan, ImportError> {
        parse_offers_csv(text.as_bytes(), today(), TZ)
    }

    fn at(d: Date, h: i8, m: i8) -> Time {
        let tz = zone(TZ).expect("bundled zone");
        Time(
            tz.to_timestamp(d.at(h, m, 0, 0))
                .expect("valid local time")
                .as_second(),
        )
    }

    #[test]
    fn example_files_parse_without_rejections() {
        let files: [(&str, &[u8], usize); 6] = [
            (
                "sac-accompaniment",
                include_bytes!("../../../examples/data/sac-accompaniment.csv"),
                42,
            ),
            (
                "river-refuge",
                include_bytes!("../../../examples/data/river-refuge.csv"),
                26,
            ),
            (
                "yolo-trans-health",
                include_bytes!("../../../examples/data/yolo-trans-health.csv"),
                30,
            ),
            (
                "placer-pride",
                include_bytes!("../../../examples/data/placer-pride.csv"),
                28,
            ),
            (
                "interfaith-sanctuary",
                include_bytes!("../../../examples/data/interfaith-sanctuary.csv"),
                38,
            ),
            (
                "capitol-legal-bond",
                include_bytes!("../../../examples/data/capitol-legal-bond.csv"),
                36,
            ),
        ];
        let mut total = 0;
        for (name, bytes, rows) in files {
            let plan = parse_offers_csv(bytes, today(), TZ).expect("a valid file");
            assert_eq!(plan.rejected, vec![], "{name}");
            assert_eq!(plan.offers.len(), rows, "{name}");
            let lines: Vec<usize> = plan.offers.iter().map(|(l, _)| *l).collect();
            assert_eq!(lines, (2..rows + 2).collect::<Vec<_>>(), "{name}");
            total += rows;
        }
        assert_eq!(total, 200);
    }

    #[test]
    fn lines_are_counted_alike_with_crlf_line_ends_and_quoted_line_breaks() {
        let lf = format!(
            "{HEADER}\n{GOOD_ROW}\n\ndemo-bad,host-home,household,6067,,,,,,,,room,,,,org-vetted,,,\"two\nlines\",,\n{}\n",
            GOOD_ROW.replace("demo-ok-1", "demo-ok-2")
        );
        let crlf = lf.replace('\n', "\r\n");
        for text in [&lf, &crlf] {
            let plan = parse(text).expect("a readable file");
            let ok: Vec<usize> = plan.offers.iter().map(|(l, _)| *l).collect();
            assert_eq!(ok, [2, 6], "{text:?}");
            assert_eq!(plan.rejected.len(), 1);
            assert_eq!(plan.rejected[0].line, 4, "{text:?}");
            assert_eq!(plan.rejected[0].handle.as_deref(), Some("demo-bad"));
        }
    }

    #[test]
    fn bad_rows_reports_exactly_the_intended_rows() {
        let plan = parse_offers_csv(
            include_bytes!("../../../examples/data/bad-rows.csv"),
            today(),
            TZ,
        )
        .expect("a readable file");
        let accepted: Vec<(usize, &str)> = plan
            .offers
            .iter()
            .map(|(l, o)| (*l, o.fields.handle.as_str()))
            .collect();
        assert_eq!(
            accepted,
            vec![(2, "demo-ok-1"), (5, "demo-ok-2"), (10, "demo-ok-3")]
        );
        let got: Vec<(usize, Option<&str>)> = plan
            .rejected
            .iter()
            .map(|r| (r.line, r.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, Some("label")),
                (4, Some("label")),
                (6, Some("label")),
                (7, Some("label")),
                (8, Some("kind")),
                (9, Some("counties")),
                (11, Some("windows")),
                (12, Some("handle")),
            ]
        );
        let reasons: Vec<String> = plan.rejected.iter().map(|r| r.reason.to_string()).collect();
        assert!(reasons[0].contains("phone number"), "{}", reasons[0]);
        assert!(reasons[1].contains("e-mail address"), "{}", reasons[1]);
        assert!(reasons[2].contains("A-number"), "{}", reasons[2]);
        assert!(reasons[3].contains("street address"), "{}", reasons[3]);
        assert!(
            reasons[4].contains("unknown kind `hotel-voucher`"),
            "{}",
            reasons[4]
        );
        assert!(reasons[5].contains("county `6067`"), "{}", reasons[5]);
        assert!(
            reasons[6].contains("+5d..+2d=1") && reasons[6].contains("must end after it starts"),
            "{}",
            reasons[6]
        );
        assert_eq!(reasons[7], "handle is required");
        // Labels are checked without echoing what they held.
        assert!(!plan.rejected[0].to_string().contains("555"));
        assert!(
            plan.rejected[3]
                .to_string()
                .starts_with("line 7, label: label looks like it contains a street address")
        );

        let (_, ok2) = &plan.offers[1];
        assert_eq!(ok2.fields.subject, SubjectType::PersonVolunteer);
        assert_eq!(ok2.fields.languages[1].tag, "mam");
        assert_eq!(ok2.fields.languages[1].mode, LangMode::Phone);
        assert!(ok2.windows[0].weekly);
        assert_eq!(ok2.expires_in, None);
        let (_, ok3) = &plan.offers[2];
        assert_eq!(ok3.fields.kind, Kind::BondFund);
        assert_eq!(ok3.fields.post_within, Some(48 * 3600));
        assert!(ok3.windows.is_empty());
    }

    #[test]
    fn header_problems_are_file_errors() {
        let err = parse("handle,kind,subject,counties,unit,vetting,colour\n").unwrap_err();
        assert_eq!(
            err,
            ImportError::Header(HeaderProblem::Unknown("colour".into()))
        );
        let text = err.to_string();
        assert!(text.contains("unknown column `colour`"), "{text}");
        assert!(text.contains("handle, kind, subject"), "{text}");

        assert_eq!(
            parse("handle,kind,subject,counties,unit,vetting,Kind\n").unwrap_err(),
            ImportError::Header(HeaderProblem::Duplicate("kind".into()))
        );
        assert_eq!(
            parse("handle,kind,subject,counties\n").unwrap_err(),
            ImportError::Header(HeaderProblem::Missing(vec![
                "unit".into(),
                "vetting".into()
            ]))
        );
        assert_eq!(
            parse("handle,kind,,subject\n").unwrap_err(),
            ImportError::Header(HeaderProblem::EmptyName(3))
        );
        assert_eq!(parse("").unwrap_err(), ImportError::Empty);
        assert_eq!(
            parse_offers_csv(b"handle,k\xffnd\n", today(), TZ).unwrap_err(),
            ImportError::Header(HeaderProblem::NotUtf8)
        );
        // Case, spaces, column order and a byte-order mark are all fine.
        let plan = parse_offers_csv(
            "\u{feff} Vetting ,UNIT,handle,kind,subject,counties\norg-vetted,room,host-ab12,host-home,household,06067\n".as_bytes(),
            today(),
            TZ,
        )
        .expect("a valid file");
        assert_eq!(plan.rejected, vec![]);
        assert_eq!(plan.offers.len(), 1);
        assert_eq!(
            parse_offers_csv(HEADER.as_bytes(), today(), "Mars/Olympus")
                .unwrap_err()
                .to_string(),
            "unknown time zone `Mars/Olympus`; use an IANA name such as America/Los_Angeles"
        );
    }

    #[test]
    fn non_utf8_cell_is_reported_with_its_line() {
        let mut input = format!("{HEADER}\n{GOOD_ROW}\n").into_bytes();
        input.extend_from_slice(
            b"host-xy12,host-home,household,06067,,es,,,,,,room,,,,org-vetted,,,caf\xe9 nearby,,\n",
        );
        input.extend_from_slice(
            format!("{}\n", GOOD_ROW.replace("demo-ok-1", "demo-ok-9")).as_bytes(),
        );
        let plan = parse_offers_csv(&input, today(), TZ).expect("a readable file");
        assert_eq!(plan.offers.len(), 2);
        assert_eq!(plan.rejected.len(), 1);
        let r = &plan.rejected[0];
        assert_eq!((r.line, r.column.as_deref()), (3, Some("label")));
        assert_eq!(r.reason, RowProblem::NotUtf8);
        assert!(r.reason.to_string().contains("not UTF-8"), "{}", r.reason);
    }

    #[test]
    fn limits_on_cells_rows_and_bytes() {
        let long = "a".repeat(MAX_CELL_CHARS + 1);
        let row = GOOD_ROW.replace("\"quiet room, bus line nearby\"", &long);
        let plan = parse(&format!("{HEADER}\n{row}\n")).expect("a readable file");
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].column.as_deref(), Some("label"));
        assert!(plan.rejected[0].reason.to_string().contains("at most 1000"));

        let mut many = String::from("handle,kind,subject,counties,unit,vetting\n");
        for i in 0..=MAX_ROWS {
            many.push_str(&format!("h{i},,,,,\n"));
        }
        assert_eq!(parse(&many).unwrap_err(), ImportError::TooManyRows);

        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        assert_eq!(
            parse_offers_csv(&big, today(), TZ).unwrap_err(),
            ImportError::TooLarge {
                bytes: MAX_INPUT_BYTES + 1
            }
        );
    }

    #[test]
    fn row_shape_duplicates_and_blank_rows() {
        let text = format!(
            "{HEADER}\n{GOOD_ROW}\n\n,,,,,,,,,,,,,,,,,,,,\n{GOOD_ROW}\n{},extra\n",
            GOOD_ROW.replace("demo-ok-1", "demo-ok-2")
        );
        let plan = parse(&text).expect("a readable file");
        assert_eq!(plan.offers.len(), 1);
        let got: Vec<(usize, Option<&str>)> = plan
            .rejected
            .iter()
            .map(|r| (r.line, r.column.as_deref()))
            .collect();
        assert_eq!(got, vec![(5, Some("handle")), (6, None)]);
        assert!(
            plan.rejected[0]
                .reason
                .to_string()
                .contains("already used on line 2")
        );
        assert!(plan.rejected[1].reason.to_string().contains("22 cells"));
    }

    #[test]
    fn a_quoted_line_break_keeps_physical_line_numbers() {
        let row = GOOD_ROW.replace("quiet room, bus line nearby", "quiet room,\nbus line");
        let text = format!(
            "{HEADER}\n{row}\n{}\n",
            GOOD_ROW.replace("demo-ok-1", "demo-ok-2")
        );
        let plan = parse(&text).expect("a readable file");
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].line, 2);
        assert_eq!(plan.rejected[0].column.as_deref(), Some("label"));
        assert_eq!(plan.offers[0].0, 4);
    }

    #[test]
    fn empty_required_cells_and_defaults() {
        let row = "host-ab12,host-home,household,06067,,,,,,,,,,,,org-vetted,,,,,";
        let plan = parse(&format!("{HEADER}\n{row}\n")).expect("a readable file");
        assert_eq!(plan.rejected[0].column.as_deref(), Some("unit"));
        assert_eq!(plan.rejected[0].reason.to_string(), "unit is required");

        let row = "host-ab12,host-home,household,06067,,,,,,,,room,,,,org-vetted,,,,,";
        let plan = parse(&format!("{HEADER}\n{row}\n")).expect("a readable file");
        let offer = &plan.offers[0].1;
        assert_eq!(offer.fields.status, StatusHint::Capacity);
        assert_eq!(offer.expires_in, None);

        let row = "host-ab12,host-home,household,06067,,,,,,,,room,,,,org-vetted,,,,over-15k,";
        let plan = parse(&format!("{HEADER}\n{row}\n")).expect("a readable file");
        assert_eq!(plan.rejected[0].column.as_deref(), Some("bond_band"));
        assert!(
            plan.rejected[0]
                .reason
                .to_string()
                .contains("only to bond funds")
        );

        let row = "host-ab12,host-home,household,06067,,,,,,,,room,,2 days,,org-vetted,,,,,";
        let plan = parse(&format!("{HEADER}\n{row}\n")).expect("a readable file");
        assert_eq!(plan.rejected[0].column.as_deref(), Some("lead_time"));
    }

    #[test]
    fn windows_relative_dates_follow_dst() {
        // 2026-03-08 is the day clocks go forward in Los Angeles.
        let today = Date::constant(2026, 3, 7);
        let w = parse_window("+1dT13:00..+1dT16:00=2/weekly", today, TZ).expect("valid");
        assert_eq!(w.start, at(Date::constant(2026, 3, 8), 13, 0));
        assert_eq!(w.start.rfc3339(), "2026-03-08T20:00:00Z");
        assert_eq!(w.end.0 - w.start.0, 3 * 3600);
        assert!(w.weekly);
        assert_eq!(w.total, 2);
        assert_eq!(w.tz, TZ);

        let w = parse_window("today..+2d=1", today, TZ).expect("valid");
        assert_eq!(w.start.rfc3339(), "2026-03-07T08:00:00Z");
        assert_eq!(w.end.0 - w.start.0, 47 * 3600);
        assert!(!w.weekly);

        let w = parse_window(
            " 2026-12-01T09:00 .. 2026-12-01T12:30 = 3 /Weekly ",
            today,
            TZ,
        )
        .expect("valid");
        assert!(w.weekly);
        assert_eq!(w.total, 3);
    }

    #[test]
    fn window_errors() {
        let e = parse_window("+5d..+2d=1", today(), TZ).unwrap_err();
        assert!(matches!(e, WindowError::Invalid { .. }));
        assert!(error_chain(&e).contains("must end after it starts"));
        assert!(matches!(
            parse_window("+1d+2d=1", today(), TZ),
            Err(WindowError::Syntax { .. })
        ));
        for bad in [
            "+1d..+2d",
            "+1d..+2d=0",
            "+1d..+2d=-1",
            "+1d..+2d=two",
            "+1d..+2d=1/daily",
        ] {
            assert!(parse_window(bad, today(), TZ).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_window("+1d..+2d=0", today(), TZ),
            Err(WindowError::Total { .. })
        ));
        assert!(matches!(
            parse_window("soon..+2d=1", today(), TZ),
            Err(WindowError::Date { .. })
        ));
        assert!(matches!(
            parse_window("today..+9d=1/weekly", today(), TZ),
            Err(WindowError::Invalid { .. })
        ));
        assert!(matches!(
            parse_window("today..+1d=1", today(), "Nowhere/Land"),
            Err(WindowError::Zone(_))
        ));
        let many = vec!["today..+1d=1"; MAX_WINDOWS_PER_OFFER + 1].join(";");
        assert_eq!(parse_windows(&many, today(), TZ), Err(WindowError::TooMany));
        assert_eq!(
            parse_windows(" ; today..+1d=1 ;", today(), TZ)
                .expect("valid")
                .len(),
            1
        );
        assert_eq!(parse_windows("", today(), TZ), Ok(vec![]));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b",;\"\n\r.=+:/-dT0123456789abc\xff\xc3\xa9 ";
        for _ in 0..300 {
            let mut input = format!("{HEADER}\n").into_bytes();
            for _ in 0..200 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = usize::try_from(seed % alphabet.len() as u64).unwrap_or(0);
                input.push(alphabet[i]);
            }
            let _ = parse_offers_csv(&input, today(), TZ);
        }
    }
}
