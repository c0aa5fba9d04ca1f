//! Integration tests of a node's replica: real stores in temporary directories, real envelopes.

mod bundle;
mod erasure;
mod limits;
mod prune;
mod replica;
mod restore;
mod rollback;
mod snapshot;
mod support;

mod network;
mod relay;
mod revocation;
mod testnet;
