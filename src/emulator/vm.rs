//! Tenable Vulnerability Management routes: `/users`, `/users/{id}/chpasswd`, `/session`,
//! `/credentials`, `/filters/credentials`. Shapes follow pyTenable's cassettes under
//! shared/fixtures (io/) and, for `GET /session` and `GET /filters/credentials`, pyTenable's
//! test_session_details.yaml and test_filters_credentials_false_filters.yaml.

use serde_json::{Map, Value, json};

use super::http::{Request, Response};
use super::state::State;
use super::{ApiRole, CredentialKind, parse_key_header, policy_problem, request_uuid};

/// Settings that Tenable returns masked.
const SECRET_SETTINGS: [&str; 8] = [
    "password",
    "escalation_password",
    "private_key_passphrase",
    "auth_password",
    "privacy_password",
    "secret_key",
    "client_secret",
    "community_string",
];

/// `GET /filters/credentials` as recorded (pyTenable, test_filters_credentials_false_filters.yaml,
/// gunzipped): the fields and operators the credential list accepts.
const CREDENTIAL_FILTERS: &str = include_str!("filters_credentials.json");

/// The recorded answer to a caller whose role lacks the right
/// (test_users_change_password_permissionserror.yaml).
fn insufficient_scope() -> Response {
    boom(403, "Insufficient scope")
}
const MASK: &str = "********";

/// A Hapi/Boom error body, the shape TVM uses (test_users_change_password_notfounderror.yaml).
pub fn boom(status: u16, message: &str) -> Response {
    let error = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    decorate(Response::json(
        status,
        &json!({"statusCode": status, "error": error, "message": message}),
    ))
}

fn decorate(mut response: Response) -> Response {
    response
        .headers
        .push(("X-Request-Uuid".into(), request_uuid()));
    response
        .headers
        .push(("Server".into(), "tenable.io".into()));
    response
}

fn ok(value: &Value) -> Response {
    decorate(Response::json(200, value))
}

