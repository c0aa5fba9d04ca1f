//! How the page looks: maud templates over the commands' JSON answers. Every word comes from
//! the message files (`web.ftl`) through [`t!`](crate::t), in the language the caller set with
//! [`crate::i18n::scoped`]; maud escapes every value.
//!
//! Boundary: nothing here decides anything (what matches, what is overbooked, who may do
//! what): those are the commands' answers, shown as they are.

use maud::{DOCTYPE, Markup, html};
use puente_crdt::{Accepts, Affirming, Kind, StatusHint, Time};
use serde_json::Value;

use super::auth::Flash;
use super::pages::{NewOffer, SearchForm};
use crate::i18n::Lang;

/// A signed-in visitor: their session cookie's value and the CSRF token their forms carry.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The session cookie's value.
    pub cookie: String,
    /// The token every form of this session carries.
    pub csrf: String,
}

/// Which part of the page is open, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Search,
    Offers,
    Publish,
    Inbox,
    Partners,
    Import,
    None,
}

/// What surrounds every page.
#[derive(Debug)]
pub struct Chrome<'a> {
    pub nav: Nav,
    pub signed: Option<&'a Signed>,
    pub org: &'a str,
    /// Items in the inbox (shown beside its name).
    pub waiting: usize,
    pub flash: Option<&'a Flash>,
}

/// An uploaded spreadsheet's dry run.
#[derive(Debug)]
pub struct DryRun<'a> {
    pub name: &'a str,
    pub withdraw: bool,
    pub report: Option<&'a Value>,
}

// ----- small pieces -----

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn list(v: &Value, key: &str) -> String {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The terms of the vocabulary field `key` of `v`, in words: "Trans women, Adult women".
fn terms(v: &Value, key: &str) -> String {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|t| vocab_name(key, t))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn csrf(signed: &Signed) -> Markup {
    html! { input type="hidden" name="csrf" value=(signed.csrf); }
}

/// A kind's name for people ("Host home", "Hogar de acogida").
pub fn kind_name(kind: &str) -> String {
    crate::i18n::text(&format!("kind-{kind}"), &[])
}

/// A term of a closed vocabulary for people: the message `{prefix}-{term}` (spaces in the term
/// as dashes), e.g. `accepts-trans-women`, `hold-overbooked`.
pub fn vocab_name(prefix: &str, term: &str) -> String {
    crate::i18n::text(&format!("{prefix}-{}", term.replace(' ', "-")), &[])
}

/// A time as people say it relative to `now`: "in 3 d", "5 h ago", "hace 5 h".
pub fn human(t: &str, now: Time) -> String {
    let Ok(ts) = t.parse::<jiff::Timestamp>() else {
        return String::new();
    };
    let diff = ts.as_second() - now.0;
    let secs = diff.unsigned_abs();
    if secs < 60 {
        return t!("web-just-now");
    }
    let (count, unit) = if secs < 3600 {
        (secs / 60, "min")
    } else if secs < 2 * 86_400 {
        (secs / 3600, "h")
    } else {
        (secs / 86_400, "d")
    };
    if diff > 0 {
        t!("web-in", count = count, unit = unit)
    } else {
        t!("web-ago", count = count, unit = unit)
    }
}

/// The date part of an RFC 3339 time, for a date field's value.
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or("")
}

fn error_box(text: &str) -> Markup {
    html! { p.alert.error role="alert" { (text) } }
}

fn answer(result: &Result<Value, String>) -> Result<&Value, Markup> {
    result.as_ref().map_err(|e| error_box(e))
}

// ----- layout -----

/// The whole page around `body`.
pub fn layout(lang: Lang, chrome: &Chrome<'_>, body: Markup) -> Markup {
    let item = |nav: Nav, href: &str, label: String| {
        html! {
            li {
                a href=(href) aria-current=[(chrome.nav == nav).then_some("page")] { (label) }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "puente" @if !chrome.org.is_empty() { " · " (chrome.org) } }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { (t!("web-skip")) }
                header {
                    p.brand { "puente" @if !chrome.org.is_empty() { span.org { (chrome.org) } } }
                    @if chrome.signed.is_some() {
                        nav aria-label=(t!("web-nav-label")) {
                            ul {
                                (item(Nav::Search, "/", t!("web-nav-search")))
                                (item(Nav::Offers, "/offers", t!("web-nav-offers")))
                                (item(Nav::Publish, "/offers/new", t!("web-nav-publish")))
                                li {
                                    a href="/inbox" aria-current=[(chrome.nav == Nav::Inbox).then_some("page")] {
                                        (t!("web-nav-inbox"))
                                        " "
                                        span #waiting .badge aria-label=(t!("web-waiting", count = chrome.waiting)) {
                                            (chrome.waiting)
                                        }
                                    }
                                }
                                (item(Nav::Partners, "/partners", t!("web-nav-partners")))
                                (item(Nav::Import, "/import", t!("web-nav-import")))
                            }
                        }
                    }
                    div.tools {
                        (language_switch(lang))
                        @if let Some(signed) = chrome.signed {
                            form method="post" action="/logout" {
                                (csrf(signed))
                                button type="submit" { (t!("web-sign-out")) }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    @if let Some(f) = chrome.flash {
                        @if f.error {
                            p.alert.error role="alert" { (f.text) }
                        } @else {
                            div.alert.ok role="status" {
                                @for line in f.text.lines() { p { (line) } }
                            }
                        }
                    }
                    (body)
                }
            }
        }
    }
}

fn language_switch(current: Lang) -> Markup {
    html! {
        form.lang method="post" action={ "/lang/" (other(current).tag()) } data-back="" {
            input type="hidden" name="back" value="/";
            button type="submit" lang=(other(current).tag()) { (t!("web-switch-language")) }
        }
    }
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::En => Lang::Es,
        Lang::Es => Lang::En,
    }
}

