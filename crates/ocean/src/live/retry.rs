//! The live path's retry policy, in one place: an event whose processing fails is tried again
//! after 1 s, 2 s and 4 s (four attempts in all, Ocean's three retries), then given up; the
//! next resync or catch-up repairs what it would have written.

use std::{future::Future, time::Duration};

/// Attempts per event (Ocean retries 3 times).
pub const ATTEMPTS: u32 = 4;

/// The wait after failed attempt `attempt` (1-based): 1 s, doubling.
#[must_use]
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.saturating_sub(1).min(16))
}

/// Runs `attempt` until it succeeds or [`ATTEMPTS`] have failed, calling `on_retry` with the
/// attempt number, its error and the wait before each retry. Returns the outcome and the
/// number of attempts made.
pub async fn with_retries<T, E, F, Fut>(
    mut attempt: F,
    mut on_retry: impl FnMut(u32, &E, Duration),
) -> (Result<T, E>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut made = 0;
    loop {
        made += 1;
        match attempt().await {
            Ok(value) => return (Ok(value), made),
            Err(error) if made < ATTEMPTS => {
                let wait = backoff(made);
                on_retry(made, &error, wait);
                tokio::time::sleep(wait).await;
            }
            Err(error) => return (Err(error), made),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::time::Instant;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_four_attempts_waiting_one_two_then_four_seconds() {
        let start = Instant::now();
        let mut tried_at = Vec::new();
        let mut waits = Vec::new();
        let (outcome, made) = with_retries(
            || {
                tried_at.push(start.elapsed());
                async { Err::<(), _>("down") }
            },
            |attempt, error, wait| waits.push((attempt, *error, wait)),
        )
        .await;
        assert_eq!(outcome, Err("down"));
        assert_eq!(made, ATTEMPTS);
        let secs = Duration::from_secs;
        assert_eq!(tried_at, [secs(0), secs(1), secs(3), secs(7)]);
        assert_eq!(
            waits,
            [
                (1, "down", secs(1)),
                (2, "down", secs(2)),
                (3, "down", secs(4))
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_the_first_success() {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let (outcome, made) = with_retries(
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move { if n < 1 { Err("blip") } else { Ok(n) } }
            },
            |_, _, _| {},
        )
        .await;
        assert_eq!(outcome, Ok(1));
        assert_eq!(made, 2);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
