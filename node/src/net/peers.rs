//! Where and when to dial members: the addresses known for each peer and its reconnect backoff.
//!
//! Pure bookkeeping: the caller passes the time in, and nothing here dials, sleeps or reads a
//! clock. Addresses come from two places only: the local user (configuration and
//! `add_address`) and members themselves (the listen addresses an allowed peer reports about
//! itself through identify, or mDNS when the user asked for it). Both lists are bounded per peer.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::time::Instant;

/// Addresses kept per peer from configuration and `add_address`; the oldest is forgotten first.
/// A partner rarely has more than a couple of reachable addresses; sixteen leaves room for
/// several moves without letting a script grow the list without end.
pub(super) const MAX_CONFIGURED_ADDRESSES_PER_PEER: usize = 16;

/// Addresses kept per peer from what the peer itself reported (identify, mDNS). A host with
/// many interfaces reports one address per interface and transport; eight covers a laptop with
/// TCP and QUIC on IPv4 and IPv6 while bounding what a compromised member can make us store.
pub(super) const MAX_LEARNED_ADDRESSES_PER_PEER: usize = 8;

/// The largest backoff exponent; `2^16` times any sensible initial delay is already past the
/// maximum, and capping the exponent keeps the arithmetic from overflowing.
const MAX_BACKOFF_EXPONENT: u32 = 16;

#[derive(Debug, Default)]
struct Entry {
    /// From the local user, newest last.
    configured: VecDeque<Multiaddr>,
    /// Reported by the peer about itself, newest last.
    learned: VecDeque<Multiaddr>,
    /// Consecutive failed or lost connections since the last success.
    failures: u32,
    /// When to dial next, if a dial is scheduled.
    next_dial: Option<Instant>,
}

/// Known addresses and reconnect schedule for every peer we may dial.
#[derive(Debug)]
pub(super) struct PeerBook {
    peers: HashMap<PeerId, Entry>,
    initial_backoff: Duration,
    max_backoff: Duration,
    /// Cap on the delay during the first `fast_retries` tries after a loss.
    fast_backoff: Duration,
    fast_retries: u32,
}

impl PeerBook {
    /// An empty book; reconnects wait `initial_backoff`, doubling up to `max_backoff`.
    pub(super) fn new(initial_backoff: Duration, max_backoff: Duration) -> Self {
        Self {
            peers: HashMap::new(),
            initial_backoff,
            max_backoff: max_backoff.max(initial_backoff),
            fast_backoff: max_backoff.max(initial_backoff),
            fast_retries: 0,
        }
    }

    /// Caps the delay at `cap` for the first `tries` retries after a success, so that a path
    /// that comes back after a short outage is used within about `cap`.
    pub(super) fn with_fast_retries(mut self, cap: Duration, tries: u32) -> Self {
        self.fast_backoff = cap.max(self.initial_backoff).min(self.max_backoff);
        self.fast_retries = tries;
        self
    }

    /// Records an address given by the local user. Returns whether it was new.
    pub(super) fn add_configured(&mut self, peer: PeerId, addr: Multiaddr) -> bool {
        let entry = self.peers.entry(peer).or_default();
        push_bounded(
            &mut entry.configured,
            addr,
            MAX_CONFIGURED_ADDRESSES_PER_PEER,
        )
    }

    /// Records an address the peer reported about itself. Returns whether it was new.
    pub(super) fn add_learned(&mut self, peer: PeerId, addr: Multiaddr) -> bool {
        let entry = self.peers.entry(peer).or_default();
        if entry.configured.contains(&addr) {
            return false;
        }
        push_bounded(&mut entry.learned, addr, MAX_LEARNED_ADDRESSES_PER_PEER)
    }

    /// Every address to try for `peer`: the user's newest first, then the peer's own newest first.
    pub(super) fn addresses(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.peers
            .get(peer)
            .map(|entry| {
                entry
                    .configured
                    .iter()
                    .rev()
                    .chain(entry.learned.iter().rev())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether any address is known for `peer`.
    pub(super) fn has_addresses(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|entry| !entry.configured.is_empty() || !entry.learned.is_empty())
    }

    /// Schedules a dial at `now` and forgets earlier failures (a fresh address or an explicit
    /// request deserves an immediate try).
    pub(super) fn dial_now(&mut self, peer: PeerId, now: Instant) {
        let entry = self.peers.entry(peer).or_default();
        entry.failures = 0;
        entry.next_dial = Some(now);
    }

    /// A connection to `peer` is up: no dial is needed and the backoff starts over.
    pub(super) fn connected(&mut self, peer: &PeerId) {
        if let Some(entry) = self.peers.get_mut(peer) {
            entry.failures = 0;
            entry.next_dial = None;
        }
    }

    /// A dial failed or the last connection was lost: schedules the next try after the current
    /// backoff and doubles it. Does nothing for a peer without addresses unless `via_relay`
    /// (it can be dialled through a relay).
    pub(super) fn retry_later(&mut self, peer: PeerId, now: Instant, via_relay: bool) {
        let (initial, max) = (self.initial_backoff, self.max_backoff);
        let (fast, fast_tries) = (self.fast_backoff, self.fast_retries);
        if let Some(entry) = self.peers.get_mut(&peer)
            && (via_relay || !entry.configured.is_empty() || !entry.learned.is_empty())
        {
            let cap = if entry.failures < fast_tries {
                fast
            } else {
                max
            };
            let delay = backoff(initial, cap, entry.failures);
            entry.failures = entry.failures.saturating_add(1);
            entry.next_dial = Some(now + delay);
        }
    }

    /// Failed or lost connections to `peer` since its last success.
    pub(super) fn failures(&self, peer: &PeerId) -> u32 {
        self.peers.get(peer).map_or(0, |entry| entry.failures)
    }

    /// Cancels any scheduled dial (the peer is no longer a member).
    pub(super) fn cancel(&mut self, peer: &PeerId) {
        if let Some(entry) = self.peers.get_mut(peer) {
            entry.next_dial = None;
        }
    }

    /// The earliest scheduled dial, if any.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.peers
            .values()
            .filter_map(|entry| entry.next_dial)
            .min()
    }

    /// The peers whose dial is due at `now`; their schedule is cleared.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<PeerId> {
        let mut due = Vec::new();
        for (peer, entry) in &mut self.peers {
            if entry.next_dial.is_some_and(|at| at <= now) {
                entry.next_dial = None;
                due.push(*peer);
            }
        }
        due
    }
}

