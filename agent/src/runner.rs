//! Runs planned checks concurrently, under a bound on concurrency and a hard time limit per
//! check, reporting progress as each one finishes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fitcheck_core::report::CheckResult;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::checks::{Check, Ctx};

/// How checks run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Most checks in flight at once.
    pub concurrency: usize,
    /// Hard limit per check, on top of each check's own timeouts.
    pub check_timeout: Duration,
    /// Show progress on standard error.
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 8,
            check_timeout: Duration::from_secs(30),
            progress: true,
        }
    }
}

/// Progress on standard error: a bar on a terminal, one line per finished check otherwise.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl Progress {
    pub fn new(total: usize, enabled: bool) -> Progress {
        use std::io::IsTerminal;
        let tty = std::io::stderr().is_terminal();
        let bar = (enabled && tty).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(u64::try_from(total).unwrap_or(u64::MAX)),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            lines: enabled && !tty,
            total,
            done: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// A step outside the check list (device facts) is under way.
    pub fn note(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_owned());
        }
    }

    fn finished(&self, label: &str, result: &CheckResult) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let line = match result {
            // A port or URL check whose name did not resolve comes back as the DNS answer.
            CheckResult::Dns(_) if !label.starts_with("dns ") => {
                format!("{label}: not probed, name {}", result.outcome_word())
            }
            _ => format!("{label}: {}", result.outcome_word()),
        };
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(line);
        } else if self.lines {
            eprintln!("[{n}/{}] {line}", self.total);
        }
    }

    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs every check and returns the results in plan order.
pub async fn run_all(
    checks: Vec<Check>,
    ctx: Arc<Ctx>,
    opts: &RunOptions,
    progress: Arc<Progress>,
) -> Vec<CheckResult> {
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    let n = checks.len();
    for (i, check) in checks.into_iter().enumerate() {
        let sem = sem.clone();
        let ctx = ctx.clone();
        let progress = progress.clone();
        let limit = check.time_limit(opts.check_timeout);
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let start = Instant::now();
            let result = match tokio::time::timeout(limit, check.run(&ctx)).await {
                Ok(r) => r,
                Err(_) => check.timed_out(start.elapsed()),
            };
            progress.finished(&check.label(), &result);
            (i, result)
        });
    }
    let mut slots: Vec<Option<CheckResult>> = vec![None; n];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(r);
                }
            }
            Err(err) => {
                tracing::error!(%err, "A check task failed; its requirement stays unknown.")
            }
        }
    }
    slots.into_iter().flatten().collect()
}
