//! The opt-in metrics endpoint of `puente run` (`--metrics-port`, or `[metrics] port` in the
//! configuration file): `GET /metrics` on 127.0.0.1 in the OpenMetrics text format, which
//! Prometheus reads, encoded by the Prometheus project's `prometheus-client`.
//!
//! What it exposes, and nothing else: partners connected (direct or through a relay), seconds
//! since the last sync with each partner device (labelled by the first 8 characters of its
//! key, never by a name), envelopes waiting to be sent, revocation receipts still missing,
//! what this node wrote that is not in a relay's mailbox yet, and the size of the data
//! directory. The figures come from `puente status` (run on the node through
//! [`crate::control::server::execute`], as the web page does), read at each scrape.
//!
//! Invariant: listens on 127.0.0.1 only and answers only requests whose `Host` is its own;
//! no label carries a name, handle, label, county or address.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Result;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use puente_node::actor::{Clock, Node};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::control::server::execute;
use crate::i18n::Lang;

/// The OpenMetrics text format's content type.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone)]
struct Metrics {
    node: Node,
    dir: PathBuf,
    clock: Clock,
    port: u16,
}

/// Binds the endpoint on `port` of 127.0.0.1 (0: any free port).
pub async fn bind(port: u16) -> Result<TcpListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(t!(
            "admin-metrics-cannot-listen",
            addr = addr.to_string(),
            reason = crate::messages::io_reason(&e)
        ))
    })
}

/// Serves the endpoint on `listener` until `stop` turns true; the address it listens on.
pub fn start(
    listener: TcpListener,
    node: Node,
    dir: PathBuf,
    clock: Clock,
    stop: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let addr = listener
        .local_addr()
        .map_err(|e| anyhow::anyhow!(crate::messages::io_reason(&e)))?;
    let state = Metrics {
        node,
        dir,
        clock,
        port: addr.port(),
    };
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(state);
    let task = crate::web::serve_until(listener, app, stop, "the metrics endpoint stopped");
    Ok((addr, task))
}

async fn scrape(State(m): State<Metrics>, request: Request) -> Response {
    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            crate::web::auth::allowed_hosts(m.port)
                .iter()
                .any(|a| a == h)
        });
    if !host_ok {
        return (StatusCode::MISDIRECTED_REQUEST, "refused\n").into_response();
    }
    let now = (m.clock)();
    let served = execute(
        vec!["--format".into(), "json".into(), "status".into()],
        m.dir.clone(),
        now,
        Lang::En,
        None,
        &m.node,
    )
    .await;
    let status: Value = match served.error {
        None => serde_json::from_str(&served.stdout()).unwrap_or(Value::Null),
        Some(e) => {
            tracing::debug!(error = %e, "status for the metrics failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "status unavailable\n").into_response();
        }
    };
    let text = render(&status, now.0, store_bytes(&m.dir));
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// The size of the files in the data directory, in bytes.
fn store_bytes(dir: &Path) -> i64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
                .sum()
        })
        .unwrap_or(0)
}

type Labels = Vec<(String, String)>;

/// The exposition for `status` (the JSON of `puente status`) at `now` (Unix seconds).
pub fn render(status: &Value, now: i64, store_bytes: i64) -> String {
    let mut registry = Registry::with_prefix("puente");
    let connected = Family::<Labels, Gauge>::default();
    let age = Family::<Labels, Gauge>::default();
    let pending = Gauge::<i64>::default();
    let receipts = Gauge::<i64>::default();
    let backlog = Gauge::<i64>::default();
    let store = Gauge::<i64>::default();
    for how in ["direct", "relayed"] {
        connected
            .get_or_create(&vec![("how".into(), how.into())])
            .set(0);
    }
    let empty = Vec::new();
    for member in status["members"].as_array().unwrap_or(&empty) {
        for device in member["devices"].as_array().unwrap_or(&empty) {
            if device["this_device"].as_bool() == Some(true) {
                continue;
            }
            let key: String = device["key"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(8)
                .collect();
            if device["connected"].as_bool() == Some(true) {
                let how = match device["reach"]["how"].as_str() {
                    Some("relayed") => "relayed",
                    _ => "direct",
                };
                connected
                    .get_or_create(&vec![("how".into(), how.into())])
                    .inc();
            }
            if let Some(last) = device["last_sync"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            {
                age.get_or_create(&vec![("partner".into(), key)])
                    .set((now - last.as_second()).max(0));
            }
            pending.inc_by(device["envelopes_pending"].as_i64().unwrap_or(0));
        }
    }
    for r in status["revocations"].as_array().unwrap_or(&empty) {
        receipts.inc_by(r["missing"].as_i64().unwrap_or(0));
    }
    for r in status["relays"].as_array().unwrap_or(&empty) {
        backlog.inc_by(r["pending"].as_i64().unwrap_or(0));
    }
    store.set(store_bytes);
    registry.register(
        "partners_connected",
        "Partner devices connected now, directly or through a relay",
        connected,
    );
    registry.register(
        "partner_last_sync_age_seconds",
        "Seconds since the last sync with each partner device (first 8 characters of its key)",
        age,
    );
    registry.register(
        "envelopes_pending",
        "Changes waiting to be sent to connected partners",
        pending,
    );
    registry.register(
        "revocation_receipts_outstanding",
        "Partner devices that have not yet confirmed a revocation",
        receipts,
    );
    registry.register(
        "mailbox_backlog",
        "Changes this node wrote that are not in a relay's mailbox yet",
        backlog,
    );
    registry.register("store_bytes", "Size of the data directory's files", store);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_becomes_metrics_labelled_by_key_never_by_name() {
        let status = serde_json::json!({
            "members": [
                {"name": "River Refuge", "devices": [
                    {"key": "gqdf17ris5gm72dk", "this_device": false, "connected": true,
                     "reach": {"how": "relayed"}, "last_sync": "2026-12-07T01:48:33Z",
                     "envelopes_pending": 3}
                ]},
                {"name": "Sacramento Accompaniment Network", "devices": [
                    {"key": "dh0c7raj4pekn9i2", "this_device": true, "connected": false}
                ]}
            ],
            "revocations": [{"missing": 2}],
            "relays": [{"pending": 5}]
        });
        let now = jiff::Timestamp::from_second(1_796_608_173 + 60)
            .expect("a time")
            .as_second();
        let text = render(&status, now, 4096);
        assert!(
            text.contains("puente_partners_connected{how=\"relayed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("puente_partners_connected{how=\"direct\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("puente_partner_last_sync_age_seconds{partner=\"gqdf17ri\"}"),
            "{text}"
        );
        assert!(text.contains("puente_envelopes_pending 3"), "{text}");
        assert!(
            text.contains("puente_revocation_receipts_outstanding 2"),
            "{text}"
        );
        assert!(text.contains("puente_mailbox_backlog 5"), "{text}");
        assert!(text.contains("puente_store_bytes 4096"), "{text}");
        assert!(
            !text.contains("River") && !text.contains("Sacramento"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
