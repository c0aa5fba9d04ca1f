//! Snapshots of what `status`, `device list`, `peer list`, `invite list`, `relay list`, `peer
//! revocations`, `device revoke` and `audit log|exposure` print, as tables and as JSON (a
//! scripting interface: keys, their order and values are fixed here byte for byte).
//!
//! Keys, ids, fingerprints and ports are random per run, so each is replaced by a named
//! placeholder of the same width (tables stay aligned, and a snapshot still says which device
//! a row is about). Rows come in id order, so the stores are made again until their random
//! ids sort the way the snapshots expect. A running node stamps times with its own clock,
//! which runs on from `PUENTE_NOW` while the test runs: minutes and seconds of those times
//! (09:0x on the test's day) are masked; commands that read are run at 11:30, so "ago" reads
//! the same however long the test took.
//!
//! Update with `UPDATE_EXPECT=1 cargo test -p puente --test it network_snapshots`.

use expect_test::{expect, expect_file};
use serde_json::Value;

use crate::daemon::Daemon;
use crate::network::{add_home, eventually};
use crate::support::{Node, redact_ids};

/// When the commands that read run: two and a half hours after the nodes started, so that
/// every time a node stamped reads "2 h ago".
const LATER: &str = "2026-11-23T11:30:00-08:00";

/// A relay's address: a fixed, valid libp2p id (the Ed25519 base point), never dialled here.
const RELAY: &str =
    "/ip4/127.0.0.1/tcp/4738/p2p/12D3KooWFmScHuvZzcdbvSLZ11Hov7NSmPbNqsgRn52XH2P51fND";

/// Placeholders for what differs between runs.
#[derive(Debug, Default)]
struct Mask {
    pairs: Vec<(String, String)>,
}

impl Mask {
    /// Replaces `value` by `<label>`, padded with `_` to the value's width.
    fn add(&mut self, value: &str, label: &str) {
        assert!(!value.is_empty(), "nothing to mask for {label}");
        let mut placeholder = format!("<{label}>");
        let width = value.chars().count();
        while placeholder.chars().count() < width {
            placeholder.push('_');
        }
        self.pairs.push((value.to_string(), placeholder));
    }

    /// A device key, its 12-character prefix (tables) and its fingerprint.
    fn device(&mut self, me: &Value, label: &str) {
        let key = me["public_key"].as_str().expect("a key");
        self.add(key, label);
        self.add(&key[..12], label);
        self.add(me["fingerprint"].as_str().expect("a fingerprint"), label);
    }

    /// An id and its 8-character prefix (tables).
    fn id(&mut self, id: &str, label: &str) {
        self.add(id, label);
        self.add(&id[..8], label);
    }

    /// The text with every registered value replaced, longest first, and the minutes and
    /// seconds of times a running node stamped masked.
    #[track_caller]
    fn apply(&self, text: &str) -> String {
        let mut pairs: Vec<&(String, String)> = self.pairs.iter().collect();
        pairs.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        let mut out = text.to_string();
        for (value, placeholder) in pairs {
            out = out.replace(value.as_str(), placeholder);
        }
        let out = node_clock(&out);
        assert_eq!(
            redact_ids(&out, &[]),
            out,
            "an id escaped the mask in:\n{out}"
        );
        out
    }
}

/// Masks the minutes and seconds of the times a node stamps with its running clock: the
/// first half hour of 09:00 on the test's day, in RFC 3339, local and Unix form.
fn node_clock(text: &str) -> String {
    let mut out = text.to_string();
    for m in 0..30 {
        out = out.replace(&format!("2026-11-23 09:{m:02}"), "2026-11-23 09:##");
        for s in 0..60 {
            out = out.replace(
                &format!("2026-11-23T17:{m:02}:{s:02}Z"),
                "2026-11-23T17:##:##Z",
            );
        }
    }
    // 09:00:00 to 09:29:59 in Unix seconds.
    for t in 1_795_453_200..1_795_455_000 {
        let t = t.to_string();
        if out.contains(&t) {
            out = out.replace(&t, "1795453###");
        }
    }
    out
}

