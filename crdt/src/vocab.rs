//! The closed vocabularies of the shared document (DOMAIN.md): kinds, subject types, modes,
//! populations accepted, affirmations, accessibility, household notes, capabilities, units,
//! vetting levels, status hints and bond bands.
//!
//! Every term has exactly one spelling on the wire, on disk and on the command line. Parsing is
//! strict: an unknown term is an error that lists the accepted ones, never a silent default.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A term that is not in its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{text}`; expected one of: {expected}")]
pub struct VocabError {
    /// Which vocabulary was asked for.
    pub what: &'static str,
    /// The text that did not match (truncated).
    pub text: String,
    /// The accepted terms, comma-separated.
    pub expected: String,
}

macro_rules! vocab {
    ($(#[$doc:meta])* $name:ident, $what:expr, { $($(#[$vdoc:meta])* $variant:ident => $text:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every term, in the order of the vocabulary.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The one spelling of this term.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = VocabError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($text) { return Ok($name::$variant); })+
                Err(VocabError {
                    what: $what,
                    text: t.chars().take(40).collect(),
                    expected: [$($text),+].join(", "),
                })
            }
        }

        // The term in human-readable formats (JSON), its place in `ALL` in compact ones (the
        // view cached in the local snapshot). Terms are only ever added at the end of a
        // vocabulary; the cached view carries a version and is rebuilt when it differs.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(self.as_str())
                } else {
                    let i = $name::ALL.iter().position(|t| t == self).unwrap_or(0);
                    s.serialize_u8(u8::try_from(i).unwrap_or(u8::MAX))
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = String::deserialize(d)?;
                    text.parse().map_err(serde::de::Error::custom)
                } else {
                    let i = u8::deserialize(d)?;
                    $name::ALL
                        .get(usize::from(i))
                        .copied()
                        .ok_or_else(|| serde::de::Error::custom(concat!("unknown ", $what)))
                }
            }
        }
    };
}

vocab!(
    /// What kind of help an offer is (the project taxonomy of DOMAIN.md).
    Kind, "kind", {
        HostHome => "host-home",
        ShelterBed => "shelter-bed",
        DvConfidentialShelter => "dv-confidential-shelter",
        BondFund => "bond-fund",
        BondObligor => "bond-obligor",
        ParoleSponsor => "parole-sponsor",
        HousingSponsor => "housing-sponsor",
        AccompanyCourt => "accompany-court",
        AccompanyIceCheckin => "accompany-ice-checkin",
        AccompanyDmv => "accompany-dmv",
        AccompanySchool => "accompany-school",
        LegalConsult => "legal-consult",
        LegalRepresentation => "legal-representation",
        BondHearingPrep => "bond-hearing-prep",
        MedicalPrimary => "medical-primary",
        GenderAffirmingCare => "gender-affirming-care",
        HivCare => "hiv-care",
        MentalHealth => "mental-health",
        Interpretation => "interpretation",
        TransportDriver => "transport-driver",
        RrLegalObserver => "rr-legal-observer",
        RrDispatcher => "rr-dispatcher",
        FundsEmergencyCash => "funds-emergency-cash",
        Commissary => "commissary",
        Other => "other",
    }
);

impl Kind {
    /// How long an offer of this kind stays listed before it must be confirmed again, in
    /// seconds. Housing goes stale fastest (DOMAIN.md: "available three months ago" is the
    /// failure to avoid); standing programmes of an organisation change more slowly.
    pub const fn default_expiry_secs(self) -> i64 {
        const DAY: i64 = 86_400;
        match self {
            Kind::HostHome | Kind::ShelterBed | Kind::DvConfidentialShelter => 14 * DAY,
            Kind::BondFund | Kind::FundsEmergencyCash | Kind::Commissary => 30 * DAY,
            Kind::AccompanyCourt
            | Kind::AccompanyIceCheckin
            | Kind::AccompanyDmv
            | Kind::AccompanySchool
            | Kind::TransportDriver
            | Kind::RrLegalObserver
            | Kind::RrDispatcher
            | Kind::Interpretation => 21 * DAY,
            _ => 60 * DAY,
        }
    }

