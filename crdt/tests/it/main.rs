//! Integration tests of `puente-crdt`: one binary (STYLE.md) with one module per law.
//!
//! - `devices`: withdrawal and cancellation win, and partitions converge, whatever several
//!   devices of one organisation do offline and in whatever order their changes arrive.
//! - `holds`: hold verdicts and availability are the same under every merge order, and the
//!   greedy rule never promises more than a window holds.
//! - `query`: what coordinators ask, on a small hand-built data set.
//! - `malformed`: hostile or newer records are reported, never a panic or an invalid offer.
//! - `touched`: refreshing a view from what `apply_changes` reports touched gives the view a
//!   full rebuild gives, for random batches of edits from several devices.

mod devices;
mod holds;
mod inbox;
mod malformed;
mod query;
mod support;
mod touched;
mod windows;