/// Handles one TVM request.
pub fn handle(state: &mut State, req: &Request) -> Response {
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method.as_str();
    if let (["session"], "POST") = (segments.as_slice(), method) {
        return login(state, req);
    }
    let session_user = req
        .header("x-cookie")
        .and_then(|c| c.trim().strip_prefix("token="))
        .and_then(|t| state.vm_sessions.get(t).cloned());
    if let (["session"], Some(user)) = (segments.as_slice(), &session_user) {
        return match method {
            "DELETE" => {
                if let Some(t) = req
                    .header("x-cookie")
                    .and_then(|c| c.trim().strip_prefix("token="))
                {
                    state.vm_sessions.remove(t);
                }
                decorate(Response::empty(200))
            }
            "GET" => match state.vm_users.iter().find(|u| &u.username == user) {
                Some(u) => ok(&session_details(state, u.id)),
                None => ok(&json!({"username": user})),
            },
            _ => boom(404, "Not Found"),
        };
    }
    let keys_ok = req.header("x-apikeys").map(parse_key_header)
        == Some((
            Some(state.access_key.as_str()),
            Some(state.secret_key.as_str()),
        ));
    if !keys_ok {
        return boom(401, "Invalid Credentials");
    }
    let admin = state.api_role == ApiRole::Admin;
    match (method, segments.as_slice()) {
        // The API keys' own user (test_session_details.yaml).
        ("GET", ["session"]) => ok(&session_details(state, 1)),
        ("GET", ["filters", "credentials"]) => decorate(Response::json_bytes(
            200,
            CREDENTIAL_FILTERS.trim().as_bytes().to_vec(),
        )),
        ("GET", ["users"]) if !admin => ok(&limited_users(state)),
        // Built and gzipped once until a user changes, as a CDN would serve it.
        ("GET", ["users"])
            if req
                .header("accept-encoding")
                .is_some_and(|v| v.contains("gzip")) =>
        {
            let mut response = Response::json_bytes(200, state.users_body_gzip());
            response
                .headers
                .push(("Content-Encoding".into(), "gzip".into()));
            decorate(response)
        }
        ("GET", ["users"]) => decorate(Response::json_bytes(200, state.users_body())),
        // pyTenable `users.list_auths` (GET /users/{id}/authorizations); administrators only.
        ("GET", ["users", _, "authorizations"]) if !admin => insufficient_scope(),
        ("GET", ["users", id, "authorizations"]) => match id
            .parse::<u64>()
            .ok()
            .and_then(|n| state.vm_user(&n.to_string()))
        {
            Some((id, _, _)) => {
                let (_, password, saml, api) = state.vm_user_access(id);
                ok(&json!({
                    "account_uuid": state.container_uuid(),
                    "user_uuid": super::state::uuid_for(0x05e4, id),
                    "api_permitted": api,
                    "password_permitted": password,
                    "saml_permitted": saml,
                }))
            }
            None => boom(404, "Not Found"),
        },
        // test_users_edit_permissionerror.yaml: a non-administrator reading a user.
        ("GET", ["users", _]) if !admin => insufficient_scope(),
        ("PUT", ["users", _, "chpasswd"]) if !admin => insufficient_scope(),
        ("GET", ["users", id]) => match state
            .vm_user(id)
            .and_then(|(id, _, _)| state.user_value(id))
        {
            Some(user) => ok(&user),
            None => boom(404, "Not Found"),
        },
        ("PUT", ["users", id, "chpasswd"]) => change_password(state, id, req),
        ("GET", ["credentials"]) => list_credentials(state, req),
        ("GET", ["credentials", uuid]) => {
            let role = state.api_role;
            match state.vm_credential_mut(uuid) {
                Some(c) => ok(&details(c, role)),
                None => boom(404, "Not Found"),
            }
        }
        ("PUT", ["credentials", _]) if state.api_role == ApiRole::Basic => insufficient_scope(),
        ("PUT", ["credentials", uuid]) => edit_credential(state, uuid, req),
        _ => boom(404, "Not Found"),
    }
}

/// `GET /session`: the user with the container and its features, as recorded. The recorded
/// `features`, `user_permissions` and `preferences` are long; a few entries stand for them.
fn session_details(state: &State, id: u64) -> Value {
    let mut user = state.user_value(id).unwrap_or_else(|| json!({"id": id}));
    let container = state.container_uuid().to_owned();
    if let Some(map) = user.as_object_mut() {
        let extra = json!({
            "user_permissions": ["TIO_BACKEND.MY_PROFILE.READ", "TIO_BACKEND.MY_PROFILE.UPDATE"],
            "preferences": {"enableExplore": "true"},
            "last_login_attempt": 1_681_205_551_071u64,
            "lastlogin": 1_681_205_552_447u64,
            "container_id": 2_004_129,
            "container_name": "tenable-rotate emulator",
            "container_type": "local",
            "container_domains": ["example.com"],
            "features": {"access_groups": true, "analytics": true},
            "apps": {"consec": "standard", "was": "standard"},
            "group_uuids": ["00000000-0000-0000-0000-000000000000"],
            "groups": [{"uuid": "00000000-0000-0000-0000-000000000000", "immutable": true, "membership_fixed": true, "name": "All Users", "id": 0, "container_uuid": container}],
        });
        if let Some(extra) = extra.as_object() {
            map.extend(extra.clone());
        }
    }
    user
}

/// `GET /users` for a role below Administrator: only `uuid`, `id`, `username` and `email`
/// (tenable-api.md 1.b, from the users-list reference).
fn limited_users(state: &mut State) -> Value {
    let all: Value = serde_json::from_slice(&state.users_body()).unwrap_or_default();
    let users: Vec<Value> = all["users"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|u| json!({"uuid": u["uuid"], "id": u["id"], "username": u["username"], "email": u["email"]}))
                .collect()
        })
        .unwrap_or_default();
    json!({ "users": users })
}

