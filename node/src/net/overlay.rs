//! Which members a node dials: all of them in a small network, a bounded set in a large one.
//!
//! Every member key has a place on a ring (SHA-256 of its peer id). A node's *primary* targets
//! are the members at ring distances 1, 2, 3, 4, 8, 16 and 32 after it (successors and
//! fingers); for a primary it cannot reach, it dials the next member after it on the ring
//! instead, until one answers. So every node that runs holds a connection to the next running
//! member after it, and the running nodes form a ring, whoever is offline; the fingers keep the
//! number of hops between any two of them small. A node dials at most 14 members (7 primaries
//! and, while some are unreachable, their substitutes) and accepts the connections of those
//! that dial it, instead of N − 1.
//!
//! Pure: no I/O, no clock; the caller says which peers are failing.

use libp2p::PeerId;
use sha2::{Digest as _, Sha256};

/// Up to this many other members, a node dials every one (a full mesh costs little and is the
/// fastest); beyond, it dials its ring targets.
pub(super) const FULL_MESH_MAX: usize = 8;

/// Ring distances of the primary targets: three successors (so one offline neighbour does not
/// cut the ring's redundancy) and then powers of two, at most 32: seven targets at most
/// whatever the size of the network, so the connections a node holds (and what a membership
/// change costs each node) are bounded by a constant, and the cost of a change to the whole
/// network grows as N. Two nodes are at most about N / 64 + 5 hops apart, four or five in a
/// network of seventy.
fn primary_offsets(n: usize) -> Vec<usize> {
    [1, 2, 3, 4, 8, 16, 32]
        .into_iter()
        .filter(|d| *d < n)
        .collect()
}

fn ring_position(peer: &PeerId) -> [u8; 32] {
    Sha256::digest(peer.to_bytes()).into()
}

/// The other members in ring order, starting after `local`.
pub(super) fn ring(local: &PeerId, members: impl IntoIterator<Item = PeerId>) -> Vec<PeerId> {
    let me = ring_position(local);
    let mut others: Vec<([u8; 32], PeerId)> = members
        .into_iter()
        .filter(|peer| peer != local)
        .map(|peer| (ring_position(&peer), peer))
        .collect();
    others.sort();
    others.dedup();
    let split = others.partition_point(|(pos, _)| *pos <= me);
    others.rotate_left(split);
    others.into_iter().map(|(_, peer)| peer).collect()
}

