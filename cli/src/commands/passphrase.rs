//! `puente passphrase change`: seals the store's data key under a new passphrase
//! ([`puente_node::replica::Replica::change_passphrase`]); the data is not rewritten. Only
//! with the node stopped: the new passphrase is asked on this terminal, never sent to a node.

use anyhow::Result;

use crate::args::PassphraseChangeArgs;
use crate::context::Ctx;
use crate::passphrase;

pub fn change(ctx: &Ctx, a: PassphraseChangeArgs) -> Result<()> {
    // The current passphrase opens the store (and proves who asks); the new one only then.
    let opened = ctx.open()?;
    let Some(mut replica) = opened.into_owned() else {
        anyhow::bail!(t!(
            "admin-passphrase-node-running",
            dir = ctx.dir.display().to_string()
        ));
    };
    let new = passphrase::obtain_new(a.new_passphrase_file.as_deref(), &ctx.dir)?;
    replica
        .change_passphrase(new.as_bytes())
        .map_err(|e| ctx.err(e))?;
    drop(new);
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.say(&format!("{}\n", t!("admin-passphrase-changed")))
}
