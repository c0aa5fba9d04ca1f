//! The typed records of the shared document: organisation profiles, offers, windows and holds,
//! and the validation every record passes before it is written.
//!
//! Invariant: no type here has a field for the identity of a person receiving help (no names,
//! immigration status, country of origin, case numbers or who helped whom). Place is a county
//! FIPS code and an optional zone label, never an address. Subjects are pseudonymous handles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::fields::Field;
use crate::ids::{HoldId, OfferId, OrgId, WindowId};
use crate::label::{LabelError, SlugError, check_label, check_slug};
use crate::time::{MAX_DURATION_SECS, Time, TimeError};
use crate::vocab::{
    Accepts, Accessibility, Affirming, BondBand, Capability, HouseholdNote, Kind, LangMode,
    StatusHint, SubjectType, Unit, Vetting, VocabError,
};

/// The largest `total` a window may have: a window of a bond fund counts dollars only as bands,
/// so every real total (beds, rooms, shifts) is far below this.
pub const MAX_WINDOW_TOTAL: u32 = 100_000;
/// The most windows one offer may carry: recurring windows cover regular schedules.
pub const MAX_WINDOWS_PER_OFFER: usize = 64;
/// The most counties one offer may serve (California has 58).
pub const MAX_COUNTIES: usize = 58;
/// The most languages one offer may list.
pub const MAX_LANGUAGES: usize = 24;
/// The longest organisation name, in characters.
pub const MAX_NAME_CHARS: usize = 60;
/// The longest intake route text, in characters: a hotline, a Signal handle or a form address.
pub const MAX_INTAKE_CHARS: usize = 160;
/// The largest quantity one hold may claim.
pub const MAX_HOLD_QTY: u32 = 10_000;

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A term outside its vocabulary.
    #[error(transparent)]
    Vocab(#[from] VocabError),
    /// A label that failed the free-text check.
    #[error(transparent)]
    Label(#[from] LabelError),
    /// A handle or zone that is not a slug.
    #[error(transparent)]
    Slug(#[from] SlugError),
    /// A date or duration that was not understood.
    #[error(transparent)]
    Time(#[from] TimeError),
    /// A county that is not a 5-digit FIPS code.
    #[error(
        "county `{0}` is not a 5-digit FIPS code (Sacramento is 06067, Yolo 06113, Placer 06061)"
    )]
    County(String),
    /// A language tag that is not BCP 47 shaped.
    #[error("language `{0}` is not a BCP 47 or ISO 639-3 tag such as es, en, mam or quc")]
    Language(String),
    /// A value breaks one of the rules below; the rule says which and what is allowed.
    #[error(transparent)]
    Rule(#[from] Rule),
    /// Some other field is out of range; the message names it.
    #[error("{0}")]
    Invalid(String),
}

/// A rule of the schema a record breaks, with the limit it sets (the limits are the constants
/// of this module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// A window ends at or before its start.
    #[error("a window must end after it starts (START..END=TOTAL, END exclusive)")]
    WindowEndsBeforeStart,
    /// A window lasts longer than [`MAX_DURATION_SECS`].
    #[error("a window may last at most ten years")]
    WindowTooLong,
    /// A weekly window is longer than a week.
    #[error("a weekly window must be at most one week long")]
    WeeklyWindowTooLong,
    /// A window's total is 0 or above [`MAX_WINDOW_TOTAL`].
    #[error("a window's total must be between 1 and {MAX_WINDOW_TOTAL}")]
    WindowTotal,
    /// An offer lists no county.
    #[error("an offer needs at least one county (a 5-digit FIPS code)")]
    NoCounty,
    /// An offer lists more than [`MAX_COUNTIES`] counties.
    #[error("an offer may list at most {MAX_COUNTIES} counties")]
    TooManyCounties,
    /// An offer lists more than [`MAX_LANGUAGES`] languages.
    #[error("an offer may list at most {MAX_LANGUAGES} languages")]
    TooManyLanguages,
    /// An offer has more than [`MAX_WINDOWS_PER_OFFER`] windows.
    #[error("an offer may have at most {MAX_WINDOWS_PER_OFFER} windows")]
    TooManyWindows,
    /// A change would leave an offer with more than [`MAX_WINDOWS_PER_OFFER`] live windows.
    #[error("too many windows on one offer")]
    TooManyWindowsAfterChange,
    /// A duration (lead time, max stay, post within or expires-in) is not between one second
    /// and [`MAX_DURATION_SECS`].
    #[error("{} is out of range", duration_words(*.0))]
    OutOfRange(Field),
    /// A bond band or post-within on an offer that is not a bond fund.
    #[error("bond band and post-within apply only to bond funds (kind bond-fund, unit usd)")]
    BondFieldsWithoutBondFund,
    /// A bond fund counted in something other than dollars.
    #[error("a bond fund is counted in usd")]
    BondFundNotInUsd,
    /// A hold's quantity is 0 or above [`MAX_HOLD_QTY`].
    #[error("a hold's quantity must be between 1 and {MAX_HOLD_QTY}")]
    HoldQuantity,
    /// A hold ends at or before its start.
    #[error("a hold must end after it starts")]
    HoldEndsBeforeStart,
    /// A hold on the requester's own offer.
    #[error("an organisation does not place holds on its own offers; change the window instead")]
    OwnOffer,
    /// An organisation name that is empty, too long or on several lines.
    #[error("organisation name must be 1-{MAX_NAME_CHARS} characters on one line")]
    OrgName,
    /// An intake route that is too long or on several lines.
    #[error("intake route must be at most {MAX_INTAKE_CHARS} characters on one line")]
    Intake,
}

/// How [`Rule::OutOfRange`] names a duration field.
fn duration_words(field: Field) -> &'static str {
    match field {
        Field::LeadTime => "lead time",
        Field::MaxStay => "max stay",
        Field::PostWithin => "post within",
        Field::ExpiresIn => "expires-in",
        other => other.name(),
    }
}

