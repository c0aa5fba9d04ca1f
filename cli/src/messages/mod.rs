//! Typed errors into sentences: the one place in puente that decides which sentence people read
//! about a failure.
//!
//! The node library returns typed errors whose refusals carry what explains them (ids, counts,
//! names, limits) and no command-line wording. This module maps every such error to one
//! message of `cli/locales/<lang>/errors.ftl` with those values as its arguments, formatted in
//! the current language by [`t!`](crate::t) (see [`crate::i18n`]): one plain sentence that says
//! what to do next. It also owns the plumbing that makes that sentence the one `error:` line of
//! a failed command ([`one_line`], [`Exit`]).
//!
//! The mapping is Rust, once for every language; the words are in the message files, so a
//! language is a folder of `.ftl` files and nothing here changes. The public functions
//! ([`replica`], [`join`], [`node`] ...) walk the wrapper errors to the typed variant and name
//! its message.
//!
//! The record library's refusals of a value (a county, a term, a label, a handle, a date, a
//! window, a rule of the schema) have sentences here too ([`schema`], [`window`], [`time`]):
//! they reach people as a flag's value clap refused ([`clap_value`]), as a write the replica
//! refused ([`replica`]) and as a row of an import ([`row_problem`], [`import_file`]).
//!
//! What keeps the library's own (English) words: the errors this module has no sentence for
//! (envelope, document, membership and snapshot errors, the transport's errors, the schema's
//! few free-text refusals that only a bug can cause, variants added to the library after this
//! list), clap's own usage errors other than a refused value, the operating system's
//! description of an uncommon I/O error, and the reasons a library error carries as text (a
//! relay that did not answer, a newer node's refusal, the CSV reader's description of a file
//! it could not read). They are placed as they are, inside a translated sentence where there
//! is one.
//!
//! Messages never contain the passphrase or offer contents beyond what was typed.

use std::path::Path;

use puente_crdt::label::{LabelError, MAX_LABEL_CHARS, SlugError};
use puente_crdt::schema::{
    MAX_COUNTIES, MAX_HOLD_QTY, MAX_INTAKE_CHARS, MAX_LANGUAGES, MAX_NAME_CHARS, MAX_WINDOW_TOTAL,
    MAX_WINDOWS_PER_OFFER,
};
use puente_crdt::time::TimeError;
use puente_crdt::{PartitionError, Rule, SchemaError, VocabError};
use puente_node::actor::NodeError;
use puente_node::interchange::{
    COLUMNS, HeaderProblem, ImportError, MAX_CELL_CHARS, MAX_INPUT_BYTES, MAX_ROWS, RowProblem,
    RowRefusal, WindowError,
};
use puente_node::invite::{InviteError, JoinRefusal, MAX_NAME_LEN, TOKEN_PREFIX};
use puente_node::joiner::JoinError;
use puente_node::membership::Role;
use puente_node::net::NetError;
use puente_node::relay::client::RelayProblem;
use puente_node::relay::wire::Refusal;
use puente_node::replica::{
    AdminAction, BundleRefusal, NetworkRefusal, RecordKind, RelayRefusal, ReplicaError,
    RoleRefusal, WriteRefusal,
};
use puente_node::store::{BackupError, StoreError};

#[cfg(test)]
mod tests;

/// The one line printed after `error: `.
pub fn one_line(err: &anyhow::Error) -> String {
    let text = err.to_string();
    let line: String = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.is_empty() {
        return t!("err-nothing-said");
    }
    line
}

/// The outcome of a command that a running node served: exit with `code`, printing `line`
/// after `error: ` when there is one (the node has already made it one line).
#[derive(Debug)]
pub struct Exit {
    /// The exit status.
    pub code: u8,
    /// The error line, if the command failed.
    pub line: Option<String>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.line {
            Some(line) => f.write_str(line),
            None => f.write_str(&t!("err-exit-status", code = self.code)),
        }
    }
}

impl std::error::Error for Exit {}

