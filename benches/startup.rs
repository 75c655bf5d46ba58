//! `kubectl smh version` start-up: wall time and peak memory, next to kubectl's own
//! `version --client` measured in the same run (the target: under 5 ms and 10 MiB).
//!
//! Run: `cargo bench --bench startup` (set `SMH_KUBECTL` to compare another kubectl).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 50;

struct Figures {
    p50: Duration,
    min: Duration,
    max_rss_kib: i64,
}

fn measure(program: &str, args: &[&str]) -> Option<Figures> {
    let mut times = Vec::with_capacity(RUNS);
    let mut max_rss = 0;
    for _ in 0..RUNS + 3 {
        let start = Instant::now();
        let child = Command::new(program)
            .args(args)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let pid = child.id() as libc::pid_t;
        let mut status = 0;
        // SAFETY: rusage is plain data; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: our own child's pid, and pointers to the two locals above.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let elapsed = start.elapsed();
        std::mem::forget(child); // already reaped by wait4
        if rc != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            return None;
        }
        times.push(elapsed);
        max_rss = max_rss.max(usage.ru_maxrss);
    }
    times.drain(..3); // warm-up
    times.sort();
    Some(Figures {
        p50: times[times.len() / 2],
        min: times[0],
        max_rss_kib: max_rss,
    })
}

fn print(label: &str, f: &Figures) {
    println!(
        "{label:<36} p50 {:>7.2} ms   min {:>7.2} ms   peak RSS {:>6.1} MiB",
        f.p50.as_secs_f64() * 1e3,
        f.min.as_secs_f64() * 1e3,
        f.max_rss_kib as f64 / 1024.0
    );
}

fn main() {
    let ours = env!("CARGO_BIN_EXE_kubectl-smh");
    println!("{RUNS} runs each, after 3 warm-up runs; KUBECONFIG points at a missing file");
    // `version` with no kubeconfig prints the client version and a note that no server
    // version can be shown; `version --client` is the like-for-like comparison with kubectl.
    let mut ok = true;
    let mut client = None;
    for args in [&["version"][..], &["version", "--client"][..]] {
        let label = format!("kubectl-smh {}", args.join(" "));
        let Some(f) = measure(ours, args) else {
            eprintln!("`{ours} {}` did not run successfully", args.join(" "));
            std::process::exit(1);
        };
        print(&label, &f);
        ok &= f.p50 < Duration::from_millis(5) && f.max_rss_kib < 10 * 1024;
        client = Some(f);
    }
    let smh = client.expect("measured above");
    let kubectl = std::env::var("SMH_KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    match measure(&kubectl, &["version", "--client"]) {
        Some(k) => {
            print(&format!("{kubectl} version --client"), &k);
            println!(
                "ratio (kubectl-smh / kubectl, version --client): time {:.2}, memory {:.2}",
                smh.p50.as_secs_f64() / k.p50.as_secs_f64(),
                smh.max_rss_kib as f64 / k.max_rss_kib as f64
            );
        }
        None => println!("{kubectl} not found: no comparison"),
    }
    println!(
        "target (p50 < 5 ms, peak RSS < 10 MiB, both commands): {}",
        if ok { "met" } else { "NOT met" }
    );
}
