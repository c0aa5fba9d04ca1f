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
pub mod reconcile;

use std::borrow::Cow;

/// What a spreadsheet runs as a formula when a cell starts with it (`=`, `+`, `-`, `@`), or
/// strips before it looks (tab, carriage return). Every CSV that puente writes starts such a
/// cell with `'`, which spreadsheets show as text and the import removes again.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as puente writes it into CSV: a cell starting with one of [`FORMULA_STARTS`] gets a
/// leading `'`, so a partner's label can never become a live formula on a coordinator's screen.
pub fn formula_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`formula_safe`] for a cell read back from a CSV file: `'=x` was written for `=x`.
/// Any other cell is returned as it is.
pub fn formula_unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

pub use csv_import::{
    COLUMNS, HeaderProblem, ImportError, ImportPlan, MAX_CELL_CHARS, MAX_INPUT_BYTES, MAX_ROWS,
    REQUIRED_COLUMNS, RowError, RowProblem, WindowError, parse_offers_csv, parse_window,
    parse_windows,
};
pub use export::{
    ExportError, ExportOffer, HSDS_VERSION, JSON_EXPORT_VERSION, JsonExport, hsds_publishable,
    to_csv, to_hsds, to_json,
};
pub use reconcile::{Reconciliation, RowAction, RowOutcome, RowRefusal, reconcile};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_guarded_and_read_back() {
        for start in FORMULA_STARTS {
            let cell = format!("{start}HYPERLINK(\"http://example.invalid\")");
            let safe = formula_safe(&cell);
            assert!(safe.starts_with('\''), "{safe:?}");
            assert_eq!(formula_unguarded(&safe), cell);
        }
        for plain in ["quiet room", "", "'quoted already", "3 beds", "a=b"] {
            assert_eq!(formula_safe(plain), plain);
            assert_eq!(formula_unguarded(plain), plain);
        }
    }
}
