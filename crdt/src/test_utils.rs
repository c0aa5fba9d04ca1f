//! The sample offer every test and benchmark of the workspace writes, in one place: a host
//! home in Sacramento County for a Spanish-speaking household, with one window. Tests change
//! the fields they are about and leave the rest as here.
//!
//! Compiled only with the `test-utils` feature, which the crates' dev-dependencies enable; no
//! product build turns it on. Like the rest of this crate it reads no clock: the caller says
//! when the window starts.

use crate::ids::{OfferId, OrgId, WindowId};
use crate::schema::{NewOffer, NewWindow, Offer, OfferFields, Window};
use crate::time::Time;
use crate::vocab::{Accepts, Kind, StatusHint, SubjectType, Vetting};

/// The zone of every sample window (and of the sample organisations): Sacramento's.
pub const SAMPLE_TZ: &str = "America/Los_Angeles";

/// How long the sample offer's window lasts: two weeks, in seconds.
pub const SAMPLE_WINDOW_SECS: i64 = 14 * 86_400;

/// Valid fields of an offer of `kind` called `handle`: for a household, in Sacramento County
/// (06067), in Spanish, accepting trans women, in the kind's default unit, vetted by the
/// organisation, with capacity, labelled "quiet room"; no zone, lead time, stay limit or bond
/// band.
pub fn sample_fields(kind: Kind, handle: &str) -> OfferFields {
    OfferFields {
        kind,
        handle: handle.into(),
        subject: SubjectType::Household,
        counties: vec!["06067".parse().expect("06067 is a county code")],
        zone: None,
        languages: vec!["es".parse().expect("es is a language tag")],
        accepts: vec![Accepts::TransWomen],
        affirming: vec![],
        accessibility: vec![],
        household: vec![],
        capabilities: vec![],
        unit: kind.default_unit(),
        lead_time: None,
        max_stay: None,
        vetting: Vetting::OrgVetted,
        status: StatusHint::Capacity,
        label: "quiet room".into(),
        bond_band: None,
        post_within: None,
    }
}

/// A one-off window from `start` to `end` in [`SAMPLE_TZ`] holding `total` units.
pub fn sample_window(start: Time, end: Time, total: u32) -> NewWindow {
    NewWindow {
        start,
        end,
        tz: SAMPLE_TZ.into(),
        weekly: false,
        total,
    }
}

/// The sample offer: a host home with [`sample_fields`], one window of 2 from `start` for
/// [`SAMPLE_WINDOW_SECS`], and the kind's default expiry.
pub fn sample_offer(handle: &str, start: Time) -> NewOffer {
    NewOffer {
        fields: sample_fields(Kind::HostHome, handle),
        windows: vec![sample_window(start, start.plus(SAMPLE_WINDOW_SECS), 2)],
        expires_in: None,
    }
}

/// `new` as its owner's node stores it when published at `now`: offer id `[n; 10]`, window
/// ids `[0; 10]`, `[1; 10]` ... in order, nothing cancelled or withdrawn. For tests of code that
/// reads offers without a document.
pub fn published(new: &NewOffer, n: u8, owner: OrgId, now: Time) -> Offer {
    Offer {
        id: OfferId::from_bytes([n; 10]),
        owner,
        fields: new.fields.clone(),
        windows: new
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| Window {
                id: WindowId::from_bytes([u8::try_from(i).unwrap_or(u8::MAX); 10]),
                start: w.start,
                end: w.end,
                tz: w.tz.clone(),
                weekly: w.weekly,
                total: w.total,
                cancelled: false,
            })
            .collect(),
        created_at: now,
        last_confirmed_at: now,
        expires_at: new.expiry_from(now),
        withdrawn: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_offer_is_valid() {
        let mut offer = sample_offer("host-7f3k", Time(1_795_000_000));
        offer.validate().expect("the sample offer is valid");
    }
}
