//! The drill's progress on stderr while it runs: indicatif bars and a spinner on a terminal
//! (whose echo is turned off meanwhile, [`TerminalModes`]), plain timestamped lines otherwise,
//! and the confirmation prompt.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::oneshot;

use super::pump::{Pump, PumpedTerm};
use super::{NO_TERMINAL, Settings};
use crate::render;
use smh_core::drill::live::RolloutState;
use smh_core::drill::measure::ClassChanges;
use smh_core::drill::restore::BreakMode;
use smh_core::drill::{Class, DeploymentRef, DrillPlan, Phase, seconds};
use smh_drill::{ConfirmAnswer, Confirmation, Observer, PatchKind, Progress};

/// The terminal's modes while the drill draws its progress area there, put back on drop.
///
/// Two of a terminal's default modes break a redrawn progress area:
/// - `echo`: Ctrl-C is echoed as `^C` (a typed key as itself) at the cursor, which indicatif
///   leaves at the right edge of the area's last line: the echo wraps to a new line, so the
///   next redraw clears one line too low and leaves a line of the area behind;
/// - flushing on interrupt (without `noflsh`): the terminal driver discards the output the
///   terminal has not read yet when Ctrl-C is pressed, so event lines written just before a
///   second Ctrl-C can be lost, and indicatif, which counts the lines it drew, then moves
///   the cursor up over lines that are not its own and erases them.
///
/// So while the area is drawn: no `ECHO`, and `NOFLSH`, set with `tcsetattr` on stderr's
/// terminal (as `stty -echo noflsh` would). A confirmation prompt is unaffected (dialoguer
/// reads keys in raw mode and prints the answer itself). When stderr is not a terminal, or
/// its modes cannot be read, nothing is changed.
struct TerminalModes {
    /// The modes before the change.
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

#[cfg(unix)]
impl TerminalModes {
    fn set() -> TerminalModes {
        use std::os::fd::AsRawFd;
        let fd = std::io::stderr().as_raw_fd();
        // SAFETY: termios is plain data, filled by tcgetattr for a valid descriptor.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a valid descriptor and a pointer to the termios above.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return TerminalModes { saved: None };
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::NOFLSH;
        // SAFETY: a termios read from the same descriptor, two flags changed.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
            return TerminalModes { saved: None };
        }
        TerminalModes { saved: Some(saved) }
    }

    fn restore(&mut self) {
        use std::os::fd::AsRawFd;
        if let Some(saved) = self.saved.take() {
            // SAFETY: the modes tcgetattr returned for this descriptor.
            unsafe { libc::tcsetattr(std::io::stderr().as_raw_fd(), libc::TCSANOW, &saved) };
        }
    }
}

#[cfg(not(unix))]
impl TerminalModes {
    fn set() -> TerminalModes {
        TerminalModes {}
    }

    fn restore(&mut self) {}
}

impl Drop for TerminalModes {
    fn drop(&mut self) {
        self.restore();
    }
}

/// Progress on stderr: indicatif when it is a terminal, plain timestamped lines otherwise.
pub(super) struct CliObserver {
    /// How the deployments break (for the patch lines).
    pub(super) mode: BreakMode,
    /// Each target's replica count before the drill (for the scale lines).
    replicas: BTreeMap<DeploymentRef, i32>,
    /// Set while the progress area is drawn (a terminal).
    modes: Option<TerminalModes>,
    can_prompt: bool,
    multi: Option<MultiProgress>,
    spinner: Option<ProgressBar>,
    rollouts: BTreeMap<DeploymentRef, ProgressBar>,
    rollout_text: BTreeMap<DeploymentRef, String>,
    phase: Phase,
    counts: [u64; 3],
    last: Option<Class>,
    changes: ClassChanges,
    prompting: Arc<AtomicBool>,
    hidden: bool,
    buffer: Vec<String>,
    /// stderr, written on a thread of its own: a terminal nobody reads must not hold back
    /// the drill (its restore included), which reports its progress from its own task.
    pump: Pump,
    /// While the drill runs, other messages on stderr (`-v`'s retry lines, written from the
    /// request path) go the same way: below the progress area, through the pump. Ended by
    /// [`CliObserver::finish`], so that the drill's last words are written at once (the
    /// process may exit right after them, before the pump's thread would write them).
    stderr: Option<crate::cli::output::StderrRedirect>,
}

