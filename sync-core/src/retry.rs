//! One retry mechanism for every repeated call: the executor's writes, the adapters' reads and
//! their job polls.
//!
//! Pure: a [`RetryPolicy`] is a value, [`RetryPolicy::decide`] a function of the error, the
//! number of retries made and a seed. There is no clock and no randomness here; the jitter is
//! derived from the seed, so the same seed and attempt always give the same delay. The caller
//! sleeps (the executor through its [`Sleeper`](crate::Sleeper), an adapter on its runtime).
//!
//! A wait the server asks for (`Retry-After`) is honoured exactly up to
//! [`RetryPolicy::max_server_wait`]; a longer one is not slept at all: the call gives up with
//! [`GiveUp::WaitTooLong`], naming the wait asked for. So no number a server sends can make a
//! run sleep for a day.

use std::time::Duration;

use crate::store::ErrorKind;

/// Exponential backoff: `first`, doubling per step, never above `max`; with jitter, each step is
/// scaled to 50–100 % by a deterministic function of the seed and the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// The first delay.
    pub first: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Scale each delay to 50–100 % (seeded), so that concurrent callers spread out.
    pub jitter: bool,
}

impl Backoff {
    /// Delays doubling from `first` up to `max`, with jitter.
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            jitter: true,
        }
    }

    /// The same schedule without jitter (job polls: one caller, nothing to spread).
    pub const fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// The delay before step `step` (1 for the first retry or poll), for `seed`.
    pub fn delay(&self, step: u32, seed: u64) -> Duration {
        let doublings = step.saturating_sub(1).min(30);
        let full = self.first.saturating_mul(1u32 << doublings).min(self.max);
        if !self.jitter {
            return full;
        }
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ u64::from(step).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 31;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 29;
        // 500..=1000 thousandths of the full step; integer arithmetic, no float can overflow.
        let thousandths = 500 + (x % 501) as u32;
        let coarse = full / 1000;
        let rest = full.saturating_sub(coarse * 1000);
        coarse * thousandths + rest * thousandths / 1000
    }
}

/// How often and how long to retry a call that failed with a retryable error
/// ([`ErrorKind::is_retryable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first call (so `max_retries + 1` calls at most).
    pub max_retries: u32,
    /// Delays between calls when the server did not say how long to wait.
    pub backoff: Backoff,
    /// The longest server-requested wait honoured. A longer one ends the retries at once
    /// ([`GiveUp::WaitTooLong`]): nothing sleeps longer than this on a server's word.
    pub max_server_wait: Duration,
}

impl RetryPolicy {
    /// A policy of `max_retries` retries with `backoff`, honouring server waits up to
    /// `max_server_wait`.
    pub const fn new(max_retries: u32, backoff: Backoff, max_server_wait: Duration) -> Self {
        Self {
            max_retries,
            backoff,
            max_server_wait,
        }
    }

    /// No retries at all.
    pub const fn none() -> Self {
        Self::new(
            0,
            Backoff::new(Duration::ZERO, Duration::ZERO),
            Duration::ZERO,
        )
    }

    /// The executor's default for writes: 6 retries, 250 ms doubling to 60 s, server waits up
    /// to 5 minutes.
    pub const fn writes() -> Self {
        Self::new(
            6,
            Backoff::new(Duration::from_millis(250), Duration::from_secs(60)),
            Duration::from_secs(300),
        )
    }

    /// The adapters' default for reads: 5 retries, 400 ms doubling to 10 s, server waits up to
    /// 2 minutes (a team read holds the run's lock; past that the read fails as incomplete).
    pub const fn reads() -> Self {
        Self::new(
            5,
            Backoff::new(Duration::from_millis(400), Duration::from_secs(10)),
            Duration::from_secs(120),
        )
    }

    /// What to do after a call failed with `kind`, when `retries_done` retries were already
    /// made. `seed` picks the jitter (use something stable per call: an operation's index).
    pub fn decide(&self, kind: ErrorKind, retries_done: u32, seed: u64) -> RetryDecision {
        if !kind.is_retryable() {
            return RetryDecision::GiveUp(GiveUp::NotRetryable);
        }
        if retries_done >= self.max_retries {
            return RetryDecision::GiveUp(GiveUp::OutOfRetries {
                retries: retries_done,
            });
        }
        if let ErrorKind::RateLimited {
            retry_after_ms: Some(ms),
        } = kind
        {
            let asked = Duration::from_millis(ms);
            if asked > self.max_server_wait {
                return RetryDecision::GiveUp(GiveUp::WaitTooLong {
                    asked,
                    cap: self.max_server_wait,
                });
            }
            return RetryDecision::Retry { after: asked };
        }
        RetryDecision::Retry {
            after: self.backoff.delay(retries_done.saturating_add(1), seed),
        }
    }
}

