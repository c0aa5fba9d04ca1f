//! The node's cryptographic building blocks: [`seal`] (XChaCha20-Poly1305, Argon2id and the
//! operating system's random source), `keybox` (a symmetric key sealed to one device's X25519
//! key, as membership and bundles need) and `labels` (every domain-separation label).
//!
//! Invariant: no other module calls the AEAD, the passphrase KDF or the random source, writes
//! an X25519 + HKDF box by hand, or spells a domain-separation label.
//!
//! Boundary: pure functions over bytes and keys; nothing here touches the disk or the network,
//! reads the clock or logs. What a box or a sealed value is bound to (network, epoch, table,
//! recipient) is decided by its caller.

pub(crate) mod keybox;
pub(crate) mod labels;
pub mod seal;
