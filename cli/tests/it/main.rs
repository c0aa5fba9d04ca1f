//! End-to-end tests of the `puente` binary in temporary data directories.
//!
//! One test binary for the package (link time on two cores). Each test shares one initialised
//! data directory across its commands, because Argon2id makes every command cost a noticeable
//! fraction of a second.

mod admin;
mod backup;
mod bad_input;
mod canary;
mod coordinator;
mod daemon;
mod devices;
mod history;
mod identity;
mod import;
mod language;
mod machine_output;
mod network;
mod network_snapshots;
mod offers;
mod queries;
mod relay;
mod revocation;
mod roles;
mod roundtrip;
mod shell;
mod snapshots;
mod spanish;
mod store;
mod support;
mod web;
