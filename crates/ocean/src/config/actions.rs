//! `OCEAN__ACTIONS_PROCESSOR__*`: whether this installation executes Port self-service actions,
//! and how the claim loop is tuned (Ocean's `ActionsProcessorSettings`; ocean-framework.md §1
//! and §11 item 23).

use std::time::Duration;

use super::{Problems, Section, listener::positive};

/// `OCEAN__ACTIONS_PROCESSOR__*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionsProcessor {
    /// Claim and execute action runs (only with a listener that runs actions).
    pub enabled: bool,
    /// Runs executed at once.
    pub workers_count: usize,
    /// Wait between claims when nothing was claimed or the buffer is full.
    pub poll_check_interval: Duration,
    /// Runs held (claimed, not yet executed) at most.
    pub runs_buffer_high_watermark: usize,
    /// How long claimed runs stay hidden from other claims.
    pub visibility_timeout_ms: u64,
    /// Share (percent) of the buffer one action may hold before its runs are left out of
    /// claims.
    pub max_runs_buffer_util_pct_per_action: u64,
}

impl ActionsProcessor {
    /// Runs of one action held at most before claims leave that action out (at least one).
    #[must_use]
    pub fn per_action_limit(&self) -> usize {
        let share = self.runs_buffer_high_watermark as u128
            * u128::from(self.max_runs_buffer_util_pct_per_action)
            / 100;
        usize::try_from(share).unwrap_or(usize::MAX).max(1)
    }
}

pub(super) fn resolve(s: &Section<'_>, p: &mut Problems) -> ActionsProcessor {
    let count = |key, default: u64, p: &mut Problems| {
        let value = s.u64(key, default, p);
        if value == 0 {
            p.push(
                s.key_name(key),
                "must be at least 1",
                format!("use a positive number (default {default})"),
            );
        }
        usize::try_from(value.max(1)).unwrap_or(usize::MAX)
    };
    let enabled = s.bool("enabled", false, p);
    let workers_count = count("workers_count", 3, p);
    let poll_check_interval = positive(s, "poll_check_interval_seconds", 10.0, p);
    let runs_buffer_high_watermark = count("runs_buffer_high_watermark", 300, p);
    let visibility_timeout_ms = s.u64("visibility_timeout_ms", 60_000, p);
    let pct = s.u64("max_runs_buffer_util_pct_per_action", 30, p);
    if pct > 100 {
        p.push(
            s.key_name("max_runs_buffer_util_pct_per_action"),
            "must be a percentage (0 to 100)",
            "use a number from 0 to 100 (default 30)",
        );
    }
    ActionsProcessor {
        enabled,
        workers_count,
        poll_check_interval,
        runs_buffer_high_watermark,
        visibility_timeout_ms,
        max_runs_buffer_util_pct_per_action: pct.min(100),
    }
}
