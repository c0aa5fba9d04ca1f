//! `puente bundle export|import`: offline transfer on a USB stick, for a partner without a
//! connection. The node library builds and checks the file (`puente_node::replica::bundle`);
//! this only resolves the organisation, guards the file and reports.

use std::io::Read as _;

use anyhow::{Result, bail};
use puente_crdt::OrgId;
use puente_node::replica::{BundleScope, MAX_BUNDLE_BYTES, write_private};

use crate::args::{BundleExportArgs, BundleImportArgs, Format};
use crate::context::Ctx;
use crate::messages;
use crate::output;

pub fn export(ctx: &Ctx, a: BundleExportArgs) -> Result<()> {
    let path = ctx.path(&a.file);
    if path.exists() {
        bail!(
            "{} already exists; choose another file name (puente never overwrites a bundle)",
            a.file.display()
        );
    }
    let replica = ctx.open()?;
    let (scope, label) = match &a.for_org {
        Some(text) => {
            let org = resolve_member(&replica.member_orgs(), text)?;
            (BundleScope::For(org.0), format!("for \"{}\"", org.1))
        }
        None => (BundleScope::All, "for every member".to_string()),
    };
    let bytes = replica.export_bundle(scope).map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    write_private(&path, &bytes).map_err(|e| {
        anyhow::anyhow!(
            "cannot write {}: {}; check the path and free space, then try again",
            a.file.display(),
            messages::io_reason(&e)
        )
    })?;
    ctx.say(&format!(
        "Wrote {} ({} bytes) {label}. Give it to them on a USB stick; they run `puente bundle import FILE`.\n",
        a.file.display(),
        bytes.len()
    ))
}

/// The member organisation named by `text`: its id, or its name (any case).
fn resolve_member(orgs: &[puente_node::membership::Org], text: &str) -> Result<(OrgId, String)> {
    let t = text.trim();
    let found: Vec<_> = orgs
        .iter()
        .filter(|o| o.name.eq_ignore_ascii_case(t) || o.id.to_string() == t)
        .collect();
    match found[..] {
        [o] => Ok((o.id, o.name.clone())),
        [] => bail!("no member organisation is named `{t}`; see `puente status` for the members"),
        _ => bail!("several members are named `{t}`; use the organisation id from `puente status`"),
    }
}

pub fn import(ctx: &Ctx, a: BundleImportArgs) -> Result<()> {
    let path = ctx.path(&a.file);
    let io = |e: std::io::Error| {
        anyhow::anyhow!(
            "cannot read {}: {}; check the path and try again",
            a.file.display(),
            messages::io_reason(&e)
        )
    };
    let file = std::fs::File::open(&path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_BUNDLE_BYTES as u64 {
        bail!(
            "{} is {len} bytes, more than a bundle can be ({MAX_BUNDLE_BYTES}); it is not a puente bundle",
            a.file.display()
        );
    }
    // One byte more than the file holds, so that reading to its end never grows the buffer
    // (a full buffer would double its capacity to look for more).
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.take(MAX_BUNDLE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let mut replica = ctx.open()?;
    let report = replica.import_bundle(&bytes).map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    if ctx.format == Some(Format::Json) {
        return ctx.emit(&output::json(&serde_json::to_value(report)?)?);
    }
    ctx.say(&format!(
        "Imported {}: {} new changes, {} already here, {} membership updates{}{}.\n",
        a.file.display(),
        report.envelopes_applied,
        report.duplicates,
        report.ops_accepted,
        if report.waiting > 0 {
            format!(", {} waiting for earlier changes", report.waiting)
        } else {
            String::new()
        },
        if report.refused > 0 {
            format!(", {} refused (not valid)", report.refused)
        } else {
            String::new()
        },
    ))
}
