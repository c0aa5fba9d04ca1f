//! The sans-I/O sync state machine: one [`PeerSync`] per connected peer decides what to send
//! and what to apply; the actor performs its [`Effect`]s (see `docs/network.md`, "Sync", and
//! "Sync protocol v1" in `docs/formats.md` for the bytes).
//!
//! This module owns the session protocol, its limits and its bookkeeping of what each peer has.
//! It must not do I/O, read the clock or a random source (time is passed in as a monotonic
//! [`Duration`] since an origin the actor picks), verify signatures, or interpret membership
//! operations: ops are opaque byte strings with opaque 32-byte ids ([`OpId`]), envelopes are
//! opaque except for the author and sequence number in their header, snapshots except for the
//! cover in theirs. What the node has is read through the [`Source`] trait the actor implements
//! over the replica and the membership log.
//!
//! # Protocol
//! 1. `Hello { network, heads, vector }` both ways (the frame's first byte is the protocol
//!    version). A Hello with `reply = false` asks for an answer; the first one to cross ours
//!    needs none, later ones (a retransmission: the peer did not hear us) are answered with
//!    `reply = true`, which is never answered, so Hellos cannot loop.
//! 2. Membership first: while the peer's heads differ from ours, send `Ops` (what
//!    [`Source::ops_missing_from`] returns for its heads) and hold envelopes until acked.
//! 3. Envelopes per author in sequence order from what the peer is known to have, in batches
//!    bounded by [`MAX_BATCH_ENVELOPES`] and [`MAX_BATCH_BYTES`]; at most
//!    [`MAX_IN_FLIGHT_BATCHES`] unacknowledged. The receiver answers each batch, once the actor
//!    applied it ([`Input::Applied`]), with `Ack { batch, heads, vector }`: its state after
//!    applying, which is both the acknowledgement and the flow control.
//! 4. A far-behind peer gets a signed partition snapshot ([`Source::snapshots`]) first, when
//!    it covers at least [`SNAPSHOT_MIN_BEHIND`] envelopes the peer lacks, or when the peer
//!    holds none of the envelopes it covers and the snapshot is at least
//!    [`SNAPSHOT_FRESH_MIN_BYTES`] long (far behind by content: a coordinator's import of
//!    10 000 offers is only 11 envelopes). So does a peer behind by fewer on a covered author
//!    when this node cannot send the envelope it needs next ([`Source::envelopes_after`]
//!    offers nothing): a node that caught up from a snapshot holds none of the envelopes it
//!    covers, and relays the snapshot instead, so the peer does not wait for a node that holds
//!    them. Envelopes this node holds go first; the snapshot follows once they are
//!    acknowledged and the next one is missing.
//! 5. Afterwards [`Input::LocalChanged`] (a local write, or anything applied from another
//!    peer: that is the relay) pushes what the peer lacks.
//!
//! What the session knows a peer has, per author, is the maximum of: its Hello and Acks
//! (`confirmed`), what it sent us (it holds whatever it sends, a snapshot's whole cover
//! included, so a relayed snapshot is never sent back), what we sent it and is not yet
//! acknowledged (`sent`), and hints (below). Nothing at or below that is ever sent. When every
//! batch is acknowledged and the peer still lacks some of what we sent, we send it again from
//! its acknowledged state if it made progress for that author, and otherwise mark the author
//! stuck for that peer (it refuses those envelopes: no epoch key, no authority yet...) until its
//! state changes: so a refusing peer cannot make us loop. Lost frames are recovered on
//! [`Input::Tick`]: an unanswered Hello is resent, and batches unacknowledged for
//! [`RETRANSMIT_AFTER`] are forgotten and sent again from the acknowledged state.
//!
//! # Relay and message count
//! A node pushes its own new envelopes to every connected peer, and names those peers in the
//! batch (`direct`). A receiver reports them as [`Effect::Hint`]; the actor passes each to the
//! session with that peer ([`Input::Hinted`]), which then counts the author's envelopes up to
//! that number as known, so it does not relay them. Other envelopes (third parties') are
//! relayed to every peer whose known state lacks them. Hence one new envelope in a full mesh
//! of n nodes costs (n − 1) `Envelopes` + (n − 1) `Ack` frames: **18 for n = 10** (the test
//! `full_mesh_of_ten_one_edit_costs_at_most_36_messages` prints the measured figure), instead of
//! n − 1 more per receiver without hints (90). On a line A–B–C it costs 2 per hop.
//!
//! A hint is accepted only for envelopes authored by the peer that sent them, so a peer can
//! only suppress relays of its own envelopes, which it could as well have never sent. A hint
//! can be wrong when the author's session to a named peer ends before delivering; repairs:
//! the actor calls [`Input::Refresh`] on every other session when a session ends (a
//! `Hello { reply: true }`, which replaces hints with the sender's real state), every new
//! session starts with a Hello, and each session re-announces its state every
//! [`ANTI_ENTROPY_INTERVAL`] if it changed (at most one small frame per peer per interval,
//! shared by all edits in it). Membership ops are rare and are relayed without hints.
//!
//! A peer that lost its data (restored a backup, or was wiped) starts a new session whose Hello
//! shows less: it is sent everything again from there; nothing loops, since every frame sent
//! moves its known state forward.
//!
//! # Misbehaviour
//! Oversized or undecodable frames, another protocol version, another network, a batch over the
//! limits, more unapplied batches than [`MAX_PENDING_APPLY`], an Ack for a batch never sent, and
//! data the actor found invalid ([`Input::Applied`] with `invalid > 0`) end the session with
//! `Bye` and [`Effect::Disconnect`] carrying a [`Penalty`]. Claims in a peer's vector that we
//! cannot check (it may hold more than us, from third parties or because we lost data) are not
//! misbehaviour. Memory per session is bounded: vectors by [`MAX_VECTOR_ENTRIES`], heads by
//! [`MAX_HEADS`], in-flight and unapplied batches by their limits.
//!
//! Deliberately absent: snapshot chunking (a snapshot over [`MAX_SNAPSHOT_BYTES`] is not
//! offered; the peer gets envelopes), and `SnapshotOffer`: the sender decides from the peer's
//! vector, and a receiver that cannot use a snapshot acknowledges it unchanged and then gets
//! envelopes (a snapshot is sent at most once per session).

