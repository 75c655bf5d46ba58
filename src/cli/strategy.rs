//! `--strategy auto|native|aggregate` of `translate`, `apply` and `failover create`.

use anyhow::anyhow;

use super::CmdError;
use smh_core::consts::STRATEGY_ANNOTATION;
use smh_core::model::{Manifest, SmhObject};
use smh_core::translate::Strategy;

/// How FailoverServices are translated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// Native where it is exact, aggregate otherwise.
    #[default]
    Auto,
    /// Istio's DestinationRule failoverPriority plus a VirtualService; no EnvoyFilter.
    Native,
    /// SMH's ServiceEntry plus EnvoyFilter aggregate cluster.
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
