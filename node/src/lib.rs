//! A puente node: the device identity, the encrypted store, signed and encrypted change
//! envelopes, and the replica that keeps them consistent with the shared document.
//!
//! Boundary: no libp2p, redb or chacha20poly1305 type appears in this crate's public API; the
//! CLI compiles without naming them. Only [`store`] touches the disk, and only [`crypto`] calls
//! the AEAD and the passphrase KDF.

pub mod actor;
mod codec;
pub mod crypto;
pub mod envelope;
pub mod identity;
pub mod interchange;
pub mod invite;
pub mod joiner;
pub mod keys;
pub mod membership;
pub mod net;
pub mod relay;
pub mod replica;
pub mod store;
pub mod sync;
#[cfg(feature = "test-utils")]
pub mod test_utils;

/// The sealing primitives' old path, `puente_node::seal`, kept for callers outside the crate;
/// their home is [`crypto::seal`].
pub use crypto::seal;
