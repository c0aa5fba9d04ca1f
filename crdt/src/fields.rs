//! The one definition of an offer's fields. For each field, [`FIELDS`] says its name (the JSON
//! key and the CSV column: one spelling, so a script can switch formats without renaming), what
//! kind of value it holds, whether and how the CSV import reads it, what the public HSDS export
//! does with it, and how to read it from a typed [`Offer`]. Every import, export and listing
//! reads this table instead of spelling the fields out again.
//!
//! Three column lists pick and order fields for the three record shapes puente writes:
//! - [`IMPORT_COLUMNS`]: the CSV import format, which the CSV export also writes so that an
//!   export can be edited and imported again;
//! - [`LISTING_COLUMNS`]: an offer as `puente offer list`, `offer show` and `query` write it,
//!   in JSON and in CSV;
//! - [`EXPORT_COLUMNS`]: an offer in the JSON export.
//!
//! A column list names [`Field`]s; it never spells a name. The import's is the one published
//! order that differs from the table's; the other two are the table less a few fields.
//! [`PublicOffer`] is the part of an offer the HSDS export may read, and holds exactly the
//! fields the table marks publishable.
//!
//! Invariant: names are distinct, lowercase snake_case, and never change: they are the keys
//! and headers of files partners keep and scripts read. A new field is a new variant and a
//! new row here; it then appears in listings and the JSON export, and in the import once it is
//! added to [`IMPORT_COLUMNS`]. Renaming one is a documented format change. The automerge
//! document keeps its own keys (`partition.rs`): that is the stored format, not this table.
//!
//! Boundary: pure. Values come from the offer and from the [`Record`] context the caller passes
//! (the owner's name and intake route from its profile, and `now`); nothing here reads a clock,
//! a file or the network. The import format's own spellings (languages without the default
//! mode, windows as local date-times, the formula guard on labels) belong to the import and
//! export code in `puente-node`, which reads and writes them as a pair.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::ids::{OfferId, OrgId};
#[cfg(doc)]
use crate::schema::OfferFields;
use crate::schema::{County, Language, Offer, Window};
use crate::time::{Time, format_duration};
use crate::view::EXPIRY_GRACE_SECS;
use crate::vocab::{Accepts, Affirming, Kind, StatusHint, Unit};

/// A field of an offer record. Its properties are [`FIELDS`]`[field as usize]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Field {
    /// [`Offer::id`].
    OfferId,
    /// [`Offer::owner`].
    Owner,
    /// The owner's display name, from its profile.
    OwnerName,
    /// The owner's intake route, from its profile.
    Intake,
    /// [`OfferFields::kind`].
    Kind,
    /// [`OfferFields::handle`].
    Handle,
    /// [`OfferFields::subject`].
    Subject,
    /// [`OfferFields::counties`].
    Counties,
    /// [`OfferFields::zone`].
    Zone,
    /// [`OfferFields::languages`].
    Languages,
    /// [`OfferFields::accepts`].
    Accepts,
    /// [`OfferFields::affirming`].
    Affirming,
    /// [`OfferFields::accessibility`].
    Accessibility,
    /// [`OfferFields::household`].
    Household,
    /// [`OfferFields::capabilities`].
    Capabilities,
    /// [`OfferFields::unit`].
    Unit,
    /// [`Offer::windows`].
    Windows,
    /// [`OfferFields::lead_time`].
    LeadTime,
    /// [`OfferFields::max_stay`].
    MaxStay,
    /// [`OfferFields::vetting`].
    Vetting,
    /// [`OfferFields::status`].
    Status,
    /// The time left until [`Offer::expires_at`], at the writer's `now`.
    ExpiresIn,
    /// [`OfferFields::bond_band`].
    BondBand,
    /// [`OfferFields::post_within`].
    PostWithin,
    /// [`OfferFields::label`].
    Label,
    /// [`Offer::created_at`].
    CreatedAt,
    /// [`Offer::last_confirmed_at`].
    LastConfirmedAt,
    /// [`Offer::expires_at`].
    ExpiresAt,
    /// [`Offer::withdrawn`].
    Withdrawn,
    /// Whether the offer is past its expiry at the writer's `now` ([`is_expired`]).
    Expired,
}

