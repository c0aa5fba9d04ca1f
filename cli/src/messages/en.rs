//! English.

use std::path::Path;

use puente_node::replica::{RecordKind, WriteRefusal};
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

    fn not_found(&self, what: RecordKind, text: &str) -> String {
        match what {
            RecordKind::Offer => format!(
                "no offer matches `{text}`; list offers with `puente offer list` or `puente query`"
            ),
            RecordKind::Hold => {
                format!("no hold matches `{text}`; list holds with `puente hold list`")
            }
            RecordKind::Window => format!(
                "no window matches `{text}`; see the offer's windows with `puente offer show OFFER_ID`"
            ),
            _ => format!("no {what} matches `{text}`; check the id and try again"),
        }
    }

    fn ambiguous(&self, what: RecordKind, text: &str, count: usize) -> String {
        format!("`{text}` matches {count} {what}s; type more of the id")
    }

    fn damaged(&self, what: &str) -> String {
        format!("stored {what} record is damaged; restore the data directory from a backup")
    }

    fn poisoned(&self) -> String {
        "an earlier write failed; nothing more is accepted until puente is restarted".into()
    }

    fn write(&self, r: &WriteRefusal) -> String {
        match r {
            WriteRefusal::DevicePending => "this device has not joined its organisation yet: on a computer of your organisation run `puente device add`, then here `puente join TOKEN`".into(),
            WriteRefusal::NoEpochKey { .. } => "this device has not received the network's key yet; keep `puente run` running until an admin's node shares it, then try again".into(),
            WriteRefusal::NotOwnOffer { offer, action } => format!(
                "offer {offer} belongs to another organisation; only its owner can {action} it (you can place a hold)"
            ),
            WriteRefusal::OwnOffer { .. } => {
                "this is your own offer; change its windows instead of holding it".into()
            }
            WriteRefusal::OfferWithdrawn { .. } => "that offer was withdrawn by its owner".into(),
            WriteRefusal::WindowCancelled { .. } => "that window was cancelled by its owner".into(),
            WriteRefusal::NoOccurrenceLeft { .. } => {
                "that window has no occurrence left; pick another window".into()
            }
            WriteRefusal::OutsideOccurrence { .. } => {
                "the hold's --from/--to must fall inside one occurrence of the window".into()
            }
            WriteRefusal::NotRequester { .. } => {
                "only the organisation that placed a hold can release it; as the owner, decline it"
                    .into()
            }
            WriteRefusal::NotOfferOwner { .. } => {
                "only the organisation that owns the offer can confirm or decline a hold on it"
                    .into()
            }
            _ => r.to_string(),
        }
    }
}
