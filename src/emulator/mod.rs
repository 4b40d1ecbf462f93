//! An in-process, in-memory Tenable stand-in served over real HTTP on loopback.
//!
//! It serves both APIs at once: Tenable Vulnerability Management at `/` and Security Center at
//! `/rest`, with the shapes, status codes and error bodies of the reference
//! (shared/reference/tenable-api.md) and pyTenable's recorded cassettes. It powers `demo`, the
//! end-to-end tests (which run the real binary against it and then inspect its state) and the
//! benchmarks. It can also misbehave on purpose (`faults`), and it counts every request per
//! route so tests can prove that a password change was never sent twice.
//!
//! It is a test double: passwords are kept in plain `String`s and it trusts loopback callers
//! with its `/_emulator/*` control routes. It prints nothing.

mod faults;
pub mod http;
mod sc;
mod state;
mod tls;
mod vm;

use std::net::{SocketAddr, TcpListener};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use faults::{FaultKind, FaultRule, FaultSpecError};
use http::{Handler, HttpServer, Reply, Request, Response};
use state::State;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The one valid access key (both platforms).
    pub access_key: String,
    /// The one valid secret key (both platforms).
    pub secret_key: String,
    /// TVM users, (username, password).
    pub users: Vec<(String, String)>,
    /// Synthetic TVM users `user{i}@example.com`, for scale work.
    pub seed_users: usize,
    /// SC users, (username, password).
    pub sc_users: Vec<(String, String)>,
    /// The SC user that owns the API keys (created if not among `sc_users`).
    pub sc_api_user: String,
    /// TVM managed credentials.
    pub credentials: Vec<CredentialSeed>,
    /// Synthetic TVM credentials after `credentials` (see [`CredentialSeed::seeded`]), for
    /// scale work.
    pub seed_credentials: usize,
    /// SC credentials.
    pub sc_credentials: Vec<CredentialSeed>,
    /// Serve HTTPS with a generated certificate.
    pub tls: bool,
    /// Faults armed at start.
    pub faults: Vec<FaultRule>,
    /// The rights of the API keys' user on both platforms (default: administrator).
    pub api_role: ApiRole,
    /// Quote submitted values (a rejected password, a refused setting) in error messages, as
    /// real services do, so that tests can prove the client redacts them.
    pub echo_submitted: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_key: "demo-access-key".into(),
            secret_key: "demo-secret-key".into(),
            users: Vec::new(),
            seed_users: 0,
            sc_users: Vec::new(),
            sc_api_user: "secmanager".into(),
            credentials: Vec::new(),
            seed_credentials: 0,
            sc_credentials: Vec::new(),
            tls: false,
            faults: Vec::new(),
            api_role: ApiRole::Admin,
            echo_submitted: false,
        }
    }
}

/// The role of the user that owns the API keys, and what it may do.
///
/// | role | TVM | SC |
/// | --- | --- | --- |
/// | `basic` | Basic \[16\]: lists users (uuid, id, username, email only), reads credentials with Can Use; `GET /users/{id}`, `chpasswd` and credential edits are 403 `Insufficient scope` | Auditor: sees only itself in `GET /rest/user`; may change only its own password; credential edits refused |
/// | `standard` | Standard \[32\]: as basic, but has Can Edit on credentials | Security Analyst: sees every user but may change only its own password; may edit credentials |
/// | `admin` | Administrator \[64\]: everything | Security Manager: everything |
///
/// TVM's 403 body is the recorded one (test_users_change_password_permissionserror.yaml). SC
/// has no recorded rights refusal; it answers 403 with `error_code` 146, the code pyTenable
/// issue #917 shows for an access failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiRole {
    /// TVM Basic, SC Auditor.
    Basic,
    /// TVM Standard, SC Security Analyst.
    Standard,
    /// TVM Administrator, SC Security Manager.
    #[default]
    Admin,
}

impl ApiRole {
    /// TVM's `permissions` value for the role.
    pub fn vm_permissions(self) -> u32 {
        match self {
            ApiRole::Basic => 16,
            ApiRole::Standard => 32,
            ApiRole::Admin => 64,
        }
    }