/// What kind of value a field holds, which fixes how every format writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// An id, as its base32 text.
    Id,
    /// Text an organisation wrote into its profile (its name, its intake route).
    ProfileText,
    /// A slug chosen by the owner: lowercase letters, digits and dashes.
    Slug,
    /// One term of a closed vocabulary.
    Term,
    /// A set of terms (vocabulary terms or county FIPS codes): a JSON array, `;`-joined in CSV.
    Terms,
    /// Languages with modes, each written `tag:mode`.
    Languages,
    /// The short free-text label, checked before it is shared.
    Label,
    /// A duration in seconds, written like `48h`.
    Duration,
    /// An instant, written in RFC 3339 (UTC).
    Time,
    /// Yes or no.
    Flag,
    /// Windows of availability.
    Windows,
}

/// Whether and how the CSV import reads a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Import {
    /// Not a column of the import format.
    No,
    /// A column a file may leave out or leave empty.
    Optional,
    /// A column every header must name: without it no row could form a valid offer.
    Required,
}

/// What the public HSDS export does with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hsds {
    /// Written into the public document (possibly reworded: the handle is the service name).
    Published,
    /// Appears only through a derived one-way UUID.
    Hashed,
    /// Decides whether or how much is published, and is never written itself.
    Gate,
    /// Never leaves the network through HSDS.
    Withheld,
}

/// Everything the formats need to know about one field.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field this row describes.
    pub field: Field,
    /// Its JSON key and CSV column.
    pub name: &'static str,
    /// What kind of value it holds.
    pub kind: FieldKind,
    /// Whether the CSV import reads it.
    pub import: Import,
    /// What the HSDS export does with it.
    pub hsds: Hsds,
    read: fn(Record<'_>) -> FieldValue<'_>,
}

const fn spec(
    field: Field,
    name: &'static str,
    kind: FieldKind,
    import: Import,
    hsds: Hsds,
    read: fn(Record<'_>) -> FieldValue<'_>,
) -> FieldSpec {
    FieldSpec {
        field,
        name,
        kind,
        import,
        hsds,
        read,
    }
}

fn text(s: &str) -> FieldValue<'_> {
    FieldValue::Text(Cow::Borrowed(s))
}

fn term(t: &'static str) -> FieldValue<'static> {
    FieldValue::Text(Cow::Borrowed(t))
}

fn terms<'a>(items: impl Iterator<Item = &'a str>) -> FieldValue<'a> {
    FieldValue::Terms(items.map(Cow::Borrowed).collect())
}

fn duration(v: Option<i64>) -> FieldValue<'static> {
    v.map_or(FieldValue::Absent, FieldValue::Duration)
}

