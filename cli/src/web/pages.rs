//! What each address of the page does: read the request, run the command a coordinator would
//! type (through [`crate::control::server::execute`]), and lay out its answer with [`views`].
//!
//! Invariant: a page that changes something is a POST whose form carries the session's CSRF
//! token (checked in [`Web::signed_post`] before any command runs); reads are GETs that change
//! nothing. Values from forms reach commands as `--flag=value` (never as a flag of their own)
//! and ids from addresses only after [`id`] checked them.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Multipart, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use axum_extra::extract::{Form, Query};
use maud::Markup;
use puente_crdt::Time;
use serde::Deserialize;
use serde_json::Value;

use super::auth::{self, Flash};
use super::views::{self, Signed};
use super::{LANG_COOKIE, Web};
use crate::control::server::{Served, execute};
use crate::i18n::{self, Lang};

/// Who is asking: their language, and their session if they are signed in.
#[derive(Debug)]
pub struct Visitor {
    /// The page's language for them.
    pub lang: Lang,
    /// Their session cookie's value and CSRF token, when signed in.
    pub signed: Option<Signed>,
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = super::language(&parts.headers, &jar);
        let signed = jar.get(&auth::cookie_name(web.port)).and_then(|c| {
            let cookie = c.value().to_string();
            web.gate
                .with_session(&cookie, Instant::now(), |s| s.csrf.clone())
                .map(|csrf| Signed { cookie, csrf })
        });
        Ok(Visitor { lang, signed })
    }
}

/// An id from an address (offer, hold, invitation, organisation): letters and digits only,
/// as puente writes them, so that it can only ever be an id to the command that gets it.
fn id(text: &str) -> Option<String> {
    (!text.is_empty() && text.len() <= 64 && text.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| text.to_string())
}

/// `--name=value`: a value from a form that can never be read as a flag of its own.
fn flag(name: &str, value: &str) -> String {
    format!("--{name}={value}")
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Adds `--name=value` to `command` for each field that was filled in, and one flag per
/// ticked box of each repeated field.
fn push_flags(command: &mut Vec<String>, fields: &[(&str, &String)], boxes: &[(&str, &[String])]) {
    for (name, value) in fields {
        let value = value.trim();
        if !value.is_empty() {
            command.push(flag(name, value));
        }
    }
    for (name, ticked) in boxes {
        command.extend(ticked.iter().map(|v| flag(name, v)));
    }
}

impl Web {
    fn now(&self) -> Time {
        (self.clock)()
    }

    /// Runs a command as the CLI would, in `lang`.
    async fn run(&self, lang: Lang, args: Vec<String>, attached: Option<Vec<u8>>) -> Served {
        execute(
            args,
            self.dir.clone(),
            self.now(),
            lang,
            attached,
            &self.node,
        )
        .await
    }

    /// Runs a command with `--format json` and reads its answer, or the one-line error.
    async fn json(&self, lang: Lang, mut command: Vec<String>) -> Result<Value, String> {
        command.splice(0..0, args(&["--format", "json"]));
        let served = self.run(lang, command, None).await;
        if let Some(error) = served.error {
            return Err(error);
        }
        serde_json::from_str(&served.stdout())
            .map_err(|_| i18n::text_in(lang, "web-unreadable-answer", &[]))
    }

    /// Runs a command for people (its sentences, in `lang`): what it said, or its error.
    async fn act(&self, lang: Lang, command: Vec<String>, attached: Option<Vec<u8>>) -> Flash {
        let served = self.run(lang, command, attached).await;
        let said = served.stdout().trim().to_string();
        match served.error {
            // Exit 3 is a command's own status (a hold placed but overbooked): done, with a
            // warning, which the error line carries.
            Some(line) if served.exit == 3 => Flash {
                error: false,
                text: format!("{said}\n{line}").trim().to_string(),
            },
            Some(line) => Flash {
                error: true,
                text: line,
            },
            None => Flash {
                error: false,
                text: said,
            },
        }
    }

    fn flash(&self, signed: &Signed, flash: Flash) {
        self.gate
            .with_session(&signed.cookie, Instant::now(), |s| s.flash = Some(flash));
    }

    fn take_flash(&self, signed: &Signed) -> Option<Flash> {
        self.gate
            .with_session(&signed.cookie, Instant::now(), |s| s.flash.take())
            .flatten()
    }

    /// The session of a state-changing request whose form carries its CSRF token, or the
    /// message id of the refusal to send instead (see [`signed_post!`]).
    fn signed_post<'v>(&self, v: &'v Visitor, csrf: &str) -> Result<&'v Signed, &'static str> {
        let Some(signed) = &v.signed else {
            return Err("web-refused-session");
        };
        let ok = self
            .gate
            .with_session(&signed.cookie, Instant::now(), |s| {
                auth::csrf_matches(s, csrf)
            })
            .unwrap_or(false);
        if !ok {
            tracing::debug!("refused a web form without its session's token");
            return Err("web-refused-csrf");
        }
        Ok(signed)
    }

    /// A whole page for a signed-in visitor: the layout around `body`, with the flash.
    async fn page(&self, v: &Visitor, signed: &Signed, nav: views::Nav, body: Markup) -> Response {
        let flash = self.take_flash(signed);
        let waiting = self
            .json(v.lang, args(&["inbox"]))
            .await
            .ok()
            .and_then(|i| i.as_array().map(Vec::len))
            .unwrap_or(0);
        let me = self.json(v.lang, args(&["whoami"])).await.ok();
        let org = me
            .as_ref()
            .and_then(|m| m["name"].as_str())
            .unwrap_or("")
            .to_string();
        i18n::scoped(v.lang, || {
            views::layout(
                v.lang,
                &views::Chrome {
                    nav,
                    signed: Some(signed),
                    org: &org,
                    waiting,
                    flash: flash.as_ref(),
                },
                body,
            )
        })
        .into_response()
    }
}