/// The page for someone who is not signed in.
pub fn sign_in(lang: Lang, reason: Option<&str>) -> Markup {
    let chrome = Chrome {
        nav: Nav::None,
        signed: None,
        org: "",
        waiting: 0,
        flash: None,
    };
    layout(
        lang,
        &chrome,
        html! {
            h1 { (t!("web-sign-in-title")) }
            @if let Some(id) = reason {
                p.alert.error role="alert" { (crate::i18n::text(id, &[])) }
            }
            p { (t!("web-sign-in-how")) }
            pre { code { "puente open" } }
            p { (t!("web-sign-in-why")) }
        },
    )
}

pub fn not_found() -> Markup {
    html! {
        h1 { (t!("web-not-found")) }
        p { a href="/" { (t!("web-back-to-search")) } }
    }
}

// ----- search -----

fn select(name: &str, label: &str, options: &[(String, String)], chosen: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        select #(name) name=(name) {
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        }
    }
}

fn text_field(name: &str, label: &str, value: &str, hint: Option<String>) -> Markup {
    let hint_id = format!("{name}-hint");
    html! {
        label for=(name) { (label) }
        input #(name) type="text" name=(name) value=(value)
            aria-describedby=[hint.as_ref().map(|_| hint_id.as_str())];
        @if let Some(h) = hint { small #(hint_id) { (h) } }
    }
}

fn date_field(name: &str, label: &str, value: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        input #(name) type="date" name=(name) value=(value);
    }
}

fn checkboxes(name: &str, legend: &str, prefix: &str, terms: &[&str], chosen: &[String]) -> Markup {
    html! {
        fieldset {
            legend { (legend) }
            @for term in terms {
                @let id = format!("{name}-{term}");
                div.check {
                    input #(id) type="checkbox" name=(name) value=(term) checked[chosen.iter().any(|c| c == term)];
                    label for=(id) { (vocab_name(prefix, term)) }
                }
            }
        }
    }
}

fn kind_options(any: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if any {
        out.push((String::new(), t!("web-any-kind")));
    }
    out.extend(
        Kind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), kind_name(k.as_str()))),
    );
    out
}

fn accepts_terms() -> Vec<&'static str> {
    Accepts::ALL.iter().map(|a| a.as_str()).collect()
}

fn affirming_terms() -> Vec<&'static str> {
    Affirming::ALL.iter().map(|a| a.as_str()).collect()
}

pub fn search(form: &SearchForm, results: Option<&Result<Value, String>>, now: Time) -> Markup {
    let fresh = [
        (String::new(), t!("web-fresh-any")),
        ("24h".to_string(), t!("web-fresh-day")),
        ("72h".to_string(), t!("web-fresh-3days")),
        ("7d".to_string(), t!("web-fresh-week")),
    ];
    html! {
        h1 { (t!("web-search-title")) }
        form.search method="get" action="/" role="search" {
            input type="hidden" name="go" value="1";
            div.grid {
                div { (select("kind", &t!("web-field-kind"), &kind_options(true), &form.kind)) }
                div { (text_field("county", &t!("web-field-county"), &form.county, Some(t!("web-hint-county")))) }
                div { (text_field("zone", &t!("web-field-zone"), &form.zone, Some(t!("web-hint-zone")))) }
                div { (text_field("lang", &t!("web-field-lang"), &form.lang, Some(t!("web-hint-lang")))) }
                div { (date_field("from", &t!("web-field-from"), &form.from)) }
                div { (date_field("to", &t!("web-field-to"), &form.to)) }
                div {
                    label for="qty" { (t!("web-field-qty")) }
                    input #qty type="number" min="1" name="qty" value=(form.qty);
                }
                div { (select("fresh", &t!("web-field-fresh"), &fresh, &form.fresh)) }
            }
            (checkboxes("accepts", &t!("web-field-accepts"), "accepts", &accepts_terms(), &form.accepts))
            (checkboxes("affirming", &t!("web-field-affirming"), "affirming", &affirming_terms(), &form.affirming))
            button type="submit" { (t!("web-search-button")) }
        }
        @if let Some(results) = results {
            section aria-labelledby="results" {
                h2 #results { (t!("web-results")) }
                @match answer(results) {
                    Err(e) => (e),
                    Ok(hits) => (hits_table(hits, now)),
                }
            }
        }
    }
}

