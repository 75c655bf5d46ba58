//! Differential conformance: the same requests, through kube-rs (raw HTTP) and through the
//! pinned kubectl, sent to a simulated cluster and to a real kube-apiserver, and their
//! answers compared after masking what differs between any two servers (uids, timestamps,
//! resourceVersions, continue tokens, addresses and ports, IPs, ages).
//!
//! Each area module returns a table of [`harness::Interaction`]s (a request and a
//! normaliser choosing what of the answer is compared), run in order on both clusters in a
//! namespace of its own. Every difference is reported at once, with a diff of the two
//! normalised answers. The differences the project accepts are listed in [`ACCEPTED`], with
//! why they do not matter to kubectl-smh, and in docs/simulator.md ("Differences from a real
//! API server"); an accepted difference that is no longer there fails the test too, so the
//! list stays true.
//!
//! Without the real peers (kube-apiserver and kubectl of `scripts/peers/build`) the test
//! prints a SKIP line (a failure under `SMH_REQUIRE_PEERS=1`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod apply;
mod crd;
mod crud;
mod discovery;
mod errors;
mod patch;
mod status;
mod workflows;

use std::time::Instant;

use common::backend::{Backend, Clusters};
use harness::{Interaction, Target};
use serde_json::Value;
use smh_core::model::topology::MultiClusterMode;

/// Differences between the simulator and a real API server that do not matter to
/// kubectl-smh: `(interaction id, why)`. Listed, with the same ids, in docs/simulator.md.
const ACCEPTED: &[(&str, &str)] = &[
    (
        "crud/managed-fields-of-updates",
        "an Update's field set lacks the \".\" entries a real server adds for maps the update \
         created; kubectl-smh writes with server-side apply and reads no managedFields, and apply \
         conflicts (apply/*) come out the same",
    ),
    (
        "crud/list",
        "list items carry apiVersion and kind; kube-rs and kubectl read them from the list either way",
    ),
    (
        "crud/list-limit",
        "no pagination: limit is ignored and no continue token is given; clients read the whole \
         answer, and the demo holds far fewer objects than a page (kubectl and kube-rs ask for 500)",
    ),
    ("crud/list-continue", "no pagination (as crud/list-limit)"),
    (
        "crud/namespace-configmaps",
        "no kube-root-ca.crt ConfigMap in every namespace (no root CA publisher: the simulator \
         serves plain HTTP); kubectl-smh never reads it",
    ),
    (
        "patch/json-test-fails",
        "a failed JSON patch test names the operation and path instead of the real server's \
         generic message; same code and reason",
    ),
    ("patch/json-missing-path", "as patch/json-test-fails"),
    (
        "apply/deployment-defaults-and-ownership",
        "managedFields detail: an atomic selector is one field, and a port's key does not include \
         its defaulted protocol; conflicts on the fields kubectl-smh writes come out the same",
    ),
    (
        "workflows/managers-after-client-side-apply",
        "the simulator's controllers write status without a managedFields entry \
         (kube-controller-manager/Update/status)",
    ),
    (
        "workflows/managers-after-server-side-apply",
        "as workflows/managers-after-client-side-apply",
    ),
    (
        "workflows/generation-after-undo",
        "after a client-side apply, kubectl apply --server-side rewrites the last-applied \
         annotation on the real server (one more generation) and not on the simulator; \
         kubectl-smh uses neither client-side apply nor that annotation",
    ),
    (
        "workflows/diff",
        "the generation and last-applied annotation of workflows/generation-after-undo",
    ),
    (
        "status/main-resource-ignores-status",
        "a field sent with its zero value (spec.paused: false) is kept and counts as a spec change; \
         a real server drops it; kubectl-smh sends no zero-valued optional fields",
    ),
    (
        "status/pod-immutable-field-422",
        "pod spec fields are not immutable; kubectl-smh never updates pods",
    ),
    (
        "crd/discovery-of-new-group",
        "no storageVersionHash in discovery (used for storage migration, not by clients)",
    ),
    (
        "crd/cel-rule-422",
        "CEL validation rules (x-kubernetes-validations) are not evaluated; the SMH CRDs have none, \
         and Istio's only check objects kubectl-smh does not generate wrong (the real backend's \
         tests apply them)",
    ),
    ("crd/cel-on-update-422", "as crd/cel-rule-422"),
    (
        "crd/bad-cel-rule-422",
        "as crd/cel-rule-422: rules are not compiled either",
    ),
    (
        "crd/enum-422",
        "with CEL rules in the schema, a real server adds a cause 'some validation rules were not \
         checked'; the other causes are the same",
    ),
    ("crd/required-422", "as crd/enum-422"),
    ("crd/wrong-type-422", "as crd/enum-422"),
    (
        "crd/non-structural-422",
        "non-structural schemas are accepted; the CRDs kubectl-smh installs are structural",
    ),
    (
        "discovery/group-order",
        "groups are listed alphabetically, not in the real server's priority order; kubectl-smh \
         names every resource with its group",
    ),
    (
        "discovery/version",
        "the simulator reports Kubernetes 1.33, the real control planes run 1.36.3; kubectl-smh \
         only shows the server's version",
    ),
    (
        "discovery/openapi-v3-podspec",
        "the OpenAPI v3 documents carry the schemas kubectl's validation and client-side strategic \
         merge need, not every definition",
    ),
    (
        "discovery/openapi-v3-deployment-spec",
        "as discovery/openapi-v3-podspec",
    ),
    (
        "errors/invalid-json-400",
        "the message of a body that is no JSON is worded differently; same code and reason",
    ),
    ("errors/kind-mismatch-400", "as errors/invalid-json-400"),
    (
        "errors/secret-not-base64-400",
        "a Secret's data is not checked to be base64; kubectl-smh writes no Secrets",
    ),
];