    /// The unit an offer of this kind is counted in when the owner does not say.
    pub const fn default_unit(self) -> Unit {
        match self {
            Kind::HostHome | Kind::HousingSponsor => Unit::Room,
            Kind::ShelterBed | Kind::DvConfidentialShelter => Unit::Bed,
            Kind::BondFund | Kind::FundsEmergencyCash => Unit::Usd,
            Kind::TransportDriver => Unit::Seat,
            Kind::AccompanyCourt
            | Kind::AccompanyIceCheckin
            | Kind::AccompanyDmv
            | Kind::AccompanySchool
            | Kind::RrLegalObserver
            | Kind::RrDispatcher => Unit::Shift,
            _ => Unit::Slot,
        }
    }

    /// How long a hold on this kind lasts without an answer from the owner, in seconds
    /// (DOMAIN.md: 48 h for beds; shifts and slots are claimed closer to the date).
    pub const fn default_hold_secs(self) -> i64 {
        match self {
            Kind::HostHome | Kind::ShelterBed | Kind::DvConfidentialShelter => 48 * 3600,
            _ => 24 * 3600,
        }
    }

    /// The Open Eligibility id this kind maps to in an HSDS export, where one exists.
    pub const fn open_eligibility(self) -> Option<u32> {
        match self {
            Kind::ShelterBed => Some(1121),
            Kind::DvConfidentialShelter | Kind::HostHome | Kind::HousingSponsor => Some(1125),
            Kind::TransportDriver => Some(1175),
            Kind::BondFund
            | Kind::BondObligor
            | Kind::ParoleSponsor
            | Kind::LegalConsult
            | Kind::BondHearingPrep => Some(1381),
            Kind::LegalRepresentation => Some(1389),
            Kind::Interpretation => Some(1390),
            _ => None,
        }
    }
}

vocab!(
    /// Who or what stands behind an offer.
    SubjectType, "subject type", {
        PersonVolunteer => "person-volunteer",
        Household => "household",
        OrgProgram => "org-program",
        OrgFacility => "org-facility",
    }
);

impl SubjectType {
    /// Whether offers of this subject may appear in a public (HSDS) export: only an
    /// organisation's own programmes and facilities, never a household or a person.
    pub const fn publishable(self) -> bool {
        matches!(self, SubjectType::OrgProgram | SubjectType::OrgFacility)
    }
}

vocab!(
    /// How a language is offered.
    LangMode, "language mode", {
        Fluent => "fluent",
        Conversational => "conversational",
        RelayViaEs => "relay-via-es",
        Phone => "phone",
    }
);

vocab!(
    /// A population an offer accepts.
    Accepts, "accepts value", {
        AdultWomen => "adult-women",
        AdultMen => "adult-men",
        TransWomen => "trans-women",
        TransMen => "trans-men",
        Nonbinary => "nonbinary",
        FamiliesWithChildren => "families-with-children",
        Youth18To24 => "youth-18-24",
        Couples => "couples",
    }
);

vocab!(
    /// An affirmation the owner vouches for.
    Affirming, "affirming value", {
        Lgbtq => "lgbtq",
        Trans => "trans",
    }
);

vocab!(
    /// An accessibility feature.
    Accessibility, "accessibility value", {
        StepFree => "step-free",
        GroundFloorBedroom => "ground-floor-bedroom",
        ServiceAnimalOk => "service-animal-ok",
    }
);

vocab!(
    /// Something a guest should know about a household.
    HouseholdNote, "household note", {
        Pets => "pets",
        Smokers => "smokers",
        ChildrenInHome => "children-in-home",
    }
);

vocab!(
    /// Something the subject of an offer can do.
    Capability, "capability", {
        CanBeBondObligor => "can-be-bond-obligor",
        CanBeParoleSponsor => "can-be-parole-sponsor",
        HasCar => "has-car",
        CarSeat => "car-seat",
        OnCallOvernight => "on-call-overnight",
    }
);

