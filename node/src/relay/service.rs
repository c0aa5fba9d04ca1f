//! The relay service: the transport ([`RelayServer`]), the durable store ([`RelayStore`]) and
//! the access state of every network it serves, wired in one loop.
//!
//! It answers members' requests (access updates from admins, invitation passes, mailbox
//! deposits and collections), tells the transport whom to let in after every change (so a
//! revocation that reaches it closes the revoked key's connections and circuits at once),
//! and expires old mailbox entries and ended passes on a timer. Its clock is the system's:
//! it decides only mailbox expiry and invitation passes, never membership.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use super::access::{Applied, NetworkAccess, RelayTicket, merged_access};
use super::store::{NetworkTag, RelayStore, RelayStoreError};
use super::wire::{MAX_COLLECT_BYTES, MAX_COLLECT_ENTRIES, Refusal, Request, Response};
use crate::identity::{PublicKey, SecretKey};
use crate::net::{
    NetError, RelayCounters, RelayLimits, RelayServer, RelayServerConfig, RelayServerEvent,
};

/// How often old entries and ended passes are removed.
const EXPIRY_INTERVAL: Duration = Duration::from_secs(60);

/// Everything [`RelayService::start`] needs.
#[derive(Debug)]
pub struct RelayServiceConfig {
    /// Addresses to listen on.
    pub listen: Vec<String>,
    /// Public addresses to announce (a port forward's); the concrete listen addresses when
    /// empty.
    pub announce: Vec<String>,
    /// Transport limits.
    pub limits: RelayLimits,
}

/// Errors of the relay service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayServiceError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] RelayStoreError),
    /// The transport failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The service has stopped.
    #[error("the relay has stopped")]
    Closed,
}

/// A network the relay serves, as its status shows it (no name: the relay knows none).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkSummary {
    /// The first 8 bytes of the tag, in hex.
    pub tag: String,
    /// Admin keys, member keys, revoked keys, invitation passes.
    pub admins: usize,
    /// Member keys.
    pub members: usize,
    /// Revoked keys.
    pub revoked: usize,
    /// Invitation passes.
    pub passes: usize,
    /// Mailbox entries held.
    pub entries: u64,
    /// Mailbox bytes held.
    pub bytes: u64,
}

/// The running relay: its transport handle and its loop's task.
#[derive(Debug)]
pub struct RelayService {
    server: RelayServer,
    stop: mpsc::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), RelayServiceError>>,
}

impl RelayService {
    /// Admits a network into a relay store (the operator's `--admit TICKET`): adds the
    /// ticket's admins. Returns whether anything changed. Works on a stopped relay's store.
    pub fn admit(store: &RelayStore, ticket: &RelayTicket) -> Result<bool, RelayStoreError> {
        let mut states = load_states(store)?;
        let access = states.entry(ticket.tag).or_default();
        let changed = access.admit(ticket) == Applied::Changed;
        if changed {
            store.save_access(&ticket.tag, &access.to_bytes())?;
        }
        Ok(changed)
    }

    /// The networks a store serves, with their counts.
    pub fn networks(store: &RelayStore) -> Result<Vec<NetworkSummary>, RelayStoreError> {
        let states = load_states(store)?;
        let mut out = Vec::new();
        for (tag, access) in &states {
            let (admins, members, revoked, passes) = access.counts();
            let usage = store.usage(tag)?;
            out.push(NetworkSummary {
                tag: tag[..8].iter().map(|b| format!("{b:02x}")).collect(),
                admins,
                members,
                revoked,
                passes,
                entries: usage.entries,
                bytes: usage.bytes,
            });
        }
        Ok(out)
    }