/// `whoami --format json`.
fn me(n: &Node) -> Value {
    n.json(&["whoami"])
}

/// A node for `org` whose first device key sorts after `key` and whose organisation id sorts
/// after `org_id`: made again until the random ids fall that way.
fn init_after(org: &str, county: &str, key: &str, org_id: &str) -> (Node, Value) {
    loop {
        let n = Node::init_with(org, county, "call the front desk");
        let m = me(&n);
        if m["public_key"].as_str() > Some(key) && m["org"].as_str() > Some(org_id) {
            return (n, m);
        }
    }
}

/// A store for a new device whose key sorts after `after`'s and starts below `o` (so that a
/// key after it stays easy to find).
fn init_device_after(after: &Value) -> (Node, Value) {
    loop {
        let n = Node::new();
        n.ok(&["init", "--device"]);
        let m = me(&n);
        let key = m["public_key"].as_str();
        if key > after["public_key"].as_str() && key < Some("o") {
            return (n, m);
        }
    }
}

/// A node for `org` whose device key and organisation id both start below `g`, so that the
/// stores made to sort after them are found in a few tries (a key starting with `v` would
/// take thousands).
fn init_low(org: &str) -> Node {
    loop {
        let n = Node::init(org);
        let m = me(&n);
        if m["public_key"].as_str() < Some("g") && m["org"].as_str() < Some("g") {
            return n;
        }
    }
}

/// Every op id of `n`'s membership log, in the log's order.
fn op_ids(n: &Node) -> Vec<String> {
    n.json(&["audit", "log"])
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e["id"].as_str().expect("an id").to_string())
        .collect()
}

