//! The inbox: what needs a person at an organisation, computed from the view alone.

use puente_crdt::test_utils::sample_offer;
use puente_crdt::{Decision, Hold, Partition, Time, View, inbox};

use crate::support::{BASE, DAY, HOUR, hold_id, offer_id, org, window_id};

fn hold(n: u8, requester: u8, owner: u8, offer: (u8, u8), qty: u32, now: i64) -> Hold {
    Hold {
        id: hold_id(requester, n),
        requester: org(requester),
        owner: org(owner),
        offer: offer_id(offer.0, offer.1),
        window: window_id(offer.0, offer.1),
        qty,
        from: Time(now + DAY),
        to: Time(now + 3 * DAY),
        created_at: Time(now + i64::from(n) * 60),
        expires_at: Time(now + i64::from(n) * 60 + 48 * HOUR),
        released: false,
    }
}

#[test]
fn the_inbox_lists_holds_to_answer_our_troubled_holds_and_offers_about_to_expire() {
    let now = BASE;
    let (a, b) = (1u8, 2u8);
    let mut pa = Partition::new(org(a), &[a; 32]);
    let mut pb = Partition::new(org(b), &[b; 32]);
    let mut view = View::new();

    // A: one offer of 2 expiring in 2 days, one expiring in 30 days.
    let mut soon = sample_offer("host-soon", Time(now));
    soon.expires_in = Some(2 * DAY);
    let t = pa
        .add_offer(offer_id(a, 1), &soon, &[window_id(a, 1)], Time(now))
        .expect("valid");
    view.refresh(&pa, &t);
    let mut later = sample_offer("host-later", Time(now));
    later.expires_in = Some(30 * DAY);
    let t = pa
        .add_offer(offer_id(a, 2), &later, &[window_id(a, 2)], Time(now))
        .expect("valid");
    view.refresh(&pa, &t);
    // B: an offer A holds and B declines.
    let t = pb
        .add_offer(
            offer_id(b, 1),
            &sample_offer("host-b", Time(now)),
            &[window_id(b, 1)],
            Time(now),
        )
        .expect("valid");
    view.refresh(&pb, &t);

    // B holds 2 of A's "soon" offer (pending), then 1 more (overbooked); A holds B's offer.
    for h in [hold(1, b, a, (a, 1), 2, now), hold(2, b, a, (a, 1), 1, now)] {
        let t = pb.place_hold(&h).expect("valid");
        view.refresh(&pb, &t);
    }
    let t = pa
        .place_hold(&hold(3, a, b, (b, 1), 1, now))
        .expect("valid");
    view.refresh(&pa, &t);
    let t = pb
        .decide(hold_id(a, 3), Decision::Declined)
        .expect("decides");
    view.refresh(&pb, &t);

    let at = Time(now + HOUR);
    // Once B is revoked, its holds wait for no answer and A's hold on its offer is no news.
    let without_b = inbox(&view, org(a), at).without(|o| o == org(b));
    assert!(without_b.to_answer.is_empty() && without_b.our_holds.is_empty());
    assert_eq!(without_b.len(), 1, "only the expiring offer is left");
    let mine = inbox(&view, org(a), at);
    let answer: Vec<_> = mine.to_answer.iter().map(|h| h.hold.id).collect();
    assert_eq!(
        answer,
        [hold_id(b, 1), hold_id(b, 2)],
        "soonest to lapse first"
    );
    let ours: Vec<_> = mine.our_holds.iter().map(|h| h.hold.id).collect();
    assert_eq!(ours, [hold_id(a, 3)]);
    let expiring: Vec<_> = mine.expiring.iter().map(|e| e.handle.as_str()).collect();
    assert_eq!(expiring, ["host-soon"]);
    assert_eq!(mine.len(), 4);

    // B sees the hold A placed on its offer only once decided: declined holds need no answer.
    let theirs = inbox(&view, org(b), at);
    assert!(theirs.to_answer.is_empty(), "{theirs:?}");
    // B's second hold went past A's capacity: B is told.
    let troubled: Vec<_> = theirs.our_holds.iter().map(|h| h.hold.id).collect();
    assert_eq!(troubled, [hold_id(b, 2)]);

    // Once A answers, the holds leave A's inbox; a lapsed hold leaves it too.
    let t = pa
        .decide(hold_id(b, 1), Decision::Confirmed)
        .expect("decides");
    view.refresh(&pa, &t);
    let mine = inbox(&view, org(a), at);
    let answer: Vec<_> = mine.to_answer.iter().map(|h| h.hold.id).collect();
    assert_eq!(answer, [hold_id(b, 2)]);
    let after_lapse = inbox(&view, org(a), Time(now + 49 * HOUR));
    assert!(after_lapse.to_answer.is_empty(), "{after_lapse:?}");
    // Past its period, a declined hold of ours is no longer news; an expired offer neither.
    let much_later = inbox(&view, org(a), Time(now + 10 * DAY));
    assert!(much_later.our_holds.is_empty() && much_later.expiring.is_empty());
}