    /// Starts the transport with the store's identity and serves until [`Self::stop`].
    pub async fn start(
        store: RelayStore,
        config: RelayServiceConfig,
    ) -> Result<RelayService, RelayServiceError> {
        let seed = store.identity_seed();
        let key = SecretKey::from_bytes(&seed);
        let (server, events) = RelayServer::spawn(RelayServerConfig {
            key,
            listen: config.listen,
            announce: config.announce,
            limits: config.limits,
        })
        .await?;
        let states = load_states(&store)?;
        let mut actor = ServiceActor {
            store,
            server: server.clone(),
            states,
        };
        actor.push_access().await?;
        let (stop, stop_rx) = mpsc::channel(1);
        let task = tokio::spawn(actor.run(events, stop_rx));
        Ok(RelayService { server, stop, task })
    }

    /// The relay's key (members add the relay with it).
    pub fn key(&self) -> PublicKey {
        self.server.local_key()
    }

    /// The addresses bound.
    pub async fn listen_addrs(&self) -> Result<Vec<String>, RelayServiceError> {
        Ok(self.server.listen_addrs().await?)
    }

    /// What the relay carries now.
    pub async fn counters(&self) -> Result<RelayCounters, RelayServiceError> {
        Ok(self.server.counters().await?)
    }

    /// Stops serving, closes every connection and the store. What was acknowledged is on
    /// disk already.
    pub async fn stop(self) -> Result<(), RelayServiceError> {
        let _ = self.stop.send(()).await;
        let result = self.task.await.map_err(|_| RelayServiceError::Closed)?;
        self.server.shutdown().await;
        result
    }
}

