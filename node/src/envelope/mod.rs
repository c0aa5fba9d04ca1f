//! Signed, encrypted change envelopes and partition snapshots (formats v1, see
//! `docs/formats.md`), and [`Admission`], which decides which envelopes may be applied and in
//! what order:
//!
//! - `format`: the change envelope format ([`Envelope`]), [`EnvelopeError`], and what the
//!   snapshot format shares with it;
//! - `admission`: [`Admission`] and the [`Authority`] it asks;
//! - `snapshot`: the partition snapshot format ([`Snapshot`]);
//! - `chunk`: automerge chunks read without automerge, to bound what automerge is asked to
//!   parse.
//!
//! The network id, epochs and epoch keys these formats name live in [`crate::keys`]; they are
//! re-exported here so that `puente_node::envelope::NetworkId` and its siblings keep working.
//!
//! Invariant: automerge parses a change from an envelope only after `chunk` found it
//! uncompressed and, with the envelope's other changes, within [`MAX_ENVELOPE_ROWS`] rows; every
//! length and count read from input is checked against a bound before anything is allocated,
//! and no input can make this module panic.
//!
//! Boundary: sans-I/O. This module owns the byte layouts, their bounds, the signature and AEAD
//! checks and the per-author sequence bookkeeping. It must not touch the disk or the network,
//! read the clock, or interpret automerge changes beyond their layout as `chunk` reads it (chunk
//! header, column metadata, run lengths: enough to refuse compressed changes and run-length
//! bombs before automerge parses them; the replica decides whether the changes really only
//! touch the envelope's partition).

pub(crate) mod admission;
pub(crate) mod chunk;
#[cfg(test)]
mod fixture;
pub(crate) mod format;
pub(crate) mod snapshot;

pub use admission::{
    Accepted, Admission, Admitted, Authority, MAX_PENDING_AHEAD, MAX_PENDING_BYTES,
    MAX_PENDING_BYTES_PER_AUTHOR,
};
pub use format::{
    BuildsOn, ENVELOPE_HEADER_LEN, Envelope, EnvelopeError, FORMAT_VERSION, MAX_BUILDS_ON,
    MAX_CHANGES_PER_ENVELOPE, MAX_ENVELOPE_BODY, MAX_ENVELOPE_ROWS, MAX_SEQ, Opened,
    RECORD_CHANGES, SIGNATURE_LEN,
};
pub use snapshot::{
    MAX_SNAPSHOT_BODY, MAX_SNAPSHOT_COVERS, MAX_SNAPSHOT_HEADS, RECORD_SNAPSHOT, Snapshot,
};

pub use crate::keys::{Epoch, EpochKey, EpochKeyring, EpochKeys, NetworkId, NetworkIdError};
