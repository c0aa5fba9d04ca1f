//! The audit reports: the membership history checked end to end (`puente audit log`), and
//! what a party could read (`puente audit exposure`, and the report `peer revoke` and `device
//! revoke` end with).
//!
//! Boundary: the membership log decides who was a member and which ops count, and
//! [`Replica::exposure`] what a party could read; this module names things and lays them out.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use puente_crdt::{Offer, OrgId, Time};
use puente_node::identity::PublicKey;
use puente_node::membership::{Body, MemberState, OpId, RevokeTarget, Verdict};
use puente_node::replica::{Exposure, Replica};
use serde::Serialize;

use super::names::{Names, TargetKind, TargetRow, device_text, key_prefix};
use super::{indent, prefix};
use crate::i18n::Lang;
use crate::output::{Table, short};
use crate::render;

/// One op of the membership log, checked again.
#[derive(Debug, Serialize)]
pub struct LogEntry {
    /// The op's id.
    pub id: String,
    /// The time its author claims, RFC 3339.
    pub claimed_time: String,
    /// The same, in Unix seconds.
    #[serde(skip)]
    pub claimed_unix: u64,
    /// What kind of op it is (`create`, `add-org`, `revoke` ...).
    pub kind: &'static str,
    /// What it does, in English words (what scripts have always read).
    pub what: String,
    /// What it does, in the current language, for the table.
    #[serde(skip)]
    pub what_text: String,
    /// The device that signed it.
    pub author: String,
    /// That device's organisation, if the log names one.
    pub author_org: Option<String>,
    /// That organisation's name, likewise.
    pub author_name: Option<String>,
    /// The ops it builds on.
    pub parents: Vec<String>,
    /// Its signature checks.
    pub signature_ok: bool,
    /// Every parent is in the log.
    pub parents_present: bool,
    /// `valid`, `invalid` or `unknown`.
    pub verdict: &'static str,
    /// Why it has no effect, when invalid.
    pub invalid_reason: Option<String>,
}

/// Every op of the log in canonical order, checked again (signature, parents present) and
/// described in words.
pub fn log_entries(replica: &Replica, names: &Names) -> Vec<LogEntry> {
    let Some(log) = replica.membership() else {
        return Vec::new();
    };
    let state = log.state();
    let rotations: BTreeMap<OpId, u32> = state
        .epochs()
        .iter()
        .map(|e| (e.rotation, e.epoch.0))
        .collect();
    let burned: BTreeMap<OpId, u32> = state
        .burned_keys()
        .iter()
        .map(|(epoch, _, op)| (*op, epoch.0))
        .collect();
    let mut out = Vec::new();
    for op in log.ops() {
        let id = op.id();
        let signature_ok = op.verify_signature().is_ok();
        let parents_present = op.parents().iter().all(|p| log.contains(p));
        let verdict = state.verdict(&id);
        let ctx = Described {
            state,
            names,
            rotations: &rotations,
            burned: &burned,
        };
        // The JSON keeps the English words scripts have always read; the table speaks the
        // current language.
        let what = crate::i18n::scoped(Lang::En, || ctx.for_scripts(id, op.body()));
        let what_text = ctx.for_people(id, op.body());
        let author = op.author();
        let author_org = names.device_org(&author);
        let (verdict, invalid_reason) = match verdict {
            Some(Verdict::Valid) => ("valid", None),
            Some(Verdict::Invalid(r)) => ("invalid", Some(r.to_string())),
            None => ("unknown", None),
        };
        out.push(LogEntry {
            id: id.to_string(),
            claimed_time: to_time(op.claimed_time()).rfc3339(),
            claimed_unix: op.claimed_time(),
            kind: op.body().kind_name(),
            what,
            what_text,
            author: author.to_string(),
            author_org: author_org.map(|o| o.to_string()),
            author_name: author_org.map(|o| names.org(&o)),
            parents: op.parents().iter().map(ToString::to_string).collect(),
            signature_ok,
            parents_present,
            verdict,
            invalid_reason,
        });
    }
    out
}

