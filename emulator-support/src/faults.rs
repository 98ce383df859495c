//! The fault pieces both emulators inject the same way: a fixed-window rate limit and latency.
//! Which faults an emulator has, and what it answers, stay its own.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Rng;

/// A fixed-window rate limit over all API calls (Dropbox limits per team and Graph per
/// tenant, not per route).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Calls allowed in one window.
    pub max_calls: u32,
    /// Window length in milliseconds; the first call after a window ends opens the next one.
    pub window_ms: u64,
}

/// The current window of a [`RateLimit`]: when it opened and how many calls it has seen.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateWindow(Option<(Instant, u32)>);

impl RateWindow {
    /// Counts a call made at `now`. Over the limit: the seconds until the window ends
    /// (rounded up, at least 1), for `Retry-After`.
    pub fn hit(&mut self, limit: &RateLimit, now: Instant) -> Option<u64> {
        let window = Duration::from_millis(limit.window_ms.max(1));
        let (start, count) = match self.0 {
            Some((start, count)) if now < start + window => (start, count),
            _ => (now, 0),
        };
        self.0 = Some((start, count.saturating_add(1)));
        if count >= limit.max_calls {
            let left = (start + window).saturating_duration_since(now);
            Some(left.as_secs_f64().ceil().max(1.0) as u64)
        } else {
            None
        }
    }

    /// Starts over (new faults in force).
    pub fn reset(&mut self) {
        self.0 = None;
    }
}

/// The delay before answering: `latency_ms` plus a jitter uniform in `0..=jitter_ms` drawn
/// from `rng` (nothing is drawn without jitter, so the other decisions keep their sequence).
pub fn latency(rng: &mut Rng, latency_ms: u64, jitter_ms: u64) -> Duration {
    let jitter = if jitter_ms > 0 {
        rng.up_to(jitter_ms)
    } else {
        0
    };
    Duration::from_millis(latency_ms + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_allows_max_calls_then_says_how_long_to_wait() {
        let limit = RateLimit {
            max_calls: 2,
            window_ms: 1500,
        };
        let mut window = RateWindow::default();
        let start = Instant::now();
        assert_eq!(window.hit(&limit, start), None);
        assert_eq!(window.hit(&limit, start), None);
        assert_eq!(window.hit(&limit, start), Some(2));
        assert_eq!(
            window.hit(&limit, start + Duration::from_millis(1400)),
            Some(1)
        );
        assert_eq!(
            window.hit(&limit, start + Duration::from_millis(1500)),
            None
        );
        window.reset();
        assert_eq!(window.hit(&limit, start), None);
    }
}
