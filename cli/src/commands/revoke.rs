//! `puente peer revoke`, `puente device revoke` and `puente peer revocations`: cutting off a
//! partner organisation or one device, saying plainly what that does and what it cannot do,
//! and showing whether every remaining member has confirmed it.
//!
//! A revocation is urgent (a seized laptop, a compromised partner), so it asks for nothing
//! unless it would leave the network without an admin: then it needs `--yes`, on a terminal or
//! not, and never prompts (the same whether a running node serves the command or not).
//!
//! Boundary: who may revoke, the cut, the new key and the receipts are the library's
//! ([`Replica::revoke`], the membership log); this module resolves names, checks `--yes` and
//! prints.

use anyhow::{Result, bail};
use puente_crdt::OrgId;
use puente_crdt::label::check_label;
use puente_node::identity::PublicKey;
use puente_node::membership::{MemberState, RevokeTarget, Role};
use puente_node::replica::Replica;
use serde_json::json;

use crate::args::{DeviceRevokeArgs, Format, PeerRevokeArgs, PeerRoleArgs, RoleArg};
use crate::commands::audit::{party_of, state_of};
use crate::commands::offer::zone;
use crate::context::Ctx;
use crate::i18n::{Lang, scoped};
use crate::output::{self, short};
use crate::rows;
use crate::rows::audit::ExposureReport;
use crate::rows::names::Names;
use crate::rows::revocations::{RevocationRow, confirmations};

/// Shortest device-key prefix accepted: 8 base32 characters (40 bits) make an accidental
/// match among a network's few hundred devices practically impossible, and an ambiguous one is
/// refused anyway.
const MIN_KEY_PREFIX: usize = 8;

/// What a command names: an organisation or one device.
#[derive(Debug, Clone)]
pub enum Target {
    /// An organisation.
    Org {
        /// Its id.
        id: OrgId,
    },
    /// One device key.
    Device {
        /// The key.
        key: PublicKey,
        /// Its organisation (if the log names one).
        org: Option<OrgId>,
    },
}

impl Target {
    /// What a revocation of it removes.
    pub fn revoke_target(&self) -> RevokeTarget {
        match self {
            Target::Org { id, .. } => RevokeTarget::Org(*id),
            Target::Device { key, .. } => RevokeTarget::Device(*key),
        }
    }
}

/// Resolves ORG|KEY: an organisation by its name (any case) or full id, or a device by its
/// key or the key's first [`MIN_KEY_PREFIX`] or more characters. Revoked organisations and
/// devices count too (so that the error for them can say so); `orgs` false accepts devices
/// only.
pub fn resolve_target(
    state: &MemberState,
    names: &Names,
    text: &str,
    orgs: bool,
) -> Result<Target> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let mut found: Vec<Target> = Vec::new();
    if orgs {
        let known = state.orgs().into_iter().chain(state.revoked_orgs());
        for org in known {
            let by_id = org.id.to_string() == lower;
            let by_name =
                org.name.eq_ignore_ascii_case(t) || names.org(&org.id).eq_ignore_ascii_case(t);
            if (by_id || by_name)
                && !found
                    .iter()
                    .any(|f| matches!(f, Target::Org { id, .. } if *id == org.id))
            {
                found.push(Target::Org { id: org.id });
            }
        }
    }
    if t.len() >= MIN_KEY_PREFIX {
        let devices = state.devices().into_iter().chain(state.revoked_devices());
        for d in devices {
            if d.key.to_string().starts_with(&lower) {
                found.push(Target::Device {
                    key: d.key,
                    org: Some(d.org),
                });
            }
        }
    }
    let shown: String = t.chars().take(60).collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if orgs => bail!(t!(
            "cmd-revoke-no-match",
            text = shown,
            min = MIN_KEY_PREFIX
        )),
        0 => bail!(t!(
            "cmd-revoke-no-device",
            text = shown,
            min = MIN_KEY_PREFIX
        )),
        _ => bail!(t!("cmd-revoke-several", text = shown)),
    }
}

/// Checks the reason before it is signed into the membership log for good: the same check as
/// every shared label.
fn check_reason(reason: &str) -> Result<()> {
    if let Err(e) = check_label(reason) {
        bail!(crate::messages::revocation_reason(&e));
    }
    Ok(())
}