/// Every field, in the order of [`Field`]; `FIELDS[f as usize].field == f`.
pub const FIELDS: [FieldSpec; 30] = {
    use FieldKind as K;
    use Hsds::{Gate, Hashed, Published, Withheld};
    use Import::{No, Optional, Required};
    [
        spec(Field::OfferId, "offer_id", K::Id, No, Hashed, |r| {
            FieldValue::Text(Cow::Owned(r.offer.id.to_string()))
        }),
        spec(Field::Owner, "owner", K::Id, Optional, Hashed, |r| {
            FieldValue::Text(Cow::Owned(r.offer.owner.to_string()))
        }),
        spec(
            Field::OwnerName,
            "owner_name",
            K::ProfileText,
            No,
            Published,
            |r| text(r.owner_name),
        ),
        spec(Field::Intake, "intake", K::ProfileText, No, Withheld, |r| {
            text(r.intake)
        }),
        spec(Field::Kind, "kind", K::Term, Required, Published, |r| {
            term(r.offer.fields.kind.as_str())
        }),
        spec(Field::Handle, "handle", K::Slug, Required, Published, |r| {
            text(&r.offer.fields.handle)
        }),
        spec(Field::Subject, "subject", K::Term, Required, Gate, |r| {
            term(r.offer.fields.subject.as_str())
        }),
        spec(
            Field::Counties,
            "counties",
            K::Terms,
            Required,
            Published,
            |r| terms(r.offer.fields.counties.iter().map(County::as_str)),
        ),
        spec(Field::Zone, "zone", K::Slug, Optional, Withheld, |r| {
            r.offer
                .fields
                .zone
                .as_deref()
                .map_or(FieldValue::Absent, text)
        }),
        spec(
            Field::Languages,
            "languages",
            K::Languages,
            Optional,
            Published,
            |r| FieldValue::Languages(&r.offer.fields.languages),
        ),
        spec(
            Field::Accepts,
            "accepts",
            K::Terms,
            Optional,
            Published,
            |r| terms(r.offer.fields.accepts.iter().map(|t| t.as_str())),
        ),
        spec(
            Field::Affirming,
            "affirming",
            K::Terms,
            Optional,
            Published,
            |r| terms(r.offer.fields.affirming.iter().map(|t| t.as_str())),
        ),
        spec(
            Field::Accessibility,
            "accessibility",
            K::Terms,
            Optional,
            Withheld,
            |r| terms(r.offer.fields.accessibility.iter().map(|t| t.as_str())),
        ),
        spec(
            Field::Household,
            "household",
            K::Terms,
            Optional,
            Withheld,
            |r| terms(r.offer.fields.household.iter().map(|t| t.as_str())),
        ),
        spec(
            Field::Capabilities,
            "capabilities",
            K::Terms,
            Optional,
            Withheld,
            |r| terms(r.offer.fields.capabilities.iter().map(|t| t.as_str())),
        ),
        spec(Field::Unit, "unit", K::Term, Required, Published, |r| {
            term(r.offer.fields.unit.as_str())
        }),
        spec(
            Field::Windows,
            "windows",
            K::Windows,
            Optional,
            Published,
            |r| {
                let mut w: Vec<&Window> = r.offer.windows.iter().collect();
                w.sort_by_key(|w| (w.start, w.end, w.id));
                FieldValue::Windows(w)
            },
        ),
        spec(
            Field::LeadTime,
            "lead_time",
            K::Duration,
            Optional,
            Withheld,
            |r| duration(r.offer.fields.lead_time),
        ),
        spec(
            Field::MaxStay,
            "max_stay",
            K::Duration,
            Optional,
            Withheld,
            |r| duration(r.offer.fields.max_stay),
        ),
        spec(
            Field::Vetting,
            "vetting",
            K::Term,
            Required,
            Withheld,
            |r| term(r.offer.fields.vetting.as_str()),
        ),
        spec(Field::Status, "status", K::Term, Optional, Published, |r| {
            term(r.offer.fields.status.as_str())
        }),
        spec(
            Field::ExpiresIn,
            "expires_in",
            K::Duration,
            Optional,
            Withheld,
            |r| {
                // Whole minutes or more; less than a minute left reads as no time left.
                let left = r.now.map(|now| r.offer.expires_at.0.saturating_sub(now.0));
                duration(left.filter(|l| *l >= 60))
            },
        ),
        spec(
            Field::BondBand,
            "bond_band",
            K::Term,
            Optional,
            Withheld,
            |r| {
                r.offer
                    .fields
                    .bond_band
                    .map_or(FieldValue::Absent, |b| term(b.as_str()))
            },
        ),
        spec(
            Field::PostWithin,
            "post_within",
            K::Duration,
            Optional,
            Withheld,
            |r| duration(r.offer.fields.post_within),
        ),
        spec(Field::Label, "label", K::Label, Optional, Published, |r| {
            text(&r.offer.fields.label)
        }),
        spec(Field::CreatedAt, "created_at", K::Time, No, Withheld, |r| {
            FieldValue::Time(r.offer.created_at)
        }),
        spec(
            Field::LastConfirmedAt,
            "last_confirmed_at",
            K::Time,
            No,
            Published,
            |r| FieldValue::Time(r.offer.last_confirmed_at),
        ),
        spec(Field::ExpiresAt, "expires_at", K::Time, No, Gate, |r| {
            FieldValue::Time(r.offer.expires_at)
        }),
        spec(Field::Withdrawn, "withdrawn", K::Flag, No, Gate, |r| {
            FieldValue::Flag(r.offer.withdrawn)
        }),
        spec(Field::Expired, "expired", K::Flag, No, Gate, |r| {
            r.now.map_or(FieldValue::Absent, |now| {
                FieldValue::Flag(is_expired(r.offer, now))
            })
        }),
    ]
};

