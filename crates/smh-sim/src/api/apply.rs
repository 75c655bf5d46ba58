//! Field ownership (`metadata.managedFields`) and server-side apply.
//!
//! A simplification of Kubernetes' structured-merge-diff, documented in docs/simulator.md:
//! - Field sets are sets of leaf paths in the `FieldsV1` notation (`f:<field>`,
//!   `k:{"name":"x"}` for items of keyed lists, `v:<json>` for items of sets, `.` for a list
//!   item itself). Maps are walked field by field; lists follow the schema's
//!   `x-kubernetes-list-type` (keyed `map` lists item by item, `set`s value by value, anything
//!   else is one atomic leaf).
//! - Apply (`application/apply-patch+yaml`): the applied configuration is merged into the live
//!   object; the manager then owns exactly the applied fields; fields it owned before and no
//!   longer applies are removed unless another manager owns them. Applying a field whose live
//!   value differs and which another manager owns is a conflict (409) unless `force=true`,
//!   which takes the field over.
//! - Every other write (create, update, patch) is an `Update`: its manager takes the fields
//!   whose values it changed, away from every other manager.
//! - A client may rewrite `managedFields` itself (kubectl does, to move client-side-apply
//!   ownership to server-side apply); the server keeps what it sent.
//!
//! Not modelled: structured-merge-diff's version conversion of field sets, defaulted list-map
//! keys (keyed lists use one key field, as strategic merge patch does), and ownership of
//! fields the server sets when it defaults an applied object.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::schema::{ListKind, SchemaRef};

/// One path to an owned leaf, e.g. `["f:spec", "f:replicas"]`.
pub(crate) type FieldPath = Vec<String>;
/// A set of owned leaf paths.
pub(crate) type FieldSet = BTreeSet<FieldPath>;

/// Which part of an object a write covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The main resource; `status` is excluded when the kind has a status subresource.
    Main { status_subresource: bool },
    /// The `status` subresource: only `status`.
    Status,
}

