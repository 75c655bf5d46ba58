//! `kubectl smh failover list`.

use serde_json::Value;

use super::output::write_stdout;
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::Contexts;
use smh_cluster::state::read_smh_objects_in;
use smh_core::model::types::{ApprovalState, FailoverService};
use smh_core::model::{Manifest, SmhObject};

pub(crate) const LONG_ABOUT: &str = "List the FailoverServices stored in the management cluster, in all \
namespaces (only the -n namespace, with a warning, for a user who may not list in all of them): NAME, NAMESPACE, HOSTNAME, PORT, the BACKING services in priority order \
(service.namespace@cluster), the STATE of the last apply (\"(stale)\" when the object changed \
since) and AGE. -o yaml|json prints the objects as a List.";

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kubectl smh failover list
  kubectl smh failover list -o yaml")]
pub(crate) struct Args {}

pub(crate) fn run(g: &GlobalArgs, _args: Args) -> CmdResult {
    let contexts = Contexts::load(&g.context_options())?;
    let target = contexts.mgmt_target(&[])?;
    let rt = super::cluster::runtime()?;
    let (objects, unreadable, note) = rt.block_on(async {
        let c = contexts.client(&target).await?;
        // A user who may not list in all namespaces gets the -n namespace.
        let namespaces = [g.namespace.clone()].into();
        read_smh_objects_in(&c, FailoverService::KIND, &namespaces)
            .await
            .map_err(CmdError::from)
    })?;
    if let Some(note) = note {
        eprintln!("warning: {note}");
    }
    for (id, e) in &unreadable {
        eprintln!("warning: {id} cannot be read: {e}");
    }
    let fss: Vec<&FailoverService> = objects
        .iter()
        .filter_map(|m: &Manifest| match &m.object {
            SmhObject::FailoverService(fs) => Some(fs),
            _ => None,
        })
        .collect();
    let text = match g.output {
        Some(f @ (OutputFormat::Yaml | OutputFormat::Json)) => {
            let items: Vec<Value> = fss
                .iter()
                .map(|fs| serde_json::to_value(fs).unwrap_or(Value::Null))
                .collect();
            let list = crate::render::json::list(&items);
            match f {
                OutputFormat::Json => crate::render::json::to_pretty(&list),
                _ => smh_core::yaml_writer::to_yaml(&list).map_err(CmdError::failed)?,
            }
        }
        _ => {
            if fss.is_empty() {
                eprintln!("No FailoverServices found in {}.", target.display_name());
                return Ok(Exit::Ok);
            }
            let now = jiff::Timestamp::now();
            let mut rows = vec![
                [
                    "NAME",
                    "NAMESPACE",
                    "HOSTNAME",
                    "PORT",
                    "BACKING",
                    "STATE",
                    "AGE",
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(fss.iter().map(|fs| row(fs, now)));
            super::cluster::columns(&rows)
        }
    };
    write_stdout(&text)?;
    Ok(Exit::Ok)
}

/// One table row.
pub(crate) fn row(fs: &FailoverService, now: jiff::Timestamp) -> Vec<String> {
    let port = fs
        .spec
        .port
        .as_ref()
        .map(|p| {
            if p.protocol.is_empty() {
                p.number.to_string()
            } else {
                format!("{}/{}", p.number, p.protocol)
            }
        })
        .unwrap_or_else(|| "<none>".into());
    let backing: Vec<String> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(|k| format!("{}.{}@{}", k.name, k.namespace, k.cluster_name))
        .collect();
    let generation = fs.metadata.generation.unwrap_or(0);
    let state = match &fs.status {
        None => ApprovalState::Pending.as_str().to_string(),
        Some(s) if s.observed_generation != generation => format!("{} (stale)", s.state.as_str()),
        Some(s) => s.state.as_str().to_string(),
    };
    let age = fs
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| smh_core::model::duration::age(now, t.0))
        .unwrap_or_else(|| "<unknown>".into());
    vec![
        fs.metadata.name.clone().unwrap_or_default(),
        fs.metadata.namespace.clone().unwrap_or_default(),
        if fs.spec.hostname.is_empty() {
            "<none>".into()
        } else {
            fs.spec.hostname.clone()
        },
        port,
        if backing.is_empty() {
            "<none>".into()
        } else {
            backing.join(",")
        },
        state,
        age,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_backing_services_in_priority_order() {
        let loaded = smh_core::model::parse::parse_str(
            "fs.yaml",
            include_str!("../../examples/guide/2-failover-service.yaml"),
        );
        let SmhObject::FailoverService(fs) = &loaded.manifests[0].object else {
            panic!()
        };
        let r = row(fs, jiff::Timestamp::now());
        assert_eq!(
            r[..6],
            [
                "reviews-failover",
                "service-mesh-hub",
                "reviews-failover.bookinfo.global",
                "9080/http",
                "reviews.bookinfo@mgmt-cluster,reviews.bookinfo@remote-cluster",
                "PENDING"
            ]
        );
    }

    #[test]
    fn age_column_as_kubectl_prints_it() {
        let loaded = smh_core::model::parse::parse_str(
            "fs.yaml",
            include_str!("../../examples/guide/2-failover-service.yaml"),
        );
        let SmhObject::FailoverService(fs) = &loaded.manifests[0].object else {
            panic!()
        };
        let mut fs = fs.clone();
        let created: jiff::Timestamp = "2023-01-01T00:00:00Z".parse().unwrap();
        fs.metadata.creation_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(created),
        );
        let now = jiff::Timestamp::from_second(created.as_second() + 800 * 86400).unwrap();
        assert_eq!(row(&fs, now)[6], "2y70d");
    }
}
