//! Which global flags each command honours, and the check that refuses the others.
//!
//! The global flags (`--kubeconfig`, `-n`, `-o`, `--istio-mode`, ...) are accepted before or
//! after any command, as kubectl accepts its own. A flag a command would not use is refused
//! (exit 2, naming the flag) instead of being accepted and ignored: `kubectl smh validate
//! --kubeconfig prod.yaml` must not look as if it had checked something against `prod`.
//! Only flags given on the command line are checked; `NO_COLOR` in the environment and the
//! defaults are not.
//!
//! [`HONOURED`] is the one table; a test (`tests/global_flags.rs`) runs every command with
//! every global flag, from clap's own definitions, and fails for a command or flag missing
//! here.

use anyhow::anyhow;
use clap::ArgMatches;
use clap::parser::ValueSource;

use super::CmdError;

/// Global flags, by their long name.
pub(crate) const KUBECONFIG: &str = "kubeconfig";
pub(crate) const MGMT_CONTEXT: &str = "mgmt-context";
pub(crate) const CLUSTER: &str = "cluster";
pub(crate) const NAMESPACE: &str = "namespace";
pub(crate) const OUTPUT: &str = "output";
pub(crate) const ISTIO_MODE: &str = "istio-mode";
pub(crate) const REQUEST_TIMEOUT: &str = "request-timeout";
pub(crate) const RETRY_TIMEOUT: &str = "retry-timeout";
pub(crate) const YES: &str = "yes";
pub(crate) const NO_COLOR: &str = "no-color";
pub(crate) const VERBOSE: &str = "verbose";

/// Every command (by its path under `kubectl smh`) and the global flags it honours (by long
/// name). A command with subcommands is listed by its leaves; `drill` is both a command and
/// the parent of `drill restore`.
pub const HONOURED: &[(&str, &[&str])] = &[
    // Server versions of the mgmt cluster and of the mapped clusters.
    (
        "version",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            OUTPUT,
            VERBOSE,
        ],
    ),
    ("completion", &[]),
    // Offline: the namespace of manifests without one; the mode does not change validation.
    ("validate", &[NAMESPACE, OUTPUT, NO_COLOR]),
    ("translate", &[NAMESPACE, OUTPUT, ISTIO_MODE, NO_COLOR]),
    // The mgmt cluster only.
    (
        "install",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            VERBOSE,
        ],
    ),
    // The registry; `register` checks the context in the kubeconfig.
    ("cluster register", &[KUBECONFIG]),
    ("cluster list", &[KUBECONFIG, CLUSTER, OUTPUT]),
    ("cluster deregister", &[]),
    (
        "apply",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            NO_COLOR,
            VERBOSE,
        ],
    ),
    (
        "failover create",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            YES,
            NO_COLOR,
            VERBOSE,
        ],
    ),
    // Every namespace of the mgmt cluster.
    (
        "failover list",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            OUTPUT,
            VERBOSE,
        ],
    ),
    (
        "failover delete",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            YES,
            VERBOSE,
        ],
    ),
    (
        "failover test",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            VERBOSE,
        ],
    ),
    (
        "describe",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            VERBOSE,
        ],
    ),
    (
        "check",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            NO_COLOR,
            VERBOSE,
        ],
    ),
    (
        "drill",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            ISTIO_MODE,
            YES,
            VERBOSE,
        ],
    ),
    (
        "drill restore",
        &[
            KUBECONFIG,
            MGMT_CONTEXT,
            CLUSTER,
            REQUEST_TIMEOUT,
            RETRY_TIMEOUT,
            NAMESPACE,
            OUTPUT,
            VERBOSE,
        ],
    ),
    // The demo's own simulated clusters and kubeconfig.
    ("demo up", &[]),
    (
        "demo guide",
        &[REQUEST_TIMEOUT, RETRY_TIMEOUT, NO_COLOR, VERBOSE],
    ),
    ("demo manifests", &[]),
];

/// The global flags `command` honours; `None` for a command not in [`HONOURED`].
pub fn honoured(command: &str) -> Option<&'static [&'static str]> {
    HONOURED
        .iter()
        .find(|(c, _)| *c == command)
        .map(|(_, flags)| *flags)
}

