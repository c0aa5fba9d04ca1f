//! A spreadsheet imported again: each row of an [`ImportPlan`] matched by handle against the
//! importing organisation's offers, and what the import would do with it.
//!
//! - A handle the organisation has no live offer under: the row **creates** an offer.
//! - A handle of one of its live offers: the row **updates** that offer, writing only the fields
//!   that differ (`puente_crdt::diff`), or leaves it **unchanged**. Importing the same file
//!   twice therefore changes nothing the second time.
//! - A row refused by the parser stays **rejected** with its reason; a row that names another
//!   organisation in its `owner` column, would change an offer's kind, subject or unit, names
//!   a handle two live offers share, or fails the offer rules is **refused** ([`RowRefusal`]).
//! - When asked, the organisation's live offers whose handle no row names (not even a refused
//!   one) are listed to be **withdrawn**.
//!
//! A dry run shows [`Reconciliation::rows`] and [`Reconciliation::withdrawals`]; a real run
//! hands the same reconciliation to `Replica::apply_import`, so the two cannot disagree.
//!
//! Boundary: pure; the caller passes the organisation, its offers and `now`.

use std::collections::{BTreeMap, BTreeSet};

use puente_crdt::diff::patch_towards;
use puente_crdt::{Field, NewOffer, Offer, OfferId, OfferPatch, OrgId, SchemaError, Time};

use super::csv_import::{ImportPlan, RowError};

/// What an import does with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowAction {
    /// Publishes a new offer.
    Create,
    /// Changes these fields of the offer (in field table order).
    Update {
        /// The offer the row's handle names.
        offer: OfferId,
        /// The fields that differ.
        changed: Vec<Field>,
    },
    /// The offer already matches the row.
    Unchanged {
        /// The offer the row's handle names.
        offer: OfferId,
    },
    /// The parser refused the row (a cell it could not read).
    Rejected(RowError),
    /// The row was read but cannot be applied.
    Refused(RowRefusal),
}

/// Why a row that was read cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowRefusal {
    /// The row's `owner` names another organisation: an import only describes the importing
    /// organisation's own offers.
    #[error("the row belongs to organisation {owner}, not to the importing one")]
    OtherOrganisation {
        /// The organisation the row names.
        owner: OrgId,
    },
    /// The row would change a field an existing offer keeps for life.
    #[error("the row would change the {} of offer {offer}, which never changes", .field.name())]
    Unchangeable {
        /// The offer the row's handle names.
        offer: OfferId,
        /// `kind`, `subject` or `unit`.
        field: Field,
    },
    /// Several live offers of the organisation share the row's handle, so it names none.
    #[error("{offers} offers share the row's handle")]
    SharedHandle {
        /// How many.
        offers: usize,
    },
    /// The offer (or the offer after the update) breaks a rule of the schema.
    #[error(transparent)]
    Invalid(SchemaError),
}

/// One row and what the import does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOutcome {
    /// 1-based line of the row in the file.
    pub line: usize,
    /// Its handle, when it could be read.
    pub handle: Option<String>,
    /// What happens to it.
    pub action: RowAction,
}

/// What an import would write, row by row, and the withdrawals asked for.
#[derive(Debug, Clone, Default)]
pub struct Reconciliation {
    /// Every data row, in file order.
    pub rows: Vec<RowOutcome>,
    /// Live offers of the organisation that no row names, with their handles, sorted by
    /// handle: withdrawn by the import when it was asked to withdraw what is missing.
    pub withdrawals: Vec<(OfferId, String)>,
    /// The offers to publish, in the order of their rows.
    pub creates: Vec<NewOffer>,
    /// The patches to write.
    pub updates: Vec<(OfferId, OfferPatch)>,
}

impl Reconciliation {
    /// Rows rejected or refused.
    pub fn refused(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, RowAction::Rejected(_) | RowAction::Refused(_)))
            .count()
    }

    /// Rows that would change nothing.
    pub fn unchanged(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, RowAction::Unchanged { .. }))
            .count()
    }

    /// Whether applying it writes anything.
    pub fn writes(&self) -> bool {
        !(self.creates.is_empty() && self.updates.is_empty() && self.withdrawals.is_empty())
    }
}

/// Matches the rows of `plan` against `offers` (the organisation `own`'s offers; withdrawn ones
/// are ignored) at `now`. With `withdraw_missing`, the live offers no row names are listed for
/// withdrawal.
pub fn reconcile<'a>(
    plan: ImportPlan,
    own: OrgId,
    offers: impl IntoIterator<Item = &'a Offer>,
    now: Time,
    withdraw_missing: bool,
) -> Reconciliation {
    let mut by_handle: BTreeMap<&str, Vec<&Offer>> = BTreeMap::new();
    for offer in offers {
        if offer.owner == own && !offer.withdrawn {
            by_handle
                .entry(offer.fields.handle.as_str())
                .or_default()
                .push(offer);
        }
    }
    let mut out = Reconciliation::default();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for rejected in plan.rejected {
        named.extend(rejected.handle.clone());
        out.rows.push(RowOutcome {
            line: rejected.line,
            handle: rejected.handle.clone(),
            action: RowAction::Rejected(rejected),
        });
    }
    for (line, mut offer) in plan.offers {
        let handle = offer.fields.handle.clone();
        named.insert(handle.clone());
        let action = match plan.owners.get(&line) {
            Some(owner) if *owner != own => {
                RowAction::Refused(RowRefusal::OtherOrganisation { owner: *owner })
            }
            _ => match offer.validate() {
                Err(e) => RowAction::Refused(RowRefusal::Invalid(e)),
                Ok(()) => match by_handle.get(handle.as_str()).map(Vec::as_slice) {
                    None | Some([]) => {
                        out.creates.push(offer);
                        RowAction::Create
                    }
                    Some([current]) => update(current, &offer, now, &mut out.updates),
                    Some(several) => RowAction::Refused(RowRefusal::SharedHandle {
                        offers: several.len(),
                    }),
                },
            },
        };
        out.rows.push(RowOutcome {
            line,
            handle: Some(handle),
            action,
        });
    }
    out.rows.sort_by_key(|r| r.line);
    if withdraw_missing {
        for (handle, offers) in &by_handle {
            if !named.contains(*handle) {
                out.withdrawals
                    .extend(offers.iter().map(|o| (o.id, (*handle).to_string())));
            }
        }
    }
    out
}

/// The action for a row that names `current`, pushing its patch when there is one.
fn update(
    current: &Offer,
    target: &NewOffer,
    now: Time,
    updates: &mut Vec<(OfferId, OfferPatch)>,
) -> RowAction {
    let offer = current.id;
    match patch_towards(current, target, now) {
        Err(field) => RowAction::Refused(RowRefusal::Unchangeable { offer, field }),
        Ok((_, changed)) if changed.is_empty() => RowAction::Unchanged { offer },
        // The patch's fields and windows are the validated target's, and the partition counts
        // windows after the cancels: it applies as it stands.
        Ok((patch, changed)) => {
            updates.push((offer, patch));
            RowAction::Update { offer, changed }
        }
    }
}

#[cfg(test)]
mod tests;
