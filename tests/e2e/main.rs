//! Workspace-level end-to-end tests: real processes against real stores in temporary
//! directories.

mod crash;