/// A short reason for an I/O error, without the OS error number (the operating system's own
/// words for the uncommon kinds).
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => t!("err-io-not-found"),
        K::PermissionDenied => t!("err-io-permission-denied"),
        K::AlreadyExists => t!("err-io-already-exists"),
        K::IsADirectory => t!("err-io-is-a-directory"),
        K::StorageFull => t!("err-io-storage-full"),
        _ => e.to_string(),
    }
}

/// The sentence for a replica error on the data directory `dir`.
pub fn replica(e: &ReplicaError, dir: &Path) -> String {
    match e {
        ReplicaError::Store(s) => store(s, dir).unwrap_or_else(|| chain(s)),
        ReplicaError::NotFound { what, text } => {
            let text = text.as_str();
            match what {
                RecordKind::Offer => t!("err-not-found-offer", text = text),
                RecordKind::Hold => t!("err-not-found-hold", text = text),
                RecordKind::Window => t!("err-not-found-window", text = text),
                _ => t!("err-not-found-record", text = text),
            }
        }
        ReplicaError::Ambiguous { what, text, count } => t!(
            "err-ambiguous",
            text = text.as_str(),
            count = *count,
            what = kind(*what)
        ),
        ReplicaError::Damaged(what) => t!("err-damaged", what = what.replace(' ', "-")),
        ReplicaError::Poisoned => t!("err-poisoned"),
        ReplicaError::Write(r) => write(r),
        ReplicaError::Network(r) => network(r),
        ReplicaError::Bundle(r) => bundle(r),
        ReplicaError::Relay(r) => relay(r),
        ReplicaError::Role(r) => role(r),
        ReplicaError::Schema(s) | ReplicaError::Partition(PartitionError::Schema(s)) => schema(s),
        ReplicaError::Time(t) => time(t),
        // Envelope, document, membership and snapshot errors: their own words.
        _ => chain(e),
    }
}

/// The sentence for why the backup `file` could not be restored into the data directory
/// `dir` (nothing was written there).
pub fn backup(e: &BackupError, file: &str, dir: &Path) -> String {
    match e {
        BackupError::NotABackup => t!("err-backup-not-a-backup", file = file),
        BackupError::Version { found, supported } => t!(
            "err-backup-version",
            file = file,
            found = *found,
            supported = *supported
        ),
        BackupError::Truncated => t!("err-backup-truncated", file = file),
        BackupError::Damaged { what } => t!("err-backup-damaged", file = file, what = *what),
        BackupError::WrongPassphrase => t!("err-backup-wrong-passphrase", file = file),
        BackupError::WeakKdf { m_kib, t, p } => t!(
            "err-backup-weak-kdf",
            file = file,
            m_kib = *m_kib,
            t = *t,
            p = *p
        ),
        BackupError::NotEmpty { dir } => {
            t!("err-backup-not-empty", dir = dir.display().to_string())
        }
        BackupError::Store(s) => store(s, dir).unwrap_or_else(|| chain(s)),
        _ => chain(e),
    }
}

/// The sentence for why joining failed, on the data directory `dir`.
pub fn join(e: &JoinError, dir: &Path) -> String {
    match e {
        JoinError::Replica(r) => replica(r, dir),
        JoinError::Request(i) => invite(i),
        JoinError::Net(n) => chain(n),
        JoinError::Unreachable { addresses } => {
            t!("err-join-unreachable", addresses = addresses.as_str())
        }
        JoinError::Refused(r) => t!("err-join-refused", reason = join_refusal(r)),
        JoinError::Closed => t!("err-join-closed"),
        JoinError::NotConfirmed(minutes) => t!("err-join-not-confirmed", minutes = *minutes),
        JoinError::DeviceInvitation => t!("err-join-device-invitation"),
        JoinError::OrganisationInvitation => t!("err-join-organisation-invitation"),
        JoinError::DeviceNotEmpty => t!("err-join-device-not-empty"),
        JoinError::NoAddress => t!("err-join-no-address"),
        JoinError::NotAnAnswer => t!("err-join-not-an-answer"),
        _ => chain(e),
    }
}