    /// SC's role (id, name).
    pub fn sc_role(self) -> (&'static str, &'static str) {
        match self {
            ApiRole::Basic => ("7", "Auditor"),
            ApiRole::Standard => ("3", "Security Analyst"),
            ApiRole::Admin => ("2", "Security Manager"),
        }
    }
}

impl FromStr for ApiRole {
    type Err = String;
    /// `basic`, `standard` or `admin` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "basic" => Ok(ApiRole::Basic),
            "standard" => Ok(ApiRole::Standard),
            "admin" | "administrator" => Ok(ApiRole::Admin),
            other => Err(format!(
                "unknown API role '{other}'; use basic, standard or admin"
            )),
        }
    }
}

impl std::fmt::Display for ApiRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ApiRole::Basic => "basic",
            ApiRole::Standard => "standard",
            ApiRole::Admin => "admin",
        })
    }
}

/// The credential types the emulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// Windows (password auth).
    Windows,
    /// SSH (password auth).
    Ssh,
    /// Database (PostgreSQL, password auth).
    Database,
    /// SNMPv1/v2c: a community string (`community_string`), no password.
    SnmpV1,
}

/// A credential to create at start.
#[derive(Debug, Clone)]
pub struct CredentialSeed {
    /// Name.
    pub name: String,
    /// Type.
    pub kind: CredentialKind,
    /// Account in its settings.
    pub username: String,
    /// Its password (the community string for SNMP).
    pub password: String,
    /// Windows domain setting.
    pub domain: String,
}

impl FromStr for CredentialSeed {
    type Err = String;
    /// `KIND:NAME:USERNAME:PASSWORD`, KIND one of windows, ssh, database, snmp.
    fn from_str(spec: &str) -> Result<Self, String> {
        let mut parts = spec.splitn(4, ':');
        let (Some(kind), Some(name), Some(username), Some(password)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "'{}…' is not KIND:NAME:USERNAME:PASSWORD",
                spec.split(':').next().unwrap_or("")
            ));
        };
        let kind = match kind.to_ascii_lowercase().as_str() {
            "windows" => CredentialKind::Windows,
            "ssh" => CredentialKind::Ssh,
            "database" => CredentialKind::Database,
            "snmp" => CredentialKind::SnmpV1,
            other => {
                return Err(format!(
                    "unknown credential kind '{other}'; use windows, ssh, database or snmp"
                ));
            }
        };
        Ok(CredentialSeed {
            name: name.into(),
            kind,
            username: username.into(),
            password: password.into(),
            domain: String::new(),
        })
    }
}

impl CredentialSeed {
    /// Synthetic credential number `i`: the four kinds in turn, `cred{i}` holding `svc{i}`.
    pub fn seeded(i: usize) -> CredentialSeed {
        let kind = match i % 4 {
            0 => CredentialKind::Windows,
            1 => CredentialKind::Ssh,
            2 => CredentialKind::Database,
            _ => CredentialKind::SnmpV1,
        };
        CredentialSeed {
            name: format!("cred{i}"),
            kind,
            username: format!("svc{i}"),
            password: format!("Seeded-Passw0rd!{i}"),
            domain: String::new(),
        }
    }
}

/// A running emulator. Stops when dropped.
pub struct Emulator {
    server: HttpServer,
    state: Arc<Mutex<State>>,
    url: String,
    ca_pem: Option<String>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Emulator({})", self.url)
    }
}

struct Router {
    state: Arc<Mutex<State>>,
}

