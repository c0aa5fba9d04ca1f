//! Interchange with the world outside the shared document: CSV import of offers from the
//! spreadsheets organisations start with, and exports as JSON, re-importable CSV and an
//! Open Referral HSDS 3.1 document for public resource directories.
//!
//! Every field, column and key comes from the one field table of `puente_crdt::fields`; the
//! import's header is its import columns, and the exports write its column lists.
//!
//! Boundary: pure functions over bytes and values. No file or network I/O and no clock reads:
//! the caller reads the file, and passes today's date, the time zone and `now`.
//!
//! Invariant: an HSDS export never holds a household or person-volunteer offer, a confidential
//! shelter, a withdrawn or expired offer, an intake route or a zone (see [`export`]).

pub mod csv_import;
pub mod export;

pub use csv_import::{
    COLUMNS, HeaderProblem, ImportError, ImportPlan, MAX_CELL_CHARS, MAX_INPUT_BYTES, MAX_ROWS,
    REQUIRED_COLUMNS, RowError, WindowError, parse_offers_csv, parse_window, parse_windows,
};
pub use export::{
    ExportError, ExportOffer, HSDS_VERSION, JSON_EXPORT_VERSION, JsonExport, hsds_publishable,
    to_csv, to_hsds, to_json,
};