/// The column a refused import row is reported under, and the sentence for why.
pub fn import_row(r: &RowRefusal) -> (Option<&'static str>, String) {
    let column = match r {
        RowRefusal::OtherOrganisation { .. } => Some(puente_crdt::Field::Owner.name()),
        RowRefusal::Unchangeable { field, .. } => Some(field.name()),
        RowRefusal::SharedHandle { .. } => Some(puente_crdt::Field::Handle.name()),
        _ => None,
    };
    let sentence = match r {
        RowRefusal::OtherOrganisation { owner } => {
            t!("err-row-other-organisation", owner = owner.to_string())
        }
        RowRefusal::Unchangeable { offer, field } => t!(
            "err-row-unchangeable",
            field = field.name(),
            offer = offer.to_string()
        ),
        RowRefusal::SharedHandle { offers } => t!("err-row-shared-handle", offers = *offers),
        RowRefusal::Invalid(e) => schema(e),
        _ => r.to_string(),
    };
    (column, sentence)
}

/// Why the import parser refused a row (the column it is reported under is the row's own).
pub fn row_problem(p: &RowProblem) -> String {
    match p {
        RowProblem::CellCount { found, expected } => {
            t!("err-row-cell-count", found = *found, expected = *expected)
        }
        RowProblem::NotUtf8 => t!("err-row-not-utf8"),
        RowProblem::CellTooLong { chars } => {
            t!(
                "err-row-cell-too-long",
                chars = *chars,
                max = MAX_CELL_CHARS
            )
        }
        RowProblem::DuplicateHandle { handle, first } => t!(
            "err-row-duplicate-handle",
            handle = handle.as_str(),
            first = *first
        ),
        RowProblem::Required { column } => t!("err-row-required", column = *column),
        RowProblem::Owner => t!("err-row-owner"),
        RowProblem::Schema(e) => schema(e),
        RowProblem::Window(e) => window(e),
        _ => chain(p),
    }
}

/// Why a whole import file was refused (the caller names the file).
pub fn import_file(e: &ImportError) -> String {
    let columns = COLUMNS.join(", ");
    match e {
        ImportError::Empty => t!("err-import-empty", columns = columns),
        ImportError::TooLarge { bytes } => {
            t!(
                "err-import-too-large",
                bytes = *bytes,
                max = MAX_INPUT_BYTES
            )
        }
        ImportError::TooManyRows => t!("err-import-too-many-rows", max = MAX_ROWS),
        ImportError::Header(h) => match h {
            HeaderProblem::Unknown(name) => t!(
                "err-import-header-unknown",
                name = name.as_str(),
                columns = columns
            ),
            HeaderProblem::Duplicate(name) => t!(
                "err-import-header-duplicate",
                name = name.as_str(),
                columns = columns
            ),
            HeaderProblem::Missing(names) => t!(
                "err-import-header-missing",
                names = names.join(", "),
                columns = columns
            ),
            HeaderProblem::EmptyName(position) => t!(
                "err-import-header-empty-name",
                position = *position,
                columns = columns
            ),
            HeaderProblem::NotUtf8 => t!("err-import-header-not-utf8", columns = columns),
            _ => chain(e),
        },
        ImportError::Zone(t) => time(t),
        // The CSV reader's own words, inside the sentence.
        ImportError::Malformed { line, reason } => {
            t!(
                "err-import-malformed",
                line = *line,
                reason = reason.as_str()
            )
        }
        _ => chain(e),
    }
}

/// The sentence for a value the record library refused: a term outside its vocabulary, a
/// label, handle or zone, a county, a language, a date or duration, or a rule of the schema.
pub fn schema(e: &SchemaError) -> String {
    match e {
        SchemaError::Vocab(v) => vocab(v),
        SchemaError::Label(l) => label(l),
        SchemaError::Slug(s) => slug(s),
        SchemaError::Time(t) => time(t),
        SchemaError::County(text) => t!("err-county", text = text.as_str()),
        SchemaError::Language(text) => t!("err-language", text = text.as_str()),
        SchemaError::Rule(r) => rule(*r),
        // A refusal only a bug can cause, in the library's words.
        SchemaError::Invalid(text) => text.clone(),
        _ => chain(e),
    }
}

