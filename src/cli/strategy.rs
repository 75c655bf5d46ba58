//! `--strategy auto|native|aggregate` of `translate`, `apply` and `failover create`.

use anyhow::anyhow;

use super::CmdError;
use smh_core::consts::STRATEGY_ANNOTATION;
use smh_core::model::{Manifest, SmhObject};
use smh_core::translate::Strategy;

/// How FailoverServices are translated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// Native where it is exact, aggregate otherwise; native for ambient backing services.
    #[default]
    Auto,
    /// Istio's DestinationRule failoverPriority plus a VirtualService; no EnvoyFilter.
    Native,
    /// SMH's ServiceEntry plus EnvoyFilter aggregate cluster; not for ambient (waypoints ignore EnvoyFilters).
    Aggregate,
}

impl From<StrategyArg> for Strategy {
    fn from(s: StrategyArg) -> Strategy {
        match s {
            StrategyArg::Auto => Strategy::Auto,
            StrategyArg::Native => Strategy::Native,
            StrategyArg::Aggregate => Strategy::Aggregate,
        }
    }
}

/// Pin `strategy` on every FailoverService of `manifests` with the strategy annotation, so
/// that it is stored with them (nothing for `auto`). A FailoverService that already pins
/// another strategy is bad input.
pub(crate) fn pin(manifests: &mut [Manifest], strategy: StrategyArg) -> Result<(), CmdError> {
    let strategy = Strategy::from(strategy);
    if strategy == Strategy::Auto {
        return Ok(());
    }
    for m in manifests {
        let SmhObject::FailoverService(fs) = &mut m.object else {
            continue;
        };
        let annotations = fs.metadata.annotations.get_or_insert_with(Default::default);
        match annotations.get(STRATEGY_ANNOTATION) {
            Some(v) if v != strategy.as_str() => {
                return Err(CmdError::invalid(anyhow!(
                    "{}: FailoverService {}: metadata.annotations[{STRATEGY_ANNOTATION}] pins strategy {v}, but --strategy asks for {strategy}: drop the flag, or change the annotation; nothing changed",
                    m.source,
                    fs.metadata.name.as_deref().unwrap_or_default()
                )));
            }
            Some(_) => {}
            None => {
                annotations.insert(STRATEGY_ANNOTATION.to_string(), strategy.to_string());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smh_core::model::diag::Source;

    fn fs(annotation: Option<&str>) -> Manifest {
        let mut v = serde_json::json!({
            "apiVersion": "networking.smh.solo.io/v1alpha2",
            "kind": "FailoverService",
            "metadata": {"name": "fo", "namespace": "service-mesh-hub"},
            "spec": {},
        });
        if let Some(a) = annotation {
            v["metadata"]["annotations"] = serde_json::json!({STRATEGY_ANNOTATION: a});
        }
        Manifest {
            source: Source {
                file: "fo.yaml".into(),
                doc: 0,
                line: None,
            },
            object: SmhObject::FailoverService(serde_json::from_value(v).unwrap()),
        }
    }

    fn annotation(m: &Manifest) -> Option<String> {
        let SmhObject::FailoverService(f) = &m.object else {
            unreachable!()
        };
        f.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(STRATEGY_ANNOTATION).cloned())
    }

    #[test]
    fn pin_stores_the_strategy_and_refuses_a_contradiction() {
        let mut m = vec![fs(None)];
        pin(&mut m, StrategyArg::Auto).unwrap();
        assert_eq!(annotation(&m[0]), None);
        pin(&mut m, StrategyArg::Native).unwrap();
        assert_eq!(annotation(&m[0]).as_deref(), Some("native"));
        let mut m = vec![fs(Some("aggregate"))];
        let e = pin(&mut m, StrategyArg::Native).unwrap_err();
        assert!(
            format!("{e:?}").contains("fo.yaml: document 1: FailoverService fo: metadata.annotations[failover.kubectl-smh.io/strategy] pins strategy aggregate, but --strategy asks for native"),
            "{e:?}"
        );
    }
}
