//! Scripted faults: answer the next requests with a rate limit or a 5xx, delay them, or drop
//! the connection before or after applying them (the ambiguous case a client must survive).
//!
//! Spec syntax, for `--fault`, `POST /_emulator/faults` and `FaultRule::from_str`:
//! `KIND[@ROUTE_PREFIX][*COUNT]`. KIND is `429` (with `Retry-After: 1`), `429:SECS`, another
//! status such as `500`, `502`, `503`, `504`, `delay:MILLIS`, `drop-before` or `drop-after`.
//! ROUTE_PREFIX is matched against `METHOD /path` (e.g. `PUT /users`); COUNT defaults to 1.

use std::fmt;
use std::str::FromStr;

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status (and `Retry-After` when given), without applying the request.
    Status {
        /// The status.
        code: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u32>,
    },
    /// Wait this long, then handle the request normally.
    DelayMillis(u64),
    /// Close the connection without applying the request.
    DropBefore,
    /// Apply the request, then close the connection without answering.
    DropAfter,
}

/// One armed fault: what, for which requests, how many more times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What happens.
    pub kind: FaultKind,
    /// Requests whose `METHOD /path` starts with this (all when `None`).
    pub route_prefix: Option<String>,
    /// Uses left.
    pub remaining: u32,
}

/// Why a fault spec was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpecError(String);

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; expected KIND[@ROUTE_PREFIX][*COUNT], KIND one of 429, 429:SECS, 500..=599, delay:MILLIS, drop-before, drop-after",
            self.0
        )
    }
}

impl std::error::Error for FaultSpecError {}

impl FromStr for FaultRule {
    type Err = FaultSpecError;
    fn from_str(spec: &str) -> Result<FaultRule, FaultSpecError> {
        let bad = |why: &str| FaultSpecError(format!("'{spec}': {why}"));
        let (rest, count) = match spec.rsplit_once('*') {
            Some((r, n)) => (
                r,
                n.trim()
                    .parse::<u32>()
                    .map_err(|_| bad("COUNT is not a number"))?,
            ),
            None => (spec, 1),
        };
        let (kind, prefix) = match rest.split_once('@') {
            Some((k, p)) => (
                k.trim(),
                Some(p.trim().to_owned()).filter(|p| !p.is_empty()),
            ),
            None => (rest.trim(), None),
        };
        let kind = match kind.split_once(':') {
            Some(("429", secs)) => FaultKind::Status {
                code: 429,
                retry_after: Some(secs.parse().map_err(|_| bad("SECS is not a number"))?),
            },
            Some(("delay", ms)) => {
                FaultKind::DelayMillis(ms.parse().map_err(|_| bad("MILLIS is not a number"))?)
            }
            Some(_) => return Err(bad("unknown KIND")),
            None => match kind {
                "drop-before" => FaultKind::DropBefore,
                "drop-after" => FaultKind::DropAfter,
                "429" => FaultKind::Status {
                    code: 429,
                    retry_after: Some(1),
                },
                code => match code.parse::<u16>() {
                    Ok(c) if (400..=599).contains(&c) => FaultKind::Status {
                        code: c,
                        retry_after: None,
                    },
                    _ => return Err(bad("unknown KIND")),
                },
            },
        };
        Ok(FaultRule {
            kind,
            route_prefix: prefix,
            remaining: count,
        })
    }
}

/// The armed faults, consumed in order.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    /// Arms a rule after those already armed.
    pub fn arm(&mut self, rule: FaultRule) {
        if rule.remaining > 0 {
            self.rules.push(rule);
        }
    }

    /// The fault for a request `METHOD /path`, if any: one use of the first matching rule.
    pub fn take(&mut self, route: &str) -> Option<FaultKind> {
        let at = self.rules.iter().position(|r| {
            r.route_prefix
                .as_deref()
                .is_none_or(|p| route.starts_with(p))
        })?;
        let rule = &mut self.rules[at];
        rule.remaining -= 1;
        let kind = rule.kind.clone();
        if rule.remaining == 0 {
            self.rules.remove(at);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(
            "429".parse(),
            Ok(FaultRule {
                kind: FaultKind::Status {
                    code: 429,
                    retry_after: Some(1)
                },
                route_prefix: None,
                remaining: 1
            })
        );
        let r: FaultRule = "503@GET /users*3".parse().unwrap();
        assert_eq!(
            (r.kind, r.route_prefix.as_deref(), r.remaining),
            (
                FaultKind::Status {
                    code: 503,
                    retry_after: None
                },
                Some("GET /users"),
                3
            )
        );
        assert_eq!(
            "delay:250".parse::<FaultRule>().unwrap().kind,
            FaultKind::DelayMillis(250)
        );
        assert_eq!(
            "drop-after@PUT /users".parse::<FaultRule>().unwrap().kind,
            FaultKind::DropAfter
        );
        for bad in ["200", "teapot", "429:x", "delay:", "503*x"] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn consumes_in_order_per_route() {
        let mut f = Faults::default();
        f.arm("503@PUT /users*2".parse().unwrap());
        f.arm("drop-before".parse().unwrap());
        assert_eq!(f.take("GET /users"), Some(FaultKind::DropBefore));
        assert_eq!(f.take("GET /users"), None);
        assert_eq!(
            f.take("PUT /users/2/chpasswd"),
            Some(FaultKind::Status {
                code: 503,
                retry_after: None
            })
        );
        assert_eq!(
            f.take("PUT /users/2/chpasswd"),
            Some(FaultKind::Status {
                code: 503,
                retry_after: None
            })
        );
        assert_eq!(f.take("PUT /users/2/chpasswd"), None);
    }
}