/// The sentence for a date, duration or time zone that was not understood.
pub fn time(e: &TimeError) -> String {
    match e {
        TimeError::BadDuration(text) => t!("err-duration", text = text.as_str()),
        TimeError::BadDate(text) => t!("err-date", text = text.as_str()),
        TimeError::UnknownZone(text) => t!("err-time-zone", text = text.as_str()),
        _ => chain(e),
    }
}

/// The sentence for a window (`--window`, `--add-window`, an import's `windows` cell) that
/// was refused.
pub fn window(e: &WindowError) -> String {
    match e {
        WindowError::Syntax { spec } => t!("err-window-syntax", spec = spec.as_str()),
        WindowError::Total { spec, total } => t!(
            "err-window-total",
            spec = spec.as_str(),
            total = total.as_str(),
            max = MAX_WINDOW_TOTAL
        ),
        WindowError::Date { spec, source } => {
            t!(
                "err-window-date",
                spec = spec.as_str(),
                reason = time(source)
            )
        }
        WindowError::Invalid { spec, source } => t!(
            "err-window-refused",
            spec = spec.as_str(),
            reason = schema(source)
        ),
        WindowError::TooMany => t!("err-window-too-many", max = MAX_WINDOWS_PER_OFFER),
        WindowError::Zone(t) => time(t),
        _ => chain(e),
    }
}

/// The one line for a flag's value that its parser refused (clap's `ValueValidation`), in the
/// current language: `invalid value 'VALUE' for 'FLAG': REASON`, as clap words it in English.
/// `None` for any other clap error, and for a refusal that is not the record library's (a
/// number out of range): clap's own English line serves those.
pub fn clap_value(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let reason = value_reason(std::error::Error::source(e)?)?;
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    Some(t!(
        "err-invalid-value",
        value = context(ContextKind::InvalidValue)?,
        arg = context(ContextKind::InvalidArg)?,
        reason = reason
    ))
}

/// The sentence for the error a value parser returned, when it is one of the record library's.
fn value_reason(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(s) = e.downcast_ref::<SchemaError>() {
        Some(schema(s))
    } else if let Some(v) = e.downcast_ref::<VocabError>() {
        Some(vocab(v))
    } else if let Some(t) = e.downcast_ref::<TimeError>() {
        Some(time(t))
    } else if let Some(l) = e.downcast_ref::<LabelError>() {
        Some(label(l))
    } else if let Some(s) = e.downcast_ref::<SlugError>() {
        Some(slug(s))
    } else {
        e.downcast_ref::<WindowError>().map(window)
    }
}

/// The sentence for a `--reason` (of a revocation) that failed the check every shared label
/// passes: it is signed into the membership log for good.
pub fn revocation_reason(e: &LabelError) -> String {
    let why = match e {
        LabelError::TooLong(count) => t!(
            "err-label-too-long.reason",
            count = *count,
            max = MAX_LABEL_CHARS
        ),
        LabelError::ControlCharacter => t!("err-label-control-character.reason"),
        LabelError::PhoneNumber => t!("err-label-phone-number.reason"),
        LabelError::Email => t!("err-label-email.reason"),
        LabelError::ANumber => t!("err-label-a-number.reason"),
        LabelError::StreetAddress => t!("err-label-street-address.reason"),
        _ => e.to_string().replacen("label ", "", 1),
    };
    t!("err-revocation-reason", why = why)
}

/// The sentence for a term outside its vocabulary.
fn vocab(e: &VocabError) -> String {
    t!(
        "err-unknown-term",
        what = e.what.replace(' ', "-"),
        text = e.text.as_str(),
        expected = e.expected.as_str()
    )
}

/// The sentence for a label that failed the free-text check (it never repeats the label).
fn label(e: &LabelError) -> String {
    match e {
        LabelError::TooLong(count) => {
            t!("err-label-too-long", count = *count, max = MAX_LABEL_CHARS)
        }
        LabelError::ControlCharacter => t!("err-label-control-character"),
        LabelError::PhoneNumber => t!("err-label-phone-number"),
        LabelError::Email => t!("err-label-email"),
        LabelError::ANumber => t!("err-label-a-number"),
        LabelError::StreetAddress => t!("err-label-street-address"),
        _ => e.to_string(),
    }
}