/// What is needed to describe an op of the log in words.
struct Described<'a> {
    state: &'a MemberState,
    names: &'a Names,
    rotations: &'a BTreeMap<OpId, u32>,
    burned: &'a BTreeMap<OpId, u32>,
}

impl Described<'_> {
    /// The op in the English words of `audit log --format json`, unchanged since scripts
    /// started reading them (run under English: the names of targets come from the messages).
    fn for_scripts(&self, id: OpId, body: &Body) -> String {
        let (state, names, rotations, burned) =
            (self.state, self.names, self.rotations, self.burned);
        match body {
            Body::Create { name, device, .. } => format!(
                "founded the network with \"{name}\" as admin, device {}",
                key_prefix(device)
            ),
            Body::AddOrg {
                name, role, device, ..
            } => format!("added \"{name}\" as {role}, device {}", key_prefix(device)),
            Body::AddDevice { org, device, .. } => format!(
                "added device {} to \"{}\"",
                key_prefix(device),
                names.org(org)
            ),
            Body::SetRole { org, role } => format!("made \"{}\" {role}", names.org(org)),
            Body::EpochKey { epoch, sealed, .. } => {
                let recipients = sealed.len();
                if rotations.contains_key(&id) || burned.contains_key(&id) {
                    format!(
                        "new encryption key, epoch {}, sealed to {recipients} device(s){}",
                        epoch.0,
                        if burned.contains_key(&id) {
                            " (burned: never used for new writes)"
                        } else {
                            ""
                        }
                    )
                } else {
                    let to: Vec<String> =
                        sealed.iter().map(|s| names.device(&s.recipient)).collect();
                    format!("shared the key of epoch {} with {}", epoch.0, to.join(", "))
                }
            }
            Body::Revoke {
                target,
                cuts,
                reason,
            } => {
                let mut s = match target {
                    RevokeTarget::Org(org) => format!(
                        "revoked organisation \"{}\" with its {} device(s)",
                        names.org(org),
                        cuts.len()
                    ),
                    RevokeTarget::Device(_) => format!("revoked {}", names.target(target)),
                };
                if !reason.is_empty() {
                    s.push_str(&format!("; reason: {reason}"));
                }
                s
            }
            Body::Receipt { revocation, epoch } => {
                let of = state
                    .revocation(revocation)
                    .map(|r| format!(" of {}", names.target(&r.target)))
                    .unwrap_or_default();
                format!(
                    "confirmed revocation {}{of}, now on epoch {}",
                    short(revocation),
                    epoch.0
                )
            }
            Body::Erase { before } => format!(
                "erased the history: every key before epoch {} destroyed",
                before.0
            ),
            _ => "an operation this version does not describe".to_string(),
        }
    }

    /// The op in words, in the current language.
    fn for_people(&self, id: OpId, body: &Body) -> String {
        let (state, names) = (self.state, self.names);
        match body {
            Body::Create { name, device, .. } => t!(
                "rows-audit-create",
                name = name.as_str(),
                key = key_prefix(device)
            ),
            Body::AddOrg {
                name, role, device, ..
            } => t!(
                "rows-audit-add-org",
                name = name.as_str(),
                role = role.to_string(),
                key = key_prefix(device)
            ),
            Body::AddDevice { org, device, .. } => t!(
                "rows-audit-add-device",
                key = key_prefix(device),
                org = names.org(org)
            ),
            Body::SetRole { org, role } => t!(
                "rows-audit-set-role",
                org = names.org(org),
                role = role.to_string()
            ),
            Body::EpochKey { epoch, sealed, .. } => {
                if self.rotations.contains_key(&id) || self.burned.contains_key(&id) {
                    t!(
                        "rows-audit-new-key",
                        epoch = epoch.0,
                        count = sealed.len(),
                        burned = if self.burned.contains_key(&id) {
                            "yes"
                        } else {
                            "no"
                        }
                    )
                } else {
                    let to: Vec<String> =
                        sealed.iter().map(|s| names.device(&s.recipient)).collect();
                    t!(
                        "rows-audit-shared-key",
                        epoch = epoch.0,
                        devices = to.join(", ")
                    )
                }
            }
            Body::Revoke {
                target,
                cuts,
                reason,
            } => {
                let has_reason = if reason.is_empty() { "no" } else { "yes" };
                match target {
                    RevokeTarget::Org(org) => t!(
                        "rows-audit-revoke-org",
                        name = names.org(org),
                        count = cuts.len(),
                        has_reason = has_reason,
                        reason = reason.as_str()
                    ),
                    RevokeTarget::Device(_) => t!(
                        "rows-audit-revoke-device",
                        target = names.target(target),
                        has_reason = has_reason,
                        reason = reason.as_str()
                    ),
                }
            }
            Body::Receipt { revocation, epoch } => {
                let target = state
                    .revocation(revocation)
                    .map(|r| names.target(&r.target));
                t!(
                    "rows-audit-receipt",
                    id = short(revocation),
                    has_target = if target.is_some() { "yes" } else { "no" },
                    target = target.unwrap_or_default(),
                    epoch = epoch.0
                )
            }
            Body::Erase { before } => t!("rows-audit-erase", epoch = before.0),
            _ => t!("rows-audit-unknown"),
        }
    }
}