impl Default for RetryPolicy {
    /// [`RetryPolicy::writes`].
    fn default() -> Self {
        Self::writes()
    }
}

/// The outcome of [`RetryPolicy::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then call again.
    Retry {
        /// The wait.
        after: Duration,
    },
    /// Stop; the last error stands.
    GiveUp(GiveUp),
}

/// Why retries stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUp {
    /// The error will not go away by repeating the call.
    NotRetryable,
    /// Every retry was used.
    OutOfRetries {
        /// Retries made.
        retries: u32,
    },
    /// The server asked for a wait longer than the policy honours.
    WaitTooLong {
        /// The wait asked for.
        asked: Duration,
        /// The policy's cap.
        cap: Duration,
    },
}

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRetryable => f.write_str("not retryable"),
            Self::OutOfRetries { retries } => write!(f, "still failing after {retries} retries"),
            Self::WaitTooLong { asked, cap } => write!(
                f,
                "the server asked to wait {}, longer than the {} allowed (raise max_server_wait to wait that long)",
                human(*asked),
                human(*cap)
            ),
        }
    }
}

/// A duration for people: `90s`, `1.5s`, `86400s`.
fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_max_and_jitter_stays_within_half_to_full() {
        let plain =
            Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).without_jitter();
        let steps: Vec<u128> = (1..=6).map(|s| plain.delay(s, 0).as_millis()).collect();
        assert_eq!(steps, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(
            plain.delay(u32::MAX, 0),
            Duration::from_secs(1),
            "no overflow at any step"
        );
        let jittered = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        for seed in 0..200 {
            for step in 1..8 {
                let d = jittered.delay(step, seed);
                let full = plain.delay(step, seed);
                assert!(
                    d >= full / 2 && d <= full,
                    "step {step} seed {seed}: {d:?} of {full:?}"
                );
                assert_eq!(d, jittered.delay(step, seed), "deterministic");
            }
        }
        let huge = Backoff::new(Duration::MAX, Duration::MAX);
        assert!(huge.delay(40, 7) <= Duration::MAX);
    }

    #[test]
    fn decisions_follow_the_kind_the_count_and_the_server_wait() {
        let policy = RetryPolicy::new(
            2,
            Backoff::new(Duration::from_millis(10), Duration::from_millis(40)),
            Duration::from_secs(5),
        );
        assert_eq!(
            policy.decide(ErrorKind::Conflict, 0, 1),
            RetryDecision::GiveUp(GiveUp::NotRetryable)
        );
        assert!(matches!(
            policy.decide(ErrorKind::Transient, 0, 1),
            RetryDecision::Retry { .. }
        ));
        assert_eq!(
            policy.decide(ErrorKind::Transient, 2, 1),
            RetryDecision::GiveUp(GiveUp::OutOfRetries { retries: 2 })
        );
        assert_eq!(
            policy.decide(
                ErrorKind::RateLimited {
                    retry_after_ms: Some(3_000)
                },
                0,
                1
            ),
            RetryDecision::Retry {
                after: Duration::from_secs(3)
            }
        );
        let day = ErrorKind::RateLimited {
            retry_after_ms: Some(86_400_000),
        };
        assert_eq!(
            policy.decide(day, 0, 1),
            RetryDecision::GiveUp(GiveUp::WaitTooLong {
                asked: Duration::from_secs(86_400),
                cap: Duration::from_secs(5)
            })
        );
        let forever = ErrorKind::RateLimited {
            retry_after_ms: Some(u64::MAX),
        };
        assert!(matches!(
            policy.decide(forever, 0, 1),
            RetryDecision::GiveUp(GiveUp::WaitTooLong { .. })
        ));
        let message = GiveUp::WaitTooLong {
            asked: Duration::from_secs(86_400),
            cap: Duration::from_secs(120),
        }
        .to_string();
        assert!(
            message.contains("86400s") && message.contains("120s"),
            "{message}"
        );
    }
}