/// A county, as its 5-digit FIPS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct County([u8; 5]);

impl County {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("00000")
    }
}

impl FromStr for County {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() != 5 || !b.iter().all(u8::is_ascii_digit) {
            return Err(SchemaError::County(t.chars().take(20).collect()));
        }
        let mut a = [0u8; 5];
        a.copy_from_slice(b);
        Ok(County(a))
    }
}

impl fmt::Display for County {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// The code as text in human-readable formats (JSON), as a number in compact ones (the view
// cached in the local snapshot).
impl Serialize for County {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(self.as_str())
        } else {
            s.serialize_u32(self.as_str().parse().unwrap_or(0))
        }
    }
}

impl<'de> Deserialize<'de> for County {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?
                .parse()
                .map_err(serde::de::Error::custom)
        } else {
            let code = u32::deserialize(d)?;
            if code > 99_999 {
                return Err(serde::de::Error::custom("county code beyond five digits"));
            }
            format!("{code:05}")
                .parse()
                .map_err(serde::de::Error::custom)
        }
    }
}

/// A language and how it is offered, written `TAG[:MODE]` (`es`, `mam:relay-via-es`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Language {
    /// A BCP 47 tag, or an ISO 639-3 code for languages without a two-letter one (Mam `mam`,
    /// K'iche' `quc`). The primary subtag is stored lowercase.
    pub tag: String,
    /// How it is offered.
    pub mode: LangMode,
}

impl Language {
    /// Whether this entry satisfies a request for `want` (same primary tag; a requested mode
    /// must match exactly, no mode matches any).
    pub fn satisfies(&self, want: &LanguageQuery) -> bool {
        let primary = self.tag.split('-').next().unwrap_or("");
        let want_primary = want.tag.split('-').next().unwrap_or("");
        let tag_ok = primary == want_primary
            && (want.tag.len() == want_primary.len() || self.tag.eq_ignore_ascii_case(&want.tag));
        tag_ok && want.mode.is_none_or(|m| m == self.mode)
    }
}

fn parse_tag(t: &str) -> Result<String, SchemaError> {
    let bad = || SchemaError::Language(t.chars().take(20).collect());
    let mut parts = t.split('-');
    let primary = parts.next().ok_or_else(bad)?;
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let mut out = primary.to_ascii_lowercase();
    for sub in parts {
        if !(1..=8).contains(&sub.len()) || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        out.push('-');
        out.push_str(sub);
    }
    if out.len() > 35 {
        return Err(bad());
    }
    Ok(out)
}

