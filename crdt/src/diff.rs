//! What to change in an existing offer so that it matches a description of it: the
//! [`OfferPatch`] that writes only the fields that differ, and the list of those fields. This is
//! how a spreadsheet imported again updates the offers it describes instead of duplicating them.
//!
//! - Descriptive fields: a field is in the patch exactly when its normalised value differs.
//! - `kind`, `subject` and `unit` never change on an existing offer (a partner's holds count in
//!   its unit); a description that differs there is refused with the field, and the caller says
//!   to withdraw the offer and publish a new one.
//! - Windows: a window is the same when its start, end, zone, weekly repeat and total are the
//!   same. Windows described but not live on the offer are added; live windows not described
//!   are cancelled (one-way, as `offer update --cancel-window` does). Cancelled windows are left
//!   as they are.
//! - Expiry: a description that says nothing about it leaves it; one that gives the time left
//!   sets a new expiry (and counts as a confirmation) only when that moves the expiry by more
//!   than [`EXPIRY_TOLERANCE_SECS`], so that the same file imported again a little later
//!   changes nothing, and an export imported again keeps its offers' expiries.
//!
//! Boundary: pure; `now` is an argument.

use crate::fields::Field;
use crate::schema::{NewOffer, NewWindow, Offer, OfferFields, OfferPatch, Window};
use crate::time::Time;

/// How far (seconds) a described expiry may be from the current one and still count as the
/// same: an hour, more than the minute an export rounds the time left to plus the time a
/// coordinator takes between an export and the import of the edited file.
pub const EXPIRY_TOLERANCE_SECS: i64 = 3_600;

/// The patch that makes `current` match `target` at `now`, and the fields it changes (in field
/// table order); an empty list means the offer already matches. `target` must have been
/// validated ([`NewOffer::validate`]), which normalises its sets.
///
/// Errors with the first field that cannot change on an existing offer (`kind`, `subject` or
/// `unit`).
pub fn patch_towards(
    current: &Offer,
    target: &NewOffer,
    now: Time,
) -> Result<(OfferPatch, Vec<Field>), Field> {
    let (from, to) = (&current.fields, &target.fields);
    if from.kind != to.kind {
        return Err(Field::Kind);
    }
    if from.subject != to.subject {
        return Err(Field::Subject);
    }
    if from.unit != to.unit {
        return Err(Field::Unit);
    }
    let mut patch = OfferPatch::default();
    let mut changed = Vec::new();
    descriptive(from, to, &mut patch, &mut changed);
    windows(&current.windows, &target.windows, &mut patch, &mut changed);
    if let Some(secs) = target.expires_in
        && now.plus(secs).0.abs_diff(current.expires_at.0) > EXPIRY_TOLERANCE_SECS.unsigned_abs()
    {
        patch.expires_in = Some(secs);
        changed.push(Field::ExpiresIn);
    }
    changed.sort();
    Ok((patch, changed))
}

/// Sets in `patch` every descriptive field whose value differs, and names it in `changed`.
fn descriptive(
    from: &OfferFields,
    to: &OfferFields,
    patch: &mut OfferPatch,
    changed: &mut Vec<Field>,
) {
    macro_rules! each {
        ($($name:ident => $field:expr),* $(,)?) => {$(
            if from.$name != to.$name {
                patch.$name = Some(to.$name.clone());
                changed.push($field);
            }
        )*};
    }
    each!(
        handle => Field::Handle,
        counties => Field::Counties,
        zone => Field::Zone,
        languages => Field::Languages,
        accepts => Field::Accepts,
        affirming => Field::Affirming,
        accessibility => Field::Accessibility,
        household => Field::Household,
        capabilities => Field::Capabilities,
        lead_time => Field::LeadTime,
        max_stay => Field::MaxStay,
        vetting => Field::Vetting,
        status => Field::Status,
        label => Field::Label,
        bond_band => Field::BondBand,
        post_within => Field::PostWithin,
    );
}

/// Whether a live window and a described one are the same window.
fn same_window(w: &Window, n: &NewWindow) -> bool {
    w.start == n.start
        && w.end == n.end
        && w.tz == n.tz
        && w.weekly == n.weekly
        && w.total == n.total
}