/// A draw target on stderr's terminal through `pump`.
fn pumped(pump: &Pump) -> ProgressDrawTarget {
    ProgressDrawTarget::term_like(Box::new(PumpedTerm::stderr(pump.clone())))
}

fn class_index(c: Class) -> usize {
    match c {
        Class::Primary => 0,
        Class::FailedOver => 1,
        Class::Error => 2,
    }
}

impl CliObserver {
    pub(super) fn new(s: &Settings, plan: &DrillPlan) -> Self {
        // Before the first draw.
        let modes = s.fancy.then(TerminalModes::set);
        let pump = Pump::start(std::io::stderr());
        let multi = s
            .fancy
            .then(|| MultiProgress::with_draw_target(pumped(&pump)));
        let spinner = multi.as_ref().map(|m| {
            let pb = m.add(ProgressBar::new_spinner());
            pb.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(100));
            pb
        });
        let (sink_multi, sink_pump) = (multi.clone(), pump.clone());
        let stderr =
            crate::cli::output::redirect_stderr(Arc::new(move |text: &str| match &sink_multi {
                Some(m) => {
                    let _ = m.println(text.strip_suffix('\n').unwrap_or(text));
                }
                None => sink_pump.write(text.as_bytes()),
            }));
        CliObserver {
            stderr: Some(stderr),
            mode: plan.break_mode,
            replicas: plan
                .targets
                .iter()
                .map(|t| (t.deployment.clone(), t.replicas))
                .collect(),
            modes,
            can_prompt: s.can_prompt,
            multi,
            spinner,
            rollouts: BTreeMap::new(),
            rollout_text: BTreeMap::new(),
            phase: Phase::Preflight,
            counts: [0; 3],
            last: None,
            changes: ClassChanges::default(),
            prompting: Arc::new(AtomicBool::new(false)),
            hidden: false,
            buffer: Vec::new(),
            pump,
        }
    }

    /// One line on stderr, below the progress area when there is one.
    fn print(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => self.pump.write(format!("{text}\n").as_bytes()),
        }
    }

    fn emit(&mut self, text: String) {
        if self.prompting.load(Ordering::SeqCst) {
            self.buffer.push(text);
            return;
        }
        self.resume();
        self.print(&text);
    }

    /// After a prompt: show the bars again and print what came meanwhile.
    fn resume(&mut self) {
        if self.prompting.load(Ordering::SeqCst) {
            return;
        }
        if self.hidden {
            self.hidden = false;
            if let Some(m) = &self.multi {
                m.set_draw_target(pumped(&self.pump));
            }
        }
        for line in std::mem::take(&mut self.buffer) {
            self.print(&line);
        }
    }

    fn line(&mut self, at: Duration, text: impl AsRef<str>) {
        self.emit(format!("[{:>8.3}s] {}", seconds(at), text.as_ref()));
    }

    fn update_spinner(&mut self) {
        if let Some(pb) = &self.spinner {
            let last = self
                .last
                .map_or(String::new(), |c| format!(", last: {}", c.as_str()));
            pb.set_message(format!(
                "{} | answers: {} primary, {} failed over, {} error{last}",
                self.phase.as_str(),
                self.counts[0],
                self.counts[1],
                self.counts[2]
            ));
        }
    }

    pub(super) fn finish(&mut self) {
        self.prompting.store(false, Ordering::SeqCst);
        self.resume();
        for pb in self.rollouts.values() {
            pb.finish_and_clear();
        }
        if let Some(pb) = self.spinner.take() {
            pb.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
        // What follows on stderr (the drill's last words) comes after every progress line.
        self.pump.wait_written();
        let dropped = self.pump.dropped();
        if dropped > 0 {
            self.pump.write(
                format!(
                    "({dropped} bytes of progress output were left out: the terminal was not read while the drill ran)\n"
                )
                .as_bytes(),
            );
            self.pump.wait_written();
        }
        // From here stderr is written directly again (everything queued is written).
        self.stderr = None;
        if let Some(mut modes) = self.modes.take() {
            modes.restore();
        }
    }
}