/// `initial · 2^failures`, capped at `max`.
fn backoff(initial: Duration, max: Duration, failures: u32) -> Duration {
    let factor = 1u32 << failures.min(MAX_BACKOFF_EXPONENT);
    initial.saturating_mul(factor).min(max)
}

/// Makes `addr` the newest entry (moving it if present); drops the oldest beyond `cap`.
/// Returns whether it was new.
fn push_bounded(list: &mut VecDeque<Multiaddr>, addr: Multiaddr, cap: usize) -> bool {
    let known = list.iter().position(|a| *a == addr);
    if let Some(index) = known {
        list.remove(index);
    }
    list.push_back(addr);
    while list.len() > cap {
        list.pop_front();
    }
    known.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().expect("valid")
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let max = Duration::from_secs(60);
        let delays: Vec<u64> = (0..9).map(|n| backoff(SECOND, max, n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(SECOND, max, u32::MAX), max);
    }

    #[test]
    fn retries_are_scheduled_with_growing_delays_and_reset_on_success() {
        let mut book = PeerBook::new(SECOND, Duration::from_secs(60));
        let peer = PeerId::random();
        let t0 = Instant::now();
        // No address: nothing to schedule.
        book.retry_later(peer, t0, false);
        assert_eq!(book.next_deadline(), None);

        book.add_configured(peer, addr(1));
        book.retry_later(peer, t0, false);
        assert_eq!(book.next_deadline(), Some(t0 + SECOND));
        assert!(book.take_due(t0).is_empty());
        assert_eq!(book.take_due(t0 + SECOND), vec![peer]);
        assert_eq!(book.next_deadline(), None);

        book.retry_later(peer, t0, false);
        assert_eq!(book.next_deadline(), Some(t0 + 2 * SECOND));
        book.connected(&peer);
        assert_eq!(book.next_deadline(), None);
        book.retry_later(peer, t0, false);
        assert_eq!(book.next_deadline(), Some(t0 + SECOND));

        book.dial_now(peer, t0);
        assert_eq!(book.take_due(t0), vec![peer]);
        book.retry_later(peer, t0, false);
        book.cancel(&peer);
        assert_eq!(book.next_deadline(), None);
    }

    #[test]
    fn the_first_retries_after_a_loss_stay_fast() {
        let mut book =
            PeerBook::new(SECOND / 2, Duration::from_secs(60)).with_fast_retries(2 * SECOND, 4);
        let peer = PeerId::random();
        let t0 = Instant::now();
        book.add_configured(peer, addr(1));
        let mut delays = Vec::new();
        for _ in 0..8 {
            book.retry_later(peer, t0, false);
            delays.push(book.next_deadline().expect("scheduled") - t0);
        }
        let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [500, 1000, 2000, 2000, 8000, 16000, 32000, 60000]);
        // A success starts the fast tries over.
        book.connected(&peer);
        book.retry_later(peer, t0, false);
        assert_eq!(book.next_deadline(), Some(t0 + SECOND / 2));
    }

    #[test]
    fn address_lists_are_bounded_and_newest_first() {
        let mut book = PeerBook::new(SECOND, SECOND);
        let peer = PeerId::random();
        assert!(!book.has_addresses(&peer));
        for port in 0..100 {
            book.add_configured(peer, addr(port));
            book.add_learned(peer, addr(1000 + port));
        }
        assert!(!book.add_configured(peer, addr(99)));
        // Adding a known address again makes it the first one tried.
        assert!(!book.add_configured(peer, addr(90)));
        assert_eq!(book.addresses(&peer)[0], addr(90));
        assert!(book.add_configured(peer, addr(990)));
        assert!(!book.add_configured(peer, addr(99)));
        // A learned address the user also configured is not stored twice.
        assert!(!book.add_learned(peer, addr(99)));
        let all = book.addresses(&peer);
        assert_eq!(
            all.len(),
            MAX_CONFIGURED_ADDRESSES_PER_PEER + MAX_LEARNED_ADDRESSES_PER_PEER
        );
        assert_eq!(all[0], addr(99));
        assert_eq!(all[1], addr(990));
        assert_eq!(all[MAX_CONFIGURED_ADDRESSES_PER_PEER], addr(1099));
        assert!(book.has_addresses(&peer));
    }
}
