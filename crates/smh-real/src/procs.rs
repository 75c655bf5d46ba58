//! Supervision of the control planes' processes.
//!
//! Every component runs in its own process group with its stdout and stderr in
//! `<logs>/<name>.log`, and is started with a parent-death signal (SIGKILL), so that nothing
//! outlives the supervisor even when the supervisor itself is killed. [`Supervisor::stop_all`]
//! (also run on drop) sends SIGTERM to every group, waits up to [`STOP_GRACE`] and then sends
//! SIGKILL. [`Supervisor::crashed`] names the first component that exited on its own.
//!
//! The parent-death signal fires when the *thread* that started the child exits: components
//! must be started from a thread that lives as long as they should (the binary's main thread,
//! or a test's dedicated fleet thread).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How long components get between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

struct Proc {
    name: String,
    child: Child,
    exited: Option<ExitStatus>,
}

/// The processes of a fleet of control planes.
pub struct Supervisor {
    logs: PathBuf,
    procs: Mutex<Vec<Proc>>,
    stopping: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

/// A component that exited while it should have been running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The component's name (`mgmt-cluster/kube-apiserver`).
    pub name: String,
    /// How it exited (`exit status: 1`, `signal: 9 (SIGKILL)`).
    pub status: String,
    /// Its log file.
    pub log: PathBuf,
}

impl std::fmt::Display for Crash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} exited ({}); its log: {}",
            self.name,
            self.status,
            self.log.display()
        )
    }
}

impl Supervisor {
    /// A supervisor writing logs into `logs` (created if missing).
    pub fn new(logs: &Path) -> Result<Supervisor> {
        std::fs::create_dir_all(logs).with_context(|| format!("creating {}", logs.display()))?;
        Ok(Supervisor {
            logs: logs.to_path_buf(),
            procs: Mutex::new(Vec::new()),
            stopping: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The directory holding every component's log.
    pub fn log_dir(&self) -> &Path {
        &self.logs
    }

    /// The log file of component `name`.
    pub fn log_of(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{}.log", name.replace('/', "_")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Proc>> {
        self.procs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start `program` with `args` as component `name`. Returns its process id.
    pub fn start(&self, name: &str, program: &Path, args: &[String]) -> Result<u32> {
        let log_path = self.log_of(name);
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        use std::os::unix::process::CommandExt as _;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        // SAFETY: the closure runs in the child between fork and exec and only calls
        // async-signal-safe functions (prctl, getppid, _exit).
        unsafe {
            let parent = libc::getpid();
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl: then nobody would kill us.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        let pid = child.id();
        self.lock().push(Proc {
            name: name.to_string(),
            child,
            exited: None,
        });
        Ok(pid)
    }

    /// Every running component: (name, pid).
    pub fn running(&self) -> Vec<(String, u32)> {
        self.lock()
            .iter()
            .filter(|p| p.exited.is_none())
            .map(|p| (p.name.clone(), p.child.id()))
            .collect()
    }

    /// The first component that exited on its own, if any (not after [`Supervisor::stop_all`]).
    pub fn crashed(&self) -> Option<Crash> {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let mut procs = self.lock();
        for p in procs.iter_mut() {
            if p.exited.is_none()
                && let Ok(Some(status)) = p.child.try_wait()
            {
                p.exited = Some(status);
            }
        }
        procs.iter().find_map(|p| {
            p.exited.map(|s| Crash {
                name: p.name.clone(),
                status: s.to_string(),
                log: self.log_of(&p.name),
            })
        })
    }

    /// Stop every component: SIGTERM to each process group, then SIGKILL to those still there
    /// after [`STOP_GRACE`]. Components stop in reverse start order (the API server before
    /// etcd). Idempotent.
    pub fn stop_all(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let mut procs = self.lock();
        for p in procs.iter_mut().rev() {
            if p.exited.is_some() {
                continue;
            }
            if let Ok(Some(s)) = p.child.try_wait() {
                p.exited = Some(s);
                continue;
            }
            signal_group(p.child.id(), libc::SIGTERM);
            let deadline = Instant::now() + STOP_GRACE;
            loop {
                if let Ok(Some(s)) = p.child.try_wait() {
                    p.exited = Some(s);
                    break;
                }
                if Instant::now() >= deadline {
                    signal_group(p.child.id(), libc::SIGKILL);
                    p.exited = p.child.wait().ok();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Anything the component left in its group goes too.
            signal_group(p.child.id(), libc::SIGKILL);
        }
    }
}

fn signal_group(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe {
        libc::kill(-pid, sig);
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }

    #[test]
    fn stops_children_and_reports_crashes_with_their_log() {
        let dir = tempfile::tempdir().unwrap();
        let sup = Supervisor::new(&dir.path().join("logs")).unwrap();
        let sleeper = sup
            .start(
                "a/sleeper",
                Path::new("/bin/sh"),
                &["-c".into(), "exec sleep 60".into()],
            )
            .unwrap();
        sup.start(
            "a/crasher",
            Path::new("/bin/sh"),
            &["-c".into(), "echo boom; exit 3".into()],
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let crash = loop {
            if let Some(c) = sup.crashed() {
                break c;
            }
            assert!(Instant::now() < deadline, "crash not noticed");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(crash.name, "a/crasher");
        assert!(crash.status.contains('3'), "{crash}");
        assert_eq!(std::fs::read_to_string(&crash.log).unwrap(), "boom\n");
        assert!(alive(sleeper));
        sup.stop_all();
        assert!(sup.crashed().is_none(), "stopping is not a crash");
        assert!(sup.running().is_empty());
        // Reaped (waited for), so the pid is gone.
        assert!(!alive(sleeper));
    }
}