/// The sign-in page: shown instead of any page to someone without a session.
fn sign_in(v: &Visitor, status: StatusCode, reason: Option<&str>) -> Response {
    let page = i18n::scoped(v.lang, || views::sign_in(v.lang, reason));
    (status, page).into_response()
}

/// The session of a POST carrying its CSRF token, or return the refusal.
macro_rules! signed_post {
    ($web:expr, $v:expr, $csrf:expr) => {
        match $web.signed_post(&$v, $csrf) {
            Ok(s) => s,
            Err(id) => return super::refusal($v.lang, StatusCode::FORBIDDEN, id),
        }
    };
}

/// The id an address names, or return the "no such page" page.
macro_rules! id_or_not_found {
    ($web:expr, $v:expr, $signed:expr, $text:expr) => {
        match id(&$text) {
            Some(id) => id,
            None => return not_found_page(&$web, &$v, $signed).await,
        }
    };
}

/// A page for a signed-in visitor, or the sign-in page.
macro_rules! signed_in {
    ($v:expr) => {
        match &$v.signed {
            Some(s) => s,
            None => return sign_in(&$v, StatusCode::OK, None),
        }
    };
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ----- search -----

/// The search form's fields, as the address carries them (nothing secret: filters only).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub kind: String,
    pub county: String,
    pub zone: String,
    pub lang: String,
    pub accepts: Vec<String>,
    pub affirming: Vec<String>,
    pub from: String,
    pub to: String,
    pub qty: String,
    pub fresh: String,
    pub go: String,
}

impl SearchForm {
    fn command(&self) -> Vec<String> {
        let mut out = args(&["query"]);
        push_flags(
            &mut out,
            &[
                ("kind", &self.kind),
                ("county", &self.county),
                ("zone", &self.zone),
                ("lang", &self.lang),
                ("from", &self.from),
                ("to", &self.to),
                ("qty", &self.qty),
                ("fresh-within", &self.fresh),
            ],
            &[("accepts", &self.accepts), ("affirming", &self.affirming)],
        );
        out
    }
}

pub async fn search(
    State(web): State<Web>,
    v: Visitor,
    Query(form): Query<SearchForm>,
) -> Response {
    let signed = signed_in!(v);
    let results = if form.go.is_empty() {
        None
    } else {
        Some(web.json(v.lang, form.command()).await)
    };
    let now = web.now();
    let body = i18n::scoped(v.lang, || views::search(&form, results.as_ref(), now));
    web.page(&v, signed, views::Nav::Search, body).await
}

// ----- offers -----

pub async fn own_offers(State(web): State<Web>, v: Visitor) -> Response {
    let signed = signed_in!(v);
    let offers = web.json(v.lang, args(&["offer", "list"])).await;
    let now = web.now();
    let body = i18n::scoped(v.lang, || views::own_offers(signed, &offers, now));
    web.page(&v, signed, views::Nav::Offers, body).await
}

