//! The web page's defences, as an attacker on this computer or a hostile web site would probe
//! them: raw HTTP requests to a real `puente run`, crafted byte by byte so that nothing
//! normalises the headers on the way. The browser tests (tests/browser) drive the page itself.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::daemon::Daemon;
use crate::support::Node;

/// One HTTP response: status, headers (lowercase names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Sends the raw request `head` (request line and headers, each ending in CRLF; this adds
/// `Connection: close` and the blank line) and `body` to the page on `port`, and reads the
/// whole answer.
fn send(port: u16, head: &str, body: &str) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the page accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let request = format!("{head}Connection: close\r\n\r\n{body}");
    stream.write_all(request.as_bytes()).expect("sent");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A request without a body.
fn http(port: u16, head: &str) -> Answer {
    send(port, head, "")
}

fn get(port: u16, path: &str, extra: &str) -> Answer {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"),
    )
}

/// A form POST: `headers` (each ending in CRLF) and the urlencoded `form`.
fn post_raw(port: u16, path: &str, headers: &str, form: &str) -> Answer {
    post_typed(
        port,
        path,
        headers,
        "application/x-www-form-urlencoded",
        form,
    )
}

/// A POST of `body` as `kind`.
fn post_typed(port: u16, path: &str, headers: &str, kind: &str, body: &str) -> Answer {
    send(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\n{headers}Content-Type: {kind}\r\nContent-Length: {}\r\n",
            body.len()
        ),
        body,
    )
}

/// A node with its page on a free port; the port.
fn page(n: &Node) -> (Daemon, u16) {
    let d = Daemon::start_with(n, "web", &["--web-port", "0"], "Web page for coordinators");
    let out = d.stdout();
    let port = out
        .lines()
        .find_map(|l| l.split("http://127.0.0.1:").nth(1))
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no page address in: {out}"));
    (d, port)
}

/// Signs in with a fresh link: the session cookie (`name=value`) and a CSRF token.
fn sign_in(n: &Node, port: u16) -> (String, String) {
    let link = n.ok(&["open", "--no-browser"]);
    let path = link
        .trim()
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("a link to the page: {link}"))
        .to_string();
    let a = get(port, &path, "");
    assert_eq!(a.status, 303, "{}", a.body);
    let cookie = a
        .header("set-cookie")
        .expect("a session cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let page = get(port, "/offers/new", &format!("Cookie: {cookie}\r\n"));
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form with its token")
        .to_string();
    (cookie, csrf)
}

#[test]
fn the_page_needs_a_one_time_link_and_gives_a_strict_cookie() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let (_d, port) = page(&n);

    // No cookie: the sign-in page, whatever is asked for.
    for path in ["/", "/offers", "/inbox", "/partners", "/import"] {
        let a = get(port, path, "");
        assert_eq!(a.status, 200, "{path}");
        assert!(a.body.contains("Sign in to puente"), "{path}: {}", a.body);
        assert!(!a.body.contains("Our offers"), "{path} shows nothing else");
    }

    let link = n.ok(&["open", "--no-browser"]);
    let path = link
        .trim()
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .expect("a link to this page")
        .to_string();
    let a = get(port, &path, "");
    assert_eq!(a.status, 303);
    assert_eq!(
        a.header("location"),
        Some("/"),
        "the token leaves the address bar"
    );
    let cookie = a.header("set-cookie").expect("a cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains(path.trim_start_matches("/login/")),
        "the cookie is not the token"
    );

    // The same link again: refused, and no cookie.
    let again = get(port, &path, "");
    assert_eq!(again.status, 403);
    assert!(again.body.contains("already used"), "{}", again.body);
    assert!(again.header("set-cookie").is_none());

    // A made-up link: refused the same way.
    let forged = get(port, &format!("/login/{}", "0".repeat(64)), "");
    assert_eq!(forged.status, 403);

    // The cookie opens the pages.
    let session = cookie.split(';').next().expect("name=value");
    let home = get(port, "/", &format!("Cookie: {session}\r\n"));
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("Find help across the network"),
        "{}",
        home.body
    );

    // A cookie that was never issued opens nothing.
    let name = session.split('=').next().expect("a name");
    let fake = get(
        port,
        "/offers",
        &format!("Cookie: {name}={}\r\n", "ab".repeat(32)),
    );
    assert!(fake.body.contains("Sign in to puente"));
}

#[test]
fn every_answer_carries_a_strict_content_security_policy() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let (_d, port) = page(&n);
    for path in ["/", "/assets/style.css", "/assets/app.js", "/no-such-page"] {
        let a = get(port, path, "");
        let csp = a
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(a.header("referrer-policy"), Some("same-origin"));
    }
    // No inline script anywhere on a page: every script is a file of the page itself.
    let (cookie, _) = sign_in(&n, port);
    for path in ["/", "/offers/new", "/inbox", "/partners", "/import"] {
        let body = get(port, path, &format!("Cookie: {cookie}\r\n")).body;
        for tag in body.split("<script").skip(1) {
            assert!(
                tag.trim_start().starts_with("src=\"/assets/"),
                "{path}: <script{tag}"
            );
        }
        for handler in [
            "onclick=",
            "onload=",
            "onsubmit=",
            "onchange=",
            "onerror=",
            "javascript:",
        ] {
            assert!(!body.contains(handler), "{path}: inline script {handler}");
        }
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}: another host"
        );
    }
}

