//! `puente import` and `puente export`: offers in and out of the store as files.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Result, bail};
use puente_crdt::{NewOffer, time};
use puente_node::interchange::{
    ExportOffer, MAX_INPUT_BYTES, RowError, parse_offers_csv, to_csv, to_hsds, to_json,
};
use serde_json::json;

use crate::args::{ExportArgs, Format, ImportArgs};
use crate::commands::offer::zone;
use crate::context::Ctx;
use crate::messages;
use crate::output;

pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    let format = ctx.format()?;
    let shown = a.file.display().to_string();
    let bytes = read_input(&ctx.path(&a.file), &shown)?;
    let mut replica = ctx.open()?;
    let today = time::local_date(ctx.now, &zone(&replica)?);
    let plan = parse_offers_csv(&bytes, today, replica.tz())
        .map_err(|e| anyhow::anyhow!("{shown}: {}", messages::chain(&e)))?;
    let total = plan.rows();
    let mut rejected = plan.rejected;
    let mut offers: Vec<NewOffer> = Vec::with_capacity(plan.offers.len());
    for (line, mut offer) in plan.offers {
        // The same check the replica runs, so that a dry run predicts the real run exactly.
        match offer.validate() {
            Ok(()) => offers.push(offer),
            Err(e) => rejected.push(RowError {
                line,
                column: None,
                reason: messages::chain(&e),
            }),
        }
    }
    rejected.sort_by_key(|r| r.line);
    let ok = offers.len();
    let refuse = !rejected.is_empty() && !a.allow_partial;
    let writes = !a.dry_run && !refuse && ok > 0;

    let mut ids = Vec::new();
    if writes {
        let bar = progress(ctx, ok as u64);
        ids = replica
            .import_offers(offers, ctx.now, &mut |done| bar.set_position(done as u64))
            .map_err(|e| ctx.err(e))?;
        bar.finish_and_clear();
        replica.close().map_err(|e| ctx.err(e))?;
    } else {
        // A dry run or a refused import writes nothing, not even a snapshot.
        drop(replica);
    }

    let text = match format {
        Format::Json => output::json(&json!({
            "file": shown,
            "rows": total,
            "valid": ok,
            "imported": ids.len(),
            "dry_run": a.dry_run,
            "offer_ids": ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "rejected": rejected.iter().map(|r| json!({
                "line": r.line, "column": r.column, "reason": r.reason,
            })).collect::<Vec<_>>(),
        }))?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = rejected
                .iter()
                .map(|r| {
                    vec![
                        r.line.to_string(),
                        r.column.clone().unwrap_or_default(),
                        r.reason.clone(),
                    ]
                })
                .collect();
            output::csv(&["line", "column", "reason"], &rows)?
        }
        _ => {
            let mut s = String::new();
            for r in &rejected {
                s.push_str(&format!("rejected {r}\n"));
            }
            if !refuse {
                if a.dry_run {
                    s.push_str(&format!(
                        "Dry run: {ok} of {total} rows would be imported, {} rejected; nothing was written.\n",
                        rejected.len()
                    ));
                } else {
                    s.push_str(&format!("Imported {} offers from {shown}.\n", ids.len()));
                }
            }
            s
        }
    };
    ctx.emit(&text)?;
    if refuse {
        let n = rejected.len();
        let rows = if n == 1 { "row was" } else { "rows were" };
        if a.dry_run {
            bail!(
                "{n} of {total} {rows} rejected, so an import would write nothing (dry run: nothing was written); fix them, or add --allow-partial to import the {ok} valid rows"
            );
        }
        bail!(
            "{n} of {total} {rows} rejected and nothing was imported; fix them, or add --allow-partial to import the {ok} valid rows"
        );
    }
    if ok == 0 && total > 0 {
        bail!("none of the {total} rows is valid; nothing was imported");
    }
    Ok(())
}

/// Reads the CSV file at `file`, named `shown` in messages (as the user typed it).
fn read_input(file: &Path, shown: &str) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(file)
        .map_err(|e| anyhow::anyhow!("cannot read {shown}: {}", messages::io_reason(&e)))?;
    if !meta.is_file() {
        bail!("{shown} is not a file; give the path of a CSV file");
    }
    if meta.len() > MAX_INPUT_BYTES as u64 {
        bail!(
            "{shown} is {} bytes; import at most 16 MiB at a time by splitting it into smaller files",
            meta.len()
        );
    }
    std::fs::read(file)
        .map_err(|e| anyhow::anyhow!("cannot read {shown}: {}", messages::io_reason(&e)))
}

/// A progress bar on a terminal; hidden otherwise (and when a node serves the import), so that
/// logs and pipes stay clean.
fn progress(ctx: &Ctx, len: u64) -> indicatif::ProgressBar {
    if !ctx.interactive || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("importing {bar:30} {pos}/{len} offers")
    {
        bar.set_style(style);
    }
    bar
}

pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<()> {
    let format = match ctx.format {
        None => Format::Json,
        Some(Format::Table) => {
            bail!(
                "export writes files: use --format json, csv or hsds (table is for reading on screen)"
            )
        }
        Some(f) => f,
    };
    let replica = ctx.open()?;
    let view = replica.view();
    let profile = |org| view.profiles().get(&org);
    let offers: Vec<ExportOffer<'_>> = view
        .offers()
        .map(|o| ExportOffer {
            offer: o,
            owner_name: profile(o.owner).map_or("", |p| p.name.as_str()),
            intake: profile(o.owner).map_or("", |p| p.intake.as_str()),
        })
        .collect();
    let mut text = match format {
        Format::Csv => to_csv(&offers, &zone(&replica)?, ctx.now)
            .map_err(|e| anyhow::anyhow!(messages::chain(&e)))?,
        Format::Hsds => {
            let own = replica.org();
            let Some(profile) = view.profiles().get(&own) else {
                bail!(
                    "this device has no organisation profile yet, so there is nothing of its own to publish; join your organisation first"
                )
            };
            output::json(&to_hsds(&offers, (own, profile), ctx.now))?
        }
        _ => output::json(&to_json(&offers))?,
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let count = offers.len();
    drop(offers);
    replica.close().map_err(|e| ctx.err(e))?;
    match &a.output {
        None => ctx.emit(&text),
        Some(path) => {
            write_private(
                &ctx.path(path),
                &path.display().to_string(),
                text.as_bytes(),
            )?;
            ctx.emit(&format!(
                "Wrote {} of the {count} offers held here to {}. It is plain text: keep it safe and delete it when done.\n",
                match format {
                    Format::Csv => "a CSV export",
                    Format::Hsds => "an HSDS 3.1 export (public programmes only)",
                    _ => "a JSON export",
                },
                path.display()
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
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {shown}: {}", messages::io_reason(&e)))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| anyhow::anyhow!("cannot restrict {shown}: {}", messages::io_reason(&e)))?;
    }
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {shown}: {}", messages::io_reason(&e)))
}
