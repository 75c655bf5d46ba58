//! `kubectl smh install`: the SMH v1alpha2 CRDs and the SMH namespace in the management
//! cluster.
//!
//! Writes ignore their failure ([`crate::cli::output`]): a closed pipe must not stop a command
//! that is changing clusters.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use anyhow::anyhow;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde_json::{Value, json};

use super::apply::{DryRun, emit};
use super::output::{err, outln};
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::apply::strip_for_diff;
use smh_cluster::{ApiOp, ClusterClient, ClusterError, Contexts, targets_banner};
use smh_core::consts::{FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE};

pub(crate) const LONG_ABOUT: &str =
    "Install the SMH v1alpha2 CRDs (TrafficPolicy, FailoverService) \
into the mgmt cluster.

Server-side applies failoverservices.networking.smh.solo.io and \
trafficpolicies.networking.smh.solo.io (with the status subresource and printer columns; field \
manager kubectl-smh), waits until the API server has established them (--timeout), and creates \
the SMH namespace (-n, default service-mesh-hub) when it is missing. Running it again changes \
nothing and says \"unchanged\".";

/// `kubectl smh install` flags (the command's long help is [`LONG_ABOUT`]).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kubectl smh install
  kubectl smh install --mgmt-context my-mgmt --dry-run=server")]
pub(crate) struct Args {
    /// `client`: say what would be done (only reads); `server`: send every write with
    /// dryRun=All; `none`: install.
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        default_value = "none",
        num_args = 0..=1,
        default_missing_value = "client"
    )]
    pub dry_run: DryRun,

    /// How long to wait for the CRDs to be established.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = super::parse_duration_arg)]
    pub timeout: Duration,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InstallOutput {
    dry_run: &'static str,
    target: smh_cluster::ClusterTarget,
    objects: Vec<Line>,
    established: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    /// `customresourcedefinition.apiextensions.k8s.io/NAME` or `namespace/NAME`.
    resource: String,
    /// `created`, `configured` or `unchanged`.
    outcome: &'static str,
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let contexts = Contexts::load(&g.context_options())?;
    let target = contexts.mgmt_target(&[])?;
    let heading = match args.dry_run {
        DryRun::None => "These contexts and API servers will be changed:",
        DryRun::Client => "Dry run (client): these contexts and API servers would be changed:",
        DryRun::Server => "Dry run (server, dryRun=All): these contexts and API servers are asked:",
    };
    err!("{}", targets_banner(std::slice::from_ref(&target), heading));
    let rt = super::cluster::runtime()?;
    rt.block_on(async {
        let c = contexts.client(&target).await?;
        let mut lines = Vec::new();
        for crd in smh_core::model::crd::smh_crds() {
            lines.push(install_crd(&c, crd, args.dry_run).await?);
        }
        lines.push(ensure_namespace(&c, &g.namespace, args.dry_run).await?);
        let established = match args.dry_run {
            DryRun::None => {
                wait_established(&c, args.timeout).await?;
                true
            }
            _ => false,
        };
        let suffix = match args.dry_run {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        };
        match g.output {
            Some(f @ (OutputFormat::Yaml | OutputFormat::Json)) => emit(
                &InstallOutput {
                    dry_run: match args.dry_run {
                        DryRun::None => "none",
                        DryRun::Client => "client",
                        DryRun::Server => "server",
                    },
                    target: target.clone(),
                    objects: lines,
                    established,
                },
                f,
            )?,
            _ => {
                for l in &lines {
                    outln!("{} {}{suffix}", l.resource, l.outcome);
                }
                if established {
                    outln!(
                        "The SMH CRDs are established in {}; next: kubectl smh apply -f FILE",
                        target.display_name()
                    );
                }
            }
        }
        Ok(Exit::Ok)
    })
}

fn crd_api(c: &ClusterClient) -> Api<CustomResourceDefinition> {
    Api::all(c.client.clone())
}

/// Whether `want` is contained in `have`: every key of a map with a contained value, lists
/// of the same length item by item, other values equal. (What the server adds, defaults,
/// does not count.)
pub(crate) fn contained(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| contained(v, hv))),
        (Value::Array(w), Value::Array(h)) => {
            w.len() == h.len() && w.iter().zip(h).all(|(a, b)| contained(a, b))
        }
        (w, h) => w == h,
    }
}

/// Without status and what the server owns: what an apply can change.
fn comparable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    strip_for_diff(v)
}

