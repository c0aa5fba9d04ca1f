//! Invitations this node made: `puente invite list`.

use anyhow::Result;
use jiff::tz::TimeZone;
use puente_crdt::Time;
use puente_node::invite::{Invitation, InviteState};
use serde::Serialize;

use crate::output::{self, Table};
use crate::render;

/// The columns of `invite list --format csv`, in order.
const COLUMNS: &[&str] = &[
    "id",
    "org",
    "role",
    "state",
    "expires",
    "phrase",
    "joiner_name",
];

/// An invitation as `invite list` shows it.
#[derive(Debug, Serialize)]
pub struct InvitationRow {
    /// Its id (the start of its key).
    pub id: String,
    /// The organisation it is for.
    pub org: String,
    /// `organisation` or `device`.
    pub kind: &'static str,
    /// The role it gives; `device` for a device invitation.
    pub role: String,
    /// `open`, `waiting for confirmation`, `confirmed`, `used`, `cancelled` or `expired`.
    pub state: &'static str,
    /// When the token stops working; JSON has Unix seconds as a string.
    #[serde(serialize_with = "super::rfc3339")]
    pub expires: Time,
    /// The safety phrase, once a joiner presented the token.
    pub phrase: Option<String>,
    /// The name the joiner gave, while it waits for confirmation.
    pub joiner_name: Option<String>,
}

impl InvitationRow {
    /// The row of `i` at `now`.
    pub fn new(i: &Invitation, now: Time) -> InvitationRow {
        let (state, phrase, joiner) = match &i.state {
            InviteState::Open if now >= i.expires => ("expired", None, None),
            InviteState::Open => ("open", None, None),
            InviteState::Requested { phrase, name, .. } if now >= i.expires => {
                ("expired", Some(phrase.clone()), Some(name.clone()))
            }
            InviteState::Requested { phrase, name, .. } => (
                "waiting for confirmation",
                Some(phrase.clone()),
                Some(name.clone()),
            ),
            InviteState::Confirmed { phrase, .. } => ("confirmed", Some(phrase.clone()), None),
            InviteState::Used { .. } => ("used", None, None),
            InviteState::Cancelled => ("cancelled", None, None),
        };
        // A device invitation adds a device to this organisation: it has no role of its own.
        let (kind, role) = match i.device_of {
            Some(_) => ("device", "device".to_string()),
            None => ("organisation", i.role().to_string()),
        };
        InvitationRow {
            id: i.id(),
            org: i.org_name.clone(),
            kind,
            role,
            state,
            expires: i.expires,
            phrase,
            joiner_name: joiner,
        }
    }
}

/// `invite list` as people read it.
pub fn table(rows: &[InvitationRow], now: Time, tz: &TimeZone) -> String {
    if rows.is_empty() {
        return format!("{}\n", t!("rows-no-invitations"));
    }
    let mut t = Table::new(&[
        t!("col-id"),
        t!("col-organisation"),
        t!("col-role"),
        t!("col-state"),
        t!("col-expires"),
        t!("col-safety-phrase"),
    ]);
    for r in rows {
        t.row(vec![
            r.id.clone(),
            r.org.clone(),
            r.role.clone(),
            // A Fluent variant key has no spaces: `waiting-for-confirmation`.
            t!("rows-invitation-state", state = r.state.replace(' ', "-")),
            render::when(r.expires, now, tz),
            r.phrase.clone().unwrap_or_else(|| "-".to_string()),
        ]);
    }
    t.render()
}

/// `invite list --format csv`: absent values empty.
pub fn csv(rows: &[InvitationRow]) -> Result<String> {
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.org.clone(),
                r.role.clone(),
                r.state.to_string(),
                r.expires.rfc3339(),
                r.phrase.clone().unwrap_or_default(),
                r.joiner_name.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::csv(COLUMNS, &records)
}