fn load_states(store: &RelayStore) -> Result<BTreeMap<NetworkTag, NetworkAccess>, RelayStoreError> {
    let mut states = BTreeMap::new();
    for (tag, bytes) in store.load_access()? {
        match NetworkAccess::from_bytes(&bytes) {
            Some(access) => {
                states.insert(tag, access);
            }
            None => {
                return Err(RelayStoreError::Damaged {
                    path: store.path().to_path_buf(),
                    reason: "a network's access state cannot be read".into(),
                });
            }
        }
    }
    Ok(states)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

struct ServiceActor {
    store: RelayStore,
    server: RelayServer,
    states: BTreeMap<NetworkTag, NetworkAccess>,
}

impl ServiceActor {
    async fn run(
        mut self,
        mut events: mpsc::Receiver<RelayServerEvent>,
        mut stop: mpsc::Receiver<()>,
    ) -> Result<(), RelayServiceError> {
        let mut expiry = tokio::time::interval(EXPIRY_INTERVAL);
        loop {
            tokio::select! {
                biased;
                _ = stop.recv() => break,
                event = events.recv() => match event {
                    Some(RelayServerEvent::Request { from, id, bytes }) => {
                        let answer = self.handle(from, &bytes).await;
                        self.server.respond(id, answer.to_bytes()).await?;
                    }
                    Some(RelayServerEvent::Refused(key)) => {
                        tracing::debug!(%key, "refused a key that is no member of any network served");
                    }
                    None => break,
                },
                _ = expiry.tick() => self.expire().await?,
            }
        }
        self.store.close()?;
        Ok(())
    }

    async fn push_access(&mut self) -> Result<(), RelayServiceError> {
        let access = merged_access(self.states.values(), now_secs());
        self.server.set_access(access).await?;
        Ok(())
    }

    async fn expire(&mut self) -> Result<(), RelayServiceError> {
        let now = now_secs();
        match self.store.expire(now) {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "removed mailbox entries past their retention"),
            Err(e) => tracing::warn!(error = %e, "cannot expire mailbox entries"),
        }
        let mut changed = false;
        for (tag, access) in &mut self.states {
            if access.expire_passes(now) == Applied::Changed {
                changed = true;
                if let Err(e) = self.store.save_access(tag, &access.to_bytes()) {
                    tracing::warn!(error = %e, "cannot save a network's access");
                }
            }
        }
        if changed {
            self.push_access().await?;
        }
        Ok(())
    }

    async fn handle(&mut self, from: PublicKey, bytes: &[u8]) -> Response {
        let Ok(request) = Request::from_bytes(bytes) else {
            return Response::Refused(Refusal::Malformed);
        };
        match request {
            Request::Access {
                tag,
                members,
                admins,
                revoked,
            } => {
                let Some(access) = self.states.get_mut(&tag) else {
                    return Response::Refused(Refusal::UnknownNetwork);
                };
                if !access.is_admin(&from) {
                    return Response::Refused(Refusal::NotAdmin);
                }
                let mut next = access.clone();
                match next.apply_update(&members, &admins, &revoked) {
                    None => Response::Refused(Refusal::Malformed),
                    Some(Applied::Unchanged) => Response::Done,
                    Some(Applied::Changed) => self.save_and_push(tag, next).await,
                }
            }
            Request::Invitation {
                tag,
                key,
                ttl_secs,
                open,
            } => {
                let Some(access) = self.states.get(&tag) else {
                    return Response::Refused(Refusal::UnknownNetwork);
                };
                if !access.is_member(&from) {
                    return Response::Refused(Refusal::NotMember);
                }
                let mut next = access.clone();
                let until = open.then(|| now_secs() + u64::from(ttl_secs));
                match next.set_pass(key, until) {
                    Applied::Unchanged => Response::Done,
                    Applied::Changed => self.save_and_push(tag, next).await,
                }
            }
            Request::Deposit { tag, entries } => {
                if !self.states.get(&tag).is_some_and(|a| a.is_member(&from)) {
                    return Response::Refused(self.not_member(&tag));
                }
                match self.store.deposit(&tag, &entries, now_secs()) {
                    Ok(deposited) => Response::Deposited {
                        instance: self.store.instance(),
                        first: deposited.first,
                        last: deposited.last,
                    },
                    Err(RelayStoreError::Full {
                        used_entries,
                        used_bytes,
                        max_entries,
                        max_bytes,
                    }) => Response::Refused(Refusal::Full {
                        used_entries,
                        used_bytes,
                        max_entries,
                        max_bytes,
                    }),
                    Err(RelayStoreError::EntryTooLarge { max, .. }) => {
                        Response::Refused(Refusal::TooLarge { max: max as u64 })
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot keep a deposit");
                        Response::Refused(Refusal::Unavailable)
                    }
                }
            }
            Request::Collect {
                tag,
                after,
                max_entries,
                max_bytes,
            } => {
                if !self.states.get(&tag).is_some_and(|a| a.is_member(&from)) {
                    return Response::Refused(self.not_member(&tag));
                }
                let max_entries = max_entries.clamp(1, MAX_COLLECT_ENTRIES) as usize;
                let max_bytes = max_bytes.clamp(1, MAX_COLLECT_BYTES) as usize;
                match self.store.collect(&tag, after, max_entries, max_bytes) {
                    Ok(collected) => Response::Entries {
                        instance: self.store.instance(),
                        entries: collected.entries,
                        more: collected.more,
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the mailbox");
                        Response::Refused(Refusal::Unavailable)
                    }
                }
            }
        }
    }

    fn not_member(&self, tag: &NetworkTag) -> Refusal {
        if self.states.contains_key(tag) {
            Refusal::NotMember
        } else {
            Refusal::UnknownNetwork
        }
    }

    /// Makes a network's new access durable, then tells the transport: a revoked key's
    /// connections close before the answer goes out.
    async fn save_and_push(&mut self, tag: NetworkTag, next: NetworkAccess) -> Response {
        if let Err(e) = self.store.save_access(&tag, &next.to_bytes()) {
            tracing::warn!(error = %e, "cannot save a network's access");
            return Response::Refused(Refusal::Unavailable);
        }
        self.states.insert(tag, next);
        if let Err(e) = self.push_access().await {
            tracing::warn!(error = %e, "cannot update the relay's allow-list");
            return Response::Refused(Refusal::Unavailable);
        }
        Response::Done
    }
}