fn freshness(o: &Value, now: Time) -> String {
    if o["withdrawn"].as_bool() == Some(true) {
        return t!("web-withdrawn");
    }
    if o["expired"].as_bool() == Some(true) {
        return t!("web-expired");
    }
    t!(
        "web-confirmed-when",
        when = human(s(o, "last_confirmed_at"), now)
    )
}

/// "2 rooms", "1 cama": a count in its unit, with the plural of each language.
fn quantity(n: u64, unit: &str) -> String {
    crate::i18n::text(&format!("qty-{unit}"), &[("count", n.into())])
}

/// When an offer can be used soonest: "now" once that time has come.
fn soonest(t: &str, now: Time) -> String {
    match t.parse::<jiff::Timestamp>() {
        Ok(ts) if ts.as_second() <= now.0 => t!("web-now"),
        _ => human(t, now),
    }
}

fn hits_table(hits: &Value, now: Time) -> Markup {
    let rows = hits.as_array().map(Vec::as_slice).unwrap_or(&[]);
    html! {
        @if rows.is_empty() {
            p { (t!("web-no-match")) }
        } @else {
            p { (t!("web-found", count = rows.len())) }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { (t!("web-col-offer")) }
                        th scope="col" { (t!("web-col-owner")) }
                        th scope="col" { (t!("web-col-where")) }
                        th scope="col" { (t!("web-col-languages")) }
                        th scope="col" { (t!("web-col-available")) }
                        th scope="col" { (t!("web-col-soonest")) }
                        th scope="col" { (t!("web-col-freshness")) }
                        th scope="col" { (t!("web-col-intake")) }
                    } }
                    tbody {
                        @for o in rows {
                            tr {
                                td {
                                    a href={ "/offers/" (s(o, "offer_id")) } {
                                        (kind_name(s(o, "kind"))) ": " (s(o, "handle"))
                                    }
                                    @if !s(o, "label").is_empty() { br; small { (s(o, "label")) } }
                                }
                                td { (s(o, "owner_name")) }
                                td { (list(o, "counties")) @if !s(o, "zone").is_empty() { " · " (s(o, "zone")) } }
                                td { (list(o, "languages")) }
                                td { (quantity(o["available"].as_u64().unwrap_or(0), s(o, "unit"))) }
                                td { @if o["soonest"].is_string() { (soonest(s(o, "soonest"), now)) } @else { "-" } }
                                td { (freshness(o, now)) }
                                td { (s(o, "intake")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ----- offers -----

pub fn own_offers(signed: &Signed, offers: &Result<Value, String>, now: Time) -> Markup {
    let _ = signed;
    html! {
        h1 { (t!("web-offers-title")) }
        p { a.button href="/offers/new" { (t!("web-nav-publish")) } }
        @match answer(offers) {
            Err(e) => (e),
            Ok(offers) => {
                @let rows = offers.as_array().map(Vec::as_slice).unwrap_or(&[]);
                @if rows.is_empty() {
                    p { (t!("web-no-offers")) }
                } @else {
                    div.scroll { table {
                        thead { tr {
                            th scope="col" { (t!("web-col-offer")) }
                            th scope="col" { (t!("web-col-where")) }
                            th scope="col" { (t!("web-col-freshness")) }
                            th scope="col" { (t!("web-col-expires")) }
                        } }
                        tbody {
                            @for o in rows {
                                tr {
                                    td { a href={ "/offers/" (s(o, "offer_id")) } { (kind_name(s(o, "kind"))) ": " (s(o, "handle")) } }
                                    td { (list(o, "counties")) @if !s(o, "zone").is_empty() { " · " (s(o, "zone")) } }
                                    td { (freshness(o, now)) }
                                    td { (human(s(o, "expires_at"), now)) }
                                }
                            }
                        }
                    } }
                }
            }
        }
    }
}

fn status_options(chosen: &str, keep: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if keep {
        out.push((String::new(), t!("web-keep-as-is")));
    }
    out.extend(
        StatusHint::ALL
            .iter()
            .map(|h| (h.as_str().to_string(), vocab_name("status", h.as_str()))),
    );
    let _ = chosen;
    out
}

fn expiry_options(keep: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    out.push((
        String::new(),
        if keep {
            t!("web-keep-as-is")
        } else {
            t!("web-expires-default")
        },
    ));
    for (value, days) in [("7d", 7u64), ("14d", 14), ("30d", 30)] {
        out.push((value.to_string(), t!("web-days", count = days)));
    }
    out
}

fn window_fields(start: &str, end: &str, total: &str, weekly: bool) -> Markup {
    html! {
        fieldset {
            legend { (t!("web-window")) }
            div.grid {
                div { (date_field("start", &t!("web-field-start"), start)) }
                div { (date_field("end", &t!("web-field-end"), end)) }
                div {
                    label for="total" { (t!("web-field-total")) }
                    input #total type="number" min="1" name="total" value=(total);
                }
            }
            div.check {
                input #weekly type="checkbox" name="weekly" value="1" checked[weekly];
                label for="weekly" { (t!("web-field-weekly")) }
            }
        }
    }
}

pub fn offer_form(signed: &Signed, form: &NewOffer, error: Option<&str>) -> Markup {
    html! {
        h1 { (t!("web-publish-title")) }
        @if let Some(e) = error { (error_box(e)) }
        p { (t!("web-publish-privacy")) }
        form method="post" action="/offers" {
            (csrf(signed))
            div.grid {
                div { (select("kind", &t!("web-field-kind"), &kind_options(false), &form.kind)) }
                div { (text_field("handle", &t!("web-field-handle"), &form.handle, Some(t!("web-hint-handle")))) }
                div { (text_field("county", &t!("web-field-county"), &form.county, Some(t!("web-hint-county")))) }
                div { (text_field("zone", &t!("web-field-zone"), &form.zone, Some(t!("web-hint-zone")))) }
                div { (text_field("lang", &t!("web-field-lang"), &form.lang, Some(t!("web-hint-lang")))) }
                div { (select("status", &t!("web-field-status"), &status_options(&form.status, false), &form.status)) }
                div { (select("expires", &t!("web-field-expires"), &expiry_options(false), &form.expires)) }
            }
            (text_field("label", &t!("web-field-label"), &form.label, Some(t!("web-hint-label"))))
            (checkboxes("accepts", &t!("web-field-accepts"), "accepts", &accepts_terms(), &form.accepts))
            (checkboxes("affirming", &t!("web-field-affirming"), "affirming", &affirming_terms(), &form.affirming))
            (window_fields(&form.start, &form.end, &form.total, !form.weekly.is_empty()))
            button type="submit" { (t!("web-publish-button")) }
        }
    }
}

pub fn offer(
    signed: &Signed,
    shown: &Result<Value, String>,
    ours: bool,
    my_org: &str,
    now: Time,
) -> Markup {
    let o = match answer(shown) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let id = s(o, "offer_id");
    let windows: Vec<&Value> = o["windows"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter(|w| w["cancelled"].as_bool() != Some(true))
                .collect()
        })
        .unwrap_or_default();
    let holds = o["holds"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let our_holds: Vec<Value> = holds
        .iter()
        .filter(|h| !my_org.is_empty() && s(h, "requester") == my_org)
        .cloned()
        .collect();
    html! {
        h1 { (kind_name(s(o, "kind"))) ": " (s(o, "handle")) }
        dl.facts {
            dt { (t!("web-col-owner")) } dd { (s(o, "owner_name")) }
            @if !s(o, "label").is_empty() { dt { (t!("web-field-label")) } dd { (s(o, "label")) } }
            dt { (t!("web-col-where")) } dd { (list(o, "counties")) @if !s(o, "zone").is_empty() { " · " (s(o, "zone")) } }
            dt { (t!("web-col-languages")) } dd { (list(o, "languages")) }
            @if !list(o, "accepts").is_empty() { dt { (t!("web-field-accepts")) } dd { (terms(o, "accepts")) } }
            @if !list(o, "affirming").is_empty() { dt { (t!("web-field-affirming")) } dd { (terms(o, "affirming")) } }
            dt { (t!("web-field-status")) } dd { (vocab_name("status", s(o, "status"))) }
            dt { (t!("web-col-freshness")) } dd { (freshness(o, now)) }
            dt { (t!("web-col-expires")) } dd { (human(s(o, "expires_at"), now)) }
            dt { (t!("web-col-intake")) } dd { (s(o, "intake")) }
        }
        h2 { (t!("web-windows")) }
        @if windows.is_empty() {
            p { (t!("web-no-windows")) }
        } @else {
            ul.windows {
                @for w in &windows {
                    li {
                        (day(s(w, "next_start"))) " → " (day(s(w, "next_end")))
                        ": " (t!("web-available-of", available = w["available"].as_u64().unwrap_or(0), total = w["total"].as_u64().unwrap_or(0)))
                        @if w["weekly"].as_bool() == Some(true) { " · " (t!("web-field-weekly")) }
                    }
                }
            }
        }
        @if ours {
            (own_offer_actions(signed, o, id))
            h2 { (t!("web-holds-on-offer")) }
            (holds_list(signed, holds, now, true))
        } @else {
            @if !our_holds.is_empty() {
                h2 { (t!("web-our-holds-here")) }
                (holds_list(signed, &our_holds, now, false))
            }
        }
        @if !ours && o["withdrawn"].as_bool() != Some(true) && !windows.is_empty() {
            h2 { (t!("web-place-hold")) }
            form method="post" action={ "/offers/" (id) "/hold" } {
                (csrf(signed))
                div.grid {
                    div {
                        label for="window" { (t!("web-window")) }
                        select #window name="window" {
                            @for w in &windows {
                                option value=(s(w, "window_id")) { (day(s(w, "next_start"))) " → " (day(s(w, "next_end"))) }
                            }
                        }
                    }
                    div {
                        label for="qty" { (t!("web-field-qty")) }
                        input #qty type="number" min="1" name="qty" value="1" required;
                    }
                    div { (date_field("from", &t!("web-field-from"), "")) }
                    div { (date_field("to", &t!("web-field-to"), "")) }
                }
                div.check {
                    input #whole type="checkbox" name="whole" value="1";
                    label for="whole" { (t!("web-whole-window")) }
                }
                button type="submit" { (t!("web-place-hold-button")) }
            }
        }
    }
}

fn own_offer_actions(signed: &Signed, o: &Value, id: &str) -> Markup {
    if o["withdrawn"].as_bool() == Some(true) {
        return html! { p { (t!("web-withdrawn")) } };
    }
    html! {
        div.actions {
            form method="post" action={ "/offers/" (id) "/confirm" } {
                (csrf(signed))
                button type="submit" { (t!("web-still-available")) }
            }
            form method="post" action={ "/offers/" (id) "/withdraw" } {
                (csrf(signed))
                div.check {
                    input #sure type="checkbox" name="sure" value="1";
                    label for="sure" { (t!("web-withdraw-sure")) }
                }
                button.danger type="submit" { (t!("web-withdraw")) }
            }
        }
        h2 { (t!("web-edit")) }
        form method="post" action={ "/offers/" (id) "/edit" } {
            (csrf(signed))
            div.grid {
                div { (text_field("label", &t!("web-field-label"), s(o, "label"), Some(t!("web-hint-label")))) }
                div { (text_field("zone", &t!("web-field-zone"), s(o, "zone"), Some(t!("web-hint-zone")))) }
                div { (select("status", &t!("web-field-status"), &status_options("", true), "")) }
                div { (select("expires", &t!("web-field-renew"), &expiry_options(true), "")) }
            }
            input type="hidden" name="clear_label" value="1";
            input type="hidden" name="clear_zone" value="1";
            (window_fields("", "", "", false))
            button type="submit" { (t!("web-save")) }
        }
    }
}

fn hold_status(status: &str) -> String {
    vocab_name("hold", status)
}

fn holds_list(signed: &Signed, holds: &[Value], now: Time, on_ours: bool) -> Markup {
    html! {
        @if holds.is_empty() {
            p { (t!("web-no-holds")) }
        } @else {
            ul.holds {
                @for h in holds {
                    li {
                        @if on_ours { strong { (s(h, "requester_name")) } } @else { strong { (s(h, "owner_name")) } }
                        ": " (t!("web-hold-line", qty = h["qty"].as_u64().unwrap_or(0), from = day(s(h, "from")).to_string(), to = day(s(h, "to")).to_string()))
                        " · " span.status { (hold_status(s(h, "status"))) }
                        @if h["expires_at"].is_string() && matches!(s(h, "status"), "pending" | "overbooked") {
                            " · " (t!("web-lapses", when = human(s(h, "expires_at"), now)))
                        }
                        @if on_ours && matches!(s(h, "status"), "pending" | "overbooked") {
                            (decide_buttons(signed, s(h, "hold_id")))
                        }
                    }
                }
            }
        }
    }
}

fn decide_buttons(signed: &Signed, hold: &str) -> Markup {
    html! {
        span.actions {
            form method="post" action={ "/holds/" (hold) "/confirm" } {
                (csrf(signed))
                button type="submit" { (t!("web-hold-confirm")) }
            }
            form method="post" action={ "/holds/" (hold) "/decline" } {
                (csrf(signed))
                button.danger type="submit" { (t!("web-hold-decline")) }
            }
        }
    }
}

// ----- inbox -----

pub fn inbox(
    signed: &Signed,
    items: &Result<Value, String>,
    ours: &Result<Value, String>,
    now: Time,
    whole: bool,
) -> Markup {
    let inner = html! {
        @match answer(items) {
            Err(e) => (e),
            Ok(items) => {
                @let rows = items.as_array().map(Vec::as_slice).unwrap_or(&[]);
                @if rows.is_empty() {
                    p { (t!("web-inbox-empty")) }
                } @else {
                    ul.inbox {
                        @for r in rows {
                            li { (inbox_item(signed, r, now)) }
                        }
                    }
                }
            }
        }
        h2 { (t!("web-our-holds")) }
        @match answer(ours) {
            Err(e) => (e),
            Ok(list) => (holds_list(signed, list.as_array().map(Vec::as_slice).unwrap_or(&[]), now, false)),
        }
    };
    if !whole {
        return inner;
    }
    html! {
        h1 { (t!("web-inbox-title")) }
        div #inbox aria-live="polite" data-live="/inbox/part" { (inner) }
    }
}

fn inbox_item(signed: &Signed, r: &Value, now: Time) -> Markup {
    let offer = html! { a href={ "/offers/" (s(r, "offer_id")) } { (s(r, "handle")) } };
    let partner = s(r, "partner_name");
    let qty = r["qty"].as_u64().unwrap_or(0);
    match s(r, "what") {
        "answer" => html! {
            (t!("web-inbox-answer", partner = partner, qty = qty)) " " (offer)
            @if s(r, "status") == "overbooked" { " · " strong { (hold_status("overbooked")) } }
            " · " (t!("web-lapses", when = human(s(r, "deadline"), now)))
            (decide_buttons(signed, s(r, "hold_id")))
        },
        "our-hold" => html! {
            (t!("web-inbox-our-hold", partner = partner, qty = qty)) " " (offer)
            " · " strong { (hold_status(s(r, "status"))) }
        },
        _ => html! {
            (t!("web-inbox-expiring")) " " (offer) " · " (human(s(r, "deadline"), now))
        },
    }
}

// ----- partners -----

fn reach(device: &Value, now: Time) -> String {
    if device["this_device"].as_bool() == Some(true) {
        return t!("web-this-computer");
    }
    if device["connected"].as_bool() != Some(true) {
        return t!("web-not-connected");
    }
    match device["reach"]["how"].as_str() {
        Some("relayed") | Some("relay") => t!("web-connected-relay"),
        _ => {
            let _ = now;
            t!("web-connected-direct")
        }
    }
}

pub fn partners(
    signed: &Signed,
    status: &Result<Value, String>,
    invitations: &Result<Value, String>,
    created: Option<&Result<Value, String>>,
    now: Time,
) -> Markup {
    let status = match answer(status) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let members = status["members"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let me = members.iter().find(|m| {
        m["devices"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["this_device"].as_bool() == Some(true)))
    });
    let admin = me.is_some_and(|m| s(m, "role") == "admin");
    let my_org = me.map(|m| s(m, "org")).unwrap_or("");
    html! {
        h1 { (t!("web-partners-title")) }
        div.scroll { table {
            thead { tr {
                th scope="col" { (t!("web-col-partner")) }
                th scope="col" { (t!("web-col-role")) }
                th scope="col" { (t!("web-col-connection")) }
                th scope="col" { (t!("web-col-last-sync")) }
                @if admin { th scope="col" { span.visually-hidden { (t!("web-col-actions")) } } }
            } }
            tbody {
                @for m in members {
                    @let devices = m["devices"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                    tr {
                        th scope="row" { (s(m, "name")) }
                        td { (vocab_name("role", s(m, "role"))) }
                        td { @for d in devices { div { (reach(d, now)) } } }
                        td { @for d in devices { div { @if d["last_sync"].is_string() { (human(s(d, "last_sync"), now)) } @else { "-" } } } }
                        @if admin {
                            td { @if s(m, "org") != my_org {
                                a href={ "/partners/" (s(m, "org")) "/revoke" } { (t!("web-revoke")) }
                            } }
                        }
                    }
                }
            }
        } }
        @if admin {
            h2 { (t!("web-invitations")) }
            @if let Some(created) = created {
                @match answer(created) {
                    Err(e) => (e),
                    Ok(inv) => div.alert.ok role="status" {
                        p { (t!("web-invitation-made", org = s(inv, "org"))) }
                        label for="token" { (t!("web-invitation-token")) }
                        textarea #token readonly rows="4" { (s(inv, "token")) }
                    },
                }
            }
            @match answer(invitations) {
                Err(e) => (e),
                Ok(list) => (invitation_list(signed, list.as_array().map(Vec::as_slice).unwrap_or(&[]), now)),
            }
            h3 { (t!("web-invite-title")) }
            form method="post" action="/invitations" {
                (csrf(signed))
                div.grid {
                    div {
                        label for="org" { (t!("web-field-org")) }
                        input #org type="text" name="org" required;
                    }
                    div { (select("role", &t!("web-col-role"), &[
                        ("member".to_string(), vocab_name("role", "member")),
                        ("admin".to_string(), vocab_name("role", "admin")),
                    ], "member")) }
                    div { (select("expires", &t!("web-field-invite-expires"), &[
                        ("2h".to_string(), t!("web-hours", count = 2)),
                        ("24h".to_string(), t!("web-hours", count = 24)),
                        ("72h".to_string(), t!("web-hours", count = 72)),
                    ], "24h")) }
                }
                button type="submit" { (t!("web-invite-button")) }
            }
        }
    }
}

fn invitation_list(signed: &Signed, list: &[Value], now: Time) -> Markup {
    html! {
        @if list.is_empty() {
            p { (t!("web-no-invitations")) }
        } @else {
            ul.invitations {
                @for inv in list {
                    li {
                        strong { (s(inv, "org")) } " · " (vocab_name("invitation", s(inv, "state")))
                        @if s(inv, "state") == "waiting for confirmation" {
                            p { (t!("web-compare-phrase")) }
                            p.phrase { strong { (s(inv, "phrase")) } }
                            span.actions {
                                form method="post" action={ "/invitations/" (s(inv, "id")) "/confirm" } {
                                    (csrf(signed))
                                    button type="submit" { (t!("web-phrase-matches")) }
                                }
                                form method="post" action={ "/invitations/" (s(inv, "id")) "/cancel" } {
                                    (csrf(signed))
                                    button.danger type="submit" { (t!("web-cancel-invitation")) }
                                }
                            }
                        } @else if s(inv, "state") == "open" {
                            " · " (t!("web-expires-when", when = human(s(inv, "expires"), now)))
                            form method="post" action={ "/invitations/" (s(inv, "id")) "/cancel" } {
                                (csrf(signed))
                                button.danger type="submit" { (t!("web-cancel-invitation")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn revoke(
    signed: &Signed,
    org: &str,
    status: &Result<Value, String>,
    report: &Result<String, String>,
    outcome: Option<&Result<String, String>>,
) -> Markup {
    let name = status
        .as_ref()
        .ok()
        .and_then(|st| st["members"].as_array())
        .and_then(|m| m.iter().find(|m| s(m, "org") == org))
        .map(|m| s(m, "name").to_string())
        .unwrap_or_else(|| org.to_string());
    if let Some(outcome) = outcome {
        return html! {
            h1 { (t!("web-revoke-title", org = name.as_str())) }
            @match outcome {
                Err(e) => (error_box(e)),
                Ok(text) => {
                    div.alert.ok role="status" { p { (t!("web-revoked", org = name.as_str())) } }
                    pre.report { (text) }
                },
            }
            p { a href="/partners" { (t!("web-back-to-partners")) } }
        };
    }
    html! {
        h1 { (t!("web-revoke-title", org = name.as_str())) }
        div.warning {
            p { strong { (t!("web-revoke-warning")) } }
            ul {
                li { (t!("web-revoke-does-1")) }
                li { (t!("web-revoke-does-2")) }
                li { (t!("web-revoke-cannot-1")) }
                li { (t!("web-revoke-cannot-2")) }
            }
        }
        h2 { (t!("web-exposure")) }
        @match report {
            Err(e) => (error_box(e)),
            Ok(text) => pre.report { (text) },
        }
        form method="post" action={ "/partners/" (org) "/revoke" } {
            (csrf(signed))
            (text_field("reason", &t!("web-field-reason"), "", Some(t!("web-hint-reason"))))
            div.check {
                input #sure type="checkbox" name="sure" value="1";
                label for="sure" { (t!("web-revoke-sure", org = name.as_str())) }
            }
            button.danger type="submit" { (t!("web-revoke")) }
        }
    }
}

// ----- import -----

pub fn import(signed: &Signed, dry: Option<&DryRun<'_>>, error: Option<&str>) -> Markup {
    html! {
        h1 { (t!("web-import-title")) }
        p { (t!("web-import-how")) }
        @if let Some(e) = error { (error_box(e)) }
        @if let Some(dry) = dry {
            @if let Some(report) = dry.report {
                h2 { (t!("web-dry-run", file = dry.name)) }
                p { (t!("web-dry-run-summary",
                    created = report["created"].as_u64().unwrap_or(0),
                    updated = report["updated"].as_u64().unwrap_or(0),
                    unchanged = report["unchanged"].as_u64().unwrap_or(0),
                    rejected = report["rejected"].as_array().map_or(0, Vec::len)))
                }
                div.scroll { table {
                    thead { tr {
                        th scope="col" { (t!("web-col-line")) }
                        th scope="col" { (t!("web-col-handle")) }
                        th scope="col" { (t!("web-col-action")) }
                        th scope="col" { (t!("web-col-why")) }
                    } }
                    tbody {
                        @for row in report["outcomes"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                            tr.(s(row, "action")) {
                                td { (row["line"].as_u64().unwrap_or(0)) }
                                td { (s(row, "handle")) }
                                td { (vocab_name("import", s(row, "action"))) }
                                td {
                                    @if !s(row, "reason").is_empty() { (s(row, "reason")) }
                                    @else if !list(row, "fields").is_empty() { (list(row, "fields")) }
                                }
                            }
                        }
                        @for w in report["withdrawn"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                            tr.withdraw {
                                td { "-" }
                                td { (w["handle"].as_str().or(w.as_str()).unwrap_or("")) }
                                td { (vocab_name("import", "withdraw")) }
                                td {}
                            }
                        }
                    }
                } }
                form method="post" action="/import/apply" {
                    (csrf(signed))
                    @if dry.withdraw { input type="hidden" name="withdraw_missing" value="1"; }
                    @if report["rejected"].as_array().is_some_and(|r| !r.is_empty()) {
                        div.check {
                            input #allow_partial type="checkbox" name="allow_partial" value="1";
                            label for="allow_partial" { (t!("web-allow-partial")) }
                        }
                    }
                    button type="submit" { (t!("web-import-button")) }
                }
            }
        }
        p { a href="/offers.csv" download { (t!("web-download-offers")) } }
        h2 { (t!("web-upload-title")) }
        form method="post" action="/import" enctype="multipart/form-data" {
            (csrf(signed))
            label for="file" { (t!("web-field-file")) }
            input #file type="file" name="file" accept=".csv,text/csv" required;
            div.check {
                input #withdraw_missing type="checkbox" name="withdraw_missing" value="1";
                label for="withdraw_missing" { (t!("web-withdraw-missing")) }
            }
            button type="submit" { (t!("web-check-button")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use puente_crdt::Unit;

    use super::*;
    use crate::i18n::{self, Lang};

    /// Every term the page names by its vocabulary's spelling has words in both languages
    /// (the ids are built at run time, so the source scan cannot see them).
    #[test]
    fn every_vocabulary_term_the_page_shows_has_words_in_both_languages() {
        let mut ids: Vec<String> = Vec::new();
        ids.extend(Kind::ALL.iter().map(|k| format!("kind-{}", k.as_str())));
        ids.extend(
            Accepts::ALL
                .iter()
                .map(|a| format!("accepts-{}", a.as_str())),
        );
        ids.extend(
            Affirming::ALL
                .iter()
                .map(|a| format!("affirming-{}", a.as_str())),
        );
        ids.extend(
            StatusHint::ALL
                .iter()
                .map(|s| format!("status-{}", s.as_str())),
        );
        ids.extend(Unit::ALL.iter().map(|u| format!("qty-{}", u.as_str())));
        for status in [
            "pending",
            "confirmed",
            "overbooked",
            "declined",
            "released",
            "expired",
            "invalid",
        ] {
            ids.push(format!("hold-{status}"));
        }
        for role in ["admin", "member"] {
            ids.push(format!("role-{role}"));
        }
        for state in [
            "open",
            "waiting for confirmation",
            "confirmed",
            "used",
            "expired",
            "cancelled",
        ] {
            ids.push(format!("invitation-{}", state.replace(' ', "-")));
        }
        for action in ["create", "update", "unchanged", "rejected", "withdraw"] {
            ids.push(format!("import-{action}"));
        }
        let mut missing = Vec::new();
        for lang in Lang::ALL {
            for id in &ids {
                if i18n::text_in(lang, id, &[]) == *id {
                    missing.push(format!("{}: {id}", lang.tag()));
                }
            }
        }
        assert!(missing.is_empty(), "no words for: {}", missing.join(", "));
    }

    #[test]
    fn times_read_as_people_say_them() {
        let now = Time(1_796_000_000);
        let at = |secs: i64| {
            jiff::Timestamp::from_second(now.0 + secs)
                .expect("a time")
                .to_string()
        };
        i18n::scoped(Lang::En, || {
            assert_eq!(human(&at(3 * 86_400 + 60), now), "in 3 d");
            assert_eq!(human(&at(-5 * 3600), now), "5 h ago");
            assert_eq!(human(&at(-20), now), "just now");
            assert_eq!(human(&at(-90 * 60), now), "1 h ago");
            assert_eq!(human("not a time", now), "");
        });
        i18n::scoped(Lang::Es, || {
            assert_eq!(human(&at(3 * 86_400 + 60), now), "en 3 d");
            assert_eq!(human(&at(-5 * 3600), now), "hace 5 h");
        });
    }
}
