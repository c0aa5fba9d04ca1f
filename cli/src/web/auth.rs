//! Who may use the page: one-time sign-in links, the session cookie they are exchanged for,
//! the CSRF token of each session, and the checks on every request (Host, Origin).
//!
//! Invariant: a request is served only when its `Host` is the page's own loopback address
//! (no DNS rebinding), a state-changing request only when its `Origin` is the page itself and
//! it carries its session's CSRF token, and anything but the sign-in page and the assets only
//! with a live session cookie. Sign-in links are single use and short-lived; tokens, cookies
//! and links are kept only as SHA-256 digests, never logged, and never put in a URL after the
//! sign-in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::TryRng as _;
use sha2::{Digest, Sha256};

/// How long a sign-in link stays valid: long enough to click it after `puente open`.
pub const LINK_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// How long a session lasts without a request: a working day, so a coordinator who leaves the
/// page open overnight signs in again in the morning.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 60 * 60);

/// Sign-in links waiting at once; the oldest is dropped past this (each `puente open` makes one).
const MAX_LINKS: usize = 16;

/// Sessions at once; the least recently used is ended past this (one per browser signed in).
const MAX_SESSIONS: usize = 32;

/// The session cookie's name for the page on `port`: browsers keep cookies per host, not per
/// port, so two nodes on one computer (a demo, a test) each need their own.
pub fn cookie_name(port: u16) -> String {
    format!("puente_session_{port}")
}

/// A random token of 32 bytes, as 64 lowercase hex characters.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source is available");
    data_encoding::HEXLOWER.encode(&bytes)
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// What a session keeps between requests.
#[derive(Debug)]
pub struct Session {
    /// The token every state-changing form of this session carries.
    pub csrf: String,
    last_used: Instant,
    /// A message for the next page (what the last action did, or why it failed).
    pub flash: Option<Flash>,
    /// A spreadsheet uploaded for import, kept in memory (never on disk) until it is imported
    /// or another replaces it: its name and bytes.
    pub upload: Option<(String, Vec<u8>)>,
}

/// A message shown once, on the next page.
#[derive(Debug, Clone)]
pub struct Flash {
    /// Whether it reports a failure.
    pub error: bool,
    /// The sentence.
    pub text: String,
}

#[derive(Debug, Default)]
struct State {
    links: HashMap<[u8; 32], Instant>,
    sessions: HashMap<[u8; 32], Session>,
}

/// The sign-in links and sessions of one page; a cheap clone shares them.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    state: Arc<Mutex<State>>,
}

/// Why a sign-in link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Never issued, already used, or expired.
    UnknownOrUsed,
}

impl Gate {
    /// A gate with no links and no sessions.
    pub fn new() -> Gate {
        Gate::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind; carry on with them.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new single-use sign-in token, valid for [`LINK_LIFETIME`] from `now`.
    pub fn issue_link(&self, now: Instant) -> String {
        let token = token();
        let mut state = self.lock();
        state
            .links
            .retain(|_, issued| now.duration_since(*issued) < LINK_LIFETIME);
        while state.links.len() >= MAX_LINKS {
            let oldest = state
                .links
                .iter()
                .min_by_key(|(_, issued)| **issued)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => state.links.remove(&k),
                None => break,
            };
        }
        state.links.insert(digest(&token), now);
        token
    }

