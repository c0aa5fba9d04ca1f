//! English.

use std::path::Path;

use puente_node::store::StoreError;

use super::Messages;

/// The English sentences.
#[derive(Debug, Clone, Copy)]
pub struct English;

impl Messages for English {
    fn io(&self, e: &std::io::Error) -> String {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::NotFound => "no such file or directory".into(),
            K::PermissionDenied => "permission denied".into(),
            K::AlreadyExists => "it already exists".into(),
            K::IsADirectory => "it is a directory".into(),
            K::StorageFull => "the disk is full".into(),
            _ => e.to_string(),
        }
    }

    fn nothing_said(&self) -> String {
        "something went wrong; run again with RUST_LOG=debug for details".into()
    }

    fn store(&self, e: &StoreError, dir: &Path) -> Option<String> {
        let d = dir.display();
        Some(match e {
            StoreError::NotFound { .. } => format!(
                "no puente data in {d}; run `puente init --org NAME` first, or point --data-dir at your data"
            ),
            StoreError::AlreadyExists { .. } => {
                format!(
                    "{d} already holds a puente store; choose another directory with --data-dir"
                )
            }
            StoreError::WrongPassphrase => format!(
                "wrong passphrase for the store in {d} (or its header was altered); check PUENTE_PASSPHRASE or --passphrase-file and try again"
            ),
            StoreError::Locked { .. } => format!(
                "a puente node is already running on {d} (or another puente command is using it); stop that node or let the command finish, then try again"
            ),
            StoreError::Io { path, source } => format!(
                "cannot access {}: {}; check the data directory and try again",
                path.display(),
                self.io(source)
            ),
            _ => return None,
        })
    }

    fn no_window(&self, text: &str) -> String {
        format!(
            "no window matches `{text}`; see the offer's windows with `puente offer show OFFER_ID`"
        )
    }
}