/// Adds to `patch` the described windows that are not live and cancels the live ones that are
/// not described, each matched at most once (two identical windows are two windows).
fn windows(
    current: &[Window],
    target: &[NewWindow],
    patch: &mut OfferPatch,
    changed: &mut Vec<Field>,
) {
    let mut unmatched: Vec<&Window> = current.iter().filter(|w| !w.cancelled).collect();
    for n in target {
        match unmatched.iter().position(|w| same_window(w, n)) {
            Some(i) => {
                unmatched.swap_remove(i);
            }
            None => patch.add_windows.push(n.clone()),
        }
    }
    patch.cancel_windows = unmatched.iter().map(|w| w.id).collect();
    patch.cancel_windows.sort();
    if !patch.add_windows.is_empty() || !patch.cancel_windows.is_empty() {
        changed.push(Field::Windows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;
    use crate::test_utils::{published, sample_fields, sample_window};
    use crate::vocab::{Kind, StatusHint, Unit};

    const NOW: Time = Time(1_795_000_000);

    fn window(start: i64, total: u32) -> NewWindow {
        sample_window(Time(start), Time(start + 86_400), total)
    }

    fn described() -> NewOffer {
        let mut offer = NewOffer {
            fields: sample_fields(Kind::HostHome, "host-1"),
            windows: vec![window(NOW.0, 2), window(NOW.0 + 7 * 86_400, 1)],
            expires_in: Some(30 * 86_400),
        };
        offer.validate().expect("a valid description");
        offer
    }

    /// The offer `described()` publishes at `NOW`.
    fn stored(d: &NewOffer) -> Offer {
        published(d, 1, OrgId::from_bytes([2; 10]), NOW)
    }

    #[test]
    fn the_same_description_changes_nothing_even_a_little_later() {
        let d = described();
        let offer = stored(&d);
        let (patch, changed) = patch_towards(&offer, &d, NOW).expect("same kind");
        assert!(patch.is_empty() && changed.is_empty());
        // Ten minutes later the same file says the same: the expiry is within the tolerance.
        let later = NOW.plus(600);
        let (patch, changed) = patch_towards(&offer, &d, later).expect("same kind");
        assert!(patch.is_empty(), "{patch:?}");
        assert!(changed.is_empty());
        // Without an expiry the description leaves it, however late.
        let mut no_expiry = d.clone();
        no_expiry.expires_in = None;
        let (patch, _) = patch_towards(&offer, &no_expiry, NOW.plus(90 * 86_400)).expect("same");
        assert!(patch.is_empty());
    }

    #[test]
    fn only_the_fields_that_differ_are_written() {
        let d = described();
        let offer = stored(&d);
        let mut edited = d.clone();
        edited.fields.label = "two quiet rooms".into();
        edited.fields.status = StatusHint::Waitlist;
        edited.validate().expect("valid");
        let (patch, changed) = patch_towards(&offer, &edited, NOW).expect("same kind");
        assert_eq!(changed, [Field::Status, Field::Label]);
        assert_eq!(patch.label.as_deref(), Some("two quiet rooms"));
        assert_eq!(patch.status, Some(StatusHint::Waitlist));
        assert_eq!(
            OfferPatch {
                label: None,
                status: None,
                ..patch
            },
            OfferPatch::default(),
            "nothing else is in the patch"
        );
    }

    #[test]
    fn windows_are_matched_by_value_added_and_cancelled() {
        let d = described();
        let offer = stored(&d);
        let mut edited = d.clone();
        // The second window's total changes; the first stays; a third is new.
        edited.windows[1].total = 3;
        edited.windows.push(window(NOW.0 + 14 * 86_400, 1));
        let (patch, changed) = patch_towards(&offer, &edited, NOW).expect("same kind");
        assert_eq!(changed, [Field::Windows]);
        assert_eq!(
            patch.add_windows,
            [edited.windows[1].clone(), edited.windows[2].clone()]
        );
        assert_eq!(patch.cancel_windows, [offer.windows[1].id]);

        // A window already cancelled is not cancelled again, and not brought back.
        let mut cancelled = offer.clone();
        cancelled.windows[1].cancelled = true;
        let mut one = d.clone();
        one.windows.truncate(1);
        let (patch, changed) = patch_towards(&cancelled, &one, NOW).expect("same kind");
        assert!(patch.is_empty() && changed.is_empty());
    }

    #[test]
    fn a_new_expiry_beyond_the_tolerance_is_a_change() {
        let d = described();
        let offer = stored(&d);
        let mut longer = d.clone();
        longer.expires_in = Some(60 * 86_400);
        let (patch, changed) = patch_towards(&offer, &longer, NOW).expect("same kind");
        assert_eq!(changed, [Field::ExpiresIn]);
        assert_eq!(patch.expires_in, Some(60 * 86_400));
    }

    #[test]
    fn kind_subject_and_unit_never_change() {
        let d = described();
        let offer = stored(&d);
        let mut other = d.clone();
        other.fields.unit = Unit::Bed;
        assert_eq!(patch_towards(&offer, &other, NOW), Err(Field::Unit));
        let mut other = d.clone();
        other.fields.kind = Kind::ShelterBed;
        assert_eq!(patch_towards(&offer, &other, NOW), Err(Field::Kind));
    }
}
