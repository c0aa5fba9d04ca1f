//! The shared document of puente: a typed schema over automerge, the rules every record obeys,
//! the union view over every organisation's partition, hold verdicts and queries, and the one
//! table of an offer's fields that every import, export and listing reads.
//!
//! Boundary: this crate does no I/O and never reads a clock or a random source. It knows
//! nothing of the network, the disk or encryption; the node crate passes in ids, times and
//! verified changes, and stores what this crate produces.

pub mod diff;
pub mod fields;
pub mod ids;
pub mod inbox;
pub mod label;
pub mod partition;
pub mod schema;
#[cfg(feature = "test-utils")]
pub mod test_utils;
pub mod time;
pub mod view;
pub mod vocab;

pub use automerge;
pub use fields::{Field, FieldValue, PublicOffer, Record};
pub use ids::{HoldId, IdError, OfferId, OrgId, WindowId};
pub use inbox::{ExpiringOffer, Inbox, inbox};
pub use partition::{Contents, Partition, PartitionError, RecordIssue, Touched};
pub use schema::{
    County, Hold, Language, LanguageQuery, NewOffer, NewWindow, Offer, OfferFields, OfferPatch,
    OrgProfile, Rule, SchemaError, Window,
};
pub use time::Time;
pub use view::{Hit, HoldStatus, HoldView, Query, View};
pub use vocab::*;
