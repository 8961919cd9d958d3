//! Retry decisions and the shared request budget for Azure DevOps (ado-api.md §4): 429 and
//! `Retry-After` always honoured (also on a 200, before the next request), 5xx/408 and transport
//! errors retried for GETs and idempotent POSTs only, with bounded exponential backoff + jitter.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// Attempts per request (the Python integration allows 10 with ~6-minute sleeps; a shorter,
/// Retry-After-driven policy recovers faster).
pub const MAX_ATTEMPTS: u32 = 6;
/// Base of the exponential backoff.
pub const BASE_DELAY: Duration = Duration::from_millis(500);
/// Cap on one wait (also caps a server-sent `Retry-After`).
pub const MAX_BACKOFF: Duration = Duration::from_mins(5);

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAction {
    /// Done (success, or a status the caller handles).
    Done,
    /// Try again after `after`.
    Retry {
        /// Wait first.
        after: Duration,
        /// Why.
        reason: String,
    },
    /// Give up.
    DontRetry {
        /// Why.
        reason: String,
    },
}

/// Decides about attempt `attempt` (1-based) that ended with `status` (`None` = transport error).
#[must_use]
pub fn classify(
    status: Option<u16>,
    headers: Option<&HeaderMap>,
    attempt: u32,
    idempotent: bool,
) -> RetryAction {
    let retryable = match status {
        Some(s) if (200..300).contains(&s) || s == 404 => return RetryAction::Done,
        Some(429) => true,
        Some(408 | 500 | 502 | 503 | 504) | None => idempotent,
        Some(_) => false,
    };
    let reason = status.map_or_else(|| "transport error".to_owned(), |s| format!("HTTP {s}"));
    if !retryable {
        return RetryAction::DontRetry { reason };
    }
    if attempt >= MAX_ATTEMPTS {
        return RetryAction::DontRetry {
            reason: format!("{reason}; gave up after {attempt} attempts"),
        };
    }
    let after = headers
        .and_then(retry_after)
        .unwrap_or_else(|| backoff(attempt));
    RetryAction::Retry {
        after: after.min(MAX_BACKOFF),
        reason,
    }
}

/// `Retry-After` in seconds (Azure DevOps sends integers; decimals accepted).
#[must_use]
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    Duration::try_from_secs_f64(header_number(headers, "retry-after")?).ok()
}

/// A numeric header (names match case-insensitively); `None` when absent or not a number.
fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()
}

/// How long to hold every new request back when the `X-RateLimit-*` headers say the budget is
/// nearly spent: until `X-RateLimit-Reset` (Unix seconds) once `X-RateLimit-Remaining` is at or
/// below a tenth of `X-RateLimit-Limit` or the organization's concurrency (that many requests
/// may start, each costing a unit, before the next response is read). Azure DevOps sends these
/// headers before it delays or blocks anything, so that clients can slow down first
/// (ado-api.md §4).
#[must_use]
pub fn rate_limit_pause(
    headers: &HeaderMap,
    concurrency: usize,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let remaining = header_number(headers, "x-ratelimit-remaining")?;
    let limit = header_number(headers, "x-ratelimit-limit").unwrap_or(0.0);
    let reset = header_number(headers, "x-ratelimit-reset")?;
    #[expect(clippy::cast_precision_loss, reason = "concurrency is small")]
    let reserve = (limit / 10.0).max(concurrency as f64);
    if remaining > reserve {
        return None;
    }
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Duration::try_from_secs_f64(reset - now)
        .ok()
        .filter(|d| !d.is_zero())
        .map(|d| d.min(MAX_BACKOFF))
}

/// Exponential backoff with ±20% jitter, capped.
#[must_use]
pub fn backoff(attempt: u32) -> Duration {
    let exp = BASE_DELAY.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    exp.mul_f64(0.8 + fastrand::f64() * 0.4).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn throttling_is_retried_after_the_servers_delay_and_posts_only_when_idempotent() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(
            classify(Some(429), Some(&h), 1, false),
            RetryAction::Retry {
                after: Duration::from_secs(3),
                reason: "HTTP 429".into()
            }
        );
        assert!(matches!(
            classify(Some(503), None, 1, false),
            RetryAction::DontRetry { .. }
        ));
        assert!(matches!(
            classify(Some(503), None, 1, true),
            RetryAction::Retry { .. }
        ));
        assert!(matches!(
            classify(Some(400), None, 1, true),
            RetryAction::DontRetry { .. }
        ));
        assert!(matches!(
            classify(Some(429), Some(&h), MAX_ATTEMPTS, true),
            RetryAction::DontRetry { .. }
        ));
        assert_eq!(classify(Some(404), None, 1, true), RetryAction::Done);
    }

    #[test]
    fn a_nearly_spent_rate_limit_pauses_until_its_reset() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000);
        let headers = |remaining: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("X-RateLimit-Limit", HeaderValue::from_static("200"));
            h.insert("X-RateLimit-Remaining", HeaderValue::from_static(remaining));
            h.insert("X-RateLimit-Reset", HeaderValue::from_static("1003"));
            h
        };
        assert_eq!(rate_limit_pause(&headers("150"), 4, now), None);
        assert_eq!(
            rate_limit_pause(&headers("20"), 4, now),
            Some(Duration::from_secs(3)),
            "a tenth of the limit left"
        );
        assert_eq!(
            rate_limit_pause(&headers("30"), 40, now),
            Some(Duration::from_secs(3)),
            "fewer left than requests that may start"
        );
        let past = now + Duration::from_secs(10);
        assert_eq!(
            rate_limit_pause(&headers("0"), 1, past),
            None,
            "reset passed"
        );
        assert_eq!(rate_limit_pause(&HeaderMap::new(), 1, now), None);
    }
}
