//! `puente init` and `puente whoami`.

use anyhow::{Result, bail};
use puente_crdt::time;
use puente_node::replica::{InitOptions, Replica};

use crate::args::{Format, InitArgs};
use crate::context::{Ctx, has_store};
use crate::output::pairs;
use crate::passphrase::{self, Purpose};
use crate::rows::{self, identity::Identity};

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<()> {
    let format = ctx.format()?;
    if has_store(&ctx.dir) {
        let dir = ctx.dir.display().to_string();
        if a.device {
            bail!(t!("cmd-init-device-not-empty", dir = dir));
        }
        bail!(t!("cmd-init-not-empty", dir = dir));
    }
    time::zone(&a.tz).map_err(|e| anyhow::anyhow!("--tz: {}", crate::messages::time(&e)))?;
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
    let me = Identity::of(&replica);
    let who = replica.whoami();
    replica.close().map_err(|e| ctx.err(e))?;
    match format {
        Format::Json => ctx.emit(&rows::json(&me)?),
        Format::Csv => ctx.emit(&me.csv()?),
        // With --quiet, the id and fingerprint only.
        _ => {
            ctx.say(&format!(
                "{}\n\n",
                t!(
                    "cmd-init-created",
                    name = who.name.as_str(),
                    dir = ctx.dir.display().to_string()
                )
            ))?;
            ctx.emit(&pairs(&[
                (t!("rows-key-organisation-id"), who.org.to_string()),
                (t!("rows-key-fingerprint"), who.fingerprint.clone()),
            ]))?;
            ctx.say(&format!("\n{}\n", t!("cmd-init-fingerprint-advice")))
        }
    }
}

/// `init --device`: a store that waits to join an existing organisation as its device.
fn init_device(ctx: &Ctx, format: Format, tz: &str) -> Result<()> {
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), &ctx.dir, Purpose::Create)?;
    let replica =
        Replica::init_device(&ctx.dir, pass.as_bytes(), tz, ctx.now).map_err(|e| ctx.err(e))?;
    let me = Identity::of(&replica);
    replica.close().map_err(|e| ctx.err(e))?;
    match format {
        Format::Json => ctx.emit(&rows::json(&me)?),
        Format::Csv => ctx.emit(&me.csv()?),
        // With --quiet, the key and fingerprint only.
        _ => {
            ctx.say(&format!(
                "{}\n\n",
                t!(
                    "cmd-init-device-created",
                    dir = ctx.dir.display().to_string()
                )
            ))?;
            ctx.emit(&pairs(&[
                (t!("cmd-init-key-device-key"), me.public_key.clone()),
                (t!("rows-key-fingerprint"), me.fingerprint.clone()),
            ]))?;
            ctx.say(&format!("\n{}\n", t!("cmd-init-device-next")))
        }
    }
}

pub fn whoami(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open_read_only()?;
    let me = Identity::of(&replica);
    replica.close().map_err(|e| ctx.err(e))?;
    let text = match format {
        Format::Json => rows::json(&me)?,
        Format::Csv => me.csv()?,
        _ => me.text(),
    };
    ctx.emit(&text)
}

/// This organisation's name (the other commands and the node's banner use it).
pub(crate) use crate::rows::identity::org_name;
