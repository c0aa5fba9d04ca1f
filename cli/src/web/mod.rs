//! The coordinators' web page: served by `puente run` on 127.0.0.1, in English and Spanish,
//! for people who will not use a terminal.
//!
//! Every action on the page runs the same command a coordinator would type, through
//! [`crate::control::server::execute`]: the same argument parsing, the same rules in
//! `puente-node`, the same one-sentence errors (in the page's language). The page reads the
//! commands' JSON output and lays it out; it holds no rule of its own. A spreadsheet to import
//! is kept in memory between the dry run and the import, never written to disk.
//!
//! Security (see [`auth`]): listens on 127.0.0.1 only; `puente open` asks the running node for
//! a single-use sign-in link, which the browser exchanges for an `HttpOnly`, `SameSite=Strict`
//! session cookie; `Host` must be the page's own address (DNS rebinding), `Origin` must be the
//! page on every state-changing request (other sites' forms), and each such request carries
//! its session's CSRF token. Every response carries a Content-Security-Policy that allows
//! scripts, styles, images and connections from the page itself only (no inline script), and
//! forbids framing. Every script and style sheet is inside the binary; the page asks no other
//! host for anything. Nothing here logs a request's path, query, form or cookie.
//!
//! Deliberately absent: TLS (loopback only, nothing crosses a network), accounts or roles
//! beyond "can sign in" (whoever can run `puente open` as the data directory's owner already
//! holds the store), offline use of the page without the node.

pub mod auth;
mod pages;
mod views;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use puente_node::actor::{Clock, Node};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::i18n::Lang;

/// The port the page listens on when none is given: fixed, so a bookmark keeps working.
/// Unassigned by IANA. When it is taken (a second node on the same machine) and was not asked
/// for explicitly, any free port is used instead; `puente open` always knows which.
pub const DEFAULT_PORT: u16 = 4780;

/// Largest request body accepted: the largest spreadsheet `puente import` takes, and room for
/// the form around it. A larger upload is refused while it is read, with the import's limit.
pub const MAX_BODY_BYTES: usize = puente_node::interchange::MAX_INPUT_BYTES + 64 * 1024;

/// The cookie that keeps the language chosen with the page's switch.
pub const LANG_COOKIE: &str = "puente_lang";

/// The page's Content-Security-Policy: only the page itself, no inline script or style, no
/// framing, forms only to the page.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How `puente run` serves the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Not at all (`--no-web`).
    Off,
    /// On this port of 127.0.0.1, exactly (`--web-port`; 0 means any free port).
    Port(u16),
    /// On [`DEFAULT_PORT`], or any free port when it is taken.
    Default,
}

/// What the page shares between requests.
#[derive(Clone)]
pub struct Web {
    node: Node,
    gate: auth::Gate,
    port: u16,
    dir: PathBuf,
    /// "Now" for the commands the page runs: the node's clock (`PUENTE_NOW` advancing from
    /// the node's start, or the system clock), as for commands from the control socket.
    clock: Clock,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Web")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// The page, listening: where, and how to make sign-in links for it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The address it listens on.
    pub addr: SocketAddr,
    gate: auth::Gate,
}

impl Page {
    /// A new single-use sign-in link.
    pub fn sign_in_link(&self) -> String {
        let token = self.gate.issue_link(Instant::now());
        format!("http://{}/login/{token}", self.addr)
    }
}