impl Scope {
    fn subresource(&self) -> Option<&'static str> {
        match self {
            Scope::Main { .. } => None,
            Scope::Status => Some("status"),
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

/// Metadata fields the server owns; never part of a field set.
const SERVER_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

fn key_element(item: &Value, keys: &[String]) -> Result<String, String> {
    let mut m = Map::new();
    for k in keys {
        match item.get(k) {
            Some(v) if !v.is_null() => {
                m.insert(k.clone(), v.clone());
            }
            _ => {
                return Err(format!(
                    "associative list with keys has an element that omits key field {k:?}"
                ));
            }
        }
    }
    Ok(format!("k:{}", Value::Object(m)))
}

fn collect(
    v: &Value,
    schema: SchemaRef<'_>,
    prefix: &mut FieldPath,
    out: &mut FieldSet,
) -> Result<(), String> {
    match v {
        Value::Object(m) if !m.is_empty() && !schema.atomic_map() => {
            for (k, cv) in m {
                prefix.push(format!("f:{k}"));
                collect(cv, schema.field(k), prefix, out)?;
                prefix.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => match schema.list_kind() {
            ListKind::Map(keys) => {
                for item in items {
                    prefix.push(key_element(item, &keys)?);
                    prefix.push(".".into());
                    out.insert(prefix.clone());
                    prefix.pop();
                    collect(item, schema.items(), prefix, out)?;
                    prefix.pop();
                }
            }
            ListKind::Set => {
                for item in items {
                    prefix.push(format!("v:{item}"));
                    out.insert(prefix.clone());
                    prefix.pop();
                }
            }
            ListKind::Atomic => {
                out.insert(prefix.clone());
            }
        },
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
    Ok(())
}

/// The leaf paths of an object that a write in `scope` may own.
pub(crate) fn field_set(
    obj: &Value,
    schema: SchemaRef<'_>,
    scope: Scope,
) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    let Some(m) = obj.as_object() else {
        return Ok(out);
    };
    for (k, v) in m {
        let include = match scope {
            Scope::Status => k == "status",
            Scope::Main { status_subresource } => {
                !(k == "apiVersion" || k == "kind" || (status_subresource && k == "status"))
            }
        };
        if !include {
            continue;
        }
        if k == "metadata" {
            if let Some(meta) = v.as_object() {
                let ms = schema.field("metadata");
                for (mk, mv) in meta {
                    if SERVER_META.contains(&mk.as_str()) {
                        continue;
                    }
                    let mut prefix = vec!["f:metadata".to_string(), format!("f:{mk}")];
                    collect(mv, ms.field(mk), &mut prefix, &mut out)?;
                }
            }
            continue;
        }
        let mut prefix = vec![format!("f:{k}")];
        collect(v, schema.field(k), &mut prefix, &mut out)?;
    }
    Ok(out)
}

/// The value a path points at (`.` is the list item itself).
pub(crate) fn value_at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for el in path {
        if el == "." {
            return Some(cur);
        }
        cur = if let Some(f) = el.strip_prefix("f:") {
            cur.get(f)?
        } else if let Some(k) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).ok()?;
            cur.as_array()?
                .iter()
                .find(|item| keys.iter().all(|(kk, kv)| item.get(kk) == Some(kv)))?
        } else if let Some(j) = el.strip_prefix("v:") {
            let want: Value = serde_json::from_str(j).ok()?;
            cur.as_array()?.iter().find(|x| **x == want)?
        } else if let Some(i) = el.strip_prefix("i:") {
            cur.as_array()?.get(i.parse::<usize>().ok()?)?
        } else {
            return None;
        };
    }
    Some(cur)
}

/// Remove what a path points at: a field, a keyed list item (path ending in `.`), a set item.
fn remove_at(v: &mut Value, path: &[String]) {
    let (parent_path, last) = match path {
        [] => return,
        [rest @ .., last] => (rest, last),
    };
    if last == "." {
        // Remove the list item named by the element before the dot.
        let (list_path, item) = match parent_path {
            [rest @ .., item] => (rest, item),
            [] => return,
        };
        if let Some(list) = value_at_mut(v, list_path).and_then(Value::as_array_mut)
            && let Some(k) = item.strip_prefix("k:")
            && let Ok(keys) = serde_json::from_str::<Map<String, Value>>(k)
        {
            list.retain(|x| !keys.iter().all(|(kk, kv)| x.get(kk) == Some(kv)));
        }
        return;
    }
    let Some(parent) = value_at_mut(v, parent_path) else {
        return;
    };
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = parent.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(j) = last.strip_prefix("v:")
        && let Ok(want) = serde_json::from_str::<Value>(j)
        && let Some(list) = parent.as_array_mut()
    {
        list.retain(|x| *x != want);
    }
}

fn value_at_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for el in path {
        cur = if let Some(f) = el.strip_prefix("f:") {
            cur.get_mut(f)?
        } else if let Some(k) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).ok()?;
            cur.as_array_mut()?
                .iter_mut()
                .find(|item| keys.iter().all(|(kk, kv)| item.get(kk) == Some(kv)))?
        } else {
            return None;
        };
    }
    Some(cur)
}

/// FieldsV1 JSON tree from a field set.
pub(crate) fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for el in path {
            node = node
                .entry(el.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("inserted an object");
        }
    }
    Value::Object(root)
}

/// Field set from a FieldsV1 JSON tree.
pub(crate) fn from_fields_v1(tree: &Value) -> FieldSet {
    fn walk(node: &Map<String, Value>, prefix: &mut FieldPath, out: &mut FieldSet) {
        for (k, child) in node {
            prefix.push(k.clone());
            match child.as_object() {
                Some(m) if !m.is_empty() => walk(m, prefix, out),
                _ => {
                    out.insert(prefix.clone());
                }
            }
            prefix.pop();
        }
    }
    let mut out = FieldSet::new();
    if let Some(m) = tree.as_object() {
        walk(m, &mut Vec::new(), &mut out);
    }
    out
}

/// Parse `metadata.managedFields`; malformed entries are dropped.
pub(crate) fn read_managed(obj: &Value) -> Vec<ManagedEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    Some(ManagedEntry {
                        manager: e.get("manager")?.as_str()?.to_string(),
                        operation: e
                            .get("operation")
                            .and_then(Value::as_str)
                            .unwrap_or("Update")
                            .to_string(),
                        api_version: e
                            .get("apiVersion")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        time: e
                            .get("time")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        subresource: e
                            .get("subresource")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        fields: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Write `metadata.managedFields` (entries with empty sets are dropped, as Kubernetes does),
/// in Kubernetes' order: Apply entries before Update ones, then by time, manager and
/// subresource.
pub(crate) fn write_managed(obj: &mut Value, entries: &[ManagedEntry]) {
    let mut sorted: Vec<&ManagedEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.operation, &a.time, &a.manager, &a.subresource).cmp(&(
            &b.operation,
            &b.time,
            &b.manager,
            &b.subresource,
        ))
    });
    let list: Vec<Value> = sorted
        .into_iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&e.fields),
            });
            if let Some(s) = &e.subresource {
                v["subresource"] = json!(s);
            }
            v
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Who is writing, for field ownership.
#[derive(Debug, Clone)]
pub(crate) struct Writer<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub time: &'a str,
    pub scope: Scope,
}

