//! What needs a person at an organisation: holds on its offers waiting for an answer, its own
//! holds that came back overbooked or were declined, and its offers about to expire. The same
//! list feeds `puente inbox`, the status page and the lines `puente run` prints when something
//! arrives, so every front end agrees on what "needs attention" means.
//!
//! Invariant: a pure function of the view, the organisation and `now`; it reads no clock and
//! names no label or free text, only ids, handles, counts and times.
//!
//! Boundary: it decides what to show, not how: words and layout belong to the front ends.

use serde::Serialize;

use crate::view::{EXPIRY_GRACE_SECS, HoldStatus, HoldView, View};
use crate::{Offer, OfferId, OrgId, Time};

/// How close to its expiry an own offer is listed: three days, so a coordinator who looks
/// once a day sees it at least twice before it drops out of partners' searches.
pub const EXPIRING_WITHIN_SECS: i64 = 72 * 3600;

/// What needs a person at one organisation, each list sorted by urgency (soonest first).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inbox {
    /// Holds partners placed on our offers that wait for our answer (pending or
    /// overbooked), soonest to lapse first.
    pub to_answer: Vec<HoldView>,
    /// Holds we placed that are overbooked or were declined, while their period has not
    /// ended and we have not released them.
    pub our_holds: Vec<HoldView>,
    /// Our offers (not withdrawn) that expire within [`EXPIRING_WITHIN_SECS`], or expired
    /// less than a grace period ago, soonest first.
    pub expiring: Vec<ExpiringOffer>,
}

/// An own offer close to its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiringOffer {
    /// The offer.
    pub offer: OfferId,
    /// Its handle (a pseudonym the organisation chose).
    pub handle: String,
    /// When it stops showing in partners' searches.
    pub expires_at: Time,
}

impl Inbox {
    /// The inbox without what involves an organisation `gone` says is gone (revoked): its
    /// holds on our offers wait for no answer, and its answer to our holds will never come.
    /// The view cannot tell (it knows no membership); the caller can.
    pub fn without(mut self, gone: impl Fn(OrgId) -> bool) -> Inbox {
        self.to_answer.retain(|h| !gone(h.hold.requester));
        self.our_holds.retain(|h| !gone(h.hold.owner));
        self
    }

    /// Whether nothing needs a person.
    pub fn is_empty(&self) -> bool {
        self.to_answer.is_empty() && self.our_holds.is_empty() && self.expiring.is_empty()
    }

    /// How many things need a person.
    pub fn len(&self) -> usize {
        self.to_answer.len() + self.our_holds.len() + self.expiring.len()
    }
}

/// What needs a person at `me` at `now`.
pub fn inbox(view: &View, me: OrgId, now: Time) -> Inbox {
    let mut to_answer: Vec<HoldView> = view
        .holds(now, None, Some(me))
        .into_iter()
        .filter(|h| h.hold.requester != me)
        .filter(|h| {
            h.decision.is_none() && matches!(h.status, HoldStatus::Pending | HoldStatus::Overbooked)
        })
        .collect();
    to_answer.sort_by_key(|h| (h.hold.expires_at, h.hold.created_at, h.hold.id));

    let mut our_holds: Vec<HoldView> = view
        .holds(now, Some(me), None)
        .into_iter()
        .filter(|h| {
            !h.hold.released
                && h.hold.to > now
                && matches!(h.status, HoldStatus::Overbooked | HoldStatus::Declined)
        })
        .collect();
    our_holds.sort_by_key(|h| (h.hold.from, h.hold.created_at, h.hold.id));

    let mut expiring: Vec<ExpiringOffer> = view
        .offers()
        .filter(|o| o.owner == me && !o.withdrawn && expiring_soon(o, now))
        .map(|o| ExpiringOffer {
            offer: o.id,
            handle: o.fields.handle.clone(),
            expires_at: o.expires_at,
        })
        .collect();
    expiring.sort_by_key(|e| (e.expires_at, e.offer));

    Inbox {
        to_answer,
        our_holds,
        expiring,
    }
}

/// Expires within [`EXPIRING_WITHIN_SECS`] of `now`, or did less than the query engine's grace
/// ago (it still shows in searches until then).
fn expiring_soon(o: &Offer, now: Time) -> bool {
    let left = o.expires_at.0 - now.0;
    (-EXPIRY_GRACE_SECS..=EXPIRING_WITHIN_SECS).contains(&left)
}