/// The sentence for a handle or zone that is not a slug.
fn slug(e: &SlugError) -> String {
    t!("err-slug", what = e.what)
}

/// The sentence for a rule of the schema a record breaks.
fn rule(r: Rule) -> String {
    match r {
        Rule::WindowEndsBeforeStart => t!("err-rule-window-ends-before-start"),
        Rule::WindowTooLong => t!("err-rule-window-too-long"),
        Rule::WeeklyWindowTooLong => t!("err-rule-weekly-window-too-long"),
        Rule::WindowTotal => t!("err-rule-window-total", max = MAX_WINDOW_TOTAL),
        Rule::NoCounty => t!("err-rule-no-county"),
        Rule::TooManyCounties => t!("err-rule-too-many-counties", max = MAX_COUNTIES),
        Rule::TooManyLanguages => t!("err-rule-too-many-languages", max = MAX_LANGUAGES),
        Rule::TooManyWindows => t!("err-rule-too-many-windows", max = MAX_WINDOWS_PER_OFFER),
        Rule::TooManyWindowsAfterChange => t!("err-rule-too-many-windows-after-change"),
        Rule::OutOfRange(field) => t!("err-rule-out-of-range", field = field.name()),
        Rule::BondFieldsWithoutBondFund => t!("err-rule-bond-fields-without-bond-fund"),
        Rule::BondFundNotInUsd => t!("err-rule-bond-fund-not-in-usd"),
        Rule::HoldQuantity => t!("err-rule-hold-quantity", max = MAX_HOLD_QTY),
        Rule::HoldEndsBeforeStart => t!("err-rule-hold-ends-before-start"),
        Rule::OwnOffer => t!("err-rule-own-offer"),
        Rule::OrgName => t!("err-rule-org-name", max = MAX_NAME_CHARS),
        Rule::Intake => t!("err-rule-intake", max = MAX_INTAKE_CHARS),
        _ => r.to_string(),
    }
}

/// The sentence for a token that does not parse, or a join request that cannot be made.
pub fn invite(e: &InviteError) -> String {
    match e {
        InviteError::BadToken => t!("err-invite-bad-token", prefix = TOKEN_PREFIX),
        InviteError::Malformed(what) => t!("err-invite-malformed", what = *what),
        InviteError::BadSignature => t!("err-invite-bad-signature"),
        InviteError::BadName => t!("err-invite-bad-name", max = MAX_NAME_LEN),
        _ => e.to_string(),
    }
}

/// The sentence for a node on the data directory `dir` that could not start or stopped;
/// `other_port` is a port to suggest when the one asked for is in use.
pub fn node(e: &NodeError, dir: &Path, other_port: u16) -> String {
    match e {
        NodeError::Replica(r) => replica(r, dir),
        NodeError::Net(NetError::Listen { addr, source }) if addr_in_use(source) => t!(
            "err-node-port-in-use",
            addr = addr.as_str(),
            port = other_port
        ),
        NodeError::Net(NetError::Listen { addr, source }) => t!(
            "err-node-listen",
            addr = addr.as_str(),
            reason = chain(source)
        ),
        NodeError::Net(e @ NetError::InvalidAddress { .. }) => {
            t!("err-node-invalid-address", reason = chain(e))
        }
        NodeError::Thread(reason) => t!("err-node-thread", reason = reason.as_str()),
        other => t!("err-node-could-not-start", reason = chain(other)),
    }
}

/// The sentence for why the last request to a relay failed.
pub fn relay_problem(p: &RelayProblem) -> String {
    match p {
        RelayProblem::TurnedAway => t!("err-relay-turned-away"),
        RelayProblem::UnknownNetwork => t!("err-relay-unknown-network"),
        RelayProblem::Refused(refusal) => relay_refusal(refusal),
        RelayProblem::NoAnswer(reason) => reason.clone(),
        RelayProblem::Mismatch => t!("err-relay-mismatch"),
        _ => p.to_string(),
    }
}

