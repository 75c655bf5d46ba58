//! The `failover create` wizard: dialoguer prompts on stderr, asking only what the flags
//! did not answer. The choices offered and their order are pure functions
//! ([`service_items`], [`secondary_order`]), unit-tested; the prompts themselves are tested
//! through a pseudo-terminal (`tests/failover_create/wizard.rs`).
//!
//! Ctrl-C at a prompt: console reads the key in raw mode and reports it as an
//! `Interrupted` I/O error (raising SIGINT, which `create` catches); Esc in a selection
//! cancels. Both end the wizard with [`WizardError::Cancelled`], before anything changed.

use std::io;
use std::time::Duration;

use dialoguer::console::Term;
use dialoguer::theme::{ColorfulTheme, Theme};
use dialoguer::{Confirm, FuzzySelect, Input, MultiSelect, Select};
use smh_core::model::zero_loss;

use smh_core::model::build::{
    self, CreateOptions, CreateRequest, EffectiveOutlier, Live, OutlierFlags, describe_port,
    port_choices, port_protocol, service_ref,
};
use smh_core::model::duration::{format_proto_duration, parse_duration};
use smh_core::model::k8s;
use smh_core::model::topology::Topology;
use smh_core::model::types::ClusterObjectRef;
use smh_core::model::validate::is_istio_protocol;
use smh_core::model::{FailoverService, SmhObject};

/// How the wizard ended without a request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WizardError {
    /// Ctrl-C or Esc.
    #[error("cancelled")]
    Cancelled,
    #[error("the terminal failed: {0}")]
    Io(#[from] io::Error),
    /// The answers do not make a request (the wizard offers only valid choices, so this is
    /// what the topology itself lacks, e.g. a cluster without a mesh).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Build(Vec<build::BuildError>),
    /// Nothing to choose from.
    #[error("{0}")]
    Nothing(String),
}

impl From<dialoguer::Error> for WizardError {
    fn from(e: dialoguer::Error) -> Self {
        let dialoguer::Error::IO(e) = e;
        if e.kind() == io::ErrorKind::Interrupted || super::interrupted() {
            WizardError::Cancelled
        } else {
            WizardError::Io(e)
        }
    }
}

/// One service the wizard offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceItem {
    pub service: ClusterObjectRef,
    /// What the list shows: `reviews.bookinfo@mgmt-cluster   9080 (http)`, plus a mark
    /// for services SMH would not discover.
    pub label: String,
    pub sidecars: bool,
}

/// A port as the lists show it: `9080/http`, or `9080` when unnamed.
fn short_port(p: &smh_core::model::topology::ServicePort) -> String {
    if p.name.is_empty() {
        p.port.to_string()
    } else {
        format!("{}/{}", p.port, p.name)
    }
}