fn body(req: &Request) -> Option<Map<String, Value>> {
    serde_json::from_slice::<Value>(&req.body)
        .ok()?
        .as_object()
        .cloned()
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn login(state: &mut State, req: &Request) -> Response {
    let Some(b) = body(req) else {
        return boom(400, "Invalid JSON");
    };
    let (Some(user), Some(password)) = (text(&b, "username"), text(&b, "password")) else {
        return boom(400, "username and password are required");
    };
    if state.vm_login(user, password) {
        let token = format!("{:032x}{:032x}", fastrand::u128(..), fastrand::u128(..));
        state.vm_sessions.insert(token.clone(), user.to_owned());
        ok(&json!({"token": token}))
    } else {
        boom(401, "Invalid Credentials")
    }
}

fn change_password(state: &mut State, key: &str, req: &Request) -> Response {
    let Some((id, _, current)) = state.vm_user(key) else {
        return boom(404, "Not Found");
    };
    let Some(b) = body(req) else {
        return boom(400, "Invalid JSON payload");
    };
    let Some(new) = text(&b, "password") else {
        return boom(
            400,
            "child \"password\" fails because [\"password\" is required]",
        );
    };
    // Not recorded anywhere public (tenable-api.md open question 2): a wrong current password
    // and a policy breach are modelled as 400 with a Boom message, as the docs list 400.
    // With echoing on, the messages quote what was submitted, as some services do.
    if let Some(given) = b.get("current_password") {
        if given.as_str() != Some(current.as_str()) {
            let shown = given.as_str().unwrap_or_default();
            return boom(
                400,
                &state.echo(
                    "Invalid current password",
                    &format!("current password '{shown}'"),
                ),
            );
        }
    }
    if let Some(problem) = policy_problem(new) {
        return boom(400, &state.echo(problem, &format!("password '{new}'")));
    }
    if new == current {
        return boom(
            400,
            &state.echo(
                "New password cannot be the same as the current password",
                &format!("password '{new}'"),
            ),
        );
    }
    state.set_vm_password(id, new.to_owned());
    state.count_applied("PUT /users/{id}/chpasswd");
    // Recorded: 200 with an empty body and no content type (test_users_change_password.yaml).
    decorate(Response::empty(200))
}

fn type_of(kind: CredentialKind) -> (&'static str, &'static str) {
    match kind {
        CredentialKind::Windows => ("Host", "Windows"),
        CredentialKind::Ssh => ("Host", "SSH"),
        CredentialKind::Database => ("Database", "Database"),
        CredentialKind::SnmpV1 => ("Host", "SNMPv1/v2c"),
    }
}

/// The caller's permission on every credential: Can Use (32) for Basic, else Can Edit (64).
fn credential_permission(role: ApiRole) -> u32 {
    if role == ApiRole::Basic { 32 } else { 64 }
}

/// When a credential was created (seconds); one day apart, so date filters can tell them apart.
fn created_date(c: &super::state::Credential) -> u64 {
    1_538_595_123u64 + (c.id - 1000) * 86_400
}

fn summary(c: &super::state::Credential, role: ApiRole) -> Value {
    let (category, kind) = type_of(c.kind);
    let permission = credential_permission(role);
    json!({
        "uuid": c.uuid, "name": c.name, "description": "",
        "category": {"id": category, "name": category}, "type": {"id": kind, "name": kind},
        "created_date": created_date(c), "created_by": {"id": 1, "display_name": "api-admin@example.com"},
        "last_used_by": {"id": null, "display_name": null}, "permission": permission, "user_permissions": permission,
    })
}

fn details(c: &super::state::Credential, role: ApiRole) -> Value {
    let (category, kind) = type_of(c.kind);
    let settings: Map<String, Value> = c
        .settings
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if SECRET_SETTINGS.contains(&k.as_str()) {
                    Value::String(MASK.into())
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    json!({
        "name": c.name, "description": "", "category": {"id": category, "name": category}, "type": {"id": kind, "name": kind},
        "ad_hoc": false, "user_permissions": credential_permission(role), "settings": settings,
        "permissions": [{"grantee_uuid": "00000000-0000-0000-0000-000000000001", "type": "user", "permissions": 64, "name": "api-admin@example.com"}],
    })
}

/// A plain `{"error": "…"}` answer, the other shape TVM uses (test_users_two_factor.yaml).
fn plain_error(status: u16, message: &str) -> Response {
    decorate(Response::json(status, &json!({ "error": message })))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY/MM/DD` (the recorded `readable_regex` of `created_date`) as days since the epoch.
fn parse_day(value: &str) -> Option<i64> {
    let mut parts = value.split('/');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}

/// One `f=FIELD:OPERATOR:VALUE` filter.
struct Filter {
    field: String,
    operator: String,
    value: String,
}

impl Filter {
    fn matches(&self, c: &super::state::Credential) -> bool {
        let kind = type_of(c.kind).1;
        let contains = |hay: &str| hay.to_lowercase().contains(&self.value.to_lowercase());
        match (self.field.as_str(), self.operator.as_str()) {
            ("name", "eq") => c.name == self.value,
            ("name", "neq") => c.name != self.value,
            ("name", "match") => contains(&c.name),
            ("name", "nmatch") => !contains(&c.name),
            ("type", "eq") => kind.eq_ignore_ascii_case(&self.value),
            ("type", "neq") => !kind.eq_ignore_ascii_case(&self.value),
            ("created_date", op) => {
                let day = (created_date(c) / 86_400) as i64;
                let wanted = parse_day(&self.value).unwrap_or(i64::MIN);
                match op {
                    "date-lt" => day < wanted,
                    "date-gt" => day > wanted,
                    "date-eq" => day == wanted,
                    _ => day != wanted,
                }
            }
            _ => false,
        }
    }
}

/// Reads and checks the `f` filters against the recorded filter list: an unknown field, an
/// operator the field does not take, or a malformed date is refused, never ignored.
fn parse_filters(query: &[(String, String)]) -> Result<Vec<Filter>, String> {
    let known: Value = serde_json::from_str(CREDENTIAL_FILTERS).unwrap_or_default();
    let mut out = Vec::new();
    for (_, spec) in query.iter().filter(|(k, _)| k == "f") {
        let mut parts = spec.splitn(3, ':');
        let (Some(field), Some(operator), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "Invalid filter '{spec}': expected field:operator:value"
            ));
        };
        let Some(definition) = known["filters"]
            .as_array()
            .and_then(|list| list.iter().find(|f| f["name"] == field))
        else {
            return Err(format!("Invalid filter field '{field}'"));
        };
        let operators = definition["operators"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !operators.iter().any(|o| o == operator) {
            return Err(format!(
                "Invalid filter operator '{operator}' for field '{field}'"
            ));
        }
        if field == "created_date" && parse_day(value).is_none() {
            return Err(format!(
                "Invalid filter value '{value}' for field '{field}': expected YYYY/MM/DD"
            ));
        }
        out.push(Filter {
            field: field.to_owned(),
            operator: operator.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(out)
}

/// `GET /credentials`: `f` filters combined by `ft` (`and`, the default, or `or`), the `w`
/// wildcard over `wf` (default: the recorded `wildcard_fields`), then `offset` and `limit`.
/// The filter rules follow the recorded `GET /filters/credentials`. What TVM answers to a
/// filter it does not know is not recorded; pyTenable refuses such a filter before sending it,
/// and the emulator answers 400 with a plain error body, as TVM does for other bad parameters
/// (test_scan_attachement_notfounderror.yaml: `{"error":"Invalid 'key' field: …"}`).
fn list_credentials(state: &State, req: &Request) -> Response {
    let query = req.query_pairs();
    let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let number = |k: &str, default: usize| match get(k) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| format!("Invalid '{k}' field: '{v}' is not a number")),
    };
    let (limit, offset) = match (number("limit", 50), number("offset", 0)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(e), _) | (_, Err(e)) => return plain_error(400, &e),
    };
    let filters = match parse_filters(&query) {
        Ok(f) => f,
        Err(e) => return plain_error(400, &e),
    };
    let any = match get("ft").unwrap_or("and") {
        "and" => false,
        "or" => true,
        other => {
            return plain_error(
                400,
                &format!("Invalid 'ft' field: '{other}', expected and or or"),
            );
        }
    };
    let wildcard_fields: Vec<&str> = get("wf")
        .map(|wf| wf.split(',').map(str::trim).collect())
        .unwrap_or_else(|| vec!["name", "description", "type"]);
    if let Some(bad) = wildcard_fields
        .iter()
        .find(|f| !["name", "description", "type"].contains(f))
    {
        return plain_error(400, &format!("Invalid 'wf' field: '{bad}'"));
    }
    let wildcard = get("w").map(str::to_lowercase);
    let matching: Vec<&super::state::Credential> = state
        .vm_credentials
        .iter()
        .filter(|c| {
            filters.is_empty()
                || if any {
                    filters.iter().any(|f| f.matches(c))
                } else {
                    filters.iter().all(|f| f.matches(c))
                }
        })
        .filter(|c| {
            wildcard.as_deref().is_none_or(|w| {
                wildcard_fields.iter().any(|f| match *f {
                    "name" => c.name.to_lowercase().contains(w),
                    "type" => type_of(c.kind).1.to_lowercase().contains(w),
                    _ => false,
                })
            })
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|c| summary(c, state.api_role))
        .collect();
    ok(
        &json!({"credentials": page, "pagination": {"total": matching.len(), "limit": limit, "offset": offset, "sort": [{"name": "created_date", "order": "desc"}]}}),
    )
}

/// The settings each modelled type takes (test_credentials_types_success.yaml, for the
/// authentication methods the emulator models). SNMPv1/v2c has one, `community_string`.
fn settings_of(kind: CredentialKind) -> &'static [&'static str] {
    match kind {
        CredentialKind::Windows => &["auth_method", "username", "password", "domain"],
        CredentialKind::Ssh => &[
            "auth_method",
            "username",
            "password",
            "custom_password_prompt",
            "elevate_privileges_with",
            "escalation_account",
            "escalation_password",
            "bin_directory",
            "su_user",
        ],
        CredentialKind::Database => &[
            "type", "authtype", "username", "password", "port", "database", "db_sid",
        ],
        CredentialKind::SnmpV1 => &["community_string"],
    }
}

/// `PUT /credentials/{uuid}`: checked whole before anything is stored. A setting the type does
/// not have (a `password` on SNMP) is refused with 400 and nothing changes; what TVM says then
/// is not recorded.
fn edit_credential(state: &mut State, uuid: &str, req: &Request) -> Response {
    let Some(b) = body(req) else {
        return boom(400, "Invalid JSON payload");
    };
    let echo = state.echo_submitted;
    let Some(c) = state.vm_credential_mut(uuid) else {
        return boom(404, "Not Found");
    };
    let kind = type_of(c.kind).1;
    if let Some(t) = b.get("type") {
        let wanted = t.get("id").or(Some(t)).and_then(Value::as_str);
        if wanted.is_some_and(|w| w != kind) {
            return boom(400, "Credential type cannot be changed");
        }
    }
    let settings = b.get("settings").and_then(Value::as_object);
    if let Some(settings) = settings {
        for (k, v) in settings {
            if !settings_of(c.kind).contains(&k.as_str()) {
                let mut message = format!("Invalid setting '{k}' for credential type '{kind}'");
                if echo {
                    message.push_str(&format!(
                        " (submitted: '{}')",
                        v.as_str().unwrap_or_default()
                    ));
                }
                return plain_error(400, &message);
            }
        }
    }
    if let Some(name) = text(&b, "name") {
        c.name = name.to_owned();
    }
    let mut secret_changed = false;
    for (k, v) in settings.into_iter().flatten() {
        // The mask means "keep what is stored" (test_credentials_edit_with_permissions).
        if v.as_str() == Some(MASK) {
            continue;
        }
        if SECRET_SETTINGS.contains(&k.as_str()) && c.settings.get(k) != Some(v) {
            secret_changed = true;
        }
        c.settings.insert(k.clone(), v.clone());
    }
    if secret_changed {
        state.count_applied("PUT /credentials/{uuid}");
    }
    ok(&json!({"updated": true}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{CredentialSeed, EmulatorConfig};

    const KEYS: &str = "accessKey=a; secretKey=s;";

    fn state(role: ApiRole) -> State {
        let seed = |s: &str| s.parse::<CredentialSeed>().unwrap();
        State::new(&EmulatorConfig {
            access_key: "a".into(),
            secret_key: "s".into(),
            users: vec![("alice@example.com".into(), "Old-Passw0rd!xx".into())],
            credentials: vec![
                seed("windows:AD service:svc:Old-Passw0rd!xx"),
                seed("ssh:Linux root:root:Old-Passw0rd!xx"),
                seed("snmp:Switches:x:public"),
            ],
            api_role: role,
            ..EmulatorConfig::default()
        })
    }

    fn send(state: &mut State, method: &str, target: &str, body: Value) -> (u16, Value) {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (target.to_owned(), None),
        };
        let request = Request {
            method: method.into(),
            path,
            query,
            headers: vec![("X-ApiKeys".into(), KEYS.into())],
            body: if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            },
        };
        let response = handle(state, &request);
        (
            response.status,
            serde_json::from_slice(&response.body).unwrap_or(Value::Null),
        )
    }

    fn names(answer: &Value) -> Vec<String> {
        answer["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn session_with_keys_is_the_api_user_as_recorded() {
        let mut s = state(ApiRole::Admin);
        let (status, user) = send(&mut s, "GET", "/session", Value::Null);
        assert_eq!(status, 200);
        assert_eq!(user["username"], "api-admin@example.com");
        assert_eq!(user["permissions"], 64);
        for key in [
            "uuid",
            "container_uuid",
            "container_name",
            "features",
            "groups",
        ] {
            assert!(user.get(key).is_some(), "{key} missing: {user}");
        }
    }

    #[test]
    fn credential_filters_answer_as_recorded() {
        let mut s = state(ApiRole::Admin);
        let (status, filters) = send(&mut s, "GET", "/filters/credentials", Value::Null);
        assert_eq!(status, 200);
        let fields: Vec<&str> = filters["filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["name", "type", "created_date"]);
        assert_eq!(
            filters["filters"][0]["operators"],
            json!(["eq", "neq", "match", "nmatch"])
        );
    }

    #[test]
    fn the_credential_list_applies_filters_and_refuses_unknown_ones() {
        let mut s = state(ApiRole::Admin);
        let mut list = |q: &str| send(&mut s, "GET", &format!("/credentials?{q}"), Value::Null);
        assert_eq!(names(&list("f=name:eq:Linux%20root").1), ["Linux root"]);
        assert_eq!(
            names(&list("f=name:eq:linux%20root").1),
            Vec::<String>::new()
        );
        assert_eq!(
            names(&list("f=name:nmatch:root").1),
            ["AD service", "Switches"]
        );
        assert_eq!(names(&list("f=type:eq:SSH").1), ["Linux root"]);
        assert_eq!(
            names(&list("f=type:eq:SSH&f=name:eq:Switches").1),
            Vec::<String>::new()
        );
        assert_eq!(
            names(&list("f=type:eq:SSH&f=name:eq:Switches&ft=or").1),
            ["Linux root", "Switches"]
        );
        assert_eq!(
            names(&list("f=created_date:date-gt:2018/10/03").1),
            ["Linux root", "Switches"]
        );
        assert_eq!(names(&list("w=switch").1), ["Switches"]);
        assert_eq!(names(&list("limit=1&offset=1").1), ["Linux root"]);
        for bad in [
            "f=username:eq:root",
            "f=type:match:SSH",
            "f=name:eq",
            "ft=xor",
            "f=created_date:date-eq:yesterday",
            "limit=many",
            "wf=settings",
        ] {
            let (status, body) = list(bad);
            assert_eq!(status, 400, "{bad}: {body}");
            assert!(body["error"].is_string(), "{bad}: {body}");
        }
    }

    #[test]
    fn a_password_on_snmp_is_refused_and_never_applied() {
        let mut s = state(ApiRole::Admin);
        let uuid = s.vm_credentials[2].uuid.clone();
        let (status, body) = send(
            &mut s,
            "PUT",
            &format!("/credentials/{uuid}"),
            json!({"name": "Switches", "settings": {"community_string": MASK, "password": "N3w-Passw0rd!yy"}}),
        );
        assert_eq!(status, 400, "{body}");
        assert!(!body.to_string().contains("N3w-Passw0rd!yy"), "{body}");
        assert!(s.applied.is_empty());
        assert!(!s.vm_credentials[2].settings.contains_key("password"));
        assert_eq!(s.vm_credentials[2].settings["community_string"], "public");

        s.echo_submitted = true;
        let (_, body) = send(
            &mut s,
            "PUT",
            &format!("/credentials/{uuid}"),
            json!({"settings": {"password": "N3w-Passw0rd!yy"}}),
        );
        assert!(body.to_string().contains("N3w-Passw0rd!yy"), "{body}");
    }

    #[test]
    fn roles_below_administrator_get_the_recorded_403() {
        let mut s = state(ApiRole::Standard);
        let (status, body) = send(
            &mut s,
            "PUT",
            "/users/2/chpasswd",
            json!({"password": "N3w-Passw0rd!yy"}),
        );
        assert_eq!(
            (status, body),
            (
                403,
                json!({"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope"})
            )
        );
        assert_eq!(send(&mut s, "GET", "/users/2", Value::Null).0, 403);
        let (status, users) = send(&mut s, "GET", "/users", Value::Null);
        assert_eq!(status, 200);
        let alice = &users["users"][1];
        assert_eq!(alice["username"], "alice@example.com");
        assert!(alice.get("permissions").is_none(), "{alice}");
        assert_eq!(
            send(&mut s, "GET", "/session", Value::Null).1["permissions"],
            32
        );

        // Standard has Can Edit on credentials; Basic only Can Use.
        let uuid = s.vm_credentials[0].uuid.clone();
        let edit = json!({"settings": {"password": "N3w-Passw0rd!yy"}});
        let path = format!("/credentials/{uuid}");
        assert_eq!(send(&mut s, "PUT", &path, edit.clone()).0, 200);
        s.set_api_role(ApiRole::Basic);
        assert_eq!(send(&mut s, "PUT", &path, edit).0, 403);
        assert_eq!(
            send(&mut s, "GET", "/credentials", Value::Null).1["credentials"][0]["user_permissions"],
            32
        );
        assert_eq!(
            s.applied["PUT /credentials/{uuid}"], 1,
            "only Standard's edit"
        );
    }

    #[test]
    fn echo_quotes_the_rejected_password_only_when_asked() {
        let mut s = state(ApiRole::Admin);
        let weak = json!({"password": "weak-pass", "current_password": "Old-Passw0rd!xx"});
        let (status, body) = send(&mut s, "PUT", "/users/2/chpasswd", weak.clone());
        assert_eq!(status, 400);
        assert!(!body.to_string().contains("weak-pass"), "{body}");
        s.echo_submitted = true;
        let (_, body) = send(&mut s, "PUT", "/users/2/chpasswd", weak);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("password 'weak-pass'"),
            "{body}"
        );
    }
}
