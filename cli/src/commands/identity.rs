//! `puente init` and `puente whoami`.

use anyhow::{Result, bail};
use puente_crdt::time;
use puente_node::replica::{InitOptions, Replica};

use crate::args::{Format, InitArgs};
use crate::context::{Ctx, has_store};
use crate::output::pairs;
use crate::passphrase::{self, Purpose};
use crate::rows::{self, identity::Identity};

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
                "Created the encrypted puente store for {} in {}.\n\n",
                who.name,
                ctx.dir.display()
            ))?;
            ctx.emit(&pairs(&[
                ("organisation id", who.org.to_string()),
                ("fingerprint", who.fingerprint.clone()),
            ]))?;
            ctx.say(&format!("\n{FINGERPRINT_ADVICE}\n"))
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
                "Created the encrypted puente store for a new device in {}.\n\n",
                ctx.dir.display()
            ))?;
            ctx.emit(&pairs(&[
                ("device key", me.public_key.clone()),
                ("fingerprint", me.fingerprint.clone()),
            ]))?;
            ctx.say(
                "\nThis device belongs to no organisation yet. Next: on a computer of your \
                 organisation that already runs puente, run\n  \
                 puente device add\n\
                 then run here, with the token it prints:\n  \
                 puente join TOKEN\n",
            )
        }
    }
}

pub fn whoami(ctx: &Ctx) -> Result<()> {
    let format = ctx.format()?;
    let replica = ctx.open()?;
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