async fn install_crd(c: &ClusterClient, crd: Value, dry_run: DryRun) -> Result<Line, ClusterError> {
    let name = crd["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let resource = format!("customresourcedefinition.apiextensions.k8s.io/{name}");
    // Untyped: a typed round trip of the schema would not compare equal.
    let api: Api<kube::api::DynamicObject> = Api::all_with(
        c.client.clone(),
        &kube::api::ApiResource::erase::<CustomResourceDefinition>(&()),
    );
    let op = |verb| ApiOp::typed::<CustomResourceDefinition>(verb, None, Some(&name));
    let existing = api
        .get_opt(&name)
        .await
        .map_err(|e| c.error(&op("get"), e))?;
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let outcome = match (&existing, dry_run) {
        (None, DryRun::Client) => "created",
        (Some(have), DryRun::Client) => {
            let have = serde_json::to_value(have).unwrap_or(Value::Null);
            if contained(&comparable(crd.clone()), &have) {
                "unchanged"
            } else {
                "configured"
            }
        }
        (None, _) => {
            let mut pp = pp;
            pp.dry_run = dry_run == DryRun::Server;
            api.patch(&name, &pp, &Patch::Apply(&crd))
                .await
                .map_err(|e| c.error(&op("patch"), e))?;
            "created"
        }
        (Some(have), _) => {
            // What the server would make of it: unchanged when equal to what is there.
            let would = api
                .patch(&name, &pp.clone().dry_run(), &Patch::Apply(&crd))
                .await
                .map_err(|e| c.error(&op("patch"), e))?;
            let same = comparable(serde_json::to_value(&would).unwrap_or(Value::Null))
                == comparable(serde_json::to_value(have).unwrap_or(Value::Null));
            if same {
                "unchanged"
            } else {
                if dry_run == DryRun::None {
                    api.patch(&name, &pp, &Patch::Apply(&crd))
                        .await
                        .map_err(|e| c.error(&op("patch"), e))?;
                }
                "configured"
            }
        }
    };
    Ok(Line { resource, outcome })
}

async fn ensure_namespace(
    c: &ClusterClient,
    name: &str,
    dry_run: DryRun,
) -> Result<Line, ClusterError> {
    let api: Api<Namespace> = Api::all(c.client.clone());
    let op = |verb| ApiOp::typed::<Namespace>(verb, None, Some(name));
    let resource = format!("namespace/{name}");
    if api
        .get_opt(name)
        .await
        .map_err(|e| c.error(&op("get"), e))?
        .is_some()
    {
        return Ok(Line {
            resource,
            outcome: "unchanged",
        });
    }
    if dry_run != DryRun::Client {
        let ns: Namespace = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
        }))
        .unwrap_or_default();
        let pp = PostParams {
            dry_run: dry_run == DryRun::Server,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        match api.create(&pp, &ns).await {
            Ok(_) => {}
            // Created since it was read: by this create's own first attempt (its answer was
            // lost and the retry met the namespace), or by someone else at the same time.
            // Either way it exists, as install wants.
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(c.error(&op("create"), e)),
        }
    }
    Ok(Line {
        resource,
        outcome: "created",
    })
}

/// Waits until every SMH CRD has the condition `Established=True`.
async fn wait_established(c: &ClusterClient, timeout: Duration) -> Result<(), CmdError> {
    let api = crd_api(c);
    let names: Vec<String> = smh_core::model::crd::smh_crds()
        .iter()
        .filter_map(|crd| crd["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let start = Instant::now();
    loop {
        let mut pending = Vec::new();
        for name in &names {
            let crd = api.get(name).await.map_err(|e| {
                c.error(
                    &ApiOp::typed::<CustomResourceDefinition>("get", None, Some(name)),
                    e,
                )
            })?;
            let established = crd
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                });
            if !established {
                pending.push(name.clone());
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(CmdError::cluster(anyhow!(
                "{}: {} not established within {} (check `kubectl get crd {} -o yaml`, or \
                 raise --timeout)",
                c.target,
                pending.join(", "),
                smh_core::model::duration::format_proto_duration(timeout),
                pending[0]
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_ignores_what_the_server_adds() {
        let want = json!({"spec": {"a": 1, "l": [{"x": 1}]}});
        let have = json!({"spec": {"a": 1, "b": 2, "l": [{"x": 1, "d": true}]}, "status": {}});
        assert!(contained(&want, &have));
        assert!(!contained(&json!({"spec": {"a": 2}}), &have));
        assert!(!contained(&json!({"spec": {"l": []}}), &have));
    }
}
