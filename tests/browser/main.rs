//! The coordinators' web page in a real browser: headless Chromium driven through chromedriver
//! (WebDriver, from Rust with fantoccini) against two real `puente run` nodes on loopback.
//!
//! Run by `tests/browser.sh`, which installs Debian's `chromium` and `chromium-driver` when
//! they are missing and builds the binary; by hand:
//! `PUENTE_BIN=target/debug/puente cargo test -p puente-tests --features browser --test browser`.
//! With `PUENTE_SCREENSHOTS=DIR` it also saves screenshots of the page in each language (the
//! user guide's pictures come from there).

mod nodes;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use nodes::{Org, free_port};

/// How long anything may take to show up: sync between two nodes takes well under a second,
/// but a loaded two-core CI machine with a browser on it is slow.
const DEADLINE: Duration = Duration::from_secs(90);

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    profiles: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let binary = std::env::var("PUENTE_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}); run tests/browser.sh, which installs it")
            });
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < DEADLINE, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver {
            child,
            url,
            profiles: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// A new browser with its own empty profile (its own cookies), in English.
    async fn browser(&self, name: &str) -> Client {
        let chromium =
            std::env::var("PUENTE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let profile = self.profiles.path().join(name);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-default-apps",
                    "--disable-crash-reporter",
                    "--disable-breakpad",
                    "--lang=en-US",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": { "intl.accept_languages": "en-US,en" },
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver starts a browser")
    }
}

impl Drop for Driver {
    /// Stops chromedriver and every browser it started (even those a failed test left open:
    /// their command lines name a profile under this driver's folder).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("pkill")
            .args(["-f", &self.profiles.path().display().to_string()])
            .status();
    }
}

/// Where screenshots go, when asked for.
fn shots() -> Option<PathBuf> {
    std::env::var_os("PUENTE_SCREENSHOTS").map(PathBuf::from)
}

async fn shot(c: &Client, name: &str) {
    if let Some(dir) = shots() {
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let png = c.screenshot().await.expect("a screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is saved");
    }
}