#[test]
fn a_store_outside_any_network() {
    let n = Node::init("Sac Accompaniment");
    let mut mask = Mask::default();
    let m = me(&n);
    mask.device(&m, "key");
    mask.add(m["org"].as_str().expect("org"), "org");
    if let Some(network) = m["network"].as_str() {
        mask.add(network, "network");
    }

    expect![[r#"
        organisation  Sac Accompaniment
        network       none yet: `puente network create --name NAME`, or `puente join TOKEN`
        epoch         0
        node          not running (start it with `puente run`)
    "#]]
    .assert_eq(&mask.apply(&n.status()));
    expect_file!["expected/lone_status.json"]
        .assert_eq(&mask.apply(&n.status_with(&["--format", "json"])));
    expect![[r#"
        Devices of "Sac Accompaniment":
        DEVICE KEY                                            STATE        CONNECTED
        <key>_______________________________________________  this device  -
    "#]]
    .assert_eq(&mask.apply(&n.ok(&["device", "list"])));
    expect_file!["expected/lone_device_list.json"]
        .assert_eq(&mask.apply(&n.ok(&["device", "list", "--format", "json"])));
    expect![[r#"
        key,this_device,revoked,revoked_at,reason,connected
        <key>_______________________________________________,true,false,,,
    "#]]
    .assert_eq(&mask.apply(&n.ok(&["device", "list", "--format", "csv"])));
    expect_file!["expected/lone_whoami.json"]
        .assert_eq(&mask.apply(&n.ok(&["whoami", "--format", "json"])));
    expect![[r#"
        org,name,public_key,fingerprint,network,epoch,counties,intake,tz
        <org>___________,Sac Accompaniment,<key>_______________________________________________,<key>______________________________,,0,06067,"hotline, ask for intake",America/Los_Angeles
    "#]]
    .assert_eq(&mask.apply(&n.ok(&["whoami", "--format", "csv"])));

    // A store made to join an organisation as one more device, before it has joined.
    let d = Node::new();
    let made = d.ok(&["init", "--device", "--format", "json"]);
    let dm = me(&d);
    let mut mask = Mask::default();
    mask.device(&dm, "device");
    if let Some(network) = dm["network"].as_str() {
        mask.add(network, "network");
    }
    expect_file!["expected/device_init.json"].assert_eq(&mask.apply(&made));
    expect![[r#"
        organisation  none yet: this device waits to join its organisation (`puente device add` on one of its devices, then `puente join TOKEN` here)
        public key    <device>____________________________________________
        fingerprint   <device>___________________________
        time zone     America/Los_Angeles
    "#]]
    .assert_eq(&mask.apply(&d.ok(&["whoami"])));
    expect![[r#"
        organisation  none yet: this device waits to join its organisation (`puente device add` on one of its devices, then `puente join TOKEN` here)
        network       none yet: it joins its organisation's with `puente join TOKEN`
        epoch         0
        node          not running (start it with `puente run`)
    "#]]
    .assert_eq(&mask.apply(&d.status()));
    expect_file!["expected/device_status.json"]
        .assert_eq(&mask.apply(&d.status_with(&["--format", "json"])));
}

#[test]
fn a_network_with_a_partner_a_revoked_device_and_a_relay() {
    // River Refuge founds the network; its ids sort first, then its second device's key,
    // then Yolo Trans Health's.
    let mut a = init_low("River Refuge");
    let ma = me(&a);
    let (a2, ma2) = init_device_after(&ma);
    let (b, mb) = init_after(
        "Yolo Trans Health",
        "06113",
        ma2["public_key"].as_str().expect("key"),
        ma["org"].as_str().expect("org"),
    );
    a.ok(&["network", "create", "--name", "Valley Network"]);
    add_home(&a, "host-river");
    b.add(&[
        "--kind",
        "host-home",
        "--handle",
        "host-yolo",
        "--county",
        "06113",
        "--lang",
        "en",
        "--window",
        "+1d..+20d=1",
    ]);

    // Yolo Trans Health joins, River Refuge's second device joins, a third invitation stays
    // open; both organisations' nodes run and sync, and Yolo holds River's room.
    let mut node_a = Daemon::start(&a, "a");
    a.invite_and_join(&b, "Yolo Trans Health");
    let token = a.ok(&["device", "add", "--yes"]);
    a2.ok(&["join", token.trim(), "--wait", "1m"]);
    a.ok(&["invite", "create", "--org", "Placer Pride"]);
    let mut node_b = Daemon::start(&b, "b");
    eventually("Yolo Trans Health sees River Refuge's offer", || {
        b.json(&["query", "--kind", "host-home"])
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["handle"] == "host-river"))
    });
    let river = b.hit("host-river");
    let hold = b.hold_whole_window(&river);
    let yolo_device = mb["public_key"].as_str().expect("key").to_string();
    eventually(
        "River Refuge has everything and Yolo's node is idle",
        || {
            let holds = a.json(&["hold", "list", "--on-mine"]);
            let status = a.status_json();
            let yolo = status["members"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|m| m["devices"].as_array().into_iter().flatten())
                .find(|d| d["key"] == yolo_device.as_str())
                .cloned()
                .unwrap_or_default();
            holds
                .as_array()
                .is_some_and(|h| h.iter().any(|h| h["hold_id"] == hold.as_str()))
                && status["offers_by_owner"]["Yolo Trans Health"] == 1
                && yolo["connected"] == true
                && yolo["envelopes_pending"] == 0
                && yolo["reach"]["how"] == "direct"
                && !yolo["last_sync"].is_null()
        },
    );

    let mut mask = Mask::default();
    mask.device(&ma, "river 1");
    mask.device(&ma2, "river 2");
    mask.device(&mb, "yolo");
    mask.add(ma["org"].as_str().expect("org"), "river");
    mask.add(mb["org"].as_str().expect("org"), "yolo");
    // Taken now: a store belongs to no network before it founds or joins one.
    let network = me(&a)["network"].as_str().expect("network").to_string();
    mask.add(&network, "network");
    for (n, label) in [(&a, "listen a"), (&b, "listen b")] {
        for listen in n.status_json()["listen"]
            .as_array()
            .expect("a running node listens")
        {
            mask.add(listen.as_str().expect("an address"), label);
        }
    }
    for (n, inv) in a
        .json(&["invite", "list"])
        .as_array()
        .expect("an array")
        .iter()
        .enumerate()
    {
        mask.id(inv["id"].as_str().expect("an id"), &format!("inv{}", n + 1));
    }
    for o in a.offers() {
        // "of-r" for host-river: short enough for the 8-character column.
        let handle = o["handle"].as_str().expect("a handle");
        let label = format!("of-{}", &handle[5..6]);
        mask.id(o["offer_id"].as_str().expect("an id"), &label);
    }
    mask.id(&hold, "hold");

    // Read while the nodes run: who is connected, how and since when.
    a.now = LATER.to_string();
    expect![[r#"
        organisation  River Refuge
        devices       2, this one and 1 more (`puente device list`)
        network       Valley Network (<network>_________________)
        epoch         0
        node          running, listening on <listen a>______________

        MEMBER             ROLE    DEVICE        REACHED                                       LAST SYNC                   PENDING
        River Refuge       admin   <river 1>___  this device                                   -                           -
        River Refuge       admin   <river 2>___  unreachable since 2026-11-23 09:## (2 h ago)  -                           -
        Yolo Trans Health  member  <yolo>______  direct since 2026-11-23 09:## (2 h ago)       2026-11-23 09:## (2 h ago)  0

        OFFERS BY          COUNT
        River Refuge       1
        Yolo Trans Health  1

        Needs you (`puente inbox`):
        NEEDS   HOLD      OFFER                PARTNER            QTY  WHEN
        answer  <hold>__  <of-r>__ host-river  Yolo Trans Health  1    lapses 2026-11-25 09:00 (in 45 h)
    "#]]
    .assert_eq(&mask.apply(&a.status()));
    expect_file!["expected/running_status.json"]
        .assert_eq(&mask.apply(&a.status_with(&["--format", "json"])));
    expect![[r#"
        ORGANISATION       ROLE    DEVICE KEY                                            CONNECTED  ADDRESSES
        River Refuge       admin   <river 2>___________________________________________  no         -
        Yolo Trans Health  member  <yolo>______________________________________________  yes        <listen b>______________
    "#]]
    .assert_eq(&mask.apply(&a.ok(&["peer", "list"])));
    expect_file!["expected/running_peer_list.json"]
        .assert_eq(&mask.apply(&a.ok(&["peer", "list", "--format", "json"])));
    expect![[r#"
        Devices of "River Refuge":
        DEVICE KEY                                            STATE        CONNECTED
        <river 1>___________________________________________  this device  -
        <river 2>___________________________________________  member       no
        Add one with `puente device add`; cut a lost one off with `puente device revoke KEY`.
    "#]]
    .assert_eq(&mask.apply(&a.ok(&["device", "list"])));
    expect_file!["expected/running_device_list.json"]
        .assert_eq(&mask.apply(&a.ok(&["device", "list", "--format", "json"])));
    node_b.signal_and_wait("TERM");
    node_a.signal_and_wait("TERM");

    // With no node running: the second device is lost and revoked, and the network gets a
    // relay.
    let key2 = ma2["public_key"].as_str().expect("key");
    let revoked = a.ok(&["device", "revoke", &key2[..10], "--reason", "laptop lost"]);
    a.ok(&["relay", "add", RELAY]);
    for (n, id) in op_ids(&a).iter().enumerate() {
        mask.id(id, &format!("op{}", n + 1));
    }
    expect![[r#"
        Revoked device <river 2>___ of "River Refuge". Reason: laptop lost.
        Revocation <op7>___; new writes are encrypted under epoch 1.

        What revocation does:
        - Every node that has received the revocation refuses the revoked keys at once: no connection, nothing sent to them, none of their new changes accepted.
        - Everything written from now on is encrypted under a new key that the revoked party never receives.
        - The revocation spreads to every partner your node reaches, and replaying old grants cannot undo it.
        What revocation cannot do:
        - It cannot take back what the revoked party already synced: the exposure report below lists what it could read.
        - Partners that are offline keep trusting the revoked key until the revocation reaches them: watch `puente peer revocations` until every partner has confirmed.
        - It cannot stop a partner that is still trusted from leaking. The defence is sharing less: coarse places, pseudonyms and short expiry.

        Your node is not running: start `puente run` now. Until partners receive the revocation from it, they keep trusting the revoked key.

        Exposure report: what device <river 2>___ of "River Refuge" could read when it was cut off (revocation <op7>___, 2026-11-23 11:30 (just now)).
        It lists every offer and hold with content encrypted under a key the revoked party held (epoch 0). puente cannot tell which of those reached it, so the list errs on the side of including too much. Use it to decide whom to warn.

        River Refuge: confirmed the revocation 2026-11-23 11:30 (just now):
          OFFER     KIND       HANDLE      COUNTIES  CREATED           STATE
          <of-r>__  host-home  host-river  06067     2026-11-23 09:##  active

        Yolo Trans Health: has not confirmed the revocation yet; what it writes until it does is exposed too:
          OFFER     KIND       HANDLE     COUNTIES  CREATED           STATE
          <of-y>__  host-home  host-yolo  06113     2026-11-23 09:##  active
          HOLD      ON OFFER OF   HANDLE      QTY  CREATED           STATUS
          <hold>__  River Refuge  host-river  1    2026-11-23 09:##  pending
    "#]].assert_eq(&mask.apply(&revoked));

    expect![[r#"
        organisation  River Refuge
        devices       1, this one
        network       Valley Network (<network>_________________)
        epoch         1
        node          not running (start it with `puente run`)

        MEMBER             ROLE    DEVICE        REACHED      LAST SYNC  PENDING
        River Refuge       admin   <river 1>___  this device  -          -
        Yolo Trans Health  member  <yolo>______  -            -          -

        RELAY             THIS NODE  MAILBOX
        12D3KooWFmScHuvZ  -          -

        OFFERS BY          COUNT
        River Refuge       1
        Yolo Trans Health  1

        Revoked: device <river 2>___ of "River Refuge".
        Revocation of device <river 2>___ of "River Refuge": 1 of 2 member devices not heard from since 2026-11-23 11:30 (just now); see `puente peer revocations`.

        Needs you (`puente inbox`):
        NEEDS   HOLD      OFFER                PARTNER            QTY  WHEN
        answer  <hold>__  <of-r>__ host-river  Yolo Trans Health  1    lapses 2026-11-25 09:00 (in 45 h)
    "#]].assert_eq(&mask.apply(&a.status()));
    expect_file!["expected/status.json"]
        .assert_eq(&mask.apply(&a.status_with(&["--format", "json"])));
    expect![[r#"
        Devices of "River Refuge":
        DEVICE KEY                                            STATE                                   CONNECTED
        <river 1>___________________________________________  this device                             -
        <river 2>___________________________________________  revoked 2026-11-23 11:30 (laptop lost)  -
        Add one with `puente device add`; cut a lost one off with `puente device revoke KEY`.
    "#]].assert_eq(&mask.apply(&a.ok(&["device", "list"])));
    expect_file!["expected/device_list.json"]
        .assert_eq(&mask.apply(&a.ok(&["device", "list", "--format", "json"])));
    expect![[r#"
        key,this_device,revoked,revoked_at,reason,connected
        <river 1>___________________________________________,true,false,,,
        <river 2>___________________________________________,false,true,2026-11-23T19:30:00Z,laptop lost,
    "#]].assert_eq(&mask.apply(&a.ok(&["device", "list", "--format", "csv"])));
    expect![[r#"
        ORGANISATION       ROLE    DEVICE KEY                                            CONNECTED  ADDRESSES
        Yolo Trans Health  member  <yolo>______________________________________________  -          <listen b>______________
    "#]].assert_eq(&mask.apply(&a.ok(&["peer", "list"])));
    expect_file!["expected/peer_list.json"]
        .assert_eq(&mask.apply(&a.ok(&["peer", "list", "--format", "json"])));
    expect![[r#"
        key,name,role,addresses,connected
        <yolo>______________________________________________,Yolo Trans Health,member,<listen b>______________,
    "#]].assert_eq(&mask.apply(&a.ok(&["peer", "list", "--format", "csv"])));
    expect![[r#"
        ID        ORGANISATION       ROLE    STATE  EXPIRES                     SAFETY PHRASE
        <inv1>__  Yolo Trans Health  member  used   2026-11-24 09:00 (in 21 h)  -
        <inv2>__  River Refuge       device  used   2026-11-24 09:00 (in 21 h)  -
        <inv3>__  Placer Pride       member  open   2026-11-24 09:00 (in 21 h)  -
    "#]]
    .assert_eq(&mask.apply(&a.ok(&["invite", "list"])));
    expect_file!["expected/invite_list.json"]
        .assert_eq(&mask.apply(&a.ok(&["invite", "list", "--format", "json"])));
    expect![[r#"
        id,org,role,state,expires,phrase,joiner_name
        <inv1>__,Yolo Trans Health,member,used,2026-11-24T17:00:00Z,,
        <inv2>__,River Refuge,device,used,2026-11-24T17:00:00Z,,
        <inv3>__,Placer Pride,member,open,2026-11-24T17:00:00Z,,
    "#]]
    .assert_eq(&mask.apply(&a.ok(&["invite", "list", "--format", "csv"])));
    expect![[r#"
        RELAY             ADDRESSES                THIS NODE
        12D3KooWFmScHuvZ  /ip4/127.0.0.1/tcp/4738  node not running
    "#]]
    .assert_eq(&mask.apply(&a.ok(&["relay", "list"])));
    expect_file!["expected/relay_list.json"]
        .assert_eq(&mask.apply(&a.ok(&["relay", "list", "--format", "json"])));
    expect![[r#"
        Revocation <op7>___: device <river 2>___ of "River Refuge"
          by         River Refuge (<river 1>___)
          reason     laptop lost
          claimed    2026-11-23 11:30 (just now)
          effective  yes
          ORGANISATION       DEVICE                      CONFIRMED
          River Refuge       <river 1>___ (this device)  yes, on epoch 1
          Yolo Trans Health  <yolo>______                not heard from since 2026-11-23 11:30 (just now)
          1 of 2 remaining member devices not heard from yet: until it is, it may still trust the revoked key.
    "#]].assert_eq(&mask.apply(&a.ok(&["peer", "revocations"])));
    expect_file!["expected/revocations.json"].assert_eq(&mask.apply(&a.ok(&[
        "peer",
        "revocations",
        "--format",
        "json",
    ])));
    expect![[r#"
        Membership history of "Valley Network" (<network>_________________): 10 operations, oldest first.
        Verified end to end: every signature checks and every operation's parents are here.

        CLAIMED TIME      BY                           VERDICT  WHAT
        2026-11-23 09:##  River Refuge (<river 1>___)  valid    founded the network with "River Refuge" as admin, device <river 1>___
        2026-11-23 09:##  River Refuge (<river 1>___)  valid    new encryption key, epoch 0, sealed to 1 device
        2026-11-23 09:##  River Refuge (<river 1>___)  valid    added "Yolo Trans Health" as member, device <yolo>______
        2026-11-23 09:##  River Refuge (<river 1>___)  valid    shared the key of epoch 0 with Yolo Trans Health (<yolo>______)
        2026-11-23 09:##  River Refuge (<river 1>___)  valid    added device <river 2>___ to "River Refuge"
        2026-11-23 09:##  River Refuge (<river 1>___)  valid    shared the key of epoch 0 with River Refuge (<river 2>___)
        2026-11-23 11:30  River Refuge (<river 1>___)  valid    revoked device <river 2>___ of "River Refuge"; reason: laptop lost
        2026-11-23 11:30  River Refuge (<river 1>___)  valid    new encryption key, epoch 1, sealed to 2 devices
        2026-11-23 11:30  River Refuge (<river 1>___)  valid    confirmed revocation <op7>___ of device <river 2>___ of "River Refuge", now on epoch 1
        2026-11-23 11:30  River Refuge (<river 1>___)  valid    an operation this version does not describe
    "#]].assert_eq(&mask.apply(&a.ok(&["audit", "log"])));
    expect_file!["expected/audit_log.json"]
        .assert_eq(&mask.apply(&a.ok(&["audit", "log", "--format", "json"])));
    expect![[r#"
        Exposure report: what device <river 2>___ of "River Refuge" could read when it was cut off (revocation <op7>___, 2026-11-23 11:30 (just now)).
        It lists every offer and hold with content encrypted under a key the revoked party held (epoch 0). puente cannot tell which of those reached it, so the list errs on the side of including too much. Use it to decide whom to warn.

        River Refuge: confirmed the revocation 2026-11-23 11:30 (just now):
          OFFER     KIND       HANDLE      COUNTIES  CREATED           STATE
          <of-r>__  host-home  host-river  06067     2026-11-23 09:##  active

        Yolo Trans Health: has not confirmed the revocation yet; what it writes until it does is exposed too:
          OFFER     KIND       HANDLE     COUNTIES  CREATED           STATE
          <of-y>__  host-home  host-yolo  06113     2026-11-23 09:##  active
          HOLD      ON OFFER OF   HANDLE      QTY  CREATED           STATUS
          <hold>__  River Refuge  host-river  1    2026-11-23 09:##  pending
    "#]].assert_eq(&mask.apply(&a.ok(&["audit", "exposure", &key2[..10]])));
    expect_file!["expected/exposure_device.json"].assert_eq(&mask.apply(&a.ok(&[
        "audit",
        "exposure",
        &key2[..10],
        "--format",
        "json",
    ])));
    expect![[r#"
        Exposure report: "Yolo Trans Health" is not revoked, so it can read everything below now, and whatever partners publish next.
        Its own offers and holds are not listed: it wrote them.

        River Refuge:
          OFFER     KIND       HANDLE      COUNTIES  CREATED           STATE
          <of-r>__  host-home  host-river  06067     2026-11-23 09:##  active
    "#]].assert_eq(&mask.apply(&a.ok(&["audit", "exposure", "yolo trans health"])));
    expect_file!["expected/exposure_org.json"].assert_eq(&mask.apply(&a.ok(&[
        "audit",
        "exposure",
        "Yolo Trans Health",
        "--format",
        "json",
    ])));

    // Revoking the partner, for scripts. A quarter of an hour later, so that the two
    // revocations sort by time rather than by their random ids.
    a.now = "2026-11-23T11:45:00-08:00".to_string();
    let out = a.ok(&[
        "peer",
        "revoke",
        "Yolo Trans Health",
        "--reason",
        "coordinator left",
        "--format",
        "json",
    ]);
    for (n, id) in op_ids(&a).iter().enumerate() {
        mask.id(id, &format!("op{}", n + 1));
    }
    expect_file!["expected/peer_revoke.json"].assert_eq(&mask.apply(&out));
    expect![[r#"
        organisation  River Refuge
        devices       1, this one
        network       Valley Network (<network>_________________)
        epoch         2
        node          not running (start it with `puente run`)

        MEMBER        ROLE   DEVICE        REACHED      LAST SYNC  PENDING
        River Refuge  admin  <river 1>___  this device  -          -

        RELAY             THIS NODE  MAILBOX
        12D3KooWFmScHuvZ  -          -

        OFFERS BY          COUNT
        River Refuge       1
        Yolo Trans Health  1

        Revoked: device <river 2>___ of "River Refuge", "Yolo Trans Health" (organisation).
    "#]]
    .assert_eq(&mask.apply(&a.status()));
}
