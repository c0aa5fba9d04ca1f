//! Exports of offers: full JSON and re-importable CSV for partners, and an Open Referral
//! HSDS 3.1 document for public resource directories.
//!
//! JSON and CSV carry everything a partner sees, handles included; they are for the network.
//! CSV uses the columns of the import format, so an export can be edited and imported again:
//! windows are written as absolute local date-times in the zone the caller names, and
//! `expires_in` as the time left. Withdrawn offers and cancelled windows are left out of the CSV
//! (importing them would bring them back as new offers); the JSON keeps them, flagged.
//!
//! HSDS is a publishing format, so [`to_hsds`] publishes only what an organisation would put in
//! a public directory:
//! - only offers of subject `org-program` or `org-facility`; household and person-volunteer
//!   offers are never exported, so no household or volunteer handle can appear;
//! - never `dv-confidential-shelter`, not even as a bare service with a county: the existence
//!   and area of a confidential shelter is itself what must stay private;
//! - never withdrawn or expired offers;
//! - never intake routes, zones, bond bands or dollar amounts (usd capacities);
//! - places only as county FIPS codes (`service_area` with `extent_type` `text`, the value HSDS
//!   documents for plain-text extents; it has no FIPS type).
//!
//! Every output is deterministic: rows are sorted by id, and HSDS ids are UUIDs derived from
//! puente ids (SHA-256, version 8), so exporting twice gives the same document.
//!
//! Boundary: pure functions; no I/O, no clock reads (`now` is an argument).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use jiff::tz::TimeZone;
use puente_crdt::fields::{
    EXPORT_COLUMNS, Field, IMPORT_COLUMNS, PublicOffer, Row, by_name, join, window_spec,
};
use puente_crdt::time::{add_weeks, zone};
use puente_crdt::{
    FieldValue, Kind, LangMode, Language, Offer, OrgId, OrgProfile, Record, StatusHint, Time, Unit,
    Window,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::csv_import::COLUMNS;
use super::formula_safe;
use crate::crypto::labels::HSDS_ID_DOMAIN;

/// Version of the layout of [`to_json`]; a change to the layout is a documented bump.
pub const JSON_EXPORT_VERSION: u32 = 1;

/// The HSDS version [`to_hsds`] follows.
pub const HSDS_VERSION: &str = "3.1";

const WEEK: i64 = 7 * 86_400;

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The CSV writer failed (not expected: it writes to memory).
    #[error("could not write the CSV export")]
    Csv(#[source] csv::Error),
}

/// An offer with what an export shows about its owner.
#[derive(Debug, Clone, Copy)]
pub struct ExportOffer<'a> {
    /// The offer.
    pub offer: &'a Offer,
    /// The owning organisation's display name.
    pub owner_name: &'a str,
    /// How partners reach the owner about it (JSON only; never published in HSDS).
    pub intake: &'a str,
}

impl<'a> ExportOffer<'a> {
    /// The offer as a record of the field table, with `now` for the fields relative to it.
    fn record(&self, now: Option<Time>) -> Record<'a> {
        Record {
            offer: self.offer,
            owner_name: self.owner_name,
            intake: self.intake,
            now,
        }
    }
}

fn sorted_by_id<'a>(offers: &'a [ExportOffer<'a>]) -> Vec<&'a ExportOffer<'a>> {
    let mut v: Vec<&ExportOffer<'a>> = offers.iter().collect();
    v.sort_by_key(|e| (e.offer.id, e.offer.owner));
    v
}

/// The JSON export: `{"offers": [...], "version": JSON_EXPORT_VERSION}`, each offer a record
/// over [`EXPORT_COLUMNS`]. Keys are written in name order however it is serialized.
#[derive(Debug, Serialize)]
pub struct JsonExport<'a> {
    /// The offers, sorted by offer id.
    pub offers: Vec<Row<'a>>,
    /// [`JSON_EXPORT_VERSION`].
    pub version: u32,
}