/// Binds the page as `serve` asks; `None` when it is off.
pub async fn bind(serve: Serve) -> Result<Option<TcpListener>> {
    let port = match serve {
        Serve::Off => return Ok(None),
        Serve::Port(p) => p,
        Serve::Default => DEFAULT_PORT,
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if serve == Serve::Default && e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            TcpListener::bind(any).await.map(Some).map_err(|e| {
                anyhow::anyhow!(t!(
                    "web-cannot-listen",
                    addr = any.to_string(),
                    reason = crate::messages::io_reason(&e)
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(anyhow::anyhow!(t!(
            "web-port-in-use",
            port = port.to_string(),
            other = port.wrapping_add(1).to_string()
        ))),
        Err(e) => Err(anyhow::anyhow!(t!(
            "web-cannot-listen",
            addr = addr.to_string(),
            reason = crate::messages::io_reason(&e)
        ))),
    }
}

/// Serves the page on `listener` for `node` until `stop` turns true.
pub fn start(
    listener: TcpListener,
    node: Node,
    dir: PathBuf,
    clock: Clock,
    stop: watch::Receiver<bool>,
) -> Result<(Page, tokio::task::JoinHandle<()>)> {
    let addr = listener
        .local_addr()
        .map_err(|e| anyhow::anyhow!(crate::messages::io_reason(&e)))?;
    let gate = auth::Gate::new();
    let web = Web {
        node,
        gate: gate.clone(),
        port: addr.port(),
        dir,
        clock,
    };
    let task = serve_until(listener, router(web), stop, "the web page stopped");
    Ok((Page { addr, gate }, task))
}

/// Serves `app` on `listener` in a task of its own until `stop` turns true (or its sender is
/// gone); `what` is logged if serving fails. The web page and the metrics both run this way.
pub fn serve_until(
    listener: TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
    what: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "{what}");
        }
    })
}

fn router(web: Web) -> Router {
    Router::new()
        .route("/", get(pages::search))
        .route("/offers", get(pages::own_offers).post(pages::publish))
        .route("/offers/new", get(pages::new_offer))
        .route("/offers.csv", get(pages::export_csv))
        .route("/offers/{id}", get(pages::offer))
        .route("/offers/{id}/edit", post(pages::edit_offer))
        .route("/offers/{id}/confirm", post(pages::confirm_offer))
        .route("/offers/{id}/withdraw", post(pages::withdraw_offer))
        .route("/offers/{id}/hold", post(pages::place_hold))
        .route("/holds/{id}/{decision}", post(pages::decide_hold))
        .route("/inbox", get(pages::inbox))
        .route("/inbox/part", get(pages::inbox_part))
        .route("/inbox/count", get(pages::inbox_count))
        .route("/events", get(pages::events))
        .route("/partners", get(pages::partners))
        .route("/invitations", post(pages::invite))
        .route("/invitations/{id}/{action}", post(pages::invitation_action))
        .route(
            "/partners/{org}/revoke",
            get(pages::revoke_form).post(pages::revoke),
        )
        .route(
            "/import",
            get(pages::import_form).post(pages::import_upload),
        )
        .route("/import/apply", post(pages::import_apply))
        .route("/login/{token}", get(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{tag}", post(pages::switch_language))
        .route("/assets/style.css", get(pages::style))
        .route("/assets/app.js", get(pages::script))
        .fallback(pages::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(web.clone(), guard))
        .with_state(web)
}

/// The language of a request: the switch's cookie, else the browser's preference.
pub fn language(headers: &HeaderMap, jar: &CookieJar) -> Lang {
    if let Some(lang) = jar.get(LANG_COOKIE).and_then(|c| Lang::from_tag(c.value())) {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

/// Checks every request before it reaches a page, and adds the security headers to every
/// answer: a foreign `Host` or `Origin` is refused here, before anything else runs.
async fn guard(State(web): State<Web>, request: Request<Body>, next: Next) -> Response {
    let lang = language(
        request.headers(),
        &CookieJar::from_headers(request.headers()),
    );
    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| auth::allowed_hosts(web.port).iter().any(|a| a == h));
    let mut response = if !host_ok {
        tracing::debug!("refused a web request for another host name");
        refusal(lang, StatusCode::MISDIRECTED_REQUEST, "web-refused-host")
    } else if !is_safe(request.method()) && !origin_ok(request.headers(), web.port) {
        tracing::debug!("refused a web request from another origin");
        refusal(lang, StatusCode::FORBIDDEN, "web-refused-origin")
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: with it, browsers send `Origin: null` on the page's own forms.
        // Same-origin keeps addresses inside the page.
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Whether a state-changing request comes from the page itself: its `Origin` must be one of
/// the page's (browsers send it on every POST; a request without one is refused too).
fn origin_ok(headers: &HeaderMap, port: u16) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| auth::allowed_origins(port).iter().any(|a| a == o))
}

/// A plain-text refusal in `lang`.
fn refusal(lang: Lang, status: StatusCode, id: &str) -> Response {
    let text = crate::i18n::text_in(lang, id, &[]);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}
