//! `puente import` and `puente export`: offers in and out of the store as files.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Result, bail};
use puente_crdt::time;
use puente_node::interchange::{
    ExportOffer, MAX_INPUT_BYTES, RowAction, RowOutcome, parse_offers_csv, to_csv, to_hsds, to_json,
};
use serde::Serialize;
use serde_json::json;

use crate::args::{ExportArgs, Format, ImportArgs};
use crate::commands::offer::zone;
use crate::context::Ctx;
use crate::messages;
use crate::output;

/// One row of an import's report: its line, handle, what happens to it, the fields an update
/// changes, the offer it names or creates, and for a refused row the column and reason.
#[derive(Debug, Serialize)]
struct RowReport {
    line: usize,
    handle: Option<String>,
    action: &'static str,
    fields: Vec<&'static str>,
    offer_id: Option<String>,
    column: Option<String>,
    reason: Option<String>,
}

impl RowReport {
    fn of(row: &RowOutcome) -> RowReport {
        let mut r = RowReport {
            line: row.line,
            handle: row.handle.clone(),
            action: "rejected",
            fields: Vec::new(),
            offer_id: None,
            column: None,
            reason: None,
        };
        match &row.action {
            RowAction::Create => r.action = "create",
            RowAction::Update { offer, changed } => {
                r.action = "update";
                r.fields = changed.iter().map(|f| f.name()).collect();
                r.offer_id = Some(offer.to_string());
            }
            RowAction::Unchanged { offer } => {
                r.action = "unchanged";
                r.offer_id = Some(offer.to_string());
            }
            RowAction::Rejected(e) => {
                r.column.clone_from(&e.column);
                r.reason = Some(messages::row_problem(&e.reason));
            }
            RowAction::Refused(refusal) => {
                let (column, reason) = messages::import_row(refusal);
                r.column = column.map(str::to_string);
                r.reason = Some(reason);
            }
            _ => r.reason = Some(format!("{:?}", row.action)),
        }
        r
    }

    /// The row as one line of the text report.
    fn line(&self) -> String {
        let handle = self.handle.as_deref().unwrap_or("");
        let reason = self.reason.as_deref().unwrap_or("");
        match self.action {
            "rejected" => match &self.column {
                Some(c) => t!(
                    "cmd-import-row-rejected",
                    line = self.line,
                    column = c.as_str(),
                    reason = reason
                ),
                None => t!(
                    "cmd-import-row-rejected-line",
                    line = self.line,
                    reason = reason
                ),
            },
            "update" => t!(
                "cmd-import-row-update",
                line = self.line,
                handle = handle,
                fields = self.fields.join(", ")
            ),
            action => t!(
                "cmd-import-row",
                action = action,
                line = self.line,
                handle = handle
            ),
        }
    }
}

pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    let format = ctx.format()?;
    let shown = a.file.display().to_string();
    let bytes = match ctx.take_attached() {
        Some(bytes) => bytes,
        None => read_input(&ctx.path(&a.file), &shown)?,
    };
    let mut replica = ctx.open()?;
    let today = time::local_date(ctx.now, &zone(&replica)?);
    let plan = parse_offers_csv(&bytes, today, replica.tz())
        .map_err(|e| anyhow::anyhow!("{shown}: {}", messages::import_file(&e)))?;
    let total = plan.rows();
    let rec = replica.reconcile_import(plan, ctx.now, a.withdraw_missing);
    let reports: Vec<RowReport> = rec.rows.iter().map(RowReport::of).collect();
    let count = |action: &str| reports.iter().filter(|r| r.action == action).count();
    let (creates, updates, unchanged) = (count("create"), count("update"), count("unchanged"));
    let refused = rec.refused();
    let withdrawals: Vec<(String, String)> = rec
        .withdrawals
        .iter()
        .map(|(id, handle)| (id.to_string(), handle.clone()))
        .collect();
    let refuse = refused > 0 && !a.allow_partial;
    let writes = !a.dry_run && !refuse && rec.writes();

    let mut ids = Vec::new();
    if writes {
        let rows = rec.creates.len() + rec.updates.len() + rec.withdrawals.len();
        let bar = progress(ctx, rows as u64);
        ids = replica
            .apply_import(rec, ctx.now, &mut |done| bar.set_position(done as u64))
            .map_err(|e| ctx.err(e))?;
        bar.finish_and_clear();
        replica.close().map_err(|e| ctx.err(e))?;
    } else {
        // A dry run or a refused import writes nothing, not even a snapshot.
        drop(replica);
    }
    let written = writes || (!a.dry_run && !refuse);

    // The closing sentence of a real import, for people (not written with --quiet).
    let mut imported = None;
    let text = match format {
        Format::Json => output::json(&json!({
            "file": shown,
            "rows": total,
            "dry_run": a.dry_run,
            "written": written,
            "created": creates,
            "updated": updates,
            "unchanged": unchanged,
            "imported": if written { creates + updates } else { 0 },
            "offer_ids": ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "outcomes": &reports,
            "rejected": reports.iter().filter(|r| r.action == "rejected").map(|r| json!({
                "line": r.line, "handle": r.handle, "column": r.column, "reason": r.reason,
            })).collect::<Vec<_>>(),
            "withdrawn": withdrawals.iter().map(|(id, handle)| json!({
                "offer_id": id, "handle": handle,
            })).collect::<Vec<_>>(),
        }))?,
        Format::Csv => {
            let mut rows: Vec<Vec<String>> = reports
                .iter()
                .map(|r| {
                    vec![
                        r.line.to_string(),
                        r.handle.clone().unwrap_or_default(),
                        r.action.to_string(),
                        r.fields.join(";"),
                        r.column.clone().unwrap_or_default(),
                        r.reason.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            rows.extend(withdrawals.iter().map(|(_, handle)| {
                vec![
                    String::new(),
                    handle.clone(),
                    "withdraw".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]
            }));
            output::csv(
                &["line", "handle", "action", "fields", "column", "reason"],
                &rows,
            )?
        }
        _ => {
            let mut s = String::new();
            for r in &reports {
                // A real run lists what it refused; a dry run lists every row.
                if a.dry_run || r.action == "rejected" {
                    s.push_str(&r.line());
                    s.push('\n');
                }
            }
            if a.dry_run {
                for (_, handle) in &withdrawals {
                    s.push_str(&t!("cmd-import-withdraw-row", handle = handle.as_str()));
                    s.push('\n');
                }
            }
            let summary = t!(
                "cmd-import-summary",
                created = creates,
                updated = updates,
                unchanged = unchanged,
                rejected = refused,
                withdrawn = withdrawals.len()
            );
            if a.dry_run {
                s.push_str(&t!("cmd-import-dry-run", summary = summary));
                s.push('\n');
            } else if !refuse {
                imported = Some(format!(
                    "{}\n",
                    t!(
                        "cmd-import-imported",
                        count = creates + updates + unchanged,
                        file = shown.as_str(),
                        summary = summary
                    )
                ));
            }
            s
        }
    };
    ctx.emit(&text)?;
    if let Some(sentence) = imported {
        ctx.say(&sentence)?;
    }
    if refuse {
        let valid = total - refused;
        if a.dry_run {
            bail!(t!(
                "cmd-import-refused-dry-run",
                count = refused,
                total = total,
                valid = valid
            ));
        }
        bail!(t!(
            "cmd-import-refused",
            count = refused,
            total = total,
            valid = valid
        ));
    }
    if refused == total && total > 0 {
        bail!(t!("cmd-import-none-valid", total = total));
    }
    Ok(())
}

/// Reads the CSV file at `file`, named `shown` in messages (as the user typed it).
fn read_input(file: &Path, shown: &str) -> Result<Vec<u8>> {
    let cannot_read = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "cmd-import-cannot-read",
            file = shown,
            reason = messages::io_reason(&e)
        ))
    };
    let meta = std::fs::metadata(file).map_err(cannot_read)?;
    if !meta.is_file() {
        bail!(t!("cmd-import-not-a-file", file = shown));
    }
    if meta.len() > MAX_INPUT_BYTES as u64 {
        bail!(t!("cmd-import-too-large", file = shown, bytes = meta.len()));
    }
    std::fs::read(file).map_err(cannot_read)
}

