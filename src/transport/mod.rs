//! The one HTTP layer under both Tenable clients: URL rules, trust, timeouts, the auth
//! header, retries and the overall deadline.
//!
//! One `ureq::Agent` is built from a [`TransportConfig`] whose `Default` names every value.
//! Safe defaults, each for a reason:
//! - HTTPS only; `http://` solely for loopback hosts, which is what the emulator and tests use.
//! - No redirects: `X-ApiKeys` is not `Authorization`, so an HTTP client would carry it to
//!   whatever host a redirect names.
//! - Status codes are not errors here, so `tenable::error` sees Tenable's error body.
//! - The OS trust store (where gateway images install corporate CAs) plus `TENABLE_CA_FILE`.
//! - `HTTPS_PROXY` / `NO_PROXY` from the environment for https targets only: a plain-http
//!   (loopback) target never goes through a proxy, which would see the keys in cleartext, and
//!   a proxy variable with a scheme we cannot use is an error, never silently ignored.
//! - rustls, so TLS 1.2 or 1.3 only.
//! - Every answer body is bounded ([`bounded`]); a password change is never resent
//!   (`retry`); one deadline, counted from process start ([`crate::clock`]), covers it all.
//!
//! This module knows Tenable only as "a base URL and an auth header"; it does not parse
//! bodies, beyond handing a bounded streaming reader to a caller that wants one. A list
//! answer is received and inflated on a second thread, up to 256 KiB ahead of the caller's
//! parser (`transport/ahead.rs`).

mod ahead;
pub mod bounded;
mod error;
pub mod items;
mod retry;

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use ureq::http;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::{Agent, RequestExt};
use url::{Host, Url};

pub use bounded::{BodyLimits, BoundedJson};
pub use error::{Delivery, TransportError};
pub use retry::{RequestKind, RetryPolicy, parse_retry_after};

use crate::secret::Secret;

/// A validated Tenable base URL: https, or http to a loopback host; no query or user info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Validates `input`. A bare host name (`sc.example.com`, `10.0.0.5:8443`) gets `https://`.
    pub fn parse(input: &str) -> Result<BaseUrl, TransportError> {
        let trimmed = input.trim();
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let bad = |reason| TransportError::BadUrl {
            url: strip_userinfo(trimmed),
            reason,
        };
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        let url = Url::parse(&with_scheme).map_err(|_| bad("it is not a URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("it must not carry a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it must not have a query or fragment"));
        }
        let host = url.host().ok_or_else(|| bad("it has no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(bad(
                    "http:// is allowed only for loopback hosts; use https://",
                ));
            }
            _ => return Err(bad("the scheme must be https://")),
        }
        Ok(BaseUrl(url))
    }

    /// The host, for messages.
    pub fn host(&self) -> String {
        match self.0.port() {
            Some(port) => format!("{}:{port}", self.0.host_str().unwrap_or_default()),
            None => self.0.host_str().unwrap_or_default().to_owned(),
        }
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// True for https.
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    fn join(&self, path_and_query: &str) -> String {
        format!("{}{}", self.as_str(), path_and_query)
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn strip_userinfo(input: &str) -> String {
    match (input.find("://"), input.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &input[..s], &input[at + 1..]),
        (None, Some(at)) => format!("…@{}", &input[at + 1..]),
        _ => input.to_owned(),
    }
}

/// Everything the transport needs, with every default spelled out.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Extra CA certificates (PEM) trusted besides the OS store.
    pub ca_file: Option<PathBuf>,
    /// Extra CA certificates given as PEM text (the machine interface's `ca_pem`).
    pub ca_pem: Option<String>,
    /// Longest wait to connect (DNS, TCP, TLS, proxy).
    pub connect_timeout: Duration,
    /// Longest wait for one request's answer.
    pub request_timeout: Duration,
    /// Bound on the whole run, counted from process start, every retry and wait included.
    pub deadline: Duration,
    /// What is retried and how long to wait.
    pub retry: RetryPolicy,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            ca_file: None,
            ca_pem: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// The auth header a platform uses; its value is built at send time and never stored whole.
#[derive(Debug, Clone)]
pub struct ApiKeyHeader {
    /// Header name (`X-ApiKeys` for TVM, `x-apikey` for SC).
    pub name: &'static str,
    /// Name of the access key inside the value (`accessKey` / `accesskey`).
    pub access_label: &'static str,
    /// Name of the secret key inside the value (`secretKey` / `secretkey`).
    pub secret_label: &'static str,
    /// The access key.
    pub access_key: Secret,
    /// The secret key.
    pub secret_key: Secret,
}

/// One answer from Tenable, whatever its status.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Tenable's `X-Request-Uuid`, kept for error messages and support cases; only when it
    /// has the shape of a request id (a hostile answer could put anything there).
    pub request_id: Option<String>,
    /// The first `Set-Cookie`, for SC's token session.
    pub set_cookie: Option<String>,
    /// The body, decompressed.
    pub body: Vec<u8>,
}