impl FromStr for Language {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (tag, mode) = match t.split_once(':') {
            Some((tag, mode)) => (tag, mode.parse()?),
            None => (t, LangMode::Fluent),
        };
        Ok(Language {
            tag: parse_tag(tag)?,
            mode,
        })
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.tag, self.mode)
    }
}

impl Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A language asked for in a query: a tag and, optionally, the mode it must be offered in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageQuery {
    /// The tag, lowercase primary subtag.
    pub tag: String,
    /// The mode, if the coordinator asked for one.
    pub mode: Option<LangMode>,
}

impl FromStr for LanguageQuery {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (tag, mode) = match t.split_once(':') {
            Some((tag, mode)) => (tag, Some(mode.parse()?)),
            None => (t, None),
        };
        Ok(LanguageQuery {
            tag: parse_tag(tag)?,
            mode,
        })
    }
}

/// A period of availability of an offer: `[start, end)`, optionally repeating every week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Chosen by the owner's device.
    pub id: WindowId,
    /// First instant.
    pub start: Time,
    /// First instant after the window.
    pub end: Time,
    /// The IANA zone the owner entered the window in; weekly repeats keep its wall-clock time.
    pub tz: String,
    /// Whether the window repeats every week until the offer expires.
    pub weekly: bool,
    /// How many units (beds, rooms, shifts...) the window offers at any instant.
    pub total: u32,
    /// One-way: once cancelled, no concurrent edit brings the window back.
    pub cancelled: bool,
}

/// A window as the owner describes it, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWindow {
    /// First instant.
    pub start: Time,
    /// First instant after the window.
    pub end: Time,
    /// Time zone name.
    pub tz: String,
    /// Weekly repeat.
    pub weekly: bool,
    /// Units available.
    pub total: u32,
}

impl NewWindow {
    /// Checks the window on its own.
    pub fn validate(&self) -> Result<(), SchemaError> {
        if self.end <= self.start {
            return Err(Rule::WindowEndsBeforeStart.into());
        }
        if self.end.0.saturating_sub(self.start.0) > MAX_DURATION_SECS {
            return Err(Rule::WindowTooLong.into());
        }
        if self.weekly && self.end.0 - self.start.0 > 7 * 86_400 {
            return Err(Rule::WeeklyWindowTooLong.into());
        }
        if self.total == 0 || self.total > MAX_WINDOW_TOTAL {
            return Err(Rule::WindowTotal.into());
        }
        crate::time::zone(&self.tz)?;
        Ok(())
    }
}

/// The descriptive fields of an offer that its owner sets and may later change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferFields {
    /// What kind of help.
    pub kind: Kind,
    /// The owner's pseudonym for the subject ("host-7f3k").
    pub handle: String,
    /// Who or what stands behind the offer.
    pub subject: SubjectType,
    /// Counties served (at least one).
    pub counties: Vec<County>,
    /// An optional organisation-defined zone label ("south-sac").
    pub zone: Option<String>,
    /// Languages and modes.
    pub languages: Vec<Language>,
    /// Populations accepted.
    pub accepts: Vec<Accepts>,
    /// Affirmations.
    pub affirming: Vec<Affirming>,
    /// Accessibility features.
    pub accessibility: Vec<Accessibility>,
    /// Household notes.
    pub household: Vec<HouseholdNote>,
    /// Capabilities.
    pub capabilities: Vec<Capability>,
    /// What window totals count.
    pub unit: Unit,
    /// Notice needed before use, seconds.
    pub lead_time: Option<i64>,
    /// Longest stay, seconds.
    pub max_stay: Option<i64>,
    /// How well the owner knows the subject.
    pub vetting: Vetting,
    /// The owner's capacity hint.
    pub status: StatusHint,
    /// A short checked label.
    pub label: String,
    /// Bond funds: the band of what they can post.
    pub bond_band: Option<BondBand>,
    /// Bond funds: how soon they can post, seconds.
    pub post_within: Option<i64>,
}

