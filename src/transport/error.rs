//! Errors below HTTP status codes: URLs, trust, connections, timeouts and the deadline.
//! A status code is not an error here; `tenable::error` classifies those with the body.

/// How far a failed request got, which decides whether a password change may have landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The request never left this machine (DNS, refused connection, TLS handshake).
    NotSent,
    /// The request may have reached Tenable, but no answer came back.
    Unknown,
}

/// A failure of the shared HTTP transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The base URL is unusable.
    #[error(
        "the Tenable URL '{url}' is not usable: {reason}; correct tenable_url or tenable_sc_host in the key record (or TENABLE_URL / TENABLE_SC_HOST)"
    )]
    BadUrl {
        /// The URL as given (user info, if any, removed).
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The CA file named by TENABLE_CA_FILE could not be used.
    #[error(
        "the CA file '{path}' (TENABLE_CA_FILE) is not usable: {reason}; give a PEM file of CA certificates"
    )]
    CaFile {
        /// The path given.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The CA certificate given as text (the machine interface's `ca_pem`) is unusable.
    #[error(
        "the request's ca_pem is not usable: {reason}; give the PEM text of one or more CA certificates"
    )]
    CaPem {
        /// What went wrong.
        reason: String,
    },
    /// Resolving or connecting failed; nothing was sent.
    #[error("cannot connect to {host}: {reason}; check the URL, DNS, firewall and HTTPS_PROXY")]
    Connect {
        /// The host.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch, protocol).
    #[error(
        "TLS with {host} failed: {reason}; if Tenable sits behind a private CA, set TENABLE_CA_FILE to its PEM certificate"
    )]
    Tls {
        /// The host.
        host: String,
        /// What rustls reported.
        reason: String,
    },
    /// A request was sent (or may have been) and no complete answer came back in time.
    #[error(
        "no complete answer from {host} ({reason}); check the gateway's route to Tenable and any proxy in between, then run again"
    )]
    NoAnswer {
        /// The host.
        host: String,
        /// Timeout or connection failure detail.
        reason: String,
        /// Whether the request may have reached Tenable.
        delivery: Delivery,
    },
    /// A proxy variable names a proxy this client cannot use.
    #[error(
        "the proxy in {variable} is not usable: {reason}; fix or unset {variable} (the Tenable password was not changed)"
    )]
    BadProxy {
        /// The environment variable.
        variable: &'static str,
        /// Why.
        reason: String,
    },
    /// The answer crossed a size bound (total, one string, nesting).
    #[error(
        "{host} sent an answer that is not usable: {what}; something between the gateway and Tenable (a proxy, an inspection device) may be altering answers, or Tenable is failing: check with Tenable's status page, then run again"
    )]
    OverLimit {
        /// The host.
        host: String,
        /// Which bound.
        what: String,
    },
    /// The overall deadline ran out before the work was done.
    #[error(
        "the overall deadline of {seconds} s ran out (TENABLE_ROTATE_TIMEOUT, counted from the start of the run); Tenable or the network is slow: run again later, or raise TENABLE_ROTATE_TIMEOUT"
    )]
    Deadline {
        /// The deadline in seconds.
        seconds: u64,
    },
}

impl TransportError {
    /// Whether a request that failed this way may have reached Tenable.
    pub fn delivery(&self) -> Delivery {
        match self {
            TransportError::NoAnswer { delivery, .. } => *delivery,
            TransportError::Deadline { .. } | TransportError::OverLimit { .. } => Delivery::Unknown,
            _ => Delivery::NotSent,
        }
    }

    /// The same failure seen on a password change: a TLS failure there may have come after
    /// the request was written (a broken record, a reset mid-answer), so it no longer proves
    /// that nothing was sent (issue 10, row 5). Failures to connect still do.
    pub fn after_sending(self) -> TransportError {
        match self {
            TransportError::Tls { host, reason } => TransportError::NoAnswer {
                host,
                reason: format!("TLS failed during the exchange: {reason}"),
                delivery: Delivery::Unknown,
            },
            other => other,
        }
    }

    /// True for configuration problems (exit 2) rather than network ones (exit 6).
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            TransportError::BadUrl { .. }
                | TransportError::CaFile { .. }
                | TransportError::CaPem { .. }
                | TransportError::BadProxy { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::rotate::RotateError;

    /// Each failure, with whether it may have reached Tenable, the exit code of a run it
    /// ends before any change was sent, and the words in its message that say what to do.
    fn table() -> Vec<(TransportError, Delivery, u8, &'static str)> {
        use Delivery::{NotSent, Unknown};
        let host = || "cloud.tenable.com".to_owned();
        vec![
            (
                TransportError::BadUrl {
                    url: "ftp://x".to_owned(),
                    reason: "not https",
                },
                NotSent,
                2,
                "correct tenable_url or tenable_sc_host",
            ),
            (
                TransportError::CaFile {
                    path: "/etc/ca.pem".to_owned(),
                    reason: "no such file".to_owned(),
                },
                NotSent,
                2,
                "give a PEM file of CA certificates",
            ),
            (
                TransportError::CaPem {
                    reason: "no certificate".to_owned(),
                },
                NotSent,
                2,
                "give the PEM text of one or more CA certificates",
            ),
            (
                TransportError::BadProxy {
                    variable: "HTTPS_PROXY",
                    reason: "socks5 is not supported".to_owned(),
                },
                NotSent,
                2,
                "fix or unset HTTPS_PROXY",
            ),
            (
                TransportError::Connect {
                    host: host(),
                    reason: "refused".to_owned(),
                },
                NotSent,
                6,
                "check the URL, DNS, firewall and HTTPS_PROXY",
            ),
            (
                TransportError::Tls {
                    host: host(),
                    reason: "unknown issuer".to_owned(),
                },
                NotSent,
                6,
                "set TENABLE_CA_FILE",
            ),
            (
                TransportError::NoAnswer {
                    host: host(),
                    reason: "timed out".to_owned(),
                    delivery: Unknown,
                },
                Unknown,
                6,
                "check the gateway's route to Tenable",
            ),
            (
                TransportError::NoAnswer {
                    host: host(),
                    reason: "connection reset before sending".to_owned(),
                    delivery: NotSent,
                },
                NotSent,
                6,
                "check the gateway's route to Tenable",
            ),
            (
                TransportError::OverLimit {
                    host: host(),
                    what: "the answer is over 64 MiB".to_owned(),
                },
                Unknown,
                6,
                "Tenable's status page",
            ),
            (
                TransportError::Deadline { seconds: 120 },
                Unknown,
                6,
                "raise TENABLE_ROTATE_TIMEOUT",
            ),
        ]
    }

    #[test]
    fn only_a_failure_after_sending_may_have_reached_tenable() {
        for (e, delivery, _, _) in table() {
            assert_eq!(e.delivery(), delivery, "{e}");
        }
    }

    #[test]
    fn settings_problems_exit_2_and_network_problems_exit_6() {
        for (e, _, code, _) in table() {
            let text = e.to_string();
            assert_eq!(e.is_configuration(), code == 2, "{text}");
            let status = Error::from(RotateError::before_change(e.into())).exit_status();
            assert_eq!(status.code(), code, "{text}");
        }
    }

    #[test]
    fn each_message_says_what_to_fix() {
        for (e, _, _, words) in table() {
            let text = e.to_string();
            assert!(text.contains(words), "{text}");
        }
    }
}