vocab!(
    /// What a window's total counts.
    Unit, "unit", {
        Bed => "bed",
        Room => "room",
        Slot => "slot",
        Shift => "shift",
        Seat => "seat",
        Usd => "usd",
    }
);

vocab!(
    /// How well the owning organisation knows the subject of an offer.
    Vetting, "vetting level", {
        SelfDeclared => "self-declared",
        OrgVetted => "org-vetted",
        OrgVettedTrained => "org-vetted-trained",
    }
);

vocab!(
    /// The owner's hint about capacity, independent of windows.
    StatusHint, "status", {
        Capacity => "capacity",
        NoCapacity => "no-capacity",
        Waitlist => "waitlist",
        AssessmentRequired => "assessment-required",
    }
);

vocab!(
    /// A bond fund's capacity, shared as a band rather than an amount.
    BondBand, "bond band", {
        Under1k => "under-1k",
        From1kTo5k => "1k-5k",
        From5kTo15k => "5k-15k",
        Over15k => "over-15k",
    }
);

impl BondBand {
    /// The smallest amount in US dollars that this band guarantees.
    pub const fn floor_usd(self) -> u64 {
        match self {
            BondBand::Under1k => 0,
            BondBand::From1kTo5k => 1_000,
            BondBand::From5kTo15k => 5_000,
            BondBand::Over15k => 15_000,
        }
    }

    /// The bands that guarantee at least this many dollars (a band's floor is what it promises).
    pub fn at_least(usd: u64) -> Vec<BondBand> {
        BondBand::ALL
            .iter()
            .copied()
            .filter(|b| b.floor_usd() >= usd)
            .collect()
    }
}

vocab!(
    /// The requester's side of a hold.
    RequesterState, "requester state", {
        Requested => "requested",
        Released => "released",
    }
);

vocab!(
    /// The owner's answer to a hold.
    Decision, "decision", {
        Confirmed => "confirmed",
        Declined => "declined",
    }
);

/// A digest of every vocabulary's terms in order (64-bit FNV-1a): the compact encodings
/// number terms by their place, so the view cached in the local snapshot records this and is
/// rebuilt from the partitions when a vocabulary changed order or length.
pub fn terms_digest() -> u64 {
    let lists: [&[&str]; 14] = [
        &terms(Kind::ALL, Kind::as_str),
        &terms(SubjectType::ALL, SubjectType::as_str),
        &terms(LangMode::ALL, LangMode::as_str),
        &terms(Accepts::ALL, Accepts::as_str),
        &terms(Affirming::ALL, Affirming::as_str),
        &terms(Accessibility::ALL, Accessibility::as_str),
        &terms(HouseholdNote::ALL, HouseholdNote::as_str),
        &terms(Capability::ALL, Capability::as_str),
        &terms(Unit::ALL, Unit::as_str),
        &terms(Vetting::ALL, Vetting::as_str),
        &terms(StatusHint::ALL, StatusHint::as_str),
        &terms(BondBand::ALL, BondBand::as_str),
        &terms(RequesterState::ALL, RequesterState::as_str),
        &terms(Decision::ALL, Decision::as_str),
    ];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for list in lists {
        for term in list.iter().chain(std::iter::once(&"\n")) {
            for b in term.bytes().chain(std::iter::once(0)) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    hash
}

fn terms<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|t| name(*t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_round_trips() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(*k));
        }
        for u in Unit::ALL {
            assert_eq!(u.to_string().parse::<Unit>(), Ok(*u));
        }
    }

    #[test]
    fn unknown_term_lists_the_accepted_ones() {
        let err = "hostel".parse::<Kind>().unwrap_err();
        assert!(err.to_string().contains("unknown kind `hostel`"));
        assert!(err.to_string().contains("host-home"));
    }

    #[test]
    fn bands_at_least() {
        assert_eq!(
            BondBand::at_least(5_000),
            vec![BondBand::From5kTo15k, BondBand::Over15k]
        );
        assert_eq!(BondBand::at_least(0).len(), 4);
    }
}
