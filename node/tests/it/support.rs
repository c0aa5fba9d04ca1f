//! The fixtures of the node's integration tests: those of `puente_node::test_utils` (stores,
//! networks, nodes on loopback, `settle`, `TestNet`), named here once for every module, and the
//! sample offer written at [`NOW`].

use puente_crdt::NewOffer;
use puente_crdt::test_utils::sample_offer;

pub use puente_node::test_utils::{
    LOOPBACK, NOW, PASS, TestNet, has, init, listen_addr, network, settle, spawn,
};

/// The sample offer called `handle`, its window starting at [`NOW`].
pub fn offer(handle: &str) -> NewOffer {
    sample_offer(handle, NOW)
}