/// A progress bar on a terminal; hidden otherwise (and when a node serves the import, and with
/// --quiet), so that logs and pipes stay clean.
fn progress(ctx: &Ctx, len: u64) -> indicatif::ProgressBar {
    if !ctx.interactive || !ctx.verbosity.speaks() || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    // The bar's own placeholders go in as arguments: Fluent reads braces as its own.
    let template = t!(
        "cmd-import-progress",
        bar = "{bar:30}",
        progress = "{pos}/{len}"
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<()> {
    let format = match ctx.format {
        None => Format::Json,
        Some(Format::Table) => {
            bail!(t!("cmd-export-table"))
        }
        Some(f) => f,
    };
    if a.partners && format == Format::Hsds {
        bail!(t!("cmd-export-hsds-partners"));
    }
    let replica = ctx.open_read_only()?;
    let own = replica.org();
    let view = replica.view();
    let profile = |org| view.profiles().get(&org);
    let offers: Vec<ExportOffer<'_>> = view
        .offers()
        .filter(|o| a.partners || o.owner == own)
        .map(|o| ExportOffer {
            offer: o,
            owner_name: profile(o.owner).map_or("", |p| p.name.as_str()),
            intake: profile(o.owner).map_or("", |p| p.intake.as_str()),
        })
        .collect();
    let json_rows = (format == Format::Json).then(|| to_json(&offers));
    // JSON to standard output is written as it is made, with the view still open.
    if let (Some(json), None) = (&json_rows, &a.output) {
        let rest = [("version", serde_json::json!(json.version))];
        let written =
            ctx.emit_with(|w| output::write_json_with_items(w, "offers", &json.offers, &rest));
        drop(json_rows);
        drop(offers);
        // Freeing the view of every offer is not worth waiting for when the process ends.
        replica.close_at_exit().map_err(|e| ctx.err(e))?;
        return written;
    }
    let mut text = match (&json_rows, format) {
        (Some(json), _) => {
            let mut bytes = Vec::new();
            let rest = [("version", serde_json::json!(json.version))];
            output::write_json_with_items(&mut bytes, "offers", &json.offers, &rest)?;
            String::from_utf8(bytes)?
        }
        (None, Format::Hsds) => {
            let Some(profile) = view.profiles().get(&own) else {
                bail!(t!("cmd-export-no-profile"))
            };
            output::json(&to_hsds(&offers, (own, profile), ctx.now))?
        }
        (None, _) => to_csv(&offers, &zone(&replica)?, ctx.now)
            .map_err(|e| anyhow::anyhow!(messages::chain(&e)))?,
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let count = offers.len();
    drop(json_rows);
    drop(offers);
    // Freeing the view of every offer is not worth waiting for when the process ends next.
    replica.close_at_exit().map_err(|e| ctx.err(e))?;
    match &a.output {
        None => ctx.emit(&text),
        Some(path) => {
            write_private(
                &ctx.path(path),
                &path.display().to_string(),
                text.as_bytes(),
            )?;
            ctx.say(&format!(
                "{}\n",
                t!(
                    "cmd-export-wrote",
                    format = match format {
                        Format::Csv => "csv",
                        Format::Hsds => "hsds",
                        _ => "json",
                    },
                    count = count,
                    partners = if a.partners { "yes" } else { "no" },
                    file = path.display().to_string()
                )
            ))
        }
    }
}

/// Writes `bytes` to `path` (named `shown` in messages), readable by the owner only.
fn write_private(path: &Path, shown: &str, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let cannot_write = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "cmd-export-cannot-write",
            file = shown,
            reason = messages::io_reason(&e)
        ))
    };
    let mut f = opts.open(path).map_err(cannot_write)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| {
                anyhow::anyhow!(t!(
                    "cmd-export-cannot-restrict",
                    file = shown,
                    reason = messages::io_reason(&e)
                ))
            })?;
    }
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(cannot_write)
}
