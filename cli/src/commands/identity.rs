//! `puente init` and `puente whoami`.

use anyhow::{Result, bail};
use puente_crdt::time;
use puente_node::replica::{InitOptions, Replica};
use serde_json::{Value, json};

use crate::args::{Format, InitArgs};
use crate::context::{Ctx, has_store};
use crate::output::{self, pairs};
use crate::passphrase::{self, Purpose};

/// The sentence that tells a coordinator what the fingerprint is for.
const FINGERPRINT_ADVICE: &str = "Read this fingerprint aloud to each partner coordinator, by phone or in person \
(not by e-mail or chat), and have them read theirs to you. If a single digit differs, stop: \
you are not talking about the same key.";

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<()> {
    let format = ctx.format()?;
    if has_store(&ctx.dir) {
        bail!(
            "{} already holds puente data (or other files); choose an empty directory with --data-dir",
            ctx.dir.display()
        );
    }
    time::zone(&a.tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
    Replica::check_location(&ctx.dir).map_err(|e| ctx.err(e))?;
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), &ctx.dir, Purpose::Create)?;
    let opts = InitOptions {
        name: a.org,
        counties: a.county,
        intake: a.intake,
        tz: a.tz,
    };
    let replica =
        Replica::init(&ctx.dir, pass.as_bytes(), opts, ctx.now).map_err(|e| ctx.err(e))?;
    let me = identity(&replica);
    let who = replica.whoami();
    replica.close().map_err(|e| ctx.err(e))?;
    let text = match format {
        Format::Json => output::json(&me)?,
        Format::Csv => whoami_csv(&me)?,
        _ => {
            let mut s = format!(
                "Created the encrypted puente store for {} in {}.\n\n",
                who.name,
                ctx.dir.display()
            );
            s.push_str(&pairs(&[
                ("organisation id", who.org.to_string()),
                ("fingerprint", who.fingerprint.clone()),
            ]));
            s.push('\n');
            s.push_str(FINGERPRINT_ADVICE);
            s.push('\n');
            s
        }
    };
    ctx.emit(&text)
}

pub fn whoami(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
    let me = identity(&replica);
    replica.close().map_err(|e| ctx.err(e))?;
    let text = match format {
        Format::Json => output::json(&me)?,
        Format::Csv => whoami_csv(&me)?,
        _ => {
            let s = |k: &str| match &me[k] {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Array(a) if !a.is_empty() => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                Value::Number(n) => n.to_string(),
                _ => "-".into(),
            };
            pairs(&[
                ("organisation", s("name")),
                ("organisation id", s("org")),
                ("public key", s("public_key")),
                ("fingerprint", s("fingerprint")),
                ("counties", s("counties")),
                ("intake", s("intake")),
                ("time zone", s("tz")),
                ("network", s("network")),
                ("epoch", s("epoch")),
            ])
        }
    };
    ctx.emit(&text)
}

const WHOAMI_COLUMNS: &[&str] = &[
    "org",
    "name",
    "public_key",
    "fingerprint",
    "network",
    "epoch",
    "counties",
    "intake",
    "tz",
];

fn whoami_csv(me: &Value) -> Result<String> {
    let row = match me {
        Value::Object(m) => crate::render::csv_row(m, WHOAMI_COLUMNS),
        _ => Vec::new(),
    };
    output::csv(WHOAMI_COLUMNS, &[row])
}

/// Who this node is, with its organisation's profile.
fn identity(replica: &Replica) -> Value {
    let w = replica.whoami();
    let profile = replica.view().profiles().get(&w.org);
    json!({
        "org": w.org.to_string(),
        "name": w.name,
        "public_key": w.public_key.to_string(),
        "fingerprint": w.fingerprint,
        "network": w.network,
        "epoch": w.epoch,
        "counties": profile.map(|p| p.counties.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
        "intake": profile.map(|p| p.intake.clone()).unwrap_or_default(),
        "tz": replica.tz(),
    })
}
