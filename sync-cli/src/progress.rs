//! Progress on stderr, for reads (`check`, `plan`, `apply`) and for apply's writes.
//!
//! On a terminal: one bar, redrawn in place. A stage whose total is known in advance (the
//! team's group member lists, known-id lookups) is a bar of that total; a stage whose total
//! is not (members, users, groups: no listing says how long it is) is a spinner with the
//! count, never a bar with a guessed total. A stage with nothing to do draws no bar at all
//! (no full bar at 0/0). Otherwise (a log, a pipe, a scheduler): no bar, one plain line per
//! finished read, "reading team: 12,000 members, 40 groups".

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use teamsync::RunEvent;
use teamsync_core::{Progress, ReadProgress, ReadStage};

/// Shows a run's read progress on stderr (see the module doc).
pub struct ReadDisplay {
    terminal: bool,
    bar: Mutex<Option<Shown>>,
}

/// The bar on a terminal, the stage it shows and that stage's total.
struct Shown {
    bar: ProgressBar,
    stage: ReadStage,
    total: Option<usize>,
}

impl ReadDisplay {
    /// A display for this process's stderr: a bar on a terminal, lines otherwise.
    pub fn on_stderr() -> Arc<ReadDisplay> {
        Arc::new(ReadDisplay {
            terminal: std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        })
    }

    /// Shows one of the runner's events.
    pub fn show(&self, event: &RunEvent) {
        match event {
            RunEvent::Reading(progress) if self.terminal => self.draw(progress),
            RunEvent::TeamRead { members, groups } => self.line(&format!(
                "reading team: {}, {}",
                counted(*members, "member", "members"),
                counted(*groups, "group", "groups")
            )),
            RunEvent::DirectoryRead { users, groups } => self.line(&format!(
                "reading directory: {}, {}",
                counted(*users, "user", "users"),
                counted(*groups, "group", "groups")
            )),
            _ => {}
        }
    }

    /// Clears the bar (before anything is printed to stdout).
    pub fn finish(&self) {
        if let Ok(mut shown) = self.bar.lock()
            && let Some(shown) = shown.take()
        {
            shown.bar.finish_and_clear();
        }
    }

    /// A finished read: above the bar on a terminal, a line of its own otherwise.
    fn line(&self, text: &str) {
        let shown = self.bar.lock().ok();
        match shown.as_ref().and_then(|s| s.as_ref()) {
            Some(shown) => shown.bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn draw(&self, progress: &ReadProgress) {
        let Ok(mut shown) = self.bar.lock() else {
            return;
        };
        let stage = progress.stage();
        let total = match progress {
            ReadProgress::Counted { total, .. } => *total,
            _ => None,
        };
        // A new stage gets its own bar style; a finished stage keeps its last look until the
        // next stage replaces it.
        let current = shown.as_ref().map(|s| s.stage);
        if current != Some(stage) {
            if matches!(progress, ReadProgress::Finished { .. }) && current.is_some() {
                return;
            }
            if total == Some(0) {
                // Nothing to read in this stage: no bar at all.
                return;
            }
            let bar = shown.get_or_insert_with(|| Shown {
                bar: ProgressBar::hidden(),
                stage,
                total,
            });
            bar.stage = stage;
            bar.total = total;
            restyle(&bar.bar, stage, total);
        }
        if let Some(shown) = shown.as_ref() {
            let count = progress.count() as u64;
            match shown.total {
                Some(total) => shown.bar.update(|state| {
                    state.set_len(total as u64);
                    state.set_pos(count);
                }),
                None => shown.bar.set_message(format!(
                    "reading {}: {}",
                    stage.side().name(),
                    counted(progress.count(), stage.noun(), stage.noun())
                )),
            }
        }
    }
}

/// Styles the bar for `stage`: a bar when its total is known, a spinner with a count when not.
fn restyle(bar: &ProgressBar, stage: ReadStage, total: Option<usize>) {
    // The new total before anything is drawn in the new style: never a bar at 0/0.
    if let Some(total) = total {
        bar.update(|state| {
            state.set_len(total as u64);
            state.set_pos(0);
        });
    }
    if bar.is_hidden() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    // Short enough for an 80-column terminal: a longer line wraps and every redraw scrolls.
    let style = match total {
        Some(_) => ProgressStyle::with_template("{msg} [{bar:25}] {human_pos}/{human_len}")
            .map(|s| s.progress_chars("=> ")),
        None => ProgressStyle::with_template("{spinner} {msg}"),
    };
    if let Ok(style) = style {
        bar.set_style(style);
    }
    match total {
        Some(_) => {
            bar.disable_steady_tick();
            bar.set_message(format!("reading {}: {}", stage.side().name(), stage.noun()));
        }
        None => bar.enable_steady_tick(Duration::from_millis(120)),
    }
}

/// "1 user", "12,000 users".
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `n` with a comma between thousands: 12,000.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Apply's progress: a bar on a terminal (returned, to be cleared at the end), a line per
/// finished phase otherwise.
pub fn apply_reporter() -> (Arc<dyn Fn(Progress) + Send + Sync>, Option<ProgressBar>) {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{msg:32} [{bar:30}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        let shown = bar.clone();
        let callback = Arc::new(move |p: Progress| {
            // Length and position at once: a new phase never shows the last one's count
            // against its own total, and the bar is never drawn at 0/0.
            shown.update(|state| {
                state.set_len(p.total as u64);
                state.set_pos(p.done as u64);
            });
            shown.set_message(p.phase.title());
            if p.done == p.total {
                shown.println(format!("  {:<32} {}/{}", p.phase.title(), p.done, p.total));
            }
        });
        (callback, Some(bar))
    } else {
        let callback = Arc::new(|p: Progress| {
            if p.done == p.total {
                eprintln!("  {:<32} {}/{}", p.phase.title(), p.done, p.total);
            }
        });
        (callback, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_000), "12,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(counted(1, "user", "users"), "1 user");
        assert_eq!(counted(100_000, "user", "users"), "100,000 users");
    }
}