/// The columns of the CSV import format, in the order the CSV export writes them. `owner`
/// comes last: an export names each offer's organisation there, and an import refuses a row
/// that names another organisation than the importing one (it may only describe its own).
pub const IMPORT_COLUMNS: [Field; 22] = {
    use Field::*;
    [
        Handle,
        Kind,
        Subject,
        Counties,
        Zone,
        Languages,
        Accepts,
        Affirming,
        Accessibility,
        Household,
        Capabilities,
        Unit,
        Windows,
        LeadTime,
        MaxStay,
        Vetting,
        Status,
        ExpiresIn,
        Label,
        BondBand,
        PostWithin,
        Owner,
    ]
};

/// The fields of an offer as `offer list`, `offer show` and `query` write it (JSON and CSV):
/// every field but the windows (a listing writes them with their next occurrence, from the
/// view) and `expires_in` (an import column), in table order.
pub const LISTING_COLUMNS: [Field; 28] = all_but(&[Field::Windows, Field::ExpiresIn]);

/// The fields of an offer in the JSON export: every field but those relative to the writer's
/// clock (`expires_in`, `expired`). JSON keys are written in name order, so this order is
/// the table's and carries no meaning.
pub const EXPORT_COLUMNS: [Field; 28] = all_but(&[Field::ExpiresIn, Field::Expired]);

/// Every field except `skip`, in table order. `N` must be how many remain; any other value
/// fails to compile where the constant is defined.
const fn all_but<const N: usize>(skip: &[Field]) -> [Field; N] {
    let mut out = [Field::OfferId; N];
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        let f = FIELDS[i].field;
        let mut skipped = false;
        let mut j = 0;
        while j < skip.len() {
            skipped |= skip[j] as usize == f as usize;
            j += 1;
        }
        if !skipped {
            assert!(n < N, "more fields remain than N");
            out[n] = f;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "fewer fields remain than N");
    out
}

impl Field {
    /// Every field, in declaration order.
    pub const ALL: [Field; 30] = {
        let mut out = [Field::OfferId; 30];
        let mut i = 0;
        while i < FIELDS.len() {
            out[i] = FIELDS[i].field;
            i += 1;
        }
        out
    };

    /// This field's row of [`FIELDS`].
    pub const fn spec(self) -> &'static FieldSpec {
        &FIELDS[self as usize]
    }

    /// Its JSON key and CSV column.
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// Its value in `record`.
    pub fn read(self, record: Record<'_>) -> FieldValue<'_> {
        (self.spec().read)(record)
    }

    /// Its 0-based position in [`IMPORT_COLUMNS`], or `None` if the import does not read it.
    pub const fn import_position(self) -> Option<usize> {
        let mut i = 0;
        while i < IMPORT_COLUMNS.len() {
            if IMPORT_COLUMNS[i] as usize == self as usize {
                return Some(i);
            }
            i += 1;
        }
        None
    }
}