pub async fn offer(State(web): State<Web>, v: Visitor, Path(offer): Path<String>) -> Response {
    let signed = signed_in!(v);
    let offer = id_or_not_found!(web, v, signed, offer);
    let shown = web
        .json(v.lang, args(&["offer", "show", "--", &offer]))
        .await;
    let me = web.json(v.lang, args(&["whoami"])).await.ok();
    let ours = match (&shown, &me) {
        (Ok(o), Some(m)) => o["owner"].as_str().is_some() && o["owner"] == m["org"],
        _ => false,
    };
    let my_org = me
        .as_ref()
        .and_then(|m| m["org"].as_str())
        .unwrap_or("")
        .to_string();
    let now = web.now();
    let body = i18n::scoped(v.lang, || views::offer(signed, &shown, ours, &my_org, now));
    let nav = if ours {
        views::Nav::Offers
    } else {
        views::Nav::Search
    };
    web.page(&v, signed, nav, body).await
}

/// The fields of a new offer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewOffer {
    pub csrf: String,
    pub kind: String,
    pub handle: String,
    pub county: String,
    pub zone: String,
    pub lang: String,
    pub accepts: Vec<String>,
    pub affirming: Vec<String>,
    pub label: String,
    pub status: String,
    pub start: String,
    pub end: String,
    pub total: String,
    pub weekly: String,
    pub expires: String,
}

impl NewOffer {
    fn command(&self) -> Vec<String> {
        let mut out = args(&["offer", "add"]);
        push_flags(
            &mut out,
            &[
                ("kind", &self.kind),
                ("handle", &self.handle),
                ("county", &self.county),
                ("zone", &self.zone),
                ("lang", &self.lang),
                ("label", &self.label),
                ("status", &self.status),
                ("expires-in", &self.expires),
            ],
            &[("accepts", &self.accepts), ("affirming", &self.affirming)],
        );
        if let Some(w) = window_spec(&self.start, &self.end, &self.total, !self.weekly.is_empty()) {
            out.push(flag("window", &w));
        }
        out
    }
}

/// `START..END=TOTAL[/weekly]`, as `--window` takes it, when any part was given (the command
/// says what is missing).
fn window_spec(start: &str, end: &str, total: &str, weekly: bool) -> Option<String> {
    let (start, end, total) = (start.trim(), end.trim(), total.trim());
    if start.is_empty() && end.is_empty() && total.is_empty() {
        return None;
    }
    let repeat = if weekly { "/weekly" } else { "" };
    Some(format!("{start}..{end}={total}{repeat}"))
}

pub async fn new_offer(State(web): State<Web>, v: Visitor) -> Response {
    let signed = signed_in!(v);
    let body = i18n::scoped(v.lang, || {
        views::offer_form(signed, &NewOffer::default(), None)
    });
    web.page(&v, signed, views::Nav::Publish, body).await
}

pub async fn publish(State(web): State<Web>, v: Visitor, Form(form): Form<NewOffer>) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let done = web.act(v.lang, form.command(), None).await;
    if done.error {
        // The form again, with what was typed and why it was refused.
        let body = i18n::scoped(v.lang, || {
            views::offer_form(signed, &form, Some(&done.text))
        });
        return web.page(&v, signed, views::Nav::Publish, body).await;
    }
    web.flash(signed, done);
    see_other("/offers")
}

/// Changes to one of our offers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditOffer {
    pub csrf: String,
    pub label: String,
    pub zone: String,
    pub status: String,
    pub start: String,
    pub end: String,
    pub total: String,
    pub weekly: String,
    pub expires: String,
    pub clear_label: String,
    pub clear_zone: String,
}

pub async fn edit_offer(
    State(web): State<Web>,
    v: Visitor,
    Path(offer): Path<String>,
    Form(form): Form<EditOffer>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let offer = id_or_not_found!(web, v, signed, offer);
    let mut command = args(&["offer", "update"]);
    push_flags(
        &mut command,
        &[
            ("label", &form.label),
            ("zone", &form.zone),
            ("status", &form.status),
            ("expires-in", &form.expires),
        ],
        &[],
    );
    if !form.clear_label.is_empty() && form.label.trim().is_empty() {
        command.push(flag("clear", "label"));
    }
    if !form.clear_zone.is_empty() && form.zone.trim().is_empty() {
        command.push("--clear-zone".to_string());
    }
    if let Some(w) = window_spec(&form.start, &form.end, &form.total, !form.weekly.is_empty()) {
        command.push(flag("add-window", &w));
    }
    command.extend(args(&["--", &offer]));
    let done = web.act(v.lang, command, None).await;
    web.flash(signed, done);
    see_other(&format!("/offers/{offer}"))
}

