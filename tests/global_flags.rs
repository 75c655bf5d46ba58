//! Every command with every global flag: each is either honoured or refused (exit 2, naming
//! the flag), never accepted and ignored.
//!
//! Commands and global flags come from clap's own definitions, so a new command or flag
//! without a decision in `kubectl_smh::cli::flags::HONOURED` fails here. Every combination
//! is parsed in process (the check the binary runs before any handler); then, through the
//! binary, the honoured flags that can be seen offline are shown to take effect, and a
//! refused one to end the command before it reads anything.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use kubectl_smh::cli::flags::{HONOURED, honoured};
use kubectl_smh::cli::{Cli, Exit, Parsed, parse};

/// Arguments that get each command past its own required arguments and, offline, past its
/// own checks up to the point where it reads the kubeconfig (no terminal: `--dry-run` where
/// the command would otherwise ask).
fn args_of(command: &str) -> Vec<&'static str> {
    match command {
        "version" | "cluster list" | "failover list" | "check" | "describe" | "install" => {
            vec![]
        }
        "completion" => vec!["bash"],
        "validate" | "translate" | "apply" => vec!["-f", "examples/guide/"],
        "cluster register" => vec!["remote-cluster", "--context", "ctx-a"],
        "cluster deregister" => vec!["remote-cluster"],
        "failover create" => vec![
            "reviews-failover",
            "--backing",
            "reviews.bookinfo@mgmt-cluster",
            "--backing",
            "reviews.bookinfo@remote-cluster",
            "--dry-run",
        ],
        "failover delete" | "failover test" | "drill restore" => vec!["reviews-failover"],
        "drill" => vec!["reviews-failover", "--dry-run"],
        "demo up" | "demo guide" | "demo manifests" => vec![],
        other => panic!("no arguments known for `kubectl smh {other}`: add them to args_of"),
    }
}

/// A value for each global flag that takes one.
fn sample_value(flag: &str) -> &'static str {
    match flag {
        "kubeconfig" => "/nonexistent/kubeconfig",
        "mgmt-context" => "no-such-context",
        "cluster" => "remote-cluster=ctx-a",
        "namespace" => "other-ns",
        "output" => "yaml",
        "istio-mode" => "multi-primary",
        "request-timeout" => "5s",
        "retry-timeout" => "5s",
        other => panic!("no sample value for --{other}: add one to sample_value"),
    }
}