/// The message of `e` and of its causes, joined with `: `, skipping a cause whose text the
/// message already contains: for errors whose own words are the sentence.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cur = s.source();
    }
    out
}

/// Whether `e`, or an error inside it, says the address is in use. The transport wraps the
/// operating system's error in types of its own that do not expose it as a source, so past
/// the I/O errors the text is the only witness.
fn addr_in_use(e: &std::io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::AddrInUse
        {
            return true;
        }
        if err.to_string().contains("Address already in use") {
            return true;
        }
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    false
}

/// The selector the messages use for a kind of record.
fn kind(what: RecordKind) -> &'static str {
    match what {
        RecordKind::Offer => "offer",
        RecordKind::Hold => "hold",
        RecordKind::Window => "window",
        _ => "other",
    }
}

/// A store error for the data directory `dir`; `None` where the error's own words serve.
fn store(e: &StoreError, dir: &Path) -> Option<String> {
    let d = dir.display().to_string();
    Some(match e {
        StoreError::NotFound { .. } => t!("err-store-not-found", dir = d),
        StoreError::AlreadyExists { .. } => t!("err-store-already-exists", dir = d),
        StoreError::WrongPassphrase => t!("err-store-wrong-passphrase", dir = d),
        StoreError::Locked { .. } => t!("err-store-locked", dir = d),
        StoreError::Io { path, source } => t!(
            "err-store-io",
            path = path.display().to_string(),
            reason = io_reason(source)
        ),
        StoreError::LoosePermissions { path, mode, fix } => t!(
            "err-store-loose-permissions",
            path = path.display().to_string(),
            mode = format!("{mode:03o}"),
            fix = fix.as_str()
        ),
        StoreError::WeakKdf { m_kib, t, p } => {
            t!("err-store-weak-kdf", m_kib = *m_kib, t = *t, p = *p)
        }
        StoreError::BadHeader { path, reason } => t!(
            "err-store-bad-header",
            path = path.display().to_string(),
            reason = *reason
        ),
        StoreError::UnsupportedVersion(version) => {
            t!("err-store-unsupported-version", version = *version)
        }
        StoreError::Mismatched { dir } => {
            t!("err-store-mismatched", dir = dir.display().to_string())
        }
        StoreError::Corrupt { table, key } => {
            t!("err-store-corrupt", key = key.as_str(), table = *table)
        }
        StoreError::Damaged { path, reason } => t!(
            "err-store-damaged",
            path = path.display().to_string(),
            reason = reason.as_str()
        ),
        StoreError::DiskFull { path, .. } => {
            t!("err-store-disk-full", path = path.display().to_string())
        }
        // Key derivation and other database failures: their own words.
        _ => return None,
    })
}

/// A write to offers or holds was refused.
fn write(r: &WriteRefusal) -> String {
    match r {
        WriteRefusal::DevicePending => t!("err-write-device-pending"),
        WriteRefusal::NoEpochKey { .. } => t!("err-write-no-epoch-key"),
        WriteRefusal::NotOwnOffer { offer, action } => t!(
            "err-write-not-own-offer",
            offer = offer.to_string(),
            action = action.to_string()
        ),
        WriteRefusal::OwnOffer { .. } => t!("err-write-own-offer"),
        WriteRefusal::OfferWithdrawn { .. } => t!("err-write-offer-withdrawn"),
        WriteRefusal::WindowCancelled { .. } => t!("err-write-window-cancelled"),
        WriteRefusal::NoOccurrenceLeft { .. } => t!("err-write-no-occurrence-left"),
        WriteRefusal::OutsideOccurrence { .. } => t!("err-write-outside-occurrence"),
        WriteRefusal::NotRequester { .. } => t!("err-write-not-requester"),
        WriteRefusal::NotOfferOwner { .. } => t!("err-write-not-offer-owner"),
        WriteRefusal::RolledBack { .. } => t!("admin-rolled-back"),
        WriteRefusal::AwaitingRebase => t!("err-write-awaiting-rebase"),
        _ => r.to_string(),
    }
}