/// `audit log` as people read it: `network_name` and `network` head it.
pub fn log_text(
    network_name: Option<&str>,
    network: &impl std::fmt::Display,
    entries: &[LogEntry],
    tz: &TimeZone,
) -> String {
    let bad = entries
        .iter()
        .filter(|e| !e.signature_ok || !e.parents_present)
        .count();
    let invalid = entries.iter().filter(|e| e.verdict != "valid").count();
    let mut lines = vec![t!(
        "rows-audit-head",
        network_name = network_name.unwrap_or("?"),
        network = network.to_string(),
        count = entries.len()
    )];
    if bad == 0 {
        lines.push(t!("rows-audit-verified"));
    } else {
        lines.push(t!("rows-audit-unverified", count = bad));
    }
    if invalid > 0 {
        lines.push(t!("rows-audit-invalid", count = invalid));
    }
    let mut out: String = lines.iter().map(|l| format!("{l}\n")).collect();
    out.push('\n');
    let mut t = Table::new(&[
        t!("col-claimed-time"),
        t!("col-by"),
        t!("col-verdict"),
        t!("col-what"),
    ]);
    for e in entries {
        let what = match &e.invalid_reason {
            Some(r) => t!(
                "rows-audit-no-effect",
                what = e.what_text.as_str(),
                reason = r.as_str()
            ),
            None => e.what_text.clone(),
        };
        let by = match e.author_name.as_deref() {
            Some(name) => device_text(Some(name), &e.author),
            None => prefix(&e.author, 12),
        };
        let claimed =
            i64::try_from(e.claimed_unix).map_or_else(|_| "-".to_string(), |t| Time(t).local(tz));
        t.row(vec![
            claimed,
            by,
            t!("rows-verdict", verdict = e.verdict),
            what,
        ]);
    }
    out.push_str(&t.render());
    out
}

/// What a party could read.
#[derive(Debug, Serialize)]
pub struct ExposureReport {
    /// The party: an organisation or one device.
    pub target: TargetRow,
    /// Whether an effective revocation removed it.
    pub revoked: bool,
    /// The earliest such revocation.
    pub revocation: Option<String>,
    /// When that revocation was made, by its author's clock, RFC 3339.
    pub claimed_time: Option<String>,
    /// The same, in Unix seconds.
    #[serde(skip)]
    pub claimed_unix: Option<u64>,
    /// The epochs whose keys were sealed to one of the party's devices.
    pub epochs_held: Vec<u32>,
    /// Whether the party's own records are listed (for a device, yes; for an organisation,
    /// no: it wrote them).
    pub own_records_listed: bool,
    /// Always true: the report lists everything the party could read, not what it did.
    pub errs_on_the_side_of_including_too_much: bool,
    /// Per organisation, by name: what the party could read of it.
    pub organisations: Vec<ExposureSection>,
}

