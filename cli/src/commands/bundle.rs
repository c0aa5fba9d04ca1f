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
        bail!(t!("cmd-bundle-exists", file = a.file.display().to_string()));
    }
    let replica = ctx.open_read_only()?;
    let (scope, name) = match &a.for_org {
        Some(text) => {
            let org = resolve_member(&replica.member_orgs(), text)?;
            (BundleScope::For(org.0), Some(org.1))
        }
        None => (BundleScope::All, None),
    };
    let bytes = replica.export_bundle(scope).map_err(|e| ctx.err(e))?;
    replica.close().map_err(|e| ctx.err(e))?;
    write_private(&path, &bytes).map_err(|e| {
        anyhow::anyhow!(t!(
            "cmd-bundle-cannot-write",
            file = a.file.display().to_string(),
            reason = messages::io_reason(&e)
        ))
    })?;
    let file = a.file.display().to_string();
    let sentence = match name {
        Some(name) => t!(
            "cmd-bundle-wrote-for",
            file = file,
            bytes = bytes.len(),
            name = name
        ),
        None => t!("cmd-bundle-wrote-all", file = file, bytes = bytes.len()),
    };
    ctx.say(&format!("{sentence}\n"))
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
        [] => bail!(t!("cmd-bundle-no-member", name = t)),
        _ => bail!(t!("cmd-bundle-several-members", name = t)),
    }
}

pub fn import(ctx: &Ctx, a: BundleImportArgs) -> Result<()> {
    let path = ctx.path(&a.file);
    let io = |e: std::io::Error| {
        anyhow::anyhow!(t!(
            "cmd-bundle-cannot-read",
            file = a.file.display().to_string(),
            reason = messages::io_reason(&e)
        ))
    };
    let file = std::fs::File::open(&path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_BUNDLE_BYTES as u64 {
        bail!(t!(
            "cmd-bundle-too-large",
            file = a.file.display().to_string(),
            bytes = len,
            max = MAX_BUNDLE_BYTES
        ));
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
    let sentence = t!(
        "cmd-bundle-imported",
        file = a.file.display().to_string(),
        applied = report.envelopes_applied,
        duplicates = report.duplicates,
        ops = report.ops_accepted,
        waiting = report.waiting,
        refused = report.refused
    );
    ctx.say(&format!("{sentence}\n"))
}