/// A request to send: method, path with query, optional JSON body, extra headers.
pub struct Call<'a> {
    /// HTTP method.
    pub method: http::Method,
    /// Path and query, starting with `/`, already percent-encoded.
    pub path: &'a str,
    /// JSON body, if any. The caller keeps it in a wiped buffer.
    pub body: Option<&'a [u8]>,
    /// Read, login or change, which decides the retry rule.
    pub kind: RequestKind,
    /// Bounds on the answer's body.
    pub limits: BodyLimits,
    /// Send the API keys (false for logins that verify a password).
    pub authenticated: bool,
    /// Extra headers, e.g. a session token.
    pub headers: Vec<(&'static str, Secret)>,
}

impl<'a> Call<'a> {
    /// An authenticated GET.
    pub fn get(path: &'a str) -> Self {
        Call {
            method: http::Method::GET,
            path,
            body: None,
            kind: RequestKind::Read,
            limits: BodyLimits::DOCUMENT,
            authenticated: true,
            headers: Vec::new(),
        }
    }

    /// The same call with other body limits.
    pub fn limits(mut self, limits: BodyLimits) -> Self {
        self.limits = limits;
        self
    }

    /// An authenticated request with a JSON body.
    pub fn with_body(
        method: http::Method,
        path: &'a str,
        body: &'a [u8],
        kind: RequestKind,
    ) -> Self {
        Call {
            method,
            path,
            body: Some(body),
            kind,
            limits: BodyLimits::DOCUMENT,
            authenticated: true,
            headers: Vec::new(),
        }
    }
}