mod peer;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::envelope::admission::MAX_PENDING_AHEAD;
use crate::envelope::format::{ENVELOPE_HEADER_LEN, MAX_ENVELOPE_BODY, SIGNATURE_LEN};
use crate::identity::PublicKey;
use crate::keys::NetworkId;

pub use peer::{ApplyToken, Effect, Input, PeerStatus, PeerSync, Penalty};
pub use wire::{Ack, ByeReason, DecodeError, Hello, Message};

/// Per author key, the highest contiguous sequence number held (authors with none are absent).
pub type Vector = BTreeMap<PublicKey, u64>;

/// The opaque id of a membership operation (the membership log's hash of it).
pub type OpId = [u8; 32];

/// Version byte that starts every frame. A change to any message layout is a new version.
pub const PROTOCOL_VERSION: u8 = 1;

/// Longest envelope (format v1): header, the largest ciphertext, signature.
pub const MAX_ENVELOPE_LEN: usize =
    ENVELOPE_HEADER_LEN + MAX_ENVELOPE_BODY as usize + SIGNATURE_LEN;

/// Largest frame accepted: 8 MiB holds a batch with one maximal envelope (4 MiB) with room to
/// spare, and a snapshot of a partition with many thousands of offers, while bounding what one
/// frame from a peer can make a node allocate. The transport enforces it too.
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;

/// Most envelopes in one batch: 256 keeps an Ack per a few hundred small envelopes, and four
/// batches in flight (1024) fit the receiver's reorder window (`MAX_PENDING_AHEAD`), so batches
/// that arrive out of order are buffered, not refused.
pub const MAX_BATCH_ENVELOPES: usize = 256;

/// Most envelope bytes in one batch unless it holds a single envelope (which may be up to
/// [`MAX_ENVELOPE_LEN`]): 1 MiB is thousands of ordinary changes, and with
/// [`MAX_IN_FLIGHT_BATCHES`] bounds the bytes in flight to a peer to 4 MiB in the common case.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// Most membership operations in one batch: membership changes are rare and small.
pub const MAX_BATCH_OPS: usize = 256;

/// Most unacknowledged batches to one peer: enough to keep a link busy while the receiver
/// applies (a batch is applied in milliseconds), few enough to bound bytes in flight.
pub const MAX_IN_FLIGHT_BATCHES: usize = 4;

/// Most entries in a version vector: one per author key (device), far more than a network of
/// hundreds of organisations has; bounds a Hello or Ack to 160 KiB.
pub const MAX_VECTOR_ENTRIES: usize = 4096;

/// Most membership heads in a message: heads are concurrent membership branches, a handful in
/// practice. A node with more sends the first ones; the peer may then get some ops twice.
pub const MAX_HEADS: usize = 256;

/// Most peers named in a batch's `direct` list: a node with more connected peers names the
/// first ones, and the others are relayed to (more messages, never less delivery).
pub const MAX_DIRECT_PEERS: usize = 256;

/// Largest snapshot sent in one frame: what fits in [`MAX_FRAME_BYTES`] after the header.
pub const MAX_SNAPSHOT_BYTES: usize = MAX_FRAME_BYTES - 64;

/// Most batches received but not yet reported applied: an honest peer has at most
/// [`MAX_IN_FLIGHT_BATCHES`] unacknowledged, twice that allows for one retransmission round.
pub const MAX_PENDING_APPLY: usize = 2 * MAX_IN_FLIGHT_BATCHES;