/// The names of `fields`, in order: the header of a record over them.
pub const fn names<const N: usize>(fields: &[Field; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = fields[i].name();
        i += 1;
    }
    out
}

/// The names of the import columns every header must name, in import order. `N` must be their
/// number; any other value fails to compile where the constant is defined.
pub const fn required_import_names<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < IMPORT_COLUMNS.len() {
        if matches!(IMPORT_COLUMNS[i].spec().import, Import::Required) {
            assert!(n < N, "more required import columns than N");
            out[n] = IMPORT_COLUMNS[i].name();
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "fewer required import columns than N");
    out
}

// The table is indexed by `Field`, and the import list agrees with each field's `import`.
const _: () = {
    let mut i = 0;
    while i < FIELDS.len() {
        assert!(FIELDS[i].field as usize == i, "FIELDS is out of order");
        let imported = !matches!(FIELDS[i].import, Import::No);
        assert!(
            imported == FIELDS[i].field.import_position().is_some(),
            "IMPORT_COLUMNS disagrees with a field's `import`"
        );
        i += 1;
    }
};

/// Whether an offer is past its expiry at `now`, with the grace the query engine allows for
/// partners' clocks.
pub fn is_expired(offer: &Offer, now: Time) -> bool {
    now.0 > offer.expires_at.0.saturating_add(EXPIRY_GRACE_SECS)
}

/// An offer with what a record of it shows beyond the offer itself.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The offer.
    pub offer: &'a Offer,
    /// The owning organisation's display name, as the writer chooses to show it.
    pub owner_name: &'a str,
    /// The owner's intake route (empty when unknown).
    pub intake: &'a str,
    /// The writer's clock, for the fields relative to it (`expired`, `expires_in`); `None`
    /// when a format has none of them, and then those fields read as absent.
    pub now: Option<Time>,
}

impl<'a> Record<'a> {
    /// The record over `columns`, ready to serialize or to write as CSV cells.
    pub fn row(self, columns: &'a [Field]) -> Row<'a> {
        Row {
            record: self,
            columns,
        }
    }
}

/// One record over a list of columns. It serializes as a map from each column's name to its
/// value (JSON, keys in name order), and gives its CSV cells in column order.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    record: Record<'a>,
    columns: &'a [Field],
}

impl Row<'_> {
    /// The CSV cells, in column order (see [`FieldValue::cell`]).
    pub fn cells(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|f| f.read(self.record).cell())
            .collect()
    }
}

impl Serialize for Row<'_> {
    /// Entries in name order, the order a `serde_json` map keeps, so a row writes the same
    /// bytes whether it is serialized directly or through `serde_json::Value`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.columns.len()))?;
        // Columns given in name order ([`by_name`]) are written as they are: sorting them
        // again for each of 100,000 rows was a fifth of an export.
        if self.columns.is_sorted_by_key(|f| f.name()) {
            for f in self.columns {
                m.serialize_entry(f.name(), &f.read(self.record))?;
            }
        } else {
            for f in by_name(self.columns) {
                m.serialize_entry(f.name(), &f.read(self.record))?;
            }
        }
        m.end()
    }
}

/// `columns` in name order: the order a row's entries are serialized in.
pub fn by_name(columns: &[Field]) -> Vec<Field> {
    let mut sorted = columns.to_vec();
    sorted.sort_by_key(|f| f.name());
    sorted
}

