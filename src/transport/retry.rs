//! What is retried, how long to wait, and the rule that a password change is never resent
//! blindly.
//!
//! Reads are retried on 429, 502, 503 and 504 and on connection failures, up to
//! `max_retries`. Logins are retried only on 429 and 503, when Tenable said it did not
//! process them (a replayed login counts towards lockout). A password change is never
//! retried here, whatever the answer: a 503 or 429 can come from a proxy in front of Tenable
//! after the change was passed on (issue 10, row 6). Only a connection that failed before
//! anything was sent is tried again. The caller (`rotate`) decides what an unclear answer
//! means, by checking, and resends only when a check proved the first send did not land.
//!
//! Backoff is exponential with full jitter, capped, and `Retry-After` (seconds or an HTTP
//! date) wins when present. The sleep itself is done by the transport, inside one deadline.

use std::time::{Duration, SystemTime};

/// What a request does, which decides whether the transport may repeat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A read: repeating it changes nothing.
    Read,
    /// A login that checks a password: repeated only when Tenable said it did not process it,
    /// since each processed failure counts towards lockout.
    Login,
    /// A password change: never repeated by the transport.
    Change,
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
            RequestKind::Read => matches!(status, 429 | 502 | 503 | 504),
            RequestKind::Login => matches!(status, 429 | 503),
            RequestKind::Change => false,
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

/// Parses `Retry-After`: delta seconds (what Tenable sends) or an HTTP date. Saturates: a
/// date too far ahead to represent is "a very long wait", which the caller caps, never a
/// panic (issue 10, row 8).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    match httpdate_seconds(value)? {
        Some(secs) => match SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)) {
            Some(at) => Some(at.duration_since(now).unwrap_or(Duration::ZERO)),
            None => Some(Duration::MAX),
        },
        None => Some(Duration::MAX),
    }
}

/// Parses the IMF-fixdate form of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), the only
/// form RFC 9110 says senders generate, to seconds since the epoch. `None` when it is not a
/// date; `Some(None)` when it is one too far ahead to count in seconds.
fn httpdate_seconds(value: &str) -> Option<Option<u64>> {
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
    if year.is_empty() || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // A year with more digits than u64 holds is far ahead, not malformed.
    let Ok(year) = year.parse::<u64>() else {
        return Some(None);
    };
    if year < 1970 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), valid for years >= 1970, in
    // checked arithmetic: any overflow means "too far ahead".
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let seconds = era
        .checked_mul(146_097)
        .and_then(|d| d.checked_add(doe))
        .and_then(|d| d.checked_sub(719_468))
        .and_then(|d| d.checked_mul(86_400))
        .and_then(|d| d.checked_add(h * 3600 + m * 60 + s));
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_never_retried_and_logins_only_when_unprocessed() {
        let p = RetryPolicy::default();
        for status in [429, 502, 503, 504] {
            assert!(p.retries_status(RequestKind::Read, status));
        }
        assert!(!p.retries_status(RequestKind::Read, 500));
        assert!(p.retries_status(RequestKind::Login, 429));
        assert!(p.retries_status(RequestKind::Login, 503));
        assert!(!p.retries_status(RequestKind::Login, 502));
        assert!(!p.retries_status(RequestKind::Login, 504));
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(!p.retries_status(RequestKind::Change, status), "{status}");
        }
    }

    #[test]
    fn far_future_dates_saturate_instead_of_panicking() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        for far in [
            "Sun, 06 Nov 584554051223 08:49:37 GMT",
            "Sun, 06 Nov 99999999999999999999999999 08:49:37 GMT",
            "Sun, 06 Nov 18446744073709551615 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(far, now), Some(Duration::MAX), "{far}");
        }
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(1, Some("Sun, 06 Nov 584554051223 08:49:37 GMT"), now, 0.0),
            p.max_delay
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov -5 08:49:37 GMT", now), None);
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

    #[test]
    fn jitter_spreads_the_wait_over_the_upper_half_of_the_step() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        };
        let now = SystemTime::UNIX_EPOCH;
        // Halfway through the jitter range is three quarters of the step, at every retry.
        assert_eq!(p.delay(1, None, now, 0.5), Duration::from_millis(75));
        assert_eq!(p.delay(2, None, now, 0.5), Duration::from_millis(150));
        assert_eq!(p.delay(4, None, now, 0.5), Duration::from_millis(600));
        // A random number out of range is clamped, never a wait beyond the step.
        assert_eq!(p.delay(2, None, now, 7.0), Duration::from_millis(200));
    }

    #[test]
    fn http_dates_count_exact_seconds_since_the_epoch() {
        for (date, secs) in [
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            // The last second of a day, and a leap second, which IMF-fixdate allows.
            ("Sun, 06 Nov 1994 23:59:59 GMT", 784_166_399),
            ("Sun, 06 Nov 1994 23:59:60 GMT", 784_166_400),
            // January and February count from the year before in the day algorithm.
            ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),
            ("Wed, 31 Jan 2024 12:00:00 GMT", 1_706_702_400),
            ("Mon, 01 Mar 2100 00:00:00 GMT", 4_107_542_400),
        ] {
            assert_eq!(httpdate_seconds(date), Some(Some(secs)), "{date}");
        }
    }

    #[test]
    fn out_of_range_date_parts_are_not_a_date() {
        for bad in [
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
        ] {
            assert_eq!(httpdate_seconds(bad), None, "{bad}");
            // Not a date is not a wait either: the caller falls back to its own backoff.
            let now = SystemTime::UNIX_EPOCH;
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