/// Cut `s` to `width` characters, ending in `…` when cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Every service of the topology: those backed by sidecar workloads first, then by
/// namespace, name and cluster (so one service's copies in several clusters are
/// neighbours); those without sidecars last, marked. Labels are cut to `width` characters
/// so that no line wraps (a wrapped line breaks the redrawing of a selection).
pub(crate) fn service_items(topology: &Topology, width: usize) -> Vec<ServiceItem> {
    let mut rows: Vec<(bool, ClusterObjectRef, String)> = topology
        .clusters
        .iter()
        .flat_map(|c| {
            c.services.iter().map(move |s| {
                let ports: Vec<String> = port_choices(s).into_iter().map(short_port).collect();
                let shown = match ports.len() {
                    0 => "no TCP port".to_string(),
                    1..=3 => ports.join(", "),
                    n => format!("{}, +{} more", ports[..2].join(", "), n - 2),
                };
                (
                    s.sidecar_workloads,
                    ClusterObjectRef {
                        name: s.name.clone(),
                        namespace: s.namespace.clone(),
                        cluster_name: c.name.clone(),
                    },
                    shown,
                )
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (!a.0, &a.1.namespace, &a.1.name, &a.1.cluster_name).cmp(&(
            !b.0,
            &b.1.namespace,
            &b.1.name,
            &b.1.cluster_name,
        ))
    });
    let name_w = rows
        .iter()
        .map(|(_, r, _)| service_ref(r).chars().count())
        .max()
        .unwrap_or(0);
    rows.into_iter()
        .map(|(sidecars, service, ports)| {
            let shown = service_ref(&service);
            let mut label = format!("{shown:name_w$}  {ports}");
            if !sidecars {
                label.push_str("  (no sidecar)");
            }
            ServiceItem {
                service,
                label: fit(&label, width),
                sidecars,
            }
        })
        .collect()
}

/// The services to offer after `chosen`: not chosen yet, the primary's namespace and name
/// in other clusters first (the usual failover target), then the rest in
/// [`service_items`] order.
pub(crate) fn secondary_order(
    items: &[ServiceItem],
    chosen: &[ClusterObjectRef],
) -> Vec<ServiceItem> {
    let Some(primary) = chosen.first() else {
        return items.to_vec();
    };
    let rest = items.iter().filter(|i| !chosen.contains(&i.service));
    let (same, other): (Vec<&ServiceItem>, Vec<&ServiceItem>) = rest.partition(|i| {
        i.sidecars && i.service.name == primary.name && i.service.namespace == primary.namespace
    });
    same.into_iter().chain(other).cloned().collect()
}

/// The wizard's terminal and theme.
pub(crate) struct Wizard {
    term: Term,
    theme: ColorfulTheme,
}

impl Default for Wizard {
    fn default() -> Self {
        Wizard::new()
    }
}

impl Wizard {
    pub(crate) fn new() -> Self {
        Wizard {
            term: Term::stderr(),
            theme: ColorfulTheme::default(),
        }
    }

    fn theme(&self) -> &dyn Theme {
        &self.theme
    }

    fn say(&self, line: &str) -> io::Result<()> {
        self.term.write_line(line)
    }

    fn check_interrupt(&self) -> Result<(), WizardError> {
        if super::interrupted() {
            Err(WizardError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// A fuzzy selection; afterwards one line `✔ {report} · {what(choice)}`.
    fn fuzzy(
        &self,
        prompt: &str,
        report: &str,
        items: &[String],
        what: impl Fn(usize) -> String,
    ) -> Result<usize, WizardError> {
        let picked = FuzzySelect::with_theme(self.theme())
            .with_prompt(prompt)
            .items(items)
            .default(0)
            .max_length(15)
            .report(false)
            .interact_on_opt(&self.term)?;
        self.check_interrupt()?;
        let i = picked.ok_or(WizardError::Cancelled)?;
        let mut line = String::new();
        if self
            .theme
            .format_input_prompt_selection(&mut line, report, &what(i))
            .is_ok()
        {
            self.say(&line)?;
        }
        Ok(i)
    }

    fn input<T>(
        &self,
        prompt: &str,
        default: Option<T>,
        check: impl FnMut(&String) -> Result<(), String>,
    ) -> Result<String, WizardError>
    where
        T: ToString,
    {
        let mut input = Input::<String>::with_theme(self.theme())
            .with_prompt(prompt)
            .validate_with(check);
        if let Some(d) = default {
            input = input.default(d.to_string());
        }
        let v = input.interact_text_on(&self.term)?;
        self.check_interrupt()?;
        Ok(v.trim().to_string())
    }

    fn confirm(&self, prompt: &str, default: bool) -> Result<bool, WizardError> {
        let v = Confirm::with_theme(self.theme())
            .with_prompt(prompt)
            .default(default)
            .interact_on_opt(&self.term)?;
        self.check_interrupt()?;
        v.ok_or(WizardError::Cancelled)
    }

    /// Which kubeconfig contexts to read, before anything is contacted: indexes into
    /// `choices.offered`, the management context checked at first.
    pub(crate) fn choose_contexts(
        &self,
        choices: &super::ContextChoices,
    ) -> Result<Vec<usize>, WizardError> {
        self.say(
            "Neither --cluster nor the registry maps a cluster, so choose the kubeconfig contexts to read (each as\nthe cluster of the same name). Only the management context and these are contacted.",
        )?;
        let width = usize::from(self.term.size().1).saturating_sub(3).max(40);
        let labels: Vec<String> = choices.offered.iter().map(|(_, l)| fit(l, width)).collect();
        let mut checked = vec![false; labels.len()];
        for &i in &choices.preselected {
            checked[i] = true;
        }
        let picked = MultiSelect::with_theme(self.theme())
            .with_prompt("Read which contexts? (space toggles, enter confirms)")
            .items(&labels)
            .defaults(&checked)
            .interact_on_opt(&self.term)?;
        self.check_interrupt()?;
        picked.ok_or(WizardError::Cancelled)
    }

    /// Ask what `opts` leaves open; return the complete request.
    pub(crate) fn run(
        &self,
        live: &Live,
        opts: &CreateOptions,
    ) -> Result<CreateRequest, WizardError> {
        let mut opts = opts.clone();
        self.say(
            "Create a FailoverService: its backing services in priority order, name, hostname, port, outlier\ndetection, and whose traffic to shift to it. Nothing changes until you confirm; Ctrl-C quits.\nServices marked (no sidecar) have no pod with an Istio sidecar: SMH would not discover them.",
        )?;
        // The selection prefix takes 2 columns; keep one spare.
        let width = usize::from(self.term.size().1).saturating_sub(3).max(40);
        let items = service_items(live.topology, width);
        if !items.iter().any(|i| i.sidecars) {
            return Err(WizardError::Nothing(
                "no Service backed by pods with an Istio sidecar was found in any cluster, so there is nothing to fail over".to_string(),
            ));
        }

        self.backing_services(&items, &mut opts)?;
        self.say(&format!(
            "Priority order: {}",
            opts.backing
                .iter()
                .enumerate()
                .map(|(i, r)| format!("{}. {}", i + 1, service_ref(r)))
                .collect::<Vec<_>>()
                .join("  ")
        ))?;
        let primary = opts.backing[0].clone();

        self.name_and_hostname(live, &primary, &mut opts)?;
        self.port_and_protocol(live, &primary, &mut opts)?;
        // 4. Outlier detection.
        self.outlier(live, &mut opts)?;

        self.traffic_shift(&mut opts)?;
        self.zero_loss(&mut opts)?;

        build::resolve(&opts, live).map_err(WizardError::Build)
    }

    /// Step 1: the backing services, in priority order (`opts.backing` grows).
    fn backing_services(
        &self,
        items: &[ServiceItem],
        opts: &mut CreateOptions,
    ) -> Result<(), WizardError> {
        // 1. Backing services, in priority order: the primary, the second, then more
        // until "done".
        loop {
            let n = opts.backing.len();
            let offered = secondary_order(items, &opts.backing);
            if !offered.iter().any(|i| i.sidecars) {
                if n >= 2 {
                    break;
                }
                return Err(WizardError::Nothing(format!(
                    "a FailoverService needs two backing services, and only {n} Service backed by Istio sidecars was found"
                )));
            }
            let (prompt, report, mut labels) = match n {
                0 => (
                    "Primary backing service (type to filter)".to_string(),
                    "Primary".to_string(),
                    Vec::new(),
                ),
                1 => (
                    "Backing service 2, failed over to (type to filter)".to_string(),
                    "Backing service 2".to_string(),
                    Vec::new(),
                ),
                _ => (
                    format!("Backing service {} (or done)", n + 1),
                    format!("Backing service {}", n + 1),
                    vec![format!("(done: {n} backing services)")],
                ),
            };
            let offset = labels.len();
            labels.extend(offered.iter().map(|i| i.label.clone()));
            let i = self.fuzzy(&prompt, &report, &labels, |i| {
                if i < offset {
                    "done".to_string()
                } else {
                    service_ref(&offered[i - offset].service)
                }
            })?;
            if i < offset {
                break;
            }
            self.accept(&offered[i - offset], &mut opts.backing)?;
        }
        Ok(())
    }

    /// Step 2: the name (not one that exists in the namespace) and the `.global` hostname.
    fn name_and_hostname(
        &self,
        live: &Live,
        primary: &ClusterObjectRef,
        opts: &mut CreateOptions,
    ) -> Result<(), WizardError> {
        // 2. Name and hostname.
        if opts.name.is_none() {
            let existing: Vec<String> = live
                .existing
                .iter()
                .filter_map(|m| match &m.object {
                    SmhObject::FailoverService(fs)
                        if fs.metadata.namespace.as_deref() == Some(opts.namespace.as_str()) =>
                    {
                        fs.metadata.name.clone()
                    }
                    _ => None,
                })
                .collect();
            let ns = opts.namespace.clone();
            let name = self.input(
                &format!("Name (namespace {ns})"),
                Some(build::default_name(primary)),
                |v: &String| {
                    let v = v.trim();
                    let errs = k8s::is_dns1123_subdomain(v);
                    if !errs.is_empty() {
                        return Err(errs.join("; "));
                    }
                    if existing.iter().any(|e| e == v) {
                        return Err(format!(
                            "{} {ns}/{v} already exists; choose another name",
                            FailoverService::KIND
                        ));
                    }
                    Ok(())
                },
            )?;
            opts.name = Some(name);
        }
        let name = opts.name.clone().unwrap_or_default();
        if opts.hostname.is_none() {
            let hostname = self.input(
                "Hostname (ends in .global)",
                Some(build::default_hostname(&name, primary)),
                |v: &String| {
                    let v = v.trim();
                    if !v.ends_with(".global") {
                        return Err(format!(
                            "Provided hostname {v} is missing required suffix \".global\"."
                        ));
                    }
                    let errs = k8s::smh_is_dns1123_subdomain(v);
                    if errs.is_empty() {
                        Ok(())
                    } else {
                        Err(errs.join(", "))
                    }
                },
            )?;
            opts.hostname = Some(hostname);
        }
        Ok(())
    }

    /// Step 3: the port (chosen among the primary Service's, if it has several) and its
    /// protocol.
    fn port_and_protocol(
        &self,
        live: &Live,
        primary: &ClusterObjectRef,
        opts: &mut CreateOptions,
    ) -> Result<(), WizardError> {
        // 3. Port and protocol.
        let ports: Vec<_> = live.service(primary).map(port_choices).unwrap_or_default();
        if opts.port.is_none() {
            let port = match ports.as_slice() {
                [one] => self.port_input(Some(one.port))?,
                [] => self.port_input(None)?,
                many => {
                    let labels: Vec<String> = many.iter().map(|p| describe_port(p)).collect();
                    let i = Select::with_theme(self.theme())
                        .with_prompt(format!("Port ({} has several)", service_ref(primary)))
                        .items(&labels)
                        .default(0)
                        .interact_on_opt(&self.term)?;
                    self.check_interrupt()?;
                    many[i.ok_or(WizardError::Cancelled)?].port
                }
            };
            opts.port = Some(port);
        }
        if opts.protocol.is_none() {
            let default = ports
                .iter()
                .find(|p| Some(p.port) == opts.port)
                .map(|p| port_protocol(p))
                .unwrap_or_else(|| "http".to_string());
            let protocol = self.input("Protocol", Some(default), |v: &String| {
                if is_istio_protocol(v.trim()) {
                    Ok(())
                } else {
                    Err(format!(
                        "Invalid protocol for port: {} (use http, https, grpc, http2, tcp, tls or mongo)",
                        v.trim()
                    ))
                }
            })?;
            opts.protocol = Some(protocol.to_ascii_lowercase());
        }
        Ok(())
    }

    /// Step 5: whose traffic to shift to the FailoverService (the primary checked at first).
    fn traffic_shift(&self, opts: &mut CreateOptions) -> Result<(), WizardError> {
        // 5. Traffic shift.
        if opts.shift_from.is_empty() {
            let labels: Vec<String> = opts
                .backing
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    if i == 0 {
                        format!("{} (the primary)", service_ref(r))
                    } else {
                        service_ref(r)
                    }
                })
                .collect();
            let checked: Vec<bool> = (0..labels.len()).map(|i| i == 0).collect();
            let chosen = MultiSelect::with_theme(self.theme())
                .with_prompt("Shift whose traffic to it? (space toggles, enter confirms)")
                .items(&labels)
                .defaults(&checked)
                .interact_on_opt(&self.term)?;
            self.check_interrupt()?;
            let chosen = chosen.ok_or(WizardError::Cancelled)?;
            opts.shift_from = chosen
                .into_iter()
                .map(|i| opts.backing[i].clone())
                .collect();
        }
        Ok(())
    }

    fn accept(&self, item: &ServiceItem, backing: &mut Vec<ClusterObjectRef>) -> io::Result<()> {
        if item.sidecars {
            backing.push(item.service.clone());
        } else {
            self.say(&format!(
                "  {} is not backed by pods with an Istio sidecar: Service Mesh Hub would not discover it, so it cannot back a FailoverService. Pick another.",
                service_ref(&item.service)
            ))?;
        }
        Ok(())
    }

    fn port_input(&self, default: Option<u32>) -> Result<u32, WizardError> {
        let v = self.input("Port", default, |v: &String| {
            match v.trim().parse::<u32>() {
                Ok(p) if (1..=65535).contains(&p) => Ok(()),
                _ => Err("must be between 1 and 65535, inclusive".to_string()),
            }
        })?;
        v.parse::<u32>()
            .map_err(|_| WizardError::Nothing(format!("invalid port {v:?}")))
    }

    /// Step 6: retries on the traffic shift for a failover that loses no request (unless
    /// `--zero-loss` answered it, or nothing is shifted).
    fn zero_loss(&self, opts: &mut CreateOptions) -> Result<(), WizardError> {
        if opts.shift_from.is_empty() || opts.shift_retries.is_some() {
            return Ok(());
        }
        self.say(&format!(
            "Zero-loss failover: with Istio's default retries, about 1 s of requests fail when the primary's pods are replaced by pods that serve nothing (Envoy applies the ejections only after its 1 s update merge window). With {} retries on the traffic shift they are retried until Envoy fails over. Trade-off: {}.",
            zero_loss::RETRY_ATTEMPTS,
            zero_loss::TRADE_OFF
        ))?;
        if self.confirm(
            &format!(
                "Retry {} times on the traffic shift (retries: {{attempts: {}}})?",
                zero_loss::RETRY_ATTEMPTS,
                zero_loss::RETRY_ATTEMPTS
            ),
            false,
        )? {
            opts.shift_retries = Some(zero_loss::retries());
        }
        Ok(())
    }

    fn outlier(&self, live: &Live, opts: &mut CreateOptions) -> Result<(), WizardError> {
        let coverage = build::outlier_coverage(&opts.backing, live);
        for c in coverage.iter().flatten() {
            self.say(&format!(
                "Outlier detection: {} already has it from TrafficPolicy {}/{} ({}); reused.",
                service_ref(&c.service),
                c.policy.namespace,
                c.policy.name,
                c.values.effective()
            ))?;
        }
        let uncovered: Vec<String> = opts
            .backing
            .iter()
            .zip(&coverage)
            .filter(|(_, c)| c.is_none())
            .map(|(r, _)| service_ref(r))
            .collect();
        if uncovered.is_empty() || opts.outlier.is_set() {
            return Ok(());
        }
        let defaults = EffectiveOutlier::smh_default();
        self.say(&format!(
            "Outlier detection for {} (SMH's defaults: {defaults}).",
            uncovered.join(", ")
        ))?;
        if self.confirm("Use these outlier detection values?", true)? {
            return Ok(());
        }
        let errors = self.input(
            "Consecutive errors before ejecting a host",
            Some(defaults.consecutive_errors),
            |v: &String| match v.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Ok(()),
                _ => Err("a whole number, at least 1".to_string()),
            },
        )?;
        let interval =
            self.duration_input("Interval between ejection sweeps", defaults.interval)?;
        let base = self.duration_input(
            "Base ejection time (multiplied by the times a host was ejected)",
            defaults.base_ejection_time,
        )?;
        let percent = self.input(
            "Max ejection percent",
            Some(defaults.max_ejection_percent),
            |v: &String| match v.trim().parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) => Ok(()),
                _ => Err("a whole number from 1 to 100".to_string()),
            },
        )?;
        let effective = EffectiveOutlier {
            consecutive_errors: errors.parse().unwrap_or(defaults.consecutive_errors),
            interval,
            base_ejection_time: base,
            max_ejection_percent: percent.parse().unwrap_or(defaults.max_ejection_percent),
        };
        if effective.max_ejection_percent < 100 {
            self.say(&format!(
                "warning: maxEjectionPercent {} is below 100: Envoy (1.28 and later) then ejects no host of a service with few endpoints, and failover never starts.",
                effective.max_ejection_percent
            ))?;
        }
        opts.outlier = OutlierFlags::from_effective(effective);
        Ok(())
    }

    fn duration_input(&self, prompt: &str, default: Duration) -> Result<Duration, WizardError> {
        let v = self.input(
            prompt,
            Some(format_proto_duration(default)),
            |v: &String| match parse_duration(v) {
                Ok(d) if !d.is_zero() => Ok(()),
                Ok(_) => Err("must be more than 0".to_string()),
                Err(e) => Err(e),
            },
        )?;
        Ok(parse_duration(&v).unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPOLOGY: &str = "
clusters:
- name: mgmt-cluster
  mesh: {version: 1.24.2}
  services:
  - {name: reviews, namespace: bookinfo, ports: [{name: http, port: 9080}]}
  - {name: ratings, namespace: bookinfo, ports: [{name: http, port: 9080}]}
  - name: istiod
    namespace: istio-system
    sidecarWorkloads: false
    ports: [{name: grpc-xds, port: 15010}, {name: https-dns, port: 15012}, {name: https-webhook, port: 443}, {name: http-monitoring, port: 15014}, {name: dns, port: 53, protocol: UDP}]
- name: remote-cluster
  mesh: {version: 1.24.2}
  services:
  - {name: reviews, namespace: bookinfo, ports: [{port: 9080}]}
  - {name: frontend, namespace: apps, ports: []}
";

    fn topology() -> Topology {
        Topology::parse_bytes("t.yaml", TOPOLOGY.as_bytes()).unwrap()
    }

    fn labels(items: &[ServiceItem]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    #[test]
    fn services_with_sidecars_first_grouped_by_service() {
        let items = service_items(&topology(), 200);
        assert_eq!(
            labels(&items),
            [
                "frontend.apps@remote-cluster      no TCP port",
                "ratings.bookinfo@mgmt-cluster     9080/http",
                "reviews.bookinfo@mgmt-cluster     9080/http",
                "reviews.bookinfo@remote-cluster   9080",
                "istiod.istio-system@mgmt-cluster  443/https-webhook, 15010/grpc-xds, +2 more  (no sidecar)",
            ]
        );
        assert!(!items[4].sidecars && items[3].sidecars);
    }

    #[test]
    fn labels_never_wrap() {
        let items = service_items(&topology(), 50);
        for i in &items {
            assert!(i.label.chars().count() <= 50, "{:?}", i.label);
        }
        assert_eq!(
            items[4].label,
            "istiod.istio-system@mgmt-cluster  443/https-webho…"
        );
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }

    #[test]
    fn the_primary_in_other_clusters_comes_next() {
        let items = service_items(&topology(), 200);
        let primary = items[2].service.clone();
        assert_eq!(service_ref(&primary), "reviews.bookinfo@mgmt-cluster");
        let next = secondary_order(&items, std::slice::from_ref(&primary));
        let refs: Vec<String> = next.iter().map(|i| service_ref(&i.service)).collect();
        assert_eq!(
            refs,
            [
                "reviews.bookinfo@remote-cluster",
                "frontend.apps@remote-cluster",
                "ratings.bookinfo@mgmt-cluster",
                "istiod.istio-system@mgmt-cluster",
            ]
        );
        // Nothing chosen: everything, in list order.
        assert_eq!(secondary_order(&items, &[]), items);
    }
}