/// A change to the network or to this node's place in it was refused.
fn network(r: &NetworkRefusal) -> String {
    use NetworkRefusal as N;
    match r {
        N::NotInNetwork => t!("err-not-in-network"),
        N::AlreadyInNetwork { network } => {
            t!("err-network-already-in", network = network.to_string())
        }
        N::DeviceStore => t!("err-network-device-store"),
        N::HoldsPartnersRecords => t!("err-network-holds-partners-records"),
        N::NetworkNameLength { max } => t!("err-network-name-length", max = *max),
        N::NotAdmin {
            action: AdminAction::RevokeOrganisation,
        } => t!("err-network-not-admin-revoke"),
        N::NotAdmin { .. } => t!("err-network-not-admin"),
        N::NoLongerMember => t!("err-network-no-longer-member"),
        N::AlreadyMember { device } => {
            t!("err-network-already-member", device = device.to_string())
        }
        N::DeviceKnown { device } => t!("err-network-device-known", device = device.to_string()),
        N::NotAllowedToAddDevice { .. } => t!("err-network-not-allowed-to-add-device"),
        N::OrgNotAccepted => t!("err-network-org-not-accepted"),
        N::DeviceNotAccepted => t!("err-network-device-not-accepted"),
        N::RevocationNotAccepted => t!("err-network-revocation-not-accepted"),
        N::NothingToErase => t!("err-network-nothing-to-erase"),
        N::ErasureNotAccepted => t!("err-network-erasure-not-accepted"),
        N::EmptyLog => t!("err-network-empty-log"),
        N::NotListed => t!("err-network-not-listed"),
        N::NoEpochYet => t!("err-network-no-epoch-yet"),
        N::DeviceInvitationForOrgStore => t!("err-network-device-invitation-for-org-store"),
        N::OrgInvitationForDeviceStore => t!("err-network-org-invitation-for-device-store"),
        N::KeyNotShared => t!("err-network-key-not-shared"),
        N::ExpiryNotInFuture => t!("err-network-expiry-not-in-future"),
        N::OrgNameLength { max } => t!("err-network-org-name-length", max = *max),
        N::OrgNameTaken { name } => t!("err-network-org-name-taken", name = name.as_str()),
        N::InvitationNotFound { text, matches } => t!(
            "err-network-invitation-not-found",
            matches = *matches,
            text = text.as_str()
        ),
        N::InvitationNotWaiting { invitation } => t!(
            "err-network-invitation-not-waiting",
            invitation = invitation.to_string()
        ),
        N::InvitationExpired { invitation } => t!(
            "err-network-invitation-expired",
            invitation = invitation.to_string()
        ),
        N::InvitationNotCancellable { .. } => t!("err-network-invitation-not-cancellable"),
        N::OrgAlreadyRevoked { .. } => t!("err-network-org-already-revoked"),
        N::NoSuchOrg { .. } => t!("err-network-no-such-org"),
        N::DeviceAlreadyRevoked { .. } => t!("err-network-device-already-revoked"),
        N::NoSuchDevice { .. } => t!("err-network-no-such-device"),
        N::NotAllowedToRevokeDevice { .. } => t!("err-network-not-allowed-to-revoke-device"),
        N::BadAddress { text } => t!("err-network-bad-address", text = text.as_str()),
        _ => r.to_string(),
    }
}

