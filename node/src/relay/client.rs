//! A member node's side of `/puente/relay/1`: what to ask each relay of the network next, and
//! what to do with the answers. Sans-I/O: the node actor asks [`RelayClient::next_jobs`] on
//! its tick and after changes, sends each job with the transport, and hands the answer to
//! [`RelayClient::finish`]; the replica is passed in.
//!
//! Per relay, one request at a time, in this order of priority:
//! 1. admins: the access list (member, admin and revoked device keys) when it changed since
//!    it was last accepted by that relay, or the relay's reservation is new;
//! 2. invitation passes: open invitations of this node, so a joiner can reach it through the
//!    relay; withdrawn when the invitation is spent, cancelled or expired;
//! 3. the mailbox: this node's own entries not deposited yet;
//! 4. the mailbox: entries of partners, when the reservation is new and then every
//!    [`COLLECT_EVERY`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use puente_crdt::Time;
use sha2::{Digest as _, Sha256};

use super::wire::{
    MAX_COLLECT_BYTES, MAX_COLLECT_ENTRIES, MAX_DEPOSIT_ENTRIES, Refusal, Request, Response,
    WireError, network_tag,
};
use crate::identity::PublicKey;
use crate::replica::{MailboxCursor, Opened, Replica};

/// How often a node collects from each relay while it runs (it also collects as soon as a
/// relay accepts its reservation). Partners online at the same time sync directly; the
/// mailbox is for those who are not, so this need not be fast.
pub const COLLECT_EVERY: Duration = Duration::from_secs(20);

/// How long a relay is left alone after a request failed (no answer, a malformed one).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Bytes of entries one deposit carries at most (the relay accepts entries up to 4 MiB; a
/// request stays well inside the 8 MiB frame).
const DEPOSIT_BYTES: usize = 4 * 1024 * 1024;

/// The largest entry a relay keeps by default.
const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

/// Collected entries whose epoch key this node lacks yet, kept in memory to try again after
/// membership changes. Beyond this the oldest are dropped (a partner syncing directly brings
/// the same changes).
const MAX_WAITING_ENTRIES: usize = 4096;

/// What a job asked, so its answer can be applied.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// The access list with this digest.
    Access([u8; 32]),
    /// Invitation passes: (key, open).
    Pass([u8; 32], bool),
    /// A deposit; the cursor to keep once it is acknowledged.
    Deposit(MailboxCursor),
    /// A collection after this id.
    Collect(u64),
}

impl JobKind {
    /// For logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Access(_) => "access",
            Self::Pass(..) => "pass",
            Self::Deposit(_) => "deposit",
            Self::Collect(_) => "collect",
        }
    }
}

/// One request for one relay.
#[derive(Debug, Clone)]
pub struct Job {
    /// The relay.
    pub relay: PublicKey,
    /// What it is.
    pub kind: JobKind,
    /// The request's bytes.
    pub request: Vec<u8>,
}

/// What the node must do after an answer.
#[derive(Debug, Default)]
pub struct Collected {
    /// Entries opened: envelopes and membership ops to apply.
    pub opened: Opened,
}

/// The mailbox and access state of one relay, for status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayReport {
    /// Entries this node deposited there since start.
    pub deposited: u64,
    /// Entries this node collected there since start.
    pub collected: u64,
    /// What this node wrote that is not in that mailbox yet (its own envelopes and
    /// membership ops after the cursor).
    pub pending: u64,
    /// The last refusal or failure, if the last request failed.
    pub problem: Option<RelayProblem>,
}

/// Why the last request to a relay failed, for status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayProblem {
    /// The relay closed the connection before accepting a reservation: it does not know this
    /// device as a member of a network it serves, or this device was revoked.
    #[error("the relay turns this device away")]
    TurnedAway,
    /// The relay does not serve the network yet: its operator has not admitted it.
    #[error("the relay does not serve this network yet")]
    UnknownNetwork,
    /// The relay refused the request.
    #[error("the relay refused: {0}")]
    Refused(Refusal),
    /// The relay's answer is not a message.
    #[error(transparent)]
    BadAnswer(WireError),
    /// No answer came (the connection failed or timed out); the transport's reason.
    #[error("no answer from the relay: {0}")]
    NoAnswer(String),
    /// The answer does not fit the request.
    #[error("the relay gave an answer that does not fit the request")]
    Mismatch,
}

#[derive(Debug, Default)]
struct PerRelay {
    busy: bool,
    reserved: bool,
    access_sent: Option<[u8; 32]>,
    passes: BTreeSet<[u8; 32]>,
    collect_due: Option<Duration>,
    /// No request before this (after a failure or a refusal), so that a relay that fails or a
    /// full mailbox is not asked again in a tight loop.
    quiet_until: Option<Duration>,
    unknown_network: bool,
    report: RelayReport,
}

/// The node's relay jobs (see the module documentation).
#[derive(Debug, Default)]
pub struct RelayClient {
    relays: BTreeMap<PublicKey, PerRelay>,
    waiting: Vec<Vec<u8>>,
}