/// What a party could read of one organisation.
#[derive(Debug, Serialize)]
pub struct ExposureSection {
    /// Its id.
    pub org: String,
    /// Its name.
    pub name: String,
    /// When all its devices had confirmed the revocation, RFC 3339.
    pub confirmed_at: Option<String>,
    /// The same, in Unix seconds.
    #[serde(skip)]
    pub confirmed_unix: Option<u64>,
    /// Everything it wrote counts (part came in a snapshot that cannot be told apart).
    pub listed_whole: bool,
    /// Its offers the party could read.
    pub offers: Vec<ExposedOffer>,
    /// Its holds the party could read.
    pub holds: Vec<ExposedHold>,
}

/// An offer a party could read.
#[derive(Debug, Serialize)]
pub struct ExposedOffer {
    /// Its id.
    pub offer_id: String,
    /// Its kind.
    pub kind: String,
    /// Its handle.
    pub handle: String,
    /// Its counties.
    pub counties: Vec<String>,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// The same, in Unix seconds.
    #[serde(skip)]
    pub created_unix: i64,
    /// `active`, `expired` or `withdrawn`.
    pub state: &'static str,
}

/// A hold a party could read.
#[derive(Debug, Serialize)]
pub struct ExposedHold {
    /// Its id.
    pub hold_id: String,
    /// The offer it is on.
    pub offer_id: String,
    /// That offer's owner.
    pub owner: String,
    /// The owner's name.
    pub owner_name: String,
    /// The offer's handle, if this node holds the offer.
    pub handle: Option<String>,
    /// How many units it holds.
    pub qty: u32,
    /// When it was placed, RFC 3339.
    pub created_at: String,
    /// The same, in Unix seconds.
    #[serde(skip)]
    pub created_unix: i64,
    /// Its status.
    pub status: &'static str,
}