/// The value of one field of one record, typed, before a format writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// One piece of text: an id, a name, a term, a slug or the label.
    Text(Cow<'a, str>),
    /// An optional value that is not set: JSON `null`, an empty CSV cell.
    Absent,
    /// A set of terms.
    Terms(Vec<Cow<'a, str>>),
    /// Languages with modes.
    Languages(&'a [Language]),
    /// A duration in seconds.
    Duration(i64),
    /// An instant.
    Time(Time),
    /// Yes or no.
    Flag(bool),
    /// Windows, ordered by start, end and id; cancelled ones included.
    Windows(Vec<&'a Window>),
}

impl FieldValue<'_> {
    /// The value as one CSV cell of a listing: the text of its JSON form, lists joined with
    /// `;`, an absent value empty. Windows are written `START..END=TOTAL[/weekly]` with RFC 3339
    /// instants, cancelled ones left out.
    pub fn cell(&self) -> String {
        match self {
            FieldValue::Text(t) => t.to_string(),
            FieldValue::Absent => String::new(),
            FieldValue::Terms(t) => t.join(";"),
            FieldValue::Languages(l) => join(l.iter(), ToString::to_string),
            FieldValue::Duration(s) => format_duration(*s),
            FieldValue::Time(t) => t.rfc3339(),
            FieldValue::Flag(b) => b.to_string(),
            FieldValue::Windows(w) => join(w.iter().filter(|w| !w.cancelled), |w| {
                window_spec(w, |t| t.rfc3339())
            }),
        }
    }
}

/// Items written with `f` and joined with `;`.
pub fn join<T>(items: impl Iterator<Item = T>, f: impl Fn(T) -> String) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&f(item));
    }
    out
}

/// A window as `START..END=TOTAL` (with `/weekly` when it repeats), its instants written by
/// `at`: the syntax of the import format's `windows` column.
pub fn window_spec(w: &Window, at: impl Fn(Time) -> String) -> String {
    let mut s = format!("{}..{}={}", at(w.start), at(w.end), w.total);
    if w.weekly {
        s.push_str("/weekly");
    }
    s
}

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Text(t) => s.serialize_str(t),
            FieldValue::Absent => s.serialize_none(),
            FieldValue::Terms(t) => t.serialize(s),
            FieldValue::Languages(l) => l.serialize(s),
            FieldValue::Duration(d) => s.serialize_str(&format_duration(*d)),
            FieldValue::Time(t) => s.serialize_str(&t.rfc3339()),
            FieldValue::Flag(b) => s.serialize_bool(*b),
            FieldValue::Windows(w) => s.collect_seq(w.iter().copied().map(WindowJson)),
        }
    }
}

/// A window as the JSON export writes it.
struct WindowJson<'a>(&'a Window);

impl Serialize for WindowJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = self.0;
        // In name order, like a row.
        let mut st = s.serialize_struct("Window", 7)?;
        st.serialize_field("cancelled", &w.cancelled)?;
        st.serialize_field("end", &w.end.rfc3339())?;
        st.serialize_field("start", &w.start.rfc3339())?;
        st.serialize_field("total", &w.total)?;
        st.serialize_field("tz", &w.tz)?;
        st.serialize_field("weekly", &w.weekly)?;
        st.serialize_field("window_id", &w.id)?;
        st.end()
    }
}

/// What of an offer a public directory may show: the fields [`FIELDS`] marks
/// [`Hsds::Published`], the ids it shows only through derived UUIDs ([`Hsds::Hashed`]) and the
/// expiry that bounds which windows count ([`Hsds::Gate`]). The owner's name, also published,
/// comes from its profile. Field names are the table's names.
///
/// Invariant: built only by [`PublicOffer::of`], which returns `None` for every offer that
/// must not be published at all.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PublicOffer<'a> {
    /// Hashed: the offer's id.
    pub offer_id: OfferId,
    /// Hashed: the owner's id.
    pub owner: OrgId,
    /// Published: what kind of help.
    pub kind: Kind,
    /// Published: the programme's or facility's handle.
    pub handle: &'a str,
    /// Published: counties served.
    pub counties: &'a [County],
    /// Published: languages and modes.
    pub languages: &'a [Language],
    /// Published: populations accepted.
    pub accepts: &'a [Accepts],
    /// Published: affirmations.
    pub affirming: &'a [Affirming],
    /// Published: what window totals count.
    pub unit: Unit,
    /// Published (as capacity): windows, in stored order.
    pub windows: &'a [Window],
    /// Published: the owner's capacity hint.
    pub status: StatusHint,
    /// Published: the label.
    pub label: &'a str,
    /// Published: when the owner last confirmed it.
    pub last_confirmed_at: Time,
    /// Gate: weekly windows repeat only until the offer expires.
    pub expires_at: Time,
}