impl RelayClient {
    /// A relay accepted our reservation (it is reachable): access and mailbox work starts.
    pub fn reserved(&mut self, relay: PublicKey, now: Duration) {
        let r = self.relays.entry(relay).or_default();
        r.reserved = true;
        r.access_sent = None;
        r.passes.clear();
        r.collect_due = Some(now);
        r.unknown_network = false;
        r.quiet_until = None;
        r.report.problem = None;
    }

    /// The relay was lost; nothing is asked of it until it is reserved again.
    pub fn lost(&mut self, relay: PublicKey) {
        if let Some(r) = self.relays.get_mut(&relay) {
            r.reserved = false;
        }
    }

    /// The relay closed the connection before accepting a reservation.
    pub fn refused(&mut self, relay: PublicKey) {
        let r = self.relays.entry(relay).or_default();
        r.reserved = false;
        r.report.problem = Some(RelayProblem::TurnedAway);
    }

    /// Forgets relays the network no longer uses.
    pub fn retain(&mut self, relays: &[PublicKey]) {
        self.relays.retain(|key, _| relays.contains(key));
    }

    /// Per relay: what this node deposited and collected, and the last problem.
    pub fn reports(&self) -> BTreeMap<PublicKey, RelayReport> {
        self.relays
            .iter()
            .map(|(k, r)| (*k, r.report.clone()))
            .collect()
    }

    /// Whether a request to some relay is in flight.
    pub fn busy(&self) -> bool {
        self.relays.values().any(|r| r.busy)
    }