impl ExposureReport {
    /// What `target` could read: per organisation, the offers and holds this node holds with
    /// content sealed under an encryption key that was sealed to one of its devices
    /// (`exposure`, from [`Replica::exposure`]).
    pub fn build(
        replica: &Replica,
        state: &MemberState,
        names: &Names,
        target: &RevokeTarget,
        exposure: &Exposure,
        now: Time,
    ) -> ExposureReport {
        let view = replica.view();
        let revocations = covering(state, names, target);
        let first = revocations.first().copied();
        let receipts = receipt_times(
            replica,
            &revocations.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        );
        // Every organisation the target could have read something of: members, and owners of
        // anything in the document. A revoked organisation's own records are not listed: it
        // wrote them.
        let mut orgs: Vec<OrgId> = state.orgs().iter().map(|o| o.id).collect();
        orgs.extend(view.offers().map(|o| o.owner));
        orgs.extend(view.holds(now, None, None).iter().map(|h| h.hold.requester));
        orgs.sort();
        orgs.dedup();
        if let RevokeTarget::Org(id) = target {
            orgs.retain(|o| o != id);
        }
        let mut sections: Vec<ExposureSection> = Vec::new();
        for org in orgs {
            // When this organisation's node(s) confirmed the cut: only then does it stop
            // writing under a key the target holds, and stop syncing with it.
            let confirmed: Option<u64> = match (first, state.org(&org)) {
                (Some(_), Some(member)) if !member.devices.is_empty() => member
                    .devices
                    .iter()
                    .map(|d| receipts.get(d).copied())
                    .collect::<Option<Vec<u64>>>()
                    .and_then(|t| t.into_iter().max()),
                _ => None,
            };
            let mut offers: Vec<&Offer> = view
                .offers()
                .filter(|o| o.owner == org && exposure.offer(o.owner, o.id))
                .collect();
            offers.sort_by_key(|o| (o.created_at, o.id));
            let offers = offers
                .iter()
                .map(|o| ExposedOffer {
                    offer_id: o.id.to_string(),
                    kind: o.fields.kind.to_string(),
                    handle: o.fields.handle.clone(),
                    counties: o.fields.counties.iter().map(ToString::to_string).collect(),
                    created_at: o.created_at.rfc3339(),
                    created_unix: o.created_at.0,
                    state: render::state(o, now),
                })
                .collect();
            let holds = view
                .holds(now, Some(org), None)
                .iter()
                .filter(|h| exposure.hold(h.hold.requester, h.hold.id))
                .map(|h| {
                    let hold = &h.hold;
                    ExposedHold {
                        hold_id: hold.id.to_string(),
                        offer_id: hold.offer.to_string(),
                        owner: hold.owner.to_string(),
                        owner_name: names.org(&hold.owner),
                        handle: view
                            .offer(hold.owner, hold.offer)
                            .map(|o| o.fields.handle.clone()),
                        qty: hold.qty,
                        created_at: hold.created_at.rfc3339(),
                        created_unix: hold.created_at.0,
                        status: h.status.as_str(),
                    }
                })
                .collect();
            sections.push(ExposureSection {
                org: org.to_string(),
                name: names.org(&org),
                confirmed_at: confirmed.map(|t| to_time(t).rfc3339()),
                confirmed_unix: confirmed,
                listed_whole: exposure.whole.contains(&org),
                offers,
                holds,
            });
        }
        // By name, whatever the case; organisations of one name stay in id order.
        sections.sort_by_key(|s| s.name.to_lowercase());
        ExposureReport {
            target: names.target_row(target),
            revoked: first.is_some(),
            revocation: first.map(|(id, _)| id.to_string()),
            claimed_time: first.map(|(_, t)| to_time(t).rfc3339()),
            claimed_unix: first.map(|(_, t)| t),
            epochs_held: exposure.epochs.iter().map(|e| e.0).collect(),
            own_records_listed: matches!(target, RevokeTarget::Device(_)),
            errs_on_the_side_of_including_too_much: true,
            organisations: sections,
        }
    }