/// A form that only carries its token (a button).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Button {
    pub csrf: String,
    /// The check box of a button that asks "are you sure?".
    pub sure: String,
    /// Why (a revocation's reason).
    pub reason: String,
}

pub async fn confirm_offer(
    State(web): State<Web>,
    v: Visitor,
    Path(offer): Path<String>,
    Form(form): Form<Button>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let offer = id_or_not_found!(web, v, signed, offer);
    let done = web
        .act(v.lang, args(&["offer", "confirm", "--", &offer]), None)
        .await;
    web.flash(signed, done);
    see_other(&format!("/offers/{offer}"))
}

pub async fn withdraw_offer(
    State(web): State<Web>,
    v: Visitor,
    Path(offer): Path<String>,
    Form(form): Form<Button>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let offer = id_or_not_found!(web, v, signed, offer);
    let done = if form.sure.is_empty() {
        Flash {
            error: true,
            text: i18n::text_in(v.lang, "web-withdraw-tick", &[]),
        }
    } else {
        web.act(
            v.lang,
            args(&["offer", "withdraw", "--yes", "--", &offer]),
            None,
        )
        .await
    };
    web.flash(signed, done);
    see_other(&format!("/offers/{offer}"))
}

// ----- holds -----

/// A hold to place on a partner's offer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HoldForm {
    pub csrf: String,
    pub window: String,
    pub qty: String,
    pub from: String,
    pub to: String,
    pub whole: String,
}

pub async fn place_hold(
    State(web): State<Web>,
    v: Visitor,
    Path(offer): Path<String>,
    Form(form): Form<HoldForm>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let offer = id_or_not_found!(web, v, signed, offer);
    let mut command = args(&["hold", "place"]);
    command.push(flag("window", form.window.trim()));
    command.push(flag("qty", form.qty.trim()));
    if !form.whole.is_empty() {
        command.push("--whole-window".to_string());
    } else {
        command.push(flag("from", form.from.trim()));
        command.push(flag("to", form.to.trim()));
    }
    command.extend(args(&["--", &offer]));
    let done = web.act(v.lang, command, None).await;
    web.flash(signed, done);
    see_other(&format!("/offers/{offer}"))
}

pub async fn decide_hold(
    State(web): State<Web>,
    v: Visitor,
    Path((hold, decision)): Path<(String, String)>,
    Form(form): Form<Button>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let (Some(hold), Some(verb)) = (
        id(&hold),
        ["confirm", "decline", "release"]
            .into_iter()
            .find(|d| *d == decision),
    ) else {
        return not_found_page(&web, &v, signed).await;
    };
    let done = web
        .act(v.lang, args(&["hold", verb, "--", &hold]), None)
        .await;
    web.flash(signed, done);
    see_other("/inbox")
}

// ----- inbox -----

async fn inbox_data(web: &Web, lang: Lang) -> (Result<Value, String>, Result<Value, String>) {
    let inbox = web.json(lang, args(&["inbox"])).await;
    let holds = web.json(lang, args(&["hold", "list", "--mine"])).await;
    (inbox, holds)
}

pub async fn inbox(State(web): State<Web>, v: Visitor) -> Response {
    let signed = signed_in!(v);
    let (inbox, holds) = inbox_data(&web, v.lang).await;
    let now = web.now();
    let body = i18n::scoped(v.lang, || views::inbox(signed, &inbox, &holds, now, true));
    web.page(&v, signed, views::Nav::Inbox, body).await
}

/// The inbox alone, for the page's script to put in place when something arrives.
pub async fn inbox_part(State(web): State<Web>, v: Visitor) -> Response {
    let Some(signed) = &v.signed else {
        return super::refusal(v.lang, StatusCode::FORBIDDEN, "web-refused-session");
    };
    let (inbox, holds) = inbox_data(&web, v.lang).await;
    let now = web.now();
    i18n::scoped(v.lang, || views::inbox(signed, &inbox, &holds, now, false)).into_response()
}

