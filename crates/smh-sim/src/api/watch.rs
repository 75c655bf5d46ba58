//! Watches: a streaming answer of newline-delimited JSON events
//! (`{"type":"ADDED","object":{...}}`), as kube-runtime's watcher, `await_condition` and
//! `kubectl get -w` / `rollout status` consume them.
//!
//! - `resourceVersion` unset or `0`: synthetic ADDED events for the current objects, then
//!   changes; a number: every change after it, from the store's history, or a 410 `Expired`
//!   ERROR event when the history no longer reaches back that far.
//! - `sendInitialEvents=true`: the current objects, then a BOOKMARK annotated
//!   `k8s.io/initial-events-end: "true"`.
//! - `allowWatchBookmarks=true`: a BOOKMARK with the latest resourceVersion every 30 s.
//! - `timeoutSeconds`: the stream ends after that long (default 30 minutes).
//! - Label and field selectors: an object that stops matching is sent as DELETED, one that
//!   starts matching as ADDED (objects matching when the watch starts count as seen).
//! - A watcher that falls more than 4096 events behind gets a 410 ERROR event and the stream
//!   ends, so the client re-lists.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::core::ApiCore;
use super::registry::ResourceInfo;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::table::{IncludeObject, partial_metadata, table};
use crate::store::{EventType, StoreError};

/// How event objects are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventFormat {
    Object,
    Table(IncludeObject),
    Metadata,
}

/// The query parameters of a watch.
#[derive(Debug, Clone, Default)]
pub(crate) struct WatchParams {
    pub resource_version: Option<u64>,
    pub send_initial_events: bool,
    pub bookmarks: bool,
    pub timeout: Option<Duration>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const BOOKMARK_EVERY: Duration = Duration::from_secs(30);

struct Stream {
    core: Arc<ApiCore>,
    res: Arc<ResourceInfo>,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    format: EventFormat,
    visible: BTreeSet<(String, String)>,
    tx: mpsc::Sender<Bytes>,
}

fn key(o: &Value) -> (String, String) {
    let m = |f: &str| {
        o.pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (m("namespace"), m("name"))
}

impl Stream {
    fn render(&self, obj: Value) -> Value {
        match self.format {
            EventFormat::Object => obj,
            EventFormat::Metadata => partial_metadata(&obj),
            EventFormat::Table(include) => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                table(&self.res, &[obj], &rv, include)
            }
        }
    }

    async fn send(&self, kind: &str, obj: Value) -> bool {
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).await.is_ok()
    }

    async fn bookmark(&self, rv: u64, initial_end: bool) -> bool {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.res.kind, "apiVersion": self.res.api_version(), "metadata": meta});
        self.send("BOOKMARK", obj).await
    }

    async fn error(&self, e: ApiError) {
        let _ = self.send("ERROR", e.to_status()).await;
    }

    /// What was visible at the watch's starting resourceVersion, not now (`visible` holds
    /// the current objects): an object whose first change since is its creation was not
    /// there yet; one first modified or deleted since was (if it matched).
    fn visible_at_start(&mut self, events: &[crate::store::Event]) {
        let mut first = std::collections::BTreeMap::new();
        for ev in events {
            first.entry(key(&ev.object)).or_insert(ev);
        }
        for (k, ev) in first {
            match ev.kind {
                EventType::Added => {
                    self.visible.remove(&k);
                }
                _ if self.labels.matches(&ev.object) && self.fields.matches(&ev.object) => {
                    self.visible.insert(k);
                }
                _ => {}
            }
        }
    }

    /// Forward one store change, if it concerns this watch. Returns false when the client left.
    async fn change(&mut self, kind: EventType, stored: Value) -> bool {
        let obj = {
            let mut o = stored;
            if let Some(m) = o.as_object_mut() {
                m.insert("apiVersion".into(), json!(self.res.api_version()));
                m.insert("kind".into(), json!(self.res.kind));
            }
            o
        };
        let k = key(&obj);
        if let Some(ns) = &self.ns
            && &k.0 != ns
        {
            return true;
        }
        let matches = self.labels.matches(&obj) && self.fields.matches(&obj);
        let typ = match kind {
            EventType::Added | EventType::Modified if matches => {
                if self.visible.insert(k) {
                    "ADDED"
                } else {
                    "MODIFIED"
                }
            }
            EventType::Added | EventType::Modified => {
                if self.visible.remove(&k) {
                    "DELETED"
                } else {
                    return true;
                }
            }
            EventType::Deleted => {
                if self.visible.remove(&k) || matches {
                    "DELETED"
                } else {
                    return true;
                }
            }
        };
        let rendered = self.render(obj);
        self.send(typ, rendered).await
    }
}

/// Start a watch and answer with its stream.
#[allow(clippy::too_many_arguments)]
pub(crate) fn watch(
    core: Arc<ApiCore>,
    res: Arc<ResourceInfo>,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    params: WatchParams,
    format: EventFormat,
) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    // Subscribe before reading the current state, so no change falls in between.
    let mut sub = core.store().subscribe();
    let mut st = Stream {
        core,
        res,
        ns,
        labels,
        fields,
        format,
        visible: BTreeSet::new(),
        tx,
    };
    tokio::spawn(async move {
        let gvr = st.res.storage_gvr();
        let mut last_rv;
        match params
            .resource_version
            .filter(|rv| *rv > 0 && !params.send_initial_events)
        {
            None => {
                let (items, rv) = st
                    .core
                    .list(&st.res, st.ns.as_deref(), &st.labels, &st.fields);
                last_rv = rv;
                for item in items {
                    st.visible.insert(key(&item));
                    let rendered = st.render(item);
                    if !st.send("ADDED", rendered).await {
                        return;
                    }
                }
                if params.send_initial_events && !st.bookmark(last_rv, true).await {
                    return;
                }
            }
            Some(rv) => {
                last_rv = rv;
                let (current, _) = st
                    .core
                    .list(&st.res, st.ns.as_deref(), &st.labels, &st.fields);
                st.visible = current.iter().map(key).collect();
                match st.core.store().events_since(&gvr, st.ns.as_deref(), rv) {
                    Err(StoreError::Gone(_)) | Err(_) => {
                        st.error(ApiError::expired(format!("too old resource version: {rv}")))
                            .await;
                        return;
                    }
                    Ok(events) => {
                        st.visible_at_start(&events);
                        for ev in events {
                            last_rv = last_rv.max(ev.rv);
                            if !st.change(ev.kind, ev.object).await {
                                return;
                            }
                        }
                    }
                }
            }
        }
        let deadline = tokio::time::sleep(params.timeout.unwrap_or(DEFAULT_TIMEOUT));
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = st.tx.closed() => break,
                _ = ticker.tick(), if params.bookmarks => {
                    if !st.bookmark(last_rv, false).await {
                        break;
                    }
                }
                ev = sub.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= last_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        if ev.gvr != gvr {
                            continue;
                        }
                        if !st.change(ev.kind, ev.object).await {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        st.error(ApiError::expired(format!(
                            "too old resource version: {last_rv} (watcher fell {n} events behind)"
                        )))
                        .await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