    /// The report as people read it.
    pub fn text(&self, now: Time, tz: &TimeZone) -> String {
        let mut out = String::new();
        let name = self.target.name.as_deref().unwrap_or("?");
        let who = match self.target.kind {
            TargetKind::Device => t!(
                "rows-target-device",
                key = self.target.key_prefix(),
                name = name
            ),
            TargetKind::Organisation => format!("\"{name}\""),
        };
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        if self.revoked {
            let at = self
                .claimed_unix
                .and_then(|t| i64::try_from(t).ok())
                .map_or_else(|| "-".to_string(), |t| render::when(Time(t), now, tz));
            line(t!(
                "rows-exposure-head-revoked",
                who = who.as_str(),
                id = prefix(self.revocation.as_deref().unwrap_or_default(), 8),
                at = at
            ));
            line(t!(
                "rows-exposure-explained",
                epochs = epochs_text(&self.epochs_held)
            ));
        } else {
            line(t!("rows-exposure-head-not-revoked", who = who.as_str()));
        }
        if !self.own_records_listed {
            line(t!("rows-exposure-own-not-listed"));
        }
        if self.organisations.is_empty() {
            line(String::new());
            line(t!("rows-exposure-nothing"));
        }
        for s in &self.organisations {
            let name = s.name.as_str();
            let whole = if s.listed_whole { "yes" } else { "no" };
            let confirmed = s.confirmed_unix.and_then(|t| i64::try_from(t).ok());
            let head = match (self.revoked, confirmed) {
                (false, _) => format!("{name}:"),
                (true, Some(c)) => t!(
                    "rows-exposure-org-confirmed",
                    name = name,
                    when = render::when(Time(c), now, tz),
                    whole = whole
                ),
                (true, None) => t!(
                    "rows-exposure-org-not-confirmed",
                    name = name,
                    whole = whole
                ),
            };
            out.push('\n');
            out.push_str(&head);
            out.push('\n');
            if s.offers.is_empty() && s.holds.is_empty() {
                out.push_str(&indent(&t!("rows-exposure-none")));
                continue;
            }
            if !s.offers.is_empty() {
                let mut t = Table::new(&[
                    t!("col-offer"),
                    t!("col-kind"),
                    t!("col-handle"),
                    t!("col-counties"),
                    t!("col-created"),
                    t!("col-state"),
                ]);
                for o in &s.offers {
                    t.row(vec![
                        prefix(&o.offer_id, 8),
                        o.kind.clone(),
                        o.handle.clone(),
                        if o.counties.is_empty() {
                            "-".into()
                        } else {
                            o.counties.join(",")
                        },
                        Time(o.created_unix).local(tz),
                        render::state_word(o.state),
                    ]);
                }
                out.push_str(&indent(&t.render()));
            }
            if !s.holds.is_empty() {
                let mut t = Table::new(&[
                    t!("col-hold"),
                    t!("col-on-offer-of"),
                    t!("col-handle"),
                    t!("col-qty"),
                    t!("col-created"),
                    t!("col-status"),
                ]);
                for h in &s.holds {
                    t.row(vec![
                        prefix(&h.hold_id, 8),
                        h.owner_name.clone(),
                        h.handle.clone().unwrap_or_else(|| "-".to_string()),
                        h.qty.to_string(),
                        Time(h.created_unix).local(tz),
                        render::hold_status(h.status),
                    ]);
                }
                out.push_str(&indent(&t.render()));
            }
        }
        out
    }
}

/// The effective revocations that removed `target` (for a device, also those of its
/// organisation), earliest claimed first.
fn covering(state: &MemberState, names: &Names, target: &RevokeTarget) -> Vec<(OpId, u64)> {
    let mut found: Vec<(OpId, u64)> = state
        .revocations()
        .into_iter()
        .filter(|r| r.effective)
        .filter(|r| match (target, &r.target) {
            (RevokeTarget::Org(id), RevokeTarget::Org(org)) => org == id,
            (RevokeTarget::Device(key), RevokeTarget::Device(k)) => k == key,
            (RevokeTarget::Device(key), RevokeTarget::Org(org)) => {
                names.device_org(key) == Some(*org)
            }
            (RevokeTarget::Org(_), RevokeTarget::Device(_)) => false,
        })
        .map(|r| (r.id, r.claimed_time))
        .collect();
    found.sort_by_key(|(id, t)| (*t, *id));
    found
}

/// Per device, the earliest claimed time of its valid receipts for any of `revocations`.
fn receipt_times(replica: &Replica, revocations: &[OpId]) -> BTreeMap<PublicKey, u64> {
    let mut out: BTreeMap<PublicKey, u64> = BTreeMap::new();
    let Some(log) = replica.membership() else {
        return out;
    };
    let state = log.state();
    for op in log.ops() {
        if let Body::Receipt { revocation, .. } = op.body()
            && revocations.contains(revocation)
            && state.verdict(&op.id()) == Some(Verdict::Valid)
        {
            let t = out.entry(op.author()).or_insert(op.claimed_time());
            *t = (*t).min(op.claimed_time());
        }
    }
    out
}

fn to_time(secs: u64) -> Time {
    Time(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// "epoch 1" or "epochs 1, 2 and 3".
fn epochs_text(epochs: &[u32]) -> String {
    let list: Vec<String> = epochs.iter().map(ToString::to_string).collect();
    match list.as_slice() {
        [] => t!("rows-epochs-none"),
        [one] => t!("rows-epochs-one", epoch = one.as_str()),
        [init @ .., last] => t!(
            "rows-epochs-many",
            epochs = init.join(", "),
            last = last.as_str()
        ),
    }
}