/// How many items the inbox holds, for the count beside its name.
pub async fn inbox_count(State(web): State<Web>, v: Visitor) -> Response {
    if v.signed.is_none() {
        return super::refusal(v.lang, StatusCode::FORBIDDEN, "web-refused-session");
    }
    let n = web
        .json(v.lang, args(&["inbox"]))
        .await
        .ok()
        .and_then(|i| i.as_array().map(Vec::len))
        .unwrap_or(0);
    n.to_string().into_response()
}

/// How often the page's event stream looks for news (the same rhythm as `events --follow`).
const EVENTS_INTERVAL: Duration = Duration::from_secs(2);

/// A stream of "something changed" events for the page's script: the inbox's news (holds that
/// arrived or were answered, offers about to expire), nothing of their contents.
pub async fn events(State(web): State<Web>, v: Visitor) -> Response {
    if v.signed.is_none() {
        return super::refusal(v.lang, StatusCode::FORBIDDEN, "web-refused-session");
    }
    let node = web.node.clone();
    let start = web.now();
    let stream = async_stream(node, start);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn async_stream(
    node: puente_node::actor::Node,
    start: Time,
) -> impl futures_util::Stream<Item = Result<Event, Infallible>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(EVENTS_BUFFER);
    tokio::spawn(async move {
        let mut watcher = crate::commands::inbox::Watcher::new(start);
        let mut tick = tokio::time::interval(EVENTS_INTERVAL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = tx.closed() => return,
            }
            let Some(news) = watcher.news(&node).await else {
                return;
            };
            if news.is_empty() {
                continue;
            }
            if tx
                .send(Ok(Event::default()
                    .event("inbox")
                    .data(news.len().to_string())))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    tokio_stream(rx)
}

/// Events waiting for a slow page: one is enough to make it reload the inbox.
const EVENTS_BUFFER: usize = 4;

fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Event, Infallible>>,
) -> impl futures_util::Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

// ----- partners -----

pub async fn partners(State(web): State<Web>, v: Visitor) -> Response {
    let signed = signed_in!(v);
    let status = web.json(v.lang, args(&["status"])).await;
    let invitations = web.json(v.lang, args(&["invite", "list"])).await;
    let now = web.now();
    let body = i18n::scoped(v.lang, || {
        views::partners(signed, &status, &invitations, None, now)
    });
    web.page(&v, signed, views::Nav::Partners, body).await
}

/// A new invitation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    pub csrf: String,
    pub org: String,
    pub role: String,
    pub expires: String,
}

pub async fn invite(State(web): State<Web>, v: Visitor, Form(form): Form<InviteForm>) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let mut command = args(&["invite", "create"]);
    command.push(flag("org", form.org.trim()));
    if !form.role.trim().is_empty() {
        command.push(flag("role", form.role.trim()));
    }
    if !form.expires.trim().is_empty() {
        command.push(flag("expires-in", form.expires.trim()));
    }
    let created = web.json(v.lang, command).await;
    let status = web.json(v.lang, args(&["status"])).await;
    let invitations = web.json(v.lang, args(&["invite", "list"])).await;
    let now = web.now();
    // The token is shown on this answer only (never in an address, never stored by the page).
    let body = i18n::scoped(v.lang, || {
        views::partners(signed, &status, &invitations, Some(&created), now)
    });
    web.page(&v, signed, views::Nav::Partners, body).await
}

pub async fn invitation_action(
    State(web): State<Web>,
    v: Visitor,
    Path((invitation, action)): Path<(String, String)>,
    Form(form): Form<Button>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let (Some(invitation), Some(verb)) = (
        id(&invitation),
        ["confirm", "cancel"].into_iter().find(|a| *a == action),
    ) else {
        return not_found_page(&web, &v, signed).await;
    };
    let done = web
        .act(v.lang, args(&["invite", verb, "--", &invitation]), None)
        .await;
    web.flash(signed, done);
    see_other("/partners")
}

pub async fn revoke_form(State(web): State<Web>, v: Visitor, Path(org): Path<String>) -> Response {
    let signed = signed_in!(v);
    let org = id_or_not_found!(web, v, signed, org);
    let status = web.json(v.lang, args(&["status"])).await;
    // The exposure report as the command writes it for people, in the page's language.
    let report = web
        .run(v.lang, args(&["audit", "exposure", "--", &org]), None)
        .await;
    let report = match report.error {
        Some(e) => Err(e),
        None => Ok(report.stdout()),
    };
    let body = i18n::scoped(v.lang, || {
        views::revoke(signed, &org, &status, &report, None)
    });
    web.page(&v, signed, views::Nav::Partners, body).await
}