async fn text(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn body(c: &Client) -> String {
    text(c, "body").await
}

/// Waits until the page's text contains `needle`, reloading between looks when `reload`.
async fn wait_for(c: &Client, needle: &str, reload: bool) {
    let start = Instant::now();
    loop {
        if body(c).await.contains(needle) {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {needle:?} on {}:\n{}",
            c.current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default(),
            body(c).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        if reload {
            let _ = c.refresh().await;
        }
    }
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|_| panic!("field {id}"));
    e.clear().await.expect("cleared");
    e.send_keys(value).await.expect("typed");
}

/// Sets a date field (typing into one depends on the browser's locale).
async fn set_date(c: &Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![json!(id), json!(value)],
    )
    .await
    .expect("the date is set");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Clicks the button labelled `label`. The page may put a fresh copy of it in place between
/// finding and clicking (the inbox updates itself): then it is found again.
async fn submit_button(c: &Client, label: &str) {
    let xpath = format!("//button[normalize-space(.)={label:?}]");
    let start = Instant::now();
    loop {
        let found = c.find(Locator::XPath(&xpath)).await;
        let clicked = match found {
            Ok(e) => e.click().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match clicked {
            Ok(()) => return,
            Err(e) => assert!(
                start.elapsed() < DEADLINE,
                "cannot press {label:?} ({e}):\n{}",
                body(c).await
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Signs `c` in to `org`'s page with a fresh link from `puente open`; returns the link.
async fn sign_in(c: &Client, org: &Org) -> String {
    let link = org.open_link();
    c.goto(&link).await.expect("the link opens");
    wait_for(c, "Find help across the network", false).await;
    assert!(
        !c.current_url()
            .await
            .expect("a url")
            .as_str()
            .contains("/login/"),
        "the token leaves the address bar"
    );
    link
}

fn date(days_from_now: i64) -> String {
    let now = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("America/Los_Angeles").expect("tz"));
    let day = now
        .date()
        .checked_add(jiff::Span::new().days(days_from_now))
        .expect("a date");
    day.to_string()
}

/// A hostile site on 127.0.0.1 (a port of its own): a page whose script posts a form to
/// `target` as soon as it loads. Serves every request the same page, from a thread that ends
/// with the test process.
fn attacker_site(target: &str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let page = format!(
        "<!doctype html><html><body><form id=\"f\" method=\"post\" action=\"{target}\">\
         <input name=\"kind\" value=\"host-home\"><input name=\"handle\" value=\"host-evil\">\
         <input name=\"county\" value=\"06067\"></form>\
         <script>document.getElementById('f').submit();</script></body></html>"
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_work_the_network_from_the_page_in_two_languages() {
    let sac = Org::founder("Sacramento Accompaniment Network");
    let river = Org::new("River Refuge");
    let driver = Driver::start();
    let a = driver.browser("sac").await;

    // Without a session: the sign-in page, saying how to get a link.
    a.goto(&sac.page_url()).await.expect("the page opens");
    wait_for(&a, "Sign in to puente", false).await;
    assert!(body(&a).await.contains("puente open"));
    shot(&a, "en-sign-in").await;

    // A link signs in once; used again, it is refused.
    let link = sign_in(&a, &sac).await;
    shot(&a, "en-search").await;
    a.goto(&link).await.expect("the link opens");
    wait_for(&a, "already used", false).await;

    // Invite River Refuge from the page, compare the phrase, confirm.
    a.goto(&format!("{}partners", sac.page_url()))
        .await
        .expect("partners");
    fill(&a, "org", "River Refuge").await;
    submit_button(&a, "Create the invitation").await;
    wait_for(&a, "Invitation for River Refuge created", false).await;
    let token = a
        .find(Locator::Id("token"))
        .await
        .expect("the token")
        .prop("value")
        .await
        .expect("its value")
        .expect("a token");
    let mut joining = river.join(&token);
    a.goto(&format!("{}partners", sac.page_url()))
        .await
        .expect("partners");
    wait_for(&a, "waiting for your confirmation", true).await;
    let phrase_on_page = text(&a, ".phrase").await;
    let phrase_told = river.wait_for_phrase();
    assert_eq!(
        phrase_on_page.trim(),
        phrase_told.trim(),
        "the phrases match"
    );
    shot(&a, "en-partners-confirm").await;
    submit_button(&a, "The phrase matches: confirm").await;
    let joined = joining.wait().expect("join exits");
    assert!(joined.success(), "river joined: {}", river.join_output());
    river.start();

    // Publish an offer from the page.
    a.goto(&format!("{}offers/new", sac.page_url()))
        .await
        .expect("the form");
    a.find(Locator::Id("kind"))
        .await
        .expect("kind")
        .select_by_value("host-home")
        .await
        .expect("chosen");
    fill(&a, "handle", "host-web1").await;
    fill(&a, "county", "06067").await;
    fill(&a, "lang", "es").await;
    fill(&a, "label", "quiet room near the bus line").await;
    click(&a, "#accepts-trans-women").await;
    set_date(&a, "start", &date(0)).await;
    set_date(&a, "end", &date(14)).await;
    fill(&a, "total", "2").await;
    shot(&a, "en-publish").await;
    submit_button(&a, "Publish").await;
    wait_for(&a, "host-web1", false).await;
    assert!(
        a.current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/offers")
    );

    // River Refuge finds it on its own page, from its own node.
    let b = driver.browser("river").await;
    sign_in(&b, &river).await;
    b.find(Locator::Id("kind"))
        .await
        .expect("kind")
        .select_by_value("host-home")
        .await
        .expect("chosen");
    submit_button(&b, "Search").await;
    wait_for(&b, "host-web1", true).await;
    shot(&b, "en-results").await;
    click(&b, "table a[href^='/offers/']").await;
    wait_for(&b, "Place a hold", false).await;
    click(&b, "#whole").await;
    submit_button(&b, "Place the hold").await;
    wait_for(&b, "waiting for an answer", false).await;

    // Sacramento's inbox shows it without a reload (the page listens for news).
    a.goto(&format!("{}inbox", sac.page_url()))
        .await
        .expect("inbox");
    wait_for(&a, "River Refuge asks to hold 1 of", false).await;
    shot(&a, "en-inbox").await;
    submit_button(&a, "Confirm").await;
    wait_for(&a, "Nothing needs you right now", false).await;

    // River sees the answer.
    b.goto(&format!("{}inbox", river.page_url()))
        .await
        .expect("inbox");
    wait_for(&b, "confirmed", true).await;

    // In Spanish: the switch, the page, and an error in the same words as the CLI's.
    a.goto(&format!("{}offers/new", sac.page_url()))
        .await
        .expect("the form");
    submit_button(&a, "Español").await;
    wait_for(&a, "Publicar una oferta", false).await;
    let lang = a
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang");
    assert_eq!(lang.as_deref(), Some("es"));
    fill(&a, "handle", "host-web2").await;
    fill(&a, "county", "06067").await;
    fill(&a, "lang", "es").await;
    fill(&a, "label", "llame al 916-555-0123").await;
    set_date(&a, "start", &date(0)).await;
    set_date(&a, "end", &date(7)).await;
    fill(&a, "total", "1").await;
    submit_button(&a, "Publicar").await;
    let shown = {
        let start = Instant::now();
        loop {
            let t = text(&a, "p.alert.error").await;
            if !t.is_empty() {
                break t;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no error shown:\n{}",
                body(&a).await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let window = format!("{}..{}=1", date(0), date(7));
    let add = [
        "offer",
        "add",
        "--kind",
        "host-home",
        "--handle",
        "host-web2",
        "--county",
        "06067",
        "--lang",
        "es",
        "--label",
        "llame al 916-555-0123",
        "--window",
        &window,
    ];
    let told_es = sac.error_in("es_MX.UTF-8", &add);
    let told_en = sac.error_in("C.UTF-8", &add);
    assert_eq!(
        shown.trim(),
        told_es.trim(),
        "the page says what the CLI says in Spanish"
    );
    assert_ne!(told_es, told_en, "the CLI says it in Spanish");
    shot(&a, "es-publish-error").await;
    a.goto(&format!("{}?go=1&kind=host-home", sac.page_url()))
        .await
        .expect("a search");
    wait_for(&a, "host-web1", false).await;
    shot(&a, "es-results").await;
    for (path, name) in [
        ("", "es-search"),
        ("inbox", "es-inbox"),
        ("partners", "es-partners"),
        ("import", "es-import"),
    ] {
        a.goto(&format!("{}{path}", sac.page_url()))
            .await
            .expect("a page");
        shot(&a, name).await;
    }

    // Another site's page, on this computer (same site as the page: only the port differs, so
    // the browser sends the session cookie along), submits a form to the page at load. (A
    // puente page cannot be that site: its CSP lets forms go only to itself.)
    let before = sac.offer_count();
    let attacker = attacker_site(&format!("{}offers", sac.page_url()));
    a.goto(&attacker).await.expect("another site");
    wait_for(&a, "Rechazado", false).await;
    assert_eq!(sac.offer_count(), before, "nothing was published");

    a.close().await.expect("closed");
    b.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_with_the_keyboard_on_a_narrow_window() {
    let sac = Org::founder("Sacramento Accompaniment Network");
    let driver = Driver::start();
    let c = driver.browser("narrow").await;
    c.set_window_size(360, 800)
        .await
        .expect("a phone-sized window");
    sign_in(&c, &sac).await;
    for path in ["", "offers/new", "inbox", "partners", "import"] {
        c.goto(&format!("{}{path}", sac.page_url()))
            .await
            .expect("a page");
        // Nothing wider than the window.
        let fits = c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                vec![],
            )
            .await
            .expect("measured");
        assert_eq!(fits, json!(true), "/{path} scrolls sideways at 360 px");
        // Every field a person fills has a label.
        let unlabelled = c
            .execute(
                "return Array.from(document.querySelectorAll('input, select, textarea'))
                   .filter(e => e.type !== 'hidden')
                   .filter(e => !(e.id && document.querySelector('label[for=\"' + e.id + '\"]')) && !e.getAttribute('aria-label'))
                   .map(e => e.name);",
                vec![],
            )
            .await
            .expect("checked");
        assert_eq!(unlabelled, json!([]), "/{path} has fields without a label");
        // Readable contrast: every piece of text against the background it is drawn on, by
        // WCAG 2's formula, at least 4.5:1.
        let low = c
            .execute(
                "const lum = c => { const [r, g, b] = c.match(/[0-9.]+/g).slice(0, 3).map(Number).map(v => {
                     v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                   return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
                 const bg = e => { for (; e; e = e.parentElement) {
                     const b = getComputedStyle(e).backgroundColor;
                     if (!/rgba\\(.*, 0\\)$/.test(b) && b !== 'transparent') return b; }
                   return 'rgb(255, 255, 255)'; };
                 const out = [];
                 for (const e of document.querySelectorAll('body *')) {
                   const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
                   if (!own || !e.offsetParent) continue;
                   const a = lum(getComputedStyle(e).color), b = lum(bg(e));
                   const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                   if (ratio < 4.5) out.push(e.tagName + ' ' + e.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
                 }
                 return out;",
                vec![],
            )
            .await
            .expect("measured");
        assert_eq!(low, json!([]), "/{path} has text below 4.5:1");
    }
    shot(&c, "en-narrow-publish").await;

    // The keyboard alone: the first Tab reaches "Skip to content", and Tab then reaches the
    // search form's fields and its button; Enter searches.
    c.goto(&sac.page_url()).await.expect("the page");
    let active = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute(
                "const e = document.activeElement; return [e.tagName, e.id || '', e.textContent.trim()];",
                vec![],
            )
            .await
            .expect("the focused element")
        }
    };
    let tab = |c: &Client| {
        let c = c.clone();
        async move {
            c.active_element()
                .await
                .expect("focus")
                .send_keys("\u{e004}")
                .await
                .expect("tab");
        }
    };
    c.execute("document.body.focus();", vec![])
        .await
        .expect("focus");
    tab(&c).await;
    let first = active(&c).await;
    assert_eq!(first[2], json!("Skip to content"), "{first}");
    // Tab until the focused element is what `wanted` says, at most 40 times.
    let tab_to = |c: &Client, wanted: fn(&serde_json::Value) -> bool| {
        let c = c.clone();
        async move {
            for _ in 0..40 {
                tab(&c).await;
                if wanted(&active(&c).await) {
                    return true;
                }
            }
            false
        }
    };
    assert!(
        tab_to(&c, |e| e[1] == json!("kind")).await,
        "Tab reaches the search form"
    );
    assert!(
        tab_to(&c, |e| e[0] == json!("BUTTON") && e[2] == json!("Search")).await,
        "Tab reaches the search button"
    );
    c.active_element()
        .await
        .expect("focus")
        .send_keys("\u{e007}")
        .await
        .expect("enter");
    wait_for(&c, "Results", false).await;
    c.close().await.expect("closed");
}
