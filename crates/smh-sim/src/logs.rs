//! Container logs: what the simulated applications write (a line when they start listening,
//! one per request they answer), kept per pod and container as a kubelet keeps them, and
//! read by the API server's `pods/NAME/log` (`kubectl logs`, with `--tail`, `--since`,
//! `--timestamps`, `--limit-bytes` and `-f`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Lines kept per container; older ones are dropped (a kubelet rotates its log files too).
const KEEP_LINES: usize = 10_000;

/// One log line and when it was written.
#[derive(Debug, Clone)]
pub(crate) struct LogLine {
    pub(crate) time: jiff::Timestamp,
    pub(crate) text: String,
}

#[derive(Default)]
struct Lines {
    /// Index of `lines[0]` among every line ever written (so followers keep their place
    /// when old lines are dropped).
    first: u64,
    lines: VecDeque<LogLine>,
    closed: bool,
}

/// The log of one container run.
pub(crate) struct ContainerLog {
    lines: Mutex<Lines>,
    /// Bumped on every write and on close; followers wait on it.
    changed: watch::Sender<u64>,
}

impl ContainerLog {
    fn new() -> Self {
        ContainerLog {
            lines: Mutex::new(Lines::default()),
            changed: watch::channel(0).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Append a line (a no-op once the container stopped).
    pub(crate) fn write(&self, text: impl Into<String>) {
        let mut l = self.lock();
        if l.closed {
            return;
        }
        l.lines.push_back(LogLine {
            time: jiff::Timestamp::now(),
            text: text.into(),
        });
        if l.lines.len() > KEEP_LINES {
            l.lines.pop_front();
            l.first += 1;
        }
        drop(l);
        self.changed.send_modify(|n| *n += 1);
    }

    /// The container stopped: followers get what is left and end.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.send_modify(|n| *n += 1);
    }

    /// Lines from absolute index `from` on, the index after them, and whether the log is
    /// closed.
    pub(crate) fn read_from(&self, from: u64) -> (Vec<LogLine>, u64, bool) {
        let l = self.lock();
        let start = from.max(l.first);
        let skip = (start - l.first) as usize;
        let lines: Vec<LogLine> = l.lines.iter().skip(skip).cloned().collect();
        let next = l.first + l.lines.len() as u64;
        (lines, next, l.closed)
    }

    /// The absolute index of the first kept line and the number kept.
    pub(crate) fn span(&self) -> (u64, u64) {
        let l = self.lock();
        (l.first, l.lines.len() as u64)
    }

    /// A receiver that changes on every write and on close.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// The logs of every container of one cluster, by pod UID and container name.
#[derive(Default)]
pub struct PodLogs {
    pods: Mutex<HashMap<String, HashMap<String, Arc<ContainerLog>>>>,
}

impl PodLogs {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, Arc<ContainerLog>>>> {
        self.pods.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The log a container of the pod with `uid` writes to (a new one after [`Self::stop`]).
    pub(crate) fn start(&self, uid: &str, container: &str) -> Arc<ContainerLog> {
        let mut pods = self.lock();
        let entry = pods.entry(uid.to_string()).or_default();
        match entry.get(container) {
            Some(log) if !log.lock().closed => log.clone(),
            _ => {
                let log = Arc::new(ContainerLog::new());
                entry.insert(container.to_string(), log.clone());
                log
            }
        }
    }

    /// The log of a container, if it ever ran.
    pub(crate) fn get(&self, uid: &str, container: &str) -> Option<Arc<ContainerLog>> {
        self.lock().get(uid)?.get(container).cloned()
    }

    /// The pod's containers stopped: close their logs (kept for reading).
    pub(crate) fn stop(&self, uid: &str) {
        if let Some(cs) = self.lock().get(uid) {
            for log in cs.values() {
                log.close();
            }
        }
    }

    /// Forget the logs of pods that no longer exist.
    pub(crate) fn retain(&self, live_uids: &std::collections::HashSet<String>) {
        let mut pods = self.lock();
        pods.retain(|uid, cs| {
            let keep = live_uids.contains(uid);
            if !keep {
                for log in cs.values() {
                    log.close();
                }
            }
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_in_order_and_closing_ends_the_log() {
        let logs = PodLogs::default();
        let log = logs.start("uid-1", "app");
        log.write("one");
        log.write("two");
        let (lines, next, closed) = log.read_from(0);
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert_eq!((next, closed), (2, false));
        let (lines, _, _) = log.read_from(1);
        assert_eq!(lines[0].text, "two");
        logs.stop("uid-1");
        log.write("after stop");
        assert_eq!(log.read_from(0).0.len(), 2);
        assert!(log.read_from(0).2);
        // A restarted container writes a new log.
        let again = logs.start("uid-1", "app");
        assert_eq!(again.read_from(0).0.len(), 0);
        logs.retain(&Default::default());
        assert!(logs.get("uid-1", "app").is_none());
    }

    #[test]
    fn old_lines_are_dropped_and_followers_keep_their_place() {
        let log = ContainerLog::new();
        for i in 0..KEEP_LINES + 5 {
            log.write(format!("{i}"));
        }
        assert_eq!(log.span(), (5, KEEP_LINES as u64));
        let (lines, next, _) = log.read_from(KEEP_LINES as u64 + 3);
        assert_eq!(lines[0].text, format!("{}", KEEP_LINES + 3));
        assert_eq!(next, KEEP_LINES as u64 + 5);
    }
}