pub fn peer_revoke(ctx: &Ctx, a: PeerRevokeArgs) -> Result<()> {
    revoke(ctx, &a.target, a.reason.as_deref(), a.yes, true)
}

/// `puente peer role ORG admin|member`.
pub fn peer_role(ctx: &Ctx, a: PeerRoleArgs) -> Result<()> {
    let mut replica = ctx.open()?;
    let state = state_of(&replica)?;
    let names = Names::new(&replica);
    let Target::Org { id } = resolve_target(state, &names, &a.org, true)? else {
        bail!(t!("cmd-role-not-device"));
    };
    let name = names.org(&id);
    let role = match a.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Member => Role::Member,
    };
    let leaves_no_admin = role == Role::Member && replica.would_leave_without_admin(id);
    if leaves_no_admin && !a.yes {
        bail!(t!("cmd-role-last-admin", name = name.as_str()));
    }
    replica
        .set_role(id, role, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let role_name = match role {
        Role::Admin => "admin",
        Role::Member => "member",
    };
    let json = match ctx.format_table_or_json()? {
        Format::Json => Some(output::json(&json!({
            "org": id.to_string(),
            "name": name,
            "role": role_name,
            "left_without_admin": leaves_no_admin,
        }))?),
        _ => None,
    };
    replica.close().map_err(|e| ctx.err(e))?;
    if let Some(json) = json {
        return ctx.emit(&json);
    }
    ctx.say(&format!(
        "{}\n",
        t!("cmd-role-done", name = name.as_str(), role = role_name)
    ))?;
    // The warning even with --quiet.
    if leaves_no_admin {
        ctx.emit(&format!("{}\n", t!("cmd-role-no-admin-warning")))?;
    }
    ctx.say(&format!(
        "{}\n",
        t!("cmd-role-sending", node = node_word(ctx))
    ))
}

pub fn device_revoke(ctx: &Ctx, a: DeviceRevokeArgs) -> Result<()> {
    revoke(ctx, &a.key, a.reason.as_deref(), a.yes, false)
}

fn revoke(ctx: &Ctx, text: &str, reason: Option<&str>, yes: bool, orgs: bool) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let reason = reason.unwrap_or_default().trim().to_string();
    check_reason(&reason)?;
    let mut replica = ctx.open()?;
    let state = state_of(&replica)?;
    let names = Names::new(&replica);
    let target = resolve_target(state, &names, text, orgs)?;
    let rt = target.revoke_target();
    let desc = names.target(&rt);
    let own = replica.public_key();
    let admin = state.is_admin_device(&own);
    match &target {
        Target::Org { id, .. } => {
            if state.is_revoked_org(id) {
                bail!(t!("cmd-revoke-already", target = desc.as_str()));
            }
            if !admin {
                bail!(t!("cmd-revoke-org-not-admin"));
            }
        }
        Target::Device { key, org } => {
            if state.is_revoked_device(key) {
                bail!(t!("cmd-revoke-already", target = desc.as_str()));
            }
            if !admin && *org != Some(replica.org()) {
                bail!(t!("cmd-revoke-device-not-allowed"));
            }
        }
    }
    let leaves_no_admin = state.would_leave_without_admin(&rt);
    if leaves_no_admin && !yes {
        bail!(t!("cmd-revoke-last-admin", target = desc.as_str()));
    }
    let revoking_self = match &target {
        Target::Org { id, .. } => *id == replica.org(),
        Target::Device { key, .. } => *key == own,
    };
    let revoked = replica
        .revoke(rt, &reason, ctx.now)
        .map_err(|e| ctx.err(e))?;
    let names = Names::new(&replica);
    let state = replica
        .membership()
        .map(|l| l.state())
        .ok_or_else(|| anyhow::anyhow!(t!("cmd-revoke-no-network")))?;
    let party = party_of(state, &target);
    let exposure = replica.exposure(&party).map_err(|e| ctx.err(e))?;
    let state = state_of(&replica)?;
    let report = ExposureReport::build(&replica, state, &names, &rt, &exposure, ctx.now);
    let tz = zone(&replica)?;
    let epoch = revoked.epoch.0;
    let json = match format {
        Format::Json => Some(output::json(&json!({
            "revocation": revoked.revocation.to_string(),
            "target": names.target_row(&rt),
            "reason": reason,
            "epoch": epoch,
            "rotated": revoked.rotated,
            "left_without_admin": leaves_no_admin,
            "node_running": ctx.node().is_some(),
            // Scripts read these in English, whatever the language.
            "does": scoped(Lang::En, does),
            "cannot": scoped(Lang::En, cannot),
            "exposure": report,
        }))?),
        _ => None,
    };
    let exposed = report.text(ctx.now, &tz);
    replica.close().map_err(|e| ctx.err(e))?;
    if let Some(json) = json {
        return ctx.emit(&json);
    }
    // With --quiet, the warnings and the exposure report only.
    let done = t!(
        "cmd-revoke-done",
        target = desc.as_str(),
        has_reason = if reason.is_empty() { "no" } else { "yes" },
        reason = reason.as_str(),
        id = short(&revoked.revocation),
        epoch = epoch
    );
    ctx.say(&format!("{done}\n"))?;
    if leaves_no_admin {
        ctx.emit(&format!("{}\n", t!("cmd-revoke-no-admin-warning")))?;
    }
    if revoking_self {
        ctx.emit(&format!("{}\n", t!("cmd-revoke-self-warning")))?;
    }
    let mut next = does_and_cannot(revoked.rotated, epoch);
    next.push('\n');
    next.push_str(&t!("cmd-revoke-sending", node = node_word(ctx)));
    next.push_str("\n\n");
    ctx.say(&next)?;
    ctx.emit(&exposed)
}