/// The members to keep connections to: every one in a small network; otherwise the primary
/// targets, and for each failing primary the first member after it on the ring that is not
/// failing (see the module documentation). Failing primaries stay in the set, so they are
/// retried and win back their place when they return.
pub(super) fn targets(ring: &[PeerId], failing: impl Fn(&PeerId) -> bool) -> Vec<PeerId> {
    if ring.len() <= FULL_MESH_MAX {
        return ring.to_vec();
    }
    let n = ring.len() + 1;
    let mut out: Vec<PeerId> = Vec::new();
    for offset in primary_offsets(n) {
        let index = offset - 1;
        let primary = ring[index];
        if !out.contains(&primary) {
            out.push(primary);
        }
        if !failing(&primary) {
            continue;
        }
        // The first reachable member after the primary, wrapping round the ring.
        if let Some(substitute) = (1..ring.len())
            .map(|step| ring[(index + step) % ring.len()])
            .find(|peer| !failing(peer))
            && !out.contains(&substitute)
        {
            out.push(substitute);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap, HashSet};

    use super::*;

    /// `n` peers from fixed keys, so that every run checks the same rings.
    fn peers(n: usize) -> Vec<PeerId> {
        (0..n)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
                let key = libp2p::identity::Keypair::ed25519_from_bytes(seed)
                    .expect("32 bytes are an Ed25519 seed");
                key.public().to_peer_id()
            })
            .collect()
    }

    /// Whether the undirected graph `edges` over `nodes` is connected.
    fn connected(nodes: &[PeerId], edges: &HashMap<PeerId, Vec<PeerId>>) -> bool {
        let Some(first) = nodes.first() else {
            return true;
        };
        let mut adjacent: HashMap<PeerId, HashSet<PeerId>> = HashMap::new();
        for (a, bs) in edges {
            for b in bs {
                adjacent.entry(*a).or_default().insert(*b);
                adjacent.entry(*b).or_default().insert(*a);
            }
        }
        let mut seen = HashSet::from([*first]);
        let mut stack = vec![*first];
        while let Some(p) = stack.pop() {
            for q in adjacent.get(&p).into_iter().flatten() {
                if seen.insert(*q) {
                    stack.push(*q);
                }
            }
        }
        nodes.iter().all(|p| seen.contains(p))
    }

    #[test]
    fn small_networks_are_a_full_mesh() {
        let all = peers(FULL_MESH_MAX + 1);
        let r = ring(&all[0], all.iter().copied());
        assert_eq!(r.len(), FULL_MESH_MAX);
        assert_eq!(targets(&r, |_| false).len(), FULL_MESH_MAX);
    }

    #[test]
    fn the_ring_is_the_same_for_everyone_and_starts_after_the_local_node() {
        let all = peers(20);
        for (x, y) in [(3, 7), (0, 19), (12, 5)] {
            let a = ring(&all[x], all.iter().copied());
            let b = ring(&all[y], all.iter().rev().copied());
            assert_eq!(a.len(), 19);
            assert!(!a.contains(&all[x]));
            // The whole circle as A sees it (A first), then B's ring read off it: everyone
            // after B, round to the one before B.
            let circle: Vec<PeerId> = std::iter::once(all[x]).chain(a.iter().copied()).collect();
            let at = circle
                .iter()
                .position(|p| *p == all[y])
                .expect("in the ring");
            let expected: Vec<PeerId> = circle[at + 1..]
                .iter()
                .chain(&circle[..at])
                .copied()
                .collect();
            assert_eq!(b, expected);
        }
    }

    #[test]
    fn seventy_members_dial_few_and_stay_connected_whoever_is_offline() {
        let all = peers(70);
        let rings: HashMap<PeerId, Vec<PeerId>> = all
            .iter()
            .map(|p| (*p, ring(p, all.iter().copied())))
            .collect();
        // Everyone online: about log2(70) + 3 targets each, and one connected graph.
        let mut edges = HashMap::new();
        for p in &all {
            let t = targets(&rings[p], |_| false);
            assert!(t.len() <= 10, "{} targets", t.len());
            edges.insert(*p, t);
        }
        assert!(connected(&all, &edges));
        let mut degree: HashMap<PeerId, usize> = HashMap::new();
        for (a, bs) in &edges {
            for b in bs {
                *degree.entry(*a).or_default() += 1;
                *degree.entry(*b).or_default() += 1;
            }
        }
        let max = degree.values().max().copied().unwrap_or(0);
        assert!(max <= 30, "a node holds {max} connections");

        // Any subset online (here: several deterministic patterns of 10 to 60 nodes): the
        // online nodes, dialling around the offline ones, are still one connected graph.
        for (seed, share) in [(1u64, 10), (2, 25), (3, 40), (4, 60), (5, 15)] {
            let online: Vec<PeerId> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| (((*i as u64 + 1) * 2_654_435_761 * seed) % 100) < share)
                .map(|(_, p)| *p)
                .collect();
            let up: BTreeSet<PeerId> = online.iter().copied().collect();
            let mut edges = HashMap::new();
            for p in &online {
                let t: Vec<PeerId> = targets(&rings[p], |q| !up.contains(q))
                    .into_iter()
                    .filter(|q| up.contains(q))
                    .collect();
                edges.insert(*p, t);
            }
            assert!(
                connected(&online, &edges),
                "{} online nodes split",
                online.len()
            );
        }
    }
}