impl Emulator {
    /// Seeds the state and starts serving.
    pub fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(config.listen)?;
        let addr = listener.local_addr()?;
        let (tls, ca_pem) = if config.tls {
            let generated = tls::generate().map_err(std::io::Error::other)?;
            (Some(generated.config), Some(generated.ca_pem))
        } else {
            (None, None)
        };
        let url = match (config.tls, addr) {
            (true, SocketAddr::V4(a)) => format!("https://localhost:{}", a.port()),
            (true, SocketAddr::V6(a)) => format!("https://localhost:{}", a.port()),
            (false, a) => format!("http://{a}"),
        };
        let state = Arc::new(Mutex::new(State::new(&config)));
        let server = HttpServer::start(
            listener,
            tls,
            Arc::new(Router {
                state: state.clone(),
            }),
        )?;
        Ok(Emulator {
            server,
            state,
            url,
            ca_pem,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The CA certificate (PEM) to trust, with TLS.
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Whether `password` is the TVM user's password now.
    pub fn vm_password_is(&self, username: &str, password: &str) -> bool {
        self.state()
            .vm_password(username)
            .is_some_and(|p| p == password)
    }

    /// Whether `password` is the SC user's password now.
    pub fn sc_password_is(&self, username: &str, password: &str) -> bool {
        self.state()
            .sc_users
            .iter()
            .any(|u| u.username == username && u.password == password)
    }

    /// A TVM credential's stored (unmasked) secret setting.
    pub fn vm_credential_secret(&self, name: &str, key: &str) -> Option<String> {
        self.vm_credential_setting(name, key)
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// Any stored TVM credential setting.
    pub fn vm_credential_setting(&self, name: &str, key: &str) -> Option<serde_json::Value> {
        self.state()
            .vm_credentials
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.settings.get(key).cloned())
    }

    /// An SC credential's stored (unmasked) type field.
    pub fn sc_credential_secret(&self, name: &str, key: &str) -> Option<String> {
        self.state()
            .sc_credentials
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.settings.get(key)?.as_str().map(str::to_owned))
    }

    /// Requests that reached the router for a route template such as `PUT /users/{id}/chpasswd`.
    pub fn request_count(&self, route: &str) -> u64 {
        self.state().requests.get(route).copied().unwrap_or(0)
    }

    /// Every route template requested so far (`GET /credentials/{uuid}`, `PATCH /rest/user/{id}`,
    /// …), sorted: what a client actually sent, for checks that must follow the client.
    pub fn routes_seen(&self) -> Vec<String> {
        self.state().requests.keys().cloned().collect()
    }

    /// Sets a TVM user's access: whether it is enabled, and which sign-ins its authorizations
    /// permit (`GET /users/{id}/authorizations`). Users default to enabled, password and API.
    pub fn set_vm_user_access(
        &self,
        username: &str,
        enabled: bool,
        password: bool,
        saml: bool,
        api: bool,
    ) {
        let mut state = self.state();
        let id = state
            .vm_users
            .iter()
            .find(|u| u.username == username)
            .map(|u| u.id);
        if let Some(id) = id {
            state.vm_access.insert(id, (enabled, password, saml, api));
            state.invalidate_users();
        }
    }

    /// Gives the API keys' user another role from now on.
    pub fn set_api_role(&self, role: ApiRole) {
        self.state().set_api_role(role);
    }

    /// Turns quoting of submitted values in error messages on or off.
    pub fn set_echo_submitted(&self, echo: bool) {
        self.state().echo_submitted = echo;
    }

    /// Password-changing requests that changed state, per route template.
    pub fn changes_applied(&self, route: &str) -> u64 {
        self.state().applied.get(route).copied().unwrap_or(0)
    }

    /// `{"requests": {route: n}, "applied": {route: n}}`.
    pub fn stats(&self) -> serde_json::Value {
        self.state().stats()
    }

    /// Arms a fault after those already armed.
    pub fn inject(&self, rule: FaultRule) {
        self.state().faults.arm(rule);
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.server.shutdown();
    }
}

/// `GET /users/12/chpasswd` → `GET /users/{id}/chpasswd`: ids and uuids become placeholders.
pub fn route_template(method: &str, path: &str) -> String {
    let mut out = String::from(method);
    out.push(' ');
    let mut previous = "";
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        let is_uuid =
            segment.len() >= 32 && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        let is_id = segment.bytes().all(|b| b.is_ascii_digit()) || is_uuid;
        // `/credentials/types` is a route of its own, not a credential.
        if previous == "credentials" && is_id {
            out.push_str("{uuid}");
        } else if is_id {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
        previous = segment;
    }
    if path == "/" {
        out.push('/');
    }
    out
}

impl Handler for Router {
    fn handle(&self, request: Request) -> Reply {
        let lock = || self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(control) = request.path.strip_prefix("/_emulator/") {
            return Reply::Send(control_route(&mut lock(), control, &request));
        }
        let template = route_template(&request.method, &request.path);
        let fault = {
            let mut state = lock();
            *state.requests.entry(template).or_default() += 1;
            state
                .faults
                .take(&format!("{} {}", request.method, request.path))
        };
        let sc = request.path.starts_with("/rest");
        let mut drop_after = false;
        match fault {
            Some(FaultKind::Status { code, retry_after }) => {
                let mut response = if sc {
                    sc::error(code, 500, "The server is unavailable (injected fault).")
                } else {
                    vm::boom(code, "Service unavailable (injected fault)")
                };
                if let Some(secs) = retry_after {
                    response
                        .headers
                        .push(("Retry-After".into(), secs.to_string()));
                }
                return Reply::Send(response);
            }
            Some(FaultKind::DelayMillis(ms)) => {
                std::thread::sleep(std::time::Duration::from_millis(ms))
            }
            Some(FaultKind::DropBefore) => return Reply::Drop,
            Some(FaultKind::DropAfter) => drop_after = true,
            None => {}
        }
        let response = if sc {
            sc::handle(&mut lock(), &request)
        } else {
            vm::handle(&mut lock(), &request)
        };
        if drop_after {
            Reply::Drop
        } else {
            Reply::Send(response)
        }
    }
}

fn control_route(state: &mut State, route: &str, request: &Request) -> Response {
    match (request.method.as_str(), route) {
        ("GET", "stats") => Response::json(200, &state.stats()),
        ("POST", "faults") => {
            let specs: Vec<String> = match serde_json::from_slice(&request.body) {
                Ok(s) => s,
                Err(_) => {
                    return Response::json(
                        400,
                        &serde_json::json!({"error": "expected a JSON array of fault specs"}),
                    );
                }
            };
            let mut rules = Vec::new();
            for spec in specs {
                match spec.parse::<FaultRule>() {
                    Ok(r) => rules.push(r),
                    Err(e) => {
                        return Response::json(400, &serde_json::json!({"error": e.to_string()}));
                    }
                }
            }
            let armed = rules.len();
            rules.into_iter().for_each(|r| state.faults.arm(r));
            Response::json(200, &serde_json::json!({"armed": armed}))
        }
        // Compares without revealing: whether a user's or credential's password is the given
        // one, for scripts that drive the emulator over HTTP (conformance/keeper_samples.py).
        ("POST", "password-is") => {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let field = |k: &str| body[k].as_str().unwrap_or_default();
            let (name, password) = (field("name"), field("password"));
            let credential = |list: &[state::Credential]| {
                list.iter()
                    .find(|c| c.name == name)
                    .and_then(|c| c.settings.get("password"))
                    .is_some_and(|p| p.as_str() == Some(password))
            };
            let matches = match (field("platform"), field("kind")) {
                ("vm", "user") => state.vm_password(name).is_some_and(|p| p == password),
                ("sc", "user") => state
                    .sc_users
                    .iter()
                    .any(|u| u.username == name && u.password == password),
                ("vm", "credential") => credential(&state.vm_credentials),
                ("sc", "credential") => credential(&state.sc_credentials),
                _ => {
                    return Response::json(
                        400,
                        &serde_json::json!({"error": "expected platform vm|sc, kind user|credential, name, password"}),
                    );
                }
            };
            Response::json(200, &serde_json::json!({ "matches": matches }))
        }
        ("POST", "config") => {
            let Ok(serde_json::Value::Object(settings)) =
                serde_json::from_slice::<serde_json::Value>(&request.body)
            else {
                return Response::json(
                    400,
                    &serde_json::json!({"error": "expected a JSON object"}),
                );
            };
            for (key, value) in &settings {
                match (key.as_str(), value) {
                    ("api_role", serde_json::Value::String(role)) => match role.parse() {
                        Ok(role) => state.set_api_role(role),
                        Err(e) => return Response::json(400, &serde_json::json!({"error": e})),
                    },
                    ("echo_submitted", serde_json::Value::Bool(echo)) => {
                        state.echo_submitted = *echo
                    }
                    _ => {
                        return Response::json(
                            400,
                            &serde_json::json!({"error": format!("unknown or mistyped setting '{key}'; use api_role (text) or echo_submitted (true/false)")}),
                        );
                    }
                }
            }
            Response::json(
                200,
                &serde_json::json!({"api_role": state.api_role.to_string(), "echo_submitted": state.echo_submitted}),
            )
        }
        _ => Response::json(
            404,
            &serde_json::json!({"error": "unknown emulator control route"}),
        ),
    }
}

/// Tenable's password policy: at least 12 characters with an upper- and lower-case letter, a
/// digit and a special character (docs.tenable.com PasswordRequirements.htm).
pub(crate) fn policy_problem(password: &str) -> Option<&'static str> {
    let has = |f: fn(char) -> bool| password.chars().any(f);
    if password.chars().count() < 12
        || !has(|c| c.is_uppercase())
        || !has(|c| c.is_lowercase())
        || !has(|c| c.is_ascii_digit())
        || !has(|c| !c.is_alphanumeric())
    {
        Some(
            "Password must be at least 12 characters long and contain an uppercase letter, a lowercase letter, a number and a special character",
        )
    } else {
        None
    }
}

