//! What is retried, how long to wait, and the rule that a password write is never resent
//! blindly.
//!
//! Idempotent requests (reads, credential updates) are retried on 429, 502, 503 and 504 and on connection
//! failures, up to `max_retries`. User password changes and logins are retried only when Tenable
//! has said it did not process them: 429 (rate limited) and 503 (unavailable), or when the
//! connection failed before anything was sent. A 502 or 504 comes from a proxy in front of
//! Tenable that may have passed the write on, so it is treated like a lost answer: the
//! caller checks the resulting state instead of resending (see `rotate`).
//!
//! Backoff is exponential with full jitter, capped, and `Retry-After` (seconds or an HTTP
//! date) wins when present. The sleep itself is done by the transport, inside one deadline.

use std::time::{Duration, SystemTime};

/// Whether a request changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Repeating it cannot change the outcome: reads, and a credential update that sets the
    /// same value again (credentials have no password history).
    Idempotent,
    /// A user password change or a login: never repeated unless Tenable said it was not
    /// processed. A replayed change can trip "cannot reuse password"; a replayed login counts
    /// towards lockout.
    Once,
}

/// The retry policy: limits and backoff.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (pyTenable uses 5).
    pub max_retries: u32,
    /// First backoff step.
    pub base_delay: Duration,
    /// Longest single wait, including a server's `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Whether a response with `status` should be retried for a request of `kind`.
    pub fn retries_status(&self, kind: RequestKind, status: u16) -> bool {
        match kind {
            RequestKind::Idempotent => matches!(status, 429 | 502 | 503 | 504),
            RequestKind::Once => matches!(status, 429 | 503),
        }
    }

    /// How long to wait before retry number `retry` (1-based), given a `Retry-After` value.
    /// `random` is a number in [0, 1) for the jitter.
    pub fn delay(
        &self,
        retry: u32,
        retry_after: Option<&str>,
        now: SystemTime,
        random: f64,
    ) -> Duration {
        if let Some(wait) = retry_after.and_then(|v| parse_retry_after(v, now)) {
            return wait.min(self.max_delay);
        }
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        // Full jitter: anywhere in [exp/2, exp), so parallel runs spread out but still back off.
        exp.mul_f64(0.5 + random.clamp(0.0, 1.0) / 2.0)
    }
}

/// Parses `Retry-After`: delta seconds (what Tenable sends) or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = httpdate_to_system_time(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses the IMF-fixdate form of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), the only
/// form RFC 9110 says senders generate.
fn httpdate_to_system_time(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 || year < 1970 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), valid for years >= 1970.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_retried_only_when_tenable_refused_them() {
        let p = RetryPolicy::default();
        for status in [429, 502, 503, 504] {
            assert!(p.retries_status(RequestKind::Idempotent, status));
        }
        assert!(p.retries_status(RequestKind::Once, 429));
        assert!(p.retries_status(RequestKind::Once, 503));
        assert!(!p.retries_status(RequestKind::Once, 502));
        assert!(!p.retries_status(RequestKind::Once, 504));
        assert!(!p.retries_status(RequestKind::Idempotent, 500));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let now = SystemTime::now();
        assert_eq!(p.delay(1, None, now, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(3, None, now, 0.0), Duration::from_millis(200));
        assert!(p.delay(3, None, now, 0.999) < Duration::from_millis(400));
        assert_eq!(p.delay(10, None, now, 0.0), Duration::from_millis(500));
        assert_eq!(
            p.delay(1, Some("120"), now, 0.0),
            Duration::from_secs(1),
            "Retry-After is capped"
        );
        assert_eq!(p.delay(1, Some("0"), now, 0.5), Duration::ZERO);
    }
}