fn sorted_dedup<T: Ord>(v: &mut Vec<T>) {
    v.sort();
    v.dedup();
}

impl OfferFields {
    /// Normalises set-valued fields (sorted, no duplicates) and checks every rule of DOMAIN.md
    /// that concerns a single offer.
    pub fn normalize_and_validate(&mut self) -> Result<(), SchemaError> {
        check_slug("handle", &self.handle)?;
        if let Some(z) = &self.zone {
            check_slug("zone", z)?;
        }
        check_label(&self.label)?;
        sorted_dedup(&mut self.counties);
        sorted_dedup(&mut self.languages);
        sorted_dedup(&mut self.accepts);
        sorted_dedup(&mut self.affirming);
        sorted_dedup(&mut self.accessibility);
        sorted_dedup(&mut self.household);
        sorted_dedup(&mut self.capabilities);
        if self.counties.is_empty() {
            return Err(Rule::NoCounty.into());
        }
        if self.counties.len() > MAX_COUNTIES {
            return Err(Rule::TooManyCounties.into());
        }
        if self.languages.len() > MAX_LANGUAGES {
            return Err(Rule::TooManyLanguages.into());
        }
        for (field, v) in [
            (Field::LeadTime, self.lead_time),
            (Field::MaxStay, self.max_stay),
            (Field::PostWithin, self.post_within),
        ] {
            if let Some(s) = v
                && !(1..=MAX_DURATION_SECS).contains(&s)
            {
                return Err(Rule::OutOfRange(field).into());
            }
        }
        let money = self.kind == Kind::BondFund || self.unit == Unit::Usd;
        if !money && (self.bond_band.is_some() || self.post_within.is_some()) {
            return Err(Rule::BondFieldsWithoutBondFund.into());
        }
        if self.kind == Kind::BondFund && self.unit != Unit::Usd {
            return Err(Rule::BondFundNotInUsd.into());
        }
        Ok(())
    }
}

/// A new offer as the owner describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    /// Descriptive fields.
    pub fields: OfferFields,
    /// Windows of availability.
    pub windows: Vec<NewWindow>,
    /// How long until it expires, seconds; `None` takes the kind's default.
    pub expires_in: Option<i64>,
}

impl NewOffer {
    /// Normalises and checks the whole offer.
    pub fn validate(&mut self) -> Result<(), SchemaError> {
        self.fields.normalize_and_validate()?;
        if self.windows.len() > MAX_WINDOWS_PER_OFFER {
            return Err(Rule::TooManyWindows.into());
        }
        for w in &self.windows {
            w.validate()?;
        }
        if let Some(e) = self.expires_in
            && !(1..=MAX_DURATION_SECS).contains(&e)
        {
            return Err(Rule::OutOfRange(Field::ExpiresIn).into());
        }
        Ok(())
    }

    /// The expiry this offer gets when created or confirmed at `now`.
    pub fn expiry_from(&self, now: Time) -> Time {
        now.plus(
            self.expires_in
                .unwrap_or(self.fields.kind.default_expiry_secs()),
        )
    }
}

/// A change to an existing offer: every `Some` field replaces the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferPatch {
    /// New handle.
    pub handle: Option<String>,
    /// New counties.
    pub counties: Option<Vec<County>>,
    /// New zone (`Some(None)` clears it).
    pub zone: Option<Option<String>>,
    /// New languages.
    pub languages: Option<Vec<Language>>,
    /// New accepted populations.
    pub accepts: Option<Vec<Accepts>>,
    /// New affirmations.
    pub affirming: Option<Vec<Affirming>>,
    /// New accessibility features.
    pub accessibility: Option<Vec<Accessibility>>,
    /// New household notes.
    pub household: Option<Vec<HouseholdNote>>,
    /// New capabilities.
    pub capabilities: Option<Vec<Capability>>,
    /// New lead time.
    pub lead_time: Option<Option<i64>>,
    /// New max stay.
    pub max_stay: Option<Option<i64>>,
    /// New vetting level.
    pub vetting: Option<Vetting>,
    /// New status hint.
    pub status: Option<StatusHint>,
    /// New label.
    pub label: Option<String>,
    /// New bond band.
    pub bond_band: Option<Option<BondBand>>,
    /// New post-within.
    pub post_within: Option<Option<i64>>,
    /// Windows to add.
    pub add_windows: Vec<NewWindow>,
    /// Windows to cancel (one-way).
    pub cancel_windows: Vec<WindowId>,
    /// New expiry, seconds from now.
    pub expires_in: Option<i64>,
}

