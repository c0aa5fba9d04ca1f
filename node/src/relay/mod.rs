//! The relay: a small service that member nodes reach when they cannot dial each other
//! (libp2p circuit relay v2), and a blind mailbox that holds sealed entries for partners who
//! are never online together. It holds no membership log, no organisation name and no offer:
//! only transport keys, ciphertext and what a server sees of traffic (`docs/threat-model.md`).

pub mod access;
pub mod client;
pub mod entry;
pub mod service;
pub mod store;
pub mod wire;