/// Parses `accessKey=A; secretKey=S;` leniently: spacing, trailing `;` and key-name case vary.
pub(crate) fn parse_key_header(value: &str) -> (Option<&str>, Option<&str>) {
    let (mut access, mut secret) = (None, None);
    for part in value.split(';') {
        if let Some((k, v)) = part.split_once('=') {
            match k.trim().to_ascii_lowercase().as_str() {
                "accesskey" => access = Some(v.trim()),
                "secretkey" => secret = Some(v.trim()),
                _ => {}
            }
        }
    }
    (access, secret)
}

/// 32 random hex digits, like `X-Request-Uuid`.
pub(crate) fn request_uuid() -> String {
    format!("{:032x}", fastrand::u128(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_hide_ids() {
        assert_eq!(
            route_template("PUT", "/users/12/chpasswd"),
            "PUT /users/{id}/chpasswd"
        );
        assert_eq!(
            route_template("PUT", "/credentials/5d218473-39c1-4dff-b5af-cc6d68083404"),
            "PUT /credentials/{uuid}"
        );
        assert_eq!(
            route_template("PATCH", "/rest/user/7"),
            "PATCH /rest/user/{id}"
        );
        assert_eq!(route_template("GET", "/users"), "GET /users");
        assert_eq!(
            route_template("GET", "/credentials/types"),
            "GET /credentials/types"
        );
        assert_eq!(
            route_template("GET", "/filters/credentials"),
            "GET /filters/credentials"
        );
    }

    #[test]
    fn roles_parse_and_print() {
        for role in [ApiRole::Basic, ApiRole::Standard, ApiRole::Admin] {
            assert_eq!(role.to_string().parse::<ApiRole>(), Ok(role));
        }
        assert_eq!("Administrator".parse::<ApiRole>(), Ok(ApiRole::Admin));
        assert!("root".parse::<ApiRole>().is_err());
    }

    #[test]
    fn key_headers_are_read_leniently() {
        assert_eq!(
            parse_key_header("accessKey=a; secretKey=s;"),
            (Some("a"), Some("s"))
        );
        assert_eq!(
            parse_key_header("accesskey=a;secretkey=s"),
            (Some("a"), Some("s"))
        );
        assert_eq!(parse_key_header("secretKey=s"), (None, Some("s")));
    }

    #[test]
    fn policy_needs_every_class_and_length() {
        assert!(policy_problem("Sup3r-Secret!").is_none());
        for weak in [
            "short-A1!",
            "alllowercase1!",
            "ALLUPPERCASE1!",
            "NoDigitsHere!!",
            "NoSpecials1234",
        ] {
            assert!(policy_problem(weak).is_some(), "{weak}");
        }
    }

    #[test]
    fn credential_seeds_parse() {
        let s: CredentialSeed = "windows:AD:CORP\\svc:pa:ss".parse().unwrap();
        assert_eq!(
            (
                s.kind,
                s.name.as_str(),
                s.username.as_str(),
                s.password.as_str()
            ),
            (CredentialKind::Windows, "AD", "CORP\\svc", "pa:ss")
        );
        assert!("printer:x:y:z".parse::<CredentialSeed>().is_err());
        assert!("ssh:x".parse::<CredentialSeed>().is_err());
    }
}