impl OfferPatch {
    /// Applies the patch to a copy of `current` and validates the result.
    pub fn apply_to(&self, current: &OfferFields) -> Result<OfferFields, SchemaError> {
        let mut f = current.clone();
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = &self.$field { f.$field = v.clone(); })* };
        }
        set!(
            handle,
            counties,
            zone,
            languages,
            accepts,
            affirming,
            accessibility,
            household,
            capabilities,
            lead_time,
            max_stay,
            vetting,
            status,
            label,
            bond_band,
            post_within
        );
        f.normalize_and_validate()?;
        for w in &self.add_windows {
            w.validate()?;
        }
        Ok(f)
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == OfferPatch::default()
    }
}

/// An offer as stored in the shared document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Its id.
    pub id: OfferId,
    /// The owning organisation: the partition it lives in.
    pub owner: OrgId,
    /// Descriptive fields.
    pub fields: OfferFields,
    /// Windows, ordered by start.
    pub windows: Vec<Window>,
    /// When it was created (the owner's clock).
    pub created_at: Time,
    /// When the owner last confirmed it (the latest of concurrent confirmations).
    pub last_confirmed_at: Time,
    /// When it stops being listed (the latest of concurrent values).
    pub expires_at: Time,
    /// One-way: once withdrawn, no concurrent edit brings it back.
    pub withdrawn: bool,
}

/// A partner's claim on a window of an offer. It lives in the requester's partition; the
/// owner's answer lives in the owner's partition as a [`crate::Decision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Its id, chosen by the requester's device.
    pub id: HoldId,
    /// The organisation placing the hold: the partition it lives in.
    pub requester: OrgId,
    /// The organisation owning the offer.
    pub owner: OrgId,
    /// The offer held.
    pub offer: OfferId,
    /// The window held.
    pub window: WindowId,
    /// How many units.
    pub qty: u32,
    /// Start of the held sub-interval.
    pub from: Time,
    /// End of the held sub-interval (exclusive).
    pub to: Time,
    /// When the requester placed it (its clock; used only to order competing holds).
    pub created_at: Time,
    /// When it lapses without an answer from the owner.
    pub expires_at: Time,
    /// One-way: the requester released it.
    pub released: bool,
}

impl Hold {
    /// Checks the hold on its own.
    pub fn validate(&self) -> Result<(), SchemaError> {
        if self.qty == 0 || self.qty > MAX_HOLD_QTY {
            return Err(Rule::HoldQuantity.into());
        }
        if self.to <= self.from {
            return Err(Rule::HoldEndsBeforeStart.into());
        }
        if self.requester == self.owner {
            return Err(Rule::OwnOffer.into());
        }
        Ok(())
    }
}

/// An organisation's profile, in its own partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgProfile {
    /// Display name (may be a code name).
    pub name: String,
    /// Counties served.
    pub counties: Vec<County>,
    /// Kinds offered.
    pub kinds: Vec<Kind>,
    /// How partners reach the organisation about an offer: a hotline, Signal handle or form.
    pub intake: String,
    /// The zone its coordinators enter dates in.
    pub tz: String,
}

impl OrgProfile {
    /// Checks the profile.
    pub fn validate(&mut self) -> Result<(), SchemaError> {
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(Rule::OrgName.into());
        }
        self.name = name.to_string();
        if self.intake.chars().count() > MAX_INTAKE_CHARS
            || self.intake.chars().any(char::is_control)
        {
            return Err(Rule::Intake.into());
        }
        sorted_dedup(&mut self.counties);
        sorted_dedup(&mut self.kinds);
        crate::time::zone(&self.tz)?;
        Ok(())
    }
}

