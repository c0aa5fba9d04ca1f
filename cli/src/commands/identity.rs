//! `puente init` and `puente whoami`.

use anyhow::{Result, bail};
use puente_crdt::time;
use puente_node::joiner::waits_to_join_as_device;
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
        if a.device {
            bail!(
                "{} already holds puente data (or other files); a new device needs a store of its own: run `puente init --device` with an empty directory (--data-dir DIR)",
                ctx.dir.display()
            );
        }
        bail!(
            "{} already holds puente data (or other files); choose an empty directory with --data-dir",
            ctx.dir.display()
        );
    }
    time::zone(&a.tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
    Replica::check_location(&ctx.dir).map_err(|e| ctx.err(e))?;
    let Some(org) = a.org else {
        return init_device(ctx, format, &a.tz);
    };
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), &ctx.dir, Purpose::Create)?;
    let opts = InitOptions {
        name: org,
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

/// `init --device`: a store that waits to join an existing organisation as its device.
fn init_device(ctx: &Ctx, format: Format, tz: &str) -> Result<()> {
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), &ctx.dir, Purpose::Create)?;
    let replica =
        Replica::init_device(&ctx.dir, pass.as_bytes(), tz, ctx.now).map_err(|e| ctx.err(e))?;
    let me = identity(&replica);
    replica.close().map_err(|e| ctx.err(e))?;
    let text = match format {
        Format::Json => output::json(&me)?,
        Format::Csv => whoami_csv(&me)?,
        _ => {
            let mut s = format!(
                "Created the encrypted puente store for a new device in {}.\n\n",
                ctx.dir.display()
            );
            s.push_str(&pairs(&[
                (
                    "device key",
                    me["public_key"].as_str().unwrap_or_default().into(),
                ),
                (
                    "fingerprint",
                    me["fingerprint"].as_str().unwrap_or_default().into(),
                ),
            ]));
            s.push_str(
                "\nThis device belongs to no organisation yet. Next: on a computer of your \
                 organisation that already runs puente, run\n  \
                 puente device add\n\
                 then run here, with the token it prints:\n  \
                 puente join TOKEN\n",
            );
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
            if me["device_pending"] == true {
                pairs(&[
                    ("organisation", DEVICE_PENDING.into()),
                    ("public key", s("public_key")),
                    ("fingerprint", s("fingerprint")),
                    ("time zone", s("tz")),
                ])
            } else {
                let mut rows = vec![
                    ("organisation", s("name")),
                    ("organisation id", s("org")),
                    ("public key", s("public_key")),
                    ("fingerprint", s("fingerprint")),
                    ("counties", s("counties")),
                    ("intake", s("intake")),
                    ("time zone", s("tz")),
                    ("network", s("network")),
                    ("epoch", s("epoch")),
                ];
                if let Some(line) = devices_line(&me) {
                    rows.push(("devices", line));
                }
                pairs(&rows)
            }
        }
    };
    ctx.emit(&text)
}

/// What `whoami` and `status` say about a store made with `init --device` that has not joined.
pub(crate) const DEVICE_PENDING: &str = "none yet: this device waits to join its organisation (`puente device add` on one of its devices, then `puente join TOKEN` here)";

/// The "devices" line of `whoami` and `status`: how many devices the organisation has, that
/// this is one of them, and whether it still waits for the network's key.
pub(crate) fn devices_line(me: &Value) -> Option<String> {
    let n = me["devices"].as_array()?.len();
    if n == 0 {
        return None;
    }
    let mut line = match n {
        1 => "1, this one".to_string(),
        n => format!("{n}, this one and {} more (`puente device list`)", n - 1),
    };
    if me["waiting_for_key"] == true {
        line.push_str(
            "; this device waits for the network's key: keep `puente run` running until an admin's node shares it",
        );
    }
    Some(line)
}

/// This organisation's name: from its profile, or (on a device that joined but has not synced
/// the profile yet) from the membership log.
pub(crate) fn org_name(replica: &Replica) -> String {
    let name = replica.whoami().name;
    if !name.is_empty() {
        return name;
    }
    replica
        .membership()
        .and_then(|log| log.state().org(&replica.org()))
        .map(|o| o.name)
        .unwrap_or_default()
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

/// Who this node is, with its organisation's profile and its devices.
pub(crate) fn identity(replica: &Replica) -> Value {
    let w = replica.whoami();
    let profile = replica.view().profiles().get(&w.org);
    let pending = waits_to_join_as_device(replica);
    let state = replica.membership().map(|log| log.state());
    let devices: Vec<String> = state
        .and_then(|s| s.org(&w.org))
        .map(|o| o.devices.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let waiting_for_key = state.is_some_and(|s| {
        s.is_member_device(&w.public_key) && s.devices_without_current_key().contains(&w.public_key)
    });
    json!({
        "org": if pending { Value::Null } else { Value::String(w.org.to_string()) },
        "name": org_name(replica),
        "device_pending": pending,
        "devices": devices,
        "waiting_for_key": waiting_for_key,
        "public_key": w.public_key.to_string(),
        "fingerprint": w.fingerprint,
        "network": w.network,
        "epoch": w.epoch,
        "counties": profile.map(|p| p.counties.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
        "intake": profile.map(|p| p.intake.clone()).unwrap_or_default(),
        "tz": replica.tz(),
    })
}