#[test]
fn a_foreign_host_or_origin_is_refused_before_anything_runs() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let (_d, port) = page(&n);
    let (cookie, csrf) = sign_in(&n, port);
    let offers_before = n.offers().len();

    // DNS rebinding: a name that resolves to 127.0.0.1 but is not the page's own.
    let rebound = http(
        port,
        &format!("GET / HTTP/1.1\r\nHost: attacker.example:{port}\r\nCookie: {cookie}\r\n"),
    );
    assert_eq!(rebound.status, 421);
    assert!(rebound.body.contains("Refused"), "{}", rebound.body);
    let no_host = http(port, "GET / HTTP/1.0\r\n");
    assert_ne!(no_host.status, 200);

    let form = format!(
        "csrf={csrf}&kind=host-home&handle=host-x1&county=06067&lang=es&start=2026-12-01&end=2026-12-20&total=1"
    );
    let host = format!("Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n");
    // Another site's form.
    let foreign = post_raw(
        port,
        "/offers",
        &format!("{host}Origin: https://attacker.example\r\n"),
        &form,
    );
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(
        foreign.body.contains("not sent from puente's own page"),
        "{}",
        foreign.body
    );
    // A form from a sandboxed frame or a file (Origin: null), or with no Origin at all.
    let null = post_raw(port, "/offers", &format!("{host}Origin: null\r\n"), &form);
    assert_eq!(null.status, 403);
    let none = post_raw(port, "/offers", &host, &form);
    assert_eq!(none.status, 403);
    // The page's own origin but no token, or another token: refused too.
    let own = format!("{host}Origin: http://127.0.0.1:{port}\r\n");
    let no_token = post_raw(
        port,
        "/offers",
        &own,
        "kind=host-home&handle=host-x1&county=06067&lang=es",
    );
    assert_eq!(no_token.status, 403);
    assert!(no_token.body.contains("out of date"), "{}", no_token.body);
    let wrong = post_raw(port, "/offers", &own, &form.replace(&csrf, &"0".repeat(64)));
    assert_eq!(wrong.status, 403);
    // No session: refused, whatever the token.
    let anonymous = post_raw(
        port,
        "/offers",
        &format!("Host: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"),
        &form,
    );
    assert_eq!(anonymous.status, 403);
    assert_eq!(n.offers().len(), offers_before, "nothing was published");

    // The same form from the page itself, with its token: published.
    let ok = post_raw(port, "/offers", &own, &form);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(n.offers().len(), offers_before + 1);
}

#[test]
fn a_refused_action_says_why_in_one_sentence_and_changes_nothing() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let (_d, port) = page(&n);
    let (cookie, csrf) = sign_in(&n, port);
    let own = format!(
        "Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nOrigin: http://127.0.0.1:{port}\r\n"
    );
    // A label with a phone number: the same refusal as `puente offer add`.
    let form = format!(
        "csrf={csrf}&kind=host-home&handle=host-x2&county=06067&lang=es&label=call+916-555-0123&start=2026-12-01&end=2026-12-20&total=1"
    );
    let a = post_raw(port, "/offers", &own, &form);
    assert_eq!(a.status, 200, "the form again");
    let cli = n.fails(&[
        "offer",
        "add",
        "--kind",
        "host-home",
        "--handle",
        "host-x2",
        "--county",
        "06067",
        "--lang",
        "es",
        "--label",
        "call 916-555-0123",
        "--window",
        "2026-12-01..2026-12-20=1",
    ]);
    let sentence = cli.trim().trim_start_matches("error: ").to_string();
    let escaped = sentence
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    assert!(
        a.body.contains(&escaped) || a.body.contains(&sentence),
        "the page says what the CLI says ({sentence}):\n{}",
        a.body
    );
    assert!(
        a.body.contains("value=\"host-x2\""),
        "what was typed is kept"
    );
    assert!(n.offers().is_empty());
}

#[test]
fn the_page_follows_the_browser_language_and_the_switch() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let (_d, port) = page(&n);
    let es = get(port, "/", "Accept-Language: es-MX,es;q=0.9,en;q=0.5\r\n");
    assert!(es.body.contains("lang=\"es\""), "{}", es.body);
    assert!(es.body.contains("Iniciar sesión en puente"), "{}", es.body);
    let en = get(port, "/", "Accept-Language: en-US,en;q=0.9\r\n");
    assert!(en.body.contains("Sign in to puente"));
    // The switch (a POST from the page) remembers the choice over the browser's.
    let switched = post_raw(
        port,
        "/lang/es",
        &format!("Host: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"),
        "back=/inbox",
    );
    assert_eq!(switched.status, 303);
    assert_eq!(switched.header("location"), Some("/inbox"));
    let chosen = switched
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("puente_lang="))
        .expect("the choice is kept")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let after = get(
        port,
        "/",
        &format!("Accept-Language: en\r\nCookie: {chosen}\r\n"),
    );
    assert!(after.body.contains("Iniciar sesión en puente"));
    // The switch never sends anyone to another site.
    let away = post_raw(
        port,
        "/lang/en",
        &format!("Host: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"),
        "back=//attacker.example/",
    );
    assert_eq!(away.header("location"), Some("/"));
}