/// What a revocation does, in plain words (SECURITY.md, promise 6), in the current language.
fn does() -> Vec<String> {
    vec![
        t!("cmd-revoke-does-refused"),
        t!("cmd-revoke-does-new-key"),
        t!("cmd-revoke-does-spreads"),
    ]
}

/// What a revocation cannot do, in plain words (SECURITY.md, "What revocation cannot do"), in
/// the current language.
fn cannot() -> Vec<String> {
    vec![
        t!("cmd-revoke-cannot-take-back"),
        t!("cmd-revoke-cannot-offline"),
        t!("cmd-revoke-cannot-leaks"),
    ]
}

/// `yes` when a running node serves the command, for the messages that say what it does next.
fn node_word(ctx: &Ctx) -> &'static str {
    if ctx.node().is_some() { "yes" } else { "no" }
}

fn does_and_cannot(rotated: bool, epoch: u32) -> String {
    let mut out = format!("\n{}\n", t!("cmd-revoke-does-head"));
    for line in does() {
        out.push_str(&format!("- {line}\n"));
    }
    if !rotated {
        out.push_str(&format!(
            "- {}\n",
            t!("cmd-revoke-does-not-rotated", epoch = epoch)
        ));
    }
    out.push_str(&format!("{}\n", t!("cmd-revoke-cannot-head")));
    for line in cannot() {
        out.push_str(&format!("- {line}\n"));
    }
    out
}

pub fn revocations(ctx: &Ctx) -> Result<()> {
    let format = ctx.format_table_or_json()?;
    let replica = ctx.open_read_only()?;
    let names = Names::new(&replica);
    let own = replica.public_key();
    let all: Vec<RevocationRow> = confirmations(&replica, &names)
        .iter()
        .map(|c| RevocationRow::new(c, &names, &own))
        .collect();
    let tz = zone(&replica)?;
    let text = match format {
        Format::Json => rows::json(&all)?,
        _ if replica.membership().is_none() => {
            format!("{}\n", t!("cmd-revocations-no-network"))
        }
        _ if all.is_empty() => format!("{}\n", t!("cmd-revocations-none")),
        _ => {
            let mut out = String::new();
            for (n, r) in all.iter().enumerate() {
                if n > 0 {
                    out.push('\n');
                }
                out.push_str(&r.text(ctx.now, &tz));
            }
            out
        }
    };
    replica.close().map_err(|e| ctx.err(e))?;
    ctx.emit(&text)
}

/// Whether organisation `org` has been revoked (its offers are hidden from queries unless
/// `--include-revoked`).
pub fn is_revoked_org(replica: &Replica, org: &OrgId) -> bool {
    replica
        .membership()
        .is_some_and(|l| l.state().is_revoked_org(org))
}

#[cfg(test)]
mod tests {
    use puente_node::envelope::NetworkId;
    use puente_node::identity::{AgreementSecret, SecretKey, org_id_for};
    use puente_node::membership::{Cut, DeviceKeys, MembershipLog, Op, Role};

    use super::*;