/// Parses a `;`- or `,`-separated list of terms.
pub fn parse_list<T: FromStr>(text: &str) -> Result<Vec<T>, T::Err> {
    text.split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// Joins terms with `;`, the stored and CSV form of a set.
pub fn join_list<T: fmt::Display>(items: &[T]) -> String {
    let mut out = String::new();
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&t.to_string());
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fields(kind: Kind) -> OfferFields {
        OfferFields {
            kind,
            handle: "host-7f3k".into(),
            subject: SubjectType::Household,
            counties: vec!["06067".parse().expect("valid county")],
            zone: Some("south-sac".into()),
            languages: parse_list("es;en:conversational").expect("valid languages"),
            accepts: vec![Accepts::TransWomen],
            affirming: vec![Affirming::Trans, Affirming::Lgbtq],
            accessibility: vec![],
            household: vec![],
            capabilities: vec![],
            unit: kind.default_unit(),
            lead_time: None,
            max_stay: Some(14 * 86_400),
            vetting: Vetting::OrgVetted,
            status: StatusHint::Capacity,
            label: "quiet room".into(),
            bond_band: None,
            post_within: None,
        }
    }

    #[test]
    fn counties_are_five_digits() {
        assert!("06067".parse::<County>().is_ok());
        for bad in ["6067", "060670", "Sacramento", "06o67"] {
            assert!(bad.parse::<County>().is_err(), "{bad}");
        }
    }

    #[test]
    fn languages_parse_with_modes() {
        let l: Language = "mam:relay-via-es".parse().expect("valid");
        assert_eq!(l.tag, "mam");
        assert_eq!(l.mode, LangMode::RelayViaEs);
        let l: Language = "ES".parse().expect("valid");
        assert_eq!(l.to_string(), "es:fluent");
        assert!("spanish!".parse::<Language>().is_err());
        assert!("es:sometimes".parse::<Language>().is_err());
        let q: LanguageQuery = "mam".parse().expect("valid");
        assert!(
            "mam:phone"
                .parse::<Language>()
                .expect("valid")
                .satisfies(&q)
        );
        let q: LanguageQuery = "mam:relay-via-es".parse().expect("valid");
        assert!(
            !"mam:phone"
                .parse::<Language>()
                .expect("valid")
                .satisfies(&q)
        );
    }

    #[test]
    fn offer_rules() {
        let mut f = fields(Kind::HostHome);
        assert_eq!(f.normalize_and_validate(), Ok(()));
        assert_eq!(f.affirming, vec![Affirming::Lgbtq, Affirming::Trans]);

        let mut f = fields(Kind::HostHome);
        f.counties.clear();
        assert!(f.normalize_and_validate().is_err());

        let mut f = fields(Kind::HostHome);
        f.label = "ring 916 555 0199".into();
        assert!(matches!(
            f.normalize_and_validate(),
            Err(SchemaError::Label(_))
        ));

        let mut f = fields(Kind::HostHome);
        f.handle = "Maria Lopez".into();
        assert!(matches!(
            f.normalize_and_validate(),
            Err(SchemaError::Slug(_))
        ));

        let mut f = fields(Kind::HostHome);
        f.bond_band = Some(BondBand::Over15k);
        assert!(f.normalize_and_validate().is_err());
    }

    #[test]
    fn windows_must_be_forward_and_bounded() {
        let w = NewWindow {
            start: Time(100),
            end: Time(50),
            tz: "UTC".into(),
            weekly: false,
            total: 1,
        };
        assert!(w.validate().is_err());
        let w = NewWindow {
            start: Time(0),
            end: Time(50),
            tz: "UTC".into(),
            weekly: false,
            total: 0,
        };
        assert!(w.validate().is_err());
        let w = NewWindow {
            start: Time(0),
            end: Time(50),
            tz: "Mars/Olympus".into(),
            weekly: false,
            total: 1,
        };
        assert!(w.validate().is_err());
        let w = NewWindow {
            start: Time(0),
            end: Time(50),
            tz: "UTC".into(),
            weekly: true,
            total: 3,
        };
        assert_eq!(w.validate(), Ok(()));
    }
}