    /// Entries waiting for an epoch key.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// The next job for every reserved relay without one in flight.
    pub fn next_jobs(&mut self, replica: &Replica, now: Duration, wall: Time) -> Vec<Job> {
        // Called on every tick: nothing is read or built unless some relay can be asked now.
        let ready = |r: &PerRelay| {
            !r.busy && r.reserved && !r.unknown_network && r.quiet_until.is_none_or(|t| t <= now)
        };
        if !self.relays.values().any(ready) {
            return Vec::new();
        }
        let Some(log) = replica.membership() else {
            return Vec::new();
        };
        let tag = network_tag(&replica.network());
        let state = log.state();
        let admin = state.is_admin_device(&replica.public_key());
        let access = admin.then(|| {
            let mut members: Vec<[u8; 32]> =
                state.devices().iter().map(|d| *d.key.as_bytes()).collect();
            members.sort_unstable();
            let mut admins: Vec<[u8; 32]> = state
                .admin_devices()
                .iter()
                .map(|k| *k.as_bytes())
                .collect();
            admins.sort_unstable();
            let mut revoked: Vec<[u8; 32]> = state
                .revoked_devices()
                .iter()
                .map(|d| *d.key.as_bytes())
                .collect();
            revoked.sort_unstable();
            let request = Request::Access {
                tag,
                members,
                admins,
                revoked,
            }
            .to_bytes();
            let digest: [u8; 32] = Sha256::digest(&request).into();
            (digest, request)
        });
        let reachable = replica.reachable_invitations(wall);
        let open: BTreeMap<[u8; 32], i64> = replica
            .invitations()
            .iter()
            .filter(|i| reachable.contains(&i.key()))
            .map(|i| (*i.key().as_bytes(), i.expires.0 - wall.0))
            .collect();
        let mut jobs = Vec::new();
        for (relay, r) in &mut self.relays {
            if !ready(r) {
                continue;
            }
            let job = |kind, request: Request| Job {
                relay: *relay,
                kind,
                request: request.to_bytes(),
            };
            let next = if let Some((digest, request)) = access
                .as_ref()
                .filter(|(digest, _)| r.access_sent != Some(*digest))
            {
                Some(Job {
                    relay: *relay,
                    kind: JobKind::Access(*digest),
                    request: request.clone(),
                })
            } else if let Some((key, left)) = open.iter().find(|(k, _)| !r.passes.contains(*k)) {
                let ttl = u32::try_from((*left).max(60))
                    .unwrap_or(u32::MAX)
                    .min(super::wire::MAX_INVITATION_TTL_SECS);
                Some(job(
                    JobKind::Pass(*key, true),
                    Request::Invitation {
                        tag,
                        key: *key,
                        ttl_secs: ttl,
                        open: true,
                    },
                ))
            } else if let Some(key) = r.passes.iter().find(|k| !open.contains_key(*k)) {
                Some(job(
                    JobKind::Pass(*key, false),
                    Request::Invitation {
                        tag,
                        key: *key,
                        ttl_secs: 0,
                        open: false,
                    },
                ))
            } else {
                let cursor = replica.mailbox_cursor(relay);
                match replica.mailbox_deposit(
                    &cursor,
                    MAX_DEPOSIT_ENTRIES,
                    DEPOSIT_BYTES,
                    MAX_ENTRY_BYTES,
                ) {
                    Ok(deposit) if !deposit.entries.is_empty() || deposit.next != cursor => {
                        Some(job(
                            JobKind::Deposit(deposit.next),
                            Request::Deposit {
                                tag,
                                entries: deposit.entries,
                            },
                        ))
                    }
                    Ok(_) if r.collect_due.is_some_and(|due| due <= now) => Some(job(
                        JobKind::Collect(cursor.collected),
                        Request::Collect {
                            tag,
                            after: cursor.collected,
                            max_entries: MAX_COLLECT_ENTRIES,
                            max_bytes: MAX_COLLECT_BYTES,
                        },
                    )),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read what to deposit at a relay");
                        None
                    }
                }
            };
            if let Some(job) = next {
                r.busy = true;
                jobs.push(job);
            }
        }
        jobs
    }

    /// Applies a relay's answer to `job` (or the failure to get one). Returns the entries to
    /// apply when it was a collection.
    pub fn finish(
        &mut self,
        replica: &mut Replica,
        job: &Job,
        answer: Result<Vec<u8>, String>,
        now: Duration,
    ) -> Collected {
        let mut out = Collected::default();
        let Some(r) = self.relays.get_mut(&job.relay) else {
            return out;
        };
        r.busy = false;
        let response = match answer.map(|bytes| Response::from_bytes(&bytes)) {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                r.report.problem = Some(RelayProblem::BadAnswer(e));
                r.quiet_until = Some(now + RETRY_AFTER_FAILURE);
                return out;
            }
            Err(e) => {
                r.report.problem = Some(RelayProblem::NoAnswer(e));
                r.quiet_until = Some(now + RETRY_AFTER_FAILURE);
                return out;
            }
        };
        let mut cursor = replica.mailbox_cursor(&job.relay);
        tracing::debug!(relay = %job.relay, job = job.kind.name(), answer = response.name(), "relay answered");
        match (&job.kind, response) {
            (_, Response::Refused(Refusal::UnknownNetwork)) => {
                r.unknown_network = true;
                r.report.problem = Some(RelayProblem::UnknownNetwork);
            }
            (_, Response::Refused(refusal)) => {
                r.report.problem = Some(RelayProblem::Refused(refusal));
                // A full mailbox or a relay that cannot write: ask again after a while, not at
                // once (that would resend the same deposit in a loop).
                r.quiet_until = Some(now + COLLECT_EVERY);
            }
            (JobKind::Access(digest), Response::Done) => {
                r.access_sent = Some(*digest);
                r.report.problem = None;
            }
            (JobKind::Pass(key, open), Response::Done) => {
                if *open {
                    r.passes.insert(*key);
                } else {
                    r.passes.remove(key);
                }
                r.report.problem = None;
            }
            (
                JobKind::Deposit(next),
                Response::Deposited {
                    instance,
                    first,
                    last,
                },
            ) => {
                if instance != cursor.instance && cursor != MailboxCursor::default() {
                    // The relay's store was replaced: deposit everything again, collect from
                    // its start.
                    cursor = MailboxCursor {
                        instance,
                        ..MailboxCursor::default()
                    };
                } else {
                    cursor = MailboxCursor {
                        instance,
                        collected: cursor.collected,
                        ..next.clone()
                    };
                    if last >= first {
                        r.report.deposited += last - first + 1;
                    }
                }
                r.report.problem = None;
                if let Err(e) = replica.set_mailbox_cursor(&job.relay, &cursor) {
                    tracing::warn!(error = %e, "cannot keep the mailbox cursor");
                }
            }
            (
                JobKind::Collect(after),
                Response::Entries {
                    instance,
                    entries,
                    more,
                },
            ) => {
                if instance != cursor.instance {
                    // Another store (or the first contact): start over from its beginning, and
                    // deposit everything there again.
                    cursor = MailboxCursor {
                        instance,
                        ..MailboxCursor::default()
                    };
                    r.collect_due = Some(now);
                } else {
                    let last = entries.last().map_or(*after, |(id, _)| *id);
                    cursor.collected = cursor.collected.max(last);
                    r.report.collected += entries.len() as u64;
                    let opened =
                        replica.mailbox_open(entries.into_iter().map(|(_, e)| e).collect());
                    self.waiting.extend(opened.waiting.iter().cloned());
                    if self.waiting.len() > MAX_WAITING_ENTRIES {
                        let excess = self.waiting.len() - MAX_WAITING_ENTRIES;
                        self.waiting.drain(..excess);
                    }
                    out.opened = Opened {
                        waiting: Vec::new(),
                        ..opened
                    };
                    r.collect_due = Some(if more { now } else { now + COLLECT_EVERY });
                }
                r.report.problem = None;
                if let Err(e) = replica.set_mailbox_cursor(&job.relay, &cursor) {
                    tracing::warn!(error = %e, "cannot keep the mailbox cursor");
                }
            }
            (_, _) => {
                r.report.problem = Some(RelayProblem::Mismatch);
            }
        }
        out
    }

    /// Tries the entries that waited for an epoch key again (after a membership change).
    pub fn retry_waiting(&mut self, replica: &Replica) -> Opened {
        if self.waiting.is_empty() {
            return Opened::default();
        }
        let opened = replica.mailbox_open(std::mem::take(&mut self.waiting));
        self.waiting = opened.waiting.clone();
        Opened {
            waiting: Vec::new(),
            ..opened
        }
    }
}