    const NET: NetworkId = NetworkId::from_bytes([7; 16]);

    fn keys(seed: u8) -> (SecretKey, DeviceKeys) {
        let secret = SecretKey::from_bytes(&[seed; 32]);
        let device = DeviceKeys {
            device: secret.public(),
            agreement: AgreementSecret::from_bytes(&[seed.wrapping_add(100); 32]).public(),
        };
        (secret, device)
    }

    /// River Refuge (admin) founds the network and adds Yolo Trans Health and Placer Pride.
    fn network() -> (MembershipLog, SecretKey, [DeviceKeys; 3]) {
        let (river, r) = keys(1);
        let (_, y) = keys(2);
        let (_, p) = keys(3);
        let create = Op::create(NET, &river, r.agreement, "River Refuge", 1).expect("create");
        let mut log = MembershipLog::new(create.as_bytes()).expect("log");
        for (name, d) in [("Yolo Trans Health", y), ("Placer Pride", p)] {
            let add =
                Op::add_org(NET, &river, &log.heads(), name, Role::Member, d, 2).expect("add");
            log.insert_op(add).expect("inserted");
        }
        (log, river, [r, y, p])
    }

    fn names(log: &MembershipLog) -> Names {
        let mut n = Names::default();
        n.add_log(log);
        n
    }

    #[test]
    fn targets_resolve_by_name_id_or_key_prefix() {
        let (log, _, [_, yolo, _]) = network();
        let (state, n) = (log.state(), names(&log));
        let org = |t: &str, orgs| match resolve_target(state, &n, t, orgs) {
            Ok(Target::Org { id }) => Ok(id),
            Ok(Target::Device { .. }) => Err("a device".to_string()),
            Err(e) => Err(e.to_string()),
        };
        let yolo_org = org_id_for(&yolo.device);
        assert_eq!(org("yolo trans HEALTH", true), Ok(yolo_org));
        assert_eq!(org(&format!(" {yolo_org} "), true), Ok(yolo_org));
        let key = yolo.device.to_string();
        match resolve_target(state, &n, &key[..8].to_uppercase(), true) {
            Ok(Target::Device { key: k, org }) => {
                assert_eq!((k, org), (yolo.device, Some(yolo_org)));
            }
            other => panic!("{other:?}"),
        }
        let short = org(&key[..7], true).expect_err("7 characters are not enough");
        assert!(short.contains("at least the first 8 characters"), "{short}");
        let devices_only = org("Yolo Trans Health", false).expect_err("a device is needed");
        assert!(
            devices_only.contains("no device key starts with"),
            "{devices_only}"
        );
    }

    #[test]
    fn revoked_targets_still_resolve_and_the_last_admin_is_noticed() {
        let (mut log, river, [r, yolo, _]) = network();
        let yolo_org = org_id_for(&yolo.device);
        let revoke = Op::revoke(
            NET,
            &river,
            &log.heads(),
            RevokeTarget::Org(yolo_org),
            &[Cut {
                device: yolo.device,
                seq: 0,
            }],
            "coordinator left",
            3,
        )
        .expect("revoke");
        log.insert_op(revoke).expect("inserted");
        let (state, n) = (log.state(), names(&log));
        assert!(state.is_revoked_org(&yolo_org));
        assert!(matches!(
            resolve_target(state, &n, "Yolo Trans Health", true),
            Ok(Target::Org { id }) if id == yolo_org
        ));
        assert_eq!(n.org(&yolo_org), "Yolo Trans Health");
        assert_eq!(
            n.target(&RevokeTarget::Device(yolo.device)),
            format!(
                "device {} of \"Yolo Trans Health\"",
                &yolo.device.to_string()[..12]
            )
        );
        let river_org = org_id_for(&r.device);
        assert!(state.would_leave_without_admin(&RevokeTarget::Org(river_org)));
        assert!(!state.would_leave_without_admin(&RevokeTarget::Org(yolo_org)));
    }

    #[test]
    fn reasons_are_checked_like_labels() {
        assert!(check_reason("").is_ok());
        assert!(check_reason("laptop seized at the office").is_ok());
        let e = check_reason("call 916 555 0100").expect_err("a phone number");
        assert!(
            e.to_string()
                .starts_with("--reason is shared with every partner"),
            "{e}"
        );
        assert!(e.to_string().contains("phone number"), "{e}");
    }
}