pub async fn revoke(
    State(web): State<Web>,
    v: Visitor,
    Path(org): Path<String>,
    Form(form): Form<Button>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let org = id_or_not_found!(web, v, signed, org);
    if form.sure.is_empty() {
        web.flash(
            signed,
            Flash {
                error: true,
                text: i18n::text_in(v.lang, "web-revoke-tick", &[]),
            },
        );
        return see_other(&format!("/partners/{org}/revoke"));
    }
    let mut command = args(&["peer", "revoke"]);
    if !form.reason.trim().is_empty() {
        command.push(flag("reason", form.reason.trim()));
    }
    command.extend(args(&["--", &org]));
    let served = web.run(v.lang, command, None).await;
    let status = web.json(v.lang, args(&["status"])).await;
    let outcome = match served.error {
        Some(e) => Err(e),
        None => Ok(served.stdout()),
    };
    let body = i18n::scoped(v.lang, || {
        views::revoke(signed, &org, &status, &Ok(String::new()), Some(&outcome))
    });
    web.page(&v, signed, views::Nav::Partners, body).await
}

// ----- import -----

/// Our offers as a spreadsheet, in the import format (`puente export --format csv`): edit it,
/// then import it again.
pub async fn export_csv(State(web): State<Web>, v: Visitor) -> Response {
    let signed = signed_in!(v);
    let served = web
        .run(v.lang, args(&["--format", "csv", "export"]), None)
        .await;
    if let Some(error) = served.error {
        web.flash(
            signed,
            Flash {
                error: true,
                text: error,
            },
        );
        return see_other("/import");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"puente-offers.csv\"",
            ),
        ],
        served.stdout(),
    )
        .into_response()
}

pub async fn import_form(State(web): State<Web>, v: Visitor) -> Response {
    let signed = signed_in!(v);
    let body = i18n::scoped(v.lang, || views::import(signed, None, None));
    web.page(&v, signed, views::Nav::Import, body).await
}

/// An upload as read: the file's name and bytes, and the "withdraw missing" box.
type Upload = (String, Vec<u8>, bool);

/// Reads the upload: its CSRF token (the page sends it first, so it is known even when the
/// rest cannot be read), and the upload or the message id saying why there is none.
async fn read_upload(mut multipart: Multipart) -> (String, Result<Upload, &'static str>) {
    let (mut csrf, mut name, mut bytes, mut withdraw) = (String::new(), None, None, false);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return (csrf, Err("web-upload-too-large")),
        };
        match field.name() {
            Some("csrf") => match field.text().await {
                Ok(t) => csrf = t,
                Err(_) => return (csrf, Err("web-upload-unreadable")),
            },
            Some("withdraw_missing") => withdraw = true,
            Some("file") => {
                let file_name = field
                    .file_name()
                    .map(|n| n.chars().filter(|c| !c.is_control()).take(80).collect())
                    .unwrap_or_else(|| "upload.csv".to_string());
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(_) => return (csrf, Err("web-upload-too-large")),
                };
                if data.len() > puente_node::interchange::MAX_INPUT_BYTES {
                    return (csrf, Err("web-upload-too-large"));
                }
                name = Some(file_name);
                bytes = Some(data.to_vec());
            }
            _ => {}
        }
    }
    match (name, bytes) {
        (Some(n), Some(b)) if !b.is_empty() => (csrf, Ok((n, b, withdraw))),
        _ => (csrf, Err("web-upload-missing")),
    }
}

/// The dry run of an uploaded spreadsheet, row by row; the file stays in the session's memory
/// for [`import_apply`].
pub async fn import_upload(State(web): State<Web>, v: Visitor, multipart: Multipart) -> Response {
    let (csrf, upload) = read_upload(multipart).await;
    let signed = signed_post!(web, v, &csrf);
    let (name, bytes, withdraw) = match upload {
        Ok(u) => u,
        Err(why) => {
            let text = i18n::text_in(v.lang, why, &[]);
            let body = i18n::scoped(v.lang, || views::import(signed, None, Some(&text)));
            return web.page(&v, signed, views::Nav::Import, body).await;
        }
    };
    let mut command = args(&["import", "--dry-run"]);
    if withdraw {
        command.push("--withdraw-missing".to_string());
    }
    command.extend(args(&["--", &name]));
    let mut json_command = args(&["--format", "json"]);
    json_command.extend(command);
    let served = web.run(v.lang, json_command, Some(bytes.clone())).await;
    let report = serde_json::from_str::<Value>(&served.stdout()).ok();
    let error = served.error.clone();
    web.gate.with_session(&signed.cookie, Instant::now(), |s| {
        s.upload = Some((name.clone(), bytes));
    });
    let body = i18n::scoped(v.lang, || {
        views::import(
            signed,
            Some(&views::DryRun {
                name: &name,
                withdraw,
                report: report.as_ref(),
            }),
            error.as_deref(),
        )
    });
    web.page(&v, signed, views::Nav::Import, body).await
}