impl<'a> PublicOffer<'a> {
    /// The publishable part of `offer` at `now`, or `None` if the offer may not appear in a
    /// public directory at all: anything but an organisation's own programme or facility, a
    /// confidential shelter, a withdrawn offer or one that has expired.
    pub fn of(offer: &'a Offer, now: Time) -> Option<PublicOffer<'a>> {
        let f = &offer.fields;
        let publishable = f.subject.publishable()
            && f.kind != Kind::DvConfidentialShelter
            && !offer.withdrawn
            && offer.expires_at > now;
        publishable.then_some(PublicOffer {
            offer_id: offer.id,
            owner: offer.owner,
            kind: f.kind,
            handle: &f.handle,
            counties: &f.counties,
            languages: &f.languages,
            accepts: &f.accepts,
            affirming: &f.affirming,
            unit: f.unit,
            windows: &offer.windows,
            status: f.status,
            label: &f.label,
            last_confirmed_at: offer.last_confirmed_at,
            expires_at: offer.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::ids::WindowId;
    use crate::schema::tests::fields;
    use crate::vocab::SubjectType;

    fn offer() -> Offer {
        let mut f = fields(Kind::HostHome);
        f.lead_time = Some(90 * 60);
        Offer {
            id: OfferId::from_bytes([1; 10]),
            owner: OrgId::from_bytes([2; 10]),
            fields: f,
            windows: vec![
                Window {
                    id: WindowId::from_bytes([4; 10]),
                    start: Time(86_400 * 3),
                    end: Time(86_400 * 4),
                    tz: "UTC".into(),
                    weekly: true,
                    total: 2,
                    cancelled: false,
                },
                Window {
                    id: WindowId::from_bytes([3; 10]),
                    start: Time(86_400),
                    end: Time(86_400 * 2),
                    tz: "UTC".into(),
                    weekly: false,
                    total: 1,
                    cancelled: true,
                },
            ],
            created_at: Time(0),
            last_confirmed_at: Time(60),
            expires_at: Time(86_400 * 14),
            withdrawn: false,
        }
    }

    fn record(o: &Offer, now: Option<Time>) -> Record<'_> {
        Record {
            offer: o,
            owner_name: "Sac Accompaniment",
            intake: "hotline, ask for intake",
            now,
        }
    }

    #[test]
    fn names_are_distinct_snake_case_and_pinned() {
        let all: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        let unique: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        for n in &all {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
        // The import header is a published format: changing it is a documented format change.
        assert_eq!(
            names(&IMPORT_COLUMNS).join(","),
            "handle,kind,subject,counties,zone,languages,accepts,affirming,accessibility,\
             household,capabilities,unit,windows,lead_time,max_stay,vetting,status,expires_in,\
             label,bond_band,post_within,owner"
        );
        assert_eq!(
            required_import_names::<6>(),
            ["handle", "kind", "subject", "counties", "unit", "vetting"]
        );
        assert_eq!(
            names(&LISTING_COLUMNS).join(","),
            "offer_id,owner,owner_name,intake,kind,handle,subject,counties,zone,languages,\
             accepts,affirming,accessibility,household,capabilities,unit,lead_time,max_stay,\
             vetting,status,bond_band,post_within,label,created_at,last_confirmed_at,\
             expires_at,withdrawn,expired"
        );
    }

    #[test]
    fn values_read_from_a_typed_offer() {
        let o = offer();
        let r = record(&o, Some(Time(86_400 * 14 - 59)));
        let cell = |f: Field| f.read(r).cell();
        assert_eq!(cell(Field::OfferId), o.id.to_string());
        assert_eq!(cell(Field::OwnerName), "Sac Accompaniment");
        assert_eq!(cell(Field::Kind), "host-home");
        assert_eq!(cell(Field::Languages), "es:fluent;en:conversational");
        assert_eq!(cell(Field::Affirming), "trans;lgbtq");
        assert_eq!(cell(Field::Zone), "south-sac");
        assert_eq!(Field::BondBand.read(r), FieldValue::Absent);
        assert_eq!(cell(Field::LeadTime), "90m");
        assert_eq!(cell(Field::MaxStay), "14d");
        assert_eq!(cell(Field::CreatedAt), "1970-01-01T00:00:00Z");
        assert_eq!(cell(Field::Withdrawn), "false");
        assert_eq!(cell(Field::Expired), "false");
        assert_eq!(
            cell(Field::Windows),
            "1970-01-04T00:00:00Z..1970-01-05T00:00:00Z=2/weekly"
        );
        let FieldValue::Windows(w) = Field::Windows.read(r) else {
            panic!("windows read as windows");
        };
        assert_eq!(w[0].id, WindowId::from_bytes([3; 10]), "sorted by start");
        // Less than a minute left reads as no time left; no clock reads as absent.
        assert_eq!(Field::ExpiresIn.read(r), FieldValue::Absent);
        let early = record(&o, Some(Time(0)));
        assert_eq!(Field::ExpiresIn.read(early).cell(), "14d");
        assert_eq!(Field::Expired.read(record(&o, None)), FieldValue::Absent);
        let late = record(&o, Some(Time(86_400 * 14 + EXPIRY_GRACE_SECS + 1)));
        assert_eq!(Field::Expired.read(late), FieldValue::Flag(true));
    }

    #[test]
    fn public_offer_holds_exactly_the_publishable_fields() {
        let o = offer();
        let mut o2 = o.clone();
        o2.fields.subject = SubjectType::OrgProgram;
        o2.fields.bond_band = None;
        assert!(PublicOffer::of(&o, Time(0)).is_none(), "a household");
        let p = PublicOffer::of(&o2, Time(0)).expect("an org programme");
        // Naming every field here makes adding one to `PublicOffer` fail to compile until this
        // list, and so the check against the table below, is updated.
        let PublicOffer {
            offer_id: _,
            owner: _,
            kind: _,
            handle: _,
            counties: _,
            languages: _,
            accepts: _,
            affirming: _,
            unit: _,
            windows: _,
            status: _,
            label: _,
            last_confirmed_at: _,
            expires_at: _,
        } = p;
        let held = BTreeSet::from([
            Field::OfferId,
            Field::Owner,
            Field::Kind,
            Field::Handle,
            Field::Counties,
            Field::Languages,
            Field::Accepts,
            Field::Affirming,
            Field::Unit,
            Field::Windows,
            Field::Status,
            Field::Label,
            Field::LastConfirmedAt,
            Field::ExpiresAt,
        ]);
        let table: BTreeSet<Field> = FIELDS
            .iter()
            .filter(|s| {
                matches!(s.hsds, Hsds::Published | Hsds::Hashed) || s.field == Field::ExpiresAt
            })
            .filter(|s| s.kind != FieldKind::ProfileText)
            .map(|s| s.field)
            .collect();
        assert_eq!(held, table);

        let mut dv = o2.clone();
        dv.fields.kind = Kind::DvConfidentialShelter;
        assert!(PublicOffer::of(&dv, Time(0)).is_none());
        let mut gone = o2.clone();
        gone.withdrawn = true;
        assert!(PublicOffer::of(&gone, Time(0)).is_none());
        assert!(PublicOffer::of(&o2, o2.expires_at).is_none(), "expired");
    }
}