/// Every command that can be run, by its path: leaves, and commands whose subcommand is
/// optional (`drill`).
fn commands() -> Vec<String> {
    fn walk(c: &clap::Command, path: &mut Vec<String>, out: &mut Vec<String>) {
        let subs: Vec<&clap::Command> = c
            .get_subcommands()
            .filter(|s| s.get_name() != "help" && !s.is_hide_set())
            .collect();
        if !path.is_empty() && (subs.is_empty() || !c.is_subcommand_required_set()) {
            out.push(path.join(" "));
        }
        for s in subs {
            path.push(s.get_name().to_string());
            walk(s, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &mut Vec::new(), &mut out);
    out
}

/// The global flags: `(long name, takes a value)`.
fn global_flags() -> Vec<(String, bool)> {
    Cli::command()
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(|a| {
            let long = a.get_long()?.to_string();
            let takes = matches!(
                a.get_action(),
                clap::ArgAction::Set | clap::ArgAction::Append
            );
            Some((long, takes))
        })
        .collect()
}

/// `--flag [value]`.
fn flag_words(flag: Option<(&str, bool)>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some((f, takes)) = flag {
        v.push(format!("--{f}"));
        if takes {
            v.push(sample_value(f).to_string());
        }
    }
    v
}

/// `kubectl-smh COMMAND ARGS [--flag [value]]`.
fn line(command: &str, flag: Option<(&str, bool)>) -> Vec<String> {
    let mut v = vec!["kubectl-smh".to_string()];
    v.extend(command.split(' ').map(String::from));
    v.extend(args_of(command).into_iter().map(String::from));
    v.extend(flag_words(flag));
    v
}

/// `kubectl-smh --flag [value] COMMAND ARGS`: kubectl's order.
fn line_flag_first(command: &str, flag: Option<(&str, bool)>) -> Vec<String> {
    let mut v = vec!["kubectl-smh".to_string()];
    v.extend(flag_words(flag));
    v.extend(command.split(' ').map(String::from));
    v.extend(args_of(command).into_iter().map(String::from));
    v
}

#[test]
fn the_table_decides_every_command_and_flag() {
    let commands = commands();
    let flags: BTreeSet<String> = global_flags().into_iter().map(|(f, _)| f).collect();
    for c in &commands {
        assert!(
            honoured(c).is_some(),
            "`kubectl smh {c}` has no row in cli::flags::HONOURED: decide which global flags it honours"
        );
    }
    for (c, fs) in HONOURED {
        assert!(
            commands.iter().any(|x| x == c),
            "HONOURED lists `{c}`, which is not a command"
        );
        for f in *fs {
            assert!(
                flags.contains(*f),
                "HONOURED lists --{f} for `{c}`, which is not a global flag"
            );
        }
    }
    // Sanity: the commands this test knows about are all there.
    for c in [
        "validate",
        "failover create",
        "drill",
        "drill restore",
        "demo up",
    ] {
        assert!(commands.iter().any(|x| x == c), "{c} in {commands:?}");
    }
    assert!(flags.len() >= 10, "{flags:?}");
}

/// Every command, every global flag, parsed as the binary parses it.
#[test]
fn every_command_with_every_global_flag_is_honoured_or_refused() {
    let mut refused = 0;
    let mut accepted = 0;
    for c in commands() {
        // The command alone parses.
        if let Err(e) = parse(line(&c, None)) {
            panic!(
                "`{}` does not parse: {}",
                line(&c, None).join(" "),
                describe(&e)
            );
        }
        let honours = honoured(&c).unwrap();
        for (f, takes) in global_flags() {
            let after = line(&c, Some((&f, takes)));
            let before = line_flag_first(&c, Some((&f, takes)));
            for a in [&after, &before] {
                let shown = a.join(" ");
                match (honours.contains(&f.as_str()), parse(a.clone())) {
                    (true, Ok(_)) => accepted += 1,
                    (true, Err(e)) => panic!("`{shown}`: --{f} is honoured but: {}", describe(&e)),
                    (false, Ok(_)) => panic!("`{shown}`: --{f} was accepted; it must be refused"),
                    (false, Err(Parsed::Refused(e))) => {
                        refused += 1;
                        assert_eq!(e.exit, Exit::Invalid, "{shown}");
                        let msg = e.to_string();
                        assert!(
                            msg.starts_with(&format!("--{f} does not apply to `kubectl smh {c}`")),
                            "`{shown}`: {msg}"
                        );
                    }
                    (false, Err(Parsed::Clap(e))) => {
                        panic!("`{shown}`: clap refused it instead of the table: {e}")
                    }
                }
            }
        }
    }
    assert!(
        refused > 50 && accepted > 50,
        "{refused} refused, {accepted} accepted"
    );
}

fn describe(e: &Parsed) -> String {
    match e {
        Parsed::Clap(e) => e.to_string(),
        Parsed::Refused(e) => e.to_string(),
    }
}

/// The environment's `NO_COLOR` is not a flag on the command line: never refused.
#[test]
fn no_color_from_the_environment_is_not_refused() {
    let args = line("completion", None);
    let out = assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(&args[1..])
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------
// Through the binary
// ---------------------------------------------------------------------------------------

/// A kubeconfig with one context, `ctx-a`, whose server refuses connections at once (port 9
/// on loopback: nothing listens there).
const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: 'http://127.0.0.1:9'}
contexts:
- name: ctx-a
  context: {cluster: a, user: a}
current-context: ctx-a
users:
- name: a
  user: {}
";

fn run(dir: &Path, args: &[String]) -> (Option<i32>, String, String) {
    let kc = dir.join("kubeconfig.yaml");
    std::fs::write(&kc, KUBECONFIG).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-smh"))
        .args(&args[1..])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KUBECONFIG", &kc)
        .env("KUBECTL_SMH_CONFIG", dir.join("clusters.yaml"))
        .env("NO_COLOR", "1")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The honoured flags that name a kubeconfig, a context or a cluster mapping are read: a
/// value that cannot work is reported by every command that honours it, before any cluster
/// is contacted.
#[test]
fn cluster_flags_are_read_by_every_command_that_honours_them() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, shown) in [
        (
            "kubeconfig",
            "/nonexistent/kubeconfig",
            "/nonexistent/kubeconfig",
        ),
        ("mgmt-context", "no-such-context", "no-such-context"),
        ("cluster", "bogus-mapping", "bogus-mapping"),
    ] {
        let users: Vec<&str> = HONOURED
            .iter()
            .filter(|(_, fs)| fs.contains(&flag))
            .map(|(c, _)| *c)
            .collect();
        assert!(users.len() >= 3, "--{flag}: {users:?}");
        for c in users {
            let mut args = line(c, None);
            args.push(format!("--{flag}"));
            args.push(value.to_string());
            let (code, out, err) = run(dir.path(), &args);
            assert!(
                err.contains(shown) || out.contains(shown),
                "`{}` (exit {code:?}) did not read --{flag}:\n{out}\n{err}",
                args.join(" ")
            );
        }
    }
}

/// The offline commands honour -n and -o.
#[test]
fn offline_commands_honour_namespace_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tp.yaml");
    // No metadata.namespace: -n decides it.
    std::fs::write(
        &input,
        "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: outlier
spec:
  destinationSelector:
  - kubeServiceRefs:
      services:
      - {clusterName: mgmt-cluster, name: reviews, namespace: bookinfo}
  outlierDetection: {consecutiveErrors: 1}
",
    )
    .unwrap();
    let input = input.display().to_string();
    let args = |v: &[&str]| -> Vec<String> {
        std::iter::once("kubectl-smh")
            .chain(v.iter().copied())
            .map(String::from)
            .collect()
    };
    // validate -o json -n: the problems as JSON; none, whatever the namespace.
    let (code, out, err) = run(
        dir.path(),
        &args(&["validate", "-f", &input, "-o", "json", "-n", "team-a"]),
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!([])
    );
    // translate -n: the TrafficPolicy lives in team-a; -o json: a List.
    let (code, out, err) = run(
        dir.path(),
        &args(&["translate", "-f", &input, "-o", "json", "-n", "team-a"]),
    );
    assert_eq!(code, Some(0), "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["kind"], "List");
    assert!(
        out.contains("team-a") || list["items"].as_array().is_some_and(|i| !i.is_empty()),
        "{out}"
    );
}

/// `translate --istio-mode` overrides the topology's mode for every mesh, from
/// `--topology FILE` or derived from the manifests: the multi-primary golden output. The
/// golden's topology names Istio's cluster IDs (`cluster1`, `cluster2`); these topologies do
/// not, so the subsets select the SMH cluster names instead, and nothing else differs.
#[test]
fn translate_honours_istio_mode_offline() {
    let dir = tempfile::tempdir().unwrap();
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/guide-multi-primary.yaml"),
    )
    .unwrap()
    .replace(
        "topology.istio.io/cluster: cluster1",
        "topology.istio.io/cluster: mgmt-cluster",
    )
    .replace(
        "topology.istio.io/cluster: cluster2",
        "topology.istio.io/cluster: remote-cluster",
    );
    let args = |v: &[&str]| -> Vec<String> {
        std::iter::once("kubectl-smh")
            .chain(v.iter().copied())
            .map(String::from)
            .collect()
    };
    for extra in [
        vec![],
        vec!["--topology", "tests/data/topology/guide-global.yaml"],
    ] {
        let mut a = vec![
            "translate",
            "-f",
            "examples/guide",
            "--istio-mode",
            "multi-primary",
            // The golden is the aggregate strategy's (auto is native in multi-primary).
            "--strategy",
            "aggregate",
            "-o",
            "yaml",
        ];
        a.extend(extra.iter().copied());
        let (code, out, err) = run(dir.path(), &args(&a));
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, golden, "{a:?}");
    }
    // Without it, the global output: the flag is what changed it.
    let (code, out, _) = run(dir.path(), &args(&["translate", "-f", "examples/guide"]));
    assert_eq!(code, Some(0));
    assert_ne!(out, golden);
}

