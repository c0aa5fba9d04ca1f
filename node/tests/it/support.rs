//! The fixtures of the node's integration tests: those of `puente_node::test_utils` (stores,
//! networks, nodes on loopback, `settle`, `TestNet`), named here once for every module, the
//! sample offer written at [`NOW`], and a check that every node of a `TestNet` holds some
//! offers.

use std::ops::Range;

use puente_crdt::NewOffer;
use puente_crdt::test_utils::sample_offer;

pub use puente_node::test_utils::{
    LOOPBACK, NOW, PASS, TestNet, has, init, listen_addr, network, settle, spawn,
};

/// The sample offer called `handle`, its window starting at [`NOW`].
pub fn offer(handle: &str) -> NewOffer {
    sample_offer(handle, NOW)
}

/// Whether each node in `nodes` of `net` holds exactly the offers `handles` (in their sorted
/// order).
pub async fn all_have(net: &TestNet, nodes: Range<usize>, handles: &[&str]) -> bool {
    let mut ok = true;
    for i in nodes {
        ok &= has(net.node(i), handles).await;
    }
    ok
}