/// The commands that honour `flag`, for the message that refuses it.
fn commands_honouring(flag: &str) -> Vec<&'static str> {
    HONOURED
        .iter()
        .filter(|(_, flags)| flags.contains(&flag))
        .map(|(c, _)| *c)
        .collect()
}

/// Why a flag does not apply to a command, where there is more to say than "remove it".
/// `value`: the flag's value on the command line, if it has one.
fn hint(command: &str, flag: &str, value: Option<&str>) -> Option<String> {
    Some(match (command, flag) {
        ("demo up" | "demo guide", ISTIO_MODE) => {
            return Some(format!(
                "the demo's clusters are built in the mode --mode names: use --mode {}",
                value.unwrap_or("MODE")
            ));
        }
        (
            "demo guide",
            KUBECONFIG | MGMT_CONTEXT | CLUSTER | NAMESPACE | OUTPUT | YES,
        ) => "the guide runs on its own simulated clusters, with its own kubeconfig, and never asks",
        ("demo up", KUBECONFIG) => {
            "the demo writes its kubeconfig where --kubeconfig-out says"
        }
        ("validate", ISTIO_MODE) => {
            "validation does not depend on the mode; `kubectl smh translate --istio-mode MODE` shows what a mode generates"
        }
        (
            "validate" | "translate",
            KUBECONFIG | MGMT_CONTEXT | CLUSTER | REQUEST_TIMEOUT | RETRY_TIMEOUT,
        ) => {
            "it reads no cluster (describe the clusters with --topology FILE)"
        }
        ("failover list", NAMESPACE) => "it lists the FailoverServices of every namespace",
        ("version", KUBECONFIG | MGMT_CONTEXT | CLUSTER | REQUEST_TIMEOUT | RETRY_TIMEOUT) => {
            "with --client it reads no kubeconfig and contacts no cluster"
        }
        ("failover list" | "install", CLUSTER) => "it reads the management cluster only",
        (_, YES) => "it never asks for confirmation",
        _ => return None,
    }
    .to_string())
}

/// The path of the command `matches` ran (`failover create`), and the matches of that
/// command (where the global flags given anywhere on the line are found).
pub(crate) fn command_of(matches: &ArgMatches) -> (String, &ArgMatches) {
    let mut path: Vec<&str> = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        path.push(name);
        m = sub;
    }
    (path.join(" "), m)
}

/// What `version --client` honours: it reads no kubeconfig and contacts no cluster.
const VERSION_CLIENT: &[&str] = &[OUTPUT];

/// The global flags the command honours with the arguments it was given, and how to call
/// the command in a message: [`honoured`], except for `version --client`.
fn honoured_with(command: &str, m: &ArgMatches) -> Option<(String, &'static [&'static str])> {
    let client = command == "version"
        && m.try_get_one::<bool>("client")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false);
    if client {
        return Some(("version --client".to_string(), VERSION_CLIENT));
    }
    honoured(command).map(|h| (command.to_string(), h))
}

/// Refuses a global flag given on the command line that the command does not honour: exit
/// 2, naming the flag, why, and the commands it applies to.
pub(crate) fn check(root: &clap::Command, matches: &ArgMatches) -> Result<(), CmdError> {
    let (command, m) = command_of(matches);
    let Some((shown, honoured)) = honoured_with(&command, m) else {
        return Ok(());
    };
    for arg in root.get_arguments().filter(|a| a.is_global_set()) {
        let Some(long) = arg.get_long() else { continue };
        let id = arg.get_id().as_str();
        let given = matches!(m.value_source(id), Some(ValueSource::CommandLine));
        if !given || honoured.contains(&long) {
            continue;
        }
        let value = m
            .get_raw(id)
            .and_then(|mut v| v.next())
            .map(|v| v.to_string_lossy().into_owned());
        let why = hint(&command, long, value.as_deref())
            .map(|h| format!(": {h}"))
            .unwrap_or_default();
        let users = commands_honouring(long);
        let elsewhere = if users.is_empty() {
            String::new()
        } else {
            format!(" (it applies to: {})", users.join(", "))
        };
        return Err(CmdError::invalid(anyhow!(
            "--{long} does not apply to `kubectl smh {shown}`{why}; remove it{elsewhere}"
        )));
    }
    Ok(())
}