/// How long a batch or Hello may stay unanswered before it is taken as lost and sent again:
/// long enough for four maximal batches over a slow link, short enough to recover from a
/// dropped request within a minute.
pub const RETRANSMIT_AFTER: Duration = Duration::from_secs(60);

/// How often a session re-announces its state if it changed: repairs wrong relay hints within
/// minutes at the cost of at most one small frame per peer per interval.
pub const ANTI_ENTROPY_INTERVAL: Duration = Duration::from_secs(300);

/// How many envelopes a peer must lack from those a snapshot covers before it is sent the
/// snapshot instead: below that, envelopes cost about as much and need no extra trust. (A peer
/// that lacks fewer gets the snapshot anyway when this node cannot send them, or when it holds
/// none of them and the snapshot is large: [`SNAPSHOT_FRESH_MIN_BYTES`].)
pub const SNAPSHOT_MIN_BEHIND: u64 = 1024;

/// Encoded length from which a snapshot goes to a peer that holds none of the envelopes it
/// covers, however few envelopes those are. Counting envelopes misjudges imports: 10 000
/// offers arrive as 11 envelopes (1 000 offers per change), which the receiver applies change
/// by change (automerge's `apply_changes`, then working out what each touched), while the
/// snapshot's document is loaded in one columnar pass (about half the time of applying the
/// same changes) and adopted whole by a receiver whose partition is empty. For a peer that
/// holds nothing of the author the snapshot resends nothing it has, so it costs no more bytes
/// than the envelopes (both are deflated). Holding *some* envelopes is left to the count rule:
/// the snapshot would resend them, and the receiver then merges it change by change. Below
/// 64 KiB (about 1 000 offers as a snapshot, deflated) the envelopes are applied in well under
/// a tenth of a second, and are worth more to the peer than the snapshot: it can relay them
/// and carry them in bundles, which it cannot do with envelopes it never held.
pub const SNAPSHOT_FRESH_MIN_BYTES: usize = 64 * 1024;

const _: () =
    assert!(MAX_IN_FLIGHT_BATCHES as u64 * MAX_BATCH_ENVELOPES as u64 <= MAX_PENDING_AHEAD);
const _: () = assert!(
    MAX_ENVELOPE_LEN + MAX_DIRECT_PEERS * 32 + MAX_BATCH_ENVELOPES * 4 + 64 < MAX_FRAME_BYTES
);
const _: () = assert!(MAX_BATCH_BYTES + MAX_BATCH_OPS * 4 + 64 < MAX_FRAME_BYTES);
const _: () = assert!(MAX_VECTOR_ENTRIES * 40 + MAX_HEADS * 32 + 64 < MAX_FRAME_BYTES);
// Counts are u16 on the wire.
const _: () = assert!(MAX_VECTOR_ENTRIES <= u16::MAX as usize);
const _: () = assert!(MAX_HEADS <= u16::MAX as usize);

/// A signed partition snapshot this node can hand to a far-behind peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Its digest (identifies it within a session).
    pub id: [u8; 32],
    /// The version vector it covers.
    pub covers: Vector,
    /// Its encoded length.
    pub len: usize,
}

/// What this node has, read-only: the actor implements it over the replica, the membership log
/// and its table of connected peers. A session trusts nothing it returns blindly: it checks
/// lengths, authors and sequence numbers and sends only what fits.
pub trait Source {
    /// The network this node belongs to.
    fn network(&self) -> NetworkId;

    /// Per author, the highest contiguous sequence number held (the replica's vector).
    fn version_vector(&self) -> Vector;

    /// The membership log's current heads.
    fn membership_heads(&self) -> Vec<OpId>;

    /// Membership ops a peer with `their_heads` lacks, in causal order (parents first): those
    /// not in the causal past of any of `their_heads` this node knows (unknown ids are
    /// ignored). At most `max_count` ops and `max_bytes` bytes; the first ones in that order.
    fn ops_missing_from(
        &self,
        their_heads: &[OpId],
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<Vec<u8>>;

    /// The held envelopes of `author` with sequence numbers `after + 1, after + 2, ...`, in
    /// order and contiguous, at most `max_count` of them and `max_bytes` bytes in all.
    fn envelopes_after(
        &self,
        author: &PublicKey,
        after: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<Vec<u8>>;

    /// Device keys of the peers this node has a sync session with now: named in the `direct`
    /// list of batches carrying this node's own envelopes (see the module docs).
    fn connected_peers(&self) -> Vec<PublicKey>;

    /// Signed partition snapshots this node can send; none by default.
    fn snapshots(&self) -> Vec<SnapshotInfo> {
        Vec::new()
    }

    /// The bytes of a snapshot listed by [`Source::snapshots`].
    fn snapshot_bytes(&self, _id: &[u8; 32]) -> Option<Vec<u8>> {
        None
    }
}
