//! Snapshots of output people read. Ids are random, so they are masked with `#` (same width,
//! so the columns stay aligned); everything else is fixed by `PUENTE_NOW`.
//! Update with `UPDATE_EXPECT=1 cargo test -p puente`.

use expect_test::expect;

use crate::queries::FIXTURE;
use crate::support::{Node, example, redact_ids};

#[test]
fn table_output_people_read() {
    let n = Node::init("Sac Accompaniment");
    let file = n.scratch().join("fixture.csv");
    std::fs::write(&file, FIXTURE).expect("write fixture");
    n.ok(&["import", file.to_str().expect("utf-8")]);
    let shorts: Vec<String> = n
        .offers()
        .iter()
        .map(|o| o["offer_id"].as_str().expect("id")[..8].to_string())
        .collect();

    let table = n.ok(&[
        "query",
        "--county",
        "06067",
        "--kind",
        "host-home,interpretation,accompany-court",
    ]);
    expect![[r#"
        ID        OWNER              KIND             HANDLE            COUNTIES     LANGUAGES            AVAILABLE  SOONEST           FRESHNESS           INTAKE
        ########  Sac Accompaniment  host-home        host-a            06067        es                   1 room     2026-11-24 00:00  confirmed just now  hotline, ask for intake
        ########  Sac Accompaniment  interpretation   interp-mam        06067        es,mam:relay-via-es  1 shift    2026-11-24 09:00  confirmed just now  hotline, ask for intake
        ########  Sac Accompaniment  interpretation   interp-mam-phone  06067,06113  mam:phone            1 shift    2026-11-25 09:00  confirmed just now  hotline, ask for intake
        ########  Sac Accompaniment  accompany-court  court-solo        06067        es                   1 shift    2026-11-26 12:00  confirmed just now  hotline, ask for intake
        ########  Sac Accompaniment  accompany-court  court-pair        06067        en,es                2 shifts   2026-11-26 13:00  confirmed just now  hotline, ask for intake
    "#]].assert_eq(&redact_ids(&table, &shorts));

    let bonds = n.ok(&["query", "--kind", "bond-fund", "--min-usd", "5000"]);
    expect![[r#"
        ID        OWNER              KIND       HANDLE  COUNTIES  LANGUAGES  AVAILABLE          SOONEST  FRESHNESS           INTAKE
        ########  Sac Accompaniment  bond-fund  bond-x  06067     en         5k-15k within 48h  -        confirmed just now  hotline, ask for intake
    "#]].assert_eq(&redact_ids(&bonds, &shorts));

    let who = n.ok(&["whoami"]);
    let me = n.json(&["whoami"]);
    let mut who = who;
    for (field, mask) in [
        ("org", "<org id>"),
        ("public_key", "<public key>"),
        ("fingerprint", "<fingerprint>"),
    ] {
        who = who.replace(me[field].as_str().expect("a string"), mask);
    }
    expect![[r#"
        organisation     Sac Accompaniment
        organisation id  <org id>
        public key       <public key>
        fingerprint      <fingerprint>
        counties         06067
        intake           hotline, ask for intake
        time zone        America/Los_Angeles
        network          none yet: `puente network create --name NAME`, or `puente join TOKEN`
        epoch            0
    "#]]
    .assert_eq(&who);

    let bad = example("bad-rows.csv");
    let report = n.ok(&[
        "import",
        bad.to_str().expect("utf-8"),
        "--dry-run",
        "--allow-partial",
    ]);
    expect![[r#"
        create line 2, demo-ok-1
        rejected line 3, label: label looks like it contains a phone number; partners reach offers through your intake route, so leave contact details out
        rejected line 4, label: label looks like it contains an e-mail address; partners reach offers through your intake route, so leave contact details out
        create line 5, demo-ok-2
        rejected line 6, label: label looks like it contains an A-number; never put case or immigration identifiers in shared offers
        rejected line 7, label: label looks like it contains a street address; share only the county and a zone label, never where a home or shelter is
        rejected line 8, kind: unknown kind `hotel-voucher`; expected one of: host-home, shelter-bed, dv-confidential-shelter, bond-fund, bond-obligor, parole-sponsor, housing-sponsor, accompany-court, accompany-ice-checkin, accompany-dmv, accompany-school, legal-consult, legal-representation, bond-hearing-prep, medical-primary, gender-affirming-care, hiv-care, mental-health, interpretation, transport-driver, rr-legal-observer, rr-dispatcher, funds-emergency-cash, commissary, other
        rejected line 9, counties: county `6067` is not a 5-digit FIPS code (Sacramento is 06067, Yolo 06113, Placer 06061)
        create line 10, demo-ok-3
        rejected line 11, windows: window `+5d..+2d=1` was refused: a window must end after it starts (START..END=TOTAL, END exclusive)
        rejected line 12, handle: handle is required
        Dry run: 3 new, 0 updated, 0 unchanged, 8 rejected; nothing was written.
    "#]].assert_eq(&report);
}