/// Imports the spreadsheet of the last dry run.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApplyForm {
    pub csrf: String,
    pub withdraw_missing: String,
    pub allow_partial: String,
}

pub async fn import_apply(
    State(web): State<Web>,
    v: Visitor,
    Form(form): Form<ApplyForm>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    let upload = web
        .gate
        .with_session(&signed.cookie, Instant::now(), |s| s.upload.take())
        .flatten();
    let Some((name, bytes)) = upload else {
        web.flash(
            signed,
            Flash {
                error: true,
                text: i18n::text_in(v.lang, "web-upload-gone", &[]),
            },
        );
        return see_other("/import");
    };
    let mut command = args(&["import"]);
    if !form.withdraw_missing.is_empty() {
        command.push("--withdraw-missing".to_string());
    }
    if !form.allow_partial.is_empty() {
        command.push("--allow-partial".to_string());
    }
    command.extend(args(&["--", &name]));
    let done = web.act(v.lang, command, Some(bytes)).await;
    let to = if done.error { "/import" } else { "/offers" };
    web.flash(signed, done);
    see_other(to)
}

// ----- signing in and out, language, assets -----

pub async fn login(
    State(web): State<Web>,
    v: Visitor,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    match web.gate.sign_in(&token, Instant::now()) {
        Ok(cookie) => {
            let cookie = Cookie::build((auth::cookie_name(web.port), cookie))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .build();
            // To the search page: the token leaves the address bar at once.
            (jar.add(cookie), see_other("/")).into_response()
        }
        Err(auth::LinkRefusal::UnknownOrUsed) => {
            tracing::debug!("refused a sign-in link that was used, expired or never issued");
            sign_in(&v, StatusCode::FORBIDDEN, Some("web-link-used"))
        }
    }
}

pub async fn logout(
    State(web): State<Web>,
    v: Visitor,
    jar: CookieJar,
    Form(form): Form<Button>,
) -> Response {
    let signed = signed_post!(web, v, &form.csrf);
    web.gate.sign_out(&signed.cookie);
    let gone = Cookie::build((auth::cookie_name(web.port), ""))
        .path("/")
        .build();
    (
        jar.remove(gone),
        sign_in(&v, StatusCode::OK, Some("web-signed-out")),
    )
        .into_response()
}

/// Where the language switch sends the visitor back to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchForm {
    pub back: String,
}

/// The language switch: remembers the choice in a cookie (a preference, not a secret; the
/// guard already checked this POST's origin) and goes back to the page it was pressed on.
pub async fn switch_language(
    jar: CookieJar,
    Path(tag): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Response {
    let lang = Lang::from_tag(&tag).unwrap_or_default();
    let cookie = Cookie::build((LANG_COOKIE, lang.tag()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    // Only a path of this page: never another site.
    let back = if form.back.starts_with('/')
        && !form.back.starts_with("//")
        && !form.back.contains('\\')
    {
        form.back
    } else {
        "/".to_string()
    };
    (jar.add(cookie), see_other(&back)).into_response()
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/style.css"))
}

pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    )
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

pub async fn not_found(State(web): State<Web>, v: Visitor, headers: HeaderMap) -> Response {
    let _ = headers;
    match &v.signed {
        Some(signed) => not_found_page(&web, &v, signed).await,
        None => sign_in(&v, StatusCode::NOT_FOUND, None),
    }
}

async fn not_found_page(web: &Web, v: &Visitor, signed: &Signed) -> Response {
    let body = i18n::scoped(v.lang, views::not_found);
    let mut page = web.page(v, signed, views::Nav::None, body).await;
    *page.status_mut() = StatusCode::NOT_FOUND;
    page
}
