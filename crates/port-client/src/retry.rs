//! Retry decisions for every Port call, in one place (STYLE.md rule 8): [`classify`] looks at an
//! attempt's outcome and returns a reasoned [`RetryAction`]. Constants follow Ocean's Port client
//! (ocean-framework.md §2.2: `port_ocean/helpers/retry.py`, `clients/port/utils.py`).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// Ocean's maximum attempts per Port request.
pub const MAX_ATTEMPTS: u32 = 10;
/// Attempts of a request that got no answer at all (refused, reset, timed out): ≈ 9 s of
/// backoff, where Ocean's ten attempts take ≈ 150 s. A wrong `OCEAN__PORT__BASE_URL` or an
/// unreachable Port then fails a `ONCE` run in seconds; a long-running integration keeps
/// trying to start anyway (`app::run`), and a blip in a resync is still ridden out.
pub const MAX_TRANSPORT_ATTEMPTS: u32 = 6;
/// Ocean's base delay for Port calls (exponential: base × 2^(attempt−1)).
pub const BASE_DELAY: Duration = Duration::from_millis(300);
/// Ocean's cap on one backoff sleep for Port calls.
pub const MAX_BACKOFF: Duration = Duration::from_mins(5);
/// `Retry-After` integers above this are Unix timestamps, not seconds (as in Ocean).
const EPOCH_THRESHOLD: u64 = 10_000;

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAction {
    /// The attempt succeeded (or ended in a status the caller handles itself).
    Done,
    /// Try again after `after`.
    Retry {
        /// How long to wait first.
        after: Duration,
        /// Why (for the log line).
        reason: String,
    },
    /// Give up and surface the error.
    DontRetry {
        /// Why.
        reason: String,
    },
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// Port answered with this status and headers.
    Status(u16, &'a HeaderMap),
    /// The request failed before a response (connection refused, reset, timeout).
    Transport,
}

/// Decides whether attempt number `attempt` (1-based) is retried.
///
/// - 2xx and statuses in `accept` are done;
/// - 429 is always retried (Port did not process the request), honouring `Retry-After` or
///   `x-ratelimit-reset`;
/// - 401 is retried twice (the caller refreshes the token first);
/// - 408, 502, 503, 504 and transport errors are retried only for `idempotent` requests;
/// - everything else (other 4xx, 500: Ocean does not retry 500 either) is not retried;
/// - after [`MAX_ATTEMPTS`] nothing is retried.
#[must_use]
pub fn classify(
    outcome: Outcome<'_>,
    attempt: u32,
    idempotent: bool,
    accept: &[u16],
) -> RetryAction {
    let (status, headers) = match outcome {
        Outcome::Status(status, headers) => (Some(status), Some(headers)),
        Outcome::Transport => (None, None),
    };
    if let Some(status) = status
        && ((200..300).contains(&status) || accept.contains(&status))
    {
        return RetryAction::Done;
    }
    let retryable = match status {
        Some(429) => true,
        Some(401) => attempt <= 2,
        Some(408 | 502 | 503 | 504) | None => idempotent,
        Some(_) => false,
    };
    let reason = status.map_or_else(|| "transport error".to_owned(), |s| format!("HTTP {s}"));
    if !retryable {
        return RetryAction::DontRetry { reason };
    }
    if attempt >= MAX_ATTEMPTS || (status.is_none() && attempt >= MAX_TRANSPORT_ATTEMPTS) {
        return RetryAction::DontRetry {
            reason: format!("{reason}; gave up after {attempt} attempts"),
        };
    }
    let after = if status == Some(401) {
        Duration::ZERO
    } else {
        headers
            .and_then(server_delay)
            .unwrap_or_else(|| backoff(attempt))
    };
    RetryAction::Retry {
        after: after.min(MAX_BACKOFF),
        reason,
    }
}

/// Exponential backoff with ±10% jitter: `BASE_DELAY × 2^(attempt−1)`, capped.
#[must_use]
pub fn backoff(attempt: u32) -> Duration {
    let exp = BASE_DELAY.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let jitter = 0.9 + fastrand::f64() * 0.2;
    exp.mul_f64(jitter).min(MAX_BACKOFF)
}

/// The delay the server asked for: `Retry-After` (seconds, Unix time, or an HTTP date) or
/// `x-ratelimit-reset`.
fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    ["retry-after", "x-ratelimit-reset"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok().and_then(parse_delay))
}

fn parse_delay(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        if secs > EPOCH_THRESHOLD {
            let now = jiff::Timestamp::now().as_second();
            let wait = i64::try_from(secs).ok()?.saturating_sub(now).max(0);
            return Some(Duration::from_secs(wait.unsigned_abs()));
        }
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?;
    let wait = date.timestamp().duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_is_honoured_for_429_even_on_non_idempotent_requests() {
        let h = headers("retry-after", "7");
        assert_eq!(
            classify(Outcome::Status(429, &h), 1, false, &[]),
            RetryAction::Retry {
                after: Duration::from_secs(7),
                reason: "HTTP 429".into()
            }
        );
    }

    #[test]
    fn server_errors_are_retried_only_when_idempotent_and_500_never() {
        let h = HeaderMap::new();
        assert!(matches!(
            classify(Outcome::Status(503, &h), 1, true, &[]),
            RetryAction::Retry { .. }
        ));
        assert!(matches!(
            classify(Outcome::Status(503, &h), 1, false, &[]),
            RetryAction::DontRetry { .. }
        ));
        assert!(matches!(
            classify(Outcome::Status(500, &h), 1, true, &[]),
            RetryAction::DontRetry { .. }
        ));
        assert!(matches!(
            classify(Outcome::Transport, 1, true, &[]),
            RetryAction::Retry { .. }
        ));
    }

    #[test]
    fn attempts_are_bounded_and_accepted_statuses_are_done() {
        let h = HeaderMap::new();
        assert!(matches!(
            classify(Outcome::Status(429, &h), MAX_ATTEMPTS, true, &[]),
            RetryAction::DontRetry { .. }
        ));
        assert_eq!(
            classify(Outcome::Status(404, &h), 1, true, &[404]),
            RetryAction::Done
        );
        assert!(matches!(
            classify(Outcome::Status(401, &h), 3, true, &[]),
            RetryAction::DontRetry { .. }
        ));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 1..=6 {
            let d = backoff(attempt).as_secs_f64();
            let nominal = 0.3 * f64::from(1u32 << (attempt - 1));
            assert!(
                d >= nominal * 0.9 - 1e-9 && d <= nominal * 1.1 + 1e-9,
                "{attempt}: {d}"
            );
        }
        assert_eq!(backoff(40), MAX_BACKOFF);
    }

    #[test]
    fn large_integers_are_unix_times_and_dates_parse() {
        let soon = jiff::Timestamp::now().as_second() + 5;
        let d = parse_delay(&soon.to_string()).unwrap();
        assert!(d <= Duration::from_secs(5));
        assert_eq!(
            parse_delay("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            server_delay(&headers("x-ratelimit-reset", "3")),
            Some(Duration::from_secs(3))
        );
    }
}