/// Every offer as a JSON object over [`EXPORT_COLUMNS`] of the field table, sorted by offer
/// id, inside `{"version": JSON_EXPORT_VERSION, "offers": [...]}`. Times are RFC 3339 UTC,
/// durations are written like `48h`, languages as `tag:mode`.
pub fn to_json<'a>(offers: &'a [ExportOffer<'a>]) -> JsonExport<'a> {
    static BY_NAME: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    let columns = BY_NAME.get_or_init(|| by_name(&EXPORT_COLUMNS));
    JsonExport {
        offers: sorted_by_id(offers)
            .into_iter()
            .map(|e| e.record(None).row(columns))
            .collect(),
        version: JSON_EXPORT_VERSION,
    }
}

/// `tag` for fluent (the import default), `tag:mode` otherwise.
fn csv_language(l: &Language) -> String {
    if l.mode == LangMode::Fluent {
        l.tag.clone()
    } else {
        format!("{}:{}", l.tag, l.mode)
    }
}

/// Local `YYYY-MM-DDTHH:MM` (with `:SS` when the seconds are not zero), a form `parse_when`
/// reads back to the same instant.
fn local_datetime(t: Time, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_second(t.0) {
        Ok(ts) => {
            let dt = ts.to_zoned(tz.clone()).datetime();
            if dt.second() == 0 {
                dt.strftime("%Y-%m-%dT%H:%M").to_string()
            } else {
                dt.strftime("%Y-%m-%dT%H:%M:%S").to_string()
            }
        }
        Err(_) => t.0.to_string(),
    }
}

/// One cell of the import format: a field's CSV cell ([`FieldValue::cell`]), except that a
/// fluent language is written without its mode (the import's default) and windows as local
/// date-times in `tz`; any cell a spreadsheet would take for a formula gets a leading `'`
/// (which the import removes; see [`formula_safe`]).
fn import_cell(value: FieldValue<'_>, tz: &TimeZone) -> String {
    let cell = match value {
        FieldValue::Languages(l) => join(l.iter(), csv_language),
        FieldValue::Windows(w) => join(w.into_iter().filter(|w| !w.cancelled), |w| {
            window_spec(w, |t| local_datetime(t, tz))
        }),
        v => v.cell(),
    };
    formula_safe(&cell).into_owned()
}

/// The offers in the import format (the columns [`IMPORT_COLUMNS`] of the field table, with
/// the import's header), sorted by handle then id, written with `csv::Writer`: a cell is
/// quoted when it holds a comma, a quote or a line break.
///
/// Windows are written in `tz` as absolute local date-times, so importing the file again in
/// the same zone gives the same instants (a weekly window then repeats in that zone).
/// `expires_in` is the whole minutes left at `now`, or empty when less than a minute is left.
/// Withdrawn offers and cancelled windows are left out. A cell that a spreadsheet would take
/// for a formula (see [`super::FORMULA_STARTS`]) is written with a leading `'`, which the
/// import removes. An offer with more windows than fit in one cell of the import
/// ([`super::MAX_CELL_CHARS`], about twenty windows) is written but will not import again.
pub fn to_csv(offers: &[ExportOffer<'_>], tz: &TimeZone, now: Time) -> Result<String, ExportError> {
    let mut rows: Vec<&ExportOffer<'_>> = offers.iter().filter(|e| !e.offer.withdrawn).collect();
    rows.sort_by(|a, b| {
        (&a.offer.fields.handle, a.offer.id).cmp(&(&b.offer.fields.handle, b.offer.id))
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(ExportError::Csv)?;
    for e in rows {
        let record = e.record(Some(now));
        w.write_record(
            IMPORT_COLUMNS
                .iter()
                .map(|f| import_cell(f.read(record), tz)),
        )
        .map_err(ExportError::Csv)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))?;
    // Every cell is a `String`, so the bytes are UTF-8 and nothing is replaced.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether an offer may appear in a public HSDS export at `now`: an organisation's own
/// programme or facility, not a confidential shelter, not withdrawn and not expired (see
/// [`PublicOffer::of`]).
pub fn hsds_publishable(offer: &Offer, now: Time) -> bool {
    PublicOffer::of(offer, now).is_some()
}

/// Terms as a sentence lists them: `a, b, c`.
fn words<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A UUID (RFC 9562 version 8) derived from the table and a puente key, so HSDS ids are
/// stable across exports and reveal nothing beyond what the export already says.
fn hsds_id(table: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(HSDS_ID_DOMAIN)
        .chain_update(table.as_bytes())
        .chain_update(b"\0")
        .chain_update(key.as_bytes())
        .finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// The Open Eligibility term names for the ids of [`Kind::open_eligibility`] (DOMAIN.md).
fn open_eligibility_name(code: u32) -> &'static str {
    match code {
        1121 => "Emergency Shelter",
        1125 => "Safe Housing",
        1175 => "Transportation",
        1381 => "Citizenship & Immigration",
        1389 => "Representation",
        1390 => "Translation & Interpretation",
        _ => "Open Eligibility term",
    }
}

/// English names of the languages the network works in; other tags are named by their code.
fn language_name(code: &str) -> &str {
    match code {
        "es" => "Spanish",
        "en" => "English",
        "mam" => "Mam",
        "quc" => "K'iche'",
        "kjb" => "Q'anjob'al",
        "kek" => "Q'eqchi'",
        "cak" => "Kaqchikel",
        "ixl" => "Ixil",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "uk" => "Ukrainian",
        "fa" => "Persian",
        "prs" => "Dari",
        "ht" => "Haitian Creole",
        "zh" => "Chinese",
        "ar" => "Arabic",
        "ps" => "Pashto",
        "fr" => "French",
        "vi" => "Vietnamese",
        "tl" => "Tagalog",
        other => other,
    }
}

/// Whether window `w` offers its total at instant `t` (weekly windows repeat in their own
/// zone while `before` has not been reached).
fn covers(w: &Window, t: Time, before: Time) -> bool {
    if w.cancelled || t < w.start {
        return false;
    }
    if !w.weekly {
        return t < w.end;
    }
    let tz = zone(&w.tz).ok();
    let shift = |x: Time, k: i64| match &tz {
        Some(tz) => add_weeks(x, k, tz),
        None => Some(x.plus(k.saturating_mul(WEEK))),
    };
    let k0 = (t.0 - w.start.0) / WEEK;
    (k0.saturating_sub(1)..=k0.saturating_add(1)).any(|k| {
        matches!(
            (shift(w.start, k), shift(w.end, k)),
            (Some(s), Some(e)) if s < before && s <= t && t < e
        )
    })
}

/// Whether window `w` still has time ahead of `now` before the offer expires.
fn live(w: &Window, now: Time, expires_at: Time) -> bool {
    !w.cancelled && w.start < expires_at && (w.weekly || w.end > now)
}

/// An HSDS 3.1 document of the publisher's own publishable offers (see [`hsds_publishable`]
/// and the module documentation for what is withheld), with the tables `organizations`,
/// `services`, `languages`, `service_areas`, `service_capacity`, `units`, `taxonomies`,
/// `taxonomy_terms` and `attributes`, each sorted by id.
///
/// Invariant: only `publisher`'s offers appear: an organisation publishes what is its own to
/// share, never a partner's, whatever `offers` holds. The publisher appears as the one
/// organisation when it has a published service. `service_capacity.available` is what the
/// windows offer at `now`, before partners' holds; it is given only for countable units (never
/// usd).
pub fn to_hsds(offers: &[ExportOffer<'_>], publisher: (OrgId, &OrgProfile), now: Time) -> Value {
    let (own, own_profile) = publisher;
    let mut organizations: BTreeMap<OrgId, Value> = BTreeMap::new();
    let mut services = Vec::new();
    let mut languages = Vec::new();
    let mut areas = Vec::new();
    let mut capacities = Vec::new();
    let mut attributes = Vec::new();
    let mut units: BTreeSet<Unit> = BTreeSet::new();
    let mut kinds: BTreeSet<Kind> = BTreeSet::new();
    let mut oe_codes: BTreeSet<u32> = BTreeSet::new();

    for e in sorted_by_id(offers) {
        if e.offer.owner != own {
            continue;
        }
        // Only what the field table marks publishable is read from here on.
        let Some(f) = PublicOffer::of(e.offer, now) else {
            continue;
        };
        let org_id = hsds_id("organization", &f.owner.to_string());
        organizations.entry(f.owner).or_insert_with(|| {
            let name = own_profile.name.as_str();
            let description = if own_profile.counties.is_empty() {
                "Partner organisation of a puente network.".to_string()
            } else {
                format!("Serves counties (FIPS) {}.", words(&own_profile.counties))
            };
            json!({ "id": org_id, "name": name, "description": description })
        });

        let service_key = f.offer_id.to_string();
        let service_id = hsds_id("service", &service_key);
        let mut service = json!({
            "id": service_id,
            "organization_id": org_id,
            "name": f.handle,
            "description": if f.label.is_empty() { f.kind.to_string() } else { f.label.to_string() },
            "status": if f.status == StatusHint::NoCapacity { "inactive" } else { "active" },
            "assured_date": f.last_confirmed_at.rfc3339().get(..10).unwrap_or_default(),
        });
        let relay: Vec<&str> = f
            .languages
            .iter()
            .filter(|l| l.mode == LangMode::RelayViaEs)
            .map(|l| language_name(&l.tag))
            .collect();
        if !relay.is_empty() {
            service["interpretation_services"] = json!(format!(
                "Through Spanish interpretation: {}.",
                relay.join(", ")
            ));
        }
        let process = match f.status {
            StatusHint::Waitlist => Some("Waitlist: new requests wait for a free place."),
            StatusHint::AssessmentRequired => Some("An assessment comes before the service."),
            _ => None,
        };
        if let Some(p) = process {
            service["application_process"] = json!(p);
        }
        let mut eligibility = Vec::new();
        if !f.accepts.is_empty() {
            eligibility.push(format!("Accepts: {}.", words(f.accepts)));
        }
        if !f.affirming.is_empty() {
            eligibility.push(format!("Affirming: {}.", words(f.affirming)));
        }
        if !eligibility.is_empty() {
            service["eligibility_description"] = json!(eligibility.join(" "));
        }
        services.push(service);

        for l in f
            .languages
            .iter()
            .filter(|l| l.mode != LangMode::RelayViaEs)
        {
            let code = l.tag.split('-').next().unwrap_or(&l.tag);
            let mut lang = json!({
                "id": hsds_id("language", &format!("{service_key}/{l}")),
                "service_id": service_id,
                "name": language_name(code),
                "code": code,
            });
            match l.mode {
                LangMode::Phone => lang["note"] = json!("by phone"),
                LangMode::Conversational => lang["note"] = json!("conversational"),
                _ => {}
            }
            languages.push(lang);
        }

        for c in f.counties {
            areas.push(json!({
                "id": hsds_id("service_area", &format!("{service_key}/{c}")),
                "service_id": service_id,
                "name": format!("County FIPS {c}"),
                "description": format!("The US county with FIPS code {c}."),
                "extent": c.as_str(),
                "extent_type": "text",
            }));
        }

        let live_windows: Vec<&Window> = f
            .windows
            .iter()
            .filter(|w| live(w, now, f.expires_at))
            .collect();
        if f.unit != Unit::Usd && !live_windows.is_empty() {
            let available: u64 = if f.status == StatusHint::NoCapacity {
                0
            } else {
                live_windows
                    .iter()
                    .filter(|w| covers(w, now, f.expires_at))
                    .map(|w| u64::from(w.total))
                    .sum()
            };
            let maximum = live_windows.iter().map(|w| w.total).max().unwrap_or(0);
            let unit_id = hsds_id("unit", f.unit.as_str());
            capacities.push(json!({
                "id": hsds_id("service_capacity", &service_key),
                "service_id": service_id,
                "unit_id": unit_id,
                "unit": { "id": unit_id, "name": f.unit.as_str() },
                "available": available,
                "maximum": maximum,
                "description": format!(
                    "Units ({}) offered at the time of export, before partners' holds; ask the organisation to confirm.",
                    f.unit
                ),
                "updated": now.rfc3339(),
            }));
            units.insert(f.unit);
        }

        kinds.insert(f.kind);
        attributes.push(json!({
            "id": hsds_id("attribute", &format!("{service_key}/kind")),
            "link_id": service_id,
            "link_type": "service_type",
            "link_entity": "service",
            "taxonomy_term_id": hsds_id("taxonomy_term", &format!("puente/{}", f.kind)),
        }));
        if let Some(code) = f.kind.open_eligibility() {
            oe_codes.insert(code);
            attributes.push(json!({
                "id": hsds_id("attribute", &format!("{service_key}/open-eligibility")),
                "link_id": service_id,
                "link_type": "service_type",
                "link_entity": "service",
                "taxonomy_term_id": hsds_id("taxonomy_term", &format!("open-eligibility/{code}")),
            }));
        }
    }

    let puente_tax = hsds_id("taxonomy", "puente");
    let oe_tax = hsds_id("taxonomy", "open-eligibility");
    let mut taxonomies = Vec::new();
    if !kinds.is_empty() {
        taxonomies.push(json!({
            "id": puente_tax,
            "name": "puente kinds",
            "description": "The kinds of help offered in a puente network.",
        }));
    }
    if !oe_codes.is_empty() {
        taxonomies.push(json!({
            "id": oe_tax,
            "name": "Open Eligibility",
            "description": "The Open Eligibility taxonomy of human services.",
        }));
    }
    let mut terms: Vec<Value> = kinds
        .iter()
        .map(|k| {
            json!({
                "id": hsds_id("taxonomy_term", &format!("puente/{k}")),
                "code": k.as_str(),
                "name": k.as_str(),
                "description": format!("puente kind {k}."),
                "taxonomy_id": puente_tax,
            })
        })
        .collect();
    terms.extend(oe_codes.iter().map(|code| {
        json!({
            "id": hsds_id("taxonomy_term", &format!("open-eligibility/{code}")),
            "code": code.to_string(),
            "name": open_eligibility_name(*code),
            "description": format!("Open Eligibility {code}: {}.", open_eligibility_name(*code)),
            "taxonomy_id": oe_tax,
        })
    }));
    let units: Vec<Value> = units
        .iter()
        .map(|u| json!({ "id": hsds_id("unit", u.as_str()), "name": u.as_str() }))
        .collect();

    json!({
        "hsds_version": HSDS_VERSION,
        "generated_at": now.rfc3339(),
        "organizations": by_id(organizations.into_values().collect()),
        "services": by_id(services),
        "languages": by_id(languages),
        "service_areas": by_id(areas),
        "service_capacity": by_id(capacities),
        "units": by_id(units),
        "taxonomies": by_id(taxonomies),
        "taxonomy_terms": by_id(terms),
        "attributes": by_id(attributes),
    })
}

fn by_id(mut rows: Vec<Value>) -> Value {
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::csv_import::parse_offers_csv;
    use jiff::civil::Date;
    use puente_crdt::{Field, NewOffer, OfferId, SubjectType, WindowId};

    const TZ: &str = "America/Los_Angeles";

    fn today() -> Date {
        Date::constant(2026, 11, 22)
    }

    fn now() -> Time {
        Time(
            zone(TZ)
                .expect("bundled zone")
                .to_timestamp(today().at(10, 0, 0, 0))
                .expect("valid local time")
                .as_second(),
        )
    }

    /// Stores a new offer as the owner's node would at `now`.
    fn store(new: &NewOffer, n: u8, owner: OrgId) -> Offer {
        puente_crdt::test_utils::published(new, n, owner, now())
    }

    fn offer_from_row(row: &str, n: u8, owner: OrgId) -> Offer {
        // Every column but the last, `owner`: the rows below describe offers without one.
        let text = format!("{}\n{row}\n", COLUMNS[..COLUMNS.len() - 1].join(","));
        let plan = parse_offers_csv(text.as_bytes(), today(), TZ).expect("a readable file");
        assert_eq!(plan.rejected, vec![]);
        store(&plan.offers[0].1, n, owner)
    }

    fn profile(name: &str) -> OrgProfile {
        OrgProfile {
            name: name.into(),
            counties: vec!["06067".parse().expect("valid county")],
            kinds: vec![],
            intake: "signal: intake-desk".into(),
            tz: TZ.into(),
        }
    }

    /// Compares `actual` with the file `name` in `testdata/`; `UPDATE_GOLDEN=1` rewrites it.
    fn golden(name: &str, actual: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/interchange/testdata")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, actual).expect("a writable golden file");
            return;
        }
        let want = std::fs::read_to_string(&path).expect("a golden file");
        assert!(
            actual == want,
            "{name} changed; rerun with UPDATE_GOLDEN=1 and review the diff"
        );
    }

    /// Offers of two owners that exercise every field and every quoting rule.
    fn golden_offers() -> Vec<Offer> {
        let owner = OrgId::from_bytes([1; 10]);
        let other = OrgId::from_bytes([2; 10]);
        let mut offers = vec![
            offer_from_row(
                "tricky-a,host-home,household,06067,south-sac,es;mam:relay-via-es,trans-women,trans,,,,room,+1d..+20d=2;+2dT13:00..+2dT16:30=1/weekly,90m,30d,org-vetted,,14d,\"quiet room, \"\"big\"\" bed; near bus\",,",
                1,
                owner,
            ),
            offer_from_row(
                "tricky-bond,bond-fund,org-program,06067;06113,,en;es:conversational,,,,,,usd,,,,org-vetted,,30d,fund,5k-15k,36h",
                2,
                owner,
            ),
            offer_from_row(
                "legal-clinic,legal-consult,org-program,06061;06067,davis,es;en;mam:relay-via-es;quc:phone,adult-women;families-with-children,lgbtq;trans,step-free,,has-car,slot,today..+14d=6;+1dT09:00..+1dT12:00=2/weekly,24h,,org-vetted-trained,waitlist,14d,placeholder,,",
                3,
                other,
            ),
            offer_from_row(
                "shelter-main,shelter-bed,org-facility,06113,,es;en,adult-women,,,pets,,bed,+2d..+9d=4,,7d,org-vetted,assessment-required,3d,=SUM(A1) not a formula,,",
                4,
                other,
            ),
            offer_from_row(
                "dv-room,dv-confidential-shelter,org-facility,06067,,es,families-with-children,,,,,bed,today..+3d=2,,,org-vetted,,,family room,,",
                5,
                other,
            ),
            offer_from_row(
                "driver-gone,transport-driver,person-volunteer,06067,,,,,,,,seat,+1d..+2d=1,,,self-declared,no-capacity,,,,",
                6,
                owner,
            ),
            offer_from_row(
                "driver-two,transport-driver,org-program,06067,,,,,,,car-seat;has-car,seat,+1d..+2d=1;+3d..+4d=1,,,org-vetted,no-capacity,5h,+plus -minus @at,,",
                7,
                owner,
            ),
        ];
        // The import trims cells; a label typed with `offer add` need not be.
        offers[2].fields.label = " spaced label ".into();
        offers[5].withdrawn = true;
        offers[6].windows[0].cancelled = true;
        offers
    }

    fn golden_exports(offers: &[Offer]) -> Vec<ExportOffer<'_>> {
        offers
            .iter()
            .map(|o| ExportOffer {
                offer: o,
                owner_name: if o.owner == OrgId::from_bytes([1; 10]) {
                    "Capitol Legal & Bond"
                } else {
                    ""
                },
                intake: "hotline, ask for \"intake\"",
            })
            .collect()
    }

    #[test]
    fn exports_keep_their_bytes() {
        let offers = golden_offers();
        let exports = golden_exports(&offers);
        let tz = zone(TZ).expect("bundled zone");
        golden("export.csv", &to_csv(&exports, &tz, now()).expect("CSV"));
        let json = serde_json::to_string_pretty(&to_json(&exports)).expect("JSON");
        golden("export.json", &json);
        let p = profile("Capitol Legal & Bond");
        let hsds = to_hsds(&exports, (OrgId::from_bytes([1; 10]), &p), now());
        golden(
            "export.hsds.json",
            &serde_json::to_string_pretty(&hsds).expect("JSON"),
        );
    }

    /// The Open Referral HSDS 3.1 table schemas kept in `docs/hsds-3.1` (see its SOURCE.md),
    /// registered under one base so that their relative `$ref`s resolve offline.
    fn hsds_validator(table_schema: &str) -> jsonschema::Validator {
        const BASE: &str = "https://hsds.invalid/schema/";
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hsds-3.1/schema");
        let mut schemas = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("docs/hsds-3.1/schema is there") {
            let path = entry.expect("a directory entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a file name")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("a schema file");
            let value: Value = serde_json::from_str(&text).expect("a JSON schema");
            schemas.push((format!("{BASE}{name}"), value));
        }
        let registry = jsonschema::Registry::new()
            .extend(schemas)
            .expect("valid URIs")
            .prepare()
            .expect("the schemas resolve");
        jsonschema::options()
            .offline()
            .should_validate_formats(true)
            .with_registry(&registry)
            .build(&json!({ "$ref": format!("{BASE}{table_schema}") }))
            .expect("a validator for the table")
    }

    #[test]
    fn hsds_export_is_valid_hsds_3_1_and_holds_only_the_publishers_public_offers() {
        let offers = golden_offers();
        let exports = golden_exports(&offers);
        let own = OrgId::from_bytes([1; 10]);
        let p = profile("Capitol Legal & Bond");
        let doc = to_hsds(&exports, (own, &p), now());
        let tables = [
            ("organizations", "organization.json"),
            ("services", "service.json"),
            ("languages", "language.json"),
            ("service_areas", "service_area.json"),
            ("service_capacity", "service_capacity.json"),
            ("units", "unit.json"),
            ("taxonomies", "taxonomy.json"),
            ("taxonomy_terms", "taxonomy_term.json"),
            ("attributes", "attribute.json"),
        ];
        let mut rows = 0;
        for (table, schema) in tables {
            let validator = hsds_validator(schema);
            for row in doc[table].as_array().expect("a table") {
                let errors: Vec<String> =
                    validator.iter_errors(row).map(|e| e.to_string()).collect();
                assert!(
                    errors.is_empty(),
                    "{table} row {row} is not HSDS 3.1: {errors:?}"
                );
                rows += 1;
            }
        }
        assert!(rows > 10, "the export has rows to check ({rows})");
        // And the check is not vacuous: a service without its required name, or with an id
        // that is not a UUID, is refused.
        let services = hsds_validator("service.json");
        let mut bad = doc["services"][0].clone();
        bad.as_object_mut().expect("an object").remove("name");
        assert!(!services.is_valid(&bad), "{bad}");
        let mut bad = doc["services"][0].clone();
        bad["id"] = json!("not-a-uuid");
        assert!(!services.is_valid(&bad), "{bad}");
        // The golden offers belong to two organisations and include households and people:
        // only the publisher's programmes and facilities are there.
        let published: BTreeSet<&str> = doc["services"]
            .as_array()
            .expect("services")
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        for o in &offers {
            let public = o.owner == own
                && matches!(
                    o.fields.subject,
                    SubjectType::OrgProgram | SubjectType::OrgFacility
                )
                && hsds_publishable(o, now());
            assert_eq!(
                published.contains(o.fields.handle.as_str()),
                public,
                "{} ({:?}, owner {})",
                o.fields.handle,
                o.fields.subject,
                o.owner
            );
        }
        assert!(!published.is_empty(), "{published:?}");
        assert!(
            offers
                .iter()
                .any(|o| o.owner != own && hsds_publishable(o, now())),
            "the fixture has a partner's publishable offer to leave out"
        );
        let orgs = doc["organizations"].as_array().expect("organisations");
        assert_eq!(orgs.len(), 1);
    }

    #[test]
    fn the_header_the_export_writes_is_the_header_the_import_reads() {
        let tz = zone(TZ).expect("bundled zone");
        let csv = to_csv(&[], &tz, now()).expect("CSV");
        assert_eq!(csv, format!("{}\n", COLUMNS.join(",")));
        let plan = parse_offers_csv(csv.as_bytes(), today(), TZ).expect("a header it reads");
        assert_eq!(plan.rows(), 0);
        // And the import reads no column the export does not write.
        let read: BTreeSet<&str> = Field::ALL
            .iter()
            .filter(|f| f.spec().import != puente_crdt::fields::Import::No)
            .map(|f| f.name())
            .collect();
        assert_eq!(read, COLUMNS.iter().copied().collect());
    }

    #[test]
    fn csv_export_round_trips_through_import() {
        let files: [&[u8]; 6] = [
            include_bytes!("../../../examples/data/sac-accompaniment.csv"),
            include_bytes!("../../../examples/data/river-refuge.csv"),
            include_bytes!("../../../examples/data/yolo-trans-health.csv"),
            include_bytes!("../../../examples/data/placer-pride.csv"),
            include_bytes!("../../../examples/data/interfaith-sanctuary.csv"),
            include_bytes!("../../../examples/data/capitol-legal-bond.csv"),
        ];
        let owner = OrgId::from_bytes([1; 10]);
        let mut news: Vec<NewOffer> = Vec::new();
        for bytes in files {
            let plan = parse_offers_csv(bytes, today(), TZ).expect("a valid file");
            news.extend(plan.offers.into_iter().map(|(_, o)| o));
        }
        let mut stored: Vec<Offer> = news
            .iter()
            .enumerate()
            .map(|(i, n)| store(n, u8::try_from(i).unwrap_or(0), owner))
            .collect();
        // A label a spreadsheet would read as a formula survives the trip.
        stored[0].fields.label = "=one room".into();
        news[0].fields.label = "=one room".into();
        let exports: Vec<ExportOffer<'_>> = stored
            .iter()
            .map(|o| ExportOffer {
                offer: o,
                owner_name: "Sac Accompaniment",
                intake: "hotline",
            })
            .collect();
        let tz = zone(TZ).expect("bundled zone");
        let csv = to_csv(&exports, &tz, now()).expect("CSV");
        assert!(csv.contains(",'=one room,"));
        // Re-import on another day: absolute dates do not move.
        let later = Date::constant(2027, 1, 5);
        let again = parse_offers_csv(csv.as_bytes(), later, TZ).expect("a valid export");
        assert_eq!(again.rejected, vec![]);
        assert_eq!(again.offers.len(), news.len());
        let by_handle: BTreeMap<&str, &NewOffer> = again
            .offers
            .iter()
            .map(|(_, o)| (o.fields.handle.as_str(), o))
            .collect();
        for orig in &news {
            let back = by_handle[orig.fields.handle.as_str()];
            assert_eq!(back.fields, orig.fields);
            assert_eq!(back.windows, orig.windows, "{}", orig.fields.handle);
            assert_eq!(
                back.expires_in,
                Some(
                    orig.expires_in
                        .unwrap_or(orig.fields.kind.default_expiry_secs())
                )
            );
        }
        assert_eq!(
            to_csv(&exports, &tz, now()).expect("CSV"),
            csv,
            "deterministic"
        );
    }

    #[test]
    fn csv_export_leaves_out_withdrawn_and_cancelled() {
        let owner = OrgId::from_bytes([1; 10]);
        let mut a = offer_from_row(
            "host-ab12,host-home,household,06067,,es,,,,,,room,+1d..+5d=1;+6d..+9d=1,,,org-vetted,,,,,",
            1,
            owner,
        );
        a.windows[0].cancelled = true;
        let mut b = a.clone();
        b.id = OfferId::from_bytes([2; 10]);
        b.fields.handle = "host-cd34".into();
        b.withdrawn = true;
        let both = [a, b];
        let exports: Vec<ExportOffer<'_>> = both
            .iter()
            .map(|o| ExportOffer {
                offer: o,
                owner_name: "x",
                intake: "y",
            })
            .collect();
        let tz = zone(TZ).expect("bundled zone");
        let csv = to_csv(&exports, &tz, now()).expect("CSV");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("host-ab12,"));
        assert!(lines[1].contains(",2026-11-28T00:00..2026-12-01T00:00=1,"));
    }

    #[test]
    fn json_export_has_the_documented_fields() {
        let owner = OrgId::from_bytes([1; 10]);
        let o = offer_from_row(
            "interp-x7fa,interpretation,person-volunteer,06067,,mam:phone;es,,,,,,shift,+1dT09:00..+1dT13:00=1/weekly,24h,,org-vetted-trained,,30d,Mam by phone,,",
            3,
            owner,
        );
        let v = serde_json::to_value(to_json(&[ExportOffer {
            offer: &o,
            owner_name: "Sac Accompaniment",
            intake: "hotline",
        }]))
        .expect("JSON");
        assert_eq!(v["version"], json!(JSON_EXPORT_VERSION));
        let x = &v["offers"][0];
        let keys: BTreeSet<&str> = x
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let columns: BTreeSet<&str> = EXPORT_COLUMNS.iter().map(|f| f.name()).collect();
        assert_eq!(keys, columns);
        for key in ["offer_id", "windows", "last_confirmed_at", "withdrawn"] {
            assert!(keys.contains(key), "{key}");
        }
        assert_eq!(x["offer_id"], json!(o.id.to_string()));
        assert_eq!(x["languages"], json!(["es:fluent", "mam:phone"]));
        assert_eq!(x["lead_time"], json!("1d"));
        assert_eq!(x["max_stay"], Value::Null);
        assert_eq!(x["status"], json!("capacity"));
        assert_eq!(x["windows"][0]["start"], json!("2026-11-23T17:00:00Z"));
        assert_eq!(x["windows"][0]["weekly"], json!(true));
        assert_eq!(x["windows"][0]["tz"], json!(TZ));
        assert_eq!(x["expires_at"], json!("2026-12-22T18:00:00Z"));
    }

    #[test]
    fn hsds_publishes_only_org_offers_that_are_live() {
        let owner = OrgId::from_bytes([1; 10]);
        let other = OrgId::from_bytes([2; 10]);
        let clinic = offer_from_row(
            "legal-clinic-midtown,legal-consult,org-program,06067;06113,davis,es;en;mam:relay-via-es;quc:phone,,,,,,slot,today..+14d=6,24h,,org-vetted-trained,,14d,weekly clinic,,",
            1,
            owner,
        );
        let shelter = offer_from_row(
            "shelter-main,shelter-bed,org-facility,06113,,es;en,adult-women,,,,,bed,+2d..+9d=4,,,org-vetted,waitlist,3d,shelter beds,,",
            2,
            owner,
        );
        let household = offer_from_row(
            "host-yzw3,host-home,household,06067,south-sac,es,,,,,,room,today..+14d=1,,,org-vetted,,,quiet room,,",
            3,
            owner,
        );
        let volunteer = offer_from_row(
            "interp-q8rt,interpretation,person-volunteer,06067,,mam,,,,,,shift,today..+14d=1,,,org-vetted,,,interpreter,,",
            4,
            owner,
        );
        let dv = offer_from_row(
            "dv-family-room-a,dv-confidential-shelter,org-facility,06067,,es,families-with-children,,,,,bed,today..+3d=2,,,org-vetted,,,family room,,",
            5,
            other,
        );
        let mut withdrawn = offer_from_row(
            "legal-clinic-gone,legal-consult,org-program,06067,,es,,,,,,slot,,,,org-vetted,,,old clinic,,",
            6,
            other,
        );
        withdrawn.withdrawn = true;
        let mut expired = offer_from_row(
            "legal-clinic-old,legal-consult,org-program,06067,,es,,,,,,slot,,,,org-vetted,,,older clinic,,",
            7,
            other,
        );
        expired.expires_at = now();
        // A partner's live programme: publishable by the partner, never by this organisation.
        let partners = offer_from_row(
            "legal-clinic-partner,legal-consult,org-program,06067,,es,,,,,,slot,today..+14d=2,,,org-vetted,,,partner clinic,,",
            8,
            other,
        );
        let all = [
            clinic, shelter, household, volunteer, dv, withdrawn, expired, partners,
        ];
        let exports: Vec<ExportOffer<'_>> = all
            .iter()
            .map(|o| ExportOffer {
                offer: o,
                owner_name: "Fallback Name",
                intake: "signal: intake-desk",
            })
            .collect();
        let p1 = profile("Capitol Legal");
        let doc = to_hsds(&exports, (owner, &p1), now());
        let text = doc.to_string();

        let services = doc["services"].as_array().expect("an array");
        let names: BTreeSet<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(
            names,
            BTreeSet::from(["legal-clinic-midtown", "shelter-main"])
        );
        for hidden in [
            "host-yzw3",
            "interp-q8rt",
            "dv-family-room-a",
            "legal-clinic-gone",
            "legal-clinic-old",
            "legal-clinic-partner",
            "partner clinic",
            "Fallback Name",
            "intake-desk",
            "south-sac",
            "davis",
            "quiet room",
        ] {
            assert!(!text.contains(hidden), "{hidden} must not be published");
        }
        let orgs = doc["organizations"].as_array().expect("an array");
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0]["name"], json!("Capitol Legal"));

        let clinic_id = hsds_id("service", &all[0].id.to_string());
        let areas: Vec<&str> = doc["service_areas"]
            .as_array()
            .expect("an array")
            .iter()
            .filter(|a| a["service_id"] == json!(clinic_id))
            .filter_map(|a| a["extent"].as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(areas, vec!["06067", "06113"]);

        let codes: BTreeSet<&str> = doc["taxonomy_terms"]
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|t| t["code"].as_str())
            .collect();
        assert!(codes.contains("1381"), "{codes:?}");
        assert!(codes.contains("1121"), "{codes:?}");
        assert!(!codes.contains("1125"), "no housing term without housing");
        let clinic_terms = doc["attributes"]
            .as_array()
            .expect("an array")
            .iter()
            .filter(|a| a["link_id"] == json!(clinic_id))
            .count();
        assert_eq!(clinic_terms, 2);

        // Relay languages are interpretation, not languages of the service.
        let langs: Vec<(&str, Option<&str>)> = doc["languages"]
            .as_array()
            .expect("an array")
            .iter()
            .filter(|l| l["service_id"] == json!(clinic_id))
            .map(|l| (l["code"].as_str().unwrap_or(""), l["note"].as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            langs,
            vec![("en", None), ("es", None), ("quc", Some("by phone"))]
        );
        let clinic_service = services
            .iter()
            .find(|s| s["id"] == json!(clinic_id))
            .expect("published");
        assert_eq!(
            clinic_service["interpretation_services"],
            json!("Through Spanish interpretation: Mam.")
        );
        assert_eq!(clinic_service["status"], json!("active"));

        let caps = doc["service_capacity"].as_array().expect("an array");
        let cap = caps
            .iter()
            .find(|c| c["service_id"] == json!(clinic_id))
            .expect("a capacity");
        assert_eq!(cap["available"], json!(6));
        assert_eq!(cap["unit"]["name"], json!("slot"));
        let shelter_cap = caps
            .iter()
            .find(|c| c["service_id"] != json!(clinic_id))
            .expect("a capacity");
        assert_eq!(
            shelter_cap["available"],
            json!(0),
            "window opens in two days"
        );
        assert_eq!(shelter_cap["maximum"], json!(4));

        assert_eq!(to_hsds(&exports, (owner, &p1), now()), doc);
        for table in ["services", "service_areas", "attributes", "languages"] {
            let ids: Vec<&str> = doc[table]
                .as_array()
                .expect("an array")
                .iter()
                .filter_map(|r| r["id"].as_str())
                .collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(ids, sorted, "{table} sorted with unique ids");
        }
    }

    #[test]
    fn weekly_windows_count_on_later_weeks_across_dst() {
        let tz = zone(TZ).expect("bundled zone");
        let at = |d: Date, h: i8| {
            Time(
                tz.to_timestamp(d.at(h, 0, 0, 0))
                    .expect("valid local time")
                    .as_second(),
            )
        };
        let w = Window {
            id: WindowId::from_bytes([0; 10]),
            start: at(Date::constant(2026, 10, 29), 13),
            end: at(Date::constant(2026, 10, 29), 16),
            tz: TZ.into(),
            weekly: true,
            total: 2,
            cancelled: false,
        };
        let far = at(Date::constant(2027, 1, 1), 0);
        // A week later DST has ended; 13:30 local is still inside the window.
        assert!(covers(
            &w,
            at(Date::constant(2026, 11, 5), 13).plus(1800),
            far
        ));
        assert!(!covers(
            &w,
            at(Date::constant(2026, 11, 5), 12).plus(1800),
            far
        ));
        assert!(!covers(&w, at(Date::constant(2026, 11, 6), 14), far));
        assert!(!covers(
            &w,
            at(Date::constant(2026, 11, 5), 14),
            w.start.plus(WEEK - 1)
        ));
    }

    #[test]
    fn hsds_ids_are_uuid_v8() {
        let id = hsds_id("service", "abc");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, hsds_id("service", "abd"));
        assert_eq!(id, hsds_id("service", "abc"));
    }
}