#[test]
fn the_page_can_be_turned_off_and_open_says_so() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let d = Daemon::start_with(&n, "noweb", &["--no-web"], "Ctrl-C");
    assert!(!d.stdout().contains("Web page"), "{}", d.stdout());
    let err = n.fails(&["open", "--no-browser"]);
    assert!(err.contains("--no-web"), "{err}");
    drop(d);
    let err = n.fails(&["open", "--no-browser"]);
    assert!(err.contains("puente run"), "{err}");
}

/// A multipart form as a browser sends it: the token, then a file.
fn multipart(csrf: &str, name: &str, file: &str, withdraw: bool) -> (String, String) {
    let boundary = "----puentetestboundary7MA4YWxk";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
    if withdraw {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"withdraw_missing\"\r\n\r\n1\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn a_spreadsheet_goes_out_and_back_in_through_the_page_with_a_dry_run_first() {
    let n = Node::founder("Sacramento Accompaniment Network");
    n.ok(&[
        "import",
        crate::support::example("sac-accompaniment.csv")
            .to_str()
            .expect("utf-8"),
    ]);
    let (_d, port) = page(&n);
    let (cookie, csrf) = sign_in(&n, port);
    let before = n.offers();

    // Download: the import format, as an attachment.
    let csv = get(port, "/offers.csv", &format!("Cookie: {cookie}\r\n"));
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
        "{:?}",
        csv.headers
    );
    let header = csv.body.lines().next().expect("a header row").to_string();
    assert!(header.contains("handle"), "{header}");
    let first = csv.body.lines().nth(1).expect("an offer").to_string();
    let handle = before[0]["handle"].as_str().expect("a handle").to_string();
    // The spreadsheet, edited: one offer's label changes.
    let row = csv
        .body
        .lines()
        .find(|l| l.starts_with(&format!("{handle},")))
        .unwrap_or(&first)
        .to_string();
    let old_label = before
        .iter()
        .find(|o| o["handle"] == handle.as_str())
        .and_then(|o| o["label"].as_str())
        .unwrap_or("")
        .to_string();
    assert!(!old_label.is_empty() && row.contains(&old_label), "{row}");
    let edited = csv
        .body
        .replacen(&row, &row.replace(&old_label, "two quiet rooms"), 1);

    // Upload: the dry run, row by row, writes nothing.
    let own = format!(
        "Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nOrigin: http://127.0.0.1:{port}\r\n"
    );
    let (kind, body) = multipart(&csrf, "offers.csv", &edited, false);
    let dry = post_typed(port, "/import", &own, &kind, &body);
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert!(
        dry.body.contains("What importing offers.csv would do"),
        "{}",
        dry.body
    );
    assert!(dry.body.contains("1 changed"), "{}", dry.body);
    assert!(dry.body.contains("<td>update</td>"), "{}", dry.body);
    assert_eq!(n.offers(), before, "a dry run writes nothing");
    // Without its token, the upload is refused.
    let (kind, forged) = multipart("0", "offers.csv", &edited, false);
    assert_eq!(
        post_typed(port, "/import", &own, &kind, &forged).status,
        403
    );

    // Import: the file kept in memory since the dry run is written.
    let done = post_raw(port, "/import/apply", &own, &format!("csrf={csrf}"));
    assert_eq!(done.status, 303, "{}", done.body);
    let after = n.offers();
    let changed = after
        .iter()
        .find(|o| o["handle"] == handle.as_str())
        .expect("still there");
    assert_eq!(changed["label"], "two quiet rooms");
    assert_eq!(after.len(), before.len());
    // Once imported, the file is gone: a second import has nothing to write.
    let again = post_raw(port, "/import/apply", &own, &format!("csrf={csrf}"));
    assert_eq!(again.header("location"), Some("/import"));
}

#[test]
fn an_upload_larger_than_an_import_takes_is_refused_in_one_sentence() {
    let n = Node::founder("Sacramento Accompaniment Network");
    let (_d, port) = page(&n);
    let (cookie, csrf) = sign_in(&n, port);
    let own = format!(
        "Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nOrigin: http://127.0.0.1:{port}\r\n"
    );
    let big = "x".repeat(16 * 1024 * 1024 + 1);
    let (kind, body) = multipart(&csrf, "big.csv", &big, false);
    let a = post_typed(port, "/import", &own, &kind, &body);
    assert!(
        a.body.contains("too large") || a.status == 413,
        "{} {}",
        a.status,
        &a.body[..a.body.len().min(400)]
    );
    assert!(n.offers().is_empty());
}