fn in_scope(e: &ManagedEntry, scope: Scope) -> bool {
    e.subresource.as_deref() == scope.subresource()
}

/// Record an `Update` by `w`: it takes the fields whose value changed from `old` to `new`.
/// `client_entries` is the managedFields the client sent, if it changed them.
pub(crate) fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    schema: SchemaRef<'_>,
    w: &Writer<'_>,
    client_entries: Option<Vec<ManagedEntry>>,
) -> Result<(), String> {
    let mut entries = match client_entries {
        Some(e) => e,
        None => old.map(read_managed).unwrap_or_default(),
    };
    let new_set = field_set(new, schema, w.scope)?;
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| match old {
            None => true,
            Some(o) => value_at(o, p) != value_at(new, p),
        })
        .cloned()
        .collect();
    for e in entries.iter_mut().filter(|e| in_scope(e, w.scope)) {
        e.fields.retain(|p| new_set.contains(p));
        if e.manager != w.manager || e.operation != "Update" {
            e.fields.retain(|p| !changed.contains(p));
        }
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.manager == w.manager && e.operation == "Update" && in_scope(e, w.scope))
        {
            Some(e) => {
                e.fields.extend(changed);
                e.time = w.time.to_string();
                e.api_version = w.api_version.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: w.manager.to_string(),
                operation: "Update".into(),
                api_version: w.api_version.to_string(),
                time: w.time.to_string(),
                subresource: w.scope.subresource().map(str::to_string),
                fields: changed,
            }),
        }
    }
    write_managed(new, &entries);
    Ok(())
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub manager: String,
    /// The manager as Kubernetes names it in conflict messages: `"alice"` for an apply,
    /// `"carol" using v1` for an update, `with subresource "status"`
    /// after the name for a subresource's manager.
    pub who: String,
    /// `.spec.template.spec.containers[name="reviews"].image`.
    pub path: String,
}

/// Render a field path as Kubernetes prints it in conflict messages.
pub(crate) fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let inner: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!("[{}]", inner.join(",")));
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// The result of a server-side apply in the simulated API server: the merged object, or the
/// conflicts with other field managers.
#[derive(Debug)]
pub(crate) enum ServerApplyResult {
    Applied(Value),
    Conflicts(Vec<Conflict>),
}

/// Merge an applied configuration into a live object (keyed lists item by item, sets by value,
/// everything else replaced).
fn merge_applied(live: &mut Value, applied: &Value, schema: SchemaRef<'_>) {
    match (live, applied) {
        (Value::Object(lm), Value::Object(am)) if !schema.atomic_map() => {
            for (k, av) in am {
                if av.is_null() {
                    lm.remove(k);
                    continue;
                }
                let child = schema.field(k);
                match lm.get_mut(k) {
                    Some(lv) => merge_applied(lv, av, child),
                    None => {
                        lm.insert(k.clone(), av.clone());
                    }
                }
            }
        }
        (Value::Array(la), Value::Array(aa)) => match schema.list_kind() {
            ListKind::Map(keys) => {
                for item in aa {
                    let pos = la
                        .iter()
                        .position(|l| keys.iter().all(|k| l.get(k) == item.get(k)));
                    match pos {
                        Some(i) => merge_applied(&mut la[i], item, schema.items()),
                        None => la.push(item.clone()),
                    }
                }
            }
            ListKind::Set => {
                for item in aa {
                    if !la.contains(item) {
                        la.push(item.clone());
                    }
                }
            }
            ListKind::Atomic => *la = aa.clone(),
        },
        (l, a) => *l = a.clone(),
    }
}

