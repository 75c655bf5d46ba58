//! The drill's flags as clap parses them.

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};

fn parse(args: &[&str]) -> Result<Args, clap::Error> {
    let mut v = vec!["kubectl-smh", "drill"];
    v.extend_from_slice(args);
    Cli::try_parse_from(v).map(|cli| match cli.command {
        Command::Drill(a) => a,
        other => panic!("{other:?}"),
    })
}

#[test]
fn drill_with_flags() {
    let a = parse(&[
        "reviews-failover",
        "--break",
        "bookinfo/reviews-v1",
        "--break",
        "mgmt-cluster:bookinfo/reviews-v2",
        "--probe-rate",
        "20",
        "--failover-timeout",
        "90s",
        "--max-errors",
        "5",
        "--expect-failover",
        "color=\"red\"",
        "--dry-run",
        "-o",
        "json",
    ])
    .unwrap();
    assert!(a.command.is_none());
    assert_eq!(a.failover_service(), Some("reviews-failover"));
    let o = a.flags.options();
    assert_eq!(o.breaks.len(), 2);
    assert_eq!(o.breaks[1].cluster.as_deref(), Some("mgmt-cluster"));
    assert_eq!(o.probe_rate, Some(20.0));
    assert_eq!(o.failover_timeout, Some(Duration::from_secs(90)));
    assert_eq!(o.max_errors, Some(5));
    assert_eq!(o.expect_failover.as_deref(), Some("color=\"red\""));
    assert!(a.flags.dry_run);
    assert_eq!(o.failback_timeout, None, "default computed by the plan");
}

#[test]
fn restore_subcommand() {
    let a = parse(&["restore", "reviews-failover", "--id", "x-1"]).unwrap();
    match a.command {
        Some(DrillCommand::Restore(r)) => {
            assert_eq!(r.name, "reviews-failover");
            assert_eq!(r.id.as_deref(), Some("x-1"));
            assert!(!r.dry_run);
        }
        other => panic!("{other:?}"),
    }
    let a = parse(&["--name", "restore"]).unwrap();
    assert!(a.command.is_none());
    assert_eq!(a.failover_service(), Some("restore"));
}

#[test]
fn bad_input_is_rejected() {
    assert!(parse(&[]).is_err(), "NAME is required");
    assert!(parse(&["restore"]).is_err(), "restore needs NAME");
    let e = parse(&["x", "--break", "Bad/Name"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid namespace"), "{e}");
    let e = parse(&["x", "--expect-primary", "(oops"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid regular expression"), "{e}");
    let e = parse(&["x", "--failover-timeout", "soon"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid duration"), "{e}");
    assert!(parse(&["restore", "x", "--break", "a/b"]).is_err());
}

#[test]
fn help_reads_kubectl_smh() {
    let e = parse(&["--help"]).unwrap_err();
    let help = e.to_string();
    assert!(
        help.contains("Usage: kubectl smh drill [OPTIONS] [NAME]"),
        "{help}"
    );
    assert!(help.contains("Safety: before the first patch"), "{help}");
    assert!(help.contains("kubectl smh drill restore reviews-failover"));
    assert!(help.contains("--probe-workload"));
}