impl Observer for CliObserver {
    fn progress(&mut self, at: Duration, p: Progress<'_>) {
        self.resume();
        match p {
            Progress::Phase(t) => {
                self.phase = t.to;
                self.line(at, format!("{}: {}", t.to.as_str(), t.cause));
                if matches!(
                    t.to,
                    Phase::VerifyFailover | Phase::VerifyFailback | Phase::Report
                ) {
                    for (_, pb) in std::mem::take(&mut self.rollouts) {
                        pb.finish_and_clear();
                    }
                }
                self.update_spinner();
            }
            Progress::Note(n) => self.line(at, &n.text),
            Progress::Preflight(r) => {
                // A pass is reported by the machine's own note; refusals and notes here.
                for l in render::drill::preflight(r).lines() {
                    if l != "preflight: passed" {
                        self.line(at, l);
                    }
                }
            }
            Progress::ProbeTarget { pod, spec } => self.line(
                at,
                format!(
                    "probing: GET {} on pod {}/{pod} port {} through a port-forward, {}/s",
                    spec.path, spec.workload.namespace, spec.port, spec.rate_per_second
                ),
            ),
            Progress::Probe {
                sample, markers, ..
            } => {
                self.counts[class_index(sample.class)] += 1;
                self.last = Some(sample.class);
                // Every change of class, at the send time of its first answer, and the
                // report's first failed-over (primary again) answer.
                if let Some(change) = self.changes.push(sample, markers) {
                    self.line(at, change.to_string());
                }
                self.update_spinner();
            }
            Progress::Patched { kind, deployment } => {
                let text = match kind {
                    PatchKind::Saved => format!(
                        "saved the restore plan on {deployment} (annotation {})",
                        smh_core::consts::DRILL_RESTORE_ANNOTATION
                    ),
                    PatchKind::Broken => match self.mode {
                        BreakMode::Command => format!("broke {deployment}: command sleep 20h"),
                        BreakMode::Scale => format!("broke {deployment}: scaled to 0 replicas"),
                    },
                    PatchKind::Restored => match self.mode {
                        BreakMode::Command => format!(
                            "restored {deployment}: command and args as saved, annotation removed"
                        ),
                        BreakMode::Scale => format!(
                            "restored {deployment}: replicas as saved ({}), annotation removed",
                            self.replicas.get(deployment).copied().unwrap_or(1)
                        ),
                    },
                };
                self.line(at, text);
            }
            Progress::Rollout {
                deployment,
                state,
                counts,
            } => {
                let text = match state {
                    RolloutState::Complete => "rolled out".to_string(),
                    RolloutState::Waiting(w) | RolloutState::Failed(w) => w.clone(),
                };
                if self.rollout_text.get(deployment) == Some(&text) {
                    return;
                }
                self.rollout_text.insert(deployment.clone(), text.clone());
                if let Some(m) = &self.multi {
                    // Position and length are the counts the message names; set together
                    // with the message so that no frame mixes an old message with new counts.
                    let (pos, len) = counts.bar();
                    match self.rollouts.get(deployment) {
                        Some(pb) => {
                            // `with_message` on a handle sets the message without drawing;
                            // `update` then draws once.
                            let _ = pb.clone().with_message(text.clone());
                            pb.update(|s| {
                                s.set_len(len);
                                s.set_pos(pos);
                            });
                        }
                        None => {
                            let pb = ProgressBar::new(len)
                                .with_style(
                                    ProgressStyle::with_template(
                                        "  {prefix} [{bar:20}] {pos}/{len} {msg}",
                                    )
                                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                                )
                                .with_prefix(deployment.to_string())
                                .with_position(pos)
                                .with_message(text.clone());
                            self.rollouts.insert(deployment.clone(), m.add(pb));
                        }
                    }
                    if matches!(state, RolloutState::Complete)
                        && let Some(pb) = self.rollouts.get(deployment)
                    {
                        pb.finish_with_message("rolled out");
                    }
                }
                // With bars, only the end of a rollout is worth a line.
                if self.multi.is_none() || !matches!(state, RolloutState::Waiting(_)) {
                    self.line(at, format!("rollout of {deployment}: {text}"));
                }
            }
            Progress::Signal { signal, restoring } => {
                let text = if restoring {
                    format!(
                        "{signal} received: restoring the deployments first, please wait (another Ctrl-C does not stop the restore)"
                    )
                } else {
                    format!("{signal} received: stopping; nothing was changed")
                };
                self.line(at, text);
            }
        }
    }

    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer> {
        let (tx, rx) = oneshot::channel();
        if !self.can_prompt {
            let _ = tx.send(ConfirmAnswer::Failed(NO_TERMINAL.to_string()));
            return rx;
        }
        self.prompting.store(true, Ordering::SeqCst);
        if let Some(m) = &self.multi {
            let _ = m.clear();
            m.set_draw_target(ProgressDrawTarget::hidden());
            self.hidden = true;
        }
        let contexts: Vec<String> = c
            .targets
            .iter()
            .map(|t| format!("context {} ({})", t.context, t.server))
            .collect();
        let how = match c.plan.break_mode {
            BreakMode::Command => "command: sleep 20h",
            BreakMode::Scale => "scaled to 0 replicas",
        };
        let mut text = String::new();
        if !c.warnings.is_empty() {
            text.push_str("Warnings:\n");
            for w in &c.warnings {
                text.push_str(&format!("- {w}\n"));
            }
        }
        text.push_str(&format!(
            "The drill will break {} deployment{} in {} ({how}), verify failover, then restore them exactly:\n",
            c.plan.targets.len(),
            if c.plan.targets.len() == 1 { "" } else { "s" },
            contexts.join(", ")
        ));
        for t in &c.plan.targets {
            let what = match c.plan.break_mode {
                BreakMode::Command => format!(
                    "container{} {}",
                    if t.containers.len() == 1 { "" } else { "s" },
                    t.containers.join(", ")
                ),
                BreakMode::Scale => "to 0, then back".to_string(),
            };
            text.push_str(&format!(
                "  {} ({} replica{}; {what})\n",
                t.deployment,
                t.replicas,
                if t.replicas == 1 { "" } else { "s" },
            ));
        }
        let flag = self.prompting.clone();
        let pump = self.pump.clone();
        // A plain thread: a prompt nobody answers must not keep the runtime from stopping.
        std::thread::spawn(move || {
            // After the lines before it.
            pump.wait_written();
            let term = dialoguer::console::Term::stderr();
            let _ = term.write_str(&text);
            let answer = match dialoguer::Confirm::new()
                .with_prompt("Break them now?")
                .default(false)
                .interact_on_opt(&term)
            {
                Ok(Some(true)) => ConfirmAnswer::Yes,
                Ok(Some(false) | None) => ConfirmAnswer::No,
                Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                    ConfirmAnswer::Interrupted
                }
                Err(e) => ConfirmAnswer::Failed(format!("asking for confirmation: {e}")),
            };
            flag.store(false, Ordering::SeqCst);
            let _ = tx.send(answer);
        });
        rx
    }
}