/// Server-side apply of `applied` by `w` onto `live`. Returns the merged object with its
/// managedFields, or the conflicts when `force` is false.
pub(crate) fn server_side_apply(
    live: &Value,
    applied: &Value,
    schema: SchemaRef<'_>,
    w: &Writer<'_>,
    force: bool,
) -> Result<ServerApplyResult, String> {
    let applied_set = field_set(applied, schema, w.scope)?;
    let mut entries = read_managed(live);
    let mut conflicts = Vec::new();
    for e in entries
        .iter()
        .filter(|e| in_scope(e, w.scope) && e.manager != w.manager)
    {
        for p in e.fields.intersection(&applied_set) {
            if p.last().is_some_and(|l| l == ".") {
                continue;
            }
            if value_at(live, p) != value_at(applied, p) {
                conflicts.push((e.manager.clone(), print_manager(e), p.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Ok(ServerApplyResult::Conflicts(
            conflicts
                .into_iter()
                .map(|(manager, who, p)| Conflict {
                    manager,
                    who,
                    path: display_path(&p),
                })
                .collect(),
        ));
    }
    let conflicting: BTreeSet<FieldPath> = conflicts.into_iter().map(|(_, _, p)| p).collect();

    let mut merged = live.clone();
    // Only the part of the applied object this scope covers is merged.
    let mut applied_scoped = applied.clone();
    if let Some(m) = applied_scoped.as_object_mut() {
        match w.scope {
            Scope::Status => m.retain(|k, _| k == "status"),
            Scope::Main {
                status_subresource: true,
            } => {
                m.remove("status");
            }
            Scope::Main { .. } => {}
        }
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.retain(|k, _| {
                !SERVER_META.contains(&k.as_str()) || k == "name" || k == "namespace"
            });
        }
    }
    merge_applied(&mut merged, &applied_scoped, schema);

    // Fields this manager applied before and no longer applies go, unless someone else owns them.
    let previous: FieldSet = entries
        .iter()
        .filter(|e| e.manager == w.manager && e.operation == "Apply" && in_scope(e, w.scope))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let others: FieldSet = entries
        .iter()
        .filter(|e| !(e.manager == w.manager && e.operation == "Apply") && in_scope(e, w.scope))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let mut removed: Vec<&FieldPath> = previous.difference(&applied_set).collect();
    // Remove deeper paths first so list items go after their fields.
    removed.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in removed {
        let prefix: &[String] = if p.last().is_some_and(|l| l == ".") {
            &p[..p.len() - 1]
        } else {
            p
        };
        let owned_elsewhere = others.iter().any(|o| o.starts_with(prefix))
            || applied_set.iter().any(|o| o.starts_with(prefix));
        if !owned_elsewhere {
            remove_at(&mut merged, p);
        }
    }

    for e in entries.iter_mut().filter(|e| in_scope(e, w.scope)) {
        if e.manager != w.manager {
            e.fields.retain(|p| !conflicting.contains(p));
        }
    }
    entries.retain(|e| !(e.manager == w.manager && e.operation == "Apply" && in_scope(e, w.scope)));
    entries.push(ManagedEntry {
        manager: w.manager.to_string(),
        operation: "Apply".into(),
        api_version: w.api_version.to_string(),
        time: w.time.to_string(),
        subresource: w.scope.subresource().map(str::to_string),
        fields: applied_set,
    });
    write_managed(&mut merged, &entries);
    Ok(ServerApplyResult::Applied(merged))
}

/// A manager in a conflict message, as Kubernetes prints it.
fn print_manager(e: &ManagedEntry) -> String {
    let mut s = format!("\"{}\"", e.manager);
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource \"{sub}\""));
    }
    if e.operation == "Update" {
        // The real server encodes the manager without its time, so no ` at TIME` follows.
        s.push_str(&format!(" using {}", e.api_version));
    }
    s
}

/// The Status message for apply conflicts, in Kubernetes' wording.
pub(crate) fn conflict_message(conflicts: &[Conflict]) -> String {
    let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in conflicts {
        by_manager.entry(&c.who).or_default().push(&c.path);
    }
    let n = conflicts.len();
    let mut s = format!(
        "Apply failed with {n} conflict{}: ",
        if n == 1 { "" } else { "s" }
    );
    let parts: Vec<String> = by_manager
        .iter()
        .map(|(who, paths)| {
            if paths.len() == 1 {
                format!("conflict with {who}: {}", paths[0])
            } else {
                format!("conflicts with {who}:\n- {}", paths.join("\n- "))
            }
        })
        .collect();
    s.push_str(&parts.join("\n"));
    s
}

#[cfg(test)]
mod tests;