/// A bundle could not be written, or was refused as a whole.
fn bundle(r: &BundleRefusal) -> String {
    use BundleRefusal as B;
    match r {
        B::NoNetworkToExport => t!("err-bundle-no-network-to-export"),
        B::NoNetworkToImport => t!("err-bundle-no-network-to-import"),
        B::NotAMember { org } => t!("err-bundle-not-a-member", org = org.to_string()),
        B::NoRecipients => t!("err-bundle-no-recipients"),
        B::UnusableAgreementKey { device } => t!(
            "err-bundle-unusable-agreement-key",
            device = device.to_string()
        ),
        B::TooManyDevices { .. } => t!("err-bundle-too-many-devices"),
        B::ExportTooLarge { len, max } => {
            t!("err-bundle-export-too-large", len = *len, max = *max)
        }
        B::TooManyItems => t!("err-bundle-too-many-items"),
        B::ItemTooLarge => t!("err-bundle-item-too-large"),
        B::ImportTooLarge { len, max } => {
            t!("err-bundle-import-too-large", len = *len, max = *max)
        }
        B::NotABundle => t!("err-bundle-not-a-bundle"),
        B::WrongNetwork { bundle, ours } => t!(
            "err-bundle-wrong-network",
            bundle = bundle.to_string(),
            ours = ours.to_string()
        ),
        B::NotAddressed => t!("err-bundle-not-addressed"),
        B::Altered => t!("err-bundle-altered"),
        B::Truncated => t!("err-bundle-truncated"),
        B::Malformed { what } => t!("err-bundle-malformed", what = *what),
        B::Version { found, supported } => {
            t!("err-bundle-version", found = *found, supported = *supported)
        }
        _ => r.to_string(),
    }
}

/// A change to the network's relays was refused.
fn relay(r: &RelayRefusal) -> String {
    match r {
        RelayRefusal::NotInNetwork => t!("err-not-in-network"),
        RelayRefusal::NotAdmin => t!("err-relay-not-admin"),
        RelayRefusal::NotInUse { .. } => t!("err-relay-not-in-use"),
        RelayRefusal::Unchanged { .. } => t!("err-relay-unchanged"),
        RelayRefusal::NotAccepted => t!("err-relay-not-accepted"),
        _ => r.to_string(),
    }
}

/// A change of an organisation's role was refused.
fn role(r: &RoleRefusal) -> String {
    match r {
        RoleRefusal::NotInNetwork => t!("err-not-in-network"),
        RoleRefusal::NotAdmin => t!("err-role-not-admin"),
        RoleRefusal::OrgRevoked { .. } => t!("err-role-org-revoked"),
        RoleRefusal::NoSuchOrg { .. } => t!("err-network-no-such-org"),
        RoleRefusal::AlreadyHasRole {
            role: Role::Admin, ..
        } => t!("err-role-already", role = "admin"),
        RoleRefusal::AlreadyHasRole { .. } => t!("err-role-already", role = "member"),
        RoleRefusal::NotAccepted => t!("err-role-not-accepted"),
        _ => r.to_string(),
    }
}

/// Why the inviter's node refused a join request.
fn join_refusal(r: &JoinRefusal) -> String {
    match r {
        JoinRefusal::UnknownInvitation => t!("err-join-refusal-unknown-invitation"),
        JoinRefusal::BadSignature => t!("err-join-refusal-bad-signature"),
        JoinRefusal::Expired => t!("err-join-refusal-expired"),
        JoinRefusal::Cancelled => t!("err-join-refusal-cancelled"),
        JoinRefusal::CancelledWhileWaiting => t!("err-join-refusal-cancelled-while-waiting"),
        JoinRefusal::Used => t!("err-join-refusal-used"),
        JoinRefusal::NotRecorded => t!("err-join-refusal-not-recorded"),
        JoinRefusal::Malformed => t!("err-join-refusal-malformed"),
        // A newer node's reason, in its own words.
        JoinRefusal::Other(text) => text.clone(),
        _ => r.to_string(),
    }
}

/// A relay's refusal of one request.
fn relay_refusal(r: &Refusal) -> String {
    match r {
        Refusal::UnknownNetwork => t!("err-relay-refused-unknown-network"),
        Refusal::NotAdmin => t!("err-relay-refused-not-admin"),
        Refusal::NotMember => t!("err-relay-refused-not-member"),
        Refusal::Full {
            used_entries,
            used_bytes,
            max_entries,
            max_bytes,
        } => t!(
            "err-relay-refused-full",
            used_entries = *used_entries,
            max_entries = *max_entries,
            used_bytes = *used_bytes,
            max_bytes = *max_bytes
        ),
        Refusal::TooLarge { max } => t!("err-relay-refused-too-large", max = *max),
        Refusal::Malformed => t!("err-relay-refused-malformed"),
        Refusal::Unavailable => t!("err-relay-refused-unavailable"),
        _ => r.to_string(),
    }
}