/// A refused flag ends the command with exit 2 before it reads anything: no output, one
/// line naming the flag.
#[test]
fn a_refused_flag_ends_the_command_before_anything_happens() {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "kubectl-smh",
        "validate",
        "-f",
        "examples/guide",
        "--kubeconfig",
        "/x",
    ]
    .map(String::from)
    .to_vec();
    let (code, out, err) = run(dir.path(), &args);
    assert_eq!(code, Some(2));
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: --kubeconfig does not apply to `kubectl smh validate`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // kubectl's order works too: the flag first.
    let args: Vec<String> = ["kubectl-smh", "-y", "apply", "-f", "examples/guide"]
        .map(String::from)
        .to_vec();
    let (code, out, err) = run(dir.path(), &args);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("--yes does not apply to `kubectl smh apply`"),
        "{err}"
    );
}

/// `version --client` reads no kubeconfig and contacts no cluster: the flags about them are
/// refused there; `-o` is not.
#[test]
fn version_client_refuses_the_cluster_flags() {
    let words = |v: &[&str]| -> Vec<String> {
        std::iter::once("kubectl-smh")
            .chain(v.iter().copied())
            .map(String::from)
            .collect()
    };
    assert!(parse(words(&["version", "--client", "-o", "json"])).is_ok());
    assert!(parse(words(&["version", "--kubeconfig", "/x"])).is_ok());
    for flag in [
        ["--kubeconfig", "/x"],
        ["--mgmt-context", "c"],
        ["--cluster", "a=b"],
        ["--request-timeout", "1s"],
    ] {
        let mut a = vec!["version", "--client"];
        a.extend(flag);
        match parse(words(&a)) {
            Err(Parsed::Refused(e)) => assert!(
                e.to_string().starts_with(&format!(
                    "{} does not apply to `kubectl smh version --client`: with --client it reads no kubeconfig",
                    flag[0]
                )),
                "{e}"
            ),
            Err(Parsed::Clap(e)) => panic!("{a:?}: {e}"),
            Ok(_) => panic!("{a:?} was accepted"),
        }
    }
}
