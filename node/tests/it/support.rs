//! Helpers shared by the node's integration tests: a replica in a temporary directory and a
//! valid offer.

use std::path::Path;

use puente_crdt::{
    Accepts, Kind, NewOffer, NewWindow, OfferFields, StatusHint, SubjectType, Time, Vetting,
};
use puente_node::replica::{InitOptions, Replica};

pub const PASS: &[u8] = b"a long test passphrase";
pub const NOW: Time = Time(1_795_000_000);

pub fn init(dir: &Path, name: &str) -> Replica {
    Replica::init(
        dir,
        PASS,
        InitOptions {
            name: name.into(),
            counties: vec!["06067".parse().expect("valid county")],
            intake: "hotline".into(),
            tz: "America/Los_Angeles".into(),
        },
        NOW,
    )
    .expect("init succeeds")
}

pub fn offer(handle: &str) -> NewOffer {
    NewOffer {
        fields: OfferFields {
            kind: Kind::HostHome,
            handle: handle.into(),
            subject: SubjectType::Household,
            counties: vec!["06067".parse().expect("valid county")],
            zone: None,
            languages: vec!["es".parse().expect("valid language")],
            accepts: vec![Accepts::TransWomen],
            affirming: vec![],
            accessibility: vec![],
            household: vec![],
            capabilities: vec![],
            unit: Kind::HostHome.default_unit(),
            lead_time: None,
            max_stay: None,
            vetting: Vetting::OrgVetted,
            status: StatusHint::Capacity,
            label: "quiet room".into(),
            bond_band: None,
            post_within: None,
        },
        windows: vec![NewWindow {
            start: NOW,
            end: NOW.plus(14 * 86_400),
            tz: "America/Los_Angeles".into(),
            weekly: false,
            total: 2,
        }],
        expires_in: None,
    }
}