    /// Exchanges a sign-in token for a new session: the session cookie's value. The token is
    /// spent whether or not this succeeds.
    pub fn sign_in(&self, token: &str, now: Instant) -> Result<String, LinkRefusal> {
        let mut state = self.lock();
        let issued = state
            .links
            .remove(&digest(token))
            .ok_or(LinkRefusal::UnknownOrUsed)?;
        if now.duration_since(issued) >= LINK_LIFETIME {
            return Err(LinkRefusal::UnknownOrUsed);
        }
        state
            .sessions
            .retain(|_, s| now.duration_since(s.last_used) < SESSION_IDLE);
        while state.sessions.len() >= MAX_SESSIONS {
            let stalest = state
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| *k);
            match stalest {
                Some(k) => state.sessions.remove(&k),
                None => break,
            };
        }
        let cookie = token_for_cookie();
        state.sessions.insert(
            digest(&cookie),
            Session {
                csrf: self::token(),
                last_used: now,
                flash: None,
                upload: None,
            },
        );
        Ok(cookie)
    }

    /// Runs `f` on the session of `cookie` if it is live (and marks it used), else `None`.
    pub fn with_session<R>(
        &self,
        cookie: &str,
        now: Instant,
        f: impl FnOnce(&mut Session) -> R,
    ) -> Option<R> {
        let mut state = self.lock();
        let key = digest(cookie);
        let live = state
            .sessions
            .get(&key)
            .is_some_and(|s| now.duration_since(s.last_used) < SESSION_IDLE);
        if !live {
            state.sessions.remove(&key);
            return None;
        }
        let session = state.sessions.get_mut(&key)?;
        session.last_used = now;
        Some(f(session))
    }

    /// Ends the session of `cookie`.
    pub fn sign_out(&self, cookie: &str) {
        self.lock().sessions.remove(&digest(cookie));
    }
}

fn token_for_cookie() -> String {
    token()
}

/// Whether `given` is the session's CSRF token (compared as digests, so the time taken says
/// nothing about how much of it matched).
pub fn csrf_matches(session: &Session, given: &str) -> bool {
    digest(&session.csrf) == digest(given)
}

/// The `Host` values the page answers to when it listens on `port` of 127.0.0.1.
pub fn allowed_hosts(port: u16) -> [String; 2] {
    [format!("127.0.0.1:{port}"), format!("localhost:{port}")]
}

/// The origins the page's own forms are sent from.
pub fn allowed_origins(port: u16) -> [String; 2] {
    allowed_hosts(port).map(|h| format!("http://{h}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_signs_in_once() {
        let gate = Gate::new();
        let now = Instant::now();
        let link = gate.issue_link(now);
        let cookie = gate.sign_in(&link, now).expect("a fresh link signs in");
        assert_eq!(gate.sign_in(&link, now), Err(LinkRefusal::UnknownOrUsed));
        assert!(gate.with_session(&cookie, now, |_| ()).is_some());
        assert!(gate.with_session("not-a-cookie", now, |_| ()).is_none());
    }

    #[test]
    fn an_old_link_or_session_is_refused() {
        let gate = Gate::new();
        let t0 = Instant::now();
        let link = gate.issue_link(t0);
        assert_eq!(
            gate.sign_in(&link, t0 + LINK_LIFETIME),
            Err(LinkRefusal::UnknownOrUsed)
        );
        let link = gate.issue_link(t0);
        let cookie = gate.sign_in(&link, t0).expect("signs in");
        assert!(
            gate.with_session(&cookie, t0 + SESSION_IDLE, |_| ())
                .is_none()
        );
        // Ended for good, not only while idle.
        assert!(gate.with_session(&cookie, t0, |_| ()).is_none());
    }

    #[test]
    fn signing_out_ends_the_session_and_csrf_is_per_session() {
        let gate = Gate::new();
        let now = Instant::now();
        let a = gate.sign_in(&gate.issue_link(now), now).expect("signs in");
        let b = gate.sign_in(&gate.issue_link(now), now).expect("signs in");
        let csrf_a = gate
            .with_session(&a, now, |s| s.csrf.clone())
            .expect("live");
        let b_accepts_a = gate
            .with_session(&b, now, |s| csrf_matches(s, &csrf_a))
            .expect("live");
        assert!(!b_accepts_a);
        gate.sign_out(&a);
        assert!(gate.with_session(&a, now, |_| ()).is_none());
        assert!(gate.with_session(&b, now, |_| ()).is_some());
    }

    #[test]
    fn links_waiting_are_bounded() {
        let gate = Gate::new();
        let now = Instant::now();
        let first = gate.issue_link(now);
        for i in 0..MAX_LINKS {
            gate.issue_link(now + Duration::from_secs(i as u64 + 1));
        }
        assert_eq!(
            gate.sign_in(&first, now + Duration::from_secs(30)),
            Err(LinkRefusal::UnknownOrUsed)
        );
    }
}
