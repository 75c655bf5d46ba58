//! The object store of one simulated cluster: every object as JSON, keyed by resource,
//! namespace and name, with a cluster-wide resourceVersion counter, generation bumps on spec
//! changes, and an event history for watches.
//!
//! Both the HTTP API layer and the in-process controllers use it. Objects go in and come out
//! as `serde_json::Value`s in their wire form; the store owns `metadata.resourceVersion`,
//! `metadata.uid`, `metadata.creationTimestamp` and `metadata.generation`.
//!
//! Inside, each object is kept as compact JSON text shared between the object map and the
//! event history (a `Value` tree takes about ten times the memory of its JSON), so 10,000
//! objects and their history fit in a few tens of megabytes. Reads parse the text.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};
use tokio::sync::broadcast;

/// Group, version and plural resource name, e.g. `("apps", "v1", "deployments")`; the core
/// group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvr {
    /// API group; empty for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Plural resource name, e.g. `deployments`.
    pub plural: String,
}

impl Gvr {
    /// The resource `group/version/plural`.
    pub fn new(group: &str, version: &str, plural: &str) -> Self {
        Gvr {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
        }
    }
    /// `apiVersion` as written in objects: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// What happened to an object, as a watch reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch event type: `ADDED`, `MODIFIED` or `DELETED`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// A change to one object. `object` carries the resourceVersion of the change (for a
/// deletion: the last state with a fresh resourceVersion, as Kubernetes does).
#[derive(Debug, Clone)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// The object's resource.
    pub gvr: Gvr,
    /// The resourceVersion of the change.
    pub rv: u64,
    /// The object after the change.
    pub object: Value,
}

/// Why a write to the store failed; the API server turns each into its status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such object (404).
    #[error("{0} not found")]
    NotFound(String),
    /// An object of that name exists (409).
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error(
        "Operation cannot be fulfilled on {0}: the object has been modified; please apply your changes to the latest version and try again"
    )]
    /// The write's resourceVersion is not the stored one (409).
    Conflict(String),
    /// A watch asked for a resourceVersion older than the history kept.
    #[error("too old resource version: {0}")]
    Gone(u64),
    /// The object has no name or is not an object (422).
    #[error("invalid object: {0}")]
    Invalid(String),
}

const HISTORY: usize = 10_000;

/// An object's JSON text.
type Json = Arc<str>;

/// One entry of the event history; the object text is shared with the object map.
struct Record {
    kind: EventType,
    gvr: Gvr,
    rv: u64,
    namespace: String,
    object: Json,
}

struct Inner {
    rv: u64,
    objects: BTreeMap<Gvr, BTreeMap<(String, String), Json>>,
    history: VecDeque<Record>,
}

fn encode(v: &Value) -> Json {
    // Serializing a `Value` cannot fail (its map keys are strings).
    Arc::from(serde_json::to_string(v).unwrap_or_default())
}

fn decode(j: &str) -> Value {
    // The store only holds text it serialized itself.
    serde_json::from_str(j).unwrap_or(Value::Null)
}

/// One cluster's objects.
pub struct Store {
    inner: RwLock<Inner>,
    events: broadcast::Sender<Event>,
    /// What the cluster's containers write (read by `pods/NAME/log`).
    logs: crate::logs::PodLogs,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn describe(gvr: &Gvr, ns: &str, name: &str) -> String {
    let res = if gvr.group.is_empty() {
        gvr.plural.clone()
    } else {
        format!("{}.{}", gvr.plural, gvr.group)
    };
    if ns.is_empty() {
        format!("{res} \"{name}\"")
    } else {
        format!("{res} \"{name}\" in namespace \"{ns}\"")
    }
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A random version-4 UUID, so objects in different clusters never share a uid.
fn random_uid() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        0x8000 | fastrand::u16(..0x4000),
        fastrand::u64(..1 << 48)
    )
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The API server serializes `ObjectMeta` with Go's `omitempty`: an empty `labels` or
/// `annotations` map (e.g. left by a patch that removed the last key) is not stored.
fn omit_empty_meta_maps(meta: &mut serde_json::Map<String, Value>) {
    for key in ["labels", "annotations"] {
        if meta
            .get(key)
            .is_some_and(|v| v.is_null() || v.as_object().is_some_and(|m| m.is_empty()))
        {
            meta.remove(key);
        }
    }
}

/// Numbers as the API server stores them: it decodes an object it does not know the Go type
/// of (a custom resource) into `int64` where the JSON number parses as one and `float64`
/// otherwise, and Go's encoder writes a whole `float64` without a fraction. So `100.0` (or
/// `1e2`) is stored, and read back, as `100`; `0.5` stays `0.5`.
pub(crate) fn normalize_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.is_finite()
                && f.fract() == 0.0
                && f.abs() < 9.007_199_254_740_992e15
            {
                // Exactly representable as an integer (below 2^53).
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_numbers),
        Value::Object(map) => map.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}

