//! An offer's windows through updates.

use puente_crdt::test_utils::sample_offer;
use puente_crdt::{Partition, Time};

use crate::support::{BASE, DAY, HOUR, offer_id, org, window_id};

/// An update that cancels windows and adds as many counts the windows live after it: an
/// offer at the window limit can replace them all in one change (what an import does).
#[test]
fn an_update_may_replace_every_window_of_a_full_offer() {
    use puente_crdt::OfferPatch;
    use puente_crdt::schema::MAX_WINDOWS_PER_OFFER;
    use puente_crdt::test_utils::sample_window;

    let now = BASE;
    let mut p = Partition::new(org(1), &[1; 32]);
    let window = |k: usize| {
        let start = Time(now + DAY * i64::try_from(k).expect("small"));
        sample_window(start, start.plus(HOUR), 1)
    };
    let mut full = sample_offer("host-full", Time(now));
    full.windows = (0..MAX_WINDOWS_PER_OFFER).map(window).collect();
    let ids: Vec<_> = (0..MAX_WINDOWS_PER_OFFER)
        .map(|k| window_id(1, u8::try_from(k).expect("small")))
        .collect();
    p.add_offer(offer_id(1, 1), &full, &ids, Time(now))
        .expect("valid");
    let patch = OfferPatch {
        add_windows: (MAX_WINDOWS_PER_OFFER..2 * MAX_WINDOWS_PER_OFFER)
            .map(window)
            .collect(),
        cancel_windows: ids.clone(),
        ..OfferPatch::default()
    };
    let new_ids: Vec<_> = (0..MAX_WINDOWS_PER_OFFER)
        .map(|k| window_id(2, u8::try_from(k).expect("small")))
        .collect();
    // Keeping one old window and adding 64 is one more than the limit: refused.
    let mut over = patch.clone();
    over.cancel_windows.pop();
    assert!(
        p.update_offer(offer_id(1, 1), &over, &new_ids, Time(now))
            .is_err()
    );
    p.update_offer(offer_id(1, 1), &patch, &new_ids, Time(now))
        .expect("the cancelled windows no longer count");
}