/// The HTTP transport for one run: an agent, a base URL, the keys, and the deadline.
pub struct Transport {
    agent: Agent,
    base: BaseUrl,
    keys: ApiKeyHeader,
    retry: RetryPolicy,
    request_timeout: Duration,
    deadline: Instant,
    deadline_secs: u64,
    /// TVM asks integrations to mark retries (`X-Tio-Retry-Count`); SC has no such header.
    mark_retries: bool,
    user_agent: String,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// The User-Agent in Tenable's integration form (developer.tenable.com/docs/user-agent-header).
pub fn user_agent() -> String {
    format!(
        "Integration/1.0 (tenable-rotate; tenable-rotate; Build/{}) tenable-rotate/{} ({}/{})",
        crate::BUILD,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

impl Transport {
    /// Builds the agent. Loads the OS trust store only for https.
    pub fn new(
        base: BaseUrl,
        keys: ApiKeyHeader,
        config: &TransportConfig,
        mark_retries: bool,
    ) -> Result<Transport, TransportError> {
        let tls = if base.is_https() {
            TlsConfig::builder()
                .root_certs(root_certs(
                    config.ca_file.as_ref(),
                    config.ca_pem.as_deref(),
                )?)
                .build()
        } else {
            TlsConfig::default()
        };
        // Every proxy variable is checked, whatever the target, so that a mistake in one is
        // never silent; a plain-http (loopback) target then goes direct all the same.
        let proxy = proxy_from_env(&|name| std::env::var(name).ok())?.filter(|_| base.is_https());
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .https_only(false) // enforced by BaseUrl, which allows loopback http
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(proxy)
            .tls_config(tls)
            .timeout_connect(Some(config.connect_timeout))
            .user_agent(user_agent())
            .build()
            .into();
        Ok(Transport {
            agent,
            base,
            keys,
            retry: config.retry.clone(),
            request_timeout: config.request_timeout,
            deadline: crate::clock::since_start(config.deadline),
            deadline_secs: config.deadline.as_secs(),
            mark_retries,
            user_agent: user_agent(),
        })
    }

    /// The base URL.
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// The User-Agent sent.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Sends `call`, retrying per the policy, and reads the whole body within its limits.
    pub fn send(&self, call: &Call<'_>) -> Result<Reply, TransportError> {
        self.send_with(call, |mut reply, body| {
            if let Some(reader) = body {
                reply.body =
                    bounded::read_bounded(reader, call.limits).map_err(|e| self.body_error(&e))?;
            }
            Ok(reply)
        })
    }

    /// Sends `call` for a list answer `{KEY: [item, …], …}`; on a 2xx answer, streams the
    /// items' texts to `each` one at a time, for it to parse (only those `wanted` says may
    /// matter, when given: [`items::for_each_item_text`]), so a 200 000-user list is never
    /// held whole, and returns how many there were. The reply's body is then empty.
    /// Other answers are read whole, for the error, and `each` is not called.
    ///
    /// The call's limits hold on the stream, with [`items::ITEM_MAX`] for one item; a crossed
    /// bound or a connection broken mid-body is a [`TransportError`]; a malformed answer is
    /// the inner `Err`. `whole`, when given, reads the items it can before they are cut
    /// ([`items::for_each_item_read`]).
    pub fn send_list(
        &self,
        call: &Call<'_>,
        key: &str,
        wanted: Option<items::Wanted<'_>>,
        whole: Option<items::ReadWhole<'_>>,
        each: &mut dyn FnMut(&[u8]) -> Result<(), serde_json::Error>,
    ) -> Result<(Reply, Option<Result<u64, serde_json::Error>>), TransportError> {
        let each = std::cell::RefCell::new(each);
        let whole = std::cell::RefCell::new(whole);
        self.send_with(call, |reply, body| {
            Ok(match body {
                Some(reader) => {
                    let mut each = each.borrow_mut();
                    let mut whole = whole.borrow_mut();
                    let whole = whole.as_mut().map(|w| &mut **w as items::ReadWhole<'_>);
                    // Receiving and inflating run beside cutting and parsing.
                    let parsed = ahead::read_ahead(reader, |ahead| {
                        items::for_each_item_from(
                            ahead,
                            key,
                            call.limits,
                            wanted,
                            whole,
                            &mut **each,
                        )
                    });
                    if let Err(e) = &parsed {
                        if e.io_error_kind().is_some() {
                            // Over a bound, or the connection broke mid-body: either way the
                            // answer is not usable, and saying which helps the admin.
                            return Err(self.streamed_body_error(e));
                        }
                    }
                    (reply, Some(parsed))
                }
                None => (reply, None),
            })
        })
    }

    /// The retry loop. `finish` gets every final reply: with a body reader for 2xx, with the
    /// body already read for anything else.
    fn send_with<T>(
        &self,
        call: &Call<'_>,
        finish: impl Fn(Reply, Option<ureq::BodyReader<'static>>) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        let url = self.base.join(call.path);
        let mut last_request_id: Option<String> = None;
        let mut retry = 0u32;
        loop {
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(TransportError::Deadline {
                    seconds: self.deadline_secs,
                });
            }
            let request = self.build(call, &url, retry, last_request_id.as_deref())?;
            let timeout = remaining.min(self.request_timeout);
            let outcome = request
                .with_agent(&self.agent)
                .configure()
                .timeout_global(Some(timeout))
                .build()
                .run();
            // Each arm either returns, or yields how long to wait before the next attempt.
            // When the deadline leaves no room for that wait, the last answer or error is
            // returned as it is: it says more than "deadline".
            let room =
                |wait: Duration| wait < self.deadline.saturating_duration_since(Instant::now());
            let wait = match outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let header = |name: &str| {
                        response
                            .headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    let request_id = header("x-request-uuid")
                        .as_deref()
                        .and_then(crate::untrusted::request_id);
                    let retry_after = header("retry-after");
                    let set_cookie = header("set-cookie");
                    let mut body = response.into_body();
                    if (200..300).contains(&status) {
                        let reply = Reply {
                            status,
                            request_id,
                            set_cookie,
                            body: Vec::new(),
                        };
                        // Owned, so a list's reading thread may outlive its parser.
                        let reader = body.into_with_config().limit(u64::MAX).reader();
                        return finish(reply, Some(reader));
                    }
                    // An error answer is read only as far as its message could be shown.
                    let mut bytes = Vec::new();
                    body.with_config()
                        .limit(u64::MAX)
                        .reader()
                        .take(BodyLimits::ERROR.total)
                        .read_to_end(&mut bytes)
                        .map_err(|e| self.body_error(&e))?;
                    let wait = self.retry.delay(
                        retry + 1,
                        retry_after.as_deref(),
                        SystemTime::now(),
                        fastrand::f64(),
                    );
                    let retryable = self.retry.retries_status(call.kind, status)
                        && retry < self.retry.max_retries;
                    if !retryable || !room(wait) {
                        return finish(
                            Reply {
                                status,
                                request_id,
                                set_cookie,
                                body: bytes,
                            },
                            None,
                        );
                    }
                    last_request_id = request_id;
                    wait
                }
                Err(e) => {
                    let mut err = self.classify(e);
                    if call.kind == RequestKind::Change {
                        err = err.after_sending();
                    }
                    // A TLS failure will fail the same way again; a login or a password
                    // change that may have been sent is checked by the caller, never resent
                    // here (module doc of `retry`).
                    let may_retry = match (&err, call.kind) {
                        (TransportError::Tls { .. }, _) => false,
                        (_, RequestKind::Read) => !err.is_configuration(),
                        (_, RequestKind::Login | RequestKind::Change) => {
                            err.delivery() == Delivery::NotSent
                        }
                    };
                    let wait =
                        self.retry
                            .delay(retry + 1, None, SystemTime::now(), fastrand::f64());
                    if !may_retry || retry >= self.retry.max_retries || !room(wait) {
                        return Err(err);
                    }
                    wait
                }
            };
            std::thread::sleep(wait);
            retry += 1;
        }
    }

    fn body_error(&self, e: &std::io::Error) -> TransportError {
        if bounded::is_over_limit(e) {
            return TransportError::OverLimit {
                host: self.base.host(),
                what: e.get_ref().map(|i| i.to_string()).unwrap_or_default(),
            };
        }
        TransportError::NoAnswer {
            host: self.base.host(),
            reason: format!("reading the answer failed: {}", e.kind()),
            delivery: Delivery::Unknown,
        }
    }

    fn streamed_body_error(&self, e: &serde_json::Error) -> TransportError {
        // serde_json keeps the io::Error's text; the over-limit marker is ours, and its
        // text names only which bound.
        let text = e.to_string();
        if text.contains("over the size bounds") {
            let what = text
                .split(" at line")
                .next()
                .unwrap_or("the answer is over the size bounds")
                .to_owned();
            return TransportError::OverLimit {
                host: self.base.host(),
                what,
            };
        }
        TransportError::NoAnswer {
            host: self.base.host(),
            reason: "the connection broke while reading the answer".into(),
            delivery: Delivery::Unknown,
        }
    }

    fn build<'b>(
        &self,
        call: &Call<'b>,
        url: &str,
        retry: u32,
        last_request_id: Option<&str>,
    ) -> Result<http::Request<&'b [u8]>, TransportError> {
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(url)
            .header("accept", "application/json");
        if call.body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        if call.authenticated {
            // Built here, at send time, and dropped with the request: the one place the keys
            // are exposed. Tenable's documented form has a trailing `;`.
            let value = zeroize::Zeroizing::new(format!(
                "{}={}; {}={};",
                self.keys.access_label,
                self.keys.access_key.expose(),
                self.keys.secret_label,
                self.keys.secret_key.expose()
            ));
            builder = builder.header(self.keys.name, value.as_str());
        }
        for (name, value) in &call.headers {
            builder = builder.header(*name, value.expose());
        }
        if retry > 0 && self.mark_retries {
            builder = builder.header("x-tio-retry-count", retry.to_string());
            if let Some(id) = last_request_id {
                builder = builder.header("x-tio-last-request-uuid", id);
            }
        }
        builder
            .body(call.body.unwrap_or(&[]))
            .map_err(|_| TransportError::BadUrl {
                url: url.to_owned(),
                reason: "it cannot be used in a request (bad characters in the path or a header)",
            })
    }

    /// Maps a ureq failure to our error, deciding whether the request may have been sent.
    fn classify(&self, error: ureq::Error) -> TransportError {
        use std::io::ErrorKind as K;
        use ureq::Timeout as T;
        let host = self.base.host();
        match error {
            ureq::Error::HostNotFound => TransportError::Connect {
                host,
                reason: "host name not found".into(),
            },
            ureq::Error::ConnectionFailed => TransportError::Connect {
                host,
                reason: "connection failed".into(),
            },
            ureq::Error::Io(e)
                if matches!(
                    e.kind(),
                    K::ConnectionRefused
                        | K::AddrNotAvailable
                        | K::NotFound
                        | K::HostUnreachable
                        | K::NetworkUnreachable
                ) =>
            {
                TransportError::Connect {
                    host,
                    reason: e.kind().to_string(),
                }
            }
            ureq::Error::Timeout(t @ (T::Resolve | T::Connect)) => TransportError::Connect {
                host,
                reason: format!("timed out ({t})"),
            },
            ureq::Error::Rustls(e) => TransportError::Tls {
                host,
                reason: e.to_string(),
            },
            // A handshake failure reaches us as an I/O error wrapping the rustls error.
            ureq::Error::Io(e)
                if e.get_ref()
                    .and_then(|i| i.downcast_ref::<rustls::Error>())
                    .is_some() =>
            {
                let reason = e
                    .get_ref()
                    .and_then(|i| i.downcast_ref::<rustls::Error>())
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                TransportError::Tls { host, reason }
            }
            ureq::Error::Tls(e) => TransportError::Tls {
                host,
                reason: e.to_owned(),
            },
            ureq::Error::Pem(_) => TransportError::Tls {
                host,
                reason: "bad PEM data".into(),
            },
            ureq::Error::InvalidProxyUrl => TransportError::Connect {
                host,
                reason: "the proxy URL in HTTPS_PROXY is invalid".into(),
            },
            ureq::Error::Timeout(t) => TransportError::NoAnswer {
                host,
                reason: format!("timed out: {t}"),
                delivery: Delivery::Unknown,
            },
            ureq::Error::Io(e) => TransportError::NoAnswer {
                host,
                reason: e.kind().to_string(),
                delivery: Delivery::Unknown,
            },
            ureq::Error::Protocol(e) => TransportError::NoAnswer {
                host,
                reason: format!("bad HTTP answer: {e}"),
                delivery: Delivery::Unknown,
            },
            other => TransportError::NoAnswer {
                host,
                reason: other.to_string(),
                delivery: Delivery::Unknown,
            },
        }
    }
}

/// The proxy variables ureq reads, in its order.
pub const PROXY_VARIABLES: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// The proxy for an https target, from the environment (`get` reads a variable). Every
/// proxy variable that is set must name an `http://` or `https://` proxy (or a bare
/// `host:port`, which means http): a `socks5://` or unknown scheme is refused with the
/// variable named, where ureq would pass over it silently and connect directly
/// (issue 10, row 4).
pub fn proxy_from_env(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ureq::Proxy>, TransportError> {
    for variable in PROXY_VARIABLES {
        let Some(value) = get(variable).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let scheme = value
            .trim()
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase());
        let supported = matches!(scheme.as_deref(), None | Some("http") | Some("https"));
        if !supported {
            return Err(TransportError::BadProxy {
                variable,
                reason: format!(
                    "its scheme '{}://' is not supported (use an http:// or https:// proxy)",
                    crate::untrusted::field(scheme.as_deref().unwrap_or_default())
                ),
            });
        }
        if ureq::Proxy::new(value.trim()).is_err() {
            return Err(TransportError::BadProxy {
                variable,
                reason: "it is not a proxy URL".into(),
            });
        }
    }
    Ok(ureq::Proxy::try_from_env())
}

/// The OS trust store plus the certificates in `ca_file`. If the OS store is empty (a bare
/// container), Mozilla's roots compiled into the binary stand in for it.
fn root_certs(
    ca_file: Option<&PathBuf>,
    ca_pem: Option<&str>,
) -> Result<RootCerts, TransportError> {
    let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    let from_os = !certs.is_empty();
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| TransportError::CaFile {
            path: shown.clone(),
            reason: e.kind().to_string(),
        })?;
        sources.push((shown, pem));
    }
    if let Some(pem) = ca_pem {
        sources.push(("(ca_pem)".to_owned(), pem.as_bytes().to_vec()));
    }
    for (shown, pem) in &sources {
        // The same refusal, named for where the PEM came from.
        let unusable = |reason: &str| {
            if shown == "(ca_pem)" {
                TransportError::CaPem {
                    reason: reason.into(),
                }
            } else {
                TransportError::CaFile {
                    path: shown.clone(),
                    reason: reason.into(),
                }
            }
        };
        let mut found = 0;
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(PemItem::Certificate(cert)) => {
                    certs.push(cert.to_owned());
                    found += 1;
                }
                Ok(_) => {}
                Err(_) => return Err(unusable("it is not valid PEM")),
            }
        }
        if found == 0 {
            return Err(unusable("it holds no certificate"));
        }
    }
    if !from_os && sources.is_empty() {
        return Ok(RootCerts::WebPki);
    }
    Ok(RootCerts::from(certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        assert_eq!(
            BaseUrl::parse("https://cloud.tenable.com/")
                .unwrap()
                .as_str(),
            "https://cloud.tenable.com"
        );
        assert_eq!(
            BaseUrl::parse("sc.example.com:8443").unwrap().as_str(),
            "https://sc.example.com:8443"
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "http://127.1.2.3",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://cloud.tenable.com",
            "http://10.0.0.1",
            "ftp://x",
            "",
            "https://u:p@host",
            "https://h/?q=1",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        let err = BaseUrl::parse("https://admin:hunter2@host")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn proxy_variables_with_unusable_schemes_are_refused_by_name() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let err = proxy_from_env(&env(&[("ALL_PROXY", "socks5://127.0.0.1:1")])).unwrap_err();
        assert!(err.is_configuration());
        assert!(err.to_string().contains("ALL_PROXY"), "{err}");
        assert!(err.to_string().contains("socks5"), "{err}");
        let err = proxy_from_env(&env(&[("https_proxy", "ftp://x")])).unwrap_err();
        assert!(err.to_string().contains("https_proxy"), "{err}");
        assert!(proxy_from_env(&env(&[("HTTPS_PROXY", "http://127.0.0.1:3128")])).is_ok());
        assert!(proxy_from_env(&env(&[("HTTP_PROXY", "127.0.0.1:3128")])).is_ok());
        assert!(proxy_from_env(&env(&[("HTTP_PROXY", "")])).is_ok());
    }

    #[test]
    fn user_agent_has_tenables_integration_form() {
        let ua = user_agent();
        assert!(
            ua.starts_with("Integration/1.0 (tenable-rotate; tenable-rotate; Build/"),
            "{ua}"
        );
    }
}