/// Whether `new` equals `old` apart from `metadata.resourceVersion` and the `time` of
/// `metadata.managedFields` entries.
fn unchanged_but_for_rv_and_times(old: &Value, new: &Value) -> bool {
    fn normalized(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            if let Some(fields) = meta.get_mut("managedFields").and_then(Value::as_array_mut) {
                for f in fields.iter_mut().filter_map(Value::as_object_mut) {
                    f.remove("time");
                }
            }
        }
        v
    }
    normalized(old) == normalized(new)
}

impl Store {
    /// An empty store (resourceVersion 0: the first write gets 1).
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        Store {
            inner: RwLock::new(Inner {
                rv: 0,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
            }),
            events,
            logs: crate::logs::PodLogs::default(),
        }
    }

    /// The containers' logs of this cluster.
    pub fn logs(&self) -> &crate::logs::PodLogs {
        &self.logs
    }

    /// Subscribe to every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The current resourceVersion of the whole store.
    pub fn resource_version(&self) -> u64 {
        self.inner.read().expect("store lock").rv
    }

    /// The object `ns/name` of resource `gvr` (`ns` empty for cluster-scoped ones).
    pub fn get(&self, gvr: &Gvr, ns: &str, name: &str) -> Option<Value> {
        let inner = self.inner.read().expect("store lock");
        inner
            .objects
            .get(gvr)?
            .get(&(ns.to_string(), name.to_string()))
            .map(|j| decode(j))
    }

    /// All objects of a resource, in one namespace (`Some`) or all (`None`), sorted by
    /// namespace and name, with the store's resourceVersion at the time of listing.
    pub fn list(&self, gvr: &Gvr, ns: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.inner.read().expect("store lock");
        let items = match inner.objects.get(gvr) {
            None => Vec::new(),
            Some(m) => m
                .iter()
                .filter(|((ons, _), _)| ns.is_none_or(|n| n == ons))
                .map(|(_, v)| decode(v))
                .collect(),
        };
        (items, inner.rv)
    }

    /// Events after `rv` for a resource (optionally one namespace), for a watch that starts at
    /// `rv`. `Err(Gone)` when the history no longer reaches back that far.
    pub(crate) fn events_since(
        &self,
        gvr: &Gvr,
        ns: Option<&str>,
        rv: u64,
    ) -> Result<Vec<Event>, StoreError> {
        let inner = self.inner.read().expect("store lock");
        if let Some(first) = inner.history.front()
            && rv + 1 < first.rv
            && inner.history.len() >= HISTORY
        {
            return Err(StoreError::Gone(rv));
        }
        Ok(inner
            .history
            .iter()
            .filter(|e| e.rv > rv && &e.gvr == gvr && ns.is_none_or(|n| e.namespace == n))
            .map(|e| Event {
                kind: e.kind,
                gvr: e.gvr.clone(),
                rv: e.rv,
                object: decode(&e.object),
            })
            .collect())
    }

    /// Create an object. Sets uid, creationTimestamp, generation 1 and a resourceVersion.
    pub fn create(&self, gvr: &Gvr, mut obj: Value) -> Result<Value, StoreError> {
        normalize_numbers(&mut obj);
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "metadata.name: Required value: name or generateName is required".into(),
            ));
        }
        let mut inner = self.inner.write().expect("store lock");
        let key = (ns.clone(), name.clone());
        if inner.objects.get(gvr).is_some_and(|m| m.contains_key(&key)) {
            return Err(StoreError::AlreadyExists(describe(gvr, &ns, &name)));
        }
        inner.rv += 1;
        let rv = inner.rv;
        let uid = random_uid();
        {
            let meta = obj
                .as_object_mut()
                .ok_or_else(|| StoreError::Invalid("object is not a JSON object".into()))?
                .entry("metadata")
                .or_insert_with(|| json!({}));
            let meta = meta
                .as_object_mut()
                .ok_or_else(|| StoreError::Invalid("metadata is not an object".into()))?;
            omit_empty_meta_maps(meta);
            meta.insert("uid".into(), json!(uid));
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
            meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
            if tracks_generation(gvr) {
                meta.insert("generation".into(), json!(1));
            } else {
                meta.remove("generation");
            }
        }
        let json = encode(&obj);
        inner
            .objects
            .entry(gvr.clone())
            .or_default()
            .insert(key, json.clone());
        self.record(&mut inner, EventType::Added, gvr, rv, &ns, json, &obj);
        Ok(obj)
    }

    /// Replace an object. When `metadata.resourceVersion` is set in `obj` and differs from the
    /// stored one, fails with Conflict. `generation` is bumped when `spec` changed. Identity
    /// fields (uid, creationTimestamp) are kept from the stored object.
    pub fn update(&self, gvr: &Gvr, obj: Value) -> Result<Value, StoreError> {
        self.write(gvr, obj, true)
    }

    /// Replace an object's content as the server itself does when it normalizes an object
    /// (for example applying defaults to objects written straight into the store): like
    /// [`Store::update`], but `generation` stays as it is.
    pub(crate) fn rewrite(&self, gvr: &Gvr, obj: Value) -> Result<Value, StoreError> {
        self.write(gvr, obj, false)
    }

    /// Write an object's status as a controller does through the status subresource:
    /// like [`Store::update`], but `generation` stays as it is. The real Deployment status
    /// strategy keeps annotations from the request, which is how the deployment controller
    /// records `deployment.kubernetes.io/revision` without bumping `generation`.
    pub(crate) fn update_status(&self, gvr: &Gvr, obj: Value) -> Result<Value, StoreError> {
        self.write(gvr, obj, false)
    }

    fn write(&self, gvr: &Gvr, mut obj: Value, bump_generation: bool) -> Result<Value, StoreError> {
        normalize_numbers(&mut obj);
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let mut inner = self.inner.write().expect("store lock");
        let key = (ns.clone(), name.clone());
        let old = inner
            .objects
            .get(gvr)
            .and_then(|m| m.get(&key))
            .map(|j| decode(j))
            .ok_or_else(|| StoreError::NotFound(describe(gvr, &ns, &name)))?;
        let sent_rv = meta_str(&obj, "resourceVersion");
        if !sent_rv.is_empty() && sent_rv != meta_str(&old, "resourceVersion") {
            return Err(StoreError::Conflict(describe(gvr, &ns, &name)));
        }
        let old_gen = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        // As the real API server's Deployment strategy does, an annotation change counts for a
        // Deployment too (its controller reads annotations such as the revision); its
        // controller then writes status (observedGeneration), changing the resourceVersion.
        let annotations_changed = gvr.group == "apps"
            && gvr.plural == "deployments"
            && old.pointer("/metadata/annotations") != obj.pointer("/metadata/annotations");
        // A pod's binding (spec.nodeName, set through pods/binding) is no spec change.
        let spec_of = |o: &Value| {
            let mut spec = o.get("spec").cloned();
            if gvr.group.is_empty()
                && gvr.plural == "pods"
                && let Some(m) = spec.as_mut().and_then(Value::as_object_mut)
            {
                m.remove("nodeName");
            }
            spec
        };
        let spec_changed =
            bump_generation && (spec_of(&old) != spec_of(&obj) || annotations_changed);
        let rv = inner.rv + 1;
        {
            let meta = obj
                .as_object_mut()
                .ok_or_else(|| StoreError::Invalid("object is not a JSON object".into()))?
                .entry("metadata")
                .or_insert_with(|| json!({}));
            let meta = meta
                .as_object_mut()
                .ok_or_else(|| StoreError::Invalid("metadata is not an object".into()))?;
            omit_empty_meta_maps(meta);
            for keep in ["uid", "creationTimestamp"] {
                if let Some(v) = old.pointer(&format!("/metadata/{keep}")) {
                    meta.insert(keep.into(), v.clone());
                }
            }
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
            if tracks_generation(gvr) {
                meta.insert(
                    "generation".into(),
                    json!(if spec_changed { old_gen + 1 } else { old_gen }),
                );
            } else {
                meta.remove("generation");
            }
        }
        // As the real API server does (its managedFields-timestamp transformer included), a
        // write that changes nothing but managedFields timestamps is a no-op: same
        // resourceVersion, no watch event.
        if unchanged_but_for_rv_and_times(&old, &obj) {
            return Ok(old);
        }
        inner.rv = rv;
        let json = encode(&obj);
        inner
            .objects
            .entry(gvr.clone())
            .or_default()
            .insert(key, json.clone());
        self.record(&mut inner, EventType::Modified, gvr, rv, &ns, json, &obj);
        Ok(obj)
    }

    /// Hold `obj` as another API server has it (a mirror of a real cluster fed by its
    /// watches): created when missing, replaced otherwise, with its uid, creationTimestamp and
    /// generation as given (only the resourceVersion is this store's). A write that changes
    /// nothing records no event.
    pub fn mirror(&self, gvr: &Gvr, mut obj: Value) -> Result<(), StoreError> {
        normalize_numbers(&mut obj);
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let mut inner = self.inner.write().expect("store lock");
        let key = (ns.clone(), name.clone());
        let old = inner
            .objects
            .get(gvr)
            .and_then(|m| m.get(&key))
            .map(|j| decode(j));
        let rv = inner.rv + 1;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        if old
            .as_ref()
            .is_some_and(|o| unchanged_but_for_rv_and_times(o, &obj))
        {
            return Ok(());
        }
        inner.rv = rv;
        let json = encode(&obj);
        inner
            .objects
            .entry(gvr.clone())
            .or_default()
            .insert(key, json.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(&mut inner, kind, gvr, rv, &ns, json, &obj);
        Ok(())
    }

    /// Delete an object; returns its last state.
    pub fn delete(&self, gvr: &Gvr, ns: &str, name: &str) -> Result<Value, StoreError> {
        let mut inner = self.inner.write().expect("store lock");
        let removed = inner
            .objects
            .get_mut(gvr)
            .and_then(|m| m.remove(&(ns.to_string(), name.to_string())))
            .ok_or_else(|| StoreError::NotFound(describe(gvr, ns, name)))?;
        let mut obj = decode(&removed);
        inner.rv += 1;
        let rv = inner.rv;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        let json = encode(&obj);
        self.record(&mut inner, EventType::Deleted, gvr, rv, ns, json, &obj);
        Ok(obj)
    }

    /// Every resource that has (or had) objects in the store.
    pub fn resources(&self) -> Vec<Gvr> {
        let inner = self.inner.read().expect("store lock");
        inner.objects.keys().cloned().collect()
    }

    /// Number of objects stored, over all resources.
    pub fn len(&self) -> usize {
        let inner = self.inner.read().expect("store lock");
        inner.objects.values().map(BTreeMap::len).sum()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The objects (resource, namespace, name) whose `metadata.ownerReferences` name the owner
    /// `uid`, sorted; the garbage collector deletes or orphans them.
    pub(crate) fn find_owned_by(&self, uid: &str) -> Vec<(Gvr, String, String)> {
        let inner = self.inner.read().expect("store lock");
        let mut out = Vec::new();
        for (gvr, objects) in &inner.objects {
            for ((ns, name), json) in objects {
                // Cheap text check first; parse only candidates.
                if !json.contains(uid) {
                    continue;
                }
                let obj = decode(json);
                let owned = obj
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                    });
                if owned {
                    out.push((gvr.clone(), ns.clone(), name.clone()));
                }
            }
        }
        out
    }

    /// Every object (resource, name) in namespace `ns`, sorted.
    pub fn keys_in_namespace(&self, ns: &str) -> Vec<(Gvr, String)> {
        let inner = self.inner.read().expect("store lock");
        let mut out = Vec::new();
        for (gvr, objects) in &inner.objects {
            for (ons, name) in objects.keys() {
                if ons == ns {
                    out.push((gvr.clone(), name.clone()));
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        inner: &mut Inner,
        kind: EventType,
        gvr: &Gvr,
        rv: u64,
        ns: &str,
        json: Json,
        object: &Value,
    ) {
        inner.history.push_back(Record {
            kind,
            gvr: gvr.clone(),
            rv,
            namespace: ns.to_string(),
            object: json,
        });
        while inner.history.len() > HISTORY {
            inner.history.pop_front();
        }
        if self.events.receiver_count() > 0 {
            // No receivers left in between is fine.
            let _ = self.events.send(Event {
                kind,
                gvr: gvr.clone(),
                rv,
                object: object.clone(),
            });
        }
    }
}

/// Whether objects of `gvr` carry `metadata.generation`, as on a real API server: the
/// kinds whose spec a controller acts on (workloads, pods, custom resources, CRDs, ...) do;
/// ConfigMaps, Secrets, Services, Namespaces, Nodes, Endpoints, RBAC objects, Leases and
/// the like do not.
pub(crate) fn tracks_generation(gvr: &Gvr) -> bool {
    match gvr.group.as_str() {
        "" => matches!(gvr.plural.as_str(), "pods" | "replicationcontrollers"),
        "rbac.authorization.k8s.io"
        | "coordination.k8s.io"
        | "events.k8s.io"
        | "storage.k8s.io"
        | "scheduling.k8s.io"
        | "node.k8s.io" => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests;