/// The areas, in the order they run: `(name, namespace, interactions)`.
fn areas() -> Vec<(&'static str, Vec<Interaction>)> {
    vec![
        ("crud", crud::interactions()),
        ("patch", patch::interactions()),
        ("apply", apply::interactions()),
        ("workflows", workflows::interactions()),
        ("status", status::interactions()),
        ("crd", crd::interactions()),
        ("discovery", discovery::interactions()),
        ("errors", errors::interactions()),
    ]
}

/// One interaction's two answers.
struct Compared {
    id: String,
    sim: Value,
    real: Value,
}

fn diff(c: &Compared) -> String {
    let sim = serde_json::to_string_pretty(&c.sim).unwrap();
    let real = serde_json::to_string_pretty(&c.real).unwrap();
    similar::TextDiff::from_lines(&sim, &real)
        .unified_diff()
        .context_radius(3)
        .header("simulator", "real kube-apiserver")
        .to_string()
}

/// The report of a run: differences not accepted, accepted ones no longer there.
fn judge(results: &[Compared]) -> Vec<String> {
    let mut problems = vec![];
    for c in results {
        let accepted = ACCEPTED.iter().find(|(id, _)| *id == c.id);
        match (c.sim == c.real, accepted) {
            (true, None) | (false, Some(_)) => {}
            (false, None) => problems.push(format!("DIFFERENT {}\n{}", c.id, diff(c))),
            (true, Some((_, why))) => problems.push(format!(
                "ACCEPTED BUT GONE {}: the answers are equal now; remove it from ACCEPTED and \
                 docs/simulator.md (it said: {why})",
                c.id
            )),
        }
    }
    for (id, _) in ACCEPTED {
        if !results.iter().any(|c| c.id == *id) {
            problems.push(format!("ACCEPTED {id} names no interaction"));
        }
    }
    problems
}

#[test]
fn interactions_are_at_least_sixty_with_unique_ids_and_the_accepted_list_is_documented() {
    let mut ids = std::collections::BTreeSet::new();
    let mut n = 0;
    for (area, list) in areas() {
        for i in list {
            assert!(
                i.id.starts_with(&format!("{area}/")),
                "{} is not in {area}/",
                i.id
            );
            assert!(ids.insert(i.id.clone()), "{} twice", i.id);
            n += 1;
        }
    }
    assert!(n >= 60, "{n} interactions");
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/simulator.md"),
    )
    .unwrap();
    let section = doc
        .split("## Differences from a real API server")
        .nth(1)
        .expect("docs/simulator.md has a section 'Differences from a real API server'");
    let section = section.split("\n## ").next().unwrap();
    for (id, _) in ACCEPTED {
        assert!(ids.contains(*id), "ACCEPTED {id} names no interaction");
        assert!(
            section.contains(&format!("`{id}`")),
            "docs/simulator.md's differences do not list `{id}`"
        );
    }
    for listed in regex::Regex::new(
        r"`((?:crud|patch|apply|workflows|status|crd|discovery|errors)/[a-z0-9-]+)`",
    )
    .unwrap()
    .captures_iter(section)
    {
        assert!(
            ACCEPTED.iter().any(|(id, _)| *id == &listed[1]),
            "docs/simulator.md lists `{}`, which ACCEPTED does not",
            &listed[1]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_and_real_api_server_answer_alike() {
    let Some(kubectl) = common::kubectl() else {
        return;
    };
    let started = Instant::now();
    let Some(real) = Clusters::start(Backend::Real, MultiClusterMode::Global).await else {
        return;
    };
    let sim = Clusters::start(Backend::Sim, MultiClusterMode::Global)
        .await
        .expect("simulated clusters");
    let dir = tempfile::tempdir().unwrap();
    let (sim_kc, real_kc) = (dir.path().join("sim.kc"), dir.path().join("real.kc"));
    sim.write_kubeconfig(&sim_kc);
    real.write_kubeconfig(&real_kc);
    let mut targets = [
        Target::new("simulator", &sim_kc, &kubectl).await,
        Target::new("real", &real_kc, &kubectl).await,
    ];
    eprintln!("clusters up after {:?}", started.elapsed());

    let mut results = vec![];
    let mut counts = vec![];
    for (area, list) in areas() {
        let t = Instant::now();
        counts.push(format!("{area}: {}", list.len()));
        for i in &list {
            let sim_answer = targets[0].run(i).await;
            let real_answer = targets[1].run(i).await;
            results.push(Compared {
                id: i.id.clone(),
                sim: sim_answer,
                real: real_answer,
            });
        }
        eprintln!("{area}: {} interactions in {:?}", list.len(), t.elapsed());
    }
    eprintln!(
        "{} interactions ({}) in {:?}",
        results.len(),
        counts.join(", "),
        started.elapsed()
    );
    let problems = judge(&results);
    sim.shutdown().await;
    real.shutdown().await;
    assert!(
        problems.is_empty(),
        "{} of {} interactions differ from a real API server:\n\n{}",
        problems.len(),
        results.len(),
        problems.join("\n\n")
    );
}
