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
